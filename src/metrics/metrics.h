/*
 * metrics.h -- counters, gauges and histograms, rendered as Prometheus text.
 *
 * An rb_metrics is a registry the runner owns (no global state): families
 * are declared once (name, type, help, label names, histogram buckets), then
 * updated by name with one label value per declared label name.  A series
 * (one combination of label values) is created on its first update and
 * lives as long as the registry.  Every call takes the registry's mutex, so
 * any thread may update while the HTTP server thread (http.c) renders;
 * updates happen per batch, not per record, so one lock is cheap enough.
 *
 * Rendering follows the text exposition format 0.0.4: a HELP and a TYPE
 * line per family, label values escaped (\\, \", \n), histograms as
 * cumulative _bucket{le=...} series ending in le="+Inf", then _sum and
 * _count.  Families render in declaration order, series in creation order.
 *
 * Failure: updates and declarations return -1 with `err` filled (code arg
 * for an unknown family, a label count that does not match, a type mismatch
 * or a bad name; nomem when out of memory); a failed update changes nothing.
 * Callers may treat metric failures as non-fatal.  Strings passed in are
 * copied; nothing returned points into the registry.
 *
 * The families ragbatch feeds (all carry the `job` label):
 *   ragbatch_records_total{job,outcome}            counter: records by outcome,
 *       outcome = stored|deleted|stale|skipped|failed (the runner may add
 *       further outcomes such as dead_lettered; values are free text)
 *   ragbatch_batches_total{job}                    counter: micro-batches committed
 *   ragbatch_stage_duration_seconds{job,stage}     histogram: time per stage per
 *       batch, stage = poll|decode|lookup|embed|write|dlq|commit (the
 *       runner's progress stages; lookup is the one read of what is stored
 *       for the batch's ids, for reuse and the sink's versions)
 *   ragbatch_batch_duration_seconds{job}           histogram: whole batch
 *   ragbatch_consumer_lag{job,topic,partition}     gauge: high watermark minus
 *       the committed offset, both asked of the broker once per trigger
 *       (busy, idle or retrying)
 *   ragbatch_embedded_texts_total{job}             counter: texts embedded
 *   ragbatch_chunks_total{job,outcome}             counter: chunks of long texts,
 *       outcome = embedded|reused (in the embed step), written|removed
 *       (documents of the chunk collection stored, and removed as older
 *       versions' or deleted ids')
 *   ragbatch_embed_texts_per_second{job}           gauge: throughput of the last batch
 *   ragbatch_last_batch_timestamp_seconds{job}     gauge: wall time (Unix seconds)
 *       at which the last batch was committed
 *   ragbatch_freshness_seconds{job,since}          histogram: per written record,
 *       the age at commit since its Kafka timestamp (since="produced") and
 *       since its event time (since="event")
 *   ragbatch_embedder_info{job,model,kernel,precision}  gauge, always 1: the
 *       embedder's model name (with its precision marker), matrix kernel and
 *       precision ("-" for HTTP providers), set once at start
 * rb_metrics_declare_ragbatch() declares them all.
 */
#ifndef RB_METRICS_H
#define RB_METRICS_H

#include "common/buf.h"
#include "common/error.h"

#include <stddef.h>

#define RB_METRIC_RECORDS "ragbatch_records_total"
#define RB_METRIC_BATCHES "ragbatch_batches_total"
#define RB_METRIC_STAGE_DURATION "ragbatch_stage_duration_seconds"
#define RB_METRIC_BATCH_DURATION "ragbatch_batch_duration_seconds"
#define RB_METRIC_CONSUMER_LAG "ragbatch_consumer_lag"
#define RB_METRIC_EMBEDDED_TEXTS "ragbatch_embedded_texts_total"
#define RB_METRIC_CHUNKS "ragbatch_chunks_total"
#define RB_METRIC_EMBED_RATE "ragbatch_embed_texts_per_second"
#define RB_METRIC_LAST_BATCH "ragbatch_last_batch_timestamp_seconds"
#define RB_METRIC_FRESHNESS "ragbatch_freshness_seconds"
#define RB_METRIC_EMBEDDER_INFO "ragbatch_embedder_info"

