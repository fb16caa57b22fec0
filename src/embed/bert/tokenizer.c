#include "embed/bert/tokenizer.h"

#include "embed/bert/tokenizer_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

void rb_tokenizer_opts_default(rb_tokenizer_opts *o) {
    memset(o, 0, sizeof *o);
    o->do_lower_case = true;
    o->strip_accents = -1;
    o->tokenize_chinese_chars = true;
    o->max_input_chars_per_word = 100;
}

/* FNV-1a: incremental, so that Unigram can hash a growing piece. */
#define FNV_START 2166136261u
static uint32_t fnv_more(uint32_t h, const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static int32_t lookup_hashed(const rb_tokenizer *t, const char *s, size_t len, uint32_t h) {
    size_t i = h & t->table_mask;
    for (;;) {
        int32_t id = t->table[i];
        if (id < 0) return -1;
        if (t->lens[id] == len && memcmp(t->blob + t->offs[id], s, len) == 0) return id;
        i = (i + 1) & t->table_mask;
    }
}

int32_t rb_tok_lookup(const rb_tokenizer *t, const char *s, size_t len) {
    return lookup_hashed(t, s, len, fnv_more(FNV_START, s, len));
}

int32_t rb_tokenizer_token_id(const rb_tokenizer *t, const char *token) {
    return rb_tok_lookup(t, token, strlen(token));
}

const char *rb_tokenizer_token(const rb_tokenizer *t, int32_t id) {
    if (id < 0 || (size_t)id >= t->n) return NULL;
    return t->blob + t->offs[id];
}

size_t rb_tokenizer_vocab_size(const rb_tokenizer *t) { return t->n; }

void rb_tokenizer_destroy(rb_tokenizer *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].cps);
    for (size_t i = 0; i < t->n_norms; i++) {
        free(t->norms[i].pat);
        free(t->norms[i].with);
        rb_charsmap_destroy(t->norms[i].charsmap);
    }
    free(t->added);
    free(t->norms);
    free(t->pres);
    free(t->scores);
    free(t->prefix_bits);
    free(t->blob);
    free(t->offs);
    free(t->lens);
    free(t->table);
    free(t);
}

/* Decodes one UTF-8 sequence strictly (no overlongs, surrogates or values
 * above U+10FFFF).  Returns its length, or 0 if the bytes at `s` do not
 * start a valid sequence. */
static size_t utf8_decode(const unsigned char *s, size_t len, int32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    size_t need;
    int32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < need) return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return need;
}

/* Decodes `len` bytes, replacing each invalid byte with U+FFFD. */
static int decode_all(const char *text, size_t len, rb_cpbuf *out) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        int32_t cp = 0;
        size_t k = utf8_decode(s + i, len - i, &cp);
        if (k == 0) {
            cp = 0xFFFD;
            k = 1;
        }
        if (rb_cpbuf_push(out, cp) < 0) return -1;
        i += k;
    }
    return 0;
}

int rb_tok_decode(const char *s, size_t len, int32_t **cps, size_t *n) {
    rb_cpbuf b = {0};
    if (decode_all(s, len, &b) < 0) {
        free(b.v);
        return -1;
    }
    *cps = b.v;
    *n = b.n;
    return 0;
}

static bool is_control(int32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') return false;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: return true;
    default: return false;
    }
}

static bool is_space(int32_t cp) {
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ZS || c == UTF8PROC_CATEGORY_ZL || c == UTF8PROC_CATEGORY_ZP;
}

/* Unicode White_Space: what Rust's char::is_whitespace and the regex \s
 * of the tokenizers library mean. */
static bool is_white_space(int32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

/* The regex \w of the tokenizers library (Alphabetic, marks, decimal
 * digits, connector punctuation, joiners); Other_Alphabetic symbols are the
 * circled and squared letters. */
static bool is_word_char(int32_t cp) {
    if (cp == 0x200C || cp == 0x200D) return true;
    if ((cp >= 0x24B6 && cp <= 0x24E9) || (cp >= 0x1F130 && cp <= 0x1F149) ||
        (cp >= 0x1F150 && cp <= 0x1F169) || (cp >= 0x1F170 && cp <= 0x1F189))
        return true;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC: return true;
    default: return false;
    }
}

static bool is_punct(int32_t cp) {
    /* BERT counts every non-alphanumeric ASCII symbol as punctuation, even
     * those Unicode files under S* ($, +, <, ^, `, |, ~). */
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
        (cp >= 123 && cp <= 126))
        return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

/* The CJK Unified Ideographs blocks BERT isolates (not kana or hangul). */
static bool is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* Full lower-case mapping, one code point at a time (as Rust's
 * char::to_lowercase): U+0130 becomes "i" + U+0307, where the simple
 * mapping of utf8proc drops the dot. */
static int push_lower(rb_cpbuf *o, int32_t c) {
    if (c == 0x130) return rb_cpbuf_push(o, 'i') < 0 || rb_cpbuf_push(o, 0x307) < 0 ? -1 : 0;
    return rb_cpbuf_push(o, utf8proc_tolower(c));
}

