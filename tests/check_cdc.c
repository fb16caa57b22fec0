/*
 * Integration suite: change data capture from a real PostgreSQL server
 * (scripts/postgres.sh, wal_level=logical) through a real Kafka Connect
 * worker (scripts/connect.sh: connect-runtime 3.9.2 in standalone mode) running
 * Debezium's PostgreSQL connector (3.6.1.Final, pgoutput), into the ragbatch
 * binary with the demo job jobs/products-cdc.job, and a real MongoDB-wire
 * server.  Nothing is mocked.
 *
 * And one case with JsonConverter alone (tests/java/ConnectJsonProducer.java):
 * the same product events enveloped (schemas.enable=true) and plain
 * (false) make the same documents, read as connect-json, auto and json.
 *
 * One case per JsonConverter setting of the connector's values:
 * schemas.enable=true (Connect's default; the id from the Kafka key) and
 * false (the id from the row's "id" field).  Each case snapshots a table,
 * then inserts, updates (text, and price alone) and deletes rows, then
 * re-snapshots the table through a new connector (a new replication slot),
 * then replays the whole topic in a backfill; after each step the
 * collection holds exactly the live rows, each with the version of its
 * last change (a WAL position between the ones read before and after the
 * step) and the vector of its text.
 *
 * The servers come from scripts/servers.sh (run/servers.env):
 * RAGBATCH_PG_ADDRESS (127.0.0.1:PORT) and RAGBATCH_CONNECT_URL besides
 * Kafka's and MongoDB's.  A missing variable or an unreachable server
 * fails the suite.  Every wait is bounded: for the connector, the records
 * it must write are counted on the topic before ragbatch runs, so no step
 * depends on timing.
 */
#include "check_main.h"
#include "embed/embedder.h"
#include "harness.h"
#include "json/json.h"

#include "common/buf.h"

#include <check.h>
#include <inttypes.h>
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

#define CONNECTOR_WAIT_S 90

/* ---- PostgreSQL, through psql ---------------------------------------- */

/* Runs one SQL string on database `db` with psql; returns its output
 * (malloc'ed; rows unaligned, tuples only).  Fails the test on an error. */
static char *psql(const char *db, const char *sql) {
    char hostport[128];
    snprintf(hostport, sizeof hostport, "%s", harness_env("RAGBATCH_PG_ADDRESS"));
    char *colon = strrchr(hostport, ':');
    ck_assert_msg(colon != NULL, "RAGBATCH_PG_ADDRESS is not host:port: %s", hostport);
    *colon = '\0';
    char out_path[512];
    snprintf(out_path, sizeof out_path, "%s/tests/check_cdc-%d.psql", RB_BUILD_DIR, (int)getpid());
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        FILE *o = freopen(out_path, "w", stdout);
        if (!o) _exit(127);
        dup2(fileno(stdout), 2);
        setenv("PGCONNECT_TIMEOUT", "5", 1);
        execlp("psql", "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", hostport,
               "-p", colon + 1, "-U", "postgres", "-d", db, "-c", sql, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    int64_t deadline = rb_now_ms() + 30000;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (rb_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            ck_abort_msg("psql did not finish within 30 s: %s", sql);
        }
        usleep(20000);
    }
    char *out = harness_slurp(out_path);
    unlink(out_path);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "psql failed (%d) on %s:\n%s",
                  status, sql, out);
    return out;
}

static void sql(const char *db, const char *text) { free(psql(db, text)); }

/* The server's current WAL insert position in bytes (what Debezium calls
 * lsn).  Not pg_current_wal_lsn(): that is the position written out, which
 * lags behind the inserts with synchronous_commit=off. */
static int64_t wal_now(const char *db) {
    char *out = psql(db, "SELECT pg_current_wal_insert_lsn() - '0/0'");
    int64_t v = strtoll(out, NULL, 10);
    free(out);
    ck_assert_int_gt(v, 0);
    return v;
}

