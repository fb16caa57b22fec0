/*
 * decode_opts.h -- the decode stage's options from a job's configuration:
 * source.value.format and document.id.* onto rb_decode_opts, as
 * embed_opts.h does for the embedder.  The decoder (src/decode) takes
 * only rb_decode_opts.
 */
#ifndef RB_RUNNER_DECODE_OPTS_H
#define RB_RUNNER_DECODE_OPTS_H

#include "config/config.h"
#include "decode/decode.h"

/* Fills `out` from `cfg`.  The strings stay `cfg`'s: `out` (and a spec
 * built from it) is valid while `cfg` is. */
void rb_runner_decode_opts(const rb_job_config *cfg, rb_decode_opts *out);

#endif
