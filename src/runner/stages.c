/*
 * stages.c -- the steps of one batch, in the order the runner calls them:
 * decode, supersede, embed, write.  Each step settles the records it
 * finishes with (batch/record.h: the lifecycle); whatever is still open
 * (PENDING, UNCHANGED) moves on to the next.
 */
#include "runner/runner_internal.h"

#include "common/backoff.h"
#include "common/buf.h"
#include "common/clock.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- decode: parse, validate, derive ---------------------------------- */

/* The JSON form of a key in the Avro wire format into `out`; a key that is
 * not a frame leaves `out` empty (the key is read as it is). */
static int avro_key(const rb_runner *r, const rb_record *rec, rb_buf *out, rb_error *err) {
    rb_registry_frame kf;
    if (!rec->key || !r->registry) return 0;
    if (rb_registry_read_frame(r->registry, rec->key, rec->key_len, &kf, err) != 0) return -1;
    if (!kf.avro) return 0;
    return rb_avro_to_json(kf.avro, kf.payload, kf.payload_len, out, err);
}

static void decode_tombstone(const rb_runner *r, rb_record *rec) {
    if (!rec->key || rec->key_len == 0) {
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate,
                       "a tombstone (null value) without a key: there is no document to delete");
        return;
    }
    /* The key names the document as the format's events do (decode.h);
     * an Avro key (the tombstone Debezium sends after a delete, with
     * AvroConverter keys) as its JSON form. */
    rb_error err;
    rb_buf key_text;
    rb_buf_init(&key_text);
    if (avro_key(r, rec, &key_text, &err) != 0) {
        rb_buf_free(&key_text);
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate && !err.retriable,
                       "tombstone key: %s%s", err.msg,
                       err.retriable ? " (schema registry unavailable: not dead-lettered)" : "");
        return;
    }
    const char *key = key_text.data ? key_text.data : rec->key;
    size_t key_len = key_text.data ? key_text.len : rec->key_len;
    int rc = rb_decode_key_id(&r->decode, key, key_len, true, &rec->id, &err);
    rb_buf_free(&key_text);
    if (rc != 0) {
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate && err.code != RB_ERR_NOMEM,
                       "tombstone: %s", err.msg);
        return;
    }
    rec->op = RB_OP_HARD_DELETE;
}

/* Whether the frame (or its absence) is what source.value.format reads;
 * fails the record when it is not. */
static bool frame_mismatch(const rb_runner *r, rb_record *rec, const rb_registry_frame *fr) {
    rb_value_format f = r->decode.format;
    if (f == RB_FORMAT_AVRO && !fr->framed) {
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate,
                       "not in the Avro wire format (source.value.format = avro): the value "
                       "starts with byte 0x%02x, not the magic byte 0x00",
                       rec->value_len ? (unsigned char)rec->value[0] : 0u);
        return true;
    }
    if (f == RB_FORMAT_AVRO && fr->json) {
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate,
                       "schema registry id %u is a JSON Schema, not an Avro schema "
                       "(source.value.format = avro; auto reads both)",
                       (unsigned)fr->id);
        return true;
    }
    if (fr->avro && (f == RB_FORMAT_JSON || f == RB_FORMAT_CONNECT_JSON)) {
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate,
                       "the value is Avro (schema registry id %u) but source.value.format = %s; "
                       "set it to avro (or auto)",
                       (unsigned)fr->id, f == RB_FORMAT_JSON ? "json" : "connect-json");
        return true;
    }
    return false;
}

