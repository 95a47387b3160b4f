/*
 * test_calendar: working-time arithmetic on the community calendar, and loading it.
 *
 * Deadlines are counted in working time, so every case that an officer would check on a
 * wall calendar is here with its expected instant worked out by hand: across lunch, the end
 * of the day, a weekend, the National Day week, a make-up Saturday (调休), from outside work
 * hours and from inside a holiday. Properties then tie the two directions together
 * (work_between(t, add_work(t, w)) == w) and check work_between against a minute-by-minute
 * count. The holiday calendar used is the real 2026 one (State Council notice of
 * 2025-11-04), like conf/daidong.yaml, whose calendar block is loaded and checked too.
 * Error cases are small YAML files, each asserted with its exact FILE:LINE:COL message.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <libfyaml.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "directory.h"
#include "yamlutil.h"

#define H(n) ((int64_t)(n)*3600000)
#define M(n) ((int64_t)(n)*60000)
#define D7H(n) ((int64_t)(n)*H(7)) /* n working days of 7 h */

static char dir[PATH_MAX];
static char err[1024];
static calendar_t *cal;
static yamlutil_t *yaml;

static void setup(void)
{
    char tmpl[] = "/tmp/gb_calendar.XXXXXX";
    cr_assert_not_null(mkdtemp(tmpl));
    cr_assert_not_null(realpath(tmpl, dir));
    err[0] = '\0';
    cal = calendar_new_default();
    cr_assert_not_null(cal);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    calendar_destroy(&cal);
    yamlutil_destroy(&yaml);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(calendar, .init = setup, .fini = teardown);

/* Local time on the calendar under test. */
static int64_t at(int year, int month, int day, int hour, int minute)
{
    return calendar_local_time(cal, year, month, day, hour, minute);
}

static const char *write_file(const char *text)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/community.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads the `calendar:` of a YAML text into cal (replacing it); NULL with err on error. */
static calendar_t *load(const char *text)
{
    const char *path = write_file(text);
    calendar_destroy(&cal);
    yamlutil_destroy(&yaml);
    yaml = yamlutil_load(path, err, sizeof err);
    cr_assert_not_null(yaml, "%s", err);
    struct fy_node *node = fy_node_mapping_lookup_by_string(yamlutil_root(yaml), "calendar", 8);
    cr_assert_not_null(node, "no calendar in:\n%s", text);
    return cal = calendar_load(node, path, err, sizeof err);
}

static void expect_error(const char *text, const char *expected)
{
    char want[PATH_MAX + 1024];
    calendar_t *c = load(text);
    snprintf(want, sizeof want, "%s/community.yaml:%s", dir, expected);
    cr_assert_null(c, "accepted:\n%s", text);
    cr_assert_str_eq(err, want);
}

/* The 2026 schedule of the State Council (国办, 2025-11-04), as in conf/daidong.yaml. */
#define CHINA_2026                                                                                 \
    "calendar:\n"                                                                                  \
    "  timezone: Asia/Shanghai\n"                                                                  \
    "  work_hours: [\"08:30-12:00\", \"14:00-17:30\"]\n"                                           \
    "  weekends: [saturday, sunday]\n"                                                             \
    "  holidays:\n"                                                                                \
    "    - 2026-01-01..2026-01-03\n"                                                               \
    "    - 2026-02-15..2026-02-23\n"                                                               \
    "    - 2026-04-04..2026-04-06\n"                                                               \
    "    - 2026-05-01..2026-05-05\n"                                                               \
    "    - 2026-06-19..2026-06-21\n"                                                               \
    "    - 2026-09-25..2026-09-27\n"                                                               \
    "    - 2026-10-01..2026-10-07\n"                                                               \
    "  workdays: [2026-01-04, 2026-02-14, 2026-02-28, 2026-05-09, 2026-09-20, 2026-10-10]\n"

static void load_china(void)
{
    cr_assert_not_null(load(CHINA_2026), "%s", err);
}

/* ---- the default calendar and the local-date helpers ---- */

Test(calendar, default_calendar)
{
    cr_assert_eq(calendar_utc_offset_minutes(cal), 480);
    cr_assert_eq(calendar_workday_ms(cal), H(7));
    cr_assert(calendar_is_workday(cal, at(2026, 11, 30, 12, 0)));    /* Monday */
    cr_assert(calendar_is_workday(cal, at(2026, 12, 4, 23, 59)));    /* Friday */
    cr_assert_not(calendar_is_workday(cal, at(2026, 12, 5, 0, 0)));  /* Saturday */
    cr_assert_not(calendar_is_workday(cal, at(2026, 12, 6, 12, 0))); /* Sunday */
    cr_assert(calendar_is_workday(cal, at(2026, 10, 1, 10, 0)));     /* no holidays by default */
    cr_assert_eq(calendar_work_between(cal, at(2026, 11, 30, 0, 0), at(2026, 12, 1, 0, 0)), H(7));
    /* calendar_load without a calendar node is the default calendar too */
    calendar_t *c = calendar_load(NULL, "x.yaml", err, sizeof err);
    cr_assert_not_null(c);
    cr_assert_eq(calendar_utc_offset_minutes(c), 480);
    cr_assert_eq(calendar_add_work(c, at(2026, 12, 4, 17, 0), H(1)), at(2026, 12, 7, 9, 0));
    calendar_destroy(&c);
    cr_assert_null(c);
    calendar_destroy(&c);
}

/* 2026-12-01 00:00 in Beijing is 2026-11-30 16:00 UTC: 1796054400000 ms. */
#define DEC1_BEIJING 1796054400000LL

Test(calendar, local_date_at_the_utc_boundary)
{
    int y, m, d, w;
    cr_assert_eq(at(2026, 12, 1, 0, 0), DEC1_BEIJING);
    calendar_local_date(cal, DEC1_BEIJING - 1, &y, &m, &d, &w);
    cr_assert(y == 2026 && m == 11 && d == 30 && w == 0, "%d-%d-%d w%d", y, m, d, w);
    calendar_local_date(cal, DEC1_BEIJING, &y, &m, &d, &w);
    cr_assert(y == 2026 && m == 12 && d == 1 && w == 1, "%d-%d-%d w%d", y, m, d, w);
    /* 07:59 UTC on Dec 1 is already 15:59 in Beijing; 16:00 UTC is Dec 2 */
    calendar_local_date(cal, DEC1_BEIJING + H(24) - 1, &y, &m, &d, NULL);
    cr_assert(y == 2026 && m == 12 && d == 1);
    cr_assert_eq(calendar_day_start(cal, DEC1_BEIJING + H(10)), DEC1_BEIJING);
    cr_assert_eq(calendar_day_start(cal, DEC1_BEIJING), DEC1_BEIJING);
    cr_assert_eq(calendar_day_start(cal, DEC1_BEIJING - 1), DEC1_BEIJING - H(24));
    /* the same instant is still November 30 in UTC */
    cr_assert_not_null(load("calendar: {utc_offset: \"+00:00\"}\n"), "%s", err);
    cr_assert_eq(calendar_utc_offset_minutes(cal), 0);
    calendar_local_date(cal, DEC1_BEIJING, &y, &m, &d, &w);
    cr_assert(y == 2026 && m == 11 && d == 30 && w == 0);
    cr_assert_eq(calendar_day_start(cal, DEC1_BEIJING), DEC1_BEIJING - H(16));
    cr_assert_eq(at(2026, 12, 1, 0, 0), DEC1_BEIJING + H(8));
}

Test(calendar, local_time_edges)
{
    int y, m, d, w;
    cr_assert_eq(at(1970, 1, 1, 8, 0), 0);
    cr_assert_eq(at(1969, 12, 31, 23, 0), -H(9));
    calendar_local_date(cal, -1, &y, &m, &d, &w); /* 1970-01-01 07:59:59.999 in Beijing */
    cr_assert(y == 1970 && m == 1 && d == 1 && w == 3);
    calendar_local_date(cal, -H(8) - 1, &y, &m, &d, &w);
    cr_assert(y == 1969 && m == 12 && d == 31 && w == 2);
    /* fields carry over */
    cr_assert_eq(at(2026, 13, 1, 0, 0), at(2027, 1, 1, 0, 0));
    cr_assert_eq(at(2026, 0, 1, 0, 0), at(2025, 12, 1, 0, 0));
    cr_assert_eq(at(2026, 12, 31, 24, 0), at(2027, 1, 1, 0, 0));
    cr_assert_eq(at(2026, 11, 30 + 7, 0, 0), at(2026, 12, 7, 0, 0));
    cr_assert_eq(at(2028, 2, 29, 0, 0) + H(24), at(2028, 3, 1, 0, 0));
    cr_assert_eq(at(2100, 2, 28, 0, 0) + H(24), at(2100, 3, 1, 0, 0)); /* not a leap year */
    calendar_local_date(cal, at(2000, 2, 29, 12, 0), &y, &m, &d, &w);
    cr_assert(y == 2000 && m == 2 && d == 29 && w == 1);
    calendar_local_date(cal, at(2026, 10, 10, 9, 0), NULL, NULL, NULL, &w);
    cr_assert_eq(w, 5); /* Saturday */
}

/* ---- adding working time ---- */

Test(calendar, across_lunch)
{
    /* Monday 2026-11-30: 11:00 + 2 h = 1 h before lunch, 1 h after 14:00 */
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 11, 0), H(2)), at(2026, 11, 30, 15, 0));
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 11, 59), M(2)), at(2026, 11, 30, 14, 1));
}