/* ---- construction ------------------------------------------------------ */

rb_tokenizer *rb_tok_alloc(const char *const *tokens, size_t n, const char *source,
                           rb_error *err) {
    if (!source) source = "vocabulary";
    if (n == 0 || n > (size_t)INT32_MAX / 4) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: %s vocabulary", source,
                     n == 0 ? "empty" : "too large a");
        return NULL;
    }
    rb_tokenizer *t = calloc(1, sizeof *t);
    if (!t) goto nomem;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += strlen(tokens[i]) + 1;
    size_t tsize = 16;
    while (tsize < 2 * n) tsize <<= 1;
    t->blob = malloc(total);
    t->offs = malloc(n * sizeof *t->offs);
    t->lens = malloc(n * sizeof *t->lens);
    t->table = malloc(tsize * sizeof *t->table);
    if (!t->blob || !t->offs || !t->lens || !t->table) goto nomem;
    t->n = n;
    t->table_mask = tsize - 1;
    memset(t->table, 0xff, tsize * sizeof *t->table);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(tokens[i]);
        memcpy(t->blob + off, tokens[i], len + 1);
        t->offs[i] = off;
        t->lens[i] = (uint32_t)len;
        off += len + 1;
        if (len > t->max_piece) t->max_piece = len;
        if (len == 0) continue; /* a hole in the ids */
        /* A repeated token keeps the last id, as a dict built line by line would. */
        size_t h = fnv_more(FNV_START, tokens[i], len) & t->table_mask;
        while (t->table[h] >= 0 && !(t->lens[t->table[h]] == len &&
                                     memcmp(t->blob + t->offs[t->table[h]], tokens[i], len) == 0))
            h = (h + 1) & t->table_mask;
        t->table[h] = (int32_t)i;
    }
    t->model = RB_TOKM_WORDPIECE;
    t->unk_id = -1;
    memcpy(t->prefix, "##", 3);
    t->prefix_len = 2;
    t->max_chars = 100;
    return t;
nomem:
    rb_tokenizer_destroy(t);
    rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer");
    return NULL;
}

int rb_tok_add_added(rb_tokenizer *t, const char *content, int32_t id, bool lstrip, bool rstrip,
                     bool single_word) {
    rb_cpbuf v = {0};
    if (decode_all(content, strlen(content), &v) < 0) {
        free(v.v);
        return -1;
    }
    if (v.n == 0) {
        free(v.v);
        return 0;
    }
    rb_tok_added *a = realloc(t->added, (t->n_added + 1) * sizeof *a);
    if (!a) {
        free(v.v);
        return -1;
    }
    t->added = a;
    /* Keep longest first, so that the first match at a position is the
     * longest, as the added-token matcher of `tokenizers` does. */
    size_t at = t->n_added;
    while (at > 0 && t->added[at - 1].len < v.n) {
        t->added[at] = t->added[at - 1];
        at--;
    }
    t->added[at] = (rb_tok_added){v.v, v.n, id, lstrip, rstrip, single_word};
    t->n_added++;
    return 0;
}

int rb_tok_push_norm(rb_tokenizer *t, const rb_tok_norm *n) {
    rb_tok_norm *a = realloc(t->norms, (t->n_norms + 1) * sizeof *a);
    if (!a) return -1;
    t->norms = a;
    t->norms[t->n_norms++] = *n;
    return 0;
}

int rb_tok_push_pre(rb_tokenizer *t, const rb_tok_pre *p) {
    rb_tok_pre *a = realloc(t->pres, (t->n_pres + 1) * sizeof *a);
    if (!a) return -1;
    t->pres = a;
    t->pres[t->n_pres++] = *p;
    return 0;
}

static void prefix_mark(rb_tokenizer *t, uint32_t h) {
    size_t b = h & t->prefix_mask;
    t->prefix_bits[b / 64] |= (uint64_t)1 << (b % 64);
}

static bool prefix_maybe(const rb_tokenizer *t, uint32_t h) {
    size_t b = h & t->prefix_mask;
    return (t->prefix_bits[b / 64] >> (b % 64)) & 1;
}

