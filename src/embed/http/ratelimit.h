/*
 * ratelimit.h -- client-side limits of an HTTP embedding provider:
 * requests per minute and tokens per minute, as two token buckets.
 *
 * Providers enforce such quotas with 429 answers; several requests in
 * flight would otherwise run into them together and back off together (a
 * "429 storm").  Each bucket holds at most one second's worth of its rate
 * (at least one request, and at least the request being asked for), so a
 * burst never exceeds what the provider's window allows.  A request larger
 * than the bucket is let through once the bucket is full and drives it
 * negative, so a big request waits its share instead of blocking forever.
 *
 * The limiter is a plain value embedded in its owner (no allocation, no
 * global state); time is passed in, in seconds of a monotonic clock, so
 * tests can drive it.  Not thread-safe: one owner at a time.
 */
#ifndef RB_RATELIMIT_H
#define RB_RATELIMIT_H

typedef struct rb_ratelimit_bucket {
    double rate;     /* units per second; 0 = unlimited */
    double capacity; /* most units held */
    double level;    /* units available now (may be negative) */
} rb_ratelimit_bucket;

typedef struct rb_ratelimit {
    rb_ratelimit_bucket requests, tokens;
    double last; /* time of the last refill */
} rb_ratelimit;

/* Limits per minute; 0 means no limit.  Buckets start full. */
void rb_ratelimit_init(rb_ratelimit *rl, double requests_per_minute, double tokens_per_minute,
                       double now);

/* Takes one request of `tokens` tokens if both buckets allow it now and
 * returns 0; otherwise takes nothing and returns the seconds to wait
 * before asking again (> 0). */
double rb_ratelimit_acquire(rb_ratelimit *rl, double tokens, double now);

#endif
