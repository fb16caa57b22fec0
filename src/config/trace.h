/*
 * trace.h -- what a job's configuration came from, and every problem found
 * on the way: the record `ragbatch check` reports from.
 *
 * A trace is attached to a configuration (rb_job_config.trace, borrowed)
 * before it is loaded.  With a trace, rb_job_config_load(),
 * rb_job_config_set() and rb_job_config_check() do not stop at the first
 * bad line or rule: each problem is recorded as a diagnostic and the work
 * goes on (only a failed allocation still stops it), and each call still
 * returns -1 with the first of its errors in `err`.  Every key that is set
 * records where (file and line, or "--set"), the include line that brought
 * its file in, and the config-provider references of its raw value
 * (`${env:NAME}`, never the value).  A key set in a file and then set again
 * by a file that file includes afterwards is reported as a warning: the
 * line that looks like it wins does not.
 *
 * Ownership: the trace owns every string in it; rb_config_trace_free()
 * releases them.  Pointers returned stay valid until the next record or the
 * free.  Not thread-safe; one trace per configuration.
 */
#ifndef RB_CONFIG_TRACE_H
#define RB_CONFIG_TRACE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum rb_diag_level { RB_DIAG_ERROR = 0, RB_DIAG_WARNING } rb_diag_level;

/* One problem.  `file` is the file it is in ("--set" for an override,
 * "" when none applies), `line` its 1-based line (0: the whole file),
 * `key` the key involved ("" when none) and `msg` the message without the
 * "file:line: " prefix. */
typedef struct rb_diag {
    rb_diag_level level;
    char *file;
    int line;
    char *key;
    char *msg;
} rb_diag;

/* Where one key's effective value came from. */
typedef struct rb_config_origin {
    char *key;           /* the table's name, or "kafka.X" */
    char *file;          /* the file that set it last, or "--set" */
    int line;            /* its line in `file` (0 for --set) */
    char *included_from; /* "FILE:LINE" of the include that read `file`, or NULL */
    char *providers;     /* the raw value's ${...} references, or NULL */
} rb_config_origin;

typedef struct rb_config_trace {
    rb_diag *diags;
    size_t ndiags;
    rb_config_origin *origins;
    size_t norigins;
    bool nomem; /* a record was lost for want of memory */
} rb_config_trace;

void rb_config_trace_init(rb_config_trace *t);
void rb_config_trace_free(rb_config_trace *t);

/* Records a diagnostic; a `msg` that starts with "FILE:LINE: " or "FILE: "
 * for this place has that prefix dropped. */
void rb_config_trace_diag(rb_config_trace *t, rb_diag_level level, const char *file, int line,
                          const char *key, const char *msg);

/* Records that `key` was set at file:line; replaces an earlier origin. */
void rb_config_trace_origin_set(rb_config_trace *t, const char *key, const char *file, int line,
                                const char *included_from, const char *raw_value);

/* The origin of `key`, or NULL when it was never set (its default). */
const rb_config_origin *rb_config_trace_origin(const rb_config_trace *t, const char *key);

/* How many diagnostics of `level` there are. */
size_t rb_config_trace_count(const rb_config_trace *t, rb_diag_level level);

#endif
