#!/usr/bin/env bash
# A real Kafka Connect worker (standalone mode) with Debezium's PostgreSQL
# connector on its classpath, for the change-data-capture suite and demo. Its
# jars come from Maven Central (scripts/connect/pom.xml): connect-runtime and
# connect-json 3.9.2 (the broker's version), debezium-connector-postgres
# 3.6.1.Final. It talks to the broker of scripts/kafka.sh; connectors are
# created and removed through its REST API, so one worker serves every case.
#
#   scripts/connect.sh start             fetch jars if needed, start, wait for the REST API
#   scripts/connect.sh stop              stop the worker we started, wait for exit
#   scripts/connect.sh status            exit 0 if running (prints the REST URL), 3 if not
#   scripts/connect.sh address           print http://127.0.0.1:PORT of the REST API
#   scripts/connect.sh put NAME FILE     create or update connector NAME from a JSON config
#   scripts/connect.sh delete NAME       remove connector NAME (no-op if absent)
#
# The worker's converters are JsonConverter for keys and values with
# schemas.enable=true (Connect's default); a connector may override them
# (value.converter.schemas.enable=false). Topics are created by the worker
# (topic.creation.default.*), since the test broker does not auto-create.
#
# Environment: CONNECT_PORT (REST port; default: the last one used if free,
# else any free port), CONNECT_START_TIMEOUT (seconds, default 120),
# CONNECT_HEAP (default -Xmx384m), RAGBATCH_KAFKA_BOOTSTRAP (default: the
# address scripts/kafka.sh reports).
#
# Jars: .cache/connect/libs (Maven's local repository .cache/m2). State:
# run/connect (worker.properties, offsets, connect.log, connect.pid, port).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
POM=$SCRIPT_DIR/connect/pom.xml
CACHE=$ROOT/.cache/connect
LIBS=$CACHE/libs
STAMP=$CACHE/libs.stamp
M2=$ROOT/.cache/m2
RUN=$ROOT/run/connect
CONF=$RUN/worker.properties
PIDFILE=$RUN/connect.pid
PORTFILE=$RUN/port
LOG=$RUN/connect.log
OUT=$RUN/connect.out
TIMEOUT=${CONNECT_START_TIMEOUT:-120}

log() { printf 'connect: %s\n' "$*"; }
die() { printf 'connect: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib/server-helpers.sh
. "$SCRIPT_DIR/lib/server-helpers.sh"

running_pid() { pid_from_file "$PIDFILE" "ConnectStandalone $CONF"; }
listen_address() { echo "http://127.0.0.1:$(port)"; }
port() { cat "$PORTFILE" 2>/dev/null || true; }

write_config() {
    local bootstrap=$1 p=$2
    cat >"$CONF" <<EOT
# Written by scripts/connect.sh on each start; edits are lost.
bootstrap.servers=$bootstrap
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
key.converter.schemas.enable=true
value.converter.schemas.enable=true
offset.storage.file.filename=$RUN/offsets
# Source offsets reach the file within a second, so a connector that is
# deleted and re-created under another name starts from a clean state fast.
offset.flush.interval.ms=1000
listeners=http://127.0.0.1:$p
rest.advertised.host.name=127.0.0.1
rest.advertised.port=$p
# Connectors may set their own converters (the schemas.enable=false case).
connector.client.config.override.policy=All
EOT
}

rest() { curl -sS --max-time 10 "$@"; }

cmd_start() {
    take_run_lock 300
    local pid
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        log "already running (pid $pid) at http://127.0.0.1:$(port)"
        return 0
    fi
    command -v java >/dev/null || die "java not found; run scripts/install-deps.sh"
    local bootstrap=${RAGBATCH_KAFKA_BOOTSTRAP:-}
    [ -n "$bootstrap" ] || bootstrap=$("$SCRIPT_DIR/kafka.sh" address 9>&-) ||
        die "no Kafka broker: run scripts/kafka.sh start (or set RAGBATCH_KAFKA_BOOTSTRAP)"
    maven_libs "$STAMP"
    local p
    p=$(choose_port "${CONNECT_PORT:-}" "$(port)" CONNECT_PORT)
    echo "$p" >"$PORTFILE"
    write_config "$bootstrap" "$p"
    log "starting worker (REST http://127.0.0.1:$p, Kafka $bootstrap), log $LOG"
    : >"$OUT"
    LOG_OFFSET=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    # shellcheck disable=SC2086
    setsid java ${CONNECT_HEAP:--Xms128m -Xmx384m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$SCRIPT_DIR/connect/log4j.properties" \
        -Dconnect.logs.dir="$RUN" \
        -cp "$LIBS/*" org.apache.kafka.connect.cli.ConnectStandalone "$CONF" \
        </dev/null >>"$OUT" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"
    local deadline=$((SECONDS + TIMEOUT)) start=$SECONDS
    # Ready when the REST API lists the connector plugins, Debezium's among them.
    until grep -q 'io.debezium.connector.postgresql.PostgresConnector' \
        <<<"$(curl -sS --max-time 2 "http://127.0.0.1:$p/connector-plugins" 2>/dev/null)"; do
        if ! kill -0 "$pid" 2>/dev/null; then fail_start "worker process $pid exited during start"; fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill_and_wait "$pid" 30
            fail_start "the REST API did not list the Debezium connector within ${TIMEOUT}s"
        fi
        sleep 0.5
    done
    log "running (pid $pid) at http://127.0.0.1:$p, ready after $((SECONDS - start))s"
}

fail_start() {
    printf 'connect: error: %s\n' "$1" >&2
    tail -c "+$((${LOG_OFFSET:-0} + 1))" "$LOG" 2>/dev/null | grep -E 'ERROR|Exception' | tail -n 20 >&2 || true
    [ -s "$OUT" ] && tail -n 15 "$OUT" >&2
    rm -f "$PIDFILE"
    exit 1
}

cmd_stop() {
    take_run_lock 300
    server_stop "worker" 60
}

cmd_put() {
    local name=${1:-} file=${2:-} code
    if [ -z "$name" ] || [ ! -f "$file" ]; then die "usage: connect.sh put NAME CONFIG.json"; fi
    [ -n "$(running_pid)" ] || die "not running; run scripts/connect.sh start"
    code=$(rest -o "$RUN/put.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
        --data-binary "@$file" "http://127.0.0.1:$(port)/connectors/$name/config") || die "PUT failed"
    case "$code" in
    200 | 201) log "connector $name configured" ;;
    *) cat "$RUN/put.out" >&2; echo >&2; die "PUT /connectors/$name/config answered $code" ;;
    esac
}

cmd_delete() {
    local name=${1:-} code
    [ -n "$name" ] || die "usage: connect.sh delete NAME"
    [ -n "$(running_pid)" ] || die "not running"
    code=$(rest -o /dev/null -w '%{http_code}' -X DELETE "http://127.0.0.1:$(port)/connectors/$name") ||
        die "DELETE failed"
    case "$code" in
    204 | 404) log "connector $name removed" ;;
    *) die "DELETE /connectors/$name answered $code" ;;
    esac
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) server_status ;;
address) server_address ;;
put) shift; cmd_put "$@" ;;
delete) shift; cmd_delete "$@" ;;
*)
    echo "usage: $0 start|stop|status|address|put NAME FILE|delete NAME" >&2
    exit 2
    ;;
esac
