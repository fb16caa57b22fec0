/*
 * probe.c -- what one 1,000-record batch costs the sink, per query shape,
 * as the collection grows.  Not a test: it prints figures for
 * bench/README.md (bench/sink/run.sh builds and runs it).
 *
 * Usage: probe URI [SIZES] [SHAPES] [BUDGET_S]
 *   SIZES   comma list of stored-document counts, ascending (default
 *           1000,10000,50000,100000)
 *   SHAPES  comma list of the shapes below, or "all" (the default)
 *   BUDGET_S seconds one shape may take at one size (default 30); a shape
 *           that runs out stops early and its figure is extrapolated to
 *           1,000 operations (printed with the count actually done)
 *   PROBE_VECTOR=array (environment) stores double arrays instead of
 *           float32 binary vectors (mongo-java-server 1.47 cannot decode
 *           BSON binary subtype 9 and drops the connection)
 *   PROBE_WINDOW=N (environment) update ops per command on FerretDB
 *           (default 16): FerretDB 1.x holds a backend connection for each
 *           matched statement until its update command ends (50 at most on
 *           PostgreSQL, 100 on SQLite), so larger windows wait forever
 * `probe URI clean` drops the databases of probes that did not finish.
 *
 * The documents are ragbatch's own (rb_sink_build_doc): text, a 384-value
 * float32 binary vector, text_hash, model, the demo job's metadata,
 * version, event_time, source, ingested_at, deleted.  The collection is
 * filled with insert commands up to each size in turn, and at each size
 * every shape runs on 1,000 ids picked at random among the stored ones
 * (new ids for the inserts).  The writes raise the versions of the
 * documents they touch, so a later shape still finds them older; the
 * inserted documents are deleted again by the `delete` shape, so the size
 * holds.  The database (rbprobe_<pid>) is dropped at the end.
 *
 * libmongoc is used directly: this measures the server, not the sink.
 */
#include "bench/sink/fixture.h"
#include "common/prng.h"
#include "sink/bson_doc.h"
#include "sink/sink.h"
#include "json/json.h"

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIM BENCH_DIM
#define BATCH 1000
#define THREADS 4 /* clients used by the pipelined shapes */

typedef struct probe {
    const char *uri;
    char db[64];
    mongoc_client_pool_t *pool;
    mongoc_client_t *c;
    mongoc_collection_t *coll;
    bool ferretdb;
    long stored;      /* documents ids 0..stored-1 exist */
    long next_new;    /* first id never used */
    int64_t *version; /* current version of each id (grown as needed) */
    long version_cap;
    rb_sink_meta meta[BENCH_N_META];
    rb_json_doc *event;
    float vec[DIM];
    double budget_ms;
    rb_sink_vector_format format;
    int window;  /* update ops per command on FerretDB (PROBE_WINDOW, default 16) */
    rb_prng rng; /* which stored ids a batch updates */
} probe;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *msg) {
    fprintf(stderr, "probe: %s: %s\n", what, msg);
    exit(1);
}

static void id_of(long n, char *buf, size_t len) { snprintf(buf, len, "p-%07ld", n); }

static void grow_versions(probe *p, long n) {
    if (n <= p->version_cap) return;
    long cap = p->version_cap ? p->version_cap : 1024;
    while (cap < n) cap *= 2;
    p->version = realloc(p->version, (size_t)cap * sizeof *p->version);
    if (!p->version) die("versions", "out of memory");
    memset(p->version + p->version_cap, 0, (size_t)(cap - p->version_cap) * sizeof *p->version);
    p->version_cap = cap;
}

