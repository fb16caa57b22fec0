/* inproc.c -- in-process source, sink, embedder and DLQ for check_runner;
 * see inproc.h. */
#include "inproc.h"

#include "common/buf.h"
#include "common/clock.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INPROC_TOPIC "t"
#define INPROC_MAX_PARTITIONS 8

/* ---- source ----------------------------------------------------------- */

typedef struct queued {
    inproc_msg msg;
    int64_t offset;
} queued;

typedef struct queued_batch {
    queued *msgs;
    size_t n;
} queued_batch;

typedef struct part {
    int64_t next;      /* offset the next queued record gets */
    int64_t committed; /* -1: none */
} part;

struct inproc_source {
    queued_batch *batches;
    size_t n_batches, handed;
    part parts[INPROC_MAX_PARTITIONS];
    size_t commits, unsettled_at_commit, skipped_at_commit;
    size_t holds, releases;
    bool held;
};

inproc_source *inproc_source_new(void) {
    inproc_source *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < INPROC_MAX_PARTITIONS; i++) s->parts[i].committed = -1;
    return s;
}

void inproc_source_free(inproc_source *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_batches; i++) free(s->batches[i].msgs);
    free(s->batches);
    free(s);
}

void inproc_source_batch(inproc_source *s, const inproc_msg *msgs, size_t n) {
    s->batches = realloc(s->batches, (s->n_batches + 1) * sizeof *s->batches);
    ck_assert_ptr_nonnull(s->batches);
    queued_batch *qb = &s->batches[s->n_batches++];
    qb->msgs = calloc(n ? n : 1, sizeof *qb->msgs);
    ck_assert_ptr_nonnull(qb->msgs);
    qb->n = n;
    for (size_t i = 0; i < n; i++) {
        ck_assert(msgs[i].partition >= 0 && msgs[i].partition < INPROC_MAX_PARTITIONS);
        qb->msgs[i].msg = msgs[i];
        qb->msgs[i].offset = s->parts[msgs[i].partition].next++;
    }
}

static int src_fill(void *impl, rb_batch *b, size_t max_records, size_t max_bytes,
                    int64_t deadline_ms, volatile sig_atomic_t *stop, rb_error *err) {
    (void)max_bytes;
    (void)stop;
    inproc_source *s = impl;
    if (s->handed == s->n_batches) {
        /* Nothing more: wait out (a short part of) the trigger, as a
         * consumer with nothing to fetch would. */
        int64_t left = deadline_ms - rb_now_ms();
        rb_sleep_ms(left < 0 ? 0 : left > 20 ? 20 : left);
        return 0;
    }
    const queued_batch *qb = &s->batches[s->handed++];
    ck_assert_uint_le(qb->n, max_records);
    for (size_t i = 0; i < qb->n; i++) {
        const inproc_msg *m = &qb->msgs[i].msg;
        if (!rb_batch_add(b, INPROC_TOPIC, m->partition, qb->msgs[i].offset, 1000, m->key,
                          m->key ? strlen(m->key) : 0, m->value, m->value ? strlen(m->value) : 0,
                          err))
            return -1;
    }
    return 0;
}

static int src_commit(void *impl, const rb_batch *b, size_t *committed, size_t *skipped,
                      rb_error *err) {
    (void)err;
    inproc_source *s = impl;
    s->commits++;
    for (size_t i = 0; i < rb_batch_count(b); i++) {
        rb_record_state st = rb_batch_record_const(b, i)->state;
        if (st == RB_REC_PENDING || st == RB_REC_UNCHANGED || st == RB_REC_FAILED)
            s->unsettled_at_commit++;
        if (st == RB_REC_SKIPPED) s->skipped_at_commit++;
    }
    size_t n;
    const rb_batch_range *r = rb_batch_ranges(b, &n);
    for (size_t i = 0; i < n; i++) s->parts[r[i].partition].committed = r[i].last_offset + 1;
    if (committed) *committed = n;
    if (skipped) *skipped = 0;
    return 0;
}

