/*
 * template.h -- the text template that turns an event into the text that is
 * embedded.
 *
 * Syntax:
 *   {field}        the value of `field` (a dotted path reaches into nested
 *                  objects: {attributes.color}); missing or null is an error
 *   {field?}       the same, but missing or null renders as nothing
 *   [[ ... ]]      an optional section: dropped entirely when any optional
 *                  placeholder inside it is missing, null or empty, e.g.
 *                  "{name}.[[ Brand: {brand?}.]][[ {description?}]]"
 *   {{ }} [[[ ]]]  not special: write "\{", "\}", "\[" or "\\" to escape
 * Values render as: strings as they are; integers without a fraction;
 * other numbers in the shortest form that reads back the same; booleans as
 * "true"/"false"; arrays as their items joined by ", "; objects as
 * "key: value" pairs joined by ", ".  The result has runs of white space
 * folded to one space and is trimmed.
 *
 * Details: a field path is segments of [A-Za-z0-9_-] joined by '.'; "[["
 * and "]]" delimit sections while a single '[' or ']' is plain text; a '}'
 * outside a placeholder and any backslash other than \{ \} \[ \] \\ are
 * compile errors.  Null renders as nothing, and array items or object
 * members that render as nothing are left out of the join.  An optional
 * placeholder counts as empty when it renders to white space only.  A
 * required placeholder inside a section is still required.  Integral
 * numbers written as 1.0 or 1e2 also render without a fraction.
 *
 * A compiled template is read-only and may be used from many threads.
 */
#ifndef RB_TEMPLATE_H
#define RB_TEMPLATE_H

#include "common/buf.h"
#include "common/error.h"
#include "json/json.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rb_template rb_template;

/* Compiles `text`.  Errors (RB_ERR_CONFIG) give the column of the problem:
 * unclosed brace, empty field name, nested section, ... */
int rb_template_compile(const char *text, rb_template **out, rb_error *err);

/* Appends the rendered text to `out` (folding and trimming apply to the
 * appended text only).  A required field that is missing or null is an
 * RB_ERR_TRANSFORM error naming the field; on any error `out` is left as
 * it was. */
int rb_template_render(const rb_template *tpl, const rb_json *event, rb_buf *out, rb_error *err);

/* As rb_template_render(), but a white-space run holding a blank line
 * (two or more line feeds, in the template or in a value) folds to
 * "\n\n" instead of one space: the paragraph breaks the chunker prefers
 * (transform/chunk.h).  Replacing each "\n\n" of the result by one space
 * gives exactly what rb_template_render() gives; the tokens are the same. */
int rb_template_render_paragraphs(const rb_template *tpl, const rb_json *event, rb_buf *out,
                                  rb_error *err);

/* Number of placeholders, and the field path of the i-th one (for checks
 * against the schema at start-up). */
size_t rb_template_field_count(const rb_template *tpl);
const char *rb_template_field(const rb_template *tpl, size_t i);

void rb_template_destroy(rb_template *tpl); /* accepts NULL */

/* SHA-256 of `len` bytes as 64 lower-case hex digits plus NUL into `hex`.
 * Used as the stored text hash that tells whether a text changed. */
void rb_text_hash(const char *text, size_t len, char hex[65]);

#endif
