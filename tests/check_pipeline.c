/*
 * Integration suite: the whole pipeline on a real Kafka broker and a real
 * MongoDB-wire server, through the ragbatch binary.  See harness.h for how
 * the servers are found; nothing here is mocked.
 */
#include "check_main.h"
#include "dlq/copy.h"
#include "embed/bert/int8.h"
#include "embed/embedder.h"
#include "expo.h"
#include "harness.h"
#include "servers/registry_client.h"
#include "servers/registry_server.h"
#include "json/json.h"

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

/* A stored document, parsed. */
typedef struct stored {
    rb_json_doc *doc;
    const rb_json *root;
} stored;

static bool fetch(rb_sink *s, const char *id, stored *out) {
    rb_error err;
    char *json = NULL;
    ck_assert_msg(rb_sink_get_json(s, id, &json, &err) == 0, "%s", err.msg);
    if (!json) return false;
    ck_assert_msg(rb_json_parse(json, strlen(json), NULL, &out->doc, &err) == 0, "%s: %s", err.msg,
                  json);
    free(json);
    out->root = rb_json_doc_root(out->doc);
    return true;
}

/* Splits a buffer into lines in place: returns the next line or NULL. */
static char *next_line(char **cursor) {
    char *line = *cursor;
    if (!line || !*line) return NULL;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = line + strlen(line);
    }
    return line;
}

static bool json_bool(const rb_json *v) {
    ck_assert(v && v->type == RB_JSON_BOOL);
    return v->boolean;
}

static int64_t count_docs(rb_sink *s, bool include_deleted) {
    int64_t n = -1;
    rb_error err;
    ck_assert_msg(rb_sink_count(s, include_deleted, &n, &err) == 0, "%s", err.msg);
    return n;
}

static double cosine(const float *a, const double *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += b[i] * b[i];
    }
    return ab / (sqrt(aa) * sqrt(bb) + 1e-30);
}

/* products_live from a manifest's summary line. */
static int64_t manifest_live(const char *path) {
    char *text = harness_slurp(path);
    const char *p = strstr(text, "\"products_live\":");
    ck_assert_ptr_nonnull(p);
    int64_t live = strtoll(p + strlen("\"products_live\":"), NULL, 10);
    free(text);
    return live;
}

/* Runs a bounded job and checks it succeeded. */
static void run_until_caught_up(const char *job, const char *log) {
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    int status = harness_run(log, args, 300);
    if (status != 0) {
        char *text = harness_slurp(log);
        ck_abort_msg("ragbatch exited %d:\n%s", status, text);
    }
}

/* Runs the case's job until caught up and checks it succeeded. */
static void caught_up(harness_case *c, const char *const *args) {
    int status = harness_case_run(c, args);
    if (status != 0) {
        char *text = harness_slurp(c->log);
        ck_abort_msg("ragbatch exited %d:\n%s", status, text);
    }
}

START_TEST(stores_every_event_with_vectors_and_metadata) {
    harness_case c;
    harness_case_open(&c, "store", 3);
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s.manifest", c.log);
    size_t bad = harness_produce_generated(c.topic, 300, 60, 7, 0.0, 0.1, manifest);
    ck_assert_uint_eq(bad, 0);
    harness_case_job(&c, "batch.max.records = 64\n");
    caught_up(&c, NULL);
    const char *topic = c.topic;

    rb_error err;
    rb_local_embed_opts eo = {.model_dir = harness_model_dir(), .threads = 2};
    rb_embedder *emb = rb_embedder_local_new(&eo, &err);
    ck_assert_msg(emb != NULL, "%s", err.msg);
    size_t dim = rb_embedder_dim(emb);
    float *vec = malloc(dim * sizeof *vec);
    double *stored_vec = malloc(dim * sizeof *stored_vec);

    rb_sink *sink = harness_case_sink(&c);
    char *lines = harness_slurp(manifest);
    size_t live = 0, deleted = 0;
    char *cursor = lines;
    for (char *line; (line = next_line(&cursor)) != NULL;) {
        rb_json_doc *md;
        ck_assert_int_eq(rb_json_parse(line, strlen(line), NULL, &md, &err), 0);
        const rb_json *m = rb_json_doc_root(md);
        if (rb_json_get(m, "summary")) {
            const rb_json *sum = rb_json_get(m, "summary");
            ck_assert_int_eq(harness_json_int(rb_json_get(sum, "products_live")), (int64_t)live);
            rb_json_doc_destroy(md);
            continue;
        }
        const char *id = rb_json_string(rb_json_get(m, "product_id"));
        stored s;
        ck_assert_msg(fetch(sink, id, &s), "document %s is missing", id);
        ck_assert_int_eq(harness_json_int(rb_json_get(s.root, "version")),
                         harness_json_int(rb_json_get(m, "version")));
        bool is_deleted = json_bool(rb_json_get(m, "deleted"));
        ck_assert_int_eq(json_bool(rb_json_get(s.root, "deleted")), is_deleted);
        if (is_deleted) {
            deleted++;
        } else {
            live++;
            const rb_json *tf = rb_json_get(m, "text_fields");
            const rb_json *meta = rb_json_get(s.root, "metadata");
            ck_assert_str_eq(rb_json_string(rb_json_get(meta, "name")),
                             rb_json_string(rb_json_get(tf, "name")));
            ck_assert_str_eq(rb_json_string(rb_json_get(meta, "brand")),
                             rb_json_string(rb_json_get(tf, "brand")));
            const char *text = rb_json_string(rb_json_get(s.root, "text"));
            ck_assert_ptr_nonnull(strstr(text, rb_json_string(rb_json_get(tf, "name"))));
            ck_assert_ptr_nonnull(strstr(text, rb_json_string(rb_json_get(tf, "description"))));
            const rb_json *src = rb_json_get(s.root, "source");
            ck_assert_str_eq(rb_json_string(rb_json_get(src, "topic")), topic);
            ck_assert_uint_eq(strlen(rb_json_string(rb_json_get(s.root, "text_hash"))), 64);
            /* The stored vector is the model's embedding of the stored text. */
            const rb_json *e = rb_json_get(s.root, "embedding");
            ck_assert(e && e->type == RB_JSON_ARRAY);
            ck_assert_uint_eq(e->count, dim);
            for (size_t i = 0; i < dim; i++) stored_vec[i] = e->items[i].number;
            ck_assert_int_eq(rb_embedder_embed(emb, &text, 1, vec, &err), 0);
            double sim = cosine(vec, stored_vec, dim);
            ck_assert_msg(sim > 0.9999, "%s: cosine %f", id, sim);
        }
        rb_json_doc_destroy(s.doc);
        rb_json_doc_destroy(md);
    }
    ck_assert_uint_gt(live, 0);
    ck_assert_uint_gt(deleted, 0);
    ck_assert_int_eq(count_docs(sink, false), (int64_t)live);
    ck_assert_int_eq(count_docs(sink, true), (int64_t)(live + deleted));
    ck_assert_int_eq(harness_committed_total(topic, topic), 300);
    harness_progress p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 300); /* each event in one batch's progress line */
    ck_assert_int_eq(p.skipped + p.dead_lettered + p.failed, 0);
    free(lines);
    harness_case_close(&c);
    free(vec);
    free(stored_vec);
    rb_embedder_destroy(emb);
}
END_TEST

#define EVT(id, type, ver, name)                                                                  \
    "{\"product_id\":\"" id "\",\"event_type\":\"" type "\",\"event_time\":"                      \
    "\"2026-11-24T10:00:00.000Z\",\"version\":" #ver ",\"name\":\"" name "\",\"price\":1}"
#define DEL(id, ver)                                                                              \
    "{\"product_id\":\"" id "\",\"event_type\":\"deleted\",\"event_time\":"                       \
    "\"2026-11-24T10:00:00.000Z\",\"version\":" #ver "}"

START_TEST(older_versions_never_win_and_deletes_apply) {
    harness_case c;
    harness_case_open(&c, "order", 1);
    const harness_msg msgs[] = {
        {"p-1", EVT("p-1", "created", 3, "Three"), 0, 0},
        {"p-1", EVT("p-1", "updated", 2, "Two"), 0, 0}, /* late: stale */
        {"p-2", EVT("p-2", "created", 1, "Alive"), 0, 0},
        {"p-2", DEL("p-2", 2), 0, 0}, /* versioned delete */
        {"p-3", EVT("p-3", "created", 1, "Doomed"), 0, 0},
        {"p-3", NULL, 0, 0}, /* Kafka tombstone */
        {"p-4", EVT("p-4", "created", 5, "Five"), 0, 0},
    };
    harness_produce(c.topic, msgs, sizeof msgs / sizeof msgs[0]);
    harness_case_job(&c, NULL);
    caught_up(&c, NULL);

    rb_sink *sink = harness_case_sink(&c);
    stored s;
    ck_assert(fetch(sink, "p-1", &s));
    ck_assert_int_eq(harness_json_int(rb_json_get(s.root, "version")), 3);
    ck_assert_str_eq(rb_json_string(rb_json_get(rb_json_get(s.root, "metadata"), "name")),
                     "Three");
    rb_json_doc_destroy(s.doc);
    ck_assert(fetch(sink, "p-2", &s));
    ck_assert(json_bool(rb_json_get(s.root, "deleted")));
    rb_json_doc_destroy(s.doc);
    ck_assert(!fetch(sink, "p-3", &s));

    /* Across batches too: an older event, then a replay of the whole topic
     * into the same collection (a new consumer group), change nothing. */
    const harness_msg late[] = {
        {"p-4", EVT("p-4", "updated", 4, "Four"), 0, 0},
        {"p-2", EVT("p-2", "updated", 1, "Zombie"), 0, 0},
    };
    harness_produce(c.topic, late, 2);
    caught_up(&c, NULL);
    harness_progress p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 2);
    ck_assert_int_eq(p.stale, 2); /* both, against what MongoDB stores */
    ck_assert_int_eq(harness_committed_total(c.topic, c.topic), 9);
    char replay[256];
    snprintf(replay, sizeof replay, "kafka.group.id=%s-replay", c.topic);
    const char *args[] = {"--set", replay, NULL};
    caught_up(&c, args);
    ck_assert(fetch(sink, "p-4", &s));
    ck_assert_int_eq(harness_json_int(rb_json_get(s.root, "version")), 5);
    rb_json_doc_destroy(s.doc);
    ck_assert(fetch(sink, "p-2", &s));
    ck_assert(json_bool(rb_json_get(s.root, "deleted")));
    rb_json_doc_destroy(s.doc);
    ck_assert_int_eq(count_docs(sink, false), 2); /* p-1 and p-4 */
    harness_case_close(&c);
}
END_TEST

/* errors.tolerance none and all: check_runner (one_batch_with_two_bad_records_per_tolerance). */

/* Defined with the cases that use them most, further down. */
static pid_t kafka_pid(void);
static bool log_has(const char *path, const char *needle);
static bool log_has_after(const char *path, const char *first, const char *then);
static void produce_unique_over(const char *topic, int from, int count, int partitions);
static bool gave_up(const char *out);

/* ---- a batch held in its DLQ step, by arrangement ------------------------
 *
 * Stopping the broker (SIGSTOP) makes a DLQ send wait for good, but only a
 * send made after the stop: a runner that reached its DLQ step first has
 * its ack in milliseconds.  (A DLQ topic wanting more in-sync replicas
 * than it has does not help: this broker takes acks=all writes there, see
 * docs/test-servers.md.)  So the batch is stopped before its DLQ step
 * first, by MongoDB: its records are produced while MongoDB is away, so
 * it can only wait in its write retries (the consumer held); then the
 * broker stops, MongoDB comes back, the write goes through and the batch
 * goes on to its DLQ step, where it waits.  Each step is gated by the one
 * before; none depends on how fast the runner is. */

