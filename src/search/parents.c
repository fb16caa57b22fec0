/*
 * parents.c -- search over a job that chunks long texts: documents are
 * found by their own vector (a text of one chunk) or by their best chunk,
 * and answered as documents (search.h, rb_search_exact_parents).
 */
#include "search/search.h"

#include "search/topk.h"

#include <stdlib.h>
#include <string.h>

/* Best chunks per parent and version, for at most `cap` of them; `cap`
 * is larger than k so that candidates whose chunks turn out to be of
 * another version than their parent (mid-batch, see docs/architecture.md)
 * leave enough. */
typedef struct cand {
    rb_search_hit hit; /* id = the parent's; score, text, span of chunks[0] */
    int64_t version;
    bool ok; /* the parent is live at this chunk's version */
} cand;

typedef struct chunk_scan {
    const float *query;
    size_t dim;
    size_t per_doc; /* chunks kept per candidate, >= 1 */
    cand *c;
    size_t n, cap;
    size_t mismatched;
    bool nomem;
} chunk_scan;

static void hit_clear(rb_search_hit *h) {
    free(h->id);
    free(h->text);
    free(h->metadata_json);
    for (size_t i = 0; i < h->n_chunks; i++) free(h->chunks[i].text);
    free(h->chunks);
    memset(h, 0, sizeof *h);
}

/* The hit's best chunk, copied to its own fields. */
static int sync_best(rb_search_hit *h) {
    const rb_search_chunk *b = &h->chunks[0];
    char *text = strdup(b->text);
    if (!text) return -1;
    free(h->text);
    h->text = text;
    h->score = b->score;
    h->chunked = true;
    h->chunk_index = b->index;
    h->span_start = b->span_start;
    h->span_end = b->span_end;
    h->span_tokens = b->tokens;
    return 0;
}

/* Puts the chunk `d` into the candidate's list of its best per_doc,
 * keeping it sorted by score (ties: lower index first). */
static int add_chunk(chunk_scan *s, cand *c, const rb_sink_doc_view *d, double score) {
    rb_search_hit *h = &c->hit;
    size_t at = h->n_chunks;
    while (at > 0 &&
           (h->chunks[at - 1].score < score ||
            (h->chunks[at - 1].score == score && h->chunks[at - 1].index > d->chunk_index)))
        at--;
    if (at >= s->per_doc) return 0;
    char *text = strdup(d->text ? d->text : "");
    if (!text) goto nomem;
    if (h->n_chunks == s->per_doc) { /* full: the worst goes */
        free(h->chunks[h->n_chunks - 1].text);
        h->n_chunks--;
    }
    memmove(&h->chunks[at + 1], &h->chunks[at], (h->n_chunks - at) * sizeof *h->chunks);
    h->chunks[at] = (rb_search_chunk){score,          text,         d->chunk_index,
                                      d->chunk_start, d->chunk_end, d->chunk_tokens};
    h->n_chunks++;
    if (at == 0 && sync_best(h) != 0) goto nomem;
    return 0;
nomem:
    s->nomem = true;
    return 1;
}

/* Makes `c` (cleared, or evicted) the candidate of d's parent and version. */
static int new_cand(chunk_scan *s, cand *c, const rb_sink_doc_view *d, double score) {
    hit_clear(&c->hit);
    c->hit.id = strdup(d->parent_id);
    c->hit.metadata_json = strdup(d->metadata_json);
    c->hit.chunks = calloc(s->per_doc, sizeof *c->hit.chunks);
    c->version = d->version;
    c->ok = false;
    if (!c->hit.id || !c->hit.metadata_json || !c->hit.chunks) {
        s->nomem = true;
        return 1;
    }
    return add_chunk(s, c, d, score);
}

static int on_chunk(const rb_sink_doc_view *d, void *arg) {
    chunk_scan *s = arg;
    if (!d->parent_id) return 0; /* not a chunk */
    if (d->dim != s->dim) {
        s->mismatched++;
        return 0;
    }
    double score = rb_cosine(s->query, d->vector, s->dim);
    size_t min = 0;
    for (size_t i = 0; i < s->n; i++) {
        /* One candidate per parent and version: a chunk of another
         * version must not take the place of the parent's current ones. */
        if (s->c[i].version == d->version && strcmp(s->c[i].hit.id, d->parent_id) == 0)
            return add_chunk(s, &s->c[i], d, score);
        if (s->c[i].hit.score < s->c[min].hit.score) min = i;
    }
    if (s->n < s->cap) return new_cand(s, &s->c[s->n++], d, score);
    return score > s->c[min].hit.score ? new_cand(s, &s->c[min], d, score) : 0;
}

