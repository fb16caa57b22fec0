/*
 * cmd_status.c -- `ragbatch status JOB`: where a job stands, from what the
 * servers and the running job say, as Connect's GET /connectors/x/status
 * or the Spark UI would show it.
 *
 * Sources, each read within a bounded time and each allowed to fail on its
 * own (the others are still shown; the exit status is then 1):
 *   - offsets: the consumer group's committed offsets and the end offsets
 *     of every partition of source.topics (kafka/inspect.h; the group is
 *     not joined);
 *   - the run: the job's own /metrics (metrics.port, or --metrics-url),
 *     for the last batch's time, the batches and the records by outcome
 *     since that process started.  No answer means not running there;
 *     metrics.port = 0 and no --metrics-url means it cannot be known;
 *   - the DLQ: every dead letter read once, counted by stage;
 *   - the collection: documents and tombstones (a ping-only connection,
 *     nothing created);
 *   - the Atlas index ($listSearchIndexes), or "not Atlas".
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "cli/job_args.h"
#include "common/buf.h"
#include "common/rfc3339.h"
#include "dlq/letter.h"
#include "dlq/reader.h"
#include "json/json.h"
#include "kafka/inspect.h"
#include "metrics/scrape.h"
#include "search/atlas.h"
#include "search/search.h"
#include "sink/sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STAGES 16
#define DEFAULT_TIMEOUT_MS 5000

static const char usage[] =
    "usage: ragbatch status JOBFILE [--json] [--metrics-url URL] [--timeout-ms MS]\n"
    "                       [--set KEY=VALUE]...\n"
    "Shows where the job stands: per partition the group's committed offset, the end\n"
    "offset and the lag; the last batch and the records by outcome (from the running\n"
    "job's /metrics: metrics.port on 127.0.0.1, or --metrics-url); the DLQ's records by\n"
    "stage; the collection's documents and tombstones; the Atlas index's state.\n"
    "Each server is given --timeout-ms (5000).  Exit status: 0 all read, 1 something\n"
    "could not be read (shown in its place), 2 usage or configuration error.\n";

static const char *const outcomes[] = {"stored",  "deleted",       "stale", "reused",
                                       "skipped", "dead_lettered", "failed"};
#define N_OUTCOMES (sizeof outcomes / sizeof outcomes[0])

typedef struct stage_count {
    char stage[32];
    uint64_t n;
} stage_count;

typedef struct status {
    const rb_job_config *cfg;
    char group[300];
    long timeout_ms;
    bool failed;
    /* offsets */
    char offsets_error[RB_ERROR_MSG_MAX];
    struct part {
        const char *topic;
        rb_kafka_partition_offsets o;
    } * parts;
    size_t nparts;
    int64_t lag;
    /* the run */
    char metrics_url[600];
    enum { RUN_UNKNOWN, RUN_NOT_RUNNING, RUN_RUNNING } run;
    char run_why[RB_ERROR_MSG_MAX];
    double last_batch_s, batches, records[N_OUTCOMES];
    bool have_last, have_batches, have_record[N_OUTCOMES];
    /* the DLQ */
    char dlq_error[RB_ERROR_MSG_MAX];
    uint64_t dlq_total;
    stage_count stages[MAX_STAGES];
    size_t nstages;
    /* the collection */
    char mongo_error[RB_ERROR_MSG_MAX];
    int64_t documents, tombstones;
    /* the index */
    char index_name[300];
    bool atlas;
    char index_error[RB_ERROR_MSG_MAX];
    char index_status[64];
    int queryable; /* -1 unknown */
    bool index_found;
} status;

