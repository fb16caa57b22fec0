#include "embed/bert/bert.h"

#include "embed/bert/activation.h"
#include "embed/bert/attention.h"
#include "embed/bert/int8.h"
#include "embed/bert/packed.h"
#include "embed/bert/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Sub-batches of up to this many tokens run a multi-threaded pass in one
 * parallel region (forward_region): single texts and small batches, where
 * the work per product is too small to hide a fork and join each. */
#define RB_REGION_ROWS 512

typedef struct rb_bert_layer {
    const float *q_w, *q_b;     /* [H,H], [H] */
    const float *k_w, *k_b;     /* [H,H], [H] */
    const float *v_w, *v_b;     /* [H,H], [H] */
    const float *o_w, *o_b;     /* [H,H], [H] attention output dense */
    const float *ln1_g, *ln1_b; /* [H] */
    const float *i_w, *i_b;     /* [I,H], [I] intermediate dense */
    const float *f_w, *f_b;     /* [H,I], [H] output dense */
    const float *ln2_g, *ln2_b; /* [H] */
    /* The six dense weights packed for the packed kernel, or all NULL. */
    const float *q_p, *k_p, *v_p, *o_p, *i_p, *f_p;
    /* With int8: the same six quantised, in RB_W_* order; is_q8[w] false
     * for a weight kept in FP32 (packed above). */
    rb_q8_weights q8[6];
    bool is_q8[6];
} rb_bert_layer;

/* The dense weights of a layer, in the order of rb_bert_layer.q8. */
enum { RB_W_Q, RB_W_K, RB_W_V, RB_W_O, RB_W_I, RB_W_F };

struct rb_bert {
    rb_bert_config cfg;
    rb_safetensors *st;
    float **owned; /* converted tensors */
    size_t n_owned, cap_owned;
    const float *word;          /* [V,H] */
    const float *pos;           /* [P,H] */
    const float *type;          /* [T,H] */
    const float *emb_g, *emb_b; /* [H] */
    rb_bert_layer *layers;
    float *packed; /* every layer's packed weights, one block; NULL if not packed */
    void *q8;      /* every layer's int8 weights, one block; NULL for FP32 */
    rb_precision precision;
};

struct rb_bert_state {
    size_t max_tokens, max_seq, threads;
    float *x, *q, *k, *v, *ctx, *t; /* [max_tokens, H] each */
    float *f;                       /* [max_tokens, I] */
    float *scores;                  /* [threads, scores_per_thread] */
    rb_q8_input in;                 /* int8: the quantised input, sized for max_tokens x I */
    rb_q8_input fin;                /* int8: the intermediate as I's tiles quantise it, for F */
    size_t scores_per_thread;       /* a general kernel's L x L, or rb_attn_head's scratch */
    size_t *offs;                   /* sequence start rows */
    /* forward_region: rows it takes, the hidden states of threads 1.. (one
     * [region_rows, H] copy each) and, with int8, each thread's quantised
     * copy of them. */
    size_t region_rows;
    float *xt;
    rb_q8_input *xin; /* [threads] */
};

const rb_bert_config *rb_bert_config_of(const rb_bert *m) { return &m->cfg; }

void rb_bert_destroy(rb_bert *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    free(m->packed);
    free(m->q8);
    rb_safetensors_destroy(m->st);
    free(m);
}

/* Fetches one tensor (under an optional "bert." prefix) as float32. */
static int tensor(rb_bert *m, const char *prefix, const char *name, size_t ndim, size_t d0,
                  size_t d1, const float **out, rb_error *err) {
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    size_t shape[2] = {d0, d1};
    float *owned = NULL;
    if (rb_safetensors_f32(m->st, full, ndim, shape, out, &owned, err) < 0) return -1;
    if (owned) {
        if (m->n_owned == m->cap_owned) {
            size_t cap = m->cap_owned ? m->cap_owned * 2 : 32;
            float **o = realloc(m->owned, cap * sizeof *o);
            if (!o) {
                free(owned);
                return rb_error_nomem(err, RB_STAGE_EMBED, "weights");
            }
            m->owned = o;
            m->cap_owned = cap;
        }
        m->owned[m->n_owned++] = owned;
    }
    return 0;
}

/* Whether weight `w` of layer `l` is quantised under int8: all but the
 * value projections.  Those were the most sensitive on the fixture (one
 * layer's V in FP32 lifts the worst cosine to sentence-transformers more
 * than any other matrix), and keeping all six in FP32 -- 8% of the dense
 * multiply-adds -- takes the worst from 0.99899 to 0.99962; a rule per
 * kind, not a list of layers tuned to one model. */
static bool quantised(const rb_bert *m, size_t l, int w) {
    (void)l;
    return m->precision == RB_PRECISION_INT8 && w != RB_W_V;
}

