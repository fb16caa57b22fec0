/*
 * bson_doc.c -- event data to BSON: documents, filters, escaped metadata.
 */
#include "sink/bson_doc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* MongoDB refuses documents nested deeper than 100 levels; metadata sits
 * two levels down, so its own trees may use the rest with some margin. */
#define RB_SINK_MAX_META_DEPTH 90

/* UTF-8 of the replacement characters (see sink.h). */
static const char FULLWIDTH_DOLLAR[] = "\xEF\xBC\x84";   /* U+FF04 */
static const char FULLWIDTH_STOP[] = "\xEF\xBC\x8E";     /* U+FF0E */
static const char FULLWIDTH_LOW_LINE[] = "\xEF\xBC\xBF"; /* U+FF3F */

static int fail(char *msg, size_t msg_len, const char *what) {
    if (msg && msg_len) snprintf(msg, msg_len, "%s", what);
    return -1;
}

int rb_sink_escape_key(const char *key, size_t len, rb_buf *out) {
    int changed = 0;
    size_t i = 0;

    rb_buf_reset(out);
    if (rb_buf_reserve(out, len + 3) != 0) return -1;
    if (len == 0) {
        if (rb_buf_puts(out, FULLWIDTH_LOW_LINE) != 0) return -1;
        return 1;
    }
    if (key[0] == '$') {
        if (rb_buf_puts(out, FULLWIDTH_DOLLAR) != 0) return -1;
        changed = 1;
        i = 1;
    }
    while (i < len) {
        /* Copy the run up to the next '.', then its replacement. */
        const char *dot = memchr(key + i, '.', len - i);
        size_t run = dot ? (size_t)(dot - (key + i)) : len - i;
        if (rb_buf_append(out, key + i, run) != 0) return -1;
        i += run;
        if (dot) {
            if (rb_buf_puts(out, FULLWIDTH_STOP) != 0) return -1;
            changed = 1;
            i++;
        }
    }
    /* rb_buf stays NULL until the first append; a non-empty key always
     * appended something. */
    return changed;
}

static int append_value(bson_t *parent, const char *key, const rb_json *v, int depth, char *msg,
                        size_t msg_len);

static int append_array(bson_t *parent, const char *key, const rb_json *v, int depth, char *msg,
                        size_t msg_len) {
    bson_t child;
    if (!bson_append_array_begin(parent, key, -1, &child))
        return fail(msg, msg_len, "document too large");
    for (size_t i = 0; i < v->count; i++) {
        char tmp[16];
        const char *idx;
        bson_uint32_to_string((uint32_t)i, &idx, tmp, sizeof tmp);
        if (append_value(&child, idx, &v->items[i], depth + 1, msg, msg_len) != 0) {
            bson_append_array_end(parent, &child);
            return -1;
        }
    }
    if (!bson_append_array_end(parent, &child)) return fail(msg, msg_len, "document too large");
    return 0;
}

/* Counts the keys of `doc` equal to `key`. */
static size_t count_key(const bson_t *doc, const char *key) {
    bson_iter_t it;
    size_t n = 0;
    if (!bson_iter_init(&it, doc)) return 0;
    while (bson_iter_next(&it))
        if (strcmp(bson_iter_key(&it), key) == 0) n++;
    return n;
}

/* Builds the object in a document of its own so that, when an escaped key
 * turned out equal to another key of the same object, we can see it before
 * the object is attached.  Keys of one JSON object are unique (the parser
 * rejects duplicates), so only escaped keys can collide. */
