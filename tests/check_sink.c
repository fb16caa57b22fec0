/*
 * Tests of the MongoDB sink against a real MongoDB-wire server.
 *
 * The server comes from RAGBATCH_MONGO_URI (scripts/servers.sh start writes
 * it to run/servers.env).  Without it, or without an answer, every test
 * that needs the server FAILS with a message saying so: a silent skip would
 * pass a build whose sink was never exercised.  Each test uses a database
 * of its own and drops it at the end.
 */
#include "check_main.h"
#include "sink/bson_doc.h"
#include "sink/sink.h"
#include "sink/sink_internal.h"
#include "transform/document.h"
#include "transform/template.h"

#include <arpa/inet.h>
#include <check.h>
#include <mongoc/mongoc.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- server and fixture ------------------------------------------------- */

static const char *server_uri(void) {
    const char *uri = getenv("RAGBATCH_MONGO_URI");
    if (!uri || !*uri)
        ck_abort_msg("RAGBATCH_MONGO_URI is not set: run `scripts/servers.sh start` and "
                     "`. run/servers.env` before `make check`");
    return uri;
}

typedef struct fixture {
    rb_sink *sink;
    char db[64];
    mongoc_client_t *raw; /* a plain client, to read stored BSON exactly */
} fixture;

/* Loop tests run once per way of checking versions (_i: 0 in the write's
 * filter, 1 by lookup first, 2 by lookup and compare-and-swap), so every
 * path meets the real server. */
#define N_MODES 3
static const rb_sink_versions MODES[N_MODES] = {RB_SINK_VERSIONS_IN_FILTER,
                                                RB_SINK_VERSIONS_LOOKUP, RB_SINK_VERSIONS_CAS};

static void fixture_open(fixture *f, const char *tag, int mode) {
    static int counter;
    rb_error err;
    rb_error_clear(&err);
    snprintf(f->db, sizeof f->db, "rbsink_%ld_%d_%s", (long)getpid(), counter++, tag);
    rb_sink_opts o = {.uri = server_uri(),
                      .database = f->db,
                      .collection = "docs",
                      .write_concern = "majority",
                      .timeout_ms = 5000,
                      .app_name = "check_sink",
                      .versions = MODES[mode]};
    f->sink = rb_sink_new(&o, &err);
    if (!f->sink)
        ck_abort_msg("cannot reach the MongoDB-wire server at RAGBATCH_MONGO_URI: %s", err.msg);
    bson_error_t e;
    mongoc_uri_t *u = mongoc_uri_new_with_error(server_uri(), &e);
    ck_assert_msg(u != NULL, "%s", e.message);
    f->raw = mongoc_client_new_from_uri(u);
    mongoc_uri_destroy(u);
    ck_assert_ptr_nonnull(f->raw);
}

static void fixture_close(fixture *f) {
    rb_error err;
    ck_assert_msg(rb_sink_drop_database(f->sink, &err) == 0, "%s", err.msg);
    rb_sink_destroy(f->sink);
    mongoc_client_destroy(f->raw);
}

/* The stored document, or NULL. Caller destroys. */
static bson_t *raw_doc(fixture *f, const char *id) {
    mongoc_collection_t *c = mongoc_client_get_collection(f->raw, f->db, "docs");
    bson_t filter = BSON_INITIALIZER;
    const bson_t *d;
    bson_t *out = NULL;
    BSON_APPEND_UTF8(&filter, "_id", id);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(c, &filter, NULL, NULL);
    if (mongoc_cursor_next(cur, &d)) out = bson_copy(d);
    bson_error_t e;
    ck_assert_msg(!mongoc_cursor_error(cur, &e), "find: %s", e.message);
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    bson_destroy(&filter);
    return out;
}

static bool is_ferretdb(fixture *f) {
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    BSON_APPEND_INT32(&cmd, "buildInfo", 1);
    ck_assert_msg(mongoc_client_command_simple(f->raw, "admin", &cmd, NULL, &reply, &e), "%s",
                  e.message);
    bool yes = bson_iter_init_find(&it, &reply, "ferretdbVersion");
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return yes;
}

/* mongo-java-server names its process "java" in serverStatus. */
static bool is_java_server(fixture *f) {
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    BSON_APPEND_INT32(&cmd, "serverStatus", 1);
    bool yes = mongoc_client_command_simple(f->raw, "admin", &cmd, NULL, &reply, &e) &&
               bson_iter_init_find(&it, &reply, "process") && BSON_ITER_HOLDS_UTF8(&it) &&
               strcmp(bson_iter_utf8(&it, NULL), "java") == 0;
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return yes;
}

static int64_t count(fixture *f, bool include_deleted) {
    rb_error err;
    int64_t n = -1;
    ck_assert_msg(rb_sink_count(f->sink, include_deleted, &n, &err) == 0, "%s", err.msg);
    return n;
}

static void write_ok(fixture *f, rb_sink_item *items, size_t n, rb_sink_stats *st) {
    rb_error err;
    rb_error_clear(&err);
    ck_assert_msg(rb_sink_write(f->sink, items, n, st, &err) == 0, "write: %s", err.msg);
}

/* Field lookup by dotted path in raw BSON; aborts when absent. */
static void find(const bson_t *doc, const char *path, bson_iter_t *out) {
    bson_iter_t it;
    ck_assert(bson_iter_init(&it, doc));
    ck_assert_msg(bson_iter_find_descendant(&it, path, out), "field %s missing", path);
}

static const char *str_at(const bson_t *doc, const char *path) {
    bson_iter_t it;
    find(doc, path, &it);
    ck_assert_msg(BSON_ITER_HOLDS_UTF8(&it), "%s is not a string", path);
    return bson_iter_utf8(&it, NULL);
}

static int64_t int64_at(const bson_t *doc, const char *path) {
    bson_iter_t it;
    find(doc, path, &it);
    ck_assert_msg(BSON_ITER_HOLDS_INT64(&it), "%s is not an int64", path);
    return bson_iter_int64(&it);
}

static int64_t date_at(const bson_t *doc, const char *path) {
    bson_iter_t it;
    find(doc, path, &it);
    ck_assert_msg(BSON_ITER_HOLDS_DATE_TIME(&it), "%s is not a date", path);
    return bson_iter_date_time(&it);
}

static bool bool_at(const bson_t *doc, const char *path) {
    bson_iter_t it;
    find(doc, path, &it);
    ck_assert_msg(BSON_ITER_HOLDS_BOOL(&it), "%s is not a bool", path);
    return bson_iter_bool(&it);
}

static bool has(const bson_t *doc, const char *key) {
    bson_iter_t it;
    return bson_iter_init_find(&it, doc, key);
}

/* ---- JSON trees built by hand (the sink only reads them) ----------------- */

static rb_json g_nodes[256];
static rb_json_member g_members[256];
static size_t g_nn, g_nm;

static rb_json *jnode(rb_json_type t) {
    ck_assert_uint_lt(g_nn, 256);
    rb_json *j = &g_nodes[g_nn++];
    memset(j, 0, sizeof *j);
    j->type = t;
    return j;
}
static rb_json *jstr(const char *s) {
    rb_json *j = jnode(RB_JSON_STRING);
    j->str = s;
    j->str_len = strlen(s);
    return j;
}
static rb_json *jint(int64_t v) {
    rb_json *j = jnode(RB_JSON_NUMBER);
    j->is_integer = true;
    j->integer = v;
    j->number = (double)v;
    return j;
}
static rb_json *jdbl(double v) {
    rb_json *j = jnode(RB_JSON_NUMBER);
    j->number = v;
    return j;
}
static rb_json *jnull(void) { return jnode(RB_JSON_NULL); }
static rb_json *jbool(bool v) {
    rb_json *j = jnode(RB_JSON_BOOL);
    j->boolean = v;
    return j;
}
/* Arrays copy their items into consecutive nodes, as the parser lays them out. */
static rb_json *jarr(size_t n, rb_json **items) {
    rb_json *j = jnode(RB_JSON_ARRAY);
    ck_assert_uint_le(g_nn + n, 256);
    j->items = &g_nodes[g_nn];
    for (size_t i = 0; i < n; i++) g_nodes[g_nn++] = *items[i];
    j->count = n;
    return j;
}
static rb_json *jobj(size_t n, const char **keys, rb_json **vals) {
    rb_json *j = jnode(RB_JSON_OBJECT);
    ck_assert_uint_le(g_nm + n, 256);
    j->members = &g_members[g_nm];
    for (size_t i = 0; i < n; i++) {
        g_members[g_nm].key = keys[i];
        g_members[g_nm].key_len = strlen(keys[i]);
        g_members[g_nm].value = vals[i];
        g_nm++;
    }
    j->count = n;
    return j;
}

static const float VEC[4] = {0.1f, -2.5f, 1e-7f, 3.0f};

static rb_sink_item upsert(const char *id, int64_t version, const char *text) {
    rb_sink_item it = {.kind = RB_SINK_UPSERT,
                       .id = id,
                       .version = version,
                       .event_time_ms = 1700000000123 + version,
                       .text = text,
                       .text_hash = "ab12",
                       .vector = VEC,
                       .dim = 4,
                       .model = "minilm",
                       .topic = "events",
                       .partition = 2,
                       .offset = 100 + version};
    return it;
}

static rb_sink_item soft_delete(const char *id, int64_t version) {
    rb_sink_item it = {.kind = RB_SINK_SOFT_DELETE,
                       .id = id,
                       .version = version,
                       .event_time_ms = 1700000000123 + version,
                       .topic = "events",
                       .partition = 2,
                       .offset = 100 + version};
    return it;
}

static rb_sink_item hard_delete(const char *id) {
    rb_sink_item it = {.kind = RB_SINK_HARD_DELETE,
                       .id = id,
                       .topic = "events",
                       .partition = 2,
                       .offset = 900};
    return it;
}

/* ---- tests without a server ---------------------------------------------- */

