#!/usr/bin/env python3
"""Throughput of sentence-transformers (PyTorch CPU) and ONNX Runtime on the
same model, texts and thread count as bench_embed.c.

Usage: bench_py.py MODEL_DIR TEXTS THREADS ONNX_PATH
The ONNX file is exported once from the same weights (torch.onnx.export of
the BertModel: input_ids, attention_mask, token_type_ids -> last hidden
state); ORT timings include tokenization (the HF fast tokenizer), mean
pooling and normalisation in numpy, as the C and PyTorch figures do.
"""
import os
import sys
import time

model_dir, texts_path, threads, onnx_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.environ.setdefault("OMP_NUM_THREADS", str(threads))

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

torch.set_num_threads(threads)
texts = [l.rstrip("\n") for l in open(texts_path, encoding="utf-8")]
model = SentenceTransformer(model_dir, device="cpu")
tok = model.tokenizer
max_len = model.max_seq_length


def rss_mib():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return -1.0


def bench(name, fn):
    fn(texts[:32], 32)  # warm-up
    for bs in (1, 32):
        t0 = time.perf_counter()
        fn(texts, bs)
        dt = time.perf_counter() - t0
        print("%s threads=%d batch=%d texts=%d seconds=%.3f texts_per_s=%.1f rss_mib=%.1f"
              % (name, threads, bs, len(texts), dt, len(texts) / dt, rss_mib()), flush=True)


def st_run(batch_texts, bs):
    for i in range(0, len(batch_texts), bs):
        model.encode(batch_texts[i:i + bs], batch_size=bs, convert_to_numpy=True)


bench("sentence-transformers", st_run)

if not os.path.exists(onnx_path):
    class Encoder(torch.nn.Module):
        # keyword arguments: BertModel.forward's positional order differs
        # between transformers versions
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    enc = tok(["a dummy input"], return_tensors="pt")
    torch.onnx.export(
        Encoder(model[0].auto_model.eval()), (enc["input_ids"], enc["attention_mask"], enc["token_type_ids"]), onnx_path,
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={k: {0: "batch", 1: "seq"} for k in ["input_ids", "attention_mask", "token_type_ids"]},
        opset_version=17, dynamo=False)

import onnxruntime as ort

so = ort.SessionOptions()
so.intra_op_num_threads = threads
so.inter_op_num_threads = 1
so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])

# Same numbers as sentence-transformers?
check = texts[:8]
enc = tok(check, padding=True, truncation=True, max_length=max_len, return_tensors="np")
hid = sess.run(None, {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})[0]
m = enc["attention_mask"][..., None].astype(np.float32)
v = (hid * m).sum(1) / m.sum(1)
v /= np.linalg.norm(v, axis=1, keepdims=True)
ref = model.encode(check, convert_to_numpy=True)
print("onnxruntime vs sentence-transformers: min cosine %.7f" % float((v * ref).sum(1).min()))


def ort_run(batch_texts, bs):
    for i in range(0, len(batch_texts), bs):
        chunk = batch_texts[i:i + bs]
        # sorted by length like sentence-transformers does inside encode()
        enc = tok(chunk, padding=True, truncation=True, max_length=max_len, return_tensors="np")
        hid = sess.run(None, {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask", "token_type_ids")})[0]
        m = enc["attention_mask"][..., None].astype(np.float32)
        v = (hid * m).sum(1) / m.sum(1)
        v /= np.linalg.norm(v, axis=1, keepdims=True)


bench("onnxruntime", ort_run)
