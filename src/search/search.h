/*
 * search.h -- the read side: the nearest stored documents to a query
 * vector.
 *
 * rb_search_exact() scores every live document the sink streams out
 * (cosine similarity, in C) and keeps the best k in a heap, so memory is
 * O(k) whatever the collection's size.  It is the answer where the server
 * has no vector index ($vectorSearch), and the reference the approximate
 * index is checked against.
 *
 * rb_searcher answers a query the best way the server allows: it tries
 * Atlas's $vectorSearch (the pipeline of search/atlas.h) once, and if the
 * server says it has no such stage (rb_search_unsupported(): MongoDB
 * Community without search, FerretDB) it remembers that for its lifetime
 * and answers with rb_search_exact() instead, saying so in the result's
 * notice.  On Atlas the notice says instead that the index is eventually
 * consistent: a document written a moment ago may not be found yet.  Both
 * paths leave soft-deleted documents out.  An rb_searcher borrows its
 * sink (which must outlive it) and is used by one thread at a time; it is
 * per process state held by the caller, not a global.
 */
#ifndef RB_SEARCH_H
#define RB_SEARCH_H

#include "common/error.h"
#include "sink/sink.h"

#include <stdbool.h>
#include <stddef.h>

/* One chunk of a document found by its chunks: its score, its span in
 * code points of the document's text, and its length in the embedder's
 * tokens. */
typedef struct rb_search_chunk {
    double score;
    char *text;
    size_t index, span_start, span_end, tokens;
} rb_search_chunk;

/* Chunks per document a search may ask for (rb_search_query.chunks_per_doc). */
#define RB_SEARCH_CHUNKS_PER_DOC_MAX 32

typedef struct rb_search_hit {
    double score; /* cosine similarity, -1..1 */
    char *id;
    char *text;
    char *metadata_json;
    /* A document of a long text, found by its best chunk: `text` is that
     * chunk's, and its span is in code points of the document's text. */
    bool chunked;
    size_t chunk_index, span_start, span_end, span_tokens;
    /* Chunked: its best chunks of the one version, best first (at most the
     * query's chunks_per_doc; the first is the one above), owned. */
    rb_search_chunk *chunks;
    size_t n_chunks;
} rb_search_hit;

/* Fills *hits (caller frees with rb_search_hits_free) with at most `k`
 * documents, best first.  Documents whose vector length differs from
 * `dim` are skipped and counted in *mismatched (may be NULL): they were
 * written by another model. */
int rb_search_exact(rb_sink *sink, const float *query, size_t dim, size_t k,
                    const rb_sink_scan_opts *filters, rb_search_hit **hits, size_t *n,
                    size_t *mismatched, rb_error *err);

void rb_search_hits_free(rb_search_hit *hits, size_t n);

/* The exact search of a job that chunks long texts (docs/architecture.md,
 * "Long texts: chunks"): documents found by their own vector (`docs`:
 * texts of one chunk) or by their chunks (`chunks`), answered as
 * documents, each once, with its best score; a chunked one carries its
 * best chunk's text and span.  A chunk counts only while its version is
 * its parent's and the parent is not deleted, so a reader never mixes two
 * versions of a document (a batch being written can hide some chunks).
 * A chunked hit carries its best `per_doc` chunks (1..RB_SEARCH_CHUNKS_PER_DOC_MAX;
 * 0 means 1) of that version.  The chunk scan keeps the best chunks of
 * 4k + 8 parents, checks them with one read by _id, and keeps the best k:
 * memory O(k x per_doc). */
int rb_search_exact_parents(rb_sink *docs, rb_sink *chunks, const float *query, size_t dim,
                            size_t k, size_t per_doc, const rb_sink_scan_opts *filters,
                            rb_search_hit **hits, size_t *n, size_t *mismatched, rb_error *err);

/* Merges two hit lists (taking ownership of both arrays) into the best k,
 * one per id; *hits is the caller's (rb_search_hits_free). */
int rb_search_merge_parents(rb_search_hit *docs, size_t n_docs, rb_search_hit *chunks,
                            size_t n_chunks, size_t k, rb_search_hit **hits, size_t *n,
                            rb_error *err);

/* True when a server error code means "this server cannot run search
 * stages or search index commands": unrecognised stage (MongoDB 40324,
 * FerretDB 1.x 40234), $vectorSearch only on Atlas (31082, 6047401),
 * command not found (59), not supported (115), not implemented (238). */
bool rb_search_unsupported(int server_code);

typedef enum rb_search_path {
    RB_SEARCH_PATH_UNKNOWN = 0, /* not tried yet */
    RB_SEARCH_PATH_ATLAS,       /* $vectorSearch works */
    RB_SEARCH_PATH_EXACT        /* the server has no $vectorSearch */
} rb_search_path;

typedef struct rb_searcher rb_searcher;

/* `index_name` (copied) is the vector search index to query. */
rb_searcher *rb_searcher_new(rb_sink *sink, const char *index_name, rb_error *err);
void rb_searcher_destroy(rb_searcher *s); /* accepts NULL */

/* With chunking: queries also search `chunks` (borrowed; the chunk
 * collection, whose vector search index is `chunk_index`, copied) and
 * answer with documents as rb_search_exact_parents() does, on Atlas with a
 * second $vectorSearch over the chunks (rb_atlas_chunk_pipeline_json). */
int rb_searcher_set_chunks(rb_searcher *s, rb_sink *chunks, const char *chunk_index,
                           const char *collection, rb_error *err);

/* Forces a path, e.g. RB_SEARCH_PATH_EXACT for the reference answer. */
void rb_searcher_force(rb_searcher *s, rb_search_path path);

typedef struct rb_search_query {
    const float *vector;
    size_t dim;
    size_t k;
    const rb_sink_filter_eq *equals; /* metadata equality filters */
    size_t n_equals;
    bool enn;              /* Atlas: exact: true (exhaustive) instead of ANN */
    size_t num_candidates; /* Atlas ANN: 0 for the default (about 20 k) */
    size_t chunks_per_doc; /* chunked hits: their best n chunks; 0 means 1 */
} rb_search_query;

#define RB_SEARCH_NOTICE_MAX 512

typedef struct rb_search_result {
    rb_search_hit *hits; /* best first; free with rb_search_result_free */
    size_t n;
    rb_search_path path;               /* the path that answered */
    size_t mismatched;                 /* exact path: vectors of another dimension skipped */
    char notice[RB_SEARCH_NOTICE_MAX]; /* what kind of answer this is, and why */
} rb_search_result;

int rb_searcher_query(rb_searcher *s, const rb_search_query *q, rb_search_result *out,
                      rb_error *err);
void rb_search_result_free(rb_search_result *r); /* the struct itself is the caller's */

#endif
