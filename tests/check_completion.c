/*
 * check_completion.c -- the bash completion (completion/ragbatch.bash) run
 * by bash against the built binary, as a <TAB> would run it: verbs,
 * sub-verbs, a verb's options, option values spelled a|b|c in the usage,
 * job keys after --set (the table's and librdkafka's as kafka.*), and a
 * choice key's values after KEY=.  Also `ragbatch config --kafka`, which
 * the kafka.* completion reads.  No servers.
 */
#include "check_main.h"
#include "spawn.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The completion's candidates for the command line `words` (the last word
 * is the one being completed), one per line, as bash's COMPREPLY holds
 * them.  words[0] is replaced by the built binary's path. */
static char *complete(const char *const *words) {
    /* COMP_WORDS as bash would split the line: the words are passed as
     * positional parameters so that nothing in them is parsed as shell. */
    const char *argv[40] = {"bash",
                            "--noprofile",
                            "--norc",
                            "-c",
                            "source \"$0\" && COMP_WORDS=(\"$@\") && "
                            "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _ragbatch && "
                            "for w in \"${COMPREPLY[@]}\"; do printf '%s\\n' \"$w\"; done",
                            RB_SOURCE_DIR "/completion/ragbatch.bash",
                            RB_BUILD_DIR "/ragbatch"};
    size_t n = 7;
    for (size_t i = 1; words[i] && n < 39; i++) argv[n++] = words[i];
    argv[n] = NULL;
    spawn_ran r = spawn_run(argv, &(spawn_opts){.hint = "bash is needed for this suite"});
    ck_assert_msg(r.status == 0, "completion failed (%d): %s", r.status, r.err);
    free(r.err);
    return r.out;
}

static size_t lines(const char *list) {
    size_t n = 0;
    for (const char *p = list; *p; p++) n += *p == '\n';
    return n;
}

#define COMPLETE(...) complete((const char *const[]){"ragbatch", __VA_ARGS__, NULL})

START_TEST(verbs_from_the_help) {
    char *all = COMPLETE("");
    const char *verbs[] = {"run",   "backfill", "check", "config",   "status", "search",
                           "index", "embed",    "dlq",   "generate", "version"};
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        ck_assert_msg(spawn_has_line(all, verbs[i]), "verb %s not offered in:\n%s", verbs[i], all);
    free(all);
    char *ch = COMPLETE("ch");
    ck_assert_str_eq(ch, "check\n");
    free(ch);
}
END_TEST

START_TEST(sub_verbs_from_the_usage) {
    char *dlq = COMPLETE("dlq", "");
    ck_assert_str_eq(dlq, "replay\nshow\nstats\n");
    free(dlq);
    char *index = COMPLETE("index", "");
    ck_assert_str_eq(index, "create\ndrop\nshow\n");
    free(index);
    /* A verb without sub-verbs completes its operand as a file. */
    char *run = COMPLETE("run", "");
    ck_assert_str_eq(run, "");
    free(run);
}
END_TEST

START_TEST(options_of_the_verb) {
    char *run = COMPLETE("run", "jobs/x.job", "--");
    ck_assert_str_eq(run, "--set\n--until\n");
    free(run);
    char *search = COMPLETE("search", "j", "q", "--f");
    ck_assert_str_eq(search, "--filter\n");
    free(search);
    char *show = COMPLETE("dlq", "show", "t", "-");
    ck_assert(spawn_has_line(show, "--stage") && spawn_has_line(show, "--since") &&
              spawn_has_line(show, "-X"));
    free(show);
}
END_TEST

START_TEST(option_values_spelled_in_the_usage) {
    char *sim = COMPLETE("index", "create", "j", "--similarity", "");
    ck_assert_str_eq(sim, "cosine\ndotProduct\neuclidean\n");
    free(sim);
    char *until = COMPLETE("run", "j", "--until", "");
    ck_assert_str_eq(until, "caught-up\n");
    free(until);
    /* A placeholder (N) is no value to offer: file names instead. */
    char *k = COMPLETE("search", "j", "q", "--k", "");
    ck_assert_str_eq(k, "");
    free(k);
}
END_TEST

