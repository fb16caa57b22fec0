/*
 * search.h -- the read side: the nearest stored documents to a query
 * vector.
 *
 * rb_search_exact() scores every live document the sink streams out
 * (cosine similarity, in C) and keeps the best k in a heap, so memory is
 * O(k) whatever the collection's size.  It is the answer where the server
 * has no vector index ($vectorSearch), and the reference the approximate
 * index is checked against.
 */
#ifndef RB_SEARCH_H
#define RB_SEARCH_H

#include "common/error.h"
#include "sink/sink.h"

#include <stddef.h>

typedef struct rb_search_hit {
    double score;          /* cosine similarity, -1..1 */
    char *id;
    char *text;
    char *metadata_json;
} rb_search_hit;

/* Fills *hits (caller frees with rb_search_hits_free) with at most `k`
 * documents, best first.  Documents whose vector length differs from
 * `dim` are skipped and counted in *mismatched (may be NULL): they were
 * written by another model. */
int rb_search_exact(rb_sink *sink, const float *query, size_t dim, size_t k,
                    const rb_sink_scan_opts *filters, rb_search_hit **hits, size_t *n,
                    size_t *mismatched, rb_error *err);

void rb_search_hits_free(rb_search_hit *hits, size_t n);

#endif
