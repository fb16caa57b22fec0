/* Unit tests for the Kafka client layer: the configuration builder and the
 * acknowledged producer.  No broker: the producer talks to a closed
 * loopback port, so every report it gets is a bounded failure. */
#include "check_main.h"
#include "kafka/client.h"
#include "kafka/errors.h"
#include "kafka/producer.h"

#include "common/clock.h"

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

/* Nothing listens on port 1 of the loopback interface. */
#define NOWHERE "127.0.0.1:1"

static rb_kafka_config *new_conf(bool producer, const char *bootstrap) {
    rb_error err;
    const rb_kafka_client_opts o = {.role = producer ? "test producer" : "test consumer",
                                    .stage = RB_STAGE_SOURCE,
                                    .client_id = "ragbatch-test",
                                    .bootstrap = bootstrap,
                                    .producer = producer};
    rb_kafka_config *c = rb_kafka_config_new(&o, &err);
    ck_assert_msg(c != NULL, "%s", err.msg);
    return c;
}

static void conf_value(rb_kafka_config *c, const char *key, char *out, size_t size) {
    ck_assert_int_eq(rd_kafka_conf_get(rb_kafka_config_conf(c), key, out, &size),
                     RD_KAFKA_CONF_OK);
}

START_TEST(config_sets_client_id_bootstrap_and_props_in_order) {
    rb_kafka_config *c = new_conf(false, "broker-1:9092");
    char v[256];
    conf_value(c, "client.id", v, sizeof v);
    ck_assert_str_eq(v, "ragbatch-test");
    conf_value(c, "bootstrap.servers", v, sizeof v);
    ck_assert_str_eq(v, "broker-1:9092");
    rb_error err;
    /* a default, then the user's keys win, then what the caller enforces */
    ck_assert_int_eq(rb_kafka_config_set(c, "session.timeout.ms", "30000", &err), 0);
    rb_kv props[] = {{"session.timeout.ms", "12000"},
                     {"security.protocol", "ssl"},
                     {"enable.auto.commit", "true"}};
    ck_assert_int_eq(rb_kafka_config_set_props(c, props, 3, &err), 0);
    ck_assert_int_eq(rb_kafka_config_set(c, "enable.auto.commit", "false", &err), 0);
    ck_assert_uint_eq(rb_kafka_config_get_size(c, "session.timeout.ms", 0), 12000);
    conf_value(c, "security.protocol", v, sizeof v);
    ck_assert_str_eq(v, "ssl");
    conf_value(c, "enable.auto.commit", v, sizeof v);
    ck_assert_str_eq(v, "false");
    ck_assert_uint_eq(rb_kafka_config_get_size(c, "message.max.bytes", 0), 1000000);
    ck_assert_uint_eq(rb_kafka_config_get_size(c, "no.such.key", 77), 77);
    rb_kafka_config_destroy(c);
}
END_TEST