/* ---- Kafka Connect, through its REST API ------------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *ctx) {
    rb_buf_append(ctx, p, size * n);
    return size * n;
}

/* One request; returns the HTTP status (body in `body` if not NULL). */
static long rest(const char *method, const char *path, const char *json, rb_buf *body) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", harness_env("RAGBATCH_CONNECT_URL"), path);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    rb_buf scratch;
    rb_buf_init(&scratch);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body ? body : &scratch);
    if (json) curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    rb_buf_free(&scratch);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s (is scripts/connect.sh running?)", method, url,
                  curl_easy_strerror(rc));
    return code;
}

/* Creates connector `name` capturing `db`.public.products into topics
 * "<prefix>.public.products", through replication slot `slot`. */
static void connector_create(const char *name, const char *db, const char *prefix,
                             const char *slot, bool schemas) {
    char hostport[128];
    snprintf(hostport, sizeof hostport, "%s", harness_env("RAGBATCH_PG_ADDRESS"));
    char *colon = strrchr(hostport, ':');
    *colon = '\0';
    char json[2048], path[256];
    snprintf(json, sizeof json,
             "{\"connector.class\":\"io.debezium.connector.postgresql.PostgresConnector\","
             "\"tasks.max\":\"1\",\"database.hostname\":\"%s\",\"database.port\":\"%s\","
             "\"database.user\":\"postgres\",\"database.password\":\"unused\","
             "\"database.dbname\":\"%s\",\"topic.prefix\":\"%s\","
             "\"table.include.list\":\"public.products\",\"plugin.name\":\"pgoutput\","
             "\"slot.name\":\"%s\",\"slot.drop.on.stop\":\"true\",\"publication.name\":\"%s\","
             "\"publication.autocreate.mode\":\"filtered\",%s"
             "\"topic.creation.default.replication.factor\":\"1\","
             "\"topic.creation.default.partitions\":\"1\","
             "\"value.converter\":\"org.apache.kafka.connect.json.JsonConverter\","
             "\"value.converter.schemas.enable\":\"%s\"}",
             hostport, colon + 1, db, prefix, slot, prefix,
             /* With the schema, Debezium's default for numeric (precise: a
              * Connect Decimal, base64 bytes) is read through it; without
              * it, the scale is unknown, so ask for doubles. */
             schemas ? "" : "\"decimal.handling.mode\":\"double\",", schemas ? "true" : "false");
    snprintf(path, sizeof path, "/connectors/%s/config", name);
    rb_buf body;
    rb_buf_init(&body);
    long code = rest("PUT", path, json, &body);
    ck_assert_msg(code == 200 || code == 201, "PUT %s: %ld %s", path, code,
                  body.data ? body.data : "");
    rb_buf_free(&body);
}

/* Deletes the connector and waits (bounded) until its slot is gone, so
 * that the next connector's snapshot is a new one. */
static void connector_delete(const char *name, const char *db, const char *slot) {
    char path[256];
    snprintf(path, sizeof path, "/connectors/%s", name);
    long code = rest("DELETE", path, NULL, NULL);
    ck_assert_msg(code == 204 || code == 404, "DELETE %s: %ld", path, code);
    char q[256];
    snprintf(q, sizeof q, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '%s'",
             slot);
    int64_t deadline = rb_now_ms() + CONNECTOR_WAIT_S * 1000;
    for (;;) {
        char *out = psql(db, q);
        bool gone = strtol(out, NULL, 10) == 0;
        free(out);
        if (gone) return;
        if (rb_now_ms() > deadline) {
            /* slot.drop.on.stop did not run (a task killed): drop it here. */
            snprintf(q, sizeof q, "SELECT pg_drop_replication_slot('%s')", slot);
            sql(db, q);
            return;
        }
        usleep(200000);
    }
}

/* Waits until `topic` holds `want` records (the connector's output), at
 * most CONNECTOR_WAIT_S; fails naming how many arrived. */