static int on_parent(const rb_sink_stored_view *v, void *arg) {
    chunk_scan *s = arg;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->c[i].hit.id, v->id) == 0)
            s->c[i].ok = !v->deleted && v->version == s->c[i].version;
    return 0;
}

static int by_score_desc(const void *a, const void *b) {
    double x = ((const rb_search_hit *)a)->score, y = ((const rb_search_hit *)b)->score;
    if (x != y) return x > y ? -1 : 1;
    return strcmp(((const rb_search_hit *)a)->id, ((const rb_search_hit *)b)->id);
}

int rb_search_merge_parents(rb_search_hit *docs, size_t n_docs, rb_search_hit *chunks,
                            size_t n_chunks, size_t k, rb_search_hit **hits, size_t *n,
                            rb_error *err) {
    size_t total = n_docs + n_chunks;
    rb_search_hit *all = malloc((total ? total : 1) * sizeof *all);
    if (!all) {
        rb_search_hits_free(docs, n_docs);
        rb_search_hits_free(chunks, n_chunks);
        return rb_error_nomem(err, RB_STAGE_NONE, "search hits");
    }
    memcpy(all, docs, n_docs * sizeof *all);
    memcpy(all + n_docs, chunks, n_chunks * sizeof *all);
    free(docs);
    free(chunks);
    qsort(all, total, sizeof *all, by_score_desc);
    /* One hit per document, its best; then the first k. */
    size_t w = 0;
    for (size_t i = 0; i < total; i++) {
        bool seen = false;
        for (size_t j = 0; j < w && !seen; j++) seen = strcmp(all[j].id, all[i].id) == 0;
        if (seen || w == k)
            hit_clear(&all[i]);
        else
            all[w++] = all[i];
    }
    *hits = all;
    *n = w;
    return 0;
}

int rb_search_exact_parents(rb_sink *docs, rb_sink *chunks, const float *query, size_t dim,
                            size_t k, size_t per_doc, const rb_sink_scan_opts *filters,
                            rb_search_hit **hits, size_t *n, size_t *mismatched, rb_error *err) {
    *hits = NULL;
    *n = 0;
    rb_search_hit *dh = NULL;
    size_t nd = 0, dmis = 0;
    if (per_doc == 0) per_doc = 1;
    if (per_doc > RB_SEARCH_CHUNKS_PER_DOC_MAX)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "%zu chunks per document: at most %d",
                            per_doc, RB_SEARCH_CHUNKS_PER_DOC_MAX);
    if (rb_search_exact(docs, query, dim, k, filters, &dh, &nd, &dmis, err) != 0) return -1;
    chunk_scan s = {.query = query, .dim = dim, .per_doc = per_doc, .cap = 4 * k + 8};
    s.c = calloc(s.cap, sizeof *s.c);
    if (!s.c) {
        rb_search_hits_free(dh, nd);
        return rb_error_nomem(err, RB_STAGE_NONE, "search candidates");
    }
    int rc = rb_sink_scan(chunks, filters, on_chunk, &s, err);
    if (rc == 0 && s.nomem) rc = rb_error_nomem(err, RB_STAGE_NONE, "search candidates");
    const char **ids = rc == 0 ? malloc((s.n ? s.n : 1) * sizeof *ids) : NULL;
    if (rc == 0 && !ids) rc = rb_error_nomem(err, RB_STAGE_NONE, "search candidates");
    if (rc == 0) {
        for (size_t i = 0; i < s.n; i++) ids[i] = s.c[i].hit.id;
        if (s.n) rc = rb_sink_read_stored(docs, ids, s.n, 0, on_parent, &s, err);
    }
    free(ids);
    rb_search_hit *ch = rc == 0 ? malloc((s.n ? s.n : 1) * sizeof *ch) : NULL;
    if (rc == 0 && !ch) rc = rb_error_nomem(err, RB_STAGE_NONE, "search hits");
    size_t nc = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (rc == 0 && s.c[i].ok)
            ch[nc++] = s.c[i].hit; /* its strings move */
        else
            hit_clear(&s.c[i].hit);
    }
    free(s.c);
    if (rc != 0) {
        free(ch);
        rb_search_hits_free(dh, nd);
        return -1;
    }
    if (mismatched) *mismatched = dmis + s.mismatched;
    return rb_search_merge_parents(dh, nd, ch, nc, k, hits, n, err);
}
