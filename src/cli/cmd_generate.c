/*
 * cmd_generate.c -- `ragbatch generate`: product events into Kafka (or
 * stdout), at a steady rate, with an optional manifest of the final state.
 *
 * The verb owns the whole run: it parses its flags, drives the generator,
 * paces with a token bucket (sleeping, never spinning), produces through
 * the generate module's producer, and only after every delivery report is
 * in does it write the manifest.  A first SIGINT/SIGTERM stops generating
 * and flushes what was produced; a second one purges what is still queued.
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "common/error.h"
#include "common/log.h"
#include "generate/generate.h"
#include "generate/pacer.h"
#include "generate/producer.h"
#include "common/rfc3339.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130

static const char usage_text[] =
    "Usage: ragbatch generate --topic T --count N [options]\n"
    "\n"
    "Writes synthetic product events (created/updated/deleted, keyed by\n"
    "product_id) to a Kafka topic, or as JSON lines to stdout.\n"
    "\n"
    "  --topic T              topic to produce to (not needed with --stdout)\n"
    "  --count N              number of events; 0 runs until interrupted\n"
    "  --rate R               events per second, steadily paced (default: as fast\n"
    "                         as possible)\n"
    "  --products P           size of the product pool (default 1000)\n"
    "  --seed S               random seed; same seed, same events (default 1)\n"
    "  --malformed F          share of deliberately malformed events, 0..1\n"
    "                         (not JSON, truncated, invalid UTF-8, schema\n"
    "                         violations; default 0)\n"
    "  --delete-share F       share of events on live products that delete\n"
    "                         them, 0..1 (default 0)\n"
    "  --sequential           visit products in order instead of at random: with\n"
    "                         --products >= --count, every event creates a new\n"
    "                         product (a catalogue load, for benchmarks)\n"
    "  --start-time TIME      event_time of the first event (RFC 3339); later\n"
    "                         events are 1 ms apart, making output fully\n"
    "                         reproducible (default: the wall clock)\n"
    "  --bootstrap HOST:PORT  Kafka bootstrap servers (default: environment\n"
    "                         variable RAGBATCH_KAFKA_BOOTSTRAP)\n"
    "  -X NAME=VALUE          librdkafka producer property (repeatable; a\n"
    "                         \"kafka.\" prefix is dropped), e.g. -X linger.ms=20\n"
    "  --manifest FILE        after all deliveries are confirmed, write the\n"
    "                         expected final state of every product and a\n"
    "                         summary as JSON lines\n"
    "  --stdout               write events as JSON lines to stdout, not Kafka\n"
    "  -q, --quiet            only errors on stderr (no progress or summary)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 when every event was delivered, 1 on a failure (a failed\n"
    "delivery names the topic and the error), 2 on a usage error, 130 when\n"
    "interrupted (after flushing what was produced).\n";

/* The signal handler's only channel to the loop; counts signals so that a
 * second one can cut the flush short.  The one piece of global mutable
 * state, as a signal handler cannot be given a context pointer. */
static volatile sig_atomic_t stop_signals;

static void on_stop_signal(int sig) {
    (void)sig;
    if (stop_signals < 2) stop_signals++;
}

typedef struct gen_args {
    const char *topic;
    uint64_t count;
    bool count_set;
    double rate;
    rb_gen_options gen;
    const char *bootstrap;
    const char **props;
    size_t nprops;
    const char *manifest;
    const char *start_time;
    bool to_stdout;
    bool quiet;
} gen_args;

