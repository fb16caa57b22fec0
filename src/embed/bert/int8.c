#include "embed/bert/int8.h"

#include "embed/bert/vmath.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RB_Q8_X86 1
#endif

size_t rb_q8_kpad(size_t K) { return (K + RB_Q8_BLOCK - 1) / RB_Q8_BLOCK * RB_Q8_BLOCK; }

size_t rb_q8_blocks(size_t K) { return rb_q8_kpad(K) / RB_Q8_BLOCK; }

static size_t panels_of(size_t N) { return (N + RB_Q8_NR - 1) / RB_Q8_NR; }

static size_t panel_bytes(size_t N, size_t K) {
    return panels_of(N) * rb_q8_kpad(K) * RB_Q8_NR; /* a multiple of 128 */
}

size_t rb_q8_weights_size(size_t N, size_t K) {
    size_t cols = panels_of(N) * RB_Q8_NR;
    size_t total = panel_bytes(N, K) + 2 * rb_q8_blocks(K) * cols * sizeof(float);
    return (total + 63) & ~(size_t)63;
}

void rb_q8_quantize(const float *W, size_t N, size_t K, void *mem, rb_q8_weights *out) {
    size_t Kp = rb_q8_kpad(K), np = panels_of(N), cols = np * RB_Q8_NR, nb = rb_q8_blocks(K);
    int8_t *P = mem;
    float *scale = (float *)((char *)mem + panel_bytes(N, K)), *ssum = scale + nb * cols;
    memset(mem, 0, rb_q8_weights_size(N, K));
    for (size_t n = 0; n < N; n++) {
        const float *w = W + n * K;
        size_t p = n / RB_Q8_NR, j = n % RB_Q8_NR;
        int8_t *panel = P + p * Kp * RB_Q8_NR;
        for (size_t b = 0; b < nb; b++) {
            size_t k0 = b * RB_Q8_BLOCK, k1 = k0 + RB_Q8_BLOCK < K ? k0 + RB_Q8_BLOCK : K;
            float mx = 0;
            for (size_t k = k0; k < k1; k++) mx = fabsf(w[k]) > mx ? fabsf(w[k]) : mx;
            float s = mx > 0 ? mx / 127.0f : 1.0f, inv = 1.0f / s;
            int32_t sum = 0;
            for (size_t k = k0; k < k1; k++) {
                long q = lrintf(w[k] * inv);
                q = q > 127 ? 127 : q < -127 ? -127 : q;
                /* Group k/4, then 16-column half j/16, then column, then k%4. */
                panel[(k / 4) * 4 * RB_Q8_NR + (j / 16) * 64 + (j % 16) * 4 + k % 4] = (int8_t)q;
                sum += (int32_t)q;
            }
            scale[b * cols + n] = s;
            ssum[b * cols + n] = s * (float)sum;
        }
    }
    *out = (rb_q8_weights){N, K, cols, P, scale, ssum};
}

/* The plain form of rb_vm_gelu_erf (vmath.h), same constants. */
static float gelu_erf_plain(float v) {
    float u = v * 0.70710678118654752f;
    u = u > 4.0f ? 4.0f : u < -4.0f ? -4.0f : u;
    float x2 = u * u, p = RB_ERF_P13, q = RB_ERF_Q8;
    p = fmaf(x2, p, RB_ERF_P11);
    p = fmaf(x2, p, RB_ERF_P9);
    p = fmaf(x2, p, RB_ERF_P7);
    p = fmaf(x2, p, RB_ERF_P5);
    p = fmaf(x2, p, RB_ERF_P3);
    p = fmaf(x2, p, RB_ERF_P1);
    q = fmaf(x2, q, RB_ERF_Q6);
    q = fmaf(x2, q, RB_ERF_Q4);
    q = fmaf(x2, q, RB_ERF_Q2);
    q = fmaf(x2, q, RB_ERF_Q0);
    float h = 0.5f * v;
    return fmaf(h, u * p / q, h);
}

static float gelu_tanh_plain(float v) {
    float y = 0.7978845608028654f * (v + 0.044715f * v * v * v);
    return v / (1.0f + expf(-2.0f * y));
}

