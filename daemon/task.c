/*
 * task: the task record and its wire encoding, the map a query returns and a task-feed record
 * carries (see task.h). The store keeps another form; taskrec.c reads both it and this one,
 * which stores written before schema 4 hold.
 */
#include "task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gb_code.h"

static const char *const status_names[TASK_STATUS_COUNT_] = {
    "dispatched", "accepted", "in_progress", "done", "closed", "parked"};

const char *task_status_name(task_status_t s)
{
    return (unsigned)s < TASK_STATUS_COUNT_ ? status_names[s] : "?";
}

int task_status_from_name(const char *name, size_t len)
{
    for (int i = 0; i < TASK_STATUS_COUNT_; i++)
        if (strlen(status_names[i]) == len && memcmp(status_names[i], name, len) == 0)
            return i;
    return -1;
}

bool task_is_open(const task_t *t)
{
    return t->status != TASK_CLOSED;
}

int task_next_deadline(const task_t *t, int64_t *due, deadline_kind_t *kind)
{
    bool accept = t && task_deadline_pending(t, DEADLINE_ACCEPT);
    bool complete = t && task_deadline_pending(t, DEADLINE_COMPLETE);
    if (accept && (!complete || t->accept_by <= t->complete_by))
        *due = t->accept_by, *kind = DEADLINE_ACCEPT;
    else if (complete)
        *due = t->complete_by, *kind = DEADLINE_COMPLETE;
    return accept || complete ? 0 : -1;
}

bool task_deadline_pending(const task_t *t, deadline_kind_t kind)
{
    if (kind == DEADLINE_ACCEPT)
        return t->status == TASK_DISPATCHED && t->accept_by && !t->overdue_accept;
    return t->complete_by && !t->overdue_complete &&
           (t->status == TASK_DISPATCHED || t->status == TASK_ACCEPTED ||
            t->status == TASK_IN_PROGRESS);
}

void task_format_id(uint64_t seq, char out[TASK_ID_MAX])
{
    char digits[21];
    int n = 0;
    do
        digits[n++] = (char)('0' + seq % 10);
    while ((seq /= 10) != 0);
    out[0] = 't', out[1] = '-';
    for (int i = 0; i < n; i++)
        out[2 + i] = digits[n - 1 - i];
    out[2 + n] = 0;
}

void task_reset(task_t *t)
{
    /* The history and returned-by arrays are most of the struct and are only read up to
     * their counts: clearing them per task would cost more than the rest of opening it. */
    memset(t, 0, offsetof(task_t, returned_by));
    t->nreturned = 0;
    t->nhistory = 0;
}

/* Only the form task_format_id writes is a task id: no sign, no leading zero, no
 * overflow, so one task has exactly one name ("t-01" is not t-1). */
int task_parse_id(const char *s, size_t len, uint64_t *seq)
{
    uint64_t v = 0;
    if (len < 3 || len > 22 || s[0] != 't' || s[1] != '-' || s[2] == '0')
        return -1;
    for (size_t i = 2; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *seq = v;
    return 0;
}

void task_add_step(task_t *t, int64_t at, const char *by, const char *step, const char *note,
                   size_t note_len)
{
    if (t->nhistory == TASK_HISTORY_MAX) {
        memmove(&t->history[1], &t->history[2], (TASK_HISTORY_MAX - 2) * sizeof t->history[0]);
        t->nhistory--;
    }
    task_step_t *s = &t->history[t->nhistory++];
    s->at = at;
    gb_text_copy(s->by, sizeof s->by, by, strlen(by));
    gb_text_copy(s->step, sizeof s->step, step, strlen(step));
    gb_text_copy(s->note, sizeof s->note, note ? note : "", note ? note_len : 0);
}

/* Packed with mpw (inline writes straight into the buffer): the summary is packed for every
 * task opened or moved (its live feed record), twice through msgpack-c's callback per key
 * and value before. */
static void write_history(mpw_t *w, const task_t *t)
{
    MPW_KEY(w, "history");
    mpw_array(w, t->nhistory);
    for (uint32_t i = 0; i < t->nhistory; i++) {
        const task_step_t *s = &t->history[i];
        mpw_map(w, 4);
        MPW_KEY(w, "at"), mpw_int(w, s->at);
        MPW_KEY(w, "by"), mpw_cstr(w, s->by);
        MPW_KEY(w, "step"), mpw_cstr(w, s->step);
        MPW_KEY(w, "note"), mpw_cstr(w, s->note);
    }
}

void task_write_fields(mpw_t *w, const task_t *t)
{
    char id[TASK_ID_MAX];
    task_format_id(t->seq, id);
    MPW_KEY(w, "id"), mpw_cstr(w, id);
    MPW_KEY(w, "seq"), mpw_uint(w, t->seq);
    MPW_KEY(w, "event"), mpw_cstr(w, t->event_id);
    MPW_KEY(w, "type"), mpw_cstr(w, t->type);
    MPW_KEY(w, "route"), mpw_cstr(w, t->route);
    MPW_KEY(w, "role"), mpw_cstr(w, t->role);
    MPW_KEY(w, "grid"), mpw_cstr(w, t->grid);
    MPW_KEY(w, "category"), mpw_cstr(w, t->category);
    MPW_KEY(w, "assignee"), mpw_cstr(w, t->assignee);
    MPW_KEY(w, "status"), mpw_cstr(w, task_status_name(t->status));
    MPW_KEY(w, "created_at"), mpw_int(w, t->created_at);
    MPW_KEY(w, "accept_by"), mpw_int(w, t->accept_by);
    MPW_KEY(w, "complete_by"), mpw_int(w, t->complete_by);
    MPW_KEY(w, "accepted_at"), mpw_int(w, t->accepted_at);
    MPW_KEY(w, "done_at"), mpw_int(w, t->done_at);
    MPW_KEY(w, "closed_at"), mpw_int(w, t->closed_at);
    MPW_KEY(w, "overdue_accept"), mpw_bool(w, t->overdue_accept);
    MPW_KEY(w, "overdue_complete"), mpw_bool(w, t->overdue_complete);
    MPW_KEY(w, "fee_fen"), mpw_int(w, t->fee_fen);
    MPW_KEY(w, "fee_waived_fen"), mpw_int(w, t->fee_waived_fen);
    MPW_KEY(w, "returned_by");
    mpw_array(w, t->nreturned);
    for (uint32_t i = 0; i < t->nreturned; i++)
        mpw_cstr(w, t->returned_by[i]);
}

int task_pack(msgpack_sbuffer *out, const task_t *t, bool with_history)
{
    mpw_t w;
    mpw_init(&w, out);
    mpw_map(&w, TASK_SUMMARY_FIELDS + (with_history ? 1 : 0));
    task_write_fields(&w, t);
    if (with_history)
        write_history(&w, t);
    return mpw_ok(&w) ? 0 : -1;
}
