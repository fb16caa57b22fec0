/*
 * read.c -- reading stored documents by _id: the stored versions a CAS or
 * LOOKUP write decides on, and the text hashes and vectors the reuse
 * lookup compares.  One read serves both (rb_sink_read_stored).
 *
 * The filter is {_id: {$in: [...]}} and nothing else, so that every server
 * that has an _id index uses it: mongo-java-server, for one, scans the
 * collection as soon as a filter names another field (deleted: {$ne:
 * true} included), so tombstones are told apart here, not in the filter.
 */
#include "sink/sink_internal.h"

#include <stdlib.h>
#include <string.h>

/* Keeps one find command well under the server's message limit. */
#define RB_SINK_READ_MAX_BYTES (4u * 1024 * 1024)

/* Grows *vec to hold `n` floats; false if memory runs out. */
static bool vec_reserve(float **vec, size_t *cap, size_t n) {
    if (n <= *cap) return true;
    size_t grown_cap = *cap ? *cap : 512;
    while (grown_cap < n) grown_cap *= 2;
    float *grown = realloc(*vec, grown_cap * sizeof *grown);
    if (!grown) return false;
    *vec = grown;
    *cap = grown_cap;
    return true;
}

/* A BSON binary vector (subtype 9) of dtype float32 (0x27): a dtype byte,
 * a padding byte (0 for float32), then little-endian IEEE 754 values. */
static size_t read_binary_vector(const bson_iter_t *it, float **vec, size_t *cap) {
    bson_subtype_t subtype;
    uint32_t len;
    const uint8_t *data;
    bson_iter_binary(it, &subtype, &len, &data);
    if ((int)subtype != 9 || len < 2 || data[0] != 0x27 || data[1] != 0 || (len - 2) % 4) return 0;
    size_t n = (len - 2) / 4;
    if (!vec_reserve(vec, cap, n)) return 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = data + 2 + 4 * i;
        uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 24;
        memcpy(&(*vec)[i], &bits, sizeof bits);
    }
    return n;
}

size_t rb_sink_read_vector(const bson_t *doc, float **vec, size_t *cap) {
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, doc, "embedding")) return 0;
    if (BSON_ITER_HOLDS_BINARY(&it)) return read_binary_vector(&it, vec, cap);
    if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr)) return 0;
    size_t n = 0;
    while (bson_iter_next(&arr)) {
        if (!BSON_ITER_HOLDS_NUMBER(&arr) || !vec_reserve(vec, cap, n + 1)) return 0;
        (*vec)[n++] = (float)bson_iter_as_double(&arr);
    }
    return n;
}

static void projection(bson_t *opts, unsigned what) {
    bson_t proj;
    BSON_APPEND_DOCUMENT_BEGIN(opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "version", 1);
    BSON_APPEND_INT32(&proj, "deleted", 1);
    if (what & RB_SINK_READ_VECTORS) {
        BSON_APPEND_INT32(&proj, "text_hash", 1);
        BSON_APPEND_INT32(&proj, "model", 1);
        BSON_APPEND_INT32(&proj, "embedding", 1);
    }
    if (what & RB_SINK_READ_OWN) {
        BSON_APPEND_INT32(&proj, "ingested_at", 1);
        BSON_APPEND_INT32(&proj, "source", 1);
    }
    bson_append_document_end(opts, &proj);
}

static const char *utf8_of(const bson_t *doc, const char *key) {
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it)
               ? bson_iter_utf8(&it, NULL)
               : NULL;
}

/* A stored document without a numeric version counts as newest, as it
 * does for the filter {version: {$lt: v}}. */
static void view_of(const bson_t *doc, unsigned what, float **vec, size_t *cap,
                    rb_sink_read_doc *d) {
    bson_iter_t it;
    memset(d, 0, sizeof *d);
    d->id = utf8_of(doc, "_id");
    d->version = INT64_MAX;
    if (bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_NUMBER(&it))
        d->version = bson_iter_as_int64(&it);
    d->deleted = bson_iter_init_find(&it, doc, "deleted") && BSON_ITER_HOLDS_BOOL(&it) &&
                 bson_iter_bool(&it);
    d->ingested_ms = -1;
    d->offset = -1;
    if (what & RB_SINK_READ_OWN) {
        if (bson_iter_init_find(&it, doc, "ingested_at") && BSON_ITER_HOLDS_DATE_TIME(&it))
            d->ingested_ms = bson_iter_date_time(&it);
        if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "source.offset", &it) &&
            BSON_ITER_HOLDS_NUMBER(&it))
            d->offset = bson_iter_as_int64(&it);
    }
    if (what & RB_SINK_READ_VECTORS) {
        d->text_hash = utf8_of(doc, "text_hash");
        d->model = utf8_of(doc, "model");
        d->dim = rb_sink_read_vector(doc, vec, cap);
        d->vector = d->dim ? *vec : NULL;
    }
}

