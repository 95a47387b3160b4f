/*
 * op_audit: the monthly joint review pack (三联会审): a month's ledger entries up to the
 * reimbursement day (alerts.review_day), who submitted and who approved each, the alerts
 * raised on each, and the totals by direction and category, from one request.
 *
 * The entries come from the event log itself (ledger.entry_submitted, by the event's `at`
 * in the community's time zone), since the log is the record the review signs off. Their
 * flags come from the alerts whose evidence names the entry's event (an alert's day is the
 * community day of the batch that raised it: the day the event was received), and from
 * the alerts a timer raised on an entry number (a due date passed, on some day of the
 * range). Each day of the range, and each other day an entry was received on, is scanned
 * once.
 */
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLAGS_MAX 8
#define CATEGORIES_MAX 256

typedef struct {
    uint64_t seq;
    int64_t received_at;
    char id[ALERT_TEXT_MAX];
    char entry[ALERT_TEXT_MAX]; /* body.entry: the subject of alerts that name no event */
    void *event; /* the stored canonical event, unpacked again when packed */
    size_t len;
    char flags[FLAGS_MAX][ALERT_TEXT_MAX];
    uint32_t nflags;
} entry_t;

typedef struct {
    char name[65];
    int64_t income, expense;
} category_t;

typedef struct {
    int64_t from, to;
    entry_t *entries;
    size_t n, cap;
    entry_t **by_id; /* entries sorted by event id, for the alerts' evidence */
    msgpack_zone zone;
    bool failed; /* out of memory */
} audit_t;

static const char entry_type[] = "ledger.entry_submitted";

static bool str_eq(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

static int64_t int_of(const msgpack_object *o)
{
    return o && (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
                 o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
               ? o->via.i64
               : 0;
}

/* The event map of a stored record, in the audit's zone (cleared per event). */
static const msgpack_object *unpack(audit_t *a, const void *buf, size_t len, msgpack_object *obj)
{
    size_t off = 0;
    msgpack_zone_clear(&a->zone);
    if (msgpack_unpack(buf, len, &off, &a->zone, obj) != MSGPACK_UNPACK_SUCCESS ||
        obj->type != MSGPACK_OBJECT_MAP)
        return NULL;
    return obj;
}

static int keep(audit_t *a, const store_event_t *se, const msgpack_object *id,
                const msgpack_object *entry)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        entry_t *e = realloc(a->entries, cap * sizeof *e);
        if (!e)
            return a->failed = true, 1;
        a->entries = e, a->cap = cap;
    }
    entry_t *e = &a->entries[a->n];
    memset(e, 0, sizeof *e);
    if (!(e->event = malloc(se->event_len)))
        return a->failed = true, 1;
    memcpy(e->event, se->event, se->event_len);
    e->len = se->event_len, e->seq = se->seq, e->received_at = se->received_at;
    snprintf(e->id, sizeof e->id, "%.*s", (int)id->via.str.size, id->via.str.ptr);
    if (entry && entry->type == MSGPACK_OBJECT_STR)
        snprintf(e->entry, sizeof e->entry, "%.*s", (int)entry->via.str.size, entry->via.str.ptr);
    a->n++;
    return 0;
}

static int collect_one(void *arg, const store_event_t *se)
{
    audit_t *a = arg;
    msgpack_object obj;
    /* Most of the log is not ledger entries: skip them before unpacking. */
    if (!memmem(se->event, se->event_len, entry_type, sizeof entry_type - 1) ||
        !unpack(a, se->event, se->event_len, &obj) ||
        !str_eq(event_map_get(&obj, "type"), entry_type))
        return 0;
    int64_t at = int_of(event_map_get(&obj, "at"));
    const msgpack_object *id = event_map_get(&obj, "id");
    if (at < a->from || at >= a->to || !id || id->type != MSGPACK_OBJECT_STR)
        return 0;
    return keep(a, se, id, event_map_get(event_map_get(&obj, "body"), "entry"));
}

static int by_id_cmp(const void *x, const void *y)
{
    return strcmp((*(entry_t *const *)x)->id, (*(entry_t *const *)y)->id);
}

static entry_t *find_entry(const audit_t *a, const char *id)
{
    entry_t key, *kp = &key;
    snprintf(key.id, sizeof key.id, "%s", id);
    entry_t **hit = bsearch(&kp, a->by_id, a->n, sizeof *a->by_id, by_id_cmp);
    return hit ? *hit : NULL;
}

static void add_flag(entry_t *e, const char *rule)
{
    for (uint32_t i = 0; i < e->nflags; i++)
        if (strcmp(e->flags[i], rule) == 0)
            return;
    if (e->nflags < FLAGS_MAX)
        snprintf(e->flags[e->nflags++], ALERT_TEXT_MAX, "%s", rule);
}

