/*
 * copy.h -- what one dead letter is made of, and what to do when the DLQ
 * topic refuses it.  Private to src/dlq (dlq.c uses it; the unit tests
 * call it directly); no broker is needed for anything here.
 *
 * What a refusal means (kafka/errors.h, rb_kafka_classify):
 *   RETRIABLE    the send is retried with backoff, nothing committed
 *                meanwhile;
 *   RECORD       a bounded copy is sent instead;
 *   DESTINATION  the job stops, nothing of the batch committed, and the
 *                record is read again after a restart.
 *
 * A bounded copy carries the record's key and headers, its value cut to
 * what the DLQ accepts, the context headers (always, so the original can be
 * found), and ragbatch.error.value.truncated = true,
 * ragbatch.error.value.size (bytes of the original value),
 * ragbatch.error.value.sha256 (hex SHA-256 of the original value) and
 * ragbatch.error.dlq.reason (why the full record was refused).  The
 * original stays in the source topic at the offset the context headers
 * name.
 */
#ifndef RB_DLQ_COPY_H
#define RB_DLQ_COPY_H

#include "batch/batch.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

/* What the headers of one dead letter are built from. */
typedef struct rb_dlq_context {
    bool context_headers; /* errors.deadletterqueue.context.headers.enable */
    const char *job_name; /* __connect.errors.connector.name */
    const char *task_id;  /* __connect.errors.task.id */
} rb_dlq_context;

/* Present when the value is cut: the copy's headers say so. */
typedef struct rb_dlq_truncation {
    const char *reason; /* why the full record was refused */
} rb_dlq_truncation;

/* The headers of the dead letter of `rec`: its own, then (with
 * context_headers, or always for a bounded copy) Kafka Connect's
 * __connect.errors.* and ragbatch.error.*; `trunc` NULL for a full copy.
 * ragbatch.error.path is present for every validate failure, "" for the
 * document root.  The caller owns the result. */
rd_kafka_headers_t *rb_dlq_headers(const rb_dlq_context *ctx, const rb_record *rec,
                                   const rb_dlq_truncation *trunc);

/* Bytes a record takes in a Kafka record batch of its own, at most: the
 * batch header, the record's framing, key, value and headers.  The broker
 * compares this (compressed) with the topic's max.message.bytes. */
size_t rb_dlq_wire_size(size_t key_len, size_t value_len, const rd_kafka_headers_t *headers);

/* Value bytes of a bounded copy under `limit` (the DLQ's max.message.bytes)
 * with this key and these headers, or -1 when they alone do not fit. */
long rb_dlq_copy_room(size_t limit, size_t key_len, const rd_kafka_headers_t *headers);

/* The lowercase hex SHA-256 of `len` bytes (65 bytes with the NUL). */
int rb_dlq_sha256_hex(const void *data, size_t len, char out[65]);

#endif
