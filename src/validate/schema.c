/*
 * schema.c -- compiles a draft-07 JSON Schema subset into a tree of
 * schema_node and validates instances against it.
 *
 * The compiled schema owns a private copy of the schema document (it
 * re-parses the root's source text, or takes over the document it loaded),
 * so every string and enum/const value a node points to lives as long as
 * the schema.  Nodes are allocated one by one and listed in the schema for
 * destruction; $ref targets are nodes of the root's "definitions", compiled
 * on first use so that recursive definitions work.
 *
 * Patterns: JSON Schema patterns are ECMA-262 regular expressions, matched
 * here with POSIX extended regexes (regcomp, REG_EXTENDED | REG_NOSUB).
 * The translation rewrites what has a direct equivalent and rejects the
 * rest at compile time:
 *   \d \D \w \W \s \S   become bracket expressions ([0-9], [^0-9], ...);
 *                       inside [...] only \d \w \s are accepted
 *   \. \/ \- \* etc.    escaped punctuation becomes that literal character
 *   \t \n \r \f \v      become the control character itself
 *   (?:...)             becomes a plain group (groups capture nothing anyway)
 *   *? +? ?? {n,m}?     lazy quantifiers become greedy ones: with REG_NOSUB
 *                       only "is there a match" is asked, and laziness never
 *                       changes that answer
 *   rejected:           lookahead/lookbehind and other (?...) groups,
 *                       backreferences, \b \B, \uXXXX, \xHH, \cX, \p{..},
 *                       \0, and \\ \] \[ \^ \- inside [...]
 * Matching is byte-wise in the C locale, so "." matches one byte rather
 * than one character, and "." also matches a newline (ECMA's does not).
 */
#include "validate/schema.h"

#include "common/suggest.h"

#include "common/buf.h"
#include "common/rfc3339.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nested schema evaluations deeper than this fail validation instead of
 * overflowing the stack on a schema that refers to itself. */
#define SCHEMA_EVAL_DEPTH_MAX 256
#define SCHEMA_PATH_MAX 512

enum {
    T_NULL = 1 << 0,
    T_BOOLEAN = 1 << 1,
    T_OBJECT = 1 << 2,
    T_ARRAY = 1 << 3,
    T_NUMBER = 1 << 4,
    T_STRING = 1 << 5,
    T_INTEGER = 1 << 6
};

typedef struct schema_node schema_node;

typedef struct schema_prop {
    const char *name;
    size_t name_len;
    schema_node *schema;
} schema_prop;

typedef struct schema_bound {
    bool set;
    const rb_json *value; /* a number node of the schema document */
} schema_bound;

struct schema_node {
    bool is_bool; /* a boolean schema: true accepts everything, false nothing */
    bool bool_value;
    unsigned types;             /* 0: any type */
    const rb_json *enum_values; /* array, or NULL */
    const rb_json *const_value;
    schema_bound minimum, maximum, exclusive_minimum, exclusive_maximum;
    int64_t min_length, max_length; /* -1 when absent */
    bool has_pattern;
    regex_t pattern;
    const char *pattern_src;
    bool format_date_time;
    schema_node *items;
    int64_t min_items, max_items;
    const char **required;
    size_t n_required;
    schema_prop *props;
    size_t n_props;
    bool additional_false;
    schema_node *additional; /* a schema for unlisted properties, or NULL */
    schema_node **all_of, **any_of, **one_of;
    size_t n_all_of, n_any_of, n_one_of;
    schema_node *not_;
    schema_node *if_, *then_, *else_;
    schema_node *ref;      /* $ref target; when set, no other assertion is */
    schema_node *next_all; /* list of every node, for destruction */
};

typedef struct schema_def {
    const char *name;
    schema_node *node;
} schema_def;

struct rb_schema {
    rb_json_doc *doc;
    schema_node *root;
    schema_node *all;
    const rb_json *definitions; /* the root's "definitions" object, or NULL */
    schema_def *defs;           /* compiled definitions, in order of use */
    size_t n_defs, cap_defs;
};

/* ============================================================ compiling */

typedef struct schema_compiler {
    rb_schema *s;
    const char *origin;
    char path[SCHEMA_PATH_MAX]; /* JSON pointer of the keyword being compiled */
    size_t path_len;
    rb_error *err;
} schema_compiler;

/* Appends one JSON-pointer segment (escaping ~ and /); returns the old
 * length to restore with path_pop. */
