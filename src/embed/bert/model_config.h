/*
 * model_config.h -- reads a sentence-transformers BERT model directory's
 * settings.
 *
 * Files read (all JSON through the project's JSON module):
 *   config.json                 encoder shape (required; model_type "bert",
 *                               "roberta" or "xlm-roberta", absolute
 *                               positions, hidden_act gelu; for the RoBERTa
 *                               family pad_token_id, which offsets the
 *                               positions)
 *   tokenizer.json              the tokenizer, when present (embed/bert/
 *                               tokenizer.h says what is read); then
 *                               vocab.txt and the tokenizer options below
 *                               are not used
 *   vocab.txt                   the tokenizer otherwise
 *   tokenizer_config.json       do_lower_case, strip_accents,
 *                               tokenize_chinese_chars, special tokens
 *                               (optional: BertTokenizer defaults)
 *   special_tokens_map.json     special tokens (optional)
 *   modules.json                the sentence-transformers pipeline: which
 *                               folder holds the Pooling module, and whether
 *                               a Normalize module follows (required)
 *   <pooling>/config.json       pooling mode (required; the pooling_mode_*
 *                               booleans, or sentence-transformers 6's
 *                               "pooling_mode" string)
 *   sentence_bert_config.json   max_seq_length and do_lower_case (optional:
 *                               then max_seq_length is the smaller of the
 *                               tokenizer's model_max_length and
 *                               max_position_embeddings, as
 *                               sentence-transformers does)
 * Any file that is missing when required, malformed, or inconsistent with
 * another (pooling dimension vs hidden_size, max_seq_length vs positions,
 * hidden_size vs heads) is an RB_ERR_MODEL error whose message starts with
 * the file's path.  Nothing is guessed beyond the documented defaults.
 *
 * rb_model_config is a plain value; rb_model_config_free() releases the
 * strings it owns.
 */
#ifndef RB_MODEL_CONFIG_H
#define RB_MODEL_CONFIG_H

#include "common/error.h"
#include "embed/bert/tokenizer.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum rb_pooling {
    RB_POOL_MEAN = 0,      /* mean over tokens under the attention mask */
    RB_POOL_CLS,           /* the [CLS] token's vector */
    RB_POOL_MAX,           /* per-dimension maximum over tokens */
    RB_POOL_MEAN_SQRT_LEN, /* sum / sqrt(token count) */
    RB_POOL_WEIGHTED_MEAN  /* token i (from 1) weighs i: sum(i x_i) / sum(i) */
} rb_pooling;

typedef enum rb_activation { RB_ACT_GELU_ERF = 0, RB_ACT_GELU_TANH } rb_activation;

typedef struct rb_bert_config {
    size_t vocab_size;
    size_t hidden;        /* hidden_size */
    size_t layers;        /* num_hidden_layers */
    size_t heads;         /* num_attention_heads */
    size_t intermediate;  /* intermediate_size */
    size_t max_positions; /* max_position_embeddings */
    size_t type_vocab;    /* type_vocab_size */
    float ln_eps;         /* layer_norm_eps */
    rb_activation act;
    /* RoBERTa family: the padding token's id; token p (from 0) of a
     * sequence without padding sits at position pad_id + 1 + p.  -1: BERT,
     * positions from 0. */
    int32_t pad_id;
} rb_bert_config;

typedef struct rb_model_config {
    rb_bert_config bert;
    rb_tokenizer_opts tok; /* token strings point into the owned copies below */
    rb_pooling pooling;
    bool normalize; /* a Normalize module follows pooling */
    size_t max_seq_length;
    bool tokenizer_json; /* the directory has a tokenizer.json */
    char *name;          /* the directory's base name */
    char *special[5];    /* owned token strings: unk, cls, sep, pad, mask */
} rb_model_config;

/* Loads every settings file of `dir`.  On failure `out` holds nothing to free. */
int rb_model_config_load(const char *dir, rb_model_config *out, rb_error *err);
void rb_model_config_free(rb_model_config *c);

/* The tokenizer `c` (loaded from `dir`) describes: tokenizer.json when
 * present, else vocab.txt with c->tok; checked against the embedding rows. */
rb_tokenizer *rb_model_tokenizer_open(const char *dir, const rb_model_config *c, rb_error *err);

/* Positions a sequence may use: max_position_embeddings, less the
 * RoBERTa offset. */
size_t rb_bert_config_max_seq(const rb_bert_config *b);

/* The tokenizer of a model directory (as rb_model_tokenizer_open);
 * *max_seq_length (if not NULL) receives the model's sequence limit. */
rb_tokenizer *rb_model_tokenizer_load(const char *dir, size_t *max_seq_length, rb_error *err);

/* Joins `dir` and `file` into a new string; NULL when memory runs out. */
char *rb_model_path(const char *dir, const char *file);

#endif
