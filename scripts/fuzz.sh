#!/usr/bin/env bash
# Builds and runs the libFuzzer target for the event path (tests/fuzz/
# fuzz_event.c: JSON parse -> schema validation -> document + template) for
# a bounded time.
#
#   scripts/fuzz.sh            FUZZ_SECONDS (default 60) of fuzzing
#   FUZZ_SECONDS=600 scripts/fuzz.sh
#   FUZZ_TARGET=fuzz_avro scripts/fuzz.sh   Avro bodies (tests/fuzz/fuzz_avro.c)
#                                           instead; its corpus is build-fuzz/corpus-fuzz_avro
#
# The target is an Automake program (tests/fuzz/local.mk) of a clang
# build configured with --enable-fuzz in build-fuzz/: the target compiles
# the sources it exercises with -fsanitize=fuzzer,address,undefined (UBSan
# findings abort, so they count as crashes).  libFuzzer starts from the
# committed seed corpus tests/fuzz/corpus/ and keeps what it finds in
# build-fuzz/corpus/ (not committed).  Exits non-zero on any crash, leak,
# timeout or out-of-memory; the reproducer is left in build-fuzz/ (crash-*,
# leak-*).  Needs clang and libclang-rt-14-dev (scripts/install-deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/build-fuzz
TARGET=${FUZZ_TARGET:-fuzz_event}
SECONDS_TO_RUN=${FUZZ_SECONDS:-60}
MAX_LEN=${FUZZ_MAX_LEN:-4096}
case "$TARGET" in
    fuzz_event) CORPUS=$OUT/corpus SEEDS=$ROOT/tests/fuzz/corpus ;;
    fuzz_avro) CORPUS=$OUT/corpus-fuzz_avro SEEDS=$ROOT/tests/fuzz/corpus-avro ;;
    *) echo "fuzz: unknown FUZZ_TARGET '$TARGET' (fuzz_event, fuzz_avro)" >&2; exit 2 ;;
esac
mkdir -p "$CORPUS"

cd "$ROOT"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then autoreconf -fi >/dev/null; fi
if [ ! -f "$OUT/Makefile" ] || [ configure -nt "$OUT/Makefile" ]; then
    echo "fuzz: configuring $OUT (clang, --enable-fuzz)"
    (cd "$OUT" && "$ROOT/configure" -q CC=clang CFLAGS="-g -O1" --enable-fuzz)
fi
echo "fuzz: make tests/fuzz/$TARGET in $OUT"
# Only the target: a few thousand lines, a few seconds on two cores.
make -C "$OUT" -j2 "tests/fuzz/$TARGET" >/dev/null
FUZZER=$OUT/tests/fuzz/$TARGET

echo "fuzz: running ${SECONDS_TO_RUN}s, max_len $MAX_LEN"
cd "$OUT"
# New inputs go to the first corpus directory, the seeds are read only.
status=0
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$FUZZER" -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$CORPUS" "$SEEDS" >"$OUT/fuzz.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
    tail -n 60 "$OUT/fuzz.log"
    echo "fuzz: FAILED (exit $status); reproducers in $OUT:" \
        "$(cd "$OUT" && find . -maxdepth 1 -regextype posix-extended \
            -regex './(crash|leak|timeout|oom|slow-unit)-.*' -printf '%f ')"
    exit 1
fi
# The figures worth reporting: coverage and speed of the last status line.
grep -E '^(#[0-9]+\s+DONE|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' "$OUT/fuzz.log" || true
echo "fuzz: ok"
