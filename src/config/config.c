#include "config/config.h"

#include "common/buf.h"
#include "common/redact.h"
#include "common/suggest.h"
#include "config/properties.h"
#include "config/providers.h"
#include "config/config_table.h"
#include "config/trace.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* librdkafka properties that would break the commit rule if a user set
 * them: ragbatch stores and commits offsets itself, after the sink acks. */
static const char *const reserved_kafka_keys[] = {"enable.auto.commit",
                                                  "enable.auto.offset.store"};

#define MAX_INCLUDE_DEPTH 8
#define MAX_LINE_KEYS 512

static void *field_ptr(rb_job_config *cfg, const rb_config_key *k) {
    return (char *)cfg + k->field;
}

static const void *field_cptr(const rb_job_config *cfg, const rb_config_key *k) {
    return (const char *)cfg + k->field;
}

static void strlist_free(rb_strlist *l) {
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

/* Splits "a, b ,c" into trimmed, non-empty items. */
static int strlist_parse(rb_strlist *out, const char *value) {
    rb_strlist l = {NULL, 0};
    char *copy = strdup(value);
    if (!copy) return -1;
    char *p = copy;
    while (p) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        char *item = trim(p);
        if (*item) {
            char **grown = realloc(l.items, (l.count + 1) * sizeof *grown);
            char *dup = grown ? strdup(item) : NULL;
            if (grown) l.items = grown;
            if (!dup) {
                strlist_free(&l);
                free(copy);
                return -1;
            }
            l.items[l.count++] = dup;
        }
        p = comma ? comma + 1 : NULL;
    }
    free(copy);
    strlist_free(out);
    *out = l;
    return 0;
}

static int parse_int(const char *s, int64_t *out) {
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0') return -1;
    *out = (int64_t)v;
    return 0;
}

/* The value of choice key `k` named `name`, or NULL. */
static const rb_config_choice *choice_find(const rb_config_key *k, const char *name) {
    for (const rb_config_choice *c = k->choices; c && c->name; c++)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

/* The names of `k`'s choices joined by `sep`, each in `quote`s: "a|b|c",
 * "none or all", or for Markdown "`a` or `b`" (a bare '|' would split the
 * table cell). */
static void choices_text(char *out, size_t len, const rb_config_key *k, const char *sep,
                         const char *quote) {
    size_t used = 0;
    out[0] = '\0';
    for (const rb_config_choice *c = k->choices; c && c->name && used < len; c++) {
        int w = snprintf(out + used, len - used, "%s%s%s%s", c == k->choices ? "" : sep, quote,
                         c->name, quote);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* Makes `value` absolute against `base_dir` unless it already is. */
static char *resolve_path(const char *base_dir, const char *value) {
    if (value[0] == '\0' || value[0] == '/' || !base_dir || !*base_dir) return strdup(value);
    rb_buf b;
    rb_buf_init(&b);
    if (rb_buf_printf(&b, "%s/%s", base_dir, value) != 0) {
        rb_buf_free(&b);
        return NULL;
    }
    return rb_buf_detach(&b);
}

/* Stores `value` into the field of `k`.  `where` names the place for
 * errors ("jobs/x.job:12"); `base_dir` resolves PATH keys. */
static int key_assign(rb_job_config *cfg, const rb_config_key *k, const char *value,
                      const char *base_dir, const char *where, rb_error *err) {
    void *field = field_ptr(cfg, k);
    switch (k->type) {
    case RB_KEY_CHOICE:
    case RB_KEY_TOLERANCE: {
        const rb_config_choice *c = choice_find(k, value);
        if (!c) {
            /* errors.tolerance is worded as Connect words it. */
            bool connect = k->type == RB_KEY_TOLERANCE;
            char names[256];
            choices_text(names, sizeof names, k, connect ? " or " : "|", "");
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: %s = '%s' is not valid: expected %s%s", where, k->name, value,
                                connect ? "" : "one of ", names);
        }
        *(int *)field = c->value;
        return 0;
    }
    case RB_KEY_STRING:
    case RB_KEY_PATH: {
        char *dup = k->type == RB_KEY_PATH ? resolve_path(base_dir, value) : strdup(value);
        if (!dup) return rb_error_nomem(err, RB_STAGE_CONFIG, k->name);
        char **slot = field;
        free(*slot);
        *slot = dup;
        return 0;
    }
    case RB_KEY_INT: {
        int64_t v;
        if (parse_int(value, &v) != 0)
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: %s = '%s' is not an integer", where, k->name, value);
        if (v < k->min || v > k->max)
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: %s = %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                                where, k->name, v, k->min, k->max);
        *(int64_t *)field = v;
        return 0;
    }
    case RB_KEY_DOUBLE: {
        errno = 0;
        char *end = NULL;
        double v = strtod(value, &end);
        if (errno || end == value || *end != '\0')
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: %s = '%s' is not a number", where, k->name, value);
        if (!(v >= k->dmin && v <= k->dmax))
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: %s = %s is out of range [%g, %g]", where, k->name, value,
                                k->dmin, k->dmax);
        *(double *)field = v;
        return 0;
    }
    case RB_KEY_BOOL:
        if (strcmp(value, "true") == 0) {
            *(bool *)field = true;
        } else if (strcmp(value, "false") == 0) {
            *(bool *)field = false;
        } else {
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: %s = '%s' is not valid: expected true or false", where,
                                k->name, value);
        }
        return 0;
    case RB_KEY_LIST:
        if (strlist_parse(field, value) != 0) return rb_error_nomem(err, RB_STAGE_CONFIG, k->name);
        return 0;
    }
    return rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_CONFIG, "key %s has no type", k->name);
}

