/*
 * genplan: every event of the month gridbus-gen publishes, drawn before anything is sent.
 *
 * What a month holds is told at the top of gridbus-gen.c. The plan is drawn from gencal's
 * one PRNG in a fixed order (the day ticks, visits, repairs, patrols, the ledger), so a seed
 * always gives the same events with the same ids; then it is sorted by time, the follow-ups'
 * openers remapped to the sorted order, and the ledger entries numbered in date order.
 */
#include "genplan.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gencal.h"

/* ---- the community (conf/daidong.yaml) ---- */

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

static action_t *plan;
static size_t nplan, capplan;
static char month_text[8];
static uint64_t seed;

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
    int64_t ta = clip(gencal_work_add(t0, accept_min), t0);
    action_t *a = follow(A_ACCEPT, opener, ta);
    kv(a, "note", "%s", "收到，马上处理");
    if (!complete)
        return -1;
    int64_t tc = clip(gencal_work_add(ta, done_min), ta);
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
    int b = gencal_rnd(1, 18), u = gencal_rnd(1, 4), r = gencal_rnd(1, 6) * 100 + gencal_rnd(1, 2);
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
    int gi = grid_index(grid), n = gencal_rnd(3, 6);
    int64_t t = gencal_local_ms(day, 8, 45 + 5 * gencal_rnd(0, 6));
    for (int i = 0; i < n; i++) {
        const compound_t *c = &compounds[2 * gi + gencal_rnd(0, 1)];
        action_t *a = field("visit.logged", t, cadres[cadre], grid);
        char hh[64];
        household(hh, sizeof hh, c, a->place, sizeof a->place);
        kv(a, "household", "%s", hh);
        kv(a, "summary", "%s", GENCAL_PICK(visit_summaries));
        bool concerns = !lead_in && gencal_chance(15), followup = !lead_in && gencal_chance(8);
        if (concerns) {
            const char *c1 = GENCAL_PICK(visit_concerns), *c2 = GENCAL_PICK(visit_concerns);
            if (c1 != c2 && gencal_chance(40))
                kv(a, "concerns", "%s,%s", c1, c2);
            else
                kv(a, "concerns", "%s", c1);
        }
        if (followup)
            kv(a, "needs_followup", "true");
        if (concerns || followup) {
            a->tkind = T_OTHER;
            if (follow_ups)
                case_loop((int)(a - plan), gencal_rnd(30, 240), gencal_rnd(60, 420),
                          "已上门处理并回访住户", -1, -1, true);
        }
        t = gencal_is_working_day(day) ? gencal_work_add(t, gencal_rnd(25, 70))
                                       : t + gencal_rnd(25, 70) * MIN_MS;
        if (t > gencal_local_ms(day, 16, 45))
            break;
    }
}

/* The week of Monday `monday`: each cadre on 3-4 of its working days (2 in the short week),
 * clipped to [from, month_last]. */
