/*
 * decide.c -- the CAS and LOOKUP modes (sink.h, rb_sink_versions): know
 * what is stored for each id of the batch (the caller's read, or one read
 * here), decide every item against it in batch order, send, and decide
 * again where the store changed under the write.
 *
 * Items are grouped by id (a group keeps batch order).  A group's state is
 * what the store holds for its id when its first pending item's turn
 * comes: absent, or present at a version; where reads cost a scan and
 * inserts do not (rb_sink_read_pays), an unread id alone in the call is
 * taken as absent and read only if its insert collides.  Deciding walks the group: a
 * hard delete makes it absent; an upsert or soft delete whose version is
 * not newer than the state is STALE, else it is an insert (absent) or a
 * swap/replace (present), and the state becomes its version.
 *
 * After sending, a collided insert or upsert, or a swap that may have
 * missed, is read again: a document that carries this call's ingested_at,
 * the item's version and source offset is this call's own write (STORED:
 * an unclear bulk applied it before it was sent again one by one); an item
 * that a later item of its group, settled in this call, supersedes is
 * STALE; otherwise the group takes the state read and is decided again.
 */
#include "sink/sink_internal.h"
#include "sink/write_ctx.h"

#include <stdlib.h>
#include <string.h>

typedef struct id_pos {
    const char *id;
    size_t pos;
} id_pos;

typedef enum gstate { G_UNKNOWN = 0, G_ABSENT, G_PRESENT } gstate;

/* One distinct id of the batch: its items are ix[first..end). */
typedef struct group {
    const char *id;
    size_t first, end;
    gstate state;
    int64_t version;
    bool read_again;
    /* the last read of this id (RB_SINK_READ_OWN) */
    bool found;
    rb_sink_read_doc doc; /* id, text pointers unused */
} group;

typedef struct decide {
    rb_sink_wctx *w;
    id_pos *ix;
    group *groups;
    size_t n_groups;
    const char **ids; /* scratch for reads */
} decide;

static int cmp_id_pos(const void *a, const void *b) {
    const id_pos *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c != 0) return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_group_id(const void *key, const void *elem) {
    return strcmp(key, ((const group *)elem)->id);
}

/* Groups the pending items by id; items without an id fail here. */
static int make_groups(decide *d, rb_error *err) {
    rb_sink_wctx *w = d->w;
    size_t m = 0;
    d->ix = malloc(w->n * sizeof *d->ix);
    d->groups = malloc(w->n * sizeof *d->groups);
    d->ids = malloc(w->n * sizeof *d->ids);
    if (!d->ix || !d->groups || !d->ids)
        return rb_error_nomem(err, RB_STAGE_SINK, "version lookup");
    for (size_t i = 0; i < w->n; i++) {
        rb_sink_item *it = &w->items[i];
        if (!it->id) {
            it->result = RB_SINK_FAILED;
            snprintf(it->error, sizeof it->error, "item has no id");
        } else {
            d->ix[m++] = (id_pos){it->id, i};
        }
    }
    qsort(d->ix, m, sizeof *d->ix, cmp_id_pos);
    d->n_groups = 0;
    for (size_t g = 0; g < m;) {
        size_t end = g + 1;
        while (end < m && strcmp(d->ix[end].id, d->ix[g].id) == 0) end++;
        group *grp = &d->groups[d->n_groups++];
        memset(grp, 0, sizeof *grp);
        grp->id = d->ix[g].id;
        grp->first = g;
        grp->end = end;
        /* What the caller read holds when every item of the id says it. */
        const rb_sink_item *first = &w->items[d->ix[g].pos];
        bool known = true;
        for (size_t k = g; k < end; k++)
            known = known && w->items[d->ix[k].pos].known == first->known &&
                    (first->known != RB_SINK_KNOWN_PRESENT ||
                     w->items[d->ix[k].pos].known_version == first->known_version);
        if (known && first->known == RB_SINK_KNOWN_ABSENT)
            grp->state = G_ABSENT;
        else if (known && first->known == RB_SINK_KNOWN_PRESENT) {
            grp->state = G_PRESENT;
            grp->version = first->known_version;
        }
        g = end;
    }
    return 0;
}

static int on_read(const rb_sink_read_doc *doc, void *arg) {
    decide *d = arg;
    group *grp = bsearch(doc->id, d->groups, d->n_groups, sizeof *d->groups, cmp_group_id);
    if (grp) {
        grp->found = true;
        grp->doc = *doc;
        grp->doc.id = grp->id; /* the read's strings do not outlive the callback */
        grp->doc.text_hash = grp->doc.model = NULL;
        grp->doc.vector = NULL;
    }
    return 0;
}

/* Insert first (rb_sink_read_pays): an id alone in the call whose state
 * nobody read is taken as absent; if it is not, the insert collides and
 * the id is read then.  (An id with several items is read: its later items
 * would be decided on a guess.) */
static void assume_absent(decide *d) {
    if (!d->w->s->insert_first) return;
    for (size_t g = 0; g < d->n_groups; g++) {
        group *grp = &d->groups[g];
        if (grp->state == G_UNKNOWN && grp->end - grp->first == 1 &&
            d->w->items[d->ix[grp->first].pos].kind != RB_SINK_HARD_DELETE)
            grp->state = G_ABSENT;
    }
}