Test(calendar, exactly_filling_an_interval_ends_at_its_end)
{
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 8, 30), H(3) + M(30)),
                 at(2026, 11, 30, 12, 0));
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 8, 30), H(7)), at(2026, 11, 30, 17, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 8, 30), H(7) + 1),
                 at(2026, 12, 1, 8, 30) + 1);
}

Test(calendar, across_the_end_of_the_day)
{
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 16, 30), H(2)), at(2026, 12, 1, 9, 30));
}

Test(calendar, across_a_weekend)
{
    /* Friday 2026-12-04 16:30 + 2 h: 1 h on Friday, 1 h on Monday */
    cr_assert_eq(calendar_add_work(cal, at(2026, 12, 4, 16, 30), H(2)), at(2026, 12, 7, 9, 30));
    /* a full working week from Wednesday noon ends Wednesday noon */
    cr_assert_eq(calendar_add_work(cal, at(2026, 12, 2, 12, 0), D7H(5)), at(2026, 12, 9, 12, 0));
}

Test(calendar, starting_outside_work_hours)
{
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 6, 0), H(1)), at(2026, 11, 30, 9, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 12, 30), H(1)), at(2026, 11, 30, 15, 0));
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 12, 0), M(30)), at(2026, 11, 30, 14, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 17, 30), M(30)), at(2026, 12, 1, 9, 0));
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 20, 0), H(1)), at(2026, 12, 1, 9, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 12, 5, 10, 0), H(1)), at(2026, 12, 7, 9, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 12, 6, 23, 59), M(1)), at(2026, 12, 7, 8, 31));
}

