/*
 * expo.h -- what the suites use to check the metrics endpoint: a parser of
 * the Prometheus text exposition format 0.0.4 that fails the running Check
 * test on any malformed line, lookups of samples by name and labels, and a
 * one-shot HTTP GET against a loopback port.
 *
 * An expo is large (fixed arrays): allocate it.  Label values are stored
 * unescaped.  The parser checks: HELP/TYPE syntax, known types, metric and
 * label name syntax, label value escapes (\\ \" \n), a value Prometheus can
 * read (+Inf, -Inf, NaN or a float), every sample after its family's TYPE
 * line, and a final newline.
 */
#ifndef RB_TEST_EXPO_H
#define RB_TEST_EXPO_H

#include <stddef.h>

#define EXPO_MAX_SAMPLES 512

typedef struct expo_sample {
    char name[128];
    int nlabels;
    char lname[6][32];
    char lvalue[6][128];
    double value;
} expo_sample;

typedef struct expo {
    expo_sample s[EXPO_MAX_SAMPLES];
    int n;
    char types[32][2][128]; /* family name, type */
    int ntypes;
} expo;

/* Parses `text` into `e`; a malformed line fails the current test. */
void expo_parse(const char *text, expo *e);

/* A sample value: +Inf, -Inf, NaN or a float; anything else fails. */
double expo_value(const char *p);

/* The value of label `name` of `s`, or NULL. */
const char *expo_label(const expo_sample *s, const char *name);

/* The first sample `name` whose labels include l1=v1 (and l2=v2 when l2 is
 * not NULL): returns 1 and its value in *out, or 0. */
int expo_find(const expo *e, const char *name, const char *l1, const char *v1, const char *l2,
              const char *v2, double *out);

/* GET `path` from 127.0.0.1:`port` (HTTP/1.1, Connection: close).  Returns
 * the status, the body (malloc'd, NUL-terminated) in *body; -1 when the
 * connection fails (the server may not be up yet), *body then NULL. */
int expo_http_get(int port, const char *path, char **body);

#endif
