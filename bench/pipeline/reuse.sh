#!/usr/bin/env bash
# The reuse benchmark: an update storm (many events over few products, most
# of them leaving the text unchanged) through the product-updates job twice
# in one run, with embed.reuse.unchanged = true and = false.
#
#   bench/pipeline/reuse.sh [EVENTS] [PRODUCTS]     # defaults 3000 50
# Batches of 25 records, so that successive updates of a product mostly
# fall in different batches.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
EVENTS=${1:-3000}
PRODUCTS=${2:-50}
RAGBATCH=$ROOT/build/ragbatch
OUT=$ROOT/build/bench-pipeline
mkdir -p "$OUT"
scripts/fetch-model.sh >/dev/null
scripts/build.sh >/dev/null
scripts/servers.sh start >/dev/null
# shellcheck source=/dev/null
. run/servers.env
ms_of() { date -d "$1" +%s%3N; }
stamp=$(date +%s)
topic=bench-storm-$stamp
scripts/kafka.sh create-topic "$topic" 3 >/dev/null
"$RAGBATCH" generate --topic "$topic" --count "$EVENTS" --products "$PRODUCTS" --seed 5 -q

for reuse in true false; do
    db=bench_storm_${reuse}_$stamp
    "$RAGBATCH" run jobs/product-updates.job --until caught-up --set source.topics="$topic" \
        --set kafka.group.id="$topic-$reuse" --set mongo.database="$db" \
        --set embed.reuse.unchanged=$reuse --set trigger.interval.ms=200 \
        --set batch.max.records=25 2>"$OUT/storm-$reuse.log"
    t0=$(grep -m1 'event=start' "$OUT/storm-$reuse.log" | cut -d' ' -f1)
    t1=$(grep -m1 'event=caught_up' "$OUT/storm-$reuse.log" | cut -d' ' -f1)
    ms=$(($(ms_of "$t1") - $(ms_of "$t0")))
    # Small batches, so that most updates of a product land in different
    # batches (within one batch only the newest version is written anyway).
    sum() { grep 'event=progress' "$OUT/storm-$reuse.log" | grep -o " $1=[0-9]*" | cut -d= -f2 |
        paste -sd+ | bc; }
    printf 'reuse=%-5s events=%s seconds=%s events_per_s=%s embedded=%s reused=%s stale=%s\n' \
        "$reuse" "$EVENTS" "$((ms / 1000)).$((ms % 1000 / 100))" \
        "$(awk -v n="$EVENTS" -v ms="$ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')" \
        "$(sum embedded)" "$(sum reused)" "$(sum stale)"
    "$OUT/freshness" "$RAGBATCH_MONGO_URI" "$db" products --drop >/dev/null 2>&1 || true
done
