#include "embed/bert/charsmap.h"

#include "common/base64.h"
#include "json/json.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct rb_charsmap {
    uint32_t *units; /* the double array */
    size_t n_units;
    char *pool; /* replacement strings, NUL-terminated back to back */
    size_t pool_len;
};

int rb_cpbuf_push(rb_cpbuf *b, int32_t cp) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        int32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) return -1;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = cp;
    return 0;
}

void rb_charsmap_destroy(rb_charsmap *cm) {
    if (!cm) return;
    free(cm->units);
    free(cm->pool);
    free(cm);
}

rb_charsmap *rb_charsmap_from_base64(const char *b64, size_t len, const char *source,
                                     rb_error *err) {
    unsigned char *blob = malloc(len / 4 * 3 + 3);
    rb_charsmap *cm = calloc(1, sizeof *cm);
    if (!blob || !cm) {
        free(blob);
        free(cm);
        rb_error_nomem(err, RB_STAGE_EMBED, "precompiled charsmap");
        return NULL;
    }
    /* Not padded: the writer's padding is not relied on. */
    long decoded = rb_base64_decode(b64, len, false, blob);
    size_t n = decoded < 0 ? 0 : (size_t)decoded;
    const char *bad = NULL;
    uint32_t trie = 0;
    if (decoded < 0) {
        bad = "is not base64";
    } else if (n < 4) {
        bad = "is shorter than its header";
    } else {
        trie = (uint32_t)blob[0] | (uint32_t)blob[1] << 8 | (uint32_t)blob[2] << 16 |
               (uint32_t)blob[3] << 24;
        if (trie % 4 != 0 || trie == 0 || trie > n - 4) bad = "has a trie size that does not fit";
    }
    if (!bad) {
        cm->n_units = trie / 4;
        cm->pool_len = n - 4 - trie;
        cm->units = malloc(cm->n_units * sizeof *cm->units);
        cm->pool = malloc(cm->pool_len + 1);
        if (!cm->units || !cm->pool) {
            free(blob);
            rb_charsmap_destroy(cm);
            rb_error_nomem(err, RB_STAGE_EMBED, "precompiled charsmap");
            return NULL;
        }
        for (size_t i = 0; i < cm->n_units; i++) {
            const unsigned char *u = blob + 4 + 4 * i;
            cm->units[i] = (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 |
                           (uint32_t)u[3] << 24;
        }
        memcpy(cm->pool, blob + 4 + trie, cm->pool_len);
        cm->pool[cm->pool_len] = '\0';
        if (rb_utf8_invalid_offset(cm->pool, cm->pool_len) != (size_t)-1)
            bad = "holds replacement text that is not UTF-8";
    }
    free(blob);
    if (bad) {
        rb_charsmap_destroy(cm);
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: precompiled_charsmap %s", source,
                     bad);
        return NULL;
    }
    return cm;
}

/* darts-clone unit fields. */
static bool unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static uint32_t unit_value(uint32_t u) { return u & 0x7FFFFFFFu; }
static uint32_t unit_label(uint32_t u) { return u & (0x80000000u | 0xFFu); }
static size_t unit_offset(uint32_t u) { return (size_t)(u >> 10) << ((u & (1u << 9)) >> 6); }

/* The pool offset of the shortest key that is a prefix of s[0..len), or -1. */
static long first_prefix(const rb_charsmap *cm, const unsigned char *s, size_t len) {
    size_t pos = unit_offset(cm->units[0]);
    for (size_t i = 0; i < len && s[i] != 0; i++) {
        pos ^= s[i];
        if (pos >= cm->n_units) return -1;
        uint32_t u = cm->units[pos];
        if (unit_label(u) != s[i]) return -1;
        pos ^= unit_offset(u);
        if (pos >= cm->n_units) return -1;
        if (unit_has_leaf(u)) {
            uint32_t v = unit_value(cm->units[pos]);
            return v < cm->pool_len ? (long)v : -1;
        }
    }
    return -1;
}

/* Appends the replacement string at pool offset `at`. */
static int push_replacement(const rb_charsmap *cm, long at, rb_cpbuf *out) {
    const char *s = cm->pool + at;
    size_t len = strlen(s);
    utf8proc_ssize_t i = 0;
    while ((size_t)i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k =
            utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)len - i, &cp);
        if (k <= 0) return 0; /* checked at load; cannot happen */
        if (rb_cpbuf_push(out, cp) < 0) return -1;
        i += k;
    }
    return 0;
}

int rb_charsmap_normalize(const rb_charsmap *cm, const int32_t *cps, size_t n, rb_cpbuf *out) {
    size_t g = 0;
    while (g < n) {
        /* One extended grapheme cluster: [g, e). */
        utf8proc_int32_t state = 0;
        size_t e = g + 1;
        while (e < n && !utf8proc_grapheme_break_stateful(cps[e - 1], cps[e], &state)) e++;
        unsigned char buf[8];
        size_t blen = 0;
        for (size_t i = g; i < e && blen < 6; i++) {
            unsigned char tmp[4];
            utf8proc_ssize_t k = utf8proc_encode_char(cps[i], tmp);
            if (blen + (size_t)k > sizeof buf) {
                blen = 6;
                break;
            }
            memcpy(buf + blen, tmp, (size_t)k);
            blen += (size_t)k;
        }
        if (blen < 6) {
            long at = first_prefix(cm, buf, blen);
            if (at >= 0) {
                if (push_replacement(cm, at, out) < 0) return -1;
                g = e;
                continue;
            }
        }
        for (size_t i = g; i < e; i++) {
            unsigned char one[4];
            utf8proc_ssize_t k = utf8proc_encode_char(cps[i], one);
            long at = first_prefix(cm, one, (size_t)k);
            if (at >= 0 ? push_replacement(cm, at, out) < 0 : rb_cpbuf_push(out, cps[i]) < 0)
                return -1;
        }
        g = e;
    }
    return 0;
}
