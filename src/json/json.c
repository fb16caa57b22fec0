/*
 * json.c -- JSON documents: tokens (json_tokens.c), checked against the
 * RFC 8259 grammar, turned into one block of rb_json nodes.
 *
 * The tokenizer finds token boundaries, enforces the depth limit as it
 * reads and rejects what cannot start a token where it stands, but accepts
 * much that is not JSON: missing or trailing commas, missing colons,
 * several top-level values, loose numbers, raw control characters in
 * strings.  So the tokens are walked twice:
 *   pass 1 (check) walks the source text alongside the tokens and checks
 *          every byte between them against the grammar, checks literals,
 *          numbers and strings, and counts the nodes, members and string
 *          bytes the tree needs;
 *   pass 2 (fill)  allocates one block of exactly that size and fills it,
 *          decoding strings and rejecting duplicate keys.
 * Errors carry the line and column (in characters) of the problem.
 */
#include "json/json.h"

#include "common/buf.h"
#include "json/json_tokens.h"

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parser recurses once per nesting level; this bounds the stack it
 * uses whatever max_depth a caller asks for. */
#define JSON_DEPTH_CAP 4096
#define JSON_DEFAULT_DEPTH 64
/* Objects with more members than this are checked for duplicate keys by
 * sorting instead of comparing every pair. */
#define JSON_DUP_PAIRWISE_MAX 16

struct rb_json_doc {
    rb_json *root;
    /* nodes, members, the source copy and the decoded strings follow in
     * the same allocation */
};

typedef struct json_parser {
    const char *src; /* source, followed by '\n' and NUL */
    size_t len;      /* length of the caller's text */
    json_tok *tok;
    int ntok;
    size_t max_depth;
    rb_error *err;
    rb_stage stage;
    /* pass 1 counts */
    size_t n_nodes, n_members, str_bytes;
    /* pass 2 cursors */
    rb_json *nodes;
    size_t node_next;
    rb_json_member *members;
    size_t member_next;
    char *strs;
    size_t str_next;
    const char *copy; /* the source copy inside the doc block */
    size_t line_off;  /* line counting cursor: offset and its line */
    int line;
} json_parser;

/* ---------------------------------------------------------------- UTF-8 */

/* Length of the valid UTF-8 sequence at s[0..avail), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        if (avail < 2 || (s[1] & 0xC0) != 0x80) return 0;
        return 2;
    }
    if (c < 0xF0) {
        if (avail < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0; /* UTF-16 surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (avail < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;  /* overlong */
        if (c == 0xF4 && s[1] >= 0x90) return 0; /* above U+10FFFF */
        return 4;
    }
    return 0;
}

size_t rb_utf8_invalid_offset(const char *s, size_t len) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq_len(u + i, len - i);
        if (n == 0) return i;
        i += n;
    }
    return (size_t)-1;
}

/* ---------------------------------------------------------------- errors */

/* Line and column (1-based; the column counts characters, not bytes) of
 * byte offset `off`. */
