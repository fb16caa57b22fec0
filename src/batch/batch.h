/*
 * batch.h -- the records of one micro-batch and what became of each.
 *
 * A batch owns copies of the records the source handed it (topic, key,
 * value, headers' worth of metadata), the per-partition offset ranges they
 * span, and, for every record, what the stages derived from it and the
 * state it reached (batch/record.h holds the lifecycle and the commit
 * rule).  It knows nothing of Kafka's or MongoDB's APIs: the source fills
 * it, the stages annotate it, the runner asks it whether every record is
 * accounted for before committing.
 *
 * Memory: the raw payloads live in one arena that rb_batch_reset() frees
 * in one sweep; what the stages derive (parsed event, text) is owned by
 * the record and freed at reset too.  Stage code running on several
 * threads may write to distinct records at once; adding records is
 * single-threaded.
 */
#ifndef RB_BATCH_H
#define RB_BATCH_H

#include "batch/record.h"
#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The offsets of one topic-partition in the batch. */
typedef struct rb_batch_range {
    const char *topic; /* owned by the batch's arena */
    int32_t partition;
    int64_t first_offset;
    int64_t last_offset;
    size_t count;
} rb_batch_range;

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
const rb_record *rb_batch_record_const(const rb_batch *b, size_t i);
const rb_batch_range *rb_batch_ranges(const rb_batch *b, size_t *n);

/* Records' states, their transitions, counts and the commit rule:
 * batch/record.h. */

#endif