static void plan_visits(int64_t from, int short_cadre, int64_t short_monday)
{
    for (int64_t monday = from - gencal_weekday(from); monday <= month_last; monday += 7) {
        for (int c = 0; c < 3; c++) {
            int64_t cand[7];
            int n = 0;
            for (int64_t d = monday; d < monday + 7; d++)
                if (d >= from && d <= month_last && gencal_is_working_day(d))
                    cand[n++] = d;
            for (int64_t d = monday + 5; d < monday + 7 && n < 3; d++) /* a short week */
                if (d >= from && d <= month_last && !gencal_is_working_day(d))
                    cand[n++] = d;
            int k = c == short_cadre && monday == short_monday ? 2 : gencal_rnd(3, 4);
            /* choose k of the n days: a partial shuffle, then keep them in date order */
            for (int i = 0; i < n && i < k; i++) {
                int j = gencal_rnd(i, n - 1);
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

static void plan_repairs(const int64_t *wdays, int nwdays)
{
    repair_fee_t fees[GENPLAN_REPAIRS];
    int late[2] = {gencal_rnd(0, GENPLAN_REPAIRS - 1), gencal_rnd(0, GENPLAN_REPAIRS - 1)};
    int open[2] = {gencal_rnd(0, GENPLAN_REPAIRS - 1), gencal_rnd(0, GENPLAN_REPAIRS - 1)};
    for (int i = 0; i < GENPLAN_REPAIRS; i++) {
        int64_t day = wdays[gencal_rnd(0, nwdays - 1)];
        const compound_t *c = &compounds[gencal_rnd(0, 5)];
        int gi = grid_index(c->grid), w = gencal_rnd(1, 100);
        const repair_kind_t *k = &repair_kinds[w <= 35 ? 0 : w <= 65 ? 1 : w <= 75 ? 2 : 3];
        const char *by = gencal_chance(30)   ? "liu.min"
                         : gencal_chance(60) ? grid_leader[gi]
                                             : grid_member[gi];
        action_t *a = field("repair.requested", gencal_work_time(day), by, c->grid);
        char hh[64];
        household(hh, sizeof hh, c, a->place, sizeof a->place);
        kv(a, "household", "%s", hh);
        kv(a, "category", "%s", k->category);
        int u = gencal_rnd(1, 100);
        const char *urgency = u <= 8 ? "high" : u <= 28 ? "low" : "normal";
        kv(a, "urgency", "%s", urgency);
        kv(a, "description", "%s", k->what[gencal_rnd(0, k->nwhat - 1)]);
        bool waived = gencal_chance(80);
        if (waived)
            kv(a, "fee_waived", "true");
        a->tkind = T_REPAIR;
        fees[i] = (repair_fee_t){-1, waived};
        if (!follow_ups)
            continue;
        bool urgent = !strcmp(urgency, "high");
        int accept = urgent ? gencal_rnd(5, 20) : gencal_rnd(10, 90);
        if (i == late[0] || i == late[1])
            accept = gencal_rnd(150, 200); /* past accept_within: a task-overdue alert */
        int work = urgent ? gencal_rnd(30, 240) : gencal_rnd(40, 400);
        bool complete = i != open[0] && i != open[1];
        /* the fees are set below, once the total is known: placeholders -1 */
        fees[i].complete =
            case_loop((int)(a - plan), accept, work, "已修好，住户确认", -1, -1, complete);
    }
    if (!follow_ups)
        return;
    /* Waived fees: a total a bit over 7,000 yuan, shared by weight among the waived
     * completed repairs in whole yuan; the others pay a small charge. */
    int64_t target = 700000 + 100 * gencal_rnd(50, 600), weights[GENPLAN_REPAIRS], wsum = 0;
    int last = -1;
    for (int i = 0; i < GENPLAN_REPAIRS; i++) {
        weights[i] = fees[i].complete >= 0 && fees[i].waived ? gencal_rnd(20, 120) : 0;
        wsum += weights[i];
        if (weights[i])
            last = i;
    }
    int64_t given = 0;
    for (int i = 0; i < GENPLAN_REPAIRS; i++) {
        if (fees[i].complete < 0)
            continue;
        action_t *c = &plan[fees[i].complete];
        int64_t fee = 0, waived = 0;
        if (weights[i]) {
            waived = i == last ? target - given : target * weights[i] / wsum / 100 * 100;
            given += waived;
        } else {
            fee = 100 * gencal_rnd(5, 30);
        }
        kv(c, "fee_fen", "%" PRId64, fee);
        kv(c, "fee_waived_fen", "%" PRId64, waived);
        /* the grid leader checks most repairs the next working day */
        if (gencal_chance(85)) {
            int opener = c->opener;
            int64_t tv = clip(gencal_work_add(c->at, gencal_rnd(60, 420)), c->at);
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
        int n = gencal_rnd(1, 3);
        for (int j = 0; j < n; j++, count++) {
            int w = gencal_rnd(1, 100), k = 0;
            for (int acc = patrol_kinds[0].weight; acc < w; acc += patrol_kinds[++k].weight)
                ;
            const patrol_kind_t *pk = &patrol_kinds[k];
            const compound_t *c = &compounds[gencal_rnd(0, 5)];
            int gi = grid_index(c->grid);
            const char *by = !strcmp(pk->category, "fire_hazard")       ? "fire.1"
                             : !strcmp(pk->category, "public_security") ? police[gi]
                                                                        : citymgmt[gi];
            int s = gencal_rnd(1, 100);
            /* at least three high-severity issues a month, spread over it */
            bool force_high = highs < 3 && count > 0 && count % 12 == 0;
            const char *severity = s <= 8 || force_high ? "high" : s <= 55 ? "low" : "medium";
            highs += !strcmp(severity, "high");
            action_t *a = field("patrol.issue_found", gencal_work_time(wdays[i]), by, c->grid);
            snprintf(a->place, sizeof a->place, "%s %d号楼附近", c->name, gencal_rnd(1, 18));
            kv(a, "category", "%s", pk->category);
            kv(a, "severity", "%s", severity);
            kv(a, "description", "%s", pk->what[gencal_rnd(0, pk->nwhat - 1)]);
            if (gencal_chance(60))
                kv(a, "photo", "patrol/%s/%s.jpg", month_text, a->id);
            a->tkind = T_OTHER;
            if (!follow_ups)
                continue;
            bool fire = !strcmp(pk->category, "fire_hazard");
            bool sec = !strcmp(pk->category, "public_security");
            case_loop((int)(a - plan),
                      fire  ? gencal_rnd(5, 25)
                      : sec ? gencal_rnd(10, 50)
                            : gencal_rnd(15, 110),
                      fire ? gencal_rnd(30, 180) : gencal_rnd(60, 400), "已现场处置，拍照存档", -1,
                      -1, true);
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
        case_loop(idx, gencal_rnd(30, 300), gencal_rnd(60, 400), "已审核，凭证齐全", -1, -1, true);
    return idx;
}

static void plan_ledger(const int64_t *wdays, int nwdays)
{
    /* the property subsidy: 100,000 yuan a year, paid monthly */
    ledger(gencal_local_ms(wdays[0], 9, 30), -1, "expense", 833333, "property_subsidy", "鸿瑞物业",
           "li.qiang,gong.xiujuan");
    /* the storefront lease: its recovery was due on the last working day of last month, and
     * no entry settles it (ledger_overdue) */
    int64_t due_day = month_first - 1;
    while (!gencal_is_working_day(due_day))
        due_day--;
    int lease = ledger(gencal_local_ms(wdays[1], 10, 15), -1, "income", 180000, "lease",
                       "岱东社区临街门面承租户", "li.qiang");
    kv(&plan[lease], "due", "%" PRId64, gencal_local_ms(due_day, 17, 0));
    kv(&plan[lease], "note", "%s", "租期已于上月届满，门面应于上月收回，本月仍按原租金入账");
    /* property fees collected (15 yuan per household per month; 46 hardship households
     * exempt; the household count is the generator's assumption, not the report's) */
    ledger(gencal_local_ms(wdays[nwdays / 2], 15, 0), -1, "income", (int64_t)(1200 - 46) * 1500,
           "property_fee", "住户物业费(鸿瑞物业代收)", "li.qiang");
    /* repair materials for 到家帮帮, every week */
    int first_materials = -1;
    for (int i = 2; i < nwdays; i += 5) {
        int a = ledger(gencal_work_time(wdays[i]), -1, "expense", 100 * gencal_rnd(120, 480),
                       "repair_materials", "岱宗五金建材店", "li.qiang");
        if (first_materials < 0)
            first_materials = a;
    }
    /* shared tools for the 3 grid stations (共享家什) */
    ledger(gencal_work_time(wdays[3]), -1, "expense", 126000, "shared_tools", "泰安市工具批发部",
           "li.qiang");
    /* the three service stations' utilities, near the month end */
    static const char *const stations[] = {"第一网格驿站水电费", "第二网格驿站水电费",
                                           "第三网格驿站水电费"};
    for (int g = 0; g < 3; g++)
        ledger(gencal_work_time(wdays[nwdays - 3]), -1, "expense", 100 * gencal_rnd(300, 900),
               "utilities", stations[g], "li.qiang");
    /* volunteer activity: the double-report party members' civic day */
    ledger(gencal_work_time(wdays[nwdays / 3]), -1, "expense", 100 * gencal_rnd(800, 2400),
           "activities", "双报到党员志愿服务日", "li.qiang,li.zhen");
    /* the clues: an expense approved by its own submitter ... */
    ledger(gencal_work_time(wdays[nwdays / 2 + 1]), -1, "expense", 38600, "office_supplies",
           "岱庙文具店", "xu.na");
    /* ... and an entry number used twice (a printing bill entered under the number of the
     * first materials purchase) */
    ledger(gencal_work_time(wdays[nwdays / 2 + 3]), first_materials, "expense", 24500, "printing",
           "宣传栏印刷", "li.qiang");
}

static int by_time(const void *x, const void *y)
{
    const action_t *a = x, *b = y;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Drops the plan drawn so far (a build that failed), so a next build starts afresh. */
static int out_of_memory(size_t *where)
{
    genplan_t p = {plan, nplan, "", 0, 0};
    fprintf(stderr, "gridbus-gen: out of memory\n");
    free(where);
    genplan_free(&p);
    plan = NULL, nplan = capplan = 0;
    return 3;
}

/* Draws the month, sorts it and numbers the ledger entries. */
int genplan_build(genplan_t *p, int year, int mon, uint64_t seed_, bool follow_ups_)
{
    seed = seed_, follow_ups = follow_ups_;
    snprintf(month_text, sizeof month_text, "%04d-%02d", year, mon);
    gencal_seed(seed);

    month_first = gencal_days_from_civil(year, mon, 1);
    month_last =
        gencal_days_from_civil(mon == 12 ? year + 1 : year, mon == 12 ? 1 : mon + 1, 1) - 1;
    int64_t wdays[31];
    int nwdays = 0;
    for (int64_t d = month_first; d <= month_last; d++)
        if (gencal_is_working_day(d))
            wdays[nwdays++] = d;
    if (nwdays < 10) {
        fprintf(stderr, "gridbus-gen: %s has only %d working days\n", month_text, nwdays);
        return 2;
    }
    month_limit = gencal_local_ms(wdays[nwdays - 1], 17, 25);
    int64_t lead_in = month_first - gencal_weekday(month_first); /* the Monday of the first week */

    /* the short week: a whole week inside the month, one cadre on site only 2 days */
    int64_t first_monday = month_first + (7 - gencal_weekday(month_first)) % 7;
    int weeks = (int)((month_last - first_monday + 1) / 7);
    int64_t short_monday = first_monday + 7 * gencal_rnd(0, weeks > 0 ? weeks - 1 : 0);
    int short_cadre = gencal_rnd(0, 2);

    /* the day passes: each day's 08:00 and 18:00 (after the 17:30 cut-off: the digest, and
     * on Sundays the week's visit check) */
    for (int64_t d = lead_in; d <= month_last; d++) {
        add(A_TICK, gencal_local_ms(d, 8, 0));
        add(A_TICK, gencal_local_ms(d, 18, 0));
    }
    plan_visits(lead_in, short_cadre, short_monday);
    plan_repairs(wdays, nwdays);
    plan_patrols(wdays, nwdays);
    plan_ledger(wdays, nwdays);

    /* Sort by time; follow-ups then find their opener by plan order, so remap. */
    size_t *where = malloc(nplan * sizeof *where);
    if (!where)
        return out_of_memory(where);
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
        if (!a->vals[0])
            return out_of_memory(where);
    }
    free(where);
    *p = (genplan_t){plan, nplan, "", seed, lead_in};
    memcpy(p->month, month_text, sizeof p->month);
    plan = NULL, nplan = capplan = 0;
    return 0;
}

void genplan_free(genplan_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        for (int k = 0; k < p->actions[i].nkv; k++)
            free(p->actions[i].vals[k]);
    free(p->actions);
    *p = (genplan_t){0};
}
