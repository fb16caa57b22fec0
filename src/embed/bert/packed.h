/*
 * packed.h -- products with weights packed once, at model load, for
 * AVX-512 CPUs.
 *
 * Why: a general GEMM (OpenBLAS) repacks the weight matrix on every call.
 * With few rows -- one short text is ~50 tokens -- that copy costs about
 * as much as the arithmetic: perf showed OpenBLAS's packing routine at 17%
 * of a one-thread, batch-1 forward pass.  Packing each weight matrix once
 * into panels of RB_PACK_NR output columns lets a small register-blocked
 * kernel stream every panel straight from memory, whatever the number of
 * rows.
 *
 * Layout: W[N,K] (PyTorch's Linear [out, in]) becomes ceil(N / NR) panels;
 * panel p holds, for k = 0..K-1, the NR values W[p*NR + j, k] (j = 0..NR-1)
 * contiguously, zero-padded past N.
 *
 * The kernel is compiled for x86-64-v4 (AVX-512) only; rb_pack_available()
 * says whether this CPU runs it, and callers use their general path
 * otherwise.  Calls are single-threaded; the caller splits output columns
 * between threads in multiples of RB_PACK_NR.
 */
#ifndef RB_EMBED_PACKED_H
#define RB_EMBED_PACKED_H

#include <stdbool.h>
#include <stddef.h>

#define RB_PACK_NR 32

/* True when the CPU and the build support the packed kernel. */
bool rb_pack_available(void);

/* Floats needed to pack an N x K matrix. */
size_t rb_pack_size(size_t N, size_t K);

/* Packs W[N,K] (row stride K) into `out` (rb_pack_size(N, K) floats). */
void rb_pack_weights(const float *W, size_t N, size_t K, float *out);

/* Applied in place to each piece of an output row as soon as it is
 * stored, while it is still in L1 (an activation such as GELU). */
typedef void (*rb_pack_epilogue)(float *x, size_t n);

/* C[M, n0..n1) = A[M,K] . W[n0..n1, K]^T (+ bias[n0..n1) if not NULL), W
 * packed by rb_pack_weights, then `epilogue` (NULL for none) on the
 * result; n0 must be a multiple of RB_PACK_NR, and the columns past n1 are
 * not written. */
void rb_pack_matmul(size_t M, size_t n0, size_t n1, size_t K, const float *A, size_t lda,
                    const float *Wp, const float *bias, float *C, size_t ldc,
                    rb_pack_epilogue epilogue);

#endif
