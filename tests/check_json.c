/* Unit tests for the JSON parser (json/json.h). */
#include "check_main.h"
#include "common/buf.h"
#include "common/error.h"
#include "json/json.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static rb_json_doc *parse_ok(const char *text) {
    rb_json_doc *doc = NULL;
    rb_error err;
    rb_error_clear(&err);
    int rc = rb_json_parse(text, strlen(text), NULL, &doc, &err);
    ck_assert_msg(rc == 0, "parse of <%s> failed: %s", text, err.msg);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

/* Parses `text`, expects failure, and checks that the message starts with
 * "line L, column C: " and contains `what`. */
static void parse_fails(const char *text, size_t len, int line, int col, const char *what) {
    rb_json_doc *doc = (rb_json_doc *)1;
    rb_error err;
    rb_error_clear(&err);
    ck_assert_int_eq(rb_json_parse(text, len, NULL, &doc, &err), -1);
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(err.code, RB_ERR_JSON);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "line %d, column %d: ", line, col);
    ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0, "<%s>: expected '%s', got '%s'",
                  text, prefix, err.msg);
    ck_assert_msg(strstr(err.msg, what) != NULL, "<%s>: expected '%s' in '%s'", text, what,
                  err.msg);
}

#define FAILS(text, line, col, what) parse_fails(text, sizeof(text) - 1, line, col, what)

START_TEST(parses_every_type) {
    rb_json_doc *doc =
        parse_ok(" {\"s\": \"hi\", \"i\": -42, \"d\": 2.5e1, \"t\": true,\n"
                 "  \"f\": false, \"n\": null, \"a\": [1, [], {}], \"o\": {\"x\": 1}}\n");
    const rb_json *root = rb_json_doc_root(doc);
    ck_assert_int_eq(root->type, RB_JSON_OBJECT);
    ck_assert_uint_eq(root->count, 8);
    ck_assert_str_eq(root->members[0].key, "s");
    ck_assert_str_eq(rb_json_string(rb_json_get(root, "s")), "hi");
    const rb_json *i = rb_json_get(root, "i");
    ck_assert_int_eq(i->type, RB_JSON_NUMBER);
    ck_assert(i->is_integer);
    ck_assert_int_eq(i->integer, -42);
    ck_assert(i->number == -42.0);
    const rb_json *d = rb_json_get(root, "d");
    ck_assert(!d->is_integer);
    ck_assert(d->number == 25.0);
    ck_assert_int_eq(rb_json_get(root, "t")->type, RB_JSON_BOOL);
    ck_assert(rb_json_get(root, "t")->boolean);
    ck_assert(!rb_json_get(root, "f")->boolean);
    ck_assert_int_eq(rb_json_get(root, "n")->type, RB_JSON_NULL);
    ck_assert_int_eq(rb_json_get(root, "n")->line, 2);
    const rb_json *a = rb_json_get(root, "a");
    ck_assert_uint_eq(a->count, 3);
    ck_assert_int_eq(a->items[1].type, RB_JSON_ARRAY);
    ck_assert_uint_eq(a->items[1].count, 0);
    ck_assert_int_eq(a->items[2].type, RB_JSON_OBJECT);
    ck_assert_uint_eq(a->raw_len, strlen("[1, [], {}]"));
    ck_assert(memcmp(a->raw, "[1, [], {}]", a->raw_len) == 0);
    ck_assert_uint_eq(rb_json_get(root, "s")->raw_len, 4); /* quotes included */
    ck_assert_int_eq(rb_json_get_path(root, "o.x")->integer, 1);
    ck_assert_ptr_null(rb_json_get_path(root, "o.y"));
    ck_assert_ptr_null(rb_json_get_path(root, "s.x"));
    ck_assert_ptr_null(rb_json_get(root, "missing"));
    ck_assert_ptr_null(rb_json_get(NULL, "s"));
    ck_assert_ptr_null(rb_json_string(i));
    ck_assert_str_eq(rb_json_type_name(RB_JSON_OBJECT), "object");
    rb_json_doc_destroy(doc);
    rb_json_doc_destroy(NULL);
}
END_TEST

