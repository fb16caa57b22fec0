/*
 * schema_ref.c -- locations, $id names and $ref resolution (schema_ref.h).
 */
#include "validate/schema_ref.h"

#include "common/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ RFC 3986 */

typedef struct uri_parts {
    const char *scheme, *authority, *path, *query, *fragment;
    size_t scheme_len, authority_len, path_len, query_len, fragment_len;
    bool has_scheme, has_authority, has_query, has_fragment;
} uri_parts;

static void uri_split(const char *u, uri_parts *p) {
    memset(p, 0, sizeof *p);
    const char *s = u;
    const char *colon = s + strcspn(s, ":/?#");
    if (*colon == ':' && colon > s) {
        p->has_scheme = true;
        p->scheme = s;
        p->scheme_len = (size_t)(colon - s);
        s = colon + 1;
    }
    if (s[0] == '/' && s[1] == '/') {
        p->has_authority = true;
        p->authority = s + 2;
        p->authority_len = strcspn(s + 2, "/?#");
        s = p->authority + p->authority_len;
    }
    p->path = s;
    p->path_len = strcspn(s, "?#");
    s += p->path_len;
    if (*s == '?') {
        p->has_query = true;
        p->query = s + 1;
        p->query_len = strcspn(s + 1, "#");
        s = p->query + p->query_len;
    }
    if (*s == '#') {
        p->has_fragment = true;
        p->fragment = s + 1;
        p->fragment_len = strlen(s + 1);
    }
}

/* RFC 3986 5.2.4, appending the result to out. */
static int remove_dot_segments(rb_buf *out, const char *path, size_t len) {
    char *in = malloc(len + 1);
    if (!in) return -1;
    memcpy(in, path, len);
    in[len] = '\0';
    size_t start = out->len, i = 0;
    int rc = 0;
    while (i < len && rc == 0) {
        const char *p = in + i;
        if (strncmp(p, "../", 3) == 0) {
            i += 3;
        } else if (strncmp(p, "./", 2) == 0) {
            i += 2;
        } else if (strncmp(p, "/./", 3) == 0) {
            i += 2;
        } else if (strcmp(p, "/.") == 0) {
            i += 1;
            in[i] = '/';
        } else if (strncmp(p, "/../", 4) == 0 || strcmp(p, "/..") == 0) {
            /* keep the input's next '/' (or make one of the last '.') */
            i += p[3] == '/' ? 3 : 2;
            in[i] = '/';
            while (out->len > start && out->data[out->len - 1] != '/') out->len--;
            if (out->len > start) out->len--;
        } else if (strcmp(p, ".") == 0 || strcmp(p, "..") == 0) {
            i = len;
        } else {
            size_t seg = 1 + strcspn(p + 1, "/");
            if (p[0] != '/') seg = strcspn(p, "/");
            rc = rb_buf_append(out, p, seg);
            i += seg;
        }
    }
    free(in);
    if (rc == 0 && out->data) out->data[out->len] = '\0';
    return rc;
}