static size_t path_push(char *path, size_t *len, size_t cap, const char *seg, size_t seg_len) {
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

static size_t path_push_index(char *path, size_t *len, size_t cap, size_t index) {
    char num[24];
    int n = snprintf(num, sizeof num, "%zu", index);
    return path_push(path, len, cap, num, (size_t)n);
}

static void path_pop(char *path, size_t *len, size_t old) {
    *len = old;
    path[old] = '\0';
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

static schema_node *node_new(schema_compiler *c) {
    schema_node *n = calloc(1, sizeof *n);
    if (!n) {
        rb_error_nomem(c->err, RB_STAGE_CONFIG, "schema node");
        return NULL;
    }
    n->min_length = n->max_length = n->min_items = n->max_items = -1;
    n->next_all = c->s->all;
    c->s->all = n;
    return n;
}

static const char *const schema_keywords[] = {"type",
                                              "required",
                                              "properties",
                                              "additionalProperties",
                                              "enum",
                                              "const",
                                              "minimum",
                                              "maximum",
                                              "exclusiveMinimum",
                                              "exclusiveMaximum",
                                              "minLength",
                                              "maxLength",
                                              "pattern",
                                              "format",
                                              "items",
                                              "minItems",
                                              "maxItems",
                                              "$ref",
                                              "allOf",
                                              "anyOf",
                                              "oneOf",
                                              "not",
                                              "if",
                                              "then",
                                              "else",
                                              "definitions",
                                              "$schema",
                                              "$id",
                                              "$comment",
                                              "title",
                                              "description",
                                              "default",
                                              "examples"};

static int unknown_keyword(schema_compiler *c, const char *kw) {
    const char *best =
        rb_suggest(kw, schema_keywords, sizeof schema_keywords / sizeof *schema_keywords, 2);
    if (best)
        return compile_fail(c, "keyword \"%s\" is not supported (did you mean \"%s\"?)", kw, best);
    return compile_fail(c,
                        "keyword \"%s\" is not supported by ragbatch's draft-07 subset; "
                        "remove it or express the rule with the supported keywords",
                        kw);
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

static int get_count(schema_compiler *c, const rb_json *v, int64_t *out) {
    if (v->type != RB_JSON_NUMBER || !v->is_integer || v->integer < 0)
        return compile_fail(c, "must be a non-negative integer");
    *out = v->integer;
    return 0;
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

/* Translates an ECMA-262 pattern into POSIX ERE (see the top of the file). */
static int translate_pattern(schema_compiler *c, const char *src, rb_buf *out) {
    bool in_bracket = false;
    size_t bracket_start = 0;
    for (size_t i = 0; src[i]; i++) {
        char ch = src[i];
        int rc = 0;
        if (ch == '\\') {
            char e = src[i + 1];
            if (e == '\0') return compile_fail(c, "pattern ends with a lone backslash");
            i++;
            const char *cls = NULL;
            const char *inner = NULL;
            switch (e) {
            case 'd':
                cls = "[0-9]";
                inner = "0-9";
                break;
            case 'D': cls = "[^0-9]"; break;
            case 'w':
                cls = "[A-Za-z0-9_]";
                inner = "A-Za-z0-9_";
                break;
            case 'W': cls = "[^A-Za-z0-9_]"; break;
            case 's':
                cls = "[ \t\n\r\f\v]";
                inner = " \t\n\r\f\v";
                break;
            case 'S': cls = "[^ \t\n\r\f\v]"; break;
            default: break;
            }
            if (cls) {
                if (in_bracket && !inner)
                    return compile_fail(c,
                                        "pattern: \\%c inside [...] cannot be expressed in "
                                        "POSIX regular expressions",
                                        e);
                rc = rb_buf_puts(out, in_bracket ? inner : cls);
            } else if (e == 't' || e == 'n' || e == 'r' || e == 'f' || e == 'v') {
                char ctl = e == 't'   ? '\t'
                           : e == 'n' ? '\n'
                           : e == 'r' ? '\r'
                           : e == 'f' ? '\f'
                                      : '\v';
                rc = rb_buf_putc(out, ctl);
            } else if (strchr(".*+?()[]{}|^$/-", e) && e != '\0') {
                if (in_bracket) {
                    if (e == ']' || e == '[' || e == '^' || e == '-')
                        return compile_fail(c,
                                            "pattern: \\%c inside [...] is not supported; "
                                            "place ']' first, '-' last, '^' not first instead",
                                            e);
                    rc = rb_buf_putc(out, e);
                } else if (e == '/' || e == '-') {
                    rc = rb_buf_putc(out, e);
                } else {
                    char esc[2] = {'\\', e};
                    rc = rb_buf_append(out, esc, 2);
                }
            } else if (e == '\\') {
                if (in_bracket)
                    return compile_fail(c, "pattern: \\\\ inside [...] is not supported");
                rc = rb_buf_puts(out, "\\\\");
            } else if (e >= '1' && e <= '9') {
                return compile_fail(c, "pattern: backreference \\%c is not supported", e);
            } else if (e == 'b' || e == 'B') {
                return compile_fail(c, "pattern: word boundary \\%c is not supported", e);
            } else {
                return compile_fail(c,
                                    "pattern: escape \\%c is not supported (POSIX regular "
                                    "expressions have no equivalent)",
                                    e);
            }
        } else if (in_bracket) {
            if (ch == ']' && i == bracket_start)
                return compile_fail(c, "pattern: the empty class [] or [^] is not supported");
            if (ch == ']') in_bracket = false;
            if (ch == '[' && src[i + 1] == ':')
                return compile_fail(c, "pattern: POSIX class syntax [: is not ECMA-262");
            rc = rb_buf_putc(out, ch);
        } else if (ch == '[') {
            in_bracket = true;
            rc = rb_buf_putc(out, ch);
            if (src[i + 1] == '^') {
                i++;
                rc |= rb_buf_putc(out, '^');
            }
            /* ECMA ends the class at a ']' right after '[' or '[^' (an
             * empty class); POSIX would read it as a literal. */
            bracket_start = i + 1;
        } else if (ch == '(' && src[i + 1] == '?') {
            if (src[i + 2] == ':') {
                i += 2;
                rc = rb_buf_putc(out, '(');
            } else {
                return compile_fail(c,
                                    "pattern: lookahead, lookbehind and named groups \"(?%c\" "
                                    "are not supported",
                                    src[i + 2] ? src[i + 2] : ' ');
            }
        } else if ((ch == '*' || ch == '+' || ch == '?' || ch == '}') && src[i + 1] == '?') {
            /* Lazy quantifier: same match/no-match answer as the greedy one. */
            rc = rb_buf_putc(out, ch);
            i++;
        } else {
            rc = rb_buf_putc(out, ch);
        }
        if (rc != 0) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "pattern");
    }
    if (in_bracket) return compile_fail(c, "pattern: unclosed '['");
    if (!out->data && rb_buf_puts(out, "") != 0)
        return rb_error_nomem(c->err, RB_STAGE_CONFIG, "pattern");
    return 0;
}

static int compile_pattern(schema_compiler *c, schema_node *n, const rb_json *v) {
    if (v->type != RB_JSON_STRING) return compile_fail(c, "must be a string");
    rb_buf ere;
    rb_buf_init(&ere);
    if (translate_pattern(c, v->str, &ere) != 0) {
        rb_buf_free(&ere);
        return -1;
    }
    int rc = regcomp(&n->pattern, ere.data, REG_EXTENDED | REG_NOSUB);
    rb_buf_free(&ere);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &n->pattern, msg, sizeof msg);
        return compile_fail(c, "pattern \"%s\" does not compile: %s", v->str, msg);
    }
    n->has_pattern = true;
    n->pattern_src = v->str;
    return 0;
}

static int compile_node(schema_compiler *c, const rb_json *v, schema_node **out, bool is_root);

/* Compiles the schema under keyword `kw` (already on the path). */
static int compile_sub(schema_compiler *c, const rb_json *v, schema_node **out) {
    return compile_node(c, v, out, false);
}

static int compile_list(schema_compiler *c, const rb_json *v, schema_node ***out, size_t *count) {
    if (v->type != RB_JSON_ARRAY || v->count == 0)
        return compile_fail(c, "must be a non-empty array of schemas");
    *out = calloc(v->count, sizeof **out);
    if (!*out) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "schema list");
    *count = v->count;
    for (size_t i = 0; i < v->count; i++) {
        size_t old = path_push_index(c->path, &c->path_len, sizeof c->path, i);
        if (compile_sub(c, &v->items[i], &(*out)[i]) != 0) return -1;
        path_pop(c->path, &c->path_len, old);
    }
    return 0;
}