Test(calendar, zero_and_negative_durations)
{
    int64_t inside = at(2026, 11, 30, 10, 0), outside = at(2026, 12, 5, 22, 0);
    cr_assert_eq(calendar_add_work(cal, inside, 0), inside);
    cr_assert_eq(calendar_add_work(cal, outside, 0), outside);
    cr_assert_eq(calendar_add_work(cal, inside, -H(1)), inside);
    cr_assert_eq(calendar_work_between(cal, inside, inside), 0);
    cr_assert_eq(calendar_work_between(cal, inside + H(1), inside), 0);
}

Test(calendar, across_a_public_holiday_range)
{
    load_china();
    /* Wednesday 2026-09-30 16:30 + 2 h: 1 h before National Day, 1 h on Thursday 10-08 */
    cr_assert_eq(calendar_add_work(cal, at(2026, 9, 30, 16, 30), H(2)), at(2026, 10, 8, 9, 30));
    /* Mid-Autumn: Thursday 09-24 17:00 + 1 h, Friday 25 to Sunday 27 off */
    cr_assert_eq(calendar_add_work(cal, at(2026, 9, 24, 17, 0), H(1)), at(2026, 9, 28, 9, 0));
    cr_assert_eq(calendar_work_between(cal, at(2026, 9, 30, 12, 0), at(2026, 10, 8, 12, 0)), H(7));
}

Test(calendar, on_a_make_up_working_day)
{
    load_china();
    /* Friday 10-09 16:30 + 2 h: Saturday 10-10 is worked (调休) */
    cr_assert_eq(calendar_add_work(cal, at(2026, 10, 9, 16, 30), H(2)), at(2026, 10, 10, 9, 30));
    /* Saturday 09-19 is off, Sunday 09-20 is worked */
    cr_assert_eq(calendar_add_work(cal, at(2026, 9, 19, 10, 0), H(1)), at(2026, 9, 20, 9, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 9, 20, 17, 0), H(1)), at(2026, 9, 21, 9, 0));
    /* Friday 02-13 17:00 + 8 h: 30 m, all of Saturday 02-14, then after the Spring Festival */
    cr_assert_eq(calendar_add_work(cal, at(2026, 2, 13, 17, 0), H(8)), at(2026, 2, 24, 9, 0));
    cr_assert(calendar_is_workday(cal, at(2026, 10, 10, 0, 0)));
    cr_assert(calendar_is_workday(cal, at(2026, 2, 28, 23, 59)));
    cr_assert_not(calendar_is_workday(cal, at(2026, 10, 11, 12, 0)));
}

