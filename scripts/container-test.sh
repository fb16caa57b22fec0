#!/usr/bin/env bash
# The container image, built and run for real: builds the Dockerfile, runs
# the shipped job (jobs/product-updates.job, the ConfigMap's job) in it as
# the pods of spark-job.yaml run it, against this tree's test servers, and
# checks that it stores exactly what the host build stores and dead-letters
# the same records.
#
#   scripts/container-test.sh        (scripts/test.sh runs it; needs the
#                                     servers: scripts/servers.sh start)
#
# 1. Installs Debian's docker.io and debootstrap when missing.
# 2. Uses the running Docker daemon, or starts one of its own (socket, data
#    and state under run/docker/, stopped again at exit; image layers stay
#    there, so the next run builds from cache).  A daemon that does not
#    answer within 60 s fails the run.
# 3. No image registry is reachable from here: when debian:bookworm-slim is
#    not in the daemon, it is made with debootstrap (minbase, with the
#    official image's apt sources and dpkg excludes) and `docker import`.
#    The root file system is cached as .cache/container/debian-bookworm-slim.tar.
# 4. Builds the image with host networking (its stages install Debian
#    packages), the model taken from models/ (scripts/fetch-model.sh).
# 5. Produces 300 events (5% malformed, some deletes) to a fresh topic, runs
#    the job `--until caught-up` with the host build and in the image (as
#    user and group 10001, read-only root, all capabilities dropped, no new
#    privileges, /tmp a tmpfs, the job mounted where the ConfigMap is, host
#    network to reach the loopback servers), each into a collection and a
#    DLQ topic of its own, and compares the two.
# 6. Runs the job streaming in the image, as the Deployment's pod: its
#    liveness and readiness probes must answer 200, /metrics must serve,
#    and SIGTERM (docker stop) must end it with exit 0.
# Exits non-zero on any failure, a daemon that cannot start included.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

