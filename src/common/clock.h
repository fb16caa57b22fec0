/*
 * clock.h -- the two clocks ragbatch uses.  Deadlines and durations use
 * the monotonic clock (immune to wall-clock steps); timestamps written to
 * documents and logs use the wall clock.
 */
#ifndef RB_CLOCK_H
#define RB_CLOCK_H

#include <stdint.h>

int64_t rb_now_ms(void);  /* CLOCK_MONOTONIC, milliseconds */
double rb_now_sec(void);  /* CLOCK_MONOTONIC, seconds with fraction */
int64_t rb_wall_ms(void); /* CLOCK_REALTIME, milliseconds since the epoch */

/* Sleeps `ms` milliseconds, returning early (without error) on a signal. */
void rb_sleep_ms(int64_t ms);

#endif
