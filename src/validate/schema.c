/*
 * schema.c -- compiles a JSON Schema document (schema.h) into a graph of
 * schema_node (schema_node.h).
 *
 * The compiled schema owns a private copy of the document (it re-parses
 * the root's source text, or takes over the document it loaded).  First
 * schema_ref.c walks the document and gives every schema value its JSON
 * pointer and base URI; then each schema value is compiled at most once
 * (its location remembers its node), starting at the root, so a $ref is a
 * pointer to its target's node and recursive schemas just work.  Schema
 * values nobody refers to (unused definitions) are compiled too, so that
 * their mistakes are reported now rather than when someone starts using
 * them.  The location index is freed when compilation ends.
 */
#include "validate/schema.h"

#include "common/suggest.h"
#include "validate/schema_decimal.h"
#include "validate/schema_format.h"
#include "validate/schema_node.h"
#include "validate/schema_ref.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ============================================================ paths */

size_t rb_schema_path_push(char *path, size_t *len, size_t cap, const char *seg, size_t seg_len) {
    size_t old = *len;
    size_t n = *len;
    if (n + 1 < cap) path[n++] = '/';
    for (size_t i = 0; i < seg_len && n + 2 < cap; i++) {
        if (seg[i] == '~') {
            path[n++] = '~';
            path[n++] = '0';
        } else if (seg[i] == '/') {
            path[n++] = '~';
            path[n++] = '1';
        } else {
            path[n++] = seg[i];
        }
    }
    path[n] = '\0';
    *len = n;
    return old;
}

size_t rb_schema_path_push_index(char *path, size_t *len, size_t cap, size_t index) {
    char num[24];
    int n = snprintf(num, sizeof num, "%zu", index);
    return rb_schema_path_push(path, len, cap, num, (size_t)n);
}

void rb_schema_path_pop(char *path, size_t *len, size_t old) {
    *len = old;
    path[old] = '\0';
}

/* ============================================================ keywords */

typedef struct schema_compiler {
    rb_schema *s;
    const char *origin;
    char path[SCHEMA_PATH_MAX]; /* JSON pointer of the keyword being compiled */
    size_t path_len;
    const char *base; /* base URI of the schema being compiled */
    rb_error *err;
} schema_compiler;

/* Which drafts a keyword belongs to. */
enum { IN_07 = 1, IN_2019 = 2, IN_2020 = 4, IN_ALL = 7 };

typedef struct keyword_info {
    const char *name;
    unsigned drafts;
} keyword_info;

static const keyword_info keywords[] = {
    {"type", IN_ALL},
    {"enum", IN_ALL},
    {"const", IN_ALL},
    {"multipleOf", IN_ALL},
    {"maximum", IN_ALL},
    {"exclusiveMaximum", IN_ALL},
    {"minimum", IN_ALL},
    {"exclusiveMinimum", IN_ALL},
    {"maxLength", IN_ALL},
    {"minLength", IN_ALL},
    {"pattern", IN_ALL},
    {"format", IN_ALL},
    {"items", IN_ALL},
    {"additionalItems", IN_07 | IN_2019},
    {"prefixItems", IN_2020},
    {"contains", IN_ALL},
    {"minContains", IN_2019 | IN_2020},
    {"maxContains", IN_2019 | IN_2020},
    {"maxItems", IN_ALL},
    {"minItems", IN_ALL},
    {"uniqueItems", IN_ALL},
    {"required", IN_ALL},
    {"properties", IN_ALL},
    {"patternProperties", IN_ALL},
    {"additionalProperties", IN_ALL},
    {"propertyNames", IN_ALL},
    {"maxProperties", IN_ALL},
    {"minProperties", IN_ALL},
    {"dependencies", IN_07},
    {"dependentRequired", IN_2019 | IN_2020},
    {"dependentSchemas", IN_2019 | IN_2020},
    {"allOf", IN_ALL},
    {"anyOf", IN_ALL},
    {"oneOf", IN_ALL},
    {"not", IN_ALL},
    {"if", IN_ALL},
    {"then", IN_ALL},
    {"else", IN_ALL},
    {"$ref", IN_ALL},
    /* annotations and identifiers */
    {"$schema", IN_ALL},
    {"$id", IN_ALL},
    {"$comment", IN_ALL},
    {"title", IN_ALL},
    {"description", IN_ALL},
    {"default", IN_ALL},
    {"examples", IN_ALL},
    {"readOnly", IN_ALL},
    {"writeOnly", IN_ALL},
    {"contentMediaType", IN_ALL},
    {"contentEncoding", IN_ALL},
    {"definitions", IN_ALL},
    {"$defs", IN_ALL},
    {"$anchor", IN_2019 | IN_2020},
    {"deprecated", IN_2019 | IN_2020},
    {"contentSchema", IN_2019 | IN_2020},
};

