#!/usr/bin/env bash
# The HTTP embedding path against the test server (tests/servers), which
# answers from a hash of the text, so the figures are the path's own cost:
#   1. rb_embedder_embed alone: texts/s with 1..16 requests in flight, the
#      server answering at once and after 20 ms (a latency model);
#   2. the pipeline: `ragbatch run --until caught-up` with
#      embed.provider = openai on EVENTS generated events, events/s with 1
#      and 4 requests in flight.
#
#   bench/http/run.sh [EVENTS] [BUILD_DIR]   (defaults: 5000, build)
#
# Needs the test servers (started here if they are not running) and a
# release build in BUILD_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
EVENTS=${1:-5000}
BUILD=$(cd "${2:-build}" && pwd)
OUT=$BUILD/bench-http
mkdir -p "$OUT"
scripts/servers.sh start >/dev/null
# shellcheck source=/dev/null
. run/servers.env

# The program is an Automake target (bench/local.mk).
make -C "$BUILD" -j2 bench/http/bench_http >/dev/null
BENCH=$BUILD/bench/http/bench_http

echo "== rb_embedder_embed, 384 dimensions, 32 texts per request"
"$BENCH" embed 5000 384 0
"$BENCH" embed 3000 384 20 | tail -n +3

echo
echo "== ragbatch run, embed.provider = openai, $EVENTS events (one per product)"
ms_of() { date -d "$1" +%s%3N; }
for inflight in 1 4; do
    stamp=$(date +%s%N)
    topic=bench-http-$stamp
    db=bench_http_$stamp
    scripts/kafka.sh create-topic "$topic" 3 >/dev/null
    "$BUILD/ragbatch" generate --topic "$topic" --count "$EVENTS" --products "$EVENTS" \
        --seed 42 --start-time 2026-01-01T00:00:00.000Z -q
    coproc SERVER { "$BENCH" serve 384 0 2>"$OUT/server-$inflight.log"; }
    read -r port <&"${SERVER[0]}"
    "$BUILD/ragbatch" run jobs/product-updates.job --until caught-up \
        --set source.topics="$topic" --set kafka.group.id="$topic" \
        --set mongo.database="$db" --set embed.provider=openai \
        --set embed.url="http://127.0.0.1:$port" --set embed.model=bench \
        --set embed.dimensions=384 --set embed.concurrency="$inflight" 2>"$OUT/run-$inflight.log"
    # Closing the server's stdin tells it to exit.
    server_in=${SERVER[1]}
    exec {server_in}>&-
    wait "$SERVER_PID" || true
    t_start=$(grep -m1 'event=start' "$OUT/run-$inflight.log" | cut -d' ' -f1)
    t_end=$(grep -m1 'event=caught_up' "$OUT/run-$inflight.log" | cut -d' ' -f1)
    ms=$(($(ms_of "$t_end") - $(ms_of "$t_start")))
    embed_ms=$(grep -o 'embed_ms=[0-9.]*' "$OUT/run-$inflight.log" | cut -d= -f2 |
        awk '{ s += $1 } END { printf "%.0f", s }')
    write_ms=$(grep -o 'write_ms=[0-9.]*' "$OUT/run-$inflight.log" | cut -d= -f2 |
        awk '{ s += $1 } END { printf "%.0f", s }')
    printf 'in flight %s: %s events in %s ms = %s events/s; embed %s ms, write %s ms; %s\n' \
        "$inflight" "$EVENTS" "$ms" "$(awk -v n="$EVENTS" -v ms="$ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')" \
        "$embed_ms" "$write_ms" "$(cat "$OUT/server-$inflight.log")"
    "$BENCH" drop "$RAGBATCH_MONGO_URI" "$db"
done
