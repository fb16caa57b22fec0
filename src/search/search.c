#include "search/search.h"

#include "common/buf.h"
#include "search/atlas.h"
#include "search/topk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct scan_ctx {
    const float *query;
    size_t dim;
    rb_topk top;
    size_t mismatched;
    bool nomem;
} scan_ctx;

static void hit_free(void *p) {
    rb_search_hit *h = p;
    if (!h) return;
    free(h->id);
    free(h->text);
    free(h->metadata_json);
    free(h);
}

static int on_doc(const rb_sink_doc_view *doc, void *arg) {
    scan_ctx *c = arg;
    if (doc->dim != c->dim) {
        c->mismatched++;
        return 0;
    }
    double score = rb_cosine(c->query, doc->vector, c->dim);
    /* Copy only what can still make the list. */
    if (c->top.count == c->top.k && score <= c->top.heap[0].score) return 0;
    rb_search_hit *h = calloc(1, sizeof *h);
    if (h) {
        h->score = score;
        h->id = strdup(doc->id);
        h->text = strdup(doc->text ? doc->text : "");
        h->metadata_json = strdup(doc->metadata_json);
    }
    if (!h || !h->id || !h->text || !h->metadata_json) {
        hit_free(h);
        c->nomem = true;
        return 1;
    }
    rb_topk_offer(&c->top, score, h);
    return 0;
}

int rb_search_exact(rb_sink *sink, const float *query, size_t dim, size_t k,
                    const rb_sink_scan_opts *filters, rb_search_hit **hits, size_t *n,
                    size_t *mismatched, rb_error *err) {
    *hits = NULL;
    *n = 0;
    scan_ctx c = {.query = query, .dim = dim};
    if (rb_topk_init(&c.top, k, hit_free) != 0) return rb_error_nomem(err, RB_STAGE_NONE, "top-k");
    if (rb_sink_scan(sink, filters, on_doc, &c, err) != 0 || c.nomem) {
        rb_topk_free(&c.top);
        return c.nomem ? rb_error_nomem(err, RB_STAGE_NONE, "search hits") : -1;
    }
    size_t count;
    rb_topk_entry *sorted = rb_topk_sorted(&c.top, &count);
    rb_search_hit *out = calloc(count ? count : 1, sizeof *out);
    if (!out) {
        rb_topk_free(&c.top);
        return rb_error_nomem(err, RB_STAGE_NONE, "search hits");
    }
    for (size_t i = 0; i < count; i++) {
        rb_search_hit *h = sorted[i].payload;
        out[i] = *h;
        free(h); /* its strings now belong to out[i] */
        sorted[i].payload = NULL;
    }
    c.top.count = 0;
    rb_topk_free(&c.top);
    *hits = out;
    *n = count;
    if (mismatched) *mismatched = c.mismatched;
    return 0;
}

void rb_search_hits_free(rb_search_hit *hits, size_t n) {
    for (size_t i = 0; hits && i < n; i++) {
        free(hits[i].id);
        free(hits[i].text);
        free(hits[i].metadata_json);
        for (size_t c = 0; c < hits[i].n_chunks; c++) free(hits[i].chunks[c].text);
        free(hits[i].chunks);
    }
    free(hits);
}

/* ---- the searcher: $vectorSearch where the server has it ------------ */

struct rb_searcher {
    rb_sink *sink;
    char *index;
    rb_sink *chunks; /* NULL: the job does not chunk */
    char *chunk_index;
    char *collection; /* of the parents, for the chunk pipeline's $lookup */
    rb_search_path path;
    char why[RB_ERROR_MSG_MAX]; /* the server's answer that ruled $vectorSearch out */
};

bool rb_search_unsupported(int code) {
    switch (code) {
    case 40324:
    case 40234:
    case 31082:
    case 6047401:
    case 59:
    case 115:
    case 238: return true;
    default: return false;
    }
}

