#include "source/source.h"

#include "common/buf.h"
#include "common/clock.h"
#include "kafka/client.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

/* How long one metadata, watermark, committed-offset or seek request may take. */
#define SOURCE_META_TIMEOUT_MS 10000
/* Longest single poll, so that the stop flag is seen promptly. */
#define SOURCE_POLL_SLICE_MS 100
/* Each broker query of the lag gauges: short, since the batch loop waits on it. */
#define SOURCE_LAG_TIMEOUT_MS 500

typedef struct end_offset {
    char *topic;
    int32_t partition;
    int64_t low, high;
    int64_t start, stop; /* backfill range [start, stop) */
    int64_t committed;   /* the group's, at the last rb_source_behind_check(); -1 unknown */
} end_offset;

struct rb_source {
    rd_kafka_t *rk;
    /* The lag gauges' offsets requests go through a client of their own,
     * which never subscribes, so never joins the group: a broker answers a
     * connection's requests in order, and on the consumer's connection a
     * ListOffsets waits behind a fetch that waits up to fetch.wait.max.ms
     * for data (500 ms by default; on every refresh, a stall of the batch
     * loop and often a timed-out query). */
    rd_kafka_t *offsets_rk;
    const rb_log *log;
    end_offset *ends;
    size_t nends;
    bool backfill; /* partitions assigned by hand over [start, stop) */
    bool bounded;  /* fills close once the assigned partitions are at their ends */
    /* Holding (rb_source_hold): every assigned partition paused; `resume`
     * holds, per partition, the offset to seek back to (-1: unknown). */
    bool holding;
    rd_kafka_topic_partition_list_t *resume;
};

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t code,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    rb_source *s = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rb_buf names;
    rb_buf_init(&names);
    for (int i = 0; i < parts->cnt; i++)
        rb_buf_printf(&names, "%s%s[%d]", i ? "," : "", parts->elems[i].topic,
                      parts->elems[i].partition);
    const char *list = names.data ? names.data : "";
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t rerr = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rb_log_kv(s->log, RB_LOG_INFO, "rebalance",
                  RB_LOG_FIELDS(RB_LOG_S("assigned", list),
                                RB_LOG_S("protocol", cooperative ? "cooperative" : "eager")),
                  NULL);
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rerr = rd_kafka_assign(rk, parts);
        /* A batch is held: what arrives now waits for its release too. */
        if (!error && !rerr && s->holding) rd_kafka_pause_partitions(rk, parts);
    } else {
        /* Revoked: nothing to flush here, since offsets are committed per
         * batch and rb_source_commit() skips partitions no longer owned. */
        rb_log_kv(s->log, RB_LOG_INFO, "rebalance",
                  RB_LOG_FIELDS(RB_LOG_S("revoked", list),
                                RB_LOG_S("reason", rd_kafka_err2str(code))),
                  NULL);
        if (cooperative)
            error = rd_kafka_incremental_unassign(rk, parts);
        else
            rerr = rd_kafka_assign(rk, NULL);
    }
    if (error) {
        rb_log_kv(s->log, RB_LOG_ERROR, "rebalance",
                  RB_LOG_FIELDS(RB_LOG_S("error.message", rd_kafka_error_string(error))), NULL);
        rd_kafka_error_destroy(error);
    } else if (rerr) {
        rb_log_kv(s->log, RB_LOG_ERROR, "rebalance",
                  RB_LOG_FIELDS(RB_LOG_S("error.message", rd_kafka_err2str(rerr))), NULL);
    }
    rb_buf_free(&names);
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    rb_source *s = rd_kafka_opaque(rk);
    rb_log_kv(s ? s->log : NULL, rb_kafka_log_level(level), "kafka",
              RB_LOG_FIELDS(RB_LOG_S("facility", fac)), "%s", buf);
}

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
    rb_source *s = opaque;
    /* Transport errors are retried by librdkafka itself; they are worth a
     * warning, not a stop.  Fatal errors surface through the poll. */
    rb_log_kv(s->log, RB_LOG_WARN, "kafka",
              RB_LOG_FIELDS(RB_LOG_S("error.code", rd_kafka_err2name((rd_kafka_resp_err_t)code)),
                            RB_LOG_S("error.message", reason)),
              NULL);
    (void)rk;
}

static const char *kv_get(const rb_source_opts *o, const char *key) {
    for (size_t i = 0; i < o->kafka_count; i++)
        if (strcmp(o->kafka[i].key, key) == 0) return o->kafka[i].value;
    return NULL;
}

/* The consumer's configuration: defaults, then the job's kafka.* keys,
 * then what the commit rule needs. */
