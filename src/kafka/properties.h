/*
 * properties.h -- the configuration properties this librdkafka knows, as
 * the job keys that reach them (`kafka.` + the property's name): what
 * `ragbatch config --kafka` lists and shell completion offers after
 * `--set kafka.`.
 *
 * The list comes from the linked library itself
 * (rd_kafka_conf_properties_show), so it is always the one the job's keys
 * are checked against, whatever librdkafka version the binary runs with.
 * Both the global and the topic properties are listed: a job's kafka.* keys
 * go to the consumer and to the dead-letter producer alike.
 */
#ifndef RB_KAFKA_PROPERTIES_H
#define RB_KAFKA_PROPERTIES_H

#include "common/error.h"

#include <stdio.h>

/* Writes one line per property to `out`: "kafka.NAME", then who reads it
 * (consumer, producer or both) and librdkafka's importance (high, medium,
 * low), in librdkafka's order.  Fails when the listing cannot be captured
 * (RB_ERR_NOMEM) or holds no property at all (RB_ERR_KAFKA). */
int rb_kafka_properties_print(FILE *out, rb_error *err);

#endif
