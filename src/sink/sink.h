/*
 * sink.h -- the MongoDB sink: versioned, idempotent bulk writes of documents.
 *
 * An rb_sink owns a libmongoc client pool bound to one database and one
 * collection.  rb_sink_new() connects, pings the server, learns what it is
 * (see "Server profiles") and creates the secondary indexes (text_hash;
 * the ones its profile and the tombstone retention need); rb_sink_destroy()
 * (NULL accepted) releases everything.  No libmongoc or libbson type
 * appears in this header.  The runner reaches the sink through the thin
 * vtable of sink/port.h, which this sink implements call for call.
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
 * Writes: rb_sink_write() sends one batch as unordered bulk operations,
 * ops in batch order.  How a write checks the stored version depends on
 * the mode (rb_sink_versions below); in every mode an UPSERT or
 * SOFT_DELETE whose version is not newer than the stored one is STALE and
 * changes nothing, so a replayed event leaves the store unchanged and an
 * older event never overwrites a newer one.  SOFT_DELETE stores a
 * versioned tombstone {deleted: true, deleted_at: <write time>} so that
 * older events arriving later stay stale (for how long: see
 * RB_SINK_KEEP_TOMBSTONES).  HARD_DELETE (a Kafka tombstone, which carries
 * no version) is deleteOne({_id: id}) and is DELETED whether or not a
 * document existed.  Within one batch the ops of one id take effect in
 * batch order.
 *
 * Server profiles: rb_sink_new() asks the server what it is (hello,
 * buildInfo, serverStatus; on FerretDB one explain) and, unless the options
 * force a mode, picks the mode and the size of update commands;
 * rb_sink_describe() says what it found.
 *   - MongoDB, and any server not recognised below: IN_FILTER.  MongoDB
 *     serves {_id, version: {$lt}} from the _id index: the check costs
 *     nothing and needs no read.
 *   - mongo-java-server (serverStatus.process is "java"): CAS.  Its memory
 *     backend uses an index only when a filter names exactly that index's
 *     fields, so {_id, version: {$lt}} scans the collection; the sink adds
 *     a unique {_id: 1, version: 1} index, which serves {_id, version: v}.
 *     It cannot decode BSON binary subtype 9 (it drops the connection), so
 *     RB_SINK_VECTOR_FLOAT32 cannot be used with it.
 *   - FerretDB 1.x (buildInfo.ferretdbVersion): only inserts are served
 *     from an index (the unique _id index).  Every filter on _id is a table
 *     scan in SQL on both backends (SQLite's _id index expression is not
 *     the one its queries use; PostgreSQL compares with @>, which its btree
 *     index cannot serve), and on SQLite any filter other than {_id: value}
 *     decodes every stored document.  CAS where explain says the backend
 *     pushes {_id, version: v} down to SQL (PostgreSQL), else LOOKUP; and
 *     since a read costs more than an insert there, an id whose state the
 *     caller did not pass is inserted first and read only if it collides
 *     (rb_sink_read_pays).
 *     Update commands go in windows of 16 ops: FerretDB holds a backend
 *     connection for every matched statement until its update command ends
 *     (50 connections on PostgreSQL, 100 on SQLite), so larger windows, or
 *     a few concurrent writers with large windows, wait forever.  It
 *     ignores `ordered: false` in update commands, stopping at the first
 *     error and reporting it at index 0; when a reply does not account for
 *     every op, the sink settles that window's ops one at a time, in order.
 *     It drops the connection on a NaN double, one more reason why NaN
 *     vectors are refused before sending.
 *
 * Failure behaviour: a problem with one document -- the server rejected it
 * (writeErrors other than the E11000 each mode expects), it is larger than
 * the server's document
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
#include "common/log.h"
#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_sink rb_sink;

/* Where the version check happens, and what each mode promises.
 *
 * IN_FILTER: replaceOne({_id, version: {$lt: v}}, doc, upsert).  When an
 * equal or newer version is stored the filter does not match, the upsert's
 * insert collides on _id (E11000) and the item is STALE.  One round trip
 * and no read.  Atomic on a server that matches and writes a document in
 * one step (MongoDB, mongo-java-server): two writers of one id, such as two
 * owners of a partition during a rebalance, cannot regress its version.
 *
 * CAS: reads the stored versions of the batch's ids first (one find with
 * $in, or none when the caller passes what its own read of this batch
 * found, see rb_sink_item.known), settles stale items without sending
 * them, inserts the documents whose id is absent and replaces the others
 * with the compare-and-swap filter {_id, version: <version read>} (no
 * upsert).  A swap that no longer matches, or an insert that collides,
 * means another writer got there first: the sink reads those ids again and
 * decides again (stale, or another swap), RB_SINK_MAX_ROUNDS rounds at
 * most, then fails the call as retriable.  A write lands only on the
 * version it was decided against, so where one update is atomic CAS
 * promises what IN_FILTER does, two writers included.
 *
 * LOOKUP: like CAS, but documents found are replaced with the filter {_id}
 * alone (upsert), for servers that serve no other filter cheaply (FerretDB
 * on SQLite decodes every stored document for one).  A newer version that
 * another writer stores between the read and the write is overwritten:
 * LOOKUP holds every guarantee while one writer handles a given id, which
 * the job ensures outside a rebalance (the Kafka key is the id: one
 * partition, one consumer).  During a rebalance the old owner's in-flight
 * write can land after the new owner's and put an older version back until
 * the next event of that id.  A colliding insert is read again and decided
 * again, as in CAS.
 *
 * On FerretDB 1.x no mode is atomic: FerretDB reads the documents a filter
 * matches and writes them back by _id in a separate statement, so there
 * IN_FILTER's and CAS's checks, too, hold only with one writer per id.
 *
 * AUTO picks per server (see the header comment); rb_sink_mode() says
 * which. */