int rb_tok_set_unigram(rb_tokenizer *t, const double *scores, int32_t unk_id, bool byte_fallback) {
    t->model = RB_TOKM_UNIGRAM;
    t->unk_id = unk_id;
    t->byte_fallback = byte_fallback;
    t->scores = malloc(t->n * sizeof *t->scores);
    if (!t->scores) return -1;
    memcpy(t->scores, scores, t->n * sizeof *t->scores);
    size_t prefixes = 0;
    t->min_score = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (i == 0 || scores[i] < t->min_score) t->min_score = scores[i];
        prefixes += t->lens[i];
    }
    /* About 16 bits per prefix: few false "maybe"s. */
    size_t bits = 1024;
    while (bits < 16 * prefixes && bits < ((size_t)1 << 30)) bits <<= 1;
    t->prefix_mask = bits - 1;
    t->prefix_bits = calloc(bits / 64, sizeof *t->prefix_bits);
    if (!t->prefix_bits) return -1;
    for (size_t i = 0; i < t->n; i++) {
        const char *s = t->blob + t->offs[i];
        uint32_t h = FNV_START;
        for (size_t k = 0; k < t->lens[i]; k++) {
            h = fnv_more(h, s + k, 1);
            /* Prefixes end on code point boundaries. */
            if (k + 1 == t->lens[i] || ((unsigned char)s[k + 1] & 0xC0) != 0x80) prefix_mark(t, h);
        }
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_ids[b] = byte_fallback ? rb_tok_lookup(t, name, 6) : -1;
    }
    return 0;
}

rb_tokenizer *rb_tokenizer_new(const char *const *tokens, size_t n, const rb_tokenizer_opts *opts,
                               const char *source, rb_error *err) {
    rb_tokenizer_opts def;
    if (!opts) {
        rb_tokenizer_opts_default(&def);
        opts = &def;
    }
    if (!source) source = "vocabulary";
    rb_tokenizer *t = rb_tok_alloc(tokens, n, source, err);
    if (!t) return NULL;
    rb_tok_norm norm = {.kind = RB_NORM_BERT,
                        .clean = true,
                        .chinese = opts->tokenize_chinese_chars,
                        .lower = opts->do_lower_case,
                        .strip_accents = opts->strip_accents < 0 ? opts->do_lower_case
                                                                 : opts->strip_accents != 0};
    rb_tok_pre pre = {.kind = RB_PRE_BERT};
    if (rb_tok_push_norm(t, &norm) < 0 || rb_tok_push_pre(t, &pre) < 0) goto nomem;
    t->pre_lower = opts->pre_lowercase;
    t->max_chars = opts->max_input_chars_per_word ? opts->max_input_chars_per_word : 100;
    t->bert_classes = true;
    t->chinese = opts->tokenize_chinese_chars;

    const char *names[5] = {opts->unk_token ? opts->unk_token : "[UNK]",
                            opts->cls_token ? opts->cls_token : "[CLS]",
                            opts->sep_token ? opts->sep_token : "[SEP]",
                            opts->pad_token ? opts->pad_token : "[PAD]",
                            opts->mask_token ? opts->mask_token : "[MASK]"};
    int32_t ids[5];
    for (size_t i = 0; i < 5; i++) {
        ids[i] = rb_tokenizer_token_id(t, names[i]);
        /* [MASK] is optional: only an encoder being pre-trained needs it. */
        if (ids[i] < 0 && i != 4) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: special token \"%s\" is not in the vocabulary", source, names[i]);
            rb_tokenizer_destroy(t);
            return NULL;
        }
        if (ids[i] >= 0 && rb_tok_add_added(t, names[i], ids[i], false, false, false) < 0)
            goto nomem;
    }
    t->unk_id = ids[0];
    t->head[0] = ids[1];
    t->n_head = 1;
    t->tail[0] = ids[2];
    t->n_tail = 1;
    return t;
nomem:
    rb_tokenizer_destroy(t);
    rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer");
    return NULL;
}

rb_tokenizer *rb_tokenizer_new_from_file(const char *vocab_path, const rb_tokenizer_opts *opts,
                                         rb_error *err) {
    FILE *f = fopen(vocab_path, "rb");
    if (!f) {
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: cannot open the vocabulary: %s",
                     vocab_path, strerror(errno));
        return NULL;
    }
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            char *d = realloc(data, cap + 65536 + 1);
            if (!d) {
                free(data);
                fclose(f);
                rb_error_nomem(err, RB_STAGE_EMBED, vocab_path);
                return NULL;
            }
            data = d;
            cap += 65536;
        }
        size_t k = fread(data + len, 1, cap - len, f);
        len += k;
        if (k == 0) break;
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(data);
        rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: read error", vocab_path);
        return NULL;
    }
    data[len] = '\0';
    size_t lines = 0;
    for (size_t i = 0; i < len; i++) lines += data[i] == '\n';
    if (len > 0 && data[len - 1] != '\n') lines++;
    const char **toks = malloc((lines ? lines : 1) * sizeof *toks);
    if (!toks) {
        free(data);
        rb_error_nomem(err, RB_STAGE_EMBED, vocab_path);
        return NULL;
    }
    size_t n = 0;
    char *p = data, *end = data + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *stop = nl ? nl : end;
        char *next = stop + 1;
        if (stop > p && stop[-1] == '\r') stop--; /* tolerate CRLF files */
        if (memchr(p, '\0', (size_t)(stop - p)) != NULL) {
            free(toks);
            free(data);
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED, "%s: line %zu contains a NUL byte",
                         vocab_path, n + 1);
            return NULL;
        }
        *stop = '\0';
        toks[n++] = p;
        p = next;
    }
    rb_tokenizer *t = rb_tokenizer_new(toks, n, opts, vocab_path, err);
    free(toks);
    free(data);
    return t;
}

