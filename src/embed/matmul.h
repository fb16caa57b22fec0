/*
 * matmul.h -- the encoder's matrix products, single-threaded.
 *
 * Two kernels compute the same products:
 *   - OpenBLAS's cblas_sgemm, when configure found it (HAVE_OPENBLAS);
 *   - a built-in register-blocked kernel, always compiled, used when
 *     OpenBLAS is absent (--without-openblas) or when asked for (so tests
 *     and the benchmark can compare both in one binary).
 * Every call is single-threaded; the caller parallelises (OpenMP over
 * output column ranges or over sub-batches).  rb_matmul_init() therefore
 * pins OpenBLAS to one thread, so that its own thread pool never competes
 * with OpenMP's: a process-wide OpenBLAS setting, harmless since ragbatch
 * has no other BLAS user.
 *
 * All matrices are row-major floats with explicit leading dimensions.
 */
#ifndef RB_MATMUL_H
#define RB_MATMUL_H

#include <stdbool.h>
#include <stddef.h>

typedef enum rb_matmul_kernel { RB_MATMUL_BLAS = 0, RB_MATMUL_BUILTIN } rb_matmul_kernel;

/* The kernel used when none is asked for: BLAS when compiled in. */
rb_matmul_kernel rb_matmul_default_kernel(void);
const char *rb_matmul_kernel_name(rb_matmul_kernel k);
void rb_matmul_init(void);

/* C[M,N] = A[M,K] . B[N,K]^T (+ bias[N] if not NULL).  B is a weight matrix
 * stored as PyTorch's Linear does ([out, in]). */
void rb_matmul_nt(rb_matmul_kernel k, size_t M, size_t N, size_t K, const float *A, size_t lda,
                  const float *B, size_t ldb, const float *bias, float *C, size_t ldc);

/* C[M,N] = A[M,K] . B[K,N]. */
void rb_matmul_nn(rb_matmul_kernel k, size_t M, size_t N, size_t K, const float *A, size_t lda,
                  const float *B, size_t ldb, float *C, size_t ldc);

#endif
