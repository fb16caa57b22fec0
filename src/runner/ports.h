/*
 * ports.h -- what the runner talks to: the source of records, the sink,
 * the embedder and the DLQ, each behind an interface, so that in-process
 * stand-ins can drive the real batch loop (tests/check_runner.c) without
 * Kafka or MongoDB.
 *
 * rb_runner_run() builds every port from the job: the Kafka consumer
 * (source/source.h), the MongoDB sink (sink/port.h), the embedder the job
 * names, and the Kafka DLQ producer when the job has a DLQ topic.
 * rb_runner_run_with() takes any of them from the caller instead; a port
 * left empty (ops NULL) is built from the job as above.
 *
 * Ownership: ports the caller passes stay the caller's, valid until
 * rb_runner_run_with() returns, which neither destroys them nor keeps a
 * pointer to them after it; ports the runner builds it destroys.
 */
#ifndef RB_RUNNER_PORTS_H
#define RB_RUNNER_PORTS_H

#include "batch/batch.h"
#include "common/error.h"
#include "dlq/dlq.h"
#include "embed/embedder.h"
#include "runner/progress.h"
#include "runner/runner.h"
#include "sink/port.h"
#include "source/source.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The source of records: the calls of source/source.h the loop makes,
 * with the same contracts.  The first four are required; the rest may be
 * NULL for a source that cannot lose its partitions: hold and release are
 * then no-ops, hold_serve sleeps, lag is unknown (-1), lag_each reports
 * nothing and backfill_share is 1. */
typedef struct rb_runner_source_ops {
    int (*fill)(void *impl, rb_batch *b, size_t max_records, size_t max_bytes, int64_t deadline_ms,
                volatile sig_atomic_t *stop, rb_error *err);
    int (*commit)(void *impl, const rb_batch *b, size_t *committed, size_t *skipped,
                  rb_error *err);
    bool (*assigned_done)(void *impl);
    int (*behind_check)(void *impl, rb_source_behind *out, rb_error *err);
    int (*hold)(void *impl, rb_error *err);
    int (*hold_serve)(void *impl, int wait_ms, rb_error *err);
    int (*release)(void *impl, rb_error *err);
    int64_t (*lag)(void *impl);
    void (*lag_each)(void *impl, rb_source_lag_fn fn, void *ctx);
    double (*backfill_share)(void *impl);
    void (*destroy)(void *impl); /* NULL: nothing to release */
} rb_runner_source_ops;

typedef struct rb_runner_source {
    const rb_runner_source_ops *ops; /* NULL: none (or: build from the job) */
    void *impl;
} rb_runner_source;

/* The dead-letter queue: dlq/dlq.h's rb_dlq_send, same contract (every
 * SKIPPED record acknowledged becomes DEAD_LETTERED; -1 retriable when a
 * retry may deliver the rest, -1 not retriable when a record cannot be
 * dead-lettered at all). */
typedef struct rb_runner_dlq_ops {
    int (*send)(void *impl, rb_batch *b, size_t *sent, rb_error *err);
    void (*destroy)(void *impl); /* NULL: nothing to release */
} rb_runner_dlq_ops;

typedef struct rb_runner_dlq {
    const rb_runner_dlq_ops *ops; /* NULL: no DLQ (or: build from the job) */
    void *impl;
} rb_runner_dlq;

/* Called once per processed batch, after it was committed, with what its
 * progress line reports. */
typedef void (*rb_runner_progress_fn)(const rb_progress *p, void *ctx);

typedef struct rb_runner_ports {
    rb_runner_source source;
    rb_sink_port sink;
    /* The chunk collection of long texts (text.chunk.enable): ops NULL
     * builds a MongoDB sink on text.chunk.collection, which is refused
     * (a configuration error) when `sink` is the caller's: chunks and
     * documents must live side by side.  A caller's chunk port needs
     * remove_chunks. */
    rb_sink_port chunks;
    rb_embedder *embedder;             /* NULL: the job's embed.* */
    rb_runner_dlq dlq;                 /* ops NULL: the job's DLQ topic, if any */
    FILE *log;                         /* NULL: stderr */
    rb_runner_progress_fn on_progress; /* may be NULL */
    void *progress_ctx;
} rb_runner_ports;

/* As rb_runner_run(), with the ports `ports` names (may be NULL: all
 * from the job). */
int rb_runner_run_with(const rb_job_config *cfg, const rb_runner_opts *opts,
                       const rb_runner_ports *ports, rb_runner_totals *totals, rb_error *err);

/* The Kafka consumer and the Kafka DLQ producer behind their ports;
 * destroying the port destroys them.  `s`/`d` may be NULL (empty port). */
rb_runner_source rb_runner_source_kafka(rb_source *s);
rb_runner_dlq rb_runner_dlq_kafka(rb_dlq *d);

/* Calls through a source port, with the defaults above for what it lacks. */
int rb_runner_source_fill(rb_runner_source s, rb_batch *b, size_t max_records, size_t max_bytes,
                          int64_t deadline_ms, volatile sig_atomic_t *stop, rb_error *err);
int rb_runner_source_commit(rb_runner_source s, const rb_batch *b, size_t *committed,
                            size_t *skipped, rb_error *err);
bool rb_runner_source_assigned_done(rb_runner_source s);
int rb_runner_source_behind_check(rb_runner_source s, rb_source_behind *out, rb_error *err);
int rb_runner_source_hold(rb_runner_source s, rb_error *err);
int rb_runner_source_hold_serve(rb_runner_source s, int wait_ms, rb_error *err);
int rb_runner_source_release(rb_runner_source s, rb_error *err);
int64_t rb_runner_source_lag(rb_runner_source s);
void rb_runner_source_lag_each(rb_runner_source s, rb_source_lag_fn fn, void *ctx);
double rb_runner_source_backfill_share(rb_runner_source s);
void rb_runner_source_destroy(rb_runner_source s); /* accepts an empty port */

/* Calls through a DLQ port; `d` must not be empty. */
int rb_runner_dlq_send(rb_runner_dlq d, rb_batch *b, size_t *sent, rb_error *err);
void rb_runner_dlq_destroy(rb_runner_dlq d); /* accepts an empty port */

#endif
