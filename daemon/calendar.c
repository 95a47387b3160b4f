/*
 * calendar: working time on the community's calendar, and loading that calendar from YAML.
 *
 * Everything is integer arithmetic on epoch milliseconds. An instant is split into a local
 * day number (days since 1970-01-01 at the community's UTC offset) and a time of day; dates
 * convert to day numbers with Howard Hinnant's civil-calendar formulas, so no libc time
 * function (and no TZ) is involved. Holidays and make-up working days are kept as sorted
 * arrays of day numbers, searched by bisection.
 *
 * Adding working time walks the working intervals of each day, but skips whole weeks in one
 * step while no holiday or make-up day lies ahead in them: a week without exceptions always
 * holds the same working time. So a 30-working-day deadline costs a few dozen steps, not a
 * walk minute by minute. Working time between two instants counts the days in between by
 * whole weeks, then corrects for the exceptions in range.
 *
 * Loading checks everything once, with "FILE:LINE:COL: message" errors through yamlutil, so
 * the queries need no error paths: a calendar always has working time (at least one
 * interval, at least one working weekday), which is what makes every loop here finish.
 */
#include "calendar.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yamlutil.h"

#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define MINUTE_MS 60000LL
/* Instants are clamped to about 8,000 years either side of 1970, so no sum can overflow. */
#define TIME_LIMIT (3000000LL * DAY_MS)
/* Most digits in one number of a duration ("9999999h" is over 1,000 years). */
#define DURATION_DIGITS 7

typedef struct {
    int64_t start, end; /* ms since local midnight, start < end <= 24:00 */
} span_t;

typedef struct {
    int32_t *days; /* local day numbers, sorted and unique once loaded */
    size_t n, cap;
} dayset_t;

struct calendar {
    int offset_min;
    span_t hours[CALENDAR_MAX_HOURS];
    size_t nhours;
    int64_t day_ms;    /* sum of hours */
    unsigned weekend;  /* bit w set: weekday w (0 = Monday) is a weekend day */
    int work_weekdays; /* 7 minus the weekend days, at least 1 */
    dayset_t holidays; /* never working */
    dayset_t workdays; /* make-up working days: weekend days that are worked */
};

static const char *const weekday_names[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                             "friday", "saturday", "sunday"};

/* ---- day arithmetic ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *year, int *month, int *day)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *day = (int)(doy - (153 * mp + 2) / 5 + 1);
    *month = m;
    *year = (int)(yoe + era * 400 + (m <= 2));
}

/* 0 = Monday; 1970-01-01 was a Thursday. */
static int weekday_of(int64_t day)
{
    return (int)(day + 3 - floor_div(day + 3, 7) * 7);
}

static int64_t clamp_time(int64_t ms)
{
    return ms < -TIME_LIMIT ? -TIME_LIMIT : ms > TIME_LIMIT ? TIME_LIMIT : ms;
}

/* The local day number and time of day (0 <= tod < DAY_MS) of an instant. */
static void split(const calendar_t *self, int64_t ms, int64_t *day, int64_t *tod)
{
    int64_t local = clamp_time(ms) + self->offset_min * MINUTE_MS;
    *day = floor_div(local, DAY_MS);
    *tod = local - *day * DAY_MS;
}

static int64_t instant(const calendar_t *self, int64_t day, int64_t tod)
{
    return day * DAY_MS + tod - self->offset_min * MINUTE_MS;
}

/* ---- day sets ---- */

/* Index of the first day >= day. */
static size_t dayset_lower(const dayset_t *set, int64_t day)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->days[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool dayset_has(const dayset_t *set, int64_t day)
{
    size_t i = dayset_lower(set, day);
    return i < set->n && set->days[i] == day;
}

static int dayset_add(dayset_t *set, int64_t day)
{
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        int32_t *days = realloc(set->days, cap * sizeof *days);
        if (!days)
            return -1;
        set->days = days;
        set->cap = cap;
    }
    set->days[set->n++] = (int32_t)day;
    return 0;
}

