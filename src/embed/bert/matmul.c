#include "embed/bert/matmul.h"

#pragma GCC optimize("fp-contract=fast")

#include "embed/bert/clones.h"
#include "embed/bert/packed.h"

#include <string.h>

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

/* The built-in kernel is written with GCC vector extensions and compiled
 * once per instruction set (see clones.h). */
typedef float v8f __attribute__((vector_size(32)));

/* The helpers below pass 32-byte vectors by value; they are static and
 * inlined, so the calling-convention difference GCC warns about cannot
 * reach any other translation unit. */
#pragma GCC diagnostic ignored "-Wpsabi"

static inline __attribute__((always_inline)) v8f load8(const float *p) {
    v8f v;
    memcpy(&v, p, sizeof v); /* unaligned load without aliasing tricks */
    return v;
}

static inline __attribute__((always_inline)) void store8(float *p, v8f v) {
    memcpy(p, &v, sizeof v);
}

static inline __attribute__((always_inline)) float hsum8(v8f v) {
    return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

static float dot(const float *a, const float *b, size_t K) {
    v8f acc = {0};
    size_t k = 0;
    for (; k + 8 <= K; k += 8) acc += load8(a + k) * load8(b + k);
    float s = hsum8(acc);
    for (; k < K; k++) s += a[k] * b[k];
    return s;
}

/* C[M,N] = A . B^T: each output is a dot product of two contiguous rows.
 * Tiles of 4 rows of A by 2 rows of B keep 8 vector accumulators in
 * registers and reuse each load 2-4 times; B is walked in blocks of 64 rows
 * (at most 384 KiB for K = 1536) so that a block stays in L2 while every
 * row of A passes over it. */
RB_CLONES
static void builtin_nt(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                       size_t ldb, float *C, size_t ldc) {
    const size_t NB = 64;
    size_t K8 = K & ~(size_t)7;
    for (size_t j0 = 0; j0 < N; j0 += NB) {
        size_t j1 = j0 + NB < N ? j0 + NB : N;
        size_t i = 0;
        for (; i + 4 <= M; i += 4) {
            const float *a0 = A + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
            size_t j = j0;
            for (; j + 2 <= j1; j += 2) {
                const float *b0 = B + j * ldb, *b1 = b0 + ldb;
                v8f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0};
                v8f c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
                for (size_t k = 0; k < K8; k += 8) {
                    v8f x0 = load8(b0 + k), x1 = load8(b1 + k);
                    v8f y = load8(a0 + k);
                    c00 += y * x0;
                    c01 += y * x1;
                    y = load8(a1 + k);
                    c10 += y * x0;
                    c11 += y * x1;
                    y = load8(a2 + k);
                    c20 += y * x0;
                    c21 += y * x1;
                    y = load8(a3 + k);
                    c30 += y * x0;
                    c31 += y * x1;
                }
                float s[8] = {hsum8(c00), hsum8(c01), hsum8(c10), hsum8(c11),
                              hsum8(c20), hsum8(c21), hsum8(c30), hsum8(c31)};
                for (size_t k = K8; k < K; k++) {
                    s[0] += a0[k] * b0[k];
                    s[1] += a0[k] * b1[k];
                    s[2] += a1[k] * b0[k];
                    s[3] += a1[k] * b1[k];
                    s[4] += a2[k] * b0[k];
                    s[5] += a2[k] * b1[k];
                    s[6] += a3[k] * b0[k];
                    s[7] += a3[k] * b1[k];
                }
                C[i * ldc + j] = s[0];
                C[i * ldc + j + 1] = s[1];
                C[(i + 1) * ldc + j] = s[2];
                C[(i + 1) * ldc + j + 1] = s[3];
                C[(i + 2) * ldc + j] = s[4];
                C[(i + 2) * ldc + j + 1] = s[5];
                C[(i + 3) * ldc + j] = s[6];
                C[(i + 3) * ldc + j + 1] = s[7];
            }
            for (; j < j1; j++) {
                const float *b = B + j * ldb;
                C[i * ldc + j] = dot(a0, b, K);
                C[(i + 1) * ldc + j] = dot(a1, b, K);
                C[(i + 2) * ldc + j] = dot(a2, b, K);
                C[(i + 3) * ldc + j] = dot(a3, b, K);
            }
        }
        for (; i < M; i++)
            for (size_t j = j0; j < j1; j++) C[i * ldc + j] = dot(A + i * lda, B + j * ldb, K);
    }
}

