#!/usr/bin/env bash
# Freshness (event produced -> document visible) at a steady rate: a
# streaming runner with a TRIGGER_MS trigger consumes while `ragbatch
# generate --rate RATE` produces RATE * SECONDS new products; then, for every
# stored document, freshness = ingested_at - event_time (the generator stamps
# event_time when it produces; the sink writes ingested_at in the bulk that
# makes the document visible), and bench/pipeline/freshness.c prints the
# count, p50, p99 and max.
#
#   bench/pipeline/freshness.sh RATE SECONDS [URI]
#     e.g. for RATE in 20 50 100; do bench/pipeline/freshness.sh $RATE 60 "$URI"; done
#
# Environment: TRIGGER_MS (default 1000), EMBED=model (default) or http (the
# instant server), BENCH_SET (extra --set key=value, space separated).  The
# produce-and-consume part holds /tmp/rb/timing.lock.  Also printed: the
# largest consumer lag and batch size seen in the progress lines (a growing
# backlog means the rate is above what the machine sustains).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]]; then
    sed -n '2,18p' "$0" >&2
    exit 2
fi
RATE=$1
SECONDS_RUN=$2
TRIGGER_MS=${TRIGGER_MS:-1000}
EMBED=${EMBED:-model}
RAGBATCH=$ROOT/build/ragbatch
OUT=$ROOT/build/bench-pipeline
TOOLS=$ROOT/build/bench-spark
LOCK=/tmp/rb/timing.lock
mkdir -p "$OUT" "$(dirname "$LOCK")"
scripts/fetch-model.sh >/dev/null
scripts/build.sh >/dev/null
scripts/servers.sh start >/dev/null
# shellcheck source=/dev/null
. run/servers.env
URI=${3:-$RAGBATCH_MONGO_URI}
# freshness is an Automake target (bench/local.mk), built by scripts/build.sh.
FRESHNESS=$ROOT/build/bench/pipeline/freshness

es_pid=
runner=
trap '[ -z "$runner" ] || kill "$runner" 2>/dev/null; [ -z "$es_pid" ] || kill "$es_pid" 2>/dev/null || true' EXIT
emb=()
if [ "$EMBED" = http ]; then
    bench/spark/build-tools.sh "$TOOLS"
    rm -f "$OUT/es.port"
    "$TOOLS/embed_serve" 384 "$OUT/es.port" 2>"$OUT/fresh-embed_serve.log" &
    es_pid=$!
    for ((i = 0; i < 100; i++)); do [ -s "$OUT/es.port" ] && break; sleep 0.05; done
    emb=(--set embed.provider=openai --set "embed.url=http://127.0.0.1:$(cat "$OUT/es.port")"
        --set embed.model=bench --set embed.dimensions=384)
fi
for kv in ${BENCH_SET:-}; do emb+=(--set "$kv"); done

stamp=$(date +%s)
topic=bench-fresh-$stamp
db=bench_fresh_$stamp
count=$((RATE * SECONDS_RUN))
log=$OUT/fresh-$RATE.log
scripts/kafka.sh create-topic "$topic" 3 >/dev/null
# The timed part: the runner, once it has its partitions, and the producer.
timed() {
    "$RAGBATCH" run jobs/product-updates.job --set source.topics="$topic" \
        --set kafka.group.id="$topic" --set mongo.uri="$URI" --set mongo.database="$db" \
        --set trigger.interval.ms="$TRIGGER_MS" "${emb[@]}" 2>"$log" &
    runner=$!
    local i
    for ((i = 0; i < 600; i++)); do
        grep -q 'event=rebalance assigned=' "$log" && break
        kill -0 "$runner" 2>/dev/null || { echo "freshness: the runner exited; see $log" >&2; exit 1; }
        sleep 0.1
    done
    "$RAGBATCH" generate --topic "$topic" --count "$count" --products "$count" --sequential \
        --seed 7 --rate "$RATE" -q
    local deadline=$(($(date +%s) + 600)) seen
    while :; do
        seen=$(grep 'event=progress' "$log" | grep -o ' in=[0-9]*' | cut -d= -f2 | paste -sd+ |
            bc 2>/dev/null || echo 0)
        [ "${seen:-0}" -ge "$count" ] && break
        [ "$(date +%s)" -lt "$deadline" ] || { echo "freshness: not all consumed in 600 s" >&2; break; }
        sleep 0.5
    done
    kill -TERM "$runner"
    wait "$runner" || true
    runner=
}
exec 9>"$LOCK"
flock 9
timed
flock -u 9
fresh=$("$FRESHNESS" "$URI" "$db" products --drop)
lag=$(grep 'event=progress' "$log" | grep -o ' lag=[0-9]*' | cut -d= -f2 | sort -n | tail -n1)
big=$(grep 'event=progress' "$log" | grep -o ' in=[0-9]*' | cut -d= -f2 | sort -n | tail -n1)
echo "freshness: $fresh at $RATE events/s for $SECONDS_RUN s ($count events), trigger $TRIGGER_MS ms," \
    "embedding $EMBED; largest lag $lag, largest batch $big; server $URI;" \
    "$(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p') family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
