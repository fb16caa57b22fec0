/*
 * cmd_embed.c -- `ragbatch embed`: embed texts with a local model and print
 * one JSON line per text.
 *
 * Texts come from the command line, or else one per line from stdin (read
 * and embedded in chunks, so a long stream needs bounded memory).  Output
 * goes to stdout: {"text":...,"dim":N,"embedding":[...]} or, with --tokens,
 * {"text":...,"ids":[...]} from the model's tokenizer alone.  Errors go to
 * stderr.  Exit status: 0 success, 1 failure, 2 usage error.
 */
#include "cli/commands.h"

#include "cli/args.h"
#include "common/buf.h"
#include "common/error.h"
#include "embed/embedder.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define EXIT_USAGE 2
#define DEFAULT_MODEL "models/all-MiniLM-L6-v2"
#define STDIN_CHUNK 256

static const char usage_text[] =
    "Usage: ragbatch embed [--model DIR] [options] [TEXT...]\n"
    "\n"
    "Embeds each TEXT (or each line of stdin when no TEXT is given) with a\n"
    "local BERT model and prints one JSON line per text:\n"
    "  {\"text\":...,\"dim\":384,\"embedding\":[...]}\n"
    "\n"
    "  --model DIR         sentence-transformers model directory (default\n"
    "                      " DEFAULT_MODEL "; scripts/fetch-model.sh puts it there)\n"
    "  --threads N         threads (default: OpenMP's default, OMP_NUM_THREADS)\n"
    "  --batch-size N      texts per forward pass (default 32)\n"
    "  --max-seq-length N  truncate to N tokens (default: the model's own)\n"
    "  --kernel NAME       matrix kernel: packed (AVX-512), openblas or builtin\n"
    "                      (default: the first of these this CPU runs)\n"
    "  --precision P       dense layers: fp32 (default) or int8 (AVX512-VNNI);\n"
    "                      the kernel and precision used go to stderr\n"
    "  --tokens            print token ids instead: {\"text\":...,\"ids\":[...]}\n"
    "  -h, --help          this text\n";

typedef struct embed_args {
    const char *model;
    const char *kernel;    /* NULL: the default */
    const char *precision; /* NULL: fp32 */
    long threads, batch, max_seq;
    bool tokens;
    int first_text; /* index of the first TEXT in argv, or argc */
} embed_args;

/* Returns 0, EXIT_USAGE on a bad command line, or -1 for --help. */
static int parse_args(int argc, char **argv, embed_args *a) {
    enum {
        OPT_TOKENS = 1,
        OPT_KERNEL,
        OPT_MODEL,
        OPT_THREADS,
        OPT_BATCH,
        OPT_MAX_SEQ,
        OPT_PRECISION
    };
    static const rb_cli_option options[] = {
        {"--tokens", 0, false, OPT_TOKENS},      {"--kernel", 0, true, OPT_KERNEL},
        {"--model", 0, true, OPT_MODEL},         {"--threads", 0, true, OPT_THREADS},
        {"--batch-size", 0, true, OPT_BATCH},    {"--max-seq-length", 0, true, OPT_MAX_SEQ},
        {"--precision", 0, true, OPT_PRECISION},
    };
    memset(a, 0, sizeof *a);
    a->model = DEFAULT_MODEL;
    a->first_text = argc;
    rb_cli_parser p;
    rb_cli_init(&p, options, sizeof options / sizeof options[0], argc, argv);
    /* The texts follow the options: a text may begin with a dash. */
    p.stop_at_operand = true;
    rb_error err;
    const char *value;
    int id, rc = 0;
    while (rc == 0 && (id = rb_cli_next(&p, &value, &err)) != RB_CLI_END) {
        switch (id) {
        case RB_CLI_ERROR: return rb_cli_usage_error("embed", &err);
        case RB_CLI_HELP: return -1;
        case RB_CLI_OPERAND: a->first_text = rb_cli_index(&p) - 1; return 0;
        case OPT_TOKENS: a->tokens = true; break;
        case OPT_KERNEL: a->kernel = value; break;
        case OPT_PRECISION: a->precision = value; break;
        case OPT_MODEL: a->model = value; break;
        case OPT_THREADS: rc = rb_cli_long("--threads", value, 1, 256, &a->threads, &err); break;
        case OPT_BATCH: rc = rb_cli_long("--batch-size", value, 1, 4096, &a->batch, &err); break;
        case OPT_MAX_SEQ:
            rc = rb_cli_long("--max-seq-length", value, 2, 1 << 20, &a->max_seq, &err);
            break;
        }
    }
    return rc == 0 ? 0 : rb_cli_usage_error("embed", &err);
}

/* Writes the lines of one chunk of texts. */
static int print_vectors(rb_buf *b, const char *const *texts, size_t n, const float *vecs,
                         size_t dim) {
    for (size_t i = 0; i < n; i++) {
        rb_buf_reset(b);
        int rc = rb_buf_puts(b, "{\"text\":");
        rc |= rb_buf_json_string(b, texts[i], strlen(texts[i]));
        rc |= rb_buf_printf(b, ",\"dim\":%zu,\"embedding\":[", dim);
        for (size_t j = 0; j < dim; j++)
            rc |= rb_buf_printf(b, "%s%.9g", j ? "," : "", (double)vecs[i * dim + j]);
        rc |= rb_buf_puts(b, "]}\n");
        if (rc != 0 || fwrite(b->data, 1, b->len, stdout) != b->len) return -1;
    }
    return 0;
}

