/*
 * decode.h -- what Kafka Connect puts in a record, turned into the event
 * the rest of the pipeline knows: the row to validate and render, whether
 * it deletes the document, its version, and its id when the id does not
 * come from one value field.
 *
 * Value formats (source.value.format):
 *   json          the value is the event (ragbatch's own and Connect's
 *                 JsonConverter with schemas.enable=false).
 *   connect-json  the value is JsonConverter's envelope (schemas.enable=true):
 *                 an object of exactly two members, "schema" (a Connect
 *                 schema: an object with a string "type", or null) and
 *                 "payload"; the payload is the event.  The embedded
 *                 schema is not checked against schema.file: it says what
 *                 Connect's record held (types, optional fields), not what
 *                 the job requires, and the payload is validated as a plain
 *                 event would be.  It is used for one thing: a value whose
 *                 schema is Connect's Decimal (base64 bytes of the unscaled
 *                 integer, the scale in the schema) or Debezium's
 *                 VariableScaleDecimal becomes a JSON number, and one whose
 *                 schema is a Connect or Debezium time type (Date, Time,
 *                 Timestamp, io.debezium.time.MicroTimestamp, ...) an RFC
 *                 3339 string (logical.c); without the envelope they stay
 *                 what they were.  A value that is not an envelope fails.
 *   debezium      the value is a Debezium change event, enveloped or not:
 *                 {"before", "after", "source", "op", "ts_ms"}.  op c (create),
 *                 r (snapshot read) and u (update) upsert the row in "after";
 *                 d deletes the document whose id is in "before" (or in the
 *                 Kafka key, when "before" does not hold it); t (truncate)
 *                 and m (message) fail the record at stage transform:
 *                 which documents a table held is not known here, so a
 *                 truncate cannot be applied (Debezium skips them unless
 *                 skipped.operations says otherwise).  Anything else fails.
 *   avro          the value is Avro binary in the Confluent wire format
 *                 (magic byte 0, 4-byte big-endian schema id, the body),
 *                 its writer's schema from the Schema Registry
 *                 (registry/registry.h), read into JSON by avro/avro.h (the
 *                 JSON form of each Avro type is defined there).  A record
 *                 whose schema is Debezium's envelope (fields op, source,
 *                 before/after) is a change event, read as debezium reads
 *                 one; any other record is the event.  The decoded event
 *                 is validated against schema.file like a JSON one.  The
 *                 frame itself is split by the runner (rb_decode_avro gets
 *                 the body): a value that is not a frame, or whose id is a
 *                 JSON Schema, fails at deserialize naming the id.
 *   auto          per record: an envelope is unwrapped, a change event is
 *                 read as one, anything else is a plain event.  A value in
 *                 the wire format (byte 0 is NUL, which JSON text never
 *                 starts with) is read by its schema's type: JSON Schema as
 *                 before, Avro as avro reads it.  A value that
 *                 looks like one of them without being it (an object of
 *                 exactly "schema" and "payload" whose schema is not a
 *                 Connect schema; "op" with "before"/"after" but no
 *                 "source") fails at deserialize naming the field, rather
 *                 than being guessed at.
 *
 * Version of a change event, from the source position, so that an older
 * change never overwrites a newer one across snapshots, connector restarts
 * and replays (the document.version.field of the row is not consulted):
 *   - source.lsn (PostgreSQL: the WAL position of the change; a snapshot's
 *     rows carry the snapshot's position, so a later re-snapshot is newer);
 *   - else source.file + source.pos (MySQL, MariaDB binlog): the file's
 *     numeric suffix times 2^32, plus the position;
 *   - else the source time: source.ts_ns, ts_us or ts_ms (then the event's
 *     own ts_ms), in nanoseconds.  Two changes of one row within the
 *     clock's resolution then have one version and the later is stale.
 * Its event time is source.ts_ms unless the row has document.time.field.
 *
 * Document ids (document.id.from, document.id.field, document.id.key.fields):
 *   - from the value: document.id.field names one field, or several
 *     (comma-separated) for a composite id;
 *   - from the key: the key parsed as JSON (a JsonConverter envelope is
 *     unwrapped): a string or an integer is the id; an object (a Connect
 *     struct, Debezium's primary key) gives the fields document.id.key.fields
 *     lists, or all of its fields in order when the list is empty.  A key
 *     that is not JSON is its bytes (StringConverter), which must be UTF-8.
 *   One part is stored as itself (a string, or an integer's digits); several
 *   make a composite id, the compact JSON array of the parts:
 *   ["acme",42].  Parts are strings or integers; anything else fails.
 *   A Kafka tombstone's id is derived from its key the same way (for the
 *   formats other than json, and for json with the id from the key), with
 *   one rule more: when the id comes from the value and the key is an
 *   object holding the document.id.field(s), those make the id, so the
 *   tombstone Debezium sends after a delete names the document its events
 *   made.  With format json and the id from the value, a tombstone's key
 *   bytes are the id, as before.
 *
 * Ownership: rb_decoded owns its document and id; free with
 * rb_decoded_free().  `row` points into `doc`.  The spec is read-only once
 * built and serves every OpenMP worker.
 *
 * Errors: RB_ERR_JSON at RB_STAGE_DESERIALIZE for what cannot be read
 * (not JSON, not an envelope where one is required, an ambiguous value);
 * RB_ERR_TRANSFORM at RB_STAGE_TRANSFORM for an event that cannot make a
 * document (no id, no position, truncate).  Messages name the field.
 */
