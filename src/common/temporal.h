/*
 * temporal.h -- dates and times held as integers (Avro's date, time-* and
 * timestamp-* logical types; Connect's and Debezium's Date, Time,
 * Timestamp, MicroTimestamp, ...) written as RFC 3339 text:
 *
 *   days since 1970-01-01           "2026-12-01"                  (full-date)
 *   units since midnight            "10:30:05.250"                (partial-time)
 *   units since 1970-01-01T00:00Z   "2026-12-01T10:30:05.250Z"    (date-time)
 *
 * A unit is 10^-digits seconds: digits 3 for milliseconds, 6 for
 * microseconds, 9 for nanoseconds; the fraction always has that many
 * digits, so the text says the precision the source had.  Instants before
 * 1970 are fine (proleptic Gregorian calendar, no gmtime).  A value whose
 * year falls outside 0000..9999 (RFC 3339 has four-digit years), or a time
 * of day outside [0, 24h), is refused.  No state; safe from any thread.
 */
#ifndef RB_TEMPORAL_H
#define RB_TEMPORAL_H

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>

/* Each returns 0; -1 when memory runs out; -2 when the value is out of the
 * range above (the caller names the field). */
int rb_temporal_date(rb_buf *out, int64_t days);
int rb_temporal_time(rb_buf *out, int64_t units, int digits);
/* `utc` false leaves out the "Z": Avro's local-timestamp-* types, a wall
 * clock time with no zone. */
int rb_temporal_timestamp(rb_buf *out, int64_t units, int digits, bool utc);

/* What a Kafka Connect or Debezium semantic type name (a Connect schema's
 * "name", Avro's "connect.name") says an integer is: */
typedef enum rb_temporal_kind {
    RB_TEMPORAL_NONE = 0, /* not a temporal type */
    RB_TEMPORAL_DATE,     /* days since the epoch */
    RB_TEMPORAL_TIME,     /* units since midnight */
    RB_TEMPORAL_TIMESTAMP /* units since the epoch (UTC) */
} rb_temporal_kind;

/* org.apache.kafka.connect.data.Date, .Time, .Timestamp (days, ms, ms);
 * io.debezium.time.Date, Time, MicroTime, NanoTime, Timestamp,
 * MicroTimestamp, NanoTimestamp (days, ms, us, ns, ms, us, ns).  Sets
 * *digits (3, 6 or 9; 0 for a date).  io.debezium.time.ZonedTimestamp and
 * ZonedTime are strings already and give RB_TEMPORAL_NONE. */
rb_temporal_kind rb_temporal_connect_kind(const char *name, int *digits);

/* Writes `v` of `kind` (as rb_temporal_connect_kind said) as a JSON string
 * ("\"2026-12-01\""); returns as the writers above. */
int rb_temporal_json(rb_buf *out, rb_temporal_kind kind, int digits, int64_t v);

#endif