/* Reads the groups that are G_UNKNOWN (first) or marked read_again, and
 * sets their state from what is stored. */
static int read_groups(decide *d, bool again, rb_error *err) {
    size_t n = 0;
    for (size_t g = 0; g < d->n_groups; g++) {
        group *grp = &d->groups[g];
        if (again ? grp->read_again : grp->state == G_UNKNOWN) {
            grp->found = false;
            d->ids[n++] = grp->id;
        }
    }
    if (n == 0) return 0;
    if (rb_sink_read_ids(d->w->s, d->w->coll, d->ids, n, again ? RB_SINK_READ_OWN : 0, on_read, d,
                         &d->w->reads, err) != 0)
        return -1;
    for (size_t g = 0; g < d->n_groups; g++) {
        group *grp = &d->groups[g];
        if (!(again ? grp->read_again : grp->state == G_UNKNOWN)) continue;
        grp->state = grp->found ? G_PRESENT : G_ABSENT;
        grp->version = grp->found ? grp->doc.version : 0;
    }
    return 0;
}

static void decide_group(decide *d, const group *grp) {
    rb_sink_wctx *w = d->w;
    bool present = grp->state == G_PRESENT;
    int64_t cur = grp->version;
    for (size_t k = grp->first; k < grp->end; k++) {
        size_t i = d->ix[k].pos;
        rb_sink_item *it = &w->items[i];
        w->op[i] = RB_OP_NONE;
        if (it->result != RB_SINK_PENDING) continue;
        if (it->kind == RB_SINK_HARD_DELETE) {
            w->op[i] = RB_OP_DELETE;
            present = false;
        } else if (present && cur >= it->version) {
            it->result = RB_SINK_STALE;
        } else {
            if (!present)
                w->op[i] = RB_OP_INSERT;
            else if (w->s->mode == RB_SINK_VERSIONS_CAS)
                w->op[i] = RB_OP_SWAP;
            else
                w->op[i] = RB_OP_REPLACE;
            w->expect[i] = cur;
            present = true;
            cur = it->version;
        }
    }
}

static bool own_write(const rb_sink_wctx *w, const group *grp, const rb_sink_item *it) {
    return grp->found && grp->doc.version == it->version && grp->doc.ingested_ms == w->now_ms &&
           grp->doc.offset == it->offset && grp->doc.deleted == (it->kind == RB_SINK_SOFT_DELETE);
}

/* Settles what the read-again tells about the items marked again, last
 * first, so that an earlier item sees whether a later one of its id was
 * settled in this call. */
static void settle_again(decide *d, group *grp) {
    rb_sink_wctx *w = d->w;
    bool later_written = false;
    for (size_t k = grp->end; k-- > grp->first;) {
        size_t i = d->ix[k].pos;
        rb_sink_item *it = &w->items[i];
        uint8_t again = w->again[i];
        w->again[i] = RB_AGAIN_NO;
        if (again != RB_AGAIN_NO) {
            if (later_written) {
                it->result = RB_SINK_STALE; /* superseded within the batch */
            } else if (own_write(w, grp, it)) {
                it->result = RB_SINK_STORED;
            } else if (again == RB_AGAIN_COLLIDED && !grp->found) {
                /* E11000, yet no document has this _id: another unique
                 * index refused it, which no retry changes. */
                it->result = RB_SINK_FAILED;
                snprintf(it->error, sizeof it->error,
                         "server rejected the document (code 11000: duplicate key on an index "
                         "other than _id)");
            }
        }
        if (it->result == RB_SINK_STORED || it->result == RB_SINK_DELETED) later_written = true;
    }
}

int rb_sink_write_deciding(rb_sink_wctx *w, rb_error *err) {
    decide d = {.w = w};
    int rc = make_groups(&d, err);
    if (rc == 0) {
        assume_absent(&d);
        rc = read_groups(&d, false, err);
    }
    for (int round = 0; rc == 0; round++) {
        for (size_t g = 0; g < d.n_groups; g++) decide_group(&d, &d.groups[g]);
        if ((rc = rb_sink_send_ops(w, err)) != 0) break;
        size_t again = 0;
        for (size_t g = 0; g < d.n_groups; g++) {
            group *grp = &d.groups[g];
            grp->read_again = false;
            for (size_t k = grp->first; k < grp->end && !grp->read_again; k++)
                grp->read_again = w->again[d.ix[k].pos] != RB_AGAIN_NO;
            again += grp->read_again;
        }
        if (again == 0) break;
        if (round + 1 >= RB_SINK_MAX_ROUNDS) {
            rc = rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK,
                                        "%zu documents kept changing while this batch was "
                                        "written (%d rounds): another writer of the same ids?",
                                        again, RB_SINK_MAX_ROUNDS);
            rb_sink_in_collection(w->s, err);
            break;
        }
        if ((rc = read_groups(&d, true, err)) != 0) break;
        for (size_t g = 0; g < d.n_groups; g++)
            if (d.groups[g].read_again) settle_again(&d, &d.groups[g]);
        w->rounds++;
    }
    free(d.ix);
    free(d.groups);
    free(d.ids);
    return rc;
}
