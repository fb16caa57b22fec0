#include "harness.h"
#include "spawn.h"

#include "common/clock.h"
#include "generate/generate.h"
#include "json/json.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

const char *harness_env(const char *name) {
    const char *v = getenv(name);
    ck_assert_msg(v && *v,
                  "%s is not set: start the test servers with `scripts/servers.sh start` and "
                  "`source run/servers.env` (or run scripts/test.sh)",
                  name);
    return v;
}

void harness_unique(const char *prefix, char *out, size_t size) {
    static unsigned counter; /* test-only: unique names within one process */
    snprintf(out, size, "%s-%ld-%u-%lld", prefix, (long)getpid(), counter++,
             (long long)(rb_wall_ms() % 100000000));
}

const char *harness_model_dir(void) { return RB_MODEL_DIR; }

/* Sets `key` on `conf`; a refusal aborts the test, naming the key. */
static void conf_set(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char errstr[512];
    ck_assert_msg(rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK,
                  "kafka client: %s: %s", key, errstr);
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *group) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"));
    if (group) conf_set(conf, "group.id", group);
    if (type == RD_KAFKA_PRODUCER) conf_set(conf, "acks", "all");
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "kafka client: %s", errstr);
    return rk;
}

void harness_create_topic(const char *topic, int partitions) {
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, NULL);
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, errstr, sizeof errstr);
    ck_assert_msg(nt != NULL, "%s", errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    ck_assert_msg(ev != NULL, "CreateTopics timed out");
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    ck_assert_ptr_nonnull(res);
    size_t n;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_msg(rd_kafka_topic_result_error(tr[0]) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "create topic %s: %s", topic, rd_kafka_topic_result_error_string(tr[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    /* Metadata propagates asynchronously: wait until the topic is visible
     * (bounded; a topic never seen fails here, not in the case using it). */
    bool visible = false;
    for (int i = 0; i < 100 && !visible; i++) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        bool ok = rd_kafka_metadata(rk, 0, rkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                  md->topic_cnt == 1 && md->topics[0].err == 0 &&
                  md->topics[0].partition_cnt == partitions;
        if (md) rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        visible = ok;
        if (!ok) rb_sleep_ms(100);
    }
    rd_kafka_destroy(rk);
    ck_assert_msg(visible, "topic %s (%d partitions) not in the broker's metadata after 100 tries",
                  topic, partitions);
}

const char *harness_write_job(const char *name, const char *topic, const char *db,
                              const char *extra) {
    static char path[512];
    snprintf(path, sizeof path, "%s/tests/%s.job", RB_BUILD_DIR, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fprintf(f,
            "job.name = %s\n"
            "source.topics = %s\n"
            "kafka.bootstrap.servers = %s\n"
            "kafka.group.id = %s\n"
            /* the broker's minimum: a killed runner's partitions move on sooner */
            "kafka.session.timeout.ms = 6000\n"
            "trigger.interval.ms = 200\n"
            "schema.file = %s/conf/product_schema.json\n"
            "text.template = {name}.[[ Brand: {brand?}.]][[ Category: {category?}.]]"
            "[[ {description?}]][[ Tags: {tags?}.]]\n"
            "metadata.fields = name, category, brand, price, currency, tags, in_stock, "
            "attributes\n"
            "embed.model.dir = %s\n"
            "embed.threads = 2\n"
            "mongo.uri = %s\n"
            "mongo.database = %s\n"
            "mongo.collection = docs\n"
            "mongo.timeout.ms = 10000\n"
            "sink.retry.backoff.ms = 200\n"
            "sink.retry.backoff.max.ms = 1000\n"
            "%s\n",
            name, topic, harness_env("RAGBATCH_KAFKA_BOOTSTRAP"), name, RB_SOURCE_DIR,
            harness_model_dir(), harness_env("RAGBATCH_MONGO_URI"), db, extra ? extra : "");
    fclose(f);
    return path;
}

pid_t harness_spawn(const char *log_path, const char *const *args) {
    const char *argv[32];
    size_t n = 0;
    argv[n++] = RB_BUILD_DIR "/ragbatch";
    for (size_t i = 0; args[i] && n < 31; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDERR_FILENO);
            dup2(fd, STDOUT_FILENO);
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int harness_wait(pid_t pid, int timeout_s) {
    int64_t until = rb_now_ms() + (int64_t)timeout_s * 1000;
    int status = 0;
    for (;;) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        if (got == pid) break;
        if (rb_now_ms() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ck_abort_msg("ragbatch did not finish within %d s", timeout_s);
        }
        rb_sleep_ms(50);
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int harness_run(const char *log_path, const char *const *args, int timeout_s) {
    return harness_wait(harness_spawn(log_path, args), timeout_s);
}

static void flush_or_fail(rd_kafka_t *rk) {
    ck_assert_msg(rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  "producer flush timed out");
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    int *failed = m->_private;
    if (m->err && failed) (*failed)++;
}

void harness_produce(const char *topic, const harness_msg *msgs, size_t n) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"));
    conf_set(conf, "acks", "all");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "%s", errstr);
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        const harness_msg *m = &msgs[i];
        size_t len = m->value ? (m->value_len ? m->value_len : strlen(m->value)) : 0;
        rd_kafka_resp_err_t e =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(m->partition),
                              RD_KAFKA_V_KEY(m->key, m->key ? strlen(m->key) : 0),
                              RD_KAFKA_V_VALUE((void *)m->value, len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(&failed),
                              RD_KAFKA_V_END);
        ck_assert_msg(e == RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(e));
        rd_kafka_poll(rk, 0);
    }
    flush_or_fail(rk);
    ck_assert_int_eq(failed, 0);
    rd_kafka_destroy(rk);
}

size_t harness_produce_generated(const char *topic, size_t count, size_t products, uint64_t seed,
                                 double malformed, double delete_share,
                                 const char *manifest_path) {
    rb_gen_options o;
    rb_gen_options_init(&o);
    o.seed = seed;
    o.products = products;
    o.malformed = malformed;
    o.delete_share = delete_share;
    rb_error err;
    rb_gen *g = rb_gen_new(&o, &err);
    ck_assert_msg(g != NULL, "%s", err.msg);
    harness_msg *msgs = calloc(count, sizeof *msgs);
    char **keys = calloc(count, sizeof *keys);
    char **values = calloc(count, sizeof *values);
    ck_assert(msgs && keys && values);
    int64_t t = rb_wall_ms();
    for (size_t i = 0; i < count; i++) {
        rb_gen_event ev;
        ck_assert_int_eq(rb_gen_next(g, t + (int64_t)i, &ev, &err), 0);
        keys[i] = strndup(ev.key, ev.key_len);
        values[i] = malloc(ev.value_len + 1);
        ck_assert(keys[i] && values[i]);
        memcpy(values[i], ev.value, ev.value_len);
        values[i][ev.value_len] = '\0';
        msgs[i] = (harness_msg){keys[i], values[i], ev.value_len, -1};
    }
    harness_produce(topic, msgs, count);
    if (manifest_path) {
        FILE *f = fopen(manifest_path, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(rb_gen_write_manifest(g, f, topic, &err), 0);
        fclose(f);
    }
    size_t bad = (size_t)rb_gen_get_counts(g)->malformed;
    for (size_t i = 0; i < count; i++) {
        free(keys[i]);
        free(values[i]);
    }
    free(keys);
    free(values);
    free(msgs);
    rb_gen_destroy(g);
    return bad;
}

int64_t harness_committed_total(const char *group, const char *topic) {
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, group);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    ck_assert_int_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (int p = 0; p < md->topics[0].partition_cnt; p++)
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[p].id);
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    /* The group coordinator can move or still be loading on a busy broker
     * (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS...): those answers are
     * asked again, within a bound; anything else fails the test. */
    int64_t until = rb_now_ms() + 30000;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_committed(rk, l, 10000);
        for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < l->cnt; i++) e = l->elems[i].err;
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        bool again = e == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
                     e == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
                     e == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
                     e == RD_KAFKA_RESP_ERR__TIMED_OUT || e == RD_KAFKA_RESP_ERR__TRANSPORT;
        ck_assert_msg(again && rb_now_ms() < until, "committed offsets of group %s: %s", group,
                      rd_kafka_err2str(e));
        for (int i = 0; i < l->cnt; i++) l->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
        rb_sleep_ms(200);
    }
    int64_t total = 0;
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].offset > 0) total += l->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return total;
}

