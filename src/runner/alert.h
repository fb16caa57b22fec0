/*
 * alert.h -- the failure-rate alert: the share of failed records over a
 * sliding time window, compared with errors.alert.threshold.
 *
 * The runner feeds it each batch's counts and writes one level=ALERT log
 * line when the share rises above the threshold, and one INFO line when
 * it falls back, so that log-based alerting (Loki, CloudWatch, a grep)
 * fires once per episode rather than once per batch.  Pure bookkeeping:
 * no I/O, no clock of its own.
 */
#ifndef RB_ALERT_H
#define RB_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_alert_sample {
    int64_t at_ms;
    size_t in, failed;
} rb_alert_sample;

typedef struct rb_alert {
    double threshold; /* 0 disables */
    int64_t window_ms;
    rb_alert_sample *ring; /* samples in time order */
    size_t count, cap;
    bool firing;
} rb_alert;

typedef enum rb_alert_change {
    RB_ALERT_NONE = 0,
    RB_ALERT_STARTED,
    RB_ALERT_ENDED
} rb_alert_change;

void rb_alert_init(rb_alert *a, double threshold, int64_t window_ms);
void rb_alert_free(rb_alert *a);

/* Adds a batch's counts at `now_ms` and reports whether the alert started
 * or ended.  *in and *failed (may be NULL) receive the window's totals. */
rb_alert_change rb_alert_observe(rb_alert *a, int64_t now_ms, size_t batch_in, size_t batch_failed,
                                 size_t *in, size_t *failed);

#endif