/* Packs the six dense weights of every layer into one block (FP32), or
 * quantises them into another (int8). */
static int pack_layers(rb_bert *m, rb_error *err) {
    size_t H = m->cfg.hidden, I = m->cfg.intermediate;
    const size_t dims[6][2] = {{H, H}, {H, H}, {H, H}, {H, H}, {I, H}, {H, I}};
    size_t floats = 0, bytes = 0;
    for (size_t l = 0; l < m->cfg.layers; l++)
        for (int w = 0; w < 6; w++) {
            if (quantised(m, l, w))
                bytes += rb_q8_weights_size(dims[w][0], dims[w][1]);
            else
                floats += rb_pack_size(dims[w][0], dims[w][1]);
        }
    if (floats && !(m->packed = malloc(floats * sizeof *m->packed)))
        return rb_error_nomem(err, RB_STAGE_EMBED, "packed weights");
    if (bytes && !(m->q8 = aligned_alloc(64, bytes)))
        return rb_error_nomem(err, RB_STAGE_EMBED, "int8 weights");
    float *at = m->packed;
    char *qat = m->q8;
    for (size_t l = 0; l < m->cfg.layers; l++) {
        rb_bert_layer *L = &m->layers[l];
        const struct {
            const float *w;
            size_t n, k;
            const float **dst;
        } w[] = {{L->q_w, H, H, &L->q_p}, {L->k_w, H, H, &L->k_p}, {L->v_w, H, H, &L->v_p},
                 {L->o_w, H, H, &L->o_p}, {L->i_w, I, H, &L->i_p}, {L->f_w, H, I, &L->f_p}};
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
            if (quantised(m, l, (int)i)) {
                rb_q8_quantize(w[i].w, w[i].n, w[i].k, qat, &L->q8[i]);
                L->is_q8[i] = true;
                qat += rb_q8_weights_size(w[i].n, w[i].k);
            } else {
                rb_pack_weights(w[i].w, w[i].n, w[i].k, at);
                *w[i].dst = at;
                at += rb_pack_size(w[i].n, w[i].k);
            }
            /* The packed copy is what forward passes read: the mapped
             * original need not stay resident. */
            rb_safetensors_release(m->st, w[i].w, w[i].n * w[i].k * sizeof *w[i].w);
        }
    }
    return 0;
}

rb_precision rb_bert_precision_of(const rb_bert *m) { return m->precision; }

rb_bert *rb_bert_load(const char *weights_path, const rb_bert_config *cfg, bool pack,
                      rb_precision precision, rb_error *err) {
    if (precision == RB_PRECISION_INT8 && !pack) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED, "int8 weights need the packed kernel");
        return NULL;
    }
    if (precision == RB_PRECISION_INT8 && !rb_q8_available()) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                     "int8 weights need AVX512-VNNI, and this CPU lacks %s", rb_q8_missing());
        return NULL;
    }
    rb_bert *m = calloc(1, sizeof *m);
    if (!m) {
        rb_error_nomem(err, RB_STAGE_EMBED, "model");
        return NULL;
    }
    m->cfg = *cfg;
    m->precision = precision;
    m->layers = calloc(cfg->layers, sizeof *m->layers);
    if (!m->layers) {
        rb_error_nomem(err, RB_STAGE_EMBED, "model");
        goto fail;
    }
    m->st = rb_safetensors_open(weights_path, err);
    if (!m->st) goto fail;
    /* Checkpoints saved from BertModel / XLMRobertaModel have bare names;
     * those saved from a task model put everything under "bert." or
     * "roberta.". */
    const char *pre = "";
    if (!rb_safetensors_find(m->st, "embeddings.word_embeddings.weight"))
        pre = rb_safetensors_find(m->st, "roberta.embeddings.word_embeddings.weight") ? "roberta."
                                                                                      : "bert.";
    size_t H = cfg->hidden, I = cfg->intermediate;
    if (tensor(m, pre, "embeddings.word_embeddings.weight", 2, cfg->vocab_size, H, &m->word, err) <
            0 ||
        tensor(m, pre, "embeddings.position_embeddings.weight", 2, cfg->max_positions, H, &m->pos,
               err) < 0 ||
        tensor(m, pre, "embeddings.token_type_embeddings.weight", 2, cfg->type_vocab, H, &m->type,
               err) < 0 ||
        tensor(m, pre, "embeddings.LayerNorm.weight", 1, H, 0, &m->emb_g, err) < 0 ||
        tensor(m, pre, "embeddings.LayerNorm.bias", 1, H, 0, &m->emb_b, err) < 0)
        goto fail;
    for (size_t l = 0; l < cfg->layers; l++) {
        rb_bert_layer *L = &m->layers[l];
        char p[96];
        snprintf(p, sizeof p, "%sencoder.layer.%zu.", pre, l);
        const struct {
            const char *name;
            size_t ndim, d0, d1;
            const float **dst;
        } w[] = {
            {"attention.self.query.weight", 2, H, H, &L->q_w},
            {"attention.self.query.bias", 1, H, 0, &L->q_b},
            {"attention.self.key.weight", 2, H, H, &L->k_w},
            {"attention.self.key.bias", 1, H, 0, &L->k_b},
            {"attention.self.value.weight", 2, H, H, &L->v_w},
            {"attention.self.value.bias", 1, H, 0, &L->v_b},
            {"attention.output.dense.weight", 2, H, H, &L->o_w},
            {"attention.output.dense.bias", 1, H, 0, &L->o_b},
            {"attention.output.LayerNorm.weight", 1, H, 0, &L->ln1_g},
            {"attention.output.LayerNorm.bias", 1, H, 0, &L->ln1_b},
            {"intermediate.dense.weight", 2, I, H, &L->i_w},
            {"intermediate.dense.bias", 1, I, 0, &L->i_b},
            {"output.dense.weight", 2, H, I, &L->f_w},
            {"output.dense.bias", 1, H, 0, &L->f_b},
            {"output.LayerNorm.weight", 1, H, 0, &L->ln2_g},
            {"output.LayerNorm.bias", 1, H, 0, &L->ln2_b},
        };
        for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
            if (tensor(m, p, w[i].name, w[i].ndim, w[i].d0, w[i].d1, w[i].dst, err) < 0) goto fail;
    }
    if (pack && pack_layers(m, err) != 0) goto fail;
    return m;