/* Stops the broker; a guard process wakes it up again after 150 s whatever
 * happens to the test.  Not less: while the broker is stopped the runner's
 * lag refresh can wait for a watermark query until librdkafka's
 * socket.timeout.ms (60 s) before the held write goes on to its DLQ step;
 * a 60-s guard woke the broker just then in one full-suite run, the DLQ
 * ack came and the case saw a failed commit instead of a held batch.
 * Returns the guard's pid. */
static pid_t broker_stop(void) {
    pid_t broker = kafka_pid();
    pid_t guard = fork();
    ck_assert_int_ge(guard, 0);
    if (guard == 0) {
        sleep(150);
        kill(broker, SIGCONT);
        _exit(0);
    }
    ck_assert_int_eq(kill(broker, SIGSTOP), 0);
    return guard;
}

static void broker_resume(pid_t guard) {
    ck_assert_int_eq(kill(kafka_pid(), SIGCONT), 0);
    kill(guard, SIGKILL);
    waitpid(guard, NULL, 0);
}

/* In one produce call to partition 0: events u-0..u-<count-1> with the
 * record "not json" before event `bad_at`. */
static void produce_with_bad_record(const char *topic, int count, int bad_at) {
    harness_msg *m = calloc((size_t)count + 1, sizeof *m);
    char(*keys)[32] = calloc((size_t)count, sizeof *keys);
    char(*vals)[256] = calloc((size_t)count, sizeof *vals);
    ck_assert(m && keys && vals);
    size_t k = 0;
    for (int i = 0; i < count; i++) {
        if (i == bad_at) m[k++] = (harness_msg){"p-x", "not json", 0, 0};
        snprintf(keys[i], sizeof keys[i], "u-%d", i);
        snprintf(vals[i], sizeof vals[i],
                 "{\"product_id\":\"u-%d\",\"event_type\":\"created\",\"event_time\":"
                 "\"2026-11-24T10:00:00.000Z\",\"version\":1,\"name\":\"Item %d\",\"price\":1}",
                 i, i);
        m[k++] = (harness_msg){keys[i], vals[i], 0, 0};
    }
    harness_produce(topic, m, k);
    free(m);
    free(keys);
    free(vals);
}

/* Waits (bounded) for `needle` in the log of the running `pid`. */
static void await_log(pid_t pid, const char *log, const char *needle) {
    int64_t until = rb_now_ms() + 120000;
    while (!log_has(log, needle)) {
        ck_assert_msg(rb_now_ms() < until, "never saw '%s' in %s", needle, log);
        ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "ragbatch exited before '%s'", needle);
        rb_sleep_ms(20);
    }
}

/* With MongoDB already away, the runner `pid` retrying the write of the
 * batch that holds the records just produced: stops the broker, brings
 * MongoDB back and returns once that batch is in its DLQ step, where no
 * ack can come.  Returns the guard of broker_stop(). */
static pid_t hold_in_dlq_step(pid_t pid, const char *log) {
    await_log(pid, log, "sink_retry"); /* text or JSON log */
    pid_t guard = broker_stop();
    harness_mongo_up();
    /* Every batch has a DLQ step: the held one's comes after its retries. */
    int64_t until = rb_now_ms() + 120000;
    while (!log_has_after(log, "sink_retry", "stage=dlq")) {
        ck_assert_msg(rb_now_ms() < until, "the held batch never reached its DLQ step");
        ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "ragbatch exited before its DLQ step");
        rb_sleep_ms(20);
    }
    return guard;
}

/* Arranged, not raced (killing once enough was stored let a fast machine
 * store everything first): the batch of a record the DLQ must take is
 * held in its DLQ step (hold_in_dlq_step), written to MongoDB but not
 * committed, and nothing after it can be processed meanwhile.  The kill
 * comes there: the restart must read that batch again without storing
 * anything twice, and process what no batch had reached. */
START_TEST(kill_9_mid_run_then_restart_stores_each_event_once) {
    harness_case c;
    harness_case_open(&c, "kill", 2);
    const char *topic = c.topic, *log = c.log;
    char manifest[600], dlq[160];
    snprintf(manifest, sizeof manifest, "%s.manifest", log);
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    harness_create_topic(dlq, 1);
    const size_t n = 600;
    const int late = 200;
    harness_produce_generated(topic, n, n, 11, 0.0, 0.0, manifest);
    char extra[256];
    snprintf(extra, sizeof extra,
             "batch.max.records = 50\nlog.level = debug\nerrors.tolerance = all\n"
             "errors.deadletterqueue.topic.name = %s\n",
             dlq);
    const char *job = harness_case_job(&c, extra);

    rb_sink *sink = harness_case_sink(&c);
    const char *args[] = {"run", job, "--set", "mongo.timeout.ms=1500", NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t until = rb_now_ms() + 180000;
    while (harness_committed_total(topic, topic) < (int64_t)n) {
        ck_assert_msg(rb_now_ms() < until, "%zu events not committed in 180 s", n);
        ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
        rb_sleep_ms(50);
    }
    /* Behind the first n, in one partition and one produce call: the bad
     * record between the first late events, so that the first batch of
     * what follows has both a write to retry and a dead letter. */
    harness_mongo_down();
    produce_with_bad_record(topic, late, 5);
    pid_t guard = hold_in_dlq_step(pid, log);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    broker_resume(guard);
    /* Mid-run by construction: the held batch was written and not
     * committed, and of the late events at most the 49 that shared it
     * were stored. */
    int64_t total = (int64_t)n + 1 + late;
    ck_assert_int_eq(harness_committed_total(topic, topic), (int64_t)n);
    /* The test's own connection died with the server: open a new one. */
    rb_sink_destroy(sink);
    c.sink = NULL;
    sink = harness_case_sink(&c);
    int64_t before = count_docs(sink, true);
    int late_stored = 0;
    for (int i = 0; i < late; i++) {
        char id[32];
        snprintf(id, sizeof id, "u-%d", i);
        stored s;
        if (fetch(sink, id, &s)) {
            late_stored++;
            rb_json_doc_destroy(s.doc);
        }
    }
    ck_assert_int_le(late_stored, 49);

    const char *again[] = {"run", job, "--until", "caught-up", NULL};
    int status = harness_run(log, again, 300);
    if (status != 0) ck_abort_msg("the restart exited %d:\n%s", status, harness_slurp(log));
    char *lines = harness_slurp(manifest);
    size_t checked = 0;
    char *cursor = lines;
    for (char *line; (line = next_line(&cursor)) != NULL;) {
        if (strstr(line, "\"summary\"")) continue;
        char id[32];
        const char *p = strstr(line, "\"product_id\":\"");
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(sscanf(p + 14, "%31[^\"]", id), 1);
        stored s;
        ck_assert_msg(fetch(sink, id, &s), "%s lost", id);
        rb_json_doc_destroy(s.doc);
        checked++;
    }
    for (int i = 0; i < late; i++) {
        char id[32];
        snprintf(id, sizeof id, "u-%d", i);
        stored s;
        ck_assert_msg(fetch(sink, id, &s), "%s lost", id);
        rb_json_doc_destroy(s.doc);
    }
    /* Every product the events created is there, and nothing else. */
    ck_assert_uint_gt(checked, n / 2);
    ck_assert_int_gt(count_docs(sink, true), before);
    ck_assert_int_eq(count_docs(sink, true), (int64_t)checked + late);
    ck_assert_int_eq(harness_committed_total(topic, topic), total);
    ck_assert_int_eq(harness_progress_read(log).dead_lettered, 1);
    free(lines);
    harness_case_close(&c);
}
END_TEST

/* SIGTERM with a batch in hand: the batch is finished and committed, then
 * the process stops cleanly.  The case used to signal a runner that had
 * committed everything, so no batch was in hand.  Arranged: MongoDB is away
 * when the signal comes, so the batch is certainly in hand (retrying its
 * write) and cannot have been committed; it comes back well within the
 * abandon time (25 s of a 30 s budget). */
START_TEST(sigterm_finishes_and_commits_the_batch) {
    harness_case c;
    harness_case_open(&c, "term", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    produce_unique_over(topic, 0, 10, 1);
    const char *job = harness_write_job(topic, topic, db, "shutdown.timeout.ms = 30000\n");
    rb_sink *sink = harness_case_sink(&c);
    const char *args[] = {"run", job, "--set", "mongo.timeout.ms=1500", NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(topic, topic) < 10) {
        ck_assert_msg(rb_now_ms() < until, "nothing committed in 120 s");
        rb_sleep_ms(100);
    }
    harness_mongo_down();
    produce_unique_over(topic, 10, 30, 1);
    until = rb_now_ms() + 60000;
    while (!log_has(log, "event=sink_retry")) {
        ck_assert_msg(rb_now_ms() < until, "the runner never retried a write");
        ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
        rb_sleep_ms(100);
    }
    kill(pid, SIGTERM);
    harness_mongo_up();
    ck_assert_int_eq(harness_wait(pid, 60), 0);
    char *out = harness_slurp(log);
    ck_assert_msg(strstr(out, "clean stop (signal): the last batch was committed") != NULL &&
                      !gave_up(out),
                  "%s", out);
    free(out);
    /* The batch in hand was committed after the signal, and what was
     * committed is what is stored. */
    int64_t committed = harness_committed_total(topic, topic);
    ck_assert_int_gt(committed, 10);
    /* The test's own connection died with the server: open a new one. */
    rb_sink_destroy(sink);
    c.sink = NULL;
    sink = harness_case_sink(&c);
    ck_assert_int_eq(count_docs(sink, false), committed);
    harness_case_close(&c);
}
END_TEST

/* The value of header `name` of `m` as a string (static buffer), or NULL. */
static const char *header(rd_kafka_message_t *m, const char *name) {
    static char buf[2048];
    rd_kafka_headers_t *h = NULL;
    const void *v;
    size_t len;
    if (rd_kafka_message_headers(m, &h) || rd_kafka_header_get_last(h, name, &v, &len))
        return NULL;
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}

START_TEST(dead_letter_queue_receives_every_bad_record_with_context) {
    harness_case c;
    harness_case_open(&c, "dlq", 1);
    const char *topic = c.topic, *log = c.log;
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    harness_create_topic(dlq, 1);
    char big[3000];
    int len = snprintf(big, sizeof big,
                       "{\"product_id\":\"p-big\",\"event_type\":\"created\",\"event_time\":"
                       "\"2026-11-24T10:00:00Z\",\"name\":\"Big\",\"description\":\"");
    memset(big + len, 'x', 2500);
    snprintf(big + len + 2500, sizeof big - (size_t)len - 2500, "\"}");
    const harness_msg msgs[] = {
        {"p-1", EVT("p-1", "created", 1, "One"), 0, 0},                  /* 0 */
        {"p-x", "not json at all", 0, 0},                                /* 1 */
        {"p-2", EVT("p-2", "created", 1, "Two"), 0, 0},                  /* 2 */
        {"p-u", "{\"product_id\":\"p-u\",\"name\":\"\xc3\x28\"}", 0, 0}, /* 3 */
        {"p-n",
         "{\"product_id\":\"p-n\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-24T10:00:00Z\",\"name\":\"Neg\",\"price\":-3}",
         0, 0},                                           /* 4 */
        {"p-big", big, 0, 0},                             /* 5 */
        {"p-3", EVT("p-3", "created", 1, "Three"), 0, 0}, /* 6 */
    };
    harness_produce(topic, msgs, 7);

    char extra[512];
    snprintf(extra, sizeof extra,
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n"
             "errors.deadletterqueue.context.headers.enable = true\nmax.message.bytes = 2048\n"
             "errors.alert.threshold = 0.2\n",
             dlq);
    harness_case_job(&c, extra);
    caught_up(&c, NULL);
    harness_progress p = harness_progress_read(log);
    ck_assert_int_eq(p.in, 7);
    ck_assert_int_eq(p.dead_lettered, 4);
    ck_assert_int_eq(p.stored, 3);
    /* 4 of 7 failed, over the 20% threshold: one alert line. */
    char *out = harness_slurp(log);
    ck_assert_msg(strstr(out, "\"log.level\":\"ALERT\"") &&
                      strstr(out, "\"event.action\":\"error_rate\",\"failed\":4,\"in\":7,"),
                  "%s", out);
    free(out);
    ck_assert_int_eq(harness_committed_total(topic, topic), 7);
    rb_sink *sink = harness_case_sink(&c);
    ck_assert_int_eq(count_docs(sink, false), 3);

    /* Read the DLQ topic back and check every record and its headers. */
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"), errstr,
                      sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", dlq, errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ck_assert_ptr_nonnull(rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, dlq, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    static const struct {
        int64_t offset;
        const char *stage;
        const char *cls;
    } expect[] = {
        {1, "deserialize", "ragbatch.DeserializationError"},
        {3, "deserialize", "ragbatch.DeserializationError"},
        {4, "validate", "ragbatch.SchemaValidationError"},
        {5, "deserialize", "ragbatch.DeserializationError"},
    };
    int got = 0;
    int64_t until = rb_now_ms() + 30000;
    while (got < 4 && rb_now_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 500);
        if (!m) continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        const harness_msg *orig = &msgs[expect[got].offset];
        ck_assert_uint_eq(m->key_len, strlen(orig->key));
        ck_assert_int_eq(memcmp(m->key, orig->key, m->key_len), 0);
        ck_assert_uint_eq(m->len, strlen(orig->value));
        ck_assert_int_eq(memcmp(m->payload, orig->value, m->len), 0);
        ck_assert_str_eq(header(m, "__connect.errors.topic"), topic);
        ck_assert_str_eq(header(m, "__connect.errors.partition"), "0");
        char off[16];
        snprintf(off, sizeof off, "%lld", (long long)expect[got].offset);
        ck_assert_str_eq(header(m, "__connect.errors.offset"), off);
        ck_assert_str_eq(header(m, "__connect.errors.connector.name"), topic);
        ck_assert_str_eq(header(m, "ragbatch.error.stage"), expect[got].stage);
        ck_assert_str_eq(header(m, "__connect.errors.exception.class.name"), expect[got].cls);
        ck_assert_ptr_nonnull(header(m, "__connect.errors.exception.message"));
        ck_assert_ptr_nonnull(header(m, "__connect.errors.task.id"));
        ck_assert_ptr_nonnull(header(m, "__connect.errors.stage"));
        ck_assert_ptr_nonnull(header(m, "ragbatch.runner.version"));
        if (expect[got].offset == 4) {
            ck_assert_str_eq(header(m, "ragbatch.error.path"), "/price");
            ck_assert_ptr_nonnull(
                strstr(header(m, "__connect.errors.exception.message"), "minimum"));
        }
        if (expect[got].offset == 5)
            ck_assert_ptr_nonnull(
                strstr(header(m, "__connect.errors.exception.message"), "max.message.bytes"));
        rd_kafka_message_destroy(m);
        got++;
    }
    ck_assert_int_eq(got, 4);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);

    /* dlq stats: counts by stage and class at a glance. */
    char dlq_log[600];
    snprintf(dlq_log, sizeof dlq_log, "%s.dlq.log", log);
    const char *stats_args[] = {"dlq", "stats", dlq, NULL};
    ck_assert_int_eq(harness_run(dlq_log, stats_args, 60), 0);
    out = harness_slurp(dlq_log);
    ck_assert_msg(strstr(out, ": 4 records") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "       3  deserialize   ragbatch.DeserializationError"), "%s", out);
    ck_assert_msg(strstr(out, "       1  validate      ragbatch.SchemaValidationError"), "%s",
                  out);
    free(out);

    /* dlq replay of the schema failure with a corrected value, back to the
     * source topic; the job then stores it.  A second replay sends nothing. */
    char fix_path[600];
    snprintf(fix_path, sizeof fix_path, "%s.fix.jsonl", log);
    FILE *fix = fopen(fix_path, "w");
    ck_assert_ptr_nonnull(fix);
    fputs("{\"partition\":0,\"offset\":2,\"value\":{\"product_id\":\"p-n\","
          "\"event_type\":\"created\",\"event_time\":\"2026-11-24T10:00:00Z\","
          "\"name\":\"Neg\",\"price\":3}}\n",
          fix);
    fclose(fix);
    const char *replay_args[] = {"dlq",          "replay", dlq, "--filter", "stage=validate",
                                 "--value-file", fix_path, NULL};
    ck_assert_int_eq(harness_run(dlq_log, replay_args, 60), 0);
    out = harness_slurp(dlq_log);
    ck_assert_msg(strstr(out, "replayed 1 record from") != NULL, "%s", out);
    free(out);
    caught_up(&c, NULL);
    ck_assert_int_eq(count_docs(sink, false), 4);
    ck_assert_int_eq(harness_run(dlq_log, replay_args, 60), 0);
    out = harness_slurp(dlq_log);
    ck_assert_msg(strstr(out, "replayed 0 records") != NULL, "%s", out);
    free(out);
    harness_case_close(&c);
}
END_TEST

