/* Unit tests for the common module: errors, buffers, logs, the PRNG and
 * the retry backoff. */
#include "check_main.h"
#include "common/backoff.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/cpus.h"
#include "common/error.h"
#include "common/log.h"
#include "common/prng.h"
#include "common/redact.h"
#include "common/suggest.h"
#include "json/json.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

START_TEST(error_set_formats_and_returns_minus_one) {
    rb_error err;
    rb_error_clear(&err);
    ck_assert_int_eq(rb_error_set(&err, RB_ERR_CONFIG, RB_STAGE_CONFIG, "key %s", "x"), -1);
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "key x");
    ck_assert(!err.retriable);
    rb_error_prefix(&err, "job %d", 7);
    ck_assert_str_eq(err.msg, "job 7: key x");
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_int_eq(rb_error_set_retriable(&err, RB_ERR_MONGO, RB_STAGE_SINK, "down"), -1);
    ck_assert(err.retriable);
    ck_assert_str_eq(rb_stage_name(err.stage), "sink");
    ck_assert_int_eq(rb_error_set(NULL, RB_ERR_IO, RB_STAGE_NONE, "ignored"), -1);
}
END_TEST

START_TEST(error_message_is_truncated_not_overflowed) {
    rb_error err;
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rb_error_set(&err, RB_ERR_IO, RB_STAGE_NONE, "%s", big);
    ck_assert_uint_eq(strlen(err.msg), RB_ERROR_MSG_MAX - 1);
}
END_TEST

START_TEST(buf_appends_and_escapes_json) {
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_buf_printf(&b, "%d-%s", 42, "x"), 0);
    ck_assert_str_eq(b.data, "42-x");
    rb_buf_reset(&b);
    const char raw[] = "a\"b\\c\n\x01";
    ck_assert_int_eq(rb_buf_json_string(&b, raw, sizeof raw - 1), 0);
    ck_assert_str_eq(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    for (int i = 0; i < 10000; i++) ck_assert_int_eq(rb_buf_putc(&b, 'z'), 0);
    ck_assert_uint_eq(b.len, strlen(b.data));
    char *owned = rb_buf_detach(&b);
    ck_assert_ptr_null(b.data);
    free(owned);
    owned = rb_buf_detach(&b);
    ck_assert_str_eq(owned, "");
    free(owned);
}
END_TEST

START_TEST(log_json_lines_are_valid_and_filtered) {
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_log log;
    rb_log_init(&log);
    log.out = f;
    log.format = RB_LOG_JSON;
    log.job = "demo";
    rb_log_write(&log, RB_LOG_DEBUG, "batch", "dropped");
    rb_log_write(&log, RB_LOG_WARN, "batch", "quote \" here");
    fclose(f);
    ck_assert_ptr_null(strstr(mem, "dropped"));
    ck_assert_ptr_nonnull(strstr(mem, "\"log.level\":\"WARN\""));
    ck_assert_ptr_nonnull(strstr(mem, "\"job\":\"demo\""));
    ck_assert_ptr_nonnull(strstr(mem, "\"message\":\"quote \\\" here\"}"));
    free(mem);
    rb_log_level lv;
    ck_assert_int_eq(rb_log_level_parse("WARN", &lv), 0);
    ck_assert_int_eq(lv, RB_LOG_WARN);
    ck_assert_int_eq(rb_log_level_parse("loud", &lv), -1);
}
END_TEST

/* Writes one line with every kind of field in `format`; returns it. */
static char *log_line(rb_log_format format, const char *logfmt) {
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_log log;
    rb_log_init(&log);
    log.out = f;
    log.format = format;
    log.job = "demo job";
    rb_log_kv(&log, RB_LOG_WARN, "retry",
              RB_LOG_FIELDS(RB_LOG_S("topic", "t-1"), RB_LOG_I("partition", -1),
                            RB_LOG_U("offset", 42), RB_LOG_D("ratio", 0.25), RB_LOG_B("ok", false),
                            RB_LOG_S("error.message", "no \"server\" at mongodb://u:pw@h/"),
                            RB_LOG_S("absent", NULL), RB_LOG_LOGFMT(logfmt)),
              "waiting %d ms", 200);
    fclose(f);
    return mem;
}

/* Every field is a JSON key with a typed value, none is folded into the
 * message (the issue: "msg":"topic=... reason=..."). */