static int append_object(bson_t *parent, const char *key, const rb_json *v, int depth, char *msg,
                         size_t msg_len) {
    bson_t child = BSON_INITIALIZER;
    rb_buf k;
    bool any_escaped = false;
    int rc = -1;

    rb_buf_init(&k);
    for (size_t i = 0; i < v->count; i++) {
        const rb_json_member *m = &v->members[i];
        int r = rb_sink_escape_key(m->key, m->key_len, &k);
        if (r < 0) {
            fail(msg, msg_len, "out of memory escaping a metadata key");
            goto out;
        }
        if (r == 1) any_escaped = true;
        if (append_value(&child, k.data, m->value, depth + 1, msg, msg_len) != 0) goto out;
    }
    if (any_escaped) {
        for (size_t i = 0; i < v->count; i++) {
            const rb_json_member *m = &v->members[i];
            int r = rb_sink_escape_key(m->key, m->key_len, &k);
            if (r < 0) {
                fail(msg, msg_len, "out of memory escaping a metadata key");
                goto out;
            }
            if (r == 1 && count_key(&child, k.data) > 1) {
                if (msg && msg_len)
                    snprintf(msg, msg_len,
                             "metadata key \"%s\" collides with key \"%s\" after escaping", m->key,
                             k.data);
                goto out;
            }
        }
    }
    if (!bson_append_document(parent, key, -1, &child)) {
        fail(msg, msg_len, "document too large");
        goto out;
    }
    rc = 0;
out:
    rb_buf_free(&k);
    bson_destroy(&child);
    return rc;
}

static int append_value(bson_t *parent, const char *key, const rb_json *v, int depth, char *msg,
                        size_t msg_len) {
    bool ok = true;

    if (depth > RB_SINK_MAX_META_DEPTH)
        return fail(msg, msg_len, "metadata nested too deeply for MongoDB");
    switch (v->type) {
    case RB_JSON_NULL: ok = bson_append_null(parent, key, -1); break;
    case RB_JSON_BOOL: ok = bson_append_bool(parent, key, -1, v->boolean); break;
    case RB_JSON_NUMBER:
        if (v->is_integer)
            ok = bson_append_int64(parent, key, -1, v->integer);
        else
            ok = bson_append_double(parent, key, -1, v->number);
        break;
    case RB_JSON_STRING:
        if (v->str_len > INT32_MAX) return fail(msg, msg_len, "document too large");
        ok = bson_append_utf8(parent, key, -1, v->str, (int)v->str_len);
        break;
    case RB_JSON_ARRAY: return append_array(parent, key, v, depth, msg, msg_len);
    case RB_JSON_OBJECT: return append_object(parent, key, v, depth, msg, msg_len);
    default: return fail(msg, msg_len, "internal error: unknown JSON type in metadata");
    }
    return ok ? 0 : fail(msg, msg_len, "document too large");
}

int rb_sink_append_json(bson_t *parent, const char *key, const rb_json *v, char *msg,
                        size_t msg_len) {
    return append_value(parent, key, v, 0, msg, msg_len);
}

/* The top-level metadata list behaves like one JSON object whose members
 * are the item's (name, value) pairs. */
static int append_metadata(bson_t *doc, const rb_sink_item *it, char *msg, size_t msg_len) {
    bson_t meta = BSON_INITIALIZER;
    rb_buf k;
    int rc = -1;

    rb_buf_init(&k);
    for (size_t i = 0; i < it->n_metadata; i++) {
        const rb_sink_meta *m = &it->metadata[i];
        const char *name = m->name ? m->name : "";
        if (rb_sink_escape_key(name, strlen(name), &k) < 0) {
            fail(msg, msg_len, "out of memory escaping a metadata key");
            goto out;
        }
        if (count_key(&meta, k.data) > 0) {
            if (msg && msg_len)
                snprintf(msg, msg_len, "metadata field \"%s\" appears twice (stored as \"%s\")",
                         name, k.data);
            goto out;
        }
        if (m->value == NULL) {
            if (!bson_append_null(&meta, k.data, -1)) {
                fail(msg, msg_len, "document too large");
                goto out;
            }
        } else if (append_value(&meta, k.data, m->value, 1, msg, msg_len) != 0) {
            goto out;
        }
    }
    if (!bson_append_document(doc, "metadata", -1, &meta)) {
        fail(msg, msg_len, "document too large");
        goto out;
    }
    rc = 0;
out:
    rb_buf_free(&k);
    bson_destroy(&meta);
    return rc;
}

static bool append_str_or_null(bson_t *doc, const char *key, const char *s) {
    return s ? bson_append_utf8(doc, key, -1, s, -1) : bson_append_null(doc, key, -1);
}

/* NaN and infinities make a vector useless for search, and some servers
 * (FerretDB) refuse them: fail this item, not the batch. */
