/*
 * gencal: gridbus-gen's dice and calendar. One PRNG (splitmix64: small, and the same
 * everywhere) so a seed always draws the same month; and the sample community's calendar
 * (conf/daidong.yaml: Asia/Shanghai, working hours, the 2026 holidays and make-up working
 * days), counted the way gridbusd counts deadlines, so planned steps land where the daemon
 * expects them.
 */
#include "gencal.h"

#include <stdio.h>

static uint64_t rng_state;

void gencal_seed(uint64_t seed)
{
    rng_state = seed ^ UINT64_C(0x6772696462757367); /* "gridbusg" */
}

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* An integer in [lo, hi]. */
int gencal_rnd(int lo, int hi)
{
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

bool gencal_chance(int percent)
{
    return gencal_rnd(1, 100) <= percent;
}

/* ---- dates and the community calendar (conf/daidong.yaml: calendar) ---- */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
int64_t gencal_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void gencal_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* 0 = Monday ... 6 = Sunday. */
int gencal_weekday(int64_t day)
{
    return (int)(((day % 7) + 7 + 3) % 7);
}

/* Local midnight of a day number, as ms since the epoch. */
int64_t gencal_day_start(int64_t day)
{
    return day * DAY_MS - TZ_OFFSET_MS;
}

int64_t gencal_local_ms(int64_t day, int hour, int minute)
{
    return gencal_day_start(day) + hour * HOUR_MS + minute * MIN_MS;
}

int64_t gencal_day_of(int64_t ms)
{
    int64_t l = ms + TZ_OFFSET_MS;
    return (l >= 0 ? l : l - DAY_MS + 1) / DAY_MS;
}

void gencal_day_text(int64_t day, char out[11])
{
    int y, m, d;
    gencal_civil_from_days(day, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

/* The 2026 holidays and make-up working days of the sample calendar (OPS: keep in step with
 * conf/daidong.yaml when a year is added there). */
static const char *const holidays[][2] = {
    {"2026-01-01", "2026-01-03"}, {"2026-02-15", "2026-02-23"}, {"2026-04-04", "2026-04-06"},
    {"2026-05-01", "2026-05-05"}, {"2026-06-19", "2026-06-21"}, {"2026-09-25", "2026-09-27"},
    {"2026-10-01", "2026-10-07"}, {"2027-01-01", "2027-01-01"},
};
static const char *const workdays[] = {"2026-01-04", "2026-02-14", "2026-02-28",
                                       "2026-05-09", "2026-09-20", "2026-10-10"};

static int64_t parse_day(const char *s)
{
    int y, m, d;
    return sscanf(s, "%d-%d-%d", &y, &m, &d) == 3 ? gencal_days_from_civil(y, m, d) : 0;
}

bool gencal_is_working_day(int64_t day)
{
    for (size_t i = 0; i < sizeof holidays / sizeof holidays[0]; i++)
        if (day >= parse_day(holidays[i][0]) && day <= parse_day(holidays[i][1]))
            return false;
    for (size_t i = 0; i < sizeof workdays / sizeof workdays[0]; i++)
        if (day == parse_day(workdays[i]))
            return true;
    return gencal_weekday(day) < 5;
}

/* Working hours: 08:30-12:00 and 14:00-17:30, as minutes of the local day. */
static const int sessions[][2] = {{8 * 60 + 30, 12 * 60}, {14 * 60, 17 * 60 + 30}};

/* The instant `minutes` of working time after t (t outside working time starts at the next
 * working moment), as the daemon counts deadlines. */
int64_t gencal_work_add(int64_t t, int minutes)
{
    for (int guard = 0; guard < 400; guard++) {
        int64_t day = gencal_day_of(t);
        if (gencal_is_working_day(day)) {
            for (size_t s = 0; s < 2; s++) {
                int64_t from = gencal_local_ms(day, 0, sessions[s][0]),
                        to = gencal_local_ms(day, 0, sessions[s][1]);
                if (t >= to)
                    continue;
                if (t < from)
                    t = from;
                int64_t left = (to - t) / MIN_MS;
                if (minutes <= left)
                    return t + minutes * MIN_MS;
                minutes -= (int)left;
                t = to;
            }
        }
        t = gencal_day_start(day + 1);
    }
    return t;
}

/* A random working moment of day between 08:40 and 16:30, on a 5-minute grid. */
int64_t gencal_work_time(int64_t day)
{
    int slots_am = (11 * 60 + 50 - (8 * 60 + 40)) / 5, slots_pm = (16 * 60 + 30 - 14 * 60) / 5;
    int k = gencal_rnd(0, slots_am + slots_pm);
    int minute = k <= slots_am ? 8 * 60 + 40 + 5 * k : 14 * 60 + 5 * (k - slots_am - 1);
    return gencal_local_ms(day, 0, minute);
}
