/*
 * Unit tests for Kafka Connect's value formats and key-derived ids
 * (src/decode), and for the runner's decode step reading them: values
 * shaped as JsonConverter (connect-json 3.9.2) and Debezium 3.6
 * (PostgreSQL and MySQL connectors) write them.  No server is needed.
 */
#include "check_main.h"
#include "batch/batch.h"
#include "config/config.h"
#include "decode/decode.h"
#include "runner/decode_opts.h"
#include "runner/runner_internal.h"
#include "transform/document.h"
#include "transform/template.h"
#include "validate/schema.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A product as JsonConverter writes it with schemas.enable=true. */
static const char ENVELOPED_PRODUCT[] =
    "{\"schema\":{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"product_id\"},"
    "{\"type\":\"string\",\"optional\":true,\"field\":\"name\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"version\"}],"
    "\"optional\":false,\"name\":\"product\"},"
    "\"payload\":{\"product_id\":\"p-1\",\"name\":\"Trail shoe\",\"version\":3}}";

/* A Debezium PostgreSQL update, schemas.enable=false. */
static const char PG_UPDATE[] =
    "{\"before\":null,\"after\":{\"id\":7,\"name\":\"Kettle\",\"price\":19.5},"
    "\"source\":{\"version\":\"3.6.1.Final\",\"connector\":\"postgresql\",\"name\":\"shop\","
    "\"ts_ms\":1764590000123,\"snapshot\":\"false\",\"db\":\"shop\",\"schema\":\"public\","
    "\"table\":\"products\",\"txId\":771,\"lsn\":24023128,\"xmin\":null},"
    "\"transaction\":null,\"op\":\"u\",\"ts_ms\":1764590000456}";

static const char PG_DELETE[] =
    "{\"before\":{\"id\":7,\"name\":null,\"price\":null},\"after\":null,"
    "\"source\":{\"connector\":\"postgresql\",\"ts_ms\":1764590001000,\"table\":\"products\","
    "\"lsn\":24023300},\"op\":\"d\",\"ts_ms\":1764590001200}";

static rb_decode_spec spec_of(rb_value_format f, const char *const *fields, size_t n) {
    return (rb_decode_spec){.format = f, .id_fields = fields, .id_field_count = n};
}

static const char *const PRODUCT_ID[] = {"product_id"};
static const char *const ID[] = {"id"};

static void decode_ok(const rb_decode_spec *s, const char *value, const char *key, rb_decoded *d) {
    rb_error err;
    ck_assert_msg(rb_decode_value(s, value, strlen(value), key, key ? strlen(key) : 0, d, &err) ==
                      0,
                  "%s", err.msg);
}

static void decode_fails(const rb_decode_spec *s, const char *value, const char *key,
                         rb_stage stage, const char *needle) {
    rb_error err;
    rb_decoded d;
    ck_assert_int_eq(rb_decode_value(s, value, strlen(value), key, key ? strlen(key) : 0, &d,
                                     &err),
                     -1);
    ck_assert_msg(err.stage == stage, "stage %d for: %s", err.stage, err.msg);
    ck_assert_msg(strstr(err.msg, needle), "'%s' not in: %s", needle, err.msg);
    ck_assert_ptr_null(d.doc);
    ck_assert_ptr_null(d.id);
}

/* The defect of the issue: read as json, the envelope is the event and
 * has no product_id; read as connect-json (or auto) its payload is. */
START_TEST(envelope_payload_is_the_event) {
    rb_decode_spec json = spec_of(RB_FORMAT_JSON, PRODUCT_ID, 1);
    rb_decoded d;
    decode_ok(&json, ENVELOPED_PRODUCT, NULL, &d);
    ck_assert_ptr_null(rb_json_get(d.row, "product_id"));
    rb_decoded_free(&d);
    rb_value_format formats[] = {RB_FORMAT_CONNECT_JSON, RB_FORMAT_AUTO};
    for (size_t i = 0; i < 2; i++) {
        rb_decode_spec s = spec_of(formats[i], PRODUCT_ID, 1);
        decode_ok(&s, ENVELOPED_PRODUCT, NULL, &d);
        ck_assert_str_eq(rb_json_string(rb_json_get(d.row, "product_id")), "p-1");
        ck_assert_int_eq(rb_json_get(d.row, "version")->integer, 3);
        ck_assert(!d.is_change);
        ck_assert(!d.has_version);
        ck_assert_ptr_null(d.id); /* from the row's document.id.field */
        ck_assert_ptr_eq(d.row, rb_json_doc_root(d.doc));
        rb_decoded_free(&d);
    }
}
END_TEST