static void gelu_plain(rb_q8_act act, float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        x[i] = act == RB_Q8_ACT_GELU_ERF    ? gelu_erf_plain(x[i])
               : act == RB_Q8_ACT_GELU_TANH ? gelu_tanh_plain(x[i])
                                            : x[i];
}

/* Plain loops: rows whose K is not a whole number of blocks, and CPUs
 * without the vector version. */
static void quantize_rows_plain(const float *A, size_t lda, size_t r0, size_t r1, size_t b0,
                                size_t b1, size_t K, const rb_q8_input *in) {
    size_t ldq = rb_q8_kpad(K), nb = rb_q8_blocks(K);
    float *rs = in->rs, *rmin = in->rmin;
    for (size_t r = r0; r < r1; r++) {
        for (size_t b = b0; b < b1; b++) {
            size_t k0 = b * RB_Q8_BLOCK, k1 = k0 + RB_Q8_BLOCK < K ? k0 + RB_Q8_BLOCK : K;
            const float *a = A + r * lda;
            uint8_t *q = in->q + r * ldq;
            float lo = k0 < K ? a[k0] : 0, hi = lo;
#pragma omp simd reduction(min : lo) reduction(max : hi)
            for (size_t k = k0; k < k1; k++) {
                lo = a[k] < lo ? a[k] : lo;
                hi = a[k] > hi ? a[k] : hi;
            }
            float s = (hi - lo) / 255.0f, inv = s > 0 ? 1.0f / s : 0.0f;
#pragma omp simd
            for (size_t k = k0; k < k1; k++) {
                /* a >= lo, so adding 0.5 and truncating rounds to nearest. */
                float v = (a[k] - lo) * inv + 0.5f;
                v = v > 255.0f ? 255.0f : v;
                q[k] = (uint8_t)(int32_t)v;
            }
            for (size_t k = k1 > k0 ? k1 : k0; k < k0 + RB_Q8_BLOCK; k++) q[k] = 0;
            rs[r * nb + b] = s;
            rmin[r * nb + b] = lo;
        }
    }
}

#ifdef RB_Q8_X86

#define RB_Q8_TARGET __attribute__((target("arch=x86-64-v4,avx512vnni")))

#define RB_Q8_INLINE static inline __attribute__((always_inline))

RB_Q8_TARGET RB_Q8_INLINE __m512 act_v(rb_q8_act act, __m512 v) {
    return act == RB_Q8_ACT_GELU_ERF    ? rb_vm_gelu_erf(v)
           : act == RB_Q8_ACT_GELU_TANH ? rb_vm_gelu_tanh(v)
                                        : v;
}

RB_Q8_TARGET static void gelu_v4(rb_q8_act act, float *x, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(x + i, m, act_v(act, _mm512_maskz_loadu_ps(m, x + i)));
    }
}

#if RB_Q8_BLOCK != 32
#error "quantize_rows_v4 handles blocks of 32 values"
#endif

/* One block of 32 values (two vectors) quantised as quantize_rows_plain
 * does: shared by quantize_rows_v4 and the tile's store, so that a block
 * quantised either way has the same bytes. */
RB_Q8_TARGET RB_Q8_INLINE void quantize_block_v(__m512 a0, __m512 a1, uint8_t *q, float *rs,
                                                float *rmin) {
    const __m512 half = _mm512_set1_ps(0.5f), top = _mm512_set1_ps(255.0f);
    float lo = _mm512_reduce_min_ps(_mm512_min_ps(a0, a1));
    float hi = _mm512_reduce_max_ps(_mm512_max_ps(a0, a1));
    float sc = (hi - lo) / 255.0f, inv = sc > 0 ? 1.0f / sc : 0.0f;
    __m512 vlo = _mm512_set1_ps(lo), vinv = _mm512_set1_ps(inv);
    __m512 v0 = _mm512_min_ps(_mm512_fmadd_ps(_mm512_sub_ps(a0, vlo), vinv, half), top);
    __m512 v1 = _mm512_min_ps(_mm512_fmadd_ps(_mm512_sub_ps(a1, vlo), vinv, half), top);
    _mm_storeu_si128((__m128i *)q, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v0)));
    _mm_storeu_si128((__m128i *)(q + 16), _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v1)));
    *rs = sc;
    *rmin = lo;
}