fail:
    rb_bert_destroy(m);
    return NULL;
}

void rb_bert_state_destroy(rb_bert_state *s) {
    if (!s) return;
    free(s->x);
    free(s->q);
    free(s->k);
    free(s->v);
    free(s->ctx);
    free(s->t);
    free(s->f);
    free(s->scores);
    free(s->in.q);
    free(s->in.rs);
    free(s->in.rmin);
    free(s->fin.q);
    free(s->fin.rs);
    free(s->fin.rmin);
    free(s->offs);
    free(s->xt);
    for (size_t t = 0; s->xin && t < s->threads; t++) {
        free(s->xin[t].q);
        free(s->xin[t].rs);
        free(s->xin[t].rmin);
    }
    free(s->xin);
    free(s);
}

rb_bert_state *rb_bert_state_new(const rb_bert *m, size_t max_tokens, size_t max_seq,
                                 size_t threads) {
    rb_bert_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (threads == 0) threads = 1;
    if (max_tokens < max_seq) max_tokens = max_seq;
    size_t H = m->cfg.hidden, I = m->cfg.intermediate;
    s->max_tokens = max_tokens;
    s->max_seq = max_seq;
    s->threads = threads;
    s->x = malloc(max_tokens * H * sizeof(float));
    s->q = malloc(max_tokens * H * sizeof(float));
    s->k = malloc(max_tokens * H * sizeof(float));
    s->v = malloc(max_tokens * H * sizeof(float));
    s->ctx = malloc(max_tokens * H * sizeof(float));
    s->t = malloc(max_tokens * H * sizeof(float));
    s->f = malloc(max_tokens * I * sizeof(float));
    size_t d = H / m->cfg.heads, own = rb_attn_scratch_floats(max_seq, d);
    s->scores_per_thread = own > max_seq * max_seq ? own : max_seq * max_seq;
    s->scores = malloc(threads * s->scores_per_thread * sizeof(float));
    s->offs = malloc((max_tokens + 1) * sizeof *s->offs);
    if (m->precision == RB_PRECISION_INT8) {
        size_t kp = rb_q8_kpad(I > H ? I : H), nb = rb_q8_blocks(I > H ? I : H);
        s->in.q = malloc(max_tokens * kp);
        s->in.rs = malloc(max_tokens * nb * sizeof(float));
        s->in.rmin = malloc(max_tokens * nb * sizeof(float));
        s->fin.q = malloc(max_tokens * rb_q8_kpad(I));
        s->fin.rs = malloc(max_tokens * rb_q8_blocks(I) * sizeof(float));
        s->fin.rmin = malloc(max_tokens * rb_q8_blocks(I) * sizeof(float));
        if (!s->in.q || !s->in.rs || !s->in.rmin || !s->fin.q || !s->fin.rs || !s->fin.rmin) {
            rb_bert_state_destroy(s);
            return NULL;
        }
    }
    if (!s->x || !s->q || !s->k || !s->v || !s->ctx || !s->t || !s->f || !s->scores || !s->offs) {
        rb_bert_state_destroy(s);
        return NULL;
    }
    if (threads > 1) {
        s->region_rows = max_tokens < RB_REGION_ROWS ? max_tokens : RB_REGION_ROWS;
        s->xt = malloc((threads - 1) * s->region_rows * H * sizeof(float));
        if (!s->xt) {
            rb_bert_state_destroy(s);
            return NULL;
        }
        if (m->precision == RB_PRECISION_INT8) {
            s->xin = calloc(threads, sizeof *s->xin);
            for (size_t t = 0; s->xin && t < threads; t++) {
                s->xin[t].q = malloc(s->region_rows * rb_q8_kpad(H));
                s->xin[t].rs = malloc(s->region_rows * rb_q8_blocks(H) * sizeof(float));
                s->xin[t].rmin = malloc(s->region_rows * rb_q8_blocks(H) * sizeof(float));
                if (!s->xin[t].q || !s->xin[t].rs || !s->xin[t].rmin) break;
            }
            if (!s->xin || !s->xin[threads - 1].rmin) {
                rb_bert_state_destroy(s);
                return NULL;
            }
        }
    }
    return s;
}