static bool src_assigned_done(void *impl) {
    inproc_source *s = impl;
    return s->handed == s->n_batches;
}

static int src_behind_check(void *impl, rb_source_behind *out, rb_error *err) {
    (void)err;
    inproc_source *s = impl;
    memset(out, 0, sizeof *out);
    for (int p = 0; p < INPROC_MAX_PARTITIONS; p++) {
        const part *pt = &s->parts[p];
        if (pt->next == 0) continue;
        out->assigned++;
        int64_t done = pt->committed < 0 ? 0 : pt->committed;
        if (done < pt->next) {
            out->partitions++;
            out->records += pt->next - done;
        }
    }
    snprintf(out->detail, sizeof out->detail, "%zu partitions of %s behind", out->partitions,
             INPROC_TOPIC);
    return 0;
}

static int src_hold(void *impl, rb_error *err) {
    (void)err;
    inproc_source *s = impl;
    ck_assert(!s->held);
    s->held = true;
    s->holds++;
    return 0;
}

static int src_hold_serve(void *impl, int wait_ms, rb_error *err) {
    (void)impl;
    (void)err;
    rb_sleep_ms(wait_ms);
    return 0;
}

static int src_release(void *impl, rb_error *err) {
    (void)err;
    inproc_source *s = impl;
    if (s->held) s->releases++;
    s->held = false;
    return 0;
}

static const rb_runner_source_ops source_ops = {
    .fill = src_fill,
    .commit = src_commit,
    .assigned_done = src_assigned_done,
    .behind_check = src_behind_check,
    .hold = src_hold,
    .hold_serve = src_hold_serve,
    .release = src_release,
};

rb_runner_source inproc_source_port(inproc_source *s) {
    return (rb_runner_source){&source_ops, s};
}

int64_t inproc_source_committed(const inproc_source *s, int32_t partition) {
    return s->parts[partition].committed;
}
size_t inproc_source_commits(const inproc_source *s) { return s->commits; }
size_t inproc_source_unsettled_at_commit(const inproc_source *s) { return s->unsettled_at_commit; }
size_t inproc_source_skipped_at_commit(const inproc_source *s) { return s->skipped_at_commit; }
size_t inproc_source_holds(const inproc_source *s) { return s->holds; }
size_t inproc_source_releases(const inproc_source *s) { return s->releases; }

/* ---- sink ------------------------------------------------------------- */

struct inproc_sink {
    inproc_doc *docs;
    size_t n, cap;
    rb_buf journal;
    int fail_writes;
    bool fail_retriable;
    int fail_reads;
    char *reject;
    bool needs_versions;
    size_t writes, failed_writes, known_items, removed;
};

inproc_sink *inproc_sink_new(void) {
    inproc_sink *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    rb_buf_init(&s->journal);
    rb_buf_puts(&s->journal, "");
    return s;
}

static void doc_free(inproc_doc *d) {
    free(d->id);
    free(d->text);
    free(d->parent_id);
}

void inproc_sink_free(inproc_sink *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) doc_free(&s->docs[i]);
    free(s->docs);
    free(s->reject);
    rb_buf_free(&s->journal);
    free(s);
}

void inproc_sink_fail_writes(inproc_sink *s, int n, bool retriable) {
    s->fail_writes = n;
    s->fail_retriable = retriable;
}

void inproc_sink_reject(inproc_sink *s, const char *id) {
    free(s->reject);
    s->reject = id ? strdup(id) : NULL;
}

void inproc_sink_fail_reads(inproc_sink *s, int n) { s->fail_reads = n; }
void inproc_sink_needs_versions(inproc_sink *s, bool needs) { s->needs_versions = needs; }

static inproc_doc *find(const inproc_sink *s, const char *id) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->docs[i].id, id) == 0) return &s->docs[i];
    return NULL;
}

const inproc_doc *inproc_sink_get(const inproc_sink *s, const char *id) { return find(s, id); }

