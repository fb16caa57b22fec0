#!/usr/bin/env bash
# The second MongoDB-wire-protocol server for tests: mongo-java-server
# (de.bwaldvogel, Maven Central) with its in-memory backend, on 127.0.0.1.
# Independent of FerretDB (scripts/mongo.sh), so the integration suites run
# against two implementations of the protocol; see docs/test-servers.md.
#
#   scripts/mongo-java.sh start     fetch jars and compile if needed, start, wait for a ping
#   scripts/mongo-java.sh stop      stop the server we started, wait for exit
#   scripts/mongo-java.sh status    exit 0 if running (prints address), 3 if not
#   scripts/mongo-java.sh address   print 127.0.0.1:PORT of the running server
#   scripts/mongo-java.sh ping      exit 0 if the running server answers {ping: 1}
#   scripts/mongo-java.sh down      an outage that keeps the data: close the listener
#                                   and every client connection, keep the process
#   scripts/mongo-java.sh up        listen again after down, wait for a ping
#
# Why down/up: the data lives in the server's memory, so stop/start is a
# new, empty server, while a real MongoDB (and FerretDB, scripts/mongo.sh
# down/up) finds its documents again after an outage. The tests that take
# the server away use down/up on either script.
#
# Environment: MONGO_JAVA_PORT (default: the last one used if free, else any
# free port), MONGO_JAVA_START_TIMEOUT (seconds, default 60), MONGO_JAVA_HEAP
# (default -Xmx1g: the memory backend holds every document on the heap).
#
# Jars: .cache/mongo-java/libs (resolved by scripts/mongo-java/pom.xml,
# Maven's local repository in .cache/m2); the few lines of main in
# scripts/mongo-java/MongoJavaServerMain.java are compiled into
# .cache/mongo-java/classes. State: run/mongo-java (mongo-java.log,
# mongo-java.pid, port, control.sock for down/up). The data lives in the
# server's memory only: every start is an empty server, and a stop loses
# everything stored.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
SRC_DIR=$SCRIPT_DIR/mongo-java
POM=$SRC_DIR/pom.xml
MAIN_SRC=$SRC_DIR/MongoJavaServerMain.java
MAIN_CLASS=MongoJavaServerMain
CACHE=$ROOT/.cache/mongo-java
LIBS=$CACHE/libs
CLASSES=$CACHE/classes
LIBS_STAMP=$CACHE/libs.stamp
CLASSES_STAMP=$CACHE/classes.stamp
M2=$ROOT/.cache/m2
RUN=$ROOT/run/mongo-java
PIDFILE=$RUN/mongo-java.pid
PORTFILE=$RUN/port
LOG=$RUN/mongo-java.log
CONTROL=$RUN/control.sock
TIMEOUT=${MONGO_JAVA_START_TIMEOUT:-60}

