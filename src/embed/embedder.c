#include "embed/embedder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rb_embedder {
    const rb_embedder_ops *ops;
    void *impl;
    size_t dim;
    char *model_name;         /* with the prefix, when there is one */
    char *base_name;          /* without */
    char *prefix;             /* NULL: none */
    const atomic_int *cancel; /* NULL: not interruptible */
};

rb_embedder *rb_embedder_wrap(const rb_embedder_ops *ops, void *impl, size_t dim,
                              const char *model_name, rb_error *err) {
    rb_embedder *e = calloc(1, sizeof *e);
    char *name = strdup(model_name ? model_name : "");
    char *base = strdup(model_name ? model_name : "");
    if (!e || !name || !base) {
        free(e);
        free(name);
        free(base);
        ops->destroy(impl);
        rb_error_nomem(err, RB_STAGE_EMBED, "embedder");
        return NULL;
    }
    e->ops = ops;
    e->impl = impl;
    e->dim = dim;
    e->model_name = name;
    e->base_name = base;
    return e;
}

int rb_embedder_set_prefix(rb_embedder *e, const char *prefix, rb_error *err) {
    char *p = NULL, *name = NULL;
    if (prefix && *prefix) {
        size_t n = strlen(e->base_name) + strlen(prefix) + 16;
        p = strdup(prefix);
        name = malloc(n);
        if (!p || !name) {
            free(p);
            free(name);
            return rb_error_nomem(err, RB_STAGE_EMBED, "embedding prefix");
        }
        snprintf(name, n, "%s prefix=\"%s\"", e->base_name, prefix);
    } else if (!(name = strdup(e->base_name))) {
        return rb_error_nomem(err, RB_STAGE_EMBED, "embedding prefix");
    }
    free(e->prefix);
    free(e->model_name);
    e->prefix = p;
    e->model_name = name;
    return 0;
}

/* Embeds prefix + texts[i]: the joined strings in one block. */
static int embed_prefixed(rb_embedder *e, const char *const *texts, size_t n, float *out,
                          rb_error *err) {
    size_t pl = strlen(e->prefix), total = 0;
    for (size_t i = 0; i < n; i++) total += pl + strlen(texts[i] ? texts[i] : "") + 1;
    char *block = malloc(total);
    const char **joined = malloc(n * sizeof *joined);
    if (!block || !joined) {
        free(block);
        free(joined);
        return rb_error_nomem(err, RB_STAGE_EMBED, "prefixed texts");
    }
    char *at = block;
    for (size_t i = 0; i < n; i++) {
        const char *t = texts[i] ? texts[i] : "";
        size_t tl = strlen(t);
        joined[i] = at;
        memcpy(at, e->prefix, pl);
        memcpy(at + pl, t, tl + 1);
        at += pl + tl + 1;
    }
    int rc = e->ops->embed(e->impl, joined, n, out, err);
    free(joined);
    free(block);
    return rc;
}

int rb_embedder_embed(rb_embedder *e, const char *const *texts, size_t n, float *out,
                      rb_error *err) {
    if (n == 0) return 0;
    if (e->cancel && atomic_load(e->cancel))
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED, "embedding cancelled");
    if (e->prefix) return embed_prefixed(e, texts, n, out, err);
    return e->ops->embed(e->impl, texts, n, out, err);
}

void rb_embedder_set_cancel(rb_embedder *e, const atomic_int *cancel) {
    e->cancel = cancel;
    if (e->ops->set_cancel) e->ops->set_cancel(e->impl, cancel);
}

const struct rb_tokenizer *rb_embedder_tokenizer(const rb_embedder *e, size_t *max_seq) {
    *max_seq = 0;
    return e->ops->tokenizer ? e->ops->tokenizer(e->impl, max_seq) : NULL;
}

void rb_embedder_engine(const rb_embedder *e, const char **kernel, const char **precision) {
    *kernel = *precision = "-";
    if (e->ops->engine) e->ops->engine(e->impl, kernel, precision);
}

size_t rb_embedder_dim(const rb_embedder *e) { return e->dim; }
const char *rb_embedder_model_name(const rb_embedder *e) { return e->model_name; }
const char *rb_embedder_provider(const rb_embedder *e) { return e->ops->provider; }

void rb_embedder_destroy(rb_embedder *e) {
    if (!e) return;
    e->ops->destroy(e->impl);
    free(e->model_name);
    free(e->base_name);
    free(e->prefix);
    free(e);
}
