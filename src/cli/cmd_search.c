/*
 * cmd_search.c -- `ragbatch search JOB "query"`: the nearest stored
 * documents to a query, embedded with the job's own model.
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "cli/job_args.h"
#include "common/buf.h"
#include "embed/embedder.h"
#include "runner/embed_opts.h"
#include "search/atlas.h"
#include "search/filter.h"
#include "search/search.h"
#include "sink/sink.h"
#include "transform/chunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILTERS 16

static void usage(FILE *out) {
    fputs("usage: ragbatch search JOBFILE QUERY [--k N] [--filter FIELD<OP>VALUE]... [--json]\n"
          "                       [--exact] [--index NAME] [--candidates N] [--chunks-per-doc N]\n"
          "                       [--set KEY=VALUE]...\n"
          "\n"
          "Embeds QUERY with the job's model and prints the k nearest stored documents.\n"
          "  --k N                 how many (default 10, at most 10000)\n"
          "  --filter FIELD=VALUE  only documents whose metadata FIELD equals VALUE (repeatable,\n"
          "                        all must hold); FIELD=A,B one of the values; FIELD<V, <=,\n"
          "                        >, >= a range.  Numbers (438.5) and true/false are typed;\n"
          "                        \"...\" is always a string (sku=\"00123\")\n"
          "  --json                one JSON object per line instead of a table\n"
          "  --exact               on Atlas, an exhaustive (ENN) search instead of ANN\n"
          "  --index NAME          the Atlas Vector Search index (default COLLECTION_vector)\n"
          "  --candidates N        Atlas numCandidates (default 20 x k, at most 10000)\n"
          "Where the server supports $vectorSearch (MongoDB Atlas) the query goes to the\n"
          "vector index; elsewhere (MongoDB Community, FerretDB) the search is exact: every\n"
          "stored vector is scored (cosine) and the best k kept.  A notice on stderr (and\n"
          "the \"exact\" field with --json) says which answered and why.\n"
          "With text.chunk.enable (the default) the chunks of long texts are searched too\n"
          "and a document found by its best chunk shows it: [chunk N, chars A-B, T tokens]\n"
          "(\"chunk\" with --json), its text being that chunk's.\n"
          "  --chunks-per-doc N    such a document also shows its next best chunks, N in all\n"
          "                        (default 1, at most 32; \"chunks\" with --json, best first)\n",
          out);
}

/* Prints `text` cut to about `max` bytes at a character boundary. */
static void print_excerpt(const char *text, size_t max) {
    size_t len = strlen(text);
    if (len <= max) {
        fputs(text, stdout);
        return;
    }
    while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80) max--;
    fwrite(text, 1, max, stdout);
    fputs("...", stdout);
}

/* A job that chunks long texts is searched over its chunk collection too
 * (index "<chunk collection>_vector" on Atlas), answering with documents. */
static int open_chunks(const rb_job_config *cfg, const rb_sink_opts *so, rb_searcher *searcher,
                       rb_sink **chunks, rb_error *err) {
    rb_buf coll, ix;
    rb_buf_init(&coll);
    rb_buf_init(&ix);
    int rc = rb_chunk_collection_name(cfg->text_chunk_collection, cfg->mongo_collection, &coll);
    if (rc == 0) rc = rb_atlas_default_index_name(coll.data, &ix);
    if (rc != 0) {
        rb_buf_free(&coll);
        rb_buf_free(&ix);
        return rb_error_nomem(err, RB_STAGE_NONE, "chunk collection");
    }
    rb_sink_opts co = *so;
    co.collection = coll.data;
    rc = (*chunks = rb_sink_new(&co, err)) ? 0 : -1;
    if (rc == 0)
        rc = rb_searcher_set_chunks(searcher, *chunks, ix.data, cfg->mongo_collection, err);
    rb_buf_free(&coll);
    rb_buf_free(&ix);
    return rc;
}