/* Runs scripts/SCRIPT ARGS; its output goes to the suite's log. */
static void mongo_script(const char *script, const char *args) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/scripts/%s %s >&2", RB_SOURCE_DIR, script, args);
    ck_assert_msg(system(cmd) == 0, "scripts/%s %s failed (its output is above)", script, args);
}

/* host:port of a mongodb:// URI (the first host of a list, any user info
 * skipped) into out. */
static void uri_address(const char *uri, char *out, size_t size) {
    const char *p = strstr(uri, "://");
    p = p ? p + 3 : uri;
    size_t n = strcspn(p, "/?,");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    snprintf(out, size, "%.*s", (int)n, p);
}

/* What `scripts/SCRIPT address` prints (empty if it fails). */
static void script_address(const char *script, char *out, size_t size) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/scripts/%s address 2>/dev/null", RB_SOURCE_DIR, script);
    FILE *f = popen(cmd, "r");
    ck_assert_msg(f != NULL, "popen %s: %s", cmd, strerror(errno));
    if (!fgets(out, (int)size, f)) out[0] = '\0';
    pclose(f);
    out[strcspn(out, "\n")] = '\0';
}

static const char *server_script(harness_mongo_server server) {
    return server == HARNESS_MONGO_JAVA ? "mongo-java.sh" : "mongo.sh";
}

