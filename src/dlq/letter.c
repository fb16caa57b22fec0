/* letter.c -- a dead letter's context headers; see letter.h. */
#include "dlq/letter.h"

#include <stdlib.h>
#include <string.h>

static bool get(const rb_dlq_record *rec, const char *name, char *buf, size_t size) {
    return rb_dlq_header(rec, name, buf, size) != NULL;
}

static int64_t get_number(const rb_dlq_record *rec, const char *name, bool *seen) {
    char buf[32];
    if (!get(rec, name, buf, sizeof buf)) return -1;
    *seen = true;
    char *end = NULL;
    long long v = strtoll(buf, &end, 10);
    return end != buf && *end == '\0' && v >= 0 ? (int64_t)v : -1;
}

void rb_dlq_letter_read(const rb_dlq_record *rec, rb_dlq_letter *l) {
    memset(l, 0, sizeof *l);
    bool seen = false;
    seen |= get(rec, "ragbatch.error.stage", l->stage, sizeof l->stage) ||
            get(rec, "__connect.errors.stage", l->stage, sizeof l->stage);
    seen |= get(rec, "__connect.errors.exception.class.name", l->cls, sizeof l->cls);
    seen |= get(rec, "__connect.errors.exception.message", l->message, sizeof l->message);
    l->has_path = get(rec, "ragbatch.error.path", l->path, sizeof l->path);
    seen |= l->has_path;
    seen |= get(rec, "__connect.errors.topic", l->topic, sizeof l->topic);
    l->partition = (int32_t)get_number(rec, "__connect.errors.partition", &seen);
    l->offset = get_number(rec, "__connect.errors.offset", &seen);
    char t[8];
    l->truncated = get(rec, "ragbatch.error.value.truncated", t, sizeof t) &&
                   strcmp(t, "true") == 0;
    l->has_context = seen;
}
