/*
 * check_avro.c -- Avro values (src/avro) as the pipeline's JSON documents,
 * the registry's Avro ids (src/registry), and Avro change events through
 * the decode stage (src/decode/avro_value.c).
 *
 * The binary bodies are written here by a small encoder that follows the
 * Avro specification (zig-zag varints, length-prefixed strings, blocks);
 * tests/check_avro_pipeline.c proves the same reading against values
 * written by the Apache Avro Java library.
 *
 * The registry cases run against RAGBATCH_REGISTRY_URL when it is set (a
 * real registry's Confluent-compatible API), else against the project's
 * registry test server (tests/servers/registry_server.c) started here.
 */
#include "avro_enc.h"
#include "check_main.h"
#include "avro/avro.h"
#include "common/buf.h"
#include "config/config.h"
#include "decode/decode.h"
#include "registry/registry.h"
#include "runner/runner_internal.h"
#include "transform/template.h"
#include "validate/schema.h"
#include "servers/registry_client.h"
#include "servers/registry_server.h"
#include "json/json.h"
#include "spawn.h"
#include "stage_fixture.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------- */

static rb_avro_schema *parse(const char *text) {
    rb_avro_schema *s = NULL;
    rb_error err;
    ck_assert_msg(rb_avro_schema_parse(text, strlen(text), "test schema", &s, &err) == 0, "%s",
                  err.msg);
    return s;
}

/* tests/data/avro/`name`, parsed. */
static rb_avro_schema *parse_file(const char *name) {
    char path[512];
    snprintf(path, sizeof path, RB_SOURCE_DIR "/tests/data/avro/%s", name);
    char *text = spawn_slurp(path, NULL);
    rb_avro_schema *s = parse(text);
    free(text);
    return s;
}

