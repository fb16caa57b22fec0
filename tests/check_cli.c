/*
 * check_cli.c -- the command-line parser (src/cli/args.h) on its own, and
 * every verb's options through the ragbatch binary: the same syntax on
 * every verb (--opt value and --opt=value), unknown options refused with a
 * suggestion, values checked with one wording.  No servers: the verbs are
 * stopped by their own argument checks, or run one that needs none.
 */
#include "check_main.h"
#include "cli/args.h"
#include "common/buf.h"
#include "spawn.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { OPT_COUNT = 1, OPT_JSON, OPT_PROP, OPT_QUIET, OPT_SET };

static const rb_cli_option opts[] = {
    {"--count", 0, true, OPT_COUNT}, {"--json", 0, false, OPT_JSON},
    {NULL, 'X', true, OPT_PROP},     {"--quiet", 'q', false, OPT_QUIET},
    {"--set", 0, true, OPT_SET},
};

typedef struct parsed {
    int ids[16];
    const char *values[16];
    size_t n;
    rb_error err;
} parsed;

/* Every result of rb_cli_next up to the end or the first error. */
static parsed parse(int argc, char **argv, bool stop_at_operand) {
    parsed r;
    memset(&r, 0, sizeof r);
    rb_cli_parser p;
    rb_cli_init(&p, opts, sizeof opts / sizeof opts[0], argc, argv);
    p.stop_at_operand = stop_at_operand;
    int id;
    const char *value;
    while (r.n < 16 && (id = rb_cli_next(&p, &value, &r.err)) != RB_CLI_END) {
        r.ids[r.n] = id;
        r.values[r.n++] = value;
        if (id == RB_CLI_ERROR) break;
    }
    return r;
}

START_TEST(value_forms_are_the_same) {
    char *a[] = {"verb", "--count", "5", "--count=6", "-X", "a=b", "-Xc=d", "--set=k=v=w", NULL};
    parsed r = parse(8, a, false);
    ck_assert_uint_eq(r.n, 5);
    ck_assert_int_eq(r.ids[0], OPT_COUNT);
    ck_assert_str_eq(r.values[0], "5");
    ck_assert_int_eq(r.ids[1], OPT_COUNT);
    ck_assert_str_eq(r.values[1], "6");
    ck_assert_int_eq(r.ids[2], OPT_PROP);
    ck_assert_str_eq(r.values[2], "a=b");
    ck_assert_int_eq(r.ids[3], OPT_PROP);
    ck_assert_str_eq(r.values[3], "c=d");
    /* Only the first '=' separates: the value keeps the rest. */
    ck_assert_int_eq(r.ids[4], OPT_SET);
    ck_assert_str_eq(r.values[4], "k=v=w");
}
END_TEST

START_TEST(a_value_may_begin_with_a_dash) {
    char *a[] = {"verb", "--count", "-5", "--set", "--json", NULL};
    parsed r = parse(5, a, false);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.values[0], "-5");
    ck_assert_int_eq(r.ids[1], OPT_SET);
    ck_assert_str_eq(r.values[1], "--json");
}
END_TEST

START_TEST(flags_operands_help_and_double_dash) {
    char *a[] = {"verb", "job",    "--json", "-q",     "--quiet", "-",
                 "-h",   "--help", "--",     "--json", "-q",      NULL};
    parsed r = parse(11, a, false);
    int want[] = {RB_CLI_OPERAND, OPT_JSON,    OPT_QUIET,      OPT_QUIET,     RB_CLI_OPERAND,
                  RB_CLI_HELP,    RB_CLI_HELP, RB_CLI_OPERAND, RB_CLI_OPERAND};
    ck_assert_uint_eq(r.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < r.n; i++) ck_assert_int_eq(r.ids[i], want[i]);
    ck_assert_str_eq(r.values[0], "job");
    ck_assert_ptr_null(r.values[1]);
    ck_assert_str_eq(r.values[4], "-");
    ck_assert_str_eq(r.values[7], "--json");
    ck_assert_str_eq(r.values[8], "-q");
}
END_TEST