/* Keywords of 2019-09 / 2020-12 that ragbatch refuses rather than ignores:
 * each changes what validates, and ignoring it would let records through
 * that the schema's author meant to stop. */
static const struct {
    const char *name;
    const char *why;
} refused[] = {
    {"unevaluatedProperties", "it needs annotation collection, which ragbatch does not do; "
                              "list the allowed properties and use additionalProperties"},
    {"unevaluatedItems", "it needs annotation collection, which ragbatch does not do; use "
                         "items / additionalItems"},
    {"$dynamicRef", "dynamic scopes are not supported; use $ref"},
    {"$dynamicAnchor", "dynamic scopes are not supported; use $anchor"},
    {"$recursiveRef", "dynamic scopes are not supported; use $ref"},
    {"$recursiveAnchor", "dynamic scopes are not supported"},
    {"$vocabulary", "custom vocabularies (meta-schemas) are not supported"},
};

static unsigned draft_bit(schema_draft d) {
    return d == DRAFT_07 ? IN_07 : d == DRAFT_2019_09 ? IN_2019 : IN_2020;
}

static const char *draft_name(schema_draft d) {
    return d == DRAFT_07 ? "draft-07" : d == DRAFT_2019_09 ? "draft 2019-09" : "draft 2020-12";
}

static const keyword_info *keyword_find(const char *kw) {
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (strcmp(keywords[i].name, kw) == 0) return &keywords[i];
    return NULL;
}

static int compile_fail(schema_compiler *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int compile_fail(schema_compiler *c, const char *fmt, ...) {
    char what[RB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rb_error_set(c->err, RB_ERR_SCHEMA, RB_STAGE_CONFIG, "%s: schema %s: %s", c->origin,
                        c->path_len ? c->path : "/", what);
}

/* A keyword this draft does not define.  The specification says to ignore
 * it, and ragbatch does, with three exceptions that keep rules from being
 * dropped silently: a keyword of another draft (declare that draft in
 * $schema), a keyword refused above, and a near-miss of a known keyword
 * (a typo such as "requird": ragbatch has always refused those, and job
 * authors rely on it to catch them). */
static int unknown_keyword(schema_compiler *c, const char *kw) {
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        if (strcmp(kw, refused[i].name) == 0)
            return compile_fail(c, "keyword \"%s\" is not supported: %s", kw, refused[i].why);
    const keyword_info *k = keyword_find(kw);
    if (k) {
        const char *example =
            (k->drafts & IN_2020)   ? "https://json-schema.org/draft/2020-12/schema"
            : (k->drafts & IN_2019) ? "https://json-schema.org/draft/2019-09/schema"
                                    : "http://json-schema.org/draft-07/schema#";
        const char *hint = "";
        if (strcmp(kw, "dependencies") == 0)
            hint = " (use dependentRequired and dependentSchemas)";
        else if (strcmp(kw, "additionalItems") == 0)
            hint = " (use prefixItems for the first items and items for the rest)";
        return compile_fail(c, "keyword \"%s\" is not part of %s%s; declare its draft in $schema (%s)",
                            kw, draft_name(c->s->draft), hint, example);
    }
    /* Annotations of neighbouring vocabularies that a typo check would
     * take for misspellings: OpenAPI's singular "example" is one letter
     * from "examples" and is in every schema exported from an OpenAPI
     * document. */
    static const char *const foreign_annotations[] = {"example"};
    for (size_t i = 0; i < sizeof foreign_annotations / sizeof *foreign_annotations; i++)
        if (strcmp(kw, foreign_annotations[i]) == 0) return 0;
    unsigned bit = draft_bit(c->s->draft);
    const char *names[sizeof keywords / sizeof *keywords];
    size_t n = 0;
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (keywords[i].drafts & bit) names[n++] = keywords[i].name;
    const char *best = rb_suggest(kw, names, n, strlen(kw) <= 4 ? 1 : 2);
    if (best)
        return compile_fail(c, "keyword \"%s\" is not supported (did you mean \"%s\"?)", kw, best);
    return 0;
}

static int parse_type_name(const char *name, unsigned *bit) {
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"null", T_NULL},      {"boolean", T_BOOLEAN}, {"object", T_OBJECT},
                 {"array", T_ARRAY},    {"number", T_NUMBER},   {"string", T_STRING},
                 {"integer", T_INTEGER}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i].name) == 0) {
            *bit = names[i].bit;
            return 0;
        }
    return -1;
}

