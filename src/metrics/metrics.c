/*
 * metrics.c -- the registry and its text rendering.  Families and series
 * are small arrays searched linearly: a job has about ten families and a
 * few dozen series, updated once per batch.
 */
#include "metrics/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rb_metric_series {
    char *values[RB_METRICS_MAX_LABELS];
    double value;                      /* counter, gauge; histogram: sum */
    unsigned long long count;          /* histogram observations */
    unsigned long long *bucket_counts; /* histogram: per bucket, not cumulative */
} rb_metric_series;

typedef struct rb_metric_family {
    char *name;
    char *help;
    rb_metric_type type;
    char *labels[RB_METRICS_MAX_LABELS];
    size_t nlabels;
    double buckets[RB_METRICS_MAX_BUCKETS];
    size_t nbuckets;
    rb_metric_series *series;
    size_t nseries, cap;
} rb_metric_family;

struct rb_metrics {
    pthread_mutex_t lock;
    rb_metric_family *families;
    size_t nfamilies, cap;
};

rb_metrics *rb_metrics_new(rb_error *err) {
    rb_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        rb_error_nomem(err, RB_STAGE_NONE, "metrics registry");
        return NULL;
    }
    if (pthread_mutex_init(&m->lock, NULL) != 0) {
        free(m);
        rb_error_set(err, RB_ERR_INTERNAL, RB_STAGE_NONE, "metrics: cannot create a mutex");
        return NULL;
    }
    return m;
}

static void family_free(rb_metric_family *f) {
    for (size_t i = 0; i < f->nseries; i++) {
        for (size_t j = 0; j < f->nlabels; j++) free(f->series[i].values[j]);
        free(f->series[i].bucket_counts);
    }
    free(f->series);
    for (size_t j = 0; j < f->nlabels; j++) free(f->labels[j]);
    free(f->name);
    free(f->help);
}

void rb_metrics_destroy(rb_metrics *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nfamilies; i++) family_free(&m->families[i]);
    free(m->families);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* (metric names); labels may not use ':'. */
static int valid_name(const char *s, int colon) {
    if (!s || !*s) return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return 0;
    }
    return 1;
}

static rb_metric_family *find_family(rb_metrics *m, const char *name) {
    for (size_t i = 0; i < m->nfamilies; i++)
        if (strcmp(m->families[i].name, name) == 0) return &m->families[i];
    return NULL;
}

static int declare_locked(rb_metrics *m, const char *name, rb_metric_type type, const char *help,
                          const char *const *labels, size_t nlabels, const double *buckets,
                          size_t nbuckets, rb_error *err) {
    if (!valid_name(name, 1))
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: bad metric name '%s'",
                            name ? name : "(null)");
    if (find_family(m, name))
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: %s declared twice", name);
    if (nlabels > RB_METRICS_MAX_LABELS)
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: %s has more than %d labels",
                            name, RB_METRICS_MAX_LABELS);
    for (size_t i = 0; i < nlabels; i++)
        if (!valid_name(labels[i], 0) || strcmp(labels[i], "le") == 0 ||
            strncmp(labels[i], "__", 2) == 0)
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: %s: bad label name '%s'",
                                name, labels[i] ? labels[i] : "(null)");
    if (type == RB_METRIC_HISTOGRAM) {
        if (nbuckets == 0 || nbuckets > RB_METRICS_MAX_BUCKETS)
            return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                                "metrics: %s needs 1 to %d buckets", name, RB_METRICS_MAX_BUCKETS);
        for (size_t i = 0; i < nbuckets; i++)
            if (!isfinite(buckets[i]) || (i > 0 && buckets[i] <= buckets[i - 1]))
                return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE,
                                    "metrics: %s: buckets must be finite and increasing", name);
    } else {
        nbuckets = 0;
    }
    if (m->nfamilies == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        rb_metric_family *f = realloc(m->families, cap * sizeof *f);
        if (!f) return rb_error_nomem(err, RB_STAGE_NONE, "metric family");
        m->families = f;
        m->cap = cap;
    }
    rb_metric_family f = {0};
    f.type = type;
    f.nlabels = nlabels;
    f.nbuckets = nbuckets;
    f.name = strdup(name);
    f.help = strdup(help ? help : "");
    int ok = f.name && f.help;
    for (size_t i = 0; i < nlabels; i++) {
        f.labels[i] = strdup(labels[i]);
        ok = ok && f.labels[i];
    }
    if (!ok) {
        family_free(&f);
        return rb_error_nomem(err, RB_STAGE_NONE, "metric family");
    }
    if (nbuckets) memcpy(f.buckets, buckets, nbuckets * sizeof *buckets);
    m->families[m->nfamilies++] = f;
    return 0;
}

