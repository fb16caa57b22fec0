/*
 * embed_server.h -- a test server speaking the OpenAI embeddings protocol
 * (POST .../embeddings) and Text Embeddings Inference's (POST /embed), on a
 * loopback port, for the HTTP embedding suites and benchmark.
 *
 * Vectors are deterministic: es_vector() seeds a small PRNG with a hash of
 * the text and normalises the result, so a test computes the expected
 * vector itself.  The server answers each connection on its own thread
 * (HTTP/1.1 keep-alive, Content-Length bodies).  A test tells it how to
 * misbehave through es_faults (the next N requests answer 429 with
 * Retry-After, 500, slowly, with bad JSON, a wrong dimension, a NaN, a
 * wrong count, an error echoing the credentials, or "too large" above a
 * number of inputs: 413 for openai, 422 with TEI's words for /embed) and reads es_stats (requests, inputs, time of every request, most
 * in flight, the last Authorization header).  All of it sits behind the
 * server's mutex: use es_server_faults_set / es_server_stats.
 */
#ifndef ES_EMBED_SERVER_H
#define ES_EMBED_SERVER_H

#include <stddef.h>

typedef struct es_faults {
    int n429;             /* the next n requests: 429 */
    char retry_after[64]; /* Retry-After of those ("" = none) */
    int n500;             /* the next n requests: 500 */
    int nslow;            /* the next n requests: wait slow_ms first */
    int slow_ms;
    int delay_ms;    /* every request waits this long (latency model) */
    int nbadjson;    /* the next n: truncated JSON */
    int nwrongdim;   /* the next n: vectors one element short */
    int nnan;        /* the next n: a NaN literal in a vector */
    int nwrongcount; /* the next n: one vector missing */
    int n401;        /* the next n: 401 quoting the Authorization header */
    int max_inputs;  /* more inputs: too large (0 = no limit, <0 = always) */
    int reverse;     /* answer "data" in reverse order (index kept) */
} es_faults;

#define ES_MAX_TIMES 100000

typedef struct es_stats {
    size_t requests;  /* every POST, refused ones included */
    size_t inputs;    /* inputs of every POST */
    size_t ok_inputs; /* inputs answered with vectors */
    size_t max_in_flight;
    size_t max_batch;    /* most inputs in one request */
    char last_auth[256]; /* last Authorization or api-key header */
    char last_path[256];
    char last_body_head[256];
} es_stats;

typedef struct es_server es_server;

/* Starts on 127.0.0.1, port 0 = any free port; vectors have `dim`
 * elements.  Returns NULL on failure (errno set). */
es_server *es_server_start(int port, size_t dim);
int es_server_port(const es_server *s);
void es_server_faults_set(es_server *s, const es_faults *f);
void es_server_stats(es_server *s, es_stats *out);
/* Seconds (monotonic) of request i, for window checks; n = how many. */
size_t es_server_times(es_server *s, double *out, size_t max);
void es_server_reset_stats(es_server *s);
void es_server_stop(es_server *s); /* accepts NULL */

/* The vector the server answers for `text`. */
void es_vector(const char *text, size_t dim, float *out);

#endif
