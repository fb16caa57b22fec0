/*
 * check_runner -- the runner's batch loop (rb_runner_run_with, the real
 * decode / supersede / lookup / embed / write / dead-letter / commit
 * steps) driven through in-process ports (tests/inproc.h): no Kafka, no
 * MongoDB, milliseconds per case.  What it pins down:
 *   - every batch accounts for each record: in = the sum of its outcomes,
 *     nothing left open, in every progress report;
 *   - the commit rule: no batch is committed with a record open or FAILED
 *     (or, with a DLQ, merely SKIPPED); a failed step commits nothing of
 *     its batch, and the batches before it stay committed;
 *   - errors.tolerance none and all;
 *   - one write per document per batch (supersede), Kafka tombstones in
 *     log order, reuse of unchanged texts' vectors;
 *   - retries: transient sink and DLQ failures are retried with the source
 *     held, permanent ones and sink.retry.timeout.ms stop the job.
 */
#include "check_main.h"
#include "batch/batch.h"
#include "config/config.h"
#include "inproc.h"
#include "runner/ports.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVT(id, ver, name)                                                                        \
    "{\"product_id\":\"" id "\",\"event_type\":\"updated\",\"event_time\":"                       \
    "\"2026-11-24T10:00:00.000Z\",\"version\":" #ver ",\"name\":\"" name "\",\"price\":1}"
#define DEL(id, ver)                                                                              \
    "{\"product_id\":\"" id "\",\"event_type\":\"deleted\",\"event_time\":"                       \
    "\"2026-11-24T10:00:00.000Z\",\"version\":" #ver "}"
#define BAD_JSON "{\"product_id\": \"p-x\", oops"
#define BAD_PRICE                                                                                 \
    "{\"product_id\":\"p-y\",\"event_type\":\"created\",\"event_time\":"                          \
    "\"2026-11-24T10:00:00Z\",\"name\":\"Neg\",\"price\":-3}"

#define MAX_BATCHES 16

/* One run of the loop and everything it talked to. */
typedef struct run {
    rb_job_config cfg;
    inproc_source *src;
    inproc_sink *sink;
    inproc_sink *chunks; /* the chunk collection */
    enum { CHUNKS_PORT = 0, CHUNKS_NONE, CHUNKS_WITHOUT_REMOVE } chunk_port;
    inproc_embed_stats emb;
    rb_embedder *embedder;
    inproc_dlq *dlq; /* NULL: the job has no DLQ */
    rb_progress progress[MAX_BATCHES];
    size_t batches;
    rb_runner_totals totals;
    rb_error err;
    char *log;
    size_t log_size;
    FILE *log_out;
} run;

static void set(run *r, const char *assignment) {
    rb_error err;
    ck_assert_msg(rb_job_config_set(&r->cfg, assignment, "check_runner", &err) == 0, "%s: %s",
                  assignment, err.msg);
}

/* A job with the product schema and {name} as its text; retries back off
 * for a millisecond or two. */
static void run_open(run *r, const char *tolerance, bool with_dlq) {
    memset(r, 0, sizeof *r);
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&r->cfg, &err), 0);
    set(r, "schema.file=" RB_SOURCE_DIR "/conf/product_schema.json");
    set(r, "text.template={name}");
    set(r, "trigger.interval.ms=0");
    set(r, "sink.retry.backoff.ms=1");
    set(r, "sink.retry.backoff.max.ms=2");
    set(r, tolerance);
    r->src = inproc_source_new();
    r->sink = inproc_sink_new();
    r->chunks = inproc_sink_new();
    r->embedder = inproc_embedder_new(&r->emb);
    if (with_dlq) r->dlq = inproc_dlq_new();
    r->log_out = open_memstream(&r->log, &r->log_size);
    ck_assert_ptr_nonnull(r->log_out);
}

static void run_close(run *r) {
    rb_embedder_destroy(r->embedder);
    inproc_source_free(r->src);
    inproc_sink_free(r->sink);
    inproc_sink_free(r->chunks);
    inproc_dlq_free(r->dlq);
    fclose(r->log_out);
    free(r->log);
    rb_job_config_free(&r->cfg);
}

/* Every batch's report must account for each of its records. */
static void on_progress(const rb_progress *p, void *ctx) {
    run *r = ctx;
    const rb_batch_counts *c = &p->counts;
    ck_assert_msg(c->pending == 0, "batch %llu reported with %zu records open",
                  (unsigned long long)p->batch_id, c->pending);
    ck_assert_msg(rb_batch_counts_settled(c) == c->in,
                  "batch %llu: in=%zu but stored=%zu reused=%zu deleted=%zu stale=%zu "
                  "skipped=%zu dead_lettered=%zu failed=%zu",
                  (unsigned long long)p->batch_id, c->in, c->stored, c->reused, c->deleted,
                  c->stale, c->skipped, c->dead_lettered, c->failed);
    ck_assert_uint_eq(c->failed, 0); /* a FAILED record never reaches a commit */
    ck_assert_uint_lt(r->batches, MAX_BATCHES);
    r->progress[r->batches++] = *p;
}