/* The same as quantize_rows_plain for K a multiple of 32, two vectors per
 * block: a scalar loop per block cost 17% of a forward pass (perf). */
RB_Q8_TARGET static void quantize_rows_v4(const float *A, size_t lda, size_t r0, size_t r1,
                                          size_t b0, size_t b1, size_t K, const rb_q8_input *in) {
    size_t nb = K / 32;
    for (size_t r = r0; r < r1; r++) {
        const float *a = A + r * lda;
        uint8_t *q = in->q + r * K;
        for (size_t b = b0; b < b1; b++)
            quantize_block_v(_mm512_loadu_ps(a + b * 32), _mm512_loadu_ps(a + b * 32 + 16),
                             q + b * 32, &in->rs[r * nb + b], &in->rmin[r * nb + b]);
    }
}

/*
 * One tile: MR rows by the 32 columns of a panel.  Per block of
 * RB_Q8_BLOCK k, 2 * MR int32 accumulators gather vpdpbusd products (each
 * group of four k loads the panel's 128 bytes once and broadcasts four
 * bytes of A per row); at the block's end they are scaled into 2 * MR
 * float accumulators: f += acc * rs_b * sw_b + rmin_b * sw_b * sum_b(Wq).
 * The store adds the bias and applies `act` to the whole tile at once (its
 * 2 * MR vectors are independent, so the activation's chains overlap);
 * with `qq` it also quantises each row's 32 values as the next product's
 * input block (rows qld bytes and qnb scales apart), and with C NULL
 * stores nothing else.
 */
#define RB_Q8_TILE(MR)                                                                            \
    RB_Q8_TARGET static void tile_##MR(size_t nb, const uint8_t *A, size_t ldq, const int8_t *P,  \
                                       const float *rs, const float *rmin, const float *sc,       \
                                       const float *ssum, size_t cols, const float *bias,         \
                                       float *C, size_t ldc, size_t ncols, rb_q8_act act,         \
                                       uint8_t *qq, float *qrs, float *qrmin, size_t qld,         \
                                       size_t qnb) {                                              \
        __m512 f0[MR], f1[MR];                                                                    \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                                   \
            f0[r] = _mm512_setzero_ps();                                                          \
            f1[r] = _mm512_setzero_ps();                                                          \
        }                                                                                         \
        for (size_t b = 0; b < nb; b++) {                                                         \
            __m512i c0[MR], c1[MR];                                                               \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                               \
                c0[r] = _mm512_setzero_si512();                                                   \
                c1[r] = _mm512_setzero_si512();                                                   \
            }                                                                                     \
            const int8_t *Pb = P + b * RB_Q8_BLOCK * RB_Q8_NR;                                    \
            const uint8_t *Ab = A + b * RB_Q8_BLOCK;                                              \
            _Pragma("GCC unroll 8") for (size_t g = 0; g < RB_Q8_BLOCK / 4; g++) {                \
                __m512i w0 = _mm512_loadu_si512(Pb + g * 128);                                    \
                __m512i w1 = _mm512_loadu_si512(Pb + g * 128 + 64);                               \
                _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                           \
                    int32_t a;                                                                    \
                    memcpy(&a, Ab + (size_t)r * ldq + g * 4, sizeof a);                           \
                    __m512i av = _mm512_set1_epi32(a);                                            \
                    c0[r] = _mm512_dpbusd_epi32(c0[r], av, w0);                                   \
                    c1[r] = _mm512_dpbusd_epi32(c1[r], av, w1);                                   \
                }                                                                                 \
            }                                                                                     \
            __m512 o0 = _mm512_loadu_ps(ssum + b * cols),                                         \
                   o1 = _mm512_loadu_ps(ssum + b * cols + 16);                                    \
            __m512 s0 = _mm512_loadu_ps(sc + b * cols), s1 = _mm512_loadu_ps(sc + b * cols + 16); \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                               \
                __m512 m = _mm512_set1_ps(rs[(size_t)r * nb + b]);                                \
                __m512 z = _mm512_set1_ps(rmin[(size_t)r * nb + b]);                              \
                f0[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c0[r]), _mm512_mul_ps(m, s0),          \
                                        _mm512_fmadd_ps(z, o0, f0[r]));                           \
                f1[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c1[r]), _mm512_mul_ps(m, s1),          \
                                        _mm512_fmadd_ps(z, o1, f1[r]));                           \
            }                                                                                     \
        }                                                                                         \
        float bt[RB_Q8_NR] = {0};                                                                 \
        if (bias) memcpy(bt, bias, ncols * sizeof *bt);                                           \
        __m512 b0 = _mm512_loadu_ps(bt), b1 = _mm512_loadu_ps(bt + 16);                           \
        __mmask16 m0 = ncols >= 16 ? 0xFFFF : (__mmask16)((1u << ncols) - 1);                     \
        __mmask16 m1 = ncols >= 32   ? 0xFFFF                                                     \
                       : ncols <= 16 ? 0                                                          \
                                     : (__mmask16)((1u << (ncols - 16)) - 1);                     \
        _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                                   \
            f0[r] = _mm512_add_ps(f0[r], b0);                                                     \
            f1[r] = _mm512_add_ps(f1[r], b1);                                                     \
        }                                                                                         \
        if (act != RB_Q8_ACT_NONE) {                                                              \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                               \
                f0[r] = act_v(act, f0[r]);                                                        \
                f1[r] = act_v(act, f1[r]);                                                        \
            }                                                                                     \
        }                                                                                         \
        if (qq) {                                                                                 \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++)                                 \
                quantize_block_v(f0[r], f1[r], qq + (size_t)r * qld, qrs + (size_t)r * qnb,       \
                                 qrmin + (size_t)r * qnb);                                        \
        }                                                                                         \
        if (C) {                                                                                  \
            _Pragma("GCC unroll 16") for (int r = 0; r < MR; r++) {                               \
                _mm512_mask_storeu_ps(C + (size_t)r * ldc, m0, f0[r]);                            \
                _mm512_mask_storeu_ps(C + (size_t)r * ldc + 16, m1, f1[r]);                       \
            }                                                                                     \
        }                                                                                         \
    }

