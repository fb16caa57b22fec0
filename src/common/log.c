#include "common/log.h"

#include "common/buf.h"
#include "common/redact.h"
#include "common/rfc3339.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Longest message or string value kept, after redaction. */
#define VALUE_MAX 4096

static const char *level_name(rb_log_level level) {
    switch (level) {
    case RB_LOG_DEBUG: return "DEBUG";
    case RB_LOG_INFO: return "INFO";
    case RB_LOG_WARN: return "WARN";
    case RB_LOG_ERROR: return "ERROR";
    case RB_LOG_ALERT: return "ALERT";
    }
    return "INFO";
}

void rb_log_init(rb_log *log) {
    log->out = NULL;
    log->min = RB_LOG_INFO;
    log->format = RB_LOG_TEXT;
    log->job = NULL;
}

int rb_log_level_parse(const char *s, rb_log_level *out) {
    static const struct {
        const char *name;
        rb_log_level level;
    } names[] = {{"debug", RB_LOG_DEBUG},
                 {"info", RB_LOG_INFO},
                 {"warn", RB_LOG_WARN},
                 {"error", RB_LOG_ERROR}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

/* A value logfmt readers take without quotes. */
static bool bare(const char *s) {
    if (!*s) return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("._-:/+@%,", *p)) return false;
    return true;
}

static void text_value(rb_buf *b, const char *s) {
    if (bare(s))
        rb_buf_puts(b, s);
    else
        rb_buf_json_string(b, s, strlen(s));
}

/* A double as JSON allows (no NaN or infinity: null) and logfmt reads. */
static void put_double(rb_buf *b, double d, bool json) {
    if (!isfinite(d))
        rb_buf_puts(b, json ? "null" : "NaN");
    else
        rb_buf_printf(b, "%.6g", d);
}

/* ---- logfmt fields of ragbatch's own making, into JSON ------------------ */

/* Whether `s` (`n` bytes) is a whole JSON number. */
static bool is_number(const char *s, size_t n) {
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) return false;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!(isdigit((unsigned char)tmp[0]) || (tmp[0] == '-' && isdigit((unsigned char)tmp[1]))))
        return false;
    if (tmp[0] == '0' && isdigit((unsigned char)tmp[1])) return false;
    char *end = NULL;
    double d = strtod(tmp, &end);
    return *end == '\0' && isfinite(d) && !strpbrk(tmp, "xXpPiInN");
}

/* The end of the JSON string that starts at `q` (its opening quote), or
 * NULL when it is not closed. */
