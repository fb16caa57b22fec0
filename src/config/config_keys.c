/*
 * config_keys.c -- the table of every job key.  Adding a key means adding
 * a field to rb_job_config and one row here; parsing, checking, defaults,
 * the reference table and suggestions follow from the row.
 */
#include "config/config_table.h"

#include <stddef.h>

#define F(field) offsetof(rb_job_config, field)

/* A choice field is an enum stored as an int (key_assign writes an int). */
#define INT_SIZED(t) _Static_assert(sizeof(t) == sizeof(int), #t " is not int-sized")
INT_SIZED(rb_value_format);
INT_SIZED(rb_id_from);
INT_SIZED(rb_embed_provider);
INT_SIZED(rb_embed_precision);
INT_SIZED(rb_vector_format);
INT_SIZED(rb_tolerance);
INT_SIZED(rb_log_level);
INT_SIZED(rb_log_format);

/* The values of each choice key, in the order the reference lists them. */
static const rb_config_choice value_formats[] = {{"json", RB_FORMAT_JSON},
                                                 {"connect-json", RB_FORMAT_CONNECT_JSON},
                                                 {"debezium", RB_FORMAT_DEBEZIUM},
                                                 {"auto", RB_FORMAT_AUTO},
                                                 {"avro", RB_FORMAT_AVRO},
                                                 {NULL, 0}};
static const rb_config_choice id_froms[] = {{"value", RB_ID_FROM_VALUE},
                                            {"key", RB_ID_FROM_KEY},
                                            {NULL, 0}};
static const rb_config_choice embed_providers[] = {{"local", RB_EMBED_LOCAL},
                                                   {"openai", RB_EMBED_OPENAI},
                                                   {"tei", RB_EMBED_TEI},
                                                   {NULL, 0}};
static const rb_config_choice embed_precisions[] = {{"fp32", RB_EMBED_FP32},
                                                    {"int8", RB_EMBED_INT8},
                                                    {NULL, 0}};
static const rb_config_choice vector_formats[] = {{"array", RB_VECTOR_ARRAY},
                                                  {"float32", RB_VECTOR_FLOAT32},
                                                  {NULL, 0}};
static const rb_config_choice tolerances[] = {{"none", RB_TOLERANCE_NONE},
                                              {"all", RB_TOLERANCE_ALL},
                                              {NULL, 0}};
static const rb_config_choice log_levels[] = {{"debug", RB_LOG_DEBUG},
                                              {"info", RB_LOG_INFO},
                                              {"warn", RB_LOG_WARN},
                                              {"error", RB_LOG_ERROR},
                                              {NULL, 0}};
static const rb_config_choice log_formats[] = {{"text", RB_LOG_TEXT},
                                               {"json", RB_LOG_JSON},
                                               {NULL, 0}};

