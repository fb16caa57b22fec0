/* The HTTP embedding providers (openai, tei) against the in-process test
 * server (tests/servers/embed_server.c): vectors and order, batching by
 * count and tokens, retries honouring Retry-After, 4xx not retried, split
 * on 413, timeouts, malformed answers, the client-side rate limits, secrets
 * kept out of messages, Azure's URL and header, the API key sources, the
 * config rules and the factory. */
#include "check_main.h"
#include "common/clock.h"
#include "common/error.h"
#include "config/config.h"
#include "embed/embedder.h"
#include "embed/http/http_proto.h"
#include "embed/http/ratelimit.h"
#include "runner/embed_opts.h"
#include "servers/embed_server.h"
#include "json/json.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIM 16
#define SECRET "sk-test-SECRET-9f8e7d"

static es_server *srv;
static char url[64];

static void setup(void) {
    srv = es_server_start(0, DIM);
    ck_assert_msg(srv != NULL, "test server did not start");
    snprintf(url, sizeof url, "http://127.0.0.1:%d", es_server_port(srv));
}

static void teardown(void) {
    es_server_stop(srv);
    srv = NULL;
}

static rb_http_embed_opts base_opts(const char *provider) {
    rb_http_embed_opts o;
    rb_error err;
    ck_assert_msg(rb_runner_http_embed_defaults(&o, &err) == 0, "%s", err.msg);
    o.provider = provider;
    o.url = url;
    o.model = "test-model";
    o.dimensions = DIM;
    o.concurrency = 4;
    o.timeout_ms = 5000;
    o.retries = 3;
    o.backoff_ms = 10;
    o.backoff_max_ms = 50;
    o.batch_size = 8;
    o.tls_verify = 1;
    return o;
}

static char **make_texts(size_t n, size_t len) {
    char **t = calloc(n, sizeof *t);
    ck_assert_ptr_nonnull(t);
    for (size_t i = 0; i < n; i++) {
        t[i] = malloc(len + 32);
        ck_assert_ptr_nonnull(t[i]);
        int w = snprintf(t[i], len + 32, "text number %zu \"quoted\" ", i);
        for (size_t j = (size_t)w; j < len; j++) t[i][j] = (char)('a' + (i + j) % 26);
        t[i][len > (size_t)w ? len : (size_t)w] = '\0';
    }
    return t;
}

static void free_texts(char **t, size_t n) {
    for (size_t i = 0; i < n; i++) free(t[i]);
    free(t);
}

static void check_vectors(char **texts, size_t n, const float *out) {
    float want[DIM];
    for (size_t i = 0; i < n; i++) {
        es_vector(texts[i], DIM, want);
        for (size_t j = 0; j < DIM; j++)
            ck_assert_msg(fabsf(out[i * DIM + j] - want[j]) < 1e-6f,
                          "text %zu element %zu: %g, want %g", i, j, out[i * DIM + j], want[j]);
    }
}

/* Embeds n texts of `len` bytes with `o`; returns the call's status. */
static int embed_n(const rb_http_embed_opts *o, size_t n, size_t len, rb_error *err, int check) {
    rb_embedder *e = rb_embedder_http_new(o, err);
    if (!e) return -1;
    char **texts = make_texts(n, len);
    float *out = calloc(n * DIM, sizeof *out);
    ck_assert_ptr_nonnull(out);
    int rc = rb_embedder_embed(e, (const char *const *)texts, n, out, err);
    if (rc == 0 && check) check_vectors(texts, n, out);
    free(out);
    free_texts(texts, n);
    rb_embedder_destroy(e);
    return rc;
}

START_TEST(test_openai_vectors_in_order) {
    es_faults f = {0};
    f.reverse = 1;
    f.delay_ms = 30;
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    rb_error err;
    ck_assert_msg(embed_n(&o, 100, 40, &err, 1) == 0, "%s", err.msg);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 13); /* ceil(100 / 8), no probe */
    ck_assert_uint_eq(st.inputs, 100);
    ck_assert_uint_le(st.max_batch, 8);
    ck_assert_uint_ge(st.max_in_flight, 2);
    ck_assert_uint_le(st.max_in_flight, 4);
    ck_assert_str_eq(st.last_path, "/v1/embeddings");
    ck_assert_msg(strstr(st.last_body_head, "\"model\":\"test-model\"") &&
                      strstr(st.last_body_head, "\"input\":["),
                  "%s", st.last_body_head);
}
END_TEST