START_TEST(escape_key_rules) {
    rb_buf b;
    rb_buf_init(&b);
    ck_assert_int_eq(rb_sink_escape_key("$where", 6, &b), 1);
    ck_assert_str_eq(b.data, "\xEF\xBC\x84where");
    ck_assert_int_eq(rb_sink_escape_key("a.b.c", 5, &b), 1);
    ck_assert_str_eq(b.data, "a\xEF\xBC\x8E"
                             "b\xEF\xBC\x8E"
                             "c");
    ck_assert_int_eq(rb_sink_escape_key("$a.b", 4, &b), 1);
    ck_assert_str_eq(b.data, "\xEF\xBC\x84"
                             "a\xEF\xBC\x8E"
                             "b");
    ck_assert_int_eq(rb_sink_escape_key("", 0, &b), 1);
    ck_assert_str_eq(b.data, "\xEF\xBC\xBF");
    /* Only a leading '$' is an operator; inner ones stay. */
    ck_assert_int_eq(rb_sink_escape_key("price$", 6, &b), 0);
    ck_assert_str_eq(b.data, "price$");
    ck_assert_int_eq(rb_sink_escape_key("plain", 5, &b), 0);
    ck_assert_str_eq(b.data, "plain");
    rb_buf_free(&b);
}
END_TEST

/* The array of doubles is written as raw bytes: they must be the bytes
 * libbson writes element by element, keys past the 1,000 of its key table
 * included. */
START_TEST(embedding_array_is_libbsons_layout) {
    enum { N = 1500 };
    static float v[N];
    for (size_t i = 0; i < N; i++) v[i] = (float)((double)((int)(i * 7919 % 2003) - 1001) / 997.0);
    v[0] = -0.0f;
    v[1] = 1e-45f; /* subnormal */
    v[2] = 3.4028235e38f;
    rb_sink_item it = {.kind = RB_SINK_UPSERT,
                       .id = "a",
                       .version = 1,
                       .text = "t",
                       .text_hash = "h",
                       .vector = v,
                       .dim = N,
                       .model = "m",
                       .topic = "events"};
    bson_t doc = BSON_INITIALIZER;
    char msg[128] = "";
    ck_assert_int_eq(rb_sink_build_doc(&doc, &it, RB_SINK_VECTOR_ARRAY, 1, msg, sizeof msg), 0);
    bson_t want = BSON_INITIALIZER, arr;
    ck_assert(bson_append_array_begin(&want, "embedding", -1, &arr));
    for (size_t i = 0; i < N; i++) {
        char key[16];
        const char *idx;
        bson_uint32_to_string((uint32_t)i, &idx, key, sizeof key);
        ck_assert(bson_append_double(&arr, idx, -1, (double)v[i]));
    }
    ck_assert(bson_append_array_end(&want, &arr));
    bson_iter_t a, b;
    ck_assert(bson_iter_init_find(&a, &doc, "embedding"));
    ck_assert(bson_iter_init_find(&b, &want, "embedding"));
    ck_assert(BSON_ITER_HOLDS_ARRAY(&a));
    uint32_t la, lb;
    const uint8_t *da, *db;
    bson_iter_array(&a, &la, &da);
    bson_iter_array(&b, &lb, &db);
    ck_assert_uint_eq(la, lb);
    ck_assert(memcmp(da, db, la) == 0);
    /* and it reads back as the values */
    bson_iter_t e;
    ck_assert(bson_iter_recurse(&a, &e));
    size_t n = 0;
    while (bson_iter_next(&e)) {
        ck_assert(BSON_ITER_HOLDS_DOUBLE(&e));
        ck_assert(memcmp(&(double){bson_iter_double(&e)}, &(double){(double)v[n]}, 8) == 0);
        n++;
    }
    ck_assert_uint_eq(n, N);
    bson_destroy(&want);
    bson_destroy(&doc);
}
END_TEST

START_TEST(json_converts_types_and_escapes_nested_keys) {
    g_nn = g_nm = 0;
    rb_json *arr_items[] = {jstr("a"), jint(-7), jbool(false)};
    rb_json *arr = jarr(3, arr_items);
    const char *ik[] = {"$gt", "x.y", ""};
    rb_json *iv[] = {jint(5), jnull(), jdbl(0.25)};
    rb_json *inner = jobj(3, ik, iv);
    const char *ok[] = {"n", "f", "list", "$where.deep"};
    rb_json *ov[] = {jint(INT64_MAX), jdbl(1.5), arr, inner};
    rb_json *root = jobj(4, ok, ov);

    bson_t doc = BSON_INITIALIZER;
    char msg[128] = "";
    ck_assert_int_eq(rb_sink_append_json(&doc, "m", root, msg, sizeof msg), 0);
    ck_assert_int_eq(int64_at(&doc, "m.n"), INT64_MAX);
    bson_iter_t it;
    find(&doc, "m.f", &it);
    ck_assert(BSON_ITER_HOLDS_DOUBLE(&it));
    ck_assert(bson_iter_double(&it) == 1.5);
    ck_assert_str_eq(str_at(&doc, "m.list.0"), "a");
    ck_assert_int_eq(int64_at(&doc, "m.list.1"), -7);
    /* The escaped names are plain keys: no '.' is left to act as a path. */
    bson_iter_t top, sub;
    ck_assert(bson_iter_init_find(&top, &doc, "m"));
    ck_assert(bson_iter_recurse(&top, &sub));
    ck_assert(bson_iter_find(&sub, "\xEF\xBC\x84where\xEF\xBC\x8E"
                                   "deep"));
    bson_iter_t in;
    ck_assert(bson_iter_recurse(&sub, &in));
    ck_assert(bson_iter_find(&in, "\xEF\xBC\x84gt"));
    ck_assert_int_eq(bson_iter_int64(&in), 5);
    ck_assert(bson_iter_recurse(&sub, &in));
    ck_assert(bson_iter_find(&in, "x\xEF\xBC\x8Ey"));
    ck_assert(BSON_ITER_HOLDS_NULL(&in));
    ck_assert(bson_iter_recurse(&sub, &in));
    ck_assert(bson_iter_find(&in, "\xEF\xBC\xBF"));
    ck_assert(bson_iter_double(&in) == 0.25);
    bson_destroy(&doc);
}
END_TEST

START_TEST(escaped_key_collision_is_an_item_error) {
    g_nn = g_nm = 0;
    const char *k[] = {"$a", "\xEF\xBC\x84"
                             "a"};
    rb_json *v[] = {jint(1), jint(2)};
    rb_json *root = jobj(2, k, v);
    bson_t doc = BSON_INITIALIZER;
    char msg[128] = "";
    ck_assert_int_eq(rb_sink_append_json(&doc, "m", root, msg, sizeof msg), -1);
    ck_assert_msg(strstr(msg, "collides") != NULL, "%s", msg);
    bson_destroy(&doc);
}
END_TEST

START_TEST(bad_options_are_config_errors) {
    rb_error err;
    rb_sink_opts o = {.uri = "mongodb://127.0.0.1:1",
                      .database = "d",
                      .collection = "c",
                      .write_concern = "0",
                      .timeout_ms = 100};
    ck_assert_ptr_null(rb_sink_new(&o, &err));
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "write concern") != NULL, "%s", err.msg);
    o.write_concern = "majorty";
    ck_assert_ptr_null(rb_sink_new(&o, &err));
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    o.write_concern = NULL;
    o.database = "a.b";
    ck_assert_ptr_null(rb_sink_new(&o, &err));
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    o.database = "d";
    o.uri = "http://user:hunter2@host/";
    ck_assert_ptr_null(rb_sink_new(&o, &err));
    ck_assert_int_eq(err.code, RB_ERR_CONFIG);
    ck_assert_msg(strstr(err.msg, "hunter2") == NULL, "password leaked: %s", err.msg);
    rb_sink_destroy(NULL);
}
END_TEST

/* A port nobody listens on: bind, read the port, close. */
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

