#!/usr/bin/env bash
# Validation throughput on the product schema, one core: records/s of
# bench/json/bench_validate (20,000 parsed product events, best of 7 rounds).
# With OTHER (a bench_validate built from another commit, e.g. before a
# change), both run alternately, RUNS times each, in one timed session, so
# their ratio is measured side by side.
#
#   bench/json/throughput.sh [OTHER] [RUNS] [BUILD_DIR]   (defaults: none, 5, build)
#
# Timed runs hold /tmp/rb/timing.lock when it exists (the machine is shared).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
OTHER=${1:-}
RUNS=${2:-5}
BUILD=$(cd "${3:-build}" && pwd)
make -C "$BUILD" -j2 bench/json/bench_validate >/dev/null
THIS=$BUILD/bench/json/bench_validate

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), family $(lscpu | sed -n 's/^CPU family: *//p')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {
    for _ in $(seq "$RUNS"); do
        if [ -n "$OTHER" ]; then
            printf 'other: '
            taskset -c 0 "$OTHER" conf/product_schema.json 20000 7 | tail -1
        fi
        printf 'this:  '
        taskset -c 0 "$THIS" conf/product_schema.json 20000 7 | tail -1
    done
}
if [ -d /tmp/rb ]; then
    export -f run
    export OTHER RUNS THIS
    flock /tmp/rb/timing.lock bash -c run
else
    run
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
