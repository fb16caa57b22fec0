/* topic.c -- the DLQ topic's existence and limit; see topic.h. */
#include "dlq/topic.h"

#include "common/clock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC_ADMIN_TIMEOUT_MS 15000
#define TOPIC_READY_TIMEOUT_MS 30000
#define TOPIC_METADATA_TIMEOUT_MS 10000

/* What the metadata says of `topic`: its error, and whether every
 * partition has a leader.  *brokers is the cluster's broker count. */
static int read_topic(rd_kafka_t *rk, const char *topic, rd_kafka_resp_err_t *topic_err,
                      bool *ready, int *brokers, rb_error *err) {
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (!rkt) return rb_error_nomem(err, RB_STAGE_DLQ, "DLQ topic handle");
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, TOPIC_METADATA_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "cannot read metadata of DLQ topic '%s': %s", topic,
                                      rd_kafka_err2str(e));
    *brokers = md->broker_cnt;
    *topic_err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    *ready = *topic_err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt > 0;
    for (int i = 0; *ready && i < md->topics[0].partition_cnt; i++)
        if (md->topics[0].partitions[i].err || md->topics[0].partitions[i].leader < 0)
            *ready = false;
    rd_kafka_metadata_destroy(md);
    return 0;
}

int rb_dlq_topic_create_error(const char *topic, int replication_factor, rd_kafka_resp_err_t code,
                              const char *reason, rb_error *err) {
    const char *why = reason && reason[0] ? reason : rd_kafka_err2str(code);
    switch (code) {
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ,
                            "errors.deadletterqueue.topic.name: topic '%s' does not exist and the "
                            "broker does not let this client create it (%s): create it (1 "
                            "partition), or grant this client's principal CREATE on the topic or "
                            "the cluster",
                            topic, why);
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ,
                            "errors.deadletterqueue.topic.replication.factor = %d: the broker "
                            "cannot create DLQ topic '%s' with it (%s)",
                            replication_factor, topic, why);
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "creating DLQ topic '%s' did not complete: %s", topic, why);
    default:
        /* A bad name, a policy, an unsupported request: nothing a retry
         * changes. */
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ,
                            "errors.deadletterqueue.topic.name: topic '%s' does not exist and the "
                            "broker refused to create it (%s)",
                            topic, why);
    }
}

