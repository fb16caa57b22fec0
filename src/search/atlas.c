#include "search/atlas.h"

#include <inttypes.h>
#include <string.h>

size_t rb_atlas_default_candidates(size_t limit) {
    size_t n = limit > RB_ATLAS_MAX_CANDIDATES / 20 ? RB_ATLAS_MAX_CANDIDATES : limit * 20;
    if (n < limit) n = limit; /* a limit above the cap: Atlas then refuses the limit itself */
    return n;
}

int rb_atlas_check_field(const char *name, rb_error *err) {
    if (!name || !name[0])
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "a filter field name is empty");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p == '$' || *p < 0x20)
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                                "filter field '%s' is not a plain field name (no '$' or control "
                                "characters)",
                                name);
    return 0;
}

/* A typed value as JSON: numbers as numbers (integers exactly), booleans
 * as booleans, strings escaped. */
static int put_value(rb_buf *b, const rb_sink_value *v) {
    switch (v->type) {
    case RB_SINK_VALUE_NUMBER:
        if (v->is_int) return rb_buf_printf(b, "%" PRId64, v->i);
        return rb_buf_printf(b, "%.17g", v->num);
    case RB_SINK_VALUE_BOOL: return rb_buf_puts(b, v->b ? "true" : "false");
    case RB_SINK_VALUE_STRING: break;
    }
    return rb_buf_json_string(b, v->str ? v->str : "", v->str ? strlen(v->str) : 0);
}

/* The filter is {"$and": [{deleted: {$ne: true}}, {metadata.f: {$op: v}}...]}:
 * $and keeps one clause per condition even when two name the same field
 * (price>=10 and price<100). */
static int put_filter(const rb_atlas_query *q, rb_buf *b, rb_error *err) {
    int rc = rb_buf_puts(b, "\"filter\":{\"$and\":[{\"deleted\":{\"$ne\":true}}");
    for (size_t i = 0; rc == 0 && i < q->n_equals; i++) {
        const rb_sink_filter_eq *f = &q->equals[i];
        if (rb_atlas_check_field(f->field, err) != 0) return -1;
        rb_buf path;
        rb_buf_init(&path);
        rc |= rb_buf_puts(&path, "metadata.");
        rc |= rb_buf_puts(&path, f->field);
        rc |= rb_buf_puts(b, ",{");
        if (rc == 0) rc |= rb_buf_json_string(b, path.data, path.len);
        rb_buf_free(&path);
        if (!f->values) {
            const char *v = f->value ? f->value : "";
            rc |= rb_buf_puts(b, ":{\"$eq\":");
            rc |= rb_buf_json_string(b, v, strlen(v));
            rc |= rb_buf_puts(b, "}}");
            continue;
        }
        rc |= rb_buf_printf(b, ":{\"%s\":", rb_sink_filter_operator(f->op));
        if (f->op == RB_SINK_FILTER_IN) rc |= rb_buf_putc(b, '[');
        for (size_t j = 0; j < (f->op == RB_SINK_FILTER_IN ? f->n_values : 1); j++) {
            if (j) rc |= rb_buf_putc(b, ',');
            rc |= put_value(b, &f->values[j]);
        }
        if (f->op == RB_SINK_FILTER_IN) rc |= rb_buf_putc(b, ']');
        rc |= rb_buf_puts(b, "}}");
    }
    rc |= rb_buf_puts(b, "]}");
    return rc == 0 ? 0 : rb_error_nomem(err, RB_STAGE_NONE, "search pipeline");
}

int rb_atlas_pipeline_json(const rb_atlas_query *q, rb_buf *b, rb_error *err) {
    if (!q->index || !q->index[0])
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "no vector search index name");
    if (q->limit < 1 || q->dim < 1 || !q->vector)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "a vector search needs a query vector and a limit of at least 1");
    int rc = rb_buf_puts(b, "[{\"$vectorSearch\":{\"index\":");
    rc |= rb_buf_json_string(b, q->index, strlen(q->index));
    rc |= rb_buf_puts(b, ",\"path\":\"embedding\",\"queryVector\":[");
    for (size_t i = 0; i < q->dim; i++) /* %.9g round-trips a float exactly. */
        rc |= rb_buf_printf(b, i ? ",%.9g" : "%.9g", (double)q->vector[i]);
    rc |= rb_buf_puts(b, "],");
    if (q->exact) {
        rc |= rb_buf_puts(b, "\"exact\":true,");
    } else {
        size_t nc = q->num_candidates ? q->num_candidates : rb_atlas_default_candidates(q->limit);
        if (nc < q->limit) nc = q->limit;
        if (nc > RB_ATLAS_MAX_CANDIDATES) nc = RB_ATLAS_MAX_CANDIDATES;
        rc |= rb_buf_printf(b, "\"numCandidates\":%zu,", nc);
    }
    rc |= rb_buf_printf(b, "\"limit\":%zu,", q->limit);
    if (rc != 0) return rb_error_nomem(err, RB_STAGE_NONE, "search pipeline");
    if (put_filter(q, b, err) != 0) return -1;
    rc |= rb_buf_puts(b, "}},{\"$project\":{\"_id\":1,\"text\":1,\"metadata\":1,"
                         "\"score\":{\"$meta\":\"vectorSearchScore\"}}}]");
    return rc == 0 ? 0 : rb_error_nomem(err, RB_STAGE_NONE, "search pipeline");
}

