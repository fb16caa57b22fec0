/*
 * runner.c -- the loop and its lifecycle: build the stages from the job,
 * run micro-batches until stopped (or caught up), tear down in reverse.
 */
#include "runner/runner_internal.h"

#include "common/rfc3339.h"
#include "runner/decode_opts.h"
#include "runner/embed_opts.h"
#include "runner/trigger.h"

#include "common/backoff.h"
#include "common/buf.h"
#include "common/clock.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* With a zero trigger interval, batches still gather for this long, so an
 * idle stream does not spin. */
#define RUNNER_MIN_WINDOW_MS 50
/* Attempts at committing one batch's offsets before moving on, and the
 * first wait between them (doubling, jittered: common/backoff.h). */
#define RUNNER_COMMIT_ATTEMPTS 3
#define RUNNER_COMMIT_BACKOFF_MS 200
#define RUNNER_COMMIT_BACKOFF_MAX_MS 1000
/* How often a bounded run that waits for the rest of the group says so
 * (after a crash the group waits for the dead member's session to time
 * out before it moves the partitions). */
#define RUNNER_WAITING_LOG_MS 15000
/* How often a bounded run asks the group coordinator how far the group's
 * committed offsets are (and at once after a batch that left this member
 * with nothing more to fetch). */
#define RUNNER_GROUP_CHECK_MS 1000
/* How often an idle runner checks that MongoDB answers, for /readyz. */
#define RUNNER_PING_MS 5000
/* process_batch: the batch was given up for the shutdown (not an error). */
#define RUNNER_ABANDONED 1

