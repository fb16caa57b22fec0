/* Unit tests for the generate module: PRNG, catalogue texts, events,
 * malformed kinds, manifest, pacer, times, and the generate verb with
 * --stdout.  Events are checked with the project's JSON parser. */
#include "check_main.h"
#include "cli/commands.h"
#include "common/buf.h"
#include "common/error.h"
#include "generate/catalog.h"
#include "generate/generate.h"
#include "generate/pacer.h"
#include "common/prng.h"
#include "json/json.h"
#include "common/rfc3339.h"
#include "validate/schema.h"
#include "spawn.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 1795513267123LL /* 2026-11-24T09:41:07.123Z */

static rb_gen *gen_new(uint64_t seed, size_t products, double malformed, double delete_share) {
    rb_gen_options o;
    rb_gen_options_init(&o);
    o.seed = seed;
    o.products = products;
    o.malformed = malformed;
    o.delete_share = delete_share;
    rb_error err;
    rb_error_clear(&err);
    rb_gen *g = rb_gen_new(&o, &err);
    ck_assert_msg(g != NULL, "rb_gen_new: %s", err.msg);
    return g;
}

static void next_ok(rb_gen *g, int64_t t, rb_gen_event *ev) {
    rb_error err;
    rb_error_clear(&err);
    ck_assert_msg(rb_gen_next(g, t, ev, &err) == 0, "rb_gen_next: %s", err.msg);
}

static rb_json_doc *parse(const char *s, size_t len) {
    rb_json_doc *doc = NULL;
    rb_error err;
    rb_error_clear(&err);
    if (rb_json_parse(s, len, NULL, &doc, &err) != 0) return NULL;
    return doc;
}

static bool is_currency(const rb_json *v) {
    if (!v || v->type != RB_JSON_STRING || v->str_len != 3) return false;
    for (int i = 0; i < 3; i++)
        if (v->str[i] < 'A' || v->str[i] > 'Z') return false;
    return true;
}

static bool all_strings_object(const rb_json *v) {
    if (!v || v->type != RB_JSON_OBJECT) return false;
    for (size_t i = 0; i < v->count; i++)
        if (v->members[i].value->type != RB_JSON_STRING) return false;
    return true;
}

static bool all_strings_array(const rb_json *v) {
    if (!v || v->type != RB_JSON_ARRAY) return false;
    for (size_t i = 0; i < v->count; i++)
        if (v->items[i].type != RB_JSON_STRING) return false;
    return true;
}

/* Checks the well-formed event's every field against the product schema's
 * rules; returns the parsed document (caller destroys). */
static rb_json_doc *check_well_formed(const rb_gen_event *ev) {
    ck_assert_msg(rb_utf8_invalid_offset(ev->value, ev->value_len) == (size_t)-1,
                  "invalid UTF-8 in %.*s", (int)ev->value_len, ev->value);
    rb_json_doc *doc = parse(ev->value, ev->value_len);
    ck_assert_msg(doc != NULL, "well-formed event does not parse: %.*s", (int)ev->value_len,
                  ev->value);
    const rb_json *root = rb_json_doc_root(doc);
    ck_assert_int_eq(root->type, RB_JSON_OBJECT);
    const rb_json *id = rb_json_get(root, "product_id");
    ck_assert(id && id->type == RB_JSON_STRING);
    ck_assert_str_eq(id->str, ev->key);
    const char *type = rb_json_string(rb_json_get(root, "event_type"));
    ck_assert_ptr_nonnull(type);
    ck_assert_str_eq(type, rb_gen_event_type_name(ev->type));
    const char *when = rb_json_string(rb_json_get(root, "event_time"));
    ck_assert_ptr_nonnull(when);
    int64_t ms;
    ck_assert_int_eq(rb_rfc3339_parse(when, &ms), 0);
    ck_assert_uint_eq(strlen(when), 24); /* YYYY-MM-DDTHH:MM:SS.mmmZ */
    const rb_json *ver = rb_json_get(root, "version");
    ck_assert(ver && ver->type == RB_JSON_NUMBER && ver->is_integer && ver->integer >= 1);
    ck_assert_int_eq(ver->integer, ev->version);
    if (ev->type == RB_GEN_DELETED) {
        ck_assert_uint_eq(root->count, 4);
        return doc;
    }
    ck_assert_uint_eq(root->count, 13);
    const char *name = rb_json_string(rb_json_get(root, "name"));
    ck_assert(name && *name);
    const rb_json *desc = rb_json_get(root, "description");
    ck_assert(desc && desc->type == RB_JSON_STRING);
    size_t words = rb_gen_catalog_word_count(desc->str, desc->str_len);
    ck_assert_msg(words >= 20 && words <= 60, "%zu words: %s", words, desc->str);
    ck_assert_ptr_nonnull(rb_json_string(rb_json_get(root, "category")));
    ck_assert_ptr_nonnull(rb_json_string(rb_json_get(root, "brand")));
    const rb_json *price = rb_json_get(root, "price");
    ck_assert(price && price->type == RB_JSON_NUMBER && price->number >= 0);
    /* Two decimals, as written in the source text. */
    const char *dot = memchr(price->raw, '.', price->raw_len);
    ck_assert(dot && (size_t)(price->raw + price->raw_len - dot) == 3);
    ck_assert(is_currency(rb_json_get(root, "currency")));
    ck_assert(all_strings_array(rb_json_get(root, "tags")));
    const rb_json *stock = rb_json_get(root, "in_stock");
    ck_assert(stock && stock->type == RB_JSON_BOOL);
    ck_assert(all_strings_object(rb_json_get(root, "attributes")));
    return doc;
}

