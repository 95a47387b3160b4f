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
 *
 * Files: genplan.c draws the month (every event, before anything is sent), gencal.c holds
 * the PRNG and the community calendar, this file sends the plan and reads the feeds back.
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

#include "gencal.h"
#include "genplan.h"
#include "gridbus.h"

/* The plan (genplan.c), and its options. */
static genplan_t gp;
static uint64_t seed = 1;
static bool follow_ups;

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
            return &gp.actions[seq_idx[h]];
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
        if (strncmp(day, gp.month, 7)) {
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
            seq_put(r->seq, (size_t)(a - gp.actions));
        if (a->kind == A_COMPLETE && gp.actions[a->opener].tkind == T_REPAIR) {
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
        action_t *o = &gp.actions[a->opener];
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
    int o, rc, year = 0, mon = 0;
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
    if ((rc = genplan_build(&gp, year, mon, seed, follow_ups)) != 0)
        return rc;
    counts.repairs = GENPLAN_REPAIRS;
    for (seq_cap = 1024; seq_cap < 4 * gp.n; seq_cap *= 2)
        ;
    seq_idx = calloc(seq_cap, sizeof *seq_idx);
    seq_key = calloc(seq_cap, sizeof *seq_key);
    if (!seq_idx || !seq_key) {
        fprintf(stderr, "gridbus-gen: out of memory\n");
        return 3;
    }

    bus = gridbus_new();
    if (!bus || gridbus_connect(bus, endpoint) < 0) {
        fprintf(stderr, "gridbus-gen: cannot connect to %s\n", endpoint ? endpoint : "(default)");
        return 3;
    }
    gridbus_set_timeout(bus, 10000);
    read_heads();

    int64_t clock = 0;
    for (size_t i = 0; i < gp.n; i++) {
        action_t *a = &gp.actions[i];
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
    gencal_day_text(gp.lead_in, from);
    printf("{\"month\":\"%s\",\"seed\":%" PRIu64 ",\"from\":\"%s\",\"follow_ups\":%s,"
           "\"events\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"dup\":%" PRIu64 ",\"nacked\":%" PRIu64
           ",\"skipped\":%" PRIu64 ",\"clock_sets\":%" PRIu64 ",\"tasks\":%" PRIu64
           ",\"repairs\":%" PRIu64 ",\"repairs_completed\":%" PRIu64 ",\"fees_waived_fen\":%" PRIu64
           ",\"alerts\":{",
           gp.month, seed, from, follow_ups ? "true" : "false", counts.published, counts.acked,
           counts.dups, counts.nacked, counts.skipped, counts.clock_sets, counts.tasks,
           counts.repairs, counts.repairs_done, counts.waived);
    for (int i = 0; i < nrules; i++)
        printf("%s\"%s\":%" PRIu64, i ? "," : "", rule_name[i], rule_count[i]);
    printf("},\"alerts_outside_month\":%" PRIu64 "}\n", alerts_elsewhere);
    fflush(stdout);
    gridbus_destroy(&bus);
    genplan_free(&gp);
    free(seq_idx);
    free(seq_key);
    return counts.nacked ? 1 : 0;
}
