#!/usr/bin/env bash
# Writes ragbatch(1), in roff, to standard output, from the binary's own
# help: the verb list of `ragbatch --help`, each verb's `VERB --help`, every
# job key of `ragbatch config`, and `ragbatch --version`.  The Makefile runs
# it after building the binary, so the page cannot drift from the help.
#
#   scripts/gen-man.sh BINARY [SYSCONFDIR PKGDATADIR]
#
# SYSCONFDIR and PKGDATADIR name the installed files in FILES (default
# /usr/local/etc and /usr/local/share/ragbatch).
set -euo pipefail

bin=${1:?usage: gen-man.sh BINARY [SYSCONFDIR PKGDATADIR]}
sysconfdir=${2:-/usr/local/etc}
pkgdatadir=${3:-/usr/local/share/ragbatch}

# roff-safe text: backslashes escaped, and a line that starts with . or '
# (a request to roff) guarded with \&.
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
# Preformatted text, as the binary prints it.
pre() { printf '.nf\n'; esc; printf '.fi\n'; }

version=$("$bin" --version | head -n 1 | sed -E 's/^ragbatch ([^ ]+).*/\1/')
# The verbs: the indented lines of the top-level help, "  NAME  summary".
mapfile -t verbs < <("$bin" --help | sed -nE 's/^  ([a-z]+) +.*/\1/p' | grep -vx version)
[ "${#verbs[@]}" -gt 0 ] || { echo "gen-man: no verbs in '$bin --help'" >&2; exit 1; }

cat <<ROFF
.TH RAGBATCH 1 "" "ragbatch $version" "User Commands"
.\" Left-aligned, no hyphenation: paths and key names are long words.
.ad l
.nh
.SH NAME
ragbatch \\- near-real-time RAG ingestion: Kafka micro-batches to embeddings in MongoDB
.SH SYNOPSIS
.B ragbatch
.I VERB
.RI [ options ]
.br
.B ragbatch
.IR VERB " \\-\\-help"
.br
.B ragbatch \\-\\-version
.SH DESCRIPTION
ragbatch reads events from Kafka in fixed-interval micro-batches, checks each
against a JSON Schema, renders it into a text, embeds the text in-process with
a BERT-class model and stores document and vector in MongoDB with one bulk
write per batch.  Kafka offsets are committed only after MongoDB has
acknowledged the batch.  A job is a java.util.Properties file (see
.B JOB KEYS
below); relative paths in it are relative to the file.
.PP
ROFF
"$bin" --help | pre
printf '.SH VERBS\n'
for v in "${verbs[@]}"; do
    printf '.SS %s\n' "$v"
    "$bin" "$v" --help | pre
done
printf '.SS version\n.nf\n'
printf 'ragbatch version, ragbatch \\-\\-version: the release and commit, the\n'
printf 'libraries in use and the embedding kernel chosen for this CPU.\n.fi\n'
cat <<ROFF
.SH JOB KEYS
Every key a job file may set, with its type, default and meaning, as
.B ragbatch config
lists them.
.PP
ROFF
"$bin" config | pre
cat <<ROFF
.SH ENVIRONMENT
Job files refer to secrets as \${NAME} or \${env:NAME}; the shipped jobs read
.B RAGBATCH_KAFKA_BOOTSTRAP
and
.BR RAGBATCH_MONGO_URI .
.SH FILES
.TP
.I $sysconfdir/ragbatch/jobs/product-updates.job
the sample job (also the job of the Kubernetes manifests and of the container image)
.TP
.I $sysconfdir/ragbatch/conf/defaults.conf
defaults every sample job includes, among them the installed model's directory
.TP
.I $sysconfdir/ragbatch/conf/product_schema.json
the sample job's JSON Schema
.TP
.I $pkgdatadir/models/all-MiniLM-L6-v2
the default embedding model
.TP
.I $pkgdatadir/deploy
Prometheus alert rules, a Grafana dashboard and Kubernetes manifests
.SH EXIT STATUS
0 done (also after SIGTERM or SIGINT), 1 the job failed (the last log line
says why), 2 a usage or configuration error.
.SH LICENSE
Apache License 2.0.
.SH SEE ALSO
.BR kafka-console-consumer (1),
.BR mongosh (1)
ROFF