log() { printf 'mongo-java: %s\n' "$*"; }
die() { printf 'mongo-java: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib/server-helpers.sh
. "$SCRIPT_DIR/lib/server-helpers.sh"

# --- helpers -----------------------------------------------------------------

# The pid of the server started from this tree, or nothing. The jars are in
# the shared cache, so the command line is told apart by the run directory
# it names (-Dragbatch.run); pids are recycled, so the file alone is not
# trusted.
running_pid() { pid_from_file "$PIDFILE" "java .*-Dragbatch.run=$RUN .*$MAIN_CLASS 127.0.0.1 "; }
listen_address() { echo "127.0.0.1:$(port)"; }

port() { cat "$PORTFILE" 2>/dev/null || true; }

# control COMMAND: sends "down" or "up" to the running server's control
# socket and prints its one-line answer; fails unless it starts with "ok".
control() {
    python3 - "$CONTROL" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
try:
    s.connect(sys.argv[1])
    s.sendall((sys.argv[2] + "\n").encode())
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        reply += chunk
except OSError as e:
    print("control socket %s: %s" % (sys.argv[1], e))
    sys.exit(1)
print(reply.decode(errors="replace").strip() or "no answer")
sys.exit(0 if reply.startswith(b"ok") else 1)
PY
}

# wait_ping PORT PID: until the server answers a ping; fails the start if
# the process exits or $TIMEOUT passes.
wait_ping() {
    local p=$1 pid=$2 deadline
    deadline=$((SECONDS + TIMEOUT))
    until mongo_wire_ping "$p"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            fail_start "mongo-java-server (pid $pid) exited during start"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill_and_wait "$pid" 30
            fail_start "mongo-java-server did not answer a ping on 127.0.0.1:$p within ${TIMEOUT}s"
        fi
        sleep 0.2
    done
}

# Resolves the jars (when the pom changed) and compiles the main class
# (when the pom or the source changed). .cache may be shared by several
# work trees, and their servers keep running from it: the build holds a
# lock there, and replaces the old output only when the new one is
# complete (a running JVM keeps the files it opened).
build_server() {
    local libs_sum classes_sum
    libs_sum=$(sha256sum "$POM" | cut -d' ' -f1)
    classes_sum=$(cat "$POM" "$MAIN_SRC" | sha256sum | cut -d' ' -f1)
    built() {
        [ -d "$LIBS" ] && [ "$(cat "$LIBS_STAMP" 2>/dev/null || true)" = "$libs_sum" ] &&
            [ -f "$CLASSES/$MAIN_CLASS.class" ] &&
            [ "$(cat "$CLASSES_STAMP" 2>/dev/null || true)" = "$classes_sum" ]
    }
    built && return 0
    mkdir -p "$CACHE" "$M2"
    exec 7>"$CACHE/lock"
    flock -w 600 7 || die "timed out waiting for $CACHE/lock"
    # Another tree may have built it while we waited.
    if built; then
        exec 7>&-
        return 0
    fi
    command -v javac >/dev/null || die "javac not found; run scripts/install-deps.sh"
    maven_libs "$LIBS_STAMP"
    rm -rf "$CLASSES.tmp"
    mkdir -p "$CLASSES.tmp"
    if ! javac -d "$CLASSES.tmp" -cp "$LIBS/*" "$MAIN_SRC" >"$CACHE/javac.log" 2>&1; then
        cat "$CACHE/javac.log" >&2
        die "javac $MAIN_SRC failed"
    fi
    rm -rf "$CLASSES"
    mv "$CLASSES.tmp" "$CLASSES"
    echo "$classes_sum" >"$CLASSES_STAMP"
    log "compiled $MAIN_CLASS into $CLASSES"
    exec 7>&-
}

# --- commands ----------------------------------------------------------------

cmd_start() {
    take_run_lock 600

    local pid
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        # Running but down (an outage test that failed half-way): start
        # means a server clients can reach.
        if ! mongo_wire_ping "$(port)"; then
            log "running (pid $pid) but not listening; bringing it up"
            local reply
            reply=$(control up) || die "up failed: $reply"
            wait_ping "$(port)" "$pid"
        fi
        log "already running (pid $pid) at 127.0.0.1:$(port)"
        return 0
    fi
    # sun_path holds 108 bytes; Java would fail with a less clear message.
    [ "${#CONTROL}" -lt 108 ] || die "$CONTROL is too long for a Unix socket path; use a shorter checkout path"
    command -v java >/dev/null || die "java not found; run scripts/install-deps.sh"
    command -v python3 >/dev/null || die "python3 not found; run scripts/install-deps.sh"
    build_server

    local p prev
    prev=$(port)
    p=$(choose_port "${MONGO_JAVA_PORT:-}" "$prev" "MONGO_JAVA_PORT")
    echo "$p" >"$PORTFILE"

    # Failure reports show only what this start logged, not older runs.
    LOG_OFFSET=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    log "starting mongo-java-server on 127.0.0.1:$p (in memory), log $LOG"
    # setsid: outlive this script and ignore the caller's Ctrl-C. fd 9 (the
    # lock) must not leak into the server, or stop would wait on it forever.
    # The wire handler's connect/close line per client is dropped: the
    # suites open hundreds of connections and would bury the warnings.
    # shellcheck disable=SC2086
    setsid java ${MONGO_JAVA_HEAP:--Xms64m -Xmx1g} -XX:+UseSerialGC -Djava.awt.headless=true \
        -Dragbatch.run="$RUN" \
        -Dorg.slf4j.simpleLogger.showDateTime=true \
        -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSSZ" \
        -Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler=warn \
        -cp "$LIBS/*:$CLASSES" "$MAIN_CLASS" 127.0.0.1 "$p" "$CONTROL" \
        </dev/null >>"$LOG" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"

    local start=$SECONDS
    wait_ping "$p" "$pid"
    log "running (pid $pid) at 127.0.0.1:$p, ready after $((SECONDS - start))s"
}

fail_start() {
    printf 'mongo-java: error: %s\n' "$1" >&2
    printf 'mongo-java: last lines of %s:\n' "$LOG" >&2
    tail -c "+$((${LOG_OFFSET:-0} + 1))" "$LOG" 2>/dev/null | tail -n 30 >&2 || true
    rm -f "$PIDFILE"
    exit 1
}

cmd_stop() {
    take_run_lock 600
    server_stop "mongo-java-server" 30
}

cmd_down() {
    take_run_lock 600
    [ -n "$(running_pid)" ] || die "not running"
    local reply
    reply=$(control down) || die "down failed: $reply"
    # The listener is closed before the answer; a ping must now fail.
    ! mongo_wire_ping "$(port)" || die "still answering on 127.0.0.1:$(port) after down"
    log "down: 127.0.0.1:$(port) refuses connections, data kept"
}

cmd_up() {
    take_run_lock 600
    local pid reply
    pid=$(running_pid)
    [ -n "$pid" ] || die "not running"
    reply=$(control up) || die "up failed: $reply"
    LOG_OFFSET=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    wait_ping "$(port)" "$pid"
    log "up at 127.0.0.1:$(port)"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) server_status ;;
address) server_address ;;
ping) mongo_server_ping ;;
down) cmd_down ;;
up) cmd_up ;;
*)
    echo "usage: $0 start|stop|status|address|ping|down|up" >&2
    exit 2
    ;;
esac
