/*
 * args.h -- the one command-line parser of every ragbatch verb.
 *
 * A verb describes its options in a table (rb_cli_option) and pulls the
 * arguments one at a time with rb_cli_next(), switching on the id it gets
 * back.  The parser owns the syntax, so every verb accepts the same forms:
 *
 *   --name VALUE  and  --name=VALUE      for an option that takes a value
 *   -X VALUE      and  -XVALUE           for a one-letter option
 *   --name                               for a flag (--name=x is an error)
 *   -h, --help                           on every verb (RB_CLI_HELP)
 *   --                                   everything after it is an operand
 *   -                                    an operand (conventionally stdin)
 *
 * Options and operands may be interleaved, unless the verb asks for
 * `stop_at_operand` (the first operand ends the options, as `embed` needs
 * for texts that begin with a dash).  An unknown option is an error that
 * names the closest known option when it looks like a typo.
 *
 * The parser keeps no global state (unlike getopt's optind): all of it is
 * in the rb_cli_parser the caller owns.  Values and operands returned are
 * pointers into argv, valid as long as argv is.  Value checks (numbers,
 * ranges, NAME=VALUE shapes) stay with the verb, which knows their meaning;
 * rb_cli_long() and friends give them one wording.
 */
#ifndef RB_CLI_ARGS_H
#define RB_CLI_ARGS_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One option of a verb's table.  `name` is the long form with its dashes
 * ("--count") and may be NULL for an option that only has a letter;
 * `letter` is the one-letter form without its dash ('q' for -q), or 0.
 * `id` must be positive; it is what rb_cli_next() returns. */
typedef struct rb_cli_option {
    const char *name;
    char letter;
    bool takes_value;
    int id;
} rb_cli_option;

/* What rb_cli_next() returns besides an option's id. */
enum {
    RB_CLI_END = 0,      /* no arguments left */
    RB_CLI_OPERAND = -1, /* *value is an operand (a non-option argument) */
    RB_CLI_HELP = -2,    /* -h or --help */
    RB_CLI_ERROR = -3    /* err says what is wrong (code RB_ERR_ARG) */
};

typedef struct rb_cli_parser {
    const rb_cli_option *opts;
    size_t nopts;
    int argc;
    char **argv;
    int next;             /* index of the next argument to look at */
    bool stop_at_operand; /* the first operand ends the options */
    bool options_ended;   /* "--" (or the first operand, see above) was seen */
    const char *current;  /* the option as typed, for messages ("--count") */
    char current_buf[64]; /* `current` for "--count=5" and "-Xv" forms */
} rb_cli_parser;

/* Starts parsing argv[1..argc) (argv[0] is the verb's name) against the
 * table `opts[0..nopts)`.  The table must outlive the parser. */
void rb_cli_init(rb_cli_parser *p, const rb_cli_option *opts, size_t nopts, int argc, char **argv);

/* The next argument: an option's id (with *value set for an option that
 * takes one, NULL otherwise), RB_CLI_OPERAND, RB_CLI_HELP, RB_CLI_END, or
 * RB_CLI_ERROR with `err` filled (unknown option, missing value, a value
 * given to a flag). */
int rb_cli_next(rb_cli_parser *p, const char **value, rb_error *err);

/* The option most recently returned, as the user spelled its name
 * ("--count", "-X"); for messages about its value. */
const char *rb_cli_current(const rb_cli_parser *p);

/* The remaining arguments, for a verb that stops at its first operand:
 * after rb_cli_next() returned RB_CLI_OPERAND with stop_at_operand set,
 * argv[rb_cli_index(p) - 1] is that operand and the rest follow it. */
int rb_cli_index(const rb_cli_parser *p);

/* Prints "ragbatch VERB: MESSAGE (see 'ragbatch VERB --help')" to stderr
 * and returns 2, the usage-error exit status. */
int rb_cli_usage_error(const char *verb, const rb_error *err);

/* How many --set KEY=VALUE options one command line may give. */
#define RB_CLI_MAX_SETS 64

/* Appends a --set value to sets[*nsets] (sets holds RB_CLI_MAX_SETS; the
 * pointer is argv's, not copied).  Returns 0, or 2 (the usage-error exit
 * status) after printing "ragbatch VERB: more than 64 --set options" when
 * it is full. */
int rb_cli_add_set(const char *verb, char **sets, size_t *nsets, const char *value);

/* Value checks with one wording: "OPT takes a whole number from MIN to
 * MAX, not 'S'".  Return 0, or -1 with `err` filled. */
int rb_cli_long(const char *opt, const char *s, long min, long max, long *out, rb_error *err);
int rb_cli_u64(const char *opt, const char *s, uint64_t min, uint64_t max, uint64_t *out,
               rb_error *err);
int rb_cli_double(const char *opt, const char *s, double min, double max, double *out,
                  rb_error *err);

#endif