static int check_finite(const rb_sink_item *it, char *msg, size_t msg_len) {
    for (size_t i = 0; i < it->dim; i++)
        if (!isfinite(it->vector[i])) {
            if (msg && msg_len)
                snprintf(msg, msg_len, "embedding value %zu is not a finite number", i);
            return -1;
        }
    return 0;
}

/* The array of doubles, written as BSON bytes in one buffer and appended
 * whole: per element the type byte 0x01, the index as a decimal key, NUL,
 * and the value as a little-endian IEEE 754 double.  These are the bytes
 * bson_append_double would write element by element, at a fraction of the
 * cost (a document's vector is most of its bytes). */
static int append_embedding_array(bson_t *doc, const rb_sink_item *it, char *msg, size_t msg_len) {
    /* 4 length bytes, the elements (type, key of up to 10 digits, NUL, 8
     * value bytes), the closing NUL */
    if (it->dim > ((size_t)INT32_MAX - 5) / 20) return fail(msg, msg_len, "document too large");
    uint8_t *bytes = malloc(5 + 20 * it->dim);
    if (!bytes) return fail(msg, msg_len, "out of memory building the embedding");
    size_t at = 4;
    for (size_t i = 0; i < it->dim; i++) {
        char key[16];
        const char *idx;
        size_t key_len = bson_uint32_to_string((uint32_t)i, &idx, key, sizeof key);
        uint64_t bits;
        double v = (double)it->vector[i];
        memcpy(&bits, &v, sizeof bits);
        bytes[at++] = 0x01; /* BSON double */
        memcpy(bytes + at, idx, key_len + 1);
        at += key_len + 1;
        for (int b = 0; b < 8; b++) bytes[at++] = (uint8_t)(bits >> (8 * b));
    }
    bytes[at++] = 0;
    for (int b = 0; b < 4; b++) bytes[b] = (uint8_t)((uint32_t)at >> (8 * b));
    bson_t arr;
    bool ok = bson_init_static(&arr, bytes, at) && bson_append_array(doc, "embedding", -1, &arr);
    free(bytes);
    return ok ? 0 : fail(msg, msg_len, "document too large");
}

/* BSON binary subtype 9 (vector), dtype float32: the dtype byte 0x27, a
 * padding byte 0, then each value as a little-endian IEEE 754 float,
 * whatever the host's byte order. */
static int append_embedding_float32(bson_t *doc, const rb_sink_item *it, char *msg,
                                    size_t msg_len) {
    if (it->dim > (UINT32_MAX - RB_SINK_VECTOR_HEADER) / 4)
        return fail(msg, msg_len, "document too large");
    uint32_t len = (uint32_t)(RB_SINK_VECTOR_HEADER + 4 * it->dim);
    uint8_t *bytes = malloc(len);
    if (!bytes) return fail(msg, msg_len, "out of memory building the embedding");
    bytes[0] = RB_SINK_VECTOR_DTYPE_FLOAT32;
    bytes[1] = 0;
    for (size_t i = 0; i < it->dim; i++) {
        uint32_t bits;
        uint8_t *p = bytes + RB_SINK_VECTOR_HEADER + 4 * i;
        memcpy(&bits, &it->vector[i], sizeof bits);
        p[0] = (uint8_t)bits;
        p[1] = (uint8_t)(bits >> 8);
        p[2] = (uint8_t)(bits >> 16);
        p[3] = (uint8_t)(bits >> 24);
    }
    bool ok = bson_append_binary(doc, "embedding", -1, (bson_subtype_t)RB_SINK_BSON_SUBTYPE_VECTOR,
                                 bytes, len);
    free(bytes);
    return ok ? 0 : fail(msg, msg_len, "document too large");
}

static int append_embedding(bson_t *doc, const rb_sink_item *it, rb_sink_vector_format format,
                            char *msg, size_t msg_len) {
    if (it->dim > 0 && it->vector == NULL) return fail(msg, msg_len, "embedding missing");
    if (check_finite(it, msg, msg_len) != 0) return -1;
    return format == RB_SINK_VECTOR_FLOAT32 ? append_embedding_float32(doc, it, msg, msg_len)
                                            : append_embedding_array(doc, it, msg, msg_len);
}

