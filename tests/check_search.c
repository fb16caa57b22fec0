/*
 * check_search.c -- the read side.
 *
 * Unit: the $vectorSearch pipeline and the vector search index definition
 * are compared, field by field, with documents written after the examples
 * of Atlas's documentation ("Run Vector Search Queries", "How to Index
 * Fields for Vector Search"), adapted to ragbatch's document layout.
 *
 * Integration (needs RAGBATCH_MONGO_URI, FAILS without it): 30 products
 * embedded with the project's model are written through the sink into a
 * database of their own; queries must come back in the order of a
 * reference computed here (cosine in double over the same vectors, sorted),
 * filters must narrow, a soft-deleted product must never come back, and
 * the server (FerretDB) must be detected as having no $vectorSearch, with
 * a notice saying the answer is exact.
 */
#include "check_main.h"
#include "embed/embedder.h"
#include "search/atlas.h"
#include "search/filter.h"
#include "search/search.h"
#include "sink/sink.h"
#include "json/json.h"
#include "harness.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- field-by-field comparison of JSON documents ---------------------- */

/* Compares `got` with `want` and fails naming the first differing path.
 * Objects must have the same members (any order), arrays the same items. */
static void same_json(const rb_json *want, const rb_json *got, const char *path) {
    ck_assert_msg(got != NULL, "%s: missing", path);
    ck_assert_msg(want->type == got->type, "%s: type %s, expected %s", path,
                  rb_json_type_name(got->type), rb_json_type_name(want->type));
    char sub[512];
    switch (want->type) {
    case RB_JSON_NULL: break;
    case RB_JSON_BOOL:
        ck_assert_msg(want->boolean == got->boolean, "%s: boolean differs", path);
        break;
    case RB_JSON_NUMBER:
        ck_assert_msg(want->number == got->number, "%s: %g, expected %g", path, got->number,
                      want->number);
        break;
    case RB_JSON_STRING:
        ck_assert_msg(strcmp(want->str, got->str) == 0, "%s: \"%s\", expected \"%s\"", path,
                      got->str, want->str);
        break;
    case RB_JSON_ARRAY:
        ck_assert_msg(want->count == got->count, "%s: %zu items, expected %zu", path, got->count,
                      want->count);
        for (size_t i = 0; i < want->count; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            same_json(&want->items[i], &got->items[i], sub);
        }
        break;
    case RB_JSON_OBJECT:
        for (size_t i = 0; i < want->count; i++) {
            snprintf(sub, sizeof sub, "%s.%s", path, want->members[i].key);
            same_json(want->members[i].value, rb_json_get(got, want->members[i].key), sub);
        }
        for (size_t i = 0; i < got->count; i++)
            ck_assert_msg(rb_json_get(want, got->members[i].key) != NULL,
                          "%s: unexpected field %s", path, got->members[i].key);
        break;
    }
}

static void same_json_text(const char *want, const char *got) {
    rb_json_doc *w = NULL, *g = NULL;
    rb_error err;
    ck_assert_msg(rb_json_parse(want, strlen(want), NULL, &w, &err) == 0, "expected: %s", err.msg);
    ck_assert_msg(rb_json_parse(got, strlen(got), NULL, &g, &err) == 0, "got %s: %s", got,
                  err.msg);
    same_json(rb_json_doc_root(w), rb_json_doc_root(g), "$");
    rb_json_doc_destroy(w);
    rb_json_doc_destroy(g);
}

static char *pipeline(const rb_atlas_query *q) {
    rb_buf b;
    rb_error err;
    rb_buf_init(&b);
    ck_assert_msg(rb_atlas_pipeline_json(q, &b, &err) == 0, "%s", err.msg);
    return rb_buf_detach(&b);
}

static const float qvec[3] = {0.25f, -0.5f, 1.0f};

/* After the documentation's ANN example with a pre-filter ($and of
 * conditions on indexed filter fields), then a $project of the score. */
START_TEST(pipeline_matches_atlas_ann_example) {
    rb_sink_filter_eq eq[] = {{.field = "category", .value = "shoes"},
                              {.field = "brand", .value = "Acme"}};
    rb_atlas_query q = {.index = "vector_index",
                        .vector = qvec,
                        .dim = 3,
                        .limit = 10,
                        .equals = eq,
                        .n_equals = 2};
    char *got = pipeline(&q);
    same_json_text("[{\"$vectorSearch\": {"
                   "  \"index\": \"vector_index\", \"path\": \"embedding\","
                   "  \"queryVector\": [0.25, -0.5, 1],"
                   "  \"numCandidates\": 200, \"limit\": 10,"
                   "  \"filter\": {\"$and\": ["
                   "    {\"deleted\": {\"$ne\": true}},"
                   "    {\"metadata.category\": {\"$eq\": \"shoes\"}},"
                   "    {\"metadata.brand\": {\"$eq\": \"Acme\"}}]}}},"
                   " {\"$project\": {\"_id\": 1, \"text\": 1, \"metadata\": 1,"
                   "   \"score\": {\"$meta\": \"vectorSearchScore\"}}}]",
                   got);
    free(got);
}
END_TEST

/* Over the chunks: four times the limit from $vectorSearch, each chunk's
 * parent looked up, chunks of another version than their live parent's
 * dropped, the best chunk per parent, the best `limit` parents. */
