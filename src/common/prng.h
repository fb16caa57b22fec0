/*
 * prng.h -- the project's one pseudo-random number generator: the
 * synthetic events of `ragbatch generate` and the jitter of every retry
 * backoff (common/backoff.h).
 *
 * xoshiro256** seeded through splitmix64: fast, good enough statistically
 * for synthetic data and jitter, and identical on every platform, so that
 * one seed always yields the same event bytes.  Not for anything secret.
 * The state is a plain value owned by whoever embeds it (no globals, no
 * rand()); copying it forks the stream.  One thread uses one state.
 * Nothing here allocates or fails.
 */
#ifndef RB_PRNG_H
#define RB_PRNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rb_prng {
    uint64_t s[4];
} rb_prng;

/* Seeds from one 64-bit value; any seed, 0 included, gives a usable state. */
void rb_prng_seed(rb_prng *r, uint64_t seed);

uint64_t rb_prng_next(rb_prng *r);

/* Uniform in [0, n); n == 0 returns 0.  Unbiased (rejection sampling). */
uint64_t rb_prng_below(rb_prng *r, uint64_t n);

/* Uniform in [lo, hi] (inclusive); requires lo <= hi. */
int64_t rb_prng_range(rb_prng *r, int64_t lo, int64_t hi);

/* Uniform double in [0, 1) with 53 random bits. */
double rb_prng_unit(rb_prng *r);

/* True with probability p (p <= 0 never, p >= 1 always). */
bool rb_prng_chance(rb_prng *r, double p);

/* splitmix64 step: mixes `*x` forward and returns the next output.  Used
 * to derive independent sub-seeds (a product's description, tags, ...). */
uint64_t rb_splitmix64(uint64_t *x);

#endif
