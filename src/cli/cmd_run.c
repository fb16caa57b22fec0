/*
 * cmd_run.c -- `ragbatch run JOB` and `ragbatch check JOB`.
 */
#include "cli/commands.h"

#include "config/config.h"
#include "runner/runner.h"
#include "sink/sink.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* The one piece of mutable static state: a signal handler can reach
 * nothing else.  The runner reads it through a pointer. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = stop_requested + 1;
}

static void usage_run(FILE *out) {
    fputs("usage: ragbatch run JOBFILE [--until caught-up] [--set KEY=VALUE]...\n"
          "\n"
          "Runs the job's micro-batch stream: Kafka -> validate -> text -> embed -> MongoDB,\n"
          "committing offsets only after each batch is stored.\n"
          "  --until caught-up   process up to the end offsets seen at start, then exit 0\n"
          "  --set KEY=VALUE     override a job key (repeatable)\n"
          "SIGINT/SIGTERM finish and commit the batch in hand, then exit 0.\n"
          "Exit status: 0 done, 1 the job failed (see the last log line), 2 usage or "
          "configuration error.\n",
          out);
}

/* Loads the job file and the --set overrides; returns an exit status. */
static int load_job(int argc, char **argv, rb_job_config *cfg, bool *until_caught_up) {
    const char *path = NULL;
    rb_error err;
    if (rb_job_config_init(cfg, &err) != 0) {
        fprintf(stderr, "ragbatch: %s\n", err.msg);
        return 1;
    }
    /* First pass: the file; the --set overrides apply after it. */
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 || strcmp(argv[i], "--until") == 0) {
            i++;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage_run(stdout);
            return -1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "ragbatch %s: unknown option '%s'\n", argv[0], argv[i]);
            return 2;
        } else if (path) {
            fprintf(stderr, "ragbatch %s: one job file only ('%s' and '%s')\n", argv[0], path,
                    argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage_run(stderr);
        return 2;
    }
    if (rb_job_config_load(cfg, path, &err) != 0) {
        fprintf(stderr, "ragbatch: %s\n", err.msg);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--set") == 0 || strcmp(argv[i], "--until") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "ragbatch %s: %s needs a value\n", argv[0], argv[i]);
                return 2;
            }
            if (strcmp(argv[i], "--until") == 0) {
                if (strcmp(argv[i + 1], "caught-up") != 0) {
                    fprintf(stderr, "ragbatch %s: --until takes 'caught-up', not '%s'\n",
                            argv[0], argv[i + 1]);
                    return 2;
                }
                if (until_caught_up) *until_caught_up = true;
            } else if (rb_job_config_set(cfg, argv[i + 1], "--set", &err) != 0) {
                fprintf(stderr, "ragbatch: %s\n", err.msg);
                return 2;
            }
            i++;
        }
    }
    if (rb_job_config_check(cfg, &err) != 0) {
        fprintf(stderr, "ragbatch: %s\n", err.msg);
        return 2;
    }
    return 0;
}

int rb_cmd_run(int argc, char **argv) {
    rb_job_config cfg;
    bool until = false;
    int status = load_job(argc, argv, &cfg, &until);
    if (status != 0) {
        rb_job_config_free(&cfg);
        return status < 0 ? 0 : status;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    rb_sink_global_init();
    rb_runner_opts opts = {.until_caught_up = until, .stop = &stop_requested};
    rb_runner_totals totals;
    rb_error err;
    int rc = rb_runner_run(&cfg, &opts, &totals, &err);
    rb_sink_global_cleanup();
    fprintf(stderr,
            "ragbatch: %s: batches=%llu in=%zu stored=%zu deleted=%zu stale=%zu skipped=%zu "
            "failed=%zu\n",
            rc == 0 ? "finished" : "failed", (unsigned long long)totals.batches, totals.counts.in,
            totals.counts.stored, totals.counts.deleted, totals.counts.stale,
            totals.counts.skipped, totals.counts.failed);
    if (rc != 0) fprintf(stderr, "ragbatch: %s\n", err.msg);
    rb_job_config_free(&cfg);
    return rc == 0 ? 0 : (err.code == RB_ERR_CONFIG || err.code == RB_ERR_MODEL ? 2 : 1);
}

int rb_cmd_check(int argc, char **argv) {
    rb_job_config cfg;
    int status = load_job(argc, argv, &cfg, NULL);
    if (status == 0) {
        printf("# %s: valid\n", cfg.source_file);
        rb_job_config_print(&cfg, stdout);
    }
    rb_job_config_free(&cfg);
    return status < 0 ? 0 : status;
}

int rb_cmd_config(int argc, char **argv) {
    bool markdown = argc > 1 && strcmp(argv[1], "--markdown") == 0;
    if (argc > 2 || (argc == 2 && !markdown)) {
        fputs("usage: ragbatch config [--markdown]\n", stderr);
        return 2;
    }
    rb_config_print_reference(stdout, markdown);
    return 0;
}
