/*
 * avro_value.c -- an Avro value (the body of a Schema Registry frame) as
 * the event or change event it holds (decode.h, "avro").
 */
#include "decode/decode_internal.h"

#include "avro/avro.h"
#include "common/buf.h"

#include <string.h>

int rb_decode_avro(const rb_decode_spec *spec, const rb_avro_schema *schema, const char *body,
                   size_t len, const char *key, size_t key_len, rb_decoded *out, rb_error *err) {
    memset(out, 0, sizeof *out);
    out->event_time_ms = -1;
    bool change = rb_avro_schema_is_change_event(schema);
    if (spec->format == RB_FORMAT_DEBEZIUM && !change)
        return rb_error_set(err, RB_ERR_JSON, RB_STAGE_DESERIALIZE,
                            "not a Debezium change event (source.value.format = debezium): the "
                            "value's Avro schema has no fields %s",
                            "'op', 'source' and 'before'/'after'");
    rb_buf text;
    rb_buf_init(&text);
    if (rb_avro_to_json(schema, body, len, &text, err) != 0) {
        rb_buf_free(&text);
        return -1;
    }
    /* The JSON it makes is read as the JSON formats read theirs; the schema
     * has already said which one it is, so nothing is guessed. */
    rb_decode_spec as = *spec;
    as.format = change ? RB_FORMAT_DEBEZIUM : RB_FORMAT_JSON;
    int rc = rb_decode_value(&as, text.data ? text.data : "", text.len, key, key_len, out, err);
    rb_buf_free(&text);
    return rc;
}
