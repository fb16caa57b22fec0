/*
 * schema_equal.c -- JSON equality and duplicate search (schema_equal.h).
 */
#include "validate/schema_equal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int member_cmp(const void *a, const void *b) {
    const rb_json_member *x = *(const rb_json_member *const *)a;
    const rb_json_member *y = *(const rb_json_member *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

static const rb_json *member_find(const rb_json *obj, const rb_json_member *m) {
    for (size_t j = 0; j < obj->count; j++)
        if (obj->members[j].key_len == m->key_len &&
            memcmp(obj->members[j].key, m->key, m->key_len) == 0)
            return obj->members[j].value;
    return NULL;
}

static bool numbers_equal(const rb_json *a, const rb_json *b) {
    if (a->is_integer && b->is_integer) return a->integer == b->integer;
    return a->number == b->number;
}

static bool objects_equal(const rb_json *a, const rb_json *b) {
    if (a->count != b->count) return false;
    if (a->count <= 16) {
        for (size_t i = 0; i < a->count; i++) {
            const rb_json *other = member_find(b, &a->members[i]);
            if (!other || !rb_schema_json_equal(a->members[i].value, other)) return false;
        }
        return true;
    }
    /* Many members: sort both member lists by key (keys are unique). */
    const rb_json_member **sa = malloc(a->count * sizeof *sa);
    const rb_json_member **sb = malloc(b->count * sizeof *sb);
    bool equal = sa && sb;
    if (equal) {
        for (size_t i = 0; i < a->count; i++) {
            sa[i] = &a->members[i];
            sb[i] = &b->members[i];
        }
        qsort(sa, a->count, sizeof *sa, member_cmp);
        qsort(sb, b->count, sizeof *sb, member_cmp);
        for (size_t i = 0; i < a->count && equal; i++)
            equal = member_cmp(&sa[i], &sb[i]) == 0 &&
                    rb_schema_json_equal(sa[i]->value, sb[i]->value);
    } else {
        /* Out of memory: the quadratic comparison gives the same answer. */
        equal = true;
        for (size_t i = 0; i < a->count && equal; i++) {
            const rb_json *other = member_find(b, &a->members[i]);
            equal = other && rb_schema_json_equal(a->members[i].value, other);
        }
    }
    free(sa);
    free(sb);
    return equal;
}

bool rb_schema_json_equal(const rb_json *a, const rb_json *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case RB_JSON_NULL: return true;
    case RB_JSON_BOOL: return a->boolean == b->boolean;
    case RB_JSON_NUMBER: return numbers_equal(a, b);
    case RB_JSON_STRING:
        return a->str_len == b->str_len && memcmp(a->str, b->str, a->str_len) == 0;
    case RB_JSON_ARRAY:
        if (a->count != b->count) return false;
        for (size_t i = 0; i < a->count; i++)
            if (!rb_schema_json_equal(&a->items[i], &b->items[i])) return false;
        return true;
    case RB_JSON_OBJECT: return objects_equal(a, b);
    }
    return false;
}

static uint64_t mix(uint64_t h, uint64_t x) {
    h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

static uint64_t bytes_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Equal values hash equally: numbers hash their double (an int64 that
 * compares exactly still maps to one double, so equal integers agree), and
 * objects combine their members without regard to order. */
static uint64_t value_hash(const rb_json *v) {
    uint64_t h = (uint64_t)v->type + 1;
    switch (v->type) {
    case RB_JSON_NULL: return h;
    case RB_JSON_BOOL: return mix(h, v->boolean);
    case RB_JSON_NUMBER: {
        double d = v->is_integer ? (double)v->integer : v->number;
        if (d == 0) d = 0; /* -0.0 equals 0 */
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return mix(h, bits);
    }
    case RB_JSON_STRING: return mix(h, bytes_hash(v->str, v->str_len));
    case RB_JSON_ARRAY:
        for (size_t i = 0; i < v->count; i++) h = mix(h, value_hash(&v->items[i]));
        return h;
    case RB_JSON_OBJECT: {
        uint64_t sum = 0;
        for (size_t i = 0; i < v->count; i++)
            sum += mix(bytes_hash(v->members[i].key, v->members[i].key_len),
                       value_hash(v->members[i].value));
        return mix(h, sum);
    }
    }
    return h;
}

typedef struct hashed {
    uint64_t hash;
    size_t index;
} hashed;

static int hashed_cmp(const void *a, const void *b) {
    const hashed *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int rb_schema_find_duplicate(const rb_json *array, size_t *first, size_t *second) {
    size_t n = array->count;
    if (n < 2) return 0;
    if (n <= 8) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (rb_schema_json_equal(&array->items[i], &array->items[j])) {
                    *first = i;
                    *second = j;
                    return 1;
                }
        return 0;
    }
    hashed *h = malloc(n * sizeof *h);
    if (!h) return -1;
    for (size_t i = 0; i < n; i++) h[i] = (hashed){value_hash(&array->items[i]), i};
    qsort(h, n, sizeof *h, hashed_cmp);
    int found = 0;
    size_t best_a = 0, best_b = 0;
    /* Within a run of equal hashes compare each item to the run's others;
     * runs are short unless the hash is attacked, and a run of equal items
     * stops at its first pair. */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && h[j].hash == h[i].hash) j++;
        for (size_t a = i; a < j; a++)
            for (size_t b = a + 1; b < j; b++)
                if (rb_schema_json_equal(&array->items[h[a].index], &array->items[h[b].index])) {
                    size_t lo = h[a].index < h[b].index ? h[a].index : h[b].index;
                    size_t hi = h[a].index ^ h[b].index ^ lo;
                    if (!found || lo < best_a || (lo == best_a && hi < best_b)) {
                        best_a = lo;
                        best_b = hi;
                    }
                    found = 1;
                    b = j; /* next a */
                }
        i = j;
    }
    free(h);
    if (found) {
        *first = best_a;
        *second = best_b;
    }
    return found;
}