START_TEST(test_tei_probe_and_vectors) {
    rb_http_embed_opts o = base_opts("tei");
    o.dimensions = 0; /* learned from a probe */
    o.model = NULL;
    rb_error err;
    rb_embedder *e = rb_embedder_http_new(&o, &err);
    ck_assert_msg(e != NULL, "%s", err.msg);
    ck_assert_uint_eq(rb_embedder_dim(e), DIM);
    ck_assert_str_eq(rb_embedder_provider(e), "tei");
    char **texts = make_texts(20, 30);
    float out[20 * DIM];
    ck_assert_msg(rb_embedder_embed(e, (const char *const *)texts, 20, out, &err) == 0, "%s",
                  err.msg);
    check_vectors(texts, 20, out);
    free_texts(texts, 20);
    rb_embedder_destroy(e);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 1 + 3);
    ck_assert_str_eq(st.last_path, "/embed");
}
END_TEST

START_TEST(test_batch_by_tokens) {
    rb_http_embed_opts o = base_opts("openai");
    o.batch_size = 100;
    o.batch_max_tokens = 100; /* 200-byte texts: 51 tokens each, so 1 per request */
    rb_error err;
    ck_assert_msg(embed_n(&o, 6, 200, &err, 1) == 0, "%s", err.msg);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 6);
    es_server_reset_stats(srv);
    o.batch_max_tokens = 110; /* two per request */
    ck_assert_msg(embed_n(&o, 6, 200, &err, 1) == 0, "%s", err.msg);
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 3);
}
END_TEST

START_TEST(test_429_retry_after_seconds) {
    es_faults f = {0};
    f.n429 = 1;
    snprintf(f.retry_after, sizeof f.retry_after, "1");
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    o.concurrency = 1;
    rb_error err;
    double t0 = rb_now_sec();
    ck_assert_msg(embed_n(&o, 8, 20, &err, 1) == 0, "%s", err.msg);
    double took = rb_now_sec() - t0;
    /* backoff is 10 ms: only Retry-After explains a wait near a second */
    ck_assert_msg(took >= 0.9 && took < 5, "took %.3f s", took);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 2);
}
END_TEST

START_TEST(test_429_retry_after_http_date) {
    es_faults f = {0};
    f.n429 = 1;
    time_t when = time(NULL) + 3;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(f.retry_after, sizeof f.retry_after, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    rb_error err;
    double t0 = rb_now_sec();
    ck_assert_msg(embed_n(&o, 4, 20, &err, 1) == 0, "%s", err.msg);
    double took = rb_now_sec() - t0;
    ck_assert_msg(took >= 1.5 && took < 8, "took %.3f s (Retry-After %s)", took, f.retry_after);
}
END_TEST

START_TEST(test_500_retried_with_backoff) {
    es_faults f = {0};
    f.n500 = 2;
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    o.concurrency = 1;
    o.backoff_ms = 200;
    o.backoff_max_ms = 1000;
    rb_error err;
    double t0 = rb_now_sec();
    ck_assert_msg(embed_n(&o, 8, 20, &err, 1) == 0, "%s", err.msg);
    double took = rb_now_sec() - t0;
    /* waits of 100..200 ms then 200..400 ms (half fixed, half jitter) */
    ck_assert_msg(took >= 0.3 && took < 3, "took %.3f s", took);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 3);
}
END_TEST

START_TEST(test_retries_exhausted) {
    es_faults f = {0};
    f.n500 = 100;
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    o.concurrency = 1;
    o.retries = 2;
    rb_error err;
    ck_assert_int_eq(embed_n(&o, 3, 20, &err, 0), -1);
    ck_assert_int_eq(err.stage, RB_STAGE_EMBED);
    ck_assert(!err.retriable);
    ck_assert_msg(strstr(err.msg, "openai") && strstr(err.msg, url) &&
                      strstr(err.msg, "HTTP 500") && strstr(err.msg, "The server had an error") &&
                      strstr(err.msg, "3 attempts"),
                  "%s", err.msg);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 3);
}
END_TEST

