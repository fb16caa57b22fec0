/*
 * sink.c -- the MongoDB sink: pool, setup, versioned bulk writes, reads.
 */
#include "sink/sink.h"

#include "sink/bson_doc.h"

#include <errno.h>
#include <limits.h>
#include <mongoc/mongoc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* MongoDB's documented document limit, used until the server tells us. */
#define RB_SINK_DEFAULT_MAX_DOC (16 * 1024 * 1024)
#define RB_SINK_DUPLICATE_KEY 11000

struct rb_sink {
    mongoc_client_pool_t *pool;
    mongoc_uri_t *uri;
    mongoc_write_concern_t *wc;
    char *database;
    char *collection;
    char *uri_shown; /* the URI with its password replaced, for messages */
    int32_t max_doc_size;
    bool lookup_versions;    /* see rb_sink_versions in sink.h */
    size_t max_ops_per_bulk; /* 0: the whole batch in one bulk */
};

/* libmongoc logs to stderr by default, down to debug chatter from its
 * monitor threads, which would break up ragbatch's own log lines.  Keep
 * warnings and worse, except the one FerretDB causes at every pool shutdown
 * (it has no sessions, so "endSessions" is an unknown command). */
static void filter_mongoc_log(mongoc_log_level_t level, const char *domain, const char *message,
                              void *user_data)
{
    if (level > MONGOC_LOG_LEVEL_WARNING)
        return;
    if (level == MONGOC_LOG_LEVEL_WARNING && strstr(message, "endSessions"))
        return;
    mongoc_log_default_handler(level, domain, message, user_data);
}

void rb_sink_global_init(void)
{
    mongoc_init();
    mongoc_log_set_handler(filter_mongoc_log, NULL);
}

void rb_sink_global_cleanup(void)
{
    mongoc_cleanup();
}

const char *rb_sink_result_name(rb_sink_result r)
{
    switch (r) {
    case RB_SINK_PENDING: return "pending";
    case RB_SINK_STORED: return "stored";
    case RB_SINK_STALE: return "stale";
    case RB_SINK_DELETED: return "deleted";
    case RB_SINK_FAILED: return "failed";
    }
    return "unknown";
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Copies `uri` with the password of its user information replaced by
 * "***".  The user information ends at the last '@' before the path or
 * query (a password may hold '/' or '?' only percent-encoded). */
static char *redact_uri(const char *uri)
{
    rb_buf b;
    const char *scheme = strstr(uri, "://");
    const char *start, *end, *at = NULL, *colon;

    rb_buf_init(&b);
    if (!scheme)
        return dup_str(uri);
    start = scheme + 3;
    end = start + strcspn(start, "/?");
    for (const char *p = start; p < end; p++)
        if (*p == '@')
            at = p;
    if (!at)
        return dup_str(uri);
    colon = memchr(start, ':', (size_t)(at - start));
    if (!colon)
        return dup_str(uri);
    if (rb_buf_append(&b, uri, (size_t)(colon + 1 - uri)) != 0 || rb_buf_puts(&b, "***") != 0 ||
        rb_buf_puts(&b, at) != 0) {
        rb_buf_free(&b);
        return NULL;
    }
    return rb_buf_detach(&b);
}

/* Authentication and authorisation problems do not heal by waiting;
 * everything else a server or the network says may. */
static bool mongo_retriable(const bson_error_t *e)
{
    if (e->domain == MONGOC_ERROR_CLIENT && e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)
        return false;
    if (e->domain == MONGOC_ERROR_SERVER && (e->code == 13 || e->code == 18))
        return false;
    return true;
}

static int mongo_error(rb_error *err, const bson_error_t *e, const char *what)
{
    if (mongo_retriable(e))
        return rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK, "%s: %s", what,
                                      e->message);
    return rb_error_set(err, RB_ERR_MONGO, RB_STAGE_SINK, "%s: %s", what, e->message);
}

/* Adds which collection of which server the error is about. */
static int in_collection(const rb_sink *s, rb_error *err)
{
    return rb_error_prefix(err, "collection %s.%s at %s", s->database, s->collection,
                           s->uri_shown);
}

static int64_t now_realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ---- setup ------------------------------------------------------------ */