static void await_records(const char *topic, int64_t want) {
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", harness_env("RAGBATCH_KAFKA_BOOTSTRAP"), errstr,
                      sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    ck_assert_msg(rk != NULL, "%s", errstr);
    int64_t lo = 0, hi = -1, deadline = rb_now_ms() + CONNECTOR_WAIT_S * 1000;
    while (rb_now_ms() < deadline) {
        if (rd_kafka_query_watermark_offsets(rk, topic, 0, &lo, &hi, 2000) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= want)
            break;
        usleep(200000);
    }
    rd_kafka_destroy(rk);
    ck_assert_msg(hi == want,
                  "topic %s holds %" PRId64 " records after %d s, expected %" PRId64
                  " (see run/connect/connect.log)",
                  topic, hi, CONNECTOR_WAIT_S, want);
}

/* ---- ragbatch --------------------------------------------------------- */

typedef struct cdc_case {
    bool schemas;  /* value.converter.schemas.enable */
    char pgdb[64]; /* PostgreSQL database, also the topic prefix */
    char topic[128];
    char mongodb[64];
    char job_sets[8][256]; /* --set overrides of jobs/products-cdc.job */
    size_t n_sets;
    rb_sink *sink;
    rb_embedder *embedder;
    int run;
} cdc_case;

/* Runs `verb` (run --until caught-up, or backfill --from-beginning) of the
 * demo job with the case's overrides; returns the log (malloc'ed). */
static char *ragbatch(cdc_case *c, bool backfill) {
    char log[512];
    snprintf(log, sizeof log, "%s/tests/%s-%d.log", RB_BUILD_DIR, c->pgdb, c->run++);
    const char *args[32];
    size_t n = 0;
    args[n++] = backfill ? "backfill" : "run";
    args[n++] = RB_SOURCE_DIR "/jobs/products-cdc.job";
    if (backfill) {
        args[n++] = "--from-beginning";
    } else {
        args[n++] = "--until";
        args[n++] = "caught-up";
    }
    for (size_t i = 0; i < c->n_sets; i++) {
        args[n++] = "--set";
        args[n++] = c->job_sets[i];
    }
    args[n] = NULL;
    int status = harness_run(log, args, 180);
    char *text = harness_slurp(log);
    ck_assert_msg(status == 0, "ragbatch exited %d:\n%s", status, text);
    return text;
}

/* What a row must look like in MongoDB. */
typedef struct row {
    int id;
    const char *name;
    const char *description; /* NULL: none */
    double price;
} row;

static double cosine(const float *a, const rb_json *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    ck_assert_msg(b && b->type == RB_JSON_ARRAY && b->count == n, "embedding of %zu numbers",
                  b ? b->count : 0);
    for (size_t i = 0; i < n; i++) {
        double y = b->items[i].number;
        ab += a[i] * y;
        aa += (double)a[i] * a[i];
        bb += y * y;
    }
    return ab / (sqrt(aa) * sqrt(bb) + 1e-30);
}

/* The collection holds exactly `rows` (no other document, no tombstone);
 * each has its text, its price, the vector of its text, and a version in
 * [lo, hi] when `lo` > 0 (the WAL positions around its last change), or
 * equal to versions[i] when `lo` is 0.  Stores the versions read. */