START_TEST(chunk_pipeline_keeps_the_best_current_chunk_per_parent) {
    rb_sink_filter_eq eq[] = {{.field = "brand", .value = "Acme"}};
    rb_atlas_query q = {.index = "products_chunks_vector",
                        .vector = qvec,
                        .dim = 3,
                        .limit = 5,
                        .equals = eq,
                        .n_equals = 1};
    rb_buf b;
    rb_error err;
    rb_buf_init(&b);
    ck_assert_msg(rb_atlas_chunk_pipeline_json(&q, "products", 1, &b, &err) == 0, "%s", err.msg);
    same_json_text(
        "[{\"$vectorSearch\": {"
        "  \"index\": \"products_chunks_vector\", \"path\": \"embedding\","
        "  \"queryVector\": [0.25, -0.5, 1],"
        "  \"numCandidates\": 400, \"limit\": 20,"
        "  \"filter\": {\"$and\": ["
        "    {\"deleted\": {\"$ne\": true}},"
        "    {\"metadata.brand\": {\"$eq\": \"Acme\"}}]}}},"
        " {\"$project\": {\"_id\": 1, \"parent_id\": 1, \"version\": 1, \"text\": 1,"
        "   \"metadata\": 1, \"chunk\": 1, \"score\": {\"$meta\": \"vectorSearchScore\"}}},"
        " {\"$lookup\": {\"from\": \"products\", \"localField\": \"parent_id\","
        "   \"foreignField\": \"_id\", \"as\": \"parent\","
        "   \"pipeline\": [{\"$project\": {\"version\": 1, \"deleted\": 1}}]}},"
        " {\"$match\": {\"$expr\": {\"$and\": ["
        "   {\"$eq\": [{\"$first\": \"$parent.version\"}, \"$version\"]},"
        "   {\"$ne\": [{\"$first\": \"$parent.deleted\"}, true]}]}}},"
        " {\"$sort\": {\"score\": -1}},"
        " {\"$group\": {\"_id\": \"$parent_id\", \"score\": {\"$first\": \"$score\"},"
        "   \"text\": {\"$first\": \"$text\"}, \"metadata\": {\"$first\": \"$metadata\"},"
        "   \"chunk\": {\"$first\": \"$chunk\"}}},"
        " {\"$sort\": {\"score\": -1, \"_id\": 1}},"
        " {\"$limit\": 5}]",
        b.data);
    rb_buf_free(&b);
}
END_TEST

/* Three chunks per parent: (3 + 3) x the limit from $vectorSearch; the
 * best three chunks collected with $topN per (parent, version), then the
 * parent's best version group kept whole, so the list never mixes versions
 * (numCandidates: 20 x those 30, as for any limit). */
START_TEST(chunk_pipeline_collects_the_top_chunks_per_parent) {
    rb_atlas_query q = {.index = "products_chunks_vector", .vector = qvec, .dim = 3, .limit = 5};
    rb_buf b;
    rb_error err;
    rb_buf_init(&b);
    ck_assert_msg(rb_atlas_chunk_pipeline_json(&q, "products", 3, &b, &err) == 0, "%s", err.msg);
    same_json_text(
        "[{\"$vectorSearch\": {"
        "  \"index\": \"products_chunks_vector\", \"path\": \"embedding\","
        "  \"queryVector\": [0.25, -0.5, 1],"
        "  \"numCandidates\": 600, \"limit\": 30,"
        "  \"filter\": {\"$and\": [{\"deleted\": {\"$ne\": true}}]}}},"
        " {\"$project\": {\"_id\": 1, \"parent_id\": 1, \"version\": 1, \"text\": 1,"
        "   \"metadata\": 1, \"chunk\": 1, \"score\": {\"$meta\": \"vectorSearchScore\"}}},"
        " {\"$lookup\": {\"from\": \"products\", \"localField\": \"parent_id\","
        "   \"foreignField\": \"_id\", \"as\": \"parent\","
        "   \"pipeline\": [{\"$project\": {\"version\": 1, \"deleted\": 1}}]}},"
        " {\"$match\": {\"$expr\": {\"$and\": ["
        "   {\"$eq\": [{\"$first\": \"$parent.version\"}, \"$version\"]},"
        "   {\"$ne\": [{\"$first\": \"$parent.deleted\"}, true]}]}}},"
        " {\"$sort\": {\"score\": -1}},"
        " {\"$group\": {\"_id\": {\"p\": \"$parent_id\", \"v\": \"$version\"},"
        "   \"score\": {\"$first\": \"$score\"},"
        "   \"text\": {\"$first\": \"$text\"}, \"metadata\": {\"$first\": \"$metadata\"},"
        "   \"chunk\": {\"$first\": \"$chunk\"},"
        "   \"chunks\": {\"$topN\": {\"n\": 3, \"sortBy\": {\"score\": -1},"
        "     \"output\": {\"score\": \"$score\", \"text\": \"$text\", \"chunk\": \"$chunk\"}}}}},"
        " {\"$sort\": {\"score\": -1}},"
        " {\"$group\": {\"_id\": \"$_id.p\", \"score\": {\"$first\": \"$score\"},"
        "   \"text\": {\"$first\": \"$text\"}, \"metadata\": {\"$first\": \"$metadata\"},"
        "   \"chunk\": {\"$first\": \"$chunk\"}, \"chunks\": {\"$first\": \"$chunks\"}}},"
        " {\"$sort\": {\"score\": -1, \"_id\": 1}},"
        " {\"$limit\": 5}]",
        b.data);
    rb_buf_reset(&b);
    ck_assert_int_ne(rb_atlas_chunk_pipeline_json(&q, "products", 5000, &b, &err), 0);
    ck_assert_msg(strstr(err.msg, "5000 chunks per document"), "%s", err.msg);
    rb_buf_free(&b);
}
END_TEST

