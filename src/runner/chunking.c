/*
 * chunking.c -- the runner's steps for long texts (docs/architecture.md,
 * "Long texts: chunks"): cutting them in the decode step, embedding their
 * chunks (reusing the vectors of unchanged chunks), and writing each chunk
 * set after its parent, then removing the chunks of older versions.
 *
 * A record whose text fits one chunk has rec->chunks == NULL and goes
 * through the batch exactly as without chunking; only the clean-up below
 * looks at it (its id may have had chunks before).
 */
#include "runner/runner_internal.h"

#include "batch/record_chunks.h"
#include "common/buf.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* HTTP providers' default chunk size, in approximate tokens: below every
 * provider's limit, and a size retrieval works well with. */
#define RB_CHUNK_HTTP_DEFAULT_TOKENS 512

/* A test hook, for the crash test of tests/check_chunk_pipeline.c: with
 * this variable set to N > 0, the process kills itself (SIGKILL: no
 * clean-up, no commit) right after the server acknowledged its Nth chunk
 * document, so that a batch's chunk sets are left exactly part-written.
 * A real crash between two bulks of chunks leaves the same state; the
 * variable only makes where it lands deterministic.  Unset, it costs one
 * comparison per batch. */
#define RB_CHUNK_KILL_ENV "RAGBATCH_TEST_KILL_AFTER_CHUNK_WRITES"

static int read_kill_hook(rb_runner *r, rb_error *err) {
    const char *v = getenv(RB_CHUNK_KILL_ENV);
    if (!v || !v[0]) return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n == 0 || v[0] == '-')
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "%s = \"%s\": expected a number of chunk documents > 0 (a test "
                            "hook; unset it)",
                            RB_CHUNK_KILL_ENV, v);
    r->chunk_kill_after = n;
    rb_log_write(&r->log, RB_LOG_WARN, "chunking",
                 "test hook %s=%llu: this process kills itself after that many chunk writes",
                 RB_CHUNK_KILL_ENV, n);
    return 0;
}

/* The chunk collection as the runner builds it: a MongoDB sink like the
 * documents' on text.chunk.collection, with the index its clean-up and
 * search's look-ups by parent use. */
static int open_mongo_chunks(rb_runner *r, const rb_sink_opts *so, rb_error *err) {
    const rb_job_config *cfg = r->cfg;
    if (strcmp(r->chunk_collection, cfg->mongo_collection) == 0)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "text.chunk.collection = %s is mongo.collection: chunk ids "
                            "(<id>#<n>) could collide with document ids there",
                            r->chunk_collection);
    rb_sink_opts co = *so;
    co.collection = r->chunk_collection;
    co.tombstone_retention_ms = 0; /* chunks are never tombstones */
    rb_sink *mongo = rb_sink_new(&co, err);
    if (!mongo) return rb_error_prefix(err, "chunk collection");
    r->chunks = rb_sink_port_mongo(mongo);
    r->own_chunks = true;
    /* Serves the clean-up's {parent_id, version: {$lt}} where the server
     * uses indexes for filters, and search's look-ups by parent. */
    rb_buf cmd;
    rb_buf_init(&cmd);
    rb_buf_puts(&cmd, "{\"createIndexes\":");
    rb_buf_json_string(&cmd, r->chunk_collection, strlen(r->chunk_collection));
    rb_buf_puts(&cmd, ",\"indexes\":[{\"key\":{\"parent_id\":1,\"version\":1},"
                      "\"name\":\"parent_version\"}]}");
    int code = 0;
    int rc = cmd.data ? rb_sink_command_json(mongo, cmd.data, NULL, &code, err)
                      : rb_error_nomem(err, RB_STAGE_SINK, "index");
    rb_buf_free(&cmd);
    if (rc != 0) return rb_error_prefix(err, "creating index parent_version on %s", co.collection);
    return 0;
}

