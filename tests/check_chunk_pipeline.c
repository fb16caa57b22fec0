/*
 * Integration suite: long texts through the whole pipeline (ragbatch
 * binary, real Kafka, real MongoDB-wire server; see harness.h).  After
 * each step the chunk collection must hold exactly the chunk set of the
 * stored version: grow, shrink, back to one chunk, an older event late, a
 * replay, deletes, a set a crash left short, reuse of unchanged chunks,
 * and the limit on the number of chunks.
 */
#include "check_main.h"
#include "common/buf.h"
#include "common/clock.h"
#include "embed/embedder.h"
#include "expo.h"
#include "harness.h"
#include "json/json.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chunks small enough to make several of a few paragraphs; no overlap
 * unless a case sets it, so that one paragraph is one chunk. */
#define CHUNK_JOB "text.chunk.max.tokens = 64\ntext.chunk.overlap.tokens = 0\n"

typedef struct env {
    char topic[128], db[128], log[512];
    const char *job;
    rb_sink *docs, *chunks;
} env;

static void env_open(env *e, const char *prefix, const char *extra) {
    harness_unique(prefix, e->topic, sizeof e->topic);
    char dbp[64];
    snprintf(dbp, sizeof dbp, "%s", prefix);
    for (char *p = dbp; *p; p++)
        if (*p == '-') *p = 'x';
    harness_unique(dbp, e->db, sizeof e->db);
    for (char *p = e->db; *p; p++)
        if (*p == '-') *p = 'x';
    snprintf(e->log, sizeof e->log, "%s/tests/%s.log", RB_BUILD_DIR, e->topic);
    harness_create_topic(e->topic, 1);
    e->job = harness_write_job(e->topic, e->topic, e->db, extra);
    e->docs = harness_sink(e->db);
    rb_sink_opts o = {.uri = harness_env("RAGBATCH_MONGO_URI"),
                      .database = e->db,
                      .collection = "docs_chunks",
                      .timeout_ms = 5000};
    rb_error err;
    e->chunks = rb_sink_new(&o, &err);
    ck_assert_msg(e->chunks != NULL, "%s", err.msg);
}

static void env_close(env *e) {
    rb_error err;
    ck_assert_int_eq(rb_sink_drop_database(e->docs, &err), 0);
    rb_sink_destroy(e->chunks);
    rb_sink_destroy(e->docs);
}

static void run_job(env *e, const char *extra_arg) {
    const char *args[] = {"run",     e->job, "--until", "caught-up", extra_arg ? "--set" : NULL,
                          extra_arg, NULL};
    int status = harness_run(e->log, args, 300);
    if (status != 0) {
        char *text = harness_slurp(e->log);
        ck_abort_msg("ragbatch exited %d:\n%s", status, text);
    }
}

/* A paragraph of `words` words, different for each (seed, paragraph). */
static void paragraph(rb_buf *b, unsigned seed, unsigned p, size_t words) {
    static const char *const W[] = {"waterproof", "shell",  "seams",  "hood",  "collar", "zip",
                                    "pocket",     "fleece", "lining", "trail", "summit", "rain",
                                    "wind",       "layer",  "pack",   "strap", "buckle", "hem"};
    uint64_t x = seed * 1000003ULL + p * 7919ULL + 1;
    for (size_t w = 0; w < words; w++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        rb_buf_printf(b, "%s%s", w ? " " : "", W[(x >> 33) % (sizeof W / sizeof W[0])]);
    }
    rb_buf_puts(b, ".");
}

/* An event whose description has `paras` paragraphs; paragraph k uses
 * seed seeds[k] when given, else `seed`. */
static char *long_event(const char *id, int version, unsigned seed, size_t paras,
                        const unsigned *seeds) {
    rb_buf desc, ev;
    rb_buf_init(&desc);
    rb_buf_init(&ev);
    for (size_t p = 0; p < paras; p++) {
        if (p) rb_buf_puts(&desc, "\n\n");
        paragraph(&desc, seeds ? seeds[p] : seed, (unsigned)p, 40);
    }
    rb_buf_printf(&ev,
                  "{\"product_id\":\"%s\",\"event_type\":\"updated\",\"event_time\":"
                  "\"2026-11-24T10:00:00.000Z\",\"version\":%d,\"name\":\"Shell\",\"price\":1,"
                  "\"brand\":\"Kestrel\",\"description\":",
                  id, version);
    rb_buf_json_string(&ev, desc.data, desc.len);
    rb_buf_puts(&ev, "}");
    rb_buf_free(&desc);
    return rb_buf_detach(&ev);
}

