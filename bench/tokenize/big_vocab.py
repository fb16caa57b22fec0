#!/usr/bin/env python3
"""Writes an XLM-R-sized Unigram tokenizer.json: tests/data/models/xlmr-tiny's
pipeline (its Precompiled charsmap, Metaspace, <s> </s>) with its 702 real
pieces plus synthetic pieces up to 250,002, the size of XLM-RoBERTa's
vocabulary, so that tokenizing measures a hash table and prefix filter of
that size.  The synthetic pieces are drawn (fixed seed) from the scripts of
the bench texts and scored below every real piece; some still win where
they cover more text than real pieces do, so the token counts differ a
little from xlmr-tiny's.  What is measured is a table of that size.  Standard library only.

Usage: big_vocab.py SRC_TOKENIZER_JSON OUT_TOKENIZER_JSON [SIZE]
"""
import json
import random
import sys

src, out = sys.argv[1], sys.argv[2]
size = int(sys.argv[3]) if len(sys.argv) > 3 else 250002
with open(src, encoding="utf-8") as f:
    spec = json.load(f)
vocab = spec["model"]["vocab"]
have = {p for p, _ in vocab}
low = min(s for _, s in vocab)
rng = random.Random(17)
ranges = [(0x61, 0x7A), (0xE0, 0xFF), (0x430, 0x44F), (0x627, 0x64A), (0x905, 0x939),
          (0x3041, 0x3096), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3)]
mask = vocab.pop()  # <mask> stays last, as in XLM-R
while len(vocab) < size - 1:
    lo, hi = rng.choice(ranges)
    piece = "".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 8)))
    if rng.random() < 0.5:
        piece = "\u2581" + piece
    if piece not in have:
        have.add(piece)
        vocab.append([piece, low - 1.0 - rng.random() * 10])
vocab.append(mask)
for t in spec["added_tokens"]:
    if t["content"] == mask[0]:
        t["id"] = len(vocab) - 1
with open(out, "w", encoding="utf-8") as f:
    json.dump(spec, f, ensure_ascii=False)
print("big_vocab: %d pieces -> %s" % (len(vocab), out))