static void decode_record(const rb_runner *r, rb_record *rec) {
    rb_error err;
    if (!rec->value) {
        decode_tombstone(r, rec);
        return;
    }
    if ((int64_t)rec->value_len > r->cfg->max_message_bytes) {
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate,
                       "the value is %zu bytes, over max.message.bytes (%" PRId64 ")",
                       rec->value_len, r->cfg->max_message_bytes);
        return;
    }
    /* Values framed in the Schema Registry wire format carry the id of
     * their schema; plain values pass through with the job's schema. */
    rb_registry_frame fr;
    if (rb_registry_read_frame(r->registry, rec->value, rec->value_len, &fr, &err) != 0) {
        /* A registry that does not answer says nothing about the record:
         * such a failure stops the job without committing, whatever the
         * tolerance, and the record is read again on restart. */
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate && !err.retriable, "%s%s", err.msg,
                       err.retriable ? " (schema registry unavailable: not dead-lettered)" : "");
        return;
    }
    if (frame_mismatch(r, rec, &fr)) return;
    /* An Avro value's key is often Avro too (Connect's AvroConverter for
     * keys): its JSON form is the key the id rules read.  A JSON value's
     * key is read as it is, as before. */
    const char *key = rec->key;
    size_t key_len = rec->key_len;
    rb_buf key_text;
    rb_buf_init(&key_text);
    if (fr.avro && avro_key(r, rec, &key_text, &err) != 0) {
        rb_buf_free(&key_text);
        rb_record_fail(rec, RB_STAGE_DESERIALIZE, r->tolerate && !err.retriable, "key: %s%s",
                       err.msg,
                       err.retriable ? " (schema registry unavailable: not dead-lettered)" : "");
        return;
    }
    if (key_text.data) {
        key = key_text.data;
        key_len = key_text.len;
    }
    /* The format (Connect's envelope, a Debezium change event, Avro) gives
     * the row and what is known outside it: its operation, version, id. */
    rb_decoded d;
    int rc = fr.avro
                 ? rb_decode_avro(&r->decode, fr.avro, fr.payload, fr.payload_len, key, key_len,
                                  &d, &err)
                 : rb_decode_value(&r->decode, fr.payload, fr.payload_len, key, key_len, &d, &err);
    rb_buf_free(&key_text);
    if (rc != 0) {
        rb_record_fail(rec,
                       err.stage == RB_STAGE_TRANSFORM ? RB_STAGE_TRANSFORM : RB_STAGE_DESERIALIZE,
                       r->tolerate, "%s", err.msg);
        return;
    }
    rec->event = d.doc;
    d.doc = NULL;
    const rb_json *event = d.row;
    /* A JSON Schema frame is validated by its own schema; an Avro one (its
     * schema says only what the writer wrote) and a plain value by the job's. */
    const rb_schema *schema = fr.json ? fr.json : r->schema;
    /* A delete's "before" may hold only the key columns: not validated. */
    if (schema && !d.is_delete &&
        rb_schema_validate(schema, event, rec->fail_path, sizeof rec->fail_path, &err) != 0) {
        rb_decoded_free(&d);
        rb_record_fail(rec, RB_STAGE_VALIDATE, r->tolerate, "%s", err.msg);
        return;
    }
    rb_document_given given = {.id = d.id,
                               .has_op = d.is_change,
                               .is_delete = d.is_delete,
                               .has_version = d.has_version,
                               .version = d.version,
                               .event_time_ms = d.event_time_ms};
    d.id = NULL;
    rb_decoded_free(&d);
    rb_document_fields f;
    if (rb_document_derive_given(&r->spec, event, &given, &f, &err) != 0) {
        rb_record_fail(rec, RB_STAGE_TRANSFORM, r->tolerate, "%s", err.msg);
        return;
    }
    rec->id = f.id;
    rec->text = f.text;
    rec->version = f.version;
    rec->event_time_ms = f.event_time_ms;
    rec->op = f.is_delete ? RB_OP_SOFT_DELETE : RB_OP_UPSERT;
    memcpy(rec->text_hash, f.text_hash, sizeof rec->text_hash);
    rb_runner_chunk_record(r, rec);
}

