#!/usr/bin/env bash
# Installs what building and testing ragbatch needs on Debian 12: the C
# toolchain and -dev libraries, valgrind, clang with its libFuzzer runtime
# (scripts/fuzz.sh), clang-format and shellcheck (scripts/check-style.sh), kcat (used only by scripts and
# tests to check the Kafka broker), and the java/javac/mvn/go/python3 tools
# that scripts/kafka.sh, scripts/mongo.sh and scripts/mongo-java.sh use to
# fetch, build and run the test servers.
# Idempotent: packages already installed are skipped, and `apt-get update`
# runs at most once, only when something is missing. Needs root (or sudo)
# when something has to be installed.
#
#   scripts/install-deps.sh               build and test dependencies
#   scripts/install-deps.sh --build-only  only what compiling ragbatch needs
#                                         (the Dockerfile's build stage), so
#                                         the image and the tests share one list
set -euo pipefail

build_only=0
case "${1:-}" in
    "") ;;
    --build-only) build_only=1 ;;
    *) printf 'usage: %s [--build-only]\n' "$0" >&2; exit 2 ;;
esac

log() { printf 'install-deps: %s\n' "$*"; }

# Build dependencies, all from Debian.
PKGS=(build-essential autoconf automake libtool pkg-config
      librdkafka-dev libmongoc-dev libbson-dev
      libcurl4-openssl-dev libssl-dev libopenblas-dev libutf8proc-dev
      libavro-dev  # Avro values from the Schema Registry (src/avro)
      libpcre2-dev) # JSON Schema patterns, Unicode-correct (src/validate/schema_pattern.c)
# Test-only dependencies (configure builds the Check suites only when check
# is present).
if [ "$build_only" -eq 0 ]; then
    # postgresql: the change-data-capture suite's database (scripts/postgres.sh);
    # curl: scripts/connect.sh talks to Kafka Connect's REST API with it.
    # json-schema-test-suite: the official JSON Schema cases (tests/check_schema_suite.c).
    PKGS+=(check valgrind clang libclang-rt-14-dev clang-format shellcheck postgresql curl
           json-schema-test-suite)
    # prometheus: its promtool checks the /metrics exposition (tests/check_metrics.c)
    # and checks and unit-tests deploy/'s alert rules and the dashboard's
    # queries (tests/check_monitoring).
    PKGS+=(prometheus)
    # docker.io, debootstrap: scripts/container-test.sh builds the image and
    # makes its Debian base (no image registry is reachable).
    PKGS+=(docker.io debootstrap)
fi

is_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

updated=0
apt_update_once() {
    if [ "$updated" -eq 0 ]; then
        log "running apt-get update"
        $SUDO apt-get update -qq
        updated=1
    fi
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

missing=()
for p in "${PKGS[@]}"; do
    is_installed "$p" || missing+=("$p")
done

# Everything below is for the tests and the test servers.
if [ "$build_only" -eq 1 ]; then
    if [ "${#missing[@]}" -eq 0 ]; then
        log "all build packages already installed"
    else
        apt_update_once
        log "installing (build only): ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    log "librdkafka: $(pkg-config --modversion rdkafka), libmongoc: $(pkg-config --modversion libmongoc-1.0)"
    log "done (build only)"
    exit 0
fi

# kcat was called kafkacat before; Debian 12 has both names (kafkacat is the
# older name for the same tool). Either binary is fine for the checks.
if ! command -v kcat >/dev/null 2>&1 && ! command -v kafkacat >/dev/null 2>&1; then
    apt_update_once
    if apt-cache show kcat >/dev/null 2>&1; then
        missing+=(kcat)
    else
        missing+=(kafkacat)
    fi
fi

# Tools that may come from elsewhere (e.g. Go from go.dev in /usr/local/go):
# only install the Debian package when the command is absent.
# javac too: scripts/mongo-java.sh compiles its server's main class.
if ! command -v java >/dev/null 2>&1 || ! command -v javac >/dev/null 2>&1; then
    missing+=(default-jdk-headless)
fi
if ! command -v mvn >/dev/null 2>&1; then missing+=(maven); fi
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
    # Debian 12's golang is 1.19; FerretDB's go.mod asks for a newer
    # toolchain, which the go command then fetches from the Go module proxy.
    missing+=(golang)
fi
if ! command -v python3 >/dev/null 2>&1; then missing+=(python3); fi

if [ "${#missing[@]}" -eq 0 ]; then
    log "all packages already installed"
else
    apt_update_once
    log "installing: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Report the versions the rest of the scripts will use.
gobin=$(command -v go || echo /usr/local/go/bin/go)
log "java: $(java -version 2>&1 | head -n1)"
log "mvn: $(mvn -v 2>/dev/null | head -n1 | sed 's/\x1b\[[0-9;]*m//g')"
log "go: $("$gobin" version)"
log "python3: $(python3 --version 2>&1)"
log "librdkafka: $(pkg-config --modversion rdkafka), libmongoc: $(pkg-config --modversion libmongoc-1.0)"
log "done"
