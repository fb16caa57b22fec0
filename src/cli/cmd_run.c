/*
 * cmd_run.c -- `ragbatch run JOB`, `ragbatch backfill JOB`, `ragbatch config`.
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "cli/job_args.h"
#include "runner/runner.h"
#include "sink/sink.h"
#include "common/rfc3339.h"
#include "kafka/properties.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTS 64

/* The one piece of mutable static state: a signal handler can reach
 * nothing else.  The runner reads it through a pointer. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = stop_requested + 1;
}

static void usage_run(FILE *out, const char *verb) {
    fputs("usage: ragbatch run JOBFILE [--until caught-up] [--set KEY=VALUE]...\n"
          "\n"
          "Runs the job's micro-batch stream: Kafka -> validate -> text -> embed -> MongoDB,\n"
          "committing offsets only after each batch is stored.\n"
          "  --until caught-up   process up to the end offsets seen at start, then exit 0\n"
          "  --set KEY=VALUE     override a job key (repeatable)\n"
          "SIGINT/SIGTERM finish and commit the batch in hand, then exit 0; a batch that\n"
          "cannot finish within shutdown.timeout.ms is given up uncommitted (read again later).\n"
          "Exit status: 0 done, 1 the job failed (see the last log line), 2 usage or "
          "configuration error.\n",
          out);
}

/* "topic:partition=offset[,topic:partition=offset...]" into points whose
 * topic names point into `spec` (modified in place). */
static int parse_points(char *spec, rb_backfill_point *pts, size_t cap, size_t *n) {
    *n = 0;
    for (char *item = spec; item && *item;) {
        char *comma = strchr(item, ',');
        if (comma) *comma = '\0';
        char *colon = strrchr(item, ':'), *eq = strchr(item, '=');
        char *end1 = NULL, *end2 = NULL;
        if (!colon || !eq || eq < colon || *n == cap) return -1;
        *colon = '\0';
        long p = strtol(colon + 1, &end1, 10);
        long long o = strtoll(eq + 1, &end2, 10);
        if (end1 != eq || *end2 != '\0' || p < 0 || o < 0 || !item[0]) return -1;
        pts[(*n)++] = (rb_backfill_point){item, (int32_t)p, (int64_t)o};
        item = comma ? comma + 1 : NULL;
    }
    return 0;
}

typedef struct run_args {
    const char *path;
    char *sets[RB_CLI_MAX_SETS];
    size_t nsets;
    bool until_caught_up;
    bool help;
} run_args;

enum {
    OPT_SET = 1,
    OPT_UNTIL,
    OPT_FROM_BEGINNING,
    OPT_FROM_TIMESTAMP,
    OPT_TO_TIMESTAMP,
    OPT_FROM_OFFSETS,
    OPT_TO_OFFSETS
};

static const rb_cli_option run_options[] = {
    {"--set", 0, true, OPT_SET},
    {"--until", 0, true, OPT_UNTIL},
};

static const rb_cli_option backfill_options[] = {
    {"--set", 0, true, OPT_SET},
    {"--until", 0, true, OPT_UNTIL},
    {"--from-beginning", 0, false, OPT_FROM_BEGINNING},
    {"--from-timestamp", 0, true, OPT_FROM_TIMESTAMP},
    {"--to-timestamp", 0, true, OPT_TO_TIMESTAMP},
    {"--from-offsets", 0, true, OPT_FROM_OFFSETS},
    {"--to-offsets", 0, true, OPT_TO_OFFSETS},
};

/* A backfill's range as its options give it; `bf` points into the arrays. */
typedef struct backfill_args {
    rb_backfill bf;
    rb_backfill_point from[MAX_POINTS], to[MAX_POINTS];
    int starts; /* how many of the three start options were given */
} backfill_args;

/* The arguments every job verb shares: the job file and --set; --until
 * for run.  Returns 0, or an exit status after printing why; with `bfa`
 * (backfill) its range options fill *bfa. */