static int runner_open(rb_runner *r, const rb_job_config *cfg, const rb_runner_opts *opts,
                       const rb_runner_ports *ports, rb_error *err) {
    static const rb_runner_ports from_job;
    if (!ports) ports = &from_job;
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->opts = opts;
    r->tolerate = cfg->errors_tolerance == RB_TOLERANCE_ALL;
    rb_prng_seed(&r->rng, (uint64_t)rb_wall_ms() ^ (uint64_t)(uintptr_t)r);
    rb_log_init(&r->log);
    if (ports->log) r->log.out = ports->log;
    r->on_progress = ports->on_progress;
    r->progress_ctx = ports->progress_ctx;
    r->log.job = cfg->job_name;
    r->log.format = cfg->log_format;
    r->log.min = cfg->log_level;
    /* Only a runner of its own making owns the process's libmongoc log. */
    if (!ports->sink.ops) {
        rb_sink_global_log(&r->log);
        r->owns_mongoc_log = true;
    }
    /* First, so that a stop during the start-up is bounded too. */
    if (opts->stop &&
        !(r->shutdown = rb_shutdown_start(opts->stop, cfg->shutdown_timeout_ms, &r->log, err)))
        return -1;

    if (cfg->schema_file[0] && rb_schema_load(cfg->schema_file, &r->schema, err) != 0)
        return rb_error_prefix(err, "schema.file");
    if (cfg->schema_registry_url[0]) {
        rb_registry_options ro = {cfg->schema_registry_url, cfg->schema_registry_user_info,
                                  (long)cfg->schema_registry_timeout_ms};
        if (rb_registry_new(&ro, &r->registry, err) != 0)
            return rb_error_prefix(err, "schema.registry.url");
    }
    if (rb_template_compile(cfg->text_template, &r->tpl, err) != 0)
        return rb_error_prefix(err, "%s: text.template", cfg->source_file);
    r->spec = (rb_document_spec){
        .tpl = r->tpl,
        .id_field = cfg->id_field,
        .version_field = cfg->version_field,
        .time_field = cfg->time_field,
        .op_field = cfg->op_field,
        .delete_values = (const char *const *)cfg->delete_values.items,
        .delete_value_count = cfg->delete_values.count,
    };

    rb_decode_opts dopts;
    rb_runner_decode_opts(cfg, &dopts);
    if (rb_decode_spec_init(&r->decode, &dopts, err) != 0)
        return rb_error_prefix(err, "%s", cfg->source_file);

    r->embedder = ports->embedder;
    if (!r->embedder) {
        rb_embed_opts eo;
        rb_runner_embed_opts(cfg, &eo);
        if (!(r->embedder = rb_embedder_new(&eo, err))) return -1;
        r->own_embedder = true;
    }
    /* The job's document prefix (e5's "passage: "), on an embedder given by
     * the caller too: what the job embeds is the job's to say. */
    if (rb_runner_embed_prefix(r->embedder, cfg->embed_prefix_document, err) != 0) return -1;
    if (r->shutdown) rb_embedder_set_cancel(r->embedder, rb_shutdown_abandon_flag(r->shutdown));

    char app[256];
    snprintf(app, sizeof app, "ragbatch/%s", cfg->job_name);
    rb_sink_opts so = {
        .uri = cfg->mongo_uri,
        .database = cfg->mongo_database,
        .collection = cfg->mongo_collection,
        .write_concern = cfg->mongo_write_concern,
        .timeout_ms = (int)cfg->mongo_timeout_ms,
        .socket_timeout_ms = (int)cfg->mongo_socket_timeout_ms,
        .tombstone_retention_ms = cfg->tombstone_retention_ms > 0 ? cfg->tombstone_retention_ms
                                                                  : RB_SINK_KEEP_TOMBSTONES,
        .app_name = app,
        .vector_format = cfg->mongo_vector_format == RB_VECTOR_FLOAT32 ? RB_SINK_VECTOR_FLOAT32
                                                                       : RB_SINK_VECTOR_ARRAY,
    };
    rb_alert_init(&r->alert, cfg->errors_alert_threshold, cfg->errors_alert_window_ms);
    if (!(r->metrics = rb_metrics_new(err)) || rb_metrics_declare_ragbatch(r->metrics, err) != 0)
        return -1;
    const char *kernel, *precision;
    rb_embedder_engine(r->embedder, &kernel, &precision);
    const char *engine[] = {cfg->job_name, rb_embedder_model_name(r->embedder), kernel, precision};
    if (rb_metrics_gauge_set(r->metrics, RB_METRIC_EMBEDDER_INFO, engine, 1, err) != 0) return -1;
    /* Not ready when no loop cycle completed for a while: ten triggers, at
     * least a minute (a batch of a large backlog takes time). */
    int64_t idle = cfg->trigger_interval_ms * 10 > 60000 ? cfg->trigger_interval_ms * 10 : 60000;
    if (!(r->ready = rb_readiness_new(idle, err))) return -1;
    rb_readiness_set(r->ready, "kafka", 0, "not connected yet");
    rb_readiness_set(r->ready, "mongodb", 0, "not connected yet");
    if (cfg->metrics_port > 0) {
        r->metrics_server = rb_metrics_server_start(r->metrics, cfg->metrics_address,
                                                    (int)cfg->metrics_port, rb_readiness_check,
                                                    r->ready, err);
        if (!r->metrics_server) return rb_error_prefix(err, "metrics.port");
    }
    r->sink = ports->sink;
    if (!r->sink.ops) {
        rb_sink *mongo = rb_sink_new(&so, err);
        if (!mongo) return -1;
        r->sink = rb_sink_port_mongo(mongo);
        r->own_sink = true;
    }
    /* Chunk sets go to the caller's chunk port, or to a MongoDB sink the
     * runner builds beside its own; a caller's sink without a chunk port
     * is refused while text.chunk.enable is on. */
    if (rb_runner_chunking_open(r, &so, ports->chunks, err) != 0) return -1;
    rb_readiness_set(r->ready, "mongodb", 1, NULL);
    rb_log_kv(&r->log, RB_LOG_INFO, "sink",
              RB_LOG_FIELDS(RB_LOG_LOGFMT(rb_sink_port_describe(r->sink))), NULL);

    rb_source_opts src = {
        .job_name = cfg->job_name,
        .topics = &cfg->topics,
        .kafka = cfg->kafka,
        .kafka_count = cfg->kafka_count,
        .log = &r->log,
        .backfill = opts->backfill,
        .bounded = opts->until_caught_up || opts->backfill,
    };
    /* The DLQ comes before the consumer: a DLQ topic that cannot be used
     * is a configuration error, and destroying a consumer that is still
     * joining its group can kill the process inside librdkafka (an
     * assertion in the sticky assignor, or a crash). */
    r->dlq = ports->dlq;
    if (!r->dlq.ops && cfg->dlq_topic[0]) {
        rb_dlq_opts dq = {
            .topic = cfg->dlq_topic,
            .kafka = cfg->kafka,
            .kafka_count = cfg->kafka_count,
            .context_headers = cfg->dlq_context_headers,
            .replication_factor = (int)cfg->dlq_replication_factor,
            .job_name = cfg->job_name,
            .log = &r->log,
        };
        rb_dlq *kafka_dlq = rb_dlq_new(&dq, err);
        if (!kafka_dlq) return -1;
        r->dlq = rb_runner_dlq_kafka(kafka_dlq);
        r->own_dlq = true;
    }
    r->source = ports->source;
    if (!r->source.ops) {
        rb_source *kafka = rb_source_new(&src, err);
        if (!kafka) return -1;
        r->source = rb_runner_source_kafka(kafka);
        r->own_source = true;
    }
    rb_readiness_set(r->ready, "kafka", 1, NULL);
    if (!(r->batch = rb_batch_new())) return rb_error_nomem(err, RB_STAGE_SOURCE, "batch");
    rb_log_kv(&r->log, RB_LOG_INFO, "start",
              RB_LOG_FIELDS(RB_LOG_U("topics", cfg->topics.count),
                            RB_LOG_S("model", rb_embedder_model_name(r->embedder)),
                            RB_LOG_U("dim", rb_embedder_dim(r->embedder)),
                            RB_LOG_S("kernel", kernel), RB_LOG_S("precision", precision),
                            RB_LOG_S("database", cfg->mongo_database),
                            RB_LOG_S("collection", cfg->mongo_collection),
                            RB_LOG_S("tolerance", r->tolerate ? "all" : "none"),
                            RB_LOG_I("trigger_ms", cfg->trigger_interval_ms),
                            RB_LOG_B("until_caught_up", opts->until_caught_up)),
              NULL);
    return 0;
}

