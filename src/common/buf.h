/*
 * buf.h -- a growable byte buffer, always NUL-terminated.
 *
 * Used wherever text is assembled (rendered documents, progress lines, JSON
 * output).  An rb_buf is embedded by value: rb_buf_init() / rb_buf_free().
 * Appending functions return 0, or -1 when memory runs out (the buffer then
 * keeps what it had).  `data` stays valid until the next append or free.
 */
#ifndef RB_BUF_H
#define RB_BUF_H

#include <stddef.h>

typedef struct rb_buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
} rb_buf;

void rb_buf_init(rb_buf *b);
void rb_buf_free(rb_buf *b);
void rb_buf_reset(rb_buf *b); /* len = 0, keeps the allocation */
int rb_buf_reserve(rb_buf *b, size_t extra);
int rb_buf_append(rb_buf *b, const char *data, size_t len);
int rb_buf_puts(rb_buf *b, const char *s);
int rb_buf_putc(rb_buf *b, char c);

/* The UTF-8 encoding of code point `cp` (at most 0x10FFFF and not a
 * surrogate: the caller has checked) into `out`; returns its length, 1 to
 * 4.  The project's one encoder (JSON and job-file \u escapes). */
size_t rb_utf8_encode(unsigned cp, char out[4]);
/* Appends the UTF-8 encoding of `cp`, as rb_utf8_encode. */
int rb_buf_put_utf8(rb_buf *b, unsigned cp);
int rb_buf_printf(rb_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends `s` as a JSON string literal, quotes included, escaping as RFC 8259
 * asks.  Bytes that are not part of valid UTF-8 are written as the four
 * characters \xHH (the JSON text "\\xHH"), so the result is always valid
 * UTF-8 and the bytes can still be read. */
int rb_buf_json_string(rb_buf *b, const char *s, size_t len);
/* As rb_buf_json_string, but bytes from 0x80 up are copied as they are,
 * valid UTF-8 or not: only for a writer that must reproduce damaged text
 * (the generator's malformed events). */
int rb_buf_json_bytes(rb_buf *b, const char *s, size_t len);
/* Returns the data (never NULL: "" for an empty buffer) and leaves `b` empty;
 * the caller frees the result. */
char *rb_buf_detach(rb_buf *b);

#endif