int rb_runner_chunking_open(rb_runner *r, const rb_sink_opts *so, rb_sink_port chunks,
                            rb_error *err) {
    const rb_job_config *cfg = r->cfg;
    if (!cfg->text_chunk_enable) return 0;
    size_t max_seq = 0;
    const rb_tokenizer *t = rb_embedder_tokenizer(r->embedder, &max_seq);
    /* Room for a chunk: the sequence less the special tokens around it
     * ([CLS] [SEP], <s> </s>) and the tokens of embed.prefix.document. */
    size_t around = t ? rb_tokenizer_special_count(t) : 0, pre = 0;
    const char *prefix = cfg->embed_prefix_document ? cfg->embed_prefix_document : "";
    if (t && *prefix && rb_tokenizer_count(t, prefix, strlen(prefix), &pre, err) != 0) return -1;
    size_t limit = t ? (max_seq > around + pre ? max_seq - around - pre : 1)
                     : RB_CHUNK_HTTP_DEFAULT_TOKENS;
    size_t max = cfg->text_chunk_max_tokens > 0 ? (size_t)cfg->text_chunk_max_tokens : limit;
    if (t && max > limit)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "text.chunk.max.tokens = %zu: the model takes %zu tokens besides "
                            "[CLS] and [SEP]%s, so every chunk would be truncated",
                            max, limit, pre ? " and the embed.prefix.document" : "");
    if ((size_t)cfg->text_chunk_overlap_tokens >= max)
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "text.chunk.overlap.tokens = %" PRId64
                            " must be less than the chunk size (%zu tokens)",
                            cfg->text_chunk_overlap_tokens, max);
    r->chunk_opts = (rb_chunk_opts){t, max, (size_t)cfg->text_chunk_overlap_tokens,
                                    (size_t)cfg->text_chunk_max_count};
    rb_buf name;
    rb_buf_init(&name);
    rb_chunk_collection_name(cfg->text_chunk_collection, cfg->mongo_collection, &name);
    r->chunk_collection = rb_buf_detach(&name);
    if (!r->chunk_collection) return rb_error_nomem(err, RB_STAGE_CONFIG, "chunk collection");
    if (read_kill_hook(r, err) != 0) return -1;
    if (chunks.ops) {
        /* The caller's chunk collection (rb_runner_ports.chunks). */
        if (!chunks.ops->remove_chunks)
            return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                                "text.chunk.enable = true: the chunk sink port '%s' has no "
                                "remove_chunks, so the chunks of older versions would stay",
                                chunks.ops->name);
        r->chunks = chunks;
    } else if (!r->own_sink) {
        /* Chunks in MongoDB beside documents somewhere else would be
         * neither replaced with them nor found by search: refused. */
        return rb_error_set(err, RB_ERR_CONFIG, RB_STAGE_CONFIG,
                            "text.chunk.enable = true with the caller's sink port '%s' but no "
                            "chunk sink port (rb_runner_ports.chunks): pass one, or set "
                            "text.chunk.enable = false to embed long texts truncated",
                            rb_sink_port_describe(r->sink));
    } else if (open_mongo_chunks(r, so, err) != 0) {
        return -1;
    }
    rb_log_kv(&r->log, RB_LOG_INFO, "chunking",
              RB_LOG_FIELDS(RB_LOG_S("collection", r->chunk_collection),
                            RB_LOG_S("sink", r->chunks.ops->name), RB_LOG_U("max_tokens", max),
                            RB_LOG_U("overlap_tokens", r->chunk_opts.overlap_tokens),
                            RB_LOG_U("max_count", r->chunk_opts.max_count),
                            RB_LOG_S("counts", t ? "tokenizer" : "approximate")),
              NULL);
    return 0;
}

void rb_runner_chunking_close(rb_runner *r) {
    if (r->own_chunks) rb_sink_port_destroy(r->chunks);
    r->chunks = (rb_sink_port){0};
    r->own_chunks = false;
    free(r->chunk_collection);
    r->chunk_collection = NULL;
}

/* ---- decode ------------------------------------------------------------ */