static int check_names(const rb_sink_opts *o, rb_error *err)
{
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

static mongoc_write_concern_t *make_write_concern(const char *spec, int timeout_ms,
                                                  rb_error *err)
{
    mongoc_write_concern_t *wc = mongoc_write_concern_new();
    if (!wc) {
        rb_error_nomem(err, RB_STAGE_SINK, "write concern");
        return NULL;
    }
    if (!spec || strcmp(spec, "majority") == 0) {
        mongoc_write_concern_set_wmajority(wc, timeout_ms > 0 ? timeout_ms : 0);
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
    if (timeout_ms > 0)
        mongoc_write_concern_set_wtimeout_int64(wc, timeout_ms);
    return wc;
}

static int apply_uri_options(rb_sink *s, const rb_sink_opts *o, rb_error *err)
{
    if (o->timeout_ms > 0) {
        if (!mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS,
                                            o->timeout_ms) ||
            !mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_CONNECTTIMEOUTMS, o->timeout_ms) ||
            !mongoc_uri_set_option_as_int32(s->uri, MONGOC_URI_SOCKETTIMEOUTMS, o->timeout_ms))
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                                "cannot apply timeout %d ms to MongoDB URI %s", o->timeout_ms,
                                s->uri_shown);
    }
    if (o->app_name && *o->app_name && !mongoc_uri_get_appname(s->uri) &&
        !mongoc_uri_set_appname(s->uri, o->app_name))
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK,
                            "invalid application name \"%s\" (at most 128 bytes)", o->app_name);
    return 0;
}

/* FerretDB 1.x (SQLite) keeps each matched statement of an update command
 * holding one of its 100 database connections until the command ends, so
 * a command with about 100 replacements of existing documents waits
 * forever.  Bulks sent to it are cut into windows of this many ops. */
#define RB_SINK_FERRETDB_WINDOW 50

/* Reads maxBsonObjectSize from the hello reply (keeping the default if the
 * server does not say) and whether the server is FerretDB, whose buildInfo
 * carries a ferretdbVersion. */
static void read_server_facts(rb_sink *s, mongoc_client_t *c, rb_sink_versions mode)
{
    bson_t cmd = BSON_INITIALIZER, info = BSON_INITIALIZER, reply;
    bson_error_t e;
    bson_iter_t it;
    BSON_APPEND_INT32(&cmd, "hello", 1);
    if (mongoc_client_command_simple(c, "admin", &cmd, NULL, &reply, &e) &&
        bson_iter_init_find(&it, &reply, "maxBsonObjectSize") && BSON_ITER_HOLDS_INT32(&it) &&
        bson_iter_int32(&it) > 0)
        s->max_doc_size = bson_iter_int32(&it);
    bson_destroy(&reply);
    BSON_APPEND_INT32(&info, "buildInfo", 1);
    bool ferretdb = mongoc_client_command_simple(c, "admin", &info, NULL, &reply, &e) &&
                    bson_iter_init_find(&it, &reply, "ferretdbVersion");
    bson_destroy(&reply);
    s->lookup_versions =
        mode == RB_SINK_VERSIONS_LOOKUP || (mode == RB_SINK_VERSIONS_AUTO && ferretdb);
    s->max_ops_per_bulk = ferretdb ? RB_SINK_FERRETDB_WINDOW : 0;
    bson_destroy(&info);
    bson_destroy(&cmd);
}

/* The runner looks documents up by text_hash to reuse embeddings; _id is
 * indexed by the server itself. */
static int create_indexes(rb_sink *s, mongoc_client_t *c, rb_error *err)
{
    bson_t cmd = BSON_INITIALIZER, indexes, idx, key, reply;
    bson_error_t e;
    bool ok;

    BSON_APPEND_UTF8(&cmd, "createIndexes", s->collection);
    BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &indexes);
    BSON_APPEND_DOCUMENT_BEGIN(&indexes, "0", &idx);
    BSON_APPEND_DOCUMENT_BEGIN(&idx, "key", &key);
    BSON_APPEND_INT32(&key, "text_hash", 1);
    bson_append_document_end(&idx, &key);
    BSON_APPEND_UTF8(&idx, "name", "text_hash_1");
    bson_append_document_end(&indexes, &idx);
    bson_append_array_end(&cmd, &indexes);
    ok = mongoc_client_write_command_with_opts(c, s->database, &cmd, NULL, &reply, &e);
    bson_destroy(&reply);
    bson_destroy(&cmd);
    if (!ok) {
        mongo_error(err, &e, "cannot create index text_hash_1");
        return in_collection(s, err);
    }
    return 0;
}

