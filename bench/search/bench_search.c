/*
 * bench_search.c -- exact-search latency over 10,000 stored 384-d vectors,
 * and the cost of storing vectors as BSON double arrays vs the binary
 * float32 vector subtype (BSON binary subtype 9, dtype 0x27).
 *
 * Usage: bench_search URI [N] [QUERIES] [WHAT]
 *   N default 10000, QUERIES 100; WHAT a comma list of float32, array (part
 *   1 with mongo.vector.format = that) and part2, default "float32,array".
 *
 * Part 1 writes N documents with unit vectors from a fixed-seed PRNG into
 * a database of its own: the first SINK_DOCS through rb_sink_write (fresh
 * ids, batches of 500), the rest as the very same documents
 * (rb_sink_build_doc) with insert_many, because the sink's version lookup
 * on FerretDB decodes the whole collection per batch and would make the
 * setup quadratic.  Then it times QUERIES searches through rb_searcher_query (the path a
 * `ragbatch search` takes, detection included in the first one, which is
 * reported apart), unfiltered and with a metadata filter matching 1/5.
 * Part 2 uses libmongoc directly (this is a benchmark, not library code)
 * to insert N documents per format into two collections and to read them
 * back, decoding every vector into floats.  The database is dropped at the
 * end.  Not a test: it prints figures for bench/README.md.
 */
#include "search/search.h"
#include "sink/bson_doc.h"
#include "sink/sink.h"
#include "json/json.h"

