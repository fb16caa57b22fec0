/* Unit tests for the batch: ranges, copies, states and the settle rule. */
#include "check_main.h"
#include "batch/batch.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(ranges_follow_partitions) {
    rb_batch *b = rb_batch_new();
    rb_error err;
    rb_batch_reset(b, 1);
    char value[32];
    for (int i = 0; i < 10; i++) {
        int len = snprintf(value, sizeof value, "{\"n\":%d}", i);
        ck_assert_ptr_nonnull(
            rb_batch_add(b, "t", i % 3, 100 + i, 5, "k", 1, value, (size_t)len, &err));
    }
    /* The copies survive the caller's buffer being reused. */
    memset(value, 'x', sizeof value);
    ck_assert_str_eq(rb_batch_record(b, 4)->value, "{\"n\":4}");
    size_t n;
    const rb_batch_range *r = rb_batch_ranges(b, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(r[0].partition, 0);
    ck_assert_int_eq(r[0].first_offset, 100);
    ck_assert_int_eq(r[0].last_offset, 109);
    ck_assert_uint_eq(r[0].count, 4);
    ck_assert_int_eq(r[2].last_offset, 108);
    /* Going backwards within a partition is a bug upstream, not data. */
    ck_assert_ptr_null(rb_batch_add(b, "t", 0, 50, 5, NULL, 0, "x", 1, &err));
    ck_assert_int_eq(err.code, RB_ERR_INTERNAL);
    rb_batch_destroy(b);
}
END_TEST

START_TEST(tombstones_have_null_values) {
    rb_batch *b = rb_batch_new();
    rb_error err;
    ck_assert_ptr_nonnull(rb_batch_add(b, "t", 0, 1, -1, "p-1", 3, NULL, 0, &err));
    ck_assert_ptr_null(rb_batch_record(b, 0)->value);
    ck_assert_uint_eq(rb_batch_record(b, 0)->key_len, 3);
    ck_assert_uint_eq(rb_batch_bytes(b), 0);
    rb_batch_destroy(b);
}
END_TEST

START_TEST(headers_are_copied) {
    rb_batch *b = rb_batch_new();
    rb_error err;
    char name[] = "trace-id", value[] = "abc";
    rb_header h[] = {{name, value, 3}, {"null-valued", NULL, 0}};
    rb_record *r = rb_batch_add(b, "t", 0, 1, 0, NULL, 0, "{}", 2, &err);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(rb_batch_add_headers(b, r, h, 2, &err), 0);
    name[0] = 'X';
    value[0] = 'X';
    ck_assert_uint_eq(r->header_count, 2);
    ck_assert_str_eq(r->headers[0].name, "trace-id");
    ck_assert_int_eq(memcmp(r->headers[0].value, "abc", 3), 0);
    ck_assert_ptr_null(r->headers[1].value);
    rb_record_fail(r, RB_STAGE_VALIDATE, true, "bad");
    rb_record_settle(r, RB_REC_DEAD_LETTERED);
    ck_assert_uint_eq(rb_batch_count_states(b).dead_lettered, 1);
    ck_assert_str_eq(rb_record_state_name(r->state), "dead_lettered");
    rb_batch_destroy(b);
}
END_TEST

START_TEST(settle_rule_and_counts) {
    rb_batch *b = rb_batch_new();
    rb_error err;
    for (int i = 0; i < 5; i++)
        ck_assert_ptr_nonnull(rb_batch_add(b, "t", 0, i, 0, NULL, 0, "{}", 2, &err));
    ck_assert(!rb_batch_all_settled(b));
    rb_record_settle(rb_batch_record(b, 0), RB_REC_STORED);
    rb_record_settle(rb_batch_record(b, 1), RB_REC_DELETED);
    rb_record_settle(rb_batch_record(b, 2), RB_REC_STALE);
    rb_record_fail(rb_batch_record(b, 3), RB_STAGE_VALIDATE, true, "/price: %d < 0", -3);
    ck_assert(!rb_batch_all_settled(b));
    ck_assert_ptr_null(rb_batch_first_failed(b));
    rb_record_fail(rb_batch_record(b, 4), RB_STAGE_DESERIALIZE, false, "not JSON");
    ck_assert(rb_batch_all_settled(b));
    const rb_record *f = rb_batch_first_failed(b);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(f->offset, 4);
    ck_assert_str_eq(f->fail_reason, "not JSON");
    rb_batch_counts c = rb_batch_count_states(b);
    ck_assert_uint_eq(c.in, 5);
    ck_assert_uint_eq(c.stored + c.deleted + c.stale + c.skipped + c.failed, c.in);
    ck_assert_uint_eq(c.skipped, 1);
    ck_assert_str_eq(rb_batch_record(b, 3)->fail_reason, "/price: -3 < 0");
    rb_batch_reset(b, 2);
    ck_assert_uint_eq(rb_batch_count(b), 0);
    ck_assert_uint_eq(rb_batch_id(b), 2);
    ck_assert(rb_batch_all_settled(b));
    rb_batch_destroy(b);
    rb_batch_destroy(NULL);
}
END_TEST

