/*
 * check_ops.c -- the operator's verbs against the real servers:
 * `check --connect` reaching Kafka, the topics and MongoDB; `status` with
 * offsets, the run's metrics, the DLQ by stage and the collection; and
 * `dlq show` with each dead letter's stage, class, message and path.
 *
 * Arranged, not raced: the records are produced before the run starts, a
 * bounded run (--until caught-up) has finished before `status` reads, and
 * the streaming run is asked only once its group has committed all.
 */
#include "check_main.h"
#include "common/clock.h"
#include "expo.h"
#include "harness.h"
#include "promtool.h"
#include "json/json.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Runs ragbatch and returns what it wrote (stdout and stderr together). */
static char *run_out(const char *log, const char *const *args, int want_status) {
    int status = harness_run(log, args, 120);
    char *out = harness_slurp(log);
    ck_assert_msg(status == want_status, "%s: exit %d, not %d:\n%s", args[0], status, want_status,
                  out);
    return out;
}

/* The one line of `out` that is a JSON object, parsed. */
static rb_json_doc *json_line(const char *out) {
    const char *p = out;
    while (p && *p != '{') {
        p = strchr(p, '\n');
        if (p) p++;
    }
    ck_assert_msg(p != NULL, "no JSON line in:\n%s", out);
    const char *end = strchr(p, '\n');
    rb_json_doc *doc;
    rb_error err;
    ck_assert_msg(rb_json_parse(p, end ? (size_t)(end - p) : strlen(p), NULL, &doc, &err) == 0,
                  "%s:\n%s", err.msg, p);
    return doc;
}

static int64_t get_int(const rb_json *obj, const char *path) {
    const rb_json *v = rb_json_get_path(obj, path);
    ck_assert_msg(v && v->is_integer, "%s is not an integer", path);
    return v->integer;
}

/* Eight records: five products, two values that are not JSON, one event
 * without its required product_id (the schema's /). */
static void produce_mixed(const char *topic) {
    const harness_msg msgs[] = {
        {"a",
         "{\"product_id\":\"a\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Kettle\"}",
         0, 0},
        {"b",
         "{\"product_id\":\"b\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Mug\"}",
         0, 0},
        {"x", "not json at all", 0, 0},
        {"c",
         "{\"product_id\":\"c\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Rug\"}",
         0, 0},
        {"y", "{\"truncated\":", 0, 0},
        {"d",
         "{\"product_id\":\"d\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Lamp\"}",
         0, 0},
        {"z",
         "{\"event_type\":\"created\",\"event_time\":\"2026-11-01T00:00:00Z\",\"name\":\"?\"}", 0,
         0},
        {"e",
         "{\"product_id\":\"e\",\"event_type\":\"deleted\",\"event_time\":"
         "\"2026-11-02T00:00:00Z\",\"version\":2}",
         0, 0},
    };
    harness_produce(topic, msgs, sizeof msgs / sizeof msgs[0]);
}

static const char *dlq_extra(const char *topic, char *buf, size_t size) {
    snprintf(buf, size,
             "errors.tolerance = all\n"
             "errors.deadletterqueue.topic.name = %s.dlq\n"
             "errors.deadletterqueue.context.headers.enable = true\n"
             "errors.deadletterqueue.topic.replication.factor = 1\n",
             topic);
    return buf;
}

START_TEST(check_connect_reaches_the_servers) {
    harness_case c;
    harness_case_open(&c, "ops-connect", 2);
    const char *job = harness_case_job(&c, NULL);
    const char *args[] = {"check", job, "--connect", NULL};
    char *out = run_out(c.log, args, 0);
    ck_assert_msg(strstr(out, "# connect: kafka: 1 broker(s)"), "%s", out);
    char want[256];
    snprintf(want, sizeof want, "# connect: topic %s: 2 partition(s)", c.topic);
    ck_assert_msg(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "# connect: mongodb: %s.docs answered", c.db);
    ck_assert_msg(strstr(out, want), "%s", out);
    free(out);
    /* A topic that is not there is an error at the line that names it. */
    const char *missing[] = {"check", job, "--connect", "--set", "source.topics=rb-ops-no-such",
                             NULL};
    out = run_out(c.log, missing, 2);
    ck_assert_msg(strstr(out, "--set: error: source topic 'rb-ops-no-such' does not exist"), "%s",
                  out);
    free(out);
    harness_case_close(&c);
}
END_TEST