/* One find for ids[0..n); returns 1 when `fn` asked to stop. */
static int read_chunk(const rb_sink *s, mongoc_collection_t *coll, const char *const *ids,
                      size_t n, unsigned what, rb_sink_read_fn fn, void *ctx, float **vec,
                      size_t *cap, rb_error *err) {
    bson_t filter = BSON_INITIALIZER, in, arr, opts = BSON_INITIALIZER;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (size_t i = 0; i < n; i++) {
        char key[16];
        const char *k;
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof key);
        BSON_APPEND_UTF8(&arr, k, ids[i]); /* ids are values, never operators */
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&filter, &in);
    projection(&opts, what);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    const bson_t *doc;
    int rc = 0;
    while (rc == 0 && mongoc_cursor_next(cur, &doc)) {
        rb_sink_read_doc d;
        view_of(doc, what, vec, cap, &d);
        if (d.id && fn(&d, ctx) != 0) rc = 1;
    }
    bson_error_t e;
    if (rc == 0 && mongoc_cursor_error(cur, &e)) {
        rb_sink_mongo_error(err, &e, "reading stored documents by _id failed");
        rc = rb_sink_in_collection(s, err);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

int rb_sink_read_ids(const rb_sink *s, mongoc_collection_t *coll, const char *const *ids, size_t n,
                     unsigned what, rb_sink_read_fn fn, void *ctx, size_t *reads, rb_error *err) {
    float *vec = NULL;
    size_t cap = 0;
    int rc = 0;
    for (size_t start = 0; rc == 0 && start < n;) {
        size_t end = start, bytes = 0;
        while (end < n && end - start < s->read_chunk &&
               (end == start || bytes + strlen(ids[end]) + 16 <= RB_SINK_READ_MAX_BYTES))
            bytes += strlen(ids[end++]) + 16;
        rc = read_chunk(s, coll, ids + start, end - start, what, fn, ctx, &vec, &cap, err);
        if (reads) (*reads)++;
        start = end;
    }
    free(vec);
    return rc > 0 ? 0 : rc;
}

typedef struct public_ctx {
    rb_sink_stored_fn fn;
    void *ctx;
    bool live_only;
} public_ctx;

static int to_public(const rb_sink_read_doc *d, void *arg) {
    const public_ctx *p = arg;
    if (p->live_only && (d->deleted || !d->text_hash || !d->model || !d->dim)) return 0;
    rb_sink_stored_view v = {.id = d->id,
                             .text_hash = d->text_hash,
                             .model = d->model,
                             .vector = d->vector,
                             .dim = d->dim,
                             .version = d->version,
                             .deleted = d->deleted};
    return p->fn(&v, p->ctx);
}

static int read_public(rb_sink *s, const char *const *ids, size_t n, unsigned what, bool live_only,
                       rb_sink_stored_fn fn, void *ctx, rb_error *err) {
    public_ctx p = {fn, ctx, live_only};
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, s->database, s->collection);
    int rc =
        rb_sink_read_ids(s, coll, ids, n, what & RB_SINK_READ_VECTORS, to_public, &p, NULL, err);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    return rc;
}

int rb_sink_read_stored(rb_sink *s, const char *const *ids, size_t n, unsigned what,
                        rb_sink_stored_fn fn, void *ctx, rb_error *err) {
    return read_public(s, ids, n, what, false, fn, ctx, err);
}

int rb_sink_lookup_stored(rb_sink *s, const char *const *ids, size_t n, rb_sink_stored_fn fn,
                          void *ctx, rb_error *err) {
    return read_public(s, ids, n, RB_SINK_READ_VECTORS, true, fn, ctx, err);
}