/* The key's own name when `name` is an alias of it. */
static const char *canonical_name(const char *name) {
    for (size_t i = 0; i < rb_config_alias_count; i++)
        if (strcmp(rb_config_aliases[i].name, name) == 0) return rb_config_aliases[i].target;
    return name;
}

static const rb_config_key *key_find(const char *name) {
    name = canonical_name(name);
    for (size_t i = 0; i < rb_config_key_count; i++)
        if (strcmp(rb_config_keys[i].name, name) == 0) return &rb_config_keys[i];
    return NULL;
}

/* What ragbatch calls a Kafka Connect or MongoDB sink connector name. */
static const char *foreign_instead(const char *name) {
    for (size_t i = 0; i < rb_config_foreign_count; i++)
        if (strcmp(rb_config_foreign_names[i].name, name) == 0)
            return rb_config_foreign_names[i].instead;
    return NULL;
}

static const char *choice_name(const rb_config_key *k, int value) {
    for (const rb_config_choice *c = k->choices; c && c->name; c++)
        if (c->value == value) return c->name;
    return NULL;
}

const char *rb_config_choice_name(const char *key, int value) {
    const rb_config_key *k = key_find(key);
    return k ? choice_name(k, value) : NULL;
}

bool rb_config_key_known(const char *key) {
    return key_find(key) != NULL || (strncmp(key, "kafka.", 6) == 0 && key[6] != '\0');
}

const char *rb_config_suggest(const char *key) {
    const char *names[256];
    size_t n = rb_config_key_count < 256 ? rb_config_key_count : 256;
    for (size_t i = 0; i < n; i++) names[i] = rb_config_keys[i].name;
    /* A typo changes a few characters; anything further is a different key. */
    size_t limit = strlen(key) / 3;
    return rb_suggest(key, names, n, limit < 2 ? 2 : limit);
}

