/*
 * backoff.h -- the one exponential backoff with jitter, for every retry:
 * the runner's batch write and dead-letter delivery (sink.retry.*) and the
 * HTTP embedding requests (embed.retry.*).
 *
 * The wait before retry n (n = 1 for the first retry) has the nominal
 * length initial * 2^(n-1), capped at max.  The wait itself is drawn
 * uniformly from [nominal / 2, nominal] ("equal jitter"): never longer
 * than max, so that *.retry.backoff.max.ms is the longest wait as its
 * documentation says; never shorter than half the nominal, so that a
 * retry still backs off; and many pods that failed together come back
 * spread over half the interval rather than in lock-step.
 *
 * Pure functions over a caller-owned rb_prng (common/prng.h); nothing
 * allocates, fails or keeps state.
 */
#ifndef RB_BACKOFF_H
#define RB_BACKOFF_H

#include "common/prng.h"

#include <stdint.h>

/* The nominal wait before retry `attempt` (1, 2, ...): initial_ms doubled
 * attempt - 1 times, capped at max_ms (no overflow for any attempt).  An
 * attempt below 1 counts as 1; max_ms below initial_ms is taken as
 * initial_ms; a negative initial_ms as 0. */
int64_t rb_backoff_nominal_ms(int64_t initial_ms, int64_t max_ms, int attempt);

/* The jittered wait before retry `attempt`: uniform in
 * [nominal / 2, nominal], drawn from `rng`. */
int64_t rb_backoff_wait_ms(int64_t initial_ms, int64_t max_ms, int attempt, rb_prng *rng);

#endif
