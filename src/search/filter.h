/*
 * filter.h -- a search filter as the command line writes it, typed:
 *
 *   FIELD=VALUE          equal: `brand=Kestrel`, `in_stock=true`, `price=438.5`
 *   FIELD=A,B,...        one of the values: `brand=Kestrel,Tidewell`
 *   FIELD<V  FIELD<=V  FIELD>V  FIELD>=V   a range: `price<100`, `price>=10`
 *
 * A value is a number when it is a JSON number (`438.5`, `-3`, `1e3`), a
 * boolean when it is `true` or `false`, and a string otherwise; a value in
 * double quotes is always a string (`sku="00123"`, `name="a,b"`), its
 * quotes dropped (inside, `\"` is a quote and `\\` a backslash).  Values
 * stay values: whatever they hold (`{"$gt": ""}`, `$where`) they are sent
 * as BSON or JSON values of their type, never read as query syntax.  The
 * field must be a plain name (rb_atlas_check_field: no '$', no control
 * characters); a '.' reaches into nested metadata.
 *
 * Errors (RB_ERR_ARG) quote the argument: no field, no operator, an empty
 * value, a list or a boolean in a range, an unclosed quote, more than
 * RB_FILTER_MAX_VALUES values.
 *
 * rb_search_filter owns the copies its condition points into: `cond` is
 * valid while the filter is, and the filter must not be copied.
 */
#ifndef RB_SEARCH_FILTER_H
#define RB_SEARCH_FILTER_H

#include "common/error.h"
#include "sink/sink.h"

#define RB_FILTER_MAX_VALUES 64

typedef struct rb_search_filter {
    rb_sink_filter_eq cond;
    rb_sink_value values[RB_FILTER_MAX_VALUES];
    char *text; /* the argument, cut in place for the field and the strings */
} rb_search_filter;

int rb_search_filter_parse(const char *arg, rb_search_filter *out, rb_error *err);
void rb_search_filter_free(rb_search_filter *f);

#endif