/* Reverse order of creation: leaving the group first lets the partitions
 * move on while the rest shuts down. */
static void runner_close(rb_runner *r) {
    rb_shutdown_phase_set(r->shutdown, RB_SHUTDOWN_TEARDOWN, r->abandoned_batch);
    rb_metrics_server_stop(r->metrics_server);
    if (r->own_source) rb_runner_source_destroy(r->source);
    if (r->own_dlq) rb_runner_dlq_destroy(r->dlq);
    rb_batch_destroy(r->batch);
    rb_runner_chunking_close(r);
    if (r->own_sink) rb_sink_port_destroy(r->sink);
    if (r->own_embedder)
        rb_embedder_destroy(r->embedder);
    else if (r->embedder && r->shutdown)
        rb_embedder_set_cancel(r->embedder, NULL); /* the flag goes with the watchdog */
    rb_decode_spec_free(&r->decode);
    rb_template_destroy(r->tpl);
    rb_schema_destroy(r->schema);
    rb_registry_destroy(r->registry);
    free(r->vectors);
    free(r->texts);
    free(r->items);
    free(r->meta);
    free(r->known);
    rb_readiness_destroy(r->ready);
    rb_metrics_destroy(r->metrics);
    rb_alert_free(&r->alert);
    if (r->owns_mongoc_log) rb_sink_global_log(NULL);
    /* Last: leaving the group and closing connections are bounded too. */
    rb_shutdown_stop(r->shutdown);
}

static void report_progress(rb_runner *r, const rb_progress *p) {
    rb_buf line;
    rb_buf_init(&line);
    if (r->log.format == RB_LOG_JSON) {
        /* The log line's own fields, then StreamingQueryProgress's. */
        char when[RB_RFC3339_SIZE];
        rb_rfc3339_format(p->timestamp_ms, when);
        rb_buf_printf(&line, "{\"@timestamp\":\"%s\",\"log.level\":\"INFO\",\"job\":", when);
        rb_buf_json_string(&line, r->cfg->job_name, strlen(r->cfg->job_name));
        rb_buf_printf(&line,
                      ",\"event.action\":\"progress\",\"message\":\"batch %" PRIu64
                      " committed\",",
                      p->batch_id);
        size_t head = line.len;
        if (rb_progress_format_json(p, r->cfg->job_name, &line) == 0 && line.len > head &&
            line.data[head] == '{') {
            /* The progress object's own '{' goes: one object per line. */
            memmove(line.data + head, line.data + head + 1, line.len - head);
            line.len--;
            rb_buf_putc(&line, '\n');
            fputs(line.data, r->log.out ? r->log.out : stderr);
        }
    } else if (rb_progress_format_text(p, &line) == 0) {
        rb_log_kv(&r->log, RB_LOG_INFO, "progress", RB_LOG_FIELDS(RB_LOG_LOGFMT(line.data)), NULL);
    }
    rb_buf_free(&line);
}

