/*
 * cmd_index.c -- `ragbatch index create|show|drop JOB`: the Atlas Vector
 * Search index derived from the job (vector field "embedding" with the
 * model's dimension, one filter field per metadata field, and "deleted").
 *
 * The dimension is the model's hidden size read from its config.json; no
 * weights are loaded.  Where the server has no search index commands
 * (MongoDB Community, FerretDB) the verb prints the definition for the
 * Atlas UI or CLI and a notice on stderr, and still succeeds: there is
 * nothing wrong with the job, the server just cannot hold such an index.
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "cli/job_args.h"
#include "common/buf.h"
#include "embed/embedder.h"
#include "runner/embed_opts.h"
#include "search/atlas.h"
#include "search/search.h"
#include "sink/sink.h"
#include "transform/chunk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fputs("usage: ragbatch index create|show|drop JOBFILE [--index NAME]\n"
          "                      [--similarity cosine|dotProduct|euclidean]\n"
          "                      [--quantization none|scalar|binary] [--set KEY=VALUE]...\n"
          "\n"
          "Manages the MongoDB Atlas Vector Search index of the job's collection:\n"
          "  create  createSearchIndexes with the definition derived from the job\n"
          "  show    the server's search indexes ($listSearchIndexes)\n"
          "  drop    dropSearchIndex\n"
          "The definition indexes `embedding` (numDimensions from the model's config.json)\n"
          "and, as filter fields, metadata.<field> for every metadata field and `deleted`.\n"
          "Where the server has no search indexes, the definition is printed as JSON for\n"
          "the Atlas UI or CLI instead.  Default index name: COLLECTION_vector.\n"
          "With text.chunk.enable (the default) the same is done for the chunk collection\n"
          "(text.chunk.collection, COLLECTION_chunks) and its index COLLECTION_chunks_vector.\n",
          out);
}

typedef enum action { ACT_CREATE, ACT_SHOW, ACT_DROP } action;

static void unsupported_notice(const char *what, const rb_error *err, bool printing) {
    fprintf(stderr, "ragbatch index: this server has no Atlas Search index commands (%s: %s)%s\n",
            what, err->msg,
            printing ? "; the definition below is for the Atlas UI (JSON editor: the "
                       "\"definition\" part), the Atlas CLI or mongosh "
                       "db.collection.createSearchIndex()"
                     : "; there is no search index to drop");
}

static int run(action act, const rb_job_config *cfg, const char *collection,
               const char *index_name, const char *definition) {
    rb_error err;
    rb_sink_opts so = {.uri = cfg->mongo_uri,
                       .database = cfg->mongo_database,
                       .collection = collection,
                       .timeout_ms = (int)cfg->mongo_timeout_ms,
                       .app_name = "ragbatch/index"};
    rb_sink *sink = rb_sink_new(&so, &err);
    if (!sink) {
        fprintf(stderr, "ragbatch index: %s\n", err.msg);
        return 1;
    }
    rb_buf cmd;
    rb_buf_init(&cmd);
    char *reply = NULL;
    int code = 0, rc = 0;
    const char *what = "createSearchIndexes";
    if (act == ACT_CREATE) {
        rc |= rb_buf_puts(&cmd, "{\"createSearchIndexes\":");
        rc |= rb_buf_json_string(&cmd, collection, strlen(collection));
        rc |= rb_buf_printf(&cmd, ",\"indexes\":[%s]}", definition);
    } else if (act == ACT_DROP) {
        what = "dropSearchIndex";
        rc |= rb_buf_puts(&cmd, "{\"dropSearchIndex\":");
        rc |= rb_buf_json_string(&cmd, collection, strlen(collection));
        rc |= rb_buf_puts(&cmd, ",\"name\":");
        rc |= rb_buf_json_string(&cmd, index_name, strlen(index_name));
        rc |= rb_buf_putc(&cmd, '}');
    } else {
        what = "$listSearchIndexes";
        rc |= rb_buf_puts(&cmd, "[{\"$listSearchIndexes\":{\"name\":");
        rc |= rb_buf_json_string(&cmd, index_name, strlen(index_name));
        rc |= rb_buf_puts(&cmd, "}}]");
    }
    int status = 1;
    if (rc != 0) {
        rb_error_nomem(&err, RB_STAGE_NONE, "command");
        rc = -1;
    } else if (act == ACT_SHOW) {
        rc = rb_sink_aggregate_json(sink, cmd.data, &reply, &code, &err);
    } else {
        rc = rb_sink_command_json(sink, cmd.data, &reply, &code, &err);
    }
    if (rc == 0) {
        puts(reply ? reply : "");
        if (act == ACT_CREATE)
            fprintf(stderr,
                    "ragbatch index: index '%s' requested; Atlas builds it in the "
                    "background and keeps it eventually consistent with the "
                    "collection\n",
                    index_name);
        status = 0;
    } else if (rb_search_unsupported(code)) {
        unsupported_notice(what, &err, act != ACT_DROP);
        if (act != ACT_DROP) puts(definition);
        status = 0;
    } else {
        fprintf(stderr, "ragbatch index: %s\n", err.msg);
    }
    free(reply);
    rb_buf_free(&cmd);
    rb_sink_destroy(sink);
    return status;
}

int rb_cmd_index(int argc, char **argv) {
    const char *path = NULL, *verb = NULL, *index_name = NULL;
    const char *similarity = "cosine", *quantization = "none";
    char *sets[RB_CLI_MAX_SETS];
    size_t nsets = 0;
    enum { OPT_INDEX = 1, OPT_SIMILARITY, OPT_QUANTIZATION, OPT_SET };
    static const rb_cli_option options[] = {
        {"--index", 0, true, OPT_INDEX},
        {"--similarity", 0, true, OPT_SIMILARITY},
        {"--quantization", 0, true, OPT_QUANTIZATION},
        {"--set", 0, true, OPT_SET},
    };
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    rb_error err;
    const char *value;
    int id;
    while ((id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        switch (id) {
        case RB_CLI_ERROR: return rb_cli_usage_error("index", &err);
        case RB_CLI_HELP: usage(stdout); return 0;
        case RB_CLI_OPERAND:
            if (!verb) {
                verb = value;
            } else if (!path) {
                path = value;
            } else {
                usage(stderr);
                return 2;
            }
            break;
        case OPT_INDEX: index_name = value; break;
        case OPT_SIMILARITY: similarity = value; break;
        case OPT_QUANTIZATION: quantization = value; break;
        case OPT_SET:
            if (rb_cli_add_set("index", sets, &nsets, value) != 0) return 2;
            break;
        }
    }
    action act;
    if (!verb || !path) {
        usage(stderr);
        return 2;
    } else if (strcmp(verb, "create") == 0) {
        act = ACT_CREATE;
    } else if (strcmp(verb, "show") == 0) {
        act = ACT_SHOW;
    } else if (strcmp(verb, "drop") == 0) {
        act = ACT_DROP;
    } else {
        fprintf(stderr, "ragbatch index: '%s' is not create, show or drop\n", verb);
        return 2;
    }
    rb_atlas_index ix = {0};
    if (rb_atlas_similarity_parse(similarity, &ix.similarity, &err) != 0 ||
        rb_atlas_quantization_parse(quantization, &ix.quantization, &err) != 0) {
        fprintf(stderr, "ragbatch index: %s\n", err.msg);
        return 2;
    }

    rb_job_config cfg;
    int status = rb_cli_load_job(path, sets, nsets, &cfg);
    if (status != 0) {
        rb_job_config_free(&cfg);
        return status;
    }
    rb_buf name, def;
    rb_buf_init(&name);
    rb_buf_init(&def);
    status = 1;
    /* The vector size as the job's embedder would make it, without
     * loading weights or calling a provider. */
    rb_embed_opts eo;
    rb_runner_embed_opts(&cfg, &eo);
    size_t dim = 0;
    if (rb_embed_opts_dim(&eo, &dim, &err) != 0) goto done;
    if (!index_name) {
        if (rb_atlas_default_index_name(cfg.mongo_collection, &name) != 0) {
            rb_error_nomem(&err, RB_STAGE_NONE, "index name");
            goto done;
        }
        index_name = name.data;
    }
    ix.name = index_name;
    ix.num_dimensions = dim;
    ix.filter_fields = (const char *const *)cfg.metadata_fields.items;
    ix.n_filter_fields = cfg.metadata_fields.count;
    if (rb_atlas_index_json(&ix, &def, &err) != 0) goto done;
    rb_sink_global_init();
    status = run(act, &cfg, cfg.mongo_collection, index_name, def.data);
    if (status == 0 && cfg.text_chunk_enable) {
        /* The chunks of long texts have their own collection and index,
         * over the same vector and filter fields. */
        rb_buf coll, cname, cdef;
        rb_buf_init(&coll);
        rb_buf_init(&cname);
        rb_buf_init(&cdef);
        if (rb_chunk_collection_name(cfg.text_chunk_collection, cfg.mongo_collection, &coll) !=
                0 ||
            rb_atlas_default_index_name(coll.data, &cname) != 0) {
            fprintf(stderr, "ragbatch index: out of memory naming the chunk index\n");
            status = 1;
        } else if ((ix.name = cname.data), rb_atlas_index_json(&ix, &cdef, &err) != 0) {
            fprintf(stderr, "ragbatch index: %s\n", err.msg);
            status = 1;
        } else {
            status = run(act, &cfg, coll.data, cname.data, cdef.data);
        }
        rb_buf_free(&coll);
        rb_buf_free(&cname);
        rb_buf_free(&cdef);
    }
    rb_sink_global_cleanup();
    rb_buf_free(&def);
    rb_buf_free(&name);
    rb_job_config_free(&cfg);
    return status;
done:
    fprintf(stderr, "ragbatch index: %s\n", err.msg);
    rb_buf_free(&def);
    rb_buf_free(&name);
    rb_job_config_free(&cfg);
    return status;
}
