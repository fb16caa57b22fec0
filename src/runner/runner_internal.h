/*
 * runner_internal.h -- the runner's state and its stage steps, shared by
 * runner.c (the loop and its lifecycle) and stages.c (one batch's steps).
 * Private to the runner module.
 */
#ifndef RB_RUNNER_INTERNAL_H
#define RB_RUNNER_INTERNAL_H

#include "batch/batch.h"
#include "common/log.h"
#include "common/prng.h"
#include "config/config.h"
#include "decode/decode.h"
#include "dlq/dlq.h"
#include "embed/embedder.h"
#include "metrics/metrics.h"
#include "metrics/readiness.h"
#include "registry/registry.h"
#include "runner/alert.h"
#include "runner/ports.h"
#include "runner/progress.h"
#include "runner/runner.h"
#include "runner/shutdown.h"
#include "sink/sink.h"
#include "source/source.h"
#include "transform/chunk.h"
#include "transform/document.h"
#include "validate/schema.h"

/* What the batch's lookup found stored for one id, handed to the sink
 * (rb_sink_item.known) so that its write need not read again. */
typedef struct rb_runner_known {
    const char *id; /* the record's, valid for the batch */
    rb_sink_known known;
    int64_t version;
} rb_runner_known;

typedef struct rb_runner {
    const rb_job_config *cfg;
    const rb_runner_opts *opts;
    rb_log log;
    bool tolerate; /* errors.tolerance = all */

    rb_schema *schema;     /* NULL when schema.file is empty */
    rb_registry *registry; /* NULL without schema.registry.url */
    rb_template *tpl;
    rb_document_spec spec;
    rb_decode_spec decode; /* source.value.format, document.id.* */

    /* The ports (runner/ports.h); the own_* flags say which ones the
     * runner built, and so destroys. */
    rb_embedder *embedder;
    rb_sink_port sink;
    rb_runner_source source;
    rb_runner_dlq dlq; /* ops NULL without a DLQ */
    bool own_embedder, own_sink, own_source, own_dlq;
    bool owns_mongoc_log; /* libmongoc's lines go to `log` until runner_close */
    rb_runner_progress_fn on_progress;
    void *progress_ctx;
    rb_batch *batch;

    rb_metrics *metrics; /* always kept; served when metrics.port > 0 */
    rb_readiness *ready;
    rb_metrics_server *metrics_server;
    rb_alert alert; /* errors.alert.threshold over errors.alert.window.ms */

    /* Scratch reused from batch to batch. */
    float *vectors; /* rows of embedder dim floats */
    size_t vectors_rows;
    const char **texts;
    size_t texts_cap;
    rb_sink_item *items;
    size_t items_cap;
    rb_sink_meta *meta;
    size_t meta_cap;
    rb_runner_known *known; /* what the lookup found, by id (sorted) */
    size_t n_known, known_cap;

    rb_prng rng; /* for retry backoff jitter */

    /* Long texts (runner/chunking.c); chunks.ops is NULL without
     * text.chunk.enable. */
    rb_chunk_opts chunk_opts;
    rb_sink_port chunks; /* the chunk collection; ops NULL: no chunking */
    bool own_chunks;     /* built here (MongoDB), destroyed with the runner */
    char *chunk_collection;
    /* Test hook (RB_CHUNK_KILL_ENV in chunking.c): SIGKILL this process
     * once this many chunk documents were written; 0: never. */
    uint64_t chunk_kill_after;
    uint64_t chunk_docs_written; /* by this process, for the hook */
    /* The batch in hand's chunk documents stored and removed, summed over
     * the write's attempts (rb_runner_chunks_write; reset per batch). */
    size_t chunks_written, chunks_removed;

    rb_shutdown *shutdown; /* the stop watchdog; NULL without opts->stop */
    bool abandoned;        /* the loop gave batch `abandoned_batch` up (shutdown.timeout.ms) */
    uint64_t abandoned_batch;
    uint64_t uncommitted;     /* batches whose commit was given up after its attempts */
    int64_t lag_refreshed_ms; /* when the lag gauges were last set (rb_runner_refresh_lag) */
} rb_runner;

/* Sets the ragbatch_consumer_lag gauges from the broker's end offsets and
 * the group's committed offsets, at most once per trigger interval (at
 * least a second) unless `now` is true: the loop calls it every cycle,
 * busy, idle or waiting out a failed write, so the gauge follows what
 * arrives during an outage instead of keeping its last value. */
void rb_runner_refresh_lag(rb_runner *r, bool now);

/* Observes, for the records the batch wrote (stored, reused, deleted),
 * the time from their Kafka timestamp and from their event time to now,
 * just after the commit, in ragbatch_freshness_seconds. */