const rb_config_key rb_config_keys[] = {
    {
        .name = "job.name",
        .type = RB_KEY_STRING,
        .field = F(job_name),
        .def = "",
        .doc =
            "Name of the job: used in logs, metrics, the default consumer group and DLQ headers. "
            "Defaults to the job file's name without its extension.",
    },
    {
        .name = "source.topics",
        .type = RB_KEY_LIST,
        .field = F(topics),
        .def = "",
        .required = true,
        .doc = "Comma-separated Kafka topics to consume.",
    },
    {
        .name = "trigger.interval.ms",
        .type = RB_KEY_INT,
        .field = F(trigger_interval_ms),
        .def = "1000",
        .min = 0,
        .max = 3600000,
        .doc =
            "Micro-batch trigger: a batch starts every interval (immediately if the previous one "
            "took longer), as Spark's ProcessingTime trigger.",
    },
    {
        .name = "batch.max.records",
        .type = RB_KEY_INT,
        .field = F(batch_max_records),
        .def = "1000",
        .min = 1,
        .max = 1000000,
        .doc = "Most records in one micro-batch.",
    },
    {
        .name = "batch.max.bytes",
        .type = RB_KEY_INT,
        .field = F(batch_max_bytes),
        .def = "16777216",
        .min = 1024,
        .max = 1073741824,
        .doc = "Most value bytes in one micro-batch.",
    },
    {
        .name = "batch.bounded.max.records",
        .type = RB_KEY_INT,
        .field = F(batch_bounded_max_records),
        .def = "5000",
        .min = 1,
        .max = 1000000,
        .doc =
            "Most records in one batch of a bounded run (--until caught-up, backfill), which "
            "replaces "
            "batch.max.records there: a catch-up reads a range that is already there, as Spark's "
            "availableNow does, so its batches may be larger than a stream's.",
    },
    {
        .name = "batch.bounded.max.bytes",
        .type = RB_KEY_INT,
        .field = F(batch_bounded_max_bytes),
        .def = "33554432",
        .min = 1024,
        .max = 1073741824,
        .doc = "Most value bytes in one batch of a bounded run (replaces batch.max.bytes there).",
    },
    {
        .name = "caught.up.timeout.ms",
        .type = RB_KEY_INT,
        .field = F(caught_up_timeout_ms),
        .def = "300000",
        .min = 1000,
        .max = 86400000,
        .doc =
            "A bounded run (--until caught-up) exits 0 only once the consumer group's committed "
            "offsets "
            "reach the end offsets seen at start on every partition, whoever owns them.  With "
            "nothing "
            "left of its own to do, it waits for the other members (or for the group to move the "
            "partitions of a member that died, after kafka.session.timeout.ms); when the group's "
            "committed offsets do not advance for this long, it exits 1 naming the partitions "
            "behind. "
            "Keep it above kafka.max.poll.interval.ms.",
    },
    {
        .name = "shutdown.timeout.ms",
        .type = RB_KEY_INT,
        .field = F(shutdown_timeout_ms),
        .def = "50000",
        .min = 1000,
        .max = 3600000,
        .doc =
            "After SIGTERM/SIGINT the batch in hand is finished and committed if that takes less "
            "than "
            "this minus a fifth of it (at most 5 s, kept for leaving the group); past that it is "
            "abandoned uncommitted (its records are read again by the next owner) and the process "
            "exits 0, at the latest this long after the signal.  Keep it below the pod's "
            "terminationGracePeriodSeconds.  A second signal abandons the batch at once.",
    },
    {
        .name = "max.message.bytes",
        .type = RB_KEY_INT,
        .field = F(max_message_bytes),
        .def = "1048576",
        .min = 16,
        .max = 67108864,
        .doc = "Larger record values fail deserialization (stage deserialize).",
    },
    {
        .name = "schema.file",
        .type = RB_KEY_PATH,
        .field = F(schema_file),
        .def = "",
        .doc = "JSON Schema (draft-07, 2019-09 or 2020-12 by its $schema; README, Schemas) every "
               "event must satisfy; empty means no validation.",
    },
    {
        .name = "schema.registry.url",
        .type = RB_KEY_STRING,
        .field = F(schema_registry_url),
        .def = "",
        .doc = "Confluent-compatible Schema Registry; values framed as magic byte 0 + 4-byte "
               "schema id are "
               "validated against the registry's schema of that id (JSON Schema) or decoded with "
               "it (Avro, source.value.format = avro or auto). Empty: frames are not "
               "recognised.",
    },
    {
        .name = "schema.registry.basic.auth.user.info",
        .type = RB_KEY_STRING,
        .field = F(schema_registry_user_info),
        .def = "",
        .secret = true,
        .doc = "user:password for the registry's basic auth; use ${ENV_VAR} to keep it out of the "
               "file.",
    },
    {
        .name = "schema.registry.timeout.ms",
        .type = RB_KEY_INT,
        .field = F(schema_registry_timeout_ms),
        .def = "10000",
        .min = 100,
        .max = 600000,
        .doc = "Timeout of one schema fetch from the registry (retriable).",
    },
    {
        .name = "source.value.format",
        .type = RB_KEY_CHOICE,
        .field = F(value_format),
        .def = "json",
        .choices = value_formats,
        .doc = "What a record value is: json (the event itself; also Kafka Connect's "
               "JsonConverter with "
               "schemas.enable=false), connect-json (JsonConverter's {schema, payload} envelope, "
               "schemas.enable=true: the payload is the event; the embedded schema is not "
               "checked, only "
               "used to read Connect Decimals as numbers), "
               "debezium (a Debezium change event, enveloped or not: op c/r/u upsert 'after', d "
               "deletes, "
               "the version is the source position: source.lsn, binlog file+pos, else source "
               "time) or "
               "auto (per record: an envelope is unwrapped, a change event read as one, anything "
               "else "
               "is plain; a value that is ambiguous fails naming the field; a value in the Schema "
               "Registry wire format is read by its schema's type, JSON Schema or Avro) or avro "
               "(Avro binary in the Confluent wire format, magic byte 0 + 4-byte schema id, the "
               "schema from schema.registry.url; a record of Debezium's envelope schema is a "
               "change event, any other the event).",
    },
    {
        .name = "document.id.field",
        .type = RB_KEY_STRING,
        .field = F(id_field),
        .def = "product_id",
        .check = rb_config_check_id_field,
        .doc =
            "Event field whose value becomes the document _id: a string, or an integer stored as "
            "its "
            "decimal digits (42 and \"42\" are one document, which the Kafka tombstone keyed 42 "
            "deletes).  Several comma-separated fields make a composite id, the compact JSON "
            "array of "
            "their values: [\"acme\",42].",
    },
    {
        .name = "document.id.from",
        .type = RB_KEY_CHOICE,
        .field = F(id_from),
        .def = "value",
        .choices = id_froms,
        .doc = "Where the document _id comes from: value (document.id.field) or key (the Kafka "
               "key, as "
               "Connect's ProvidedInKeyStrategy: a JSON string or integer as it is, a struct "
               "(Debezium's "
               "primary key) by document.id.key.fields, a key that is not JSON as its bytes).",
    },
    {
        .name = "document.id.key.fields",
        .type = RB_KEY_LIST,
        .field = F(id_key_fields),
        .def = "",
        .doc = "Fields of a struct key that make the _id (several: a composite id, as for "
               "document.id.field); empty takes every field of the key in order.",
    },
    {
        .name = "document.version.field",
        .type = RB_KEY_STRING,
        .field = F(version_field),
        .def = "version",
        .doc = "Event field holding a non-negative integer version; an older version never "
               "overwrites a "
               "newer document.  Events without it are ordered by document.time.field.",
    },
    {
        .name = "document.time.field",
        .type = RB_KEY_STRING,
        .field = F(time_field),
        .def = "event_time",
        .doc = "Event field holding the RFC 3339 event time (stored as event_time).",
    },
    {
        .name = "document.op.field",
        .type = RB_KEY_STRING,
        .field = F(op_field),
        .def = "event_type",
        .doc = "Event field that says what happened; see document.delete.values.",
    },
    {
        .name = "document.delete.values",
        .type = RB_KEY_LIST,
        .field = F(delete_values),
        .def = "deleted",
        .doc = "Values of document.op.field that delete the document.",
    },
    {
        .name = "document.tombstone.retention.ms",
        .type = RB_KEY_INT,
        .field = F(tombstone_retention_ms),
        .def = "604800000",
        .min = 0,
        .max = 2147483647000LL,
        .doc =
            "How long the versioned tombstone of a deleted document is kept (a TTL index on its "
            "deleted_at); 0 keeps tombstones forever.  An event older than the delete that "
            "arrives "
            "after its tombstone is gone (a replay or backfill reaching further back) brings the "
            "document back, so keep it longer than any replay can reach.  Servers without TTL "
            "indexes keep every tombstone; the job's start log says which.",
    },
    {
        .name = "text.template",
        .type = RB_KEY_STRING,
        .field = F(text_template),
        .def = "",
        .required = true,
        .doc =
            "Template of the embedded text: {field}, {field?} (optional), [[ optional section ]].",
    },
    {
        .name = "metadata.fields",
        .type = RB_KEY_LIST,
        .field = F(metadata_fields),
        .def = "",
        .doc = "Event fields copied into the document's metadata (usable as search filters).",
    },
    {
        .name = "text.chunk.enable",
        .type = RB_KEY_BOOL,
        .field = F(text_chunk_enable),
        .def = "true",
        .doc =
            "Cut a text longer than text.chunk.max.tokens into chunks, each embedded and stored "
            "as a "
            "document of its own in text.chunk.collection (the parent document keeps the "
            "metadata, "
            "version, text hash and chunk count); a text that fits is stored as one document, as "
            "without chunking.  false: long texts are truncated to the model's limit.",
    },
    {
        .name = "text.chunk.max.tokens",
        .type = RB_KEY_INT,
        .field = F(text_chunk_max_tokens),
        .def = "0",
        .min = 0,
        .max = 100000,
        .doc = "Most tokens of one chunk, in the embedder's tokens: the local model's tokenizer, "
               "or for "
               "HTTP providers an approximation (a quarter of a word's bytes, one per punctuation "
               "mark).  "
               "0: the local model's max_seq_length minus [CLS] and [SEP] (254 for "
               "all-MiniLM-L6-v2), 512 "
               "for HTTP providers.",
    },
    {
        .name = "text.chunk.overlap.tokens",
        .type = RB_KEY_INT,
        .field = F(text_chunk_overlap_tokens),
        .def = "32",
        .min = 0,
        .max = 100000,
        .doc =
            "Tokens each chunk repeats from the end of the one before (whole words; less than "
            "text.chunk.max.tokens), so that a passage cut by a boundary is whole in one chunk.",
    },
    {
        .name = "text.chunk.max.count",
        .type = RB_KEY_INT,
        .field = F(text_chunk_max_count),
        .def = "1000",
        .min = 1,
        .max = 1000000,
        .doc =
            "Most chunks of one text; a longer text fails at stage transform (dead-lettered under "
            "errors.tolerance = all) rather than flooding the collection.",
    },
    {
        .name = "text.chunk.collection",
        .type = RB_KEY_STRING,
        .field = F(text_chunk_collection),
        .def = "",
        .doc = "Collection of the chunk documents, in mongo.database; empty: "
               "<mongo.collection>_chunks.",
    },
    {
        .name = "embed.provider",
        .type = RB_KEY_CHOICE,
        .field = F(embed_provider),
        .def = "local",
        .choices = embed_providers,
        .doc =
            "Embedding provider: local (BERT-family model in embed.model.dir), openai (any "
            "OpenAI-compatible "
            "POST /v1/embeddings: OpenAI, Azure OpenAI, vLLM, Ollama) or tei (Hugging Face Text "
            "Embeddings Inference POST /embed, or an Inference API feature-extraction URL).",
    },
    {
        .name = "embed.model.dir",
        .type = RB_KEY_PATH,
        .field = F(embed_model_dir),
        .def = "",
        .doc = "Directory of a sentence-transformers model for the local provider: BERT, "
               "RoBERTa or XLM-RoBERTa (config.json, tokenizer.json or vocab.txt, "
               "model.safetensors, pooling config).",
    },
    {
        .name = "embed.threads",
        .type = RB_KEY_INT,
        .field = F(embed_threads),
        .def = "0",
        .min = 0,
        .max = 1024,
        .doc = "Threads for the local model; 0 uses the CPUs this process may keep busy: its "
               "affinity mask, bounded by its cgroup's CPU quota (a pod's CPU limit), or "
               "OMP_NUM_THREADS when set.",
    },
    {
        .name = "embed.precision",
        .type = RB_KEY_CHOICE,
        .field = F(embed_precision),
        .def = "fp32",
        .choices = embed_precisions,
        .doc = "Dense layers of the local model: fp32, or int8 (8-bit products with AVX512-VNNI, "
               "value projections in FP32; worst cosine to fp32 0.9996 on the test texts, see "
               "bench/README.md; refused on CPUs without VNNI). "
               "int8 vectors are stored under <model>@int8, so reuse never mixes the two.",
    },
    {
        .name = "embed.batch.size",
        .type = RB_KEY_INT,
        .field = F(embed_batch_size),
        .def = "32",
        .min = 1,
        .max = 4096,
        .doc = "Texts per forward pass.",
    },
    {
        .name = "embed.max.seq.length",
        .type = RB_KEY_INT,
        .field = F(embed_max_seq_length),
        .def = "0",
        .min = 0,
        .max = 8192,
        .doc = "Token limit per text; 0 uses the model's own.",
    },
    {
        .name = "embed.url",
        .type = RB_KEY_STRING,
        .field = F(embed_url),
        .def = "",
        .doc = "Base URL of an HTTP provider: openai appends /v1/embeddings (or /embeddings after "
               "/v1, "
               "or ?api-version for Azure), tei appends /embed unless the URL is a full "
               "feature-extraction URL.",
    },
    {
        .name = "embed.model",
        .type = RB_KEY_STRING,
        .field = F(embed_model),
        .def = "",
        .doc = "Model name sent to an HTTP provider (openai needs it).",
    },
    {
        .name = "embed.dimensions",
        .type = RB_KEY_INT,
        .field = F(embed_dimensions),
        .def = "0",
        .min = 0,
        .max = 65536,
        .doc =
            "Vector size expected from an HTTP provider (sent as `dimensions` to openai); 0 takes "
            "the size of a probe answer at start.  Every answer is checked against it.",
    },
    {
        .name = "embed.api.key.env",
        .type = RB_KEY_STRING,
        .field = F(embed_api_key_env),
        .def = "",
        .doc = "Name of the environment variable holding the HTTP provider's API key (never "
               "printed).",
    },
    {
        .name = "embed.api.key.file",
        .type = RB_KEY_PATH,
        .field = F(embed_api_key_file),
        .def = "",
        .doc =
            "File holding the HTTP provider's API key (trailing newline ignored; never printed).",
    },
    {
        .name = "embed.api.version",
        .type = RB_KEY_STRING,
        .field = F(embed_api_version),
        .def = "",
        .doc =
            "Azure OpenAI: api-version; embed.url is then the deployment URL and the key goes in "
            "the api-key header.",
    },
    {
        .name = "embed.concurrency",
        .type = RB_KEY_INT,
        .field = F(embed_concurrency),
        .def = "4",
        .min = 1,
        .max = 256,
        .doc = "HTTP requests in flight at once.",
    },
    {
        .name = "embed.request.timeout.ms",
        .type = RB_KEY_INT,
        .field = F(embed_request_timeout_ms),
        .def = "30000",
        .min = 100,
        .max = 3600000,
        .doc = "Timeout of one HTTP embedding request (retried).",
    },
    {
        .name = "embed.retries",
        .type = RB_KEY_INT,
        .field = F(embed_retries),
        .def = "5",
        .min = 0,
        .max = 1000,
        .doc =
            "Retries of a request answered 429, 5xx or timed out, before the batch fails (stage "
            "embed).",
    },
    {
        .name = "embed.retry.backoff.ms",
        .type = RB_KEY_INT,
        .field = F(embed_retry_backoff_ms),
        .def = "500",
        .min = 1,
        .max = 600000,
        .doc = "First wait before retrying an HTTP request; doubles per attempt up to the "
               "maximum. Each "
               "wait is drawn between half and all of that (jitter).  A Retry-After header wins.",
    },
    {
        .name = "embed.retry.backoff.max.ms",
        .type = RB_KEY_INT,
        .field = F(embed_retry_backoff_max_ms),
        .def = "30000",
        .min = 1,
        .max = 3600000,
        .doc = "Longest wait between HTTP retries.",
    },
    {
        .name = "embed.batch.max.tokens",
        .type = RB_KEY_INT,
        .field = F(embed_batch_max_tokens),
        .def = "8192",
        .min = 1,
        .max = 100000000,
        .doc = "Most approximate tokens (bytes / 4) per HTTP request; embed.batch.size bounds the "
               "texts "
               "per request.  A request the provider finds too large is split in halves.",
    },
    {
        .name = "embed.rate.requests.per.minute",
        .type = RB_KEY_INT,
        .field = F(embed_rate_requests_per_minute),
        .def = "0",
        .min = 0,
        .max = 100000000,
        .doc = "Client-side limit of HTTP requests per minute; 0: none.",
    },
    {
        .name = "embed.rate.tokens.per.minute",
        .type = RB_KEY_INT,
        .field = F(embed_rate_tokens_per_minute),
        .def = "0",
        .min = 0,
        .max = INT64_MAX,
        .doc = "Client-side limit of approximate tokens sent per minute; 0: none.",
    },
    {
        .name = "embed.tls.verify",
        .type = RB_KEY_BOOL,
        .field = F(embed_tls_verify),
        .def = "true",
        .doc = "Verify the HTTP provider's TLS certificate and host name.",
    },
    {
        .name = "embed.tls.ca.file",
        .type = RB_KEY_PATH,
        .field = F(embed_tls_ca_file),
        .def = "",
        .doc = "CA bundle for the HTTP provider; empty uses the system's.",
    },
    {
        .name = "embed.prefix.document",
        .type = RB_KEY_STRING,
        .field = F(embed_prefix_document),
        .def = "",
        .doc = "Text put before every document text the job embeds, followed by one space, for "
               "models trained with one (e5: passage:); its tokens count against the token "
               "limit, and it becomes part of the stored model name, so a change re-embeds.",
    },
    {
        .name = "embed.prefix.query",
        .type = RB_KEY_STRING,
        .field = F(embed_prefix_query),
        .def = "",
        .doc = "Text put before the query by `ragbatch search`, followed by one space (e5: "
               "query:; bge: its instruction).",
    },
    {
        .name = "embed.reuse.unchanged",
        .type = RB_KEY_BOOL,
        .field = F(embed_reuse_unchanged),
        .def = "true",
        .doc = "Before embedding a batch, look up the stored text hashes of its ids (one query, "
               "timed as "
               "lookup_ms; the same read gives the sink the stored versions) and reuse the stored "
               "vector "
               "where the text and the model are unchanged: a price-only update embeds nothing.",
    },
    {
        .name = "mongo.uri",
        .type = RB_KEY_STRING,
        .field = F(mongo_uri),
        .def = "",
        .required = true,
        .secret = true,
        .doc = "MongoDB connection string; use ${ENV_VAR} to keep credentials out of the file.",
    },
    {
        .name = "mongo.database",
        .type = RB_KEY_STRING,
        .field = F(mongo_database),
        .def = "",
        .required = true,
        .doc = "Database of the documents.",
    },
    {
        .name = "mongo.collection",
        .type = RB_KEY_STRING,
        .field = F(mongo_collection),
        .def = "",
        .required = true,
        .doc = "Collection of the documents.",
    },
    {
        .name = "mongo.write.concern",
        .type = RB_KEY_STRING,
        .field = F(mongo_write_concern),
        .def = "majority",
        .doc = "Write concern of the bulk writes: majority or a number of nodes.",
    },
    {
        .name = "mongo.timeout.ms",
        .type = RB_KEY_INT,
        .field = F(mongo_timeout_ms),
        .def = "10000",
        .min = 100,
        .max = 600000,
        .doc = "Server selection and connect timeout: how soon an unreachable server fails a "
               "write (which is then retried).",
    },
    {
        .name = "mongo.socket.timeout.ms",
        .type = RB_KEY_INT,
        .field = F(mongo_socket_timeout_ms),
        .def = "300000",
        .min = 1000,
        .max = 3600000,
        .doc =
            "Longest wait for one reply (a bulk command, a read), and the write concern's "
            "wtimeout: "
            "large enough for the slowest bulk of a batch, so a big batch on a slow server is not "
            "cut off and retried without end.",
    },
    {
        .name = "mongo.vector.format",
        .type = RB_KEY_CHOICE,
        .field = F(mongo_vector_format),
        .def = "array",
        .choices = vector_formats,
        .doc =
            "How the embedding is stored: a BSON array of doubles, or a BSON binary vector of "
            "float32 "
            "(subtype 9; a third of the size, much faster to write and read). Atlas Vector Search "
            "indexes both; search reads both.",
    },
    {
        .name = "sink.retry.backoff.ms",
        .type = RB_KEY_INT,
        .field = F(sink_retry_backoff_ms),
        .def = "500",
        .min = 1,
        .max = 600000,
        .doc = "First wait before retrying a failed batch write; doubles per retry up to the "
               "maximum. "
               "Each wait is drawn between half and all of that (jitter).",
    },
    {
        .name = "sink.retry.backoff.max.ms",
        .type = RB_KEY_INT,
        .field = F(sink_retry_backoff_max_ms),
        .def = "30000",
        .min = 1,
        .max = 3600000,
        .doc = "Longest wait between write retries (and dead-letter deliveries).  Alias: Kafka "
               "Connect's "
               "errors.retry.delay.max.ms.",
    },
    {
        .name = "sink.retry.timeout.ms",
        .type = RB_KEY_INT,
        .field = F(sink_retry_timeout_ms),
        .def = "-1",
        .min = -1,
        .max = INT64_MAX,
        .doc =
            "Give up (exit non-zero, nothing committed) after retrying a batch write (or its dead "
            "letters) this long; 0 does not retry; -1 retries until the write succeeds or the job "
            "is "
            "stopped.  Alias: Kafka Connect's errors.retry.timeout (whose default is 0; "
            "ragbatch's "
            "is -1).",
    },
    {
        .name = "errors.tolerance",
        .type = RB_KEY_TOLERANCE,
        .field = F(errors_tolerance),
        .def = "none",
        .choices = tolerances,
        .doc = "none: stop at the first bad record without committing its batch; all: skip bad "
               "records "
               "(and count and log them).",
    },
    {
        .name = "errors.log.enable",
        .type = RB_KEY_BOOL,
        .field = F(errors_log_enable),
        .def = "true",
        .doc = "Log one line per failed record.",
    },
    {
        .name = "errors.alert.threshold",
        .type = RB_KEY_DOUBLE,
        .field = F(errors_alert_threshold),
        .def = "0",
        .dmin = 0.0,
        .dmax = 1.0,
        .doc = "Log one level=ALERT line when the share of failed records over "
               "errors.alert.window.ms "
               "passes this (0.05 = 5%), for log-based alerting; 0 disables.",
    },
    {
        .name = "errors.alert.window.ms",
        .type = RB_KEY_INT,
        .field = F(errors_alert_window_ms),
        .def = "60000",
        .min = 1000,
        .max = 86400000,
        .doc = "Window over which errors.alert.threshold is measured.",
    },
    {
        .name = "errors.deadletterqueue.topic.name",
        .type = RB_KEY_STRING,
        .field = F(dlq_topic),
        .def = "",
        .doc = "Topic that receives every failed record (original key, value and headers) when "
               "errors.tolerance = all; created at start if missing (1 partition), as Kafka "
               "Connect does.  "
               "A record the topic refuses (too large) goes as a bounded copy; if even that is "
               "refused, "
               "the job stops.  Empty: failed records are only logged.",
    },
    {
        .name = "errors.deadletterqueue.topic.replication.factor",
        .type = RB_KEY_INT,
        .field = F(dlq_replication_factor),
        .def = "3",
        .min = -1,
        .max = 32767,
        .check = rb_config_check_dlq_replication_factor,
        .doc = "Replication factor of the DLQ topic when ragbatch creates it, capped at the "
               "number of "
               "brokers; -1 uses the broker's default.replication.factor.",
    },
    {
        .name = "errors.deadletterqueue.context.headers.enable",
        .type = RB_KEY_BOOL,
        .field = F(dlq_context_headers),
        .def = "false",
        .doc = "Add Kafka Connect's __connect.errors.* headers (topic, partition, offset, stage, "
               "exception) and ragbatch.* ones (error path, version) to dead-lettered records.",
    },
    {
        .name = "errors.log.include.messages",
        .type = RB_KEY_BOOL,
        .field = F(errors_log_include_messages),
        .def = "false",
        .doc = "Include the record's key and value (its first 512 bytes) in those lines, as JSON "
               "strings; "
               "bytes that are not UTF-8 are written as \\xHH.",
    },
    {
        .name = "log.level",
        .type = RB_KEY_CHOICE,
        .field = F(log_level),
        .def = "info",
        .choices = log_levels,
        .doc = "Lowest level logged.",
    },
    {
        .name = "log.format",
        .type = RB_KEY_CHOICE,
        .field = F(log_format),
        .def = "text",
        .choices = log_formats,
        .doc = "text (logfmt) or json, for log lines and progress lines.",
    },
    {
        .name = "metrics.port",
        .type = RB_KEY_INT,
        .field = F(metrics_port),
        .def = "0",
        .min = 0,
        .max = 65535,
        .doc = "TCP port of the HTTP endpoint serving /metrics (Prometheus text), /healthz and "
               "/readyz; "
               "0 serves nothing.",
    },
    {
        .name = "metrics.address",
        .type = RB_KEY_STRING,
        .field = F(metrics_address),
        .def = "0.0.0.0",
        .doc = "Address the metrics endpoint binds (0.0.0.0: every IPv4 interface; :: for IPv6).",
    },
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