static void read_offsets(status *s) {
    const rb_job_config *cfg = s->cfg;
    rb_error err;
    rb_kafka_inspector *k =
        rb_kafka_inspector_new(cfg->kafka, cfg->kafka_count, s->group, (int)s->timeout_ms, &err);
    int brokers;
    if (!k || rb_kafka_inspect_brokers(k, &brokers, &err) != 0) goto fail;
    for (size_t t = 0; t < cfg->topics.count; t++) {
        rb_kafka_partition_offsets *p;
        size_t n;
        if (rb_kafka_inspect_offsets(k, cfg->topics.items[t], &p, &n, &err) != 0) goto fail;
        if (n == 0) {
            rb_error_set(&err, RB_ERR_KAFKA, RB_STAGE_SOURCE, "topic '%s' does not exist",
                         cfg->topics.items[t]);
            goto fail;
        }
        struct part *grown = realloc(s->parts, (s->nparts + n) * sizeof *grown);
        if (!grown) {
            free(p);
            rb_error_nomem(&err, RB_STAGE_SOURCE, "partitions");
            goto fail;
        }
        s->parts = grown;
        for (size_t i = 0; i < n; i++) {
            s->parts[s->nparts++] = (struct part){cfg->topics.items[t], p[i]};
            /* Nothing committed: all that is kept is still to be read. */
            int64_t from = p[i].committed >= 0 ? p[i].committed : p[i].low;
            s->lag += p[i].high > from ? p[i].high - from : 0;
        }
        free(p);
    }
    rb_kafka_inspector_destroy(k);
    return;
fail:
    snprintf(s->offsets_error, sizeof s->offsets_error, "%s", err.msg);
    s->failed = true;
    rb_kafka_inspector_destroy(k);
}

static void read_run(status *s, const char *metrics_url) {
    const rb_job_config *cfg = s->cfg;
    if (metrics_url) {
        snprintf(s->metrics_url, sizeof s->metrics_url, "%s", metrics_url);
    } else if (cfg->metrics_port > 0) {
        /* An address that listens everywhere is reached on loopback here. */
        const char *host = cfg->metrics_address[0] && strcmp(cfg->metrics_address, "0.0.0.0") &&
                                   strcmp(cfg->metrics_address, "::")
                               ? cfg->metrics_address
                               : "127.0.0.1";
        snprintf(s->metrics_url, sizeof s->metrics_url, "http://%s:%lld/metrics", host,
                 (long long)cfg->metrics_port);
    } else {
        s->run = RUN_UNKNOWN;
        snprintf(s->run_why, sizeof s->run_why,
                 "metrics.port is 0, so the job has no endpoint to ask (give --metrics-url)");
        return;
    }
    char *body = NULL;
    rb_error err;
    if (rb_metrics_scrape(s->metrics_url, s->timeout_ms, &body, &err) != 0) {
        s->run = RUN_NOT_RUNNING;
        snprintf(s->run_why, sizeof s->run_why, "no answer: %s", err.msg);
        return;
    }
    char job[300];
    snprintf(job, sizeof job, "job=\"%s\"", cfg->job_name);
    const char *jl[] = {job};
    s->have_last =
        rb_metrics_sample(body, "ragbatch_last_batch_timestamp_seconds", jl, 1, &s->last_batch_s);
    s->have_batches = rb_metrics_sample(body, "ragbatch_batches_total", jl, 1, &s->batches);
    for (size_t i = 0; i < N_OUTCOMES; i++) {
        char oc[64];
        snprintf(oc, sizeof oc, "outcome=\"%s\"", outcomes[i]);
        const char *labels[] = {job, oc};
        s->have_record[i] =
            rb_metrics_sample(body, "ragbatch_records_total", labels, 2, &s->records[i]);
    }
    free(body);
    s->run = RUN_RUNNING;
}

static int on_dead_letter(const rb_dlq_record *rec, void *ctx) {
    status *s = ctx;
    rb_dlq_letter l;
    rb_dlq_letter_read(rec, &l);
    const char *stage = l.stage[0] ? l.stage : "(no context headers)";
    s->dlq_total++;
    for (size_t i = 0; i < s->nstages; i++) {
        if (strcmp(s->stages[i].stage, stage) == 0) {
            s->stages[i].n++;
            return 0;
        }
    }
    if (s->nstages < MAX_STAGES) {
        snprintf(s->stages[s->nstages].stage, sizeof s->stages[0].stage, "%s", stage);
        s->stages[s->nstages++].n = 1;
    }
    return 0;
}

