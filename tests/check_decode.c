/*
 * Unit tests for the runner's decode step and its failure log lines
 * (runner_internal.h), on batches built in memory: no server is needed.
 */
#include "check_main.h"
#include "batch/batch.h"
#include "config/config.h"
#include "runner/runner_internal.h"
#include "stage_fixture.h"
#include "transform/template.h"
#include "validate/schema.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A runner with the product schema and a template, logging to memory. */
static void fixture_open(stage_fixture *f, bool tolerate, bool include_messages) {
    stage_fixture_open(f, tolerate, true);
    f->cfg.errors_log_include_messages = include_messages;
}

static rb_record *add(stage_fixture *f, int64_t offset, const char *key, const char *value,
                      size_t len) {
    rb_error err;
    rb_record *rec = rb_batch_add(f->b, "t", 0, offset, -1, key, key ? strlen(key) : 0, value,
                                  value ? len : 0, &err);
    ck_assert_msg(rec != NULL, "%s", err.msg);
    return rec;
}

static const char *event(int i, char *buf, size_t size) {
    snprintf(buf, size,
             "{\"product_id\":\"p-%d\",\"event_type\":\"created\",\"event_time\":"
             "\"2026-11-24T10:00:00Z\",\"version\":%d,\"name\":\"Item %d\"}",
             i, i, i);
    return buf;
}

/* A stop request is seen between records: none is begun after it, and the
 * caller learns how many were left so it can abandon the batch. */
START_TEST(decode_leaves_records_alone_once_stop_is_requested) {
    stage_fixture f;
    fixture_open(&f, true, false);
    char buf[256];
    for (int i = 0; i < 200; i++) {
        const char *v = event(i, buf, sizeof buf);
        add(&f, i, "k", v, strlen(v));
    }
    f.stop = 1;
    ck_assert_uint_eq(rb_runner_decode(&f.r, f.b), 200);
    for (size_t i = 0; i < 200; i++) {
        const rb_record *rec = rb_batch_record(f.b, i);
        ck_assert_int_eq(rec->state, RB_REC_PENDING);
        ck_assert_ptr_null(rec->event);
        ck_assert_ptr_null(rec->id);
    }
    /* Without a stop every record is decoded. */
    f.stop = 0;
    ck_assert_uint_eq(rb_runner_decode(&f.r, f.b), 0);
    for (size_t i = 0; i < 200; i++) ck_assert_ptr_nonnull(rb_batch_record(f.b, i)->id);
    stage_fixture_close(&f);
}
END_TEST

/* errors.log.include.messages: an invalid value's bytes are escaped, never
 * written raw, and the 512-byte cut does not split a character. */
START_TEST(failure_lines_escape_invalid_utf8) {
    stage_fixture f;
    fixture_open(&f, true, true);
    add(&f, 0, "k\xff", "{\"name\":\"\xc3\x28\"}", 13);
    char big[600];
    memset(big, 'a', sizeof big);
    memcpy(big + 510, "\xe2\x82\xac", 3); /* U+20AC across the 512th byte */
    add(&f, 1, "k2", big, sizeof big);
    ck_assert_uint_eq(rb_runner_decode(&f.r, f.b), 0);
    rb_runner_log_failures(&f.r, f.b);
    const char *log = stage_fixture_log(&f);
    ck_assert_msg(strstr(log, "key=\"k\\\\xff\" value=\"{\\\"name\\\":\\\"\\\\xc3(\\\"}\""), "%s",
                  log);
    ck_assert_msg(strstr(log, "aaaa\" value_bytes=600"), "%s", log);
    ck_assert_msg(!strstr(log, "\\\\xe2"), "a character was split: %s", log);
    for (const char *p = log; *p; p++)
        ck_assert_msg((unsigned char)*p < 0x80, "raw byte 0x%02x in the log:\n%s",
                      (unsigned char)*p, log);
    stage_fixture_close(&f);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("decode");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, decode_leaves_records_alone_once_stop_is_requested);
    tcase_add_test(tc, failure_lines_escape_invalid_utf8);
    suite_add_tcase(s, tc);
    return s;
}