START_TEST(connect_json_requires_the_envelope) {
    rb_decode_spec s = spec_of(RB_FORMAT_CONNECT_JSON, PRODUCT_ID, 1);
    decode_fails(&s, "{\"product_id\":\"p-1\"}", NULL, RB_STAGE_DESERIALIZE,
                 "not a JsonConverter envelope");
    decode_fails(&s, "{\"schema\":{\"type\":\"string\"},\"payload\":null}", NULL,
                 RB_STAGE_DESERIALIZE, "'payload' is null");
    decode_fails(&s, "{\"schema\":", NULL, RB_STAGE_DESERIALIZE, "not valid JSON");
    /* A null schema is what JsonConverter writes for a schemaless record. */
    rb_decoded d;
    decode_ok(&s, "{\"payload\":{\"product_id\":\"p-2\"},\"schema\":null}", NULL, &d);
    ck_assert_str_eq(rb_json_string(rb_json_get(d.row, "product_id")), "p-2");
    rb_decoded_free(&d);
}
END_TEST

/* auto unwraps only what cannot be anything else, and refuses to guess. */
START_TEST(auto_detects_only_the_unambiguous) {
    rb_decode_spec s = spec_of(RB_FORMAT_AUTO, PRODUCT_ID, 1);
    rb_decoded d;
    /* A plain event with fields named schema and payload, among others. */
    decode_ok(&s, "{\"product_id\":\"p-3\",\"schema\":1,\"payload\":2}", NULL, &d);
    ck_assert_str_eq(rb_json_string(rb_json_get(d.row, "product_id")), "p-3");
    rb_decoded_free(&d);
    /* An "op" field alone does not make a change event. */
    decode_ok(&s, "{\"product_id\":\"p-4\",\"op\":\"c\"}", NULL, &d);
    ck_assert(!d.is_change);
    rb_decoded_free(&d);
    decode_fails(&s, "{\"schema\":\"v2\",\"payload\":{\"product_id\":\"p-5\"}}", NULL,
                 RB_STAGE_DESERIALIZE, "'schema' is not a Connect schema");
    decode_fails(&s, "{\"op\":\"c\",\"after\":{\"id\":1}}", NULL, RB_STAGE_DESERIALIZE,
                 "neither 'source' nor 'ts_ms'");
    decode_ok(&s, PG_UPDATE, NULL, &d);
    ck_assert(d.is_change);
    rb_decoded_free(&d);
}
END_TEST

START_TEST(debezium_upsert_takes_after_and_the_lsn) {
    rb_decode_spec s = spec_of(RB_FORMAT_DEBEZIUM, ID, 1);
    char enveloped[2048];
    snprintf(enveloped, sizeof enveloped,
             "{\"schema\":{\"type\":\"struct\",\"name\":\"shop.public.products.Envelope\","
             "\"fields\":[]},\"payload\":%s}",
             PG_UPDATE);
    const char *values[] = {PG_UPDATE, enveloped};
    for (size_t i = 0; i < 2; i++) {
        rb_decoded d;
        decode_ok(&s, values[i], "{\"id\":7}", &d);
        ck_assert(d.is_change && !d.is_delete && d.has_version);
        ck_assert_int_eq(d.version, 24023128);
        ck_assert_int_eq(d.event_time_ms, 1764590000123);
        ck_assert_str_eq(rb_json_string(rb_json_get(d.row, "name")), "Kettle");
        ck_assert_ptr_null(rb_json_get(d.row, "source"));
        rb_decoded_free(&d);
    }
    /* A snapshot read is an upsert too. */
    rb_decoded d;
    decode_ok(&s,
              "{\"before\":null,\"after\":{\"id\":8,\"name\":\"Mug\"},\"source\":{\"lsn\":100,"
              "\"snapshot\":\"true\",\"ts_ms\":5},\"op\":\"r\",\"ts_ms\":6}",
              NULL, &d);
    ck_assert(!d.is_delete);
    ck_assert_int_eq(d.version, 100);
    rb_decoded_free(&d);
    decode_fails(&s, "{\"before\":null,\"after\":null,\"source\":{\"lsn\":1},\"op\":\"c\"}", NULL,
                 RB_STAGE_TRANSFORM, "field 'after' is null");
    decode_fails(&s, "{\"after\":{\"id\":1},\"source\":{\"lsn\":-4},\"op\":\"c\"}", NULL,
                 RB_STAGE_TRANSFORM, "'source.lsn' is not a non-negative integer");
    decode_fails(&s, "{\"id\":1}", NULL, RB_STAGE_DESERIALIZE, "field 'op' is missing");
    decode_fails(&s, "{\"after\":{\"id\":1},\"source\":{\"lsn\":1},\"op\":\"x\"}", NULL,
                 RB_STAGE_DESERIALIZE, "'op' is 'x'");
    decode_fails(&s, "{\"after\":{\"id\":1},\"source\":{\"table\":\"t\"},\"op\":\"c\"}", NULL,
                 RB_STAGE_TRANSFORM, "no source position");
}
END_TEST