START_TEST(job_keys_after_set) {
    char *keys = COMPLETE("run", "j", "--set", "");
    ck_assert(spawn_has_line(keys, "errors.tolerance="));
    ck_assert(spawn_has_line(keys, "embed.model.dir="));
    ck_assert(spawn_has_line(keys, "kafka.bootstrap.servers="));
    ck_assert(spawn_has_line(keys, "kafka.group.id="));
    ck_assert_uint_gt(lines(keys), 200);
    free(keys);
    char *boot = COMPLETE("check", "j", "--set", "kafka.bootstrap.s");
    ck_assert_str_eq(boot, "kafka.bootstrap.servers=\n");
    free(boot);
}
END_TEST

START_TEST(choice_values_after_key_equals) {
    /* bash splits "errors.tolerance=a" into "errors.tolerance" "=" "a". */
    char *tol = COMPLETE("run", "j", "--set", "errors.tolerance", "=", "a");
    ck_assert_str_eq(tol, "all\n");
    free(tol);
    char *fmt = COMPLETE("run", "j", "--set", "log.format", "=");
    ck_assert_str_eq(fmt, "text\njson\n");
    free(fmt);
    char *prec = COMPLETE("run", "j", "--set", "embed.precision", "=", "");
    ck_assert_str_eq(prec, "fp32\nint8\n");
    free(prec);
}
END_TEST

START_TEST(config_kafka_lists_librdkafka_properties) {
    spawn_ran r = spawn_ragbatch((const char *[]){"config", "--kafka", NULL}, NULL);
    ck_assert_int_eq(r.status, 0);
    /* who reads it and librdkafka's importance, as the library states them */
    ck_assert_msg(strstr(r.out, "\nkafka.bootstrap.servers ") != NULL, "%s", r.out);
    const char *want[] = {"kafka.group.id", "consumer", "high", "kafka.acks", "producer"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ck_assert_msg(strstr(r.out, want[i]) != NULL, "%s missing", want[i]);
    /* Every line is the key, its reader and librdkafka's importance, even
     * where the table's default holds a '|' (sasl.kerberos.kinit.cmd). */
    size_t count = 0;
    for (char *line = r.out, *next; line && *line; line = next, count++) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char key[256], reader[16], importance[16], more[8];
        ck_assert_msg(sscanf(line, "%255s %15s %15s %7s", key, reader, importance, more) == 3,
                      "line '%s'", line);
        ck_assert_msg(strncmp(key, "kafka.", 6) == 0, "line '%s'", line);
        ck_assert_msg(strcmp(reader, "consumer") == 0 || strcmp(reader, "producer") == 0 ||
                          strcmp(reader, "both") == 0,
                      "line '%s'", line);
        ck_assert_msg(strcmp(importance, "high") == 0 || strcmp(importance, "medium") == 0 ||
                          strcmp(importance, "low") == 0,
                      "line '%s'", line);
        if (next) next[-1] = '\n';
    }
    ck_assert_uint_gt(count, 100);
    char group[256];
    const char *g = strstr(r.out, "kafka.group.id ");
    ck_assert_int_eq(sscanf(g, "%*s %255s", group), 1);
    ck_assert_str_eq(group, "consumer");
    spawn_ran_free(&r);
    spawn_ran both =
        spawn_ragbatch((const char *[]){"config", "--kafka", "--markdown", NULL}, NULL);
    ck_assert_int_eq(both.status, 2);
    ck_assert_ptr_nonnull(strstr(both.err, "choose one"));
    spawn_ran_free(&both);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("completion");
    TCase *tc = tcase_create("bash");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, verbs_from_the_help);
    tcase_add_test(tc, sub_verbs_from_the_usage);
    tcase_add_test(tc, options_of_the_verb);
    tcase_add_test(tc, option_values_spelled_in_the_usage);
    tcase_add_test(tc, job_keys_after_set);
    tcase_add_test(tc, choice_values_after_key_equals);
    tcase_add_test(tc, config_kafka_lists_librdkafka_properties);
    suite_add_tcase(s, tc);
    return s;
}
