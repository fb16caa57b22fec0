#!/usr/bin/env python3
"""Build the tiny reference models of tests/data/models/ and their golden data.

No hub access: everything is made here from committed text and a fixed seed.

  xlmr-tiny/     an XLM-RoBERTa encoder (random weights, hidden 32, 2 layers)
                 with a SentencePiece Unigram tokenizer trained on
                 tests/data/models/corpus.txt with sentencepiece's default
                 nmt_nfkc rule (so tokenizer.json carries a Precompiled
                 charsmap, as XLM-R's own does), converted to tokenizer.json
                 by transformers' XLMRobertaConverter; mean pooling +
                 Normalize.  No sentencepiece.bpe.model is kept: ragbatch
                 reads tokenizer.json only.
  bert-tiny/     a BERT encoder (random weights) with a WordPiece
                 tokenizer.json trained by `tokenizers` (BertNormalizer that
                 lower-cases but keeps accents, BertPreTokenizer,
                 TemplateProcessing); no vocab.txt; weightedmean pooling.
  unigram-nfkc/  tokenizer.json only: a Unigram model trained by `tokenizers`
                 with NFKC + Lowercase, Whitespace + Metaspace pre-tokenizers,
                 BertProcessing-free TemplateProcessing and byte fallback.

reference.jsonl: one object per (model, text): token ids from the model's
own Hugging Face tokenizer (truncated to max_seq_length) and, for the two
encoders, the sentence-transformers embedding (7 significant digits).

Run in the venv that has torch, transformers, tokenizers, sentencepiece and
sentence-transformers (see tests/data/models/README.md):
    .cache/venv-models/bin/python scripts/make-test-models.py
"""
import json
import os
import shutil
import sys
import tempfile

import sentencepiece as spm
import torch
from sentence_transformers import SentenceTransformer, models
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors, trainers
from tokenizers.models import Unigram, WordPiece
from transformers import (AddedToken, BertConfig, BertModel, PreTrainedTokenizerFast,
                          XLMRobertaConfig, XLMRobertaModel)
from transformers.convert_slow_tokenizer import XLMRobertaConverter

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
data = os.path.join(root, "tests", "data", "models")
corpus = os.path.join(data, "corpus.txt")
with open(os.path.join(data, "texts.jsonl"), encoding="utf-8") as f:
    texts = [json.loads(line) for line in f if line.strip()]


def fresh(name):
    d = os.path.join(data, name)
    shutil.rmtree(d, ignore_errors=True)
    return d


def save_sbert(encoder, tok, out, max_seq, pooling, normalize):
    """Saves encoder + tokenizer as a sentence-transformers directory."""
    with tempfile.TemporaryDirectory() as tmp:
        encoder.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        word = models.Transformer(tmp, max_seq_length=max_seq)
        pool = models.Pooling(word.get_word_embedding_dimension(), pooling_mode=pooling)
        mods = [word, pool] + ([models.Normalize()] if normalize else [])
        SentenceTransformer(modules=mods, device="cpu").save(out)
    # Files ragbatch does not read and that only make the fixture bigger.
    for f in ("README.md", "config_sentence_transformers.json"):
        p = os.path.join(out, f)
        if os.path.exists(p):
            os.remove(p)


def xlmr_tiny():
    out = fresh("xlmr-tiny")
    with tempfile.TemporaryDirectory() as tmp:
        prefix = os.path.join(tmp, "spm")
        spm.SentencePieceTrainer.train(input=corpus, model_prefix=prefix, vocab_size=700,
                                       model_type="unigram", character_coverage=0.995,
                                       hard_vocab_limit=False, minloglevel=2, seed_sentencepiece_size=100000)

        class Slow:  # what XLMRobertaConverter reads of a slow tokenizer
            vocab_file = prefix + ".model"

            def convert_tokens_to_ids(self, t):
                return {"<s>": 0, "</s>": 2}[t]

        tk = XLMRobertaConverter(Slow()).converted()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="</s>", cls_token="<s>",
        sep_token="</s>", unk_token="<unk>", pad_token="<pad>",
        mask_token=AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False),
        model_max_length=512)
    torch.manual_seed(1234)
    cfg = XLMRobertaConfig(vocab_size=len(fast), hidden_size=32, num_hidden_layers=2,
                           num_attention_heads=4, intermediate_size=64,
                           max_position_embeddings=66, type_vocab_size=1, pad_token_id=1,
                           bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5,
                           initializer_range=0.2)
    model = XLMRobertaModel(cfg, add_pooling_layer=False).eval()
    save_sbert(model, fast, out, 48, "mean", True)
    legacy_layout(out, 32, "mean", 48)
    return out