/* ---- encoding ------------------------------------------------------------ */

/* Per-call scratch. */
typedef struct enc_state {
    rb_cpbuf a, b;     /* normaliser double buffer */
    rb_cpbuf w, w2;    /* words' code points, back to back (pre-tokenizer double buffer) */
    size_t *ws, *wl;   /* word i: w.v[ws[i]], wl[i] code points */
    size_t *ws2, *wl2; /* the other buffer's */
    bool *w0, *w02;    /* word starts the text (Metaspace "first") */
    size_t nw, nw2, capw, capw2;
    char *bytes; /* one word's UTF-8 */
    size_t cap_bytes;
    size_t *cpoff; /* byte offset of each code point of the word, and the end */
    size_t cap_cpoff;
    double *best; /* Unigram lattice */
    size_t *from;
    int32_t *node;
    size_t cap_lattice;
    int32_t *out; /* token ids after the head; NULL: counting only */
    size_t n_out, cap_out;
} enc_state;

static void enc_free(enc_state *st) {
    free(st->a.v);
    free(st->b.v);
    free(st->w.v);
    free(st->w2.v);
    free(st->ws);
    free(st->wl);
    free(st->ws2);
    free(st->wl2);
    free(st->w0);
    free(st->w02);
    free(st->bytes);
    free(st->cpoff);
    free(st->best);
    free(st->from);
    free(st->node);
}

/* Appends one id; false once the output is full. */
static bool emit(enc_state *st, int32_t id) {
    if (st->n_out >= st->cap_out) return false;
    if (st->out) st->out[st->n_out] = id;
    st->n_out++;
    return true;
}

/* Encodes the word's code points as UTF-8 into st->bytes, with the byte
 * offset of each code point in st->cpoff; `gap` bytes are left free in
 * front.  Returns the byte length or (size_t)-1 when memory runs out. */
static size_t word_bytes(enc_state *st, const int32_t *w, size_t m, size_t gap) {
    if (st->cap_bytes < gap + 4 * m + 1) {
        char *b = realloc(st->bytes, gap + 4 * m + 1);
        if (!b) return (size_t)-1;
        st->bytes = b;
        st->cap_bytes = gap + 4 * m + 1;
    }
    if (st->cap_cpoff < m + 1) {
        size_t *o = realloc(st->cpoff, (m + 1) * sizeof *o);
        if (!o) return (size_t)-1;
        st->cpoff = o;
        st->cap_cpoff = m + 1;
    }
    size_t blen = 0;
    char *bytes = st->bytes + gap;
    for (size_t i = 0; i < m; i++) {
        st->cpoff[i] = blen;
        blen += (size_t)utf8proc_encode_char(w[i], (utf8proc_uint8_t *)bytes + blen);
    }
    st->cpoff[m] = blen;
    return blen;
}

/* WordPiece ids of one word; returns 1 while the output has room, 0 once
 * full, -1 when memory runs out.  The word is segmented whole before any
 * id is written, so that a word that cannot be segmented is one unknown
 * token even when the output fills inside it. */
static int wordpiece(const rb_tokenizer *t, enc_state *st, const int32_t *w, size_t m) {
    if (m > t->max_chars || m > RB_TOK_MAX_WORD) return emit(st, t->unk_id);
    size_t gap = t->prefix_len;
    if (word_bytes(st, w, m, gap) == (size_t)-1) return -1;
    char *bytes = st->bytes + gap;
    const size_t *offs = st->cpoff;
    int32_t pieces[RB_TOK_MAX_WORD];
    size_t np = 0, start = 0;
    while (start < m) {
        size_t end = m;
        int32_t id = -1;
        while (end > start) {
            const char *s = bytes + offs[start];
            size_t len = offs[end] - offs[start];
            if (len + (start > 0 ? gap : 0) > t->max_piece) {
                end--; /* longer than every token: no lookup can match */
                continue;
            }
            if (start > 0) {
                /* Put the prefix just before the piece: the bytes there
                 * belong to pieces already matched (or to the gap), so they
                 * may be borrowed and restored. */
                char *k = (char *)s - gap;
                char save[sizeof t->prefix];
                memcpy(save, k, gap);
                memcpy(k, t->prefix, gap);
                id = rb_tok_lookup(t, k, len + gap);
                memcpy(k, save, gap);
            } else {
                id = rb_tok_lookup(t, s, len);
            }
            if (id >= 0) break;
            end--;
        }
        if (id < 0) return emit(st, t->unk_id); /* no segmentation: unknown */
        pieces[np++] = id;
        start = end;
    }
    for (size_t i = 0; i < np; i++)
        if (!emit(st, pieces[i])) return 0;
    return st->n_out < st->cap_out;
}

