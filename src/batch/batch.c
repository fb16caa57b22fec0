#include "batch/batch.h"
#include "batch/record_chunks.h"

#include <stdlib.h>
#include <string.h>

/* The arena: a list of chunks, bump-allocated, freed together. */
typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[]; /* aligned start */
} arena_chunk;

#define ARENA_CHUNK_MIN (256u * 1024u)

struct rb_batch {
    uint64_t id;
    rb_record *records;
    size_t count, cap;
    size_t bytes;
    rb_batch_range *ranges;
    size_t nranges, ranges_cap;
    arena_chunk *chunks;
};

static void *arena_alloc(rb_batch *b, size_t n) {
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    arena_chunk *c = b->chunks;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK_MIN ? n : ARENA_CHUNK_MIN;
        c = malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = b->chunks;
        c->used = 0;
        c->cap = cap;
        b->chunks = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *arena_copy(rb_batch *b, const void *src, size_t n) {
    char *p = arena_alloc(b, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, src, n);
    p[n] = '\0';
    return p;
}

rb_batch *rb_batch_new(void) { return calloc(1, sizeof(rb_batch)); }

static void record_free(rb_record *r) {
    rb_json_doc_destroy(r->event);
    free(r->id);
    free(r->text);
    rb_record_chunks_free(r->chunks);
    free(r->fail_reason);
}

void rb_batch_reset(rb_batch *b, uint64_t id) {
    for (size_t i = 0; i < b->count; i++) record_free(&b->records[i]);
    b->count = 0;
    b->bytes = 0;
    b->nranges = 0;
    /* Keep the newest chunk for the next batch; a steady stream then needs
     * no allocation for its payloads. */
    arena_chunk *keep = b->chunks;
    if (keep) {
        arena_chunk *c = keep->next;
        while (c) {
            arena_chunk *next = c->next;
            free(c);
            c = next;
        }
        keep->next = NULL;
        keep->used = 0;
    }
    b->id = id;
}

void rb_batch_destroy(rb_batch *b) {
    if (!b) return;
    rb_batch_reset(b, 0);
    free(b->chunks);
    free(b->records);
    free(b->ranges);
    free(b);
}

uint64_t rb_batch_id(const rb_batch *b) { return b->id; }

static rb_batch_range *range_for(rb_batch *b, const char *topic, int32_t partition) {
    for (size_t i = 0; i < b->nranges; i++)
        if (b->ranges[i].partition == partition && strcmp(b->ranges[i].topic, topic) == 0)
            return &b->ranges[i];
    if (b->nranges == b->ranges_cap) {
        size_t cap = b->ranges_cap ? b->ranges_cap * 2 : 8;
        rb_batch_range *grown = realloc(b->ranges, cap * sizeof *grown);
        if (!grown) return NULL;
        b->ranges = grown;
        b->ranges_cap = cap;
    }
    const char *t = arena_copy(b, topic, strlen(topic));
    if (!t) return NULL;
    rb_batch_range *r = &b->ranges[b->nranges++];
    r->topic = t;
    r->partition = partition;
    r->first_offset = -1;
    r->last_offset = -1;
    r->count = 0;
    return r;
}

rb_record *rb_batch_add(rb_batch *b, const char *topic, int32_t partition, int64_t offset,
                        int64_t timestamp_ms, const void *key, size_t key_len, const void *value,
                        size_t value_len, rb_error *err) {
    if (b->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        rb_record *grown = realloc(b->records, cap * sizeof *grown);
        if (!grown) {
            rb_error_nomem(err, RB_STAGE_SOURCE, "batch records");
            return NULL;
        }
        b->records = grown;
        b->cap = cap;
    }
    rb_batch_range *range = range_for(b, topic, partition);
    if (!range) {
        rb_error_nomem(err, RB_STAGE_SOURCE, "batch range");
        return NULL;
    }
    if (range->count && offset <= range->last_offset) {
        rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_SOURCE,
                     "%s [%d]: offset %lld arrived after %lld", topic, partition,
                     (long long)offset, (long long)range->last_offset);
        return NULL;
    }

    rb_record *r = &b->records[b->count];
    memset(r, 0, sizeof *r);
    r->topic = range->topic;
    r->partition = partition;
    r->offset = offset;
    r->timestamp_ms = timestamp_ms;
    r->event_time_ms = -1;
    if (key) {
        if (!(r->key = arena_copy(b, key, key_len))) {
            rb_error_nomem(err, RB_STAGE_SOURCE, "record key");
            return NULL;
        }
        r->key_len = key_len;
    }
    if (value) {
        if (!(r->value = arena_copy(b, value, value_len))) {
            rb_error_nomem(err, RB_STAGE_SOURCE, "record value");
            return NULL;
        }
        r->value_len = value_len;
        b->bytes += value_len;
    }
    if (range->count == 0) range->first_offset = offset;
    range->last_offset = offset;
    range->count++;
    b->count++;
    return r;
}

int rb_batch_add_headers(rb_batch *b, rb_record *r, const rb_header *headers, size_t n,
                         rb_error *err) {
    if (n == 0) return 0;
    rb_header *copy = arena_alloc(b, n * sizeof *copy);
    if (!copy) return rb_error_nomem(err, RB_STAGE_SOURCE, "record headers");
    for (size_t i = 0; i < n; i++) {
        copy[i].name = arena_copy(b, headers[i].name, strlen(headers[i].name));
        copy[i].value = headers[i].value ? arena_copy(b, headers[i].value, headers[i].value_len)
                                         : NULL;
        copy[i].value_len = headers[i].value_len;
        if (!copy[i].name || (headers[i].value && !copy[i].value))
            return rb_error_nomem(err, RB_STAGE_SOURCE, "record headers");
    }
    r->headers = copy;
    r->header_count = n;
    return 0;
}

size_t rb_batch_count(const rb_batch *b) { return b->count; }
size_t rb_batch_bytes(const rb_batch *b) { return b->bytes; }
rb_record *rb_batch_record(rb_batch *b, size_t i) { return i < b->count ? &b->records[i] : NULL; }
const rb_record *rb_batch_record_const(const rb_batch *b, size_t i) {
    return i < b->count ? &b->records[i] : NULL;
}

const rb_batch_range *rb_batch_ranges(const rb_batch *b, size_t *n) {
    *n = b->nranges;
    return b->ranges;
}
