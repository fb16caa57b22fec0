/* inspect.c -- a cluster and a group's offsets, read only; see inspect.h. */
#include "kafka/inspect.h"

#include "kafka/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rb_kafka_inspector {
    rd_kafka_t *rk;
    int timeout_ms;
    bool grouped;
};

/* librdkafka's log lines would interleave with the verb's report. */
static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

rb_kafka_inspector *rb_kafka_inspector_new(const rb_kv *props, size_t nprops, const char *group,
                                           int timeout_ms, rb_error *err) {
    rb_kafka_client_opts co = {.role = "inspecting consumer", .stage = RB_STAGE_SOURCE};
    rb_kafka_config *c = rb_kafka_config_new(&co, err);
    if (!c) return NULL;
    /* The job's properties first (security, bootstrap), then what keeps
     * this handle out of the group's way. */
    if (rb_kafka_config_set_props(c, props, nprops, err) != 0 ||
        (group && rb_kafka_config_set(c, "group.id", group, err) != 0) ||
        rb_kafka_config_set(c, "enable.auto.commit", "false", err) != 0) {
        rb_kafka_config_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_log_cb(rb_kafka_config_conf(c), quiet_log);
    rb_kafka_inspector *k = calloc(1, sizeof *k);
    if (!k) {
        rb_kafka_config_destroy(c);
        rb_error_nomem(err, RB_STAGE_SOURCE, "Kafka inspector");
        return NULL;
    }
    k->timeout_ms = timeout_ms;
    k->grouped = group != NULL;
    if (!(k->rk = rb_kafka_config_client(c, RD_KAFKA_CONSUMER, err))) {
        free(k);
        return NULL;
    }
    return k;
}

void rb_kafka_inspector_destroy(rb_kafka_inspector *k) {
    if (!k) return;
    rd_kafka_destroy(k->rk);
    free(k);
}

int rb_kafka_inspect_brokers(rb_kafka_inspector *k, int *brokers, rb_error *err) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, NULL, &md, k->timeout_ms);
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                      "no Kafka broker answered within %d ms: %s", k->timeout_ms,
                                      rd_kafka_err2str(e));
    *brokers = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    return 0;
}

/* The topic's metadata, or NULL with *missing set when it does not exist. */
static const struct rd_kafka_metadata *topic_metadata(rb_kafka_inspector *k, const char *topic,
                                                      bool *missing, rb_error *err) {
    *missing = false;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, topic, NULL);
    if (!rkt) {
        rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE, "topic '%s': %s", topic,
                     rd_kafka_err2str(rd_kafka_last_error()));
        return NULL;
    }
    rd_kafka_resp_err_t e = rd_kafka_metadata(k->rk, 0, rkt, &md, k->timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e) {
        rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                               "metadata of topic '%s' not read within %d ms: %s", topic,
                               k->timeout_ms, rd_kafka_err2str(e));
        return NULL;
    }
    if (md->topic_cnt != 1 || md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        rd_kafka_metadata_destroy(md);
        *missing = true;
        return NULL;
    }
    if (md->topics[0].err) {
        rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE, "topic '%s': %s", topic,
                     rd_kafka_err2str(md->topics[0].err));
        rd_kafka_metadata_destroy(md);
        return NULL;
    }
    return md;
}

int rb_kafka_inspect_topic(rb_kafka_inspector *k, const char *topic, int *partitions,
                           rb_error *err) {
    bool missing;
    const struct rd_kafka_metadata *md = topic_metadata(k, topic, &missing, err);
    if (!md && !missing) return -1;
    *partitions = md ? md->topics[0].partition_cnt : -1;
    if (md) rd_kafka_metadata_destroy(md);
    return 0;
}

static int by_partition(const void *a, const void *b) {
    const rb_kafka_partition_offsets *x = a, *y = b;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

int rb_kafka_inspect_offsets(rb_kafka_inspector *k, const char *topic,
                             rb_kafka_partition_offsets **out, size_t *n, rb_error *err) {
    *out = NULL;
    *n = 0;
    bool missing;
    const struct rd_kafka_metadata *md = topic_metadata(k, topic, &missing, err);
    if (!md) return missing ? 0 : -1;
    int cnt = md->topics[0].partition_cnt;
    rb_kafka_partition_offsets *p = calloc(cnt > 0 ? (size_t)cnt : 1, sizeof *p);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(cnt > 0 ? cnt : 1);
    int rc = p && list ? 0 : rb_error_nomem(err, RB_STAGE_SOURCE, "partitions");
    for (int i = 0; rc == 0 && i < cnt; i++) {
        p[i].partition = md->topics[0].partitions[i].id;
        p[i].committed = -1;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(k->rk, topic, p[i].partition,
                                                                 &p[i].low, &p[i].high,
                                                                 k->timeout_ms);
        if (e)
            rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                        "end offset of %s[%d] not read within %d ms: %s", topic,
                                        (int)p[i].partition, k->timeout_ms, rd_kafka_err2str(e));
        rd_kafka_topic_partition_list_add(list, topic, p[i].partition);
    }
    rd_kafka_metadata_destroy(md);
    if (rc == 0 && k->grouped) {
        rd_kafka_resp_err_t e = rd_kafka_committed(k->rk, list, k->timeout_ms);
        if (e)
            rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                        "committed offsets of %s not read within %d ms: %s", topic,
                                        k->timeout_ms, rd_kafka_err2str(e));
        for (int i = 0; rc == 0 && i < list->cnt; i++)
            for (int j = 0; j < cnt; j++)
                if (p[j].partition == list->elems[i].partition)
                    p[j].committed = list->elems[i].offset >= 0 ? list->elems[i].offset : -1;
    }
    if (list) rd_kafka_topic_partition_list_destroy(list);
    if (rc != 0) {
        free(p);
        return -1;
    }
    qsort(p, (size_t)cnt, sizeof *p, by_partition);
    *out = p;
    *n = (size_t)cnt;
    return 0;
}
