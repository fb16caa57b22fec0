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
if [ ! -f "$build/Makefile" ]; then
    mkdir -p "$build"
    (cd "$build" && "$root/configure" -q)
fi
make -C "$build" -j2 bench/chunk/bench_recall >/dev/null
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/chunk/bench_recall" "$root/models/all-MiniLM-L6-v2" "${1:-100}" "${2:-254}" "${3:-32}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
