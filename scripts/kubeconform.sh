#!/usr/bin/env bash
# Validates the Kubernetes manifests (spark-job.yaml by default, or the files
# given) with kubeconform against the Kubernetes API's own schemas, offline.
#
# kubeconform is built from the Go module proxy into .cache/bin.  It would
# fetch its schemas from GitHub at run time; instead the Kubernetes OpenAPI
# document is taken from the k8s.io/kubernetes Go module (also on the proxy)
# and turned into per-kind schemas by scripts/k8s-schemas.py, once, under
# .cache/kubeconform/schemas-<k8s version>.  Validation is strict: unknown
# fields fail, as with `kubectl apply --validate=strict`.
#
# Before trusting a pass, the script checks that the validator rejects a copy
# of the first manifest with a misspelt field: a validator that accepts
# everything (say, schemas missing) would otherwise go unnoticed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KUBECONFORM_VERSION=v0.7.0
K8S_VERSION=${RAGBATCH_K8S_VERSION:-v1.31.14}

log() { printf 'kubeconform: %s\n' "$*"; }

work=$ROOT/.cache/kubeconform
bin=$ROOT/.cache/bin/kubeconform
schemas=$work/schemas-$K8S_VERSION
mkdir -p "$work" "$ROOT/.cache/bin"

gobin=$(command -v go || echo /usr/local/go/bin/go)
export GOMODCACHE=$work/mod GOCACHE=$work/gocache GOPATH=$work/gopath
export GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0 GOTOOLCHAIN=auto

# `go install` builds report "development" as their version: a stamp file
# records which version .cache/bin/kubeconform is.
stamp=$work/kubeconform.version
if [ ! -x "$bin" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$KUBECONFORM_VERSION" ]; then
    log "building kubeconform $KUBECONFORM_VERSION from the Go module proxy"
    GOBIN=$ROOT/.cache/bin "$gobin" install \
        "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
    echo "$KUBECONFORM_VERSION" >"$stamp"
fi

if [ ! -f "$schemas/job-batch-v1.json" ]; then
    log "fetching the Kubernetes $K8S_VERSION OpenAPI document (k8s.io/kubernetes module)"
    dir=$("$gobin" mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    rm -rf "$schemas.tmp"
    python3 "$ROOT/scripts/k8s-schemas.py" "$dir/api/openapi-spec/swagger.json" "$schemas.tmp"
    mv "$schemas.tmp" "$schemas"
fi

validate() {
    "$bin" -strict -summary -schema-location "$schemas/{{.ResourceKind}}{{.KindSuffix}}.json" "$@"
}

if [ "$#" -eq 0 ]; then set -- "$ROOT/spark-job.yaml"; fi

# Self-check: a misspelt field must be rejected.
# (kubeconform skips files whose names do not end in .yaml, .yml or .json)
bad=$(mktemp --suffix=.yaml)
trap 'rm -f "$bad"' EXIT
sed '0,/^kind:/s/^kind: \(.*\)$/kind: \1\nmetadatta: {name: typo}/' "$1" >"$bad"
if validate "$bad" >/dev/null 2>&1; then
    log "self-check failed: a manifest with an unknown field passed validation"
    exit 1
fi

log "Kubernetes $K8S_VERSION schemas, strict"
validate "$@"

# What the schemas cannot say about spark-job.yaml: its ConfigMap carries
# jobs/product-updates.job unchanged, and the unbounded run (`run` without
# `--until`) is a Deployment, whose pods are restarted whatever the exit code:
# in a Job, a pod that exits 0 after SIGTERM would count as completed.
if [ "$1" = "$ROOT/spark-job.yaml" ]; then
    "$ROOT/scripts/sync-configmap.sh" --check
    kinds=$(awk '/^kind: /{kind=$2} /args: \["run",/ && !/--until/ {print kind}' "$1" | sort -u)
    if [ "$kinds" != "Deployment" ]; then
        log "the streaming run (run without --until) must be a Deployment, not: ${kinds:-none}"
        exit 1
    fi
    log "streaming run is a Deployment"
fi
