/*
 * aggregate.c -- aggregations and commands given as JSON text, for the
 * search side ($vectorSearch, $listSearchIndexes, createSearchIndexes,
 * dropSearchIndex).  The JSON comes from src/search's builders; it is
 * parsed with libbson here so no BSON type leaves the sink.
 */
#include "sink/sink_internal.h"

#include <stdlib.h>
#include <string.h>

/* A server refusal carries the server's code; a client-side failure
 * (connection, timeout) does not. */
static void set_code(int *server_code, const bson_error_t *e) {
    if (!server_code) return;
    *server_code = (e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_QUERY ||
                    e->domain == MONGOC_ERROR_WRITE_CONCERN)
                       ? (int)e->code
                       : 0;
}

/* Parses `{"pipeline": <json>}` so that a JSON array can be passed as is. */
static bson_t *pipeline_from_json(const char *json, rb_error *err) {
    size_t n = strlen(json);
    char *wrapped = malloc(n + 16);
    if (!wrapped) {
        rb_error_nomem(err, RB_STAGE_SINK, "pipeline");
        return NULL;
    }
    memcpy(wrapped, "{\"pipeline\":", 12);
    memcpy(wrapped + 12, json, n);
    memcpy(wrapped + 12 + n, "}", 2);
    bson_error_t e;
    bson_t *b = bson_new_from_json((const uint8_t *)wrapped, -1, &e);
    free(wrapped);
    if (!b) rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_SINK, "bad pipeline JSON: %s", e.message);
    return b;
}

typedef int (*doc_fn)(const bson_t *doc, void *ctx);

static int run_aggregate(rb_sink *s, const char *pipeline_json, doc_fn fn, void *ctx,
                         int *server_code, rb_error *err) {
    if (server_code) *server_code = 0;
    bson_t *pipeline = pipeline_from_json(pipeline_json, err);
    if (!pipeline) return -1;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, s->database, s->collection);
    mongoc_cursor_t *cur =
        mongoc_collection_aggregate(coll, MONGOC_QUERY_NONE, pipeline, NULL, NULL);
    const bson_t *doc;
    int rc = 0;
    while (rc == 0 && mongoc_cursor_next(cur, &doc)) rc = fn(doc, ctx);
    bson_error_t e;
    if (rc == 0 && mongoc_cursor_error(cur, &e)) {
        set_code(server_code, &e);
        rb_sink_mongo_error(err, &e, "aggregation failed");
        rc = rb_sink_in_collection(s, err);
    }
    if (rc > 0) rc = 0; /* stopped by the callback */
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(pipeline);
    return rc;
}

typedef struct hit_ctx {
    rb_sink_hit_fn fn;
    void *ctx;
} hit_ctx;

/* The result's `chunks` array into `out` (RB_SINK_HIT_CHUNKS_MAX at most);
 * elements without a `chunk` are not chunks and are left out. */
static size_t read_chunks(const bson_t *doc, rb_sink_hit_chunk *out) {
    bson_iter_t it, arr;
    size_t n = 0;
    if (!bson_iter_init_find(&it, doc, "chunks") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return 0;
    while (n < RB_SINK_HIT_CHUNKS_MAX && bson_iter_next(&arr)) {
        uint32_t len;
        const uint8_t *data;
        bson_t el;
        bson_iter_t f;
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr)) continue;
        bson_iter_document(&arr, &len, &data);
        if (!bson_init_static(&el, data, len)) continue;
        rb_sink_hit_chunk *c = &out[n];
        *c = (rb_sink_hit_chunk){.text = ""};
        if (!rb_sink_read_chunk_span(&el, &c->index, &c->start, &c->end, &c->tokens)) continue;
        if (bson_iter_init_find(&f, &el, "text") && BSON_ITER_HOLDS_UTF8(&f))
            c->text = bson_iter_utf8(&f, NULL);
        if (bson_iter_init_find(&f, &el, "score") && BSON_ITER_HOLDS_NUMBER(&f))
            c->score = bson_iter_as_double(&f);
        n++;
    }
    return n;
}