rb_sink *rb_sink_new(const rb_sink_opts *opts, rb_error *err)
{
    rb_sink *s;
    bson_error_t e;
    mongoc_client_t *c;
    int rc;

    if (!opts)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_SINK, "no sink options"), NULL;
    if (check_names(opts, err) != 0)
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        return rb_error_nomem(err, RB_STAGE_SINK, "sink"), NULL;
    s->max_doc_size = RB_SINK_DEFAULT_MAX_DOC;
    s->uri_shown = redact_uri(opts->uri);
    s->database = dup_str(opts->database);
    s->collection = dup_str(opts->collection);
    if (!s->uri_shown || !s->database || !s->collection) {
        rb_error_nomem(err, RB_STAGE_SINK, "sink");
        goto fail;
    }
    s->uri = mongoc_uri_new_with_error(opts->uri, &e);
    if (!s->uri) {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK, "invalid MongoDB URI %s: %s",
                     s->uri_shown, e.message);
        goto fail;
    }
    if (apply_uri_options(s, opts, err) != 0)
        goto fail;
    s->wc = make_write_concern(opts->write_concern, opts->timeout_ms, err);
    if (!s->wc)
        goto fail;
    s->pool = mongoc_client_pool_new_with_error(s->uri, &e);
    if (!s->pool) {
        rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_SINK, "cannot use MongoDB URI %s: %s",
                     s->uri_shown, e.message);
        goto fail;
    }
    mongoc_client_pool_set_error_api(s->pool, MONGOC_ERROR_API_VERSION_2);
    if (rb_sink_ping(s, err) != 0)
        goto fail;
    c = mongoc_client_pool_pop(s->pool);
    read_server_facts(s, c, opts->versions);
    rc = create_indexes(s, c, err);
    mongoc_client_pool_push(s->pool, c);
    if (rc != 0)
        goto fail;
    return s;
fail:
    rb_sink_destroy(s);
    return NULL;
}

void rb_sink_destroy(rb_sink *s)
{
    if (!s)
        return;
    mongoc_client_pool_destroy(s->pool);
    mongoc_uri_destroy(s->uri);
    mongoc_write_concern_destroy(s->wc);
    free(s->database);
    free(s->collection);
    free(s->uri_shown);
    free(s);
}

int rb_sink_ping(rb_sink *s, rb_error *err)
{
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
        mongo_error(err, &e, "ping failed");
        return rb_error_prefix(err, "MongoDB at %s does not answer", s->uri_shown);
    }
    return 0;
}

/* ---- writes ------------------------------------------------------------ */

static void item_fail(rb_sink_item *it, const char *what, const char *detail)
{
    it->result = RB_SINK_FAILED;
    snprintf(it->error, sizeof it->error, "%s%s", what, detail);
}

/* Appends the items listed in `order` (skipping FAILED ones) to a new
 * bulk.  Returns the bulk, or NULL with *retry set when an append failed
 * (that item is now FAILED; libmongoc may keep the error in the bulk, so
 * the caller starts over without it).  `sent` receives the item index of
 * each op, in bulk order. */
