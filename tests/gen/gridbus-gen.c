/*
 * gridbus-gen: publishes a realistic month of the Daidong sample (conf/daidong.yaml) to a
 * gridbusd through the public protocol (libgridbus), for demos and tests.
 *
 *   gridbus-gen --endpoint E --month 2026-11 [--seed N] [--follow-ups]
 *
 * The daemon must have been started with `--set testing.allow_clock=true`: the generator
 * moves the daemon's clock (gridbus_clock) through the month, so that each event is stored
 * at the moment it says it happened and the deadlines, escalations, ledger due dates, daily
 * digests (17:30) and the weekly visit check (Sunday 17:30) run as they would have. Never
 * point it at a production daemon (which refuses the clock anyway).
 *
 * What a month holds (every draw comes from one PRNG seeded by --seed, so a seed always
 * gives the same events with the same ids; running it again against the same daemon is a
 * resend: every event is acked dup:true):
 *   - visits (visit.logged): each of the three cadres (gong.xiujuan g1, zhang.teng g2, li.zhen
 *     g3) is on site 3 or 4 working days a week and knocks on 3-6 doors each day; one cadre
 *     has one week of only 2 days (the week's visit_quota alert). Some visits carry concerns
 *     or need a follow-up (a task for the grid leader). The week holding the 1st is begun on
 *     its Monday (visits only on the days before the 1st), so the first Sunday's check sees a
 *     whole week rather than reporting every cadre short;
 *   - 106 repair requests (repair.requested) over the 6 compounds, water, electric, gas and
 *     elderly care, reported by the grid workers or the service hall, most with the fee
 *     waived;
 *   - patrol issues (patrol.issue_found) by the enforcement team: sanitation, traffic, city
 *     appearance, illegal construction, public security, fire hazards; a few of high
 *     severity;
 *   - ledger entries (ledger.entry_submitted) by the bookkeeper xu.na: the monthly property
 *     subsidy to 鸿瑞物业 (100,000 yuan / 12 = 833,333 fen), the property fee income, a
 *     storefront lease whose recovery was due last month and is not settled (ledger_overdue),
 *     repair materials, shared tools, station utilities; one expense approved by its own
 *     submitter (ledger_self_approval) and one entry number used twice (ledger_duplicate).
 * With --follow-ups the case loop is played too: every task's assignee (read from the task
 * feed) accepts and completes it (repairs with their fees and waived fees, 2 of them
 * accepted late and 2 left unfinished, so task-overdue alerts appear), and the grid leader
 * verifies most repairs. Without it only the field reports are published and every task
 * stays open until its deadlines pass.
 *
 * At the end it prints one JSON line: events published, acked (and of them dup), nacked,
 * follow-ups skipped (no task or nobody assigned), clock sets, tasks opened during the run,
 * repairs and the completions acked, fees waived, and the alerts raised during the run on a
 * day of the month, per rule (read back from the alerts feed), with a count of those raised
 * on other days (see below). Exit status: 0 all acked, 1 some refused, 2 usage error or
 * clock refused, 3 transport error.
 *
 * Start it on a fresh daemon. The daemon's first alert pass (at its start, on the real
 * clock) sets where its digest and weekly visit check begin; for a month after the real
 * date, the first clock move therefore checks the week before the lead-in Monday, finds no
 * visits and raises a visit_quota alert for each cadre on that Sunday (outside the month,
 * counted in alerts_outside_month). A month before the real date has no such alerts.
 */
#include <getopt.h>
#include <inttypes.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridbus.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define TZ_OFFSET_MS (8 * HOUR_MS) /* Asia/Shanghai, no daylight saving */

#define REPAIRS 106
#define MAX_KV 8

/* ---- the PRNG (splitmix64: small, and the same everywhere) ---- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* An integer in [lo, hi]. */
static int rnd(int lo, int hi)
{
    return lo + (int)(rng_next() % (uint64_t)(hi - lo + 1));
}

static bool chance(int percent)
{
    return rnd(1, 100) <= percent;
}

#define PICK(arr) ((arr)[rnd(0, (int)(sizeof(arr) / sizeof((arr)[0])) - 1)])

/* ---- dates and the community calendar (conf/daidong.yaml: calendar) ---- */

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
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
static int weekday(int64_t day)
{
    return (int)(((day % 7) + 7 + 3) % 7);
}

/* Local midnight of a day number, as ms since the epoch. */
static int64_t day_start(int64_t day)
{
    return day * DAY_MS - TZ_OFFSET_MS;
}

static int64_t local_ms(int64_t day, int hour, int minute)
{
    return day_start(day) + hour * HOUR_MS + minute * MIN_MS;
}

static int64_t day_of(int64_t ms)
{
    int64_t l = ms + TZ_OFFSET_MS;
    return (l >= 0 ? l : l - DAY_MS + 1) / DAY_MS;
}

static void day_text(int64_t day, char out[11])
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
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
    return sscanf(s, "%d-%d-%d", &y, &m, &d) == 3 ? days_from_civil(y, m, d) : 0;
}

static bool is_working_day(int64_t day)
{
    for (size_t i = 0; i < sizeof holidays / sizeof holidays[0]; i++)
        if (day >= parse_day(holidays[i][0]) && day <= parse_day(holidays[i][1]))
            return false;
    for (size_t i = 0; i < sizeof workdays / sizeof workdays[0]; i++)
        if (day == parse_day(workdays[i]))
            return true;
    return weekday(day) < 5;
}

/* Working hours: 08:30-12:00 and 14:00-17:30, as minutes of the local day. */
static const int sessions[][2] = {{8 * 60 + 30, 12 * 60}, {14 * 60, 17 * 60 + 30}};

