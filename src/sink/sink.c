/*
 * sink.c -- the MongoDB sink: process setup, connection, indexes, reads.
 * The writes are in write.c.
 */
#include "sink/sink.h"

#include "common/buf.h"
#include "common/redact.h"
#include "sink/sink_internal.h"

#include <errno.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmongoc logs to stderr by default, down to debug chatter from its
 * monitor threads, which would break up ragbatch's own log lines.  Keep
 * warnings and worse, except the one FerretDB causes at every pool shutdown
 * (it has no sessions, so "endSessions" is an unknown command). */
static void filter_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message,
                              void *user_data) {
    if (level > MONGOC_LOG_LEVEL_WARNING) return;
    if (level == MONGOC_LOG_LEVEL_WARNING && strstr(message, "endSessions")) return;
    const rb_log *log = user_data;
    if (log) {
        /* One of the job's own lines (rb_log redacts it). */
        rb_log_kv(log, level == MONGOC_LOG_LEVEL_WARNING ? RB_LOG_WARN : RB_LOG_ERROR, "mongoc",
                  RB_LOG_FIELDS(RB_LOG_S("domain", domain)), "%s", message);
        return;
    }
    char shown[2048];
    rb_redact_to(shown, sizeof shown, message);
    mongoc_log_default_handler(level, domain, shown, NULL);
}

void rb_sink_global_log(const rb_log *log) {
    /* libmongoc swaps the handler under the mutex its logging holds, so no
     * line uses the old logger once this returns. */
    mongoc_log_set_handler(filter_mongoc_log, (void *)log);
}

void rb_sink_global_init(void) {
    mongoc_init();
    mongoc_log_set_handler(filter_mongoc_log, NULL);
}

void rb_sink_global_cleanup(void) { mongoc_cleanup(); }

const char *rb_sink_result_name(rb_sink_result r) {
    switch (r) {
    case RB_SINK_PENDING: return "pending";
    case RB_SINK_STORED: return "stored";
    case RB_SINK_STALE: return "stale";
    case RB_SINK_DELETED: return "deleted";
    case RB_SINK_FAILED: return "failed";
    }
    return "unknown";
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Authentication and authorisation problems do not heal by waiting;
 * everything else a server or the network says may. */
static bool mongo_retriable(const bson_error_t *e) {
    if (e->domain == MONGOC_ERROR_CLIENT && e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)
        return false;
    if (e->domain == MONGOC_ERROR_SERVER && (e->code == 13 || e->code == 18)) return false;
    return true;
}

int rb_sink_mongo_error(rb_error *err, const bson_error_t *e, const char *what) {
    if (mongo_retriable(e))
        return rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK, "%s: %s", what,
                                      e->message);
    return rb_error_set(err, RB_ERR_MONGO, RB_STAGE_SINK, "%s: %s", what, e->message);
}

/* Adds which collection of which server the error is about. */
int rb_sink_in_collection(const rb_sink *s, rb_error *err) {
    return rb_error_prefix(err, "collection %s.%s at %s", s->database, s->collection,
                           s->uri_shown);
}

/* ---- setup ------------------------------------------------------------ */

static int check_names(const rb_sink_opts *o, rb_error *err) {
    if (!o->uri || !*o->uri)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK, "MongoDB URI is empty");
    if (!o->database || !*o->database || strpbrk(o->database, "/\\. \"$") ||
        strlen(o->database) >= 64)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                            "invalid MongoDB database name \"%s\": it must be 1-63 characters "
                            "without / \\ . space \" or $",
                            o->database ? o->database : "");
    if (!o->collection || !*o->collection || strchr(o->collection, '$') ||
        strncmp(o->collection, "system.", 7) == 0)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                            "invalid MongoDB collection name \"%s\": it must be non-empty, "
                            "without $, and not start with \"system.\"",
                            o->collection ? o->collection : "");
    return 0;
}

/* wtimeout bounds the wait for replication, which is part of the round
 * trip: it gets the socket timeout. */
static mongoc_write_concern_t *make_write_concern(const char *spec, int wtimeout_ms,
                                                  rb_error *err) {
    mongoc_write_concern_t *wc = mongoc_write_concern_new();
    if (!wc) {
        rb_error_nomem(err, RB_STAGE_SINK, "write concern");
        return NULL;
    }
    if (!spec || strcmp(spec, "majority") == 0) {
        mongoc_write_concern_set_wmajority(wc, wtimeout_ms > 0 ? wtimeout_ms : 0);
        return wc;
    }
    char *end;
    errno = 0;
    long w = strtol(spec, &end, 10);
    /* w:0 would return before the server knows whether a write was stale,
     * stored or rejected, and offsets would be committed blind. */
    if (errno || end == spec || *end || w < 1 || w > 50) {
        mongoc_write_concern_destroy(wc);
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                     "invalid write concern \"%s\": use \"majority\" or a number of nodes from "
                     "1 to 50 (0, unacknowledged, cannot tell stored from stale)",
                     spec);
        return NULL;
    }
    mongoc_write_concern_set_w(wc, (int32_t)w);
    if (wtimeout_ms > 0) mongoc_write_concern_set_wtimeout_int64(wc, wtimeout_ms);
    return wc;
}

