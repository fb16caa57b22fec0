/*
 * chunk.c -- see chunk.h.  Two passes: the text becomes a list of units
 * (the pieces between places where a cut keeps the tokens: words,
 * punctuation marks, ideographs), each with its token count and the kind
 * of gap that follows it; then the units are packed greedily into chunks.
 */
#include "transform/chunk.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* How good a place the gap after a unit is for a cut; higher is better. */
enum { GAP_NONE = 0, GAP_WORD, GAP_SENTENCE, GAP_PARAGRAPH };

typedef struct unit {
    size_t start, end;   /* bytes */
    size_t cstart, cend; /* code points */
    size_t tokens;
    unsigned char gap;   /* the gap after this unit */
    bool space_after;    /* white space follows */
    bool must_cut;       /* the next unit may not share this one's chunk */
    bool word;           /* a run of word characters (not punctuation alone) */
    bool has_letters;    /* holds something other than dropped code points */
    bool sentence_end;   /* a sentence terminator, or a closer right after one */
    bool full_width_end; /* ends a sentence even without white space after it */
} unit;

typedef struct units {
    unit *v;
    size_t n, cap;
} units;

static int units_push(units *u, const unit *x) {
    if (u->n == u->cap) {
        size_t cap = u->cap ? 2 * u->cap : 64;
        unit *v = realloc(u->v, cap * sizeof *v);
        if (!v) return -1;
        u->v = v;
        u->cap = cap;
    }
    u->v[u->n++] = *x;
    return 0;
}

/* One code point at `i`; an invalid byte is one byte of cp -1. */
static size_t next_cp(const char *s, size_t len, size_t i, int32_t *cp) {
    utf8proc_int32_t c;
    utf8proc_ssize_t k =
        utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &c);
    if (k <= 0) {
        *cp = -1;
        return 1;
    }
    *cp = c;
    return (size_t)k;
}

static rb_tokenizer_class class_of(const rb_tokenizer *t, int32_t cp) {
    return cp < 0 ? RB_TOK_CLASS_DROPPED : rb_tokenizer_char_class(t, cp);
}

static bool is_full_width_terminator(int32_t cp) {
    return cp == 0x3002 || cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF61;
}

static bool is_terminator(int32_t cp) {
    return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026 || is_full_width_terminator(cp);
}

static bool is_closer(int32_t cp) {
    return cp == ')' || cp == ']' || cp == '}' || cp == '"' || cp == '\'' || cp == 0x201D ||
           cp == 0x2019 || cp == 0x00BB || cp == 0x300D || cp == 0x300F || cp == 0xFF09;
}

/* The scan's state between units: the white space seen since the last. */
typedef struct scan {
    units *u;
    size_t newlines;
    bool space;
} scan;

/* Records the gap before a new unit on the unit before it, then adds the
 * new one. */
static int begin_unit(scan *sc, const unit *x) {
    if (sc->u->n > 0) {
        unit *prev = &sc->u->v[sc->u->n - 1];
        prev->space_after = sc->space;
        prev->gap = sc->newlines >= 2 ? GAP_PARAGRAPH : sc->space ? GAP_WORD : GAP_NONE;
        if (prev->sentence_end && (sc->space || prev->full_width_end) && prev->gap < GAP_SENTENCE)
            prev->gap = GAP_SENTENCE;
    }
    sc->space = false;
    sc->newlines = 0;
    return units_push(sc->u, x);
}

static int build_units(const rb_tokenizer *t, const char *text, size_t len, units *u,
                       size_t *n_chars) {
    scan sc = {u, 0, false};
    bool open = false; /* the last unit is a word still growing */
    size_t ci = 0;
    for (size_t i = 0; i < len; ci++) {
        int32_t cp;
        size_t k = next_cp(text, len, i, &cp);
        rb_tokenizer_class c = class_of(t, cp);
        if (c == RB_TOK_CLASS_SPACE) {
            open = false;
            sc.space = true;
            sc.newlines += cp == '\n';
        } else if (c == RB_TOK_CLASS_ALONE) {
            open = false;
            unit x = {.start = i, .end = i + k, .cstart = ci, .cend = ci + 1, .has_letters = true};
            const unit *prev = u->n ? &u->v[u->n - 1] : NULL;
            if (is_terminator(cp)) {
                x.sentence_end = true;
                x.full_width_end = is_full_width_terminator(cp);
            } else if (is_closer(cp) && prev && prev->sentence_end && !sc.space) {
                x.sentence_end = true;
                x.full_width_end = prev->full_width_end;
            }
            if (begin_unit(&sc, &x) != 0) return -1;
        } else if (open && !sc.space) {
            unit *w = &u->v[u->n - 1];
            w->end = i + k;
            w->cend = ci + 1;
            w->has_letters |= c == RB_TOK_CLASS_WORD;
        } else {
            unit x = {.start = i,
                      .end = i + k,
                      .cstart = ci,
                      .cend = ci + 1,
                      .word = true,
                      .has_letters = c == RB_TOK_CLASS_WORD};
            if (begin_unit(&sc, &x) != 0) return -1;
            open = true;
        }
        i += k;
    }
    if (u->n > 0) u->v[u->n - 1].space_after = sc.space;
    *n_chars = ci;
    return 0;
}