START_TEST(parses_top_level_scalars) {
    const char *texts[] = {"42", " -0 ", "\"x\"", "true", "false", "null", "1e3"};
    rb_json_type types[] = {RB_JSON_NUMBER, RB_JSON_NUMBER, RB_JSON_STRING, RB_JSON_BOOL,
                            RB_JSON_BOOL,   RB_JSON_NULL,   RB_JSON_NUMBER};
    for (size_t k = 0; k < sizeof texts / sizeof *texts; k++) {
        rb_json_doc *doc = parse_ok(texts[k]);
        ck_assert_int_eq(rb_json_doc_root(doc)->type, types[k]);
        rb_json_doc_destroy(doc);
    }
    /* The caller's buffer need not be NUL-terminated. */
    const char text[] = "123456";
    rb_json_doc *doc = NULL;
    ck_assert_int_eq(rb_json_parse(text, 3, NULL, &doc, NULL), 0);
    ck_assert_int_eq(rb_json_doc_root(doc)->integer, 123);
    rb_json_doc_destroy(doc);
}
END_TEST

START_TEST(decodes_all_escapes) {
    rb_json_doc *doc =
        parse_ok("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\", \"\\u0041\\u00e9\\u20AC\", "
                 "\"\\ud83d\\ude00\", \"caf\xc3\xa9 \xf0\x9f\x98\x80\"]");
    const rb_json *r = rb_json_doc_root(doc);
    ck_assert_str_eq(r->items[0].str, "\" \\ / \b \f \n \r \t");
    ck_assert_uint_eq(r->items[0].str_len, 15);
    ck_assert_str_eq(r->items[1].str, "A\xc3\xa9\xe2\x82\xac");
    ck_assert_str_eq(r->items[2].str, "\xf0\x9f\x98\x80");
    ck_assert_str_eq(r->items[3].str, "caf\xc3\xa9 \xf0\x9f\x98\x80");
    rb_json_doc_destroy(doc);
    /* Keys are decoded too. */
    doc = parse_ok("{\"a\\u0062\": 1}");
    ck_assert_int_eq(rb_json_get(rb_json_doc_root(doc), "ab")->integer, 1);
    rb_json_doc_destroy(doc);
}
END_TEST

START_TEST(reports_syntax_errors_with_position) {
    FAILS("", 1, 1, "expected a value, found end of input");
    FAILS("   \n  ", 2, 3, "expected a value");
    FAILS("{\"a\": 1,}", 1, 8, "trailing comma before '}'");
    FAILS("[1,\n 2,\n]", 2, 3, "trailing comma before ']'");
    FAILS("[1 2]", 1, 4, "expected ',' or ']' after array item, found '2'");
    FAILS("{\"a\" 1}", 1, 6, "unexpected '1'");
    FAILS("{\"a\" \"b\"}", 1, 6, "expected ':' after object key, found '\"'");
    FAILS("{\"a\": 1 \"b\": 2}", 1, 9, "expected ',' or '}' after object member");
    FAILS("{\"a\"}", 1, 5, "expected ':' after object key, found '}'");
    FAILS("{1: 2}", 1, 2, "unexpected '1'");
    FAILS("[1] [2]", 1, 5, "unexpected data after the JSON value");
    FAILS("1 2", 1, 3, "unexpected data after the JSON value");
    FAILS("[1, 2", 1, 6, "'[' opened at line 1, column 1 is not closed");
    FAILS("{\"a\": [1}", 1, 9, "unexpected '}'");
    FAILS("\"abc", 1, 1, "unterminated string");
    FAILS("[tru]", 1, 2, "invalid literal 'tru'");
    FAILS("[nul1]", 1, 2, "invalid literal");
    FAILS("{\"x\":\n  \"a\\qb\"}", 2, 5, "invalid escape");
    FAILS("[\"a\\u12G4\"]", 1, 4, "four hex digits");
    FAILS("[\"tab\there\"]", 1, 6, "control character 0x09");
    FAILS("[\"nl\nhere\"]", 1, 5, "control character 0x0a");
    FAILS("[\"x\", \"\\u0000\"]", 1, 8, "\\u0000 is not allowed");
    FAILS("[\"\\ud83d\"]", 1, 3, "high surrogate \\uD83D is not followed by a low surrogate");
    FAILS("[\"\\ud83d\\u0041\"]", 1, 3, "high surrogate");
    FAILS("[\"\\ude00x\"]", 1, 3, "lone low surrogate \\uDE00");
    FAILS("[\"a\", \"b\x00\"]", 1, 9, "NUL byte");
    FAILS("{} x", 1, 4, "unexpected");
}
END_TEST

