#include "common/error.h"

#include "common/redact.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int error_vset(rb_error *err, rb_code code, rb_stage stage, bool retriable, const char *fmt,
                      va_list ap) {
    if (!err) return -1;
    err->code = code;
    err->stage = stage;
    err->retriable = retriable;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    /* Messages quote what libraries and servers say, URIs included: no
     * credential leaves an error. */
    rb_redact_in_place(err->msg, sizeof err->msg);
    return -1;
}

int rb_error_set(rb_error *err, rb_code code, rb_stage stage, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, stage, false, fmt, ap);
    va_end(ap);
    return -1;
}

int rb_error_set_retriable(rb_error *err, rb_code code, rb_stage stage, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, stage, true, fmt, ap);
    va_end(ap);
    return -1;
}

int rb_error_prefix(rb_error *err, const char *fmt, ...) {
    if (!err) return -1;
    char prefix[RB_ERROR_MSG_MAX];
    char old[RB_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    rb_redact_in_place(err->msg, sizeof err->msg);
    return -1;
}

void rb_error_clear(rb_error *err) {
    if (!err) return;
    err->code = RB_OK;
    err->stage = RB_STAGE_NONE;
    err->retriable = false;
    err->msg[0] = '\0';
}

int rb_error_nomem(rb_error *err, rb_stage stage, const char *what) {
    return rb_error_set(err, RB_ERR_NOMEM, stage, "out of memory while allocating %s", what);
}

const char *rb_code_name(rb_code code) {
    switch (code) {
    case RB_OK: return "ok";
    case RB_ERR_ARG: return "argument";
    case RB_ERR_CONFIG: return "config";
    case RB_ERR_IO: return "io";
    case RB_ERR_NOMEM: return "nomem";
    case RB_ERR_JSON: return "json";
    case RB_ERR_SCHEMA: return "schema";
    case RB_ERR_TRANSFORM: return "transform";
    case RB_ERR_MODEL: return "model";
    case RB_ERR_EMBED: return "embed";
    case RB_ERR_KAFKA: return "kafka";
    case RB_ERR_MONGO: return "mongo";
    case RB_ERR_HTTP: return "http";
    case RB_ERR_INTERNAL: return "internal";
    }
    return "unknown";
}

const char *rb_stage_name(rb_stage stage) {
    switch (stage) {
    case RB_STAGE_NONE: return "none";
    case RB_STAGE_CONFIG: return "config";
    case RB_STAGE_SOURCE: return "source";
    case RB_STAGE_DESERIALIZE: return "deserialize";
    case RB_STAGE_VALIDATE: return "validate";
    case RB_STAGE_TRANSFORM: return "transform";
    case RB_STAGE_EMBED: return "embed";
    case RB_STAGE_SINK: return "sink";
    case RB_STAGE_DLQ: return "dlq";
    case RB_STAGE_COMMIT: return "commit";
    }
    return "unknown";
}