static int commit_batch(rb_runner *r, rb_progress *p, rb_error *err) {
    for (int attempt = 1;; attempt++) {
        if (rb_runner_source_commit(r->source, r->batch, &p->partitions_committed,
                                    &p->partitions_skipped, err) == 0)
            return 0;
        if (!err->retriable) return -1;
        if (attempt == RUNNER_COMMIT_ATTEMPTS) {
            /* The documents are stored; an uncommitted range is read again
             * later and comes back stale.  Safe, so the stream goes on. */
            rb_log_kv(&r->log, RB_LOG_WARN, "commit",
                      RB_LOG_FIELDS(RB_LOG_U("batch", rb_batch_id(r->batch)),
                                    RB_LOG_I("attempts", attempt),
                                    RB_LOG_S("error.message", err->msg)),
                      "not committed");
            r->uncommitted++;
            return 0;
        }
        rb_sleep_ms(rb_backoff_wait_ms(RUNNER_COMMIT_BACKOFF_MS, RUNNER_COMMIT_BACKOFF_MAX_MS,
                                       attempt, &r->rng));
    }
}

/* Where the batch in hand is, for log.level = debug. */
static void stage_log(rb_runner *r, const char *stage) {
    rb_log_kv(&r->log, RB_LOG_DEBUG, "stage",
              RB_LOG_FIELDS(RB_LOG_U("batch", rb_batch_id(r->batch)), RB_LOG_S("stage", stage),
                            RB_LOG_U("records", rb_batch_count(r->batch))),
              NULL);
}

/* Processes the batch in hand: every step, the commit, the progress.
 * Returns 0, -1 (err set), or RUNNER_ABANDONED when the batch is given up
 * uncommitted: a stop request arrived while it was being decoded (nothing
 * of it was written yet), or the shutdown budget ran out before the commit
 * (see runner/shutdown.h).  The abandon is looked at after each step that
 * can take long. */
static int process_batch(rb_runner *r, rb_progress *p, rb_error *err) {
    rb_batch *b = r->batch;
    double t = rb_now_sec();

    stage_log(r, "decode");
    size_t undecoded = rb_runner_decode(r, b);
    if (undecoded > 0) {
        rb_log_kv(&r->log, RB_LOG_WARN, "abandoned",
                  RB_LOG_FIELDS(RB_LOG_U("batch", rb_batch_id(b)),
                                RB_LOG_U("undecoded", undecoded)),
                  "stop requested while decoding; nothing of this batch was written or "
                  "committed, so its records are read again");
        return RUNNER_ABANDONED;
    }
    rb_runner_supersede(b);
    if (rb_runner_abandoning(r)) return RUNNER_ABANDONED;
    double t_decode = rb_now_sec();
    p->duration_ms[RB_PROG_DECODE] = (t_decode - t) * 1e3;
    rb_runner_log_failures(r, b);
    if (rb_runner_check_failed(b, err) != 0) return -1;

    stage_log(r, "lookup");
    rb_runner_lookup(r, b);
    double t_lookup = rb_now_sec();
    p->duration_ms[RB_PROG_LOOKUP] = (t_lookup - t_decode) * 1e3;

    stage_log(r, "embed");
    long embedded = rb_runner_embed(r, b, err);
    if (rb_runner_abandoning(r)) return RUNNER_ABANDONED;
    double t_embed = rb_now_sec();
    p->duration_ms[RB_PROG_EMBED] = (t_embed - t_lookup) * 1e3;
    if (embedded < 0) return -1;
    p->embedded = (size_t)embedded;
    long chunk_embedded = rb_runner_chunks_embed(r, b, &p->chunks, &p->chunks_reused, err);
    if (rb_runner_abandoning(r)) return RUNNER_ABANDONED;
    if (chunk_embedded < 0) return -1;
    p->embedded += (size_t)chunk_embedded;
    t_embed = rb_now_sec();
    p->duration_ms[RB_PROG_EMBED] = (t_embed - t_lookup) * 1e3;

    stage_log(r, "write");
    r->chunks_written = r->chunks_removed = 0;
    if (rb_runner_write(r, b, &p->write_retries, err) != 0)
        return rb_runner_abandoning(r) ? RUNNER_ABANDONED : -1;
    p->chunks_written = r->chunks_written;
    p->chunks_removed = r->chunks_removed;
    double t_write = rb_now_sec();
    p->duration_ms[RB_PROG_WRITE] = (t_write - t_embed) * 1e3;
    rb_runner_log_failures(r, b);
    if (rb_runner_check_failed(b, err) != 0) return -1;

    /* Dead letters are acknowledged before the commit: nothing is lost
     * between the DLQ and the source offsets. */
    size_t dead = 0;
    if (r->dlq.ops) stage_log(r, "dlq");
    if (rb_runner_dead_letter(r, b, &dead, err) != 0)
        return rb_runner_abandoning(r) ? RUNNER_ABANDONED : -1;
    double t_dlq = rb_now_sec();
    p->duration_ms[RB_PROG_DLQ] = (t_dlq - t_write) * 1e3;

    /* The commit rule (batch/record.h); the steps above already ensure it. */
    const rb_record *blocker = rb_batch_commit_blocker(b, r->dlq.ops != NULL);
    if (blocker)
        return rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_COMMIT,
                            "batch %" PRIu64 ": record %s [%d] offset %" PRId64
                            " is %s; not committing",
                            rb_batch_id(b), blocker->topic, blocker->partition, blocker->offset,
                            rb_record_state_name(blocker->state));
    if (commit_batch(r, p, err) != 0) return -1;
    double t_commit = rb_now_sec();
    p->duration_ms[RB_PROG_COMMIT] = (t_commit - t_dlq) * 1e3;
    p->counts = rb_batch_count_states(b);
    p->lag = rb_runner_source_lag(r->source);
    double busy = t_commit - t;
    p->processed_rate = busy > 0 ? (double)p->counts.in / busy : 0;
    return 0;
}