static void assert_rows(cdc_case *c, const row *rows, size_t n, const int64_t *lo,
                        const int64_t *hi, int64_t *versions) {
    int64_t count = -1;
    rb_error err;
    ck_assert_msg(rb_sink_count(c->sink, true, &count, &err) == 0, "%s", err.msg);
    ck_assert_msg(count == (int64_t)n, "%" PRId64 " documents stored, expected %zu", count, n);
    size_t dim = rb_embedder_dim(c->embedder);
    float *vec = malloc(dim * sizeof *vec);
    for (size_t i = 0; i < n; i++) {
        char id[16], text[256];
        snprintf(id, sizeof id, "%d", rows[i].id);
        char *json = NULL;
        ck_assert_msg(rb_sink_get_json(c->sink, id, &json, &err) == 0, "%s", err.msg);
        ck_assert_msg(json != NULL, "row %s is not stored", id);
        rb_json_doc *doc;
        ck_assert_msg(rb_json_parse(json, strlen(json), NULL, &doc, &err) == 0, "%s", err.msg);
        const rb_json *d = rb_json_doc_root(doc);
        snprintf(text, sizeof text, "%s.%s%s", rows[i].name, rows[i].description ? " " : "",
                 rows[i].description ? rows[i].description : "");
        ck_assert_str_eq(rb_json_string(rb_json_get(d, "text")), text);
        ck_assert(!rb_json_get(d, "deleted")->boolean);
        const rb_json *price = rb_json_get_path(d, "metadata.price");
        ck_assert_msg(price && fabs(price->number - rows[i].price) < 1e-9, "row %s price: %s", id,
                      json);
        int64_t v = harness_json_int(rb_json_get(d, "version"));
        if (lo[i] > 0)
            ck_assert_msg(v > lo[i] && v <= hi[i],
                          "row %s has version %" PRId64 ", outside its change's WAL (%" PRId64
                          ", %" PRId64 "]",
                          id, v, lo[i], hi[i]);
        else
            ck_assert_msg(v == versions[i], "row %s version %" PRId64 ", expected %" PRId64, id, v,
                          versions[i]);
        versions[i] = v;
        const char *texts[] = {text};
        ck_assert_msg(rb_embedder_embed(c->embedder, texts, 1, vec, &err) == 0, "%s", err.msg);
        double cs = cosine(vec, rb_json_get(d, "embedding"), dim);
        ck_assert_msg(cs > 0.9999, "row %s: stored vector is not its text's (cosine %f)", id, cs);
        rb_json_doc_destroy(doc);
        free(json);
    }
    free(vec);
}

static void cdc_open(cdc_case *c, bool schemas) {
    memset(c, 0, sizeof *c);
    c->schemas = schemas;
    char u[64];
    harness_unique("cdc", u, sizeof u);
    for (char *p = u; *p; p++)
        if (*p == '-') *p = '_';
    snprintf(c->pgdb, sizeof c->pgdb, "%s", u);
    snprintf(c->topic, sizeof c->topic, "%s.public.products", u);
    snprintf(c->mongodb, sizeof c->mongodb, "%s", u);
    const char *sets[] = {"source.topics=%s",  "mongo.database=%s",      "mongo.collection=%s",
                          "kafka.group.id=%s", "trigger.interval.ms=%s", "embed.threads=%s"};
    const char *vals[] = {c->topic, c->mongodb, "docs", u, "200", "2"};
    for (size_t i = 0; i < 6; i++)
        snprintf(c->job_sets[c->n_sets++], sizeof c->job_sets[0], sets[i], vals[i]);
    /* The second case takes the id from the row instead of the key. */
    if (!schemas)
        snprintf(c->job_sets[c->n_sets++], sizeof c->job_sets[0], "document.id.from=value");
    char q[256];
    snprintf(q, sizeof q, "CREATE DATABASE %s", c->pgdb);
    sql("postgres", q);
    c->sink = harness_sink(c->mongodb);
    rb_error err;
    rb_local_embed_opts eo = {.model_dir = harness_model_dir(), .threads = 2};
    c->embedder = rb_embedder_local_new(&eo, &err);
    ck_assert_msg(c->embedder != NULL, "%s", err.msg);
}

static void cdc_close(cdc_case *c) {
    rb_embedder_destroy(c->embedder);
    rb_sink_destroy(c->sink);
    char q[256];
    snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s", c->pgdb);
    sql("postgres", q);
}

