/* Unit tests for the metrics module: the registry, its text rendering
 * (parsed back by a small exposition parser below) and the HTTP endpoint
 * over a real loopback socket. */
#include "check_main.h"
#include "common/buf.h"
#include "common/clock.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "metrics/readiness.h"
#include "runner/progress.h"
#include "expo.h"
#include "promtool.h"

#include <arpa/inet.h>
#include <check.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char *render(rb_metrics *m) {
    rb_buf b;
    rb_buf_init(&b);
    rb_error err;
    ck_assert_int_eq(rb_metrics_render(m, &b, &err), 0);
    return b.data ? rb_buf_detach(&b) : strdup("");
}

static rb_metrics *ragbatch_registry(void) {
    rb_error err;
    rb_metrics *m = rb_metrics_new(&err);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(rb_metrics_declare_ragbatch(m, &err) == 0, "%s", err.msg);
    return m;
}

START_TEST(render_parses_and_counts_match) {
    rb_metrics *m = ragbatch_registry();
    rb_error err;
    const char *stored[] = {"jobA", "stored"}, *failed[] = {"jobA", "failed"};
    const char *job[] = {"jobA"}, *embed[] = {"jobA", "embed"};
    const char *lag[] = {"jobA", "product-updates", "3"};
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_RECORDS, stored, 100, &err), 0);
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_RECORDS, failed, 2, &err), 0);
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_BATCHES, job, 7, &err), 0);
    ck_assert_int_eq(rb_metrics_gauge_set(m, RB_METRIC_CONSUMER_LAG, lag, 42, &err), 0);
    ck_assert_int_eq(rb_metrics_gauge_set(m, RB_METRIC_LAST_BATCH, job, 1764000000.25, &err), 0);
    const char *engine[] = {"jobA", "all-MiniLM-L6-v2@int8", "packed", "int8"};
    ck_assert_int_eq(rb_metrics_gauge_set(m, RB_METRIC_EMBEDDER_INFO, engine, 1, &err), 0);
    const double obs[] = {0.0005, 0.003, 0.003, 0.2, 0.2, 0.2, 7, 100, 0.001};
    double sum = 0;
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++) {
        ck_assert_int_eq(rb_metrics_observe(m, RB_METRIC_STAGE_DURATION, embed, obs[i], &err), 0);
        sum += obs[i];
    }
    char *text = render(m);
    expo *e = malloc(sizeof *e);
    ck_assert_ptr_nonnull(e);
    expo_parse(text, e);
    double v;
    ck_assert(expo_find(e, RB_METRIC_RECORDS, "outcome", "stored", "job", "jobA", &v));
    ck_assert_double_eq(v, 700);
    ck_assert(expo_find(e, RB_METRIC_RECORDS, "outcome", "failed", NULL, NULL, &v));
    ck_assert_double_eq(v, 2);
    ck_assert(expo_find(e, RB_METRIC_BATCHES, "job", "jobA", NULL, NULL, &v));
    ck_assert_double_eq(v, 7);
    ck_assert(
        expo_find(e, RB_METRIC_CONSUMER_LAG, "partition", "3", "topic", "product-updates", &v));
    ck_assert_double_eq(v, 42);
    ck_assert(expo_find(e, RB_METRIC_LAST_BATCH, "job", "jobA", NULL, NULL, &v));
    ck_assert_double_eq(v, 1764000000.25);
    ck_assert(expo_find(e, RB_METRIC_EMBEDDER_INFO, "precision", "int8", "kernel", "packed", &v));
    ck_assert_double_eq(v, 1);
    /* Histogram: buckets cumulative, non-decreasing, ending at +Inf = _count. */
    double prev = -1, prev_le = -INFINITY;
    int buckets = 0, inf_seen = 0;
    for (int i = 0; i < e->n; i++) {
        const expo_sample *s = &e->s[i];
        if (strcmp(s->name, RB_METRIC_STAGE_DURATION "_bucket") != 0) continue;
        ck_assert_str_eq(expo_label(s, "stage"), "embed");
        double le = expo_value(expo_label(s, "le"));
        ck_assert(le > prev_le);
        ck_assert(s->value >= prev);
        double expect = 0;
        for (size_t k = 0; k < sizeof obs / sizeof obs[0]; k++) expect += obs[k] <= le;
        ck_assert_double_eq(s->value, expect);
        prev = s->value;
        prev_le = le;
        buckets++;
        inf_seen = isinf(le);
    }
    ck_assert_int_eq(buckets, 15);
    ck_assert(inf_seen);
    ck_assert(expo_find(e, RB_METRIC_STAGE_DURATION "_count", "stage", "embed", NULL, NULL, &v));
    ck_assert_double_eq(v, 9);
    ck_assert_double_eq(prev, 9);
    ck_assert(expo_find(e, RB_METRIC_STAGE_DURATION "_sum", "stage", "embed", NULL, NULL, &v));
    ck_assert_double_eq_tol(v, sum, 1e-9);
    /* HELP and TYPE for every family, declared or not yet updated. */
    ck_assert_int_eq(e->ntypes, 11);
    ck_assert_ptr_nonnull(strstr(text, "# TYPE ragbatch_stage_duration_seconds histogram\n"));
    ck_assert_ptr_nonnull(strstr(text, "# TYPE ragbatch_freshness_seconds histogram\n"));
    ck_assert_ptr_nonnull(strstr(text, "# TYPE ragbatch_chunks_total counter\n"));
    ck_assert_ptr_nonnull(strstr(text, "# TYPE ragbatch_consumer_lag gauge\n"));
    ck_assert_ptr_nonnull(strstr(text, "# HELP ragbatch_records_total Records processed"));
    ck_assert(rb_metrics_get(m, RB_METRIC_RECORDS, stored, &v, &err) == 0 && v == 700);
    free(e);
    free(text);
    rb_metrics_destroy(m);
}
END_TEST