static int compile_type(schema_compiler *c, schema_node *n, const rb_json *v) {
    if (v->type == RB_JSON_STRING) {
        if (parse_type_name(v->str, &n->types) != 0)
            return compile_fail(c, "unknown type \"%s\"", v->str);
        return 0;
    }
    if (v->type != RB_JSON_ARRAY || v->count == 0)
        return compile_fail(c, "must be a type name or a non-empty array of type names");
    for (size_t i = 0; i < v->count; i++) {
        unsigned bit;
        if (v->items[i].type != RB_JSON_STRING || parse_type_name(v->items[i].str, &bit) != 0)
            return compile_fail(c, "item %zu is not a type name", i);
        if (n->types & bit) return compile_fail(c, "type \"%s\" is listed twice", v->items[i].str);
        n->types |= bit;
    }
    return 0;
}

/* A non-negative integer; 2.0 counts (draft-07 allows any integral value). */
static int get_count(schema_compiler *c, const rb_json *v, int64_t *out) {
    if (v->type == RB_JSON_NUMBER && v->is_integer && v->integer >= 0) {
        *out = v->integer;
        return 0;
    }
    if (v->type == RB_JSON_NUMBER && !v->is_integer && v->number >= 0 && v->number < 9.2e18 &&
        floor(v->number) == v->number) {
        *out = (int64_t)v->number;
        return 0;
    }
    return compile_fail(c, "must be a non-negative integer");
}

static int get_bound(schema_compiler *c, const rb_json *v, schema_bound *b) {
    if (v->type != RB_JSON_NUMBER) {
        if (v->type == RB_JSON_BOOL)
            return compile_fail(c, "must be a number (the boolean form is draft-04; in draft-07 "
                                   "write the bound itself here)");
        return compile_fail(c, "must be a number");
    }
    b->set = true;
    b->value = v;
    return 0;
}

static int get_regex(schema_compiler *c, const rb_json *v, rb_schema_regex **out) {
    if (v->type != RB_JSON_STRING) return compile_fail(c, "must be a string");
    char why[200];
    *out = rb_schema_regex_compile(v->str, why, sizeof why);
    if (!*out) return compile_fail(c, "pattern \"%s\" does not compile: %s", v->str, why);
    return 0;
}

static schema_node *node_new(schema_compiler *c) {
    schema_node *n = calloc(1, sizeof *n);
    if (!n) {
        rb_error_nomem(c->err, RB_STAGE_CONFIG, "schema node");
        return NULL;
    }
    n->min_length = n->max_length = n->min_items = n->max_items = -1;
    n->min_props = n->max_props = n->max_contains = -1;
    n->min_contains = 1;
    n->next_all = c->s->all;
    c->s->all = n;
    c->s->n_nodes++;
    return n;
}

static int compile_node(schema_compiler *c, const rb_json *v, schema_node **out);

static int compile_list(schema_compiler *c, const rb_json *v, schema_node ***out, size_t *count,
                        bool allow_empty) {
    if (v->type != RB_JSON_ARRAY || (v->count == 0 && !allow_empty))
        return compile_fail(c, "must be a non-empty array of schemas");
    *out = calloc(v->count ? v->count : 1, sizeof **out);
    if (!*out) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "schema list");
    *count = v->count;
    for (size_t i = 0; i < v->count; i++) {
        size_t old = rb_schema_path_push_index(c->path, &c->path_len, sizeof c->path, i);
        if (compile_node(c, &v->items[i], &(*out)[i]) != 0) return -1;
        rb_schema_path_pop(c->path, &c->path_len, old);
    }
    return 0;
}

/* An array of distinct property names (required, dependency lists). */
static int get_names(schema_compiler *c, const rb_json *v, const char ***out, size_t *count) {
    if (v->type != RB_JSON_ARRAY) return compile_fail(c, "must be an array of property names");
    *out = calloc(v->count ? v->count : 1, sizeof **out);
    if (!*out) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "property names");
    *count = 0;
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i].type != RB_JSON_STRING)
            return compile_fail(c, "item %zu is not a string", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp((*out)[j], v->items[i].str) == 0)
                return compile_fail(c, "\"%s\" is listed twice", v->items[i].str);
        (*out)[(*count)++] = v->items[i].str;
    }
    return 0;
}