START_TEST(log_json_fields_are_keys) {
    char *line = log_line(RB_LOG_JSON, "stored=3 server=\"Ferret DB\" rate=1.5 flag=true word");
    rb_json_doc *doc;
    rb_error err;
    ck_assert_msg(rb_json_parse(line, strlen(line), NULL, &doc, &err) == 0, "%s: %s", err.msg,
                  line);
    const rb_json *o = rb_json_doc_root(doc);
    ck_assert(rb_json_get(o, "@timestamp")->type == RB_JSON_STRING);
    ck_assert_str_eq(rb_json_string(rb_json_get(o, "log.level")), "WARN");
    ck_assert_str_eq(rb_json_string(rb_json_get(o, "job")), "demo job");
    ck_assert_str_eq(rb_json_string(rb_json_get(o, "event.action")), "retry");
    ck_assert_str_eq(rb_json_string(rb_json_get(o, "topic")), "t-1");
    ck_assert_int_eq(rb_json_get(o, "partition")->integer, -1);
    ck_assert_int_eq(rb_json_get(o, "offset")->integer, 42);
    ck_assert(rb_json_get(o, "ratio")->number == 0.25);
    ck_assert(rb_json_get(o, "ok")->type == RB_JSON_BOOL && !rb_json_get(o, "ok")->boolean);
    ck_assert_str_eq(rb_json_string(rb_json_get(o, "error.message")),
                     "no \"server\" at mongodb://u:***@h/");
    ck_assert_ptr_null(rb_json_get(o, "absent"));
    /* The logfmt text of ragbatch's own making becomes keys too. */
    ck_assert_int_eq(rb_json_get(o, "stored")->integer, 3);
    ck_assert_str_eq(rb_json_string(rb_json_get(o, "server")), "Ferret DB");
    ck_assert(rb_json_get(o, "rate")->number == 1.5);
    ck_assert(rb_json_get(o, "flag")->boolean);
    ck_assert_str_eq(rb_json_string(rb_json_get(o, "message")), "word waiting 200 ms");
    rb_json_doc_destroy(doc);
    free(line);
}
END_TEST

/* The same fields, in logfmt: values quoted only when they must be. */
START_TEST(log_text_is_logfmt_with_the_same_fields) {
    char *line = log_line(RB_LOG_TEXT, "stored=3");
    ck_assert_msg(strstr(line, " level=WARN job=\"demo job\" event=retry topic=t-1 partition=-1 "
                               "offset=42 ratio=0.25 ok=false error.message=\"no \\\"server\\\" "
                               "at mongodb://u:***@h/\" stored=3 msg=\"waiting 200 ms\"\n"),
                  "%s", line);
    ck_assert_ptr_null(strstr(line, "absent"));
    free(line);
}
END_TEST

