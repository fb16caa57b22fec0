/*
 * bench_tokenize.c -- tokenizer throughput, several tokenizers side by side
 * on the same texts, in rotation (so that a slower moment of a shared
 * machine hits all of them alike); the best of the rounds is reported.
 *
 * Usage: bench_tokenize TEXTS_FILE SECONDS NAME=PATH...
 *   PATH is a model directory (tokenizer.json or vocab.txt, as the embedder
 *   picks) or a tokenizer.json file.  One text per line of TEXTS_FILE.
 * Prints, per tokenizer: texts/s, MB/s of UTF-8 input, and tokens per text,
 * one thread, max_seq_length 512.
 */
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

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench_tokenize TEXTS SECONDS NAME=PATH...\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char **texts = NULL, *line = NULL;
    size_t n = 0, cap = 0, lcap = 0, bytes = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n') line[--len] = '\0';
        if (n == cap) texts = realloc(texts, (cap = cap ? cap * 2 : 1024) * sizeof *texts);
        texts[n++] = strdup(line);
        bytes += (size_t)len;
    }
    free(line);
    fclose(f);
    double seconds = strtod(argv[2], NULL);
    int nt = argc - 3;
    rb_tokenizer **tok = calloc((size_t)nt, sizeof *tok);
    double *best = calloc((size_t)nt, sizeof *best);
    size_t *tokens = calloc((size_t)nt, sizeof *tokens);
    for (int k = 0; k < nt; k++) {
        const char *eq = strchr(argv[3 + k], '=');
        const char *path = eq ? eq + 1 : argv[3 + k];
        rb_error err;
        rb_error_clear(&err);
        size_t pl = strlen(path);
        tok[k] = pl > 5 && strcmp(path + pl - 5, ".json") == 0
                     ? rb_tokenizer_new_from_json(path, false, &err)
                     : rb_model_tokenizer_load(path, NULL, &err);
        if (!tok[k]) {
            fprintf(stderr, "%s: %s\n", argv[3 + k], err.msg);
            return 1;
        }
    }
    int32_t ids[512];
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < nt; k++) {
            size_t done = 0, toks = 0;
            double t0 = now(), t1 = t0;
            while (t1 - t0 < seconds / 3) {
                for (size_t i = 0; i < n; i++) {
                    size_t m = 0;
                    if (rb_tokenizer_encode(tok[k], texts[i], strlen(texts[i]), 512, ids, &m,
                                            NULL) < 0)
                        return 1;
                    toks += m;
                }
                done++;
                t1 = now();
            }
            double rate = (double)(done * n) / (t1 - t0);
            if (rate > best[k]) best[k] = rate;
            tokens[k] = toks / done;
        }
    printf("%-28s %12s %8s %12s %10s\n", "tokenizer", "texts/s", "MB/s", "tokens/text", "vocab");
    for (int k = 0; k < nt; k++) {
        const char *eq = strchr(argv[3 + k], '=');
        int nl = eq ? (int)(eq - argv[3 + k]) : (int)strlen(argv[3 + k]);
        printf("%-28.*s %12.0f %8.1f %12.1f %10zu\n", nl, argv[3 + k], best[k],
               best[k] * (double)bytes / (double)n / 1e6, (double)tokens[k] / (double)n,
               rb_tokenizer_vocab_size(tok[k]));
        rb_tokenizer_destroy(tok[k]);
    }
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(tok);
    free(best);
    free(tokens);
    return 0;
}
