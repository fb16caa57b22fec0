/* Unit tests for JSON Schema compilation and validation (validate/schema.h)
 * and the RFC 3339 parser (common/rfc3339.h). */
#include "check_main.h"
#include "common/buf.h"
#include "common/error.h"
#include "json/json.h"
#include "common/rfc3339.h"
#include "validate/schema.h"
#include "validate/schema_decimal.h"
#include "validate/schema_ref.h"

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
    /* ECMA-262 features the POSIX translation refused: lookahead,
     * backreferences, word boundaries, \\u escapes, [\\W], [] and [^]. */
    s = compile_ok("{\"pattern\": \"^(?=a)a(b)\\\\1\\\\b[\\\\W]\\\\u00e9$\"}");
    VALID(s, "\"abb-\xc3\xa9\"");
    INVALID(s, "\"abc-\xc3\xa9\"", "", NULL);
    rb_schema_destroy(s);
    s = compile_ok("{\"pattern\": \"^a[]\"}"); /* [] matches nothing */
    INVALID(s, "\"a]\"", "", NULL);
    rb_schema_destroy(s);
    s = compile_ok("{\"pattern\": \"^a[^]$\"}"); /* [^] matches any character */
    VALID(s, "\"a\\n\"");
    rb_schema_destroy(s);
    /* "$" is the end of the string, "." no line terminator (ECMA-262). */
    s = compile_ok("{\"pattern\": \"^a.$\"}");
    INVALID(s, "\"ab\\n\"", "", NULL);
    INVALID(s, "\"a\\n\"", "", NULL);
    rb_schema_destroy(s);
    rb_error err;
    ck_assert_ptr_null(compile_text("{\"pattern\": \"a{2,1}\"}", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "does not compile"));
    /* PCRE2-only syntax is refused rather than read differently. */
    compile_fails("{\"pattern\": \"^a\\\\Z\"}", "inline: schema /pattern: pattern \"^a\\Z\" does "
                                                "not compile: \\Z is PCRE syntax, "
                                                "not ECMA-262, at character 2");
    compile_fails("{\"pattern\": \"(?i)a\"}",
                  "inline: schema /pattern: pattern \"(?i)a\" does not compile: the group \"(?i\" "
                  "is PCRE syntax, not ECMA-262, at character 0");
    compile_fails("{\"properties\": {\"a\": {\"pattern\": \"(x\"}}}",
                  "inline: schema /properties/a/pattern: pattern \"(x\" does not compile: "
                  "missing closing parenthesis at character 2");
}
END_TEST

/* Issue 16: patterns match code points (UTF mode), not bytes. */
START_TEST(patterns_are_unicode) {
    rb_schema *s = compile_ok("{\"pattern\": \"^.{1,3}$\"}");
    VALID(s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\""); /* three characters, six bytes */
    VALID(s, "\"\xf0\x9f\x98\x80\"");
    INVALID(s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"", "", NULL);
    rb_schema_destroy(s);
    s = compile_ok(
        "{\"properties\": {\"brand\": {\"pattern\": \"^[A-Za-z\\\\u00c0-\\\\u00ff ]+$\"}}}");
    VALID(s, "{\"brand\": \"Fj\xc3\xa4llr\xc3\xa4ven\"}");
    VALID(s, "{\"brand\": \"H\xc3\xa5kansson\"}");
    INVALID(s, "{\"brand\": \"Fj\xc3\xa4ll\xe2\x80\x94r\"}", "/brand", NULL);
    rb_schema_destroy(s);
}
END_TEST

/* A catastrophic pattern stops at the PCRE2 match limit and rejects the
 * value with a message saying so; it neither hangs nor crashes. */
