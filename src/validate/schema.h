/*
 * schema.h -- compiled JSON Schema and event validation.
 *
 * A schema file is compiled once at job start.  The draft is the one
 * "$schema" names: draft-07 (the default when there is none), 2019-09 or
 * 2020-12; any other is a compile error.
 *
 * Supported: every draft-07 keyword -- type, enum, const, multipleOf,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength and
 * maxLength (in code points), pattern, format, items (a schema or an
 * array), additionalItems, contains, minItems, maxItems, uniqueItems,
 * required, properties, patternProperties, additionalProperties,
 * propertyNames, minProperties, maxProperties, dependencies, allOf, anyOf,
 * oneOf, not, if/then/else, $ref, definitions -- and the annotations
 * $schema, $id, $comment, title, description, default, examples, readOnly,
 * writeOnly, contentMediaType, contentEncoding.  With 2019-09 / 2020-12
 * also $defs, $anchor, dependentRequired, dependentSchemas, minContains,
 * maxContains, prefixItems (2020-12; items is then the schema for the rest),
 * deprecated, contentSchema, and keywords beside $ref apply.
 *
 * Semantics worth knowing:
 *   - multipleOf is exact on the numbers' decimal text (0.3 is a multiple
 *     of 0.1); uniqueItems, enum and const use JSON equality (1 == 1.0,
 *     member order does not matter).  "integer" accepts 1.0 (draft-07).
 *   - $ref resolves within the one document: any JSON pointer ("#/a/b",
 *     %-escapes and ~0 ~1 decoded), $id-relative URIs ("node.json",
 *     "http://x/y.json#/definitions/z" when some $id names it) and anchors
 *     (draft-07's "$id": "#name", 2019-09's $anchor).  References to other
 *     files or URLs (remote refs, the meta-schema) are compile errors:
 *     nothing is fetched.
 *   - Patterns are PCRE2 in UTF mode with ECMA-262 options
 *     (schema_pattern.h): code points, not bytes; \uXXXX, lookaround and
 *     backreferences work; PCRE2-only syntax is refused.  Each pattern is
 *     compiled once; a match that exceeds PCRE2's match limit rejects the
 *     record with a message saying so.
 *   - format is an assertion for date-time, date, time, email, hostname,
 *     ipv4, ipv6, uri, uri-reference, uuid, regex, json-pointer and
 *     relative-json-pointer (schema_format.h).  idn-email, idn-hostname,
 *     iri, iri-reference, uri-template and duration are refused (not
 *     checked, so a schema relying on them is not silently weaker); a
 *     near-miss of a checked name ("date_time") is refused as a typo; any
 *     other format is an annotation, as the specification says.
 *
 * Where ragbatch is stricter than the specification (so that no rule is
 * silently dropped), these are compile errors naming the keyword's
 * JSON-pointer path and the file:
 *   - assertions beside $ref in draft-07 (the draft ignores them; move
 *     them and the $ref into an allOf);
 *   - a keyword of another draft (prefixItems or dependentRequired in a
 *     draft-07 schema, dependencies or additionalItems in 2020-12): declare
 *     the draft in $schema;
 *   - unevaluatedProperties, unevaluatedItems, $dynamicRef, $dynamicAnchor,
 *     $recursiveRef, $recursiveAnchor and $vocabulary (not implemented);
 *   - an unknown keyword within edit distance 2 (1 for names of four
 *     letters or fewer) of a known one, such as "requird": ragbatch has
 *     always refused these and job authors rely on it to catch typos.
 * Other unknown keywords are annotations (ignored), as the specification
 * says; "then"/"else" without "if" are compiled but have no effect.
 *
 * Validation stops at the first failure.  Messages name the instance path
 * ("/" for the root), a short rendering of the value and the rule:
 *   /price: -3 is less than the minimum 0
 *   /: required property "name" is missing
 *   /currency: "EURO" is longer than maxLength 3
 *   /colour: property "colour" is not allowed (additionalProperties is false)
 *   /price: 0.35 is not a multiple of 0.1 (multipleOf)
 * For anyOf/oneOf the message quotes the first alternative's failure.
 * Cost: linear in the instance for a given schema; alternatives over
 * recursive references are bounded by a budget of 16 schema evaluations
 * per byte of the record (plus 100,000), past which the record fails with
 * a message saying so (schema_validate.c).
 *
 * A compiled schema is read-only and may be used from many threads at once.
 */
#ifndef RB_SCHEMA_H
#define RB_SCHEMA_H

#include "common/error.h"
#include "json/json.h"

#include <stddef.h>

typedef struct rb_schema rb_schema;

/* Compiles the schema in file `path`.  On failure *out is NULL and the
 * error (RB_ERR_SCHEMA, stage config) names the file, the keyword's path
 * (e.g. "/properties/price/multipleOf") and why. */
int rb_schema_load(const char *path, rb_schema **out, rb_error *err);

/* Compiles a schema from an already parsed document; `origin` names it in
 * messages (a file name, or "schema registry id 7"). */
int rb_schema_compile(const rb_json *root, const char *origin, rb_schema **out, rb_error *err);

/* Validates `instance`.  Returns 0 if valid.  Otherwise returns -1, writes
 * the JSON pointer of the first failing value into `path` (e.g.
 * "/tags/2"; "" for the root; truncated to `path_size`), and sets `err`
 * (RB_ERR_SCHEMA, stage validate) to a message such as
 * "/price: -3 is less than the minimum 0".  `path` may be NULL. */
int rb_schema_validate(const rb_schema *schema, const rb_json *instance, char *path,
                       size_t path_size, rb_error *err);

void rb_schema_destroy(rb_schema *schema); /* accepts NULL */

#endif
