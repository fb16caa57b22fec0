/* trace.c -- origins and diagnostics of a configuration; see trace.h. */
#include "config/trace.h"

#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rb_config_trace_init(rb_config_trace *t) { memset(t, 0, sizeof *t); }

static void origin_free(rb_config_origin *o) {
    free(o->key);
    free(o->file);
    free(o->included_from);
    free(o->providers);
}

void rb_config_trace_free(rb_config_trace *t) {
    if (!t) return;
    for (size_t i = 0; i < t->ndiags; i++) {
        free(t->diags[i].file);
        free(t->diags[i].key);
        free(t->diags[i].msg);
    }
    free(t->diags);
    for (size_t i = 0; i < t->norigins; i++) origin_free(&t->origins[i]);
    free(t->origins);
    memset(t, 0, sizeof *t);
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

/* `msg` without a leading "FILE:LINE: " or "FILE: " naming this place. */
static const char *strip_place(const char *msg, const char *file, int line) {
    size_t n = strlen(file);
    if (n == 0 || strncmp(msg, file, n) != 0) return msg;
    const char *p = msg + n;
    if (line > 0) {
        char num[24];
        int w = snprintf(num, sizeof num, ":%d", line);
        if (w > 0 && strncmp(p, num, (size_t)w) == 0) p += w;
    }
    return strncmp(p, ": ", 2) == 0 ? p + 2 : msg;
}

void rb_config_trace_diag(rb_config_trace *t, rb_diag_level level, const char *file, int line,
                          const char *key, const char *msg) {
    if (!t) return;
    file = file ? file : "";
    rb_diag *grown = realloc(t->diags, (t->ndiags + 1) * sizeof *grown);
    if (!grown) {
        t->nomem = true;
        return;
    }
    t->diags = grown;
    rb_diag d = {level, dup_or_empty(file), line, dup_or_empty(key),
                 dup_or_empty(strip_place(msg, file, line))};
    if (!d.file || !d.key || !d.msg) {
        free(d.file);
        free(d.key);
        free(d.msg);
        t->nomem = true;
        return;
    }
    t->diags[t->ndiags++] = d;
}

/* The ${...} references of a raw value, comma-separated, or NULL when it
 * has none ($${ is a literal, not a reference). */
static char *references(const char *raw) {
    rb_buf b;
    rb_buf_init(&b);
    for (const char *p = raw; p && (p = strstr(p, "${")) != NULL;) {
        if (p > raw && p[-1] == '$') {
            p += 2;
            continue;
        }
        const char *end = strchr(p, '}');
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        if ((b.len && rb_buf_puts(&b, ", ") != 0) || rb_buf_append(&b, p, n) != 0) {
            rb_buf_free(&b);
            return NULL;
        }
        p += n;
    }
    if (b.len == 0) {
        rb_buf_free(&b);
        return NULL;
    }
    return rb_buf_detach(&b);
}

void rb_config_trace_origin_set(rb_config_trace *t, const char *key, const char *file, int line,
                                const char *included_from, const char *raw_value) {
    if (!t) return;
    rb_config_origin o = {strdup(key), strdup(file), line,
                          included_from ? strdup(included_from) : NULL, references(raw_value)};
    if (!o.key || !o.file || (included_from && !o.included_from)) {
        origin_free(&o);
        t->nomem = true;
        return;
    }
    for (size_t i = 0; i < t->norigins; i++) {
        if (strcmp(t->origins[i].key, key) == 0) {
            origin_free(&t->origins[i]);
            t->origins[i] = o;
            return;
        }
    }
    rb_config_origin *grown = realloc(t->origins, (t->norigins + 1) * sizeof *grown);
    if (!grown) {
        origin_free(&o);
        t->nomem = true;
        return;
    }
    t->origins = grown;
    t->origins[t->norigins++] = o;
}

const rb_config_origin *rb_config_trace_origin(const rb_config_trace *t, const char *key) {
    for (size_t i = 0; t && i < t->norigins; i++)
        if (strcmp(t->origins[i].key, key) == 0) return &t->origins[i];
    return NULL;
}

size_t rb_config_trace_count(const rb_config_trace *t, rb_diag_level level) {
    size_t n = 0;
    for (size_t i = 0; t && i < t->ndiags; i++) n += t->diags[i].level == level;
    return n;
}
