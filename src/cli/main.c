/*
 * main.c -- ragbatch's entry point: one binary, one verb per job.
 */
#include "cli/commands.h"

#include "common/cpus.h"
#include "common/suggest.h"
#include "config.h"
#include "version/version.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} verb;

static const verb verbs[] = {
    {"run", rb_cmd_run, "run a job: Kafka micro-batches -> embeddings -> MongoDB"},
    {"backfill", rb_cmd_backfill,
     "re-process a range (offsets or times) of the job's topics, then exit"},
    {"check", rb_cmd_check, "validate a job file and print its effective configuration"},
    {"config", rb_cmd_config, "list every job key with its type, default and meaning"},
    {"status", rb_cmd_status,
     "where a job stands: offsets and lag, the last batch, DLQ, collection, index"},
    {"search", rb_cmd_search, "the nearest stored documents to a query, with the job's model"},
    {"index", rb_cmd_index, "create, show or drop the job's Atlas Vector Search index"},
    {"embed", rb_cmd_embed, "embed texts with a local model and print the vectors"},
    {"dlq", rb_cmd_dlq, "dead-letter topics: stats by failure, replay of fixed records"},
    {"generate", rb_cmd_generate, "produce product events to a topic (demo/benchmark source)"},
};

static void usage(FILE *out) {
    fputs("usage: ragbatch VERB [options]   (ragbatch VERB --help for a verb's options)\n\n", out);
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    fputs("  version    print the version, commit, library versions and embedding kernel\n", out);
}

int main(int argc, char **argv) {
    /* OpenMP's default team (embed.threads = 0 and decode's loop) is the
     * CPUs this process may keep busy, the pod's CPU limit included, not
     * every CPU of the node; OMP_NUM_THREADS, when set, still decides. */
    const char *omp = getenv("OMP_NUM_THREADS");
    if (!omp || !*omp) omp_set_num_threads(rb_cpus_available().count);
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        rb_version_print(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (strcmp(argv[1], verbs[i].name) == 0) return verbs[i].run(argc - 1, argv + 1);
    const char *names[sizeof verbs / sizeof verbs[0]];
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) names[i] = verbs[i].name;
    const char *near = rb_suggest(argv[1], names, sizeof names / sizeof names[0], 2);
    if (near)
        fprintf(stderr, "ragbatch: unknown verb '%s' (did you mean %s?)\n\n", argv[1], near);
    else
        fprintf(stderr, "ragbatch: unknown verb '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
