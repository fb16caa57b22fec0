/*
 * batch.h -- the records of one micro-batch and what became of each.
 *
 * A batch owns copies of the records the source handed it (topic, key,
 * value, headers' worth of metadata), the per-partition offset ranges they
 * span, and, for every record, what the stages derived from it and the
 * terminal state it ended in.  It knows nothing of Kafka's or MongoDB's
 * APIs: the source fills it, the stages annotate it, the runner asks it
 * whether every record is accounted for before committing.
 *
 * Memory: the raw payloads live in one arena that rb_batch_reset() frees
 * in one sweep; what the stages derive (parsed event, text) is owned by
 * the record and freed at reset too.  Stage code running on several
 * threads may write to distinct records at once; adding records is
 * single-threaded.
 */
#ifndef RB_BATCH_H
#define RB_BATCH_H

#include "common/error.h"
#include "validate/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What became of a record.  Every record of a batch must leave PENDING
 * before the batch's offsets may be committed (rb_batch_all_settled). */
typedef enum rb_record_state {
    RB_REC_PENDING = 0,
    RB_REC_STORED,        /* document written */
    RB_REC_DELETED,       /* document deleted (tombstone or delete event) */
    RB_REC_STALE,         /* older than, or the same as, what is stored */
    RB_REC_REUSED,        /* document written with the stored vector: text unchanged */
    RB_REC_SKIPPED,       /* failed, tolerated by errors.tolerance = all */
    RB_REC_DEAD_LETTERED, /* failed, tolerated, and acknowledged by the DLQ topic */
    RB_REC_FAILED         /* failed, not tolerated: the batch must not commit */
} rb_record_state;

typedef enum rb_record_op {
    RB_OP_UPSERT = 0,     /* store or replace the document */
    RB_OP_SOFT_DELETE,    /* delete event: versioned tombstone document */
    RB_OP_HARD_DELETE     /* Kafka tombstone (null value): remove by id */
} rb_record_op;

/* One Kafka header, copied into the batch's arena. */
typedef struct rb_header {
    const char *name;    /* NUL-terminated */
    const char *value;   /* NULL for a null header value */
    size_t value_len;
} rb_header;

typedef struct rb_record {
    /* As read from Kafka; owned by the batch's arena. */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;   /* Kafka message timestamp, -1 if none */
    const char *key;        /* NULL if none; not NUL-terminated */
    size_t key_len;
    const char *value;      /* NULL for a tombstone; NUL-terminated copy */
    size_t value_len;
    const rb_header *headers; /* the record's headers, in order */
    size_t header_count;

    /* Derived by the stages; owned by the record. */
    rb_record_op op;
    rb_json_doc *event;     /* parsed value */
    char *id;               /* document id */
    int64_t version;        /* ordering key: version field, else event time */
    int64_t event_time_ms;  /* -1 if the event has none */
    char *text;             /* rendered text to embed */
    char text_hash[65];
    size_t vector_row;      /* row of the batch's vector matrix */
    bool reused;            /* the vector is the stored one: the text did not change */
    struct rb_record_chunks *chunks; /* owned; NULL when the text is one chunk
                                        (batch/record_chunks.h) */

    rb_record_state state;
    rb_stage fail_stage;    /* where it failed, when SKIPPED or FAILED */
    char *fail_reason;      /* owned; NULL unless it failed */
    char fail_path[128];    /* JSON pointer of the failing value (validate), or "" */
    bool fail_logged;       /* the failure has had its log line */
    int dlq_error;          /* why the DLQ topic last refused it (a librdkafka error code), 0 if not */
} rb_record;

/* The offsets of one topic-partition in the batch. */
typedef struct rb_batch_range {
    const char *topic;      /* owned by the batch's arena */
    int32_t partition;
    int64_t first_offset;
    int64_t last_offset;
    size_t count;
} rb_batch_range;

/* Tally of the records' states. */
typedef struct rb_batch_counts {
    size_t in;
    size_t pending, stored, deleted, stale, reused, skipped, dead_lettered, failed;
} rb_batch_counts;

typedef struct rb_batch rb_batch;

rb_batch *rb_batch_new(void);
void rb_batch_destroy(rb_batch *b); /* accepts NULL */

/* Forgets every record and frees their memory; the next batch gets `id`. */
void rb_batch_reset(rb_batch *b, uint64_t id);
uint64_t rb_batch_id(const rb_batch *b);

/* Copies a record in.  `value` NULL marks a tombstone.  Offsets of a
 * partition must arrive in increasing order (as Kafka delivers them).
 * Returns the new record (headers may be attached with
 * rb_batch_add_headers), or NULL with `err` set. */
rb_record *rb_batch_add(rb_batch *b, const char *topic, int32_t partition, int64_t offset,
                        int64_t timestamp_ms, const void *key, size_t key_len, const void *value,
                        size_t value_len, rb_error *err);

/* Copies `n` headers into the batch and attaches them to `r` (the record
 * rb_batch_add just returned). */
int rb_batch_add_headers(rb_batch *b, rb_record *r, const rb_header *headers, size_t n,
                         rb_error *err);

size_t rb_batch_count(const rb_batch *b);
size_t rb_batch_bytes(const rb_batch *b); /* sum of value lengths */
rb_record *rb_batch_record(rb_batch *b, size_t i);
const rb_batch_range *rb_batch_ranges(const rb_batch *b, size_t *n);

/* Marks a record failed at `stage`: SKIPPED if `tolerate`, else FAILED.
 * The reason is formatted and kept with the record. */
void rb_record_fail(rb_record *r, rb_stage stage, bool tolerate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Settles a record in a non-failure state. */
void rb_record_settle(rb_record *r, rb_record_state state);

rb_batch_counts rb_batch_count_states(const rb_batch *b);

/* True when no record is PENDING: the batch may be committed unless one is
 * FAILED. */
bool rb_batch_all_settled(const rb_batch *b);

/* The first FAILED record, or NULL. */
const rb_record *rb_batch_first_failed(const rb_batch *b);

const char *rb_record_state_name(rb_record_state s);

#endif
