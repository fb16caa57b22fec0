/*
 * sink.h -- the MongoDB sink: versioned, idempotent bulk writes of documents.
 *
 * An rb_sink owns a libmongoc client pool bound to one database and one
 * collection.  rb_sink_new() connects, pings the server and creates the
 * secondary index on text_hash; rb_sink_destroy() (NULL accepted) releases
 * everything.  No libmongoc or libbson type appears in this header.
 *
 * Process setup: libmongoc must be initialised once per process, before any
 * sink exists and before any other thread may use it.  main() calls
 * rb_sink_global_init() at start and rb_sink_global_cleanup() after the last
 * sink has been destroyed.  rb_sink_global_init() also sets libmongoc's
 * process-wide log handler so that only its warnings and errors reach
 * stderr.
 *
 * Threads: every call pops a client from the pool and pushes it back before
 * returning, so any function below may be called from several threads on
 * the same rb_sink at once.  An rb_sink_item array belongs to one caller.
 *
 * Writes: rb_sink_write() sends one batch as ONE unordered bulk operation,
 * ops in batch order.  UPSERT and SOFT_DELETE are replaceOne(upsert) with
 * the filter {_id: id, version: {$lt: version}}; when a document with that
 * _id and an equal or newer version is stored, the filter does not match,
 * the insert collides on _id (E11000) and the item is STALE: replaying an
 * event leaves the store unchanged and an older event never overwrites a
 * newer one.  SOFT_DELETE stores a versioned tombstone {deleted: true} so
 * that older events arriving later stay stale.  HARD_DELETE (a Kafka
 * tombstone, which carries no version) is deleteOne({_id: id}) and is
 * DELETED whether or not a document existed.  Within one batch the ops of
 * one id take effect in batch order.
 *
 * FerretDB 1.x differs from MongoDB in three ways the sink works around
 * (it recognises FerretDB by the ferretdbVersion field of buildInfo): its
 * SQLite backend uses no index for a filter other than exactly {_id: value}
 * (see rb_sink_versions); an update command holding ~100 matched statements
 * never finishes, so bulks are cut into windows of 50 ops; and it ignores
 * `ordered: false`, stopping a command at its first write error and
 * reporting it at index 0.  When a reply does not account for every op the
 * sink settles that window's ops one at a time, in order.  (It also drops
 * the connection on a NaN double, one more reason why NaN vectors are
 * refused before sending.)
 *
 * Failure behaviour: a problem with one document -- the server rejected it
 * (writeErrors other than E11000), it is larger than the server's document
 * limit, its vector holds NaN or infinity, or its metadata keys collide
 * after escaping -- marks that item FAILED with a message in item->error
 * and does not fail the call; the caller dead-letters it.  A failure of
 * the write as a whole (no server, timeout, not primary, write concern
 * error, a command refused for every document) returns -1, retriable
 * unless it is an authentication or authorisation error, and leaves EVERY
 * item PENDING (none STORED).  Some of the writes may have been applied;
 * retrying the batch is safe because replays come back STALE.
 *
 * Event data never becomes query syntax: ids are always values, and every
 * metadata key (at any depth) that is empty, starts with '$' or contains '.'
 * is escaped before it is stored: a leading '$' becomes U+FF04 FULLWIDTH
 * DOLLAR SIGN, every '.' becomes U+FF0E FULLWIDTH FULL STOP, and the empty
 * key becomes U+FF3F FULLWIDTH LOW LINE.  So {"$where": 1, "a.b": 2} is
 * stored as {"＄where": 1, "a．b": 2}.  If escaping makes two keys of one
 * object equal, the item is FAILED rather than silently losing one.
 *
 * Pointers in rb_sink_item are borrowed for the duration of the call only.
 * Errors are RB_ERR_MONGO (or RB_ERR_CONFIG for bad options) in
 * RB_STAGE_SINK; messages name the URI with its password replaced by "***".
 */
#ifndef RB_SINK_H
#define RB_SINK_H

#include "common/error.h"
#include "validate/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_sink rb_sink;

/* Where the version check happens.  IN_FILTER puts it in the write itself
 * ({_id, version: {$lt}} with upsert; a collision on _id means STALE), which
 * is atomic.  LOOKUP reads the stored versions of the batch's ids first (one
 * find with $in), settles stale items without sending them, inserts the
 * documents whose id is absent and replaces the others with the filter
 * {_id} alone: FerretDB 1.x decodes every stored document for any filter
 * other than exactly {_id: value} (and even that one is a table scan in
 * SQL), so the in-filter check costs a full decode of the collection per
 * document, and an insert costs no scan at all.  LOOKUP is not atomic with
 * the write; it is correct as long as one writer handles a given id (the
 * Kafka key is the id, so one partition and one consumer do) and the
 * server applies the statements of one command in order (FerretDB does;
 * MongoDB does not promise it for unordered writes).  AUTO picks LOOKUP for
 * FerretDB and IN_FILTER otherwise; IN_FILTER needs neither assumption. */