START_TEST(checks_number_grammar) {
    const char *bad[] = {"[01]",   "[-]",     "[1.]",  "[.5]",   "[1e]",  "[1e+]",      "[+1]",
                         "[0x10]", "[1.5.2]", "[--1]", "[1E5e]", "[-01]", "[Infinity]", "[NaN]"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        rb_json_doc *doc = NULL;
        rb_error err;
        ck_assert_msg(rb_json_parse(bad[k], strlen(bad[k]), NULL, &doc, &err) == -1, "%s accepted",
                      bad[k]);
        ck_assert_int_eq(err.code, RB_ERR_JSON);
    }
    FAILS("[01]", 1, 3, "malformed number '01'");
    FAILS("[1.]", 1, 4, "malformed number");
    FAILS("[1e400]", 1, 2, "out of range");
    const char *good[] = {"0", "-0", "0.5", "-0.5e-3", "1E5", "1e+5", "123456789", "1e-400"};
    for (size_t k = 0; k < sizeof good / sizeof *good; k++) rb_json_doc_destroy(parse_ok(good[k]));
}
END_TEST

START_TEST(handles_big_numbers) {
    rb_json_doc *doc = parse_ok("[9223372036854775807, -9223372036854775808, "
                                "9223372036854775808, -9223372036854775809, 1.0, 1e2, "
                                "123456789012345678901234567890]");
    const rb_json *r = rb_json_doc_root(doc);
    ck_assert(r->items[0].is_integer);
    ck_assert_int_eq(r->items[0].integer, INT64_MAX);
    ck_assert(r->items[1].is_integer);
    ck_assert_int_eq(r->items[1].integer, INT64_MIN);
    ck_assert(!r->items[2].is_integer);
    ck_assert(r->items[2].number == 9223372036854775808.0);
    ck_assert(!r->items[3].is_integer);
    ck_assert(!r->items[4].is_integer); /* written with a fraction */
    ck_assert(r->items[4].number == 1.0);
    ck_assert(!r->items[5].is_integer); /* written with an exponent */
    ck_assert(r->items[5].number == 100.0);
    ck_assert(!r->items[6].is_integer);
    ck_assert(fabs(r->items[6].number - 1.2345678901234568e29) < 1e14);
    rb_json_doc_destroy(doc);
}
END_TEST

START_TEST(rejects_duplicate_keys) {
    FAILS("{\"a\": 1, \"b\": 2, \"a\": 3}", 1, 18, "duplicate key \"a\"");
    FAILS("{\"o\": {\"k\": 1, \"\\u006b\": 2}}", 1, 16, "duplicate key \"k\"");
    /* A large object takes the sorted path; the first duplicate in document
     * order is the one reported. */
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_puts(&b, "{");
    for (int i = 0; i < 100; i++) rb_buf_printf(&b, "%s\"k%d\": %d", i ? ", " : "", i, i);
    rb_buf_puts(&b, ", \"k70\": 0, \"k5\": 0}");
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_int_eq(rb_json_parse(b.data, b.len, NULL, &doc, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate key \"k70\""));
    int col = (int)(strstr(b.data, ", \"k70\": 0") - b.data) + 3;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "line 1, column %d: ", col);
    ck_assert_msg(strncmp(err.msg, prefix, strlen(prefix)) == 0, "%s", err.msg);
    /* Without duplicates the large object parses and lookups work. */
    rb_buf_reset(&b);
    rb_buf_puts(&b, "{");
    for (int i = 0; i < 100; i++) rb_buf_printf(&b, "%s\"k%d\": %d", i ? ", " : "", i, i);
    rb_buf_puts(&b, "}");
    ck_assert_int_eq(rb_json_parse(b.data, b.len, NULL, &doc, &err), 0);
    ck_assert_int_eq(rb_json_get(rb_json_doc_root(doc), "k77")->integer, 77);
    rb_json_doc_destroy(doc);
    rb_buf_free(&b);
}
END_TEST

