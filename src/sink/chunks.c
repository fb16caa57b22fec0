/*
 * chunks.c -- rb_sink_remove_chunks(): the clean-up of a chunk collection
 * (sink.h), one delete per window of clauses.
 */
#include "sink/sink_internal.h"

/* Clauses per delete: its $or stays small enough for every server's
 * filter (and FerretDB's SQL translation) while a batch of 5,000 ids
 * takes ten round trips. */
#define RB_SINK_CHUNK_CLAUSES 500

static void append_clause(bson_t * or, size_t i, const rb_sink_chunk_clean *c) {
    char key[24];
    const char *k;
    bson_t clause, lt;
    bson_uint32_to_string((uint32_t)i, &k, key, sizeof key);
    bson_append_document_begin(or, k, -1, &clause);
    BSON_APPEND_UTF8(&clause, "parent_id", c->parent_id);
    if (!c->all) {
        BSON_APPEND_DOCUMENT_BEGIN(&clause, "version", &lt);
        BSON_APPEND_INT64(&lt, "$lt", c->below);
        bson_append_document_end(&clause, &lt);
    }
    bson_append_document_end(or, &clause);
}

int rb_sink_remove_chunks(rb_sink *s, const rb_sink_chunk_clean *c, size_t n, size_t *removed,
                          rb_error *err) {
    *removed = 0;
    if (n == 0) return 0;
    mongoc_client_t *client = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, s->database, s->collection);
    bson_t opts = BSON_INITIALIZER;
    mongoc_write_concern_append(s->wc, &opts);
    int rc = 0;
    for (size_t start = 0; start < n && rc == 0; start += RB_SINK_CHUNK_CLAUSES) {
        size_t len = n - start < RB_SINK_CHUNK_CLAUSES ? n - start : RB_SINK_CHUNK_CLAUSES;
        bson_t filter = BSON_INITIALIZER, or, reply;
        bson_error_t e;
        BSON_APPEND_ARRAY_BEGIN(&filter, "$or", & or);
        for (size_t i = 0; i < len; i++) append_clause(& or, i, &c[start + i]);
        bson_append_array_end(&filter, & or);
        if (mongoc_collection_delete_many(coll, &filter, &opts, &reply, &e)) {
            bson_iter_t it;
            if (bson_iter_init_find(&it, &reply, "deletedCount") && BSON_ITER_HOLDS_NUMBER(&it) &&
                bson_iter_as_int64(&it) > 0)
                *removed += (size_t)bson_iter_as_int64(&it);
        } else {
            /* Retriable as any write is (connection, timeout, not
             * primary); deletes already applied are not applied twice. */
            rb_sink_mongo_error(err, &e, "removing the chunks of older versions");
            rc = rb_sink_in_collection(s, err);
        }
        bson_destroy(&reply);
        bson_destroy(&filter);
    }
    bson_destroy(&opts);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, client);
    return rc;
}
