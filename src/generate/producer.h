/*
 * producer.h -- the Kafka side of `ragbatch generate`: the shared
 * acknowledged producer (kafka/producer.h) configured for generated
 * events.
 *
 * Defaults: client.id ragbatch-generate, a small linger, lz4 compression
 * when the library has it, and message.timeout.ms of a minute (not
 * librdkafka's five), so that a wrong bootstrap address is reported soon.
 * Any "-X" property given by the user is applied after these defaults and
 * wins; acks=all with idempotence is the producer's own and stays (no
 * duplicates or reordering on retries).  Every delivery report is counted
 * by the producer, which keeps the first failure with its topic, partition
 * and librdkafka's reason, so the caller can refuse to claim success.
 */
#ifndef RB_GEN_PRODUCER_H
#define RB_GEN_PRODUCER_H

#include "common/error.h"
#include "common/log.h"
#include "kafka/producer.h"

#include <stddef.h>

/* The header that marks deliberate garbage, so that a consumer can tell it
 * from a bug. */
#define RB_GEN_MALFORMED_HEADER "ragbatch-malformed"

/* Creates a producer for `topic` on `bootstrap` ("host:port[,...]").
 * `props` holds `nprops` strings "name=value" (an optional "kafka." prefix
 * on the name is dropped); an unknown or invalid property is an
 * RB_ERR_CONFIG error naming it.  `log` must outlive the producer. */
rb_kafka_producer *rb_gen_producer_new(const char *bootstrap, const char *topic,
                                       const char *const *props, size_t nprops, const rb_log *log,
                                       rb_error *err);

/* Enqueues a copy of one event.  `malformed_kind`, when not NULL, is
 * attached as header RB_GEN_MALFORMED_HEADER.  When the local queue is
 * full this returns -1 with a retriable RB_ERR_KAFKA error: poll, then
 * send again. */
int rb_gen_producer_send(rb_kafka_producer *p, const char *key, size_t key_len, const char *value,
                         size_t value_len, const char *malformed_kind, rb_error *err);

#endif