static rb_kafka_config *build_conf(const rb_source_opts *o, rb_error *err) {
    char name[512];
    snprintf(name, sizeof name, "ragbatch-%s", o->job_name);
    const rb_kafka_client_opts co = {.role = "consumer", .stage = RB_STAGE_SOURCE};
    rb_kafka_config *c = rb_kafka_config_new(&co, err);
    if (!c) return NULL;
    int rc;
    if (o->backfill) {
        /* A backfill commits to a group of its own: the live stream's
         * offsets stay where they are. */
        char group[600];
        const char *live = kv_get(o, "group.id");
        snprintf(group, sizeof group, "%s-backfill", live ? live : name);
        rc = rb_kafka_config_set_props(c, o->kafka, o->kafka_count, err);
        if (rc == 0) rc = rb_kafka_config_set(c, "group.id", group, err);
        if (rc == 0) rc = rb_kafka_config_set(c, "client.id", name, err);
    } else {
        rc = rb_kafka_config_set(c, "group.id", name, err);
        if (rc == 0) rc = rb_kafka_config_set(c, "client.id", name, err);
        if (rc == 0) rc = rb_kafka_config_set(c, "auto.offset.reset", "earliest", err);
        if (rc == 0)
            rc =
                rb_kafka_config_set(c, "partition.assignment.strategy", "cooperative-sticky", err);
        if (rc == 0) rc = rb_kafka_config_set_props(c, o->kafka, o->kafka_count, err);
    }
    /* The commit rule: offsets move only through rb_source_commit(). */
    if (rc == 0) rc = rb_kafka_config_set(c, "enable.auto.commit", "false", err);
    if (rc == 0) rc = rb_kafka_config_set(c, "enable.auto.offset.store", "false", err);
    if (rc != 0) {
        rb_kafka_config_destroy(c);
        return NULL;
    }
    return c;
}

/* Checks the topics exist and records their partitions' watermarks. */
static int snapshot_end_offsets(rb_source *s, const rb_strlist *topics, rb_error *err) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t rerr = rd_kafka_metadata(s->rk, 1, NULL, &md, SOURCE_META_TIMEOUT_MS);
    if (rerr)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                      "cannot read metadata from the brokers: %s (check "
                                      "kafka.bootstrap.servers)",
                                      rd_kafka_err2str(rerr));
    int rc = 0;
    for (size_t t = 0; t < topics->count && rc == 0; t++) {
        const struct rd_kafka_metadata_topic *mt = NULL;
        for (int i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, topics->items[t]) == 0) mt = &md->topics[i];
        if (!mt || mt->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || mt->partition_cnt == 0) {
            rc = rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                              "topic '%s' (source.topics) does not exist on the brokers",
                              topics->items[t]);
            break;
        }
        for (int p = 0; p < mt->partition_cnt && rc == 0; p++) {
            int64_t low = -1, high = -1;
            int32_t pid = mt->partitions[p].id;
            rerr = rd_kafka_query_watermark_offsets(s->rk, mt->topic, pid, &low, &high,
                                                    SOURCE_META_TIMEOUT_MS);
            if (rerr) {
                rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                            "cannot read end offsets of %s [%d]: %s", mt->topic,
                                            pid, rd_kafka_err2str(rerr));
                break;
            }
            end_offset *grown = realloc(s->ends, (s->nends + 1) * sizeof *grown);
            char *name = grown ? strdup(mt->topic) : NULL;
            if (grown) s->ends = grown;
            if (!name) {
                rc = rb_error_nomem(err, RB_STAGE_SOURCE, "end offsets");
                break;
            }
            s->ends[s->nends++] = (end_offset){name, pid, low, high, low, high, -1};
        }
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* offsets_for_times for every partition: the first offset at or after
 * `ms`, or the partition's end when nothing is that late. */
static int offsets_at_time(rb_source *s, int64_t ms, int64_t *out, rb_error *err) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->nends);
    for (size_t i = 0; i < s->nends; i++)
        rd_kafka_topic_partition_list_add(l, s->ends[i].topic, s->ends[i].partition)->offset = ms;
    rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(s->rk, l, SOURCE_META_TIMEOUT_MS);
    for (size_t i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < s->nends; i++) {
        const rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, s->ends[i].topic, s->ends[i].partition);
        out[i] = tp && tp->err == 0 && tp->offset >= 0 ? tp->offset : s->ends[i].high;
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                      "looking up offsets by time: %s", rd_kafka_err2str(e));
    return 0;
}

static end_offset *end_find(rb_source *s, const char *topic, int32_t p) {
    for (size_t i = 0; i < s->nends; i++)
        if (s->ends[i].partition == p && strcmp(s->ends[i].topic, topic) == 0) return &s->ends[i];
    return NULL;
}

