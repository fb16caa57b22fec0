/*
 * bson_doc.h -- building the sink's BSON documents (internal to src/sink).
 *
 * Only sink.c and the sink's test include this header; it is the one place
 * where event data (ids, metadata trees, vectors) turns into BSON, and
 * where metadata keys are escaped so that they can never act as operators
 * or paths (see sink.h for the escaping rule).
 *
 * Builders append to a caller-initialised bson_t.  They return 0, or -1
 * with a message in `msg` (a caller buffer of `msg_len` bytes) when the
 * item itself cannot be stored: such a failure belongs to that one item,
 * never to the batch.
 */
#ifndef RB_SINK_BSON_DOC_H
#define RB_SINK_BSON_DOC_H

#include "common/buf.h"
#include "sink/sink.h"
#include "json/json.h"

#include <bson/bson.h>
#include <stdbool.h>
#include <stddef.h>

/* Writes the stored form of a metadata key into `out` (reset first).
 * Returns 1 if the key was changed, 0 if it is stored as is, -1 when memory
 * runs out. */
int rb_sink_escape_key(const char *key, size_t len, rb_buf *out);

/* Appends `v` under `key` (stored as given: callers escape it), converting
 * objects, arrays, strings, booleans, null, integers (int64) and other
 * numbers (double); object keys at every depth are escaped. */
int rb_sink_append_json(bson_t *parent, const char *key, const rb_json *v, char *msg,
                        size_t msg_len);

/* BSON binary subtype 9 ("vector") and its float32 dtype byte; libbson
 * before 2.0 has no names for them.  The payload is the dtype byte, a
 * padding byte (0 for float32) and the little-endian values. */
#define RB_SINK_BSON_SUBTYPE_VECTOR 0x09
#define RB_SINK_VECTOR_DTYPE_FLOAT32 0x27
#define RB_SINK_VECTOR_HEADER 2

/* The replacement document of an UPSERT or SOFT_DELETE item, its
 * embedding in the given format (see rb_sink_vector_format); a
 * SOFT_DELETE's tombstone also gets deleted_at = now_ms. */
int rb_sink_build_doc(bson_t *doc, const rb_sink_item *it, rb_sink_vector_format format,
                      int64_t now_ms, char *msg, size_t msg_len);

/* {_id: id, version: {$lt: version}}: matches only an older stored version. */
int rb_sink_build_filter(bson_t *filter, const rb_sink_item *it);

/* {_id: id, version: expect}: matches only the version a CAS write was
 * decided against. */
int rb_sink_build_swap_filter(bson_t *filter, const char *id, int64_t expect);

#endif
