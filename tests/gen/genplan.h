/*
 * genplan: the month gridbus-gen publishes, drawn before anything is sent (genplan.c): the
 * day's ticks, the field reports and, with follow-ups, the case loop's steps, in time order.
 */
#ifndef GB_GENPLAN_H
#define GB_GENPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GENPLAN_REPAIRS 106 /* the seed's month */
#define GENPLAN_KV_MAX 8

/* A compound of the sample community and the grid it belongs to. */
typedef struct {
    const char *id, *name, *grid;
} compound_t;

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
    const char *keys[GENPLAN_KV_MAX];
    char *vals[GENPLAN_KV_MAX];
    int nkv;
    int opener;        /* follow-ups: the action that opened the task */
    int same_entry;    /* ledger: 1 + the entry whose number it repeats, 0: a number of its own */
    task_kind_t tkind; /* field events: what task it should open */
    /* filled while running */
    uint64_t seq;
    bool acked, has_task;
    char assignee[65];
} action_t;

typedef struct {
    action_t *actions; /* in time order; a follow-up's opener indexes this array */
    size_t n;
    char month[8]; /* "2026-11" */
    uint64_t seed;
    int64_t lead_in; /* the first day planned: the Monday of the month's first week */
} genplan_t;

/* The plan of month mon of year from seed, with the case loop's steps when follow_ups.
 * 0; or 2 (a month of too few working days) or 3 (out of memory), the reason on stderr:
 * gridbus-gen's exit statuses. */
int genplan_build(genplan_t *p, int year, int mon, uint64_t seed, bool follow_ups);
void genplan_free(genplan_t *p);

#endif