static void json_line_col(const char *src, size_t off, int *line, int *col) {
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        unsigned char ch = (unsigned char)src[i];
        if (ch == '\n') {
            l++;
            c = 1;
        } else if ((ch & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static int json_fail(json_parser *p, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int json_fail(json_parser *p, size_t off, const char *fmt, ...) {
    char what[RB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (off > p->len) off = p->len;
    int line, col;
    json_line_col(p->src, off, &line, &col);
    return rb_error_set(p->err, RB_ERR_JSON, p->stage, "line %d, column %d: %s", line, col, what);
}

/* A short printable description of the byte at `off`, for messages. */
static void json_describe(const json_parser *p, size_t off, char *out, size_t size) {
    if (off >= p->len) {
        snprintf(out, size, "end of input");
        return;
    }
    unsigned char c = (unsigned char)p->src[off];
    if (c >= 0x21 && c < 0x7F)
        snprintf(out, size, "'%c'", c);
    else
        snprintf(out, size, "byte 0x%02x", c);
}

/* ---------------------------------------------------------------- scalars */

static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* With out == NULL only measures (json_string's checking pass). */
static size_t utf8_put(char *out, unsigned cp) {
    char u[4];
    size_t n = rb_utf8_encode(cp, u);
    if (out) memcpy(out, u, n);
    return n;
}

/* Checks and decodes the string body src[start..end).  With out == NULL
 * only checks and measures.  *out_len receives the decoded length. */
static int json_string(json_parser *p, size_t start, size_t end, char *out, size_t *out_len) {
    const char *s = p->src;
    size_t n = 0;
    size_t i = start;
    while (i < end) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20)
            return json_fail(p, i, "control character 0x%02x in string (write it as \\u%04x)", c,
                             c);
        if (c != '\\') {
            if (out) out[n] = (char)c;
            n++;
            i++;
            continue;
        }
        if (i + 1 >= end) return json_fail(p, i, "incomplete escape at end of string");
        char e = s[i + 1];
        char plain = 0;
        switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': break;
        default: {
            char d[16];
            json_describe(p, i + 1, d, sizeof d);
            return json_fail(p, i, "invalid escape '\\' followed by %s", d);
        }
        }
        if (plain) {
            if (out) out[n] = plain;
            n++;
            i += 2;
            continue;
        }
        unsigned cp;
        if (i + 6 > end || hex4(s + i + 2, &cp) != 0)
            return json_fail(p, i, "\\u must be followed by four hex digits");
        size_t esc_at = i;
        i += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return json_fail(p, esc_at, "lone low surrogate \\u%04X", cp);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (i + 6 > end || s[i] != '\\' || s[i + 1] != 'u' || hex4(s + i + 2, &lo) != 0 ||
                lo < 0xDC00 || lo > 0xDFFF)
                return json_fail(p, esc_at,
                                 "high surrogate \\u%04X is not followed by a low surrogate", cp);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        }
        if (cp == 0)
            return json_fail(p, esc_at,
                             "\\u0000 is not allowed in strings (it would truncate "
                             "the value downstream)");
        n += utf8_put(out ? out + n : NULL, cp);
    }
    if (out) out[n] = '\0';
    *out_len = n;
    return 0;
}

/* RFC 8259 number grammar:
 *   -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
 * Returns 0 and sets *plain (no fraction, no exponent), or -1 with the
 * offset (relative to s) of the first offending byte in *bad. */
static int json_number_grammar(const char *s, size_t n, bool *plain, size_t *bad) {
    size_t i = 0;
    *plain = true;
    if (i < n && s[i] == '-') i++;
    if (i >= n) goto fail;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    } else {
        goto fail;
    }
    if (i < n && s[i] == '.') {
        *plain = false;
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9') goto fail;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *plain = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= n || s[i] < '0' || s[i] > '9') goto fail;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i == n) return 0;
fail:
    *bad = i;
    return -1;
}

/* Exact int64 value of a plain (integer-grammar) number, or -1 if it
 * does not fit. */
static int json_int64(const char *s, size_t n, int64_t *out) {
    bool neg = s[0] == '-';
    size_t i = neg ? 1 : 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (limit - d) / 10) return -1;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    else
        *out = (int64_t)v;
    return 0;
}

static int json_check_primitive(json_parser *p, const json_tok *t) {
    const char *s = p->src + t->start;
    size_t n = (size_t)(t->end - t->start);
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0) ||
        (n == 4 && memcmp(s, "null", 4) == 0))
        return 0;
    if (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
        bool plain;
        size_t bad;
        if (json_number_grammar(s, n, &plain, &bad) != 0)
            return json_fail(p, (size_t)t->start + bad, "malformed number '%.*s'",
                             (int)(n > 40 ? 40 : n), s);
        /* The text is followed by a delimiter, so strtod stops at the
         * number's end; the grammar was checked above.  Underflow to zero
         * is accepted, overflow to infinity is not. */
        (void)plain;
        errno = 0;
        double d = strtod(s, NULL);
        if (errno == ERANGE && (d > 1.0 || d < -1.0))
            return json_fail(p, (size_t)t->start, "number '%.*s' is out of range",
                             (int)(n > 40 ? 40 : n), s);
        return 0;
    }
    return json_fail(p, (size_t)t->start,
                     "invalid literal '%.*s' (expected true, false, null "
                     "or a number)",
                     (int)(n > 40 ? 40 : n), s);
}

