/*
 * write.c -- rb_sink_write(): one batch as versioned, idempotent bulk ops.
 *
 * The path of a call: decide each item's op (IN_FILTER: here, from the
 * item alone; CAS and LOOKUP: decide.c, from the stored versions); cut the
 * items to send into windows (FerretDB only); per window, build one
 * unordered bulk in batch order, run it, and read each op's fate from the
 * reply; when the reply cannot account for every op, settle that window's
 * ops one by one.
 */
#include "sink/sink.h"

#include "sink/bson_doc.h"
#include "sink/sink_internal.h"
#include "sink/write_ctx.h"

#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RB_SINK_DUPLICATE_KEY 11000

/* Ops per bulk where the server sets no smaller window.  libmongoc copies a
 * bulk's documents into one buffer; for a catch-up batch of 5,000 records
 * with 384-double vectors that is ~33 MB, above what glibc ever serves from
 * its heap, so every batch mapped and zeroed it afresh (a tenth to a
 * quarter of the runner's CPU in a profile).  At 1,000 ops (~6.5 MB) the
 * buffer is reused from the heap after the first batch; the extra round
 * trips cost nothing next to the server's work on the documents. */
#define RB_SINK_BULK_MAX_OPS 1000

typedef rb_sink_wctx wctx;

static int64_t now_realtime_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Without the "always later" rule, a replay written in the same millisecond
 * as the original would look like this call's own write to
 * reclaim_own_writes() and be reported STORED instead of STALE. */
int64_t rb_sink_next_ingested_ms(rb_sink *s) {
    int64_t now = now_realtime_ms();
    int64_t last = atomic_load(&s->last_ingested_ms);
    int64_t next;
    do {
        next = now > last ? now : last + 1;
    } while (!atomic_compare_exchange_weak(&s->last_ingested_ms, &last, next));
    return next;
}

static double now_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void item_fail(rb_sink_item *it, const char *what, const char *detail) {
    it->result = RB_SINK_FAILED;
    snprintf(it->error, sizeof it->error, "%s%s", what, detail);
}

static void unsend(const wctx *w, const size_t *idx, size_t n) {
    for (size_t k = 0; k < n; k++) {
        w->items[idx[k]].result = RB_SINK_PENDING;
        w->items[idx[k]].error[0] = '\0';
        w->again[idx[k]] = RB_AGAIN_NO;
    }
}

static mongoc_bulk_operation_t *new_bulk(const wctx *w) {
    bson_t opts = BSON_INITIALIZER;
    BSON_APPEND_BOOL(&opts, "ordered", false);
    mongoc_write_concern_append(w->s->wc, &opts);
    mongoc_bulk_operation_t *bulk =
        mongoc_collection_create_bulk_operation_with_opts(w->coll, &opts);
    bson_destroy(&opts);
    return bulk;
}

/* ---- building a bulk ----------------------------------------------------- */

/* Appends the op of item `i`.  Returns 1 when the item was settled instead
 * (FAILED before sending), 0 when appended, -1 when libmongoc refused the
 * append (the item is FAILED and the bulk must be rebuilt). */
static int append_op(const wctx *w, mongoc_bulk_operation_t *bulk, size_t i) {
    rb_sink_item *it = &w->items[i];
    bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
    bson_t op_opts = BSON_INITIALIZER; /* the op's options: validate, upsert */
    bson_error_t e;
    const bson_validate_flags_t vflags = BSON_VALIDATE_UTF8 | BSON_VALIDATE_DOLLAR_KEYS |
                                         BSON_VALIDATE_DOT_KEYS | BSON_VALIDATE_EMPTY_KEYS;
    bool ok;
    int rc = 1;

    if (!it->id) {
        item_fail(it, "item has no id", "");
        goto out;
    }
    if (w->op[i] == RB_OP_DELETE) {
        BSON_APPEND_UTF8(&filter, "_id", it->id);
        ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &filter, NULL, &e);
    } else {
        if (rb_sink_build_doc(&doc, it, w->s->vector_format, w->now_ms, it->error,
                              sizeof it->error) != 0) {
            it->result = RB_SINK_FAILED;
            goto out;
        }
        if ((int64_t)doc.len > (int64_t)w->s->max_doc_size) {
            /* libmongoc would abort the whole bulk for it; fail it alone. */
            it->result = RB_SINK_FAILED;
            snprintf(it->error, sizeof it->error,
                     "document is %u bytes, more than the server's limit of %d bytes",
                     (unsigned)doc.len, (int)w->s->max_doc_size);
            goto out;
        }
        /* libmongoc checks keys and UTF-8 as it appends; checking first
         * keeps a refused append (which may poison the bulk) out of reach.
         * These flags include every one libmongoc applies to inserts and
         * replacements (and refuse NUL in strings, which it allows), so
         * its own second pass over the document is switched off below. */
        if (!bson_validate_with_error(&doc, vflags, &e)) {
            item_fail(it, "document is not valid BSON for MongoDB: ", e.message);
            goto out;
        }
        BSON_APPEND_BOOL(&op_opts, "validate", false);
        switch (w->op[i]) {
        case RB_OP_INSERT:
            ok = mongoc_bulk_operation_insert_with_opts(bulk, &doc, &op_opts, &e);
            break;
        case RB_OP_SWAP:
            rb_sink_build_swap_filter(&filter, it->id, w->expect[i]);
            ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &filter, &doc, &op_opts, &e);
            break;
        default: /* RB_OP_REPLACE, RB_OP_REPLACE_OLDER */
            if (w->op[i] == RB_OP_REPLACE)
                BSON_APPEND_UTF8(&filter, "_id", it->id); /* versions decided before */
            else
                rb_sink_build_filter(&filter, it);
            BSON_APPEND_BOOL(&op_opts, "upsert", true);
            ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &filter, &doc, &op_opts, &e);
            break;
        }
    }
    if (ok) {
        rc = 0;
    } else {
        item_fail(it, "libmongoc refused the operation: ", e.message);
        rc = -1;
    }
