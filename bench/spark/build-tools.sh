#!/usr/bin/env bash
# Builds the C tools of bench/spark and bench/crash against the release
# build's libragbatch.a (scripts/build.sh first):
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
LIB=$ROOT/build/libragbatch.a
[ -f "$LIB" ] || { echo "build-tools: no $LIB; run scripts/build.sh" >&2; exit 1; }
mkdir -p "$OUT"
read -r -a libs <<<"$(pkg-config --libs libmongoc-1.0 rdkafka libcurl libutf8proc openblas libcrypto) -lm"
read -r -a mongo_cflags <<<"$(pkg-config --cflags libmongoc-1.0)"
cflags=(-O2 -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
    -Isrc -Itests -pthread -fopenmp "${mongo_cflags[@]}")
gcc "${cflags[@]}" bench/spark/embed_serve.c tests/servers/embed_server.c \
    tests/servers/http_server.c "$LIB" "${libs[@]}" -o "$OUT/embed_serve"
gcc -O2 -std=c11 -Wall -Wextra -Werror bench/spark/treerss.c -o "$OUT/treerss"
gcc "${cflags[@]}" bench/pipeline/bench_texts.c "$LIB" "${libs[@]}" -o "$OUT/bench_texts"
gcc "${cflags[@]}" bench/spark/floor.c "$LIB" "${libs[@]}" -o "$OUT/floor"
if [ -f bench/crash/crash_tool.c ]; then
    gcc "${cflags[@]}" bench/crash/crash_tool.c "$LIB" "${libs[@]}" -o "$OUT/crash_tool"
fi