static int count_tokens(const rb_tokenizer *t, const char *text, const unit *x, size_t *n,
                        rb_error *err) {
    if (!x->has_letters) {
        *n = 0;
        return 0;
    }
    if (!x->word) {
        *n = 1; /* a punctuation mark or an ideograph is always one token */
        return 0;
    }
    if (t) return rb_tokenizer_count(t, text + x->start, x->end - x->start, n, err);
    size_t bytes = x->end - x->start;
    *n = bytes < 4 ? 1 : (bytes + 3) / 4;
    return 0;
}

static bool cut_allowed_before(const rb_tokenizer *t, int32_t cp) {
    if (class_of(t, cp) == RB_TOK_CLASS_DROPPED) return false;
    utf8proc_category_t c = utf8proc_category(cp);
    return c != UTF8PROC_CATEGORY_MN && c != UTF8PROC_CATEGORY_ME && c != UTF8PROC_CATEGORY_MC &&
           c != UTF8PROC_CATEGORY_SK; /* emoji skin-tone modifiers */
}

/* Replaces the word `x` by segments of at most `limit` code points whose
 * tokens fit `max_tokens`, each but the last ending in a forced cut. */
static int push_segments(const rb_tokenizer *t, const char *text, const unit *x, size_t limit,
                         size_t max_tokens, units *out, rb_error *err) {
    size_t i = x->start, ci = x->cstart;
    while (i < x->end) {
        size_t want = limit;
        for (;;) {
            /* Up to `want` code points, backing off to a place where a cut
             * does not split a character from its marks. */
            size_t j = i, cj = ci, best = i, cbest = ci;
            while (j < x->end && cj - ci < want) {
                int32_t cp;
                j += next_cp(text, x->end, j, &cp);
                cj++;
                if (j == x->end) {
                    best = j;
                    cbest = cj;
                } else {
                    int32_t nx;
                    next_cp(text, x->end, j, &nx);
                    if (nx < 0 || cut_allowed_before(t, nx)) {
                        best = j;
                        cbest = cj;
                    }
                }
            }
            if (best == i) { /* marks all the way: cut after `want` code points anyway */
                best = j;
                cbest = cj;
            }
            unit s = *x;
            s.start = i;
            s.end = best;
            s.cstart = ci;
            s.cend = cbest;
            s.has_letters = true;
            if (count_tokens(t, text, &s, &s.tokens, err) != 0) return -1;
            if (s.tokens > max_tokens && want > 1) {
                want /= 2;
                continue;
            }
            if (best < x->end) {
                s.gap = GAP_NONE;
                s.space_after = false;
                s.must_cut = true;
            }
            if (units_push(out, &s) != 0) return rb_error_nomem(err, RB_STAGE_TRANSFORM, "chunks");
            i = best;
            ci = cbest;
            break;
        }
    }
    return 0;
}

static int too_many(rb_error *err, const rb_chunk_opts *o, size_t total) {
    return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                        "the text (%zu tokens) makes more than text.chunk.max.count = %zu chunks "
                        "of at most %zu tokens (text.chunk.max.tokens); shorten the text or "
                        "raise the limit",
                        total, o->max_count, o->max_tokens);
}