/* The documentation's ENN example: exact: true and no numCandidates. */
START_TEST(pipeline_matches_atlas_enn_example) {
    rb_atlas_query q = {.index = "vector_index",
                        .vector = qvec,
                        .dim = 3,
                        .limit = 5,
                        .exact = true};
    char *got = pipeline(&q);
    same_json_text("[{\"$vectorSearch\": {"
                   "  \"index\": \"vector_index\", \"path\": \"embedding\","
                   "  \"queryVector\": [0.25, -0.5, 1], \"exact\": true, \"limit\": 5,"
                   "  \"filter\": {\"$and\": [{\"deleted\": {\"$ne\": true}}]}}},"
                   " {\"$project\": {\"_id\": 1, \"text\": 1, \"metadata\": 1,"
                   "   \"score\": {\"$meta\": \"vectorSearchScore\"}}}]",
                   got);
    free(got);
}
END_TEST

START_TEST(num_candidates_default_and_bounds) {
    /* The docs' advice: limit 5 -> numCandidates 100. */
    ck_assert_uint_eq(rb_atlas_default_candidates(5), 100);
    ck_assert_uint_eq(rb_atlas_default_candidates(1), 20);
    ck_assert_uint_eq(rb_atlas_default_candidates(500), 10000);
    ck_assert_uint_eq(rb_atlas_default_candidates(600), 10000);
    ck_assert_uint_eq(rb_atlas_default_candidates(10000), 10000);
    /* An explicit value below the limit is raised to it, above the cap cut. */
    size_t asked[] = {3, 20000}, want[] = {10, 10000};
    for (int i = 0; i < 2; i++) {
        rb_atlas_query q = {.index = "i",
                            .vector = qvec,
                            .dim = 3,
                            .limit = 10,
                            .num_candidates = asked[i]};
        char *got = pipeline(&q);
        rb_json_doc *d;
        rb_error err;
        ck_assert_int_eq(rb_json_parse(got, strlen(got), NULL, &d, &err), 0);
        const rb_json *nc =
            rb_json_get(rb_json_get(&rb_json_doc_root(d)->items[0], "$vectorSearch"),
                        "numCandidates");
        ck_assert_ptr_nonnull(nc);
        ck_assert_int_eq(nc->integer, (int64_t)want[i]);
        rb_json_doc_destroy(d);
        free(got);
    }
}
END_TEST

/* Values stay values, whatever they contain; names with '$' are refused. */
START_TEST(filter_values_are_values_and_names_are_checked) {
    rb_sink_filter_eq eq[] = {{.field = "category", .value = "{\"$gt\": \"\"}"}};
    rb_atlas_query q =
        {.index = "i", .vector = qvec, .dim = 3, .limit = 1, .equals = eq, .n_equals = 1};
    char *got = pipeline(&q);
    rb_json_doc *d;
    rb_error err;
    ck_assert_int_eq(rb_json_parse(got, strlen(got), NULL, &d, &err), 0);
    const rb_json *v =
        rb_json_get_path(rb_json_get(&rb_json_doc_root(d)->items[0], "$vectorSearch"), "filter");
    const rb_json *clause = &rb_json_get(v, "$and")->items[1];
    const rb_json *cond = rb_json_get(rb_json_get(clause, "metadata.category"), "$eq");
    ck_assert_int_eq(cond->type, RB_JSON_STRING);
    ck_assert_str_eq(cond->str, "{\"$gt\": \"\"}");
    rb_json_doc_destroy(d);
    free(got);

    const char *bad[] = {"", "$where", "a$b", "a\nb"};
    for (int i = 0; i < 4; i++) {
        rb_sink_filter_eq b[] = {{.field = bad[i], .value = "x"}};
        rb_atlas_query bq =
            {.index = "i", .vector = qvec, .dim = 3, .limit = 1, .equals = b, .n_equals = 1};
        rb_buf out;
        rb_buf_init(&out);
        ck_assert_int_eq(rb_atlas_pipeline_json(&bq, &out, &err), -1);
        ck_assert_int_eq(err.code, RB_ERR_ARG);
        rb_buf_free(&out);
    }
}
END_TEST

/* The command line's filters, typed: the in_stock=true and
 * price=438.5 compared strings and matched nothing. */
