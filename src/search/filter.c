/* filter.c -- typed search filters from the command line; see filter.h. */
#include "search/filter.h"

#include "search/atlas.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Whether `s` is exactly a JSON number. */
static bool json_number(const char *s) {
    const char *p = s;
    if (*p == '-') p++;
    if (*p == '0')
        p++;
    else if (isdigit((unsigned char)*p))
        while (isdigit((unsigned char)*p)) p++;
    else
        return false;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) p++;
    }
    return *p == '\0';
}

/* Types the value `s` (NUL-terminated, unquoted). */
static int type_value(const char *arg, char *s, rb_sink_value *v, rb_error *err) {
    memset(v, 0, sizeof *v);
    if (!s[0])
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "--filter %s: an empty value (write \"\" for the empty string)", arg);
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
        v->type = RB_SINK_VALUE_BOOL;
        v->b = s[0] == 't';
        return 0;
    }
    if (json_number(s)) {
        errno = 0;
        char *end = NULL;
        double d = strtod(s, &end);
        if (errno == ERANGE && !isfinite(d))
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                                "--filter %s: %s is out of a double's range", arg, s);
        v->type = RB_SINK_VALUE_NUMBER;
        v->num = d;
        if (!strpbrk(s, ".eE")) {
            errno = 0;
            long long i = strtoll(s, &end, 10);
            if (errno == 0 && *end == '\0') {
                v->is_int = true;
                v->i = (int64_t)i;
            }
        }
        return 0;
    }
    v->type = RB_SINK_VALUE_STRING;
    v->str = s;
    return 0;
}

/* Cuts the next value off `*p` (a quoted one unescaped in place) and
 * types it; `list` says whether a ',' ends it. */
static int next_value(const char *arg, char **p, bool list, rb_sink_value *v, rb_error *err) {
    char *s = *p;
    if (*s == '"') {
        char *w = s, *r = s + 1;
        for (; *r && *r != '"'; r++) {
            if (*r == '\\' && (r[1] == '"' || r[1] == '\\')) r++;
            *w++ = *r;
        }
        if (*r != '"')
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                                "--filter %s: a quote is not closed", arg);
        r++;
        if (*r && !(list && *r == ','))
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                                "--filter %s: text after a closing quote", arg);
        *w = '\0';
        *p = *r ? r + 1 : r;
        memset(v, 0, sizeof *v);
        v->type = RB_SINK_VALUE_STRING;
        v->str = s;
        return 0;
    }
    char *end = list ? strchr(s, ',') : NULL;
    if (end) {
        *end = '\0';
        *p = end + 1;
    } else {
        *p = s + strlen(s);
    }
    return type_value(arg, s, v, err);
}

int rb_search_filter_parse(const char *arg, rb_search_filter *f, rb_error *err) {
    memset(f, 0, sizeof *f);
    if (!(f->text = strdup(arg))) return rb_error_nomem(err, RB_STAGE_NONE, "filter");
    char *t = f->text;
    size_t flen = strcspn(t, "<>=");
    if (!t[flen]) {
        rb_search_filter_free(f);
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "--filter takes FIELD=VALUE, FIELD=A,B, FIELD<V, FIELD<=V, FIELD>V or "
                            "FIELD>=V, not '%s'",
                            arg);
    }
    char *op = t + flen;
    rb_sink_filter_op kind = RB_SINK_FILTER_EQ;
    size_t oplen = 1;
    if (op[0] == '<' || op[0] == '>') {
        bool eq = op[1] == '=';
        oplen = eq ? 2 : 1;
        kind = op[0] == '<' ? (eq ? RB_SINK_FILTER_LTE : RB_SINK_FILTER_LT)
                            : (eq ? RB_SINK_FILTER_GTE : RB_SINK_FILTER_GT);
    }
    char *rest = op + oplen;
    *op = '\0';
    int rc = flen == 0 ? rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                                      "--filter %s: no field name before the operator", arg)
                       : rb_atlas_check_field(t, err);
    size_t n = 0;
    bool list = kind == RB_SINK_FILTER_EQ;
    if (rc == 0 && !list && rest[0] != '"' && strchr(rest, ','))
        rc = rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                          "--filter %s: a range takes one value (quote a string with a comma)",
                          arg);
    while (rc == 0 && (n == 0 || *rest)) {
        if (n == RB_FILTER_MAX_VALUES) {
            rc = rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "--filter %s: more than %d values",
                              arg, RB_FILTER_MAX_VALUES);
            break;
        }
        rc = next_value(arg, &rest, list, &f->values[n], err);
        if (rc == 0) n++;
    }
    if (rc == 0 && kind != RB_SINK_FILTER_EQ && f->values[0].type == RB_SINK_VALUE_BOOL)
        rc = rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                          "--filter %s: a range of booleans means nothing; use =true or =false",
                          arg);
    if (rc != 0) {
        rb_search_filter_free(f);
        return -1;
    }
    f->cond.field = t;
    f->cond.op = n > 1 ? RB_SINK_FILTER_IN : kind;
    f->cond.values = f->values;
    f->cond.n_values = n;
    return 0;
}

void rb_search_filter_free(rb_search_filter *f) {
    free(f->text);
    f->text = NULL;
}