/* ---- kernels (output first) ------------------------------------------ */

/* C[M,N] = A[M,K] W[N,K]^T + b with a general kernel, the N columns split
 * across threads. */
static void linear_general(const rb_bert_run *run, float *C, const float *A, const float *W,
                           const float *b, size_t M, size_t N, size_t K) {
    int nt = run->threads;
    if (nt <= 1 || N < 64) {
        rb_matmul_nt(run->kernel, M, N, K, A, K, W, K, b, C, N);
        return;
    }
    /* Column slices that are multiples of 16 keep the kernels' tiles whole. */
    size_t chunk = ((N + (size_t)nt - 1) / (size_t)nt + 15) & ~(size_t)15;
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
        size_t j0 = (size_t)t * chunk;
        if (j0 < N) {
            size_t n = j0 + chunk <= N ? chunk : N - j0;
            rb_matmul_nt(run->kernel, M, n, K, A, K, W + j0 * K, K, b + j0, C + j0, N);
        }
    }
}

static void gelu(const rb_bert_run *run, rb_activation act, float *f, size_t n);

/* C[M,N] = A[M,K] W[N,K]^T + b, with the N columns split across threads,
 * then the GELU form `act` when `with_gelu`.  Wp is W packed (or NULL),
 * used with the packed kernel, which applies the GELU to each tile while it
 * is in cache. */
static void linear_act(const rb_bert_run *run, float *C, const float *A, const float *W,
                       const float *Wp, const float *b, size_t M, size_t N, size_t K,
                       bool with_gelu, rb_activation act) {
    int nt = run->threads;
    if (run->kernel == RB_MATMUL_PACKED && Wp) {
        rb_pack_epilogue ep = !with_gelu                ? NULL
                              : act == RB_ACT_GELU_TANH ? rb_act_gelu_tanh
                                                        : rb_act_gelu_erf;
        /* Whole panels per thread. */
        size_t panels = (N + RB_PACK_NR - 1) / RB_PACK_NR;
        size_t per = (panels + (size_t)(nt > 0 ? nt : 1) - 1) / (size_t)(nt > 0 ? nt : 1);
        if (nt <= 1 || panels < 2) {
            rb_pack_matmul(M, 0, N, K, A, K, Wp, b, C, N, ep);
            return;
        }
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int t = 0; t < nt; t++) {
            size_t j0 = (size_t)t * per * RB_PACK_NR, j1 = j0 + per * RB_PACK_NR;
            if (j1 > N) j1 = N;
            if (j0 < j1) rb_pack_matmul(M, j0, j1, K, A, K, Wp, b, C, N, ep);
        }
        return;
    }
    linear_general(run, C, A, W, b, M, N, K);
    if (with_gelu) gelu(run, act, C, M * N);
}

/* Quantises the M rows of A[M,K] into the state's int8 input, the rows
 * split between threads when there are enough of them. */
static void quantize_input(const rb_bert_run *run, rb_bert_state *s, const float *A, size_t M,
                           size_t K) {
    int nt = run->threads > 1 && M >= 64 ? run->threads : 1;
    size_t share = (M + (size_t)nt - 1) / (size_t)nt;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int t = 0; t < nt; t++) {
        size_t r0 = (size_t)t * share, r1 = r0 + share < M ? r0 + share : M;
        if (r0 < r1) rb_q8_quantize_rows(A, K, r0, r1, K, &s->in);
    }
}

/* C[M,N] = the quantised input (quantize_input) . W^T + b, then GELU when
 * `with_gelu`, with whole panels per thread. */
