/*
 * trigger.h -- when a micro-batch closes: the ProcessingTime trigger.
 *
 * A batch gathers records until its close time, then is processed.  As in
 * Spark's ProcessingTime trigger, close times follow a fixed schedule, one
 * interval apart: processing does not push the schedule back, so a batch
 * that took 600 ms of a 1 s interval is followed by one that gathers for
 * 400 ms, not for a whole interval.  When processing overran the interval,
 * the next batch closes at once and takes what has arrived meanwhile (see
 * rb_source_fill).  A batch that filled up (batch.max.records or
 * batch.max.bytes) means more is waiting: the next one starts a fresh
 * interval from now and, on a backlog, fills up again without waiting.
 *
 * A bounded run (--until caught-up, backfill) reads a range that is
 * already there, as Spark's availableNow does: its batches do not follow
 * the schedule.  One closes when it is full (batch.bounded.max.*), when
 * every assigned partition is at its end (rb_source_fill), or at the latest
 * RB_TRIGGER_BOUNDED_MAX_MS (or the interval, if shorter) after it opened,
 * so that the run looks at the group's progress regularly.
 *
 * Pure arithmetic on CLOCK_MONOTONIC milliseconds; no state.
 */
#ifndef RB_RUNNER_TRIGGER_H
#define RB_RUNNER_TRIGGER_H

#include <stdbool.h>
#include <stdint.h>

/* The close time of the batch after one that closed (was scheduled to
 * close) at `prev_close_ms`, now that its processing ended at `now_ms`. */
int64_t rb_trigger_next_close(int64_t prev_close_ms, int64_t now_ms, int64_t interval_ms,
                              bool prev_was_full);

#define RB_TRIGGER_BOUNDED_MAX_MS 1000

/* The latest close time of a bounded run's batch that opens at `now_ms`. */
int64_t rb_trigger_bounded_close(int64_t now_ms, int64_t interval_ms);

#endif