static const char *string_end(const char *q) {
    for (const char *p = q + 1; *p; p++) {
        if (*p == '\\' && p[1])
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* Appends the pairs of `text` to the JSON object in `b`; words that are
 * not pairs go to `rest`. */
static void logfmt_to_json(rb_buf *b, const char *text, rb_buf *rest) {
    const char *p = text;
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *word = p, *eq = NULL;
        while (*p && *p != ' ' && *p != '=' && *p != '"') p++;
        if (*p == '=' && p > word) eq = p;
        if (!eq) {
            /* Not a pair: the word (a quoted one whole) joins the message. */
            p = word;
            if (*p == '"') {
                const char *e = string_end(p);
                p = e ? e : p + strlen(p);
            }
            while (*p && *p != ' ') p++;
            if (rest->len) rb_buf_putc(rest, ' ');
            rb_buf_append(rest, word, (size_t)(p - word));
            continue;
        }
        rb_buf_putc(b, ',');
        rb_buf_json_string(b, word, (size_t)(eq - word));
        rb_buf_putc(b, ':');
        const char *v = eq + 1;
        if (*v == '"') {
            const char *e = string_end(v);
            if (e) {
                rb_buf_append(b, v, (size_t)(e - v)); /* already a JSON string */
                p = e;
                continue;
            }
        }
        p = v;
        while (*p && *p != ' ') p++;
        size_t n = (size_t)(p - v);
        if (is_number(v, n) || (n == 4 && strncmp(v, "true", 4) == 0) ||
            (n == 5 && strncmp(v, "false", 5) == 0))
            rb_buf_append(b, v, n);
        else
            rb_buf_json_string(b, v, n);
    }
}

/* ---- lines -------------------------------------------------------------- */

static void put_field(rb_buf *b, const rb_log_field *f, bool json, rb_buf *rest) {
    char shown[VALUE_MAX];
    if ((f->type == RB_LOG_T_STR || f->type == RB_LOG_T_LOGFMT) && !f->s) return;
    if (f->type == RB_LOG_T_STR || f->type == RB_LOG_T_LOGFMT)
        rb_redact_to(shown, sizeof shown, f->s);
    if (f->type == RB_LOG_T_LOGFMT) {
        if (json) {
            logfmt_to_json(b, shown, rest);
        } else if (shown[0]) {
            rb_buf_putc(b, ' ');
            rb_buf_puts(b, shown);
        }
        return;
    }
    if (json) {
        rb_buf_putc(b, ',');
        rb_buf_json_string(b, f->key, strlen(f->key));
        rb_buf_putc(b, ':');
    } else {
        rb_buf_printf(b, " %s=", f->key);
    }
    switch (f->type) {
    case RB_LOG_T_STR:
        if (json)
            rb_buf_json_string(b, shown, strlen(shown));
        else
            text_value(b, shown);
        break;
    case RB_LOG_T_INT: rb_buf_printf(b, "%" PRId64, f->i); break;
    case RB_LOG_T_UINT: rb_buf_printf(b, "%" PRIu64, f->u); break;
    case RB_LOG_T_NUM: put_double(b, f->d, json); break;
    case RB_LOG_T_BOOL: rb_buf_puts(b, f->b ? "true" : "false"); break;
    case RB_LOG_T_LOGFMT: break;
    }
}

static void write_line(const rb_log *log, rb_log_level level, const char *event,
                       const rb_log_field *fields, size_t n, const char *fmt, va_list ap) {
    rb_log fallback;
    if (!log) {
        rb_log_init(&fallback);
        log = &fallback;
    }
    if (level < log->min) return;

    char raw[VALUE_MAX] = "", msg[VALUE_MAX] = "";
    if (fmt) vsnprintf(raw, sizeof raw, fmt, ap);
    /* Every line passes here, librdkafka's and libmongoc's included. */
    rb_redact_to(msg, sizeof msg, raw);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[RB_RFC3339_SIZE];
    rb_rfc3339_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000L, when);

    bool json = log->format == RB_LOG_JSON;
    rb_buf line, rest;
    rb_buf_init(&line);
    rb_buf_init(&rest);
    if (json) {
        rb_buf_printf(&line, "{\"@timestamp\":\"%s\",\"log.level\":\"%s\"", when,
                      level_name(level));
        if (log->job) {
            rb_buf_puts(&line, ",\"job\":");
            rb_buf_json_string(&line, log->job, strlen(log->job));
        }
        rb_buf_puts(&line, ",\"event.action\":");
        rb_buf_json_string(&line, event, strlen(event));
    } else {
        rb_buf_printf(&line, "%s level=%s", when, level_name(level));
        if (log->job) {
            rb_buf_puts(&line, " job=");
            text_value(&line, log->job);
        }
        rb_buf_printf(&line, " event=%s", event);
    }
    for (size_t i = 0; i < n; i++) put_field(&line, &fields[i], json, &rest);
    if (rest.len && msg[0]) rb_buf_putc(&rest, ' ');
    rb_buf_puts(&rest, msg);
    if (json) {
        if (rest.len) {
            rb_buf_puts(&line, ",\"message\":");
            rb_buf_json_string(&line, rest.data, rest.len);
        }
        rb_buf_puts(&line, "}\n");
    } else {
        if (rest.len) {
            rb_buf_puts(&line, " msg=");
            rb_buf_json_string(&line, rest.data, rest.len);
        }
        rb_buf_putc(&line, '\n');
    }
    if (line.data) fputs(line.data, log->out ? log->out : stderr);
    rb_buf_free(&line);
    rb_buf_free(&rest);
}

void rb_log_kv(const rb_log *log, rb_log_level level, const char *event,
               const rb_log_field *fields, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line(log, level, event, fields, n, fmt, ap);
    va_end(ap);
}

void rb_log_write(const rb_log *log, rb_log_level level, const char *event, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_line(log, level, event, NULL, 0, fmt, ap);
    va_end(ap);
}