static int on_hit_doc(const bson_t *doc, void *arg) {
    hit_ctx *h = arg;
    rb_sink_hit_view v = {.text = "", .metadata_json = "{}"};
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
        v.id = bson_iter_utf8(&it, NULL);
    if (!v.id) return 0; /* not a document ragbatch wrote */
    if (bson_iter_init_find(&it, doc, "text") && BSON_ITER_HOLDS_UTF8(&it))
        v.text = bson_iter_utf8(&it, NULL);
    if (bson_iter_init_find(&it, doc, "score") && BSON_ITER_HOLDS_NUMBER(&it))
        v.score = bson_iter_as_double(&it);
    v.chunked = rb_sink_read_chunk_span(doc, &v.chunk_index, &v.chunk_start, &v.chunk_end,
                                        &v.chunk_tokens);
    rb_sink_hit_chunk chunks[RB_SINK_HIT_CHUNKS_MAX];
    v.n_chunks = read_chunks(doc, chunks);
    v.chunks = v.n_chunks ? chunks : NULL;
    char *meta = NULL;
    if (bson_iter_init_find(&it, doc, "metadata") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
        uint32_t len;
        const uint8_t *data;
        bson_t sub;
        bson_iter_document(&it, &len, &data);
        if (bson_init_static(&sub, data, len)) meta = bson_as_relaxed_extended_json(&sub, NULL);
    }
    if (meta) v.metadata_json = meta;
    int rc = h->fn(&v, h->ctx) != 0 ? 1 : 0;
    bson_free(meta);
    return rc;
}

int rb_sink_aggregate_hits(rb_sink *s, const char *pipeline_json, rb_sink_hit_fn fn, void *ctx,
                           int *server_code, rb_error *err) {
    hit_ctx h = {fn, ctx};
    return run_aggregate(s, pipeline_json, on_hit_doc, &h, server_code, err);
}

typedef struct json_ctx {
    char *text;
    size_t len;
    bool nomem;
} json_ctx;

static int append(json_ctx *j, const char *p, size_t n) {
    char *grown = realloc(j->text, j->len + n + 1);
    if (!grown) {
        j->nomem = true;
        return -1;
    }
    memcpy(grown + j->len, p, n);
    j->len += n;
    grown[j->len] = '\0';
    j->text = grown;
    return 0;
}

static int on_json_doc(const bson_t *doc, void *arg) {
    json_ctx *j = arg;
    size_t n;
    char *one = bson_as_relaxed_extended_json(doc, &n);
    int rc = !one || append(j, j->len > 1 ? "," : "", j->len > 1 ? 1 : 0) != 0 ||
             append(j, one, n) != 0;
    bson_free(one);
    if (rc) j->nomem = true;
    return rc;
}

int rb_sink_aggregate_json(rb_sink *s, const char *pipeline_json, char **out, int *server_code,
                           rb_error *err) {
    json_ctx j = {0};
    *out = NULL;
    if (append(&j, "[", 1) != 0) return rb_error_nomem(err, RB_STAGE_SINK, "aggregation result");
    if (run_aggregate(s, pipeline_json, on_json_doc, &j, server_code, err) != 0 || j.nomem ||
        append(&j, "]", 1) != 0) {
        bool nomem = j.nomem;
        free(j.text);
        return nomem ? rb_error_nomem(err, RB_STAGE_SINK, "aggregation result") : -1;
    }
    *out = j.text;
    return 0;
}

int rb_sink_command_json(rb_sink *s, const char *command_json, char **reply, int *server_code,
                         rb_error *err) {
    if (server_code) *server_code = 0;
    if (reply) *reply = NULL;
    bson_error_t e;
    bson_t *cmd = bson_new_from_json((const uint8_t *)command_json, -1, &e);
    if (!cmd)
        return rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_SINK, "bad command JSON: %s",
                            e.message);
    bson_t r;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    bool ok = mongoc_client_command_simple(c, s->database, cmd, NULL, &r, &e);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(cmd);
    int rc = 0;
    if (!ok) {
        set_code(server_code, &e);
        rb_sink_mongo_error(err, &e, "command failed");
        rc = rb_sink_in_collection(s, err);
    } else if (reply) {
        char *j = bson_as_relaxed_extended_json(&r, NULL);
        if (j) *reply = strdup(j);
        bson_free(j);
        if (!*reply) rc = rb_error_nomem(err, RB_STAGE_SINK, "command reply");
    }
    bson_destroy(&r);
    return rc;
}
