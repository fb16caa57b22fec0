/* Unit tests for the failure-rate alert's window and episodes. */
#include "check_main.h"
#include "runner/alert.h"

#include <check.h>
#include <stdlib.h>

START_TEST(fires_once_per_episode) {
    rb_alert a;
    rb_alert_init(&a, 0.10, 60000);
    size_t in, failed;
    ck_assert_int_eq(rb_alert_observe(&a, 0, 100, 5, &in, &failed), RB_ALERT_NONE);
    ck_assert_int_eq(rb_alert_observe(&a, 1000, 100, 30, &in, &failed), RB_ALERT_STARTED);
    ck_assert_uint_eq(in, 200);
    ck_assert_uint_eq(failed, 35); /* 17.5% over the window */
    ck_assert_int_eq(rb_alert_observe(&a, 2000, 100, 30, NULL, NULL), RB_ALERT_NONE);
    /* A clean stretch brings the share under 10% without leaving the window. */
    ck_assert_int_eq(rb_alert_observe(&a, 3000, 700, 0, &in, &failed), RB_ALERT_ENDED);
    ck_assert_uint_eq(in, 1000);
    ck_assert_uint_eq(failed, 65);
    rb_alert_free(&a);
}
END_TEST

START_TEST(old_batches_leave_the_window) {
    rb_alert a;
    rb_alert_init(&a, 0.5, 10000);
    ck_assert_int_eq(rb_alert_observe(&a, 0, 10, 10, NULL, NULL), RB_ALERT_STARTED);
    size_t in, failed;
    /* 11 s later the failing batch is out of the window. */
    ck_assert_int_eq(rb_alert_observe(&a, 11000, 10, 0, &in, &failed), RB_ALERT_ENDED);
    ck_assert_uint_eq(in, 10);
    ck_assert_uint_eq(failed, 0);
    for (int i = 0; i < 1000; i++) rb_alert_observe(&a, 12000 + i, 1, 0, NULL, NULL);
    ck_assert_uint_le(a.count, 1001);
    rb_alert_free(&a);
}
END_TEST

START_TEST(threshold_zero_disables) {
    rb_alert a;
    rb_alert_init(&a, 0, 10000);
    ck_assert_int_eq(rb_alert_observe(&a, 0, 10, 10, NULL, NULL), RB_ALERT_NONE);
    rb_alert_free(&a);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("alert");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, fires_once_per_episode);
    tcase_add_test(tc, old_batches_leave_the_window);
    tcase_add_test(tc, threshold_zero_disables);
    suite_add_tcase(s, tc);
    return s;
}
