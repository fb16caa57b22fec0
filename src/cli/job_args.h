/*
 * job_args.h -- loading a job for a verb: the job file, then the
 * `--set KEY=VALUE` overrides, then the checks.  Errors are printed to
 * stderr with the file, line and key.
 */
#ifndef RB_CLI_JOB_ARGS_H
#define RB_CLI_JOB_ARGS_H

#include "config/config.h"

#include <stddef.h>

/* Returns 0, or the exit status to leave with (2: configuration error).
 * `cfg` is initialised in every case; the caller frees it. */
int rb_cli_load_job(const char *path, char *const *sets, size_t nsets, rb_job_config *cfg);

#endif
