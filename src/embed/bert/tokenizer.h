/*
 * tokenizer.h -- the encoders' tokenizers: a vocab.txt BERT tokenizer, or
 * whatever pipeline a tokenizer.json declares (rb_tokenizer_new_from_json:
 * WordPiece or SentencePiece Unigram, see there).
 *
 * From a vocab.txt, it reproduces what Hugging Face's BERT tokenizer (the
 * `tokenizers` pipeline of BertNormalizer, BertPreTokenizer, WordPiece and
 * the [CLS] A [SEP] template) produces, so that ids match the reference
 * model exactly:
 *
 *   1. Invalid UTF-8 is replaced by U+FFFD (never an error).
 *   2. Special tokens ([CLS], [SEP], [PAD], [MASK], [UNK]) written literally
 *      in the text are matched case-sensitively before anything else and
 *      map straight to their ids, as added tokens do in `tokenizers`.
 *   3. Clean: U+0000, U+FFFD and control/format/private/unassigned code
 *      points (category C*, except tab, LF, CR) are dropped; white space
 *      (tab, LF, CR, Zs, Zl, Zp) becomes a space.
 *   4. CJK ideographs get spaces around them, so each is its own word.
 *   5. Strip accents (NFD, drop Mn) when strip_accents, then lower-case when
 *      do_lower_case.  strip_accents defaults to do_lower_case.
 *   6. Split on white space and around punctuation (Unicode P* and the ASCII
 *      symbol ranges !-/ :-@ [-` {-~).
 *   7. WordPiece: greedy longest match from the left, continuation pieces
 *      prefixed "##"; a word with no full segmentation, or longer than
 *      max_input_chars_per_word code points, becomes [UNK].
 *   8. [CLS] + tokens truncated to max_len - 2 + [SEP].
 *
 * A tokenizer is immutable after construction and may be shared by any
 * number of threads; rb_tokenizer_encode() keeps its scratch on the heap
 * of the calling thread.  Strings in the options are copied.
 */
#ifndef RB_TOKENIZER_H
#define RB_TOKENIZER_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_tokenizer rb_tokenizer;

typedef struct rb_tokenizer_opts {
    bool do_lower_case;          /* BertTokenizer default: true */
    int strip_accents;           /* -1: follow do_lower_case; 0: no; 1: yes */
    bool tokenize_chinese_chars; /* default true */
    bool pre_lowercase;          /* sentence_bert_config.json do_lower_case:
                                    lower-case the whole text first */
    const char *unk_token;       /* NULL means "[UNK]", and so on */
    const char *cls_token;
    const char *sep_token;
    const char *pad_token;
    const char *mask_token;
    size_t max_input_chars_per_word; /* 0 means 100 */
} rb_tokenizer_opts;

/* Fills `o` with BertTokenizer's defaults. */
void rb_tokenizer_opts_default(rb_tokenizer_opts *o);

/* Builds a tokenizer from a vocabulary given as an array: tokens[i] has id i.
 * Fails (RB_ERR_MODEL) if the unknown, [CLS], [SEP] or [PAD] token is not in
 * it.  `source` names where the vocabulary came from, for messages. */
rb_tokenizer *rb_tokenizer_new(const char *const *tokens, size_t n, const rb_tokenizer_opts *opts,
                               const char *source, rb_error *err);

/* Reads vocab.txt (one token a line, id = line number - 1); errors name
 * the file. */
rb_tokenizer *rb_tokenizer_new_from_file(const char *vocab_path, const rb_tokenizer_opts *opts,
                                         rb_error *err);

/* Reads a Hugging Face tokenizer.json (the `tokenizers` library's format):
 * model WordPiece or Unigram (byte fallback included); normalizers
 * BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip,
 * Replace (a literal, or a run of one character such as " {2,}"), Prepend,
 * Precompiled (embed/bert/charsmap.h) and Sequence; pre-tokenizers
 * BertPreTokenizer, Whitespace, WhitespaceSplit, Metaspace and Sequence;
 * post-processors TemplateProcessing, BertProcessing, RobertaProcessing
 * (and a Sequence holding one of them); added tokens with their lstrip,
 * rstrip and single_word flags, matched in the raw text.  The file's
 * "truncation" and "padding" are not read: the embedder truncates to
 * max_seq_length, as sentence-transformers does when it calls the
 * tokenizer.  Anything else (BPE, ByteLevel, a regular expression beyond a
 * run of one character) is refused with an RB_ERR_MODEL error that names
 * the file and the component, never approximated.  `pre_lowercase`: as
 * rb_tokenizer_opts.pre_lowercase. */
rb_tokenizer *rb_tokenizer_new_from_json(const char *path, bool pre_lowercase, rb_error *err);

/* How many ids the post-processor puts around the text ([CLS] and [SEP]:
 * 2; none: 0). */
size_t rb_tokenizer_special_count(const rb_tokenizer *t);

void rb_tokenizer_destroy(rb_tokenizer *t); /* accepts NULL */

size_t rb_tokenizer_vocab_size(const rb_tokenizer *t);

/* Id of `token`, or -1 if it is not in the vocabulary. */
int32_t rb_tokenizer_token_id(const rb_tokenizer *t, const char *token);

/* The token string of `id`, or NULL when out of range. */
const char *rb_tokenizer_token(const rb_tokenizer *t, int32_t id);

/* Encodes `len` bytes of `text` into at most `max_len` ids (the
 * post-processor's [CLS]/[SEP] or <s>/</s> included) written to `ids`;
 * *n_ids receives the count.  Fails only when memory runs out or max_len
 * leaves no room for the special tokens. */
int rb_tokenizer_encode(const rb_tokenizer *t, const char *text, size_t len, size_t max_len,
                        int32_t *ids, size_t *n_ids, rb_error *err);

/* Counts the tokens `len` bytes of `text` make, neither [CLS]/[SEP] nor
 * any truncation included: what rb_tokenizer_encode() would put between
 * [CLS] and [SEP] given room.  Fails only when memory runs out. */
int rb_tokenizer_count(const rb_tokenizer *t, const char *text, size_t len, size_t *n_tokens,
                       rb_error *err);

/* How the tokenizer treats one code point before WordPiece, so that a
 * caller (the chunker) knows where text can be cut without changing the
 * tokens on either side: a cut next to SPACE or ALONE (punctuation, and
 * CJK ideographs when tokenize_chinese_chars) keeps them; a cut between two
 * WORD code points does not.  DROPPED code points (controls, format
 * characters such as the zero-width joiner) vanish before WordPiece and
 * are best kept with their neighbours.  `t` NULL: BertTokenizer's defaults.
 * A tokenizer without BertPreTokenizer (Metaspace, Whitespace: the
 * SentencePiece models) has only SPACE (Unicode White_Space) and WORD:
 * a cut at white space keeps its tokens, since Metaspace starts every word
 * with the same marker. */
typedef enum rb_tokenizer_class {
    RB_TOK_CLASS_WORD = 0,
    RB_TOK_CLASS_SPACE,
    RB_TOK_CLASS_ALONE,
    RB_TOK_CLASS_DROPPED
} rb_tokenizer_class;
rb_tokenizer_class rb_tokenizer_char_class(const rb_tokenizer *t, int32_t cp);

/* Longest word in code points that WordPiece segments; longer words become
 * one [UNK].  `t` NULL: 100, BertTokenizer's default. */
size_t rb_tokenizer_max_word_chars(const rb_tokenizer *t);

#endif
