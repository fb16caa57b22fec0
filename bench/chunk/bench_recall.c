/*
 * bench_recall.c -- retrieval quality on long documents: recall@1 and
 * recall@5 with chunking (src/transform/chunk.h, each document scored by
 * its best chunk, as ragbatch search does) against truncation (one vector
 * of the whole text, which the model cuts at 256 tokens), with the job's
 * model and the product's own chunker and embedder.
 *
 * The fixture is generated with a fixed seed: N product descriptions of
 * ten paragraphs drawn from one shared pool of gear sentences, so that the
 * filler says nothing about which document is which, and one fact per
 * document -- a material and a place, a combination no other document has
 * -- placed in a paragraph that starts past the first 300 tokens (checked
 * with the tokenizer).  Each question asks for that fact in other words.
 *
 * Usage: bench_recall MODEL_DIR [N] [MAX_TOKENS] [OVERLAP]
 * (defaults 100, 254, 32).  Prints one line per mode and the fixture's
 * sizes; not a test.
 */
#include "common/buf.h"
#include "embed/embedder.h"
#include "embed/bert/model_config.h"
#include "embed/bert/tokenizer.h"
#include "transform/chunk.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const FILLER[] = {
    "The shell uses a three-layer membrane that keeps rain out while letting sweat escape.",
    "Taped seams and a storm flap over the main zip stop water at the weak points.",
    "An adjustable hood with a laminated brim stays in place when the wind picks up.",
    "Two hand pockets sit above the hip belt line so they stay usable with a pack on.",
    "The cuffs close with soft hook-and-loop tabs that work with gloves.",
    "A drop hem covers the seat on long descents in bad weather.",
    "Pit zips open wide for ventilation on steep climbs.",
    "The fabric has a durable water repellent finish that is free of PFCs.",
    "It packs into its own chest pocket and clips to a harness loop.",
    "Reflective details on the back and sleeves help in low light.",
    "The cut leaves room for a fleece or insulated layer underneath.",
    "Articulated elbows keep the sleeves from riding up when reaching overhead.",
    "A soft chin guard prevents chafing when the collar is fully zipped.",
    "The hem drawcord can be adjusted with one hand from inside the pockets.",
    "Every zip has a glove-friendly pull and a garage at the top.",
    "The jacket weighs a little under four hundred grams in a medium size.",
    "It is machine washable, and tumble drying restores the water repellency.",
    "The inner face has a printed pattern that feels dry against the skin.",
    "A media pocket inside the chest keeps a phone warm and dry.",
    "The sleeves are cut long enough for climbing without exposing the wrists.",
};
#define N_FILLER (sizeof FILLER / sizeof FILLER[0])

static const char *const MATERIAL[] = {"fishing nets", "coffee grounds", "plastic bottles",
                                       "car tyres",    "wool offcuts",   "cotton scraps",
                                       "sailcloth",    "parachute silk", "climbing ropes",
                                       "tent canvas"};
