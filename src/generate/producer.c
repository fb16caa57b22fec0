#include "generate/producer.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#define MALFORMED_HEADER "ragbatch-malformed"

struct rb_gen_producer {
    rd_kafka_t *rk;
    char *topic;
    const rb_log *log;
    rb_gen_delivery delivery;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    rb_gen_producer *p = opaque;
    if (!m->err) {
        p->delivery.delivered++;
        return;
    }
    if (p->delivery.failed++ == 0)
        snprintf(p->delivery.first_error, sizeof p->delivery.first_error,
                 "topic '%s' partition %d: %s", p->topic, (int)m->partition,
                 rd_kafka_err2str(m->err));
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
    (void)rk;
    rb_gen_producer *p = opaque;
    rb_log_write(p->log, RB_LOG_WARN, "kafka", "%s: %s",
                 rd_kafka_err2name((rd_kafka_resp_err_t)code), reason);
}

/* librdkafka's own log lines (called from its threads; rb_log_write is
 * safe there, as it writes each line with one call). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    const rb_gen_producer *p = rd_kafka_opaque(rk);
    if (strcmp(fac, "FAIL") == 0) return; /* the error callback reports these */
    rb_log_level l = level <= 3 ? RB_LOG_ERROR : level == 4 ? RB_LOG_WARN
                     : level <= 6 ? RB_LOG_INFO : RB_LOG_DEBUG;
    rb_log_write(p ? p->log : NULL, l, "kafka", "%s: %s", fac, buf);
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, rb_error *err) {
    char errstr[512];
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr);
    if (res == RD_KAFKA_CONF_OK) return 0;
    return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "Kafka property %s=%s: %s", name,
                        value, errstr);
}

rb_gen_producer *rb_gen_producer_new(const char *bootstrap, const char *topic,
                                     const char *const *props, size_t nprops, const rb_log *log,
                                     rb_error *err) {
    rb_gen_producer *p = calloc(1, sizeof *p);
    if (!p) return rb_error_nomem(err, RB_STAGE_NONE, "producer"), NULL;
    p->log = log;
    p->topic = strdup(topic);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!p->topic || !conf) {
        rb_error_nomem(err, RB_STAGE_NONE, "producer configuration");
        goto fail;
    }
    if (set(conf, "bootstrap.servers", bootstrap, err) != 0 ||
        set(conf, "client.id", "ragbatch-generate", err) != 0 ||
        set(conf, "acks", "all", err) != 0 ||
        set(conf, "enable.idempotence", "true", err) != 0 ||
        set(conf, "linger.ms", "5", err) != 0 ||
        /* Fail undeliverable messages after a minute, not librdkafka's
         * default five, so a wrong bootstrap address is reported soon. */
        set(conf, "message.timeout.ms", "60000", err) != 0)
        goto fail;
    /* lz4 is optional in some librdkafka builds; without it, send plain. */
    char errstr[512];
    if (rd_kafka_conf_set(conf, "compression.type", "lz4", errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK)
        rb_log_write(log, RB_LOG_DEBUG, "kafka", "lz4 unavailable, sending uncompressed: %s",
                     errstr);
    for (size_t i = 0; i < nprops; i++) {
        const char *eq = strchr(props[i], '=');
        if (!eq || eq == props[i]) {
            rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                         "-X %s: expected name=value", props[i]);
            goto fail;
        }
        char name[256];
        const char *start = props[i];
        if (strncmp(start, "kafka.", 6) == 0) start += 6;
        size_t n = (size_t)(eq - start);
        if (n == 0 || n >= sizeof name) {
            rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "-X %s: bad property name", props[i]);
            goto fail;
        }
        memcpy(name, start, n);
        name[n] = '\0';
        if (set(conf, name, eq + 1, err) != 0) {
            rb_error_prefix(err, "-X");
            goto fail;
        }
    }
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!p->rk) {
        rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_NONE, "cannot create Kafka producer for %s: %s",
                     bootstrap, errstr);
        goto fail;
    }
    return p; /* rd_kafka_new took the configuration */
fail:
    if (conf) rd_kafka_conf_destroy(conf);
    free(p->topic);
    free(p);
    return NULL;
}

void rb_gen_producer_destroy(rb_gen_producer *p) {
    if (!p) return;
    if (p->rk) rd_kafka_destroy(p->rk);
    free(p->topic);
    free(p);
}

int rb_gen_producer_send(rb_gen_producer *p, const char *key, size_t key_len, const char *value,
                         size_t value_len, const char *malformed_kind, rb_error *err) {
    rd_kafka_resp_err_t e;
    if (malformed_kind) {
        e = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(p->topic),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY((void *)key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len),
                              RD_KAFKA_V_HEADER(MALFORMED_HEADER, malformed_kind,
                                                (ssize_t)strlen(malformed_kind)),
                              RD_KAFKA_V_END);
    } else {
        e = rd_kafka_producev(p->rk, RD_KAFKA_V_TOPIC(p->topic),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY((void *)key, key_len),
                              RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_END);
    }
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        p->delivery.enqueued++;
        return 0;
    }
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_NONE,
                                      "topic '%s': local producer queue full", p->topic);
    return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_NONE, "topic '%s': cannot produce: %s",
                        p->topic, rd_kafka_err2str(e));
}

void rb_gen_producer_poll(rb_gen_producer *p, int timeout_ms) { rd_kafka_poll(p->rk, timeout_ms); }

size_t rb_gen_producer_outstanding(rb_gen_producer *p) {
    int n = rd_kafka_outq_len(p->rk);
    return n > 0 ? (size_t)n : 0;
}

void rb_gen_producer_purge(rb_gen_producer *p) {
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
}

int rb_gen_producer_fatal(rb_gen_producer *p, rb_error *err) {
    char errstr[512];
    rd_kafka_resp_err_t e = rd_kafka_fatal_error(p->rk, errstr, sizeof errstr);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_NONE, "topic '%s': fatal producer error %s: %s",
                        p->topic, rd_kafka_err2name(e), errstr);
}

const rb_gen_delivery *rb_gen_producer_delivery(const rb_gen_producer *p) { return &p->delivery; }