/* The JSON text of `e` read with `s` (fails the test when it does not read). */
static char *to_json(const rb_avro_schema *s, const enc *e) {
    rb_buf out;
    rb_buf_init(&out);
    rb_error err;
    ck_assert_msg(rb_avro_to_json(s, (const char *)e->b, e->n, &out, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(out.data);
    return rb_buf_detach(&out);
}

static int to_json_fails(const rb_avro_schema *s, const enc *e, rb_error *err) {
    rb_buf out;
    rb_buf_init(&out);
    int rc = rb_avro_to_json(s, (const char *)e->b, e->n, &out, err);
    rb_buf_free(&out);
    return rc;
}

/* ---- the JSON form of each type --------------------------------------- */

START_TEST(product_reads_as_its_json_event) {
    rb_avro_schema *s = parse_file("product.avsc");
    ck_assert(!rb_avro_schema_is_change_event(s));
    enc e = {.n = 0};
    e_product(&e, "p-1", true);
    char *json = to_json(s, &e);
    ck_assert_str_eq(json, "{\"product_id\":\"p-1\",\"event_type\":\"updated\","
                           "\"event_time\":\"2026-12-01T10:30:05.250Z\",\"version\":7,"
                           "\"name\":\"Trail \\\"Lamp\\\" \xc3\xa9\",\"description\":\"Bright.\","
                           "\"brand\":\"Kestrel\",\"category\":\"kitchen\",\"price\":89.0,"
                           "\"currency\":\"EUR\",\"tags\":[\"a\",\"b\"],\"in_stock\":true,"
                           "\"attributes\":{\"color\":\"red\"}}");
    free(json);
    rb_avro_schema_destroy(s);
}
END_TEST

START_TEST(logical_types_and_named_references) {
    rb_avro_schema *s = parse_file("logical.avsc");
    enc e = {.n = 0};
    e_long(&e, 20788);
    e_long(&e, -1);
    e_long(&e, 37805250);
    e_long(&e, 37805250123);
    e_long(&e, 1796121005250);
    e_long(&e, -1);
    e_long(&e, 1796121005250123);
    e_long(&e, INT64_C(1796121005250123456));
    e_long(&e, 1796121005250);
    e_bytes(&e, "\x07\xd0", 2);       /* 2000 -> 20.00 */
    e_bytes(&e, "\xff\x38", 2);       /* -200 -> -2.00 */
    e_raw(&e, "\x00\x00\x30\x39", 4); /* 12345 -> 12.345 */
    e_raw(&e, "\xff\xff\xff\xff", 4); /* -1 -> -0.001 */
    e_raw(&e, "\x00\x00\x00\x05", 4); /* 0.005 */
    e_long(&e, 1);                    /* GREEN */
    e_long(&e, 0);                    /* RED */
    e_str(&e, "0b5b7c1e-9d3f-4a51-8f0e-2c1d3e4f5a6b");
    e_raw(&e, "\x0b\x5b\x7c\x1e\x9d\x3f\x4a\x51\x8f\x0e\x2c\x1d\x3e\x4f\x5a\x6b", 16);
    e_long(&e, 1), e_long(&e, 1796121005250123);
    e_long(&e, 0);
    e_long(&e, 1), e_str(&e, "k"), e_long(&e, 0), e_long(&e, 0);
    e_str(&e, "2026-12-01");
    e_bytes(&e, "\x00\xff\x10", 3);
    e_float(&e, 0.1f);
    e_double(&e, 1e300);
    e_long(&e, -42);
    char *json = to_json(s, &e);
    ck_assert_str_eq(json, "{\"d\":\"2026-12-01\",\"d0\":\"1969-12-31\",\"tm\":\"10:30:05.250\","
                           "\"tu\":\"10:30:05.250123\",\"ts\":\"2026-12-01T10:30:05.250Z\","
                           "\"tsneg\":\"1969-12-31T23:59:59.999Z\","
                           "\"tsu\":\"2026-12-01T10:30:05.250123Z\","
                           "\"tsn\":\"2026-12-01T10:30:05.250123456Z\","
                           "\"lts\":\"2026-12-01T10:30:05.250\",\"dec\":20.00,\"decneg\":-2.00,"
                           "\"money\":12.345,\"money2\":-0.001,"
                           "\"inner\":{\"m\":0.005,\"e\":\"GREEN\"},\"color\":\"RED\","
                           "\"u\":\"0b5b7c1e-9d3f-4a51-8f0e-2c1d3e4f5a6b\","
                           "\"uf\":\"0b5b7c1e-9d3f-4a51-8f0e-2c1d3e4f5a6b\","
                           "\"opt\":\"2026-12-01T10:30:05.250123Z\",\"optnull\":null,"
                           "\"days\":{\"k\":\"1970-01-01\"},\"wrong\":\"2026-12-01\","
                           "\"bin\":\"AP8Q\",\"f\":0.1,\"big\":1e+300,\"i\":-42}");
    /* The JSON it makes is JSON. */
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_msg(rb_json_parse(json, strlen(json), NULL, &doc, &err) == 0, "%s", err.msg);
    rb_json_doc_destroy(doc);
    free(json);
    rb_avro_schema_destroy(s);
}
END_TEST

/* Connect's AvroConverter writes Debezium's time types with connect.name
 * and no logicalType; a logicalType, when present, wins. */
START_TEST(connect_names_give_debezium_time_types) {
    rb_avro_schema *s = parse(
        "{\"type\":\"record\",\"name\":\"Value\",\"fields\":["
        "{\"name\":\"d\",\"type\":{\"type\":\"int\",\"connect.version\":1,"
        "\"connect.name\":\"io.debezium.time.Date\"}},"
        "{\"name\":\"ts\",\"type\":[\"null\",{\"type\":\"long\",\"connect.version\":1,"
        "\"connect.name\":\"io.debezium.time.MicroTimestamp\"}]},"
        "{\"name\":\"t\",\"type\":{\"type\":\"long\",\"connect.name\":"
        "\"io.debezium.time.MicroTime\"}},"
        "{\"name\":\"z\",\"type\":{\"type\":\"string\",\"connect.name\":"
        "\"io.debezium.time.ZonedTimestamp\"}},"
        "{\"name\":\"both\",\"type\":{\"type\":\"long\",\"logicalType\":"
        "\"timestamp-millis\",\"connect.name\":\"org.apache.kafka.connect.data.Timestamp\"}},"
        "{\"name\":\"n\",\"type\":\"long\"}]}");
    enc e = {.n = 0};
    e_long(&e, 20788);
    e_long(&e, 1), e_long(&e, 1796121005250123);
    e_long(&e, 37805250123);
    e_str(&e, "2026-12-01T10:30:05.25Z");
    e_long(&e, 1796121005250);
    e_long(&e, 1796121005250);
    char *json = to_json(s, &e);
    ck_assert_str_eq(json, "{\"d\":\"2026-12-01\",\"ts\":\"2026-12-01T10:30:05.250123Z\","
                           "\"t\":\"10:30:05.250123\",\"z\":\"2026-12-01T10:30:05.25Z\","
                           "\"both\":\"2026-12-01T10:30:05.250Z\",\"n\":1796121005250}");
    free(json);
    rb_avro_schema_destroy(s);
}
END_TEST

/* ---- what does not read ------------------------------------------------ */

START_TEST(bodies_that_do_not_read_fail_naming_the_schema) {
    rb_avro_schema *s = parse_file("product.avsc");
    enc e = {.n = 0};
    e_product(&e, "p-1", false);
    rb_error err;
    /* Truncated anywhere. */
    for (size_t cut = 0; cut < e.n; cut++) {
        enc t = e;
        t.n = cut;
        ck_assert_msg(to_json_fails(s, &t, &err) != 0, "a body cut at %zu read", cut);
        ck_assert_int_eq(err.stage, RB_STAGE_DESERIALIZE);
        ck_assert_msg(strstr(err.msg, "test schema") != NULL, "%s", err.msg);
        /* Only this failure: libavro-c's buffer is cleared before each read. */
        ck_assert_msg(strstr(err.msg, "No field named") == NULL &&
                          strstr(err.msg, "Cannot read 1 bytes from memory bufferCannot") == NULL,
                      "%s", err.msg);
        ck_assert(!err.retriable);
    }
    /* The message says where: inside the name (after id, type, time, version). */
    enc in_name = e;
    in_name.n = 3 + 1 + 6 + 1 + 3;
    ck_assert_int_ne(to_json_fails(s, &in_name, &err), 0);
    ck_assert_msg(strstr(err.msg, "field 'name' at byte") && strstr(err.msg, "truncated"), "%s",
                  err.msg);
    /* A byte too many. */
    enc t = e;
    e_raw(&t, "\x00", 1);
    ck_assert_int_ne(to_json_fails(s, &t, &err), 0);
    ck_assert_msg(strstr(err.msg, "bytes left") != NULL, "%s", err.msg);
    /* A string of negative length, and one that is not UTF-8. */
    enc neg = {.n = 0};
    e_long(&neg, -1);
    ck_assert_int_ne(to_json_fails(s, &neg, &err), 0);
    enc bad = {.n = 0};
    e_str(&bad, "p-\xff");
    ck_assert_int_ne(to_json_fails(s, &bad, &err), 0);
    /* A NUL in a string (valid Avro, refused as in JSON; found by
     * tests/fuzz/fuzz_avro.c: the JSON written did not parse). */
    enc nul = {.n = 0};
    e_bytes(&nul, "p\0x", 3);
    ck_assert_int_ne(to_json_fails(s, &nul, &err), 0);
    ck_assert_msg(strstr(err.msg, "field 'product_id'") && strstr(err.msg, "NUL"), "%s", err.msg);
    /* A union branch the schema does not have. */
    enc br = {.n = 0};
    e_str(&br, "p-1"), e_long(&br, 1), e_long(&br, 0), e_long(&br, 1), e_str(&br, "n");
    e_long(&br, 5);
    ck_assert_int_ne(to_json_fails(s, &br, &err), 0);
    rb_avro_schema_destroy(s);

    /* What JSON cannot hold, and what RFC 3339 cannot. */
    rb_avro_schema *d = parse("{\"type\":\"record\",\"name\":\"D\",\"fields\":[{\"name\":\"x\","
                              "\"type\":\"double\"}]}");
    enc nan = {.n = 0};
    e_double(&nan, NAN);
    ck_assert_int_ne(to_json_fails(d, &nan, &err), 0);
    ck_assert_msg(strstr(err.msg, "field 'x'") && strstr(err.msg, "NaN"), "%s", err.msg);
    rb_avro_schema_destroy(d);
    rb_avro_schema *dt = parse("{\"type\":\"record\",\"name\":\"D\",\"fields\":[{\"name\":\"day\","
                               "\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}}]}");
    enc far = {.n = 0};
    e_long(&far, 3000000);
    ck_assert_int_ne(to_json_fails(dt, &far, &err), 0);
    ck_assert_msg(strstr(err.msg, "field 'day'") != NULL, "%s", err.msg);
    rb_avro_schema_destroy(dt);
}
END_TEST

static void refused(const char *schema, const char *needle) {
    rb_avro_schema *s = NULL;
    rb_error err;
    ck_assert_int_ne(rb_avro_schema_parse(schema, strlen(schema), "schema registry id 9", &s,
                                          &err),
                     0);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert_msg(strstr(err.msg, "schema registry id 9") && strstr(err.msg, needle), "%s",
                  err.msg);
}

START_TEST(schemas_that_cannot_be_read_safely_are_refused) {
    refused("{\"type\":\"record\",\"name\":", "not an Avro schema");
    refused("{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"next\","
            "\"type\":[\"null\",\"Node\"]}]}",
            "contains itself");
    refused("{\"type\":\"array\",\"items\":\"null\"}", "take no bytes");
    refused("{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{"
            "\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}}}]}",
            "take no bytes");
}
END_TEST

/* ---- the registry's Avro ids ------------------------------------------- */

typedef struct registry_env {
    rs_server *server; /* NULL when RAGBATCH_REGISTRY_URL names a registry */
    char url[512];
} registry_env;

static void registry_open(registry_env *env) {
    const char *url = getenv("RAGBATCH_REGISTRY_URL");
    env->server = NULL;
    if (url && url[0]) {
        snprintf(env->url, sizeof env->url, "%s", url);
        return;
    }
    env->server = rs_server_start(NULL);
    ck_assert_ptr_nonnull(env->server);
    snprintf(env->url, sizeof env->url, "http://127.0.0.1:%d", rs_server_port(env->server));
}

static rb_registry *registry_client(const char *url) {
    rb_registry_options o = {url, NULL, 2000};
    rb_registry *r = NULL;
    rb_error err;
    ck_assert_msg(rb_registry_new(&o, &r, &err) == 0, "%s", err.msg);
    return r;
}

START_TEST(registry_serves_avro_ids_and_says_what_is_retriable) {
    registry_env env;
    registry_open(&env);
    char *text = spawn_slurp(RB_SOURCE_DIR "/tests/data/avro/product.avsc", NULL);
    char subject[64];
    snprintf(subject, sizeof subject, "rb-avro-%ld-value", (long)getpid());
    unsigned id = rs_register_typed(env.url, NULL, subject, "AVRO", text);
    free(text);
    rb_registry *r = registry_client(env.url);
    enc e = {.n = 0};
    e_product(&e, "p-9", true);
    char v[8192];
    size_t n = e_frame(id, &e, v, sizeof v);
    rb_registry_frame fr;
    rb_error err;
    ck_assert_msg(rb_registry_read_frame(r, v, n, &fr, &err) == 0, "%s", err.msg);
    ck_assert(fr.framed);
    ck_assert_uint_eq(fr.id, id);
    ck_assert_ptr_null(fr.json);
    ck_assert_ptr_nonnull(fr.avro);
    ck_assert_ptr_eq(fr.payload, v + 5);
    rb_buf out;
    rb_buf_init(&out);
    ck_assert_msg(rb_avro_to_json(fr.avro, fr.payload, fr.payload_len, &out, &err) == 0, "%s",
                  err.msg);
    ck_assert(strstr(out.data, "\"product_id\":\"p-9\"") != NULL);
    rb_buf_free(&out);
    /* Cached: a second value of the id asks nothing. */
    uint64_t fetches = rb_registry_fetch_count(r);
    ck_assert_int_eq(rb_registry_read_frame(r, v, n, &fr, &err), 0);
    ck_assert_uint_eq(rb_registry_fetch_count(r), fetches);
    /* The JSON Schema entry point refuses an Avro id. */
    const char *payload;
    size_t plen;
    const rb_schema *js;
    ck_assert_int_ne(rb_registry_unwrap(r, v, n, &payload, &plen, &js, &err), 0);
    ck_assert_msg(strstr(err.msg, "AVRO") != NULL, "%s", err.msg);
    /* An id the registry does not have: 404, not retriable; the id is known. */
    n = e_frame(987654, &e, v, sizeof v);
    ck_assert_int_ne(rb_registry_read_frame(r, v, n, &fr, &err), 0);
    ck_assert(fr.framed);
    ck_assert_uint_eq(fr.id, 987654);
    ck_assert(!err.retriable);
    ck_assert_msg(strstr(err.msg, "987654") != NULL, "%s", err.msg);
    /* A short frame. */
    ck_assert_int_ne(rb_registry_read_frame(r, "\0\0\0", 3, &fr, &err), 0);
    ck_assert(!err.retriable);
    rb_registry_destroy(r);
    /* The registry down: retriable. */
    if (env.server) {
        int port = rs_server_port(env.server);
        rs_server_stop(env.server);
        char down[64];
        snprintf(down, sizeof down, "http://127.0.0.1:%d", port);
        r = registry_client(down);
        n = e_frame(id, &e, v, sizeof v);
        ck_assert_int_ne(rb_registry_read_frame(r, v, n, &fr, &err), 0);
        ck_assert(err.retriable);
        ck_assert_uint_eq(fr.id, id);
        rb_registry_destroy(r);
    }
}
END_TEST

/* ---- Avro change events through the decode stage ----------------------- */

/* A change event of tests/data/avro/debezium-envelope.avsc: Debezium's
 * envelope for a table products(id int, name text, price numeric(10,2)),
 * as its AvroConverter declares it (the source block abridged). */
static void encode_change(enc *e, const char *op, int id, const char *name, int64_t lsn) {
    bool del = op[0] == 'd';
    /* before: null, or the row for a delete */
    if (del)
        e_long(e, 1), e_long(e, id), e_long(e, 0), e_long(e, 0);
    else
        e_long(e, 0);
    if (del)
        e_long(e, 0);
    else
        e_long(e, 1), e_long(e, id), e_long(e, 1), e_str(e, name), e_long(e, 1),
            e_bytes(e, "\x07\xd2", 2);
    e_long(e, 1796121005250), e_str(e, "products"), e_long(e, 1), e_long(e, lsn);
    e_str(e, op);
    e_long(e, 1), e_long(e, 1796121005300);
}

START_TEST(debezium_change_events_in_avro_are_change_events) {
    char *envelope = spawn_slurp(RB_SOURCE_DIR "/tests/data/avro/debezium-envelope.avsc", NULL);
    rb_avro_schema *s = parse(envelope);
    free(envelope);
    ck_assert(rb_avro_schema_is_change_event(s));
    rb_decode_opts o = {.format = RB_FORMAT_AVRO, .id_field = "id"};
    rb_decode_spec spec;
    rb_error err;
    ck_assert_int_eq(rb_decode_spec_init(&spec, &o, &err), 0);
    enc e = {.n = 0};
    encode_change(&e, "u", 42, "Lamp", 123456789);
    rb_decoded d;
    ck_assert_msg(rb_decode_avro(&spec, s, (const char *)e.b, e.n, NULL, 0, &d, &err) == 0, "%s",
                  err.msg);
    ck_assert(d.is_change && !d.is_delete && d.has_version);
    ck_assert_int_eq(d.version, 123456789);
    ck_assert_int_eq(d.event_time_ms, 1796121005250);
    ck_assert_str_eq(rb_json_string(rb_json_get(d.row, "name")), "Lamp");
    const rb_json *price = rb_json_get(d.row, "price");
    ck_assert_int_eq(price->type, RB_JSON_NUMBER);
    ck_assert_int_eq((int)(price->number * 100 + 0.5), 2002);
    rb_decoded_free(&d);

    enc del = {.n = 0};
    encode_change(&del, "d", 42, NULL, 123456999);
    ck_assert_msg(rb_decode_avro(&spec, s, (const char *)del.b, del.n, NULL, 0, &d, &err) == 0,
                  "%s", err.msg);
    ck_assert(d.is_delete);
    ck_assert_str_eq(d.id, "42");
    ck_assert_int_eq(d.version, 123456999);
    rb_decoded_free(&d);

    /* debezium refuses an Avro schema that is not an envelope. */
    rb_decode_spec_free(&spec);
    o.format = RB_FORMAT_DEBEZIUM;
    o.id_field = "product_id";
    ck_assert_int_eq(rb_decode_spec_init(&spec, &o, &err), 0);
    char *text = spawn_slurp(RB_SOURCE_DIR "/tests/data/avro/product.avsc", NULL);
    rb_avro_schema *p = parse(text);
    free(text);
    enc pe = {.n = 0};
    e_product(&pe, "p-1", true);
    ck_assert_int_ne(rb_decode_avro(&spec, p, (const char *)pe.b, pe.n, NULL, 0, &d, &err), 0);
    ck_assert_msg(strstr(err.msg, "not a Debezium change event") != NULL, "%s", err.msg);
    rb_avro_schema_destroy(p);
    rb_decode_spec_free(&spec);
    rb_avro_schema_destroy(s);
}
END_TEST

/* source.value.format = avro needs a registry: a job without one is a
 * configuration error naming both keys, not a failure of every record. */
START_TEST(avro_format_needs_a_registry) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "source.topics=t", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "kafka.bootstrap.servers=127.0.0.1:9", "test", &err),
                     0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "embed.model.dir=/m", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "text.template={name}", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "mongo.database=d", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "mongo.collection=c", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "mongo.uri=mongodb://127.0.0.1:9/", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "source.value.format=avro", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_check(&cfg, &err), -1);
    ck_assert_msg(strstr(err.msg, "source.value.format = avro needs schema.registry.url"), "%s",
                  err.msg);
    ck_assert_int_eq(rb_job_config_set(&cfg, "schema.registry.url=http://127.0.0.1:9", "test",
                                       &err),
                     0);
    ck_assert_msg(rb_job_config_check(&cfg, &err) == 0, "%s", err.msg);
    rb_job_config_free(&cfg);
}
END_TEST

