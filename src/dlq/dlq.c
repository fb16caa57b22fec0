/* dlq.c -- the dead-letter producer and one batch's send; see dlq.h. */
#include "dlq/dlq.h"

#include "dlq/copy.h"
#include "dlq/topic.h"
#include "kafka/client.h"
#include "kafka/errors.h"
#include "kafka/producer.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long one send waits for the broker's acknowledgements. */
#define DLQ_FLUSH_TIMEOUT_MS 30000
/* Halvings of a bounded copy the broker still finds too large (the limit
 * read from the topic may be out of date, or compression may differ). */
#define DLQ_SHRINK_ATTEMPTS 16

struct rb_dlq {
    rb_kafka_producer *prod;
    char *topic;
    char *job_name;
    char task_id[128];
    bool context_headers;
    const rb_log *log;
    size_t limit; /* largest record the topic and the producer take */
    char last_error[512];
};

/* A delivery report: the record is dead-lettered, or keeps the broker's
 * refusal in dlq_error and stays SKIPPED for the caller to decide on. */
static void on_report(const rb_kafka_report *r, void *ctx) {
    rb_dlq *d = ctx;
    rb_record *rec = r->opaque;
    if (!rec) return;
    if (r->code) {
        rec->dlq_error = r->code;
        snprintf(d->last_error, sizeof d->last_error, "%s", rb_kafka_error_string(r->code));
        return;
    }
    rec->dlq_error = 0;
    rb_record_settle(rec, RB_REC_DEAD_LETTERED);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    rb_dlq *d = rd_kafka_opaque(rk);
    rb_log_kv(d ? d->log : NULL, rb_kafka_log_level(level), "dlq_kafka",
              RB_LOG_FIELDS(RB_LOG_S("facility", fac)), "%s", buf);
}

/* The job's producer-side properties, for the DLQ producer or the handle
 * that prepares its topic. */
static rb_kafka_config *producer_conf(const rb_dlq_opts *opts, const char *role, rb_error *err) {
    char client[300];
    snprintf(client, sizeof client, "ragbatch-%s-%s", opts->job_name, role);
    const rb_kafka_client_opts co = {.role = "DLQ producer",
                                     .stage = RB_STAGE_DLQ,
                                     .client_id = client,
                                     .producer = true};
    rb_kafka_config *conf = rb_kafka_config_new(&co, err);
    if (conf && rb_kafka_config_set_props(conf, opts->kafka, opts->kafka_count, err) != 0) {
        rb_kafka_config_destroy(conf);
        return NULL;
    }
    return conf;
}

/* Creates the topic if it is missing and learns its limit, on a handle of
 * its own: the producer's message.max.bytes is set from that limit. */