static int compile_required(schema_compiler *c, schema_node *n, const rb_json *v) {
    if (v->type != RB_JSON_ARRAY) return compile_fail(c, "must be an array of property names");
    n->required = calloc(v->count ? v->count : 1, sizeof *n->required);
    if (!n->required) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "required list");
    for (size_t i = 0; i < v->count; i++) {
        if (v->items[i].type != RB_JSON_STRING)
            return compile_fail(c, "item %zu is not a string", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(n->required[j], v->items[i].str) == 0)
                return compile_fail(c, "\"%s\" is listed twice", v->items[i].str);
        n->required[n->n_required++] = v->items[i].str;
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
        size_t old = path_push(c->path, &c->path_len, sizeof c->path, m->key, m->key_len);
        if (compile_sub(c, m->value, &n->props[i].schema) != 0) return -1;
        path_pop(c->path, &c->path_len, old);
    }
    return 0;
}

/* Resolves "#" or "#/definitions/<name>" (with ~0 and ~1 decoded). */
static int compile_ref(schema_compiler *c, schema_node *n, const rb_json *v) {
    if (v->type != RB_JSON_STRING) return compile_fail(c, "must be a string");
    const char *ref = v->str;
    if (strcmp(ref, "#") == 0) {
        n->ref = c->s->root;
        return 0;
    }
    static const char prefix[] = "#/definitions/";
    if (strncmp(ref, prefix, sizeof prefix - 1) != 0)
        return compile_fail(c,
                            "\"%s\": only \"#\" and \"#/definitions/<name>\" references are "
                            "supported",
                            ref);
    char name[256];
    size_t len = 0;
    for (const char *p = ref + sizeof prefix - 1; *p; p++) {
        char ch = *p;
        if (ch == '/')
            return compile_fail(c, "\"%s\": nested definition paths are not supported", ref);
        if (ch == '~') {
            if (p[1] == '0')
                ch = '~';
            else if (p[1] == '1')
                ch = '/';
            else
                return compile_fail(c, "\"%s\": bad ~ escape", ref);
            p++;
        }
        if (len + 1 >= sizeof name) return compile_fail(c, "\"%s\": name too long", ref);
        name[len++] = ch;
    }
    name[len] = '\0';
    rb_schema *s = c->s;
    for (size_t i = 0; i < s->n_defs; i++)
        if (strcmp(s->defs[i].name, name) == 0) {
            n->ref = s->defs[i].node;
            return 0;
        }
    const rb_json *target = NULL;
    const char *stored_name = NULL;
    if (s->definitions)
        for (size_t i = 0; i < s->definitions->count; i++)
            if (strcmp(s->definitions->members[i].key, name) == 0) {
                target = s->definitions->members[i].value;
                stored_name = s->definitions->members[i].key;
            }
    if (!target)
        return compile_fail(c, "\"%s\" does not resolve: no definition \"%s\"", ref, name);
    /* Compile the definition at its own path; register it first so that
     * a definition may refer to itself. */
    char saved[SCHEMA_PATH_MAX];
    size_t saved_len = c->path_len;
    memcpy(saved, c->path, saved_len + 1);
    c->path_len = 0;
    c->path[0] = '\0';
    path_push(c->path, &c->path_len, sizeof c->path, "definitions", 11);
    path_push(c->path, &c->path_len, sizeof c->path, stored_name, strlen(stored_name));
    int rc = compile_node(c, target, &n->ref, false);
    if (rc == 0) {
        memcpy(c->path, saved, saved_len + 1);
        c->path_len = saved_len;
    }
    return rc;
}