/* ---- the decode stage: frames by format, Avro keys, the registry away -- */

/* A runner's decode step with the product schema (unless ids come from
 * keys), tolerating failures, reading `format` with the registry at `url`. */
static void stage_open(stage_fixture *f, rb_value_format format, const char *url, bool id_from_key,
                       const char *id_field) {
    stage_fixture_open(f, true, !id_from_key);
    rb_runner *r = &f->r;
    r->spec = (rb_document_spec){.tpl = r->tpl,
                                 .id_field = id_field,
                                 .version_field = id_from_key ? "" : "version",
                                 .time_field = "",
                                 .op_field = ""};
    rb_error err;
    rb_decode_opts o = {.format = format, .id_from_key = id_from_key, .id_field = id_field};
    ck_assert_int_eq(rb_decode_spec_init(&r->decode, &o, &err), 0);
    rb_registry_options ro = {url, NULL, 1000};
    ck_assert_msg(rb_registry_new(&ro, &r->registry, &err) == 0, "%s", err.msg);
}

static rb_record *stage_add(stage_fixture *f, const char *key, size_t key_len, const char *value,
                            size_t len) {
    rb_error err;
    rb_record *rec = rb_batch_add(f->b, "t", 0, (int64_t)rb_batch_count(f->b), -1, key, key_len,
                                  value, len, &err);
    ck_assert_msg(rec != NULL, "%s", err.msg);
    return rec;
}

