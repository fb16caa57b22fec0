/*
 * config_keys.c -- the table of every job key.  Adding a key means adding
 * a field to rb_job_config and one row here; parsing, checking, defaults,
 * the reference table and suggestions follow from the row.
 */
#include "config/config_table.h"

#include <stddef.h>

/* Only RB_KEY_DOUBLE rows give the trailing dmin/dmax; the others leave
 * them out and they are zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define F(field) offsetof(rb_job_config, field)
#define NO_BOUNDS 0, 0

const rb_config_key rb_config_keys[] = {
    {"job.name", RB_KEY_STRING, F(job_name), "", NO_BOUNDS, NULL, false, false,
     "Name of the job: used in logs, metrics, the default consumer group and DLQ headers. "
     "Defaults to the job file's name without its extension."},
    {"source.topics", RB_KEY_LIST, F(topics), "", NO_BOUNDS, NULL, true, false,
     "Comma-separated Kafka topics to consume."},
    {"trigger.interval.ms", RB_KEY_INT, F(trigger_interval_ms), "1000", 0, 3600000, NULL, false,
     false,
     "Micro-batch trigger: a batch starts every interval (immediately if the previous one "
     "took longer), as Spark's ProcessingTime trigger."},
    {"batch.max.records", RB_KEY_INT, F(batch_max_records), "1000", 1, 1000000, NULL, false, false,
     "Most records in one micro-batch."},
    {"batch.max.bytes", RB_KEY_INT, F(batch_max_bytes), "16777216", 1024, 1073741824, NULL, false,
     false, "Most value bytes in one micro-batch."},
    {"batch.bounded.max.records", RB_KEY_INT, F(batch_bounded_max_records), "5000", 1, 1000000,
     NULL, false, false,
     "Most records in one batch of a bounded run (--until caught-up, backfill), which replaces "
     "batch.max.records there: a catch-up reads a range that is already there, as Spark's "
     "availableNow does, so its batches may be larger than a stream's."},
    {"batch.bounded.max.bytes", RB_KEY_INT, F(batch_bounded_max_bytes), "33554432", 1024,
     1073741824, NULL, false, false,
     "Most value bytes in one batch of a bounded run (replaces batch.max.bytes there)."},
    {"caught.up.timeout.ms", RB_KEY_INT, F(caught_up_timeout_ms), "300000", 1000, 86400000, NULL,
     false, false,
     "A bounded run (--until caught-up) exits 0 only once the consumer group's committed offsets "
     "reach the end offsets seen at start on every partition, whoever owns them.  With nothing "
     "left of its own to do, it waits for the other members (or for the group to move the "
     "partitions of a member that died, after kafka.session.timeout.ms); when the group's "
     "committed offsets do not advance for this long, it exits 1 naming the partitions behind. "
     "Keep it above kafka.max.poll.interval.ms."},
    {"shutdown.timeout.ms", RB_KEY_INT, F(shutdown_timeout_ms), "50000", 1000, 3600000, NULL,
     false, false,
     "After SIGTERM/SIGINT the batch in hand is finished and committed if that takes less than "
     "this minus a fifth of it (at most 5 s, kept for leaving the group); past that it is "
     "abandoned uncommitted (its records are read again by the next owner) and the process "
     "exits 0, at the latest this long after the signal.  Keep it below the pod's "
     "terminationGracePeriodSeconds.  A second signal abandons the batch at once."},
    {"max.message.bytes", RB_KEY_INT, F(max_message_bytes), "1048576", 16, 67108864, NULL, false,
     false, "Larger record values fail deserialization (stage deserialize)."},
    {"schema.file", RB_KEY_PATH, F(schema_file), "", NO_BOUNDS, NULL, false, false,
     "JSON Schema (draft-07) every event must satisfy; empty means no validation."},
    {"schema.registry.url", RB_KEY_STRING, F(schema_registry_url), "", NO_BOUNDS, NULL, false,
     false,
     "Confluent-compatible Schema Registry; values framed as magic byte 0 + 4-byte schema id are "
     "validated against the registry's schema of that id. Empty: frames are not recognised."},
    {"schema.registry.basic.auth.user.info", RB_KEY_STRING, F(schema_registry_user_info), "",
     NO_BOUNDS, NULL, false, true,
     "user:password for the registry's basic auth; use ${ENV_VAR} to keep it out of the file."},
    {"schema.registry.timeout.ms", RB_KEY_INT, F(schema_registry_timeout_ms), "10000", 100, 600000,
     NULL, false, false, "Timeout of one schema fetch from the registry (retriable)."},
    {"source.value.format", RB_KEY_CHOICE, F(value_format), "json", NO_BOUNDS,
     "json|connect-json|debezium|auto", false, false,
     "What a record value is: json (the event itself; also Kafka Connect's JsonConverter with "
     "schemas.enable=false), connect-json (JsonConverter's {schema, payload} envelope, "
     "schemas.enable=true: the payload is the event; the embedded schema is not checked, only "
     "used to read Connect Decimals as numbers), "
     "debezium (a Debezium change event, enveloped or not: op c/r/u upsert 'after', d deletes, "
     "the version is the source position: source.lsn, binlog file+pos, else source time) or "
     "auto (per record: an envelope is unwrapped, a change event read as one, anything else "
     "is plain; a value that is ambiguous fails naming the field)."},
    {"document.id.field", RB_KEY_STRING, F(id_field), "product_id", NO_BOUNDS, NULL, false, false,
     "Event field whose value becomes the document _id: a string, or an integer stored as its "
     "decimal digits (42 and \"42\" are one document, which the Kafka tombstone keyed 42 "
     "deletes).  Several comma-separated fields make a composite id, the compact JSON array of "
     "their values: [\"acme\",42]."},
    {"document.id.from", RB_KEY_CHOICE, F(id_from), "value", NO_BOUNDS, "value|key", false, false,
     "Where the document _id comes from: value (document.id.field) or key (the Kafka key, as "
     "Connect's ProvidedInKeyStrategy: a JSON string or integer as it is, a struct (Debezium's "
     "primary key) by document.id.key.fields, a key that is not JSON as its bytes)."},
    {"document.id.key.fields", RB_KEY_LIST, F(id_key_fields), "", NO_BOUNDS, NULL, false, false,
     "Fields of a struct key that make the _id (several: a composite id, as for "
     "document.id.field); empty takes every field of the key in order."},
    {"document.version.field", RB_KEY_STRING, F(version_field), "version", NO_BOUNDS, NULL, false,
     false,
     "Event field holding a non-negative integer version; an older version never overwrites a "
     "newer document.  Events without it are ordered by document.time.field."},
    {"document.time.field", RB_KEY_STRING, F(time_field), "event_time", NO_BOUNDS, NULL, false,
     false, "Event field holding the RFC 3339 event time (stored as event_time)."},
    {"document.op.field", RB_KEY_STRING, F(op_field), "event_type", NO_BOUNDS, NULL, false, false,
     "Event field that says what happened; see document.delete.values."},
    {"document.delete.values", RB_KEY_LIST, F(delete_values), "deleted", NO_BOUNDS, NULL, false,
     false, "Values of document.op.field that delete the document."},
    {"document.tombstone.retention.ms", RB_KEY_INT, F(tombstone_retention_ms), "604800000", 0,
     2147483647000LL, NULL, false, false,
     "How long the versioned tombstone of a deleted document is kept (a TTL index on its "
     "deleted_at); 0 keeps tombstones forever.  An event older than the delete that arrives "
     "after its tombstone is gone (a replay or backfill reaching further back) brings the "
     "document back, so keep it longer than any replay can reach.  Servers without TTL "
     "indexes keep every tombstone; the job's start log says which."},
    {"text.template", RB_KEY_STRING, F(text_template), "", NO_BOUNDS, NULL, true, false,
     "Template of the embedded text: {field}, {field?} (optional), [[ optional section ]]."},
    {"metadata.fields", RB_KEY_LIST, F(metadata_fields), "", NO_BOUNDS, NULL, false, false,
     "Event fields copied into the document's metadata (usable as search filters)."},
    {"text.chunk.enable", RB_KEY_BOOL, F(text_chunk_enable), "true", NO_BOUNDS, NULL, false, false,
     "Cut a text longer than text.chunk.max.tokens into chunks, each embedded and stored as a "
     "document of its own in text.chunk.collection (the parent document keeps the metadata, "
     "version, text hash and chunk count); a text that fits is stored as one document, as "
     "without chunking.  false: long texts are truncated to the model's limit."},
    {"text.chunk.max.tokens", RB_KEY_INT, F(text_chunk_max_tokens), "0", 0, 100000, NULL, false,
     false,
     "Most tokens of one chunk, in the embedder's tokens: the local model's tokenizer, or for "
     "HTTP providers an approximation (a quarter of a word's bytes, one per punctuation mark).  "
     "0: the local model's max_seq_length minus [CLS] and [SEP] (254 for all-MiniLM-L6-v2), 512 "
     "for HTTP providers."},
    {"text.chunk.overlap.tokens", RB_KEY_INT, F(text_chunk_overlap_tokens), "32", 0, 100000, NULL,
     false, false,
     "Tokens each chunk repeats from the end of the one before (whole words; less than "
     "text.chunk.max.tokens), so that a passage cut by a boundary is whole in one chunk."},
    {"text.chunk.max.count", RB_KEY_INT, F(text_chunk_max_count), "1000", 1, 1000000, NULL, false,
     false,
     "Most chunks of one text; a longer text fails at stage transform (dead-lettered under "
     "errors.tolerance = all) rather than flooding the collection."},
    {"text.chunk.collection", RB_KEY_STRING, F(text_chunk_collection), "", NO_BOUNDS, NULL, false,
     false,
     "Collection of the chunk documents, in mongo.database; empty: <mongo.collection>_chunks."},
    {"embed.provider", RB_KEY_CHOICE, F(embed_provider), "local", NO_BOUNDS, "local|openai|tei",
     false, false,
     "Embedding provider: local (BERT model in embed.model.dir), openai (any OpenAI-compatible "
     "POST /v1/embeddings: OpenAI, Azure OpenAI, vLLM, Ollama) or tei (Hugging Face Text "
     "Embeddings Inference POST /embed, or an Inference API feature-extraction URL)."},
    {"embed.model.dir", RB_KEY_PATH, F(embed_model_dir), "", NO_BOUNDS, NULL, false, false,
     "Directory of a Hugging Face BERT-family model (config.json, vocab.txt, "
     "model.safetensors, pooling config) for the local provider."},
    {"embed.threads", RB_KEY_INT, F(embed_threads), "0", 0, 1024, NULL, false, false,
     "Threads for the local model; 0 uses every core."},
    {"embed.batch.size", RB_KEY_INT, F(embed_batch_size), "32", 1, 4096, NULL, false, false,
     "Texts per forward pass."},
    {"embed.max.seq.length", RB_KEY_INT, F(embed_max_seq_length), "0", 0, 8192, NULL, false, false,
     "Token limit per text; 0 uses the model's own."},
    {"embed.url", RB_KEY_STRING, F(embed_url), "", NO_BOUNDS, NULL, false, false,
     "Base URL of an HTTP provider: openai appends /v1/embeddings (or /embeddings after /v1, "
     "or ?api-version for Azure), tei appends /embed unless the URL is a full "
     "feature-extraction URL."},
    {"embed.model", RB_KEY_STRING, F(embed_model), "", NO_BOUNDS, NULL, false, false,
     "Model name sent to an HTTP provider (openai needs it)."},
    {"embed.dimensions", RB_KEY_INT, F(embed_dimensions), "0", 0, 65536, NULL, false, false,
     "Vector size expected from an HTTP provider (sent as `dimensions` to openai); 0 takes "
     "the size of a probe answer at start.  Every answer is checked against it."},
    {"embed.api.key.env", RB_KEY_STRING, F(embed_api_key_env), "", NO_BOUNDS, NULL, false, false,
     "Name of the environment variable holding the HTTP provider's API key (never printed)."},
    {"embed.api.key.file", RB_KEY_PATH, F(embed_api_key_file), "", NO_BOUNDS, NULL, false, false,
     "File holding the HTTP provider's API key (trailing newline ignored; never printed)."},
    {"embed.api.version", RB_KEY_STRING, F(embed_api_version), "", NO_BOUNDS, NULL, false, false,
     "Azure OpenAI: api-version; embed.url is then the deployment URL and the key goes in "
     "the api-key header."},
    {"embed.concurrency", RB_KEY_INT, F(embed_concurrency), "4", 1, 256, NULL, false, false,
     "HTTP requests in flight at once."},
    {"embed.request.timeout.ms", RB_KEY_INT, F(embed_request_timeout_ms), "30000", 100, 3600000,
     NULL, false, false, "Timeout of one HTTP embedding request (retried)."},
    {"embed.retries", RB_KEY_INT, F(embed_retries), "5", 0, 1000, NULL, false, false,
     "Retries of a request answered 429, 5xx or timed out, before the batch fails (stage "
     "embed)."},
    {"embed.retry.backoff.ms", RB_KEY_INT, F(embed_retry_backoff_ms), "500", 1, 600000, NULL,
     false, false,
     "First wait before retrying an HTTP request; doubles per attempt up to the maximum. Each "
     "wait is drawn between half and all of that (jitter).  A Retry-After header wins."},
    {"embed.retry.backoff.max.ms", RB_KEY_INT, F(embed_retry_backoff_max_ms), "30000", 1, 3600000,
     NULL, false, false, "Longest wait between HTTP retries."},
    {"embed.batch.max.tokens", RB_KEY_INT, F(embed_batch_max_tokens), "8192", 1, 100000000, NULL,
     false, false,
     "Most approximate tokens (bytes / 4) per HTTP request; embed.batch.size bounds the texts "
     "per request.  A request the provider finds too large is split in halves."},
    {"embed.rate.requests.per.minute", RB_KEY_INT, F(embed_rate_requests_per_minute), "0", 0,
     100000000, NULL, false, false, "Client-side limit of HTTP requests per minute; 0: none."},
    {"embed.rate.tokens.per.minute", RB_KEY_INT, F(embed_rate_tokens_per_minute), "0", 0,
     INT64_MAX, NULL, false, false,
     "Client-side limit of approximate tokens sent per minute; 0: none."},
    {"embed.tls.verify", RB_KEY_BOOL, F(embed_tls_verify), "true", NO_BOUNDS, NULL, false, false,
     "Verify the HTTP provider's TLS certificate and host name."},
    {"embed.tls.ca.file", RB_KEY_PATH, F(embed_tls_ca_file), "", NO_BOUNDS, NULL, false, false,
     "CA bundle for the HTTP provider; empty uses the system's."},
    {"embed.reuse.unchanged", RB_KEY_BOOL, F(embed_reuse_unchanged), "true", NO_BOUNDS, NULL,
     false, false,
     "Before embedding a batch, look up the stored text hashes of its ids (one query, timed as "
     "lookup_ms; the same read gives the sink the stored versions) and reuse the stored vector "
     "where the text and the model are unchanged: a price-only update embeds nothing."},
    {"mongo.uri", RB_KEY_STRING, F(mongo_uri), "", NO_BOUNDS, NULL, true, true,
     "MongoDB connection string; use ${ENV_VAR} to keep credentials out of the file."},
    {"mongo.database", RB_KEY_STRING, F(mongo_database), "", NO_BOUNDS, NULL, true, false,
     "Database of the documents."},
    {"mongo.collection", RB_KEY_STRING, F(mongo_collection), "", NO_BOUNDS, NULL, true, false,
     "Collection of the documents."},
    {"mongo.write.concern", RB_KEY_STRING, F(mongo_write_concern), "majority", NO_BOUNDS, NULL,
     false, false, "Write concern of the bulk writes: majority or a number of nodes."},
    {"mongo.timeout.ms", RB_KEY_INT, F(mongo_timeout_ms), "10000", 100, 600000, NULL, false, false,
     "Server selection and connect timeout: how soon an unreachable server fails a "
     "write (which is then retried)."},
    {"mongo.socket.timeout.ms", RB_KEY_INT, F(mongo_socket_timeout_ms), "300000", 1000, 3600000,
     NULL, false, false,
     "Longest wait for one reply (a bulk command, a read), and the write concern's wtimeout: "
     "large enough for the slowest bulk of a batch, so a big batch on a slow server is not "
     "cut off and retried without end."},
    {"mongo.vector.format", RB_KEY_CHOICE, F(mongo_vector_format), "array", NO_BOUNDS,
     "array|float32", false, false,
     "How the embedding is stored: a BSON array of doubles, or a BSON binary vector of float32 "
     "(subtype 9; a third of the size, much faster to write and read). Atlas Vector Search "
     "indexes both; search reads both."},
    {"sink.retry.backoff.ms", RB_KEY_INT, F(sink_retry_backoff_ms), "500", 1, 600000, NULL, false,
     false,
     "First wait before retrying a failed batch write; doubles per retry up to the maximum. "
     "Each wait is drawn between half and all of that (jitter)."},
    {"sink.retry.backoff.max.ms", RB_KEY_INT, F(sink_retry_backoff_max_ms), "30000", 1, 3600000,
     NULL, false, false,
     "Longest wait between write retries (and dead-letter deliveries).  Alias: Kafka Connect's "
     "errors.retry.delay.max.ms."},
    {"sink.retry.timeout.ms", RB_KEY_INT, F(sink_retry_timeout_ms), "-1", -1, INT64_MAX, NULL,
     false, false,
     "Give up (exit non-zero, nothing committed) after retrying a batch write (or its dead "
     "letters) this long; 0 does not retry; -1 retries until the write succeeds or the job is "
     "stopped.  Alias: Kafka Connect's errors.retry.timeout (whose default is 0; ragbatch's "
     "is -1)."},
    {"errors.tolerance", RB_KEY_TOLERANCE, F(errors_tolerance), "none", NO_BOUNDS, "none|all",
     false, false,
     "none: stop at the first bad record without committing its batch; all: skip bad records "
     "(and count and log them)."},
    {"errors.log.enable", RB_KEY_BOOL, F(errors_log_enable), "true", NO_BOUNDS, NULL, false, false,
     "Log one line per failed record."},
    {"errors.alert.threshold", RB_KEY_DOUBLE, F(errors_alert_threshold), "0", NO_BOUNDS, NULL,
     false, false,
     "Log one level=ALERT line when the share of failed records over errors.alert.window.ms "
     "passes this (0.05 = 5%), for log-based alerting; 0 disables.",
     0.0, 1.0},
    {"errors.alert.window.ms", RB_KEY_INT, F(errors_alert_window_ms), "60000", 1000, 86400000,
     NULL, false, false, "Window over which errors.alert.threshold is measured."},
    {"errors.deadletterqueue.topic.name", RB_KEY_STRING, F(dlq_topic), "", NO_BOUNDS, NULL, false,
     false,
     "Topic that receives every failed record (original key, value and headers) when "
     "errors.tolerance = all; created at start if missing (1 partition), as Kafka Connect does.  "
     "A record the topic refuses (too large) goes as a bounded copy; if even that is refused, "
     "the job stops.  Empty: failed records are only logged."},
    {"errors.deadletterqueue.topic.replication.factor", RB_KEY_INT, F(dlq_replication_factor), "3",
     -1, 32767, NULL, false, false,
     "Replication factor of the DLQ topic when ragbatch creates it, capped at the number of "
     "brokers; -1 uses the broker's default.replication.factor."},
    {"errors.deadletterqueue.context.headers.enable", RB_KEY_BOOL, F(dlq_context_headers), "false",
     NO_BOUNDS, NULL, false, false,
     "Add Kafka Connect's __connect.errors.* headers (topic, partition, offset, stage, "
     "exception) and ragbatch.* ones (error path, version) to dead-lettered records."},
    {"errors.log.include.messages", RB_KEY_BOOL, F(errors_log_include_messages), "false",
     NO_BOUNDS, NULL, false, false,
     "Include the record's key and value (its first 512 bytes) in those lines, as JSON strings; "
     "bytes that are not UTF-8 are written as \\xHH."},
    {"log.level", RB_KEY_CHOICE, F(log_level), "info", NO_BOUNDS, "debug|info|warn|error", false,
     false, "Lowest level logged."},
    {"log.format", RB_KEY_CHOICE, F(log_format), "text", NO_BOUNDS, "text|json", false, false,
     "text (logfmt) or json, for log lines and progress lines."},
    {"metrics.port", RB_KEY_INT, F(metrics_port), "0", 0, 65535, NULL, false, false,
     "TCP port of the HTTP endpoint serving /metrics (Prometheus text), /healthz and /readyz; "
     "0 serves nothing."},
    {"metrics.address", RB_KEY_STRING, F(metrics_address), "0.0.0.0", NO_BOUNDS, NULL, false,
     false, "Address the metrics endpoint binds (0.0.0.0: every IPv4 interface; :: for IPv6)."},
};

const size_t rb_config_key_count = sizeof rb_config_keys / sizeof rb_config_keys[0];

/* Connect's names for what ragbatch's keys do.  Connect retries failed
 * operations for errors.retry.timeout ms with waits up to
 * errors.retry.delay.max.ms; ragbatch's retried operations are the batch
 * write and the dead-letter delivery, so the two map onto sink.retry.*. */
