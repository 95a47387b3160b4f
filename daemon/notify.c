/*
 * notify: see notify.h. The protocol is one datagram of newline-separated KEY=VALUE lines
 * to the AF_UNIX socket that NOTIFY_SOCKET names (a path, or "@name" in the abstract
 * namespace). It is written here instead of calling sd_notify(3) for one reason: not to
 * block. STATUS=, WATCHDOG=1, RELOADING=1 and STOPPING=1 go with MSG_DONTWAIT (one lost
 * is harmless); only READY=1, which systemd (or a test harness) must see, may wait for
 * room, and for NOTIFY_WAIT_MS at most. sd_watchdog_enabled(3) still reads WATCHDOG_USEC
 * and WATCHDOG_PID.
 */
#include "notify.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define STATUS_INTERVAL_MS 2000
#define NOTIFY_WAIT_MS 5000
#define STATUS_MAX 256
#define STALL_NO_WATCHDOG_MS 1000ULL
#define STALL_MAX_MS 30000ULL

struct notify {
    int fd; /* -1 without NOTIFY_SOCKET: nothing is sent; blocking, with a send timeout */
    struct sockaddr_un addr;
    socklen_t addr_len;
    notify_status_fn status;
    void *status_arg;
    uint64_t watchdog_usec; /* 0: no watchdog */
    struct event *ping_ev, *status_ev, *stall_ev;
    char last_status[STATUS_MAX]; /* the STATUS= sent last: the timer sends only changes */
    bool send_failed;             /* a failed send is logged once */
};

static uint64_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* NOTIFY_SOCKET into self->addr: 1, 0 when it is unset, -1 when it is unusable. */
static int parse_address(notify_t *self)
{
    const char *name = getenv("NOTIFY_SOCKET");
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return 0;
    if ((name[0] != '/' && name[0] != '@') || len < 2 || len >= sizeof self->addr.sun_path) {
        log_warning("msg=\"NOTIFY_SOCKET unusable, not notifying systemd\" notify_socket=\"%s\"",
                    name);
        return -1;
    }
    self->addr.sun_family = AF_UNIX;
    memcpy(self->addr.sun_path, name, len);
    if (name[0] == '@')
        self->addr.sun_path[0] = '\0'; /* abstract: the name is exactly len bytes */
    self->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    return 1;
}

/* The socket we send from; fd -1 (and 0) without a usable NOTIFY_SOCKET. */
static int open_socket(notify_t *self)
{
    if (parse_address(self) <= 0)
        return 0;
    struct timeval wait = {NOTIFY_WAIT_MS / 1000, (NOTIFY_WAIT_MS % 1000) * 1000};
    self->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (self->fd < 0 || setsockopt(self->fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait) < 0)
        return log_error("msg=\"cannot create the notify socket\" error=\"%s\"", strerror(errno)),
               -1;
    return 0;
}

/* Sends one datagram; true when it left. flags: MSG_DONTWAIT, or 0 to wait for room in the
 * receiver's queue (NOTIFY_WAIT_MS at most). */
__attribute__((format(printf, 3, 4))) static bool sendf(notify_t *self, int flags, const char *fmt,
                                                        ...)
{
    char text[1024];
    va_list ap;
    if (self->fd < 0)
        return false;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof text)
        return false;
    if (sendto(self->fd, text, (size_t)n, flags | MSG_NOSIGNAL,
               (const struct sockaddr *)&self->addr, self->addr_len) == n)
        return true;
    if (!self->send_failed)
        log_warning("msg=\"cannot notify systemd, dropping notifications\" error=\"%s\" "
                    "note=\"logged once\"",
                    strerror(errno));
    self->send_failed = true;
    return false;
}

static void status_text(const notify_t *self, char *buf, size_t len)
{
    if (self->status)
        self->status(self->status_arg, buf, len);
    else
        snprintf(buf, len, "serving");
}

static void remember(notify_t *self, const char *status)
{
    snprintf(self->last_status, sizeof self->last_status, "%s", status);
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
    notify_t *self = arg;
    char status[STATUS_MAX];
    (void)fd, (void)what;
    status_text(self, status, sizeof status);
    if (strcmp(status, self->last_status) == 0)
        return;
    log_debug("msg=\"status\" status=\"%s\"", status);
    sendf(self, MSG_DONTWAIT, "STATUS=%s", status);
    remember(self, status);
}

static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    sendf(arg, MSG_DONTWAIT, "WATCHDOG=1");
}

