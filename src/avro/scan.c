/*
 * scan.c -- checks a binary value against its schema before libavro-c
 * reads it (avro.h): every length, block count, union branch and enum
 * index against the schema and the bytes that are left.
 *
 * Why: libavro-c 1.11 trusts what it reads.  A string or bytes length
 * past the end makes it allocate the buffer, fail the read and leak the
 * buffer; a negative one reaches its allocator.  After this scan libavro-c
 * only ever reads a value that is whole, and the error can say where the
 * value broke (field and byte offset), which libavro-c's cannot.
 */
#include "avro/avro_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct scan {
    const rb_avro_schema *s;
    const unsigned char *p;
    size_t len, at;
    char path[256];
    rb_error *err;
} scan;

static int bad(scan *c, const char *what) {
    char where[320];
    if (c->path[0])
        snprintf(where, sizeof where, "field '%s' at byte %zu", c->path, c->at);
    else
        snprintf(where, sizeof where, "at byte %zu", c->at);
    return rb_error_set(c->err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                        "Avro value of %zu bytes does not read with %s: %s: %s", c->len,
                        c->s->origin, where, what);
}

static int varint(scan *c, int64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->at >= c->len) return bad(c, "the value ends inside a number (truncated)");
        unsigned char b = c->p[c->at++];
        if (shift == 63 && (b & 0x7e)) return bad(c, "a number longer than 64 bits");
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return bad(c, "a number longer than 10 bytes");
}

static int skip(scan *c, int64_t n, const char *what) {
    if (n < 0) return bad(c, what);
    if ((uint64_t)n > c->len - c->at)
        return bad(c, "the value ends before the bytes its length counts (truncated)");
    c->at += (size_t)n;
    return 0;
}

static int value(scan *c, rb_avro_node node);

static const char *type_of(const rb_json *j) {
    if (j->type == RB_JSON_STRING) return j->str;
    return rb_json_string(rb_json_get(j, "type"));
}

static int blocks(scan *c, rb_avro_node items, bool map) {
    for (;;) {
        int64_t count;
        if (varint(c, &count) != 0) return -1;
        if (count == 0) return 0;
        if (count < 0) {
            /* A negative count is followed by the block's size in bytes. */
            int64_t size;
            if (count == INT64_MIN) return bad(c, "a block count out of range");
            count = -count;
            if (varint(c, &size) != 0) return -1;
            if (size < 0 || (uint64_t)size > c->len - c->at)
                return bad(c, "a block size past the end of the value (truncated)");
        }
        for (int64_t i = 0; i < count; i++) {
            if (map) {
                int64_t klen;
                size_t start;
                if (varint(c, &klen) != 0) return -1;
                start = c->at;
                if (skip(c, klen, "a map key of negative length") != 0) return -1;
                /* libavro-c keeps map keys as C strings: one with a NUL would
                 * be cut short there, silently. */
                if (memchr(c->p + start, 0, (size_t)klen))
                    return bad(c, "a map key with a NUL character (U+0000)");
            }
            if (value(c, items) != 0) return -1;
        }
    }
}

static int value(scan *c, rb_avro_node node) {
    rb_avro_node r = rb_avro_resolve(c->s, node);
    const rb_json *j = r.json;
    if (!j) return bad(c, "its schema names a type that is not defined");
    int64_t n;
    if (j->type == RB_JSON_ARRAY) {
        if (varint(c, &n) != 0) return -1;
        if (n < 0 || (uint64_t)n >= j->count)
            return bad(c, "a union branch the schema does not have");
        return value(c, (rb_avro_node){&j->items[n], r.ns});
    }
    const char *t = type_of(j);
    if (!t) return bad(c, "its schema has no type");
    if (strcmp(t, "null") == 0) return 0;
    if (strcmp(t, "boolean") == 0) {
        if (c->at >= c->len) return bad(c, "the value ends inside a boolean (truncated)");
        if (c->p[c->at] > 1) return bad(c, "a boolean that is neither 0 nor 1");
        c->at++;
        return 0;
    }
    if (strcmp(t, "int") == 0) {
        if (varint(c, &n) != 0) return -1;
        return n < INT32_MIN || n > INT32_MAX ? bad(c, "an int beyond 32 bits") : 0;
    }
    if (strcmp(t, "long") == 0) return varint(c, &n);
    if (strcmp(t, "float") == 0) return skip(c, 4, "");
    if (strcmp(t, "double") == 0) return skip(c, 8, "");
    if (strcmp(t, "string") == 0 || strcmp(t, "bytes") == 0) {
        if (varint(c, &n) != 0) return -1;
        size_t start = c->at;
        if (skip(c, n, "a string or bytes of negative length") != 0) return -1;
        /* The JSON path refuses U+0000 in strings (it would cut the value
         * short in C strings downstream); an Avro string gets the same. */
        if (t[0] == 's' && memchr(c->p + start, 0, (size_t)n))
            return bad(c, "a string with a NUL character (U+0000), which ragbatch refuses in "
                          "JSON strings too");
        return 0;
    }
    if (strcmp(t, "fixed") == 0) {
        const rb_json *size = rb_json_get(j, "size");
        return skip(c, size && size->is_integer ? size->integer : -1, "a fixed of no size");
    }
    if (strcmp(t, "enum") == 0) {
        const rb_json *symbols = rb_json_get(j, "symbols");
        if (varint(c, &n) != 0) return -1;
        return n < 0 || !symbols || (uint64_t)n >= symbols->count
                   ? bad(c, "an enum index the schema does not have")
                   : 0;
    }
    if (strcmp(t, "array") == 0)
        return blocks(c, (rb_avro_node){rb_json_get(j, "items"), r.ns}, false);
    if (strcmp(t, "map") == 0)
        return blocks(c, (rb_avro_node){rb_json_get(j, "values"), r.ns}, true);
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0) {
        char nsbuf[512];
        const char *ns = rb_avro_def_namespace(j, r.ns, nsbuf, sizeof nsbuf);
        const rb_json *fields = rb_json_get(j, "fields");
        for (size_t i = 0; fields && fields->type == RB_JSON_ARRAY && i < fields->count; i++) {
            const rb_json *f = &fields->items[i];
            const char *name = rb_json_string(rb_json_get(f, "name"));
            size_t at = strlen(c->path);
            snprintf(c->path + at, sizeof c->path - at, "%s%s", at ? "." : "", name ? name : "?");
            int rc = value(c, (rb_avro_node){rb_json_get(f, "type"), ns});
            if (rc != 0) return -1;
            c->path[at] = '\0';
        }
        return 0;
    }
    return bad(c, "its schema has a type this reader does not know");
}

int rb_avro_scan(const rb_avro_schema *s, const char *data, size_t len, rb_error *err) {
    scan c = {.s = s, .p = (const unsigned char *)data, .len = len, .err = err};
    if (value(&c, (rb_avro_node){rb_json_doc_root(s->json), ""}) != 0) return -1;
    if (c.at != len)
        return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                            "Avro value of %zu bytes has %zu bytes left after the value %s "
                            "describes (written with another schema?)",
                            len, len - c.at, s->origin);
    return 0;
}