/* Works out [start, stop) of every partition and assigns them. */
static int assign_backfill(rb_source *s, const rb_backfill *bf, rb_error *err) {
    int64_t *at = calloc(s->nends ? s->nends : 1, sizeof *at);
    if (!at) return rb_error_nomem(err, RB_STAGE_SOURCE, "backfill range");
    int rc = 0;
    for (size_t i = 0; i < s->nends; i++) {
        s->ends[i].start = s->ends[i].low;
        s->ends[i].stop = s->ends[i].high;
    }
    if (bf->from_time_ms >= 0 && (rc = offsets_at_time(s, bf->from_time_ms, at, err)) == 0)
        for (size_t i = 0; i < s->nends; i++) s->ends[i].start = at[i];
    if (rc == 0 && bf->to_time_ms >= 0 && (rc = offsets_at_time(s, bf->to_time_ms, at, err)) == 0)
        for (size_t i = 0; i < s->nends; i++) s->ends[i].stop = at[i];
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        const rb_backfill_point *pts = pass ? bf->to : bf->from;
        size_t n = pass ? bf->to_count : bf->from_count;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            end_offset *e = end_find(s, pts[i].topic, pts[i].partition);
            if (!e)
                rc = rb_error_set(err, RB_ERR_ARG, RB_STAGE_SOURCE,
                                  "%s:%d is not a partition of the job's topics", pts[i].topic,
                                  pts[i].partition);
            else if (pass)
                e->stop = pts[i].offset;
            else
                e->start = pts[i].offset;
        }
    }
    free(at);
    if (rc != 0) return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)s->nends);
    for (size_t i = 0; i < s->nends; i++) {
        end_offset *e = &s->ends[i];
        if (e->start < e->low) e->start = e->low;
        if (e->stop > e->high) e->stop = e->high;
        if (e->start >= e->stop) continue; /* nothing in range */
        rd_kafka_topic_partition_list_add(l, e->topic, e->partition)->offset = e->start;
        rb_log_kv(s->log, RB_LOG_INFO, "backfill",
                  RB_LOG_FIELDS(RB_LOG_S("topic", e->topic), RB_LOG_I("partition", e->partition),
                                RB_LOG_I("from", e->start), RB_LOG_I("to", e->stop)),
                  NULL);
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(s->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE, "assign: %s", rd_kafka_err2str(e));
    return 0;
}

double rb_source_backfill_share(rb_source *s) {
    if (!s->backfill) return 1.0;
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(s->rk, &owned) || !owned) return 0.0;
    rd_kafka_position(s->rk, owned);
    double total = 0, done = 0;
    for (size_t i = 0; i < s->nends; i++) {
        const end_offset *e = &s->ends[i];
        if (e->stop <= e->start) continue;
        total += (double)(e->stop - e->start);
        const rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(owned, e->topic, e->partition);
        int64_t pos = tp && tp->offset >= 0 ? tp->offset : e->start;
        done += (double)((pos < e->stop ? pos : e->stop) - e->start);
    }
    rd_kafka_topic_partition_list_destroy(owned);
    return total > 0 ? done / total : 1.0;
}

/* The transport errors of the offsets client are the consumer's own (same
 * brokers, same moment), which on_error reports; the lag then reads as
 * unknown.  Not logged twice. */
static void on_offsets_error(rd_kafka_t *rk, int code, const char *reason, void *opaque) {
    (void)rk, (void)code, (void)reason, (void)opaque;
}

/* A consumer client on the job's configuration: the consumer itself, or
 * (lag_queries) the client of the lag queries, with its own client.id and
 * no rebalance callback, since it never subscribes. */
static rd_kafka_t *new_client(const rb_source_opts *opts, rb_source *s, bool lag_queries,
                              rb_error *err) {
    rb_kafka_config *conf = build_conf(opts, err);
    if (!conf) return NULL;
    char name[512];
    snprintf(name, sizeof name, "ragbatch-%s-lag", opts->job_name);
    if (lag_queries && rb_kafka_config_set(conf, "client.id", name, err) != 0) {
        rb_kafka_config_destroy(conf);
        return NULL;
    }
    rd_kafka_conf_t *rc = rb_kafka_config_conf(conf);
    rd_kafka_conf_set_opaque(rc, s);
    if (!lag_queries) rd_kafka_conf_set_rebalance_cb(rc, on_rebalance);
    rd_kafka_conf_set_log_cb(rc, on_log);
    rd_kafka_conf_set_error_cb(rc, lag_queries ? on_offsets_error : on_error);
    return rb_kafka_config_client(conf, RD_KAFKA_CONSUMER, err);
}