START_TEST(unreachable_server_is_retriable_and_hides_password) {
    char uri[128];
    rb_error err;
    snprintf(uri, sizeof uri, "mongodb://ingest:s3cret@127.0.0.1:%d/?authSource=admin",
             closed_port());
    rb_sink_opts o = {.uri = uri, .database = "d", .collection = "c", .timeout_ms = 300};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_ptr_null(rb_sink_new(&o, &err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_int_eq(err.code, RB_ERR_MONGO);
    ck_assert(err.retriable);
    ck_assert_msg(strstr(err.msg, "ingest:***@127.0.0.1") != NULL, "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "s3cret") == NULL, "password leaked: %s", err.msg);
    /* The short timeout is honoured (libmongoc's default would be 30 s). */
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, 5);
}
END_TEST

/* ---- tests with the server ----------------------------------------------- */

START_TEST(upsert_is_stored_exactly) {
    fixture f;
    fixture_open(&f, "upsert", _i);
    g_nn = g_nm = 0;
    rb_json *tags_items[] = {jstr("a"), jstr("b")};
    const char *nk[] = {"ok", "none"};
    rb_json *nv[] = {jbool(true), jnull()};
    rb_sink_meta meta[] = {{"color", jstr("red")},
                           {"n", jint(42)},
                           {"x", jdbl(1.5)},
                           {"tags", jarr(2, tags_items)},
                           {"nested", jobj(2, nk, nv)}};
    rb_sink_item it = upsert("doc-1", 3, "hello world");
    it.metadata = meta;
    it.n_metadata = 5;
    rb_sink_stats st = {0};
    int64_t before = (int64_t)time(NULL) * 1000 - 1000;
    write_ok(&f, &it, 1, &st);
    int64_t after = (int64_t)time(NULL) * 1000 + 1000;
    ck_assert_int_eq(it.result, RB_SINK_STORED);
    ck_assert_uint_eq(st.stored, 1);

    bson_t *d = raw_doc(&f, "doc-1");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(str_at(d, "text"), "hello world");
    ck_assert_str_eq(str_at(d, "text_hash"), "ab12");
    ck_assert_str_eq(str_at(d, "model"), "minilm");
    ck_assert_int_eq(int64_at(d, "version"), 3);
    ck_assert_int_eq(date_at(d, "event_time"), 1700000000126);
    int64_t ing = date_at(d, "ingested_at");
    ck_assert(ing >= before && ing <= after);
    ck_assert(!bool_at(d, "deleted"));
    ck_assert_str_eq(str_at(d, "source.topic"), "events");
    bson_iter_t p;
    find(d, "source.partition", &p);
    ck_assert_int_eq(bson_iter_as_int64(&p), 2);
    ck_assert_int_eq(int64_at(d, "source.offset"), 103);
    for (int i = 0; i < 4; i++) {
        char path[32];
        bson_iter_t e;
        snprintf(path, sizeof path, "embedding.%d", i);
        find(d, path, &e);
        ck_assert(BSON_ITER_HOLDS_DOUBLE(&e));
        ck_assert_msg(bson_iter_double(&e) == (double)VEC[i], "%s", path);
    }
    ck_assert_str_eq(str_at(d, "metadata.color"), "red");
    ck_assert_int_eq(int64_at(d, "metadata.n"), 42);
    ck_assert_str_eq(str_at(d, "metadata.tags.1"), "b");
    ck_assert(bool_at(d, "metadata.nested.ok"));
    bson_destroy(d);

    char *json = NULL;
    rb_error err;
    ck_assert_int_eq(rb_sink_get_json(f.sink, "doc-1", &json, &err), 0);
    ck_assert_ptr_nonnull(json);
    ck_assert_msg(strstr(json, "\"_id\" : \"doc-1\"") != NULL, "%s", json);
    ck_assert_msg(strstr(json, "\"$date\"") != NULL, "%s", json);
    free(json);
    ck_assert_int_eq(rb_sink_get_json(f.sink, "no-such-doc", &json, &err), 0);
    ck_assert_ptr_null(json);
    ck_assert_int_eq(count(&f, false), 1);
    fixture_close(&f);
}
END_TEST

START_TEST(versions_decide_stale_and_replace) {
    fixture f;
    fixture_open(&f, "versions", _i);
    rb_sink_item it = upsert("v", 5, "five");
    write_ok(&f, &it, 1, NULL);
    ck_assert_int_eq(it.result, RB_SINK_STORED);
    bson_t *first = raw_doc(&f, "v");
    int64_t ing = date_at(first, "ingested_at");
    bson_destroy(first);

    /* Replaying the same event changes nothing. */
    struct timespec pause = {0, 5 * 1000 * 1000};
    nanosleep(&pause, NULL);
    rb_sink_stats st = {0};
    it = upsert("v", 5, "five again");
    write_ok(&f, &it, 1, &st);
    ck_assert_int_eq(it.result, RB_SINK_STALE);
    ck_assert_uint_eq(st.stale, 1);
    ck_assert_uint_eq(st.stored, 0);
    ck_assert_int_eq(count(&f, true), 1);
    bson_t *d = raw_doc(&f, "v");
    ck_assert_str_eq(str_at(d, "text"), "five");
    ck_assert_int_eq(date_at(d, "ingested_at"), ing);
    bson_destroy(d);

    /* An older event arriving late is stale too. */
    it = upsert("v", 4, "four");
    write_ok(&f, &it, 1, NULL);
    ck_assert_int_eq(it.result, RB_SINK_STALE);
    d = raw_doc(&f, "v");
    ck_assert_str_eq(str_at(d, "text"), "five");
    ck_assert_int_eq(int64_at(d, "version"), 5);
    bson_destroy(d);

    /* A newer one replaces the document. */
    it = upsert("v", 6, "six");
    write_ok(&f, &it, 1, NULL);
    ck_assert_int_eq(it.result, RB_SINK_STORED);
    d = raw_doc(&f, "v");
    ck_assert_str_eq(str_at(d, "text"), "six");
    ck_assert_int_eq(int64_at(d, "version"), 6);
    bson_destroy(d);
    ck_assert_int_eq(count(&f, true), 1);

    /* Within one batch the highest version wins whatever the order. */
    rb_sink_item b[3] = {upsert("w", 9, "nine"), upsert("w", 7, "seven"), upsert("w", 8, "eight")};
    write_ok(&f, b, 3, NULL);
    ck_assert_int_eq(b[0].result, RB_SINK_STORED);
    ck_assert_int_eq(b[1].result, RB_SINK_STALE);
    ck_assert_int_eq(b[2].result, RB_SINK_STALE);
    d = raw_doc(&f, "w");
    ck_assert_str_eq(str_at(d, "text"), "nine");
    bson_destroy(d);
    fixture_close(&f);
}
END_TEST

START_TEST(soft_delete_is_a_versioned_tombstone) {
    fixture f;
    fixture_open(&f, "soft", _i);
    rb_sink_item b[2] = {upsert("s", 1, "one"), upsert("t", 1, "other")};
    write_ok(&f, b, 2, NULL);
    rb_sink_item it = soft_delete("s", 2);
    rb_sink_stats st = {0};
    write_ok(&f, &it, 1, &st);
    ck_assert_int_eq(it.result, RB_SINK_STORED);
    ck_assert_int_eq(count(&f, false), 1);
    ck_assert_int_eq(count(&f, true), 2);
    bson_t *d = raw_doc(&f, "s");
    ck_assert(bool_at(d, "deleted"));
    ck_assert_int_eq(int64_at(d, "version"), 2);
    ck_assert(!has(d, "text"));
    ck_assert(!has(d, "embedding"));
    ck_assert_int_eq(int64_at(d, "source.offset"), 102);
    bson_destroy(d);

    /* The update the delete superseded arrives late: it stays deleted. */
    it = upsert("s", 1, "one, late");
    write_ok(&f, &it, 1, NULL);
    ck_assert_int_eq(it.result, RB_SINK_STALE);
    d = raw_doc(&f, "s");
    ck_assert(bool_at(d, "deleted"));
    bson_destroy(d);

    /* A newer update brings it back. */
    it = upsert("s", 3, "three");
    write_ok(&f, &it, 1, NULL);
    ck_assert_int_eq(it.result, RB_SINK_STORED);
    ck_assert_int_eq(count(&f, false), 2);
    fixture_close(&f);
}
END_TEST

START_TEST(hard_delete_removes_in_batch_order) {
    fixture f;
    fixture_open(&f, "hard", _i);
    rb_sink_item b[2] = {upsert("h", 1, "one"), upsert("k", 1, "keep")};
    write_ok(&f, b, 2, NULL);
    rb_sink_item d1[2] = {hard_delete("h"), hard_delete("never-stored")};
    rb_sink_stats st = {0};
    write_ok(&f, d1, 2, &st);
    ck_assert_int_eq(d1[0].result, RB_SINK_DELETED);
    ck_assert_int_eq(d1[1].result, RB_SINK_DELETED);
    ck_assert_uint_eq(st.deleted, 2);
    bson_t *d = raw_doc(&f, "h");
    ck_assert_ptr_null(d);
    ck_assert_int_eq(count(&f, true), 1);

    /* upsert, delete, upsert of one id in one batch: the last one stands. */
    rb_sink_item m[3] = {upsert("m", 1, "first"), hard_delete("m"), upsert("m", 1, "again")};
    write_ok(&f, m, 3, NULL);
    ck_assert_int_eq(m[0].result, RB_SINK_STORED);
    ck_assert_int_eq(m[1].result, RB_SINK_DELETED);
    ck_assert_int_eq(m[2].result, RB_SINK_STORED);
    d = raw_doc(&f, "m");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(str_at(d, "text"), "again");
    bson_destroy(d);
    /* A replay followed by deletes: the deletes after the last replace are
     * settled even though the bulk reported a write error. */
    rb_sink_item r[3] = {upsert("k", 1, "keep"), hard_delete("m"), hard_delete("k2")};
    write_ok(&f, r, 3, NULL);
    ck_assert_int_eq(r[0].result, RB_SINK_STALE);
    ck_assert_int_eq(r[1].result, RB_SINK_DELETED);
    ck_assert_int_eq(r[2].result, RB_SINK_DELETED);
    ck_assert_ptr_null(raw_doc(&f, "m"));
    /* and upsert then delete leaves nothing. */
    rb_sink_item n2[2] = {upsert("n", 1, "gone soon"), hard_delete("n")};
    write_ok(&f, n2, 2, NULL);
    ck_assert_ptr_null(raw_doc(&f, "n"));
    fixture_close(&f);
}
END_TEST

START_TEST(hostile_keys_and_ids_stay_values) {
    fixture f;
    fixture_open(&f, "hostile", _i);
    g_nn = g_nm = 0;
    const char *nk[] = {"$gt", "x.y"};
    rb_json *nv[] = {jstr(""), jint(1)};
    const char *ok[] = {"$where", "a.b", "", "inner"};
    rb_json *ov[] = {jstr("function() { return true; }"), jint(2), jstr("empty"), jobj(2, nk, nv)};
    rb_sink_meta meta[] = {{"attrs", jobj(4, ok, ov)}, {"$set", jstr("top")}};
    rb_sink_item b[2] = {upsert("$ne", 1, "id is an operator name"), upsert("plain", 1, "x")};
    b[0].metadata = meta;
    b[0].n_metadata = 2;
    write_ok(&f, b, 2, NULL);
    ck_assert_int_eq(b[0].result, RB_SINK_STORED);
    ck_assert_int_eq(b[1].result, RB_SINK_STORED);

    bson_t *d = raw_doc(&f, "$ne");
    ck_assert_ptr_nonnull(d);
    bson_iter_t top, m, in;
    ck_assert(bson_iter_init_find(&top, d, "metadata"));
    ck_assert(bson_iter_recurse(&top, &m));
    ck_assert(bson_iter_find(&m, "attrs"));
    ck_assert(bson_iter_recurse(&m, &in));
    ck_assert(bson_iter_find(&in, "\xEF\xBC\x84where"));
    ck_assert_str_eq(bson_iter_utf8(&in, NULL), "function() { return true; }");
    ck_assert(bson_iter_recurse(&m, &in));
    ck_assert(bson_iter_find(&in, "a\xEF\xBC\x8E"
                                  "b"));
    ck_assert_int_eq(bson_iter_int64(&in), 2);
    ck_assert(bson_iter_recurse(&m, &in));
    ck_assert(bson_iter_find(&in, "\xEF\xBC\xBF"));
    ck_assert(bson_iter_recurse(&m, &in));
    ck_assert(bson_iter_find(&in, "inner"));
    bson_iter_t deep;
    ck_assert(bson_iter_recurse(&in, &deep));
    ck_assert(bson_iter_find(&deep, "\xEF\xBC\x84gt"));
    ck_assert(bson_iter_recurse(&top, &m));
    ck_assert(bson_iter_find(&m, "\xEF\xBC\x84set"));
    bson_destroy(d);
    /* The operator-named id matched only itself. */
    d = raw_doc(&f, "plain");
    ck_assert_str_eq(str_at(d, "text"), "x");
    bson_destroy(d);
    ck_assert_int_eq(count(&f, true), 2);

    /* A key that collides once escaped fails that item only. */
    g_nn = g_nm = 0;
    const char *ck[] = {"$a", "\xEF\xBC\x84"
                              "a"};
    rb_json *cv[] = {jint(1), jint(2)};
    rb_sink_meta cm[] = {{"attrs", jobj(2, ck, cv)}};
    rb_sink_item c[2] = {upsert("collide", 1, "c"), upsert("fine", 1, "f")};
    c[0].metadata = cm;
    c[0].n_metadata = 1;
    write_ok(&f, c, 2, NULL);
    ck_assert_int_eq(c[0].result, RB_SINK_FAILED);
    ck_assert_msg(strstr(c[0].error, "collides") != NULL, "%s", c[0].error);
    ck_assert_int_eq(c[1].result, RB_SINK_STORED);
    fixture_close(&f);
}
END_TEST

START_TEST(oversized_document_fails_alone) {
    fixture f;
    fixture_open(&f, "big", _i);
    size_t big = 17u * 1024 * 1024;
    char *text = malloc(big + 1);
    ck_assert_ptr_nonnull(text);
    memset(text, 'x', big);
    text[big] = '\0';
    rb_sink_item b[3] = {upsert("a", 1, "a"), upsert("big", 1, text), upsert("c", 1, "c")};
    rb_sink_stats st = {0};
    write_ok(&f, b, 3, &st);
    ck_assert_int_eq(b[0].result, RB_SINK_STORED);
    ck_assert_int_eq(b[1].result, RB_SINK_FAILED);
    ck_assert_msg(strstr(b[1].error, "limit") != NULL, "%s", b[1].error);
    ck_assert_int_eq(b[2].result, RB_SINK_STORED);
    ck_assert_uint_eq(st.failed, 1);
    ck_assert_uint_eq(st.stored, 2);
    ck_assert_ptr_null(raw_doc(&f, "big"));
    free(text);

    /* A vector with NaN is useless for search: that item fails, not the batch. */
    float bad[2] = {1.0f, NAN};
    rb_sink_item v[2] = {upsert("nan", 1, "n"), upsert("ok", 1, "o")};
    v[0].vector = bad;
    v[0].dim = 2;
    write_ok(&f, v, 2, NULL);
    ck_assert_int_eq(v[0].result, RB_SINK_FAILED);
    ck_assert_msg(strstr(v[0].error, "finite") != NULL, "%s", v[0].error);
    ck_assert_int_eq(v[1].result, RB_SINK_STORED);
    fixture_close(&f);
}
END_TEST

/* Callbacks that copy the vector the readers hand out. */
typedef struct seen_vec {
    float v[8];
    size_t dim;
    int calls;
} seen_vec;

static int keep_stored(const rb_sink_stored_view *v, void *ctx) {
    seen_vec *s = ctx;
    s->calls++;
    s->dim = v->dim;
    memcpy(s->v, v->vector, (v->dim < 8 ? v->dim : 8) * sizeof *v->vector);
    return 0;
}

static int keep_scanned(const rb_sink_doc_view *d, void *ctx) {
    seen_vec *t = (seen_vec *)ctx + (strcmp(d->id, "arr") == 0 ? 0 : 1);
    t->calls++;
    t->dim = d->dim;
    memcpy(t->v, d->vector, (d->dim < 8 ? d->dim : 8) * sizeof *d->vector);
    return 0;
}

/* mongo.vector.format = float32: the embedding is a BSON binary vector
 * (subtype 9, dtype 0x27, padding 0, little-endian float32 values), and the
 * readers -- the reuse lookup and the search scan -- get the exact floats
 * back, also from a collection holding both forms. */
START_TEST(float32_vectors_are_binary_subtype_9) {
    fixture f;
    fixture_open(&f, "f32", 0);
    rb_error err;
    rb_error_clear(&err);
    rb_sink_opts o = {.uri = server_uri(),
                      .database = f.db,
                      .collection = "docs",
                      .timeout_ms = 5000,
                      .vector_format = RB_SINK_VECTOR_FLOAT32};
    rb_sink *bin = rb_sink_new(&o, &err);
    if (is_java_server(&f)) {
        /* It drops the connection on subtype 9: refused up front, by name. */
        ck_assert_ptr_null(bin);
        ck_assert_int_eq(err.code, RB_ERR_CONFIG);
        ck_assert_msg(strstr(err.msg, "mongo.vector.format = array") != NULL, "%s", err.msg);
        fixture_close(&f);
        return;
    }
    ck_assert_msg(bin != NULL, "%s", err.msg);

    rb_sink_item a = upsert("arr", 1, "array form"), b = upsert("bin", 1, "binary form");
    write_ok(&f, &a, 1, NULL);
    ck_assert_int_eq(rb_sink_write(bin, &b, 1, NULL, &err), 0);
    ck_assert_int_eq(b.result, RB_SINK_STORED);

    bson_t *d = raw_doc(&f, "bin");
    bson_iter_t it;
    find(d, "embedding", &it);
    ck_assert(BSON_ITER_HOLDS_BINARY(&it));
    bson_subtype_t sub;
    uint32_t len;
    const uint8_t *data;
    bson_iter_binary(&it, &sub, &len, &data);
    ck_assert_int_eq((int)sub, 9);
    ck_assert_uint_eq(len, 2 + 4 * 4);
    ck_assert_uint_eq(data[0], 0x27);
    ck_assert_uint_eq(data[1], 0);
    for (int i = 0; i < 4; i++) {
        const uint8_t *p = data + 2 + 4 * i;
        uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                        (uint32_t)p[3] << 24,
                 want;
        memcpy(&want, &VEC[i], sizeof want);
        ck_assert_msg(bits == want, "value %d: %08x, want %08x", i, bits, want);
    }
    bson_destroy(d);

    seen_vec got = {0};
    const char *ids[] = {"bin"};
    ck_assert_int_eq(rb_sink_lookup_stored(bin, ids, 1, keep_stored, &got, &err), 0);
    ck_assert_int_eq(got.calls, 1);
    ck_assert_uint_eq(got.dim, 4);
    ck_assert(memcmp(got.v, VEC, sizeof VEC) == 0);

    seen_vec both[2];
    memset(both, 0, sizeof both);
    ck_assert_int_eq(rb_sink_scan(bin, NULL, keep_scanned, both, &err), 0);
    for (int k = 0; k < 2; k++) {
        ck_assert_int_eq(both[k].calls, 1);
        ck_assert_uint_eq(both[k].dim, 4);
        ck_assert(memcmp(both[k].v, VEC, sizeof VEC) == 0);
    }

    /* NaN is refused in this form as well. */
    float bad[2] = {1.0f, NAN};
    rb_sink_item n = upsert("nan", 1, "n");
    n.vector = bad;
    n.dim = 2;
    ck_assert_int_eq(rb_sink_write(bin, &n, 1, NULL, &err), 0);
    ck_assert_int_eq(n.result, RB_SINK_FAILED);
    ck_assert_msg(strstr(n.error, "finite") != NULL, "%s", n.error);
    rb_sink_destroy(bin);
    fixture_close(&f);
}
END_TEST

/* Every write call stamps its documents with an ingested_at no earlier call
 * of the sink used, even many calls in one millisecond or after the clock
 * stepped back: the one-by-one settling relies on it to tell its own writes
 * from a replay of the same version and offset. */
START_TEST(each_call_has_its_own_ingested_at) {
    fixture f;
    fixture_open(&f, "stamp", 0);
    int64_t prev = rb_sink_next_ingested_ms(f.sink);
    for (int k = 0; k < 20000; k++) {
        int64_t t = rb_sink_next_ingested_ms(f.sink);
        ck_assert_msg(t > prev, "call %d: %lld after %lld", k, (long long)t, (long long)prev);
        prev = t;
    }
    /* A clock that stepped back an hour does not reuse a stamp. */
    int64_t ahead = prev + 3600 * 1000;
    atomic_store(&f.sink->last_ingested_ms, ahead);
    rb_sink_item it = upsert("x", 1, "x");
    write_ok(&f, &it, 1, NULL);
    bson_t *d = raw_doc(&f, "x");
    bson_iter_t i;
    find(d, "ingested_at", &i);
    ck_assert_int_eq(bson_iter_date_time(&i), ahead + 1);
    bson_destroy(d);
    fixture_close(&f);
}
END_TEST

/* FerretDB 1.x refuses arrays nested in arrays (MongoDB stores them).  The
 * batch also holds a replay before the rejected item: FerretDB stops an
 * update command at its first error, so this exercises the one-by-one
 * settling as well. */
START_TEST(server_rejection_fails_one_item) {
    fixture f;
    fixture_open(&f, "reject", _i);
    bool ferret = is_ferretdb(&f);
    rb_sink_item first = upsert("b", 1, "b");
    write_ok(&f, &first, 1, NULL);
    g_nn = g_nm = 0;
    rb_json *inner_items[] = {jint(1), jint(2)};
    rb_json *inner = jarr(2, inner_items);
    rb_json *outer_items[] = {inner};
    rb_sink_meta grid[] = {{"grid", jarr(1, outer_items)}};
    rb_sink_item b[4] = {upsert("a", 1, "a"), upsert("b", 1, "b replayed"),
                         upsert("c", 1, "nested"), upsert("d", 1, "d")};
    b[2].metadata = grid;
    b[2].n_metadata = 1;
    rb_sink_stats st = {0};
    write_ok(&f, b, 4, &st);
    ck_assert_int_eq(b[0].result, RB_SINK_STORED);
    ck_assert_int_eq(b[1].result, RB_SINK_STALE);
    ck_assert_int_eq(b[3].result, RB_SINK_STORED);
    if (ferret) {
        ck_assert_int_eq(b[2].result, RB_SINK_FAILED);
        ck_assert_msg(strstr(b[2].error, "nested arrays") != NULL, "%s", b[2].error);
        ck_assert_ptr_null(raw_doc(&f, "c"));
        ck_assert_uint_eq(st.failed, 1);
    } else {
        ck_assert_int_eq(b[2].result, RB_SINK_STORED);
    }
    ck_assert_uint_eq(st.stale, 1);
    bson_t *d = raw_doc(&f, "b");
    ck_assert_str_eq(str_at(d, "text"), "b");
    bson_destroy(d);
    fixture_close(&f);
}
END_TEST

/* More replacements of existing documents than FerretDB can hold in one
 * update command (it keeps a connection per matched statement, 100 at
 * most): the batch must still complete, every item STORED. */

/* A batch larger than one bulk (RB_SINK_BULK_MAX_OPS, 1,000) goes out as
 * several, in order: every document of each is stored once, and replays of
 * documents from each of them are stale.  (FerretDB's windows of 16 are
 * exercised by large_batch_of_replacements.) */
START_TEST(batch_of_several_bulks) {
    fixture f;
    fixture_open(&f, "bulks", _i);
    enum { N = 2100 };
    static char ids[N][16];
    static rb_sink_item b[N];
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], sizeof ids[i], "doc-%04d", i);
        b[i] = upsert(ids[i], 1, "only");
    }
    rb_sink_stats st = {0};
    write_ok(&f, b, N, &st);
    ck_assert_uint_eq(st.stored, N);
    for (int i = 0; i < N; i++) ck_assert_int_eq(b[i].result, RB_SINK_STORED);
    ck_assert_int_eq(count(&f, false), N);
    /* the first and last document of each bulk, replayed */
    const int probe[] = {0, 999, 1000, 1999, 2000, 2099};
    rb_sink_item r[6];
    for (int k = 0; k < 6; k++) {
        r[k] = upsert(ids[probe[k]], 1, "replayed");
        bson_t *d = raw_doc(&f, ids[probe[k]]);
        ck_assert_msg(d != NULL, "%s missing", ids[probe[k]]);
        ck_assert_str_eq(str_at(d, "text"), "only");
        bson_destroy(d);
    }
    rb_sink_stats st2 = {0};
    write_ok(&f, r, 6, &st2);
    ck_assert_uint_eq(st2.stale, 6);
    bson_t *d = raw_doc(&f, "doc-2099");
    ck_assert_str_eq(str_at(d, "text"), "only");
    bson_destroy(d);
    fixture_close(&f);
}
END_TEST

