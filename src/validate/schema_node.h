/*
 * schema_node.h -- the compiled form of a JSON Schema, shared by the
 * compiler (schema.c, schema_ref.c) and the validator (schema_validate.c).
 * Not a public interface: only validate/ includes it.
 *
 * Ownership: the rb_schema owns its private copy of the schema document
 * and every node; nodes point into the document (strings, enum and const
 * values, the number nodes of bounds) and at each other (a $ref is a plain
 * pointer to its target's node, so recursive schemas are cyclic graphs).
 * All of it is freed by rb_schema_destroy.  After compilation nothing is
 * written again, so one schema serves many threads.
 */
#ifndef RB_SCHEMA_NODE_H
#define RB_SCHEMA_NODE_H

#include "json/json.h"
#include "validate/schema.h"
#include "validate/schema_pattern.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The JSON pointers of messages and compile errors are cut at this size. */
#define SCHEMA_PATH_MAX 512

typedef enum schema_draft {
    DRAFT_07 = 7,
    DRAFT_2019_09 = 2019,
    DRAFT_2020_12 = 2020
} schema_draft;

enum {
    T_NULL = 1 << 0,
    T_BOOLEAN = 1 << 1,
    T_OBJECT = 1 << 2,
    T_ARRAY = 1 << 3,
    T_NUMBER = 1 << 4,
    T_STRING = 1 << 5,
    T_INTEGER = 1 << 6
};

typedef struct schema_node schema_node;

typedef struct schema_prop {
    const char *name;
    size_t name_len;
    schema_node *schema;
} schema_prop;

typedef struct schema_pattern_prop {
    rb_schema_regex *re;
    const char *src;
    schema_node *schema;
} schema_pattern_prop;

/* dependencies / dependentRequired / dependentSchemas: when property
 * `name` is present, the `names` must be too, or the object must match
 * `schema`. */
typedef struct schema_dependency {
    const char *name;
    const char **names;
    size_t n_names;
    schema_node *schema;
    const char *keyword; /* for messages */
} schema_dependency;

typedef struct schema_bound {
    bool set;
    const rb_json *value; /* a number node of the schema document */
} schema_bound;

/* The format assertions (schema_format.h). */
typedef enum schema_format {
    FORMAT_NONE = 0,
    FORMAT_DATE_TIME,
    FORMAT_DATE,
    FORMAT_TIME,
    FORMAT_EMAIL,
    FORMAT_HOSTNAME,
    FORMAT_IPV4,
    FORMAT_IPV6,
    FORMAT_URI,
    FORMAT_URI_REFERENCE,
    FORMAT_UUID,
    FORMAT_REGEX,
    FORMAT_JSON_POINTER,
    FORMAT_RELATIVE_JSON_POINTER
} schema_format;

struct schema_node {
    bool is_bool; /* a boolean schema: true accepts everything, false nothing */
    bool bool_value;
    unsigned types;             /* 0: any type */
    const rb_json *enum_values; /* array, or NULL */
    const rb_json *const_value;
    /* numbers */
    schema_bound minimum, maximum, exclusive_minimum, exclusive_maximum;
    const rb_json *multiple_of; /* a positive number node, compared on its decimal text */
    /* strings */
    int64_t min_length, max_length; /* -1 when absent */
    rb_schema_regex *pattern;
    const char *pattern_src;
    schema_format format;
    const char *format_name;
    /* arrays: the first n_prefix items against prefix[i] (items as an
     * array, or prefixItems), the rest against `rest` (items as a schema,
     * additionalItems, or 2020-12 items). */
    schema_node **prefix;
    size_t n_prefix;
    schema_node *rest;
    const char *rest_keyword; /* "items" or "additionalItems", for messages */
    schema_node *contains;
    int64_t min_contains, max_contains; /* min 1 by default; max -1 when absent */
    int64_t min_items, max_items;
    bool unique_items;
    /* objects */
    const char **required;
    size_t n_required;
    schema_prop *props;
    size_t n_props;
    schema_pattern_prop *pattern_props;
    size_t n_pattern_props;
    bool additional_false;
    schema_node *additional; /* a schema for unlisted properties, or NULL */
    schema_node *property_names;
    int64_t min_props, max_props;
    schema_dependency *deps;
    size_t n_deps;
    /* combinators */
    schema_node **all_of, **any_of, **one_of;
    size_t n_all_of, n_any_of, n_one_of;
    schema_node *not_;
    schema_node *if_, *then_, *else_;
    /* $ref target.  In draft-07 a node with $ref has no other assertion
     * (ref_only); in 2019-09 and later the others apply as well. */
    schema_node *ref;
    bool ref_only;
    schema_node *next_all; /* list of every node, for destruction */
};

/* Where a schema value of the document sits: its JSON pointer from the
 * document root and the base URI its relative references resolve against,
 * and its node once compiled.  Kept in a hash by value address. */
typedef struct schema_loc {
    const rb_json *value;
    char *pointer;
    char *base;
    schema_node *node;
} schema_loc;

typedef struct schema_name {
    char *uri; /* absolute URI: a resource (no fragment) or an anchor (with #name) */
    const rb_json *value;
} schema_name;

struct rb_schema {
    rb_json_doc *doc;
    schema_draft draft;
    schema_node *root;
    schema_node *all;
    size_t n_nodes;
    rb_schema_regex_limits *limits; /* shared by every pattern's matches */
    /* compile-time index (freed at the end of compilation) */
    schema_loc *locs;
    size_t n_locs, cap_locs; /* open addressing, cap a power of two */
    schema_name *names;
    size_t n_names, cap_names;
};

/* JSON-pointer building, shared by compile and validate: appends one
 * segment (escaping ~ and /) and returns the old length for path_pop. */
size_t rb_schema_path_push(char *path, size_t *len, size_t cap, const char *seg, size_t seg_len);
size_t rb_schema_path_push_index(char *path, size_t *len, size_t cap, size_t index);
void rb_schema_path_pop(char *path, size_t *len, size_t old);

#endif
