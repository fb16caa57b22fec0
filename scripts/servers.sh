#!/usr/bin/env bash
# Starts, stops and reports both test servers (scripts/kafka.sh, then
# scripts/mongo.sh) and keeps run/servers.env, which tests and the demo
# source to find them:
#
#   export RAGBATCH_KAFKA_BOOTSTRAP=127.0.0.1:PORT
#   export RAGBATCH_MONGO_URI=mongodb://127.0.0.1:PORT/
#
#   scripts/servers.sh start    start both (no-op for one already running)
#   scripts/servers.sh stop     stop both, remove run/servers.env
#   scripts/servers.sh status   exit 0 if both run (prints the env file), 3 if not
#
# KAFKA_PORT / MONGO_PORT and the other variables of the two scripts pass
# through. If the MongoDB server fails to start, a broker started by this
# same call is stopped again, so a failed start leaves nothing behind.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
RUN=$ROOT/run
ENVFILE=$RUN/servers.env

log() { printf 'servers: %s\n' "$*"; }

write_env() {
    local kafka mongo
    kafka=$("$SCRIPT_DIR/kafka.sh" address)
    mongo=$("$SCRIPT_DIR/mongo.sh" address)
    cat >"$ENVFILE.tmp" <<EOF
# Written by scripts/servers.sh start; source it: . run/servers.env
export RAGBATCH_KAFKA_BOOTSTRAP=$kafka
export RAGBATCH_MONGO_URI=mongodb://$mongo/
EOF
    mv "$ENVFILE.tmp" "$ENVFILE"
}

cmd_start() {
    mkdir -p "$RUN"
    exec 8>"$RUN/servers.lock"
    flock -w 900 8 || { log "timed out waiting for $RUN/servers.lock" >&2; exit 1; }
    # The servers must not inherit the lock (fd 8) through the two scripts.
    local kafka_was_running=1 start=$SECONDS
    "$SCRIPT_DIR/kafka.sh" status >/dev/null 2>&1 || kafka_was_running=0
    "$SCRIPT_DIR/kafka.sh" start 8>&-
    if ! "$SCRIPT_DIR/mongo.sh" start 8>&-; then
        if [ "$kafka_was_running" -eq 0 ]; then
            log "MongoDB server failed; stopping the broker this call started"
            "$SCRIPT_DIR/kafka.sh" stop 8>&- || true
        fi
        rm -f "$ENVFILE"
        exit 1
    fi
    write_env
    log "ready after $((SECONDS - start))s; $ENVFILE:"
    grep '^export' "$ENVFILE"
}

cmd_stop() {
    mkdir -p "$RUN"
    exec 8>"$RUN/servers.lock"
    flock -w 900 8 || { log "timed out waiting for $RUN/servers.lock" >&2; exit 1; }
    local rc=0
    "$SCRIPT_DIR/mongo.sh" stop || rc=1
    "$SCRIPT_DIR/kafka.sh" stop || rc=1
    rm -f "$ENVFILE"
    return "$rc"
}

cmd_status() {
    local rc=0
    "$SCRIPT_DIR/kafka.sh" status || rc=3
    "$SCRIPT_DIR/mongo.sh" status || rc=3
    if [ "$rc" -eq 0 ]; then
        # Refresh the env file in case it was removed while both kept running.
        [ -f "$ENVFILE" ] || write_env
        grep '^export' "$ENVFILE"
    fi
    return "$rc"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
