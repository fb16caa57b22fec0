/*
 * schema_pattern.c -- PCRE2 behind schema_pattern.h.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "validate/schema_pattern.h"

#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rb_schema_regex {
    pcre2_code *code;
};

struct rb_schema_regex_limits {
    pcre2_match_context *mctx;
};

struct rb_schema_regex_scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* this thread's copy: its limits follow each subject */
};

rb_schema_regex_limits *rb_schema_regex_limits_new(void) {
    rb_schema_regex_limits *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->mctx = pcre2_match_context_create(NULL);
    if (!l->mctx) {
        free(l);
        return NULL;
    }
    pcre2_set_heap_limit(l->mctx, RB_SCHEMA_REGEX_HEAP_LIMIT_KIB);
    return l;
}

void rb_schema_regex_limits_free(rb_schema_regex_limits *limits) {
    if (!limits) return;
    pcre2_match_context_free(limits->mctx);
    free(limits);
}

/* Refuses the PCRE2 syntax that ECMA-262 does not have, so that a pattern
 * means what it would in the schema author's other tools rather than
 * something PCRE2-specific: the escapes \\A \\Z \\z \\G \\K \\R \\X \\h \\H
 * \\N \\C \\Q \\E \\g \\o \\a \\e, and groups "(?" other than ECMA's
 * (?: (?= (?! (?<= (?<! and (?<name>.  Returns 0, or -1 with `why` set. */
static int ecma_only(const char *src, char *why, size_t why_size) {
    size_t chars = 0;
    for (size_t i = 0; src[i]; i++) {
        if (((unsigned char)src[i] & 0xC0) != 0x80) chars++;
        if (src[i] == '\\') {
            char e = src[i + 1];
            if (e && strchr("AZzGKRXhHNCQEgoae", e)) {
                snprintf(why, why_size, "\\%c is PCRE syntax, not ECMA-262, at character %zu", e,
                         chars - 1);
                return -1;
            }
            if (e) i++;
            continue;
        }
        if (src[i] == '(' && src[i + 1] == '?') {
            const char *g = src + i + 2;
            bool ok = g[0] == ':' || g[0] == '=' || g[0] == '!' ||
                      (g[0] == '<' && (g[1] == '=' || g[1] == '!' || (g[1] && g[1] != '>')));
            if (!ok) {
                snprintf(why, why_size,
                         "the group \"(?%c\" is PCRE syntax, not ECMA-262, at character %zu",
                         g[0] ? g[0] : ' ', chars - 1);
                return -1;
            }
        }
    }
    return 0;
}

rb_schema_regex *rb_schema_regex_compile(const char *src, char *why, size_t why_size) {
    if (ecma_only(src, why, why_size) != 0) return NULL;
    pcre2_compile_context *cctx = pcre2_compile_context_create(NULL);
    if (!cctx) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    pcre2_set_newline(cctx, PCRE2_NEWLINE_ANYCRLF);
    pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_ALT_BSUX);
    int code = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                      PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS,
                      &code, &offset, cctx);
    pcre2_compile_context_free(cctx);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0) snprintf((char *)msg, 256, "?");
        size_t chars = 0;
        for (size_t i = 0; i < offset && src[i]; i++)
            if (((unsigned char)src[i] & 0xC0) != 0x80) chars++;
        snprintf(why, why_size, "%s at character %zu", (const char *)msg, chars);
        return NULL;
    }
    /* JIT is an optimisation only: without it (no JIT support, or no
     * executable memory) the interpreter gives the same answers. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    rb_schema_regex *out = calloc(1, sizeof *out);
    if (!out) {
        pcre2_code_free(re);
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    out->code = re;
    return out;
}

void rb_schema_regex_free(rb_schema_regex *re) {
    if (!re) return;
    pcre2_code_free(re->code);
    free(re);
}

unsigned long rb_schema_regex_match_limit(size_t len) {
    uint64_t limit = RB_SCHEMA_REGEX_MATCH_BASE + (uint64_t)RB_SCHEMA_REGEX_MATCH_PER_BYTE * len;
    return limit > UINT32_MAX ? UINT32_MAX : (unsigned long)limit;
}

void rb_schema_regex_scratch_free(rb_schema_regex_scratch *scratch) {
    if (!scratch) return;
    pcre2_match_data_free(scratch->md);
    pcre2_match_context_free(scratch->mctx);
    free(scratch);
}

int rb_schema_regex_match(const rb_schema_regex *re, const rb_schema_regex_limits *limits,
                          const char *s, size_t len, rb_schema_regex_scratch **scratch) {
    if (!*scratch) {
        rb_schema_regex_scratch *sc = calloc(1, sizeof *sc);
        if (!sc) return RB_SCHEMA_REGEX_LIMIT;
        /* One pair: only "is there a match" is asked; a match that would
         * need more pairs still reports success (rc 0). */
        sc->md = pcre2_match_data_create(1, NULL);
        sc->mctx = pcre2_match_context_copy(limits->mctx);
        if (!sc->md || !sc->mctx) {
            rb_schema_regex_scratch_free(sc);
            return RB_SCHEMA_REGEX_LIMIT;
        }
        *scratch = sc;
    }
    pcre2_set_match_limit((*scratch)->mctx, (uint32_t)rb_schema_regex_match_limit(len));
    pcre2_set_depth_limit((*scratch)->mctx, (uint32_t)rb_schema_regex_match_limit(len));
    /* The strings come from the JSON parser, which has checked UTF-8. */
    int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK, (*scratch)->md,
                         (*scratch)->mctx);
    /* The JIT's stack is a fixed 32 KiB; the interpreter keeps its
     * backtracking on the heap, bounded by the depth and match limits. */
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT,
                         (*scratch)->md, (*scratch)->mctx);
    if (rc >= 0) return RB_SCHEMA_REGEX_MATCH;
    if (rc == PCRE2_ERROR_NOMATCH) return RB_SCHEMA_REGEX_NO_MATCH;
    return RB_SCHEMA_REGEX_LIMIT;
}