static int socket_timeout_of(const rb_sink_opts *o) {
    return o->socket_timeout_ms > 0 ? o->socket_timeout_ms : o->timeout_ms;
}

/* Server selection and connecting fail fast (timeout_ms) when the server is
 * away; a round trip may take as long as a large bulk needs on a slow
 * server (socket_timeout_ms), so that such a bulk is not cut off and
 * retried without end. */
static int apply_uri_options(rb_sink *s, const rb_sink_opts *o, rb_error *err) {
    int socket_ms = socket_timeout_of(o);
    if ((o->timeout_ms > 0 &&
         (!mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                          o->timeout_ms) ||
          !mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_CONNECTTIMEOUTMS, o->timeout_ms))) ||
        (socket_ms > 0 &&
         !mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_SOCKETTIMEOUTMS, socket_ms)))
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                            "cannot apply timeouts (%d ms, socket %d ms) to MongoDB URI %s",
                            o->timeout_ms, socket_ms, s->uri_shown);
    if (o->app_name && *o->app_name && !mongoc_uri_get_appname(s->uri) &&
        !mongoc_uri_set_appname(s->uri, o->app_name))
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                            "invalid application name \"%s\" (at most 128 bytes)", o->app_name);
    return 0;
}

static const char *mode_name(rb_sink_versions m) {
    switch (m) {
    case RB_SINK_VERSIONS_IN_FILTER: return "in_filter";
    case RB_SINK_VERSIONS_LOOKUP: return "lookup";
    case RB_SINK_VERSIONS_CAS: return "cas";
    case RB_SINK_VERSIONS_AUTO: break;
    }
    return "auto";
}

/* Learns the server, settles the mode, creates the indexes. */
static int set_up(rb_sink *s, mongoc_client_t *c, const rb_sink_opts *o, rb_error *err) {
    rb_sink_profile p;
    char ttl[200] = "";
    /* The collection must exist before FerretDB's explain says anything. */
    if (rb_sink_create_index(s, c, "text_hash_1", "text_hash", NULL, false, err) != 0) return -1;
    rb_sink_profile_detect(s, c, &p);
    if (p.no_binary_vectors && s->vector_format == RB_SINK_VECTOR_FLOAT32)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                            "%s cannot store binary vectors (BSON subtype 9; it drops the "
                            "connection): set mongo.vector.format = array for %s.%s at %s",
                            p.server, s->database, s->collection, s->uri_shown);
    s->mode = o->versions == RB_SINK_VERSIONS_AUTO ? p.mode : o->versions;
    s->max_ops_per_bulk = p.window;
    s->read_chunk = p.read_chunk;
    s->insert_first = p.insert_first;
    s->transactions = p.transactions;
    if (p.cas_index && s->mode == RB_SINK_VERSIONS_CAS &&
        rb_sink_create_index(s, c, "_id_1_version_1", "_id", "version", true, err) != 0)
        return -1;
    if (rb_sink_tombstone_ttl(s, c, o->tombstone_retention_ms, &p, ttl, sizeof ttl, err) != 0)
        return -1;
    bool cas_index = p.cas_index && s->mode == RB_SINK_VERSIONS_CAS;
    /* key="value" pairs for the log line: no double quote inside a value. */
    for (char *q = ttl; (q = strchr(q, '"')); q++) *q = '\'';
    snprintf(s->describe, sizeof s->describe,
             "server=\"%s\" versions=%s reason=\"%s\"%s%s update_window=%zu read_chunk=%zu "
             "transactions=%s%s%s%s",
             p.server, mode_name(s->mode),
             o->versions == RB_SINK_VERSIONS_AUTO ? p.why : "chosen by the caller",
             cas_index ? " index=_id_1_version_1" : "",
             s->insert_first && rb_sink_needs_versions(s) ? " insert_first=true" : "",
             s->max_ops_per_bulk, s->read_chunk, p.transactions ? "yes" : "no",
             ttl[0] ? " tombstone_ttl=\"" : "", ttl, ttl[0] ? "\"" : "");
    return 0;
}

rb_sink_versions rb_sink_mode(const rb_sink *s) { return s->mode; }

bool rb_sink_transactions(const rb_sink *s) { return s->transactions; }

bool rb_sink_needs_versions(const rb_sink *s) {
    return s->mode == RB_SINK_VERSIONS_CAS || s->mode == RB_SINK_VERSIONS_LOOKUP;
}

bool rb_sink_read_pays(const rb_sink *s) { return rb_sink_needs_versions(s) && !s->insert_first; }

const char *rb_sink_describe(const rb_sink *s) { return s->describe; }

