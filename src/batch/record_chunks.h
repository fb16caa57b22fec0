/*
 * record_chunks.h -- the chunks of one record whose text is longer than a
 * chunk (transform/chunk.h): each chunk's span in the record's text, its
 * own copy of that text, its document id and text hash, and, once the
 * embed step ran, its vector.
 *
 * Owned by the record (rb_record.chunks, NULL when the text is one chunk)
 * and freed with the batch's records (rb_batch_reset).  Written by the
 * decode step of the record's own worker thread, then read and filled by
 * the loop thread only.
 */
#ifndef RB_RECORD_CHUNKS_H
#define RB_RECORD_CHUNKS_H

#include "common/error.h"
#include "transform/chunk.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct rb_record_chunk {
    rb_chunk span; /* in the record's text */
    char *id;      /* "<parent id>#<index>", owned */
    char *text;    /* the span's text, owned, NUL-terminated */
    char text_hash[65];
    bool reused; /* the vector is the stored one: this chunk's text did not change */
} rb_record_chunk;

typedef struct rb_record_chunks {
    rb_record_chunk *items;
    size_t n;
    float *vectors; /* n rows of `dim` floats once embedded, else NULL */
    size_t dim;
} rb_record_chunks;

/* Builds the set for `text` of document `parent_id` from the chunker's
 * spans (copied).  NULL only when memory runs out (err set). */
rb_record_chunks *rb_record_chunks_new(const char *parent_id, const char *text,
                                       const rb_chunk *spans, size_t n, rb_error *err);

/* Gives the set room for its vectors (zeroed). */
int rb_record_chunks_alloc_vectors(rb_record_chunks *c, size_t dim, rb_error *err);

void rb_record_chunks_free(rb_record_chunks *c); /* accepts NULL */

#endif
