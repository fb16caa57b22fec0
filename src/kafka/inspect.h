/*
 * inspect.h -- looking at a cluster without taking part: the brokers, a
 * topic's partitions, and a consumer group's committed offsets beside each
 * partition's end offset (`ragbatch check --connect`, `ragbatch status`).
 *
 * The inspector is a consumer handle that never subscribes, so it never
 * joins the group and never moves an assignment or an offset: committed
 * offsets are read from the group coordinator (OffsetFetch), end offsets
 * with ListOffsets.  Every call is bounded by the inspector's timeout.
 *
 * Failures are RB_ERR_KAFKA errors naming the brokers or the topic and
 * librdkafka's reason; a topic that does not exist is not a failure of
 * rb_kafka_inspect_topic (partitions = -1).
 *
 * Ownership: the inspector copies what it is given; destroy it with
 * rb_kafka_inspector_destroy().  Partition arrays are the caller's (free()).
 */
#ifndef RB_KAFKA_INSPECT_H
#define RB_KAFKA_INSPECT_H

#include "common/error.h"
#include "config/config.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rb_kafka_inspector rb_kafka_inspector;

/* `props` are the job's kafka.* properties (without the prefix);
 * `group` the group whose offsets are read (NULL: none). */
rb_kafka_inspector *rb_kafka_inspector_new(const rb_kv *props, size_t nprops, const char *group,
                                           int timeout_ms, rb_error *err);
void rb_kafka_inspector_destroy(rb_kafka_inspector *k); /* accepts NULL */

/* How many brokers the cluster's metadata lists. */
int rb_kafka_inspect_brokers(rb_kafka_inspector *k, int *brokers, rb_error *err);

/* The number of partitions of `topic`, or -1 when it does not exist. */
int rb_kafka_inspect_topic(rb_kafka_inspector *k, const char *topic, int *partitions,
                           rb_error *err);

typedef struct rb_kafka_partition_offsets {
    int32_t partition;
    int64_t low, high; /* watermarks: first offset kept, end offset */
    int64_t committed; /* the group's committed offset, -1 when none */
} rb_kafka_partition_offsets;

/* Each partition of `topic` in order of id: watermarks and the group's
 * committed offset.  *out is malloc'ed (NULL with *n = 0 when the topic
 * has none or does not exist). */
int rb_kafka_inspect_offsets(rb_kafka_inspector *k, const char *topic,
                             rb_kafka_partition_offsets **out, size_t *n, rb_error *err);

#endif
