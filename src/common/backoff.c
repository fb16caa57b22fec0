/* backoff.c -- exponential backoff with equal jitter; see backoff.h. */
#include "common/backoff.h"

int64_t rb_backoff_nominal_ms(int64_t initial_ms, int64_t max_ms, int attempt) {
    if (initial_ms < 0) initial_ms = 0;
    if (max_ms < initial_ms) max_ms = initial_ms;
    int64_t d = initial_ms;
    /* Stops doubling at the cap, so the loop is short and cannot overflow. */
    for (int i = 1; i < attempt && d < max_ms; i++) d = d > max_ms / 2 ? max_ms : d * 2;
    return d < max_ms ? d : max_ms;
}

int64_t rb_backoff_wait_ms(int64_t initial_ms, int64_t max_ms, int attempt, rb_prng *rng) {
    int64_t d = rb_backoff_nominal_ms(initial_ms, max_ms, attempt);
    int64_t half = d / 2;
    return half + (int64_t)rb_prng_below(rng, (uint64_t)(d - half) + 1);
}