START_TEST(status_after_a_bounded_run) {
    harness_case c;
    harness_case_open(&c, "ops-status", 2);
    produce_mixed(c.topic);
    char extra[512];
    const char *job = harness_case_job(&c, dlq_extra(c.topic, extra, sizeof extra));
    char slog[600];
    snprintf(slog, sizeof slog, "%s.status", c.log);
    /* Before any run: nothing committed, everything is lag. */
    const char *sargs[] = {"status", job, "--json", NULL};
    char *out = run_out(slog, sargs, 1); /* the DLQ topic does not exist yet */
    rb_json_doc *doc = json_line(out);
    const rb_json *root = rb_json_doc_root(doc);
    ck_assert_int_eq(get_int(root, "offsets.lag"), 8);
    ck_assert_msg(rb_json_get_path(root, "dlq.error")->type == RB_JSON_STRING, "%s", out);
    rb_json_doc_destroy(doc);
    free(out);

    ck_assert_int_eq(harness_case_run(&c, NULL), 0);
    out = run_out(slog, sargs, 0);
    doc = json_line(out);
    root = rb_json_doc_root(doc);
    ck_assert_int_eq(get_int(root, "offsets.lag"), 0);
    const rb_json *parts = rb_json_get_path(root, "offsets.partitions");
    ck_assert_int_eq(parts->count, 2);
    int64_t committed = 0;
    for (size_t i = 0; i < parts->count; i++) {
        const rb_json *p = &parts->items[i];
        ck_assert_int_eq(get_int(p, "lag"), 0);
        /* A partition the keys left empty has nothing to commit. */
        if (rb_json_get(p, "committed")->type == RB_JSON_NULL) {
            ck_assert_int_eq(get_int(p, "end"), 0);
            continue;
        }
        ck_assert_int_eq(get_int(p, "committed"), get_int(p, "end"));
        committed += get_int(p, "committed");
    }
    ck_assert_int_eq(committed, 8);
    ck_assert_int_eq(get_int(root, "dlq.records"), 3);
    ck_assert_int_eq(get_int(root, "dlq.by_stage.deserialize"), 2);
    ck_assert_int_eq(get_int(root, "dlq.by_stage.validate"), 1);
    /* Four products stored, one delete of a product never stored: its
     * versioned tombstone. */
    ck_assert_int_eq(get_int(root, "collection.documents"), 4);
    ck_assert_int_eq(get_int(root, "collection.tombstones"), 1);
    ck_assert_str_eq(rb_json_string(rb_json_get_path(root, "run.state")), "unknown");
    ck_assert(!rb_json_get_path(root, "index.atlas")->boolean);
    rb_json_doc_destroy(doc);
    free(out);
    /* The text form says the same. */
    const char *targs[] = {"status", job, NULL};
    out = run_out(slog, targs, 0);
    ck_assert_msg(strstr(out, "  lag: 0\n"), "%s", out);
    ck_assert_msg(strstr(out, ": 3 records; ") && strstr(out, "deserialize=2") &&
                      strstr(out, "validate=1"),
                  "%s", out);
    ck_assert_msg(strstr(out, ".docs: 4 documents, 1 tombstones"), "%s", out);
    ck_assert_msg(strstr(out, "index: not Atlas"), "%s", out);
    free(out);
    harness_case_close(&c);
}
END_TEST

START_TEST(status_reads_a_running_job_and_says_when_it_is_gone) {
    harness_case c;
    harness_case_open(&c, "ops-running", 1);
    produce_mixed(c.topic);
    int port = harness_free_port();
    char extra[768], dlq[512];
    snprintf(extra, sizeof extra, "%smetrics.port = %d\nmetrics.address = 127.0.0.1\n",
             dlq_extra(c.topic, dlq, sizeof dlq), port);
    const char *job = harness_case_job(&c, extra);
    const char *args[] = {"run", job, NULL};
    pid_t pid = harness_spawn(c.log, args);
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(c.topic, c.topic) < 8) {
        ck_assert_msg(rb_now_ms() < until, "nothing committed in 120 s");
        rb_sleep_ms(100);
    }
    char slog[600];
    snprintf(slog, sizeof slog, "%s.status", c.log);
    const char *sargs[] = {"status", job, "--json", NULL};
    char *out = run_out(slog, sargs, 0);
    rb_json_doc *doc = json_line(out);
    const rb_json *root = rb_json_doc_root(doc);
    ck_assert_str_eq(rb_json_string(rb_json_get_path(root, "run.state")), "running");
    ck_assert(rb_json_get_path(root, "run.last_batch_time")->type == RB_JSON_STRING);
    ck_assert_int_ge(get_int(root, "run.batches"), 1);
    /* Every record once, by outcome, as the collection and the DLQ have them. */
    ck_assert_int_eq(get_int(root, "run.records.stored"), 4);
    ck_assert_int_eq(get_int(root, "run.records.deleted"), 1);
    ck_assert_int_eq(get_int(root, "run.records.dead_lettered"), 3);
    rb_json_doc_destroy(doc);
    free(out);
    kill(pid, SIGTERM);
    ck_assert_int_eq(harness_wait(pid, 60), 0);
    out = run_out(slog, (const char *[]){"status", job, NULL}, 0);
    char want[128];
    snprintf(want, sizeof want, "run: not running at http://127.0.0.1:%d/metrics", port);
    ck_assert_msg(strstr(out, want), "%s", out);
    free(out);
    harness_case_close(&c);
}
END_TEST