static int flag_one(void *arg, const alert_t *al)
{
    audit_t *a = arg;
    /* An alert raised by a timer (a due date passed) names no event: its subject is the
     * entry number. */
    for (size_t i = 0; al->nevidence == 0 && i < a->n; i++)
        if (a->entries[i].entry[0] && strcmp(a->entries[i].entry, al->subject) == 0)
            add_flag(&a->entries[i], al->rule);
    for (uint32_t i = 0; i < al->nevidence; i++) {
        entry_t *e = find_entry(a, al->evidence[i]);
        if (e)
            add_flag(e, al->rule);
    }
    return 0;
}

static int day_cmp(const void *x, const void *y)
{
    return strcmp(x, y);
}

#define DAY_MS INT64_C(86400000)

/* Scans the alerts of each day of the pack's range (a due date that passed raised its alert
 * on that day) and of each other day an entry was received on. 0, or -1. */
static int flag_entries(op_ctx_t *ctx, audit_t *a)
{
    const calendar_t *cal = community_calendar(ctx->community);
    size_t ndays = (size_t)((a->to - a->from) / DAY_MS) + 2, nd = 0;
    char(*days)[ALERT_DAY_LEN + 1] = calloc(a->n + ndays, sizeof *days);
    a->by_id = calloc(a->n + 1, sizeof *a->by_id);
    if (!days || !a->by_id) {
        free(days);
        return -1;
    }
    for (size_t i = 0; i < a->n + ndays; i++) {
        int y, m, d;
        int64_t t = i < a->n ? a->entries[i].received_at : a->from + (int64_t)(i - a->n) * DAY_MS;
        if (i < a->n)
            a->by_id[i] = &a->entries[i];
        else if (t >= a->to)
            continue;
        calendar_local_date(cal, t, &y, &m, &d, NULL);
        snprintf(days[nd++], sizeof days[0], "%04u-%02u-%02u", (unsigned)y % 10000u,
                 (unsigned)m % 100u, (unsigned)d % 100u);
    }
    qsort(a->by_id, a->n, sizeof *a->by_id, by_id_cmp);
    qsort(days, nd, sizeof *days, day_cmp);
    int rc = 0;
    for (size_t i = 0; i < nd && rc == 0; i++)
        if ((i == 0 || strcmp(days[i], days[i - 1])) && ctx->alertdb &&
            alertdb_scan(ctx->alertdb, days[i], flag_one, a) < 0)
            rc = -1;
    free(days);
    return rc;
}

/* ---- packing ---- */

static void pack_field(msgpack_packer *pk, const msgpack_object *ev, const msgpack_object *body,
                       const char *key)
{
    const msgpack_object *v = event_map_get(body, key);
    if (!v)
        v = event_map_get(ev, key);
    wire_pack_cstr(pk, key);
    if (v)
        msgpack_pack_object(pk, *v);
    else
        msgpack_pack_nil(pk);
}

static void pack_entry(msgpack_packer *pk, const entry_t *e, const msgpack_object *ev)
{
    static const char *const fields[] = {"entry",      "at",       "direction",
                                         "amount_fen", "category", "counterparty",
                                         "by",         "due",      "settles"};
    const msgpack_object *body = event_map_get(ev, "body");
    const msgpack_object *approved = body ? event_map_get(body, "approved_by") : NULL;
    msgpack_pack_map(pk, 13);
    wire_pack_cstr(pk, "seq"), msgpack_pack_uint64(pk, e->seq);
    wire_pack_cstr(pk, "id"), wire_pack_cstr(pk, e->id);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        pack_field(pk, ev, body, fields[i]);
    wire_pack_cstr(pk, "approved_by");
    if (approved && approved->type == MSGPACK_OBJECT_ARRAY)
        msgpack_pack_object(pk, *approved);
    else
        msgpack_pack_array(pk, 0);
    wire_pack_cstr(pk, "flags");
    msgpack_pack_array(pk, e->nflags);
    for (uint32_t i = 0; i < e->nflags; i++)
        wire_pack_cstr(pk, e->flags[i]);
}

static category_t *category(category_t *cats, size_t *n, const msgpack_object *name)
{
    char key[65];
    snprintf(key, sizeof key, "%.*s", name ? (int)name->via.str.size : 0,
             name ? name->via.str.ptr : "");
    for (size_t i = 0; i < *n; i++)
        if (strcmp(cats[i].name, key) == 0)
            return &cats[i];
    if (*n == CATEGORIES_MAX)
        return NULL;
    category_t *c = &cats[(*n)++];
    snprintf(c->name, sizeof c->name, "%s", key);
    c->income = c->expense = 0;
    return c;
}

/* Adds an entry to the totals: 1 when income, 0 expense. */
static void add_totals(const msgpack_object *ev, category_t *cats, size_t *ncats, int64_t sums[2])
{
    const msgpack_object *body = event_map_get(ev, "body");
    const msgpack_object *cat = body ? event_map_get(body, "category") : NULL;
    bool income = body && str_eq(event_map_get(body, "direction"), "income");
    int64_t amount = body ? int_of(event_map_get(body, "amount_fen")) : 0;
    category_t *c = category(cats, ncats, cat && cat->type == MSGPACK_OBJECT_STR ? cat : NULL);
    sums[income] += amount;
    if (c)
        *(income ? &c->income : &c->expense) += amount;
}