static int usage_error(const char *flag, const char *what) {
    fprintf(stderr, "ragbatch generate: %s %s (see 'ragbatch generate --help')\n", flag, what);
    return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, gen_args *a) {
    enum {
        OPT_TOPIC = 1,
        OPT_COUNT,
        OPT_RATE,
        OPT_PRODUCTS,
        OPT_SEED,
        OPT_MALFORMED,
        OPT_SEQUENTIAL,
        OPT_DELETE_SHARE,
        OPT_START_TIME,
        OPT_BOOTSTRAP,
        OPT_PROP,
        OPT_MANIFEST,
        OPT_STDOUT,
        OPT_QUIET
    };
    static const rb_cli_option options[] = {
        {"--topic", 0, true, OPT_TOPIC},
        {"--count", 0, true, OPT_COUNT},
        {"--rate", 0, true, OPT_RATE},
        {"--products", 0, true, OPT_PRODUCTS},
        {"--seed", 0, true, OPT_SEED},
        {"--malformed", 0, true, OPT_MALFORMED},
        {"--sequential", 0, false, OPT_SEQUENTIAL},
        {"--delete-share", 0, true, OPT_DELETE_SHARE},
        {"--start-time", 0, true, OPT_START_TIME},
        {"--bootstrap", 0, true, OPT_BOOTSTRAP},
        {NULL, 'X', true, OPT_PROP},
        {"--manifest", 0, true, OPT_MANIFEST},
        {"--stdout", 0, false, OPT_STDOUT},
        {"--quiet", 'q', false, OPT_QUIET},
    };
    memset(a, 0, sizeof *a);
    rb_gen_options_init(&a->gen);
    a->props = calloc((size_t)argc + 1, sizeof *a->props);
    if (!a->props) {
        fputs("ragbatch generate: out of memory\n", stderr);
        return 1;
    }
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    rb_error err;
    const char *v;
    int id;
    while ((id = rb_cli_next(&p, &v, &err)) != RB_CLI_END) {
        uint64_t u;
        int rc = 0;
        switch (id) {
        case RB_CLI_ERROR: return rb_cli_usage_error("generate", &err);
        case RB_CLI_HELP: fputs(usage_text, stdout); return -1;
        case RB_CLI_OPERAND:
            fprintf(stderr,
                    "ragbatch generate: unexpected argument '%s' (see 'ragbatch generate "
                    "--help')\n",
                    v);
            return EXIT_USAGE;
        case OPT_TOPIC:
            if (!*v) return usage_error("--topic", "must not be empty");
            a->topic = v;
            break;
        case OPT_COUNT:
            rc = rb_cli_u64("--count", v, 0, UINT64_MAX / 2, &a->count, &err);
            a->count_set = true;
            break;
        case OPT_RATE: rc = rb_cli_double("--rate", v, 0.0, 1e8, &a->rate, &err); break;
        case OPT_PRODUCTS:
            rc = rb_cli_u64("--products", v, 1, 100000000, &u, &err);
            a->gen.products = (size_t)u;
            break;
        case OPT_SEED: rc = rb_cli_u64("--seed", v, 0, UINT64_MAX, &a->gen.seed, &err); break;
        case OPT_MALFORMED:
            rc = rb_cli_double("--malformed", v, 0.0, 1.0, &a->gen.malformed, &err);
            break;
        case OPT_SEQUENTIAL: a->gen.sequential = true; break;
        case OPT_DELETE_SHARE:
            rc = rb_cli_double("--delete-share", v, 0.0, 1.0, &a->gen.delete_share, &err);
            break;
        case OPT_START_TIME: {
            int64_t ms;
            if (rb_rfc3339_parse(v, &ms) != 0) {
                fprintf(stderr,
                        "ragbatch generate: --start-time '%s' is not an RFC 3339 time "
                        "like 2026-11-24T09:41:07.123Z\n",
                        v);
                return EXIT_USAGE;
            }
            a->start_time = v;
            break;
        }
        case OPT_BOOTSTRAP: a->bootstrap = v; break;
        case OPT_PROP:
            if (!strchr(v, '=') || v[0] == '=') {
                fprintf(stderr, "ragbatch generate: -X takes NAME=VALUE, not '%s'\n", v);
                return EXIT_USAGE;
            }
            a->props[a->nprops++] = v;
            break;
        case OPT_MANIFEST:
            if (!*v) return usage_error("--manifest", "needs a file name");
            a->manifest = v;
            break;
        case OPT_STDOUT: a->to_stdout = true; break;
        case OPT_QUIET: a->quiet = true; break;
        }
        if (rc) return rb_cli_usage_error("generate", &err);
    }
    if (!a->count_set) return usage_error("--count", "is required");
    if (!a->to_stdout) {
        if (!a->topic) return usage_error("--topic", "is required (or use --stdout)");
        if (!a->bootstrap) a->bootstrap = getenv("RAGBATCH_KAFKA_BOOTSTRAP");
        if (!a->bootstrap || !*a->bootstrap)
            return usage_error("--bootstrap", "not given and RAGBATCH_KAFKA_BOOTSTRAP is not set");
    }
    return 0;
}

