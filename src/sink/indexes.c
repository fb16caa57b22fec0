/*
 * indexes.c -- the secondary indexes the sink keeps: text_hash (the reuse
 * lookup), {_id, version} (CAS on mongo-java-server) and the tombstones'
 * TTL index (document.tombstone.retention.ms).
 */
#include "sink/sink_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define RB_SINK_TTL_INDEX "deleted_at_ttl"
#define RB_SINK_TTL_FIELD "deleted_at"

/* Server error codes met here. */
#define CODE_INDEX_NOT_FOUND 27
#define CODE_INDEX_OPTIONS_CONFLICT 85
#define CODE_INDEX_KEY_SPECS_CONFLICT 86
#define CODE_NOT_IMPLEMENTED 238

static bool server_code(const bson_error_t *e, uint32_t code) {
    return (e->domain == MONGOC_ERROR_SERVER || e->domain == MONGOC_ERROR_QUERY) &&
           e->code == code;
}

/* createIndexes with one index of one or two ascending keys; `ttl_s` >= 0
 * adds expireAfterSeconds. */
static bool create(rb_sink *s, mongoc_client_t *c, const char *name, const char *key1,
                   const char *key2, bool unique, int64_t ttl_s, bson_error_t *e) {
    bson_t cmd = BSON_INITIALIZER, indexes, idx, key, reply;
    BSON_APPEND_UTF8(&cmd, "createIndexes", s->collection);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
    BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &idx);
    BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
    BSON_APPEND_INT32(&key, key1, 1);
    if (key2) BSON_APPEND_INT32(&key, key2, 1);
    bson_append_document_end(&idx, &key);
    BSON_APPEND_UTF8(&idx, "name", name);
    if (unique) BSON_APPEND_BOOL(&idx, "unique", true);
    if (ttl_s >= 0) BSON_APPEND_INT64(&idx, "expireAfterSeconds", ttl_s);
    bson_append_document_end(&indexes, &idx);
    bson_append_array_end(&cmd, &indexes);
    bool ok = mongoc_client_write_command_with_opts(c, s->database, &cmd, NULL, &reply, e);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return ok;
}

int rb_sink_create_index(rb_sink *s, mongoc_client_t *c, const char *name, const char *key1,
                         const char *key2, bool unique, rb_error *err) {
    bson_error_t e;
    if (create(s, c, name, key1, key2, unique, -1, &e)) return 0;
    rb_sink_mongo_error(err, &e, "cannot create index");
    rb_error_prefix(err, "index %s", name);
    return rb_sink_in_collection(s, err);
}

/* The expireAfterSeconds that listIndexes shows for the TTL index, or -1
 * when the index is missing or shows none. */
static int64_t listed_ttl(rb_sink *s, mongoc_client_t *c) {
    mongoc_collection_t *coll = mongoc_client_get_collection(c, s->database, s->collection);
    mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(coll, NULL);
    const bson_t *doc;
    int64_t ttl = -1;
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, doc, "name") || !BSON_ITER_HOLDS_UTF8(&it) ||
            strcmp(bson_iter_utf8(&it, NULL), RB_SINK_TTL_INDEX) != 0)
            continue;
        if (bson_iter_init_find(&it, doc, "expireAfterSeconds") && BSON_ITER_HOLDS_NUMBER(&it))
            ttl = bson_iter_as_int64(&it);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    return ttl;
}

/* An existing TTL index with another expireAfterSeconds is changed in
 * place, as MongoDB allows with collMod. */
static bool change_ttl(rb_sink *s, mongoc_client_t *c, int64_t ttl_s, bson_error_t *e) {
    bson_t cmd = BSON_INITIALIZER, index, reply;
    BSON_APPEND_UTF8(&cmd, "collMod", s->collection);
    BSON_APPEND_DOCUMENT_BEGIN(&cmd, "index", &index);
    BSON_APPEND_UTF8(&index, "name", RB_SINK_TTL_INDEX);
    BSON_APPEND_INT64(&index, "expireAfterSeconds", ttl_s);
    bson_append_document_end(&cmd, &index);
    bool ok = mongoc_client_write_command_with_opts(c, s->database, &cmd, NULL, &reply, e);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return ok;
}

static int keep_forever(rb_sink *s, mongoc_client_t *c, char *note, size_t note_len,
                        rb_error *err) {
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    BSON_APPEND_UTF8(&cmd, "dropIndexes", s->collection);
    BSON_APPEND_UTF8(&cmd, "index", RB_SINK_TTL_INDEX);
    bool ok = mongoc_client_write_command_with_opts(c, s->database, &cmd, NULL, &reply, &e);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    if (ok) {
        snprintf(note, note_len, "none (index %s dropped: tombstones are kept)",
                 RB_SINK_TTL_INDEX);
        return 0;
    }
    /* Not there is what was wanted.  FerretDB answers IndexNotFound too. */
    if (server_code(&e, CODE_INDEX_NOT_FOUND) || strstr(e.message, "not found")) {
        snprintf(note, note_len, "none (tombstones are kept)");
        return 0;
    }
    rb_sink_mongo_error(err, &e, "cannot drop the tombstone TTL index " RB_SINK_TTL_INDEX);
    return rb_sink_in_collection(s, err);
}

int rb_sink_tombstone_ttl(rb_sink *s, mongoc_client_t *c, int64_t retention_ms,
                          const rb_sink_profile *p, char *note, size_t note_len, rb_error *err) {
    bson_error_t e;
    note[0] = '\0';
    if (retention_ms == 0) return 0;
    if (retention_ms < 0) return keep_forever(s, c, note, note_len, err);
    int64_t ttl_s = (retention_ms + 999) / 1000;
    bool ok = create(s, c, RB_SINK_TTL_INDEX, RB_SINK_TTL_FIELD, NULL, false, ttl_s, &e);
    if (!ok && (server_code(&e, CODE_INDEX_OPTIONS_CONFLICT) ||
                server_code(&e, CODE_INDEX_KEY_SPECS_CONFLICT)))
        ok = change_ttl(s, c, ttl_s, &e);
    if (!ok && server_code(&e, CODE_NOT_IMPLEMENTED)) {
        /* FerretDB 1.x: "Index option "expireAfterSeconds" is not
         * implemented yet".  Tombstones are then kept, which is safe. */
        snprintf(note, note_len, "refused by the server (%.120s): tombstones are kept", e.message);
        return 0;
    }
    if (!ok) {
        rb_sink_mongo_error(err, &e, "cannot create the tombstone TTL index " RB_SINK_TTL_INDEX);
        return rb_sink_in_collection(s, err);
    }
    int64_t listed = listed_ttl(s, c);
    if (p->no_ttl_monitor)
        snprintf(note, note_len,
                 "%" PRId64 "s accepted, but %s never expires documents: tombstones are kept",
                 ttl_s, p->server);
    else if (listed == ttl_s)
        snprintf(note, note_len, "%" PRId64 "s (index %s on %s)", ttl_s, RB_SINK_TTL_INDEX,
                 RB_SINK_TTL_FIELD);
    else
        snprintf(note, note_len,
                 "accepted but not kept by the server (listIndexes shows expireAfterSeconds "
                 "%" PRId64 "): tombstones may be kept",
                 listed);
    return 0;
}
