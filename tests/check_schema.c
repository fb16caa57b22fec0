/* Unit tests for JSON Schema compilation and validation (validate/schema.h)
 * and the RFC 3339 parser (common/rfc3339.h). */
#include "check_main.h"
#include "common/error.h"
#include "json/json.h"
#include "common/rfc3339.h"
#include "validate/schema.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DATA RB_SOURCE_DIR "/tests/data/schema/"

static rb_schema *compile_text(const char *text, rb_error *err) {
    rb_json_doc *doc = NULL;
    ck_assert_msg(rb_json_parse(text, strlen(text), NULL, &doc, err) == 0, "%s", err->msg);
    rb_schema *s = NULL;
    rb_schema_compile(rb_json_doc_root(doc), "inline", &s, err);
    rb_json_doc_destroy(doc); /* the schema keeps its own copy */
    return s;
}

static rb_schema *compile_ok(const char *text) {
    rb_error err;
    rb_error_clear(&err);
    rb_schema *s = compile_text(text, &err);
    ck_assert_msg(s != NULL, "compile failed: %s", err.msg);
    return s;
}

static void compile_fails(const char *text, const char *want) {
    rb_error err;
    rb_error_clear(&err);
    rb_schema *s = compile_text(text, &err);
    ck_assert_msg(s == NULL, "<%s> compiled", text);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert_int_eq(err.stage, RB_STAGE_CONFIG);
    ck_assert_msg(strcmp(err.msg, want) == 0, "<%s>:\n got  %s\n want %s", text, err.msg, want);
}

/* Validates `instance` against `s`.  With ok, expects it to pass;
 * otherwise expects failure with exactly message `want` (unless NULL) at
 * JSON pointer `want_path` (unless NULL). */
static void check_instance(const rb_schema *s, const char *instance, bool ok, const char *want,
                           const char *want_path) {
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_msg(rb_json_parse(instance, strlen(instance), NULL, &doc, &err) == 0, "%s", err.msg);
    char path[128] = "unset";
    rb_error_clear(&err);
    int rc = rb_schema_validate(s, rb_json_doc_root(doc), path, sizeof path, &err);
    if (ok) {
        ck_assert_msg(rc == 0, "<%s> rejected: %s", instance, err.msg);
        ck_assert_str_eq(path, "");
    } else {
        ck_assert_msg(rc == -1, "<%s> accepted", instance);
        ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
        ck_assert_int_eq(err.stage, RB_STAGE_VALIDATE);
        ck_assert_msg(!want || strcmp(err.msg, want) == 0, "<%s>:\n got  %s\n want %s", instance,
                      err.msg, want);
        if (want_path) ck_assert_str_eq(path, want_path);
    }
    rb_json_doc_destroy(doc);
}

#define VALID(s, inst) check_instance(s, inst, true, NULL, NULL)
#define INVALID(s, inst, path, msg) check_instance(s, inst, false, msg, path)

START_TEST(product_schema_sample_events) {
    rb_schema *s = NULL;
    rb_error err;
    ck_assert_msg(rb_schema_load(RB_SOURCE_DIR "/conf/product_schema.json", &s, &err) == 0, "%s",
                  err.msg);
    rb_json_doc *cases = NULL;
    ck_assert_msg(rb_json_parse_file(DATA "product_cases.json", NULL, &cases, &err) == 0, "%s",
                  err.msg);
    const rb_json *list = rb_json_doc_root(cases);
    ck_assert_uint_ge(list->count, 10);
    size_t valid = 0, invalid = 0;
    for (size_t i = 0; i < list->count; i++) {
        const rb_json *c = &list->items[i];
        const char *name = rb_json_string(rb_json_get(c, "case"));
        bool want_valid = rb_json_get(c, "valid")->boolean;
        char path[128];
        rb_error_clear(&err);
        int rc = rb_schema_validate(s, rb_json_get(c, "event"), path, sizeof path, &err);
        if (want_valid) {
            ck_assert_msg(rc == 0, "%s: rejected: %s", name, err.msg);
            valid++;
        } else {
            ck_assert_msg(rc == -1, "%s: accepted", name);
            const char *msg = rb_json_string(rb_json_get(c, "message"));
            ck_assert_msg(strncmp(err.msg, msg, strlen(msg)) == 0, "%s:\n got  %s\n want %s", name,
                          err.msg, msg);
            ck_assert_msg(strcmp(path, rb_json_string(rb_json_get(c, "path"))) == 0, "%s: path %s",
                          name, path);
            invalid++;
        }
    }
    ck_assert_uint_ge(valid, 3);
    ck_assert_uint_ge(invalid, 10);
    rb_json_doc_destroy(cases);
    rb_schema_destroy(s);
}
END_TEST