static int kafka_set(rb_job_config *cfg, const char *prop, const char *value, const char *where,
                     rb_error *err) {
    for (size_t i = 0; i < sizeof reserved_kafka_keys / sizeof reserved_kafka_keys[0]; i++) {
        if (strcmp(prop, reserved_kafka_keys[i]) == 0)
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "%s: kafka.%s cannot be set: ragbatch stores and commits offsets "
                                "itself, only after the batch is acknowledged by MongoDB",
                                where, prop);
    }
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        if (strcmp(cfg->kafka[i].key, prop) == 0) {
            char *dup = strdup(value);
            if (!dup) return rb_error_nomem(err, RB_STAGE_CONFIG, "kafka property");
            free(cfg->kafka[i].value);
            cfg->kafka[i].value = dup;
            return 0;
        }
    }
    rb_kv *grown = realloc(cfg->kafka, (cfg->kafka_count + 1) * sizeof *grown);
    if (!grown) return rb_error_nomem(err, RB_STAGE_CONFIG, "kafka property");
    cfg->kafka = grown;
    char *k = strdup(prop), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return rb_error_nomem(err, RB_STAGE_CONFIG, "kafka property");
    }
    cfg->kafka[cfg->kafka_count].key = k;
    cfg->kafka[cfg->kafka_count].value = v;
    cfg->kafka_count++;
    return 0;
}

static int assign(rb_job_config *cfg, const char *key, const char *raw_value, const char *base_dir,
                  const char *where, rb_error *err) {
    rb_buf value;
    rb_buf_init(&value);
    int rc = rb_config_expand(raw_value, base_dir, where, key, &value, err);
    if (rc == 0) {
        if (strncmp(key, "kafka.", 6) == 0 && key[6] != '\0') {
            rc = kafka_set(cfg, key + 6, value.data, where, err);
        } else {
            const rb_config_key *k = key_find(key);
            if (!k) {
                const char *hint = rb_config_suggest(key);
                const char *instead = foreign_instead(key);
                if (instead)
                    rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                      "%s: unknown key '%s': that is Kafka Connect's (or the "
                                      "MongoDB sink connector's) name; ragbatch's is %s",
                                      where, key, instead);
                else if (hint)
                    rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                      "%s: unknown key '%s' (did you mean '%s'?)", where, key,
                                      hint);
                else
                    rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                      "%s: unknown key '%s' (see `ragbatch config` for the "
                                      "list of keys)",
                                      where, key);
            } else {
                rc = key_assign(cfg, k, value.data, base_dir, where, err);
            }
        }
    }
    rb_buf_free(&value);
    return rc;
}

int rb_job_config_init(rb_job_config *cfg, rb_error *err) {
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < rb_config_key_count; i++) {
        const rb_config_key *k = &rb_config_keys[i];
        if (key_assign(cfg, k, k->def, NULL, "default", err) != 0) {
            rb_job_config_free(cfg);
            return -1;
        }
    }
    return 0;
}

void rb_job_config_free(rb_job_config *cfg) {
    if (!cfg) return;
    for (size_t i = 0; i < rb_config_key_count; i++) {
        const rb_config_key *k = &rb_config_keys[i];
        void *field = field_ptr(cfg, k);
        if (k->type == RB_KEY_STRING || k->type == RB_KEY_PATH) {
            char **slot = field;
            free(*slot);
            *slot = NULL;
        } else if (k->type == RB_KEY_LIST) {
            strlist_free(field);
        }
    }
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        free(cfg->kafka[i].key);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    cfg->kafka = NULL;
    cfg->kafka_count = 0;
    free(cfg->source_file);
    cfg->source_file = NULL;
}

/* -1 with the first error the trace recorded since `before` in `err`, or
 * 0 when there is none. */
static int first_traced_error(const rb_config_trace *t, size_t before, rb_error *err) {
    for (size_t i = before; t && i < t->ndiags; i++) {
        const rb_diag *d = &t->diags[i];
        if (d->level != RB_DIAG_ERROR) continue;
        if (d->line > 0)
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "%s:%d: %s", d->file, d->line,
                                d->msg);
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "%s: %s", d->file, d->msg);
    }
    return 0;
}

static char *dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup(".");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

typedef struct file_ctx file_ctx;

static int load_file(rb_job_config *cfg, const char *path, int depth, const file_ctx *parent,
                     const char *included_at, rb_error *err);

/* One job file being read: the keys it set so far (a key set twice in
 * one file is an error, which java.util.Properties would not say), and
 * the file and line that included it (NULL for the job file). */
struct file_ctx {
    rb_job_config *cfg;
    const char *path;
    const char *base_dir;
    int depth;
    const file_ctx *parent;
    const char *included_at; /* "FILE:LINE" of the include, or NULL */
    char *seen[MAX_LINE_KEYS];
    size_t nseen;
};