static mongoc_bulk_operation_t *build_bulk(rb_sink *s, mongoc_collection_t *coll,
                                           rb_sink_item *items, const size_t *order,
                                           size_t n_order, int64_t now_ms, size_t *sent,
                                           size_t *n_sent, bool *retry, rb_error *err)
{
    bson_t bopts = BSON_INITIALIZER, upsert_opts = BSON_INITIALIZER;
    mongoc_bulk_operation_t *bulk;
    const bson_validate_flags_t vflags = BSON_VALIDATE_UTF8 | BSON_VALIDATE_DOLLAR_KEYS |
                                         BSON_VALIDATE_DOT_KEYS | BSON_VALIDATE_EMPTY_KEYS;

    *retry = false;
    *n_sent = 0;
    BSON_APPEND_BOOL(&bopts, "ordered", false);
    mongoc_write_concern_append(s->wc, &bopts);
    BSON_APPEND_BOOL(&upsert_opts, "upsert", true);
    bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
    bson_destroy(&bopts);
    if (!bulk) {
        bson_destroy(&upsert_opts);
        rb_error_nomem(err, RB_STAGE_SINK, "bulk operation");
        return NULL;
    }
    for (size_t o = 0; o < n_order; o++) {
        size_t i = order[o];
        rb_sink_item *it = &items[i];
        bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
        bson_error_t e;
        bool ok = false, skip = false;

        if (it->result != RB_SINK_PENDING) {
            skip = true; /* failed already, or found stale by lookup */
        } else if (!it->id) {
            item_fail(it, "item has no id", "");
            skip = true;
        } else if (it->kind == RB_SINK_HARD_DELETE) {
            BSON_APPEND_UTF8(&filter, "_id", it->id);
            ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &filter, NULL, &e);
        } else if (rb_sink_build_doc(&doc, it, now_ms, it->error, sizeof it->error) != 0) {
            it->result = RB_SINK_FAILED;
            skip = true;
        } else if ((int64_t)doc.len > (int64_t)s->max_doc_size) {
            /* libmongoc would abort the whole bulk for it; fail it alone. */
            it->result = RB_SINK_FAILED;
            snprintf(it->error, sizeof it->error,
                     "document is %u bytes, more than the server's limit of %d bytes",
                     (unsigned)doc.len, (int)s->max_doc_size);
            skip = true;
        } else if (!bson_validate_with_error(&doc, vflags, &e)) {
            item_fail(it, "document is not valid BSON for MongoDB: ", e.message);
            skip = true;
        } else {
            if (s->lookup_versions)
                BSON_APPEND_UTF8(&filter, "_id", it->id); /* versions checked before */
            else
                rb_sink_build_filter(&filter, it);
            ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &filter, &doc, &upsert_opts,
                                                             &e);
        }
        bson_destroy(&doc);
        bson_destroy(&filter);
        if (skip)
            continue;
        if (!ok) {
            item_fail(it, "libmongoc refused the operation: ", e.message);
            mongoc_bulk_operation_destroy(bulk);
            bson_destroy(&upsert_opts);
            *retry = true;
            return NULL;
        }
        sent[(*n_sent)++] = i;
    }
    bson_destroy(&upsert_opts);
    return bulk;
}

static int64_t reply_int(const bson_t *reply, const char *key)
{
    bson_iter_t it;
    if (bson_iter_init_find(&it, reply, key) && BSON_ITER_HOLDS_NUMBER(&it))
        return bson_iter_as_int64(&it);
    return 0;
}
/* Copies the message of the first entry of array `key` of `reply` into
 * `buf`; returns false if the array is absent or empty. */
static bool first_error(const bson_t *reply, const char *key, char *buf, size_t len)
{
    bson_iter_t it, arr, doc;
    if (!bson_iter_init_find(&it, reply, key) || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr) || !bson_iter_next(&arr))
        return false;
    snprintf(buf, len, "(no message)");
    if (BSON_ITER_HOLDS_DOCUMENT(&arr) && bson_iter_recurse(&arr, &doc) &&
        bson_iter_find(&doc, "errmsg") && BSON_ITER_HOLDS_UTF8(&doc))
        snprintf(buf, len, "%s", bson_iter_utf8(&doc, NULL));
    return true;
}

/* Applies writeErrors to the items: E11000 means the filter found no older
 * version while the _id exists, i.e. STALE; anything else is this
 * document's own failure.  Returns how many replace ops it accounted for. */
