/*
 * reader.h -- reading a dead-letter topic back: every record from a
 * starting point up to the end offsets seen when the read began.
 *
 * Without a group the read starts at the beginning and commits nothing
 * (`ragbatch dlq stats`).  With a group it starts at the group's committed
 * offsets and rb_dlq_reader_commit() records how far it got (`ragbatch dlq
 * replay`, which commits only after the replayed records are acknowledged).
 */
#ifndef RB_DLQ_READER_H
#define RB_DLQ_READER_H

#include "batch/batch.h"
#include "common/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rb_dlq_record {
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* -1 when the broker gave none */
    const char *key;      /* may be NULL */
    size_t key_len;
    const char *value; /* may be NULL */
    size_t value_len;
    const rb_header *headers;
    size_t header_count;
} rb_dlq_record;

/* Return non-zero to stop reading (rb_dlq_read then returns that value). */
typedef int (*rb_dlq_record_fn)(const rb_dlq_record *rec, void *ctx);

typedef struct rb_dlq_reader rb_dlq_reader;

/* `props` are librdkafka properties ("name=value", as -X gives them;
 * kafka/config.h checks each), bootstrap.servers among them.  `group` may
 * be NULL. */
rb_dlq_reader *rb_dlq_reader_new(const char *topic, const char *group, const char *const *props,
                                 size_t nprops, rb_error *err);

/* Reads to the end offsets of the moment, calling `fn` for each record. */
int rb_dlq_read(rb_dlq_reader *r, rb_dlq_record_fn fn, void *ctx, rb_error *err);

/* Commits, for the group, every offset read so far (last + 1). */
int rb_dlq_reader_commit(rb_dlq_reader *r, rb_error *err);

void rb_dlq_reader_destroy(rb_dlq_reader *r); /* accepts NULL */

/* The value of header `name` as a NUL-terminated copy in `buf`, or NULL. */
const char *rb_dlq_header(const rb_dlq_record *rec, const char *name, char *buf, size_t size);

#endif
