/* embed_opts.c -- a job's embed.* keys as rb_embed_opts; see embed_opts.h. */
#include "runner/embed_opts.h"

#include <stdlib.h>
#include <string.h>

void rb_runner_embed_opts(const rb_job_config *cfg, rb_embed_opts *out) {
    memset(out, 0, sizeof *out);
    /* The embedder names its providers as the table does (and tests add
     * their own), so the enum goes back to its name here. */
    out->provider = rb_config_choice_name("embed.provider", (int)cfg->embed_provider);
    out->api_key_env = cfg->embed_api_key_env;
    out->api_key_file = cfg->embed_api_key_file;
    out->local = (rb_local_embed_opts){
        .model_dir = cfg->embed_model_dir,
        .threads = (int)cfg->embed_threads,
        .batch_size = (size_t)cfg->embed_batch_size,
        .max_seq_length = (size_t)cfg->embed_max_seq_length,
        .precision = rb_config_choice_name("embed.precision", (int)cfg->embed_precision),
    };
    out->http = (rb_http_embed_opts){
        .url = cfg->embed_url,
        .model = cfg->embed_model,
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
}

int rb_runner_embed_prefix(rb_embedder *e, const char *value, rb_error *err) {
    if (!value || !*value) return rb_embedder_set_prefix(e, NULL, err);
    /* Values are trimmed, so the space that separates "passage:" from the
     * text is added here. */
    size_t n = strlen(value);
    char *p = malloc(n + 2);
    if (!p) return rb_error_nomem(err, RB_STAGE_CONFIG, "embedding prefix");
    memcpy(p, value, n);
    p[n] = ' ';
    p[n + 1] = '\0';
    int rc = rb_embedder_set_prefix(e, p, err);
    free(p);
    return rc;
}

int rb_runner_http_embed_defaults(rb_http_embed_opts *out, rb_error *err) {
    rb_job_config cfg;
    if (rb_job_config_init(&cfg, err) != 0) return -1;
    rb_embed_opts eo;
    rb_runner_embed_opts(&cfg, &eo);
    *out = eo.http;
    /* They point into cfg, which goes now. */
    out->url = out->model = out->api_version = out->ca_file = NULL;
    rb_job_config_free(&cfg);
    return 0;
}
