/* The Kafka source against the real broker (scripts/servers.sh): what a
 * fill takes once its deadline has passed. */
#include "check_main.h"
#include "batch/batch.h"
#include "common/clock.h"
#include "common/log.h"
#include "config/config.h"
#include "harness.h"
#include "source/source.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void produce_n(const char *topic, int from, int n) {
    harness_msg *m = calloc((size_t)n, sizeof *m);
    char(*vals)[32] = calloc((size_t)n, sizeof *vals);
    ck_assert(m && vals);
    for (int i = 0; i < n; i++) {
        snprintf(vals[i], sizeof vals[i], "{\"n\":%d}", from + i);
        m[i] = (harness_msg){"k", vals[i], 0, 0};
    }
    harness_produce(topic, m, (size_t)n);
    free(m);
    free(vals);
}

/* A one-partition topic of a test's own with `records` records ({"n":0}
 * on), and a source on it for the group of the topic's name: the test's
 * stack holds it all while the source lives (it keeps the log). */
typedef struct source_fixture {
    char topic[128];
    char *items[1];
    rb_strlist topics;
    rb_kv kafka[3];
    rb_log log;
} source_fixture;

/* `extra` (may be NULL) is one more kafka.* property. */
static rb_source *open_source(source_fixture *f, const char *prefix, int records, bool bounded,
                              const rb_kv *extra) {
    harness_unique(prefix, f->topic, sizeof f->topic);
    harness_create_topic(f->topic, 1);
    produce_n(f->topic, 0, records);
    f->items[0] = f->topic;
    f->topics = (rb_strlist){f->items, 1};
    rb_log_init(&f->log);
    f->log.min = RB_LOG_WARN;
    f->kafka[0] = (rb_kv){"bootstrap.servers", (char *)harness_env("RAGBATCH_KAFKA_BOOTSTRAP")};
    f->kafka[1] = (rb_kv){"group.id", f->topic};
    if (extra) f->kafka[2] = *extra;
    rb_source_opts o = {.job_name = f->topic,
                        .topics = &f->topics,
                        .kafka = f->kafka,
                        .kafka_count = extra ? 3 : 2,
                        .log = &f->log,
                        .bounded = bounded};
    rb_error err;
    rb_error_clear(&err);
    rb_source *s = rb_source_new(&o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

/* A batch whose trigger time has already passed (the previous batch
 * overran) still takes, without waiting, what the consumer has fetched;
 * with nothing fetched it returns at once, empty. */
START_TEST(overdue_fill_takes_what_has_arrived) {
    source_fixture f;
    rb_source *s = open_source(&f, "rb-source", 20, false, NULL);
    rb_error err;
    rb_batch *b = rb_batch_new();
    ck_assert_ptr_nonnull(b);

    /* The first records arrive once the group has assigned the partition. */
    size_t got = 0;
    for (int i = 0; i < 30 && got < 20; i++) {
        rb_batch_reset(b, 0);
        ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, rb_now_ms() + 1000, NULL, &err), 0);
        got += rb_batch_count(b);
    }
    ck_assert_uint_eq(got, 20);

    /* Seven more arrive while "processing"; overdue fills take them as
     * librdkafka fetches them in the background (polled every 200 ms, so
     * a slow fetch under a loaded CI machine only takes more rounds). */
    produce_n(f.topic, 20, 7);
    got = 0;
    for (int i = 0; i < 100 && got < 7; i++) {
        rb_sleep_ms(200);
        rb_batch_reset(b, 1);
        ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, rb_now_ms() - 1, NULL, &err), 0);
        got += rb_batch_count(b);
    }
    ck_assert_uint_eq(got, 7);

    /* Nothing more: an overdue fill returns at once, empty. */
    rb_batch_reset(b, 2);
    int64_t t0 = rb_now_ms();
    ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, t0 - 1, NULL, &err), 0);
    ck_assert_uint_eq(rb_batch_count(b), 0);
    ck_assert_int_lt(rb_now_ms() - t0, 500);

    rb_batch_destroy(b);
    rb_source_destroy(s);
}
END_TEST

/* While a batch is held (its write retried), librdkafka has long fetched
 * what follows it, and more arrives.  The polls that keep the member in its
 * group take none of it; after the release the fills take every following
 * offset exactly once and in order. */
