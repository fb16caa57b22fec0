/*
 * check_registry.c -- the Confluent Schema Registry wire format against a
 * registry test server (tests/servers/registry_server.c) on loopback:
 * schemas are registered through POST /subjects/{subject}/versions and
 * fetched by ragbatch through GET /schemas/ids/{id}, at the root or, as
 * Apicurio Registry serves it, under /apis/ccompat/v7.
 */
#include "check_main.h"
#include "common/buf.h"
#include "registry/registry.h"
#include "servers/registry_client.h"
#include "servers/registry_server.h"
#include "json/json.h"
#include "validate/schema.h"

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char product_schema[] =
    "{\"type\":\"object\",\"required\":[\"name\"],\"additionalProperties\":false,"
    "\"properties\":{\"name\":{\"type\":\"string\",\"minLength\":1},"
    "\"price\":{\"type\":\"number\",\"minimum\":0}}}";

static rb_registry *open_registry(int port, const char *user_info, long timeout_ms) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    rb_registry_options o = {url, user_info, timeout_ms};
    rb_registry *r = NULL;
    rb_error err;
    ck_assert_msg(rb_registry_new(&o, &r, &err) == 0, "%s", err.msg);
    return r;
}

/* Unwraps, parses and validates; returns 0 if valid, fills err otherwise. */
static int unwrap_validate(rb_registry *r, const char *v, size_t len, rb_error *err) {
    const char *payload = NULL;
    size_t plen = 0;
    const rb_schema *schema = NULL;
    if (rb_registry_unwrap(r, v, len, &payload, &plen, &schema, err) != 0) return -1;
    ck_assert_ptr_nonnull(schema);
    ck_assert_ptr_eq(payload, v + 5);
    rb_json_doc *doc = NULL;
    if (rb_json_parse(payload, plen, NULL, &doc, err) != 0) return -1;
    int rc = rb_schema_validate(schema, rb_json_doc_root(doc), NULL, 0, err);
    rb_json_doc_destroy(doc);
    return rc;
}

START_TEST(good_and_bad_payloads) {
    rs_server *s = rs_server_start(NULL);
    ck_assert_ptr_nonnull(s);
    unsigned id = rs_register_schema(rs_server_port(s), NULL, "products-value", product_schema);
    rb_registry *r = open_registry(rs_server_port(s), NULL, 2000);
    char v[512];
    rb_error err;
    size_t n = rs_frame(id, "{\"name\":\"Lamp\",\"price\":12.5}", v, sizeof v);
    ck_assert_msg(unwrap_validate(r, v, n, &err) == 0, "%s", err.msg);
    n = rs_frame(id, "{\"name\":\"Lamp\",\"price\":-1}", v, sizeof v);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert_ptr_nonnull(strstr(err.msg, "/price"));
    n = rs_frame(id, "{\"price\":1}", v, sizeof v);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "\"name\""));
    n = rs_frame(id, "{\"name\":\"x\",", v, sizeof v); /* framed but not JSON */
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_JSON);
    rb_registry_destroy(r);
    rs_server_stop(s);
}
END_TEST

