/*
 * factory.c -- builds the embedder a job asks for (embed.provider and its
 * keys), for the runner and the search verb, and reads the API key.
 */
#include "config/config.h"
#include "embed/embedder.h"

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

rb_embedder *rb_embedder_from_config(const rb_job_config *cfg, rb_error *err) {
    if (strcmp(cfg->embed_provider, "local") == 0) {
        rb_local_embed_opts eo = {
            .model_dir = cfg->embed_model_dir,
            .threads = (int)cfg->embed_threads,
            .batch_size = (size_t)cfg->embed_batch_size,
            .max_seq_length = (size_t)cfg->embed_max_seq_length,
        };
        rb_embedder *e = rb_embedder_local_new(&eo, err);
        if (!e) rb_error_prefix(err, "embed.model.dir");
        return e;
    }
    char *key = NULL;
    if (rb_embed_api_key_read(cfg->embed_api_key_env, cfg->embed_api_key_file, &key, err) != 0)
        return NULL;
    rb_http_embed_opts ho = {
        .provider = cfg->embed_provider,
        .url = cfg->embed_url,
        .model = cfg->embed_model,
        .api_key = key,
        .api_version = cfg->embed_api_version,
        .dimensions = (size_t)cfg->embed_dimensions,
        .concurrency = (int)cfg->embed_concurrency,
        .timeout_ms = (long)cfg->embed_request_timeout_ms,
        .retries = (int)cfg->embed_retries,
        .backoff_ms = (long)cfg->embed_retry_backoff_ms,
        .backoff_max_ms = (long)cfg->embed_retry_backoff_max_ms,
        .batch_size = (size_t)cfg->embed_batch_size,
        .batch_max_tokens = (size_t)cfg->embed_batch_max_tokens,
        .requests_per_minute = (double)cfg->embed_rate_requests_per_minute,
        .tokens_per_minute = (double)cfg->embed_rate_tokens_per_minute,
        .tls_verify = cfg->embed_tls_verify,
        .ca_file = cfg->embed_tls_ca_file,
    };
    rb_embedder *e = rb_embedder_http_new(&ho, err);
    if (key) memset(key, 0, strlen(key));
    free(key);
    return e;
}