START_TEST(label_values_and_help_are_escaped) {
    rb_error err;
    rb_metrics *m = rb_metrics_new(&err);
    const char *names[] = {"job"};
    ck_assert_int_eq(rb_metrics_declare(m, "x_total", RB_METRIC_COUNTER, "a \\ b\nc", names, 1,
                                        NULL, 0, &err),
                     0);
    const char *odd = "q\"uo\\te\nnl";
    const char *vals[] = {odd};
    ck_assert_int_eq(rb_metrics_counter_add(m, "x_total", vals, 1.5, &err), 0);
    char *text = render(m);
    ck_assert_ptr_nonnull(strstr(text, "# HELP x_total a \\\\ b\\nc\n"));
    ck_assert_ptr_nonnull(strstr(text, "x_total{job=\"q\\\"uo\\\\te\\nnl\"} 1.5\n"));
    expo *e = malloc(sizeof *e);
    expo_parse(text, e);
    ck_assert_int_eq(e->n, 1);
    ck_assert_str_eq(expo_label(&e->s[0], "job"), odd);
    free(e);
    free(text);
    rb_metrics_destroy(m);
}
END_TEST

START_TEST(misuse_is_an_error_and_changes_nothing) {
    rb_metrics *m = ragbatch_registry();
    rb_error err;
    const char *job[] = {"j"}, *one_of_two[] = {"j", NULL};
    ck_assert_int_eq(rb_metrics_counter_add(m, "nope_total", job, 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "nope_total"));
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_RECORDS, one_of_two, 1, &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "outcome"));
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_BATCHES, job, -1, &err), -1);
    ck_assert_int_eq(rb_metrics_gauge_set(m, RB_METRIC_BATCHES, job, 1, &err), -1);
    ck_assert_int_eq(rb_metrics_observe(m, RB_METRIC_BATCHES, job, 1, &err), -1);
    ck_assert_int_eq(rb_metrics_declare(m, RB_METRIC_BATCHES, RB_METRIC_COUNTER, "", NULL, 0, NULL,
                                        0, &err),
                     -1);
    ck_assert_int_eq(rb_metrics_declare(m, "bad-name", RB_METRIC_GAUGE, "", NULL, 0, NULL, 0,
                                        &err),
                     -1);
    const char *le[] = {"le"};
    ck_assert_int_eq(rb_metrics_declare(m, "h", RB_METRIC_HISTOGRAM, "", le, 1,
                                        (const double[]){1}, 1, &err),
                     -1);
    ck_assert_int_eq(rb_metrics_declare(m, "h", RB_METRIC_HISTOGRAM, "", NULL, 0,
                                        (const double[]){2, 1}, 2, &err),
                     -1);
    double v;
    ck_assert_int_eq(rb_metrics_get(m, RB_METRIC_BATCHES, job, &v, &err), -1);
    char *text = render(m);
    expo *e = malloc(sizeof *e);
    expo_parse(text, e);
    ck_assert_int_eq(e->n, 0); /* no series was created by the failed calls */
    free(e);
    free(text);
    rb_metrics_destroy(m);
    rb_metrics_destroy(NULL);
}
END_TEST