Test(calendar, starting_on_a_holiday)
{
    load_china();
    cr_assert_eq(calendar_add_work(cal, at(2026, 10, 3, 10, 0), H(1)), at(2026, 10, 8, 9, 30));
    /* Spring Festival's day, Tuesday 02-17: one working day ends Tuesday 02-24 17:30 */
    cr_assert_eq(calendar_add_work(cal, at(2026, 2, 17, 9, 0), D7H(1)), at(2026, 2, 24, 17, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 1, 1, 0, 0), M(1)), at(2026, 1, 4, 8, 31));
    cr_assert_not(calendar_is_workday(cal, at(2026, 10, 5, 10, 0))); /* a Monday */
    cr_assert_not(calendar_is_workday(cal, at(2026, 9, 25, 10, 0)));
    cr_assert(calendar_is_workday(cal, at(2026, 10, 8, 0, 0)));
}

Test(calendar, long_spans)
{
    /* default calendar: 30 working days = 6 weeks, Monday 08:30 to the 6th Friday 17:30 */
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 8, 30), D7H(30)), at(2027, 1, 8, 17, 30));
    /* 1,000 working days = 200 weeks: Monday 2026-11-30 + 1,397 days is a Friday */
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 8, 30), D7H(1000)),
                 at(2026, 11, 30 + 1397, 17, 30));
    cr_assert_eq(calendar_work_between(cal, at(2026, 1, 1, 0, 0), at(2027, 1, 1, 0, 0)), D7H(261));

    load_china();
    /* Monday 09-14 + 15 days: 14-18 (5), Sunday 20 (6), 21-24 (10), 28-30 (13), 10-08, 10-09 */
    cr_assert_eq(calendar_add_work(cal, at(2026, 9, 14, 8, 30), D7H(15)), at(2026, 10, 9, 17, 30));
    /* 2026 has 248 working days: 261 weekdays - 19 holidays + 6 make-up days */
    cr_assert_eq(calendar_work_between(cal, at(2026, 1, 1, 0, 0), at(2027, 1, 1, 0, 0)), D7H(248));
    cr_assert_eq(calendar_add_work(cal, at(2026, 1, 1, 0, 0), D7H(248)), at(2026, 12, 31, 17, 30));
    cr_assert_eq(calendar_add_work(cal, at(2026, 1, 1, 0, 0), D7H(248) + 1),
                 at(2027, 1, 1, 8, 30) + 1);
    /* absurd amounts neither hang nor overflow */
    cr_assert_eq(calendar_add_work(cal, 0, CALENDAR_MAX_WORK_MS + 1), INT64_MAX);
    int64_t far = calendar_add_work(cal, at(2026, 1, 1, 0, 0), H(1000000));
    cr_assert_eq(calendar_work_between(cal, at(2026, 1, 1, 0, 0), far), H(1000000));
}

/* ---- working time between instants ---- */

Test(calendar, work_between_by_hand)
{
    cr_assert_eq(calendar_work_between(cal, at(2026, 11, 30, 8, 30), at(2026, 11, 30, 17, 30)),
                 H(7));
    cr_assert_eq(calendar_work_between(cal, at(2026, 11, 30, 11, 0), at(2026, 11, 30, 15, 0)),
                 H(2));
    cr_assert_eq(calendar_work_between(cal, at(2026, 12, 4, 16, 0), at(2026, 12, 7, 10, 0)), H(3));
    cr_assert_eq(calendar_work_between(cal, at(2026, 12, 5, 0, 0), at(2026, 12, 7, 0, 0)), 0);
    cr_assert_eq(calendar_work_between(cal, at(2026, 12, 4, 18, 0), at(2026, 12, 7, 8, 0)), 0);
    cr_assert_eq(calendar_work_between(cal, INT64_MIN, INT64_MIN + 1), 0); /* no overflow */
    cr_assert_gt(calendar_work_between(cal, 0, INT64_MAX), 0);
}

/* Deterministic pseudo-random numbers (a 64-bit LCG). */
static uint64_t rng = 88172645463325252ull;
static int64_t rnd(int64_t n)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (int64_t)((rng >> 33) % (uint64_t)n);
}

Test(calendar, work_between_inverts_add_work)
{
    load_china();
    static const int64_t works[] = {1,    M(1),   M(30),   H(3) + M(30), H(7),
                                    H(8), D7H(5), D7H(17), D7H(30),      D7H(300)};
    int64_t first = at(2025, 12, 20, 0, 0), last = at(2026, 10, 31, 0, 0);
    for (int64_t t = first; t < last; t += M(37) + 11) {
        for (size_t i = 0; i < sizeof works / sizeof works[0]; i++) {
            int64_t end = calendar_add_work(cal, t, works[i]);
            cr_assert_eq(calendar_work_between(cal, t, end), works[i], "t=%lld w=%lld",
                         (long long)t, (long long)works[i]);
            /* the last millisecond counted is working time */
            cr_assert(calendar_is_working_time(cal, end - 1), "t=%lld", (long long)t);
        }
    }
}