static int day_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void dayset_sort(dayset_t *set)
{
    size_t out = 0;
    if (set->n == 0)
        return; /* days may be NULL, which qsort must not see */
    qsort(set->days, set->n, sizeof *set->days, day_cmp);
    for (size_t i = 0; i < set->n; i++)
        if (out == 0 || set->days[out - 1] != set->days[i])
            set->days[out++] = set->days[i];
    set->n = out;
}

/* ---- queries ---- */

static bool is_weekend(const calendar_t *self, int64_t day)
{
    return (self->weekend >> weekday_of(day)) & 1u;
}

static bool day_is_work(const calendar_t *self, int64_t day)
{
    if (dayset_has(&self->holidays, day))
        return false;
    return !is_weekend(self, day) || dayset_has(&self->workdays, day);
}

/* Working time between two times of day of a working day. */
static int64_t work_in_day(const calendar_t *self, int64_t from, int64_t to)
{
    int64_t sum = 0;
    for (size_t i = 0; i < self->nhours; i++) {
        int64_t a = from > self->hours[i].start ? from : self->hours[i].start;
        int64_t b = to < self->hours[i].end ? to : self->hours[i].end;
        if (a < b)
            sum += b - a;
    }
    return sum;
}

/* The first holiday or make-up day on or after day, INT64_MAX if none. */
static int64_t next_exception(const calendar_t *self, int64_t day)
{
    const dayset_t *sets[2] = {&self->holidays, &self->workdays};
    int64_t next = INT64_MAX;
    for (size_t s = 0; s < 2; s++) {
        size_t i = dayset_lower(sets[s], day);
        if (i < sets[s]->n && sets[s]->days[i] < next)
            next = sets[s]->days[i];
    }
    return next;
}

/* From the start of *day, moves over whole ordinary weeks (no exception in them) while more
 * than a week of work remains, so that the work still ends after the new *day. */
static void skip_weeks(const calendar_t *self, int64_t *day, int64_t *work_ms)
{
    int64_t week_ms = self->day_ms * self->work_weekdays;
    int64_t weeks = (*work_ms - 1) / week_ms;
    int64_t next = next_exception(self, *day);
    if (next != INT64_MAX && (next - *day) / 7 < weeks)
        weeks = (next - *day) / 7;
    *day += 7 * weeks;
    *work_ms -= weeks * week_ms;
}

int64_t calendar_add_work(const calendar_t *self, int64_t start_ms, int64_t work_ms)
{
    if (work_ms <= 0)
        return start_ms;
    if (work_ms > CALENDAR_MAX_WORK_MS)
        return INT64_MAX;
    int64_t day, tod;
    split(self, start_ms, &day, &tod);
    for (;; day++, tod = 0) {
        if (tod == 0)
            skip_weeks(self, &day, &work_ms);
        if (!day_is_work(self, day))
            continue;
        for (size_t i = 0; i < self->nhours; i++) {
            const span_t *h = &self->hours[i];
            int64_t from = tod > h->start ? tod : h->start;
            if (from >= h->end)
                continue;
            if (work_ms <= h->end - from)
                return instant(self, day, from + work_ms);
            work_ms -= h->end - from;
        }
    }
}

/* Working days in the local days [a, b). */
static int64_t count_workdays(const calendar_t *self, int64_t a, int64_t b)
{
    int64_t weeks = (b - a) / 7, count = weeks * self->work_weekdays;
    for (int64_t d = a + weeks * 7; d < b; d++)
        count += !is_weekend(self, d);
    /* holidays and make-up days never coincide (calendar_load refuses it) */
    const dayset_t *hol = &self->holidays, *work = &self->workdays;
    for (size_t i = dayset_lower(hol, a); i < hol->n && hol->days[i] < b; i++)
        count -= !is_weekend(self, hol->days[i]);
    for (size_t i = dayset_lower(work, a); i < work->n && work->days[i] < b; i++)
        count += is_weekend(self, work->days[i]);
    return count;
}