/* Splits a buffer into lines in place: returns the next line or NULL. */
static char *next_line(char **cursor) {
    char *line = *cursor;
    if (!line || !*line) return NULL;
    char *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = line + strlen(line);
    }
    return line;
}

/* Whether `name` ("cdc_<pid>_...") was made by a process that is gone. */
static bool orphaned(const char *name) {
    if (strncmp(name, "cdc_", 4) != 0) return false;
    char *end;
    long pid = strtol(name + 4, &end, 10);
    return end != name + 4 && *end == '_' && pid > 0 && pid != getpid() &&
           kill((pid_t)pid, 0) != 0;
}

/* What an earlier run that failed half-way left behind (its connectors,
 * their slots, its databases) is removed, so that it does not hold WAL or
 * worker threads for ever. */
static void remove_orphans(void) {
    rb_buf body;
    rb_buf_init(&body);
    ck_assert_int_eq(rest("GET", "/connectors", NULL, &body), 200);
    rb_json_doc *doc;
    rb_error err;
    ck_assert_msg(rb_json_parse(body.data, body.len, NULL, &doc, &err) == 0, "%s", err.msg);
    const rb_json *names = rb_json_doc_root(doc);
    for (size_t i = 0; names->type == RB_JSON_ARRAY && i < names->count; i++) {
        const char *name = rb_json_string(&names->items[i]);
        if (!name || !orphaned(name)) continue;
        char path[256];
        snprintf(path, sizeof path, "/connectors/%s", name);
        rest("DELETE", path, NULL, NULL);
    }
    rb_json_doc_destroy(doc);
    rb_buf_free(&body);
    char *slots = psql("postgres", "SELECT slot_name FROM pg_replication_slots WHERE NOT active");
    char *cursor = slots;
    for (char *line; (line = next_line(&cursor)) != NULL;) {
        if (!orphaned(line)) continue;
        char q[256];
        snprintf(q, sizeof q, "SELECT pg_drop_replication_slot('%s')", line);
        sql("postgres", q);
    }
    free(slots);
    char *dbs = psql("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'cdc\\_%'");
    cursor = dbs;
    for (char *line; (line = next_line(&cursor)) != NULL;) {
        if (!orphaned(line)) continue;
        char q[256];
        snprintf(q, sizeof q, "DROP DATABASE IF EXISTS %s WITH (FORCE)", line);
        sql("postgres", q);
    }
    free(dbs);
}

