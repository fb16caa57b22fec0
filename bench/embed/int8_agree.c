/*
 * int8_agree.c -- how far embed.precision = int8 moves vectors and search
 * results from fp32, on a file of texts (one per line).
 *
 * Usage: int8_agree MODEL_DIR TEXTS_FILE THREADS [QUERIES]
 *
 * Embeds every text with the packed kernel in fp32 and in int8 and prints
 *   - the worst and mean cosine between a text's two vectors (fp32 matches
 *     sentence-transformers to 1 - 1e-12, so this is int8's fidelity to
 *     sentence-transformers on these texts);
 *   - the top-10 neighbour overlap: for QUERIES texts spread evenly over
 *     the file (default 1,000), the 10 nearest other texts by cosine with
 *     fp32 vectors and with int8 vectors (exact search over all of them),
 *     and the mean share of the fp32 ten that int8 also returns.
 */
#include "embed/embedder.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPK 10

static float *embed_all(const char *model, int threads, const char *precision, char *const *texts,
                        size_t n, size_t *dim) {
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = model;
    o.threads = threads;
    o.kernel = "packed";
    o.precision = precision;
    rb_error err;
    rb_embedder *e = rb_embedder_local_new(&o, &err);
    if (!e) {
        fprintf(stderr, "int8_agree: %s: %s\n", precision, err.msg);
        exit(1);
    }
    *dim = rb_embedder_dim(e);
    float *v = malloc(n * *dim * sizeof *v);
    for (size_t i = 0; v && i < n; i += 256) {
        size_t m = n - i < 256 ? n - i : 256;
        if (rb_embedder_embed(e, (const char *const *)texts + i, m, v + i * *dim, &err) < 0) {
            fprintf(stderr, "int8_agree: %s\n", err.msg);
            exit(1);
        }
    }
    rb_embedder_destroy(e);
    return v;
}

/* The TOPK nearest texts to text q (itself excluded), vectors normalised. */
static void nearest(const float *v, size_t n, size_t dim, size_t q, size_t *best) {
    float score[TOPK];
    size_t have = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == q) continue;
        float s = 0;
        for (size_t j = 0; j < dim; j++) s += v[q * dim + j] * v[i * dim + j];
        if (have == TOPK && s <= score[TOPK - 1]) continue;
        size_t at = have < TOPK ? have++ : TOPK - 1;
        while (at > 0 && score[at - 1] < s) {
            score[at] = score[at - 1];
            best[at] = best[at - 1];
            at--;
        }
        score[at] = s;
        best[at] = i;
    }
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: int8_agree MODEL_DIR TEXTS THREADS [QUERIES]\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
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
    int threads = (int)strtol(argv[3], NULL, 10);
    size_t queries = argc == 5 ? (size_t)strtoul(argv[4], NULL, 10) : 1000;
    if (queries > n) queries = n;
    size_t dim = 0;
    float *a = embed_all(argv[1], threads, "fp32", texts, n, &dim);
    float *b = embed_all(argv[1], threads, "int8", texts, n, &dim);
    double worst = 1, sum = 0;
    for (size_t i = 0; i < n; i++) {
        double ab = 0, aa = 0, bb = 0;
        for (size_t j = 0; j < dim; j++) {
            ab += (double)a[i * dim + j] * b[i * dim + j];
            aa += (double)a[i * dim + j] * a[i * dim + j];
            bb += (double)b[i * dim + j] * b[i * dim + j];
        }
        double c = ab / sqrt(aa * bb);
        sum += c;
        if (c < worst) worst = c;
    }
    double overlap = 0;
    for (size_t k = 0; k < queries; k++) {
        size_t q = k * n / queries, ra[TOPK], rb[TOPK], same = 0;
        nearest(a, n, dim, q, ra);
        nearest(b, n, dim, q, rb);
        for (size_t x = 0; x < TOPK; x++)
            for (size_t y = 0; y < TOPK; y++) same += ra[x] == rb[y];
        overlap += (double)same / TOPK;
    }
    printf("int8-vs-fp32 texts=%zu cosine_worst=%.6f cosine_mean=%.6f queries=%zu "
           "top%d_overlap=%.4f\n",
           n, worst, sum / (double)n, queries, TOPK, overlap / (double)queries);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(a);
    free(b);
    return 0;
}
