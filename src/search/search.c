#include "search/search.h"

#include "search/topk.h"

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
    }
    free(hits);
}
