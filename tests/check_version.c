/*
 * check_version.c -- `ragbatch --version` through the binary: the release
 * and commit, and every library version and the embedding kernel as the
 * libraries and the kernel selection themselves report them in this
 * process (so a hard-coded string in the binary would fail here).
 */
#include "check_main.h"
#include "common/buf.h"
#include "common/cpus.h"
#include "config.h"
#include "embed/bert/int8.h"
#include "embed/bert/matmul.h"
#include "version/version.h"
#include "spawn.h"

#include <check.h>
#include <ctype.h>
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utf8proc.h>

/* `ragbatch ARG`'s standard output; its exit status in *status. */
static char *run(const char *arg, int *status) {
    spawn_ran r = spawn_ragbatch((const char *[]){arg, NULL}, NULL);
    *status = r.status;
    free(r.err);
    return r.out;
}

static void expect_line(const char *text, const char *fmt, const char *a, const char *b) {
    char line[1024];
    snprintf(line, sizeof line, fmt, a, b);
    ck_assert_msg(spawn_has_line(text, line), "no line \"%s\" in:\n%s", line, text);
}

START_TEST(version_names_release_commit_libraries_and_kernel) {
    int status;
    char *out = run("--version", &status);
    ck_assert_int_eq(status, 0);
    expect_line(out, "ragbatch %s (commit %s)", PACKAGE_VERSION, rb_version_commit());
    expect_line(out, "librdkafka %s%s", rd_kafka_version_str(), "");
    expect_line(out, "libmongoc %s%s", mongoc_get_version(), "");
    expect_line(out, "libcurl %s%s", curl_version_info(CURLVERSION_NOW)->version, "");
    expect_line(out, "utf8proc %s%s", utf8proc_version(), "");
    expect_line(out, "embedding kernel: %s (this CPU and build: %s)",
                rb_matmul_kernel_name(rb_matmul_default_kernel()), rb_matmul_kernels_available());
    if (rb_q8_missing())
        expect_line(out, "embedding precision: fp32 (int8 needs %s, which this CPU lacks)%s",
                    rb_q8_missing(), "");
    else
        expect_line(out, "embedding precision: fp32, int8 (AVX512-VNNI)%s%s", "", "");
    /* The CPUs as this process (same cgroup, same mask) works them out. */
    rb_cpus cpus = rb_cpus_available();
    char shown[160];
    rb_cpus_describe(&cpus, shown, sizeof shown);
    expect_line(out, "cpus: %s%s", shown, "");
    char *verb = run("version", &status);
    ck_assert_int_eq(status, 0);
    ck_assert_str_eq(verb, out);
    free(verb);
    free(out);
}
END_TEST

/* Built from a checkout (or a tarball, which carries .commit), the commit
 * is a hexadecimal abbreviation, perhaps marked -dirty: never "unknown". */
START_TEST(commit_is_known_in_a_checkout_or_tarball) {
    struct stat st;
    bool source_known = stat(RB_SOURCE_DIR "/.git", &st) == 0 ||
                        stat(RB_SOURCE_DIR "/.commit", &st) == 0 || getenv("RAGBATCH_COMMIT");
    const char *c = rb_version_commit();
    if (!source_known) {
        ck_assert_str_eq(c, "unknown");
        return;
    }
    size_t hex = 0;
    while (isxdigit((unsigned char)c[hex])) hex++;
    ck_assert_msg(hex >= 7, "commit \"%s\" is not a git abbreviation", c);
    ck_assert_msg(c[hex] == '\0' || strcmp(c + hex, "-dirty") == 0, "commit \"%s\"", c);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("version");
    TCase *tc = tcase_create("version");
    tcase_add_test(tc, version_names_release_commit_libraries_and_kernel);
    tcase_add_test(tc, commit_is_known_in_a_checkout_or_tarball);
    suite_add_tcase(s, tc);
    return s;
}