/* ---------------------------------------------------------------- pass 1 */

static void json_skip_ws(const json_parser *p, size_t *pos) {
    while (*pos < p->len) {
        char c = p->src[*pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        (*pos)++;
    }
}

static int json_unexpected(json_parser *p, size_t pos, const char *expected) {
    char d[32];
    json_describe(p, pos, d, sizeof d);
    return json_fail(p, pos, "expected %s, found %s", expected, d);
}

static int json_check_value(json_parser *p, size_t *pos, int *ti, size_t depth);

static int json_check_string_tok(json_parser *p, size_t *pos, int *ti) {
    const json_tok *t = &p->tok[*ti];
    size_t dlen;
    if (json_string(p, (size_t)t->start, (size_t)t->end, NULL, &dlen) != 0) return -1;
    p->str_bytes += dlen + 1;
    (*ti)++;
    *pos = (size_t)t->end + 1; /* past the closing quote */
    return 0;
}

static bool json_tok_at(const json_parser *p, int ti, json_tok_type type, size_t start) {
    return ti < p->ntok && p->tok[ti].type == type && (size_t)p->tok[ti].start == start;
}

static int json_check_container(json_parser *p, size_t *pos, int *ti, size_t depth, bool obj) {
    const json_tok *t = &p->tok[*ti];
    char close = obj ? '}' : ']';
    if (depth + 1 > p->max_depth)
        return json_fail(p, *pos, "nesting deeper than %zu levels", p->max_depth);
    p->n_nodes++;
    (*ti)++;
    (*pos)++;
    int count = 0;
    json_skip_ws(p, pos);
    if (*pos < p->len && p->src[*pos] == close) {
        (*pos)++;
    } else {
        for (;;) {
            if (obj) {
                json_skip_ws(p, pos);
                if (*pos >= p->len || p->src[*pos] != '"' ||
                    !json_tok_at(p, *ti, JSON_TOK_STRING, *pos + 1))
                    return json_unexpected(p, *pos, "a string as object key");
                p->n_members++;
                if (json_check_string_tok(p, pos, ti) != 0) return -1;
                json_skip_ws(p, pos);
                if (*pos >= p->len || p->src[*pos] != ':')
                    return json_unexpected(p, *pos, "':' after object key");
                (*pos)++;
            }
            if (json_check_value(p, pos, ti, depth + 1) != 0) return -1;
            count++;
            json_skip_ws(p, pos);
            if (*pos < p->len && p->src[*pos] == ',') {
                size_t comma = *pos;
                (*pos)++;
                json_skip_ws(p, pos);
                if (*pos < p->len && p->src[*pos] == close)
                    return json_fail(p, comma, "trailing comma before '%c'", close);
                continue;
            }
            if (*pos < p->len && p->src[*pos] == close) {
                (*pos)++;
                break;
            }
            return json_unexpected(p, *pos,
                                   obj ? "',' or '}' after object member"
                                       : "',' or ']' after array item");
        }
    }
    /* The tokenizer's view must agree with the grammar walk; pass 2 relies
     * on it. */
    if (count != t->size || (size_t)t->end != *pos)
        return json_fail(p, (size_t)t->start, "malformed %s", obj ? "object" : "array");
    return 0;
}

static int json_check_value(json_parser *p, size_t *pos, int *ti, size_t depth) {
    json_skip_ws(p, pos);
    if (*pos >= p->len) return json_unexpected(p, *pos, "a value");
    char c = p->src[*pos];
    if (c == '{' && json_tok_at(p, *ti, JSON_TOK_OBJECT, *pos))
        return json_check_container(p, pos, ti, depth, true);
    if (c == '[' && json_tok_at(p, *ti, JSON_TOK_ARRAY, *pos))
        return json_check_container(p, pos, ti, depth, false);
    if (c == '"' && json_tok_at(p, *ti, JSON_TOK_STRING, *pos + 1)) {
        p->n_nodes++;
        return json_check_string_tok(p, pos, ti);
    }
    if (json_tok_at(p, *ti, JSON_TOK_PRIMITIVE, *pos)) {
        if (json_check_primitive(p, &p->tok[*ti]) != 0) return -1;
        p->n_nodes++;
        *pos = (size_t)p->tok[*ti].end;
        (*ti)++;
        return 0;
    }
    return json_unexpected(p, *pos, "a value");
}

/* ---------------------------------------------------------------- pass 2 */

static int json_node_line(json_parser *p, size_t off) {
    for (; p->line_off < off; p->line_off++)
        if (p->copy[p->line_off] == '\n') p->line++;
    return p->line;
}

static char *json_take_string(json_parser *p, const json_tok *t, size_t *len) {
    char *dst = p->strs + p->str_next;
    /* Cannot fail: pass 1 checked the same bytes. */
    json_string(p, (size_t)t->start, (size_t)t->end, dst, len);
    p->str_next += *len + 1;
    return dst;
}

typedef struct json_key_ref {
    const char *key;
    size_t len;
    size_t index;
    size_t off;
} json_key_ref;

static int json_key_cmp(const void *a, const void *b) {
    const json_key_ref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index);
}