static int print_tokens(rb_buf *b, const rb_embed_tokenizer *tok, size_t max_seq,
                        const char *const *texts, size_t n, int32_t *ids, rb_error *err) {
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        if (rb_embed_tokenize(tok, texts[i], max_seq, ids, &k, err) < 0) return -1;
        rb_buf_reset(b);
        int rc = rb_buf_puts(b, "{\"text\":");
        rc |= rb_buf_json_string(b, texts[i], strlen(texts[i]));
        rc |= rb_buf_puts(b, ",\"ids\":[");
        for (size_t j = 0; j < k; j++) rc |= rb_buf_printf(b, "%s%d", j ? "," : "", (int)ids[j]);
        rc |= rb_buf_puts(b, "]}\n");
        if (rc != 0 || fwrite(b->data, 1, b->len, stdout) != b->len)
            return rb_error_set(err, RB_ERR_IO, RB_STAGE_EMBED, "cannot write to stdout");
    }
    return 0;
}

/* The state of one run: either an embedder or a bare tokenizer. */
typedef struct embed_run {
    rb_embedder *emb;
    rb_embed_tokenizer *tok;
    size_t max_seq, dim;
    int32_t *ids;
    float *vecs;
    rb_buf out;
} embed_run;

static int process(embed_run *r, const char *const *texts, size_t n, rb_error *err) {
    if (n == 0) return 0;
    if (r->tok) return print_tokens(&r->out, r->tok, r->max_seq, texts, n, r->ids, err);
    if (rb_embedder_embed(r->emb, texts, n, r->vecs, err) < 0) return -1;
    if (print_vectors(&r->out, texts, n, r->vecs, r->dim) < 0)
        return rb_error_set(err, RB_ERR_IO, RB_STAGE_EMBED, "cannot write to stdout");
    return 0;
}

static int process_stdin(embed_run *r, rb_error *err) {
    char *lines[STDIN_CHUNK];
    size_t n = 0;
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) >= 0) {
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
        lines[n] = strdup(line);
        if (!lines[n]) {
            rc = rb_error_nomem(err, RB_STAGE_EMBED, "stdin line");
            break;
        }
        if (++n == STDIN_CHUNK) {
            rc = process(r, (const char *const *)lines, n, err);
            for (size_t i = 0; i < n; i++) free(lines[i]);
            n = 0;
            if (rc < 0) break;
        }
    }
    if (rc == 0 && ferror(stdin))
        rc =
            rb_error_set(err, RB_ERR_IO, RB_STAGE_EMBED, "cannot read stdin: %s", strerror(errno));
    if (rc == 0) rc = process(r, (const char *const *)lines, n, err);
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(line);
    return rc;
}

int rb_cmd_embed(int argc, char **argv) {
    embed_args a;
    int prc = parse_args(argc, argv, &a);
    if (prc < 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (prc != 0) return prc;
    rb_error err;
    rb_error_clear(&err);
    embed_run r;
    memset(&r, 0, sizeof r);
    rb_buf_init(&r.out);
    int status = 1;
    if (a.tokens) {
        r.tok = rb_embed_tokenizer_new(a.model, &err);
        if (!r.tok) goto out;
        r.max_seq = rb_embed_tokenizer_max_seq(r.tok);
        if (a.max_seq) {
            if ((size_t)a.max_seq > r.max_seq) {
                rb_error_set(&err, RB_ERR_ARG, RB_STAGE_EMBED,
                             "--max-seq-length %ld: the model allows at most %zu", a.max_seq,
                             r.max_seq);
                goto out;
            }
            r.max_seq = (size_t)a.max_seq;
        }
        r.ids = malloc(r.max_seq * sizeof *r.ids);
        if (!r.ids) {
            rb_error_nomem(&err, RB_STAGE_EMBED, "token ids");
            goto out;
        }
    } else {
        rb_local_embed_opts o;
        memset(&o, 0, sizeof o);
        o.model_dir = a.model;
        o.threads = (int)a.threads;
        o.batch_size = (size_t)a.batch;
        o.max_seq_length = (size_t)a.max_seq;
        o.kernel = a.kernel;
        o.precision = a.precision;
        r.emb = rb_embedder_local_new(&o, &err);
        if (!r.emb) goto out;
        const char *kernel, *precision;
        rb_embedder_engine(r.emb, &kernel, &precision);
        fprintf(stderr, "ragbatch embed: model %s, kernel %s, precision %s\n",
                rb_embedder_model_name(r.emb), kernel, precision);
        r.dim = rb_embedder_dim(r.emb);
        size_t chunk = (size_t)(argc - a.first_text);
        if (chunk < STDIN_CHUNK) chunk = STDIN_CHUNK;
        r.vecs = malloc(chunk * r.dim * sizeof *r.vecs);
        if (!r.vecs) {
            rb_error_nomem(&err, RB_STAGE_EMBED, "vectors");
            goto out;
        }
    }
    int rc;
    if (a.first_text < argc)
        rc = process(&r, (const char *const *)argv + a.first_text, (size_t)(argc - a.first_text),
                     &err);
    else
        rc = process_stdin(&r, &err);
    if (rc == 0 && fflush(stdout) != 0)
        rc = rb_error_set(&err, RB_ERR_IO, RB_STAGE_EMBED, "cannot write to stdout");
    if (rc == 0) status = 0;
out:
    if (status != 0) fprintf(stderr, "ragbatch embed: %s\n", err.msg);
    rb_embedder_destroy(r.emb);
    rb_embed_tokenizer_destroy(r.tok);
    free(r.ids);
    free(r.vecs);
    rb_buf_free(&r.out);
    return status;
}
