/*
 * The official JSON-Schema-Test-Suite against validate/schema.h: every
 * required draft-07 case (the .json files of tests/draft7, optional/ excluded) from the
 * Debian package json-schema-test-suite, installed by
 * scripts/install-deps.sh.  The directory is RB_SCHEMA_SUITE_DIR or the
 * package's /usr/share/json-schema-test-suite/tests; a missing package
 * fails the suite.
 *
 * The optional cases of what ragbatch supports run too (see
 * draft7_optional_supported).
 *
 * Each case group has one schema.  It must compile and decide every test
 * of the group as the suite says, unless the group is listed in `refused`
 * below with the reason ragbatch refuses that schema at compile time; a
 * listed group that compiles fails too, so the list cannot go stale.
 */
#include "check_main.h"
#include "common/error.h"
#include "json/json.h"
#include "validate/schema.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_DEFAULT_DIR "/usr/share/json-schema-test-suite/tests"

typedef struct refused_group {
    const char *file;
    const char *description;
    const char *reason;
} refused_group;

static const refused_group refused[] = {
    {"ref.json", "ref overrides any sibling keywords",
     "draft-07 ignores maxItems beside $ref; ragbatch refuses the schema instead of dropping "
     "the rule silently (move it into an allOf with the $ref)"},
    {"ref.json", "remote ref, containing refs itself",
     "refers to the draft-07 meta-schema by URL; ragbatch fetches nothing"},
    {"definitions.json", "valid definition",
     "refers to the draft-07 meta-schema by URL; ragbatch fetches nothing"},
    {"definitions.json", "invalid definition",
     "refers to the draft-07 meta-schema by URL; ragbatch fetches nothing"},
    {"refRemote.json", "remote ref", "remote reference (http://localhost:1234/...); not fetched"},
    {"refRemote.json", "fragment within remote ref", "remote reference; not fetched"},
    {"refRemote.json", "ref within remote ref", "remote reference; not fetched"},
    {"refRemote.json", "base URI change", "remote reference; not fetched"},
    {"refRemote.json", "base URI change - change folder", "remote reference; not fetched"},
    {"refRemote.json", "base URI change - change folder in subschema",
     "remote reference; not fetched"},
    {"refRemote.json", "root ref in remote ref", "remote reference; not fetched"},
};

#define N_REFUSED (sizeof refused / sizeof *refused)

typedef struct tally {
    size_t files, groups, tests, passed, refused_tests, refused_groups, failed;
    bool refused_seen[N_REFUSED];
    char failures[8192];
    size_t failures_len;
} tally;

static const char *suite_dir(void) {
    const char *d = getenv("RB_SCHEMA_SUITE_DIR");
    return d && *d ? d : SUITE_DEFAULT_DIR;
}

static void note_failure(tally *t, const char *fmt, const char *a, const char *b, const char *c) {
    t->failed++;
    if (t->failures_len + 300 < sizeof t->failures) {
        int n = snprintf(t->failures + t->failures_len, sizeof t->failures - t->failures_len, fmt,
                         a, b, c);
        if (n > 0) t->failures_len += (size_t)n;
    }
}

static int find_refused(const char *file, const char *description) {
    for (size_t i = 0; i < N_REFUSED; i++)
        if (strcmp(refused[i].file, file) == 0 && strcmp(refused[i].description, description) == 0)
            return (int)i;
    return -1;
}