/* The instant `minutes` of working time after t (t outside working time starts at the next
 * working moment), as the daemon counts deadlines. */
static int64_t work_add(int64_t t, int minutes)
{
    for (int guard = 0; guard < 400; guard++) {
        int64_t day = day_of(t);
        if (is_working_day(day)) {
            for (size_t s = 0; s < 2; s++) {
                int64_t from = local_ms(day, 0, sessions[s][0]),
                        to = local_ms(day, 0, sessions[s][1]);
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
        t = day_start(day + 1);
    }
    return t;
}

/* A random working moment of day between 08:40 and 16:30, on a 5-minute grid. */
static int64_t work_time(int64_t day)
{
    int slots_am = (11 * 60 + 50 - (8 * 60 + 40)) / 5, slots_pm = (16 * 60 + 30 - 14 * 60) / 5;
    int k = rnd(0, slots_am + slots_pm);
    int minute = k <= slots_am ? 8 * 60 + 40 + 5 * k : 14 * 60 + 5 * (k - slots_am - 1);
    return local_ms(day, 0, minute);
}

/* ---- the community (conf/daidong.yaml) ---- */

typedef struct {
    const char *id, *name, *grid;
} compound_t;

static const compound_t compounds[] = {
    {"c1", "第一小区", "g1"}, {"c2", "第二小区", "g1"}, {"c3", "第三小区", "g2"},
    {"c4", "第四小区", "g2"}, {"c5", "第五小区", "g3"}, {"c6", "第六小区", "g3"},
};

static const char *const cadres[] = {"gong.xiujuan", "zhang.teng", "li.zhen"};
static const char *const cadre_grid[] = {"g1", "g2", "g3"};

static int grid_index(const char *grid)
{
    return grid[1] - '1';
}

static const char *const grid_leader[] = {"chen.jing", "zhao.lei", "sun.fang"};
static const char *const grid_member[] = {"zhou.yang", "zhou.yang", "wu.ting"};
static const char *const citymgmt[] = {"citymgmt.g1", "citymgmt.g2", "citymgmt.g3"};
static const char *const police[] = {"police.g1", "police.g2", "police.g3"};

/* ---- the plan: every event of the month, drawn before anything is sent ---- */

typedef enum { A_TICK, A_FIELD, A_ACCEPT, A_COMPLETE, A_VERIFY } kind_t;

typedef enum { T_NONE, T_REPAIR, T_OTHER } task_kind_t;

typedef struct {
    kind_t kind;
    int64_t at;
    unsigned order; /* plan order: breaks ties of at */
    const char *type;
    char id[48];
    const char *by; /* field events; follow-ups take the assignee */
    const char *grid;
    char place[96];
    const char *keys[MAX_KV];
    char *vals[MAX_KV];
    int nkv;
    int opener;        /* follow-ups: the action that opened the task */
    int same_entry;    /* ledger: 1 + the entry whose number it repeats, 0: a number of its own */
    task_kind_t tkind; /* field events: what task it should open */
    /* filled while running */
    uint64_t seq;
    bool acked, has_task;
    char assignee[65];
} action_t;

static action_t *plan;
static size_t nplan, capplan;
static char month_text[8];
static uint64_t seed = 1;

static action_t *add(kind_t kind, int64_t at)
{
    if (nplan == capplan) {
        capplan = capplan ? 2 * capplan : 1024;
        plan = realloc(plan, capplan * sizeof *plan);
        if (!plan) {
            fprintf(stderr, "gridbus-gen: out of memory\n");
            exit(3);
        }
    }
    action_t *a = &plan[nplan];
    memset(a, 0, sizeof *a);
    a->kind = kind, a->at = at, a->order = (unsigned)nplan, a->opener = -1;
    snprintf(a->id, sizeof a->id, "gen-%s-s%" PRIu64 "-%05zu", month_text, seed, nplan);
    nplan++;
    return a;
}

static void kv(action_t *a, const char *key, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    a->keys[a->nkv] = key;
    a->vals[a->nkv] = strdup(buf);
    a->nkv++;
}

static action_t *field(const char *type, int64_t at, const char *by, const char *grid)
{
    action_t *a = add(A_FIELD, at);
    a->type = type, a->by = by, a->grid = grid;
    return a;
}

static int64_t month_first, month_last; /* day numbers */
static int64_t month_limit;             /* the last working moment of the month */

static int64_t clip(int64_t t, int64_t prev)
{
    if (t <= month_limit)
        return t;
    return prev + MIN_MS > month_limit ? prev + MIN_MS : month_limit;
}

/* A follow-up of type on the task opened by plan[opener]. */
static action_t *follow(kind_t kind, int opener, int64_t at)
{
    action_t *a = add(kind, at);
    a->opener = opener;
    a->type = kind == A_ACCEPT     ? "task.accepted"
              : kind == A_COMPLETE ? "task.completed"
                                   : "task.verified";
    return a;
}

/* Accept after accept_min working minutes, complete done_min working minutes later; returns
 * the completion (or -1 when not completed). */
static int case_loop(int opener, int accept_min, int done_min, const char *outcome, int64_t fee_fen,
                     int64_t waived_fen, bool complete)
{
    int64_t t0 = plan[opener].at;
    int64_t ta = clip(work_add(t0, accept_min), t0);
    action_t *a = follow(A_ACCEPT, opener, ta);
    kv(a, "note", "%s", "收到，马上处理");
    if (!complete)
        return -1;
    int64_t tc = clip(work_add(ta, done_min), ta);
    action_t *c = follow(A_COMPLETE, opener, tc);
    kv(c, "outcome", "%s", outcome);
    if (fee_fen >= 0)
        kv(c, "fee_fen", "%" PRId64, fee_fen);
    if (waived_fen >= 0)
        kv(c, "fee_waived_fen", "%" PRId64, waived_fen);
    return (int)(c - plan);
}

static bool follow_ups;

static void household(char *out, size_t len, const compound_t *c, char *place, size_t plen)
{
    int b = rnd(1, 18), u = rnd(1, 4), r = rnd(1, 6) * 100 + rnd(1, 2);
    snprintf(out, len, "%s-%d-%d-%d", c->id, b, u, r);
    snprintf(place, plen, "%s %d号楼%d单元%d", c->name, b, u, r);
}

/* ---- visits ---- */

static const char *const visit_summaries[] = {
    "走访独居老人，身体状况良好", "了解困难家庭近况，告知物业费减免政策",
    "收集居民对楼道改造的意见",   "回访上月报修住户，满意",
    "宣传共享家什借用办法",       "走访新入住住户，登记联系方式",
    "了解高龄老人用餐需求",       "入户宣传燃气安全",
};
static const char *const visit_concerns[] = {
    "楼道灯不亮",         "下水道返味",   "屋顶漏雨",       "电动车在楼道充电",
    "老人行动不便需助餐", "楼下占道经营", "外墙空调架锈蚀",
};

static void plan_visit_day(int cadre, int64_t day, bool lead_in)
{
    const char *grid = cadre_grid[cadre];
    int gi = grid_index(grid), n = rnd(3, 6);
    int64_t t = local_ms(day, 8, 45 + 5 * rnd(0, 6));
    for (int i = 0; i < n; i++) {
        const compound_t *c = &compounds[2 * gi + rnd(0, 1)];
        action_t *a = field("visit.logged", t, cadres[cadre], grid);
        char hh[64];
        household(hh, sizeof hh, c, a->place, sizeof a->place);
        kv(a, "household", "%s", hh);
        kv(a, "summary", "%s", PICK(visit_summaries));
        bool concerns = !lead_in && chance(15), followup = !lead_in && chance(8);
        if (concerns) {
            const char *c1 = PICK(visit_concerns), *c2 = PICK(visit_concerns);
            if (c1 != c2 && chance(40))
                kv(a, "concerns", "%s,%s", c1, c2);
            else
                kv(a, "concerns", "%s", c1);
        }
        if (followup)
            kv(a, "needs_followup", "true");
        if (concerns || followup) {
            a->tkind = T_OTHER;
            if (follow_ups)
                case_loop((int)(a - plan), rnd(30, 240), rnd(60, 420), "已上门处理并回访住户", -1,
                          -1, true);
        }
        t = is_working_day(day) ? work_add(t, rnd(25, 70)) : t + rnd(25, 70) * MIN_MS;
        if (t > local_ms(day, 16, 45))
            break;
    }
}

/* The week of Monday `monday`: each cadre on 3-4 of its working days (2 in the short week),
 * clipped to [from, month_last]. */
static void plan_visits(int64_t from, int short_cadre, int64_t short_monday)
{
    for (int64_t monday = from - weekday(from); monday <= month_last; monday += 7) {
        for (int c = 0; c < 3; c++) {
            int64_t cand[7];
            int n = 0;
            for (int64_t d = monday; d < monday + 7; d++)
                if (d >= from && d <= month_last && is_working_day(d))
                    cand[n++] = d;
            for (int64_t d = monday + 5; d < monday + 7 && n < 3; d++) /* a short week */
                if (d >= from && d <= month_last && !is_working_day(d))
                    cand[n++] = d;
            int k = c == short_cadre && monday == short_monday ? 2 : rnd(3, 4);
            /* choose k of the n days: a partial shuffle, then keep them in date order */
            for (int i = 0; i < n && i < k; i++) {
                int j = rnd(i, n - 1);
                int64_t x = cand[i];
                cand[i] = cand[j], cand[j] = x;
            }
            if (k > n)
                k = n;
            bool on[7] = {false};
            for (int i = 0; i < k; i++)
                on[cand[i] - monday] = true;
            for (int i = 0; i < 7; i++)
                if (on[i])
                    plan_visit_day(c, monday + i, monday + i < month_first);
        }
    }
}

/* ---- repairs ---- */

typedef struct {
    const char *category;
    const char *const *what;
    int nwhat;
} repair_kind_t;

static const char *const water[] = {"厨房水管漏水", "马桶水箱不止水", "水龙头滴水", "下水道堵塞",
                                    "暖气片漏水"};
static const char *const electric[] = {"楼道灯不亮", "插座跳闸", "电线老化需更换", "电表箱门损坏",
                                       "灯具更换"};
static const char *const gas[] = {"燃气灶打不着火", "燃气软管老化需更换", "热水器点火故障"};
static const char *const elderly[] = {"独居老人助浴", "高龄老人代购药品", "失能老人上门理发",
                                      "老人家中安装扶手"};
static const repair_kind_t repair_kinds[] = {
    {"water", water, 5}, {"electric", electric, 5}, {"gas", gas, 3}, {"elderly_care", elderly, 4}};

typedef struct {
    int complete; /* the completion action, -1 none */
    bool waived;
} repair_fee_t;

static int64_t repairs_planned_done, waived_planned;

static void plan_repairs(const int64_t *wdays, int nwdays)
{
    repair_fee_t fees[REPAIRS];
    int late[2] = {rnd(0, REPAIRS - 1), rnd(0, REPAIRS - 1)};
    int open[2] = {rnd(0, REPAIRS - 1), rnd(0, REPAIRS - 1)};
    for (int i = 0; i < REPAIRS; i++) {
        int64_t day = wdays[rnd(0, nwdays - 1)];
        const compound_t *c = &compounds[rnd(0, 5)];
        int gi = grid_index(c->grid), w = rnd(1, 100);
        const repair_kind_t *k = &repair_kinds[w <= 35 ? 0 : w <= 65 ? 1 : w <= 75 ? 2 : 3];
        const char *by = chance(30) ? "liu.min" : chance(60) ? grid_leader[gi] : grid_member[gi];
        action_t *a = field("repair.requested", work_time(day), by, c->grid);
        char hh[64];
        household(hh, sizeof hh, c, a->place, sizeof a->place);
        kv(a, "household", "%s", hh);
        kv(a, "category", "%s", k->category);
        int u = rnd(1, 100);
        const char *urgency = u <= 8 ? "high" : u <= 28 ? "low" : "normal";
        kv(a, "urgency", "%s", urgency);
        kv(a, "description", "%s", k->what[rnd(0, k->nwhat - 1)]);
        bool waived = chance(80);
        if (waived)
            kv(a, "fee_waived", "true");
        a->tkind = T_REPAIR;
        fees[i] = (repair_fee_t){-1, waived};
        if (!follow_ups)
            continue;
        bool urgent = !strcmp(urgency, "high");
        int accept = urgent ? rnd(5, 20) : rnd(10, 90);
        if (i == late[0] || i == late[1])
            accept = rnd(150, 200); /* past accept_within: a task-overdue alert */
        int work = urgent ? rnd(30, 240) : rnd(40, 400);
        bool complete = i != open[0] && i != open[1];
        /* the fees are set below, once the total is known: placeholders -1 */
        fees[i].complete =
            case_loop((int)(a - plan), accept, work, "已修好，住户确认", -1, -1, complete);
    }
    if (!follow_ups)
        return;
    /* Waived fees: a total a bit over 7,000 yuan, shared by weight among the waived
     * completed repairs in whole yuan; the others pay a small charge. */
    int64_t target = 700000 + 100 * rnd(50, 600), weights[REPAIRS], wsum = 0;
    int last = -1;
    for (int i = 0; i < REPAIRS; i++) {
        weights[i] = fees[i].complete >= 0 && fees[i].waived ? rnd(20, 120) : 0;
        wsum += weights[i];
        if (weights[i])
            last = i;
    }
    int64_t given = 0;
    for (int i = 0; i < REPAIRS; i++) {
        if (fees[i].complete < 0)
            continue;
        action_t *c = &plan[fees[i].complete];
        int64_t fee = 0, waived = 0;
        if (weights[i]) {
            waived = i == last ? target - given : target * weights[i] / wsum / 100 * 100;
            given += waived;
        } else {
            fee = 100 * rnd(5, 30);
        }
        kv(c, "fee_fen", "%" PRId64, fee);
        kv(c, "fee_waived_fen", "%" PRId64, waived);
        repairs_planned_done++;
        waived_planned += waived;
        /* the grid leader checks most repairs the next working day */
        if (chance(85)) {
            int opener = c->opener;
            int64_t tv = clip(work_add(c->at, rnd(60, 420)), c->at);
            action_t *v = follow(A_VERIFY, opener, tv);
            v->by = grid_leader[grid_index(plan[opener].grid)];
            kv(v, "ok", "true");
            kv(v, "note", "%s", "回访住户，已修复");
        }
    }
}

/* ---- patrols ---- */

typedef struct {
    const char *category;
    int weight;
    const char *const *what;
    int nwhat;
} patrol_kind_t;

static const char *const p_fire[] = {"楼道堆放杂物堵塞消防通道", "电动车飞线充电", "消防栓被占用",
                                     "灭火器过期"};
static const char *const p_security[] = {"小区门禁损坏", "夜间有陌生人多次徘徊",
                                         "自行车棚监控失灵"};
static const char *const p_appearance[] = {"沿街店铺占道经营", "乱贴小广告", "围墙破损"};
static const char *const p_construction[] = {"楼顶私搭彩钢房", "一楼住户私自扩建院墙"};
static const char *const p_sanitation[] = {"垃圾桶满溢未清运", "绿化带内堆放建筑垃圾",
                                           "化粪池外溢"};
static const char *const p_traffic[] = {"车辆占用消防车道", "巷口乱停车影响通行",
                                        "路面塌陷存在隐患"};
static const char *const p_other[] = {"井盖缺失", "树枝断裂悬挂"};
static const patrol_kind_t patrol_kinds[] = {
    {"fire_hazard", 8, p_fire, 4},
    {"public_security", 12, p_security, 3},
    {"city_appearance", 20, p_appearance, 3},
    {"illegal_construction", 8, p_construction, 2},
    {"sanitation", 25, p_sanitation, 3},
    {"traffic", 20, p_traffic, 3},
    {"other", 7, p_other, 2},
};

static void plan_patrols(const int64_t *wdays, int nwdays)
{
    int highs = 0, count = 0;
    for (int i = 0; i < nwdays; i++) {
        int n = rnd(1, 3);
        for (int j = 0; j < n; j++, count++) {
            int w = rnd(1, 100), k = 0;
            for (int acc = patrol_kinds[0].weight; acc < w; acc += patrol_kinds[++k].weight)
                ;
            const patrol_kind_t *pk = &patrol_kinds[k];
            const compound_t *c = &compounds[rnd(0, 5)];
            int gi = grid_index(c->grid);
            const char *by = !strcmp(pk->category, "fire_hazard")       ? "fire.1"
                             : !strcmp(pk->category, "public_security") ? police[gi]
                                                                        : citymgmt[gi];
            int s = rnd(1, 100);
            /* at least three high-severity issues a month, spread over it */
            bool force_high = highs < 3 && count > 0 && count % 12 == 0;
            const char *severity = s <= 8 || force_high ? "high" : s <= 55 ? "low" : "medium";
            highs += !strcmp(severity, "high");
            action_t *a = field("patrol.issue_found", work_time(wdays[i]), by, c->grid);
            snprintf(a->place, sizeof a->place, "%s %d号楼附近", c->name, rnd(1, 18));
            kv(a, "category", "%s", pk->category);
            kv(a, "severity", "%s", severity);
            kv(a, "description", "%s", pk->what[rnd(0, pk->nwhat - 1)]);
            if (chance(60))
                kv(a, "photo", "patrol/%s/%s.jpg", month_text, a->id);
            a->tkind = T_OTHER;
            if (!follow_ups)
                continue;
            bool fire = !strcmp(pk->category, "fire_hazard");
            bool sec = !strcmp(pk->category, "public_security");
            case_loop((int)(a - plan),
                      fire  ? rnd(5, 25)
                      : sec ? rnd(10, 50)
                            : rnd(15, 110),
                      fire ? rnd(30, 180) : rnd(60, 400), "已现场处置，拍照存档", -1, -1, true);
        }
    }
}

/* ---- the ledger ---- */

/* Returns the entry's plan index (the plan may move when follow-ups are added). */
static int ledger(int64_t at, int same_as, const char *direction, int64_t fen, const char *category,
                  const char *counterparty, const char *approved)
{
    action_t *a = field("ledger.entry_submitted", at, "xu.na", NULL);
    kv(a, "entry", "%s", "numbered-later"); /* in date order, once the plan is sorted */
    a->same_entry = same_as + 1;
    kv(a, "direction", "%s", direction);
    kv(a, "amount_fen", "%" PRId64, fen);
    kv(a, "category", "%s", category);
    kv(a, "counterparty", "%s", counterparty);
    if (approved)
        kv(a, "approved_by", "%s", approved);
    a->tkind = T_OTHER;
    int idx = (int)(a - plan);
    if (follow_ups) /* the commissioner's review (三联会审) */
        case_loop(idx, rnd(30, 300), rnd(60, 400), "已审核，凭证齐全", -1, -1, true);
    return idx;
}

static void plan_ledger(const int64_t *wdays, int nwdays)
{
    /* the property subsidy: 100,000 yuan a year, paid monthly */
    ledger(local_ms(wdays[0], 9, 30), -1, "expense", 833333, "property_subsidy", "鸿瑞物业",
           "li.qiang,gong.xiujuan");
    /* the storefront lease: its recovery was due on the last working day of last month, and
     * no entry settles it (ledger_overdue) */
    int64_t due_day = month_first - 1;
    while (!is_working_day(due_day))
        due_day--;
    int lease = ledger(local_ms(wdays[1], 10, 15), -1, "income", 180000, "lease",
                       "岱东社区临街门面承租户", "li.qiang");
    kv(&plan[lease], "due", "%" PRId64, local_ms(due_day, 17, 0));
    kv(&plan[lease], "note", "%s", "租期已于上月届满，门面应于上月收回，本月仍按原租金入账");
    /* property fees collected (15 yuan per household per month; 46 hardship households
     * exempt; the household count is the generator's assumption, not the report's) */
    ledger(local_ms(wdays[nwdays / 2], 15, 0), -1, "income", (int64_t)(1200 - 46) * 1500,
           "property_fee", "住户物业费(鸿瑞物业代收)", "li.qiang");
    /* repair materials for 到家帮帮, every week */
    int first_materials = -1;
    for (int i = 2; i < nwdays; i += 5) {
        int a = ledger(work_time(wdays[i]), -1, "expense", 100 * rnd(120, 480), "repair_materials",
                       "岱宗五金建材店", "li.qiang");
        if (first_materials < 0)
            first_materials = a;
    }
    /* shared tools for the 3 grid stations (共享家什) */
    ledger(work_time(wdays[3]), -1, "expense", 126000, "shared_tools", "泰安市工具批发部",
           "li.qiang");
    /* the three service stations' utilities, near the month end */
    static const char *const stations[] = {"第一网格驿站水电费", "第二网格驿站水电费",
                                           "第三网格驿站水电费"};
    for (int g = 0; g < 3; g++)
        ledger(work_time(wdays[nwdays - 3]), -1, "expense", 100 * rnd(300, 900), "utilities",
               stations[g], "li.qiang");
    /* volunteer activity: the double-report party members' civic day */
    ledger(work_time(wdays[nwdays / 3]), -1, "expense", 100 * rnd(800, 2400), "activities",
           "双报到党员志愿服务日", "li.qiang,li.zhen");
    /* the clues: an expense approved by its own submitter ... */
    ledger(work_time(wdays[nwdays / 2 + 1]), -1, "expense", 38600, "office_supplies", "岱庙文具店",
           "xu.na");
    /* ... and an entry number used twice (a printing bill entered under the number of the
     * first materials purchase) */
    ledger(work_time(wdays[nwdays / 2 + 3]), first_materials, "expense", 24500, "printing",
           "宣传栏印刷", "li.qiang");
}

/* ---- running the plan ---- */

typedef struct {
    uint64_t published, acked, dups, nacked, skipped, clock_sets;
    uint64_t tasks, repairs, repairs_done, waived;
} counts_t;

static counts_t counts;

/* seq -> plan index of the field events, open addressing */
static size_t *seq_idx;
static uint64_t *seq_key;
static size_t seq_cap;

static void seq_put(uint64_t seq, size_t idx)
{
    size_t h = (size_t)(seq * UINT64_C(0x9e3779b97f4a7c15)) & (seq_cap - 1);
    while (seq_key[h] && seq_key[h] != seq)
        h = (h + 1) & (seq_cap - 1);
    seq_key[h] = seq, seq_idx[h] = idx;
}

static action_t *seq_get(uint64_t seq)
{
    size_t h = (size_t)(seq * UINT64_C(0x9e3779b97f4a7c15)) & (seq_cap - 1);
    while (seq_key[h]) {
        if (seq_key[h] == seq)
            return &plan[seq_idx[h]];
        h = (h + 1) & (seq_cap - 1);
    }
    return NULL;
}

static const msgpack_object *map_get(const msgpack_object *o, const char *key)
{
    if (!o || o->type != MSGPACK_OBJECT_MAP)
        return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < o->via.map.size; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            !memcmp(k->via.str.ptr, key, n))
            return &o->via.map.ptr[i].val;
    }
    return NULL;
}