/* Runs the loop until caught up; returns its status (r->err on -1). */
static int run_go(run *r) {
    rb_runner_opts opts = {.until_caught_up = true};
    rb_runner_ports ports = {
        .source = inproc_source_port(r->src),
        .sink = inproc_sink_port(r->sink),
        .chunks = r->chunk_port == CHUNKS_PORT ? inproc_sink_port(r->chunks)
                  : r->chunk_port == CHUNKS_WITHOUT_REMOVE
                      ? inproc_sink_port_without_remove(r->chunks)
                      : (rb_sink_port){0},
        .embedder = r->embedder,
        .dlq = r->dlq ? inproc_dlq_port(r->dlq) : (rb_runner_dlq){0},
        .log = r->log_out,
        .on_progress = on_progress,
        .progress_ctx = r,
    };
    int rc = rb_runner_run_with(&r->cfg, &opts, &ports, &r->totals, &r->err);
    fflush(r->log_out);
    /* Whatever happened, no commit saw a record the rule forbids. */
    ck_assert_uint_eq(inproc_source_unsettled_at_commit(r->src), 0);
    if (r->dlq) ck_assert_uint_eq(inproc_source_skipped_at_commit(r->src), 0);
    ck_assert_uint_eq(inproc_source_holds(r->src), inproc_source_releases(r->src));
    ck_assert_uint_eq(r->totals.batches, r->batches);
    return rc;
}

static const inproc_doc *doc(const run *r, const char *id) { return inproc_sink_get(r->sink, id); }

/* ---- accounting and commits ---------------------------------------------- */

START_TEST(every_batch_accounts_for_each_record_and_commits_its_end) {
    run r;
    run_open(&r, "errors.tolerance=all", false);
    const inproc_msg b0[] = {
        {0, "p-1", EVT("p-1", 1, "One")},
        {1, "p-2", EVT("p-2", 1, "Two")},
        {0, "p-x", BAD_JSON},
        {1, "p-3", EVT("p-3", 1, "Three")},
        {0, "p-1", EVT("p-1", 2, "One b")},
    };
    const inproc_msg b1[] = {
        {0, "p-2", DEL("p-2", 2)},
        {1, "p-3", NULL},
        {1, "p-y", BAD_PRICE},
        {0, "p-1", EVT("p-1", 1, "Late")},
    };
    inproc_source_batch(r.src, b0, 5);
    inproc_source_batch(r.src, b1, 4);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);

    ck_assert_uint_eq(r.batches, 2);
    const rb_batch_counts *c0 = &r.progress[0].counts, *c1 = &r.progress[1].counts;
    ck_assert_uint_eq(c0->in, 5);
    ck_assert_uint_eq(c0->stored, 3); /* p-1 v2, p-2, p-3 */
    ck_assert_uint_eq(c0->stale, 1);  /* p-1 v1, superseded in the batch */
    ck_assert_uint_eq(c0->skipped, 1);
    ck_assert_uint_eq(c1->in, 4);
    ck_assert_uint_eq(c1->stored, 0);
    ck_assert_uint_eq(c1->deleted, 2); /* the soft delete of p-2, the tombstone of p-3 */
    ck_assert_uint_eq(c1->stale, 1);   /* p-1 v1 against the stored v2 */
    ck_assert_uint_eq(c1->skipped, 1);
    ck_assert_uint_eq(r.totals.counts.in, 9);
    ck_assert_uint_eq(rb_batch_counts_settled(&r.totals.counts), 9);

    /* One commit per batch, at each partition's last offset + 1. */
    ck_assert_uint_eq(inproc_source_commits(r.src), 2);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 5);
    ck_assert_int_eq(inproc_source_committed(r.src, 1), 4);
    ck_assert_uint_eq(r.progress[0].partitions_committed, 2);

    ck_assert_str_eq(doc(&r, "p-1")->text, "One b");
    ck_assert(doc(&r, "p-2")->deleted);
    ck_assert_ptr_null(doc(&r, "p-3"));
    ck_assert_uint_eq(inproc_sink_count(r.sink, false), 1);
    /* The skipped records got their log line, naming where and why. */
    ck_assert_msg(strstr(r.log, "partition=0 offset=1 stage=deserialize tolerated=true"), "%s",
                  r.log);
    ck_assert_msg(strstr(r.log, "stage=validate tolerated=true") && strstr(r.log, "/price"), "%s",
                  r.log);
    run_close(&r);
}
END_TEST