START_TEST(test_4xx_not_retried_secret_hidden) {
    es_faults f = {0};
    f.n401 = 10;
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    o.api_key = SECRET;
    rb_error err;
    ck_assert_int_eq(embed_n(&o, 3, 20, &err, 0), -1);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 1);
    ck_assert_str_eq(st.last_auth, "Bearer " SECRET); /* it was sent... */
    ck_assert_msg(strstr(err.msg, "HTTP 401") && strstr(err.msg, "Incorrect API key"), "%s",
                  err.msg);
    ck_assert_msg(!strstr(err.msg, "SECRET"), "key leaked: %s", err.msg); /* ...never shown */
}
END_TEST

START_TEST(test_azure_url_and_header) {
    rb_http_embed_opts o = base_opts("openai");
    char dep[128];
    snprintf(dep, sizeof dep, "%s/openai/deployments/emb/", url);
    o.url = dep;
    o.api_key = SECRET;
    o.api_version = "2024-02-01";
    rb_error err;
    ck_assert_msg(embed_n(&o, 2, 20, &err, 1) == 0, "%s", err.msg);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_str_eq(st.last_path, "/openai/deployments/emb/embeddings?api-version=2024-02-01");
    ck_assert_str_eq(st.last_auth, SECRET);
}
END_TEST

START_TEST(test_split_on_413) {
    es_faults f = {0};
    f.max_inputs = 5;
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    o.batch_size = 20;
    rb_error err;
    ck_assert_msg(embed_n(&o, 20, 20, &err, 1) == 0, "%s", err.msg);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 1 + 2 + 4); /* 20 -> 10+10 -> 5+5+5+5 */
    ck_assert_uint_eq(st.ok_inputs, 20);
    /* TEI says it with 422 and words; split the same way */
    es_server_reset_stats(srv);
    f.max_inputs = 0;
    f.n429 = 0;
    es_server_faults_set(srv, &f);
    o = base_opts("tei");
    o.batch_size = 4;
    f.max_inputs = 1;
    es_server_faults_set(srv, &f);
    ck_assert_msg(embed_n(&o, 4, 20, &err, 1) == 0, "%s", err.msg);
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 1 + 2 + 4); /* 4 -> 2+2 -> 1+1+1+1 */
}
END_TEST

START_TEST(test_single_text_too_large_fails) {
    es_faults f = {0};
    f.max_inputs = -1; /* every request is too large */
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    rb_error err;
    ck_assert_int_eq(embed_n(&o, 3, 20, &err, 0), -1);
    ck_assert_msg(strstr(err.msg, "a single text is too large") &&
                      strstr(err.msg, "too many tokens"),
                  "%s", err.msg);
    es_stats st;
    es_server_stats(srv, &st);
    /* 3 -> 1 + 2: the first single text fails the call; never the whole
     * batch again and again */
    ck_assert_uint_le(st.requests, 5);
}
END_TEST

START_TEST(test_timeout_retried) {
    es_faults f = {0};
    f.nslow = 1;
    f.slow_ms = 1500;
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    o.concurrency = 1;
    o.timeout_ms = 300;
    rb_error err;
    ck_assert_msg(embed_n(&o, 4, 20, &err, 1) == 0, "%s", err.msg);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 2);
}
END_TEST

/* One malformed answer of kind `which`; the error must contain `words`
 * and nothing is retried. */
static void malformed(int which, const char *words) {
    es_server_reset_stats(srv);
    es_faults f = {0};
    if (which == 0) f.nbadjson = 1;
    if (which == 1) f.nwrongdim = 1;
    if (which == 2) f.nnan = 1;
    if (which == 3) f.nwrongcount = 1;
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    rb_error err;
    ck_assert_int_eq(embed_n(&o, 4, 20, &err, 0), -1);
    ck_assert_msg(strstr(err.msg, words) != NULL, "want '%s' in: %s", words, err.msg);
    ck_assert_int_eq(err.code, RB_ERR_EMBED);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_uint_eq(st.requests, 1);
}

