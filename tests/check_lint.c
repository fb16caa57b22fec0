/*
 * check_lint.c -- `ragbatch check` as a linter, through the binary: every
 * problem at once with its file:line (text and --json), the schema and the
 * template compiled and their fields checked against the schema, kafka.*
 * through librdkafka, the model opened, --explain's origins (and a key an
 * include overrides), --connect bounded against servers that are not
 * there; and the schema walk on its own.  No servers.
 */
#include "check_main.h"
#include "common/buf.h"
#include "json/json.h"
#include "lint/schema_fields.h"
#include "spawn.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* `ragbatch ARGS...` with stdout and stderr captured. */
static spawn_ran run(const char *const *args) { return spawn_ragbatch(args, NULL); }

static char dir[64];

/* Writes `text` to dir/name; returns the path (static buffer per call site). */
static const char *write_file(const char *name, const char *text) {
    static char paths[8][128];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/check_lint_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

#define SCHEMA "schema.file = " RB_SOURCE_DIR "/conf/product_schema.json\n"
#define MODEL "embed.model.dir = " RB_MODEL_DIR "\n"

/* A job of five lines (servers, topic, collection), then `extra`. */
static const char *job_with(const char *name, const char *extra) {
    char text[4096];
    snprintf(text, sizeof text,
             "source.topics = t\n"
             "kafka.bootstrap.servers = 127.0.0.1:9\n"
             "mongo.uri = mongodb://127.0.0.1:9/\n"
             "mongo.database = d\n"
             "mongo.collection = c\n"
             "%s",
             extra);
    return write_file(name, text);
}

/* The job: each of these made `check` say "valid" (or stopped it
 * at the first), and `run` fail later. */
START_TEST(every_problem_at_once_with_its_line) {
    const char *job = job_with("bad.job", SCHEMA "text.template = {name\n"
                                                 "kafka.bootstrap.servrs = 127.0.0.1:9\n"
                                                 "embed.model.dir = /nonexistent/model\n"
                                                 "batch.max.recrods = 3\n");
    spawn_ran r = run((const char *[]){"check", job, NULL});
    ck_assert_msg(r.status == 2, "exit %d\n%s%s", r.status, r.out, r.err);
    char want[256];
    snprintf(want, sizeof want, "%s:7: error: template column 1: unclosed '{'", job);
    ck_assert_msg(strstr(r.err, want), "%s", r.err);
    snprintf(want, sizeof want, "%s:8: error: kafka.bootstrap.servrs: librdkafka refuses it", job);
    ck_assert_msg(strstr(r.err, want), "%s", r.err);
    snprintf(want, sizeof want, "%s:9: error: embed.model.dir: /nonexistent/model/", job);
    ck_assert_msg(strstr(r.err, want), "%s", r.err);
    snprintf(want, sizeof want, "%s:10: error: unknown key 'batch.max.recrods'", job);
    ck_assert_msg(strstr(r.err, want), "%s", r.err);
    ck_assert_msg(strstr(r.err, "4 errors, 0 warnings"), "%s", r.err);
    ck_assert_msg(!strstr(r.out, "valid"), "%s", r.out);
    spawn_ran_free(&r);
    /* --set problems count too, each named as --set. */
    spawn_ran s = run(
        (const char *[]){"check", job, "--set", "novalue", "--set", "batch.max.bytes=x", NULL});
    ck_assert_int_eq(s.status, 2);
    ck_assert_msg(strstr(s.err, "--set: error: expected key=value, found 'novalue'") &&
                      strstr(s.err, "--set: error: batch.max.bytes = 'x' is not an integer") &&
                      strstr(s.err, "6 errors"),
                  "%s", s.err);
    spawn_ran_free(&s);
}
END_TEST

START_TEST(a_missing_schema_file_is_an_error_at_its_line) {
    const char *job = job_with("noschema.job", MODEL "text.template = {name}\n"
                                                     "schema.file = missing-schema.json\n");
    spawn_ran r = run((const char *[]){"check", job, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, ":8: error:") && strstr(r.err, "missing-schema.json"), "%s",
                  r.err);
    spawn_ran_free(&r);
}
END_TEST

/* product_schema.json has additionalProperties false at its root. */
START_TEST(fields_the_schema_forbids_are_errors) {
    const char *job = job_with("fields.job", SCHEMA MODEL "text.template = {name} [[{colour?}]]\n"
                                                          "metadata.fields = brand, weight\n");
    spawn_ran r = run((const char *[]){"check", job, NULL});
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, ":8: error: text.template names the field 'colour'"), "%s", r.err);
    ck_assert_msg(strstr(r.err, ":9: error: metadata.fields names the field 'weight'"), "%s",
                  r.err);
    ck_assert_msg(!strstr(r.err, "'name'") && !strstr(r.err, "'brand'"), "%s", r.err);
    spawn_ran_free(&r);
    /* The shipped job is clean. */
    spawn_ran ok =
        run((const char *[]){"check",
                             job_with("good.job", SCHEMA MODEL "text.template = {name}\n"), NULL});
    ck_assert_msg(ok.status == 0, "%s", ok.err);
    ck_assert_ptr_nonnull(strstr(ok.out, ": valid"));
    spawn_ran_free(&ok);
}
END_TEST