START_TEST(tolerance_none_stops_at_a_bad_record_and_commits_nothing_of_its_batch) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}, {0, "p-2", EVT("p-2", 1, "Two")}};
    const inproc_msg b1[] = {
        {0, "p-3", EVT("p-3", 1, "Three")},
        {0, "p-x", BAD_JSON},
        {0, "p-4", EVT("p-4", 1, "Four")},
    };
    inproc_source_batch(r.src, b0, 2);
    inproc_source_batch(r.src, b1, 3);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "offset 3") && strstr(r.err.msg, "deserialize failed") &&
                      strstr(r.err.msg, "errors.tolerance = none"),
                  "%s", r.err.msg);
    ck_assert_int_eq(r.err.stage, RB_STAGE_DESERIALIZE);
    /* Batch 0 is committed; nothing of batch 1 was written or committed. */
    ck_assert_uint_eq(inproc_source_commits(r.src), 1);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 2);
    ck_assert_uint_eq(inproc_sink_writes(r.sink), 1);
    ck_assert_ptr_null(doc(&r, "p-3"));
    ck_assert_ptr_null(doc(&r, "p-4"));
    ck_assert_uint_eq(r.batches, 1);
    ck_assert_msg(strstr(r.log, "offset=3 stage=deserialize tolerated=false"), "%s", r.log);
    run_close(&r);
}
END_TEST

START_TEST(tolerance_none_stops_at_a_schema_failure_too) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}, {0, "p-y", BAD_PRICE}};
    inproc_source_batch(r.src, b0, 2);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "offset 1") && strstr(r.err.msg, "validate failed"), "%s",
                  r.err.msg);
    ck_assert_uint_eq(inproc_source_commits(r.src), 0);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), -1);
    ck_assert_uint_eq(inproc_sink_writes(r.sink), 0);
    run_close(&r);
}
END_TEST

/* The records of check_pipeline's former tolerance case, both ways: with
 * none the job stops at the first bad one (offset 2, deserialize) and
 * commits nothing of the batch; with all the three valid ones are stored
 * and the two bad ones skipped, the schema failure naming its field. */
START_TEST(one_batch_with_two_bad_records_per_tolerance) {
    static const inproc_msg msgs[] = {
        {0, "p-1", EVT("p-1", 1, "One")},
        {0, "p-2", EVT("p-2", 1, "Two")},
        {0, "p-x", BAD_JSON},
        {0, "p-3", EVT("p-3", 1, "Three")},
        {0, "p-y", BAD_PRICE},
    };
    run r;
    run_open(&r, "errors.tolerance=none", false);
    inproc_source_batch(r.src, msgs, 5);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "offset 2") && strstr(r.err.msg, "deserialize"), "%s",
                  r.err.msg);
    ck_assert_uint_eq(inproc_source_commits(r.src), 0);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), -1);
    ck_assert_uint_eq(inproc_sink_count(r.sink, true), 0);
    run_close(&r);

    run_open(&r, "errors.tolerance=all", false);
    inproc_source_batch(r.src, msgs, 5);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(r.batches, 1);
    ck_assert_uint_eq(r.progress[0].counts.skipped, 2);
    ck_assert_uint_eq(r.progress[0].counts.stored, 3);
    ck_assert_msg(strstr(r.log, "/price") != NULL, "the schema failure names the field:\n%s",
                  r.log);
    ck_assert_uint_eq(inproc_sink_count(r.sink, false), 3);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 5);
    run_close(&r);
}
END_TEST

/* ---- one write per document: supersede, tombstones ----------------------- */

START_TEST(the_newest_version_in_a_batch_is_the_one_written) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {
        {0, "p-1", EVT("p-1", 1, "v1")},    {0, "p-1", EVT("p-1", 3, "v3")},
        {0, "p-1", EVT("p-1", 2, "v2")},    {0, "p-2", EVT("p-2", 4, "first")},
        {0, "p-2", EVT("p-2", 4, "later")}, /* a tie: the later record wins */
        {0, "p-3", EVT("p-3", 5, "live")},  {0, "p-3", DEL("p-3", 6)},
    };
    inproc_source_batch(r.src, b0, 7);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    const rb_batch_counts *c = &r.progress[0].counts;
    ck_assert_uint_eq(c->in, 7);
    ck_assert_uint_eq(c->stale, 4);
    ck_assert_uint_eq(c->stored, 2);
    ck_assert_uint_eq(c->deleted, 1);
    ck_assert_str_eq(inproc_sink_journal(r.sink),
                     "upsert p-1 3 stored\nupsert p-2 4 stored\nsoft p-3 6 stored\n");
    ck_assert_str_eq(doc(&r, "p-1")->text, "v3");
    ck_assert_str_eq(doc(&r, "p-2")->text, "later");
    ck_assert_int_eq(doc(&r, "p-2")->offset, 4);
    ck_assert(doc(&r, "p-3")->deleted);
    /* Superseded texts were not embedded either. */
    ck_assert_str_eq(r.emb.seen, "v3|later|");
    run_close(&r);
}
END_TEST