START_TEST(debezium_delete_by_before_or_key) {
    rb_decode_spec s = spec_of(RB_FORMAT_DEBEZIUM, ID, 1);
    rb_decoded d;
    decode_ok(&s, PG_DELETE, "{\"id\":999}", &d);
    ck_assert(d.is_delete);
    ck_assert_str_eq(d.id, "7"); /* before wins over the key */
    ck_assert_int_eq(d.version, 24023300);
    rb_decoded_free(&d);
    /* before = null (REPLICA IDENTITY NOTHING): the key names the row,
     * enveloped as JsonConverter writes it with schemas.enable=true. */
    const char *nobefore = "{\"before\":null,\"after\":null,\"source\":{\"lsn\":9},\"op\":\"d\"}";
    decode_ok(&s, nobefore,
              "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"field\":\"id\"}]"
              "},"
              "\"payload\":{\"id\":7}}",
              &d);
    ck_assert(d.is_delete);
    ck_assert_ptr_null(d.doc);
    ck_assert_str_eq(d.id, "7");
    rb_decoded_free(&d);
    decode_fails(&s, nobefore, NULL, RB_STAGE_TRANSFORM, "has no Kafka key");
}
END_TEST

START_TEST(debezium_truncate_and_message_are_refused_by_name) {
    rb_decode_spec s = spec_of(RB_FORMAT_DEBEZIUM, ID, 1);
    decode_fails(&s,
                 "{\"before\":null,\"after\":null,\"source\":{\"lsn\":5,\"table\":\"products\"},"
                 "\"op\":\"t\",\"ts_ms\":1}",
                 NULL, RB_STAGE_TRANSFORM, "truncate event (op 't') of table 'products'");
    decode_fails(&s, "{\"before\":null,\"after\":null,\"source\":{\"lsn\":5},\"op\":\"m\"}", NULL,
                 RB_STAGE_TRANSFORM, "logical decoding message");
}
END_TEST

/* MySQL: a later binlog file is newer whatever the positions; without a
 * log position, the finest source clock. */
START_TEST(debezium_positions_order_changes) {
    rb_decode_spec s = spec_of(RB_FORMAT_DEBEZIUM, ID, 1);
    rb_decoded a, b;
    decode_ok(&s,
              "{\"after\":{\"id\":1},\"source\":{\"connector\":\"mysql\",\"file\":\"mysql-bin."
              "000003\",\"pos\":98765432,\"row\":0,\"ts_ms\":1},\"op\":\"u\"}",
              NULL, &a);
    decode_ok(&s,
              "{\"after\":{\"id\":1},\"source\":{\"connector\":\"mysql\",\"file\":\"mysql-bin."
              "000004\",\"pos\":154,\"ts_ms\":1},\"op\":\"u\"}",
              NULL, &b);
    ck_assert_int_eq(a.version, (3LL << 32) + 98765432);
    ck_assert_int_gt(b.version, a.version);
    rb_decoded_free(&a);
    rb_decoded_free(&b);
    decode_fails(&s,
                 "{\"after\":{\"id\":1},\"source\":{\"file\":\"binlog\",\"pos\":4},\"op\":\"u\"}",
                 NULL, RB_STAGE_TRANSFORM, "'source.file' ('binlog')");
    decode_ok(&s,
              "{\"after\":{\"id\":1},\"source\":{\"connector\":\"sqlserver\",\"ts_ms\":"
              "1700000000000,"
              "\"ts_us\":1700000000000123,\"ts_ns\":1700000000000123456},\"op\":\"u\"}",
              NULL, &a);
    ck_assert_int_eq(a.version, 1700000000000123456LL);
    ck_assert_int_eq(a.event_time_ms, 1700000000000LL);
    rb_decoded_free(&a);
    decode_ok(&s, "{\"after\":{\"id\":1},\"source\":{\"ts_ms\":1700000000001},\"op\":\"c\"}", NULL,
              &a);
    ck_assert_int_eq(a.version, 1700000000001LL * 1000000);
    rb_decoded_free(&a);
}
END_TEST

/* An enveloped Debezium row whose price has Connect's Decimal schema, as
 * Debezium writes numeric columns with decimal.handling.mode=precise (its
 * default). */
static void decimal_row(const char *price_schema, const char *price, rb_decoded *d, rb_error *err,
                        int *rc) {
    char value[2048];
    snprintf(value, sizeof value,
             "{\"schema\":{\"type\":\"struct\",\"name\":\"shop.public.products.Envelope\","
             "\"fields\":[{\"type\":\"struct\",\"optional\":true,\"field\":\"after\","
             "\"fields\":[{\"type\":\"int32\",\"field\":\"id\"},%s]},"
             "{\"type\":\"struct\",\"field\":\"source\",\"fields\":[]}]},"
             "\"payload\":{\"before\":null,\"after\":{\"id\":7,\"price\":%s},"
             "\"source\":{\"lsn\":10},\"op\":\"u\"}}",
             price_schema, price);
    rb_decode_spec s = spec_of(RB_FORMAT_DEBEZIUM, ID, 1);
    *rc = rb_decode_value(&s, value, strlen(value), NULL, 0, d, err);
}

