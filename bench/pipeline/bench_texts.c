/*
 * bench_texts.c -- the bare embedder on exactly the texts a pipeline run
 * embeds: reads events (JSON lines, as `ragbatch generate --stdout` writes
 * them), derives each document's text with the job's template, and embeds
 * them in chunks of CHUNK texts (the runner embeds one batch per call).
 *
 *   bench_texts JOBFILE EVENTS.jsonl CHUNK
 * prints: texts=N seconds=S texts_per_s=R
 */
#include "config/config.h"
#include "embed/embedder.h"
#include "transform/document.h"
#include "json/json.h"

#include "common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: bench_texts JOBFILE EVENTS.jsonl CHUNK\n");
        return 2;
    }
    rb_error err;
    rb_job_config cfg;
    if (rb_job_config_init(&cfg, &err) || rb_job_config_load(&cfg, argv[1], &err) ||
        rb_job_config_check(&cfg, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t chunk = (size_t)strtoul(argv[3], NULL, 10);
    rb_template *tpl = NULL;
    if (rb_template_compile(cfg.text_template, &tpl, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    rb_document_spec spec = {tpl,
                             cfg.id_field,
                             cfg.version_field,
                             cfg.time_field,
                             cfg.op_field,
                             (const char *const *)cfg.delete_values.items,
                             cfg.delete_values.count};
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    char **texts = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        rb_json_doc *doc;
        if (rb_json_parse(line, (size_t)len, NULL, &doc, &err) != 0) continue;
        rb_document_fields fields;
        if (rb_document_derive(&spec, rb_json_doc_root(doc), &fields, &err) == 0 && fields.text) {
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                texts = realloc(texts, cap * sizeof *texts);
            }
            texts[n++] = fields.text;
            fields.text = NULL;
        }
        rb_document_fields_free(&fields);
        rb_json_doc_destroy(doc);
    }
    free(line);
    fclose(f);

    rb_local_embed_opts eo = {.model_dir = cfg.embed_model_dir,
                              .threads = (int)cfg.embed_threads,
                              .batch_size = (size_t)cfg.embed_batch_size};
    rb_embedder *emb = rb_embedder_local_new(&eo, &err);
    if (!emb) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t dim = rb_embedder_dim(emb);
    float *out = malloc(chunk * dim * sizeof *out);
    double t0 = rb_now_sec();
    for (size_t i = 0; i < n; i += chunk) {
        size_t m = n - i < chunk ? n - i : chunk;
        if (rb_embedder_embed(emb, (const char *const *)texts + i, m, out, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    }
    double s = rb_now_sec() - t0;
    printf("texts=%zu seconds=%.2f texts_per_s=%.1f\n", n, s, (double)n / s);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(out);
    rb_embedder_destroy(emb);
    rb_template_destroy(tpl);
    rb_job_config_free(&cfg);
    return 0;
}
