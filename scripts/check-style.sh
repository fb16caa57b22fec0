#!/usr/bin/env bash
# The style checks of the suite (scripts/test.sh runs them; so can you):
#
#   1. every C file of the tree (src/, tests/, bench/) is as clang-format
#      formats it with the root .clang-format;
#   2. shellcheck finds nothing in scripts/, bench/ and completion/;
#   3. no banned C library call in src/ or tests/: the ones that write
#      without a bound (strcpy, strcat, sprintf, vsprintf, gets, stpcpy),
#      that keep hidden state (strtok), that cannot report a bad number
#      (atoi, atol, atoll, atof), or that are unsafe by design (tmpnam,
#      tempnam, mktemp, alloca).  Use snprintf/rb_buf, memcpy with a known
#      length, strtok_r or a hand-written split, strtol/strtod with an end
#      pointer, mkstemp/mkdtemp;
#   4. the verbs (src/cli/) include no librdkafka header: every Kafka client
#      is made by src/kafka (its config.h, producer.h and errors.h need no
#      librdkafka type), so that one layer sets and checks every property.
#
#   scripts/check-style.sh          all four; exits 1 if any finds something
#   scripts/check-style.sh --fix    reformat the C files in place first
#
# Needs clang-format and shellcheck (scripts/install-deps.sh).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

fix=0
case "${1:-}" in
    "") ;;
    --fix) fix=1 ;;
    *) printf 'usage: %s [--fix]\n' "$0" >&2; exit 2 ;;
esac

for tool in clang-format shellcheck; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "check-style: $tool not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

# The tracked files when this is a git checkout (a build tree or scratch
# file is not ours to judge), else every file under the directories.
list() { # list PATTERN DIR...
    local pattern=$1
    shift
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -- "$@" | grep -E "$pattern" || true
    else
        find "$@" -type f | grep -E "$pattern" || true
    fi
}

status=0

# 1. clang-format
mapfile -t c_files < <(list '\.[ch]$' src tests bench)
if [ "$fix" -eq 1 ]; then clang-format -i "${c_files[@]}"; fi
unformatted=()
for f in "${c_files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if [ "${#unformatted[@]}" -gt 0 ]; then
    echo "check-style: ${#unformatted[@]} C files are not clang-formatted" \
        "(scripts/check-style.sh --fix, or clang-format -i FILE):" >&2
    printf '  %s\n' "${unformatted[@]}" >&2
    status=1
fi

# 2. shellcheck: the .sh files and the extensionless scripts with a shell
# shebang, and the bash completion.
mapfile -t candidates < <(list '' scripts bench completion)
shell_files=()
for f in "${candidates[@]}"; do
    case "$f" in
    *.sh | *.bash) shell_files+=("$f") ;;
    *.*) ;;
    *) head -n 1 "$f" | grep -qE '^#!.*\b(ba)?sh\b' && shell_files+=("$f") ;;
    esac
done
if ! shellcheck -x "${shell_files[@]}"; then
    echo "check-style: shellcheck findings above" >&2
    status=1
fi

# 3. banned calls.  A call is the name followed by '('; snprintf, strtok_r
# and mkstemp do not match.
banned='strcpy|strcat|sprintf|vsprintf|gets|stpcpy|strtok|atoi|atol|atoll|atof|tmpnam|tempnam|mktemp|alloca'
mapfile -t code < <(list '\.[ch]$' src tests)
if grep -nHE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\(" "${code[@]}" >&2; then
    echo "check-style: banned calls above (see the top of scripts/check-style.sh for what to use)" >&2
    status=1
fi

# 4. the Kafka client layer is the only way to a client.
mapfile -t cli < <(list '\.[ch]$' src/cli)
if grep -nHE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]librdkafka/' "${cli[@]}" >&2; then
    echo "check-style: src/cli includes librdkafka above; go through src/kafka" >&2
    status=1
fi

[ "$status" -eq 0 ] && echo "check-style: ok (${#c_files[@]} C files, ${#shell_files[@]} shell scripts)"
exit "$status"