static int prepare_topic(rb_dlq *d, const rb_dlq_opts *opts, size_t *topic_limit, rb_error *err) {
    rb_kafka_config *conf = producer_conf(opts, "dlq-admin", err);
    if (!conf) return -1;
    /* Creation is explicit (as Connect does), with the configured
     * replication factor, never a side effect of a metadata request. */
    if (rb_kafka_config_set(conf, "allow.auto.create.topics", "false", err) != 0) {
        rb_kafka_config_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_opaque(rb_kafka_config_conf(conf), d);
    rd_kafka_conf_set_log_cb(rb_kafka_config_conf(conf), on_log);
    rd_kafka_t *admin = rb_kafka_config_client(conf, RD_KAFKA_PRODUCER, err);
    if (!admin) return -1;
    int rc =
        rb_dlq_topic_prepare(admin, d->topic, opts->replication_factor, d->log, topic_limit, err);
    rd_kafka_destroy(admin);
    return rc;
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

    size_t topic_limit = 0;
    if (prepare_topic(d, opts, &topic_limit, err) != 0) {
        rb_dlq_destroy(d);
        return NULL;
    }
    rb_kafka_config *conf = producer_conf(opts, "dlq", err);
    if (!conf) {
        rb_dlq_destroy(d);
        return NULL;
    }
    d->limit = rb_kafka_config_get_size(conf, "message.max.bytes", 1000000);
    if (topic_limit > 0 && topic_limit < d->limit) {
        /* Batches then never grow past what the topic takes, and a record
         * that cannot fit is refused at once, before it reaches the broker. */
        char v[32];
        snprintf(v, sizeof v, "%zu", topic_limit);
        d->limit = topic_limit;
        if (rb_kafka_config_set(conf, "message.max.bytes", v, err) != 0 ||
            rb_kafka_config_set(conf, "batch.size", v, err) != 0) {
            rb_kafka_config_destroy(conf);
            rb_dlq_destroy(d);
            return NULL;
        }
    }
    /* Nothing may be lost between the DLQ and the source commit: the
     * producer is acknowledged (acks=all, idempotent). */
    const rb_kafka_producer_opts po = {.topic = d->topic,
                                       .on_report = on_report,
                                       .report_ctx = d,
                                       .log = d->log,
                                       .log_event = "dlq_kafka",
                                       .stage = RB_STAGE_DLQ};
    if (!(d->prod = rb_kafka_producer_new(conf, &po, err))) {
        rb_dlq_destroy(d);
        return NULL;
    }
    return d;
}

size_t rb_dlq_limit(const rb_dlq *d) { return d->limit; }

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

/* Hands one record to the producer, with the headers `h` (freed here).
 * Returns 0, or the error of the produce call itself: a queue that stays
 * full for a flush's time is such an error, a retriable one. */
static int produce(rb_dlq *d, rb_record *rec, size_t value_len, rd_kafka_headers_t *h) {
    size_t n = 0;
    const char *name;
    const void *value;
    size_t size;
    while (rd_kafka_header_get_all(h, n, &name, &value, &size) == 0) n++;
    rb_header *view = n ? malloc(n * sizeof *view) : NULL;
    if (n && !view) {
        rd_kafka_headers_destroy(h);
        return RD_KAFKA_RESP_ERR__FAIL; /* classed DESTINATION: the job stops */
    }
    for (size_t i = 0; i < n && rd_kafka_header_get_all(h, i, &name, &value, &size) == 0; i++)
        view[i] = (rb_header){name, value, size};
    const rb_kafka_message m = {.key = rec->key,
                                .key_len = rec->key_len,
                                .value = rec->value,
                                .value_len = rec->value ? value_len : 0,
                                .headers = view,
                                .header_count = n,
                                .opaque = rec};
    rb_error perr;
    int e = rb_kafka_producer_send(d->prod, &m, DLQ_FLUSH_TIMEOUT_MS, &perr);
    free(view);
    rd_kafka_headers_destroy(h);
    return e;
}

/* Waits for every delivery report.  A producer in a fatal state can
 * deliver nothing more: that is the destination's refusal. */
static int wait_acks(rb_dlq *d, rb_error *err) {
    rb_error ferr;
    if (rb_kafka_producer_flush(d->prod, DLQ_FLUSH_TIMEOUT_MS, &ferr) == 0) return 0;
    if (!ferr.retriable)
        return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                            "the DLQ producer for topic '%s' failed for good: %s; stopping with "
                            "nothing of this batch committed",
                            d->topic, ferr.msg);
    return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                  "DLQ topic '%s' did not acknowledge: %s", d->topic, ferr.msg);
}

/* The error that stops the job: names the record and the broker's reason. */
static int refused(rb_dlq *d, const rb_record *rec, const char *what, rd_kafka_resp_err_t e,
                   rb_error *err) {
    return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                        "cannot dead-letter %s [%" PRId32 "] offset %" PRId64
                        " to topic '%s': %s (%s); stopping: nothing of this batch is committed, "
                        "so the record is read again after a restart",
                        rec->topic, rec->partition, rec->offset, d->topic, what,
                        rd_kafka_err2str(e));
}

/* Produces `rec` on its own (full, or its value cut to `value_len`) and
 * waits for its report.  Returns 0 with *e the broker's answer, or -1 when
 * the wait itself failed. */
static int send_alone(rb_dlq *d, rb_record *rec, size_t value_len, rd_kafka_headers_t *h,
                      rd_kafka_resp_err_t *e, rb_error *err) {
    rec->dlq_error = 0;
    *e = (rd_kafka_resp_err_t)produce(d, rec, value_len, h);
    if (*e) return 0;
    if (wait_acks(d, err) != 0) return -1;
    *e = rec->state == RB_REC_DEAD_LETTERED ? RD_KAFKA_RESP_ERR_NO_ERROR
                                            : (rd_kafka_resp_err_t)rec->dlq_error;
    return 0;
}

/* The record was refused as it is: alone it may pass (a batch of several
 * can be refused for their sum); otherwise a bounded copy goes, smaller
 * each time the broker still finds it too large. */
