/*
 * bench_avro.c -- what reading an Avro value costs the decode step, beside
 * the JSON value it stands for: one product event (tests/data/avro/
 * product.avsc, the body of tests/fuzz/corpus-avro/product) read N times
 * as the runner reads it,
 *   avro   scan + libavro-c read + JSON text + rb_json_parse
 *   json   rb_json_parse of the same event as JSON text
 * then the avro path from several OpenMP threads at once (libavro-c's
 * calls share one lock, avro/avro_internal.h).  Best of REPEAT runs.
 *
 *   bench_avro SOURCE_DIR [N] [REPEAT]     (defaults 200000, 5)
 *
 * Not a test: it prints figures for bench/README.md.
 */
#include "avro/avro.h"
#include "common/buf.h"
#include "json/json.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t slurp(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_avro: cannot open %s\n", path);
        exit(1);
    }
    size_t n = fread(buf, 1, size, f);
    fclose(f);
    return n;
}

static int one_avro(const rb_avro_schema *s, const char *body, size_t len) {
    rb_buf out;
    rb_buf_init(&out);
    rb_error err;
    rb_json_doc *doc = NULL;
    int rc = rb_avro_to_json(s, body, len, &out, &err);
    if (rc == 0) rc = rb_json_parse(out.data, out.len, NULL, &doc, &err);
    rb_json_doc_destroy(doc);
    rb_buf_free(&out);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_avro SOURCE_DIR [N] [REPEAT]\n");
        return 2;
    }
    long n = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
    int repeat = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 5;
    static char text[65536], body[4096], path[1024];
    snprintf(path, sizeof path, "%s/tests/data/avro/product.avsc", argv[1]);
    size_t tlen = slurp(path, text, sizeof text);
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus-avro/product", argv[1]);
    size_t blen = slurp(path, body, sizeof body) - 1; /* byte 0 picks the fuzzer's schema */
    rb_avro_schema *s;
    rb_error err;
    if (rb_avro_schema_parse(text, tlen, "product.avsc", &s, &err) != 0) {
        fprintf(stderr, "bench_avro: %s\n", err.msg);
        return 1;
    }
    rb_buf json;
    rb_buf_init(&json);
    if (rb_avro_to_json(s, body + 1, blen, &json, &err) != 0) {
        fprintf(stderr, "bench_avro: %s\n", err.msg);
        return 1;
    }
    printf("value: %zu bytes of Avro, %zu bytes as JSON; %ld reads, best of %d\n", blen, json.len,
           n, repeat);
    double best_avro = 1e9, best_json = 1e9, best_par = 1e9;
    int threads = omp_get_max_threads();
    long failed = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = now_s();
        for (long i = 0; i < n; i++) failed += one_avro(s, body + 1, blen) != 0;
        double t1 = now_s();
        for (long i = 0; i < n; i++) {
            rb_json_doc *doc = NULL;
            failed += rb_json_parse(json.data, json.len, NULL, &doc, &err) != 0;
            rb_json_doc_destroy(doc);
        }
        double t2 = now_s();
#pragma omp parallel for schedule(dynamic, 16) reduction(+ : failed)
        for (long i = 0; i < n; i++) failed += one_avro(s, body + 1, blen) != 0;
        double t3 = now_s();
        if (t1 - t0 < best_avro) best_avro = t1 - t0;
        if (t2 - t1 < best_json) best_json = t2 - t1;
        if (t3 - t2 < best_par) best_par = t3 - t2;
    }
    if (failed) {
        fprintf(stderr, "bench_avro: %ld reads failed\n", failed);
        return 1;
    }
    printf("avro  1 thread:  %.2f us per value (%.0f values/s)\n", best_avro / n * 1e6,
           n / best_avro);
    printf("json  1 thread:  %.2f us per value (%.0f values/s)\n", best_json / n * 1e6,
           n / best_json);
    printf("avro  %d threads: %.2f us per value (%.0f values/s)\n", threads, best_par / n * 1e6,
           n / best_par);
    rb_buf_free(&json);
    rb_avro_schema_destroy(s);
    return 0;
}
