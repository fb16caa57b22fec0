/* schema_fields.c -- may an event have this field?  See schema_fields.h. */
#include "lint/schema_fields.h"

#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

typedef enum field_state { FIELD_OPEN = 0, FIELD_DECLARED, FIELD_FORBIDDEN } field_state;

typedef struct walk {
    const rb_json *root;
    char *why;
    size_t why_size;
} walk;

/* The schema a $ref names, or NULL when it is not one this subset has. */
static const rb_json *ref_target(const walk *w, const char *ref) {
    if (strcmp(ref, "#") == 0) return w->root;
    const char prefix[] = "#/definitions/";
    if (strncmp(ref, prefix, sizeof prefix - 1) != 0) return NULL;
    return rb_json_get(rb_json_get(w->root, "definitions"), ref + sizeof prefix - 1);
}

static bool type_allows_object(const rb_json *type) {
    if (!type) return true;
    if (type->type == RB_JSON_STRING) return strcmp(type->str, "object") == 0;
    if (type->type != RB_JSON_ARRAY) return true;
    for (size_t i = 0; i < type->count; i++)
        if (type->items[i].type == RB_JSON_STRING && strcmp(type->items[i].str, "object") == 0)
            return true;
    return false;
}

/* What `node` (the schema of an object) says of its member `name`; a
 * declared member's schema goes to *sub (NULL: anything). */
static field_state member(const walk *w, const rb_json *node, const char *name,
                          const rb_json **sub, int depth) {
    *sub = NULL;
    if (!node || depth > MAX_DEPTH) return FIELD_OPEN;
    if (node->type == RB_JSON_BOOL) {
        if (node->boolean) return FIELD_OPEN;
        snprintf(w->why, w->why_size, "the schema at line %d is false", node->line);
        return FIELD_FORBIDDEN;
    }
    if (node->type != RB_JSON_OBJECT) return FIELD_OPEN;
    const char *ref = rb_json_string(rb_json_get(node, "$ref"));
    if (ref) return member(w, ref_target(w, ref), name, sub, depth + 1);
    const rb_json *type = rb_json_get(node, "type");
    if (!type_allows_object(type)) {
        snprintf(w->why, w->why_size, "the value holding it is typed %.*s (line %d), not object",
                 (int)type->raw_len, type->raw, type->line);
        return FIELD_FORBIDDEN;
    }
    field_state state = FIELD_OPEN;
    const rb_json *declared = rb_json_get(rb_json_get(node, "properties"), name);
    if (declared) {
        state = FIELD_DECLARED;
        *sub = declared;
    }
    const rb_json *all = rb_json_get(node, "allOf");
    for (size_t i = 0; all && all->type == RB_JSON_ARRAY && i < all->count; i++) {
        const rb_json *s = NULL;
        field_state m = member(w, &all->items[i], name, &s, depth + 1);
        if (m == FIELD_FORBIDDEN) return FIELD_FORBIDDEN;
        if (m == FIELD_DECLARED && state != FIELD_DECLARED) {
            state = FIELD_DECLARED;
            *sub = s;
        }
    }
    const rb_json *additional = rb_json_get(node, "additionalProperties");
    if (!declared && additional && additional->type == RB_JSON_BOOL && !additional->boolean) {
        snprintf(w->why, w->why_size,
                 "it is not among the properties and additionalProperties is false (line %d)",
                 additional->line);
        return FIELD_FORBIDDEN;
    }
    if (!declared && additional && additional->type == RB_JSON_OBJECT && state == FIELD_OPEN)
        *sub = additional;
    static const char *const alternatives[] = {"anyOf", "oneOf"};
    for (size_t a = 0; a < 2; a++) {
        const rb_json *alt = rb_json_get(node, alternatives[a]);
        if (!alt || alt->type != RB_JSON_ARRAY || alt->count == 0) continue;
        size_t forbidden = 0;
        for (size_t i = 0; i < alt->count; i++) {
            const rb_json *s = NULL;
            forbidden += member(w, &alt->items[i], name, &s, depth + 1) == FIELD_FORBIDDEN;
        }
        if (forbidden == alt->count) {
            snprintf(w->why, w->why_size, "every alternative of %s (line %d) forbids it",
                     alternatives[a], alt->line);
            return FIELD_FORBIDDEN;
        }
    }
    return state;
}

bool rb_lint_schema_allows(const rb_json *root, const char *path, char *why, size_t why_size) {
    walk w = {root, why, why_size};
    if (why_size) why[0] = '\0';
    const rb_json *node = root;
    char segment[256];
    for (const char *p = path; node && *p;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof segment) return true;
        memcpy(segment, p, n);
        segment[n] = '\0';
        const rb_json *sub = NULL;
        if (member(&w, node, segment, &sub, 0) == FIELD_FORBIDDEN) return false;
        node = sub;
        p = dot ? dot + 1 : p + n;
    }
    return true;
}
