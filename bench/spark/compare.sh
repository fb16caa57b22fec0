#!/usr/bin/env bash
# ragbatch against its PySpark peer, side by side on one topic and one
# MongoDB-wire server (issue 10's figures).
#
#   bench/spark/compare.sh SIZE MODE [URI]
#     SIZE  generated product events, each a new product
#           (`ragbatch generate --sequential --products SIZE`), on a topic
#           with PARTITIONS partitions (default 3)
#     MODE  http:  embedding taken out: both engines call the instant
#                  OpenAI-compatible server (bench/spark/embed_serve.c)
#           model: the real model: ragbatch's local embedder,
#                  sentence-transformers on the same model directory in
#                  Spark, plus the bare embedder (bench/pipeline/bench_texts.c)
#                  on the same texts
#     URI   the MongoDB-wire server (default: RAGBATCH_MONGO_URI of
#           run/servers.env, the FerretDB that scripts/servers.sh starts)
#
# One after the other, each holding /tmp/rb/timing.lock only while it runs:
#   1. `ragbatch run jobs/product-updates.job --until caught-up` into
#      database cmp_rb_<stamp>; records/s = SIZE / (caught_up - start) from
#      its log lines (process start-up, e.g. loading the model, is before
#      `start`);
#   2. the PySpark job (bench/spark/run-job.sh: availableNow, local[CORES],
#      shuffle partitions 2) into cmp_spark_<stamp>, configured from
#      `ragbatch check` of the same job and settings; records/s = SIZE /
#      query time (SparkSession start-up is before it);
#   3. (model) the bare embedder on the same texts, 1,000 per call.
# Both wall times (process start to exit) and CPU times (user + system of the
# process tree: well below wall x CORES means other load took the cores) are
# printed as well.  Peak memory:
# the sum over the process tree (JVM, Python driver and workers for Spark)
# sampled every 200 ms by bench/spark/treerss.c, RSS and PSS.  From ragbatch's
# JSON progress lines: the per-stage times of the first and last batch and
# their sums.  At the end both databases must hold the same documents
# (count, ids, version, text, text_hash, metadata; embeddings within 1e-6
# in http mode); the script exits 1 if the counts differ.
#
# Environment:
#   BENCH_SET       extra `--set key=value` (space separated) for the job; the
#                   Spark job reads the same effective configuration
#   SPARK_VERSIONS  auto|filter|lookup: the Spark writer's version check
#                   (bench/spark/product_job.py --versions; default auto)
#   PARTITIONS      topic partitions (default 3);  CORES  (default nproc)
#   PRODUCTS        product pool (default SIZE: one new product per event);
#                   fewer makes updates (random visits), which exercises the
#                   newest-version and stale paths of both engines
#   DELETE_SHARE    share of events that delete a live product (default 0)
#   KEEP=1          keep both databases (default: dropped at the end)
#   DROP_BETWEEN=1  digest ragbatch's database (report.py digest) and drop it
#                   before Spark runs, for servers that keep everything in
#                   memory (mongo-java-server's memory backend); embeddings
#                   are then compared by length only
#   OUT             work directory (default build/bench-spark/<stamp>)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]] || { [ "$2" != http ] && [ "$2" != model ]; }; then
    sed -n '2,55p' "$0" >&2
    exit 2
fi
SIZE=$1
MODE=$2
PARTITIONS=${PARTITIONS:-3}
CORES=${CORES:-$(nproc)}
JOB=jobs/product-updates.job
LOCK=/tmp/rb/timing.lock
stamp=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-$ROOT/build/bench-spark/$stamp}
TOOLS=$ROOT/build/bench-spark
PY=$ROOT/.cache/spark/venv/bin/python

log() { printf 'compare: %s\n' "$*" >&2; }
scripts/build.sh >/dev/null
if [ "$MODE" = model ]; then
    scripts/fetch-model.sh >/dev/null
    bench/spark/setup.sh --model
else
    bench/spark/setup.sh
fi
scripts/servers.sh start >/dev/null
# shellcheck source=/dev/null
. run/servers.env
URI=${3:-$RAGBATCH_MONGO_URI}
mkdir -p "$OUT" "$(dirname "$LOCK")"
bench/spark/build-tools.sh "$TOOLS"