/* The server RAGBATCH_MONGO_SERVER names, without asking it anything. */
static harness_mongo_server named_server(void) {
    const char *name = harness_env("RAGBATCH_MONGO_SERVER");
    if (strcmp(name, "ferretdb") == 0) return HARNESS_FERRETDB;
    if (strcmp(name, "mongo-java") == 0) return HARNESS_MONGO_JAVA;
    ck_abort_msg("RAGBATCH_MONGO_SERVER is '%s': want ferretdb or mongo-java", name);
    return HARNESS_FERRETDB; /* not reached */
}

harness_mongo_server harness_mongo(void) {
    const char *name = harness_env("RAGBATCH_MONGO_SERVER");
    harness_mongo_server server = named_server();
    /* A name that does not match the URI would give one server's
     * expectations to the other, and take the wrong one away. */
    char want[256], have[256];
    uri_address(harness_env("RAGBATCH_MONGO_URI"), want, sizeof want);
    script_address(server_script(server), have, sizeof have);
    ck_assert_msg(strcmp(want, have) == 0,
                  "RAGBATCH_MONGO_SERVER=%s but RAGBATCH_MONGO_URI names %s, and scripts/%s of "
                  "%s reports '%s': set both for the same server (see run/servers.env)",
                  name, want, server_script(server), RB_SOURCE_DIR, have);
    return server;
}

static harness_mongo_server outage; /* test-only: the server harness_mongo_down took away */
static bool outage_started;

void harness_mongo_down(void) {
    outage = harness_mongo();
    outage_started = true;
    mongo_script(server_script(outage), "down");
}

void harness_mongo_up(void) {
    /* Without an outage of this process, "up" makes sure the server under
     * test runs (a fixture after a test that failed mid-outage: the server
     * is then down, so it cannot be asked for its address before "up"). */
    mongo_script(server_script(outage_started ? outage : named_server()), "up");
    (void)harness_mongo(); /* the server that came up is the one the URI names */
}

rb_sink *harness_sink(const char *db) {
    rb_sink_opts o = {.uri = harness_env("RAGBATCH_MONGO_URI"),
                      .database = db,
                      .collection = "docs",
                      .timeout_ms = 5000};
    rb_error err;
    rb_sink *s = rb_sink_new(&o, &err);
    ck_assert_msg(s != NULL, "MongoDB-wire server: %s", err.msg);
    return s;
}

