/* avro_enc.c -- see avro_enc.h. */
#include "avro_enc.h"

#include <check.h>
#include <string.h>

void e_raw(enc *e, const void *p, size_t n) {
    ck_assert_uint_le(e->n + n, sizeof e->b);
    memcpy(e->b + e->n, p, n);
    e->n += n;
}

void e_long(enc *e, int64_t v) {
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        unsigned char c = (unsigned char)(z | 0x80);
        e_raw(e, &c, 1);
        z >>= 7;
    }
    unsigned char c = (unsigned char)z;
    e_raw(e, &c, 1);
}

void e_bytes(enc *e, const void *p, size_t n) {
    e_long(e, (int64_t)n);
    e_raw(e, p, n);
}

void e_str(enc *e, const char *s) { e_bytes(e, s, strlen(s)); }

void e_bool(enc *e, bool v) {
    unsigned char c = v;
    e_raw(e, &c, 1);
}

void e_double(enc *e, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(u >> (8 * i));
    e_raw(e, b, 8);
}

void e_float(enc *e, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    unsigned char b[4];
    for (int i = 0; i < 4; i++) b[i] = (unsigned char)(u >> (8 * i));
    e_raw(e, b, 4);
}

size_t e_frame(unsigned id, const enc *body, char *out, size_t size) {
    ck_assert_uint_le(body->n + 5, size);
    out[0] = 0;
    for (int i = 0; i < 4; i++) out[1 + i] = (char)(id >> (24 - 8 * i) & 0xff);
    memcpy(out + 5, body->b, body->n);
    return body->n + 5;
}

void e_product(enc *e, const char *id, bool with_optionals) {
    e_str(e, id);
    e_long(e, 1); /* event_type: index 1, "updated" */
    e_long(e, 1796121005250);
    e_long(e, 7);
    e_str(e, "Trail \"Lamp\" \xc3\xa9");
    e_long(e, 1), e_str(e, "Bright.");
    if (with_optionals)
        e_long(e, 1), e_str(e, "Kestrel"), e_long(e, 1), e_str(e, "kitchen");
    else
        e_long(e, 0), e_long(e, 0); /* brand, category: null */
    e_double(e, 89.0);
    e_str(e, "EUR");
    e_long(e, 2), e_str(e, "a"), e_str(e, "b"), e_long(e, 0);
    e_bool(e, true);
    e_long(e, -1); /* a negative block count: one entry, its byte size follows */
    enc entry = {.n = 0};
    e_str(&entry, "color"), e_str(&entry, "red");
    e_long(e, (int64_t)entry.n);
    e_raw(e, entry.b, entry.n);
    e_long(e, 0);
}
