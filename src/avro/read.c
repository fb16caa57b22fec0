/*
 * read.c -- a binary value read by libavro-c, written as JSON with the
 * logical types its schema text names (avro.h).
 */
#include "avro/avro_internal.h"

#include "common/decimal.h"
#include "common/temporal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct walk {
    const rb_avro_schema *s;
    rb_buf *out;
    rb_error *err;
    char path[256]; /* dotted field path of the value being written */
} walk;

static int fail(walk *w, const char *what) {
    return rb_error_set(w->err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                        "Avro value of %s: field '%s' %s", w->s->origin,
                        w->path[0] ? w->path : "(the value)", what);
}

static int nomem(walk *w) { return rb_error_nomem(w->err, RB_STAGE_DESERIALIZE, "Avro value"); }

static int put(walk *w, int rc) {
    if (rc == -2) return fail(w, "holds a date or time outside years 0000..9999 or one day");
    return rc ? nomem(w) : 0;
}

static const char *logical_of(rb_avro_node n) {
    return n.json && n.json->type == RB_JSON_OBJECT
               ? rb_json_string(rb_json_get(n.json, "logicalType"))
               : NULL;
}

static bool is(const char *a, const char *b) { return a && strcmp(a, b) == 0; }

static int put_base64(rb_buf *out, const unsigned char *p, size_t n) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (rb_buf_reserve(out, n / 3 * 4 + 6) != 0) return -1;
    int rc = rb_buf_putc(out, '"');
    for (size_t i = 0; rc == 0 && i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        char q[4] = {tbl[v >> 18 & 63], tbl[v >> 12 & 63], i + 1 < n ? tbl[v >> 6 & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        rc = rb_buf_append(out, q, 4);
    }
    return rc ? -1 : rb_buf_putc(out, '"');
}

/* The shortest decimal text that reads back as `d` (as `f` when is_float):
 * what a JSON producer would have written.  An integral value keeps ".0". */
static int put_real(walk *w, double d, bool is_float) {
    if (!isfinite(d)) return fail(w, "is NaN or infinite, which JSON cannot hold");
    char text[40];
    for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, d);
        double back = strtod(text, NULL);
        if (is_float ? (float)back == (float)d : back == d) break;
    }
    int rc = rb_buf_puts(w->out, text);
    if (rc == 0 && !strpbrk(text, ".eEn")) rc = rb_buf_puts(w->out, ".0");
    return rc ? nomem(w) : 0;
}

/* decimal's scale: an integer attribute, 0 when absent. */
static long decimal_scale(rb_avro_node n) {
    const rb_json *sc = rb_json_get(n.json, "scale");
    return sc && sc->type == RB_JSON_NUMBER && sc->is_integer && sc->integer >= 0 &&
                   sc->integer <= 1000
               ? (long)sc->integer
               : 0;
}

static int put_uuid(walk *w, const unsigned char *b) {
    char text[40];
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text[o++] = '-';
        o += (size_t)snprintf(text + o, sizeof text - o, "%02x", b[i]);
    }
    return put(w, rb_buf_printf(w->out, "\"%s\"", text));
}

static int put_bytes(walk *w, rb_avro_node n, const void *buf, size_t size, bool fixed) {
    const char *lt = logical_of(n);
    if (is(lt, "decimal")) {
        int rc = size ? rb_decimal_write(w->out, buf, size, decimal_scale(n))
                      : rb_buf_putc(w->out, '0');
        return put(w, rc);
    }
    if (fixed && size == 16 && is(lt, "uuid")) return put_uuid(w, buf);
    return put(w, put_base64(w->out, buf, size));
}

