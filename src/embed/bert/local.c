/*
 * local.c -- the local BERT provider behind rb_embedder.
 *
 * Loading reads the model directory (model_config.h), the vocabulary
 * (tokenizer.h) and maps the weights (bert.h) once.  It allocates one
 * worker per thread up front: a forward-pass state sized for
 * max_batch_tokens plus packing buffers, so that embedding allocates only
 * the per-call token arrays.
 *
 * A call tokenizes every text (in parallel), sorts the texts by token count
 * (longest first) and cuts the sorted list into sub-batches of at most
 * batch_size texts and max_batch_tokens tokens, so that a sub-batch holds
 * texts of similar length (balanced work between threads).  Then one level
 * of parallelism is picked, which measured best on small machines:
 *   - with the packed kernel, or with fewer sub-batches than threads (a
 *     single short text, say): the sub-batches run one after the other and
 *     each forward pass uses every thread (matrix columns and attention
 *     heads split across threads; with the packed kernel a sub-batch of
 *     up to 512 tokens runs the whole pass in one parallel region with
 *     four barriers a layer, bert.c forward_region);
 *   - otherwise (OpenBLAS, built-in kernel): the sub-batches run in
 *     parallel, one per thread, each forward pass single-threaded, which
 *     spares those kernels' per-call packing a split into narrow slices.
 * OpenBLAS itself is held to one thread (matmul.h) so that the two thread
 * pools never compete for the same cores.
 */
#include "embed/bert/bert.h"
#include "embed/bert/int8.h"
#include "embed/embedder.h"
#include "embed/bert/model_config.h"
#include "embed/bert/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct local_worker {
    rb_bert_state *state;
    int32_t *ids;  /* [max_tokens] packed ids of one sub-batch */
    size_t *lens;  /* [batch_size] */
    float *pooled; /* [batch_size, H] */
    rb_error err;
    int failed;
} local_worker;

typedef struct local_impl {
    rb_model_config cfg;
    rb_tokenizer *tok;
    rb_bert *bert;
    local_worker *workers;
    int threads;
    size_t batch_size, max_seq, max_tokens;
    rb_matmul_kernel kernel;
    rb_precision precision;
    char *name;               /* the model's name, with RB_EMBED_INT8_MARK under int8 */
    const atomic_int *cancel; /* rb_embedder_set_cancel; NULL: none */
} local_impl;

/* Checked before each sub-batch: a forward pass is not cut in the middle. */
static bool cancelled(const local_impl *im, rb_error *err) {
    if (!im->cancel || !atomic_load(im->cancel)) return false;
    rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED, "embedding cancelled");
    return true;
}

typedef struct len_idx {
    size_t len, idx;
} len_idx;

static int by_len_desc(const void *a, const void *b) {
    const len_idx *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? 1 : -1;
    return x->idx < y->idx ? -1 : x->idx > y->idx; /* stable: input order */
}

static void local_destroy(void *p) {
    local_impl *im = p;
    if (!im) return;
    if (im->workers)
        for (int i = 0; i < im->threads; i++) {
            rb_bert_state_destroy(im->workers[i].state);
            free(im->workers[i].ids);
            free(im->workers[i].lens);
            free(im->workers[i].pooled);
        }
    free(im->workers);
    rb_bert_destroy(im->bert);
    rb_tokenizer_destroy(im->tok);
    rb_model_config_free(&im->cfg);
    free(im->name);
    free(im);
}

/* Runs sub-batch [b0, b1) of the sorted order on worker w. */
static int run_sub(local_impl *im, local_worker *w, const len_idx *order, size_t b0, size_t b1,
                   const int32_t *ids, int threads, float *out, rb_error *err) {
    size_t H = im->cfg.bert.hidden, M = 0;
    for (size_t i = b0; i < b1; i++) {
        size_t len = order[i].len;
        memcpy(w->ids + M, ids + order[i].idx * im->max_seq, len * sizeof *ids);
        w->lens[i - b0] = len;
        M += len;
    }
    rb_bert_run run = {im->cfg.pooling, im->cfg.normalize, im->kernel, threads};
    if (rb_bert_forward(im->bert, w->state, w->ids, w->lens, b1 - b0, &run, w->pooled, err) < 0)
        return -1;
    for (size_t i = b0; i < b1; i++)
        memcpy(out + order[i].idx * H, w->pooled + (i - b0) * H, H * sizeof *out);
    return 0;
}

