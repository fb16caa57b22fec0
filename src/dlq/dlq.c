#include "dlq/dlq.h"

#include "config.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long one send waits for the broker's acknowledgements. */
#define DLQ_FLUSH_TIMEOUT_MS 30000

struct rb_dlq {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char *topic;
    char *job_name;
    char task_id[128];
    bool context_headers;
    const rb_log *log;
    char last_error[512];
};

/* librdkafka properties that only a consumer understands; handing them to
 * the producer would only earn a warning per property at start. */
static bool consumer_only(const char *key) {
    static const char *const prefixes[] = {"group.", "fetch.", "enable.auto.", "queued.",
                                           "auto.commit."};
    static const char *const names[] = {"session.timeout.ms", "heartbeat.interval.ms",
                                        "max.poll.interval.ms", "auto.offset.reset",
                                        "partition.assignment.strategy", "enable.partition.eof",
                                        "isolation.level", "check.crcs",
                                        "coordinator.query.interval.ms"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0) return true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0) return true;
    return false;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rb_dlq *d = opaque;
    rb_record *rec = m->_private;
    if (!rec) return;
    if (m->err) {
        snprintf(d->last_error, sizeof d->last_error, "%s", rd_kafka_err2str(m->err));
        return; /* stays SKIPPED: the next send tries it again */
    }
    rb_record_settle(rec, RB_REC_DEAD_LETTERED);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    rb_dlq *d = rd_kafka_opaque(rk);
    rb_log_write(d ? d->log : NULL, level <= 3 ? RB_LOG_ERROR : level == 4 ? RB_LOG_WARN : RB_LOG_INFO,
                 "dlq_kafka", "facility=%s %s", fac, buf);
}

static int conf_put(rd_kafka_conf_t *conf, const char *key, const char *value, rb_error *err) {
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ, "kafka.%s (for the DLQ producer): %s",
                            key, errstr);
    return 0;
}

static int check_topic(rb_dlq *d, rb_error *err) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rerr = rd_kafka_metadata(d->rk, 0, d->rkt, &md, 10000);
    if (rerr)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "cannot read metadata of DLQ topic '%s': %s", d->topic,
                                      rd_kafka_err2str(rerr));
    bool ok = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
              md->topics[0].partition_cnt > 0;
    rd_kafka_metadata_destroy(md);
    if (!ok)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ,
                            "errors.deadletterqueue.topic.name: topic '%s' does not exist; create "
                            "it first (ragbatch does not create topics)",
                            d->topic);
    return 0;
}

rb_dlq *rb_dlq_new(const rb_dlq_opts *opts, rb_error *err) {
    rb_dlq *d = calloc(1, sizeof *d);
    if (!d || !(d->topic = strdup(opts->topic)) || !(d->job_name = strdup(opts->job_name))) {
        if (d) free(d->topic);
        free(d);
        rb_error_nomem(err, RB_STAGE_DLQ, "dead-letter queue");
        return NULL;
    }
    d->context_headers = opts->context_headers;
    d->log = opts->log;
    /* Kafka Connect's task id is a number within the connector; a ragbatch
     * worker is a process, so the host (the pod's name) and pid name it. */
    char host[64] = "unknown";
    gethostname(host, sizeof host - 1);
    snprintf(d->task_id, sizeof d->task_id, "%s-%ld", host, (long)getpid());

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char client[300];
    snprintf(client, sizeof client, "ragbatch-%s-dlq", opts->job_name);
    int rc = conf_put(conf, "client.id", client, err);
    for (size_t i = 0; rc == 0 && i < opts->kafka_count; i++)
        if (!consumer_only(opts->kafka[i].key))
            rc = conf_put(conf, opts->kafka[i].key, opts->kafka[i].value, err);
    /* Nothing may be lost between the DLQ and the source commit. */
    if (rc == 0) rc = conf_put(conf, "acks", "all", err);
    if (rc == 0) rc = conf_put(conf, "enable.idempotence", "true", err);
    if (rc != 0) {
        rd_kafka_conf_destroy(conf);
        rb_dlq_destroy(d);
        return NULL;
    }
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_log_cb(conf, on_log);
    char errstr[512];
    d->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!d->rk) {
        rd_kafka_conf_destroy(conf);
        rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_DLQ, "cannot create the DLQ producer: %s", errstr);
        rb_dlq_destroy(d);
        return NULL;
    }
    d->rkt = rd_kafka_topic_new(d->rk, d->topic, NULL);
    if (!d->rkt || check_topic(d, err) != 0) {
        if (!d->rkt) rb_error_nomem(err, RB_STAGE_DLQ, "DLQ topic handle");
        rb_dlq_destroy(d);
        return NULL;
    }
    return d;
}

const char *rb_dlq_connect_stage(rb_stage stage) {
    switch (stage) {
    case RB_STAGE_SOURCE: return "KAFKA_CONSUME";
    case RB_STAGE_DESERIALIZE:
    case RB_STAGE_VALIDATE: return "VALUE_CONVERTER";
    case RB_STAGE_TRANSFORM: return "TRANSFORMATION";
    case RB_STAGE_EMBED:
    case RB_STAGE_SINK: return "TASK_PUT";
    case RB_STAGE_DLQ: return "KAFKA_PRODUCE";
    default: return "TASK_PUT";
    }
}

