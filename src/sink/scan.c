/*
 * scan.c -- streaming the stored documents back out, for the exact search
 * and for tools that read what the job wrote.
 */
#include "sink/sink_internal.h"

#include <stdlib.h>
#include <string.h>

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
 * a padding byte (0 for float32), then little-endian IEEE 754 values.
 * Atlas indexes this form too, and FerretDB reads it ~20x faster than an
 * array of doubles (bench/README.md, "Search"). */
static size_t read_binary_vector(const bson_iter_t *it, float **vec, size_t *cap) {
    bson_subtype_t subtype;
    uint32_t len;
    const uint8_t *data;
    bson_iter_binary(it, &subtype, &len, &data);
    if ((int)subtype != 9 || len < 2 || data[0] != 0x27 || data[1] != 0 || (len - 2) % 4)
        return 0;
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

/* Copies the vector `embedding` of `doc` (an array of numbers, or a binary
 * float32 vector) into *vec (grown as needed); returns its length, or 0 if
 * the field is missing or holds anything else. */
static size_t read_vector(const bson_t *doc, float **vec, size_t *cap) {
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, doc, "embedding")) return 0;
    if (BSON_ITER_HOLDS_BINARY(&it)) return read_binary_vector(&it, vec, cap);
    if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr)) return 0;
    size_t n = 0;
    while (bson_iter_next(&arr)) {
        if (!BSON_ITER_HOLDS_NUMBER(&arr)) return 0;
        if (!vec_reserve(vec, cap, n + 1)) return 0;
        (*vec)[n++] = (float)bson_iter_as_double(&arr);
    }
    return n;
}

int rb_sink_scan(rb_sink *s, const rb_sink_scan_opts *opts, rb_sink_scan_fn fn, void *ctx,
                 rb_error *err) {
    bson_t filter = BSON_INITIALIZER, find_opts = BSON_INITIALIZER, ne, proj;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "deleted", &ne);
    BSON_APPEND_BOOL(&ne, "$ne", true);
    bson_append_document_end(&filter, &ne);
    for (size_t i = 0; opts && i < opts->n_equals; i++) {
        /* Field names come from the command line, values are values: the
         * name is checked, never interpreted. */
        const char *name = opts->equals[i].field;
        if (!name[0] || name[0] == '$')
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_SINK,
                                "filter field '%s' is not a field name", name);
        char path[512];
        snprintf(path, sizeof path, "metadata.%s", name);
        BSON_APPEND_UTF8(&filter, path, opts->equals[i].value);
    }
    BSON_APPEND_DOCUMENT_BEGIN(&find_opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "text", 1);
    BSON_APPEND_INT32(&proj, "embedding", 1);
    BSON_APPEND_INT32(&proj, "metadata", 1);
    bson_append_document_end(&find_opts, &proj);

    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, s->database, s->collection);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &find_opts, NULL);
    const bson_t *doc;
    float *vec = NULL;
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        rb_sink_doc_view view;
        memset(&view, 0, sizeof view);
        if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
            view.id = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "text") && BSON_ITER_HOLDS_UTF8(&it))
            view.text = bson_iter_utf8(&it, NULL);
        view.dim = read_vector(doc, &vec, &cap);
        view.vector = vec;
        if (!view.id || view.dim == 0) continue; /* not a document ragbatch wrote */
        char *meta = NULL;
        if (bson_iter_init_find(&it, doc, "metadata") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
            uint32_t len;
            const uint8_t *data;
            bson_t sub;
            bson_iter_document(&it, &len, &data);
            if (bson_init_static(&sub, data, len)) meta = bson_as_relaxed_extended_json(&sub, NULL);
        }
        view.metadata_json = meta ? meta : "{}";
        if (fn(&view, ctx) != 0) rc = 1;
        bson_free(meta);
    }
    bson_error_t e;
    if (rc == 0 && mongoc_cursor_error(cur, &e)) {
        rb_sink_mongo_error(err, &e, "reading documents failed");
        rc = rb_sink_in_collection(s, err);
    }
    if (rc > 0) rc = 0; /* stopped by the callback */
    free(vec);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(&find_opts);
    bson_destroy(&filter);
    return rc;
}

/* Ids per lookup query, to keep each find command small. */
#define LOOKUP_CHUNK 500

int rb_sink_lookup_stored(rb_sink *s, const char *const *ids, size_t n, rb_sink_stored_fn fn,
                          void *ctx, rb_error *err) {
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, s->database, s->collection);
    float *vec = NULL;
    size_t cap = 0;
    int rc = 0;
    for (size_t start = 0; rc == 0 && start < n; start += LOOKUP_CHUNK) {
        size_t end = n - start < LOOKUP_CHUNK ? n : start + LOOKUP_CHUNK;
        bson_t filter = BSON_INITIALIZER, in, arr, ne, opts = BSON_INITIALIZER, proj;
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (size_t i = start; i < end; i++) {
            char key[16];
            const char *k;
            bson_uint32_to_string((uint32_t)(i - start), &k, key, sizeof key);
            BSON_APPEND_UTF8(&arr, k, ids[i]); /* ids are values, never operators */
        }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(&filter, &in);
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "deleted", &ne);
        BSON_APPEND_BOOL(&ne, "$ne", true);
        bson_append_document_end(&filter, &ne);
        BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
        BSON_APPEND_INT32(&proj, "text_hash", 1);
        BSON_APPEND_INT32(&proj, "model", 1);
        BSON_APPEND_INT32(&proj, "embedding", 1);
        bson_append_document_end(&opts, &proj);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        const bson_t *doc;
        while (rc == 0 && mongoc_cursor_next(cur, &doc)) {
            bson_iter_t it;
            rb_sink_stored_view v;
            memset(&v, 0, sizeof v);
            if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
                v.id = bson_iter_utf8(&it, NULL);
            if (bson_iter_init_find(&it, doc, "text_hash") && BSON_ITER_HOLDS_UTF8(&it))
                v.text_hash = bson_iter_utf8(&it, NULL);
            if (bson_iter_init_find(&it, doc, "model") && BSON_ITER_HOLDS_UTF8(&it))
                v.model = bson_iter_utf8(&it, NULL);
            v.dim = read_vector(doc, &vec, &cap);
            v.vector = vec;
            if (v.id && v.text_hash && v.model && v.dim && fn(&v, ctx) != 0) rc = 1;
        }
        bson_error_t e;
        if (rc == 0 && mongoc_cursor_error(cur, &e)) {
            rb_sink_mongo_error(err, &e, "reading stored text hashes failed");
            rc = rb_sink_in_collection(s, err);
        }
        mongoc_cursor_destroy(cur);
        bson_destroy(&opts);
        bson_destroy(&filter);
    }
    if (rc > 0) rc = 0;
    free(vec);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    return rc;
}