/* The stored form of document `n` at `version`, as the sink builds it. */
static void build(probe *p, long n, int64_t version, bson_t *doc) {
    char id[32], msg[256];
    id_of(n, id, sizeof id);
    rb_sink_item it = {.kind = RB_SINK_UPSERT,
                       .id = id,
                       .version = version,
                       .event_time_ms = 1764000000000 + version,
                       .text = bench_text,
                       .text_hash =
                           "3f5a1c0e9b7d2a4c6e8f0b1d3a5c7e9f1b3d5f7a9c1e3a5b7d9f1a3c5e7a9b1d",
                       .vector = p->vec,
                       .dim = DIM,
                       .model = "all-MiniLM-L6-v2",
                       .metadata = p->meta,
                       .n_metadata = BENCH_N_META,
                       .topic = "product-updates",
                       .partition = (int32_t)(n % 4),
                       .offset = n};
    bson_init(doc);
    if (rb_sink_build_doc(doc, &it, p->format, 1764000000000, msg, sizeof msg) != 0)
        die("document", msg);
}

static mongoc_bulk_operation_t *new_bulk(mongoc_collection_t *coll) {
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_bulk_operation_t *b = mongoc_collection_create_bulk_operation_with_opts(coll, &opts);
    bson_destroy(&opts);
    return b;
}

/* Runs a bulk; returns false (message in `msg`) on any failure. */
static bool run_bulk(mongoc_bulk_operation_t *b, char *msg, size_t len, bson_t *reply_out) {
    bson_t reply;
    bson_error_t e;
    bool ok = mongoc_bulk_operation_execute(b, &reply, &e) != 0;
    if (!ok) snprintf(msg, len, "%.150s", e.message);
    if (reply_out) bson_copy_to(&reply, reply_out);
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(b);
    return ok;
}

static void fill_to(probe *p, long target) {
    double t0 = now_ms();
    while (p->stored < target) {
        long n = target - p->stored < BATCH ? target - p->stored : BATCH;
        mongoc_bulk_operation_t *b = new_bulk(p->coll);
        grow_versions(p, p->stored + n);
        for (long i = 0; i < n; i++) {
            bson_t doc;
            bson_error_t e;
            build(p, p->stored + i, 1, &doc);
            if (!mongoc_bulk_operation_insert_with_opts(b, &doc, NULL, &e))
                die("insert", e.message);
            bson_destroy(&doc);
            p->version[p->stored + i] = 1;
        }
        char msg[512];
        if (!run_bulk(b, msg, sizeof msg, NULL)) die("fill", msg);
        p->stored += n;
    }
    if (p->next_new < p->stored) p->next_new = p->stored;
    printf("# filled to %ld documents in %.1f s\n", p->stored, (now_ms() - t0) / 1e3);
    fflush(stdout);
}

/* 1,000 distinct ids among the stored ones (a partial Fisher-Yates
 * shuffle), or all of them when fewer are stored. */
static int pick(probe *p, long *ids) {
    static long *perm;
    static long perm_n;
    long n = p->stored;
    if (perm_n != n) {
        perm = realloc(perm, (size_t)n * sizeof *perm);
        if (!perm) die("pick", "out of memory");
        for (long i = 0; i < n; i++) perm[i] = i;
        perm_n = n;
    }
    int k = n < BATCH ? (int)n : BATCH;
    for (int i = 0; i < k; i++) {
        long j = i + (long)rb_prng_below(&p->rng, (uint64_t)(n - i));
        long t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
        ids[i] = perm[i];
    }
    return k;
}

static void report(probe *p, const char *shape, int done, double ms, const char *note) {
    double per = done ? ms * BATCH / done : 0;
    printf("size=%ld shape=%-12s ops=%4d ms=%9.1f per_batch_ms=%9.1f%s%s\n", p->stored, shape,
           done, ms, per, note ? " " : "", note ? note : "");
    fflush(stdout);
}

/* ---- reads --------------------------------------------------------------- */

static void projection(bson_t *opts, bool full) {
    bson_t proj;
    BSON_APPEND_DOCUMENT_BEGIN(opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "version", 1);
    if (full) {
        BSON_APPEND_INT32(&proj, "text_hash", 1);
        BSON_APPEND_INT32(&proj, "model", 1);
        BSON_APPEND_INT32(&proj, "embedding", 1);
        BSON_APPEND_INT32(&proj, "deleted", 1);
    }
    bson_append_document_end(opts, &proj);
}

