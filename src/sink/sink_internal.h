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
    rb_sink_versions mode;   /* never AUTO; see rb_sink_versions in sink.h */
    size_t max_ops_per_bulk; /* 0: RB_SINK_BULK_MAX_OPS (write.c) */
    size_t read_chunk;       /* ids per $in find (rb_sink_read_stored) */
    bool insert_first;       /* see rb_sink_read_pays() */
    bool transactions;       /* rb_sink_transactions() */
    rb_sink_vector_format vector_format;
    char describe[512]; /* rb_sink_describe() */
    /* ingested_at of the last rb_sink_write() call.  Each call takes a
     * later millisecond than the one before, so that its documents can be
     * told apart from an earlier call's (see reclaim_own_writes). */
    _Atomic int64_t last_ingested_ms;
};

/* The ingested_at of a new rb_sink_write() call: the wall clock in
 * milliseconds, but always later than the previous call's, even when both
 * fall in one millisecond or the clock steps back.  Thread-safe. */
int64_t rb_sink_next_ingested_ms(rb_sink *s);

/* What rb_sink_new() learns of the server (profile.c). */
typedef struct rb_sink_profile {
    rb_sink_versions mode;  /* what AUTO resolves to */
    size_t window;          /* update ops per command; 0: no limit */
    size_t read_chunk;      /* ids per $in read */
    bool cas_index;         /* CAS needs a unique {_id: 1, version: 1} index */
    bool no_binary_vectors; /* cannot decode BSON binary subtype 9 */
    bool no_ttl_monitor;    /* keeps TTL indexes but never expires anything */
    bool insert_first;      /* reads scan, inserts do not: see rb_sink_read_pays() */
    bool transactions;      /* multi-document transactions: rb_sink_hello_has_transactions() */
    char server[160];       /* "MongoDB 7.0.2", "FerretDB v1.24.2", ... */
    char why[200];          /* why that mode */
} rb_sink_profile;

/* Asks the server (hello, buildInfo, serverStatus, and explain on FerretDB)
 * and fills `p`; also sets s->max_doc_size.  Never fails: what cannot be
 * learnt falls back to MongoDB's behaviour. */
void rb_sink_profile_detect(rb_sink *s, mongoc_client_t *c, rb_sink_profile *p);

/* Whether a server whose hello reply is `hello` runs multi-document
 * transactions: it has sessions (logicalSessionTimeoutMinutes) and is a
 * replica set member (setName) or a mongos (msg "isdbgrid"); a standalone
 * mongod has none, nor do FerretDB 1.x and mongo-java-server 1.47. */
bool rb_sink_hello_has_transactions(const bson_t *hello);

/* Creates (idempotently) the index `name` on key1 (and key2) ascending. */
int rb_sink_create_index(rb_sink *s, mongoc_client_t *c, const char *name, const char *key1,
                         const char *key2, bool unique, rb_error *err);

/* Applies opts->tombstone_retention_ms (see sink.h) and returns in `note`
 * what the server did with it.  Fails only when the server refuses the
 * index for a reason other than not supporting TTL indexes. */
int rb_sink_tombstone_ttl(rb_sink *s, mongoc_client_t *c, int64_t retention_ms,
                          const rb_sink_profile *p, char *note, size_t note_len, rb_error *err);

/* ---- reads by _id (read.c) ---- */

/* One stored document as a read hands it out; pointers valid during the
 * callback only. */
typedef struct rb_sink_read_doc {
    const char *id;
    int64_t version; /* INT64_MAX when it has none */
    bool deleted;
    int64_t ingested_ms;   /* RB_SINK_READ_OWN; -1 if absent */
    int64_t offset;        /* RB_SINK_READ_OWN: source.offset; -1 if absent */
    const char *text_hash; /* RB_SINK_READ_VECTORS */
    const char *model;
    const float *vector;
    size_t dim;
} rb_sink_read_doc;

/* Also read what tells a document this call wrote (ingested_at, source). */
#define RB_SINK_READ_OWN 2u

typedef int (*rb_sink_read_fn)(const rb_sink_read_doc *d, void *ctx);

/* {_id: {$in: ids}} finds in chunks of s->read_chunk, on `coll`; non-zero
 * from `fn` stops (returns 0).  *reads (may be NULL) counts the finds. */
int rb_sink_read_ids(const rb_sink *s, mongoc_collection_t *coll, const char *const *ids, size_t n,
                     unsigned what, rb_sink_read_fn fn, void *ctx, size_t *reads, rb_error *err);

/* The vector `embedding` of `doc` (an array of numbers, or a binary float32
 * vector) into *vec (grown as needed): its length, or 0 when missing or of
 * another type. */
size_t rb_sink_read_vector(const bson_t *doc, float **vec, size_t *cap);

/* A chunk document's chunk: {index, start, end, tokens} (scan.c); false,
 * and zeros, when `doc` has none. */
bool rb_sink_read_chunk_span(const bson_t *doc, size_t *index, size_t *start, size_t *end,
                             size_t *tokens);

/* Fills `err` from a libmongoc error: RB_ERR_MONGO, "what: message",
 * retriable unless authentication or authorisation failed.  Returns -1. */
int rb_sink_mongo_error(rb_error *err, const bson_error_t *e, const char *what);

/* Prefixes `err` with the collection and the (password-free) URI. */
int rb_sink_in_collection(const rb_sink *s, rb_error *err);

#endif
