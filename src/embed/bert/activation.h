/*
 * activation.h -- the element-wise parts of the encoder: GELU (erf and tanh
 * forms), the scaled row softmax of attention and the residual LayerNorm.
 *
 * Why not libm: erff and expf are scalar calls.  A forward pass over 1,000
 * product texts evaluates about 500 million GELUs and 200 million
 * exponentials, and the libm calls took a fifth of its time (perf, one
 * thread, batch 1).  These functions evaluate polynomial approximations in
 * plain loops the compiler vectorises; on x86-64 they are compiled for
 * AVX-512, AVX2+FMA and baseline SSE2, and the loader picks the best one.
 *
 * Accuracy (tests/check_embed.c compares with double-precision libm): the
 * exponential's relative error is below 1.5e-7 over [-87, 88] (about one
 * float ulp); both GELUs are within 2.5e-7 * max(1, |x|) of the exact
 * function, and the erf form keeps a relative error below 1e-5 even in its
 * tiny negative tail (it uses erfc, relative error below 1.2e-7, rather
 * than 1 + erf, which cancels).  Inputs below -87 (near the smallest
 * normal float's exponent) give exp(-87) rather than a denormal or zero;
 * nothing in a forward pass depends on that difference.
 *
 * Every function works in place and never allocates or fails.
 */
#ifndef RB_EMBED_ACTIVATION_H
#define RB_EMBED_ACTIVATION_H

#include <stddef.h>

/* x[i] = 0.5 x (1 + erf(x / sqrt 2)), BERT's exact GELU. */
void rb_act_gelu_erf(float *x, size_t n);

/* x[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the "gelu_new"
 * approximation some BERT-family configs ask for. */
void rb_act_gelu_tanh(float *x, size_t n);

/* Each of the `rows` rows of S (row length and stride L) becomes
 * softmax(row * scale); scale must be positive. */
void rb_act_softmax_rows(float *S, size_t rows, size_t L, float scale);

/* row = LayerNorm(row + add) with gain g and bias b over H values (add may
 * be NULL); mean and variance are accumulated in double. */
void rb_act_add_layernorm(float *row, const float *add, const float *g, const float *b, size_t H,
                          float eps);

/* e^x for each of the n values (the approximation the functions above
 * use; exposed for tests). */
void rb_act_exp(float *x, size_t n);

#endif
