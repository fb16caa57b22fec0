#!/usr/bin/env bash
# The Avro decode benchmark (bench/avro/bench_avro.c): one product event
# read as Avro (scan + libavro-c + JSON text + parse) and as JSON, and the
# Avro path from every OpenMP thread.  Needs no server.
#
#   bench/avro/run.sh [N] [REPEAT] [BUILD_DIR]   (defaults: 200000, 5, build)
#
# Timed runs hold /tmp/rb/timing.lock when it exists (the machine is shared).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
N=${1:-200000}
REPEAT=${2:-5}
BUILD=$(cd "${3:-build}" && pwd)
# The program is an Automake target (bench/local.mk).
make -C "$BUILD" -j2 bench/avro/bench_avro >/dev/null
BENCH=$BUILD/bench/avro/bench_avro

echo "cpu: $(lscpu | sed -n 's/^Model name: *//p')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -d /tmp/rb ]; then
    flock /tmp/rb/timing.lock "$BENCH" "$ROOT" "$N" "$REPEAT"
else
    "$BENCH" "$ROOT" "$N" "$REPEAT"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