START_TEST(plain_values_pass_through) {
    rb_registry *r = open_registry(1, NULL, 500); /* never contacted */
    const char *v = "{\"name\":\"x\"}";
    const char *payload = NULL;
    size_t plen = 0;
    const rb_schema *schema = (const rb_schema *)1;
    rb_error err;
    ck_assert_int_eq(rb_registry_unwrap(r, v, strlen(v), &payload, &plen, &schema, &err), 0);
    ck_assert_ptr_eq(payload, v);
    ck_assert_uint_eq(plen, strlen(v));
    ck_assert_ptr_null(schema);
    ck_assert_int_eq(rb_registry_unwrap(NULL, v, strlen(v), &payload, &plen, &schema, &err), 0);
    ck_assert_uint_eq(rb_registry_fetch_count(r), 0);
    /* A truncated header and a frame without a registry are errors. */
    ck_assert_int_eq(rb_registry_unwrap(r, "\0\0\0", 3, &payload, &plen, &schema, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert(!err.retriable);
    ck_assert_int_eq(rb_registry_unwrap(NULL, "\0\0\0\0\7{}", 7, &payload, &plen, &schema, &err),
                     -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "schema.registry.url"));
    ck_assert_ptr_nonnull(strstr(err.msg, " 7 "));
    ck_assert_uint_eq(rb_registry_fetch_count(r), 0);
    rb_registry_destroy(r);
}
END_TEST

START_TEST(unknown_id_names_the_id) {
    rs_server *s = rs_server_start(NULL);
    rb_registry *r = open_registry(rs_server_port(s), NULL, 2000);
    char v[64];
    size_t n = rs_frame(0x01020304u, "{}", v, sizeof v);
    const char *payload = NULL;
    size_t plen = 0;
    const rb_schema *schema = NULL;
    rb_error err;
    ck_assert_int_eq(rb_registry_unwrap(r, v, n, &payload, &plen, &schema, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert_int_eq(err.stage, RB_STAGE_DESERIALIZE);
    ck_assert(!err.retriable);
    ck_assert_msg(strstr(err.msg, "schema id 16909060") != NULL, "%s", err.msg);
    ck_assert_ptr_null(payload);
    rb_registry_destroy(r);
    rs_server_stop(s);
}
END_TEST

START_TEST(registry_down_is_retriable) {
    rs_server *s = rs_server_start(NULL);
    int port = rs_server_port(s);
    unsigned id = rs_register_schema(port, NULL, "down-value", product_schema);
    rb_registry *r = open_registry(port, NULL, 1000);
    char v[128];
    rb_error err;
    size_t n = rs_frame(id, "{\"name\":\"a\"}", v, sizeof v);
    ck_assert_msg(unwrap_validate(r, v, n, &err) == 0, "%s", err.msg);
    rs_server_stop(s);
    /* The cached id still works without the registry... */
    ck_assert_msg(unwrap_validate(r, v, n, &err) == 0, "%s", err.msg);
    /* ...an id not yet seen is a retriable HTTP error, not a bad record. */
    n = rs_frame(id + 1, "{\"name\":\"a\"}", v, sizeof v);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_HTTP);
    ck_assert(err.retriable);
    ck_assert_int_eq(err.stage, RB_STAGE_DESERIALIZE);
    rb_registry_destroy(r);

    /* Credentials written into the URL stay out of the message too. */
    char url[96];
    snprintf(url, sizeof url, "http://u:pw-in-url@127.0.0.1:%d/", port);
    rb_registry_options o = {url, NULL, 1000};
    ck_assert_int_eq(rb_registry_new(&o, &r, &err), 0);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert(err.retriable);
    ck_assert_msg(strstr(err.msg, "pw-in-url") == NULL && strstr(err.msg, "127.0.0.1") != NULL,
                  "%s", err.msg);
    rb_registry_destroy(r);
}
END_TEST

START_TEST(basic_auth_is_sent_and_never_printed) {
    rs_server *s = rs_server_start("reader:s3cr3t-pw");
    int port = rs_server_port(s);
    unsigned id = rs_register_schema(port, "reader:s3cr3t-pw", "auth-value", product_schema);
    rb_registry *r = open_registry(port, "reader:s3cr3t-pw", 2000);
    char v[128];
    rb_error err;
    size_t n = rs_frame(id, "{\"name\":\"a\"}", v, sizeof v);
    ck_assert_msg(unwrap_validate(r, v, n, &err) == 0, "%s", err.msg);
    rs_stats st;
    rs_server_stats(s, &st);
    /* base64("reader:s3cr3t-pw") */
    ck_assert_str_eq(st.last_auth, "Basic cmVhZGVyOnMzY3IzdC1wdw==");
    rb_registry_destroy(r);

    r = open_registry(port, "reader:wrong-pw", 2000);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_HTTP);
    ck_assert(err.retriable);
    ck_assert_msg(strstr(err.msg, "401") && strstr(err.msg, "basic.auth.user.info"), "%s",
                  err.msg);
    ck_assert_ptr_null(strstr(err.msg, "wrong-pw"));
    rb_registry_destroy(r);
    r = open_registry(port, NULL, 2000);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    rs_server_stats(s, &st);
    ck_assert_str_eq(st.last_auth, "");
    ck_assert_uint_eq(st.unauthorized, 2);
    rb_registry_destroy(r);
    rs_server_stop(s);
}
END_TEST

typedef struct worker_arg {
    rb_registry *r;
    const char *v;
    size_t n;
    int failures;
} worker_arg;

static void *worker(void *p) {
    worker_arg *a = p;
    for (int i = 0; i < 50; i++) {
        const char *payload;
        size_t plen;
        const rb_schema *schema;
        rb_error err;
        if (rb_registry_unwrap(a->r, a->v, a->n, &payload, &plen, &schema, &err) != 0 ||
            schema == NULL)
            a->failures++;
    }
    return NULL;
}

START_TEST(cache_fetches_each_id_once) {
    rs_server *s = rs_server_start(NULL);
    int port = rs_server_port(s);
    unsigned id = rs_register_schema(port, NULL, "cache-value", product_schema);
    ck_assert_uint_eq(rs_register_schema(port, NULL, "cache-value", product_schema), id);
    rb_registry *r = open_registry(port, NULL, 2000);
    char v[128];
    size_t n = rs_frame(id, "{\"name\":\"a\"}", v, sizeof v);
    /* Eight threads ask for the same unseen id at once: one fetch. */
    pthread_t t[8];
    worker_arg a[8];
    for (int i = 0; i < 8; i++) {
        a[i] = (worker_arg){r, v, n, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, &a[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(a[i].failures, 0);
    }
    ck_assert_uint_eq(rs_server_gets_of(s, id), 1);
    ck_assert_uint_eq(rb_registry_fetch_count(r), 1);
    /* The same schema pointer every time. */
    const rb_schema *s1 = NULL, *s2 = NULL;
    rb_error err;
    ck_assert_int_eq(rb_registry_schema(r, id, &s1, &err), 0);
    ck_assert_int_eq(rb_registry_schema(r, id, &s2, &err), 0);
    ck_assert_ptr_eq(s1, s2);
    ck_assert_uint_eq(rs_server_gets_of(s, id), 1);
    rb_registry_destroy(r);
    rs_server_stop(s);
}
END_TEST

START_TEST(unsupported_schema_names_the_registry_id) {
    rs_server *s = rs_server_start(NULL);
    int port = rs_server_port(s);
    unsigned id = rs_register_schema(port, NULL, "bad-value",
                                     "{\"type\":\"object\",\"properties\":{\"n\":"
                                     "{\"type\":\"number\",\"unevaluatedProperties\":false}}}");
    rb_registry *r = open_registry(port, NULL, 2000);
    char v[64];
    rb_error err;
    size_t n = rs_frame(id, "{}", v, sizeof v);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert(!err.retriable);
    char want[64];
    snprintf(want, sizeof want, "schema registry id %u", id);
    ck_assert_msg(strstr(err.msg, want) && strstr(err.msg, "unevaluatedProperties"), "%s",
                  err.msg);
    rb_registry_destroy(r);
    rs_server_stop(s);
}
END_TEST

/* Apicurio Registry serves the Confluent API under /apis/ccompat/v7: that
 * URL, with or without a trailing '/', is the base URL. */
START_TEST(ccompat_prefix_is_the_base_url) {
    rs_server *s = rs_server_start_at(NULL, "/apis/ccompat/v7");
    ck_assert_ptr_nonnull(s);
    char base[96];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/apis/ccompat/v7", rs_server_port(s));
    unsigned id = rs_register_schema_url(base, NULL, "ccompat-value", product_schema);
    char v[128];
    rb_error err;
    size_t n = rs_frame(id, "{\"name\":\"Lamp\"}", v, sizeof v);
    const char *suffixes[] = {"", "/"};
    for (int i = 0; i < 2; i++) {
        char url[128];
        snprintf(url, sizeof url, "%s%s", base, suffixes[i]);
        rb_registry_options o = {url, NULL, 2000};
        rb_registry *r = NULL;
        ck_assert_msg(rb_registry_new(&o, &r, &err) == 0, "%s", err.msg);
        ck_assert_msg(unwrap_validate(r, v, n, &err) == 0, "%s: %s", url, err.msg);
        /* An id the registry does not have is still a bad record (40403). */
        size_t m = rs_frame(id + 7, "{}", v + 64, sizeof v - 64);
        ck_assert_int_eq(unwrap_validate(r, v + 64, m, &err), -1);
        ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
        ck_assert(!err.retriable);
        rb_registry_destroy(r);
    }
    rs_server_stop(s);
}
END_TEST

/* A base URL without Apicurio's prefix reaches no API: every id answers a
 * plain 404, not Confluent's "schema not found" (40403). That is the job's
 * configuration, not the records': retriable, nothing is dead-lettered. */
START_TEST(wrong_base_url_is_not_a_missing_schema) {
    rs_server *s = rs_server_start_at(NULL, "/apis/ccompat/v7");
    ck_assert_ptr_nonnull(s);
    int port = rs_server_port(s);
    char base[96];
    snprintf(base, sizeof base, "http://127.0.0.1:%d/apis/ccompat/v7", port);
    unsigned id = rs_register_schema_url(base, NULL, "prefix-value", product_schema);
    rb_registry *r = open_registry(port, NULL, 2000); /* the prefix left out */
    char v[128];
    rb_error err;
    size_t n = rs_frame(id, "{\"name\":\"Lamp\"}", v, sizeof v);
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_HTTP);
    ck_assert(err.retriable);
    ck_assert_int_eq(err.stage, RB_STAGE_DESERIALIZE);
    ck_assert_msg(strstr(err.msg, "404") && strstr(err.msg, "schema.registry.url") &&
                      strstr(err.msg, "/apis/ccompat/v7"),
                  "%s", err.msg);
    /* Nothing was cached: the same id is asked for again. */
    ck_assert_int_eq(unwrap_validate(r, v, n, &err), -1);
    ck_assert_uint_eq(rb_registry_fetch_count(r), 2);
    rb_registry_destroy(r);
    rs_server_stop(s);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, good_and_bad_payloads);
    tcase_add_test(tc, plain_values_pass_through);
    tcase_add_test(tc, unknown_id_names_the_id);
    tcase_add_test(tc, registry_down_is_retriable);
    tcase_add_test(tc, basic_auth_is_sent_and_never_printed);
    tcase_add_test(tc, cache_fetches_each_id_once);
    tcase_add_test(tc, unsupported_schema_names_the_registry_id);
    tcase_add_test(tc, ccompat_prefix_is_the_base_url);
    tcase_add_test(tc, wrong_base_url_is_not_a_missing_schema);
    suite_add_tcase(s, tc);
    return s;
}
