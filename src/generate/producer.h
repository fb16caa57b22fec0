/*
 * producer.h -- the Kafka side of `ragbatch generate`.
 *
 * A thin librdkafka producer for generated events: key = product_id,
 * acks=all with idempotence (no duplicates or reordering on retries),
 * a small linger and lz4 compression when the library has it; any "-X"
 * property given by the user is applied after these defaults and wins.
 * Every message's delivery report is counted; the first failure is kept
 * with its topic, partition and librdkafka's reason, so the caller can
 * refuse to claim success.  librdkafka's types stay inside producer.c.
 *
 * The producer is used from one thread.  Delivery reports and client
 * errors are handled inside rb_gen_producer_poll(); client errors are
 * logged through `log` (which must outlive the producer; NULL logs to
 * stderr).  Destroying the producer does not flush: flush first.
 */
#ifndef RB_GEN_PRODUCER_H
#define RB_GEN_PRODUCER_H

#include "common/error.h"
#include "common/log.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rb_gen_producer rb_gen_producer;

typedef struct rb_gen_delivery {
    uint64_t enqueued;  /* messages accepted by rb_gen_producer_send() */
    uint64_t delivered; /* acknowledged by the broker */
    uint64_t failed;    /* delivery reports with an error */
    char first_error[512]; /* "" until a delivery fails */
} rb_gen_delivery;

/* Creates a producer for `topic` on `bootstrap` ("host:port[,...]").
 * `props` holds `nprops` strings "name=value" (an optional "kafka." prefix
 * on the name is dropped); an unknown or invalid property is an
 * RB_ERR_CONFIG error naming it.  The strings are copied. */
rb_gen_producer *rb_gen_producer_new(const char *bootstrap, const char *topic,
                                     const char *const *props, size_t nprops, const rb_log *log,
                                     rb_error *err);
void rb_gen_producer_destroy(rb_gen_producer *p); /* accepts NULL */

/* Enqueues a copy of one message.  `malformed_kind`, when not NULL, is
 * attached as header "ragbatch-malformed" so that a consumer can tell
 * deliberate garbage from a bug.  When the local queue is full this
 * returns -1 with a retriable RB_ERR_KAFKA error: poll, then send again. */
int rb_gen_producer_send(rb_gen_producer *p, const char *key, size_t key_len, const char *value,
                         size_t value_len, const char *malformed_kind, rb_error *err);

/* Serves delivery reports and client errors, waiting up to timeout_ms
 * (0 = do not wait) for one to arrive. */
void rb_gen_producer_poll(rb_gen_producer *p, int timeout_ms);

/* Messages enqueued or in flight whose delivery report is still due. */
size_t rb_gen_producer_outstanding(rb_gen_producer *p);

/* Fails every message not yet delivered (their reports then say
 * "purged"); used when the user interrupts a flush. */
void rb_gen_producer_purge(rb_gen_producer *p);

/* Returns -1 and fills `err` if the client hit a fatal error (e.g. the
 * idempotent producer lost its guarantees); 0 otherwise. */
int rb_gen_producer_fatal(rb_gen_producer *p, rb_error *err);

const rb_gen_delivery *rb_gen_producer_delivery(const rb_gen_producer *p);

#endif
