/*
 * http_proto.h -- the wire formats of the HTTP embedding providers
 * (private to the embed module; http_embed.c does the transport).
 *
 * A protocol builds the request URL and body for a slice of texts and
 * parses the provider's answer into rows of floats.  Parsing checks
 * everything the runner relies on: one vector per input (in input order,
 * by "index" where the format has one), every vector of the expected size,
 * every element a finite number that fits a float.  Errors (RB_ERR_EMBED,
 * stage embed, not retriable) say what was wrong with the answer; the
 * caller prefixes the provider and URL.
 */
#ifndef RB_HTTP_PROTO_H
#define RB_HTTP_PROTO_H

#include "common/buf.h"
#include "common/error.h"
#include "json/json.h"

#include <stddef.h>

typedef struct rb_http_proto {
    const char *name;
    /* The endpoint for base URL `base` (api_version: Azure, may be ""). */
    int (*url)(const char *base, const char *api_version, rb_buf *out);
    /* The JSON request for texts[0..n). dims 0: not sent. */
    int (*body)(const char *model, size_t dims, const char *const *texts, size_t n, rb_buf *out);
    /* Fills out[n * *dim]; *dim 0 on entry: learn it from the answer (out
     * must then be NULL and only *dim is set). */
    int (*parse)(const rb_json *root, size_t n, size_t *dim, float *out, rb_error *err);
    /* The same reading of a well-formed answer straight from its bytes
     * (http_fast.c), tried first once the size is known: 1 when it filled
     * out[n * dim], 0 when it declines (then `parse` reads the answer and
     * reports what is wrong with it; out may hold partial rows). */
    int (*fast)(const char *body, size_t len, size_t n, size_t dim, float *out);
} rb_http_proto;

extern const rb_http_proto rb_http_proto_openai;
extern const rb_http_proto rb_http_proto_tei;

/* The fast readers (http_fast.c) of the two formats.  They accept a strict
 * subset of JSON (printable-ASCII strings without escapes, at most 16
 * members per object, no duplicate keys, nesting up to 16) holding exactly
 * n vectors of dim finite float-range numbers, placed as `parse` places
 * them, and convert every number to the float `parse` would give.  Anything
 * else returns 0 without error: the caller falls back to `parse`. */
int rb_http_fast_openai(const char *body, size_t len, size_t n, size_t dim, float *out);
int rb_http_fast_tei(const char *body, size_t len, size_t n, size_t dim, float *out);

/* Reads one vector (a JSON array of numbers) into `out` (may be NULL when
 * only checking).  *dim 0 on entry takes the array's size.  `what` names
 * the vector in errors ("vector 3"). */
int rb_http_proto_vector(const rb_json *v, size_t *dim, float *out, const char *what,
                         rb_error *err);

/* The provider's own words from an error answer: error.message (OpenAI),
 * error (TEI, HF), message or detail; otherwise the body's first bytes with
 * control characters replaced.  Appends to `out`. */
int rb_http_proto_message(const char *body, size_t len, rb_buf *out);

/* Whether the provider's message says the request was too large (too
 * many tokens or inputs), which a smaller request cures. */
int rb_http_proto_too_large(const char *message);

#endif
