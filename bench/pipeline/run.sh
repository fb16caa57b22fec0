#!/usr/bin/env bash
# The pipeline benchmark: end-to-end events/s against the bare embedder on
# the same texts, peak RSS of the runner, and freshness (event time to
# document visible) at a steady rate with a 1 s trigger.
#
#   bench/pipeline/run.sh [EVENTS] [RATE] [SECONDS]
#     EVENTS   events for the throughput run (default 10000)
#     RATE     events/s for the freshness run (default 20)
#     SECONDS  length of the freshness run (default 60)
#
# Needs the test servers (started here if they are not running), the model
# and a release build; prints one summary block to copy into bench/README.md.
#
# Environment:
#   BENCH_MONGO_URI  another MongoDB-wire server, e.g. the PostgreSQL-backed
#                    FerretDB of bench/pg-ferretdb.sh (default: the test
#                    server, FerretDB on SQLite)
#   BENCH_SET        extra `--set key=value` settings for both runs, space
#                    separated, e.g. "mongo.vector.format=float32"
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
EVENTS=${1:-10000}
RATE=${2:-20}
SECONDS_RUN=${3:-60}
OUT=$ROOT/build/bench-pipeline
RAGBATCH=$ROOT/build/ragbatch
JOB=jobs/product-updates.job

scripts/fetch-model.sh >/dev/null
scripts/build.sh >/dev/null
scripts/servers.sh start >/dev/null
# shellcheck source=/dev/null
. run/servers.env
RAGBATCH_MONGO_URI=${BENCH_MONGO_URI:-$RAGBATCH_MONGO_URI}
export RAGBATCH_MONGO_URI
extra=()
for kv in ${BENCH_SET:-}; do extra+=(--set "$kv"); done
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
mkdir -p "$OUT"

# bench_texts and freshness are Automake targets (bench/local.mk), built
# by scripts/build.sh above.
TOOLS=$ROOT/build/bench/pipeline

ms_of() { date -d "$1" +%s%3N; }
stamp=$(date +%s)
start_time=2026-01-01T00:00:00.000Z

echo "== throughput: $EVENTS events, one per product (fresh ids), topic with 3 partitions"
topic=bench-e2e-$stamp
db=bench_e2e_$stamp
scripts/kafka.sh create-topic "$topic" 3 >/dev/null
"$RAGBATCH" generate --topic "$topic" --count "$EVENTS" --products "$EVENTS" --sequential --seed 42 \
    --start-time "$start_time" -q
"$RAGBATCH" generate --stdout --count "$EVENTS" --products "$EVENTS" --sequential --seed 42 \
    --start-time "$start_time" -q >"$OUT/events.jsonl"
/usr/bin/time -f "%M" -o "$OUT/rss.txt" "$RAGBATCH" run "$JOB" --until caught-up \
    --set source.topics="$topic" --set kafka.group.id="$topic" \
    --set mongo.database="$db" "${extra[@]}" 2>"$OUT/e2e.log"
t_start=$(grep -m1 'event=start' "$OUT/e2e.log" | cut -d' ' -f1)
t_end=$(grep -m1 'event=caught_up' "$OUT/e2e.log" | cut -d' ' -f1)
e2e_ms=$(($(ms_of "$t_end") - $(ms_of "$t_start")))
stored=$(grep -o 'stored=[0-9]*' "$OUT/e2e.log" | tail -n1 | cut -d= -f2)
rss_kb=$(tail -n1 "$OUT/rss.txt")
e2e_rate=$(awk -v n="$EVENTS" -v ms="$e2e_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
bare=$("$TOOLS/bench_texts" "$JOB" "$OUT/events.jsonl" 1000)
bare_rate=$(sed -E 's/.*texts_per_s=([0-9.]+).*/\1/' <<<"$bare")
"$TOOLS/freshness" "$RAGBATCH_MONGO_URI" "$db" products --drop >/dev/null

echo "== freshness: $RATE events/s for $SECONDS_RUN s, trigger 1000 ms"
topic2=bench-fresh-$stamp
db2=bench_fresh_$stamp
count=$((RATE * SECONDS_RUN))
scripts/kafka.sh create-topic "$topic2" 3 >/dev/null
"$RAGBATCH" run "$JOB" --set source.topics="$topic2" --set kafka.group.id="$topic2" \
    --set mongo.database="$db2" --set trigger.interval.ms=1000 "${extra[@]}" \
    2>"$OUT/fresh.log" &
runner=$!
sleep 3
"$RAGBATCH" generate --topic "$topic2" --count "$count" --products "$count" --sequential --seed 7 \
    --rate "$RATE" -q
deadline=$(($(date +%s) + 600))
while :; do
    seen=$(grep -o ' in=[0-9]*' "$OUT/fresh.log" | cut -d= -f2 | paste -sd+ | bc 2>/dev/null || echo 0)
    [ "${seen:-0}" -ge "$count" ] && break
    [ "$(date +%s)" -lt "$deadline" ] || { echo "freshness run did not finish" >&2; break; }
    sleep 1
done
kill -TERM "$runner"
wait "$runner" || true
fresh=$("$TOOLS/freshness" "$RAGBATCH_MONGO_URI" "$db2" products --drop)

cat <<SUMMARY

== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))
server:         $RAGBATCH_MONGO_URI; settings: ${BENCH_SET:-(job defaults)}
end to end:     $EVENTS events in $((e2e_ms / 1000)).$((e2e_ms % 1000 / 100)) s = $e2e_rate events/s (stored=$stored)
bare embedder:  $bare (same texts, 1000 per call)
ratio:          $(awk -v a="$e2e_rate" -v b="$bare_rate" 'BEGIN { printf "%.1f%%", 100 * a / b }') of the bare embedder
peak RSS:       $((rss_kb / 1024)) MB (ragbatch run, model loaded)
freshness:      $fresh at $RATE events/s, trigger 1000 ms
SUMMARY