/* With a trace: records the error of a line and lets the file go on
 * (returns 0), unless memory ran out. */
static int trace_line_error(const file_ctx *c, int line, const char *key, rb_error *err) {
    if (!c->cfg->trace || err->code == RB_ERR_NOMEM) return -1;
    rb_config_trace_diag(c->cfg->trace, RB_DIAG_ERROR, c->path, line, key, err->msg);
    return 0;
}

/* A key about to be set by a file that an earlier line of an including
 * file had already set: that earlier line is silently overridden, which
 * the trace reports as a warning. */
static void trace_override(const file_ctx *c, const char *key, int line) {
    rb_config_trace *t = c->cfg->trace;
    const rb_config_origin *o = rb_config_trace_origin(t, key);
    if (!o) return;
    for (const file_ctx *p = c->parent; p; p = p->parent) {
        if (strcmp(p->path, o->file) != 0) continue;
        char msg[PATH_MAX * 2 + 256];
        snprintf(msg, sizeof msg,
                 "%s set here is overridden by %s:%d, which the include at %s reads after it; "
                 "set it after the include line",
                 key, c->path, line, c->included_at ? c->included_at : "?");
        rb_config_trace_diag(t, RB_DIAG_WARNING, o->file, o->line, key, msg);
        return;
    }
}

/* One key and value, as java.util.Properties read them (properties.h);
 * values are trimmed, as Kafka Connect's ConfigDef trims them. */
static int on_property(const char *key, const char *raw, int line, void *arg, rb_error *err) {
    file_ctx *c = arg;
    char where[PATH_MAX + 32];
    snprintf(where, sizeof where, "%s:%d", c->path, line);
    if (*key == '\0')
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: expected 'key = value', found no key", where);
    char *copy = strdup(raw);
    if (!copy) return rb_error_nomem(err, RB_STAGE_CONFIG, "job file line");
    char *value = trim(copy);
    int rc = 0;
    for (size_t i = 0; i < c->nseen && rc == 0; i++) {
        /* An alias and its key are one key. */
        if (strcmp(canonical_name(c->seen[i]), canonical_name(key)) != 0) continue;
        if (strcmp(c->seen[i], key) == 0)
            rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                              "%s: %s is set twice in this file", where, key);
        else
            rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                              "%s: %s is set twice in this file (as %s before: one is "
                              "another name of the other)",
                              where, key, c->seen[i]);
    }
    if (rc == 0 && strcmp(key, "include") != 0) {
        if (c->nseen == MAX_LINE_KEYS)
            rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                              "%s: more than %d keys in one file", where, MAX_LINE_KEYS);
        else if (!(c->seen[c->nseen] = strdup(key)))
            rc = rb_error_nomem(err, RB_STAGE_CONFIG, "key");
        else
            c->nseen++;
    }
    rb_config_trace *t = c->cfg->trace;
    if (rc == 0 && strcmp(key, "include") == 0) {
        char *inc = resolve_path(c->base_dir, value);
        if (!inc) {
            rc = rb_error_nomem(err, RB_STAGE_CONFIG, "include path");
        } else {
            size_t before = t ? t->ndiags : 0;
            rc = load_file(c->cfg, inc, c->depth + 1, c, where, err);
            /* With a trace the included file's lines recorded their own
             * errors; what failed before any line was read is this one's. */
            if (rc != 0 && t && t->ndiags > before && err->code != RB_ERR_NOMEM)
                rc = 0;
            else if (rc != 0)
                rb_error_prefix(err, "%s: in the file included here", where);
            free(inc);
        }
    } else if (rc == 0) {
        const char *name = strncmp(key, "kafka.", 6) == 0 ? key : canonical_name(key);
        if (t) trace_override(c, name, line);
        rc = assign(c->cfg, key, value, c->base_dir, where, err);
        if (rc == 0 && t)
            rb_config_trace_origin_set(t, name, c->path, line, c->included_at, value);
    }
    if (rc != 0) rc = trace_line_error(c, line, key, err);
    free(copy);
    return rc;
}

