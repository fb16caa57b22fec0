/*
 * logical.c -- Connect's decimal logical types, read with the schema that
 * JsonConverter embeds (schemas.enable=true): a value whose schema is
 * org.apache.kafka.connect.data.Decimal is written as the base64 of its
 * unscaled big-endian two's-complement integer, its scale in the schema's
 * parameters; Debezium's io.debezium.data.VariableScaleDecimal is a struct
 * {scale, value} of the same.  Without the schema the scale is unknown, so
 * such a value stays a string (decode.h).
 *
 * The row is written out again as JSON text with those values as JSON
 * numbers ("19.50") and everything else copied from its source text, then
 * parsed as the row.
 */
#include "decode/decode_internal.h"

#include "common/buf.h"

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

bool rb_decode_schema_has_decimal(const rb_json *schema) {
    if (!schema || schema->type != RB_JSON_OBJECT) return false;
    if (is_decimal(schema)) return true;
    const rb_json *fields = rb_json_get(schema, "fields");
    for (size_t i = 0; fields && fields->type == RB_JSON_ARRAY && i < fields->count; i++)
        if (rb_decode_schema_has_decimal(&fields->items[i])) return true;
    return rb_decode_schema_has_decimal(rb_json_get(schema, "items")) ||
           rb_decode_schema_has_decimal(rb_json_get(schema, "values"));
}

static int b64(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (with padding) into `out` (room for len*3/4). */
static long base64_decode(const char *s, size_t len, unsigned char *out) {
    if (len % 4) return -1;
    long n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            v[k] = s[i + k] == '=' && i + 4 == len && k >= 2 ? 0 : b64(s[i + k]);
            if (v[k] < 0) return -1;
        }
        out[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
        if (s[i + 2] != '=') out[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
        if (s[i + 3] != '=') out[n++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
    }
    return n;
}

/* Writes the decimal number unscaled * 10^-scale, the unscaled value
 * being `n` big-endian two's-complement bytes. */
static int put_decimal(rb_buf *out, unsigned char *mag, size_t n, long scale) {
    bool negative = n > 0 && (mag[0] & 0x80);
    if (negative) { /* two's complement: invert and add one */
        for (size_t i = 0; i < n; i++) mag[i] = (unsigned char)~mag[i];
        for (size_t i = n; i-- > 0;)
            if (++mag[i] != 0) break;
    }
    /* Base 256 to base 10 by repeated division: the values are short. */
    char *digits = malloc(n * 3 + 2);
    if (!digits) return -1;
    size_t nd = 0, start = 0;
    while (start < n && mag[start] == 0) start++;
    while (start < n) {
        unsigned rem = 0;
        for (size_t i = start; i < n; i++) {
            unsigned cur = rem * 256 + mag[i];
            mag[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
        }
        digits[nd++] = (char)('0' + rem);
        while (start < n && mag[start] == 0) start++;
    }
    if (nd == 0) digits[nd++] = '0';
    int rc = negative ? rb_buf_putc(out, '-') : 0;
    /* digits[] holds the least significant digit first. */
    if (scale <= 0) {
        for (size_t i = nd; rc == 0 && i-- > 0;) rc = rb_buf_putc(out, digits[i]);
        for (long z = 0; rc == 0 && z < -scale; z++) rc = rb_buf_putc(out, '0');
    } else {
        size_t s = (size_t)scale;
        if (nd <= s) {
            rc = rc ? rc : rb_buf_puts(out, "0.");
            for (size_t z = nd; rc == 0 && z < s; z++) rc = rb_buf_putc(out, '0');
            for (size_t i = nd; rc == 0 && i-- > 0;) rc = rb_buf_putc(out, digits[i]);
        } else {
            for (size_t i = nd; rc == 0 && i-- > 0;) {
                rc = rb_buf_putc(out, digits[i]);
                if (rc == 0 && i == s) rc = rb_buf_putc(out, '.');
            }
        }
    }
    free(digits);
    return rc;
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
    long n = base64_decode(text, len, bytes);
    int rc = 0;
    if (n < 0)
        rc = rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                          "field '%s': a Connect Decimal that is not base64 ('%.40s')", path,
                          text);
    else if (put_decimal(out, bytes, (size_t)n, scale) != 0)
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

static int write_value(const rb_json *schema, const rb_json *v, const char *path, rb_buf *out,
                       rb_error *err) {
    if (v->type == RB_JSON_NULL || !rb_decode_schema_has_decimal(schema))
        return rb_buf_append(out, v->raw, v->raw_len)
                   ? rb_error_nomem(err, RB_STAGE_DESERIALIZE, "row")
                   : 0;
    if (is_decimal(schema)) return decimal_value(schema, v, path, out, err);
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
    if (!rb_decode_schema_has_decimal(schema)) return rb_decode_reparse(v, out, err);
    rb_buf text;
    rb_buf_init(&text);
    int rc = write_value(schema, v, "", &text, err);
    if (rc == 0 && rb_json_parse(text.data, text.len, NULL, out, err) != 0)
        rc = rb_error_prefix(err, "re-reading a row with its decimals");
    rb_buf_free(&text);
    return rc;
}
