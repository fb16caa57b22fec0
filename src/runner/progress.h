/*
 * progress.h -- the per-batch progress report, in the spirit of Spark's
 * StreamingQueryProgress: what came in, where each record ended, how fast,
 * how long each stage took, and how far behind the consumer is.
 *
 * The counts reconcile:
 *   in = stored + deleted + stale + reused + skipped + dead_lettered + failed.
 * With long texts: chunks = chunks_reused + chunks_embedded (the chunk
 * texts embedded, part of `embedded`); chunks_written and chunks_removed
 * are the chunk collection's documents stored and removed.
 * Formatting is separate from collection so that tests can check both.
 */
#ifndef RB_PROGRESS_H
#define RB_PROGRESS_H

#include "batch/batch.h"
#include "common/buf.h"

#include <stdint.h>

typedef enum rb_progress_stage {
    RB_PROG_POLL = 0,
    RB_PROG_DECODE, /* parse + validate + transform */
    RB_PROG_LOOKUP, /* the one read of what is stored for the batch's ids
                         (reuse of unchanged vectors, versions for the sink) */
    RB_PROG_EMBED,
    RB_PROG_WRITE,
    RB_PROG_DLQ,
    RB_PROG_COMMIT,
    RB_PROG_STAGES
} rb_progress_stage;

typedef struct rb_progress {
    uint64_t batch_id;
    int64_t timestamp_ms; /* wall clock at the end of the batch */
    rb_batch_counts counts;
    size_t partitions_committed;
    size_t partitions_skipped; /* no longer assigned at commit time */
    size_t embedded;           /* texts sent to the embedder */
    double duration_ms[RB_PROG_STAGES];
    double total_ms;
    double input_rate;     /* records/s over the trigger window */
    double processed_rate; /* records/s over the processing time */
    int64_t lag;           /* records behind the end; -1 unknown */
    size_t write_retries;
    size_t chunks;         /* chunks of the batch's long texts (runner/chunking.c) */
    size_t chunks_reused;  /* of them, unchanged: the stored vector, not embedded */
    size_t chunks_written; /* chunk documents the write stored (retries summed) */
    size_t chunks_removed; /* chunk documents of older versions or deleted ids removed */
} rb_progress;

/* "poll", "decode", "lookup", "embed", "write", "dlq", "commit": the
 * names of the stages in progress lines (<name>_ms, durationMs.<name>) and
 * in the stage label of ragbatch_stage_duration_seconds. */
const char *rb_progress_stage_name(rb_progress_stage s);

/* "batch=3 in=100 stored=97 ... poll_ms=1000.2 ... lag=0" */
int rb_progress_format_text(const rb_progress *p, rb_buf *out);

/* One JSON object (no newline) with the same facts, nested like Spark's
 * progress: {"batchId":3,"numInputRows":100,...,"durationMs":{...}}. */
int rb_progress_format_json(const rb_progress *p, const char *job, rb_buf *out);

#endif
