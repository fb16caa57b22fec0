/*
 * dlq.h -- the dead-letter queue: failed records, as they arrived, to a
 * Kafka topic, with the context headers Kafka Connect uses.
 *
 * With errors.tolerance = all and errors.deadletterqueue.topic.name set,
 * every record that failed at any stage -- the MongoDB write included -- is
 * produced to the DLQ topic with its original key, value and headers.  With
 * errors.deadletterqueue.context.headers.enable = true, headers named as
 * Kafka Connect names them (__connect.errors.topic, .partition, .offset,
 * .connector.name, .task.id, .stage, .class.name, .exception.class.name,
 * .exception.message, .exception.stacktrace) say where and why, so existing
 * DLQ tooling reads them; ragbatch adds its own under "ragbatch.":
 * ragbatch.error.stage, ragbatch.error.path (JSON pointer of the failing
 * value; "" when the document itself fails its schema),
 * ragbatch.error.schema.id (the Schema Registry id of a value in the wire
 * format: magic byte 0 and a 4-byte id, JSON Schema or Avro),
 * ragbatch.runner.version.
 *
 * Delivery: the producer is kafka/producer.h's (idempotent, acks=all), and
 * rb_dlq_send() returns only when the broker has acknowledged every record
 * it sent (or one failed, or its 30 s flush ran out: retriable).  The runner commits the source offsets of a batch only after
 * that, so nothing is lost between the two.
 *
 * Refusals (kafka/errors.h classes librdkafka's error codes): a retriable
 * one (broker or network down, timeouts) makes rb_dlq_send return a
 * retriable error, and the runner retries with backoff.  A record the
 * topic refuses as it is (Message size too large, invalid record) is sent
 * again on its own, and if still refused as a bounded copy: its value cut
 * to what the topic accepts, with headers saying so (truncated, original
 * size, SHA-256, reason; see copy.h) and a dlq_truncated log line.  When
 * not even that can be produced, or the topic refuses everything (unknown
 * topic, not authorised, a fatal producer error), rb_dlq_send returns a
 * non-retriable error naming the record and the broker's reason: the job
 * stops with nothing of the batch committed.
 *
 * The topic: rb_dlq_new creates it if it does not exist, as Kafka Connect
 * does (one partition, errors.deadletterqueue.topic.replication.factor
 * capped at the broker count), and reads its max.message.bytes; the
 * producer's message.max.bytes is lowered to it (dlq/topic.h).
 *
 * Threads: one thread uses a DLQ; librdkafka runs its own inside.
 */
#ifndef RB_DLQ_H
#define RB_DLQ_H

#include "batch/batch.h"
#include "common/error.h"
#include "common/log.h"
#include "config/config.h"

#include <stdbool.h>

typedef struct rb_dlq rb_dlq;

typedef struct rb_dlq_opts {
    const char *topic;
    const rb_kv *kafka; /* the job's kafka.* properties; consumer-only ones are left out */
    size_t kafka_count;
    bool context_headers;
    int replication_factor; /* of a topic it creates; -1: the broker's default */
    const char *job_name;   /* __connect.errors.connector.name */
    const rb_log *log;      /* must outlive the DLQ */
} rb_dlq_opts;

/* Creates the topic when it is missing, learns its limit, and creates the
 * producer.  A topic the broker will not create or describe is an
 * RB_ERR_CONFIG error naming it and what to do. */
rb_dlq *rb_dlq_new(const rb_dlq_opts *opts, rb_error *err);

/* The largest record (batch bytes) the DLQ producer sends: the smaller of
 * the topic's max.message.bytes and the producer's message.max.bytes. */
size_t rb_dlq_limit(const rb_dlq *d);

/* Produces every SKIPPED record of `b` and waits for the acknowledgements;
 * each acknowledged record becomes DEAD_LETTERED (*sent counts them).
 * Returns -1 retriable if a delivery failed for a reason that may pass or
 * timed out: the records not acknowledged stay SKIPPED, so calling again
 * sends only those.  Returns -1 not retriable when a record cannot be
 * dead-lettered even as a bounded copy (see above). */
int rb_dlq_send(rb_dlq *d, rb_batch *b, size_t *sent, rb_error *err);

void rb_dlq_destroy(rb_dlq *d); /* accepts NULL; waits up to 10 s for what is in flight */

/* The Kafka Connect stage name for a ragbatch stage (VALUE_CONVERTER,
 * TRANSFORMATION, TASK_PUT, ...), and the error class of a failure. */
const char *rb_dlq_connect_stage(rb_stage stage);
const char *rb_dlq_error_class(rb_stage stage);

#endif
