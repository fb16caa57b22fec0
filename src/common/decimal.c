/* decimal.c -- see decimal.h. */
#include "common/decimal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int rb_decimal_write(rb_buf *out, const unsigned char *bytes, size_t n, long scale) {
    unsigned char *mag = malloc(n ? n : 1);
    char *digits = malloc(n * 3 + 2);
    if (!mag || !digits) {
        free(mag);
        free(digits);
        return -1;
    }
    if (n) memcpy(mag, bytes, n);
    bool negative = n > 0 && (mag[0] & 0x80);
    if (negative) { /* two's complement: invert and add one */
        for (size_t i = 0; i < n; i++) mag[i] = (unsigned char)~mag[i];
        for (size_t i = n; i-- > 0;)
            if (++mag[i] != 0) break;
    }
    /* Base 256 to base 10 by repeated division: the values are short. */
    size_t nd = 0, start = 0;
    while (start < n && mag[start] == 0) start++;
    while (start < n) {
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
        while (start < n && mag[start] == 0) start++;
    }
    if (nd == 0) digits[nd++] = '0';
    int rc = negative ? rb_buf_putc(out, '-') : 0;
    /* digits[] holds the least significant digit first. */
    if (scale <= 0) {
        for (size_t i = nd; rc == 0 && i-- > 0;) rc = rb_buf_putc(out, digits[i]);
        bool zero = nd == 1 && digits[0] == '0'; /* 0 times 10^k is "0", not "000" */
        for (long z = 0; rc == 0 && !zero && z < -scale; z++) rc = rb_buf_putc(out, '0');
    } else {
        size_t s = (size_t)scale;
        if (nd <= s) {
            rc = rc ? rc : rb_buf_puts(out, "0.");
            for (size_t z = nd; rc == 0 && z < s; z++) rc = rb_buf_putc(out, '0');
            for (size_t i = nd; rc == 0 && i-- > 0;) rc = rb_buf_putc(out, digits[i]);
        } else {
            for (size_t i = nd; rc == 0 && i-- > 0;) {
                rc = rb_buf_putc(out, digits[i]);
                if (rc == 0 && i == s) rc = rb_buf_putc(out, '.');
            }
        }
    }
    free(digits);
    free(mag);
    return rc ? -1 : 0;
}