START_TEST(json_lists_every_diagnostic) {
    const char *job = job_with("json.job", SCHEMA MODEL "text.template = {name\n"
                                                        "kafka.no.such.property = 1\n");
    spawn_ran r = run((const char *[]){"check", job, "--json", NULL});
    ck_assert_int_eq(r.status, 2);
    rb_json_doc *doc;
    rb_error err;
    ck_assert_msg(rb_json_parse(r.out, strlen(r.out), NULL, &doc, &err) == 0, "%s: %s", err.msg,
                  r.out);
    const rb_json *root = rb_json_doc_root(doc);
    ck_assert(!rb_json_get(root, "valid")->boolean);
    ck_assert_int_eq(rb_json_get(root, "errors")->integer, 2);
    const rb_json *d = rb_json_get(root, "diagnostics");
    ck_assert_int_eq(d->count, 2);
    ck_assert_str_eq(rb_json_string(rb_json_get(&d->items[0], "key")), "text.template");
    ck_assert_int_eq(rb_json_get(&d->items[0], "line")->integer, 8);
    ck_assert_str_eq(rb_json_string(rb_json_get(&d->items[1], "key")), "kafka.no.such.property");
    ck_assert_int_eq(rb_json_get(&d->items[1], "line")->integer, 9);
    ck_assert_str_eq(rb_json_string(rb_json_get(&d->items[1], "file")), job);
    rb_json_doc_destroy(doc);
    spawn_ran_free(&r);
}
END_TEST

/* A key set before an include, which the included file sets again: the
 * included value wins, silently, without the warning. */
START_TEST(explain_gives_origins_and_warns_of_an_overridden_key) {
    write_file("shared.conf", "# shared\nbatch.max.records = 1000\ntrigger.interval.ms = 500\n");
    const char *job = job_with("inc.job", SCHEMA MODEL "batch.max.records = 10\n"
                                                       "include = shared.conf\n"
                                                       "text.template = {name}\n"
                                                       "job.name = ${env:CHECK_LINT_NAME}\n");
    setenv("CHECK_LINT_NAME", "linted", 1);
    spawn_ran r =
        run((const char *[]){"check", job, "--explain", "--set", "mongo.database=other", NULL});
    ck_assert_msg(r.status == 0, "%s", r.err);
    char want[512];
    snprintf(want, sizeof want,
             "%s:8: warning: batch.max.records set here is overridden by %s/shared.conf:2", job,
             dir);
    ck_assert_msg(strstr(r.err, want), "%s", r.err);
    snprintf(want, sizeof want,
             "batch.max.records = 1000    # %s/shared.conf:2 (included at %s:9)", dir, job);
    ck_assert_msg(strstr(r.out, want), "%s", r.out);
    snprintf(want, sizeof want, "job.name = linted    # %s:11 via ${env:CHECK_LINT_NAME}", job);
    ck_assert_msg(strstr(r.out, want), "%s", r.out);
    ck_assert_msg(strstr(r.out, "mongo.database = other    # --set\n"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "batch.max.bytes = 16777216    # default\n"), "%s", r.out);
    spawn_ran n = run(
        (const char *[]){"check", job_with("named.job", SCHEMA MODEL "text.template = {name}\n"),
                         "--explain", NULL});
    ck_assert_msg(strstr(n.out, "job.name = named    # default (the job file's name)\n"), "%s",
                  n.out);
    spawn_ran_free(&n);
    snprintf(want, sizeof want, "kafka.bootstrap.servers = 127.0.0.1:9    # %s:2", job);
    ck_assert_msg(strstr(r.out, want), "%s", r.out);
    spawn_ran_free(&r);
    /* The same in JSON. */
    spawn_ran j = run((const char *[]){"check", job, "--explain", "--json", NULL});
    ck_assert_int_eq(j.status, 0);
    ck_assert_msg(strstr(j.out, "\"level\":\"warning\""), "%s", j.out);
    ck_assert_msg(strstr(j.out, "{\"key\":\"batch.max.bytes\",\"value\":\"16777216\","
                                "\"source\":\"default\"}"),
                  "%s", j.out);
    ck_assert_msg(strstr(j.out, "\"providers\":\"${env:CHECK_LINT_NAME}\""), "%s", j.out);
    spawn_ran_free(&j);
}
END_TEST