size_t rb_runner_decode(rb_runner *r, rb_batch *b) {
    long n = (long)rb_batch_count(b);
    size_t left = 0;
    /* Records are independent and the schema and template are read-only,
     * so this is a plain parallel loop; small batches stay serial.  A stop
     * request is seen between records: a large batch of large values is
     * then not decoded to the end only to be abandoned. */
#pragma omp parallel for schedule(dynamic, 16) if (n >= 64) reduction(+ : left)
    for (long i = 0; i < n; i++) {
        if (r->opts->stop && *r->opts->stop) {
            left++;
            continue;
        }
        decode_record(r, rb_batch_record(b, (size_t)i));
    }
    return left;
}

/* ---- supersede: one write per document per batch ---------------------- */

static int by_id_then_position(const void *pa, const void *pb) {
    const rb_record *a = *(const rb_record *const *)pa;
    const rb_record *b = *(const rb_record *const *)pb;
    int c = strcmp(a->id, b->id);
    if (c) return c;
    if (a->partition != b->partition) return a->partition < b->partition ? -1 : 1;
    return a->offset < b->offset ? -1 : a->offset > b->offset;
}

void rb_runner_supersede(rb_batch *b) {
    size_t n = rb_batch_count(b), live = 0;
    rb_record **recs = malloc((n ? n : 1) * sizeof *recs);
    if (!recs) return; /* without the pass, every record is still written: slower, not wrong */
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state == RB_REC_PENDING) recs[live++] = rec;
    }
    qsort(recs, live, sizeof *recs, by_id_then_position);
    for (size_t start = 0; start < live;) {
        size_t end = start + 1;
        while (end < live && strcmp(recs[end]->id, recs[start]->id) == 0) end++;
        /* A Kafka tombstone forgets everything before it in the log. */
        size_t from = start;
        for (size_t i = start; i < end; i++)
            if (recs[i]->op == RB_OP_HARD_DELETE) from = i;
        for (size_t i = start; i < from; i++) rb_record_settle(recs[i], RB_REC_STALE);
        /* After it, the highest version wins; on a tie, the later record. */
        size_t first = recs[from]->op == RB_OP_HARD_DELETE ? from + 1 : from;
        size_t winner = end;
        for (size_t i = first; i < end; i++)
            if (winner == end || recs[i]->version >= recs[winner]->version) winner = i;
        for (size_t i = first; i < end; i++)
            if (i != winner) rb_record_settle(recs[i], RB_REC_STALE);
        start = end;
    }
    free(recs);
}

/* ---- lookup: one read of what is stored for the batch's ids ----------- */

static int by_id(const void *a, const void *b) {
    return strcmp((*(rb_record *const *)a)->id, (*(rb_record *const *)b)->id);
}

static int known_by_id(const void *key, const void *elem) {
    return strcmp(key, ((const rb_runner_known *)elem)->id);
}

typedef struct lookup_ctx {
    rb_runner *r;
    rb_record **sorted; /* pending upserts and soft deletes, by id */
    size_t n;
    bool reuse;
} lookup_ctx;

static int on_stored(const rb_sink_stored_view *v, void *arg) {
    lookup_ctx *c = arg;
    rb_runner_known *k =
        bsearch(v->id, c->r->known, c->r->n_known, sizeof *c->r->known, known_by_id);
    if (k) {
        k->known = RB_SINK_KNOWN_PRESENT;
        k->version = v->version;
    }
    size_t dim = rb_embedder_dim(c->r->embedder);
    if (!c->reuse || v->deleted || !v->text_hash || !v->model || v->dim != dim ||
        strcmp(v->model, rb_embedder_model_name(c->r->embedder)) != 0)
        return 0;
    /* Several records of one id may be pending (the sink orders them). */
    rb_record key = {.id = (char *)v->id}, *kp = &key;
    rb_record **hit = bsearch(&kp, c->sorted, c->n, sizeof *c->sorted, by_id);
    if (!hit) return 0;
    while (hit > c->sorted && strcmp(hit[-1]->id, v->id) == 0) hit--;
    for (; hit < c->sorted + c->n && strcmp((*hit)->id, v->id) == 0; hit++) {
        rb_record *rec = *hit;
        if (rec->op != RB_OP_UPSERT || strcmp(rec->text_hash, v->text_hash) != 0) continue;
        if (rec->state != RB_REC_PENDING) continue;
        memcpy(c->r->vectors + rec->vector_row * dim, v->vector, dim * sizeof(float));
        rb_record_settle(rec, RB_REC_UNCHANGED);
    }
    return 0;
}