static void linear_q8(const rb_bert_run *run, const rb_q8_input *in, float *C,
                      const rb_q8_weights *W, const float *b, size_t M, bool with_gelu,
                      rb_activation act, const rb_q8_input *qout) {
    int nt = run->threads > 0 ? run->threads : 1;
    size_t N = W->N;
    rb_q8_act ep = !with_gelu                ? RB_Q8_ACT_NONE
                   : act == RB_ACT_GELU_TANH ? RB_Q8_ACT_GELU_TANH
                                             : RB_Q8_ACT_GELU_ERF;
    size_t panels = (N + RB_Q8_NR - 1) / RB_Q8_NR, per = (panels + (size_t)nt - 1) / (size_t)nt;
    if (nt <= 1 || panels < 2) {
        rb_q8_matmul(M, 0, N, in, W, b, C, N, ep, qout);
        return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int t = 0; t < nt; t++) {
        size_t j0 = (size_t)t * per * RB_Q8_NR, j1 = j0 + per * RB_Q8_NR;
        if (j1 > N) j1 = N;
        if (j0 < j1) rb_q8_matmul(M, j0, j1, in, W, b, C, N, ep, qout);
    }
}

/* C = A W^T + b (then GELU) for dense weight `w` of layer L: int8 when the
 * layer holds it quantised and the packed kernel runs, FP32 otherwise.
 * `fresh`: A changed since the previous call (else its quantised copy from
 * that call is reused: Q, K and V read the same input). */
static void dense(const rb_bert_run *run, rb_bert_state *s, const rb_bert_layer *L, int w,
                  float *C, const float *A, const float *W, const float *Wp, const float *b,
                  size_t M, size_t N, size_t K, bool with_gelu, rb_activation act, bool fresh) {
    if (run->kernel == RB_MATMUL_PACKED && L->is_q8[w]) {
        const rb_q8_input *in = &s->in, *qout = NULL;
        if (w == RB_W_F && L->is_q8[RB_W_I])
            in = &s->fin; /* quantised by I's tiles */
        else if (fresh)
            quantize_input(run, s, A, M, K);
        if (w == RB_W_I && L->is_q8[RB_W_F]) {
            /* F reads only the quantised copy: no FP32 one when N allows. */
            qout = &s->fin;
            if (N % RB_Q8_BLOCK == 0) C = NULL;
        }
        linear_q8(run, in, C, &L->q8[w], b, M, with_gelu, act, qout);
        return;
    }
    linear_act(run, C, A, W, Wp, b, M, N, K, with_gelu, act);
}

/* x[r] = LayerNorm(x[r] + t[r]) for each of the M rows. */
static void add_layernorm(const rb_bert_run *run, float *x, const float *t, const float *g,
                          const float *b, size_t M, size_t H, float eps) {
    /* Below a few hundred rows the fork/join costs more than the work. */
#pragma omp parallel for num_threads(run->threads) if (run->threads > 1 && M >= 256)              \
    schedule(static)
    for (size_t r = 0; r < M; r++)
        rb_act_add_layernorm(x + r * H, t ? t + r * H : NULL, g, b, H, eps);
}

/* Below this many values one thread does the GELU: a fork/join would cost
 * more than it saves. */
#define RB_GELU_MIN_SPLIT 16384

static void gelu(const rb_bert_run *run, rb_activation act, float *f, size_t n) {
    int nt = run->threads > 1 && n >= RB_GELU_MIN_SPLIT ? run->threads : 1;
    /* Equal shares, in multiples of 16 values. */
    size_t share = ((n + (size_t)nt - 1) / (size_t)nt + 15) & ~(size_t)15;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int t = 0; t < nt; t++) {
        size_t at = (size_t)t * share;
        if (at >= n) continue;
        size_t len = n - at < share ? n - at : share;
        if (act == RB_ACT_GELU_TANH)
            rb_act_gelu_tanh(f + at, len);
        else
            rb_act_gelu_erf(f + at, len);
    }
}

/* ctx = per-sequence, per-head attention over q, k, v (all [M,H]): the
 * project's own fused kernel with the packed kernel (attention.h), the
 * general kernel's two products and a softmax otherwise. */
static void attention(const rb_bert *m, rb_bert_state *s, const rb_bert_run *run,
                      const size_t *lens, size_t nseq) {
    size_t H = m->cfg.hidden, nh = m->cfg.heads, d = H / nh;
    float scale = 1.0f / sqrtf((float)d);
    long jobs = (long)(nseq * nh);
#pragma omp parallel for num_threads(run->threads) if (run->threads > 1) schedule(dynamic, 1)
    for (long j = 0; j < jobs; j++) {
        size_t sq = (size_t)j / nh, h = (size_t)j % nh, L = lens[sq];
        size_t off = s->offs[sq] * H + h * d;
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        float *S = s->scores + (size_t)tid * s->scores_per_thread;
        if (run->kernel == RB_MATMUL_PACKED) {
            rb_attn_head(L, d, s->q + off, s->k + off, s->v + off, H, s->ctx + off, H, scale, S);
            continue;
        }
        rb_matmul_nt(run->kernel, L, L, d, s->q + off, H, s->k + off, H, NULL, S, L);
        rb_act_softmax_rows(S, L, L, scale);
        rb_matmul_nn(run->kernel, L, d, L, S, L, s->v + off, H, s->ctx + off, H);
    }
}