void rb_runner_observe_freshness(rb_runner *r);

/* True once the batch in hand must be given up uncommitted: the stop has
 * lasted past its budget (see runner/shutdown.h). */
static inline bool rb_runner_abandoning(const rb_runner *r) {
    return rb_shutdown_abandoning(r->shutdown);
}

/* Parses, validates and derives the document of every record (OpenMP).
 * Failures settle records as SKIPPED or FAILED.  Once a stop is requested
 * the records not yet begun are left undecoded; returns how many, and the
 * batch must then be abandoned without a commit. */
size_t rb_runner_decode(rb_runner *r, rb_batch *b);

/* Within the batch, settles as STALE every record superseded by a newer
 * version of the same document (or by a later Kafka tombstone). */
void rb_runner_supersede(rb_batch *b);

/* Gives every pending upsert its row of the vector matrix, then reads, in
 * one query, what is stored for the ids of the pending upserts and soft
 * deletes, when the batch needs it: to reuse the stored vector of a text
 * and model that did not change (embed.reuse.unchanged: such a record
 * becomes UNCHANGED, its row holding the stored vector), and to hand the
 * stored versions to the sink when its mode decides on them
 * (rb_sink_needs_versions; read for that alone only if rb_sink_read_pays).
 * A failed read only costs the saving: the texts are embedded and the sink
 * reads for itself. */
void rb_runner_lookup(rb_runner *r, rb_batch *b);

/* Embeds the texts of pending upserts that rb_runner_lookup did not find
 * unchanged.  Returns the number embedded, or -1 (err set) when the
 * embedder failed and errors are not tolerated, or when it was cancelled
 * because the batch is abandoned (records untouched). */
long rb_runner_embed(rb_runner *r, rb_batch *b, rb_error *err);

/* Writes every pending record, retrying transient failures with backoff
 * until they succeed, sink.retry.timeout.ms passes, or the batch is
 * abandoned (rb_runner_abandoning).  Settles every written record.
 * *retries counts the retries. */
int rb_runner_write(rb_runner *r, rb_batch *b, size_t *retries, rb_error *err);

/* Produces the batch's skipped records to the DLQ topic and waits for the
 * acknowledgements, retrying a failed delivery like a failed write.  A
 * no-op without a DLQ. */
int rb_runner_dead_letter(rb_runner *r, rb_batch *b, size_t *sent, rb_error *err);

/* If a record FAILED (errors not tolerated), fills err naming its topic,
 * partition, offset, stage and reason, and returns -1. */
int rb_runner_check_failed(const rb_batch *b, rb_error *err);

/* ---- long texts (runner/chunking.c) ----
 * Opens the chunk collection (a sink like `so` on text.chunk.collection)
 * and the chunker's options; a no-op without text.chunk.enable. */
int rb_runner_chunking_open(rb_runner *r, const rb_sink_opts *so, rb_sink_port chunks,
                            rb_error *err);
void rb_runner_chunking_close(rb_runner *r);

/* Decode, after the document is derived: a pending upsert whose text is
 * longer than a chunk gets rec->chunks (and its text rendered with its
 * paragraph breaks); too many chunks fails it at stage transform.  Safe on
 * worker threads (one record each). */
void rb_runner_chunk_record(const rb_runner *r, rb_record *rec);

/* Embeds the chunks of pending upserts, taking the stored vector of each
 * chunk whose text hash and model are unchanged (embed.reuse.unchanged).
 * Returns the chunks embedded (*n_chunks all of them, *n_reused those
 * reused), or -1 as rb_runner_embed does. */
long rb_runner_chunks_embed(rb_runner *r, rb_batch *b, size_t *n_chunks, size_t *n_reused,
                            rb_error *err);

/* The parent document of a chunked record: chunk_count, no vector. */
void rb_runner_chunk_parent_item(const rb_record *rec, rb_sink_item *it);

/* After the sink wrote `items` (map[i] is the record of items[i]): writes
 * the chunk sets of the parents stored (or stale at their own version:
 * completing a set a crash or failure left short), then removes the chunks
 * of older versions of every id written, and every chunk of ids hard
 * deleted.  -1 (err, retriable when the server is) when a write fails as a
 * whole: the caller retries everything, and replays are stale. */
int rb_runner_chunks_write(rb_runner *r, rb_sink_item *items, rb_record *const *map, size_t n,
                           rb_error *err);

/* Logs one line per record that failed (errors.log.enable), once per record. */
void rb_runner_log_failures(const rb_runner *r, rb_batch *b);

#endif
