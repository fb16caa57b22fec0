#!/usr/bin/env python3
"""Produce the embedder's golden data with sentence-transformers.

Reads tests/data/embed/texts.jsonl (one JSON string per line), loads the
model directory unpacked by scripts/fetch-model.sh *by path* (so the same
weights the C embedder maps), and writes tests/data/embed/reference.jsonl:
one JSON object per text with the token ids of the model's own tokenizer
(after truncation to max_seq_length, [CLS]/[SEP] included) and the
sentence embedding, rounded to 7 significant digits to keep the file small
(far below the 1e-4 cosine tolerance of the test).

It also writes tests/data/embed/reference-pooling.jsonl: for the first
texts, the CLS-token and max-over-tokens poolings (L2-normalised) of the
same model, computed from sentence-transformers' own token embeddings, so
that the C embedder's other pooling modes are checked against the reference
too (the test switches 1_Pooling/config.json in a copy of the model).

Run inside the venv that has sentence-transformers, e.g.
    .cache/venv/bin/python scripts/reference-vectors.py [MODEL_DIR]
"""
import json
import os
import sys

from sentence_transformers import SentenceTransformer

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "models", "all-MiniLM-L6-v2")
data = os.path.join(root, "tests", "data", "embed")

with open(os.path.join(data, "texts.jsonl"), encoding="utf-8") as f:
    texts = [json.loads(line) for line in f if line.strip()]

model = SentenceTransformer(model_dir, device="cpu")
tok = model.tokenizer
max_len = model.max_seq_length
vecs = model.encode(texts, batch_size=16, convert_to_numpy=True)

with open(os.path.join(data, "reference.jsonl"), "w", encoding="utf-8") as out:
    for text, vec in zip(texts, vecs):
        ids = tok(text, truncation=True, max_length=max_len)["input_ids"]
        rec = {
            "text": text,
            "ids": ids,
            "embedding": [float("%.7g" % x) for x in vec.tolist()],
        }
        out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
print("reference-vectors: %d texts, dim %d, max_seq_length %d, tokenizer %s -> %s"
      % (len(texts), vecs.shape[1], max_len, type(tok).__name__,
         os.path.join(data, "reference.jsonl")))

import numpy as np

n_pool = 8
tok_embs = model.encode(texts[:n_pool], output_value="token_embeddings", convert_to_numpy=False)
with open(os.path.join(data, "reference-pooling.jsonl"), "w", encoding="utf-8") as out:
    for text, te in zip(texts[:n_pool], tok_embs):
        te = te.float().cpu().numpy()
        for mode, vec in (("cls", te[0]), ("max", te.max(axis=0))):
            vec = vec / max(np.linalg.norm(vec), 1e-12)
            rec = {"text": text, "pooling": mode,
                   "embedding": [float("%.7g" % x) for x in vec.tolist()]}
            out.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
print("reference-vectors: cls and max pooling for %d texts" % n_pool)
