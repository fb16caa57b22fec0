/*
 * rfc3339.h -- RFC 3339 date-time strings ("2024-05-01T12:30:00.250+02:00").
 *
 * The schema's format "date-time" and the runner's event_time both go
 * through this one parser, so that a value the schema accepts is always a
 * value the runner can order events by.  The grammar is RFC 3339 section
 * 5.6 "date-time": full-date "T" full-time, where "T" and "Z" may be lower
 * case, the fraction has one or more digits (only milliseconds are kept;
 * further digits are truncated), the offset is "Z" or +HH:MM / -HH:MM, and
 * day, hour, minute and offset ranges are checked, leap years included.
 * A leap second (:60) is accepted only where it falls at 23:59:60 UTC and
 * counts as the first instant of the next day.  No allocation, no state;
 * safe from any thread.
 */
#ifndef RB_RFC3339_H
#define RB_RFC3339_H

#include <stdint.h>

/* Parses the NUL-terminated `s`.  Returns 0 and stores milliseconds since
 * 1970-01-01T00:00:00Z in *epoch_ms (which may be NULL), or -1 if `s` is
 * not exactly one RFC 3339 date-time. */
int rb_rfc3339_parse(const char *s, int64_t *epoch_ms);

/* Room for what rb_rfc3339_format writes, NUL included. */
#define RB_RFC3339_SIZE 32

/* Writes `epoch_ms` as RFC 3339 UTC with milliseconds
 * ("2026-11-24T09:41:07.123Z"), which rb_rfc3339_parse reads back as the
 * same instant.  Times before 1970 are fine; one gmtime_r cannot represent
 * gives the epoch.  Every timestamp ragbatch prints goes through here. */
void rb_rfc3339_format(int64_t epoch_ms, char out[RB_RFC3339_SIZE]);

#endif