/* The whole life of a table, through one JsonConverter setting. */
static void cdc_lifecycle(bool schemas) {
    remove_orphans();
    cdc_case c;
    cdc_open(&c, schemas);
    const char *db = c.pgdb;
    char slot_a[96], slot_b[96], conn_a[96], conn_b[96];
    snprintf(slot_a, sizeof slot_a, "%s_a", db);
    snprintf(slot_b, sizeof slot_b, "%s_b", db);
    snprintf(conn_a, sizeof conn_a, "%s-a", db);
    snprintf(conn_b, sizeof conn_b, "%s-b", db);

    /* 1. Three rows before the connector: its initial snapshot (op r). */
    sql(db, "CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, description text, "
            "price numeric(10,2))");
    sql(db, "INSERT INTO products VALUES (1, 'Kettle', 'A steel kettle for the stove', 19.50),"
            " (2, 'Mug', 'A blue enamel mug', 4.00), (3, 'Lamp', 'A reading lamp', 31.00)");
    int64_t w0 = wal_now(db);
    connector_create(conn_a, db, db, slot_a, schemas);
    await_records(c.topic, 3);
    int64_t w1 = wal_now(db);
    char *log = ragbatch(&c, false);
    ck_assert_int_eq(harness_progress_sum(log, "embedded"), 3);
    free(log);
    row snap[] = {{1, "Kettle", "A steel kettle for the stove", 19.5},
                  {2, "Mug", "A blue enamel mug", 4.0},
                  {3, "Lamp", "A reading lamp", 31.0}};
    /* A snapshot's rows carry the snapshot's position: after the inserts. */
    int64_t lo[] = {w0 - 1, w0 - 1, w0 - 1}, hi[] = {w1, w1, w1}, v[4] = {0};
    assert_rows(&c, snap, 3, lo, hi, v);

    /* 2. Changes, one transaction each, so that each has its own WAL span. */
    int64_t t0 = wal_now(db);
    sql(db, "INSERT INTO products VALUES (4, 'Rug', 'A wool rug', 120.00)");
    int64_t t1 = wal_now(db);
    sql(db, "UPDATE products SET description = 'A steel kettle with a whistle' WHERE id = 1");
    int64_t t2 = wal_now(db);
    sql(db, "UPDATE products SET price = 5.50 WHERE id = 2"); /* price only */
    int64_t t3 = wal_now(db);
    sql(db, "DELETE FROM products WHERE id = 3"); /* d, then a tombstone */
    await_records(c.topic, 3 + 1 + 1 + 1 + 2);
    log = ragbatch(&c, false);
    /* The new row and the new text are embedded; the price is not text. */
    ck_assert_msg(harness_progress_sum(log, "embedded") == 2, "embedded %ld:\n%s",
                  harness_progress_sum(log, "embedded"), log);
    ck_assert_int_eq(harness_progress_sum(log, "reused"), 1);
    free(log);
    row live[] = {{1, "Kettle", "A steel kettle with a whistle", 19.5},
                  {2, "Mug", "A blue enamel mug", 5.5},
                  {4, "Rug", "A wool rug", 120.0}};
    /* A change's position is where its WAL record starts: at or after
     * the position read before it, before the one read after it. */
    int64_t lo2[] = {t1 - 1, t2 - 1, t0 - 1}, hi2[] = {t2, t3, t1};
    int64_t v2[3] = {0};
    assert_rows(&c, live, 3, lo2, hi2, v2);

    /* 3. A re-snapshot: a new connector (a new slot) reads the table again.
     * Its rows are newer than every change before it, and unchanged:
     * stored with their vectors, nothing embedded. */
    connector_delete(conn_a, db, slot_a);
    int64_t s0 = wal_now(db);
    connector_create(conn_b, db, db, slot_b, schemas);
    await_records(c.topic, 8 + 3);
    int64_t s1 = wal_now(db);
    log = ragbatch(&c, false);
    ck_assert_msg(harness_progress_sum(log, "embedded") == 0, "embedded %ld:\n%s",
                  harness_progress_sum(log, "embedded"), log);
    ck_assert_int_eq(harness_progress_sum(log, "reused"), 3);
    free(log);
    int64_t lo3[] = {s0 - 1, s0 - 1, s0 - 1}, hi3[] = {s1, s1, s1};
    assert_rows(&c, live, 3, lo3, hi3, v2);

    /* 4. A replay of the whole topic changes nothing: every record is
     * older than, or the same as, what is stored, or deletes what is gone. */
    log = ragbatch(&c, true);
    ck_assert_msg(harness_progress_sum(log, "in") == 11, "%s", log);
    /* The eight records of rows 1, 2 and 4 are older than, or the same as,
     * the re-snapshot's, however the replay is cut into batches; row 3's
     * (snapshot, delete, tombstone) end deleted. */
    ck_assert_msg(harness_progress_sum(log, "stale") >= 8, "%s", log);
    ck_assert_int_eq(harness_progress_sum(log, "failed") + harness_progress_sum(log, "skipped"),
                     0);
    free(log);
    int64_t zero[] = {0, 0, 0};
    assert_rows(&c, live, 3, zero, zero, v2);

    connector_delete(conn_b, db, slot_b);
    cdc_close(&c);
}

START_TEST(debezium_with_schemas_enabled_id_from_key) { cdc_lifecycle(true); }
END_TEST

/* ---- JsonConverter's envelope, written by the real converter ---------- */

