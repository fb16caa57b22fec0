/*
 * profile.c -- what the server is, and the write mode that suits it
 * (sink.h, "Server profiles").  Everything here is read from the server's
 * own answers; nothing is configured.
 */
#include "sink/sink_internal.h"

#include <stdio.h>
#include <string.h>

/* Update ops per command on FerretDB: it holds a backend connection for
 * every matched statement until the command ends, 50 at most on
 * PostgreSQL (pool_max_conns) and 100 on SQLite; 16 leaves room for a few
 * writers at once.  Seen: a window of 50 replacements never returns on
 * PostgreSQL, four concurrent windows of 50 never return on SQLite. */
#define RB_SINK_FERRETDB_WINDOW 16

/* Ids per $in read.  mongo-java-server checks every returned document
 * against the whole $in list, so a read costs ids x ids there: 1,000 ids
 * take ~30 ms, 10,000 would take seconds.  FerretDB decodes the whole
 * collection for each $in find, so one find per batch is cheapest there. */
#define RB_SINK_READ_CHUNK 1000
#define RB_SINK_READ_CHUNK_FERRETDB 100000

static bool run(mongoc_client_t *c, const char *db, const bson_t *cmd, bson_t *reply) {
    bson_error_t e;
    return mongoc_client_command_simple(c, db, cmd, NULL, reply, &e);
}

static const char *utf8_of(const bson_t *doc, const char *key) {
    bson_iter_t it;
    if (bson_iter_init_find(&it, doc, key) && BSON_ITER_HOLDS_UTF8(&it))
        return bson_iter_utf8(&it, NULL);
    return NULL;
}

bool rb_sink_hello_has_transactions(const bson_t *hello) {
    bson_iter_t it;
    /* Sessions first: without logicalSessionTimeoutMinutes (absent or
     * null) no session, so no transaction, can be started. */
    if (!bson_iter_init_find(&it, hello, "logicalSessionTimeoutMinutes") ||
        !BSON_ITER_HOLDS_NUMBER(&it))
        return false;
    if (bson_iter_init_find(&it, hello, "setName") && BSON_ITER_HOLDS_UTF8(&it)) return true;
    const char *msg = utf8_of(hello, "msg");
    return msg && strcmp(msg, "isdbgrid") == 0; /* a mongos */
}

static void read_hello(rb_sink *s, mongoc_client_t *c, rb_sink_profile *p) {
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_iter_t it;
    BSON_APPEND_INT32(&cmd, "hello", 1);
    bool ok = run(c, "admin", &cmd, &reply);
    if (!ok) {
        /* Its older name: MongoDB before 4.4.2, mongo-java-server 1.47
         * ("no such command: 'hello'"). */
        bson_destroy(&reply);
        bson_reinit(&cmd);
        BSON_APPEND_INT32(&cmd, "isMaster", 1);
        ok = run(c, "admin", &cmd, &reply);
    }
    if (ok) {
        if (bson_iter_init_find(&it, &reply, "maxBsonObjectSize") && BSON_ITER_HOLDS_INT32(&it) &&
            bson_iter_int32(&it) > 0)
            s->max_doc_size = bson_iter_int32(&it);
        p->transactions = rb_sink_hello_has_transactions(&reply);
    }
    bson_destroy(&reply);
    bson_destroy(&cmd);
}

/* FerretDB's explain tells whether its backend turns the filter into SQL
 * (filterPushdown): the PostgreSQL backend does for {_id, version: v}, the
 * SQLite backend only for exactly {_id: value}.  The collection must exist
 * (FerretDB answers false for one that does not). */
