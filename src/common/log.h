/*
 * log.h -- structured log lines on stderr, as text (logfmt) or JSON.
 *
 * A logger is a small value owned by whoever runs the job (the runner or a
 * CLI verb) and passed down; there is no global logger.  A NULL logger
 * writes INFO and above as text to stderr.  Lines are written with one
 * fputs() each so that lines from different threads do not interleave.
 * Messages pass through rb_redact (common/redact.h): a credential quoted
 * in a message is written as "***".
 */
#ifndef RB_LOG_H
#define RB_LOG_H

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

/* Initialises `log` with stderr, INFO, text. */
void rb_log_init(rb_log *log);

/* Writes one line: time, level, job, `event` (a short machine-friendly word
 * such as "batch" or "dlq"), and the formatted message. */
void rb_log_write(const rb_log *log, rb_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses "debug", "info", "warn", "error"; returns -1 for anything else. */
int rb_log_level_parse(const char *s, rb_log_level *out);

#endif
