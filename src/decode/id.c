/*
 * id.c -- document ids from value fields or from the Kafka key, one part
 * or composite (decode.h, "Document ids").
 */
#include "decode/decode_internal.h"

#include "common/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends one part: as itself when alone, as a JSON array item when one
 * of several. */
static int add_part(rb_buf *b, const rb_json *v, bool composite, const char *field,
                    const char *what, rb_stage stage, rb_error *err) {
    if (!v || v->type == RB_JSON_NULL)
        return rb_error_set(err, RB_ERR_TRANSFORM, stage, "id field '%s' (%s) is missing", field,
                            what);
    int rc;
    if (v->type == RB_JSON_STRING) {
        if (v->str_len == 0 && !composite)
            return rb_error_set(err, RB_ERR_TRANSFORM, stage, "id field '%s' is an empty string",
                                field);
        rc = composite ? rb_buf_json_string(b, v->str, v->str_len)
                       : rb_buf_append(b, v->str, v->str_len);
        return rc ? rb_error_nomem(err, stage, "document id") : 0;
    }
    if (v->type == RB_JSON_NUMBER && v->is_integer) {
        /* Stored as its digits, like every _id a string (document.h). */
        rc = rb_buf_printf(b, "%" PRId64, v->integer);
        return rc ? rb_error_nomem(err, stage, "document id") : 0;
    }
    return rb_error_set(err, RB_ERR_TRANSFORM, stage,
                        "id field '%s' (%s) is a %s; expected a string or an integer", field, what,
                        rb_json_type_name(v->type));
}

static int put(rb_buf *b, char c, rb_error *err) {
    return rb_buf_putc(b, c) ? rb_error_nomem(err, RB_STAGE_TRANSFORM, "document id") : 0;
}

static int finish(rb_buf *b, char **id, rb_stage stage, rb_error *err) {
    if (!(*id = rb_buf_detach(b))) return rb_error_nomem(err, stage, "document id");
    return 0;
}

int rb_decode_fields_id(const rb_json *obj, const char *const *fields, size_t n, const char *what,
                        char **id, rb_error *err) {
    rb_buf b;
    rb_buf_init(&b);
    bool composite = n > 1;
    int rc = composite ? put(&b, '[', err) : 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (i && (rc = put(&b, ',', err)) != 0) break;
        rc = add_part(&b, rb_json_get_path(obj, fields[i]), composite, fields[i], what,
                      RB_STAGE_TRANSFORM, err);
    }
    if (rc == 0 && composite) rc = put(&b, ']', err);
    if (rc != 0) {
        rb_buf_free(&b);
        return -1;
    }
    return finish(&b, id, RB_STAGE_TRANSFORM, err);
}

/* An object key: the listed fields, or the value's id fields when it holds
 * them (a tombstone with the id from the value), or every field in order. */
static int struct_key_id(const rb_decode_spec *spec, const rb_json *obj, bool tombstone, char **id,
                         rb_error *err) {
    if (spec->key_field_count)
        return rb_decode_fields_id(obj, spec->key_fields, spec->key_field_count,
                                   "document.id.key.fields", id, err);
    if (tombstone && !spec->id_from_key) {
        bool all = spec->id_field_count > 0;
        for (size_t i = 0; i < spec->id_field_count && all; i++)
            all = rb_json_get_path(obj, spec->id_fields[i]) != NULL;
        if (all)
            return rb_decode_fields_id(obj, spec->id_fields, spec->id_field_count,
                                       "document.id.field", id, err);
    }
    if (obj->count == 0)
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                            "the Kafka key is an empty object: it names no document");
    const char **names = malloc(obj->count * sizeof *names);
    if (!names) return rb_error_nomem(err, RB_STAGE_TRANSFORM, "key fields");
    for (size_t i = 0; i < obj->count; i++) names[i] = obj->members[i].key;
    /* Member names may contain '.', so each is read as one member. */
    rb_buf b;
    rb_buf_init(&b);
    bool composite = obj->count > 1;
    int rc = composite ? put(&b, '[', err) : 0;
    for (size_t i = 0; rc == 0 && i < obj->count; i++) {
        if (i && (rc = put(&b, ',', err)) != 0) break;
        rc = add_part(&b, obj->members[i].value, composite, names[i], "a field of the Kafka key",
                      RB_STAGE_TRANSFORM, err);
    }
    free(names);
    if (rc == 0 && composite) rc = put(&b, ']', err);
    if (rc != 0) {
        rb_buf_free(&b);
        return -1;
    }
    return finish(&b, id, RB_STAGE_TRANSFORM, err);
}

int rb_decode_key_id(const rb_decode_spec *spec, const char *key, size_t len, bool tombstone,
                     char **id, rb_error *err) {
    if (!key || len == 0)
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_DESERIALIZE,
                            "the record has no Kafka key, and the document id comes from the "
                            "key (document.id.from = key)");
    if (rb_utf8_invalid_offset(key, len) != (size_t)-1 || memchr(key, '\0', len))
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_DESERIALIZE,
                            "the Kafka key is not a valid UTF-8 document id");
    rb_json_doc *doc = NULL;
    rb_error perr;
    bool legacy = tombstone && spec->format == RB_FORMAT_JSON && !spec->id_from_key;
    if (legacy || rb_json_parse(key, len, NULL, &doc, &perr) != 0) {
        /* Not JSON (StringConverter, a raw id): the bytes are the id. */
        if (!(*id = strndup(key, len))) return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "id");
        return 0;
    }
    const rb_json *root = rb_json_doc_root(doc), *payload = root;
    bool almost;
    if (!rb_decode_is_envelope(root, &payload, &almost)) payload = root;
    int rc;
    rb_buf b;
    rb_buf_init(&b);
    switch (payload->type) {
    case RB_JSON_OBJECT: rc = struct_key_id(spec, payload, tombstone, id, err); break;
    case RB_JSON_STRING:
    case RB_JSON_NUMBER:
        rc = add_part(&b, payload, false, "(the Kafka key)", "document.id.from = key",
                      RB_STAGE_TRANSFORM, err);
        rc = rc == 0 ? finish(&b, id, RB_STAGE_TRANSFORM, err) : rc;
        break;
    default:
        rc = rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                          "the Kafka key is a JSON %s; expected a string, an integer or an object",
                          rb_json_type_name(payload->type));
    }
    if (rc != 0) rb_buf_free(&b);
    rb_json_doc_destroy(doc);
    return rc;
}