static bool append_source(bson_t *doc, const rb_sink_item *it) {
    bson_t src;
    bool ok = bson_append_document_begin(doc, "source", -1, &src);
    ok = ok && append_str_or_null(&src, "topic", it->topic);
    ok = ok && bson_append_int32(&src, "partition", -1, it->partition);
    ok = ok && bson_append_int64(&src, "offset", -1, it->offset);
    return bson_append_document_end(doc, &src) && ok;
}

/* A chunk document's parent_id and chunk: {index, count, start, end, tokens}. */
static bool append_chunk_ref(bson_t *doc, const rb_sink_chunk_ref *c) {
    bson_t sub;
    bool ok = bson_append_utf8(doc, "parent_id", -1, c->parent_id, -1);
    ok = ok && bson_append_document_begin(doc, "chunk", -1, &sub);
    ok = ok && bson_append_int64(&sub, "index", -1, (int64_t)c->index);
    ok = ok && bson_append_int64(&sub, "count", -1, (int64_t)c->count);
    ok = ok && bson_append_int64(&sub, "start", -1, (int64_t)c->char_start);
    ok = ok && bson_append_int64(&sub, "end", -1, (int64_t)c->char_end);
    ok = ok && bson_append_int64(&sub, "tokens", -1, (int64_t)c->tokens);
    return bson_append_document_end(doc, &sub) && ok;
}

int rb_sink_build_doc(bson_t *doc, const rb_sink_item *it, rb_sink_vector_format format,
                      int64_t now_ms, char *msg, size_t msg_len) {
    bool ok;

    if (it->id == NULL) return fail(msg, msg_len, "item has no id");
    ok = bson_append_utf8(doc, "_id", -1, it->id, -1);
    if (ok && it->kind == RB_SINK_UPSERT) {
        ok = append_str_or_null(doc, "text", it->chunk_count ? NULL : it->text);
        if (ok && it->chunk_count)
            ok = bson_append_int64(doc, "chunk_count", -1, (int64_t)it->chunk_count);
        else if (ok && append_embedding(doc, it, format, msg, msg_len) != 0)
            return -1;
        if (ok && it->chunk) ok = append_chunk_ref(doc, it->chunk);
        ok = ok && append_str_or_null(doc, "text_hash", it->text_hash);
        ok = ok && append_str_or_null(doc, "model", it->model);
        if (ok && append_metadata(doc, it, msg, msg_len) != 0) return -1;
    }
    ok = ok && bson_append_int64(doc, "version", -1, it->version);
    ok = ok && bson_append_date_time(doc, "event_time", -1, it->event_time_ms);
    ok = ok && append_source(doc, it);
    ok = ok && bson_append_date_time(doc, "ingested_at", -1, now_ms);
    ok = ok && bson_append_bool(doc, "deleted", -1, it->kind == RB_SINK_SOFT_DELETE);
    /* What a TTL index on deleted_at counts from (sink.h,
     * RB_SINK_KEEP_TOMBSTONES); live documents have none, so a TTL index
     * never touches them, and a newer upsert replaces it away. */
    if (it->kind == RB_SINK_SOFT_DELETE)
        ok = ok && bson_append_date_time(doc, "deleted_at", -1, now_ms);
    return ok ? 0 : fail(msg, msg_len, "document too large");
}

int rb_sink_build_filter(bson_t *filter, const rb_sink_item *it) {
    bson_t cond;
    bool ok = bson_append_utf8(filter, "_id", -1, it->id, -1);
    ok = ok && bson_append_document_begin(filter, "version", -1, &cond);
    ok = ok && bson_append_int64(&cond, "$lt", -1, it->version);
    ok = ok && bson_append_document_end(filter, &cond);
    return ok ? 0 : -1;
}

int rb_sink_build_swap_filter(bson_t *filter, const char *id, int64_t expect) {
    bool ok = bson_append_utf8(filter, "_id", -1, id, -1);
    ok = ok && bson_append_int64(filter, "version", -1, expect);
    return ok ? 0 : -1;
}