rb_source *rb_source_new(const rb_source_opts *opts, rb_error *err) {
    rb_source *s = calloc(1, sizeof *s);
    if (!s) {
        rb_error_nomem(err, RB_STAGE_SOURCE, "source");
        return NULL;
    }
    s->log = opts->log;
    s->bounded = opts->bounded || opts->backfill;
    if (!(s->rk = new_client(opts, s, false, err))) {
        free(s);
        return NULL;
    }
    /* Route the main queue's events (logs, errors) through the consumer's
     * poll, so one poll serves everything. */
    rd_kafka_poll_set_consumer(s->rk);
    if (!(s->offsets_rk = new_client(opts, s, true, err))) {
        rb_source_destroy(s);
        return NULL;
    }

    if (snapshot_end_offsets(s, opts->topics, err) != 0) {
        rb_source_destroy(s);
        return NULL;
    }

    if (opts->backfill) {
        s->backfill = true;
        if (assign_backfill(s, opts->backfill, err) != 0) {
            rb_source_destroy(s);
            return NULL;
        }
        return s;
    }
    rd_kafka_topic_partition_list_t *subs =
        rd_kafka_topic_partition_list_new((int)opts->topics->count);
    for (size_t i = 0; i < opts->topics->count; i++)
        rd_kafka_topic_partition_list_add(subs, opts->topics->items[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rerr = rd_kafka_subscribe(s->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (rerr) {
        rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE, "cannot subscribe: %s",
                     rd_kafka_err2str(rerr));
        rb_source_destroy(s);
        return NULL;
    }
    return s;
}

/* The record's headers go with it: the DLQ hands them on unchanged. */
static int copy_headers(rb_batch *b, rb_record *r, rd_kafka_message_t *m, rb_error *err) {
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs) return 0;
    size_t n = rd_kafka_header_cnt(hdrs);
    if (n == 0) return 0;
    rb_header *list = calloc(n, sizeof *list);
    if (!list) return rb_error_nomem(err, RB_STAGE_SOURCE, "headers");
    size_t got = 0;
    const char *name;
    const void *value;
    size_t len;
    while (got < n &&
           rd_kafka_header_get_all(hdrs, got, &name, &value, &len) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        list[got] = (rb_header){name, value, len};
        got++;
    }
    int rc = rb_batch_add_headers(b, r, list, got, err);
    free(list);
    return rc;
}

/* The offset a partition of a bounded run is done at: the end of the
 * snapshot, or of the backfill's range. */
static int64_t end_of(const rb_source *s, const end_offset *e) {
    return s->backfill ? e->stop : e->high;
}

/* True when the partition has nothing to do in a bounded run. */
static bool end_empty(const rb_source *s, const end_offset *e) {
    return s->backfill ? e->stop <= e->start : e->high <= e->low;
}

bool rb_source_assigned_done(rb_source *s) {
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(s->rk, &owned) || !owned) return false;
    bool done = owned->cnt == 0 || rd_kafka_position(s->rk, owned) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; done && i < owned->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &owned->elems[i];
        const end_offset *e = end_find(s, tp->topic, tp->partition);
        /* A partition added after start has no end: nothing to wait for. */
        if (!e || end_empty(s, e)) continue;
        int64_t pos = tp->offset; /* RD_KAFKA_OFFSET_INVALID (< 0) until a record is taken */
        /* Nothing taken yet: the group may have finished it in an earlier run. */
        if (!s->backfill && e->committed > pos) pos = e->committed;
        if (pos < end_of(s, e)) done = false;
    }
    rd_kafka_topic_partition_list_destroy(owned);
    return done;
}

