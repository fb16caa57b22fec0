/*
 * stage_fixture.h -- a runner whose stages unit suites drive one at a time
 * (check_decode, check_avro): the job defaults, a log kept in memory, the
 * product schema (or none), the "{name}" template, the document spec the
 * defaults give, and an empty batch.  A suite changes what it needs after
 * stage_fixture_open (the spec, the decode spec, a registry); close frees
 * those too.  Failures fail the calling Check test.
 */
#ifndef RB_TEST_STAGE_FIXTURE_H
#define RB_TEST_STAGE_FIXTURE_H

#include "batch/batch.h"
#include "config/config.h"
#include "runner/runner_internal.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct stage_fixture {
    rb_job_config cfg;
    rb_runner_opts opts;
    volatile sig_atomic_t stop;
    rb_runner r;
    rb_batch *b;
    char *log_mem;
    size_t log_size;
    FILE *log_out;
} stage_fixture;

/* `tolerate`: errors.tolerance = all; `with_schema`: the product schema
 * (conf/product_schema.json) validates. */
void stage_fixture_open(stage_fixture *f, bool tolerate, bool with_schema);

/* The log written so far (owned by the fixture). */
const char *stage_fixture_log(stage_fixture *f);

void stage_fixture_close(stage_fixture *f);

#endif
