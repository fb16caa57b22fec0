/*
 * bench_embed.c -- throughput of the local embedder on a file of texts.
 *
 * Usage: bench_embed MODEL_DIR TEXTS_FILE THREADS KERNEL(packed|openblas|builtin) [PRECISION]
 * Prints one line per batch size (1 and 32): texts/s, tokens, achieved
 * GFLOP/s (dense-layer and attention multiply-adds, counted from the
 * actual token counts), and resident memory after loading and after the run.
 */
#include "embed/embedder.h"
#include "embed/bert/model_config.h"
#include "embed/bert/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* VmRSS or VmHWM of this process, in MiB. */
static double proc_mib(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtod(line + strlen(key) + 1, NULL) / 1024.0;
    if (f) fclose(f);
    return v;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: bench_embed MODEL_DIR TEXTS THREADS packed|openblas|builtin "
                        "[fp32|int8]\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) return 1;
    char **texts = NULL, *line = NULL;
    size_t n = 0, cap = 0, lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n') line[len - 1] = '\0';
        if (n == cap) texts = realloc(texts, (cap = cap ? cap * 2 : 1024) * sizeof *texts);
        texts[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    rb_error err;
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = argv[1];
    o.threads = (int)strtol(argv[3], NULL, 10);
    o.kernel = argv[4];
    o.precision = argc == 6 ? argv[5] : "fp32";
    rb_embedder *e = rb_embedder_local_new(&o, &err);
    if (!e) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double rss_loaded = proc_mib("VmRSS:");
    /* FLOPs from the real token counts. */
    size_t max_seq = 0;
    rb_model_config cfg;
    if (rb_model_config_load(argv[1], &cfg, &err) < 0) return 1;
    rb_tokenizer *tok = rb_model_tokenizer_load(argv[1], &max_seq, &err);
    double H = (double)cfg.bert.hidden, I = (double)cfg.bert.intermediate, flops = 0;
    size_t tokens = 0;
    int32_t ids[1024];
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        rb_tokenizer_encode(tok, texts[i], strlen(texts[i]), max_seq, ids, &k, &err);
        tokens += k;
        double L = (double)k;
        flops += (double)cfg.bert.layers * (L * 2 * (4 * H * H + 2 * H * I) + 4 * L * L * H);
    }
    rb_tokenizer_destroy(tok);
    size_t dim = rb_embedder_dim(e);
    float *out = malloc(32 * dim * sizeof *out);
    /* Warm-up: maps the touched weights in, as a long-running job would have. */
    rb_embedder_embed(e, (const char *const *)texts, n < 32 ? n : 32, out, &err);
    const size_t batches[2] = {1, 32};
    for (int b = 0; b < 2; b++) {
        double t0 = now();
        for (size_t i = 0; i < n; i += batches[b]) {
            size_t m = n - i < batches[b] ? n - i : batches[b];
            if (rb_embedder_embed(e, (const char *const *)texts + i, m, out, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
        }
        double dt = now() - t0;
        printf("c-%s-%s threads=%s batch=%zu texts=%zu tokens=%zu seconds=%.3f texts_per_s=%.1f "
               "gflops=%.2f rss_loaded_mib=%.1f rss_peak_mib=%.1f\n",
               argv[4], o.precision, argv[3], batches[b], n, tokens, dt, (double)n / dt,
               flops / dt * 1e-9, rss_loaded, proc_mib("VmHWM:"));
        fflush(stdout);
    }
    free(out);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    rb_model_config_free(&cfg);
    rb_embedder_destroy(e);
    return 0;
}
