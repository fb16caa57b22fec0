/*
 * schema_decimal.h -- "multipleOf" on the decimal text of numbers.
 *
 * JSON numbers are decimal; doubles are not (0.1 has no exact double, so
 * 0.3 / 0.1 is not an integer in binary).  Both numbers are read from
 * their JSON source text as D * 10^e with D an integer of significant
 * digits, and divisibility is decided exactly: v = Dv*10^ev is a multiple
 * of m = Dm*10^em when Dm divides Dv*10^(ev-em).  The cost is linear in the
 * digits of v (a megabyte of mantissa is read once).
 *
 * The divisor's significant digits must fit 19 decimal digits (a uint64);
 * rb_schema_decimal_divisor_ok says so at compile time.
 */
#ifndef RB_SCHEMA_DECIMAL_H
#define RB_SCHEMA_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

/* 1 when the JSON number text `m` is a usable multipleOf (greater than 0,
 * at most 19 significant digits); 0 when it is zero or negative; -1 when
 * it has too many significant digits. */
int rb_schema_decimal_divisor_ok(const char *m, size_t m_len);

/* Whether JSON number text `v` is an integer multiple of `m` (checked by
 * rb_schema_decimal_divisor_ok). */
bool rb_schema_decimal_multiple(const char *v, size_t v_len, const char *m, size_t m_len);

#endif