int rb_source_fill(rb_source *s, rb_batch *b, size_t max_records, size_t max_bytes,
                   int64_t deadline_ms, volatile sig_atomic_t *stop, rb_error *err) {
    int64_t window_ms = deadline_ms - rb_now_ms();
    bool awaiting_first = s->bounded && rb_batch_count(b) == 0 && window_ms > 0;
    while (rb_batch_count(b) < max_records && rb_batch_bytes(b) < max_bytes && !(stop && *stop)) {
        /* Past the deadline, take what librdkafka has already fetched
         * without waiting: a batch that starts late (the previous one
         * overran its trigger) still holds every record that arrived
         * meanwhile, as a Spark micro-batch holds what is available. */
        int64_t left = deadline_ms - rb_now_ms();
        int wait = left <= 0 ? 0
                             : (int)(left < SOURCE_POLL_SLICE_MS ? left : SOURCE_POLL_SLICE_MS);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, wait);
        if (!m) {
            if (left <= 0) break;
            /* A bounded run's last batch closes once nothing is left to fetch. */
            if (s->bounded && rb_source_assigned_done(s)) break;
            continue;
        }
        if (m->err) {
            rd_kafka_resp_err_t code = m->err;
            if (code == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                rd_kafka_message_destroy(m);
                continue;
            }
            char reason[512];
            snprintf(reason, sizeof reason, "%s", rd_kafka_message_errstr(m));
            const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";
            int32_t partition = m->partition;
            rd_kafka_message_destroy(m);
            char fatal[512];
            if (code == RD_KAFKA_RESP_ERR__FATAL &&
                rd_kafka_fatal_error(s->rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR)
                return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE, "fatal consumer error: %s",
                                    fatal);
            rb_log_kv(s->log, RB_LOG_WARN, "kafka",
                      RB_LOG_FIELDS(RB_LOG_S("topic", topic), RB_LOG_I("partition", partition),
                                    RB_LOG_S("error.code", rd_kafka_err2name(code)),
                                    RB_LOG_S("error.message", reason)),
                      NULL);
            continue;
        }
        if (s->backfill) {
            const end_offset *e = end_find(s, rd_kafka_topic_name(m->rkt), m->partition);
            if (!e || m->offset >= e->stop) {
                /* Past the end of the range: stop fetching this partition. */
                rd_kafka_topic_partition_list_t *p = rd_kafka_topic_partition_list_new(1);
                rd_kafka_topic_partition_list_add(p, rd_kafka_topic_name(m->rkt), m->partition);
                rd_kafka_pause_partitions(s->rk, p);
                rd_kafka_topic_partition_list_destroy(p);
                rd_kafka_message_destroy(m);
                if (rb_source_assigned_done(s)) break;
                continue;
            }
        }
        /* The record just before a partition's end: maybe the last one to
         * wait for.  (Not every record past the end: a run that also takes
         * what arrived since the snapshot would then close a batch per record.) */
        bool at_end = false;
        if (s->bounded) {
            const end_offset *e = end_find(s, rd_kafka_topic_name(m->rkt), m->partition);
            at_end = e && m->offset + 1 == end_of(s, e);
        }
        int64_t ts = rd_kafka_message_timestamp(m, NULL);
        if (awaiting_first) {
            deadline_ms = rb_now_ms() + window_ms;
            awaiting_first = false;
        }
        rb_record *r = rb_batch_add(b, rd_kafka_topic_name(m->rkt), m->partition, m->offset, ts,
                                    m->key, m->key_len, m->payload, m->len, err);
        int rc = r ? copy_headers(b, r, m, err) : -1;
        rd_kafka_message_destroy(m);
        if (rc != 0) return -1;
        if (at_end && rb_source_assigned_done(s)) break;
    }
    return 0;
}

static bool list_has(const rd_kafka_topic_partition_list_t *l, const char *topic, int32_t p) {
    return l && rd_kafka_topic_partition_list_find(l, topic, p) != NULL;
}

int rb_source_commit(rb_source *s, const rb_batch *b, size_t *committed, size_t *skipped,
                     rb_error *err) {
    size_t nranges, ok = 0, gone = 0;
    const rb_batch_range *ranges = rb_batch_ranges(b, &nranges);
    if (committed) *committed = 0;
    if (skipped) *skipped = 0;
    if (nranges == 0) return 0;

    rd_kafka_topic_partition_list_t *owned = NULL;
    rd_kafka_resp_err_t rerr = rd_kafka_assignment(s->rk, &owned);
    if (rerr)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_COMMIT,
                                      "cannot read the assignment: %s", rd_kafka_err2str(rerr));
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new((int)nranges);
    for (size_t i = 0; i < nranges; i++) {
        if (!list_has(owned, ranges[i].topic, ranges[i].partition)) {
            gone++;
            rb_log_kv(s->log, RB_LOG_INFO, "commit",
                      RB_LOG_FIELDS(RB_LOG_S("topic", ranges[i].topic),
                                    RB_LOG_I("partition", ranges[i].partition)),
                      "not committed: no longer assigned here");
            continue;
        }
        rd_kafka_topic_partition_list_add(offsets, ranges[i].topic, ranges[i].partition)->offset =
            ranges[i].last_offset + 1;
        ok++;
    }
    rd_kafka_topic_partition_list_destroy(owned);
    int rc = 0;
    if (offsets->cnt > 0) {
        rerr = rd_kafka_commit(s->rk, offsets, 0 /* synchronous */);
        if (rerr) {
            rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_COMMIT,
                                        "offset commit failed: %s", rd_kafka_err2str(rerr));
        } else {
            for (int i = 0; i < offsets->cnt; i++) {
                if (offsets->elems[i].err) {
                    rc = rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_COMMIT,
                                                "offset commit of %s [%d] failed: %s",
                                                offsets->elems[i].topic,
                                                offsets->elems[i].partition,
                                                rd_kafka_err2str(offsets->elems[i].err));
                    break;
                }
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    if (rc == 0) {
        if (committed) *committed = ok;
        if (skipped) *skipped = gone;
    }
    return rc;
}

/* Appends "topic[p] WHAT" to the detail of `out`, or ", ..." once full. */
static void behind_add(rb_source_behind *out, const char *topic, int32_t partition, int64_t at,
                       int64_t end, const char *what) {
    size_t len = strlen(out->detail), cap = sizeof out->detail;
    if (len + 5 >= cap) return;
    char item[320];
    if (at < 0)
        snprintf(item, sizeof item, "%s%s[%d] nothing %s of %" PRId64, len ? ", " : "", topic,
                 partition, what, end);
    else
        snprintf(item, sizeof item, "%s%s[%d] %s %" PRId64 " of %" PRId64, len ? ", " : "", topic,
                 partition, what, at, end);
    if (len + strlen(item) + 6 < cap)
        memcpy(out->detail + len, item, strlen(item) + 1);
    else
        memcpy(out->detail + len, ", ...", 6);
}