static int compile_properties(schema_compiler *c, schema_node *n, const rb_json *v) {
    if (v->type != RB_JSON_OBJECT) return compile_fail(c, "must be an object of schemas");
    n->props = calloc(v->count ? v->count : 1, sizeof *n->props);
    if (!n->props) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "properties");
    n->n_props = v->count;
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        n->props[i].name = m->key;
        n->props[i].name_len = m->key_len;
        size_t old =
            rb_schema_path_push(c->path, &c->path_len, sizeof c->path, m->key, m->key_len);
        if (compile_node(c, m->value, &n->props[i].schema) != 0) return -1;
        rb_schema_path_pop(c->path, &c->path_len, old);
    }
    return 0;
}

static int compile_pattern_properties(schema_compiler *c, schema_node *n, const rb_json *v) {
    if (v->type != RB_JSON_OBJECT) return compile_fail(c, "must be an object of schemas");
    n->pattern_props = calloc(v->count ? v->count : 1, sizeof *n->pattern_props);
    if (!n->pattern_props) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "patternProperties");
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        size_t old =
            rb_schema_path_push(c->path, &c->path_len, sizeof c->path, m->key, m->key_len);
        char why[200];
        schema_pattern_prop *pp = &n->pattern_props[n->n_pattern_props];
        pp->re = rb_schema_regex_compile(m->key, why, sizeof why);
        if (!pp->re) return compile_fail(c, "pattern \"%s\" does not compile: %s", m->key, why);
        pp->src = m->key;
        n->n_pattern_props++;
        if (compile_node(c, m->value, &pp->schema) != 0) return -1;
        rb_schema_path_pop(c->path, &c->path_len, old);
    }
    return 0;
}

/* dependencies (draft-07: each value a list of names or a schema),
 * dependentRequired (lists) or dependentSchemas (schemas). */
static int compile_dependencies(schema_compiler *c, schema_node *n, const rb_json *v,
                                const char *kw, bool lists, bool schemas) {
    if (v->type != RB_JSON_OBJECT) return compile_fail(c, "must be an object");
    size_t have = n->n_deps;
    schema_dependency *grown = realloc(n->deps, (have + v->count + 1) * sizeof *grown);
    if (!grown) return rb_error_nomem(c->err, RB_STAGE_CONFIG, kw);
    n->deps = grown;
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        size_t old =
            rb_schema_path_push(c->path, &c->path_len, sizeof c->path, m->key, m->key_len);
        schema_dependency *d = &n->deps[n->n_deps];
        memset(d, 0, sizeof *d);
        d->name = m->key;
        d->keyword = kw;
        n->n_deps++;
        int rc;
        if (lists && m->value->type == RB_JSON_ARRAY)
            rc = get_names(c, m->value, &d->names, &d->n_names);
        else if (schemas && (m->value->type == RB_JSON_OBJECT || m->value->type == RB_JSON_BOOL))
            rc = compile_node(c, m->value, &d->schema);
        else
            rc = compile_fail(c, lists && schemas ? "must be an array of names or a schema"
                                 : lists          ? "must be an array of property names"
                                                  : "must be a schema");
        if (rc != 0) return -1;
        rb_schema_path_pop(c->path, &c->path_len, old);
    }
    return 0;
}

static int compile_format(schema_compiler *c, schema_node *n, const rb_json *v) {
    const char *f = rb_json_string(v);
    if (!f) return compile_fail(c, "must be a string");
    n->format = rb_schema_format_lookup(f);
    n->format_name = f;
    if (n->format != FORMAT_NONE) return 0;
    if (rb_schema_format_is_unchecked(f))
        return compile_fail(c,
                            "format \"%s\" is not checked by ragbatch (checked: date-time, "
                            "date, time, email, hostname, ipv4, ipv6, uri, uri-reference, uuid, "
                            "regex, json-pointer, relative-json-pointer); use a pattern instead",
                            f);
    static const char *const known[] = {"date-time", "date",  "time",        "email",
                                        "hostname",  "ipv4",  "ipv6",        "uri",
                                        "uuid",      "regex", "json-pointer"};
    const char *best = rb_suggest(f, known, sizeof known / sizeof *known, 2);
    if (best) return compile_fail(c, "format \"%s\" is unknown (did you mean \"%s\"?)", f, best);
    return 0; /* a custom format: an annotation, as the specification says */
}

