/*
 * scrape.h -- reading a running job's /metrics from outside (`ragbatch
 * status`): one bounded HTTP GET, and the value of a sample picked out of
 * the text exposition by name and labels.
 *
 * The parser reads what metrics.c renders (format 0.0.4): one sample per
 * line, `name{label="value",...} number`, comments skipped.  It matches
 * label pairs as written, `outcome="stored"`, so a value with escapes must
 * be given escaped.
 *
 * Failures of the GET are RB_ERR_HTTP errors naming the URL and curl's
 * reason (retriable: the job may be starting).  *body is the caller's
 * (free()).
 */
#ifndef RB_METRICS_SCRAPE_H
#define RB_METRICS_SCRAPE_H

#include "common/error.h"

#include <stdbool.h>
#include <stddef.h>

/* GETs `url` within `timeout_ms`; a status other than 200 is an error. */
int rb_metrics_scrape(const char *url, long timeout_ms, char **body, rb_error *err);

/* The value of the first sample of family `name` whose labels include
 * every pair of `labels` (`nlabels` strings like `job="x"`); false when
 * there is none. */
bool rb_metrics_sample(const char *body, const char *name, const char *const *labels,
                       size_t nlabels, double *out);

#endif