/* ---- PRNG ---------------------------------------------------------------- */

START_TEST(prng_is_deterministic_and_bounded) {
    rb_prng a, b, c;
    rb_prng_seed(&a, 42);
    rb_prng_seed(&b, 42);
    rb_prng_seed(&c, 43);
    bool differs = false;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = rb_prng_next(&a);
        ck_assert_uint_eq(x, rb_prng_next(&b));
        if (x != rb_prng_next(&c)) differs = true;
    }
    ck_assert(differs);
    int hist[7] = {0};
    for (int i = 0; i < 70000; i++) {
        uint64_t v = rb_prng_below(&a, 7);
        ck_assert_uint_lt(v, 7);
        hist[v]++;
        int64_t r = rb_prng_range(&a, -3, 3);
        ck_assert(r >= -3 && r <= 3);
        double u = rb_prng_unit(&a);
        ck_assert(u >= 0.0 && u < 1.0);
    }
    for (int i = 0; i < 7; i++)
        ck_assert_msg(hist[i] > 9500 && hist[i] < 10500, "bucket %d: %d", i, hist[i]);
    ck_assert(!rb_prng_chance(&a, 0.0));
    ck_assert(rb_prng_chance(&a, 1.0));
    ck_assert_uint_eq(rb_prng_below(&a, 0), 0);
}
END_TEST

/* ---- times --------------------------------------------------------------- */

START_TEST(time_format_and_parse_round_trip) {
    char buf[RB_RFC3339_SIZE];
    rb_rfc3339_format(T0, buf);
    ck_assert_str_eq(buf, "2026-11-24T09:41:07.123Z");
    int64_t ms;
    ck_assert_int_eq(rb_rfc3339_parse(buf, &ms), 0);
    ck_assert_int_eq(ms, T0);
    ck_assert_int_eq(rb_rfc3339_parse("2026-11-24T10:41:07.1+01:00", &ms), 0);
    ck_assert_int_eq(ms, T0 - 23);
    ck_assert_int_eq(rb_rfc3339_parse("2024-02-29T00:00:00Z", &ms), 0);
    ck_assert_int_eq(ms, 1709164800000LL);
    rb_rfc3339_format(0, buf);
    ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
    rb_rfc3339_format(-1, buf); /* before the epoch: the millisecond before it */
    ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    ck_assert_int_eq(rb_rfc3339_parse(buf, &ms), 0);
    ck_assert_int_eq(ms, -1);
    ck_assert_int_eq(rb_rfc3339_parse("2026-11-24 09:41:07Z", &ms), -1);
    ck_assert_int_eq(rb_rfc3339_parse("2026-11-24T09:41:07", &ms), -1);
    ck_assert_int_eq(rb_rfc3339_parse("2025-02-29T00:00:00Z", &ms), -1);
    ck_assert_int_eq(rb_rfc3339_parse("2026-13-01T00:00:00Z", &ms), -1);
    ck_assert_int_eq(rb_rfc3339_parse("2026-11-24T09:41:07.Z", &ms), -1);
}
END_TEST