int rb_metrics_declare(rb_metrics *m, const char *name, rb_metric_type type, const char *help,
                       const char *const *labels, size_t nlabels, const double *buckets,
                       size_t nbuckets, rb_error *err) {
    pthread_mutex_lock(&m->lock);
    int rc = declare_locked(m, name, type, help, labels, nlabels, buckets, nbuckets, err);
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int rb_metrics_declare_ragbatch(rb_metrics *m, rb_error *err) {
    /* From a millisecond stage to a minute-long batch held by a retried
     * write. */
    static const double seconds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5,   1,     2.5,  5,     10,   30,  60};
    static const char *const job[] = {"job"};
    static const char *const job_outcome[] = {"job", "outcome"};
    static const char *const job_stage[] = {"job", "stage"};
    static const char *const job_tp[] = {"job", "topic", "partition"};
    static const char *const job_since[] = {"job", "since"};
    /* From a fast stream (tens of ms) to a backfill of last month's events. */
    static const double ages[] = {0.05, 0.1, 0.25, 0.5, 1,    2.5,  5,     10,    30,
                                  60,   120, 300,  600, 1800, 3600, 21600, 86400, 604800};
    static const char *const job_engine[] = {"job", "model", "kernel", "precision"};
    const size_t nsec = sizeof seconds / sizeof seconds[0];
    if (rb_metrics_declare(m, RB_METRIC_RECORDS, RB_METRIC_COUNTER,
                           "Records processed, by outcome.", job_outcome, 2, NULL, 0, err) ||
        rb_metrics_declare(m, RB_METRIC_BATCHES, RB_METRIC_COUNTER, "Micro-batches committed.",
                           job, 1, NULL, 0, err) ||
        rb_metrics_declare(m, RB_METRIC_STAGE_DURATION, RB_METRIC_HISTOGRAM,
                           "Time spent in each pipeline stage per batch.", job_stage, 2, seconds,
                           nsec, err) ||
        rb_metrics_declare(m, RB_METRIC_BATCH_DURATION, RB_METRIC_HISTOGRAM,
                           "Time per micro-batch, from poll to commit.", job, 1, seconds, nsec,
                           err) ||
        rb_metrics_declare(m, RB_METRIC_CONSUMER_LAG, RB_METRIC_GAUGE,
                           "High watermark minus committed offset.", job_tp, 3, NULL, 0, err) ||
        rb_metrics_declare(m, RB_METRIC_EMBEDDED_TEXTS, RB_METRIC_COUNTER, "Texts embedded.", job,
                           1, NULL, 0, err) ||
        rb_metrics_declare(m, RB_METRIC_CHUNKS, RB_METRIC_COUNTER,
                           "Chunks of long texts: embedded, reused, written, removed.",
                           job_outcome, 2, NULL, 0, err) ||
        rb_metrics_declare(m, RB_METRIC_EMBED_RATE, RB_METRIC_GAUGE,
                           "Embedding throughput of the last batch.", job, 1, NULL, 0, err) ||
        rb_metrics_declare(m, RB_METRIC_LAST_BATCH, RB_METRIC_GAUGE,
                           "Unix time at which the last batch was committed.", job, 1, NULL, 0,
                           err) ||
        rb_metrics_declare(m, RB_METRIC_FRESHNESS, RB_METRIC_HISTOGRAM,
                           "Age of each written record at commit, since its Kafka timestamp "
                           "(since=produced) or its event time (since=event).",
                           job_since, 2, ages, sizeof ages / sizeof ages[0], err) ||
        rb_metrics_declare(m, RB_METRIC_EMBEDDER_INFO, RB_METRIC_GAUGE,
                           "The embedder in use (value 1): model, matrix kernel, precision.",
                           job_engine, 4, NULL, 0, err))
        return -1;
    return 0;
}