void rb_runner_chunk_record(const rb_runner *r, rb_record *rec) {
    if (!r->chunks.ops || rec->op != RB_OP_UPSERT || !rec->text || rec->state != RB_REC_PENDING)
        return;
    rb_error err;
    rb_chunk *spans = NULL;
    size_t n = 0;
    if (rb_chunk_split(&r->chunk_opts, rec->text, strlen(rec->text), &spans, &n, &err) != 0)
        goto fail;
    free(spans);
    spans = NULL;
    if (n == 1) return; /* fits: the document is stored as without chunking */
    /* Long: rendered again keeping its paragraph breaks, which the cuts
     * prefer (the tokens are the same). */
    rb_buf text;
    rb_buf_init(&text);
    if (rb_template_render_paragraphs(r->tpl, rb_json_doc_root(rec->event), &text, &err) != 0 ||
        rb_chunk_split(&r->chunk_opts, text.data ? text.data : "", text.len, &spans, &n, &err) !=
            0) {
        rb_buf_free(&text);
        goto fail;
    }
    rb_record_chunks *set =
        rb_record_chunks_new(rec->id, text.data ? text.data : "", spans, n, &err);
    free(spans);
    char *full = rb_buf_detach(&text);
    if (!set || !full) {
        rb_record_chunks_free(set);
        free(full);
        rb_record_fail(rec, RB_STAGE_TRANSFORM, false, "out of memory cutting the text");
        return;
    }
    free(rec->text);
    rec->text = full;
    rb_text_hash(full, strlen(full), rec->text_hash);
    rec->chunks = set;
    return;
fail:
    rb_record_fail(rec, RB_STAGE_TRANSFORM, r->tolerate && err.code != RB_ERR_NOMEM, "%s",
                   err.msg);
}

/* ---- embed ------------------------------------------------------------- */

typedef struct chunk_ref {
    const char *id;
    rb_record_chunk *chunk;
    float *vector;
} chunk_ref;

static int ref_by_id(const void *a, const void *b) {
    return strcmp(((const chunk_ref *)a)->id, ((const chunk_ref *)b)->id);
}

typedef struct reuse_ctx {
    chunk_ref *refs;
    size_t n;
    const char *model;
    size_t dim;
} reuse_ctx;

static int on_stored_chunk(const rb_sink_stored_view *v, void *arg) {
    reuse_ctx *c = arg;
    if (v->deleted || !v->text_hash || !v->model || !v->vector || v->dim != c->dim ||
        strcmp(v->model, c->model) != 0)
        return 0;
    chunk_ref key = {v->id, NULL, NULL};
    chunk_ref *hit = bsearch(&key, c->refs, c->n, sizeof *c->refs, ref_by_id);
    if (!hit) return 0;
    while (hit > c->refs && strcmp(hit[-1].id, v->id) == 0) hit--;
    for (; hit < c->refs + c->n && strcmp(hit->id, v->id) == 0; hit++) {
        if (strcmp(hit->chunk->text_hash, v->text_hash) != 0) continue;
        memcpy(hit->vector, v->vector, c->dim * sizeof(float));
        hit->chunk->reused = true;
    }
    return 0;
}

