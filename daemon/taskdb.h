/*
 * taskdb: tasks and the task feed, as named databases in the store's LMDB environment,
 * written inside the store's batch (so an ack means the task exists); and, through
 * taskidx, the indexes derived from them (open tasks by assignee, grid, overdue; the
 * deadline queue), kept by an indexer thread in an environment of their own.
 *
 * A feed record carries the task's state after the change, so the indexes follow the feed:
 * no caller maintains an index by hand; a thread of its own publishes the feed live (taskpub).
 * Reads of an index wait until it holds the last committed batch.
 */
#ifndef GB_TASKDB_H
#define GB_TASKDB_H

#include <msgpack.h>
#include <stdint.h>

#include "feedlog.h"
#include "store.h"
#include "task.h"

typedef struct taskdb taskdb_t;

/* index_dir: the folder of the index environment (created; rebuilt from the tasks when it
 * does not match their feed), opened with opts. */
taskdb_t *taskdb_new(store_t *store, const char *index_dir, const store_opts_t *opts, char *err,
                     size_t errlen);
void taskdb_destroy(taskdb_t **self_p);

/* 0 and *t, 1 when there is no such task, -1 on a store error. */
int taskdb_get(taskdb_t *self, uint64_t seq, task_t *t);

/* Writes t (old: its previous state, NULL for a new task) and the assignee's load, and
 * appends the feed record of its change, from which the indexes follow and which the task
 * feed publishes once committed (taskdb_publish). In the batch. */
store_rc_t taskdb_put(taskdb_t *self, const task_t *old, const task_t *t, const char *change,
                      const char *by, int64_t at);

/* Hands the tasks PUB socket to the task feed's thread (taskpub.h), which publishes every
 * feed record committed since the store was opened, and a heartbeat with the committed head
 * every second; the loop must not touch the socket until taskdb_publish(self, NULL)
 * returns, which waits (a bounded while) until the records committed so far are sent. */
void taskdb_publish(taskdb_t *self, void *pub);

/* Open tasks assigned to member (parked tasks count for ""). */
uint32_t taskdb_load(taskdb_t *self, const char *member);

/* The last feed seq (0 when empty). */
uint64_t taskdb_feed_head(taskdb_t *self);

/* Feed records with seq >= from whose topic starts with filter (len 0: all), in order,
 * until limit matches, fn refusing one (a full reply), or a scan budget. *last_seen is the
 * last seq handled (delivered or skipped), 0 when none: the reader continues after it. */
typedef feedlog_record_fn taskdb_record_fn;
long taskdb_feed_read(taskdb_t *self, uint64_t from, uint32_t limit, const char *filter,
                      size_t filter_len, taskdb_record_fn fn, void *arg, uint64_t *last_seen);

/* The earliest pending deadline, or earlier (a deadline put since the last pass, which the
 * indexer may not have seen): 0 and *due, 1 when none. Does not wait. */
int taskdb_next_deadline(taskdb_t *self, int64_t *due);

/* Calls fn for every deadline at or before now, earliest first, once the indexes hold the
 * last commit; an entry stays until the indexer sees the change fn makes, so fn must let go
 * of one its task no longer waits on. due: the instant the entry was kept for. */
typedef int (*taskdb_deadline_fn)(void *arg, uint64_t task_seq, deadline_kind_t kind, int64_t due);
long taskdb_take_due(taskdb_t *self, int64_t now, taskdb_deadline_fn fn, void *arg);

/* Open tasks by index ('a': by assignee, 'g': by grid, 'o': overdue by grid, 'O': every
 * overdue one, key ""), key the member or grid id, seq above after, at most limit; or all
 * tasks (index 0) in seq order. */
typedef int (*taskdb_task_fn)(void *arg, const task_t *t, const void *rec, size_t len);
long taskdb_scan(taskdb_t *self, char index, const char *key, uint64_t after, uint32_t limit,
                 taskdb_task_fn fn, void *arg);

/* How many tasks an index holds under key (as taskdb_scan), without reading them; -1 on a
 * store error. */
long taskdb_count(taskdb_t *self, char index, const char *key);

#endif
