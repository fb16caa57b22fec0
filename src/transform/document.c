#include "transform/document.h"

#include "common/buf.h"
#include "common/rfc3339.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int derive_id(const rb_document_spec *spec, const rb_json *event, char **out,
                     rb_error *err) {
    const rb_json *v = rb_json_get_path(event, spec->id_field);
    if (!v || v->type == RB_JSON_NULL)
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                            "id field '%s' (document.id.field) is missing", spec->id_field);
    if (v->type == RB_JSON_STRING) {
        if (v->str_len == 0)
            return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                                "id field '%s' is an empty string", spec->id_field);
        *out = strdup(v->str);
    } else if (v->type == RB_JSON_NUMBER && v->is_integer) {
        /* Stored as its digits, like every _id a string (document.h). */
        char digits[32];
        snprintf(digits, sizeof digits, "%" PRId64, v->integer);
        *out = strdup(digits);
    } else {
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                            "id field '%s' is a %s; expected a string or an integer",
                            spec->id_field, rb_json_type_name(v->type));
    }
    return *out ? 0 : rb_error_nomem(err, RB_STAGE_TRANSFORM, "document id");
}

static bool is_delete_event(const rb_document_spec *spec, const rb_json *event) {
    const char *op = rb_json_string(rb_json_get_path(event, spec->op_field));
    if (!op) return false;
    for (size_t i = 0; i < spec->delete_value_count; i++)
        if (strcmp(op, spec->delete_values[i]) == 0) return true;
    return false;
}

int rb_document_derive(const rb_document_spec *spec, const rb_json *event, rb_document_fields *out,
                       rb_error *err) {
    rb_document_given none = {.event_time_ms = -1};
    return rb_document_derive_given(spec, event, &none, out, err);
}

int rb_document_derive_given(const rb_document_spec *spec, const rb_json *event,
                             rb_document_given *given, rb_document_fields *out, rb_error *err) {
    memset(out, 0, sizeof *out);
    out->event_time_ms = -1;
    out->id = given->id;
    given->id = NULL;
    if (!event && out->id && given->has_op && given->is_delete && given->has_version) {
        out->is_delete = true;
        out->version = given->version;
        out->event_time_ms = given->event_time_ms;
        return 0;
    }
    if (!event || event->type != RB_JSON_OBJECT) {
        rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                     "the event is a %s; expected an object",
                     event ? rb_json_type_name(event->type) : "nothing");
        goto fail;
    }
    if (!out->id && derive_id(spec, event, &out->id, err) != 0) return -1;

    const rb_json *t = spec->time_field[0] ? rb_json_get_path(event, spec->time_field) : NULL;
    if (t && t->type != RB_JSON_NULL) {
        if (t->type != RB_JSON_STRING || rb_rfc3339_parse(t->str, &out->event_time_ms) != 0) {
            rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                         "time field '%s' is not an RFC 3339 date-time", spec->time_field);
            goto fail;
        }
    }
    const rb_json *v = spec->version_field[0] && !given->has_version
                           ? rb_json_get_path(event, spec->version_field)
                           : NULL;
    if (given->has_version) {
        out->version = given->version;
    } else if (v && v->type != RB_JSON_NULL) {
        /* JSON Schema counts 3.0 as an integer, so this does too. */
        bool integral = v->type == RB_JSON_NUMBER &&
                        (v->is_integer || (v->number == floor(v->number) && v->number >= 0 &&
                                           v->number < 9007199254740992.0));
        if (!integral || (v->is_integer ? v->integer : (int64_t)v->number) < 0) {
            rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                         "version field '%s' is not a non-negative integer", spec->version_field);
            goto fail;
        }
        out->version = v->is_integer ? v->integer : (int64_t)v->number;
    } else if (out->event_time_ms >= 0) {
        out->version = out->event_time_ms;
    } else {
        rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                     "the event has neither a version ('%s') nor an event time ('%s'), so it "
                     "cannot be ordered against the stored document",
                     spec->version_field, spec->time_field);
        goto fail;
    }

    if (out->event_time_ms < 0) out->event_time_ms = given->event_time_ms;
    out->is_delete = given->has_op ? given->is_delete : is_delete_event(spec, event);
    if (out->is_delete) return 0;

    rb_buf text;
    rb_buf_init(&text);
    if (rb_template_render(spec->tpl, event, &text, err) != 0) {
        rb_buf_free(&text);
        goto fail;
    }
    out->text = rb_buf_detach(&text);
    if (!out->text) {
        rb_error_nomem(err, RB_STAGE_TRANSFORM, "document text");
        goto fail;
    }
    rb_text_hash(out->text, strlen(out->text), out->text_hash);
    return 0;
fail:
    rb_document_fields_free(out);
    return -1;
}

void rb_document_fields_free(rb_document_fields *f) {
    free(f->id);
    free(f->text);
    f->id = NULL;
    f->text = NULL;
}