static size_t apply_write_errors(const bson_t *reply, rb_sink_item *items, const size_t *sent,
                                 size_t n_sent)
{
    bson_iter_t it, arr, doc;
    size_t replaces = 0;

    if (!bson_iter_init_find(&it, reply, "writeErrors") || !BSON_ITER_HOLDS_ARRAY(&it) ||
        !bson_iter_recurse(&it, &arr))
        return 0;
    while (bson_iter_next(&arr)) {
        int64_t index = -1, code = 0;
        const char *msg = "(no message)";
        if (!BSON_ITER_HOLDS_DOCUMENT(&arr) || !bson_iter_recurse(&arr, &doc))
            continue;
        while (bson_iter_next(&doc)) {
            const char *k = bson_iter_key(&doc);
            if (strcmp(k, "index") == 0 && BSON_ITER_HOLDS_NUMBER(&doc))
                index = bson_iter_as_int64(&doc);
            else if (strcmp(k, "code") == 0 && BSON_ITER_HOLDS_NUMBER(&doc))
                code = bson_iter_as_int64(&doc);
            else if (strcmp(k, "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&doc))
                msg = bson_iter_utf8(&doc, NULL);
        }
        if (index < 0 || (uint64_t)index >= n_sent)
            continue;
        rb_sink_item *item = &items[sent[index]];
        if (item->kind != RB_SINK_HARD_DELETE)
            replaces++;
        if (code == RB_SINK_DUPLICATE_KEY && item->kind != RB_SINK_HARD_DELETE) {
            item->result = RB_SINK_STALE;
        } else {
            item->result = RB_SINK_FAILED;
            snprintf(item->error, sizeof item->error,
                     "server rejected the document (code %lld): %s", (long long)code, msg);
        }
    }
    return replaces;
}

/* Re-sends the deletes that follow the last replace of the bulk.  Deletes
 * are idempotent and no later op of this batch touches those ids, so doing
 * them again is harmless; it settles whether they ran when the first reply
 * cannot tell (see rb_sink_write). */
static bool confirm_trailing_deletes(rb_sink *s, mongoc_collection_t *coll, rb_sink_item *items,
                                     const size_t *sent, size_t from, size_t n_sent,
                                     bson_error_t *e)
{
    bson_t bopts = BSON_INITIALIZER, reply;
    mongoc_bulk_operation_t *bulk;
    bool ok = true;
    uint32_t done;

    BSON_APPEND_BOOL(&bopts, "ordered", false);
    mongoc_write_concern_append(s->wc, &bopts);
    bulk = mongoc_collection_create_bulk_operation_with_opts(coll, &bopts);
    bson_destroy(&bopts);
    for (size_t k = from; k < n_sent && ok; k++) {
        bson_t filter = BSON_INITIALIZER;
        BSON_APPEND_UTF8(&filter, "_id", items[sent[k]].id);
        ok = mongoc_bulk_operation_remove_one_with_opts(bulk, &filter, NULL, e);
        bson_destroy(&filter);
    }
    if (ok) {
        done = mongoc_bulk_operation_execute(bulk, &reply, e);
        bson_destroy(&reply);
        ok = done != 0;
    }
    mongoc_bulk_operation_destroy(bulk);
    return ok;
}

static void unsend(rb_sink_item *items, const size_t *sent, size_t n_sent)
{
    for (size_t k = 0; k < n_sent; k++) {
        items[sent[k]].result = RB_SINK_PENDING;
        items[sent[k]].error[0] = '\0';
    }
}

static void add_stats(rb_sink_stats *st, const rb_sink_item *items, size_t n, double ms)
{
    if (!st)
        return;
    for (size_t i = 0; i < n; i++) {
        switch (items[i].result) {
        case RB_SINK_STORED: st->stored++; break;
        case RB_SINK_STALE: st->stale++; break;
        case RB_SINK_DELETED: st->deleted++; break;
        case RB_SINK_FAILED: st->failed++; break;
        case RB_SINK_PENDING: break;
        }
    }
    st->elapsed_ms += ms;
}

enum bulk_outcome { BULK_SETTLED, BULK_FAILED, BULK_UNCLEAR };

/*
 * Runs one bulk and settles the results of its ops.
 *
 * libmongoc sends consecutive ops of one type as one command, in order, and
 * stops at the first command that fails as a whole (network, {ok: 0}); it
 * then reports the first writeError, if any, in place of that failure, so
 * the error alone cannot say whether a command failed.  Counting can: every
 * replace op that ran is in nMatched, nUpserted or writeErrors.  When all
 * are there, only deletes after the last replace can be in doubt, and those
 * are sent again (deletes are idempotent and no later op of the batch
 * touches those ids).
 *
 * Servers that ignore `ordered: false` (FerretDB 1.x stops an update
 * command at its first error, reports it at index 0 and drops the counts of
 * the statements before it) leave replace ops unaccounted for: the answer
 * is then BULK_UNCLEAR and the caller settles the ops one by one.  A single
 * op always gets a clear answer: it ran, it has a writeError, or its
 * command failed.
 */
static enum bulk_outcome run_bulk(rb_sink *s, mongoc_collection_t *coll,
                                  mongoc_bulk_operation_t *bulk, rb_sink_item *items,
                                  const size_t *sent, size_t n_sent, rb_error *err)
{
    size_t n_replace = 0, last_replace = 0;
    bson_t reply;
    bson_error_t e;
    char msg[RB_ERROR_MSG_MAX / 2];
    enum bulk_outcome out = BULK_SETTLED;

    for (size_t k = 0; k < n_sent; k++)
        if (items[sent[k]].kind != RB_SINK_HARD_DELETE) {
            n_replace++;
            last_replace = k;
        }
    uint32_t ok = mongoc_bulk_operation_execute(bulk, &reply, &e);
    if (first_error(&reply, "writeConcernErrors", msg, sizeof msg)) {
        rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK,
                               "write concern not satisfied on %s.%s at %s: %s", s->database,
                               s->collection, s->uri_shown, msg);
        out = BULK_FAILED;
        goto done;
    }
    if (!ok) {
        bool any_write_error = first_error(&reply, "writeErrors", msg, sizeof msg);
        size_t accounted = apply_write_errors(&reply, items, sent, n_sent) +
                           (size_t)(reply_int(&reply, "nMatched") + reply_int(&reply, "nUpserted"));
        size_t first_doubtful = n_replace ? last_replace + 1 : 0;
        /* No writeErrors: a command failed as a whole (network, timeout,
         * not primary, unauthorised), which is no one document's fault. */
        if (!any_write_error) {
            mongo_error(err, &e, "bulk write failed");
            in_collection(s, err);
            out = BULK_FAILED;
            goto done;
        }
        if (accounted < n_replace) {
            out = BULK_UNCLEAR;
            goto done;
        }
        if (first_doubtful < n_sent &&
            !confirm_trailing_deletes(s, coll, items, sent, first_doubtful, n_sent, &e)) {
            mongo_error(err, &e, "bulk write failed");
            in_collection(s, err);
            out = BULK_FAILED;
            goto done;
        }
    }
    for (size_t k = 0; k < n_sent; k++) {
        rb_sink_item *it = &items[sent[k]];
        if (it->result == RB_SINK_PENDING)
            it->result = it->kind == RB_SINK_HARD_DELETE ? RB_SINK_DELETED : RB_SINK_STORED;
    }
done:
    bson_destroy(&reply);
    return out;
}

/* Builds and runs a bulk of the listed items; returns 0 when every sent op
 * is settled, 1 when the answer was unclear, -1 on failure (err set). */
static int write_list(rb_sink *s, mongoc_collection_t *coll, rb_sink_item *items,
                      const size_t *order, size_t n_order, int64_t now_ms, size_t *sent,
                      size_t *n_sent, rb_error *err)
{
    mongoc_bulk_operation_t *bulk;
    bool retry;
    enum bulk_outcome out;

    do {
        bulk = build_bulk(s, coll, items, order, n_order, now_ms, sent, n_sent, &retry, err);
    } while (!bulk && retry);
    if (!bulk)
        return -1;
    if (*n_sent == 0) {
        mongoc_bulk_operation_destroy(bulk);
        return 0;
    }
    out = run_bulk(s, coll, bulk, items, sent, *n_sent, err);
    mongoc_bulk_operation_destroy(bulk);
    if (out == BULK_FAILED)
        unsend(items, sent, *n_sent);
    return out == BULK_SETTLED ? 0 : out == BULK_UNCLEAR ? 1 : -1;
}

typedef struct id_pos {
    const char *id;
    size_t pos;
} id_pos;

static int cmp_id_pos(const void *a, const void *b)
{
    const id_pos *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c != 0)
        return c;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The stored version of `id`: 0 with *found false when there is no such
 * document; a document without a numeric version counts as newest, as it
 * does for the filter {version: {$lt: v}}. */
static int stored_version(rb_sink *s, mongoc_collection_t *coll, const char *id, bool *found,
                          int64_t *version, rb_error *err)
{
    bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, proj;
    const bson_t *doc;
    bson_error_t e;
    bson_iter_t it;
    int rc = 0;

    BSON_APPEND_UTF8(&filter, "_id", id);
    BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
    BSON_APPEND_INT32(&proj, "version", 1);
    bson_append_document_end(&opts, &proj);
    BSON_APPEND_INT64(&opts, "limit", 1);
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, &opts, NULL);
    *found = false;
    *version = 0;
    if (mongoc_cursor_next(cur, &doc)) {
        *found = true;
        *version = INT64_MAX;
        if (bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_NUMBER(&it))
            *version = bson_iter_as_int64(&it);
    } else if (mongoc_cursor_error(cur, &e)) {
        mongo_error(err, &e, "reading stored versions failed");
        rc = in_collection(s, err);
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

/* Lookup mode: marks STALE, without sending them, the upserts and soft
 * deletes whose version is not newer than what the store will hold when
 * their turn comes in batch order (the stored version, raised by earlier
 * items of the same id, cleared by hard deletes).  One indexed lookup per
 * distinct id. */
static int mark_stale_by_lookup(rb_sink *s, mongoc_collection_t *coll, rb_sink_item *items,
                                size_t n, rb_error *err)
{
    id_pos *ix = malloc(n * sizeof *ix);
    size_t m = 0;
    int rc = 0;

    if (!ix)
        return rb_error_nomem(err, RB_STAGE_SINK, "version lookup");
    for (size_t i = 0; i < n; i++)
        if (items[i].result == RB_SINK_PENDING && items[i].id)
            ix[m++] = (id_pos){items[i].id, i};
    qsort(ix, m, sizeof *ix, cmp_id_pos);
    for (size_t g = 0; g < m && rc == 0;) {
        size_t end = g + 1;
        while (end < m && strcmp(ix[end].id, ix[g].id) == 0)
            end++;
        bool present;
        int64_t cur;
        rc = stored_version(s, coll, ix[g].id, &present, &cur, err);
        for (size_t k = g; k < end && rc == 0; k++) {
            rb_sink_item *it = &items[ix[k].pos];
            if (it->kind == RB_SINK_HARD_DELETE) {
                present = false;
            } else if (present && cur >= it->version) {
                it->result = RB_SINK_STALE;
            } else {
                present = true;
                cur = it->version;
            }
        }
        g = end;
    }
    free(ix);
    return rc;
}

/* After settling one by one, an op the unclear bulk had already applied
 * answers STALE although this call wrote it.  Such a document carries this
 * call's ingested_at and the item's version and source offset: those items
 * are reported STORED (the first of equal ones in batch order).  Best
 * effort: if the lookup fails the items stay STALE, which is also true of
 * the store. */
static void reclaim_own_writes(rb_sink *s, mongoc_collection_t *coll, rb_sink_item *items,
                               const size_t *order, size_t n_order, int64_t now_ms)
{
    bson_t filter = BSON_INITIALIZER, in, ids;
    const bson_t *doc;
    size_t n_ids = 0;

    BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
    BSON_APPEND_ARRAY_BEGIN(&in, "$in", &ids);
    for (size_t k = 0; k < n_order; k++) {
        const rb_sink_item *it = &items[order[k]];
        if (it->result == RB_SINK_STALE) {
            char tmp[16];
            const char *key;
            bson_uint32_to_string((uint32_t)n_ids++, &key, tmp, sizeof tmp);
            BSON_APPEND_UTF8(&ids, key, it->id);
        }
    }
    bson_append_array_end(&in, &ids);
    bson_append_document_end(&filter, &in);
    BSON_APPEND_DATE_TIME(&filter, "ingested_at", now_ms);
    if (n_ids == 0) {
        bson_destroy(&filter);
        return;
    }
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, NULL, NULL);
    while (mongoc_cursor_next(cur, &doc)) {
        bson_iter_t it;
        const char *id = NULL;
        int64_t version = -1, offset = -1;
        if (bson_iter_init_find(&it, doc, "_id") && BSON_ITER_HOLDS_UTF8(&it))
            id = bson_iter_utf8(&it, NULL);
        if (bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_INT64(&it))
            version = bson_iter_int64(&it);
        if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "source.offset", &it) &&
            BSON_ITER_HOLDS_INT64(&it))
            offset = bson_iter_int64(&it);
        if (!id)
            continue;
        for (size_t k = 0; k < n_order; k++) {
            rb_sink_item *x = &items[order[k]];
            if (x->result == RB_SINK_STALE && x->version == version && x->offset == offset &&
                strcmp(x->id, id) == 0) {
                x->result = RB_SINK_STORED;
                break;
            }
        }
    }
    mongoc_cursor_destroy(cur);
    bson_destroy(&filter);
}