static void set_lag(const char *topic, int32_t partition, int64_t lag, void *arg) {
    rb_runner *r = arg;
    if (lag < 0) return;
    char part[16];
    snprintf(part, sizeof part, "%d", partition);
    const char *labels[] = {r->cfg->job_name, topic, part};
    rb_metrics_gauge_set(r->metrics, RB_METRIC_CONSUMER_LAG, labels, (double)lag, NULL);
}

/* Feeds one batch's progress into the metrics registry.  A metrics error
 * is a bug in the names here, never a reason to stop the job. */
static void record_metrics(rb_runner *r, const rb_progress *p) {
    const char *job = r->cfg->job_name;
    const rb_batch_counts *c = &p->counts;
    const struct {
        const char *outcome;
        size_t n;
    } outcomes[] = {
        {"stored", c->stored}, {"deleted", c->deleted}, {"stale", c->stale},
        {"reused", c->reused}, {"skipped", c->skipped}, {"dead_lettered", c->dead_lettered},
        {"failed", c->failed},
    };
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++) {
        const char *labels[] = {job, outcomes[i].outcome};
        rb_metrics_counter_add(r->metrics, RB_METRIC_RECORDS, labels, (double)outcomes[i].n, NULL);
    }
    const char *jl[] = {job};
    rb_metrics_counter_add(r->metrics, RB_METRIC_BATCHES, jl, 1, NULL);
    for (int s = 0; s < RB_PROG_STAGES; s++) {
        const char *labels[] = {job, rb_progress_stage_name((rb_progress_stage)s)};
        rb_metrics_observe(r->metrics, RB_METRIC_STAGE_DURATION, labels, p->duration_ms[s] / 1e3,
                           NULL);
    }
    rb_metrics_observe(r->metrics, RB_METRIC_BATCH_DURATION, jl, p->total_ms / 1e3, NULL);
    rb_metrics_counter_add(r->metrics, RB_METRIC_EMBEDDED_TEXTS, jl, (double)p->embedded, NULL);
    if (r->chunks.ops) {
        const struct {
            const char *outcome;
            size_t n;
        } chunks[] = {{"embedded", p->chunks - p->chunks_reused},
                      {"reused", p->chunks_reused},
                      {"written", p->chunks_written},
                      {"removed", p->chunks_removed}};
        for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
            const char *labels[] = {job, chunks[i].outcome};
            rb_metrics_counter_add(r->metrics, RB_METRIC_CHUNKS, labels, (double)chunks[i].n,
                                   NULL);
        }
    }
    if (p->embedded && p->duration_ms[RB_PROG_EMBED] > 0)
        rb_metrics_gauge_set(r->metrics, RB_METRIC_EMBED_RATE, jl,
                             (double)p->embedded / (p->duration_ms[RB_PROG_EMBED] / 1e3), NULL);
    rb_metrics_gauge_set(r->metrics, RB_METRIC_LAST_BATCH, jl, (double)p->timestamp_ms / 1e3,
                         NULL);
    rb_runner_observe_freshness(r);
    rb_runner_refresh_lag(r, true);
}

