/*
 * schema.c -- an Avro schema: libavro-c's parse, the same text as JSON
 * with its named types indexed for the logical types, and the checks that
 * keep libavro-c's reader bounded (avro.h).
 */
#include "avro/avro_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Visits of schema nodes allowed while checking one schema: named types
 * referenced from many places are visited once per reference. */
#define RB_AVRO_CHECK_BUDGET 200000
#define RB_AVRO_MAX_DEPTH 64

static pthread_mutex_t lib_mu = PTHREAD_MUTEX_INITIALIZER;

void rb_avro_lib_lock(void) { pthread_mutex_lock(&lib_mu); }
void rb_avro_lib_unlock(void) { pthread_mutex_unlock(&lib_mu); }

static const char *const primitives[] = {"null",   "boolean", "int",    "long", "float",
                                         "double", "bytes",   "string", NULL};

static bool is_primitive(const char *t) {
    for (const char *const *p = primitives; *p; p++)
        if (strcmp(*p, t) == 0) return true;
    return false;
}

static bool is_complex(const char *t) {
    return strcmp(t, "record") == 0 || strcmp(t, "error") == 0 || strcmp(t, "enum") == 0 ||
           strcmp(t, "fixed") == 0 || strcmp(t, "array") == 0 || strcmp(t, "map") == 0;
}

const char *rb_avro_def_namespace(const rb_json *def, const char *ns, char *buf, size_t size) {
    const char *name = rb_json_string(rb_json_get(def, "name"));
    const char *dot = name ? strrchr(name, '.') : NULL;
    if (dot) {
        snprintf(buf, size, "%.*s", (int)(dot - name), name);
        return buf;
    }
    const char *own = rb_json_string(rb_json_get(def, "namespace"));
    snprintf(buf, size, "%s", own ? own : ns);
    return buf;
}

static void fullname_of(const char *name, const char *ns, char *buf, size_t size) {
    if (strchr(name, '.') || !ns[0])
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%s.%s", ns, name);
}

static const rb_avro_named *lookup(const rb_avro_schema *s, const char *name, const char *ns) {
    char full[512];
    fullname_of(name, ns, full, sizeof full);
    for (size_t i = 0; i < s->named_count; i++)
        if (strcmp(s->named[i].fullname, full) == 0) return &s->named[i];
    /* A name given without its namespace from another one (lenient, as
     * libavro-c is). */
    for (size_t i = 0; i < s->named_count; i++) {
        const char *dot = strrchr(s->named[i].fullname, '.');
        if (strcmp(dot ? dot + 1 : s->named[i].fullname, name) == 0) return &s->named[i];
    }
    return NULL;
}

rb_avro_node rb_avro_resolve(const rb_avro_schema *s, rb_avro_node node) {
    for (int hops = 0; node.json && hops < RB_AVRO_MAX_DEPTH; hops++) {
        const rb_json *j = node.json;
        if (j->type == RB_JSON_ARRAY) return node;
        if (j->type == RB_JSON_STRING) {
            if (is_primitive(j->str)) return node;
            const rb_avro_named *n = lookup(s, j->str, node.ns);
            if (!n) break;
            return (rb_avro_node){n->node, n->ns};
        }
        if (j->type != RB_JSON_OBJECT) break;
        const rb_json *t = rb_json_get(j, "type");
        if (t && t->type == RB_JSON_STRING && (is_primitive(t->str) || is_complex(t->str)))
            return node;
        if (!t) break;
        node.json = t; /* {"type": "Name"} or {"type": {...}} */
    }
    return (rb_avro_node){NULL, ""};
}

typedef struct check_ctx {
    rb_avro_schema *s;
    const char *stack[RB_AVRO_MAX_DEPTH]; /* fullnames being defined */
    int depth;
    long budget;
    rb_error *err;
} check_ctx;

static int refuse(check_ctx *c, const char *fmt, const char *what) {
    char msg[400];
    snprintf(msg, sizeof msg, fmt, what);
    return rb_error_set(c->err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE, "%s: %s", c->s->origin, msg);
}

static int add_named(rb_avro_schema *s, const rb_json *def, const char *ns, rb_error *err) {
    const char *name = rb_json_string(rb_json_get(def, "name"));
    if (!name) return 0; /* libavro-c has refused it already */
    char nsbuf[512], full[512];
    const char *own = rb_avro_def_namespace(def, ns, nsbuf, sizeof nsbuf);
    const char *dot = strrchr(name, '.');
    fullname_of(dot ? dot + 1 : name, own, full, sizeof full);
    rb_avro_named *grown = realloc(s->named, (s->named_count + 1) * sizeof *grown);
    if (!grown) return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "Avro schema");
    s->named = grown;
    rb_avro_named *n = &s->named[s->named_count];
    n->fullname = strdup(full);
    n->ns_owned = strdup(own);
    if (!n->fullname || !n->ns_owned) {
        free(n->fullname);
        free(n->ns_owned);
        return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "Avro schema");
    }
    n->ns = n->ns_owned;
    n->node = def;
    s->named_count++;
    return 0;
}

