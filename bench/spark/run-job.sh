#!/usr/bin/env bash
# Runs the PySpark peer (bench/spark/product_job.py) once with the settings
# every comparison uses, so they are written down in one place:
#
#   bench/spark/run-job.sh CONFIG MONGO_URI WORKDIR [CORES]
#     CONFIG     the job's effective configuration (`ragbatch check JOB --set ...`)
#     MONGO_URI  the server (check masks mongo.uri)
#     WORKDIR    new directory: checkpoint/, spark.log, summary.json
#     CORES      local[CORES] (default: nproc, the cores ragbatch gets)
#
# Settings: master local[CORES]; spark.sql.shuffle.partitions=2 (the default
# 200 costs a task per partition on a 2-core machine); no maxOffsetsPerTrigger
# (availableNow then reads the whole range in one micro-batch); the Spark UI
# off; driver heap 1g; Python worker reuse on (Spark's default; the embedder
# and the MongoDB client live for the worker); SPARK_LOCAL_IP=127.0.0.1;
# HF_HUB_OFFLINE=1 (the model comes from its local directory only).  The
# summary line (JSON) is printed on stdout.  SPARK_VERSIONS (auto, filter,
# lookup; default auto) picks the writer's version check (product_job.py --versions).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -ge 3 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
CONFIG=$1
URI=$2
WORK=$3
CORES=${4:-$(nproc)}
VENV=$ROOT/.cache/spark/venv
JARS=$ROOT/.cache/spark/jars
[ -x "$VENV/bin/spark-submit" ] || { echo "run-job: no PySpark; run bench/spark/setup.sh" >&2; exit 1; }
mkdir -p "$WORK"
jars=$(find "$JARS" -name '*.jar' | sort | paste -sd, -)
export SPARK_LOCAL_IP=127.0.0.1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export PYSPARK_PYTHON=$VENV/bin/python PYSPARK_DRIVER_PYTHON=$VENV/bin/python
export PATH=$VENV/bin:$PATH
"$VENV/bin/spark-submit" --master "local[$CORES]" --driver-memory 1g --jars "$jars" \
    --conf spark.sql.shuffle.partitions=2 --conf spark.ui.enabled=false \
    --conf spark.sql.session.timeZone=UTC \
    "$ROOT/bench/spark/product_job.py" --config "$CONFIG" --mongo-uri "$URI" --cores "$CORES" \
    --versions "${SPARK_VERSIONS:-auto}" --checkpoint "$WORK/checkpoint" \
    --summary "$WORK/summary.json" 2>"$WORK/spark.log"