/* ---- events -------------------------------------------------------------- */

START_TEST(same_seed_same_bytes) {
    rb_gen *a = gen_new(7, 50, 0.2, 0.1), *b = gen_new(7, 50, 0.2, 0.1),
           *c = gen_new(8, 50, 0.2, 0.1);
    size_t differing = 0;
    for (int i = 0; i < 3000; i++) {
        rb_gen_event ea, eb, ec;
        next_ok(a, T0 + i, &ea);
        next_ok(b, T0 + i, &eb);
        next_ok(c, T0 + i, &ec);
        ck_assert_str_eq(ea.key, eb.key);
        ck_assert_uint_eq(ea.value_len, eb.value_len);
        ck_assert(memcmp(ea.value, eb.value, ea.value_len) == 0);
        ck_assert_int_eq(ea.malformed, eb.malformed);
        if (ea.value_len != ec.value_len || memcmp(ea.value, ec.value, ea.value_len) != 0)
            differing++;
    }
    ck_assert_uint_gt(differing, 2900); /* another seed gives another stream */
    rb_gen_destroy(a);
    rb_gen_destroy(b);
    rb_gen_destroy(c);
}
END_TEST

START_TEST(versions_increase_per_product) {
    enum { P = 40, N = 5000 };
    rb_gen *g = gen_new(3, P, 0.1, 0.1);
    uint32_t last[P] = {0};
    bool deleted[P] = {false};
    size_t deletes = 0, recreated = 0;
    for (int i = 0; i < N; i++) {
        rb_gen_event ev;
        /* Times that sometimes go backwards must come out monotonic. */
        next_ok(g, T0 + (i % 7 == 0 ? -1000 : i), &ev);
        if (ev.malformed) continue;
        rb_json_doc *doc = check_well_formed(&ev);
        rb_json_doc_destroy(doc);
        unsigned idx = (unsigned)strtoul(ev.key + 2, NULL, 10);
        ck_assert_uint_lt(idx, P);
        ck_assert_uint_eq(ev.version, last[idx] + 1);
        if (last[idx] == 0 || deleted[idx]) {
            ck_assert_int_eq(ev.type, RB_GEN_CREATED);
            if (deleted[idx]) recreated++;
        } else {
            ck_assert_int_ne(ev.type, RB_GEN_CREATED);
        }
        if (ev.type == RB_GEN_DELETED) deletes++;
        last[idx] = ev.version;
        deleted[idx] = ev.type == RB_GEN_DELETED;
    }
    ck_assert_uint_gt(deletes, 200);
    ck_assert_uint_gt(recreated, 100);
    rb_gen_destroy(g);
}
END_TEST

/* --sequential: products in pool order, wrapping; a pool at least as
 * large as the count gives one creation per product. */
START_TEST(sequential_order_creates_each_product_once) {
    enum { P = 50 };
    rb_gen_options o;
    rb_gen_options_init(&o);
    o.products = P;
    o.sequential = true;
    rb_error err;
    rb_gen *g = rb_gen_new(&o, &err);
    ck_assert_msg(g != NULL, "%s", err.msg);
    for (int i = 0; i < 2 * P; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        char want[32];
        snprintf(want, sizeof want, "p-%06d", i % P);
        ck_assert_str_eq(ev.key, want);
        ck_assert_int_eq(ev.type, i < P ? RB_GEN_CREATED : RB_GEN_UPDATED);
        ck_assert_uint_eq(ev.version, (unsigned)(i / P + 1));
    }
    rb_gen_destroy(g);
}
END_TEST

