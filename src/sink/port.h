/*
 * port.h -- the sink as the runner sees it: the six calls a batch needs,
 * behind a thin vtable, so that a sink other than MongoDB can stand in for
 * it (an in-process one drives the runner in tests/check_runner.c), the
 * way rb_embedder_ops lets an in-process embedder stand in for a model.
 *
 * The MongoDB sink (sink.h) is one implementation: rb_sink_port_mongo()
 * forwards every call to the rb_sink_* function of the same name and adds
 * nothing, so its behaviour is exactly that of sink.h.  Every other
 * implementation owes the runner the contract sink.h writes down for those
 * functions: rb_sink_write settles every item (STORED, STALE, DELETED,
 * FAILED with item->error) and returns 0, or returns -1 with every item
 * PENDING (retriable or not, as err says); a version not newer than the
 * stored one is STALE; the ops of one id take effect in item order.
 *
 * An rb_sink_port is a value (two pointers), copied freely; the
 * implementation it points to is owned by whoever made it, and
 * rb_sink_port_destroy() releases it through ops->destroy.  Threads: as the
 * implementation allows (the MongoDB sink: any).
 */
#ifndef RB_SINK_PORT_H
#define RB_SINK_PORT_H

#include "sink/sink.h"

typedef struct rb_sink_ops {
    const char *name; /* "mongodb", or what a stand-in calls itself */
    /* sink.h's rb_sink_write (without stats). */
    int (*write)(void *impl, rb_sink_item *items, size_t n, rb_error *err);
    /* sink.h's rb_sink_read_stored. */
    int (*read_stored)(void *impl, const char *const *ids, size_t n, unsigned what,
                       rb_sink_stored_fn fn, void *ctx, rb_error *err);
    int (*ping)(void *impl, rb_error *err);
    bool (*needs_versions)(const void *impl);
    bool (*read_pays)(const void *impl);
    const char *(*describe)(const void *impl);
    void (*destroy)(void *impl); /* NULL: nothing to release */
    /* sink.h's rb_sink_remove_chunks, for a port that holds a chunk
     * collection (rb_runner_ports.chunks); NULL: it cannot. */
    int (*remove_chunks)(void *impl, const rb_sink_chunk_clean *c, size_t n, size_t *removed,
                         rb_error *err);
} rb_sink_ops;

typedef struct rb_sink_port {
    const rb_sink_ops *ops; /* NULL: no sink */
    void *impl;
} rb_sink_port;

/* The MongoDB sink `s` (may be NULL: then the port is empty) behind the
 * port; rb_sink_port_destroy() destroys it. */
rb_sink_port rb_sink_port_mongo(rb_sink *s);

int rb_sink_port_write(rb_sink_port p, rb_sink_item *items, size_t n, rb_error *err);
int rb_sink_port_read_stored(rb_sink_port p, const char *const *ids, size_t n, unsigned what,
                             rb_sink_stored_fn fn, void *ctx, rb_error *err);
int rb_sink_port_ping(rb_sink_port p, rb_error *err);
bool rb_sink_port_needs_versions(rb_sink_port p);
bool rb_sink_port_read_pays(rb_sink_port p);
const char *rb_sink_port_describe(rb_sink_port p);
/* Fails (RB_ERR_INTERNAL) on a port without remove_chunks. */
int rb_sink_port_remove_chunks(rb_sink_port p, const rb_sink_chunk_clean *c, size_t n,
                               size_t *removed, rb_error *err);
/* Accepts an empty port. */
void rb_sink_port_destroy(rb_sink_port p);

#endif
