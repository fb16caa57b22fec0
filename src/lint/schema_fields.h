/*
 * schema_fields.h -- whether a JSON Schema (draft-07, the subset
 * validate/schema.h compiles) allows an event to have a field, read from
 * the schema document itself.
 *
 * A dotted path ("attributes.color") is followed through `properties`,
 * `$ref` ("#" and "#/definitions/NAME"), `allOf` (a field forbidden by one
 * member is forbidden) and `anyOf`/`oneOf` (forbidden only when every
 * alternative forbids it).  A field is forbidden when the object schema
 * that would hold it does not list it and has `additionalProperties:
 * false`, when that schema is `false`, or when the value that would hold
 * it is typed as something other than an object.  if/then/else are not
 * followed: what they decide depends on the event, so nothing is claimed.
 *
 * The answer errs towards "allowed": only a field no valid event can have
 * is reported.  The document is only read.
 */
#ifndef RB_LINT_SCHEMA_FIELDS_H
#define RB_LINT_SCHEMA_FIELDS_H

#include "json/json.h"

#include <stdbool.h>
#include <stddef.h>

/* False when no event valid under the schema `root` can have `path`; then
 * `why` says which rule forbids it and the schema line it is on. */
bool rb_lint_schema_allows(const rb_json *root, const char *path, char *why, size_t why_size);

#endif