/* A backfill owns its whole range (assigned by hand): positions say it all. */
static int backfill_behind(rb_source *s, rb_source_behind *out, rb_error *err) {
    rd_kafka_topic_partition_list_t *owned = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->rk, &owned);
    if (e || !owned)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                      "cannot read the assignment: %s", rd_kafka_err2str(e));
    out->assigned = (size_t)owned->cnt;
    bool known = owned->cnt == 0 || rd_kafka_position(s->rk, owned) == RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; i < owned->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &owned->elems[i];
        const end_offset *end = end_find(s, tp->topic, tp->partition);
        if (!end || end_empty(s, end)) continue;
        int64_t pos = known ? tp->offset : -1;
        if (pos >= end->stop) continue;
        out->partitions++;
        out->records += end->stop - (pos > end->start ? pos : end->start);
        behind_add(out, tp->topic, tp->partition, pos, end->stop, "consumed");
    }
    rd_kafka_topic_partition_list_destroy(owned);
    return 0;
}

int rb_source_behind_check(rb_source *s, rb_source_behind *out, rb_error *err) {
    memset(out, 0, sizeof *out);
    if (s->backfill) return backfill_behind(s, out, err);
    rd_kafka_topic_partition_list_t *snap = rd_kafka_topic_partition_list_new((int)s->nends);
    for (size_t i = 0; i < s->nends; i++)
        if (!end_empty(s, &s->ends[i]))
            rd_kafka_topic_partition_list_add(snap, s->ends[i].topic, s->ends[i].partition);
    rd_kafka_topic_partition_list_t *owned = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->rk, &owned);
    if (!e && owned && owned->cnt) e = rd_kafka_position(s->rk, owned);
    /* The coordinator's answer, for every partition of the snapshot. */
    if (!e && snap->cnt) e = rd_kafka_committed(s->rk, snap, SOURCE_META_TIMEOUT_MS);
    if (e || !owned) {
        rd_kafka_topic_partition_list_destroy(snap);
        if (owned) rd_kafka_topic_partition_list_destroy(owned);
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                      "cannot read the group's committed offsets: %s",
                                      rd_kafka_err2str(e));
    }
    out->assigned = (size_t)owned->cnt;
    rd_kafka_topic_partition_list_t *fix = rd_kafka_topic_partition_list_new(4);
    for (int i = 0; i < snap->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &snap->elems[i];
        end_offset *end = end_find(s, tp->topic, tp->partition);
        int64_t c = tp->err ? -1 : tp->offset; /* RD_KAFKA_OFFSET_INVALID: nothing committed */
        end->committed = c < 0 ? -1 : c;
        if (c >= end->high) continue;
        const rd_kafka_topic_partition_t *mine =
            rd_kafka_topic_partition_list_find(owned, tp->topic, tp->partition);
        if (mine && mine->offset >= end->high) {
            rd_kafka_topic_partition_list_add(fix, tp->topic, tp->partition)->offset =
                mine->offset;
            continue;
        }
        out->partitions++;
        out->records += end->high - (c > end->low ? c : end->low);
        behind_add(out, tp->topic, tp->partition, c, end->high, "committed");
    }
    if (fix->cnt) {
        /* Consumed to the end but not committed there: commit the position.
         * A failure leaves them behind, for the next check to try again. */
        e = rd_kafka_commit(s->rk, fix, 0);
        for (int i = 0; i < fix->cnt; i++) {
            const rd_kafka_topic_partition_t *tp = &fix->elems[i];
            end_offset *end = end_find(s, tp->topic, tp->partition);
            if (!e && !tp->err) {
                end->committed = tp->offset;
                rb_log_kv(s->log, RB_LOG_INFO, "commit",
                          RB_LOG_FIELDS(RB_LOG_S("topic", tp->topic),
                                        RB_LOG_I("partition", tp->partition),
                                        RB_LOG_I("offset", tp->offset),
                                        RB_LOG_I("end_offset_at_start", end->high)),
                          "committed at its position");
                continue;
            }
            out->partitions++;
            out->records += end->high - (end->committed > end->low ? end->committed : end->low);
            behind_add(out, tp->topic, tp->partition, end->committed, end->high, "committed");
            rb_log_kv(s->log, RB_LOG_WARN, "commit",
                      RB_LOG_FIELDS(RB_LOG_S("topic", tp->topic),
                                    RB_LOG_I("partition", tp->partition),
                                    RB_LOG_I("offset", tp->offset),
                                    RB_LOG_S("error.message", rd_kafka_err2str(e ? e : tp->err))),
                      "not committed at its position");
        }
    }
    rd_kafka_topic_partition_list_destroy(fix);
    rd_kafka_topic_partition_list_destroy(snap);
    rd_kafka_topic_partition_list_destroy(owned);
    return 0;
}