START_TEST(event_times_never_go_backwards) {
    rb_gen *g = gen_new(5, 10, 0.0, 0.0);
    int64_t prev = INT64_MIN;
    for (int i = 0; i < 200; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + (i % 3 == 0 ? -5000 : i), &ev);
        rb_json_doc *doc = parse(ev.value, ev.value_len);
        ck_assert_ptr_nonnull(doc);
        int64_t ms;
        ck_assert_int_eq(rb_rfc3339_parse(rb_json_string(
                                              rb_json_get(rb_json_doc_root(doc), "event_time")),
                                          &ms),
                         0);
        ck_assert_int_ge(ms, prev);
        prev = ms;
        rb_json_doc_destroy(doc);
    }
    rb_gen_destroy(g);
}
END_TEST

/* Asserts that one malformed event is malformed in the way it says. */
static void check_malformed(const rb_gen_event *ev) {
    rb_json_doc *doc = parse(ev->value, ev->value_len);
    const rb_json *root = doc ? rb_json_doc_root(doc) : NULL;
    switch (ev->malformed) {
    case RB_GEN_BAD_NOT_JSON:
    case RB_GEN_BAD_TRUNCATED:
        ck_assert_msg(doc == NULL, "%s parsed: %.*s", rb_gen_malformed_name(ev->malformed),
                      (int)ev->value_len, ev->value);
        break;
    case RB_GEN_BAD_UTF8:
        ck_assert(doc == NULL);
        ck_assert(rb_utf8_invalid_offset(ev->value, ev->value_len) != (size_t)-1);
        break;
    case RB_GEN_BAD_MISSING_NAME:
        ck_assert(root && root->type == RB_JSON_OBJECT);
        ck_assert_ptr_null(rb_json_get(root, "name"));
        ck_assert_ptr_nonnull(rb_json_get(root, "description"));
        break;
    case RB_GEN_BAD_NEGATIVE_PRICE: {
        ck_assert(root);
        const rb_json *price = rb_json_get(root, "price");
        ck_assert(price && price->type == RB_JSON_NUMBER && price->number < 0);
        break;
    }
    case RB_GEN_BAD_CURRENCY:
        ck_assert(root);
        ck_assert(!is_currency(rb_json_get(root, "currency")));
        break;
    case RB_GEN_BAD_WRONG_TYPE: {
        ck_assert(root);
        const rb_json *id = rb_json_get(root, "product_id"), *ver = rb_json_get(root, "version"),
                      *price = rb_json_get(root, "price"), *stock = rb_json_get(root, "in_stock");
        bool wrong = !id || id->type != RB_JSON_STRING || !ver || ver->type != RB_JSON_NUMBER ||
                     !price || price->type != RB_JSON_NUMBER || !stock ||
                     stock->type != RB_JSON_BOOL ||
                     !all_strings_array(rb_json_get(root, "tags")) ||
                     !all_strings_object(rb_json_get(root, "attributes"));
        ck_assert_msg(wrong, "wrong_type event has all types right: %.*s", (int)ev->value_len,
                      ev->value);
        break;
    }
    default: ck_abort_msg("unexpected kind %d", (int)ev->malformed);
    }
    rb_json_doc_destroy(doc);
}

START_TEST(malformed_share_and_kinds) {
    enum { N = 10000 };
    const double share = 0.2;
    rb_gen *g = gen_new(11, 500, share, 0.05);
    size_t bad = 0, by_kind[RB_GEN_MALFORMED_KINDS] = {0};
    for (int i = 0; i < N; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        if (ev.malformed == RB_GEN_WELL_FORMED) {
            rb_json_doc_destroy(check_well_formed(&ev));
            continue;
        }
        bad++;
        by_kind[ev.malformed]++;
        check_malformed(&ev);
    }
    double got = (double)bad / N;
    ck_assert_msg(fabs(got - share) < 0.015, "malformed share %.4f, asked %.2f", got, share);
    const rb_gen_counts *c = rb_gen_get_counts(g);
    ck_assert_uint_eq(c->produced, N);
    ck_assert_uint_eq(c->malformed, bad);
    for (int k = 1; k < RB_GEN_MALFORMED_KINDS; k++) {
        /* Kinds are uniform: about 2000 / 7 each. */
        ck_assert_msg(by_kind[k] > 200, "%s: only %zu", rb_gen_malformed_name((rb_gen_malformed)k),
                      by_kind[k]);
        ck_assert_uint_eq(c->by_kind[k], by_kind[k]);
    }
    rb_gen_destroy(g);

    /* No malformed events unless asked. */
    g = gen_new(11, 500, 0.0, 0.0);
    for (int i = 0; i < 2000; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        ck_assert_int_eq(ev.malformed, RB_GEN_WELL_FORMED);
    }
    rb_gen_destroy(g);
}
END_TEST

