/*
 * schema_ref.h -- where the schemas of one document are, for $ref.
 *
 * Before compiling, the document is walked once through every keyword that
 * holds schemas.  Each schema value gets a location (its JSON pointer from
 * the document root and its base URI), and every $id (and, from 2019-09,
 * $anchor) names a resource or an anchor.  A $ref is resolved against the
 * base URI of the schema it sits in (RFC 3986 section 5.2), then looked up
 * among these names: the part before '#' must be the root document or an
 * $id inside it, and the fragment is empty, a JSON pointer (RFC 6901, with
 * %-escapes decoded) from that resource, or a plain-name anchor.  Anything
 * else -- another file, a URL, the draft's meta-schema -- is not fetched
 * and fails to resolve.  A pointer may lead anywhere in the document, into
 * unknown keywords too; such targets get their location when first reached.
 *
 * The root's base URI is its $id resolved against RB_SCHEMA_DEFAULT_BASE.
 * Locations and names live in the rb_schema until rb_schema_index_free
 * (end of compilation).  Out of memory is the only failure of the walk.
 */
#ifndef RB_SCHEMA_REF_H
#define RB_SCHEMA_REF_H

#include "validate/schema_node.h"

#define RB_SCHEMA_DEFAULT_BASE "urn:x-ragbatch:schema"

/* RFC 3986 reference resolution; a malloc'd string, NULL when out of memory. */
char *rb_schema_uri_resolve(const char *base, const char *ref);

/* Walks the document from `root` (s->draft must be set).  Returns -1 when
 * out of memory. */
int rb_schema_index(rb_schema *s, const rb_json *root);

/* The location of schema value `v`, or NULL when the walk did not reach it. */
schema_loc *rb_schema_loc_find(const rb_schema *s, const rb_json *v);

/* Resolves `ref` as written in a schema whose base URI is `base`.  Returns
 * the target's location; NULL with the reason in `why` when it does not
 * resolve (or memory ran out). */
schema_loc *rb_schema_ref_resolve(rb_schema *s, const char *base, const char *ref, char *why,
                                  size_t why_size);

void rb_schema_index_free(rb_schema *s);

#endif
