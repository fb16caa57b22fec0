#include "runner/shutdown.h"

#include "common/clock.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* How often the watchdog looks at the stop flag and the clock. */
#define SHUTDOWN_TICK_MS 50
/* The teardown's reserve: a fifth of the timeout, at most this. */
#define SHUTDOWN_RESERVE_MAX_MS 5000

struct rb_shutdown {
    volatile sig_atomic_t *stop;
    int64_t timeout_ms;
    const rb_log *log;
    pthread_t thread;
    atomic_int abandon;
    atomic_int quit;
    atomic_int phase;
    atomic_uint_fast64_t batch_id;
    _Atomic int64_t since_ms; /* monotonic ms the stop was first seen; -1 before */
};

int64_t rb_shutdown_abandon_after_ms(int64_t timeout_ms) {
    int64_t reserve = timeout_ms / 5;
    if (reserve > SHUTDOWN_RESERVE_MAX_MS) reserve = SHUTDOWN_RESERVE_MAX_MS;
    return timeout_ms - reserve;
}

/* The watchdog's last line, then the end of the process. */
static void give_up(rb_shutdown *sd) {
    uint64_t id = atomic_load(&sd->batch_id);
    switch ((rb_shutdown_phase)atomic_load(&sd->phase)) {
    case RB_SHUTDOWN_BATCH:
        rb_log_kv(sd->log, RB_LOG_WARN, "stop",
                  RB_LOG_FIELDS(RB_LOG_I("timeout_ms", sd->timeout_ms), RB_LOG_U("batch", id),
                                RB_LOG_B("abandoned", true)),
                  "shutdown.timeout.ms passed while the batch was in hand, in a call that "
                  "cannot be interrupted; exiting now: the batch is abandoned without "
                  "committing, its records are read again by the next owner of their "
                  "partitions");
        break;
    case RB_SHUTDOWN_IDLE:
        rb_log_kv(sd->log, RB_LOG_WARN, "stop",
                  RB_LOG_FIELDS(RB_LOG_I("timeout_ms", sd->timeout_ms)),
                  "shutdown.timeout.ms passed between batches; exiting now (nothing "
                  "uncommitted in hand)");
        break;
    case RB_SHUTDOWN_TEARDOWN:
        rb_log_kv(sd->log, RB_LOG_WARN, "stop",
                  RB_LOG_FIELDS(RB_LOG_I("timeout_ms", sd->timeout_ms)),
                  "shutdown.timeout.ms passed while shutting down (leaving the group, closing "
                  "connections); exiting now");
        break;
    }
    fflush(NULL);
    _exit(0);
}

static void *watch(void *arg) {
    rb_shutdown *sd = arg;
    /* Signals go to the runner's thread, as they did without the watchdog. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int64_t abandon_after = rb_shutdown_abandon_after_ms(sd->timeout_ms);
    while (!atomic_load(&sd->quit)) {
        rb_sleep_ms(SHUTDOWN_TICK_MS);
        sig_atomic_t signals = *sd->stop;
        if (!signals) continue;
        int64_t now = rb_now_ms();
        int64_t since = atomic_load(&sd->since_ms);
        if (since < 0) {
            atomic_store(&sd->since_ms, now);
            since = now;
            rb_log_kv(sd->log, RB_LOG_INFO, "stopping",
                      RB_LOG_FIELDS(RB_LOG_I("abandon_after_ms", abandon_after),
                                    RB_LOG_I("timeout_ms", sd->timeout_ms)),
                      "signal received: finishing the batch in hand; it is abandoned "
                      "uncommitted if not done in abandon_after_ms, and the process ends within "
                      "timeout_ms (shutdown.timeout.ms)");
        }
        if (!atomic_load(&sd->abandon) && (now - since >= abandon_after || signals > 1))
            atomic_store(&sd->abandon, 1);
        if (now - since >= sd->timeout_ms) give_up(sd);
    }
    return NULL;
}

rb_shutdown *rb_shutdown_start(volatile sig_atomic_t *stop, int64_t timeout_ms, const rb_log *log,
                               rb_error *err) {
    rb_shutdown *sd = calloc(1, sizeof *sd);
    if (!sd) {
        rb_error_nomem(err, RB_STAGE_NONE, "shutdown watchdog");
        return NULL;
    }
    sd->stop = stop;
    sd->timeout_ms = timeout_ms;
    sd->log = log;
    atomic_init(&sd->abandon, 0);
    atomic_init(&sd->quit, 0);
    atomic_init(&sd->phase, RB_SHUTDOWN_IDLE);
    atomic_init(&sd->batch_id, 0);
    atomic_init(&sd->since_ms, -1);
    if (pthread_create(&sd->thread, NULL, watch, sd) != 0) {
        free(sd);
        rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_NONE,
                     "cannot start the shutdown watchdog thread");
        return NULL;
    }
    return sd;
}

const atomic_int *rb_shutdown_abandon_flag(const rb_shutdown *sd) { return &sd->abandon; }

bool rb_shutdown_abandoning(const rb_shutdown *sd) { return sd && atomic_load(&sd->abandon) != 0; }

int64_t rb_shutdown_elapsed_ms(const rb_shutdown *sd) {
    if (!sd) return -1;
    int64_t since = atomic_load(&sd->since_ms);
    return since < 0 ? -1 : rb_now_ms() - since;
}

void rb_shutdown_phase_set(rb_shutdown *sd, rb_shutdown_phase phase, uint64_t batch_id) {
    if (!sd) return;
    atomic_store(&sd->batch_id, batch_id);
    atomic_store(&sd->phase, (int)phase);
}

void rb_shutdown_stop(rb_shutdown *sd) {
    if (!sd) return;
    atomic_store(&sd->quit, 1);
    pthread_join(sd->thread, NULL);
    free(sd);
}
