#!/usr/bin/env bash
# The pipeline on long descriptions: PRODUCTS products whose descriptions
# are PARAGRAPHS paragraphs long (bench/chunk/long_events.py) through the
# product-updates job, then EDITS updates that each replace one paragraph of
# one product; prints events/s, chunks/s and, for the edits, the share of
# chunks whose stored vector was reused.  Each run holds the timing lock.
#
#   bench/chunk/pipeline.sh [PRODUCTS] [PARAGRAPHS] [EDITS] [URI]   (defaults 50 10 200)
# Environment: BATCH (batch.max.records and batch.bounded.max.records, default 10: successive edits of a
# product then mostly fall in different batches); BENCH_SET (extra --set);
# NO_LOCK=1 runs without the timing lock (when another session holds it for
# long) and then prints only the counts, not the times.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
PRODUCTS=${1:-50}
PARAGRAPHS=${2:-10}
EDITS=${3:-200}
BATCH=${BATCH:-10}
RAGBATCH=$ROOT/build/ragbatch
OUT=$ROOT/build/bench-chunk
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
extra=()
for kv in ${BENCH_SET:-}; do extra+=(--set "$kv"); done

stamp=$(date +%s)
db=bench_chunk_$stamp
"$RAGBATCH" generate --stdout --count 2000 --products 2000 --seed 7 -q |
    python3 bench/chunk/long_events.py "$PRODUCTS" "$PARAGRAPHS" "$EDITS" 7 \
        "$OUT/initial.jsonl" "$OUT/edits.jsonl"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'); server $URI; load $(cut -d' ' -f1-3 /proc/loadavg)"
ms_of() { date -d "$1" +%s%3N; }
for phase in initial edits; do
    topic=bench-chunk-$phase-$stamp
    scripts/kafka.sh create-topic "$topic" 3 >/dev/null
    "$TOOLS/crash_tool" produce "$RAGBATCH_KAFKA_BOOTSTRAP" "$topic" "$OUT/$phase.jsonl" 0 1 >/dev/null
    log=$OUT/$phase.log
    lock=(flock "$LOCK")
    [ -z "${NO_LOCK:-}" ] || lock=()
    "${lock[@]}" "$RAGBATCH" run jobs/product-updates.job --until caught-up \
        --set source.topics="$topic" --set kafka.group.id="$topic" \
        --set mongo.uri="$URI" --set mongo.database="$db" \
        --set trigger.interval.ms=200 --set batch.max.records="$BATCH" --set batch.bounded.max.records="$BATCH" "${extra[@]}" 2>"$log"
    t0=$(grep -m1 'event=start' "$log" | cut -d' ' -f1)
    t1=$(grep -m1 'event=caught_up' "$log" | cut -d' ' -f1)
    ms=$(($(ms_of "$t1") - $(ms_of "$t0")))
    sum() { grep 'event=progress' "$log" | grep -o " $1=[0-9]*" | cut -d= -f2 | paste -sd+ |
        sed 's/^$/0/' | bc; }
    in=$(sum in) chunks=$(sum chunks) reused=$(sum chunks_reused) embedded=$(sum embedded)
    if [ -n "${NO_LOCK:-}" ]; then
        printf '%-7s events=%s chunks=%s embedded=%s chunks_reused=%s reused_share=%s stale=%s (untimed: no lock)\n' \
            "$phase" "$in" "$chunks" "$embedded" "$reused" \
            "$( [ "$chunks" -gt 0 ] && echo "scale=3; $reused / $chunks" | bc || echo 0)" "$(sum stale)"
        continue
    fi
    printf '%-7s events=%s seconds=%s events_per_s=%s chunks=%s chunks_per_s=%s embedded=%s chunks_reused=%s reused_share=%s stale=%s\n' \
        "$phase" "$in" "$((ms / 1000)).$((ms % 1000 / 100))" \
        "$(echo "scale=1; $in * 1000 / $ms" | bc)" "$chunks" \
        "$(echo "scale=1; $chunks * 1000 / $ms" | bc)" "$embedded" "$reused" \
        "$( [ "$chunks" -gt 0 ] && echo "scale=3; $reused / $chunks" | bc || echo 0)" "$(sum stale)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
