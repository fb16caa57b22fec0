#include "generate/pacer.h"

void rb_gen_pacer_init(rb_gen_pacer *p, double rate, int64_t now_ns) {
    p->rate = rate;
    p->burst = rate > 0 ? rate / 50.0 : 1.0;
    if (p->burst < 1.0) p->burst = 1.0;
    p->tokens = 1.0; /* the first event goes out at once */
    p->last_ns = now_ns;
}

int64_t rb_gen_pacer_take(rb_gen_pacer *p, int64_t now_ns) {
    if (p->rate <= 0) return 0;
    if (now_ns > p->last_ns) {
        p->tokens += (double)(now_ns - p->last_ns) * 1e-9 * p->rate;
        if (p->tokens > p->burst) p->tokens = p->burst;
        p->last_ns = now_ns;
    }
    if (p->tokens >= 1.0) {
        p->tokens -= 1.0;
        return 0;
    }
    int64_t wait = (int64_t)((1.0 - p->tokens) / p->rate * 1e9) + 1;
    return wait > 0 ? wait : 1;
}