typedef enum rb_sink_versions {
    RB_SINK_VERSIONS_AUTO = 0,
    RB_SINK_VERSIONS_IN_FILTER,
    RB_SINK_VERSIONS_LOOKUP,
    RB_SINK_VERSIONS_CAS
} rb_sink_versions;

/* Rounds of read-and-decide-again one CAS or LOOKUP write goes through
 * before it gives up (retriable); each round after the first needs another
 * writer to change the same ids in between. */
#define RB_SINK_MAX_ROUNDS 5

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

/* Tombstone retention (rb_sink_opts.tombstone_retention_ms), applied by
 * rb_sink_new():
 *   > 0: a TTL index {deleted_at: 1} (named deleted_at_ttl) removes a
 *        tombstone that long after it was written (MongoDB's TTL monitor
 *        runs about once a minute); an existing one is adjusted (collMod).
 *   RB_SINK_KEEP_TOMBSTONES: that index is dropped if it exists, and
 *        tombstones stay forever.
 *   0: the indexes are left as they are (for readers: search, index).
 * The trade-off: once a tombstone is gone its version is forgotten, so an
 * event older than the delete that arrives after that (a replay or a
 * backfill reaching further back than the retention) brings the product
 * back.  Choose a retention longer than any replay can reach.  Servers that
 * refuse TTL indexes (FerretDB 1.x) or accept them and never expire
 * anything (mongo-java-server) keep every tombstone; rb_sink_describe()
 * says which, and the sink works on. */
#define RB_SINK_KEEP_TOMBSTONES (-1)

