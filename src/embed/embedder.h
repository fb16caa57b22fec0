/*
 * embedder.h -- the embedding stage's interface, shared by the runner, the
 * `embed` verb and the search command.
 *
 * An embedder turns texts into fixed-size float vectors.  Providers (the
 * local BERT model here; HTTP providers later) implement rb_embedder_ops
 * and are created by their own constructor; callers use only the functions
 * below.  One embedder is used by one thread at a time; a provider may use
 * several threads inside a call (OpenMP for the local model).
 */
#ifndef RB_EMBEDDER_H
#define RB_EMBEDDER_H

#include "common/error.h"

#include <stddef.h>

typedef struct rb_embedder rb_embedder;

typedef struct rb_embedder_ops {
    const char *provider; /* "local", "openai", ... */
    /* Writes n * dim floats to `out`, row i for texts[i]. */
    int (*embed)(void *impl, const char *const *texts, size_t n, float *out, rb_error *err);
    void (*destroy)(void *impl);
} rb_embedder_ops;

/* Wraps a provider implementation.  Takes ownership of `impl` (destroyed
 * with ops->destroy even if this call fails).  `model_name` is copied. */
rb_embedder *rb_embedder_wrap(const rb_embedder_ops *ops, void *impl, size_t dim,
                              const char *model_name, rb_error *err);

/* Embeds `n` texts (UTF-8, NUL-terminated) into `out` (n * dim floats).
 * Vectors are L2-normalised when the model's pooling asks for it. */
int rb_embedder_embed(rb_embedder *e, const char *const *texts, size_t n, float *out,
                      rb_error *err);

size_t rb_embedder_dim(const rb_embedder *e);
const char *rb_embedder_model_name(const rb_embedder *e);
const char *rb_embedder_provider(const rb_embedder *e);
void rb_embedder_destroy(rb_embedder *e); /* accepts NULL */

/* Options of the local BERT provider.  Zero-initialise, then set what
 * matters: every zero means "the default". */
typedef struct rb_local_embed_opts {
    const char *model_dir;  /* Hugging Face / sentence-transformers layout */
    int threads;            /* 0 = OpenMP default */
    size_t batch_size;      /* texts per forward pass; 0 = 32 */
    size_t max_seq_length;  /* 0 = the model's own (sentence_bert_config.json);
                               larger than the model's own is an error */
    size_t max_batch_tokens; /* tokens per forward pass (bounds scratch
                                memory); 0 = 2048, never below max_seq_length */
    int builtin_kernel;     /* nonzero: the built-in matrix kernel even when
                               OpenBLAS is compiled in (tests, benchmark) */
} rb_local_embed_opts;

/* Loads a local BERT-family model (see src/embed/local.c for the threading
 * model).  Errors (RB_ERR_MODEL) name the missing or inconsistent file. */
rb_embedder *rb_embedder_local_new(const rb_local_embed_opts *opts, rb_error *err);

#endif
