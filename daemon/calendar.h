/*
 * calendar: the community's working calendar and the working-time arithmetic of deadlines.
 *
 * Grid management counts every deadline (accept a task, complete it) in working time, so a
 * repair reported on Friday evening with a 4-hour deadline is due on Monday morning, and a
 * case filed before the Spring Festival waits out the whole holiday. The calendar says what
 * working time is for one community: its UTC offset, its daily work hours (with the lunch
 * break), its weekend days, its public holidays and its make-up working days (调休: a
 * Saturday or Sunday worked to bridge a holiday). It is read from the `calendar:` block of
 * the directory file (docs/CONFIG.md, "The community calendar").
 *
 * Pure logic on epoch milliseconds: no global state, no TZ or localtime. China keeps one
 * offset all year (no daylight saving), so a fixed UTC offset is exact. A calendar is
 * immutable once loaded, so any number of threads may read it.
 */
#ifndef GB_CALENDAR_H
#define GB_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fy_node;

typedef struct calendar calendar_t;

/* Most intervals in work_hours. */
#define CALENDAR_MAX_HOURS 8
/* Most days in one holiday or workday range, and in all of them together. */
#define CALENDAR_MAX_RANGE_DAYS 366
#define CALENDAR_MAX_DAYS 100000
/* The largest working time handled (8,784,000 h: 1,000 years round the clock, far beyond any
 * deadline): calendar_parse_duration refuses more, calendar_add_work returns INT64_MAX
 * ("never") for more. */
#define CALENDAR_MAX_WORK_MS (1000LL * 366 * 86400000)

/* UTC+08:00, work hours 08:30-12:00 and 14:00-17:30 (7 h a day), Saturday and Sunday off,
 * no holidays. NULL when out of memory. */
calendar_t *calendar_new_default(void);

/* The calendar of a `calendar:` mapping; file names it in errors. NULL node (no calendar in
 * the file) gives the default calendar; keys left out keep their default. NULL with err =
 * "FILE:LINE:COL: message" for anything wrong (unknown key or zone, bad time, overlapping
 * hours, bad date or range, unknown weekday, a make-up day that is also a holiday, ...). */
calendar_t *calendar_load(struct fy_node *node, const char *file, char *err, size_t errlen);
void calendar_destroy(calendar_t **self_p);

/* The earliest instant at which work_ms of working time has passed since start_ms. A start
 * outside working time counts from the next working moment; work that exactly fills an
 * interval ends at its end (12:00, not 14:00). work_ms <= 0 returns start_ms. */
int64_t calendar_add_work(const calendar_t *self, int64_t start_ms, int64_t work_ms);
/* Working time between two instants, 0 when to <= from. work_between(t, add_work(t, w)) == w. */
int64_t calendar_work_between(const calendar_t *self, int64_t from_ms, int64_t to_ms);

/* Whether the local day of ms is a working day: not a holiday, and either a make-up working
 * day or not a weekend day. */
bool calendar_is_workday(const calendar_t *self, int64_t ms);
/* Whether ms falls inside the work hours of a working day. */
bool calendar_is_working_time(const calendar_t *self, int64_t ms);
/* ms itself when it is working time, else the start of the next working interval. */
int64_t calendar_next_working_time(const calendar_t *self, int64_t ms);
/* The length of a normal working day: the sum of work_hours (7 h by default). */
int64_t calendar_workday_ms(const calendar_t *self);

/* "90m", "4h", "2d", "1h30m", "1d4h": whole numbers with units d (one working day of
 * calendar_workday_ms), h and m, largest unit first, each at most once, no spaces; "0m" is 0.
 * 0 with *work_ms set, or -1 with err = "bad duration 'TEXT': reason". */
int calendar_parse_duration(const calendar_t *self, const char *text, int64_t *work_ms, char *err,
                            size_t errlen);

/* Local midnight of ms's day, as epoch ms. */
int64_t calendar_day_start(const calendar_t *self, int64_t ms);
/* The local date of ms; weekday 0 = Monday ... 6 = Sunday. Any pointer may be NULL. */
void calendar_local_date(const calendar_t *self, int64_t ms, int *year, int *month, int *day,
                         int *weekday);
/* The epoch ms of a local date and time. Out-of-range fields carry over (month 13 is January
 * of the next year, hour 24 is the next day's midnight), as in mktime. */
int64_t calendar_local_time(const calendar_t *self, int year, int month, int day, int hour,
                            int minute);
/* Local time minus UTC, in minutes (480 for China). */
int calendar_utc_offset_minutes(const calendar_t *self);

#endif
