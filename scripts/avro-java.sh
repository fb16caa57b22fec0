#!/usr/bin/env bash
# The Java classpath of the Avro test producer (tests/java/AvroProductProducer.java):
# the Apache Avro library and kafka-clients from Maven Central
# (scripts/avro/pom.xml), resolved once into .cache/avro/libs.
#
#   scripts/avro-java.sh fetch      resolve the jars if the pom changed (idempotent)
#   scripts/avro-java.sh classpath  print the classpath (after fetch)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$SCRIPT_DIR")
POM=$SCRIPT_DIR/avro/pom.xml
CACHE=$ROOT/.cache/avro
LIBS=$CACHE/libs
STAMP=$CACHE/libs.stamp
M2=$ROOT/.cache/m2

log() { printf 'avro-java: %s\n' "$*" >&2; }
die() { printf 'avro-java: error: %s\n' "$*" >&2; exit 1; }
# shellcheck source=scripts/lib/server-helpers.sh
. "$SCRIPT_DIR/lib/server-helpers.sh"

case "${1:-}" in
    fetch) maven_libs "$STAMP" ;;
    classpath) maven_libs "$STAMP" && echo "$LIBS/*" ;;
    *) printf 'usage: %s fetch|classpath\n' "$0" >&2; exit 2 ;;
esac
