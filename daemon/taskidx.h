/*
 * taskidx: the task indexes (open tasks by assignee and by grid, the overdue ones, the
 * deadline queue), derived from the task feed by a thread of their own, in an LMDB
 * environment of their own.
 *
 * A task and its feed record are written in the transaction of the event that caused them
 * (taskdb), so an ack means the task exists; the indexes are derived data. LMDB lets one
 * thread write an environment at a time, and opening a task used to spend most of its cost
 * on the index entries in the loop thread's transaction. Here the indexer follows the feed
 * on the other core: for each record it compares the task with what it indexed for it before
 * (a small footprint per task) and puts or deletes the entries that changed, and it marks
 * the last feed seq it applied in the same transaction. It is never ahead of the feed, it
 * catches up after a crash from its mark, and it is rebuilt from the task records when its
 * mark does not match the feed (a fresh state dir, an upgrade, a restored backup: backups
 * need only the main environment).
 *
 * Reads wait for the indexer to have applied the feed up to the head last committed
 * (taskidx_follow), so a client that got an ack and then queries sees its task.
 */
#ifndef GB_TASKIDX_H
#define GB_TASKIDX_H

#include <stdint.h>

#include "store.h"
#include "task.h"

typedef struct taskidx taskidx_t;

/* The indexes of the tasks (dbi tasks) and feed (dbi feed) of main, kept in the environment
 * in dir (created when missing), rebuilt there when their mark does not match the feed; the
 * indexer thread is started. NULL with the reason in err. */
taskidx_t *taskidx_new(const char *dir, const store_opts_t *opts, store_t *main, MDB_dbi tasks,
                       MDB_dbi feed, char *err, size_t errlen);
/* Stops the indexer and closes the environment. */
void taskidx_destroy(taskidx_t **self_p);

/* The feed's committed head is now head: the indexer follows. */
void taskidx_follow(taskidx_t *self, uint64_t head);

/* Waits until the indexes hold the feed up to the last head followed. -1 while the indexer
 * fails (it retries every second; the indexes are those of its last good commit). */
int taskidx_wait(taskidx_t *self);

/* The last feed seq the indexes hold. */
uint64_t taskidx_applied(taskidx_t *self);

/* Open tasks by index ('a' by assignee, 'g' by grid, 'o' overdue by grid, 'O' every overdue
 * one with key ""), seq above after, at most limit, each read from main. */
typedef int (*taskidx_task_fn)(void *arg, const task_t *t, const void *rec, size_t len);
long taskidx_scan(taskidx_t *self, char index, const char *key, uint64_t after, uint32_t limit,
                  taskidx_task_fn fn, void *arg);
/* How many an index holds under key; -1 on a store error. */
long taskidx_count(taskidx_t *self, char index, const char *key);

/* The earliest deadline in the queue as it is (without waiting): 0 and *due, 1 when none. */
int taskidx_next_deadline(taskidx_t *self, int64_t *due);
/* Every deadline at or before now, earliest first: fn(arg, task seq, kind, due). The entries
 * stay until the indexer applies the changes fn makes. The number listed, or -1. */
typedef int (*taskidx_due_fn)(void *arg, uint64_t seq, deadline_kind_t kind, int64_t due);
long taskidx_due(taskidx_t *self, int64_t now, taskidx_due_fn fn, void *arg);

#endif