int rb_atlas_chunk_pipeline_json(const rb_atlas_query *q, const char *collection, size_t per_doc,
                                 rb_buf *b, rb_error *err) {
    if (!collection || !collection[0])
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "no parent collection for the chunks");
    if (per_doc == 0) per_doc = 1;
    if (per_doc > RB_ATLAS_MAX_CANDIDATES / 4)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "%zu chunks per document: at most %d",
                            per_doc, RB_ATLAS_MAX_CANDIDATES / 4);
    rb_atlas_query cq = *q;
    /* Enough chunks that most of the best `limit` parents bring their
     * best per_doc chunks along. */
    size_t factor = per_doc + 3;
    size_t want = q->limit > RB_ATLAS_MAX_CANDIDATES / factor ? RB_ATLAS_MAX_CANDIDATES
                                                              : factor * q->limit;
    cq.limit = want;
    if (!cq.exact && cq.num_candidates && cq.num_candidates < want) cq.num_candidates = want;
    rb_buf head;
    rb_buf_init(&head);
    if (rb_atlas_pipeline_json(&cq, &head, err) != 0) {
        rb_buf_free(&head);
        return -1;
    }
    /* The chunk stage: {$vectorSearch ...} is everything up to the
     * closing "}}," before the $project that rb_atlas_pipeline_json adds. */
    const char *proj = strstr(head.data, ",{\"$project\":");
    int rc = proj ? rb_buf_append(b, head.data, (size_t)(proj - head.data)) : -1;
    rb_buf_free(&head);
    if (rc != 0) return rb_error_nomem(err, RB_STAGE_NONE, "search pipeline");
    rc |= rb_buf_puts(b, ",{\"$project\":{\"_id\":1,\"parent_id\":1,\"version\":1,\"text\":1,"
                         "\"metadata\":1,\"chunk\":1,\"score\":{\"$meta\":\"vectorSearchScore\"}}}"
                         ",{\"$lookup\":{\"from\":");
    rc |= rb_buf_json_string(b, collection, strlen(collection));
    rc |= rb_buf_puts(b,
                      ",\"localField\":\"parent_id\",\"foreignField\":\"_id\",\"as\":\"parent\","
                      "\"pipeline\":[{\"$project\":{\"version\":1,\"deleted\":1}}]}}"
                      ",{\"$match\":{\"$expr\":{\"$and\":["
                      "{\"$eq\":[{\"$first\":\"$parent.version\"},\"$version\"]},"
                      "{\"$ne\":[{\"$first\":\"$parent.deleted\"},true]}]}}}"
                      ",{\"$sort\":{\"score\":-1}}");
    if (per_doc > 1) {
        /* The $lookups are not one snapshot: a parent written during the
         * aggregation can pass chunks of two versions.  So the best chunks
         * are collected per (parent, version) first, and the parent's best
         * version group is kept whole: its list never mixes versions. */
        rc |= rb_buf_printf(
            b,
            ",{\"$group\":{\"_id\":{\"p\":\"$parent_id\",\"v\":\"$version\"},"
            "\"score\":{\"$first\":\"$score\"},\"text\":{\"$first\":\"$text\"},"
            "\"metadata\":{\"$first\":\"$metadata\"},\"chunk\":{\"$first\":\"$chunk\"},"
            "\"chunks\":{\"$topN\":{\"n\":%zu,\"sortBy\":{\"score\":-1},"
            "\"output\":{\"score\":\"$score\",\"text\":\"$text\","
            "\"chunk\":\"$chunk\"}}}}}"
            ",{\"$sort\":{\"score\":-1}}"
            ",{\"$group\":{\"_id\":\"$_id.p\",\"score\":{\"$first\":\"$score\"},"
            "\"text\":{\"$first\":\"$text\"},\"metadata\":{\"$first\":\"$metadata\"},"
            "\"chunk\":{\"$first\":\"$chunk\"},\"chunks\":{\"$first\":\"$chunks\"}}}",
            per_doc);
    } else {
        rc |=
            rb_buf_puts(b,
                        ",{\"$group\":{\"_id\":\"$parent_id\",\"score\":{\"$first\":\"$score\"},"
                        "\"text\":{\"$first\":\"$text\"},\"metadata\":{\"$first\":\"$metadata\"},"
                        "\"chunk\":{\"$first\":\"$chunk\"}}}");
    }
    rc |= rb_buf_puts(b, ",{\"$sort\":{\"score\":-1,\"_id\":1}}");
    rc |= rb_buf_printf(b, ",{\"$limit\":%zu}]", q->limit);
    return rc == 0 ? 0 : rb_error_nomem(err, RB_STAGE_NONE, "search pipeline");
}

