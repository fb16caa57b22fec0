#include "runner/trigger.h"

int64_t rb_trigger_next_close(int64_t prev_close_ms, int64_t now_ms, int64_t interval_ms,
                              bool prev_was_full) {
    if (prev_was_full) return now_ms + interval_ms;
    int64_t next = prev_close_ms + interval_ms;
    return next > now_ms ? next : now_ms;
}

int64_t rb_trigger_bounded_close(int64_t now_ms, int64_t interval_ms) {
    int64_t most = RB_TRIGGER_BOUNDED_MAX_MS;
    return now_ms + (interval_ms < most ? interval_ms : most);
}
