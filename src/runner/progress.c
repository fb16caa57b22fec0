#include "runner/progress.h"

#include <inttypes.h>
#include <string.h>

static const char *const stage_names[RB_PROG_STAGES] = {"poll",  "decode", "lookup", "embed",
                                                        "write", "dlq",    "commit"};

const char *rb_progress_stage_name(rb_progress_stage s) {
    return s >= 0 && s < RB_PROG_STAGES ? stage_names[s] : "unknown";
}

int rb_progress_format_text(const rb_progress *p, rb_buf *out) {
    const rb_batch_counts *c = &p->counts;
    int rc = rb_buf_printf(out,
                           "batch=%" PRIu64 " in=%zu stored=%zu deleted=%zu stale=%zu "
                           "reused=%zu skipped=%zu dead_lettered=%zu failed=%zu embedded=%zu "
                           "input_rate=%.1f processed_rate=%.1f",
                           p->batch_id, c->in, c->stored, c->deleted, c->stale, c->reused,
                           c->skipped, c->dead_lettered, c->failed, p->embedded, p->input_rate,
                           p->processed_rate);
    for (int s = 0; s < RB_PROG_STAGES && rc == 0; s++)
        rc = rb_buf_printf(out, " %s_ms=%.1f", stage_names[s], p->duration_ms[s]);
    if (rc == 0)
        rc = rb_buf_printf(out, " total_ms=%.1f committed_partitions=%zu lag=%" PRId64,
                           p->total_ms, p->partitions_committed, p->lag);
    if (rc == 0 && p->partitions_skipped)
        rc = rb_buf_printf(out, " uncommitted_revoked_partitions=%zu", p->partitions_skipped);
    if (rc == 0 && p->write_retries)
        rc = rb_buf_printf(out, " write_retries=%zu", p->write_retries);
    if (rc == 0 && (p->chunks || p->chunks_written || p->chunks_removed))
        rc = rb_buf_printf(out,
                           " chunks=%zu chunks_reused=%zu chunks_embedded=%zu chunks_written=%zu "
                           "chunks_removed=%zu",
                           p->chunks, p->chunks_reused, p->chunks - p->chunks_reused,
                           p->chunks_written, p->chunks_removed);
    return rc;
}

int rb_progress_format_json(const rb_progress *p, const char *job, rb_buf *out) {
    const rb_batch_counts *c = &p->counts;
    int rc = rb_buf_puts(out, "{\"name\":");
    if (rc == 0) rc = rb_buf_json_string(out, job ? job : "", job ? strlen(job) : 0);
    if (rc == 0)
        rc = rb_buf_printf(out,
                           ",\"batchId\":%" PRIu64 ",\"timestampMs\":%" PRId64
                           ",\"numInputRows\":%zu,\"inputRowsPerSecond\":%.3f"
                           ",\"processedRowsPerSecond\":%.3f"
                           ",\"records\":{\"stored\":%zu,\"deleted\":%zu,\"stale\":%zu,"
                           "\"reused\":%zu,\"skipped\":%zu,\"deadLettered\":%zu,"
                           "\"failed\":%zu},\"embedded\":%zu,\"durationMs\":{",
                           p->batch_id, p->timestamp_ms, c->in, p->input_rate, p->processed_rate,
                           c->stored, c->deleted, c->stale, c->reused, c->skipped,
                           c->dead_lettered, c->failed, p->embedded);
    for (int s = 0; s < RB_PROG_STAGES && rc == 0; s++)
        rc = rb_buf_printf(out, "%s\"%s\":%.3f", s ? "," : "", stage_names[s], p->duration_ms[s]);
    if (rc == 0)
        rc = rb_buf_printf(out,
                           ",\"total\":%.3f},\"sink\":{\"writeRetries\":%zu},"
                           "\"source\":{\"committedPartitions\":%zu,"
                           "\"uncommittedRevokedPartitions\":%zu,\"lag\":%" PRId64 "}",
                           p->total_ms, p->write_retries, p->partitions_committed,
                           p->partitions_skipped, p->lag);
    if (rc == 0 && (p->chunks || p->chunks_written || p->chunks_removed))
        rc = rb_buf_printf(out,
                           ",\"chunks\":{\"count\":%zu,\"reused\":%zu,\"embedded\":%zu,"
                           "\"written\":%zu,\"removed\":%zu}",
                           p->chunks, p->chunks_reused, p->chunks - p->chunks_reused,
                           p->chunks_written, p->chunks_removed);
    if (rc == 0) rc = rb_buf_puts(out, "}");
    return rc;
}
