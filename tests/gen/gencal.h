/*
 * gencal: gridbus-gen's PRNG and the sample community's calendar (see gencal.c).
 * Days are day numbers (days since 1970-01-01, local); instants are ms since the epoch.
 */
#ifndef GB_GENCAL_H
#define GB_GENCAL_H

#include <stdbool.h>
#include <stdint.h>

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define TZ_OFFSET_MS (8 * HOUR_MS) /* Asia/Shanghai, no daylight saving */

/* Seeds the PRNG; every draw below follows from it. */
void gencal_seed(uint64_t seed);
/* An integer in [lo, hi]; true with the given chance. */
int gencal_rnd(int lo, int hi);
bool gencal_chance(int percent);
#define GENCAL_PICK(arr) ((arr)[gencal_rnd(0, (int)(sizeof(arr) / sizeof((arr)[0])) - 1)])

int64_t gencal_days_from_civil(int y, int m, int d);
void gencal_civil_from_days(int64_t z, int *y, int *m, int *d);
int gencal_weekday(int64_t day); /* 0 = Monday ... 6 = Sunday */
int64_t gencal_day_start(int64_t day);
int64_t gencal_local_ms(int64_t day, int hour, int minute);
int64_t gencal_day_of(int64_t ms);
void gencal_day_text(int64_t day, char out[11]);
bool gencal_is_working_day(int64_t day);
/* The instant `minutes` of working time after t, as the daemon counts deadlines. */
int64_t gencal_work_add(int64_t t, int minutes);
/* A random working moment of day between 08:40 and 16:30, on a 5-minute grid. */
int64_t gencal_work_time(int64_t day);

#endif
