/*
 * taskrec: see taskrec.h. Packing uses mpw (inline writes); decoding unpacks with msgpack-c
 * and reads the array by position, so no field name is compared.
 */
#include "taskrec.h"

#include <string.h>

#include "gb_code.h"
#include "mpr.h"
#include "wire.h"

/* How deep a stored record may nest, as deep as a frame on the wire: no record gridbusd
 * writes comes near it; a damaged one deeper is refused before msgpack-c unpacks it. */
#define RECORD_LEVELS 32

/* The summary's positions. */
enum {
    S_SEQ,
    S_EVENT,
    S_TYPE,
    S_ROUTE,
    S_ROLE,
    S_GRID,
    S_CATEGORY,
    S_ASSIGNEE,
    S_STATUS,
    S_CREATED_AT,
    S_ACCEPT_BY,
    S_COMPLETE_BY,
    S_ACCEPTED_AT,
    S_DONE_AT,
    S_CLOSED_AT,
    S_OVERDUE_ACCEPT,
    S_OVERDUE_COMPLETE,
    S_FEE,
    S_FEE_WAIVED,
    S_RETURNED_BY,
    S_COUNT_
};

static void write_summary(mpw_t *w, const task_t *t)
{
    mpw_array(w, S_COUNT_);
    mpw_uint(w, t->seq);
    mpw_cstr(w, t->event_id), mpw_cstr(w, t->type), mpw_cstr(w, t->route);
    mpw_cstr(w, t->role), mpw_cstr(w, t->grid), mpw_cstr(w, t->category);
    mpw_cstr(w, t->assignee);
    mpw_uint(w, (uint64_t)t->status);
    mpw_int(w, t->created_at), mpw_int(w, t->accept_by), mpw_int(w, t->complete_by);
    mpw_int(w, t->accepted_at), mpw_int(w, t->done_at), mpw_int(w, t->closed_at);
    mpw_bool(w, t->overdue_accept), mpw_bool(w, t->overdue_complete);
    mpw_int(w, t->fee_fen), mpw_int(w, t->fee_waived_fen);
    mpw_array(w, t->nreturned);
    for (uint32_t i = 0; i < t->nreturned; i++)
        mpw_cstr(w, t->returned_by[i]);
}

/* A stored record of n elements into out (cleared), its form number the first of them. */
static void begin(mpw_t *w, msgpack_sbuffer *out, uint32_t n)
{
    msgpack_sbuffer_clear(out);
    mpw_init(w, out);
    mpw_array(w, n);
    mpw_uint(w, TASKREC_FORM);
}

int taskrec_pack(msgpack_sbuffer *out, const task_t *t, size_t *summary_off, size_t *summary_len)
{
    mpw_t w;
    begin(&w, out, 3);
    *summary_off = out->size;
    write_summary(&w, t);
    *summary_len = out->size - *summary_off;
    mpw_array(&w, t->nhistory);
    for (uint32_t i = 0; i < t->nhistory; i++) {
        const task_step_t *s = &t->history[i];
        mpw_array(&w, 4);
        mpw_int(&w, s->at);
        mpw_cstr(&w, s->by), mpw_cstr(&w, s->step), mpw_cstr(&w, s->note);
    }
    return mpw_ok(&w) ? 0 : -1;
}

int taskrec_pack_feed(msgpack_sbuffer *out, int64_t at, const char *change, const char *by,
                      const void *summary, size_t summary_len)
{
    mpw_t w;
    begin(&w, out, 5);
    mpw_int(&w, at);
    mpw_cstr(&w, change), mpw_cstr(&w, by);
    mpw_raw(&w, summary, summary_len);
    return mpw_ok(&w) ? 0 : -1;
}

/* ---- decoding ---- */

static const msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};

static const msgpack_object *item(const msgpack_object *a, uint32_t i)
{
    return a->type == MSGPACK_OBJECT_ARRAY && i < a->via.array.size ? &a->via.array.ptr[i] : &nil;
}

static int64_t int_of(const msgpack_object *v)
{
    return v->type == MSGPACK_OBJECT_POSITIVE_INTEGER   ? (int64_t)v->via.u64
           : v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? v->via.i64
                                                        : 0;
}

/* The daemon's own texts are valid UTF-8 when written: only a cut (gb_text_copy) can split
 * a character. */
static void text_of(const msgpack_object *v, char *dst, size_t cap)
{
    if (v->type == MSGPACK_OBJECT_STR)
        gb_text_copy(dst, cap, v->via.str.ptr, v->via.str.size);
    else
        dst[0] = 0;
}

static void copy_earlier(const char *p, size_t n, char *dst, size_t cap)
{
    gb_text_copy(dst, cap, p, n);
    gb_text_sanitize(dst);
}

