#include "embed/bert/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum { RB_TOK_NSPECIAL = 5 };
/* Longest word WordPiece looks at; longer ones are [UNK] whatever
 * max_input_chars_per_word says (bounds the per-call scratch). */
enum { RB_TOK_MAX_WORD = 1024 };

struct rb_tokenizer {
    char *blob;        /* every token, NUL-terminated, back to back */
    size_t *offs;      /* token i starts at blob + offs[i] */
    uint32_t *lens;    /* byte length of token i */
    size_t n;          /* vocabulary size */
    int32_t *table;    /* open addressing: id or -1 */
    size_t table_mask; /* table size - 1 (a power of two) */
    int32_t unk_id, cls_id, sep_id;
    /* Special tokens matched literally in the text, longest first. */
    int32_t *special_cps[RB_TOK_NSPECIAL];
    size_t special_len[RB_TOK_NSPECIAL];
    int32_t special_id[RB_TOK_NSPECIAL];
    size_t n_special;
    bool lower, strip, chinese, pre_lower;
    size_t max_chars;
};

void rb_tokenizer_opts_default(rb_tokenizer_opts *o) {
    memset(o, 0, sizeof *o);
    o->do_lower_case = true;
    o->strip_accents = -1;
    o->tokenize_chinese_chars = true;
    o->max_input_chars_per_word = 100;
}

