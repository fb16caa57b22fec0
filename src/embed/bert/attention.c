#include "embed/bert/attention.h"

#include "embed/bert/activation.h"
#include "embed/bert/vmath.h"

#include <math.h>
#include <string.h>

/* a * w + c is one fused multiply-add (see packed.c). */
#pragma GCC optimize("fp-contract=fast")
#pragma GCC diagnostic ignored "-Wpsabi"

#ifdef RB_VM_X86
#define RB_ATTN_X86 1
#endif

/* Query rows per block: four rows reuse each load of K^T and V four times
 * and keep at most 4 x 8 accumulators in the 32 vector registers. */
#define RB_ATTN_ROWS 4

static size_t padded(size_t L) { return (L + 15) & ~(size_t)15; }

size_t rb_attn_scratch_floats(size_t max_seq, size_t d) {
    size_t Lp = padded(max_seq);
    return Lp * d + RB_ATTN_ROWS * Lp;
}

/* Kt[c, j] = K[j, c], zero past L so that a whole vector of keys can be
 * scored (the padded scores are never read). */
static void transpose_keys(size_t L, size_t d, const float *K, size_t ld, float *Kt) {
    size_t Lp = padded(L);
    for (size_t c = 0; c < d; c++) {
        float *row = Kt + c * Lp;
        for (size_t j = 0; j < L; j++) row[j] = K[j * ld + c];
        for (size_t j = L; j < Lp; j++) row[j] = 0.0f;
    }
}

static void head_generic(size_t L, size_t d, const float *Q, const float *K, const float *V,
                         size_t ld, float *O, size_t ldo, float scale, float *scratch) {
    size_t Lp = padded(L);
    float *S = scratch + Lp * d;
    for (size_t i = 0; i < L; i++) {
        for (size_t j = 0; j < L; j++) {
            float s = 0;
            for (size_t c = 0; c < d; c++) s += Q[i * ld + c] * K[j * ld + c];
            S[j] = s;
        }
        rb_act_softmax_rows(S, 1, L, scale);
        float *o = O + i * ldo;
        for (size_t c = 0; c < d; c++) o[c] = 0;
        for (size_t j = 0; j < L; j++)
            for (size_t c = 0; c < d; c++) o[c] += S[j] * V[j * ld + c];
    }
}

#ifdef RB_ATTN_X86

typedef float v16f __attribute__((vector_size(64)));

#define RB_V4 __attribute__((target("arch=x86-64-v4")))
#define RB_INLINE static inline __attribute__((always_inline))

RB_INLINE v16f load16(const float *p) {
    v16f v;
    memcpy(&v, p, sizeof v);
    return v;
}

RB_INLINE void store16(float *p, v16f v) { memcpy(p, &v, sizeof v); }

/* Head sizes the vector kernel takes: 16, 32, 48 or 64 values (DV whole
 * vectors), so that the R x DV accumulators are known at compile time and
 * stay in registers. */
#define RB_ATTN_MAX_DV 4

/* R query rows (R <= 4) starting at row i: scores (their row maxima
 * kept on the way), e^((s - max) * scale) with the keys past L masked to
 * 0, then S V scaled by 1 / sum at the store; the head has DV * 16
 * values.  The softmax runs here on whole vectors: a call per row of
 * activation.c's softmax spent most of its time in the scalar remainder
 * of rows whose length is not a multiple of 16 (perf: 10% of an int8
 * pass). */