static int register_def(schema_compiler *c, const char *name, schema_node *node) {
    rb_schema *s = c->s;
    if (s->n_defs == s->cap_defs) {
        size_t cap = s->cap_defs ? s->cap_defs * 2 : 8;
        schema_def *grown = realloc(s->defs, cap * sizeof *grown);
        if (!grown) return rb_error_nomem(c->err, RB_STAGE_CONFIG, "definitions");
        s->defs = grown;
        s->cap_defs = cap;
    }
    s->defs[s->n_defs].name = name;
    s->defs[s->n_defs].node = node;
    s->n_defs++;
    return 0;
}

/* The definition name when the current path is exactly /definitions/<x>. */
static const char *current_def_name(schema_compiler *c, const rb_json *v) {
    if (!c->s->definitions || strncmp(c->path, "/definitions/", 13) != 0) return NULL;
    for (size_t i = 0; i < c->s->definitions->count; i++)
        if (c->s->definitions->members[i].value == v) return c->s->definitions->members[i].key;
    return NULL;
}

static bool is_annotation(const char *kw) {
    return strcmp(kw, "$schema") == 0 || strcmp(kw, "$id") == 0 || strcmp(kw, "$comment") == 0 ||
           strcmp(kw, "title") == 0 || strcmp(kw, "description") == 0 ||
           strcmp(kw, "default") == 0 || strcmp(kw, "examples") == 0 ||
           strcmp(kw, "definitions") == 0;
}

static int compile_annotation(schema_compiler *c, const char *kw, const rb_json *v, bool is_root) {
    if (strcmp(kw, "$schema") == 0) {
        if (!is_root) return compile_fail(c, "$schema belongs at the root only");
        const char *s = rb_json_string(v);
        if (!s) return compile_fail(c, "must be a string");
        const char *body = s;
        if (strncmp(body, "http://", 7) == 0)
            body += 7;
        else if (strncmp(body, "https://", 8) == 0)
            body += 8;
        else
            body = NULL;
        if (!body || (strcmp(body, "json-schema.org/draft-07/schema#") != 0 &&
                      strcmp(body, "json-schema.org/draft-07/schema") != 0))
            return compile_fail(c,
                                "\"%s\": only draft-07 "
                                "(http://json-schema.org/draft-07/schema#) is supported",
                                s);
        return 0;
    }
    if (strcmp(kw, "$id") == 0 || strcmp(kw, "$comment") == 0 || strcmp(kw, "title") == 0 ||
        strcmp(kw, "description") == 0) {
        if (v->type != RB_JSON_STRING) return compile_fail(c, "must be a string");
        return 0;
    }
    if (strcmp(kw, "examples") == 0) {
        if (v->type != RB_JSON_ARRAY) return compile_fail(c, "must be an array");
        return 0;
    }
    if (strcmp(kw, "definitions") == 0) {
        if (!is_root)
            return compile_fail(c, "definitions are supported at the root only (references "
                                   "are \"#/definitions/<name>\")");
        if (v->type != RB_JSON_OBJECT) return compile_fail(c, "must be an object of schemas");
        return 0;
    }
    return 0; /* default: any value */
}

