/*
 * log.h -- structured log lines on stderr, as text (logfmt) or JSON.
 *
 * A logger is a small value owned by whoever runs the job (the runner or a
 * CLI verb) and passed down; there is no global logger.  A NULL logger
 * writes INFO and above as text to stderr.  Lines are written with one
 * fputs() each so that lines from different threads do not interleave.
 * Messages and string values pass through rb_redact (common/redact.h): a
 * credential quoted in a line is written as "***".
 *
 * A line is its time, level, the job, an event (a short machine-friendly
 * word such as "batch" or "dlq"), typed fields (rb_log_field) and a free
 * message.  Both formats carry the same fields under the same keys; only
 * the line's own four are named by each format's custom:
 *
 *   JSON (one object per line)       text (logfmt)
 *   "@timestamp": RFC 3339, UTC      the line's first word
 *   "log.level":  "INFO", ...        level=INFO
 *   "job":        job name           job=NAME
 *   "event.action": event            event=EVENT
 *   field keys, numbers as numbers   key=value (quoted when needed)
 *   "message":    the message        msg="..." (last; none when empty)
 *
 * "@timestamp", "log.level", "message" and "event.action" are the Elastic
 * Common Schema's names (what Filebeat, Elastic Agent and the OpenTelemetry
 * collector's ECS mapping read); "error.message" is used for an error's
 * text.  Text values are written bare when they are made of letters,
 * digits and . _ - : / + @ % , and JSON-quoted otherwise, as logfmt
 * parsers read them.
 *
 * RB_LOG_LOGFMT fields hold a logfmt text made by ragbatch itself (a
 * progress summary, the sink's description): text lines write it as it
 * is, JSON lines parse it into one key per pair (a quoted value as a
 * string, a bare number as a number, true/false as booleans); a word that
 * is not key=value goes to the message.
 */
#ifndef RB_LOG_H
#define RB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum rb_log_level {
    RB_LOG_DEBUG = 0,
    RB_LOG_INFO,
    RB_LOG_WARN,
    RB_LOG_ERROR,
    RB_LOG_ALERT /* a condition an operator's log alert should fire on */
} rb_log_level;

typedef enum rb_log_format { RB_LOG_TEXT = 0, RB_LOG_JSON } rb_log_format;

typedef struct rb_log {
    FILE *out;        /* NULL means stderr */
    rb_log_level min; /* lines below this level are dropped */
    rb_log_format format;
    const char *job; /* job name added to every line, or NULL */
} rb_log;

typedef enum rb_log_type {
    RB_LOG_T_STR = 0,
    RB_LOG_T_INT,
    RB_LOG_T_UINT,
    RB_LOG_T_NUM,
    RB_LOG_T_BOOL,
    RB_LOG_T_LOGFMT
} rb_log_type;

/* One field.  Strings are borrowed for the call; a NULL string is left
 * out of the line. */
typedef struct rb_log_field {
    const char *key;
    rb_log_type type;
    const char *s;
    int64_t i;
    uint64_t u;
    double d;
    bool b;
} rb_log_field;

#define RB_LOG_S(k, v) ((rb_log_field){.key = (k), .type = RB_LOG_T_STR, .s = (v)})
#define RB_LOG_I(k, v) ((rb_log_field){.key = (k), .type = RB_LOG_T_INT, .i = (int64_t)(v)})
#define RB_LOG_U(k, v) ((rb_log_field){.key = (k), .type = RB_LOG_T_UINT, .u = (uint64_t)(v)})
#define RB_LOG_D(k, v) ((rb_log_field){.key = (k), .type = RB_LOG_T_NUM, .d = (double)(v)})
#define RB_LOG_B(k, v) ((rb_log_field){.key = (k), .type = RB_LOG_T_BOOL, .b = (v)})
#define RB_LOG_LOGFMT(v) ((rb_log_field){.key = "", .type = RB_LOG_T_LOGFMT, .s = (v)})
/* The array and count arguments of rb_log_kv() from a list of fields. */
#define RB_LOG_FIELDS(...)                                                                        \
    ((const rb_log_field[]){__VA_ARGS__}),                                                        \
        (sizeof((const rb_log_field[]){__VA_ARGS__}) / sizeof(rb_log_field))

/* Initialises `log` with stderr, INFO, text. */
void rb_log_init(rb_log *log);

/* Writes one line: the `n` fields, then the message (printf-formatted;
 * NULL or "" for none). */
void rb_log_kv(const rb_log *log, rb_log_level level, const char *event,
               const rb_log_field *fields, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* A line with a message and no fields. */
void rb_log_write(const rb_log *log, rb_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int rb_log_level_parse(const char *s, rb_log_level *out);

#endif
