/*
 * embedder.h -- the embedding stage's interface, shared by the runner, the
 * `embed` verb and the search command.
 *
 * An embedder turns texts into fixed-size float vectors.  Providers (the
 * local BERT model, the HTTP providers openai and tei) implement
 * rb_embedder_ops and are created by their own constructor, or by
 * rb_embedder_new() from rb_embed_opts; callers use only the functions
 * below, never a provider's own headers.  One embedder is used by one thread at a time; a provider may use
 * several threads inside a call (OpenMP for the local model).
 */
#ifndef RB_EMBEDDER_H
#define RB_EMBEDDER_H

#include "common/error.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_embedder rb_embedder;

typedef struct rb_embedder_ops {
    const char *provider; /* "local", "openai", ... */
    /* Writes n * dim floats to `out`, row i for texts[i]. */
    int (*embed)(void *impl, const char *const *texts, size_t n, float *out, rb_error *err);
    void (*destroy)(void *impl);
    /* Optional (NULL: a call always runs to its end): remembers the cancel
     * flag of rb_embedder_set_cancel(), which the provider reads (from any
     * of its threads) where it can stop early. */
    void (*set_cancel)(void *impl, const atomic_int *cancel);
    /* Optional (NULL: the provider's tokens are not known here): the
     * tokenizer the provider encodes with and the most tokens one text may
     * have, [CLS] and [SEP] included (see rb_embedder_tokenizer()). */
    const struct rb_tokenizer *(*tokenizer)(const void *impl, size_t *max_seq);
    /* Optional (NULL: nothing to tell, as for HTTP providers): the matrix
     * kernel and precision a local model computes with (static strings). */
    void (*engine)(const void *impl, const char **kernel, const char **precision);
} rb_embedder_ops;

/* Wraps a provider implementation.  Takes ownership of `impl` (destroyed
 * with ops->destroy even if this call fails).  `model_name` is copied. */
rb_embedder *rb_embedder_wrap(const rb_embedder_ops *ops, void *impl, size_t dim,
                              const char *model_name, rb_error *err);

/* Embeds `n` texts (UTF-8, NUL-terminated) into `out` (n * dim floats).
 * Vectors are L2-normalised when the model's pooling asks for it. */
int rb_embedder_embed(rb_embedder *e, const char *const *texts, size_t n, float *out,
                      rb_error *err);

/* Makes embedding interruptible (a shutdown that must not wait for a large
 * batch): once *cancel is non-zero, a call in progress stops where its
 * provider can -- the local model between sub-batches, the HTTP providers
 * between requests and while waiting for answers or backoffs -- and fails
 * with RB_ERR_EMBED (not retriable, no vectors); a call made while it is
 * non-zero fails at once.  The flag must outlive the embedder or be removed
 * with NULL. */
void rb_embedder_set_cancel(rb_embedder *e, const atomic_int *cancel);

/* The tokenizer of a local model (borrowed: valid while the embedder
 * lives) and in *max_seq its sequence limit, [CLS] and [SEP] included; a
 * text with more tokens is truncated.  NULL (and *max_seq = 0) for HTTP
 * providers, whose tokenizer is on the server. */
const struct rb_tokenizer *rb_embedder_tokenizer(const rb_embedder *e, size_t *max_seq);

/* Puts `prefix` before every text this embedder embeds from now on (the
 * "passage: " / "query: " that e5 models need, a bge instruction); NULL or
 * "" removes it.  The model name becomes NAME + " prefix=\"...\"" while a
 * prefix is set, so that vectors stored under another prefix (or none)
 * are never reused as if equal.  The prefix is copied; its tokens count
 * against the model's max_seq_length like the text's. */
int rb_embedder_set_prefix(rb_embedder *e, const char *prefix, rb_error *err);
/* The kernel ("packed", "openblas", "builtin") and precision ("fp32",
 * "int8") of a local model; "-" for both with HTTP providers. */
void rb_embedder_engine(const rb_embedder *e, const char **kernel, const char **precision);

size_t rb_embedder_dim(const rb_embedder *e);
const char *rb_embedder_model_name(const rb_embedder *e);
const char *rb_embedder_provider(const rb_embedder *e);
void rb_embedder_destroy(rb_embedder *e); /* accepts NULL */

/* Options of the local BERT provider.  Zero-initialise, then set what
 * matters: every zero means "the default". */
typedef struct rb_local_embed_opts {
    const char *model_dir;   /* Hugging Face / sentence-transformers layout */
    int threads;             /* 0 = OpenMP default */
    size_t batch_size;       /* texts per forward pass; 0 = 32 */
    size_t max_seq_length;   /* 0 = the model's own (sentence_bert_config.json);
                               larger than the model's own is an error */
    size_t max_batch_tokens; /* tokens per forward pass (bounds scratch
                                memory); 0 = 2048, never below max_seq_length */
    const char *kernel;      /* matrix kernel: NULL or "" for the fastest this
                               build and CPU run, else "packed", "openblas"
                               or "builtin" (see embed/bert/matmul.h) */
    const char *precision;   /* dense layers: NULL, "" or "fp32"; or "int8"
                               (embed/bert/int8.h), which needs the packed
                               kernel and AVX512-VNNI and is refused with the
                               missing CPU feature named where they lack */
} rb_local_embed_opts;

