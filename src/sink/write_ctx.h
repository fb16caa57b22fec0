/*
 * write_ctx.h -- what write.c (sending bulks, reading replies) and
 * decide.c (the CAS and LOOKUP modes: read, decide, decide again) share.
 * Internal to src/sink.
 *
 * An item's op for the round in hand is in op[i]; OP_NONE items are not
 * sent.  Sending settles what a reply can tell (STORED, STALE, DELETED,
 * FAILED) and marks with again[i] what only the store can tell now: a
 * collision (an insert, or LOOKUP's upsert, met an existing _id) or a
 * compare-and-swap that may not have matched.  Those stay PENDING for
 * decide.c to read again.
 */
#ifndef RB_SINK_WRITE_CTX_H
#define RB_SINK_WRITE_CTX_H

#include "sink/sink_internal.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rb_sink_op {
    RB_OP_NONE = 0,
    RB_OP_DELETE,        /* deleteOne({_id}) */
    RB_OP_INSERT,        /* insert: decided that no document has this _id */
    RB_OP_REPLACE,       /* replaceOne({_id}, upsert): LOOKUP, decided it is older */
    RB_OP_REPLACE_OLDER, /* replaceOne({_id, version: {$lt}}, upsert): IN_FILTER */
    RB_OP_SWAP           /* replaceOne({_id, version: expect}): CAS */
} rb_sink_op;

typedef enum rb_sink_again {
    RB_AGAIN_NO = 0,
    RB_AGAIN_COLLIDED, /* E11000 on an insert or an upsert */
    RB_AGAIN_UNSURE    /* a swap in a bulk that matched fewer than it sent */
} rb_sink_again;

typedef struct rb_sink_wctx {
    rb_sink *s;
    mongoc_collection_t *coll;
    rb_sink_item *items;
    size_t n;
    int64_t now_ms;  /* ingested_at of every document of this call */
    rb_sink_op *op;  /* per item */
    int64_t *expect; /* per item: the version RB_OP_SWAP expects */
    uint8_t *again;  /* per item: rb_sink_again */
    size_t *order;   /* 0..n-1: batch order */
    size_t *sent;    /* item index of each op of the current bulk */
    size_t *redo;    /* the ops of a window being settled one by one */
    size_t reads;    /* finds sent (rb_sink_stats.reads) */
    size_t rounds;   /* rounds after the first (rb_sink_stats.rounds) */
} rb_sink_wctx;

/* Sends the ops of every PENDING item, in batch order, in windows of
 * s->max_ops_per_bulk, and settles them (see above).  -1 (err set) when a
 * write failed as a whole. */
int rb_sink_send_ops(rb_sink_wctx *w, rb_error *err);

/* The CAS and LOOKUP modes (decide.c): reads what it must, decides each
 * item, sends, and decides again after collisions, RB_SINK_MAX_ROUNDS
 * rounds at most. */
int rb_sink_write_deciding(rb_sink_wctx *w, rb_error *err);

#endif