static void failed_with(const rb_record *rec, rb_record_state state, const char *needle) {
    ck_assert_int_eq(rec->state, state);
    ck_assert_int_eq(rec->fail_stage, RB_STAGE_DESERIALIZE);
    ck_assert_msg(rec->fail_reason && strstr(rec->fail_reason, needle), "'%s' not in: %s", needle,
                  rec->fail_reason ? rec->fail_reason : "(none)");
}

START_TEST(decode_stage_reads_frames_by_format) {
    registry_env env;
    registry_open(&env);
    char *text = spawn_slurp(RB_SOURCE_DIR "/tests/data/avro/product.avsc", NULL);
    char subject[64];
    snprintf(subject, sizeof subject, "rb-stage-%ld-value", (long)getpid());
    unsigned avro_id = rs_register_typed(env.url, NULL, subject, "AVRO", text);
    free(text);
    snprintf(subject, sizeof subject, "rb-stage-json-%ld-value", (long)getpid());
    unsigned json_id = rs_register_typed(env.url, NULL, subject, "JSON",
                                         "{\"type\":\"object\",\"required\":[\"name\"]}");
    enc e = {.n = 0};
    e_product(&e, "p-1", true);
    static char v_avro[8192], v_json[256], v_404[8192];
    size_t n_avro = e_frame(avro_id, &e, v_avro, sizeof v_avro);
    enc j = {.n = 0};
    const char *event = "{\"product_id\":\"p-2\",\"event_type\":\"created\",\"event_time\":"
                        "\"2026-11-24T10:00:00Z\",\"version\":1,\"name\":\"Two\"}";
    e_raw(&j, event, strlen(event));
    size_t n_json = e_frame(json_id, &j, v_json, sizeof v_json);
    size_t n_404 = e_frame(2000000001u, &e, v_404, sizeof v_404);

    /* avro: only Avro frames. */
    stage_fixture f;
    stage_open(&f, RB_FORMAT_AVRO, env.url, false, "product_id");
    rb_record *ok = stage_add(&f, "p-1", 3, v_avro, n_avro);
    rb_record *plain = stage_add(&f, "p-2", 3, event, strlen(event));
    rb_record *js = stage_add(&f, "p-2", 3, v_json, n_json);
    rb_record *missing = stage_add(&f, "p-1", 3, v_404, n_404);
    rb_runner_decode(&f.r, f.b);
    ck_assert_int_eq(ok->state, RB_REC_PENDING);
    ck_assert_str_eq(ok->id, "p-1");
    ck_assert_str_eq(ok->text, "Trail \"Lamp\" \xc3\xa9");
    ck_assert_int_eq(ok->version, 7);
    failed_with(plain, RB_REC_SKIPPED, "magic byte");
    failed_with(js, RB_REC_SKIPPED, "is a JSON Schema, not an Avro schema");
    failed_with(missing, RB_REC_SKIPPED, "2000000001");
    stage_fixture_close(&f);

    /* json: an Avro frame is refused, naming the format to set. */
    stage_open(&f, RB_FORMAT_JSON, env.url, false, "product_id");
    rb_record *refused = stage_add(&f, "p-1", 3, v_avro, n_avro);
    rb_record *still = stage_add(&f, "p-2", 3, v_json, n_json);
    rb_runner_decode(&f.r, f.b);
    failed_with(refused, RB_REC_SKIPPED, "set it to avro");
    ck_assert_int_eq(still->state, RB_REC_PENDING);
    stage_fixture_close(&f);

    /* auto: each frame by its schema's type, plain JSON as before. */
    stage_open(&f, RB_FORMAT_AUTO, env.url, false, "product_id");
    rb_record *a = stage_add(&f, "p-1", 3, v_avro, n_avro);
    rb_record *b = stage_add(&f, "p-2", 3, v_json, n_json);
    rb_record *c = stage_add(&f, "p-2", 3, event, strlen(event));
    rb_runner_decode(&f.r, f.b);
    ck_assert_int_eq(a->state, RB_REC_PENDING);
    ck_assert_int_eq(b->state, RB_REC_PENDING);
    ck_assert_int_eq(c->state, RB_REC_PENDING);
    ck_assert_str_eq(a->id, "p-1");
    stage_fixture_close(&f);

    /* The registry away: failed (not tolerated, so not dead-lettered). */
    if (env.server) {
        int port = rs_server_port(env.server);
        rs_server_stop(env.server);
        char down[64];
        snprintf(down, sizeof down, "http://127.0.0.1:%d", port);
        stage_open(&f, RB_FORMAT_AVRO, down, false, "product_id");
        rb_record *away = stage_add(&f, "p-1", 3, v_avro, n_avro);
        rb_runner_decode(&f.r, f.b);
        failed_with(away, RB_REC_FAILED, "not dead-lettered");
        stage_fixture_close(&f);
    }
}
END_TEST