/* ---- concurrency ---- */

#define THREADS 4
#define ROUNDS 20000

static void *hammer(void *arg) {
    rb_metrics *m = arg;
    const char *stored[] = {"j", "stored"}, *job[] = {"j"}, *stage[] = {"j", "sink"};
    for (int i = 0; i < ROUNDS; i++) {
        rb_metrics_counter_add(m, RB_METRIC_RECORDS, stored, 1, NULL);
        rb_metrics_observe(m, RB_METRIC_STAGE_DURATION, stage, 0.02, NULL);
        rb_metrics_gauge_set(m, RB_METRIC_EMBED_RATE, job, i, NULL);
    }
    return NULL;
}

START_TEST(concurrent_updates_are_not_lost) {
    rb_metrics *m = ragbatch_registry();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, m), 0);
    /* Render meanwhile: every snapshot must parse. */
    expo *e = malloc(sizeof *e);
    for (int i = 0; i < 20; i++) {
        char *text = render(m);
        expo_parse(text, e);
        free(text);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    char *text = render(m);
    expo_parse(text, e);
    double v;
    ck_assert(expo_find(e, RB_METRIC_RECORDS, "outcome", "stored", NULL, NULL, &v));
    ck_assert_double_eq(v, THREADS * ROUNDS);
    ck_assert(expo_find(e, RB_METRIC_STAGE_DURATION "_count", NULL, NULL, NULL, NULL, &v));
    ck_assert_double_eq(v, THREADS * ROUNDS);
    ck_assert(expo_find(e, RB_METRIC_STAGE_DURATION "_bucket", "le", "0.025", NULL, NULL, &v));
    ck_assert_double_eq(v, THREADS * ROUNDS);
    free(e);
    free(text);
    rb_metrics_destroy(m);
}
END_TEST

/* ---- HTTP ---- */

typedef struct readiness {
    atomic_int ready;
} readiness;