static void run_group(tally *t, const char *file, const rb_json *group) {
    const char *description = rb_json_string(rb_json_get(group, "description"));
    const rb_json *schema = rb_json_get(group, "schema");
    const rb_json *tests = rb_json_get(group, "tests");
    ck_assert_msg(description && schema && tests && tests->type == RB_JSON_ARRAY,
                  "%s: a group without description, schema or tests", file);
    t->groups++;
    t->tests += tests->count;
    char origin[512];
    snprintf(origin, sizeof origin, "%s \"%s\"", file, description);
    rb_schema *s = NULL;
    rb_error err;
    rb_error_clear(&err);
    int compiled = rb_schema_compile(schema, origin, &s, &err);
    int r = find_refused(file, description);
    if (r >= 0) {
        t->refused_seen[r] = true;
        if (compiled == 0) {
            note_failure(t, "%s \"%s\": listed as refused (%s) but compiles\n", file, description,
                         refused[r].reason);
            rb_schema_destroy(s);
        } else {
            t->refused_groups++;
            t->refused_tests += tests->count;
        }
        return;
    }
    if (compiled != 0) {
        note_failure(t, "%s \"%s\": refused: %s\n", file, description, err.msg);
        return;
    }
    for (size_t i = 0; i < tests->count; i++) {
        const rb_json *tc = &tests->items[i];
        const char *what = rb_json_string(rb_json_get(tc, "description"));
        const rb_json *data = rb_json_get(tc, "data");
        const rb_json *valid = rb_json_get(tc, "valid");
        ck_assert_msg(what && data && valid && valid->type == RB_JSON_BOOL,
                      "%s \"%s\": a test without description, data or valid", file, description);
        rb_error_clear(&err);
        int rc = rb_schema_validate(s, data, NULL, 0, &err);
        if ((rc == 0) == valid->boolean) {
            t->passed++;
        } else {
            char line[600];
            snprintf(line, sizeof line, "%s: %s", what,
                     valid->boolean ? err.msg : "accepted, should be invalid");
            note_failure(t, "%s \"%s\": %s\n", file, description, line);
        }
    }
    rb_schema_destroy(s);
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every .json file of `dir` accepted by `want` (NULL: all). */
static void run_dir(tally *t, const char *dir, bool (*want)(const char *name)) {
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL,
                  "%s: cannot open (install the Debian package json-schema-test-suite, "
                  "scripts/install-deps.sh, or set RB_SCHEMA_SUITE_DIR)",
                  dir);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0 && (!want || want(e->d_name)))
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rb_json_doc *doc = NULL;
        rb_error err;
        rb_json_limits limits = {.max_depth = 256, .max_tokens = 0};
        ck_assert_msg(rb_json_parse_file(path, &limits, &doc, &err) == 0, "%s", err.msg);
        const rb_json *groups = rb_json_doc_root(doc);
        ck_assert_msg(groups->type == RB_JSON_ARRAY, "%s: not an array of groups", path);
        for (size_t g = 0; g < groups->count; g++) run_group(t, names[i], &groups->items[g]);
        rb_json_doc_destroy(doc);
        t->files++;
        free(names[i]);
    }
}

static void report(tally *t, const char *what, size_t min_files) {
    printf("schema suite %s (%s): %zu files, %zu groups, %zu tests: %zu passed, %zu refused "
           "(%zu groups), %zu failed\n",
           what, suite_dir(), t->files, t->groups, t->tests, t->passed, t->refused_tests,
           t->refused_groups, t->failed);
    if (t->failed) printf("%s", t->failures);
    fflush(stdout);
    ck_assert_msg(t->failed == 0, "%zu failures:\n%s", t->failed, t->failures);
    ck_assert_msg(t->files >= min_files, "%s: only %zu case files", what, t->files);
    ck_assert_uint_eq(t->passed + t->refused_tests, t->tests);
}

START_TEST(draft7_required) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/draft7", suite_dir());
    static tally t;
    memset(&t, 0, sizeof t);
    run_dir(&t, dir, NULL);
    for (size_t r = 0; r < N_REFUSED; r++)
        if (!t.refused_seen[r])
            note_failure(&t, "%s \"%s\": listed as refused but not in the suite%s\n",
                         refused[r].file, refused[r].description, "");
    report(&t, "draft7", 30);
}
END_TEST

/* The optional files for what ragbatch supports: the formats it checks,
 * ECMA-262 regular expressions, big numbers and 1.0 as an integer.  Left
 * out: content.json (contentMediaType and contentEncoding are annotations
 * here, as draft-07 allows) and the formats ragbatch refuses (idn-email,
 * idn-hostname, iri, iri-reference, uri-template). */
static bool supported_format(const char *name) {
    static const char *const checked[] = {"date-time.json",     "date.json",
                                          "time.json",          "email.json",
                                          "hostname.json",      "ipv4.json",
                                          "ipv6.json",          "uri.json",
                                          "uri-reference.json", "regex.json",
                                          "json-pointer.json",  "relative-json-pointer.json"};
    for (size_t i = 0; i < sizeof checked / sizeof *checked; i++)
        if (strcmp(name, checked[i]) == 0) return true;
    return false;
}

static bool supported_optional(const char *name) { return strcmp(name, "content.json") != 0; }

START_TEST(draft7_optional_supported) {
    char dir[1024];
    static tally t;
    memset(&t, 0, sizeof t);
    snprintf(dir, sizeof dir, "%s/draft7/optional", suite_dir());
    run_dir(&t, dir, supported_optional);
    snprintf(dir, sizeof dir, "%s/draft7/optional/format", suite_dir());
    run_dir(&t, dir, supported_format);
    report(&t, "draft7 optional (supported parts)", 15);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("schema_suite");
    TCase *tc = tcase_create("official");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, draft7_required);
    tcase_add_test(tc, draft7_optional_supported);
    suite_add_tcase(s, tc);
    return s;
}
