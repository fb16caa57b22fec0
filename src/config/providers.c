/*
 * providers.c -- ${...} references in job-file values (providers.h).
 */
#include "config/providers.h"

#include "config/properties.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *resolved(const char *base_dir, const char *path, size_t len) {
    rb_buf b;
    rb_buf_init(&b);
    int rc = 0;
    if (path[0] != '/' && base_dir && *base_dir) rc = rb_buf_printf(&b, "%s/", base_dir);
    if (rc == 0) rc = rb_buf_append(&b, path, len);
    if (rc != 0) {
        rb_buf_free(&b);
        return NULL;
    }
    return rb_buf_detach(&b);
}

static int env_ref(const char *name, const char *where, const char *key, rb_buf *out,
                   rb_error *err) {
    const char *env = getenv(name);
    if (!env)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: %s refers to environment variable %s, which is not set", where,
                            key, name);
    return rb_buf_puts(out, env) ? rb_error_nomem(err, RB_STAGE_CONFIG, key) : 0;
}

static int file_ref(const char *path, const char *prop, const char *ref, const char *where,
                    const char *key, rb_buf *out, rb_error *err) {
    rb_properties p;
    if (rb_properties_load(path, &p, err) != 0)
        return rb_error_prefix(err, "%s: %s: ${%s}", where, key, ref);
    const char *v = rb_properties_get(&p, prop);
    int rc = 0;
    if (!v)
        rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "%s: %s: ${%s}: %s has no key '%s'",
                          where, key, ref, path, prop);
    else if (rb_buf_puts(out, v) != 0)
        rc = rb_error_nomem(err, RB_STAGE_CONFIG, key);
    rb_properties_free(&p);
    return rc;
}

static int directory_ref(const char *path, const char *ref, const char *where, const char *key,
                         rb_buf *out, rb_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: %s: ${%s}: cannot read %s: %s", where, key, ref, path,
                            strerror(errno));
    char chunk[4096];
    size_t n, before = out->len;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = rb_buf_append(out, chunk, n);
    fclose(f);
    if (rc != 0) return rb_error_nomem(err, RB_STAGE_CONFIG, key);
    if (memchr(out->data + before, '\0', out->len - before))
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: %s: ${%s}: %s holds a NUL byte", where, key, ref, path);
    return 0;
}

/* One reference, the text between "${" and "}". */
static int reference(const char *ref, const char *base_dir, const char *where, const char *key,
                     rb_buf *out, rb_error *err) {
    const char *colon = strchr(ref, ':');
    if (!colon) return env_ref(ref, where, key, out, err);
    size_t plen = (size_t)(colon - ref);
    const char *rest = colon + 1;
    if (plen == 3 && strncmp(ref, "env", 3) == 0) {
        if (!*rest)
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: %s: ${%s} names no variable", where, key, ref);
        return env_ref(rest, where, key, out, err);
    }
    bool file = plen == 4 && strncmp(ref, "file", 4) == 0;
    bool dir = plen == 9 && strncmp(ref, "directory", 9) == 0;
    if (!file && !dir)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: %s: ${%s}: unknown config provider '%.*s' (known: env, file, "
                            "directory; a literal ${ is written $${)",
                            where, key, ref, (int)plen, ref);
    const char *sep = strchr(rest, ':');
    if (!sep || sep == rest || !sep[1])
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: %s: ${%s}: expected ${%s:PATH:%s}", where, key, ref,
                            file ? "file" : "directory", file ? "KEY" : "FILE");
    char *path = NULL;
    int rc;
    if (file) {
        path = resolved(base_dir, rest, (size_t)(sep - rest));
        rc = path ? file_ref(path, sep + 1, ref, where, key, out, err)
                  : rb_error_nomem(err, RB_STAGE_CONFIG, key);
    } else {
        rb_buf p;
        rb_buf_init(&p);
        char *d = resolved(base_dir, rest, (size_t)(sep - rest));
        if (!d || rb_buf_printf(&p, "%s/%s", d, sep + 1) != 0) {
            free(d);
            rb_buf_free(&p);
            return rb_error_nomem(err, RB_STAGE_CONFIG, key);
        }
        free(d);
        path = rb_buf_detach(&p);
        rc = path ? directory_ref(path, ref, where, key, out, err)
                  : rb_error_nomem(err, RB_STAGE_CONFIG, key);
    }
    free(path);
    return rc;
}

int rb_config_expand(const char *value, const char *base_dir, const char *where, const char *key,
                     rb_buf *out, rb_error *err) {
    rb_buf_reset(out);
    const char *p = value;
    while (*p) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            if (rb_buf_puts(out, "${") != 0) return rb_error_nomem(err, RB_STAGE_CONFIG, key);
            p += 3;
            continue;
        }
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (!close)
                return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                    "%s: %s: '${' without a closing '}' (a literal ${ is "
                                    "written $${)",
                                    where, key);
            size_t n = (size_t)(close - (p + 2));
            if (n == 0 || n >= 4096)
                return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                    "%s: %s: bad reference '${...}'", where, key);
            char *ref = strndup(p + 2, n);
            if (!ref) return rb_error_nomem(err, RB_STAGE_CONFIG, key);
            int rc = reference(ref, base_dir, where, key, out, err);
            free(ref);
            if (rc != 0) return -1;
            p = close + 1;
            continue;
        }
        if (rb_buf_putc(out, *p) != 0) return rb_error_nomem(err, RB_STAGE_CONFIG, key);
        p++;
    }
    if (!out->data && rb_buf_puts(out, "") != 0) return rb_error_nomem(err, RB_STAGE_CONFIG, key);
    return 0;
}