START_TEST(large_values_use_their_own_chunks) {
    rb_batch *b = rb_batch_new();
    rb_error err;
    size_t big = 1u << 20;
    char *v = malloc(big);
    ck_assert_ptr_nonnull(v);
    memset(v, 'a', big);
    for (int round = 0; round < 3; round++) {
        rb_batch_reset(b, (uint64_t)round);
        for (int i = 0; i < 4; i++)
            ck_assert_ptr_nonnull(rb_batch_add(b, "t", 0, i, 0, NULL, 0, v, big, &err));
        ck_assert_uint_eq(rb_batch_bytes(b), 4 * big);
        ck_assert_int_eq(rb_batch_record(b, 3)->value[big - 1], 'a');
        ck_assert_int_eq(rb_batch_record(b, 3)->value[big], '\0');
    }
    free(v);
    rb_batch_destroy(b);
}
END_TEST

/* The lifecycle's table, pair by pair: exactly the transitions
 * batch/record.h lists are legal. */
START_TEST(lifecycle_allows_exactly_the_documented_transitions) {
    static const struct {
        rb_record_state from, to;
    } documented[] = {
        {RB_REC_PENDING, RB_REC_UNCHANGED},
        {RB_REC_PENDING, RB_REC_STORED},
        {RB_REC_PENDING, RB_REC_DELETED},
        {RB_REC_PENDING, RB_REC_STALE},
        {RB_REC_PENDING, RB_REC_SKIPPED},
        {RB_REC_PENDING, RB_REC_FAILED},
        {RB_REC_UNCHANGED, RB_REC_PENDING},
        {RB_REC_UNCHANGED, RB_REC_REUSED},
        {RB_REC_UNCHANGED, RB_REC_STALE},
        {RB_REC_UNCHANGED, RB_REC_SKIPPED},
        {RB_REC_UNCHANGED, RB_REC_FAILED},
        {RB_REC_SKIPPED, RB_REC_DEAD_LETTERED},
        {RB_REC_DEAD_LETTERED, RB_REC_DEAD_LETTERED},
    };
    size_t legal = 0;
    for (int from = 0; from < RB_REC_STATES; from++)
        for (int to = 0; to < RB_REC_STATES; to++) {
            bool listed = false;
            for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
                listed |= documented[i].from == (rb_record_state)from &&
                          documented[i].to == (rb_record_state)to;
            ck_assert_msg(rb_record_transition_ok(from, to) == listed, "%s -> %s",
                          rb_record_state_name(from), rb_record_state_name(to));
            legal += listed;
        }
    ck_assert_uint_eq(legal, sizeof documented / sizeof documented[0]);
    ck_assert(!rb_record_transition_ok(RB_REC_STATES, RB_REC_PENDING));
    ck_assert(!rb_record_transition_ok(RB_REC_PENDING, RB_REC_STATES));
    ck_assert(rb_record_state_open(RB_REC_PENDING) && rb_record_state_open(RB_REC_UNCHANGED));
    for (int s = RB_REC_STORED; s < RB_REC_STATES; s++) ck_assert(!rb_record_state_open(s));
}
END_TEST

/* The commit rule: every record settled, none failed, and with a DLQ none
 * merely skipped. */
