/*
 * logical.c -- Connect's and Debezium's logical types, read with the
 * schema that JsonConverter embeds (schemas.enable=true):
 *   - a value whose schema is org.apache.kafka.connect.data.Decimal is
 *     written as the base64 of its unscaled big-endian two's-complement
 *     integer, its scale in the schema's parameters; Debezium's
 *     io.debezium.data.VariableScaleDecimal is a struct {scale, value} of
 *     the same.  Both become JSON numbers ("19.50").
 *   - the time types (org.apache.kafka.connect.data.Date, Time, Timestamp;
 *     io.debezium.time.Date, Time, MicroTime, NanoTime, Timestamp,
 *     MicroTimestamp, NanoTimestamp: common/temporal.h) are integers that
 *     become RFC 3339 strings: "2026-12-01", "10:30:05.250",
 *     "2026-12-01T10:30:05.250123Z" (as many decimals as the unit has).
 *     Debezium's Timestamp types of a column without a time zone count
 *     the column's wall-clock time as UTC, so the "Z" says what Debezium
 *     did.  io.debezium.time.ZonedTimestamp is a string already and stays.
 * Without the schema neither the scale nor the unit is known, so such a
 * value stays what it was (decode.h).
 *
 * The row is written out again as JSON text with those values converted
 * and everything else copied from its source text, then parsed as the row.
 */
#include "decode/decode_internal.h"

#include "common/base64.h"
#include "common/buf.h"
#include "common/decimal.h"
#include "common/temporal.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define DECIMAL "org.apache.kafka.connect.data.Decimal"
#define VARIABLE_DECIMAL "io.debezium.data.VariableScaleDecimal"

static const char *schema_name(const rb_json *schema) {
    return rb_json_string(rb_json_get(schema, "name"));
}

static bool is_decimal(const rb_json *schema) {
    const char *n = schema_name(schema);
    return n && (strcmp(n, DECIMAL) == 0 || strcmp(n, VARIABLE_DECIMAL) == 0);
}

static rb_temporal_kind temporal_of(const rb_json *schema, int *digits) {
    return rb_temporal_connect_kind(schema_name(schema), digits);
}

static bool is_logical(const rb_json *schema) {
    int digits;
    return is_decimal(schema) || temporal_of(schema, &digits) != RB_TEMPORAL_NONE;
}

bool rb_decode_schema_has_logical(const rb_json *schema) {
    if (!schema || schema->type != RB_JSON_OBJECT) return false;
    if (is_logical(schema)) return true;
    const rb_json *fields = rb_json_get(schema, "fields");
    for (size_t i = 0; fields && fields->type == RB_JSON_ARRAY && i < fields->count; i++)
        if (rb_decode_schema_has_logical(&fields->items[i])) return true;
    return rb_decode_schema_has_logical(rb_json_get(schema, "items")) ||
           rb_decode_schema_has_logical(rb_json_get(schema, "values"));
}

static int decimal_value(const rb_json *schema, const rb_json *v, const char *path, rb_buf *out,
                         rb_error *err) {
    const char *text;
    long scale;
    if (strcmp(schema_name(schema), VARIABLE_DECIMAL) == 0) {
        const rb_json *sc = rb_json_get(v, "scale");
        text = rb_json_string(rb_json_get(v, "value"));
        if (!sc || sc->type != RB_JSON_NUMBER || !sc->is_integer || !text)
            return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                                "field '%s' is not an %s {scale, value}", path, VARIABLE_DECIMAL);
        scale = (long)sc->integer;
    } else {
        const char *s = rb_json_string(rb_json_get_path(schema, "parameters.scale"));
        char *end = NULL;
        scale = s ? strtol(s, &end, 10) : 0;
        text = rb_json_string(v);
        if (!s || *end || !text)
            return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                                "field '%s' is a Connect Decimal %s", path,
                                !s || *end ? "whose schema has no integer parameters.scale"
                                           : "but not a base64 string");
    }
    if (scale < -1000 || scale > 1000)
        return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                            "field '%s': decimal scale %ld is out of range", path, scale);
    size_t len = strlen(text);
    unsigned char *bytes = malloc(len / 4 * 3 + 3);
    if (!bytes) return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "decimal");
    long n = rb_base64_decode(text, len, true, bytes);
    int rc = 0;
    if (n < 0)
        rc = rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                          "field '%s': a Connect Decimal that is not base64 ('%.40s')", path,
                          text);
    else if (rb_decimal_write(out, bytes, (size_t)n, scale) != 0)
        rc = rb_error_nomem(err, RB_STAGE_DESERIALIZE, "decimal");
    free(bytes);
    return rc;
}

