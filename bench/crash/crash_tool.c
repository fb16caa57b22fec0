/*
 * crash_tool.c -- the producer, offset reader and verifier of the crash test
 * (bench/crash/run.sh).  A benchmark tool, linked against libragbatch.a for
 * its JSON parser; nothing here is part of the product.
 *
 *   crash_tool produce BOOTSTRAP TOPIC EVENTS.jsonl HOLD_SHARE SEED
 *       Produces the events (JSON lines as `ragbatch generate --stdout`
 *       writes them), keyed by product_id, so all events of an id land on one
 *       partition.  Each event is held back with probability HOLD_SHARE and
 *       produced 1..2,000 events later, so that ids see older versions after
 *       newer ones (out of order within their partition).  Waits for every
 *       delivery report (acks=all, idempotent producer).  Prints
 *         produced=N held=N out_of_order=N
 *       where out_of_order counts events produced after a higher version of
 *       the same id.  The final state is unchanged: the newest version of
 *       each id is still the one in the generator's manifest.
 *   crash_tool committed BOOTSTRAP GROUP TOPIC
 *       Prints committed=N end=N: the group's committed offsets and the end
 *       offsets, summed over the topic's partitions.
 *   crash_tool verify MONGO_URI DATABASE COLLECTION MANIFEST
 *       Checks the collection against the manifest of `ragbatch generate
 *       --manifest`: every live id is stored, not deleted, with the
 *       manifest's version and the name and price of that version; every
 *       deleted id is a tombstone (deleted: true) with the delete's version,
 *       or gone; no document has an id the manifest does not name.  Prints
 *       the counts and exits 1 on any mismatch (the first ten are listed).
 */
#include "common/error.h"
#include "json/json.h"

#include <librdkafka/rdkafka.h>
#include <mongoc/mongoc.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOLD_MAX 2000

/* ------------------------------------------------------------ produce */

typedef struct held {
    char *line;
    size_t len;
    size_t release_at; /* index of the event after which it is produced */
} held;

typedef struct seen {
    char *key;
    int64_t max_version;
} seen;

typedef struct producer {
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    size_t failed;
    seen *ids; /* open-addressing table of the highest version per key */
    size_t cap;
    size_t out_of_order;
    size_t produced;
} producer;

static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t fnv(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    producer *p = opaque;
    if (m->err) {
        if (p->failed++ == 0)
            fprintf(stderr, "crash_tool: delivery failed: %s\n", rd_kafka_err2str(m->err));
    }
}

/* Records the version of `key`; returns whether a higher one came before. */
static bool older_than_seen(producer *p, const char *key, int64_t version) {
    size_t i = fnv(key) & (p->cap - 1);
    while (p->ids[i].key && strcmp(p->ids[i].key, key) != 0) i = (i + 1) & (p->cap - 1);
    if (!p->ids[i].key) {
        p->ids[i].key = strdup(key);
        p->ids[i].max_version = version;
        return false;
    }
    if (version < p->ids[i].max_version) return true;
    p->ids[i].max_version = version;
    return false;
}

static int send_line(producer *p, const char *line, size_t len) {
    rb_error err;
    rb_json_doc *doc;
    if (rb_json_parse(line, len, NULL, &doc, &err) != 0) {
        fprintf(stderr, "crash_tool: event %zu is not JSON: %s\n", p->produced + 1, err.msg);
        return -1;
    }
    const rb_json *root = rb_json_doc_root(doc);
    const char *key = rb_json_string(rb_json_get(root, "product_id"));
    const rb_json *v = rb_json_get(root, "version");
    if (!key || !v || !v->is_integer) {
        fprintf(stderr, "crash_tool: event %zu has no product_id or integer version\n",
                p->produced + 1);
        rb_json_doc_destroy(doc);
        return -1;
    }
    if (older_than_seen(p, key, v->integer)) p->out_of_order++;
    while (rd_kafka_produce(p->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)line, len,
                            key, strlen(key), NULL) != 0) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            fprintf(stderr, "crash_tool: produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
            rb_json_doc_destroy(doc);
            return -1;
        }
        rd_kafka_poll(p->rk, 100);
    }
    rd_kafka_poll(p->rk, 0);
    rb_json_doc_destroy(doc);
    p->produced++;
    return 0;
}