char *rb_schema_uri_resolve(const char *base, const char *ref) {
    uri_parts b, r;
    uri_split(base, &b);
    uri_split(ref, &r);
    rb_buf t;
    rb_buf_init(&t);
    int rc = 0;
    const uri_parts *auth_from = &b, *query_from = &r;
    rb_buf path;
    rb_buf_init(&path);
    if (r.has_scheme) {
        auth_from = &r;
        rc |= remove_dot_segments(&path, r.path, r.path_len);
    } else if (r.has_authority) {
        auth_from = &r;
        rc |= remove_dot_segments(&path, r.path, r.path_len);
    } else if (r.path_len == 0) {
        rc |= rb_buf_append(&path, b.path, b.path_len);
        if (!r.has_query) query_from = &b;
    } else if (r.path[0] == '/') {
        rc |= remove_dot_segments(&path, r.path, r.path_len);
    } else {
        rb_buf merged;
        rb_buf_init(&merged);
        if (b.has_authority && b.path_len == 0) {
            rc |= rb_buf_putc(&merged, '/');
        } else {
            size_t keep = b.path_len;
            while (keep > 0 && b.path[keep - 1] != '/') keep--;
            rc |= rb_buf_append(&merged, b.path, keep);
        }
        rc |= rb_buf_append(&merged, r.path, r.path_len);
        if (rc == 0) rc |= remove_dot_segments(&path, merged.data, merged.len);
        rb_buf_free(&merged);
    }
    const uri_parts *scheme_from = r.has_scheme ? &r : &b;
    if (scheme_from->has_scheme) {
        rc |= rb_buf_append(&t, scheme_from->scheme, scheme_from->scheme_len);
        rc |= rb_buf_putc(&t, ':');
    }
    if (auth_from->has_authority) {
        rc |= rb_buf_puts(&t, "//");
        rc |= rb_buf_append(&t, auth_from->authority, auth_from->authority_len);
    }
    if (path.len) rc |= rb_buf_append(&t, path.data, path.len);
    if (query_from->has_query) {
        rc |= rb_buf_putc(&t, '?');
        rc |= rb_buf_append(&t, query_from->query, query_from->query_len);
    }
    if (r.has_fragment) {
        rc |= rb_buf_putc(&t, '#');
        rc |= rb_buf_append(&t, r.fragment, r.fragment_len);
    }
    rc |= rb_buf_puts(&t, "");
    rb_buf_free(&path);
    if (rc != 0) {
        rb_buf_free(&t);
        return NULL;
    }
    return rb_buf_detach(&t);
}

/* ------------------------------------------------------------ locations */

static size_t ptr_hash(const rb_json *v) {
    uintptr_t x = (uintptr_t)v;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(x ^ (x >> 29));
}

schema_loc *rb_schema_loc_find(const rb_schema *s, const rb_json *v) {
    if (!s->cap_locs) return NULL;
    size_t mask = s->cap_locs - 1;
    for (size_t i = ptr_hash(v) & mask;; i = (i + 1) & mask) {
        if (!s->locs[i].value) return NULL;
        if (s->locs[i].value == v) return &s->locs[i];
    }
}

static int locs_grow(rb_schema *s) {
    size_t cap = s->cap_locs ? s->cap_locs * 2 : 64;
    schema_loc *grown = calloc(cap, sizeof *grown);
    if (!grown) return -1;
    for (size_t i = 0; i < s->cap_locs; i++) {
        if (!s->locs[i].value) continue;
        size_t j = ptr_hash(s->locs[i].value) & (cap - 1);
        while (grown[j].value) j = (j + 1) & (cap - 1);
        grown[j] = s->locs[i];
    }
    free(s->locs);
    s->locs = grown;
    s->cap_locs = cap;
    return 0;
}

/* Adds v's location (taking pointer and base); the existing one if any. */
static schema_loc *loc_add(rb_schema *s, const rb_json *v, char *pointer, char *base) {
    schema_loc *have = rb_schema_loc_find(s, v);
    if (have) {
        free(pointer);
        free(base);
        return have;
    }
    if ((s->n_locs + 1) * 2 > s->cap_locs && locs_grow(s) != 0) {
        free(pointer);
        free(base);
        return NULL;
    }
    size_t i = ptr_hash(v) & (s->cap_locs - 1);
    while (s->locs[i].value) i = (i + 1) & (s->cap_locs - 1);
    s->locs[i] = (schema_loc){.value = v, .pointer = pointer, .base = base, .node = NULL};
    s->n_locs++;
    return &s->locs[i];
}

static int name_add(rb_schema *s, char *uri, const rb_json *v) {
    for (size_t i = 0; i < s->n_names; i++)
        if (strcmp(s->names[i].uri, uri) == 0) {
            free(uri); /* the first one wins; duplicates are rare mistakes */
            return 0;
        }
    if (s->n_names == s->cap_names) {
        size_t cap = s->cap_names ? s->cap_names * 2 : 8;
        schema_name *grown = realloc(s->names, cap * sizeof *grown);
        if (!grown) {
            free(uri);
            return -1;
        }
        s->names = grown;
        s->cap_names = cap;
    }
    s->names[s->n_names++] = (schema_name){.uri = uri, .value = v};
    return 0;
}