typedef struct rb_sink_opts {
    const char *uri; /* mongodb:// or mongodb+srv:// */
    const char *database;
    const char *collection;
    const char *write_concern;           /* "majority" (NULL means this) or a number >= 1 */
    int timeout_ms;                      /* server selection and connect; 0: URI's own */
    int socket_timeout_ms;               /* each round trip, and wtimeout; 0: timeout_ms */
    const char *app_name;                /* shown in server logs; NULL for none */
    rb_sink_versions versions;           /* 0: AUTO */
    rb_sink_vector_format vector_format; /* 0: ARRAY */
    int64_t tombstone_retention_ms;      /* see above; 0: indexes left alone */
    bool probe_only; /* connect and ping, nothing created (`check --connect`, `status`):
                        counts and reads work, writes must not be made */
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

typedef enum rb_sink_known {
    RB_SINK_UNKNOWN = 0,  /* not read: the write reads it when it must */
    RB_SINK_KNOWN_ABSENT, /* no document with this _id */
    RB_SINK_KNOWN_PRESENT /* a document (maybe a tombstone) at known_version */
} rb_sink_known;

/* Where a chunk document sits in its parent (rb_sink_item.chunk): stored
 * as parent_id and chunk: {index, count, start, end, tokens}, the span in
 * code points of the parent's text. */
typedef struct rb_sink_chunk_ref {
    const char *parent_id;
    size_t index, count;
    size_t char_start, char_end;
    size_t tokens;
} rb_sink_chunk_ref;

typedef struct rb_sink_item {
    /* in */
    rb_sink_kind kind;
    const char *id;        /* the document's _id, always a string value */
    int64_t version;       /* ignored for HARD_DELETE */
    int64_t event_time_ms; /* stored as a BSON date */
    const char *text;      /* UPSERT only */
    const char *text_hash; /* UPSERT only: hex string */
    const float *vector;   /* UPSERT only: `dim` values (see rb_sink_vector_format) */
    size_t dim;
    const char *model;            /* UPSERT only */
    const rb_sink_meta *metadata; /* UPSERT only: `n_metadata` entries */
    size_t n_metadata;
    const char *topic; /* source position, stored as source: {...} */
    int32_t partition;
    int64_t offset;
    /* in, optional: what a read of this batch (rb_sink_read_stored) found
     * for this id, so that CAS and LOOKUP need not read again; IN_FILTER
     * ignores it.  CAS takes a wrong value for a conflict and reads again;
     * LOOKUP believes it, so fill it only from a read made after every
     * write of this id the caller knows of (not for an id whose hard
     * delete is written between the read and this write). */
    rb_sink_known known;
    int64_t known_version; /* with RB_SINK_KNOWN_PRESENT */
    /* in, optional: chunking (docs/architecture.md, "Long texts").  An
     * UPSERT with chunk_count > 0 is the parent of that many chunk
     * documents and is stored with chunk_count and without text or
     * embedding (vector and dim are ignored); an UPSERT with `chunk` is one
     * chunk document. */
    size_t chunk_count;
    const rb_sink_chunk_ref *chunk;
    /* out */
    rb_sink_result result;
    char error[RB_SINK_ITEM_ERR_MAX]; /* set when result == RB_SINK_FAILED */
} rb_sink_item;

typedef struct rb_sink_stats {
    size_t stored, stale, deleted, failed;
    size_t reads;      /* find commands the write sent (version reads, re-reads) */
    size_t rounds;     /* CAS/LOOKUP rounds beyond the first (conflicts) */
    double elapsed_ms; /* wall time of the write */
} rb_sink_stats;

/* Once per process, before the first rb_sink_new() and any other thread. */
void rb_sink_global_init(void);
/* Once per process, after the last rb_sink_destroy(). */
void rb_sink_global_cleanup(void);

/* libmongoc's warnings and errors become lines of `log` (event "mongoc",
 * its domain as a field), in the job's format, until the next call; NULL
 * gives them back to libmongoc's own format on stderr.  `log` must stay
 * valid until then.  After rb_sink_global_init(). */
void rb_sink_global_log(const rb_log *log);

/* Connects, pings and creates indexes.  Returns NULL on failure; errors
 * connecting are retriable.  `opts` and its strings may be freed after. */
rb_sink *rb_sink_new(const rb_sink_opts *opts, rb_error *err);
void rb_sink_destroy(rb_sink *s); /* accepts NULL */

/* Writes `n` items as unordered bulks of at most 1,000 ops (windows of 16
 * for FerretDB's updates), one after the other in batch order; fills every
 * item's result and adds to
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
    const char *text; /* NULL if the document has none */
    const float *vector;
    size_t dim;
    const char *metadata_json; /* relaxed extended JSON of `metadata` ("{}" if none) */
    /* A chunk document (rb_sink_item.chunk): its parent, version and span. */
    const char *parent_id; /* NULL when the document is not a chunk */
    int64_t version;
    size_t chunk_index, chunk_start, chunk_end, chunk_tokens;
} rb_sink_doc_view;