START_TEST(test_malformed_answers) {
    malformed(0, "not valid JSON");
    malformed(1, "has 15 dimensions, expected 16");
    malformed(2, "not valid JSON"); /* NaN is not a JSON token */
    malformed(3, "3 embeddings for 4 inputs");
}
END_TEST

/* Most request start times within any window of `w` seconds. */
static size_t max_in_window(double w) {
    static double t[ES_MAX_TIMES];
    size_t n = es_server_times(srv, t, ES_MAX_TIMES), best = 0;
    for (size_t i = 0, j = 0; i < n; i++) {
        while (t[i] - t[j] >= w) j++;
        if (i - j + 1 > best) best = i - j + 1;
    }
    return best;
}

START_TEST(test_rate_requests_per_minute) {
    rb_http_embed_opts o = base_opts("openai");
    o.concurrency = 8;
    o.batch_size = 1;
    o.requests_per_minute = 600; /* 10/s, a burst of 10 */
    rb_error err;
    double t0 = rb_now_sec();
    ck_assert_msg(embed_n(&o, 35, 20, &err, 1) == 0, "%s", err.msg);
    double took = rb_now_sec() - t0;
    ck_assert_msg(took >= 2.0, "35 requests at 10/s after a burst of 10 took %.2f s", took);
    size_t most = max_in_window(1.0);
    ck_assert_msg(most <= 21, "%zu requests in one second", most);
}
END_TEST

START_TEST(test_rate_tokens_per_minute) {
    rb_http_embed_opts o = base_opts("openai");
    o.batch_size = 1;
    o.tokens_per_minute = 6000; /* 100/s; 76-byte texts are 20 tokens */
    rb_error err;
    double t0 = rb_now_sec();
    ck_assert_msg(embed_n(&o, 15, 76, &err, 1) == 0, "%s", err.msg);
    double took = rb_now_sec() - t0;
    ck_assert_msg(took >= 1.5, "300 tokens at 100/s after a burst of 100 took %.2f s", took);
}
END_TEST

START_TEST(test_ratelimit_unit) {
    rb_ratelimit rl;
    rb_ratelimit_init(&rl, 120, 0, 0.0); /* 2/s, burst 2 */
    ck_assert(rb_ratelimit_acquire(&rl, 5, 0.0) == 0);
    ck_assert(rb_ratelimit_acquire(&rl, 5, 0.0) == 0);
    double w = rb_ratelimit_acquire(&rl, 5, 0.0);
    ck_assert_msg(w > 0.45 && w < 0.55, "wait %g", w);
    ck_assert(rb_ratelimit_acquire(&rl, 5, 0.5) == 0);
    rb_ratelimit_init(&rl, 0, 60, 0.0);                 /* 1 token/s, burst 1 */
    ck_assert(rb_ratelimit_acquire(&rl, 10, 0.0) == 0); /* larger than the bucket: from full */
    w = rb_ratelimit_acquire(&rl, 1, 0.0);
    ck_assert_msg(w > 9.5, "a big request pays its share: wait %g", w);
    rb_ratelimit_init(&rl, 0, 0, 0.0);
    for (int i = 0; i < 1000; i++) ck_assert(rb_ratelimit_acquire(&rl, 1e6, 0.0) == 0);
}
END_TEST

START_TEST(test_api_key_sources) {
    char *key = NULL;
    rb_error err;
    setenv("RB_TEST_EMBED_KEY", SECRET, 1);
    ck_assert_int_eq(rb_embed_api_key_read("RB_TEST_EMBED_KEY", "", &key, &err), 0);
    ck_assert_str_eq(key, SECRET);
    free(key);
    unsetenv("RB_TEST_EMBED_KEY");
    ck_assert_int_eq(rb_embed_api_key_read("RB_TEST_EMBED_KEY", "", &key, &err), -1);
    ck_assert_msg(strstr(err.msg, "RB_TEST_EMBED_KEY"), "%s", err.msg);
    char path[] = "/tmp/rb-key-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, SECRET "\n", strlen(SECRET) + 1), (ssize_t)strlen(SECRET) + 1);
    close(fd);
    ck_assert_int_eq(rb_embed_api_key_read("", path, &key, &err), 0);
    ck_assert_str_eq(key, SECRET);
    free(key);
    unlink(path);
    ck_assert_int_eq(rb_embed_api_key_read("", path, &key, &err), -1);
    ck_assert_msg(strstr(err.msg, path) && !strstr(err.msg, "SECRET"), "%s", err.msg);
    ck_assert_int_eq(rb_embed_api_key_read("", "", &key, &err), 0);
    ck_assert_ptr_null(key);
}
END_TEST