/* Debezium with AvroConverter for keys and values: the key is an Avro
 * struct of the primary key, the id comes from it, and the tombstone after
 * a delete names the same document. */
START_TEST(avro_keys_name_documents) {
    registry_env env;
    registry_open(&env);
    char subject[64];
    snprintf(subject, sizeof subject, "rb-dbz-%ld-value", (long)getpid());
    char *envelope = spawn_slurp(RB_SOURCE_DIR "/tests/data/avro/debezium-envelope.avsc", NULL);
    unsigned env_id = rs_register_typed(env.url, NULL, subject, "AVRO", envelope);
    free(envelope);
    snprintf(subject, sizeof subject, "rb-dbz-%ld-key", (long)getpid());
    unsigned key_id = rs_register_typed(env.url, NULL, subject, "AVRO",
                                        "{\"type\":\"record\",\"name\":\"Key\",\"namespace\":\"pg."
                                        "public.products\","
                                        "\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}");
    enc k = {.n = 0}, v = {.n = 0};
    e_long(&k, 42);
    encode_change(&v, "u", 42, "Lamp", 5000);
    static char key[64], value[8192];
    size_t nk = e_frame(key_id, &k, key, sizeof key);
    size_t nv = e_frame(env_id, &v, value, sizeof value);
    stage_fixture f;
    stage_open(&f, RB_FORMAT_AVRO, env.url, true, "id");
    rb_record *up = stage_add(&f, key, nk, value, nv);
    rb_record *tomb = stage_add(&f, key, nk, NULL, 0);
    rb_runner_decode(&f.r, f.b);
    ck_assert_msg(up->state == RB_REC_PENDING, "%s", up->fail_reason ? up->fail_reason : "");
    ck_assert_str_eq(up->id, "42");
    ck_assert_int_eq(up->version, 5000);
    ck_assert_str_eq(up->text, "Lamp");
    ck_assert_msg(tomb->state == RB_REC_PENDING, "%s", tomb->fail_reason ? tomb->fail_reason : "");
    ck_assert_int_eq(tomb->op, RB_OP_HARD_DELETE);
    ck_assert_str_eq(tomb->id, "42");
    stage_fixture_close(&f);
    rs_server_stop(env.server);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("avro");
    TCase *tc = tcase_create("avro");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, product_reads_as_its_json_event);
    tcase_add_test(tc, logical_types_and_named_references);
    tcase_add_test(tc, connect_names_give_debezium_time_types);
    tcase_add_test(tc, bodies_that_do_not_read_fail_naming_the_schema);
    tcase_add_test(tc, schemas_that_cannot_be_read_safely_are_refused);
    tcase_add_test(tc, registry_serves_avro_ids_and_says_what_is_retriable);
    tcase_add_test(tc, debezium_change_events_in_avro_are_change_events);
    tcase_add_test(tc, avro_format_needs_a_registry);
    tcase_add_test(tc, decode_stage_reads_frames_by_format);
    tcase_add_test(tc, avro_keys_name_documents);
    suite_add_tcase(s, tc);
    return s;
}