/* Rows for every pending upsert, and after them a scratch area for the
 * vectors the embedder computes. */
static int assign_rows(rb_runner *r, rb_batch *b) {
    size_t n = rb_batch_count(b), count = 0;
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state == RB_REC_PENDING && rec->op == RB_OP_UPSERT) rec->vector_row = count++;
    }
    size_t dim = rb_embedder_dim(r->embedder);
    if (r->vectors_rows < 2 * count) {
        float *grown = realloc(r->vectors, 2 * count * dim * sizeof *grown);
        if (!grown) return -1;
        r->vectors = grown;
        r->vectors_rows = 2 * count;
    }
    return 0;
}

/* Fills `sorted` (room for 2n) with the records whose ids are read, by id,
 * `ids` with those ids once each, and r->known with one entry per id whose
 * version goes to the sink (ABSENT until the read finds it).  An id with a
 * pending hard delete gets no entry: the delete is written before the
 * upserts, so what the read finds is not what the sink will meet. */
static void plan_lookup(rb_runner *r, rb_batch *b, bool versions, rb_record **sorted,
                        size_t *n_sorted, const char **ids, size_t *n_ids) {
    size_t n = rb_batch_count(b), count = 0, nids = 0, ndel = 0;
    rb_record **dels = sorted + n;
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rec->state != RB_REC_PENDING) continue;
        if (rec->op == RB_OP_HARD_DELETE)
            dels[ndel++] = rec;
        else if (rec->op == RB_OP_UPSERT || (versions && rec->op == RB_OP_SOFT_DELETE))
            sorted[count++] = rec;
    }
    qsort(sorted, count, sizeof *sorted, by_id);
    qsort(dels, ndel, sizeof *dels, by_id);
    r->n_known = 0;
    for (size_t i = 0; i < count; i++) {
        if (i > 0 && strcmp(sorted[i]->id, sorted[i - 1]->id) == 0) continue;
        ids[nids++] = sorted[i]->id;
        if (versions && !bsearch(&sorted[i], dels, ndel, sizeof *dels, by_id))
            r->known[r->n_known++] = (rb_runner_known){sorted[i]->id, RB_SINK_KNOWN_ABSENT, 0};
    }
    *n_sorted = count;
    *n_ids = nids;
}

void rb_runner_lookup(rb_runner *r, rb_batch *b) {
    size_t n = rb_batch_count(b);
    r->n_known = 0;
    if (assign_rows(r, b) != 0) return; /* rb_runner_embed fails the batch for it */
    bool reuse = r->cfg->embed_reuse_unchanged, versions = rb_sink_port_needs_versions(r->sink);
    if (n == 0 || (!reuse && !rb_sink_port_read_pays(r->sink))) return;
    if (r->known_cap < n) {
        rb_runner_known *grown = realloc(r->known, n * sizeof *grown);
        if (!grown) return; /* without the read: embedded, and the sink reads */
        r->known = grown;
        r->known_cap = n;
    }
    rb_record **sorted = malloc(2 * n * sizeof *sorted);
    const char **ids = malloc(n * sizeof *ids);
    size_t n_ids = 0;
    lookup_ctx c = {r, sorted, 0, reuse};
    if (sorted && ids) plan_lookup(r, b, versions, sorted, &c.n, ids, &n_ids);
    rb_error err;
    if (n_ids && rb_sink_port_read_stored(r->sink, ids, n_ids, reuse ? RB_SINK_READ_VECTORS : 0,
                                          on_stored, &c, &err) != 0) {
        r->n_known = 0;
        /* Its vectors may be partial: embed every text instead. */
        for (size_t i = 0; i < n; i++) {
            rb_record *rec = rb_batch_record(b, i);
            if (rec->state == RB_REC_UNCHANGED) rb_record_settle(rec, RB_REC_PENDING);
        }
        rb_log_kv(&r->log, RB_LOG_WARN, "lookup",
                  RB_LOG_FIELDS(RB_LOG_S("error.message", err.msg)), "stored documents not read");
    }
    free(sorted);
    free(ids);
}