/* At most this many labels per family, and buckets per histogram. */
#define RB_METRICS_MAX_LABELS 4
#define RB_METRICS_MAX_BUCKETS 32

typedef enum rb_metric_type {
    RB_METRIC_COUNTER,
    RB_METRIC_GAUGE,
    RB_METRIC_HISTOGRAM
} rb_metric_type;

typedef struct rb_metrics rb_metrics;

rb_metrics *rb_metrics_new(rb_error *err);
void rb_metrics_destroy(rb_metrics *m);

/* Declares a family.  `labels` holds `nlabels` label names (none may be
 * "le"); `buckets` (histograms only) holds `nbuckets` strictly increasing
 * finite upper bounds, +Inf being implied.  Declaring a name twice is an
 * error. */
int rb_metrics_declare(rb_metrics *m, const char *name, rb_metric_type type, const char *help,
                       const char *const *labels, size_t nlabels, const double *buckets,
                       size_t nbuckets, rb_error *err);

/* Declares the ragbatch_* families listed above. */
int rb_metrics_declare_ragbatch(rb_metrics *m, rb_error *err);

/* Updates.  `values` holds one label value per declared label name, in
 * declaration order (NULL when the family has no labels). */
int rb_metrics_counter_add(rb_metrics *m, const char *name, const char *const *values,
                           double delta, rb_error *err); /* delta >= 0 */
int rb_metrics_gauge_set(rb_metrics *m, const char *name, const char *const *values, double value,
                         rb_error *err);
int rb_metrics_observe(rb_metrics *m, const char *name, const char *const *values, double value,
                       rb_error *err); /* histograms */

/* Reads one series back (counters and gauges: the value; histograms: the
 * sum).  Returns -1 if the family or series does not exist. */
int rb_metrics_get(rb_metrics *m, const char *name, const char *const *values, double *out,
                   rb_error *err);

/* Appends the whole registry in text format 0.0.4 to `out`. */
int rb_metrics_render(rb_metrics *m, rb_buf *out, rb_error *err);

/* The Content-Type of the rendering. */
#define RB_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * The HTTP endpoint, on a thread of its own (http.c).
 *
 * Serves GET /metrics (the registry), /healthz (200 "ok" while the process
 * runs), /readyz (200 "ready" when the readiness callback says so, else 503
 * with the callback's reason) and 404 for anything else; 405 for methods
 * other than GET and HEAD; 400 for a malformed request and 431 for one
 * larger than RB_METRICS_MAX_REQUEST bytes.  One client is served at a time
 * and every connection is closed after one response; a client gets
 * RB_METRICS_CLIENT_TIMEOUT_MS in all to send its request and take the
 * response, so a slow client delays a scrape but never the job (updates
 * only wait for a render in progress).
 *
 * The readiness callback runs on the server thread: it must be thread-safe
 * and quick.  readiness.h provides one (rb_readiness_check).  It returns nonzero when ready; when not, it writes a short
 * reason into `reason` (NUL-terminated, at most `size` bytes).  A NULL
 * callback means always ready.
 *
 * `port` 0 binds an ephemeral port (tests; read it with
 * rb_metrics_server_port): the job key metrics.port = 0 disables the
 * endpoint and the runner then does not start a server at all.  The server
 * borrows `m`, which must outlive rb_metrics_server_stop().
 */
#define RB_METRICS_MAX_REQUEST 8192
#define RB_METRICS_CLIENT_TIMEOUT_MS 2000

typedef int (*rb_metrics_ready_fn)(void *ctx, char *reason, size_t size);
typedef struct rb_metrics_server rb_metrics_server;

/* Binds `address` (IPv4 or IPv6 literal, or a host name; NULL or "" means
 * 0.0.0.0) and `port`, and starts the thread.  Errors (address in use, bad
 * address) name the address and port. */
rb_metrics_server *rb_metrics_server_start(rb_metrics *m, const char *address, int port,
                                           rb_metrics_ready_fn ready, void *ctx, rb_error *err);

/* The bound port. */
int rb_metrics_server_port(const rb_metrics_server *s);

/* Stops the thread (within about 100 ms, or the client timeout if a client
 * is being served), closes the socket and frees everything.  Accepts NULL. */
void rb_metrics_server_stop(rb_metrics_server *s);

#endif
