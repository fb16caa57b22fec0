/*
 * cmd_run.c -- `ragbatch run JOB`, `ragbatch check JOB`, `ragbatch config`.
 */
#include "cli/commands.h"

#include "cli/job_args.h"
#include "runner/runner.h"
#include "sink/sink.h"
#include "validate/rfc3339.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SETS 64

/* The one piece of mutable static state: a signal handler can reach
 * nothing else.  The runner reads it through a pointer. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = stop_requested + 1;
}

static void usage_run(FILE *out, const char *verb) {
    if (strcmp(verb, "check") == 0) {
        fputs("usage: ragbatch check JOBFILE [--set KEY=VALUE]...\n"
              "Validates the job file and prints its effective configuration (secrets "
              "masked).\n",
              out);
        return;
    }
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

typedef struct run_args {
    const char *path;
    char *sets[MAX_SETS];
    size_t nsets;
    bool until_caught_up;
    bool help;
} run_args;

/* Returns 0 or an exit status. */
static int parse_args(int argc, char **argv, bool allow_until, run_args *a) {
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            a->help = true;
        } else if (strcmp(arg, "--set") == 0 || (allow_until && strcmp(arg, "--until") == 0)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ragbatch %s: %s needs a value\n", argv[0], arg);
                return 2;
            }
            const char *value = argv[++i];
            if (arg[2] == 'u') {
                if (strcmp(value, "caught-up") != 0) {
                    fprintf(stderr, "ragbatch %s: --until takes 'caught-up', not '%s'\n",
                            argv[0], value);
                    return 2;
                }
                a->until_caught_up = true;
            } else if (a->nsets == MAX_SETS) {
                fprintf(stderr, "ragbatch %s: more than %d --set options\n", argv[0], MAX_SETS);
                return 2;
            } else {
                a->sets[a->nsets++] = argv[i];
            }
        } else if (arg[0] == '-') {
            fprintf(stderr, "ragbatch %s: unknown option '%s' (see ragbatch %s --help)\n",
                    argv[0], arg, argv[0]);
            return 2;
        } else if (a->path) {
            fprintf(stderr, "ragbatch %s: one job file only ('%s' and '%s')\n", argv[0], a->path,
                    arg);
            return 2;
        } else {
            a->path = arg;
        }
    }
    if (!a->path && !a->help) {
        usage_run(stderr, argv[0]);
        return 2;
    }
    return 0;
}

static int run_job(int argc, char **argv, const rb_backfill *backfill) {
    run_args a;
    int status = parse_args(argc, argv, true, &a);
    if (status != 0) return status;
    if (a.help) {
        usage_run(stdout, "run");
        return 0;
    }
    rb_job_config cfg;
    status = rb_cli_load_job(a.path, a.sets, a.nsets, &cfg);
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
    rb_runner_opts opts = {
        .until_caught_up = a.until_caught_up, .stop = &stop_requested, .backfill = backfill};
    rb_runner_totals totals;
    rb_error err;
    int rc = rb_runner_run(&cfg, &opts, &totals, &err);
    rb_sink_global_cleanup();
    fprintf(stderr,
            "ragbatch: %s: batches=%llu in=%zu stored=%zu deleted=%zu stale=%zu reused=%zu "
            "skipped=%zu dead_lettered=%zu failed=%zu\n",
            rc == 0 ? "finished" : "failed", (unsigned long long)totals.batches, totals.counts.in,
            totals.counts.stored, totals.counts.deleted, totals.counts.stale,
            totals.counts.reused, totals.counts.skipped, totals.counts.dead_lettered,
            totals.counts.failed);
    if (rc != 0) fprintf(stderr, "ragbatch: %s\n", err.msg);
    rb_job_config_free(&cfg);
    if (rc == 0) return 0;
    return err.code == RB_ERR_CONFIG || err.code == RB_ERR_MODEL ? 2 : 1;
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

int rb_cmd_backfill(int argc, char **argv) {
    rb_backfill_point from[64], to[64];
    rb_backfill bf = {.from_time_ms = -1, .to_time_ms = -1, .from = from, .to = to};
    char *rest[MAX_SETS * 2 + 2];
    int nrest = 0;
    int starts = 0;
    rest[nrest++] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool v = i + 1 < argc;
        if (strcmp(arg, "--from-beginning") == 0) {
            bf.from_beginning = true;
            starts++;
        } else if ((strcmp(arg, "--from-timestamp") == 0 || strcmp(arg, "--to-timestamp") == 0) && v) {
            int64_t ms;
            if (rb_rfc3339_parse(argv[i + 1], &ms) != 0) {
                fprintf(stderr, "ragbatch backfill: %s takes an RFC 3339 time, not '%s'\n", arg,
                        argv[i + 1]);
                return 2;
            }
            if (arg[2] == 'f') {
                bf.from_time_ms = ms;
                starts++;
            } else {
                bf.to_time_ms = ms;
            }
            i++;
        } else if ((strcmp(arg, "--from-offsets") == 0 || strcmp(arg, "--to-offsets") == 0) && v) {
            bool is_from = arg[2] == 'f';
            if (parse_points(argv[++i], is_from ? from : to, 64,
                             is_from ? &bf.from_count : &bf.to_count) != 0) {
                fprintf(stderr, "ragbatch backfill: %s takes topic:partition=offset[,...]\n", arg);
                return 2;
            }
            starts += is_from;
        } else if (strcmp(arg, "--until") == 0) {
            fputs("ragbatch backfill: a backfill always ends at its range's end\n", stderr);
            return 2;
        } else if (nrest < (int)(sizeof rest / sizeof rest[0]) - 1) {
            rest[nrest++] = argv[i];
        }
    }
    if (starts != 1) {
        fputs("usage: ragbatch backfill JOBFILE (--from-beginning | --from-timestamp RFC3339 |\n"
              "                          --from-offsets topic:partition=offset,...)\n"
              "                         [--to-timestamp RFC3339 | --to-offsets ...] [--set K=V]...\n"
              "Re-processes a range of the job's topics and exits 0 at its end.  It commits to\n"
              "the group \"<group.id>-backfill\": the live stream's offsets are untouched, and\n"
              "versioned upserts make running it twice safe.\n",
              starts == 0 && argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return starts == 0 && argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    return run_job(nrest, rest, &bf);
}

int rb_cmd_run(int argc, char **argv) { return run_job(argc, argv, NULL); }

int rb_cmd_check(int argc, char **argv) {
    run_args a;
    int status = parse_args(argc, argv, false, &a);
    if (status != 0) return status;
    if (a.help) {
        usage_run(stdout, "check");
        return 0;
    }
    rb_job_config cfg;
    status = rb_cli_load_job(a.path, a.sets, a.nsets, &cfg);
    if (status == 0) {
        printf("# %s: valid\n", cfg.source_file);
        rb_job_config_print(&cfg, stdout);
    }
    rb_job_config_free(&cfg);
    return status;
}

int rb_cmd_config(int argc, char **argv) {
    bool markdown = argc > 1 && strcmp(argv[1], "--markdown") == 0;
    if (argc > 2 || (argc == 2 && !markdown)) {
        fputs("usage: ragbatch config [--markdown]\n"
              "Lists every job key with its type, default and meaning.\n",
              argc == 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    rb_config_print_reference(stdout, markdown);
    return 0;
}
