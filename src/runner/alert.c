#include "runner/alert.h"

#include <stdlib.h>
#include <string.h>

void rb_alert_init(rb_alert *a, double threshold, int64_t window_ms) {
    memset(a, 0, sizeof *a);
    a->threshold = threshold;
    a->window_ms = window_ms;
}

void rb_alert_free(rb_alert *a) {
    free(a->ring);
    memset(a, 0, sizeof *a);
}

rb_alert_change rb_alert_observe(rb_alert *a, int64_t now_ms, size_t batch_in, size_t batch_failed,
                                 size_t *in, size_t *failed) {
    if (a->threshold <= 0) return RB_ALERT_NONE;
    /* Forget what left the window, then add the batch. */
    size_t keep = 0;
    while (keep < a->count && now_ms - a->ring[keep].at_ms > a->window_ms) keep++;
    if (keep > 0) {
        memmove(a->ring, a->ring + keep, (a->count - keep) * sizeof *a->ring);
        a->count -= keep;
    }
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        rb_alert_sample *grown = realloc(a->ring, cap * sizeof *grown);
        if (!grown) return RB_ALERT_NONE; /* the alert is advice: never fail the job for it */
        a->ring = grown;
        a->cap = cap;
    }
    a->ring[a->count++] = (rb_alert_sample){now_ms, batch_in, batch_failed};
    size_t total = 0, bad = 0;
    for (size_t i = 0; i < a->count; i++) {
        total += a->ring[i].in;
        bad += a->ring[i].failed;
    }
    if (in) *in = total;
    if (failed) *failed = bad;
    bool above = total > 0 && (double)bad / (double)total > a->threshold;
    if (above == a->firing) return RB_ALERT_NONE;
    a->firing = above;
    return above ? RB_ALERT_STARTED : RB_ALERT_ENDED;
}
