#!/usr/bin/env bash
# The floor of the "embedding taken out" comparison (bench/spark/floor.c):
# what the MongoDB-wire server costs to store N of ragbatch's documents with
# plain inserts, and what the instant embeddings server costs to answer N
# texts through ragbatch's HTTP embedder, each alone under the timing lock,
# with the CPU time each server process used meanwhile (from /proc).
#
#   bench/spark/floor.sh N URI [SERVER_PID]
#     N           documents / texts (e.g. 100000)
#     URI         the MongoDB-wire server
#     SERVER_PID  its process, for its CPU time (default: the pid file of
#                 scripts/mongo-java.sh when URI is RAGBATCH_MONGO_JAVA_URI,
#                 of scripts/mongo.sh when it is RAGBATCH_MONGO_URI)
# Environment: CHUNK (documents per insert_many and texts per embed call,
# default 5000, ragbatch's batch.bounded.max.records), CONCURRENCY
# (requests in flight, default 4, embed.concurrency's default).
# FLOOR_THREADS (clients inserting at once, default 1).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
[ $# -ge 2 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
N=$1
URI=$2
CHUNK=${CHUNK:-5000}
CONCURRENCY=${CONCURRENCY:-4}
TOOLS=$ROOT/build/bench-spark
LOCK=/tmp/rb/timing.lock
scripts/build.sh >/dev/null
bench/spark/build-tools.sh "$TOOLS"
# shellcheck source=/dev/null
[ -f run/servers.env ] && . run/servers.env
pid=${3:-}
if [ -z "$pid" ]; then
    if [ "$URI" = "${RAGBATCH_MONGO_JAVA_URI:-}" ]; then pid=$(cat run/mongo-java/mongo-java.pid)
    elif [ "$URI" = "${RAGBATCH_MONGO_URI:-}" ]; then pid=$(cat run/mongo/mongo.pid)
    fi
fi
# user + system ticks of a process and its waited-for children
ticks() { [ -n "$pid" ] && awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat" || echo 0; }
hz=$(getconf CLK_TCK)
echo "== floor.sh $N $URI ($(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p')" \
    "family $(lscpu | sed -n 's/^CPU family: *//p') model $(lscpu | sed -n 's/^Model: *//p')," \
    "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"

exec 9>"$LOCK"
flock 9
t0=$(ticks)
"$TOOLS/floor" insert "$URI" "$N" "$CHUNK"
t1=$(ticks)
flock -u 9
echo "server (pid ${pid:-unknown}) CPU during the inserts: $(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.0f", t * 1000 / hz }') ms"

port_file=$TOOLS/floor-es.port
rm -f "$port_file"
"$TOOLS/embed_serve" 384 "$port_file" 2>"$TOOLS/floor-es.log" &
es=$!
trap 'kill "$es" 2>/dev/null || true' EXIT
for ((i = 0; i < 100; i++)); do [ -s "$port_file" ] && break; sleep 0.05; done
flock "$LOCK" "$TOOLS/floor" embed "http://127.0.0.1:$(cat "$port_file")" "$N" "$CHUNK" "$CONCURRENCY"
kill -TERM "$es"
wait "$es" || true
trap - EXIT
echo "instant server: $(cat "$TOOLS/floor-es.log")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