START_TEST(schema_registry_framed_events_are_validated_with_their_own_schema) {
    harness_case c;
    harness_case_open(&c, "sr", 1);
    rs_server *srv = rs_server_start(NULL);
    ck_assert_ptr_nonnull(srv);
    char *schema = harness_slurp(RB_SOURCE_DIR "/conf/product_schema.json");
    unsigned id = rs_register_schema(rs_server_port(srv), NULL, "product-updates-value", schema);
    free(schema);
    char good[512], bad[512], unknown[512];
    size_t ngood = rs_frame(id, EVT("p-f1", "created", 1, "Framed"), good, sizeof good);
    size_t nbad = rs_frame(id,
                           "{\"product_id\":\"p-f2\",\"event_type\":\"created\",\"event_time\":"
                           "\"2026-11-24T10:00:00Z\",\"name\":\"Bad\",\"price\":-3}",
                           bad, sizeof bad);
    size_t nunknown =
        rs_frame(id + 100, EVT("p-f3", "created", 1, "Lost"), unknown, sizeof unknown);
    const harness_msg msgs[] = {
        {"p-f1", good, ngood, 0},
        {"p-f2", bad, nbad, 0},
        {"p-f3", unknown, nunknown, 0},
        {"p-plain", EVT("p-plain", "created", 1, "Plain"), 0, 0},
    };
    harness_produce(c.topic, msgs, 4);
    char extra[256];
    snprintf(extra, sizeof extra,
             "errors.tolerance = all\nschema.registry.url = http://127.0.0.1:%d\n",
             rs_server_port(srv));
    harness_case_job(&c, extra);
    caught_up(&c, NULL);
    harness_progress p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 4);
    ck_assert_int_eq(p.stored, 2);
    ck_assert_int_eq(p.skipped, 2);
    char *out = harness_slurp(c.log);
    ck_assert_msg(strstr(out, "/price") != NULL, "the framed violation names the field:\n%s", out);
    free(out);
    ck_assert_uint_eq(rs_server_gets_of(srv, id), 1); /* fetched once, then cached */
    rb_sink *sink = harness_case_sink(&c);
    stored s;
    ck_assert(fetch(sink, "p-f1", &s));
    rb_json_doc_destroy(s.doc);
    ck_assert(fetch(sink, "p-plain", &s));
    rb_json_doc_destroy(s.doc);
    ck_assert(!fetch(sink, "p-f2", &s));
    harness_case_close(&c);
    rs_server_stop(srv);
}
END_TEST

#define PRICED(id, ver, name, price)                                                              \
    "{\"product_id\":\"" id "\",\"event_type\":\"updated\",\"event_time\":"                       \
    "\"2026-11-24T10:00:00.000Z\",\"version\":" #ver ",\"name\":\"" name "\",\"price\":" #price   \
    "}"

typedef struct vec_seen {
    float *out; /* room for 384 values */
    size_t dim;
} vec_seen;

static int keep_vector(const rb_sink_stored_view *v, void *ctx) {
    vec_seen *s = ctx;
    s->dim = v->dim;
    memcpy(s->out, v->vector, (v->dim < 384 ? v->dim : 384) * sizeof *v->vector);
    return 0;
}

START_TEST(unchanged_texts_reuse_the_stored_vector) {
    harness_case c;
    harness_case_open(&c, "reuse", 1);
    const harness_msg first[] = {
        {"p-r1", PRICED("p-r1", 1, "Reading lamp", 10), 0, 0},
        {"p-r2", PRICED("p-r2", 1, "Oak desk", 200), 0, 0},
    };
    harness_produce(c.topic, first, 2);
    harness_case_job(&c, NULL);
    caught_up(&c, NULL);
    rb_sink *sink = harness_case_sink(&c);
    stored before;
    ck_assert(fetch(sink, "p-r1", &before));

    /* A price-only update and a renamed product. */
    const harness_msg second[] = {
        {"p-r1", PRICED("p-r1", 2, "Reading lamp", 12), 0, 0},
        {"p-r2", PRICED("p-r2", 2, "Oak desk, extra wide", 200), 0, 0},
    };
    harness_produce(c.topic, second, 2);
    caught_up(&c, NULL);
    /* The rule is check_runner's; here: MongoDB hands the stored vector back. */
    harness_progress p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 2);
    ck_assert_int_eq(p.reused, 1);
    ck_assert_int_eq(p.stored, 1);
    ck_assert_int_eq(p.embedded, 1);
    stored after;
    ck_assert(fetch(sink, "p-r1", &after));
    ck_assert_int_eq(harness_json_int(rb_json_get(after.root, "version")), 2);
    ck_assert_int_eq(harness_json_int(rb_json_get(rb_json_get(after.root, "metadata"), "price")),
                     12);
    const rb_json *e0 = rb_json_get(before.root, "embedding"),
                  *e1 = rb_json_get(after.root, "embedding");
    ck_assert_uint_eq(e0->count, e1->count);
    for (size_t i = 0; i < e0->count; i++)
        ck_assert_double_eq(e0->items[i].number, e1->items[i].number);

    rb_error err;
    if (harness_mongo() == HARNESS_MONGO_JAVA) {
        /* mongo-java-server 1.47 cannot decode binary subtype 9 and drops
         * the connection (docs/test-servers.md), so the float32 half of
         * this case needs a server that stores binary vectors. */
        rb_json_doc_destroy(before.doc);
        rb_json_doc_destroy(after.doc);
        harness_case_close(&c);
        return;
    }

    /* The job switches to mongo.vector.format = float32: the vector stored
     * as an array is still reused, and is written back as a binary vector
     * holding the same values. */
    const harness_msg third[] = {{"p-r1", PRICED("p-r1", 3, "Reading lamp", 14), 0, 0}};
    harness_produce(c.topic, third, 1);
    harness_case_job(&c, "mongo.vector.format = float32\n");
    caught_up(&c, NULL);
    p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 1);
    ck_assert_int_eq(p.reused, 1);
    ck_assert_int_eq(p.embedded, 0);
    stored bin;
    ck_assert(fetch(sink, "p-r1", &bin));
    const rb_json *eb = rb_json_get(bin.root, "embedding");
    ck_assert_msg(eb && eb->type == RB_JSON_OBJECT, "embedding is not a binary vector");
    const rb_json *b64 = rb_json_get(eb, "$binary");
    ck_assert_ptr_nonnull(b64);
    ck_assert_str_eq(rb_json_get(b64, "subType")->str, "09");
    rb_json_doc_destroy(bin.doc);
    float got[384];
    vec_seen seen = {got, 0};
    const char *ids[] = {"p-r1"};
    ck_assert_int_eq(rb_sink_lookup_stored(sink, ids, 1, keep_vector, &seen, &err), 0);
    ck_assert_uint_eq(seen.dim, e1->count);
    for (size_t i = 0; i < e1->count; i++) ck_assert_float_eq(got[i], (float)e1->items[i].number);

    rb_json_doc_destroy(before.doc);
    rb_json_doc_destroy(after.doc);
    harness_case_close(&c);
}
END_TEST

