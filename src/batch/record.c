/* record.c -- the record lifecycle: the transition table, the checked
 * state changes and the commit rule; see record.h. */
#include "batch/record.h"

#include "batch/batch.h"
#include "common/redact.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P RB_REC_PENDING
#define U RB_REC_UNCHANGED

/* legal[from][to]: the transitions record.h lists, and no other. */
static const bool legal[RB_REC_STATES][RB_REC_STATES] = {
    [P] = {[RB_REC_UNCHANGED] = true,
           [RB_REC_STORED] = true,
           [RB_REC_DELETED] = true,
           [RB_REC_STALE] = true,
           [RB_REC_SKIPPED] = true,
           [RB_REC_FAILED] = true},
    [U] = {[RB_REC_PENDING] = true,
           [RB_REC_REUSED] = true,
           [RB_REC_STALE] = true,
           [RB_REC_SKIPPED] = true,
           [RB_REC_FAILED] = true},
    [RB_REC_SKIPPED] = {[RB_REC_DEAD_LETTERED] = true},
    [RB_REC_DEAD_LETTERED] = {[RB_REC_DEAD_LETTERED] = true},
};

#undef P
#undef U

static bool state_valid(rb_record_state s) { return s >= RB_REC_PENDING && s < RB_REC_STATES; }

bool rb_record_transition_ok(rb_record_state from, rb_record_state to) {
    return state_valid(from) && state_valid(to) && legal[from][to];
}

bool rb_record_state_open(rb_record_state s) {
    return s == RB_REC_PENDING || s == RB_REC_UNCHANGED;
}

/* A programming error: see record.h for why it ends the process. */
static _Noreturn void illegal(const rb_record *r, rb_record_state to) {
    fprintf(stderr,
            "ragbatch: internal error: record %s [%" PRId32 "] offset %" PRId64
            " cannot go from %s to %s (batch/record.h lists the legal transitions); "
            "aborting without committing its batch\n",
            r->topic ? r->topic : "?", r->partition, r->offset, rb_record_state_name(r->state),
            rb_record_state_name(to));
    fflush(stderr);
    abort();
}

void rb_record_settle(rb_record *r, rb_record_state state) {
    if (!rb_record_transition_ok(r->state, state)) illegal(r, state);
    r->state = state;
}

void rb_record_fail(rb_record *r, rb_stage stage, bool tolerate, const char *fmt, ...) {
    rb_record_state to = tolerate ? RB_REC_SKIPPED : RB_REC_FAILED;
    if (!rb_record_transition_ok(r->state, to)) illegal(r, to);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The reason goes to log lines and DLQ headers; a server's answer
     * quoted in it may carry a URI with its password. */
    rb_redact_in_place(msg, sizeof msg);
    free(r->fail_reason);
    /* If even this copy fails, the state still says what happened. */
    r->fail_reason = strdup(msg);
    r->fail_stage = stage;
    r->state = to;
}

const char *rb_record_state_name(rb_record_state s) {
    switch (s) {
    case RB_REC_PENDING: return "pending";
    case RB_REC_UNCHANGED: return "unchanged";
    case RB_REC_STORED: return "stored";
    case RB_REC_REUSED: return "reused";
    case RB_REC_DELETED: return "deleted";
    case RB_REC_STALE: return "stale";
    case RB_REC_SKIPPED: return "skipped";
    case RB_REC_DEAD_LETTERED: return "dead_lettered";
    case RB_REC_FAILED: return "failed";
    case RB_REC_STATES: break;
    }
    return "unknown";
}

/* ---- the batch's side ------------------------------------------------- */

rb_batch_counts rb_batch_count_states(const rb_batch *b) {
    rb_batch_counts c;
    memset(&c, 0, sizeof c);
    size_t n = rb_batch_count(b);
    c.in = n;
    for (size_t i = 0; i < n; i++) {
        switch (rb_batch_record_const(b, i)->state) {
        case RB_REC_PENDING:
        case RB_REC_UNCHANGED: c.pending++; break;
        case RB_REC_STORED: c.stored++; break;
        case RB_REC_REUSED: c.reused++; break;
        case RB_REC_DELETED: c.deleted++; break;
        case RB_REC_STALE: c.stale++; break;
        case RB_REC_SKIPPED: c.skipped++; break;
        case RB_REC_DEAD_LETTERED: c.dead_lettered++; break;
        case RB_REC_FAILED: c.failed++; break;
        case RB_REC_STATES: break;
        }
    }
    return c;
}

size_t rb_batch_counts_settled(const rb_batch_counts *c) {
    return c->stored + c->reused + c->deleted + c->stale + c->skipped + c->dead_lettered +
           c->failed;
}

bool rb_batch_all_settled(const rb_batch *b) {
    size_t n = rb_batch_count(b);
    for (size_t i = 0; i < n; i++)
        if (rb_record_state_open(rb_batch_record_const(b, i)->state)) return false;
    return true;
}

const rb_record *rb_batch_first_failed(const rb_batch *b) {
    size_t n = rb_batch_count(b);
    for (size_t i = 0; i < n; i++) {
        const rb_record *r = rb_batch_record_const(b, i);
        if (r->state == RB_REC_FAILED) return r;
    }
    return NULL;
}

const rb_record *rb_batch_commit_blocker(const rb_batch *b, bool dead_letters) {
    size_t n = rb_batch_count(b);
    for (size_t i = 0; i < n; i++) {
        const rb_record *r = rb_batch_record_const(b, i);
        if (rb_record_state_open(r->state) || r->state == RB_REC_FAILED ||
            (dead_letters && r->state == RB_REC_SKIPPED))
            return r;
    }
    return NULL;
}
