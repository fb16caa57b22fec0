#include "common/log.h"

#include "common/buf.h"
#include "common/redact.h"
#include "common/rfc3339.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

void rb_log_write(const rb_log *log, rb_log_level level, const char *event, const char *fmt, ...) {
    rb_log fallback;
    if (!log) {
        rb_log_init(&fallback);
        log = &fallback;
    }
    if (level < log->min) return;

    char raw[4096], msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    /* Every line passes here, librdkafka's and libmongoc's included. */
    rb_redact_to(msg, sizeof msg, raw);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[RB_RFC3339_SIZE];
    rb_rfc3339_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000L, when);

    rb_buf line;
    rb_buf_init(&line);
    if (log->format == RB_LOG_JSON) {
        rb_buf_printf(&line, "{\"ts\":\"%s\",\"level\":\"%s\"", when, level_name(level));
        if (log->job) {
            rb_buf_puts(&line, ",\"job\":");
            rb_buf_json_string(&line, log->job, strlen(log->job));
        }
        rb_buf_puts(&line, ",\"event\":");
        rb_buf_json_string(&line, event, strlen(event));
        rb_buf_puts(&line, ",\"msg\":");
        rb_buf_json_string(&line, msg, strlen(msg));
        rb_buf_puts(&line, "}\n");
    } else {
        rb_buf_printf(&line, "%s level=%s", when, level_name(level));
        if (log->job) rb_buf_printf(&line, " job=%s", log->job);
        rb_buf_printf(&line, " event=%s %s\n", event, msg);
    }
    if (line.data) fputs(line.data, log->out ? log->out : stderr);
    rb_buf_free(&line);
}
