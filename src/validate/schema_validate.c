/*
 * schema_validate.c -- validates an instance against a compiled schema
 * (schema.h, schema_node.h).
 *
 * Validation stops at the first failure and reports it with the JSON
 * pointer of the failing value.  Alternatives (anyOf, oneOf, not, if,
 * contains, propertyNames) are tried quietly, without formatting messages
 * nobody reads; when one decides a failure, the alternative quoted in the
 * message is run once more with messages on.
 *
 * Bounds: evaluations nest at most SCHEMA_EVAL_DEPTH_MAX deep (a schema that
 * re-enters itself without consuming the instance), and one validation
 * evaluates at most SCHEMA_STEPS_PER_BYTE schema nodes per byte of the
 * instance's JSON text (plus SCHEMA_STEPS_BASE), so a schema whose
 * alternatives re-evaluate the same values (oneOf over a recursive $ref on
 * deeply nested input: 2^depth evaluations) fails the record with a clear
 * message instead of running for hours.  Patterns run under PCRE2 match
 * limits (schema_pattern.h).  Everything else is linear in the instance,
 * times the size of the schema.
 */
#include "common/buf.h"
#include "validate/schema.h"
#include "validate/schema_decimal.h"
#include "validate/schema_equal.h"
#include "validate/schema_format.h"
#include "validate/schema_node.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCHEMA_EVAL_DEPTH_MAX 256
#define SCHEMA_STEPS_PER_BYTE 16
#define SCHEMA_STEPS_BASE 100000

typedef struct schema_ctx {
    const rb_schema *schema;
    char path[SCHEMA_PATH_MAX]; /* JSON pointer of the value being checked */
    size_t path_len;
    int depth;
    uint64_t steps_left;
    uint64_t steps_budget;
    rb_schema_regex_scratch *regex; /* this call's PCRE2 match data */
    /* Inside an alternative whose message nobody reads: failures return
     * -1 without formatting one. */
    int quiet;
    /* A failure that decides the whole validation whatever the
     * alternatives around it say (the step budget, a pattern's match
     * limit): kept here with its path, and everything returns at once. */
    bool aborted;
    rb_error abort_err;
    char abort_path[SCHEMA_PATH_MAX];
} schema_ctx;

/* A short rendering of a value for messages: numbers as written, strings
 * cut at 40 bytes on a character boundary, containers by kind. */
static void value_text(const rb_json *v, char *out, size_t size) {
    switch (v->type) {
    case RB_JSON_NULL: snprintf(out, size, "null"); return;
    case RB_JSON_BOOL: snprintf(out, size, "%s", v->boolean ? "true" : "false"); return;
    case RB_JSON_NUMBER:
        if (v->raw && v->raw_len <= 40)
            snprintf(out, size, "%.*s", (int)v->raw_len, v->raw);
        else if (v->is_integer)
            snprintf(out, size, "%lld", (long long)v->integer);
        else
            snprintf(out, size, "%.17g", v->number);
        return;
    case RB_JSON_ARRAY: snprintf(out, size, "an array of %zu items", v->count); return;
    case RB_JSON_OBJECT: snprintf(out, size, "an object"); return;
    case RB_JSON_STRING: break;
    }
    size_t n = v->str_len;
    bool cut = false;
    if (n > 40) {
        n = 40;
        while (n > 0 && ((unsigned char)v->str[n] & 0xC0) == 0x80) n--;
        cut = true;
    }
    rb_buf b;
    rb_buf_init(&b);
    if (rb_buf_json_string(&b, v->str, n) != 0) {
        snprintf(out, size, "a string");
    } else if (cut) {
        /* drop the closing quote, mark the cut */
        snprintf(out, size, "%.*s...\"", (int)(b.len - 1), b.data);
    } else {
        snprintf(out, size, "%s", b.data);
    }
    rb_buf_free(&b);
}

/* value_text, skipped when the message will not be read. */
static void vtext(const schema_ctx *x, const rb_json *v, char *out, size_t size) {
    if (x->quiet) {
        out[0] = '\0';
        return;
    }
    value_text(v, out, size);
}

