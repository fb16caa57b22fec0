/*
 * Unit tests for the dead-letter pieces that need no broker (dlq/copy.h,
 * dlq/topic.h): the headers of a full and of a bounded copy, the size arithmetic of a bounded copy, and the
 * messages for a DLQ topic the broker will not create.
 */
#include "check_main.h"
#include "batch/batch.h"
#include "dlq/copy.h"
#include "dlq/topic.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The last value of header `name` as a NUL-terminated copy in `buf`, or
 * NULL when the record has no such header. */
static const char *header(const rd_kafka_headers_t *h, const char *name, char *buf, size_t size) {
    const void *v;
    size_t n;
    if (rd_kafka_header_get_last(h, name, &v, &n) != RD_KAFKA_RESP_ERR_NO_ERROR) return NULL;
    if (n >= size) n = size - 1;
    memcpy(buf, v ? v : "", n);
    buf[n] = '\0';
    return buf;
}

static size_t header_count(const rd_kafka_headers_t *h) {
    const char *name;
    const void *v;
    size_t n, count = 0;
    while (rd_kafka_header_get_all(h, count, &name, &v, &n) == 0) count++;
    return count;
}

static rb_batch *one_failed(const char *value, size_t len, rb_stage stage, const char *path,
                            rb_record **out) {
    rb_batch *b = rb_batch_new();
    rb_batch_reset(b, 0);
    rb_error err;
    rb_record *rec = rb_batch_add(b, "orders", 3, 42, -1, "k-1", 3, value, len, &err);
    ck_assert_ptr_nonnull(rec);
    rb_header own = {"trace-id", "abc", 3};
    ck_assert_int_eq(rb_batch_add_headers(b, rec, &own, 1, &err), 0);
    rec = rb_batch_record(b, 0);
    rb_record_fail(rec, stage, true, "the reason");
    snprintf(rec->fail_path, sizeof rec->fail_path, "%s", path);
    *out = rec;
    return b;
}

/* A schema failure of the document itself has the empty pointer as its
 * path; a deserialize failure has no path at all. */
START_TEST(error_path_header_is_empty_for_the_document_root) {
    const rb_dlq_context ctx = {true, "job-a", "host-1"};
    rb_record *rec;
    rb_batch *b = one_failed("[1,2]", 5, RB_STAGE_VALIDATE, "", &rec);
    rd_kafka_headers_t *h = rb_dlq_headers(&ctx, rec, NULL);
    char buf[256];
    ck_assert_ptr_nonnull(header(h, "ragbatch.error.path", buf, sizeof buf));
    ck_assert_str_eq(buf, "");
    ck_assert_str_eq(header(h, "trace-id", buf, sizeof buf), "abc");
    ck_assert_str_eq(header(h, "__connect.errors.offset", buf, sizeof buf), "42");
    ck_assert_ptr_null(header(h, "ragbatch.error.value.truncated", buf, sizeof buf));
    rd_kafka_headers_destroy(h);
    rb_batch_destroy(b);
    b = one_failed("nope", 4, RB_STAGE_DESERIALIZE, "", &rec);
    h = rb_dlq_headers(&ctx, rec, NULL);
    ck_assert_ptr_null(header(h, "ragbatch.error.path", buf, sizeof buf));
    rd_kafka_headers_destroy(h);
    rb_batch_destroy(b);
}
END_TEST

/* A bounded copy always says where the original is and what it was, even
 * without context headers; a full copy without them carries only its own. */