/* Indexes the named definitions (in order: a name is defined before it is
 * used, as Avro requires). */
static int collect(rb_avro_schema *s, const rb_json *j, const char *ns, int depth, rb_error *err) {
    if (!j || depth > RB_AVRO_MAX_DEPTH) return 0;
    if (j->type == RB_JSON_ARRAY) {
        for (size_t i = 0; i < j->count; i++)
            if (collect(s, &j->items[i], ns, depth + 1, err) != 0) return -1;
        return 0;
    }
    if (j->type != RB_JSON_OBJECT) return 0;
    const rb_json *t = rb_json_get(j, "type");
    const char *type = rb_json_string(t);
    if (!type) return collect(s, t, ns, depth + 1, err);
    char nsbuf[512];
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        if (add_named(s, j, ns, err) != 0) return -1;
        const char *own = rb_avro_def_namespace(j, ns, nsbuf, sizeof nsbuf);
        const rb_json *fields = rb_json_get(j, "fields");
        for (size_t i = 0; fields && fields->type == RB_JSON_ARRAY && i < fields->count; i++)
            if (collect(s, rb_json_get(&fields->items[i], "type"), own, depth + 1, err) != 0)
                return -1;
        return 0;
    }
    if (strcmp(type, "enum") == 0 || strcmp(type, "fixed") == 0) return add_named(s, j, ns, err);
    if (strcmp(type, "array") == 0) return collect(s, rb_json_get(j, "items"), ns, depth + 1, err);
    if (strcmp(type, "map") == 0) return collect(s, rb_json_get(j, "values"), ns, depth + 1, err);
    return 0;
}

/* Whether a value of `node` may take no bytes at all. */
static int takes_no_bytes(check_ctx *c, rb_avro_node node, int depth, bool *none);

/* Walks the schema as a value would be read: refuses a type that contains
 * itself and an array of items that take no bytes. */
static int check(check_ctx *c, rb_avro_node node) {
    if (--c->budget < 0)
        return refuse(c, "the schema is too large to check (%s)", "more than 200000 nodes");
    rb_avro_node r = rb_avro_resolve(c->s, node);
    const rb_json *j = r.json;
    if (!j) /* libavro-c resolved it, or it would have refused the schema */
        return refuse(c, "a type reference ('%s') that the logical-type walk cannot resolve",
                      node.json && node.json->type == RB_JSON_STRING ? node.json->str : "?");
    if (j->type == RB_JSON_ARRAY) {
        for (size_t i = 0; i < j->count; i++)
            if (check(c, (rb_avro_node){&j->items[i], r.ns}) != 0) return -1;
        return 0;
    }
    const char *type = j->type == RB_JSON_OBJECT ? rb_json_string(rb_json_get(j, "type")) : NULL;
    if (!type) return 0;
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        char nsbuf[512], full[512];
        const char *own = rb_avro_def_namespace(j, r.ns, nsbuf, sizeof nsbuf);
        const char *name = rb_json_string(rb_json_get(j, "name"));
        const char *dot = name ? strrchr(name, '.') : NULL;
        fullname_of(dot ? dot + 1 : (name ? name : "?"), own, full, sizeof full);
        for (int i = 0; i < c->depth; i++)
            if (strcmp(c->stack[i], full) == 0)
                return refuse(c,
                              "record '%s' contains itself; recursive schemas are not "
                              "supported",
                              full);
        if (c->depth == RB_AVRO_MAX_DEPTH)
            return refuse(c, "records nest deeper than %s levels", "64");
        char *copy = strdup(full);
        if (!copy) return rb_error_nomem(c->err, RB_STAGE_DESERIALIZE, "Avro schema");
        c->stack[c->depth++] = copy;
        const rb_json *fields = rb_json_get(j, "fields");
        int rc = 0;
        for (size_t i = 0; rc == 0 && fields && fields->type == RB_JSON_ARRAY && i < fields->count;
             i++)
            rc = check(c, (rb_avro_node){rb_json_get(&fields->items[i], "type"), own});
        free(copy);
        c->depth--;
        return rc;
    }
    if (strcmp(type, "map") == 0) return check(c, (rb_avro_node){rb_json_get(j, "values"), r.ns});
    if (strcmp(type, "array") == 0) {
        rb_avro_node items = {rb_json_get(j, "items"), r.ns};
        bool none = false;
        if (takes_no_bytes(c, items, 0, &none) != 0) return -1;
        if (none)
            return refuse(c,
                          "an array of items that take no bytes (%s) is refused: a few bytes "
                          "of block count would make the reader allocate without bound",
                          "null, an empty record or fixed(0)");
        return check(c, items);
    }
    return 0;
}