static int cmd_produce(const char *bootstrap, const char *topic, const char *path, double share,
                       uint64_t seed) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return 1;
    }
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {{"bootstrap.servers", bootstrap},
                              {"acks", "all"},
                              {"enable.idempotence", "true"},
                              {"linger.ms", "5"},
                              {"queue.buffering.max.messages", "200000"}};
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++)
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof errstr) !=
            RD_KAFKA_CONF_OK) {
            fprintf(stderr, "crash_tool: %s\n", errstr);
            return 1;
        }
    producer p = {0};
    p.cap = 1u << 20;
    p.ids = calloc(p.cap, sizeof *p.ids);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &p);
    p.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!p.rk || !p.ids) {
        fprintf(stderr, "crash_tool: %s\n", p.rk ? "out of memory" : errstr);
        return 1;
    }
    p.rkt = rd_kafka_topic_new(p.rk, topic, NULL);

    held *q = NULL;
    size_t nq = 0, capq = 0, held_total = 0, index = 0;
    uint64_t rng = seed * 2654435761u + 1;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] == '\n') len--;
        if (len == 0) continue;
        index++;
        if ((double)(xorshift(&rng) >> 11) / 9007199254740992.0 < share) {
            if (nq == capq) {
                capq = capq ? 2 * capq : 1024;
                q = realloc(q, capq * sizeof *q);
                if (!q) return 1;
            }
            q[nq].line = strndup(line, (size_t)len);
            q[nq].len = (size_t)len;
            q[nq].release_at = index + 1 + xorshift(&rng) % HOLD_MAX;
            nq++;
            held_total++;
        } else {
            rc = send_line(&p, line, (size_t)len);
        }
        /* Release what is due, keeping the rest in order. */
        size_t keep = 0;
        for (size_t i = 0; i < nq && rc == 0; i++) {
            if (q[i].release_at <= index) {
                rc = send_line(&p, q[i].line, q[i].len);
                free(q[i].line);
            } else {
                q[keep++] = q[i];
            }
        }
        if (rc == 0) nq = keep;
    }
    for (size_t i = 0; i < nq && rc == 0; i++) {
        rc = send_line(&p, q[i].line, q[i].len);
        free(q[i].line);
    }
    free(q);
    free(line);
    fclose(f);
    if (rd_kafka_flush(p.rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "crash_tool: %d messages not delivered within 120 s\n",
                rd_kafka_outq_len(p.rk));
        rc = -1;
    }
    if (p.failed) rc = -1;
    printf("produced=%zu held=%zu out_of_order=%zu\n", p.produced, held_total, p.out_of_order);
    for (size_t i = 0; i < p.cap; i++) free(p.ids[i].key);
    free(p.ids);
    rd_kafka_topic_destroy(p.rkt);
    rd_kafka_destroy(p.rk);
    return rc ? 1 : 0;
}

/* ---------------------------------------------------------- committed */