START_TEST(filters_parse_into_typed_values) {
    rb_search_filter f;
    rb_error err;
    ck_assert_int_eq(rb_search_filter_parse("in_stock=true", &f, &err), 0);
    ck_assert_str_eq(f.cond.field, "in_stock");
    ck_assert_int_eq(f.cond.op, RB_SINK_FILTER_EQ);
    ck_assert_int_eq(f.cond.n_values, 1);
    ck_assert_int_eq(f.values[0].type, RB_SINK_VALUE_BOOL);
    ck_assert(f.values[0].b);
    rb_search_filter_free(&f);
    ck_assert_int_eq(rb_search_filter_parse("price=438.5", &f, &err), 0);
    ck_assert_int_eq(f.values[0].type, RB_SINK_VALUE_NUMBER);
    ck_assert(f.values[0].num == 438.5 && !f.values[0].is_int);
    rb_search_filter_free(&f);
    ck_assert_int_eq(rb_search_filter_parse("stock>=-3", &f, &err), 0);
    ck_assert_int_eq(f.cond.op, RB_SINK_FILTER_GTE);
    ck_assert(f.values[0].is_int && f.values[0].i == -3);
    rb_search_filter_free(&f);
    ck_assert_int_eq(rb_search_filter_parse("price<100", &f, &err), 0);
    ck_assert_int_eq(f.cond.op, RB_SINK_FILTER_LT);
    rb_search_filter_free(&f);
    ck_assert_int_eq(rb_search_filter_parse("price<=1e3", &f, &err), 0);
    ck_assert_int_eq(f.cond.op, RB_SINK_FILTER_LTE);
    ck_assert(f.values[0].num == 1000 && !f.values[0].is_int);
    rb_search_filter_free(&f);
    ck_assert_int_eq(rb_search_filter_parse("w>0.5", &f, &err), 0);
    ck_assert_int_eq(f.cond.op, RB_SINK_FILTER_GT);
    rb_search_filter_free(&f);
    /* A list is one of its values, each typed; quotes make strings. */
    ck_assert_int_eq(rb_search_filter_parse("brand=Kestrel,\"Harbor, Pine\",7,\"7\"", &f, &err),
                     0);
    ck_assert_int_eq(f.cond.op, RB_SINK_FILTER_IN);
    ck_assert_int_eq(f.cond.n_values, 4);
    ck_assert_str_eq(f.values[0].str, "Kestrel");
    ck_assert_str_eq(f.values[1].str, "Harbor, Pine");
    ck_assert_int_eq(f.values[2].type, RB_SINK_VALUE_NUMBER);
    ck_assert_int_eq(f.values[3].type, RB_SINK_VALUE_STRING);
    ck_assert_str_eq(f.values[3].str, "7");
    rb_search_filter_free(&f);
    /* Query syntax in a value is a string like any other. */
    ck_assert_int_eq(rb_search_filter_parse("brand={\"$gt\":\"\"}", &f, &err), 0);
    ck_assert_int_eq(f.values[0].type, RB_SINK_VALUE_STRING);
    ck_assert_str_eq(f.values[0].str, "{\"$gt\":\"\"}");
    rb_search_filter_free(&f);
    /* Not numbers: JSON's grammar, strictly. */
    const char *strings[] = {"v=0x10", "v=1.", "v=.5", "v=01", "v=nan", "v=inf", "v=+1", "v=1e"};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        ck_assert_int_eq(rb_search_filter_parse(strings[i], &f, &err), 0);
        ck_assert_msg(f.values[0].type == RB_SINK_VALUE_STRING, "%s", strings[i]);
        rb_search_filter_free(&f);
    }
    const char *bad[] = {"price",   "=3",     "p<",       "p=a,,b",   "p<1,2",
                         "p>=true", "p=\"ab", "p=\"a\"b", "$where=1", "a$b=1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(rb_search_filter_parse(bad[i], &f, &err) == -1, "%s was accepted", bad[i]);
        ck_assert_int_eq(err.code, RB_ERR_ARG);
    }
}
END_TEST

/* The typed conditions in the Atlas pipeline: numbers, booleans, $in and
 * two clauses on one field for a range. */
START_TEST(pipeline_filters_are_typed) {
    const char *args[] = {"in_stock=true", "price>=10", "price<100", "brand=A,B", "sku=\"42\""};
    rb_search_filter f[5];
    rb_sink_filter_eq eq[5];
    rb_error err;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(rb_search_filter_parse(args[i], &f[i], &err), 0);
        eq[i] = f[i].cond;
    }
    rb_atlas_query q =
        {.index = "i", .vector = qvec, .dim = 3, .limit = 1, .equals = eq, .n_equals = 5};
    char *got = pipeline(&q);
    ck_assert_msg(strstr(got, "\"filter\":{\"$and\":[{\"deleted\":{\"$ne\":true}},"
                              "{\"metadata.in_stock\":{\"$eq\":true}},"
                              "{\"metadata.price\":{\"$gte\":10}},"
                              "{\"metadata.price\":{\"$lt\":100}},"
                              "{\"metadata.brand\":{\"$in\":[\"A\",\"B\"]}},"
                              "{\"metadata.sku\":{\"$eq\":\"42\"}}]}"),
                  "%s", got);
    free(got);
    for (int i = 0; i < 5; i++) rb_search_filter_free(&f[i]);
}
END_TEST

static char *index_def(const rb_atlas_index *ix) {
    rb_buf b;
    rb_error err;
    rb_buf_init(&b);
    ck_assert_msg(rb_atlas_index_json(ix, &b, &err) == 0, "%s", err.msg);
    return rb_buf_detach(&b);
}