IMAGE=${RAGBATCH_TEST_IMAGE:-ragbatch:test}
BASE=debian:bookworm-slim
MIRROR=${RAGBATCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
run_dir=$ROOT/run/docker
base_tar=$ROOT/.cache/container/debian-bookworm-slim.tar

log() { printf 'container-test: %s\n' "$*"; }
fail() {
    printf 'container-test: FAIL: %s\n' "$*" >&2
    exit 1
}
now() { date +%s; }
t_start=$(now)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# 1. The engine and debootstrap.
missing=()
[ -x /usr/sbin/dockerd ] || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# docker.io's own client, which speaks its daemon's API version.
docker=/usr/bin/docker
[ -x "$docker" ] || docker=$(command -v docker) || fail "no docker client after installing docker.io"

# 2. A daemon: the system's, or one of our own.
started_daemon=0
stop_daemon() {
    if [ "$started_daemon" = 1 ] && [ -f "$run_dir/dockerd.pid" ]; then
        local pid
        pid=$(cat "$run_dir/dockerd.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        # The host network's namespace file stays mounted after the daemon;
        # unmounted, run/ can be removed.
        $SUDO umount "$run_dir/exec/netns/default" 2>/dev/null || true
    fi
}
cleanup_files=()
cleanup() {
    stop_daemon
    [ "${#cleanup_files[@]}" -eq 0 ] || rm -rf "${cleanup_files[@]}"
}
trap cleanup EXIT

if ! "$docker" info >/dev/null 2>&1; then
    export DOCKER_HOST=unix://$run_dir/docker.sock
    if ! "$docker" info >/dev/null 2>&1; then
        mkdir -p "$run_dir"
        log "starting dockerd (state in ${run_dir#"$ROOT"/})"
        # Host networking only: no bridge and no iptables rules, so the
        # daemon leaves the machine's network alone.
        $SUDO /usr/sbin/dockerd -H "$DOCKER_HOST" --data-root "$run_dir/data" \
            --exec-root "$run_dir/exec" --pidfile "$run_dir/dockerd.pid" \
            --iptables=false --ip-masq=false --bridge=none >"$run_dir/dockerd.log" 2>&1 &
        daemon_pid=$!
        started_daemon=1
        for _ in $(seq 1 120); do
            "$docker" info >/dev/null 2>&1 && break
            kill -0 "$daemon_pid" 2>/dev/null || break # it exited: no use waiting
            sleep 0.5
        done
        if ! "$docker" info >/dev/null 2>&1; then
            tail -n 20 "$run_dir/dockerd.log" >&2 || true
            fail "dockerd did not start or did not answer within 60 s" \
                "(log: ${run_dir#"$ROOT"/}/dockerd.log)"
        fi
    fi
fi
log "docker $("$docker" version -f '{{.Server.Version}}') ($("$docker" info -f '{{.Driver}}'))"

# 3. The base image.
if ! "$docker" image inspect "$BASE" >/dev/null 2>&1; then
    if [ ! -s "$base_tar" ]; then
        t=$(now)
        log "making $BASE with debootstrap from $MIRROR (once; cached as ${base_tar#"$ROOT"/})"
        mkdir -p "$(dirname "$base_tar")"
        rootfs=$(mktemp -d "${base_tar%.tar}.rootfs.XXXXXX")
        cleanup_files+=("$rootfs")
        $SUDO debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 ||
            { tail -n 20 "$rootfs.log" >&2; fail "debootstrap failed (log above)"; }
        rm -f "$rootfs.log"
        # What the official slim image does: the deb822 sources with updates
        # and security, no documentation or locales from later installs.
        rm -f "$rootfs/etc/apt/sources.list"
        cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: ${MIRROR}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
        cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EXCLUDES'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EXCLUDES
        find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
        rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/cache/apt/*.bin \
            "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
        tar --numeric-owner -C "$rootfs" -cf "$base_tar.tmp" .
        mv "$base_tar.tmp" "$base_tar"
        log "debootstrap took $(($(now) - t)) s ($(du -sh "$base_tar" | cut -f1))"
    fi
    "$docker" import --change 'CMD ["bash"]' "$base_tar" "$BASE" >/dev/null
    log "imported $BASE from ${base_tar#"$ROOT"/}"
fi

# 4. The image.  The context is the tree's files (tracked and new, not the
# ignored ones) and the model, symbolic links followed: models/ may be a
# link to a shared copy, which a plain `docker build .` would not follow.
[ -s models/all-MiniLM-L6-v2/model.safetensors ] || fail "no model: run scripts/fetch-model.sh"
commit=$(scripts/git-commit.sh "$ROOT")
t=$(now)
log "building $IMAGE (commit $commit)"
build_log=$ROOT/run/container-build.log
mkdir -p "$ROOT/run"
if ! { git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done
    printf '%s\0' models/all-MiniLM-L6-v2; } |
    tar --null -T - -chf - |
    "$docker" build --network host --build-arg RAGBATCH_COMMIT="$commit" -t "$IMAGE" - \
        >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    fail "docker build failed (log: ${build_log#"$ROOT"/})"
fi
build_s=$(($(now) - t))
size=$("$docker" image inspect -f '{{.Size}}' "$IMAGE")
log "built $IMAGE in $build_s s, $((size / 1000000)) MB"

# What the pods rely on, from the image's own metadata and files.
[ "$("$docker" image inspect -f '{{.Config.User}}' "$IMAGE")" = 10001:10001 ] ||
    fail "the image's user is not 10001:10001"
"$docker" image inspect -f '{{json .Config.ExposedPorts}}' "$IMAGE" | grep -q '"9400/tcp"' ||
    fail "the image does not expose 9400"
baked=$("$docker" run --rm --network none -e RAGBATCH_KAFKA_BOOTSTRAP=x:1 -e RAGBATCH_MONGO_URI=mongodb://x/ \
    "$IMAGE" check /etc/ragbatch/jobs/product-updates.job) || fail "the baked job does not check"
grep -qx 'metrics.port = 9400' <<<"$baked" || fail "the baked job does not set metrics.port = 9400"
"$docker" run --rm --network none "$IMAGE" --version | sed 's/^/container-test:   /'
"$docker" run --rm --network none "$IMAGE" --version | grep -qF "(commit $commit)" ||
    fail "the image's --version does not name commit $commit"
# A pod's CPU limit is a CFS quota: with one CPU of quota the process must
# count one CPU (its embedding threads' default), whatever the node has.
cpus=$("$docker" run --rm --network none --cpus 1 "$IMAGE" --version | sed -n 's/^cpus: //p')
case $cpus in
"1 "* | 1) log "with --cpus 1: cpus $cpus" ;;
*) fail "with --cpus 1 the image counts '$cpus' CPUs, not 1" ;;
esac

# 5. The shipped job, on the host and in the image.
[ -f run/servers.env ] || fail "no run/servers.env: start the servers (scripts/servers.sh start)"
# shellcheck source=/dev/null
source run/servers.env
if [ ! -x build/ragbatch ] || [ ! -x build/tests/tools/mongo_dump ]; then
    fail "build first (scripts/build.sh): build/ragbatch and build/tests/tools/mongo_dump"
fi
topic=ct-$(date +%s)-$$
db=ragbatch_container_test
scripts/kafka.sh create-topic "$topic" 3 >/dev/null
# Fixed seed and start time: the same events every run.
build/ragbatch generate --topic "$topic" --count 300 --products 120 --seed 15 \
    --malformed 0.05 --delete-share 0.05 --start-time 2026-11-01T00:00:00Z >/dev/null
# Each run its own group, collection and DLQ topic; metrics off on the host,
# on a free loopback port in the image (the endpoint must start with a
# read-only root).
sets() {
    printf '%s\n' --set "source.topics=$topic" --set "kafka.group.id=$topic-$1" \
        --set "mongo.database=$db" --set "mongo.collection=${topic//-/_}_$1" \
        --set "errors.deadletterqueue.topic.name=$topic-$1.dlq" \
        --set errors.deadletterqueue.topic.replication.factor=1
}
mapfile -t host_sets < <(sets host)
mapfile -t image_sets < <(sets image)
die() { fail "$@"; }
# shellcheck source=scripts/lib/server-helpers.sh
source "$ROOT/scripts/lib/server-helpers.sh"
port=$(free_port)

t=$(now)
timeout 300 build/ragbatch run jobs/product-updates.job --until caught-up "${host_sets[@]}" \
    --set metrics.port=0 >"$ROOT/run/container-host.log" 2>&1 ||
    { tail -n 20 "$ROOT/run/container-host.log" >&2; fail "the host run failed"; }
host_s=$(($(now) - t))
# OpenBLAS's kernel choice (OPENBLAS_CORETYPE and the like) changes the
# attention products' rounding: the image runs with the host's settings, as
# a pod would be given them, so that the vectors can match bit for bit.
openblas_env=()
while IFS= read -r name; do openblas_env+=(-e "$name"); done < <(compgen -e | grep '^OPENBLAS_' || true)
t=$(now)
# spark-job.yaml's pod: runAsUser/runAsGroup 10001, readOnlyRootFilesystem,
# capabilities drop ALL, allowPrivilegeEscalation false, /tmp an emptyDir,
# the ConfigMap at /etc/ragbatch/job, log.format=json in the args.
timeout 300 "$docker" run --rm --network host --user 10001:10001 --read-only \
    --tmpfs /tmp:size=64m --cap-drop ALL --security-opt no-new-privileges \
    -v "$ROOT/jobs/product-updates.job:/etc/ragbatch/job/product-updates.job:ro" \
    -e RAGBATCH_KAFKA_BOOTSTRAP -e RAGBATCH_MONGO_URI "${openblas_env[@]}" \
    "$IMAGE" run /etc/ragbatch/job/product-updates.job --until caught-up "${image_sets[@]}" \
    --set log.format=json --set metrics.address=127.0.0.1 --set "metrics.port=$port" \
    >"$ROOT/run/container-image.log" 2>&1 ||
    { tail -n 20 "$ROOT/run/container-image.log" >&2; fail "the run in the image failed"; }
image_s=$(($(now) - t))

dump() {
    build/tests/tools/mongo_dump "$RAGBATCH_MONGO_URI" "$db" "${topic//-/_}_$1" \
        --drop ingested_at --drop deleted_at --drop-collection
}
dlq() {
    kcat -C -b "$RAGBATCH_KAFKA_BOOTSTRAP" -t "$topic-$1.dlq" -e -q -f '%k\t%s\n' | sort
}
out=$(mktemp -d)
cleanup_files+=("$out")
dump host >"$out/host.jsonl"
dump image >"$out/image.jsonl"
dlq host >"$out/host.dlq"
dlq image >"$out/image.dlq"
docs=$(wc -l <"$out/host.jsonl")
dead=$(wc -l <"$out/host.dlq")
[ "$docs" -gt 50 ] || fail "the host run stored only $docs documents"
[ "$dead" -gt 0 ] || fail "the host run dead-lettered nothing (5% of the events are malformed)"
grep -q '"embedding"' "$out/host.jsonl" || fail "the stored documents have no embedding"
if ! diff -q "$out/host.jsonl" "$out/image.jsonl" >/dev/null ||
    ! diff -q "$out/host.dlq" "$out/image.dlq" >/dev/null; then
    rm -rf "$ROOT/run/container-diff"
    cp -r "$out" "$ROOT/run/container-diff"
    # The differing fields of the first differing document, one a line.
    first=$(cmp "$out/host.jsonl" "$out/image.jsonl" 2>/dev/null | sed -nE 's/.* line ([0-9]+)$/\1/p' || true)
    if [ -n "$first" ]; then
        diff <(sed -n "${first}p" "$out/host.jsonl" | sed 's/, "/\n"/g') \
            <(sed -n "${first}p" "$out/image.jsonl" | sed 's/, "/\n"/g') | cut -c1-300 | head -n 20 >&2
    fi
    fail "the image stored or dead-lettered other records than the host build" \
        "(both in run/container-diff/)"
fi
log "host and image stored the same $docs documents (vectors bit for bit) and dead-lettered the same $dead records"

# 6. The streaming pod as Kubernetes sees it: the same settings, no --until.
# Its liveness probe (/healthz) must answer, its readiness probe (/readyz)
# must turn ready once Kafka and MongoDB are reached, /metrics must serve
# the job's families, and `docker stop` (SIGTERM to PID 1, as the kubelet
# sends on eviction or a rollout) must end it with exit 0 well inside its
# grace period.  Every wait is bounded.
name=ragbatch-probe-$$
probe_port=$(free_port)
mapfile -t probe_sets < <(sets probe)
"$docker" rm -f "$name" >/dev/null 2>&1 || true
"$docker" run -d --name "$name" --network host --user 10001:10001 --read-only \
    --tmpfs /tmp:size=64m --cap-drop ALL --security-opt no-new-privileges \
    -v "$ROOT/jobs/product-updates.job:/etc/ragbatch/job/product-updates.job:ro" \
    -e RAGBATCH_KAFKA_BOOTSTRAP -e RAGBATCH_MONGO_URI "${openblas_env[@]}" \
    "$IMAGE" run /etc/ragbatch/job/product-updates.job "${probe_sets[@]}" \
    --set log.format=json --set metrics.address=127.0.0.1 --set "metrics.port=$probe_port" >/dev/null ||
    fail "the streaming pod's container did not start"
probe_fail() {
    "$docker" logs "$name" 2>&1 | tail -n 20 >&2
    "$docker" rm -f "$name" >/dev/null 2>&1 || true
    fail "$@"
}
# The status code of GET $1 on the pod's metrics port ("000": no answer).
http_code() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$probe_port$1" || true
}
# Waits up to $2 s for GET $1 to answer 200.
wait_200() {
    local deadline=$(($(now) + $2)) code
    while :; do
        code=$(http_code "$1")
        [ "$code" = 200 ] && return 0
        [ "$("$docker" inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ] ||
            probe_fail "the streaming pod exited while $1 answered $code"
        [ "$(now)" -lt "$deadline" ] || probe_fail "$1 did not answer 200 within $2 s (last: $code)"
        sleep 0.5
    done
}
t=$(now)
wait_200 /healthz 60
wait_200 /readyz 90
ready_s=$(($(now) - t))
# The lag gauges appear once the group's offsets and the end offsets have
# been read for the assigned partitions (a few seconds after the start).
deadline=$(($(now) + 30))
while :; do
    metrics=$(curl -sf --max-time 3 "http://127.0.0.1:$probe_port/metrics") ||
        probe_fail "/metrics did not answer"
    grep -q '^ragbatch_consumer_lag{' <<<"$metrics" && break
    [ "$(now)" -lt "$deadline" ] || probe_fail "/metrics has no ragbatch_consumer_lag after 30 s"
    sleep 0.5
done
grep -q '^ragbatch_embedder_info{' <<<"$metrics" || probe_fail "/metrics has no ragbatch_embedder_info"
[ "$(http_code /nothing)" = 404 ] || probe_fail "an unknown path did not answer 404"
# spark-job.yaml gives the pod terminationGracePeriodSeconds 60; docker
# stop waits that long before SIGKILL, which would show as exit 137.
t=$(now)
"$docker" stop -t 60 "$name" >/dev/null || probe_fail "docker stop failed"
stop_s=$(($(now) - t))
code=$("$docker" inspect -f '{{.State.ExitCode}}' "$name")
"$docker" logs "$name" >"$ROOT/run/container-probe.log" 2>&1 || true
"$docker" rm -f "$name" >/dev/null 2>&1 || true
[ "$code" = 0 ] || { tail -n 20 "$ROOT/run/container-probe.log" >&2; fail "SIGTERM ended the streaming pod with exit $code, not 0"; }
grep -q '"event.action":"finished"' "$ROOT/run/container-probe.log" ||
    { tail -n 20 "$ROOT/run/container-probe.log" >&2; fail "the streaming pod did not log its finished line on SIGTERM"; }
log "streaming pod: /healthz and /readyz 200 after $ready_s s, /metrics served; SIGTERM: exit 0 in $stop_s s"
log "runs: host $host_s s, image $image_s s; build $build_s s; total $(($(now) - t_start)) s"