static int compile_keyword(schema_compiler *c, schema_node *n, const char *kw, const rb_json *v,
                           const rb_json *parent) {
    schema_draft d = c->s->draft;
    if (strcmp(kw, "type") == 0) return compile_type(c, n, v);
    if (strcmp(kw, "required") == 0) return get_names(c, v, &n->required, &n->n_required);
    if (strcmp(kw, "properties") == 0) return compile_properties(c, n, v);
    if (strcmp(kw, "patternProperties") == 0) return compile_pattern_properties(c, n, v);
    if (strcmp(kw, "additionalProperties") == 0) {
        if (v->type == RB_JSON_BOOL && !v->boolean) {
            n->additional_false = true;
            return 0;
        }
        return compile_node(c, v, &n->additional);
    }
    if (strcmp(kw, "propertyNames") == 0) return compile_node(c, v, &n->property_names);
    if (strcmp(kw, "minProperties") == 0) return get_count(c, v, &n->min_props);
    if (strcmp(kw, "maxProperties") == 0) return get_count(c, v, &n->max_props);
    if (strcmp(kw, "dependencies") == 0 && d == DRAFT_07)
        return compile_dependencies(c, n, v, kw, true, true);
    if (strcmp(kw, "dependentRequired") == 0 && d != DRAFT_07)
        return compile_dependencies(c, n, v, kw, true, false);
    if (strcmp(kw, "dependentSchemas") == 0 && d != DRAFT_07)
        return compile_dependencies(c, n, v, kw, false, true);
    if (strcmp(kw, "enum") == 0) {
        if (v->type != RB_JSON_ARRAY || v->count == 0)
            return compile_fail(c, "must be a non-empty array");
        n->enum_values = v;
        return 0;
    }
    if (strcmp(kw, "const") == 0) {
        n->const_value = v;
        return 0;
    }
    if (strcmp(kw, "multipleOf") == 0) {
        if (v->type != RB_JSON_NUMBER) return compile_fail(c, "must be a number");
        int ok = rb_schema_decimal_divisor_ok(v->raw, v->raw_len);
        if (ok == 0) return compile_fail(c, "must be greater than 0");
        if (ok < 0) return compile_fail(c, "more than 19 significant digits are not supported");
        n->multiple_of = v;
        return 0;
    }
    if (strcmp(kw, "minimum") == 0) return get_bound(c, v, &n->minimum);
    if (strcmp(kw, "maximum") == 0) return get_bound(c, v, &n->maximum);
    if (strcmp(kw, "exclusiveMinimum") == 0) return get_bound(c, v, &n->exclusive_minimum);
    if (strcmp(kw, "exclusiveMaximum") == 0) return get_bound(c, v, &n->exclusive_maximum);
    if (strcmp(kw, "minLength") == 0) return get_count(c, v, &n->min_length);
    if (strcmp(kw, "maxLength") == 0) return get_count(c, v, &n->max_length);
    if (strcmp(kw, "minItems") == 0) return get_count(c, v, &n->min_items);
    if (strcmp(kw, "maxItems") == 0) return get_count(c, v, &n->max_items);
    if (strcmp(kw, "uniqueItems") == 0) {
        if (v->type != RB_JSON_BOOL) return compile_fail(c, "must be a boolean");
        n->unique_items = v->boolean;
        return 0;
    }
    if (strcmp(kw, "pattern") == 0) {
        n->pattern_src = rb_json_string(v);
        return get_regex(c, v, &n->pattern);
    }
    if (strcmp(kw, "format") == 0) return compile_format(c, n, v);
    if (strcmp(kw, "items") == 0) {
        if (v->type == RB_JSON_ARRAY) {
            if (d == DRAFT_2020_12)
                return compile_fail(c, "the array form of items is prefixItems in draft "
                                       "2020-12");
            return compile_list(c, v, &n->prefix, &n->n_prefix, true);
        }
        /* In 2020-12 items is for the items after prefixItems; before, a
         * single schema is for every item. */
        n->rest_keyword = "items";
        return compile_node(c, v, &n->rest);
    }
    if (strcmp(kw, "prefixItems") == 0 && d == DRAFT_2020_12)
        return compile_list(c, v, &n->prefix, &n->n_prefix, false);
    if (strcmp(kw, "additionalItems") == 0 && d != DRAFT_2020_12) {
        /* Only beside an array of items; otherwise it has no effect. */
        const rb_json *items = rb_json_get(parent, "items");
        if (!items || items->type != RB_JSON_ARRAY) {
            schema_node *ignored;
            return compile_node(c, v, &ignored);
        }
        n->rest_keyword = "additionalItems";
        return compile_node(c, v, &n->rest);
    }
    if (strcmp(kw, "contains") == 0) return compile_node(c, v, &n->contains);
    if (strcmp(kw, "minContains") == 0 && d != DRAFT_07) return get_count(c, v, &n->min_contains);
    if (strcmp(kw, "maxContains") == 0 && d != DRAFT_07) return get_count(c, v, &n->max_contains);
    if (strcmp(kw, "allOf") == 0) return compile_list(c, v, &n->all_of, &n->n_all_of, false);
    if (strcmp(kw, "anyOf") == 0) return compile_list(c, v, &n->any_of, &n->n_any_of, false);
    if (strcmp(kw, "oneOf") == 0) return compile_list(c, v, &n->one_of, &n->n_one_of, false);
    if (strcmp(kw, "not") == 0) return compile_node(c, v, &n->not_);
    if (strcmp(kw, "if") == 0) return compile_node(c, v, &n->if_);
    if (strcmp(kw, "then") == 0) return compile_node(c, v, &n->then_);
    if (strcmp(kw, "else") == 0) return compile_node(c, v, &n->else_);
    return unknown_keyword(c, kw);
}