/* ---- the earlier form: the wire map, written by schema 3 and before ----
 * A table of string and integer fields, so each is named once. Its texts are sanitized
 * whole: a text cut when it was written may hold part of a character. */

typedef struct {
    const char *key;
    size_t off, cap; /* cap 0: int64 field */
} field_t;

#define S(k, f)                                                                                    \
    {                                                                                              \
        k, offsetof(task_t, f), sizeof(((task_t *)0)->f)                                           \
    }
#define I(k, f)                                                                                    \
    {                                                                                              \
        k, offsetof(task_t, f), 0                                                                  \
    }
static const field_t fields[] = {
    S("event", event_id),
    S("type", type),
    S("route", route),
    S("role", role),
    S("grid", grid),
    S("category", category),
    S("assignee", assignee),
    I("created_at", created_at),
    I("accept_by", accept_by),
    I("complete_by", complete_by),
    I("accepted_at", accepted_at),
    I("done_at", done_at),
    I("closed_at", closed_at),
    I("fee_fen", fee_fen),
    I("fee_waived_fen", fee_waived_fen),
};

static void set_field(task_t *t, const field_t *f, const msgpack_object *v)
{
    char *p = (char *)t + f->off;
    if (f->cap == 0)
        *(int64_t *)(void *)p = int_of(v);
    else if (v->type == MSGPACK_OBJECT_STR)
        copy_earlier(v->via.str.ptr, v->via.str.size, p, f->cap);
}

static void unpack_history(task_t *t, const msgpack_object *v)
{
    for (uint32_t i = 0;
         v->type == MSGPACK_OBJECT_ARRAY && i < v->via.array.size && t->nhistory < TASK_HISTORY_MAX;
         i++) {
        const msgpack_object *s = &v->via.array.ptr[i];
        gb_str_t by = {"", 0}, step = {"", 0}, note = {"", 0};
        uint64_t at = 0;
        wire_get_str(s, "by", &by), wire_get_str(s, "step", &step), wire_get_str(s, "note", &note);
        const msgpack_object *a = event_map_get(s, "at");
        if (a)
            at = (uint64_t)int_of(a);
        task_step_t *d = &t->history[t->nhistory++];
        d->at = (int64_t)at;
        copy_earlier(by.ptr, by.len, d->by, sizeof d->by);
        copy_earlier(step.ptr, step.len, d->step, sizeof d->step);
        copy_earlier(note.ptr, note.len, d->note, sizeof d->note);
    }
}

static void unpack_special(task_t *t, const msgpack_object *k, const msgpack_object *v)
{
    if (wire_str_is(k, "seq"))
        t->seq = (uint64_t)int_of(v);
    else if (wire_str_is(k, "status") && v->type == MSGPACK_OBJECT_STR)
        t->status = (task_status_t)task_status_from_name(v->via.str.ptr, v->via.str.size);
    else if (wire_str_is(k, "overdue_accept"))
        t->overdue_accept = v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
    else if (wire_str_is(k, "overdue_complete"))
        t->overdue_complete = v->type == MSGPACK_OBJECT_BOOLEAN && v->via.boolean;
    else if (wire_str_is(k, "history"))
        unpack_history(t, v);
    else if (wire_str_is(k, "returned_by") && v->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < v->via.array.size && t->nreturned < TASK_RETURNED_MAX; i++)
            if (v->via.array.ptr[i].type == MSGPACK_OBJECT_STR)
                copy_earlier(v->via.array.ptr[i].via.str.ptr, v->via.array.ptr[i].via.str.size,
                             t->returned_by[t->nreturned++], TASK_MEMBER_MAX);
}

static int map_unpack(const msgpack_object *obj, task_t *t)
{
    memset(t, 0, sizeof *t);
    if (obj->type != MSGPACK_OBJECT_MAP)
        return -1;
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *k = &obj->via.map.ptr[i].key, *v = &obj->via.map.ptr[i].val;
        size_t j = 0;
        while (j < sizeof fields / sizeof fields[0] && !wire_str_is(k, fields[j].key))
            j++;
        if (j < sizeof fields / sizeof fields[0])
            set_field(t, &fields[j], v);
        else
            unpack_special(t, k, v);
    }
    return t->seq && (int)t->status >= 0 ? 0 : -1;
}

static bool is_form(const msgpack_object *o, uint32_t size)
{
    return o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == size &&
           int_of(item(o, 0)) == TASKREC_FORM;
}

