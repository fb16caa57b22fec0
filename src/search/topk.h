/*
 * topk.h -- the k best-scoring candidates of a stream, in bounded memory.
 *
 * A min-heap of k entries: a candidate enters only if it beats the worst
 * kept one, so scanning N documents costs O(N log k) time and O(k) memory
 * whatever N is.  Each entry keeps a caller-supplied payload (owned by the
 * heap from the moment it is offered: freed if rejected or evicted).
 */
#ifndef RB_TOPK_H
#define RB_TOPK_H

#include <stddef.h>

typedef struct rb_topk_entry {
    double score;
    void *payload;
} rb_topk_entry;

typedef struct rb_topk {
    rb_topk_entry *heap;
    size_t k, count;
    void (*free_payload)(void *);
} rb_topk;

/* Returns -1 if memory runs out.  `free_payload` may be NULL. */
int rb_topk_init(rb_topk *t, size_t k, void (*free_payload)(void *));
void rb_topk_free(rb_topk *t);

/* Offers a candidate; takes ownership of `payload` in every case. */
void rb_topk_offer(rb_topk *t, double score, void *payload);

/* Sorts the kept entries best first and returns them (count in *n).  The
 * heap is consumed: only rb_topk_free() may follow. */
rb_topk_entry *rb_topk_sorted(rb_topk *t, size_t *n);

/* Cosine similarity of two vectors (0 when either is all zeros). */
double rb_cosine(const float *a, const float *b, size_t n);

#endif
