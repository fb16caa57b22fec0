/*
 * config.h -- the job configuration: one typed table of every key.
 *
 * A job file is java.util.Properties text, as Kafka Connect's files are
 * (properties.h: `key = value`, `key: value` or `key value`, `#` and `!`
 * comments, backslash escapes and continuations; values trimmed, as
 * Connect's ConfigDef trims them), with `${NAME}`, `${env:NAME}`,
 * `${file:PATH:KEY}` and `${directory:DIR:FILE}` references (Connect's
 * config providers, providers.h) and `include = PATH`, which reads shared
 * defaults first.  A key set twice in one file and a last line whose
 * continuation has nothing after it are errors.  Key names follow
 * Kafka Connect and librdkafka: `errors.tolerance`, `kafka.*` passed
 * through to librdkafka unchanged, and so on.
 *
 * The static table in config_keys.c is the single source of truth: it
 * drives parsing, type and range checks, required-key checks, defaults,
 * `ragbatch config --markdown` (the README's reference table) and "did you
 * mean" suggestions for unknown keys.  Every error names the file, the line
 * and the key.
 *
 * Ownership: rb_job_config owns every string it holds; free it with
 * rb_job_config_free().  Paths (PATH-typed keys) are resolved against the
 * directory of the file that set them, so a job file and the files it
 * names move together.
 */
#ifndef RB_CONFIG_H
#define RB_CONFIG_H

#include "common/error.h"
#include "common/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The choice keys' values.  The table (config_keys.c) maps each name onto
 * one of these; users switch on them and never compare names.  log.level
 * and log.format are common/log.h's rb_log_level and rb_log_format. */
typedef enum rb_tolerance { RB_TOLERANCE_NONE = 0, RB_TOLERANCE_ALL } rb_tolerance;

/* source.value.format */
typedef enum rb_value_format {
    RB_FORMAT_JSON = 0,
    RB_FORMAT_CONNECT_JSON,
    RB_FORMAT_DEBEZIUM,
    RB_FORMAT_AUTO,
    RB_FORMAT_AVRO
} rb_value_format;

/* document.id.from */
typedef enum rb_id_from { RB_ID_FROM_VALUE = 0, RB_ID_FROM_KEY } rb_id_from;

/* embed.provider */
typedef enum rb_embed_provider {
    RB_EMBED_LOCAL = 0,
    RB_EMBED_OPENAI,
    RB_EMBED_TEI
} rb_embed_provider;

/* embed.precision */
typedef enum rb_embed_precision { RB_EMBED_FP32 = 0, RB_EMBED_INT8 } rb_embed_precision;

/* mongo.vector.format */
typedef enum rb_vector_format { RB_VECTOR_ARRAY = 0, RB_VECTOR_FLOAT32 } rb_vector_format;

/* A list of strings (comma-separated in the file). */
typedef struct rb_strlist {
    char **items;
    size_t count;
} rb_strlist;

/* One `kafka.*` property, with the prefix removed. */
typedef struct rb_kv {
    char *key;
    char *value;
} rb_kv;

