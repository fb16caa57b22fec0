/*
 * base64.h -- decoding standard base64 (RFC 4648's alphabet with + and /),
 * for the two places event data and model files carry it: Connect's bytes
 * and Decimal values (padded, as Java's encoder writes them) and
 * tokenizer.json's precompiled charsmap (whose padding is not relied on).
 * Pure; no state.
 */
#ifndef RB_COMMON_BASE64_H
#define RB_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes `len` characters of `s` into `out`, which has room for
 * len / 4 * 3 + 3 bytes; returns the decoded length, or -1 for a character
 * outside the alphabet.  `padded`: the text is whole groups of four, '='
 * only in the last two places of the last group (-1 otherwise); not
 * padded: decoding stops at the first '='. */
long rb_base64_decode(const char *s, size_t len, bool padded, unsigned char *out);

#endif