/* What the lookup found for `id`, for the sink; UNKNOWN when it did not
 * read it. */
static void known_of(const rb_runner *r, const char *id, rb_sink_item *it) {
    const rb_runner_known *k =
        r->n_known ? bsearch(id, r->known, r->n_known, sizeof *r->known, known_by_id) : NULL;
    it->known = k ? k->known : RB_SINK_UNKNOWN;
    it->known_version = k ? k->version : 0;
}

/* ---- embed ------------------------------------------------------------ */

long rb_runner_embed(rb_runner *r, rb_batch *b, rb_error *err) {
    size_t n = rb_batch_count(b), count = 0;
    rb_record **recs = malloc((n ? n : 1) * sizeof *recs);
    if (!recs) return rb_error_nomem(err, RB_STAGE_EMBED, "records");
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (rb_record_state_open(rec->state) && rec->op == RB_OP_UPSERT && !rec->chunks)
            recs[count++] = rec; /* chunked texts: rb_runner_chunks_embed */
    }
    if (count == 0) {
        free(recs);
        return 0;
    }
    size_t dim = rb_embedder_dim(r->embedder);
    if (r->vectors_rows < 2 * count) { /* rb_runner_lookup could not grow them */
        free(recs);
        return rb_error_nomem(err, RB_STAGE_EMBED, "vectors");
    }
    if (r->texts_cap < count) {
        const char **grown = realloc(r->texts, count * sizeof *grown);
        if (!grown) {
            free(recs);
            return rb_error_nomem(err, RB_STAGE_EMBED, "texts");
        }
        r->texts = grown;
        r->texts_cap = count;
    }
    size_t todo = 0;
    for (size_t i = 0; i < count; i++)
        if (recs[i]->state == RB_REC_PENDING) r->texts[todo++] = recs[i]->text;
    float *computed = r->vectors + count * dim;
    rb_error eerr;
    if (todo == 0 || rb_embedder_embed(r->embedder, r->texts, todo, computed, &eerr) == 0) {
        for (size_t i = 0, k = 0; i < count; i++)
            if (recs[i]->state == RB_REC_PENDING)
                memcpy(r->vectors + recs[i]->vector_row * dim, computed + (k++) * dim,
                       dim * sizeof(float));
        free(recs);
        return (long)todo;
    }
    if (rb_runner_abandoning(r)) {
        /* Cancelled: the records are not at fault and stay pending. */
        free(recs);
        *err = eerr;
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        if (recs[i]->state == RB_REC_PENDING)
            rb_record_fail(recs[i], RB_STAGE_EMBED, r->tolerate, "%s", eerr.msg);
    free(recs);
    if (r->tolerate) return 0;
    *err = eerr;
    return rb_error_prefix(err, "embedding batch %" PRIu64, rb_batch_id(b));
}

/* ---- write ------------------------------------------------------------ */

static int ensure_items(rb_runner *r, size_t n, size_t n_meta, rb_error *err) {
    if (r->items_cap < n) {
        rb_sink_item *grown = realloc(r->items, n * sizeof *grown);
        if (!grown) return rb_error_nomem(err, RB_STAGE_SINK, "sink items");
        r->items = grown;
        r->items_cap = n;
    }
    if (r->meta_cap < n * n_meta) {
        rb_sink_meta *grown = realloc(r->meta, n * n_meta * sizeof *grown);
        if (!grown) return rb_error_nomem(err, RB_STAGE_SINK, "metadata");
        r->meta = grown;
        r->meta_cap = n * n_meta;
    }
    return 0;
}

