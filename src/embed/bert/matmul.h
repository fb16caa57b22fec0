/*
 * matmul.h -- the encoder's matrix products, single-threaded.
 *
 * Three kernels compute the same products:
 *   - "packed": the weight matrices are packed once at model load and an
 *     AVX-512 kernel multiplies by them (embed/bert/packed.h); the default on
 *     CPUs that have AVX-512.  Attention then runs in the project's own
 *     fused kernel (embed/bert/attention.h): no BLAS on this path;
 *   - "openblas": OpenBLAS's cblas_sgemm, when configure found it
 *     (HAVE_OPENBLAS); the default on other CPUs;
 *   - "builtin": a register-blocked kernel, always compiled, used when
 *     OpenBLAS is absent (--without-openblas) or when asked for.
 * Tests and the benchmark name a kernel to compare them in one binary.
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

typedef enum rb_matmul_kernel {
    RB_MATMUL_BLAS = 0,
    RB_MATMUL_BUILTIN,
    RB_MATMUL_PACKED
} rb_matmul_kernel;

/* The kernel used when none is asked for: the first of packed, openblas,
 * builtin that this build and CPU run. */
rb_matmul_kernel rb_matmul_default_kernel(void);
const char *rb_matmul_kernel_name(rb_matmul_kernel k);

/* Kernel by name ("packed", "openblas", "builtin"); -1 when the name is
 * unknown or the kernel cannot run here (no AVX-512, no OpenBLAS). */
int rb_matmul_kernel_parse(const char *name, rb_matmul_kernel *out);

/* The names this build and CPU accept, for messages ("packed, openblas,
 * builtin" at most). */
const char *rb_matmul_kernels_available(void);
void rb_matmul_init(void);

/* C[M,N] = A[M,K] . B[N,K]^T (+ bias[N] if not NULL).  B is stored as
 * PyTorch's Linear stores weights ([out, in]).  With RB_MATMUL_PACKED these
 * two functions use the general kernel: packed products have their own
 * entry point, rb_pack_matmul. */
void rb_matmul_nt(rb_matmul_kernel k, size_t M, size_t N, size_t K, const float *A, size_t lda,
                  const float *B, size_t ldb, const float *bias, float *C, size_t ldc);

/* C[M,N] = A[M,K] . B[K,N]. */
void rb_matmul_nn(rb_matmul_kernel k, size_t M, size_t N, size_t K, const float *A, size_t lda,
                  const float *B, size_t ldb, float *C, size_t ldc);

#endif