static void pack_pair(msgpack_packer *pk, int64_t income, int64_t expense)
{
    msgpack_pack_map(pk, 2);
    wire_pack_cstr(pk, "income_fen"), msgpack_pack_int64(pk, income);
    wire_pack_cstr(pk, "expense_fen"), msgpack_pack_int64(pk, expense);
}

static void pack_totals(msgpack_packer *pk, const category_t *cats, size_t ncats,
                        const int64_t sums[2])
{
    msgpack_pack_map(pk, 3);
    wire_pack_cstr(pk, "income_fen"), msgpack_pack_int64(pk, sums[1]);
    wire_pack_cstr(pk, "expense_fen"), msgpack_pack_int64(pk, sums[0]);
    wire_pack_cstr(pk, "by_category");
    msgpack_pack_map(pk, (uint32_t)ncats);
    for (size_t i = 0; i < ncats; i++) {
        wire_pack_cstr(pk, cats[i].name);
        pack_pair(pk, cats[i].income, cats[i].expense);
    }
}

static int pack_audit(op_ctx_t *ctx, const wire_request_t *req, audit_t *a)
{
    msgpack_packer *pk = ctx->reply;
    category_t *cats = calloc(CATEGORIES_MAX, sizeof *cats);
    size_t ncats = 0;
    int64_t sums[2] = {0, 0};
    msgpack_object ev;
    if (!cats)
        return -1;
    wire_pack_result_begin(pk, req->rid, 1);
    wire_pack_cstr(pk, "audit");
    msgpack_pack_map(pk, 6);
    wire_pack_cstr(pk, "month"), wire_pack_str(pk, req->query.month);
    wire_pack_cstr(pk, "from"), msgpack_pack_int64(pk, a->from);
    wire_pack_cstr(pk, "to"), msgpack_pack_int64(pk, a->to);
    wire_pack_cstr(pk, "entries");
    msgpack_pack_array(pk, (uint32_t)a->n);
    for (size_t i = 0; i < a->n; i++) {
        /* Stored events were validated when stored, so they unpack. */
        if (!unpack(a, a->entries[i].event, a->entries[i].len, &ev))
            ev = (msgpack_object){.type = MSGPACK_OBJECT_MAP};
        pack_entry(pk, &a->entries[i], &ev);
        add_totals(&ev, cats, &ncats, sums);
    }
    wire_pack_cstr(pk, "totals");
    pack_totals(pk, cats, ncats, sums);
    wire_pack_cstr(pk, "count"), msgpack_pack_uint64(pk, a->n);
    free(cats);
    return 0;
}

/* ---- the request ---- */

static int parse_month(gb_str_t s, int *y, int *mo)
{
    char buf[8];
    if (s.len != 7)
        return -1;
    memcpy(buf, s.ptr, 7);
    buf[7] = 0;
    return sscanf(buf, "%4d-%2d", y, mo) == 2 && buf[4] == '-' && *y >= 2000 && *y < 2100 &&
                   *mo >= 1 && *mo <= 12
               ? 0
               : -1;
}

/* [from, to): the local month, cut after its review day when one is configured. */
static void month_range(const community_t *c, int y, int mo, int64_t *from, int64_t *to)
{
    const calendar_t *cal = community_calendar(c);
    int review = alertcfg_review_day(community_alerts(c));
    *from = calendar_local_time(cal, y, mo, 1, 0, 0);
    *to = calendar_local_time(cal, y, mo + 1, 1, 0, 0);
    if (review) {
        int64_t cut = calendar_local_time(cal, y, mo, review + 1, 0, 0);
        *to = cut < *to ? cut : *to;
    }
}

static void audit_free(audit_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->entries[i].event);
    free(a->entries);
    free(a->by_id);
    msgpack_zone_destroy(&a->zone);
}

static int refuse(op_ctx_t *ctx, const wire_request_t *req, gb_code_t code, const char *what)
{
    gb_error_t err;
    gb_error_set(&err, code, "%s", what);
    return op_refuse(ctx, req->rid, (gb_str_t){NULL, 0}, &err, true);
}

int op_audit(op_ctx_t *ctx, const wire_request_t *req)
{
    audit_t a = {0};
    int y, mo;
    if (parse_month(req->query.month, &y, &mo) < 0)
        return refuse(ctx, req, GB_E_SCHEMA, "month: must be YYYY-MM");
    month_range(ctx->community, y, mo, &a.from, &a.to);
    if (!msgpack_zone_init(&a.zone, 4096))
        return refuse(ctx, req, GB_E_STORAGE, "audit: out of memory");
    long rc = store_read_events(ctx->store, 1, UINT32_MAX, collect_one, &a);
    if (rc >= 0 && !a.failed)
        rc = flag_entries(ctx, &a);
    if (rc >= 0 && !a.failed)
        rc = pack_audit(ctx, req, &a);
    audit_free(&a);
    if (rc < 0 || a.failed)
        return refuse(ctx, req, GB_E_STORAGE, "audit: cannot read the ledger");
    return 0;
}
