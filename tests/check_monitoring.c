/*
 * check_monitoring.c -- the Prometheus alert rules and the Grafana dashboard
 * in deploy/ against what ragbatch exports and what Prometheus parses.
 *
 *   - every ragbatch_* metric named in deploy/ is a family that
 *     rb_metrics_declare_ragbatch() declares (a histogram also as its
 *     _bucket, _sum and _count series), so renaming a metric in
 *     src/metrics/ without the dashboard fails here;
 *   - the dashboard is RFC 8259 JSON (the product's own parser) whose every
 *     panel has an id, a type, a place and targets with an expression, and
 *     every expression parses with promtool (written as recording rules,
 *     template variables replaced by values);
 *   - `promtool check rules` accepts the alert rules and `promtool test
 *     rules` passes their unit tests (each alert fires, and a healthy job
 *     beside it does not).
 * promtool (Debian's prometheus package, scripts/install-deps.sh) must be
 * on PATH: without it the suite fails, never skips.
 */
#include "check_main.h"
#include "common/buf.h"
#include "json/json.h"
#include "metrics/metrics.h"
#include "spawn.h"

#include <check.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEPLOY RB_SOURCE_DIR "/deploy"
#define ALERTS DEPLOY "/prometheus/ragbatch-alerts.yml"
#define ALERT_TESTS DEPLOY "/prometheus/ragbatch-alerts.test.yml"
#define DASHBOARD DEPLOY "/grafana/ragbatch-dashboard.json"

typedef struct family {
    char name[128];
    char type[16];
} family;

typedef struct families {
    family f[64];
    size_t n;
} families;

/* The families ragbatch declares, read back from the registry's rendering
 * ("# TYPE name type" lines): what a scrape of /metrics announces. */
static families exported(void) {
    rb_error err;
    rb_metrics *m = rb_metrics_new(&err);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(rb_metrics_declare_ragbatch(m, &err) == 0, "%s", err.msg);
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_metrics_render(m, &b, &err), 0);
    families fs = {.n = 0};
    for (const char *line = b.data; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        family f;
        char fmt[32];
        snprintf(fmt, sizeof fmt, "# TYPE %%%zus %%%zus", sizeof f.name - 1, sizeof f.type - 1);
        char copy[256];
        snprintf(copy, sizeof copy, "%.*s", (int)len, line);
        if (strncmp(copy, "# TYPE ", 7) == 0 && sscanf(copy, fmt, f.name, f.type) == 2) {
            ck_assert_uint_lt(fs.n, sizeof fs.f / sizeof fs.f[0]);
            fs.f[fs.n++] = f;
        }
        line = end ? end + 1 : line + len;
    }
    rb_buf_free(&b);
    rb_metrics_destroy(m);
    ck_assert_msg(fs.n >= 8, "only %zu families rendered", fs.n);
    return fs;
}

static bool has_suffix(const char *s, size_t len, const char *suffix, size_t *stem) {
    size_t sl = strlen(suffix);
    if (len <= sl || memcmp(s + len - sl, suffix, sl) != 0) return false;
    *stem = len - sl;
    return true;
}

static const family *find(const families *fs, const char *name, size_t len) {
    for (size_t i = 0; i < fs->n; i++)
        if (strlen(fs->f[i].name) == len && memcmp(fs->f[i].name, name, len) == 0)
            return &fs->f[i];
    return NULL;
}

/* Whether the series name `name` (len bytes) is one a scrape of ragbatch
 * holds: a counter or gauge by its name, a histogram by its _bucket, _sum
 * or _count series (or its family name, in a HELP text). */
static bool known(const families *fs, const char *name, size_t len) {
    const family *f = find(fs, name, len);
    if (f) return true;
    static const char *const parts[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; i < 3; i++) {
        size_t stem;
        if (!has_suffix(name, len, parts[i], &stem)) continue;
        f = find(fs, name, stem);
        if (f) return strcmp(f->type, "histogram") == 0;
    }
    return false;
}

static bool ident(char c) { return isalnum((unsigned char)c) || c == '_' || c == ':'; }

/* Appends "where:line: name" to `bad` for every ragbatch_* token of `text`
 * that ragbatch does not export; returns how many tokens it saw. */
static size_t unknown_metrics(const families *fs, const char *where, const char *text,
                              rb_buf *bad) {
    size_t seen = 0;
    int line = 1;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') line++;
        if (strncmp(p, "ragbatch_", 9) != 0 || (p > text && ident(p[-1]))) continue;
        size_t len = 9;
        while (ident(p[len])) len++;
        seen++;
        if (!known(fs, p, len)) rb_buf_printf(bad, "%s:%d: %.*s\n", where, line, (int)len, p);
        p += len - 1;
    }
    return seen;
}

