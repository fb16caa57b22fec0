#include "common/buf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rb_buf_init(rb_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void rb_buf_free(rb_buf *b) {
    free(b->data);
    rb_buf_init(b);
}

void rb_buf_reset(rb_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

int rb_buf_reserve(rb_buf *b, size_t extra) {
    if (extra > (size_t)-1 - b->len - 1) return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int rb_buf_append(rb_buf *b, const char *data, size_t len) {
    if (rb_buf_reserve(b, len) != 0) return -1;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int rb_buf_puts(rb_buf *b, const char *s) { return rb_buf_append(b, s, strlen(s)); }

int rb_buf_putc(rb_buf *b, char c) { return rb_buf_append(b, &c, 1); }

size_t rb_utf8_encode(unsigned cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

int rb_buf_put_utf8(rb_buf *b, unsigned cp) {
    char u[4];
    return rb_buf_append(b, u, rb_utf8_encode(cp, u));
}

int rb_buf_printf(rb_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || rb_buf_reserve(b, (size_t)n) != 0) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* Length of the valid UTF-8 sequence that starts at s[0..avail), or 0 when
 * it is not one (overlong forms, surrogates and code points past U+10FFFF
 * included). */
static size_t utf8_valid_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    size_t n = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
    if (n == 0 || n > avail) return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] >= 0x90))
        return 0;
    return n;
}

static int json_string(rb_buf *b, const char *s, size_t len, bool raw_high) {
    static const char hex[] = "0123456789abcdef";
    if (rb_buf_putc(b, '"') != 0) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 && raw_high) {
            if (rb_buf_putc(b, (char)c) != 0) return -1;
            continue;
        }
        if (c >= 0x80) {
            size_t n = utf8_valid_len((const unsigned char *)s + i, len - i);
            if (n > 0) {
                if (rb_buf_append(b, s + i, n) != 0) return -1;
                i += n - 1;
                continue;
            }
            /* A JSON string holds text, not bytes: the byte is written as
             * the four characters \xHH (as Python's backslashreplace does),
             * so the line stays valid UTF-8 and the byte stays readable. */
            char x[6] = {'\\', '\\', 'x', hex[c >> 4], hex[c & 15], '\0'};
            if (rb_buf_append(b, x, 5) != 0) return -1;
            continue;
        }
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default: break;
        }
        if (esc) {
            if (rb_buf_puts(b, esc) != 0) return -1;
        } else if (c < 0x20) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            if (rb_buf_append(b, u, sizeof u) != 0) return -1;
        } else if (rb_buf_putc(b, (char)c) != 0) {
            return -1;
        }
    }
    return rb_buf_putc(b, '"');
}

int rb_buf_json_string(rb_buf *b, const char *s, size_t len) {
    return json_string(b, s, len, false);
}

int rb_buf_json_bytes(rb_buf *b, const char *s, size_t len) {
    return json_string(b, s, len, true);
}

char *rb_buf_detach(rb_buf *b) {
    char *p = b->data;
    if (!p) p = calloc(1, 1);
    rb_buf_init(b);
    return p;
}
