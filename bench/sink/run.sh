#!/bin/sh
# run.sh -- the sink benchmarks (not tests; they print figures for
# bench/README.md).
#
#   bench/sink/run.sh probe URI [SIZES] [SHAPES] [BUDGET_S]
#       per-shape cost of one 1,000-record batch as the collection grows
#       (bench/sink/probe.c)
#   bench/sink/run.sh flat URI [SIZES] [KINDS] [BATCH] [REPEAT]
#       the sink path of one batch (the runner's lookup + rb_sink_write in
#       the mode the sink picks) at each collection size (bench/sink/flat.c)
#
# Needs a configured build (BUILD, default build-bench, configured here if
# missing).  URI is any MongoDB-wire server; run under
# `flock /tmp/rb/timing.lock` when the figures are to be reported.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build-bench}
work=$root/.cache/bench
mkdir -p "$work"
if [ ! -f "$build/Makefile" ]; then
    mkdir -p "$build"
    (cd "$build" && "$root/configure" -q)
fi
# The programs are Automake targets (bench/local.mk).
compile() { # NAME
    make -C "$build" -j2 "bench/sink/$1" >/dev/null
}
what=${1:-}
[ $# -gt 0 ] && shift
case "$what" in
probe)
    [ $# -ge 1 ] || { echo "usage: bench/sink/run.sh probe URI [SIZES] [SHAPES] [BUDGET_S]" >&2; exit 2; }
    compile probe
    echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "$build/bench/sink/probe" "$@"
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    ;;
flat)
    [ $# -ge 1 ] || { echo "usage: bench/sink/run.sh flat URI [SIZES] [KINDS] [BATCH] [REPEAT]" >&2; exit 2; }
    compile flat
    echo "# $(lscpu | grep 'Model name' | sed 's/  */ /g'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
    "$build/bench/sink/flat" "$@"
    echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
    ;;
*)
    echo "usage: bench/sink/run.sh probe|flat URI ..." >&2
    exit 2
    ;;
esac
