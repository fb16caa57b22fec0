/*
 * Integration suite: Avro in the Confluent wire format, through the
 * ragbatch binary, a real Kafka broker and a real MongoDB-wire server
 * (scripts/servers.sh).
 *
 * The Avro values are written by the Apache Avro Java library
 * (tests/java/AvroProductProducer.java, jars from Maven Central through
 * scripts/avro-java.sh), which also writes the same events as plain JSON:
 * the Avro topic read as avro and as auto must store what the JSON topic
 * read as json stores -- the same documents, texts and vectors.
 *
 * Then what does not decode: an unknown id (404), a truncated body and a
 * value without the magic byte are dead-lettered with the schema id in
 * their headers; a registry that does not answer is not: the run fails
 * with nothing committed, and succeeds once the registry is back.
 *
 * The registry is RAGBATCH_REGISTRY_URL when it is set (a real registry's
 * Confluent-compatible API), else the project's registry test server
 * (tests/servers/registry_server.c), started in this process.
 */
#include "avro_enc.h"
#include "check_main.h"
#include "dlq/reader.h"
#include "harness.h"
#include "servers/registry_client.h"
#include "servers/registry_server.h"
#include "json/json.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct registry {
    rs_server *server; /* NULL when RAGBATCH_REGISTRY_URL names one */
    char url[512];
} registry;

static void registry_open(registry *r) {
    const char *url = getenv("RAGBATCH_REGISTRY_URL");
    r->server = NULL;
    if (url && url[0]) {
        snprintf(r->url, sizeof r->url, "%s", url);
        return;
    }
    r->server = rs_server_start(NULL);
    ck_assert_ptr_nonnull(r->server);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d", rs_server_port(r->server));
}

static void registry_close(registry *r) {
    rs_server_stop(r->server);
    r->server = NULL;
}

/* The Avro producer's classpath (resolved by scripts/avro-java.sh). */
static const char *classpath(void) {
    static char cp[1024];
    char log[512];
    snprintf(log, sizeof log, "%s/tests/avro-java.log", RB_BUILD_DIR);
    const char *argv[] = {RB_SOURCE_DIR "/scripts/avro-java.sh", "fetch", NULL};
    harness_exec("scripts/avro-java.sh fetch", log, argv, 300);
    snprintf(cp, sizeof cp, "%s/.cache/avro/libs/*", RB_SOURCE_DIR);
    return cp;
}

START_TEST(avro_topic_stores_what_plain_json_does) {
    /* 45 created, 15 updated, 9 deleted: 69 records in one batch, over the
     * 64 from which the decode step runs its OpenMP loop. */
    enum { COUNT = 45, RECORDS = COUNT + (COUNT + 2) / 3 + (COUNT + 4) / 5 };
    registry reg;
    registry_open(&reg);
    char avro[128], plain[128];
    harness_unique("rb-avro", avro, sizeof avro);
    harness_unique("rb-avro-plain", plain, sizeof plain);
    harness_create_topic(avro, 1);
    harness_create_topic(plain, 1);
    char n[16], log[512];
    snprintf(n, sizeof n, "%d", COUNT);
    snprintf(log, sizeof log, "%s/tests/%s.producer.log", RB_BUILD_DIR, avro);
    const char *argv[] = {"java",
                          "-cp",
                          classpath(),
                          RB_SOURCE_DIR "/tests/java/AvroProductProducer.java",
                          harness_env("RAGBATCH_KAFKA_BOOTSTRAP"),
                          reg.url,
                          RB_SOURCE_DIR "/tests/data/avro/product.avsc",
                          avro,
                          plain,
                          n,
                          NULL};
    harness_exec("AvroProductProducer", log, argv, 180);

    const struct {
        const char *topic, *format;
    } runs[] = {{plain, "json"}, {avro, "avro"}, {avro, "auto"}};
    rb_sink *sinks[3];
    for (int r = 0; r < 3; r++) {
        char db[64], name[160], extra[768];
        harness_unique("rbavro", db, sizeof db);
        snprintf(name, sizeof name, "%s-%s", runs[r].topic, runs[r].format);
        snprintf(extra, sizeof extra, "source.value.format = %s\nschema.registry.url = %s\n",
                 runs[r].format, reg.url);
        char *text = harness_run_job(name, runs[r].topic, db, extra, 0);
        /* Nothing failed, nothing skipped. */
        ck_assert_msg(harness_progress_sum(text, "in") == RECORDS, "%s", text);
        ck_assert_int_eq(harness_progress_sum(text, "failed") +
                             harness_progress_sum(text, "skipped") +
                             harness_progress_sum(text, "dead_lettered"),
                         0);
        free(text);
        sinks[r] = harness_sink(db);
    }
    for (int i = 0; i < COUNT; i++) {
        char id[16];
        snprintf(id, sizeof id, "p-%d", i);
        rb_json_doc *docs[3];
        const rb_json *d[3];
        for (int r = 0; r < 3; r++) {
            docs[r] = harness_stored(sinks[r], id, runs[r].format);
            d[r] = rb_json_doc_root(docs[r]);
        }
        ck_assert_int_eq(harness_member(d[0], "deleted", id)->boolean, i % 5 == 0);
        for (int r = 1; r < 3; r++) {
            const rb_json *t0 = rb_json_get(d[0], "event_time"),
                          *tr = rb_json_get(d[r], "event_time");
            ck_assert_int_eq(t0 != NULL, tr != NULL);
            if (t0)
                ck_assert_msg(t0->raw_len == tr->raw_len &&
                                  memcmp(t0->raw, tr->raw, t0->raw_len) == 0,
                              "%s event_time of %s: %.*s vs %.*s", runs[r].format, id,
                              (int)tr->raw_len, tr->raw, (int)t0->raw_len, t0->raw);
            harness_expect_same_stored(d[0], d[r], id, runs[r].format);
        }
        for (int r = 0; r < 3; r++) rb_json_doc_destroy(docs[r]);
    }
    for (int r = 0; r < 3; r++) rb_sink_destroy(sinks[r]);
    registry_close(&reg);
}
END_TEST