typedef struct rb_job_config {
    char *source_file; /* the job file as given */

    char *job_name;    /* job.name */
    rb_strlist topics; /* source.topics */
    rb_kv *kafka;      /* kafka.* pass-through, in file order */
    size_t kafka_count;

    int64_t trigger_interval_ms;       /* trigger.interval.ms */
    int64_t batch_max_records;         /* batch.max.records */
    int64_t batch_max_bytes;           /* batch.max.bytes */
    int64_t batch_bounded_max_records; /* batch.bounded.max.records (--until caught-up, backfill) */
    int64_t batch_bounded_max_bytes;   /* batch.bounded.max.bytes */
    int64_t caught_up_timeout_ms;      /* caught.up.timeout.ms */
    int64_t shutdown_timeout_ms;       /* shutdown.timeout.ms */
    int64_t max_message_bytes;         /* max.message.bytes */

    char *schema_file;                  /* schema.file (optional) */
    char *schema_registry_url;          /* schema.registry.url, "" = none */
    char *schema_registry_user_info;    /* schema.registry.basic.auth.user.info (secret) */
    int64_t schema_registry_timeout_ms; /* schema.registry.timeout.ms */
    rb_value_format value_format;       /* source.value.format */
    char *id_field;                     /* document.id.field (comma-separated: a composite id) */
    rb_id_from id_from;                 /* document.id.from */
    rb_strlist id_key_fields;           /* document.id.key.fields */
    char *version_field;                /* document.version.field */
    char *time_field;                   /* document.time.field */
    char *op_field;                     /* document.op.field */
    rb_strlist delete_values;           /* document.delete.values */
    int64_t tombstone_retention_ms;     /* document.tombstone.retention.ms, 0 = forever */
    char *text_template;                /* text.template */
    rb_strlist metadata_fields;         /* metadata.fields */
    bool text_chunk_enable;             /* text.chunk.enable */
    int64_t text_chunk_max_tokens;      /* text.chunk.max.tokens, 0 = the model's limit */
    int64_t text_chunk_overlap_tokens;  /* text.chunk.overlap.tokens */
    int64_t text_chunk_max_count;       /* text.chunk.max.count */
    char *text_chunk_collection;        /* text.chunk.collection, "" = <mongo.collection>_chunks */

    rb_embed_provider embed_provider;       /* embed.provider */
    char *embed_model_dir;                  /* embed.model.dir */
    int64_t embed_threads;                  /* embed.threads */
    rb_embed_precision embed_precision;     /* embed.precision */
    int64_t embed_batch_size;               /* embed.batch.size */
    int64_t embed_max_seq_length;           /* embed.max.seq.length */
    bool embed_reuse_unchanged;             /* embed.reuse.unchanged */
    char *embed_url;                        /* embed.url (HTTP providers) */
    char *embed_model;                      /* embed.model */
    int64_t embed_dimensions;               /* embed.dimensions, 0 = the provider's */
    char *embed_api_key_env;                /* embed.api.key.env: variable holding the key */
    char *embed_api_key_file;               /* embed.api.key.file: file holding the key */
    char *embed_api_version;                /* embed.api.version (Azure OpenAI) */
    int64_t embed_concurrency;              /* embed.concurrency */
    int64_t embed_request_timeout_ms;       /* embed.request.timeout.ms */
    int64_t embed_retries;                  /* embed.retries */
    int64_t embed_retry_backoff_ms;         /* embed.retry.backoff.ms */
    int64_t embed_retry_backoff_max_ms;     /* embed.retry.backoff.max.ms */
    int64_t embed_batch_max_tokens;         /* embed.batch.max.tokens */
    int64_t embed_rate_requests_per_minute; /* embed.rate.requests.per.minute, 0 = none */
    int64_t embed_rate_tokens_per_minute;   /* embed.rate.tokens.per.minute, 0 = none */
    bool embed_tls_verify;                  /* embed.tls.verify */
    char *embed_tls_ca_file;                /* embed.tls.ca.file */
    char *embed_prefix_document;            /* embed.prefix.document */
    char *embed_prefix_query;               /* embed.prefix.query */

    char *mongo_uri;                      /* mongo.uri (secret) */
    char *mongo_database;                 /* mongo.database */
    char *mongo_collection;               /* mongo.collection */
    char *mongo_write_concern;            /* mongo.write.concern */
    int64_t mongo_timeout_ms;             /* mongo.timeout.ms */
    int64_t mongo_socket_timeout_ms;      /* mongo.socket.timeout.ms */
    rb_vector_format mongo_vector_format; /* mongo.vector.format */
    int64_t sink_retry_backoff_ms;        /* sink.retry.backoff.ms */
    int64_t sink_retry_backoff_max_ms;    /* sink.retry.backoff.max.ms */
    int64_t sink_retry_timeout_ms;        /* sink.retry.timeout.ms, -1 = forever */

    rb_tolerance errors_tolerance;    /* errors.tolerance */
    bool errors_log_enable;           /* errors.log.enable */
    bool errors_log_include_messages; /* errors.log.include.messages */
    double errors_alert_threshold;    /* errors.alert.threshold (share of failed records) */
    int64_t errors_alert_window_ms;   /* errors.alert.window.ms */
    char *dlq_topic;                  /* errors.deadletterqueue.topic.name */
    int64_t
        dlq_replication_factor; /* errors.deadletterqueue.topic.replication.factor, -1 = broker's */
    bool dlq_context_headers;   /* errors.deadletterqueue.context.headers.enable */

    rb_log_level log_level;   /* log.level */
    rb_log_format log_format; /* log.format */

    int64_t metrics_port;  /* metrics.port, 0 = no endpoint */
    char *metrics_address; /* metrics.address */

    /* Borrowed, NULL by default: set after rb_job_config_init() to record
     * where each value came from and every problem instead of the first
     * (config/trace.h). */
    struct rb_config_trace *trace;
} rb_job_config;

/* Sets every key to its default (strings duplicated). */
int rb_job_config_init(rb_job_config *cfg, rb_error *err);
void rb_job_config_free(rb_job_config *cfg);

/* Reads `path` (and its includes) into `cfg`, which must have been
 * initialised.  Values set later override earlier ones; a key set twice in
 * one file is an error. */
int rb_job_config_load(rb_job_config *cfg, const char *path, rb_error *err);

/* Applies one "key=value" override (from `--set` on the command line).
 * `origin` names it in errors. */
int rb_job_config_set(rb_job_config *cfg, const char *assignment, const char *origin,
                      rb_error *err);

/* Checks required keys and cross-key rules after all sources are read. */
int rb_job_config_check(const rb_job_config *cfg, rb_error *err);

/* Looks `key` up in the table: returns 1 if known (or a kafka.* key). */
bool rb_config_key_known(const char *key);

/* The known key closest to `key` by edit distance, or NULL if none is
 * close enough to be a plausible typo. */
const char *rb_config_suggest(const char *key);

/* The name of `value` of the choice key `key` ("embed.provider",
 * RB_EMBED_OPENAI: "openai"), as the table spells it; NULL if `key` is not
 * a choice key or has no such value.  The string is static. */
const char *rb_config_choice_name(const char *key, int value);

/* Writes the reference table: markdown (`markdown` true) or plain text. */
void rb_config_print_reference(FILE *out, bool markdown);

/* Writes the effective configuration as `key = value` lines, secrets
 * masked. */
void rb_job_config_print(const rb_job_config *cfg, FILE *out);

/* Calls `fn` with each key of the effective configuration (the table's,
 * then the kafka.* properties) and its value as rb_job_config_print()
 * shows it (secrets masked); `shown` lives for the call only. */
typedef void (*rb_config_entry_fn)(const char *key, const char *shown, void *ctx);
void rb_job_config_each(const rb_job_config *cfg, rb_config_entry_fn fn, void *ctx);

#endif