void rb_runner_refresh_lag(rb_runner *r, bool now) {
    int64_t t = rb_now_ms();
    int64_t every = r->cfg->trigger_interval_ms > 1000 ? r->cfg->trigger_interval_ms : 1000;
    if (!now && t - r->lag_refreshed_ms < every) return;
    r->lag_refreshed_ms = t;
    rb_runner_source_lag_each(r->source, set_lag, r);
}

void rb_runner_observe_freshness(rb_runner *r) {
    const char *produced[] = {r->cfg->job_name, "produced"};
    const char *event[] = {r->cfg->job_name, "event"};
    int64_t now = rb_wall_ms();
    for (size_t i = 0; i < rb_batch_count(r->batch); i++) {
        const rb_record *rec = rb_batch_record(r->batch, i);
        if (rec->state != RB_REC_STORED && rec->state != RB_REC_REUSED &&
            rec->state != RB_REC_DELETED)
            continue;
        /* A clock that is behind the producer's gives a negative age: 0. */
        if (rec->timestamp_ms >= 0)
            rb_metrics_observe(r->metrics, RB_METRIC_FRESHNESS, produced,
                               now > rec->timestamp_ms ? (double)(now - rec->timestamp_ms) / 1e3
                                                       : 0,
                               NULL);
        if (rec->event_time_ms >= 0)
            rb_metrics_observe(r->metrics, RB_METRIC_FRESHNESS, event,
                               now > rec->event_time_ms ? (double)(now - rec->event_time_ms) / 1e3
                                                        : 0,
                               NULL);
    }
}

/* The fixed, greppable form log-based alerts match: level=ALERT
 * event=error_rate. */
static void check_alert(rb_runner *r, const rb_progress *p) {
    const rb_batch_counts *c = &p->counts;
    size_t in = 0, failed = 0;
    rb_alert_change change = rb_alert_observe(&r->alert, rb_now_ms(), c->in,
                                              c->skipped + c->dead_lettered + c->failed, &in,
                                              &failed);
    double share = in ? 100.0 * (double)failed / (double)in : 0;
    double secs = (double)r->cfg->errors_alert_window_ms / 1e3;
    if (change == RB_ALERT_STARTED)
        rb_log_kv(&r->log, RB_LOG_ALERT, "error_rate",
                  RB_LOG_FIELDS(RB_LOG_U("failed", failed), RB_LOG_U("in", in),
                                RB_LOG_D("share_percent", share), RB_LOG_D("window_s", secs),
                                RB_LOG_D("threshold_percent",
                                         100 * r->cfg->errors_alert_threshold)),
                  "more records fail than errors.alert.threshold allows");
    else if (change == RB_ALERT_ENDED)
        rb_log_kv(&r->log, RB_LOG_INFO, "error_rate_ok",
                  RB_LOG_FIELDS(RB_LOG_U("failed", failed), RB_LOG_U("in", in),
                                RB_LOG_D("share_percent", share), RB_LOG_D("window_s", secs)),
                  "back under the threshold");
}

static void add_counts(rb_batch_counts *sum, const rb_batch_counts *c) {
    sum->in += c->in;
    sum->stored += c->stored;
    sum->deleted += c->deleted;
    sum->stale += c->stale;
    sum->reused += c->reused;
    sum->skipped += c->skipped;
    sum->dead_lettered += c->dead_lettered;
    sum->failed += c->failed;
}

static bool stopping(const rb_runner *r) { return r->opts->stop && *r->opts->stop; }

/* Where a bounded run stands with the rest of the group. */
typedef struct bounded_wait {
    int64_t last_check_ms;    /* last question to the coordinator */
    int64_t last_progress_ms; /* last batch here, or last time the group's lag shrank */
    int64_t last_log_ms;
    int64_t records;         /* records behind at the last answer; -1 before one */
    rb_source_behind behind; /* the last answer */
} bounded_wait;

/* After each fill of a bounded run: 1 when the group's committed offsets
 * cover the snapshot (or the backfill's range is done), 0 to go on, -1
 * when they stopped moving for caught.up.timeout.ms. */