static int read_summary(const msgpack_object *s, task_t *t)
{
    task_reset(t);
    if (s->type != MSGPACK_OBJECT_ARRAY || s->via.array.size < S_COUNT_)
        return -1;
    t->seq = (uint64_t)int_of(item(s, S_SEQ));
    text_of(item(s, S_EVENT), t->event_id, sizeof t->event_id);
    text_of(item(s, S_TYPE), t->type, sizeof t->type);
    text_of(item(s, S_ROUTE), t->route, sizeof t->route);
    text_of(item(s, S_ROLE), t->role, sizeof t->role);
    text_of(item(s, S_GRID), t->grid, sizeof t->grid);
    text_of(item(s, S_CATEGORY), t->category, sizeof t->category);
    text_of(item(s, S_ASSIGNEE), t->assignee, sizeof t->assignee);
    int64_t status = int_of(item(s, S_STATUS));
    t->created_at = int_of(item(s, S_CREATED_AT));
    t->accept_by = int_of(item(s, S_ACCEPT_BY));
    t->complete_by = int_of(item(s, S_COMPLETE_BY));
    t->accepted_at = int_of(item(s, S_ACCEPTED_AT));
    t->done_at = int_of(item(s, S_DONE_AT));
    t->closed_at = int_of(item(s, S_CLOSED_AT));
    t->overdue_accept = item(s, S_OVERDUE_ACCEPT)->type == MSGPACK_OBJECT_BOOLEAN &&
                        item(s, S_OVERDUE_ACCEPT)->via.boolean;
    t->overdue_complete = item(s, S_OVERDUE_COMPLETE)->type == MSGPACK_OBJECT_BOOLEAN &&
                          item(s, S_OVERDUE_COMPLETE)->via.boolean;
    t->fee_fen = int_of(item(s, S_FEE));
    t->fee_waived_fen = int_of(item(s, S_FEE_WAIVED));
    const msgpack_object *r = item(s, S_RETURNED_BY);
    for (uint32_t i = 0; r->type == MSGPACK_OBJECT_ARRAY && i < r->via.array.size &&
                         t->nreturned < TASK_RETURNED_MAX;
         i++)
        text_of(item(r, i), t->returned_by[t->nreturned++], TASK_MEMBER_MAX);
    if (status < 0 || status >= TASK_STATUS_COUNT_ || !t->seq)
        return -1;
    t->status = (task_status_t)status;
    return 0;
}

static void read_history(const msgpack_object *h, task_t *t)
{
    for (uint32_t i = 0;
         h->type == MSGPACK_OBJECT_ARRAY && i < h->via.array.size && t->nhistory < TASK_HISTORY_MAX;
         i++) {
        const msgpack_object *s = item(h, i);
        task_step_t *d = &t->history[t->nhistory++];
        d->at = int_of(item(s, 0));
        text_of(item(s, 1), d->by, sizeof d->by);
        text_of(item(s, 2), d->step, sizeof d->step);
        text_of(item(s, 3), d->note, sizeof d->note);
    }
}

static const msgpack_object *unpack(msgpack_zone *zone, const void *data, size_t len,
                                    msgpack_object *obj)
{
    size_t off = 0, used;
    /* walked first, as the wire's frames are: a damaged record's header could claim billions
     * of items, and msgpack-c would size its allocation from the claim */
    if (mpr_scan(data, len, RECORD_LEVELS, &used) < 0 || used != len)
        return NULL;
    msgpack_zone_clear(zone);
    return msgpack_unpack(data, len, &off, zone, obj) == MSGPACK_UNPACK_SUCCESS ? obj : NULL;
}

int taskrec_decode(msgpack_zone *zone, const void *data, size_t len, task_t *t)
{
    msgpack_object obj;
    if (!unpack(zone, data, len, &obj))
        return -1;
    if (obj.type == MSGPACK_OBJECT_MAP) /* written before schema 4: the wire form */
        return map_unpack(&obj, t);
    if (!is_form(&obj, 3) || read_summary(item(&obj, 1), t) < 0)
        return -1;
    read_history(item(&obj, 2), t);
    return 0;
}

static void change_of_map(const msgpack_object *m, taskrec_change_t *c)
{
    gb_str_t change = {"", 0}, by = {"", 0};
    const msgpack_object *at = event_map_get(m, "at");
    c->at = at ? int_of(at) : 0;
    wire_get_str(m, "change", &change);
    wire_get_str(m, "by", &by);
    gb_text_copy(c->change, sizeof c->change, change.ptr, change.len);
    gb_text_copy(c->by, sizeof c->by, by.ptr, by.len);
}

