/*
 * client.h -- a librdkafka client from an rb_kafka_config (kafka/config.h),
 * for the modules that drive librdkafka themselves: the consumer
 * (src/source), the DLQ's topic handle and the DLQ reader (src/dlq), and
 * the shared producer (kafka/producer.c).  The command-line verbs never
 * include this header, and so never librdkafka's.
 */
#ifndef RB_KAFKA_CLIENT_H
#define RB_KAFKA_CLIENT_H

#include "common/error.h"
#include "common/log.h"
#include "kafka/config.h"

#include <librdkafka/rdkafka.h>

/* The librdkafka configuration, for installing callbacks and the opaque.
 * Owned by `c`. */
rd_kafka_conf_t *rb_kafka_config_conf(rb_kafka_config *c);

/* Creates the client (RD_KAFKA_CONSUMER or RD_KAFKA_PRODUCER) and consumes
 * `c`.  A failure is an RB_ERR_KAFKA error naming the role and
 * librdkafka's reason (mostly an inconsistent set, such as
 * enable.idempotence with acks=1, which no single property shows). */
rd_kafka_t *rb_kafka_config_client(rb_kafka_config *c, rd_kafka_type_t type, rb_error *err);

/* The log level of a librdkafka log line (syslog levels: 0-3 error,
 * 4 warning, 5-6 info, 7 debug). */
rb_log_level rb_kafka_log_level(int syslog_level);

#endif