/* The job's kafka.* properties as "name=value" strings, for the reader. */
static char **props_of(const rb_job_config *cfg, size_t *n) {
    char **p = calloc(cfg->kafka_count + 1, sizeof *p);
    for (size_t i = 0; p && i < cfg->kafka_count; i++) {
        rb_buf b;
        rb_buf_init(&b);
        if (rb_buf_printf(&b, "%s=%s", cfg->kafka[i].key, cfg->kafka[i].value) != 0) {
            rb_buf_free(&b);
            for (size_t j = 0; j < i; j++) free(p[j]);
            free(p);
            return NULL;
        }
        p[i] = rb_buf_detach(&b);
    }
    *n = cfg->kafka_count;
    return p;
}

static void read_dlq(status *s) {
    const rb_job_config *cfg = s->cfg;
    if (!cfg->dlq_topic[0]) return;
    size_t n = 0;
    char **props = props_of(cfg, &n);
    rb_error err;
    rb_dlq_reader *r = NULL;
    if (!props)
        rb_error_nomem(&err, RB_STAGE_DLQ, "properties");
    else if ((r = rb_dlq_reader_new(cfg->dlq_topic, NULL, (const char *const *)props, n, &err)) &&
             rb_dlq_read(r, on_dead_letter, s, &err) == 0)
        err.msg[0] = '\0';
    if (!props || !r || err.msg[0]) {
        snprintf(s->dlq_error, sizeof s->dlq_error, "%s", err.msg);
        s->failed = true;
    }
    rb_dlq_reader_destroy(r);
    for (size_t i = 0; props && i < n; i++) free(props[i]);
    free(props);
}

/* The index's entry in $listSearchIndexes' answer (a JSON array). */
static void read_index_answer(status *s, const char *reply) {
    rb_json_doc *doc = NULL;
    rb_error err;
    if (rb_json_parse(reply, strlen(reply), NULL, &doc, &err) != 0) {
        snprintf(s->index_error, sizeof s->index_error, "unreadable answer: %s", err.msg);
        s->failed = true;
        return;
    }
    const rb_json *list = rb_json_doc_root(doc);
    for (size_t i = 0; list->type == RB_JSON_ARRAY && i < list->count; i++) {
        const rb_json *ix = &list->items[i];
        const char *name = rb_json_string(rb_json_get(ix, "name"));
        if (!name || strcmp(name, s->index_name) != 0) continue;
        s->index_found = true;
        const char *st = rb_json_string(rb_json_get(ix, "status"));
        snprintf(s->index_status, sizeof s->index_status, "%s", st ? st : "?");
        const rb_json *q = rb_json_get(ix, "queryable");
        s->queryable = q && q->type == RB_JSON_BOOL ? q->boolean : -1;
    }
    rb_json_doc_destroy(doc);
}

static void read_collection(status *s) {
    const rb_job_config *cfg = s->cfg;
    rb_sink_opts so = {.uri = cfg->mongo_uri,
                       .database = cfg->mongo_database,
                       .collection = cfg->mongo_collection,
                       .timeout_ms = (int)s->timeout_ms,
                       .socket_timeout_ms = (int)s->timeout_ms,
                       .app_name = "ragbatch-status",
                       .probe_only = true};
    rb_error err;
    rb_sink *sink = rb_sink_new(&so, &err);
    int64_t all = 0;
    if (!sink || rb_sink_count(sink, false, &s->documents, &err) != 0 ||
        rb_sink_count(sink, true, &all, &err) != 0) {
        snprintf(s->mongo_error, sizeof s->mongo_error, "%s", err.msg);
        snprintf(s->index_error, sizeof s->index_error, "MongoDB not reached");
        s->failed = true;
        rb_sink_destroy(sink);
        return;
    }
    s->tombstones = all - s->documents;
    rb_buf name, cmd;
    rb_buf_init(&name);
    rb_buf_init(&cmd);
    if (rb_atlas_default_index_name(cfg->mongo_collection, &name) == 0)
        snprintf(s->index_name, sizeof s->index_name, "%s", name.data);
    rb_buf_puts(&cmd, "[{\"$listSearchIndexes\":{\"name\":");
    rb_buf_json_string(&cmd, s->index_name, strlen(s->index_name));
    rb_buf_puts(&cmd, "}}]");
    char *reply = NULL;
    int code = 0;
    if (cmd.data && rb_sink_aggregate_json(sink, cmd.data, &reply, &code, &err) == 0) {
        s->atlas = true;
        read_index_answer(s, reply ? reply : "[]");
    } else if (!rb_search_unsupported(code)) {
        snprintf(s->index_error, sizeof s->index_error, "%s", err.msg);
        s->failed = true;
    }
    free(reply);
    rb_buf_free(&name);
    rb_buf_free(&cmd);
    rb_sink_destroy(sink);
}

