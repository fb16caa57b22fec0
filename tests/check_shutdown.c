/* Unit tests for the shutdown watchdog (runner/shutdown.h): when the batch
 * in hand is given up after a stop.  The watchdog's last resort (_exit at
 * shutdown.timeout.ms) is exercised by check_pipeline's 'shutdown' case. */
#include "check_main.h"
#include "common/clock.h"
#include "runner/shutdown.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>

/* A fifth of the timeout is kept for the teardown, at most 5 s. */
START_TEST(abandon_time_keeps_a_reserve_for_the_teardown) {
    ck_assert_int_eq(rb_shutdown_abandon_after_ms(50000), 45000);
    ck_assert_int_eq(rb_shutdown_abandon_after_ms(3000), 2400);
    ck_assert_int_eq(rb_shutdown_abandon_after_ms(100000), 95000);
}
END_TEST

/* The abandon flag rises at the abandon time after the signal, not
 * before, and not at all without a signal.  A 10 s budget: the flag rises
 * at 8 s and the watchdog ends the process at 10 s, so a watchdog thread
 * that a loaded machine wakes late still has 1.5 s to raise the flag
 * before the test gives up waiting (with 5 s it had 0.8 s). */
START_TEST(abandon_flag_rises_at_the_abandon_time) {
    volatile sig_atomic_t stop = 0;
    rb_log log;
    rb_log_init(&log);
    log.min = RB_LOG_ERROR;
    rb_error err;
    const int64_t budget = 10000, abandon = rb_shutdown_abandon_after_ms(budget);
    ck_assert_int_eq(abandon, 8000);
    rb_shutdown *sd = rb_shutdown_start(&stop, budget, &log, &err);
    ck_assert_msg(sd != NULL, "%s", err.msg);
    rb_sleep_ms(300);
    ck_assert(!rb_shutdown_abandoning(sd));
    ck_assert_int_eq(rb_shutdown_elapsed_ms(sd), -1);
    stop = 1;
    int64_t t0 = rb_now_ms();
    while (!rb_shutdown_abandoning(sd) && rb_now_ms() - t0 < abandon + 1500) rb_sleep_ms(10);
    int64_t rose = rb_now_ms() - t0;
    /* Stop it before it ends the process at the budget. */
    bool abandoning = rb_shutdown_abandoning(sd);
    int64_t elapsed = rb_shutdown_elapsed_ms(sd);
    rb_shutdown_stop(sd);
    ck_assert_msg(abandoning, "not abandoning %lld ms after the signal", (long long)rose);
    ck_assert_int_ge(rose, abandon - 100);
    ck_assert_int_ge(elapsed, abandon - 100);
}
END_TEST

/* A second signal: give the batch up at once. */
START_TEST(second_signal_abandons_at_once) {
    volatile sig_atomic_t stop = 0;
    rb_log log;
    rb_log_init(&log);
    log.min = RB_LOG_ERROR;
    rb_error err;
    rb_shutdown *sd = rb_shutdown_start(&stop, 60000, &log, &err);
    ck_assert_msg(sd != NULL, "%s", err.msg);
    stop = 2;
    int64_t t0 = rb_now_ms();
    while (!rb_shutdown_abandoning(sd) && rb_now_ms() - t0 < 5000) rb_sleep_ms(10);
    ck_assert(rb_shutdown_abandoning(sd));
    ck_assert_int_lt(rb_now_ms() - t0, 2000);
    ck_assert_int_eq(atomic_load(rb_shutdown_abandon_flag(sd)), 1);
    rb_shutdown_stop(sd);
    ck_assert(!rb_shutdown_abandoning(NULL));
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("shutdown");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, abandon_time_keeps_a_reserve_for_the_teardown);
    tcase_add_test(tc, abandon_flag_rises_at_the_abandon_time);
    tcase_add_test(tc, second_signal_abandons_at_once);
    suite_add_tcase(s, tc);
    return s;
}