static void shape_in(probe *p, bool full) {
    long ids[BATCH];
    pick(p, ids);
    bson_t filter = BSON_INITIALIZER, in, arr, opts = BSON_INITIALIZER;
    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
    for (int i = 0; i < BATCH; i++) {
        char id[32], key[16];
        const char *k;
        id_of(ids[i], id, sizeof id);
        bson_uint32_to_string((uint32_t)i, &k, key, sizeof key);
        BSON_APPEND_UTF8(&arr, k, id);
    }
    bson_append_array_end(&in, &arr);
    bson_append_document_end(&filter, &in);
    projection(&opts, full);
    double t0 = now_ms();
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(p->coll, &filter, &opts, NULL);
    const bson_t *d;
    int got = 0;
    while (mongoc_cursor_next(cur, &d)) got++;
    bson_error_t e;
    double ms = now_ms() - t0;
    char note[64];
    snprintf(note, sizeof note, "found=%d", got);
    if (mongoc_cursor_error(cur, &e))
        report(p, full ? "in_full" : "in_version", 0, ms, e.message);
    else
        report(p, full ? "in_full" : "in_version", BATCH, ms, note);
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
    bson_destroy(&opts);
}

typedef struct point_job {
    probe *p;
    const long *ids;
    int from, to, done, found;
    double deadline;
    char err[256];
} point_job;

static void *point_main(void *arg) {
    point_job *j = arg;
    mongoc_client_t *c = mongoc_client_pool_pop(j->p->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, j->p->db, "docs");
    for (int i = j->from; i < j->to && now_ms() < j->deadline; i++) {
        char id[32];
        id_of(j->ids[i], id, sizeof id);
        bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&filter, "_id", id);
        BSON_APPEND_INT64(&opts, "limit", 1);
        BSON_APPEND_BOOL(&opts, "singleBatch", true);
        projection(&opts, true);
        mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
        const bson_t *d;
        if (mongoc_cursor_next(cur, &d)) j->found++;
        bson_error_t e;
        if (mongoc_cursor_error(cur, &e)) snprintf(j->err, sizeof j->err, "%.200s", e.message);
        mongoc_cursor_destroy(cur);
        bson_destroy(&filter);
        bson_destroy(&opts);
        if (j->err[0]) break;
        j->done++;
    }
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(j->p->pool, c);
    return NULL;
}

static void shape_point(probe *p, int threads) {
    long ids[BATCH];
    pick(p, ids);
    point_job jobs[THREADS];
    pthread_t th[THREADS];
    double t0 = now_ms();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (point_job){.p = p,
                              .ids = ids,
                              .from = t * BATCH / threads,
                              .to = (t + 1) * BATCH / threads,
                              .deadline = t0 + p->budget_ms};
        pthread_create(&th[t], NULL, point_main, &jobs[t]);
    }
    int done = 0, found = 0;
    const char *err = NULL;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        done += jobs[t].done;
        found += jobs[t].found;
        if (jobs[t].err[0]) err = jobs[t].err;
    }
    char note[300];
    snprintf(note, sizeof note, "found=%d%s%s", found, err ? " error=" : "", err ? err : "");
    report(p, threads == 1 ? "point_x1" : "point_x4", done, now_ms() - t0, note);
}

/* ---- writes -------------------------------------------------------------- */

enum wshape { W_INSERT, W_REPLACE_ID, W_REPLACE_LT, W_REPLACE_CAS, W_PIPELINE, W_DELETE };

static const char *wname(enum wshape s) {
    switch (s) {
    case W_INSERT: return "insert";
    case W_REPLACE_ID: return "replace_id";
    case W_REPLACE_LT: return "replace_lt";
    case W_REPLACE_CAS: return "replace_cas";
    case W_PIPELINE: return "pipeline";
    case W_DELETE: return "delete";
    }
    return "?";
}