static void fill_item(rb_runner *r, const rb_record *rec, rb_sink_item *it, rb_sink_meta *meta) {
    memset(it, 0, sizeof *it);
    it->id = rec->id;
    it->version = rec->version;
    it->event_time_ms = rec->event_time_ms;
    it->topic = rec->topic;
    it->partition = rec->partition;
    it->offset = rec->offset;
    known_of(r, rec->id, it);
    switch (rec->op) {
    case RB_OP_HARD_DELETE: it->kind = RB_SINK_HARD_DELETE; return;
    case RB_OP_SOFT_DELETE: it->kind = RB_SINK_SOFT_DELETE; return;
    case RB_OP_UPSERT: break;
    }
    it->kind = RB_SINK_UPSERT;
    it->text = rec->text;
    it->text_hash = rec->text_hash;
    it->dim = rb_embedder_dim(r->embedder);
    it->vector = r->vectors + rec->vector_row * it->dim;
    it->model = rb_embedder_model_name(r->embedder);
    const rb_json *event = rb_json_doc_root(rec->event);
    const rb_strlist *fields = &r->cfg->metadata_fields;
    for (size_t f = 0; f < fields->count; f++) {
        const rb_json *v = rb_json_get_path(event, fields->items[f]);
        if (!v) continue;
        meta[it->n_metadata].name = fields->items[f];
        meta[it->n_metadata].value = v;
        it->n_metadata++;
    }
    it->metadata = meta;
    rb_runner_chunk_parent_item(rec, it);
}

/* Waits `ms` in short slices so that an abandon is seen, polling the
 * (held) consumer meanwhile so that the group keeps this member. */
static int backoff_wait(rb_runner *r, int64_t ms, rb_error *err) {
    int64_t until = rb_now_ms() + ms;
    while (!rb_runner_abandoning(r)) {
        rb_runner_refresh_lag(r, false);
        int64_t left = until - rb_now_ms();
        if (left <= 0) break;
        if (rb_runner_source_hold_serve(r->source, (int)(left < 100 ? left : 100), err) != 0)
            return -1;
    }
    return 0;
}

/* One attempt of a step that may be retried: the sink's bulk write or the
 * DLQ's delivery. */
typedef int (*attempt_fn)(rb_runner *r, void *arg, rb_error *err);

/* Calls `attempt` until it succeeds, fails for good, sink.retry.timeout.ms
 * passes, or the batch is abandoned (a stop alone does not end the
 * retries: the batch gets the shutdown budget to finish); waits with
 * jittered exponential backoff in between.  Nothing of the batch is
 * committed meanwhile.  From the first retry on, the consumer is held
 * (rb_source_hold): its partitions paused, and polled through every wait,
 * so that a slow MongoDB or DLQ does not make the group evict this member
 * after max.poll.interval.ms.  One attempt must stay shorter than that
 * (mongo.timeout.ms bounds a write). */