START_TEST(dlq_show_gives_each_letters_reason) {
    harness_case c;
    harness_case_open(&c, "ops-dlqshow", 1);
    produce_mixed(c.topic);
    char extra[512], dlq[160], log[600];
    const char *job = harness_case_job(&c, dlq_extra(c.topic, extra, sizeof extra));
    ck_assert_int_eq(harness_case_run(&c, NULL), 0);
    snprintf(dlq, sizeof dlq, "%s.dlq", c.topic);
    snprintf(log, sizeof log, "%s.dlq", c.log);
    (void)job;

    char *out = run_out(log, (const char *[]){"dlq", "show", dlq, "--json", NULL}, 0);
    rb_json_doc *doc = json_line(out);
    const rb_json *recs = rb_json_get(rb_json_doc_root(doc), "records");
    ck_assert_int_eq(recs->count, 3);
    static const char *const keys[] = {"x", "y", "z"};
    static const char *const stages[] = {"deserialize", "deserialize", "validate"};
    for (size_t i = 0; i < 3; i++) {
        const rb_json *r = &recs->items[i];
        ck_assert_str_eq(rb_json_string(rb_json_get(r, "key")), keys[i]);
        ck_assert_str_eq(rb_json_string(rb_json_get(r, "stage")), stages[i]);
        ck_assert_str_eq(rb_json_string(rb_json_get_path(r, "source.topic")), c.topic);
        ck_assert(rb_json_get(r, "message")->type == RB_JSON_STRING);
        ck_assert(rb_json_get(r, "class")->type == RB_JSON_STRING);
    }
    /* The schema failure names the property and the path of the document. */
    const rb_json *z = &recs->items[2];
    ck_assert_str_eq(rb_json_string(rb_json_get(z, "class")), "ragbatch.SchemaValidationError");
    ck_assert_msg(strstr(rb_json_string(rb_json_get(z, "message")), "product_id"), "%s", out);
    ck_assert_str_eq(rb_json_string(rb_json_get(z, "path")), "");
    ck_assert_int_eq(get_int(z, "source.offset"), 6);
    rb_json_doc_destroy(doc);
    free(out);

    /* Filters: by stage, the first N, and a time after every failure. */
    out = run_out(log, (const char *[]){"dlq", "show", dlq, "--stage", "validate", NULL}, 0);
    ck_assert_msg(strstr(out, "stage=validate  class=ragbatch.SchemaValidationError") &&
                      strstr(out, "  key:     z\n") && strstr(out, "  path:    \"\"\n") &&
                      strstr(out, "1 dead letter shown"),
                  "%s", out);
    ck_assert_msg(!strstr(out, "stage=deserialize"), "%s", out);
    free(out);
    out = run_out(log, (const char *[]){"dlq", "show", dlq, "--limit", "1", NULL}, 0);
    ck_assert_msg(strstr(out, "  key:     x\n") && !strstr(out, "  key:     y\n") &&
                      strstr(out, "1 dead letter shown (--limit reached)"),
                  "%s", out);
    free(out);
    out = run_out(log,
                  (const char *[]){"dlq", "show", dlq, "--since", "2999-01-01T00:00:00Z", NULL},
                  0);
    ck_assert_msg(strstr(out, "0 dead letters shown"), "%s", out);
    free(out);

    out = run_out(log, (const char *[]){"dlq", "stats", dlq, "--json", NULL}, 0);
    doc = json_line(out);
    const rb_json *root = rb_json_doc_root(doc);
    ck_assert_int_eq(get_int(root, "records"), 3);
    const rb_json *classes = rb_json_get(root, "classes");
    ck_assert_int_eq(classes->count, 2);
    ck_assert_str_eq(rb_json_string(rb_json_get(&classes->items[0], "stage")), "deserialize");
    ck_assert_int_eq(get_int(&classes->items[0], "records"), 2);
    rb_json_doc_destroy(doc);
    free(out);

    /* A dry run says what it would send and why each record failed. */
    out = run_out(log, (const char *[]){"dlq", "replay", dlq, "--dry-run", NULL}, 0);
    char want[300];
    snprintf(want, sizeof want, "would replay 0/2 to %s: key=z stage=validate reason=", c.topic);
    ck_assert_msg(strstr(out, want) && strstr(out, "key=x stage=deserialize reason="), "%s", out);
    free(out);
    harness_case_close(&c);
}
END_TEST