/* Output columns [*j0, *j1) of N that thread t of n computes: whole
 * panels, as linear_act and linear_q8 split them. */
static void thread_cols(int t, int n, size_t N, size_t *j0, size_t *j1) {
    size_t panels = (N + RB_PACK_NR - 1) / RB_PACK_NR, per = (panels + (size_t)n - 1) / (size_t)n;
    *j0 = (size_t)t * per * RB_PACK_NR;
    *j1 = *j0 + per * RB_PACK_NR;
    if (*j0 > N) *j0 = N;
    if (*j1 > N) *j1 = N;
}

/* Columns [j0, j1) of C = A W^T + b for dense weight w of layer L, by one
 * thread: int8 from the quantised input `in` (already holding A) where L
 * holds w quantised, FP32 from A otherwise. */
static void dense_cols(const rb_bert_layer *L, int w, const rb_q8_input *in, const float *A,
                       const float *Wp, const float *b, float *C, size_t M, size_t N, size_t K,
                       size_t j0, size_t j1, bool with_gelu, rb_activation act,
                       const rb_q8_input *qout) {
    if (j0 >= j1) return;
    if (L->is_q8[w]) {
        rb_q8_act qa = !with_gelu                ? RB_Q8_ACT_NONE
                       : act == RB_ACT_GELU_TANH ? RB_Q8_ACT_GELU_TANH
                                                 : RB_Q8_ACT_GELU_ERF;
        rb_q8_matmul(M, j0, j1, in, &L->q8[w], b, qout && N % RB_Q8_BLOCK == 0 ? NULL : C, N, qa,
                     qout);
        return;
    }
    rb_pack_epilogue ep = !with_gelu                ? NULL
                          : act == RB_ACT_GELU_TANH ? rb_act_gelu_tanh
                                                    : rb_act_gelu_erf;
    rb_pack_matmul(M, j0, j1, K, A, K, Wp, b, C, N, ep);
}

/* Whether forward_region can run this pass: packed kernel, several
 * threads, few enough rows, heads that are whole panels (so the threads'
 * Q, K, V columns are their own heads) and at least a head per thread. */
static bool region_fits(const rb_bert *m, const rb_bert_state *s, const rb_bert_run *run,
                        size_t M) {
#ifdef _OPENMP
    size_t nh = m->cfg.heads, d = m->cfg.hidden / nh;
    return run->kernel == RB_MATMUL_PACKED && run->threads > 1 && M <= s->region_rows &&
           d % RB_PACK_NR == 0 && RB_PACK_NR == RB_Q8_NR && nh >= (size_t)run->threads;
#else
    (void)m, (void)s, (void)run, (void)M;
    return false;
#endif
}

/*
 * Every layer of a pass in one parallel region, four barriers a layer
 * (issue 14: ~60 fork/joins a text at batch 1, each stalled by a
 * descheduled thread).  Thread t owns heads [h0, h1): it computes their
 * columns of Q, K and V and their attention with no wait, since nothing
 * else reads them.  The dense products after that split whole panels of
 * output columns as linear_act does, with a barrier before each product
 * that reads what the others wrote.  LayerNorm needs whole rows, so every
 * thread computes all of it into its own copy of the hidden states (thread
 * 0's is s->x) instead of waiting twice more; with int8, each quantises
 * its copy for Q and K, and its own columns of the context and of the
 * intermediate for the products that read them (whole blocks of 32, since
 * heads and panels are).  Each value is computed as in the other path, so
 * the vectors are the same bit for bit.
 */