START_TEST(malformed_events_leave_state_alone) {
    /* Everything malformed: nothing is ever created. */
    rb_gen *g = gen_new(2, 5, 1.0, 0.0);
    for (int i = 0; i < 300; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        ck_assert_int_ne(ev.malformed, RB_GEN_WELL_FORMED);
        ck_assert_int_eq(ev.type, RB_GEN_CREATED);
        ck_assert_uint_eq(ev.version, 1);
        check_malformed(&ev);
    }
    ck_assert_uint_eq(rb_gen_get_counts(g)->created, 0);
    rb_gen_destroy(g);
}
END_TEST

START_TEST(texts_are_varied) {
    rb_gen *g = gen_new(21, 1000, 0.0, 0.0);
    char *descs[300];
    size_t n = 0, categories_seen = 0;
    const char *cats[32];
    for (int i = 0; i < 300; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        rb_json_doc *doc = check_well_formed(&ev);
        if (ev.type != RB_GEN_CREATED) { /* an update may keep its text */
            rb_json_doc_destroy(doc);
            continue;
        }
        const rb_json *root = rb_json_doc_root(doc);
        const char *d = rb_json_string(rb_json_get(root, "description"));
        for (size_t j = 0; j < n; j++) ck_assert_msg(strcmp(descs[j], d) != 0, "repeated: %s", d);
        descs[n++] = strdup(d);
        const char *cat = rb_json_string(rb_json_get(root, "category"));
        bool seen = false;
        for (size_t j = 0; j < categories_seen; j++) seen |= strcmp(cats[j], cat) == 0;
        if (!seen && categories_seen < 32) cats[categories_seen++] = strdup(cat);
        rb_json_doc_destroy(doc);
    }
    ck_assert_uint_gt(n, 200);
    ck_assert_uint_ge(categories_seen, 8);
    for (size_t j = 0; j < n; j++) free(descs[j]);
    for (size_t j = 0; j < categories_seen; j++) free((void *)cats[j]);
    rb_gen_destroy(g);
}
END_TEST

START_TEST(options_are_checked) {
    rb_gen_options o;
    rb_gen_options_init(&o);
    rb_error err;
    o.products = 0;
    ck_assert_ptr_null(rb_gen_new(&o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "products"));
    rb_gen_options_init(&o);
    o.malformed = 1.5;
    ck_assert_ptr_null(rb_gen_new(&o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "malformed"));
    rb_gen_options_init(&o);
    o.delete_share = NAN;
    ck_assert_ptr_null(rb_gen_new(&o, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "delete"));
    rb_gen_destroy(NULL);
}
END_TEST

/* The product schema the pipeline validates with accepts every
 * well-formed event and rejects every malformed one. */
START_TEST(events_agree_with_the_product_schema) {
    rb_schema *schema = NULL;
    rb_error err;
    rb_error_clear(&err);
    ck_assert_msg(rb_schema_load(RB_SOURCE_DIR "/conf/product_schema.json", &schema, &err) == 0,
                  "%s", err.msg);
    rb_gen *g = gen_new(17, 200, 0.3, 0.1);
    size_t rejected[RB_GEN_MALFORMED_KINDS] = {0};
    for (int i = 0; i < 5000; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        rb_json_doc *doc = parse(ev.value, ev.value_len);
        int rc = -1;
        char path[128] = "";
        if (doc) rc = rb_schema_validate(schema, rb_json_doc_root(doc), path, sizeof path, &err);
        if (ev.malformed == RB_GEN_WELL_FORMED) {
            ck_assert_msg(rc == 0, "well-formed event rejected at '%s': %s: %.*s", path, err.msg,
                          (int)ev.value_len, ev.value);
        } else {
            ck_assert_msg(rc != 0, "%s event accepted: %.*s", rb_gen_malformed_name(ev.malformed),
                          (int)ev.value_len, ev.value);
            rejected[ev.malformed]++;
        }
        rb_json_doc_destroy(doc);
    }
    for (int k = 1; k < RB_GEN_MALFORMED_KINDS; k++) ck_assert_uint_gt(rejected[k], 50);
    rb_gen_destroy(g);
    rb_schema_destroy(schema);
}
END_TEST