/* ---- holding a batch ---------------------------------------------------- */

/* The remembered entry of a partition, added with offset -1 when missing. */
static rd_kafka_topic_partition_t *resume_entry(rb_source *s, const char *topic, int32_t p) {
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_find(s->resume, topic, p);
    if (!tp) {
        tp = rd_kafka_topic_partition_list_add(s->resume, topic, p);
        tp->offset = -1;
    }
    return tp;
}

int rb_source_hold(rb_source *s, rb_error *err) {
    if (s->holding) return 0;
    rd_kafka_topic_partition_list_t *owned = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->rk, &owned);
    if (!e && owned->cnt) e = rd_kafka_position(s->rk, owned);
    if (!e && owned->cnt) e = rd_kafka_pause_partitions(s->rk, owned);
    if (e) {
        if (owned) rd_kafka_topic_partition_list_destroy(owned);
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                      "cannot pause the assigned partitions: %s",
                                      rd_kafka_err2str(e));
    }
    for (int i = 0; i < owned->cnt; i++)
        if (owned->elems[i].offset < 0) owned->elems[i].offset = -1;
    s->resume = owned;
    s->holding = true;
    rb_log_kv(s->log, RB_LOG_DEBUG, "hold",
              RB_LOG_FIELDS(RB_LOG_I("paused_partitions", owned->cnt)),
              "paused while the batch waits");
    return 0;
}

int rb_source_hold_serve(rb_source *s, int wait_ms, rb_error *err) {
    if (!s->holding) {
        /* Polling unpaused partitions would drop records: only wait. */
        rb_sleep_ms(wait_ms);
        return 0;
    }
    rd_kafka_message_t *m = rd_kafka_consumer_poll(s->rk, wait_ms);
    if (!m) return 0;
    const char *topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "-";
    if (m->err) {
        rd_kafka_resp_err_t code = m->err;
        char fatal[512];
        if (code == RD_KAFKA_RESP_ERR__FATAL &&
            rd_kafka_fatal_error(s->rk, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_message_destroy(m);
            return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE, "fatal consumer error: %s",
                                fatal);
        }
        if (code != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            rb_log_kv(s->log, RB_LOG_WARN, "kafka",
                      RB_LOG_FIELDS(RB_LOG_S("topic", topic), RB_LOG_I("partition", m->partition),
                                    RB_LOG_S("error.code", rd_kafka_err2name(code)),
                                    RB_LOG_S("error.message", rd_kafka_message_errstr(m))),
                      NULL);
        rd_kafka_message_destroy(m);
        return 0;
    }
    /* A record while held: fetched before the pause, or from a partition
     * assigned since.  Not taken: the release seeks back to it. */
    rd_kafka_topic_partition_t *tp = resume_entry(s, topic, m->partition);
    if (tp->offset < 0 || m->offset < tp->offset) tp->offset = m->offset;
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, topic, m->partition);
    rd_kafka_pause_partitions(s->rk, one);
    rd_kafka_topic_partition_list_destroy(one);
    rd_kafka_message_destroy(m);
    return 0;
}

int rb_source_release(rb_source *s, rb_error *err) {
    if (!s->holding) return 0;
    s->holding = false;
    rd_kafka_topic_partition_list_t *owned = NULL;
    rd_kafka_resp_err_t e = rd_kafka_assignment(s->rk, &owned);
    int rc = 0;
    if (e) {
        rc = rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                          "cannot read the assignment to resume it: %s", rd_kafka_err2str(e));
        goto out;
    }
    if (owned->cnt && (e = rd_kafka_resume_partitions(s->rk, owned)) != 0) {
        rc = rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                          "cannot resume the assigned partitions: %s", rd_kafka_err2str(e));
        goto out;
    }
    /* Back to the first offset not taken, for every partition still ours
     * (a revoked one is its new owner's business). */
    rd_kafka_topic_partition_list_t *seek = rd_kafka_topic_partition_list_new(owned->cnt + 1);
    for (int i = 0; i < owned->cnt; i++) {
        const rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(s->resume, owned->elems[i].topic,
                                               owned->elems[i].partition);
        if (tp && tp->offset >= 0)
            rd_kafka_topic_partition_list_add(seek, tp->topic, tp->partition)->offset = tp->offset;
    }
    if (seek->cnt) {
        rd_kafka_error_t *se = rd_kafka_seek_partitions(s->rk, seek, SOURCE_META_TIMEOUT_MS);
        if (se) {
            rc = rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                              "cannot seek back after holding a batch: %s; stopping so that no "
                              "record is skipped",
                              rd_kafka_error_string(se));
            rd_kafka_error_destroy(se);
        }
        for (int i = 0; rc == 0 && i < seek->cnt; i++)
            if (seek->elems[i].err)
                rc = rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_SOURCE,
                                  "cannot seek %s [%d] back to offset %" PRId64
                                  " after holding a batch: %s; stopping so that no record is "
                                  "skipped",
                                  seek->elems[i].topic, seek->elems[i].partition,
                                  seek->elems[i].offset, rd_kafka_err2str(seek->elems[i].err));
    }
    rd_kafka_topic_partition_list_destroy(seek);
