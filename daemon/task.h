/*
 * task: one case of the closed loop (dispatch, accept, handle, report back, verify and
 * close), as a plain struct, and its encoding.
 *
 * A task is keyed by the seq of the event that opened it ("t-<seq>"), so task keys append
 * in order and a task id needs no counter of its own. Its history (who did what, when,
 * with which note) lives inside the record: a case has a handful of steps, and keeping
 * them together makes every step one put.
 */
#ifndef GB_TASK_H
#define GB_TASK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "mpw.h"

#define TASK_ID_MAX 24
#define TASK_MEMBER_MAX 65
#define TASK_NOTE_MAX 256
#define TASK_HISTORY_MAX 32
#define TASK_RETURNED_MAX 8

typedef enum {
    TASK_DISPATCHED,
    TASK_ACCEPTED,
    TASK_IN_PROGRESS,
    TASK_DONE,
    TASK_CLOSED,
    TASK_PARKED, /* nobody holds the route's roles on the grid */
    TASK_STATUS_COUNT_
} task_status_t;

typedef struct {
    int64_t at;
    char by[TASK_MEMBER_MAX];
    char step[24]; /* "created", "accepted", "returned", "overdue_accept", ... */
    char note[TASK_NOTE_MAX];
} task_step_t;

typedef struct {
    uint64_t seq; /* the opening event's seq; the task id is "t-<seq>" */
    char event_id[65];
    char type[32];
    char route[48];
    char role[32];
    char grid[33];                  /* "" for grid-less tasks (ledger review) */
    char category[32];              /* body.category when the event has one */
    char assignee[TASK_MEMBER_MAX]; /* "" while parked */
    task_status_t status;
    int64_t created_at, accept_by, complete_by; /* 0: no deadline */
    int64_t accepted_at, done_at, closed_at;
    bool overdue_accept, overdue_complete;
    int64_t fee_fen, fee_waived_fen;
    char returned_by[TASK_RETURNED_MAX][TASK_MEMBER_MAX];
    uint32_t nreturned;
    task_step_t history[TASK_HISTORY_MAX];
    uint32_t nhistory;
} task_t;

/* "dispatched", ...; and back: -1 for an unknown name. */
const char *task_status_name(task_status_t s);
int task_status_from_name(const char *name, size_t len);

/* Open = anything not closed: it counts towards its assignee's load. */
bool task_is_open(const task_t *t);

/* Whether t still waits on that deadline: set, not yet missed, and the step it asks for
 * (accepting; finishing the work) not yet taken. */
typedef enum { DEADLINE_ACCEPT = 'a', DEADLINE_COMPLETE = 'c' } deadline_kind_t;
bool task_deadline_pending(const task_t *t, deadline_kind_t kind);

/* A task waits on one deadline at a time: the earlier of its pending accept and complete
 * deadlines; when that one is met or missed the next is due. 0 and *due, *kind; -1 when none
 * is pending (t may be NULL). */
int task_next_deadline(const task_t *t, int64_t *due, deadline_kind_t *kind);

/* "t-42" for seq 42; 0 from task_parse_id when the text is a task id. */
void task_format_id(uint64_t seq, char out[TASK_ID_MAX]);
int task_parse_id(const char *s, size_t len, uint64_t *seq);

/* Appends a step to the history; the oldest steps after the first are dropped when full
 * (the first, "created", is kept). */
void task_add_step(task_t *t, int64_t at, const char *by, const char *step, const char *note,
                   size_t note_len);

/* Clears t for a new task (without touching the unused history slots). */
void task_reset(task_t *t);

/* Full record (with history) or the feed's summary (without), appended to out. 0, or -1
 * when out could not grow. */
int task_pack(msgpack_sbuffer *out, const task_t *t, bool with_history);

/* The summary fields of task_pack, for a map of TASK_SUMMARY_FIELDS that holds them (the
 * task-feed record's "task"). Errors are w's (mpw_ok). */
#define TASK_SUMMARY_FIELDS 21
void task_write_fields(mpw_t *w, const task_t *t);

#endif