static int json_dup_error(json_parser *p, const rb_json_member *m, size_t off) {
    return json_fail(p, off, "duplicate key \"%.*s\" in object",
                     (int)(m->key_len > 60 ? 60 : m->key_len), m->key);
}

static int json_fill(json_parser *p, int *ti, rb_json *node) {
    const json_tok *t = &p->tok[*ti];
    memset(node, 0, sizeof *node);
    size_t start = (size_t)t->start;
    if (t->type == JSON_TOK_STRING) start--;
    node->line = json_node_line(p, start);
    node->raw = p->copy + start;
    node->raw_len = (size_t)t->end - start + (t->type == JSON_TOK_STRING ? 1 : 0);
    switch (t->type) {
    case JSON_TOK_STRING:
        node->type = RB_JSON_STRING;
        node->str = json_take_string(p, t, &node->str_len);
        (*ti)++;
        return 0;
    case JSON_TOK_PRIMITIVE: {
        const char *s = p->copy + t->start;
        size_t n = (size_t)(t->end - t->start);
        (*ti)++;
        if (s[0] == 't' || s[0] == 'f') {
            node->type = RB_JSON_BOOL;
            node->boolean = s[0] == 't';
        } else if (s[0] == 'n') {
            node->type = RB_JSON_NULL;
        } else {
            node->type = RB_JSON_NUMBER;
            node->number = strtod(s, NULL);
            bool plain;
            size_t bad;
            json_number_grammar(s, n, &plain, &bad);
            if (plain && json_int64(s, n, &node->integer) == 0) node->is_integer = true;
        }
        return 0;
    }
    case JSON_TOK_ARRAY: {
        size_t n = (size_t)t->size;
        node->type = RB_JSON_ARRAY;
        node->count = n;
        node->items = n ? p->nodes + p->node_next : NULL;
        p->node_next += n;
        (*ti)++;
        for (size_t i = 0; i < n; i++)
            if (json_fill(p, ti, &node->items[i]) != 0) return -1;
        return 0;
    }
    case JSON_TOK_OBJECT: {
        size_t n = (size_t)t->size;
        node->type = RB_JSON_OBJECT;
        node->count = n;
        node->members = n ? p->members + p->member_next : NULL;
        p->member_next += n;
        (*ti)++;
        json_key_ref *refs = NULL;
        if (n > JSON_DUP_PAIRWISE_MAX) {
            refs = malloc(n * sizeof *refs);
            if (!refs) return rb_error_nomem(p->err, p->stage, "JSON key index");
        }
        for (size_t i = 0; i < n; i++) {
            rb_json_member *m = &node->members[i];
            const json_tok *kt = &p->tok[*ti];
            size_t key_off = (size_t)kt->start - 1;
            m->key = json_take_string(p, kt, &m->key_len);
            (*ti)++;
            if (refs) {
                refs[i] = (json_key_ref){m->key, m->key_len, i, key_off};
            } else {
                for (size_t j = 0; j < i; j++)
                    if (node->members[j].key_len == m->key_len &&
                        memcmp(node->members[j].key, m->key, m->key_len) == 0)
                        return json_dup_error(p, m, key_off);
            }
            m->value = p->nodes + p->node_next++;
            if (json_fill(p, ti, m->value) != 0) {
                free(refs);
                return -1;
            }
        }
        if (refs) {
            qsort(refs, n, sizeof *refs, json_key_cmp);
            /* Report the duplicate that comes first in the document. */
            const json_key_ref *first = NULL;
            for (size_t i = 1; i < n; i++)
                if (refs[i].len == refs[i - 1].len &&
                    memcmp(refs[i].key, refs[i - 1].key, refs[i].len) == 0 &&
                    (!first || refs[i].index < first->index))
                    first = &refs[i];
            if (first) {
                int rc = json_dup_error(p, &node->members[first->index], first->off);
                free(refs);
                return rc;
            }
            free(refs);
        }
        return 0;
    }
    default: break;
    }
    return rb_error_set(p->err, RB_ERR_INTERNAL, p->stage, "unexpected token type %d",
                        (int)t->type);
}