START_TEST(bounded_copy_headers_name_the_original) {
    const rb_dlq_context plain = {false, "job-a", "host-1"};
    rb_record *rec;
    const char value[] = "{\"product_id\":\"p\",\"description\":\"long\"}";
    rb_batch *b = one_failed(value, sizeof value - 1, RB_STAGE_DESERIALIZE, "", &rec);
    rd_kafka_headers_t *h = rb_dlq_headers(&plain, rec, NULL);
    ck_assert_uint_eq(header_count(h), 1);
    rd_kafka_headers_destroy(h);
    const rb_dlq_truncation trunc = {"Broker: Message size too large"};
    h = rb_dlq_headers(&plain, rec, &trunc);
    char buf[256], sha[65];
    ck_assert_str_eq(header(h, "ragbatch.error.value.truncated", buf, sizeof buf), "true");
    snprintf(sha, sizeof sha, "%zu", sizeof value - 1);
    ck_assert_str_eq(header(h, "ragbatch.error.value.size", buf, sizeof buf), sha);
    ck_assert_int_eq(rb_dlq_sha256_hex(value, sizeof value - 1, sha), 0);
    ck_assert_str_eq(header(h, "ragbatch.error.value.sha256", buf, sizeof buf), sha);
    ck_assert_str_eq(header(h, "ragbatch.error.dlq.reason", buf, sizeof buf),
                     "Broker: Message size too large");
    ck_assert_str_eq(header(h, "__connect.errors.topic", buf, sizeof buf), "orders");
    ck_assert_str_eq(header(h, "__connect.errors.partition", buf, sizeof buf), "3");
    ck_assert_str_eq(header(h, "__connect.errors.offset", buf, sizeof buf), "42");
    rd_kafka_headers_destroy(h);
    rb_batch_destroy(b);
    /* SHA-256 of "abc" (FIPS 180-2, appendix B.1). */
    ck_assert_int_eq(rb_dlq_sha256_hex("abc", 3, sha), 0);
    ck_assert_str_eq(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

/* A failure reason quoting a server's answer is redacted before it
 * becomes the exception headers (and the failure's log line). */
START_TEST(exception_headers_carry_no_credential) {
    const rb_dlq_context ctx = {true, "job-a", "host-1"};
    /* Failed once, with the reason (a record fails at most once: batch/record.h). */
    rb_batch *b = rb_batch_new();
    rb_error err;
    rb_record *rec = rb_batch_add(b, "orders", 3, 42, -1, "k-1", 3, "{}", 2, &err);
    ck_assert_ptr_nonnull(rec);
    rb_record_fail(rec, RB_STAGE_SINK, true, "MongoDB rejected the document: %s",
                   "mongodb://app:hunter2@db/?authMechanismProperties=AWS_SESSION_TOKEN:tok9");
    rd_kafka_headers_t *h = rb_dlq_headers(&ctx, rec, NULL);
    char buf[1600];
    const char *msg = header(h, "__connect.errors.exception.message", buf, sizeof buf);
    ck_assert_str_eq(msg, "MongoDB rejected the document: mongodb://app:***@db/"
                          "?authMechanismProperties=AWS_SESSION_TOKEN:***");
    const char *trace = header(h, "__connect.errors.exception.stacktrace", buf, sizeof buf);
    ck_assert_msg(!strstr(trace, "hunter2") && !strstr(trace, "tok9"), "%s", trace);
    rd_kafka_headers_destroy(h);
    rb_batch_destroy(b);
}
END_TEST

/* The room of a bounded copy is exactly what keeps the record at the
 * limit; key and headers larger than the limit leave no room. */
START_TEST(bounded_copy_fits_the_limit) {
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, "a-header", -1, "some value", -1);
    size_t base = rb_dlq_wire_size(3, 0, h);
    ck_assert_uint_gt(base, 61 + 3 + 8 + 10);
    ck_assert_uint_eq(rb_dlq_wire_size(3, 1000, h), base + 1000);
    long room = rb_dlq_copy_room(4096, 3, h);
    ck_assert_int_gt(room, 0);
    ck_assert_uint_eq(rb_dlq_wire_size(3, (size_t)room, h), 4096);
    ck_assert_int_eq(rb_dlq_copy_room(4096, 8192, h), -1);
    ck_assert_int_eq(rb_dlq_copy_room(base, 3, h), 0);
    rd_kafka_headers_destroy(h);
}
END_TEST

/* A broker that will not create the topic gets a configuration error that
 * says what to do; a slow one a retriable error. */
START_TEST(create_refusals_are_explained) {
    rb_error err;
    rb_dlq_topic_create_error("jobs.dlq", 3, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
                              "Authorization failed.", &err);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert(!err.retriable);
    ck_assert_msg(strstr(err.msg, "'jobs.dlq' does not exist") &&
                      strstr(err.msg, "Authorization failed.") && strstr(err.msg, "grant") &&
                      strstr(err.msg, "CREATE"),
                  "%s", err.msg);
    rb_dlq_topic_create_error("jobs.dlq", 3, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "",
                              &err);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "CREATE"));
    rb_dlq_topic_create_error("jobs.dlq", 5, RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR,
                              "Replication factor: 5 larger than available brokers: 3.", &err);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "errors.deadletterqueue.topic.replication.factor = 5"), "%s",
                  err.msg);
    rb_dlq_topic_create_error("jobs.dlq", 1, RD_KAFKA_RESP_ERR_POLICY_VIOLATION,
                              "names must start with team-", &err);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "names must start with team-"));
    rb_dlq_topic_create_error("jobs.dlq", 1, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, "", &err);
    ck_assert_int_eq(err.code, RB_ERR_KAFKA);
    ck_assert(err.retriable);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("dlq");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, error_path_header_is_empty_for_the_document_root);
    tcase_add_test(tc, bounded_copy_headers_name_the_original);
    tcase_add_test(tc, bounded_copy_fits_the_limit);
    tcase_add_test(tc, exception_headers_carry_no_credential);
    tcase_add_test(tc, create_refusals_are_explained);
    suite_add_tcase(s, tc);
    return s;
}
