#!/usr/bin/env bash
# A real Apache Kafka broker for tests and the demo: one KRaft node acting
# as broker and controller on 127.0.0.1, run from Maven Central jars.
#
#   scripts/kafka.sh start                  fetch jars if needed, format, start, wait
#   scripts/kafka.sh stop                   stop the broker we started, wait for exit
#   scripts/kafka.sh status                 exit 0 if running (prints address), 3 if not
#   scripts/kafka.sh address                print 127.0.0.1:PORT of the running broker
#   scripts/kafka.sh create-topic NAME N    create topic NAME with N partitions (idempotent)
#
# Environment: KAFKA_PORT (client port; default: the last one used if free,
# else any free port), KAFKA_CONTROLLER_PORT (same rules), KAFKA_START_TIMEOUT
# (seconds, default 90), KAFKA_HEAP (default -Xmx512m).
#
# Jars: .cache/kafka/libs (resolved by scripts/kafka/pom.xml, Maven's local
# repository in .cache/m2). State: run/kafka (server.properties, data/,
# kafka.log, kafka.pid, ports). Data is kept across stop/start; remove
# run/kafka for an empty broker.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
POM=$SCRIPT_DIR/kafka/pom.xml
CACHE=$ROOT/.cache/kafka
LIBS=$CACHE/libs
STAMP=$CACHE/libs.stamp
M2=$ROOT/.cache/m2
RUN=$ROOT/run/kafka
DATA=$RUN/data
CONF=$RUN/server.properties
PIDFILE=$RUN/kafka.pid
PORTFILE=$RUN/ports
LOG=$RUN/kafka.log
OUT=$RUN/kafka.out
TIMEOUT=${KAFKA_START_TIMEOUT:-90}

log() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib/server-helpers.sh
. "$SCRIPT_DIR/lib/server-helpers.sh"

# --- helpers -----------------------------------------------------------------

# The pid of the broker started from this tree, or nothing. The pid file
# alone is not trusted: the process must still be a kafka.Kafka JVM reading
# our config, so a recycled pid is never mistaken for the broker.
running_pid() { pid_from_file "$PIDFILE" "kafka.Kafka $CONF"; }
listen_address() { echo "127.0.0.1:$(client_port)"; }

client_port() { [ -f "$PORTFILE" ] && cut -d' ' -f1 "$PORTFILE"; }

kcat_bin() { command -v kcat || command -v kafkacat || true; }

# Runs a Kafka command-line tool class from the cached jars.
kafka_tool() {
    java -Xmx256m -Dlog4j.configuration="file:$SCRIPT_DIR/kafka/tools-log4j.properties" \
        -cp "$LIBS/*" "$@"
}

write_config() {
    local port=$1 cport=$2
    cat >"$CONF" <<EOF
# Written by scripts/kafka.sh on each start; edits are lost.
process.roles=broker,controller
node.id=1
# Static single-voter quorum: the controller endpoint comes from this file
# on every start, so the data dir survives a change of ports.
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
# One partition for the internal topics: a single-node test broker gains
# nothing from 50, and the first group coordinator lookup is faster.
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
# Tests create their topics explicitly (scripts/kafka.sh create-topic).
auto.create.topics.enable=false
# Consumers join at once instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0
EOF
}

# --- commands ----------------------------------------------------------------