static bool ferretdb_pushes_cas_filter(const rb_sink *s, mongoc_client_t *c) {
    bson_t cmd = BSON_INITIALIZER, find, filter, reply;
    bson_iter_t it;
    BSON_APPEND_DOCUMENT_BEGIN(&cmd, "explain", &find);
    BSON_APPEND_UTF8(&find, "find", s->collection);
    BSON_APPEND_DOCUMENT_BEGIN(&find, "filter", &filter);
    BSON_APPEND_UTF8(&filter, "_id", "");
    BSON_APPEND_INT64(&filter, "version", 0);
    bson_append_document_end(&find, &filter);
    bson_append_document_end(&cmd, &find);
    BSON_APPEND_UTF8(&cmd, "verbosity", "queryPlanner");
    bool yes = run(c, s->database, &cmd, &reply) &&
               bson_iter_init_find(&it, &reply, "filterPushdown") && BSON_ITER_HOLDS_BOOL(&it) &&
               bson_iter_bool(&it);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return yes;
}

/* mongo-java-server names its process "java" in serverStatus (MongoDB says
 * "mongod" or "mongos"; a user without the clusterMonitor role may not run
 * serverStatus at all, which is taken as "not java"). */
static bool is_mongo_java_server(mongoc_client_t *c) {
    bson_t cmd = BSON_INITIALIZER, reply;
    BSON_APPEND_INT32(&cmd, "serverStatus", 1);
    const char *process = run(c, "admin", &cmd, &reply) ? utf8_of(&reply, "process") : NULL;
    bool yes = process && strcmp(process, "java") == 0;
    bson_destroy(&reply);
    bson_destroy(&cmd);
    return yes;
}

void rb_sink_profile_detect(rb_sink *s, mongoc_client_t *c, rb_sink_profile *p) {
    bson_t cmd = BSON_INITIALIZER, info;
    memset(p, 0, sizeof *p);
    p->read_chunk = RB_SINK_READ_CHUNK;
    read_hello(s, c, p);

    BSON_APPEND_INT32(&cmd, "buildInfo", 1);
    bool have_info = run(c, "admin", &cmd, &info);
    const char *version = have_info ? utf8_of(&info, "version") : NULL;
    const char *ferretdb = have_info ? utf8_of(&info, "ferretdbVersion") : NULL;
    if (ferretdb) {
        bool pushdown = ferretdb_pushes_cas_filter(s, c);
        snprintf(p->server, sizeof p->server, "FerretDB %s", ferretdb);
        p->window = RB_SINK_FERRETDB_WINDOW;
        p->read_chunk = RB_SINK_READ_CHUNK_FERRETDB;
        /* A read decodes the collection (0.2 s per 1,000 stored documents),
         * an insert of 1,000 takes 0.15-0.3 s whatever the size. */
        p->insert_first = true;
        p->mode = pushdown ? RB_SINK_VERSIONS_CAS : RB_SINK_VERSIONS_LOOKUP;
        snprintf(p->why, sizeof p->why, "%s",
                 pushdown ? "its backend runs {_id, version} in SQL (explain filterPushdown)"
                          : "its backend decodes every document for a filter other than {_id} "
                            "(explain filterPushdown false)");
    } else if (is_mongo_java_server(c)) {
        snprintf(p->server, sizeof p->server, "mongo-java-server (MongoDB %s)",
                 version ? version : "?");
        p->mode = RB_SINK_VERSIONS_CAS;
        p->cas_index = true;
        /* Its BSON decoder knows binary subtypes up to 8 and closes the
         * connection on a vector (IllegalArgumentException: Unknown
         * subtype: 9). */
        p->no_binary_vectors = true;
        /* It keeps and lists a TTL index, expireAfterSeconds included, but
         * has no TTL monitor: nothing ever expires. */
        p->no_ttl_monitor = true;
        snprintf(p->why, sizeof p->why,
                 "it uses an index only for a filter naming exactly that index's fields");
    } else {
        snprintf(p->server, sizeof p->server, "MongoDB %s",
                 version ? version : "(version unknown)");
        p->mode = RB_SINK_VERSIONS_IN_FILTER;
        snprintf(p->why, sizeof p->why, "the _id index serves {_id, version: {$lt}}");
    }
    bson_destroy(&info); /* libmongoc initialises the reply also on failure */
    bson_destroy(&cmd);
}