int rb_cmd_search(int argc, char **argv) {
    const char *path = NULL, *query = NULL;
    char *sets[RB_CLI_MAX_SETS];
    size_t nsets = 0, nfilters = 0;
    rb_sink_filter_eq filters[MAX_FILTERS];
    static rb_search_filter parsed[MAX_FILTERS]; /* large: not on the stack */
    long k = 10, candidates = 0, per_doc = 1;
    bool json = false, enn = false;
    const char *index_name = NULL;
    enum {
        OPT_JSON = 1,
        OPT_EXACT,
        OPT_INDEX,
        OPT_CANDIDATES,
        OPT_K,
        OPT_FILTER,
        OPT_SET,
        OPT_PER_DOC
    };
    static const rb_cli_option options[] = {
        {"--json", 0, false, OPT_JSON},  {"--exact", 0, false, OPT_EXACT},
        {"--index", 0, true, OPT_INDEX}, {"--candidates", 0, true, OPT_CANDIDATES},
        {"--k", 0, true, OPT_K},         {"--filter", 0, true, OPT_FILTER},
        {"--set", 0, true, OPT_SET},     {"--chunks-per-doc", 0, true, OPT_PER_DOC},
    };
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    rb_error err;
    const char *value;
    int id, status = 0;
    while (status == 0 && (id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        switch (id) {
        case RB_CLI_ERROR: status = rb_cli_usage_error("search", &err); break;
        case RB_CLI_HELP: usage(stdout); goto free_filters;
        case RB_CLI_OPERAND:
            if (!path) {
                path = value;
            } else if (!query) {
                query = value;
            } else {
                fprintf(stderr, "ragbatch search: quote the query: one QUERY argument only\n");
                status = 2;
            }
            break;
        case OPT_JSON: json = true; break;
        case OPT_EXACT: enn = true; break;
        case OPT_INDEX: index_name = value; break;
        case OPT_CANDIDATES:
            if (rb_cli_long("--candidates", value, 1, RB_ATLAS_MAX_CANDIDATES, &candidates,
                            &err) != 0)
                status = rb_cli_usage_error("search", &err);
            break;
        case OPT_K:
            if (rb_cli_long("--k", value, 1, 10000, &k, &err) != 0)
                status = rb_cli_usage_error("search", &err);
            break;
        case OPT_PER_DOC:
            if (rb_cli_long("--chunks-per-doc", value, 1, RB_SEARCH_CHUNKS_PER_DOC_MAX, &per_doc,
                            &err) != 0)
                status = rb_cli_usage_error("search", &err);
            break;
        case OPT_FILTER:
            if (nfilters == MAX_FILTERS) {
                fprintf(stderr, "ragbatch search: more than %d --filter options\n", MAX_FILTERS);
                status = 2;
                goto free_filters;
            }
            if (rb_search_filter_parse(value, &parsed[nfilters], &err) != 0) {
                fprintf(stderr, "ragbatch search: %s\n", err.msg);
                status = 2;
                goto free_filters;
            }
            filters[nfilters] = parsed[nfilters].cond;
            nfilters++;
            break;
        case OPT_SET: status = rb_cli_add_set("search", sets, &nsets, value); break;
        }
    }
    if (status != 0) goto free_filters;
    if (!path || !query) {
        usage(stderr);
        status = 2;
        goto free_filters;
    }

    rb_job_config cfg;
    status = rb_cli_load_job(path, sets, nsets, &cfg);
    if (status != 0) {
        rb_job_config_free(&cfg);
        goto free_filters;
    }
    rb_embedder *emb = NULL;
    rb_sink *sink = NULL, *chunks = NULL;
    float *vec = NULL;
    rb_searcher *searcher = NULL;
    rb_search_result res = {0};
    rb_buf ixname;
    rb_buf_init(&ixname);
    rb_sink_global_init();
    rb_sink_opts so = {.uri = cfg.mongo_uri,
                       .database = cfg.mongo_database,
                       .collection = cfg.mongo_collection,
                       .timeout_ms = (int)cfg.mongo_timeout_ms,
                       .app_name = "ragbatch/search"};
    status = 1;
    rb_embed_opts eo;
    rb_runner_embed_opts(&cfg, &eo);
    if (!(emb = rb_embedder_new(&eo, &err))) goto done;
    if (rb_runner_embed_prefix(emb, cfg.embed_prefix_query, &err) != 0) goto done;
    size_t dim = rb_embedder_dim(emb);
    if (!(vec = malloc(dim * sizeof *vec))) {
        rb_error_nomem(&err, RB_STAGE_NONE, "query vector");
        goto done;
    }
    if (rb_embedder_embed(emb, &query, 1, vec, &err) != 0) goto done;
    if (!(sink = rb_sink_new(&so, &err))) goto done;
    if (!index_name) {
        if (rb_atlas_default_index_name(cfg.mongo_collection, &ixname) != 0) {
            rb_error_nomem(&err, RB_STAGE_NONE, "index name");
            goto done;
        }
        index_name = ixname.data;
    }
    if (!(searcher = rb_searcher_new(sink, index_name, &err))) goto done;
    if (cfg.text_chunk_enable && open_chunks(&cfg, &so, searcher, &chunks, &err) != 0) goto done;
    rb_search_query q = {.vector = vec,
                         .dim = dim,
                         .k = (size_t)k,
                         .equals = filters,
                         .n_equals = nfilters,
                         .enn = enn,
                         .num_candidates = (size_t)candidates,
                         .chunks_per_doc = (size_t)per_doc};
    if (rb_searcher_query(searcher, &q, &res, &err) != 0) goto done;
    status = 0;
    rb_search_hit *hits = res.hits;
    size_t nhits = res.n, mismatched = res.mismatched;
    bool exact = res.path == RB_SEARCH_PATH_EXACT || enn;
    fprintf(stderr, "ragbatch search: %s\n", res.notice);
    if (!json)
        printf("%s search in %s.%s, model %s: %zu hit%s\n",
               res.path == RB_SEARCH_PATH_EXACT ? "exact (cosine over every stored vector)"
                                                : (enn ? "Atlas ENN" : "Atlas ANN"),
               cfg.mongo_database, cfg.mongo_collection, rb_embedder_model_name(emb), nhits,
               nhits == 1 ? "" : "s");
    rb_buf line;
    rb_buf_init(&line);
    for (size_t i = 0; i < nhits; i++) {
        if (json) {
            rb_buf_reset(&line);
            rb_buf_printf(&line, "{\"rank\":%zu,\"score\":%.6f,\"id\":", i + 1, hits[i].score);
            rb_buf_json_string(&line, hits[i].id, strlen(hits[i].id));
            rb_buf_puts(&line, ",\"text\":");
            rb_buf_json_string(&line, hits[i].text, strlen(hits[i].text));
            rb_buf_printf(&line, ",\"metadata\":%s,\"exact\":%s", hits[i].metadata_json,
                          exact ? "true" : "false");
            if (hits[i].chunked)
                rb_buf_printf(&line,
                              ",\"chunk\":{\"index\":%zu,\"start\":%zu,\"end\":%zu,\"tokens\":%"
                              "zu}",
                              hits[i].chunk_index, hits[i].span_start, hits[i].span_end,
                              hits[i].span_tokens);
            if (hits[i].chunked && per_doc > 1) {
                rb_buf_puts(&line, ",\"chunks\":[");
                for (size_t c = 0; c < hits[i].n_chunks; c++) {
                    const rb_search_chunk *ch = &hits[i].chunks[c];
                    rb_buf_printf(&line,
                                  "%s{\"score\":%.6f,\"index\":%zu,\"start\":%zu,\"end\":%zu,"
                                  "\"tokens\":%zu,\"text\":",
                                  c ? "," : "", ch->score, ch->index, ch->span_start, ch->span_end,
                                  ch->tokens);
                    rb_buf_json_string(&line, ch->text, strlen(ch->text));
                    rb_buf_putc(&line, '}');
                }
                rb_buf_putc(&line, ']');
            }
            rb_buf_putc(&line, '}');
            puts(line.data ? line.data : "");
        } else {
            printf("%3zu  %.4f  %-14s  ", i + 1, hits[i].score, hits[i].id);
            if (hits[i].chunked)
                printf("[chunk %zu, chars %zu-%zu, %zu tokens] ", hits[i].chunk_index,
                       hits[i].span_start, hits[i].span_end, hits[i].span_tokens);
            print_excerpt(hits[i].text, 100);
            putchar('\n');
            for (size_t c = 1; hits[i].chunked && c < hits[i].n_chunks; c++) {
                const rb_search_chunk *ch = &hits[i].chunks[c];
                printf("     %.4f  %-14s  [chunk %zu, chars %zu-%zu, %zu tokens] ", ch->score, "",
                       ch->index, ch->span_start, ch->span_end, ch->tokens);
                print_excerpt(ch->text, 100);
                putchar('\n');
            }
        }
    }
    rb_buf_free(&line);
    if (mismatched)
        fprintf(stderr,
                "ragbatch search: %zu documents skipped: their vectors are not %zu-dimensional "
                "(written with another model)\n",
                mismatched, dim);
done:
    if (status != 0) fprintf(stderr, "ragbatch search: %s\n", err.msg);
    rb_search_result_free(&res);
    rb_searcher_destroy(searcher);
    rb_sink_destroy(chunks);
    rb_buf_free(&ixname);
    free(vec);
    rb_sink_destroy(sink);
    rb_embedder_destroy(emb);
    rb_sink_global_cleanup();
    rb_job_config_free(&cfg);
free_filters:
    for (size_t i = 0; i < nfilters; i++) rb_search_filter_free(&parsed[i]);
    return status;
}
