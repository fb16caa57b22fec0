/*
 * flat.c -- what the sink path of one batch costs as the collection grows:
 * the runner's lookup (rb_sink_read_stored, vectors included, as with
 * embed.reuse.unchanged) and rb_sink_write with what the lookup found
 * (rb_sink_item.known), in the mode rb_sink_new() picks for the server.
 * Not a test: it prints figures for bench/README.md (bench/sink/run.sh).
 *
 * Usage: flat URI [SIZES] [KINDS] [BATCH] [REPEAT]
 *   SIZES  stored documents before the batches, ascending (default
 *          1000,10000,50000,100000); the collection is topped up to each
 *          with plain inserts of the sink's own documents (rb_sink_build_doc)
 *   KINDS  comma list of new (BATCH ids never stored), update (BATCH stored
 *          ids, newer versions), mixed (half new, 40% updates, 5% replays of
 *          the stored version, 5% soft deletes); default new,update,mixed;
 *          kind:N runs that kind with batches of N records
 *   BATCH  records per batch (default 1000); REPEAT batches per kind and
 *          size (default 3; the median is printed with min and max), after
 *          one untimed batch per kind at the first size (rep=-1: warm-up)
 * Vectors are float32 binary, or double arrays with FLAT_VECTOR=array (for
 * mongo-java-server).  FLAT_LOOKUP=0 leaves the lookup out, as a job with
 * embed.reuse.unchanged = false does: the sink then reads (or, where reads
 * do not pay, inserts first) by itself.  New documents stay, so the size printed is the
 * collection's size when the batch started.  The database (rbflat_<pid>)
 * is dropped at the end; `flat URI clean` drops leftovers of killed runs.
 */
#include "bench/sink/fixture.h"
#include "common/prng.h"
#include "sink/bson_doc.h"
#include "sink/sink.h"
#include "json/json.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIM BENCH_DIM
#define MAX_BATCH 10000
#define MAX_REPEAT 15

typedef struct bench {
    rb_sink *sink;
    mongoc_client_t *raw;
    mongoc_collection_t *coll;
    char db[64];
    rb_sink_vector_format format;
    long stored, next_id; /* ids 0..next_id-1 were written; `stored` are in the collection */
    int64_t *version;     /* per id; 0: never written */
    long version_cap;
    rb_sink_meta meta[BENCH_N_META];
    float vec[DIM];
    rb_prng rng;
    bool lookup; /* FLAT_LOOKUP=0: no lookup, as with embed.reuse.unchanged = false */
} bench;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *msg) {
    fprintf(stderr, "flat: %s: %s\n", what, msg);
    exit(1);
}

static void grow(bench *b, long n) {
    if (n <= b->version_cap) return;
    long cap = b->version_cap ? b->version_cap : 4096;
    while (cap < n) cap *= 2;
    b->version = realloc(b->version, (size_t)cap * sizeof *b->version);
    if (!b->version) die("versions", "out of memory");
    memset(b->version + b->version_cap, 0, (size_t)(cap - b->version_cap) * sizeof *b->version);
    b->version_cap = cap;
}

static char (*g_ids)[16];

static rb_sink_item item_for(bench *b, long n, rb_sink_kind kind, int64_t version, size_t slot) {
    snprintf(g_ids[slot], sizeof g_ids[slot], "p-%07ld", n);
    rb_sink_item it = {.kind = kind,
                       .id = g_ids[slot],
                       .version = version,
                       .event_time_ms = 1764000000000 + version,
                       .topic = "product-updates",
                       .partition = (int32_t)(n % 4),
                       .offset = n * 16 + version};
    if (kind == RB_SINK_UPSERT) {
        it.text = bench_text;
        it.text_hash = bench_text_hash;
        it.vector = b->vec;
        it.dim = DIM;
        it.model = "all-MiniLM-L6-v2";
        it.metadata = b->meta;
        it.n_metadata = BENCH_N_META;
    }
    return it;
}

static void fill_to(bench *b, long target) {
    double t0 = now_ms();
    grow(b, target);
    while (b->stored < target) {
        long n = target - b->stored < 1000 ? target - b->stored : 1000;
        bson_t *docs[1000];
        for (long i = 0; i < n; i++) {
            long id = b->next_id + i;
            rb_sink_item it = item_for(b, id, RB_SINK_UPSERT, 1, (size_t)i);
            char msg[256];
            docs[i] = bson_new();
            if (rb_sink_build_doc(docs[i], &it, b->format, 1764000000000, msg, sizeof msg) != 0)
                die("document", msg);
            b->version[id] = 1;
        }
        bson_error_t e;
        if (!mongoc_collection_insert_many(b->coll, (const bson_t **)docs, (size_t)n, NULL, NULL,
                                           &e))
            die("fill", e.message);
        for (long i = 0; i < n; i++) bson_destroy(docs[i]);
        b->stored += n;
        b->next_id += n;
    }
    printf("# filled to %ld documents in %.1f s\n", b->stored, (now_ms() - t0) / 1e3);
}