static int bounded_step(rb_runner *r, bounded_wait *w, bool processed, rb_error *err) {
    int64_t now = rb_now_ms();
    if (processed) w->last_progress_ms = now;
    bool idle_here = rb_runner_source_assigned_done(r->source);
    if (!(processed && idle_here) && now - w->last_check_ms < RUNNER_GROUP_CHECK_MS) return 0;
    w->last_check_ms = now;
    rb_source_behind b;
    rb_error cerr;
    if (rb_runner_source_behind_check(r->source, &b, &cerr) != 0) {
        rb_log_kv(&r->log, RB_LOG_WARN, "caught_up_check",
                  RB_LOG_FIELDS(RB_LOG_S("error.message", cerr.msg)), NULL);
    } else if (b.partitions == 0) {
        rb_log_kv(&r->log, RB_LOG_INFO, "caught_up",
                  RB_LOG_FIELDS(RB_LOG_U("partitions_assigned", b.assigned)), "%s",
                  r->opts->backfill
                      ? "every partition of the range is consumed and committed to its end"
                      : "the group's committed offsets reach the end offsets seen at start on "
                        "every partition");
        return 1;
    } else {
        if (w->records < 0 || b.records < w->records) w->last_progress_ms = now;
        w->records = b.records;
        w->behind = b;
    }
    const rb_source_behind *last = &w->behind;
    if (now - w->last_progress_ms >= r->cfg->caught_up_timeout_ms)
        return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                            "not caught up: for %" PRId64
                            " ms (caught.up.timeout.ms) neither this member nor the rest of the "
                            "group committed anything, and %zu partitions are still behind the "
                            "end offsets seen at start: %s (%zu assigned here); a member that "
                            "holds them may be hung, or the group may still be rebalancing",
                            now - w->last_progress_ms, last->partitions,
                            last->detail[0] ? last->detail : "unknown", last->assigned);
    if (idle_here && w->records >= 0 && now - w->last_log_ms >= RUNNER_WAITING_LOG_MS) {
        rb_log_kv(&r->log, RB_LOG_INFO, "waiting",
                  RB_LOG_FIELDS(RB_LOG_U("partitions_assigned", last->assigned),
                                RB_LOG_U("partitions_behind", last->partitions),
                                RB_LOG_S("behind", last->detail[0] ? last->detail : "unknown")),
                  "nothing left to fetch here, but partitions are behind the end offsets seen "
                  "at start; waiting for the members that own them (a crashed member holds "
                  "them until its session times out)");
        w->last_log_ms = now;
    }
    return 0;
}