static int compile_keyword(schema_compiler *c, schema_node *n, const char *kw, const rb_json *v) {
    if (strcmp(kw, "type") == 0) return compile_type(c, n, v);
    if (strcmp(kw, "required") == 0) return compile_required(c, n, v);
    if (strcmp(kw, "properties") == 0) return compile_properties(c, n, v);
    if (strcmp(kw, "additionalProperties") == 0) {
        if (v->type == RB_JSON_BOOL) {
            n->additional_false = !v->boolean;
            return 0;
        }
        return compile_sub(c, v, &n->additional);
    }
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
    if (strcmp(kw, "minimum") == 0) return get_bound(c, v, &n->minimum);
    if (strcmp(kw, "maximum") == 0) return get_bound(c, v, &n->maximum);
    if (strcmp(kw, "exclusiveMinimum") == 0) return get_bound(c, v, &n->exclusive_minimum);
    if (strcmp(kw, "exclusiveMaximum") == 0) return get_bound(c, v, &n->exclusive_maximum);
    if (strcmp(kw, "minLength") == 0) return get_count(c, v, &n->min_length);
    if (strcmp(kw, "maxLength") == 0) return get_count(c, v, &n->max_length);
    if (strcmp(kw, "minItems") == 0) return get_count(c, v, &n->min_items);
    if (strcmp(kw, "maxItems") == 0) return get_count(c, v, &n->max_items);
    if (strcmp(kw, "pattern") == 0) return compile_pattern(c, n, v);
    if (strcmp(kw, "format") == 0) {
        const char *f = rb_json_string(v);
        if (!f) return compile_fail(c, "must be a string");
        if (strcmp(f, "date-time") != 0)
            return compile_fail(c, "format \"%s\" is not supported (only \"date-time\" is)", f);
        n->format_date_time = true;
        return 0;
    }
    if (strcmp(kw, "items") == 0) {
        if (v->type == RB_JSON_ARRAY)
            return compile_fail(c, "the array form of items (tuple validation) is not supported; "
                                   "give one schema for every item");
        return compile_sub(c, v, &n->items);
    }
    if (strcmp(kw, "allOf") == 0) return compile_list(c, v, &n->all_of, &n->n_all_of);
    if (strcmp(kw, "anyOf") == 0) return compile_list(c, v, &n->any_of, &n->n_any_of);
    if (strcmp(kw, "oneOf") == 0) return compile_list(c, v, &n->one_of, &n->n_one_of);
    if (strcmp(kw, "not") == 0) return compile_sub(c, v, &n->not_);
    if (strcmp(kw, "if") == 0) return compile_sub(c, v, &n->if_);
    if (strcmp(kw, "then") == 0) return compile_sub(c, v, &n->then_);
    if (strcmp(kw, "else") == 0) return compile_sub(c, v, &n->else_);
    return unknown_keyword(c, kw);
}

static int compile_node(schema_compiler *c, const rb_json *v, schema_node **out, bool is_root) {
    schema_node *n = node_new(c);
    if (!n) return -1;
    *out = n;
    if (is_root) c->s->root = n;
    const char *def_name = current_def_name(c, v);
    if (def_name && register_def(c, def_name, n) != 0) return -1;
    if (v->type == RB_JSON_BOOL) {
        n->is_bool = true;
        n->bool_value = v->boolean;
        return 0;
    }
    if (v->type != RB_JSON_OBJECT)
        return compile_fail(c, "a schema must be an object or a boolean, not %s",
                            rb_json_type_name(v->type));
    bool has_ref = false;
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        size_t old = path_push(c->path, &c->path_len, sizeof c->path, m->key, m->key_len);
        int rc;
        if (is_annotation(m->key)) {
            rc = compile_annotation(c, m->key, m->value, is_root);
        } else if (strcmp(m->key, "$ref") == 0) {
            has_ref = true;
            rc = compile_ref(c, n, m->value);
        } else {
            rc = compile_keyword(c, n, m->key, m->value);
        }
        if (rc != 0) return -1;
        path_pop(c->path, &c->path_len, old);
    }
    if (has_ref) {
        /* draft-07 ignores every keyword beside $ref; refusing them keeps a
         * rule from being silently dropped. */
        for (size_t i = 0; i < v->count; i++) {
            const char *kw = v->members[i].key;
            if (strcmp(kw, "$ref") != 0 && !is_annotation(kw)) {
                size_t old = path_push(c->path, &c->path_len, sizeof c->path, kw, strlen(kw));
                int rc = compile_fail(c,
                                      "keywords beside $ref are ignored by draft-07; move "
                                      "\"%s\" and the $ref into an allOf",
                                      kw);
                path_pop(c->path, &c->path_len, old);
                return rc;
            }
        }
    }
    if ((n->then_ || n->else_) && !n->if_) {
        const char *kw = n->then_ ? "then" : "else";
        size_t old = path_push(c->path, &c->path_len, sizeof c->path, kw, strlen(kw));
        int rc = compile_fail(c, "\"%s\" without \"if\" has no effect", kw);
        path_pop(c->path, &c->path_len, old);
        return rc;
    }
    return 0;
}