START_TEST(connect_decimals_become_numbers_with_the_schema) {
    static const struct {
        const char *scale, *b64, *want;
    } cases[] = {
        {"2", "B54=", "19.50"}, {"2", "+GI=", "-19.50"},
        {"2", "AA==", "0.00"},  {"2", "BQ==", "0.05"},
        {"0", "Kg==", "42"},    {"-2", "Kg==", "4200"},
        {"0", "/w==", "-1"},    {"5", "AY7pD/bDc+DuTj8K0g==", "1234567890123456789012345.67890"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char schema[512], price[64];
        snprintf(schema, sizeof schema,
                 "{\"type\":\"bytes\",\"optional\":true,\"name\":"
                 "\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":"
                 "{\"scale\":\"%s\",\"connect.decimal.precision\":\"40\"},\"field\":\"price\"}",
                 cases[i].scale);
        snprintf(price, sizeof price, "\"%s\"", cases[i].b64);
        rb_decoded d;
        rb_error err;
        int rc;
        decimal_row(schema, price, &d, &err, &rc);
        ck_assert_msg(rc == 0, "%s", err.msg);
        const rb_json *p = rb_json_get(d.row, "price");
        ck_assert_int_eq(p->type, RB_JSON_NUMBER);
        ck_assert_msg(p->raw_len == strlen(cases[i].want) &&
                          memcmp(p->raw, cases[i].want, p->raw_len) == 0,
                      "%s scale %s: %.*s, wanted %s", cases[i].b64, cases[i].scale,
                      (int)p->raw_len, p->raw, cases[i].want);
        ck_assert_int_eq(rb_json_get(d.row, "id")->integer, 7);
        rb_decoded_free(&d);
    }
    /* Debezium's VariableScaleDecimal (numeric without a scale). */
    rb_decoded d;
    rb_error err;
    int rc;
    decimal_row("{\"type\":\"struct\",\"name\":\"io.debezium.data.VariableScaleDecimal\","
                "\"field\":\"price\",\"fields\":[]}",
                "{\"scale\":1,\"value\":\"AQ==\"}", &d, &err, &rc);
    ck_assert_msg(rc == 0, "%s", err.msg);
    ck_assert_double_eq_tol(rb_json_get(d.row, "price")->number, 0.1, 1e-12);
    rb_decoded_free(&d);
    /* A null decimal stays null; one that is not base64 names its field. */
    const char *dec = "{\"type\":\"bytes\",\"name\":\"org.apache.kafka.connect.data.Decimal\","
                      "\"parameters\":{\"scale\":\"2\"},\"field\":\"price\"}";
    decimal_row(dec, "null", &d, &err, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(rb_json_get(d.row, "price")->type, RB_JSON_NULL);
    rb_decoded_free(&d);
    decimal_row(dec, "\"not*base64\"", &d, &err, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.msg, "field 'price'") && strstr(err.msg, "not base64"), "%s",
                  err.msg);
}
END_TEST

/* Connect's and Debezium's time types, named by the embedded schema, are
 * written as RFC 3339 strings; without the schema they stay integers. */
START_TEST(connect_time_types_become_rfc3339_with_the_schema) {
    static const struct {
        const char *type, *name, *value, *want;
    } cases[] = {
        {"int32", "io.debezium.time.Date", "20788", "2026-12-01"},
        {"int32", "io.debezium.time.Date", "-1", "1969-12-31"},
        {"int32", "org.apache.kafka.connect.data.Date", "0", "1970-01-01"},
        {"int32", "io.debezium.time.Time", "37805250", "10:30:05.250"},
        {"int64", "io.debezium.time.MicroTime", "37805250123", "10:30:05.250123"},
        {"int64", "io.debezium.time.NanoTime", "37805250123456", "10:30:05.250123456"},
        {"int32", "org.apache.kafka.connect.data.Time", "1000", "00:00:01.000"},
        {"int64", "io.debezium.time.Timestamp", "1796121005250", "2026-12-01T10:30:05.250Z"},
        {"int64", "org.apache.kafka.connect.data.Timestamp", "-1", "1969-12-31T23:59:59.999Z"},
        {"int64", "io.debezium.time.MicroTimestamp", "1796121005250123",
         "2026-12-01T10:30:05.250123Z"},
        {"int64", "io.debezium.time.NanoTimestamp", "1796121005250123456",
         "2026-12-01T10:30:05.250123456Z"},
        /* Already a string: as it came. */
        {"string", "io.debezium.time.ZonedTimestamp", "\"2026-12-01T10:30:05.25+01:00\"",
         "2026-12-01T10:30:05.25+01:00"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char schema[512];
        snprintf(schema, sizeof schema,
                 "{\"type\":\"%s\",\"optional\":true,\"name\":\"%s\",\"version\":1,"
                 "\"field\":\"price\"}",
                 cases[i].type, cases[i].name);
        rb_decoded d;
        rb_error err;
        int rc;
        decimal_row(schema, cases[i].value, &d, &err, &rc);
        ck_assert_msg(rc == 0, "%s: %s", cases[i].name, err.msg);
        const char *got = rb_json_string(rb_json_get(d.row, "price"));
        ck_assert_msg(got && strcmp(got, cases[i].want) == 0, "%s %s: %s, wanted %s",
                      cases[i].name, cases[i].value, got ? got : "(not a string)", cases[i].want);
        rb_decoded_free(&d);
    }
    /* Out of RFC 3339's years: fails naming the field. */
    rb_decoded d;
    rb_error err;
    int rc;
    decimal_row("{\"type\":\"int32\",\"name\":\"io.debezium.time.Date\",\"field\":\"price\"}",
                "3000000", &d, &err, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.msg, "field 'price'") && strstr(err.msg, "io.debezium.time.Date"),
                  "%s", err.msg);
    /* A time of day past midnight is not one. */
    decimal_row("{\"type\":\"int32\",\"name\":\"io.debezium.time.Time\",\"field\":\"price\"}",
                "86400000", &d, &err, &rc);
    ck_assert_int_eq(rc, -1);
}
END_TEST

static void key_id_is(const rb_decode_spec *s, const char *key, bool tombstone, const char *want) {
    rb_error err;
    char *id = NULL;
    ck_assert_msg(rb_decode_key_id(s, key, strlen(key), tombstone, &id, &err) == 0, "%s: %s", key,
                  err.msg);
    ck_assert_msg(strcmp(id, want) == 0, "key %s gave id %s, wanted %s", key, id, want);
    free(id);
}

static void key_id_fails(const rb_decode_spec *s, const char *key, size_t len,
                         const char *needle) {
    rb_error err;
    char *id = NULL;
    ck_assert_int_eq(rb_decode_key_id(s, key, len, false, &id, &err), -1);
    ck_assert_msg(strstr(err.msg, needle), "'%s' not in: %s", needle, err.msg);
    ck_assert_ptr_null(id);
}

START_TEST(ids_from_the_key) {
    rb_decode_spec s = spec_of(RB_FORMAT_JSON, PRODUCT_ID, 1);
    s.id_from_key = true;
    key_id_is(&s, "p-1", false, "p-1");     /* StringConverter */
    key_id_is(&s, "\"p-1\"", false, "p-1"); /* JsonConverter, a string key */
    key_id_is(&s, "42", false, "42");
    key_id_is(&s, "{\"id\":5}", false, "5"); /* Debezium's primary key */
    key_id_is(&s, "{\"tenant\":\"acme\",\"id\":42}", false, "[\"acme\",42]");
    key_id_is(&s, "{\"schema\":{\"type\":\"struct\"},\"payload\":{\"a\":\"x\\\"y\",\"b\":1}}",
              false, "[\"x\\\"y\",1]");
    const char *const fields[] = {"id"};
    s.key_fields = fields;
    s.key_field_count = 1;
    key_id_is(&s, "{\"tenant\":\"acme\",\"id\":42}", false, "42");
    key_id_fails(&s, "{\"tenant\":\"acme\"}", 17, "'id' (document.id.key.fields) is missing");
    s.key_field_count = 0;
    key_id_fails(&s, "1.5", 3, "is a number");
    key_id_fails(&s, "[1]", 3, "is a JSON array");
    key_id_fails(&s, "{}", 2, "empty object");
    key_id_fails(&s, "{\"id\":true}", 11, "is a boolean");
    key_id_fails(&s, "k\xff", 2, "not a valid UTF-8");
    key_id_fails(&s, "", 0, "has no Kafka key");
}
END_TEST

/* A tombstone names the document its events made. */
START_TEST(tombstone_ids_follow_the_events) {
    /* json with the id from the value: the key's bytes, as before. */
    rb_decode_spec s = spec_of(RB_FORMAT_JSON, ID, 1);
    key_id_is(&s, "{\"id\":1}", true, "{\"id\":1}");
    key_id_is(&s, "p-9", true, "p-9");
    /* Debezium: the key struct, by the id field the events use. */
    s.format = RB_FORMAT_DEBEZIUM;
    key_id_is(&s, "{\"id\":1}", true, "1");
    key_id_is(&s, "{\"schema\":{\"type\":\"struct\"},\"payload\":{\"id\":1}}", true, "1");
    key_id_is(&s, "{\"pk\":3}", true, "3");
    const char *const composite[] = {"tenant", "sku"};
    s.id_fields = composite;
    s.id_field_count = 2;
    key_id_is(&s, "{\"sku\":\"x\",\"tenant\":\"acme\"}", true, "[\"acme\",\"x\"]");
}
END_TEST

START_TEST(composite_ids_from_the_value) {
    const char *const fields[] = {"tenant", "sku"};
    rb_decode_spec s = spec_of(RB_FORMAT_JSON, fields, 2);
    rb_decoded d;
    decode_ok(&s, "{\"sku\":17,\"tenant\":\"a,b\"}", NULL, &d);
    ck_assert_str_eq(d.id, "[\"a,b\",17]");
    rb_decoded_free(&d);
    decode_fails(&s, "{\"tenant\":\"a\"}", NULL, RB_STAGE_TRANSFORM,
                 "id field 'sku' (document.id.field) is missing");
    decode_fails(&s, "{\"tenant\":\"a\",\"sku\":1.5}", NULL, RB_STAGE_TRANSFORM,
                 "'sku' (document.id.field) is a number");
    /* The same id whether it comes from the row or from the key. */
    rb_decode_spec k = s;
    k.id_from_key = true;
    decode_ok(&k, "{\"sku\":17,\"tenant\":\"a,b\"}", "{\"tenant\":\"a,b\",\"sku\":17}", &d);
    ck_assert_str_eq(d.id, "[\"a,b\",17]");
    rb_decoded_free(&d);
}
END_TEST

START_TEST(spec_from_the_job_keys) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "source.value.format=debezium", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "document.id.field= tenant , sku", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "document.id.from=key", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "document.id.key.fields=a,b", "test", &err), 0);
    rb_decode_spec s;
    rb_decode_opts o;
    rb_runner_decode_opts(&cfg, &o);
    ck_assert_msg(rb_decode_spec_init(&s, &o, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(s.format, RB_FORMAT_DEBEZIUM);
    ck_assert(s.id_from_key);
    ck_assert_uint_eq(s.id_field_count, 2);
    ck_assert_str_eq(s.id_fields[0], "tenant");
    ck_assert_str_eq(s.id_fields[1], "sku");
    ck_assert_uint_eq(s.key_field_count, 2);
    rb_decode_spec_free(&s);
    ck_assert_int_eq(rb_job_config_set(&cfg, "document.id.field=a,,b", "test", &err), 0);
    rb_runner_decode_opts(&cfg, &o);
    ck_assert_int_eq(rb_decode_spec_init(&s, &o, &err), -1);
    ck_assert_msg(strstr(err.msg, "empty field name"), "%s", err.msg);
    ck_assert_int_eq(rb_job_config_set(&cfg, "source.value.format=avro", "test", &err), 0);
    ck_assert_int_eq(cfg.value_format, RB_FORMAT_AVRO);
    ck_assert_int_eq(rb_job_config_set(&cfg, "source.value.format=protobuf", "test", &err), -1);
    ck_assert_msg(strstr(err.msg, "source.value.format"), "%s", err.msg);
    rb_job_config_free(&cfg);
}
END_TEST

/* ---- Connect's vocabulary in job files ------------------------------- */

static const char *write_job(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/tests/%s-%d.job", RB_BUILD_DIR, name, (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

START_TEST(connect_retry_names_are_aliases) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    const char *path = write_job("aliases", "errors.retry.timeout = 5000\n"
                                            "errors.retry.delay.max.ms = 2000\n");
    ck_assert_msg(rb_job_config_load(&cfg, path, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.sink_retry_timeout_ms, 5000);
    ck_assert_int_eq(cfg.sink_retry_backoff_max_ms, 2000);
    unlink(path); /* the build tree must be clean after the suite (make distcheck) */
    ck_assert_int_eq(rb_job_config_set(&cfg, "errors.retry.timeout=-1", "--set", &err), 0);
    ck_assert_int_eq(cfg.sink_retry_timeout_ms, -1);
    rb_job_config_free(&cfg);
    /* One key under two names in one file is set twice. */
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    path = write_job("aliases2", "sink.retry.timeout.ms = 1000\nerrors.retry.timeout = 5000\n");
    ck_assert_int_eq(rb_job_config_load(&cfg, path, &err), -1);
    ck_assert_msg(strstr(err.msg, ":2: errors.retry.timeout is set twice in this file (as "
                                  "sink.retry.timeout.ms before"),
                  "%s", err.msg);
    unlink(path);
    rb_job_config_free(&cfg);
}
END_TEST

/* Connect's config providers in job files, relative paths from the job's
 * directory, and the escape of a literal "${". */
START_TEST(config_providers_as_connect_writes_them) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/tests/providers-%d", RB_BUILD_DIR, (int)getpid());
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/creds.properties", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("# Connect's FileConfigProvider reads java.util.Properties\n"
          "db.user : reader\n"
          "db.password = s3cr\\:et \\\n    continued\n",
          f);
    fclose(f);
    snprintf(path, sizeof path, "%s/secrets", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/secrets/api-key", dir);
    f = fopen(path, "w");
    fputs("k-123", f);
    fclose(f);
    setenv("RB_TEST_PROVIDER_HOST", "db.example.net", 1);
    snprintf(path, sizeof path, "%s/job.job", dir);
    f = fopen(path, "w");
    fputs("mongo.uri = mongodb://${file:creds.properties:db.user}:"
          "${file:creds.properties:db.password}@${env:RB_TEST_PROVIDER_HOST}/\n"
          "mongo.database = ${RB_TEST_PROVIDER_HOST}\n"
          "text.template = {name} $${not a reference}\n"
          "mongo.collection = ${directory:secrets:api-key}\n",
          f);
    fclose(f);
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    ck_assert_msg(rb_job_config_load(&cfg, path, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(cfg.mongo_uri, "mongodb://reader:s3cr:et continued@db.example.net/");
    ck_assert_str_eq(cfg.mongo_database, "db.example.net");
    ck_assert_str_eq(cfg.text_template, "{name} ${not a reference}");
    ck_assert_str_eq(cfg.mongo_collection, "k-123");
    rb_job_config_free(&cfg);
    static const struct {
        const char *line, *want;
    } bad[] = {
        {"mongo.uri = ${file:creds.properties:db.host}\n", "has no key 'db.host'"},
        {"mongo.uri = ${file:nowhere.properties:k}\n", "cannot read"},
        {"mongo.uri = ${vault:secret/db:password}\n", "unknown config provider 'vault'"},
        {"mongo.uri = ${env:RB_TEST_NOT_SET_ANYWHERE}\n",
         "RB_TEST_NOT_SET_ANYWHERE, which is not set"},
        {"mongo.uri = ${file:creds.properties}\n", "expected ${file:PATH:KEY}"},
        {"mongo.uri = ${env:X\n", "without a closing '}'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f = fopen(path, "w");
        fputs(bad[i].line, f);
        fclose(f);
        ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
        ck_assert_int_eq(rb_job_config_load(&cfg, path, &err), -1);
        ck_assert_msg(strstr(err.msg, bad[i].want) && strstr(err.msg, "job.job:1"), "%s: %s",
                      bad[i].line, err.msg);
        rb_job_config_free(&cfg);
    }
    /* Nothing left in the build tree (make distcheck's distcleancheck). */
    static const char *const made[] = {"job.job", "secrets/api-key", "secrets", "creds.properties",
                                       ""};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, made[i]);
        ck_assert_msg(remove(path) == 0, "cannot remove %s", path);
    }
}
END_TEST

START_TEST(connect_and_mongodb_sink_names_are_mapped) {
    static const struct {
        const char *line, *want;
    } cases[] = {
        {"connection.uri=mongodb://x", "ragbatch's is mongo.uri"},
        {"topics=a,b", "ragbatch's is source.topics"},
        {"max.batch.size=10", "ragbatch's is batch.max.records"},
        {"delete.on.null.values=true", "a Kafka tombstone (null value) always deletes"},
        {"document.id.strategy=x", "ragbatch's is document.id.from"},
        {"value.converter.schemas.enable=true", "connect-json for true"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rb_job_config cfg;
        rb_error err;
        ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
        ck_assert_int_eq(rb_job_config_set(&cfg, cases[i].line, "--set", &err), -1);
        ck_assert_msg(strstr(err.msg, cases[i].want) && strstr(err.msg, "Kafka Connect's"),
                      "%s: %s", cases[i].line, err.msg);
        rb_job_config_free(&cfg);
    }
}
END_TEST

/* ---- through the runner's decode step -------------------------------- */

typedef struct fixture {
    rb_job_config cfg;
    rb_runner_opts opts;
    volatile sig_atomic_t stop;
    rb_runner r;
    rb_batch *b;
} fixture;

static void fixture_open(fixture *f, const char *const *settings, size_t n) {
    memset(f, 0, sizeof *f);
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&f->cfg, &err), 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(rb_job_config_set(&f->cfg, settings[i], "test", &err) == 0, "%s", err.msg);
    f->opts.stop = &f->stop;
    rb_runner *r = &f->r;
    r->cfg = &f->cfg;
    r->opts = &f->opts;
    r->tolerate = true;
    rb_log_init(&r->log);
    ck_assert_int_eq(rb_template_compile("{name} ({price?})", &r->tpl, &err), 0);
    r->spec = (rb_document_spec){
        .tpl = r->tpl,
        .id_field = f->cfg.id_field,
        .version_field = f->cfg.version_field,
        .time_field = f->cfg.time_field,
        .op_field = f->cfg.op_field,
        .delete_values = (const char *const *)f->cfg.delete_values.items,
        .delete_value_count = f->cfg.delete_values.count,
    };
    rb_decode_opts dopts;
    rb_runner_decode_opts(&f->cfg, &dopts);
    ck_assert_msg(rb_decode_spec_init(&r->decode, &dopts, &err) == 0, "%s", err.msg);
    ck_assert_ptr_nonnull(f->b = rb_batch_new());
    rb_batch_reset(f->b, 1);
}

static void fixture_close(fixture *f) {
    rb_batch_destroy(f->b);
    rb_template_destroy(f->r.tpl);
    rb_decode_spec_free(&f->r.decode);
    rb_job_config_free(&f->cfg);
}

static rb_record *add(fixture *f, int64_t offset, const char *key, const char *value) {
    rb_error err;
    rb_record *rec = rb_batch_add(f->b, "shop.public.products", 0, offset, -1, key,
                                  key ? strlen(key) : 0, value, value ? strlen(value) : 0, &err);
    ck_assert_msg(rec != NULL, "%s", err.msg);
    return rec;
}

/* A Debezium topic's update, delete and tombstone become an upsert of the
 * row, a versioned delete and a hard delete of one document; the update's
 * metadata and text come from the row. */
START_TEST(runner_reads_a_debezium_topic) {
    const char *settings[] = {"source.value.format=debezium", "document.id.field=id",
                              "metadata.fields=price"};
    fixture f;
    fixture_open(&f, settings, 3);
    rb_record *u = add(&f, 0, "{\"id\":7}", PG_UPDATE);
    rb_record *d = add(&f, 1, "{\"id\":7}", PG_DELETE);
    rb_record *t = add(&f, 2, "{\"id\":7}", NULL);
    rb_record *bad = add(&f, 3, "{\"id\":7}",
                         "{\"before\":null,\"after\":null,\"source\":{\"lsn\":5,\"table\":"
                         "\"products\"},\"op\":\"t\"}");
    ck_assert_uint_eq(rb_runner_decode(&f.r, f.b), 0);
    ck_assert_int_eq(u->state, RB_REC_PENDING);
    ck_assert_int_eq(u->op, RB_OP_UPSERT);
    ck_assert_str_eq(u->id, "7");
    ck_assert_int_eq(u->version, 24023128);
    ck_assert_int_eq(u->event_time_ms, 1764590000123);
    ck_assert_str_eq(u->text, "Kettle (19.5)");
    ck_assert_double_eq(rb_json_get(rb_json_doc_root(u->event), "price")->number, 19.5);
    ck_assert_int_eq(d->state, RB_REC_PENDING);
    ck_assert_int_eq(d->op, RB_OP_SOFT_DELETE);
    ck_assert_str_eq(d->id, "7");
    ck_assert_int_eq(d->version, 24023300);
    ck_assert_int_eq(t->op, RB_OP_HARD_DELETE);
    ck_assert_str_eq(t->id, "7");
    ck_assert_int_eq(bad->state, RB_REC_SKIPPED);
    ck_assert_int_eq(bad->fail_stage, RB_STAGE_TRANSFORM);
    ck_assert_msg(strstr(bad->fail_reason, "truncate"), "%s", bad->fail_reason);
    fixture_close(&f);
}
END_TEST

/* The enveloped product validates against the product schema as its
 * payload; read as json it is dead-lettered (the issue's report). */
START_TEST(runner_validates_the_envelope_payload) {
    const char *as_json[] = {"source.value.format=json"};
    const char *as_connect[] = {"source.value.format=connect-json"};
    const char *const *cases[] = {as_json, as_connect};
    for (int i = 0; i < 2; i++) {
        fixture f;
        fixture_open(&f, cases[i], 1);
        rb_error err;
        ck_assert_msg(rb_schema_load(RB_SOURCE_DIR "/conf/product_schema.json", &f.r.schema,
                                     &err) == 0,
                      "%s", err.msg);
        char value[2048];
        snprintf(value, sizeof value,
                 "{\"schema\":{\"type\":\"struct\",\"fields\":[]},\"payload\":{\"product_id\":"
                 "\"p-1\",\"event_type\":\"created\",\"event_time\":\"2026-11-24T10:00:00Z\","
                 "\"version\":4,\"name\":\"Trail shoe\",\"price\":89.9,\"currency\":\"EUR\"}}");
        rb_record *rec = add(&f, 0, "p-1", value);
        ck_assert_uint_eq(rb_runner_decode(&f.r, f.b), 0);
        if (i == 0) {
            ck_assert_int_eq(rec->state, RB_REC_SKIPPED);
            ck_assert_int_eq(rec->fail_stage, RB_STAGE_VALIDATE);
        } else {
            ck_assert_msg(rec->state == RB_REC_PENDING, "%s", rec->fail_reason);
            ck_assert_str_eq(rec->id, "p-1");
            ck_assert_int_eq(rec->version, 4);
        }
        rb_schema_destroy(f.r.schema);
        fixture_close(&f);
    }
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("connect_formats");
    TCase *tc = tcase_create("formats");
    tcase_add_test(tc, envelope_payload_is_the_event);
    tcase_add_test(tc, connect_json_requires_the_envelope);
    tcase_add_test(tc, auto_detects_only_the_unambiguous);
    tcase_add_test(tc, debezium_upsert_takes_after_and_the_lsn);
    tcase_add_test(tc, debezium_delete_by_before_or_key);
    tcase_add_test(tc, debezium_truncate_and_message_are_refused_by_name);
    tcase_add_test(tc, debezium_positions_order_changes);
    tcase_add_test(tc, connect_decimals_become_numbers_with_the_schema);
    tcase_add_test(tc, connect_time_types_become_rfc3339_with_the_schema);
    suite_add_tcase(s, tc);
    TCase *ids = tcase_create("ids");
    tcase_add_test(ids, ids_from_the_key);
    tcase_add_test(ids, tombstone_ids_follow_the_events);
    tcase_add_test(ids, composite_ids_from_the_value);
    tcase_add_test(ids, spec_from_the_job_keys);
    suite_add_tcase(s, ids);
    TCase *vocab = tcase_create("vocabulary");
    tcase_add_test(vocab, connect_retry_names_are_aliases);
    tcase_add_test(vocab, connect_and_mongodb_sink_names_are_mapped);
    tcase_add_test(vocab, config_providers_as_connect_writes_them);
    suite_add_tcase(s, vocab);
    TCase *runner = tcase_create("runner");
    tcase_add_test(runner, runner_reads_a_debezium_topic);
    tcase_add_test(runner, runner_validates_the_envelope_payload);
    suite_add_tcase(s, runner);
    return s;
}