int harness_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_msg(fd >= 0, "socket: %s", strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

char *harness_slurp(const char *path) { return spawn_slurp(path, NULL); }

char *harness_run_job(const char *name, const char *topic, const char *db, const char *extra,
                      int expect_status) {
    char log[512];
    const char *job = harness_write_job(name, topic, db, extra);
    snprintf(log, sizeof log, "%s/tests/%s.log", RB_BUILD_DIR, name);
    const char *args[] = {"run", job, "--until", "caught-up", NULL};
    int status = harness_run(log, args, 180);
    char *text = harness_slurp(log);
    ck_assert_msg(status == expect_status, "%s exited %d (expected %d):\n%s", name, status,
                  expect_status, text);
    return text;
}

void harness_exec(const char *what, const char *log_path, const char *const *argv, int timeout_s) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen(log_path, "w", stdout) || dup2(fileno(stdout), 2) < 0) _exit(127);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = harness_wait(pid, timeout_s);
    if (status != 0) ck_abort_msg("%s exited %d:\n%s", what, status, harness_slurp(log_path));
}

long harness_progress_sum(const char *text, const char *key) {
    long sum = 0;
    char needle[64];
    snprintf(needle, sizeof needle, " %s=", key);
    for (const char *p = text; (p = strstr(p, "event=progress")) != NULL;) {
        const char *eol = strchr(p, '\n');
        const char *k = strstr(p, needle);
        if (k && (!eol || k < eol)) sum += strtol(k + strlen(needle), NULL, 10);
        p = eol ? eol : p + strlen(p);
    }
    return sum;
}

rb_json_doc *harness_stored(rb_sink *sink, const char *id, const char *what) {
    char *json = NULL;
    rb_error err;
    ck_assert_msg(rb_sink_get_json(sink, id, &json, &err) == 0, "%s", err.msg);
    ck_assert_msg(json != NULL, "%s: %s is not stored", what, id);
    rb_json_doc *doc = NULL;
    ck_assert_msg(rb_json_parse(json, strlen(json), NULL, &doc, &err) == 0, "%s: %s: %s", what, id,
                  err.msg);
    free(json);
    return doc;
}

const rb_json *harness_member(const rb_json *doc, const char *name, const char *id) {
    const rb_json *v = rb_json_get(doc, name);
    ck_assert_msg(v != NULL, "document %s has no %s", id, name);
    return v;
}

void harness_expect_same_stored(const rb_json *want, const rb_json *got, const char *id,
                                const char *label) {
    ck_assert_int_eq(harness_json_int(harness_member(got, "version", id)),
                     harness_json_int(harness_member(want, "version", id)));
    bool deleted = harness_member(want, "deleted", id)->boolean;
    ck_assert_int_eq(harness_member(got, "deleted", id)->boolean, deleted);
    if (deleted) return;
    const char *fields[] = {"text", "text_hash", "model"};
    for (size_t f = 0; f < 3; f++)
        ck_assert_str_eq(rb_json_string(harness_member(got, fields[f], id)),
                         rb_json_string(harness_member(want, fields[f], id)));
    const rb_json *m0 = harness_member(want, "metadata", id),
                  *mr = harness_member(got, "metadata", id);
    ck_assert_msg(m0->raw_len == mr->raw_len && memcmp(m0->raw, mr->raw, m0->raw_len) == 0,
                  "%s metadata of %s: %.*s vs %.*s", label, id, (int)mr->raw_len, mr->raw,
                  (int)m0->raw_len, m0->raw);
    const rb_json *e0 = harness_member(want, "embedding", id),
                  *er = harness_member(got, "embedding", id);
    ck_assert_uint_eq(e0->count, er->count);
    ck_assert_uint_gt(e0->count, 0);
    for (size_t k = 0; k < e0->count; k++)
        ck_assert(fabs(e0->items[k].number - er->items[k].number) < 1e-6);
}