/* embed.precision = int8 (issue 14): a vector stored by an fp32 run is not
 * reused by an int8 run of the same job (the model names differ: the int8
 * one carries @int8), the document says which precision made its vector,
 * and an int8 vector is reused by the next int8 run.  Without VNNI the
 * int8 run must fail, naming the missing feature. */
START_TEST(int8_runs_never_reuse_fp32_vectors) {
    harness_case c;
    harness_case_open(&c, "prec", 1);
    const harness_msg v1[] = {{"p-q1", PRICED("p-q1", 1, "Walnut side table", 90), 0, 0}};
    harness_produce(c.topic, v1, 1);
    harness_case_job(&c, NULL);
    caught_up(&c, NULL);
    rb_sink *sink = harness_case_sink(&c);
    stored d;
    ck_assert(fetch(sink, "p-q1", &d));
    ck_assert_str_eq(rb_json_get(d.root, "model")->str, "all-MiniLM-L6-v2");
    rb_json_doc_destroy(d.doc);

    /* A price-only change, embedded in int8: not reused, embedded anew. */
    const harness_msg v2[] = {{"p-q1", PRICED("p-q1", 2, "Walnut side table", 95), 0, 0}};
    harness_produce(c.topic, v2, 1);
    harness_case_job(&c, "embed.precision = int8\n");
    if (rb_q8_missing()) {
        ck_assert_int_ne(harness_case_run(&c, NULL), 0);
        char *text = harness_slurp(c.log);
        ck_assert_msg(strstr(text, rb_q8_missing()), "%s", text);
        free(text);
        harness_case_close(&c);
        return;
    }
    caught_up(&c, NULL);
    harness_progress p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 1);
    ck_assert_int_eq(p.reused, 0);
    ck_assert_int_eq(p.embedded, 1);
    ck_assert(fetch(sink, "p-q1", &d));
    ck_assert_str_eq(rb_json_get(d.root, "model")->str, "all-MiniLM-L6-v2@int8");
    ck_assert_int_eq(harness_json_int(rb_json_get(d.root, "version")), 2);
    rb_json_doc_destroy(d.doc);

    /* Another price-only change, still int8: the int8 vector is reused. */
    const harness_msg v3[] = {{"p-q1", PRICED("p-q1", 3, "Walnut side table", 99), 0, 0}};
    harness_produce(c.topic, v3, 1);
    caught_up(&c, NULL);
    p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 1);
    ck_assert_int_eq(p.reused, 1);
    ck_assert_int_eq(p.embedded, 0);
    harness_case_close(&c);
}
END_TEST

START_TEST(backfill_from_a_timestamp_restores_that_range_only) {
    char topic[128], db[128], log[512], group[160];
    harness_unique("rb-backfill", topic, sizeof topic);
    harness_unique("rbbackfill", db, sizeof db);
    snprintf(log, sizeof log, "%s/tests/%s.log", RB_BUILD_DIR, topic);
    snprintf(group, sizeof group, "%s-backfill", topic);
    harness_create_topic(topic, 2);
    const harness_msg early[] = {
        {"a-1", EVT("a-1", "created", 1, "Early one"), 0, 0},
        {"a-2", EVT("a-2", "created", 1, "Early two"), 0, 1},
        {"a-3", EVT("a-3", "created", 1, "Early three"), 0, 0},
    };
    harness_produce(topic, early, 3);
    rb_sleep_ms(1500);
    int64_t from_ms = rb_wall_ms();
    rb_sleep_ms(100);
    const harness_msg late[] = {
        {"b-1", EVT("b-1", "created", 1, "Late one"), 0, 0},
        {"b-2", EVT("b-2", "created", 1, "Late two"), 0, 1},
    };
    harness_produce(topic, late, 2);
    const char *job = harness_write_job(topic, topic, db, NULL);
    run_until_caught_up(job, log);
    ck_assert_int_eq(harness_committed_total(topic, topic), 5);

    /* Lose the documents, then backfill from the moment between the two. */
    rb_sink *sink = harness_sink(db);
    rb_error err;
    ck_assert_int_eq(rb_sink_drop_database(sink, &err), 0);
    time_t sec = (time_t)(from_ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + strlen(when), sizeof when - strlen(when), ".%03dZ", (int)(from_ms % 1000));
    const char *args[] = {"backfill", job, "--from-timestamp", when, NULL};
    for (int round = 0; round < 2; round++) { /* twice: a re-run is safe */
        int status = harness_run(log, args, 120);
        char *out = harness_slurp(log);
        ck_assert_msg(status == 0, "backfill exited %d:\n%s", status, out);
        ck_assert_msg(strstr(out, "event=backfill_progress") && strstr(out, "share_percent=100\n"),
                      "%s", out);
        free(out);
        ck_assert_int_eq(count_docs(sink, false), 2);
        stored s;
        ck_assert(fetch(sink, "b-1", &s));
        rb_json_doc_destroy(s.doc);
        ck_assert(!fetch(sink, "a-1", &s));
    }
    /* The live group did not move; the backfill has a group of its own. */
    ck_assert_int_eq(harness_committed_total(topic, topic), 5);
    ck_assert_int_eq(harness_committed_total(group, topic), 5);
    ck_assert_int_eq(rb_sink_drop_database(sink, &err), 0);
    rb_sink_destroy(sink);
}
END_TEST

START_TEST(a_document_the_server_rejects_is_dead_lettered_not_fatal) {
    harness_case c;
    harness_case_open(&c, "sinkdlq", 1);
    const char *topic = c.topic, *log = c.log;
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    harness_create_topic(dlq, 1);
    /* Without a schema, an attribute holding nested arrays reaches the
     * sink, and FerretDB rejects that one document. */
    const harness_msg msgs[] = {
        {"p-ok", EVT("p-ok", "created", 1, "Fine"), 0, 0},
        {"p-nest",
         "{\"product_id\":\"p-nest\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-24T10:00:00Z\",\"version\":1,\"name\":\"Nested\","
         "\"attributes\":{\"grid\":[[1,2],[3,4]]}}",
         0, 0},
    };
    harness_produce(topic, msgs, 2);
    char extra[512];
    snprintf(extra, sizeof extra,
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n"
             "errors.deadletterqueue.context.headers.enable = true\n",
             dlq);
    harness_case_job(&c, extra);
    const char *args[] = {"--set", "schema.file=", NULL};
    caught_up(&c, args);
    char *out = harness_slurp(log);
    harness_progress p = harness_progress_read(log);
    ck_assert_int_eq(p.in, 2);
    if (harness_mongo() == HARNESS_MONGO_JAVA) {
        /* mongo-java-server, like MongoDB, stores nested arrays, and it
         * rejects no document the runner can build (docs/test-servers.md):
         * here both are stored, the grid intact. */
        ck_assert_int_eq(p.stored, 2);
        ck_assert_msg(!strstr(out, "\"stage\":\"sink\""), "%s", out);
        free(out);
        ck_assert_int_eq(harness_committed_total(topic, topic), 2);
        rb_sink *sink = harness_case_sink(&c);
        stored s;
        ck_assert(fetch(sink, "p-nest", &s));
        const rb_json *grid =
            rb_json_get(rb_json_get(rb_json_get(s.root, "metadata"), "attributes"), "grid");
        ck_assert_msg(grid && grid->type == RB_JSON_ARRAY && grid->count == 2, "grid lost");
        for (size_t i = 0; i < 2; i++) {
            ck_assert(grid->items[i].type == RB_JSON_ARRAY && grid->items[i].count == 2);
            ck_assert_int_eq(harness_json_int(&grid->items[i].items[1]), (int64_t)(2 * i + 2));
        }
        rb_json_doc_destroy(s.doc);
        harness_case_close(&c);
        return;
    }
    ck_assert_int_eq(p.stored, 1);
    ck_assert_int_eq(p.dead_lettered, 1);
    ck_assert_msg(strstr(out, "\"stage\":\"sink\""), "%s", out);
    free(out);
    ck_assert_int_eq(harness_committed_total(topic, topic), 2);
    char dlq_log[600];
    snprintf(dlq_log, sizeof dlq_log, "%s.stats.log", log);
    const char *stats_args[] = {"dlq", "stats", dlq, NULL};
    ck_assert_int_eq(harness_run(dlq_log, stats_args, 60), 0);
    out = harness_slurp(dlq_log);
    ck_assert_msg(strstr(out, "1  sink          ragbatch.SinkWriteError"), "%s", out);
    free(out);
    harness_case_close(&c);
}
END_TEST

/* Where `needle` is in `text`, in whichever format the log is written.  A
 * needle KEY=VALUE (no space) also matches KEY="VALUE (logfmt quotes a
 * value with [ or "), and the JSON forms "KEY":"VALUE and "KEY":VALUE,
 * with "event" being "event.action" there; any other needle matches as it
 * is.  Returns NULL when absent. */
static const char *log_find(const char *text, const char *needle) {
    const char *at = strstr(text, needle);
    const char *eq = strchr(needle, '=');
    if (at || !eq || eq == needle || strchr(needle, ' ')) return at;
    int klen = (int)(eq - needle);
    const char *key = needle, *value = eq + 1;
    const char *jkey = klen == 5 && strncmp(key, "event", 5) == 0 ? "event.action" : NULL;
    char forms[3][256];
    snprintf(forms[0], sizeof forms[0], "%.*s=\"%s", klen, key, value);
    if (jkey) {
        snprintf(forms[1], sizeof forms[1], "\"%s\":\"%s", jkey, value);
        snprintf(forms[2], sizeof forms[2], "\"%s\":%s", jkey, value);
    } else {
        snprintf(forms[1], sizeof forms[1], "\"%.*s\":\"%s", klen, key, value);
        snprintf(forms[2], sizeof forms[2], "\"%.*s\":%s", klen, key, value);
    }
    for (size_t i = 0; i < 3 && !at; i++) at = strstr(text, forms[i]);
    return at;
}

static bool log_has(const char *path, const char *needle) {
    if (access(path, R_OK) != 0) return false; /* the child has not opened it yet */
    char *text = harness_slurp(path);
    bool found = log_find(text, needle) != NULL;
    free(text);
    return found;
}

/* Whether a log has `then` after (the line of) `first`. */
static bool log_has_after(const char *path, const char *first, const char *then) {
    if (access(path, R_OK) != 0) return false;
    char *text = harness_slurp(path);
    const char *at = log_find(text, first);
    bool found = at && log_find(at, then) != NULL;
    free(text);
    return found;
}

/* Records u-<from>..: spread round-robin over `partitions` partitions (0
 * lets the partitioner choose). */
static void produce_unique_over(const char *topic, int from, int count, int partitions) {
    harness_msg *m = calloc((size_t)count, sizeof *m);
    char(*keys)[32] = calloc((size_t)count, sizeof *keys);
    char(*vals)[256] = calloc((size_t)count, sizeof *vals);
    ck_assert(m && keys && vals);
    for (int i = 0; i < count; i++) {
        snprintf(keys[i], sizeof keys[i], "u-%d", from + i);
        snprintf(vals[i], sizeof vals[i],
                 "{\"product_id\":\"u-%d\",\"event_type\":\"created\",\"event_time\":"
                 "\"2026-11-24T10:00:00.000Z\",\"version\":1,\"name\":\"Item %d\",\"price\":1}",
                 from + i, from + i);
        m[i] = (harness_msg){keys[i], vals[i], 0, partitions > 0 ? i % partitions : -1};
    }
    harness_produce(topic, m, (size_t)count);
    free(m);
    free(keys);
    free(vals);
}

static void produce_unique(const char *topic, int from, int count) {
    produce_unique_over(topic, from, count, 0);
}