def legacy_layout(out, dim, mode, max_seq):
    """Rewrites the sentence-transformers files the way models published
    before sentence-transformers 6 have them (what most downloads look like):
    pooling_mode_* booleans, max_seq_length in sentence_bert_config.json."""
    modes = {"cls": "cls_token", "max": "max_tokens", "mean": "mean_tokens",
             "mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
             "weightedmean": "weightedmean_tokens", "lasttoken": "lasttoken"}
    pool = {"word_embedding_dimension": dim}
    pool.update({"pooling_mode_" + v: k == mode for k, v in modes.items()})
    with open(os.path.join(out, "1_Pooling", "config.json"), "w") as f:
        json.dump(pool, f, indent=2)
    with open(os.path.join(out, "sentence_bert_config.json"), "w") as f:
        json.dump({"max_seq_length": max_seq, "do_lower_case": False}, f, indent=2)
    with open(os.path.join(out, "modules.json")) as f:
        mods = json.load(f)
    for m in mods:
        m["type"] = "sentence_transformers.models." + m["type"].rsplit(".", 1)[1]
    with open(os.path.join(out, "modules.json"), "w") as f:
        json.dump(mods, f, indent=2)


def bert_tiny():
    out = fresh("bert-tiny")
    tk = Tokenizer(WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tk.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                               strip_accents=False, lowercase=True)
    tk.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tk.train([corpus], trainers.WordPieceTrainer(vocab_size=900, special_tokens=specials,
                                                 min_frequency=1))
    tk.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tk.token_to_id("[CLS]")), ("[SEP]", tk.token_to_id("[SEP]"))])
    tk.decoder = decoders.WordPiece()
    fast = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="[UNK]", cls_token="[CLS]",
                                   sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]",
                                   model_max_length=512)
    torch.manual_seed(4321)
    cfg = BertConfig(vocab_size=len(fast), hidden_size=48, num_hidden_layers=2,
                     num_attention_heads=4, intermediate_size=96, max_position_embeddings=64,
                     type_vocab_size=2, initializer_range=0.2)
    model = BertModel(cfg, add_pooling_layer=False).eval()
    save_sbert(model, fast, out, 40, "weightedmean", False)
    vocab = os.path.join(out, "vocab.txt")
    if os.path.exists(vocab):
        os.remove(vocab)  # this fixture proves the tokenizer.json-only layout
    return out


def unigram_nfkc():
    out = fresh("unigram-nfkc")
    os.makedirs(out)
    tk = Tokenizer(Unigram())
    tk.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Metaspace(replacement="\u2581",
                                                              prepend_scheme="always")])
    specials = ["<s>", "</s>", "<unk>", "<pad>"]
    tk.train([corpus], trainers.UnigramTrainer(vocab_size=600, special_tokens=specials,
                                               unk_token="<unk>"))
    # Byte fallback: every byte as <0xHH>, scored below every trained piece.
    spec = json.loads(tk.to_str())
    vocab = spec["model"]["vocab"]
    low = min(s for _, s in vocab) - 1.0
    have = {p for p, _ in vocab}
    vocab += [["<0x%02X>" % b, low] for b in range(256) if "<0x%02X>" % b not in have]
    spec["model"]["byte_fallback"] = True
    tk = Tokenizer.from_str(json.dumps(spec))
    tk.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> $B </s>",
        special_tokens=[("<s>", tk.token_to_id("<s>")), ("</s>", tk.token_to_id("</s>"))])
    tk.save(os.path.join(out, "tokenizer.json"))
    return out


def write_refs(outf, name, model_dir, with_vectors):
    if with_vectors:
        st = SentenceTransformer(model_dir, device="cpu")
        tok, max_len = st.tokenizer, st.max_seq_length
        vecs = st.encode(texts, batch_size=8, convert_to_numpy=True)
    else:
        tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(model_dir, "tokenizer.json"))
        max_len, vecs = 48, [None] * len(texts)
    raw = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    for text, vec in zip(texts, vecs):
        ids = tok(text, truncation=True, max_length=max_len)["input_ids"]
        # The tokenizers library by itself must agree (it is what ragbatch mirrors).
        raw.enable_truncation(max_len)
        if raw.encode(text).ids != ids:
            sys.exit("make-test-models: %s: tokenizers and transformers disagree on %r"
                     % (name, text))
        rec = {"model": name, "max_len": max_len, "text": text, "ids": ids}
        if vec is not None:
            rec["embedding"] = [float("%.7g" % x) for x in vec.tolist()]
        outf.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")


dirs = {"xlmr-tiny": xlmr_tiny(), "bert-tiny": bert_tiny(), "unigram-nfkc": unigram_nfkc()}
with open(os.path.join(data, "reference.jsonl"), "w", encoding="utf-8") as f:
    for name, d in dirs.items():
        write_refs(f, name, d, name != "unigram-nfkc")
print("make-test-models: %d texts x %d models -> %s" % (len(texts), len(dirs), data))
