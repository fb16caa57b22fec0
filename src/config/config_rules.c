/*
 * config_rules.c -- the checks rb_job_config_check() runs once every file
 * and override is read: the rules of one key (a row's .check in
 * config_keys.c) and the short list of rules across keys.  Each error
 * names the file, the keys and the values involved.
 */
#include "config/config_table.h"

#include <inttypes.h>
#include <string.h>

int rb_config_check_id_field(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->id_field[0] == '\0')
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: document.id.field must name an event field", file);
    return 0;
}

int rb_config_check_dlq_replication_factor(const rb_job_config *cfg, const char *file,
                                           rb_error *err) {
    if (cfg->dlq_replication_factor == 0)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: errors.deadletterqueue.topic.replication.factor = 0: use a "
                            "number of replicas, or -1 for the broker's default",
                            file);
    return 0;
}

/* kafka.* keys are no rows of the table, so the one of them every job
 * needs is a rule of its own. */
static int bootstrap_servers_set(const rb_job_config *cfg, const char *file, rb_error *err) {
    for (size_t i = 0; i < cfg->kafka_count; i++)
        if (strcmp(cfg->kafka[i].key, "bootstrap.servers") == 0) return 0;
    return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                        "%s: required key kafka.bootstrap.servers is missing (the brokers to "
                        "connect to, host:port[,host:port])",
                        file);
}

static int local_needs_model_dir(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->embed_provider == RB_EMBED_LOCAL && cfg->embed_model_dir[0] == '\0')
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: embed.provider = local needs embed.model.dir", file);
    return 0;
}

static int http_needs_url(const rb_job_config *cfg, const char *file, rb_error *err) {
    bool http = cfg->embed_provider == RB_EMBED_OPENAI || cfg->embed_provider == RB_EMBED_TEI;
    if (http && cfg->embed_url[0] == '\0')
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: embed.provider = %s needs embed.url", file,
                            rb_config_choice_name("embed.provider", (int)cfg->embed_provider));
    return 0;
}

static int openai_needs_model(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->embed_provider == RB_EMBED_OPENAI && cfg->embed_model[0] == '\0')
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: embed.provider = openai needs embed.model", file);
    return 0;
}

static int one_api_key_source(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->embed_api_key_env[0] && cfg->embed_api_key_file[0])
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: set embed.api.key.env or embed.api.key.file, not both", file);
    return 0;
}

static int api_version_needs_openai(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->embed_api_version[0] && cfg->embed_provider != RB_EMBED_OPENAI)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: embed.api.version (Azure OpenAI) needs embed.provider = openai",
                            file);
    return 0;
}

static int embed_backoff_within_max(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->embed_retry_backoff_ms > cfg->embed_retry_backoff_max_ms)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: embed.retry.backoff.ms (%" PRId64
                            ") is larger than embed.retry.backoff.max.ms (%" PRId64 ")",
                            file, cfg->embed_retry_backoff_ms, cfg->embed_retry_backoff_max_ms);
    return 0;
}

static int sink_backoff_within_max(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->sink_retry_backoff_ms > cfg->sink_retry_backoff_max_ms)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: sink.retry.backoff.ms (%" PRId64
                            ") is larger than sink.retry.backoff.max.ms (%" PRId64 ")",
                            file, cfg->sink_retry_backoff_ms, cfg->sink_retry_backoff_max_ms);
    return 0;
}

static int dlq_needs_tolerance_all(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->dlq_topic[0] && cfg->errors_tolerance != RB_TOLERANCE_ALL)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: errors.deadletterqueue.topic.name needs errors.tolerance = all "
                            "(with none, the first bad record stops the job)",
                            file);
    return 0;
}

static int avro_needs_registry(const rb_job_config *cfg, const char *file, rb_error *err) {
    if (cfg->value_format == RB_FORMAT_AVRO && !cfg->schema_registry_url[0])
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: source.value.format = avro needs schema.registry.url (an Avro "
                            "value names its writer's schema by a registry id)",
                            file);
    return 0;
}

/* In the order they are checked: the first broken rule is the one reported. */
const rb_config_rule rb_config_rules[] = {
    {"kafka.bootstrap.servers", bootstrap_servers_set},
    {"embed.provider, embed.model.dir", local_needs_model_dir},
    {"embed.provider, embed.url", http_needs_url},
    {"embed.provider, embed.model", openai_needs_model},
    {"embed.api.key.env, embed.api.key.file", one_api_key_source},
    {"embed.api.version, embed.provider", api_version_needs_openai},
    {"embed.retry.backoff.ms, embed.retry.backoff.max.ms", embed_backoff_within_max},
    {"sink.retry.backoff.ms, sink.retry.backoff.max.ms", sink_backoff_within_max},
    {"errors.deadletterqueue.topic.name, errors.tolerance", dlq_needs_tolerance_all},
    {"source.value.format, schema.registry.url", avro_needs_registry},
};

const size_t rb_config_rule_count = sizeof rb_config_rules / sizeof rb_config_rules[0];
