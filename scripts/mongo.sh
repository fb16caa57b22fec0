#!/usr/bin/env bash
# A MongoDB-wire-protocol server for tests and the demo: FerretDB v1 with its
# SQLite backend (no cgo, no PostgreSQL), on 127.0.0.1.
#
#   scripts/mongo.sh start     build FerretDB if needed, start it, wait for a ping
#   scripts/mongo.sh stop      stop the server we started, wait for exit
#   scripts/mongo.sh status    exit 0 if running (prints address), 3 if not
#   scripts/mongo.sh address   print 127.0.0.1:PORT of the running server
#   scripts/mongo.sh ping      exit 0 if the running server answers {ping: 1}
#   scripts/mongo.sh down      an outage that keeps the data: here the same as stop
#   scripts/mongo.sh up        end the outage: here the same as start
#
# down/up exist because scripts/mongo-java.sh, whose data lives in memory,
# cannot make an outage by stop/start; the tests that take the server away
# call down/up on either script.
#
# Environment: MONGO_PORT (default: the last one used if free, else any free
# port), MONGO_START_TIMEOUT (seconds, default 60).
#
# Binary: .cache/ferretdb/bin/ferretdb, built from the module source fetched
# through the Go module proxy (see build_ferretdb for why not `go install`).
# State: run/mongo (data/ with one SQLite file per database, state/, mongo.log,
# mongo.pid, port). Data is kept across stop/start; remove run/mongo for an
# empty server.
set -euo pipefail

FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_VERSION=v1.24.2

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
CACHE=$ROOT/.cache/ferretdb
BIN=$CACHE/bin/ferretdb
RUN=$ROOT/run/mongo
DATA=$RUN/data
STATE=$RUN/state
PIDFILE=$RUN/mongo.pid
PORTFILE=$RUN/port
LOG=$RUN/mongo.log
TIMEOUT=${MONGO_START_TIMEOUT:-60}

log() { printf 'mongo: %s\n' "$*"; }
die() { printf 'mongo: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib/server-helpers.sh
. "$SCRIPT_DIR/lib/server-helpers.sh"

# --- helpers -----------------------------------------------------------------

# The pid of the server started from this tree, or nothing: the command line
# must still name our binary and state dir (pids are recycled).
running_pid() { pid_from_file "$PIDFILE" "^$BIN .*--state-dir=$STATE"; }
listen_address() { echo "127.0.0.1:$(port)"; }

port() { cat "$PORTFILE" 2>/dev/null || true; }


go_bin() {
    if command -v go >/dev/null 2>&1; then
        command -v go
    elif [ -x /usr/local/go/bin/go ]; then
        echo /usr/local/go/bin/go
    fi
}

# Builds FerretDB into $BIN. Not `go install MODULE@VERSION`, for two reasons
# seen on this project's machines: the go command then also fetches the
# module's version list for its deprecation check, which the proxy we can
# reach refuses (403), and a binary built that way panics at start because
# build/version/version.txt, which FerretDB's own build writes and embeds,
# is missing. So: download the module source, copy it somewhere writable,
# write version.txt, go build.
build_ferretdb() {
    # Never `cmd | grep -q` under pipefail: grep exits at the first match,
    # cmd may then die of SIGPIPE, and the pipeline counts as failed.
    if [ -x "$BIN" ] && grep -qx "version: $FERRETDB_VERSION" <<<"$("$BIN" --version 2>/dev/null)"; then
        return 0
    fi
    local go
    go=$(go_bin)
    [ -n "$go" ] || die "go not found; run scripts/install-deps.sh"
    log "building FerretDB $FERRETDB_VERSION with $("$go" version) (first time only)"
    local work=$CACHE/work
    rm -rf "$work"
    mkdir -p "$work" "$CACHE/bin"
    # Everything the go command downloads or caches stays under $work and is
    # removed after the build: only the binary is worth keeping.
    export GOMODCACHE=$work/mod GOCACHE=$work/gocache GOPATH=$work/gopath
    export GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0
    # go.mod asks for Go 1.24: an older go command (1.21 or later) fetches
    # that toolchain, itself a module on the proxy; Go 1.19 cannot build it.
    export GOTOOLCHAIN=auto
    local dir
    if ! dir=$(cd "$work" && "$go" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION" 2>"$work/download.log" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'); then
        cat "$work/download.log" >&2
        die "go mod download $FERRETDB_MODULE@$FERRETDB_VERSION failed"
    fi
    cp -r "$dir" "$work/src"
    chmod -R u+w "$work/src"
    printf '%s\n' "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
    if ! (cd "$work/src" && "$go" build -trimpath -o "$BIN.tmp" ./cmd/ferretdb) >"$work/build.log" 2>&1; then
        tail -n 30 "$work/build.log" >&2
        die "go build of FerretDB failed (log kept in $work/build.log)"
    fi
    grep -qx "version: $FERRETDB_VERSION" <<<"$("$BIN.tmp" --version)" ||
        die "built binary does not report version $FERRETDB_VERSION"
    mv "$BIN.tmp" "$BIN"
    rm -rf "$work"
    log "built $BIN ($("$BIN" --version | head -n1))"
}

# --- commands ----------------------------------------------------------------

cmd_start() {
    take_run_lock 600

    local pid
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        log "already running (pid $pid) at 127.0.0.1:$(port)"
        return 0
    fi
    command -v python3 >/dev/null || die "python3 not found; run scripts/install-deps.sh"
    build_ferretdb

    local p prev
    prev=$(port)
    p=$(choose_port "${MONGO_PORT:-}" "$prev" "MONGO_PORT")
    echo "$p" >"$PORTFILE"
    mkdir -p "$DATA" "$STATE"

    # Failure reports show only what this start logged, not older runs.
    LOG_OFFSET=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    log "starting FerretDB on 127.0.0.1:$p (SQLite in $DATA), log $LOG"
    # setsid: outlive this script and ignore the caller's Ctrl-C. fd 9 (the
    # lock) must not leak into the server, or stop would wait on it forever.
    setsid "$BIN" --handler=sqlite --sqlite-url="file:$DATA/" \
        --listen-addr="127.0.0.1:$p" --telemetry=disable --debug-addr=- \
        --state-dir="$STATE" --log-format=text \
        </dev/null >>"$LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"

    local deadline start=$SECONDS
    deadline=$((SECONDS + TIMEOUT))
    until mongo_wire_ping "$p"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            fail_start "FerretDB (pid $pid) exited during start"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill_and_wait "$pid" 30
            fail_start "FerretDB did not answer a ping on 127.0.0.1:$p within ${TIMEOUT}s"
        fi
        sleep 0.2
    done
    log "running (pid $pid) at 127.0.0.1:$p, ready after $((SECONDS - start))s"
}

fail_start() {
    printf 'mongo: error: %s\n' "$1" >&2
    printf 'mongo: last lines of %s:\n' "$LOG" >&2
    tail -c "+$((${LOG_OFFSET:-0} + 1))" "$LOG" 2>/dev/null | tail -n 30 >&2 || true
    rm -f "$PIDFILE"
    exit 1
}

cmd_stop() {
    take_run_lock 600
    server_stop "FerretDB" 30
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) server_status ;;
address) server_address ;;
ping) mongo_server_ping ;;
# FerretDB keeps its data in run/mongo/data across a stop.
down) cmd_stop ;;
up) cmd_start ;;
*)
    echo "usage: $0 start|stop|status|address|ping|down|up" >&2
    exit 2
    ;;
esac