/* ---------------------------------------------------------------- sizing */

/* Characters that can continue a primitive (number or literal). */
static bool json_primitive_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '-' || c == '+' || c == '.';
}

/* The number of tokens the text holds (exact for JSON, an estimate for
 * anything else), so that the token array is allocated once: one cheap
 * pass instead of doubling the array a dozen times for a megabyte of small
 * tokens.  Strings are skipped with their escapes. */
static size_t json_count_tokens(const json_parser *p) {
    const unsigned char *s = (const unsigned char *)p->src;
    size_t count = 0;
    for (size_t i = 0; i < p->len; i++) {
        unsigned char c = s[i];
        if (c == '"') {
            count++;
            /* To the closing quote; a backslash takes the byte after it. */
            size_t j = i + 1;
            for (;;) {
                j += strcspn((const char *)s + j, "\"\\");
                if (j >= p->len || s[j] == '"') break;
                j += 2;
            }
            i = j;
        } else if (c == '[' || c == '{') {
            count++;
        } else if (json_primitive_char(c)) {
            count++;
            while (i + 1 < p->len && json_primitive_char(s[i + 1])) i++;
        }
    }
    return count;
}

/* ---------------------------------------------------------------- tokenize */

/* Turns a tokenizer failure into a message at the place it happened. */
static int json_token_error(json_parser *p, json_tok_status st, size_t pos, size_t max_tokens) {
    switch (st) {
    case JSON_TOK_INVALID:
        if (pos < p->len && p->src[pos] == '"') {
            /* A string was rejected (bad escape): find the exact spot. */
            size_t end = pos + 1;
            while (end < p->len && p->src[end] != '"') end += p->src[end] == '\\' ? 2 : 1;
            if (end > p->len) end = p->len;
            size_t dlen;
            if (json_string(p, pos + 1, end, NULL, &dlen) != 0) return -1;
        }
        {
            char d[32];
            json_describe(p, pos, d, sizeof d);
            return json_fail(p, pos, "unexpected %s", d);
        }
    case JSON_TOK_PARTIAL:
        if (pos < p->len && p->src[pos] == '"') return json_fail(p, pos, "unterminated string");
        /* An unclosed container: name the innermost one. */
        for (int i = p->ntok - 1; i >= 0; i--)
            if (p->tok[i].end == -1 &&
                (p->tok[i].type == JSON_TOK_OBJECT || p->tok[i].type == JSON_TOK_ARRAY)) {
                int line, col;
                json_line_col(p->src, (size_t)p->tok[i].start, &line, &col);
                return json_fail(p, p->len,
                                 "unexpected end of input: '%c' opened at line %d, "
                                 "column %d is not closed",
                                 p->tok[i].type == JSON_TOK_OBJECT ? '{' : '[', line, col);
            }
        return json_fail(p, p->len, "unexpected end of input");
    case JSON_TOK_DEEP: return json_fail(p, pos, "nesting deeper than %zu levels", p->max_depth);
    case JSON_TOK_TOO_MANY: return json_fail(p, pos, "more than %zu JSON tokens", max_tokens);
    case JSON_TOK_NOMEM: return rb_error_nomem(p->err, p->stage, "JSON tokens");
    case JSON_TOK_DONE: break;
    }
    return 0;
}