static int local_embed(void *p, const char *const *texts, size_t n, float *out, rb_error *err) {
    local_impl *im = p;
    int32_t *ids = malloc(n * im->max_seq * sizeof *ids);
    len_idx *order = malloc(n * sizeof *order);
    size_t *starts = malloc((n + 1) * sizeof *starts);
    int rc = -1;
    if (!ids || !order || !starts) {
        rb_error_nomem(err, RB_STAGE_EMBED, "embedding batch");
        goto out;
    }
    int nt = im->threads;
    for (int i = 0; i < nt; i++) im->workers[i].failed = 0;
#pragma omp parallel for num_threads(nt) if (nt > 1 && n > 16) schedule(dynamic, 8)
    for (size_t i = 0; i < n; i++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        local_worker *w = &im->workers[tid];
        const char *t = texts[i] ? texts[i] : "";
        size_t len = 0;
        if (!w->failed && rb_tokenizer_encode(im->tok, t, strlen(t), im->max_seq,
                                              ids + i * im->max_seq, &len, &w->err) < 0)
            w->failed = 1;
        order[i].len = len;
        order[i].idx = i;
    }
    for (int i = 0; i < nt; i++)
        if (im->workers[i].failed) {
            if (err) *err = im->workers[i].err;
            goto out;
        }
    qsort(order, n, sizeof *order, by_len_desc);
    /* Cut into sub-batches; with several threads, small enough that each
     * thread gets one. */
    size_t per = im->batch_size;
    /* The packed kernel splits the columns of a product of any height well
     * (no per-call packing), so it keeps every thread on one sub-batch;
     * two threads each streaming every weight measured 14% slower. */
    bool columns = im->kernel == RB_MATMUL_PACKED;
    if (!columns && nt > 1 && n >= (size_t)nt) {
        size_t share = (n + (size_t)nt - 1) / (size_t)nt;
        if (share < per) per = share;
    }
    size_t nsub = 0, count = 0, tokens = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || count == per || tokens + order[i].len > im->max_tokens) {
            starts[nsub++] = i;
            count = 0;
            tokens = 0;
        }
        count++;
        tokens += order[i].len;
    }
    starts[nsub] = n;
    if (!columns && nt > 1 && nsub >= (size_t)nt) {
        for (int i = 0; i < nt; i++) im->workers[i].failed = 0;
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
        for (size_t b = 0; b < nsub; b++) {
            int tid = 0;
#ifdef _OPENMP
            tid = omp_get_thread_num();
#endif
            local_worker *w = &im->workers[tid];
            if (!w->failed &&
                (cancelled(im, &w->err) ||
                 run_sub(im, w, order, starts[b], starts[b + 1], ids, 1, out, &w->err) < 0))
                w->failed = 1;
        }
        for (int i = 0; i < nt; i++)
            if (im->workers[i].failed) {
                if (err) *err = im->workers[i].err;
                goto out;
            }
    } else {
        for (size_t b = 0; b < nsub; b++)
            if (cancelled(im, err) || run_sub(im, &im->workers[0], order, starts[b], starts[b + 1],
                                              ids, nt, out, err) < 0)
                goto out;
    }
    rc = 0;
out:
    free(ids);
    free(order);
    free(starts);
    return rc;
}

static void local_set_cancel(void *p, const atomic_int *cancel) {
    ((local_impl *)p)->cancel = cancel;
}

static const rb_tokenizer *local_tokenizer(const void *impl, size_t *max_seq) {
    const local_impl *im = impl;
    *max_seq = im->max_seq;
    return im->tok;
}

/* True (and the error set) when model.safetensors is absent: the message
 * says what the directory has instead and how to convert it. */
static bool weights_missing(const char *dir, const char *weights, rb_error *err) {
    if (access(weights, F_OK) == 0 || errno != ENOENT) return false; /* opened (and named) later */
    static const char *const others[] = {"pytorch_model.bin",
                                         "model.safetensors.index.json",
                                         "pytorch_model.bin.index.json",
                                         "tf_model.h5",
                                         "model.onnx",
                                         "onnx/model.onnx"};
    const char *found = NULL;
    for (size_t i = 0; i < sizeof others / sizeof others[0] && !found; i++) {
        char *p = rb_model_path(dir, others[i]);
        if (p && access(p, F_OK) == 0) found = others[i];
        free(p);
    }
    if (found && strstr(found, "index.json"))
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: missing; the directory has sharded weights (%s), which ragbatch does "
                     "not read: save them as one file with Python: "
                     "SentenceTransformer('%s').save('OUT_DIR', safe_serialization=True)",
                     weights, found, dir);
    else if (found)
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: missing; the directory has only %s, which ragbatch does not read "
                     "(a pickle or another framework's format). Convert it once with Python "
                     "(pip install sentence-transformers): "
                     "SentenceTransformer('%s').save('OUT_DIR', safe_serialization=True), "
                     "then point the model setting at OUT_DIR",
                     weights, found, dir);
    else
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                     "%s: missing (the weights must be a single model.safetensors; run "
                     "scripts/fetch-model.sh for the default model)",
                     weights);
    return true;
}

static void local_engine(const void *impl, const char **kernel, const char **precision) {
    const local_impl *im = impl;
    *kernel = rb_matmul_kernel_name(im->kernel);
    *precision = im->precision == RB_PRECISION_INT8 ? "int8" : "fp32";
}

static const rb_embedder_ops local_ops = {"local",          local_embed,     local_destroy,
                                          local_set_cancel, local_tokenizer, local_engine};

/* Parses opts->precision into im->precision, refusing int8 where it
 * cannot run, with the reason. */