static int put_int(walk *w, rb_avro_node n, int64_t v, bool is_long) {
    const char *lt = logical_of(n);
    int rc, digits = 0;
    /* Connect's AvroConverter (Debezium's time types) names the type in
     * connect.name and sets no logicalType for most of them. */
    rb_temporal_kind kind =
        lt || !n.json || n.json->type != RB_JSON_OBJECT
            ? RB_TEMPORAL_NONE
            : rb_temporal_connect_kind(rb_json_string(rb_json_get(n.json, "connect.name")),
                                       &digits);
    if (kind != RB_TEMPORAL_NONE) return put(w, rb_temporal_json(w->out, kind, digits, v));
    if (!is_long && is(lt, "date")) {
        rc = rb_buf_putc(w->out, '"');
        if (rc == 0) rc = rb_temporal_date(w->out, v);
    } else if ((!is_long && is(lt, "time-millis")) || (is_long && is(lt, "time-micros"))) {
        rc = rb_buf_putc(w->out, '"');
        if (rc == 0) rc = rb_temporal_time(w->out, v, is_long ? 6 : 3);
    } else if (is_long && lt && strstr(lt, "timestamp-")) {
        bool local = strncmp(lt, "local-", 6) == 0;
        const char *unit = strstr(lt, "timestamp-") + 10;
        digits = is(unit, "millis") ? 3 : is(unit, "micros") ? 6 : is(unit, "nanos") ? 9 : -1;
        if (digits < 0) return put(w, rb_buf_printf(w->out, "%" PRId64, v));
        rc = rb_buf_putc(w->out, '"');
        if (rc == 0) rc = rb_temporal_timestamp(w->out, v, digits, !local);
    } else {
        return put(w, rb_buf_printf(w->out, "%" PRId64, v));
    }
    if (rc == 0) rc = rb_buf_putc(w->out, '"');
    return put(w, rc);
}

/* w->path grows by ".name" while a member is written. */
static size_t path_push(walk *w, const char *name) {
    size_t at = strlen(w->path);
    snprintf(w->path + at, sizeof w->path - at, "%s%s", at ? "." : "", name);
    return at;
}

static int write_value(walk *w, avro_value_t *v, rb_avro_node node);

static int write_members(walk *w, avro_value_t *v, rb_avro_node node, bool map) {
    size_t n = 0;
    if (avro_value_get_size(v, &n) != 0) return fail(w, "cannot be read back from libavro-c");
    const rb_json *fields = map ? NULL : rb_json_get(node.json, "fields");
    char nsbuf[512];
    const char *ns = node.json && !map
                         ? rb_avro_def_namespace(node.json, node.ns, nsbuf, sizeof nsbuf)
                         : node.ns;
    rb_avro_node values = {map ? rb_json_get(node.json, "values") : NULL, node.ns};
    if (rb_buf_putc(w->out, '{') != 0) return nomem(w);
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        if (avro_value_get_by_index(v, i, &child, &name) != 0 || !name)
            return fail(w, "cannot be read back from libavro-c");
        if (i && rb_buf_putc(w->out, ',') != 0) return nomem(w);
        if (rb_buf_json_string(w->out, name, strlen(name)) != 0 || rb_buf_putc(w->out, ':') != 0)
            return nomem(w);
        rb_avro_node cn = values;
        if (!map) {
            const rb_json *f = fields && fields->type == RB_JSON_ARRAY && i < fields->count
                                   ? &fields->items[i]
                                   : NULL;
            /* The walk follows libavro-c's field order, which is the text's. */
            cn = (rb_avro_node){f && is(rb_json_string(rb_json_get(f, "name")), name)
                                    ? rb_json_get(f, "type")
                                    : NULL,
                                ns};
        }
        size_t at = path_push(w, name);
        int rc = write_value(w, &child, cn);
        w->path[at] = '\0';
        if (rc != 0) return -1;
    }
    return rb_buf_putc(w->out, '}') ? nomem(w) : 0;
}