static int ready_cb(void *ctx, char *reason, size_t size) {
    readiness *r = ctx;
    if (atomic_load(&r->ready)) return 1;
    snprintf(reason, size, "MongoDB unreachable");
    return 0;
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Sends `req` and reads the whole response (the server closes).  Returns
 * the status code; the response (malloc'd) in *resp. */
static int http(int port, const char *req, size_t len, char **resp) {
    int fd = connect_to(port);
    size_t off = 0;
    while (off < len) {
        ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
        if (n <= 0) break; /* the server may answer and close early (431) */
        off += (size_t)n;
    }
    rb_buf b;
    rb_buf_init(&b);
    char tmp[4096];
    ssize_t n;
    while ((n = recv(fd, tmp, sizeof tmp, 0)) > 0)
        ck_assert_int_eq(rb_buf_append(&b, tmp, (size_t)n), 0);
    close(fd);
    int status = 0;
    if (b.data) sscanf(b.data, "HTTP/1.1 %d", &status);
    *resp = b.data ? rb_buf_detach(&b) : strdup("");
    return status;
}

static int get(int port, const char *path, char **resp) {
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    return http(port, req, strlen(req), resp);
}

static const char *body_of(const char *resp) {
    const char *p = strstr(resp, "\r\n\r\n");
    return p ? p + 4 : "";
}

START_TEST(http_endpoints_answer) {
    rb_metrics *m = ragbatch_registry();
    rb_error err;
    readiness r;
    atomic_init(&r.ready, 0);
    rb_metrics_server *s = rb_metrics_server_start(m, "127.0.0.1", 0, ready_cb, &r, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    int port = rb_metrics_server_port(s);
    ck_assert_int_gt(port, 0);
    const char *stored[] = {"web", "stored"};
    rb_metrics_counter_add(m, RB_METRIC_RECORDS, stored, 12, NULL);

    char *resp;
    ck_assert_int_eq(get(port, "/metrics", &resp), 200);
    ck_assert_ptr_nonnull(strstr(resp, "Content-Type: " RB_METRICS_CONTENT_TYPE "\r\n"));
    expo *e = malloc(sizeof *e);
    expo_parse(body_of(resp), e);
    double v;
    ck_assert(expo_find(e, RB_METRIC_RECORDS, "job", "web", "outcome", "stored", &v));
    ck_assert_double_eq(v, 12);
    free(e);
    free(resp);

    ck_assert_int_eq(get(port, "/healthz", &resp), 200);
    ck_assert_str_eq(body_of(resp), "ok\n");
    free(resp);
    ck_assert_int_eq(get(port, "/readyz", &resp), 503);
    ck_assert_str_eq(body_of(resp), "MongoDB unreachable\n");
    free(resp);
    atomic_store(&r.ready, 1);
    ck_assert_int_eq(get(port, "/readyz?verbose=1", &resp), 200);
    free(resp);
    atomic_store(&r.ready, 0);
    ck_assert_int_eq(get(port, "/readyz", &resp), 503);
    free(resp);
    ck_assert_int_eq(get(port, "/", &resp), 404);
    free(resp);
    ck_assert_int_eq(get(port, "/metricsz", &resp), 404);
    free(resp);
    const char *post = "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    ck_assert_int_eq(http(port, post, strlen(post), &resp), 405);
    free(resp);
    const char *junk = "hello\r\n\r\n";
    ck_assert_int_eq(http(port, junk, strlen(junk), &resp), 400);
    free(resp);
    const char *head = "HEAD /healthz HTTP/1.1\r\n\r\n";
    ck_assert_int_eq(http(port, head, strlen(head), &resp), 200);
    ck_assert_str_eq(body_of(resp), "");
    free(resp);
    /* A request head larger than the limit is refused, not buffered. */
    size_t big = RB_METRICS_MAX_REQUEST * 2;
    char *huge = malloc(big);
    memcpy(huge, "GET /metrics HTTP/1.1\r\nX: ", 26);
    memset(huge + 26, 'a', big - 26);
    ck_assert_int_eq(http(port, huge, big, &resp), 431);
    free(resp);
    free(huge);
    rb_metrics_server_stop(s);
    rb_metrics_destroy(m);
}
END_TEST

START_TEST(slow_client_neither_blocks_updates_nor_the_server_for_long) {
    rb_metrics *m = ragbatch_registry();
    rb_error err;
    rb_metrics_server *s = rb_metrics_server_start(m, "127.0.0.1", 0, NULL, NULL, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    int port = rb_metrics_server_port(s);
    /* A client that connects and sends half a request line, then stalls. */
    int slow = connect_to(port);
    ck_assert_int_eq(send(slow, "GET /met", 8, 0), 8);
    rb_sleep_ms(100);
    /* The job's updates go on meanwhile. */
    const char *job[] = {"j"};
    int64_t t0 = rb_now_ms();
    for (int i = 0; i < 1000; i++) rb_metrics_counter_add(m, RB_METRIC_BATCHES, job, 1, NULL);
    /* Blocked by the slow client they would take its whole time; half of
     * it leaves a loaded (or ASan) machine room to be slow otherwise. */
    ck_assert_int_lt(rb_now_ms() - t0, RB_METRICS_CLIENT_TIMEOUT_MS / 2);
    /* The next client is served once the slow one's time is up. */
    char *resp;
    t0 = rb_now_ms();
    ck_assert_int_eq(get(port, "/healthz", &resp), 200);
    int64_t waited = rb_now_ms() - t0;
    ck_assert_int_lt(waited, RB_METRICS_CLIENT_TIMEOUT_MS + 1000);
    free(resp);
    /* The slow client was closed without a response. */
    char c;
    ck_assert_int_le(recv(slow, &c, 1, 0), 0);
    close(slow);
    /* Stop is prompt even with a stalled client connected. */
    int stalled = connect_to(port);
    rb_sleep_ms(50);
    t0 = rb_now_ms();
    rb_metrics_server_stop(s);
    ck_assert_int_lt(rb_now_ms() - t0, 1000);
    close(stalled);
    rb_metrics_destroy(m);
}
END_TEST

START_TEST(server_errors_name_the_address) {
    rb_metrics *m = ragbatch_registry();
    rb_error err;
    rb_metrics_server *a = rb_metrics_server_start(m, "127.0.0.1", 0, NULL, NULL, &err);
    ck_assert_ptr_nonnull(a);
    int port = rb_metrics_server_port(a);
    /* The same port again: in use. */
    ck_assert_ptr_null(rb_metrics_server_start(m, "127.0.0.1", port, NULL, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "127.0.0.1"));
    ck_assert_ptr_nonnull(strstr(err.msg, "metrics.port"));
    ck_assert_ptr_null(rb_metrics_server_start(m, "not an address", 0, NULL, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "metrics.address"));
    ck_assert_ptr_null(rb_metrics_server_start(m, NULL, 70000, NULL, NULL, &err));
    /* Start and stop repeatedly: nothing leaks (ASan build). */
    for (int i = 0; i < 5; i++) {
        rb_metrics_server *s = rb_metrics_server_start(m, NULL, 0, NULL, NULL, &err);
        ck_assert_msg(s != NULL, "%s", err.msg);
        rb_metrics_server_stop(s);
    }
    rb_metrics_server_stop(a);
    rb_metrics_server_stop(NULL);
    rb_metrics_destroy(m);
}
END_TEST

START_TEST(readiness_follows_dependencies_and_progress) {
    rb_error err;
    /* Silence limit and wait: the checks that expect "ready" below come
     * within the limit of the last progress even on a loaded machine
     * (starting the server and a request in 300 ms was not always). */
    rb_readiness *r = rb_readiness_new(1500, &err);
    ck_assert_ptr_nonnull(r);
    char why[256] = "";
    ck_assert_int_eq(rb_readiness_check(r, why, sizeof why), 1);
    rb_readiness_set(r, "kafka", 1, NULL);
    rb_readiness_set(r, "mongodb", 0, "No suitable servers found");
    ck_assert_int_eq(rb_readiness_check(r, why, sizeof why), 0);
    ck_assert_str_eq(why, "mongodb: No suitable servers found");
    rb_readiness_set(r, "mongodb", 1, NULL);
    ck_assert_int_eq(rb_readiness_check(r, why, sizeof why), 1);
    /* A loop silent for longer than the limit is not ready. */
    rb_sleep_ms(1600);
    ck_assert_int_eq(rb_readiness_check(r, why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "no batch completed for"));
    rb_readiness_progress(r);
    ck_assert_int_eq(rb_readiness_check(r, why, sizeof why), 1);

    /* Behind the endpoint, over HTTP. */
    rb_metrics *m = ragbatch_registry();
    rb_metrics_server *s = rb_metrics_server_start(m, "127.0.0.1", 0, rb_readiness_check, r, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    int port = rb_metrics_server_port(s);
    char *body;
    ck_assert_int_eq(expo_http_get(port, "/readyz", &body), 200);
    free(body);
    rb_readiness_set(r, "kafka", 0, "all brokers down");
    ck_assert_int_eq(expo_http_get(port, "/readyz", &body), 503);
    ck_assert_str_eq(body, "kafka: all brokers down\n");
    free(body);
    rb_readiness_set(r, "kafka", 1, NULL);
    rb_readiness_progress(r);
    ck_assert_int_eq(expo_http_get(port, "/readyz", &body), 200);
    free(body);
    rb_metrics_server_stop(s);
    /* Nothing listens any more: the helper says so instead of failing. */
    ck_assert_int_eq(expo_http_get(port, "/healthz", &body), -1);
    ck_assert_ptr_null(body);
    rb_metrics_destroy(m);
    rb_readiness_destroy(r);
    rb_readiness_destroy(NULL);
}
END_TEST

START_TEST(metrics_keys_parse) {
    rb_job_config cfg;
    rb_error err;
    ck_assert_int_eq(rb_job_config_init(&cfg, &err), 0);
    ck_assert_int_eq(cfg.metrics_port, 0); /* off unless asked for */
    ck_assert_str_eq(cfg.metrics_address, "0.0.0.0");
    ck_assert_int_eq(rb_job_config_set(&cfg, "metrics.port=9400", "test", &err), 0);
    ck_assert_int_eq(rb_job_config_set(&cfg, "metrics.address=127.0.0.1", "test", &err), 0);
    ck_assert_int_eq(cfg.metrics_port, 9400);
    ck_assert_str_eq(cfg.metrics_address, "127.0.0.1");
    ck_assert_int_eq(rb_job_config_set(&cfg, "metrics.port=65536", "test", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "metrics.port"));
    rb_job_config_free(&cfg);
}
END_TEST

/* The read of what is stored for a batch's ids has its own duration in the
 * progress lines (not inside embed) and its own stage label, the one the
 * runner feeds ragbatch_stage_duration_seconds with. */
START_TEST(progress_times_the_lookup_on_its_own) {
    rb_progress p = {.batch_id = 7};
    p.duration_ms[RB_PROG_LOOKUP] = 12.5;
    p.duration_ms[RB_PROG_EMBED] = 300.25;
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_progress_format_text(&p, &b), 0);
    ck_assert_msg(strstr(b.data, " lookup_ms=12.5 embed_ms=300.2") != NULL, "%s", b.data);
    rb_buf_reset(&b);
    ck_assert_int_eq(rb_progress_format_json(&p, "job", &b), 0);
    ck_assert_msg(strstr(b.data, "\"lookup\":12.500,\"embed\":300.250") != NULL, "%s", b.data);
    rb_buf_free(&b);
    ck_assert_str_eq(rb_progress_stage_name(RB_PROG_LOOKUP), "lookup");
    ck_assert_str_eq(rb_progress_stage_name(RB_PROG_EMBED), "embed");
    for (int st = 0; st < RB_PROG_STAGES; st++)
        ck_assert_ptr_nonnull(rb_progress_stage_name((rb_progress_stage)st));
}
END_TEST

/* Chunk counts: embedded is chunks minus reused; written and removed show
 * also for a batch without long texts (a text that fits again removes its
 * old chunks); none of it for a batch that touched no chunk. */
START_TEST(progress_counts_chunks) {
    rb_progress p = {.batch_id = 2,
                     .chunks = 7,
                     .chunks_reused = 5,
                     .chunks_written = 7,
                     .chunks_removed = 3};
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_progress_format_text(&p, &b), 0);
    ck_assert_msg(strstr(b.data, " chunks=7 chunks_reused=5 chunks_embedded=2 chunks_written=7 "
                                 "chunks_removed=3"),
                  "%s", b.data);
    rb_buf_reset(&b);
    ck_assert_int_eq(rb_progress_format_json(&p, "job", &b), 0);
    ck_assert_msg(strstr(b.data, "\"chunks\":{\"count\":7,\"reused\":5,\"embedded\":2,"
                                 "\"written\":7,\"removed\":3}"),
                  "%s", b.data);
    rb_buf_reset(&b);
    p = (rb_progress){.batch_id = 3, .chunks_removed = 4};
    ck_assert_int_eq(rb_progress_format_text(&p, &b), 0);
    ck_assert_msg(strstr(b.data, " chunks=0 chunks_reused=0 chunks_embedded=0 chunks_written=0 "
                                 "chunks_removed=4"),
                  "%s", b.data);
    rb_buf_reset(&b);
    p = (rb_progress){.batch_id = 4};
    ck_assert_int_eq(rb_progress_format_text(&p, &b), 0);
    ck_assert_msg(!strstr(b.data, "chunks"), "%s", b.data);
    rb_buf_free(&b);
}
END_TEST

/* ragbatch_chunks_total is declared with the other families. */
START_TEST(chunk_counter_is_declared) {
    rb_error err;
    rb_metrics *m = rb_metrics_new(&err);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(rb_metrics_declare_ragbatch(m, &err), 0);
    const char *labels[] = {"job", "written"};
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_CHUNKS, labels, 4, &err), 0);
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_metrics_render(m, &b, &err), 0);
    ck_assert_msg(strstr(b.data, "# TYPE ragbatch_chunks_total counter\n") &&
                      strstr(b.data, "ragbatch_chunks_total{job=\"job\",outcome=\"written\"} 4\n"),
                  "%s", b.data);
    rb_buf_free(&b);
    rb_metrics_destroy(m);
}
END_TEST