/* The outage is arranged, not raced: everything produced before it is
 * committed first, and the events produced while MongoDB is away can only
 * be written once it is back. */
START_TEST(mongo_outage_holds_commits_until_it_returns) {
    harness_case c;
    harness_case_open(&c, "outage", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s.manifest", log);
    const int64_t n = 200, late = 20;
    harness_produce_generated(topic, (size_t)n, 150, 21, 0.0, 0.0, manifest);
    const char *job = harness_write_job(topic, topic, db, "batch.max.records = 10\n");
    const char *args[] = {"run", job, "--set", "mongo.timeout.ms=1500", NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(topic, topic) < n) {
        ck_assert_msg(rb_now_ms() < until, "%lld events not committed in 120 s", (long long)n);
        rb_sleep_ms(50);
    }
    harness_mongo_down();
    produce_unique(topic, 0, (int)late);
    until = rb_now_ms() + 60000;
    while (!log_has(log, "event=sink_retry")) {
        ck_assert_msg(rb_now_ms() < until, "the runner never retried a write");
        rb_sleep_ms(100);
    }
    int64_t held = harness_committed_total(topic, topic);
    rb_sleep_ms(3000);
    ck_assert_int_eq(harness_committed_total(topic, topic), held); /* nothing while down */
    ck_assert_int_eq(held, n);
    harness_mongo_up();
    until = rb_now_ms() + 180000;
    while (harness_committed_total(topic, topic) < n + late) {
        ck_assert_msg(rb_now_ms() < until, "the runner did not finish after MongoDB returned");
        rb_sleep_ms(200);
    }
    kill(pid, SIGTERM);
    ck_assert_int_eq(harness_wait(pid, 60), 0);
    rb_sink *sink = harness_case_sink(&c);
    ck_assert_int_eq(count_docs(sink, false), manifest_live(manifest) + late);
    harness_case_close(&c);
}
END_TEST

START_TEST(metrics_endpoint_counts_what_was_processed_and_readiness_follows_mongo) {
    harness_case c;
    harness_case_open(&c, "metrics", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    harness_produce_generated(topic, 30, 30, 3, 0.0, 0.0, NULL);
    int port = harness_free_port();
    char extra[256];
    snprintf(extra, sizeof extra, "metrics.port = %d\nmetrics.address = 127.0.0.1\n", port);
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *args[] = {"run", job, NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(topic, topic) < 30) {
        ck_assert_msg(rb_now_ms() < until, "nothing committed in 120 s");
        rb_sleep_ms(100);
    }
    char *body = NULL;
    ck_assert_int_eq(expo_http_get(port, "/healthz", &body), 200);
    free(body);
    ck_assert_int_eq(expo_http_get(port, "/readyz", &body), 200);
    free(body);
    /* The metrics are set after the commit the offsets show, the lag last
     * (it asks the broker), and a loaded machine can preempt the runner in
     * between: the scrape is repeated until the lag is 0, then until the
     * last batch is counted, then checked. */
    expo *e = calloc(1, sizeof *e);
    double v;
    until = rb_now_ms() + 30000;
    for (;;) {
        ck_assert_int_eq(expo_http_get(port, "/metrics", &body), 200);
        memset(e, 0, sizeof *e);
        expo_parse(body, e);
        if (expo_find(e, "ragbatch_consumer_lag", "partition", "0", NULL, NULL, &v) && v == 0)
            break;
        ck_assert_msg(rb_now_ms() < until, "no lag of 0 for partition 0 in 30 s:\n%s", body);
        free(body);
        rb_sleep_ms(100);
    }
    free(body);
    double total = 0;
    static const char *const outcomes[] = {"stored",  "deleted",       "stale",
                                           "skipped", "dead_lettered", "failed"};
    until = rb_now_ms() + 30000;
    for (;;) {
        ck_assert_int_eq(expo_http_get(port, "/metrics", &body), 200);
        memset(e, 0, sizeof *e);
        expo_parse(body, e);
        total = 0;
        for (size_t i = 0; i < 6; i++)
            if (expo_find(e, "ragbatch_records_total", "job", topic, "outcome", outcomes[i], &v))
                total += v;
        if (total >= 30.0) break;
        ck_assert_msg(rb_now_ms() < until, "the metrics counted %g of 30 committed records",
                      total);
        free(body);
        rb_sleep_ms(100);
    }
    ck_assert_double_eq(total, 30.0); /* every record, once */
    ck_assert(expo_find(e, "ragbatch_records_total", "outcome", "stored", NULL, NULL, &v));
    rb_sink *sink = harness_case_sink(&c);
    ck_assert_double_eq(v, (double)count_docs(sink, false));
    ck_assert(expo_find(e, "ragbatch_consumer_lag", "partition", "0", NULL, NULL, &v));
    ck_assert_double_eq(v, 0.0);
    ck_assert(expo_find(e, "ragbatch_embedded_texts_total", "job", topic, NULL, NULL, &v));
    ck_assert_double_ge(v, 1.0);
    free(e);
    free(body);

    /* MongoDB away: readiness turns false (the idle runner pings it). */
    harness_mongo_down();
    until = rb_now_ms() + 60000;
    int status;
    while ((status = expo_http_get(port, "/readyz", &body)) == 200) {
        free(body);
        ck_assert_msg(rb_now_ms() < until, "/readyz stayed 200 with MongoDB stopped");
        rb_sleep_ms(500);
    }
    ck_assert_int_eq(status, 503);
    ck_assert_msg(strstr(body, "mongodb") != NULL, "%s", body);
    free(body);
    harness_mongo_up();
    until = rb_now_ms() + 60000;
    while ((status = expo_http_get(port, "/readyz", &body)) != 200) {
        free(body);
        ck_assert_msg(rb_now_ms() < until, "/readyz did not recover with MongoDB back");
        rb_sleep_ms(500);
    }
    free(body);
    kill(pid, SIGTERM);
    ck_assert_int_eq(harness_wait(pid, 60), 0);
    /* The test's own connection died with the server: open a new one. */
    rb_sink_destroy(sink);
    c.sink = NULL;
    harness_case_close(&c);
}
END_TEST

/* Whether a log has an assignment of at least one partition of `topic`
 * (a cooperative member's first assignment may be empty). */
static bool log_has_assignment(const char *path, const char *topic) {
    char needle[200];
    snprintf(needle, sizeof needle, "assigned=%s[", topic);
    return log_has(path, needle);
}

START_TEST(two_runners_share_partitions_and_survive_losing_one) {
    char topic[128], db[128], manifest[512], log1[512], log2[512];
    harness_unique("rb-scale", topic, sizeof topic);
    harness_unique("rbscale", db, sizeof db);
    snprintf(manifest, sizeof manifest, "%s/tests/%s.manifest", RB_BUILD_DIR, topic);
    snprintf(log1, sizeof log1, "%s/tests/%s.1.log", RB_BUILD_DIR, topic);
    snprintf(log2, sizeof log2, "%s/tests/%s.2.log", RB_BUILD_DIR, topic);
    harness_create_topic(topic, 4);
    const int64_t n = 400;
    const char *job = harness_write_job(topic, topic, db, "batch.max.records = 20\n");
    /* One thread each: two runners share this machine's two cores. */
    const char *args[] = {"run", job, "--set", "embed.threads=1", NULL};
    pid_t a = harness_spawn(log1, args);
    pid_t b = harness_spawn(log2, args);
    /* Arranged, not raced: the records come once both members own
     * partitions.  The second member's assignment comes from the round
     * that took those partitions from the first, so from then on the
     * group is stable with two members and each has records to process.
     * (Produced before, they could all be done by whichever member joined
     * first, and the other would never log a batch.) */
    int64_t until = rb_now_ms() + 120000;
    while (!(log_has_assignment(log1, topic) && log_has_assignment(log2, topic))) {
        ck_assert_msg(rb_now_ms() < until, "both runners never got partitions");
        ck_assert_int_eq(waitpid(a, NULL, WNOHANG), 0);
        ck_assert_int_eq(waitpid(b, NULL, WNOHANG), 0);
        rb_sleep_ms(100);
    }
    /* Keys hash over all four partitions: both members get records. */
    harness_produce_generated(topic, (size_t)n, 300, 17, 0.0, 0.0, manifest);
    until = rb_now_ms() + 120000;
    while (!(log_has(log1, "event=progress") && log_has(log2, "event=progress"))) {
        ck_assert_msg(rb_now_ms() < until, "both runners never processed a batch");
        rb_sleep_ms(100);
    }
    /* The member dies owning partitions, and the records produced after
     * its death to every partition can only be stored once the survivor
     * has taken the dead member's partitions (when its session ends).
     * Whether the first n were all committed by the kill is left to
     * chance: either way nothing may be lost. */
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    const int late = 40;
    produce_unique_over(topic, 0, late, 4);
    until = rb_now_ms() + 180000;
    while (harness_committed_total(topic, topic) < n + late) {
        ck_assert_msg(rb_now_ms() < until, "the survivor did not finish the topic");
        rb_sleep_ms(200);
    }
    kill(b, SIGTERM);
    ck_assert_int_eq(harness_wait(b, 60), 0);
    rb_sink *sink = harness_sink(db);
    ck_assert_int_eq(count_docs(sink, false), manifest_live(manifest) + late);
    rb_error err;
    ck_assert_int_eq(rb_sink_drop_database(sink, &err), 0);
    rb_sink_destroy(sink);
}
END_TEST

/* ---- production hardening: the DLQ, credentials ------------------------ */

/* Creates `topic` (one partition) with one topic-level config entry. */
static void create_topic_with(const char *topic, const char *name, const char *value) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"), errstr,
                      sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    ck_assert_ptr_nonnull(rk);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, 1, 1, errstr, sizeof errstr);
    ck_assert_int_eq(rd_kafka_NewTopic_set_config(nt, name, value), 0);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    ck_assert_msg(ev != NULL, "CreateTopics timed out");
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    ck_assert_msg(n == 1 && rd_kafka_topic_result_error(tr[0]) == 0, "create %s: %s", topic,
                  n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : "no result");
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
}

/* Partitions of `topic` per the broker's metadata, 0 if it does not exist. */
static int topic_partitions(const char *topic) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"), errstr,
                      sizeof errstr);
    rd_kafka_conf_set(conf, "allow.auto.create.topics", "false", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int n = 0;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) == 0 && md->topic_cnt == 1 &&
        md->topics[0].err == 0)
        n = md->topics[0].partition_cnt;
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return n;
}

/* A consumer of partition 0 of `topic` from its beginning. */
typedef struct topic_reader {
    rd_kafka_t *rk;
    rd_kafka_message_t *m[8];
    int got;
} topic_reader;

/* Reads `want` records (at most 8) within 30 s; returns how many came. */
static int read_topic(topic_reader *r, const char *topic, int want) {
    char errstr[512];
    memset(r, 0, sizeof *r);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"), errstr,
                      sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", topic, errstr, sizeof errstr);
    r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ck_assert_ptr_nonnull(r->rk);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(r->rk, parts), 0);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t until = rb_now_ms() + 30000;
    while (r->got < want && r->got < 8 && rb_now_ms() < until) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 500);
        if (!m) continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        r->m[r->got++] = m;
    }
    return r->got;
}

/* The messages first: librdkafka waits for them before the handle goes. */
static void topic_reader_close(topic_reader *r) {
    for (int i = 0; i < r->got; i++) rd_kafka_message_destroy(r->m[i]);
    rd_kafka_consumer_close(r->rk);
    rd_kafka_destroy(r->rk);
}

static char *text_of(const char *prefix, char fill, size_t n, const char *suffix) {
    size_t a = strlen(prefix), c = strlen(suffix);
    char *s = malloc(a + n + c + 1);
    memcpy(s, prefix, a);
    memset(s + a, fill, n);
    memcpy(s + a + n, suffix, c + 1);
    return s;
}

