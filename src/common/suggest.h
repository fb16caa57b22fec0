/*
 * suggest.h -- "did you mean" for names a user typed: the closest of a
 * list of known names by edit distance, when it is close enough to be a
 * plausible typo.  Used for job keys and JSON Schema keywords.
 */
#ifndef RB_SUGGEST_H
#define RB_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance; SIZE_MAX when either string exceeds 128 bytes. */
size_t rb_edit_distance(const char *a, const char *b);

/* The name among `names[0..n)` closest to `typed`, or NULL when even the
 * closest differs by more than `max_distance` edits. */
const char *rb_suggest(const char *typed, const char *const *names, size_t n, size_t max_distance);

#endif