out:
    bson_destroy(&op_opts);
    bson_destroy(&doc);
    bson_destroy(&filter);
    return rc;
}

/* A bulk of the still PENDING items among `order` that have an op, or NULL
 * (err set) when memory ran out.  w->sent receives the item index of each
 * op. */
static mongoc_bulk_operation_t *build_bulk(const wctx *w, const size_t *order, size_t n_order,
                                           size_t *n_sent, rb_error *err) {
    for (;;) {
        mongoc_bulk_operation_t *bulk = new_bulk(w);
        bool rebuild = false;
        if (!bulk) {
            rb_error_nomem(err, RB_STAGE_SINK, "bulk operation");
            return NULL;
        }
        *n_sent = 0;
        for (size_t o = 0; o < n_order && !rebuild; o++) {
            size_t i = order[o];
            if (w->items[i].result != RB_SINK_PENDING || w->op[i] == RB_OP_NONE) continue;
            int rc = append_op(w, bulk, i);
            if (rc == 0) w->sent[(*n_sent)++] = i;
            rebuild = rc < 0;
        }
        if (!rebuild) return bulk;
        mongoc_bulk_operation_destroy(bulk); /* start over without that item */
    }
}

/* ---- reading the reply ---------------------------------------------------- */

static int64_t reply_int(const bson_t *reply, const char *key) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, reply, key) && BSON_ITER_HOLDS_NUMBER(&it))
        return bson_iter_as_int64(&it);
    return 0;
}

/* Copies the message of the first entry of array `key` of `reply` into
 * `buf`; returns false if the array is absent or empty. */
static bool first_error(const bson_t *reply, const char *key, char *buf, size_t len) {
    bson_iter_t it, arr, doc;
    if (!bson_iter_init_find(&it, reply, key) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr) || !bson_iter_next(&arr))
        return false;
    snprintf(buf, len, "(no message)");
    if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &doc) &&
        bson_iter_find(&doc, "errmsg") && BSON_ITER_HOLDS_UTF8(&doc))
        snprintf(buf, len, "%s", bson_iter_utf8(&doc, NULL));
    return true;
}

/* What an E11000 means depends on the op: for IN_FILTER's upsert an equal
 * or newer version holds the _id (STALE); for an insert or LOOKUP's upsert
 * someone else wrote the _id since it was read (decide again); a swap has
 * no upsert, so only another unique index can refuse it (FAILED). */
static void duplicate_key(const wctx *w, size_t i, const char *msg) {
    rb_sink_item *item = &w->items[i];
    switch (w->op[i]) {
    case RB_OP_REPLACE_OLDER: item->result = RB_SINK_STALE; return;
    case RB_OP_INSERT:
    case RB_OP_REPLACE: w->again[i] = RB_AGAIN_COLLIDED; return;
    default:
        item->result = RB_SINK_FAILED;
        snprintf(item->error, sizeof item->error, "server rejected the document (code %d): %s",
                 RB_SINK_DUPLICATE_KEY, msg);
        return;
    }
}

/* Applies writeErrors to the items (see duplicate_key; any other code is
 * this document's own failure).  Returns how many writing (non-delete) ops
 * it accounted for. */
