#!/usr/bin/env bash
# The PySpark peer's environment, for measurement only (never part of the
# product): a Python venv with PySpark 3.5.7 and pymongo 4.8.0, and the
# Kafka source jars of Structured Streaming.
#
#   bench/spark/setup.sh [--model]      idempotent; prints nothing when done
#
#   .cache/spark/venv   pyspark 3.5.7 (+ pandas, pyarrow for Arrow UDFs),
#                       pymongo 4.8.0: mongo-java-server answers wire version 8
#                       (MongoDB 4.2), which later pymongo releases refuse;
#                       with --model also sentence-transformers and PyTorch
#                       (CPU), for the real-model comparison
#   .cache/spark/jars   spark-sql-kafka-0-10_2.12 3.5.7,
#                       spark-token-provider-kafka-0-10_2.12 3.5.7,
#                       kafka-clients 3.4.1, commons-pool2 2.11.1, copied from
#                       Maven Central by `mvn dependency:copy-dependencies`
#                       (bench/spark/pom.xml, no transitive jars: the rest is
#                       in PySpark's own jars/)
#
# The jars go to spark-submit with --jars (bench/spark/run-job.sh), so
# nothing is fetched while a job runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIR=$ROOT/.cache/spark
VENV=$DIR/venv
JARS=$DIR/jars
M2=$ROOT/.cache/m2
log() { printf 'spark-setup: %s\n' "$*" >&2; }

mkdir -p "$DIR"
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check --upgrade pip
fi
# numpy < 2 and pyarrow 15: the versions PySpark 3.5's Arrow paths were built
# and tested against.
if ! "$VENV/bin/python" -c 'import pyspark, pymongo, pyarrow, pandas' 2>/dev/null; then
    log "installing pyspark 3.5.7, pymongo 4.8.0, pandas, pyarrow"
    "$VENV/bin/pip" install -q --disable-pip-version-check pyspark==3.5.7 pymongo==4.8.0 \
        'numpy<2' pandas==2.2.3 pyarrow==15.0.2
fi
if [ "${1:-}" = --model ] &&
    ! "$VENV/bin/python" -c 'import sentence_transformers' 2>/dev/null; then
    log "installing sentence-transformers (PyTorch CPU)"
    "$VENV/bin/pip" install -q --disable-pip-version-check 'numpy<2' \
        sentence-transformers==5.1.2
fi

want=(spark-sql-kafka-0-10_2.12-3.5.7.jar spark-token-provider-kafka-0-10_2.12-3.5.7.jar
    kafka-clients-3.4.1.jar commons-pool2-2.11.1.jar)
have=yes
for j in "${want[@]}"; do [ -s "$JARS/$j" ] || have=no; done
if [ "$have" = no ]; then
    log "copying the Kafka source jars from Maven Central into $JARS"
    rm -rf "$JARS.tmp"
    if ! mvn -B -q -f "$ROOT/bench/spark/pom.xml" -Dmaven.repo.local="$M2" \
        dependency:copy-dependencies -DexcludeTransitive=true \
        -DoutputDirectory="$JARS.tmp" >"$DIR/mvn.log" 2>&1; then
        tail -n 30 "$DIR/mvn.log" >&2
        log "error: mvn dependency:copy-dependencies failed (log: $DIR/mvn.log)"
        exit 1
    fi
    rm -rf "$JARS"
    mv "$JARS.tmp" "$JARS"
fi