/* Fails on a chain of $ref-only nodes that leads back to itself: such a
 * schema could never decide anything. */
static int check_ref_cycles(schema_compiler *c) {
    for (schema_node *n = c->s->all; n; n = n->next_all) {
        size_t steps = 0;
        for (const schema_node *t = n; t->ref; t = t->ref)
            if (++steps > c->s->n_defs + 1) {
                c->path_len = 0;
                c->path[0] = '\0';
                return compile_fail(c, "$ref cycle: a definition refers to itself without any "
                                       "other keyword");
            }
    }
    return 0;
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
    const rb_json *root = rb_json_doc_root(doc);
    const rb_json *defs = rb_json_get(root, "definitions");
    if (defs && defs->type == RB_JSON_OBJECT) s->definitions = defs;
    schema_node *root_node;
    if (compile_node(&c, root, &root_node, true) != 0) goto fail;
    /* Definitions nobody refers to are still compiled, so that their
     * mistakes are reported now rather than when someone starts using them. */
    if (s->definitions) {
        for (size_t i = 0; i < s->definitions->count; i++) {
            const char *name = s->definitions->members[i].key;
            bool done = false;
            for (size_t j = 0; j < s->n_defs; j++)
                if (strcmp(s->defs[j].name, name) == 0) done = true;
            if (done) continue;
            c.path_len = 0;
            c.path[0] = '\0';
            path_push(c.path, &c.path_len, sizeof c.path, "definitions", 11);
            path_push(c.path, &c.path_len, sizeof c.path, name, strlen(name));
            schema_node *unused;
            if (compile_node(&c, s->definitions->members[i].value, &unused, false) != 0) goto fail;
        }
    }
    if (check_ref_cycles(&c) != 0) goto fail;
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
        if (n->has_pattern) regfree(&n->pattern);
        free(n->required);
        free(n->props);
        free(n->all_of);
        free(n->any_of);
        free(n->one_of);
        free(n);
        n = next;
    }
    free(schema->defs);
    rb_json_doc_destroy(schema->doc);
    free(schema);
}

/* ============================================================ validating */

typedef struct schema_ctx {
    char path[SCHEMA_PATH_MAX]; /* JSON pointer of the value being checked */
    size_t path_len;
    int depth;
} schema_ctx;

/* A short rendering of a value for messages: scalars as JSON (strings cut
 * at 40 bytes on a character boundary), containers by kind. */