static int64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ns(int64_t ns) {
    struct timespec ts = {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    nanosleep(&ts, NULL); /* EINTR is fine: the loop re-checks the clock and the stop flag */
}

/* Waits `ns`; with a producer, waits inside its poll so that delivery
 * reports are served meanwhile. */
static void wait_ns(rb_kafka_producer *prod, int64_t ns) {
    if (prod && ns >= 1000000)
        rb_kafka_producer_poll(prod, (int)(ns > 100000000 ? 100 : ns / 1000000));
    else
        sleep_ns(ns);
}

typedef struct run_state {
    const gen_args *a;
    const rb_log *log;
    rb_gen *gen;
    rb_kafka_producer *prod;
    int64_t start_ns;
    int64_t last_progress_ns;
} run_state;

static void progress(run_state *s, const char *phase) {
    const rb_gen_counts *c = rb_gen_get_counts(s->gen);
    double secs = (double)(mono_ns() - s->start_ns) * 1e-9;
    /* count 0 is unbounded: the total is then left out. */
    const rb_log_field common[] = {
        RB_LOG_S("phase", phase),
        RB_LOG_U("events", c->produced),
        s->a->count ? RB_LOG_U("events_total", s->a->count) : RB_LOG_S("events_total", NULL),
        RB_LOG_D("rate_per_s", secs > 0 ? (double)c->produced / secs : 0.0),
        RB_LOG_U("malformed", c->malformed),
        RB_LOG_U("deletes", c->deleted),
    };
    if (s->prod) {
        const rb_kafka_delivery *d = rb_kafka_producer_delivery(s->prod);
        rb_log_field all[sizeof common / sizeof common[0] + 3];
        memcpy(all, common, sizeof common);
        size_t n = sizeof common / sizeof common[0];
        all[n++] = RB_LOG_U("delivered", d->delivered);
        all[n++] = RB_LOG_U("failed", d->failed);
        all[n++] = RB_LOG_U("outstanding", rb_kafka_producer_outstanding(s->prod));
        rb_log_kv(s->log, RB_LOG_INFO, "progress", all, n, NULL);
    } else {
        rb_log_kv(s->log, RB_LOG_INFO, "progress", common, sizeof common / sizeof common[0], NULL);
    }
}

static void maybe_progress(run_state *s, const char *phase) {
    int64_t now = mono_ns();
    if (now - s->last_progress_ns < 1000000000) return;
    s->last_progress_ns = now;
    if (!s->a->quiet) progress(s, phase);
}

/* Produces until --count or a stop signal.  Returns 0, or 1 after
 * printing the error. */
static int produce_all(run_state *s) {
    const gen_args *a = s->a;
    rb_gen_pacer pacer;
    rb_gen_pacer_init(&pacer, a->rate, mono_ns());
    int64_t start_ms = 0;
    if (a->start_time) rb_rfc3339_parse(a->start_time, &start_ms);
    rb_error err;
    rb_error_clear(&err);

    for (uint64_t i = 0; (a->count == 0 || i < a->count) && !stop_signals; i++) {
        int64_t wait;
        while ((wait = rb_gen_pacer_take(&pacer, mono_ns())) > 0 && !stop_signals) {
            wait_ns(s->prod, wait);
            maybe_progress(s, "produce");
        }
        if (stop_signals) break;

        rb_gen_event ev;
        int64_t t = a->start_time ? start_ms + (int64_t)i : wall_ms();
        if (rb_gen_next(s->gen, t, &ev, &err) != 0) {
            fprintf(stderr, "ragbatch generate: %s\n", err.msg);
            return 1;
        }
        const char *kind = ev.malformed ? rb_gen_malformed_name(ev.malformed) : NULL;
        if (!s->prod) {
            if (fwrite(ev.value, 1, ev.value_len, stdout) != ev.value_len ||
                putchar('\n') == EOF || (a->rate > 0 && fflush(stdout) != 0)) {
                fprintf(stderr, "ragbatch generate: cannot write to stdout: %s\n",
                        strerror(errno));
                return 1;
            }
        } else {
            /* A full queue drains as the broker acknowledges; keep waiting
             * even after a first stop signal, since this event is already
             * part of the generator's state (and of the manifest). */
            while (rb_gen_producer_send(s->prod, ev.key, ev.key_len, ev.value, ev.value_len, kind,
                                        &err) != 0) {
                if (!err.retriable || stop_signals >= 2) {
                    fprintf(stderr, "ragbatch generate: %s\n", err.msg);
                    return 1;
                }
                rb_kafka_producer_poll(s->prod, 100);
                maybe_progress(s, "produce");
            }
            rb_kafka_producer_poll(s->prod, 0);
        }
        maybe_progress(s, "produce");
    }
    return 0;
}

/* Waits for every delivery report; a second stop signal purges the rest. */
static int flush_all(run_state *s) {
    bool purged = false;
    while (rb_kafka_producer_outstanding(s->prod) > 0) {
        if (stop_signals >= 2 && !purged) {
            rb_log_kv(s->log, RB_LOG_WARN, "generate",
                      RB_LOG_FIELDS(RB_LOG_U("purged", rb_kafka_producer_outstanding(s->prod))),
                      "second interrupt: purging the undelivered messages");
            rb_kafka_producer_purge(s->prod);
            purged = true;
        }
        rb_kafka_producer_poll(s->prod, 100);
        maybe_progress(s, "flush");
    }
    rb_kafka_producer_poll(s->prod, 0);
    rb_error err;
    rb_error_clear(&err);
    if (rb_kafka_producer_fatal(s->prod, &err) != 0) {
        fprintf(stderr, "ragbatch generate: %s\n", err.msg);
        return 1;
    }
    const rb_kafka_delivery *d = rb_kafka_producer_delivery(s->prod);
    if (d->failed > 0) {
        fprintf(stderr,
                "ragbatch generate: %" PRIu64 " of %" PRIu64
                " messages were not delivered; first failure: %s\n",
                d->failed, d->enqueued, d->first_error);
        return 1;
    }
    if (d->delivered != d->enqueued) {
        fprintf(stderr,
                "ragbatch generate: topic '%s': %" PRIu64 " messages sent but %" PRIu64
                " acknowledged\n",
                s->a->topic, d->enqueued, d->delivered);
        return 1;
    }
    return 0;
}

/* Writes the manifest through a temporary file and a rename, so that a
 * reader never sees half a manifest. */
static int write_manifest(run_state *s, const char *path) {
    size_t n = strlen(path) + 5;
    char *tmp = malloc(n);
    if (!tmp) {
        fputs("ragbatch generate: out of memory\n", stderr);
        return 1;
    }
    snprintf(tmp, n, "%s.tmp", path);
    rb_error err;
    rb_error_clear(&err);
    FILE *f = fopen(tmp, "w");
    int rc = 0;
    if (!f) {
        fprintf(stderr, "ragbatch generate: --manifest %s: %s\n", tmp, strerror(errno));
        rc = 1;
    } else if (rb_gen_write_manifest(s->gen, f, path, &err) != 0) {
        fprintf(stderr, "ragbatch generate: --manifest %s\n", err.msg);
        fclose(f);
        rc = 1;
    } else if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "ragbatch generate: --manifest %s: %s\n", path, strerror(errno));
        rc = 1;
    }
    if (rc) remove(tmp);
    free(tmp);
    return rc;
}