/* Finds (or, with `create`, adds) the series of `values` in the family
 * `name` of type `type`.  Called with the lock held. */
static rb_metric_series *series_locked(rb_metrics *m, const char *name, rb_metric_type type,
                                       const char *const *values, int create, rb_error *err) {
    rb_metric_family *f = find_family(m, name);
    if (!f) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: no family %s", name);
        return NULL;
    }
    if (f->type != type) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: %s is not a %s", name,
                     type == RB_METRIC_COUNTER ? "counter"
                     : type == RB_METRIC_GAUGE ? "gauge"
                                               : "histogram");
        return NULL;
    }
    for (size_t j = 0; j < f->nlabels; j++)
        if (!values || !values[j]) {
            rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: %s needs a value for label %s",
                         name, f->labels[j]);
            return NULL;
        }
    for (size_t i = 0; i < f->nseries; i++) {
        size_t j = 0;
        while (j < f->nlabels && strcmp(f->series[i].values[j], values[j]) == 0) j++;
        if (j == f->nlabels) return &f->series[i];
    }
    if (!create) {
        rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: %s has no such series", name);
        return NULL;
    }
    if (f->nseries == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 8;
        rb_metric_series *s = realloc(f->series, cap * sizeof *s);
        if (!s) {
            rb_error_nomem(err, RB_STAGE_NONE, "metric series");
            return NULL;
        }
        f->series = s;
        f->cap = cap;
    }
    rb_metric_series s = {0};
    int ok = 1;
    for (size_t j = 0; j < f->nlabels; j++) {
        s.values[j] = strdup(values[j]);
        ok = ok && s.values[j];
    }
    if (f->nbuckets) {
        s.bucket_counts = calloc(f->nbuckets, sizeof *s.bucket_counts);
        ok = ok && s.bucket_counts;
    }
    if (!ok) {
        for (size_t j = 0; j < f->nlabels; j++) free(s.values[j]);
        free(s.bucket_counts);
        rb_error_nomem(err, RB_STAGE_NONE, "metric series");
        return NULL;
    }
    f->series[f->nseries] = s;
    return &f->series[f->nseries++];
}

int rb_metrics_counter_add(rb_metrics *m, const char *name, const char *const *values,
                           double delta, rb_error *err) {
    if (!(delta >= 0))
        return rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: counter %s cannot decrease",
                            name);
    pthread_mutex_lock(&m->lock);
    rb_metric_series *s = series_locked(m, name, RB_METRIC_COUNTER, values, 1, err);
    if (s) s->value += delta;
    pthread_mutex_unlock(&m->lock);
    return s ? 0 : -1;
}

int rb_metrics_gauge_set(rb_metrics *m, const char *name, const char *const *values, double value,
                         rb_error *err) {
    pthread_mutex_lock(&m->lock);
    rb_metric_series *s = series_locked(m, name, RB_METRIC_GAUGE, values, 1, err);
    if (s) s->value = value;
    pthread_mutex_unlock(&m->lock);
    return s ? 0 : -1;
}

int rb_metrics_observe(rb_metrics *m, const char *name, const char *const *values, double value,
                       rb_error *err) {
    pthread_mutex_lock(&m->lock);
    rb_metric_series *s = series_locked(m, name, RB_METRIC_HISTOGRAM, values, 1, err);
    if (s) {
        rb_metric_family *f = find_family(m, name);
        size_t b = 0;
        while (b < f->nbuckets && !(value <= f->buckets[b])) b++;
        if (b < f->nbuckets) s->bucket_counts[b]++; /* else only +Inf counts it */
        s->count++;
        s->value += value;
    }
    pthread_mutex_unlock(&m->lock);
    return s ? 0 : -1;
}

