/*
 * shutdown.h -- the bound on stopping: after SIGTERM or SIGINT the process
 * is gone within shutdown.timeout.ms, whatever it is doing.
 *
 * Kubernetes sends SIGTERM, waits terminationGracePeriodSeconds, then sends
 * SIGKILL.  A batch in hand may not finish in that time (a large batch is
 * being embedded, MongoDB or the DLQ topic does not answer), and some calls
 * cannot be interrupted at all (decoding a record, one MongoDB attempt, one
 * DLQ flush, leaving the group with a broker that does not answer).  So a
 * watchdog thread watches the stop flag that the signal handler sets, and
 * from the signal on:
 *   - the runner finishes and commits the batch in hand, as usual;
 *   - at the abandon time (shutdown.timeout.ms minus a reserve for the
 *     teardown: a fifth of it, at most 5 s) the abandon flag rises.  The
 *     runner's interruptible points see it -- the embedder between
 *     sub-batches or requests (rb_embedder_set_cancel), the write and DLQ
 *     retry loops, the steps of process_batch -- and give the batch up
 *     without committing it; the runner then tears down and returns 0;
 *   - at shutdown.timeout.ms, if the process is still there, the watchdog
 *     writes a line saying what it gives up, and ends the process with
 *     _exit(0).
 * A second signal raises the abandon flag at once.
 *
 * Giving a batch up loses nothing: its offsets are not committed, so its
 * records are read again by the next owner of their partitions, and the
 * versioned writes make any that were already stored come back stale.
 * Exit status 0 tells Kubernetes the pod stopped as asked.
 *
 * Threads: the watchdog thread only reads the stop flag (a volatile
 * sig_atomic_t written by the handler), the phase (atomics) and the clock,
 * and writes the abandon flag (an atomic) and log lines (rb_log is
 * line-atomic).  The rest belongs to the runner's thread.
 */
#ifndef RB_RUNNER_SHUTDOWN_H
#define RB_RUNNER_SHUTDOWN_H

#include "common/error.h"
#include "common/log.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct rb_shutdown rb_shutdown;

/* What the runner is doing, for the watchdog's last line. */
typedef enum rb_shutdown_phase {
    RB_SHUTDOWN_IDLE = 0, /* between batches: nothing in hand */
    RB_SHUTDOWN_BATCH,    /* a batch in hand, not committed */
    RB_SHUTDOWN_TEARDOWN  /* the loop is over: leaving the group, closing */
} rb_shutdown_phase;

/* The abandon time, in ms after the signal, for a given
 * shutdown.timeout.ms: what is left once the teardown's reserve is kept. */
int64_t rb_shutdown_abandon_after_ms(int64_t timeout_ms);

/* Starts the watchdog on `stop` (the signal handler's flag, which must
 * outlive it).  `log` must outlive it too.  NULL on failure (err set). */
rb_shutdown *rb_shutdown_start(volatile sig_atomic_t *stop, int64_t timeout_ms, const rb_log *log,
                               rb_error *err);

/* The flag that becomes non-zero at the abandon time; valid until
 * rb_shutdown_stop().  For rb_embedder_set_cancel(). */
const atomic_int *rb_shutdown_abandon_flag(const rb_shutdown *sd);

/* True once the batch in hand must be given up.  Accepts NULL (false). */
bool rb_shutdown_abandoning(const rb_shutdown *sd);

/* Milliseconds since the stop flag was first seen; -1 before.  Accepts NULL. */
int64_t rb_shutdown_elapsed_ms(const rb_shutdown *sd);

/* Tells the watchdog what the runner does now.  Accepts NULL. */
void rb_shutdown_phase_set(rb_shutdown *sd, rb_shutdown_phase phase, uint64_t batch_id);

/* Stops and joins the watchdog thread; accepts NULL.  The abandon flag is
 * gone afterwards: remove it from the embedder first. */
void rb_shutdown_stop(rb_shutdown *sd);

#endif