START_TEST(a_tombstone_applies_in_log_order_within_a_batch) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-3", EVT("p-3", 5, "five")}};
    const inproc_msg b1[] = {
        {0, "p-1", EVT("p-1", 7, "before")}, /* forgotten by the tombstone after it */
        {0, "p-1", NULL},
        {0, "p-1", EVT("p-1", 1, "after")}, /* after it, even a low version lives */
        {0, "p-2", EVT("p-2", 1, "doomed")},
        {0, "p-2", NULL},
        {0, "p-3", NULL},                    /* removes the stored v5 ... */
        {0, "p-3", EVT("p-3", 2, "reborn")}, /* ... so v2 is stored, not stale */
    };
    inproc_source_batch(r.src, b0, 1);
    inproc_source_batch(r.src, b1, 7);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    const rb_batch_counts *c = &r.progress[1].counts;
    ck_assert_uint_eq(c->in, 7);
    ck_assert_uint_eq(c->stale, 2);   /* p-1 "before", p-2 "doomed" */
    ck_assert_uint_eq(c->deleted, 3); /* the three tombstones */
    ck_assert_uint_eq(c->stored, 2);  /* p-1 "after", p-3 "reborn" */
    /* Hard deletes first, then the upserts of the same batch. */
    ck_assert_str_eq(inproc_sink_journal(r.sink), "upsert p-3 5 stored\n"
                                                  "hard p-1 0 deleted\n"
                                                  "hard p-2 0 deleted\n"
                                                  "hard p-3 0 deleted\n"
                                                  "upsert p-1 1 stored\n"
                                                  "upsert p-3 2 stored\n");
    ck_assert_str_eq(doc(&r, "p-1")->text, "after");
    ck_assert_ptr_null(doc(&r, "p-2"));
    ck_assert_str_eq(doc(&r, "p-3")->text, "reborn");
    run_close(&r);
}
END_TEST

START_TEST(a_tombstone_without_a_key_is_a_record_failure) {
    run r;
    run_open(&r, "errors.tolerance=all", false);
    const inproc_msg b0[] = {{0, NULL, NULL}, {0, "p-1", EVT("p-1", 1, "One")}};
    inproc_source_batch(r.src, b0, 2);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(r.progress[0].counts.skipped, 1);
    ck_assert_uint_eq(r.progress[0].counts.stored, 1);
    ck_assert_msg(strstr(r.log, "without a key"), "%s", r.log);
    run_close(&r);
}
END_TEST

/* ---- reuse of unchanged texts -------------------------------------------- */

START_TEST(an_unchanged_text_is_not_embedded_again) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "Same")}, {0, "p-2", EVT("p-2", 1, "Old")}};
    const inproc_msg b1[] = {{0, "p-1", EVT("p-1", 2, "Same")}, {0, "p-2", EVT("p-2", 2, "New")}};
    inproc_source_batch(r.src, b0, 2);
    inproc_source_batch(r.src, b1, 2);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_str_eq(r.emb.seen, "Same|Old|New|");
    ck_assert_uint_eq(r.progress[1].embedded, 1);
    ck_assert_uint_eq(r.progress[1].counts.reused, 1);
    ck_assert_uint_eq(r.progress[1].counts.stored, 1);
    /* The stored vector went back with the new version. */
    float want[INPROC_DIM];
    inproc_vector("Same", want);
    ck_assert_int_eq(doc(&r, "p-1")->version, 2);
    ck_assert_int_eq(memcmp(doc(&r, "p-1")->vector, want, sizeof want), 0);
    run_close(&r);
}
END_TEST

START_TEST(reuse_can_be_turned_off) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    set(&r, "embed.reuse.unchanged=false");
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "Same")}};
    const inproc_msg b1[] = {{0, "p-1", EVT("p-1", 2, "Same")}};
    inproc_source_batch(r.src, b0, 1);
    inproc_source_batch(r.src, b1, 1);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_str_eq(r.emb.seen, "Same|Same|");
    ck_assert_uint_eq(r.progress[1].counts.reused, 0);
    ck_assert_uint_eq(r.progress[1].counts.stored, 1);
    run_close(&r);
}
END_TEST

