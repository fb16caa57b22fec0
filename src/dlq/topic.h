/*
 * topic.h -- the DLQ topic before the first dead letter: that it exists
 * (created as Kafka Connect creates its DLQ topic when it does not), and
 * the largest record it takes.  Private to src/dlq.
 *
 * Creation: one partition, replication factor
 * errors.deadletterqueue.topic.replication.factor (Connect's key; default
 * 3) capped at the number of brokers, -1 for the broker's
 * default.replication.factor.  A broker that refuses (no CREATE right on
 * the topic or the cluster, a policy, a bad name) is a configuration error
 * that names the topic, the broker's reason and what to do.
 *
 * Limit: the topic's max.message.bytes, read with DescribeConfigs; 0 when
 * the broker does not say (no DescribeConfigs right), in which case the
 * producer's own message.max.bytes is all that bounds a copy.
 *
 * Waits: every admin request and metadata read is bounded (15 s, and 30 s
 * for a created topic to show a leader); running out is a retriable error.
 */
#ifndef RB_DLQ_TOPIC_H
#define RB_DLQ_TOPIC_H

#include "common/error.h"
#include "common/log.h"

#include <librdkafka/rdkafka.h>
#include <stddef.h>

/* Makes sure `topic` exists, and sets *max_message_bytes.  `rk` is any
 * client handle (the DLQ uses a short-lived producer handle). */
int rb_dlq_topic_prepare(rd_kafka_t *rk, const char *topic, int replication_factor,
                         const rb_log *log, size_t *max_message_bytes, rb_error *err);

/* The error for a CreateTopics answer `code` (with the broker's `reason`)
 * on `topic`; returns -1.  Split out so its messages are tested without a
 * broker that refuses. */
int rb_dlq_topic_create_error(const char *topic, int replication_factor, rd_kafka_resp_err_t code,
                              const char *reason, rb_error *err);

#endif
