/*
 * decode_internal.h -- shared by the files of src/decode: the change-event
 * reader (debezium.c) and the id derivation (id.c) called by the format
 * dispatch (decode.c).  Private to the module.
 */
#ifndef RB_DECODE_INTERNAL_H
#define RB_DECODE_INTERNAL_H

#include "decode/decode.h"

/* Parses the source text of `v` (a sub-value of another document) as a
 * document of its own, so that its root is the row. */
int rb_decode_reparse(const rb_json *v, rb_json_doc **out, rb_error *err);

/* Whether a Connect schema (JsonConverter's embedded form) holds a
 * decimal or time logical type anywhere (logical.c). */
bool rb_decode_schema_has_logical(const rb_json *schema);

/* The schema of field `name` of a Connect struct schema, or NULL. */
const rb_json *rb_decode_field_schema(const rb_json *schema, const char *name);

/* Parses `v` as a document of its own, as rb_decode_reparse does, with the
 * decimals its Connect schema (may be NULL) describes written as numbers
 * and its time types as RFC 3339 strings. */
int rb_decode_row(const rb_json *v, const rb_json *schema, rb_json_doc **out, rb_error *err);

/* Whether `obj` has the members that make it a Debezium change event
 * ("op", and "before" or "after"). */
bool rb_debezium_looks_like(const rb_json *obj);

/* Reads a change event (unwrapped) into `out` (zeroed by the caller). */
int rb_debezium_decode(const rb_decode_spec *spec, const rb_json *event, const rb_json *schema,
                       const char *key, size_t key_len, rb_decoded *out, rb_error *err);

/* The version and event time a change event's source position gives. */
int rb_debezium_version(const rb_json *event, int64_t *version, int64_t *event_time_ms,
                        rb_error *err);

/* Whether `root` is JsonConverter's envelope; *payload is then its payload.
 * Sets *almost when the value has exactly "schema" and "payload" but the
 * schema is not a Connect schema (ambiguous). */
bool rb_decode_is_envelope(const rb_json *root, const rb_json **payload, bool *almost);

#endif