static int pack(const rb_chunk_opts *o, const unit *u, size_t m, size_t total, rb_chunk **out,
                size_t *n_out, rb_error *err) {
    size_t *P = malloc((m + 1) * sizeof *P);
    rb_chunk *chunks = NULL;
    size_t n = 0, cap = 0;
    if (!P) return rb_error_nomem(err, RB_STAGE_TRANSFORM, "chunks");
    P[0] = 0;
    for (size_t i = 0; i < m; i++) P[i + 1] = P[i] + u[i].tokens;
    const size_t max = o->max_tokens;
    size_t s = 0, first_new = 0; /* the first unit no chunk holds yet */
    while (s < m) {
        size_t e = s;
        while (e + 1 < m && !u[e].must_cut && P[e + 2] - P[s] <= max) e++;
        size_t cut = e;
        if (e + 1 < m && !u[e].must_cut) {
            /* The strongest kind of gap in the window, the latest of them:
             * as a recursive splitter would, by paragraphs, then
             * sentences, then words, each as full as that allows. */
            int best_gap = -1;
            for (size_t g = first_new; g <= e; g++)
                if ((int)u[g].gap >= best_gap) {
                    best_gap = u[g].gap;
                    cut = g;
                }
        }
        if (o->max_count && n == o->max_count) {
            free(P);
            free(chunks);
            return too_many(err, o, total);
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            rb_chunk *grown = realloc(chunks, cap * sizeof *grown);
            if (!grown) {
                free(P);
                free(chunks);
                return rb_error_nomem(err, RB_STAGE_TRANSFORM, "chunks");
            }
            chunks = grown;
        }
        chunks[n++] =
            (rb_chunk){u[s].start, u[cut].end, u[s].cstart, u[cut].cend, P[cut + 1] - P[s]};
        if (cut + 1 >= m) break;
        /* The next chunk starts after the cut, or earlier by the overlap:
         * at white space, not across a forced cut, and leaving room for
         * the unit after the cut so that every chunk brings new text. */
        size_t next = cut + 1;
        first_new = cut + 1;
        if (o->overlap_tokens > 0 && !u[cut].must_cut) {
            for (size_t t = cut; t > s; t--) {
                size_t acc = P[cut + 1] - P[t];
                if (acc > o->overlap_tokens || acc + u[cut + 1].tokens > max) break;
                if (t < cut && u[t].must_cut) break;
                if (u[t - 1].space_after) next = t;
            }
        }
        s = next;
    }
    free(P);
    *out = chunks;
    *n_out = n;
    return 0;
}

int rb_chunk_split(const rb_chunk_opts *o, const char *text, size_t len, rb_chunk **out, size_t *n,
                   rb_error *err) {
    *out = NULL;
    *n = 0;
    if (o->max_tokens < 1 || o->overlap_tokens >= o->max_tokens)
        return rb_error_set(err, RB_ERR_TRANSFORM, RB_STAGE_TRANSFORM,
                            "chunk options: max tokens %zu and overlap %zu (the overlap must be "
                            "smaller)",
                            o->max_tokens, o->overlap_tokens);
    units raw = {0}, fin = {0};
    size_t n_chars = 0, total = 0;
    int rc = -1;
    if (build_units(o->tokenizer, text, len, &raw, &n_chars) != 0) {
        rb_error_nomem(err, RB_STAGE_TRANSFORM, "chunks");
        goto out;
    }
    for (size_t i = 0; i < raw.n; i++) {
        if (count_tokens(o->tokenizer, text, &raw.v[i], &raw.v[i].tokens, err) != 0) goto out;
        total += raw.v[i].tokens;
    }
    /* Words that WordPiece would make one [UNK] become segments that keep
     * their pieces; the text fits when it does so counted (a short text
     * with one such word is still one chunk, the whole text, as without
     * chunking).  Otherwise words that do not fit a chunk are cut too. */
    size_t word_limit = o->tokenizer ? rb_tokenizer_max_word_chars(o->tokenizer) : SIZE_MAX;
    size_t raw_total = total;
    for (int pass = 0; pass < 2; pass++) {
        fin.n = 0;
        total = 0;
        for (size_t i = 0; i < raw.n; i++) {
            const unit *x = &raw.v[i];
            bool split = x->word && (x->cend - x->cstart > word_limit ||
                                     (pass == 1 && x->tokens > o->max_tokens));
            if (split) {
                size_t limit = word_limit < o->max_tokens ? word_limit : o->max_tokens;
                if (push_segments(o->tokenizer, text, x, limit, o->max_tokens, &fin, err) != 0)
                    goto out;
            } else if (units_push(&fin, x) != 0) {
                rb_error_nomem(err, RB_STAGE_TRANSFORM, "chunks");
                goto out;
            }
        }
        for (size_t i = 0; i < fin.n; i++) total += fin.v[i].tokens;
        if (pass == 0 && total <= o->max_tokens) {
            rb_chunk *one = malloc(sizeof *one);
            if (!one) {
                rb_error_nomem(err, RB_STAGE_TRANSFORM, "chunks");
                goto out;
            }
            *one = (rb_chunk){0, len, 0, n_chars, raw_total};
            *out = one;
            *n = 1;
            rc = 0;
            goto out;
        }
    }
    rc = pack(o, fin.v, fin.n, total, out, n, err);
out:
    free(raw.v);
    free(fin.v);
    return rc;
}

int rb_chunk_collection_name(const char *configured, const char *collection, rb_buf *out) {
    if (configured && configured[0]) return rb_buf_puts(out, configured);
    return rb_buf_printf(out, "%s_chunks", collection);
}