static const char *const similarity_names[] = {"cosine", "dotProduct", "euclidean"};
static const char *const quantization_names[] = {"none", "scalar", "binary"};

int rb_atlas_index_json(const rb_atlas_index *ix, rb_buf *b, rb_error *err) {
    if (!ix->name || !ix->name[0])
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "no vector search index name");
    if (ix->num_dimensions < 1 || ix->num_dimensions > 8192)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "numDimensions %zu is outside Atlas's 1..8192", ix->num_dimensions);
    if ((unsigned)ix->similarity > RB_ATLAS_EUCLIDEAN ||
        (unsigned)ix->quantization > RB_ATLAS_QUANT_BINARY)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "bad similarity or quantization");
    int rc = rb_buf_puts(b, "{\"name\":");
    rc |= rb_buf_json_string(b, ix->name, strlen(ix->name));
    rc |= rb_buf_printf(b,
                        ",\"type\":\"vectorSearch\",\"definition\":{\"fields\":["
                        "{\"type\":\"vector\",\"path\":\"embedding\",\"numDimensions\":%zu,"
                        "\"similarity\":\"%s\"",
                        ix->num_dimensions, similarity_names[ix->similarity]);
    if (ix->quantization != RB_ATLAS_QUANT_NONE)
        rc |= rb_buf_printf(b, ",\"quantization\":\"%s\"", quantization_names[ix->quantization]);
    rc |= rb_buf_putc(b, '}');
    for (size_t i = 0; i < ix->n_filter_fields; i++) {
        const char *f = ix->filter_fields[i];
        if (rb_atlas_check_field(f, err) != 0) return -1;
        rb_buf path;
        rb_buf_init(&path);
        rc |= rb_buf_puts(&path, "metadata.");
        rc |= rb_buf_puts(&path, f);
        rc |= rb_buf_puts(b, ",{\"type\":\"filter\",\"path\":");
        if (rc == 0) rc |= rb_buf_json_string(b, path.data, path.len);
        rc |= rb_buf_putc(b, '}');
        rb_buf_free(&path);
    }
    rc |= rb_buf_puts(b, ",{\"type\":\"filter\",\"path\":\"deleted\"}]}}");
    return rc == 0 ? 0 : rb_error_nomem(err, RB_STAGE_NONE, "index definition");
}

static int parse_name(const char *s, const char *const *names, int n, const char *what, int *out,
                      rb_error *err) {
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "%s '%s': choose %s, %s or %s", what,
                        s ? s : "", names[0], names[1], names[2]);
}

int rb_atlas_similarity_parse(const char *s, rb_atlas_similarity *out, rb_error *err) {
    int v;
    if (parse_name(s, similarity_names, 3, "similarity", &v, err) != 0) return -1;
    *out = (rb_atlas_similarity)v;
    return 0;
}

int rb_atlas_quantization_parse(const char *s, rb_atlas_quantization *out, rb_error *err) {
    int v;
    if (parse_name(s, quantization_names, 3, "quantization", &v, err) != 0) return -1;
    *out = (rb_atlas_quantization)v;
    return 0;
}

int rb_atlas_default_index_name(const char *collection, rb_buf *out) {
    int rc = rb_buf_puts(out, collection);
    rc |= rb_buf_puts(out, "_vector");
    return rc;
}