static int create_topic(rd_kafka_t *rk, const char *topic, int rf, rb_error *err) {
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, rf, errstr, sizeof errstr);
    if (!nt)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ,
                            "errors.deadletterqueue.topic.name: cannot create topic '%s': %s",
                            topic, errstr);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_request_timeout(ao, TOPIC_ADMIN_TIMEOUT_MS, errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_operation_timeout(ao, TOPIC_ADMIN_TIMEOUT_MS, errstr, sizeof errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TOPIC_ADMIN_TIMEOUT_MS + 5000);
    int rc;
    if (!ev) {
        rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                    "creating DLQ topic '%s': no answer within %d ms", topic,
                                    TOPIC_ADMIN_TIMEOUT_MS + 5000);
    } else if (rd_kafka_event_error(ev)) {
        rc = rb_dlq_topic_create_error(topic, rf, rd_kafka_event_error(ev),
                                       rd_kafka_event_error_string(ev), err);
    } else {
        size_t n = 0;
        const rd_kafka_topic_result_t **tr =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        rd_kafka_resp_err_t code = n == 1 ? rd_kafka_topic_result_error(tr[0])
                                          : RD_KAFKA_RESP_ERR__FAIL;
        /* Another member may have created it first. */
        if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            rc = 0;
        else
            rc = rb_dlq_topic_create_error(topic, rf, code,
                                           n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : "",
                                           err);
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* The topic's max.message.bytes, or 0 when the broker does not say. */
static size_t read_limit(rd_kafka_t *rk, const char *topic, const rb_log *log) {
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(ao, TOPIC_ADMIN_TIMEOUT_MS, errstr, sizeof errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &res, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, TOPIC_ADMIN_TIMEOUT_MS + 5000);
    size_t limit = 0;
    const char *why = "no answer";
    if (ev && rd_kafka_event_error(ev)) why = rd_kafka_event_error_string(ev);
    const rd_kafka_DescribeConfigs_result_t *dr =
        ev && !rd_kafka_event_error(ev) ? rd_kafka_event_DescribeConfigs_result(ev) : NULL;
    size_t nres = 0;
    const rd_kafka_ConfigResource_t **rs =
        dr ? rd_kafka_DescribeConfigs_result_resources(dr, &nres) : NULL;
    if (nres == 1 && rd_kafka_ConfigResource_error(rs[0]))
        why = rd_kafka_ConfigResource_error_string(rs[0]);
    if (nres == 1 && !rd_kafka_ConfigResource_error(rs[0])) {
        size_t nc = 0;
        const rd_kafka_ConfigEntry_t **ce = rd_kafka_ConfigResource_configs(rs[0], &nc);
        for (size_t i = 0; i < nc; i++) {
            const char *v = rd_kafka_ConfigEntry_value(ce[i]);
            if (strcmp(rd_kafka_ConfigEntry_name(ce[i]), "max.message.bytes") == 0 && v)
                limit = (size_t)strtoull(v, NULL, 10);
        }
        why = "max.message.bytes not in the answer";
    }
    if (limit == 0)
        rb_log_kv(log, RB_LOG_WARN, "dlq_limit",
                  RB_LOG_FIELDS(RB_LOG_S("topic", topic),
                                RB_LOG_S("error.message", why ? why : "unknown")),
                  "cannot read the topic's max.message.bytes: bounded copies are cut to the "
                  "producer's message.max.bytes");
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(ao);
    rd_kafka_ConfigResource_destroy(res);
    return limit;
}

int rb_dlq_topic_prepare(rd_kafka_t *rk, const char *topic, int replication_factor,
                         const rb_log *log, size_t *max_message_bytes, rb_error *err) {
    *max_message_bytes = 0;
    rd_kafka_resp_err_t topic_err;
    bool ready;
    int brokers;
    if (read_topic(rk, topic, &topic_err, &ready, &brokers, err) != 0) return -1;
    if (topic_err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ,
                            "errors.deadletterqueue.topic.name: this client may not describe "
                            "topic '%s' (%s): grant its principal DESCRIBE and WRITE on it",
                            topic, rd_kafka_err2str(topic_err));
    if (topic_err == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_DLQ,
                            "errors.deadletterqueue.topic.name: '%s' is not a valid topic name "
                            "(%s): use letters, digits, '.', '_' and '-', at most 249",
                            topic, rd_kafka_err2str(topic_err));
    if (topic_err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        int rf = replication_factor;
        if (rf > brokers && brokers > 0) {
            rb_log_kv(log, RB_LOG_INFO, "dlq_topic",
                      RB_LOG_FIELDS(RB_LOG_S("topic", topic), RB_LOG_I("replication_factor", rf),
                                    RB_LOG_I("brokers", brokers)),
                      "errors.deadletterqueue.topic.replication.factor is more than the brokers: "
                      "creating it with one replica per broker");
            rf = brokers;
        }
        if (create_topic(rk, topic, rf, err) != 0) return -1;
        rb_log_kv(log, RB_LOG_INFO, "dlq_topic",
                  RB_LOG_FIELDS(RB_LOG_S("topic", topic), RB_LOG_I("partitions", 1),
                                RB_LOG_I("replication_factor", rf)),
                  "created%s", rf < 0 ? " with the broker's default replication factor" : "");
        ready = false;
    } else if (topic_err) {
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "DLQ topic '%s' is not usable yet: %s", topic,
                                      rd_kafka_err2str(topic_err));
    }
    /* A topic just created takes a moment to get its leader. */
    int64_t until = rb_now_ms() + TOPIC_READY_TIMEOUT_MS;
    while (!ready) {
        if (rb_now_ms() >= until)
            return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                          "DLQ topic '%s' has no leader after %d ms", topic,
                                          TOPIC_READY_TIMEOUT_MS);
        rb_sleep_ms(100);
        if (read_topic(rk, topic, &topic_err, &ready, &brokers, err) != 0) return -1;
    }
    *max_message_bytes = read_limit(rk, topic, log);
    return 0;
}
