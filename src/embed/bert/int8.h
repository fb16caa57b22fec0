/*
 * int8.h -- dense products in 8-bit integers with AVX512-VNNI, for
 * embed.precision = int8.
 *
 * Both operands are quantised in blocks of RB_Q8_BLOCK (32) values along
 * K.  Weights once, at load, per output channel and block, symmetrically:
 * W[n,k] ~ sw[n,b] * Wq[n,k] with Wq in [-127, 127] and sw = max |W| / 127
 * over the block.  Activations on the fly, per row (token) and block,
 * asymmetrically: A[i,k] ~ rs[i,b] * Aq[i,k] + rmin[i,b] with Aq in
 * [0, 255], rmin the block's minimum and rs = (max - min) / 255, so that
 * the whole byte covers the block's actual range (a GELU output is nearly
 * all >= -0.17; a symmetric code would waste half of it).  Then
 *
 *   sum_k A[i,k] W[n,k] ~ sum_b (rs[i,b] sw[n,b] sum_{k in b} Aq Wq
 *                                + rmin[i,b] sw[n,b] sum_{k in b} Wq),
 *
 * the inner sums of products in int32 with vpdpbusd (unsigned byte times
 * signed byte, four products per lane per instruction), scaled into FP32
 * accumulators at each block's end; sw * sum Wq per block and column is
 * computed at load.  Everything around the products (bias, GELU,
 * LayerNorm, softmax, pooling) stays FP32.  A block's int32 sum cannot
 * overflow (255 * 127 * 32).
 *
 * Why blocks on both sides: BERT's hidden states and weight rows have a
 * few values far larger than the rest, and one scale per row leaves the
 * others a handful of levels.  Worst cosine to sentence-transformers over
 * the 65 fixture texts (all-MiniLM-L6-v2, every dense layer int8): one
 * scale per token and per weight row 0.9922; activation blocks of 32 with
 * per-row weights 0.9965 (the weights' rounding alone, simulated in FP32,
 * gave the same 0.9965); blocks of 32 on both sides 0.99899; and with the
 * value projections kept in FP32 (bert.c) 0.99962.
 *
 * Layout of the quantised weights: K padded to whole blocks (Kp), then
 * panels of RB_Q8_NR = 32 output columns; panel p holds, for each group g
 * of four k, the 4 bytes Wq[p*32 + j, 4g..4g+3] for j = 0..31 (128 bytes,
 * two zmm), zero past N and past K.
 *
 * rb_q8_available() says whether this CPU runs the kernel (AVX-512 F, BW,
 * VL, DQ, CD and VNNI); rb_q8_missing() names the first missing feature,
 * for the refusal message.  The products have no scalar fallback: callers
 * refuse int8 where the CPU lacks VNNI.  Calls are single-threaded; the
 * caller splits columns between threads in multiples of RB_Q8_NR.
 */
#ifndef RB_EMBED_INT8_H
#define RB_EMBED_INT8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RB_Q8_NR 32
#define RB_Q8_BLOCK 32

bool rb_q8_available(void);
/* NULL when available, else the missing feature as /proc/cpuinfo names it
 * ("avx512_vnni", "avx512bw", ...). */
const char *rb_q8_missing(void);

/* K rounded up to a whole block: the row stride of quantised inputs. */
size_t rb_q8_kpad(size_t K);
/* Blocks per row of K values: the row stride of their scales and minima. */
size_t rb_q8_blocks(size_t K);

/* One quantised weight matrix.  The arrays are owned by whoever made the
 * struct (rb_q8_weights_size() bytes in one block, see rb_q8_quantize). */
typedef struct rb_q8_weights {
    size_t N, K;
    size_t cols;          /* N rounded up to 32 */
    const int8_t *panels; /* ceil(N/32) * kpad(K) * 32 bytes */
    const float *scale;   /* [blocks(K), cols] sw of each block */
    const float *ssum;    /* [blocks(K), cols] sw * the sum of Wq over each block */
} rb_q8_weights;

/* Bytes one N x K matrix needs, aligned to 64 bytes. */
size_t rb_q8_weights_size(size_t N, size_t K);

/* Quantises W[N,K] (row stride K) into `mem` (rb_q8_weights_size bytes,
 * 64-byte aligned) and describes it in *out (pointers into mem). */
void rb_q8_quantize(const float *W, size_t N, size_t K, void *mem, rb_q8_weights *out);

/* A quantised input matrix of M rows; arrays sized by the caller. */
typedef struct rb_q8_input {
    uint8_t *q;       /* [M, kpad(K)] */
    float *rs, *rmin; /* [M, blocks(K)] block scales and minima */
} rb_q8_input;

/* Quantises rows [r0, r1) of A[., K] (row stride lda) into `in` (the
 * padding past K set to 0). */
void rb_q8_quantize_rows(const float *A, size_t lda, size_t r0, size_t r1, size_t K,
                         const rb_q8_input *in);
/* The same for blocks [b0, b1) of those rows only (columns 32 b0 up to
 * 32 b1 or K): threads that each produced some columns of A quantise
 * their own blocks, with no wait for the others. */
void rb_q8_quantize_blocks(const float *A, size_t lda, size_t r0, size_t r1, size_t b0, size_t b1,
                           size_t K, const rb_q8_input *in);

/* What the tile applies to its results in registers, before they are
 * stored.  The GELU forms here are the int8 path's own: erf from a
 * rational approximation (absolute error below 4e-7, no exp; the
 * division is a reciprocal refined once), tanh with a vector exp; both far
 * below the quantisation error, and computed on the 2 x MR vectors of a
 * tile at once, where a call per stored row of 32 values spent its time
 * waiting on one dependent chain (perf: GELU 15% of an int8 pass, as much
 * as the product it follows). */
typedef enum rb_q8_act { RB_Q8_ACT_NONE = 0, RB_Q8_ACT_GELU_ERF, RB_Q8_ACT_GELU_TANH } rb_q8_act;

/* C[M, n0..n1) = act(dequant(Aq . Wq^T) + bias[n0..n1)) (bias may be
 * NULL).  n0 must be a multiple of RB_Q8_NR; columns past n1 are not
 * written.  With `qout` (NULL: none) the same rows are also quantised, as
 * rb_q8_quantize_blocks would (same bytes), into qout's blocks n0/32 up
 * to those of n1 (qout sized for K = N), while each tile is still in
 * registers: the next product's input, without a pass over C.  C may then
 * be NULL (nothing else stored) if N is a multiple of RB_Q8_BLOCK.  Only
 * on CPUs where rb_q8_available(). */
void rb_q8_matmul(size_t M, size_t n0, size_t n1, const rb_q8_input *in, const rb_q8_weights *W,
                  const float *bias, float *C, size_t ldc, rb_q8_act act, const rb_q8_input *qout);

/* The same GELU forms on n values in place (any CPU; plain loops where
 * the kernel does not run), for tests and for callers outside the tile. */
void rb_q8_gelu(rb_q8_act act, float *x, size_t n);

#endif