/* After the documentation's index syntax and its filter example: a
 * `vector` field, then one `filter` field per pre-filter path. */
START_TEST(index_definition_matches_atlas_example) {
    const char *fields[] = {"category", "brand"};
    rb_atlas_index ix = {.name = "products_vector",
                         .num_dimensions = 384,
                         .similarity = RB_ATLAS_COSINE,
                         .filter_fields = fields,
                         .n_filter_fields = 2};
    char *got = index_def(&ix);
    same_json_text("{\"name\": \"products_vector\", \"type\": \"vectorSearch\","
                   " \"definition\": {\"fields\": ["
                   "  {\"type\": \"vector\", \"path\": \"embedding\", \"numDimensions\": 384,"
                   "   \"similarity\": \"cosine\"},"
                   "  {\"type\": \"filter\", \"path\": \"metadata.category\"},"
                   "  {\"type\": \"filter\", \"path\": \"metadata.brand\"},"
                   "  {\"type\": \"filter\", \"path\": \"deleted\"}]}}",
                   got);
    free(got);

    rb_atlas_index q = {.name = "v",
                        .num_dimensions = 1536,
                        .similarity = RB_ATLAS_DOT_PRODUCT,
                        .quantization = RB_ATLAS_QUANT_SCALAR};
    got = index_def(&q);
    same_json_text("{\"name\": \"v\", \"type\": \"vectorSearch\", \"definition\": {\"fields\": ["
                   "  {\"type\": \"vector\", \"path\": \"embedding\", \"numDimensions\": 1536,"
                   "   \"similarity\": \"dotProduct\", \"quantization\": \"scalar\"},"
                   "  {\"type\": \"filter\", \"path\": \"deleted\"}]}}",
                   got);
    free(got);
}
END_TEST

START_TEST(index_options_parse_and_bounds) {
    rb_error err;
    rb_atlas_similarity s;
    rb_atlas_quantization qz;
    ck_assert_int_eq(rb_atlas_similarity_parse("euclidean", &s, &err), 0);
    ck_assert_int_eq(s, RB_ATLAS_EUCLIDEAN);
    ck_assert_int_eq(rb_atlas_similarity_parse("l2", &s, &err), -1);
    ck_assert_int_eq(rb_atlas_quantization_parse("binary", &qz, &err), 0);
    ck_assert_int_eq(qz, RB_ATLAS_QUANT_BINARY);
    ck_assert_int_eq(rb_atlas_quantization_parse("int4", &qz, &err), -1);
    rb_atlas_index ix = {.name = "v", .num_dimensions = 9000};
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_atlas_index_json(&ix, &b, &err), -1);
    const char *bad[] = {"$x"};
    rb_atlas_index ix2 = {.name = "v",
                          .num_dimensions = 4,
                          .filter_fields = bad,
                          .n_filter_fields = 1};
    ck_assert_int_eq(rb_atlas_index_json(&ix2, &b, &err), -1);
    rb_buf_free(&b);
    ck_assert(rb_search_unsupported(40234)); /* FerretDB 1.x, measured */
    ck_assert(rb_search_unsupported(40324)); /* MongoDB: unrecognised stage */
    ck_assert(!rb_search_unsupported(0));    /* no answer is not "unsupported" */
    ck_assert(!rb_search_unsupported(11000));
}
END_TEST

/* ---- integration: a fixture of products through the sink ----------- */

#define N_PRODUCTS 30

static const struct {
    const char *name, *category, *brand;
} products[N_PRODUCTS] = {
    {"Trail running shoes with a grippy sole", "footwear", "Brightmoor"},
    {"Lightweight road running shoes", "footwear", "Oakhurst"},
    {"Waterproof hiking boots", "footwear", "Brightmoor"},
    {"Leather office shoes", "footwear", "Ironwood"},
    {"Summer sandals for the beach", "footwear", "Oakhurst"},
    {"Wool winter socks", "footwear", "Ironwood"},
    {"Stainless steel chef knife", "kitchen", "Ironwood"},
    {"Cast iron frying pan", "kitchen", "Brightmoor"},
    {"Electric kettle with temperature control", "kitchen", "Oakhurst"},
    {"Espresso machine for home baristas", "kitchen", "Ironwood"},
    {"Bamboo cutting board", "kitchen", "Oakhurst"},
    {"Non-stick saucepan set", "kitchen", "Brightmoor"},
    {"Noise cancelling wireless headphones", "electronics", "Oakhurst"},
    {"Bluetooth portable speaker", "electronics", "Brightmoor"},
    {"4K television with HDR", "electronics", "Ironwood"},
    {"Mechanical keyboard for programmers", "electronics", "Oakhurst"},
    {"USB-C laptop charger", "electronics", "Ironwood"},
    {"Smartwatch with heart rate monitor", "electronics", "Brightmoor"},
    {"Two-person camping tent", "outdoor", "Brightmoor"},
    {"Down sleeping bag for cold nights", "outdoor", "Ironwood"},
    {"Trekking poles made of carbon", "outdoor", "Oakhurst"},
    {"Headlamp for night hiking", "outdoor", "Brightmoor"},
    {"Insulated water bottle", "outdoor", "Ironwood"},
    {"Backpacking stove", "outdoor", "Oakhurst"},
    {"Cotton crew neck t-shirt", "clothing", "Oakhurst"},
    {"Rain jacket with a hood", "clothing", "Brightmoor"},
    {"Slim fit denim jeans", "clothing", "Ironwood"},
    {"Fleece pullover for hiking", "clothing", "Oakhurst"},
    {"Running shorts with pockets", "clothing", "Brightmoor"},
    {"Merino wool base layer", "clothing", "Ironwood"},
};

