#!/bin/sh
# run.sh -- tokenizer throughput for bench/README.md: the BERT WordPiece
# tokenizer of all-MiniLM-L6-v2 (from vocab.txt and from tokenizer.json)
# beside the SentencePiece Unigram pipeline of XLM-R (Precompiled charsmap,
# Metaspace; tests/data/models/xlmr-tiny) with its own 702 pieces and with
# an XLM-R-sized vocabulary of 250,002 (big_vocab.py), on English product
# texts and on multilingual text.  One thread; timed under
# /tmp/rb/timing.lock when that lock exists.
#
# Usage: bench/tokenize/run.sh [SECONDS per tokenizer, default 6]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-6}
build=${BUILD:-$root/build}
work=$root/.cache/bench/tokenize
mkdir -p "$work"
"$root/scripts/fetch-model.sh" >/dev/null
make -C "$build" -j2 bench/tokenize/bench_tokenize >/dev/null
python3 "$root/bench/embed/texts.py" "$work/products.txt"
# Multilingual: the reference corpus, each line 20 times.
for _ in $(seq 20); do cat "$root/tests/data/models/corpus.txt"; done >"$work/multilingual.txt"
python3 "$root/bench/tokenize/big_vocab.py" "$root/tests/data/models/xlmr-tiny/tokenizer.json" \
    "$work/xlmr-250k.json" >/dev/null
# all-MiniLM-L6-v2 without its tokenizer.json: the vocab.txt path.
vt=$work/minilm-vocab-txt
mkdir -p "$vt/1_Pooling"
for f in config.json tokenizer_config.json special_tokens_map.json modules.json \
    sentence_bert_config.json 1_Pooling/config.json vocab.txt; do
    cp "$root/models/all-MiniLM-L6-v2/$f" "$vt/$f"
done
m=$root/models/all-MiniLM-L6-v2
lock=
[ -e /tmp/rb/timing.lock ] && lock="flock /tmp/rb/timing.lock"
echo "== machine: $(lscpu | grep 'Model name' | sed 's/.*: *//')"
for texts in products multilingual; do
    echo "== $texts ($(wc -l <"$work/$texts.txt") texts, $(wc -c <"$work/$texts.txt") bytes)"
    $lock "$build/bench/tokenize/bench_tokenize" "$work/$texts.txt" "$secs" \
        "bert-wordpiece-vocab.txt=$vt" "bert-wordpiece-tokenizer.json=$m" \
        "xlmr-unigram-702=$root/tests/data/models/xlmr-tiny/tokenizer.json" \
        "xlmr-unigram-250k=$work/xlmr-250k.json"
done