cmd_start() {
    take_run_lock 300

    local pid
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        log "already running (pid $pid) at 127.0.0.1:$(client_port)"
        return 0
    fi
    command -v java >/dev/null || die "java not found; run scripts/install-deps.sh"
    maven_libs "$STAMP"

    local prev_port="" prev_cport="" port cport
    if [ -f "$PORTFILE" ]; then
        read -r prev_port prev_cport <"$PORTFILE" || true
    fi
    port=$(choose_port "${KAFKA_PORT:-}" "$prev_port" "KAFKA_PORT")
    cport=$(choose_port "${KAFKA_CONTROLLER_PORT:-}" "$prev_cport" "KAFKA_CONTROLLER_PORT")
    if [ "$cport" = "$port" ]; then
        cport=$(free_port)
    fi
    write_config "$port" "$cport"
    echo "$port $cport" >"$PORTFILE"

    if [ ! -f "$DATA/meta.properties" ]; then
        local cluster_id
        cluster_id=$(kafka_tool kafka.tools.StorageTool random-uuid)
        log "formatting $DATA (cluster id $cluster_id)"
        mkdir -p "$DATA"
        kafka_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$CONF" >"$RUN/format.log" 2>&1 ||
            { cat "$RUN/format.log" >&2; die "storage format failed"; }
    fi

    log "starting broker on 127.0.0.1:$port (controller 127.0.0.1:$cport), log $LOG"
    : >"$OUT"
    # Failure reports show only what this start logged, not older runs.
    LOG_OFFSET=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    # setsid: the broker must outlive this script and not get the signals
    # sent to the caller's process group (e.g. Ctrl-C in the terminal).
    # shellcheck disable=SC2086
    setsid java ${KAFKA_HEAP:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$SCRIPT_DIR/kafka/log4j.properties" \
        -Dkafka.logs.dir="$RUN" \
        -cp "$LIBS/*" kafka.Kafka "$CONF" </dev/null >>"$OUT" 2>&1 9>&- &
    pid=$!
    echo "$pid" >"$PIDFILE"

    local kcat deadline start=$SECONDS
    kcat=$(kcat_bin)
    deadline=$((SECONDS + TIMEOUT))
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            fail_start "broker process $pid exited during start"
        fi
        if [ -n "$kcat" ]; then
            # A here-string, not a pipe: see mongo.sh's build_ferretdb.
            if grep -q ' 1 brokers:' <<<"$("$kcat" -b "127.0.0.1:$port" -L -m 2 2>/dev/null)"; then
                break
            fi
        elif kafka_tool org.apache.kafka.tools.TopicCommand \
            --bootstrap-server "127.0.0.1:$port" --list >/dev/null 2>&1; then
            break
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            kill_and_wait "$pid" 60
            fail_start "broker did not answer on 127.0.0.1:$port within ${TIMEOUT}s"
        fi
        sleep 0.5
    done
    log "running (pid $pid) at 127.0.0.1:$port, ready after $((SECONDS - start))s"
}

fail_start() {
    printf 'kafka: error: %s\n' "$1" >&2
    printf 'kafka: last lines of %s:\n' "$LOG" >&2
    tail -c "+$((${LOG_OFFSET:-0} + 1))" "$LOG" 2>/dev/null | tail -n 30 >&2 || true
    if [ -s "$OUT" ]; then
        printf 'kafka: last lines of %s:\n' "$OUT" >&2
        tail -n 15 "$OUT" >&2
    fi
    rm -f "$PIDFILE"
    exit 1
}

cmd_stop() {
    take_run_lock 300
    server_stop "broker" 60
}

cmd_create_topic() {
    local name=${1:-} parts=${2:-}
    if [ -z "$name" ] || ! [[ "$parts" =~ ^[1-9][0-9]*$ ]]; then
        die "usage: kafka.sh create-topic NAME PARTITIONS"
    fi
    [ -n "$(running_pid)" ] || die "broker not running; run scripts/kafka.sh start"
    local addr kcat have
    addr="127.0.0.1:$(client_port)"
    kcat=$(kcat_bin)
    kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$addr" \
        --create --if-not-exists --topic "$name" \
        --partitions "$parts" --replication-factor 1 >/dev/null
    # --if-not-exists keeps an existing topic as it is; a different partition
    # count would silently break a test's assumptions, so refuse it.
    if [ -n "$kcat" ]; then
        have=$("$kcat" -b "$addr" -L -t "$name" -m 5 2>/dev/null |
            sed -n "s/^  topic \"$name\" with \([0-9]*\) partitions:.*/\1/p")
        [ "$have" = "$parts" ] ||
            die "topic $name has ${have:-?} partitions, wanted $parts"
    fi
    log "topic $name ready ($parts partitions) at $addr"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
status) server_status ;;
address) server_address ;;
create-topic) shift; cmd_create_topic "$@" ;;
*)
    echo "usage: $0 start|stop|status|address|create-topic NAME PARTITIONS" >&2
    exit 2
    ;;
esac