typedef struct fixture {
    char db[64];
    rb_sink *sink;
    rb_embedder *emb;
    size_t dim;
    float *vecs; /* N_PRODUCTS x dim */
    char ids[N_PRODUCTS][16];
    bool deleted[N_PRODUCTS];
} fixture;

static fixture fx;

static void embed_texts(const char *const *texts, size_t n, float *out) {
    rb_error err;
    ck_assert_msg(rb_embedder_embed(fx.emb, texts, n, out, &err) == 0, "%s", err.msg);
}

static void fixture_open(void) {
    const char *uri = getenv("RAGBATCH_MONGO_URI");
    ck_assert_msg(uri && *uri, "RAGBATCH_MONGO_URI is not set: run scripts/servers.sh start");
    memset(&fx, 0, sizeof fx);
    snprintf(fx.db, sizeof fx.db, "check_search_%ld", (long)getpid());
    rb_error err;
    rb_local_embed_opts eo = {.model_dir = RB_MODEL_DIR, .threads = 1};
    fx.emb = rb_embedder_local_new(&eo, &err);
    ck_assert_msg(fx.emb != NULL, "%s", err.msg);
    fx.dim = rb_embedder_dim(fx.emb);
    rb_sink_opts so = {.uri = uri, .database = fx.db, .collection = "docs", .timeout_ms = 20000};
    fx.sink = rb_sink_new(&so, &err);
    ck_assert_msg(fx.sink != NULL, "%s", err.msg);

    const char *texts[N_PRODUCTS];
    for (int i = 0; i < N_PRODUCTS; i++) texts[i] = products[i].name;
    fx.vecs = malloc(N_PRODUCTS * fx.dim * sizeof *fx.vecs);
    ck_assert_ptr_nonnull(fx.vecs);
    embed_texts(texts, N_PRODUCTS, fx.vecs);

    rb_json_doc *meta[N_PRODUCTS];
    rb_sink_meta m[N_PRODUCTS][2];
    rb_sink_item items[N_PRODUCTS];
    memset(items, 0, sizeof items);
    for (int i = 0; i < N_PRODUCTS; i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"category\":\"%s\",\"brand\":\"%s\"}", products[i].category,
                 products[i].brand);
        ck_assert_int_eq(rb_json_parse(json, strlen(json), NULL, &meta[i], &err), 0);
        const rb_json *root = rb_json_doc_root(meta[i]);
        m[i][0] = (rb_sink_meta){"category", rb_json_get(root, "category")};
        m[i][1] = (rb_sink_meta){"brand", rb_json_get(root, "brand")};
        snprintf(fx.ids[i], sizeof fx.ids[i], "p-%03d", i);
        items[i] = (rb_sink_item){.kind = RB_SINK_UPSERT,
                                  .id = fx.ids[i],
                                  .version = 1,
                                  .event_time_ms = 1700000000000,
                                  .text = products[i].name,
                                  .text_hash = "00",
                                  .vector = fx.vecs + (size_t)i * fx.dim,
                                  .dim = fx.dim,
                                  .model = "all-MiniLM-L6-v2",
                                  .metadata = m[i],
                                  .n_metadata = 2,
                                  .topic = "t",
                                  .offset = i};
    }
    ck_assert_msg(rb_sink_write(fx.sink, items, N_PRODUCTS, NULL, &err) == 0, "%s", err.msg);
    for (int i = 0; i < N_PRODUCTS; i++) {
        ck_assert_int_eq(items[i].result, RB_SINK_STORED);
        rb_json_doc_destroy(meta[i]);
    }
}

static void fixture_close(void) {
    rb_error err;
    ck_assert_msg(rb_sink_drop_database(fx.sink, &err) == 0, "%s", err.msg);
    rb_sink_destroy(fx.sink);
    rb_embedder_destroy(fx.emb);
    free(fx.vecs);
}

/* The reference: cosine in double over the stored vectors, best first,
 * live products matching `category` (NULL: all) only. */
typedef struct ref_hit {
    double score;
    int idx;
} ref_hit;

static int by_score_desc(const void *a, const void *b) {
    const ref_hit *x = a, *y = b;
    return x->score < y->score ? 1 : x->score > y->score ? -1 : 0;
}

static size_t reference(const float *q, const char *category, ref_hit *out) {
    size_t n = 0;
    for (int i = 0; i < N_PRODUCTS; i++) {
        if (fx.deleted[i] || (category && strcmp(products[i].category, category) != 0)) continue;
        const float *v = fx.vecs + (size_t)i * fx.dim;
        double dot = 0, nq = 0, nv = 0;
        for (size_t d = 0; d < fx.dim; d++) {
            dot += (double)q[d] * v[d];
            nq += (double)q[d] * q[d];
            nv += (double)v[d] * v[d];
        }
        out[n++] = (ref_hit){dot / (sqrt(nq) * sqrt(nv)), i};
    }
    qsort(out, n, sizeof *out, by_score_desc);
    return n;
}

