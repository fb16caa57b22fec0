/*
 * readiness.c -- dependency flags and a progress clock behind one mutex.
 */
#include "metrics/readiness.h"

#include "common/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rb_readiness_component {
    char name[32];
    int up;
    char reason[256];
} rb_readiness_component;

struct rb_readiness {
    pthread_mutex_t lock;
    int64_t max_idle_ms;
    int64_t last_progress_ms; /* monotonic */
    rb_readiness_component components[RB_READINESS_MAX_COMPONENTS];
    size_t ncomponents;
};

rb_readiness *rb_readiness_new(int64_t max_idle_ms, rb_error *err) {
    rb_readiness *r = calloc(1, sizeof *r);
    if (!r) {
        rb_error_nomem(err, RB_STAGE_NONE, "readiness state");
        return NULL;
    }
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_NONE, "readiness: cannot create a mutex");
        return NULL;
    }
    r->max_idle_ms = max_idle_ms;
    r->last_progress_ms = rb_now_ms();
    return r;
}

void rb_readiness_destroy(rb_readiness *r) {
    if (!r) return;
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void rb_readiness_set(rb_readiness *r, const char *component, int up, const char *reason) {
    pthread_mutex_lock(&r->lock);
    rb_readiness_component *c = NULL;
    for (size_t i = 0; i < r->ncomponents && !c; i++)
        if (strncmp(r->components[i].name, component, sizeof c->name - 1) == 0)
            c = &r->components[i];
    if (!c && r->ncomponents < RB_READINESS_MAX_COMPONENTS) {
        c = &r->components[r->ncomponents++];
        snprintf(c->name, sizeof c->name, "%s", component);
    }
    if (c) {
        c->up = up;
        snprintf(c->reason, sizeof c->reason, "%s", reason && !up ? reason : "");
    }
    pthread_mutex_unlock(&r->lock);
}

void rb_readiness_progress(rb_readiness *r) {
    pthread_mutex_lock(&r->lock);
    r->last_progress_ms = rb_now_ms();
    pthread_mutex_unlock(&r->lock);
}

int rb_readiness_check(void *ctx, char *reason, size_t size) {
    rb_readiness *r = ctx;
    int ready = 1;
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->ncomponents && ready; i++) {
        const rb_readiness_component *c = &r->components[i];
        if (c->up) continue;
        ready = 0;
        snprintf(reason, size, "%s: %s", c->name, c->reason[0] ? c->reason : "down");
    }
    int64_t idle = rb_now_ms() - r->last_progress_ms;
    if (ready && r->max_idle_ms > 0 && idle > r->max_idle_ms) {
        ready = 0;
        snprintf(reason, size, "no batch completed for %.1f s (limit %.1f s)", idle / 1000.0,
                 r->max_idle_ms / 1000.0);
    }
    pthread_mutex_unlock(&r->lock);
    return ready;
}