/* A valid event larger than max.message.bytes fails at deserialize, and
 * the DLQ topic (max.message.bytes = 8192) refuses it as it is: it goes as
 * a bounded copy that names the original, instead of being retried forever
 * (before, the run never finished). */
START_TEST(a_record_the_dlq_refuses_goes_as_a_bounded_copy) {
    harness_case c;
    harness_case_open(&c, "dlqbig", 1);
    const char *topic = c.topic, *log = c.log;
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    create_topic_with(dlq, "max.message.bytes", "8192");
    char *big = text_of("{\"product_id\":\"p-big\",\"event_type\":\"created\",\"event_time\":"
                        "\"2026-11-24T10:00:00Z\",\"version\":1,\"name\":\"Big\","
                        "\"description\":\"",
                        'w', 60000, "\"}");
    const harness_msg msgs[] = {
        {"p-1", EVT("p-1", "created", 1, "One"), 0, 0},
        {"p-big", big, 0, 0},
        {"p-root", "[1,2,3]", 0, 0},
        {"p-2", EVT("p-2", "created", 1, "Two"), 0, 0},
    };
    harness_produce(topic, msgs, 4);
    char extra[512];
    snprintf(extra, sizeof extra,
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n"
             "errors.deadletterqueue.context.headers.enable = true\nmax.message.bytes = 32768\n",
             dlq);
    harness_case_job(&c, extra);
    caught_up(&c, NULL);
    harness_progress p = harness_progress_read(log);
    ck_assert_int_eq(p.in, 4);
    ck_assert_int_eq(p.dead_lettered, 2);
    ck_assert_int_eq(p.stored, 2);
    char *out = harness_slurp(log);
    ck_assert_msg(strstr(out, "\"event.action\":\"dlq_truncated\"") &&
                      strstr(out, "\"offset\":1,\"value_bytes\":60"),
                  "%s", out);
    free(out);
    ck_assert_int_eq(harness_committed_total(topic, topic), 4);

    topic_reader rd;
    ck_assert_int_eq(read_topic(&rd, dlq, 2), 2);
    /* The bounded copy is sent after the others: find each by its offset. */
    rd_kafka_message_t *m[2];
    bool first_is_copy = strcmp(header(rd.m[0], "__connect.errors.offset"), "1") == 0;
    m[0] = rd.m[first_is_copy ? 0 : 1];
    m[1] = rd.m[first_is_copy ? 1 : 0];
    /* The bounded copy: a prefix of the value, and what the original was. */
    ck_assert_str_eq(header(m[0], "__connect.errors.offset"), "1");
    ck_assert_str_eq(header(m[0], "ragbatch.error.value.truncated"), "true");
    char num[32], sha[65];
    snprintf(num, sizeof num, "%zu", strlen(big));
    ck_assert_str_eq(header(m[0], "ragbatch.error.value.size"), num);
    ck_assert_int_eq(rb_dlq_sha256_hex(big, strlen(big), sha), 0);
    ck_assert_str_eq(header(m[0], "ragbatch.error.value.sha256"), sha);
    ck_assert_str_eq(header(m[0], "ragbatch.error.dlq.reason"), "Broker: Message size too large");
    ck_assert_uint_gt(m[0]->len, 4000);
    ck_assert_uint_lt(m[0]->len, 8192);
    ck_assert_int_eq(memcmp(m[0]->payload, big, m[0]->len), 0);
    ck_assert_uint_eq(m[0]->key_len, 5);
    /* A failure at the document root has the empty pointer as its path. */
    ck_assert_str_eq(header(m[1], "__connect.errors.offset"), "2");
    ck_assert_str_eq(header(m[1], "ragbatch.error.stage"), "validate");
    ck_assert_ptr_nonnull(header(m[1], "ragbatch.error.path"));
    ck_assert_str_eq(header(m[1], "ragbatch.error.path"), "");
    ck_assert_ptr_null(header(m[1], "ragbatch.error.value.truncated"));
    topic_reader_close(&rd);
    /* Replaying the copy would send a different record: refused, with
     * where the original is. */
    char replay_log[600];
    snprintf(replay_log, sizeof replay_log, "%s.replay.log", log);
    const char *replay_args[] = {"dlq", "replay", dlq, "--dry-run", NULL};
    ck_assert_int_eq(harness_run(replay_log, replay_args, 60), 1);
    out = harness_slurp(replay_log);
    char want[300];
    snprintf(want, sizeof want,
             "is a bounded copy (the original value is %zu bytes): give its value in "
             "--value-file, or re-process the original at %s [0] offset 1",
             strlen(big), topic);
    ck_assert_msg(strstr(out, want), "%s", out);
    free(out);
    free(big);
    harness_case_close(&c);
}
END_TEST

/* When not even a bounded copy fits (the key alone is larger than the DLQ
 * takes), the job stops with exit 1, names the record and the broker's
 * reason, and commits nothing of the batch. */