/* Parses one job file's text: java.util.Properties syntax (`=`, `:` or
 * white space between key and value, `#` and `!` comments, backslash
 * escapes and continuations), checked against the JDK's parser by
 * tests/check_properties.c. */
static int parse_text(rb_job_config *cfg, const char *text, size_t len, const char *path,
                      const char *base_dir, int depth, const file_ctx *parent,
                      const char *included_at, rb_error *err) {
    file_ctx c = {.cfg = cfg,
                  .path = path,
                  .base_dir = base_dir,
                  .depth = depth,
                  .parent = parent,
                  .included_at = included_at};
    int dangling = 0;
    int rc = rb_properties_each(text, len, path, on_property, &c, &dangling, err);
    /* Java drops a final backslash; a file cut short is more likely. */
    if (rc == 0 && dangling)
        rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                          "%s:%d: the last line ends with '\\' but nothing follows", path,
                          dangling);
    for (size_t i = 0; i < c.nseen; i++) free(c.seen[i]);
    return rc;
}

static int load_file(rb_job_config *cfg, const char *path, int depth, const file_ctx *parent,
                     const char *included_at, rb_error *err) {
    if (depth > MAX_INCLUDE_DEPTH)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s: includes nest deeper than %d (a cycle?)", path,
                            MAX_INCLUDE_DEPTH);
    FILE *f = fopen(path, "rb");
    if (!f)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "cannot read job file %s: %s",
                            path, strerror(errno));
    rb_buf text;
    rb_buf_init(&text);
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = rb_buf_append(&text, chunk, n);
    bool bad = ferror(f);
    fclose(f);
    char *base = dir_of(path);
    if (rc != 0 || !base)
        rc = rb_error_nomem(err, RB_STAGE_CONFIG, "job file");
    else if (bad)
        rc = rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "cannot read job file %s", path);
    else
        rc = parse_text(cfg, text.data ? text.data : "", text.len, path, base, depth, parent,
                        included_at, err);
    free(base);
    rb_buf_free(&text);
    return rc;
}

int rb_job_config_load(rb_job_config *cfg, const char *path, rb_error *err) {
    free(cfg->source_file);
    if (!(cfg->source_file = strdup(path))) return rb_error_nomem(err, RB_STAGE_CONFIG, "path");
    rb_config_trace *t = cfg->trace;
    size_t before = t ? t->ndiags : 0;
    if (load_file(cfg, path, 0, NULL, NULL, err) != 0) {
        /* With a trace, an error that stopped the file (it cannot be read,
         * its syntax) is recorded too, and the defaults below still apply. */
        if (!t || err->code == RB_ERR_NOMEM) return -1;
        if (t->ndiags == before) rb_config_trace_diag(t, RB_DIAG_ERROR, path, 0, "", err->msg);
    }
    if (cfg->job_name[0] == '\0') {
        /* The job's name defaults to its file's name: jobs/product-updates.job
         * runs as "product-updates". */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        const char *dot = strrchr(base, '.');
        size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
        char *name = strndup(base, n);
        if (!name) return rb_error_nomem(err, RB_STAGE_CONFIG, "job name");
        free(cfg->job_name);
        cfg->job_name = name;
    }
    return first_traced_error(t, before, err);
}

int rb_job_config_set(rb_job_config *cfg, const char *assignment, const char *origin,
                      rb_error *err) {
    const char *eq = strchr(assignment, '=');
    if (!eq) {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "%s: expected key=value, found '%s'",
                     origin, assignment);
        if (cfg->trace) rb_config_trace_diag(cfg->trace, RB_DIAG_ERROR, origin, 0, "", err->msg);
        return -1;
    }
    char *key = strndup(assignment, (size_t)(eq - assignment));
    char *value = strdup(eq + 1);
    int rc;
    if (!key || !value)
        rc = rb_error_nomem(err, RB_STAGE_CONFIG, "override");
    else
        rc = assign(cfg, trim(key), trim(value), ".", origin, err);
    if (cfg->trace && rc == 0) {
        const char *k = trim(key);
        rb_config_trace_origin_set(cfg->trace,
                                   strncmp(k, "kafka.", 6) == 0 ? k : canonical_name(k), origin, 0,
                                   NULL, trim(value));
    } else if (cfg->trace && err->code != RB_ERR_NOMEM) {
        rb_config_trace_diag(cfg->trace, RB_DIAG_ERROR, origin, 0, key ? trim(key) : "", err->msg);
    }
    free(key);
    free(value);
    return rc;
}

