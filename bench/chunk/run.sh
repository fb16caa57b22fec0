#!/bin/sh
# run.sh -- retrieval quality on long documents: recall@1/@5 with chunking
# against truncation (bench/chunk/bench_recall.c).  No servers: the
# product's chunker and embedder on a generated fixture.  Not a test: it
# prints figures for bench/README.md.
#
# Usage: bench/chunk/run.sh [N] [MAX_TOKENS] [OVERLAP]   (defaults 100, 254, 32)
# Needs: a configured build (BUILD, default build-bench, configured here if
# missing) and the model (scripts/fetch-model.sh).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
work=$root/.cache/bench
mkdir -p "$work"
if [ ! -f "$build/Makefile" ]; then
    mkdir -p "$build"
    (cd "$build" && "$root/configure" -q)
fi
make -C "$build" -j2 libragbatch.a >/dev/null
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$root/src" -fopenmp \
    "$root/bench/chunk/bench_recall.c" -o "$work/bench_recall" "$build/libragbatch.a" \
    $(pkg-config --libs libmongoc-1.0 rdkafka libcurl libutf8proc) \
    $(pkg-config --libs openblas 2>/dev/null || true) -lcrypto -lm
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$work/bench_recall" "$root/models/all-MiniLM-L6-v2" "${1:-100}" "${2:-254}" "${3:-32}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