size_t inproc_sink_count(const inproc_sink *s, bool include_deleted) {
    size_t c = 0;
    for (size_t i = 0; i < s->n; i++) c += include_deleted || !s->docs[i].deleted;
    return c;
}

const char *inproc_sink_journal(const inproc_sink *s) { return s->journal.data; }
size_t inproc_sink_writes(const inproc_sink *s) { return s->writes; }
size_t inproc_sink_failed_writes(const inproc_sink *s) { return s->failed_writes; }
size_t inproc_sink_known_items(const inproc_sink *s) { return s->known_items; }
size_t inproc_sink_removed(const inproc_sink *s) { return s->removed; }

static const char *kind_name(rb_sink_kind k) {
    return k == RB_SINK_UPSERT ? "upsert" : k == RB_SINK_SOFT_DELETE ? "soft" : "hard";
}

static void apply(inproc_sink *s, rb_sink_item *it) {
    if (s->reject && strcmp(s->reject, it->id) == 0) {
        it->result = RB_SINK_FAILED;
        snprintf(it->error, sizeof it->error, "rejected by the test");
        return;
    }
    inproc_doc *d = find(s, it->id);
    if (it->kind == RB_SINK_HARD_DELETE) {
        if (d) {
            doc_free(d);
            *d = s->docs[--s->n];
        }
        it->result = RB_SINK_DELETED;
        return;
    }
    if (d && d->version >= it->version) {
        it->result = RB_SINK_STALE;
        return;
    }
    if (!d) {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 16;
            s->docs = realloc(s->docs, s->cap * sizeof *s->docs);
            ck_assert_ptr_nonnull(s->docs);
        }
        d = &s->docs[s->n++];
        memset(d, 0, sizeof *d);
        d->id = strdup(it->id);
    }
    free(d->text);
    d->text = NULL;
    d->version = it->version;
    d->offset = it->offset;
    d->deleted = it->kind == RB_SINK_SOFT_DELETE;
    d->text_hash[0] = '\0';
    d->dim = 0;
    d->chunk_count = it->kind == RB_SINK_UPSERT ? it->chunk_count : 0;
    free(d->parent_id);
    d->parent_id = it->chunk ? strdup(it->chunk->parent_id) : NULL;
    d->chunk_index = it->chunk ? it->chunk->index : 0;
    if (it->kind == RB_SINK_UPSERT && it->chunk_count > 0) {
        /* A long text's parent: its vectors are its chunks'. */
        ck_assert_ptr_null(it->vector);
        d->text = strdup(it->text);
        snprintf(d->text_hash, sizeof d->text_hash, "%s", it->text_hash);
    } else if (it->kind == RB_SINK_UPSERT) {
        ck_assert_uint_eq(it->dim, INPROC_DIM);
        d->text = strdup(it->text);
        snprintf(d->text_hash, sizeof d->text_hash, "%s", it->text_hash);
        memcpy(d->vector, it->vector, INPROC_DIM * sizeof(float));
        d->dim = INPROC_DIM;
        /* The name, or the name and the job's embed.prefix.document. */
        ck_assert_msg(strncmp(it->model, "inproc-hash", 11) == 0, "model %s", it->model);
        snprintf(d->model, sizeof d->model, "%s", it->model);
    }
    it->result = RB_SINK_STORED;
}

static int sink_write(void *impl, rb_sink_item *items, size_t n, rb_error *err) {
    inproc_sink *s = impl;
    s->writes++;
    for (size_t i = 0; i < n; i++) ck_assert_int_eq(items[i].result, RB_SINK_PENDING);
    if (s->fail_writes > 0) {
        s->fail_writes--;
        s->failed_writes++;
        if (s->fail_retriable)
            return rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK,
                                          "in-process sink: unavailable (retriable)");
        return rb_error_set(err, RB_ERR_MONGO, RB_STAGE_SINK,
                            "in-process sink: not authorised (not retriable)");
    }
    for (size_t i = 0; i < n; i++) {
        if (items[i].known != RB_SINK_UNKNOWN) s->known_items++;
        apply(s, &items[i]);
        rb_buf_printf(&s->journal, "%s %s %lld %s\n", kind_name(items[i].kind), items[i].id,
                      items[i].kind == RB_SINK_HARD_DELETE ? 0LL : (long long)items[i].version,
                      rb_sink_result_name(items[i].result));
    }
    return 0;
}