static void set(rb_job_config *cfg, const char *kv) {
    rb_error err;
    ck_assert_msg(rb_job_config_set(cfg, kv, "test", &err) == 0, "%s: %s", kv, err.msg);
}

START_TEST(test_config_and_factory) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    set(&cfg, "source.topics=t");
    set(&cfg, "kafka.bootstrap.servers=127.0.0.1:1");
    set(&cfg, "text.template={a}");
    set(&cfg, "mongo.uri=mongodb://x");
    set(&cfg, "mongo.database=d");
    set(&cfg, "mongo.collection=c");
    set(&cfg, "embed.provider=openai");
    ck_assert_int_eq(rb_job_config_check(&cfg, &err), -1);
    ck_assert_msg(strstr(err.msg, "needs embed.url"), "%s", err.msg);
    char kv[128];
    snprintf(kv, sizeof kv, "embed.url=%s", url);
    set(&cfg, kv);
    ck_assert_int_eq(rb_job_config_check(&cfg, &err), -1);
    ck_assert_msg(strstr(err.msg, "needs embed.model"), "%s", err.msg);
    set(&cfg, "embed.model=m");
    set(&cfg, "embed.api.key.env=RB_TEST_EMBED_KEY2");
    ck_assert_msg(rb_job_config_check(&cfg, &err) == 0, "%s", err.msg);
    set(&cfg, "embed.retry.backoff.ms=60000");
    ck_assert_int_eq(rb_job_config_check(&cfg, &err), -1);
    set(&cfg, "embed.retry.backoff.ms=100");
    ck_assert(!rb_job_config_set(&cfg, "embed.provider=cohere", "test", &err) == 0);

    /* the factory: missing key variable, then a working embedder */
    unsetenv("RB_TEST_EMBED_KEY2");
    rb_embed_opts eo;
    rb_runner_embed_opts(&cfg, &eo);
    ck_assert_ptr_null(rb_embedder_new(&eo, &err));
    ck_assert_msg(strstr(err.msg, "RB_TEST_EMBED_KEY2"), "%s", err.msg);
    setenv("RB_TEST_EMBED_KEY2", SECRET, 1);
    rb_embedder *e = rb_embedder_new(&eo, &err);
    ck_assert_msg(e != NULL, "%s", err.msg);
    ck_assert_uint_eq(rb_embedder_dim(e), DIM); /* probed */
    ck_assert_str_eq(rb_embedder_provider(e), "openai");
    ck_assert_str_eq(rb_embedder_model_name(e), "m");
    rb_embedder_destroy(e);
    es_stats st;
    es_server_stats(srv, &st);
    ck_assert_str_eq(st.last_auth, "Bearer " SECRET);

    /* the key never shows in the printed configuration */
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    rb_job_config_print(&cfg, mem);
    fclose(mem);
    ck_assert_msg(!strstr(text, "SECRET"), "%s", text);
    free(text);
    unsetenv("RB_TEST_EMBED_KEY2");
    rb_job_config_free(&cfg);
}
END_TEST

/* The HTTP embedder keeps no defaults of its own: a program without a job
 * takes the key table's, and an option left at zero is refused, named. */