/* Produces COUNT products' events to `topic` through Connect's JsonConverter
 * (tests/java/ConnectJsonProducer.java, with the worker's jars). */
static void produce_with_json_converter(const char *topic, bool schemas, int count) {
    char n[16];
    snprintf(n, sizeof n, "%d", count);
    char log[512];
    snprintf(log, sizeof log, "%s/tests/%s.producer.log", RB_BUILD_DIR, topic);
    const char *argv[] = {"java",
                          "-cp",
                          RB_SOURCE_DIR "/.cache/connect/libs/*",
                          RB_SOURCE_DIR "/tests/java/ConnectJsonProducer.java",
                          harness_env("RAGBATCH_KAFKA_BOOTSTRAP"),
                          topic,
                          schemas ? "true" : "false",
                          n,
                          NULL};
    harness_exec("ConnectJsonProducer (are the Connect jars in .cache/connect/libs? "
                 "scripts/connect.sh start fetches them)",
                 log, argv, 120);
}

/* The same events, enveloped (schemas.enable=true) and read as connect-json
 * or auto, and plain (false) and read as json, make the same documents. */
START_TEST(json_converter_envelope_stores_what_plain_json_does) {
    enum { COUNT = 30 };
    char plain[128], enveloped[128];
    harness_unique("rb-cjson-plain", plain, sizeof plain);
    harness_unique("rb-cjson-env", enveloped, sizeof enveloped);
    harness_create_topic(plain, 1);
    harness_create_topic(enveloped, 1);
    produce_with_json_converter(plain, false, COUNT);
    produce_with_json_converter(enveloped, true, COUNT);
    const struct {
        const char *topic, *format;
    } runs[] = {{plain, "json"}, {enveloped, "connect-json"}, {enveloped, "auto"}};
    rb_sink *sinks[3];
    for (int r = 0; r < 3; r++) {
        char db[64], name[128], extra[128];
        harness_unique("rbcjson", db, sizeof db);
        snprintf(name, sizeof name, "%s-%s", runs[r].topic, runs[r].format);
        snprintf(extra, sizeof extra, "source.value.format = %s\n", runs[r].format);
        char *text = harness_run_job(name, runs[r].topic, db, extra, 0);
        /* 30 created, 10 updated, 6 deleted: nothing failed, nothing skipped. */
        ck_assert_msg(harness_progress_sum(text, "in") == COUNT + 10 + 6, "%s", text);
        ck_assert_int_eq(harness_progress_sum(text, "failed") +
                             harness_progress_sum(text, "skipped"),
                         0);
        free(text);
        sinks[r] = harness_sink(db);
    }
    for (int i = 0; i < COUNT; i++) {
        char id[16];
        snprintf(id, sizeof id, "p-%d", i);
        rb_json_doc *docs[3];
        const rb_json *d[3];
        for (int r = 0; r < 3; r++) {
            docs[r] = harness_stored(sinks[r], id, runs[r].format);
            d[r] = rb_json_doc_root(docs[r]);
        }
        ck_assert_int_eq(harness_member(d[0], "deleted", id)->boolean, i % 5 == 0);
        for (int r = 1; r < 3; r++) harness_expect_same_stored(d[0], d[r], id, runs[r].format);
        for (int r = 0; r < 3; r++) rb_json_doc_destroy(docs[r]);
    }
    for (int r = 0; r < 3; r++) rb_sink_destroy(sinks[r]);
}
END_TEST

START_TEST(debezium_with_schemas_disabled_id_from_value) { cdc_lifecycle(false); }
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("cdc");
    TCase *tc = tcase_create("postgres_debezium_connect");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, debezium_with_schemas_enabled_id_from_key);
    tcase_add_test(tc, debezium_with_schemas_disabled_id_from_value);
    tcase_add_test(tc, json_converter_envelope_stores_what_plain_json_does);
    suite_add_tcase(s, tc);
    return s;
}
