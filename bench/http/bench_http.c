/*
 * bench_http.c -- the HTTP embedding path against the test server
 * (tests/servers/embed_server.c), which answers from a hash of the text.
 *
 *   bench_http embed N DIM DELAY_MS   texts/s of rb_embedder_embed over N
 *                                     texts in calls of 1000 (a micro-batch),
 *                                     32 texts per request, for 1..16
 *                                     requests in flight
 *   bench_http serve DIM DELAY_MS     runs the server, prints its port,
 *                                     stops at end of stdin
 *   bench_http drop URI DB            drops a benchmark database
 */
#include "common/clock.h"
#include "embed/embedder.h"
#include "runner/embed_opts.h"
#include "servers/embed_server.h"
#include "sink/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int serve(size_t dim, int delay_ms) {
    es_server *s = es_server_start(0, dim);
    if (!s) return 1;
    es_faults f = {0};
    f.delay_ms = delay_ms;
    es_server_faults_set(s, &f);
    printf("%d\n", es_server_port(s));
    fflush(stdout);
    while (getchar() != EOF) {
    }
    es_stats st;
    es_server_stats(s, &st);
    fprintf(stderr, "server: requests=%zu inputs=%zu max_in_flight=%zu max_batch=%zu\n",
            st.requests, st.inputs, st.max_in_flight, st.max_batch);
    es_server_stop(s);
    return 0;
}

static int bench(size_t n, size_t dim, int delay_ms) {
    es_server *s = es_server_start(0, dim);
    if (!s) return 1;
    es_faults f = {0};
    f.delay_ms = delay_ms;
    es_server_faults_set(s, &f);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", es_server_port(s));
    char **texts = malloc(n * sizeof *texts);
    float *out = malloc(1000 * dim * sizeof *out);
    if (!texts || !out) return 1;
    for (size_t i = 0; i < n; i++) {
        texts[i] = malloc(200);
        if (!texts[i]) return 1;
        snprintf(texts[i], 200,
                 "Product %zu. Brand: Acme. Category: tools. A sturdy thing that does what "
                 "it says, in a colour you will like. Tags: sale, new.",
                 i);
    }
    printf("| in flight | server delay | texts/s | requests | max in flight "
           "|\n|---|---|---|---|---|\n");
    int levels[] = {1, 2, 4, 8, 16};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        rb_http_embed_opts o;
        rb_error err;
        if (rb_runner_http_embed_defaults(&o, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        o.provider = "openai";
        o.url = url;
        o.model = "bench";
        o.dimensions = dim;
        o.concurrency = levels[l];
        o.batch_size = 32;
        o.tls_verify = 1;
        o.retries = 0; /* a failed request ends the run instead of being retried into the figure */
        rb_embedder *e = rb_embedder_http_new(&o, &err);
        if (!e) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        es_server_reset_stats(s);
        double t0 = rb_now_sec();
        for (size_t i = 0; i < n; i += 1000) {
            size_t k = n - i < 1000 ? n - i : 1000;
            if (rb_embedder_embed(e, (const char *const *)texts + i, k, out, &err) != 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
        }
        double took = rb_now_sec() - t0;
        es_stats st;
        es_server_stats(s, &st);
        printf("| %d | %d ms | %.0f | %zu | %zu |\n", levels[l], delay_ms, (double)n / took,
               st.requests, st.max_in_flight);
        fflush(stdout);
        rb_embedder_destroy(e);
    }
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(out);
    es_server_stop(s);
    return 0;
}

static int drop(const char *uri, const char *db) {
    rb_sink_global_init();
    rb_sink_opts o = {.uri = uri, .database = db, .collection = "products", .timeout_ms = 10000};
    rb_error err;
    rb_sink *s = rb_sink_new(&o, &err);
    int rc = s ? rb_sink_drop_database(s, &err) : -1;
    if (rc != 0) fprintf(stderr, "drop %s: %s\n", db, err.msg);
    rb_sink_destroy(s);
    rb_sink_global_cleanup();
    return rc ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "drop") == 0) return drop(argv[2], argv[3]);
    if (argc == 5 && strcmp(argv[1], "embed") == 0)
        return bench(strtoul(argv[2], NULL, 10), strtoul(argv[3], NULL, 10),
                     (int)strtol(argv[4], NULL, 10));
    if (argc == 4 && strcmp(argv[1], "serve") == 0)
        return serve(strtoul(argv[2], NULL, 10), (int)strtol(argv[3], NULL, 10));
    fprintf(stderr, "usage: bench_http embed N DIM DELAY_MS | serve DIM DELAY_MS | drop URI DB\n");
    return 2;
}