/* A failed check: without a trace it ends the checks (returns -1); with
 * one it is recorded and the checks go on (returns 0, *failed set). */
static int check_failed(const rb_job_config *cfg, const char *file, const char *key, bool *failed,
                        const rb_error *e) {
    *failed = true;
    if (!cfg->trace) return -1;
    /* A value that could not be read (a variable not set) is missing too;
     * its line's error says it already. */
    for (size_t i = 0; i < cfg->trace->ndiags; i++)
        if (cfg->trace->diags[i].level == RB_DIAG_ERROR &&
            strcmp(cfg->trace->diags[i].key, key) == 0)
            return 0;
    rb_config_trace_diag(cfg->trace, RB_DIAG_ERROR, file, 0, key, e->msg);
    return 0;
}

int rb_job_config_check(const rb_job_config *cfg, rb_error *err) {
    const char *file = cfg->source_file ? cfg->source_file : "configuration";
    bool failed = false;
    rb_error first, scratch;
    rb_error_clear(&first);
    for (size_t i = 0; i < rb_config_key_count; i++) {
        const rb_config_key *k = &rb_config_keys[i];
        if (!k->required) continue;
        const void *field = field_cptr(cfg, k);
        bool empty = k->type == RB_KEY_LIST ? ((const rb_strlist *)field)->count == 0
                                            : (*(char *const *)field)[0] == '\0';
        rb_error *e = failed ? &scratch : &first;
        if (empty && (rb_error_set(e, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                   "%s: required key %s is missing (%s)", file, k->name, k->doc),
                      check_failed(cfg, file, k->name, &failed, e) != 0))
            goto out;
    }
    for (size_t i = 0; i < rb_config_rule_count; i++) {
        rb_error *e = failed ? &scratch : &first;
        if (rb_config_rules[i].check(cfg, file, e) != 0 &&
            check_failed(cfg, file, rb_config_rules[i].keys, &failed, e) != 0)
            goto out;
    }
    for (size_t i = 0; i < rb_config_key_count; i++) {
        rb_error *e = failed ? &scratch : &first;
        if (rb_config_keys[i].check && rb_config_keys[i].check(cfg, file, e) != 0 &&
            check_failed(cfg, file, rb_config_keys[i].name, &failed, e) != 0)
            goto out;
    }
out:
    if (!failed) return 0;
    if (err) *err = first;
    return -1;
}

/* A value that is not a secret key's may still hold one: a URL with a
 * password (schema.registry.url), a token in a query.  Memory running out
 * prints nothing rather than the raw value. */
static void print_redacted(const char *value, FILE *out) {
    char *shown = rb_redact_dup(value);
    fputs(shown ? shown : "(not shown)", out);
    free(shown);
}

static void print_value(const rb_job_config *cfg, const rb_config_key *k, FILE *out) {
    const void *field = field_cptr(cfg, k);
    if (k->secret) {
        fputs("(secret)", out);
        return;
    }
    switch (k->type) {
    case RB_KEY_STRING:
    case RB_KEY_PATH: print_redacted(*(char *const *)field, out); break;
    case RB_KEY_INT: fprintf(out, "%" PRId64, *(const int64_t *)field); break;
    case RB_KEY_DOUBLE: fprintf(out, "%g", *(const double *)field); break;
    case RB_KEY_BOOL: fputs(*(const bool *)field ? "true" : "false", out); break;
    case RB_KEY_CHOICE:
    case RB_KEY_TOLERANCE: {
        const char *name = choice_name(k, *(const int *)field);
        fputs(name ? name : "?", out);
        break;
    }
    case RB_KEY_LIST: {
        const rb_strlist *l = field;
        for (size_t i = 0; i < l->count; i++) fprintf(out, "%s%s", i ? "," : "", l->items[i]);
        break;
    }
    }
}