/* ---- manifest ------------------------------------------------------------ */

typedef struct expected {
    char *last_event; /* the last well-formed event of the product */
    uint32_t version;
    bool deleted;
} expected;

static void compare_field(const rb_json *event, const rb_json *fields, const char *key) {
    const rb_json *a = rb_json_get(event, key), *b = rb_json_get(fields, key);
    ck_assert_msg(a && b, "%s missing", key);
    ck_assert_uint_eq(a->raw_len, b->raw_len);
    ck_assert_msg(memcmp(a->raw, b->raw, a->raw_len) == 0, "%s differs", key);
}

START_TEST(manifest_matches_events) {
    enum { P = 60, N = 4000 };
    rb_gen *g = gen_new(99, P, 0.15, 0.08);
    expected exp[P];
    memset(exp, 0, sizeof exp);
    uint64_t produced = 0, malformed = 0, deletes = 0;
    for (int i = 0; i < N; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        produced++;
        if (ev.malformed) {
            malformed++;
            continue;
        }
        unsigned idx = (unsigned)strtoul(ev.key + 2, NULL, 10);
        free(exp[idx].last_event);
        exp[idx].last_event = strndup(ev.value, ev.value_len);
        exp[idx].version = ev.version;
        exp[idx].deleted = ev.type == RB_GEN_DELETED;
        if (exp[idx].deleted) deletes++;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    rb_error err;
    ck_assert_int_eq(rb_gen_write_manifest(g, f, "memory", &err), 0);
    fclose(f);

    size_t lines = 0, products = 0;
    bool saw_summary = false;
    for (char *line = text; line < text + len;) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        ck_assert_ptr_nonnull(nl);
        rb_json_doc *doc = parse(line, (size_t)(nl - line));
        ck_assert_msg(doc != NULL, "manifest line does not parse: %.*s", (int)(nl - line), line);
        const rb_json *root = rb_json_doc_root(doc);
        const rb_json *summary = rb_json_get(root, "summary");
        lines++;
        if (summary) {
            ck_assert(!saw_summary);
            saw_summary = true;
            ck_assert_int_eq(rb_json_get(summary, "produced")->integer, (int64_t)produced);
            ck_assert_int_eq(rb_json_get_path(summary, "malformed.total")->integer,
                             (int64_t)malformed);
            ck_assert_int_eq(rb_json_get(summary, "deleted")->integer, (int64_t)deletes);
            ck_assert_int_eq(rb_json_get(summary, "products")->integer, (int64_t)products);
            int64_t kinds = 0;
            for (int k = 1; k < RB_GEN_MALFORMED_KINDS; k++)
                kinds += rb_json_get_path(summary, "malformed")->members[k].value->integer;
            ck_assert_int_eq(kinds, (int64_t)malformed);
        } else {
            ck_assert(!saw_summary); /* the summary comes last */
            products++;
            const char *id = rb_json_string(rb_json_get(root, "product_id"));
            unsigned idx = (unsigned)strtoul(id + 2, NULL, 10);
            ck_assert_ptr_nonnull(exp[idx].last_event);
            ck_assert_int_eq(rb_json_get(root, "version")->integer, exp[idx].version);
            ck_assert_int_eq(rb_json_get(root, "deleted")->boolean, exp[idx].deleted);
            rb_json_doc *ev = parse(exp[idx].last_event, strlen(exp[idx].last_event));
            const rb_json *evr = rb_json_doc_root(ev);
            compare_field(evr, root, "event_time");
            if (!exp[idx].deleted) {
                const rb_json *tf = rb_json_get(root, "text_fields");
                ck_assert_ptr_nonnull(tf);
                static const char *const text_keys[] = {"name",  "description", "category",
                                                        "brand", "tags",        "attributes"};
                for (size_t k = 0; k < 6; k++) compare_field(evr, tf, text_keys[k]);
                compare_field(evr, root, "price");
                compare_field(evr, root, "currency");
                compare_field(evr, root, "in_stock");
            } else {
                ck_assert_ptr_null(rb_json_get(root, "text_fields"));
            }
            exp[idx].version = 0; /* seen */
            rb_json_doc_destroy(ev);
        }
        rb_json_doc_destroy(doc);
        line = nl + 1;
    }
    ck_assert(saw_summary);
    for (int i = 0; i < P; i++) {
        ck_assert_msg(exp[i].version == 0, "p-%06d missing from the manifest", i);
        free(exp[i].last_event);
    }
    ck_assert_uint_eq(lines, products + 1);
    free(text);
    rb_gen_destroy(g);
}
END_TEST