/* Return non-zero to stop the scan early. */
typedef int (*rb_sink_scan_fn)(const rb_sink_doc_view *doc, void *ctx);

/* A typed value of a search filter: sent as that BSON (or JSON) value,
 * never parsed into query syntax. */
typedef enum rb_sink_value_type {
    RB_SINK_VALUE_STRING = 0,
    RB_SINK_VALUE_NUMBER,
    RB_SINK_VALUE_BOOL
} rb_sink_value_type;

typedef struct rb_sink_value {
    rb_sink_value_type type;
    const char *str; /* STRING */
    double num;      /* NUMBER */
    bool is_int;     /* NUMBER written as an integer that fits int64: `i` */
    int64_t i;
    bool b; /* BOOL */
} rb_sink_value;

/* How a filter compares metadata.<field> with its values. */
typedef enum rb_sink_filter_op {
    RB_SINK_FILTER_EQ = 0, /* == the one value */
    RB_SINK_FILTER_LT,
    RB_SINK_FILTER_LTE,
    RB_SINK_FILTER_GT,
    RB_SINK_FILTER_GTE,
    RB_SINK_FILTER_IN /* == one of the values */
} rb_sink_filter_op;

/* The MongoDB query operator of a comparison: "$eq", "$lt", ..., "$in"
 * (the exact scan's filter and the Atlas pipeline's alike). */
const char *rb_sink_filter_operator(rb_sink_filter_op op);

/* One condition on a metadata field.  Without `values` it is the string
 * equality metadata.<field> == value; with them, `op` over the typed
 * values (one, or several for IN).  Numbers compare as numbers whatever
 * their BSON type (an int64 100 equals a double 100.0); ranges compare
 * within a type, as MongoDB's comparison operators do. */
typedef struct rb_sink_filter_eq {
    const char *field; /* a metadata field name */
    const char *value; /* compared as a string value, when `values` is NULL */
    rb_sink_filter_op op;
    const rb_sink_value *values;
    size_t n_values;
} rb_sink_filter_eq;

typedef struct rb_sink_scan_opts {
    const rb_sink_filter_eq *equals; /* conditions on metadata, all of them */
    size_t n_equals;
} rb_sink_scan_opts;

/* Streams every live (not deleted) document that has an embedding and
 * matches `opts` (may be NULL) to `fn`.  Memory stays bounded: documents
 * are read through a cursor one batch at a time. */
int rb_sink_scan(rb_sink *s, const rb_sink_scan_opts *opts, rb_sink_scan_fn fn, void *ctx,
                 rb_error *err);

/* What is stored for one id, as rb_sink_read_stored() hands it out.
 * Pointers are valid only during the callback. */
typedef struct rb_sink_stored_view {
    const char *id;
    const char *text_hash; /* NULL when absent or not asked for */
    const char *model;     /* NULL when absent or not asked for */
    const float *vector;   /* NULL (dim 0) when absent or not asked for */
    size_t dim;
    int64_t version; /* INT64_MAX when the document has none: it counts as newest */
    bool deleted;    /* a tombstone */
} rb_sink_stored_view;

typedef int (*rb_sink_stored_fn)(const rb_sink_stored_view *v, void *ctx);

/* rb_sink_read_stored() `what`: also hand out text_hash, model and the
 * vector (the reuse lookup); without it, versions and tombstones only. */
#define RB_SINK_READ_VECTORS 1u

/* Hands out what is stored for each of `ids` that has a document
 * (tombstones included), filtered by _id alone so that every server serves
 * it from its _id index where it can: one find with $in per chunk of ids
 * (the whole batch on FerretDB, where each find decodes the collection;
 * 1,000 elsewhere).  Ids without a document are simply not handed out.
 * Non-zero from `fn` stops the read (returns 0). */