START_TEST(test_defaults_come_from_the_table) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    rb_http_embed_opts d;
    ck_assert_msg(rb_runner_http_embed_defaults(&d, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(d.concurrency, cfg.embed_concurrency);
    ck_assert_int_eq(d.timeout_ms, cfg.embed_request_timeout_ms);
    ck_assert_int_eq(d.retries, cfg.embed_retries);
    ck_assert_int_eq(d.backoff_ms, cfg.embed_retry_backoff_ms);
    ck_assert_int_eq(d.backoff_max_ms, cfg.embed_retry_backoff_max_ms);
    ck_assert_uint_eq(d.batch_size, (size_t)cfg.embed_batch_size);
    ck_assert_uint_eq(d.batch_max_tokens, (size_t)cfg.embed_batch_max_tokens);
    ck_assert_int_eq(d.tls_verify, cfg.embed_tls_verify);
    ck_assert_ptr_null(d.url);
    ck_assert_ptr_null(d.ca_file);
    rb_job_config_free(&cfg);

    rb_http_embed_opts o = base_opts("openai");
    o.concurrency = 0;
    ck_assert_ptr_null(rb_embedder_http_new(&o, &err));
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "concurrency (embed.concurrency) = 0 is below 1"), "%s",
                  err.msg);
    o = base_opts("tei");
    o.batch_max_tokens = 0;
    ck_assert_ptr_null(rb_embedder_http_new(&o, &err));
    ck_assert_msg(strstr(err.msg, "embed.batch.max.tokens"), "%s", err.msg);
    o = base_opts("openai");
    o.retries = -1;
    ck_assert_ptr_null(rb_embedder_http_new(&o, &err));
    ck_assert_msg(strstr(err.msg, "embed.retries"), "%s", err.msg);
}
END_TEST

START_TEST(test_unreachable_fails_after_retries) {
    rb_http_embed_opts o = base_opts("openai");
    char dead[64];
    snprintf(dead, sizeof dead, "http://user:pw@127.0.0.1:%d/v1?key=k", 1); /* port 1: refused */
    o.url = dead;
    o.retries = 1;
    o.dimensions = 0;
    rb_error err;
    ck_assert_ptr_null(rb_embedder_http_new(&o, &err));
    ck_assert_msg(strstr(err.msg, "2 attempts") && strstr(err.msg, "http://127.0.0.1:1/v1"), "%s",
                  err.msg);
    ck_assert_msg(!strstr(err.msg, "pw") && !strstr(err.msg, "key=k"), "%s", err.msg);
}
END_TEST

static void *cancel_later(void *arg) {
    rb_sleep_ms(300);
    atomic_store((atomic_int *)arg, 1);
    return NULL;
}

/* A cancel (a shutdown that cannot wait) ends a call that is waiting out a
 * 30 s Retry-After within a second, without vectors. */
START_TEST(test_cancel_ends_a_waiting_call) {
    es_faults f = {0};
    f.n429 = 1;
    snprintf(f.retry_after, sizeof f.retry_after, "30");
    es_server_faults_set(srv, &f);
    rb_http_embed_opts o = base_opts("openai");
    rb_error err;
    rb_embedder *e = rb_embedder_http_new(&o, &err);
    ck_assert_msg(e != NULL, "%s", err.msg);
    atomic_int cancel;
    atomic_init(&cancel, 0);
    rb_embedder_set_cancel(e, &cancel);
    char **texts = make_texts(4, 20);
    float out[4 * DIM];
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, &cancel), 0);
    double t0 = rb_now_sec();
    int rc = rb_embedder_embed(e, (const char *const *)texts, 4, out, &err);
    double took = rb_now_sec() - t0;
    pthread_join(t, NULL);
    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(err.msg, "cancelled") && !err.retriable, "%s", err.msg);
    ck_assert_msg(took < 2.0, "took %.3f s", took);
    /* While the flag is up, a new call fails at once. */
    ck_assert_int_eq(rb_embedder_embed(e, (const char *const *)texts, 4, out, &err), -1);
    rb_embedder_set_cancel(e, NULL);
    free_texts(texts, 4);
    rb_embedder_destroy(e);
}
END_TEST

/* The general path's reading of an answer: 0 and out filled, or -1. */
static int general_read(const rb_http_proto *proto, const char *body, size_t n, size_t dim,
                        float *out) {
    rb_json_doc *doc = NULL;
    rb_error err;
    if (rb_json_parse(body, strlen(body), NULL, &doc, &err) != 0) return -1;
    size_t d = dim;
    int rc = proto->parse(rb_json_doc_root(doc), n, &d, out, &err);
    rb_json_doc_destroy(doc);
    return rc;
}

/* The fast reader must take `body` and give the general path's floats bit
 * for bit. */