/* The gauge's value for partition 0 of `topic` on the job's /metrics, or -1. */
static double lag_of(int port, const char *topic, char **text) {
    char *body = NULL;
    if (expo_http_get(port, "/metrics", &body) != 200) {
        free(body);
        return -1;
    }
    expo *e = calloc(1, sizeof *e);
    expo_parse(body, e);
    double v = -1;
    if (!expo_find(e, "ragbatch_consumer_lag", "topic", topic, "partition", "0", &v)) v = -1;
    free(e);
    if (text)
        *text = body;
    else
        free(body);
    return v;
}

/* The issue: the lag gauge was set only after a committed batch, so during
 * an outage it kept its last value.  The records are produced once MongoDB
 * is already away: the gauge must show them while the write is retried. */
START_TEST(lag_follows_an_outage_and_freshness_is_observed) {
    harness_case c;
    harness_case_open(&c, "ops-lag", 1);
    produce_mixed(c.topic);
    int port = harness_free_port();
    char extra[256];
    snprintf(extra, sizeof extra,
             "metrics.port = %d\nmetrics.address = 127.0.0.1\nerrors.tolerance = all\n"
             "sink.retry.timeout.ms = -1\n",
             port);
    const char *job = harness_case_job(&c, extra);
    pid_t pid = harness_spawn(c.log, (const char *[]){"run", job, NULL});
    int64_t until = rb_now_ms() + 120000;
    while (harness_committed_total(c.topic, c.topic) < 8) {
        ck_assert_msg(rb_now_ms() < until, "nothing committed in 120 s");
        rb_sleep_ms(100);
    }
    until = rb_now_ms() + 30000;
    while (lag_of(port, c.topic, NULL) != 0) {
        ck_assert_msg(rb_now_ms() < until, "the lag never reached 0");
        rb_sleep_ms(200);
    }
    harness_mongo_down();
    produce_mixed(c.topic); /* 8 more, after the fault is in place */
    until = rb_now_ms() + 60000;
    double lag;
    while ((lag = lag_of(port, c.topic, NULL)) != 8) {
        ck_assert_msg(rb_now_ms() < until, "the lag stayed at %g while MongoDB was away", lag);
        rb_sleep_ms(200);
    }
    ck_assert_int_eq(harness_committed_total(c.topic, c.topic), 8); /* nothing moved */
    harness_mongo_up();
    until = rb_now_ms() + 120000;
    while (harness_committed_total(c.topic, c.topic) < 16 || lag_of(port, c.topic, NULL) != 0) {
        ck_assert_msg(rb_now_ms() < until, "the run did not catch up after the outage");
        rb_sleep_ms(200);
    }
    char *text = NULL;
    ck_assert_double_eq(lag_of(port, c.topic, &text), 0);
    expo *e = calloc(1, sizeof *e);
    expo_parse(text, e);
    /* Written records: the first batch's 5 (4 stored, 1 tombstone); the
     * second's 4 updates are stale (same versions), its delete too. */
    double produced = 0, event = 0;
    ck_assert(expo_find(e, "ragbatch_freshness_seconds_count", "since", "produced", NULL, NULL,
                        &produced));
    ck_assert(
        expo_find(e, "ragbatch_freshness_seconds_count", "since", "event", NULL, NULL, &event));
    double stored = 0, deleted = 0, reused = 0;
    expo_find(e, "ragbatch_records_total", "outcome", "stored", NULL, NULL, &stored);
    expo_find(e, "ragbatch_records_total", "outcome", "deleted", NULL, NULL, &deleted);
    expo_find(e, "ragbatch_records_total", "outcome", "reused", NULL, NULL, &reused);
    ck_assert_msg(produced >= 1 && produced == stored + deleted + reused,
                  "freshness counted %g records, %g were written:\n%s", produced,
                  stored + deleted + reused, text);
    ck_assert_double_eq(event, produced); /* every event here has its event_time */
    free(e);
    promtool_check(text);
    free(text);
    kill(pid, SIGTERM);
    ck_assert_int_eq(harness_wait(pid, 60), 0);
    rb_sink_destroy(c.sink);
    c.sink = NULL;
    harness_case_close(&c);
}
END_TEST