int rb_metrics_get(rb_metrics *m, const char *name, const char *const *values, double *out,
                   rb_error *err) {
    pthread_mutex_lock(&m->lock);
    rb_metric_family *f = find_family(m, name);
    rb_metric_series *s = f ? series_locked(m, name, f->type, values, 0, err) : NULL;
    if (!f) rb_error_set(err, RB_ERR_ARG, RB_STAGE_NONE, "metrics: no family %s", name);
    if (s) *out = s->value;
    pthread_mutex_unlock(&m->lock);
    return s ? 0 : -1;
}

/* Prometheus' float syntax: +Inf, -Inf, NaN, else the shortest of %.15g
 * and %.17g that reads back exactly. */
static int put_double(rb_buf *b, double v) {
    if (isnan(v)) return rb_buf_puts(b, "NaN");
    if (isinf(v)) return rb_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    char tmp[40];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v) snprintf(tmp, sizeof tmp, "%.17g", v);
    return rb_buf_puts(b, tmp);
}

/* Escapes `\` and newline (and `"` when `quote`), as HELP text and label
 * values need. */
static int put_escaped(rb_buf *b, const char *s, int quote) {
    int rc = 0;
    for (; *s && rc == 0; s++) {
        if (*s == '\\')
            rc = rb_buf_puts(b, "\\\\");
        else if (*s == '\n')
            rc = rb_buf_puts(b, "\\n");
        else if (quote && *s == '"')
            rc = rb_buf_puts(b, "\\\"");
        else
            rc = rb_buf_putc(b, *s);
    }
    return rc;
}

/* name{l1="v1",...[,le="x"]} value\n */
static int put_sample(rb_buf *b, const rb_metric_family *f, const rb_metric_series *s,
                      const char *suffix, const char *le, double value) {
    int rc = rb_buf_puts(b, f->name) | rb_buf_puts(b, suffix);
    if (f->nlabels || le) {
        rc |= rb_buf_putc(b, '{');
        for (size_t j = 0; j < f->nlabels; j++) {
            rc |= rb_buf_printf(b, "%s%s=\"", j ? "," : "", f->labels[j]);
            rc |= put_escaped(b, s->values[j], 1);
            rc |= rb_buf_putc(b, '"');
        }
        if (le) rc |= rb_buf_printf(b, "%sle=\"%s\"", f->nlabels ? "," : "", le);
        rc |= rb_buf_putc(b, '}');
    }
    rc |= rb_buf_putc(b, ' ');
    rc |= put_double(b, value);
    rc |= rb_buf_putc(b, '\n');
    return rc ? -1 : 0;
}

static int render_family(rb_buf *b, const rb_metric_family *f) {
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    int rc = rb_buf_printf(b, "# HELP %s ", f->name);
    rc |= put_escaped(b, f->help, 0);
    rc |= rb_buf_printf(b, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
    for (size_t i = 0; i < f->nseries && rc == 0; i++) {
        const rb_metric_series *s = &f->series[i];
        if (f->type != RB_METRIC_HISTOGRAM) {
            rc |= put_sample(b, f, s, "", NULL, s->value);
            continue;
        }
        unsigned long long cumulative = 0;
        for (size_t k = 0; k < f->nbuckets; k++) {
            rb_buf le;
            rb_buf_init(&le);
            cumulative += s->bucket_counts[k];
            rc |= put_double(&le, f->buckets[k]);
            rc |= rc ? -1 : put_sample(b, f, s, "_bucket", le.data, (double)cumulative);
            rb_buf_free(&le);
        }
        rc |= put_sample(b, f, s, "_bucket", "+Inf", (double)s->count);
        rc |= put_sample(b, f, s, "_sum", NULL, s->value);
        rc |= put_sample(b, f, s, "_count", NULL, (double)s->count);
    }
    return rc ? -1 : 0;
}

int rb_metrics_render(rb_metrics *m, rb_buf *out, rb_error *err) {
    int rc = 0;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->nfamilies && rc == 0; i++) rc = render_family(out, &m->families[i]);
    pthread_mutex_unlock(&m->lock);
    return rc ? rb_error_nomem(err, RB_STAGE_NONE, "metrics text") : 0;
}