static const char *type_name(rb_key_type t) {
    switch (t) {
    case RB_KEY_STRING: return "string";
    case RB_KEY_PATH: return "path";
    case RB_KEY_INT: return "integer";
    case RB_KEY_BOOL: return "boolean";
    case RB_KEY_LIST: return "list";
    case RB_KEY_CHOICE: return "choice";
    case RB_KEY_TOLERANCE: return "choice";
    case RB_KEY_DOUBLE: return "number";
    }
    return "?";
}

void rb_config_print_reference(FILE *out, bool markdown) {
    if (markdown) {
        fputs("| key | type | default | description |\n|---|---|---|---|\n", out);
        fputs("| `kafka.*` | string | | Passed to librdkafka unchanged without the prefix "
              "(`kafka.bootstrap.servers` is required; `kafka.group.id` defaults to "
              "`ragbatch-<job.name>`). |\n",
              out);
    }
    for (size_t i = 0; i < rb_config_key_count; i++) {
        const rb_config_key *k = &rb_config_keys[i];
        char type[128];
        if (k->type == RB_KEY_INT)
            snprintf(type, sizeof type, "integer [%" PRId64 "..%" PRId64 "]", k->min, k->max);
        else if (k->type == RB_KEY_DOUBLE)
            snprintf(type, sizeof type, "number [%g..%g]", k->dmin, k->dmax);
        else if (k->choices && markdown)
            choices_text(type, sizeof type, k, " or ", "`");
        else if (k->choices)
            choices_text(type, sizeof type, k, "|", "");
        else
            snprintf(type, sizeof type, "%s", type_name(k->type));
        if (markdown) {
            fprintf(out, "| `%s` | %s | %s%s%s | %s%s |\n", k->name, type, k->def[0] ? "`" : "",
                    k->def, k->def[0] ? "`" : "", k->required ? "**Required.** " : "", k->doc);
        } else {
            fprintf(out, "%-28s %s%s\n", k->name, type, k->required ? ", required" : "");
            fprintf(out, "%-28s default: %s\n", "", k->def[0] ? k->def : "(empty)");
            fprintf(out, "%-28s %s\n\n", "", k->doc);
        }
    }
}

void rb_job_config_each(const rb_job_config *cfg, rb_config_entry_fn fn, void *ctx) {
    for (size_t i = 0; i < rb_config_key_count; i++) {
        char *shown = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&shown, &len);
        if (!m) continue;
        print_value(cfg, &rb_config_keys[i], m);
        if (fclose(m) == 0) fn(rb_config_keys[i].name, shown, ctx);
        free(shown);
    }
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        const char *k = cfg->kafka[i].key;
        char name[300];
        snprintf(name, sizeof name, "kafka.%s", k);
        if (rb_redact_sensitive_name(k, strlen(k))) {
            fn(name, "(secret)", ctx);
            continue;
        }
        char *shown = rb_redact_dup(cfg->kafka[i].value);
        fn(name, shown ? shown : "(not shown)", ctx);
        free(shown);
    }
}

void rb_job_config_print(const rb_job_config *cfg, FILE *out) {
    for (size_t i = 0; i < rb_config_key_count; i++) {
        fprintf(out, "%s = ", rb_config_keys[i].name);
        print_value(cfg, &rb_config_keys[i], out);
        fputc('\n', out);
    }
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        /* librdkafka's secret-bearing properties (sasl.password,
         * ssl.key.password, ssl.key.pem, sasl.oauthbearer.client.secret,
         * sasl.oauthbearer.config, ...) are named so. */
        const char *k = cfg->kafka[i].key;
        fprintf(out, "kafka.%s = ", k);
        if (rb_redact_sensitive_name(k, strlen(k)))
            fputs("(secret)", out);
        else
            print_redacted(cfg->kafka[i].value, out);
        fputc('\n', out);
    }
}
