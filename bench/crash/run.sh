#!/usr/bin/env bash
# The crash test of issue 11: a stream of updates, out-of-order versions and
# deletes, a runner SIGKILLed at random moments and restarted, then a
# catch-up; afterwards every id must hold exactly its last produced state.
#
#   bench/crash/run.sh [EVENTS] [IDS] [KILLS] [URI]
#     EVENTS  events (default 100000)          IDS  ids (default 10000)
#     KILLS   SIGKILLs (default 10)            URI  MongoDB-wire server
#                                                   (default: run/servers.env)
#
# 1. `ragbatch generate --stdout --count EVENTS --products IDS --delete-share
#    DELETE_SHARE --manifest M` writes the events and the expected final
#    state of every id (its last version, deleted or not, its name and price).
# 2. `crash_tool produce` puts them on a PARTITIONS-partition topic keyed by
#    id, holding back HOLD_SHARE of them for 1..2,000 events, so ids see
#    older versions after newer ones in their partition.
# 3. KILLS times: start `ragbatch run` (streaming, embed.provider = openai
#    against the instant server bench/spark/embed_serve.c, so that it runs in
#    minutes), SIGKILL it after a random 0.2..MAX_ALIVE_S seconds, restart.
#    The committed offsets after each kill show where it landed.
# 4. `ragbatch run --until caught-up` must exit 0 with the group's committed
#    offsets at the end of every partition.
# 5. `crash_tool verify`: each id's stored version is the last one produced
#    (with that version's name and price); deleted ids are tombstones with
#    the delete's version, or gone; no other document.
# Prints the counts and the time of every phase; exits 1 on any failure.
#
# The runner joins its group as a static member (kafka.group.instance.id):
# a restarted pod with the same identity takes its partitions back at once
# instead of waiting out the dead member's session (45 s by default);
# STATIC=0 uses dynamic membership with kafka.session.timeout.ms=6000 instead.
#
# Environment: DELETE_SHARE (0.05), HOLD_SHARE (0.05), MAX_ALIVE_S (3),
# SEED (1), PARTITIONS (3), STATIC (1), BENCH_SET (extra --set key=value,
# space separated), KEEP=1 (keep the database), OUT (work directory).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
EVENTS=${1:-100000}
IDS=${2:-10000}
KILLS=${3:-10}
DELETE_SHARE=${DELETE_SHARE:-0.05}
HOLD_SHARE=${HOLD_SHARE:-0.05}
MAX_ALIVE_S=${MAX_ALIVE_S:-3}
SEED=${SEED:-1}
PARTITIONS=${PARTITIONS:-3}
JOB=jobs/product-updates.job
stamp=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/build/bench-crash/$stamp}
TOOLS=$ROOT/build/bench-spark
for n in "$EVENTS" "$IDS" "$KILLS" "$MAX_ALIVE_S"; do
    [[ $n =~ ^[0-9]+$ ]] || { sed -n '2,36p' "$0" >&2; exit 2; }
done

log() { printf 'crash: %s\n' "$*" >&2; }
ms_now() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'; }
t_all=$(ms_now)
scripts/build.sh >/dev/null
scripts/servers.sh start >/dev/null
# shellcheck source=/dev/null
. run/servers.env
URI=${4:-$RAGBATCH_MONGO_URI}
mkdir -p "$OUT"
bench/spark/build-tools.sh "$TOOLS"

es_pid=
runner=
cleanup() {
    [ -z "$runner" ] || kill -KILL "$runner" 2>/dev/null || true
    [ -z "$es_pid" ] || kill -TERM "$es_pid" 2>/dev/null || true
}
trap cleanup EXIT
"$TOOLS/embed_serve" 384 "$OUT/es.port" 2>"$OUT/embed_serve.log" &
es_pid=$!
for ((i = 0; i < 100; i++)); do [ -s "$OUT/es.port" ] && break; sleep 0.05; done
[ -s "$OUT/es.port" ] || { log "embed_serve did not start"; exit 1; }
port=$(cat "$OUT/es.port")