static char *nested(size_t depth) {
    char *s = malloc(2 * depth + 1);
    for (size_t i = 0; i < depth; i++) {
        s[i] = '[';
        s[2 * depth - 1 - i] = ']';
    }
    s[2 * depth] = '\0';
    return s;
}

START_TEST(enforces_depth_and_token_limits) {
    rb_json_doc *doc = NULL;
    rb_error err;
    char *s = nested(64);
    ck_assert_int_eq(rb_json_parse(s, strlen(s), NULL, &doc, &err), 0);
    rb_json_doc_destroy(doc);
    free(s);
    s = nested(65);
    ck_assert_int_eq(rb_json_parse(s, strlen(s), NULL, &doc, &err), -1);
    ck_assert_str_eq(err.msg, "line 1, column 65: nesting deeper than 64 levels");
    free(s);
    rb_json_limits lim = {.max_depth = 3, .max_tokens = 0};
    ck_assert_int_eq(rb_json_parse("{\"a\":[[[1]]]}", 13, &lim, &doc, &err), -1);
    ck_assert_str_eq(err.msg, "line 1, column 8: nesting deeper than 3 levels");
    ck_assert_int_eq(rb_json_parse("{\"a\":[[1]]}", 11, &lim, &doc, &err), 0);
    rb_json_doc_destroy(doc);
    /* Deep nesting far beyond the cap fails cleanly instead of recursing. */
    lim.max_depth = 1000000;
    s = nested(100000);
    ck_assert_int_eq(rb_json_parse(s, strlen(s), &lim, &doc, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "nesting deeper than"));
    free(s);
    /* Tokens: [1,2,3] is four tokens. */
    rb_json_limits tl = {.max_depth = 0, .max_tokens = 4};
    ck_assert_int_eq(rb_json_parse("[1,2,3]", 7, &tl, &doc, &err), 0);
    rb_json_doc_destroy(doc);
    ck_assert_int_eq(rb_json_parse("[1,2,3,4]", 9, &tl, &doc, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "more than 4 JSON tokens"));
    /* Many tokens make the token array grow several times. */
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_putc(&b, '[');
    for (int i = 0; i < 5000; i++) rb_buf_printf(&b, "%s{\"v\":%d}", i ? "," : "", i);
    rb_buf_putc(&b, ']');
    ck_assert_int_eq(rb_json_parse(b.data, b.len, NULL, &doc, &err), 0);
    ck_assert_uint_eq(rb_json_doc_root(doc)->count, 5000);
    ck_assert_int_eq(rb_json_get(&rb_json_doc_root(doc)->items[4321], "v")->integer, 4321);
    rb_json_doc_destroy(doc);
    rb_buf_free(&b);
}
END_TEST

START_TEST(validates_utf8) {
    struct {
        const char *s;
        size_t len;
        size_t bad;
    } cases[] = {
        {"plain ascii", 11, (size_t)-1},
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, (size_t)-1},
        {"\xf4\x8f\xbf\xbf", 4, (size_t)-1}, /* U+10FFFF */
        {"\xed\x9f\xbf", 3, (size_t)-1},     /* U+D7FF */
        {"ab\xc0\xaf", 4, 2},                /* overlong '/' */
        {"\xe0\x80\xaf", 3, 0},              /* overlong 3-byte */
        {"x\xf0\x80\x80\xaf", 5, 1},         /* overlong 4-byte */
        {"\xed\xa0\x80", 3, 0},              /* U+D800 surrogate */
        {"ok\xed\xbf\xbf", 5, 2},            /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 4, 0},          /* above U+10FFFF */
        {"abc\xe2\x82", 5, 3},               /* truncated */
        {"\x80", 1, 0},                      /* lone continuation */
        {"a\xc3(", 3, 1},                    /* bad continuation */
        {"\xff", 1, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        ck_assert_msg(rb_utf8_invalid_offset(cases[k].s, cases[k].len) == cases[k].bad, "case %zu",
                      k);
    FAILS("{\"a\":\n \"x\xc0\xaf\"}", 2, 4, "invalid UTF-8 (byte 0xc0)");
    FAILS("[\"\xed\xa0\x80\"]", 1, 3, "invalid UTF-8");
    FAILS("[\"abc\xe2\x82", 1, 6, "invalid UTF-8");
    /* Columns count characters, not bytes. */
    FAILS("[\"\xc3\xa9\xc3\xa9\", x]", 1, 8, "unexpected 'x'");
}
END_TEST