/* {$replaceWith: {$cond: {if: {$lt: ["$version", v]}, then: {$literal: doc},
 *  else: "$$ROOT"}}}: the filter is {_id} alone and the version check runs
 * inside the update, on the document the server holds. */
static void pipeline_of(const bson_t *doc, int64_t v, bson_t *pl) {
    bson_t st, rw, cond, ifd, lt, lit;
    bson_init(pl);
    BSON_APPEND_DOCUMENT_BEGIN(pl, "0", &st);
    BSON_APPEND_DOCUMENT_BEGIN(&st, "$replaceWith", &rw);
    BSON_APPEND_DOCUMENT_BEGIN(&rw, "$cond", &cond);
    BSON_APPEND_DOCUMENT_BEGIN(&cond, "if", &ifd);
    BSON_APPEND_ARRAY_BEGIN(&ifd, "$lt", &lt);
    BSON_APPEND_UTF8(&lt, "0", "$version");
    BSON_APPEND_INT64(&lt, "1", v);
    bson_append_array_end(&ifd, &lt);
    bson_append_document_end(&cond, &ifd);
    BSON_APPEND_DOCUMENT_BEGIN(&cond, "then", &lit);
    BSON_APPEND_DOCUMENT(&lit, "$literal", doc);
    bson_append_document_end(&cond, &lit);
    BSON_APPEND_UTF8(&cond, "else", "$$ROOT");
    bson_append_document_end(&rw, &cond);
    bson_append_document_end(&st, &rw);
    bson_append_document_end(pl, &st);
}

/* Appends the op of `shape` for document n; its version becomes v. */
static bool append(probe *p, mongoc_bulk_operation_t *b, enum wshape shape, long n, int64_t v,
                   bson_error_t *e) {
    char id[32];
    id_of(n, id, sizeof id);
    bson_t filter = BSON_INITIALIZER, doc, opts = BSON_INITIALIZER, cond;
    bool ok;
    BSON_APPEND_UTF8(&filter, "_id", id);
    if (shape == W_DELETE) {
        ok = mongoc_bulk_operation_remove_one_with_opts(b, &filter, NULL, e);
        bson_destroy(&filter);
        return ok;
    }
    build(p, n, v, &doc);
    BSON_APPEND_BOOL(&opts, "upsert", shape != W_REPLACE_CAS);
    switch (shape) {
    case W_INSERT: ok = mongoc_bulk_operation_insert_with_opts(b, &doc, NULL, e); break;
    case W_REPLACE_LT:
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "version", &cond);
        BSON_APPEND_INT64(&cond, "$lt", v);
        bson_append_document_end(&filter, &cond);
        /* fall through */
    case W_REPLACE_ID:
        ok = mongoc_bulk_operation_replace_one_with_opts(b, &filter, &doc, &opts, e);
        break;
    case W_REPLACE_CAS:
        BSON_APPEND_INT64(&filter, "version", p->version[n]);
        ok = mongoc_bulk_operation_replace_one_with_opts(b, &filter, &doc, &opts, e);
        break;
    case W_PIPELINE: {
        bson_t pl;
        pipeline_of(&doc, v, &pl);
        ok = mongoc_bulk_operation_update_one_with_opts(b, &filter, &pl, &opts, e);
        bson_destroy(&pl);
        break;
    }
    default: ok = false;
    }
    bson_destroy(&doc);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return ok;
}

typedef struct write_job {
    probe *p;
    enum wshape shape;
    const long *ids;
    int from, to, done, window;
    double deadline;
    char err[300];
    int64_t matched, modified, upserted, inserted, removed;
} write_job;