static int takes_no_bytes(check_ctx *c, rb_avro_node node, int depth, bool *none) {
    *none = false;
    if (--c->budget < 0)
        return refuse(c, "the schema is too large to check (%s)", "more than 200000 nodes");
    rb_avro_node r = rb_avro_resolve(c->s, node);
    const rb_json *j = r.json;
    if (!j || j->type == RB_JSON_ARRAY) return 0; /* a union's branch index is a byte */
    const char *type = j->type == RB_JSON_STRING ? j->str : rb_json_string(rb_json_get(j, "type"));
    if (!type) return 0;
    if (strcmp(type, "null") == 0) {
        *none = true;
    } else if (strcmp(type, "fixed") == 0) {
        const rb_json *size = rb_json_get(j, "size");
        *none = size && size->type == RB_JSON_NUMBER && size->number == 0;
    } else if ((strcmp(type, "record") == 0 || strcmp(type, "error") == 0) &&
               depth < RB_AVRO_MAX_DEPTH) {
        char nsbuf[512];
        const char *own = rb_avro_def_namespace(j, r.ns, nsbuf, sizeof nsbuf);
        const rb_json *fields = rb_json_get(j, "fields");
        bool all = true;
        for (size_t i = 0; all && fields && fields->type == RB_JSON_ARRAY && i < fields->count;
             i++)
            if (takes_no_bytes(c, (rb_avro_node){rb_json_get(&fields->items[i], "type"), own},
                               depth + 1, &all) != 0)
                return -1;
        *none = all;
    }
    return 0;
}

/* Called under the library lock: a missing field sets libavro-c's error.
 * (avro_schema_record_field_get does not say when a field is missing.) */
static bool has_field(avro_schema_t record, const char *name) {
    return avro_schema_record_field_get_index(record, name) >= 0;
}

int rb_avro_schema_parse(const char *text, size_t len, const char *origin, rb_avro_schema **out,
                         rb_error *err) {
    *out = NULL;
    rb_avro_schema *s = calloc(1, sizeof *s);
    if (!s || !(s->origin = strdup(origin))) {
        free(s);
        return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "Avro schema");
    }
    rb_error perr;
    rb_avro_lib_lock();
    avro_set_error("%s", ""); /* libavro-c prefixes new errors to the last one */
    if (avro_schema_from_json_length(text, len, &s->schema) != 0) {
        rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE, "%s is not an Avro schema: %s",
                     origin, avro_strerror());
        rb_avro_lib_unlock();
        rb_avro_schema_destroy(s);
        return -1;
    }
    s->iface = avro_generic_class_from_schema(s->schema);
    char lib_msg[256];
    snprintf(lib_msg, sizeof lib_msg, "%s", s->iface ? "" : avro_strerror());
    rb_avro_lib_unlock();
    if (!s->iface) {
        rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE, "%s: libavro-c cannot read it: %s",
                     origin, lib_msg);
        rb_avro_schema_destroy(s);
        return -1;
    }
    if (rb_json_parse(text, len, NULL, &s->json, &perr) != 0) {
        rb_error_set(err, RB_ERR_SCHEMA, RB_STAGE_DESERIALIZE, "%s is not JSON: %s", origin,
                     perr.msg);
        rb_avro_schema_destroy(s);
        return -1;
    }
    check_ctx c = {.s = s, .budget = RB_AVRO_CHECK_BUDGET, .err = err};
    if (collect(s, rb_json_doc_root(s->json), "", 0, err) != 0 ||
        check(&c, (rb_avro_node){rb_json_doc_root(s->json), ""}) != 0) {
        rb_avro_schema_destroy(s);
        return -1;
    }
    rb_avro_lib_lock();
    s->change_event = is_avro_record(s->schema) && has_field(s->schema, "op") &&
                      has_field(s->schema, "source") &&
                      (has_field(s->schema, "before") || has_field(s->schema, "after"));
    rb_avro_lib_unlock();
    *out = s;
    return 0;
}

void rb_avro_schema_destroy(rb_avro_schema *s) {
    if (!s) return;
    if (s->iface) avro_value_iface_decref(s->iface);
    if (s->schema) avro_schema_decref(s->schema);
    rb_json_doc_destroy(s->json);
    for (size_t i = 0; i < s->named_count; i++) {
        free(s->named[i].fullname);
        free(s->named[i].ns_owned);
    }
    free(s->named);
    free(s->origin);
    free(s);
}

bool rb_avro_schema_is_change_event(const rb_avro_schema *s) { return s->change_event; }
