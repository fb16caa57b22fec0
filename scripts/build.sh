#!/usr/bin/env bash
# Builds ragbatch out of tree.
#
#   scripts/build.sh                 release build in build/
#   scripts/build.sh --sanitizers    AddressSanitizer + UBSan build in build-asan/
#
# Re-running is cheap: configure runs only when the build directory has no
# Makefile (or configure.ac changed), then make rebuilds what changed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$ROOT/build
flags=()
if [ "${1:-}" = "--sanitizers" ]; then
    dir=$ROOT/build-asan
    flags+=(--enable-sanitizers)
fi

cd "$ROOT"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    echo "build: autoreconf -fi"
    autoreconf -fi >/dev/null
fi
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$ROOT/configure" -nt Makefile ]; then
    echo "build: configuring $dir ${flags[*]:-}"
    "$ROOT/configure" -q "${flags[@]}"
fi
echo "build: make in $dir"
make -j"$(nproc)" >/dev/null
echo "build: $dir/ragbatch"