/* ---- output ------------------------------------------------------------- */

static void print_text(const status *s) {
    const rb_job_config *cfg = s->cfg;
    printf("job %s (group %s)\n", cfg->job_name, s->group);
    if (s->offsets_error[0]) {
        printf("offsets: cannot be read: %s\n", s->offsets_error);
    } else {
        printf("  %-30s %9s %12s %12s %10s\n", "topic", "partition", "committed", "end", "lag");
        for (size_t i = 0; i < s->nparts; i++) {
            const rb_kafka_partition_offsets *o = &s->parts[i].o;
            char committed[24];
            if (o->committed >= 0)
                snprintf(committed, sizeof committed, "%" PRId64, o->committed);
            else
                snprintf(committed, sizeof committed, "-");
            int64_t from = o->committed >= 0 ? o->committed : o->low;
            printf("  %-30s %9d %12s %12" PRId64 " %10" PRId64 "\n", s->parts[i].topic,
                   (int)o->partition, committed, o->high, o->high > from ? o->high - from : 0);
        }
        printf("  lag: %" PRId64 "\n", s->lag);
    }
    if (s->run == RUN_UNKNOWN) {
        printf("run: unknown: %s\n", s->run_why);
    } else if (s->run == RUN_NOT_RUNNING) {
        printf("run: not running at %s (%s)\n", s->metrics_url, s->run_why);
    } else {
        printf("run: running (%s)", s->metrics_url);
        if (s->have_last && s->last_batch_s > 0) {
            char when[RB_RFC3339_SIZE];
            rb_rfc3339_format((int64_t)(s->last_batch_s * 1000), when);
            printf("; last batch %s (%.0f s ago)", when, (double)time(NULL) - s->last_batch_s);
        } else {
            printf("; no batch committed yet");
        }
        if (s->have_batches) printf("; %.0f batches", s->batches);
        printf("\n  records:");
        for (size_t i = 0; i < N_OUTCOMES; i++)
            printf(" %s=%.0f", outcomes[i], s->have_record[i] ? s->records[i] : 0);
        printf("\n");
    }
    if (!cfg->dlq_topic[0]) {
        printf("dlq: none (errors.deadletterqueue.topic.name is empty)\n");
    } else if (s->dlq_error[0]) {
        printf("dlq %s: cannot be read: %s\n", cfg->dlq_topic, s->dlq_error);
    } else {
        printf("dlq %s: %" PRIu64 " records", cfg->dlq_topic, s->dlq_total);
        for (size_t i = 0; i < s->nstages; i++)
            printf("%s %s=%" PRIu64, i ? "," : ";", s->stages[i].stage, s->stages[i].n);
        printf("\n");
    }
    if (s->mongo_error[0])
        printf("collection %s.%s: cannot be read: %s\n", cfg->mongo_database,
               cfg->mongo_collection, s->mongo_error);
    else
        printf("collection %s.%s: %" PRId64 " documents, %" PRId64 " tombstones\n",
               cfg->mongo_database, cfg->mongo_collection, s->documents, s->tombstones);
    if (s->index_error[0])
        printf("index: cannot be read: %s\n", s->index_error);
    else if (!s->atlas)
        printf("index: not Atlas (the server has no search indexes; search is exact)\n");
    else if (!s->index_found)
        printf("index %s: missing (ragbatch index create)\n", s->index_name);
    else
        printf("index %s: %s%s\n", s->index_name, s->index_status,
               s->queryable == 1   ? ", queryable"
               : s->queryable == 0 ? ", not queryable"
                                   : "");
}