static size_t apply_write_errors(const wctx *w, const bson_t *reply, size_t n_sent) {
    bson_iter_t it, arr, doc;
    size_t writes = 0;

    if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return 0;
    while (bson_iter_next(&arr)) {
        int64_t index = -1, code = 0;
        const char *msg = "(no message)";
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &doc)) continue;
        while (bson_iter_next(&doc)) {
            const char *k = bson_iter_key(&doc);
            if (strcmp(k, "index") == 0 && BSON_ITER_HOLDS_NUMBER(&doc))
                index = bson_iter_as_int64(&doc);
            else if (strcmp(k, "code") == 0 && BSON_ITER_HOLDS_NUMBER(&doc))
                code = bson_iter_as_int64(&doc);
            else if (strcmp(k, "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&doc))
                msg = bson_iter_utf8(&doc, NULL);
        }
        if (index < 0 || (uint64_t)index >= n_sent) continue;
        size_t i = w->sent[index];
        rb_sink_item *item = &w->items[i];
        if (w->op[i] != RB_OP_DELETE) writes++;
        if (code == RB_SINK_DUPLICATE_KEY && w->op[i] != RB_OP_DELETE) {
            duplicate_key(w, i, msg);
        } else {
            item->result = RB_SINK_FAILED;
            snprintf(item->error, sizeof item->error,
                     "server rejected the document (code %lld): %s", (long long)code, msg);
        }
    }
    return writes;
}

/* Re-sends the deletes that follow the last writing op of the bulk.
 * Deletes are idempotent and no later op of this window touches those ids,
 * so doing them again is harmless; it settles whether they ran when the
 * first reply cannot tell (see run_bulk). */
static bool confirm_trailing_deletes(const wctx *w, size_t from, size_t n_sent, bson_error_t *e) {
    mongoc_bulk_operation_t *bulk = new_bulk(w);
    bson_t reply;
    bool ok = bulk != NULL;

    for (size_t k = from; k < n_sent && ok; k++) {
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&filter, "_id", w->items[w->sent[k]].id);
        ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &filter, NULL, e);
        bson_destroy(&filter);
    }
    if (ok) {
        ok = mongoc_bulk_operation_execute(bulk, &reply, e) != 0;
        bson_destroy(&reply);
    }
    mongoc_bulk_operation_destroy(bulk);
    return ok;
}

enum bulk_outcome { BULK_SETTLED, BULK_FAILED, BULK_UNCLEAR };

/*
 * Runs one bulk and settles the results of its ops.
 *
 * libmongoc sends consecutive ops of one type as one command, in order, and
 * stops at the first command that fails as a whole (network, {ok: 0}); it
 * then reports the first writeError, if any, in place of that failure, so
 * the error alone cannot say whether a command failed.  Counting can: every
 * writing op that ran is in nInserted, nMatched, nUpserted or writeErrors,
 * except a swap that did not match, which is in none.  When all are there,
 * only deletes after the last writing op can be in doubt, and those are
 * sent again.  A bulk without errors whose counts fall short had swaps
 * that missed, but the reply does not say which: every swap of it is
 * marked unsure, for decide.c to read.
 *
 * Servers that ignore `ordered: false` (FerretDB 1.x stops an update
 * command at its first error, reports it at index 0 and drops the counts of
 * the statements before it) leave writing ops unaccounted for: with errors
 * and short counts the answer is BULK_UNCLEAR and the caller settles the
 * ops one by one.  A single op always gets a clear answer: it ran, it has a
 * writeError, its swap did not match, or its command failed.
 */