static void value_text(const rb_json *v, char *out, size_t size) {
    switch (v->type) {
    case RB_JSON_NULL: snprintf(out, size, "null"); return;
    case RB_JSON_BOOL: snprintf(out, size, "%s", v->boolean ? "true" : "false"); return;
    case RB_JSON_NUMBER:
        if (v->is_integer)
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

static int invalid(const schema_ctx *x, rb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int invalid(const schema_ctx *x, rb_error *err, const char *fmt, ...) {
    char what[RB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_VALIDATE, "%s: %s",
                        x->path_len ? x->path : "/", what);
}

static bool json_equal(const rb_json *a, const rb_json *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case RB_JSON_NULL: return true;
    case RB_JSON_BOOL: return a->boolean == b->boolean;
    case RB_JSON_NUMBER:
        if (a->is_integer && b->is_integer) return a->integer == b->integer;
        return a->number == b->number;
    case RB_JSON_STRING:
        return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
    case RB_JSON_ARRAY:
        if (a->count != b->count) return false;
        for (size_t i = 0; i < a->count; i++)
            if (!json_equal(&a->items[i], &b->items[i])) return false;
        return true;
    case RB_JSON_OBJECT:
        if (a->count != b->count) return false;
        for (size_t i = 0; i < a->count; i++) {
            const rb_json_member *m = &a->members[i];
            const rb_json *other = NULL;
            for (size_t j = 0; j < b->count; j++)
                if (b->members[j].key_len == m->key_len &&
                    memcmp(b->members[j].key, m->key, m->key_len) == 0)
                    other = b->members[j].value;
            if (!other || !json_equal(m->value, other)) return false;
        }
        return true;
    }
    return false;
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

/* Validates into a scratch error, keeping x's path unchanged. */
static bool matches(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *scratch) {
    size_t len = x->path_len;
    bool ok = validate_node(n, v, x, scratch) == 0;
    path_pop(x->path, &x->path_len, len);
    return ok;
}

static int validate_number(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    char vt[64], bt[64];
    if (n->minimum.set && num_cmp(v, n->minimum.value) < 0) {
        value_text(v, vt, sizeof vt);
        value_text(n->minimum.value, bt, sizeof bt);
        return invalid(x, err, "%s is less than the minimum %s", vt, bt);
    }
    if (n->maximum.set && num_cmp(v, n->maximum.value) > 0) {
        value_text(v, vt, sizeof vt);
        value_text(n->maximum.value, bt, sizeof bt);
        return invalid(x, err, "%s is greater than the maximum %s", vt, bt);
    }
    if (n->exclusive_minimum.set && num_cmp(v, n->exclusive_minimum.value) <= 0) {
        value_text(v, vt, sizeof vt);
        value_text(n->exclusive_minimum.value, bt, sizeof bt);
        return invalid(x, err, "%s is not greater than the exclusive minimum %s", vt, bt);
    }
    if (n->exclusive_maximum.set && num_cmp(v, n->exclusive_maximum.value) >= 0) {
        value_text(v, vt, sizeof vt);
        value_text(n->exclusive_maximum.value, bt, sizeof bt);
        return invalid(x, err, "%s is not less than the exclusive maximum %s", vt, bt);
    }
    return 0;
}

static int validate_string(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    char vt[64];
    if (n->min_length >= 0 || n->max_length >= 0) {
        size_t cps = code_points(v->str, v->str_len);
        if (n->min_length >= 0 && cps < (uint64_t)n->min_length) {
            value_text(v, vt, sizeof vt);
            return invalid(x, err, "%s is shorter than minLength %lld", vt,
                           (long long)n->min_length);
        }
        if (n->max_length >= 0 && cps > (uint64_t)n->max_length) {
            value_text(v, vt, sizeof vt);
            return invalid(x, err, "%s is longer than maxLength %lld", vt,
                           (long long)n->max_length);
        }
    }
    if (n->has_pattern && regexec(&n->pattern, v->str, 0, NULL, 0) != 0) {
        value_text(v, vt, sizeof vt);
        return invalid(x, err, "%s does not match the pattern %s", vt, n->pattern_src);
    }
    if (n->format_date_time && rb_rfc3339_parse(v->str, NULL) != 0) {
        value_text(v, vt, sizeof vt);
        return invalid(x, err, "%s is not an RFC 3339 date-time (e.g. 2024-05-01T12:00:00Z)", vt);
    }
    return 0;
}

static int validate_array(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    if (n->min_items >= 0 && v->count < (uint64_t)n->min_items)
        return invalid(x, err, "array of %zu items is shorter than minItems %lld", v->count,
                       (long long)n->min_items);
    if (n->max_items >= 0 && v->count > (uint64_t)n->max_items)
        return invalid(x, err, "array of %zu items is longer than maxItems %lld", v->count,
                       (long long)n->max_items);
    if (n->items) {
        for (size_t i = 0; i < v->count; i++) {
            size_t old = path_push_index(x->path, &x->path_len, sizeof x->path, i);
            if (validate_node(n->items, &v->items[i], x, err) != 0) return -1;
            path_pop(x->path, &x->path_len, old);
        }
    }
    return 0;
}

static int validate_object(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    for (size_t i = 0; i < n->n_required; i++)
        if (!rb_json_get(v, n->required[i]))
            return invalid(x, err, "required property \"%s\" is missing", n->required[i]);
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        const schema_node *sub = NULL;
        for (size_t j = 0; j < n->n_props; j++)
            if (n->props[j].name_len == m->key_len &&
                memcmp(n->props[j].name, m->key, m->key_len) == 0) {
                sub = n->props[j].schema;
                break;
            }
        size_t old = path_push(x->path, &x->path_len, sizeof x->path, m->key, m->key_len);
        if (!sub) {
            if (n->additional_false)
                return invalid(x, err,
                               "property \"%.*s\" is not allowed (additionalProperties "
                               "is false)",
                               (int)(m->key_len > 64 ? 64 : m->key_len), m->key);
            sub = n->additional;
        }
        if (sub && validate_node(sub, m->value, x, err) != 0) return -1;
        path_pop(x->path, &x->path_len, old);
    }
    return 0;
}

static int validate_combinators(const schema_node *n, const rb_json *v, schema_ctx *x,
                                rb_error *err) {
    char vt[64];
    for (size_t i = 0; i < n->n_all_of; i++)
        if (validate_node(n->all_of[i], v, x, err) != 0) return -1;
    if (n->n_any_of) {
        rb_error first, scratch;
        rb_error_clear(&first);
        bool any = false;
        for (size_t i = 0; i < n->n_any_of && !any; i++) {
            any = matches(n->any_of[i], v, x, i == 0 ? &first : &scratch);
        }
        if (!any) {
            value_text(v, vt, sizeof vt);
            return invalid(x, err,
                           "%s matches none of the anyOf alternatives (the first says: %s)", vt,
                           first.msg);
        }
    }
    if (n->n_one_of) {
        rb_error first, scratch;
        rb_error_clear(&first);
        size_t hits = 0, hit[2] = {0, 0};
        for (size_t i = 0; i < n->n_one_of; i++) {
            if (matches(n->one_of[i], v, x, i == 0 ? &first : &scratch)) {
                if (hits < 2) hit[hits] = i;
                hits++;
            }
        }
        if (hits != 1) value_text(v, vt, sizeof vt);
        if (hits == 0)
            return invalid(x, err,
                           "%s matches none of the oneOf alternatives (the first says: %s)", vt,
                           first.msg);
        if (hits > 1)
            return invalid(x, err,
                           "%s matches oneOf alternatives %zu and %zu; exactly one is allowed", vt,
                           hit[0], hit[1]);
    }
    if (n->not_) {
        rb_error scratch;
        if (matches(n->not_, v, x, &scratch)) {
            value_text(v, vt, sizeof vt);
            return invalid(x, err, "%s matches the schema under \"not\"", vt);
        }
    }
    if (n->if_) {
        rb_error scratch;
        const schema_node *branch = matches(n->if_, v, x, &scratch) ? n->then_ : n->else_;
        if (branch && validate_node(branch, v, x, err) != 0) return -1;
    }
    return 0;
}

static int validate_node(const schema_node *n, const rb_json *v, schema_ctx *x, rb_error *err) {
    if (++x->depth > SCHEMA_EVAL_DEPTH_MAX) {
        x->depth--;
        return invalid(x, err, "schema nesting deeper than %d levels (a recursive $ref?)",
                       SCHEMA_EVAL_DEPTH_MAX);
    }
    int rc = -1;
    char vt[64];
    if (n->ref) {
        rc = validate_node(n->ref, v, x, err);
        goto out;
    }
    if (n->is_bool) {
        rc = n->bool_value ? 0 : invalid(x, err, "no value is allowed here (the schema is false)");
        goto out;
    }
    if (n->types && !(n->types & type_bits(v))) {
        char want[96];
        type_list(n->types, want, sizeof want);
        value_text(v, vt, sizeof vt);
        invalid(x, err, "%s is not of type %s", vt, want);
        goto out;
    }
    if (n->enum_values) {
        bool found = false;
        for (size_t i = 0; i < n->enum_values->count && !found; i++)
            found = json_equal(v, &n->enum_values->items[i]);
        if (!found) {
            char list[256];
            size_t len = 0;
            list[0] = '\0';
            for (size_t i = 0; i < n->enum_values->count; i++) {
                char it[64];
                value_text(&n->enum_values->items[i], it, sizeof it);
                int k = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", it);
                if (k < 0 || (size_t)k >= sizeof list - len) break;
                len += (size_t)k;
            }
            value_text(v, vt, sizeof vt);
            invalid(x, err, "%s is not one of %s", vt, list);
            goto out;
        }
    }
    if (n->const_value && !json_equal(v, n->const_value)) {
        char ct[64];
        value_text(v, vt, sizeof vt);
        value_text(n->const_value, ct, sizeof ct);
        invalid(x, err, "%s is not the constant %s", vt, ct);
        goto out;
    }
    if ((v->type == RB_JSON_NUMBER && validate_number(n, v, x, err) != 0) ||
        (v->type == RB_JSON_STRING && validate_string(n, v, x, err) != 0) ||
        (v->type == RB_JSON_ARRAY && validate_array(n, v, x, err) != 0) ||
        (v->type == RB_JSON_OBJECT && validate_object(n, v, x, err) != 0) ||
        validate_combinators(n, v, x, err) != 0)
        goto out;
    rc = 0;
out:
    x->depth--;
    return rc;
}

int rb_schema_validate(const rb_schema *schema, const rb_json *instance, char *path,
                       size_t path_size, rb_error *err) {
    schema_ctx x;
    x.path[0] = '\0';
    x.path_len = 0;
    x.depth = 0;
    rb_error local;
    if (!err) err = &local; /* messages are built regardless; keep them off NULL */
    int rc = validate_node(schema->root, instance, &x, err);
    if (rc != 0 && path && path_size) snprintf(path, path_size, "%s", x.path);
    if (rc == 0 && path && path_size) path[0] = '\0';
    return rc;
}