const rb_config_alias rb_config_aliases[] = {
    {"errors.retry.timeout", "sink.retry.timeout.ms"},
    {"errors.retry.delay.max.ms", "sink.retry.backoff.max.ms"},
};

const size_t rb_config_alias_count = sizeof rb_config_aliases / sizeof rb_config_aliases[0];

const rb_config_foreign rb_config_foreign_names[] = {
    {"topics", "source.topics"},
    {"topics.regex", "source.topics (a list of names; no regular expression)"},
    {"connection.uri", "mongo.uri"},
    {"database", "mongo.database"},
    {"collection", "mongo.collection"},
    {"max.batch.size", "batch.max.records"},
    {"bootstrap.servers", "kafka.bootstrap.servers (every kafka.* key goes to librdkafka)"},
    {"group.id", "kafka.group.id"},
    {"delete.on.null.values",
     "nothing: a Kafka tombstone (null value) always deletes the document its key names"},
    {"document.id.strategy",
     "document.id.from (value or key: ProvidedInValueStrategy, ProvidedInKeyStrategy) with "
     "document.id.field or document.id.key.fields"},
    {"document.id.strategy.overwrite.existing", "nothing: the document id never changes"},
    {"writemodel.strategy", "nothing: every write is a versioned upsert (document.version.field)"},
    {"max.num.retries", "sink.retry.timeout.ms"},
    {"retries.defer.timeout", "sink.retry.backoff.ms"},
    {"key.converter", "document.id.from = key (JSON and string keys are read as they are)"},
    {"value.converter", "source.value.format"},
    {"value.converter.schemas.enable",
     "source.value.format (connect-json for true, json for false, auto for either)"},
    {"key.converter.schemas.enable", "nothing: a key's envelope is unwrapped when present"},
    {"value.converter.schema.registry.url", "schema.registry.url"},
    {"tasks.max", "nothing: run more processes in one consumer group (README, scale-out)"},
    {"errors.deadletterqueue.topic", "errors.deadletterqueue.topic.name"},
};

const size_t rb_config_foreign_count =
    sizeof rb_config_foreign_names / sizeof rb_config_foreign_names[0];
