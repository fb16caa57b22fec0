/*
 * pacer.h -- a token bucket that spaces events at a steady rate.
 *
 * Tokens accrue at `rate` per second up to a small burst (20 ms worth, at
 * least one), so a producer that fell behind catches up briefly and then
 * settles back to the rate instead of emitting a long burst.  The pacer
 * only does arithmetic on the times it is given; the caller sleeps for the
 * time it returns (no busy loop) and reads the clock.  Embedded by value.
 */
#ifndef RB_GEN_PACER_H
#define RB_GEN_PACER_H

#include <stdint.h>

typedef struct rb_gen_pacer {
    double rate;  /* events per second; <= 0 means unlimited */
    double burst; /* bucket capacity in tokens */
    double tokens;
    int64_t last_ns;
} rb_gen_pacer;

void rb_gen_pacer_init(rb_gen_pacer *p, double rate, int64_t now_ns);

/* Takes one token and returns 0 if one is available at `now_ns`;
 * otherwise takes nothing and returns the nanoseconds until one will be
 * (always > 0).  Times going backwards are treated as no time passing. */
int64_t rb_gen_pacer_take(rb_gen_pacer *p, int64_t now_ns);

#endif
