#include "embed/bert/attention.h"

#include "embed/bert/activation.h"

#include <string.h>

/* a * w + c is one fused multiply-add (see packed.c). */
#pragma GCC optimize("fp-contract=fast")
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
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

/* R query rows (R <= 4) starting at row i: scores, softmax, then S V; the
 * head has DV * 16 values. */
RB_V4 RB_INLINE void block_v4(const int R, const size_t DV, size_t i, size_t L, const float *Q,
                              const float *Kt, const float *V, size_t ld, float *O, size_t ldo,
                              float scale, float *S) {
    size_t Lp = padded(L), d = DV * 16;
    const float *q = Q + i * ld;
    for (size_t j = 0; j < Lp; j += 16) {
        v16f acc[RB_ATTN_ROWS];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) acc[r] = (v16f){0};
        for (size_t c = 0; c < d; c++) {
            v16f kt = load16(Kt + c * Lp + j);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r] += q[(size_t)r * ld + c] * kt;
        }
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) store16(S + (size_t)r * Lp + j, acc[r]);
    }
    for (int r = 0; r < R; r++) rb_act_softmax_rows(S + (size_t)r * Lp, 1, L, scale);
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
        for (size_t c = 0; c < DV; c++) store16(O + (i + (size_t)r) * ldo + c * 16, o[r][c]);
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
