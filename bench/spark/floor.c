/*
 * floor.c -- what the "embedding taken out" comparison cannot go below on
 * this machine: the MongoDB-wire server's cost of storing the documents and
 * the instant embeddings server's cost of answering for them, each measured
 * with nothing else running (bench/spark/floor.sh runs both under the
 * timing lock and prints the servers' CPU time beside them).
 *
 *   floor insert URI N CHUNK   builds N of ragbatch's own documents
 *                              (rb_sink_build_doc: the demo job's metadata,
 *                              a 384-double array, hash, version, source...)
 *                              and stores them with plain unordered
 *                              insert_many calls of CHUNK documents into a
 *                              database of its own (rbfloor_<pid>, dropped at
 *                              the end): no lookup, no version check, no
 *                              Kafka, no embedding
 *   floor embed URL N CHUNK C  embeds N texts of the job's length through
 *                              ragbatch's HTTP embedder (embed.provider =
 *                              openai, 32 texts per request, C requests in
 *                              flight) in calls of CHUNK, as the runner calls
 *                              it per batch
 *
 * Each prints one line: records/s, wall ms, this process's CPU ms (user +
 * system), and for insert the BSON building's own ms.  FLOOR_THREADS=T
 * splits the inserts over T clients at once.  Not a test.
 */
#include "bench/sink/fixture.h"
#include "common/clock.h"
#include "embed/embedder.h"
#include "runner/embed_opts.h"
#include "sink/bson_doc.h"
#include "sink/sink.h"
#include "json/json.h"

#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define DIM BENCH_DIM

static void die(const char *what, const char *msg) {
    fprintf(stderr, "floor: %s: %s\n", what, msg);
    exit(1);
}

static double cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static long parse_count(const char *s, const char *what) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > 10000000) die(what, "not a count from 1 to 10000000");
    return v;
}

typedef struct inserter {
    const char *uri, *db;
    const rb_sink_meta *meta;
    long from, to, chunk;
    double build_ms;
    const char *failed; /* NULL, or what failed */
    char msg[512];
} inserter;

/* Stores documents [from, to) with a client of its own. */
static void *insert_range(void *arg) {
    inserter *in = arg;
    mongoc_uri_t *u = mongoc_uri_new(in->uri);
    mongoc_uri_set_option_as_int32(u, MONGOC_URI_SOCKETTIMEOUTMS, 3600000);
    mongoc_client_t *client = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    mongoc_collection_t *coll = mongoc_client_get_collection(client, in->db, "products");
    bson_t **docs = calloc((size_t)in->chunk, sizeof *docs);
    float vec[DIM];
    char id[32];
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    bson_error_t e;
    for (long done = in->from; done < in->to && !in->failed;) {
        long k = in->to - done < in->chunk ? in->to - done : in->chunk;
        double b0 = rb_now_sec() * 1e3;
        for (long i = 0; i < k; i++) {
            long x = done + i;
            for (int j = 0; j < DIM; j++) /* a different vector per document */
                vec[j] = (float)((x * 31 + j * 37) % 2001 - 1000) / 1000.0f;
            snprintf(id, sizeof id, "p-%07ld", x);
            rb_sink_item it = {.kind = RB_SINK_UPSERT,
                               .id = id,
                               .version = 1,
                               .event_time_ms = 1764000000000 + x,
                               .topic = "product-updates",
                               .partition = (int32_t)(x % 3),
                               .offset = x,
                               .text = bench_text,
                               .text_hash = bench_text_hash,
                               .vector = vec,
                               .dim = DIM,
                               .model = "bench",
                               .metadata = in->meta,
                               .n_metadata = BENCH_N_META};
            docs[i] = bson_new();
            if (rb_sink_build_doc(docs[i], &it, RB_SINK_VECTOR_ARRAY, 1764000000000, in->msg,
                                  sizeof in->msg) != 0)
                in->failed = "document";
        }
        in->build_ms += rb_now_sec() * 1e3 - b0;
        if (!in->failed && !mongoc_collection_insert_many(coll, (const bson_t **)docs, (size_t)k,
                                                          &opts, NULL, &e)) {
            in->failed = "insert_many";
            snprintf(in->msg, sizeof in->msg, "%s", e.message);
        }
        for (long i = 0; i < k; i++) bson_destroy(docs[i]);
        done += k;
    }
    bson_destroy(&opts);
    free(docs);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(client);
    return NULL;
}

/* FLOOR_THREADS (default 1) clients insert disjoint ranges at once: whether
 * the server serves concurrent writers in parallel. */
