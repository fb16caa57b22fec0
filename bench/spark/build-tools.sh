#!/usr/bin/env bash
# Makes the C tools of bench/spark and bench/crash (Automake targets of
# the release build, bench/local.mk) and links them into one directory,
# where the bench scripts look for them:
#
#   bench/spark/build-tools.sh [OUT_DIR]      (default build/bench-spark)
#
#   embed_serve   the instant embeddings server (bench/spark/embed_serve.c)
#   treerss       peak memory of a process tree (bench/spark/treerss.c)
#   bench_texts   the bare embedder on a job's texts (bench/pipeline/)
#   crash_tool    producer, offsets and verifier of the crash test (bench/crash/)
#   floor         the server floor of the http comparison (bench/spark/floor.c)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OUT=${1:-$ROOT/build/bench-spark}
BUILD=$ROOT/build
[ -f "$BUILD/Makefile" ] || { echo "build-tools: no $BUILD/Makefile; run scripts/build.sh" >&2; exit 1; }
tools=(bench/spark/embed_serve bench/spark/treerss bench/pipeline/bench_texts bench/crash/crash_tool
    bench/spark/floor)
make -C "$BUILD" -j2 "${tools[@]}" >/dev/null
mkdir -p "$OUT"
for t in "${tools[@]}"; do ln -sf "$BUILD/$t" "$OUT/${t##*/}"; done
