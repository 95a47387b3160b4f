/*
 * harness: starts the real gridbusd for end-to-end tests and stops, kills and restarts it.
 *
 * Every end-to-end test talks to a real daemon process over real ZeroMQ sockets on free
 * loopback ports, with its state in a temporary directory. The harness launches
 * $GRIDBUSD (default build/gridbusd) with the test conf ($GRIDBUS_CONF, default conf),
 * waits for the sd_notify READY=1 datagram (never a sleep), and reads the bound endpoints
 * from STATE/gridbusd.endpoints. The daemon's stdout and stderr go to STATE/gridbusd.log,
 * which the harness prints when the daemon fails to start or does not exit cleanly. Set
 * GBD_KEEP=1 to keep the temp dirs (state, log) of a run for a look afterwards.
 */
#ifndef GB_TEST_HARNESS_H
#define GB_TEST_HARNESS_H

#include <sys/types.h>

typedef struct gbd gbd_t; /* a running gridbusd */

/* The hang guard of every wait in the harness (readiness, exit), in milliseconds. */
#define GBD_WAIT_MS 30000

/* Starts gridbusd on state_dir (NULL: a fresh temp dir under $TMPDIR or /tmp, removed by
 * gbd_stop/gbd_free) with extra_args (NULL-terminated, may be NULL) after the harness's
 * own, and waits until it is ready. NULL (with the reason and log on stderr) on failure. */
gbd_t *gbd_start(const char *state_dir, const char *const *extra_args);

/* The bound endpoint called name ("ingest", "publish", "tasks", "alerts", "http"), as the
 * daemon wrote it, or NULL. */
const char *gbd_endpoint(const gbd_t *d, const char *name);

const char *gbd_state_dir(const gbd_t *d);

/* The daemon's pid, or 0 when it is not running. */
pid_t gbd_pid(const gbd_t *d);

/* SIGTERM, waits for the exit, frees *d_p and sets it to NULL. Returns the exit status (0
 * expected), 128+signal when killed by one, -1 on a harness error. Removes the temp dir
 * only if gbd_start created it. */
int gbd_stop(gbd_t **d_p);

/* kill -9 and reap; d stays valid for gbd_restart or gbd_free. */
void gbd_kill9(gbd_t *d);

/* Starts again on the same state dir and arguments and waits until ready: 0, or -1. A
 * daemon still running is stopped first with SIGTERM. */
int gbd_restart(gbd_t *d);

/* Frees (killing the daemon with -9 if it still runs) and removes its temp dir; sets
 * *d_p to NULL. */
void gbd_free(gbd_t **d_p);

/* Beyond the core API: */

/* Sends sig and waits (hang guard GBD_WAIT_MS, then -9) for the daemon to exit; d stays
 * valid for gbd_restart or gbd_free. Returns the exit status like gbd_stop. */
int gbd_signal(gbd_t *d, int sig);

/* STATE/gridbusd.log, where the daemon's stdout and stderr go (appended across restarts). */
const char *gbd_log_path(const gbd_t *d);

/* Prints the last part of the daemon's log to stderr, for a failing test. */
void gbd_print_log(const gbd_t *d);

/* SIGHUP, then waits for the READY=1 with which the daemon ends every reload, whether it
 * took the new files or kept the running ones. 0, or -1 on exit or after GBD_WAIT_MS. */
int gbd_reload(gbd_t *d);

/* The datagram (newline-separated KEY=VALUE lines) that carried the last READY=1 the
 * harness waited for, at start-up or in gbd_reload. */
const char *gbd_ready_message(const gbd_t *d);

/* The next datagram the daemon sent to its NOTIFY_SOCKET after the last READY=1 the
 * harness waited for (later ones stay queued for this), NUL-terminated in buf: its length,
 * or -1 when the daemon exited, after GBD_WAIT_MS (the hang guard) or on error. Keep
 * reading: the kernel queues only a few datagrams (net.unix.max_dgram_qlen) and the
 * daemon drops what a full socket will not take. */
int gbd_notify_next(gbd_t *d, char *buf, size_t len);

#endif
