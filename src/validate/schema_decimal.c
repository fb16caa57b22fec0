/*
 * schema_decimal.c -- exact multipleOf (schema_decimal.h).
 */
#include "validate/schema_decimal.h"

#include <stdint.h>

/* A number text split as digits * 10^exp: `digits` points at the first
 * significant digit (leading zeros, the sign and the decimal point are
 * skipped while reading), `n_digits` counts the digits up to the last
 * non-zero one, and trailing zeros are folded into `exp`.  Zero has
 * n_digits 0.  Fraction digits lower `exp`. */
typedef struct decimal {
    const char *text;
    size_t len;
    size_t first;    /* index of the first significant digit in text */
    size_t n_digits; /* significant digits, trailing zeros excluded */
    int64_t exp;
} decimal;

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Saturates, so that an absurd exponent cannot overflow. */
static int64_t sat_add(int64_t a, int64_t b) {
    if (b > 0 && a > INT64_MAX / 2 - b) return INT64_MAX / 2;
    if (b < 0 && a < INT64_MIN / 2 - b) return INT64_MIN / 2;
    return a + b;
}

static void decimal_read(const char *s, size_t len, decimal *d) {
    d->text = s;
    d->len = len;
    size_t i = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) i++;
    size_t int_start = i;
    while (i < len && is_digit(s[i])) i++;
    size_t int_end = i, frac_start = i, frac_end = i;
    if (i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && is_digit(s[i])) i++;
        frac_end = i;
    }
    int64_t e = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool neg = false;
        if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
        /* Capped: an exponent past 10^15 means the same as a huge one. */
        for (; i < len && is_digit(s[i]); i++)
            if (e < 1000000000000000) e = e * 10 + (s[i] - '0');
        if (neg) e = -e;
    }
    /* The digit sequence is int part then fraction part; its value is
     * (all digits) * 10^(e - fraction length). */
    int64_t exp = sat_add(e, -(int64_t)(frac_end - frac_start));
    /* First and last non-zero digit over both parts. */
    size_t first = (size_t)-1, last = (size_t)-1;
    size_t zeros_after_last = 0;
    for (size_t k = int_start; k < frac_end; k++) {
        if (k == int_end) {
            k = frac_start;
            if (k >= frac_end) break;
        }
        if (s[k] != '0') {
            if (first == (size_t)-1) first = k;
            last = k;
            zeros_after_last = 0;
        } else if (last != (size_t)-1) {
            zeros_after_last++;
        }
    }
    d->first = first;
    if (first == (size_t)-1) {
        d->n_digits = 0;
        d->exp = 0;
        return;
    }
    /* Count the significant digits between first and last (the point is
     * not a digit). */
    size_t n = last - first + 1;
    if (first < int_end && last >= frac_start && frac_start > int_end) n--;
    d->n_digits = n;
    d->exp = sat_add(exp, (int64_t)zeros_after_last);
}

/* The significant digits of d, as an integer, modulo m. */
static uint64_t digits_mod(const decimal *d, uint64_t m) {
    unsigned __int128 r = 0;
    size_t seen = 0;
    for (size_t k = d->first; seen < d->n_digits && k < d->len; k++) {
        char c = d->text[k];
        if (!is_digit(c)) continue;
        r = (r * 10 + (unsigned)(c - '0')) % m;
        seen++;
    }
    return (uint64_t)r;
}

static uint64_t pow10_mod(uint64_t e, uint64_t m) {
    unsigned __int128 result = 1 % m, base = 10 % m;
    while (e) {
        if (e & 1) result = result * base % m;
        base = base * base % m;
        e >>= 1;
    }
    return (uint64_t)result;
}

int rb_schema_decimal_divisor_ok(const char *m, size_t m_len) {
    decimal d;
    decimal_read(m, m_len, &d);
    if (d.n_digits == 0 || (m_len && m[0] == '-')) return 0;
    return d.n_digits <= 19 ? 1 : -1;
}

bool rb_schema_decimal_multiple(const char *v, size_t v_len, const char *m, size_t m_len) {
    decimal dv, dm;
    decimal_read(v, v_len, &dv);
    decimal_read(m, m_len, &dm);
    if (dv.n_digits == 0) return true; /* 0 is a multiple of everything */
    if (dm.n_digits == 0) return false;
    /* Dv has no trailing zero, so Dm*10^j (j > 0) never divides it. */
    if (dv.exp < dm.exp) return false;
    uint64_t dm_value = digits_mod(&dm, UINT64_MAX); /* <= 19 digits: exact */
    if (dm_value == 0) return false;
    uint64_t r = digits_mod(&dv, dm_value);
    unsigned __int128 shifted =
        (unsigned __int128)r * pow10_mod((uint64_t)(dv.exp - dm.exp), dm_value);
    return shifted % dm_value == 0;
}