START_TEST(a_record_not_even_a_bounded_copy_of_which_fits_stops_the_job) {
    harness_case c;
    harness_case_open(&c, "dlqkey", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    create_topic_with(dlq, "max.message.bytes", "4096");
    char *key = text_of("", 'k', 8000, "");
    const harness_msg msgs[] = {
        {"p-1", EVT("p-1", "created", 1, "One"), 0, 0},
        {key, "not json", 0, 0},
    };
    harness_produce(topic, msgs, 2);
    char extra[512];
    snprintf(extra, sizeof extra,
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n", dlq);
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    int status = harness_run(log, args, 120);
    char *out = harness_slurp(log);
    ck_assert_msg(status == 1, "exit %d:\n%s", status, out);
    char where[256];
    snprintf(where, sizeof where, "cannot dead-letter %s [0] offset 1 to topic '%s'", topic, dlq);
    ck_assert_msg(strstr(out, where) && strstr(out, "Message size too large") &&
                      strstr(out, "nothing of this batch is committed"),
                  "%s", out);
    free(out);
    free(key);
    ck_assert_int_eq(harness_committed_total(topic, topic), 0);
    harness_case_close(&c);
}
END_TEST

/* A DLQ topic that does not exist is created as Kafka Connect creates it:
 * one partition, the replication factor capped at the broker count.
 * Before, the run aborted (exit 134). */
START_TEST(a_missing_dlq_topic_is_created_like_kafka_connect) {
    harness_case c;
    harness_case_open(&c, "dlqnew", 1);
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", c.topic);
    ck_assert_int_eq(topic_partitions(dlq), 0);
    const harness_msg msgs[] = {
        {"p-1", EVT("p-1", "created", 1, "One"), 0, 0},
        {"p-x", "not json", 0, 0},
    };
    harness_produce(c.topic, msgs, 2);
    char extra[512];
    snprintf(extra, sizeof extra,
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n", dlq);
    harness_case_job(&c, extra);
    caught_up(&c, NULL);
    char *out = harness_slurp(c.log);
    ck_assert_msg(strstr(out, "\"replication_factor\":3,\"brokers\":1,\"message\":"
                              "\"errors.deadletterqueue.topic.replication.factor is more than "
                              "the brokers") &&
                      strstr(out, "\"partitions\":1,\"replication_factor\":1,\"message\":"
                                  "\"created\""),
                  "%s", out);
    free(out);
    harness_progress p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 2);
    ck_assert_int_eq(p.dead_lettered, 1);
    ck_assert_int_eq(topic_partitions(dlq), 1);
    topic_reader rd;
    ck_assert_int_eq(read_topic(&rd, dlq, 1), 1);
    ck_assert_uint_eq(rd.m[0]->len, strlen("not json"));
    topic_reader_close(&rd);
    harness_case_close(&c);
}
END_TEST

/* A DLQ topic the broker will not create is a configuration error: exit 2
 * with the broker's reason, never a crash.  Before, the consumer was
 * already joining its group when the DLQ check failed, and destroying it
 * then died by a signal now and then (exit 134 in librdkafka's sticky
 * assignor in the issue; a SIGSEGV in 1 run of 6 here), so the refusal is
 * tried several times.  Kafka refuses a name that collides with an
 * existing one ('.' and '_' are the same in metric names); a name it
 * cannot take at all is refused before any creation is tried. */
START_TEST(a_dlq_topic_the_broker_will_not_create_is_a_config_error) {
    char topic[128], taken[160], dlq[160], db[128], log[512];
    harness_unique("rb-dlqbad", topic, sizeof topic);
    snprintf(taken, sizeof taken, "%s.dlq", topic);
    snprintf(dlq, sizeof dlq, "%s_dlq", topic);
    harness_unique("rbdlqbad", db, sizeof db);
    snprintf(log, sizeof log, "%s/tests/%s.log", RB_BUILD_DIR, topic);
    harness_create_topic(topic, 1);
    harness_create_topic(taken, 1);
    char extra[512];
    snprintf(extra, sizeof extra,
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n", dlq);
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    char want[300];
    snprintf(want, sizeof want, "topic '%s' does not exist and the broker refused to create it",
             dlq);
    for (int run = 0; run < 6; run++) {
        int status = harness_run(log, args, 120);
        char *out = harness_slurp(log);
        ck_assert_msg(status == 2 && strstr(out, want) && strstr(out, "collides"),
                      "run %d: exit %d:\n%s", run, status, out);
        free(out);
    }
    ck_assert_int_eq(topic_partitions(dlq), 0);
    int status;
    char *out;
    const char *bad_args[] = {"run",     job,
                              "--until", "caught-up",
                              "--set",   "errors.deadletterqueue.topic.name=no spaces/allowed",
                              NULL};
    status = harness_run(log, bad_args, 120);
    out = harness_slurp(log);
    ck_assert_msg(status == 2 && strstr(out, "'no spaces/allowed' is not a valid topic name"),
                  "exit %d:\n%s", status, out);
    free(out);
}
END_TEST

/* Credentials in any part of mongo.uri, and a registry URL with a user and
 * password, never reach a log line, an exit message or `ragbatch check`. */
START_TEST(credentials_in_uris_never_reach_the_output) {
    char topic[128], db[128], log[512], uri[512], extra[1024];
    harness_unique("rb-secret", topic, sizeof topic);
    harness_unique("rbsecret", db, sizeof db);
    snprintf(log, sizeof log, "%s/tests/%s.log", RB_BUILD_DIR, topic);
    harness_create_topic(topic, 1);
    /* A port nothing listens on: the sink's first ping fails and the error
     * names the server. */
    snprintf(uri, sizeof uri,
             "mongodb://app:SECRET-userinfo@127.0.0.1:%d/?password=SECRET-option"
             "&authMechanismProperties=SERVICE_NAME:mongodb,AWS_SESSION_TOKEN:SECRET-token"
             "&tlsCertificateKeyFilePassword=SECRET-tlskey&serverSelectionTimeoutMS=500",
             harness_free_port());
    char set_uri[600];
    snprintf(set_uri, sizeof set_uri, "mongo.uri=%s", uri);
    snprintf(extra, sizeof extra,
             "schema.registry.url = http://reg:SECRET-registry@127.0.0.1:1/\n");
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *check_args[] = {"check", job, "--set", set_uri, NULL};
    ck_assert_int_eq(harness_run(log, check_args, 60), 0);
    char *out = harness_slurp(log);
    ck_assert_msg(!strstr(out, "SECRET"), "ragbatch check printed a secret:\n%s", out);
    ck_assert_msg(strstr(out, "schema.registry.url = http://reg:***@127.0.0.1:1/"), "%s", out);
    free(out);
    const char *args[] = {"run",   job,     "--until", "caught-up",
                          "--set", set_uri, "--set",   "mongo.timeout.ms=500",
                          NULL};
    int status = harness_run(log, args, 120);
    out = harness_slurp(log);
    ck_assert_msg(status == 1, "exit %d:\n%s", status, out);
    ck_assert_msg(!strstr(out, "SECRET"), "a secret reached the log:\n%s", out);
    ck_assert_msg(strstr(out, "app:***@127.0.0.1") && strstr(out, "AWS_SESSION_TOKEN:***"), "%s",
                  out);
    free(out);
}
END_TEST

/* ---- bounded runs: --until caught-up and backfill ------------------------ */

/* Spark's availableNow reads the whole range at once: a bounded run takes
 * batches of batch.bounded.max.records, and its last batch closes as soon
 * as every partition is at its end offset, not when the (long) trigger
 * interval of the streaming schedule comes round. */
START_TEST(bounded_run_uses_large_batches_and_does_not_wait_out_the_trigger) {
    harness_case c;
    harness_case_open(&c, "avnow", 2);
    const char *topic = c.topic, *log = c.log;
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s.manifest", log);
    const int64_t n = 130;
    harness_produce_generated(topic, (size_t)n, (size_t)n, 31, 0.0, 0.0, manifest);
    harness_case_job(&c, "batch.max.records = 20\nbatch.bounded.max.records = 1000\n");
    /* An interval longer than harness_case_run lets the run take (300 s):
     * a run that waited it out fails, however slow the machine, and a
     * loaded machine's slow start-up and embedding do not (a 60 s interval
     * and a 30 s limit did not say which was which on an ASan build). */
    const int64_t interval_ms = 600000;
    char interval[64];
    snprintf(interval, sizeof interval, "trigger.interval.ms=%lld", (long long)interval_ms);
    const char *args[] = {"--set", interval, NULL};
    int64_t t0 = rb_now_ms();
    int status = harness_case_run(&c, args);
    int64_t took = rb_now_ms() - t0;
    char *out = harness_slurp(log);
    ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
    ck_assert_msg(took < interval_ms, "a bounded run of %lld records took %lld ms:\n%s",
                  (long long)n, (long long)took, out);
    free(out);
    harness_progress p = harness_progress_read(log);
    ck_assert_int_eq(p.batches, 1);
    ck_assert_int_eq(p.in, n);
    ck_assert_int_eq(harness_committed_total(topic, topic), n);
    rb_sink *sink = harness_case_sink(&c);
    ck_assert_int_eq(count_docs(sink, false), manifest_live(manifest));
    harness_case_close(&c);
}
END_TEST

/* A member of `group` that takes every partition of `topic` and then never
 * polls again: as a pod that hangs, or a member the group has not timed out
 * yet.  It gives its partitions up only when max_poll_ms passes. */
static rd_kafka_t *stuck_member(const char *group, const char *topic, int partitions,
                                int max_poll_ms) {
    char errstr[512], poll_ms[32];
    snprintf(poll_ms, sizeof poll_ms, "%d", max_poll_ms);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *kv[][2] = {
        {"bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP")},
        {"group.id", group},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {"session.timeout.ms", "6000"},
        {"max.poll.interval.ms", poll_ms},
        {"enable.auto.commit", "false"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        ck_assert_msg(rd_kafka_conf_set(conf, kv[i][0], kv[i][1], errstr, sizeof errstr) ==
                          RD_KAFKA_CONF_OK,
                      "%s", errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "%s", errstr);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
    ck_assert_int_eq(rd_kafka_subscribe(rk, subs), 0);
    rd_kafka_topic_partition_list_destroy(subs);
    int64_t until = rb_now_ms() + 60000;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m) rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *owned = NULL;
        ck_assert_int_eq(rd_kafka_assignment(rk, &owned), 0);
        int cnt = owned->cnt;
        rd_kafka_topic_partition_list_destroy(owned);
        if (cnt == partitions) break;
        ck_assert_msg(rb_now_ms() < until, "the stuck member never got the partitions");
    }
    return rk;
}

/* The member that owned everything hangs.  The bounded run joins; the
 * first cooperative round gives it nothing, and the owner never answers
 * the second.  It must not report success with the snapshot uncommitted:
 * it waits until the group moves the partitions (the hung member's poll
 * interval expires), processes them and exits 0 with all committed. */
START_TEST(bounded_run_waits_for_the_partitions_a_hung_member_holds) {
    harness_case c;
    harness_case_open(&c, "hung", 2);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    char manifest[600];
    snprintf(manifest, sizeof manifest, "%s.manifest", log);
    const int64_t n = 60;
    harness_produce_generated(topic, (size_t)n, (size_t)n, 37, 0.0, 0.0, manifest);
    const char *job = harness_write_job(topic, topic, db, NULL);
    rd_kafka_t *hung = stuck_member(topic, topic, 2, 25000);
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    int status = harness_run(log, args, 180);
    char *out = harness_slurp(log);
    ck_assert_msg(status == 0, "exit %d:\n%s", status, out);
    ck_assert_msg(harness_committed_total(topic, topic) == n,
                  "exited 0 with %lld of %lld records committed:\n%s",
                  (long long)harness_committed_total(topic, topic), (long long)n, out);
    free(out);
    rb_sink *sink = harness_case_sink(&c);
    ck_assert_int_eq(count_docs(sink, false), manifest_live(manifest));
    rd_kafka_destroy(hung);
    harness_case_close(&c);
}
END_TEST

/* The group's committed offset (-1: none) and the end offset of each of
 * the first `n` partitions of `topic`. */
static void partition_offsets(const char *group, const char *topic, int n, int64_t *committed,
                              int64_t *ends) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"), errstr,
                      sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "%s", errstr);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++) rd_kafka_topic_partition_list_add(l, topic, p);
    ck_assert_int_eq(rd_kafka_committed(rk, l, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    for (int p = 0; p < n; p++) {
        committed[p] = l->elems[p].offset >= 0 ? l->elems[p].offset : -1;
        int64_t low;
        ck_assert_int_eq(rd_kafka_query_watermark_offsets(rk, topic, p, &low, &ends[p], 10000),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
}

/* The wait is bounded: when the group's committed offsets do not move for
 * caught.up.timeout.ms, the run exits 1 naming the partitions behind. */
START_TEST(bounded_run_gives_up_naming_the_partitions_behind) {
    harness_case c;
    harness_case_open(&c, "behind", 2);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    harness_produce_generated(topic, 20, 20, 41, 0.0, 0.0, NULL);
    const char *job = harness_write_job(topic, topic, db, "caught.up.timeout.ms = 4000\n");
    rd_kafka_t *hung = stuck_member(topic, topic, 2, 90000);
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    int64_t t0 = rb_now_ms();
    int status = harness_run(log, args, 120);
    int64_t took = rb_now_ms() - t0;
    char *out = harness_slurp(log);
    ck_assert_msg(status == 1, "exit %d:\n%s", status, out);
    ck_assert_msg(took < 60000, "took %lld ms", (long long)took);
    const char *at = strstr(out, "event=stop");
    ck_assert_msg(at != NULL, "%s", out);
    char stop[2048];
    snprintf(stop, sizeof stop, "%.*s", (int)strcspn(at, "\n"), at);
    ck_assert_msg(strstr(stop, "caught.up.timeout.ms"), "%s", out);
    /* The stop line names exactly the partitions whose committed offset is
     * short of the end (the hung member may have let one go). */
    int64_t committed[2], ends[2];
    partition_offsets(topic, topic, 2, committed, ends);
    int named = 0;
    for (int p = 0; p < 2; p++) {
        char name[160];
        snprintf(name, sizeof name, "%s[%d]", topic, p);
        bool behind = committed[p] < ends[p];
        ck_assert_msg((strstr(stop, name) != NULL) == behind,
                      "%s committed %lld of %lld, stop line: %s", name, (long long)committed[p],
                      (long long)ends[p], stop);
        named += behind;
    }
    ck_assert_int_ge(named, 1);
    free(out);
    rd_kafka_destroy(hung);
}
END_TEST

static TCase *tcase_bounded(void) {
    TCase *tc = tcase_create("bounded");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, bounded_run_uses_large_batches_and_does_not_wait_out_the_trigger);
    tcase_add_test(tc, bounded_run_waits_for_the_partitions_a_hung_member_holds);
    tcase_add_test(tc, bounded_run_gives_up_naming_the_partitions_behind);
    return tc;
}

/* The pid of this worktree's Kafka broker (scripts/kafka.sh). */
static pid_t kafka_pid(void) {
    char *text = harness_slurp(RB_SOURCE_DIR "/run/kafka/kafka.pid");
    pid_t pid = (pid_t)strtol(text, NULL, 10);
    free(text);
    ck_assert_int_gt(pid, 0);
    return pid;
}

/* ---- the consumer stays in its group while a batch waits ---------------- */

/* The last `n` characters of `text`, for failure messages (Check caps
 * their length). */
static const char *tail(const char *text, size_t n) {
    size_t len = strlen(text);
    return len > n ? text + len - n : text;
}

/* How many times `needle` occurs in `text` before `end` (NULL: anywhere). */
static int count_in(const char *text, const char *needle, const char *end) {
    int n = 0;
    for (const char *p = strstr(text, needle); p && (!end || p < end); p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Sum of "in=" over the progress lines of a log. */
static long progress_in_total(const char *text) {
    long total = 0;
    for (const char *p = strstr(text, "event=progress"); p; p = strstr(p + 1, "event=progress")) {
        const char *in = strstr(p, " in=");
        ck_assert_ptr_nonnull(in);
        total += strtol(in + 4, NULL, 10);
    }
    return total;
}

/* Produces `count` creations of distinct products "u-<from>" ... */
/* MongoDB stops for 2.5 times max.poll.interval.ms while a batch is being
 * written.  The runner pauses its partitions and keeps polling through the
 * retries, so the member is not evicted: no rebalance, the batch is
 * committed once MongoDB is back, every record is taken exactly once. */
START_TEST(a_slow_mongodb_does_not_evict_the_consumer) {
    harness_case c;
    harness_case_open(&c, "maxpoll", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    const int64_t n = 120;
    produce_unique(topic, 0, 10);
    /* The broker's smallest session timeout, and a poll interval as short. */
    const char *job = harness_write_job(topic, topic, db,
                                        "batch.max.records = 10\n"
                                        "kafka.max.poll.interval.ms = 6000\n");
    const char *args[] = {"run", job, "--set", "mongo.timeout.ms=1500", NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(topic, topic) < 10) {
        ck_assert_msg(rb_now_ms() < until, "nothing committed in 120 s");
        rb_sleep_ms(50);
    }
    harness_mongo_down();
    /* The rest arrives during the outage: while the first of its batches is
     * retried, librdkafka has fetched the others. */
    produce_unique(topic, 10, (int)n - 10);
    until = rb_now_ms() + 60000;
    while (!log_has(log, "event=sink_retry")) {
        ck_assert_msg(rb_now_ms() < until, "the runner never retried a write");
        rb_sleep_ms(100);
    }
    int64_t held = harness_committed_total(topic, topic);
    ck_assert_int_eq(held, 10);
    rb_sleep_ms(15000);
    ck_assert_int_eq(harness_committed_total(topic, topic), held);
    harness_mongo_up();
    until = rb_now_ms() + 180000;
    while (harness_committed_total(topic, topic) < n) {
        ck_assert_msg(rb_now_ms() < until, "the runner did not finish after MongoDB returned");
        rb_sleep_ms(200);
    }
    kill(pid, SIGTERM);
    ck_assert_int_eq(harness_wait(pid, 60), 0);
    char *out = harness_slurp(log);
    const char *stop = strstr(out, "event=stop");
    ck_assert_msg(stop != NULL, "%s", tail(out, 3000));
    ck_assert_msg(!strstr(out, "MAXPOLL") && !strstr(out, "not committed"), "%s", tail(out, 3000));
    ck_assert_msg(count_in(out, "event=rebalance", stop) == 1,
                  "the member went through a rebalance:\n%s", tail(out, 3000));
    ck_assert_msg(progress_in_total(out) == n, "%ld records taken for %lld:\n%s",
                  progress_in_total(out), (long long)n, tail(out, 3000));
    free(out);
    rb_sink *sink = harness_case_sink(&c);
    ck_assert_int_eq(count_docs(sink, true), n); /* every product once */
    harness_case_close(&c);
}
END_TEST

/* A test that stops a server and then fails would leave it stopped for
 * the cases after it: these cases start from, and leave, servers up. */
static void servers_up(void) {
    harness_mongo_up();
    kill(kafka_pid(), SIGCONT);
}

static TCase *tcase_liveness(void) {
    TCase *tc = tcase_create("liveness");
    tcase_add_checked_fixture(tc, servers_up, NULL);
    tcase_add_unchecked_fixture(tc, servers_up, servers_up);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, a_slow_mongodb_does_not_evict_the_consumer);
    return tc;
}

/* ---- SIGTERM ends the process within shutdown.timeout.ms, in every state - */

/* The shutdown bound the tests give, and how long after SIGTERM they accept
 * the exit (the bound plus process exit and scheduling on a busy machine). */
#define SHUTDOWN_MS 3000
#define SHUTDOWN_ACCEPT_MS 6000

/* Waits for `marker` in the log of `pid`, then `delay_ms`, then sends
 * SIGTERM; returns the exit status and stores the ms from signal to exit. */
static int term_at(pid_t pid, const char *log, const char *marker, int delay_ms,
                   int64_t *took_ms) {
    int64_t until = rb_now_ms() + 180000;
    while (!log_has(log, marker)) {
        ck_assert_msg(rb_now_ms() < until, "never saw '%s' in %s", marker, log);
        ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "ragbatch exited before '%s'", marker);
        rb_sleep_ms(20);
    }
    rb_sleep_ms(delay_ms);
    int64_t t0 = rb_now_ms();
    kill(pid, SIGTERM);
    int status = harness_wait(pid, 180);
    *took_ms = rb_now_ms() - t0;
    return status;
}

/* Exit 0 within the bound, and a stop line that says the batch was given
 * up uncommitted. */
/* Whether the run's closing event=stop line says a batch was given up. */
static bool gave_up(const char *out) {
    const char *stop = strstr(out, "event=stop ");
    if (!stop) return false;
    const char *eol = strchr(stop, '\n');
    const char *what = strstr(stop, "abandoned without committing");
    return what && (!eol || what < eol);
}

static void assert_abandoned(const char *log, int status, int64_t took_ms) {
    char *out = harness_slurp(log);
    ck_assert_msg(status == 0, "exit %d:\n%s", status, tail(out, 3000));
    ck_assert_msg(took_ms < SHUTDOWN_ACCEPT_MS,
                  "SIGTERM took %lld ms (shutdown.timeout.ms=%d):\n%s", (long long)took_ms,
                  SHUTDOWN_MS, tail(out, 3000));
    /* The closing line, not the "stopping" line, which names the abandon
     * as a possibility. */
    ck_assert_msg(gave_up(out), "%s", tail(out, 3000));
    free(out);
}

/* Embedding a large batch: the embedder stops between sub-batches.  The
 * batch must still be embedding at the abandon time, 1 s + 2.4 s after
 * the embed step began: 2000 texts were embedded within that on a fast
 * machine, and the batch was committed.  16000 take minutes here and tens
 * of seconds on the fastest machine, and cost only their production: the
 * batch is given up after 3.4 s of embedding. */
START_TEST(sigterm_while_embedding_a_large_batch) {
    harness_case c;
    harness_case_open(&c, "term-embed", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    harness_produce_generated(topic, 16000, 16000, 47, 0.0, 0.0, NULL);
    char extra[160];
    snprintf(extra, sizeof extra,
             "shutdown.timeout.ms = %d\nlog.level = debug\nbatch.bounded.max.records = 16000\n",
             SHUTDOWN_MS);
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t took;
    int status = term_at(pid, log, "stage=embed", 1000, &took);
    assert_abandoned(log, status, took);
    ck_assert_int_eq(harness_committed_total(topic, topic), 0);
    rb_sink *sink = harness_case_sink(&c);
    ck_assert_int_eq(count_docs(sink, true), 0);
    harness_case_close(&c);
}
END_TEST

/* Retrying a write to a MongoDB that is away: the retries go on for the
 * shutdown budget, then the batch is given up and the process exits 0. */
START_TEST(sigterm_while_retrying_a_write) {
    harness_case c;
    harness_case_open(&c, "term-write", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    harness_produce_generated(topic, 10, 10, 53, 0.0, 0.0, NULL);
    char extra[128];
    snprintf(extra, sizeof extra, "shutdown.timeout.ms = %d\n", SHUTDOWN_MS);
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *args[] = {"run", job, "--set", "mongo.timeout.ms=1500", NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(topic, topic) < 10) {
        ck_assert_msg(rb_now_ms() < until, "nothing committed in 120 s");
        rb_sleep_ms(50);
    }
    harness_mongo_down();
    harness_produce_generated(topic, 20, 20, 59, 0.0, 0.0, NULL);
    int64_t took;
    int status = term_at(pid, log, "event=sink_retry", 0, &took);
    harness_mongo_up();
    assert_abandoned(log, status, took);
    ck_assert_int_eq(harness_committed_total(topic, topic), 10);
    harness_case_close(&c);
}
END_TEST

/* Waiting for the acknowledgements of dead letters.  The case used to stop
 * the broker once the log said stage=embed, assuming the batch would still
 * be embedding: a fast machine had dead-lettered (acked in ms) and
 * committed by then.  Arranged now (hold_in_dlq_step): the batch is in its
 * DLQ step with the broker stopped, so no ack can come and leaving the
 * group cannot finish either.  The watchdog ends the process. */
START_TEST(sigterm_while_waiting_for_dlq_acks) {
    harness_case c;
    harness_case_open(&c, "term-dlq", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", topic);
    harness_create_topic(dlq, 1);
    char extra[512];
    snprintf(extra, sizeof extra,
             "shutdown.timeout.ms = %d\nlog.level = debug\nerrors.tolerance = all\n"
             "errors.deadletterqueue.topic.name = %s\n",
             SHUTDOWN_MS, dlq);
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *args[] = {"run", job, "--set", "mongo.timeout.ms=1500", NULL};
    pid_t pid = harness_spawn(log, args);
    /* The records come while MongoDB is away, once the runner owns the
     * partition (records produced before could be done before the fault). */
    char assigned[200];
    snprintf(assigned, sizeof assigned, "assigned=%s[", topic);
    await_log(pid, log, assigned);
    harness_mongo_down();
    produce_with_bad_record(topic, 30, 5);
    pid_t guard = hold_in_dlq_step(pid, log);
    int64_t took;
    int status = term_at(pid, log, "stage=dlq", 500, &took);
    broker_resume(guard);
    assert_abandoned(log, status, took);
    ck_assert_int_eq(harness_committed_total(topic, topic), 0);
    harness_case_close(&c);
}
END_TEST

/* Decoding: a 400 KB value of nested arrays.  Decoding cannot be
 * interrupted; it is bounded (linear in the input), and whatever it costs
 * the process is gone within the budget.  Either the batch finished before
 * the budget ran out (clean stop, committed) or it was abandoned
 * (nothing committed). */
START_TEST(sigterm_while_decoding) {
    harness_case c;
    harness_case_open(&c, "term-decode", 1);
    const char *topic = c.topic, *db = c.db, *log = c.log;
    const size_t depth = 200000;
    const char *head = "{\"product_id\":\"p-deep\",\"name\":\"Deep\",\"x\":";
    size_t len = strlen(head) + 2 * depth + 1;
    char *deep = malloc(len + 1);
    ck_assert_ptr_nonnull(deep);
    memcpy(deep, head, strlen(head));
    memset(deep + strlen(head), '[', depth);
    memset(deep + strlen(head) + depth, ']', depth);
    deep[len - 1] = '}';
    deep[len] = '\0';
    const harness_msg msgs[] = {
        {"p-1", EVT("p-1", "created", 1, "One"), 0, 0},
        {"p-deep", deep, len, 0},
    };
    harness_produce(topic, msgs, 2);
    free(deep);
    char extra[128];
    snprintf(extra, sizeof extra,
             "shutdown.timeout.ms = %d\nlog.level = debug\nerrors.tolerance = all\n", SHUTDOWN_MS);
    const char *job = harness_write_job(topic, topic, db, extra);
    const char *args[] = {"run", job, NULL};
    pid_t pid = harness_spawn(log, args);
    int64_t took;
    int status = term_at(pid, log, "stage=decode", 300, &took);
    char *out = harness_slurp(log);
    ck_assert_msg(status == 0 && took < SHUTDOWN_ACCEPT_MS, "exit %d after %lld ms:\n%s", status,
                  (long long)took, tail(out, 3000));
    int64_t committed = harness_committed_total(topic, topic);
    if (gave_up(out))
        ck_assert_int_eq(committed, 0);
    else
        ck_assert_msg(strstr(out, "clean stop") && committed == 2, "%s", tail(out, 3000));
    free(out);
    harness_case_close(&c);
}
END_TEST

static TCase *tcase_shutdown(void) {
    TCase *tc = tcase_create("shutdown");
    tcase_add_checked_fixture(tc, servers_up, NULL);
    tcase_add_unchecked_fixture(tc, servers_up, servers_up);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, sigterm_while_embedding_a_large_batch);
    tcase_add_test(tc, sigterm_while_retrying_a_write);
    tcase_add_test(tc, sigterm_while_waiting_for_dlq_acks);
    tcase_add_test(tc, sigterm_while_decoding);
    return tc;
}

Suite *rb_check_suite(void) {
    Suite *s = suite_create("pipeline");
    /* Every case starts with the servers up, even after a case that failed
     * while it had one stopped. */
    TCase *tc = tcase_create("kafka+mongo");
    tcase_add_checked_fixture(tc, servers_up, NULL); /* whatever the case before left */
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, stores_every_event_with_vectors_and_metadata);
    tcase_add_test(tc, older_versions_never_win_and_deletes_apply);
    tcase_add_test(tc, kill_9_mid_run_then_restart_stores_each_event_once);
    tcase_add_test(tc, sigterm_finishes_and_commits_the_batch);
    tcase_add_test(tc, dead_letter_queue_receives_every_bad_record_with_context);
    tcase_add_test(tc, a_document_the_server_rejects_is_dead_lettered_not_fatal);
    tcase_add_test(tc, schema_registry_framed_events_are_validated_with_their_own_schema);
    tcase_add_test(tc, unchanged_texts_reuse_the_stored_vector);
    tcase_add_test(tc, int8_runs_never_reuse_fp32_vectors);
    tcase_add_test(tc, backfill_from_a_timestamp_restores_that_range_only);
    tcase_add_test(tc, two_runners_share_partitions_and_survive_losing_one);
    tcase_add_test(tc, mongo_outage_holds_commits_until_it_returns);
    tcase_add_test(tc, metrics_endpoint_counts_what_was_processed_and_readiness_follows_mongo);
    suite_add_tcase(s, tc);
    TCase *hard = tcase_create("hardening-dlq-secrets");
    tcase_add_checked_fixture(hard, servers_up, NULL);
    tcase_set_timeout(hard, 600);
    tcase_add_test(hard, a_record_the_dlq_refuses_goes_as_a_bounded_copy);
    tcase_add_test(hard, a_record_not_even_a_bounded_copy_of_which_fits_stops_the_job);
    tcase_add_test(hard, a_missing_dlq_topic_is_created_like_kafka_connect);
    tcase_add_test(hard, a_dlq_topic_the_broker_will_not_create_is_a_config_error);
    tcase_add_test(hard, credentials_in_uris_never_reach_the_output);
    suite_add_tcase(s, hard);
    TCase *bounded = tcase_bounded();
    tcase_add_checked_fixture(bounded, servers_up, NULL);
    suite_add_tcase(s, bounded);
    suite_add_tcase(s, tcase_liveness());
    suite_add_tcase(s, tcase_shutdown());
    return s;
}
