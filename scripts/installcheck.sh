#!/usr/bin/env bash
# `make installcheck` (also run by `make distcheck`): the installed tree is
# usable as installed.  The sample job passes `ragbatch check` and resolves,
# through its relative include, to the installed schema and model; the model
# loads and embeds; ragbatch(1) renders without a warning; the installed
# bash completion completes a verb with the installed binary.
#
#   scripts/installcheck.sh BINARY JOBFILE MANPAGE CONFDIR MODELDIR COMPLETION
set -euo pipefail

bin=$1 job=$2 page=$3 confdir=$4 model=$5 completion=$6
fail() { echo "installcheck: $*" >&2; exit 1; }

"$bin" --version >/dev/null || fail "$bin --version failed"
# check does not connect; the servers' variables only have to be set.
out=$(RAGBATCH_KAFKA_BOOTSTRAP=127.0.0.1:9 RAGBATCH_MONGO_URI=mongodb://127.0.0.1:9/ \
    "$bin" check "$job") || fail "ragbatch check $job failed: $out"
value() { sed -n "s/^$1 = //p" <<<"$out"; }
[ "$(value embed.model.dir)" = "$model" ] ||
    fail "the installed job's model is '$(value embed.model.dir)', not $model"
schema=$(value schema.file)
[ "$(readlink -f "$schema")" = "$(readlink -f "$confdir/product_schema.json")" ] ||
    fail "the installed job's schema is $schema, not $confdir/product_schema.json"
[ -f "$schema" ] || fail "schema $schema is not installed"
vec=$("$bin" embed --model "$model" --threads 1 "a warm jacket") ||
    fail "the installed model $model does not embed"
grep -q '"dim":384' <<<"$vec" || fail "unexpected embedding: ${vec:0:200}"
# Every groff warning but the layout ones: a long installed path may not fit
# a line of the terminal's width.
warnings=$(man --warnings -l "$page" 2>&1 >/dev/null) || fail "man $page failed: $warnings"
warnings=$(grep -vE "can't break line|cannot adjust line" <<<"$warnings" || true)
[ -z "$warnings" ] || fail "ragbatch(1) has warnings: $warnings"
grep -q '^\.SS dlq$' "$page" || fail "ragbatch(1) lacks the dlq verb"
# shellcheck disable=SC2016 # expanded by the inner bash
got=$(bash --noprofile --norc -c 'source "$0" && COMP_WORDS=("$1" che) && COMP_CWORD=1 &&
    _ragbatch && printf "%s\n" "${COMPREPLY[@]}"' "$completion" "$bin") ||
    fail "the installed completion $completion failed"
[ "$got" = check ] || fail "the installed completion offers '$got' for 'ragbatch che', not check"
echo "installcheck: the installed job checks, names the installed schema and model; the model embeds; completion works"