START_TEST(suggest_finds_typos_only) {
    ck_assert_uint_eq(rb_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(rb_edit_distance("", "abc"), 3);
    ck_assert_uint_eq(rb_edit_distance("same", "same"), 0);
    static const char *const names[] = {"errors.tolerance", "errors.log.enable",
                                        "batch.max.bytes"};
    ck_assert_str_eq(rb_suggest("errors.tolerence", names, 3, 2), "errors.tolerance");
    ck_assert_ptr_null(rb_suggest("totally.different", names, 3, 2));
}
END_TEST

/* Invalid UTF-8 is written as \xHH text, so a JSON line stays valid UTF-8;
 * valid multi-byte characters pass unchanged. */
START_TEST(buf_json_string_escapes_invalid_utf8) {
    rb_buf b;
    rb_buf_init(&b);
    const char raw[] = "caf\xc3\xa9 \xc3\x28 \xff\xfe \xed\xa0\x80 \xf0\x9f\x98\x80 \xe2\x82";
    ck_assert_int_eq(rb_buf_json_string(&b, raw, sizeof raw - 1), 0);
    ck_assert_str_eq(b.data, "\"caf\xc3\xa9 \\\\xc3( \\\\xff\\\\xfe \\\\xed\\\\xa0\\\\x80 "
                             "\xf0\x9f\x98\x80 \\\\xe2\\\\x82\"");
    rb_buf_free(&b);
}
END_TEST

typedef struct redact_case {
    const char *in, *want;
} redact_case;

/* Every credential form redact.h lists, and text that only looks like one. */
static const redact_case redactions[] = {
    {"mongodb://alice:hunter2@db1:27017,db2:27017/?replicaSet=rs0",
     "mongodb://alice:***@db1:27017,db2:27017/?replicaSet=rs0"},
    {"mongodb+srv://cluster.example.net/?authMechanism=MONGODB-AWS&authMechanismProperties="
     "AWS_SESSION_TOKEN:FQoGZXIvYXdzEBYaDK,SERVICE_NAME:mongodb",
     "mongodb+srv://cluster.example.net/?authMechanism=MONGODB-AWS&authMechanismProperties="
     "AWS_SESSION_TOKEN:***,SERVICE_NAME:mongodb"},
    {"mongodb://h/?authMechanismProperties=SERVICE_NAME%3Amongodb%2CAWS_SESSION_TOKEN%3AFQo9",
     "mongodb://h/?authMechanismProperties=SERVICE_NAME%3Amongodb%2CAWS_SESSION_TOKEN%3A***"},
    {"mongodb://h/db?password=pw1&tls=true&tlsCertificateKeyFilePassword=pw2"
     "&sslClientCertificateKeyPassword=pw3&appname=x",
     "mongodb://h/db?password=***&tls=true&tlsCertificateKeyFilePassword=***"
     "&sslClientCertificateKeyPassword=***&appname=x"},
    {"mongodb://CN=client,O=org@h/?authMechanism=MONGODB-X509",
     "mongodb://CN=client,O=org@h/?authMechanism=MONGODB-X509"},
    {"cannot reach https://bob:s3cret@registry.example.com:8081/ (timeout)",
     "cannot reach https://bob:***@registry.example.com:8081/ (timeout)"},
    {"https://ghp_tok3n@git.example.com/a?api_key=K1&sig=S2&page=2#access_token=T3&x=1",
     "https://***@git.example.com/a?api_key=***&sig=***&page=2#access_token=***&x=1"},
    {"kafka.sasl.password=abc123 next", "kafka.sasl.password=*** next"},
    {"schema.registry.basic.auth.user.info = alice:pw done",
     "schema.registry.basic.auth.user.info = *** done"},
    {"{\"password\": \"p w\", \"user\": \"u\"}", "{\"password\": \"***\", \"user\": \"u\"}"},
    {"'client_secret':'xyz'", "'client_secret':'***'"},
    {"props AWS_SESSION_TOKEN:abcdef rest", "props AWS_SESSION_TOKEN:*** rest"},
    {"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "Authorization: Bearer ***"},
    {"key -----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY----- after",
     "key -----BEGIN PRIVATE KEY-----***-----END PRIVATE KEY----- after"},
    /* Not credentials. */
    {"stopping at t [0] offset 5: validate failed: /price: -3 is below 0",
     "stopping at t [0] offset 5: validate failed: /price: -3 is below 0"},
    {"schema.registry.basic.auth.user.info: the registry answered 401",
     "schema.registry.basic.auth.user.info: the registry answered 401"},
    {"key=\"p-1\" value=\"x\" tokens=5 more than 4 JSON tokens",
     "key=\"p-1\" value=\"x\" tokens=5 more than 4 JSON tokens"},
    {"mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"},
};

START_TEST(redact_replaces_every_credential_form) {
    for (size_t i = 0; i < sizeof redactions / sizeof redactions[0]; i++) {
        char *got = rb_redact_dup(redactions[i].in);
        ck_assert_msg(strcmp(got, redactions[i].want) == 0, "in:   %s\ngot:  %s\nwant: %s",
                      redactions[i].in, got, redactions[i].want);
        free(got);
    }
    ck_assert(rb_redact_sensitive_name("ssl.key.password", 16));
    ck_assert(rb_redact_sensitive_name("sasl.oauthbearer.config", 23));
    ck_assert(rb_redact_sensitive_name("X-Auth-Token", 12));
    ck_assert(!rb_redact_sensitive_name("tokens", 6));
    ck_assert(!rb_redact_sensitive_name("bootstrap.servers", 17));
    /* The fixed-buffer form cuts to fit and stays terminated. */
    char small[16];
    rb_redact_to(small, sizeof small, "mongodb://u:secretpassword@host/");
    ck_assert_str_eq(small, "mongodb://u:***");
}
END_TEST

/* Errors and log lines are redacted whatever their origin. */
START_TEST(errors_and_log_lines_never_carry_credentials) {
    rb_error err;
    rb_error_set(&err, RB_ERR_MONGO, RB_STAGE_SINK, "No suitable servers for %s",
                 "mongodb://app:hunter2@db/?authMechanismProperties=AWS_SESSION_TOKEN:tok99");
    ck_assert_str_eq(err.msg, "No suitable servers for mongodb://app:***@db/"
                              "?authMechanismProperties=AWS_SESSION_TOKEN:***");
    rb_error_set(&err, RB_ERR_HTTP, RB_STAGE_EMBED, "plain");
    rb_error_prefix(&err, "POST https://k3y@api.example.com/v1/embeddings");
    ck_assert_str_eq(err.msg, "POST https://***@api.example.com/v1/embeddings: plain");
    for (int format = 0; format < 2; format++) {
        char *mem = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&mem, &size);
        rb_log log;
        rb_log_init(&log);
        log.out = f;
        log.format = format ? RB_LOG_JSON : RB_LOG_TEXT;
        rb_log_write(&log, RB_LOG_ERROR, "dlq_kafka", "sasl.password=%s uri=%s", "pw-1",
                     "mongodb://h/?tlsCertificateKeyFilePassword=pw-2");
        fclose(f);
        ck_assert_msg(!strstr(mem, "pw-1") && !strstr(mem, "pw-2"), "%s", mem);
        ck_assert_ptr_nonnull(strstr(mem, "tlsCertificateKeyFilePassword=***"));
        free(mem);
    }
}
END_TEST

/* The reference xoshiro256** seeded through splitmix64 (outputs computed
 * with an independent transcription of the published algorithm): one seed
 * gives the same stream on every platform, which `generate --seed` needs. */
START_TEST(prng_matches_the_reference_stream) {
    rb_prng r;
    rb_prng_seed(&r, 42);
    static const uint64_t want42[] = {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL,
                                      0xae17533239e499a1ULL, 0xecb8ad4703b360a1ULL};
    for (size_t i = 0; i < 4; i++) ck_assert_uint_eq(rb_prng_next(&r), want42[i]);
    rb_prng_seed(&r, 0); /* zero is a usable seed */
    ck_assert_uint_eq(rb_prng_next(&r), 0x99ec5f36cb75f2b4ULL);
    ck_assert_uint_eq(rb_prng_next(&r), 0xbf6e1f784956452aULL);
    rb_prng fork = r; /* a copy forks the stream */
    ck_assert_uint_eq(rb_prng_next(&fork), rb_prng_next(&r));
}
END_TEST

START_TEST(prng_ranges_stay_in_bounds_and_cover_them) {
    rb_prng r;
    rb_prng_seed(&r, 7);
    int seen[7] = {0};
    bool low = false, high = false;
    for (int i = 0; i < 10000; i++) {
        uint64_t b = rb_prng_below(&r, 7);
        ck_assert_uint_lt(b, 7);
        seen[b]++;
        int64_t x = rb_prng_range(&r, -3, 3);
        ck_assert(x >= -3 && x <= 3);
        double u = rb_prng_unit(&r);
        ck_assert(u >= 0.0 && u < 1.0);
        low |= u < 0.01;
        high |= u > 0.99;
    }
    for (int i = 0; i < 7; i++) ck_assert_int_gt(seen[i], 1000); /* about 1429 each */
    ck_assert(low && high);
    ck_assert_uint_eq(rb_prng_below(&r, 0), 0);
    ck_assert(!rb_prng_chance(&r, 0.0));
    ck_assert(rb_prng_chance(&r, 1.0));
    ck_assert_int_eq(rb_prng_range(&r, 5, 5), 5);
}
END_TEST

START_TEST(backoff_doubles_up_to_the_cap) {
    static const int64_t want[] = {100, 200, 400, 800, 1000, 1000};
    for (int n = 1; n <= 6; n++)
        ck_assert_int_eq(rb_backoff_nominal_ms(100, 1000, n), want[n - 1]);
    ck_assert_int_eq(rb_backoff_nominal_ms(100, 1000, 0), 100); /* before the first retry */
    ck_assert_int_eq(rb_backoff_nominal_ms(100, 1000, 100000), 1000);
    ck_assert_int_eq(rb_backoff_nominal_ms(500, 100, 3), 500); /* cap below the start */
    ck_assert_int_eq(rb_backoff_nominal_ms(0, 1000, 5), 0);
    /* no overflow however long it retries */
    ck_assert_int_eq(rb_backoff_nominal_ms(3, INT64_MAX, 2000), INT64_MAX);
    ck_assert_int_eq(rb_backoff_nominal_ms(INT64_MAX / 2 + 1, INT64_MAX, 3), INT64_MAX);
}
END_TEST

/* Equal jitter: every wait in [nominal / 2, nominal], never above the cap,
 * and spread over that whole range. */
START_TEST(backoff_jitter_stays_within_half_and_full) {
    rb_prng r;
    rb_prng_seed(&r, 99);
    for (int n = 1; n <= 8; n++) {
        int64_t d = rb_backoff_nominal_ms(500, 30000, n), lo = d, hi = 0;
        for (int i = 0; i < 2000; i++) {
            int64_t w = rb_backoff_wait_ms(500, 30000, n, &r);
            ck_assert_msg(w >= d / 2 && w <= d, "attempt %d: %lld not in [%lld, %lld]", n,
                          (long long)w, (long long)(d / 2), (long long)d);
            if (w < lo) lo = w;
            if (w > hi) hi = w;
        }
        ck_assert_msg(lo < d / 2 + d / 20 && hi > d - d / 20, "attempt %d: %lld..%lld", n,
                      (long long)lo, (long long)hi);
    }
    ck_assert_int_eq(rb_backoff_wait_ms(0, 0, 3, &r), 0);
    int64_t w = rb_backoff_wait_ms(1, 1, 1, &r);
    ck_assert(w == 0 || w == 1);
}
END_TEST

/* A scratch cgroup mount: files written under a fresh temporary root. */
static char cg_root[64];

static void cg_file(const char *rel, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", cg_root, rel);
    /* every directory on the way */
    for (char *p = path + strlen(cg_root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        ck_assert(mkdir(path, 0755) == 0 || access(path, F_OK) == 0);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void cg_fresh(void) {
    if (cg_root[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cg_root);
        ck_assert_int_eq(system(cmd), 0);
    }
    snprintf(cg_root, sizeof cg_root, "/tmp/check_cpus_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(cg_root));
}

START_TEST(cpus_v2_takes_the_smallest_quota_on_the_way_up) {
    cg_fresh();
    cg_file("cgroup.controllers", "cpu memory\n");
    cg_file("kubepods/pod1/cpu.max", "200000 100000\n");
    cg_file("kubepods/pod1/ctr/cpu.max", "max 100000\n");
    rb_cpus c = rb_cpus_limit("0::/kubepods/pod1/ctr\n", cg_root, 8);
    ck_assert_int_eq(c.count, 2);
    ck_assert_int_eq(c.affinity, 8);
    ck_assert(c.quota > 1.99 && c.quota < 2.01);
    /* a tighter limit below wins; a fraction is rounded up */
    cg_file("kubepods/pod1/ctr/cpu.max", "150000 100000\n");
    ck_assert_int_eq(rb_cpus_limit("0::/kubepods/pod1/ctr\n", cg_root, 8).count, 2);
    cg_file("kubepods/pod1/ctr/cpu.max", "50000 100000\n");
    ck_assert_int_eq(rb_cpus_limit("0::/kubepods/pod1/ctr\n", cg_root, 8).count, 1);
    /* never more than the affinity mask */
    ck_assert_int_eq(rb_cpus_limit("0::/kubepods/pod1\n", cg_root, 1).count, 1);
    /* a container's own namespace: its group is the mount's root */
    cg_file("cpu.max", "100000 100000\n");
    ck_assert_int_eq(rb_cpus_limit("0::/\n", cg_root, 8).count, 1);
    /* a path the mount does not have (no cgroup namespace): the root */
    ck_assert_int_eq(rb_cpus_limit("0::/elsewhere/x\n", cg_root, 8).count, 1);
}
END_TEST

START_TEST(cpus_v1_reads_the_cfs_quota_of_the_cpu_controller) {
    cg_fresh();
    cg_file("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "300000\n");
    cg_file("cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    const char *proc = "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n0::/\n";
    rb_cpus c = rb_cpus_limit(proc, cg_root, 16);
    ck_assert_int_eq(c.count, 3);
    ck_assert(c.quota > 2.99 && c.quota < 3.01);
    ck_assert_int_eq(rb_cpus_limit(proc, cg_root, 2).count, 2);
    /* -1: no quota; the affinity mask stands */
    cg_file("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n");
    c = rb_cpus_limit(proc, cg_root, 16);
    ck_assert_int_eq(c.count, 16);
    ck_assert(c.quota == 0);
    /* a file that does not parse sets no bound */
    cg_file("cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "lots\n");
    ck_assert_int_eq(rb_cpus_limit(proc, cg_root, 16).count, 16);
    /* the controller mounted as "cpu", the group at its root */
    cg_fresh();
    cg_file("cpu/cpu.cfs_quota_us", "100000\n");
    cg_file("cpu/cpu.cfs_period_us", "100000\n");
    ck_assert_int_eq(rb_cpus_limit("3:cpu:/docker/abc\n", cg_root, 16).count, 1);
    /* a controller list without cpu ("cpuacct", "cpuset") is not read */
    ck_assert_int_eq(rb_cpus_limit("3:cpuacct:/\n2:cpuset:/\n", cg_root, 16).count, 16);
}
END_TEST

START_TEST(cpus_without_cgroups_is_the_affinity_mask) {
    cg_fresh();
    rb_cpus c = rb_cpus_limit("", cg_root, 4);
    ck_assert_int_eq(c.count, 4);
    char text[160];
    rb_cpus_describe(&c, text, sizeof text);
    ck_assert_str_eq(text, "4 (the affinity mask; no CPU quota)");
    c = (rb_cpus){.count = 1, .affinity = 8, .quota = 0.5};
    rb_cpus_describe(&c, text, sizeof text);
    ck_assert_str_eq(text, "1 (CPU quota 0.50 of the cgroup; 8 in the affinity mask)");
    /* this process: at least one, never more than its mask */
    rb_cpus self = rb_cpus_available();
    ck_assert_int_ge(self.count, 1);
    ck_assert_int_le(self.count, self.affinity);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", cg_root);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(base64_padded_and_not) {
    unsigned char out[16];
    ck_assert_int_eq(rb_base64_decode("AQID", 4, true, out), 3);
    ck_assert(out[0] == 1 && out[1] == 2 && out[2] == 3);
    ck_assert_int_eq(rb_base64_decode("AQ==", 4, true, out), 1);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(rb_base64_decode("AQI=", 4, true, out), 2);
    ck_assert_int_eq(rb_base64_decode("", 0, true, out), 0);
    /* padded: whole groups, '=' only at the end, the alphabet only */
    ck_assert_int_eq(rb_base64_decode("AQ", 2, true, out), -1);
    ck_assert_int_eq(rb_base64_decode("A===AQID", 8, true, out), -1);
    ck_assert_int_eq(rb_base64_decode("AQ-_", 4, true, out), -1);
    /* not padded: the same bytes without '=', and decoding stops at one */
    ck_assert_int_eq(rb_base64_decode("AQ", 2, false, out), 1);
    ck_assert_int_eq(out[0], 1);
    ck_assert_int_eq(rb_base64_decode("AQI=junk", 8, false, out), 2);
    ck_assert_int_eq(rb_base64_decode("+/+/", 4, false, out), 3);
    ck_assert(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
    ck_assert_int_eq(rb_base64_decode("AQ!D", 4, false, out), -1);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("common");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, error_set_formats_and_returns_minus_one);
    tcase_add_test(tc, error_message_is_truncated_not_overflowed);
    tcase_add_test(tc, buf_appends_and_escapes_json);
    tcase_add_test(tc, log_json_lines_are_valid_and_filtered);
    tcase_add_test(tc, log_json_fields_are_keys);
    tcase_add_test(tc, log_text_is_logfmt_with_the_same_fields);
    tcase_add_test(tc, suggest_finds_typos_only);
    tcase_add_test(tc, buf_json_string_escapes_invalid_utf8);
    tcase_add_test(tc, redact_replaces_every_credential_form);
    tcase_add_test(tc, errors_and_log_lines_never_carry_credentials);
    tcase_add_test(tc, prng_matches_the_reference_stream);
    tcase_add_test(tc, prng_ranges_stay_in_bounds_and_cover_them);
    tcase_add_test(tc, backoff_doubles_up_to_the_cap);
    tcase_add_test(tc, backoff_jitter_stays_within_half_and_full);
    tcase_add_test(tc, cpus_v2_takes_the_smallest_quota_on_the_way_up);
    tcase_add_test(tc, cpus_v1_reads_the_cfs_quota_of_the_cpu_controller);
    tcase_add_test(tc, cpus_without_cgroups_is_the_affinity_mask);
    tcase_add_test(tc, base64_padded_and_not);
    suite_add_tcase(s, tc);
    return s;
}
