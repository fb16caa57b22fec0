/* ports.c -- the Kafka source and DLQ behind the runner's ports, and the
 * calls through a port; see ports.h. */
#include "runner/ports.h"

#include "common/clock.h"

/* ---- Kafka: every call forwards to source.h / dlq.h unchanged ---------- */

static int kafka_fill(void *impl, rb_batch *b, size_t max_records, size_t max_bytes,
                      int64_t deadline_ms, volatile sig_atomic_t *stop, rb_error *err) {
    return rb_source_fill(impl, b, max_records, max_bytes, deadline_ms, stop, err);
}
static int kafka_commit(void *impl, const rb_batch *b, size_t *committed, size_t *skipped,
                        rb_error *err) {
    return rb_source_commit(impl, b, committed, skipped, err);
}
static bool kafka_assigned_done(void *impl) { return rb_source_assigned_done(impl); }
static int kafka_behind_check(void *impl, rb_source_behind *out, rb_error *err) {
    return rb_source_behind_check(impl, out, err);
}
static int kafka_hold(void *impl, rb_error *err) { return rb_source_hold(impl, err); }
static int kafka_hold_serve(void *impl, int wait_ms, rb_error *err) {
    return rb_source_hold_serve(impl, wait_ms, err);
}
static int kafka_release(void *impl, rb_error *err) { return rb_source_release(impl, err); }
static int64_t kafka_lag(void *impl) { return rb_source_lag(impl); }
static void kafka_lag_each(void *impl, rb_source_lag_fn fn, void *ctx) {
    rb_source_lag_each(impl, fn, ctx);
}
static double kafka_backfill_share(void *impl) { return rb_source_backfill_share(impl); }
static void kafka_destroy(void *impl) { rb_source_destroy(impl); }

static const rb_runner_source_ops kafka_source_ops = {
    .fill = kafka_fill,
    .commit = kafka_commit,
    .assigned_done = kafka_assigned_done,
    .behind_check = kafka_behind_check,
    .hold = kafka_hold,
    .hold_serve = kafka_hold_serve,
    .release = kafka_release,
    .lag = kafka_lag,
    .lag_each = kafka_lag_each,
    .backfill_share = kafka_backfill_share,
    .destroy = kafka_destroy,
};

rb_runner_source rb_runner_source_kafka(rb_source *s) {
    return (rb_runner_source){s ? &kafka_source_ops : NULL, s};
}

static int kafka_dlq_send(void *impl, rb_batch *b, size_t *sent, rb_error *err) {
    return rb_dlq_send(impl, b, sent, err);
}
static void kafka_dlq_destroy(void *impl) { rb_dlq_destroy(impl); }

static const rb_runner_dlq_ops kafka_dlq_ops = {
    .send = kafka_dlq_send,
    .destroy = kafka_dlq_destroy,
};

rb_runner_dlq rb_runner_dlq_kafka(rb_dlq *d) {
    return (rb_runner_dlq){d ? &kafka_dlq_ops : NULL, d};
}

/* ---- calls through a port --------------------------------------------- */

int rb_runner_source_fill(rb_runner_source s, rb_batch *b, size_t max_records, size_t max_bytes,
                          int64_t deadline_ms, volatile sig_atomic_t *stop, rb_error *err) {
    return s.ops->fill(s.impl, b, max_records, max_bytes, deadline_ms, stop, err);
}

int rb_runner_source_commit(rb_runner_source s, const rb_batch *b, size_t *committed,
                            size_t *skipped, rb_error *err) {
    return s.ops->commit(s.impl, b, committed, skipped, err);
}

bool rb_runner_source_assigned_done(rb_runner_source s) { return s.ops->assigned_done(s.impl); }

int rb_runner_source_behind_check(rb_runner_source s, rb_source_behind *out, rb_error *err) {
    return s.ops->behind_check(s.impl, out, err);
}

int rb_runner_source_hold(rb_runner_source s, rb_error *err) {
    return s.ops->hold ? s.ops->hold(s.impl, err) : 0;
}

int rb_runner_source_hold_serve(rb_runner_source s, int wait_ms, rb_error *err) {
    if (s.ops->hold_serve) return s.ops->hold_serve(s.impl, wait_ms, err);
    rb_sleep_ms(wait_ms);
    return 0;
}

int rb_runner_source_release(rb_runner_source s, rb_error *err) {
    return s.ops->release ? s.ops->release(s.impl, err) : 0;
}

int64_t rb_runner_source_lag(rb_runner_source s) { return s.ops->lag ? s.ops->lag(s.impl) : -1; }

void rb_runner_source_lag_each(rb_runner_source s, rb_source_lag_fn fn, void *ctx) {
    if (s.ops->lag_each) s.ops->lag_each(s.impl, fn, ctx);
}

double rb_runner_source_backfill_share(rb_runner_source s) {
    return s.ops->backfill_share ? s.ops->backfill_share(s.impl) : 1.0;
}

void rb_runner_source_destroy(rb_runner_source s) {
    if (s.ops && s.ops->destroy) s.ops->destroy(s.impl);
}

int rb_runner_dlq_send(rb_runner_dlq d, rb_batch *b, size_t *sent, rb_error *err) {
    return d.ops->send(d.impl, b, sent, err);
}

void rb_runner_dlq_destroy(rb_runner_dlq d) {
    if (d.ops && d.ops->destroy) d.ops->destroy(d.impl);
}