Test(calendar, add_work_is_monotonic_and_additive)
{
    load_china();
    for (int i = 0; i < 2000; i++) {
        int64_t t = at(2026, 1, 1, 0, 0) + rnd(H(24 * 365));
        int64_t a = rnd(D7H(40)), b = rnd(D7H(40));
        int64_t ta = calendar_add_work(cal, t, a);
        cr_assert_leq(ta, calendar_add_work(cal, t, a + 1));
        /* a then b from where a ended is a + b (when a > 0, counting resumes at once) */
        if (a > 0)
            cr_assert_eq(calendar_add_work(cal, ta, b), calendar_add_work(cal, t, a + b));
        int64_t u = t + rnd(H(24 * 90)), v = u + rnd(H(24 * 90));
        cr_assert_eq(calendar_work_between(cal, t, u) + calendar_work_between(cal, u, v),
                     calendar_work_between(cal, t, v));
    }
}

/* Working minutes between two minute-aligned instants, counted one by one. */
static int64_t count_minutes(int64_t from, int64_t to)
{
    int64_t n = 0;
    for (int64_t t = from; t < to; t += M(1))
        n += calendar_is_working_time(cal, t);
    return n * M(1);
}

Test(calendar, work_between_matches_a_minute_count)
{
    load_china();
    for (int i = 0; i < 120; i++) {
        int64_t from = at(2026, 1, 1, 0, 0) + rnd(24 * 60 * 300) * M(1);
        int64_t to = from + rnd(24 * 60 * 20) * M(1);
        cr_assert_eq(calendar_work_between(cal, from, to), count_minutes(from, to),
                     "from=%lld to=%lld", (long long)from, (long long)to);
    }
}

Test(calendar, working_time_queries)
{
    load_china();
    cr_assert(calendar_is_working_time(cal, at(2026, 10, 10, 8, 30)));
    cr_assert_not(calendar_is_working_time(cal, at(2026, 10, 10, 12, 0)));
    cr_assert_not(calendar_is_working_time(cal, at(2026, 10, 10, 17, 30)));
    cr_assert_not(calendar_is_working_time(cal, at(2026, 10, 2, 10, 0)));
    int64_t ten = at(2026, 9, 30, 10, 0);
    cr_assert_eq(calendar_next_working_time(cal, ten), ten);
    cr_assert_eq(calendar_next_working_time(cal, at(2026, 9, 30, 12, 30)), at(2026, 9, 30, 14, 0));
    cr_assert_eq(calendar_next_working_time(cal, at(2026, 9, 30, 18, 0)), at(2026, 10, 8, 8, 30));
    cr_assert_eq(calendar_next_working_time(cal, at(2026, 10, 9, 17, 30)), at(2026, 10, 10, 8, 30));
}

/* ---- durations ---- */

static int64_t duration(const char *text)
{
    int64_t ms = -7;
    cr_assert_eq(calendar_parse_duration(cal, text, &ms, err, sizeof err), 0, "%s: %s", text, err);
    return ms;
}

static void bad_duration(const char *text, const char *why)
{
    int64_t ms = -7;
    char want[512];
    cr_assert_eq(calendar_parse_duration(cal, text, &ms, err, sizeof err), -1, "%s accepted",
                 text ? text : "NULL");
    cr_assert_eq(ms, -7);
    snprintf(want, sizeof want,
             "bad duration '%s': %s (expected whole numbers with units d = working days, h, m, "
             "largest first: 90m, 4h, 2d, 1h30m)",
             text ? text : "", why);
    cr_assert_str_eq(err, want);
}

Test(calendar, durations)
{
    cr_assert_eq(duration("90m"), M(90));
    cr_assert_eq(duration("4h"), H(4));
    cr_assert_eq(duration("2d"), H(14)); /* two working days of 7 h */
    cr_assert_eq(duration("1h30m"), M(90));
    cr_assert_eq(duration("1d4h"), H(11));
    cr_assert_eq(duration("1d30m"), H(7) + M(30));
    cr_assert_eq(duration("0m"), 0);
    cr_assert_eq(duration("007h"), H(7));
    cr_assert_eq(duration("9999999m"), M(9999999));
    /* "2d" from Monday 10:00 is Wednesday 10:00 */
    cr_assert_eq(calendar_add_work(cal, at(2026, 11, 30, 10, 0), duration("2d")),
                 at(2026, 12, 2, 10, 0));
}