static int with_retry(rb_runner *r, attempt_fn attempt, void *arg, const char *what,
                      size_t *retries, rb_error *err) {
    const rb_job_config *cfg = r->cfg;
    int64_t started = rb_now_ms();
    bool held = false;
    int rc;
    for (int attempts = 0;; attempts++) {
        if (attempts > 0 && rb_runner_abandoning(r)) {
            rc = rb_error_prefix(err, "abandoned while retrying (shutdown.timeout.ms)");
            break;
        }
        if ((rc = attempt(r, arg, err)) == 0 || !err->retriable) break;
        int64_t waited = rb_now_ms() - started;
        if (cfg->sink_retry_timeout_ms >= 0 && waited >= cfg->sink_retry_timeout_ms) {
            rc = rb_error_prefix(err,
                                 "gave up writing after %" PRId64
                                 " ms (sink.retry.timeout.ms); nothing of this batch "
                                 "was committed",
                                 waited);
            break;
        }
        rb_error herr;
        if (!held && rb_runner_source_hold(r->source, &herr) == 0)
            held = true;
        else if (!held)
            rb_log_kv(&r->log, RB_LOG_WARN, what,
                      RB_LOG_FIELDS(RB_LOG_S("error.message", herr.msg)),
                      "the consumer is not polled while retrying");
        int64_t wait = rb_backoff_wait_ms(cfg->sink_retry_backoff_ms,
                                          cfg->sink_retry_backoff_max_ms, attempts + 1, &r->rng);
        rb_log_kv(&r->log, RB_LOG_WARN, what,
                  RB_LOG_FIELDS(RB_LOG_U("retry", *retries + 1), RB_LOG_I("wait_ms", wait),
                                RB_LOG_S("error.message", err->msg)),
                  NULL);
        if ((rc = backoff_wait(r, wait, &herr)) != 0) {
            *err = herr;
            break;
        }
        (*retries)++;
    }
    rb_error rerr;
    if (held && rb_runner_source_release(r->source, &rerr) != 0) {
        /* Without the seek back the next batch could skip records. */
        if (rc == 0) {
            *err = rerr;
            rc = -1;
        } else {
            rb_log_kv(&r->log, RB_LOG_ERROR, what,
                      RB_LOG_FIELDS(RB_LOG_S("error.message", rerr.msg)), NULL);
        }
    }
    return rc;
}

typedef struct write_args {
    rb_sink_item *items;
    rb_record **map; /* the record of each item */
    size_t n;
} write_args;

static int attempt_write(rb_runner *r, void *arg, rb_error *err) {
    write_args *w = arg;
    int rc = rb_sink_port_write(r->sink, w->items, w->n, err);
    if (rc == 0) rc = rb_runner_chunks_write(r, w->items, w->map, w->n, err);
    /* What the write learnt of MongoDB is what /readyz reports. */
    rb_readiness_set(r->ready, "mongodb", rc == 0 || !err->retriable, rc == 0 ? NULL : err->msg);
    return rc;
}

/* Writes the pending records of one phase: hard deletes first, then the
 * rest, so that a tombstone followed by a new event of the same id in one
 * batch applies in log order (an unordered bulk has no order). */
static int write_phase(rb_runner *r, rb_batch *b, bool hard_deletes, size_t *retries,
                       rb_error *err) {
    size_t n = rb_batch_count(b), n_meta = r->cfg->metadata_fields.count;
    if (ensure_items(r, n, n_meta ? n_meta : 1, err) != 0) return -1;
    size_t count = 0;
    rb_record **map = malloc((n ? n : 1) * sizeof *map);
    if (!map) return rb_error_nomem(err, RB_STAGE_SINK, "write map");
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if (!rb_record_state_open(rec->state) || (rec->op == RB_OP_HARD_DELETE) != hard_deletes)
            continue;
        fill_item(r, rec, &r->items[count], r->meta + count * n_meta);
        map[count++] = rec;
    }
    write_args w = {r->items, map, count};
    int rc = count ? with_retry(r, attempt_write, &w, "sink_retry", retries, err) : 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const rb_sink_item *it = &r->items[i];
        switch (it->result) {
        case RB_SINK_STORED:
            rb_record_settle(map[i], it->kind == RB_SINK_SOFT_DELETE     ? RB_REC_DELETED
                                     : map[i]->state == RB_REC_UNCHANGED ? RB_REC_REUSED
                                                                         : RB_REC_STORED);
            break;
        case RB_SINK_DELETED: rb_record_settle(map[i], RB_REC_DELETED); break;
        case RB_SINK_STALE: rb_record_settle(map[i], RB_REC_STALE); break;
        case RB_SINK_FAILED:
            rb_record_fail(map[i], RB_STAGE_SINK, r->tolerate, "MongoDB rejected the document: %s",
                           it->error);
            break;
        case RB_SINK_PENDING:
            rc = rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_SINK,
                              "the sink left document '%s' without a result", it->id);
            break;
        }
    }
    free(map);
    return rc;
}

int rb_runner_write(rb_runner *r, rb_batch *b, size_t *retries, rb_error *err) {
    *retries = 0;
    if (write_phase(r, b, true, retries, err) != 0) return -1;
    return write_phase(r, b, false, retries, err);
}