topic=bench-crash-$stamp
group=$topic
db=crash_${stamp//-/_}
t0=$(ms_now)
build/ragbatch generate --stdout --count "$EVENTS" --products "$IDS" --delete-share "$DELETE_SHARE" \
    --seed "$SEED" --manifest "$OUT/manifest.jsonl" -q >"$OUT/events.jsonl"
scripts/kafka.sh create-topic "$topic" "$PARTITIONS" >/dev/null
produced=$("$TOOLS/crash_tool" produce "$RAGBATCH_KAFKA_BOOTSTRAP" "$topic" "$OUT/events.jsonl" \
    "$HOLD_SHARE" "$SEED")
t_produce=$(($(ms_now) - t0))
summary=$(tail -n1 "$OUT/manifest.jsonl")
log "$produced in $(secs "$t_produce") s; $summary"

sets=(--set source.topics="$topic" --set kafka.group.id="$group" --set mongo.uri="$URI"
    --set mongo.database="$db" --set embed.provider=openai --set "embed.url=http://127.0.0.1:$port"
    --set embed.model=bench --set embed.dimensions=384)
if [ "${STATIC:-1}" = 1 ]; then
    sets+=(--set kafka.group.instance.id="$group-runner")
else
    sets+=(--set kafka.session.timeout.ms=6000 --set kafka.heartbeat.interval.ms=1000)
fi
for kv in ${BENCH_SET:-}; do sets+=(--set "$kv"); done

# 3. kill at random moments and restart
kills=()
late=0
t0=$(ms_now)
for ((k = 1; k <= KILLS; k++)); do
    alive_ms=$((200 + (RANDOM * 32768 + RANDOM) % (MAX_ALIVE_S * 1000 - 199)))
    build/ragbatch run "$JOB" "${sets[@]}" 2>>"$OUT/runner-$k.log" &
    runner=$!
    sleep "$(secs "$alive_ms")"
    if ! kill -0 "$runner" 2>/dev/null; then
        wait "$runner" && rc=0 || rc=$?
        log "runner $k exited by itself (status $rc) before its kill; see $OUT/runner-$k.log"
        exit 1
    fi
    kill -KILL "$runner"
    wait "$runner" 2>/dev/null || true
    runner=
    c=$("$TOOLS/crash_tool" committed "$RAGBATCH_KAFKA_BOOTSTRAP" "$group" "$topic")
    batches=$(grep -c 'event=progress' "$OUT/runner-$k.log" || true)
    done_now=${c#committed=}
    [ "${done_now%% *}" != "${c##*end=}" ] || late=$((late + 1))
    kills+=("kill $k after $(secs "$alive_ms") s: $c, batches logged $batches")
    log "${kills[-1]}"
done
t_kills=$(($(ms_now) - t0))

# 4. catch-up
t0=$(ms_now)
if ! build/ragbatch run "$JOB" --until caught-up "${sets[@]}" 2>"$OUT/catchup.log"; then
    log "the catch-up run failed; see $OUT/catchup.log"
    tail -n 5 "$OUT/catchup.log" >&2
    exit 1
fi
t_catchup=$(($(ms_now) - t0))
offsets=$("$TOOLS/crash_tool" committed "$RAGBATCH_KAFKA_BOOTSTRAP" "$group" "$topic")
committed=${offsets#committed=}
committed=${committed%% *}
end=${offsets##*end=}

# 5. verify
t0=$(ms_now)
verify_rc=0
verify=$("$TOOLS/crash_tool" verify "$URI" "$db" products "$OUT/manifest.jsonl" 2>"$OUT/verify.err") ||
    verify_rc=$?
t_verify=$(($(ms_now) - t0))
[ "${KEEP:-0}" = 1 ] || "$ROOT/.cache/spark/venv/bin/python" bench/spark/report.py drop "$URI" "$db" \
    2>/dev/null || log "database $db not dropped (no bench/spark venv?)"
kill -TERM "$es_pid"
wait "$es_pid" || true
es_pid=

stale=$(grep -ho ' stale=[0-9]*' "$OUT"/runner-*.log "$OUT/catchup.log" | cut -d= -f2 | paste -sd+ | bc)
cat <<SUMMARY

== bench/crash/run.sh $EVENTS $IDS $KILLS ($(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))
server:     $URI; topic $topic, $PARTITIONS partitions; static member: ${STATIC:-1}; settings: ${BENCH_SET:-(job defaults)}
events:     $produced (delete share $DELETE_SHARE, hold share $HOLD_SHARE), produced in $(secs "$t_produce") s
manifest:   $summary
$(printf '%s\n' "${kills[@]}")
kills:      $KILLS in $(secs "$t_kills") s ($late of them after everything was committed: raise EVENTS or lower MAX_ALIVE_S for more kills mid-run); catch-up $(secs "$t_catchup") s; committed $committed of $end
stale:      $stale records reported stale over all runs (replays after the kills and older versions)
verify:     $verify ($(secs "$t_verify") s)
$(cat "$OUT/embed_serve.log")
total:      $(secs $(($(ms_now) - t_all))) s; logs in $OUT
SUMMARY
if [ "$committed" != "$end" ]; then
    log "FAILED: the catch-up exited 0 but committed $committed of $end"
    exit 1
fi
if [ "$verify_rc" != 0 ]; then
    log "FAILED: stored state differs from the manifest:"
    cat "$OUT/verify.err" >&2
    exit 1
fi
