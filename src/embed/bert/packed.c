#include "embed/bert/packed.h"

#include <string.h>

/* a * w + c is one fused multiply-add; C11 mode would otherwise keep the
 * multiply and the add apart. */
#pragma GCC optimize("fp-contract=fast")
/* The 64-byte vector helpers are static and inlined: the calling-convention
 * change GCC notes cannot reach another translation unit. */
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RB_PACK_X86 1
#endif

size_t rb_pack_size(size_t N, size_t K) {
    return (N + RB_PACK_NR - 1) / RB_PACK_NR * RB_PACK_NR * K;
}

void rb_pack_weights(const float *W, size_t N, size_t K, float *out) {
    size_t panels = (N + RB_PACK_NR - 1) / RB_PACK_NR;
    for (size_t p = 0; p < panels; p++) {
        float *P = out + p * K * RB_PACK_NR;
        for (size_t j = 0; j < RB_PACK_NR; j++) {
            size_t n = p * RB_PACK_NR + j;
            for (size_t k = 0; k < K; k++) P[k * RB_PACK_NR + j] = n < N ? W[n * K + k] : 0.0f;
        }
    }
}

/* Rows of A per block: the block (rows x K floats) stays in a 256 KiB
 * share of L2 while every panel of W passes over it. */
static size_t rows_per_block(size_t K) {
    size_t rows = (256 * 1024) / (K * sizeof(float));
    return rows < 12 ? 12 : rows / 12 * 12;
}

#ifdef RB_PACK_X86

typedef float v16f __attribute__((vector_size(64)));

#define RB_V4 __attribute__((target("arch=x86-64-v4")))

static inline __attribute__((always_inline)) v16f load16(const float *p) {
    v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void store16(float *p, v16f v) {
    memcpy(p, &v, sizeof v);
}

/*
 * One tile: MR rows by the 32 columns of panel P, over all of K.  The
 * 2 * MR accumulators live in registers (AVX-512 has 32); each step loads
 * the panel's 32 values for this k once and broadcasts one value of A per
 * row.  `ncols` < 32 only in the last panel of a matrix whose N is not a
 * multiple of 32.
 */
#define RB_PACK_TILE(MR)                                                                          \
    RB_V4 static void tile_##MR(size_t K, const float *A, size_t lda, const float *P,             \
                                const float *bias, float *C, size_t ldc, size_t ncols) {          \
        v16f c0[MR], c1[MR], b0 = {0}, b1 = {0};                                                  \
        if (bias) {                                                                               \
            float t[RB_PACK_NR] = {0};                                                            \
            memcpy(t, bias, ncols * sizeof *t);                                                   \
            b0 = load16(t);                                                                       \
            b1 = load16(t + 16);                                                                  \
        }                                                                                         \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                                   \
            c0[r] = b0;                                                                           \
            c1[r] = b1;                                                                           \
        }                                                                                         \
        for (size_t k = 0; k < K; k++) {                                                          \
            v16f w0 = load16(P + k * RB_PACK_NR), w1 = load16(P + k * RB_PACK_NR + 16);           \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                               \
                float a = A[(size_t)r * lda + k];                                                 \
                c0[r] += a * w0;                                                                  \
                c1[r] += a * w1;                                                                  \
            }                                                                                     \
        }                                                                                         \
        if (ncols == RB_PACK_NR) {                                                                \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                               \
                store16(C + (size_t)r * ldc, c0[r]);                                              \
                store16(C + (size_t)r * ldc + 16, c1[r]);                                         \
            }                                                                                     \
        } else {                                                                                  \
            for (int r = 0; r < MR; r++) {                                                        \
                float t[RB_PACK_NR];                                                              \
                store16(t, c0[r]);                                                                \
                store16(t + 16, c1[r]);                                                           \
                memcpy(C + (size_t)r * ldc, t, ncols * sizeof *t);                                \
            }                                                                                     \
        }                                                                                         \
    }

RB_PACK_TILE(12)
RB_PACK_TILE(4)
RB_PACK_TILE(1)

/* Runs the epilogue over rows [i0, i1) of the tile just stored at column j. */
static void tile_epilogue(rb_pack_epilogue ep, float *C, size_t ldc, size_t i0, size_t i1,
                          size_t j, size_t nc) {
    for (size_t i = i0; i < i1; i++) ep(C + i * ldc + j, nc);
}

RB_V4 static void matmul_v4(size_t M, size_t n0, size_t n1, size_t K, const float *A, size_t lda,
                            const float *Wp, const float *bias, float *C, size_t ldc,
                            rb_pack_epilogue ep) {
    size_t mb = rows_per_block(K);
    for (size_t i0 = 0; i0 < M; i0 += mb) {
        size_t i1 = i0 + mb < M ? i0 + mb : M;
        for (size_t j = n0; j < n1; j += RB_PACK_NR) {
            const float *P = Wp + j / RB_PACK_NR * K * RB_PACK_NR;
            const float *bj = bias ? bias + j : NULL;
            size_t nc = n1 - j < RB_PACK_NR ? n1 - j : RB_PACK_NR, i = i0;
            for (; i + 12 <= i1; i += 12) {
                tile_12(K, A + i * lda, lda, P, bj, C + i * ldc + j, ldc, nc);
                if (ep) tile_epilogue(ep, C, ldc, i, i + 12, j, nc);
            }
            for (; i + 4 <= i1; i += 4) {
                tile_4(K, A + i * lda, lda, P, bj, C + i * ldc + j, ldc, nc);
                if (ep) tile_epilogue(ep, C, ldc, i, i + 4, j, nc);
            }
            for (; i < i1; i++) {
                tile_1(K, A + i * lda, lda, P, bj, C + i * ldc + j, ldc, nc);
                if (ep) tile_epilogue(ep, C, ldc, i, i + 1, j, nc);
            }
        }
    }
}

bool rb_pack_available(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}

#else

bool rb_pack_available(void) { return false; }

#endif

/* Plain loops over the same layout: what runs where the AVX-512 kernel
 * cannot (callers normally avoid it; it keeps the function correct). */
static void matmul_generic(size_t M, size_t n0, size_t n1, size_t K, const float *A, size_t lda,
                           const float *Wp, const float *bias, float *C, size_t ldc,
                           rb_pack_epilogue ep) {
    for (size_t i = 0; i < M; i++) {
        for (size_t j = n0; j < n1; j++) {
            const float *P = Wp + j / RB_PACK_NR * K * RB_PACK_NR + j % RB_PACK_NR;
            float s = bias ? bias[j] : 0.0f;
            for (size_t k = 0; k < K; k++) s += A[i * lda + k] * P[k * RB_PACK_NR];
            C[i * ldc + j] = s;
        }
        if (ep) ep(C + i * ldc + n0, n1 - n0);
    }
}

void rb_pack_matmul(size_t M, size_t n0, size_t n1, size_t K, const float *A, size_t lda,
                    const float *Wp, const float *bias, float *C, size_t ldc,
                    rb_pack_epilogue epilogue) {
#ifdef RB_PACK_X86
    if (rb_pack_available()) {
        matmul_v4(M, n0, n1, K, A, lda, Wp, bias, C, ldc, epilogue);
        return;
    }
#endif
    matmul_generic(M, n0, n1, K, A, lda, Wp, bias, C, ldc, epilogue);
}
