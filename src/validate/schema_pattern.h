/*
 * schema_pattern.h -- JSON Schema patterns (pattern, patternProperties,
 * format "regex") as PCRE2 regular expressions in UTF mode.
 *
 * JSON Schema patterns are ECMA-262 regular expressions.  They are
 * compiled with PCRE2_UTF (a "." or a class matches one code point, not one
 * byte), PCRE2_ALT_BSUX and PCRE2_EXTRA_ALT_BSUX (\uhhhh, \u{h..} and
 * \xhh as ECMA-262 reads them), PCRE2_DOLLAR_ENDONLY ("$" is the end of
 * the string, not before a final newline), and newline convention ANYCRLF,
 * so that "." matches neither CR nor LF.  \d \w \s and \b stay ASCII, as in
 * ECMA-262 without the "u" flag; PCRE2_ALLOW_EMPTY_CLASS makes [] match
 * nothing and [^] any character, as in ECMA-262.  PCRE2-only syntax that
 * would silently mean something else in the author's other tools is a
 * compile error: the escapes \A \Z \z \G \K \R \X \h \H \N \C \Q \E \g
 * \o \a \e and "(?" groups other than (?: (?= (?! (?<= (?<! (?<name>.
 * Remaining differences are accepted as PCRE2 reads them (possessive
 * quantifiers, \v as any vertical space, \s without the Unicode spaces).
 *
 * A pattern is compiled once, at schema compile time, and JIT-compiled when
 * the library supports it.  Every match runs under the limits of
 * rb_schema_regex_limits: a match that exceeds them (catastrophic
 * backtracking such as ^(a+)+$ on "aaaa...b") stops there and is reported
 * as RB_SCHEMA_REGEX_LIMIT, never as a match and never as a crash.
 *
 * Compiled patterns and the limits are read-only after compilation and may
 * be shared by threads; each matching thread brings its own match data and
 * match context (rb_schema_regex_scratch).  JIT matching that runs out of
 * the JIT's fixed stack is retried by the interpreter, under the limits.
 */
#ifndef RB_SCHEMA_PATTERN_H
#define RB_SCHEMA_PATTERN_H

#include <stddef.h>

/* What one match may take: RB_SCHEMA_REGEX_MATCH_BASE plus
 * RB_SCHEMA_REGEX_MATCH_PER_BYTE per byte of the subject, both as PCRE2's
 * match limit (backtracking steps) and as its depth limit (nested
 * backtracking), and RB_SCHEMA_REGEX_HEAP_LIMIT_KIB of heap for the
 * interpreter's backtracking.  Proportional, so that an honest pattern
 * such as ^(a|b)*$ still decides a long string, while a catastrophic one
 * stops after work linear in the string. */
#define RB_SCHEMA_REGEX_MATCH_BASE 4096
#define RB_SCHEMA_REGEX_MATCH_PER_BYTE 32
#define RB_SCHEMA_REGEX_HEAP_LIMIT_KIB 65536

typedef struct rb_schema_regex rb_schema_regex;
typedef struct rb_schema_regex_limits rb_schema_regex_limits;
typedef struct rb_schema_regex_scratch rb_schema_regex_scratch;

enum { RB_SCHEMA_REGEX_NO_MATCH = 0, RB_SCHEMA_REGEX_MATCH = 1, RB_SCHEMA_REGEX_LIMIT = -1 };

/* The match limits above; NULL when out of memory. */
rb_schema_regex_limits *rb_schema_regex_limits_new(void);
void rb_schema_regex_limits_free(rb_schema_regex_limits *limits); /* accepts NULL */

/* Compiles NUL-terminated UTF-8 `src`.  On failure returns NULL and writes
 * PCRE2's reason and the character offset into `why`. */
rb_schema_regex *rb_schema_regex_compile(const char *src, char *why, size_t why_size);
void rb_schema_regex_free(rb_schema_regex *re); /* accepts NULL */

/* The match (and depth) limit for a subject of `len` bytes. */
unsigned long rb_schema_regex_match_limit(size_t len);

/* Per-thread match data, made on first use by rb_schema_regex_match. */
void rb_schema_regex_scratch_free(rb_schema_regex_scratch *scratch); /* accepts NULL */

/* Searches valid UTF-8 `s` (`len` bytes) for a match anywhere, as JSON
 * Schema's "pattern" does.  `*scratch` starts NULL and is reused across
 * calls.  Returns one of the RB_SCHEMA_REGEX_* values; out of memory counts
 * as RB_SCHEMA_REGEX_LIMIT, since no answer was reached. */
int rb_schema_regex_match(const rb_schema_regex *re, const rb_schema_regex_limits *limits,
                          const char *s, size_t len, rb_schema_regex_scratch **scratch);

#endif
