/*
 * sink_internal.h -- what sink.c (setup, reads) and write.c (bulk writes)
 * share.  Internal to src/sink: it names libmongoc types.
 */
#ifndef RB_SINK_INTERNAL_H
#define RB_SINK_INTERNAL_H

#include "sink/sink.h"

#include <mongoc/mongoc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MongoDB's documented document limit, used until the server tells us. */
#define RB_SINK_DEFAULT_MAX_DOC (16 * 1024 * 1024)

struct rb_sink {
    mongoc_client_pool_t *pool; /* thread-safe; clients are popped per call */
    mongoc_uri_t *uri;
    mongoc_write_concern_t *wc;
    char *database;
    char *collection;
    char *uri_shown;         /* the URI with its password replaced, for messages */
    int32_t max_doc_size;    /* the server's maxBsonObjectSize */
    bool lookup_versions;    /* see rb_sink_versions in sink.h */
    size_t max_ops_per_bulk; /* 0: the whole batch in one bulk */
    rb_sink_vector_format vector_format;
    /* ingested_at of the last rb_sink_write() call.  Each call takes a
     * later millisecond than the one before, so that its documents can be
     * told apart from an earlier call's (see reclaim_own_writes). */
    _Atomic int64_t last_ingested_ms;
};

/* The ingested_at of a new rb_sink_write() call: the wall clock in
 * milliseconds, but always later than the previous call's, even when both
 * fall in one millisecond or the clock steps back.  Thread-safe. */
int64_t rb_sink_next_ingested_ms(rb_sink *s);

/* Fills `err` from a libmongoc error: RB_ERR_MONGO, "what: message",
 * retriable unless authentication or authorisation failed.  Returns -1. */
int rb_sink_mongo_error(rb_error *err, const bson_error_t *e, const char *what);

/* Prefixes `err` with the collection and the (password-free) URI. */
int rb_sink_in_collection(const rb_sink *s, rb_error *err);

#endif