RB_Q8_TILE(6)
RB_Q8_TILE(1)

/* Rows of Aq per block: the block stays in a 256 KiB share of L2 while
 * every panel passes over it. */
static size_t rows_per_block(size_t Kp) {
    size_t rows = (256 * 1024) / Kp;
    return rows < 6 ? 6 : rows / 6 * 6;
}

RB_Q8_TARGET static void matmul_vnni(size_t M, size_t n0, size_t n1, const rb_q8_input *in,
                                     const rb_q8_weights *W, const float *bias, float *C,
                                     size_t ldc, rb_q8_act act, const rb_q8_input *qo) {
    const uint8_t *Aq = in->q;
    const float *rs = in->rs, *rmin = in->rmin;
    size_t Kp = rb_q8_kpad(W->K), nb = rb_q8_blocks(W->K), mb = rows_per_block(Kp);
    size_t qld = W->N, qnb = W->N / RB_Q8_BLOCK; /* qo: N is whole blocks (rb_q8_matmul) */
    for (size_t i0 = 0; i0 < M; i0 += mb) {
        size_t i1 = i0 + mb < M ? i0 + mb : M;
        for (size_t j = n0; j < n1; j += RB_Q8_NR) {
            const int8_t *P = W->panels + j / RB_Q8_NR * Kp * RB_Q8_NR;
            const float *sc = W->scale + j, *ws = W->ssum + j;
            const float *bj = bias ? bias + j : NULL;
            size_t nc = n1 - j < RB_Q8_NR ? n1 - j : RB_Q8_NR, i = i0;
            for (; i < i1;) {
                size_t rows = i + 6 <= i1 ? 6 : 1, b = j / RB_Q8_BLOCK;
                float *Ci = C ? C + i * ldc + j : NULL;
                uint8_t *qq = qo ? qo->q + i * qld + j : NULL;
                float *qrs = qo ? qo->rs + i * qnb + b : NULL;
                float *qrm = qo ? qo->rmin + i * qnb + b : NULL;
                if (rows == 6)
                    tile_6(nb, Aq + i * Kp, Kp, P, rs + i * nb, rmin + i * nb, sc, ws, W->cols, bj,
                           Ci, ldc, nc, act, qq, qrs, qrm, qld, qnb);
                else
                    tile_1(nb, Aq + i * Kp, Kp, P, rs + i * nb, rmin + i * nb, sc, ws, W->cols, bj,
                           Ci, ldc, nc, act, qq, qrs, qrm, qld, qnb);
                i += rows;
            }
        }
    }
}