static bool lattice_room(enc_state *st, size_t m) {
    if (st->cap_lattice >= m + 1) return true;
    double *b = realloc(st->best, (m + 1) * sizeof *b);
    if (b) st->best = b;
    size_t *f = realloc(st->from, (m + 1) * sizeof *f);
    if (f) st->from = f;
    int32_t *nd = realloc(st->node, (m + 1) * sizeof *nd);
    if (nd) st->node = nd;
    if (!b || !f || !nd) return false;
    st->cap_lattice = m + 1;
    return true;
}

/* Emits the ids of bytes [b0, b1) of the word as one unknown piece: the
 * piece itself if the vocabulary has it, else byte fallback, else unk. */
static int emit_unknown(const rb_tokenizer *t, enc_state *st, size_t b0, size_t b1) {
    int32_t id = rb_tok_lookup(t, st->bytes + b0, b1 - b0);
    if (id >= 0) return emit(st, id);
    if (t->byte_fallback) {
        bool all = true;
        for (size_t i = b0; i < b1 && all; i++)
            all = t->byte_ids[(unsigned char)st->bytes[i]] >= 0;
        if (all) {
            for (size_t i = b0; i < b1; i++)
                if (!emit(st, t->byte_ids[(unsigned char)st->bytes[i]])) return 0;
            return st->n_out < st->cap_out;
        }
    }
    return emit(st, t->unk_id);
}

/* Unigram: the best-scoring segmentation (Viterbi over piece scores, an
 * unknown code point costing min_score - 10), consecutive unknown code
 * points fused into one piece, as the tokenizers library does. */
static int unigram(const rb_tokenizer *t, enc_state *st, const int32_t *w, size_t m) {
    if (word_bytes(st, w, m, 0) == (size_t)-1 || !lattice_room(st, m)) return -1;
    const char *bytes = st->bytes;
    const size_t *offs = st->cpoff;
    double unk_score = t->min_score - 10.0;
    for (size_t i = 0; i <= m; i++) st->node[i] = -2; /* -2: not reached */
    st->best[0] = 0;
    for (size_t i = 0; i < m; i++) {
        double here = st->best[i];
        bool single = false;
        uint32_t h = FNV_START;
        for (size_t j = i + 1; j <= m; j++) {
            size_t len = offs[j] - offs[i];
            if (len > t->max_piece) break;
            h = fnv_more(h, bytes + offs[j - 1], offs[j] - offs[j - 1]);
            if (!prefix_maybe(t, h)) break;
            int32_t id = lookup_hashed(t, bytes + offs[i], len, h);
            if (id < 0) continue;
            double s = here + t->scores[id];
            if (st->node[j] == -2 || s > st->best[j]) {
                st->best[j] = s;
                st->from[j] = i;
                st->node[j] = id;
            }
            if (j == i + 1) single = true;
        }
        if (!single) {
            double s = here + unk_score;
            if (st->node[i + 1] == -2 || s > st->best[i + 1]) {
                st->best[i + 1] = s;
                st->from[i + 1] = i;
                st->node[i + 1] = t->unk_id;
            }
        }
    }
    /* Walk back, reversing the path in place in `from` (as next links). */
    size_t n_pieces = 0;
    for (size_t e = m; e > 0; e = st->from[e]) n_pieces++;
    size_t *path = malloc((n_pieces + 1) * sizeof *path);
    if (!path) return -1;
    size_t k = n_pieces;
    path[k] = m;
    for (size_t e = m; e > 0; e = st->from[e]) path[--k] = st->from[e];
    int rc = 1;
    for (size_t p = 0; p < n_pieces && rc == 1;) {
        size_t s = path[p], e = path[p + 1];
        if (st->node[e] == t->unk_id) {
            while (p + 1 < n_pieces && st->node[path[p + 2]] == t->unk_id) e = path[++p + 1];
            rc = emit_unknown(t, st, offs[s], offs[e]);
        } else {
            rc = emit(st, st->node[e]);
        }
        p++;
    }
    free(path);
    if (rc == 1) rc = st->n_out < st->cap_out;
    return rc;
}

/* ---- normalizers --------------------------------------------------------- */

