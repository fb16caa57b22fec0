/* config.c -- librdkafka client configurations; see config.h. */
#include "kafka/config.h"

#include "kafka/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rb_kafka_config {
    rd_kafka_conf_t *conf;
    rb_stage stage;
    bool producer;
    char role[64];
};

/* Sets `key`; a refusal names it as `origin` + key. */
static int put(rb_kafka_config *c, const char *origin, const char *key, const char *value,
               rb_error *err) {
    char errstr[512];
    if (rd_kafka_conf_set(c->conf, key, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return 0;
    return rb_error_set(err, RB_ERR_CONFIG, c->stage, "%s%s (for the %s): %s", origin, key,
                        c->role, errstr);
}

rb_kafka_config *rb_kafka_config_new(const rb_kafka_client_opts *opts, rb_error *err) {
    rb_kafka_config *c = calloc(1, sizeof *c);
    if (c) c->conf = rd_kafka_conf_new();
    if (!c || !c->conf) {
        free(c);
        rb_error_nomem(err, opts->stage, "Kafka client configuration");
        return NULL;
    }
    c->stage = opts->stage;
    c->producer = opts->producer;
    snprintf(c->role, sizeof c->role, "%s", opts->role ? opts->role : "Kafka client");
    if ((opts->client_id && put(c, "", "client.id", opts->client_id, err) != 0) ||
        (opts->bootstrap && put(c, "", "bootstrap.servers", opts->bootstrap, err) != 0)) {
        rb_kafka_config_destroy(c);
        return NULL;
    }
    return c;
}

int rb_kafka_config_set(rb_kafka_config *c, const char *key, const char *value, rb_error *err) {
    return put(c, "", key, value, err);
}

int rb_kafka_config_try(rb_kafka_config *c, const char *key, const char *value, char *why,
                        size_t why_size) {
    return rd_kafka_conf_set(c->conf, key, value, why, why_size) == RD_KAFKA_CONF_OK ? 0 : -1;
}

int rb_kafka_config_set_props(rb_kafka_config *c, const rb_kv *props, size_t n, rb_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (c->producer && rb_kafka_consumer_only(props[i].key)) continue;
        if (put(c, "kafka.", props[i].key, props[i].value, err) != 0) return -1;
    }
    return 0;
}

int rb_kafka_config_set_args(rb_kafka_config *c, const char *const *args, size_t n,
                             rb_error *err) {
    for (size_t i = 0; i < n; i++) {
        const char *start = args[i];
        if (strncmp(start, "kafka.", 6) == 0) start += 6;
        const char *eq = strchr(start, '=');
        char key[256];
        size_t len = eq ? (size_t)(eq - start) : 0;
        if (len == 0 || len >= sizeof key)
            return rb_error_set(err, RB_ERR_ARG, c->stage,
                                "-X %s: expected NAME=VALUE with a name of 1 to %zu characters",
                                args[i], sizeof key - 1);
        memcpy(key, start, len);
        key[len] = '\0';
        if (c->producer && rb_kafka_consumer_only(key)) continue;
        if (put(c, "-X ", key, eq + 1, err) != 0) return -1;
    }
    return 0;
}

size_t rb_kafka_config_get_size(const rb_kafka_config *c, const char *key, size_t fallback) {
    char v[32];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(c->conf, key, v, &n) != RD_KAFKA_CONF_OK) return fallback;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    return end == v ? fallback : (size_t)x;
}

rd_kafka_conf_t *rb_kafka_config_conf(rb_kafka_config *c) { return c->conf; }

rd_kafka_t *rb_kafka_config_client(rb_kafka_config *c, rd_kafka_type_t type, rb_error *err) {
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, c->conf, errstr, sizeof errstr);
    if (rk)
        c->conf = NULL; /* the client owns it now */
    else
        rb_error_set(err, RB_ERR_KAFKA, c->stage, "cannot create the %s: %s", c->role, errstr);
    rb_kafka_config_destroy(c);
    return rk;
}

void rb_kafka_config_destroy(rb_kafka_config *c) {
    if (!c) return;
    if (c->conf) rd_kafka_conf_destroy(c->conf);
    free(c);
}

bool rb_kafka_consumer_only(const char *key) {
    static const char *const prefixes[] = {"group.", "fetch.", "enable.auto.", "queued.",
                                           "auto.commit."};
    static const char *const names[] = {"session.timeout.ms",
                                        "heartbeat.interval.ms",
                                        "max.poll.interval.ms",
                                        "auto.offset.reset",
                                        "partition.assignment.strategy",
                                        "enable.partition.eof",
                                        "isolation.level",
                                        "check.crcs",
                                        "coordinator.query.interval.ms"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0) return true;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0) return true;
    return false;
}

rb_log_level rb_kafka_log_level(int level) {
    return level <= 3   ? RB_LOG_ERROR
           : level == 4 ? RB_LOG_WARN
           : level <= 6 ? RB_LOG_INFO
                        : RB_LOG_DEBUG;
}
