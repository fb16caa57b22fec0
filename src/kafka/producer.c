/* producer.c -- the acknowledged producer; see producer.h. */
#include "kafka/producer.h"

#include "common/clock.h"
#include "kafka/client.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest single poll while a send waits for room in the queue. */
#define PRODUCER_POLL_SLICE_MS 100

struct rb_kafka_producer {
    rd_kafka_t *rk;
    char *topic; /* default topic; NULL: every message names one */
    rb_kafka_report_fn on_report;
    void *report_ctx;
    const rb_log *log;
    const char *log_event;
    rb_stage stage;
    rb_kafka_delivery delivery;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rb_kafka_producer *p = opaque;
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : (p->topic ? p->topic : "?");
    if (m->err) {
        if (p->delivery.failed++ == 0)
            snprintf(p->delivery.first_error, sizeof p->delivery.first_error,
                     "topic '%s' partition %d: %s", topic, (int)m->partition,
                     rd_kafka_err2str(m->err));
    } else {
        p->delivery.delivered++;
    }
    if (p->on_report) {
        const rb_kafka_report r = {m->_private, (int)m->err, topic, m->partition,
                                   m->err ? -1 : m->offset};
        p->on_report(&r, p->report_ctx);
    }
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
    (void)rk;
    rb_kafka_producer *p = opaque;
    /* Transport errors are retried by librdkafka itself: worth a warning;
     * what fails for good shows in the delivery reports and the flush. */
    rb_log_kv(p->log, RB_LOG_WARN, p->log_event,
              RB_LOG_FIELDS(RB_LOG_S("error.code", rd_kafka_err2name((rd_kafka_resp_err_t)code)),
                            RB_LOG_S("error.message", reason)),
              NULL);
}

/* librdkafka's own log lines (from its threads; rb_log_write writes each
 * line with one call). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    const rb_kafka_producer *p = rd_kafka_opaque(rk);
    if (strcmp(fac, "FAIL") == 0) return; /* the error callback reports these */
    rb_log_kv(p ? p->log : NULL, rb_kafka_log_level(level), p ? p->log_event : "kafka",
              RB_LOG_FIELDS(RB_LOG_S("facility", fac)), "%s", buf);
}

rb_kafka_producer *rb_kafka_producer_new(rb_kafka_config *conf, const rb_kafka_producer_opts *opts,
                                         rb_error *err) {
    rb_kafka_producer *p = calloc(1, sizeof *p);
    if (!p || (opts->topic && !(p->topic = strdup(opts->topic)))) {
        free(p);
        rb_kafka_config_destroy(conf);
        rb_error_nomem(err, opts->stage, "Kafka producer");
        return NULL;
    }
    p->on_report = opts->on_report;
    p->report_ctx = opts->report_ctx;
    p->log = opts->log;
    p->log_event = opts->log_event ? opts->log_event : "kafka";
    p->stage = opts->stage;
    /* Last, so that no user property weakens them. */
    if (rb_kafka_config_set(conf, "acks", "all", err) != 0 ||
        rb_kafka_config_set(conf, "enable.idempotence", "true", err) != 0) {
        rb_kafka_config_destroy(conf);
        rb_kafka_producer_destroy(p);
        return NULL;
    }
    rd_kafka_conf_t *rc = rb_kafka_config_conf(conf);
    rd_kafka_conf_set_opaque(rc, p);
    rd_kafka_conf_set_dr_msg_cb(rc, on_delivery);
    rd_kafka_conf_set_error_cb(rc, on_error);
    rd_kafka_conf_set_log_cb(rc, on_log);
    if (!(p->rk = rb_kafka_config_client(conf, RD_KAFKA_PRODUCER, err))) {
        rb_kafka_producer_destroy(p);
        return NULL;
    }
    return p;
}