START_TEST(large_batch_of_replacements) {
    fixture f;
    fixture_open(&f, "large", _i);
    enum { N = 130 };
    static char ids[N][16];
    static rb_sink_item b[N];
    for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < N; i++) {
            snprintf(ids[i], sizeof ids[i], "doc-%03d", i);
            b[i] = upsert(ids[i], round, round == 1 ? "first" : "second");
        }
        rb_sink_stats st = {0};
        write_ok(&f, b, N, &st);
        ck_assert_uint_eq(st.stored, N);
    }
    bson_t *d = raw_doc(&f, "doc-129");
    ck_assert_str_eq(str_at(d, "text"), "second");
    bson_destroy(d);
    ck_assert_int_eq(count(&f, false), N);
    fixture_close(&f);
}
END_TEST

/* Several threads write through one sink at once: each call takes its own
 * client from the pool. */
typedef struct writer_arg {
    rb_sink *sink;
    int thread;
    int ok;
    char ids[20][24];
} writer_arg;

static void *writer_main(void *p) {
    writer_arg *a = p;
    rb_sink_item b[20];
    rb_error err;
    for (int i = 0; i < 20; i++) {
        snprintf(a->ids[i], sizeof a->ids[i], "t%d-%d", a->thread, i);
        b[i] = upsert(a->ids[i], 1, "parallel");
    }
    a->ok = rb_sink_write(a->sink, b, 20, NULL, &err) == 0;
    for (int i = 0; i < 20 && a->ok; i++) a->ok = b[i].result == RB_SINK_STORED;
    return NULL;
}