START_TEST(stop_at_operand_keeps_later_dashes_as_operands) {
    char *a[] = {"verb", "-q", "text", "--json", NULL};
    parsed r = parse(4, a, true);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_int_eq(r.ids[0], OPT_QUIET);
    ck_assert_int_eq(r.ids[1], RB_CLI_OPERAND);
    ck_assert_int_eq(r.ids[2], RB_CLI_OPERAND);
    ck_assert_str_eq(r.values[2], "--json");
}
END_TEST

START_TEST(errors_name_the_option_and_suggest) {
    char *unknown[] = {"verb", "--cuont=5", NULL};
    parsed r = parse(2, unknown, false);
    ck_assert_int_eq(r.ids[r.n - 1], RB_CLI_ERROR);
    ck_assert_int_eq(r.err.code, RB_ERR_ARG);
    ck_assert_str_eq(r.err.msg, "unknown option '--cuont' (did you mean --count?)");

    char *far[] = {"verb", "--frobnicate", NULL};
    r = parse(2, far, false);
    ck_assert_str_eq(r.err.msg, "unknown option '--frobnicate'");

    char *helpish[] = {"verb", "--hepl", NULL};
    r = parse(2, helpish, false);
    ck_assert_str_eq(r.err.msg, "unknown option '--hepl' (did you mean --help?)");

    char *missing[] = {"verb", "--json", "--count", NULL};
    r = parse(3, missing, false);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_str_eq(r.err.msg, "--count needs a value");

    char *flagval[] = {"verb", "--json=yes", NULL};
    r = parse(2, flagval, false);
    ck_assert_str_eq(r.err.msg, "--json takes no value (got 'yes')");

    char *bundled[] = {"verb", "-qX", NULL};
    r = parse(2, bundled, false);
    ck_assert_int_eq(r.ids[0], RB_CLI_ERROR);

    char *shortmissing[] = {"verb", "-X", NULL};
    r = parse(2, shortmissing, false);
    ck_assert_str_eq(r.err.msg, "-X needs a value");
}
END_TEST

START_TEST(value_checks_share_one_wording) {
    rb_error err;
    long l = 0;
    uint64_t u = 0;
    double d = 0;
    ck_assert_int_eq(rb_cli_long("--k", "12", 1, 100, &l, &err), 0);
    ck_assert_int_eq(l, 12);
    ck_assert_int_eq(rb_cli_long("--k", "0", 1, 100, &l, &err), -1);
    ck_assert_str_eq(err.msg, "--k takes a whole number from 1 to 100, not '0'");
    ck_assert_int_eq(rb_cli_long("--k", "5x", 1, 100, &l, &err), -1);
    ck_assert_int_eq(rb_cli_long("--k", "", 1, 100, &l, &err), -1);
    ck_assert_int_eq(l, 12);
    ck_assert_int_eq(rb_cli_u64("--count", "18446744073709551615", 0, UINT64_MAX, &u, &err), 0);
    ck_assert(u == UINT64_MAX);
    /* strtoull would read "-1" as UINT64_MAX. */
    ck_assert_int_eq(rb_cli_u64("--count", "-1", 0, UINT64_MAX, &u, &err), -1);
    ck_assert_int_eq(rb_cli_u64("--count", "+1", 0, UINT64_MAX, &u, &err), -1);
    ck_assert_int_eq(rb_cli_u64("--count", "18446744073709551616", 0, UINT64_MAX, &u, &err), -1);
    ck_assert_int_eq(rb_cli_double("--rate", "0.5", 0, 1, &d, &err), 0);
    ck_assert(d == 0.5);
    ck_assert_int_eq(rb_cli_double("--rate", "nan", 0, 1, &d, &err), -1);
    ck_assert_int_eq(rb_cli_double("--rate", "1.5", 0, 1, &d, &err), -1);
    ck_assert_str_eq(err.msg, "--rate takes a number from 0 to 1, not '1.5'");
}
END_TEST

/* ---- the verbs, through the binary ---------------------------------------- */

/* Runs `ragbatch ARGS...` (NULL-terminated) from the source tree, with
 * the servers' variables set to unreachable addresses (no verb here gets
 * as far as connecting). */
static spawn_ran run(const char *const *args) {
    static const char *const env[] = {"RAGBATCH_KAFKA_BOOTSTRAP=127.0.0.1:9",
                                      "RAGBATCH_MONGO_URI=mongodb://127.0.0.1:9/"
                                      "?serverSelectionTimeoutMS=100",
                                      NULL};
    spawn_opts o = {.cwd = RB_SOURCE_DIR, .env = env};
    return spawn_ragbatch(args, &o);
}