/* Runs the query through a fresh searcher (as each process does) and
 * checks it against the reference; returns the top id's index. */
static int check_query(const char *text, const char *category, size_t k) {
    float *q = malloc(fx.dim * sizeof *q);
    ck_assert_ptr_nonnull(q);
    embed_texts(&text, 1, q);
    rb_error err;
    rb_searcher *s = rb_searcher_new(fx.sink, "docs_vector", &err);
    ck_assert_ptr_nonnull(s);
    rb_sink_filter_eq eq[] = {{.field = "category", .value = category}};
    rb_search_query sq = {.vector = q,
                          .dim = fx.dim,
                          .k = k,
                          .equals = category ? eq : NULL,
                          .n_equals = category ? 1 : 0};
    rb_search_result r;
    ck_assert_msg(rb_searcher_query(s, &sq, &r, &err) == 0, "%s", err.msg);
    /* FerretDB has no $vectorSearch: detected, and said. */
    ck_assert_int_eq(r.path, RB_SEARCH_PATH_EXACT);
    ck_assert_msg(strstr(r.notice, "exact search") && strstr(r.notice, "$vectorSearch"),
                  "notice: %s", r.notice);

    ref_hit ref[N_PRODUCTS];
    size_t nref = reference(q, category, ref);
    size_t want = nref < k ? nref : k;
    ck_assert_uint_eq(r.n, want);
    for (size_t i = 0; i < want; i++) {
        ck_assert_msg(strcmp(r.hits[i].id, fx.ids[ref[i].idx]) == 0,
                      "query '%s' rank %zu: %s (%.6f), reference %s (%.6f)", text, i + 1,
                      r.hits[i].id, r.hits[i].score, fx.ids[ref[i].idx], ref[i].score);
        ck_assert_double_eq_tol(r.hits[i].score, ref[i].score, 1e-5);
        if (category) ck_assert_ptr_nonnull(strstr(r.hits[i].metadata_json, category));
    }
    int top = want ? ref[0].idx : -1;
    rb_search_result_free(&r);
    rb_searcher_destroy(s);
    free(q);
    return top;
}

START_TEST(queries_follow_the_reference_order) {
    fixture_open();
    const char *queries[] = {"shoes for running", "cooking in the kitchen", "music and sound",
                             "sleeping outdoors in the cold", "clothes for rainy weather"};
    for (int i = 0; i < 5; i++) check_query(queries[i], NULL, 5);
    /* k larger than the collection: every product, in order. */
    check_query("gift ideas", NULL, 50);
    /* The best match for running shoes is a running shoe. */
    int top = check_query("shoes for running", NULL, 1);
    ck_assert_int_ge(top, 0);
    ck_assert_ptr_nonnull(strstr(products[top].name, "running shoes"));
    fixture_close();
}
END_TEST

START_TEST(filters_narrow_the_results) {
    fixture_open();
    /* Without the filter the best match is footwear; with it, kitchen only. */
    check_query("shoes for running", "kitchen", 5);
    check_query("shoes for running", "outdoor", 10);
    /* A category nobody has: nothing. */
    check_query("shoes for running", "garden", 5);
    fixture_close();
}
END_TEST