Test(calendar, duration_errors)
{
    bad_duration("", "empty");
    bad_duration(NULL, "empty");
    bad_duration("90", "no unit after 90");
    bad_duration("m", "'m' where a number should be");
    bad_duration("1x", "unknown unit 'x'");
    bad_duration("4H", "unknown unit 'H'");
    bad_duration("30m1h", "unit 'h' out of order or repeated");
    bad_duration("1h1h", "unit 'h' out of order or repeated");
    bad_duration("-1h", "'-' where a number should be");
    bad_duration("1.5h", "unknown unit '.'");
    bad_duration(" 1h", "' ' where a number should be");
    bad_duration("1h ", "unknown unit 'h '");
    bad_duration("1h30", "no unit after 30");
    bad_duration("12345678h", "a number of more than 7 digits");
    bad_duration("99999999999999999999999h", "a number of more than 7 digits");
    bad_duration("4小时", "unknown unit '小时'");
    bad_duration("1hm", "unknown unit 'hm'");
    bad_duration("h1", "'h' where a number should be");
    bad_duration("9999999h", "too long (at most 8784000h)");
    bad_duration("2000000d", "too long (at most 8784000h)");
}

Test(calendar, durations_follow_the_working_day)
{
    cr_assert_not_null(load("calendar:\n  work_hours: [\"09:00-17:00\"]\n"), "%s", err);
    cr_assert_eq(calendar_workday_ms(cal), H(8));
    cr_assert_eq(duration("2d"), H(16));
    cr_assert_eq(duration("1d1h"), H(9));
}

/* ---- loading ---- */

Test(calendar, load_a_full_calendar)
{
    calendar_t *c = load("calendar:\n"
                         "  utc_offset: \"-05:30\"\n"
                         "  work_hours: [\"9:00-13:00\", \"13:00-14:00\", \"20:00-24:00\"]\n"
                         "  weekends: [Fri, SATURDAY]\n"
                         "  holidays: [2026-12-24, \"2026-12-31..2027-01-01\", 2026-12-24]\n"
                         "  workdays: [2026-12-26]\n");
    cr_assert_not_null(c, "%s", err);
    cr_assert_eq(calendar_utc_offset_minutes(c), -330);
    cr_assert_eq(calendar_workday_ms(c), H(9));
    cr_assert_eq(at(2026, 12, 1, 0, 0), DEC1_BEIJING + H(8) + H(5) + M(30));
    /* Thursday 12-24 is a holiday, Friday off, Saturday 12-26 worked, Sunday works */
    cr_assert_not(calendar_is_workday(c, at(2026, 12, 24, 10, 0)));
    cr_assert_not(calendar_is_workday(c, at(2026, 12, 25, 10, 0)));
    cr_assert(calendar_is_workday(c, at(2026, 12, 26, 10, 0)));
    cr_assert(calendar_is_workday(c, at(2026, 12, 27, 10, 0)));
    cr_assert_not(calendar_is_workday(c, at(2027, 1, 1, 10, 0)));
    /* touching intervals count as one; the last runs to midnight */
    cr_assert_eq(calendar_add_work(c, at(2026, 12, 23, 12, 30), H(1)), at(2026, 12, 23, 13, 30));
    cr_assert_eq(calendar_add_work(c, at(2026, 12, 23, 23, 0), H(1)), at(2026, 12, 24, 0, 0));
    cr_assert_eq(calendar_add_work(c, at(2026, 12, 23, 23, 0), H(2)), at(2026, 12, 26, 10, 0));
    cr_assert_eq(calendar_work_between(c, at(2026, 12, 23, 23, 0), at(2026, 12, 26, 10, 0)), H(2));
}

Test(calendar, load_partial_and_empty)
{
    /* keys left out keep their default; empty lists mean none */
    cr_assert_not_null(load("calendar:\n  weekends: []\n  holidays:\n"), "%s", err);
    cr_assert_eq(calendar_utc_offset_minutes(cal), 480);
    cr_assert_eq(calendar_workday_ms(cal), H(7));
    cr_assert(calendar_is_workday(cal, at(2026, 12, 5, 10, 0))); /* Saturday, no weekend */
    cr_assert_eq(calendar_add_work(cal, at(2026, 12, 4, 17, 0), H(1)), at(2026, 12, 5, 9, 0));
    /* a range of exactly 366 days is the longest accepted */
    cr_assert_not_null(load("calendar:\n  holidays: [\"2028-01-01..2028-12-31\"]\n"), "%s", err);
    cr_assert_eq(calendar_work_between(cal, at(2028, 1, 1, 0, 0), at(2029, 1, 1, 0, 0)), 0);
    cr_assert(calendar_is_workday(cal, at(2029, 1, 1, 9, 0)));
    cr_assert_not_null(load("calendar: {timezone: Asia/Hong_Kong}\n"), "%s", err);
    cr_assert_eq(calendar_utc_offset_minutes(cal), 480);
    cr_assert_not_null(load("calendar: {timezone: UTC}\n"), "%s", err);
    cr_assert_eq(calendar_utc_offset_minutes(cal), 0);
    cr_assert_not_null(load("calendar: {utc_offset: +14:00}\n"), "%s", err);
    cr_assert_eq(calendar_utc_offset_minutes(cal), 840);
}