static int sink_read_stored(void *impl, const char *const *ids, size_t n, unsigned what,
                            rb_sink_stored_fn fn, void *ctx, rb_error *err) {
    inproc_sink *s = impl;
    size_t upto = n;
    bool fail = s->fail_reads > 0;
    if (fail) {
        s->fail_reads--;
        upto = n / 2 + (n % 2);
    }
    for (size_t i = 0; i < upto; i++) {
        const inproc_doc *d = find(s, ids[i]);
        if (!d) continue;
        bool vectors = (what & RB_SINK_READ_VECTORS) && d->dim;
        rb_sink_stored_view v = {
            .id = d->id,
            .text_hash = vectors ? d->text_hash : NULL,
            .model = vectors ? d->model : NULL,
            .vector = vectors ? d->vector : NULL,
            .dim = vectors ? d->dim : 0,
            .version = d->version,
            .deleted = d->deleted,
        };
        if (fn(&v, ctx)) return 0;
    }
    if (fail)
        return rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK,
                                      "in-process sink: read cut short");
    return 0;
}

static int sink_ping(void *impl, rb_error *err) {
    (void)impl;
    (void)err;
    return 0;
}
static bool sink_needs_versions(const void *impl) {
    return ((const inproc_sink *)impl)->needs_versions;
}
static bool sink_read_pays(const void *impl) {
    (void)impl;
    return true;
}
static const char *sink_describe(const void *impl) {
    (void)impl;
    return "in-process sink (tests/inproc.c)";
}

/* sink.h's rb_sink_remove_chunks on the chunk documents held here. */
static int sink_remove_chunks(void *impl, const rb_sink_chunk_clean *c, size_t n, size_t *removed,
                              rb_error *err) {
    inproc_sink *s = impl;
    (void)err;
    *removed = 0;
    for (size_t k = 0; k < n; k++) {
        for (size_t i = 0; i < s->n;) {
            inproc_doc *d = &s->docs[i];
            if (!d->parent_id || strcmp(d->parent_id, c[k].parent_id) != 0 ||
                (!c[k].all && d->version >= c[k].below)) {
                i++;
                continue;
            }
            rb_buf_printf(&s->journal, "remove %s %lld\n", d->id, (long long)d->version);
            doc_free(d);
            *d = s->docs[--s->n];
            (*removed)++;
        }
    }
    s->removed += *removed;
    return 0;
}

static const rb_sink_ops sink_ops = {
    .name = "inproc",
    .write = sink_write,
    .read_stored = sink_read_stored,
    .ping = sink_ping,
    .needs_versions = sink_needs_versions,
    .read_pays = sink_read_pays,
    .describe = sink_describe,
    .remove_chunks = sink_remove_chunks,
};

static const rb_sink_ops sink_ops_without_remove = {
    .name = "inproc-without-remove",
    .write = sink_write,
    .read_stored = sink_read_stored,
    .ping = sink_ping,
    .needs_versions = sink_needs_versions,
    .read_pays = sink_read_pays,
    .describe = sink_describe,
};

rb_sink_port inproc_sink_port(inproc_sink *s) { return (rb_sink_port){&sink_ops, s}; }
rb_sink_port inproc_sink_port_without_remove(inproc_sink *s) {
    return (rb_sink_port){&sink_ops_without_remove, s};
}

/* ---- embedder --------------------------------------------------------- */

