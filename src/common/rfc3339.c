/* rfc3339.c -- see rfc3339.h. */
#include "common/rfc3339.h"

#include <stdio.h>
#include <time.h>

#include <stdbool.h>
#include <stddef.h>

/* Reads exactly `n` decimal digits. */
static bool rfc_digits(const char **s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*s)[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *s += n;
    *out = v;
    return true;
}

static bool rfc_expect(const char **s, char c) {
    if (**s != c) return false;
    (*s)++;
    return true;
}

static bool rfc_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int rfc_month_days(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && rfc_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (the usual era-based civil-date computation). */
static int64_t rfc_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int rb_rfc3339_parse(const char *s, int64_t *epoch_ms) {
    if (!s) return -1;
    int year, month, day, hour, minute, second;
    if (!rfc_digits(&s, 4, &year) || !rfc_expect(&s, '-') || !rfc_digits(&s, 2, &month) ||
        !rfc_expect(&s, '-') || !rfc_digits(&s, 2, &day))
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > rfc_month_days(year, month)) return -1;
    if (*s != 'T' && *s != 't') return -1;
    s++;
    if (!rfc_digits(&s, 2, &hour) || !rfc_expect(&s, ':') || !rfc_digits(&s, 2, &minute) ||
        !rfc_expect(&s, ':') || !rfc_digits(&s, 2, &second))
        return -1;
    if (hour > 23 || minute > 59 || second > 60) return -1;
    int ms = 0;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9') return -1;
        int n = 0;
        while (*s >= '0' && *s <= '9') {
            if (n < 3) ms = ms * 10 + (*s - '0');
            n++;
            s++;
        }
        for (; n < 3; n++) ms *= 10;
    }
    int offset_min = 0;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int sign = *s == '-' ? -1 : 1;
        int oh, om;
        s++;
        if (!rfc_digits(&s, 2, &oh) || !rfc_expect(&s, ':') || !rfc_digits(&s, 2, &om)) return -1;
        if (oh > 23 || om > 59) return -1;
        offset_min = sign * (oh * 60 + om);
    } else {
        return -1;
    }
    if (*s != '\0') return -1;

    int64_t local_min = (int64_t)hour * 60 + minute;
    int64_t utc_min = local_min - offset_min;
    if (second == 60) {
        /* A leap second is inserted at the end of a UTC day only. */
        int64_t m = ((utc_min % 1440) + 1440) % 1440;
        if (m != 23 * 60 + 59) return -1;
    }
    int64_t days = rfc_days_from_civil(year, month, day);
    int64_t secs = days * 86400 + utc_min * 60 + second;
    if (epoch_ms) *epoch_ms = secs * 1000 + ms;
    return 0;
}

void rb_rfc3339_format(int64_t epoch_ms, char out[RB_RFC3339_SIZE]) {
    int64_t secs = epoch_ms / 1000, frac = epoch_ms % 1000;
    if (frac < 0) { /* C division truncates toward zero */
        frac += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, RB_RFC3339_SIZE, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, RB_RFC3339_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}