static uint64_t map_u64(const msgpack_object *o, const char *key)
{
    const msgpack_object *v = map_get(o, key);
    return v && v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? v->via.u64 : 0;
}

static bool map_str(const msgpack_object *o, const char *key, char *out, size_t len)
{
    const msgpack_object *v = map_get(o, key);
    if (!v || v->type != MSGPACK_OBJECT_STR)
        return false;
    snprintf(out, len, "%.*s", (int)v->via.str.size, v->via.str.ptr);
    return true;
}

static void on_task_record(const void *data, size_t len, void *arg)
{
    msgpack_unpacked u;
    (void)arg;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, data, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *task = map_get(&u.data, "task");
        action_t *a = seq_get(map_u64(task, "seq"));
        if (a) {
            if (!a->has_task)
                counts.tasks++;
            a->has_task = true;
            map_str(task, "assignee", a->assignee, sizeof a->assignee);
        }
    }
    msgpack_unpacked_destroy(&u);
}

#define MAX_RULES 32
static char rule_name[MAX_RULES][64];
static uint64_t rule_count[MAX_RULES];
static int nrules;
static uint64_t alerts_elsewhere; /* raised during the run on a day outside the month */

/* Counts the alerts raised on a day of the month, per rule. */
static void on_alert_record(const void *data, size_t len, void *arg)
{
    msgpack_unpacked u;
    char change[32], rule[64], day[16];
    (void)arg;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, data, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        map_str(&u.data, "change", change, sizeof change) && !strcmp(change, "raised") &&
        map_str(map_get(&u.data, "alert"), "rule", rule, sizeof rule) &&
        map_str(map_get(&u.data, "alert"), "day", day, sizeof day)) {
        if (strncmp(day, month_text, 7)) {
            alerts_elsewhere++;
            msgpack_unpacked_destroy(&u);
            return;
        }
        int i = 0;
        while (i < nrules && strcmp(rule_name[i], rule))
            i++;
        if (i == nrules && nrules < MAX_RULES)
            snprintf(rule_name[nrules++], sizeof rule_name[0], "%s", rule);
        if (i < nrules)
            rule_count[i]++;
    }
    msgpack_unpacked_destroy(&u);
}