long rb_runner_chunks_embed(rb_runner *r, rb_batch *b, size_t *n_chunks, size_t *n_reused,
                            rb_error *err) {
    *n_chunks = *n_reused = 0;
    if (!r->chunks.ops) return 0;
    size_t n = rb_batch_count(b), total = 0, dim = rb_embedder_dim(r->embedder);
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state != RB_REC_PENDING || rec->op != RB_OP_UPSERT || !rec->chunks) continue;
        if (rb_record_chunks_alloc_vectors(rec->chunks, dim, err) != 0) return -1;
        total += rec->chunks->n;
    }
    if (total == 0) return 0;
    chunk_ref *refs = malloc(total * sizeof *refs);
    const char **texts = malloc(total * sizeof *texts);
    float *computed = malloc(total * dim * sizeof *computed);
    if (!refs || !texts || !computed) {
        free(refs);
        free(texts);
        free(computed);
        return rb_error_nomem(err, RB_STAGE_EMBED, "chunks");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state != RB_REC_PENDING || rec->op != RB_OP_UPSERT || !rec->chunks) continue;
        for (size_t j = 0; j < rec->chunks->n; j++) {
            rec->chunks->items[j].reused = false;
            refs[k++] = (chunk_ref){rec->chunks->items[j].id, &rec->chunks->items[j],
                                    rec->chunks->vectors + j * dim};
        }
    }
    if (r->cfg->embed_reuse_unchanged) {
        /* One read of the stored chunks by _id: an unchanged chunk keeps
         * its vector, so an edit of one paragraph embeds only its chunks. */
        qsort(refs, total, sizeof *refs, ref_by_id);
        const char **ids = texts; /* borrowed as the id list for the read */
        for (size_t i = 0; i < total; i++) ids[i] = refs[i].id;
        reuse_ctx c = {refs, total, rb_embedder_model_name(r->embedder), dim};
        rb_error rerr;
        if (rb_sink_port_read_stored(r->chunks, ids, total, RB_SINK_READ_VECTORS, on_stored_chunk,
                                     &c, &rerr) != 0) {
            for (size_t i = 0; i < total; i++) refs[i].chunk->reused = false;
            rb_log_kv(&r->log, RB_LOG_WARN, "lookup",
                      RB_LOG_FIELDS(RB_LOG_S("error.message", rerr.msg)),
                      "stored chunks not read");
        }
    }
    size_t todo = 0;
    for (size_t i = 0; i < total; i++)
        if (!refs[i].chunk->reused) texts[todo++] = refs[i].chunk->text;
    rb_error eerr;
    int rc = todo ? rb_embedder_embed(r->embedder, texts, todo, computed, &eerr) : 0;
    if (rc == 0) {
        for (size_t i = 0, t = 0; i < total; i++)
            if (!refs[i].chunk->reused)
                memcpy(refs[i].vector, computed + (t++) * dim, dim * sizeof(float));
        *n_chunks = total;
        *n_reused = total - todo;
    }
    free(refs);
    free(texts);
    free(computed);
    if (rc == 0) return (long)todo;
    *err = eerr;
    if (rb_runner_abandoning(r)) return -1; /* cancelled: the records stay pending */
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state == RB_REC_PENDING && rec->op == RB_OP_UPSERT && rec->chunks)
            rb_record_fail(rec, RB_STAGE_EMBED, r->tolerate, "embedding its chunks: %s", eerr.msg);
    }
    if (r->tolerate) return 0;
    return rb_error_prefix(err, "embedding the chunks of batch %" PRIu64, rb_batch_id(b));
}

/* ---- write ------------------------------------------------------------- */

void rb_runner_chunk_parent_item(const rb_record *rec, rb_sink_item *it) {
    if (!rec->chunks || it->kind != RB_SINK_UPSERT) return;
    it->chunk_count = rec->chunks->n;
    it->vector = NULL;
    it->dim = 0;
}

typedef struct version_ctx {
    rb_sink_item *items;
    rb_record *const *map;
    size_t n;
    bool *complete; /* per item: the stored parent is this very version */
} version_ctx;

static int on_parent_version(const rb_sink_stored_view *v, void *arg) {
    version_ctx *c = arg;
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i].result == RB_SINK_STALE && c->map[i]->chunks &&
            strcmp(c->items[i].id, v->id) == 0 && !v->deleted && v->version == c->items[i].version)
            c->complete[i] = true;
    return 0;
}

/* Which parents get their chunk set written: every one just stored, and a
 * stale one whose stored version is its own (a replay, or a retry, after
 * the parent was written but before all its chunks were). */
static int plan_sets(rb_runner *r, rb_sink_item *items, rb_record *const *map, size_t n,
                     bool *write, rb_error *err) {
    size_t stale = 0;
    for (size_t i = 0; i < n; i++) {
        write[i] = items[i].kind == RB_SINK_UPSERT && map[i]->chunks &&
                   items[i].result == RB_SINK_STORED;
        stale += items[i].kind == RB_SINK_UPSERT && map[i]->chunks &&
                 items[i].result == RB_SINK_STALE;
    }
    if (stale == 0) return 0;
    const char **ids = malloc(stale * sizeof *ids);
    if (!ids) return rb_error_nomem(err, RB_STAGE_SINK, "chunk sets");
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (items[i].kind == RB_SINK_UPSERT && map[i]->chunks && items[i].result == RB_SINK_STALE)
            ids[k++] = items[i].id;
    version_ctx c = {items, map, n, write};
    int rc = rb_sink_port_read_stored(r->sink, ids, k, 0, on_parent_version, &c, err);
    free(ids);
    return rc;
}