typedef enum rb_sink_versions {
    RB_SINK_VERSIONS_AUTO = 0,
    RB_SINK_VERSIONS_IN_FILTER,
    RB_SINK_VERSIONS_LOOKUP
} rb_sink_versions;

/* How the embedding is stored.  Atlas Vector Search indexes both.  ARRAY
 * is a BSON array of doubles, what most tools that read the collection
 * expect.  FLOAT32 is a BSON binary vector (subtype 9, dtype float32): a
 * third of the size (4 bytes per value instead of 8 plus a key per
 * element), the form Atlas recommends for storage, and much cheaper for
 * servers to encode and decode (on FerretDB/SQLite about 10x faster to
 * write and 20x faster to read, see bench/README.md).  Readers of this
 * sink (search, the reuse lookup) accept either form, so a collection may
 * hold both while a job switches. */
typedef enum rb_sink_vector_format {
    RB_SINK_VECTOR_ARRAY = 0,
    RB_SINK_VECTOR_FLOAT32
} rb_sink_vector_format;

typedef struct rb_sink_opts {
    const char *uri;           /* mongodb:// or mongodb+srv:// */
    const char *database;
    const char *collection;
    const char *write_concern; /* "majority" (NULL means this) or a number >= 1 */
    int timeout_ms;            /* server selection, connect, socket, wtimeout; 0: URI's own */
    const char *app_name;      /* shown in server logs; NULL for none */
    rb_sink_versions versions; /* 0: AUTO */
    rb_sink_vector_format vector_format; /* 0: ARRAY */
} rb_sink_opts;

typedef enum rb_sink_kind {
    RB_SINK_UPSERT = 0,
    RB_SINK_SOFT_DELETE,
    RB_SINK_HARD_DELETE
} rb_sink_kind;

typedef enum rb_sink_result {
    RB_SINK_PENDING = 0, /* not written (the call failed as a whole) */
    RB_SINK_STORED,      /* upsert or soft delete written */
    RB_SINK_STALE,       /* an equal or newer version is stored; nothing changed */
    RB_SINK_DELETED,     /* hard delete done (also when nothing was stored) */
    RB_SINK_FAILED       /* this document was rejected; see item->error */
} rb_sink_result;

typedef struct rb_sink_meta {
    const char *name;     /* escaped like any metadata key */
    const rb_json *value; /* converted recursively; integers stay int64 */
} rb_sink_meta;

#define RB_SINK_ITEM_ERR_MAX 256

typedef struct rb_sink_item {
    /* in */
    rb_sink_kind kind;
    const char *id;            /* the document's _id, always a string value */
    int64_t version;           /* ignored for HARD_DELETE */
    int64_t event_time_ms;     /* stored as a BSON date */
    const char *text;          /* UPSERT only */
    const char *text_hash;     /* UPSERT only: hex string */
    const float *vector;       /* UPSERT only: `dim` values (see rb_sink_vector_format) */
    size_t dim;
    const char *model;         /* UPSERT only */
    const rb_sink_meta *metadata; /* UPSERT only: `n_metadata` entries */
    size_t n_metadata;
    const char *topic;         /* source position, stored as source: {...} */
    int32_t partition;
    int64_t offset;
    /* out */
    rb_sink_result result;
    char error[RB_SINK_ITEM_ERR_MAX]; /* set when result == RB_SINK_FAILED */
} rb_sink_item;

typedef struct rb_sink_stats {
    size_t stored, stale, deleted, failed;
    double elapsed_ms; /* wall time of the bulk round trip */
} rb_sink_stats;

/* Once per process, before the first rb_sink_new() and any other thread. */
void rb_sink_global_init(void);
/* Once per process, after the last rb_sink_destroy(). */
void rb_sink_global_cleanup(void);

/* Connects, pings and creates indexes.  Returns NULL on failure; errors
 * connecting are retriable.  `opts` and its strings may be freed after. */
rb_sink *rb_sink_new(const rb_sink_opts *opts, rb_error *err);
void rb_sink_destroy(rb_sink *s); /* accepts NULL */

/* Writes `n` items as one bulk; fills every item's result and adds to
 * `stats` (may be NULL; counts are added, not reset).  Returns 0 when every
 * item has a terminal result (STORED, STALE, DELETED or FAILED), -1 when the
 * bulk failed as a whole (see the header comment). */