static int json_tokenize(json_parser *p, size_t max_tokens) {
    json_tokens t;
    /* The text ends in the '\n' appended to the scratch copy, so that a
     * top-level number has a delimiter. */
    json_tok_status st =
        json_tokenize_text(p->src, p->len + 1, p->max_depth, max_tokens, json_count_tokens(p), &t);
    p->tok = t.tok;
    p->ntok = t.count;
    return st == JSON_TOK_DONE ? 0 : json_token_error(p, st, t.pos, max_tokens);
}

/* ---------------------------------------------------------------- API */

static size_t json_align(size_t n) {
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

static int json_parse_stage(const char *buf, size_t len, const rb_json_limits *limits,
                            rb_json_doc **out, rb_stage stage, rb_error *err) {
    *out = NULL;
    json_parser p;
    memset(&p, 0, sizeof p);
    p.err = err;
    p.stage = stage;
    p.len = len;
    p.max_depth = limits && limits->max_depth ? limits->max_depth : JSON_DEFAULT_DEPTH;
    if (p.max_depth > JSON_DEPTH_CAP) p.max_depth = JSON_DEPTH_CAP;
    if (len > (size_t)INT_MAX - 2)
        return rb_error_set(err, RB_ERR_JSON, stage, "JSON text of %zu bytes is too large", len);

    /* The tokenizer needs a delimiter after a top-level number; a scratch
     * copy with '\n' appended gives it one.  The same copy lets messages
     * find lines. */
    char *scratch = malloc(len + 2);
    if (!scratch) return rb_error_nomem(err, stage, "JSON text");
    if (len) memcpy(scratch, buf, len);
    scratch[len] = '\n';
    scratch[len + 1] = '\0';
    p.src = scratch;

    int rc = -1;
    const char *nul = len ? memchr(buf, '\0', len) : NULL;
    size_t bad = rb_utf8_invalid_offset(buf, len);
    if (nul) {
        json_fail(&p, (size_t)(nul - buf), "NUL byte in JSON text");
        goto done;
    }
    if (bad != (size_t)-1) {
        json_fail(&p, bad, "invalid UTF-8 (byte 0x%02x)", (unsigned char)buf[bad]);
        goto done;
    }
    if (json_tokenize(&p, limits ? limits->max_tokens : 0) != 0) goto done;

    size_t pos = 0;
    int ti = 0;
    if (json_check_value(&p, &pos, &ti, 0) != 0) goto done;
    json_skip_ws(&p, &pos);
    if (pos < len || ti != p.ntok) {
        json_fail(&p, pos, "unexpected data after the JSON value");
        goto done;
    }

    size_t off_nodes = json_align(sizeof(rb_json_doc));
    size_t off_members = off_nodes + json_align(p.n_nodes * sizeof(rb_json));
    size_t off_copy = off_members + json_align(p.n_members * sizeof(rb_json_member));
    size_t off_strs = off_copy + len + 2;
    size_t total = off_strs + p.str_bytes;
    char *block = malloc(total);
    if (!block) {
        rb_error_nomem(err, stage, "JSON document");
        goto done;
    }
    rb_json_doc *doc = (rb_json_doc *)block;
    p.nodes = (rb_json *)(block + off_nodes);
    p.members = (rb_json_member *)(block + off_members);
    p.strs = block + off_strs;
    memcpy(block + off_copy, scratch, len + 2);
    p.copy = block + off_copy;
    p.line = 1;
    doc->root = p.nodes;
    p.node_next = 1;
    ti = 0;
    if (json_fill(&p, &ti, doc->root) != 0) {
        free(block);
        goto done;
    }
    *out = doc;
    rc = 0;
done:
    free(p.tok);
    free(scratch);
    return rc;
}

int rb_json_parse(const char *buf, size_t len, const rb_json_limits *limits, rb_json_doc **out,
                  rb_error *err) {
    return json_parse_stage(buf, len, limits, out, RB_STAGE_DESERIALIZE, err);
}

int rb_json_parse_file(const char *path, const rb_json_limits *limits, rb_json_doc **out,
                       rb_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return rb_error_set(err, RB_ERR_IO, RB_STAGE_CONFIG, "cannot open %s: %s", path,
                            strerror(errno));
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *grown = realloc(data, ncap);
            if (!grown) {
                free(data);
                fclose(f);
                return rb_error_nomem(err, RB_STAGE_CONFIG, path);
            }
            data = grown;
            cap = ncap;
        }
        size_t got = fread(data + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        free(data);
        return rb_error_set(err, RB_ERR_IO, RB_STAGE_CONFIG, "cannot read %s: %s", path,
                            strerror(saved));
    }
    int rc = json_parse_stage(data, len, limits, out, RB_STAGE_CONFIG, err);
    free(data);
    if (rc != 0) rb_error_prefix(err, "%s", path);
    return rc;
}

