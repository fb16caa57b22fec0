/* connect.c -- `ragbatch check --connect`: the job's servers, reached
 * within a bounded time each, nothing created; see lint.h. */
#include "lint/lint.h"

#include "kafka/inspect.h"
#include "registry/registry.h"
#include "sink/sink.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void say(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(FILE *out, const char *fmt, ...) {
    if (!out) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
}

static void probe_kafka(const rb_job_config *cfg, rb_config_trace *trace, int timeout_ms,
                        FILE *out) {
    rb_error err;
    rb_kafka_inspector *k =
        rb_kafka_inspector_new(cfg->kafka, cfg->kafka_count, NULL, timeout_ms, &err);
    int brokers = 0;
    if (!k || rb_kafka_inspect_brokers(k, &brokers, &err) != 0) {
        rb_lint_report(cfg, trace, RB_DIAG_ERROR, "kafka.bootstrap.servers", err.msg);
        rb_kafka_inspector_destroy(k);
        return;
    }
    say(out, "# connect: kafka: %d broker(s)", brokers);
    for (size_t i = 0; i < cfg->topics.count; i++) {
        const char *topic = cfg->topics.items[i];
        int parts;
        char msg[600];
        if (rb_kafka_inspect_topic(k, topic, &parts, &err) != 0) {
            rb_lint_report(cfg, trace, RB_DIAG_ERROR, "source.topics", err.msg);
        } else if (parts < 0) {
            snprintf(msg, sizeof msg, "source topic '%s' does not exist on the cluster", topic);
            rb_lint_report(cfg, trace, RB_DIAG_ERROR, "source.topics", msg);
        } else {
            say(out, "# connect: topic %s: %d partition(s)", topic, parts);
        }
    }
    if (cfg->dlq_topic[0]) {
        int parts;
        char msg[600];
        if (rb_kafka_inspect_topic(k, cfg->dlq_topic, &parts, &err) != 0) {
            rb_lint_report(cfg, trace, RB_DIAG_ERROR, "errors.deadletterqueue.topic.name",
                           err.msg);
        } else if (parts < 0) {
            /* `run` creates it, as Connect does; the broker may refuse. */
            snprintf(msg, sizeof msg,
                     "the DLQ topic '%s' does not exist yet: `run` will create it (1 partition, "
                     "replication factor %lld capped at the %d broker(s)) if the broker allows",
                     cfg->dlq_topic, (long long)cfg->dlq_replication_factor, brokers);
            rb_lint_report(cfg, trace, RB_DIAG_WARNING, "errors.deadletterqueue.topic.name", msg);
        } else {
            say(out, "# connect: DLQ topic %s: %d partition(s)", cfg->dlq_topic, parts);
        }
    }
    rb_kafka_inspector_destroy(k);
}

static void probe_mongo(const rb_job_config *cfg, rb_config_trace *trace, int timeout_ms,
                        FILE *out) {
    rb_sink_opts so = {.uri = cfg->mongo_uri,
                       .database = cfg->mongo_database,
                       .collection = cfg->mongo_collection,
                       .timeout_ms = timeout_ms,
                       .socket_timeout_ms = timeout_ms,
                       .app_name = "ragbatch-check",
                       .probe_only = true};
    rb_error err;
    rb_sink *s = rb_sink_new(&so, &err);
    if (!s) {
        rb_lint_report(cfg, trace, RB_DIAG_ERROR, "mongo.uri", err.msg);
        return;
    }
    say(out, "# connect: mongodb: %s.%s answered", cfg->mongo_database, cfg->mongo_collection);
    rb_sink_destroy(s);
}

/* Registries number schemas from 1, so asking for id 0 reaches the server
 * and its authentication without needing any schema to exist: a "not
 * found" is the expected answer, a transport or auth failure is not. */
static void probe_registry(const rb_job_config *cfg, rb_config_trace *trace, int timeout_ms,
                           FILE *out) {
    if (!cfg->schema_registry_url[0]) return;
    rb_registry_options ro = {cfg->schema_registry_url, cfg->schema_registry_user_info,
                              timeout_ms};
    rb_registry *r = NULL;
    rb_error err;
    const rb_schema *unused;
    if (rb_registry_new(&ro, &r, &err) != 0 ||
        (rb_registry_schema(r, 0, &unused, &err) != 0 && err.code != RB_ERR_SCHEMA))
        rb_lint_report(cfg, trace, RB_DIAG_ERROR, "schema.registry.url", err.msg);
    else
        say(out, "# connect: schema registry answered");
    rb_registry_destroy(r);
}

void rb_lint_connect(const rb_job_config *cfg, rb_config_trace *trace, int timeout_ms, FILE *out) {
    probe_kafka(cfg, trace, timeout_ms, out);
    probe_mongo(cfg, trace, timeout_ms, out);
    probe_registry(cfg, trace, timeout_ms, out);
}
