/*
 * debezium.c -- Debezium change events: the operation, the row it carries,
 * and the version its source position gives (decode.h).
 */
#include "decode/decode_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

bool rb_debezium_looks_like(const rb_json *obj) {
    if (!obj || obj->type != RB_JSON_OBJECT || !rb_json_get(obj, "op")) return false;
    return rb_json_get(obj, "before") || rb_json_get(obj, "after");
}

static bool nonneg_int(const rb_json *v, int64_t *out) {
    if (!v || v->type != RB_JSON_NUMBER || !v->is_integer || v->integer < 0) return false;
    *out = v->integer;
    return true;
}

/* "mysql-bin.000042" -> 42: the binlog files of one server are numbered
 * in the order they are written. */
static bool binlog_sequence(const char *file, int64_t *seq) {
    const char *end = file + strlen(file), *p = end;
    while (p > file && p[-1] >= '0' && p[-1] <= '9') p--;
    if (p == end || end - p > 9) return false;
    int64_t n = 0;
    for (; p < end; p++) n = n * 10 + (*p - '0');
    *seq = n;
    return true;
}

int rb_debezium_version(const rb_json *event, int64_t *version, int64_t *event_time_ms,
                        rb_error *err) {
    const rb_json *src = rb_json_get(event, "source");
    int64_t v, pos, seq;
    *event_time_ms = -1;
    if (nonneg_int(rb_json_get(src, "ts_ms"), &v) || nonneg_int(rb_json_get(event, "ts_ms"), &v))
        *event_time_ms = v;
    const rb_json *lsn = rb_json_get(src, "lsn");
    if (lsn && lsn->type != RB_JSON_NULL) {
        if (!nonneg_int(lsn, version))
            return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                                "change event field 'source.lsn' is not a non-negative integer");
        return 0;
    }
    const char *file = rb_json_string(rb_json_get(src, "file"));
    if (file && file[0]) {
        if (!binlog_sequence(file, &seq) || !nonneg_int(rb_json_get(src, "pos"), &pos) ||
            pos > (int64_t)UINT32_MAX)
            return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                                "change event fields 'source.file' ('%s') and 'source.pos' do "
                                "not make a binlog position (a numbered file, a position "
                                "below 2^32)",
                                file);
        *version = (seq << 32) | pos;
        return 0;
    }
    /* No log position: the source's clock, at the finest unit given. */
    static const struct {
        const char *name;
        int64_t to_ns;
    } times[] = {{"ts_ns", 1}, {"ts_us", 1000}, {"ts_ms", 1000000}};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
        if (!nonneg_int(rb_json_get(src, times[i].name), &v)) continue;
        if (v > INT64_MAX / times[i].to_ns) break;
        *version = v * times[i].to_ns;
        return 0;
    }
    if (nonneg_int(rb_json_get(event, "ts_ms"), &v) && v <= INT64_MAX / 1000000) {
        *version = v * 1000000;
        return 0;
    }
    return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                        "the change event has no source position to order it by: none of "
                        "'source.lsn', 'source.file' + 'source.pos', 'source.ts_ms', 'ts_ms'");
}

static const char *table_of(const rb_json *event) {
    const char *t = rb_json_string(rb_json_get_path(event, "source.table"));
    return t ? t : "?";
}

/* The id of a delete: from "before" when it holds the id fields, else
 * from the key. */
static int delete_id(const rb_decode_spec *spec, const rb_json *before, const char *key,
                     size_t key_len, char **id, rb_error *err) {
    if (!spec->id_from_key && before && before->type == RB_JSON_OBJECT) {
        bool all = true;
        for (size_t i = 0; i < spec->id_field_count && all; i++) {
            const rb_json *v = rb_json_get_path(before, spec->id_fields[i]);
            all = v && v->type != RB_JSON_NULL;
        }
        if (all)
            return rb_decode_fields_id(before, spec->id_fields, spec->id_field_count,
                                       "document.id.field", id, err);
    }
    if (!key || key_len == 0)
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                            "delete (op 'd') whose 'before' does not hold the id field '%s' "
                            "(document.id.field) and that has no Kafka key",
                            spec->id_fields[0]);
    if (rb_decode_key_id(spec, key, key_len, true, id, err) != 0) {
        err->stage = RB_STAGE_TRANSFORM;
        return -1;
    }
    return 0;
}

int rb_debezium_decode(const rb_decode_spec *spec, const rb_json *event, const rb_json *schema,
                       const char *key, size_t key_len, rb_decoded *out, rb_error *err) {
    const rb_json *opv = rb_json_get(event, "op");
    const char *op = rb_json_string(opv);
    if (!op)
        return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                            "not a Debezium change event: field 'op' is %s; expected a string",
                            opv ? rb_json_type_name(opv->type) : "missing");
    if (!rb_json_get(event, "source") && !rb_json_get(event, "ts_ms"))
        return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                            "not a Debezium change event: it has 'op' but neither 'source' nor "
                            "'ts_ms' (set source.value.format = json if 'op' is an event field)");
    out->is_change = true;
    if (strcmp(op, "t") == 0 || strcmp(op, "m") == 0)
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                            "%s event (op '%s') of table '%s' is not applied: which documents "
                            "the table held is not known here (leave 't' and 'm' in the "
                            "connector's skipped.operations, and re-snapshot instead)",
                            op[0] == 't' ? "a truncate" : "a logical decoding message", op,
                            table_of(event));
    bool upsert = strcmp(op, "c") == 0 || strcmp(op, "r") == 0 || strcmp(op, "u") == 0;
    if (!upsert && strcmp(op, "d") != 0)
        return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                            "change event field 'op' is '%s'; expected c, r, u, d (or t, m)", op);
    if (rb_debezium_version(event, &out->version, &out->event_time_ms, err) != 0) return -1;
    out->has_version = true;
    if (upsert) {
        const rb_json *after = rb_json_get(event, "after");
        if (!after || after->type != RB_JSON_OBJECT)
            return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                                "change event (op '%s') field 'after' is %s; expected the row", op,
                                after ? rb_json_type_name(after->type) : "missing");
        if (rb_decode_row(after, rb_decode_field_schema(schema, "after"), &out->doc, err) != 0)
            return -1;
        out->row = rb_json_doc_root(out->doc);
        if (spec->id_from_key) return rb_decode_key_id(spec, key, key_len, false, &out->id, err);
        if (spec->id_field_count > 1)
            return rb_decode_fields_id(out->row, spec->id_fields, spec->id_field_count,
                                       "document.id.field", &out->id, err);
        return 0;
    }
    out->is_delete = true;
    const rb_json *before = rb_json_get(event, "before");
    if (before && before->type == RB_JSON_OBJECT) {
        if (rb_decode_row(before, rb_decode_field_schema(schema, "before"), &out->doc, err) != 0)
            return -1;
        out->row = rb_json_doc_root(out->doc);
    }
    return delete_id(spec, out->row, key, key_len, &out->id, err);
}