/* embed.prefix.document goes before every text embedded (e5's
 * "passage: "), and an unchanged text under the same prefix is still
 * reused. */
START_TEST(the_document_prefix_goes_before_every_text) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    set(&r, "embed.prefix.document=passage: ");
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "Same")}, {0, "p-2", EVT("p-2", 1, "B")}};
    const inproc_msg b1[] = {{0, "p-1", EVT("p-1", 2, "Same")}};
    inproc_source_batch(r.src, b0, 2);
    inproc_source_batch(r.src, b1, 1);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_str_eq(r.emb.seen, "passage: Same|passage: B|");
    ck_assert_uint_eq(r.progress[1].counts.reused, 1);
    float want[INPROC_DIM];
    inproc_vector("passage: Same", want);
    ck_assert_int_eq(memcmp(doc(&r, "p-1")->vector, want, sizeof want), 0);
    run_close(&r);
}
END_TEST

/* A read cut short may have matched some texts: every text is embedded
 * then, and none is counted reused. */
START_TEST(a_failed_lookup_embeds_every_text) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "A")}, {0, "p-2", EVT("p-2", 1, "B")}};
    const inproc_msg b1[] = {{0, "p-1", EVT("p-1", 2, "A")}, {0, "p-2", EVT("p-2", 2, "B")}};
    inproc_source_batch(r.src, b0, 2);
    inproc_source_batch(r.src, b1, 2);
    /* The first batch's read finds nothing anyway; the second's fails. */
    inproc_sink_fail_reads(r.sink, 2);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_str_eq(r.emb.seen, "A|B|A|B|");
    ck_assert_uint_eq(r.progress[1].counts.reused, 0);
    ck_assert_uint_eq(r.progress[1].counts.stored, 2);
    ck_assert_msg(strstr(r.log, "stored documents not read"), "%s", r.log);
    run_close(&r);
}
END_TEST

/* A sink that decides on versions gets what the lookup read. */
START_TEST(the_lookup_hands_the_versions_it_read_to_the_sink) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    inproc_sink_needs_versions(r.sink, true);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "A")}, {0, "p-2", EVT("p-2", 1, "B")}};
    inproc_source_batch(r.src, b0, 2);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(inproc_sink_known_items(r.sink), 2); /* both known absent */
    run_close(&r);
}
END_TEST

/* ---- failed and retried writes ------------------------------------------- */

START_TEST(a_transient_write_failure_is_retried_then_committed) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}, {0, "p-2", NULL}};
    inproc_source_batch(r.src, b0, 2);
    inproc_sink_fail_writes(r.sink, 2, true);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(inproc_sink_failed_writes(r.sink), 2);
    ck_assert_uint_eq(r.progress[0].write_retries, 2);
    ck_assert_uint_eq(inproc_source_holds(r.src), 1); /* held while retrying */
    ck_assert_uint_eq(inproc_source_commits(r.src), 1);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 2);
    ck_assert_str_eq(doc(&r, "p-1")->text, "One");
    ck_assert_msg(strstr(r.log, "event=sink_retry") || strstr(r.log, "sink_retry"), "%s", r.log);
    run_close(&r);
}
END_TEST

START_TEST(a_write_that_fails_for_good_commits_nothing) {
    run r;
    run_open(&r, "errors.tolerance=all", false);
    /* errors.tolerance covers records, not the sink as a whole. */
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}, {0, "p-2", NULL}};
    inproc_source_batch(r.src, b0, 2);
    inproc_sink_fail_writes(r.sink, 1, false);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "not retriable"), "%s", r.err.msg);
    ck_assert_uint_eq(inproc_sink_writes(r.sink), 1); /* not retried, and the upsert not tried */
    ck_assert_uint_eq(inproc_sink_count(r.sink, true), 0);
    ck_assert_uint_eq(inproc_source_commits(r.src), 0);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), -1);
    ck_assert_uint_eq(r.batches, 0);
    run_close(&r);
}
END_TEST

/* The retry timeout must outlast the first attempt by far: it counts from
 * before that attempt, so with 30 ms a test thread preempted that long (a
 * loaded two-core machine) gave up after the first attempt, without a
 * retry or a hold.  With retries every 1-2 ms, 500 ms still makes many. */
#define RETRY_TIMEOUT_SET "sink.retry.timeout.ms=500"

