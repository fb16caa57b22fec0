/*
 * factory.c -- builds the embedder rb_embed_opts asks for, for the runner
 * and the search verb; reads the API key; tells the vector size and gives
 * the tokenizer without building a provider (the index and embed verbs).
 */
#include "embed/embedder.h"

#include "embed/bert/model_config.h"
#include "embed/bert/tokenizer.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rb_embed_api_key_read(const char *env_name, const char *path, char **out, rb_error *err) {
    *out = NULL;
    if (env_name && env_name[0]) {
        const char *v = getenv(env_name);
        if (!v || !v[0])
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "embed.api.key.env: environment variable %s is not set or empty",
                                env_name);
        if (!(*out = strdup(v))) return rb_error_nomem(err, RB_STAGE_CONFIG, "API key");
        return 0;
    }
    if (!path || !path[0]) return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "embed.api.key.file: %s: %s",
                            path, strerror(errno));
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "embed.api.key.file: %s: unreadable or longer than 4 KiB", path);
    while (n > 0 && isspace((unsigned char)buf[n - 1])) n--;
    buf[n] = '\0';
    if (n == 0 || strpbrk(buf, "\r\n"))
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "embed.api.key.file: %s must hold the key on one line", path);
    *out = strdup(buf);
    memset(buf, 0, sizeof buf);
    if (!*out) return rb_error_nomem(err, RB_STAGE_CONFIG, "API key");
    return 0;
}

rb_embedder *rb_embedder_new(const rb_embed_opts *opts, rb_error *err) {
    if (strcmp(opts->provider, "local") == 0) {
        rb_embedder *e = rb_embedder_local_new(&opts->local, err);
        if (!e) rb_error_prefix(err, "embed.model.dir");
        return e;
    }
    char *key = NULL;
    if (rb_embed_api_key_read(opts->api_key_env, opts->api_key_file, &key, err) != 0) return NULL;
    rb_http_embed_opts ho = opts->http;
    ho.provider = opts->provider;
    ho.api_key = key;
    rb_embedder *e = rb_embedder_http_new(&ho, err);
    if (key) memset(key, 0, strlen(key));
    free(key);
    return e;
}

int rb_embed_opts_dim(const rb_embed_opts *opts, size_t *dim, rb_error *err) {
    if (strcmp(opts->provider, "local") != 0) {
        if (opts->http.dimensions == 0)
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "embed.dimensions: the %s provider's vector size is only learnt "
                                "by calling it; set embed.dimensions",
                                opts->provider);
        *dim = opts->http.dimensions;
        return 0;
    }
    /* config.json (hidden_size) alone: no weights. */
    rb_model_config mc;
    if (rb_model_config_load(opts->local.model_dir, &mc, err) != 0) return -1;
    *dim = mc.bert.hidden;
    rb_model_config_free(&mc);
    return 0;
}

struct rb_embed_tokenizer {
    rb_tokenizer *tok;
    size_t max_seq;
};

rb_embed_tokenizer *rb_embed_tokenizer_new(const char *model_dir, rb_error *err) {
    rb_embed_tokenizer *t = calloc(1, sizeof *t);
    if (!t) {
        rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer");
        return NULL;
    }
    if (!(t->tok = rb_model_tokenizer_load(model_dir, &t->max_seq, err))) {
        free(t);
        return NULL;
    }
    return t;
}

size_t rb_embed_tokenizer_max_seq(const rb_embed_tokenizer *t) { return t->max_seq; }

int rb_embed_tokenize(const rb_embed_tokenizer *t, const char *text, size_t max_seq, int32_t *ids,
                      size_t *n, rb_error *err) {
    return rb_tokenizer_encode(t->tok, text, strlen(text), max_seq, ids, n, err);
}

void rb_embed_tokenizer_destroy(rb_embed_tokenizer *t) {
    if (!t) return;
    rb_tokenizer_destroy(t->tok);
    free(t);
}
