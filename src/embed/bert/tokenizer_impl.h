/*
 * tokenizer_impl.h -- the inside of rb_tokenizer, shared by tokenizer.c
 * (the pipeline and its two models) and tokenizer_json.c (which builds a
 * pipeline from a tokenizer.json).  Not for other modules: they use
 * tokenizer.h.
 *
 * A tokenizer is: added tokens matched in the raw text; for each stretch
 * of text between them a list of normalizer steps, then a list of
 * pre-tokenizer steps that cut it into words, then the model (WordPiece or
 * Unigram) on each word; then the post-processor's head and tail ids
 * ([CLS] ... [SEP], <s> ... </s>).  Everything is owned by the tokenizer
 * and freed by rb_tokenizer_destroy().
 */
#ifndef RB_TOKENIZER_IMPL_H
#define RB_TOKENIZER_IMPL_H

#include "embed/bert/charsmap.h"
#include "embed/bert/tokenizer.h"

/* Longest word WordPiece looks at; longer ones are [UNK] whatever
 * max_input_chars_per_word says (bounds the per-call scratch). */
enum { RB_TOK_MAX_WORD = 1024 };
/* At most this many ids before and after the sequence. */
enum { RB_TOK_MAX_AROUND = 4 };

typedef enum rb_tok_model { RB_TOKM_WORDPIECE = 0, RB_TOKM_UNIGRAM } rb_tok_model;

typedef enum rb_tok_norm_kind {
    RB_NORM_BERT = 0, /* clean, CJK spacing, strip accents, lower-case */
    RB_NORM_NFC,
    RB_NORM_NFD,
    RB_NORM_NFKC,
    RB_NORM_NFKD,
    RB_NORM_LOWERCASE,
    RB_NORM_STRIP_ACCENTS, /* drop Mn (after an NFD step, as tokenizers expects) */
    RB_NORM_PRECOMPILED,   /* SentencePiece charsmap */
    RB_NORM_STRIP,         /* white space at either end */
    RB_NORM_REPLACE,       /* a literal, or a run of one code point, by a string */
    RB_NORM_PREPEND        /* a string before non-empty text */
} rb_tok_norm_kind;

typedef struct rb_tok_norm {
    rb_tok_norm_kind kind;
    bool clean, chinese, strip_accents, lower; /* RB_NORM_BERT */
    bool left, right;                          /* RB_NORM_STRIP */
    int32_t *pat;                              /* RB_NORM_REPLACE (owned) */
    size_t pat_len;
    size_t min_run; /* 0: pat is a literal; n: a run of >= n copies of pat[0] */
    int32_t *with;  /* RB_NORM_REPLACE, RB_NORM_PREPEND (owned) */
    size_t with_len;
    rb_charsmap *charsmap; /* RB_NORM_PRECOMPILED (owned) */
} rb_tok_norm;

typedef enum rb_tok_pre_kind {
    RB_PRE_BERT = 0,         /* white space, and around each punctuation mark */
    RB_PRE_WHITESPACE,       /* \w+|[^\w\s]+ */
    RB_PRE_WHITESPACE_SPLIT, /* white space only */
    RB_PRE_METASPACE         /* ' ' -> replacement, prepend, split before it */
} rb_tok_pre_kind;

typedef enum rb_tok_prepend {
    RB_PREPEND_NEVER = 0,
    RB_PREPEND_FIRST,
    RB_PREPEND_ALWAYS
} rb_tok_prepend;

typedef struct rb_tok_pre {
    rb_tok_pre_kind kind;
    int32_t replacement; /* RB_PRE_METASPACE */
    rb_tok_prepend prepend;
    bool split;
} rb_tok_pre;

typedef struct rb_tok_added {
    int32_t *cps; /* owned */
    size_t len;
    int32_t id;
    bool lstrip, rstrip, single_word;
} rb_tok_added;

struct rb_tokenizer {
    char *blob;        /* every token, NUL-terminated, back to back */
    size_t *offs;      /* token i starts at blob + offs[i] */
    uint32_t *lens;    /* byte length of token i */
    size_t n;          /* vocabulary size */
    int32_t *table;    /* open addressing: id or -1 */
    size_t table_mask; /* table size - 1 (a power of two) */
    rb_tok_model model;
    int32_t unk_id;
    /* WordPiece */
    char prefix[16]; /* continuing_subword_prefix */
    size_t prefix_len;
    size_t max_chars; /* max_input_chars_per_word */
    /* Unigram */
    double *scores;
    double min_score;
    bool byte_fallback;
    int32_t byte_ids[256]; /* <0xHH> ids, -1 where absent */
    size_t max_piece;      /* longest token in bytes (any model) */
    uint64_t *prefix_bits; /* hashes of every piece prefix: where extending can stop */
    size_t prefix_mask;
    /* pipeline */
    rb_tok_norm *norms;
    size_t n_norms;
    rb_tok_pre *pres;
    size_t n_pres;
    rb_tok_added *added; /* longest first */
    size_t n_added;
    int32_t head[RB_TOK_MAX_AROUND], tail[RB_TOK_MAX_AROUND];
    size_t n_head, n_tail;
    bool pre_lower;
    bool bert_classes, chinese; /* rb_tokenizer_char_class */
};

/* A tokenizer over tokens[0..n) (ids = indices; empty strings are holes)
 * with no pipeline yet: the caller adds steps and sets the model fields. */
rb_tokenizer *rb_tok_alloc(const char *const *tokens, size_t n, const char *source, rb_error *err);
int32_t rb_tok_lookup(const rb_tokenizer *t, const char *s, size_t len);
int rb_tok_add_added(rb_tokenizer *t, const char *content, int32_t id, bool lstrip, bool rstrip,
                     bool single_word);
int rb_tok_push_norm(rb_tokenizer *t, const rb_tok_norm *n); /* takes ownership */
int rb_tok_push_pre(rb_tokenizer *t, const rb_tok_pre *p);
/* Unigram: scores[i] for token i (copied), and the tables that go with it. */
int rb_tok_set_unigram(rb_tokenizer *t, const double *scores, int32_t unk_id, bool byte_fallback);
/* Decodes UTF-8 into a new code point array (invalid bytes -> U+FFFD). */
int rb_tok_decode(const char *s, size_t len, int32_t **cps, size_t *n);

#endif