Test(calendar, load_errors_in_work_hours)
{
    expect_error("calendar:\n  work_hours: [\"08:30-12:00\", \"14:00-25:00\"]\n",
                 "2:32: calendar.work_hours: bad interval '14:00-25:00': expected HH:MM-HH:MM "
                 "between 00:00 and 24:00, e.g. 08:30-12:00");
    expect_error("calendar:\n  work_hours: [\"08:30-12:60\"]\n",
                 "2:17: calendar.work_hours: bad interval '08:30-12:60': expected HH:MM-HH:MM "
                 "between 00:00 and 24:00, e.g. 08:30-12:00");
    expect_error("calendar:\n  work_hours:\n    - 8.30-12\n",
                 "3:7: calendar.work_hours: bad interval '8.30-12': expected HH:MM-HH:MM "
                 "between 00:00 and 24:00, e.g. 08:30-12:00");
    expect_error("calendar:\n  work_hours: [\"08:30-12:00\", \"11:00-17:30\"]\n",
                 "2:32: calendar.work_hours: '11:00-17:30' overlaps or comes before "
                 "'08:30-12:00': intervals go in time order and must not overlap");
    expect_error("calendar:\n  work_hours: [\"14:00-17:30\", \"08:30-12:00\"]\n",
                 "2:32: calendar.work_hours: '08:30-12:00' overlaps or comes before "
                 "'14:00-17:30': intervals go in time order and must not overlap");
    expect_error("calendar:\n  work_hours: [\"12:00-08:30\"]\n",
                 "2:17: calendar.work_hours: '12:00-08:30' does not end after it starts");
    expect_error("calendar:\n  work_hours: []\n",
                 "2:15: calendar.work_hours: at least one interval is needed");
    expect_error("calendar:\n  work_hours: \"08:30-12:00\"\n",
                 "2:16: calendar.work_hours: expected a list, got a single value");
    expect_error("calendar:\n  work_hours: [[\"08:30-12:00\"]]\n",
                 "2:16: calendar.work_hours: expected a single value, got a list");
}

Test(calendar, load_errors_in_dates)
{
    expect_error("calendar:\n  holidays: [2026-10-01, 2026-02-30]\n",
                 "2:26: calendar.holidays: bad date '2026-02-30': expected YYYY-MM-DD, a day "
                 "that exists");
    expect_error("calendar:\n  holidays: [2026-1-1]\n",
                 "2:14: calendar.holidays: bad date '2026-1-1': expected YYYY-MM-DD, a day "
                 "that exists");
    expect_error("calendar:\n  holidays: [2027-02-29]\n",
                 "2:14: calendar.holidays: bad date '2027-02-29': expected YYYY-MM-DD, a day "
                 "that exists");
    expect_error("calendar:\n  holidays:\n    - 2026-10-08..2026-10-01\n",
                 "3:7: calendar.holidays: bad range '2026-10-08..2026-10-01': it ends before "
                 "it starts");
    expect_error("calendar:\n  holidays:\n    - 2026-10-01..2026-10-32\n",
                 "3:7: calendar.holidays: bad date '2026-10-32' ending the range "
                 "'2026-10-01..2026-10-32': expected YYYY-MM-DD, a day that exists");
    expect_error("calendar:\n  holidays:\n    - 2026-10-01...2026-10-03\n",
                 "3:7: calendar.holidays: bad date '.2026-10-03' ending the range "
                 "'2026-10-01...2026-10-03': expected YYYY-MM-DD, a day that exists");
    expect_error("calendar:\n  holidays:\n    - 2026-13-01..2026-13-03\n",
                 "3:7: calendar.holidays: bad date '2026-13-01': expected YYYY-MM-DD, a day "
                 "that exists, in a range FIRST..LAST");
    expect_error("calendar:\n  holidays:\n    - 2026-01-01..2027-01-02\n",
                 "3:7: calendar.holidays: range '2026-01-01..2027-01-02' is longer than 366 "
                 "days");
    expect_error("calendar:\n  holidays: 2026-10-01\n",
                 "2:13: calendar.holidays: expected a list, got a single value");
    expect_error("calendar:\n  workdays: [2026-10-10, 2026-10-12]\n",
                 "2:26: calendar.workdays: 2026-10-12, a Monday, is a working day anyway: "
                 "make-up working days are weekend days (check the date)");
    expect_error("calendar:\n  holidays: [\"2026-10-01..2026-10-07\"]\n"
                 "  workdays: [2026-10-03]\n",
                 "3:14: calendar.workdays: 2026-10-03, a Saturday, is also a holiday");
}

