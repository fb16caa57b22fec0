/*
 * promtool.h -- Prometheus's own linter on a /metrics exposition: `promtool
 * check metrics` (Debian's prometheus package) reads the text and any
 * complaint fails the test.  A missing promtool fails it too, never skips.
 */
#ifndef RB_TEST_PROMTOOL_H
#define RB_TEST_PROMTOOL_H

/* Fails the running test unless promtool accepts `exposition` as it is. */
void promtool_check(const char *exposition);

#endif
