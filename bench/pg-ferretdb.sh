#!/usr/bin/env bash
# A second MongoDB-wire server for benchmarks only: FerretDB on its
# PostgreSQL backend, which (unlike the SQLite backend the tests use) has
# real indexes, so write and lookup costs do not grow with the collection.
#
#   bench/pg-ferretdb.sh start    start (idempotent); prints the URI
#   bench/pg-ferretdb.sh stop     stop both servers (data kept)
#   bench/pg-ferretdb.sh clean    stop and delete the data directory
#   bench/pg-ferretdb.sh uri      print the URI of the running server
#
# PostgreSQL 15 comes from Debian (installed here if missing); the cluster
# lives in run/bench-pg/ (owned by the postgres system user, trust
# authentication, loopback only).  FerretDB is the binary scripts/mongo.sh
# builds.  Nothing here is used by the test suite.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$ROOT/run/bench-pg
PGDATA=$DIR/pgdata
PGBIN=/usr/lib/postgresql/15/bin
FERRET=$ROOT/.cache/ferretdb/bin/ferretdb

log() { printf 'pg-ferretdb: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=scripts/lib/server-helpers.sh
. "$ROOT/scripts/lib/server-helpers.sh"

# The FerretDB this script started, or nothing.
ferretdb_pid() { pid_from_file "$DIR/ferretdb.pid" "^$FERRET .*--state-dir=$DIR/state"; }

start_postgres() {
    if [ ! -x "$PGBIN/pg_ctl" ]; then
        log "installing postgresql-15 from Debian"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
    fi
    mkdir -p "$DIR"
    chown postgres:postgres "$DIR"
    if [ ! -f "$PGDATA/PG_VERSION" ]; then
        log "creating a PostgreSQL cluster in $PGDATA"
        su postgres -s /bin/sh -c "$PGBIN/initdb -D '$PGDATA' --auth=trust -U postgres" >/dev/null
    fi
    if su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGDATA' status" >/dev/null 2>&1; then
        log "PostgreSQL already running on port $(cat "$DIR/pg.port")"
        return
    fi
    local p
    p=$(choose_port "" "$(cat "$DIR/pg.port" 2>/dev/null || true)" "port")
    echo "$p" >"$DIR/pg.port"
    log "starting PostgreSQL on 127.0.0.1:$p, log $DIR/pg.log"
    su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGDATA' -l '$DIR/pg.log' -w \
        -o \"-p $p -k '$DIR' -c listen_addresses=127.0.0.1\" start" >/dev/null
    if ! grep -q 1 <<<"$(su postgres -s /bin/sh -c "$PGBIN/psql -h 127.0.0.1 -p $p -U postgres -tAc \
        \"select 1 from pg_database where datname = 'ferretdb'\"")"; then
        su postgres -s /bin/sh -c "$PGBIN/createdb -h 127.0.0.1 -p $p -U postgres ferretdb"
    fi
}

start_ferretdb() {
    if [ -n "$(ferretdb_pid)" ]; then
        log "FerretDB already running (pid $(ferretdb_pid))"
        return
    fi
    [ -x "$FERRET" ] || die "no FerretDB binary at $FERRET; scripts/servers.sh start builds it"
    local p pg
    pg=$(cat "$DIR/pg.port")
    p=$(choose_port "" "$(cat "$DIR/ferretdb.port" 2>/dev/null || true)" "port")
    echo "$p" >"$DIR/ferretdb.port"
    mkdir -p "$DIR/state"
    log "starting FerretDB (PostgreSQL backend) on 127.0.0.1:$p, log $DIR/ferretdb.log"
    setsid "$FERRET" --handler=postgresql \
        --postgresql-url="postgres://postgres@127.0.0.1:$pg/ferretdb" \
        --listen-addr="127.0.0.1:$p" --telemetry=disable --debug-addr=- \
        --state-dir="$DIR/state" --log-format=text --log-level=warn \
        </dev/null >>"$DIR/ferretdb.log" 2>&1 &
    echo $! >"$DIR/ferretdb.pid"
    local i
    for ((i = 0; i < 300; i++)); do
        if mongo_wire_ping "$p"; then
            log "ready: mongodb://127.0.0.1:$p/"
            return
        fi
        [ -n "$(ferretdb_pid)" ] || die "FerretDB exited; see $DIR/ferretdb.log"
        sleep 0.2
    done
    die "FerretDB did not answer within 60 s; see $DIR/ferretdb.log"
}

cmd_stop() {
    local pid
    pid=$(ferretdb_pid)
    if [ -n "$pid" ]; then
        log "stopping FerretDB (pid $pid)"
        kill_and_wait "$pid" 30
    fi
    rm -f "$DIR/ferretdb.pid"
    if [ -f "$PGDATA/PG_VERSION" ] &&
        su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGDATA' status" >/dev/null 2>&1; then
        log "stopping PostgreSQL"
        su postgres -s /bin/sh -c "$PGBIN/pg_ctl -D '$PGDATA' -m fast -w stop" >/dev/null
    fi
}

case "${1:-}" in
start)
    start_postgres
    start_ferretdb
    echo "mongodb://127.0.0.1:$(cat "$DIR/ferretdb.port")/"
    ;;
stop) cmd_stop ;;
clean)
    cmd_stop
    log "deleting $DIR"
    rm -rf "$DIR"
    ;;
uri)
    [ -n "$(ferretdb_pid)" ] || die "not running; bench/pg-ferretdb.sh start"
    echo "mongodb://127.0.0.1:$(cat "$DIR/ferretdb.port")/"
    ;;
*)
    echo "usage: bench/pg-ferretdb.sh start|stop|clean|uri" >&2
    exit 2
    ;;
esac
