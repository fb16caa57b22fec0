/* dlq.c -- the dead-letter producer and one batch's send; see dlq.h. */
#include "dlq/dlq.h"

#include "dlq/copy.h"
#include "dlq/topic.h"

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
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    char *topic;
    char *job_name;
    char task_id[128];
    bool context_headers;
    const rb_log *log;
    size_t limit;           /* largest record the topic and the producer take */
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

/* A delivery report: the record is dead-lettered, or keeps the broker's
 * refusal in dlq_error and stays SKIPPED for the caller to decide on. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rb_dlq *d = opaque;
    rb_record *rec = m->_private;
    if (!rec) return;
    if (m->err) {
        rec->dlq_error = (int)m->err;
        snprintf(d->last_error, sizeof d->last_error, "%s", rd_kafka_err2str(m->err));
        return;
    }
    rec->dlq_error = 0;
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

/* The job's producer-side properties, plus what the DLQ needs. */
static rd_kafka_conf_t *producer_conf(const rb_dlq_opts *opts, const char *role, rb_error *err) {
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char client[300];
    snprintf(client, sizeof client, "ragbatch-%s-%s", opts->job_name, role);
    int rc = conf_put(conf, "client.id", client, err);
    for (size_t i = 0; rc == 0 && i < opts->kafka_count; i++)
        if (!consumer_only(opts->kafka[i].key))
            rc = conf_put(conf, opts->kafka[i].key, opts->kafka[i].value, err);
    if (rc != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

/* The producer's message.max.bytes as configured (librdkafka's default when
 * the job does not set it). */
static size_t conf_max_bytes(rd_kafka_conf_t *conf) {
    char v[32];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(conf, "message.max.bytes", v, &n) != RD_KAFKA_CONF_OK) return 1000000;
    return (size_t)strtoull(v, NULL, 10);
}

/* Creates the topic if it is missing and learns its limit, on a handle of
 * its own: the producer's message.max.bytes is set from that limit. */
static int prepare_topic(rb_dlq *d, const rb_dlq_opts *opts, size_t *topic_limit, rb_error *err) {
    rd_kafka_conf_t *conf = producer_conf(opts, "dlq-admin", err);
    if (!conf) return -1;
    /* Creation is explicit (as Connect does), with the configured
     * replication factor, never a side effect of a metadata request. */
    if (conf_put(conf, "allow.auto.create.topics", "false", err) != 0) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    rd_kafka_conf_set_opaque(conf, d);
    rd_kafka_conf_set_log_cb(conf, on_log);
    char errstr[512];
    rd_kafka_t *admin = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!admin) {
        rd_kafka_conf_destroy(conf);
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ, "cannot create a Kafka client: %s",
                            errstr);
    }
    int rc = rb_dlq_topic_prepare(admin, d->topic, opts->replication_factor, d->log, topic_limit,
                                  err);
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
    rd_kafka_conf_t *conf = producer_conf(opts, "dlq", err);
    if (!conf) {
        rb_dlq_destroy(d);
        return NULL;
    }
    d->limit = conf_max_bytes(conf);
    int rc = 0;
    if (topic_limit > 0 && topic_limit < d->limit) {
        /* Batches then never grow past what the topic takes, and a record
         * that cannot fit is refused at once, before it reaches the broker. */
        char v[32];
        snprintf(v, sizeof v, "%zu", topic_limit);
        d->limit = topic_limit;
        rc = conf_put(conf, "message.max.bytes", v, err);
        if (rc == 0) rc = conf_put(conf, "batch.size", v, err);
    }
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
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ, "cannot create the DLQ producer: %s",
                     errstr);
        rb_dlq_destroy(d);
        return NULL;
    }
    if (!(d->rkt = rd_kafka_topic_new(d->rk, d->topic, NULL))) {
        rb_error_nomem(err, RB_STAGE_DLQ, "DLQ topic handle");
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

/* Hands one record to librdkafka.  Returns 0, or the error of the produce
 * call itself (the headers are then freed here). */
static rd_kafka_resp_err_t produce(rb_dlq *d, rb_record *rec, size_t value_len,
                                   rd_kafka_headers_t *h) {
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            d->rk, RD_KAFKA_V_RKT(d->rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
            RD_KAFKA_V_KEY(rec->key, rec->key_len),
            RD_KAFKA_V_VALUE((void *)rec->value, rec->value ? value_len : 0),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
            RD_KAFKA_V_OPAQUE(rec), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return e; /* the headers now belong to librdkafka */
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_headers_destroy(h);
            return e;
        }
        rd_kafka_poll(d->rk, 100);
    }
}

/* Waits for every delivery report.  A producer in a fatal state can
 * deliver nothing more: that is the destination's refusal. */
static int wait_acks(rb_dlq *d, rb_error *err) {
    rd_kafka_resp_err_t e = rd_kafka_flush(d->rk, DLQ_FLUSH_TIMEOUT_MS);
    char fatal[512];
    if (rd_kafka_fatal_error(d->rk, fatal, sizeof fatal))
        return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                            "the DLQ producer for topic '%s' failed for good: %s; stopping with "
                            "nothing of this batch committed",
                            d->topic, fatal);
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "DLQ topic '%s' did not acknowledge within %d ms: %s",
                                      d->topic, DLQ_FLUSH_TIMEOUT_MS, rd_kafka_err2str(e));
    return 0;
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
    *e = produce(d, rec, value_len, h);
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
        if (rb_dlq_classify(e) != RB_DLQ_RECORD)
            return rb_dlq_classify(e) == RB_DLQ_RETRIABLE
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
            rb_log_write(d->log, RB_LOG_WARN, "dlq_truncated",
                         "topic=%s partition=%" PRId32 " offset=%" PRId64
                         " value_bytes=%zu sent_bytes=%zu reason=\"%s\": the DLQ topic %s holds a "
                         "bounded copy; the original stays at this offset",
                         rec->topic, rec->partition, rec->offset, value_len, cut, reason, d->topic);
            return 0;
        }
        rb_dlq_refusal kind = rb_dlq_classify(e);
        if (kind == RB_DLQ_RETRIABLE)
            return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                          "delivery to DLQ topic '%s' failed: %s", d->topic,
                                          rd_kafka_err2str(e));
        if (kind == RB_DLQ_DESTINATION || e != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || cut == 0)
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
        rd_kafka_resp_err_t e =
            produce(d, rec, rec->value ? rec->value_len : 0, rb_dlq_headers(&ctx, rec, NULL));
        if (e) rec->dlq_error = (int)e; /* refused before reaching the broker */
        count++;
        rd_kafka_poll(d->rk, 0);
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
        switch (e ? rb_dlq_classify(e) : RB_DLQ_RETRIABLE) {
        case RB_DLQ_RETRIABLE: retry = true; break;
        case RB_DLQ_RECORD: rc = send_bounded(d, rec, e, err); break;
        case RB_DLQ_DESTINATION: rc = refused(d, rec, "the topic refuses it", e, err); break;
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
    if (d->rk) {
        rd_kafka_flush(d->rk, 10000);
        if (d->rkt) rd_kafka_topic_destroy(d->rkt);
        rd_kafka_destroy(d->rk);
    }
    free(d->topic);
    free(d->job_name);
    free(d);
}