int64_t calendar_work_between(const calendar_t *self, int64_t from_ms, int64_t to_ms)
{
    if (to_ms <= from_ms)
        return 0;
    int64_t d1, t1, d2, t2;
    split(self, from_ms, &d1, &t1);
    split(self, to_ms, &d2, &t2);
    if (d1 == d2)
        return day_is_work(self, d1) ? work_in_day(self, t1, t2) : 0;
    int64_t sum = count_workdays(self, d1 + 1, d2) * self->day_ms;
    if (day_is_work(self, d1))
        sum += work_in_day(self, t1, DAY_MS);
    if (day_is_work(self, d2))
        sum += work_in_day(self, 0, t2);
    return sum;
}

bool calendar_is_workday(const calendar_t *self, int64_t ms)
{
    int64_t day, tod;
    split(self, ms, &day, &tod);
    return day_is_work(self, day);
}

bool calendar_is_working_time(const calendar_t *self, int64_t ms)
{
    int64_t day, tod;
    split(self, ms, &day, &tod);
    return day_is_work(self, day) && work_in_day(self, tod, tod + 1) > 0;
}

int64_t calendar_next_working_time(const calendar_t *self, int64_t ms)
{
    int64_t day, tod;
    split(self, ms, &day, &tod);
    for (;; day++, tod = 0) {
        if (!day_is_work(self, day))
            continue;
        for (size_t i = 0; i < self->nhours; i++)
            if (tod < self->hours[i].end)
                return instant(self, day, tod > self->hours[i].start ? tod : self->hours[i].start);
    }
}

int64_t calendar_workday_ms(const calendar_t *self)
{
    return self->day_ms;
}

int64_t calendar_day_start(const calendar_t *self, int64_t ms)
{
    int64_t day, tod;
    split(self, ms, &day, &tod);
    return instant(self, day, 0);
}

void calendar_local_date(const calendar_t *self, int64_t ms, int *year, int *month, int *day,
                         int *weekday)
{
    int64_t dayno, tod;
    int y, m, d;
    split(self, ms, &dayno, &tod);
    civil_from_days(dayno, &y, &m, &d);
    if (year)
        *year = y;
    if (month)
        *month = m;
    if (day)
        *day = d;
    if (weekday)
        *weekday = weekday_of(dayno);
}

int64_t calendar_local_time(const calendar_t *self, int year, int month, int day, int hour,
                            int minute)
{
    int64_t m0 = (int64_t)month - 1;
    int64_t y = year + floor_div(m0, 12);
    int64_t dayno = days_from_civil(y, m0 - floor_div(m0, 12) * 12 + 1, 1) + day - 1;
    return instant(self, dayno, ((int64_t)hour * 60 + minute) * MINUTE_MS);
}

int calendar_utc_offset_minutes(const calendar_t *self)
{
    return self->offset_min;
}

/* ---- durations ---- */