#define SHORT(id, ver)                                                                            \
    "{\"product_id\":\"" id "\",\"event_type\":\"updated\",\"event_time\":"                       \
    "\"2026-11-24T10:00:00.000Z\",\"version\":" #ver ",\"name\":\"Short " #ver "\",\"price\":1}"
#define DEL(id, ver)                                                                              \
    "{\"product_id\":\"" id "\",\"event_type\":\"deleted\",\"event_time\":"                       \
    "\"2026-11-24T10:00:00.000Z\",\"version\":" #ver "}"

static void produce1(env *e, const char *key, const char *value) {
    harness_msg m = {key, value, 0, 0};
    harness_produce(e->topic, &m, 1);
}

static rb_json_doc *get(rb_sink *s, const char *id) {
    rb_error err;
    char *json = NULL;
    ck_assert_msg(rb_sink_get_json(s, id, &json, &err) == 0, "%s", err.msg);
    if (!json) return NULL;
    rb_json_doc *doc = NULL;
    ck_assert_msg(rb_json_parse(json, strlen(json), NULL, &doc, &err) == 0, "%s", err.msg);
    free(json);
    return doc;
}

static int64_t num(const rb_json *v) {
    ck_assert_ptr_nonnull(v);
    if (v->type == RB_JSON_OBJECT) v = rb_json_get(v, "$numberLong");
    if (v && v->type == RB_JSON_STRING) return strtoll(v->str, NULL, 10);
    ck_assert(v && v->type == RB_JSON_NUMBER);
    return (int64_t)v->number;
}

static int64_t count_all(rb_sink *s) {
    int64_t n = -1;
    rb_error err;
    ck_assert_msg(rb_sink_count(s, true, &n, &err) == 0, "%s", err.msg);
    return n;
}

/* The collection holds exactly chunks 0..n-1 of `id`, each of `version`,
 * and its parent says n; n == 0: a parent of one chunk (a plain document
 * with its embedding) or none, and no chunk at all. */
static void expect_set(env *e, const char *id, int64_t version, size_t n) {
    rb_json_doc *parent = get(e->docs, id);
    if (n > 0) {
        ck_assert_msg(parent != NULL, "parent %s missing", id);
        const rb_json *root = rb_json_doc_root(parent);
        ck_assert_int_eq(num(rb_json_get(root, "version")), version);
        ck_assert_int_eq(num(rb_json_get(root, "chunk_count")), (int64_t)n);
        ck_assert_ptr_null(rb_json_get(root, "embedding"));
    }
    rb_json_doc_destroy(parent);
    for (size_t i = 0; i < n + 3; i++) {
        char cid[160];
        snprintf(cid, sizeof cid, "%s#%zu", id, i);
        rb_json_doc *c = get(e->chunks, cid);
        if (i >= n) {
            ck_assert_msg(c == NULL, "chunk %s should not exist", cid);
            continue;
        }
        ck_assert_msg(c != NULL, "chunk %s missing", cid);
        const rb_json *root = rb_json_doc_root(c);
        ck_assert_int_eq(num(rb_json_get(root, "version")), version);
        ck_assert_str_eq(rb_json_string(rb_json_get(root, "parent_id")), id);
        const rb_json *ch = rb_json_get(root, "chunk");
        ck_assert_int_eq(num(rb_json_get(ch, "index")), (int64_t)i);
        ck_assert_int_eq(num(rb_json_get(ch, "count")), (int64_t)n);
        ck_assert_int_le(num(rb_json_get(ch, "tokens")), 64);
        ck_assert_uint_eq(rb_json_get(root, "embedding")->count, 384);
        /* Filterable metadata is on every chunk. */
        ck_assert_str_eq(rb_json_string(rb_json_get(rb_json_get(root, "metadata"), "brand")),
                         "Kestrel");
        rb_json_doc_destroy(c);
    }
}