int taskrec_decode_feed(msgpack_zone *zone, const void *data, size_t len, taskrec_change_t *c,
                        task_t *t)
{
    msgpack_object obj;
    if (!unpack(zone, data, len, &obj))
        return -1;
    if (obj.type == MSGPACK_OBJECT_MAP) { /* written before schema 4: the wire form */
        const msgpack_object *task = event_map_get(&obj, "task");
        change_of_map(&obj, c);
        return task ? map_unpack(task, t) : -1;
    }
    if (!is_form(&obj, 5))
        return -1;
    c->at = int_of(item(&obj, 1));
    text_of(item(&obj, 2), c->change, sizeof c->change);
    text_of(item(&obj, 3), c->by, sizeof c->by);
    return read_summary(item(&obj, 4), t);
}

/* ---- the indexer's read: a few fields of a feed record, in place ----
 * Unpacking a whole record into a zone and copying every text was a fifth of the indexer's
 * work a task; it needs 8 of the summary's 20 fields. mpr walks the msgpack bytes, skipping
 * what is not kept; a value of another type reads as the decoder's would (0, "", false), and
 * anything malformed refuses the record. */

static void read_text(mpr_t *r, char *dst, size_t cap)
{
    const char *p;
    size_t n;
    mpr_str(r, &p, &n);
    gb_text_copy(dst, cap, p, n);
}

static void skip_n(mpr_t *r, int n)
{
    while (n-- > 0 && !r->bad)
        mpr_skip(r, MPR_LEVELS);
}

int taskrec_decode_foot(msgpack_zone *zone, const void *data, size_t len, task_t *t)
{
    taskrec_change_t c;
    if (taskrec_feed_is_wire(data, len))
        return taskrec_decode_feed(zone, data, len, &c, t);
    mpr_t r = mpr_init(data, len);
    task_reset(t);
    if (mpr_array(&r) != 5 || mpr_int(&r) != TASKREC_FORM)
        return -1;
    skip_n(&r, 3); /* at, change, by */
    int64_t nfields = mpr_array(&r);
    if (nfields < S_COUNT_)
        return -1;
    t->seq = (uint64_t)mpr_int(&r);
    skip_n(&r, S_GRID - S_EVENT);
    read_text(&r, t->grid, sizeof t->grid);
    skip_n(&r, S_ASSIGNEE - S_CATEGORY);
    read_text(&r, t->assignee, sizeof t->assignee);
    int64_t status = mpr_int(&r);
    skip_n(&r, S_ACCEPT_BY - S_CREATED_AT);
    t->accept_by = mpr_int(&r);
    t->complete_by = mpr_int(&r);
    skip_n(&r, S_OVERDUE_ACCEPT - S_ACCEPTED_AT);
    t->overdue_accept = mpr_bool(&r);
    t->overdue_complete = mpr_bool(&r);
    while (nfields-- > S_OVERDUE_COMPLETE + 1 && !r.bad) /* the rest is read to be checked */
        mpr_skip(&r, MPR_LEVELS);
    if (r.bad || r.p != r.end || status < 0 || status >= TASK_STATUS_COUNT_ || !t->seq)
        return -1;
    t->status = (task_status_t)status;
    return 0;
}

bool taskrec_feed_is_wire(const void *data, size_t len)
{
    unsigned char tag = len ? *(const unsigned char *)data : 0;
    return (tag & 0xf0) == 0x80 || tag == 0xde || tag == 0xdf; /* a map */
}

/* ---- the wire form ---- */

void taskrec_topic(const task_t *t, char *topic, size_t len)
{
    const char *grid = t->grid[0] ? t->grid : "-", *who = t->assignee[0] ? t->assignee : "-";
    size_t g = strlen(grid), w = strlen(who);
    if (5 + g + 1 + w + 1 > len) {
        topic[0] = 0;
        return;
    }
    memcpy(topic, "task/", 5);
    memcpy(topic + 5, grid, g);
    topic[5 + g] = '/';
    memcpy(topic + 6 + g, who, w + 1);
}

int taskrec_feed_wire(msgpack_sbuffer *out, uint64_t seq, const char *topic, int64_t at,
                      const char *change, const char *by, const task_t *t)
{
    mpw_t w;
    msgpack_sbuffer_clear(out);
    mpw_init(&w, out);
    mpw_map(&w, 6);
    MPW_KEY(&w, "seq"), mpw_uint(&w, seq);
    MPW_KEY(&w, "topic"), mpw_cstr(&w, topic);
    MPW_KEY(&w, "at"), mpw_int(&w, at);
    MPW_KEY(&w, "change"), mpw_cstr(&w, change);
    MPW_KEY(&w, "by"), mpw_cstr(&w, by);
    MPW_KEY(&w, "task"), mpw_map(&w, TASK_SUMMARY_FIELDS);
    task_write_fields(&w, t);
    return mpw_ok(&w) ? 0 : -1;
}
