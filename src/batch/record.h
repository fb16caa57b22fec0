/*
 * record.h -- one record of a batch and its lifecycle: the states a record
 * goes through from the moment the source hands it over to the moment its
 * batch may be committed, the transitions allowed between them, and the
 * commit rule.  Every state change of a record goes through this module
 * (rb_record_settle, rb_record_fail); the stages decide WHICH state a
 * record reaches, this module decides whether it may.
 *
 * States.  Two are open (the record still needs work), the rest settled:
 *
 *   PENDING       read; to be decoded, embedded and written
 *   UNCHANGED     an upsert whose text and model match what is stored:
 *                 its vector is the stored one, it is written unembedded
 *   STORED        document written (upsert or soft delete with a new vector)
 *   REUSED        document written with the stored vector (was UNCHANGED)
 *   DELETED       soft delete written, or Kafka tombstone applied
 *   STALE         superseded within the batch, or not newer than the store
 *   SKIPPED       failed; tolerated (errors.tolerance = all)
 *   DEAD_LETTERED failed, tolerated, and acknowledged by the DLQ topic
 *   FAILED        failed; not tolerated: the batch must not commit
 *
 * Transitions (rb_record_transition_ok, the table in record.c):
 *
 *   PENDING   -> UNCHANGED                   (lookup: stored text and model match)
 *   PENDING   -> STORED | DELETED | STALE    (supersede, write)
 *   UNCHANGED -> PENDING                     (lookup: the read failed part-way)
 *   UNCHANGED -> REUSED | STALE              (write)
 *   PENDING, UNCHANGED -> SKIPPED | FAILED   (any stage fails it)
 *   SKIPPED   -> DEAD_LETTERED               (DLQ acknowledgement)
 *   DEAD_LETTERED -> DEAD_LETTERED           (a second acknowledgement: a
 *                 delivery retried after a flush timeout may land its
 *                 first copy too; nothing changes)
 *
 * Anything else -- leaving a settled state, skipping UNCHANGED to reach
 * REUSED, dead-lettering a record that did not fail -- is a programming
 * error.  It aborts the process in every build (not only with assertions
 * on), after one line on stderr naming the record and both states.  The
 * commit rule is what keeps a crash from losing an event, so a record in a
 * state its code path cannot explain must not reach a commit; an abort
 * commits nothing, and the batch is read again after the restart, where
 * replays are idempotent.
 *
 * The commit rule (rb_batch_commit_blocker): a batch's offsets may be
 * committed only when every record is settled, none is FAILED, and, when
 * the job has a DLQ, none is SKIPPED (every tolerated failure is in the
 * DLQ topic first).  Then in = stored + reused + deleted + stale + skipped
 * + dead_lettered (rb_batch_counts).
 *
 * Memory: a record's raw fields (topic, key, value, headers) live in its
 * batch's arena; what the stages derive (event, id, text, fail_reason) is
 * owned by the record and freed by rb_batch_reset().  Threads: stage code
 * may settle distinct records from several threads at once.
 */
#ifndef RB_RECORD_H
#define RB_RECORD_H

#include "common/error.h"
#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rb_record_state {
    RB_REC_PENDING = 0,
    RB_REC_UNCHANGED,
    RB_REC_STORED,
    RB_REC_REUSED,
    RB_REC_DELETED,
    RB_REC_STALE,
    RB_REC_SKIPPED,
    RB_REC_DEAD_LETTERED,
    RB_REC_FAILED,
    RB_REC_STATES
} rb_record_state;

typedef enum rb_record_op {
    RB_OP_UPSERT = 0,  /* store or replace the document */
    RB_OP_SOFT_DELETE, /* delete event: versioned tombstone document */
    RB_OP_HARD_DELETE  /* Kafka tombstone (null value): remove by id */
} rb_record_op;

/* One Kafka header, copied into the batch's arena. */
typedef struct rb_header {
    const char *name;  /* NUL-terminated */
    const char *value; /* NULL for a null header value */
    size_t value_len;
} rb_header;

typedef struct rb_record {
    /* As read from Kafka; owned by the batch's arena. */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* Kafka message timestamp, -1 if none */
    const char *key;      /* NULL if none; not NUL-terminated */
    size_t key_len;
    const char *value; /* NULL for a tombstone; NUL-terminated copy */
    size_t value_len;
    const rb_header *headers; /* the record's headers, in order */
    size_t header_count;

    /* Derived by the stages; owned by the record. */
    rb_record_op op;
    rb_json_doc *event;    /* parsed value */
    char *id;              /* document id */
    int64_t version;       /* ordering key: version field, else event time */
    int64_t event_time_ms; /* -1 if the event has none */
    char *text;            /* rendered text to embed */
    char text_hash[65];
    size_t vector_row;               /* row of the batch's vector matrix */
    struct rb_record_chunks *chunks; /* owned; NULL when the text is one chunk
                                        (batch/record_chunks.h) */

    /* Read it freely; change it only through rb_record_settle/fail. */
    rb_record_state state;
    rb_stage fail_stage; /* where it failed, when SKIPPED, DEAD_LETTERED or FAILED */
    char *fail_reason;   /* owned; NULL unless it failed */
    char fail_path[128]; /* JSON pointer of the failing value (validate), or "" */
    bool fail_logged;    /* the failure has had its log line */
    int dlq_error;       /* why the DLQ topic last refused it (librdkafka's code), 0 if not */
} rb_record;

/* Whether the lifecycle allows `from` -> `to`. */
bool rb_record_transition_ok(rb_record_state from, rb_record_state to);

/* Moves `r` to `state`; an illegal transition aborts (see above).  For
 * failures use rb_record_fail, which also keeps the reason. */
void rb_record_settle(rb_record *r, rb_record_state state);

/* Fails a record at `stage`: SKIPPED if `tolerate`, else FAILED.  The
 * reason is formatted, redacted (it may quote a URI) and kept with the
 * record.  Legal from PENDING and UNCHANGED only. */
void rb_record_fail(rb_record *r, rb_stage stage, bool tolerate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* PENDING or UNCHANGED: the record still needs a stage. */
bool rb_record_state_open(rb_record_state s);

/* "pending", "unchanged", "stored", ..., "dead_lettered", "failed". */
const char *rb_record_state_name(rb_record_state s);

/* ---- the batch's side of the lifecycle: counts and the commit rule ---- */

typedef struct rb_batch rb_batch;

/* Tally of the records' states.  `pending` counts the open ones (PENDING
 * and UNCHANGED); once it is 0, in = stored + reused + deleted + stale +
 * skipped + dead_lettered + failed. */
typedef struct rb_batch_counts {
    size_t in;
    size_t pending, stored, deleted, stale, reused, skipped, dead_lettered, failed;
} rb_batch_counts;

rb_batch_counts rb_batch_count_states(const rb_batch *b);

/* The sum of the settled outcomes (everything but `pending`). */
size_t rb_batch_counts_settled(const rb_batch_counts *c);

/* True when no record is open: the batch may be committed unless one is
 * FAILED (or, with a DLQ, SKIPPED). */
bool rb_batch_all_settled(const rb_batch *b);

/* The first FAILED record, or NULL. */
const rb_record *rb_batch_first_failed(const rb_batch *b);

/* The commit rule (see above): NULL when the batch may be committed, else
 * the first record that forbids it (open, FAILED, or SKIPPED while
 * `dead_letters` says the job has a DLQ). */
const rb_record *rb_batch_commit_blocker(const rb_batch *b, bool dead_letters);

#endif
