/*
 * avro.h -- Avro binary values read with libavro-c and written out as the
 * JSON document the rest of the pipeline knows (the same model a JSON
 * value makes, so one schema.file, one template and one id rule serve
 * both).
 *
 * A schema is the writer's schema text from the Schema Registry (an id's
 * "schema"): libavro-c parses it and reads the binary body; the text is
 * also parsed as JSON, because libavro-c 1.11 keeps no logicalType, so the
 * logical types below are found by walking the schema text beside the
 * value (named types resolved with their namespaces).
 *
 * The JSON form of each Avro type:
 *   null, boolean, int, long, string   null, true/false, integer, string
 *   float, double                 the shortest number that reads back as
 *                                 the same value; an integral double keeps a
 *                                 ".0" (so 89.0 stays a non-integer, as a
 *                                 JSON producer writes it); NaN and the
 *                                 infinities fail (JSON has none)
 *   record                        object, fields in schema order
 *   map                           object
 *   array                         array
 *   enum                          the symbol, a string
 *   union                         the chosen branch's value itself (no
 *                                 {"type": value} wrapper, as Connect's
 *                                 AvroConverter gives it), so ["null","string"]
 *                                 is null or a string
 *   bytes, fixed                  standard base64 with padding (as Connect's
 *                                 JsonConverter writes bytes)
 * Logical types (Avro 1.12 specification):
 *   decimal (bytes, fixed)        a JSON number with exactly `scale` decimals
 *                                 ("19.50"; scale 0 when absent)
 *   uuid (string)                 the string; (fixed 16) 8-4-4-4-12 lower hex
 *   date (int)                    "2026-12-01"
 *   time-millis (int), time-micros (long)   "10:30:05.250", "10:30:05.250000"
 *   timestamp-millis, -micros, -nanos (long) "2026-12-01T10:30:05.250Z" (3, 6
 *                                 or 9 decimals: the source's precision)
 *   local-timestamp-millis, -micros, -nanos  the same without "Z" (no zone)
 * Without a logicalType, an int or long whose "connect.name" is one of
 * Connect's or Debezium's time types (io.debezium.time.MicroTimestamp, ...:
 * common/temporal.h lists them), as Connect's AvroConverter writes
 * Debezium's schemas, is written as that type's RFC 3339 text too.
 * A logical type on a type it does not apply to, or one not listed
 * (duration), is ignored and the underlying type written, as the
 * specification asks.  common/temporal.h and common/decimal.h do the
 * formatting, shared with the Connect JSON envelope's logical types.
 *
 * Schemas refused when parsed (RB_ERR_SCHEMA, naming `origin`): text that
 * libavro-c rejects; recursive types (a record that contains itself: its
 * values nest without bound and libavro-c reads them by recursion); an
 * array whose items take no bytes (null, an empty record), whose block
 * count would make libavro-c allocate without reading anything.
 *
 * Values that fail (RB_ERR_JSON, stage RB_STAGE_DESERIALIZE, naming the
 * schema's origin and the field): a body that is not one whole value of
 * the schema -- truncated, a negative or overlong length, a block count
 * or size past the end, a union branch or enum index the schema does not
 * have, a boolean not 0 or 1, an int beyond 32 bits, bytes left after the
 * value (scan.c checks all of it, with the byte offset, before libavro-c
 * reads) -- a float that JSON cannot hold, a logical value out of range
 * (a date after 9999), a string that is not UTF-8 or holds U+0000 (as
 * the JSON path refuses it), a map key holding U+0000.
 *
 * Threads: a schema is read-only once parsed and serves every OpenMP
 * worker at once; each call reads into a value of its own (libavro-c's
 * reference counts are atomic).  Ownership: rb_avro_schema_destroy frees
 * everything rb_avro_schema_parse made.
 */
#ifndef RB_AVRO_H
#define RB_AVRO_H

#include "common/buf.h"
#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rb_avro_schema rb_avro_schema;

/* Parses the schema text (`len` bytes); `origin` ("schema registry id 7")
 * names it in messages and is copied. */
int rb_avro_schema_parse(const char *text, size_t len, const char *origin, rb_avro_schema **out,
                         rb_error *err);
void rb_avro_schema_destroy(rb_avro_schema *s); /* accepts NULL */

/* Whether the schema is Debezium's change-event envelope: a record with
 * the fields "op", "source", and "before" or "after".  Its values are then
 * read as change events (decode.h). */
bool rb_avro_schema_is_change_event(const rb_avro_schema *s);

/* Reads the binary value `data` (`len` bytes, all of it) and appends its
 * JSON form to `out`.  On failure `out` may hold part of a value. */
int rb_avro_to_json(const rb_avro_schema *s, const char *data, size_t len, rb_buf *out,
                    rb_error *err);

#endif