typedef struct lookup_ctx {
    rb_sink_item *items;
    size_t n;
    size_t found, reusable;
} lookup_ctx;

static int cmp_item_id(const void *key, const void *elem) {
    return strcmp(key, ((const rb_sink_item *)elem)->id);
}

static int on_stored(const rb_sink_stored_view *v, void *arg) {
    lookup_ctx *c = arg;
    rb_sink_item *it = bsearch(v->id, c->items, c->n, sizeof *c->items, cmp_item_id);
    if (!it) return 0;
    it->known = RB_SINK_KNOWN_PRESENT;
    it->known_version = v->version;
    c->found++;
    c->reusable += !v->deleted && v->text_hash && strcmp(v->text_hash, bench_text_hash) == 0 &&
                   v->dim == DIM;
    return 0;
}

static int cmp_items(const void *a, const void *b) {
    return strcmp(((const rb_sink_item *)a)->id, ((const rb_sink_item *)b)->id);
}

/* One batch of `kind`: builds the items, runs the lookup and the write,
 * returns the total ms and prints the parts. */
static double one_batch(bench *b, const char *kind, int n, int rep) {
    static rb_sink_item items[MAX_BATCH];
    long start_size = b->stored;
    grow(b, b->next_id + n);
    for (int i = 0; i < n; i++) {
        int slot = i;
        bool fresh = strcmp(kind, "new") == 0 || (strcmp(kind, "mixed") == 0 && i < n / 2);
        long id;
        if (fresh) {
            id = b->next_id++;
            b->stored++;
            items[i] = item_for(b, id, RB_SINK_UPSERT, 1, (size_t)slot);
            b->version[id] = 1;
            continue;
        }
        /* distinct stored ids, none chosen twice in this batch */
        do
            id = (long)(rb_prng_below(&b->rng,
                                      (uint64_t)(b->next_id -
                                                 (strcmp(kind, "mixed") == 0 ? n / 2 : 0))));
        while (b->version[id] < 0 || b->version[id] == 0);
        bool replay = strcmp(kind, "mixed") == 0 && i >= n * 9 / 10 && i < n * 19 / 20;
        bool del = strcmp(kind, "mixed") == 0 && i >= n * 19 / 20;
        int64_t v = replay ? b->version[id] : b->version[id] + 1;
        items[i] = item_for(b, id, del ? RB_SINK_SOFT_DELETE : RB_SINK_UPSERT, v, (size_t)slot);
        b->version[id] = -v; /* taken in this batch */
    }
    for (int i = 0; i < n; i++) {
        long id = strtol(items[i].id + 2, NULL, 10);
        if (b->version[id] < 0) b->version[id] = -b->version[id];
    }
    /* The runner's lookup: every id, vectors included; ids not found are
     * known absent. */
    qsort(items, (size_t)n, sizeof *items, cmp_items);
    const char **ids = malloc((size_t)n * sizeof *ids);
    for (int i = 0; i < n; i++) {
        ids[i] = items[i].id;
        items[i].known = RB_SINK_KNOWN_ABSENT;
    }
    lookup_ctx c = {items, (size_t)n, 0, 0};
    rb_error err;
    double t0 = now_ms();
    if (!b->lookup)
        for (int i = 0; i < n; i++) items[i].known = RB_SINK_UNKNOWN; /* the sink decides */
    else if (rb_sink_read_stored(b->sink, ids, (size_t)n, RB_SINK_READ_VECTORS, on_stored, &c,
                                 &err) != 0)
        die("lookup", err.msg);
    double t1 = now_ms();
    rb_sink_stats st = {0};
    if (rb_sink_write(b->sink, items, (size_t)n, &st, &err) != 0) die("write", err.msg);
    double t2 = now_ms();
    free(ids);
    printf("size=%ld kind=%-6s batch=%d rep=%d lookup_ms=%.1f write_ms=%.1f total_ms=%.1f "
           "found=%zu stored=%zu stale=%zu reads=%zu rounds=%zu\n",
           start_size, kind, n, rep, t1 - t0, t2 - t1, t2 - t0, c.found, st.stored, st.stale,
           st.reads, st.rounds);
    fflush(stdout);
    return t2 - t0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int clean(const char *uri) { return bench_drop_databases(uri, "rbflat_"); }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: flat URI [SIZES] [KINDS] [BATCH] [REPEAT]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    rb_sink_global_init();
    if (argc > 2 && strcmp(argv[2], "clean") == 0) return clean(argv[1]);
    const char *sizes = argc > 2 ? argv[2] : "1000,10000,50000,100000";
    const char *kinds = argc > 3 ? argv[3] : "new,update,mixed";
    int batch = argc > 4 ? atoi(argv[4]) : 1000;
    int repeat = argc > 5 ? atoi(argv[5]) : 3;
    if (batch < 20 || batch > MAX_BATCH || repeat < 1 || repeat > MAX_REPEAT) {
        fprintf(stderr, "flat: BATCH 20..%d, REPEAT 1..%d\n", MAX_BATCH, MAX_REPEAT);
        return 2;
    }
    static bench b;
    rb_prng_seed(&b.rng, 0x9E3779B97F4A7C15ull);
    g_ids = calloc(MAX_BATCH > 1000 ? MAX_BATCH : 1000, sizeof *g_ids);
    b.lookup = !getenv("FLAT_LOOKUP") || strcmp(getenv("FLAT_LOOKUP"), "0") != 0;
    const char *fmt = getenv("FLAT_VECTOR");
    b.format = fmt && strcmp(fmt, "array") == 0 ? RB_SINK_VECTOR_ARRAY : RB_SINK_VECTOR_FLOAT32;
    for (int i = 0; i < DIM; i++) b.vec[i] = (float)((i * 37 % 101) - 50) / 97.0f;
    rb_json_doc *event;
    rb_error err;
    bench_fixture_meta(&event, b.meta);
    snprintf(b.db, sizeof b.db, "rbflat_%ld", (long)getpid());
    rb_sink_opts so = {.uri = argv[1],
                       .database = b.db,
                       .collection = "products",
                       .timeout_ms = 10000,
                       .socket_timeout_ms = 3600000,
                       .vector_format = b.format,
                       .tombstone_retention_ms = RB_SINK_KEEP_TOMBSTONES};
    if (!(b.sink = rb_sink_new(&so, &err))) die("sink", err.msg);
    printf("# %s\n# database %s, vectors as %s, %s\n", rb_sink_describe(b.sink), b.db,
           b.format == RB_SINK_VECTOR_ARRAY ? "double arrays" : "float32 binary",
           b.lookup ? "the runner's lookup first (reuse on)"
                    : "no lookup (reuse off): the sink reads what it needs");
    mongoc_uri_t *u = mongoc_uri_new(argv[1]);
    mongoc_uri_set_option_as_int32(u, MONGOC_URI_SOCKETTIMEOUTMS, 3600000);
    b.raw = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    b.coll = mongoc_client_get_collection(b.raw, b.db, "products");
    bool warm = true;
    for (const char *s = sizes; *s; warm = false) {
        long target = strtol(s, (char **)&s, 10);
        if (*s == ',') s++;
        fill_to(&b, target);
        for (const char *k = kinds; *k;) {
            char kind[16];
            size_t len = strcspn(k, ","), name_len = strcspn(k, ",:");
            int n = name_len < len ? atoi(k + name_len + 1) : batch;
            snprintf(kind, sizeof kind, "%.*s", (int)name_len, k);
            k += len + (k[len] == ',');
            if (n < 20 || n > MAX_BATCH) die("kind", "a batch of 20 to 10000 records");
            double t[MAX_REPEAT];
            if (warm) /* the server's first batches (a JVM's JIT) are not the figure */
                one_batch(&b, kind, n, -1);
            for (int r = 0; r < repeat; r++) t[r] = one_batch(&b, kind, n, r);
            qsort(t, (size_t)repeat, sizeof *t, cmp_double);
            printf("median size~%ld kind=%s batch=%d total_ms=%.1f min=%.1f max=%.1f\n", target,
                   kind, n, t[repeat / 2], t[0], t[repeat - 1]);
        }
    }
    rb_sink_drop_database(b.sink, &err);
    mongoc_collection_destroy(b.coll);
    mongoc_client_destroy(b.raw);
    rb_sink_destroy(b.sink);
    rb_json_doc_destroy(event);
    free(b.version);
    free(g_ids);
    rb_sink_global_cleanup();
    return 0;
}
