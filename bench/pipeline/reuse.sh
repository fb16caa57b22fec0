#!/usr/bin/env bash
# The reuse benchmark: an update storm (many events over few products, a
# chosen share of the updates leaving the text unchanged) through the
# product-updates job twice in one run, with embed.reuse.unchanged = true
# and = false; prints events/s, texts embedded, records reused and stale.
#
#   bench/pipeline/reuse.sh [EVENTS] [PRODUCTS] [UNCHANGED] [URI]
#     EVENTS     events (default 3000)
#     PRODUCTS   products they update (default 50)
#     UNCHANGED  share of updates whose text is their product's previous one
#                (default 0.8; bench/pipeline/storm.py rewrites the
#                generator's updates, which otherwise change the text in most)
#     URI        MongoDB-wire server (default: RAGBATCH_MONGO_URI of
#                run/servers.env)
# Environment: EMBED=model (default, the local model) or http (the instant
# server of bench/spark/embed_serve.c); BATCH (batch.max.records, default 25:
# successive updates of a product then mostly fall in different batches,
# since within one batch only the newest version is written anyway; it is
# set for bounded runs too, batch.bounded.max.records, or --until caught-up
# would read 5,000 records a batch and count most updates stale);
# TRIGGER_MS (trigger.interval.ms, default 0: a batch of 25 every 200 ms
# capped the runs at 125 events/s whatever reuse saved); BENCH_SET (extra
# --set key=value, space separated).  Each run holds
# /tmp/rb/timing.lock.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
EVENTS=${1:-3000}
PRODUCTS=${2:-50}
UNCHANGED=${3:-0.8}
EMBED=${EMBED:-model}
BATCH=${BATCH:-25}
TRIGGER_MS=${TRIGGER_MS:-0}
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
URI=${4:-$RAGBATCH_MONGO_URI}
bench/spark/build-tools.sh "$TOOLS"
# freshness is an Automake target (bench/local.mk), built by scripts/build.sh.
FRESHNESS=$ROOT/build/bench/pipeline/freshness

es_pid=
trap '[ -z "$es_pid" ] || kill "$es_pid" 2>/dev/null || true' EXIT
emb=()
if [ "$EMBED" = http ]; then
    rm -f "$OUT/es.port"
    "$TOOLS/embed_serve" 384 "$OUT/es.port" 2>"$OUT/storm-embed_serve.log" &
    es_pid=$!
    for ((i = 0; i < 100; i++)); do [ -s "$OUT/es.port" ] && break; sleep 0.05; done
    emb=(--set embed.provider=openai --set "embed.url=http://127.0.0.1:$(cat "$OUT/es.port")"
        --set embed.model=bench --set embed.dimensions=384)
fi
for kv in ${BENCH_SET:-}; do emb+=(--set "$kv"); done

ms_of() { date -d "$1" +%s%3N; }
stamp=$(date +%s)
topic=bench-storm-$stamp
scripts/kafka.sh create-topic "$topic" 3 >/dev/null
"$RAGBATCH" generate --stdout --count "$EVENTS" --products "$PRODUCTS" --seed 5 -q |
    python3 bench/pipeline/storm.py "$UNCHANGED" 5 >"$OUT/storm.jsonl" 2>"$OUT/storm.txt"
"$TOOLS/crash_tool" produce "$RAGBATCH_KAFKA_BOOTSTRAP" "$topic" "$OUT/storm.jsonl" 0 1 >/dev/null
echo "== $EVENTS events over $PRODUCTS products; $(sed 's/^storm: //' "$OUT/storm.txt"); embedding: $EMBED; server $URI"

for reuse in true false; do
    db=bench_storm_${reuse}_$stamp
    flock "$LOCK" "$RAGBATCH" run jobs/product-updates.job --until caught-up \
        --set source.topics="$topic" --set kafka.group.id="$topic-$reuse" \
        --set mongo.uri="$URI" --set mongo.database="$db" \
        --set embed.reuse.unchanged=$reuse --set trigger.interval.ms="$TRIGGER_MS" \
        --set batch.max.records="$BATCH" --set batch.bounded.max.records="$BATCH" \
        "${emb[@]}" 2>"$OUT/storm-$reuse.log"
    t0=$(grep -m1 'event=start' "$OUT/storm-$reuse.log" | cut -d' ' -f1)
    t1=$(grep -m1 'event=caught_up' "$OUT/storm-$reuse.log" | cut -d' ' -f1)
    ms=$(($(ms_of "$t1") - $(ms_of "$t0")))
    sum() { grep 'event=progress' "$OUT/storm-$reuse.log" | grep -o " $1=[0-9]*" | cut -d= -f2 |
        paste -sd+ | bc; }
    printf 'reuse=%-5s events=%s seconds=%s events_per_s=%s embedded=%s reused=%s stale=%s\n' \
        "$reuse" "$EVENTS" "$((ms / 1000)).$((ms % 1000 / 100))" \
        "$(awk -v n="$EVENTS" -v ms="$ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')" \
        "$(sum embedded)" "$(sum reused)" "$(sum stale)"
    "$FRESHNESS" "$URI" "$db" products --drop >/dev/null 2>&1 || true
done
echo "($(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p') family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
