/*
 * bert.h -- the BERT encoder's weights and forward pass.
 *
 * rb_bert holds pointers to every weight tensor.  Float32 tensors point
 * straight into the read-only mapping of model.safetensors; F16/BF16
 * tensors are converted once, at load, into buffers the rb_bert owns.  An
 * rb_bert is immutable after rb_bert_load() and is shared by all threads.
 *
 * rb_bert_state holds the scratch buffers of one forward pass, sized once
 * for a maximum number of tokens; each concurrently running forward pass
 * needs its own state.
 *
 * Sequences are packed, not padded: the tokens of all sequences of a
 * sub-batch lie back to back (M = sum of lengths rows), every dense layer
 * runs over those M rows, and attention runs per sequence over exactly its
 * own tokens.  That is the padding mask taken to its limit: a padded key
 * contributes exp(-inf) = 0 to the softmax, and no padded row is ever
 * computed.
 *
 *   x      = LayerNorm(word[id] + pos[p] + type[0]), p from 0 (BERT) or
 *            from pad_token_id + 1 (RoBERTa, XLM-R)
 *   layer: a = softmax(Q K^T / sqrt(d)) V per head, per sequence
 *          x = LayerNorm(x + a Wo^T + bo)
 *          x = LayerNorm(x + gelu(x Wi^T + bi) Wf^T + bf)
 *   pool   mean / cls / max / mean-sqrt-len / weighted mean over each
 *          sequence's rows,
 *          then x / max(|x|, 1e-12) when normalising.
 */
#ifndef RB_BERT_H
#define RB_BERT_H

#include "common/error.h"
#include "embed/bert/matmul.h"
#include "embed/bert/model_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How the dense layers compute (embed.precision): FP32, or int8 products
 * with int32 accumulation (embed/bert/int8.h) and FP32 everywhere else. */
typedef enum rb_precision { RB_PRECISION_FP32 = 0, RB_PRECISION_INT8 } rb_precision;

typedef struct rb_bert rb_bert;
typedef struct rb_bert_state rb_bert_state;

/* Maps `weights_path` and checks every tensor against `cfg`; errors name
 * the file and the tensor. */
/* `pack`: also pack the dense layers' weights for the packed kernel
 * (RB_MATMUL_PACKED, embed/bert/packed.h); forward passes must then use that
 * kernel or a general one, and may use either.  `precision` INT8 (which
 * needs `pack` and rb_q8_available(); RB_ERR_ARG otherwise) quantises the
 * dense weights once, here; forward passes with the packed kernel then use
 * the int8 products. */
rb_bert *rb_bert_load(const char *weights_path, const rb_bert_config *cfg, bool pack,
                      rb_precision precision, rb_error *err);
rb_precision rb_bert_precision_of(const rb_bert *m);
void rb_bert_destroy(rb_bert *m); /* accepts NULL */
const rb_bert_config *rb_bert_config_of(const rb_bert *m);

/* Scratch for up to `max_tokens` packed tokens, sequences of at most
 * `max_seq` tokens, and `threads` OpenMP threads inside one pass. */
rb_bert_state *rb_bert_state_new(const rb_bert *m, size_t max_tokens, size_t max_seq,
                                 size_t threads);
void rb_bert_state_destroy(rb_bert_state *s); /* accepts NULL */

typedef struct rb_bert_run {
    rb_pooling pooling;
    bool normalize;
    rb_matmul_kernel kernel;
    /* OpenMP threads inside this pass (1 = none).  With the packed kernel
     * and at most 512 tokens, the pass is one parallel region (each thread
     * its own heads, then panels of each product, four barriers a layer);
     * larger passes fork and join per product.  The vectors are the same
     * bit for bit whatever the thread count. */
    int threads;
} rb_bert_run;

/* Encodes `nseq` sequences whose ids are packed in `ids` (lens[i] ids for
 * sequence i) and writes nseq * hidden floats to `out`.  Fails (RB_ERR_ARG)
 * if the sequences exceed the state's capacity or an id is out of range. */
int rb_bert_forward(const rb_bert *m, rb_bert_state *s, const int32_t *ids, const size_t *lens,
                    size_t nseq, const rb_bert_run *run, float *out, rb_error *err);

#endif