#define JOB "jobs/product-updates.job"

/* The old ladders refused --set=K=V in check/run/search/index. */
START_TEST(set_with_equals_works_on_every_job_verb) {
    spawn_ran r = run((const char *[]){"check", JOB, "--set=batch.max.records=7", NULL});
    ck_assert_msg(r.status == 0, "check --set=: %d %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "batch.max.records = 7"));
    spawn_ran_free(&r);
    spawn_ran s = run((const char *[]){"check", JOB, "--set", "batch.max.records=8", NULL});
    ck_assert_int_eq(s.status, 0);
    ck_assert_ptr_nonnull(strstr(s.out, "batch.max.records = 8"));
    spawn_ran_free(&s);
    /* A bad key given either way is the same configuration error. */
    spawn_ran t = run((const char *[]){"check", JOB, "--set=batch.max.recrods=7", NULL});
    ck_assert_int_eq(t.status, 2);
    ck_assert_ptr_nonnull(strstr(t.err, "batch.max.records"));
    spawn_ran_free(&t);
}
END_TEST

START_TEST(equals_values_reach_each_verb_check) {
    struct {
        const char *args[8];
        const char *err;
    } cases[] = {
        {{"search", JOB, "q", "--k=0", NULL}, "--k takes a whole number from 1 to 10000, not '0'"},
        {{"search", JOB, "q", "--candidates=x", NULL}, "--candidates takes a whole number"},
        {{"index", "show", JOB, "--similarity=manhattan", NULL}, "manhattan"},
        {{"backfill", JOB, "--from-timestamp=yesterday", NULL},
         "--from-timestamp takes an RFC 3339 time, not 'yesterday'"},
        {{"backfill", JOB, "--from-offsets=t:x=1", NULL}, "--from-offsets takes topic:partition"},
        {{"run", JOB, "--until=forever", NULL}, "--until takes 'caught-up', not 'forever'"},
        {{"embed", "--threads=0", "text", NULL}, "--threads takes a whole number from 1 to 256"},
        {{"dlq", "replay", "t.dlq", "--filter=sink", NULL}, "--filter takes stage=STAGE"},
        {{"generate", "--stdout", "--count=x", NULL}, "--count takes a whole number"},
        {{"config", "--markdown=yes", NULL}, "--markdown takes no value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        spawn_ran r = run(cases[i].args);
        ck_assert_msg(r.status == 2 && strstr(r.err, cases[i].err), "%s: status %d, stderr: %s",
                      cases[i].args[0], r.status, r.err);
        spawn_ran_free(&r);
    }
}
END_TEST

START_TEST(unknown_options_are_refused_with_a_suggestion_on_every_verb) {
    struct {
        const char *args[8];
        const char *err;
    } cases[] = {
        {{"run", JOB, "--untill", "caught-up", NULL},
         "unknown option '--untill' (did you mean --until?)"},
        {{"check", JOB, "--until", "caught-up", NULL}, "unknown option '--until'"},
        {{"backfill", JOB, "--from-begining", NULL}, "(did you mean --from-beginning?)"},
        {{"search", JOB, "q", "--filtr", "a=b", NULL}, "(did you mean --filter?)"},
        {{"index", "show", JOB, "--simlarity", "cosine", NULL}, "(did you mean --similarity?)"},
        {{"embed", "--toknes", "x", NULL}, "(did you mean --tokens?)"},
        {{"dlq", "stats", "t.dlq", "--bootstap", "h:1", NULL}, "(did you mean --bootstrap?)"},
        {{"generate", "--stdout", "--count", "1", "--sequental", NULL},
         "(did you mean --sequential?)"},
        {{"config", "--markdwon", NULL}, "(did you mean --markdown?)"},
        {{"serach", NULL}, "unknown verb 'serach' (did you mean search?)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        spawn_ran r = run(cases[i].args);
        ck_assert_msg(r.status == 2 && strstr(r.err, cases[i].err), "%s: status %d, stderr: %s",
                      cases[i].args[0], r.status, r.err);
        spawn_ran_free(&r);
    }
}
END_TEST

START_TEST(help_goes_to_stdout_on_every_verb) {
    const char *verbs[] = {"run",   "check", "backfill", "config",   "search",
                           "index", "embed", "dlq",      "generate", "status"};
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        for (int form = 0; form < 2; form++) {
            spawn_ran r = run((const char *[]){verbs[i], form ? "-h" : "--help", NULL});
            ck_assert_msg(r.status == 0 && strstr(r.out, "sage: ragbatch"), "%s %s: %d %s",
                          verbs[i], form ? "-h" : "--help", r.status, r.err);
            spawn_ran_free(&r);
        }
    }
}
END_TEST

START_TEST(generate_runs_with_either_form) {
    spawn_ran a = run((const char *[]){"generate", "--stdout", "--count=3", "--seed=4",
                                       "--start-time=2026-11-24T09:41:07.123Z", "-q", NULL});
    spawn_ran b =
        run((const char *[]){"generate", "--stdout", "--count", "3", "--seed", "4", "--start-time",
                             "2026-11-24T09:41:07.123Z", "--quiet", NULL});
    ck_assert_int_eq(a.status, 0);
    ck_assert_int_eq(b.status, 0);
    ck_assert_str_eq(a.out, b.out);
    size_t lines = 0;
    for (const char *c = a.out; *c; c++) lines += *c == '\n';
    ck_assert_uint_eq(lines, 3);
    spawn_ran_free(&a);
    spawn_ran_free(&b);
}
END_TEST

/* Each job verb takes up to 64 --set options and refuses the 65th as a
 * usage error, before reading the job. */
START_TEST(too_many_sets_is_a_usage_error_on_every_job_verb) {
    const char *const verbs[][3] = {{"check", JOB, NULL},    {"run", JOB, NULL},
                                    {"backfill", JOB, NULL}, {"search", JOB, "q"},
                                    {"index", "show", JOB},  {"status", JOB, NULL}};
    static const char *const env[] = {"RAGBATCH_KAFKA_BOOTSTRAP=127.0.0.1:9",
                                      "RAGBATCH_MONGO_URI=mongodb://127.0.0.1:9/", NULL};
    spawn_opts o = {.cwd = RB_SOURCE_DIR, .env = env};
    for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++) {
        for (int sets = 64; sets <= 65; sets++) {
            const char *argv[80] = {RB_BUILD_DIR "/ragbatch"};
            size_t n = 1;
            for (size_t i = 0; i < 3 && verbs[v][i]; i++) argv[n++] = verbs[v][i];
            for (int i = 0; i < sets; i++) argv[n++] = "--set=batch.max.records=7";
            argv[n++] = "--bogus-option"; /* with 64 sets, the next refusal is this one */
            argv[n] = NULL;
            spawn_ran r = spawn_run(argv, &o);
            ck_assert_msg(r.status == 2, "%s with %d sets: %d %s", verbs[v][0], sets, r.status,
                          r.err);
            bool full = strstr(r.err, "more than 64 --set options") != NULL;
            ck_assert_msg(full == (sets == 65), "%s with %d sets: %s", verbs[v][0], sets, r.err);
            spawn_ran_free(&r);
        }
    }
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("cli");
    TCase *parser = tcase_create("parser");
    tcase_add_test(parser, value_forms_are_the_same);
    tcase_add_test(parser, a_value_may_begin_with_a_dash);
    tcase_add_test(parser, flags_operands_help_and_double_dash);
    tcase_add_test(parser, stop_at_operand_keeps_later_dashes_as_operands);
    tcase_add_test(parser, errors_name_the_option_and_suggest);
    tcase_add_test(parser, value_checks_share_one_wording);
    suite_add_tcase(s, parser);
    TCase *verbs = tcase_create("verbs");
    tcase_set_timeout(verbs, 60);
    tcase_add_test(verbs, set_with_equals_works_on_every_job_verb);
    tcase_add_test(verbs, equals_values_reach_each_verb_check);
    tcase_add_test(verbs, unknown_options_are_refused_with_a_suggestion_on_every_verb);
    tcase_add_test(verbs, help_goes_to_stdout_on_every_verb);
    tcase_add_test(verbs, generate_runs_with_either_form);
    tcase_add_test(verbs, too_many_sets_is_a_usage_error_on_every_job_verb);
    suite_add_tcase(s, verbs);
    return s;
}