/* C[M,N] = A . B, row by row: C[i,:] = sum_k A[i,k] B[k,:]. */
RB_CLONES
static void builtin_nn(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                       size_t ldb, float *C, size_t ldc) {
    size_t N8 = N & ~(size_t)7;
    for (size_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        const float *a = A + i * lda;
        size_t j = 0;
        for (; j + 32 <= N8; j += 32) {
            v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            for (size_t k = 0; k < K; k++) {
                const float *b = B + k * ldb + j;
                v8f x = {a[k], a[k], a[k], a[k], a[k], a[k], a[k], a[k]};
                s0 += x * load8(b);
                s1 += x * load8(b + 8);
                s2 += x * load8(b + 16);
                s3 += x * load8(b + 24);
            }
            store8(c + j, s0);
            store8(c + j + 8, s1);
            store8(c + j + 16, s2);
            store8(c + j + 24, s3);
        }
        for (; j < N8; j += 8) {
            v8f s0 = {0};
            for (size_t k = 0; k < K; k++) {
                v8f x = {a[k], a[k], a[k], a[k], a[k], a[k], a[k], a[k]};
                s0 += x * load8(B + k * ldb + j);
            }
            store8(c + j, s0);
        }
        for (; j < N; j++) {
            float s = 0;
            for (size_t k = 0; k < K; k++) s += a[k] * B[k * ldb + j];
            c[j] = s;
        }
    }
}

/* What the general products use: OpenBLAS when compiled in. */
static rb_matmul_kernel general_kernel(void) {
#ifdef HAVE_OPENBLAS
    return RB_MATMUL_BLAS;
#else
    return RB_MATMUL_BUILTIN;
#endif
}

rb_matmul_kernel rb_matmul_default_kernel(void) {
    return rb_pack_available() ? RB_MATMUL_PACKED : general_kernel();
}

const char *rb_matmul_kernel_name(rb_matmul_kernel k) {
    switch (k) {
    case RB_MATMUL_PACKED: return "packed";
    case RB_MATMUL_BLAS: return general_kernel() == RB_MATMUL_BLAS ? "openblas" : "builtin";
    case RB_MATMUL_BUILTIN: break;
    }
    return "builtin";
}

const char *rb_matmul_kernels_available(void) {
    bool blas = general_kernel() == RB_MATMUL_BLAS;
    if (rb_pack_available()) return blas ? "packed, openblas, builtin" : "packed, builtin";
    return blas ? "openblas, builtin" : "builtin";
}

int rb_matmul_kernel_parse(const char *name, rb_matmul_kernel *out) {
    if (strcmp(name, "packed") == 0 && rb_pack_available()) {
        *out = RB_MATMUL_PACKED;
        return 0;
    }
    if (strcmp(name, "openblas") == 0 && general_kernel() == RB_MATMUL_BLAS) {
        *out = RB_MATMUL_BLAS;
        return 0;
    }
    if (strcmp(name, "builtin") == 0) {
        *out = RB_MATMUL_BUILTIN;
        return 0;
    }
    return -1;
}

void rb_matmul_init(void) {
#ifdef HAVE_OPENBLAS
    openblas_set_num_threads(1);
#endif
}

void rb_matmul_nt(rb_matmul_kernel k, size_t M, size_t N, size_t K, const float *A, size_t lda,
                  const float *B, size_t ldb, const float *bias, float *C, size_t ldc) {
    if (M == 0 || N == 0) return;
#ifdef HAVE_OPENBLAS
    if (k == RB_MATMUL_BLAS || k == RB_MATMUL_PACKED) {
        float beta = 0.0f;
        if (bias) {
            for (size_t i = 0; i < M; i++) memcpy(C + i * ldc, bias, N * sizeof *C);
            beta = 1.0f;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)N, (int)K, 1.0f, A,
                    (int)lda, B, (int)ldb, beta, C, (int)ldc);
        return;
    }
#endif
    (void)k;
    builtin_nt(M, N, K, A, lda, B, ldb, C, ldc);
    if (bias)
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++) C[i * ldc + j] += bias[j];
}

void rb_matmul_nn(rb_matmul_kernel k, size_t M, size_t N, size_t K, const float *A, size_t lda,
                  const float *B, size_t ldb, float *C, size_t ldc) {
    if (M == 0 || N == 0) return;
#ifdef HAVE_OPENBLAS
    if (k == RB_MATMUL_BLAS || k == RB_MATMUL_PACKED) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A,
                    (int)lda, B, (int)ldb, 0.0f, C, (int)ldc);
        return;
    }
#endif
    (void)k;
    builtin_nn(M, N, K, A, lda, B, ldb, C, ldc);
}