__attribute__((format(printf, 4, 5))) static int
bad_duration(char *err, size_t errlen, const char *text, const char *fmt, ...)
{
    char why[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(err, errlen,
             "bad duration '%.40s': %s (expected whole numbers with units d = working days, h, "
             "m, largest first: 90m, 4h, 2d, 1h30m)",
             text ? text : "", why);
    return -1;
}

/* The run of non-digits at p (at most 12 bytes), for messages: "x", ".", "小时". */
static int non_digits(const char *p)
{
    size_t n = strcspn(p, "0123456789");
    return n > 12 ? 12 : (int)n;
}

int calendar_parse_duration(const calendar_t *self, const char *text, int64_t *work_ms, char *err,
                            size_t errlen)
{
    static const char units[] = "dhm";
    const int64_t unit_ms[3] = {self->day_ms, HOUR_MS, MINUTE_MS};
    if (!text || !*text)
        return bad_duration(err, errlen, text, "empty");
    int64_t total = 0;
    int next_unit = 0;
    for (const char *p = text; *p; p++) {
        int64_t n = 0;
        int digits = 0;
        for (; *p >= '0' && *p <= '9'; p++, digits++)
            if (digits < DURATION_DIGITS) /* more is refused below; never overflow */
                n = n * 10 + (*p - '0');
        if (digits == 0)
            return bad_duration(err, errlen, text, "'%.*s' where a number should be", non_digits(p),
                                p);
        if (digits > DURATION_DIGITS)
            return bad_duration(err, errlen, text, "a number of more than %d digits",
                                DURATION_DIGITS);
        if (!*p)
            return bad_duration(err, errlen, text, "no unit after %lld", (long long)n);
        const char *unit = strchr(units, *p);
        if (!unit || non_digits(p) > 1)
            return bad_duration(err, errlen, text, "unknown unit '%.*s'", non_digits(p), p);
        if (unit - units < next_unit)
            return bad_duration(err, errlen, text, "unit '%c' out of order or repeated", *p);
        next_unit = (int)(unit - units) + 1;
        total += n * unit_ms[unit - units];
    }
    if (total > CALENDAR_MAX_WORK_MS)
        return bad_duration(err, errlen, text, "too long (at most %lldh)",
                            (long long)(CALENDAR_MAX_WORK_MS / HOUR_MS));
    *work_ms = total;
    return 0;
}

/* ---- creating ---- */

static void finish(calendar_t *self)
{
    self->day_ms = 0;
    for (size_t i = 0; i < self->nhours; i++)
        self->day_ms += self->hours[i].end - self->hours[i].start;
    self->work_weekdays = 7;
    for (int w = 0; w < 7; w++)
        self->work_weekdays -= (self->weekend >> w) & 1;
}

calendar_t *calendar_new_default(void)
{
    calendar_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->offset_min = 8 * 60;
    self->hours[0] = (span_t){8 * HOUR_MS + 30 * MINUTE_MS, 12 * HOUR_MS};
    self->hours[1] = (span_t){14 * HOUR_MS, 17 * HOUR_MS + 30 * MINUTE_MS};
    self->nhours = 2;
    self->weekend = 1u << 5 | 1u << 6;
    finish(self);
    return self;
}

void calendar_destroy(calendar_t **self_p)
{
    calendar_t *self = *self_p;
    if (!self)
        return;
    free(self->holidays.days);
    free(self->workdays.days);
    free(self);
    *self_p = NULL;
}

/* ---- loading ---- */

typedef struct {
    yamlutil_ctx_t cx; /* no label: messages name the key themselves ("calendar.weekends") */
    calendar_t *cal;
    char prev[64]; /* the previous work_hours interval, for overlap messages */
    size_t ndays;  /* holiday and workday days so far */
} loader_t;

#define FAIL(ld, node, ...) yamlutil_error(&(ld)->cx, (node), __VA_ARGS__)

/* An unknown key is quoted up to this many bytes: the calendar's messages stay as they were. */
#define QUOTE_MAX 63

enum { K_TIMEZONE, K_UTC_OFFSET, K_WORK_HOURS, K_WEEKENDS, K_HOLIDAYS, K_WORKDAYS, NKEYS };

/* Known zones: only those with one offset all year (no daylight saving), so that a fixed
 * offset is exact. Asia/Chongqing and Asia/Harbin are old names of Asia/Shanghai. */
static const struct {
    const char *name;
    int offset_min;
} zones[] = {
    {"Asia/Shanghai", 480},  {"Asia/Chongqing", 480}, {"Asia/Harbin", 480}, {"PRC", 480},
    {"Asia/Hong_Kong", 480}, {"Asia/Macau", 480},     {"Asia/Taipei", 480}, {"UTC", 0},
    {"Etc/UTC", 0},
};
#define NZONES (sizeof zones / sizeof zones[0])

/* The text of a single value, NUL-terminated into buf; what names it in messages. */
static int scalar(loader_t *ld, struct fy_node *node, const char *what, char *buf, size_t size)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    if (!text || yamlutil_is_null(node))
        return FAIL(ld, node, "%s: expected a single value, got %s", what, yamlutil_kind(node));
    if (len >= size || memchr(text, '\0', len))
        return FAIL(ld, node, "%s: '%.40s...' is too long", what, text);
    memcpy(buf, text, len);
    buf[len] = '\0';
    return 0;
}