START_TEST(concurrent_writers_share_the_pool) {
    fixture f;
    fixture_open(&f, "threads", _i);
    pthread_t th[4];
    static writer_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (writer_arg){.sink = f.sink, .thread = t};
        ck_assert_int_eq(pthread_create(&th[t], NULL, writer_main, &args[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        ck_assert_msg(args[t].ok, "writer %d failed", t);
    }
    ck_assert_int_eq(count(&f, false), 80);
    fixture_close(&f);
}
END_TEST

/* ---- a TCP relay that can be cut, to lose the server mid-run ------------- */

typedef struct relay {
    int lfd, port, stop[2];
    struct sockaddr_storage target;
    socklen_t target_len;
    int fds[64]; /* pairs: client, upstream */
    size_t n;
    pthread_t th;
} relay;

static void relay_drop(relay *r, size_t pair) {
    close(r->fds[pair]);
    close(r->fds[pair + 1]);
    r->fds[pair] = r->fds[r->n - 2];
    r->fds[pair + 1] = r->fds[r->n - 1];
    r->n -= 2;
}

static void *relay_main(void *arg) {
    relay *r = arg;
    char buf[65536];
    for (;;) {
        struct pollfd pf[66];
        size_t np = 2;
        pf[0] = (struct pollfd){.fd = r->stop[0], .events = POLLIN};
        pf[1] = (struct pollfd){.fd = r->lfd, .events = POLLIN};
        for (size_t i = 0; i < r->n; i++)
            pf[np++] = (struct pollfd){.fd = r->fds[i], .events = POLLIN};
        if (poll(pf, np, -1) < 0) continue;
        if (pf[0].revents) break;
        if ((pf[1].revents & POLLIN) && r->n + 2 <= 64) {
            int cfd = accept(r->lfd, NULL, NULL);
            int ufd = socket(r->target.ss_family, SOCK_STREAM, 0);
            if (cfd >= 0 && ufd >= 0 &&
                connect(ufd, (struct sockaddr *)&r->target, r->target_len) == 0) {
                r->fds[r->n++] = cfd;
                r->fds[r->n++] = ufd;
            } else {
                if (cfd >= 0) close(cfd);
                if (ufd >= 0) close(ufd);
            }
            continue; /* the fd list changed */
        }
        for (size_t i = 2; i < np; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            size_t idx = i - 2, pair = idx & ~(size_t)1;
            int peer = r->fds[idx ^ 1];
            ssize_t got = read(pf[i].fd, buf, sizeof buf);
            bool alive = got > 0;
            for (ssize_t off = 0; alive && off < got;) {
                ssize_t w = write(peer, buf + off, (size_t)(got - off));
                alive = w > 0;
                off += w;
            }
            if (!alive) {
                relay_drop(r, pair);
                break; /* indexes moved; poll again */
            }
        }
    }
    while (r->n) relay_drop(r, 0);
    close(r->lfd);
    return NULL;
}

static void relay_start(relay *r, const char *host, int port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    char ps[16];
    memset(r, 0, sizeof *r);
    snprintf(ps, sizeof ps, "%d", port);
    ck_assert_int_eq(getaddrinfo(host, ps, &hints, &res), 0);
    memcpy(&r->target, res->ai_addr, res->ai_addrlen);
    r->target_len = res->ai_addrlen;
    freeaddrinfo(res);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(r->lfd, 0);
    ck_assert_int_eq(bind(r->lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(r->lfd, 16), 0);
    ck_assert_int_eq(getsockname(r->lfd, (struct sockaddr *)&a, &len), 0);
    r->port = ntohs(a.sin_port);
    ck_assert_int_eq(pipe(r->stop), 0);
    ck_assert_int_eq(pthread_create(&r->th, NULL, relay_main, r), 0);
}

static void relay_cut(relay *r) {
    ck_assert_int_eq(write(r->stop[1], "x", 1), 1);
    pthread_join(r->th, NULL);
    close(r->stop[0]);
    close(r->stop[1]);
}

/* RAGBATCH_MONGO_URI with its (first) host replaced by the relay. */
static void relayed_uri(const char *uri, int port, char *out, size_t len, char *host,
                        size_t host_len, int *host_port) {
    bson_error_t e;
    mongoc_uri_t *u = mongoc_uri_new_with_error(uri, &e);
    ck_assert_msg(u != NULL, "%s", e.message);
    const mongoc_host_list_t *h = mongoc_uri_get_hosts(u);
    ck_assert_ptr_nonnull(h);
    snprintf(host, host_len, "%s", h->host);
    *host_port = h->port;
    const char *start = strstr(uri, "://") + 3;
    const char *at = strchr(start, '@');
    if (at && at < start + strcspn(start, "/?")) start = at + 1;
    size_t hostlen = strcspn(start, ",/?");
    snprintf(out, len, "%.*s127.0.0.1:%d%s", (int)(start - uri), uri, port, start + hostlen);
    mongoc_uri_destroy(u);
}

START_TEST(lost_server_fails_whole_write_retriably) {
    fixture f;
    fixture_open(&f, "lost", 0);
    char uri[1024], host[256];
    int host_port;
    relay r;
    relayed_uri(server_uri(), 0, uri, sizeof uri, host, sizeof host, &host_port);
    relay_start(&r, host, host_port);
    relayed_uri(server_uri(), r.port, uri, sizeof uri, host, sizeof host, &host_port);
    rb_error err;
    /* Selecting and connecting fail fast once the relay is cut; the round
     * trips before the cut (the sink's probes of the server, the first
     * write) get room for a loaded machine: with 500 ms for them too, a
     * slow answer failed the case before anything was cut. */
    rb_sink_opts o = {.uri = uri,
                      .database = f.db,
                      .collection = "docs",
                      .write_concern = "1",
                      .timeout_ms = 500,
                      .socket_timeout_ms = 10000};
    rb_sink *s = rb_sink_new(&o, &err);
    ck_assert_msg(s != NULL, "through the relay: %s", err.msg);
    rb_sink_item b[2] = {upsert("a", 1, "a"), upsert("b", 1, "b")};
    ck_assert_msg(rb_sink_write(s, b, 2, NULL, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(b[0].result, RB_SINK_STORED);

    relay_cut(&r);
    rb_sink_item c[3] = {upsert("c", 1, "c"), hard_delete("a"), upsert("b", 2, "b2")};
    rb_sink_stats st = {0};
    ck_assert_int_eq(rb_sink_write(s, c, 3, &st, &err), -1);
    ck_assert(err.retriable);
    ck_assert_msg(strstr(err.msg, f.db) != NULL, "%s", err.msg);
    ck_assert_int_eq(err.code, RB_ERR_MONGO);
    for (int i = 0; i < 3; i++) ck_assert_int_eq(c[i].result, RB_SINK_PENDING);
    ck_assert_uint_eq(st.stored + st.stale + st.deleted + st.failed, 0);
    ck_assert_int_eq(rb_sink_ping(s, &err), -1);
    ck_assert(err.retriable);
    rb_sink_destroy(s);
    ck_assert_ptr_null(raw_doc(&f, "c"));
    fixture_close(&f);
}
END_TEST

/* ---- modes, guarantees, the merged read ------------------------------------ */

/* The expireAfterSeconds listIndexes shows for index `name`; -1 when the
 * index is there without one, -2 when it is not there. */
static int64_t index_ttl(fixture *f, const char *name) {
    mongoc_collection_t *c = mongoc_client_get_collection(f->raw, f->db, "docs");
    mongoc_cursor_t *cur = mongoc_collection_find_indexes_with_opts(c, NULL);
    const bson_t *d;
    int64_t ttl = -2;
    while (mongoc_cursor_next(cur, &d)) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, d, "name") || strcmp(bson_iter_utf8(&it, NULL), name) != 0)
            continue;
        ttl = bson_iter_init_find(&it, d, "expireAfterSeconds") ? bson_iter_as_int64(&it) : -1;
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(c);
    return ttl;
}

static rb_sink *open_sink(fixture *f, rb_sink_versions mode, int64_t retention) {
    rb_error err;
    rb_sink_opts o = {.uri = server_uri(),
                      .database = f->db,
                      .collection = "docs",
                      .timeout_ms = 5000,
                      .versions = mode,
                      .tombstone_retention_ms = retention};
    rb_sink *s = rb_sink_new(&o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

/* AUTO chooses from what the server says it is, never from configuration:
 * IN_FILTER where the _id index serves the versioned filter (MongoDB),
 * CAS with a unique {_id, version} index on mongo-java-server, and on
 * FerretDB CAS or LOOKUP (by what its explain says) with small update
 * windows. */
START_TEST(auto_mode_follows_the_server) {
    fixture f;
    fixture_open(&f, "auto", 0);
    rb_sink *s = open_sink(&f, RB_SINK_VERSIONS_AUTO, 0);
    const char *d = rb_sink_describe(s);
    if (is_ferretdb(&f)) {
        ck_assert_msg(rb_sink_mode(s) == RB_SINK_VERSIONS_LOOKUP ||
                          rb_sink_mode(s) == RB_SINK_VERSIONS_CAS,
                      "%s", d);
        ck_assert_msg(strstr(d, "FerretDB") && strstr(d, "update_window=16"), "%s", d);
        ck_assert_uint_eq(s->max_ops_per_bulk, 16);
    } else if (is_java_server(&f)) {
        ck_assert_msg(rb_sink_mode(s) == RB_SINK_VERSIONS_CAS, "%s", d);
        ck_assert_msg(strstr(d, "mongo-java-server") != NULL, "%s", d);
        ck_assert_int_eq(index_ttl(&f, "_id_1_version_1"), -1); /* there, no TTL */
    } else {
        ck_assert_msg(rb_sink_mode(s) == RB_SINK_VERSIONS_IN_FILTER, "%s", d);
        ck_assert_int_eq(index_ttl(&f, "_id_1_version_1"), -2);
    }
    /* Neither test server runs multi-document transactions (their hello
     * says no sessions, or no replica set), and the sink says so. */
    if (is_ferretdb(&f) || is_java_server(&f)) {
        ck_assert_msg(!rb_sink_transactions(s), "%s", d);
        ck_assert_msg(strstr(d, " transactions=no") != NULL, "%s", d);
    }
    ck_assert(rb_sink_needs_versions(s) == (rb_sink_mode(s) != RB_SINK_VERSIONS_IN_FILTER));
    rb_sink_destroy(s);
    fixture_close(&f);
}
END_TEST

/* A write decided on an outdated read (another writer stored a newer
 * version since) must not put the older version back.  CAS: the swap no
 * longer matches, the id is read again, the item is STALE.  Every mode: a
 * read that said "absent" makes an insert that collides, which is read
 * again and decided again, STALE or a newer write.  (LOOKUP believes a
 * "present" read by design; see rb_sink_versions.) */
START_TEST(outdated_read_never_regresses) {
    fixture f;
    fixture_open(&f, "outdated", _i);
    rb_sink_item b[2] = {upsert("x", 5, "five"), upsert("y", 5, "five")};
    write_ok(&f, b, 2, NULL);

    rb_sink_stats st = {0};
    rb_sink_item older = upsert("x", 3, "three"), newer = upsert("y", 7, "seven");
    older.known = newer.known = RB_SINK_KNOWN_ABSENT;
    rb_sink_item c[2] = {older, newer};
    write_ok(&f, c, 2, &st);
    ck_assert_int_eq(c[0].result, RB_SINK_STALE);
    ck_assert_int_eq(c[1].result, RB_SINK_STORED);
    bson_t *d = raw_doc(&f, "x");
    ck_assert_int_eq(int64_at(d, "version"), 5);
    bson_destroy(d);
    d = raw_doc(&f, "y");
    ck_assert_int_eq(int64_at(d, "version"), 7);
    ck_assert_str_eq(str_at(d, "text"), "seven");
    bson_destroy(d);
    if (MODES[_i] != RB_SINK_VERSIONS_IN_FILTER)
        ck_assert_uint_eq(st.rounds, 1); /* the collisions were decided again once */

    if (MODES[_i] == RB_SINK_VERSIONS_CAS) {
        rb_sink_item it = upsert("x", 4, "four");
        it.known = RB_SINK_KNOWN_PRESENT;
        it.known_version = 1; /* what an old read saw */
        memset(&st, 0, sizeof st);
        write_ok(&f, &it, 1, &st);
        ck_assert_int_eq(it.result, RB_SINK_STALE);
        ck_assert_uint_eq(st.rounds, 1);
        d = raw_doc(&f, "x");
        ck_assert_int_eq(int64_at(d, "version"), 5);
        ck_assert_str_eq(str_at(d, "text"), "five");
        bson_destroy(d);
        it = upsert("x", 6, "six");
        it.known = RB_SINK_KNOWN_PRESENT;
        it.known_version = 2;
        write_ok(&f, &it, 1, NULL);
        ck_assert_int_eq(it.result, RB_SINK_STORED);
        d = raw_doc(&f, "x");
        ck_assert_int_eq(int64_at(d, "version"), 6);
        bson_destroy(d);
    }
    fixture_close(&f);
}
END_TEST

/* What the caller's read found spares the write its own read: the merged
 * reuse-and-version lookup is one read per batch. */
START_TEST(known_state_spares_the_read) {
    fixture f;
    fixture_open(&f, "known", _i);
    rb_sink_item b[3] = {upsert("a", 1, "a"), upsert("b", 1, "b"), upsert("c", 1, "c")};
    rb_sink_stats st = {0};
    write_ok(&f, b, 3, &st);
    ck_assert_uint_eq(st.reads, rb_sink_read_pays(f.sink) ? 1 : 0);

    rb_sink_item k[3] = {upsert("a", 2, "a2"), upsert("b", 1, "b again"), upsert("d", 1, "d")};
    k[0].known = k[1].known = RB_SINK_KNOWN_PRESENT;
    k[0].known_version = k[1].known_version = 1;
    k[2].known = RB_SINK_KNOWN_ABSENT;
    memset(&st, 0, sizeof st);
    write_ok(&f, k, 3, &st);
    if (MODES[_i] != RB_SINK_VERSIONS_IN_FILTER) { /* IN_FILTER ignores `known` */
        ck_assert_uint_eq(st.reads, 0);
        ck_assert_uint_eq(st.rounds, 0);
    }
    ck_assert_int_eq(k[0].result, RB_SINK_STORED);
    ck_assert_int_eq(k[1].result, RB_SINK_STALE);
    ck_assert_int_eq(k[2].result, RB_SINK_STORED);
    fixture_close(&f);
}
END_TEST

/* Insert first (FerretDB's profile, forced here so that every server runs
 * it): new ids cost no read; an id that exists collides and is read then,
 * and decided as usual: an older one is replaced, a newer one stays. */
START_TEST(insert_first_reads_only_what_collides) {
    fixture f;
    fixture_open(&f, "insertfirst", _i);
    rb_sink_item b[2] = {upsert("old", 1, "one"), upsert("new", 5, "five")};
    write_ok(&f, b, 2, NULL);
    f.sink->insert_first = true;
    ck_assert(!rb_sink_read_pays(f.sink));
    rb_sink_stats st = {0};
    rb_sink_item c[3] = {upsert("a", 1, "a"), upsert("b", 1, "b"), soft_delete("c", 1)};
    write_ok(&f, c, 3, &st);
    ck_assert_uint_eq(st.reads, 0);
    ck_assert_uint_eq(st.stored, 3);
    memset(&st, 0, sizeof st);
    rb_sink_item d[3] = {upsert("old", 2, "two"), upsert("new", 4, "four"), upsert("d", 1, "d")};
    write_ok(&f, d, 3, &st);
    ck_assert_int_eq(d[0].result, RB_SINK_STORED);
    ck_assert_int_eq(d[1].result, RB_SINK_STALE);
    ck_assert_int_eq(d[2].result, RB_SINK_STORED);
    ck_assert_uint_eq(st.reads, 1);
    ck_assert_uint_eq(st.rounds, 1);
    bson_t *doc = raw_doc(&f, "old");
    ck_assert_str_eq(str_at(doc, "text"), "two");
    bson_destroy(doc);
    doc = raw_doc(&f, "new");
    ck_assert_str_eq(str_at(doc, "text"), "five");
    bson_destroy(doc);
    fixture_close(&f);
}
END_TEST

typedef struct seen_state {
    int n, deleted;
    int64_t version[4];
    char ids[4][8];
    size_t dim;
    char hash[16];
} seen_state;

static int keep_state(const rb_sink_stored_view *v, void *ctx) {
    seen_state *s = ctx;
    ck_assert_int_lt(s->n, 4);
    snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", v->id);
    s->version[s->n++] = v->version;
    s->deleted += v->deleted;
    if (v->text_hash) {
        snprintf(s->hash, sizeof s->hash, "%s", v->text_hash);
        s->dim = v->dim;
    }
    return 0;
}

/* rb_sink_read_stored hands out versions and tombstones (what CAS and
 * LOOKUP decide on) and, when asked, the hash, model and vector (what the
 * reuse lookup compares); ids without a document are not handed out. */
START_TEST(read_stored_serves_versions_and_reuse) {
    fixture f;
    fixture_open(&f, "readstored", 0);
    rb_sink_item b[2] = {upsert("live", 4, "live"), soft_delete("gone", 9)};
    write_ok(&f, b, 2, NULL);
    rb_error err;
    const char *ids[] = {"live", "gone", "never"};
    seen_state st = {0};
    ck_assert_int_eq(rb_sink_read_stored(f.sink, ids, 3, 0, keep_state, &st, &err), 0);
    ck_assert_int_eq(st.n, 2);
    ck_assert_int_eq(st.deleted, 1);
    ck_assert_uint_eq(st.dim, 0); /* vectors not asked for */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(st.version[i], strcmp(st.ids[i], "live") == 0 ? 4 : 9);
    memset(&st, 0, sizeof st);
    ck_assert_int_eq(rb_sink_read_stored(f.sink, ids, 3, RB_SINK_READ_VECTORS, keep_state, &st,
                                         &err),
                     0);
    ck_assert_int_eq(st.n, 2);
    ck_assert_str_eq(st.hash, "ab12");
    ck_assert_uint_eq(st.dim, 4);
    /* The reuse-only view leaves tombstones out. */
    memset(&st, 0, sizeof st);
    ck_assert_int_eq(rb_sink_lookup_stored(f.sink, ids, 3, keep_state, &st, &err), 0);
    ck_assert_int_eq(st.n, 1);
    ck_assert_str_eq(st.ids[0], "live");
    fixture_close(&f);
}
END_TEST

/* A soft delete and a re-creation of one id in one batch apply in batch
 * order, whichever way round. */
START_TEST(soft_delete_and_recreate_in_one_batch) {
    fixture f;
    fixture_open(&f, "recreate", _i);
    rb_sink_item first = upsert("r", 1, "one");
    write_ok(&f, &first, 1, NULL);
    rb_sink_item b[2] = {soft_delete("r", 2), upsert("r", 3, "three")};
    write_ok(&f, b, 2, NULL);
    ck_assert_int_eq(b[0].result, RB_SINK_STORED);
    ck_assert_int_eq(b[1].result, RB_SINK_STORED);
    bson_t *d = raw_doc(&f, "r");
    ck_assert(!bool_at(d, "deleted"));
    ck_assert(!has(d, "deleted_at"));
    ck_assert_int_eq(int64_at(d, "version"), 3);
    bson_destroy(d);
    rb_sink_item c[2] = {soft_delete("r", 5), upsert("r", 4, "four, late")};
    write_ok(&f, c, 2, NULL);
    ck_assert_int_eq(c[0].result, RB_SINK_STORED);
    ck_assert_int_eq(c[1].result, RB_SINK_STALE);
    d = raw_doc(&f, "r");
    ck_assert(bool_at(d, "deleted"));
    ck_assert_int_eq(date_at(d, "deleted_at"), date_at(d, "ingested_at"));
    bson_destroy(d);
    fixture_close(&f);
}
END_TEST

/* Two writers of the same ids at once, as two owners of a partition during
 * a rebalance: each writes its own versions, interleaved.  Where the mode
 * is atomic on the server, the newest version stands at the end and no
 * reader ever sees a version go back.  FerretDB 1.x reads and writes an
 * update in separate statements, so there no mode promises this (sink.h);
 * the writes must still all complete. */
typedef struct racer {
    rb_sink *sink;
    int parity, rounds, ok;
    atomic_int *finished;
} racer;

#define RACE_IDS 8

static void *racer_main(void *p) {
    racer *r = p;
    static const char *ids[RACE_IDS] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"};
    r->ok = 1;
    for (int k = 1; k <= r->rounds && r->ok; k++) {
        rb_sink_item b[RACE_IDS];
        rb_error err;
        for (int i = 0; i < RACE_IDS; i++) b[i] = upsert(ids[i], 2 * k + r->parity, "race");
        r->ok = rb_sink_write(r->sink, b, RACE_IDS, NULL, &err) == 0;
        for (int i = 0; i < RACE_IDS && r->ok; i++)
            r->ok = b[i].result == RB_SINK_STORED || b[i].result == RB_SINK_STALE;
    }
    atomic_fetch_add(r->finished, 1);
    return NULL;
}

START_TEST(two_writers_race_on_the_same_ids) {
    fixture f;
    fixture_open(&f, "race", 0);
    rb_sink_versions mode = _i == 0 ? RB_SINK_VERSIONS_IN_FILTER : RB_SINK_VERSIONS_CAS;
    bool atomic = !is_ferretdb(&f);
    enum { ROUNDS = 40 };
    racer r[2];
    pthread_t th[2];
    atomic_int finished = 0;
    for (int t = 0; t < 2; t++) {
        r[t] = (racer){.sink = open_sink(&f, mode, 0),
                       .parity = t,
                       .rounds = ROUNDS,
                       .finished = &finished};
        ck_assert_int_eq(pthread_create(&th[t], NULL, racer_main, &r[t]), 0);
    }
    /* A reader watches for a version going back while they run. */
    int64_t last[RACE_IDS] = {0};
    int regressions = 0;
    while (atomic_load(&finished) < 2) {
        for (int i = 0; i < RACE_IDS; i++) {
            char id[4];
            snprintf(id, sizeof id, "r%d", i);
            bson_t *d = raw_doc(&f, id);
            if (!d) continue;
            int64_t v = int64_at(d, "version");
            bson_destroy(d);
            regressions += v < last[i];
            if (v > last[i]) last[i] = v;
        }
    }
    for (int t = 0; t < 2; t++) {
        pthread_join(th[t], NULL);
        ck_assert_msg(r[t].ok, "writer %d failed", t);
        rb_sink_destroy(r[t].sink);
    }
    if (!atomic)
        fprintf(stderr,
                "two_writers_race (mode %d): %d reads saw a version go back on FerretDB, "
                "where no mode is atomic (sink.h)\n",
                (int)mode, regressions);
    if (atomic) {
        ck_assert_int_eq(regressions, 0);
        for (int i = 0; i < RACE_IDS; i++) {
            char id[4];
            snprintf(id, sizeof id, "r%d", i);
            bson_t *d = raw_doc(&f, id);
            ck_assert_int_eq(int64_at(d, "version"), 2 * ROUNDS + 1);
            bson_destroy(d);
        }
    }
    fixture_close(&f);
}
END_TEST

/* document.tombstone.retention.ms: a TTL index on deleted_at where the
 * server keeps one; a server that refuses or ignores TTL indexes keeps the
 * tombstones, and the sink says so and works on.  Retention "forever"
 * removes the index again. */
START_TEST(tombstone_retention_is_a_ttl_index) {
    fixture f;
    fixture_open(&f, "ttl", 0);
    const int64_t week = 7LL * 24 * 3600 * 1000;
    rb_sink *s = open_sink(&f, RB_SINK_VERSIONS_AUTO, week);
    const char *d = rb_sink_describe(s);
    int64_t ttl = index_ttl(&f, "deleted_at_ttl");
    if (is_ferretdb(&f)) {
        ck_assert_msg(strstr(d, "refused by the server") != NULL, "%s", d);
        ck_assert_int_eq(ttl, -2);
    } else if (is_java_server(&f)) {
        /* It lists the index with its expireAfterSeconds and never expires. */
        ck_assert_msg(strstr(d, "never expires documents") != NULL, "%s", d);
        ck_assert_int_eq(ttl, 604800);
    } else if (ttl == 604800) {
        ck_assert_msg(strstr(d, "tombstone_ttl=\"604800s") != NULL, "%s", d);
        /* Another retention adjusts the index in place. */
        rb_sink *s2 = open_sink(&f, RB_SINK_VERSIONS_AUTO, 3600 * 1000);
        ck_assert_int_eq(index_ttl(&f, "deleted_at_ttl"), 3600);
        rb_sink_destroy(s2);
    } else {
        ck_assert_msg(strstr(d, "not kept by the server") != NULL, "ttl %lld: %s", (long long)ttl,
                      d);
    }
    rb_sink_item it = soft_delete("t", 2);
    rb_error err;
    ck_assert_int_eq(rb_sink_write(s, &it, 1, NULL, &err), 0);
    bson_t *doc = raw_doc(&f, "t");
    ck_assert_int_eq(date_at(doc, "deleted_at"), date_at(doc, "ingested_at"));
    bson_destroy(doc);
    rb_sink_destroy(s);

    s = open_sink(&f, RB_SINK_VERSIONS_AUTO, RB_SINK_KEEP_TOMBSTONES);
    ck_assert_int_eq(index_ttl(&f, "deleted_at_ttl"), -2);
    ck_assert_msg(strstr(rb_sink_describe(s), "tombstones are kept") != NULL, "%s",
                  rb_sink_describe(s));
    rb_sink_destroy(s);
    /* A reader (retention 0) leaves the indexes alone. */
    s = open_sink(&f, RB_SINK_VERSIONS_AUTO, 0);
    ck_assert_msg(strstr(rb_sink_describe(s), "tombstone") == NULL, "%s", rb_sink_describe(s));
    rb_sink_destroy(s);
    fixture_close(&f);
}
END_TEST

/* Server selection and connecting fail fast; a round trip gets the socket
 * timeout, which a large bulk on a slow server needs. */
START_TEST(socket_timeout_is_separate) {
    fixture f;
    fixture_open(&f, "timeouts", 0);
    rb_error err;
    rb_sink_opts o = {.uri = server_uri(),
                      .database = f.db,
                      .collection = "docs",
                      .timeout_ms = 700,
                      .socket_timeout_ms = 45000};
    rb_sink *s = rb_sink_new(&o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(mongoc_uri_get_option_as_int32(s->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                                    0),
                     700);
    ck_assert_int_eq(mongoc_uri_get_option_as_int32(s->uri, MONGOC_URI_CONNECTTIMEOUTMS, 0), 700);
    ck_assert_int_eq(mongoc_uri_get_option_as_int32(s->uri, MONGOC_URI_SOCKETTIMEOUTMS, 0), 45000);
    ck_assert_int_eq(mongoc_write_concern_get_wtimeout_int64(s->wc), 45000);
    rb_sink_destroy(s);
    /* Without a socket timeout of its own, the one timeout applies. */
    o.socket_timeout_ms = 0;
    s = rb_sink_new(&o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_int_eq(mongoc_uri_get_option_as_int32(s->uri, MONGOC_URI_SOCKETTIMEOUTMS, 0), 700);
    rb_sink_destroy(s);
    fixture_close(&f);
}
END_TEST

/* Without a schema an integer id is stored as its decimal digits, a
 * string, like every _id (document.h): so the Kafka tombstone keyed "42"
 * deletes the document of {"id": 42}, and {"id": "42"} updates it. */
START_TEST(integer_id_is_stored_as_its_digits) {
    fixture f;
    fixture_open(&f, "intid", 0);
    rb_error err;
    rb_template *tpl = NULL;
    ck_assert_msg(rb_template_compile("{name}", &tpl, &err) == 0, "%s", err.msg);
    rb_document_spec spec = {.tpl = tpl,
                             .id_field = "id",
                             .version_field = "v",
                             .time_field = "",
                             .op_field = "op"};
    const char *events[] = {"{\"id\": 42, \"v\": 1, \"name\": \"int\"}",
                            "{\"id\": \"42\", \"v\": 2, \"name\": \"string\"}"};
    for (int k = 0; k < 2; k++) {
        rb_json_doc *ev = NULL;
        ck_assert_int_eq(rb_json_parse(events[k], strlen(events[k]), NULL, &ev, &err), 0);
        rb_document_fields fields;
        ck_assert_msg(rb_document_derive(&spec, rb_json_doc_root(ev), &fields, &err) == 0, "%s",
                      err.msg);
        ck_assert_str_eq(fields.id, "42");
        rb_sink_item it = upsert(fields.id, fields.version, fields.text);
        write_ok(&f, &it, 1, NULL);
        ck_assert_int_eq(it.result, RB_SINK_STORED);
        rb_document_fields_free(&fields);
        rb_json_doc_destroy(ev);
    }
    bson_t *d = raw_doc(&f, "42");
    ck_assert_ptr_nonnull(d);
    ck_assert_str_eq(str_at(d, "_id"), "42");
    ck_assert_str_eq(str_at(d, "text"), "string");
    bson_destroy(d);
    ck_assert_int_eq(count(&f, true), 1);
    rb_sink_item tomb = hard_delete("42");
    write_ok(&f, &tomb, 1, NULL);
    ck_assert_int_eq(count(&f, true), 0);
    rb_template_destroy(tpl);
    fixture_close(&f);
}
END_TEST

/* rb_sink_remove_chunks: a clause with `below` removes the parent's
 * chunks of older versions only, one with `all` every chunk of it; the
 * count is what was removed; doing it again removes nothing; other
 * parents' chunks and non-chunk documents stay. */
START_TEST(remove_chunks_removes_older_versions_or_all) {
    fixture f;
    fixture_open(&f, "rmchunks", 0);
    rb_sink_chunk_ref ra0 = {"a", 0, 2, 0, 5, 2}, ra1 = {"a", 1, 2, 5, 9, 2},
                      rb0 = {"b", 0, 1, 0, 4, 1}, rc0 = {"c", 0, 1, 0, 4, 1};
    rb_sink_item items[5] = {upsert("a#0", 2, "new 0"), upsert("a#1", 1, "old 1"),
                             upsert("b#0", 1, "b 0"), upsert("c#0", 3, "c 0"),
                             upsert("plain", 1, "not a chunk")};
    items[0].chunk = &ra0;
    items[1].chunk = &ra1;
    items[2].chunk = &rb0;
    items[3].chunk = &rc0;
    write_ok(&f, items, 5, NULL);
    rb_sink_chunk_clean c[] = {{"a", false, 2}, {"b", true, 0}, {"c", false, 3}};
    size_t removed = 99;
    rb_error err;
    ck_assert_msg(rb_sink_remove_chunks(f.sink, c, 3, &removed, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(removed, 2); /* a#1 (version 1 < 2) and b#0 */
    char *json = NULL;
    static const char *const kept[] = {"a#0", "c#0", "plain"}, *const gone[] = {"a#1", "b#0"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(rb_sink_get_json(f.sink, kept[i], &json, &err), 0);
        ck_assert_msg(json != NULL, "%s removed", kept[i]);
        free(json);
    }
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(rb_sink_get_json(f.sink, gone[i], &json, &err), 0);
        ck_assert_msg(json == NULL, "%s kept", gone[i]);
    }
    ck_assert_msg(rb_sink_remove_chunks(f.sink, c, 3, &removed, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(removed, 0);
    fixture_close(&f);
}
END_TEST

/* Transactions need sessions and a replica set member or a mongos; the
 * hello replies are shaped as MongoDB 7 answers them. */
START_TEST(transactions_are_read_from_hello) {
    static const struct {
        const char *json;
        bool yes;
    } cases[] = {
        {"{\"isWritablePrimary\":true,\"setName\":\"rs0\",\"logicalSessionTimeoutMinutes\":30}",
         true},
        {"{\"isWritablePrimary\":true,\"msg\":\"isdbgrid\",\"logicalSessionTimeoutMinutes\":30}",
         true},
        {"{\"isWritablePrimary\":true,\"logicalSessionTimeoutMinutes\":30}", false},
        {"{\"isWritablePrimary\":true,\"setName\":\"rs0\"}", false},
        {"{\"isWritablePrimary\":true,\"setName\":\"rs0\",\"logicalSessionTimeoutMinutes\":null}",
         false},
        {"{\"isWritablePrimary\":true,\"msg\":\"other\",\"logicalSessionTimeoutMinutes\":30}",
         false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bson_error_t e;
        bson_t *b = bson_new_from_json((const uint8_t *)cases[i].json, -1, &e);
        ck_assert_msg(b != NULL, "%s", e.message);
        ck_assert_msg(rb_sink_hello_has_transactions(b) == cases[i].yes, "%s", cases[i].json);
        bson_destroy(b);
    }
}
END_TEST

/* libmongoc's own warnings were written in its format even with
 * log.format = json; with a logger they are lines of the job's. */
START_TEST(libmongoc_lines_join_the_jobs_log) {
    char *mem = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&mem, &size);
    rb_log log;
    rb_log_init(&log);
    log.out = f;
    log.format = RB_LOG_JSON;
    log.job = "j";
    rb_sink_global_log(&log);
    mongoc_log(MONGOC_LOG_LEVEL_WARNING, "cluster", "no server at mongodb://u:pw@h:1/ %d", 3);
    mongoc_log(MONGOC_LOG_LEVEL_INFO, "cluster", "chatter"); /* below warnings: dropped */
    rb_sink_global_log(NULL);
    fclose(f);
    ck_assert_msg(strstr(mem, "\"log.level\":\"WARN\",\"job\":\"j\",\"event.action\":\"mongoc\","
                              "\"domain\":\"cluster\",\"message\":\"no server at "
                              "mongodb://u:***@h:1/ 3\"}\n"),
                  "%s", mem);
    ck_assert_ptr_null(strstr(mem, "chatter"));
    free(mem);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("sink");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, escape_key_rules);
    tcase_add_test(unit, transactions_are_read_from_hello);
    tcase_add_test(unit, embedding_array_is_libbsons_layout);
    tcase_add_test(unit, json_converts_types_and_escapes_nested_keys);
    tcase_add_test(unit, escaped_key_collision_is_an_item_error);
    tcase_add_test(unit, bad_options_are_config_errors);
    tcase_add_test(unit, unreachable_server_is_retriable_and_hides_password);
    tcase_add_test(unit, libmongoc_lines_join_the_jobs_log);
    suite_add_tcase(s, unit);
    TCase *srv = tcase_create("server");
    tcase_set_timeout(srv, 60);
    tcase_add_loop_test(srv, upsert_is_stored_exactly, 0, N_MODES);
    tcase_add_loop_test(srv, versions_decide_stale_and_replace, 0, N_MODES);
    tcase_add_loop_test(srv, soft_delete_is_a_versioned_tombstone, 0, N_MODES);
    tcase_add_loop_test(srv, hard_delete_removes_in_batch_order, 0, N_MODES);
    tcase_add_loop_test(srv, hostile_keys_and_ids_stay_values, 0, N_MODES);
    tcase_add_loop_test(srv, oversized_document_fails_alone, 0, N_MODES);
    tcase_add_test(srv, each_call_has_its_own_ingested_at);
    tcase_add_test(srv, float32_vectors_are_binary_subtype_9);
    tcase_add_loop_test(srv, server_rejection_fails_one_item, 0, N_MODES);
    tcase_add_loop_test(srv, large_batch_of_replacements, 0, N_MODES);
    /* not IN_FILTER: on FerretDB each of its 2,100 versioned upserts scans
     * the collection (minutes); the bulks are cut the same way in every mode */
    tcase_add_loop_test(srv, batch_of_several_bulks, 1, N_MODES);
    tcase_add_loop_test(srv, concurrent_writers_share_the_pool, 0, N_MODES);
    tcase_add_test(srv, lost_server_fails_whole_write_retriably);
    tcase_add_test(srv, auto_mode_follows_the_server);
    tcase_add_test(srv, remove_chunks_removes_older_versions_or_all);
    tcase_add_loop_test(srv, outdated_read_never_regresses, 0, N_MODES);
    tcase_add_loop_test(srv, known_state_spares_the_read, 0, N_MODES);
    tcase_add_loop_test(srv, insert_first_reads_only_what_collides, 1, N_MODES);
    tcase_add_test(srv, read_stored_serves_versions_and_reuse);
    tcase_add_loop_test(srv, soft_delete_and_recreate_in_one_batch, 0, N_MODES);
    tcase_add_loop_test(srv, two_writers_race_on_the_same_ids, 0, 2);
    tcase_add_test(srv, tombstone_retention_is_a_ttl_index);
    tcase_add_test(srv, socket_timeout_is_separate);
    tcase_add_test(srv, integer_id_is_stored_as_its_digits);
    suite_add_tcase(s, srv);
    return s;
}