extra=()
for kv in ${BENCH_SET:-}; do extra+=(--set "$kv"); done
topic=bench-cmp-$stamp
db_rb=cmp_rb_${stamp//-/_}
db_spark=cmp_spark_${stamp//-/_}
PRODUCTS=${PRODUCTS:-$SIZE}
gen=(--count "$SIZE" --products "$PRODUCTS" --delete-share "${DELETE_SHARE:-0}" --seed 42
    --start-time 2026-01-01T00:00:00.000Z -q)
[ "$PRODUCTS" -lt "$SIZE" ] || gen+=(--sequential)
scripts/kafka.sh create-topic "$topic" "$PARTITIONS" >/dev/null
log "producing $SIZE events over $PRODUCTS products on $topic ($PARTITIONS partitions)"
build/ragbatch generate --topic "$topic" "${gen[@]}"

es_pid=
start_embed_server() { # $1: log file; sets es_port, es_pid
    rm -f "$OUT/es.port"
    "$TOOLS/embed_serve" 384 "$OUT/es.port" 2>"$1" &
    es_pid=$!
    local i
    for ((i = 0; i < 100; i++)); do [ -s "$OUT/es.port" ] && break; sleep 0.05; done
    [ -s "$OUT/es.port" ] || { log "embed_serve did not start"; exit 1; }
    es_port=$(cat "$OUT/es.port")
}
stop_embed_server() {
    kill -TERM "$es_pid"
    wait "$es_pid" || true
    es_pid=
}
trap '[ -z "$es_pid" ] || kill "$es_pid" 2>/dev/null || true' EXIT

common=(--set source.topics="$topic" --set kafka.group.id="$topic" --set mongo.uri="$URI")
embed_set() { # the embedding settings of MODE
    if [ "$MODE" = http ]; then
        printf '%s\n' --set embed.provider=openai --set "embed.url=http://127.0.0.1:$es_port" \
            --set embed.model=bench --set embed.dimensions=384
    fi
}

# 1. ragbatch
[ "$MODE" = http ] && start_embed_server "$OUT/es-ragbatch.log"
mapfile -t emb < <(embed_set)
log "ragbatch run --until caught-up -> $db_rb"
flock "$LOCK" "$TOOLS/treerss" "$OUT/rss-ragbatch.txt" 200 -- \
    build/ragbatch run "$JOB" --until caught-up "${common[@]}" --set mongo.database="$db_rb" \
    --set log.format=json "${emb[@]}" "${extra[@]}" 2>"$OUT/ragbatch.log"
[ "$MODE" = http ] && stop_embed_server
rb=$("$PY" bench/spark/report.py ragbatch-log "$OUT/ragbatch.log")
if [ "${DROP_BETWEEN:-0}" = 1 ]; then
    "$PY" bench/spark/report.py digest "$URI" "$db_rb" products "$OUT/ragbatch.digest"
    "$PY" bench/spark/report.py drop "$URI" "$db_rb"
fi

# 2. PySpark
[ "$MODE" = http ] && start_embed_server "$OUT/es-spark.log"
mapfile -t emb < <(embed_set)
build/ragbatch check "$JOB" "${common[@]}" --set mongo.database="$db_spark" "${emb[@]}" \
    "${extra[@]}" >"$OUT/spark.conf"
log "PySpark availableNow -> $db_spark"
flock "$LOCK" "$TOOLS/treerss" "$OUT/rss-spark.txt" 200 -- \
    bench/spark/run-job.sh "$OUT/spark.conf" "$URI" "$OUT/spark" "$CORES" >/dev/null
[ "$MODE" = http ] && stop_embed_server
spark=$(cat "$OUT/spark/summary.json")

# 3. the bare embedder (model)
bare=
if [ "$MODE" = model ]; then
    build/ragbatch generate --stdout "${gen[@]}" >"$OUT/events.jsonl"
    log "bare embedder on the same texts"
    bare=$(flock "$LOCK" "$TOOLS/bench_texts" "$JOB" "$OUT/events.jsonl" 1000)
fi

if [ "${DROP_BETWEEN:-0}" = 1 ]; then
    same=$("$PY" bench/spark/report.py same-digest "$URI" "$db_spark" products \
        "$OUT/ragbatch.digest") && same_rc=0 || same_rc=$?
else
    same=$("$PY" bench/spark/report.py same "$URI" "$db_rb" "$db_spark" products) && same_rc=0 ||
        same_rc=$?
fi
[ "${KEEP:-0}" = 1 ] || "$PY" bench/spark/report.py drop "$URI" "$db_rb" "$db_spark"

field() { "$PY" -c 'import json,sys; o=json.loads(sys.argv[1]); [o:=o[k] for k in sys.argv[2].split(".")]; print(o)' "$1" "$2"; }
rss_mb() { sed -E "s/.*$2=([0-9]+).*/\1/" "$1" | awk '{ printf "%.0f", $1 / 1024 }'; }
wall_s() { sed -E 's/.*wall_ms=([0-9]+).*/\1/' "$1" | awk '{ printf "%.1f", $1 / 1000 }'; }
cpu_s() { sed -E 's/.*cpu_ms=([0-9]+).*/\1/' "$1" | awk '{ printf "%.1f", $1 / 1000 }'; }
rb_s=$(field "$rb" seconds)
rb_rate=$(awk -v n="$SIZE" -v s="$rb_s" 'BEGIN { printf "%.1f", n / s }')
sp_s=$(field "$spark" query_s)
sp_rate=$(awk -v n="$SIZE" -v s="$sp_s" 'BEGIN { printf "%.1f", n / s }')
cat <<SUMMARY

== compare.sh $SIZE $MODE ($(date -u +%Y-%m-%dT%H:%MZ), $(lscpu | sed -n 's/^Model name: *//p'), $CORES cores, load $(cut -d' ' -f1-3 /proc/loadavg))
server:    $URI; topic $topic, $PARTITIONS partitions, $PRODUCTS products, delete share ${DELETE_SHARE:-0}; settings: ${BENCH_SET:-(job defaults)}
ragbatch:  $SIZE events in $rb_s s = $rb_rate records/s (wall $(wall_s "$OUT/rss-ragbatch.txt") s, CPU $(cpu_s "$OUT/rss-ragbatch.txt") s); peak RSS $(rss_mb "$OUT/rss-ragbatch.txt" peak_rss_kb) MB (PSS $(rss_mb "$OUT/rss-ragbatch.txt" peak_pss_kb) MB)
pyspark:   $SIZE events in $sp_s s = $sp_rate records/s (wall $(wall_s "$OUT/rss-spark.txt") s, CPU $(cpu_s "$OUT/rss-spark.txt") s, $(field "$spark" batches) micro-batch(es), versions=$(field "$spark" versions)); peak RSS $(rss_mb "$OUT/rss-spark.txt" peak_rss_kb) MB (PSS $(rss_mb "$OUT/rss-spark.txt" peak_pss_kb) MB, $(sed -E 's/.*peak_procs=([0-9]+).*/\1/' "$OUT/rss-spark.txt") processes)
ratio:     ragbatch / pyspark = $(awk -v a="$rb_rate" -v b="$sp_rate" 'BEGIN { printf "%.2fx", a / b }') records/s
SUMMARY
if [ -n "$bare" ]; then
    bare_rate=$(sed -E 's/.*texts_per_s=([0-9.]+).*/\1/' <<<"$bare")
    echo "bare:      $bare (same texts, 1000 per call)"
    echo "ratio:     ragbatch / bare embedder = $(awk -v a="$rb_rate" -v b="$bare_rate" 'BEGIN { printf "%.1f%%", 100 * a / b }')"
fi
if [ "$MODE" = http ]; then
    echo "embed server: ragbatch run: $(cat "$OUT/es-ragbatch.log"); spark run: $(cat "$OUT/es-spark.log")"
fi
echo "ragbatch batches (ms): first $(field "$rb" first)"
echo "                       last  $(field "$rb" last)"
echo "                       sums  $(field "$rb" sum_ms) over $(field "$rb" batches) batches; records $(field "$rb" records)"
echo "pyspark counts:  $spark"
echo "same documents:  $same"
echo "logs:            $OUT"
exit "$same_rc"