static int write_value(walk *w, avro_value_t *v, rb_avro_node node) {
    node = rb_avro_resolve(w->s, node);
    switch (avro_value_get_type(v)) {
    case AVRO_NULL: return put(w, rb_buf_puts(w->out, "null"));
    case AVRO_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        return put(w, rb_buf_puts(w->out, b ? "true" : "false"));
    }
    case AVRO_INT32: {
        int32_t i = 0;
        avro_value_get_int(v, &i);
        return put_int(w, node, i, false);
    }
    case AVRO_INT64: {
        int64_t l = 0;
        avro_value_get_long(v, &l);
        return put_int(w, node, l, true);
    }
    case AVRO_FLOAT: {
        float f = 0;
        avro_value_get_float(v, &f);
        return put_real(w, f, true);
    }
    case AVRO_DOUBLE: {
        double d = 0;
        avro_value_get_double(v, &d);
        return put_real(w, d, false);
    }
    case AVRO_STRING: {
        const char *str = NULL;
        size_t size = 0; /* counts the NUL libavro-c adds */
        avro_value_get_string(v, &str, &size);
        size_t len = size ? size - 1 : 0;
        if (rb_utf8_invalid_offset(str ? str : "", len) != (size_t)-1)
            return fail(w, "is a string that is not UTF-8");
        return put(w, rb_buf_json_string(w->out, str ? str : "", len));
    }
    case AVRO_BYTES: {
        const void *buf = NULL;
        size_t size = 0;
        avro_value_get_bytes(v, &buf, &size);
        return put_bytes(w, node, buf, size, false);
    }
    case AVRO_FIXED: {
        const void *buf = NULL;
        size_t size = 0;
        avro_value_get_fixed(v, &buf, &size);
        return put_bytes(w, node, buf, size, true);
    }
    case AVRO_ENUM: {
        int idx = 0;
        avro_value_get_enum(v, &idx);
        const char *sym = avro_schema_enum_get(avro_value_get_schema(v), idx);
        if (!sym) return fail(w, "holds an enum index the schema does not have");
        return put(w, rb_buf_json_string(w->out, sym, strlen(sym)));
    }
    case AVRO_RECORD: return write_members(w, v, node, false);
    case AVRO_MAP: return write_members(w, v, node, true);
    case AVRO_ARRAY: {
        size_t n = 0;
        if (avro_value_get_size(v, &n) != 0) return fail(w, "cannot be read back from libavro-c");
        rb_avro_node items = {rb_json_get(node.json, "items"), node.ns};
        if (rb_buf_putc(w->out, '[') != 0) return nomem(w);
        for (size_t i = 0; i < n; i++) {
            avro_value_t child;
            if (avro_value_get_by_index(v, i, &child, NULL) != 0)
                return fail(w, "cannot be read back from libavro-c");
            if (i && rb_buf_putc(w->out, ',') != 0) return nomem(w);
            if (write_value(w, &child, items) != 0) return -1;
        }
        return rb_buf_putc(w->out, ']') ? nomem(w) : 0;
    }
    case AVRO_UNION: {
        int disc = -1;
        avro_value_t branch;
        if (avro_value_get_discriminant(v, &disc) != 0 ||
            avro_value_get_current_branch(v, &branch) != 0)
            return fail(w, "is a union without a branch");
        const rb_json *u = node.json;
        rb_avro_node bn = {u && u->type == RB_JSON_ARRAY && disc >= 0 && (size_t)disc < u->count
                               ? &u->items[disc]
                               : NULL,
                           node.ns};
        return write_value(w, &branch, bn);
    }
    default: return fail(w, "has a type this reader does not know");
    }
}

int rb_avro_to_json(const rb_avro_schema *s, const char *data, size_t len, rb_buf *out,
                    rb_error *err) {
    /* libavro-c only gets values that are whole (scan.c says why). */
    if (rb_avro_scan(s, data, len, err) != 0) return -1;
    avro_value_t v;
    int rc = 0;
    rb_avro_lib_lock();
    /* libavro-c prefixes a new error to whatever its buffer held. */
    avro_set_error("%s", "");
    if (avro_generic_value_new(s->iface, &v) != 0) {
        rb_avro_lib_unlock();
        return rb_error_nomem(err, RB_STAGE_DESERIALIZE, "Avro value");
    }
    avro_reader_t reader = avro_reader_memory(data, (int64_t)len);
    if (!reader)
        rc = rb_error_nomem(err, RB_STAGE_DESERIALIZE, "Avro reader");
    else if (avro_value_read(reader, &v) != 0)
        rc = rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                          "Avro value of %zu bytes does not read with %s: %s", len, s->origin,
                          avro_strerror());
    if (reader) avro_reader_free(reader);
    rb_avro_lib_unlock();
    if (rc == 0) {
        walk w = {.s = s, .out = out, .err = err};
        rc = write_value(&w, &v, (rb_avro_node){rb_json_doc_root(s->json), ""});
    }
    /* The value's release touches the class's reference count too. */
    rb_avro_lib_lock();
    avro_value_decref(&v);
    rb_avro_lib_unlock();
    return rc;
}
