#include "embed/embedder.h"

#include <stdlib.h>
#include <string.h>

struct rb_embedder {
    const rb_embedder_ops *ops;
    void *impl;
    size_t dim;
    char *model_name;
    const atomic_int *cancel; /* NULL: not interruptible */
};

rb_embedder *rb_embedder_wrap(const rb_embedder_ops *ops, void *impl, size_t dim,
                              const char *model_name, rb_error *err) {
    rb_embedder *e = calloc(1, sizeof *e);
    char *name = strdup(model_name ? model_name : "");
    if (!e || !name) {
        free(e);
        free(name);
        ops->destroy(impl);
        rb_error_nomem(err, RB_STAGE_EMBED, "embedder");
        return NULL;
    }
    e->ops = ops;
    e->impl = impl;
    e->dim = dim;
    e->model_name = name;
    return e;
}

int rb_embedder_embed(rb_embedder *e, const char *const *texts, size_t n, float *out,
                      rb_error *err) {
    if (n == 0) return 0;
    if (e->cancel && atomic_load(e->cancel))
        return rb_error_set(err, RB_ERR_EMBED, RB_STAGE_EMBED, "embedding cancelled");
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
    free(e);
}