static bool is_annotation(const char *kw) {
    static const char *const names[] = {"$schema",         "$id",
                                        "$comment",        "title",
                                        "description",     "default",
                                        "examples",        "readOnly",
                                        "writeOnly",       "contentMediaType",
                                        "contentEncoding", "definitions",
                                        "$defs",           "$anchor",
                                        "deprecated",      "contentSchema"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(kw, names[i]) == 0) return true;
    return false;
}

static int compile_annotation(schema_compiler *c, const char *kw, const rb_json *v) {
    schema_draft d = c->s->draft;
    const keyword_info *k = keyword_find(kw);
    if (k && !(k->drafts & draft_bit(d))) return unknown_keyword(c, kw);
    if (strcmp(kw, "$schema") == 0) {
        if (c->path_len != strlen("/$schema"))
            return compile_fail(c, "$schema belongs at the root only");
        return 0; /* read before compiling (schema_draft_of) */
    }
    if (strcmp(kw, "$id") == 0 || strcmp(kw, "$comment") == 0 || strcmp(kw, "title") == 0 ||
        strcmp(kw, "description") == 0 || strcmp(kw, "contentMediaType") == 0 ||
        strcmp(kw, "contentEncoding") == 0 || strcmp(kw, "$anchor") == 0) {
        if (v->type != RB_JSON_STRING) return compile_fail(c, "must be a string");
        return 0;
    }
    if (strcmp(kw, "examples") == 0) {
        if (v->type != RB_JSON_ARRAY) return compile_fail(c, "must be an array");
        return 0;
    }
    if (strcmp(kw, "readOnly") == 0 || strcmp(kw, "writeOnly") == 0 ||
        strcmp(kw, "deprecated") == 0) {
        if (v->type != RB_JSON_BOOL) return compile_fail(c, "must be a boolean");
        return 0;
    }
    if (strcmp(kw, "definitions") == 0 || strcmp(kw, "$defs") == 0) {
        if (v->type != RB_JSON_OBJECT) return compile_fail(c, "must be an object of schemas");
        return 0; /* each definition is compiled at its own location */
    }
    return 0; /* default, contentSchema: any value */
}

static int compile_ref(schema_compiler *c, schema_node *n, const rb_json *v) {
    if (v->type != RB_JSON_STRING) return compile_fail(c, "must be a string");
    char why[400];
    schema_loc *target = rb_schema_ref_resolve(c->s, c->base, v->str, why, sizeof why);
    if (!target) return compile_fail(c, "\"%s\" does not resolve: %s", v->str, why);
    return compile_node(c, target->value, &n->ref);
}

static int refuse_at(schema_compiler *c, const char *kw, const char *fmt, const char *arg) {
    size_t old = rb_schema_path_push(c->path, &c->path_len, sizeof c->path, kw, strlen(kw));
    int rc = compile_fail(c, fmt, arg);
    rb_schema_path_pop(c->path, &c->path_len, old);
    return rc;
}

