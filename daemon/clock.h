/*
 * clock: the one clock every deadline and timestamp reads.
 *
 * In production it is the system's real-time clock. A daemon started with
 * testing.allow_clock may have it set by the `clock` request, which freezes it at the
 * given instant, so end-to-end tests move time ("overdue by tomorrow") in milliseconds
 * without sleeping. Only tests set it.
 */
#ifndef GB_CLOCK_H
#define GB_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch. */
int64_t clock_now(void);

/* Freezes the clock at ms; 0 returns it to the system clock. */
void clock_set(int64_t ms);

bool clock_is_frozen(void);

#endif
