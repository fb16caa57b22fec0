/*
 * schema_equal.h -- JSON equality for enum, const and uniqueItems.
 *
 * Two values are equal when they have the same type and: numbers the same
 * value (1, 1.0 and 1e0 are equal; integers that fit int64 compare
 * exactly, others as doubles), strings the same code points, arrays equal
 * items in order, objects the same keys with equal values in any order.
 * Objects of many members are compared through sorted member lists, so
 * that equality costs O(n log n), never O(n^2).
 *
 * uniqueItems hashes every item (a hash consistent with this equality),
 * sorts the hashes and compares only items whose hashes collide: O(n log n)
 * in the array's size even for arrays of a megabyte.
 */
#ifndef RB_SCHEMA_EQUAL_H
#define RB_SCHEMA_EQUAL_H

#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>

bool rb_schema_json_equal(const rb_json *a, const rb_json *b);

/* 0 when the array's items are unique; 1 with the indexes of two equal
 * items (first < second); -1 when out of memory. */
int rb_schema_find_duplicate(const rb_json *array, size_t *first, size_t *second);

#endif