START_TEST(retries_end_at_sink_retry_timeout_with_nothing_committed) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    set(&r, RETRY_TIMEOUT_SET);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}};
    inproc_source_batch(r.src, b0, 1);
    inproc_sink_fail_writes(r.sink, 1000000, true);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "sink.retry.timeout.ms") &&
                      strstr(r.err.msg, "nothing of this batch was committed"),
                  "%s", r.err.msg);
    ck_assert_uint_gt(inproc_sink_failed_writes(r.sink), 1);
    ck_assert_uint_eq(inproc_source_holds(r.src), 1);
    ck_assert_uint_eq(inproc_source_commits(r.src), 0);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), -1);
    run_close(&r);
}
END_TEST

START_TEST(a_document_the_sink_rejects_follows_the_tolerance) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}, {0, "p-bad", EVT("p-bad", 1, "X")}};
    inproc_source_batch(r.src, b0, 2);
    inproc_sink_reject(r.sink, "p-bad");
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "offset 1") && strstr(r.err.msg, "sink failed") &&
                      strstr(r.err.msg, "rejected by the test"),
                  "%s", r.err.msg);
    ck_assert_int_eq(r.err.code, RB_ERR_MONGO);
    ck_assert_uint_eq(inproc_source_commits(r.src), 0);
    run_close(&r);

    run_open(&r, "errors.tolerance=all", true);
    inproc_source_batch(r.src, b0, 2);
    inproc_sink_reject(r.sink, "p-bad");
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(r.progress[0].counts.stored, 1);
    ck_assert_uint_eq(r.progress[0].counts.dead_lettered, 1);
    ck_assert_str_eq(inproc_dlq_journal(r.dlq), "t[0]@1 sink\n");
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 2);
    run_close(&r);
}
END_TEST

START_TEST(an_embedder_failure_follows_the_tolerance) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}, {0, "p-2", DEL("p-2", 1)}};
    inproc_source_batch(r.src, b0, 2);
    r.emb.fail_calls = 1;
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "embedding batch"), "%s", r.err.msg);
    ck_assert_uint_eq(inproc_sink_writes(r.sink), 0);
    ck_assert_uint_eq(inproc_source_commits(r.src), 0);
    run_close(&r);

    /* Tolerated: the texts are dead-lettered, the delete is still written. */
    run_open(&r, "errors.tolerance=all", true);
    inproc_source_batch(r.src, b0, 2);
    r.emb.fail_calls = 1;
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(r.progress[0].counts.dead_lettered, 1);
    ck_assert_uint_eq(r.progress[0].counts.deleted, 1);
    ck_assert_str_eq(inproc_dlq_journal(r.dlq), "t[0]@0 embed\n");
    ck_assert(doc(&r, "p-2")->deleted);
    run_close(&r);
}
END_TEST

/* ---- the DLQ's retry classes --------------------------------------------- */

START_TEST(every_skipped_record_is_dead_lettered_once_before_the_commit) {
    run r;
    run_open(&r, "errors.tolerance=all", true);
    const inproc_msg b0[] = {{0, "p-x", BAD_JSON},
                             {0, "p-1", EVT("p-1", 1, "One")},
                             {1, "p-y", BAD_PRICE}};
    inproc_source_batch(r.src, b0, 3);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(r.progress[0].counts.dead_lettered, 2);
    ck_assert_uint_eq(r.progress[0].counts.skipped, 0);
    ck_assert_str_eq(inproc_dlq_journal(r.dlq), "t[0]@0 deserialize\nt[1]@0 validate\n");
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 2);
    ck_assert_int_eq(inproc_source_committed(r.src, 1), 1);
    run_close(&r);
}
END_TEST

START_TEST(a_retriable_dlq_refusal_is_retried_for_what_was_not_acknowledged) {
    run r;
    run_open(&r, "errors.tolerance=all", true);
    const inproc_msg b0[] = {{0, "p-x", BAD_JSON}, {0, "p-y", BAD_PRICE}, {0, "p-z", "[]"}};
    inproc_source_batch(r.src, b0, 3);
    inproc_dlq_fail(r.dlq, 2, INPROC_DLQ_ONE); /* one record acknowledged per failed send */
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(inproc_dlq_sends(r.dlq), 3);
    ck_assert_uint_eq(inproc_dlq_delivered(r.dlq), 3); /* each once */
    ck_assert_str_eq(inproc_dlq_journal(r.dlq),
                     "t[0]@0 deserialize\nt[0]@1 validate\nt[0]@2 validate\n");
    ck_assert_uint_eq(r.progress[0].counts.dead_lettered, 3);
    ck_assert_uint_eq(inproc_source_holds(r.src), 1);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 3);
    ck_assert_msg(strstr(r.log, "dlq_retry"), "%s", r.log);
    run_close(&r);
}
END_TEST