/* The base URI inside schema object v whose parent's base is `base`, with
 * v's $id and anchors registered.  A malloc'd string; NULL when out of memory. */
static char *enter_schema(rb_schema *s, const rb_json *v, const char *base) {
    if (v->type != RB_JSON_OBJECT) return strdup(base);
    const char *id = rb_json_string(rb_json_get(v, "$id"));
    /* draft-07: everything beside $ref is ignored, $id included */
    if (s->draft == DRAFT_07 && rb_json_get(v, "$ref")) id = NULL;
    char *here = NULL;
    if (id) {
        char *full = rb_schema_uri_resolve(base, id);
        if (!full) return NULL;
        char *hash = strchr(full, '#');
        if (hash && hash[1] != '\0') {
            /* draft-07's plain-name $id ("#foo") is an anchor */
            if (s->draft == DRAFT_07) {
                char *anchor = strdup(full);
                if (!anchor || name_add(s, anchor, v) != 0) {
                    free(full);
                    return NULL;
                }
            }
        }
        if (hash) *hash = '\0';
        here = full;
        if (!(id[0] == '#')) {
            char *res = strdup(here);
            if (!res || name_add(s, res, v) != 0) {
                free(here);
                return NULL;
            }
        }
    } else {
        here = strdup(base);
        if (!here) return NULL;
        char *hash = strchr(here, '#');
        if (hash) *hash = '\0';
    }
    const char *anchor = s->draft != DRAFT_07 ? rb_json_string(rb_json_get(v, "$anchor")) : NULL;
    if (anchor) {
        rb_buf b;
        rb_buf_init(&b);
        if (rb_buf_printf(&b, "%s#%s", here, anchor) != 0 ||
            name_add(s, rb_buf_detach(&b), v) != 0) {
            rb_buf_free(&b);
            free(here);
            return NULL;
        }
    }
    return here;
}

static bool is_schema_map(const char *kw) {
    return strcmp(kw, "properties") == 0 || strcmp(kw, "patternProperties") == 0 ||
           strcmp(kw, "definitions") == 0 || strcmp(kw, "$defs") == 0 ||
           strcmp(kw, "dependencies") == 0 || strcmp(kw, "dependentSchemas") == 0;
}

static bool is_schema_one(const char *kw) {
    static const char *const one[] = {"additionalProperties",
                                      "additionalItems",
                                      "contains",
                                      "propertyNames",
                                      "not",
                                      "if",
                                      "then",
                                      "else",
                                      "items",
                                      "unevaluatedProperties",
                                      "unevaluatedItems",
                                      "contentSchema"};
    for (size_t i = 0; i < sizeof one / sizeof *one; i++)
        if (strcmp(kw, one[i]) == 0) return true;
    return false;
}

static bool is_schema_list(const char *kw) {
    return strcmp(kw, "allOf") == 0 || strcmp(kw, "anyOf") == 0 || strcmp(kw, "oneOf") == 0 ||
           strcmp(kw, "items") == 0 || strcmp(kw, "prefixItems") == 0;
}

static char *pointer_join(const char *pointer, const char *seg, size_t seg_len) {
    char buf[SCHEMA_PATH_MAX];
    size_t len = strlen(pointer);
    if (len >= sizeof buf) len = sizeof buf - 1;
    memcpy(buf, pointer, len);
    buf[len] = '\0';
    rb_schema_path_push(buf, &len, sizeof buf, seg, seg_len);
    return strdup(buf);
}

static int walk(rb_schema *s, const rb_json *v, char *pointer, const char *parent_base, int depth);

static int walk_child(rb_schema *s, const rb_json *child, const char *pointer, const char *kw,
                      const char *seg, size_t seg_len, const char *base, int depth) {
    char *p = pointer_join(pointer, kw, strlen(kw));
    if (!p) return -1;
    if (seg) {
        char *q = pointer_join(p, seg, seg_len);
        free(p);
        if (!q) return -1;
        p = q;
    }
    return walk(s, child, p, base, depth + 1);
}

