/*
 * bench_validate.c -- validation throughput of one schema on one core:
 * records/s of rb_schema_validate over product events that are already
 * parsed (the validate stage alone, as the runner calls it per record).
 *
 *   bench_validate SCHEMA [RECORDS] [ROUNDS]     (defaults 20000, 7)
 *
 * The events are generated with a fixed seed, shaped like the demo's
 * product-updates topic: every optional field now and then, names with
 * non-ASCII letters, a few tags and attributes; one event in ten is
 * invalid in one of several ways (so error paths are priced too).  Each
 * round validates every event once; the figure is the best round (the
 * least disturbed by other work on the machine), by wall time and by the
 * thread's CPU time; the worst wall time is printed too.
 * Not a test: it prints a line for bench/README.md.
 */
#include "common/buf.h"
#include "json/json.h"
#include "validate/schema.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: a fixed sequence, so both sides of a comparison see the same
 * events. */
static uint64_t next_rand(uint64_t *state) {
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return x;
}

static const char *const brands[] = {"Fjällräven", "Håkansson", "Nordic Wool",
                                     "Acme",       "Skärgård",  "Lumière"};
static const char *const words[] = {"warm",  "wool",  "jacket", "light", "rain",   "shell",
                                    "linen", "shirt", "trail",  "boot",  "merino", "cap"};
static const char *const currencies[] = {"EUR", "SEK", "USD", "NOK"};

static void event(rb_buf *b, size_t i, uint64_t *rng) {
    unsigned kind = (unsigned)(next_rand(rng) % 10);
    /* One in ten invalid, in one of four ways. */
    int broken = next_rand(rng) % 10 == 0 ? (int)(next_rand(rng) % 4) : -1;
    const char *type = kind == 9 ? "deleted" : (kind % 2 ? "updated" : "created");
    rb_buf_printf(b, "{\"product_id\":\"sku-%06zu\",\"event_type\":\"%s\",", i, type);
    rb_buf_printf(b, "\"event_time\":\"2026-11-%02uT%02u:%02u:%02u.%03uZ\",",
                  (unsigned)(1 + next_rand(rng) % 28), (unsigned)(next_rand(rng) % 24),
                  (unsigned)(next_rand(rng) % 60), (unsigned)(next_rand(rng) % 60),
                  (unsigned)(next_rand(rng) % 1000));
    rb_buf_printf(b, "\"version\":%u,", (unsigned)(next_rand(rng) % 100000));
    if (kind != 9) {
        rb_buf_printf(b, "\"name\":\"%s %s %s\",", brands[next_rand(rng) % 6],
                      words[next_rand(rng) % 12], words[next_rand(rng) % 12]);
        rb_buf_puts(b, "\"description\":\"");
        unsigned n = 8 + (unsigned)(next_rand(rng) % 40);
        for (unsigned w = 0; w < n; w++)
            rb_buf_printf(b, "%s%s", w ? " " : "", words[next_rand(rng) % 12]);
        rb_buf_puts(b, "\",");
        rb_buf_printf(b, "\"category\":\"outdoor/%s\",\"brand\":\"%s\",",
                      words[next_rand(rng) % 12], brands[next_rand(rng) % 6]);
        rb_buf_printf(b, "\"price\":%s%u.%02u,\"currency\":\"%s\",", broken == 3 ? "-" : "",
                      (unsigned)(next_rand(rng) % 500), (unsigned)(next_rand(rng) % 100),
                      broken == 1 ? "euro" : currencies[next_rand(rng) % 4]);
        rb_buf_puts(b, "\"tags\":[");
        unsigned t = (unsigned)(next_rand(rng) % 6);
        for (unsigned k = 0; k < t; k++)
            rb_buf_printf(b, "%s\"%s\"", k ? "," : "", words[next_rand(rng) % 12]);
        rb_buf_printf(b, "],\"in_stock\":%s,", broken == 2 ? "\"yes\"" : "true");
        rb_buf_printf(b, "\"attributes\":{\"colour\":\"%s\",\"size\":\"%s\"},",
                      words[next_rand(rng) % 12], next_rand(rng) % 2 ? "M" : "XL");
    }
    if (broken == 0) rb_buf_puts(b, "\"colour\":\"red\","); /* additionalProperties */
    b->len--;                                               /* the trailing comma */
    rb_buf_putc(b, '}');
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs("usage: bench_validate SCHEMA [RECORDS] [ROUNDS]\n", stderr);
        return 2;
    }
    size_t records = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 20000;
    int rounds = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 7;
    rb_error err;
    rb_schema *schema = NULL;
    if (rb_schema_load(argv[1], &schema, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    rb_json_doc **docs = calloc(records, sizeof *docs);
    if (!docs) return 1;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    size_t bytes = 0, parsed = 0;
    for (size_t i = 0; i < records; i++) {
        rb_buf b;
        rb_buf_init(&b);
        event(&b, i, &rng);
        bytes += b.len;
        /* A duplicate key is a parse error: such events never reach the
         * validator, so they are not counted. */
        if (rb_json_parse(b.data, b.len, NULL, &docs[parsed], &err) == 0) parsed++;
        rb_buf_free(&b);
    }
    double best = 1e18, worst = 0, best_cpu = 1e18;
    size_t invalid = 0;
    for (int r = 0; r < rounds; r++) {
        size_t bad = 0;
        double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
        double t0 = clock_s(CLOCK_MONOTONIC);
        for (size_t i = 0; i < parsed; i++) {
            char path[128];
            if (rb_schema_validate(schema, rb_json_doc_root(docs[i]), path, sizeof path, &err) !=
                0)
                bad++;
        }
        double dt = clock_s(CLOCK_MONOTONIC) - t0;
        double dc = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        if (dc < best_cpu) best_cpu = dc;
        if (dt < best) best = dt;
        if (dt > worst) worst = dt;
        invalid = bad;
    }
    printf("records %zu (%zu invalid), %.0f bytes/record on average\n", parsed, invalid,
           parsed ? (double)bytes / (double)records : 0.0);
    /* CPU time is the steadier figure on a shared machine: waiting for a
     * core does not count, though sharing its caches still does. */
    printf("best %.0f records/s (cpu time: %.0f), worst %.0f records/s (%d rounds)\n",
           (double)parsed / best, (double)parsed / best_cpu, (double)parsed / worst, rounds);
    for (size_t i = 0; i < parsed; i++) rb_json_doc_destroy(docs[i]);
    free(docs);
    rb_schema_destroy(schema);
    return 0;
}
