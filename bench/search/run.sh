#!/bin/sh
# run.sh -- the search benchmark: exact-search latency over 10,000 stored
# 384-d vectors (p50, p99), and BSON double arrays vs the binary float32
# vector subtype for writing and reading vectors.  Not a test: it prints
# figures for bench/README.md.
#
# Usage: bench/search/run.sh [N] [QUERIES] [WHAT]   (defaults 10000, 100,
#        float32,array; WHAT may also name part2, the raw format comparison)
# Needs: a configured build (BUILD, default build-bench, configured here if
# missing); the servers (scripts/servers.sh start is run here).  Set
# BENCH_MONGO_URI to measure another server (e.g. a private FerretDB that
# other suites do not restart mid-run).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
work=$root/.cache/bench
mkdir -p "$work"
"$root/scripts/servers.sh" start >/dev/null
# shellcheck source=/dev/null
. "$root/run/servers.env"
if [ ! -f "$build/Makefile" ]; then
    mkdir -p "$build"
    (cd "$build" && "$root/configure" -q)
fi
# The program is an Automake target (bench/local.mk).
make -C "$build" -j2 bench/search/bench_search >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/bench/search/bench_search" "${BENCH_MONGO_URI:-$RAGBATCH_MONGO_URI}" "${1:-10000}" "${2:-100}" \
    "${3:-float32,array}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