static void same_floats(const rb_http_proto *proto, const char *body, size_t n, size_t dim) {
    float *a = calloc(n * dim, sizeof *a), *b = calloc(n * dim, sizeof *b);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(general_read(proto, body, n, dim, a) == 0, "the general path refuses: %.200s",
                  body);
    ck_assert_msg(proto->fast(body, strlen(body), n, dim, b) == 1, "fast reader declined: %.300s",
                  body);
    for (size_t i = 0; i < n * dim; i++)
        ck_assert_msg(memcmp(&a[i], &b[i], sizeof a[i]) == 0,
                      "element %zu: fast %a, general %a (%.200s)", i, (double)b[i], (double)a[i],
                      body);
    free(a);
    free(b);
}

static void declines(const rb_http_proto *proto, const char *body, size_t n, size_t dim) {
    float out[64];
    ck_assert(n * dim <= 64);
    ck_assert_msg(proto->fast(body, strlen(body), n, dim, out) == 0, "fast reader took: %s", body);
}

/* Numbers of every shape the grammar allows, in the places an answer has
 * them: the fast reader converts each exactly as strtod does. */
START_TEST(test_fast_reader_matches_general_path) {
    const char *shapes[] = {"0",
                            "-0",
                            "0.0",
                            "-0.0",
                            "1",
                            "-12",
                            "0.5",
                            "0.123456791",
                            "-0.0123456789",
                            "1.23456791e-05",
                            "1E+2",
                            "2.5e-3",
                            "1e-40",
                            "-1e-320",
                            "3.4028234e38",
                            "1.5e30",
                            "123456789012345678901234",
                            "0.12345678901234567890123456",
                            "9007199254740993",
                            "1e22",
                            "1e23",
                            "4.9e-324",
                            "0.000000000000000000000001"};
    size_t ns = sizeof shapes / sizeof shapes[0];
    rb_buf b;
    rb_buf_init(&b);
    /* openai, with extra members, white space and rows out of order */
    size_t n = 3;
    rb_buf_puts(&b, "{ \"object\": \"list\", \"id\": \"x-1\", \"created\": 17, \"data\": [\n");
    for (size_t i = 0; i < n; i++) {
        rb_buf_printf(&b, "%s{\"object\":\"embedding\",\"index\":%zu,\"embedding\":[",
                      i ? "," : "", n - 1 - i);
        for (size_t j = 0; j < ns; j++)
            rb_buf_printf(&b, "%s%s", j ? " , " : "", shapes[(i + j) % ns]);
        rb_buf_puts(&b, "]}");
    }
    rb_buf_puts(&b, "],\"model\":\"m\",\"usage\":{\"prompt_tokens\":1,\"total_tokens\":2,"
                    "\"details\":[true,false,null,{\"a\":[]}]}}\r\n");
    same_floats(&rb_http_proto_openai, b.data, n, ns);
    rb_buf_free(&b);

    /* random values in the formats servers print */
    const char *fmts[] = {"%.9g", "%.17g", "%.3e", "%g", "%.20f", "%.0f"};
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t f = 0; f < sizeof fmts / sizeof fmts[0]; f++) {
        rb_buf_init(&b);
        n = 8;
        size_t dim = 64;
        rb_buf_puts(&b, "{\"data\":[");
        for (size_t i = 0; i < n; i++) {
            rb_buf_puts(&b, i ? ",{\"embedding\":[" : "{\"embedding\":["); /* no index: in order */
            for (size_t j = 0; j < dim; j++) {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                uint64_t r = x * 2685821657736338717ull;
                double v = ((double)(r >> 11) / 9007199254740992.0 - 0.5) *
                           pow(10.0, (double)((int)(r % 13) - 8));
                rb_buf_puts(&b, j ? "," : "");
                rb_buf_printf(&b, fmts[f], v);
            }
            rb_buf_puts(&b, "]}");
        }
        rb_buf_puts(&b, "]}");
        same_floats(&rb_http_proto_openai, b.data, n, dim);
        rb_buf_free(&b);
    }

    same_floats(&rb_http_proto_tei, "[[0.25,-1e-3,7],\n [1.23456791e-05, 0, -0.5]]", 2, 3);
}
END_TEST

/* Whatever is not a well-formed answer of the expected size goes to the
 * general path, which names the problem. */