static uint32_t fnv1a(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static int32_t lookup(const rb_tokenizer *t, const char *s, size_t len) {
    size_t i = fnv1a(s, len) & t->table_mask;
    for (;;) {
        int32_t id = t->table[i];
        if (id < 0) return -1;
        if (t->lens[id] == len && memcmp(t->blob + t->offs[id], s, len) == 0) return id;
        i = (i + 1) & t->table_mask;
    }
}

int32_t rb_tokenizer_token_id(const rb_tokenizer *t, const char *token) {
    return lookup(t, token, strlen(token));
}

const char *rb_tokenizer_token(const rb_tokenizer *t, int32_t id) {
    if (id < 0 || (size_t)id >= t->n) return NULL;
    return t->blob + t->offs[id];
}

size_t rb_tokenizer_vocab_size(const rb_tokenizer *t) { return t->n; }

void rb_tokenizer_destroy(rb_tokenizer *t) {
    if (!t) return;
    for (size_t i = 0; i < RB_TOK_NSPECIAL; i++) free(t->special_cps[i]);
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

/* A growable array of code points. */
typedef struct cpvec {
    int32_t *v;
    size_t n, cap;
} cpvec;

static int cpvec_push(cpvec *a, int32_t cp) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = cp;
    return 0;
}

/* Decodes `len` bytes, replacing each invalid byte with U+FFFD. */
static int decode_all(const char *text, size_t len, cpvec *out) {
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        int32_t cp = 0;
        size_t k = utf8_decode(s + i, len - i, &cp);
        if (k == 0) {
            cp = 0xFFFD;
            k = 1;
        }
        if (cpvec_push(out, cp) < 0) return -1;
        i += k;
    }
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

static int add_special(rb_tokenizer *t, const char *tok, int32_t id) {
    cpvec v = {0};
    if (decode_all(tok, strlen(tok), &v) < 0) {
        free(v.v);
        return -1;
    }
    if (v.n == 0) {
        free(v.v);
        return 0;
    }
    /* Keep longest first, so that the first match at a position is the
     * longest, as the added-token matcher of `tokenizers` does. */
    size_t at = t->n_special;
    while (at > 0 && t->special_len[at - 1] < v.n) {
        t->special_cps[at] = t->special_cps[at - 1];
        t->special_len[at] = t->special_len[at - 1];
        t->special_id[at] = t->special_id[at - 1];
        at--;
    }
    t->special_cps[at] = v.v;
    t->special_len[at] = v.n;
    t->special_id[at] = id;
    t->n_special++;
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
        /* A repeated token keeps the last id, as a dict built line by line would. */
        size_t h = fnv1a(tokens[i], len) & t->table_mask;
        while (t->table[h] >= 0 && !(t->lens[t->table[h]] == len &&
                                     memcmp(t->blob + t->offs[t->table[h]], tokens[i], len) == 0))
            h = (h + 1) & t->table_mask;
        t->table[h] = (int32_t)i;
    }
    t->lower = opts->do_lower_case;
    t->strip = opts->strip_accents < 0 ? opts->do_lower_case : opts->strip_accents != 0;
    t->chinese = opts->tokenize_chinese_chars;
    t->pre_lower = opts->pre_lowercase;
    t->max_chars = opts->max_input_chars_per_word ? opts->max_input_chars_per_word : 100;

    const char *names[RB_TOK_NSPECIAL] = {opts->unk_token ? opts->unk_token : "[UNK]",
                                          opts->cls_token ? opts->cls_token : "[CLS]",
                                          opts->sep_token ? opts->sep_token : "[SEP]",
                                          opts->pad_token ? opts->pad_token : "[PAD]",
                                          opts->mask_token ? opts->mask_token : "[MASK]"};
    int32_t ids[RB_TOK_NSPECIAL];
    for (size_t i = 0; i < RB_TOK_NSPECIAL; i++) {
        ids[i] = rb_tokenizer_token_id(t, names[i]);
        /* [MASK] is optional: only an encoder being pre-trained needs it. */
        if (ids[i] < 0 && i != 4) {
            rb_error_set(err, RB_ERR_MODEL, RB_STAGE_EMBED,
                         "%s: special token \"%s\" is not in the vocabulary", source, names[i]);
            rb_tokenizer_destroy(t);
            return NULL;
        }
        if (ids[i] >= 0 && add_special(t, names[i], ids[i]) < 0) goto nomem;
    }
    t->unk_id = ids[0];
    t->cls_id = ids[1];
    t->sep_id = ids[2];
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

/* Per-call scratch. */
typedef struct enc_state {
    cpvec norm; /* normalised code points of the current segment */
    char key[8 + 4 * RB_TOK_MAX_WORD];
    int32_t *out; /* token ids after [CLS] */
    size_t n_out, cap_out;
} enc_state;

/* Appends the WordPiece ids of one word, truncating at the output's
 * capacity; returns false once the output is full. */
static bool wordpiece(const rb_tokenizer *t, enc_state *st, const int32_t *w, size_t m) {
    int32_t pieces[RB_TOK_MAX_WORD];
    size_t np = 0;
    if (st->n_out >= st->cap_out) return false;
    if (m > t->max_chars || m > RB_TOK_MAX_WORD) {
        pieces[np++] = t->unk_id;
    } else {
        /* UTF-8 of the word after a two-byte gap where "##" goes. */
        char *bytes = st->key + 2;
        size_t offs[RB_TOK_MAX_WORD + 1];
        size_t blen = 0;
        for (size_t i = 0; i < m; i++) {
            offs[i] = blen;
            blen += (size_t)utf8proc_encode_char(w[i], (utf8proc_uint8_t *)bytes + blen);
        }
        offs[m] = blen;
        size_t start = 0;
        while (start < m) {
            size_t end = m;
            int32_t id = -1;
            while (end > start) {
                const char *s = bytes + offs[start];
                size_t len = offs[end] - offs[start];
                if (start > 0) {
                    /* Put "##" just before the piece: the bytes there belong
                     * to pieces already matched (or to the gap), so they
                     * may be borrowed and restored. */
                    char *k = (char *)s - 2;
                    char save0 = k[0], save1 = k[1];
                    k[0] = '#';
                    k[1] = '#';
                    id = lookup(t, k, len + 2);
                    k[0] = save0;
                    k[1] = save1;
                } else {
                    id = lookup(t, s, len);
                }
                if (id >= 0) break;
                end--;
            }
            if (id < 0) {
                /* No segmentation: the whole word is unknown. */
                np = 0;
                pieces[np++] = t->unk_id;
                break;
            }
            pieces[np++] = id;
            start = end;
        }
    }
    for (size_t i = 0; i < np; i++) {
        if (st->n_out >= st->cap_out) return false;
        if (st->out) st->out[st->n_out] = pieces[i]; /* NULL: counting only */
        st->n_out++;
    }
    return st->n_out < st->cap_out;
}

/* Normalises one segment (text between special tokens) into st->norm. */
static int normalise(const rb_tokenizer *t, const int32_t *cps, size_t n, enc_state *st) {
    st->norm.n = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t cp = cps[i];
        if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
        if (is_space(cp)) {
            if (cpvec_push(&st->norm, ' ') < 0) return -1;
            continue;
        }
        if (t->chinese && is_cjk(cp)) {
            if (cpvec_push(&st->norm, ' ') < 0 || cpvec_push(&st->norm, cp) < 0 ||
                cpvec_push(&st->norm, ' ') < 0)
                return -1;
            continue;
        }
        int32_t dec[32];
        size_t nd = 1;
        dec[0] = cp;
        if (t->strip) {
            int boundclass = 0;
            utf8proc_ssize_t k =
                utf8proc_decompose_char(cp, dec, 32, UTF8PROC_DECOMPOSE, &boundclass);
            nd = (k > 0 && k <= 32) ? (size_t)k : 1;
            if (k <= 0 || k > 32) dec[0] = cp;
        }
        for (size_t j = 0; j < nd; j++) {
            int32_t c = dec[j];
            if (t->strip && utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;
            if (t->lower) {
                /* U+0130's full lower-case mapping is "i" + U+0307; the
                 * simple mapping of utf8proc drops the dot. */
                if (c == 0x130) {
                    if (cpvec_push(&st->norm, 'i') < 0 || cpvec_push(&st->norm, 0x307) < 0)
                        return -1;
                    continue;
                }
                c = utf8proc_tolower(c);
            }
            if (cpvec_push(&st->norm, c) < 0) return -1;
        }
    }
    return 0;
}

/* Splits the normalised segment into words and runs WordPiece on each;
 * returns false once the output is full. */
static bool split_words(const rb_tokenizer *t, enc_state *st) {
    const int32_t *v = st->norm.v;
    size_t n = st->norm.n, start = 0;
    for (size_t i = 0; i <= n; i++) {
        bool end = i == n || is_space(v[i]);
        bool punct = !end && is_punct(v[i]);
        if (end || punct) {
            if (i > start && !wordpiece(t, st, v + start, i - start)) return false;
            if (punct && !wordpiece(t, st, v + i, 1)) return false;
            start = i + 1;
        }
    }
    return true;
}

int rb_tokenizer_encode(const rb_tokenizer *t, const char *text, size_t len, size_t max_len,
                        int32_t *ids, size_t *n_ids, rb_error *err) {
    if (max_len < 2)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_EMBED,
                            "max_seq_length %zu leaves no room for [CLS] and [SEP]", max_len);
    cpvec cps = {0};
    enc_state st = {0};
    st.out = ids + 1;
    st.cap_out = max_len - 2;
    if (decode_all(text ? text : "", text ? len : 0, &cps) < 0) goto nomem;
    if (t->pre_lower)
        for (size_t i = 0; i < cps.n; i++) cps.v[i] = utf8proc_tolower(cps.v[i]);
    size_t seg = 0, i = 0;
    bool room = st.cap_out > 0;
    while (room && i <= cps.n) {
        size_t k = 0;
        if (i < cps.n) {
            for (; k < t->n_special; k++) {
                size_t sl = t->special_len[k];
                if (sl <= cps.n - i &&
                    memcmp(cps.v + i, t->special_cps[k], sl * sizeof(int32_t)) == 0)
                    break;
            }
        }
        if (i == cps.n || k < t->n_special) {
            if (normalise(t, cps.v + seg, i - seg, &st) < 0) goto nomem;
            room = split_words(t, &st);
            if (i == cps.n) break;
            if (room) {
                st.out[st.n_out++] = t->special_id[k];
                room = st.n_out < st.cap_out;
            }
            i += t->special_len[k];
            seg = i;
        } else {
            i++;
        }
    }
    ids[0] = t->cls_id;
    ids[1 + st.n_out] = t->sep_id;
    *n_ids = st.n_out + 2;
    free(cps.v);
    free(st.norm.v);
    return 0;
nomem:
    free(cps.v);
    free(st.norm.v);
    return rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer");
}

