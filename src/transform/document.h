/*
 * document.h -- what a document is made of, derived from one event: its
 * id, its ordering version, its event time, whether the event deletes it,
 * and the text to embed.
 *
 * The spec is built once from the job's configuration and is read-only,
 * so one spec serves every OpenMP worker.  Results are owned by the caller
 * (free `id` and `text`).
 */
#ifndef RB_DOCUMENT_H
#define RB_DOCUMENT_H

#include "common/error.h"
#include "transform/template.h"
#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_document_spec {
    const rb_template *tpl;
    const char *id_field;      /* string or integer field; see `id` below */
    const char *version_field; /* optional non-negative integer */
    const char *time_field;    /* optional RFC 3339 string */
    const char *op_field;      /* field compared with delete_values */
    const char *const *delete_values;
    size_t delete_value_count;
} rb_document_spec;

typedef struct rb_document_fields {
    /* Owned.  Always a string: an integer id becomes its decimal digits
     * ("42", "-7"), so the document's _id is the same whether the event
     * carries 42 or "42", and a Kafka tombstone, whose key is bytes, names
     * the same document as the events keyed "42".  Storing 42 as a BSON
     * integer would make a second document and a delete that misses it. */
    char *id;
    int64_t version;       /* version field, else event time in ms */
    int64_t event_time_ms; /* -1 when the event has no time field */
    bool is_delete;
    char *text;         /* owned; NULL for deletes */
    char text_hash[65]; /* "" for deletes */
} rb_document_fields;

/* Derives the fields.  Errors are RB_ERR_TRANSFORM and name the field:
 * missing id, a version that is not a non-negative integer, an event time
 * that is not RFC 3339, neither version nor time, a template field missing. */
int rb_document_derive(const rb_document_spec *spec, const rb_json *event, rb_document_fields *out,
                       rb_error *err);

/* What the record's format already decided (decode/decode.h): a Kafka
 * Connect change event carries its operation and its position outside the
 * row, and an id may come from the key. */
typedef struct rb_document_given {
    char *id;    /* taken over (freed on failure too); NULL: from id_field */
    bool has_op; /* is_delete decides; op_field is not read */
    bool is_delete;
    bool has_version; /* version wins over version_field and the time */
    int64_t version;
    int64_t event_time_ms; /* used when the row has no time field; -1: none */
} rb_document_given;

/* As rb_document_derive, with what `given` fixes.  `event` may be NULL
 * for a delete whose id is given. */
int rb_document_derive_given(const rb_document_spec *spec, const rb_json *event,
                             rb_document_given *given, rb_document_fields *out, rb_error *err);

void rb_document_fields_free(rb_document_fields *f);

#endif