static int insert(const char *uri, long n, long chunk) {
    rb_sink_global_init();
    rb_json_doc *event;
    rb_sink_meta meta[BENCH_N_META];
    bench_fixture_meta(&event, meta);
    const char *tenv = getenv("FLOOR_THREADS");
    long threads = tenv ? parse_count(tenv, "FLOOR_THREADS") : 1;
    if (threads > 16) die("FLOOR_THREADS", "at most 16");
    mongoc_client_t *client = mongoc_client_new(uri);
    if (!client) die("URI", uri);
    char db[64];
    snprintf(db, sizeof db, "rbfloor_%ld", (long)getpid());
    bson_t *ping = BCON_NEW("ping", BCON_INT32(1));
    bson_error_t e;
    if (!mongoc_client_command_simple(client, "admin", ping, NULL, NULL, &e))
        die("ping", e.message);
    bson_destroy(ping);

    inserter in[16];
    pthread_t tid[16];
    double t0 = rb_now_sec() * 1e3, c0 = cpu_ms(), build_ms = 0;
    for (long t = 0; t < threads; t++) {
        in[t] = (inserter){.uri = uri,
                           .db = db,
                           .meta = meta,
                           .from = n * t / threads,
                           .to = n * (t + 1) / threads,
                           .chunk = chunk};
        if (pthread_create(&tid[t], NULL, insert_range, &in[t]) != 0) die("thread", "create");
    }
    for (long t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        if (in[t].failed) die(in[t].failed, in[t].msg);
        build_ms += in[t].build_ms;
    }
    double wall = rb_now_sec() * 1e3 - t0, cpu = cpu_ms() - c0;
    printf("floor insert: docs=%ld chunk=%ld threads=%ld wall_ms=%.0f records_per_s=%.0f "
           "client_cpu_ms=%.0f build_ms=%.0f\n",
           n, chunk, threads, wall, n * 1e3 / wall, cpu, build_ms);
    mongoc_database_t *d = mongoc_client_get_database(client, db);
    if (!mongoc_database_drop(d, &e)) fprintf(stderr, "floor: drop %s: %s\n", db, e.message);
    mongoc_database_destroy(d);
    mongoc_client_destroy(client);
    rb_json_doc_destroy(event);
    rb_sink_global_cleanup();
    return 0;
}

static int embed(const char *url, long n, long chunk, int concurrency) {
    rb_http_embed_opts o;
    rb_error err;
    if (rb_runner_http_embed_defaults(&o, &err) != 0) die("embedder", err.msg);
    o.provider = "openai";
    o.url = url;
    o.model = "bench";
    o.dimensions = DIM;
    o.concurrency = concurrency;
    o.batch_size = 32;
    o.tls_verify = 1;
    o.retries = 0; /* a failed request ends the run instead of being retried into the figure */
    rb_embedder *e = rb_embedder_http_new(&o, &err);
    if (!e) die("embedder", err.msg);
    char **texts = malloc((size_t)n * sizeof *texts);
    float *out = malloc((size_t)chunk * DIM * sizeof *out);
    if (!texts || !out) die("texts", "out of memory");
    for (long i = 0; i < n; i++) { /* the job's texts are about this long */
        size_t size = strlen(bench_text) + 24;
        texts[i] = malloc(size);
        if (!texts[i]) die("texts", "out of memory");
        snprintf(texts[i], size, "%ld %s", i, bench_text);
    }
    double t0 = rb_now_sec() * 1e3, c0 = cpu_ms();
    for (long i = 0; i < n; i += chunk) {
        long k = n - i < chunk ? n - i : chunk;
        if (rb_embedder_embed(e, (const char *const *)texts + i, (size_t)k, out, &err) != 0)
            die("embed", err.msg);
    }
    double wall = rb_now_sec() * 1e3 - t0, cpu = cpu_ms() - c0;
    printf("floor embed: texts=%ld chunk=%ld concurrency=%d wall_ms=%.0f records_per_s=%.0f "
           "client_cpu_ms=%.0f\n",
           n, chunk, concurrency, wall, n * 1e3 / wall, cpu);
    for (long i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(out);
    rb_embedder_destroy(e);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "insert") == 0)
        return insert(argv[2], parse_count(argv[3], "N"), parse_count(argv[4], "CHUNK"));
    if (argc == 6 && strcmp(argv[1], "embed") == 0)
        return embed(argv[2], parse_count(argv[3], "N"), parse_count(argv[4], "CHUNK"),
                     (int)parse_count(argv[5], "C"));
    fprintf(stderr, "usage: floor insert URI N CHUNK | floor embed URL N CHUNK CONCURRENCY\n");
    return 2;
}