START_TEST(type_keyword) {
    rb_schema *s = compile_ok("{\"type\": \"integer\"}");
    VALID(s, "3");
    VALID(s, "3.0"); /* draft-07: a zero fraction is still an integer */
    INVALID(s, "3.5", "", "/: 3.5 is not of type integer");
    INVALID(s, "\"3\"", "", "/: \"3\" is not of type integer");
    rb_schema_destroy(s);
    s = compile_ok("{\"type\": [\"string\", \"null\"]}");
    VALID(s, "null");
    VALID(s, "\"x\"");
    INVALID(s, "{}", "", "/: an object is not of type null or string");
    INVALID(s, "false", "", "/: false is not of type null or string");
    rb_schema_destroy(s);
    s = compile_ok("{\"type\": \"number\"}");
    VALID(s, "1");
    VALID(s, "1.5e3");
    INVALID(s, "[1]", "", "/: an array of 1 items is not of type number");
    rb_schema_destroy(s);
    s = compile_ok("true");
    VALID(s, "{\"anything\": [1]}");
    rb_schema_destroy(s);
    s = compile_ok("{\"properties\": {\"x\": false}}");
    VALID(s, "{\"y\": 1}");
    INVALID(s, "{\"x\": 1}", "/x", "/x: no value is allowed here (the schema is false)");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(object_keywords) {
    rb_schema *s = compile_ok(
        "{\"type\": \"object\", \"required\": [\"a\", \"b\"],"
        " \"properties\": {\"a\": {\"type\": \"string\"},"
        "   \"n\": {\"type\": \"object\", \"properties\": {\"d\": {\"type\": \"number\"}},"
        "           \"additionalProperties\": false}},"
        " \"additionalProperties\": {\"type\": \"integer\"}}");
    VALID(s, "{\"a\": \"x\", \"b\": 1}");
    VALID(s, "{\"a\": \"x\", \"b\": 1, \"n\": {\"d\": 2.5}}");
    INVALID(s, "{\"a\": \"x\"}", "", "/: required property \"b\" is missing");
    INVALID(s, "{\"a\": 1, \"b\": 1}", "/a", "/a: 1 is not of type string");
    INVALID(s, "{\"a\": \"x\", \"b\": \"y\"}", "/b", "/b: \"y\" is not of type integer");
    INVALID(s, "{\"a\": \"x\", \"b\": 1, \"n\": {\"d\": \"q\"}}", "/n/d",
            "/n/d: \"q\" is not of type number");
    INVALID(s, "{\"a\": \"x\", \"b\": 1, \"n\": {\"e\": 1}}", "/n/e",
            "/n/e: property \"e\" is not allowed (additionalProperties is false)");
    /* JSON-pointer escaping of ~ and / in keys */
    INVALID(s, "{\"a\": \"x\", \"b\": 1, \"x/y~z\": true}", "/x~1y~0z",
            "/x~1y~0z: true is not of type integer");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(enum_and_const) {
    rb_schema *s =
        compile_ok("{\"enum\": [\"a\", 1, null, [1, {\"k\": true}], {\"x\": 1, \"y\": 2}]}");
    VALID(s, "\"a\"");
    VALID(s, "1.0"); /* numbers compare by value */
    VALID(s, "null");
    VALID(s, "[1, {\"k\": true}]");
    VALID(s, "{\"y\": 2, \"x\": 1}"); /* member order does not matter */
    INVALID(s, "\"b\"", "",
            "/: \"b\" is not one of \"a\", 1, null, an array of 2 items, an object");
    INVALID(s, "[1, {\"k\": false}]", "", NULL);
    INVALID(s, "{\"x\": 1}", "", NULL);
    rb_schema_destroy(s);
    s = compile_ok("{\"const\": 4}");
    VALID(s, "4");
    INVALID(s, "3", "", "/: 3 is not the constant 4");
    INVALID(s, "\"4\"", "", "/: \"4\" is not the constant 4");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(numeric_bounds) {
    rb_schema *s = compile_ok("{\"properties\": {\"p\": {\"minimum\": 0, \"maximum\": 10.5},"
                              " \"q\": {\"exclusiveMinimum\": 0, \"exclusiveMaximum\": 1}}}");
    VALID(s, "{\"p\": 0, \"q\": 0.5}");
    VALID(s, "{\"p\": 10.5}");
    VALID(s, "{\"p\": \"not a number: bounds do not apply\"}");
    INVALID(s, "{\"p\": -3}", "/p", "/p: -3 is less than the minimum 0");
    INVALID(s, "{\"p\": 11}", "/p", "/p: 11 is greater than the maximum 10.5");
    INVALID(s, "{\"q\": 0}", "/q", "/q: 0 is not greater than the exclusive minimum 0");
    INVALID(s, "{\"q\": 1}", "/q", "/q: 1 is not less than the exclusive maximum 1");
    rb_schema_destroy(s);
    /* Integers beyond 2^53 compare exactly. */
    s = compile_ok("{\"maximum\": 9007199254740992}");
    VALID(s, "9007199254740992");
    INVALID(s, "9007199254740993", "",
            "/: 9007199254740993 is greater than the maximum "
            "9007199254740992");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(string_keywords) {
    rb_schema *s = compile_ok("{\"properties\": {\"c\": {\"minLength\": 2, \"maxLength\": 3},"
                              " \"t\": {\"format\": \"date-time\"}}}");
    VALID(s, "{\"c\": \"EUR\"}");
    VALID(s, "{\"c\": \"\xc3\xa9\xc3\xa9\xc3\xa9\"}"); /* three code points, six bytes */
    INVALID(s, "{\"c\": \"EURO\"}", "/c", "/c: \"EURO\" is longer than maxLength 3");
    INVALID(s, "{\"c\": \"\xf0\x9f\x98\x80\"}", "/c",
            "/c: \"\xf0\x9f\x98\x80\" is shorter than minLength 2");
    VALID(s, "{\"t\": \"2024-05-01T12:00:00Z\"}");
    INVALID(s, "{\"t\": \"2024-05-01 12:00:00Z\"}", "/t",
            "/t: \"2024-05-01 12:00:00Z\" is not an RFC 3339 date-time (e.g. "
            "2024-05-01T12:00:00Z)");
    rb_schema_destroy(s);
    /* Long values are cut in messages, on a character boundary. */
    s = compile_ok("{\"maxLength\": 3}");
    INVALID(s, "\"abcdefghijklmnopqrstuvwxyzabcdefghijklm\xc3\xa9xyz\"", "",
            "/: \"abcdefghijklmnopqrstuvwxyzabcdefghijklm...\" is longer than maxLength 3");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(patterns) {
    rb_schema *s = compile_ok("{\"pattern\": \"^[A-Z]{3}$\"}");
    VALID(s, "\"EUR\"");
    INVALID(s, "\"EURO\"", "", "/: \"EURO\" does not match the pattern ^[A-Z]{3}$");
    VALID(s, "12"); /* pattern applies to strings only */
    rb_schema_destroy(s);
    /* Translated ECMA escapes. */
    s = compile_ok("{\"pattern\": \"^\\\\d{2}-\\\\w+\\\\s\\\\.x[\\\\d_]$\"}");
    VALID(s, "\"12-ab_9 .x7\"");
    VALID(s, "\"12-a\\t.x_\"");
    INVALID(s, "\"1a-ab .x7\"", "", NULL);
    INVALID(s, "\"12-ab .y7\"", "", NULL); /* \. is a literal dot */
    rb_schema_destroy(s);
    s = compile_ok("{\"pattern\": \"^(?:ab)+?\\\\D\\\\/$\"}");
    VALID(s, "\"abab-/\"");
    INVALID(s, "\"abab1/\"", "", NULL);
    rb_schema_destroy(s);
    /* Patterns search: no anchors, a match anywhere counts. */
    s = compile_ok("{\"pattern\": \"b+\"}");
    VALID(s, "\"abbbc\"");
    INVALID(s, "\"ac\"", "", NULL);
    rb_schema_destroy(s);
    compile_fails("{\"pattern\": \"^(?=a)\"}",
                  "inline: schema /pattern: pattern: lookahead, lookbehind and named groups "
                  "\"(?=\" are not supported");
    compile_fails("{\"pattern\": \"(a)\\\\1\"}",
                  "inline: schema /pattern: pattern: backreference \\1 is not supported");
    compile_fails("{\"pattern\": \"\\\\bword\"}",
                  "inline: schema /pattern: pattern: word boundary \\b is not supported");
    compile_fails("{\"pattern\": \"\\\\u0041\"}",
                  "inline: schema /pattern: pattern: escape \\u is not supported (POSIX regular "
                  "expressions have no equivalent)");
    compile_fails("{\"pattern\": \"[\\\\W]\"}",
                  "inline: schema /pattern: pattern: \\W inside [...] cannot be expressed in "
                  "POSIX regular expressions");
    compile_fails("{\"pattern\": \"[]\"}",
                  "inline: schema /pattern: pattern: the empty class [] or [^] is not supported");
    rb_error err;
    ck_assert_ptr_null(compile_text("{\"pattern\": \"a{2,1}\"}", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "does not compile"));
}
END_TEST

START_TEST(array_keywords) {
    rb_schema *s = compile_ok("{\"type\": \"array\", \"minItems\": 1, \"maxItems\": 3,"
                              " \"items\": {\"type\": \"object\", \"required\": [\"id\"]}}");
    VALID(s, "[{\"id\": 1}]");
    INVALID(s, "[]", "", "/: array of 0 items is shorter than minItems 1");
    INVALID(s, "[{\"id\":1},{\"id\":2},{\"id\":3},{\"id\":4}]", "",
            "/: array of 4 items is longer than maxItems 3");
    INVALID(s, "[{\"id\": 1}, {\"id\": 2}, {}]", "/2", "/2: required property \"id\" is missing");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(combinators) {
    rb_schema *s = compile_ok("{\"allOf\": [{\"type\": \"number\"}, {\"minimum\": 2}]}");
    VALID(s, "5");
    INVALID(s, "1", "", "/: 1 is less than the minimum 2");
    rb_schema_destroy(s);
    s = compile_ok(
        "{\"properties\": {\"v\": {\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 10}]}}}");
    VALID(s, "{\"v\": \"x\"}");
    VALID(s, "{\"v\": 12}");
    INVALID(s, "{\"v\": 5}", "/v",
            "/v: 5 matches none of the anyOf alternatives (the first "
            "says: /v: 5 is not of type string)");
    rb_schema_destroy(s);
    s = compile_ok("{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 10}]}");
    VALID(s, "3");
    VALID(s, "10.5");
    INVALID(s, "12", "", "/: 12 matches oneOf alternatives 0 and 1; exactly one is allowed");
    INVALID(s, "2.5", "",
            "/: 2.5 matches none of the oneOf alternatives (the first says: /: 2.5 "
            "is not of type integer)");
    rb_schema_destroy(s);
    s = compile_ok("{\"not\": {\"type\": \"null\"}}");
    VALID(s, "0");
    INVALID(s, "null", "", "/: null matches the schema under \"not\"");
    rb_schema_destroy(s);
    s = compile_ok("{\"if\": {\"properties\": {\"k\": {\"const\": \"a\"}}},"
                   " \"then\": {\"required\": [\"x\"]}, \"else\": {\"required\": [\"y\"]}}");
    VALID(s, "{\"k\": \"a\", \"x\": 1}");
    VALID(s, "{\"k\": \"b\", \"y\": 1}");
    INVALID(s, "{\"k\": \"a\", \"y\": 1}", "", "/: required property \"x\" is missing");
    INVALID(s, "{\"k\": \"b\", \"x\": 1}", "", "/: required property \"y\" is missing");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(refs_and_recursion) {
    rb_schema *s = NULL;
    rb_error err;
    ck_assert_msg(rb_schema_load(DATA "recursive.json", &s, &err) == 0, "%s", err.msg);
    VALID(s, "{\"value\": 1, \"children\": [{\"value\": 2, \"children\": [{\"value\": 3}]}]}");
    INVALID(s,
            "{\"value\": 1, \"children\": [{\"value\": 2, \"children\": [{\"value\": \"x\"}]}]}",
            "/children/0/children/0/value",
            "/children/0/children/0/value: \"x\" is not of type integer");
    rb_schema_destroy(s);
    /* A schema that re-enters itself without consuming the instance is
     * stopped by the evaluation depth limit. */
    s = compile_ok("{\"allOf\": [{\"$ref\": \"#\"}]}");
    INVALID(s, "1", "", "/: schema nesting deeper than 256 levels (a recursive $ref?)");
    rb_schema_destroy(s);
    compile_fails("{\"$ref\": \"#/definitions/a\", \"definitions\": {\"a\": {\"$ref\": "
                  "\"#/definitions/b\"},"
                  " \"b\": {\"$ref\": \"#/definitions/a\"}}}",
                  "inline: schema /: $ref cycle: a definition refers to itself without any other "
                  "keyword");
    compile_fails("{\"properties\": {\"a\": {\"$ref\": \"#/definitions/nope\"}}}",
                  "inline: schema /properties/a/$ref: \"#/definitions/nope\" does not resolve: no "
                  "definition \"nope\"");
    compile_fails("{\"$ref\": \"other.json#/x\"}",
                  "inline: schema /$ref: \"other.json#/x\": only \"#\" and "
                  "\"#/definitions/<name>\" references are supported");
    compile_fails("{\"$ref\": \"#/definitions/a\", \"type\": \"object\", \"definitions\": {\"a\": "
                  "true}}",
                  "inline: schema /type: keywords beside $ref are ignored by draft-07; move "
                  "\"type\" and the $ref into an allOf");
    /* Errors inside an unused definition are still reported, at its path. */
    compile_fails("{\"definitions\": {\"unused\": {\"type\": \"text\"}}}",
                  "inline: schema /definitions/unused/type: unknown type \"text\"");
}
END_TEST

START_TEST(compile_errors_name_file_and_path) {
    rb_schema *s = NULL;
    rb_error err;
    ck_assert_int_eq(rb_schema_load(DATA "unknown_keyword.json", &s, &err), -1);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert_str_eq(err.msg,
                     DATA "unknown_keyword.json: schema /properties/price/multipleOf: "
                          "keyword \"multipleOf\" is not supported by ragbatch's draft-07 "
                          "subset; remove it or express the rule with the supported keywords");
    compile_fails("{\"requird\": [\"a\"]}",
                  "inline: schema /requird: keyword \"requird\" is not supported (did you mean "
                  "\"required\"?)");
    compile_fails("{\"properties\": {\"t\": {\"format\": \"email\"}}}",
                  "inline: schema /properties/t/format: format \"email\" is not supported (only "
                  "\"date-time\" is)");
    compile_fails("{\"type\": \"text\"}", "inline: schema /type: unknown type \"text\"");
    compile_fails("{\"items\": [{}, {}]}",
                  "inline: schema /items: the array form of items (tuple validation) is not "
                  "supported; give one schema for every item");
    compile_fails("{\"then\": {}}", "inline: schema /then: \"then\" without \"if\" has no effect");
    compile_fails("{\"minLength\": -1}",
                  "inline: schema /minLength: must be a non-negative integer");
    compile_fails("{\"exclusiveMinimum\": true}",
                  "inline: schema /exclusiveMinimum: must be a number (the boolean form is "
                  "draft-04; in draft-07 write the bound itself here)");
    compile_fails("{\"$schema\": \"http://json-schema.org/draft-04/schema#\"}",
                  "inline: schema /$schema: \"http://json-schema.org/draft-04/schema#\": only "
                  "draft-07 (http://json-schema.org/draft-07/schema#) is supported");
    compile_fails("{\"properties\": {\"a\": {\"definitions\": {}}}}",
                  "inline: schema /properties/a/definitions: definitions are supported at the "
                  "root only (references are \"#/definitions/<name>\")");
    compile_fails("{\"required\": [\"a\", \"a\"]}",
                  "inline: schema /required: \"a\" is listed twice");
    compile_fails("{\"anyOf\": []}",
                  "inline: schema /anyOf: must be a non-empty array of schemas");
    compile_fails("{\"properties\": {\"a\": 3}}",
                  "inline: schema /properties/a: a schema must be an object or a boolean, not "
                  "number");
    compile_fails("{\"title\": 3}", "inline: schema /title: must be a string");
    /* Annotations are accepted. */
    rb_schema_destroy(compile_ok("{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
                                 " \"$id\": \"x\", \"$comment\": \"c\", \"title\": \"t\","
                                 " \"description\": \"d\", \"default\": 1, \"examples\": [1]}"));
    /* A missing file is an I/O error naming it. */
    ck_assert_int_eq(rb_schema_load(DATA "does_not_exist.json", &s, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "does_not_exist.json"));
    rb_schema_destroy(NULL);
}
END_TEST

START_TEST(validate_path_is_truncated_and_optional) {
    rb_schema *s = compile_ok("{\"properties\": {\"abcdefghij\": {\"type\": \"string\"}}}");
    rb_json_doc *doc = NULL;
    ck_assert_int_eq(rb_json_parse("{\"abcdefghij\": 1}", 17, NULL, &doc, NULL), 0);
    char path[5];
    rb_error err;
    ck_assert_int_eq(rb_schema_validate(s, rb_json_doc_root(doc), path, sizeof path, &err), -1);
    ck_assert_str_eq(path, "/abc");
    ck_assert_int_eq(rb_schema_validate(s, rb_json_doc_root(doc), NULL, 0, NULL), -1);
    rb_json_doc_destroy(doc);
    rb_schema_destroy(s);
}
END_TEST

typedef struct thread_job {
    const rb_schema *schema;
    const rb_json *good, *bad;
    int failures;
} thread_job;

static void *validate_many(void *arg) {
    thread_job *job = arg;
    for (int i = 0; i < 2000; i++) {
        rb_error err;
        char path[64];
        if (rb_schema_validate(job->schema, job->good, path, sizeof path, &err) != 0)
            job->failures++;
        if (rb_schema_validate(job->schema, job->bad, path, sizeof path, &err) != -1 ||
            strcmp(path, "/currency") != 0)
            job->failures++;
    }
    return NULL;
}

START_TEST(schema_is_shared_by_threads) {
    rb_schema *s = NULL;
    rb_error err;
    ck_assert_int_eq(rb_schema_load(RB_SOURCE_DIR "/conf/product_schema.json", &s, &err), 0);
    const char good[] = "{\"product_id\": \"p\", \"event_type\": \"created\", \"event_time\": "
                        "\"2024-05-01T12:00:00Z\", \"name\": \"n\", \"currency\": \"USD\"}";
    const char bad[] = "{\"product_id\": \"p\", \"event_type\": \"created\", \"event_time\": "
                       "\"2024-05-01T12:00:00Z\", \"name\": \"n\", \"currency\": \"usd\"}";
    rb_json_doc *g = NULL, *b = NULL;
    ck_assert_int_eq(rb_json_parse(good, sizeof good - 1, NULL, &g, &err), 0);
    ck_assert_int_eq(rb_json_parse(bad, sizeof bad - 1, NULL, &b, &err), 0);
    pthread_t t[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){s, rb_json_doc_root(g), rb_json_doc_root(b), 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, validate_many, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(jobs[i].failures, 0);
    }
    rb_json_doc_destroy(g);
    rb_json_doc_destroy(b);
    rb_schema_destroy(s);
}
END_TEST

/* Expected epoch via timegm, an independent computation. */
static int64_t epoch_of(int y, int mo, int d, int h, int mi, int s) {
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000;
}

START_TEST(rfc3339_parsing) {
    int64_t ms;
    ck_assert_int_eq(rb_rfc3339_parse("2024-05-01T12:30:45Z", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(2024, 5, 1, 12, 30, 45));
    ck_assert_int_eq(rb_rfc3339_parse("2024-05-01t12:30:45.25z", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(2024, 5, 1, 12, 30, 45) + 250);
    ck_assert_int_eq(rb_rfc3339_parse("2024-05-01T12:30:45.123456789+02:00", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(2024, 5, 1, 10, 30, 45) + 123);
    ck_assert_int_eq(rb_rfc3339_parse("2024-01-01T00:30:00-01:45", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(2024, 1, 1, 2, 15, 0));
    ck_assert_int_eq(rb_rfc3339_parse("1969-12-31T23:59:59Z", &ms), 0);
    ck_assert_int_eq(ms, -1000);
    ck_assert_int_eq(rb_rfc3339_parse("2000-02-29T00:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(2000, 2, 29, 0, 0, 0));
    ck_assert_int_eq(rb_rfc3339_parse("0001-01-01T00:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(1, 1, 1, 0, 0, 0));
    ck_assert_int_eq(rb_rfc3339_parse("9999-12-31T23:59:59Z", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(9999, 12, 31, 23, 59, 59));
    /* Leap second: only at 23:59:60 UTC, counted as the next day's start. */
    ck_assert_int_eq(rb_rfc3339_parse("2016-12-31T23:59:60Z", &ms), 0);
    ck_assert_int_eq(ms, epoch_of(2017, 1, 1, 0, 0, 0));
    ck_assert_int_eq(rb_rfc3339_parse("2016-12-31T15:59:60-08:00", &ms), 0);
    ck_assert_int_eq(rb_rfc3339_parse("2016-12-31T12:00:60Z", NULL), -1);
    const char *bad[] = {"2024-05-01",
                         "2024-05-01T12:30Z",
                         "2024-05-01 12:30:45Z",
                         "2024-13-01T00:00:00Z",
                         "2023-02-29T00:00:00Z",
                         "1900-02-29T00:00:00Z",
                         "2024-04-31T00:00:00Z",
                         "2024-05-01T24:00:00Z",
                         "2024-05-01T12:60:00Z",
                         "2024-05-01T12:30:45",
                         "2024-05-01T12:30:45.Z",
                         "2024-05-01T12:30:45+0200",
                         "2024-05-01T12:30:45+24:00",
                         "2024-05-01T12:30:45Zx",
                         "24-05-01T12:30:45Z",
                         "2024-5-01T12:30:45Z",
                         "",
                         "2024-05-01T12:30:45+02:60"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(rb_rfc3339_parse(bad[i], &ms) == -1, "accepted %s", bad[i]);
    ck_assert_int_eq(rb_rfc3339_parse(NULL, &ms), -1);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("schema");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, product_schema_sample_events);
    tcase_add_test(tc, type_keyword);
    tcase_add_test(tc, object_keywords);
    tcase_add_test(tc, enum_and_const);
    tcase_add_test(tc, numeric_bounds);
    tcase_add_test(tc, string_keywords);
    tcase_add_test(tc, patterns);
    tcase_add_test(tc, array_keywords);
    tcase_add_test(tc, combinators);
    tcase_add_test(tc, refs_and_recursion);
    tcase_add_test(tc, compile_errors_name_file_and_path);
    tcase_add_test(tc, validate_path_is_truncated_and_optional);
    tcase_add_test(tc, schema_is_shared_by_threads);
    tcase_add_test(tc, rfc3339_parsing);
    suite_add_tcase(s, tc);
    return s;
}