/* Writes one window of the batch as one bulk; when the reply is unclear,
 * settles each of its ops on its own, in batch order.  Ops the bulk had
 * already applied then come back STALE (their version is stored now) and
 * are reclaimed as STORED; nothing is applied twice.  `sent` and `redo`
 * have room for `n_order` indexes. */
static int write_window(rb_sink *s, mongoc_collection_t *coll, rb_sink_item *items,
                        const size_t *order, size_t n_order, int64_t now_ms, size_t *sent,
                        size_t *redo, rb_error *err)
{
    size_t n_sent = 0, one;
    int rc = write_list(s, coll, items, order, n_order, now_ms, sent, &n_sent, err);
    if (rc != 1)
        return rc;
    memcpy(redo, sent, n_sent * sizeof *redo);
    unsend(items, redo, n_sent);
    rc = 0;
    for (size_t k = 0; k < n_sent && rc == 0; k++) {
        rc = write_list(s, coll, items, &redo[k], 1, now_ms, sent, &one, err);
        if (rc == 1) /* a single op always has a clear answer; be safe */
            rc = rb_error_set_retriable(err, RB_ERR_MONGO, RB_STAGE_SINK,
                                        "unclear reply to a single write on %s.%s at %s",
                                        s->database, s->collection, s->uri_shown);
    }
    if (rc == 0)
        reclaim_own_writes(s, coll, items, redo, n_sent, now_ms);
    return rc;
}