START_TEST(a_permanent_dlq_refusal_stops_with_nothing_committed) {
    run r;
    run_open(&r, "errors.tolerance=all", true);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}};
    const inproc_msg b1[] = {{0, "p-2", EVT("p-2", 1, "Two")}, {0, "p-x", BAD_JSON}};
    inproc_source_batch(r.src, b0, 1);
    inproc_source_batch(r.src, b1, 2);
    inproc_dlq_fail(r.dlq, 1, INPROC_DLQ_REFUSE);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "refuses every record"), "%s", r.err.msg);
    ck_assert_uint_eq(inproc_dlq_sends(r.dlq), 1); /* not retried */
    /* Batch 0 had nothing to dead-letter and is committed; batch 1's
     * documents were written, but its offsets are not committed. */
    ck_assert_uint_eq(inproc_source_commits(r.src), 1);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), 1);
    ck_assert_str_eq(doc(&r, "p-2")->text, "Two");
    run_close(&r);
}
END_TEST

START_TEST(dlq_retries_end_at_sink_retry_timeout_with_nothing_committed) {
    run r;
    run_open(&r, "errors.tolerance=all", true);
    set(&r, RETRY_TIMEOUT_SET);
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, "One")}, {0, "p-x", BAD_JSON}};
    inproc_source_batch(r.src, b0, 2);
    inproc_dlq_fail(r.dlq, 1000000, INPROC_DLQ_NOTHING);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_msg(strstr(r.err.msg, "sink.retry.timeout.ms") && strstr(r.err.msg, "acknowledged"),
                  "%s", r.err.msg);
    ck_assert_uint_gt(inproc_dlq_sends(r.dlq), 1);
    ck_assert_uint_eq(inproc_dlq_delivered(r.dlq), 0);
    ck_assert_uint_eq(inproc_source_commits(r.src), 0);
    ck_assert_int_eq(inproc_source_committed(r.src, 0), -1);
    run_close(&r);
}
END_TEST

/* ---- long texts through the caller's ports -------------------------------- */

#define LONG30                                                                                    \
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "     \
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu amber "         \
    "basalt cobalt dune"
#define LONG12 "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima"

/* The chunk documents of `id` in the chunk port: their number, and that
 * each is of `version`. */
static size_t chunks_of(const run *r, const char *id, int64_t version) {
    size_t n = 0;
    for (size_t i = 0; i < 64; i++) {
        char cid[64];
        snprintf(cid, sizeof cid, "%s#%zu", id, i);
        const inproc_doc *c = inproc_sink_get(r->chunks, cid);
        if (!c) continue;
        ck_assert_str_eq(c->parent_id, id);
        ck_assert_uint_eq(c->chunk_index, i);
        ck_assert_int_eq(c->version, version);
        ck_assert_uint_eq(c->dim, INPROC_DIM);
        n++;
    }
    ck_assert_uint_eq(n, inproc_sink_count(r->chunks, true)); /* nothing else */
    return n;
}

/* A runner on the caller's sink and chunk ports chunks long texts as the
 * MongoDB one does: the parent in the sink, the set in the chunk port,
 * replaced by version (shrunk: the chunks past the end removed), unchanged
 * chunks reused, and no chunk left once the text fits again. */
START_TEST(long_texts_become_chunk_sets_through_the_callers_ports) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    set(&r, "text.chunk.max.tokens=8");
    set(&r, "text.chunk.overlap.tokens=0");
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, LONG30)}};
    const inproc_msg b1[] = {{0, "p-1", EVT("p-1", 2, LONG12)}};
    inproc_source_batch(r.src, b0, 1);
    inproc_source_batch(r.src, b1, 1);
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(r.batches, 2);
    const rb_progress *p0 = &r.progress[0], *p1 = &r.progress[1];
    size_t n1 = p0->chunks, n2 = p1->chunks;
    ck_assert_uint_gt(n2, 1);
    ck_assert_uint_gt(n1, n2);
    ck_assert_uint_eq(p0->chunks_written, n1);
    ck_assert_uint_eq(p0->chunks_removed, 0);
    ck_assert_uint_eq(p1->chunks_written, n2);
    ck_assert_uint_eq(p1->chunks_removed, n1 - n2);
    ck_assert_uint_ge(p1->chunks_reused, 1); /* the words v2 kept */
    const inproc_doc *parent = doc(&r, "p-1");
    ck_assert_int_eq(parent->version, 2);
    ck_assert_uint_eq(parent->chunk_count, n2);
    ck_assert_uint_eq(parent->dim, 0);
    ck_assert_uint_eq(chunks_of(&r, "p-1", 2), n2);
    ck_assert_uint_eq(inproc_sink_removed(r.chunks), n1 - n2);

    /* The text fits again: a plain document, and no chunk left. */
    const inproc_msg b2[] = {{0, "p-1", EVT("p-1", 3, "Short")}};
    inproc_source_batch(r.src, b2, 1);
    r.batches = 0;
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(r.batches, 1);
    ck_assert_uint_eq(r.progress[0].chunks_removed, n2);
    ck_assert_uint_eq(doc(&r, "p-1")->dim, INPROC_DIM);
    ck_assert_uint_eq(doc(&r, "p-1")->chunk_count, 0);
    ck_assert_uint_eq(inproc_sink_count(r.chunks, true), 0);
    run_close(&r);
}
END_TEST

