#!/usr/bin/env bash
# Starts, stops and reports every test server -- scripts/kafka.sh, then the
# two MongoDB-wire servers, FerretDB (scripts/mongo.sh) and
# mongo-java-server (scripts/mongo-java.sh), then PostgreSQL
# (scripts/postgres.sh) and a Kafka Connect worker with Debezium
# (scripts/connect.sh) for the change-data-capture suite -- and keeps
# run/servers.env, which tests and the demo source to find them:
#
#   export RAGBATCH_KAFKA_BOOTSTRAP=127.0.0.1:PORT
#   export RAGBATCH_MONGO_URI=mongodb://127.0.0.1:PORT/        (FerretDB)
#   export RAGBATCH_MONGO_SERVER=ferretdb                      (which one that is)
#   export RAGBATCH_MONGO_JAVA_URI=mongodb://127.0.0.1:PORT/   (mongo-java-server)
#   export RAGBATCH_PG_ADDRESS=127.0.0.1:PORT                  (PostgreSQL, wal_level=logical)
#   export RAGBATCH_CONNECT_URL=http://127.0.0.1:PORT          (Kafka Connect's REST API)
#
#   scripts/servers.sh start    start them all (no-op for one already running)
#   scripts/servers.sh stop     stop them all, remove run/servers.env
#   scripts/servers.sh status   exit 0 if all run (prints the env file), 3 if not
#
# RAGBATCH_MONGO_URI is the server the tests and the demo use by default;
# scripts/test.sh runs the integration suites a second time with it set to
# RAGBATCH_MONGO_JAVA_URI and RAGBATCH_MONGO_SERVER=mongo-java (the tests
# check that the two agree). KAFKA_PORT / MONGO_PORT / MONGO_JAVA_PORT and the
# other variables of the scripts pass through. If a server fails to start,
# the ones this same call started are stopped again, so a failed start
# leaves nothing behind.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
RUN=$ROOT/run
ENVFILE=$RUN/servers.env

# Started in this order, stopped in the reverse one.
# PostgreSQL starts in about a second, the Connect worker in about five.
SERVERS=(kafka mongo mongo-java postgres connect)

log() { printf 'servers: %s\n' "$*"; }

write_env() {
    local kafka mongo mongo_java pg connect
    kafka=$("$SCRIPT_DIR/kafka.sh" address)
    mongo=$("$SCRIPT_DIR/mongo.sh" address)
    mongo_java=$("$SCRIPT_DIR/mongo-java.sh" address)
    pg=$("$SCRIPT_DIR/postgres.sh" address)
    connect=$("$SCRIPT_DIR/connect.sh" address)
    cat >"$ENVFILE.$$" <<EOT
# Written by scripts/servers.sh start; source it: . run/servers.env
export RAGBATCH_KAFKA_BOOTSTRAP=$kafka
export RAGBATCH_MONGO_URI=mongodb://$mongo/
export RAGBATCH_MONGO_SERVER=ferretdb
export RAGBATCH_MONGO_JAVA_URI=mongodb://$mongo_java/
export RAGBATCH_PG_ADDRESS=$pg
export RAGBATCH_CONNECT_URL=$connect
EOT
    mv "$ENVFILE.$$" "$ENVFILE"
}

cmd_start() {
    mkdir -p "$RUN"
    exec 8>"$RUN/servers.lock"
    flock -w 900 8 || { log "timed out waiting for $RUN/servers.lock" >&2; exit 1; }
    # The servers must not inherit the lock (fd 8) through the scripts.
    local start=$SECONDS name i started=()
    for name in "${SERVERS[@]}"; do
        if "$SCRIPT_DIR/$name.sh" status >/dev/null 2>&1; then
            "$SCRIPT_DIR/$name.sh" start 8>&-
            continue
        fi
        if ! "$SCRIPT_DIR/$name.sh" start 8>&-; then
            for ((i = ${#started[@]} - 1; i >= 0; i--)); do
                log "$name failed to start; stopping ${started[i]}, which this call started"
                "$SCRIPT_DIR/${started[i]}.sh" stop 8>&- || true
            done
            rm -f "$ENVFILE"
            exit 1
        fi
        started+=("$name")
    done
    write_env
    log "ready after $((SECONDS - start))s; $ENVFILE:"
    grep '^export' "$ENVFILE"
}

cmd_stop() {
    mkdir -p "$RUN"
    exec 8>"$RUN/servers.lock"
    flock -w 900 8 || { log "timed out waiting for $RUN/servers.lock" >&2; exit 1; }
    local rc=0 i
    for ((i = ${#SERVERS[@]} - 1; i >= 0; i--)); do
        "$SCRIPT_DIR/${SERVERS[i]}.sh" stop 8>&- || rc=1
    done
    rm -f "$ENVFILE"
    return "$rc"
}

cmd_status() {
    local rc=0 name
    for name in "${SERVERS[@]}"; do
        "$SCRIPT_DIR/$name.sh" status || rc=3
    done
    if [ "$rc" -eq 0 ]; then
        # Rewritten every time: the file may have been removed, or written
        # by an older version of this script, while the servers kept running.
        write_env
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