int rb_cmd_generate(int argc, char **argv) {
    gen_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        free(a.props);
        return rc < 0 ? 0 : rc;
    }

    rb_log log;
    rb_log_init(&log);
    rb_error err;
    rb_error_clear(&err);
    run_state s = {.a = &a, .log = &log};
    s.gen = rb_gen_new(&a.gen, &err);
    if (!s.gen) {
        fprintf(stderr, "ragbatch generate: %s\n", err.msg);
        free(a.props);
        return EXIT_USAGE;
    }
    if (!a.to_stdout) {
        s.prod = rb_gen_producer_new(a.bootstrap, a.topic, a.props, a.nprops, &log, &err);
        if (!s.prod) {
            fprintf(stderr, "ragbatch generate: %s\n", err.msg);
            rb_gen_destroy(s.gen);
            free(a.props);
            return err.code == RB_ERR_CONFIG ? EXIT_USAGE : 1;
        }
    }

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    stop_signals = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    s.start_ns = mono_ns();
    s.last_progress_ns = s.start_ns;
    rc = produce_all(&s);
    if (a.to_stdout && fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "ragbatch generate: cannot write to stdout: %s\n", strerror(errno));
        rc = 1;
    }
    if (s.prod) {
        int frc = flush_all(&s);
        if (rc == 0) rc = frc;
    }
    if (rc == 0 && a.manifest) rc = write_manifest(&s, a.manifest);

    const rb_gen_counts *c = rb_gen_get_counts(s.gen);
    double secs = (double)(mono_ns() - s.start_ns) * 1e-9;
    if (rc == 0 && !a.quiet)
        rb_log_kv(&log, RB_LOG_INFO, "generate",
                  RB_LOG_FIELDS(RB_LOG_U("events", c->produced),
                                RB_LOG_S("to", a.to_stdout ? "stdout" : a.topic),
                                RB_LOG_D("seconds", secs),
                                RB_LOG_D("rate_per_s",
                                         secs > 0 ? (double)c->produced / secs : 0.0),
                                RB_LOG_U("created", c->created), RB_LOG_U("updated", c->updated),
                                RB_LOG_U("deleted", c->deleted),
                                RB_LOG_U("malformed", c->malformed),
                                RB_LOG_B("interrupted", stop_signals != 0)),
                  "done");
    if (rc == 0 && stop_signals) rc = EXIT_INTERRUPTED;

    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    rb_kafka_producer_destroy(s.prod);
    rb_gen_destroy(s.gen);
    free(a.props);
    return rc;
}