START_TEST(soft_deleted_product_never_comes_back) {
    fixture_open();
    int top = check_query("shoes for running", NULL, 3);
    ck_assert_int_ge(top, 0);
    rb_sink_item del = {.kind = RB_SINK_SOFT_DELETE,
                        .id = fx.ids[top],
                        .version = 2,
                        .event_time_ms = 1700000001000,
                        .topic = "t",
                        .offset = 100};
    rb_error err;
    ck_assert_msg(rb_sink_write(fx.sink, &del, 1, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(del.result, RB_SINK_STORED);
    fx.deleted[top] = true;
    /* The reference leaves it out; so must every query, filtered or not,
     * even one asking for every document. */
    check_query("shoes for running", NULL, 3);
    check_query("shoes for running", "footwear", 10);
    ck_assert_int_ne(check_query(products[top].name, NULL, N_PRODUCTS), top);
    fixture_close();
}
END_TEST

static void base64(const uint8_t *in, size_t n, char *out) {
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* A vector stored as a BSON binary float32 vector (subtype 9, dtype 0x27)
 * is read by the exact search like an array of doubles. */
START_TEST(binary_float32_vectors_are_read) {
    fixture_open();
    const float *v = fx.vecs + 7 * fx.dim; /* the chef knife */
    size_t nbytes = 2 + 4 * fx.dim;
    uint8_t *raw = malloc(nbytes);
    char *b64 = malloc(nbytes * 2 + 4);
    ck_assert(raw && b64);
    raw[0] = 0x27;
    raw[1] = 0;
    for (size_t i = 0; i < fx.dim; i++) {
        uint32_t bits;
        memcpy(&bits, &v[i], sizeof bits);
        for (int b = 0; b < 4; b++) raw[2 + 4 * i + (size_t)b] = (uint8_t)(bits >> (8 * b));
    }
    base64(raw, nbytes, b64);
    rb_buf cmd;
    rb_buf_init(&cmd);
    rb_buf_printf(&cmd,
                  "{\"insert\": \"docs\", \"documents\": [{\"_id\": \"bin-1\", \"text\": "
                  "\"binary\", \"deleted\": false, \"metadata\": {\"category\": \"binary\"}, "
                  "\"embedding\": {\"$binary\": {\"base64\": \"%s\", \"subType\": \"09\"}}}]}",
                  b64);
    rb_error err;
    if (harness_mongo() == HARNESS_MONGO_JAVA) {
        /* mongo-java-server 1.47 cannot decode binary subtype 9 and drops
         * the connection (docs/test-servers.md); MongoDB stores it. */
        ck_assert_int_eq(rb_sink_command_json(fx.sink, cmd.data, NULL, NULL, &err), -1);
        rb_buf_free(&cmd);
        free(raw);
        free(b64);
        fixture_close();
        return;
    }
    ck_assert_msg(rb_sink_command_json(fx.sink, cmd.data, NULL, NULL, &err) == 0, "%s", err.msg);
    rb_buf_free(&cmd);
    rb_sink_filter_eq eq[] = {{.field = "category", .value = "binary"}};
    rb_sink_scan_opts scan = {.equals = eq, .n_equals = 1};
    rb_search_hit *hits;
    size_t n, mismatched;
    ck_assert_msg(rb_search_exact(fx.sink, v, fx.dim, 3, &scan, &hits, &n, &mismatched, &err) == 0,
                  "%s", err.msg);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(mismatched, 0);
    ck_assert_str_eq(hits[0].id, "bin-1");
    ck_assert_double_eq_tol(hits[0].score, 1.0, 1e-6); /* the same float32 values */
    rb_search_hits_free(hits, n);
    free(raw);
    free(b64);
    fixture_close();
}
END_TEST

/* The verbs, as a user runs them: the notice says the answer is exact and
 * why, --json marks every hit, and `index show` prints the definition. */
START_TEST(cli_says_the_search_is_exact) {
    fixture_open();
    const char *job = harness_write_job("check_search_cli", "check-search-unused", fx.db, NULL);
    char log[512];
    snprintf(log, sizeof log, "%s/tests/check_search_cli.log", RB_BUILD_DIR);
    const char *args[] = {"search", job, "shoes for running", "--k", "3", "--json", NULL};
    ck_assert_int_eq(harness_run(log, args, 60), 0);
    char *out = harness_slurp(log);
    ck_assert_msg(strstr(out, "exact search") && strstr(out, "does not support $vectorSearch"),
                  "%s", out);
    ck_assert_msg(strstr(out, "\"rank\":3"), "%s", out);
    ck_assert_msg(!strstr(out, "\"exact\":false"), "%s", out);
    ck_assert_msg(strstr(out, "\"exact\":true"), "%s", out);
    /* embed.prefix.query goes before the query: the embedder says so in
     * its model name (check_models proves the vector is the prefixed
     * text's). */
    const char *pjob = harness_write_job("check_search_prefix", "check-search-unused", fx.db,
                                         "embed.prefix.query = query:\n");
    const char *pargs[] = {"search", pjob, "shoes for running", "--k", "1", NULL};
    ck_assert_int_eq(harness_run(log, pargs, 60), 0);
    free(out);
    out = harness_slurp(log);
    ck_assert_msg(strstr(out, "model all-MiniLM-L6-v2 prefix=\"query: \""), "%s", out);
    const char *bad[] = {"search", job, "x", "--filter", "$where=1", NULL};
    ck_assert_int_eq(harness_run(log, bad, 60), 2); /* a usage error, before any server */
    const char *show[] = {"index", "show", job, NULL};
    ck_assert_int_eq(harness_run(log, show, 60), 0);
    free(out);
    out = harness_slurp(log);
    ck_assert_msg(strstr(out, "no Atlas Search index commands") &&
                      strstr(out, "\"numDimensions\":384") &&
                      strstr(out, "\"path\":\"metadata.category\""),
                  "%s", out);
    free(out);
    fixture_close();
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("search");
    TCase *unit = tcase_create("atlas documents");
    tcase_add_test(unit, pipeline_matches_atlas_ann_example);
    tcase_add_test(unit, pipeline_matches_atlas_enn_example);
    tcase_add_test(unit, chunk_pipeline_keeps_the_best_current_chunk_per_parent);
    tcase_add_test(unit, chunk_pipeline_collects_the_top_chunks_per_parent);
    tcase_add_test(unit, num_candidates_default_and_bounds);
    tcase_add_test(unit, filter_values_are_values_and_names_are_checked);
    tcase_add_test(unit, filters_parse_into_typed_values);
    tcase_add_test(unit, pipeline_filters_are_typed);
    tcase_add_test(unit, index_definition_matches_atlas_example);
    tcase_add_test(unit, index_options_parse_and_bounds);
    suite_add_tcase(s, unit);
    TCase *server = tcase_create("against the server");
    tcase_set_timeout(server, 120);
    tcase_add_test(server, queries_follow_the_reference_order);
    tcase_add_test(server, filters_narrow_the_results);
    tcase_add_test(server, soft_deleted_product_never_comes_back);
    tcase_add_test(server, cli_says_the_search_is_exact);
    tcase_add_test(server, binary_float32_vectors_are_read);
    suite_add_tcase(s, server);
    return s;
}