static int cmd_committed(const char *bootstrap, const char *group, const char *topic) {
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr) ||
        rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr)) {
        fprintf(stderr, "crash_tool: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "crash_tool: %s\n", errstr);
        return 1;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    if (e || md->topic_cnt != 1 || md->topics[0].err) {
        fprintf(stderr, "crash_tool: metadata of %s: %s\n", topic,
                rd_kafka_err2str(e ? e : md->topics[0].err));
        return 1;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        rd_kafka_topic_partition_list_add(l, topic, md->topics[0].partitions[i].id);
    rd_kafka_metadata_destroy(md);
    e = rd_kafka_committed(rk, l, 10000);
    if (e) {
        fprintf(stderr, "crash_tool: committed offsets: %s\n", rd_kafka_err2str(e));
        return 1;
    }
    int64_t committed = 0, end = 0;
    for (int i = 0; i < l->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_query_watermark_offsets(rk, topic, l->elems[i].partition, &lo, &hi, 10000)) {
            fprintf(stderr, "crash_tool: watermarks of partition %d failed\n",
                    l->elems[i].partition);
            return 1;
        }
        end += hi;
        if (l->elems[i].offset > 0) committed += l->elems[i].offset;
    }
    printf("committed=%" PRId64 " end=%" PRId64 "\n", committed, end);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return 0;
}

/* ------------------------------------------------------------- verify */

typedef struct expect {
    char *id;
    int64_t version;
    bool deleted;
    char *name;
    double price;
    bool has_price;
    bool found;
} expect;

typedef struct table {
    expect *e;
    size_t cap, n;
} table;

static expect *lookup(table *t, const char *id, bool add) {
    size_t i = fnv(id) & (t->cap - 1);
    while (t->e[i].id && strcmp(t->e[i].id, id) != 0) i = (i + 1) & (t->cap - 1);
    if (t->e[i].id) return &t->e[i];
    if (!add) return NULL;
    t->e[i].id = strdup(id);
    t->n++;
    return &t->e[i];
}

static int load_manifest(const char *path, table *t) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    rb_error err;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        rb_json_doc *doc;
        if (rb_json_parse(line, (size_t)len, NULL, &doc, &err) != 0) {
            fprintf(stderr, "crash_tool: %s:%zu: %s\n", path, lineno, err.msg);
            return -1;
        }
        const rb_json *r = rb_json_doc_root(doc);
        const char *id = rb_json_string(rb_json_get(r, "product_id"));
        if (id) {
            if (t->n * 2 >= t->cap) {
                fprintf(stderr, "crash_tool: more than %zu ids in %s\n", t->cap / 2, path);
                return -1;
            }
            expect *x = lookup(t, id, true);
            const rb_json *v = rb_json_get(r, "version"), *d = rb_json_get(r, "deleted");
            const rb_json *p = rb_json_get(r, "price");
            const char *name = rb_json_string(rb_json_get(rb_json_get(r, "text_fields"), "name"));
            x->version = v && v->is_integer ? v->integer : -1;
            x->deleted = d && d->type == RB_JSON_BOOL && d->boolean;
            x->name = name ? strdup(name) : NULL;
            x->has_price = p && p->type == RB_JSON_NUMBER;
            x->price = x->has_price ? p->number : 0;
        }
        rb_json_doc_destroy(doc);
    }
    free(line);
    fclose(f);
    return 0;
}