static uint64_t stall_ms(const notify_t *self)
{
    uint64_t ms = self->watchdog_usec ? self->watchdog_usec / 500u : STALL_NO_WATCHDOG_MS;
    return ms > STALL_MAX_MS ? STALL_MAX_MS : ms;
}

/* Blocks the calling thread (the event loop) for ms; returns the time it took, in ms. */
static uint64_t block_for(uint64_t ms)
{
    uint64_t start = now_usec();
    struct timespec left = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&left, &left) < 0 && errno == EINTR)
        ;
    return (now_usec() - start) / 1000u;
}

/* The SIGUSR2 test hook: a stuck loop, as far as the watchdog can tell. */
static void on_stall(evutil_socket_t sig, short what, void *arg)
{
    notify_t *self = arg;
    uint64_t ms = stall_ms(self);
    (void)sig, (void)what;
    log_warning("msg=\"test hook: stalling the event loop\" ms=%llu", (unsigned long long)ms);
    sendf(self, MSG_DONTWAIT, "STATUS=stalled (test hook) for %llu ms", (unsigned long long)ms);
    uint64_t took = block_for(ms);
    log_warning("msg=\"test hook: event loop resumed\" stalled_ms=%llu", (unsigned long long)took);
    sendf(self, MSG_DONTWAIT, "STATUS=resumed after a stall of %llu ms", (unsigned long long)took);
    self->last_status[0] = '\0'; /* the next tick sends the summary again */
}

static struct event *add_timer(struct event_base *base, uint64_t usec, event_callback_fn fn,
                               void *arg)
{
    struct timeval tv = {(time_t)(usec / 1000000u), (suseconds_t)(usec % 1000000u)};
    struct event *ev = event_new(base, -1, EV_PERSIST, fn, arg);
    if (ev && event_add(ev, &tv) < 0)
        event_free(ev), ev = NULL;
    return ev;
}

/* The status timer, and the watchdog timer when systemd asked for pings. */
static int arm_timers(notify_t *self, struct event_base *base)
{
    uint64_t usec = 0;
    if (self->fd < 0)
        return 0;
    self->status_ev = add_timer(base, STATUS_INTERVAL_MS * 1000u, on_status, self);
    if (!self->status_ev)
        return -1;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    self->watchdog_usec = usec;
    self->ping_ev = add_timer(base, usec / 2u, on_ping, self);
    if (!self->ping_ev)
        return -1;
    log_info("msg=\"watchdog on\" timeout_ms=%llu ping_ms=%llu", (unsigned long long)usec / 1000u,
             (unsigned long long)usec / 2000u);
    return 0;
}

static int arm_stall(notify_t *self, struct event_base *base)
{
    self->stall_ev = evsignal_new(base, SIGUSR2, on_stall, self);
    return self->stall_ev && evsignal_add(self->stall_ev, NULL) == 0 ? 0 : -1;
}

notify_t *notify_new(struct event_base *base, const notify_opts_t *opts)
{
    notify_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->fd = -1;
    self->status = opts->status, self->status_arg = opts->status_arg;
    if (open_socket(self) < 0 || arm_timers(self, base) < 0 ||
        (opts->allow_stall && arm_stall(self, base) < 0))
        notify_destroy(&self);
    return self;
}

void notify_destroy(notify_t **self_p)
{
    notify_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    struct event *evs[] = {self->ping_ev, self->status_ev, self->stall_ev};
    for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
        if (evs[i])
            event_free(evs[i]);
    if (self->fd >= 0)
        close(self->fd);
    free(self);
    *self_p = NULL;
}

void notify_ready(notify_t *self)
{
    char status[STATUS_MAX];
    if (!self)
        return;
    status_text(self, status, sizeof status);
    if (self->fd >= 0)
        log_debug("msg=\"notifying systemd\" state=ready status=\"%s\"", status);
    sendf(self, 0, "READY=1\nSTATUS=%s\nMAINPID=%d%s", status, (int)getpid(),
          self->watchdog_usec ? "\nWATCHDOG=1" : "");
    remember(self, status);
}

void notify_reloading(notify_t *self)
{
    if (!self || self->fd < 0)
        return;
    log_debug("msg=\"notifying systemd\" state=reloading");
    sendf(self, MSG_DONTWAIT, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
          (unsigned long long)now_usec());
}

void notify_stopping(notify_t *self)
{
    if (!self || self->fd < 0)
        return;
    event_del(self->status_ev);
    log_debug("msg=\"notifying systemd\" state=stopping");
    sendf(self, MSG_DONTWAIT,
          "STOPPING=1\nSTATUS=stopping: committing and answering the batch in hand");
}
