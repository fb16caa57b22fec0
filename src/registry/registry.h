/*
 * registry.h -- the Confluent Schema Registry wire format for JSON Schema.
 *
 * A record value written by Confluent's JSON Schema serializer is framed:
 * byte 0 is the magic byte 0x00, bytes 1..4 the schema id (big-endian),
 * and the JSON payload follows.  A plain JSON value never starts with a
 * NUL byte, so the frame is recognised without configuration.
 *
 * rb_registry_unwrap() splits the frame and returns the compiled schema of
 * its id; rb_registry_read_frame() does the same for a frame whose schema
 * may also be Avro (avro/avro.h: the body is then Avro binary).  Schemas
 * are fetched with libcurl from the registry's REST API,
 * GET {url}/schemas/ids/{id}, which answers
 * {"schema": "<the schema as a JSON string>", "schemaType": "JSON"}.
 * schemaType "AVRO", or none (Confluent leaves it out for Avro, its
 * default), is an Avro schema; any other type (PROTOBUF) is refused.  Basic auth is sent when user_info
 * ("user:password") is set; it is never written to a message or a log.
 * Each schema is compiled with rb_schema_compile (origin "schema registry
 * id N") and cached by id for the life of the handle: registry ids are
 * immutable, so entries are never refreshed or evicted.
 *
 * Threads: one handle serves every OpenMP worker.  The cache sits behind a
 * mutex that is also held while a missing id is fetched, so an id is
 * fetched and compiled once however many workers ask for it at the same
 * time (the others wait, at most timeout_ms).  A hit only takes the mutex
 * for a lookup.  Failures are not cached: the next message with that id
 * asks the registry again.
 *
 * Failures (all stage RB_STAGE_DESERIALIZE):
 *   - a value of 1..4 bytes starting with 0x00 (truncated frame), an id the
 *     registry does not know (HTTP 404 with Confluent's error_code 40403,
 *     "schema not found"; the message names the id), a schema
 *     that is neither JSON Schema nor Avro, or does not compile (the
 *     message quotes the compiler, naming "schema registry id N"), an Avro
 *     schema where rb_registry_unwrap wants JSON Schema: RB_ERR_SCHEMA, not
 *     retriable -- the record belongs in the dead-letter queue.
 *   - the registry unreachable, timed out, 5xx, 429, 401/403 (wrong
 *     credentials are fixed without touching the record), a 404 without
 *     error_code 40403 (the URL serves no registry API, e.g. Apicurio's
 *     host without its /apis/ccompat/v7 prefix: a configuration error, not
 *     a missing schema), or an answer that is not the expected JSON:
 *     RB_ERR_HTTP, retriable -- the batch must not be committed; retry or
 *     stop.
 *
 * Pointer lifetimes: *payload points into `value`; *schema stays valid
 * until rb_registry_destroy().
 */
#ifndef RB_REGISTRY_H
#define RB_REGISTRY_H

#include "common/error.h"
#include "avro/avro.h"
#include "validate/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RB_REGISTRY_MAGIC 0x00
#define RB_REGISTRY_HEADER_LEN 5 /* magic byte + 4-byte schema id */

typedef struct rb_registry rb_registry;

typedef struct rb_registry_options {
    /* Base URL of the Confluent-compatible API, e.g. http://registry:8081, or
     * Apicurio's http://registry:8080/apis/ccompat/v7; a trailing '/' is fine. */
    const char *url;
    const char *user_info; /* "user:password" for basic auth, NULL or "" for none */
    long timeout_ms;       /* whole request; 0 means 10000 */
} rb_registry_options;

/* Creates a handle; copies the options.  No request is made yet. */
int rb_registry_new(const rb_registry_options *opt, rb_registry **out, rb_error *err);
void rb_registry_destroy(rb_registry *r); /* accepts NULL */

/* Whether `value` starts with the magic byte (a frame, maybe truncated). */
bool rb_registry_is_framed(const char *value, size_t len);

/* Splits a record value.  Not framed: *payload = value, *payload_len =
 * len, *schema = NULL (validate with the job's schema.file), returns 0;
 * `r` may then be NULL.  Framed: *payload and *payload_len are the JSON
 * after the 5-byte header and *schema the registry's schema of the id;
 * with `r` NULL (no schema.registry.url) a frame is an RB_ERR_SCHEMA error.
 * On failure the outputs are left unchanged. */
int rb_registry_unwrap(rb_registry *r, const char *value, size_t len, const char **payload,
                       size_t *payload_len, const rb_schema **schema, rb_error *err);

/* A value in the wire format, split (rb_registry_read_frame). */
typedef struct rb_registry_frame {
    bool framed;         /* false: a plain value, payload = the value */
    uint32_t id;         /* the schema id of the frame */
    const char *payload; /* the body after the 5-byte header */
    size_t payload_len;
    const rb_schema *json;      /* the id is a JSON Schema: the body is JSON */
    const rb_avro_schema *avro; /* the id is an Avro schema: the body is Avro binary */
} rb_registry_frame;

/* As rb_registry_unwrap, for JSON Schema and Avro frames alike: exactly
 * one of out->json and out->avro is set when out->framed.  When the value
 * starts with the magic byte, out->framed and out->id are set even when
 * the call fails (the id is then known; its schema is not). */
int rb_registry_read_frame(rb_registry *r, const char *value, size_t len, rb_registry_frame *out,
                           rb_error *err);

/* Fetches and caches schema `id` now (e.g. at start-up); as unwrap. */
int rb_registry_schema(rb_registry *r, uint32_t id, const rb_schema **schema, rb_error *err);

/* HTTP requests made so far (successful or not); cache hits make none. */
uint64_t rb_registry_fetch_count(rb_registry *r);

#endif
