#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts the real Kafka
# broker and MongoDB-wire server, and runs every suite -- unit and
# integration -- twice: a release build, then AddressSanitizer + UBSan.
# Exits non-zero if anything fails, a server included.  Stops the servers
# it started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh
scripts/fetch-model.sh

step "manifests (kubeconform, Kubernetes schemas from the Go module proxy)"
scripts/kubeconform.sh

step "build (release)"
scripts/build.sh
step "build (sanitizers)"
scripts/build.sh --sanitizers

step "servers"
started_here=0
if ! scripts/servers.sh status >/dev/null 2>&1; then started_here=1; fi
scripts/servers.sh start
if [ "$started_here" = 1 ]; then trap 'scripts/servers.sh stop' EXIT; fi
# shellcheck source=/dev/null
source run/servers.env

status=0
run_suites() {
    local dir=$1
    step "make check in ${dir#"$ROOT"/}"
    # Suites run one at a time: the outage test stops the MongoDB-wire
    # server that the other integration suites use.
    make -C "$dir" -j2 all >/dev/null
    if ! make -C "$dir" -j1 check >"$dir/check.out" 2>&1; then
        status=1
        cat "$dir/check.out"
        [ -f "$dir/test-suite.log" ] && cat "$dir/test-suite.log"
    fi
    grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$dir/check.out" || true
    # A suite that skips proves nothing here: treat SKIP as failure.
    if grep -qE '^(SKIP|ERROR|XPASS):' "$dir/check.out"; then status=1; fi
}
run_suites "$ROOT/build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suites "$ROOT/build-asan"

# Fuzzing the event path (JSON -> schema -> document/template) for a bounded
# time; a crash, leak or UBSan report fails the run.
step "fuzz (event path, ${FUZZ_SECONDS:-60} s)"
if ! FUZZ_SECONDS=${FUZZ_SECONDS:-60} scripts/fuzz.sh; then status=1; fi

# One closing line over every Check suite of both builds.
passed=0
failed=0
# A suite is what the harness ran (it leaves a .trs beside the suite's .log);
# other .log files under tests/ are the suites' own scratch.
for trs in build/tests/check_*.trs build-asan/tests/check_*.trs; do
    [ -f "$trs" ] || continue
    log=${trs%.trs}.log
    line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n 1 || true)
    if [ -z "$line" ]; then failed=$((failed + 1)); continue; fi
    checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
    bad=$(sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/' <<<"$line")
    bad=$((bad))
    passed=$((passed + checks - bad))
    failed=$((failed + bad))
done
[ "$failed" -eq 0 ] || status=1
echo
echo "tests: $passed passed, $failed failed"
exit $status