START_TEST(test_fast_reader_declines_the_rest) {
    const rb_http_proto *o = &rb_http_proto_openai;
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}", 1, 3);    /* size */
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]}]}", 2, 3);  /* count */
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]}]}x", 1, 3); /* trailing */
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]}]", 1, 3);   /* truncated */
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,NaN]}]}", 1, 3);
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,1e39]}]}", 1, 3); /* > FLT_MAX */
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,1e999]}]}", 1, 3);
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,01]}]}", 1, 3); /* grammar */
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,.5]}]}", 1, 3);
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3.]}]}", 1, 3);
    declines(o, "{\"data\":[{\"index\":0,\"embedding\":[1,2,3,]}]}", 1, 3);
    declines(o, "{\"data\":[{\"index\":1,\"embedding\":[1,2,3]}]}", 1, 3); /* index range */
    declines(o, "{\"data\":[{\"index\":0.0,\"embedding\":[1,2,3]}]}", 1, 3);
    declines(o,
             "{\"data\":[{\"index\":0,\"embedding\":[1,2,3]},"
             "{\"index\":0,\"embedding\":[1,2,3]}]}",
             2, 3); /* index twice */
    declines(o, "{\"data\":[{\"index\":0,\"index\":0,\"embedding\":[1,2,3]}]}", 1, 3);
    declines(o, "{\"data\":[],\"data\":[{\"embedding\":[1,2,3]}]}", 1, 3); /* duplicate key */
    declines(o, "{\"model\":\"caf\\u00e9\",\"data\":[{\"embedding\":[1,2,3]}]}", 1,
             3); /* escape */
    declines(o, "{\"model\":\"m\",\"usage\":{\"a\":1e999},\"data\":[{\"embedding\":[1,2,3]}]}", 1,
             3);
    declines(o, "{\"data\":[{\"embedding\":[1,2,3]}],\"usage\":{\"a\":1}", 1, 3); /* unclosed */
    declines(o, "{\"u\":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]],\"data\":[{\"embedding\":[1,2,3]}]}",
             1, 3); /* deeper than the reader goes */
    declines(&rb_http_proto_tei, "[[1,2,3],[1,2]]", 2, 3);
    declines(&rb_http_proto_tei, "[[[1,2,3]]]", 1, 3); /* token-level answer */
    /* the general path reads the escaped one; the fast reader only declined */
    float out[3];
    const char *escaped = "{\"model\":\"caf\\u00e9\",\"data\":[{\"embedding\":[1,2,3]}]}";
    ck_assert_int_eq(general_read(o, escaped, 1, 3, out), 0);
    ck_assert(out[2] == 3.0f);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("http_embed");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_openai_vectors_in_order);
    tcase_add_test(tc, test_tei_probe_and_vectors);
    tcase_add_test(tc, test_batch_by_tokens);
    tcase_add_test(tc, test_429_retry_after_seconds);
    tcase_add_test(tc, test_429_retry_after_http_date);
    tcase_add_test(tc, test_500_retried_with_backoff);
    tcase_add_test(tc, test_retries_exhausted);
    tcase_add_test(tc, test_4xx_not_retried_secret_hidden);
    tcase_add_test(tc, test_azure_url_and_header);
    tcase_add_test(tc, test_split_on_413);
    tcase_add_test(tc, test_single_text_too_large_fails);
    tcase_add_test(tc, test_timeout_retried);
    tcase_add_test(tc, test_malformed_answers);
    tcase_add_test(tc, test_rate_requests_per_minute);
    tcase_add_test(tc, test_rate_tokens_per_minute);
    tcase_add_test(tc, test_ratelimit_unit);
    tcase_add_test(tc, test_api_key_sources);
    tcase_add_test(tc, test_config_and_factory);
    tcase_add_test(tc, test_defaults_come_from_the_table);
    tcase_add_test(tc, test_unreachable_fails_after_retries);
    tcase_add_test(tc, test_cancel_ends_a_waiting_call);
    suite_add_tcase(s, tc);
    TCase *fast = tcase_create("fast");
    tcase_add_test(fast, test_fast_reader_matches_general_path);
    tcase_add_test(fast, test_fast_reader_declines_the_rest);
    suite_add_tcase(s, fast);
    return s;
}