/* ---- pacer --------------------------------------------------------------- */

START_TEST(pacer_spaces_events) {
    rb_gen_pacer p;
    const int64_t s = 1000000000;
    rb_gen_pacer_init(&p, 100.0, 0);
    ck_assert_int_eq(rb_gen_pacer_take(&p, 0), 0); /* first at once */
    int64_t w = rb_gen_pacer_take(&p, 0);
    ck_assert(w > 9000000 && w <= 10000001); /* then 10 ms apart */
    ck_assert_int_eq(rb_gen_pacer_take(&p, w), 0);
    /* Simulate a sender that sleeps as told: 1000 events take 10 s. */
    int64_t now = w;
    int sent = 0;
    while (sent < 1000) {
        int64_t wait = rb_gen_pacer_take(&p, now);
        if (wait == 0)
            sent++;
        else
            now += wait;
    }
    ck_assert_msg(now > 9.9 * s && now < 10.1 * s, "1000 events took %" PRId64 " ns", now);

    /* After a long pause only a small burst goes out at once. */
    rb_gen_pacer_init(&p, 1000.0, 0);
    int burst = 0;
    while (rb_gen_pacer_take(&p, 60 * s) == 0) burst++;
    ck_assert_int_eq(burst, 20);

    rb_gen_pacer_init(&p, 0.0, 0); /* unlimited */
    for (int i = 0; i < 1000; i++) ck_assert_int_eq(rb_gen_pacer_take(&p, 0), 0);
}
END_TEST

/* ---- the verb ------------------------------------------------------------ */

static int run_verb(const char *out_path, int argc, const char **argv) {
    fflush(stdout);
    ck_assert_ptr_nonnull(freopen(out_path, "w", stdout));
    int rc = rb_cmd_generate(argc, (char **)argv);
    fflush(stdout);
    return rc;
}