static void json_str(rb_buf *b, const char *s) { rb_buf_json_string(b, s, strlen(s)); }

static void json_error_or(rb_buf *b, const char *error) {
    rb_buf_puts(b, "\"error\":");
    if (error[0])
        json_str(b, error);
    else
        rb_buf_puts(b, "null");
}

static void print_json(const status *s) {
    const rb_job_config *cfg = s->cfg;
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_puts(&b, "{\"job\":");
    json_str(&b, cfg->job_name);
    rb_buf_puts(&b, ",\"group\":");
    json_str(&b, s->group);
    rb_buf_puts(&b, ",\"offsets\":{");
    json_error_or(&b, s->offsets_error);
    rb_buf_printf(&b, ",\"lag\":%" PRId64 ",\"partitions\":[", s->lag);
    for (size_t i = 0; i < s->nparts; i++) {
        const rb_kafka_partition_offsets *o = &s->parts[i].o;
        int64_t from = o->committed >= 0 ? o->committed : o->low;
        rb_buf_puts(&b, i ? ",{\"topic\":" : "{\"topic\":");
        json_str(&b, s->parts[i].topic);
        rb_buf_printf(&b, ",\"partition\":%d,\"committed\":", (int)o->partition);
        if (o->committed >= 0)
            rb_buf_printf(&b, "%" PRId64, o->committed);
        else
            rb_buf_puts(&b, "null");
        rb_buf_printf(&b, ",\"start\":%" PRId64 ",\"end\":%" PRId64 ",\"lag\":%" PRId64 "}",
                      o->low, o->high, o->high > from ? o->high - from : 0);
    }
    static const char *const states[] = {"unknown", "not_running", "running"};
    rb_buf_printf(&b, "]},\"run\":{\"state\":\"%s\",\"metrics_url\":", states[s->run]);
    if (s->metrics_url[0])
        json_str(&b, s->metrics_url);
    else
        rb_buf_puts(&b, "null");
    rb_buf_puts(&b, ",\"reason\":");
    if (s->run_why[0])
        json_str(&b, s->run_why);
    else
        rb_buf_puts(&b, "null");
    if (s->run == RUN_RUNNING) {
        rb_buf_puts(&b, ",\"last_batch_time\":");
        if (s->have_last && s->last_batch_s > 0) {
            char when[RB_RFC3339_SIZE];
            rb_rfc3339_format((int64_t)(s->last_batch_s * 1000), when);
            json_str(&b, when);
        } else {
            rb_buf_puts(&b, "null");
        }
        rb_buf_printf(&b, ",\"batches\":%.0f,\"records\":{", s->have_batches ? s->batches : 0);
        for (size_t i = 0; i < N_OUTCOMES; i++)
            rb_buf_printf(&b, "%s\"%s\":%.0f", i ? "," : "", outcomes[i],
                          s->have_record[i] ? s->records[i] : 0);
        rb_buf_putc(&b, '}');
    }
    rb_buf_puts(&b, "},\"dlq\":");
    if (!cfg->dlq_topic[0]) {
        rb_buf_puts(&b, "null");
    } else {
        rb_buf_puts(&b, "{\"topic\":");
        json_str(&b, cfg->dlq_topic);
        rb_buf_putc(&b, ',');
        json_error_or(&b, s->dlq_error);
        rb_buf_printf(&b, ",\"records\":%" PRIu64 ",\"by_stage\":{", s->dlq_total);
        for (size_t i = 0; i < s->nstages; i++) {
            if (i) rb_buf_putc(&b, ',');
            json_str(&b, s->stages[i].stage);
            rb_buf_printf(&b, ":%" PRIu64, s->stages[i].n);
        }
        rb_buf_puts(&b, "}}");
    }
    rb_buf_puts(&b, ",\"collection\":{\"database\":");
    json_str(&b, cfg->mongo_database);
    rb_buf_puts(&b, ",\"collection\":");
    json_str(&b, cfg->mongo_collection);
    rb_buf_putc(&b, ',');
    json_error_or(&b, s->mongo_error);
    rb_buf_printf(&b, ",\"documents\":%" PRId64 ",\"tombstones\":%" PRId64 "}", s->documents,
                  s->tombstones);
    rb_buf_puts(&b, ",\"index\":{\"name\":");
    json_str(&b, s->index_name);
    rb_buf_putc(&b, ',');
    json_error_or(&b, s->index_error);
    rb_buf_printf(&b, ",\"atlas\":%s,\"exists\":%s,\"status\":", s->atlas ? "true" : "false",
                  s->index_found ? "true" : "false");
    if (s->index_found)
        json_str(&b, s->index_status);
    else
        rb_buf_puts(&b, "null");
    rb_buf_printf(&b, ",\"queryable\":%s}}\n",
                  s->queryable == 1   ? "true"
                  : s->queryable == 0 ? "false"
                                      : "null");
    if (b.data) fputs(b.data, stdout);
    rb_buf_free(&b);
}