static int invalid(const schema_ctx *x, rb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(const schema_ctx *x, rb_error *err, const char *fmt, ...) {
    if (x->quiet) return -1;
    char what[RB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_VALIDATE, "%s: %s",
                        x->path_len ? x->path : "/", what);
}

static bool is_integral(const rb_json *v) {
    if (v->type != RB_JSON_NUMBER) return false;
    /* draft-07: any number with a zero fractional part is an integer. */
    return v->is_integer || (isfinite(v->number) && floor(v->number) == v->number);
}

static unsigned type_bits(const rb_json *v) {
    switch (v->type) {
    case RB_JSON_NULL: return T_NULL;
    case RB_JSON_BOOL: return T_BOOLEAN;
    case RB_JSON_OBJECT: return T_OBJECT;
    case RB_JSON_ARRAY: return T_ARRAY;
    case RB_JSON_STRING: return T_STRING;
    case RB_JSON_NUMBER: return T_NUMBER | (is_integral(v) ? T_INTEGER : 0);
    }
    return 0;
}

static void type_list(unsigned types, char *out, size_t size) {
    static const char *const names[] = {"null",   "boolean", "object", "array",
                                        "number", "string",  "integer"};
    size_t len = 0;
    out[0] = '\0';
    int k = 0;
    for (int i = 0; i < 7; i++) {
        if (!(types & (1u << i))) continue;
        int n = snprintf(out + len, size - len, "%s%s", k ? " or " : "", names[i]);
        if (n < 0 || (size_t)n >= size - len) break;
        len += (size_t)n;
        k++;
    }
}

/* -1, 0, 1 as v compares to the bound b; integers exactly, others as doubles. */
static int num_cmp(const rb_json *v, const rb_json *b) {
    if (v->is_integer && b->is_integer)
        return v->integer < b->integer ? -1 : v->integer > b->integer;
    return v->number < b->number ? -1 : v->number > b->number;
}

static size_t code_points(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

static int validate_node(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err);

/* Whether v matches n, quietly (no message), keeping x's path unchanged.
 * After an abort the answer means nothing: callers check x->aborted. */
static bool matches(const schema_node *n, const rb_json *v, schema_ctx *x) {
    size_t len = x->path_len;
    x->quiet++;
    bool ok = validate_node(n, v, x, NULL) == 0;
    x->quiet--;
    rb_schema_path_pop(x->path, &x->path_len, len);
    return ok;
}

/* The message of v failing n, for quoting in another message: runs n again
 * with messages on (only on the way to a failure). */
static const char *why_not(const schema_node *n, const rb_json *v, schema_ctx *x,
                           rb_error *scratch) {
    rb_error_clear(scratch);
    if (x->quiet) return "";
    size_t len = x->path_len;
    int saved = x->quiet;
    x->quiet = 0;
    validate_node(n, v, x, scratch);
    x->quiet = saved;
    rb_schema_path_pop(x->path, &x->path_len, len);
    return scratch->msg;
}

/* Records a deciding failure (formatted even when quiet) and returns -1. */
static int abort_with(schema_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int abort_with(schema_ctx *x, const char *fmt, ...) {
    if (x->aborted) return -1;
    char what[RB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    rb_error_set(&x->abort_err, RB_ERR_SCHEMA, RB_STAGE_VALIDATE, "%s: %s",
                 x->path_len ? x->path : "/", what);
    snprintf(x->abort_path, sizeof x->abort_path, "%s", x->path);
    x->aborted = true;
    return -1;
}

static int steps_failure(schema_ctx *x) {
    return abort_with(x,
                      "validation stopped after %llu schema evaluations, the most for a record "
                      "of this size (the schema re-evaluates the same values through its "
                      "alternatives; simplify its anyOf/oneOf/not around recursive $refs)",
                      (unsigned long long)x->steps_budget);
}

/* Runs a pattern; 1 match, 0 no match, -1 when the match limit aborted the
 * validation. */
static int run_regex(const rb_schema_regex *re, const char *src, const char *s, size_t len,
                     schema_ctx *x, const char *keyword) {
    int rc = rb_schema_regex_match(re, x->schema->limits, s, len, &x->regex);
    if (rc != RB_SCHEMA_REGEX_LIMIT) return rc;
    char vt[64];
    rb_json tmp = {.type = RB_JSON_STRING, .str = s, .str_len = len};
    value_text(&tmp, vt, sizeof vt);
    return abort_with(x,
                      "matching %s against the %s %s exceeded the pattern match limit (%lu "
                      "steps for %zu bytes); the value is rejected because the answer is "
                      "unknown (the pattern backtracks catastrophically on it)",
                      vt, keyword, src, rb_schema_regex_match_limit(len), len);
}

/* multipleOf on the decimal text; a number node made without source text
 * (not from the parser) is printed with enough digits to round-trip. */
static bool multiple_of(const rb_json *v, const rb_json *m) {
    char text[40];
    const char *vt = v->raw;
    size_t vlen = v->raw_len;
    if (!vt) {
        int k = v->is_integer ? snprintf(text, sizeof text, "%lld", (long long)v->integer)
                              : snprintf(text, sizeof text, "%.17g", v->number);
        vt = text;
        vlen = k > 0 ? (size_t)k : 0;
    }
    return rb_schema_decimal_multiple(vt, vlen, m->raw, m->raw_len);
}

static int validate_number(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    char vt[64], bt[64];
    if (n->minimum.set && num_cmp(v, n->minimum.value) < 0) {
        vtext(x, v, vt, sizeof vt);
        vtext(x, n->minimum.value, bt, sizeof bt);
        return invalid(x, err, "%s is less than the minimum %s", vt, bt);
    }
    if (n->maximum.set && num_cmp(v, n->maximum.value) > 0) {
        vtext(x, v, vt, sizeof vt);
        vtext(x, n->maximum.value, bt, sizeof bt);
        return invalid(x, err, "%s is greater than the maximum %s", vt, bt);
    }
    if (n->exclusive_minimum.set && num_cmp(v, n->exclusive_minimum.value) <= 0) {
        vtext(x, v, vt, sizeof vt);
        vtext(x, n->exclusive_minimum.value, bt, sizeof bt);
        return invalid(x, err, "%s is not greater than the exclusive minimum %s", vt, bt);
    }
    if (n->exclusive_maximum.set && num_cmp(v, n->exclusive_maximum.value) >= 0) {
        vtext(x, v, vt, sizeof vt);
        vtext(x, n->exclusive_maximum.value, bt, sizeof bt);
        return invalid(x, err, "%s is not less than the exclusive maximum %s", vt, bt);
    }
    if (n->multiple_of && !multiple_of(v, n->multiple_of)) {
        vtext(x, v, vt, sizeof vt);
        vtext(x, n->multiple_of, bt, sizeof bt);
        return invalid(x, err, "%s is not a multiple of %s (multipleOf)", vt, bt);
    }
    return 0;
}

static int validate_string(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    char vt[64];
    if (n->min_length >= 0 || n->max_length >= 0) {
        size_t cps = code_points(v->str, v->str_len);
        if (n->min_length >= 0 && cps < (uint64_t)n->min_length) {
            vtext(x, v, vt, sizeof vt);
            return invalid(x, err, "%s is shorter than minLength %lld", vt,
                           (long long)n->min_length);
        }
        if (n->max_length >= 0 && cps > (uint64_t)n->max_length) {
            vtext(x, v, vt, sizeof vt);
            return invalid(x, err, "%s is longer than maxLength %lld", vt,
                           (long long)n->max_length);
        }
    }
    if (n->pattern) {
        int rc = run_regex(n->pattern, n->pattern_src, v->str, v->str_len, x, "pattern");
        if (rc < 0) return -1;
        if (rc == 0) {
            vtext(x, v, vt, sizeof vt);
            return invalid(x, err, "%s does not match the pattern %s", vt, n->pattern_src);
        }
    }
    if (n->format != FORMAT_NONE && !rb_schema_format_check(n->format, v->str, v->str_len)) {
        vtext(x, v, vt, sizeof vt);
        return invalid(x, err, "%s is not %s", vt, rb_schema_format_describe(n->format));
    }
    return 0;
}

static int validate_item(const schema_node *n, const rb_json *v, size_t i, schema_ctx *x,
                         rb_error *err) {
    size_t old = rb_schema_path_push_index(x->path, &x->path_len, sizeof x->path, i);
    if (validate_node(n, &v->items[i], x, err) != 0) return -1;
    rb_schema_path_pop(x->path, &x->path_len, old);
    return 0;
}

static int validate_array(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    if (n->min_items >= 0 && v->count < (uint64_t)n->min_items)
        return invalid(x, err, "array of %zu items is shorter than minItems %lld", v->count,
                       (long long)n->min_items);
    if (n->max_items >= 0 && v->count > (uint64_t)n->max_items)
        return invalid(x, err, "array of %zu items is longer than maxItems %lld", v->count,
                       (long long)n->max_items);
    size_t prefix = n->n_prefix < v->count ? n->n_prefix : v->count;
    for (size_t i = 0; i < prefix; i++)
        if (validate_item(n->prefix[i], v, i, x, err) != 0) return -1;
    if (n->rest) {
        if (n->rest->is_bool && !n->rest->bool_value && v->count > n->n_prefix)
            return invalid(x, err,
                           "array of %zu items has more than the %zu allowed (%s is false)",
                           v->count, n->n_prefix, n->rest_keyword);
        for (size_t i = n->n_prefix; i < v->count; i++)
            if (validate_item(n->rest, v, i, x, err) != 0) return -1;
    }
    if (n->contains) {
        size_t hits = 0;
        for (size_t i = 0; i < v->count; i++) {
            size_t old = rb_schema_path_push_index(x->path, &x->path_len, sizeof x->path, i);
            bool ok = matches(n->contains, &v->items[i], x);
            rb_schema_path_pop(x->path, &x->path_len, old);
            if (x->aborted) return -1;
            if (ok) hits++;
            /* Without maxContains, enough hits decide it. */
            if (n->max_contains < 0 && hits >= (uint64_t)n->min_contains) break;
        }
        if (hits < (uint64_t)n->min_contains) {
            if (n->min_contains == 1) {
                rb_error first;
                const char *says = "";
                if (v->count) {
                    size_t old =
                        rb_schema_path_push_index(x->path, &x->path_len, sizeof x->path, 0);
                    says = why_not(n->contains, &v->items[0], x, &first);
                    rb_schema_path_pop(x->path, &x->path_len, old);
                }
                return invalid(x, err,
                               "no item of the array of %zu items matches \"contains\"%s%s%s",
                               v->count, v->count ? " (item 0 says: " : "", says,
                               v->count ? ")" : "");
            }
            return invalid(x, err, "%zu items match \"contains\", fewer than minContains %lld",
                           hits, (long long)n->min_contains);
        }
        if (n->max_contains >= 0 && hits > (uint64_t)n->max_contains)
            return invalid(x, err, "%zu items match \"contains\", more than maxContains %lld",
                           hits, (long long)n->max_contains);
    }
    if (n->unique_items) {
        size_t a, b;
        int rc = rb_schema_find_duplicate(v, &a, &b);
        if (rc < 0) return rb_error_nomem(err, RB_STAGE_VALIDATE, "uniqueItems");
        if (rc > 0)
            return invalid(x, err, "items %zu and %zu are equal (uniqueItems is true)", a, b);
    }
    return 0;
}

static bool has_name(const rb_json *obj, const char *name) {
    return rb_json_get(obj, name) != NULL;
}

static int validate_object(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    for (size_t i = 0; i < n->n_required; i++)
        if (!has_name(v, n->required[i]))
            return invalid(x, err, "required property \"%s\" is missing", n->required[i]);
    if (n->min_props >= 0 && v->count < (uint64_t)n->min_props)
        return invalid(x, err, "object of %zu properties has fewer than minProperties %lld",
                       v->count, (long long)n->min_props);
    if (n->max_props >= 0 && v->count > (uint64_t)n->max_props)
        return invalid(x, err, "object of %zu properties has more than maxProperties %lld",
                       v->count, (long long)n->max_props);
    for (size_t i = 0; i < n->n_deps; i++) {
        const schema_dependency *d = &n->deps[i];
        if (!has_name(v, d->name)) continue;
        for (size_t j = 0; j < d->n_names; j++)
            if (!has_name(v, d->names[j]))
                return invalid(x, err, "property \"%s\" requires property \"%s\" (%s)", d->name,
                               d->names[j], d->keyword);
        if (d->schema && validate_node(d->schema, v, x, err) != 0) return -1;
    }
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        size_t old =
            rb_schema_path_push(x->path, &x->path_len, sizeof x->path, m->key, m->key_len);
        if (n->property_names) {
            rb_json name = {.type = RB_JSON_STRING, .str = m->key, .str_len = m->key_len};
            if (!matches(n->property_names, &name, x)) {
                if (x->aborted) return -1;
                rb_error why;
                char vt[64];
                vtext(x, &name, vt, sizeof vt);
                return invalid(x, err, "property name %s does not match propertyNames (%s)", vt,
                               why_not(n->property_names, &name, x, &why));
            }
        }
        bool listed = false;
        for (size_t j = 0; j < n->n_props; j++)
            if (n->props[j].name_len == m->key_len &&
                memcmp(n->props[j].name, m->key, m->key_len) == 0) {
                listed = true;
                if (validate_node(n->props[j].schema, m->value, x, err) != 0) return -1;
                break;
            }
        for (size_t j = 0; j < n->n_pattern_props; j++) {
            const schema_pattern_prop *pp = &n->pattern_props[j];
            int rc = run_regex(pp->re, pp->src, m->key, m->key_len, x, "patternProperties");
            if (rc < 0) return -1;
            if (rc == 0) continue;
            listed = true;
            if (validate_node(pp->schema, m->value, x, err) != 0) return -1;
        }
        if (!listed) {
            if (n->additional_false)
                return invalid(x, err,
                               "property \"%.*s\" is not allowed (additionalProperties "
                               "is false)",
                               (int)(m->key_len > 64 ? 64 : m->key_len), m->key);
            if (n->additional && validate_node(n->additional, m->value, x, err) != 0) return -1;
        }
        rb_schema_path_pop(x->path, &x->path_len, old);
    }
    return 0;
}

static int validate_combinators(const schema_node *n, const rb_json *v, schema_ctx *x,
                                rb_error *err) {
    char vt[64];
    for (size_t i = 0; i < n->n_all_of; i++)
        if (validate_node(n->all_of[i], v, x, err) != 0) return -1;
    if (n->n_any_of) {
        bool any = false;
        for (size_t i = 0; i < n->n_any_of && !any; i++) any = matches(n->any_of[i], v, x);
        if (x->aborted) return -1;
        if (!any) {
            rb_error first;
            vtext(x, v, vt, sizeof vt);
            return invalid(x, err,
                           "%s matches none of the anyOf alternatives (the first says: %s)", vt,
                           why_not(n->any_of[0], v, x, &first));
        }
    }
    if (n->n_one_of) {
        size_t hits = 0, hit[2] = {0, 0};
        for (size_t i = 0; i < n->n_one_of && hits < 2; i++) {
            if (matches(n->one_of[i], v, x)) hit[hits++] = i;
            if (x->aborted) return -1;
        }
        if (hits != 1) vtext(x, v, vt, sizeof vt);
        if (hits == 0) {
            rb_error first;
            return invalid(x, err,
                           "%s matches none of the oneOf alternatives (the first says: %s)", vt,
                           why_not(n->one_of[0], v, x, &first));
        }
        if (hits > 1)
            return invalid(x, err,
                           "%s matches oneOf alternatives %zu and %zu; exactly one is allowed", vt,
                           hit[0], hit[1]);
    }
    if (n->not_) {
        bool hit = matches(n->not_, v, x);
        if (x->aborted) return -1;
        if (hit) {
            vtext(x, v, vt, sizeof vt);
            return invalid(x, err, "%s matches the schema under \"not\"", vt);
        }
    }
    if (n->if_) {
        bool cond = matches(n->if_, v, x);
        if (x->aborted) return -1;
        const schema_node *branch = cond ? n->then_ : n->else_;
        if (branch && validate_node(branch, v, x, err) != 0) return -1;
    }
    return 0;
}

static int validate_assertions(const schema_node *n, const rb_json *v, schema_ctx *x,
                               rb_error *err) {
    char vt[64];
    if (n->types && !(n->types & type_bits(v))) {
        if (x->quiet) return -1;
        char want[96];
        type_list(n->types, want, sizeof want);
        vtext(x, v, vt, sizeof vt);
        return invalid(x, err, "%s is not of type %s", vt, want);
    }
    if (n->enum_values) {
        bool found = false;
        for (size_t i = 0; i < n->enum_values->count && !found; i++)
            found = rb_schema_json_equal(v, &n->enum_values->items[i]);
        if (!found) {
            if (x->quiet) return -1;
            char list[256];
            size_t len = 0;
            list[0] = '\0';
            for (size_t i = 0; i < n->enum_values->count; i++) {
                char it[64];
                vtext(x, &n->enum_values->items[i], it, sizeof it);
                int k = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", it);
                if (k < 0 || (size_t)k >= sizeof list - len) break;
                len += (size_t)k;
            }
            vtext(x, v, vt, sizeof vt);
            return invalid(x, err, "%s is not one of %s", vt, list);
        }
    }
    if (n->const_value && !rb_schema_json_equal(v, n->const_value)) {
        char ct[64];
        vtext(x, v, vt, sizeof vt);
        vtext(x, n->const_value, ct, sizeof ct);
        return invalid(x, err, "%s is not the constant %s", vt, ct);
    }
    if ((v->type == RB_JSON_NUMBER && validate_number(n, v, x, err) != 0) ||
        (v->type == RB_JSON_STRING && validate_string(n, v, x, err) != 0) ||
        (v->type == RB_JSON_ARRAY && validate_array(n, v, x, err) != 0) ||
        (v->type == RB_JSON_OBJECT && validate_object(n, v, x, err) != 0))
        return -1;
    return validate_combinators(n, v, x, err);
}

static int validate_node(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    if (x->aborted) return -1;
    if (x->steps_left == 0) return steps_failure(x);
    x->steps_left--;
    if (++x->depth > SCHEMA_EVAL_DEPTH_MAX) {
        x->depth--;
        return invalid(x, err, "schema nesting deeper than %d levels (a recursive $ref?)",
                       SCHEMA_EVAL_DEPTH_MAX);
    }
    int rc;
    if (n->is_bool) {
        rc = n->bool_value ? 0 : invalid(x, err, "no value is allowed here (the schema is false)");
    } else if (n->ref && n->ref_only) {
        rc = validate_node(n->ref, v, x, err);
    } else {
        rc = n->ref ? validate_node(n->ref, v, x, err) : 0;
        if (rc == 0) rc = validate_assertions(n, v, x, err);
    }
    x->depth--;
    return rc;
}

int rb_schema_validate(const rb_schema *schema, const rb_json *instance, char *path,
                       size_t path_size, rb_error *err) {
    schema_ctx x;
    x.schema = schema;
    x.path[0] = '\0';
    x.path_len = 0;
    x.depth = 0;
    x.regex = NULL;
    x.quiet = 0;
    x.aborted = false;
    x.abort_path[0] = '\0';
    uint64_t bytes = instance->raw ? instance->raw_len : 1u << 20;
    x.steps_budget = x.steps_left = SCHEMA_STEPS_BASE + SCHEMA_STEPS_PER_BYTE * bytes;
    rb_error local;
    if (!err) err = &local; /* messages are built regardless; keep them off NULL */
    int rc = validate_node(schema->root, instance, &x, err);
    rb_schema_regex_scratch_free(x.regex);
    if (x.aborted) {
        *err = x.abort_err;
        snprintf(x.path, sizeof x.path, "%s", x.abort_path);
        rc = -1;
    }
    if (rc != 0 && path && path_size) snprintf(path, path_size, "%s", x.path);
    if (rc == 0 && path && path_size) path[0] = '\0';
    return rc;
}
