/*
 * embed_opts.h -- the embed stage's options from a job's configuration:
 * the one mapping of the embed.* keys onto rb_embed_opts, for the runner
 * and the verbs that embed or size vectors as a job would (search, index).
 *
 * The embedder (src/embed) takes only rb_embed_opts, as the sink, the
 * source and the DLQ take their own options structs; the configuration's
 * enums (embed.provider back to its name) and defaults end here.
 */
#ifndef RB_RUNNER_EMBED_OPTS_H
#define RB_RUNNER_EMBED_OPTS_H

#include "config/config.h"
#include "embed/embedder.h"

/* Fills `out` from `cfg`.  The strings stay `cfg`'s: `out` is valid while
 * `cfg` is. */
void rb_runner_embed_opts(const rb_job_config *cfg, rb_embed_opts *out);

/* Sets a job's embed.prefix.document or embed.prefix.query on `e`: the
 * value and one space (configuration values are trimmed, and every model
 * that wants a prefix -- e5's "passage:", bge's instruction -- wants it
 * followed by a space); empty: none. */
int rb_runner_embed_prefix(rb_embedder *e, const char *value, rb_error *err);

/* Fills `out` with the defaults of the embed.* keys, as the key table has
 * them, for the programs that drive an HTTP embedder without a job (the
 * benches, tests).  The strings are NULL (provider, url, model, ...): the
 * caller sets them.  Fails only when memory runs out. */
int rb_runner_http_embed_defaults(rb_http_embed_opts *out, rb_error *err);

#endif
