#!/usr/bin/env bash
# Keeps the job file of spark-job.yaml's ConfigMap and jobs/product-updates.job
# one file: the ConfigMap's `product-updates.job: |` block is written from the
# job file, indented, between that line and the document's end (`---`).
#
#   scripts/sync-configmap.sh           rewrite spark-job.yaml from the job file
#   scripts/sync-configmap.sh --check   exit 1 (with a diff) if they differ
#
# scripts/kubeconform.sh runs the check, so the suite fails when someone edits
# one and not the other.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest=${RAGBATCH_MANIFEST:-$ROOT/spark-job.yaml}
job=${RAGBATCH_MANIFEST_JOB:-$ROOT/jobs/product-updates.job}
key=$(basename "$job")

# render: the manifest with the block replaced by the job file's lines.
render() {
    awk -v key="  $key: |" -v job="$job" '
        $0 == key { print; while ((getline line < job) > 0) print (line == "" ? "" : "    " line); skip = 1; found = 1; next }
        skip && /^---$/ { skip = 0 }
        !skip { print }
        END { if (!found) { print "sync-configmap: no \"" key "\" line" > "/dev/stderr"; exit 1 } }
    ' "$manifest"
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
render >"$out"
if [ "${1:-}" = "--check" ]; then
    if ! diff -u "$manifest" "$out" >&2; then
        echo "sync-configmap: the ConfigMap in ${manifest#"$ROOT"/} is not ${job#"$ROOT"/}" \
            "(run scripts/sync-configmap.sh)" >&2
        exit 1
    fi
    echo "sync-configmap: ${manifest#"$ROOT"/} carries ${job#"$ROOT"/} unchanged"
else
    cp "$out" "$manifest"
fi