static void *write_main(void *arg) {
    write_job *j = arg;
    mongoc_client_t *c = mongoc_client_pool_pop(j->p->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, j->p->db, "docs");
    for (int i = j->from; i < j->to && now_ms() < j->deadline && !j->err[0]; i += j->window) {
        int end = i + j->window < j->to ? i + j->window : j->to;
        mongoc_bulk_operation_t *b = new_bulk(coll);
        bson_error_t e;
        for (int k = i; k < end; k++) {
            long n = j->ids[k];
            if (!append(j->p, b, j->shape, n, j->p->version[n] + 1, &e)) {
                snprintf(j->err, sizeof j->err, "append: %.200s", e.message);
                break;
            }
        }
        if (j->err[0]) {
            mongoc_bulk_operation_destroy(b);
            break;
        }
        bson_t reply;
        bson_init(&reply);
        char msg[200];
        if (!run_bulk(b, msg, sizeof msg, &reply)) snprintf(j->err, sizeof j->err, "%.190s", msg);
        bson_iter_t it;
        const char *keys[] = {"nMatched", "nModified", "nUpserted", "nInserted", "nRemoved"};
        int64_t *dst[] = {&j->matched, &j->modified, &j->upserted, &j->inserted, &j->removed};
        for (int k = 0; k < 5; k++)
            if (bson_iter_init_find(&it, &reply, keys[k]) && BSON_ITER_HOLDS_NUMBER(&it))
                *dst[k] += bson_iter_as_int64(&it);
        bson_destroy(&reply);
        if (j->err[0]) break;
        for (int k = i; k < end; k++) j->p->version[j->ids[k]]++;
        j->done += end - i;
    }
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(j->p->pool, c);
    return NULL;
}

static void shape_write(probe *p, enum wshape shape, int threads) {
    static long ids[BATCH];
    if (threads > 1 && p->ferretdb) {
        /* FerretDB 1.x holds one of its connections per matched statement
         * until an update command ends: concurrent windows exhaust them
         * and every command waits forever (seen with 4 x 50). */
        printf("size=%ld shape=%s_x4 skipped: concurrent updates deadlock FerretDB 1.x\n",
               p->stored, wname(shape));
        return;
    }
    if (shape == W_INSERT) {
        grow_versions(p, p->next_new + BATCH);
        for (int i = 0; i < BATCH; i++) ids[i] = p->next_new + i;
    } else if (shape != W_DELETE) {
        pick(p, ids);
    } /* W_DELETE: the ids the last insert added */
    /* Inserts go in one command (servers handle ordered: false inserts);
     * updates in windows, as the sink cuts them for FerretDB. */
    /* Deletes go in windows there too, so that the budget can stop them:
     * each is a table scan on FerretDB. */
    int window = shape == W_INSERT || !p->ferretdb ? BATCH : p->window;
    if (threads > 1 && window == BATCH) window = BATCH / threads;
    write_job jobs[THREADS];
    pthread_t th[THREADS];
    double t0 = now_ms();
    for (int t = 0; t < threads; t++) {
        jobs[t] = (write_job){.p = p,
                              .shape = shape,
                              .ids = ids,
                              .from = t * BATCH / threads,
                              .to = (t + 1) * BATCH / threads,
                              .window = window,
                              .deadline = t0 + p->budget_ms};
        pthread_create(&th[t], NULL, write_main, &jobs[t]);
    }
    int done = 0;
    int64_t matched = 0, modified = 0, upserted = 0, inserted = 0, removed = 0;
    const char *err = NULL;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        done += jobs[t].done;
        matched += jobs[t].matched;
        modified += jobs[t].modified;
        upserted += jobs[t].upserted;
        inserted += jobs[t].inserted;
        removed += jobs[t].removed;
        if (jobs[t].err[0]) err = jobs[t].err;
    }
    double ms = now_ms() - t0;
    if (shape == W_INSERT) p->next_new += done;
    if (shape == W_DELETE) {
        /* Untimed: what the budget left is deleted in one command, so that
         * the next fill starts where the stored ids end. */
        bson_t filter = BSON_INITIALIZER, in, arr;
        bson_error_t e;
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
        BSON_APPEND_ARRAY_BEGIN(&in, "$in", &arr);
        for (long n = p->stored; n < p->next_new; n++) {
            char id[32], key[16];
            const char *k;
            id_of(n, id, sizeof id);
            bson_uint32_to_string((uint32_t)(n - p->stored), &k, key, sizeof key);
            BSON_APPEND_UTF8(&arr, k, id);
        }
        bson_append_array_end(&in, &arr);
        bson_append_document_end(&filter, &in);
        if (!mongoc_collection_delete_many(p->coll, &filter, NULL, NULL, &e))
            die("delete the rest", e.message);
        bson_destroy(&filter);
        p->next_new = p->stored;
    }
    char note[400], name[32];
    snprintf(note, sizeof note,
             "matched=%lld modified=%lld upserted=%lld inserted=%lld "
             "removed=%lld%s%s",
             (long long)matched, (long long)modified, (long long)upserted, (long long)inserted,
             (long long)removed, err ? " error=" : "", err ? err : "");
    snprintf(name, sizeof name, "%s%s", wname(shape), threads > 1 ? "_x4" : "");
    report(p, name, done, ms, note);
}