static enum bulk_outcome run_bulk(const wctx *w, mongoc_bulk_operation_t *bulk, size_t n_sent,
                                  rb_error *err) {
    size_t n_writes = 0, last_write = 0;
    bson_t reply;
    bson_error_t e;
    char msg[RB_ERROR_MSG_MAX / 2];
    enum bulk_outcome out = BULK_SETTLED;

    for (size_t k = 0; k < n_sent; k++)
        if (w->op[w->sent[k]] != RB_OP_DELETE) {
            n_writes++;
            last_write = k;
        }
    uint32_t ok = mongoc_bulk_operation_execute(bulk, &reply, &e);
    if (first_error(&reply, "writeConcernErrors", msg, sizeof msg)) {
        rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK, "write concern not satisfied: %s",
                               msg);
        rb_sink_in_collection(w->s, err);
        out = BULK_FAILED;
        goto done;
    }
    size_t ran = (size_t)(reply_int(&reply, "nInserted") + reply_int(&reply, "nMatched") +
                          reply_int(&reply, "nUpserted"));
    if (!ok) {
        bool any_write_error = first_error(&reply, "writeErrors", msg, sizeof msg);
        size_t accounted = apply_write_errors(w, &reply, n_sent) + ran;
        size_t first_doubtful = n_writes ? last_write + 1 : 0;
        /* No writeErrors: a command failed as a whole (network, timeout,
         * not primary, unauthorised), which is no one document's fault. */
        if (!any_write_error) {
            rb_sink_mongo_error(err, &e, "bulk write failed");
            rb_sink_in_collection(w->s, err);
            out = BULK_FAILED;
            goto done;
        }
        if (accounted < n_writes) {
            out = BULK_UNCLEAR;
            goto done;
        }
        if (first_doubtful < n_sent && !confirm_trailing_deletes(w, first_doubtful, n_sent, &e)) {
            rb_sink_mongo_error(err, &e, "bulk write failed");
            rb_sink_in_collection(w->s, err);
            out = BULK_FAILED;
            goto done;
        }
    } else if (ran < n_writes) {
        for (size_t k = 0; k < n_sent; k++)
            if (w->op[w->sent[k]] == RB_OP_SWAP) w->again[w->sent[k]] = RB_AGAIN_UNSURE;
    }
    for (size_t k = 0; k < n_sent; k++) {
        size_t i = w->sent[k];
        rb_sink_item *it = &w->items[i];
        if (it->result == RB_SINK_PENDING && w->again[i] == RB_AGAIN_NO)
            it->result = w->op[i] == RB_OP_DELETE ? RB_SINK_DELETED : RB_SINK_STORED;
    }
done:
    bson_destroy(&reply);
    return out;
}

/* Builds and runs one bulk of the listed items; returns 0 when every sent
 * op is settled or marked to decide again, 1 when the answer was unclear
 * (the sent items are PENDING again), -1 on failure (err set). */
static int write_list(const wctx *w, const size_t *order, size_t n_order, size_t *n_sent,
                      rb_error *err) {
    mongoc_bulk_operation_t *bulk = build_bulk(w, order, n_order, n_sent, err);
    enum bulk_outcome out;

    if (!bulk) return -1;
    if (*n_sent == 0) {
        mongoc_bulk_operation_destroy(bulk);
        return 0;
    }
    out = run_bulk(w, bulk, *n_sent, err);
    mongoc_bulk_operation_destroy(bulk);
    if (out != BULK_SETTLED) unsend(w, w->sent, *n_sent);
    return out == BULK_SETTLED ? 0 : out == BULK_UNCLEAR ? 1 : -1;
}

/* ---- settling one by one ------------------------------------------------------ */

/* IN_FILTER only: after settling one by one, an op the unclear bulk had
 * already applied answers STALE although this call wrote it.  Such a
 * document carries this call's ingested_at (no other call of this sink has
 * it, see rb_sink_next_ingested_ms) and the item's version and source
 * offset: those items are reported STORED (the first of equal ones in
 * batch order).  Best effort: if the lookup fails the items stay STALE,
 * which is also true of the store.  (CAS and LOOKUP tell their own writes
 * apart when they read collided items again, in decide.c.) */
static void reclaim_own_writes(wctx *w, const size_t *order, size_t n_order) {
    bson_t filter = BSON_INITIALIZER, in, ids;
    const bson_t *doc;
    size_t n_ids = 0;

    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &ids);
    for (size_t k = 0; k < n_order; k++) {
        const rb_sink_item *it = &w->items[order[k]];
        if (it->result == RB_SINK_STALE) {
            char tmp[16];
            const char *key;
            bson_uint32_to_string((uint32_t)n_ids++, &key, tmp, sizeof tmp);
            BSON_APPEND_UTF8(&ids, key, it->id);
        }
    }
    bson_append_array_end(&in, &ids);
    bson_append_document_end(&filter, &in);
    BSON_APPEND_DATE_TIME(&filter, "ingested_at", w->now_ms);
    if (n_ids == 0) {
        bson_destroy(&filter);
        return;
    }
    w->reads++;
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(w->coll, &filter, NULL, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        const char *id = NULL;
        int64_t version = -1, offset = -1;
        if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
            id = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_INT64(&it))
            version = bson_iter_int64(&it);
        if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "source.offset", &it) &&
            BSON_ITER_HOLDS_INT64(&it))
            offset = bson_iter_int64(&it);
        if (!id) continue;
        for (size_t k = 0; k < n_order; k++) {
            rb_sink_item *x = &w->items[order[k]];
            if (x->result == RB_SINK_STALE && x->version == version && x->offset == offset &&
                strcmp(x->id, id) == 0) {
                x->result = RB_SINK_STORED;
                break;
            }
        }
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
}