int rb_sink_read_stored(rb_sink *s, const char *const *ids, size_t n, unsigned what,
                        rb_sink_stored_fn fn, void *ctx, rb_error *err);

/* The live documents among `ids` that have a text hash, a model and a
 * vector: rb_sink_read_stored(RB_SINK_READ_VECTORS) without tombstones. */
int rb_sink_lookup_stored(rb_sink *s, const char *const *ids, size_t n, rb_sink_stored_fn fn,
                          void *ctx, rb_error *err);

/* The mode rb_sink_new() chose (never AUTO). */
rb_sink_versions rb_sink_mode(const rb_sink *s);

/* One clause of rb_sink_remove_chunks(): the chunk documents of
 * `parent_id` (field parent_id) whose version is below `below`, or all of
 * them with `all`. */
typedef struct rb_sink_chunk_clean {
    const char *parent_id;
    bool all;
    int64_t below;
} rb_sink_chunk_clean;

/* On a chunk collection (docs/architecture.md, "Long texts: chunks"):
 * removes every chunk document a clause names, with the sink's write
 * concern, in deletes of 500 clauses; *removed is the count the server
 * reports.  A failure is retriable as a write's is; the deletes done
 * before it stay done, and doing them again removes nothing more. */
int rb_sink_remove_chunks(rb_sink *s, const rb_sink_chunk_clean *c, size_t n, size_t *removed,
                          rb_error *err);

/* Whether the server runs multi-document transactions (learnt from its
 * hello reply at rb_sink_new: sessions, and a replica set or a mongos).
 * The sink itself never uses them; docs/architecture.md ("What readers
 * see") says why chunk sets do not either. */
bool rb_sink_transactions(const rb_sink *s);

/* Whether rb_sink_write() decides on stored versions (CAS, LOOKUP): a
 * caller that reads the batch's ids anyway passes what it found in
 * rb_sink_item.known. */
bool rb_sink_needs_versions(const rb_sink *s);

/* Whether a read of the versions before the write is worth making for the
 * write alone.  False where every read scans the collection and inserts do
 * not (FerretDB): there an item whose state is unknown, alone of its id in
 * the call, is first sent as an insert, and only the ids that collide are
 * read (one more round), so a batch of new documents costs no read. */
bool rb_sink_read_pays(const rb_sink *s);

/* One line for the job's log: the server as recognised, the mode and why,
 * the update window, the tombstone TTL's state.  Owned by the sink. */
const char *rb_sink_describe(const rb_sink *s);

/* Name of a result, for logs: "stored", "stale", ... */
const char *rb_sink_result_name(rb_sink_result r);

/* --- Aggregations and commands for the search side (aggregate.c) ---
 *
 * These take pipelines and commands as canonical JSON text (built by
 * src/search), so no BSON type leaves the sink.  When the server refuses
 * the command, *server_code (may be NULL) receives its error code (0 for
 * a client-side failure such as no server or bad JSON), so the caller can
 * tell "this server has no such stage" from a real failure. */

/* One element of a search result's `chunks` array ({score, text,
 * chunk}: the best chunks of one parent, rb_atlas_chunk_pipeline_json). */
typedef struct rb_sink_hit_chunk {
    double score;
    const char *text; /* "" if none */
    size_t index, start, end, tokens;
} rb_sink_hit_chunk;

/* At most this many elements of a result's `chunks` are read. */
#define RB_SINK_HIT_CHUNKS_MAX 64

/* One result document of a search pipeline.  Pointers are valid only
 * during the callback. */
typedef struct rb_sink_hit_view {
    const char *id;
    const char *text;          /* "" if the document has none */
    const char *metadata_json; /* relaxed extended JSON ("{}" if none) */
    double score;              /* the pipeline's `score` field (0 if none) */
    bool chunked;              /* the result has a `chunk` {index, start, end, tokens} */
    size_t chunk_index, chunk_start, chunk_end, chunk_tokens;
    const rb_sink_hit_chunk *chunks; /* the result's `chunks`, in its order; NULL if none */
    size_t n_chunks;
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