static int parse_args(int argc, char **argv, const rb_cli_option *opts, size_t nopts, run_args *a,
                      backfill_args *bfa) {
    rb_backfill *bf = bfa ? &bfa->bf : NULL;
    memset(a, 0, sizeof *a);
    rb_cli_parser p;
    rb_cli_init(&p, opts, nopts, argc, argv);
    rb_error err;
    const char *value;
    int id;
    while ((id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        switch (id) {
        case RB_CLI_ERROR: return rb_cli_usage_error(argv[0], &err);
        case RB_CLI_HELP: a->help = true; break;
        case RB_CLI_OPERAND:
            if (a->path) {
                fprintf(stderr, "ragbatch %s: one job file only ('%s' and '%s')\n", argv[0],
                        a->path, value);
                return 2;
            }
            a->path = value;
            break;
        case OPT_SET:
            if (rb_cli_add_set(argv[0], a->sets, &a->nsets, value) != 0) return 2;
            break;
        case OPT_UNTIL:
            if (bf) {
                fputs("ragbatch backfill: a backfill always ends at its range's end\n", stderr);
                return 2;
            }
            if (strcmp(value, "caught-up") != 0) {
                fprintf(stderr, "ragbatch %s: --until takes 'caught-up', not '%s'\n", argv[0],
                        value);
                return 2;
            }
            a->until_caught_up = true;
            break;
        case OPT_FROM_BEGINNING:
            bf->from_beginning = true;
            bfa->starts++;
            break;
        case OPT_FROM_TIMESTAMP:
        case OPT_TO_TIMESTAMP: {
            int64_t ms;
            if (rb_rfc3339_parse(value, &ms) != 0) {
                fprintf(stderr, "ragbatch backfill: %s takes an RFC 3339 time, not '%s'\n",
                        rb_cli_current(&p), value);
                return 2;
            }
            if (id == OPT_FROM_TIMESTAMP) {
                bf->from_time_ms = ms;
                bfa->starts++;
            } else {
                bf->to_time_ms = ms;
            }
            break;
        }
        case OPT_FROM_OFFSETS:
        case OPT_TO_OFFSETS: {
            bool is_from = id == OPT_FROM_OFFSETS;
            /* The points' topic names point into the argument, cut in place. */
            if (parse_points((char *)value, is_from ? bfa->from : bfa->to, MAX_POINTS,
                             is_from ? &bf->from_count : &bf->to_count) != 0) {
                fprintf(stderr, "ragbatch backfill: %s takes topic:partition=offset[,...]\n",
                        rb_cli_current(&p));
                return 2;
            }
            bfa->starts += is_from;
            break;
        }
        }
    }
    if (!a->path && !a->help && !bf) {
        usage_run(stderr, argv[0]);
        return 2;
    }
    return 0;
}

static int run_job(const run_args *a, const rb_backfill *backfill) {
    rb_job_config cfg;
    int status = rb_cli_load_job(a->path, a->sets, a->nsets, &cfg);
    if (status != 0) {
        rb_job_config_free(&cfg);
        return status;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rb_sink_global_init();
    rb_runner_opts opts = {.until_caught_up = a->until_caught_up,
                           .stop = &stop_requested,
                           .backfill = backfill};
    rb_runner_totals totals;
    rb_error err;
    int rc = rb_runner_run(&cfg, &opts, &totals, &err);
    rb_sink_global_cleanup();
    /* The closing line is a log line like every other, in the job's format. */
    rb_log log;
    rb_log_init(&log);
    log.format = cfg.log_format;
    log.job = cfg.job_name;
    rb_log_kv(&log, rc == 0 ? RB_LOG_INFO : RB_LOG_ERROR, rc == 0 ? "finished" : "failed",
              RB_LOG_FIELDS(RB_LOG_U("batches", totals.batches), RB_LOG_U("in", totals.counts.in),
                            RB_LOG_U("stored", totals.counts.stored),
                            RB_LOG_U("deleted", totals.counts.deleted),
                            RB_LOG_U("stale", totals.counts.stale),
                            RB_LOG_U("reused", totals.counts.reused),
                            RB_LOG_U("skipped", totals.counts.skipped),
                            RB_LOG_U("dead_lettered", totals.counts.dead_lettered),
                            RB_LOG_U("failed", totals.counts.failed),
                            RB_LOG_S("error.message", rc != 0 ? err.msg : NULL)),
              "%s", rc == 0 ? "finished" : "failed");
    rb_job_config_free(&cfg);
    if (rc == 0) return 0;
    return err.code == RB_ERR_CONFIG || err.code == RB_ERR_MODEL ? 2 : 1;
}

static void usage_backfill(FILE *out) {
    fputs("usage: ragbatch backfill JOBFILE (--from-beginning | --from-timestamp RFC3339 |\n"
          "                          --from-offsets topic:partition=offset,...)\n"
          "                         [--to-timestamp RFC3339 | --to-offsets ...] [--set K=V]...\n"
          "Re-processes a range of the job's topics and exits 0 at its end.  It commits to\n"
          "the group \"<group.id>-backfill\": the live stream's offsets are untouched, and\n"
          "versioned upserts make running it twice safe.\n",
          out);
}

int rb_cmd_backfill(int argc, char **argv) {
    backfill_args bfa;
    memset(&bfa, 0, sizeof bfa);
    bfa.bf = (rb_backfill){.from_time_ms = -1, .to_time_ms = -1, .from = bfa.from, .to = bfa.to};
    run_args a;
    int status = parse_args(argc, argv, backfill_options,
                            sizeof backfill_options / sizeof backfill_options[0], &a, &bfa);
    if (status != 0) return status;
    if (a.help) {
        usage_backfill(stdout);
        return 0;
    }
    if (bfa.starts != 1 || !a.path) {
        usage_backfill(stderr);
        return 2;
    }
    return run_job(&a, &bfa.bf);
}

int rb_cmd_run(int argc, char **argv) {
    run_args a;
    int status =
        parse_args(argc, argv, run_options, sizeof run_options / sizeof run_options[0], &a, NULL);
    if (status != 0) return status;
    if (a.help) {
        usage_run(stdout, "run");
        return 0;
    }
    return run_job(&a, NULL);
}

int rb_cmd_config(int argc, char **argv) {
    enum { OPT_MARKDOWN = 1, OPT_KAFKA };
    static const rb_cli_option options[] = {{"--markdown", 0, false, OPT_MARKDOWN},
                                            {"--kafka", 0, false, OPT_KAFKA}};
    static const char usage[] =
        "usage: ragbatch config [--markdown | --kafka]\n"
        "Lists every job key with its type, default and meaning.\n"
        "  --markdown  the same as a Markdown table (the README's reference)\n"
        "  --kafka     the kafka.* keys: every property of the linked librdkafka, with\n"
        "              who reads it (consumer, producer, both) and its importance\n";
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    rb_error err;
    const char *value;
    bool markdown = false, kafka = false;
    int id;
    while ((id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        if (id == RB_CLI_ERROR) return rb_cli_usage_error("config", &err);
        if (id == RB_CLI_HELP) {
            fputs(usage, stdout);
            return 0;
        }
        if (id == RB_CLI_OPERAND) {
            fputs(usage, stderr);
            return 2;
        }
        if (id == OPT_MARKDOWN) markdown = true;
        if (id == OPT_KAFKA) kafka = true;
    }
    if (markdown && kafka) {
        fputs("ragbatch config: --markdown and --kafka are two listings; choose one\n", stderr);
        fputs(usage, stderr);
        return 2;
    }
    if (kafka) {
        rb_error_clear(&err);
        if (rb_kafka_properties_print(stdout, &err) != 0) {
            fprintf(stderr, "ragbatch config: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    rb_config_print_reference(stdout, markdown);
    return 0;
}
