/*
 * charsmap.h -- SentencePiece's precompiled normalisation charsmap, the
 * "Precompiled" normalizer of a tokenizer.json (XLM-RoBERTa, mBART, T5 and
 * every model converted from a SentencePiece .model file).
 *
 * The charsmap is the binary blob SentencePiece compiles its normalisation
 * rules into (for XLM-R: nmt_nfkc, i.e. NFKC plus a few whitespace and
 * control-character rules), stored base64-encoded in tokenizer.json:
 *
 *   u32 little-endian  size of the trie in bytes (a multiple of 4)
 *   trie               a darts-clone double array of u32 units, keyed by
 *                      UTF-8 bytes, whose leaf values are offsets into ...
 *   pool               NUL-terminated UTF-8 replacement strings
 *
 * Normalisation follows the Hugging Face tokenizers library exactly (that
 * is what the published token ids were made with), quirks included: the
 * text is cut into extended grapheme clusters (utf8proc); a cluster of
 * fewer than 6 UTF-8 bytes for which the trie has any prefix match is
 * replaced whole by the *shortest* match's string; otherwise each code
 * point is replaced by its match, or kept when there is none.
 *
 * The charsmap is not NFKC re-derived: it is the rule table the model was
 * trained with, so it is read, not approximated.
 *
 * A charsmap is immutable after rb_charsmap_from_base64() and may be used
 * by any number of threads.  Every trie index is bounds-checked, so a
 * corrupt blob gives wrong text at worst, never an out-of-bounds read.
 */
#ifndef RB_CHARSMAP_H
#define RB_CHARSMAP_H

#include "common/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rb_charsmap rb_charsmap;

/* Decodes and checks `len` bytes of base64; errors (RB_ERR_MODEL) start
 * with `source`. */
rb_charsmap *rb_charsmap_from_base64(const char *b64, size_t len, const char *source,
                                     rb_error *err);
void rb_charsmap_destroy(rb_charsmap *cm); /* accepts NULL */

/* A growable array of code points that rb_charsmap_normalize appends to;
 * the caller owns v (free()). */
typedef struct rb_cpbuf {
    int32_t *v;
    size_t n, cap;
} rb_cpbuf;

int rb_cpbuf_push(rb_cpbuf *b, int32_t cp); /* -1 when memory runs out */

/* Appends the normalisation of cps[0..n) to `out`; -1 when memory runs out. */
int rb_charsmap_normalize(const rb_charsmap *cm, const int32_t *cps, size_t n, rb_cpbuf *out);

#endif