static int runner_loop(rb_runner *r, rb_runner_totals *totals, rb_error *err) {
    const rb_job_config *cfg = r->cfg;
    int64_t window = cfg->trigger_interval_ms > RUNNER_MIN_WINDOW_MS ? cfg->trigger_interval_ms
                                                                     : RUNNER_MIN_WINDOW_MS;
    bool bounded = r->opts->until_caught_up || r->opts->backfill;
    /* A bounded run reads what is already there: larger batches. */
    size_t max_records =
        (size_t)(bounded ? cfg->batch_bounded_max_records : cfg->batch_max_records);
    size_t max_bytes = (size_t)(bounded ? cfg->batch_bounded_max_bytes : cfg->batch_max_bytes);
    uint64_t next_id = 0;
    int64_t now = rb_now_ms();
    bounded_wait wait = {.last_progress_ms = now, .last_log_ms = now, .records = -1};
    int64_t close_ms = bounded ? rb_trigger_bounded_close(now, window) : now + window;
    int64_t prev_closed_ms = now;

    int64_t last_ping = rb_now_ms();
    while (!stopping(r)) {
        rb_readiness_progress(r->ready);
        rb_runner_refresh_lag(r, false);
        rb_batch_reset(r->batch, next_id);
        rb_progress p;
        memset(&p, 0, sizeof p);
        double t0 = rb_now_sec();
        if (rb_runner_source_fill(r->source, r->batch, max_records, max_bytes, close_ms,
                                  r->opts->stop, err) != 0)
            return -1;
        p.duration_ms[RB_PROG_POLL] = (rb_now_sec() - t0) * 1e3;
        /* Records per second over the span they arrived in: since the
         * previous batch closed (Spark's inputRowsPerSecond). */
        int64_t closed_ms = rb_now_ms();
        double span_s = (double)(closed_ms - prev_closed_ms) / 1e3;
        prev_closed_ms = closed_ms;
        bool full = rb_batch_count(r->batch) >= max_records ||
                    rb_batch_bytes(r->batch) >= max_bytes;

        if (rb_batch_count(r->batch) == 0 && rb_now_ms() - last_ping > RUNNER_PING_MS) {
            /* An idle stream writes nothing, so readiness asks MongoDB. */
            rb_error perr;
            int up = rb_sink_port_ping(r->sink, &perr) == 0;
            rb_readiness_set(r->ready, "mongodb", up, up ? NULL : perr.msg);
            last_ping = rb_now_ms();
        }
        bool processed = rb_batch_count(r->batch) > 0;
        if (processed) {
            p.batch_id = next_id++;
            p.input_rate = (double)rb_batch_count(r->batch) / (span_s > 1e-3 ? span_s : 1e-3);
            rb_shutdown_phase_set(r->shutdown, RB_SHUTDOWN_BATCH, p.batch_id);
            int rc = process_batch(r, &p, err);
            if (rc == RUNNER_ABANDONED) {
                r->abandoned = true;
                r->abandoned_batch = p.batch_id;
                return 0;
            }
            if (rc != 0) return -1;
            rb_shutdown_phase_set(r->shutdown, RB_SHUTDOWN_IDLE, p.batch_id);
            p.total_ms = (rb_now_sec() - t0) * 1e3;
            p.timestamp_ms = rb_wall_ms();
            report_progress(r, &p);
            if (r->on_progress) r->on_progress(&p, r->progress_ctx);
            record_metrics(r, &p);
            if (r->opts->backfill)
                rb_log_kv(&r->log, RB_LOG_INFO, "backfill_progress",
                          RB_LOG_FIELDS(RB_LOG_U("batch", p.batch_id),
                                        RB_LOG_D("share_percent",
                                                 100 * rb_runner_source_backfill_share(r->source))),
                          NULL);
            check_alert(r, &p);
            if (totals) {
                totals->batches++;
                add_counts(&totals->counts, &p.counts);
            }
        }
        if (bounded) {
            close_ms = rb_trigger_bounded_close(rb_now_ms(), window);
            int done = bounded_step(r, &wait, processed, err);
            if (done < 0) return -1;
            if (done) break;
        } else {
            close_ms = rb_trigger_next_close(close_ms, rb_now_ms(), window, full);
        }
    }
    return 0;
}

int rb_runner_run(const rb_job_config *cfg, const rb_runner_opts *opts, rb_runner_totals *totals,
                  rb_error *err) {
    return rb_runner_run_with(cfg, opts, NULL, totals, err);
}

int rb_runner_run_with(const rb_job_config *cfg, const rb_runner_opts *opts,
                       const rb_runner_ports *ports, rb_runner_totals *totals, rb_error *err) {
    rb_runner r;
    if (totals) memset(totals, 0, sizeof *totals);
    int rc = runner_open(&r, cfg, opts, ports, err);
    if (rc == 0) rc = runner_loop(&r, totals, err);
    if (rc == 0 && r.abandoned)
        rb_log_kv(&r.log, RB_LOG_WARN, "stop",
                  RB_LOG_FIELDS(RB_LOG_I("signal_ms_ago", rb_shutdown_elapsed_ms(r.shutdown)),
                                RB_LOG_U("batch", r.abandoned_batch),
                                RB_LOG_I("timeout_ms", cfg->shutdown_timeout_ms),
                                RB_LOG_B("abandoned", true)),
                  "stopped by a signal; the batch is abandoned without committing "
                  "(shutdown.timeout.ms): its records are read again by the next owner of "
                  "their partitions");
    else if (rc == 0 && stopping(&r))
        rb_log_kv(&r.log, RB_LOG_INFO, "stop", RB_LOG_FIELDS(RB_LOG_S("reason", "signal")),
                  "clean stop (signal): %s",
                  r.uncommitted ? "a batch could not be committed (see the commit line); its "
                                  "records are read again and come back stale"
                                : "the last batch was committed");
    else if (rc == 0)
        rb_log_write(&r.log, RB_LOG_INFO, "stop", "clean stop");
    else
        rb_log_kv(&r.log, RB_LOG_ERROR, "stop",
                  RB_LOG_FIELDS(RB_LOG_S("stage", rb_stage_name(err->stage)),
                                RB_LOG_S("error.message", err->msg)),
                  NULL);
    runner_close(&r);
    return rc;
}