rb_sink *rb_sink_new(const rb_sink_opts *opts, rb_error *err) {
    rb_sink *s;
    bson_error_t e;
    mongoc_client_t *c;
    int rc;

    if (!opts) return rb_error_set(err, RB_ERR_ARG, RB_STAGE_SINK, "no sink options"), NULL;
    if (check_names(opts, err) != 0) return NULL;
    s = calloc(1, sizeof *s);
    if (!s) return rb_error_nomem(err, RB_STAGE_SINK, "sink"), NULL;
    s->max_doc_size = RB_SINK_DEFAULT_MAX_DOC;
    s->read_chunk = 1000;
    s->vector_format = opts->vector_format;
    s->uri_shown = rb_redact_dup(opts->uri);
    s->database = dup_str(opts->database);
    s->collection = dup_str(opts->collection);
    if (!s->uri_shown || !s->database || !s->collection) {
        rb_error_nomem(err, RB_STAGE_SINK, "sink");
        goto fail;
    }
    s->uri = mongoc_uri_new_with_error(opts->uri, &e);
    if (!s->uri) {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK, "invalid MongoDB URI %s: %s", s->uri_shown,
                     e.message);
        goto fail;
    }
    if (apply_uri_options(s, opts, err) != 0) goto fail;
    s->wc = make_write_concern(opts->write_concern, socket_timeout_of(opts), err);
    if (!s->wc) goto fail;
    s->pool = mongoc_client_pool_new_with_error(s->uri, &e);
    if (!s->pool) {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK, "cannot use MongoDB URI %s: %s",
                     s->uri_shown, e.message);
        goto fail;
    }
    mongoc_client_pool_set_error_api(s->pool, MONGOC_ERROR_API_VERSION_2);
    if (rb_sink_ping(s, err) != 0) goto fail;
    if (opts->probe_only) return s;
    c = mongoc_client_pool_pop(s->pool);
    rc = set_up(s, c, opts, err);
    mongoc_client_pool_push(s->pool, c);
    if (rc != 0) goto fail;
    return s;
fail:
    rb_sink_destroy(s);
    return NULL;
}

void rb_sink_destroy(rb_sink *s) {
    if (!s) return;
    mongoc_client_pool_destroy(s->pool);
    mongoc_uri_destroy(s->uri);
    mongoc_write_concern_destroy(s->wc);
    free(s->database);
    free(s->collection);
    free(s->uri_shown);
    free(s);
}

int rb_sink_ping(rb_sink *s, rb_error *err) {
    bson_t cmd = BSON_INITIALIZER, reply;
    bson_error_t e;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    bool ok;

    BSON_APPEND_INT32(&cmd, "ping", 1);
    ok = mongoc_client_command_simple(c, "admin", &cmd, NULL, &reply, &e);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    if (!ok) {
        rb_sink_mongo_error(err, &e, "ping failed");
        return rb_error_prefix(err, "MongoDB at %s does not answer", s->uri_shown);
    }
    return 0;
}

/* ---- reads ------------------------------------------------------------- */

int rb_sink_count(rb_sink *s, bool include_deleted, int64_t *out, rb_error *err) {
    bson_t filter = BSON_INITIALIZER, ne;
    bson_error_t e;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, s->database, s->collection);
    int64_t count;

    if (!include_deleted) {
        BSON_APPEND_DOCUMENT_BEGIN(&filter, "deleted", &ne);
        BSON_APPEND_BOOL(&ne, "$ne", true);
        bson_append_document_end(&filter, &ne);
    }
    count = mongoc_collection_count_documents(coll, &filter, NULL, NULL, NULL, &e);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(&filter);
    if (count < 0) {
        rb_sink_mongo_error(err, &e, "count failed");
        return rb_sink_in_collection(s, err);
    }
    *out = count;
    return 0;
}

int rb_sink_get_json(rb_sink *s, const char *id, char **json_out, rb_error *err) {
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
    const bson_t *doc;
    bson_error_t e;
    mongoc_client_t *c;
    mongoc_collection_t *coll;
    mongoc_cursor_t *cur;
    int rc = 0;

    *json_out = NULL;
    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_INT64(&opts, "limit", 1);
    c = mongoc_client_pool_pop(s->pool);
    coll = mongoc_client_get_collection(c, s->database, s->collection);
    cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    if (mongoc_cursor_next(cur, &doc)) {
        char *j = bson_as_relaxed_extended_json(doc, NULL);
        *json_out = j ? dup_str(j) : NULL;
        bson_free(j);
        if (!*json_out) rc = rb_error_nomem(err, RB_STAGE_SINK, "document JSON");
    } else if (mongoc_cursor_error(cur, &e)) {
        rb_sink_mongo_error(err, &e, "find failed");
        rc = rb_error_prefix(err, "document \"%s\" in %s.%s at %s", id, s->database, s->collection,
                             s->uri_shown);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

int rb_sink_drop_database(rb_sink *s, rb_error *err) {
    bson_error_t e;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_database_t *db = mongoc_client_get_database(c, s->database);
    bool ok = mongoc_database_drop(db, &e);
    mongoc_database_destroy(db);
    mongoc_client_pool_push(s->pool, c);
    if (!ok) {
        rb_sink_mongo_error(err, &e, "cannot drop database");
        return rb_error_prefix(err, "database %s at %s", s->database, s->uri_shown);
    }
    return 0;
}
