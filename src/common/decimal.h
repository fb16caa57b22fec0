/*
 * decimal.h -- an arbitrary-precision decimal given as its unscaled
 * integer (big-endian two's complement bytes, as Avro's decimal and
 * Connect's Decimal write it) and a scale, written as exact decimal text:
 * unscaled 1950 with scale 2 is "19.50", with scale -2 "195000".
 *
 * One writer serves Avro (avro/) and Connect's JSON envelope (decode/), so
 * that the two spell one value the same way.  No state; safe from any
 * thread.
 */
#ifndef RB_DECIMAL_H
#define RB_DECIMAL_H

#include "common/buf.h"

#include <stddef.h>

/* Appends the decimal number (`bytes`, `n` of them; none is zero) times
 * 10^-scale to `out`.  `bytes` is not changed.  Returns 0, or -1 when
 * memory runs out. */
int rb_decimal_write(rb_buf *out, const unsigned char *bytes, size_t n, long scale);

#endif
