/* Unit tests for the ProcessingTime trigger schedule (runner/trigger.h). */
#include "check_main.h"
#include "runner/trigger.h"

#include <check.h>
#include <stdlib.h>

/* Processing shorter than the interval does not push the schedule back. */
START_TEST(schedule_keeps_its_rhythm) {
    /* Closed at 1000, processed until 1600: the next batch closes at 2000. */
    ck_assert_int_eq(rb_trigger_next_close(1000, 1600, 1000, false), 2000);
    ck_assert_int_eq(rb_trigger_next_close(2000, 2001, 1000, false), 3000);
}
END_TEST

/* Processing that overran the interval: the next batch closes at once. */
START_TEST(overrun_closes_the_next_batch_at_once) {
    ck_assert_int_eq(rb_trigger_next_close(1000, 2500, 1000, false), 2500);
    ck_assert_int_eq(rb_trigger_next_close(1000, 2000, 1000, false), 2000);
}
END_TEST

/* A full batch means a backlog: a fresh interval from now, which a backlog
 * fills before it ends. */
START_TEST(full_batch_starts_a_fresh_interval) {
    ck_assert_int_eq(rb_trigger_next_close(1000, 1200, 1000, true), 2200);
    ck_assert_int_eq(rb_trigger_next_close(1000, 5000, 1000, true), 6000);
}
END_TEST

/* A bounded run's batch closes within a second however long the interval:
 * the range is already there, nothing is gained by waiting. */
START_TEST(bounded_batches_do_not_follow_the_schedule) {
    ck_assert_int_eq(rb_trigger_bounded_close(5000, 60000), 5000 + RB_TRIGGER_BOUNDED_MAX_MS);
    ck_assert_int_eq(rb_trigger_bounded_close(5000, 200), 5200);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("trigger");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, schedule_keeps_its_rhythm);
    tcase_add_test(tc, overrun_closes_the_next_batch_at_once);
    tcase_add_test(tc, full_batch_starts_a_fresh_interval);
    tcase_add_test(tc, bounded_batches_do_not_follow_the_schedule);
    suite_add_tcase(s, tc);
    return s;
}