/* Nothing listens on port 9: every probe fails, each within its bound. */
START_TEST(connect_reports_each_unreachable_server_in_bounded_time) {
    const char *job = job_with("conn.job",
                               SCHEMA MODEL "text.template = {name}\n"
                                            "schema.registry.url = http://127.0.0.1:9/\n");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    spawn_ran r = run((const char *[]){"check", job, "--connect", NULL});
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(strstr(r.err, ":2: error: no Kafka broker answered within 5000 ms"), "%s",
                  r.err);
    ck_assert_msg(strstr(r.err, ":3: error: MongoDB at mongodb://127.0.0.1:9/ does not answer"),
                  "%s", r.err);
    ck_assert_msg(strstr(r.err, ":9: error: schema registry http://127.0.0.1:9"), "%s", r.err);
    ck_assert_msg(strstr(r.err, "3 errors"), "%s", r.err);
    ck_assert_msg(t1.tv_sec - t0.tv_sec < 30, "took %lds", (long)(t1.tv_sec - t0.tv_sec));
    spawn_ran_free(&r);
}
END_TEST

START_TEST(schema_walk_follows_refs_allof_and_nesting) {
    const char *text =
        "{\"definitions\": {\"attrs\": {\"type\": \"object\", \"additionalProperties\": false,\n"
        "   \"properties\": {\"color\": {\"type\": \"string\"}}}},\n"
        " \"type\": \"object\",\n"
        " \"properties\": {\"attributes\": {\"$ref\": \"#/definitions/attrs\"},\n"
        "                \"name\": {\"type\": \"string\"}, \"open\": {}},\n"
        " \"allOf\": [{\"properties\": {\"extra\": {}}}]}";
    rb_json_doc *doc;
    rb_error err;
    ck_assert_int_eq(rb_json_parse(text, strlen(text), NULL, &doc, &err), 0);
    const rb_json *root = rb_json_doc_root(doc);
    char why[256];
    ck_assert(rb_lint_schema_allows(root, "name", why, sizeof why));
    ck_assert(rb_lint_schema_allows(root, "anything", why, sizeof why));
    ck_assert(rb_lint_schema_allows(root, "attributes.color", why, sizeof why));
    ck_assert(!rb_lint_schema_allows(root, "attributes.size", why, sizeof why));
    ck_assert_msg(strstr(why, "additionalProperties is false (line 1)"), "%s", why);
    ck_assert(!rb_lint_schema_allows(root, "name.first", why, sizeof why));
    ck_assert_msg(strstr(why, "typed \"string\""), "%s", why);
    ck_assert(rb_lint_schema_allows(root, "open.deep.path", why, sizeof why));
    rb_json_doc_destroy(doc);
    /* anyOf forbids only what every alternative forbids. */
    const char *alt =
        "{\"anyOf\": [{\"properties\": {\"a\": {}}, \"additionalProperties\": false},\n"
        "           {\"properties\": {\"b\": {}}, \"additionalProperties\": false}]}";
    ck_assert_int_eq(rb_json_parse(alt, strlen(alt), NULL, &doc, &err), 0);
    root = rb_json_doc_root(doc);
    ck_assert(rb_lint_schema_allows(root, "a", why, sizeof why));
    ck_assert(rb_lint_schema_allows(root, "b", why, sizeof why));
    ck_assert(!rb_lint_schema_allows(root, "c", why, sizeof why));
    ck_assert_msg(strstr(why, "every alternative of anyOf (line 1)"), "%s", why);
    rb_json_doc_destroy(doc);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("lint");
    TCase *tc = tcase_create("check");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, every_problem_at_once_with_its_line);
    tcase_add_test(tc, a_missing_schema_file_is_an_error_at_its_line);
    tcase_add_test(tc, fields_the_schema_forbids_are_errors);
    tcase_add_test(tc, json_lists_every_diagnostic);
    tcase_add_test(tc, explain_gives_origins_and_warns_of_an_overridden_key);
    tcase_add_test(tc, connect_reports_each_unreachable_server_in_bounded_time);
    tcase_add_test(tc, schema_walk_follows_refs_allof_and_nesting);
    suite_add_tcase(s, tc);
    return s;
}
