/*
 * notify: gridbusd's side of the systemd notification protocol (sd_notify(3)).
 *
 * READY=1 once the store is open and every socket bound, RELOADING=1 then READY=1 around
 * a reload, STOPPING=1 when shutdown begins, and a one-line STATUS= (shown by `systemctl
 * status`) kept fresh by a timer. With a watchdog (WatchdogSec= in the unit, seen here as
 * WATCHDOG_USEC), WATCHDOG=1 is sent by a timer of the daemon's own event loop at half the
 * timeout, so a loop that is stuck stops pinging and systemd kills and restarts the daemon.
 *
 * sd_notify(3) blocks while the receiving socket's queue is full, and the event loop must
 * not wait on its supervisor: STATUS=, WATCHDOG=1, RELOADING=1 and STOPPING=1 are sent
 * without blocking, and one a full socket will not take is dropped (the first drop is
 * logged). Only READY=1, which must arrive, waits for room, 5 s at most. systemd reads its
 * socket at once; the queue fills only under a test harness that stopped reading. Without
 * NOTIFY_SOCKET every call is a no-op.
 *
 * Test hook (allow_stall, i.e. testing.allow_clock): SIGUSR2 blocks the event loop for
 * twice the watchdog timeout (1 s without a watchdog, 30 s at most), after sending
 * "STATUS=stalled (test hook) ..."; when it ends it sends "STATUS=resumed ...". No
 * WATCHDOG=1 can come between the two, which is what a test of the watchdog checks.
 */
#ifndef GB_NOTIFY_H
#define GB_NOTIFY_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct notify notify_t;

/* Writes the one-line summary sent as STATUS=, e.g. "serving; events=12 batches=3". */
typedef void (*notify_status_fn)(void *arg, char *buf, size_t len);

typedef struct {
    notify_status_fn status; /* may be NULL: the status is then "serving" */
    void *status_arg;
    bool allow_stall; /* the SIGUSR2 test hook; never in production */
} notify_opts_t;

/* Reads NOTIFY_SOCKET and WATCHDOG_USEC (and WATCHDOG_PID) and arms the timers on base.
 * NULL only when out of memory or when libevent fails. */
notify_t *notify_new(struct event_base *base, const notify_opts_t *opts);
void notify_destroy(notify_t **self_p);

/* READY=1 with STATUS= and MAINPID=: at start-up and at the end of every reload. */
void notify_ready(notify_t *self);

/* RELOADING=1 with MONOTONIC_USEC= (which systemd >= 253 wants) as a reload begins. */
void notify_reloading(notify_t *self);

/* STOPPING=1 as shutdown begins; the status timer stops. */
void notify_stopping(notify_t *self);

#endif
