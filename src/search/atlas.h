/*
 * atlas.h -- the documents MongoDB Atlas Vector Search is driven by, built
 * as JSON text by pure functions (no I/O, no server).
 *
 * rb_atlas_pipeline_json() writes the aggregation pipeline of one query:
 * a $vectorSearch stage (index, path "embedding", queryVector, limit,
 * numCandidates or exact, filter) followed by a $project that keeps the
 * score ({$meta: "vectorSearchScore"}), text and metadata.  The filter
 * always excludes soft-deleted documents ({deleted: {$ne: true}}) and adds
 * {"metadata.<field>": {$op: value}} per filter (sink.h's rb_sink_filter_eq:
 * $eq, $lt, $lte, $gt, $gte, or $in with an array): values are JSON values
 * of their type (numbers, booleans, strings escaped), never query syntax;
 * field names are checked (not empty, no '$' anywhere, no control
 * characters) and never interpreted.  A '.' in a
 * name is a path into nested metadata, as in the exact search's filter.
 *
 * rb_atlas_index_json() writes the search index model that
 * createSearchIndexes takes and the Atlas UI/CLI accept:
 * {name, type: "vectorSearch", definition: {fields: [vector, filters]}},
 * with one filter field per metadata field of the job plus "deleted", so
 * that the query's filters are on indexed paths.
 *
 * Both append to a caller-owned rb_buf; on error (RB_ERR_ARG, or
 * RB_ERR_NOMEM) the buffer's content is unspecified.
 */
#ifndef RB_SEARCH_ATLAS_H
#define RB_SEARCH_ATLAS_H

#include "common/buf.h"
#include "common/error.h"
#include "sink/sink.h"

#include <stdbool.h>
#include <stddef.h>

/* Atlas refuses numCandidates above this. */
#define RB_ATLAS_MAX_CANDIDATES 10000

typedef struct rb_atlas_query {
    const char *index;   /* the vector search index's name */
    const float *vector; /* the query, `dim` values */
    size_t dim;
    size_t limit;          /* k, >= 1 */
    size_t num_candidates; /* 0: rb_atlas_default_candidates(limit) */
    bool exact;            /* ENN: numCandidates is then left out, as Atlas requires */
    const rb_sink_filter_eq *equals;
    size_t n_equals;
} rb_atlas_query;

/* About 20 times the limit, as Atlas recommends, clamped to
 * [limit, RB_ATLAS_MAX_CANDIDATES]. */
size_t rb_atlas_default_candidates(size_t limit);

/* Checks a metadata field name used in a filter or an index path. */
int rb_atlas_check_field(const char *name, rb_error *err);

int rb_atlas_pipeline_json(const rb_atlas_query *q, rb_buf *out, rb_error *err);

/* The pipeline of the same query over a chunk collection (the index of
 * `q` is the chunks'): $vectorSearch for (per_doc + 3) x limit chunks
 * (4 x limit for one per document; numCandidates at least that), then a
 * $lookup of each chunk's parent in `collection` ({version, deleted}
 * only), a $match keeping chunks whose version is their live parent's,
 * the best chunk per parent ($sort by score, $group by parent_id taking
 * the first), and the best `limit` parents, projected as {_id: parent id,
 * score, text, metadata, chunk} of the best chunk.  With per_doc > 1 the
 * $group is by (parent, version) and also collects that group's best
 * per_doc chunks as `chunks` ($topN by score: MongoDB 5.2 on, which every
 * Atlas cluster with Vector Search runs); a second $group keeps each
 * parent's best group whole, so `chunks` is of one version even when a
 * parent is written during the aggregation.  per_doc 0 means 1. */
int rb_atlas_chunk_pipeline_json(const rb_atlas_query *q, const char *collection, size_t per_doc,
                                 rb_buf *out, rb_error *err);

typedef enum rb_atlas_similarity {
    RB_ATLAS_COSINE = 0,
    RB_ATLAS_DOT_PRODUCT,
    RB_ATLAS_EUCLIDEAN
} rb_atlas_similarity;

typedef enum rb_atlas_quantization {
    RB_ATLAS_QUANT_NONE = 0, /* the field is left out */
    RB_ATLAS_QUANT_SCALAR,
    RB_ATLAS_QUANT_BINARY
} rb_atlas_quantization;

typedef struct rb_atlas_index {
    const char *name;
    size_t num_dimensions; /* the model's hidden size; Atlas allows 1..8192 */
    rb_atlas_similarity similarity;
    rb_atlas_quantization quantization;
    const char *const *filter_fields; /* metadata field names */
    size_t n_filter_fields;
} rb_atlas_index;

int rb_atlas_index_json(const rb_atlas_index *ix, rb_buf *out, rb_error *err);

/* Parses "cosine", "dotProduct", "euclidean" / "none", "scalar", "binary";
 * -1 with an RB_ERR_ARG error naming the choices otherwise. */
int rb_atlas_similarity_parse(const char *s, rb_atlas_similarity *out, rb_error *err);
int rb_atlas_quantization_parse(const char *s, rb_atlas_quantization *out, rb_error *err);

/* The default index name of a collection: "<collection>_vector". */
int rb_atlas_default_index_name(const char *collection, rb_buf *out);

#endif
