#!/usr/bin/env bash
# Prints the commit a build of the tree at SRCDIR (default: this script's
# repository) is made from, for `ragbatch --version`: $RAGBATCH_COMMIT if set
# (a container build, whose context has no .git), else the .commit file a
# release tarball carries (`make dist` writes it), else `git rev-parse` with
# "-dirty" when tracked files differ from it, else "unknown".
set -euo pipefail

src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
if [ -n "${RAGBATCH_COMMIT:-}" ]; then
    printf '%s\n' "$RAGBATCH_COMMIT"
elif [ -f "$src/.commit" ]; then
    head -n 1 "$src/.commit"
elif commit=$(git -C "$src" rev-parse --short=12 HEAD 2>/dev/null); then
    if ! git -C "$src" diff --quiet HEAD -- 2>/dev/null; then commit=$commit-dirty; fi
    printf '%s\n' "$commit"
else
    echo unknown
fi