static int cmd_verify(const char *uri, const char *db, const char *coll_name,
                      const char *manifest) {
    table t = {.cap = 1u << 22};
    t.e = calloc(t.cap, sizeof *t.e);
    if (!t.e || load_manifest(manifest, &t) != 0) return 1;
    mongoc_init();
    bson_error_t be;
    mongoc_uri_t *u = mongoc_uri_new_with_error(uri, &be);
    if (!u) {
        fprintf(stderr, "crash_tool: %s\n", be.message);
        return 1;
    }
    mongoc_client_t *c = mongoc_client_new_from_uri(u);
    mongoc_collection_t *coll = mongoc_client_get_collection(c, db, coll_name);
    bson_t filter = BSON_INITIALIZER;
    /* Batches of 1,000: mongo-java-server does not cap a reply batch at
     * 16 MiB, and 100,000 documents in one reply exceed what a client takes. */
    bson_t *opts = BCON_NEW("projection", "{", "_id", BCON_INT32(1), "version", BCON_INT32(1),
                            "deleted", BCON_INT32(1), "metadata", BCON_INT32(1), "}", "batchSize",
                            BCON_INT32(1000));
    mongoc_cursor_t *cur = mongoc_collection_find_with_opts(coll, &filter, opts, NULL);
    size_t docs = 0, live_ok = 0, tomb_ok = 0, extra = 0, wrong_version = 0, wrong_deleted = 0,
           wrong_content = 0, shown = 0;
    const bson_t *d;
    while (mongoc_cursor_next(cur, &d)) {
        docs++;
        bson_iter_t it;
        char id[256] = "";
        if (bson_iter_init_find(&it, d, "_id") && BSON_ITER_HOLDS_UTF8(&it))
            snprintf(id, sizeof id, "%s", bson_iter_utf8(&it, NULL));
        int64_t version = -1;
        if (bson_iter_init_find(&it, d, "version") && BSON_ITER_HOLDS_NUMBER(&it))
            version = bson_iter_as_int64(&it);
        bool deleted = bson_iter_init_find(&it, d, "deleted") && bson_iter_as_bool(&it);
        const char *name = NULL;
        double price = 0;
        bool has_price = false;
        if (bson_iter_init_find(&it, d, "metadata") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
            bson_iter_t m;
            if (bson_iter_recurse(&it, &m) && bson_iter_find(&m, "name") &&
                BSON_ITER_HOLDS_UTF8(&m))
                name = bson_iter_utf8(&m, NULL);
            if (bson_iter_recurse(&it, &m) && bson_iter_find(&m, "price") &&
                BSON_ITER_HOLDS_NUMBER(&m)) {
                price = bson_iter_as_double(&m);
                has_price = true;
            }
        }
        expect *x = lookup(&t, id, false);
        const char *problem = NULL;
        if (!x) {
            extra++;
            problem = "not in the manifest";
        } else {
            x->found = true;
            if (version != x->version) {
                wrong_version++;
                problem = "wrong version";
            } else if (deleted != x->deleted) {
                wrong_deleted++;
                problem = x->deleted ? "live, should be deleted" : "deleted, should be live";
            } else if (!x->deleted &&
                       (!name || !x->name || strcmp(name, x->name) != 0 ||
                        has_price != x->has_price || (has_price && price != x->price))) {
                wrong_content++;
                problem = "name or price not those of the version";
            } else if (x->deleted) {
                tomb_ok++;
            } else {
                live_ok++;
            }
        }
        if (problem && shown++ < 10)
            fprintf(stderr,
                    "crash_tool: %s: %s (stored version %" PRId64 ", expected %" PRId64 ")\n", id,
                    problem, version, x ? x->version : -1);
    }
    if (mongoc_cursor_error(cur, &be)) {
        fprintf(stderr, "crash_tool: reading %s.%s: %s\n", db, coll_name, be.message);
        return 1;
    }
    size_t expected_live = 0, expected_deleted = 0, missing = 0, gone = 0;
    for (size_t i = 0; i < t.cap; i++) {
        expect *x = &t.e[i];
        if (!x->id) continue;
        if (x->deleted)
            expected_deleted++;
        else
            expected_live++;
        if (!x->found) {
            if (x->deleted) {
                gone++;
            } else {
                missing++;
                if (shown++ < 10)
                    fprintf(stderr, "crash_tool: %s: missing (expected version %" PRId64 ")\n",
                            x->id, x->version);
            }
        }
        free(x->id);
        free(x->name);
    }
    free(t.e);
    bool ok = !extra && !wrong_version && !wrong_deleted && !wrong_content && !missing;
    printf("verify=%s ids=%zu live=%zu deleted=%zu | docs=%zu live_ok=%zu tombstones_ok=%zu "
           "deleted_gone=%zu missing=%zu wrong_version=%zu wrong_deleted=%zu wrong_content=%zu "
           "extra=%zu\n",
           ok ? "ok" : "FAILED", t.n, expected_live, expected_deleted, docs, live_ok, tomb_ok,
           gone, missing, wrong_version, wrong_deleted, wrong_content, extra);
    mongoc_cursor_destroy(cur);
    bson_destroy(opts);
    bson_destroy(&filter);
    mongoc_collection_destroy(coll);
    mongoc_client_destroy(c);
    mongoc_uri_destroy(u);
    mongoc_cleanup();
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc == 7 && strcmp(argv[1], "produce") == 0) {
        char *end;
        double share = strtod(argv[5], &end);
        if (*end || share < 0 || share > 1) {
            fprintf(stderr, "crash_tool: HOLD_SHARE '%s' is not a number in 0..1\n", argv[5]);
            return 2;
        }
        return cmd_produce(argv[2], argv[3], argv[4], share, strtoull(argv[6], NULL, 10));
    }
    if (argc == 5 && strcmp(argv[1], "committed") == 0)
        return cmd_committed(argv[2], argv[3], argv[4]);
    if (argc == 6 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(argv[2], argv[3], argv[4], argv[5]);
    fprintf(stderr, "usage: crash_tool produce BOOTSTRAP TOPIC EVENTS.jsonl HOLD_SHARE SEED\n"
                    "       crash_tool committed BOOTSTRAP GROUP TOPIC\n"
                    "       crash_tool verify MONGO_URI DATABASE COLLECTION MANIFEST\n");
    return 2;
}
