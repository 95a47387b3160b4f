/*
 * taskpub: the task feed's live side. Every committed task-feed record is sent on the tasks
 * PUB socket in its wire form ([topic][record], PROTOCOL.md), once, in seq order, and a
 * heartbeat on "hb/tasks" carries the committed head every second.
 *
 * A thread of its own ("gb-taskfeed") does it, following the feed's committed head as the
 * indexer does. The loop thread is the daemon's bottleneck: decoding nothing, it still
 * spent a third of what opening a task cost it on packing the record's wire form and handing
 * it to ZeroMQ. Not the indexer's thread either: that one yields to everything else (it runs
 * at a lower priority, see taskidx.c), and a task's delivery to its assignee should not.
 *
 * A ZeroMQ socket may be used by one thread at a time: the loop binds the socket and hands
 * it over (taskpub_attach) once nothing else of the loop touches it, and takes it back before
 * closing it. Records committed while no socket is attached are sent when one is. The socket
 * is an XPUB (a SUB connects to it as to a PUB), so the thread knows when nobody subscribes
 * and then packs nothing.
 */
#ifndef GB_TASKPUB_H
#define GB_TASKPUB_H

#include <stdint.h>

#include "store.h"

typedef struct taskpub taskpub_t;

/* The feed in dbi feed of main, as of head: the records after it are the ones to send. The
 * thread is started. NULL when it cannot be. */
taskpub_t *taskpub_new(store_t *main, MDB_dbi feed, uint64_t head);
/* Stops the thread (the socket, if still attached, is not touched again). */
void taskpub_destroy(taskpub_t **self_p);

/* The feed's committed head is now head. */
void taskpub_follow(taskpub_t *self, uint64_t head);

/* Hands the bound tasks PUB socket to the thread. NULL takes it back: returns once the
 * records committed so far are sent (or after 2 s) and the thread no longer touches it. */
void taskpub_attach(taskpub_t *self, void *pub);

#endif