Test(calendar, load_errors_in_weekends)
{
    expect_error("calendar:\n  weekends: [saturday, satday]\n",
                 "2:24: calendar.weekends: unknown day 'satday' (did you mean 'saturday'?)");
    expect_error("calendar:\n  weekends: [funday]\n",
                 "2:14: calendar.weekends: unknown day 'funday' (did you mean 'sunday'?)");
    expect_error("calendar:\n  weekends: [weekend]\n",
                 "2:14: calendar.weekends: unknown day 'weekend' (expected monday ... sunday or "
                 "mon ... sun)");
    expect_error("calendar:\n  weekends: [sat, Saturday]\n",
                 "2:19: calendar.weekends: saturday is listed twice");
    expect_error("calendar:\n  weekends: [mon, tue, wed, thu, fri, sat, sun]\n",
                 "2:13: calendar.weekends: every day is a weekend day; at least one day of the "
                 "week must be a working day");
}

Test(calendar, load_errors_in_the_zone)
{
    expect_error("calendar:\n  timezone: Europe/Berlin\n",
                 "2:13: calendar.timezone: unknown time zone 'Europe/Berlin': only zones "
                 "without daylight saving are known (Asia/Shanghai, Asia/Hong_Kong, Asia/Macau, "
                 "Asia/Taipei, UTC); give the offset instead, e.g. utc_offset: \"+08:00\"");
    expect_error("calendar:\n  timezone: Asia/Shangai\n",
                 "2:13: calendar.timezone: unknown time zone 'Asia/Shangai' (did you mean "
                 "'Asia/Shanghai'?)");
    expect_error("calendar:\n  timezone: Asia/Shanghai\n  utc_offset: \"+08:00\"\n",
                 "3:16: calendar: give timezone or utc_offset, not both");
    expect_error("calendar:\n  utc_offset: \"+8\"\n",
                 "2:16: calendar.utc_offset: bad offset '+8': expected +HH:MM or -HH:MM, at "
                 "most 14:00, e.g. \"+08:00\"");
    expect_error("calendar:\n  utc_offset: \"+15:00\"\n",
                 "2:16: calendar.utc_offset: bad offset '+15:00': expected +HH:MM or -HH:MM, at "
                 "most 14:00, e.g. \"+08:00\"");
    expect_error("calendar:\n  timezone:\n", "2:3: calendar.timezone: expected a single value, "
                                             "got an empty value");
}

Test(calendar, load_errors_in_the_shape)
{
    expect_error("calendar:\n  holiday: [2026-10-01]\n",
                 "2:3: calendar: unknown key 'holiday' (did you mean 'holidays'?)");
    expect_error("calendar:\n  time_zone: Asia/Shanghai\n",
                 "2:3: calendar: unknown key 'time_zone' (did you mean 'timezone'?)");
    expect_error("calendar:\n  lunch: 2h\n", "2:3: calendar: unknown key 'lunch'");
    expect_error("calendar: [a]\n", "1:11: calendar: expected a mapping, got a list");
}

Test(calendar, the_daidong_sample)
{
    const char *env = getenv("GRIDBUS_CONF");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/daidong.yaml", env && *env ? env : "conf");
    directory_t *d = directory_load(path, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    struct fy_node *node = directory_section(d, "calendar");
    cr_assert_not_null(node, "no calendar in %s", path);
    calendar_destroy(&cal);
    cal = calendar_load(node, directory_path(d), err, sizeof err);
    directory_destroy(&d);
    cr_assert_not_null(cal, "%s", err);
    cr_assert_eq(calendar_utc_offset_minutes(cal), 480);
    cr_assert_eq(calendar_workday_ms(cal), H(7));
    /* the official 2026 schedule: 248 working days */
    cr_assert_eq(calendar_work_between(cal, at(2026, 1, 1, 0, 0), at(2027, 1, 1, 0, 0)), D7H(248));
    cr_assert(calendar_is_workday(cal, at(2026, 10, 10, 10, 0)));
    cr_assert_not(calendar_is_workday(cal, at(2026, 10, 7, 10, 0)));
    cr_assert_not(calendar_is_workday(cal, at(2027, 1, 1, 10, 0)));
    cr_assert_eq(calendar_add_work(cal, at(2026, 9, 30, 16, 30), H(2)), at(2026, 10, 8, 9, 30));
    /* the example of docs/CONFIG.md: Friday 17:00 + 4 h is Monday 12:00 */
    cr_assert_eq(calendar_add_work(cal, at(2026, 12, 4, 17, 0), H(4)), at(2026, 12, 7, 12, 0));
}
