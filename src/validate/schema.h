/*
 * schema.h -- compiled JSON Schema (draft-07 subset) and event validation.
 *
 * A schema file is compiled once at job start.  Supported keywords: type
 * (a name or an array of names, "integer" included), required, properties,
 * additionalProperties (boolean or schema), enum, const, minimum, maximum,
 * exclusiveMinimum, exclusiveMaximum, minLength, maxLength (in code points),
 * pattern (POSIX extended regex), format "date-time" (RFC 3339), items
 * (a schema), minItems, maxItems, nested objects, $ref to local
 * definitions ("#/definitions/x"), allOf/anyOf/oneOf/not, if/then/else,
 * and the annotations $schema, $id, $comment, title, description, default,
 * examples.  Any other keyword is an error at compile time naming the
 * keyword's JSON-pointer path and the file, never ignored.  The unknown
 * "format" values are also compile errors.
 *
 * Where the subset is stricter than draft-07 (so that no rule is silently
 * dropped): keywords beside $ref, "then"/"else" without "if", the array
 * form of "items", "definitions" below the root, $ref other than "#" and
 * "#/definitions/<name>", and $schema other than draft-07 are compile
 * errors.  Patterns are ECMA-262 in JSON Schema but run as POSIX extended
 * regexes: \d \w \s (and \D \W \S outside brackets), escaped
 * punctuation, \t \n \r \f \v, (?:...) and lazy quantifiers are
 * translated; lookaround, backreferences, \b, \uXXXX and other escapes are
 * compile errors (schema.c lists the details).  Matching is byte-wise.
 * "integer" accepts any number with a zero fraction (1.0), as draft-07 says.
 * "format": "date-time" uses rb_rfc3339_parse (common/rfc3339.h).
 *
 * Validation stops at the first failure.  Messages name the instance path
 * ("/" for the root), a short rendering of the value and the rule:
 *   /price: -3 is less than the minimum 0
 *   /: required property "name" is missing
 *   /currency: "EURO" is longer than maxLength 3
 *   /colour: property "colour" is not allowed (additionalProperties is false)
 * For anyOf/oneOf the message quotes the first alternative's failure.
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