int rb_sink_write(rb_sink *s, rb_sink_item *items, size_t n, rb_sink_stats *stats, rb_error *err)
{
    double t0 = now_mono_ms();
    int64_t now_ms = now_realtime_ms();
    size_t *order, *sent, *redo;
    size_t window = s->max_ops_per_bulk ? s->max_ops_per_bulk : n;
    mongoc_client_t *c;
    mongoc_collection_t *coll;
    int rc;

    for (size_t i = 0; i < n; i++) {
        items[i].result = RB_SINK_PENDING;
        items[i].error[0] = '\0';
    }
    if (n == 0)
        return 0;
    order = malloc(n * sizeof *order);
    sent = malloc(n * sizeof *sent);
    redo = malloc(n * sizeof *redo);
    if (!order || !sent || !redo) {
        free(order);
        free(sent);
        free(redo);
        return rb_error_nomem(err, RB_STAGE_SINK, "bulk index map");
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    c = mongoc_client_pool_pop(s->pool);
    coll = mongoc_client_get_collection(c, s->database, s->collection);

    rc = s->lookup_versions ? mark_stale_by_lookup(s, coll, items, n, err) : 0;
    for (size_t w = 0; w < n && rc == 0; w += window) {
        size_t len = n - w < window ? n - w : window;
        rc = write_window(s, coll, items, order + w, len, now_ms, sent, redo, err);
    }
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    free(order);
    free(sent);
    free(redo);
    if (rc == 0) {
        add_stats(stats, items, n, now_mono_ms() - t0);
    } else {
        for (size_t i = 0; i < n; i++) {
            items[i].result = RB_SINK_PENDING;
            items[i].error[0] = '\0';
        }
    }
    return rc;
}

/* ---- reads ------------------------------------------------------------- */

int rb_sink_count(rb_sink *s, bool include_deleted, int64_t *out, rb_error *err)
{
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
        mongo_error(err, &e, "count failed");
        return in_collection(s, err);
    }
    *out = count;
    return 0;
}

int rb_sink_get_json(rb_sink *s, const char *id, char **json_out, rb_error *err)
{
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
        if (!*json_out)
            rc = rb_error_nomem(err, RB_STAGE_SINK, "document JSON");
    } else if (mongoc_cursor_error(cur, &e)) {
        mongo_error(err, &e, "find failed");
        rc = rb_error_prefix(err, "document \"%s\" in %s.%s at %s", id, s->database,
                             s->collection, s->uri_shown);
    }
    mongoc_cursor_destroy(cur);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(s->pool, c);
    bson_destroy(&opts);
    bson_destroy(&filter);
    return rc;
}

int rb_sink_drop_database(rb_sink *s, rb_error *err)
{
    bson_error_t e;
    mongoc_client_t *c = mongoc_client_pool_pop(s->pool);
    mongoc_database_t *db = mongoc_client_get_database(c, s->database);
    bool ok = mongoc_database_drop(db, &e);
    mongoc_database_destroy(db);
    mongoc_client_pool_push(s->pool, c);
    if (!ok) {
        mongo_error(err, &e, "cannot drop database");
        return rb_error_prefix(err, "database %s at %s", s->database, s->uri_shown);
    }
    return 0;
}