/* The model name the local provider gives vectors of `precision` (NULL,
 * "" or "fp32": the bare name; "int8": name + RB_EMBED_INT8_MARK), so that
 * reuse, which compares stored model names, never takes a vector of one
 * precision for the other. */
#define RB_EMBED_INT8_MARK "@int8"

/* Loads a local BERT-family model (see src/embed/bert/local.c for the threading
 * model).  Errors (RB_ERR_MODEL) name the missing or inconsistent file. */
rb_embedder *rb_embedder_local_new(const rb_local_embed_opts *opts, rb_error *err);

/* Options of the HTTP providers (openai, tei; see src/embed/http/http_embed.c).
 * Start from the job table's defaults (rb_runner_http_embed_defaults in
 * runner/embed_opts.h, or a job's embed.* keys through rb_runner_embed_opts)
 * and set what matters: rb_embedder_http_new keeps no defaults of its own
 * and refuses a count or a time below 1 (retries: below 0) naming the
 * option.  Strings are copied; the API key is held only in memory and never
 * appears in a message, a log line or an error. */
typedef struct rb_http_embed_opts {
    const char *provider;       /* "openai" or "tei" */
    const char *url;            /* base URL (see embed.url) */
    const char *model;          /* model name sent (openai); may be NULL for tei */
    const char *api_key;        /* NULL or "": no authentication */
    const char *api_version;    /* Azure OpenAI api-version; NULL or "" otherwise */
    size_t dimensions;          /* expected vector size; 0 = learn it from a probe */
    int concurrency;            /* requests in flight */
    long timeout_ms;            /* per request */
    int retries;                /* retries after 429/5xx/timeout; 0 = none */
    long backoff_ms;            /* first retry wait */
    long backoff_max_ms;        /* longest retry wait */
    size_t batch_size;          /* texts per request */
    size_t batch_max_tokens;    /* approximate tokens (bytes / 4) per request */
    double requests_per_minute; /* client-side limit; 0 = none */
    double tokens_per_minute;   /* client-side limit; 0 = none */
    int tls_verify;             /* nonzero: verify peer and host */
    const char *ca_file;        /* NULL or "": the system's CA bundle */
} rb_http_embed_opts;

/* Creates an HTTP provider.  With dimensions == 0 it embeds one probe text
 * to learn the vector size, so a wrong URL, key or model fails here.
 * Errors are RB_ERR_EMBED / RB_ERR_HTTP, stage RB_STAGE_EMBED, naming the
 * provider and the URL without credentials. */
rb_embedder *rb_embedder_http_new(const rb_http_embed_opts *opts, rb_error *err);

/* Reads the API key named by a job: from environment variable `env_name`
 * or file `path` (one of them non-empty, or neither: *out = NULL).  The
 * file's trailing white space is dropped.  Errors name the variable or the
 * file, never the key.  The caller frees *out. */
int rb_embed_api_key_read(const char *env_name, const char *path, char **out, rb_error *err);

/* The embedder to build: the provider and its options, filled by the
 * caller from its own configuration (a job's embed.* keys: see
 * runner/embed_opts.h).  Strings are borrowed for the call. */
typedef struct rb_embed_opts {
    const char *provider;      /* "local", "openai" or "tei" */
    rb_local_embed_opts local; /* for "local" */
    rb_http_embed_opts http;   /* for the others; rb_embedder_new sets its provider and
                                   api_key */
    const char *api_key_env;   /* the API key's environment variable; NULL or "" */
    const char *api_key_file;  /* or the file holding it; NULL or "" */
} rb_embed_opts;

/* Creates the embedder `opts` asks for: the local model (errors prefixed
 * "embed.model.dir"), or an HTTP provider with the API key read as
 * rb_embed_api_key_read() does (it is wiped once the provider has it). */
rb_embedder *rb_embedder_new(const rb_embed_opts *opts, rb_error *err);

/* The size of the vectors rb_embedder_new(opts) would make, known without
 * loading weights or calling a provider (`ragbatch index`): the local
 * model's hidden size, from its config.json; an HTTP provider's
 * http.dimensions.  An HTTP provider whose size it would only learn from a
 * probe (dimensions 0) is an RB_ERR_CONFIG error naming embed.dimensions;
 * a model directory without a valid config.json an RB_ERR_MODEL error
 * naming the file. */
int rb_embed_opts_dim(const rb_embed_opts *opts, size_t *dim, rb_error *err);

/* The local model's tokenizer alone, without weights (`ragbatch embed
 * --tokens`).  Immutable once made; any number of threads may encode. */
typedef struct rb_embed_tokenizer rb_embed_tokenizer;

/* Loads the tokenizer of the model in `model_dir` (errors name the file). */
rb_embed_tokenizer *rb_embed_tokenizer_new(const char *model_dir, rb_error *err);

/* The model's sequence limit, [CLS] and [SEP] included. */
size_t rb_embed_tokenizer_max_seq(const rb_embed_tokenizer *t);

/* The ids of `text` (NUL-terminated), at most `max_seq` (>= 2) of them,
 * into `ids`; *n receives the count.  Fails only when memory runs out or
 * max_seq < 2. */
int rb_embed_tokenize(const rb_embed_tokenizer *t, const char *text, size_t max_seq, int32_t *ids,
                      size_t *n, rb_error *err);

void rb_embed_tokenizer_destroy(rb_embed_tokenizer *t); /* accepts NULL */

#endif