static void forward_region(const rb_bert *m, rb_bert_state *s, const rb_bert_run *run,
                           const size_t *lens, size_t nseq, size_t M) {
#ifdef _OPENMP
    const rb_bert_config *c = &m->cfg;
    size_t H = c->hidden, I = c->intermediate, nh = c->heads, d = H / nh;
    float scale = 1.0f / sqrtf((float)d);
#pragma omp parallel num_threads(run->threads)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        float *x = t == 0 ? s->x : s->xt + (size_t)(t - 1) * s->region_rows * H;
        if (t > 0) memcpy(x, s->x, M * H * sizeof *x);
        const rb_q8_input *xin = s->xin ? &s->xin[t] : NULL;
        float *S = s->scores + (size_t)t * s->scores_per_thread;
        size_t h0 = nh * (size_t)t / (size_t)n, h1 = nh * (size_t)(t + 1) / (size_t)n;
        size_t c0 = h0 * d, c1 = h1 * d, o0, o1, i0, i1;
        thread_cols(t, n, H, &o0, &o1);
        thread_cols(t, n, I, &i0, &i1);
        for (size_t l = 0; l < c->layers; l++) {
            const rb_bert_layer *L = &m->layers[l];
            if (L->is_q8[RB_W_Q] || L->is_q8[RB_W_K] || L->is_q8[RB_W_V])
                rb_q8_quantize_rows(x, H, 0, M, H, xin);
            dense_cols(L, RB_W_Q, xin, x, L->q_p, L->q_b, s->q, M, H, H, c0, c1, false, c->act,
                       NULL);
            dense_cols(L, RB_W_K, xin, x, L->k_p, L->k_b, s->k, M, H, H, c0, c1, false, c->act,
                       NULL);
            dense_cols(L, RB_W_V, xin, x, L->v_p, L->v_b, s->v, M, H, H, c0, c1, false, c->act,
                       NULL);
            for (size_t sq = 0; sq < nseq; sq++)
                for (size_t h = h0; h < h1; h++) {
                    size_t off = s->offs[sq] * H + h * d;
                    rb_attn_head(lens[sq], d, s->q + off, s->k + off, s->v + off, H, s->ctx + off,
                                 H, scale, S);
                }
            if (L->is_q8[RB_W_O])
                rb_q8_quantize_blocks(s->ctx, H, 0, M, c0 / RB_Q8_BLOCK, c1 / RB_Q8_BLOCK, H,
                                      &s->in);
#pragma omp barrier
            dense_cols(L, RB_W_O, &s->in, s->ctx, L->o_p, L->o_b, s->t, M, H, H, o0, o1, false,
                       c->act, NULL);
#pragma omp barrier
            for (size_t r = 0; r < M; r++)
                rb_act_add_layernorm(x + r * H, s->t + r * H, L->ln1_g, L->ln1_b, H, c->ln_eps);
            if (L->is_q8[RB_W_I]) rb_q8_quantize_rows(x, H, 0, M, H, xin);
            /* I's tiles quantise the intermediate for an int8 F (fin). */
            bool fused = L->is_q8[RB_W_I] && L->is_q8[RB_W_F];
            dense_cols(L, RB_W_I, xin, x, L->i_p, L->i_b, s->f, M, I, H, i0, i1, true, c->act,
                       fused ? &s->fin : NULL);
            if (L->is_q8[RB_W_F] && !fused && i0 < i1)
                rb_q8_quantize_blocks(s->f, I, 0, M, i0 / RB_Q8_BLOCK,
                                      (i1 + RB_Q8_BLOCK - 1) / RB_Q8_BLOCK, I, &s->in);
#pragma omp barrier
            dense_cols(L, RB_W_F, fused ? &s->fin : &s->in, s->f, L->f_p, L->f_b, s->t, M, H, I,
                       o0, o1, false, c->act, NULL);
#pragma omp barrier
            for (size_t r = 0; r < M; r++)
                rb_act_add_layernorm(x + r * H, s->t + r * H, L->ln2_g, L->ln2_b, H, c->ln_eps);
        }
    }
#else
    (void)m, (void)s, (void)run, (void)lens, (void)nseq, (void)M;
#endif
}

static void pool(const rb_bert *m, const rb_bert_state *s, const rb_bert_run *run,
                 const size_t *lens, size_t nseq, float *out) {
    size_t H = m->cfg.hidden;
    for (size_t q = 0; q < nseq; q++) {
        const float *x = s->x + s->offs[q] * H;
        float *o = out + q * H;
        size_t L = lens[q];
        switch (run->pooling) {
        case RB_POOL_CLS: memcpy(o, x, H * sizeof *o); break;
        case RB_POOL_MAX:
            memcpy(o, x, H * sizeof *o);
            for (size_t r = 1; r < L; r++)
                for (size_t i = 0; i < H; i++)
                    if (x[r * H + i] > o[i]) o[i] = x[r * H + i];
            break;
        case RB_POOL_WEIGHTED_MEAN: {
            /* sentence-transformers: token i (from 1) weighs i. */
            memset(o, 0, H * sizeof *o);
            for (size_t r = 0; r < L; r++)
                for (size_t i = 0; i < H; i++) o[i] += (float)(r + 1) * x[r * H + i];
            float div = (float)L * (float)(L + 1) / 2.0f;
            for (size_t i = 0; i < H; i++) o[i] /= div;
            break;
        }
        case RB_POOL_MEAN:
        case RB_POOL_MEAN_SQRT_LEN: {
            memset(o, 0, H * sizeof *o);
            for (size_t r = 0; r < L; r++)
                for (size_t i = 0; i < H; i++) o[i] += x[r * H + i];
            float div = run->pooling == RB_POOL_MEAN ? (float)L : sqrtf((float)L);
            for (size_t i = 0; i < H; i++) o[i] /= div;
            break;
        }
        }
        if (run->normalize) {
            double ss = 0;
            for (size_t i = 0; i < H; i++) ss += (double)o[i] * o[i];
            double n = sqrt(ss);
            float inv = (float)(1.0 / (n > 1e-12 ? n : 1e-12));
            for (size_t i = 0; i < H; i++) o[i] *= inv;
        }
    }
}