START_TEST(chunk_sets_follow_the_latest_version) {
    env e;
    env_open(&e, "rb-chunks", CHUNK_JOB);
    /* A long text and a short one. */
    char *v1 = long_event("p-long", 1, 1, 4, NULL);
    produce1(&e, "p-long", v1);
    produce1(&e, "p-short", SHORT("p-short", 1));
    run_job(&e, NULL);
    expect_set(&e, "p-long", 1, 4);
    /* The short text is stored as without chunking: one document with its
     * text and embedding, no chunk count, no chunks. */
    rb_json_doc *s = get(e.docs, "p-short");
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(rb_json_get(rb_json_doc_root(s), "embedding"));
    ck_assert_ptr_null(rb_json_get(rb_json_doc_root(s), "chunk_count"));
    ck_assert_str_eq(rb_json_string(rb_json_get(rb_json_doc_root(s), "text")), "Short 1.");
    rb_json_doc_destroy(s);
    ck_assert_int_eq(count_all(e.chunks), 4);

    /* Grow to 6, shrink to 3. */
    char *v2 = long_event("p-long", 2, 2, 6, NULL);
    produce1(&e, "p-long", v2);
    run_job(&e, NULL);
    expect_set(&e, "p-long", 2, 6);
    char *v3 = long_event("p-long", 3, 3, 3, NULL);
    produce1(&e, "p-long", v3);
    run_job(&e, NULL);
    expect_set(&e, "p-long", 3, 3);
    ck_assert_int_eq(count_all(e.chunks), 3);
    /* The progress line counts the three written and the three removed. */
    char *shrunk = harness_slurp(e.log);
    ck_assert_msg(strstr(shrunk, "chunks=3 chunks_reused=0 chunks_embedded=3 chunks_written=3 "
                                 "chunks_removed=3"),
                  "%s", shrunk);
    free(shrunk);

    /* An older event arriving late (6 chunks, version 2) changes nothing. */
    produce1(&e, "p-long", v2);
    run_job(&e, NULL);
    char *out = harness_slurp(e.log);
    ck_assert_msg(strstr(out, "stale=1") != NULL, "%s", out);
    free(out);
    expect_set(&e, "p-long", 3, 3);
    ck_assert_int_eq(count_all(e.chunks), 3);

    /* A replay of the whole topic (a new group) changes nothing. */
    char group[200];
    snprintf(group, sizeof group, "kafka.group.id=%s-replay", e.topic);
    run_job(&e, group);
    expect_set(&e, "p-long", 3, 3);
    ck_assert_int_eq(count_all(e.chunks), 3);

    /* Back to a text that fits: a plain document, and no chunk left. */
    produce1(&e, "p-long", SHORT("p-long", 4));
    run_job(&e, NULL);
    rb_json_doc *p = get(e.docs, "p-long");
    ck_assert_ptr_nonnull(rb_json_get(rb_json_doc_root(p), "embedding"));
    ck_assert_int_eq(num(rb_json_get(rb_json_doc_root(p), "version")), 4);
    rb_json_doc_destroy(p);
    expect_set(&e, "p-long", 4, 0);
    ck_assert_int_eq(count_all(e.chunks), 0);
    /* No long text in the batch, but its three chunks were removed. */
    char *fits = harness_slurp(e.log);
    ck_assert_msg(strstr(fits, "chunks=0 chunks_reused=0 chunks_embedded=0 chunks_written=0 "
                               "chunks_removed=3"),
                  "%s", fits);
    free(fits);
    free(v1);
    free(v2);
    free(v3);
    env_close(&e);
}
END_TEST

START_TEST(deletes_remove_every_chunk) {
    env e;
    env_open(&e, "rb-chdel", CHUNK_JOB);
    char *a = long_event("p-a", 1, 4, 5, NULL), *b = long_event("p-b", 1, 5, 4, NULL);
    produce1(&e, "p-a", a);
    produce1(&e, "p-b", b);
    run_job(&e, NULL);
    expect_set(&e, "p-a", 1, 5);
    expect_set(&e, "p-b", 1, 4);
    /* A versioned delete leaves a tombstone parent and no chunk; a Kafka
     * tombstone removes the parent and every chunk. */
    produce1(&e, "p-a", DEL("p-a", 2));
    produce1(&e, "p-b", NULL);
    run_job(&e, NULL);
    rb_json_doc *t = get(e.docs, "p-a");
    ck_assert_ptr_nonnull(t);
    ck_assert(rb_json_get(rb_json_doc_root(t), "deleted")->boolean);
    rb_json_doc_destroy(t);
    ck_assert_ptr_null(get(e.docs, "p-b"));
    ck_assert_int_eq(count_all(e.chunks), 0);
    /* The older version arriving after the delete stays out. */
    produce1(&e, "p-a", a);
    run_job(&e, NULL);
    ck_assert_int_eq(count_all(e.chunks), 0);
    free(a);
    free(b);
    env_close(&e);
}
END_TEST