/* Every family ragbatch serves, each with a series, as Prometheus's own
 * linter reads them: names, units, suffixes, help, histogram shape. */
START_TEST(promtool_accepts_every_family) {
    rb_metrics *m = ragbatch_registry();
    rb_error err;
    const char *job[] = {"jobA"}, *stored[] = {"jobA", "stored"}, *embed[] = {"jobA", "embed"};
    const char *lag[] = {"jobA", "product-updates", "3"};
    const char *produced[] = {"jobA", "produced"}, *event[] = {"jobA", "event"};
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_RECORDS, stored, 5, &err), 0);
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_BATCHES, job, 1, &err), 0);
    ck_assert_int_eq(rb_metrics_observe(m, RB_METRIC_STAGE_DURATION, embed, 0.2, &err), 0);
    ck_assert_int_eq(rb_metrics_observe(m, RB_METRIC_BATCH_DURATION, job, 0.3, &err), 0);
    ck_assert_int_eq(rb_metrics_gauge_set(m, RB_METRIC_CONSUMER_LAG, lag, 42, &err), 0);
    ck_assert_int_eq(rb_metrics_counter_add(m, RB_METRIC_EMBEDDED_TEXTS, job, 5, &err), 0);
    ck_assert_int_eq(rb_metrics_gauge_set(m, RB_METRIC_EMBED_RATE, job, 120, &err), 0);
    ck_assert_int_eq(rb_metrics_gauge_set(m, RB_METRIC_LAST_BATCH, job, 1764000000.25, &err), 0);
    ck_assert_int_eq(rb_metrics_observe(m, RB_METRIC_FRESHNESS, produced, 0.7, &err), 0);
    ck_assert_int_eq(rb_metrics_observe(m, RB_METRIC_FRESHNESS, event, 86400 * 30, &err), 0);
    char *text = render(m);
    ck_assert_msg(strstr(text, "ragbatch_freshness_seconds_bucket{job=\"jobA\",since=\"event\","
                               "le=\"+Inf\"} 1"),
                  "%s", text);
    promtool_check(text);
    free(text);
    rb_metrics_destroy(m);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, render_parses_and_counts_match);
    tcase_add_test(tc, label_values_and_help_are_escaped);
    tcase_add_test(tc, misuse_is_an_error_and_changes_nothing);
    tcase_add_test(tc, concurrent_updates_are_not_lost);
    tcase_add_test(tc, progress_times_the_lookup_on_its_own);
    tcase_add_test(tc, progress_counts_chunks);
    tcase_add_test(tc, chunk_counter_is_declared);
    tcase_add_test(tc, promtool_accepts_every_family);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    TCase *th = tcase_create("http");
    tcase_add_test(th, http_endpoints_answer);
    tcase_add_test(th, slow_client_neither_blocks_updates_nor_the_server_for_long);
    tcase_add_test(th, server_errors_name_the_address);
    tcase_add_test(th, readiness_follows_dependencies_and_progress);
    tcase_add_test(th, metrics_keys_parse);
    tcase_set_timeout(th, 30);
    suite_add_tcase(s, th);
    return s;
}