static const char *const PLACE[] = {"Norwegian fjords",  "Scottish harbours",
                                    "Chilean ports",     "Icelandic fisheries",
                                    "Japanese mills",    "Portuguese docks",
                                    "Canadian lakes",    "Kenyan markets",
                                    "Peruvian villages", "Greek islands"};

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void filler_paragraph(rb_buf *b) {
    for (int s = 0; s < 5; s++) rb_buf_printf(b, "%s%s", s ? " " : "", FILLER[next() % N_FILLER]);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Rank of `target` (0-based) among the documents by `score`. */
static size_t rank_of(const double *score, size_t n, size_t target) {
    size_t r = 0;
    for (size_t i = 0; i < n; i++)
        if (i != target && score[i] >= score[target]) r++;
    return r;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_recall MODEL_DIR [N] [MAX_TOKENS] [OVERLAP]\n");
        return 2;
    }
    size_t n = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 100;
    size_t max_tokens = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 254;
    size_t overlap = argc > 4 ? (size_t)strtoul(argv[4], NULL, 10) : 32;
    if (n < 5 || n > 100) {
        fprintf(stderr, "N: 5..100 (one fact combination per document)\n");
        return 2;
    }
    rb_error err;
    rb_local_embed_opts lo = {.model_dir = argv[1]};
    rb_embedder *emb = rb_embedder_local_new(&lo, &err);
    if (!emb) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t max_seq = 0, dim = rb_embedder_dim(emb);
    const rb_tokenizer *tok = rb_embedder_tokenizer(emb, &max_seq);

    /* The fixture. */
    char **docs = calloc(n, sizeof *docs), **questions = calloc(n, sizeof *questions);
    size_t total_tokens = 0, fact_at_min = SIZE_MAX;
    for (size_t d = 0; d < n; d++) {
        rb_buf b;
        rb_buf_init(&b);
        rb_buf_printf(&b, "Trail shell model %zu. ", d + 1);
        size_t fact_para = 5 + next() % 4, tokens = 0;
        for (size_t p = 0; p < 10; p++) {
            if (p) rb_buf_puts(&b, "\n\n");
            if (p == fact_para) {
                rb_tokenizer_count(tok, b.data, b.len, &tokens, &err);
                if (tokens < fact_at_min) fact_at_min = tokens;
                rb_buf_printf(&b, "Its lining is woven from recycled %s collected in the %s.",
                              MATERIAL[d % 10], PLACE[d / 10]);
            } else {
                filler_paragraph(&b);
            }
        }
        rb_tokenizer_count(tok, b.data, b.len, &tokens, &err);
        total_tokens += tokens;
        docs[d] = rb_buf_detach(&b);
        rb_buf q;
        rb_buf_init(&q);
        rb_buf_printf(&q, "which jacket has a lining made of old %s from the %s?",
                      MATERIAL[d % 10], PLACE[d / 10]);
        questions[d] = rb_buf_detach(&q);
    }

    float *qv = malloc(n * dim * sizeof *qv), *tv = malloc(n * dim * sizeof *tv);
    rb_embedder_embed(emb, (const char *const *)questions, n, qv, &err);
    double t0 = now();
    if (rb_embedder_embed(emb, (const char *const *)docs, n, tv, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t_trunc = now() - t0;

    /* Chunks of every document, embedded in one call. */
    rb_chunk_opts co = {tok, max_tokens, overlap, 0};
    size_t *first = malloc((n + 1) * sizeof *first), n_chunks = 0, cap = 0;
    const char **texts = NULL;
    for (size_t d = 0; d < n; d++) {
        rb_chunk *c;
        size_t k;
        if (rb_chunk_split(&co, docs[d], strlen(docs[d]), &c, &k, &err) != 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        first[d] = n_chunks;
        if (n_chunks + k > cap) {
            cap = 2 * (n_chunks + k);
            texts = realloc(texts, cap * sizeof *texts);
        }
        for (size_t i = 0; i < k; i++)
            texts[n_chunks++] = strndup(docs[d] + c[i].start, c[i].end - c[i].start);
        free(c);
    }
    first[n] = n_chunks;
    float *cv = malloc(n_chunks * dim * sizeof *cv);
    t0 = now();
    if (rb_embedder_embed(emb, texts, n_chunks, cv, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t_chunk = now() - t0;

    double *score = malloc(n * sizeof *score);
    size_t hit1[2] = {0}, hit5[2] = {0};
    for (size_t q = 0; q < n; q++) {
        for (size_t d = 0; d < n; d++) score[d] = dot(qv + q * dim, tv + d * dim, dim);
        size_t r = rank_of(score, n, q);
        hit1[0] += r < 1;
        hit5[0] += r < 5;
        for (size_t d = 0; d < n; d++) {
            double best = -2;
            for (size_t c = first[d]; c < first[d + 1]; c++) {
                double s = dot(qv + q * dim, cv + c * dim, dim);
                if (s > best) best = s;
            }
            score[d] = best;
        }
        r = rank_of(score, n, q);
        hit1[1] += r < 1;
        hit5[1] += r < 5;
    }
    printf("fixture: %zu documents, %.0f tokens each on average, every fact past token %zu; "
           "model %s (max_seq_length %zu)\n",
           n, (double)total_tokens / (double)n, fact_at_min, rb_embedder_model_name(emb), max_seq);
    printf("truncation: recall@1 %.2f  recall@5 %.2f  (%zu vectors, %.1f texts/s)\n",
           (double)hit1[0] / (double)n, (double)hit5[0] / (double)n, n, (double)n / t_trunc);
    printf("chunking (max %zu tokens, overlap %zu): recall@1 %.2f  recall@5 %.2f  (%zu chunks, "
           "%.1f chunks/s)\n",
           max_tokens, overlap, (double)hit1[1] / (double)n, (double)hit5[1] / (double)n, n_chunks,
           (double)n_chunks / t_chunk);
    for (size_t i = 0; i < n_chunks; i++) free((char *)texts[i]);
    for (size_t d = 0; d < n; d++) {
        free(docs[d]);
        free(questions[d]);
    }
    free(texts);
    free(docs);
    free(questions);
    free(first);
    free(qv);
    free(tv);
    free(cv);
    free(score);
    rb_embedder_destroy(emb);
    return 0;
}