int rb_tokenizer_count(const rb_tokenizer *t, const char *text, size_t len, size_t *n_tokens,
                       rb_error *err) {
    cpvec cps = {0};
    enc_state st = {0};
    st.out = NULL;
    st.cap_out = SIZE_MAX;
    if (decode_all(text ? text : "", text ? len : 0, &cps) < 0) goto nomem;
    if (t->pre_lower)
        for (size_t i = 0; i < cps.n; i++) cps.v[i] = utf8proc_tolower(cps.v[i]);
    size_t seg = 0, i = 0;
    while (i <= cps.n) {
        size_t k = 0;
        if (i < cps.n) {
            for (; k < t->n_special; k++) {
                size_t sl = t->special_len[k];
                if (sl <= cps.n - i &&
                    memcmp(cps.v + i, t->special_cps[k], sl * sizeof(int32_t)) == 0)
                    break;
            }
        }
        if (i == cps.n || k < t->n_special) {
            if (normalise(t, cps.v + seg, i - seg, &st) < 0) goto nomem;
            (void)split_words(t, &st);
            if (i == cps.n) break;
            st.n_out++;
            i += t->special_len[k];
            seg = i;
        } else {
            i++;
        }
    }
    *n_tokens = st.n_out;
    free(cps.v);
    free(st.norm.v);
    return 0;
nomem:
    free(cps.v);
    free(st.norm.v);
    return rb_error_nomem(err, RB_STAGE_EMBED, "tokenizer");
}

rb_tokenizer_class rb_tokenizer_char_class(const rb_tokenizer *t, int32_t cp) {
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
