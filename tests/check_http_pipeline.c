/*
 * Integration suite: `ragbatch run --until caught-up` with embed.provider =
 * openai against the in-process OpenAI test server (tests/servers), on the
 * real Kafka broker and MongoDB-wire server (see harness.h).  The server
 * answers some requests 429 (with Retry-After) and 500 and returns data in
 * reverse order; every stored vector must still be the one for its text,
 * and every offset committed.  When the provider keeps failing, the run
 * stops without committing anything, and the API key never reaches the log.
 */
#include "check_main.h"
#include "harness.h"
#include "servers/embed_server.h"
#include "json/json.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM 24
#define SECRET "sk-pipeline-SECRET-31337"

static es_server *srv;

static void setup(void) {
    srv = es_server_start(0, DIM);
    ck_assert_msg(srv != NULL, "test server did not start");
    setenv("RB_HTTP_PIPELINE_KEY", SECRET, 1);
}

static void teardown(void) {
    es_server_stop(srv);
    srv = NULL;
}

static const char *http_job(const char *topic, const char *db, const char *more) {
    char extra[1024];
    snprintf(extra, sizeof extra,
             "batch.max.records = 64\n"
             "embed.provider = openai\n"
             "embed.url = http://127.0.0.1:%d\n"
             "embed.model = test-model\n"
             "embed.dimensions = %d\n"
             "embed.api.key.env = RB_HTTP_PIPELINE_KEY\n"
             "embed.batch.size = 16\n"
             "embed.concurrency = 4\n"
             "embed.retry.backoff.ms = 50\n"
             "embed.retry.backoff.max.ms = 200\n"
             "embed.rate.requests.per.minute = 6000\n"
             "%s",
             es_server_port(srv), DIM, more ? more : "");
    return harness_write_job(topic, topic, db, extra);
}

START_TEST(openai_provider_stores_correct_vectors_through_faults) {
    char topic[128], db[128], manifest[512], log[512];
    harness_unique("rb-http", topic, sizeof topic);
    harness_unique("rbhttp", db, sizeof db);
    snprintf(manifest, sizeof manifest, "%s/tests/%s.manifest", RB_BUILD_DIR, topic);
    snprintf(log, sizeof log, "%s/tests/%s.log", RB_BUILD_DIR, topic);
    harness_create_topic(topic, 3);
    ck_assert_uint_eq(harness_produce_generated(topic, 200, 40, 11, 0.0, 0.1, manifest), 0);
    es_faults f = {0};
    f.n429 = 2;
    snprintf(f.retry_after, sizeof f.retry_after, "1");
    f.n500 = 2;
    f.reverse = 1;
    es_server_faults_set(srv, &f);
    const char *job = http_job(topic, db, NULL);
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    int status = harness_run(log, args, 300);
    char *out = harness_slurp(log);
    ck_assert_msg(status == 0, "ragbatch exited %d:\n%s", status, out);
    ck_assert_msg(!strstr(out, "SECRET"), "the API key reached the log:\n%s", out);
    free(out);
    ck_assert_int_eq(harness_committed_total(topic, topic), 200);

    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_str_eq(st.last_auth, "Bearer " SECRET);
    ck_assert_uint_ge(st.requests, 5); /* 4 refused + the answered ones */

    rb_sink *sink = harness_sink(db);
    char *lines = harness_slurp(manifest);
    size_t live = 0;
    float want[DIM];
    rb_error err;
    for (char *line = lines, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        rb_json_doc *md;
        ck_assert_int_eq(rb_json_parse(line, strlen(line), NULL, &md, &err), 0);
        const rb_json *m = rb_json_doc_root(md);
        const rb_json *del = rb_json_get(m, "deleted");
        if (!rb_json_get(m, "product_id") || (del && del->boolean)) {
            rb_json_doc_destroy(md);
            continue;
        }
        const char *id = rb_json_string(rb_json_get(m, "product_id"));
        char *json = NULL;
        ck_assert_msg(rb_sink_get_json(sink, id, &json, &err) == 0, "%s", err.msg);
        ck_assert_msg(json != NULL, "document %s is missing", id);
        rb_json_doc *sd;
        ck_assert_int_eq(rb_json_parse(json, strlen(json), NULL, &sd, &err), 0);
        const rb_json *s = rb_json_doc_root(sd);
        const char *text = rb_json_string(rb_json_get(s, "text"));
        ck_assert_ptr_nonnull(text);
        const rb_json *e = rb_json_get(s, "embedding");
        ck_assert(e && e->type == RB_JSON_ARRAY);
        ck_assert_uint_eq(e->count, DIM);
        es_vector(text, DIM, want);
        for (size_t j = 0; j < DIM; j++)
            ck_assert_msg(fabs(e->items[j].number - want[j]) < 1e-6, "%s element %zu", id, j);
        live++;
        rb_json_doc_destroy(sd);
        free(json);
        rb_json_doc_destroy(md);
    }
    ck_assert_uint_gt(live, 0);
    free(lines);
    ck_assert_int_eq(rb_sink_drop_database(sink, &err), 0);
    rb_sink_destroy(sink);
}
END_TEST

START_TEST(provider_failure_commits_nothing) {
    char topic[128], db[128], log[512];
    harness_unique("rb-httpfail", topic, sizeof topic);
    harness_unique("rbhttpfail", db, sizeof db);
    snprintf(log, sizeof log, "%s/tests/%s.log", RB_BUILD_DIR, topic);
    harness_create_topic(topic, 1);
    ck_assert_uint_eq(harness_produce_generated(topic, 20, 10, 5, 0.0, 0.0, NULL), 0);
    /* dimensions known, so the start needs no request; then every request fails */
    es_faults f = {0};
    f.n500 = 1000000;
    es_server_faults_set(srv, &f);
    const char *job = http_job(topic, db, "embed.retries = 2\n");
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    int status = harness_run(log, args, 120);
    char *out = harness_slurp(log);
    ck_assert_msg(status != 0, "ragbatch succeeded:\n%s", out);
    ck_assert_msg(strstr(out, "HTTP 500") && strstr(out, "The server had an error"),
                  "no provider error in the log:\n%s", out);
    ck_assert_msg(!strstr(out, "SECRET"), "the API key reached the log:\n%s", out);
    free(out);
    ck_assert_int_eq(harness_committed_total(topic, topic), 0);
    rb_sink *sink = harness_sink(db);
    rb_error err;
    rb_sink_drop_database(sink, &err);
    rb_sink_destroy(sink);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("http_pipeline");
    TCase *tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 400);
    tcase_add_test(tc, openai_provider_stores_correct_vectors_through_faults);
    tcase_add_test(tc, provider_failure_commits_nothing);
    suite_add_tcase(s, tc);
    return s;
}
