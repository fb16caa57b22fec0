/*
 * properties.c -- java.util.Properties text, read as the JDK's
 * Properties.load(Reader) reads it (properties.h): a logical-line reader
 * and a key/value splitter with the same states as the JDK's, so that the
 * corner cases (a comment after a continued empty line, a backslash at the
 * end of the text, separators after white space) come out the same.
 */
#include "config/properties.h"

#include "common/buf.h"
#include "json/json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_white(char c) { return c == ' ' || c == '\t' || c == '\f'; }

typedef struct line_reader {
    const char *p, *end;
    int line; /* current physical line, 1-based */
    bool skip_lf;
    bool dangling; /* the text ended in a continuation with nothing after it */
} line_reader;

/* The next logical line into `out` (continuations joined, the final
 * backslash of each removed); 1 with a line, 0 at the end. *first_line is
 * where it began. */
static int read_line(line_reader *r, rb_buf *out, int *first_line) {
    rb_buf_reset(out);
    bool skip_white = true, appended = false, backslash = false;
    *first_line = r->line;
    while (r->p < r->end) {
        char c = *r->p++;
        if (r->skip_lf) {
            r->skip_lf = false;
            if (c == '\n') continue;
        }
        if (skip_white) {
            if (is_white(c)) continue;
            if (!appended && (c == '\r' || c == '\n')) {
                if (c == '\r' && r->p < r->end && *r->p == '\n') r->p++;
                r->line++;
                *first_line = r->line;
                continue;
            }
            skip_white = false;
            appended = false;
        }
        if (out->len == 0 && (c == '#' || c == '!')) {
            /* A comment: to the end of the physical line. */
            while (r->p < r->end && *r->p != '\n' && *r->p != '\r') r->p++;
            skip_white = true;
            continue;
        }
        if (c != '\n' && c != '\r') {
            if (rb_buf_putc(out, c) != 0) return -1;
            backslash = c == '\\' ? !backslash : false;
            continue;
        }
        /* End of a physical line. */
        if (c == '\r') r->skip_lf = true;
        r->line++;
        if (out->len == 0) {
            skip_white = true;
            *first_line = r->line;
            continue;
        }
        if (r->p >= r->end) {
            if (backslash) {
                out->len--;
                r->dangling = true;
            }
            return 1;
        }
        if (!backslash) return 1;
        out->len--; /* the continuation's backslash */
        skip_white = true;
        appended = true;
        backslash = false;
    }
    /* The text ended: a continuation still pending has nothing after it. */
    if (backslash || appended) r->dangling = true;
    if (out->len == 0 && !backslash) return 0;
    if (backslash) out->len--;
    return 1;
}

static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int lone_surrogate(rb_buf *b, const char *origin, int line, rb_error *err) {
    rb_buf_free(b);
    return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                        "%s:%d: a \\u escape of a lone UTF-16 surrogate", origin, line);
}

/* Decodes the escapes of s[0..n) into a new string (*out). */
static int convert(const char *s, size_t n, const char *origin, int line, char **out,
                   rb_error *err) {
    rb_buf b;
    rb_buf_init(&b);
    unsigned high = 0; /* a high surrogate waiting for its low one */
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0;) {
        char c = s[i++];
        unsigned unit = 0;
        bool is_unit = false;
        if (c == '\\' && i < n) {
            c = s[i++];
            if (c == 'u') {
                for (int k = 0; k < 4; k++) {
                    int h = i < n ? hex(s[i]) : -1;
                    if (h < 0) {
                        rb_buf_free(&b);
                        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                            "%s:%d: malformed \\uxxxx escape", origin, line);
                    }
                    unit = unit * 16 + (unsigned)h;
                    i++;
                }
                is_unit = true;
            } else {
                c = c == 't' ? '\t' : c == 'r' ? '\r' : c == 'n' ? '\n' : c == 'f' ? '\f' : c;
            }
        }
        bool is_high = is_unit && unit >= 0xD800 && unit <= 0xDBFF;
        bool is_low = is_unit && unit >= 0xDC00 && unit <= 0xDFFF;
        if (high) {
            if (!is_low) return lone_surrogate(&b, origin, line, err);
            rc = rb_buf_put_utf8(&b, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00));
            high = 0;
            continue;
        }
        if (is_high) {
            high = unit;
            continue;
        }
        if (is_low) return lone_surrogate(&b, origin, line, err);
        if (is_unit && unit == 0) {
            rb_buf_free(&b);
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s:%d: \\u0000 cannot be used (values are C strings)", origin,
                                line);
        }
        rc = is_unit ? rb_buf_put_utf8(&b, unit) : rb_buf_putc(&b, c);
    }
    if (rc == 0 && high) return lone_surrogate(&b, origin, line, err);
    if (rc != 0) {
        rb_buf_free(&b);
        return rb_error_nomem(err, RB_STAGE_CONFIG, "property");
    }
    *out = rb_buf_detach(&b);
    return *out ? 0 : rb_error_nomem(err, RB_STAGE_CONFIG, "property");
}

