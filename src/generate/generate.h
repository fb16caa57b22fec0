/*
 * generate.h -- a deterministic source of product events.
 *
 * The generator is the event source of the demo and the benchmarks: it
 * keeps a pool of products ("p-000000" .. "p-<P-1>"), picks one at random
 * for every event and writes the event as one JSON object following the
 * product schema (conf/product_schema.json).  A product's first event is
 * "created" with version 1; later ones are "updated" (or "deleted", with
 * probability delete_share) with the previous version + 1.  A deleted
 * product that is picked again is created anew with the next version, so
 * the pool never runs dry and versions only grow.
 *
 * With malformed > 0 that share of events is broken in one of the ways of
 * rb_gen_malformed, chosen uniformly; a malformed event never changes the
 * product's state, so the state the well-formed events leave behind is
 * what a correct pipeline stores, and rb_gen_write_manifest() writes it.
 *
 * Everything depends only on the options and the times passed in: the
 * same seed and times give the same bytes.  No Kafka here; the producer is
 * in producer.h.  One generator is used by one thread at a time.
 */
#ifndef RB_GENERATE_H
#define RB_GENERATE_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum rb_gen_malformed {
    RB_GEN_WELL_FORMED = 0,
    RB_GEN_BAD_NOT_JSON,       /* text that is not JSON at all */
    RB_GEN_BAD_TRUNCATED,      /* a valid event cut short */
    RB_GEN_BAD_UTF8,           /* invalid UTF-8 bytes inside a string */
    RB_GEN_BAD_MISSING_NAME,   /* required "name" absent */
    RB_GEN_BAD_NEGATIVE_PRICE, /* price < 0 */
    RB_GEN_BAD_CURRENCY,       /* currency not three upper-case letters */
    RB_GEN_BAD_WRONG_TYPE,     /* a field of the wrong JSON type */
    RB_GEN_MALFORMED_KINDS     /* number of values above */
} rb_gen_malformed;

typedef enum rb_gen_event_type {
    RB_GEN_CREATED = 0,
    RB_GEN_UPDATED,
    RB_GEN_DELETED
} rb_gen_event_type;

typedef struct rb_gen_options {
    uint64_t seed;
    size_t products;     /* pool size, >= 1 */
    double malformed;    /* share of malformed events, 0..1 */
    double delete_share; /* share of events on live products that delete, 0..1 */
    bool sequential;     /* visit products in pool order (0, 1, ..., wrapping)
                            instead of at random: N events on a pool of at
                            least N products create N distinct products, a
                            catalogue load */
} rb_gen_options;

/* Sets the defaults: seed 1, 1000 products, no malformed, no deletes,
 * random order. */
void rb_gen_options_init(rb_gen_options *opts);

/* One event.  key/value point into the generator and stay valid until the
 * next rb_gen_next() or rb_gen_destroy(); value is not NUL-terminated in
 * general (it may be truncated JSON), use value_len. */
typedef struct rb_gen_event {
    const char *key; /* product_id, NUL-terminated */
    size_t key_len;
    const char *value;
    size_t value_len;
    rb_gen_malformed malformed; /* RB_GEN_WELL_FORMED for a good event */
    rb_gen_event_type type;     /* what the event is (or pretends to be) */
    uint32_t version;
    bool text_changed; /* created, or an update that changed text */
} rb_gen_event;

typedef struct rb_gen_counts {
    uint64_t produced; /* all events, malformed included */
    uint64_t created;  /* well-formed events by type */
    uint64_t updated;
    uint64_t deleted;
    uint64_t malformed; /* sum of by_kind[1..] */
    uint64_t by_kind[RB_GEN_MALFORMED_KINDS];
} rb_gen_counts;

typedef struct rb_gen rb_gen;

/* Validates the options (errors name the option) and allocates the pool. */
rb_gen *rb_gen_new(const rb_gen_options *opts, rb_error *err);
void rb_gen_destroy(rb_gen *g); /* accepts NULL */

/* Generates the next event with event_time `time_ms` (milliseconds since
 * the Unix epoch; a time earlier than the previous event's is raised to
 * it, so event times never go backwards).  Fails only on allocation. */
int rb_gen_next(rb_gen *g, int64_t time_ms, rb_gen_event *ev, rb_error *err);

const rb_gen_counts *rb_gen_get_counts(const rb_gen *g);

/* Writes the expected final state: one JSON line per product that a
 * well-formed event has created,
 *   {"product_id":"p-000042","version":7,"deleted":false,
 *    "event_time":"...","price":129.99,"currency":"EUR","in_stock":true,
 *    "text_fields":{"name":..,"description":..,"category":..,"brand":..,
 *                   "tags":[..],"attributes":{..}}}
 * (deleted products carry product_id, version, deleted, event_time only),
 * then one summary line
 *   {"summary":{"produced":N,"well_formed":..,"created":..,"updated":..,
 *    "deleted":..,"malformed":{"total":..,"not_json":..,...},
 *    "products":..,"products_live":..,"products_deleted":..}}
 * Uses the generator's scratch buffers but leaves the product state and
 * the random stream untouched.  Errors name `what` (the file name) and
 * are RB_ERR_IO. */
int rb_gen_write_manifest(rb_gen *g, FILE *out, const char *what, rb_error *err);

/* "not_json", "truncated", "invalid_utf8", "missing_name",
 * "negative_price", "bad_currency", "wrong_type"; "well_formed" for 0. */
const char *rb_gen_malformed_name(rb_gen_malformed kind);
const char *rb_gen_event_type_name(rb_gen_event_type type);

/* Event times are written by common/rfc3339.h's rb_rfc3339_format and
 * read by its rb_rfc3339_parse, the one parser, so that --start-time takes
 * exactly what the schema's date-time takes. */

#endif