/* ---- driver -------------------------------------------------------------- */

static bool wanted(const char *list, const char *shape) {
    if (strcmp(list, "all") == 0) return true;
    size_t n = strlen(shape);
    for (const char *s = list; (s = strstr(s, shape)); s += n)
        if ((s == list || s[-1] == ',') && (s[n] == ',' || s[n] == '\0')) return true;
    return false;
}

static bool server_is_ferretdb(mongoc_client_t *c) {
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    BSON_APPEND_INT32(&cmd, "buildInfo", 1);
    bool yes = mongoc_client_command_simple(c, "admin", &cmd, NULL, &reply, &e) &&
               bson_iter_init_find(&it, &reply, "ferretdbVersion");
    char *j = bson_as_relaxed_extended_json(&reply, NULL);
    printf("# buildInfo: %.300s\n", j ? j : "?");
    bson_free(j);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return yes;
}

/* Drops the databases of earlier probes that did not finish. */
static int clean(const char *uri) {
    mongoc_init();
    bench_drop_databases(uri, "rbprobe_");
    mongoc_cleanup();
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: probe URI [SIZES] [SHAPES] [BUDGET_S]\n");
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "clean") == 0) return clean(argv[1]);
    const char *sizes = argc > 2 ? argv[2] : "1000,10000,50000,100000";
    const char *shapes = argc > 3 ? argv[3] : "all";
    static probe p;
    setvbuf(stdout, NULL, _IOLBF, 0);
    p.uri = argv[1];
    rb_prng_seed(&p.rng, 0x2545F4914F6CDD1Dull);
    p.budget_ms = (argc > 4 ? atof(argv[4]) : 30) * 1e3;
    p.window = getenv("PROBE_WINDOW") ? atoi(getenv("PROBE_WINDOW")) : 16;
    if (p.window < 1) p.window = 1;
    const char *fmt = getenv("PROBE_VECTOR");
    p.format = fmt && strcmp(fmt, "array") == 0 ? RB_SINK_VECTOR_ARRAY : RB_SINK_VECTOR_FLOAT32;
    snprintf(p.db, sizeof p.db, "rbprobe_%ld", (long)getpid());
    for (int i = 0; i < DIM; i++) p.vec[i] = (float)((i * 37 % 101) - 50) / 97.0f;
    bench_fixture_meta(&p.event, p.meta);
    mongoc_init();
    bson_error_t e;
    mongoc_uri_t *u = mongoc_uri_new_with_error(p.uri, &e);
    if (!u) die("uri", e.message);
    mongoc_uri_set_option_as_int32(u, MONGOC_URI_SOCKETTIMEOUTMS, 900000);
    mongoc_uri_set_option_as_int32(u, MONGOC_URI_MAXPOOLSIZE, THREADS + 1);
    p.pool = mongoc_client_pool_new(u);
    mongoc_uri_destroy(u);
    mongoc_client_pool_set_error_api(p.pool, MONGOC_ERROR_API_VERSION_2);
    p.c = mongoc_client_pool_pop(p.pool);
    p.ferretdb = server_is_ferretdb(p.c);
    p.coll = mongoc_client_get_collection(p.c, p.db, "docs");
    { /* the sink's own secondary index, and with PROBE_CAS_INDEX=1 a
         * compound {_id, version} index for the compare-and-swap filter */
        bool cas = getenv("PROBE_CAS_INDEX") && strcmp(getenv("PROBE_CAS_INDEX"), "1") == 0;
        bson_t cmd = BSON_INITIALIZER, idx, one, key, reply;
        BSON_APPEND_UTF8(&cmd, "createIndexes", "docs");
        BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &idx);
        BSON_APPEND_DOCUMENT_BEGIN(&idx, "0", &one);
        BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &key);
        BSON_APPEND_INT32(&key, "text_hash", 1);
        bson_append_document_end(&one, &key);
        BSON_APPEND_UTF8(&one, "name", "text_hash_1");
        bson_append_document_end(&idx, &one);
        if (cas) {
            BSON_APPEND_DOCUMENT_BEGIN(&idx, "1", &one);
            BSON_APPEND_DOCUMENT_BEGIN(&one, "key", &key);
            BSON_APPEND_INT32(&key, "_id", 1);
            BSON_APPEND_INT32(&key, "version", 1);
            bson_append_document_end(&one, &key);
            BSON_APPEND_UTF8(&one, "name", "_id_1_version_1");
            BSON_APPEND_BOOL(&one, "unique", true); /* non-unique ones are not kept there */
            bson_append_document_end(&idx, &one);
            printf("# with a unique compound index {_id: 1, version: 1}\n");
        }
        bson_append_array_end(&cmd, &idx);
        if (!mongoc_client_write_command_with_opts(p.c, p.db, &cmd, NULL, &reply, &e))
            die("createIndexes", e.message);
        bson_destroy(&reply);
        bson_destroy(&cmd);
    }
    printf("# database %s, batch %d, update window %d on FerretDB, budget %.0f s per shape, "
           "vectors as %s\n",
           p.db, BATCH, p.window, p.budget_ms / 1e3,
           p.format == RB_SINK_VECTOR_ARRAY ? "double arrays" : "float32 binary (subtype 9)");
    for (const char *s = sizes; *s;) {
        long target = strtol(s, (char **)&s, 10);
        if (*s == ',') s++;
        fill_to(&p, target);
        if (wanted(shapes, "in_version")) shape_in(&p, false);
        if (wanted(shapes, "in_full")) shape_in(&p, true);
        if (wanted(shapes, "point_x1")) shape_point(&p, 1);
        if (wanted(shapes, "point_x4")) shape_point(&p, THREADS);
        if (wanted(shapes, "replace_id")) shape_write(&p, W_REPLACE_ID, 1);
        if (wanted(shapes, "replace_id_x4")) shape_write(&p, W_REPLACE_ID, THREADS);
        if (wanted(shapes, "replace_cas")) shape_write(&p, W_REPLACE_CAS, 1);
        if (wanted(shapes, "replace_lt")) shape_write(&p, W_REPLACE_LT, 1);
        if (wanted(shapes, "pipeline")) shape_write(&p, W_PIPELINE, 1);
        if (wanted(shapes, "insert")) {
            shape_write(&p, W_INSERT, 1);
            shape_write(&p, W_DELETE, 1);
        }
    }
    mongoc_database_t *db = mongoc_client_get_database(p.c, p.db);
    if (!mongoc_database_drop(db, &e)) fprintf(stderr, "probe: drop: %s\n", e.message);
    mongoc_database_destroy(db);
    mongoc_collection_destroy(p.coll);
    mongoc_client_pool_push(p.pool, p.c);
    mongoc_client_pool_destroy(p.pool);
    rb_json_doc_destroy(p.event);
    free(p.version);
    mongoc_cleanup();
    return 0;
}