START_TEST(parse_file_names_the_file) {
    char path[] = "/tmp/rb_json_test_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char text[] = "{\n  \"a\": 1,\n  \"b\": ]\n}\n";
    ck_assert_int_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_int_eq(rb_json_parse_file(path, NULL, &doc, &err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s: line 3, column 8: unexpected ']'", path);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(err.stage, RB_STAGE_CONFIG);
    unlink(path);
    ck_assert_int_eq(rb_json_parse_file(path, NULL, &doc, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, path));
    ck_assert_ptr_null(doc);
}
END_TEST

/* ------------------------------------------------ randomized round trip */

static uint64_t rng_next(uint64_t *s) {
    /* xorshift64*: deterministic for a seed, good enough for test data. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static unsigned rng_below(uint64_t *s, unsigned n) { return (unsigned)(rng_next(s) % n); }

static void put_ws(rb_buf *b, uint64_t *s) {
    static const char ws[] = " \t\n\r";
    unsigned n = rng_below(s, 3);
    for (unsigned i = 0; i < n; i++) rb_buf_putc(b, ws[rng_below(s, 4)]);
}

static void put_utf8(rb_buf *b, unsigned cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    rb_buf_append(b, u, n);
}

static unsigned random_code_point(uint64_t *s) {
    switch (rng_below(s, 5)) {
    case 0: return 1 + rng_below(s, 0x7F);
    case 1: return 0x80 + rng_below(s, 0x780);
    case 2: {
        unsigned cp = 0x800 + rng_below(s, 0xF800);
        return cp >= 0xD800 && cp <= 0xDFFF ? 0xE000 : cp;
    }
    case 3: return 0x10000 + rng_below(s, 0x100000);
    default: return 'a' + rng_below(s, 26);
    }
}

/* Writes a random string: `fancy` gets random escape forms, `canon` gets
 * the decoded text in rb_buf_json_string form. */
static void gen_string(rb_buf *fancy, rb_buf *canon, uint64_t *s, const char *prefix) {
    rb_buf raw;
    rb_buf_init(&raw);
    rb_buf_putc(fancy, '"');
    if (prefix) {
        rb_buf_puts(&raw, prefix);
        rb_buf_puts(fancy, prefix);
    }
    unsigned n = rng_below(s, 12);
    for (unsigned i = 0; i < n; i++) {
        unsigned cp = random_code_point(s);
        put_utf8(&raw, cp);
        unsigned form = rng_below(s, 3);
        if (cp == '"' || cp == '\\' || cp < 0x20) form = 1;
        if (form == 0) {
            put_utf8(fancy, cp);
        } else if (cp >= 0x10000) {
            unsigned v = cp - 0x10000;
            rb_buf_printf(fancy, "\\u%04X\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
        } else {
            rb_buf_printf(fancy, form == 1 ? "\\u%04x" : "\\u%04X", cp);
        }
    }
    rb_buf_putc(fancy, '"');
    rb_buf_json_string(canon, raw.data ? raw.data : "", raw.len);
    rb_buf_free(&raw);
}

static void gen_value(rb_buf *fancy, rb_buf *canon, uint64_t *s, int depth) {
    unsigned kind = rng_below(s, depth > 4 ? 5 : 7);
    put_ws(fancy, s);
    switch (kind) {
    case 0:
        rb_buf_puts(fancy, "null");
        rb_buf_puts(canon, "null");
        break;
    case 1: {
        const char *v = rng_below(s, 2) ? "true" : "false";
        rb_buf_puts(fancy, v);
        rb_buf_puts(canon, v);
        break;
    }
    case 2: {
        int64_t v = (int64_t)rng_next(s) >> rng_below(s, 63);
        rb_buf_printf(fancy, "%" PRId64, v);
        rb_buf_printf(canon, "%" PRId64, v);
        break;
    }
    case 3: {
        double d = ((double)(int64_t)rng_next(s)) / 1e6 * pow(10.0, (int)rng_below(s, 40) - 20);
        char t[64];
        snprintf(t, sizeof t, "%.17g", d);
        rb_buf_puts(fancy, t);
        rb_buf_puts(canon, t);
        break;
    }
    case 4: gen_string(fancy, canon, s, NULL); break;
    case 5: {
        unsigned n = rng_below(s, 5);
        rb_buf_putc(fancy, '[');
        rb_buf_putc(canon, '[');
        for (unsigned i = 0; i < n; i++) {
            if (i) {
                rb_buf_putc(fancy, ',');
                rb_buf_putc(canon, ',');
            }
            gen_value(fancy, canon, s, depth + 1);
        }
        put_ws(fancy, s);
        rb_buf_putc(fancy, ']');
        rb_buf_putc(canon, ']');
        break;
    }
    default: {
        unsigned n = rng_below(s, 5);
        rb_buf_putc(fancy, '{');
        rb_buf_putc(canon, '{');
        for (unsigned i = 0; i < n; i++) {
            if (i) {
                rb_buf_putc(fancy, ',');
                rb_buf_putc(canon, ',');
            }
            char prefix[16];
            snprintf(prefix, sizeof prefix, "k%u_", i); /* keeps keys distinct */
            put_ws(fancy, s);
            gen_string(fancy, canon, s, prefix);
            put_ws(fancy, s);
            rb_buf_putc(fancy, ':');
            rb_buf_putc(canon, ':');
            gen_value(fancy, canon, s, depth + 1);
        }
        put_ws(fancy, s);
        rb_buf_putc(fancy, '}');
        rb_buf_putc(canon, '}');
        break;
    }
    }
    put_ws(fancy, s);
}

/* Serialises a parsed tree in the canonical form gen_value writes. */
static void serialise(rb_buf *b, const rb_json *v) {
    switch (v->type) {
    case RB_JSON_NULL: rb_buf_puts(b, "null"); break;
    case RB_JSON_BOOL: rb_buf_puts(b, v->boolean ? "true" : "false"); break;
    case RB_JSON_NUMBER:
        if (v->is_integer)
            rb_buf_printf(b, "%" PRId64, v->integer);
        else
            rb_buf_printf(b, "%.17g", v->number);
        break;
    case RB_JSON_STRING: rb_buf_json_string(b, v->str, v->str_len); break;
    case RB_JSON_ARRAY:
        rb_buf_putc(b, '[');
        for (size_t i = 0; i < v->count; i++) {
            if (i) rb_buf_putc(b, ',');
            serialise(b, &v->items[i]);
        }
        rb_buf_putc(b, ']');
        break;
    case RB_JSON_OBJECT:
        rb_buf_putc(b, '{');
        for (size_t i = 0; i < v->count; i++) {
            if (i) rb_buf_putc(b, ',');
            rb_buf_json_string(b, v->members[i].key, v->members[i].key_len);
            rb_buf_putc(b, ':');
            serialise(b, v->members[i].value);
        }
        rb_buf_putc(b, '}');
        break;
    }
}

START_TEST(random_round_trip) {
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    rb_buf fancy, canon, back;
    rb_buf_init(&fancy);
    rb_buf_init(&canon);
    rb_buf_init(&back);
    size_t containers = 0;
    for (int round = 0; round < 2000; round++) {
        rb_buf_reset(&fancy);
        rb_buf_reset(&canon);
        rb_buf_reset(&back);
        gen_value(&fancy, &canon, &seed, 0);
        rb_json_doc *doc = NULL;
        rb_error err;
        int rc = rb_json_parse(fancy.data, fancy.len, NULL, &doc, &err);
        ck_assert_msg(rc == 0, "round %d: %s\n%s", round, err.msg, fancy.data);
        serialise(&back, rb_json_doc_root(doc));
        ck_assert_msg(strcmp(back.data, canon.data) == 0, "round %d:\n%s\n%s\n%s", round,
                      fancy.data, canon.data, back.data);
        rb_json_type t = rb_json_doc_root(doc)->type;
        if (t == RB_JSON_ARRAY || t == RB_JSON_OBJECT) containers++;
        rb_json_doc_destroy(doc);
    }
    ck_assert_uint_gt(containers, 400); /* the generator did build trees */
    rb_buf_free(&fancy);
    rb_buf_free(&canon);
    rb_buf_free(&back);
}
END_TEST

/* Random byte mutations of a valid document: every result is either a
 * document or an RB_JSON error with a position, never a crash (run this
 * suite under --enable-sanitizers to catch memory errors). */
START_TEST(mutated_inputs_fail_cleanly) {
    static const char base[] =
        "{\"id\": \"p-1\", \"n\": [1, -2.5e3, true, null, {\"k\": \"\\u00e9\\ud83d\\ude00\"}],"
        " \"s\": \"a\\\"b\", \"o\": {\"x\": {}}, \"e\": []}";
    static const char alphabet[] = "{}[]\",:\\u0123456789.eE+-tfnlrsaZ \t\n\x00\x80\xc3\xed\xff";
    uint64_t seed = 42;
    char text[sizeof base];
    size_t parsed = 0, failed = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(text, base, sizeof base);
        unsigned edits = 1 + rng_below(&seed, 3);
        size_t len = sizeof base - 1;
        for (unsigned e = 0; e < edits; e++) {
            size_t at = rng_below(&seed, (unsigned)len);
            if (rng_below(&seed, 4) == 0)
                len = at + 1; /* truncate */
            else
                text[at] = alphabet[rng_below(&seed, sizeof alphabet - 1)];
        }
        rb_json_doc *doc = NULL;
        rb_error err;
        rb_error_clear(&err);
        if (rb_json_parse(text, len, NULL, &doc, &err) == 0) {
            ck_assert_ptr_nonnull(doc);
            rb_buf b;
            rb_buf_init(&b);
            serialise(&b, rb_json_doc_root(doc));
            rb_json_doc *again = NULL;
            ck_assert_msg(rb_json_parse(b.data, b.len, NULL, &again, &err) == 0, "%s", err.msg);
            rb_json_doc_destroy(again);
            rb_buf_free(&b);
            rb_json_doc_destroy(doc);
            parsed++;
        } else {
            ck_assert_ptr_null(doc);
            ck_assert_int_eq(err.code, RB_ERR_JSON);
            ck_assert_msg(strncmp(err.msg, "line ", 5) == 0, "%s", err.msg);
            failed++;
        }
    }
    ck_assert_uint_gt(parsed, 100);
    ck_assert_uint_gt(failed, 10000);
}
END_TEST

static double elapsed_ms(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Parses `text` expecting a failure, and returns how long that took. */
static double time_failure(const char *text, size_t len, const char *what) {
    rb_json_doc *doc = NULL;
    rb_error err;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(rb_json_parse(text, len, NULL, &doc, &err), -1);
    double ms = elapsed_ms(&t0);
    ck_assert_msg(strstr(err.msg, what) != NULL, "expected '%s' in '%s'", what, err.msg);
    return ms;
}

/* Nesting past the limit is rejected as the text is tokenised, in time
 * linear in the input: 400 KB of '[' used to take 33 s, because the
 * tokenizer (jsmn) walked up the parent chain at every closing bracket. */
START_TEST(rejects_deep_nesting_in_linear_time) {
    const size_t depth = 200000; /* 400 KB */
    char *s = nested(depth);
    double ms = time_failure(s, 2 * depth, "line 1, column 65: nesting deeper than 64 levels");
    ck_assert_msg(ms < 1000, "deep arrays took %.0f ms to reject", ms);
    free(s);
    rb_buf b;
    rb_buf_init(&b);
    for (size_t i = 0; i < depth / 3; i++) rb_buf_puts(&b, "{\"a\":");
    rb_buf_putc(&b, '1');
    for (size_t i = 0; i < depth / 3; i++) rb_buf_putc(&b, '}');
    ms = time_failure(b.data, b.len, "line 1, column 321: nesting deeper than 64 levels");
    ck_assert_msg(ms < 1000, "deep objects took %.0f ms to reject", ms);
    /* The limit the caller asks for is the one checked first. */
    rb_json_limits lim = {.max_depth = 1000000, .max_tokens = 0};
    rb_json_doc *doc = NULL;
    rb_error err;
    s = nested(depth);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(rb_json_parse(s, 2 * depth, &lim, &doc, &err), -1);
    ck_assert_msg(elapsed_ms(&t0) < 1000, "capped depth took %.0f ms", elapsed_ms(&t0));
    ck_assert_str_eq(err.msg, "line 1, column 4097: nesting deeper than 4096 levels");
    free(s);
    rb_buf_free(&b);
}
END_TEST

/* Accepted input is linear too: a megabyte of nesting just inside a 4096
 * limit, again and again.  Closing brackets found their container by
 * walking up the parent chain (jsmn), 4095 steps for the last one of each
 * run: about a billion steps here, seconds instead of milliseconds. */
START_TEST(accepts_deep_nesting_in_linear_time) {
    const size_t depth = 4095, runs = 120; /* ~983 KB */
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_putc(&b, '[');
    for (size_t r = 0; r < runs; r++) {
        if (r) rb_buf_putc(&b, ',');
        for (size_t i = 0; i < depth - 1; i++) rb_buf_putc(&b, '[');
        for (size_t i = 0; i < depth - 1; i++) rb_buf_putc(&b, ']');
    }
    rb_buf_putc(&b, ']');
    rb_json_limits lim = {.max_depth = 4096, .max_tokens = 0};
    rb_json_doc *doc = NULL;
    rb_error err;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_msg(rb_json_parse(b.data, b.len, &lim, &doc, &err) == 0, "%s", err.msg);
    double ms = elapsed_ms(&t0);
    ck_assert_msg(ms < 1000, "%zu bytes at depth %zu took %.0f ms", b.len, depth, ms);
    ck_assert_uint_eq(rb_json_doc_root(doc)->count, runs);
    rb_json_doc_destroy(doc);
    rb_buf_free(&b);
}
END_TEST

/* The depth pass skips strings, escaped quotes included, so brackets in
 * text do not count as nesting; a bracket after the string does. */
START_TEST(brackets_inside_strings_are_not_nesting) {
    rb_buf b;
    rb_buf_init(&b);
    rb_buf_puts(&b, "{\"text\":\"\\\"");
    for (int i = 0; i < 200; i++) rb_buf_puts(&b, "[{");
    rb_buf_puts(&b, "\\\\\",\"n\":[[1]]}");
    rb_json_doc *doc = parse_ok(b.data);
    const rb_json *text = rb_json_get(rb_json_doc_root(doc), "text");
    ck_assert_uint_eq(text->str_len, 1 + 400 + 1);
    ck_assert_int_eq(text->str[0], '"');
    ck_assert_int_eq(text->str[401], '\\');
    rb_json_doc_destroy(doc);
    rb_buf_reset(&b);
    rb_buf_puts(&b, "[\"]]]]\",");
    for (int i = 0; i < 64; i++) rb_buf_putc(&b, '[');
    for (int i = 0; i < 65; i++) rb_buf_putc(&b, ']');
    parse_fails(b.data, b.len, 1, 72, "nesting deeper than 64 levels");
    rb_buf_free(&b);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, parses_every_type);
    tcase_add_test(tc, parses_top_level_scalars);
    tcase_add_test(tc, decodes_all_escapes);
    tcase_add_test(tc, reports_syntax_errors_with_position);
    tcase_add_test(tc, checks_number_grammar);
    tcase_add_test(tc, handles_big_numbers);
    tcase_add_test(tc, rejects_duplicate_keys);
    tcase_add_test(tc, enforces_depth_and_token_limits);
    tcase_add_test(tc, rejects_deep_nesting_in_linear_time);
    tcase_add_test(tc, accepts_deep_nesting_in_linear_time);
    tcase_add_test(tc, brackets_inside_strings_are_not_nesting);
    tcase_add_test(tc, validates_utf8);
    tcase_add_test(tc, parse_file_names_the_file);
    tcase_add_test(tc, random_round_trip);
    tcase_add_test(tc, mutated_inputs_fail_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