const char *rb_dlq_error_class(rb_stage stage) {
    switch (stage) {
    case RB_STAGE_DESERIALIZE: return "ragbatch.DeserializationError";
    case RB_STAGE_VALIDATE: return "ragbatch.SchemaValidationError";
    case RB_STAGE_TRANSFORM: return "ragbatch.TransformError";
    case RB_STAGE_EMBED: return "ragbatch.EmbeddingError";
    case RB_STAGE_SINK: return "ragbatch.SinkWriteError";
    default: return "ragbatch.Error";
    }
}

static void add_header(rd_kafka_headers_t *h, const char *name, const char *value) {
    rd_kafka_header_add(h, name, -1, value, -1);
}

static rd_kafka_headers_t *build_headers(const rb_dlq *d, const rb_record *rec) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(rec->header_count + 14);
    for (size_t i = 0; i < rec->header_count; i++)
        rd_kafka_header_add(h, rec->headers[i].name, -1, rec->headers[i].value,
                            rec->headers[i].value ? (ssize_t)rec->headers[i].value_len : 0);
    if (!d->context_headers) return h;
    char num[32];
    const char *reason = rec->fail_reason ? rec->fail_reason : "";
    add_header(h, "__connect.errors.topic", rec->topic);
    snprintf(num, sizeof num, "%" PRId32, rec->partition);
    add_header(h, "__connect.errors.partition", num);
    snprintf(num, sizeof num, "%" PRId64, rec->offset);
    add_header(h, "__connect.errors.offset", num);
    add_header(h, "__connect.errors.connector.name", d->job_name);
    add_header(h, "__connect.errors.task.id", d->task_id);
    add_header(h, "__connect.errors.stage", rb_dlq_connect_stage(rec->fail_stage));
    char cls[64];
    snprintf(cls, sizeof cls, "ragbatch.stage.%s", rb_stage_name(rec->fail_stage));
    add_header(h, "__connect.errors.class.name", cls);
    add_header(h, "__connect.errors.exception.class.name", rb_dlq_error_class(rec->fail_stage));
    add_header(h, "__connect.errors.exception.message", reason);
    /* There is no Java stack to give; this is ragbatch's equivalent: where
     * in the pipeline, on what record, and why. */
    char trace[1400];
    snprintf(trace, sizeof trace,
             "%s: %s\n\tat ragbatch %s stage %s (job %s)\n\tat %s [%" PRId32 "] offset %" PRId64,
             rb_dlq_error_class(rec->fail_stage), reason, PACKAGE_VERSION,
             rb_stage_name(rec->fail_stage), d->job_name, rec->topic, rec->partition, rec->offset);
    add_header(h, "__connect.errors.exception.stacktrace", trace);
    add_header(h, "ragbatch.error.stage", rb_stage_name(rec->fail_stage));
    if (rec->fail_path[0]) add_header(h, "ragbatch.error.path", rec->fail_path);
    add_header(h, "ragbatch.runner.version", PACKAGE_VERSION);
    return h;
}

int rb_dlq_send(rb_dlq *d, rb_batch *b, size_t *sent, rb_error *err) {
    size_t n = rb_batch_count(b), count = 0;
    d->last_error[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state != RB_REC_SKIPPED) continue;
        rd_kafka_headers_t *h = build_headers(d, rec);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                d->rk, RD_KAFKA_V_RKT(d->rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                RD_KAFKA_V_KEY(rec->key, rec->key_len),
                RD_KAFKA_V_VALUE((void *)rec->value, rec->value ? rec->value_len : 0),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                RD_KAFKA_V_OPAQUE(rec), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break; /* the headers now belong to librdkafka */
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(d->rk, 100);
                continue;
            }
            rd_kafka_headers_destroy(h);
            rd_kafka_flush(d->rk, DLQ_FLUSH_TIMEOUT_MS);
            return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                          "producing %s [%d] offset %" PRId64
                                          " to DLQ topic '%s' failed: %s",
                                          rec->topic, rec->partition, rec->offset, d->topic,
                                          rd_kafka_err2str(e));
        }
        count++;
        rd_kafka_poll(d->rk, 0);
    }
    if (sent) *sent = count;
    if (count == 0) return 0;
    rd_kafka_resp_err_t e = rd_kafka_flush(d->rk, DLQ_FLUSH_TIMEOUT_MS);
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "DLQ topic '%s' did not acknowledge within %d ms: %s",
                                      d->topic, DLQ_FLUSH_TIMEOUT_MS, rd_kafka_err2str(e));
    for (size_t i = 0; i < n; i++)
        if (rb_batch_record(b, i)->state == RB_REC_SKIPPED)
            return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                          "delivery to DLQ topic '%s' failed: %s", d->topic,
                                          d->last_error[0] ? d->last_error : "unknown error");
    return 0;
}

void rb_dlq_destroy(rb_dlq *d) {
    if (!d) return;
    if (d->rk) {
        rd_kafka_flush(d->rk, 10000);
        if (d->rkt) rd_kafka_topic_destroy(d->rkt);
        rd_kafka_destroy(d->rk);
    }
    free(d->topic);
    free(d->job_name);
    free(d);
}