/* One produce call; the headers belong to librdkafka once it succeeds. */
static rd_kafka_resp_err_t produce_once(rb_kafka_producer *p, const char *topic,
                                        const rb_kafka_message *m) {
    rd_kafka_headers_t *h = NULL;
    if (m->header_count > 0) {
        h = rd_kafka_headers_new(m->header_count);
        for (size_t i = 0; i < m->header_count; i++)
            rd_kafka_header_add(h, m->headers[i].name, -1, m->headers[i].value,
                                m->headers[i].value ? (ssize_t)m->headers[i].value_len : 0);
    }
    rd_kafka_resp_err_t e =
        rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(topic),
                          RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                          RD_KAFKA_V_KEY((void *)m->key, m->key ? m->key_len : 0),
                          RD_KAFKA_V_VALUE((void *)m->value, m->value ? m->value_len : 0),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                          RD_KAFKA_V_OPAQUE(m->opaque), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && h) rd_kafka_headers_destroy(h);
    return e;
}

int rb_kafka_producer_send(rb_kafka_producer *p, const rb_kafka_message *m, int wait_ms,
                           rb_error *err) {
    const char *topic = m->topic ? m->topic : p->topic;
    if (!topic)
        return rb_error_set(err, RB_ERR_ARG, p->stage, "a message without a topic"),
               RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
    int64_t until = rb_now_ms() + wait_ms;
    rd_kafka_resp_err_t e;
    while ((e = produce_once(p, topic, m)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        int64_t left = until - rb_now_ms();
        if (left <= 0) break;
        /* Reports free room in the queue as the broker acknowledges. */
        rd_kafka_poll(p->rk, (int)(left < PRODUCER_POLL_SLICE_MS ? left : PRODUCER_POLL_SLICE_MS));
    }
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        p->delivery.enqueued++;
        return 0;
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (wait_ms > 0)
            rb_error_set_retriable(err, RB_ERR_KAFKA, p->stage,
                                   "topic '%s': the local producer queue stayed full for %d ms",
                                   topic, wait_ms);
        else
            rb_error_set_retriable(err, RB_ERR_KAFKA, p->stage,
                                   "topic '%s': local producer queue full", topic);
    } else if (rb_kafka_classify((int)e) == RB_KAFKA_RETRIABLE) {
        rb_error_set_retriable(err, RB_ERR_KAFKA, p->stage, "topic '%s': cannot produce: %s",
                               topic, rd_kafka_err2str(e));
    } else {
        rb_error_set(err, RB_ERR_KAFKA, p->stage, "topic '%s': cannot produce: %s", topic,
                     rd_kafka_err2str(e));
    }
    return (int)e;
}

void rb_kafka_producer_poll(rb_kafka_producer *p, int timeout_ms) {
    rd_kafka_poll(p->rk, timeout_ms);
}

int rb_kafka_producer_flush(rb_kafka_producer *p, int timeout_ms, rb_error *err) {
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
    if (rb_kafka_producer_fatal(p, err) != 0) return -1;
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, p->stage,
                                      "%" PRIu64 " messages not acknowledged within %d ms: %s",
                                      p->delivery.enqueued - p->delivery.delivered -
                                          p->delivery.failed,
                                      timeout_ms, rd_kafka_err2str(e));
    return 0;
}

size_t rb_kafka_producer_outstanding(rb_kafka_producer *p) {
    int n = rd_kafka_outq_len(p->rk);
    return n > 0 ? (size_t)n : 0;
}

void rb_kafka_producer_purge(rb_kafka_producer *p) {
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

int rb_kafka_producer_fatal(rb_kafka_producer *p, rb_error *err) {
    char reason[512];
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(p->rk, reason, sizeof reason);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    return rb_error_set(err, RB_ERR_KAFKA, p->stage, "%s%s%sfatal producer error %s: %s",
                        p->topic ? "topic '" : "", p->topic ? p->topic : "", p->topic ? "': " : "",
                        rd_kafka_err2name(e), reason);
}

const rb_kafka_delivery *rb_kafka_producer_delivery(const rb_kafka_producer *p) {
    return &p->delivery;
}

void rb_kafka_producer_destroy(rb_kafka_producer *p) {
    if (!p) return;
    if (p->rk) rd_kafka_destroy(p->rk);
    free(p->topic);
    free(p);
}

const char *rb_kafka_error_string(int code) { return rd_kafka_err2str((rd_kafka_resp_err_t)code); }
