#include "common/prng.h"

uint64_t rb_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rb_prng_seed(rb_prng *r, uint64_t seed) {
    /* splitmix64 never yields four zero words in a row, so the xoshiro
     * state is never the all-zero fixed point. */
    for (int i = 0; i < 4; i++) r->s[i] = rb_splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rb_prng_next(rb_prng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rb_prng_below(rb_prng *r, uint64_t n) {
    if (n == 0) return 0;
    /* Reject the top partial block of the 64-bit range so every residue
     * is equally likely. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = rb_prng_next(r);
    } while (x >= limit);
    return x % n;
}

int64_t rb_prng_range(rb_prng *r, int64_t lo, int64_t hi) {
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX) return (int64_t)rb_prng_next(r);
    return (int64_t)((uint64_t)lo + rb_prng_below(r, span + 1));
}

double rb_prng_unit(rb_prng *r) { return (double)(rb_prng_next(r) >> 11) * 0x1.0p-53; }

bool rb_prng_chance(rb_prng *r, double p) {
    if (p <= 0.0) return false;
    if (p >= 1.0) return true;
    return rb_prng_unit(r) < p;
}