int rb_cmd_status(int argc, char **argv) {
    enum { OPT_SET = 1, OPT_JSON, OPT_METRICS_URL, OPT_TIMEOUT };
    static const rb_cli_option options[] = {
        {"--set", 0, true, OPT_SET},
        {"--json", 0, false, OPT_JSON},
        {"--metrics-url", 0, true, OPT_METRICS_URL},
        {"--timeout-ms", 0, true, OPT_TIMEOUT},
    };
    const char *path = NULL, *metrics_url = NULL;
    char *sets[RB_CLI_MAX_SETS];
    size_t nsets = 0;
    bool json = false;
    long timeout_ms = DEFAULT_TIMEOUT_MS;
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    rb_error err;
    const char *value;
    int id;
    while ((id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        switch (id) {
        case RB_CLI_ERROR: return rb_cli_usage_error("status", &err);
        case RB_CLI_HELP: fputs(usage, stdout); return 0;
        case RB_CLI_OPERAND:
            if (path) {
                fprintf(stderr, "ragbatch status: one job file only ('%s' and '%s')\n", path,
                        value);
                return 2;
            }
            path = value;
            break;
        case OPT_SET:
            if (rb_cli_add_set("status", sets, &nsets, value) != 0) return 2;
            break;
        case OPT_JSON: json = true; break;
        case OPT_METRICS_URL: metrics_url = value; break;
        case OPT_TIMEOUT:
            if (rb_cli_long("--timeout-ms", value, 1, 600000, &timeout_ms, &err) != 0)
                return rb_cli_usage_error("status", &err);
            break;
        }
    }
    if (!path) {
        fputs(usage, stderr);
        return 2;
    }
    rb_job_config cfg;
    int st = rb_cli_load_job(path, sets, nsets, &cfg);
    if (st != 0) {
        rb_job_config_free(&cfg);
        return st;
    }
    status s;
    memset(&s, 0, sizeof s);
    s.cfg = &cfg;
    s.timeout_ms = timeout_ms;
    s.queryable = -1;
    const char *group = NULL;
    for (size_t i = 0; i < cfg.kafka_count; i++)
        if (strcmp(cfg.kafka[i].key, "group.id") == 0) group = cfg.kafka[i].value;
    if (group)
        snprintf(s.group, sizeof s.group, "%s", group);
    else
        snprintf(s.group, sizeof s.group, "ragbatch-%s", cfg.job_name);
    rb_sink_global_init();
    read_offsets(&s);
    read_run(&s, metrics_url);
    read_dlq(&s);
    read_collection(&s);
    rb_sink_global_cleanup();
    if (json)
        print_json(&s);
    else
        print_text(&s);
    free(s.parts);
    rb_job_config_free(&cfg);
    return s.failed ? 1 : 0;
}