int64_t harness_json_int(const rb_json *v) {
    ck_assert_ptr_nonnull(v);
    if (v->type == RB_JSON_OBJECT) v = rb_json_get(v, "$numberLong");
    if (v && v->type == RB_JSON_STRING) return strtoll(v->str, NULL, 10);
    ck_assert(v && v->type == RB_JSON_NUMBER);
    return (int64_t)v->number;
}

/* ---- one case's topic, database, job and log ---- */

void harness_case_open(harness_case *c, const char *name, int partitions) {
    memset(c, 0, sizeof *c);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "rb-%s", name);
    harness_unique(prefix, c->topic, sizeof c->topic);
    snprintf(c->db, sizeof c->db, "%s", c->topic);
    for (char *p = c->db; *p; p++)
        if (*p == '-') *p = '_';
    snprintf(c->log, sizeof c->log, "%s/tests/%s.log", RB_BUILD_DIR, c->topic);
    harness_create_topic(c->topic, partitions);
}

const char *harness_case_job(harness_case *c, const char *extra) {
    char lines[2048];
    snprintf(lines, sizeof lines, "log.format = json\n%s", extra ? extra : "");
    c->job = harness_write_job(c->topic, c->topic, c->db, lines);
    return c->job;
}

rb_sink *harness_case_sink(harness_case *c) {
    if (!c->sink) c->sink = harness_sink(c->db);
    return c->sink;
}

int harness_case_run(harness_case *c, const char *const *args) {
    ck_assert_ptr_nonnull(c->job);
    const char *argv[16] = {"run", c->job, "--until", "caught-up"};
    size_t n = 4;
    for (size_t i = 0; args && args[i]; i++) {
        ck_assert_uint_lt(n, sizeof argv / sizeof argv[0] - 1);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    return harness_run(c->log, argv, 300);
}

void harness_case_close(harness_case *c) {
    rb_sink *s = harness_case_sink(c);
    rb_error err;
    ck_assert_msg(rb_sink_drop_database(s, &err) == 0, "%s", err.msg);
    rb_sink_destroy(s);
    c->sink = NULL;
}

/* ---- progress lines ---- */

static int64_t progress_int(const rb_json *obj, const char *name, const char *line) {
    const rb_json *v = rb_json_get(obj, name);
    ck_assert_msg(v && v->type == RB_JSON_NUMBER, "no number \"%s\" in progress line %s", name,
                  line);
    return (int64_t)v->number;
}

harness_progress harness_progress_read(const char *log_path) {
    harness_progress p;
    memset(&p, 0, sizeof p);
    char *text = harness_slurp(log_path);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        /* Progress lines are the JSON objects that carry a batchId; the
         * log's own JSON lines and librdkafka's lines are not. */
        if (line[0] != '{' || !strstr(line, "\"batchId\":")) continue;
        rb_json_doc *doc;
        rb_error err;
        ck_assert_msg(rb_json_parse(line, strlen(line), NULL, &doc, &err) == 0,
                      "progress line is not JSON (%s): %s", err.msg, line);
        const rb_json *root = rb_json_doc_root(doc), *rec = rb_json_get(root, "records");
        ck_assert_msg(rec && rec->type == RB_JSON_OBJECT, "no records in %s", line);
        int64_t in = progress_int(root, "numInputRows", line);
        int64_t stored = progress_int(rec, "stored", line);
        int64_t deleted = progress_int(rec, "deleted", line);
        int64_t stale = progress_int(rec, "stale", line);
        int64_t reused = progress_int(rec, "reused", line);
        int64_t skipped = progress_int(rec, "skipped", line);
        int64_t dead = progress_int(rec, "deadLettered", line);
        int64_t failed = progress_int(rec, "failed", line);
        ck_assert_msg(in == stored + deleted + stale + reused + skipped + dead + failed,
                      "a batch does not account for each record: %s", line);
        p.batches++;
        p.in += in;
        p.stored += stored;
        p.deleted += deleted;
        p.stale += stale;
        p.reused += reused;
        p.skipped += skipped;
        p.dead_lettered += dead;
        p.failed += failed;
        p.embedded += progress_int(root, "embedded", line);
        rb_json_doc_destroy(doc);
    }
    free(text);
    return p;
}