/* Calls fn on each item of an optional list (absent or empty: none). */
static int each_item(loader_t *ld, struct fy_node *list, const char *what,
                     int (*fn)(loader_t *, struct fy_node *, const char *, const char *))
{
    if (!list || yamlutil_is_null(list))
        return 0;
    if (!yamlutil_is_sequence(list))
        return FAIL(ld, list, "%s: expected a list, got %s", what, yamlutil_kind(list));
    void *iter = NULL;
    struct fy_node *item;
    char text[64];
    while ((item = fy_node_sequence_iterate(list, &iter)) != NULL)
        if (scalar(ld, item, what, text, sizeof text) < 0 || fn(ld, item, what, text) < 0)
            return -1;
    return 0;
}

static int load_timezone(loader_t *ld, struct fy_node *node)
{
    char name[64];
    if (scalar(ld, node, "calendar.timezone", name, sizeof name) < 0)
        return -1;
    for (size_t i = 0; i < NZONES; i++)
        if (strcmp(zones[i].name, name) == 0) {
            ld->cal->offset_min = zones[i].offset_min;
            return 0;
        }
    const char *hint = yamlutil_suggest(name, &zones[0].name, NZONES, sizeof zones[0]);
    if (hint)
        return FAIL(ld, node, "calendar.timezone: unknown time zone '%s' (did you mean '%s'?)",
                    name, hint);
    return FAIL(ld, node,
                "calendar.timezone: unknown time zone '%s': only zones without daylight saving "
                "are known (Asia/Shanghai, Asia/Hong_Kong, Asia/Macau, Asia/Taipei, UTC); give "
                "the offset instead, e.g. utc_offset: \"+08:00\"",
                name);
}

static bool two_digits(const char *s, int *value)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *value = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