static int send_bounded(rb_dlq *d, rb_record *rec, rd_kafka_resp_err_t first, rb_error *err) {
    rd_kafka_resp_err_t e = first;
    const rb_dlq_context ctx = {d->context_headers, d->job_name, d->task_id};
    size_t value_len = rec->value ? rec->value_len : 0;
    rd_kafka_headers_t *h = rb_dlq_headers(&ctx, rec, NULL);
    bool fits = rb_dlq_wire_size(rec->key_len, value_len, h) <= d->limit;
    if (fits) {
        if (send_alone(d, rec, value_len, h, &e, err) != 0) return -1;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
        if (rb_kafka_classify(e) != RB_KAFKA_RECORD)
            return rb_kafka_classify(e) == RB_KAFKA_RETRIABLE
                       ? rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                                "delivery to DLQ topic '%s' failed: %s", d->topic,
                                                rd_kafka_err2str(e))
                       : refused(d, rec, "the topic refuses it", e, err);
    } else {
        rd_kafka_headers_destroy(h);
    }
    char reason[256];
    snprintf(reason, sizeof reason, "%s", rd_kafka_err2str(e));
    const rb_dlq_truncation trunc = {reason};
    h = rb_dlq_headers(&ctx, rec, &trunc);
    long room = rb_dlq_copy_room(d->limit, rec->key_len, h);
    rd_kafka_headers_destroy(h);
    if (room < 0) {
        char what[256];
        snprintf(what, sizeof what,
                 "its key and headers alone take more than the %zu bytes the topic accepts",
                 d->limit);
        return refused(d, rec, what, e, err);
    }
    size_t cut = (size_t)room < value_len ? (size_t)room : value_len;
    for (int attempt = 0; attempt < DLQ_SHRINK_ATTEMPTS; attempt++) {
        h = rb_dlq_headers(&ctx, rec, &trunc);
        if (send_alone(d, rec, cut, h, &e, err) != 0) return -1;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rb_log_kv(d->log, RB_LOG_WARN, "dlq_truncated",
                      RB_LOG_FIELDS(RB_LOG_S("topic", rec->topic),
                                    RB_LOG_I("partition", rec->partition),
                                    RB_LOG_I("offset", rec->offset),
                                    RB_LOG_U("value_bytes", value_len),
                                    RB_LOG_U("sent_bytes", cut), RB_LOG_S("reason", reason),
                                    RB_LOG_S("dlq_topic", d->topic)),
                      "the DLQ topic holds a bounded copy; the original stays at this offset");
            return 0;
        }
        rb_kafka_error_class kind = rb_kafka_classify(e);
        if (kind == RB_KAFKA_RETRIABLE)
            return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                          "delivery to DLQ topic '%s' failed: %s", d->topic,
                                          rd_kafka_err2str(e));
        if (kind == RB_KAFKA_DESTINATION || e != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || cut == 0)
            break;
        cut /= 2;
    }
    char what[128];
    snprintf(what, sizeof what, "even a bounded copy of %zu value bytes is refused", cut);
    return refused(d, rec, what, e, err);
}

int rb_dlq_send(rb_dlq *d, rb_batch *b, size_t *sent, rb_error *err) {
    size_t n = rb_batch_count(b), count = 0, before = 0;
    if (sent) *sent = 0;
    d->last_error[0] = '\0';
    const rb_dlq_context ctx = {d->context_headers, d->job_name, d->task_id};
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state == RB_REC_DEAD_LETTERED) before++;
        if (rec->state != RB_REC_SKIPPED) continue;
        rec->dlq_error = 0;
        int e = produce(d, rec, rec->value ? rec->value_len : 0, rb_dlq_headers(&ctx, rec, NULL));
        if (e) rec->dlq_error = e; /* refused before reaching the broker */
        count++;
        rb_kafka_producer_poll(d->prod, 0);
    }
    if (count == 0) return 0;
    if (wait_acks(d, err) != 0) return -1;
    /* Every report is in: decide on each refusal by its kind. */
    int rc = 0;
    bool retry = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state != RB_REC_SKIPPED) continue;
        rd_kafka_resp_err_t e = (rd_kafka_resp_err_t)rec->dlq_error;
        switch (e ? rb_kafka_classify(e) : RB_KAFKA_RETRIABLE) {
        case RB_KAFKA_RETRIABLE: retry = true; break;
        case RB_KAFKA_RECORD: rc = send_bounded(d, rec, e, err); break;
        case RB_KAFKA_DESTINATION: rc = refused(d, rec, "the topic refuses it", e, err); break;
        }
    }
    size_t after = 0;
    for (size_t i = 0; i < n; i++)
        if (rb_batch_record(b, i)->state == RB_REC_DEAD_LETTERED) after++;
    if (sent) *sent = after - before;
    if (rc != 0) return rc;
    if (retry)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "delivery to DLQ topic '%s' failed: %s", d->topic,
                                      d->last_error[0] ? d->last_error : "unknown error");
    return 0;
}

void rb_dlq_destroy(rb_dlq *d) {
    if (!d) return;
    if (d->prod) {
        rb_error ferr;
        rb_kafka_producer_flush(d->prod, 10000, &ferr); /* best effort: see dlq.h */
        rb_kafka_producer_destroy(d->prod);
    }
    free(d->topic);
    free(d->job_name);
    free(d);
}