#include <math.h>
#include <mongoc/mongoc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIM 384
#define BATCH 500
#define SINK_DOCS 1000

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double uniform(void) { /* xorshift64*, [0,1) */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static void random_unit(float *v) {
    double n = 0;
    for (int i = 0; i < DIM; i++) {
        v[i] = (float)(uniform() * 2 - 1);
        n += (double)v[i] * v[i];
    }
    for (int i = 0; i < DIM; i++) v[i] = (float)(v[i] / sqrt(n));
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    int p99 = (int)(0.99 * (n - 1) + 0.5);
    printf("%-34s n=%d  p50 %.1f ms  p99 %.1f ms  min %.1f  max %.1f\n", what, n, t[n / 2], t[p99],
           t[0], t[n - 1]);
}

static const char *categories[] = {"footwear", "kitchen", "electronics", "outdoor", "clothing"};

static int part1(const char *uri, const char *db, int n, int queries, rb_sink_vector_format fmt) {
    rb_error err;
    const char *coll_name = fmt == RB_SINK_VECTOR_FLOAT32 ? "docs_float32" : "docs_array";
    const char *fmt_name = fmt == RB_SINK_VECTOR_FLOAT32 ? "binary float32 vectors"
                                                         : "double arrays";
    printf("-- part 1, mongo.vector.format = %s\n",
           fmt == RB_SINK_VECTOR_FLOAT32 ? "float32" : "array");
    rb_sink_opts so = {.uri = uri,
                       .database = db,
                       .collection = coll_name,
                       .timeout_ms = 60000,
                       .vector_format = fmt};
    rb_sink *sink = rb_sink_new(&so, &err);
    if (!sink) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    rb_json_doc *meta[5];
    for (int c = 0; c < 5; c++) {
        char j[64];
        snprintf(j, sizeof j, "\"%s\"", categories[c]);
        if (rb_json_parse(j, strlen(j), NULL, &meta[c], &err) != 0) return 1;
    }
    float *vecs = malloc((size_t)BATCH * DIM * sizeof *vecs);
    rb_sink_item *items = calloc(BATCH, sizeof *items);
    rb_sink_meta *m = calloc(BATCH, sizeof *m);
    char(*ids)[32] = calloc(BATCH, sizeof *ids);
    if (!vecs || !items || !m || !ids) return 1;
    mongoc_client_t *raw = mongoc_client_new(uri);
    mongoc_collection_t *coll = raw ? mongoc_client_get_collection(raw, db, coll_name) : NULL;
    if (!coll) return 1;
    double t0 = now_ms(), t_sink = 0;
    for (int done = 0; done < n; done += BATCH) {
        int b = n - done < BATCH ? n - done : BATCH;
        for (int i = 0; i < b; i++) {
            int id = done + i;
            random_unit(vecs + (size_t)i * DIM);
            snprintf(ids[i], sizeof ids[i], "b-%06d", id);
            m[i] = (rb_sink_meta){"category", rb_json_doc_root(meta[id % 5])};
            items[i] = (rb_sink_item){.kind = RB_SINK_UPSERT,
                                      .id = ids[i],
                                      .version = 1,
                                      .event_time_ms = 1700000000000,
                                      .text = "bench product",
                                      .text_hash = "00",
                                      .vector = vecs + (size_t)i * DIM,
                                      .dim = DIM,
                                      .model = "bench",
                                      .metadata = &m[i],
                                      .n_metadata = 1,
                                      .topic = "bench",
                                      .offset = id};
        }
        if (done < SINK_DOCS) {
            if (rb_sink_write(sink, items, (size_t)b, NULL, &err) != 0) {
                fprintf(stderr, "write: %s\n", err.msg);
                return 1;
            }
            t_sink = now_ms() - t0;
            continue;
        }
        bson_t *docs[BATCH];
        char msg[256];
        for (int i = 0; i < b; i++) {
            docs[i] = bson_new();
            if (rb_sink_build_doc(docs[i], &items[i], fmt, 1700000000000, msg, sizeof msg) != 0) {
                fprintf(stderr, "doc: %s\n", msg);
                return 1;
            }
        }
        bson_error_t e;
        bool ok =
            mongoc_collection_insert_many(coll, (const bson_t **)docs, (size_t)b, NULL, NULL, &e);
        for (int i = 0; i < b; i++) bson_destroy(docs[i]);
        if (!ok) {
            fprintf(stderr, "insert: %s\n", e.message);
            return 1;
        }
    }
    double wt = now_ms() - t0;
    int first = n < SINK_DOCS ? n : SINK_DOCS;
    printf("rb_sink_write of the first %d docs (%s, batches of %d): %.0f ms, "
           "%.0f docs/s\n",
           first, fmt_name, BATCH, t_sink, first / (t_sink / 1e3));
    if (n > SINK_DOCS)
        printf("insert_many of the other %d (same documents): %.0f ms, %.0f docs/s\n",
               n - SINK_DOCS, wt - t_sink, (n - SINK_DOCS) / ((wt - t_sink) / 1e3));
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(raw);
    fflush(stdout);

    rb_searcher *s = rb_searcher_new(sink, "docs_vector", &err);
    double *t = malloc((size_t)queries * sizeof *t);
    float q[DIM];
    rb_search_result r;
    rb_sink_filter_eq eq[] = {{.field = "category", .value = "kitchen"}};
    for (int f = 0; f < 2; f++) {
        for (int i = -1; i < queries; i++) {
            random_unit(q);
            rb_search_query sq = {.vector = q,
                                  .dim = DIM,
                                  .k = 10,
                                  .equals = eq,
                                  .n_equals = (size_t)f};
            double a = now_ms();
            if (rb_searcher_query(s, &sq, &r, &err) != 0) {
                fprintf(stderr, "search: %s\n", err.msg);
                return 1;
            }
            double dt = now_ms() - a;
            if (i < 0)
                printf("first query (incl. $vectorSearch detection): %.1f ms; %s\n", dt, r.notice);
            else
                t[i] = dt;
            rb_search_result_free(&r);
        }
        report(f ? "exact search k=10, filter 1/5" : "exact search k=10, no filter", t, queries);
        fflush(stdout);
    }
    free(t);
    rb_searcher_destroy(s);
    for (int c = 0; c < 5; c++) rb_json_doc_destroy(meta[c]);
    free(vecs);
    free(items);
    free(m);
    free(ids);
    rb_sink_destroy(sink);
    return 0;
}

/* ---- part 2: double array vs binary float32 vector ------------------ */

static void append_vector(bson_t *doc, const float *v, bool binary) {
    if (binary) {
        /* BSON binary subtype 9 (vector): dtype 0x27 (float32), padding 0,
         * then the values little-endian. */
        uint8_t raw[2 + DIM * 4];
        raw[0] = 0x27;
        raw[1] = 0;
        memcpy(raw + 2, v, DIM * 4); /* x86-64 is little-endian */
        bson_append_binary(doc, "embedding", -1, (bson_subtype_t)9, raw, sizeof raw);
    } else {
        bson_t arr;
        char key[16];
        const char *k;
        BSON_APPEND_ARRAY_BEGIN(doc, "embedding", &arr);
        for (uint32_t i = 0; i < DIM; i++) {
            bson_uint32_to_string(i, &k, key, sizeof key);
            bson_append_double(&arr, k, -1, v[i]);
        }
        bson_append_array_end(doc, &arr);
    }
}

/* Decodes the stored vector; returns its length (0 if unreadable). */
static size_t read_vector(const bson_t *doc, float *out, int *subtype) {
    bson_iter_t it, arr;
    if (!bson_iter_init_find(&it, doc, "embedding")) return 0;
    if (BSON_ITER_HOLDS_BINARY(&it)) {
        bson_subtype_t st;
        uint32_t len;
        const uint8_t *data;
        bson_iter_binary(&it, &st, &len, &data);
        *subtype = (int)st;
        if (st != 9 || len < 2 || data[0] != 0x27 || (len - 2) % 4) return 0;
        size_t n = (len - 2) / 4;
        if (n > DIM) return 0;
        memcpy(out, data + 2, n * 4);
        return n;
    }
    if (!BSON_ITER_HOLDS_ARRAY(&it) || !bson_iter_recurse(&it, &arr)) return 0;
    *subtype = -1;
    size_t n = 0;
    while (bson_iter_next(&arr) && n < DIM) out[n++] = (float)bson_iter_as_double(&arr);
    return n;
}

static int part2(const char *uri, const char *db, int n) {
    fflush(stdout);
    mongoc_client_t *c = mongoc_client_new(uri);
    if (!c) return 1;
    for (int binary = 0; binary < 2; binary++) {
        const char *name = binary ? "vec_binary" : "vec_double";
        mongoc_collection_t *coll = mongoc_client_get_collection(c, db, name);
        float v[DIM];
        bson_error_t e;
        double t0 = now_ms();
        for (int done = 0; done < n; done += BATCH) {
            int b = n - done < BATCH ? n - done : BATCH;
            bson_t *docs[BATCH];
            for (int i = 0; i < b; i++) {
                docs[i] = bson_new();
                char id[32];
                snprintf(id, sizeof id, "v-%06d", done + i);
                BSON_APPEND_UTF8(docs[i], "_id", id);
                random_unit(v);
                append_vector(docs[i], v, binary);
            }
            bool ok = mongoc_collection_insert_many(coll, (const bson_t **)docs, (size_t)b, NULL,
                                                    NULL, &e);
            for (int i = 0; i < b; i++) bson_destroy(docs[i]);
            if (!ok) {
                fprintf(stderr, "%s insert: %s\n", name, e.message);
                return 1;
            }
        }
        double wt = now_ms() - t0;
        double rt[3];
        size_t got = 0;
        int subtype = -2;
        for (int rep = 0; rep < 3; rep++) {
            bson_t filter = BSON_INITIALIZER;
            mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
            const bson_t *doc;
            double a = now_ms();
            got = 0;
            while (mongoc_cursor_next(cur, &doc))
                if (read_vector(doc, v, &subtype) == DIM) got++;
            rt[rep] = now_ms() - a;
            if (mongoc_cursor_error(cur, &e)) fprintf(stderr, "%s read: %s\n", name, e.message);
            mongoc_cursor_destroy(cur);
            bson_destroy(&filter);
        }
        qsort(rt, 3, sizeof *rt, cmp_double);
        printf("%-10s write %d docs: %6.0f ms (%5.0f docs/s); read+decode all: median of 3 "
               "%6.0f ms (%5.0f docs/s); %zu vectors read back as %s\n",
               name, n, wt, n / (wt / 1e3), rt[1], got / (rt[1] / 1e3), got,
               subtype == 9    ? "binary subtype 9"
               : subtype == -1 ? "double arrays"
                               : "?");
        fflush(stdout);
        mongoc_collection_destroy(coll);
    }
    mongoc_client_destroy(c);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_search URI [N] [QUERIES] [float32,array,part2]\n");
        return 2;
    }
    int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 10000;
    int queries = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 100;
    const char *formats = argc > 4 ? argv[4] : "float32,array";
    if (n < 1 || queries < 1) return 2;
    char db[64];
    snprintf(db, sizeof db, "bench_search_%ld", (long)getpid());
    rb_sink_global_init();
    int rc = 0;
    if (strstr(formats, "float32")) rc = part1(argv[1], db, n, queries, RB_SINK_VECTOR_FLOAT32);
    if (rc == 0 && strstr(formats, "array"))
        rc = part1(argv[1], db, n, queries, RB_SINK_VECTOR_ARRAY);
    if (rc == 0 && strstr(formats, "part2")) rc = part2(argv[1], db, n);
    /* Drop the database whatever happened. */
    rb_error err;
    rb_sink_opts so = {.uri = argv[1], .database = db, .collection = "docs"};
    rb_sink *s = rb_sink_new(&so, &err);
    if (!s || rb_sink_drop_database(s, &err) != 0)
        fprintf(stderr, "could not drop %s: %s\n", db, err.msg);
    rb_sink_destroy(s);
    rb_sink_global_cleanup();
    return rc;
}
