#!/usr/bin/env bash
# A real PostgreSQL server (Debian's postgresql-15) for the change-data-capture
# suite and demo: one cluster on 127.0.0.1 with wal_level=logical, so that
# Debezium's PostgreSQL connector can stream its changes with pgoutput.
#
#   scripts/postgres.sh start        initdb if needed, start, wait until it answers
#   scripts/postgres.sh stop         fast shutdown of the server we started, wait for exit
#   scripts/postgres.sh status       exit 0 if running (prints address), 3 if not
#   scripts/postgres.sh address      print 127.0.0.1:PORT of the running server
#   scripts/postgres.sh psql ARGS    psql as the superuser "postgres" on it
#
# Environment: PG_PORT (default: the last one used if free, else any free
# port), PG_START_TIMEOUT (seconds, default 60), PG_BIN (directory of
# initdb/postgres; default the newest /usr/lib/postgresql/*/bin).
#
# State: run/postgres (data/, postgres.log, postgres.pid, port). The cluster is
# kept across stop/start; remove run/postgres for an empty one. Authentication
# is "trust" on loopback only: a test server, never a template for production.
# initdb and the server refuse to run as root, so as root they run as the
# Debian package's "postgres" user, which then owns run/postgres.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
RUN=$ROOT/run/postgres
DATA=$RUN/data
PIDFILE=$RUN/postgres.pid
PORTFILE=$RUN/port
LOG=$RUN/postgres.log
TIMEOUT=${PG_START_TIMEOUT:-60}

log() { printf 'postgres: %s\n' "$*"; }
die() { printf 'postgres: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib/server-helpers.sh
. "$SCRIPT_DIR/lib/server-helpers.sh"

pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        echo "$PG_BIN"
        return
    fi
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$d" ] || [ ! -x "$d/postgres" ]; then
        die "no PostgreSQL server found; run scripts/install-deps.sh (Debian postgresql)"
    fi
    echo "$d"
}

# Runs a command as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

running_pid() { pid_from_file "$PIDFILE" "postgres -D $DATA"; }
listen_address() { echo "127.0.0.1:$(port)"; }
port() { cat "$PORTFILE" 2>/dev/null || true; }

cmd_start() {
    take_run_lock 120
    local pid bin
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        log "already running (pid $pid) at 127.0.0.1:$(port)"
        return 0
    fi
    bin=$(pg_bin)
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "user postgres missing (it comes with Debian's postgresql package)"
        chown postgres: "$RUN"
    fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
        log "initdb $DATA"
        rm -rf "$DATA"
        as_owner "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-locale \
            >"$RUN/initdb.log" 2>&1 || { cat "$RUN/initdb.log" >&2; die "initdb failed"; }
    fi
    local p
    p=$(choose_port "${PG_PORT:-}" "$(port)" PG_PORT)
    echo "$p" >"$PORTFILE"
    log "starting on 127.0.0.1:$p, log $LOG"
    : >"$LOG"
    [ "$(id -u)" = 0 ] && chown postgres: "$LOG"
    # The settings ride on the command line, so the data directory is never
    # edited. fsync off: a test server's data is thrown away after a crash.
    # setsid: the server outlives this script and the caller's signals.
    as_owner setsid "$bin/postgres" -D "$DATA" \
        -c listen_addresses=127.0.0.1 -c port="$p" -c unix_socket_directories="$RUN" \
        -c wal_level=logical -c max_wal_senders=10 -c max_replication_slots=10 \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c shared_buffers=32MB -c max_connections=50 \
        </dev/null >>"$LOG" 2>&1 9>&- &
    pid=$!
    local deadline=$((SECONDS + TIMEOUT)) start=$SECONDS
    until "$bin/pg_isready" -q -h 127.0.0.1 -p "$p" -t 2; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 20 "$LOG" >&2
            rm -f "$PIDFILE"
            die "server process $pid exited during start"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill_and_wait "$pid" 30
            tail -n 20 "$LOG" >&2
            rm -f "$PIDFILE"
            die "server did not answer on 127.0.0.1:$p within ${TIMEOUT}s"
        fi
        sleep 0.3
    done
    # $! is the launcher's (runuser forks); the postmaster writes its own.
    pid=$(head -n 1 "$DATA/postmaster.pid")
    echo "$pid" >"$PIDFILE"
    [ -n "$(running_pid)" ] || die "postmaster.pid names $pid, which is not our server"
    log "running (pid $pid) at 127.0.0.1:$p, ready after $((SECONDS - start))s"
}

cmd_stop() {
    take_run_lock 120
    local pid
    pid=$(running_pid)
    if [ -z "$pid" ]; then
        log "not running"
        rm -f "$PIDFILE"
        return 0
    fi
    log "stopping (pid $pid)"
    # SIGINT is PostgreSQL's fast shutdown: sessions (a replication
    # connection of Debezium's) are ended instead of waited for.
    kill -INT "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill_and_wait "$pid" 10
    rm -f "$PIDFILE"
    log "stopped"
}

cmd_psql() {
    [ -n "$(running_pid)" ] || die "not running; run scripts/postgres.sh start"
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port)" -U postgres "$@"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) server_status ;;
address) server_address ;;
psql) shift; cmd_psql "$@" ;;
*)
    echo "usage: $0 start|stop|status|address|psql ARGS" >&2
    exit 2
    ;;
esac