static int write_sets(rb_runner *r, rb_sink_item *items, rb_record *const *map, size_t n,
                      const bool *write, rb_error *err) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (write[i]) total += map[i]->chunks->n;
    if (total == 0) return 0;
    rb_sink_item *ci = calloc(total, sizeof *ci);
    rb_sink_chunk_ref *refs = calloc(total, sizeof *refs);
    size_t *owner = malloc(total * sizeof *owner);
    if (!ci || !refs || !owner) {
        free(ci);
        free(refs);
        free(owner);
        return rb_error_nomem(err, RB_STAGE_SINK, "chunk documents");
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!write[i]) continue;
        const rb_record_chunks *set = map[i]->chunks;
        const rb_sink_item *p = &items[i];
        for (size_t j = 0; j < set->n; j++, k++) {
            const rb_record_chunk *c = &set->items[j];
            refs[k] =
                (rb_sink_chunk_ref){p->id,         j, set->n, c->span.char_start, c->span.char_end,
                                    c->span.tokens};
            ci[k] = (rb_sink_item){
                .kind = RB_SINK_UPSERT,
                .id = c->id,
                .version = p->version,
                .event_time_ms = p->event_time_ms,
                .text = c->text,
                .text_hash = c->text_hash,
                .vector = set->vectors + j * set->dim,
                .dim = set->dim,
                .model = p->model,
                .metadata = p->metadata,
                .n_metadata = p->n_metadata,
                .topic = p->topic,
                .partition = p->partition,
                .offset = p->offset,
                .chunk = &refs[k],
            };
            owner[k] = i;
        }
    }
    size_t send = total;
    bool kill = false;
    if (r->chunk_kill_after && r->chunk_docs_written + total >= r->chunk_kill_after) {
        send = (size_t)(r->chunk_kill_after - r->chunk_docs_written);
        kill = true;
    }
    int rc = rb_sink_port_write(r->chunks, ci, send, err);
    if (kill && rc == 0) {
        rb_log_write(&r->log, RB_LOG_WARN, "chunking",
                     "test hook: killed after %zu of %zu chunk "
                     "documents of this write",
                     send, total);
        raise(SIGKILL);
    }
    if (rc == 0) r->chunk_docs_written += total;
    for (size_t c = 0; rc == 0 && c < total; c++) {
        r->chunks_written += ci[c].result == RB_SINK_STORED;
        if (ci[c].result != RB_SINK_FAILED) continue;
        rb_sink_item *p = &items[owner[c]];
        if (p->result == RB_SINK_FAILED) continue;
        p->result = RB_SINK_FAILED;
        snprintf(p->error, sizeof p->error, "chunk %zu of %zu: %s", ci[c].chunk->index,
                 ci[c].chunk->count, ci[c].error);
    }
    free(ci);
    free(refs);
    free(owner);
    return rc;
}

/* Removes every chunk of an older version than the item's (all of them
 * for a hard delete): what is left of an id is the chunk set of its stored
 * version, or nothing.  Safe for stale items too: a chunk older than the
 * event is older than the stored parent. */
static int cleanup(rb_runner *r, const rb_sink_item *items, size_t n, rb_error *err) {
    rb_sink_chunk_clean *c = malloc((n ? n : 1) * sizeof *c);
    if (!c) return rb_error_nomem(err, RB_STAGE_SINK, "chunk clean-up");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const rb_sink_item *it = &items[i];
        bool hard = it->kind == RB_SINK_HARD_DELETE && it->result == RB_SINK_DELETED;
        bool versioned = it->kind != RB_SINK_HARD_DELETE &&
                         (it->result == RB_SINK_STORED || it->result == RB_SINK_STALE);
        if (hard || versioned) c[k++] = (rb_sink_chunk_clean){it->id, hard, it->version};
    }
    size_t removed = 0;
    int rc = k ? rb_sink_port_remove_chunks(r->chunks, c, k, &removed, err) : 0;
    r->chunks_removed += removed;
    free(c);
    return rc;
}

int rb_runner_chunks_write(rb_runner *r, rb_sink_item *items, rb_record *const *map, size_t n,
                           rb_error *err) {
    if (!r->chunks.ops || n == 0) return 0;
    bool *write = calloc(n, sizeof *write);
    if (!write) return rb_error_nomem(err, RB_STAGE_SINK, "chunk sets");
    int rc = plan_sets(r, items, map, n, write, err);
    if (rc == 0) rc = write_sets(r, items, map, n, write, err);
    if (rc == 0) rc = cleanup(r, items, n, err);
    free(write);
    return rc ? rb_error_prefix(err, "chunk collection %s", r->chunk_collection) : 0;
}
