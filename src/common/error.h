/*
 * error.h -- the one error type of ragbatch.
 *
 * Every fallible function returns int (0 on success, -1 on failure) and
 * takes an `rb_error *err` as its last argument, which it fills on failure.
 * An error carries a code (what kind of failure), the pipeline stage it
 * happened in, whether retrying the same operation may succeed, and a
 * message written for the user: it names the file, line, key, topic,
 * partition or offset involved, and what to do about it where that is known.
 *
 * Errors of librdkafka, libmongoc, libcurl and the C library are converted
 * into an rb_error where those libraries are called, so their types never
 * leak into other modules.  `err` may be NULL when the caller does not care.
 * Every message is passed through rb_redact (common/redact.h) when it is
 * set or prefixed, so no credential that a library or a server quotes (a
 * URI with its password, a token) reaches a log line or an exit message.
 */
#ifndef RB_ERROR_H
#define RB_ERROR_H

#include <stdbool.h>
#include <stddef.h>

typedef enum rb_code {
    RB_OK = 0,
    RB_ERR_ARG,       /* bad argument or command line */
    RB_ERR_CONFIG,    /* job file or configuration value */
    RB_ERR_IO,        /* file system */
    RB_ERR_NOMEM,     /* allocation failed */
    RB_ERR_JSON,      /* malformed JSON or UTF-8 */
    RB_ERR_SCHEMA,    /* event does not satisfy the schema, or bad schema */
    RB_ERR_TRANSFORM, /* document could not be built from the event */
    RB_ERR_MODEL,     /* model files missing or inconsistent */
    RB_ERR_EMBED,     /* embedding provider failed */
    RB_ERR_KAFKA,     /* broker or client failure */
    RB_ERR_MONGO,     /* MongoDB failure */
    RB_ERR_HTTP,      /* HTTP transport failure */
    RB_ERR_INTERNAL   /* a bug in ragbatch */
} rb_code;

typedef enum rb_stage {
    RB_STAGE_NONE = 0,
    RB_STAGE_CONFIG,
    RB_STAGE_SOURCE,
    RB_STAGE_DESERIALIZE,
    RB_STAGE_VALIDATE,
    RB_STAGE_TRANSFORM,
    RB_STAGE_EMBED,
    RB_STAGE_SINK,
    RB_STAGE_DLQ,
    RB_STAGE_COMMIT
} rb_stage;

#define RB_ERROR_MSG_MAX 1024

typedef struct rb_error {
    rb_code code;
    rb_stage stage;
    bool retriable; /* the same call may succeed later */
    char msg[RB_ERROR_MSG_MAX];
} rb_error;

/* Fills `err` (if not NULL) and returns -1, so that callers can write
 * `return rb_error_set(err, ...)`.  The message is printf-formatted and
 * truncated to RB_ERROR_MSG_MAX - 1 bytes. */
int rb_error_set(rb_error *err, rb_code code, rb_stage stage, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* As rb_error_set, and marks the error retriable. */
int rb_error_set_retriable(rb_error *err, rb_code code, rb_stage stage, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prefixes the message with context ("while writing batch 3: ..."),
 * keeping code, stage and retriable.  Returns -1. */
int rb_error_prefix(rb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets to RB_OK with an empty message. */
void rb_error_clear(rb_error *err);

/* Reports an allocation failure; returns -1. */
int rb_error_nomem(rb_error *err, rb_stage stage, const char *what);

const char *rb_code_name(rb_code code);    /* "config", "kafka", ... */
const char *rb_stage_name(rb_stage stage); /* "validate", "sink", ... */

#endif