void inproc_vector(const char *text, float out[INPROC_DIM]) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    double norm = 0;
    for (int i = 0; i < INPROC_DIM; i++) {
        h ^= h >> 29;
        h *= 0xbf58476d1ce4e5b9ull;
        out[i] = (float)((double)(h >> 11) / 9007199254740992.0 - 0.5);
        norm += (double)out[i] * out[i];
    }
    norm = sqrt(norm);
    for (int i = 0; i < INPROC_DIM; i++) out[i] = (float)(out[i] / norm);
}

static int emb_embed(void *impl, const char *const *texts, size_t n, float *out, rb_error *err) {
    inproc_embed_stats *st = impl;
    st->calls++;
    if (st->fail_calls > 0) {
        st->fail_calls--;
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED, "in-process embedder: failed");
    }
    for (size_t i = 0; i < n; i++) {
        inproc_vector(texts[i], out + i * INPROC_DIM);
        size_t len = strlen(st->seen);
        snprintf(st->seen + len, sizeof st->seen - len, "%s|", texts[i]);
    }
    st->texts += n;
    return 0;
}

static void emb_destroy(void *impl) { (void)impl; }

static const rb_embedder_ops embedder_ops = {
    .provider = "inproc",
    .embed = emb_embed,
    .destroy = emb_destroy,
};

rb_embedder *inproc_embedder_new(inproc_embed_stats *stats) {
    rb_error err;
    rb_embedder *e = rb_embedder_wrap(&embedder_ops, stats, INPROC_DIM, "inproc-hash", &err);
    ck_assert_msg(e != NULL, "%s", err.msg);
    return e;
}

/* ---- DLQ -------------------------------------------------------------- */

struct inproc_dlq {
    rb_buf journal;
    int fail;
    inproc_dlq_failure how;
    size_t delivered, sends;
};

inproc_dlq *inproc_dlq_new(void) {
    inproc_dlq *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    rb_buf_init(&d->journal);
    rb_buf_puts(&d->journal, "");
    return d;
}

void inproc_dlq_free(inproc_dlq *d) {
    if (!d) return;
    rb_buf_free(&d->journal);
    free(d);
}

void inproc_dlq_fail(inproc_dlq *d, int n, inproc_dlq_failure how) {
    d->fail = n;
    d->how = how;
}

const char *inproc_dlq_journal(const inproc_dlq *d) { return d->journal.data; }
size_t inproc_dlq_delivered(const inproc_dlq *d) { return d->delivered; }
size_t inproc_dlq_sends(const inproc_dlq *d) { return d->sends; }

static int dlq_send(void *impl, rb_batch *b, size_t *sent, rb_error *err) {
    inproc_dlq *d = impl;
    *sent = 0;
    size_t skipped = 0;
    for (size_t i = 0; i < rb_batch_count(b); i++)
        skipped += rb_batch_record(b, i)->state == RB_REC_SKIPPED;
    if (skipped == 0) return 0;
    d->sends++;
    bool failing = d->fail > 0;
    if (failing) d->fail--;
    if (failing && d->how == INPROC_DLQ_REFUSE)
        return rb_error_set(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                            "in-process DLQ: the topic refuses every record (not retriable)");
    for (size_t i = 0; i < rb_batch_count(b); i++) {
        rb_record *r = rb_batch_record(b, i);
        if (r->state != RB_REC_SKIPPED) continue;
        if (failing && d->how == INPROC_DLQ_NOTHING) break;
        rb_record_settle(r, RB_REC_DEAD_LETTERED);
        rb_buf_printf(&d->journal, "t[%d]@%lld %s\n", r->partition, (long long)r->offset,
                      rb_stage_name(r->fail_stage));
        d->delivered++;
        (*sent)++;
        if (failing) break; /* the rest is not acknowledged */
    }
    if (failing)
        return rb_error_set_retriable(err, RB_ERR_KAFKA, RB_STAGE_DLQ,
                                      "in-process DLQ: not all acknowledged (retriable)");
    return 0;
}

static const rb_runner_dlq_ops dlq_ops = {.send = dlq_send};

rb_runner_dlq inproc_dlq_port(inproc_dlq *d) { return (rb_runner_dlq){&dlq_ops, d}; }