void rb_q8_quantize_rows(const float *A, size_t lda, size_t r0, size_t r1, size_t K,
                         const rb_q8_input *in) {
    rb_q8_quantize_blocks(A, lda, r0, r1, 0, rb_q8_blocks(K), K, in);
}

void rb_q8_quantize_blocks(const float *A, size_t lda, size_t r0, size_t r1, size_t b0, size_t b1,
                           size_t K, const rb_q8_input *in) {
    if (K % 32 == 0 && rb_q8_available())
        quantize_rows_v4(A, lda, r0, r1, b0, b1, K, in);
    else
        quantize_rows_plain(A, lda, r0, r1, b0, b1, K, in);
}

const char *rb_q8_missing(void) {
    /* __builtin_cpu_supports takes string literals only; the names given
     * back are /proc/cpuinfo's, which users can grep. */
    if (!__builtin_cpu_supports("avx512f")) return "avx512f";
    if (!__builtin_cpu_supports("avx512bw")) return "avx512bw";
    if (!__builtin_cpu_supports("avx512vl")) return "avx512vl";
    if (!__builtin_cpu_supports("avx512dq")) return "avx512dq";
    if (!__builtin_cpu_supports("avx512cd")) return "avx512cd";
    if (!__builtin_cpu_supports("fma")) return "fma";
    if (!__builtin_cpu_supports("bmi2")) return "bmi2";
    if (!__builtin_cpu_supports("avx512vnni")) return "avx512_vnni";
    return NULL;
}

void rb_q8_matmul(size_t M, size_t n0, size_t n1, const rb_q8_input *in, const rb_q8_weights *W,
                  const float *bias, float *C, size_t ldc, rb_q8_act act,
                  const rb_q8_input *qout) {
    if (qout && W->N % RB_Q8_BLOCK != 0) {
        /* A partial last block: quantised from the stored rows instead. */
        matmul_vnni(M, n0, n1, in, W, bias, C, ldc, act, NULL);
        rb_q8_quantize_blocks(C, ldc, 0, M, n0 / RB_Q8_BLOCK, (n1 + RB_Q8_BLOCK - 1) / RB_Q8_BLOCK,
                              W->N, qout);
        return;
    }
    matmul_vnni(M, n0, n1, in, W, bias, C, ldc, act, qout);
}

void rb_q8_gelu(rb_q8_act act, float *x, size_t n) {
    if (rb_q8_available())
        gelu_v4(act, x, n);
    else
        gelu_plain(act, x, n);
}

#else

void rb_q8_quantize_rows(const float *A, size_t lda, size_t r0, size_t r1, size_t K,
                         const rb_q8_input *in) {
    quantize_rows_plain(A, lda, r0, r1, 0, rb_q8_blocks(K), K, in);
}

void rb_q8_quantize_blocks(const float *A, size_t lda, size_t r0, size_t r1, size_t b0, size_t b1,
                           size_t K, const rb_q8_input *in) {
    quantize_rows_plain(A, lda, r0, r1, b0, b1, K, in);
}

const char *rb_q8_missing(void) { return "avx512_vnni (an x86-64 build with GCC)"; }

void rb_q8_matmul(size_t M, size_t n0, size_t n1, const rb_q8_input *in, const rb_q8_weights *W,
                  const float *bias, float *C, size_t ldc, rb_q8_act act,
                  const rb_q8_input *qout) {
    (void)M, (void)n0, (void)n1, (void)in, (void)W, (void)bias;
    (void)C, (void)ldc, (void)act, (void)qout;
}

void rb_q8_gelu(rb_q8_act act, float *x, size_t n) { gelu_plain(act, x, n); }

#endif

bool rb_q8_available(void) { return rb_q8_missing() == NULL; }
