#include "search/topk.h"

#include <math.h>
#include <stdlib.h>

int rb_topk_init(rb_topk *t, size_t k, void (*free_payload)(void *)) {
    t->k = k ? k : 1;
    t->count = 0;
    t->free_payload = free_payload;
    t->heap = malloc(t->k * sizeof *t->heap);
    return t->heap ? 0 : -1;
}

static void drop(rb_topk *t, void *payload) {
    if (t->free_payload && payload) t->free_payload(payload);
}

void rb_topk_free(rb_topk *t) {
    if (!t->heap) return;
    for (size_t i = 0; i < t->count; i++) drop(t, t->heap[i].payload);
    free(t->heap);
    t->heap = NULL;
    t->count = 0;
}

static void swap(rb_topk_entry *a, rb_topk_entry *b) {
    rb_topk_entry tmp = *a;
    *a = *b;
    *b = tmp;
}

static void sift_down(rb_topk_entry *h, size_t n, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].score < h[m].score) m = l;
        if (r < n && h[r].score < h[m].score) m = r;
        if (m == i) return;
        swap(&h[i], &h[m]);
        i = m;
    }
}

void rb_topk_offer(rb_topk *t, double score, void *payload) {
    if (t->count < t->k) {
        size_t i = t->count++;
        t->heap[i] = (rb_topk_entry){score, payload};
        while (i > 0 && t->heap[(i - 1) / 2].score > t->heap[i].score) {
            swap(&t->heap[i], &t->heap[(i - 1) / 2]);
            i = (i - 1) / 2;
        }
        return;
    }
    if (score <= t->heap[0].score) {
        drop(t, payload);
        return;
    }
    drop(t, t->heap[0].payload);
    t->heap[0] = (rb_topk_entry){score, payload};
    sift_down(t->heap, t->count, 0);
}

static int best_first(const void *a, const void *b) {
    double x = ((const rb_topk_entry *)a)->score, y = ((const rb_topk_entry *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

rb_topk_entry *rb_topk_sorted(rb_topk *t, size_t *n) {
    qsort(t->heap, t->count, sizeof *t->heap, best_first);
    *n = t->count;
    return t->heap;
}

double rb_cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / (sqrt(aa) * sqrt(bb)) : 0.0;
}
