#!/usr/bin/env bash
# The JSON decode benchmark: the worst 1 MiB record values per shape
# (bench/json/bench_json.c), parsed as the runner parses a record and then
# validated against conf/product_schema.json, then against
# bench/json/adversarial_schema.json (the costliest rules for these shapes:
# oneOf over a recursive $ref, backtracking patterns) and
# bench/json/unique_schema.json (uniqueItems everywhere).  Needs no server.
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
# The program is an Automake target (bench/local.mk).
make -C "$BUILD" -j2 bench/json/bench_json >/dev/null
BENCH=$BUILD/bench/json/bench_json

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for schema in conf/product_schema.json bench/json/adversarial_schema.json \
    bench/json/unique_schema.json; do
    echo "schema: $schema"
    if [ -d /tmp/rb ]; then
        flock /tmp/rb/timing.lock "$BENCH" "$schema" "$SIZE" "$REPEAT"
    else
        "$BENCH" "$schema" "$SIZE" "$REPEAT"
    fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
