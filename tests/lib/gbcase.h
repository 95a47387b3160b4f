/*
 * gbcase: what the end-to-end tests of the case loop (routing, lifecycle, deadlines) share.
 *
 * A test drives one real gridbusd whose clock it owns (testing.allow_clock), optionally on
 * an edited copy of the shipped directory, opens tasks with field events and moves them
 * with follow-ups, and reads them back with the query op and the task feed. Time moves only
 * through the daemon's injectable clock: nothing here sleeps or measures time.
 *
 * Like gbtest, this is kept free of Criterion: helpers return NULL, 0 or -1 on failure and
 * the calling test asserts, quoting gbt_show(t->c) (the last reply) or gbt_why().
 */
#ifndef GB_TEST_GBCASE_H
#define GB_TEST_GBCASE_H

#include <jansson.h>
#include <stdint.h>

#include "gbtest.h"
#include "harness.h"

typedef struct {
    gbd_t *d;
    void *zctx;
    gbt_client_t *c;
    unsigned ids;        /* events built so far: each gets a fresh id */
    char tmp[64];        /* temp dir of the test directory, "" when the shipped one is used */
    char directory[600]; /* the directory file the daemon reads (and re-reads on reload) */
} gbc_t;

/* A line edit of the shipped directory: a line containing find is replaced by replace
 * (one or more lines, without the final newline). */
typedef struct {
    const char *find;
    const char *replace;
} gbc_edit_t;

/* Writes conf/daidong.yaml ($GRIDBUS_CONF) to path without the members whose ids are in
 * drop (NULL-terminated, may be NULL), and with edits applied (terminated by {NULL, NULL},
 * may be NULL). 0, or -1 (the reason on stderr). */
int gbc_write_directory(const char *path, const char *const *drop, const gbc_edit_t *edits);

/* Starts gridbusd on a fresh state dir with testing.allow_clock and connects a client.
 * When drop or edits is non-NULL the daemon reads an edited copy of the directory
 * (t->directory), which the test may rewrite and reload. NULL on failure. */
gbc_t *gbc_start(const char *const *drop, const gbc_edit_t *edits);

/* Stops the daemon (SIGTERM), removes the temp dirs; returns its exit status (0 expected). */
int gbc_stop(gbc_t **t_p);

/* Connects a fresh client after gbd_restart (the daemon binds new ports). 0 or -1. */
int gbc_reconnect(gbc_t *t);

/* JSON from text where ' stands for " (so tables stay readable); NULL on a syntax error. */
json_t *gbc_json(const char *text);

/* A field event of type, by member, on grid (NULL: no grid), with a fresh id, gbt_body's
 * body and the fields of extra (consumed, may be NULL) set over it. */
json_t *gbc_field(gbc_t *t, const char *type, const char *by, const char *grid, json_t *extra);

/* Publishes ev (consumed): its seq when acked as a new event, else 0 (see t->c). */
uint64_t gbc_publish(gbc_t *t, json_t *ev);

/* Sends a publish of ev (consumed) without waiting for its reply, so that a test can put
 * several requests in flight (gbt_recv_reply reads the replies, in order). 0 or -1. */
int gbc_send(gbc_t *t, json_t *ev);

/* gbc_publish(gbc_field(...)): the seq of the event, which is the task's number when a
 * route opens one. */
uint64_t gbc_open(gbc_t *t, const char *type, const char *by, const char *grid,
                  const char *extra_json);

/* The follow-up type on task (its id text, such as "t-3") by member: a fresh id, the
 * required body fields of type (gbt_body) and extra_json (may be NULL) set over them. */
json_t *gbc_follow_up(gbc_t *t, const char *type, const char *task, const char *by,
                      const char *extra_json);

/* Publishes gbc_follow_up(...): the reply, or NULL when none came. */
const wire_reply_t *gbc_step_on(gbc_t *t, const char *type, const char *task, const char *by,
                                const char *extra_json);
/* The same on the task opened by the event of seq. */
const wire_reply_t *gbc_step(gbc_t *t, const char *type, uint64_t seq, const char *by,
                             const char *extra_json);

/* Sends req (consumed) with op "query": the result map (borrowed from t->c, valid until the
 * next call), or NULL when the reply is not a result. */
const json_t *gbc_query(gbc_t *t, json_t *req);

/* The task opened by the event of seq, with its history (a new reference), or NULL. */
json_t *gbc_task(gbc_t *t, uint64_t seq);

/* Sets the daemon's clock to ms; 0, or -1 when refused. */
int gbc_clock(gbc_t *t, int64_t ms);

/* The task feed from record from on, filtered by topic prefix (NULL: all), to its end: a
 * JSON array of records (a new reference), or NULL. */
json_t *gbc_feed(gbc_t *t, uint64_t from, const char *filter);

/* Convenience readers of a JSON object: "" and 0 when the key is missing. */
const char *gbc_str(const json_t *obj, const char *key);
json_int_t gbc_int(const json_t *obj, const char *key);
bool gbc_bool(const json_t *obj, const char *key);

/* How many history entries of task have step, and the index of the first (-1: none). */
int gbc_steps(const json_t *task, const char *step);
int gbc_step_index(const json_t *task, const char *step);

/* Local wall time in the sample calendar's zone (Asia/Shanghai, always UTC+08:00) as ms
 * since the epoch. */
int64_t gbc_local(int year, int month, int day, int hour, int minute);

#endif