static int put_property(rb_properties *p, char *key, char *value, int line, rb_error *err) {
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].key, key) == 0) {
            free(key);
            free(p->items[i].value);
            p->items[i].value = value;
            p->items[i].line = line;
            return 0;
        }
    rb_property *grown = realloc(p->items, (p->count + 1) * sizeof *grown);
    if (!grown) {
        free(key);
        free(value);
        return rb_error_nomem(err, RB_STAGE_CONFIG, "properties");
    }
    p->items = grown;
    p->items[p->count++] = (rb_property){key, value, line};
    return 0;
}

int rb_properties_each(const char *text, size_t len, const char *origin, rb_properties_fn fn,
                       void *ctx, int *dangling_line, rb_error *err) {
    if (dangling_line) *dangling_line = 0;
    if (rb_utf8_invalid_offset(text, len) != (size_t)-1 || memchr(text, '\0', len))
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: not UTF-8 text (or holds a NUL byte)", origin);
    line_reader r = {text, text + len, 1, false, false};
    rb_buf line;
    rb_buf_init(&line);
    int first, got, rc = 0;
    while (rc == 0 && (got = read_line(&r, &line, &first)) == 1) {
        const char *s = line.data ? line.data : "";
        size_t limit = line.len, key_len = 0, value_start = limit;
        bool has_sep = false, backslash = false;
        for (; key_len < limit; key_len++) {
            char c = s[key_len];
            if ((c == '=' || c == ':') && !backslash) {
                value_start = key_len + 1;
                has_sep = true;
                break;
            }
            if (is_white(c) && !backslash) {
                value_start = key_len + 1;
                break;
            }
            backslash = c == '\\' ? !backslash : false;
        }
        for (; value_start < limit; value_start++) {
            char c = s[value_start];
            if (is_white(c)) continue;
            if (!has_sep && (c == '=' || c == ':')) {
                has_sep = true;
                continue;
            }
            break;
        }
        char *key = NULL, *value = NULL;
        if (convert(s, key_len, origin, first, &key, err) != 0 ||
            convert(s + value_start, limit - value_start, origin, first, &value, err) != 0)
            rc = -1;
        else
            rc = fn(key, value, first, ctx, err);
        free(key);
        free(value);
        if (rc == 0 && r.dangling && dangling_line) *dangling_line = first;
    }
    if (rc == 0 && got == 0 && r.dangling && dangling_line && !*dangling_line)
        *dangling_line = r.line;
    rb_buf_free(&line);
    if (rc == 0 && got < 0) rc = rb_error_nomem(err, RB_STAGE_CONFIG, "properties line");
    return rc;
}

static int collect(const char *key, const char *value, int line, void *ctx, rb_error *err) {
    rb_properties *p = ctx;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return rb_error_nomem(err, RB_STAGE_CONFIG, "properties");
    }
    return put_property(p, k, v, line, err);
}

int rb_properties_parse(const char *text, size_t len, const char *origin, rb_properties *out,
                        rb_error *err) {
    memset(out, 0, sizeof *out);
    if (rb_properties_each(text, len, origin, collect, out, NULL, err) != 0) {
        rb_properties_free(out);
        return -1;
    }
    return 0;
}

int rb_properties_load(const char *path, rb_properties *out, rb_error *err) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "cannot read %s: %s", path,
                            strerror(errno));
    rb_buf text;
    rb_buf_init(&text);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = rb_buf_append(&text, chunk, n);
    bool bad = ferror(f);
    fclose(f);
    if (rc != 0 || bad) {
        rb_buf_free(&text);
        return rc ? rb_error_nomem(err, RB_STAGE_CONFIG, path)
                  : rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "cannot read %s", path);
    }
    rc = rb_properties_parse(text.data ? text.data : "", text.len, path, out, err);
    rb_buf_free(&text);
    return rc;
}

const char *rb_properties_get(const rb_properties *p, const char *key) {
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].key, key) == 0) return p->items[i].value;
    return NULL;
}

void rb_properties_free(rb_properties *p) {
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].key);
        free(p->items[i].value);
    }
    free(p->items);
    p->items = NULL;
    p->count = 0;
}