START_TEST(holding_a_batch_loses_and_repeats_nothing) {
    source_fixture f;
    rb_source *s = open_source(&f, "rb-hold", 50, false, NULL);
    rb_batch *b = rb_batch_new();
    ck_assert_ptr_nonnull(b);
    rb_error err;

    /* The batch in hand: offsets 0..9 (the rest is prefetched meanwhile). */
    rb_batch_reset(b, 0);
    for (int i = 0; i < 300 && rb_batch_count(b) < 10; i++)
        ck_assert_int_eq(rb_source_fill(s, b, 10, 1 << 30, rb_now_ms() + 100, NULL, &err), 0);
    ck_assert_uint_eq(rb_batch_count(b), 10);
    for (size_t i = 0; i < 10; i++) ck_assert_int_eq(rb_batch_record(b, i)->offset, (int64_t)i);
    rb_sleep_ms(500);

    ck_assert_msg(rb_source_hold(s, &err) == 0, "%s", err.msg);
    produce_n(f.topic, 50, 5);
    for (int i = 0; i < 20; i++) ck_assert_int_eq(rb_source_hold_serve(s, 100, &err), 0);
    ck_assert_msg(rb_source_release(s, &err) == 0, "%s", err.msg);

    int64_t next = 10;
    for (int i = 0; i < 100 && next < 55; i++) {
        rb_batch_reset(b, 1);
        ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, rb_now_ms() + 200, NULL, &err), 0);
        for (size_t k = 0; k < rb_batch_count(b); k++) {
            ck_assert_int_eq(rb_batch_record(b, k)->offset, next);
            next++;
        }
    }
    ck_assert_int_eq(next, 55);
    rb_batch_destroy(b);
    rb_source_destroy(s);
}
END_TEST

/* A bounded source's fill closes at the end offsets of its snapshot, long
 * before its deadline; what arrived after the snapshot comes in the next
 * fills, in whole batches, not one record per fill. */
START_TEST(bounded_fill_closes_at_the_end_offsets) {
    source_fixture f;
    rb_source *s = open_source(&f, "rb-bounded", 20, true, NULL);
    produce_n(f.topic, 20, 30); /* after the snapshot */
    rb_batch *b = rb_batch_new();
    ck_assert_ptr_nonnull(b);
    rb_error err;

    int64_t t0 = rb_now_ms();
    rb_batch_reset(b, 0);
    while (rb_batch_count(b) == 0 && rb_now_ms() - t0 < 30000)
        ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, rb_now_ms() + 60000, NULL, &err), 0);
    ck_assert_msg(rb_now_ms() - t0 < 30000, "the fill waited for its deadline");
    ck_assert_uint_eq(rb_batch_count(b), 20);
    ck_assert(rb_source_assigned_done(s));

    size_t got = 0;
    int fills = 0;
    for (; fills < 20 && got < 30; fills++) {
        rb_batch_reset(b, 1);
        ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, rb_now_ms() + 2000, NULL, &err), 0);
        got += rb_batch_count(b);
    }
    ck_assert_uint_eq(got, 30);
    ck_assert_int_le(fills, 3);
    rb_batch_destroy(b);
    rb_source_destroy(s);
}
END_TEST

typedef struct lag_seen {
    int calls, answered;
    int64_t lag;
} lag_seen;

static void note_lag(const char *topic, int32_t partition, int64_t lag, void *ctx) {
    (void)topic;
    (void)partition;
    lag_seen *seen = ctx;
    seen->calls++;
    if (lag >= 0) seen->answered++, seen->lag = lag;
}

/* The lag gauges' offsets requests must not queue behind the consumer's own
 * fetch: a broker answers a connection's requests in order, and a fetch at
 * the end of a partition waits up to fetch.wait.max.ms for data.  Here that
 * wait is 5 s, ten times the lag query's 500-ms bound, so a query sent on
 * the consumer's connection cannot be answered in time and the lag reads
 * as unknown (-1); before, every refresh also stalled the batch loop. */
START_TEST(lag_is_read_while_the_consumer_waits_in_a_fetch) {
    const rb_kv long_fetch = {"fetch.wait.max.ms", "5000"};
    source_fixture f;
    rb_source *s = open_source(&f, "rb-lagfetch", 5, false, &long_fetch);
    rb_error err;
    rb_batch *b = rb_batch_new();
    ck_assert_ptr_nonnull(b);
    size_t got = 0;
    for (int i = 0; i < 60 && got < 5; i++) {
        rb_batch_reset(b, (uint64_t)i);
        ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, rb_now_ms() + 500, NULL, &err), 0);
        got += rb_batch_count(b);
    }
    ck_assert_uint_eq(got, 5);
    /* At the end of the partition now: the consumer's next fetch waits at
     * the broker.  Nothing is committed, so the lag counts from the start. */
    for (int round = 0; round < 4; round++) {
        rb_batch_reset(b, 100 + (uint64_t)round);
        ck_assert_int_eq(rb_source_fill(s, b, 1000, 1 << 30, rb_now_ms() + 300, NULL, &err), 0);
        lag_seen seen = {0, 0, -1};
        rb_source_lag_each(s, note_lag, &seen);
        ck_assert_int_eq(seen.calls, 1);
        ck_assert_msg(seen.answered == 1, "round %d: the lag query was not answered", round);
        ck_assert_int_eq(seen.lag, 5);
    }
    rb_batch_destroy(b);
    rb_source_destroy(s);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("kafka");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, overdue_fill_takes_what_has_arrived);
    tcase_add_test(tc, holding_a_batch_loses_and_repeats_nothing);
    tcase_add_test(tc, bounded_fill_closes_at_the_end_offsets);
    tcase_add_test(tc, lag_is_read_while_the_consumer_waits_in_a_fetch);
    suite_add_tcase(s, tc);
    return s;
}
