#!/bin/sh
# run.sh -- the embedding benchmark: the C embedder (OpenBLAS and built-in
# kernels), sentence-transformers (PyTorch CPU) and ONNX Runtime, on the
# same 1,000 product texts, the same model and the same thread count, at
# batch 1 and batch 32.  Not a test: it prints figures for bench/README.md.
#
# Usage: bench/embed/run.sh [THREADS]   (default: nproc)
# Needs: scripts/fetch-model.sh done; a configured build (BUILD, default
# build-bench, configured here if missing); the venv .cache/venv (VENV) with
# sentence-transformers, onnxruntime and onnx (created here if missing).
# Scratch files (texts, the ONNX export) go to .cache/bench (BENCH_WORK).
# AGREE_TEXTS (default 10000; 0: skip) texts are embedded in fp32 and int8
# after the timings, for int8's cosine and top-10 neighbour overlap; that
# part is not timed, so `flock /tmp/rb/timing.lock` may leave it out
# (AGREE_TEXTS=0, then bench/embed/int8_agree on its own).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
threads=${1:-$(nproc)}
build=${BUILD:-$root/build-bench}
model=$root/models/all-MiniLM-L6-v2
work=${BENCH_WORK:-$root/.cache/bench}
venv=${VENV:-$root/.cache/venv}
agree=${AGREE_TEXTS:-10000}
mkdir -p "$work"

"$root/scripts/fetch-model.sh"
if [ ! -x "$venv/bin/python" ]; then
    echo "bench: creating $venv (sentence-transformers, onnxruntime, onnx)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q sentence-transformers onnxruntime onnx
fi
if [ ! -f "$build/Makefile" ]; then
    mkdir -p "$build"
    (cd "$build" && "$root/configure" -q)
fi
# The programs are Automake targets (bench/local.mk).
make -C "$build" -j"$(nproc)" bench/embed/bench_embed bench/embed/peak bench/embed/int8_agree \
    >/dev/null
python3 "$root/bench/embed/texts.py" "$work/products.txt"

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|BogoMIPS|L2|L3)' || true
grep -o -w -E 'avx2|fma|avx512f|avx512_vnni|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== FP32 FMA and int8 VNNI peaks (threads=$threads)"
"$build/bench/embed/peak" "$threads"
echo "== C embedder (threads=$threads)"
for kernel in packed openblas builtin; do
    "$build/bench/embed/bench_embed" "$model" "$work/products.txt" "$threads" "$kernel" ||
        echo "c-$kernel: not available on this CPU or build"
done
# embed.precision = int8 (packed kernel, AVX512-VNNI), right beside fp32.
"$build/bench/embed/bench_embed" "$model" "$work/products.txt" "$threads" packed int8 ||
    echo "c-packed-int8: not available on this CPU or build"
echo "== Python references (threads=$threads)"
"$venv/bin/python" "$root/bench/embed/bench_py.py" "$model" "$work/products.txt" "$threads" \
    "$work/all-MiniLM-L6-v2.onnx" 2>&1 | grep -v -E 'Loading weights|Warning|warn'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$agree" -gt 0 ]; then
    echo "== int8 against fp32 over $agree texts (not timed)"
    python3 "$root/bench/embed/texts.py" "$work/products-$agree.txt" "$agree"
    "$build/bench/embed/int8_agree" "$model" "$work/products-$agree.txt" "$threads" ||
        echo "int8-vs-fp32: not available on this CPU or build"
fi