/* Writes one window of the batch as one bulk; when the reply is unclear,
 * settles each of its ops on its own, in batch order.  Ops the bulk had
 * already applied then come back STALE (IN_FILTER: reclaimed as STORED) or
 * collided (CAS, LOOKUP: decide.c finds its own write); nothing is applied
 * twice. */
static int write_window(wctx *w, const size_t *order, size_t n_order, rb_error *err) {
    size_t n_sent = 0, one;
    int rc = write_list(w, order, n_order, &n_sent, err);
    if (rc != 1) return rc;
    memcpy(w->redo, w->sent, n_sent * sizeof *w->redo);
    rc = 0;
    for (size_t k = 0; k < n_sent && rc == 0; k++) {
        rc = write_list(w, &w->redo[k], 1, &one, err);
        if (rc == 1) /* a single op always has a clear answer; be safe */
            rc = rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK,
                                        "unclear reply to a single write on %s.%s at %s",
                                        w->s->database, w->s->collection, w->s->uri_shown);
    }
    if (rc == 0 && w->s->mode == RB_SINK_VERSIONS_IN_FILTER)
        reclaim_own_writes(w, w->redo, n_sent);
    return rc;
}

int rb_sink_send_ops(rb_sink_wctx *w, rb_error *err) {
    size_t todo = 0, window;
    for (size_t i = 0; i < w->n; i++)
        if (w->items[i].result == RB_SINK_PENDING && w->op[i] != RB_OP_NONE) w->order[todo++] = i;
    window = w->s->max_ops_per_bulk ? w->s->max_ops_per_bulk : RB_SINK_BULK_MAX_OPS;
    int rc = 0;
    for (size_t start = 0; start < todo && rc == 0; start += window) {
        size_t len = todo - start < window ? todo - start : window;
        rc = write_window(w, w->order + start, len, err);
    }
    return rc;
}

static void add_stats(rb_sink_stats *st, const rb_sink_wctx *w, double ms) {
    if (!st) return;
    for (size_t i = 0; i < w->n; i++) {
        switch (w->items[i].result) {
        case RB_SINK_STORED: st->stored++; break;
        case RB_SINK_STALE: st->stale++; break;
        case RB_SINK_DELETED: st->deleted++; break;
        case RB_SINK_FAILED: st->failed++; break;
        case RB_SINK_PENDING: break;
        }
    }
    st->reads += w->reads;
    st->rounds += w->rounds;
    st->elapsed_ms += ms;
}

int rb_sink_write(rb_sink *s, rb_sink_item *items, size_t n, rb_sink_stats *stats, rb_error *err) {
    double t0 = now_mono_ms();
    wctx w = {.s = s, .items = items, .n = n, .now_ms = rb_sink_next_ingested_ms(s)};
    mongoc_client_t *c;
    int rc;

    for (size_t i = 0; i < n; i++) {
        items[i].result = RB_SINK_PENDING;
        items[i].error[0] = '\0';
    }
    if (n == 0) return 0;
    w.order = malloc(n * sizeof *w.order);
    w.sent = malloc(n * sizeof *w.sent);
    w.redo = malloc(n * sizeof *w.redo);
    w.op = calloc(n, sizeof *w.op);
    w.expect = calloc(n, sizeof *w.expect);
    w.again = calloc(n, sizeof *w.again);
    if (!w.order || !w.sent || !w.redo || !w.op || !w.expect || !w.again) {
        rc = rb_error_nomem(err, RB_STAGE_SINK, "bulk index map");
        goto out;
    }
    c = mongoc_client_pool_pop(s->pool);
    w.coll = mongoc_client_get_collection(c, s->database, s->collection);
    if (s->mode == RB_SINK_VERSIONS_IN_FILTER) {
        for (size_t i = 0; i < n; i++)
            w.op[i] = items[i].kind == RB_SINK_HARD_DELETE ? RB_OP_DELETE : RB_OP_REPLACE_OLDER;
        rc = rb_sink_send_ops(&w, err);
    } else {
        rc = rb_sink_write_deciding(&w, err);
    }
    mongoc_collection_destroy(w.coll);
    mongoc_client_pool_push(s->pool, c);
out:
    free(w.order);
    free(w.sent);
    free(w.redo);
    free(w.op);
    free(w.expect);
    free(w.again);
    if (rc == 0) {
        add_stats(stats, &w, now_mono_ms() - t0);
    } else {
        for (size_t i = 0; i < n; i++) {
            items[i].result = RB_SINK_PENDING;
            items[i].error[0] = '\0';
        }
    }
    return rc;
}