rb_searcher *rb_searcher_new(rb_sink *sink, const char *index_name, rb_error *err) {
    rb_searcher *s = calloc(1, sizeof *s);
    if (!s || !(s->index = strdup(index_name ? index_name : ""))) {
        free(s);
        rb_error_nomem(err, RB_STAGE_NONE, "searcher");
        return NULL;
    }
    s->sink = sink;
    return s;
}

int rb_searcher_set_chunks(rb_searcher *s, rb_sink *chunks, const char *chunk_index,
                           const char *collection, rb_error *err) {
    char *ix = strdup(chunk_index ? chunk_index : ""),
         *coll = strdup(collection ? collection : "");
    if (!ix || !coll) {
        free(ix);
        free(coll);
        return rb_error_nomem(err, RB_STAGE_NONE, "searcher");
    }
    free(s->chunk_index);
    free(s->collection);
    s->chunks = chunks;
    s->chunk_index = ix;
    s->collection = coll;
    return 0;
}

void rb_searcher_destroy(rb_searcher *s) {
    if (!s) return;
    free(s->chunk_index);
    free(s->collection);
    free(s->index);
    free(s);
}

void rb_searcher_force(rb_searcher *s, rb_search_path path) { s->path = path; }

typedef struct atlas_ctx {
    rb_search_hit *hits;
    size_t n, cap;
    bool nomem;
} atlas_ctx;

static int on_atlas_hit(const rb_sink_hit_view *v, void *arg) {
    atlas_ctx *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        rb_search_hit *grown = realloc(c->hits, cap * sizeof *grown);
        if (!grown) goto nomem;
        c->hits = grown;
        c->cap = cap;
    }
    rb_search_hit *h = &c->hits[c->n];
    memset(h, 0, sizeof *h);
    h->score = v->score;
    h->id = strdup(v->id);
    h->text = strdup(v->text);
    h->metadata_json = strdup(v->metadata_json);
    h->chunked = v->chunked;
    h->chunk_index = v->chunk_index;
    h->span_start = v->chunk_start;
    h->span_end = v->chunk_end;
    h->span_tokens = v->chunk_tokens;
    c->n++;
    if (!h->id || !h->text || !h->metadata_json) goto nomem;
    if (!v->chunked) return 0;
    /* A chunked hit always lists its chunks: the pipeline's `chunks` when
     * it asked for several, else its best one. */
    size_t nc = v->n_chunks ? v->n_chunks : 1;
    if (!(h->chunks = calloc(nc, sizeof *h->chunks))) goto nomem;
    for (size_t i = 0; i < nc; i++) {
        const rb_sink_hit_chunk *k = v->n_chunks ? &v->chunks[i] : NULL;
        rb_search_chunk *o = &h->chunks[i];
        *o =
            k ? (rb_search_chunk){k->score, strdup(k->text), k->index, k->start, k->end, k->tokens}
              : (rb_search_chunk){h->score,      strdup(h->text), h->chunk_index,
                                  h->span_start, h->span_end,     h->span_tokens};
        if (!o->text) goto nomem;
        h->n_chunks++;
    }
    return 0;
nomem:
    c->nomem = true;
    return 1;
}