const rb_json *rb_decode_field_schema(const rb_json *schema, const char *name) {
    const rb_json *fields = rb_json_get(schema, "fields");
    for (size_t i = 0; fields && fields->type == RB_JSON_ARRAY && i < fields->count; i++) {
        const char *f = rb_json_string(rb_json_get(&fields->items[i], "field"));
        if (f && strcmp(f, name) == 0) return &fields->items[i];
    }
    return NULL;
}

/* A time type's integer as its RFC 3339 string; anything else (a string
 * a converter already wrote) as it is. */
static int temporal_value(const rb_json *schema, const rb_json *v, const char *path, rb_buf *out,
                          rb_error *err) {
    int digits;
    rb_temporal_kind kind = temporal_of(schema, &digits);
    if (v->type != RB_JSON_NUMBER || !v->is_integer)
        return rb_buf_append(out, v->raw, v->raw_len)
                   ? rb_error_nomem(err, RB_STAGE_DESERIALIZE, "row")
                   : 0;
    int rc = rb_temporal_json(out, kind, digits, v->integer);
    if (rc == -2)
        return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                            "field '%s' (%s %" PRId64 ") is outside years 0000..9999 or one day",
                            path, schema_name(schema), v->integer);
    return rc ? rb_error_nomem(err, RB_STAGE_DESERIALIZE, "row") : 0;
}

static int write_value(const rb_json *schema, const rb_json *v, const char *path, rb_buf *out,
                       rb_error *err) {
    if (v->type == RB_JSON_NULL || !rb_decode_schema_has_logical(schema))
        return rb_buf_append(out, v->raw, v->raw_len)
                   ? rb_error_nomem(err, RB_STAGE_DESERIALIZE, "row")
                   : 0;
    if (is_decimal(schema)) return decimal_value(schema, v, path, out, err);
    if (is_logical(schema)) return temporal_value(schema, v, path, out, err);
    int rc = 0;
    if (v->type == RB_JSON_OBJECT) {
        const char *type = rb_json_string(rb_json_get(schema, "type"));
        bool map = type && strcmp(type, "map") == 0;
        rc = rb_buf_putc(out, '{');
        for (size_t i = 0; rc == 0 && i < v->count; i++) {
            const rb_json_member *m = &v->members[i];
            if (i) rc = rb_buf_putc(out, ',');
            if (rc == 0) rc = rb_buf_json_string(out, m->key, m->key_len);
            if (rc == 0) rc = rb_buf_putc(out, ':');
            const rb_json *fs = map ? rb_json_get(schema, "values")
                                    : rb_decode_field_schema(schema, m->key);
            if (rc == 0) rc = write_value(fs, m->value, m->key, out, err) ? -2 : 0;
        }
        if (rc == 0) rc = rb_buf_putc(out, '}');
    } else if (v->type == RB_JSON_ARRAY) {
        const rb_json *items = rb_json_get(schema, "items");
        rc = rb_buf_putc(out, '[');
        for (size_t i = 0; rc == 0 && i < v->count; i++) {
            if (i) rc = rb_buf_putc(out, ',');
            if (rc == 0) rc = write_value(items, &v->items[i], path, out, err) ? -2 : 0;
        }
        if (rc == 0) rc = rb_buf_putc(out, ']');
    } else {
        rc = rb_buf_append(out, v->raw, v->raw_len);
    }
    if (rc == -2) return -1;
    return rc ? rb_error_nomem(err, RB_STAGE_DESERIALIZE, "row") : 0;
}

int rb_decode_row(const rb_json *v, const rb_json *schema, rb_json_doc **out, rb_error *err) {
    if (!rb_decode_schema_has_logical(schema)) return rb_decode_reparse(v, out, err);
    rb_buf text;
    rb_buf_init(&text);
    int rc = write_value(schema, v, "", &text, err);
    if (rc == 0 && rb_json_parse(text.data, text.len, NULL, out, err) != 0)
        rc = rb_error_prefix(err, "re-reading a row with its logical types");
    rb_buf_free(&text);
    return rc;
}
