/*
 * decode.c -- the value formats: plain JSON, JsonConverter's envelope,
 * Debezium change events, and auto-detection among them (decode.h).
 */
#include "decode/decode_internal.h"

#include <stdlib.h>
#include <string.h>

int rb_decode_spec_init(rb_decode_spec *spec, const rb_decode_opts *opts, rb_error *err) {
    memset(spec, 0, sizeof *spec);
    spec->format = opts->format;
    spec->id_from_key = opts->id_from_key;
    /* document.id.field, split at commas: several fields make a composite id. */
    size_t n = 1;
    for (const char *p = opts->id_field; *p; p++) n += *p == ',';
    if (!(spec->owned = calloc(n + 1, sizeof *spec->owned)))
        return rb_error_nomem(err, RB_STAGE_CONFIG, "id fields");
    size_t count = 0;
    for (const char *p = opts->id_field;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t')) p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t')) len--;
        if (len == 0) {
            rb_decode_spec_free(spec);
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "document.id.field '%s' has an empty field name", opts->id_field);
        }
        if (!(spec->owned[count++] = strndup(p, len))) {
            rb_decode_spec_free(spec);
            return rb_error_nomem(err, RB_STAGE_CONFIG, "id fields");
        }
        if (!end) break;
        p = end + 1;
    }
    spec->id_fields = (const char *const *)spec->owned;
    spec->id_field_count = count;
    spec->key_fields = opts->key_fields;
    spec->key_field_count = opts->key_field_count;
    return 0;
}

void rb_decode_spec_free(rb_decode_spec *spec) {
    for (char **p = spec->owned; p && *p; p++) free(*p);
    free(spec->owned);
    spec->owned = NULL;
    spec->id_fields = NULL;
    spec->id_field_count = 0;
}

int rb_decode_reparse(const rb_json *v, rb_json_doc **out, rb_error *err) {
    if (rb_json_parse(v->raw, v->raw_len, NULL, out, err) != 0)
        return rb_error_prefix(err, "re-reading a nested value");
    return 0;
}

bool rb_decode_is_envelope(const rb_json *root, const rb_json **payload, bool *almost) {
    *almost = false;
    if (!root || root->type != RB_JSON_OBJECT || root->count != 2) return false;
    const rb_json *schema = rb_json_get(root, "schema"), *p = rb_json_get(root, "payload");
    if (!schema || !p) return false;
    /* JsonConverter writes a Connect schema as an object whose "type" is
     * one of Connect's type names; a record without a schema gets null. */
    bool connect_schema =
        schema->type == RB_JSON_NULL ||
        (schema->type == RB_JSON_OBJECT && rb_json_string(rb_json_get(schema, "type")) != NULL);
    if (!connect_schema) {
        *almost = true;
        return false;
    }
    *payload = p;
    return true;
}

static int fail_json(rb_error *err, const char *fmt, const char *field) {
    return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE, fmt, field);
}

/* A plain event: the row is the root (reparsed when it is a payload). */
static int plain(const rb_decode_spec *spec, rb_json_doc *doc, const rb_json *row,
                 const rb_json *schema, const char *key, size_t key_len, rb_decoded *out,
                 rb_error *err) {
    if (row != rb_json_doc_root(doc)) {
        rb_json_doc *inner;
        if (rb_decode_row(row, schema, &inner, err) != 0) {
            rb_json_doc_destroy(doc);
            return -1;
        }
        rb_json_doc_destroy(doc);
        doc = inner;
    }
    out->doc = doc;
    out->row = rb_json_doc_root(doc);
    if (spec->id_from_key) return rb_decode_key_id(spec, key, key_len, false, &out->id, err);
    if (spec->id_field_count > 1)
        return rb_decode_fields_id(out->row, spec->id_fields, spec->id_field_count,
                                   "document.id.field", &out->id, err);
    return 0;
}

int rb_decode_value(const rb_decode_spec *spec, const char *value, size_t len, const char *key,
                    size_t key_len, rb_decoded *out, rb_error *err) {
    memset(out, 0, sizeof *out);
    out->event_time_ms = -1;
    rb_json_doc *doc;
    if (rb_json_parse(value, len, NULL, &doc, err) != 0)
        return rb_error_prefix(err, "not valid JSON");
    const rb_json *root = rb_json_doc_root(doc), *payload = root;
    bool almost = false;
    int rc;
    switch (spec->format) {
    case RB_FORMAT_JSON: rc = plain(spec, doc, root, NULL, key, key_len, out, err); break;
    case RB_FORMAT_CONNECT_JSON:
        if (!rb_decode_is_envelope(root, &payload, &almost)) {
            rb_json_doc_destroy(doc);
            return fail_json(err,
                             "not a JsonConverter envelope (source.value.format = connect-json): "
                             "expected an object of exactly '%s' and 'payload' "
                             "(schemas.enable=true)",
                             "schema");
        }
        if (payload->type == RB_JSON_NULL) {
            rb_json_doc_destroy(doc);
            return fail_json(err, "the envelope's '%s' is null: there is no event", "payload");
        }
        rc = plain(spec, doc, payload, rb_json_get(root, "schema"), key, key_len, out, err);
        break;
    case RB_FORMAT_DEBEZIUM:
    case RB_FORMAT_AUTO:
        if (!rb_decode_is_envelope(root, &payload, &almost)) payload = root;
        const rb_json *schema = payload != root ? rb_json_get(root, "schema") : NULL;
        if (almost && spec->format == RB_FORMAT_AUTO) {
            rb_json_doc_destroy(doc);
            return fail_json(err,
                             "ambiguous value: an object of exactly 'schema' and 'payload', but "
                             "'%s' is not a Connect schema (no string 'type'); set "
                             "source.value.format to json or connect-json",
                             "schema");
        }
        if (spec->format == RB_FORMAT_AUTO && !rb_debezium_looks_like(payload)) {
            rc = plain(spec, doc, payload, schema, key, key_len, out, err);
            break;
        }
        if (!payload || payload->type != RB_JSON_OBJECT) {
            rb_json_doc_destroy(doc);
            return fail_json(err,
                             "not a Debezium change event (source.value.format = debezium): "
                             "the %s is not an object",
                             payload == root ? "value" : "envelope's payload");
        }
        rc = rb_debezium_decode(spec, payload, schema, key, key_len, out, err);
        rb_json_doc_destroy(doc);
        break;
    default: rb_json_doc_destroy(doc); return fail_json(err, "unknown %s", "source.value.format");
    }
    if (rc != 0) rb_decoded_free(out);
    return rc;
}

void rb_decoded_free(rb_decoded *d) {
    rb_json_doc_destroy(d->doc);
    free(d->id);
    d->doc = NULL;
    d->row = NULL;
    d->id = NULL;
}
