/*
 * record_chunks.c -- see record_chunks.h.
 */
#include "batch/record_chunks.h"

#include "common/buf.h"
#include "transform/template.h"

#include <stdlib.h>
#include <string.h>

rb_record_chunks *rb_record_chunks_new(const char *parent_id, const char *text,
                                       const rb_chunk *spans, size_t n, rb_error *err) {
    rb_record_chunks *c = calloc(1, sizeof *c);
    if (!c || !(c->items = calloc(n ? n : 1, sizeof *c->items))) goto nomem;
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        rb_record_chunk *k = &c->items[i];
        k->span = spans[i];
        size_t len = spans[i].end - spans[i].start;
        if (!(k->text = malloc(len + 1))) goto nomem;
        memcpy(k->text, text + spans[i].start, len);
        k->text[len] = '\0';
        rb_text_hash(k->text, len, k->text_hash);
        rb_buf id;
        rb_buf_init(&id);
        if (rb_buf_printf(&id, "%s#%zu", parent_id, i) != 0) {
            rb_buf_free(&id);
            goto nomem;
        }
        k->id = rb_buf_detach(&id);
        if (!k->id) goto nomem;
    }
    return c;
nomem:
    rb_record_chunks_free(c);
    rb_error_nomem(err, RB_STAGE_TRANSFORM, "chunks");
    return NULL;
}

int rb_record_chunks_alloc_vectors(rb_record_chunks *c, size_t dim, rb_error *err) {
    free(c->vectors);
    c->dim = dim;
    size_t count = c->n * dim;
    c->vectors = calloc(count ? count : 1, sizeof *c->vectors);
    return c->vectors ? 0 : rb_error_nomem(err, RB_STAGE_EMBED, "chunk vectors");
}

void rb_record_chunks_free(rb_record_chunks *c) {
    if (!c) return;
    for (size_t i = 0; c->items && i < c->n; i++) {
        free(c->items[i].id);
        free(c->items[i].text);
    }
    free(c->items);
    free(c->vectors);
    free(c);
}
