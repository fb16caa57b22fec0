#include "embed/http/ratelimit.h"

static void bucket_init(rb_ratelimit_bucket *b, double per_minute) {
    b->rate = per_minute > 0 ? per_minute / 60.0 : 0;
    b->capacity = b->rate > 1 ? b->rate : 1; /* one second's worth */
    b->level = b->capacity;
}

static void bucket_refill(rb_ratelimit_bucket *b, double elapsed) {
    if (b->rate <= 0) return;
    b->level += elapsed * b->rate;
    if (b->level > b->capacity) b->level = b->capacity;
}

/* Seconds until `b` allows `need` units (0: now).  A need above the
 * capacity is served from a full bucket. */
static double bucket_wait(const rb_ratelimit_bucket *b, double need) {
    if (b->rate <= 0) return 0;
    double want = need < b->capacity ? need : b->capacity;
    if (b->level >= want) return 0;
    return (want - b->level) / b->rate;
}

void rb_ratelimit_init(rb_ratelimit *rl, double requests_per_minute, double tokens_per_minute,
                       double now) {
    bucket_init(&rl->requests, requests_per_minute);
    bucket_init(&rl->tokens, tokens_per_minute);
    rl->last = now;
}

double rb_ratelimit_acquire(rb_ratelimit *rl, double tokens, double now) {
    if (now > rl->last) {
        bucket_refill(&rl->requests, now - rl->last);
        bucket_refill(&rl->tokens, now - rl->last);
        rl->last = now;
    }
    double w1 = bucket_wait(&rl->requests, 1);
    double w2 = bucket_wait(&rl->tokens, tokens);
    double wait = w1 > w2 ? w1 : w2;
    if (wait > 0) return wait < 1e-3 ? 1e-3 : wait;
    if (rl->requests.rate > 0) rl->requests.level -= 1;
    if (rl->tokens.rate > 0) rl->tokens.level -= tokens;
    return 0;
}
