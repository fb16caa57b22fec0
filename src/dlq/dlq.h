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
 * value), ragbatch.runner.version.
 *
 * Delivery: the producer is idempotent with acks=all, and rb_dlq_send()
 * returns only when the broker has acknowledged every record it sent (or
 * one failed).  The runner commits the source offsets of a batch only after
 * that, so nothing is lost between the two.
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
    const rb_kv *kafka;        /* the job's kafka.* properties; consumer-only ones are left out */
    size_t kafka_count;
    bool context_headers;
    const char *job_name;      /* __connect.errors.connector.name */
    const rb_log *log;         /* must outlive the DLQ */
} rb_dlq_opts;

/* Creates the producer and checks that the topic exists (an error names
 * it: ragbatch does not create topics). */
rb_dlq *rb_dlq_new(const rb_dlq_opts *opts, rb_error *err);

/* Produces every SKIPPED record of `b` and waits for the acknowledgements;
 * each acknowledged record becomes DEAD_LETTERED.  Returns -1 (retriable)
 * if a delivery failed or timed out: the records not acknowledged stay
 * SKIPPED, so calling again sends only those. */
int rb_dlq_send(rb_dlq *d, rb_batch *b, size_t *sent, rb_error *err);

void rb_dlq_destroy(rb_dlq *d); /* accepts NULL; waits up to 10 s for what is in flight */

/* The Kafka Connect stage name for a ragbatch stage (VALUE_CONVERTER,
 * TRANSFORMATION, TASK_PUT, ...), and the error class of a failure. */
const char *rb_dlq_connect_stage(rb_stage stage);
const char *rb_dlq_error_class(rb_stage stage);

#endif