START_TEST(commit_rule_names_the_record_that_forbids_it) {
    rb_batch *b = rb_batch_new();
    rb_error err;
    for (int i = 0; i < 4; i++)
        ck_assert_ptr_nonnull(rb_batch_add(b, "t", 0, i, 0, NULL, 0, "{}", 2, &err));
    rb_record_settle(rb_batch_record(b, 0), RB_REC_STORED);
    rb_record_settle(rb_batch_record(b, 1), RB_REC_UNCHANGED);
    rb_record_fail(rb_batch_record(b, 2), RB_STAGE_VALIDATE, true, "bad");
    rb_record_settle(rb_batch_record(b, 3), RB_REC_STALE);
    ck_assert_ptr_eq(rb_batch_commit_blocker(b, false), rb_batch_record(b, 1));
    ck_assert_uint_eq(rb_batch_count_states(b).pending, 1);
    rb_record_settle(rb_batch_record(b, 1), RB_REC_REUSED);
    ck_assert_ptr_null(rb_batch_commit_blocker(b, false));
    ck_assert_ptr_eq(rb_batch_commit_blocker(b, true), rb_batch_record(b, 2));
    rb_record_settle(rb_batch_record(b, 2), RB_REC_DEAD_LETTERED);
    rb_record_settle(rb_batch_record(b, 2), RB_REC_DEAD_LETTERED); /* a second ack */
    ck_assert_ptr_null(rb_batch_commit_blocker(b, true));
    rb_batch_counts c = rb_batch_count_states(b);
    ck_assert_uint_eq(rb_batch_counts_settled(&c), c.in);
    ck_assert_uint_eq(c.reused, 1);
    ck_assert_uint_eq(c.dead_lettered, 1);
    ck_assert_int_eq(rb_batch_record(b, 2)->fail_stage, RB_STAGE_VALIDATE);
    rb_batch_reset(b, 1);
    ck_assert_ptr_nonnull(rb_batch_add(b, "t", 0, 9, 0, NULL, 0, "{}", 2, &err));
    rb_record_fail(rb_batch_record(b, 0), RB_STAGE_SINK, false, "rejected");
    ck_assert_ptr_eq(rb_batch_commit_blocker(b, false), rb_batch_record(b, 0));
    rb_batch_destroy(b);
}
END_TEST

/* One record in `state`, reached by legal steps. */
static rb_record *record_in(rb_batch *b, rb_record_state state) {
    rb_error err;
    rb_record *r = rb_batch_add(b, "t", 3, 17, 0, NULL, 0, "{}", 2, &err);
    ck_assert_ptr_nonnull(r);
    if (state == RB_REC_SKIPPED || state == RB_REC_DEAD_LETTERED)
        rb_record_fail(r, RB_STAGE_VALIDATE, true, "bad");
    if (state != RB_REC_PENDING && state != RB_REC_SKIPPED) rb_record_settle(r, state);
    return r;
}

/* Illegal transitions are programming errors: they abort (every build). */
START_TEST(a_settled_record_cannot_settle_again) {
    rb_batch *b = rb_batch_new();
    rb_record_settle(record_in(b, RB_REC_STORED), RB_REC_STALE);
}
END_TEST

START_TEST(reused_needs_the_unchanged_state_first) {
    rb_batch *b = rb_batch_new();
    rb_record_settle(record_in(b, RB_REC_PENDING), RB_REC_REUSED);
}
END_TEST

START_TEST(only_a_skipped_record_is_dead_lettered) {
    rb_batch *b = rb_batch_new();
    rb_record_settle(record_in(b, RB_REC_PENDING), RB_REC_DEAD_LETTERED);
}
END_TEST

START_TEST(a_stored_record_cannot_fail_afterwards) {
    rb_batch *b = rb_batch_new();
    rb_record_fail(record_in(b, RB_REC_STALE), RB_STAGE_SINK, true, "late");
}
END_TEST

START_TEST(a_dead_lettered_record_cannot_fail_again) {
    rb_batch *b = rb_batch_new();
    rb_record_fail(record_in(b, RB_REC_DEAD_LETTERED), RB_STAGE_DLQ, false, "late");
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("batch");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ranges_follow_partitions);
    tcase_add_test(tc, tombstones_have_null_values);
    tcase_add_test(tc, settle_rule_and_counts);
    tcase_add_test(tc, headers_are_copied);
    tcase_add_test(tc, large_values_use_their_own_chunks);
    tcase_add_test(tc, lifecycle_allows_exactly_the_documented_transitions);
    tcase_add_test(tc, commit_rule_names_the_record_that_forbids_it);
    tcase_add_test_raise_signal(tc, a_settled_record_cannot_settle_again, SIGABRT);
    tcase_add_test_raise_signal(tc, reused_needs_the_unchanged_state_first, SIGABRT);
    tcase_add_test_raise_signal(tc, only_a_skipped_record_is_dead_lettered, SIGABRT);
    tcase_add_test_raise_signal(tc, a_stored_record_cannot_fail_afterwards, SIGABRT);
    tcase_add_test_raise_signal(tc, a_dead_lettered_record_cannot_fail_again, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}