int rb_bert_forward(const rb_bert *m, rb_bert_state *s, const int32_t *ids, const size_t *lens,
                    size_t nseq, const rb_bert_run *run, float *out, rb_error *err) {
    const rb_bert_config *c = &m->cfg;
    size_t H = c->hidden, I = c->intermediate, M = 0;
    if ((size_t)(run->threads > 0 ? run->threads : 1) > s->threads)
        return rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_EMBED,
                            "forward pass with %d threads on a state sized for %zu", run->threads,
                            s->threads);
    for (size_t q = 0; q < nseq; q++) {
        if (lens[q] == 0 || lens[q] > s->max_seq || lens[q] > c->max_positions)
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                                "sequence %zu has %zu tokens (limit %zu)", q, lens[q], s->max_seq);
        s->offs[q] = M;
        M += lens[q];
        if (M > s->max_tokens)
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                                "sub-batch of %zu+ tokens exceeds the scratch (%zu)", M,
                                s->max_tokens);
    }
    /* Embeddings: token type is always 0 (single-sentence input). */
    for (size_t q = 0; q < nseq; q++) {
        /* RoBERTa: positions count the non-padding tokens from pad_id + 1;
         * a padding token (written literally in the text) sits at pad_id. */
        size_t pos = c->pad_id >= 0 ? (size_t)c->pad_id + 1 : 0;
        for (size_t p = 0; p < lens[q]; p++) {
            size_t r = s->offs[q] + p;
            int32_t id = ids[r];
            if (id < 0 || (size_t)id >= c->vocab_size)
                return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                                    "token id %d is outside the vocabulary (%zu)", (int)id,
                                    c->vocab_size);
            size_t at = c->pad_id >= 0 && id == c->pad_id ? (size_t)c->pad_id : pos++;
            if (at >= c->max_positions)
                return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                                    "sequence %zu needs position %zu (limit %zu)", q, at,
                                    c->max_positions);
            const float *w = m->word + (size_t)id * H, *ps = m->pos + at * H;
            float *x = s->x + r * H;
            for (size_t i = 0; i < H; i++) x[i] = w[i] + ps[i] + m->type[i];
        }
    }
    add_layernorm(run, s->x, NULL, m->emb_g, m->emb_b, M, H, c->ln_eps);
    if (region_fits(m, s, run, M)) {
        forward_region(m, s, run, lens, nseq, M);
        pool(m, s, run, lens, nseq, out);
        return 0;
    }
    for (size_t l = 0; l < c->layers; l++) {
        const rb_bert_layer *L = &m->layers[l];
        /* K and V reuse Q's quantised input only if Q quantised it. */
        bool qkv_shared = L->is_q8[RB_W_Q] && L->is_q8[RB_W_K] && L->is_q8[RB_W_V];
        dense(run, s, L, RB_W_Q, s->q, s->x, L->q_w, L->q_p, L->q_b, M, H, H, false, c->act, true);
        dense(run, s, L, RB_W_K, s->k, s->x, L->k_w, L->k_p, L->k_b, M, H, H, false, c->act,
              !qkv_shared);
        dense(run, s, L, RB_W_V, s->v, s->x, L->v_w, L->v_p, L->v_b, M, H, H, false, c->act,
              !qkv_shared);
        attention(m, s, run, lens, nseq);
        dense(run, s, L, RB_W_O, s->t, s->ctx, L->o_w, L->o_p, L->o_b, M, H, H, false, c->act,
              true);
        add_layernorm(run, s->x, s->t, L->ln1_g, L->ln1_b, M, H, c->ln_eps);
        dense(run, s, L, RB_W_I, s->f, s->x, L->i_w, L->i_p, L->i_b, M, I, H, true, c->act, true);
        dense(run, s, L, RB_W_F, s->t, s->f, L->f_w, L->f_p, L->f_b, M, H, I, false, c->act, true);
        add_layernorm(run, s->x, s->t, L->ln2_g, L->ln2_b, M, H, c->ln_eps);
    }
    pool(m, s, run, lens, nseq, out);
    return 0;
}