RB_V4 RB_INLINE void block_v4(const int R, const size_t DV, size_t i, size_t L, const float *Q,
                              const float *Kt, const float *V, size_t ld, float *O, size_t ldo,
                              float scale, float *S) {
    size_t Lp = padded(L), d = DV * 16;
    const float *q = Q + i * ld;
    __mmask16 tail = L % 16 ? (__mmask16)((1u << (L % 16)) - 1) : (__mmask16)0xFFFF;
    __m512 mx[RB_ATTN_ROWS];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) mx[r] = _mm512_set1_ps(-INFINITY);
    /* Two vectors of keys per pass where there are two: R accumulators
     * alone would leave the FMA units waiting on their chains. */
    for (size_t j = 0; j < Lp;) {
        const size_t JV = j + 32 <= Lp ? 2 : 1;
        v16f acc[RB_ATTN_ROWS][2];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = (v16f){0};
        if (JV == 2) {
            for (size_t c = 0; c < d; c++) {
                v16f k0 = load16(Kt + c * Lp + j), k1 = load16(Kt + c * Lp + j + 16);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    float a = q[(size_t)r * ld + c];
                    acc[r][0] += a * k0;
                    acc[r][1] += a * k1;
                }
            }
        } else {
            for (size_t c = 0; c < d; c++) {
                v16f k0 = load16(Kt + c * Lp + j);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) acc[r][0] += q[(size_t)r * ld + c] * k0;
            }
        }
        for (size_t u = 0; u < JV; u++, j += 16) {
            __mmask16 live = j + 16 <= L ? (__mmask16)0xFFFF : tail;
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                store16(S + (size_t)r * Lp + j, acc[r][u]);
                mx[r] = _mm512_mask_max_ps(mx[r], live, mx[r], (__m512)acc[r][u]);
            }
        }
    }
    float inv[RB_ATTN_ROWS];
    __m512 vs = _mm512_set1_ps(scale);
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        __m512 vm = _mm512_set1_ps(_mm512_reduce_max_ps(mx[r])), sum = _mm512_setzero_ps();
        float *row = S + (size_t)r * Lp;
        for (size_t j = 0; j < Lp; j += 16) {
            __mmask16 live = j + 16 <= L ? (__mmask16)0xFFFF : tail;
            __m512 e = rb_vm_exp(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(row + j), vm), vs));
            e = _mm512_maskz_mov_ps(live, e);
            _mm512_storeu_ps(row + j, e);
            sum = _mm512_add_ps(sum, e);
        }
        inv[r] = 1.0f / _mm512_reduce_add_ps(sum);
    }
    v16f o[RB_ATTN_ROWS][RB_ATTN_MAX_DV];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (size_t c = 0; c < DV; c++) o[r][c] = (v16f){0};
    for (size_t j = 0; j < L; j++) {
        const float *v = V + j * ld;
#pragma GCC unroll 4
        for (size_t c = 0; c < DV; c++) {
            v16f vv = load16(v + c * 16);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) o[r][c] += S[(size_t)r * Lp + j] * vv;
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (size_t c = 0; c < DV; c++)
            store16(O + (i + (size_t)r) * ldo + c * 16, o[r][c] * inv[r]);
}

/* One head of DV * 16 values: whole blocks of rows, then the rest. */
#define RB_ATTN_HEAD(DV)                                                                          \
    RB_V4 static void head_v4_##DV(size_t L, const float *Q, const float *K, const float *V,      \
                                   size_t ld, float *O, size_t ldo, float scale,                  \
                                   float *scratch) {                                              \
        size_t Lp = padded(L);                                                                    \
        float *Kt = scratch, *S = scratch + Lp * DV * 16;                                         \
        transpose_keys(L, DV * 16, K, ld, Kt);                                                    \
        size_t i = 0;                                                                             \
        for (; i + RB_ATTN_ROWS <= L; i += RB_ATTN_ROWS)                                          \
            block_v4(RB_ATTN_ROWS, DV, i, L, Q, Kt, V, ld, O, ldo, scale, S);                     \
        switch (L - i) {                                                                          \
        case 3: block_v4(3, DV, i, L, Q, Kt, V, ld, O, ldo, scale, S); break;                     \
        case 2: block_v4(2, DV, i, L, Q, Kt, V, ld, O, ldo, scale, S); break;                     \
        case 1: block_v4(1, DV, i, L, Q, Kt, V, ld, O, ldo, scale, S); break;                     \
        default: break;                                                                           \
        }                                                                                         \
    }

RB_ATTN_HEAD(1)
RB_ATTN_HEAD(2)
RB_ATTN_HEAD(3)
RB_ATTN_HEAD(4)

static int head_v4(size_t L, size_t d, const float *Q, const float *K, const float *V, size_t ld,
                   float *O, size_t ldo, float scale, float *scratch) {
    switch (d) {
    case 16: head_v4_1(L, Q, K, V, ld, O, ldo, scale, scratch); return 0;
    case 32: head_v4_2(L, Q, K, V, ld, O, ldo, scale, scratch); return 0;
    case 48: head_v4_3(L, Q, K, V, ld, O, ldo, scale, scratch); return 0;
    case 64: head_v4_4(L, Q, K, V, ld, O, ldo, scale, scratch); return 0;
    default: return -1;
    }
}

static int have_v4(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl");
}

#endif

void rb_attn_head(size_t L, size_t d, const float *Q, const float *K, const float *V, size_t ld,
                  float *O, size_t ldo, float scale, float *scratch) {
    if (L == 0) return;
#ifdef RB_ATTN_X86
    if (have_v4() && head_v4(L, d, Q, K, V, ld, O, ldo, scale, scratch) == 0) return;
#endif
    head_generic(L, d, Q, K, V, ld, O, ldo, scale, scratch);
}