/* A caller's sink without a chunk port, or with one that cannot remove
 * chunks, is refused while chunking is on, before anything is written,
 * with the way out named; with text.chunk.enable = false the long text is
 * one (truncated) vector, as before chunking. */
START_TEST(chunking_without_a_chunk_port_is_refused_with_the_way_out) {
    run r;
    run_open(&r, "errors.tolerance=none", false);
    r.chunk_port = CHUNKS_NONE;
    const inproc_msg b0[] = {{0, "p-1", EVT("p-1", 1, LONG30)}};
    inproc_source_batch(r.src, b0, 1);
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_int_eq(r.err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(r.err.msg, "sink port 'in-process sink (tests/inproc.c)'") &&
                      strstr(r.err.msg, "rb_runner_ports.chunks") &&
                      strstr(r.err.msg, "text.chunk.enable = false"),
                  "%s", r.err.msg);
    ck_assert_uint_eq(inproc_sink_writes(r.sink), 0);

    r.chunk_port = CHUNKS_WITHOUT_REMOVE;
    ck_assert_int_eq(run_go(&r), -1);
    ck_assert_int_eq(r.err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(r.err.msg, "'inproc-without-remove' has no remove_chunks"), "%s",
                  r.err.msg);
    ck_assert_uint_eq(inproc_sink_writes(r.sink), 0);

    r.chunk_port = CHUNKS_NONE;
    set(&r, "text.chunk.enable=false");
    set(&r, "text.chunk.max.tokens=8");
    ck_assert_msg(run_go(&r) == 0, "%s", r.err.msg);
    ck_assert_uint_eq(doc(&r, "p-1")->dim, INPROC_DIM);
    ck_assert_uint_eq(doc(&r, "p-1")->chunk_count, 0);
    ck_assert_uint_eq(r.progress[0].chunks, 0);
    run_close(&r);
}
END_TEST

static Suite *runner_suite(void) {
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("loop");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, every_batch_accounts_for_each_record_and_commits_its_end);
    tcase_add_test(tc, tolerance_none_stops_at_a_bad_record_and_commits_nothing_of_its_batch);
    tcase_add_test(tc, tolerance_none_stops_at_a_schema_failure_too);
    tcase_add_test(tc, one_batch_with_two_bad_records_per_tolerance);
    tcase_add_test(tc, the_newest_version_in_a_batch_is_the_one_written);
    tcase_add_test(tc, a_tombstone_applies_in_log_order_within_a_batch);
    tcase_add_test(tc, a_tombstone_without_a_key_is_a_record_failure);
    tcase_add_test(tc, an_unchanged_text_is_not_embedded_again);
    tcase_add_test(tc, reuse_can_be_turned_off);
    tcase_add_test(tc, a_failed_lookup_embeds_every_text);
    tcase_add_test(tc, the_lookup_hands_the_versions_it_read_to_the_sink);
    tcase_add_test(tc, a_transient_write_failure_is_retried_then_committed);
    tcase_add_test(tc, a_write_that_fails_for_good_commits_nothing);
    tcase_add_test(tc, retries_end_at_sink_retry_timeout_with_nothing_committed);
    tcase_add_test(tc, a_document_the_sink_rejects_follows_the_tolerance);
    tcase_add_test(tc, an_embedder_failure_follows_the_tolerance);
    tcase_add_test(tc, the_document_prefix_goes_before_every_text);
    tcase_add_test(tc, every_skipped_record_is_dead_lettered_once_before_the_commit);
    tcase_add_test(tc, a_retriable_dlq_refusal_is_retried_for_what_was_not_acknowledged);
    tcase_add_test(tc, a_permanent_dlq_refusal_stops_with_nothing_committed);
    tcase_add_test(tc, dlq_retries_end_at_sink_retry_timeout_with_nothing_committed);
    TCase *ch = tcase_create("chunks");
    tcase_add_test(ch, long_texts_become_chunk_sets_through_the_callers_ports);
    tcase_add_test(ch, chunking_without_a_chunk_port_is_refused_with_the_way_out);
    suite_add_tcase(s, ch);
    suite_add_tcase(s, tc);
    return s;
}

Suite *rb_check_suite(void) { return runner_suite(); }