static int load_utc_offset(loader_t *ld, struct fy_node *node)
{
    char text[64];
    int h, m;
    if (scalar(ld, node, "calendar.utc_offset", text, sizeof text) < 0)
        return -1;
    if ((text[0] != '+' && text[0] != '-') || !two_digits(text + 1, &h) || text[3] != ':' ||
        !two_digits(text + 4, &m) || text[6] != '\0' || m > 59 || h * 60 + m > 14 * 60)
        return FAIL(ld, node,
                    "calendar.utc_offset: bad offset '%s': expected +HH:MM or -HH:MM, at most "
                    "14:00, e.g. \"+08:00\"",
                    text);
    ld->cal->offset_min = (text[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 0;
}

/* "8:30" or "08:30", 00:00 to 24:00, as ms since midnight; -1 if it is none. */
static int64_t parse_clock(const char *s, size_t len)
{
    char buf[6] = "0";
    int h, m;
    if (len == 4)
        memcpy(buf + 1, s, 4);
    else if (len == 5)
        memcpy(buf, s, 5);
    else
        return -1;
    if (!two_digits(buf, &h) || buf[2] != ':' || !two_digits(buf + 3, &m) || m > 59 ||
        h * 60 + m > 24 * 60)
        return -1;
    return h * HOUR_MS + m * MINUTE_MS;
}

static int add_interval(loader_t *ld, struct fy_node *item, const char *what, const char *text)
{
    calendar_t *cal = ld->cal;
    const char *dash = strchr(text, '-');
    int64_t start = dash ? parse_clock(text, (size_t)(dash - text)) : -1;
    int64_t end = dash ? parse_clock(dash + 1, strlen(dash + 1)) : -1;
    if (start < 0 || end < 0)
        return FAIL(ld, item,
                    "%s: bad interval '%s': expected HH:MM-HH:MM between 00:00 and 24:00, e.g. "
                    "08:30-12:00",
                    what, text);
    if (end <= start)
        return FAIL(ld, item, "%s: '%s' does not end after it starts", what, text);
    if (cal->nhours > 0 && start < cal->hours[cal->nhours - 1].end)
        return FAIL(ld, item,
                    "%s: '%s' overlaps or comes before '%s': intervals go in time order and must "
                    "not overlap",
                    what, text, ld->prev);
    if (cal->nhours == CALENDAR_MAX_HOURS)
        return FAIL(ld, item, "%s: more than %d intervals", what, CALENDAR_MAX_HOURS);
    cal->hours[cal->nhours++] = (span_t){start, end};
    snprintf(ld->prev, sizeof ld->prev, "%s", text);
    return 0;
}

static int load_work_hours(loader_t *ld, struct fy_node *node)
{
    ld->cal->nhours = 0;
    if (each_item(ld, node, "calendar.work_hours", add_interval) < 0)
        return -1;
    if (ld->cal->nhours == 0)
        return FAIL(ld, node, "calendar.work_hours: at least one interval is needed");
    return 0;
}

static int add_weekend(loader_t *ld, struct fy_node *item, const char *what, const char *text)
{
    for (int w = 0; w < 7; w++)
        if (strcasecmp(text, weekday_names[w]) == 0 ||
            (strlen(text) == 3 && strncasecmp(text, weekday_names[w], 3) == 0)) {
            if ((ld->cal->weekend >> w) & 1u)
                return FAIL(ld, item, "%s: %s is listed twice", what, weekday_names[w]);
            ld->cal->weekend |= 1u << w;
            return 0;
        }
    const char *hint = yamlutil_suggest(text, weekday_names, 7, sizeof weekday_names[0]);
    return FAIL(ld, item, "%s: unknown day '%s' (%s%s%s)", what, text,
                hint ? "did you mean '" : "expected monday ... sunday or mon ... sun",
                hint ? hint : "", hint ? "'?" : "");
}

static int load_weekends(loader_t *ld, struct fy_node *node)
{
    ld->cal->weekend = 0;
    if (each_item(ld, node, "calendar.weekends", add_weekend) < 0)
        return -1;
    if (ld->cal->weekend == 0x7f)
        return FAIL(ld, node,
                    "calendar.weekends: every day is a weekend day; at least one day "
                    "of the week must be a working day");
    return 0;
}

/* "YYYY-MM-DD" (len bytes at s), a real day of the years 1900 to 9999, as a day number. */
static int parse_date(const char *s, size_t len, int64_t *day)
{
    int c, y, m, d;
    if (len != 10 || s[4] != '-' || s[7] != '-' || !two_digits(s, &c) || !two_digits(s + 2, &y) ||
        !two_digits(s + 5, &m) || !two_digits(s + 8, &d))
        return -1;
    y += c * 100;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] || (m == 2 && d == 29 && !leap))
        return -1;
    *day = days_from_civil(y, m, d);
    return 0;
}

/* A date or an inclusive range "FIRST..LAST" as day numbers. */
static int parse_days(loader_t *ld, struct fy_node *item, const char *what, const char *text,
                      int64_t *first, int64_t *last)
{
    const char *dots = strstr(text, "..");
    size_t len1 = dots ? (size_t)(dots - text) : strlen(text);
    if (parse_date(text, len1, first) < 0)
        return FAIL(ld, item, "%s: bad date '%.*s': expected YYYY-MM-DD, a day that exists%s", what,
                    (int)len1, text, dots ? ", in a range FIRST..LAST" : "");
    *last = *first;
    if (dots && parse_date(dots + 2, strlen(dots + 2), last) < 0)
        return FAIL(ld, item,
                    "%s: bad date '%s' ending the range '%s': expected YYYY-MM-DD, a "
                    "day that exists",
                    what, dots + 2, text);
    if (*last < *first)
        return FAIL(ld, item, "%s: bad range '%s': it ends before it starts", what, text);
    if (*last - *first >= CALENDAR_MAX_RANGE_DAYS)
        return FAIL(ld, item, "%s: range '%s' is longer than %d days", what, text,
                    CALENDAR_MAX_RANGE_DAYS);
    ld->ndays += (size_t)(*last - *first + 1);
    if (ld->ndays > CALENDAR_MAX_DAYS)
        return FAIL(ld, item, "%s: more than %d days in holidays and workdays together", what,
                    CALENDAR_MAX_DAYS);
    return 0;
}