START_TEST(verb_stdout_is_reproducible_and_matches_manifest) {
    char dir[] = "/tmp/check_generate_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char out1[128], out2[128], man[128];
    snprintf(out1, sizeof out1, "%s/a.jsonl", dir);
    snprintf(out2, sizeof out2, "%s/b.jsonl", dir);
    snprintf(man, sizeof man, "%s/manifest.jsonl", dir);
    const char *argv1[] = {"generate",
                           "--stdout",
                           "--count",
                           "500",
                           "--seed",
                           "5",
                           "--products=30",
                           "--malformed",
                           "0.1",
                           "--delete-share",
                           "0.1",
                           "--start-time",
                           "2026-11-24T09:41:07.123Z",
                           "--manifest",
                           man,
                           "-q"};
    ck_assert_int_eq(run_verb(out1, 16, argv1), 0);
    const char *argv2[] = {"generate",
                           "--stdout",
                           "--count",
                           "500",
                           "--seed",
                           "5",
                           "--products",
                           "30",
                           "--malformed=0.1",
                           "--delete-share",
                           "0.1",
                           "--start-time",
                           "2026-11-24T09:41:07.123Z",
                           "-q"};
    ck_assert_int_eq(run_verb(out2, 14, argv2), 0);

    size_t l1, l2, lm;
    char *a = spawn_slurp(out1, &l1), *b = spawn_slurp(out2, &l2), *m = spawn_slurp(man, &lm);
    ck_assert_uint_eq(l1, l2);
    ck_assert(memcmp(a, b, l1) == 0);
    size_t lines = 0;
    for (size_t i = 0; i < l1; i++) lines += a[i] == '\n';
    ck_assert_uint_eq(lines, 500);

    /* The same events from the library, line by line. */
    rb_gen *g = gen_new(5, 30, 0.1, 0.1);
    const char *p = a;
    for (int i = 0; i < 500; i++) {
        rb_gen_event ev;
        next_ok(g, T0 + i, &ev);
        ck_assert(memcmp(p, ev.value, ev.value_len) == 0);
        ck_assert_int_eq(p[ev.value_len], '\n');
        p += ev.value_len + 1;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    rb_error err;
    ck_assert_int_eq(rb_gen_write_manifest(g, f, "memory", &err), 0);
    fclose(f);
    ck_assert_uint_eq(len, lm);
    ck_assert(memcmp(text, m, lm) == 0);
    ck_assert_ptr_nonnull(strstr(m, "{\"summary\":{\"produced\":500,"));
    free(text);
    rb_gen_destroy(g);
    free(a);
    free(b);
    free(m);
    remove(out1);
    remove(out2);
    remove(man);
    rmdir(dir);
}
END_TEST

START_TEST(verb_usage_errors_name_the_flag) {
    char path[] = "/tmp/check_generate_usage_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    /* Capture stderr to check the messages. */
    char errpath[] = "/tmp/check_generate_err_XXXXXX";
    fd = mkstemp(errpath);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_ptr_nonnull(freopen(errpath, "w", stderr));
    struct {
        int argc;
        const char *argv[8];
        const char *flag;
    } cases[] = {
        {4, {"generate", "--stdout", "--count", "abc"}, "--count"},
        {2, {"generate", "--stdout"}, "--count"},
        {6, {"generate", "--stdout", "--count", "5", "--malformed", "1.5"}, "--malformed"},
        {6, {"generate", "--stdout", "--count", "5", "--rate", "-3"}, "--rate"},
        {6, {"generate", "--stdout", "--count", "5", "--products", "0"}, "--products"},
        {6, {"generate", "--stdout", "--count", "5", "--start-time", "yesterday"}, "--start-time"},
        /* a leap second is only ever 23:59:60 UTC (the schema's rule too) */
        {6,
         {"generate", "--stdout", "--count", "5", "--start-time", "2026-11-24T09:41:60Z"},
         "--start-time"},
        {3, {"generate", "--stdout", "--count"}, "--count"},
        {4, {"generate", "--stdout", "--frobnicate", "1"}, "--frobnicate"},
        {5, {"generate", "--count", "5", "--bootstrap", "localhost:9"}, "--topic"},
        {5, {"generate", "--stdout", "--count", "5", "-X"}, "-X"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fflush(stderr);
        long before = ftell(stderr);
        ck_assert_int_eq(run_verb(path, cases[i].argc, cases[i].argv), 2);
        fflush(stderr);
        size_t len;
        char *msg = spawn_slurp(errpath, &len);
        ck_assert_msg(strstr(msg + before, cases[i].flag) != NULL, "case %zu: '%s' not in '%s'", i,
                      cases[i].flag, msg + before);
        free(msg);
    }
    unsetenv("RAGBATCH_KAFKA_BOOTSTRAP");
    const char *nob[] = {"generate", "--topic", "t", "--count", "5"};
    ck_assert_int_eq(run_verb(path, 5, nob), 2);
    remove(path);
    remove(errpath);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("generate");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, prng_is_deterministic_and_bounded);
    tcase_add_test(tc, time_format_and_parse_round_trip);
    tcase_add_test(tc, same_seed_same_bytes);
    tcase_add_test(tc, versions_increase_per_product);
    tcase_add_test(tc, sequential_order_creates_each_product_once);
    tcase_add_test(tc, event_times_never_go_backwards);
    tcase_add_test(tc, malformed_share_and_kinds);
    tcase_add_test(tc, malformed_events_leave_state_alone);
    tcase_add_test(tc, texts_are_varied);
    tcase_add_test(tc, options_are_checked);
    tcase_add_test(tc, events_agree_with_the_product_schema);
    tcase_add_test(tc, manifest_matches_events);
    tcase_add_test(tc, pacer_spaces_events);
    tcase_add_test(tc, verb_stdout_is_reproducible_and_matches_manifest);
    tcase_add_test(tc, verb_usage_errors_name_the_flag);
    suite_add_tcase(s, tc);
    return s;
}
