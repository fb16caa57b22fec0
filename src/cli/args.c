#include "cli/args.h"

#include "common/suggest.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names longer than this are never options of ours; their suggestions
 * are looked up on a truncated copy. */
#define NAME_MAX_LEN 63

void rb_cli_init(rb_cli_parser *p, const rb_cli_option *opts, size_t nopts, int argc,
                 char **argv) {
    memset(p, 0, sizeof *p);
    p->opts = opts;
    p->nopts = nopts;
    p->argc = argc;
    p->argv = argv;
    p->next = 1;
    p->current = "";
}

const char *rb_cli_current(const rb_cli_parser *p) { return p->current; }

int rb_cli_index(const rb_cli_parser *p) { return p->next; }

static void remember(rb_cli_parser *p, const char *name, size_t len) {
    if (len >= sizeof p->current_buf) len = sizeof p->current_buf - 1;
    memcpy(p->current_buf, name, len);
    p->current_buf[len] = '\0';
    p->current = p->current_buf;
}

/* "unknown option '--cout' (did you mean --count?)" */
static int unknown(const rb_cli_parser *p, const char *typed, size_t len, rb_error *err) {
    char name[NAME_MAX_LEN + 1];
    if (len > NAME_MAX_LEN) len = NAME_MAX_LEN;
    memcpy(name, typed, len);
    name[len] = '\0';
    const char *names[64];
    size_t n = 0;
    char letters[64][3];
    names[n++] = "--help";
    for (size_t i = 0; i < p->nopts && n < 64; i++) {
        if (p->opts[i].name) {
            names[n++] = p->opts[i].name;
        } else if (p->opts[i].letter) {
            letters[n][0] = '-';
            letters[n][1] = p->opts[i].letter;
            letters[n][2] = '\0';
            names[n] = letters[n];
            n++;
        }
    }
    /* One edit per three characters (dashes included), one to three: a
     * swapped pair ("--cuont") is two edits, "--json" for "--index" five. */
    size_t max = strlen(name) / 3;
    if (max < 1) max = 1;
    if (max > 3) max = 3;
    const char *best = rb_suggest(name, names, n, max);
    if (best)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "unknown option '%s' (did you mean %s?)", name, best);
    return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "unknown option '%s'", name);
}

static int take_value(rb_cli_parser *p, const rb_cli_option *o, const char *inline_value,
                      const char **value, rb_error *err) {
    if (!o->takes_value) {
        if (inline_value) {
            rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "%s takes no value (got '%s')",
                         p->current, inline_value);
            return RB_CLI_ERROR;
        }
        *value = NULL;
        return o->id;
    }
    if (inline_value) {
        *value = inline_value;
        return o->id;
    }
    if (p->next >= p->argc) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "%s needs a value", p->current);
        return RB_CLI_ERROR;
    }
    /* The next argument is the value even when it starts with a dash:
     * "--k -5" is a bad number, not a missing one. */
    *value = p->argv[p->next++];
    return o->id;
}

static int long_option(rb_cli_parser *p, const char *arg, const char **value, rb_error *err) {
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    remember(p, arg, len);
    if (len == 6 && strncmp(arg, "--help", 6) == 0 && !eq) return RB_CLI_HELP;
    for (size_t i = 0; i < p->nopts; i++) {
        const rb_cli_option *o = &p->opts[i];
        if (o->name && strlen(o->name) == len && strncmp(o->name, arg, len) == 0)
            return take_value(p, o, eq ? eq + 1 : NULL, value, err);
    }
    unknown(p, arg, len, err);
    return RB_CLI_ERROR;
}

static int short_option(rb_cli_parser *p, const char *arg, const char **value, rb_error *err) {
    remember(p, arg, 2);
    if (arg[1] == 'h' && arg[2] == '\0') return RB_CLI_HELP;
    for (size_t i = 0; i < p->nopts; i++) {
        const rb_cli_option *o = &p->opts[i];
        if (o->letter != arg[1]) continue;
        if (arg[2] == '\0') return take_value(p, o, NULL, value, err);
        if (o->takes_value) return take_value(p, o, arg + 2, value, err);
        break; /* "-qx": letters are not bundled */
    }
    unknown(p, arg, strlen(arg), err);
    return RB_CLI_ERROR;
}

int rb_cli_next(rb_cli_parser *p, const char **value, rb_error *err) {
    *value = NULL;
    if (p->next >= p->argc) return RB_CLI_END;
    const char *arg = p->argv[p->next++];
    if (!p->options_ended && strcmp(arg, "--") == 0) {
        p->options_ended = true;
        if (p->next >= p->argc) return RB_CLI_END;
        arg = p->argv[p->next++];
    }
    if (p->options_ended || arg[0] != '-' || arg[1] == '\0') {
        if (p->stop_at_operand) p->options_ended = true;
        *value = arg;
        return RB_CLI_OPERAND;
    }
    return arg[1] == '-' ? long_option(p, arg, value, err) : short_option(p, arg, value, err);
}

int rb_cli_usage_error(const char *verb, const rb_error *err) {
    fprintf(stderr, "ragbatch %s: %s (see 'ragbatch %s --help')\n", verb, err->msg, verb);
    return 2;
}

int rb_cli_add_set(const char *verb, char **sets, size_t *nsets, const char *value) {
    if (*nsets == RB_CLI_MAX_SETS) {
        fprintf(stderr, "ragbatch %s: more than %d --set options\n", verb, RB_CLI_MAX_SETS);
        return 2;
    }
    /* argv's strings are the process's own to keep; the parser hands them
     * out as const only so that it cannot change them itself. */
    sets[(*nsets)++] = (char *)value;
    return 0;
}

int rb_cli_long(const char *opt, const char *s, long min, long max, long *out, rb_error *err) {
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || errno != 0 || *end != '\0' || v < min || v > max)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "%s takes a whole number from %ld to %ld, not '%s'", opt, min, max, s);
    *out = v;
    return 0;
}

int rb_cli_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
               rb_error *err) {
    char *end = NULL;
    errno = 0;
    /* strtoull accepts "-1" as a huge number: refuse signs up front. */
    unsigned long long v = (*s >= '0' && *s <= '9') ? strtoull(s, &end, 10) : 0;
    if (!end || *end != '\0' || errno != 0 || v < min || v > max)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "%s takes a whole number from %" PRIu64 " to %" PRIu64 ", not '%s'",
                            opt, min, max, s);
    *out = (uint64_t)v;
    return 0;
}

int rb_cli_double(const char *opt, const char *s, double min, double max, double *out,
                  rb_error *err) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end != '\0' || errno == ERANGE || !isfinite(v) || v < min || v > max)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                            "%s takes a number from %g to %g, not '%s'", opt, min, max, s);
    *out = v;
    return 0;
}