/* Registers v (taking `pointer`) and everything below it. */
static int walk(rb_schema *s, const rb_json *v, char *pointer, const char *parent_base,
                int depth) {
    if ((v->type != RB_JSON_OBJECT && v->type != RB_JSON_BOOL) || rb_schema_loc_find(s, v) ||
        depth > 4096) {
        free(pointer);
        return 0;
    }
    char *base = enter_schema(s, v, parent_base);
    if (!base) {
        free(pointer);
        return -1;
    }
    schema_loc *loc = loc_add(s, v, pointer, base);
    if (!loc) return -1;
    if (v->type != RB_JSON_OBJECT) return 0;
    /* The location's strings stay put, but the table may move: copy them. */
    char *my_pointer = strdup(loc->pointer);
    char *my_base = strdup(loc->base);
    int rc = my_pointer && my_base ? 0 : -1;
    for (size_t i = 0; i < v->count && rc == 0; i++) {
        const rb_json_member *m = &v->members[i];
        const rb_json *x = m->value;
        if (is_schema_map(m->key) && x->type == RB_JSON_OBJECT) {
            for (size_t j = 0; j < x->count && rc == 0; j++)
                rc = walk_child(s, x->members[j].value, my_pointer, m->key, x->members[j].key,
                                x->members[j].key_len, my_base, depth);
        } else if (is_schema_list(m->key) && x->type == RB_JSON_ARRAY) {
            for (size_t j = 0; j < x->count && rc == 0; j++) {
                char idx[24];
                int n = snprintf(idx, sizeof idx, "%zu", j);
                rc = walk_child(s, &x->items[j], my_pointer, m->key, idx, (size_t)n, my_base,
                                depth);
            }
        } else if (is_schema_one(m->key)) {
            rc = walk_child(s, x, my_pointer, m->key, NULL, 0, my_base, depth);
        }
    }
    free(my_pointer);
    free(my_base);
    return rc;
}

int rb_schema_index(rb_schema *s, const rb_json *root) {
    char *pointer = strdup("");
    if (!pointer) return -1;
    /* The default base names the root even when it has an $id. */
    char *res = strdup(RB_SCHEMA_DEFAULT_BASE);
    if (!res || name_add(s, res, root) != 0) {
        free(pointer);
        return -1;
    }
    return walk(s, root, pointer, RB_SCHEMA_DEFAULT_BASE, 0);
}

void rb_schema_index_free(rb_schema *s) {
    for (size_t i = 0; i < s->cap_locs; i++) {
        free(s->locs[i].pointer);
        free(s->locs[i].base);
    }
    free(s->locs);
    s->locs = NULL;
    s->n_locs = s->cap_locs = 0;
    for (size_t i = 0; i < s->n_names; i++) free(s->names[i].uri);
    free(s->names);
    s->names = NULL;
    s->n_names = s->cap_names = 0;
}

