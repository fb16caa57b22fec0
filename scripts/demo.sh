#!/usr/bin/env bash
# The demo, end to end on this machine: installs what is missing, builds,
# starts a local Kafka broker and MongoDB-wire server, produces generated
# product events, runs the product-updates job until it has caught up,
# then prints the stored count and the nearest products to a query.
#
#   scripts/demo.sh [QUERY]          default query: "waterproof hiking boots"
#
# Environment: DEMO_EVENTS (default 500), DEMO_PRODUCTS (default 200).
# The servers keep running afterwards (scripts/servers.sh stop ends them).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
QUERY=${1:-waterproof hiking boots}
EVENTS=${DEMO_EVENTS:-500}
PRODUCTS=${DEMO_PRODUCTS:-200}

step() { printf '\n== %s\n' "$*"; }

step "dependencies, model, build"
scripts/install-deps.sh
scripts/fetch-model.sh
scripts/build.sh
RAGBATCH=$ROOT/build/ragbatch

step "servers"
scripts/servers.sh start
# shellcheck source=/dev/null
source run/servers.env
scripts/kafka.sh create-topic product-updates 3

step "produce $EVENTS product events ($PRODUCTS products) to product-updates"
"$RAGBATCH" generate --topic product-updates --count "$EVENTS" --products "$PRODUCTS" \
    --seed "$(date +%s)"

# Each `generate` starts its products' versions at 1 again, so a second demo
# run would be older than what the first one stored (and be skipped as
# stale).  The demo therefore orders events by their event time instead.
step "ragbatch run jobs/product-updates.job --until caught-up"
"$RAGBATCH" run jobs/product-updates.job --until caught-up --set document.version.field= \
    --set metrics.port=0

step "what is stored"
"$RAGBATCH" search jobs/product-updates.job "$QUERY" --k 5