/* ---- dead letters ----------------------------------------------------- */

typedef struct dlq_args {
    rb_batch *b;
    size_t sent;
} dlq_args;

static int attempt_dead_letter(rb_runner *r, void *arg, rb_error *err) {
    dlq_args *a = arg;
    size_t sent = 0;
    int rc = rb_runner_dlq_send(r->dlq, a->b, &sent, err);
    a->sent += sent;
    return rc;
}

int rb_runner_dead_letter(rb_runner *r, rb_batch *b, size_t *sent, rb_error *err) {
    *sent = 0;
    if (!r->dlq.ops) return 0;
    dlq_args a = {b, 0};
    size_t retries = 0;
    int rc = with_retry(r, attempt_dead_letter, &a, "dlq_retry", &retries, err);
    *sent = a.sent;
    return rc;
}

/* ---- failures --------------------------------------------------------- */

int rb_runner_check_failed(const rb_batch *b, rb_error *err) {
    const rb_record *f = rb_batch_first_failed(b);
    if (!f) return 0;
    return rb_error_set(err, f->fail_stage == RB_STAGE_SINK ? RB_ERR_MONGO : RB_ERR_SCHEMA,
                        f->fail_stage,
                        "stopping at %s [%d] offset %" PRId64 ": %s failed: %s "
                        "(errors.tolerance = none; nothing of batch %" PRIu64
                        " was committed, so the job resumes at or before this record)",
                        f->topic, f->partition, f->offset, rb_stage_name(f->fail_stage),
                        f->fail_reason ? f->fail_reason : "(no reason recorded)", rb_batch_id(b));
}

void rb_runner_log_failures(const rb_runner *r, rb_batch *b) {
    if (!r->cfg->errors_log_enable) return;
    size_t n = rb_batch_count(b);
    rb_buf line;
    rb_buf_init(&line);
    for (size_t i = 0; i < n; i++) {
        rb_record *rec = rb_batch_record(b, i);
        if ((rec->state != RB_REC_SKIPPED && rec->state != RB_REC_FAILED) || rec->fail_logged)
            continue;
        rec->fail_logged = true;
        rb_buf_reset(&line);
        rb_buf_printf(&line,
                      "topic=%s partition=%d offset=%" PRId64 " stage=%s tolerated=%s reason=",
                      rec->topic, rec->partition, rec->offset, rb_stage_name(rec->fail_stage),
                      rec->state == RB_REC_SKIPPED ? "true" : "false");
        const char *reason = rec->fail_reason ? rec->fail_reason : "";
        rb_buf_json_string(&line, reason, strlen(reason));
        if (r->cfg->errors_log_include_messages) {
            /* Values may be large: the first 512 bytes identify a record.
             * The cut backs off to a character boundary, so a character it
             * would split is not shown as invalid bytes; bytes that are
             * invalid are written as \xHH (rb_buf_json_string). */
            rb_buf_puts(&line, " key=");
            rb_buf_json_string(&line, rec->key ? rec->key : "", rec->key ? rec->key_len : 0);
            rb_buf_puts(&line, " value=");
            size_t len = rec->value_len < 512 ? rec->value_len : 512;
            for (size_t back = 0; rec->value && len < rec->value_len && back < 3 &&
                                  ((unsigned char)rec->value[len] & 0xC0) == 0x80;
                 back++)
                len--;
            rb_buf_json_string(&line, rec->value ? rec->value : "", rec->value ? len : 0);
            if (rec->value && len < rec->value_len)
                rb_buf_printf(&line, " value_bytes=%zu", rec->value_len);
        }
        rb_log_kv(&r->log, rec->state == RB_REC_FAILED ? RB_LOG_ERROR : RB_LOG_WARN,
                  "record_failed", RB_LOG_FIELDS(RB_LOG_LOGFMT(line.data ? line.data : "")), NULL);
    }
    rb_buf_free(&line);
}
