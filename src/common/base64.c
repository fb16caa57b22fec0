/* base64.c -- see base64.h. */
#include "common/base64.h"

#include <stdint.h>

static int value_of(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Whole groups of four; '=' only at the end. */
static long decode_padded(const char *s, size_t len, unsigned char *out) {
    if (len % 4) return -1;
    long n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' && i + 4 == len && k >= 2 ? 0
                                                             : value_of((unsigned char)s[i + k]);
            if (v[k] < 0) return -1;
        }
        out[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (s[i + 2] != '=') out[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        if (s[i + 3] != '=') out[n++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    return n;
}

long rb_base64_decode(const char *s, size_t len, bool padded, unsigned char *out) {
    if (padded) return decode_padded(s, len, out);
    long n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len && s[i] != '='; i++) {
        int v = value_of((unsigned char)s[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits);
        }
    }
    return n;
}