START_TEST(a_set_left_short_by_a_crash_is_completed_by_the_replay) {
    env e;
    env_open(&e, "rb-chcrash", CHUNK_JOB);
    /* Version 1 stored whole (4 chunks). */
    char *v1 = long_event("p-c", 1, 6, 4, NULL);
    produce1(&e, "p-c", v1);
    run_job(&e, NULL);
    expect_set(&e, "p-c", 1, 4);
    /* What a runner killed in the middle of version 2's write leaves: the
     * parent at version 2 (5 chunks), chunk 0 of version 2, the other
     * chunks still of version 1.  Arranged with the sink directly, so the
     * state does not depend on when a kill lands. */
    rb_sink_item parent = {.kind = RB_SINK_UPSERT,
                           .id = "p-c",
                           .version = 2,
                           .text_hash = "x",
                           .model = "m",
                           .chunk_count = 5,
                           .topic = e.topic};
    rb_error err;
    ck_assert_msg(rb_sink_write(e.docs, &parent, 1, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(parent.result, RB_SINK_STORED);
    float vec[384] = {1};
    rb_sink_chunk_ref ref = {"p-c", 0, 5, 0, 10, 10};
    rb_json_doc *brand = NULL;
    ck_assert_int_eq(rb_json_parse("\"Kestrel\"", 9, NULL, &brand, &err), 0);
    rb_sink_meta meta = {"brand", rb_json_doc_root(brand)};
    rb_sink_item c0 = {.kind = RB_SINK_UPSERT,
                       .id = "p-c#0",
                       .version = 2,
                       .text = "chunk 0",
                       .text_hash = "y",
                       .vector = vec,
                       .dim = 384,
                       .model = "m",
                       .chunk = &ref,
                       .metadata = &meta,
                       .n_metadata = 1,
                       .topic = e.topic};
    ck_assert_msg(rb_sink_write(e.chunks, &c0, 1, NULL, &err) == 0, "%s", err.msg);
    rb_json_doc_destroy(brand);
    /* The event of version 2 is then read again (its offset was never
     * committed): the parent comes back stale at its own version, and the
     * set is completed. */
    char *v2 = long_event("p-c", 2, 7, 5, NULL);
    produce1(&e, "p-c", v2);
    run_job(&e, NULL);
    expect_set(&e, "p-c", 2, 5);
    ck_assert_int_eq(count_all(e.chunks), 5);
    free(v1);
    free(v2);
    env_close(&e);
}
END_TEST

START_TEST(an_edit_of_one_paragraph_embeds_only_its_chunk) {
    env e;
    env_open(&e, "rb-chreuse", CHUNK_JOB);
    unsigned seeds[5] = {10, 11, 12, 13, 14};
    char *v1 = long_event("p-r", 1, 0, 5, seeds);
    produce1(&e, "p-r", v1);
    run_job(&e, NULL);
    expect_set(&e, "p-r", 1, 5);
    char *out = harness_slurp(e.log);
    ck_assert_msg(strstr(out, "embedded=5 ") && strstr(out, "chunks=5 chunks_reused=0"), "%s",
                  out);
    free(out);
    seeds[2] = 99;
    char *v2 = long_event("p-r", 2, 0, 5, seeds);
    produce1(&e, "p-r", v2);
    run_job(&e, NULL);
    out = harness_slurp(e.log);
    ck_assert_msg(strstr(out, "embedded=1 ") && strstr(out, "chunks=5 chunks_reused=4"), "%s",
                  out);
    free(out);
    expect_set(&e, "p-r", 2, 5);
    free(v1);
    free(v2);
    env_close(&e);
}
END_TEST

START_TEST(too_many_chunks_fail_at_transform_with_the_limit_named) {
    env e;
    env_open(&e, "rb-chmax",
             CHUNK_JOB "text.chunk.max.count = 3\n"
                       "errors.tolerance = all\n");
    char *v1 = long_event("p-m", 1, 8, 5, NULL);
    produce1(&e, "p-m", v1);
    produce1(&e, "p-ok", SHORT("p-ok", 1));
    run_job(&e, NULL);
    char *out = harness_slurp(e.log);
    ck_assert_msg(strstr(out, "stage=transform") && strstr(out, "text.chunk.max.count = 3"), "%s",
                  out);
    ck_assert_msg(strstr(out, "stored=1 ") && strstr(out, "skipped=1 "), "%s", out);
    free(out);
    ck_assert_ptr_null(get(e.docs, "p-m"));
    ck_assert_int_eq(count_all(e.chunks), 0);
    free(v1);
    env_close(&e);
}
END_TEST

/* `ragbatch search --json` output, one hit a line; `per_doc` chunks per
 * document (NULL: the default). */
static char *search_n(env *e, const char *query, const char *per_doc) {
    char out[600];
    snprintf(out, sizeof out, "%s.search", e->log);
    const char *args[] = {"search",           e->job,  query, "--k", "3", "--json",
                          "--chunks-per-doc", per_doc, NULL};
    if (!per_doc) args[6] = NULL;
    int status = harness_run(out, args, 120);
    char *text = harness_slurp(out);
    ck_assert_msg(status == 0, "search exited %d:\n%s", status, text);
    return text;
}

static char *search(env *e, const char *query) { return search_n(e, query, NULL); }

START_TEST(search_answers_with_documents_found_by_their_best_chunk) {
    env e;
    env_open(&e, "rb-chsearch", CHUNK_JOB);
    /* The answer sits in the fifth paragraph, far past what one vector of
     * the whole text would see. */
    rb_buf desc, ev;
    rb_buf_init(&desc);
    rb_buf_init(&ev);
    for (unsigned p = 0; p < 6; p++) {
        if (p) rb_buf_puts(&desc, "\n\n");
        if (p == 4)
            rb_buf_puts(&desc, "The kit also includes an espresso machine with a steam wand for "
                               "frothing milk and a burr grinder for fresh coffee beans.");
        else
            paragraph(&desc, 20, p, 40);
    }
    rb_buf_puts(&ev, "{\"product_id\":\"p-kit\",\"event_type\":\"updated\",\"event_time\":"
                     "\"2026-11-24T10:00:00.000Z\",\"version\":2,\"name\":\"Camp kit\","
                     "\"price\":1,\"brand\":\"Kestrel\",\"description\":");
    rb_buf_json_string(&ev, desc.data, desc.len);
    rb_buf_puts(&ev, "}");
    produce1(&e, "p-kit", ev.data);
    produce1(&e, "p-short", SHORT("p-short", 1));
    run_job(&e, NULL);

    /* Chunks no reader may use: one of an older version than its parent's,
     * one whose parent does not exist; both exactly the query's vector. */
    const char *query = "espresso machine with a steam wand";
    rb_local_embed_opts lo = {.model_dir = harness_model_dir(), .threads = 2};
    rb_error err;
    rb_embedder *emb = rb_embedder_local_new(&lo, &err);
    ck_assert_msg(emb != NULL, "%s", err.msg);
    float qv[384];
    ck_assert_int_eq(rb_embedder_embed(emb, &query, 1, qv, &err), 0);
    rb_embedder_destroy(emb);
    rb_sink_chunk_ref r1 = {"p-kit", 9, 10, 0, 5, 5}, r2 = {"p-ghost", 0, 2, 0, 5, 5};
    rb_sink_item ghosts[2] = {
        {.kind = RB_SINK_UPSERT,
         .id = "p-kit#9",
         .version = 1,
         .text = query,
         .text_hash = "a",
         .vector = qv,
         .dim = 384,
         .model = "m",
         .chunk = &r1,
         .topic = e.topic},
        {.kind = RB_SINK_UPSERT,
         .id = "p-ghost#0",
         .version = 1,
         .text = query,
         .text_hash = "b",
         .vector = qv,
         .dim = 384,
         .model = "m",
         .chunk = &r2,
         .topic = e.topic},
    };
    ck_assert_msg(rb_sink_write(e.chunks, ghosts, 2, NULL, &err) == 0, "%s", err.msg);

    char *out = search(&e, query);
    /* The first hit is the kit, by its fifth chunk (index 4), once. */
    char *first = strstr(out, "{\"rank\":1,");
    ck_assert_msg(first != NULL, "%s", out);
    ck_assert_msg(strstr(first, "\"id\":\"p-kit\"") && strstr(first, "\"chunk\":{\"index\":4,"),
                  "%s", out);
    ck_assert_msg(strstr(first, "espresso machine"), "%s", out);
    ck_assert_msg(strstr(out, "p-ghost") == NULL, "a chunk without a parent was returned:\n%s",
                  out);
    ck_assert_msg(strstr(out, "\"index\":9") == NULL, "a chunk of an old version:\n%s", out);
    const char *second = strstr(strstr(first, "\"id\":\"p-kit\"") + 1, "\"id\":\"p-kit\"");
    ck_assert_msg(second == NULL, "the kit twice:\n%s", out);
    ck_assert_msg(strstr(out, "\"id\":\"p-short\""), "the short document is searched too:\n%s",
                  out);
    free(out);

    /* The top three chunks of the kit: best first, each with its score,
     * character span and token count, all of the live version (the ghost
     * p-kit#9 of version 1 is the query's own vector, and stays out). */
    out = search_n(&e, query, "3");
    first = strstr(out, "{\"rank\":1,");
    ck_assert_msg(first != NULL, "%s", out);
    const char *nl = strchr(first, '\n');
    rb_json_doc *hit = NULL;
    ck_assert_msg(rb_json_parse(first, nl ? (size_t)(nl - first) : strlen(first), NULL, &hit,
                                &err) == 0,
                  "%s: %s", err.msg, out);
    const rb_json *h = rb_json_doc_root(hit);
    ck_assert_str_eq(rb_json_string(rb_json_get(h, "id")), "p-kit");
    const rb_json *best = rb_json_get(h, "chunk"), *list = rb_json_get(h, "chunks");
    ck_assert_msg(list && list->type == RB_JSON_ARRAY && list->count == 3, "%s", out);
    double prev = 2;
    int64_t seen[3];
    for (size_t i = 0; i < 3; i++) {
        const rb_json *c = &list->items[i];
        double score = rb_json_get(c, "score")->number;
        ck_assert_msg(score <= prev, "not best first:\n%s", out);
        prev = score;
        seen[i] = num(rb_json_get(c, "index"));
        ck_assert_int_lt(seen[i], 6);
        for (size_t j = 0; j < i; j++) ck_assert_int_ne(seen[j], seen[i]);
        int64_t start = num(rb_json_get(c, "start")), end = num(rb_json_get(c, "end"));
        ck_assert_int_lt(start, end);
        ck_assert_int_gt(num(rb_json_get(c, "tokens")), 0);
        ck_assert_int_le(num(rb_json_get(c, "tokens")), 64);
        /* The span is the chunk's text in the document's text. */
        ck_assert_int_eq(end - start, (int64_t)strlen(rb_json_string(rb_json_get(c, "text"))));
    }
    ck_assert_int_eq(seen[0], 4);
    ck_assert_int_eq(num(rb_json_get(best, "index")), 4);
    ck_assert_int_eq(num(rb_json_get(best, "tokens")),
                     num(rb_json_get(&list->items[0], "tokens")));
    ck_assert(rb_json_get(h, "score")->number == rb_json_get(&list->items[0], "score")->number);
    rb_json_doc_destroy(hit);
    free(out);
    rb_buf_free(&desc);
    rb_buf_free(&ev);
    env_close(&e);
}
END_TEST

/* The version of chunk `i` of `id` in the chunk collection, -1 if absent;
 * its text into *text when asked (caller frees). */
static int64_t chunk_version(env *e, const char *id, size_t i, char **text) {
    char cid[160];
    snprintf(cid, sizeof cid, "%s#%zu", id, i);
    rb_json_doc *c = get(e->chunks, cid);
    if (!c) return -1;
    int64_t v = num(rb_json_get(rb_json_doc_root(c), "version"));
    if (text) *text = strdup(rb_json_string(rb_json_get(rb_json_doc_root(c), "text")));
    rb_json_doc_destroy(c);
    return v;
}

/* Every hit of `id` in `search --json` output `out`: none may be found by
 * chunk `bad_index`, nor carry `bad_text`. */
static void expect_no_hit_by(const char *out, const char *id, long bad_index,
                             const char *bad_text) {
    char key[160], idx[64];
    snprintf(key, sizeof key, "\"id\":\"%s\"", id);
    snprintf(idx, sizeof idx, "\"chunk\":{\"index\":%ld,", bad_index);
    for (const char *line = out; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *one = strndup(line, len);
        if (strstr(one, key)) {
            ck_assert_msg(bad_index < 0 || !strstr(one, idx), "found by a stale chunk:\n%s", out);
            ck_assert_msg(!bad_text || !strstr(one, bad_text), "a stale chunk's text:\n%s", out);
        }
        free(one);
        line = nl ? nl + 1 : NULL;
    }
}

/* kill -9 in the middle of a batch's chunk writes, for real: the runner
 * kills itself (test hook RAGBATCH_TEST_KILL_AFTER_CHUNK_WRITES, see
 * runner/chunking.c) right after the server acknowledged its fourth chunk
 * document of version 2, so the collection is left with p-a's parent at
 * version 2, chunks 0-3 of version 2 and chunk 4 still of version 1.  What
 * a reader sees then, and after the restart. */
START_TEST(a_runner_killed_between_chunk_writes_is_completed_by_the_restart) {
    env e;
    env_open(&e, "rb-chkill", CHUNK_JOB);
    unsigned s1[5] = {40, 41, 42, 43, 44};
    char *a1 = long_event("p-a", 1, 0, 5, s1), *b1 = long_event("p-b", 1, 45, 4, NULL);
    produce1(&e, "p-a", a1);
    produce1(&e, "p-b", b1);
    run_job(&e, NULL);
    expect_set(&e, "p-a", 1, 5);
    expect_set(&e, "p-b", 1, 4);
    ck_assert_int_eq(harness_committed_total(e.topic, e.topic), 2);

    /* Version 2 of both, every paragraph new; p-a grows to 6 chunks. */
    char *a2 = long_event("p-a", 2, 60, 6, NULL), *b2 = long_event("p-b", 2, 61, 6, NULL);
    produce1(&e, "p-a", a2);
    produce1(&e, "p-b", b2);
    ck_assert_int_eq(setenv("RAGBATCH_TEST_KILL_AFTER_CHUNK_WRITES", "4", 1), 0);
    const char *args[] = {"run", e.job, "--until", "caught-up", NULL};
    int status = harness_run(e.log, args, 300);
    ck_assert_int_eq(unsetenv("RAGBATCH_TEST_KILL_AFTER_CHUNK_WRITES"), 0);
    char *out = harness_slurp(e.log);
    ck_assert_msg(status == 128 + 9, "expected death by SIGKILL, got %d:\n%s", status, out);
    ck_assert_msg(strstr(out, "test hook: killed after 4 of "), "%s", out);
    free(out);
    /* Nothing of the batch was committed; the collection is half old,
     * half new: the state a crash leaves. */
    ck_assert_int_eq(harness_committed_total(e.topic, e.topic), 2);
    rb_json_doc *pa = get(e.docs, "p-a");
    ck_assert_int_eq(num(rb_json_get(rb_json_doc_root(pa), "version")), 2);
    rb_json_doc_destroy(pa);
    for (size_t i = 0; i < 4; i++) ck_assert_int_eq(chunk_version(&e, "p-a", i, NULL), 2);
    char *stale_text = NULL;
    ck_assert_int_eq(chunk_version(&e, "p-a", 4, &stale_text), 1);
    ck_assert_int_eq(chunk_version(&e, "p-a", 5, NULL), -1);

    /* A reader in the window: p-a's version-1 chunk 4 is still stored,
     * and is the nearest chunk to its own text, but is never returned
     * (its version is not its parent's). */
    out = search(&e, stale_text);
    expect_no_hit_by(out, "p-a", 4, stale_text);
    free(out);

    /* The restart reads the batch again (its offsets were never
     * committed) and completes every set; the version-1 chunk is gone. */
    run_job(&e, NULL);
    expect_set(&e, "p-a", 2, 6);
    expect_set(&e, "p-b", 2, 6);
    ck_assert_int_eq(count_all(e.chunks), 12);
    ck_assert_int_eq(harness_committed_total(e.topic, e.topic), 4);
    out = search(&e, stale_text);
    expect_no_hit_by(out, "p-a", -1, stale_text);
    expect_no_hit_by(out, "p-b", -1, stale_text);
    free(out);
    free(stale_text);
    free(a1);
    free(b1);
    free(a2);
    free(b2);
    env_close(&e);
}
END_TEST

static double chunk_metric(const expo *x, const char *job, const char *outcome) {
    double v = -1;
    ck_assert_msg(expo_find(x, "ragbatch_chunks_total", "job", job, "outcome", outcome, &v),
                  "no ragbatch_chunks_total{outcome=\"%s\"}", outcome);
    return v;
}

/* /metrics counts chunks by outcome: a set of five edited in two of its
 * paragraphs and cut to four embeds two, reuses two, writes four, removes
 * one.  The runner streams; the test waits for the commit, then scrapes. */
START_TEST(metrics_count_chunks_embedded_reused_written_removed) {
    env e;
    env_open(&e, "rb-chmetrics", CHUNK_JOB);
    unsigned seeds[5] = {70, 71, 72, 73, 74};
    char *v1 = long_event("p-m", 1, 0, 5, seeds);
    produce1(&e, "p-m", v1);
    run_job(&e, NULL);
    expect_set(&e, "p-m", 1, 5);
    seeds[1] = 81;
    seeds[3] = 83;
    char *v2 = long_event("p-m", 2, 0, 4, seeds);
    produce1(&e, "p-m", v2);
    int port = harness_free_port();
    char p1[64];
    snprintf(p1, sizeof p1, "metrics.port=%d", port);
    const char *args[] = {"run", e.job, "--set", p1, "--set", "metrics.address=127.0.0.1", NULL};
    pid_t pid = harness_spawn(e.log, args);
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(e.topic, e.topic) < 2) {
        ck_assert_msg(rb_now_ms() < until, "version 2 not committed in 120 s");
        rb_sleep_ms(100);
    }
    /* The batch's metrics are fed after its commit: wait for the last
     * family fed (the last batch's time), bounded. */
    char *body = NULL;
    expo *x = calloc(1, sizeof *x);
    for (double t;;) {
        ck_assert_int_eq(expo_http_get(port, "/metrics", &body), 200);
        memset(x, 0, sizeof *x);
        expo_parse(body, x);
        if (expo_find(x, "ragbatch_last_batch_timestamp_seconds", "job", e.topic, NULL, NULL, &t))
            break;
        free(body);
        ck_assert_msg(rb_now_ms() < until, "no batch in /metrics in 120 s");
        rb_sleep_ms(100);
    }
    kill(pid, SIGTERM);
    ck_assert_int_eq(harness_wait(pid, 60), 0);
    ck_assert_double_eq(chunk_metric(x, e.topic, "embedded"), 2);
    ck_assert_double_eq(chunk_metric(x, e.topic, "reused"), 2);
    ck_assert_double_eq(chunk_metric(x, e.topic, "written"), 4);
    ck_assert_double_eq(chunk_metric(x, e.topic, "removed"), 1);
    free(x);
    free(body);
    expect_set(&e, "p-m", 2, 4);
    char *out = harness_slurp(e.log);
    ck_assert_msg(strstr(out, "chunks=4 chunks_reused=2 chunks_embedded=2 chunks_written=4 "
                              "chunks_removed=1"),
                  "%s", out);
    free(out);
    free(v1);
    free(v2);
    env_close(&e);
}
END_TEST

START_TEST(chunking_off_truncates_and_limits_are_checked_at_start) {
    env e;
    env_open(&e, "rb-choff", "text.chunk.enable = false\n");
    char *v1 = long_event("p-t", 1, 30, 6, NULL);
    produce1(&e, "p-t", v1);
    run_job(&e, NULL);
    /* As before chunking: one document with one vector, no chunk. */
    rb_json_doc *d = get(e.docs, "p-t");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(rb_json_get(rb_json_doc_root(d), "embedding")->count, 384);
    ck_assert_ptr_null(rb_json_get(rb_json_doc_root(d), "chunk_count"));
    rb_json_doc_destroy(d);
    ck_assert_int_eq(count_all(e.chunks), 0);
    /* A chunk larger than the model takes would be truncated: refused. */
    const char *args[] = {"run",     e.job,
                          "--until", "caught-up",
                          "--set",   "text.chunk.enable=true",
                          "--set",   "text.chunk.max.tokens=300",
                          NULL};
    ck_assert_int_ne(harness_run(e.log, args, 120), 0);
    char *out = harness_slurp(e.log);
    ck_assert_msg(strstr(out, "text.chunk.max.tokens = 300") && strstr(out, "254"), "%s", out);
    free(out);
    free(v1);
    env_close(&e);
}
END_TEST

static Suite *chunk_pipeline_suite(void) {
    Suite *s = suite_create("chunk_pipeline");
    TCase *tc = tcase_create("chunk_pipeline");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, chunk_sets_follow_the_latest_version);
    tcase_add_test(tc, deletes_remove_every_chunk);
    tcase_add_test(tc, a_set_left_short_by_a_crash_is_completed_by_the_replay);
    tcase_add_test(tc, an_edit_of_one_paragraph_embeds_only_its_chunk);
    tcase_add_test(tc, too_many_chunks_fail_at_transform_with_the_limit_named);
    tcase_add_test(tc, chunking_off_truncates_and_limits_are_checked_at_start);
    suite_add_tcase(s, tc);
    /* Cases of their own, to be run alone: CK_RUN_CASE=chunk_metrics, chunk_search,
     * chunk_kill. */
    TCase *metrics = tcase_create("chunk_metrics");
    tcase_set_timeout(metrics, 600);
    tcase_add_test(metrics, metrics_count_chunks_embedded_reused_written_removed);
    suite_add_tcase(s, metrics);
    TCase *search = tcase_create("chunk_search");
    tcase_set_timeout(search, 600);
    tcase_add_test(search, search_answers_with_documents_found_by_their_best_chunk);
    suite_add_tcase(s, search);
    TCase *kill = tcase_create("chunk_kill");
    tcase_set_timeout(kill, 600);
    tcase_add_test(kill, a_runner_killed_between_chunk_writes_is_completed_by_the_restart);
    suite_add_tcase(s, kill);
    return s;
}

Suite *rb_check_suite(void) { return chunk_pipeline_suite(); }