static gridbus_t *bus;

static void die_transport(const char *what)
{
    fprintf(stderr, "gridbus-gen: %s: %s: %s\n", what, gridbus_errcode(bus), gridbus_error(bus));
    exit(3);
}

/* Reads stream from *cursor to its head, calling fn for each record. */
static void read_stream(const char *stream, uint64_t *cursor, gridbus_record_fn *fn)
{
    for (;;) {
        uint64_t next = 0, head = 0;
        if (gridbus_replay(bus, stream, *cursor, 1000, NULL, fn, NULL, &next, &head) < 0)
            die_transport("replay");
        if (next <= *cursor || next > head) {
            *cursor = next > *cursor ? next : *cursor;
            return;
        }
        *cursor = next;
    }
}

static uint64_t task_cursor = 1, alert_cursor = 1;

static void on_done(const gridbus_result_t *r, void *arg)
{
    action_t *a = arg;
    if (r->status == GRIDBUS_OK) {
        counts.acked++;
        counts.dups += r->dup;
        a->acked = true, a->seq = r->seq;
        if (a->kind == A_FIELD)
            seq_put(r->seq, (size_t)(a - plan));
        if (a->kind == A_COMPLETE && plan[a->opener].tkind == T_REPAIR) {
            counts.repairs_done++;
            for (int i = 0; i < a->nkv; i++)
                if (!strcmp(a->keys[i], "fee_waived_fen"))
                    counts.waived += strtoull(a->vals[i], NULL, 10);
        }
    } else {
        counts.nacked++;
        fprintf(stderr, "gridbus-gen: %s %s refused: %s %s\n", a->type, a->id,
                r->code ? r->code : "?", r->message ? r->message : "");
    }
}

