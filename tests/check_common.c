/* Unit tests for the common module: errors, buffers, logs. */
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/suggest.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(error_set_formats_and_returns_minus_one) {
    rb_error err;
    rb_error_clear(&err);
    ck_assert_int_eq(rb_error_set(&err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "key %s", "x"), -1);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "key x");
    ck_assert(!err.retriable);
    rb_error_prefix(&err, "job %d", 7);
    ck_assert_str_eq(err.msg, "job 7: key x");
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_int_eq(rb_error_set_retriable(&err, RB_ERR_MONGO, RB_STAGE_SINK, "down"), -1);
    ck_assert(err.retriable);
    ck_assert_str_eq(rb_stage_name(err.stage), "sink");
    ck_assert_int_eq(rb_error_set(NULL, RB_ERR_IO, RB_STAGE_NONE, "ignored"), -1);
}
END_TEST

START_TEST(error_message_is_truncated_not_overflowed) {
    rb_error err;
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rb_error_set(&err, RB_ERR_IO, RB_STAGE_NONE, "%s", big);
    ck_assert_uint_eq(strlen(err.msg), RB_ERROR_MSG_MAX - 1);
}
END_TEST

START_TEST(buf_appends_and_escapes_json) {
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_buf_printf(&b, "%d-%s", 42, "x"), 0);
    ck_assert_str_eq(b.data, "42-x");
    rb_buf_reset(&b);
    const char raw[] = "a\"b\\c\n\x01";
    ck_assert_int_eq(rb_buf_json_string(&b, raw, sizeof raw - 1), 0);
    ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    for (int i = 0; i < 10000; i++) ck_assert_int_eq(rb_buf_putc(&b, 'z'), 0);
    ck_assert_uint_eq(b.len, strlen(b.data));
    char *owned = rb_buf_detach(&b);
    ck_assert_ptr_null(b.data);
    free(owned);
    owned = rb_buf_detach(&b);
    ck_assert_str_eq(owned, "");
    free(owned);
}
END_TEST

START_TEST(log_json_lines_are_valid_and_filtered) {
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_log log;
    rb_log_init(&log);
    log.out = f;
    log.format = RB_LOG_JSON;
    log.job = "demo";
    rb_log_write(&log, RB_LOG_DEBUG, "batch", "dropped");
    rb_log_write(&log, RB_LOG_WARN, "batch", "quote \" here");
    fclose(f);
    ck_assert_ptr_null(strstr(mem, "dropped"));
    ck_assert_ptr_nonnull(strstr(mem, "\"level\":\"WARN\""));
    ck_assert_ptr_nonnull(strstr(mem, "\"job\":\"demo\""));
    ck_assert_ptr_nonnull(strstr(mem, "\"msg\":\"quote \\\" here\"}"));
    free(mem);
    rb_log_level lv;
    ck_assert_int_eq(rb_log_level_parse("WARN", &lv), 0);
    ck_assert_int_eq(lv, RB_LOG_WARN);
    ck_assert_int_eq(rb_log_level_parse("loud", &lv), -1);
}
END_TEST

START_TEST(suggest_finds_typos_only) {
    ck_assert_uint_eq(rb_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(rb_edit_distance("", "abc"), 3);
    ck_assert_uint_eq(rb_edit_distance("same", "same"), 0);
    static const char *const names[] = {"errors.tolerance", "errors.log.enable", "batch.max.bytes"};
    ck_assert_str_eq(rb_suggest("errors.tolerence", names, 3, 2), "errors.tolerance");
    ck_assert_ptr_null(rb_suggest("totally.different", names, 3, 2));
}
END_TEST

int main(void) {
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, error_set_formats_and_returns_minus_one);
    tcase_add_test(tc, error_message_is_truncated_not_overflowed);
    tcase_add_test(tc, buf_appends_and_escapes_json);
    tcase_add_test(tc, log_json_lines_are_valid_and_filtered);
    tcase_add_test(tc, suggest_finds_typos_only);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