out:
    if (owned) rd_kafka_topic_partition_list_destroy(owned);
    rd_kafka_topic_partition_list_destroy(s->resume);
    s->resume = NULL;
    return rc;
}

void rb_source_lag_each(rb_source *s, rb_source_lag_fn fn, void *ctx) {
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(s->rk, &owned) || !owned) return;
    /* Asked of the broker, not read from the fetch cache: a paused
     * partition (a write being retried) fetches nothing, and its cached end
     * offset would stand still while records arrive. */
    bool committed = owned->cnt > 0 && rd_kafka_committed(s->rk, owned, SOURCE_LAG_TIMEOUT_MS) ==
                                           RD_KAFKA_RESP_ERR_NO_ERROR;
    /* The end (and, where nothing is committed, the earliest) offsets by
     * rd_kafka_offsets_for_times, which keeps to its timeout: the
     * watermark query waits for its request's own timeout
     * (socket.timeout.ms, 60 s) when the broker stops answering, and this
     * runs between the retries of a write. */
    rd_kafka_topic_partition_list_t *ends = rd_kafka_topic_partition_list_copy(owned);
    rd_kafka_topic_partition_list_t *starts = rd_kafka_topic_partition_list_copy(owned);
    bool uncommitted = false; /* only then are the earliest offsets needed */
    for (int i = 0; i < owned->cnt; i++) {
        ends->elems[i].offset = RD_KAFKA_OFFSET_END;         /* latest */
        starts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING; /* earliest */
        uncommitted |= owned->elems[i].offset < 0;
    }
    rd_kafka_poll(s->offsets_rk, 0); /* its queue: nothing is ever kept there */
    bool broker_up = committed &&
                     rd_kafka_offsets_for_times(s->offsets_rk, ends, SOURCE_LAG_TIMEOUT_MS) ==
                         RD_KAFKA_RESP_ERR_NO_ERROR &&
                     (!uncommitted ||
                      rd_kafka_offsets_for_times(s->offsets_rk, starts, SOURCE_LAG_TIMEOUT_MS) ==
                          RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int i = 0; i < owned->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &owned->elems[i];
        int64_t high = ends->elems[i].offset, low = starts->elems[i].offset, lag = -1;
        if (broker_up && !ends->elems[i].err && high >= 0) {
            /* Nothing committed yet: the group starts at the earliest kept. */
            int64_t from = tp->offset >= 0 ? tp->offset : (low >= 0 ? low : 0);
            lag = high > from ? high - from : 0;
        }
        fn(tp->topic, tp->partition, lag, ctx);
    }
    rd_kafka_topic_partition_list_destroy(ends);
    rd_kafka_topic_partition_list_destroy(starts);
    rd_kafka_topic_partition_list_destroy(owned);
}

int64_t rb_source_lag(rb_source *s) {
    rd_kafka_topic_partition_list_t *owned = NULL;
    if (rd_kafka_assignment(s->rk, &owned) || !owned) return -1;
    int64_t lag = owned->cnt ? 0 : -1;
    if (owned->cnt && rd_kafka_position(s->rk, owned) != RD_KAFKA_RESP_ERR_NO_ERROR) lag = -1;
    for (int i = 0; lag >= 0 && i < owned->cnt; i++) {
        int64_t low, high;
        const rd_kafka_topic_partition_t *tp = &owned->elems[i];
        if (rd_kafka_get_watermark_offsets(s->rk, tp->topic, tp->partition, &low, &high) ||
            high < 0 || tp->offset < 0) {
            lag = -1;
            break;
        }
        if (high > tp->offset) lag += high - tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(owned);
    return lag;
}

void rb_source_destroy(rb_source *s) {
    if (!s) return;
    if (s->rk) {
        rd_kafka_resp_err_t rerr = rd_kafka_consumer_close(s->rk);
        if (rerr)
            rb_log_kv(s->log, RB_LOG_WARN, "kafka",
                      RB_LOG_FIELDS(RB_LOG_S("error.message", rd_kafka_err2str(rerr))),
                      "leaving the group failed");
        rd_kafka_destroy(s->rk);
    }
    if (s->offsets_rk) rd_kafka_destroy(s->offsets_rk);
    for (size_t i = 0; i < s->nends; i++) free(s->ends[i].topic);
    free(s->ends);
    if (s->resume) rd_kafka_topic_partition_list_destroy(s->resume);
    free(s);
}