/* The task opened by o's event, when the feed read during this run did not show it. */
static void query_task(action_t *o)
{
    char id[32];
    const void *data;
    size_t len;
    snprintf(id, sizeof id, "t-%" PRIu64, o->seq);
    if (gridbus_query_task(bus, id, &data, &len) < 0) {
        if (gridbus_status(bus) != GRIDBUS_ENACK)
            die_transport("query");
        return; /* E_TASK: no task */
    }
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, data, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        o->has_task = true;
        map_str(&u.data, "assignee", o->assignee, sizeof o->assignee);
    }
    msgpack_unpacked_destroy(&u);
}

static void set_clock(int64_t at, int64_t *clock)
{
    if (gridbus_flush(bus) < 0 && gridbus_status(bus) != GRIDBUS_ENACK)
        die_transport("publish");
    if (gridbus_clock(bus, at, NULL) < 0) {
        if (!strcmp(gridbus_errcode(bus), "E_FORBIDDEN")) {
            fprintf(stderr, "gridbus-gen: the daemon refuses to set its clock: start it with "
                            "--set testing.allow_clock=true (a test daemon, never production)\n");
            exit(2);
        }
        die_transport("clock");
    }
    counts.clock_sets++;
    *clock = at;
}

static void send_action(action_t *a)
{
    gridbus_event_t *ev = gridbus_event_new();
    char task[32];
    const void *data;
    size_t len;
    if (!ev) {
        fprintf(stderr, "gridbus-gen: out of memory\n");
        exit(3);
    }
    const char *by = a->by;
    if (a->kind != A_FIELD) {
        action_t *o = &plan[a->opener];
        if (!o->acked || !o->has_task) { /* the task feed may not have been read since */
            if (gridbus_flush(bus) < 0 && gridbus_status(bus) != GRIDBUS_ENACK)
                die_transport("publish");
            read_stream("tasks", &task_cursor, on_task_record);
        }
        if (o->acked && !o->has_task) /* opened before this run (a re-run): ask for it */
            query_task(o);
        if (!o->acked || !o->has_task || (!by && !o->assignee[0])) {
            counts.skipped++; /* no task, or parked: nobody to act */
            gridbus_event_destroy(&ev);
            return;
        }
        if (!by)
            by = o->assignee;
        snprintf(task, sizeof task, "t-%" PRIu64, o->seq);
    }
    int rc = gridbus_event_set_type(ev, a->type) | gridbus_event_set_id(ev, a->id) |
             gridbus_event_set_by(ev, by) | gridbus_event_set_at(ev, a->at);
    if (a->grid)
        rc |= gridbus_event_set_grid(ev, a->grid);
    if (a->place[0])
        rc |= gridbus_event_set_place(ev, a->place);
    if (a->kind != A_FIELD)
        rc |= gridbus_event_set(ev, "task", task);
    for (int i = 0; i < a->nkv; i++)
        rc |= gridbus_event_set(ev, a->keys[i], a->vals[i]);
    if (rc || gridbus_event_validate(ev) < 0 || gridbus_event_pack(ev, &data, &len) < 0) {
        fprintf(stderr, "gridbus-gen: bug: %s %s: %s\n", a->type, a->id, gridbus_event_error(ev));
        exit(3);
    }
    counts.published++;
    if (gridbus_send(bus, data, len, on_done, a) < 0)
        die_transport("publish");
    gridbus_event_destroy(&ev);
}

