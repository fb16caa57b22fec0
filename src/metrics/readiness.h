/*
 * readiness.h -- the state behind /readyz: is each dependency reachable,
 * and has the batch loop made progress lately?
 *
 * The runner reports as things happen: rb_readiness_set() when a
 * dependency ("kafka", "mongodb", ...) is found up or down, and
 * rb_readiness_progress() each time its loop completes a cycle (a committed
 * batch or an empty poll: an idle topic is not a stuck job).
 * rb_readiness_check() has the rb_metrics_ready_fn signature, so the object
 * is passed as the server's readiness context.  It answers ready when every
 * dependency reported so far is up and the last progress (or creation, before
 * the first) is at most `max_idle_ms` old; otherwise the reason names the
 * first dependency down, with its reason, or how long the loop has been
 * silent.
 *
 * Thread-safe (one mutex); component names and reasons are copied and
 * truncated to fit.  At most RB_READINESS_MAX_COMPONENTS names; further
 * ones are ignored.  The object must outlive the server that calls it.
 */
#ifndef RB_READINESS_H
#define RB_READINESS_H

#include "common/error.h"

#include <stddef.h>
#include <stdint.h>

#define RB_READINESS_MAX_COMPONENTS 8

typedef struct rb_readiness rb_readiness;

/* `max_idle_ms` <= 0 disables the progress check. */
rb_readiness *rb_readiness_new(int64_t max_idle_ms, rb_error *err);
void rb_readiness_destroy(rb_readiness *r);

/* Records whether `component` is up; `reason` (may be NULL) says why not. */
void rb_readiness_set(rb_readiness *r, const char *component, int up, const char *reason);

/* Records that the loop completed a cycle now. */
void rb_readiness_progress(rb_readiness *r);

/* rb_metrics_ready_fn: `ctx` is the rb_readiness. */
int rb_readiness_check(void *ctx, char *reason, size_t size);

#endif
