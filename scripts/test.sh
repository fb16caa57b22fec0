#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts the real Kafka
# broker and both MongoDB-wire servers, and runs every suite -- unit and
# integration -- twice: a release build, then AddressSanitizer + UBSan.
# Each build runs every suite against FerretDB, then the integration suites
# (those that talk to MongoDB) again against mongo-java-server.  Exits
# non-zero if anything fails, a server included.  Stops the servers it
# started.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

step() { printf '\n== %s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh
scripts/fetch-model.sh

# Formatting, shellcheck and banned calls over the whole tree; a finding
# fails the run but does not stop it.
step "style (clang-format, shellcheck, banned calls)"
style_status=0
scripts/check-style.sh || style_status=1

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

# The integration suites that talk to a MongoDB-wire server: every suite
# whose source reads RAGBATCH_MONGO_URI or uses the harness's job files or
# sink. Found, not listed, so a new suite cannot miss the second server.
mapfile -t mongo_suites < <(grep -lE 'RAGBATCH_MONGO_URI|harness_(sink|write_job)\(' tests/check_*.c |
    sed -E 's|^tests/(check_[a-z0-9_]+)\.c$|tests/\1|' | sort)
[ "${#mongo_suites[@]}" -gt 0 ] || { echo "test: no integration suite found" >&2; exit 1; }

status=0
passed=0
failed=0
# tally DIR SUITE...: adds the Check counts of the suites just run in DIR
# (each leaves a .trs beside its .log; other .log files under tests/ are
# the suites' own scratch). A suite without a summary line counts as one
# failure.
tally() {
    local dir=$1 suite log line checks bad
    shift
    for suite in "$@"; do
        [ -f "$dir/$suite.trs" ] || continue
        log=$dir/$suite.log
        line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n 1 || true)
        if [ -z "$line" ]; then failed=$((failed + 1)); continue; fi
        checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$line")
        bad=$(sed -E 's/.*Failures: ([0-9]+), Errors: ([0-9]+).*/\1+\2/' <<<"$line")
        bad=$((bad))
        passed=$((passed + checks - bad))
        failed=$((failed + bad))
    done
}

# run_suites DIR SERVER [SUITE...]: make check in DIR against the
# MongoDB-wire server SERVER (ferretdb or mongo-java), all suites or the
# ones named. The output is kept in DIR/check-SERVER.out, and the suites'
# logs in DIR/check-SERVER/, since the next run overwrites them.
run_suites() {
    local dir=$1 server=$2 uri out suites
    shift 2
    case "$server" in
    ferretdb) uri=$RAGBATCH_MONGO_URI ;;
    mongo-java) uri=$RAGBATCH_MONGO_JAVA_URI ;;
    esac
    out=$dir/check-$server.out
    suites=$*
    step "make check in ${dir#"$ROOT"/} against $server${suites:+ ($suites)}"
    # Suites run one at a time: the outage test takes the MongoDB-wire
    # server that the other integration suites use away.
    make -C "$dir" -j2 all >/dev/null
    # A suite that failed while it had a server down must not fail the runs
    # after it as well: each run starts with both servers up.
    local script
    for script in mongo.sh mongo-java.sh; do
        "$ROOT/scripts/$script" up >/dev/null || { echo "test: scripts/$script up failed" >&2; status=1; }
    done
    # TESTS= on the command line replaces the list; without suites, make's own.
    local -a tests=()
    [ -z "$suites" ] || tests=("TESTS=$suites")
    # An earlier run's summary must not stand in for this one when the
    # build itself fails.
    rm -f "$dir/test-suite.log"
    if ! RAGBATCH_MONGO_URI=$uri RAGBATCH_MONGO_SERVER=$server \
        make -C "$dir" -j1 check "${tests[@]}" >"$out" 2>&1; then
        status=1
        cat "$out"
        [ -f "$dir/test-suite.log" ] && cat "$dir/test-suite.log"
    fi
    grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$out" || true
    # A suite that skips proves nothing here: treat SKIP as failure.
    if grep -qE '^(SKIP|ERROR|XPASS):' "$out"; then status=1; fi
    local -a ran
    mapfile -t ran < <(sed -nE 's/^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS): (tests\/check_[a-z0-9_]+)$/\2/p' "$out")
    tally "$dir" "${ran[@]}"
    rm -rf "$dir/check-$server"
    mkdir -p "$dir/check-$server"
    local t
    for t in "${ran[@]}"; do
        cp "$dir/$t.log" "$dir/$t.trs" "$dir/check-$server/" 2>/dev/null || true
    done
}
run_suites "$ROOT/build" ferretdb
run_suites "$ROOT/build" mongo-java "${mongo_suites[@]}"
# The sanitizer build runs both servers too: the two answer the same
# writes with differently shaped replies (which ops a writeErrors array
# names, upserted indexes, a dropped connection), and the code that reads
# them is where a memory error would hide. It costs about two minutes of a
# run of about eleven (docs/test-servers.md, Timings).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suites "$ROOT/build-asan" ferretdb
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suites "$ROOT/build-asan" mongo-java "${mongo_suites[@]}"

# The release tarball: built, installed, its installed sample job checked
# (scripts/installcheck.sh), uninstalled cleanly, by `make distcheck`.  Its
# suites are the ones that need no server (those above ran them all on this
# tree already), so that the tarball's tests find their data and the model.
step "make distcheck (the server-free suites)"
mapfile -t unit_suites < <(grep -LE 'RAGBATCH_MONGO_URI|RAGBATCH_KAFKA_BOOTSTRAP|harness' tests/check_*.c |
    grep -v '^tests/check_main\.c$' | sed -E 's|^tests/(check_[a-z0-9_]+)\.c$|tests/\1|' | sort)
if ! nice make -C "$ROOT/build" -j2 distcheck TESTS="${unit_suites[*]}" >"$ROOT/build/distcheck.out" 2>&1; then
    status=1
    tail -n 60 "$ROOT/build/distcheck.out"
    echo "test: make distcheck failed (build/distcheck.out)"
fi
grep -E -A1 'archives ready for distribution' "$ROOT/build/distcheck.out" || true

# The container image, built and run as the pods run it, against these
# servers: it must store what the host build stored.
step "container (docker build, the shipped job in the image)"
if ! scripts/container-test.sh; then status=1; fi

# Fuzzing the event path (JSON -> schema -> document/template) for a bounded
# time; a crash, leak or UBSan report fails the run.
step "fuzz (event path, ${FUZZ_SECONDS:-60} s)"
if ! FUZZ_SECONDS=${FUZZ_SECONDS:-60} scripts/fuzz.sh; then status=1; fi

# One closing line over every Check suite of both builds and both servers.
[ "$failed" -eq 0 ] || status=1
[ "$style_status" -eq 0 ] || { status=1; echo "test: the style check failed (see its step)"; }
echo
echo "tests: $passed passed, $failed failed"
exit $status
