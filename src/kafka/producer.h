/*
 * producer.h -- the one acknowledged Kafka producer, shared by the DLQ
 * (src/dlq), `ragbatch dlq replay` and `ragbatch generate`.
 *
 * It runs with acks=all and enable.idempotence=true, set after the
 * caller's configuration so that nothing weakens them: the broker has
 * written a message to every in-sync replica before its delivery report
 * says so, and librdkafka's retries neither duplicate nor reorder it.
 *
 * A message is enqueued by rb_kafka_producer_send() (key, value and
 * headers are copied) and settled by its delivery report, which arrives
 * during rb_kafka_producer_poll() or rb_kafka_producer_flush(): the
 * producer counts it (rb_kafka_delivery, keeping the first failure's
 * topic, partition and reason) and hands it to the optional report
 * callback with the message's opaque pointer.  Failures are librdkafka's
 * error codes, as ints, so that this header needs no librdkafka type;
 * rb_kafka_error_string() names one and rb_kafka_classify()
 * (kafka/errors.h) says whether it can pass later.
 *
 * Every wait is bounded: a send waits at most `wait_ms` for room in a full
 * local queue, a flush at most its timeout.  A flush that runs out is a
 * retriable error (the broker may come back); a producer in a fatal state
 * (its idempotence guarantees lost) can deliver nothing more, and that is
 * an error that is not retriable.
 *
 * librdkafka's log lines and client errors go to `log` (which must outlive
 * the producer) under the given event name.  One thread uses a producer;
 * librdkafka runs its own inside, and the callbacks run in the thread that
 * polls or flushes.  Destroying does not flush: flush first.
 */
#ifndef RB_KAFKA_PRODUCER_H
#define RB_KAFKA_PRODUCER_H

#include "batch/batch.h"
#include "common/error.h"
#include "common/log.h"
#include "kafka/errors.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rb_kafka_config rb_kafka_config;
typedef struct rb_kafka_producer rb_kafka_producer;

/* One delivery report.  `code` 0: acknowledged at `offset`. */
typedef struct rb_kafka_report {
    void *opaque; /* the message's rb_kafka_message.opaque */
    int code;     /* librdkafka's rd_kafka_resp_err_t */
    const char *topic;
    int32_t partition;
    int64_t offset; /* -1 unless acknowledged */
} rb_kafka_report;

typedef void (*rb_kafka_report_fn)(const rb_kafka_report *report, void *ctx);

typedef struct rb_kafka_producer_opts {
    const char *topic;            /* for messages that name none; may be NULL */
    rb_kafka_report_fn on_report; /* NULL: reports are only counted */
    void *report_ctx;
    const rb_log *log;     /* librdkafka's own lines; NULL: stderr */
    const char *log_event; /* their event name; NULL: "kafka" */
    rb_stage stage;        /* stage of the errors */
} rb_kafka_producer_opts;

typedef struct rb_kafka_message {
    const char *topic; /* NULL: the producer's topic */
    const void *key;   /* may be NULL */
    size_t key_len;
    const void *value; /* NULL: a tombstone */
    size_t value_len;
    const rb_header *headers; /* copied; may be NULL */
    size_t header_count;
    void *opaque; /* handed back in the report */
} rb_kafka_message;

typedef struct rb_kafka_delivery {
    uint64_t enqueued;     /* accepted by rb_kafka_producer_send() */
    uint64_t delivered;    /* acknowledged */
    uint64_t failed;       /* reports with an error */
    char first_error[512]; /* "" until a report fails: topic, partition, reason */
} rb_kafka_delivery;

/* Creates the producer from `conf`, which it consumes in every case.
 * Errors name the role given to the configuration (see
 * rb_kafka_config_client). */
rb_kafka_producer *rb_kafka_producer_new(rb_kafka_config *conf, const rb_kafka_producer_opts *opts,
                                         rb_error *err);

/* Enqueues a copy of `m`.  Returns 0, or librdkafka's error code with
 * `err` set: while the local queue is full it serves reports and tries
 * again for up to `wait_ms` (0: not at all), then fails retriable; any
 * other refusal of the call itself is retriable as rb_kafka_classify()
 * says (a message larger than message.max.bytes is not).  No report
 * follows a refused message. */
int rb_kafka_producer_send(rb_kafka_producer *p, const rb_kafka_message *m, int wait_ms,
                           rb_error *err);

/* Serves delivery reports and client events, waiting up to timeout_ms
 * (0: do not wait) for one. */
void rb_kafka_producer_poll(rb_kafka_producer *p, int timeout_ms);

/* Waits up to timeout_ms for every report.  Returns 0; or -1 with `err`
 * not retriable when the producer is in a fatal state, retriable when
 * reports are still due at the timeout. */
int rb_kafka_producer_flush(rb_kafka_producer *p, int timeout_ms, rb_error *err);

/* Messages whose report is still due, plus librdkafka's own requests and
 * events not yet served (rd_kafka_outq_len): 0 means everything settled. */
size_t rb_kafka_producer_outstanding(rb_kafka_producer *p);

/* Fails every message not yet delivered (their reports say "purged"). */
void rb_kafka_producer_purge(rb_kafka_producer *p);

/* -1 with `err` set (not retriable) when the producer hit a fatal error. */
int rb_kafka_producer_fatal(rb_kafka_producer *p, rb_error *err);

const rb_kafka_delivery *rb_kafka_producer_delivery(const rb_kafka_producer *p);

void rb_kafka_producer_destroy(rb_kafka_producer *p); /* accepts NULL; does not flush */

/* librdkafka's description of an error code. */
const char *rb_kafka_error_string(int code);

#endif
