/*
 * config.h -- the one place a librdkafka client configuration is built:
 * the consumer (src/source), the DLQ producer and its admin handle
 * (src/dlq), the DLQ reader, and the producers of `ragbatch dlq replay`
 * and `ragbatch generate`.
 *
 * A configuration starts with the client's role (it names the client in
 * every error), its client.id and its bootstrap servers; then the caller
 * sets its defaults, then the user's properties (the job's kafka.* keys or
 * a command line's -X NAME=VALUE; security.protocol, sasl.* and ssl.* come
 * this way), then what the caller must enforce.  librdkafka keeps the last
 * value of a property, so that order is also the order of precedence.
 * Every rd_kafka_conf_set() result is checked: a refused property is an
 * RB_ERR_CONFIG error naming it as the user wrote it ("kafka.KEY" for a
 * job key, "-X KEY" for a command-line property, the bare name for one the
 * caller sets) and the client, with librdkafka's reason.  Values are never
 * quoted in errors, since sasl.password and ssl.key.password come this way.
 *
 * For a producer, properties only a consumer understands (group.*,
 * fetch.*, session.timeout.ms, ...) are left out of the user's set:
 * librdkafka would warn once per property at start.
 *
 * This header needs no librdkafka type, so the command-line verbs build
 * configurations for the shared producer without librdkafka's header;
 * the modules that drive librdkafka themselves (the source, the DLQ and
 * its reader) turn a configuration into a client with kafka/client.h.
 *
 * Ownership: rb_kafka_config owns its librdkafka configuration until a
 * client is made from it (rb_kafka_config_client, rb_kafka_producer_new),
 * which consumes the rb_kafka_config whether or not it succeeds.  Strings
 * passed in are copied by librdkafka.  No global state.
 */
#ifndef RB_KAFKA_CONFIG_H
#define RB_KAFKA_CONFIG_H

#include "common/error.h"
#include "common/log.h"
#include "config/config.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rb_kafka_config rb_kafka_config;

typedef struct rb_kafka_client_opts {
    const char *role;      /* "consumer", "DLQ producer", ...: names the client in errors */
    rb_stage stage;        /* stage of the errors */
    const char *client_id; /* NULL: librdkafka's default */
    const char *bootstrap; /* NULL: the user's properties give bootstrap.servers */
    bool producer;         /* leave consumer-only user properties out */
} rb_kafka_client_opts;

/* An empty configuration for one client, with client.id and
 * bootstrap.servers set when given.  NULL with `err` set on failure. */
rb_kafka_config *rb_kafka_config_new(const rb_kafka_client_opts *opts, rb_error *err);

/* Sets one property the caller chose (a default or an enforced value). */
int rb_kafka_config_set(rb_kafka_config *c, const char *key, const char *value, rb_error *err);

/* Sets a property librdkafka may lack (a compression codec not built in):
 * returns 0, or -1 with librdkafka's reason in `why`; nothing else fails. */
int rb_kafka_config_try(rb_kafka_config *c, const char *key, const char *value, char *why,
                        size_t why_size);

/* The job's kafka.* properties (keys without the prefix), in order;
 * errors name "kafka.KEY". */
int rb_kafka_config_set_props(rb_kafka_config *c, const rb_kv *props, size_t n, rb_error *err);

/* Command-line properties "NAME=VALUE" (an optional "kafka." prefix on
 * NAME is dropped), in order; one without '=' or with an empty name is an
 * RB_ERR_ARG error quoting it, a refused one names "-X NAME". */
int rb_kafka_config_set_args(rb_kafka_config *c, const char *const *args, size_t n, rb_error *err);

/* A property's current value as a size (librdkafka's default when nobody
 * set it); `fallback` when it cannot be read. */
size_t rb_kafka_config_get_size(const rb_kafka_config *c, const char *key, size_t fallback);

void rb_kafka_config_destroy(rb_kafka_config *c); /* accepts NULL */

/* True for a librdkafka property only a consumer understands. */
bool rb_kafka_consumer_only(const char *key);

#endif
