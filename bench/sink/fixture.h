/*
 * fixture.h -- the product document the sink benchmarks write
 * (bench/sink/flat.c, bench/sink/probe.c, bench/spark/floor.c): the demo
 * job's event, its rendered text and text hash, the metadata fields the job
 * copies, and the clean-up of databases a run left behind.  Bench code, not
 * part of the product.
 */
#ifndef RB_BENCH_SINK_FIXTURE_H
#define RB_BENCH_SINK_FIXTURE_H

#include "json/json.h"
#include "sink/sink.h"

#define BENCH_DIM 384  /* all-MiniLM-L6-v2's vector size */
#define BENCH_N_META 8 /* metadata fields, as the demo job copies them */

extern const char bench_event[];     /* the event, JSON */
extern const char bench_text[];      /* its rendered text */
extern const char bench_text_hash[]; /* a SHA-256 in hex, as the runner stores */

/* Parses bench_event into *doc (the caller destroys it) and points
 * meta[0..BENCH_N_META) at its metadata fields.  Exits on failure. */
void bench_fixture_meta(rb_json_doc **doc, rb_sink_meta meta[BENCH_N_META]);

/* Drops every database of `uri` whose name starts with `prefix` (runs
 * that did not finish), printing each; returns 0, exits on failure. */
int bench_drop_databases(const char *uri, const char *prefix);

#endif
