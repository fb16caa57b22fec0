/*
 * avro_internal.h -- shared by the files of src/avro: the parsed schema
 * (schema.c) that the value reader (read.c) walks beside libavro-c's value.
 * Private to the module.
 */
#ifndef RB_AVRO_INTERNAL_H
#define RB_AVRO_INTERNAL_H

#include "avro/avro.h"
#include "json/json.h"

#include <avro.h>

typedef struct rb_avro_named {
    char *fullname;      /* owned: namespace.name */
    const rb_json *node; /* the definition, in `json` */
    const char *ns;      /* its namespace (points into fullname's copy `ns_owned`) */
    char *ns_owned;
} rb_avro_named;

struct rb_avro_schema {
    avro_schema_t schema;
    avro_value_iface_t *iface; /* libavro-c's generic class of `schema` */
    rb_json_doc *json;         /* the same text, for logicalType */
    rb_avro_named *named;
    size_t named_count;
    bool change_event;
    char *origin;
};

/* libavro-c 1.11 as Debian builds it keeps its last error in one
 * process-wide buffer (no thread-local storage), written by whichever
 * call fails: every libavro-c call that may fail, and the reading of its
 * message, happens under this lock.  It is the one global of the module
 * and guards the library's, not ours. */
void rb_avro_lib_lock(void);
void rb_avro_lib_unlock(void);

/* A schema node with the namespace its names resolve in. */
typedef struct rb_avro_node {
    const rb_json *json; /* object, array (union) or string (primitive); NULL: unknown */
    const char *ns;      /* "" for none */
} rb_avro_node;

/* The definition `node` stands for: a named reference is looked up, an
 * object whose "type" is itself a schema is unwrapped.  Unknown names give
 * a node with json NULL (the reader then writes the value without its
 * logical type). */
rb_avro_node rb_avro_resolve(const rb_avro_schema *s, rb_avro_node node);

/* The namespace of a named definition `def` met in namespace `ns`,
 * written into `buf` (room `size`). */
const char *rb_avro_def_namespace(const rb_json *def, const char *ns, char *buf, size_t size);

/* Checks that `data` is exactly one value of the schema, every length,
 * count, branch and index within bounds (scan.c); errors name the field
 * and the byte offset. */
int rb_avro_scan(const rb_avro_schema *s, const char *data, size_t len, rb_error *err);

#endif