int rb_sink_write(rb_sink *s, rb_sink_item *items, size_t n, rb_sink_stats *stats, rb_error *err);

/* Number of stored documents; soft-deleted tombstones only if asked. */
int rb_sink_count(rb_sink *s, bool include_deleted, int64_t *out, rb_error *err);

/* The stored document `id` as relaxed extended JSON (caller frees with
 * free()), or *json_out = NULL when there is none.  For tests and demos. */
int rb_sink_get_json(rb_sink *s, const char *id, char **json_out, rb_error *err);

/* Round trip to the server; retriable on failure. */
int rb_sink_ping(rb_sink *s, rb_error *err);

/* Drops the sink's database (tests use a database of their own). */
int rb_sink_drop_database(rb_sink *s, rb_error *err);

/* One stored document as the scan hands it out.  Pointers are valid only
 * during the callback. */
typedef struct rb_sink_doc_view {
    const char *id;
    const char *text;          /* NULL if the document has none */
    const float *vector;
    size_t dim;
    const char *metadata_json; /* relaxed extended JSON of `metadata` ("{}" if none) */
} rb_sink_doc_view;

/* Return non-zero to stop the scan early. */
typedef int (*rb_sink_scan_fn)(const rb_sink_doc_view *doc, void *ctx);

typedef struct rb_sink_filter_eq {
    const char *field; /* a metadata field name */
    const char *value; /* compared as a string value */
} rb_sink_filter_eq;

typedef struct rb_sink_scan_opts {
    const rb_sink_filter_eq *equals; /* metadata.<field> == value, all of them */
    size_t n_equals;
} rb_sink_scan_opts;

/* Streams every live (not deleted) document that has an embedding and
 * matches `opts` (may be NULL) to `fn`.  Memory stays bounded: documents
 * are read through a cursor one batch at a time. */
int rb_sink_scan(rb_sink *s, const rb_sink_scan_opts *opts, rb_sink_scan_fn fn, void *ctx,
                 rb_error *err);

/* What is stored for one id, as the reuse lookup hands it out.  Pointers
 * are valid only during the callback. */
typedef struct rb_sink_stored_view {
    const char *id;
    const char *text_hash;
    const char *model;
    const float *vector;
    size_t dim;
} rb_sink_stored_view;

typedef int (*rb_sink_stored_fn)(const rb_sink_stored_view *v, void *ctx);

/* For the live documents among `ids` (one query per 500 ids), hands out
 * their text hash, model and vector, so that a text that did not change
 * need not be embedded again. */
int rb_sink_lookup_stored(rb_sink *s, const char *const *ids, size_t n, rb_sink_stored_fn fn,
                          void *ctx, rb_error *err);

/* Name of a result, for logs: "stored", "stale", ... */
const char *rb_sink_result_name(rb_sink_result r);

/* --- Aggregations and commands for the search side (aggregate.c) ---
 *
 * These take pipelines and commands as canonical JSON text (built by
 * src/search), so no BSON type leaves the sink.  When the server refuses
 * the command, *server_code (may be NULL) receives its error code (0 for
 * a client-side failure such as no server or bad JSON), so the caller can
 * tell "this server has no such stage" from a real failure. */

/* One result document of a search pipeline.  Pointers are valid only
 * during the callback. */
typedef struct rb_sink_hit_view {
    const char *id;
    const char *text;          /* "" if the document has none */
    const char *metadata_json; /* relaxed extended JSON ("{}" if none) */
    double score;              /* the pipeline's `score` field (0 if none) */
} rb_sink_hit_view;

typedef int (*rb_sink_hit_fn)(const rb_sink_hit_view *hit, void *ctx);

/* Runs the aggregation `pipeline_json` (a JSON array) on the collection
 * and hands each result to `fn` (non-zero stops).  */
int rb_sink_aggregate_hits(rb_sink *s, const char *pipeline_json, rb_sink_hit_fn fn, void *ctx,
                           int *server_code, rb_error *err);

/* Runs the aggregation and returns every result document as one JSON
 * array of relaxed extended JSON (caller frees *out with free()). */
int rb_sink_aggregate_json(rb_sink *s, const char *pipeline_json, char **out, int *server_code,
                           rb_error *err);

/* Runs the database command `command_json` (a JSON object) on the sink's
 * database; *reply (may be NULL; caller frees with free()) receives the
 * reply as relaxed extended JSON. */
int rb_sink_command_json(rb_sink *s, const char *command_json, char **reply, int *server_code,
                         rb_error *err);

#endif
