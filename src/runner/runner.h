/*
 * runner.h -- the micro-batch loop: the product's spine.
 *
 * Every trigger interval the runner fills a batch from the source, decodes
 * each record (parse, validate, derive the document) on OpenMP workers,
 * drops versions superseded within the batch, embeds the texts, writes
 * everything in one unordered bulk, and only when every record has reached
 * a terminal state does it commit the batch's offsets.  A write that fails
 * for a transient reason is retried with exponential backoff and the batch
 * is not committed meanwhile; a record that fails is, per errors.tolerance,
 * either the end of the run (nothing of its batch committed) or skipped,
 * counted and logged.
 *
 * Shutdown: when *opts->stop becomes non-zero the runner stops polling,
 * finishes and commits the batch in hand, and returns 0.  A batch still
 * being decoded is abandoned at once instead (nothing of it was written
 * yet): nothing is committed and its records are read again by the next
 * owner.  The stop is
 * bounded by shutdown.timeout.ms (runner/shutdown.h): a batch that cannot
 * finish in that budget (a large batch being embedded, MongoDB or the DLQ
 * away) is given up uncommitted -- its records are read again by the next
 * owner of their partitions -- and the runner still returns 0; past the
 * timeout a watchdog ends the process with exit status 0.  A batch that
 * fails for good while stopping (sink.retry.timeout.ms) returns -1.
 *
 * Bounded runs (until_caught_up, backfill) end when the group's committed
 * offsets cover the end offsets seen at start (source.h,
 * rb_source_behind_check), and return -1 when those stop moving for
 * caught.up.timeout.ms.
 *
 * The loop reaches Kafka, MongoDB, the embedder and the DLQ through ports
 * (runner/ports.h); rb_runner_run_with() takes stand-ins for any of them.
 * What a record goes through, and when a batch may be committed, is
 * batch/record.h's lifecycle.
 */
#ifndef RB_RUNNER_H
#define RB_RUNNER_H

#include "batch/batch.h"
#include "common/error.h"
#include "config/config.h"
#include "source/source.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct rb_runner_opts {
    bool until_caught_up;        /* exit 0 once the end offsets seen at start are committed */
    volatile sig_atomic_t *stop; /* set from a signal handler; may be NULL */
    const rb_backfill *backfill; /* a bounded replay of a range (implies until_caught_up) */
} rb_runner_opts;

typedef struct rb_runner_totals {
    uint64_t batches;
    rb_batch_counts counts; /* summed over every batch */
} rb_runner_totals;

/* Runs the job described by `cfg` (already loaded and checked).  `totals`
 * may be NULL. */
int rb_runner_run(const rb_job_config *cfg, const rb_runner_opts *opts, rb_runner_totals *totals,
                  rb_error *err);

#endif