/* ------------------------------------------------------------ resolving */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* %-decodes `s` into a malloc'd string; NULL on a bad escape or no memory. */
static char *percent_decode(const char *s) {
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi = i + 2 < n + 1 ? hex_value(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

static const rb_json *find_name(const rb_schema *s, const char *uri) {
    for (size_t i = 0; i < s->n_names; i++)
        if (strcmp(s->names[i].uri, uri) == 0) return s->names[i].value;
    return NULL;
}

/* Follows JSON pointer `ptr` ("/a/b", decoded of %-escapes) from resource
 * `res`; adds the target's location if it has none. */
static schema_loc *follow_pointer(rb_schema *s, schema_loc *res, const char *ptr, char *why,
                                  size_t why_size) {
    const rb_json *cur = res->value;
    char *base = strdup(res->base);
    /* The base of cur's parent: the walk below applies cur's own $id. */
    char *parent_base = strdup(res->base);
    if (!base || !parent_base) {
        free(base);
        free(parent_base);
        return NULL;
    }
    const char *p = ptr;
    char token[256];
    while (*p == '/') {
        p++;
        size_t t = 0;
        while (*p && *p != '/') {
            char c = *p++;
            if (c == '~') {
                if (*p == '0')
                    c = '~';
                else if (*p == '1')
                    c = '/';
                else {
                    snprintf(why, why_size, "bad ~ escape in the JSON pointer");
                    free(base);
                    free(parent_base);
                    return NULL;
                }
                p++;
            }
            if (t + 1 >= sizeof token) {
                snprintf(why, why_size, "a JSON pointer token is too long");
                free(base);
                free(parent_base);
                return NULL;
            }
            token[t++] = c;
        }
        token[t] = '\0';
        const rb_json *next = NULL;
        if (cur->type == RB_JSON_OBJECT) {
            next = rb_json_get(cur, token);
        } else if (cur->type == RB_JSON_ARRAY && t > 0 && strspn(token, "0123456789") == t &&
                   (t == 1 || token[0] != '0')) {
            unsigned long long idx = strtoull(token, NULL, 10);
            if (idx < cur->count) next = &cur->items[idx];
        }
        if (!next) {
            snprintf(why, why_size, "nothing at \"%s\" in the schema", token);
            free(base);
            free(parent_base);
            return NULL;
        }
        cur = next;
        char *inner = enter_schema(s, cur, base);
        free(parent_base);
        parent_base = base;
        if (!inner) {
            free(parent_base);
            return NULL;
        }
        base = inner;
    }
    free(base);
    if (*p) {
        snprintf(why, why_size, "the fragment is neither a JSON pointer nor an anchor");
        free(parent_base);
        return NULL;
    }
    if (cur->type != RB_JSON_OBJECT && cur->type != RB_JSON_BOOL) {
        snprintf(why, why_size, "the target is a %s, not a schema", rb_json_type_name(cur->type));
        free(parent_base);
        return NULL;
    }
    schema_loc *have = rb_schema_loc_find(s, cur);
    if (have) {
        free(parent_base);
        return have;
    }
    size_t plen = strlen(res->pointer) + strlen(ptr);
    char *pointer = malloc(plen + 1);
    if (!pointer) {
        free(parent_base);
        return NULL;
    }
    snprintf(pointer, plen + 1, "%s%s", res->pointer, ptr);
    /* The walk registers it, and whatever lies below it. */
    int rc = walk(s, cur, pointer, parent_base, 0);
    free(parent_base);
    return rc == 0 ? rb_schema_loc_find(s, cur) : NULL;
}

schema_loc *rb_schema_ref_resolve(rb_schema *s, const char *base, const char *ref, char *why,
                                  size_t why_size) {
    why[0] = '\0';
    char *full = rb_schema_uri_resolve(base, ref);
    if (!full) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    char *hash = strchr(full, '#');
    const char *fragment = "";
    if (hash) {
        *hash = '\0';
        fragment = hash + 1;
    }
    const rb_json *res_value = find_name(s, full);
    if (!res_value) {
        snprintf(why, why_size,
                 "%s is not this schema nor an $id inside it (references to other files or "
                 "URLs are not fetched; ragbatch resolves references within the one schema)",
                 full);
        free(full);
        return NULL;
    }
    schema_loc *res = rb_schema_loc_find(s, res_value);
    schema_loc *out = NULL;
    if (!res) {
        snprintf(why, why_size, "%s is not a schema", full);
    } else if (fragment[0] == '\0') {
        out = res;
    } else if (fragment[0] == '/') {
        char *decoded = percent_decode(fragment);
        if (!decoded)
            snprintf(why, why_size, "bad %%-escape in the fragment");
        else
            out = follow_pointer(s, res, decoded, why, why_size);
        free(decoded);
    } else {
        rb_buf b;
        rb_buf_init(&b);
        if (rb_buf_printf(&b, "%s#%s", full, fragment) == 0) {
            const rb_json *anchor = find_name(s, b.data);
            if (anchor) out = rb_schema_loc_find(s, anchor);
            if (!out) snprintf(why, why_size, "no $id or $anchor names \"#%s\"", fragment);
        }
        rb_buf_free(&b);
    }
    if (!out && !why[0]) snprintf(why, why_size, "out of memory");
    free(full);
    return out;
}