/* The ids `ragbatch search --json` answered, sorted, comma-joined. */
static void search_ids(harness_case *c, const char *const *filters, char *out, size_t size) {
    const char *args[24] = {"search", c->job, "a thing for the home", "--k", "20", "--json"};
    size_t n = 6;
    for (size_t i = 0; filters[i]; i++) {
        args[n++] = "--filter";
        args[n++] = filters[i];
    }
    args[n] = NULL;
    char log[600];
    snprintf(log, sizeof log, "%s.search", c->log);
    char *text = run_out(log, args, 0);
    char ids[16][32];
    size_t nids = 0;
    for (const char *p = text; (p = strstr(p, "\"id\":\"")) != NULL && nids < 16;) {
        p += 6;
        size_t len = strcspn(p, "\"");
        snprintf(ids[nids++], sizeof ids[0], "%.*s", (int)len, p);
        p += len;
    }
    free(text);
    qsort(ids, nids, sizeof ids[0], (int (*)(const void *, const void *))strcmp);
    out[0] = '\0';
    for (size_t i = 0; i < nids; i++)
        snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? "," : "", ids[i]);
}

/* The issue: `--filter in_stock=true` and `price=438.5` matched nothing
 * (the filters compared strings).  Through the binary, on the exact path. */
START_TEST(search_filters_are_typed) {
    harness_case c;
    harness_case_open(&c, "ops-filter", 1);
    const harness_msg msgs[] = {
        {"k1",
         "{\"product_id\":\"k1\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Kettle\",\"brand\":\"Kestrel\","
         "\"price\":438.5,\"in_stock\":true}",
         0, 0},
        {"k2",
         "{\"product_id\":\"k2\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Mug\",\"brand\":\"Tidewell\","
         "\"price\":9,\"in_stock\":false}",
         0, 0},
        {"k3",
         "{\"product_id\":\"k3\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Rug\",\"brand\":\"Harbor\","
         "\"price\":99.99,\"in_stock\":true}",
         0, 0},
        {"k4",
         "{\"product_id\":\"k4\",\"event_type\":\"created\",\"event_time\":"
         "\"2026-11-01T00:00:00Z\",\"version\":1,\"name\":\"Lamp\",\"brand\":\"Kestrel\","
         "\"price\":10,\"in_stock\":true}",
         0, 0},
    };
    harness_produce(c.topic, msgs, 4);
    harness_case_job(&c, NULL);
    ck_assert_int_eq(harness_case_run(&c, NULL), 0);
    char ids[256];
    search_ids(&c, (const char *[]){"in_stock=true", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "k1,k3,k4");
    search_ids(&c, (const char *[]){"price=438.5", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "k1");
    search_ids(&c, (const char *[]){"price<100", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "k2,k3,k4");
    search_ids(&c, (const char *[]){"price>=10", "price<100", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "k3,k4");
    search_ids(&c, (const char *[]){"brand=Kestrel,Harbor", "in_stock=true", NULL}, ids,
               sizeof ids);
    ck_assert_str_eq(ids, "k1,k3,k4");
    /* An integer matches a stored double of the same value (10 and 10.0). */
    search_ids(&c, (const char *[]){"price=10.0", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "k4");
    /* A quoted number is a string, which no stored price is. */
    search_ids(&c, (const char *[]){"price=\"438.5\"", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "");
    /* Query syntax in a value stays a value: it matches no brand. */
    search_ids(&c, (const char *[]){"brand={\"$gt\":\"\"}", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "");
    search_ids(&c, (const char *[]){"brand=$ne", NULL}, ids, sizeof ids);
    ck_assert_str_eq(ids, "");
    harness_case_close(&c);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("servers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, check_connect_reaches_the_servers);
    tcase_add_test(tc, status_after_a_bounded_run);
    tcase_add_test(tc, status_reads_a_running_job_and_says_when_it_is_gone);
    tcase_add_test(tc, dlq_show_gives_each_letters_reason);
    tcase_add_test(tc, lag_follows_an_outage_and_freshness_is_observed);
    tcase_add_test(tc, search_filters_are_typed);
    suite_add_tcase(s, tc);
    return s;
}
