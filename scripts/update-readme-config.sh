#!/usr/bin/env bash
# Rewrites the configuration reference table in README.md from the key table
# (`ragbatch config --markdown`); check_config fails while they differ.
#   scripts/update-readme-config.sh [RAGBATCH_BINARY]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build/ragbatch}
table=$(mktemp)
trap 'rm -f "$table"' EXIT
"$BIN" config --markdown >"$table"
python3 - "$ROOT/README.md" "$table" <<'PY'
import sys
readme, table = sys.argv[1], open(sys.argv[2]).read()
lines = open(readme).read().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("| key | type | default |"))
end = start
while end < len(lines) and lines[end].startswith("|"):
    end += 1
out = lines[:start] + table.rstrip("\n").split("\n") + lines[end:]
open(readme, "w").write("\n".join(out))
PY
echo "README.md: configuration reference updated"
