/*
 * chunk.h -- cutting a long text into chunks that each fit the embedding
 * model, measured in the model's own tokens.
 *
 * A text whose tokens fit in max_tokens is one chunk spanning the whole
 * text, byte for byte, so a text that fits is embedded exactly as without
 * chunking.  A longer text is cut:
 *
 *   - only where the tokenizer's tokens do not change: at white space, next
 *     to punctuation, next to a CJK ideograph (rb_tokenizer_char_class), so
 *     the tokens of every chunk are the tokens of its part of the text and
 *     no word piece or UTF-8 sequence is ever split;
 *   - preferring, among the cuts that leave a chunk at least half full, a
 *     paragraph break (white space holding a blank line), then a sentence
 *     end (. ! ? ... and the full-width 。！？, with closing quotes or
 *     brackets after them), then any white space, then the other cut points;
 *     on a tie the latest cut, so chunks are as full as they can be;
 *   - with overlap_tokens: each chunk after the first starts with the last
 *     words of the previous one, at most that many tokens, starting at white
 *     space (never more than leaves room for new text).
 *
 * A word longer than the tokenizer's word limit (100 code points: WordPiece
 * would make it one [UNK]), or with more pieces than max_tokens, is cut at
 * code point boundaries (not before a combining mark or a format character
 * such as the zero-width joiner) into segments that fit; two segments of
 * one word never share a chunk, since together they would be that word
 * again.  So a 1 MB word becomes about 10,500 chunks of 100 characters --
 * which text.chunk.max.count normally refuses.
 *
 * Counts: with a tokenizer, each piece of text between cut points is
 * counted by rb_tokenizer_count(), so a chunk's count is what the tokenizer
 * gives for the chunk's text (a special token written literally, such as
 * "[SEP]", is the one exception: it counts as its pieces, more than the one
 * token it is).  Without one (HTTP providers, whose tokenizer is on the
 * server) the count is an approximation: one token per punctuation mark or
 * CJK ideograph, and a quarter of the bytes (at least one) per other word,
 * close to what BPE tokenizers give for English and above it for most other
 * scripts.
 *
 * Deterministic: the same text and options give the same chunks.  Time and
 * memory are linear in the text's length (one small record per cut point).
 * Thread-safe: nothing is shared but the read-only tokenizer.
 */
#ifndef RB_CHUNK_H
#define RB_CHUNK_H

#include "common/buf.h"
#include "common/error.h"
#include "embed/bert/tokenizer.h"

#include <stddef.h>

typedef struct rb_chunk_opts {
    const rb_tokenizer *tokenizer; /* NULL: approximate counts (see above) */
    size_t max_tokens;             /* tokens per chunk, >= 1, [CLS]/[SEP] not included */
    size_t overlap_tokens;         /* < max_tokens */
    size_t max_count;              /* more chunks than this is an error; 0: no limit */
} rb_chunk_opts;

typedef struct rb_chunk {
    size_t start, end;           /* bytes [start, end) of the text */
    size_t char_start, char_end; /* the same span in code points */
    size_t tokens;
} rb_chunk;

/* Cuts `len` bytes of `text` into *n chunks, in text order, written to
 * *out (caller frees with free()).  An empty text is one empty chunk.
 * Errors are RB_ERR_TRANSFORM in RB_STAGE_TRANSFORM: more chunks than
 * max_count (the message gives the text's tokens and the limits), or bad
 * options; RB_ERR_NOMEM when memory runs out.  On error *out is NULL. */
int rb_chunk_split(const rb_chunk_opts *opts, const char *text, size_t len, rb_chunk **out,
                   size_t *n, rb_error *err);

/* The chunk collection of a job: `configured` (text.chunk.collection)
 * when not empty, else "<collection>_chunks"; appended to `out`. */
int rb_chunk_collection_name(const char *configured, const char *collection, rb_buf *out);

#endif
