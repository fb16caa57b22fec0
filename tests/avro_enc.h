/*
 * avro_enc.h -- an Avro binary encoder for the tests, after the Avro
 * specification (zig-zag varints, length-prefixed bytes and strings,
 * little-endian IEEE floats), and the Confluent wire-format frame.
 */
#ifndef RB_TEST_AVRO_ENC_H
#define RB_TEST_AVRO_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct enc {
    unsigned char b[8192];
    size_t n;
} enc;

void e_raw(enc *e, const void *p, size_t n);
void e_long(enc *e, int64_t v); /* int and long, and counts and indexes */
void e_bytes(enc *e, const void *p, size_t n);
void e_str(enc *e, const char *s);
void e_bool(enc *e, bool v);
void e_double(enc *e, double d);
void e_float(enc *e, float f);

/* Magic byte 0, `id` big-endian, the body: into `out` (room `size`). */
size_t e_frame(unsigned id, const enc *body, char *out, size_t size);

/* One event of tests/data/avro/product.avsc: version 7, "updated", price
 * 89.0, with brand and category or with both null (which the product's
 * JSON Schema refuses). */
void e_product(enc *e, const char *id, bool with_optionals);

#endif