static int by_time(const void *x, const void *y)
{
    const action_t *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* The heads of the tasks and alerts streams, from a pong. */
static void read_heads(void)
{
    size_t len;
    const void *rep;
    if (gridbus_ping(bus, NULL) < 0 || !(rep = gridbus_last_reply(bus, &len)))
        die_transport("ping");
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, rep, len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        const msgpack_object *heads = map_get(&u.data, "heads");
        task_cursor = map_u64(heads, "tasks") + 1;
        alert_cursor = map_u64(heads, "alerts") + 1;
    }
    msgpack_unpacked_destroy(&u);
}

static const char usage[] =
    "usage: gridbus-gen --month YYYY-MM [--endpoint E] [--seed N] [--follow-ups]\n"
    "\n"
    "Publishes a realistic month of the Daidong sample (visits, 106 repairs, patrols, ledger\n"
    "entries; with --follow-ups the assignees' accept/complete/verify steps too) to a gridbusd\n"
    "started with --set testing.allow_clock=true, moving its clock through the month, and\n"
    "prints a one-line JSON summary. For demos and tests only. The same seed gives the same\n"
    "events. Endpoint: --endpoint, else $GRIDBUS_ENDPOINT, else tcp://127.0.0.1:7401.\n"
    "exit status: 0 all acked, 1 some refused, 2 usage error or clock refused, 3 transport.\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"month", required_argument, NULL, 'm'},
        {"seed", required_argument, NULL, 's'},     {"follow-ups", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    const char *endpoint = NULL, *month = NULL;
    int o, year = 0, mon = 0;
    char *end;
    while ((o = getopt_long(argc, argv, "e:m:s:fh", opts, NULL)) != -1) {
        switch (o) {
        case 'e':
            endpoint = optarg;
            break;
        case 'm':
            month = optarg;
            break;
        case 's':
            seed = strtoull(optarg, &end, 10);
            if (!*optarg || *end) {
                fprintf(stderr, "gridbus-gen: --seed: not a number: '%s'\n", optarg);
                return 2;
            }
            break;
        case 'f':
            follow_ups = true;
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    if (optind < argc || !month || strlen(month) != 7 || month[4] != '-' ||
        sscanf(month, "%4d-%2d", &year, &mon) != 2 || year < 2001 || year > 2099 || mon < 1 ||
        mon > 12) {
        fputs(usage, stderr);
        return 2;
    }
    snprintf(month_text, sizeof month_text, "%04d-%02d", year, mon);
    rng_state = seed ^ UINT64_C(0x6772696462757367); /* "gridbusg" */

    month_first = days_from_civil(year, mon, 1);
    month_last = days_from_civil(mon == 12 ? year + 1 : year, mon == 12 ? 1 : mon + 1, 1) - 1;
    int64_t wdays[31];
    int nwdays = 0;
    for (int64_t d = month_first; d <= month_last; d++)
        if (is_working_day(d))
            wdays[nwdays++] = d;
    if (nwdays < 10) {
        fprintf(stderr, "gridbus-gen: %s has only %d working days\n", month_text, nwdays);
        return 2;
    }
    month_limit = local_ms(wdays[nwdays - 1], 17, 25);
    int64_t lead_in = month_first - weekday(month_first); /* the Monday of the first week */

    /* the short week: a whole week inside the month, one cadre on site only 2 days */
    int64_t first_monday = month_first + (7 - weekday(month_first)) % 7;
    int weeks = (int)((month_last - first_monday + 1) / 7);
    int64_t short_monday = first_monday + 7 * rnd(0, weeks > 0 ? weeks - 1 : 0);
    int short_cadre = rnd(0, 2);

    /* the day passes: each day's 08:00 and 18:00 (after the 17:30 cut-off: the digest, and
     * on Sundays the week's visit check) */
    for (int64_t d = lead_in; d <= month_last; d++) {
        add(A_TICK, local_ms(d, 8, 0));
        add(A_TICK, local_ms(d, 18, 0));
    }
    plan_visits(lead_in, short_cadre, short_monday);
    plan_repairs(wdays, nwdays);
    plan_patrols(wdays, nwdays);
    plan_ledger(wdays, nwdays);
    counts.repairs = REPAIRS;

    /* Sort by time; follow-ups then find their opener by plan order, so remap. */
    size_t *where = malloc(nplan * sizeof *where);
    for (seq_cap = 1024; seq_cap < 4 * nplan; seq_cap *= 2)
        ;
    seq_idx = calloc(seq_cap, sizeof *seq_idx);
    seq_key = calloc(seq_cap, sizeof *seq_key);
    if (!where || !seq_idx || !seq_key) {
        fprintf(stderr, "gridbus-gen: out of memory\n");
        return 3;
    }
    qsort(plan, nplan, sizeof *plan, by_time);
    for (size_t i = 0; i < nplan; i++)
        where[plan[i].order] = i;
    for (size_t i = 0; i < nplan; i++)
        if (plan[i].opener >= 0)
            plan[i].opener = (int)where[plan[i].opener];
    /* ledger entry numbers in date order; the duplicate repeats an earlier one's */
    int entries = 0;
    for (size_t i = 0; i < nplan; i++) {
        action_t *a = &plan[i];
        if (a->kind != A_FIELD || strcmp(a->type, "ledger.entry_submitted"))
            continue;
        free(a->vals[0]);
        if (a->same_entry)
            a->vals[0] = strdup(plan[where[a->same_entry - 1]].vals[0]);
        else if (asprintf(&a->vals[0], "DD%.4s%.2s-%03d", month_text, month_text + 5, ++entries) <
                 0)
            a->vals[0] = NULL;
        if (!a->vals[0]) {
            fprintf(stderr, "gridbus-gen: out of memory\n");
            return 3;
        }
    }
    free(where);

    bus = gridbus_new();
    if (!bus || gridbus_connect(bus, endpoint) < 0) {
        fprintf(stderr, "gridbus-gen: cannot connect to %s\n", endpoint ? endpoint : "(default)");
        return 3;
    }
    gridbus_set_timeout(bus, 10000);
    read_heads();

    int64_t clock = 0;
    for (size_t i = 0; i < nplan; i++) {
        action_t *a = &plan[i];
        if (a->at != clock)
            set_clock(a->at, &clock);
        if (a->kind != A_TICK)
            send_action(a);
    }
    if (gridbus_flush(bus) < 0 && gridbus_status(bus) != GRIDBUS_ENACK)
        die_transport("publish");
    read_stream("tasks", &task_cursor, on_task_record);
    read_stream("alerts", &alert_cursor, on_alert_record);

    char from[11];
    day_text(lead_in, from);
    printf("{\"month\":\"%s\",\"seed\":%" PRIu64 ",\"from\":\"%s\",\"follow_ups\":%s,"
           "\"events\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"dup\":%" PRIu64 ",\"nacked\":%" PRIu64
           ",\"skipped\":%" PRIu64 ",\"clock_sets\":%" PRIu64 ",\"tasks\":%" PRIu64
           ",\"repairs\":%" PRIu64 ",\"repairs_completed\":%" PRIu64 ",\"fees_waived_fen\":%" PRIu64
           ",\"alerts\":{",
           month_text, seed, from, follow_ups ? "true" : "false", counts.published, counts.acked,
           counts.dups, counts.nacked, counts.skipped, counts.clock_sets, counts.tasks,
           counts.repairs, counts.repairs_done, counts.waived);
    for (int i = 0; i < nrules; i++)
        printf("%s\"%s\":%" PRIu64, i ? "," : "", rule_name[i], rule_count[i]);
    printf("},\"alerts_outside_month\":%" PRIu64 "}\n", alerts_elsewhere);
    fflush(stdout);
    gridbus_destroy(&bus);
    for (size_t i = 0; i < nplan; i++)
        for (int k = 0; k < plan[i].nkv; k++)
            free(plan[i].vals[k]);
    free(plan);
    free(seq_idx);
    free(seq_key);
    return counts.nacked ? 1 : 0;
}