static int pick_precision(local_impl *im, const rb_local_embed_opts *opts, rb_error *err) {
    const char *p = opts->precision;
    im->precision = RB_PRECISION_FP32;
    if (!p || !p[0] || strcmp(p, "fp32") == 0) return 0;
    if (strcmp(p, "int8") != 0)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                            "precision '%s' is unknown: use fp32 or int8", p);
    const char *missing = rb_q8_missing();
    if (missing)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                            "precision int8 needs AVX512-VNNI, and this CPU lacks %s; use fp32",
                            missing);
    if (im->kernel != RB_MATMUL_PACKED)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                            "precision int8 runs with the packed kernel only, not '%s'",
                            rb_matmul_kernel_name(im->kernel));
    im->precision = RB_PRECISION_INT8;
    return 0;
}

rb_embedder *rb_embedder_local_new(const rb_local_embed_opts *opts, rb_error *err) {
    if (!opts || !opts->model_dir || !*opts->model_dir) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED, "local embedder: no model directory given");
        return NULL;
    }
    local_impl *im = calloc(1, sizeof *im);
    if (!im) {
        rb_error_nomem(err, RB_STAGE_EMBED, "local embedder");
        return NULL;
    }
    const char *dir = opts->model_dir;
    char *weights = NULL;
    if (rb_model_config_load(dir, &im->cfg, err) < 0) goto fail;
    weights = rb_model_path(dir, "model.safetensors");
    if (!weights) {
        rb_error_nomem(err, RB_STAGE_EMBED, "local embedder");
        goto fail;
    }
    im->tok = rb_model_tokenizer_open(dir, &im->cfg, err);
    if (!im->tok) goto fail;
    if (weights_missing(dir, weights, err)) goto fail;
    im->kernel = rb_matmul_default_kernel();
    if (opts->kernel && opts->kernel[0] &&
        rb_matmul_kernel_parse(opts->kernel, &im->kernel) != 0) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                     "matrix kernel '%s' is unknown or cannot run here; this build and CPU "
                     "offer: %s",
                     opts->kernel, rb_matmul_kernels_available());
        goto fail;
    }
    if (pick_precision(im, opts, err) != 0) goto fail;
    size_t nlen = strlen(im->cfg.name) + sizeof RB_EMBED_INT8_MARK;
    if (!(im->name = malloc(nlen))) {
        rb_error_nomem(err, RB_STAGE_EMBED, "local embedder");
        goto fail;
    }
    snprintf(im->name, nlen, "%s%s", im->cfg.name,
             im->precision == RB_PRECISION_INT8 ? RB_EMBED_INT8_MARK : "");
    im->bert =
        rb_bert_load(weights, &im->cfg.bert, im->kernel == RB_MATMUL_PACKED, im->precision, err);
    if (!im->bert) goto fail;

    im->max_seq = im->cfg.max_seq_length;
    if (opts->max_seq_length) {
        if (opts->max_seq_length < 2 || opts->max_seq_length > im->cfg.max_seq_length) {
            rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                         "max_seq_length %zu: must be between 2 and the model's %zu",
                         opts->max_seq_length, im->cfg.max_seq_length);
            goto fail;
        }
        im->max_seq = opts->max_seq_length;
    }
    im->batch_size = opts->batch_size ? opts->batch_size : 32;
    im->max_tokens = opts->max_batch_tokens ? opts->max_batch_tokens : 2048;
    if (im->max_tokens < im->max_seq) im->max_tokens = im->max_seq;
    im->threads = opts->threads;
#ifdef _OPENMP
    if (im->threads <= 0) im->threads = omp_get_max_threads();
#endif
    if (im->threads <= 0) im->threads = 1;
    if (im->threads > 256) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED, "threads %d: at most 256", im->threads);
        goto fail;
    }
    rb_matmul_init();
    im->workers = calloc((size_t)im->threads, sizeof *im->workers);
    if (!im->workers) {
        rb_error_nomem(err, RB_STAGE_EMBED, "local embedder");
        goto fail;
    }
    size_t H = im->cfg.bert.hidden;
    for (int i = 0; i < im->threads; i++) {
        local_worker *w = &im->workers[i];
        /* Worker 0 also runs single sub-batches with every thread. */
        w->state = rb_bert_state_new(im->bert, im->max_tokens, im->max_seq,
                                     i == 0 ? (size_t)im->threads : 1);
        w->ids = malloc(im->max_tokens * sizeof *w->ids);
        w->lens = malloc(im->batch_size * sizeof *w->lens);
        w->pooled = malloc(im->batch_size * H * sizeof *w->pooled);
        if (!w->state || !w->ids || !w->lens || !w->pooled) {
            rb_error_nomem(err, RB_STAGE_EMBED, "embedding scratch");
            goto fail;
        }
    }
    free(weights);
    return rb_embedder_wrap(&local_ops, im, H, im->name, err);
fail:
    free(weights);
    local_destroy(im);
    return NULL;
}
