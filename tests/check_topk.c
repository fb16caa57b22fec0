/* Unit tests for the bounded top-k heap and cosine similarity. */
#include "check_main.h"
#include "search/topk.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static int freed;
static void count_free(void *p) {
    freed++;
    free(p);
}

START_TEST(keeps_the_best_k_of_a_stream) {
    rb_topk t;
    freed = 0;
    ck_assert_int_eq(rb_topk_init(&t, 5, count_free), 0);
    /* 1000 scores in a scrambled order; the best five are 999..995. */
    for (int i = 0; i < 1000; i++) {
        int v = (i * 379) % 1000;
        int *payload = malloc(sizeof *payload);
        *payload = v;
        rb_topk_offer(&t, (double)v, payload);
    }
    ck_assert_int_eq(freed, 995); /* rejected or evicted payloads are freed at once */
    size_t n;
    rb_topk_entry *e = rb_topk_sorted(&t, &n);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++) {
        ck_assert_double_eq(e[i].score, 999.0 - (double)i);
        ck_assert_int_eq(*(int *)e[i].payload, 999 - (int)i);
    }
    rb_topk_free(&t);
    ck_assert_int_eq(freed, 1000);
}
END_TEST

START_TEST(fewer_candidates_than_k) {
    rb_topk t;
    ck_assert_int_eq(rb_topk_init(&t, 10, NULL), 0);
    rb_topk_offer(&t, 0.5, NULL);
    rb_topk_offer(&t, 0.9, NULL);
    size_t n;
    rb_topk_entry *e = rb_topk_sorted(&t, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_double_eq(e[0].score, 0.9);
    rb_topk_free(&t);
}
END_TEST

START_TEST(cosine_matches_definition) {
    float a[] = {1, 2, 3}, b[] = {2, 4, 6}, c[] = {-3, 0, 1}, z[] = {0, 0, 0};
    ck_assert_double_eq_tol(rb_cosine(a, b, 3), 1.0, 1e-9);
    ck_assert_double_eq_tol(rb_cosine(a, c, 3), 0.0, 1e-9);
    ck_assert_double_eq(rb_cosine(a, z, 3), 0.0);
    float d[] = {1, 0}, e[] = {1, 1};
    ck_assert_double_eq_tol(rb_cosine(d, e, 2), 1.0 / sqrt(2.0), 1e-9);
}
END_TEST

Suite *rb_check_suite(void) {
    Suite *s = suite_create("topk");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, keeps_the_best_k_of_a_stream);
    tcase_add_test(tc, fewer_candidates_than_k);
    tcase_add_test(tc, cosine_matches_definition);
    suite_add_tcase(s, tc);
    return s;
}