static int norm_bert(const rb_tok_norm *nm, const int32_t *cps, size_t n, rb_cpbuf *o) {
    for (size_t i = 0; i < n; i++) {
        int32_t cp = cps[i];
        if (nm->clean && (cp == 0 || cp == 0xFFFD || is_control(cp))) continue;
        if (nm->clean && is_space(cp)) {
            if (rb_cpbuf_push(o, ' ') < 0) return -1;
            continue;
        }
        if (nm->chinese && is_cjk(cp)) {
            if (rb_cpbuf_push(o, ' ') < 0 || rb_cpbuf_push(o, cp) < 0 || rb_cpbuf_push(o, ' ') < 0)
                return -1;
            continue;
        }
        int32_t dec[32];
        size_t nd = 1;
        dec[0] = cp;
        if (nm->strip_accents) {
            int boundclass = 0;
            utf8proc_ssize_t k =
                utf8proc_decompose_char(cp, dec, 32, UTF8PROC_DECOMPOSE, &boundclass);
            nd = (k > 0 && k <= 32) ? (size_t)k : 1;
            if (k <= 0 || k > 32) dec[0] = cp;
        }
        for (size_t j = 0; j < nd; j++) {
            int32_t c = dec[j];
            if (nm->strip_accents && utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;
            if (nm->lower ? push_lower(o, c) < 0 : rb_cpbuf_push(o, c) < 0) return -1;
        }
    }
    return 0;
}

static int norm_unicode(utf8proc_option_t form, const int32_t *cps, size_t n, rb_cpbuf *o) {
    if (n == 0) return 0;
    utf8proc_uint8_t *u = malloc(4 * n + 1), *mapped = NULL;
    if (!u) return -1;
    utf8proc_ssize_t len = 0;
    for (size_t i = 0; i < n; i++) len += utf8proc_encode_char(cps[i], u + len);
    utf8proc_ssize_t r = utf8proc_map(u, len, &mapped, form);
    free(u);
    if (r < 0) return -1; /* only UTF8PROC_ERROR_NOMEM: the input is valid */
    int rc = 0;
    for (utf8proc_ssize_t i = 0; i < r && rc == 0;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate(mapped + i, r - i, &cp);
        if (k <= 0) break;
        rc = rb_cpbuf_push(o, cp);
        i += k;
    }
    free(mapped);
    return rc;
}

static bool run_at(const rb_tok_norm *nm, const int32_t *cps, size_t n, size_t i, size_t *len) {
    if (nm->min_run) {
        size_t k = i;
        while (k < n && cps[k] == nm->pat[0]) k++;
        *len = k - i;
        return k - i >= nm->min_run;
    }
    *len = nm->pat_len;
    return nm->pat_len <= n - i && memcmp(cps + i, nm->pat, nm->pat_len * sizeof *cps) == 0;
}

static int apply_norm(const rb_tok_norm *nm, const int32_t *cps, size_t n, rb_cpbuf *o) {
    switch (nm->kind) {
    case RB_NORM_BERT: return norm_bert(nm, cps, n, o);
    case RB_NORM_NFC: return norm_unicode(UTF8PROC_STABLE | UTF8PROC_COMPOSE, cps, n, o);
    case RB_NORM_NFD: return norm_unicode(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, cps, n, o);
    case RB_NORM_NFKC:
        return norm_unicode(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT, cps, n, o);
    case RB_NORM_NFKD:
        return norm_unicode(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, cps, n, o);
    case RB_NORM_LOWERCASE:
        for (size_t i = 0; i < n; i++)
            if (push_lower(o, cps[i]) < 0) return -1;
        return 0;
    case RB_NORM_STRIP_ACCENTS:
        for (size_t i = 0; i < n; i++)
            if (utf8proc_category(cps[i]) != UTF8PROC_CATEGORY_MN && rb_cpbuf_push(o, cps[i]) < 0)
                return -1;
        return 0;
    case RB_NORM_PRECOMPILED: return rb_charsmap_normalize(nm->charsmap, cps, n, o);
    case RB_NORM_STRIP: {
        size_t s = 0, e = n;
        if (nm->left)
            while (s < e && is_white_space(cps[s])) s++;
        if (nm->right)
            while (e > s && is_white_space(cps[e - 1])) e--;
        for (size_t i = s; i < e; i++)
            if (rb_cpbuf_push(o, cps[i]) < 0) return -1;
        return 0;
    }
    case RB_NORM_REPLACE:
        for (size_t i = 0; i < n;) {
            size_t len = 0;
            if (run_at(nm, cps, n, i, &len) && len > 0) {
                for (size_t k = 0; k < nm->with_len; k++)
                    if (rb_cpbuf_push(o, nm->with[k]) < 0) return -1;
                i += len;
            } else {
                if (rb_cpbuf_push(o, cps[i]) < 0) return -1;
                i++;
            }
        }
        return 0;
    case RB_NORM_PREPEND:
        if (n > 0)
            for (size_t k = 0; k < nm->with_len; k++)
                if (rb_cpbuf_push(o, nm->with[k]) < 0) return -1;
        for (size_t i = 0; i < n; i++)
            if (rb_cpbuf_push(o, cps[i]) < 0) return -1;
        return 0;
    }
    return 0;
}

/* ---- pre-tokenizers ------------------------------------------------------ */

/* Appends cps[0..m) as a word of the second buffer. */
static int word_push(enc_state *st, const int32_t *cps, size_t m, bool first) {
    if (m == 0) return 0;
    if (st->nw2 == st->capw2) {
        size_t cap = st->capw2 ? st->capw2 * 2 : 64;
        size_t *s = realloc(st->ws2, cap * sizeof *s);
        if (s) st->ws2 = s;
        size_t *l = realloc(st->wl2, cap * sizeof *l);
        if (l) st->wl2 = l;
        bool *f = realloc(st->w02, cap * sizeof *f);
        if (f) st->w02 = f;
        if (!s || !l || !f) return -1;
        st->capw2 = cap;
    }
    st->ws2[st->nw2] = st->w2.n;
    st->wl2[st->nw2] = m;
    st->w02[st->nw2] = first;
    st->nw2++;
    rb_cpbuf *b = &st->w2;
    if (b->cap - b->n < m) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->n < m) cap *= 2;
        int32_t *v = realloc(b->v, cap * sizeof *v);
        if (!v) return -1;
        b->v = v;
        b->cap = cap;
    }
    memcpy(b->v + b->n, cps, m * sizeof *cps);
    b->n += m;
    return 0;
}