static int add_holiday(loader_t *ld, struct fy_node *item, const char *what, const char *text)
{
    int64_t first, last;
    if (parse_days(ld, item, what, text, &first, &last) < 0)
        return -1;
    for (int64_t d = first; d <= last; d++)
        if (dayset_add(&ld->cal->holidays, d) < 0)
            return FAIL(ld, item, "out of memory");
    return 0;
}

/* "2026-10-03, a Saturday," for messages. */
static void describe_day(int64_t day, char *buf, size_t size)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    const char *name = weekday_names[weekday_of(day)];
    snprintf(buf, size, "%04d-%02d-%02d, a %c%s,", y, m, d, name[0] - 'a' + 'A', name + 1);
}

static int add_workday(loader_t *ld, struct fy_node *item, const char *what, const char *text)
{
    int64_t first, last;
    char desc[48];
    if (parse_days(ld, item, what, text, &first, &last) < 0)
        return -1;
    for (int64_t d = first; d <= last; d++) {
        describe_day(d, desc, sizeof desc);
        if (dayset_has(&ld->cal->holidays, d))
            return FAIL(ld, item, "%s: %s is also a holiday", what, desc);
        if (!is_weekend(ld->cal, d))
            return FAIL(ld, item,
                        "%s: %s is a working day anyway: make-up working days are weekend days "
                        "(check the date)",
                        what, desc);
        if (dayset_add(&ld->cal->workdays, d) < 0)
            return FAIL(ld, item, "out of memory");
    }
    return 0;
}

static int load(loader_t *ld, struct fy_node *node)
{
    yamlutil_field_t f[NKEYS] = {{"timezone"}, {"utc_offset"}, {"work_hours"}, /* K_ order */
                                 {"weekends"}, {"holidays"},   {"workdays"}};
    if (yamlutil_get_fields(&ld->cx, node, "calendar", f, NKEYS) < 0)
        return -1;
    if (f[K_TIMEZONE].node && f[K_UTC_OFFSET].node)
        return FAIL(ld, f[K_UTC_OFFSET].node, "calendar: give timezone or utc_offset, not both");
    if ((f[K_TIMEZONE].node && load_timezone(ld, f[K_TIMEZONE].node) < 0) ||
        (f[K_UTC_OFFSET].node && load_utc_offset(ld, f[K_UTC_OFFSET].node) < 0) ||
        (f[K_WORK_HOURS].node && load_work_hours(ld, f[K_WORK_HOURS].node) < 0) ||
        (f[K_WEEKENDS].node && load_weekends(ld, f[K_WEEKENDS].node) < 0) ||
        each_item(ld, f[K_HOLIDAYS].node, "calendar.holidays", add_holiday) < 0)
        return -1;
    dayset_sort(&ld->cal->holidays); /* add_workday looks holidays up */
    if (each_item(ld, f[K_WORKDAYS].node, "calendar.workdays", add_workday) < 0)
        return -1;
    dayset_sort(&ld->cal->workdays);
    finish(ld->cal);
    return 0;
}

calendar_t *calendar_load(struct fy_node *node, const char *file, char *err, size_t errlen)
{
    loader_t ld = {.cx = {.path = file, .err = err, .errlen = errlen, .quote_max = QUOTE_MAX},
                   .cal = calendar_new_default()};
    if (!ld.cal) {
        snprintf(err, errlen, "%s: out of memory", file);
        return NULL;
    }
    if (node && load(&ld, node) < 0)
        calendar_destroy(&ld.cal);
    return ld.cal;
}
