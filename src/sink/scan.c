/*
 * scan.c -- streaming the stored documents back out, for the exact search
 * and for tools that read what the job wrote.  Reads by _id are in read.c.
 */
#include "sink/sink_internal.h"

#include <stdlib.h>
#include <string.h>

static size_t span_field(const bson_t *chunk, const char *key) {
    bson_iter_t it;
    if (!bson_iter_init_find(&it, chunk, key) || !BSON_ITER_HOLDS_NUMBER(&it)) return 0;
    int64_t v = bson_iter_as_int64(&it);
    return v > 0 ? (size_t)v : 0;
}

bool rb_sink_read_chunk_span(const bson_t *doc, size_t *index, size_t *start, size_t *end,
                             size_t *tokens) {
    *index = *start = *end = *tokens = 0;
    bson_iter_t it;
    uint32_t len;
    const uint8_t *data;
    bson_t sub;
    if (!bson_iter_init_find(&it, doc, "chunk") || !BSON_ITER_HOLDS_DOCUMENT(&it)) return false;
    bson_iter_document(&it, &len, &data);
    if (!bson_init_static(&sub, data, len)) return false;
    *index = span_field(&sub, "index");
    *start = span_field(&sub, "start");
    *end = span_field(&sub, "end");
    *tokens = span_field(&sub, "tokens");
    return true;
}

/* A typed filter value as that BSON type: never parsed, never an operator. */
static void append_value(bson_t *doc, const char *key, const rb_sink_value *v) {
    switch (v->type) {
    case RB_SINK_VALUE_NUMBER:
        if (v->is_int)
            BSON_APPEND_INT64(doc, key, v->i);
        else
            BSON_APPEND_DOUBLE(doc, key, v->num);
        return;
    case RB_SINK_VALUE_BOOL: BSON_APPEND_BOOL(doc, key, v->b); return;
    case RB_SINK_VALUE_STRING: break;
    }
    BSON_APPEND_UTF8(doc, key, v->str ? v->str : "");
}

const char *rb_sink_filter_operator(rb_sink_filter_op op) {
    switch (op) {
    case RB_SINK_FILTER_EQ: return "$eq";
    case RB_SINK_FILTER_LT: return "$lt";
    case RB_SINK_FILTER_LTE: return "$lte";
    case RB_SINK_FILTER_GT: return "$gt";
    case RB_SINK_FILTER_GTE: return "$gte";
    case RB_SINK_FILTER_IN: return "$in";
    }
    return "$eq";
}

/* {"metadata.<field>": {$op: value}} for one condition, into `clause`. */
static void append_condition(bson_t *clause, const char *path, const rb_sink_filter_eq *f) {
    bson_t cmp, list;
    BSON_APPEND_DOCUMENT_BEGIN(clause, path, &cmp);
    if (!f->values) {
        BSON_APPEND_UTF8(&cmp, "$eq", f->value ? f->value : "");
    } else if (f->op == RB_SINK_FILTER_IN) {
        BSON_APPEND_ARRAY_BEGIN(&cmp, "$in", &list);
        for (size_t j = 0; j < f->n_values; j++) {
            char idx[16];
            snprintf(idx, sizeof idx, "%zu", j);
            append_value(&list, idx, &f->values[j]);
        }
        bson_append_array_end(&cmp, &list);
    } else {
        append_value(&cmp, rb_sink_filter_operator(f->op), &f->values[0]);
    }
    bson_append_document_end(clause, &cmp);
}

int rb_sink_scan(rb_sink *s, const rb_sink_scan_opts *opts, rb_sink_scan_fn fn, void *ctx,
                 rb_error *err) {
    /* Field names come from the command line, values are values: the
     * names are checked, never interpreted. */
    for (size_t i = 0; opts && i < opts->n_equals; i++) {
        const char *name = opts->equals[i].field;
        if (!name[0] || name[0] == '$')
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_SINK,
                                "filter field '%s' is not a field name", name);
    }
    bson_t filter = BSON_INITIALIZER, find_opts = BSON_INITIALIZER, ne, proj, all;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "deleted", &ne);
    BSON_APPEND_BOOL(&ne, "$ne", true);
    bson_append_document_end(&filter, &ne);
    /* One $and clause per condition: two may name one field (a range). */
    if (opts && opts->n_equals) BSON_APPEND_ARRAY_BEGIN(&filter, "$and", &all);
    for (size_t i = 0; opts && i < opts->n_equals; i++) {
        char path[512], idx[16];
        snprintf(path, sizeof path, "metadata.%s", opts->equals[i].field);
        snprintf(idx, sizeof idx, "%zu", i);
        bson_t clause;
        BSON_APPEND_DOCUMENT_BEGIN(&all, idx, &clause);
        append_condition(&clause, path, &opts->equals[i]);
        bson_append_document_end(&all, &clause);
    }
    if (opts && opts->n_equals) bson_append_array_end(&filter, &all);
    BSON_APPEND_DOCUMENT_BEGIN(&find_opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "text", 1);
    BSON_APPEND_INT32(&proj, "embedding", 1);
    BSON_APPEND_INT32(&proj, "metadata", 1);
    BSON_APPEND_INT32(&proj, "parent_id", 1);
    BSON_APPEND_INT32(&proj, "version", 1);
    BSON_APPEND_INT32(&proj, "chunk", 1);
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
        if (bson_iter_init_find(&it, doc, "parent_id") && BSON_ITER_HOLDS_UTF8(&it))
            view.parent_id = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_NUMBER(&it))
            view.version = bson_iter_as_int64(&it);
        rb_sink_read_chunk_span(doc, &view.chunk_index, &view.chunk_start, &view.chunk_end,
                                &view.chunk_tokens);
        view.dim = rb_sink_read_vector(doc, &vec, &cap);
        view.vector = vec;
        if (!view.id || view.dim == 0) continue; /* not a document ragbatch wrote */
        char *meta = NULL;
        if (bson_iter_init_find(&it, doc, "metadata") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
            uint32_t len;
            const uint8_t *data;
            bson_t sub;
            bson_iter_document(&it, &len, &data);
            if (bson_init_static(&sub, data, len))
                meta = bson_as_relaxed_extended_json(&sub, NULL);
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