static int pre_split(const rb_tok_pre *p, enc_state *st, const int32_t *v, size_t n, bool first) {
    size_t start = 0;
    switch (p->kind) {
    case RB_PRE_BERT:
        for (size_t i = 0; i <= n; i++) {
            bool end = i == n || is_space(v[i]) || is_white_space(v[i]);
            bool punct = !end && is_punct(v[i]);
            if (end || punct) {
                if (word_push(st, v + start, i - start, first && start == 0) < 0) return -1;
                if (punct && word_push(st, v + i, 1, first && i == 0) < 0) return -1;
                start = i + 1;
            }
        }
        return 0;
    case RB_PRE_WHITESPACE_SPLIT:
        for (size_t i = 0; i <= n; i++)
            if (i == n || is_white_space(v[i])) {
                if (word_push(st, v + start, i - start, first && start == 0) < 0) return -1;
                start = i + 1;
            }
        return 0;
    case RB_PRE_WHITESPACE:
        for (size_t i = 0; i < n;) {
            if (is_white_space(v[i])) {
                i++;
                continue;
            }
            bool word = is_word_char(v[i]);
            size_t j = i + 1;
            while (j < n && !is_white_space(v[j]) && is_word_char(v[j]) == word) j++;
            if (word_push(st, v + i, j - i, first && i == 0) < 0) return -1;
            i = j;
        }
        return 0;
    case RB_PRE_METASPACE: {
        rb_cpbuf tmp = {0};
        bool prepend =
            n > 0 && v[0] != p->replacement && v[0] != ' ' &&
            (p->prepend == RB_PREPEND_ALWAYS || (p->prepend == RB_PREPEND_FIRST && first));
        int rc = 0;
        if (prepend) rc = rb_cpbuf_push(&tmp, p->replacement);
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = rb_cpbuf_push(&tmp, v[i] == ' ' ? p->replacement : v[i]);
        if (rc == 0 && !p->split) {
            rc = word_push(st, tmp.v, tmp.n, first);
        } else if (rc == 0) {
            /* Split before each replacement, which starts the next word. */
            for (size_t i = 0; i <= tmp.n && rc == 0; i++)
                if (i == tmp.n || (i > start && tmp.v[i] == p->replacement)) {
                    rc = word_push(st, tmp.v + start, i - start, first && start == 0);
                    start = i;
                }
        }
        free(tmp.v);
        return rc;
    }
    }
    return 0;
}

/* Normalises, pre-tokenizes and models one stretch of text between added
 * tokens; returns 1 while the output has room, 0 once full, -1 on no memory. */
static int segment(const rb_tokenizer *t, enc_state *st, const int32_t *cps, size_t n,
                   bool first) {
    /* Each step reads the previous one's output: the text itself first. */
    const int32_t *v = cps;
    size_t nv = n;
    for (size_t k = 0; k < t->n_norms; k++) {
        st->b.n = 0;
        if (apply_norm(&t->norms[k], v, nv, &st->b) < 0) return -1;
        rb_cpbuf x = st->a;
        st->a = st->b;
        st->b = x;
        v = st->a.v;
        nv = st->a.n;
    }
    /* The first pre-tokenizer cuts the whole text into words; each further
     * step cuts those words further (none: the text is one word). */
    st->nw2 = 0;
    st->w2.n = 0;
    if ((t->n_pres ? pre_split(&t->pres[0], st, v, nv, first) : word_push(st, v, nv, first)) < 0)
        return -1;
    for (size_t k = 1; k < t->n_pres; k++) {
#define SWAP(a, b, T)                                                                             \
    do {                                                                                          \
        T x_ = a;                                                                                 \
        a = b;                                                                                    \
        b = x_;                                                                                   \
    } while (0)
        SWAP(st->w, st->w2, rb_cpbuf);
        SWAP(st->ws, st->ws2, size_t *);
        SWAP(st->wl, st->wl2, size_t *);
        SWAP(st->w0, st->w02, bool *);
        SWAP(st->nw, st->nw2, size_t);
        SWAP(st->capw, st->capw2, size_t);
        st->nw2 = 0;
        st->w2.n = 0;
        for (size_t i = 0; i < st->nw; i++)
            if (pre_split(&t->pres[k], st, st->w.v + st->ws[i], st->wl[i], st->w0[i]) < 0)
                return -1;
    }
    for (size_t i = 0; i < st->nw2; i++) {
        const int32_t *w = st->w2.v + st->ws2[i];
        int rc = t->model == RB_TOKM_UNIGRAM ? unigram(t, st, w, st->wl2[i])
                                             : wordpiece(t, st, w, st->wl2[i]);
        if (rc <= 0) return rc;
    }
    return st->n_out < st->cap_out;
#undef SWAP
}