static int query_atlas(rb_searcher *s, const rb_search_query *q, rb_search_result *out,
                       int *server_code, rb_error *err) {
    rb_atlas_query aq = {.index = s->index,
                         .vector = q->vector,
                         .dim = q->dim,
                         .limit = q->k,
                         .num_candidates = q->num_candidates,
                         .exact = q->enn,
                         .equals = q->equals,
                         .n_equals = q->n_equals};
    rb_buf pipeline;
    rb_buf_init(&pipeline);
    if (rb_atlas_pipeline_json(&aq, &pipeline, err) != 0) {
        rb_buf_free(&pipeline);
        return -1;
    }
    atlas_ctx c = {0};
    int rc = rb_sink_aggregate_hits(s->sink, pipeline.data, on_atlas_hit, &c, server_code, err);
    rb_buf_free(&pipeline);
    if (rc == 0 && c.nomem) rc = rb_error_nomem(err, RB_STAGE_NONE, "search hits");
    if (rc != 0) {
        rb_search_hits_free(c.hits, c.n);
        return -1;
    }
    if (!s->chunks) {
        out->hits = c.hits;
        out->n = c.n;
        return 0;
    }
    /* The chunks' index: the best chunk per parent, checked against the
     * parent's version on the server, merged with the documents' hits. */
    aq.index = s->chunk_index;
    rb_buf_init(&pipeline);
    atlas_ctx cc = {0};
    rc = rb_atlas_chunk_pipeline_json(&aq, s->collection, q->chunks_per_doc, &pipeline, err);
    if (rc == 0)
        rc = rb_sink_aggregate_hits(s->chunks, pipeline.data, on_atlas_hit, &cc, server_code, err);
    rb_buf_free(&pipeline);
    if (rc == 0 && cc.nomem) rc = rb_error_nomem(err, RB_STAGE_NONE, "search hits");
    if (rc != 0) {
        rb_search_hits_free(c.hits, c.n);
        rb_search_hits_free(cc.hits, cc.n);
        return -1;
    }
    return rb_search_merge_parents(c.hits, c.n, cc.hits, cc.n, q->k, &out->hits, &out->n, err);
}

int rb_searcher_query(rb_searcher *s, const rb_search_query *q, rb_search_result *out,
                      rb_error *err) {
    memset(out, 0, sizeof *out);
    if (s->path != RB_SEARCH_PATH_EXACT) {
        int code = 0;
        if (query_atlas(s, q, out, &code, err) == 0) {
            s->path = RB_SEARCH_PATH_ATLAS;
            out->path = RB_SEARCH_PATH_ATLAS;
            snprintf(out->notice, sizeof out->notice,
                     "%s search through the Atlas Vector Search index '%s' ($vectorSearch); the "
                     "index is eventually consistent, so documents written in the last moments "
                     "may not be found yet",
                     q->enn ? "exact (ENN)" : "approximate (ANN)", s->index);
            /* Atlas answers a query on a missing index with no documents
             * rather than an error. */
            size_t used = strlen(out->notice);
            if (out->n == 0)
                snprintf(out->notice + used, sizeof out->notice - used,
                         "; no hits: check that the index exists and is READY (ragbatch index "
                         "show)");
            return 0;
        }
        /* Only the first answer decides: once $vectorSearch has worked,
         * a later failure is a failure, not a reason to change path. */
        if (s->path == RB_SEARCH_PATH_ATLAS || !rb_search_unsupported(code)) return -1;
        s->path = RB_SEARCH_PATH_EXACT;
        snprintf(s->why, sizeof s->why, "the server does not support $vectorSearch (code %d)",
                 code);
    }
    out->path = RB_SEARCH_PATH_EXACT;
    rb_sink_scan_opts scan = {.equals = q->equals, .n_equals = q->n_equals};
    for (size_t i = 0; i < q->n_equals; i++)
        if (rb_atlas_check_field(q->equals[i].field, err) != 0) return -1;
    if (s->chunks ? rb_search_exact_parents(s->sink, s->chunks, q->vector, q->dim, q->k,
                                            q->chunks_per_doc, &scan, &out->hits, &out->n,
                                            &out->mismatched, err)
                  : rb_search_exact(s->sink, q->vector, q->dim, q->k, &scan, &out->hits, &out->n,
                                    &out->mismatched, err))
        return -1;
    snprintf(out->notice, sizeof out->notice,
             "exact search: cosine similarity over every stored vector, computed by ragbatch "
             "(%s)",
             s->why[0] ? s->why : "asked for");
    return 0;
}

void rb_search_result_free(rb_search_result *r) {
    if (!r) return;
    rb_search_hits_free(r->hits, r->n);
    r->hits = NULL;
    r->n = 0;
}
