/*
 * taskrec: the stored forms of a task and of its feed records, and the feed record's wire form.
 *
 * On the wire a task and a task-feed record are maps that name every field (PROTOCOL.md).
 * Stored that way, the names were half of the bytes a task wrote into its event's commit
 * (a task record of ~450 bytes and a feed record of ~410, ~220 of them keys), and every
 * commit fsyncs what it writes. So the store keeps them as positional arrays; a query packs
 * the wire map from the decoded task (task_pack) and a replay from the decoded feed record
 * (taskrec_feed_wire), which is also what the live publish sends: one packer for both.
 *
 *   task record  [TASKREC_FORM, summary, history]
 *     summary    [seq, event, type, route, role, grid, category, assignee, status (index of
 *                 task_status_t), created_at, accept_by, complete_by, accepted_at, done_at,
 *                 closed_at, overdue_accept, overdue_complete, fee_fen, fee_waived_fen,
 *                 [returned_by, ...]]
 *     history    [[at, by, step, note], ...]
 *   feed record  [TASKREC_FORM, at, change, by, summary]  (the summary's bytes as in the
 *                 task record, copied, not packed twice)
 *
 * Records written before store schema 4 are the wire maps themselves; both forms are read.
 */
#ifndef GB_TASKREC_H
#define GB_TASKREC_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "task.h"

#define TASKREC_FORM 1 /* the first element of a stored array record */

/* A task-feed record's change: what happened, by whom, when. */
typedef struct {
    int64_t at;
    char change[24]; /* "dispatched", "accepted", ..., "overdue_accept" */
    char by[TASK_MEMBER_MAX];
} taskrec_change_t;

/* The task record of t into out (cleared first), with where its summary's bytes lie. 0, or
 * -1 when out could not grow. */
int taskrec_pack(msgpack_sbuffer *out, const task_t *t, size_t *summary_off, size_t *summary_len);

/* A feed record into out (cleared first): the change and a summary packed by taskrec_pack. */
int taskrec_pack_feed(msgpack_sbuffer *out, int64_t at, const char *change, const char *by,
                      const void *summary, size_t summary_len);

/* A task record of either form into t, unpacked into zone (cleared first). 0, or -1 when the
 * bytes are not a task record. */
int taskrec_decode(msgpack_zone *zone, const void *data, size_t len, task_t *t);

/* A feed record of either form: its change into c and its task (without history) into t. */
int taskrec_decode_feed(msgpack_zone *zone, const void *data, size_t len, taskrec_change_t *c,
                        task_t *t);

/* As taskrec_decode_feed, for the indexer: of the task only what the indexes derive from
 * (seq, grid, assignee, status, accept_by, complete_by, the overdue flags; the rest reset),
 * read in place without unpacking the record, and no change. Records of the earlier form
 * are decoded whole in zone. */
int taskrec_decode_foot(msgpack_zone *zone, const void *data, size_t len, task_t *t);

/* Whether a stored feed record is already in its wire form (written before schema 4). */
bool taskrec_feed_is_wire(const void *data, size_t len);

/* "task/<grid>/<assignee>", "-" for an empty part; "" when it does not fit in len. */
void taskrec_topic(const task_t *t, char *topic, size_t len);

/* The wire form of a feed record into out (cleared first): seq, topic, at, change, by, and
 * the task's summary map. 0, or -1 when out could not grow. */
int taskrec_feed_wire(msgpack_sbuffer *out, uint64_t seq, const char *topic, int64_t at,
                      const char *change, const char *by, const task_t *t);

#endif