#ifndef RB_DECODE_H
#define RB_DECODE_H

#include "avro/avro.h"
#include "common/error.h"
#include "config/config.h" /* rb_value_format */
#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_decode_spec {
    rb_value_format format;
    bool id_from_key;             /* document.id.from = key */
    const char *const *id_fields; /* document.id.field, split at commas */
    size_t id_field_count;
    const char *const *key_fields; /* document.id.key.fields; none: the whole key */
    size_t key_field_count;
    char **owned; /* what rb_decode_spec_init allocated */
} rb_decode_spec;

/* The decode stage's options (a job's source.value.format and
 * document.id.*: runner/decode_opts.h maps them). */
typedef struct rb_decode_opts {
    rb_value_format format;
    bool id_from_key;              /* document.id.from = key */
    const char *id_field;          /* document.id.field: comma-separated names */
    const char *const *key_fields; /* document.id.key.fields */
    size_t key_field_count;
} rb_decode_opts;

/* Builds the spec: splits id_field at commas (several fields make a
 * composite id).  key_fields must outlive the spec.  RB_ERR_CONFIG names
 * the key. */
int rb_decode_spec_init(rb_decode_spec *spec, const rb_decode_opts *opts, rb_error *err);
void rb_decode_spec_free(rb_decode_spec *spec); /* accepts a zeroed spec */

typedef struct rb_decoded {
    rb_json_doc *doc;   /* owned; its root is the row (the event) */
    const rb_json *row; /* root of doc */
    bool is_change;     /* a Debezium change event */
    bool is_delete;     /* op d: row is "before" (maybe null: then doc is NULL) */
    bool has_version;   /* version and event_time_ms come from the source */
    int64_t version;
    int64_t event_time_ms; /* source.ts_ms, -1 when absent */
    char *id;              /* owned; NULL: derive from row's document.id.field */
} rb_decoded;

/* Decodes one record's value (not a tombstone) with its key.  On failure
 * *out holds nothing. */
int rb_decode_value(const rb_decode_spec *spec, const char *value, size_t len, const char *key,
                    size_t key_len, rb_decoded *out, rb_error *err);

/* Decodes the Avro body of a frame (`body`, `len` bytes) written with
 * `schema`, with its key (already decoded to JSON text when it was an Avro
 * frame itself).  The formats avro, auto and debezium accept it; with
 * debezium a schema that is not a change event's fails.  Errors as
 * rb_decode_value; avro/avro.h's name the schema's registry id. */
int rb_decode_avro(const rb_decode_spec *spec, const rb_avro_schema *schema, const char *body,
                   size_t len, const char *key, size_t key_len, rb_decoded *out, rb_error *err);

/* The id a key names (see "Document ids"); *id is owned by the caller.
 * `tombstone` selects the tombstone rules.  Errors at RB_STAGE_DESERIALIZE. */
int rb_decode_key_id(const rb_decode_spec *spec, const char *key, size_t len, bool tombstone,
                     char **id, rb_error *err);

/* The id made of `fields` of `obj` (composite when several); errors at
 * RB_STAGE_TRANSFORM name the field and `what` ("document.id.field"). */
int rb_decode_fields_id(const rb_json *obj, const char *const *fields, size_t n, const char *what,
                        char **id, rb_error *err);

void rb_decoded_free(rb_decoded *d);

#endif
