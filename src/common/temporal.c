/* temporal.c -- see temporal.h. */
#include "common/temporal.h"

#include <string.h>

/* Floor division and the matching non-negative remainder. */
static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}
static int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

/* Civil date of a day number (days since 1970-01-01), after Howard
 * Hinnant's days_from_civil inverse: eras of 400 years, March-based years. */
static void civil(int64_t days, int64_t *y, int *m, int *d) {
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t pow10i(int digits) {
    int64_t p = 1;
    for (int i = 0; i < digits; i++) p *= 10;
    return p;
}

/* Days 0000-01-01 and 9999-12-31 relative to 1970-01-01. */
#define RB_TEMPORAL_MIN_DAY (-719528)
#define RB_TEMPORAL_MAX_DAY 2932896

int rb_temporal_date(rb_buf *out, int64_t days) {
    if (days < RB_TEMPORAL_MIN_DAY || days > RB_TEMPORAL_MAX_DAY) return -2;
    int64_t y;
    int m, d;
    civil(days, &y, &m, &d);
    return rb_buf_printf(out, "%04d-%02d-%02d", (int)y, m, d) ? -1 : 0;
}

static int put_clock(rb_buf *out, int64_t units, int digits) {
    int64_t per_second = pow10i(digits);
    int64_t secs = units / per_second, frac = units % per_second;
    int rc = rb_buf_printf(out, "%02d:%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60),
                           (int)(secs % 60));
    if (rc == 0 && digits > 0) rc = rb_buf_printf(out, ".%0*lld", digits, (long long)frac);
    return rc ? -1 : 0;
}

int rb_temporal_time(rb_buf *out, int64_t units, int digits) {
    if (digits < 0 || digits > 9) return -2;
    if (units < 0 || units >= 86400 * pow10i(digits)) return -2;
    return put_clock(out, units, digits);
}

int rb_temporal_timestamp(rb_buf *out, int64_t units, int digits, bool utc) {
    if (digits < 0 || digits > 9) return -2;
    int64_t per_day = 86400 * pow10i(digits);
    int64_t days = floor_div(units, per_day);
    int rc = rb_temporal_date(out, days);
    if (rc) return rc;
    if (rb_buf_putc(out, 'T') != 0) return -1;
    if (put_clock(out, floor_mod(units, per_day), digits) != 0) return -1;
    return utc && rb_buf_putc(out, 'Z') != 0 ? -1 : 0;
}

rb_temporal_kind rb_temporal_connect_kind(const char *name, int *digits) {
    static const struct {
        const char *name;
        rb_temporal_kind kind;
        int digits;
    } names[] = {
        {"org.apache.kafka.connect.data.Date", RB_TEMPORAL_DATE, 0},
        {"org.apache.kafka.connect.data.Time", RB_TEMPORAL_TIME, 3},
        {"org.apache.kafka.connect.data.Timestamp", RB_TEMPORAL_TIMESTAMP, 3},
        {"io.debezium.time.Date", RB_TEMPORAL_DATE, 0},
        {"io.debezium.time.Time", RB_TEMPORAL_TIME, 3},
        {"io.debezium.time.MicroTime", RB_TEMPORAL_TIME, 6},
        {"io.debezium.time.NanoTime", RB_TEMPORAL_TIME, 9},
        {"io.debezium.time.Timestamp", RB_TEMPORAL_TIMESTAMP, 3},
        {"io.debezium.time.MicroTimestamp", RB_TEMPORAL_TIMESTAMP, 6},
        {"io.debezium.time.NanoTimestamp", RB_TEMPORAL_TIMESTAMP, 9},
    };
    *digits = 0;
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *digits = names[i].digits;
            return names[i].kind;
        }
    return RB_TEMPORAL_NONE;
}

int rb_temporal_json(rb_buf *out, rb_temporal_kind kind, int digits, int64_t v) {
    if (rb_buf_putc(out, '"') != 0) return -1;
    int rc = kind == RB_TEMPORAL_DATE   ? rb_temporal_date(out, v)
             : kind == RB_TEMPORAL_TIME ? rb_temporal_time(out, v, digits)
                                        : rb_temporal_timestamp(out, v, digits, true);
    if (rc) return rc;
    return rb_buf_putc(out, '"') ? -1 : 0;
}