const rb_json *rb_json_doc_root(const rb_json_doc *doc) { return doc ? doc->root : NULL; }

void rb_json_doc_destroy(rb_json_doc *doc) { free(doc); }

const rb_json *rb_json_get(const rb_json *obj, const char *key) {
    if (!obj || obj->type != RB_JSON_OBJECT || !key) return NULL;
    size_t n = strlen(key);
    for (size_t i = 0; i < obj->count; i++)
        if (obj->members[i].key_len == n && memcmp(obj->members[i].key, key, n) == 0)
            return obj->members[i].value;
    return NULL;
}

const rb_json *rb_json_get_path(const rb_json *obj, const char *dotted) {
    if (!dotted) return NULL;
    const rb_json *cur = obj;
    const char *s = dotted;
    for (;;) {
        if (!cur || cur->type != RB_JSON_OBJECT) return NULL;
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        const rb_json *next = NULL;
        for (size_t i = 0; i < cur->count; i++)
            if (cur->members[i].key_len == n && memcmp(cur->members[i].key, s, n) == 0) {
                next = cur->members[i].value;
                break;
            }
        cur = next;
        if (!dot) return cur;
        s = dot + 1;
    }
}

const char *rb_json_string(const rb_json *v) {
    return v && v->type == RB_JSON_STRING ? v->str : NULL;
}

const char *rb_json_type_name(rb_json_type type) {
    switch (type) {
    case RB_JSON_NULL: return "null";
    case RB_JSON_BOOL: return "boolean";
    case RB_JSON_NUMBER: return "number";
    case RB_JSON_STRING: return "string";
    case RB_JSON_ARRAY: return "array";
    case RB_JSON_OBJECT: return "object";
    }
    return "unknown";
}