/* Every refused property is an error naming it as the user wrote it. */
START_TEST(config_refusals_name_the_key_and_the_client) {
    rb_error err;
    rb_kafka_config *c = new_conf(false, NULL);
    rb_kv unknown[] = {{"linger.ms", "5"}, {"no.such.property", "1"}};
    ck_assert_int_eq(rb_kafka_config_set_props(c, unknown, 2, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_int_eq(err.stage, RB_STAGE_SOURCE);
    ck_assert_msg(strstr(err.msg, "kafka.no.such.property (for the test consumer)") == err.msg,
                  "%s", err.msg);
    rb_kv bad[] = {{"session.timeout.ms", "soon"}};
    ck_assert_int_eq(rb_kafka_config_set_props(c, bad, 1, &err), -1);
    ck_assert_msg(strstr(err.msg, "kafka.session.timeout.ms") == err.msg, "%s", err.msg);

    const char *args[] = {"kafka.linger.ms=7", "batch.size=bogus"};
    ck_assert_int_eq(rb_kafka_config_set_args(c, args, 1, &err), 0);
    ck_assert_uint_eq(rb_kafka_config_get_size(c, "linger.ms", 0), 7);
    ck_assert_int_eq(rb_kafka_config_set_args(c, args, 2, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "-X batch.size (for the test consumer)") == err.msg, "%s",
                  err.msg);
    const char *malformed[] = {"linger.ms"};
    ck_assert_int_eq(rb_kafka_config_set_args(c, malformed, 1, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_ARG);
    ck_assert_msg(strstr(err.msg, "-X linger.ms: expected NAME=VALUE"), "%s", err.msg);
    const char *empty[] = {"=1"};
    ck_assert_int_eq(rb_kafka_config_set_args(c, empty, 1, &err), -1);
    ck_assert_int_eq(rb_kafka_config_set(c, "acks", "most", &err), -1);
    ck_assert_msg(strstr(err.msg, "acks (for the test consumer)") == err.msg, "%s", err.msg);
    char why[256] = "";
    ck_assert_int_eq(rb_kafka_config_try(c, "compression.type", "zip", why, sizeof why), -1);
    ck_assert(why[0] != '\0');
    rb_kafka_config_destroy(c);
    rb_kafka_config_destroy(NULL);
}
END_TEST

/* A producer leaves consumer-only properties out, even ones it could not
 * parse; a consumer takes them. */
START_TEST(config_producer_drops_consumer_only_properties) {
    rb_error err;
    rb_kv props[] = {{"group.id", "g"},
                     {"session.timeout.ms", "not-for-a-producer"},
                     {"auto.offset.reset", "earliest"},
                     {"linger.ms", "9"}};
    rb_kafka_config *p = new_conf(true, NULL);
    ck_assert_int_eq(rb_kafka_config_set_props(p, props, 4, &err), 0);
    ck_assert_uint_eq(rb_kafka_config_get_size(p, "linger.ms", 0), 9);
    const char *args[] = {"group.instance.id=x", "fetch.max.bytes=nope"};
    ck_assert_int_eq(rb_kafka_config_set_args(p, args, 2, &err), 0);
    rb_kafka_config_destroy(p);
    rb_kafka_config *c = new_conf(false, NULL);
    ck_assert_int_eq(rb_kafka_config_set_props(c, props, 4, &err), -1);
    ck_assert_msg(strstr(err.msg, "kafka.session.timeout.ms"), "%s", err.msg);
    rb_kafka_config_destroy(c);
    ck_assert(rb_kafka_consumer_only("group.id"));
    ck_assert(rb_kafka_consumer_only("enable.auto.commit"));
    ck_assert(rb_kafka_consumer_only("max.poll.interval.ms"));
    ck_assert(!rb_kafka_consumer_only("bootstrap.servers"));
    ck_assert(!rb_kafka_consumer_only("sasl.password"));
    ck_assert(!rb_kafka_consumer_only("enable.idempotence"));
}
END_TEST

START_TEST(config_client_creation_consumes_and_reports) {
    rb_error err;
    rb_kafka_config *c = new_conf(false, NOWHERE);
    ck_assert_int_eq(rb_kafka_config_set(c, "group.id", "ragbatch-test", &err), 0);
    rd_kafka_t *rk = rb_kafka_config_client(c, RD_KAFKA_CONSUMER, &err);
    ck_assert_msg(rk != NULL, "%s", err.msg);
    rd_kafka_destroy(rk);
    /* consistent property by property, not as a whole */
    c = new_conf(true, NOWHERE);
    ck_assert_int_eq(rb_kafka_config_set(c, "enable.idempotence", "true", &err), 0);
    ck_assert_int_eq(rb_kafka_config_set(c, "acks", "1", &err), 0);
    ck_assert_ptr_null(rb_kafka_config_client(c, RD_KAFKA_PRODUCER, &err));
    ck_assert_msg(strstr(err.msg, "cannot create the test producer: "), "%s", err.msg);
    ck_assert_int_eq(rb_kafka_log_level(3), RB_LOG_ERROR);
    ck_assert_int_eq(rb_kafka_log_level(4), RB_LOG_WARN);
    ck_assert_int_eq(rb_kafka_log_level(6), RB_LOG_INFO);
    ck_assert_int_eq(rb_kafka_log_level(7), RB_LOG_DEBUG);
}
END_TEST

typedef struct reports {
    int n;
    int code;
    void *opaque;
    char topic[64];
} reports;

static void on_report(const rb_kafka_report *r, void *ctx) {
    reports *rs = ctx;
    rs->n++;
    rs->code = r->code;
    rs->opaque = r->opaque;
    snprintf(rs->topic, sizeof rs->topic, "%s", r->topic);
}

static rb_kafka_producer *new_producer(const char *const *args, size_t nargs, reports *rs) {
    rb_error err;
    rb_kafka_config *c = new_conf(true, NOWHERE);
    ck_assert_int_eq(rb_kafka_config_set_args(c, args, nargs, &err), 0);
    const rb_kafka_producer_opts o = {.topic = "events",
                                      .on_report = on_report,
                                      .report_ctx = rs,
                                      .log = NULL,
                                      .stage = RB_STAGE_DLQ};
    rb_kafka_producer *p = rb_kafka_producer_new(c, &o, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    return p;
}

/* A user's acks=1 does not weaken the producer: it is created with
 * acks=all and idempotence (acks=1 with idempotence would be refused). */
START_TEST(producer_is_acknowledged_whatever_the_user_sets) {
    const char *args[] = {"acks=1", "enable.idempotence=false", "log_level=0"};
    reports rs = {0};
    rb_kafka_producer *p = new_producer(args, 3, &rs);
    rb_kafka_producer_destroy(p);
    rb_kafka_producer_destroy(NULL);
}
END_TEST

/* An undeliverable message gets its report, with its opaque and the
 * reason, within message.timeout.ms; the counts and the first failure say
 * so. */
START_TEST(producer_reports_a_failed_delivery) {
    const char *args[] = {"message.timeout.ms=300", "log_level=0"};
    reports rs = {0};
    rb_kafka_producer *p = new_producer(args, 2, &rs);
    int marker;
    const rb_header h = {"h", "v", 1};
    const rb_kafka_message m = {.key = "k",
                                .key_len = 1,
                                .value = "v",
                                .value_len = 1,
                                .headers = &h,
                                .header_count = 1,
                                .opaque = &marker};
    rb_error err;
    ck_assert_int_eq(rb_kafka_producer_send(p, &m, 0, &err), 0);
    /* librdkafka also counts its own pending events here */
    ck_assert_uint_ge(rb_kafka_producer_outstanding(p), 1);
    int64_t t0 = rb_now_ms();
    ck_assert_int_eq(rb_kafka_producer_flush(p, 10000, &err), 0);
    ck_assert_int_lt(rb_now_ms() - t0, 10000);
    ck_assert_int_eq(rs.n, 1);
    ck_assert_int_eq(rs.code, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    ck_assert_ptr_eq(rs.opaque, &marker);
    ck_assert_str_eq(rs.topic, "events");
    const rb_kafka_delivery *d = rb_kafka_producer_delivery(p);
    ck_assert_uint_eq(d->enqueued, 1);
    ck_assert_uint_eq(d->delivered, 0);
    ck_assert_uint_eq(d->failed, 1);
    ck_assert_msg(strstr(d->first_error, "topic 'events' partition "), "%s", d->first_error);
    ck_assert_int_eq(rb_kafka_producer_fatal(p, &err), 0);
    rb_kafka_producer_destroy(p);
}
END_TEST

/* A flush is bounded: reports still due at its timeout make a retriable
 * error; a purge then settles them. */
START_TEST(producer_flush_is_bounded_and_retriable) {
    const char *args[] = {"message.timeout.ms=60000", "log_level=0"};
    reports rs = {0};
    rb_kafka_producer *p = new_producer(args, 2, &rs);
    const rb_kafka_message m = {.topic = "other", .value = "v", .value_len = 1};
    rb_error err;
    ck_assert_int_eq(rb_kafka_producer_send(p, &m, 0, &err), 0);
    int64_t t0 = rb_now_ms();
    ck_assert_int_eq(rb_kafka_producer_flush(p, 200, &err), -1);
    int64_t took = rb_now_ms() - t0;
    ck_assert_msg(took >= 150 && took < 5000, "flush took %lld ms", (long long)took);
    ck_assert(err.retriable);
    ck_assert_int_eq(err.stage, RB_STAGE_DLQ);
    ck_assert_msg(strstr(err.msg, "1 messages not acknowledged within 200 ms"), "%s", err.msg);
    rb_kafka_producer_purge(p);
    ck_assert_int_eq(rb_kafka_producer_flush(p, 5000, &err), 0);
    ck_assert_int_eq(rs.n, 1);
    ck_assert_int_eq(rs.code, RD_KAFKA_RESP_ERR__PURGE_QUEUE);
    ck_assert_str_eq(rs.topic, "other");
    ck_assert_str_eq(rb_kafka_error_string(rs.code),
                     rd_kafka_err2str(RD_KAFKA_RESP_ERR__PURGE_QUEUE));
    rb_kafka_producer_destroy(p);
}
END_TEST

/* Refusals of the call itself: a full queue is retriable and its wait is
 * bounded; a message over message.max.bytes is not retriable.  Neither gets
 * a report. */
START_TEST(producer_send_refusals_are_classed_and_bounded) {
    const char *args[] = {"queue.buffering.max.messages=1", "message.max.bytes=1000",
                          "log_level=0"};
    reports rs = {0};
    rb_kafka_producer *p = new_producer(args, 3, &rs);
    const rb_kafka_message m = {.value = "v", .value_len = 1};
    rb_error err;
    ck_assert_int_eq(rb_kafka_producer_send(p, &m, 0, &err), 0);
    ck_assert_int_eq(rb_kafka_producer_send(p, &m, 0, &err), RD_KAFKA_RESP_ERR__QUEUE_FULL);
    ck_assert(err.retriable);
    int64_t t0 = rb_now_ms();
    ck_assert_int_eq(rb_kafka_producer_send(p, &m, 300, &err), RD_KAFKA_RESP_ERR__QUEUE_FULL);
    int64_t took = rb_now_ms() - t0;
    ck_assert_msg(took >= 250 && took < 5000, "send waited %lld ms", (long long)took);
    ck_assert_msg(strstr(err.msg, "stayed full for 300 ms"), "%s", err.msg);
    rb_kafka_producer_purge(p);
    rb_kafka_producer_poll(p, 100);
    char big[5000];
    memset(big, 'x', sizeof big);
    const rb_kafka_message large = {.value = big, .value_len = sizeof big};
    ck_assert_int_eq(rb_kafka_producer_send(p, &large, 0, &err),
                     RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    ck_assert(!err.retriable);
    ck_assert_msg(strstr(err.msg, "topic 'events': cannot produce: "), "%s", err.msg);
    ck_assert_uint_eq(rb_kafka_producer_delivery(p)->enqueued, 1);
    rb_kafka_producer_destroy(p);
}
END_TEST

START_TEST(producer_without_a_topic_refuses_a_message_naming_none) {
    rb_error err;
    rb_kafka_config *c = new_conf(true, NOWHERE);
    const rb_kafka_producer_opts o = {.stage = RB_STAGE_DLQ};
    rb_kafka_producer *p = rb_kafka_producer_new(c, &o, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    const rb_kafka_message m = {.value = "v", .value_len = 1};
    ck_assert_int_ne(rb_kafka_producer_send(p, &m, 0, &err), 0);
    ck_assert_int_eq(err.code, RB_ERR_ARG);
    rb_kafka_producer_destroy(p);
}
END_TEST

START_TEST(producer_errors_are_classed_by_what_can_pass_later) {
    static const rd_kafka_resp_err_t retriable[] = {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
                                                    RD_KAFKA_RESP_ERR__TRANSPORT,
                                                    RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                                                    RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                                    RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                                                    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT};
    static const rd_kafka_resp_err_t record[] = {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                                 RD_KAFKA_RESP_ERR_INVALID_RECORD,
                                                 RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP,
                                                 RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE};
    static const rd_kafka_resp_err_t destination[] =
        {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
         RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
         RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
         RD_KAFKA_RESP_ERR__FATAL,
         RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
         RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
         RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH};
    for (size_t i = 0; i < sizeof retriable / sizeof retriable[0]; i++)
        ck_assert_msg(rb_kafka_classify(retriable[i]) == RB_KAFKA_RETRIABLE, "%s",
                      rd_kafka_err2name(retriable[i]));
    for (size_t i = 0; i < sizeof record / sizeof record[0]; i++)
        ck_assert_msg(rb_kafka_classify(record[i]) == RB_KAFKA_RECORD, "%s",
                      rd_kafka_err2name(record[i]));
    for (size_t i = 0; i < sizeof destination / sizeof destination[0]; i++)
        ck_assert_msg(rb_kafka_classify(destination[i]) == RB_KAFKA_DESTINATION, "%s",
                      rd_kafka_err2name(destination[i]));
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("kafka");
    TCase *tc = tcase_create("client");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, producer_errors_are_classed_by_what_can_pass_later);
    tcase_add_test(tc, config_sets_client_id_bootstrap_and_props_in_order);
    tcase_add_test(tc, config_refusals_name_the_key_and_the_client);
    tcase_add_test(tc, config_producer_drops_consumer_only_properties);
    tcase_add_test(tc, config_client_creation_consumes_and_reports);
    tcase_add_test(tc, producer_is_acknowledged_whatever_the_user_sets);
    tcase_add_test(tc, producer_reports_a_failed_delivery);
    tcase_add_test(tc, producer_flush_is_bounded_and_retriable);
    tcase_add_test(tc, producer_send_refusals_are_classed_and_bounded);
    tcase_add_test(tc, producer_without_a_topic_refuses_a_message_naming_none);
    suite_add_tcase(s, tc);
    return s;
}