static int compile_object(schema_compiler *c, schema_node *n, const rb_json *v) {
    bool has_ref = rb_json_get(v, "$ref") != NULL;
    if (has_ref && c->s->draft == DRAFT_07) {
        /* draft-07 ignores every keyword beside $ref; refusing them keeps a
         * rule from being silently dropped. */
        for (size_t i = 0; i < v->count; i++) {
            const char *kw = v->members[i].key;
            if (strcmp(kw, "$ref") != 0 && !is_annotation(kw) && keyword_find(kw))
                return refuse_at(c, kw,
                                 "keywords beside $ref are ignored by draft-07; move \"%s\" "
                                 "and the $ref into an allOf",
                                 kw);
        }
        n->ref_only = true;
    }
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        size_t old =
            rb_schema_path_push(c->path, &c->path_len, sizeof c->path, m->key, m->key_len);
        int rc;
        if (is_annotation(m->key))
            rc = compile_annotation(c, m->key, m->value);
        else if (strcmp(m->key, "$ref") == 0)
            rc = compile_ref(c, n, m->value);
        else
            rc = compile_keyword(c, n, m->key, m->value, v);
        if (rc != 0) return -1;
        rb_schema_path_pop(c->path, &c->path_len, old);
    }
    /* "then" and "else" without "if" are compiled (their mistakes are
     * reported) but, as the specification says, have no effect. */
    return 0;
}

/* Compiles schema value v, once: its location remembers the node. */
static int compile_node(schema_compiler *c, const rb_json *v, schema_node **out) {
    if (v->type != RB_JSON_OBJECT && v->type != RB_JSON_BOOL)
        return compile_fail(c, "a schema must be an object or a boolean, not %s",
                            rb_json_type_name(v->type));
    schema_loc *loc = rb_schema_loc_find(c->s, v);
    if (!loc) return compile_fail(c, "internal error: schema value not indexed");
    if (loc->node) {
        *out = loc->node;
        return 0;
    }
    schema_node *n = node_new(c);
    if (!n) return -1;
    *out = n;
    loc->node = n; /* before the keywords, so that a cycle finds it */
    /* Compile at the value's own location; the index may grow meanwhile,
     * so keep its strings rather than `loc`. */
    char saved[SCHEMA_PATH_MAX];
    size_t saved_len = c->path_len;
    memcpy(saved, c->path, saved_len + 1);
    const char *saved_base = c->base;
    c->path_len = 0;
    c->path[0] = '\0';
    size_t plen = strlen(loc->pointer);
    if (plen >= sizeof c->path) plen = sizeof c->path - 1;
    memcpy(c->path, loc->pointer, plen);
    c->path[plen] = '\0';
    c->path_len = plen;
    c->base = loc->base;
    int rc;
    if (v->type == RB_JSON_BOOL) {
        n->is_bool = true;
        n->bool_value = v->boolean;
        rc = 0;
    } else {
        rc = compile_object(c, n, v);
    }
    if (rc != 0) return -1; /* the error names the path where it happened */
    memcpy(c->path, saved, saved_len + 1);
    c->path_len = saved_len;
    c->base = saved_base;
    return 0;
}

/* Fails on a chain of $ref-only nodes that leads back to itself: such a
 * schema could never decide anything. */
static int check_ref_cycles(schema_compiler *c) {
    for (schema_node *n = c->s->all; n; n = n->next_all) {
        size_t steps = 0;
        for (const schema_node *t = n; t->ref && t->ref_only; t = t->ref)
            if (++steps > c->s->n_nodes) {
                c->path_len = 0;
                c->path[0] = '\0';
                return compile_fail(c, "$ref cycle: a definition refers to itself without any "
                                       "other keyword");
            }
    }
    return 0;
}

