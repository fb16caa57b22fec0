/*
 * attention.h -- one head of scaled dot-product attention over one
 * sequence, in the project's own kernels: softmax(Q K^T * scale) V.
 *
 * Why not BLAS: with ~56 tokens and 32 values per head these products are
 * tiny (a few hundred thousand multiply-adds), and a general GEMM spends
 * more on packing, dispatch and on whatever core a distribution's BLAS
 * detects (Debian's OpenBLAS 0.3.21 runs its SSE3 core on current AMD and
 * Intel CPUs) than on the arithmetic.  Here the three steps are fused per
 * block of four query rows: the scores of the block are computed against K
 * transposed once per head (so 16 keys are scored per vector operation),
 * softmaxed while in L1 and multiplied into V at once.
 *
 * On x86-64 with AVX-512 and a head size of 16, 32, 48 or 64 values the
 * vector kernel runs (selected at run time); anything else gets plain
 * loops over the same steps, which give the same values up to rounding.
 *
 * Calls are single-threaded and never fail or allocate: the caller gives
 * scratch of rb_attn_scratch_floats() floats per concurrent call.
 */
#ifndef RB_EMBED_ATTENTION_H
#define RB_EMBED_ATTENTION_H

#include <stddef.h>

/* Floats of scratch one call needs for sequences of up to `max_seq`
 * tokens and heads of `d` values. */
size_t rb_attn_scratch_floats(size_t max_seq, size_t d);

/* O[L,d] = softmax(Q K^T * scale) V for one head: Q, K and V are L rows of
 * d floats with row stride `ld`, O has row stride `ldo`.  `scratch` holds
 * rb_attn_scratch_floats(L or more, d) floats. */
void rb_attn_head(size_t L, size_t d, const float *Q, const float *K, const float *V, size_t ld,
                  float *O, size_t ldo, float scale, float *scratch);

#endif
