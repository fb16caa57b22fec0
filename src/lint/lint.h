/*
 * lint.h -- the checks `ragbatch check` makes beyond the key table: what
 * `run` would otherwise find only when it starts, or later.
 *
 * rb_lint_job() compiles the schema (schema.file) and the text template,
 * checks that every field the template, metadata.fields and the document.*
 * field keys name is one the schema allows (schema_fields.h), passes each
 * kafka.* property through librdkafka's own rd_kafka_conf_set() on a
 * configuration that is thrown away, and opens the local model
 * (embed.model.dir, weights included).  rb_lint_connect() also reaches the
 * servers, each within a bounded time: the Kafka brokers and the job's
 * topics, the DLQ topic, MongoDB, and the schema registry.
 *
 * Nothing stops at the first problem: each one is recorded in the trace
 * (config/trace.h) at the file and line of the key it concerns (the job
 * file alone when the value is a default), and every check runs.  The
 * configuration is only read; nothing is created or written anywhere.
 */
#ifndef RB_LINT_H
#define RB_LINT_H

#include "config/config.h"
#include "config/trace.h"

/* The offline checks.  `cfg` has been loaded with `trace` attached. */
void rb_lint_job(const rb_job_config *cfg, rb_config_trace *trace);

/* The probes of the servers, each bounded by `timeout_ms`; the results go
 * to the trace as errors (unreachable, a topic missing, ...) and, for what
 * answered, to `out` as "  kafka: ..." lines when `out` is not NULL. */
void rb_lint_connect(const rb_job_config *cfg, rb_config_trace *trace, int timeout_ms, FILE *out);

/* Records `msg` as a problem of `key`, placed at the key's origin. */
void rb_lint_report(const rb_job_config *cfg, rb_config_trace *trace, rb_diag_level level,
                    const char *key, const char *msg);

#endif