START_TEST(pattern_match_limit) {
    rb_schema *s = compile_ok("{\"properties\": {\"v\": {\"pattern\": \"^(a+)+$\"}},"
                              " \"patternProperties\": {\"^(b+)+$\": {}}}");
    char inst[256];
    snprintf(inst, sizeof inst, "{\"v\": \"%s\"}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_int_eq(rb_json_parse(inst, strlen(inst), NULL, &doc, &err), 0);
    char path[64];
    time_t t0 = time(NULL);
    ck_assert_int_eq(rb_schema_validate(s, rb_json_doc_root(doc), path, sizeof path, &err), -1);
    ck_assert_str_eq(path, "/v");
    ck_assert_msg(strstr(err.msg, "/v: matching \"aaaa") &&
                      strstr(err.msg, "against the pattern ^(a+)+$ exceeded the pattern match "
                                      "limit (5568 steps for 46 bytes)"),
                  "%s", err.msg);
    rb_json_doc_destroy(doc);
    snprintf(inst, sizeof inst, "{\"%s\": 1}", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbc");
    ck_assert_int_eq(rb_json_parse(inst, strlen(inst), NULL, &doc, &err), 0);
    ck_assert_int_eq(rb_schema_validate(s, rb_json_doc_root(doc), path, sizeof path, &err), -1);
    ck_assert_msg(strstr(err.msg, "patternProperties ^(b+)+$ exceeded"), "%s", err.msg);
    ck_assert_int_le(time(NULL) - t0, 5);
    rb_json_doc_destroy(doc);
    rb_schema_destroy(s);
    /* The limit grows with the string: an honest pattern decides a long one. */
    s = compile_ok("{\"pattern\": \"^(a|b)*$\"}");
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_putc(&b, '"');
    for (int i = 0; i < 200000; i++) rb_buf_putc(&b, i % 2 ? 'a' : 'b');
    rb_buf_putc(&b, '"');
    ck_assert_int_eq(rb_json_parse(b.data, b.len, NULL, &doc, &err), 0);
    ck_assert_msg(rb_schema_validate(s, rb_json_doc_root(doc), path, sizeof path, &err) == 0, "%s",
                  err.msg);
    rb_json_doc_destroy(doc);
    rb_buf_free(&b);
    rb_schema_destroy(s);
    /* Under "not" (or any alternative) an unknown answer is no "no": the
     * limit still rejects the record. */
    s = compile_ok("{\"anyOf\": [{\"not\": {\"pattern\": \"^(a+)+$\"}}, {\"type\": \"null\"}]}");
    snprintf(inst, sizeof inst, "\"%s\"", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    ck_assert_int_eq(rb_json_parse(inst, strlen(inst), NULL, &doc, &err), 0);
    ck_assert_int_eq(rb_schema_validate(s, rb_json_doc_root(doc), path, sizeof path, &err), -1);
    ck_assert_msg(strstr(err.msg, "exceeded the pattern match limit"), "%s", err.msg);
    rb_json_doc_destroy(doc);
    rb_schema_destroy(s);
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
                  "inline: schema /properties/a/$ref: \"#/definitions/nope\" does not resolve: "
                  "nothing at \"definitions\" in the schema");
    compile_fails("{\"$ref\": \"other.json#/x\"}",
                  "inline: schema /$ref: \"other.json#/x\" does not resolve: urn:other.json is "
                  "not this schema nor an $id inside it (references to other files or URLs are "
                  "not fetched; ragbatch resolves references within the one schema)");
    compile_fails("{\"$ref\": \"#/definitions/a\", \"type\": \"object\", \"definitions\": {\"a\": "
                  "true}}",
                  "inline: schema /type: keywords beside $ref are ignored by draft-07; move "
                  "\"type\" and the $ref into an allOf");
    /* Errors inside an unused definition are still reported, at its path. */
    compile_fails("{\"definitions\": {\"unused\": {\"type\": \"text\"}}}",
                  "inline: schema /definitions/unused/type: unknown type \"text\"");
    compile_fails("{\"$defs\": {\"a\": {\"properties\": {\"b\": {\"minimum\": \"1\"}}}}}",
                  "inline: schema /$defs/a/properties/b/minimum: must be a number");
}
END_TEST

/* Issue 16: references anywhere in the file, through $id and anchors. */
START_TEST(refs_within_one_file) {
    /* JSON pointers to any schema, nested definitions, escapes. */
    rb_schema *s = compile_ok(
        "{\"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"$ref\": \"#/properties/a\"},"
        " \"c\": {\"$ref\": \"#/definitions/x/definitions/y\"},"
        " \"d\": {\"$ref\": \"#/x~1y%25z\"}},"
        " \"x/y%z\": {\"type\": \"boolean\"},"
        " \"definitions\": {\"x\": {\"definitions\": {\"y\": {\"type\": \"string\"}}}}}");
    VALID(s, "{\"b\": 1, \"c\": \"s\", \"d\": true}");
    INVALID(s, "{\"b\": 1.5}", "/b", "/b: 1.5 is not of type integer");
    INVALID(s, "{\"c\": 1}", "/c", "/c: 1 is not of type string");
    INVALID(s, "{\"d\": 1}", "/d", "/d: 1 is not of type boolean");
    rb_schema_destroy(s);
    /* $id-relative references and draft-07's plain-name $id. */
    s = compile_ok(
        "{\"$id\": \"http://example.com/root.json\","
        " \"properties\": {\"n\": {\"$ref\": \"node.json\"},"
        "   \"p\": {\"$ref\": \"#pos\"}, \"q\": {\"$ref\": "
        "\"http://example.com/node.json#/properties/v\"}},"
        " \"definitions\": {\"node\": {\"$id\": \"node.json\","
        "   \"properties\": {\"v\": {\"type\": \"number\"}, \"next\": {\"$ref\": \"node.json\"},"
        "     \"up\": {\"$ref\": \"root.json\"}}},"
        "   \"pos\": {\"$id\": \"#pos\", \"minimum\": 0}}}");
    VALID(s, "{\"n\": {\"v\": 1, \"next\": {\"v\": 2, \"up\": {\"p\": 3}}}, \"q\": 4}");
    INVALID(s, "{\"n\": {\"next\": {\"v\": \"x\"}}}", "/n/next/v",
            "/n/next/v: \"x\" is not of type number");
    INVALID(s, "{\"n\": {\"up\": {\"p\": -1}}}", "/n/up/p",
            "/n/up/p: -1 is less than the minimum 0");
    INVALID(s, "{\"q\": \"4\"}", "/q", NULL);
    rb_schema_destroy(s);
    /* A pointer into an unknown keyword: its $id applies once, so its own
     * relative $ref resolves against http://e.com/a/sub/. */
    s = compile_ok("{\"$id\": \"http://e.com/a/root.json\","
                   " \"properties\": {\"p\": {\"$ref\": \"#/x\"}},"
                   " \"x\": {\"$id\": \"sub/\", \"properties\": {\"q\": {\"$ref\": \"t.json\"}}},"
                   " \"definitions\": {\"t\": {\"$id\": \"http://e.com/a/sub/t.json\", \"type\": "
                   "\"integer\"}}}");
    VALID(s, "{\"p\": {\"q\": 1}}");
    INVALID(s, "{\"p\": {\"q\": \"s\"}}", "/p/q", "/p/q: \"s\" is not of type integer");
    rb_schema_destroy(s);
    /* 2020-12: $anchor, $defs, and keywords beside $ref apply. */
    s = compile_ok("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
                   " \"$defs\": {\"pos\": {\"$anchor\": \"positive\", \"minimum\": 0}},"
                   " \"$ref\": \"#positive\", \"maximum\": 10}");
    VALID(s, "5");
    INVALID(s, "-1", "", "/: -1 is less than the minimum 0");
    INVALID(s, "11", "", "/: 11 is greater than the maximum 10");
    rb_schema_destroy(s);
    compile_fails("{\"$ref\": \"#nope\"}",
                  "inline: schema /$ref: \"#nope\" does not resolve: no $id or $anchor names "
                  "\"#nope\"");
    compile_fails("{\"$ref\": \"#/enum/0\", \"enum\": [1]}",
                  "inline: schema /enum: keywords beside $ref are ignored by draft-07; move "
                  "\"enum\" and the $ref into an allOf");
    compile_fails("{\"allOf\": [{\"$ref\": \"#/x\"}], \"x\": 3}",
                  "inline: schema /allOf/0/$ref: \"#/x\" does not resolve: the target is a "
                  "number, not a schema");
}
END_TEST

/* Issue 16: the draft-07 keywords the subset refused. */
START_TEST(more_draft7_keywords) {
    rb_schema *s = compile_ok("{\"multipleOf\": 0.1}");
    VALID(s, "0.3"); /* 0.3 / 0.1 is 2.9999999999999996 in doubles */
    VALID(s, "1e2");
    VALID(s, "-7.7");
    VALID(s, "0");
    INVALID(s, "0.35", "", "/: 0.35 is not a multiple of 0.1 (multipleOf)");
    INVALID(s, "1e-2", "", NULL);
    rb_schema_destroy(s);
    s = compile_ok("{\"multipleOf\": 7e-10}");
    VALID(s, "700000000000000000000000000000000000000000000007e-10"); /* (10^47+1) * 7e-10 */
    INVALID(s, "700000000000000000000000000000000000000000000007e-11", "", NULL);
    VALID(s, "14.0");
    rb_schema_destroy(s);
    compile_fails("{\"multipleOf\": 0}", "inline: schema /multipleOf: must be greater than 0");
    compile_fails("{\"multipleOf\": 1.23456789012345678901}",
                  "inline: schema /multipleOf: more than 19 significant digits are not supported");
    s = compile_ok("{\"uniqueItems\": true}");
    VALID(s, "[1, \"1\", true, null, {\"a\": 1}, [1]]");
    INVALID(s, "[1, 2, 1.0]", "", "/: items 0 and 2 are equal (uniqueItems is true)");
    INVALID(s, "[{\"a\": 1, \"b\": [2]}, {\"b\": [2.0], \"a\": 1e0}]", "",
            "/: items 0 and 1 are equal (uniqueItems is true)");
    rb_schema_destroy(s);
    s = compile_ok("{\"items\": [{\"type\": \"string\"}], \"additionalItems\": false,"
                   " \"contains\": {\"const\": \"x\"}}");
    VALID(s, "[\"x\"]");
    INVALID(s, "[\"x\", 1]", "",
            "/: array of 2 items has more than the 1 allowed (additionalItems is false)");
    INVALID(s, "[1]", "/0", "/0: 1 is not of type string");
    INVALID(s, "[\"y\"]", "",
            "/: no item of the array of 1 items matches \"contains\" (item 0 says: /0: \"y\" is "
            "not the constant \"x\")");
    rb_schema_destroy(s);
    s = compile_ok(
        "{\"patternProperties\": {\"^x-\": {\"type\": \"string\"}},"
        " \"properties\": {\"id\": {}}, \"additionalProperties\": false,"
        " \"propertyNames\": {\"maxLength\": 5}, \"minProperties\": 1, \"maxProperties\": 2,"
        " \"dependencies\": {\"x-a\": [\"id\"], \"x-b\": {\"required\": [\"x-c\"]}}}");
    VALID(s, "{\"id\": 1, \"x-a\": \"s\"}");
    INVALID(s, "{}", "", "/: object of 0 properties has fewer than minProperties 1");
    INVALID(s, "{\"id\": 1, \"x-a\": \"s\", \"x-c\": \"s\"}", "",
            "/: object of 3 properties has more than maxProperties 2");
    INVALID(s, "{\"x-a\": \"s\"}", "",
            "/: property \"x-a\" requires property \"id\" (dependencies)");
    INVALID(s, "{\"x-b\": \"s\"}", "", "/: required property \"x-c\" is missing");
    INVALID(s, "{\"x-a\": 1, \"id\": 1}", "/x-a", "/x-a: 1 is not of type string");
    INVALID(s, "{\"y\": 1}", "/y",
            "/y: property \"y\" is not allowed (additionalProperties is false)");
    INVALID(s, "{\"x-long\": \"s\"}", "/x-long",
            "/x-long: property name \"x-long\" does not match propertyNames (/x-long: \"x-long\" "
            "is longer than maxLength 5)");
    rb_schema_destroy(s);
    /* "then" without "if" has no effect, as the specification says. */
    s = compile_ok("{\"then\": {\"const\": 0}}");
    VALID(s, "1");
    rb_schema_destroy(s);
}
END_TEST

START_TEST(formats) {
    static const struct {
        const char *format, *good, *bad;
    } cases[] = {
        {"date", "2024-02-29", "2023-02-29"},
        {"time", "12:30:45.5+02:00", "12:30"},
        {"email", "a.b+c@example.com", "a..b@example.com"},
        {"hostname", "api-1.example.com", "-api.example.com"},
        {"ipv4", "192.168.0.1", "192.168.00.1"},
        {"ipv6", "2001:db8::ff00:42:8329", "2001:db8:::1"},
        {"uri", "https://example.com/a?b=c#d", "/relative/path"},
        {"uri-reference", "../a/b?c", "a b"},
        {"uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"},
        {"regex", "^(?:a|b)+$", "(unclosed"},
        {"json-pointer", "/a~1b/0", "a/b"},
        {"relative-json-pointer", "1/a", "01/a"},
        {"date-time", "2024-05-01T12:00:00Z", "2024-05-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char schema[128], good[128], bad[128];
        snprintf(schema, sizeof schema, "{\"format\": \"%s\"}", cases[i].format);
        snprintf(good, sizeof good, "\"%s\"", cases[i].good);
        snprintf(bad, sizeof bad, "\"%s\"", cases[i].bad);
        rb_schema *s = compile_ok(schema);
        check_instance(s, good, true, NULL, NULL);
        check_instance(s, bad, false, NULL, "");
        check_instance(s, "12", true, NULL, NULL); /* formats apply to strings only */
        rb_schema_destroy(s);
    }
    rb_schema *s = compile_ok("{\"format\": \"email\"}");
    INVALID(s, "\"nobody\"", "", "/: \"nobody\" is not an email address");
    rb_schema_destroy(s);
    /* A custom format is an annotation; a typo of a known one is refused. */
    s = compile_ok("{\"format\": \"currency-code\"}");
    VALID(s, "\"anything\"");
    rb_schema_destroy(s);
    compile_fails("{\"format\": \"date_time\"}",
                  "inline: schema /format: format \"date_time\" is unknown (did you mean "
                  "\"date-time\"?)");
    rb_error err;
    ck_assert_ptr_null(compile_text("{\"format\": \"idn-email\"}", &err));
    ck_assert_msg(strstr(err.msg, "format \"idn-email\" is not checked by ragbatch"), "%s",
                  err.msg);
}
END_TEST

/* Issue 16: 2019-09 / 2020-12 keywords when $schema says so, refusals
 * naming the keyword otherwise. */
START_TEST(drafts_2019_and_2020) {
    rb_schema *s = compile_ok(
        "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        " \"prefixItems\": [{\"type\": \"string\"}], \"items\": {\"type\": \"integer\"},"
        " \"contains\": {\"const\": 1}, \"minContains\": 2, \"maxContains\": 3}");
    VALID(s, "[\"a\", 1, 1]");
    INVALID(s, "[\"a\", 1, 2]", "", "/: 1 items match \"contains\", fewer than minContains 2");
    INVALID(s, "[\"a\", 1, 1, 1, 1]", "",
            "/: 4 items match \"contains\", more than maxContains 3");
    INVALID(s, "[1, 1, 1]", "/0", "/0: 1 is not of type string");
    INVALID(s, "[\"a\", 1, 1, \"b\"]", "/3", "/3: \"b\" is not of type integer");
    rb_schema_destroy(s);
    s = compile_ok("{\"$schema\": \"https://json-schema.org/draft/2019-09/schema\","
                   " \"dependentRequired\": {\"a\": [\"b\"]},"
                   " \"dependentSchemas\": {\"c\": {\"required\": [\"d\"]}},"
                   " \"items\": [true], \"additionalItems\": false}");
    VALID(s, "{\"a\": 1, \"b\": 2, \"c\": 3, \"d\": 4}");
    INVALID(s, "{\"a\": 1}", "", "/: property \"a\" requires property \"b\" (dependentRequired)");
    INVALID(s, "{\"c\": 1}", "", "/: required property \"d\" is missing");
    INVALID(s, "[1, 2]", "", NULL);
    rb_schema_destroy(s);
    compile_fails("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
                  " \"unevaluatedProperties\": false}",
                  "inline: schema /unevaluatedProperties: keyword \"unevaluatedProperties\" is "
                  "not "
                  "supported: it needs annotation collection, which ragbatch does not do; list "
                  "the allowed properties and use additionalProperties");
    compile_fails("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
                  " \"$dynamicRef\": \"#meta\"}",
                  "inline: schema /$dynamicRef: keyword \"$dynamicRef\" is not supported: dynamic "
                  "scopes are not supported; use $ref");
    compile_fails("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
                  " \"items\": [{}]}",
                  "inline: schema /items: the array form of items is prefixItems in draft "
                  "2020-12");
    compile_fails("{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
                  " \"dependencies\": {}}",
                  "inline: schema /dependencies: keyword \"dependencies\" is not part of draft "
                  "2020-12 (use dependentRequired and dependentSchemas); declare its draft in "
                  "$schema (http://json-schema.org/draft-07/schema#)");
    /* A later draft's keyword in a draft-07 schema is refused, not ignored. */
    compile_fails("{\"prefixItems\": [{}]}",
                  "inline: schema /prefixItems: keyword \"prefixItems\" is not part of draft-07; "
                  "declare its draft in $schema (https://json-schema.org/draft/2020-12/schema)");
    compile_fails("{\"properties\": {\"a\": {\"dependentRequired\": {}}}}",
                  "inline: schema /properties/a/dependentRequired: keyword \"dependentRequired\" "
                  "is not part of draft-07; declare its draft in $schema "
                  "(https://json-schema.org/draft/2020-12/schema)");
}
END_TEST

/* Adversarial instances stay bounded: a schema whose oneOf re-evaluates a
 * recursive $ref on every level (2^depth evaluations) stops at the step
 * budget; uniqueItems on a huge array is not quadratic. */
START_TEST(bounded_on_adversarial_input) {
    rb_schema *s = compile_ok("{\"oneOf\": [{\"items\": {\"$ref\": \"#\"}},"
                              " {\"items\": {\"$ref\": \"#\"}, \"minItems\": 0}]}");
    rb_buf b;
    rb_buf_init(&b);
    for (int i = 0; i < 60; i++) rb_buf_putc(&b, '[');
    for (int i = 0; i < 60; i++) rb_buf_putc(&b, ']');
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_int_eq(rb_json_parse(b.data, b.len, NULL, &doc, &err), 0);
    time_t t0 = time(NULL);
    ck_assert_int_eq(rb_schema_validate(s, rb_json_doc_root(doc), NULL, 0, &err), -1);
    ck_assert_msg(strstr(err.msg, "validation stopped after 101920 schema evaluations"), "%s",
                  err.msg);
    ck_assert_int_le(time(NULL) - t0, 5);
    rb_json_doc_destroy(doc);
    rb_schema_destroy(s);
    rb_buf_free(&b);
    s = compile_ok("{\"uniqueItems\": true}");
    rb_buf_init(&b);
    rb_buf_putc(&b, '[');
    for (int i = 0; i < 200000; i++) rb_buf_printf(&b, "%s%d", i ? "," : "", i);
    rb_buf_puts(&b, ",17.0]");
    ck_assert_int_eq(rb_json_parse(b.data, b.len, NULL, &doc, &err), 0);
    char path[16];
    t0 = time(NULL);
    ck_assert_int_eq(rb_schema_validate(s, rb_json_doc_root(doc), path, sizeof path, &err), -1);
    ck_assert_str_eq(err.msg, "/: items 17 and 200000 are equal (uniqueItems is true)");
    ck_assert_int_le(time(NULL) - t0, 5);
    rb_json_doc_destroy(doc);
    rb_schema_destroy(s);
    rb_buf_free(&b);
}
END_TEST

START_TEST(compile_errors_name_file_and_path) {
    rb_schema *s = NULL;
    rb_error err;
    ck_assert_int_eq(rb_schema_load(DATA "unknown_keyword.json", &s, &err), -1);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(err.code, RB_ERR_SCHEMA);
    ck_assert_str_eq(err.msg, DATA "unknown_keyword.json: schema /properties/price/mutlipleOf: "
                                   "keyword \"mutlipleOf\" is not supported (did you mean "
                                   "\"multipleOf\"?)");
    compile_fails("{\"requird\": [\"a\"]}",
                  "inline: schema /requird: keyword \"requird\" is not supported (did you mean "
                  "\"required\"?)");
    /* Unknown keywords that are no typo are annotations (the specification). */
    rb_schema_destroy(
        compile_ok("{\"x-ui-order\": 3, \"properties\": {\"a\": {\"widget\": {}}}}"));
    /* OpenAPI's singular "example" sits one letter from "examples" but is
     * what schemas exported from OpenAPI documents carry: an annotation. */
    rb_schema_destroy(compile_ok("{\"properties\": {\"a\": {\"type\": \"string\", "
                                 "\"example\": \"x\"}}}"));
    compile_fails("{\"type\": \"text\"}", "inline: schema /type: unknown type \"text\"");
    compile_fails("{\"minLength\": -1}",
                  "inline: schema /minLength: must be a non-negative integer");
    compile_fails("{\"exclusiveMinimum\": true}",
                  "inline: schema /exclusiveMinimum: must be a number (the boolean form is "
                  "draft-04; in draft-07 write the bound itself here)");
    compile_fails("{\"$schema\": \"http://json-schema.org/draft-04/schema#\"}",
                  "inline: schema /$schema: \"http://json-schema.org/draft-04/schema#\": only "
                  "draft-07 (http://json-schema.org/draft-07/schema#), 2019-09 "
                  "(https://json-schema.org/draft/2019-09/schema) and 2020-12 "
                  "(https://json-schema.org/draft/2020-12/schema) are supported");
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

/* multipleOf on decimal text, against answers worked out by hand. */
START_TEST(decimal_multiples) {
    static const struct {
        const char *v, *m;
        bool multiple;
    } cases[] = {
        {"0.3", "0.1", true},
        {"0.30000000000000004", "0.1", false},
        {"1E+2", "25", true},
        {"-0", "7", true},
        {"0.0", "0.5", true},
        {"1e-400", "1e-401", true},
        {"1e-400", "3", false},
        {"12.340", "0.01", true},
        {"12.345", "0.01", false},
        {"100", "1e2", true},
        {"1000", "1E3", true},
        {"10", "100", false},
        {"4.5", "1.5", true},
        {"35", "1.5", false},
        {"0.0075", "0.0001", true},
        {"0.00751", "0.0001", false},
        {"18446744073709551615", "5", true},
        {"18446744073709551616", "5", false},
        {"1234567890123456789.0", "1234567890123456789", true},
        {"9999999999999999999e5", "9999999999999999999", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ck_assert_msg(rb_schema_decimal_multiple(cases[i].v, strlen(cases[i].v), cases[i].m,
                                                 strlen(cases[i].m)) == cases[i].multiple,
                      "%s multipleOf %s", cases[i].v, cases[i].m);
    ck_assert_int_eq(rb_schema_decimal_divisor_ok("0.000", 5), 0);
    ck_assert_int_eq(rb_schema_decimal_divisor_ok("-2", 2), 0);
    ck_assert_int_eq(rb_schema_decimal_divisor_ok("1.5e-3", 6), 1);
    /* Trailing zeros are not significant: 19 digits fit, 20 do not. */
    ck_assert_int_eq(rb_schema_decimal_divisor_ok("12345678901234567890", 20), 1);
    ck_assert_int_eq(rb_schema_decimal_divisor_ok("12345678901234567891", 20), -1);
    ck_assert_int_eq(rb_schema_decimal_divisor_ok("1234567890.1234567891", 21), -1);
    ck_assert_int_eq(rb_schema_decimal_divisor_ok("1234567890123456789000", 22), 1);
}
END_TEST

/* RFC 3986 section 5.4: every normal and abnormal example. */
START_TEST(uri_resolution_rfc3986) {
    static const char *const cases[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char *got = rb_schema_uri_resolve("http://a/b/c/d;p?q", cases[i][0]);
        ck_assert_ptr_nonnull(got);
        ck_assert_msg(strcmp(got, cases[i][1]) == 0, "\"%s\": got %s, want %s", cases[i][0], got,
                      cases[i][1]);
        free(got);
    }
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
    tcase_add_test(tc, refs_within_one_file);
    tcase_add_test(tc, more_draft7_keywords);
    tcase_add_test(tc, formats);
    tcase_add_test(tc, drafts_2019_and_2020);
    tcase_add_test(tc, bounded_on_adversarial_input);
    tcase_add_test(tc, patterns_are_unicode);
    tcase_add_test(tc, pattern_match_limit);
    tcase_add_test(tc, uri_resolution_rfc3986);
    tcase_add_test(tc, decimal_multiples);
    tcase_add_test(tc, compile_errors_name_file_and_path);
    tcase_add_test(tc, validate_path_is_truncated_and_optional);
    tcase_add_test(tc, schema_is_shared_by_threads);
    tcase_add_test(tc, rfc3339_parsing);
    suite_add_tcase(s, tc);
    return s;
}
