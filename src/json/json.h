/*
 * json.h -- a read-only JSON document tree.
 *
 * rb_json_parse() checks UTF-8, tokenizes (json_tokens.h), checks the
 * tokens against the grammar, decodes
 * string escapes (including surrogate pairs) and builds a tree of rb_json
 * nodes.  The whole tree, its strings included, lives in one allocation
 * owned by the rb_json_doc; every pointer into it stays valid until
 * rb_json_doc_destroy().  Object members keep document order.  Duplicate
 * keys in one object are rejected (different consumers would pick
 * different values).  Strings are NUL-terminated; a string that contains
 * U+0000 is rejected, since every consumer downstream (BSON keys, C
 * strings) would truncate it silently.
 *
 * Errors are RB_ERR_JSON with the 1-based line and column of the problem,
 * e.g. "line 3, column 14: expected ',' or '}' after object member"; the
 * column counts characters (code points), not bytes.  rb_json_parse sets
 * stage RB_STAGE_DESERIALIZE, rb_json_parse_file RB_STAGE_CONFIG (files are
 * schemas and job files).
 *
 * Grammar: exactly RFC 8259 (one value, optionally surrounded by white
 * space).  The tokenizer accepts trailing commas, missing colons and
 * loose numbers, so the tokens are re-checked against the grammar.  The
 * whole text must be valid UTF-8 and may not contain a NUL
 * byte.  Numbers that overflow a double are errors; underflow reads as 0.
 * is_integer is true only for numbers written without fraction and
 * exponent ("1.0" and "1e2" are not) that fit int64; numbers are converted
 * with strtod, so the process must keep the "C" numeric locale.
 * The parser recurses once per nesting level: max_depth is capped at 4096
 * whatever the caller asks.  The depth limit is checked as the text is
 * tokenised, and every pass is linear in the input, so no text of any
 * shape costs more than linear time (bench/json measures 1 MiB inputs).
 * A parsed document is read-only and may be read from many threads.
 */
#ifndef RB_JSON_H
#define RB_JSON_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rb_json_type {
    RB_JSON_NULL = 0,
    RB_JSON_BOOL,
    RB_JSON_NUMBER,
    RB_JSON_STRING,
    RB_JSON_ARRAY,
    RB_JSON_OBJECT
} rb_json_type;

typedef struct rb_json rb_json;

typedef struct rb_json_member {
    const char *key; /* decoded, NUL-terminated */
    size_t key_len;
    rb_json *value;
} rb_json_member;

struct rb_json {
    rb_json_type type;
    int line;        /* 1-based line where the value starts */
    bool boolean;    /* RB_JSON_BOOL */
    double number;   /* RB_JSON_NUMBER */
    bool is_integer; /* number written without fraction or exponent, fits int64 */
    int64_t integer; /* valid when is_integer */
    const char *str; /* RB_JSON_STRING: decoded UTF-8, NUL-terminated */
    size_t str_len;
    size_t count;            /* RB_JSON_ARRAY items / RB_JSON_OBJECT members */
    rb_json *items;          /* RB_JSON_ARRAY: `count` values */
    rb_json_member *members; /* RB_JSON_OBJECT: `count` members */
    const char *raw;         /* the value's source text (not NUL-terminated) */
    size_t raw_len;
};

typedef struct rb_json_doc rb_json_doc;

typedef struct rb_json_limits {
    size_t max_depth;  /* nesting deeper than this is an error; 0 means 64 */
    size_t max_tokens; /* more tokens than this is an error; 0 means no limit */
} rb_json_limits;

/* Parses `len` bytes of `buf` (need not be NUL-terminated).  `limits` may be
 * NULL.  On success *out owns a copy of everything it needs; `buf` may be
 * freed.  On failure *out is NULL. */
int rb_json_parse(const char *buf, size_t len, const rb_json_limits *limits, rb_json_doc **out,
                  rb_error *err);

/* Reads and parses a whole file; errors name the file. */
int rb_json_parse_file(const char *path, const rb_json_limits *limits, rb_json_doc **out,
                       rb_error *err);

const rb_json *rb_json_doc_root(const rb_json_doc *doc);
void rb_json_doc_destroy(rb_json_doc *doc); /* accepts NULL */

/* Member `key` of an object, or NULL if `obj` is NULL, not an object, or has
 * no such member. */
const rb_json *rb_json_get(const rb_json *obj, const char *key);

/* Follows a dotted path ("attributes.color") through nested objects. */
const rb_json *rb_json_get_path(const rb_json *obj, const char *dotted);

/* The string value, or NULL if `v` is NULL or not a string. */
const char *rb_json_string(const rb_json *v);

/* Name of a type, for messages: "object", "string", ... */
const char *rb_json_type_name(rb_json_type type);

/* Checks that `len` bytes are valid UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF).  Returns the byte offset of the first invalid
 * sequence, or (size_t)-1 if all is valid. */
size_t rb_utf8_invalid_offset(const char *s, size_t len);

#endif