/* The draft $schema names, or -1 (with the error set). */
static int schema_draft_of(schema_compiler *c, const rb_json *root) {
    const rb_json *v = rb_json_get(root, "$schema");
    if (!v) {
        c->s->draft = DRAFT_07;
        return 0;
    }
    rb_schema_path_push(c->path, &c->path_len, sizeof c->path, "$schema", 7);
    const char *s = rb_json_string(v);
    if (!s) return compile_fail(c, "must be a string");
    const char *body = s;
    if (strncmp(body, "http://", 7) == 0)
        body += 7;
    else if (strncmp(body, "https://", 8) == 0)
        body += 8;
    else
        body = "";
    static const struct {
        const char *uri;
        schema_draft draft;
    } known[] = {{"json-schema.org/draft-07/schema", DRAFT_07},
                 {"json-schema.org/draft/2019-09/schema", DRAFT_2019_09},
                 {"json-schema.org/draft/2020-12/schema", DRAFT_2020_12}};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
        size_t n = strlen(known[i].uri);
        if (strncmp(body, known[i].uri, n) == 0 &&
            (body[n] == '\0' || strcmp(body + n, "#") == 0)) {
            c->s->draft = known[i].draft;
            rb_schema_path_pop(c->path, &c->path_len, 0);
            return 0;
        }
    }
    return compile_fail(c,
                        "\"%s\": only draft-07 (http://json-schema.org/draft-07/schema#), "
                        "2019-09 (https://json-schema.org/draft/2019-09/schema) and 2020-12 "
                        "(https://json-schema.org/draft/2020-12/schema) are supported",
                        s);
}

static int schema_compile_doc(rb_json_doc *doc, const char *origin, rb_schema **out,
                              rb_error *err) {
    *out = NULL;
    rb_schema *s = calloc(1, sizeof *s);
    if (!s) {
        rb_json_doc_destroy(doc);
        return rb_error_nomem(err, RB_STAGE_CONFIG, "schema");
    }
    s->doc = doc;
    schema_compiler c = {.s = s, .origin = origin ? origin : "schema", .path_len = 0, .err = err};
    c.path[0] = '\0';
    c.base = RB_SCHEMA_DEFAULT_BASE;
    const rb_json *root = rb_json_doc_root(doc);
    s->limits = rb_schema_regex_limits_new();
    if (!s->limits) {
        rb_error_nomem(err, RB_STAGE_CONFIG, "pattern limits");
        goto fail;
    }
    if (schema_draft_of(&c, root) != 0) goto fail;
    if (rb_schema_index(s, root) != 0) {
        rb_error_nomem(err, RB_STAGE_CONFIG, "schema index");
        goto fail;
    }
    if (compile_node(&c, root, &s->root) != 0) goto fail;
    /* Everything the walk found, used or not (the index grows while
     * compiling, so walk it by position and re-read each slot). */
    for (size_t i = 0; i < s->cap_locs; i++) {
        if (!s->locs[i].value || s->locs[i].node) continue;
        schema_node *unused;
        if (compile_node(&c, s->locs[i].value, &unused) != 0) goto fail;
        i = (size_t)-1; /* the table may have been rehashed: start over */
    }
    if (check_ref_cycles(&c) != 0) goto fail;
    rb_schema_index_free(s);
    *out = s;
    return 0;
fail:
    rb_schema_destroy(s);
    return -1;
}

int rb_schema_compile(const rb_json *root, const char *origin, rb_schema **out, rb_error *err) {
    *out = NULL;
    if (!root || !root->raw)
        return rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_CONFIG, "%s: no schema document",
                            origin ? origin : "schema");
    rb_json_doc *doc;
    if (rb_json_parse(root->raw, root->raw_len, NULL, &doc, err) != 0) {
        if (err) err->stage = RB_STAGE_CONFIG;
        return rb_error_prefix(err, "%s", origin ? origin : "schema");
    }
    return schema_compile_doc(doc, origin, out, err);
}

int rb_schema_load(const char *path, rb_schema **out, rb_error *err) {
    *out = NULL;
    rb_json_doc *doc;
    if (rb_json_parse_file(path, NULL, &doc, err) != 0) {
        if (err && err->code == RB_ERR_JSON) err->code = RB_ERR_SCHEMA;
        return -1;
    }
    return schema_compile_doc(doc, path, out, err);
}

void rb_schema_destroy(rb_schema *schema) {
    if (!schema) return;
    schema_node *n = schema->all;
    while (n) {
        schema_node *next = n->next_all;
        rb_schema_regex_free(n->pattern);
        for (size_t i = 0; i < n->n_pattern_props; i++)
            rb_schema_regex_free(n->pattern_props[i].re);
        free(n->pattern_props);
        free(n->required);
        free(n->props);
        for (size_t i = 0; i < n->n_deps; i++) free(n->deps[i].names);
        free(n->deps);
        free(n->prefix);
        free(n->all_of);
        free(n->any_of);
        free(n->one_of);
        free(n);
        n = next;
    }
    rb_schema_index_free(schema);
    rb_schema_regex_limits_free(schema->limits);
    rb_json_doc_destroy(schema->doc);
    free(schema);
}
