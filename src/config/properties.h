/*
 * properties.h -- the java.util.Properties text format, as
 * Properties.load(Reader) reads it: the files Kafka Connect's
 * FileConfigProvider reads (`${file:PATH:KEY}` in a job file).
 *
 * The rules, as the JDK documents and implements them:
 *   - lines end at \n, \r or \r\n; a line of white space only is skipped;
 *     a line whose first non-white character is '#' or '!' is a comment;
 *   - a line ending in an odd number of backslashes continues on the next
 *     one, whose leading white space is dropped (a comment line does not
 *     continue, and a continued line is never a comment);
 *   - white space is ' ', '\t' and '\f';
 *   - the key runs from the first non-white character to the first '=',
 *     ':' or white space that is not escaped; white space after it, then
 *     one '=' or ':', then white space, are skipped; the rest is the value
 *     (its trailing white space kept);
 *   - in keys and values \t \n \r \f are those characters, \uXXXX (four hex
 *     digits, else an error) the UTF-16 unit, and a backslash before any
 *     other character stands for that character; a backslash at the very
 *     end of the text is dropped;
 *   - a later line of the same key wins.
 * The text must be UTF-8 (what Connect's provider reads); \u escapes are
 * decoded to UTF-8, a surrogate pair to one character; a lone surrogate
 * or U+0000 is an error, since neither can reach a C string.
 *
 * Errors are RB_ERR_CONFIG at RB_STAGE_CONFIG naming `origin` and the line.
 * Ownership: the rb_properties owns every string; free with
 * rb_properties_free().
 */
#ifndef RB_PROPERTIES_H
#define RB_PROPERTIES_H

#include "common/error.h"

#include <stddef.h>

typedef struct rb_property {
    char *key;
    char *value;
    int line; /* where the logical line began, 1-based */
} rb_property;

typedef struct rb_properties {
    rb_property *items; /* in the order of their first appearance */
    size_t count;
} rb_properties;

/* Calls `fn` for each key and value in file order (a key may come more
 * than once), with the line its logical line began on; a non-zero return
 * stops the walk and is returned.  *dangling_line (may be NULL) is set to
 * the line of a last logical line whose final backslash had nothing to
 * continue with (Java drops that backslash), else 0. */
typedef int (*rb_properties_fn)(const char *key, const char *value, int line, void *ctx,
                                rb_error *err);
int rb_properties_each(const char *text, size_t len, const char *origin, rb_properties_fn fn,
                       void *ctx, int *dangling_line, rb_error *err);

/* Parses `len` bytes of text. */
int rb_properties_parse(const char *text, size_t len, const char *origin, rb_properties *out,
                        rb_error *err);

/* Reads and parses a file; errors name it. */
int rb_properties_load(const char *path, rb_properties *out, rb_error *err);

/* The value of `key`, or NULL. */
const char *rb_properties_get(const rb_properties *p, const char *key);

void rb_properties_free(rb_properties *p);

#endif