/* The added token matching at cps[i], or NULL. */
static const rb_tok_added *added_at(const rb_tokenizer *t, const int32_t *cps, size_t n,
                                    size_t i) {
    for (size_t k = 0; k < t->n_added; k++) {
        const rb_tok_added *a = &t->added[k];
        /* The first code point rules out nearly every position cheaply. */
        if (cps[i] != a->cps[0] || a->len > n - i ||
            memcmp(cps + i, a->cps, a->len * sizeof *cps) != 0)
            continue;
        if (a->single_word && ((i > 0 && is_word_char(cps[i - 1])) ||
                               (i + a->len < n && is_word_char(cps[i + a->len]))))
            continue;
        return a;
    }
    return NULL;
}

/* Runs the pipeline up to (not including) the post-processor. */
static int run(const rb_tokenizer *t, const char *text, size_t len, enc_state *st) {
    rb_cpbuf cps = {0};
    int rc = -1;
    if (decode_all(text ? text : "", text ? len : 0, &cps) < 0) goto out;
    if (t->pre_lower)
        for (size_t i = 0; i < cps.n; i++) cps.v[i] = utf8proc_tolower(cps.v[i]);
    size_t seg = 0, i = 0;
    int room = st->n_out < st->cap_out;
    while (room > 0 && i <= cps.n) {
        const rb_tok_added *a = i < cps.n ? added_at(t, cps.v, cps.n, i) : NULL;
        if (i == cps.n || a) {
            size_t end = i;
            if (a && a->lstrip)
                while (end > seg && is_white_space(cps.v[end - 1])) end--;
            room = segment(t, st, cps.v + seg, end - seg, seg == 0);
            if (room < 0 || i == cps.n) break;
            if (room) room = emit(st, a->id) && st->n_out < st->cap_out;
            i += a->len;
            if (a->rstrip)
                while (i < cps.n && is_white_space(cps.v[i])) i++;
            seg = i;
        } else {
            i++;
        }
    }
    rc = room < 0 ? -1 : 0;
out:
    free(cps.v);
    return rc;
}

int rb_tokenizer_encode(const rb_tokenizer *t, const char *text, size_t len, size_t max_len,
                        int32_t *ids, size_t *n_ids, rb_error *err) {
    size_t around = t->n_head + t->n_tail;
    if (max_len < around || max_len < 1)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                            "max_seq_length %zu leaves no room for the %zu special tokens around "
                            "the text",
                            max_len, around);
    enc_state st = {0};
    st.out = ids + t->n_head;
    st.cap_out = max_len - around;
    int rc = run(t, text, len, &st);
    enc_free(&st);
    if (rc < 0) return rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer");
    memcpy(ids, t->head, t->n_head * sizeof *ids);
    memcpy(ids + t->n_head + st.n_out, t->tail, t->n_tail * sizeof *ids);
    *n_ids = st.n_out + around;
    return 0;
}

int rb_tokenizer_count(const rb_tokenizer *t, const char *text, size_t len, size_t *n_tokens,
                       rb_error *err) {
    enc_state st = {0};
    st.out = NULL;
    st.cap_out = SIZE_MAX;
    int rc = run(t, text, len, &st);
    enc_free(&st);
    if (rc < 0) return rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer");
    *n_tokens = st.n_out;
    return 0;
}

size_t rb_tokenizer_special_count(const rb_tokenizer *t) { return t->n_head + t->n_tail; }

rb_tokenizer_class rb_tokenizer_char_class(const rb_tokenizer *t, int32_t cp) {
    if (t && !t->bert_classes) return is_white_space(cp) ? RB_TOK_CLASS_SPACE : RB_TOK_CLASS_WORD;
    if (cp == 0 || cp == 0xFFFD || is_control(cp)) return RB_TOK_CLASS_DROPPED;
    if (is_space(cp)) return RB_TOK_CLASS_SPACE;
    if ((!t || t->chinese) && is_cjk(cp)) return RB_TOK_CLASS_ALONE;
    if (is_punct(cp)) return RB_TOK_CLASS_ALONE;
    return RB_TOK_CLASS_WORD;
}

size_t rb_tokenizer_max_word_chars(const rb_tokenizer *t) {
    if (!t) return 100;
    return t->max_chars < RB_TOK_MAX_WORD ? t->max_chars : RB_TOK_MAX_WORD;
}