/* Runs `promtool ARGS...`; returns its exit status and keeps its
 * output (stdout and stderr) in *out. */
static int promtool(const char *const *args, char **out) {
    const char *argv[16] = {"promtool"};
    size_t n = 1;
    for (; args[n - 1] && n < 15; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    spawn_opts o = {.merge = true,
                    .hint = "install Debian's prometheus package (scripts/install-deps.sh)"};
    spawn_ran r = spawn_run(argv, &o);
    *out = r.out;
    free(r.err);
    return r.status;
}

START_TEST(deploy_names_only_exported_metrics) {
    families fs = exported();
    const char *const files[] = {ALERTS, ALERT_TESTS, DASHBOARD};
    rb_buf bad;
    rb_buf_init(&bad);
    for (size_t i = 0; i < 3; i++) {
        char *text = spawn_slurp(files[i], NULL);
        size_t seen = unknown_metrics(&fs, files[i] + strlen(RB_SOURCE_DIR "/"), text, &bad);
        ck_assert_msg(seen >= 4, "%s names only %zu ragbatch metrics", files[i], seen);
        free(text);
    }
    ck_assert_msg(bad.len == 0, "metrics ragbatch does not export (src/metrics/metrics.h):\n%s",
                  bad.data);
    rb_buf_free(&bad);
}
END_TEST

/* The checker itself: a misspelt or made-up name, and a histogram part of a
 * gauge, are reported; exported names and histogram parts are not. */
START_TEST(unknown_names_are_reported) {
    families fs = exported();
    rb_buf bad;
    rb_buf_init(&bad);
    const char *text = "rate(ragbatch_records_total[5m])\n"
                       "ragbatch_stage_duration_seconds_bucket{le=\"1\"}\n"
                       "ragbatch_record_total + ragbatch_consumer_lag_count\n"
                       "x_ragbatch_not_a_token ragbatch_made_up_seconds_sum\n";
    ck_assert_uint_eq(unknown_metrics(&fs, "t", text, &bad), 5);
    ck_assert_str_eq(bad.data, "t:3: ragbatch_record_total\nt:3: ragbatch_consumer_lag_count\n"
                               "t:4: ragbatch_made_up_seconds_sum\n");
    rb_buf_free(&bad);
}
END_TEST

/* Replaces the dashboard's template variables with values promtool can
 * parse: $job (a regex matcher's value) and Grafana's $__rate_interval. */
static void substitute(rb_buf *out, const char *expr) {
    for (const char *p = expr; *p;) {
        if (strncmp(p, "$__rate_interval", 16) == 0) {
            rb_buf_puts(out, "5m");
            p += 16;
        } else if (strncmp(p, "$job", 4) == 0) {
            rb_buf_puts(out, ".*");
            p += 4;
        } else {
            rb_buf_putc(out, *p++);
        }
    }
}

/* Writes `exprs` as recording rules into DIR/FILE and runs promtool check
 * rules on them; returns its status. */
static int check_exprs(const char *dir, const char *const *exprs, size_t n, char **out) {
    rb_buf y;
    rb_buf_init(&y);
    rb_buf_puts(&y, "groups:\n  - name: dashboard\n    rules:\n");
    for (size_t i = 0; i < n; i++) {
        rb_buf_printf(&y, "      - record: dashboard:expr_%zu\n        expr: '", i);
        rb_buf e;
        rb_buf_init(&e);
        substitute(&e, exprs[i]);
        /* A single-quoted YAML scalar: a quote is written twice. */
        for (const char *c = e.data; c && *c; c++) {
            if (*c == '\'') rb_buf_putc(&y, '\'');
            rb_buf_putc(&y, *c);
        }
        rb_buf_free(&e);
        rb_buf_puts(&y, "'\n");
    }
    char path[256];
    snprintf(path, sizeof path, "%s/dashboard-rules.yml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(y.data, 1, y.len, f), y.len);
    fclose(f);
    rb_buf_free(&y);
    return promtool((const char *[]){"check", "rules", path, NULL}, out);
}

START_TEST(dashboard_panels_and_their_queries_parse) {
    rb_json_doc *doc = NULL;
    rb_error err;
    ck_assert_msg(rb_json_parse_file(DASHBOARD, NULL, &doc, &err) == 0, "%s", err.msg);
    const rb_json *root = rb_json_doc_root(doc);
    ck_assert_ptr_nonnull(rb_json_string(rb_json_get(root, "title")));
    ck_assert_ptr_nonnull(rb_json_string(rb_json_get(root, "uid")));
    const rb_json *vars = rb_json_get_path(root, "templating.list");
    ck_assert_msg(vars && vars->type == RB_JSON_ARRAY, "templating.list is not an array");
    bool job_var = false;
    for (size_t i = 0; i < vars->count; i++) {
        const char *name = rb_json_string(rb_json_get(&vars->items[i], "name"));
        if (name && strcmp(name, "job") == 0) job_var = true;
    }
    ck_assert_msg(job_var, "no `job` template variable");
    const rb_json *panels = rb_json_get(root, "panels");
    ck_assert_msg(panels && panels->type == RB_JSON_ARRAY && panels->count >= 8,
                  "panels: an array of at least 8 expected");
    const char *exprs[64];
    size_t n = 0;
    int64_t ids[64];
    for (size_t i = 0; i < panels->count; i++) {
        const rb_json *p = &panels->items[i];
        const rb_json *id = rb_json_get(p, "id");
        ck_assert_msg(id && id->is_integer, "panel %zu (line %d): no integer id", i, p->line);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(ids[j] != id->integer, "panel id %lld twice", (long long)id->integer);
        ck_assert_uint_lt(i, 64);
        ids[i] = id->integer;
        ck_assert_msg(rb_json_string(rb_json_get(p, "type")) &&
                          rb_json_string(rb_json_get(p, "title")),
                      "panel %lld: type and title expected", (long long)id->integer);
        static const char *const grid[] = {"gridPos.x", "gridPos.y", "gridPos.w", "gridPos.h"};
        for (size_t g = 0; g < 4; g++) {
            const rb_json *v = rb_json_get_path(p, grid[g]);
            ck_assert_msg(v && v->is_integer, "panel %lld: no %s", (long long)id->integer,
                          grid[g]);
        }
        const rb_json *targets = rb_json_get(p, "targets");
        ck_assert_msg(targets && targets->type == RB_JSON_ARRAY && targets->count > 0,
                      "panel %lld: no targets", (long long)id->integer);
        for (size_t t = 0; t < targets->count; t++) {
            const char *expr = rb_json_string(rb_json_get(&targets->items[t], "expr"));
            ck_assert_msg(expr && strstr(expr, "ragbatch_"),
                          "panel %lld target %zu: no expression over a ragbatch metric",
                          (long long)id->integer, t);
            ck_assert_ptr_nonnull(rb_json_string(rb_json_get(&targets->items[t], "refId")));
            ck_assert_uint_lt(n, 64);
            exprs[n++] = expr;
        }
    }
    char dir[] = "/tmp/check_monitoring_dir_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *out = NULL;
    int rc = check_exprs(dir, exprs, n, &out);
    ck_assert_msg(rc == 0, "promtool refuses a dashboard query:\n%s", out);
    free(out);
    /* promtool must be parsing, not waving through: a broken query fails. */
    rc = check_exprs(dir, (const char *[]){"sum by (job (ragbatch_consumer_lag)"}, 1, &out);
    ck_assert_msg(rc != 0, "promtool accepted a malformed query:\n%s", out);
    free(out);
    char path[256];
    snprintf(path, sizeof path, "%s/dashboard-rules.yml", dir);
    unlink(path);
    rmdir(dir);
    rb_json_doc_destroy(doc);
}
END_TEST

START_TEST(alert_rules_check_and_their_tests_pass) {
    char *out = NULL;
    int rc = promtool((const char *[]){"check", "rules", ALERTS, NULL}, &out);
    ck_assert_msg(rc == 0, "promtool check rules:\n%s", out);
    ck_assert_msg(strstr(out, "SUCCESS: 4 rules found"), "expected 4 alerts:\n%s", out);
    free(out);
    /* The test file names its rules relative to itself. */
    rc = promtool((const char *[]){"test", "rules", ALERT_TESTS, NULL}, &out);
    ck_assert_msg(rc == 0, "promtool test rules:\n%s", out);
    free(out);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("monitoring");
    TCase *tc = tcase_create("deploy");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, deploy_names_only_exported_metrics);
    tcase_add_test(tc, unknown_names_are_reported);
    tcase_add_test(tc, dashboard_panels_and_their_queries_parse);
    tcase_add_test(tc, alert_rules_check_and_their_tests_pass);
    suite_add_tcase(s, tc);
    return s;
}
