#!/usr/bin/env bash
# The JSON decode benchmark: the worst 1 MiB record values per shape
# (bench/json/bench_json.c), parsed as the runner parses a record and then
# validated against conf/product_schema.json.  Needs no server.
#
#   bench/json/run.sh [SIZE] [REPEAT] [BUILD_DIR]   (defaults: 1048576, 5, build)
#
# Timed runs hold /tmp/rb/timing.lock when it exists (the machine is shared).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SIZE=${1:-1048576}
REPEAT=${2:-5}
BUILD=$(cd "${3:-build}" && pwd)
OUT=$BUILD/bench-json
mkdir -p "$OUT"
make -C "$BUILD" -j2 libragbatch.a >/dev/null

libs="$(pkg-config --libs libmongoc-1.0 rdkafka libcurl libutf8proc libcrypto) -lm"
cflags="-O2 -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc -fopenmp"
# shellcheck disable=SC2086
gcc $cflags bench/json/bench_json.c "$BUILD/libragbatch.a" $libs -o "$OUT/bench_json"

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -d /tmp/rb ]; then
    flock /tmp/rb/timing.lock "$OUT/bench_json" conf/product_schema.json "$SIZE" "$REPEAT"
else
    "$OUT/bench_json" conf/product_schema.json "$SIZE" "$REPEAT"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