/* ---- what does not decode --------------------------------------------- */

typedef struct dlq_seen {
    int count;
    char keys[8][32];
    char ids[8][32]; /* ragbatch.error.schema.id, "" when absent */
    char msgs[8][512];
} dlq_seen;

static int on_dlq(const rb_dlq_record *rec, void *ctx) {
    dlq_seen *s = ctx;
    if (s->count == 8) return 0;
    snprintf(s->keys[s->count], sizeof s->keys[0], "%.*s", (int)rec->key_len,
             rec->key ? rec->key : "");
    char buf[512];
    const char *id = rb_dlq_header(rec, "ragbatch.error.schema.id", buf, sizeof buf);
    snprintf(s->ids[s->count], sizeof s->ids[0], "%s", id ? id : "");
    const char *m = rb_dlq_header(rec, "__connect.errors.exception.message", buf, sizeof buf);
    snprintf(s->msgs[s->count], sizeof s->msgs[0], "%s", m ? m : "");
    s->count++;
    return 0;
}

START_TEST(undecodable_values_are_dead_lettered_and_an_absent_registry_is_not) {
    registry reg;
    registry_open(&reg);
    char *schema = harness_slurp(RB_SOURCE_DIR "/tests/data/avro/product.avsc");
    harness_case c;
    harness_case_open(&c, "avro-bad", 1);
    char subject[192];
    snprintf(subject, sizeof subject, "%s-value", c.topic);
    unsigned id = rs_register_typed(reg.url, NULL, subject, "AVRO", schema);
    free(schema);
    char dlq[160];
    snprintf(dlq, sizeof dlq, "%s.dlq", c.topic);
    harness_create_topic(dlq, 1);

    enc good = {.n = 0}, other = {.n = 0};
    e_product(&good, "p-good", true);
    e_product(&other, "p-404", true);
    static char v_good[8192], v_404[8192], v_cut[8192];
    size_t n_good = e_frame(id, &good, v_good, sizeof v_good);
    size_t n_404 = e_frame(2000000000u, &other, v_404, sizeof v_404);
    enc cut = good;
    cut.n -= 3;
    size_t n_cut = e_frame(id, &cut, v_cut, sizeof v_cut);
    const harness_msg msgs[] = {
        {"p-good", v_good, n_good, 0},
        {"p-404", v_404, n_404, 0},
        {"p-cut", v_cut, n_cut, 0},
        {"p-json", "{\"product_id\":\"p-json\"}", 0, 0},
    };
    harness_produce(c.topic, msgs, 4);
    char extra[1024];
    snprintf(extra, sizeof extra,
             "source.value.format = avro\nschema.registry.url = %s\n"
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n"
             "errors.deadletterqueue.context.headers.enable = true\n",
             reg.url, dlq);
    harness_case_job(&c, extra);
    ck_assert_int_eq(harness_case_run(&c, NULL), 0);
    harness_progress p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 4);
    ck_assert_int_eq(p.stored, 1);
    ck_assert_int_eq(p.dead_lettered, 3);
    ck_assert_int_eq(harness_committed_total(c.topic, c.topic), 4);

    const char *props[] = {NULL};
    char bootstrap[512];
    snprintf(bootstrap, sizeof bootstrap, "bootstrap.servers=%s",
             harness_env("RAGBATCH_KAFKA_BOOTSTRAP"));
    props[0] = bootstrap;
    rb_error err;
    rb_dlq_reader *rd = rb_dlq_reader_new(dlq, NULL, props, 1, &err);
    ck_assert_msg(rd != NULL, "%s", err.msg);
    dlq_seen seen = {0};
    ck_assert_msg(rb_dlq_read(rd, on_dlq, &seen, &err) == 0, "%s", err.msg);
    rb_dlq_reader_destroy(rd);
    ck_assert_int_eq(seen.count, 3);
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%u", id);
    ck_assert_str_eq(seen.keys[0], "p-404");
    ck_assert_str_eq(seen.ids[0], "2000000000");
    ck_assert_msg(strstr(seen.msgs[0], "2000000000") && strstr(seen.msgs[0], "404"), "%s",
                  seen.msgs[0]);
    ck_assert_str_eq(seen.keys[1], "p-cut");
    ck_assert_str_eq(seen.ids[1], idtext);
    ck_assert_msg(strstr(seen.msgs[1], "does not read"), "%s", seen.msgs[1]);
    ck_assert_str_eq(seen.keys[2], "p-json");
    ck_assert_str_eq(seen.ids[2], "");
    ck_assert_msg(strstr(seen.msgs[2], "magic byte"), "%s", seen.msgs[2]);

    /* The registry away: a value cannot be read, and that says nothing
     * about the record.  The job's registry URL is a port nothing listens
     * on (a test server's, stopped), and the record is produced before the
     * run, so nothing depends on timing. */
    rs_server *gone = rs_server_start(NULL);
    ck_assert_ptr_nonnull(gone);
    char dead[64];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d", rs_server_port(gone));
    rs_server_stop(gone);
    enc later = {.n = 0};
    e_product(&later, "p-later", true);
    static char v_later[8192];
    size_t n_later = e_frame(id, &later, v_later, sizeof v_later);
    const harness_msg more[] = {{"p-later", v_later, n_later, 0}};
    harness_produce(c.topic, more, 1);
    char extra_dead[1024];
    snprintf(extra_dead, sizeof extra_dead,
             "source.value.format = avro\nschema.registry.url = %s\n"
             "schema.registry.timeout.ms = 1000\n"
             "errors.tolerance = all\nerrors.deadletterqueue.topic.name = %s\n"
             "errors.deadletterqueue.context.headers.enable = true\n",
             dead, dlq);
    harness_case_job(&c, extra_dead);
    ck_assert_int_ne(harness_case_run(&c, NULL), 0);
    char *text = harness_slurp(c.log);
    ck_assert_msg(strstr(text, "not dead-lettered") != NULL, "%s", text);
    free(text);
    ck_assert_int_eq(harness_committed_total(c.topic, c.topic), 4);
    /* With the registry back, the same record is read and stored. */
    harness_case_job(&c, extra);
    ck_assert_int_eq(harness_case_run(&c, NULL), 0);
    p = harness_progress_read(c.log);
    ck_assert_int_eq(p.in, 1);
    ck_assert_int_eq(p.stored, 1);
    ck_assert_int_eq(harness_committed_total(c.topic, c.topic), 5);
    rd = rb_dlq_reader_new(dlq, NULL, props, 1, &err);
    ck_assert_msg(rd != NULL, "%s", err.msg);
    dlq_seen again = {0};
    ck_assert_msg(rb_dlq_read(rd, on_dlq, &again, &err) == 0, "%s", err.msg);
    rb_dlq_reader_destroy(rd);
    ck_assert_int_eq(again.count, 3); /* nothing more dead-lettered */
    char *json = NULL;
    ck_assert_msg(rb_sink_get_json(harness_case_sink(&c), "p-later", &json, &err) == 0, "%s",
                  err.msg);
    ck_assert_msg(json != NULL, "p-later is not stored");
    free(json);
    registry_close(&reg);
    harness_case_close(&c);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("avro_pipeline");
    TCase *tc = tcase_create("avro_pipeline");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, avro_topic_stores_what_plain_json_does);
    tcase_add_test(tc, undecodable_values_are_dead_lettered_and_an_absent_registry_is_not);
    suite_add_tcase(s, tc);
    return s;
}
