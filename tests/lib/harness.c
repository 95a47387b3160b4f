/*
 * harness: launches the real gridbusd for end-to-end tests (see harness.h).
 *
 * Readiness is the sd_notify protocol the daemon speaks under systemd: the harness binds
 * an AF_UNIX datagram socket, passes it as NOTIFY_SOCKET, and waits on it together with a
 * pidfd of the child, so a daemon that dies before READY=1 fails the start at once and a
 * daemon that hangs fails it after GBD_WAIT_MS. Nothing here sleeps to synchronise.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define GBD_MAX_ENDPOINTS 16
#define GBD_LOG_TAIL 16384

typedef struct {
    char name[32];
    char value[256];
} gbd_ep_t;

struct gbd {
    char *state_dir; /* absolute */
    bool owns_dir;
    char **argv; /* NULL-terminated, owned */
    pid_t pid;   /* 0 when not running */
    int pidfd;   /* -1 when not running or unsupported */
    int notify_fd;
    char notify_name[sizeof(((struct sockaddr_un *)0)->sun_path) + 1]; /* '@' for abstract */
    char *log_path;
    gbd_ep_t eps[GBD_MAX_ENDPOINTS];
    int neps;
    char ready_msg[4096]; /* the datagram that carried the last READY=1 */
};

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under $TMPDIR (or /tmp), absolute. */
static char *make_temp_dir(void)
{
    char *tmpl = xasprintf("%s/gridbusd-test.XXXXXX", env_or("TMPDIR", "/tmp"));
    if (tmpl && !mkdtemp(tmpl)) {
        fprintf(stderr, "harness: mkdtemp %s: %s\n", tmpl, strerror(errno));
        free(tmpl);
        return NULL;
    }
    char *abs = tmpl ? realpath(tmpl, NULL) : NULL;
    free(tmpl);
    return abs;
}

/* The caller's directory, created if missing, made absolute (NOTIFY_SOCKET needs that). */
static char *use_dir(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "harness: mkdir %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    return realpath(dir, NULL);
}

static void free_strv(char **v)
{
    for (char **p = v; p && *p; p++)
        free(*p);
    free(v);
}

static char **build_argv(const char *state_dir, const char *const *extra)
{
    const char *conf = env_or("GRIDBUS_CONF", "conf");
    const char *fixed[] = {"--set", "endpoints.ingest=tcp://127.0.0.1:*",
                           "--set", "endpoints.publish=tcp://127.0.0.1:*",
                           "--set", "endpoints.tasks=tcp://127.0.0.1:*",
                           "--set", "endpoints.alerts=tcp://127.0.0.1:*",
                           "--set", "endpoints.http=127.0.0.1:0"};
    size_t nfixed = sizeof fixed / sizeof fixed[0], nextra = 0;
    while (extra && extra[nextra])
        nextra++;
    char **argv = calloc(6 + nfixed + nextra + 1, sizeof *argv);
    if (!argv)
        return NULL;
    size_t n = 0;
    argv[n++] = strdup(env_or("GRIDBUSD", "build/gridbusd"));
    argv[n++] = strdup("--state-dir");
    argv[n++] = strdup(state_dir);
    argv[n++] = strdup("--set");
    argv[n++] = xasprintf("directory=%s/daidong.yaml", conf);
    for (size_t i = 0; i < nfixed; i++)
        argv[n++] = strdup(fixed[i]);
    for (size_t i = 0; i < nextra; i++)
        argv[n++] = strdup(extra[i]);
    for (size_t i = 0; i < n; i++)
        if (!argv[i]) {
            free_strv(argv);
            return NULL;
        }
    return argv;
}

/* The environment of the child: ours, with NOTIFY_SOCKET replaced and Criterion's
 * BXFI_* worker variables left out (a child linking Criterion would take itself for a
 * test worker). Built before fork so the child only calls async-signal-safe functions. */
static char **build_envp(const char *notify)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **envp = calloc(n + 2, sizeof *envp);
    if (!envp)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "NOTIFY_SOCKET=", 14) != 0 && strncmp(environ[i], "BXFI_", 5) != 0)
            envp[k++] = strdup(environ[i]);
    envp[k++] = xasprintf("NOTIFY_SOCKET=%s", notify);
    for (size_t i = 0; i < k; i++)
        if (!envp[i]) {
            free_strv(envp);
            return NULL;
        }
    return envp;
}

/* Binds the notify socket: STATE/notify.sock when the path fits, else an abstract name. */
static int notify_open(gbd_t *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    socklen_t len;
    char *path = xasprintf("%s/notify.sock", d->state_dir);
    if (!path)
        return -1;
    if (strlen(path) < sizeof sa.sun_path) {
        unlink(path);
        strcpy(sa.sun_path, path);
        strcpy(d->notify_name, path);
        len = (socklen_t)sizeof sa;
    } else {
        snprintf(d->notify_name, sizeof d->notify_name, "@gridbusd-test-%d-%p-%lld", (int)getpid(),
                 (void *)d, (long long)now_ms());
        memcpy(sa.sun_path, d->notify_name, strlen(d->notify_name));
        sa.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(d->notify_name));
    }
    free(path);
    d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (d->notify_fd < 0 || bind(d->notify_fd, (struct sockaddr *)&sa, len) < 0) {
        fprintf(stderr, "harness: notify socket %s: %s\n", d->notify_name, strerror(errno));
        return -1;
    }
    return 0;
}

static void notify_close(gbd_t *d)
{
    if (d->notify_fd >= 0)
        close(d->notify_fd);
    d->notify_fd = -1;
    if (d->notify_name[0] == '/')
        unlink(d->notify_name);
}

/* In the child: stdin from /dev/null, stdout and stderr to the log, die with the test. */
static void child_exec(gbd_t *d, pid_t parent, int log_fd, char **envp)
{
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
        _exit(126);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(125);
    if (close_range(3, ~0U, 0) < 0)
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(d->argv[0], d->argv, envp);
    static const char msg[] = "harness: exec of the daemon failed\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(127);
    _exit(127);
}

static int spawn(gbd_t *d)
{
    char **envp = build_envp(d->notify_name);
    int log_fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (!envp || log_fd < 0) {
        fprintf(stderr, "harness: cannot prepare the child (%s)\n", strerror(errno));
        free_strv(envp);
        if (log_fd >= 0)
            close(log_fd);
        return -1;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        child_exec(d, parent, log_fd, envp);
    close(log_fd);
    free_strv(envp);
    if (pid < 0) {
        fprintf(stderr, "harness: fork: %s\n", strerror(errno));
        return -1;
    }
    d->pid = pid;
    d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    return 0;
}

/* True when buf holds the line READY=1 (sd_notify: newline-separated KEY=VALUE). */
static bool has_ready(const char *buf, size_t len)
{
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        if (eol - p == 7 && memcmp(p, "READY=1", 7) == 0)
            return true;
        p = eol + 1;
    }
    return false;
}

/* Drains the notify socket: 1 when READY=1 came, 0 when not yet, -1 on error. */
static int notify_drain(gbd_t *d)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(d->notify_fd, buf, sizeof buf, 0);
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        if (has_ready(buf, (size_t)n)) {
            snprintf(d->ready_msg, sizeof d->ready_msg, "%.*s", (int)n, buf);
            return 1;
        }
    }
}

/* Reaps the child if it has exited: true and *status when it has. */
static bool try_reap(gbd_t *d, int *status)
{
    int st;
    if (waitpid(d->pid, &st, WNOHANG) != d->pid)
        return false;
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
    if (d->pidfd >= 0)
        close(d->pidfd);
    d->pidfd = -1;
    d->pid = 0;
    return true;
}

/* Waits for READY=1 while watching for the child's exit; 0 when ready. */
static int wait_ready(gbd_t *d)
{
    int64_t deadline = now_ms() + GBD_WAIT_MS;
    for (;;) {
        int rc = notify_drain(d), status;
        if (rc != 0)
            return rc > 0 ? 0 : -1;
        if (try_reap(d, &status)) {
            fprintf(stderr, "harness: gridbusd exited with status %d before READY=1\n", status);
            return -1;
        }
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            fprintf(stderr, "harness: no READY=1 from gridbusd within %d ms\n", GBD_WAIT_MS);
            return -1;
        }
        struct pollfd p[2] = {{d->notify_fd, POLLIN, 0}, {d->pidfd, POLLIN, 0}};
        /* Without a pidfd, wake now and then to look for an early exit. */
        poll(p, d->pidfd >= 0 ? 2 : 1, d->pidfd >= 0 ? (int)left : (int)(left < 100 ? left : 100));
    }
}

int gbd_reload(gbd_t *d)
{
    if (!d || d->pid <= 0 || kill(d->pid, SIGHUP) < 0)
        return -1;
    return wait_ready(d);
}

static int add_endpoint(gbd_t *d, const char *line)
{
    const char *eq = strchr(line, '=');
    size_t nlen = eq ? (size_t)(eq - line) : 0, vlen = eq ? strcspn(eq + 1, "\r\n") : 0;
    if (!eq || nlen == 0 || nlen >= sizeof d->eps[0].name || vlen >= sizeof d->eps[0].value ||
        d->neps == GBD_MAX_ENDPOINTS)
        return -1;
    gbd_ep_t *e = &d->eps[d->neps++];
    memcpy(e->name, line, nlen);
    e->name[nlen] = '\0';
    memcpy(e->value, eq + 1, vlen);
    e->value[vlen] = '\0';
    return 0;
}

static int read_endpoints(gbd_t *d)
{
    char *path = xasprintf("%s/gridbusd.endpoints", d->state_dir);
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        fprintf(stderr, "harness: cannot read %s: %s\n", path ? path : "?", strerror(errno));
        free(path);
        return -1;
    }
    char line[512];
    d->neps = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f))
        if (line[0] != '\n' && line[0] != '#' && add_endpoint(d, line) < 0) {
            fprintf(stderr, "harness: bad line in %s: %s", path, line);
            rc = -1;
        }
    fclose(f);
    static const char *const needed[] = {"ingest", "publish", "tasks", "alerts", NULL};
    for (const char *const *n = needed; rc == 0 && *n; n++)
        if (!gbd_endpoint(d, *n)) {
            fprintf(stderr, "harness: %s names no '%s' endpoint\n", path, *n);
            rc = -1;
        }
    free(path);
    return rc;
}

/* Kill -9 and reap; nothing left running. */
static void kill_reap(gbd_t *d)
{
    if (d->pid) {
        kill(d->pid, SIGKILL);
        int st;
        while (waitpid(d->pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (d->pidfd >= 0)
            close(d->pidfd);
        d->pidfd = -1;
        d->pid = 0;
    }
    notify_close(d);
}

/* Waits up to GBD_WAIT_MS for the child to exit, then kills it; returns its status. */
static int wait_exit(gbd_t *d)
{
    int status = -1;
    int64_t deadline = now_ms() + GBD_WAIT_MS;
    while (d->pid && !try_reap(d, &status)) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            fprintf(stderr, "harness: gridbusd did not exit within %d ms; killing it\n",
                    GBD_WAIT_MS);
            kill_reap(d);
            return -1;
        }
        struct pollfd p = {d->pidfd, POLLIN, 0};
        if (d->pidfd >= 0)
            poll(&p, 1, (int)left);
        else
            poll(NULL, 0, left < 50 ? (int)left : 50);
    }
    notify_close(d);
    return status;
}

/* One start on d's directory: spawn, wait for READY=1, read the endpoints. */
static int launch(gbd_t *d)
{
    char *eps = xasprintf("%s/gridbusd.endpoints", d->state_dir);
    if (eps)
        unlink(eps); /* a stale file from the last run must not pass for this one */
    free(eps);
    if (notify_open(d) < 0 || spawn(d) < 0 || wait_ready(d) < 0 || read_endpoints(d) < 0) {
        kill_reap(d);
        gbd_print_log(d);
        return -1;
    }
    return 0;
}

static void destroy(gbd_t *d)
{
    kill_reap(d);
    if (d->owns_dir && d->state_dir && !getenv("GBD_KEEP"))
        rm_tree(d->state_dir);
    free(d->state_dir);
    free(d->log_path);
    free_strv(d->argv);
    free(d);
}

gbd_t *gbd_start(const char *state_dir, const char *const *extra_args)
{
    gbd_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->pidfd = d->notify_fd = -1;
    d->owns_dir = state_dir == NULL;
    d->state_dir = state_dir ? use_dir(state_dir) : make_temp_dir();
    if (d->state_dir) {
        d->log_path = xasprintf("%s/gridbusd.log", d->state_dir);
        d->argv = build_argv(d->state_dir, extra_args);
    }
    if (!d->state_dir || !d->log_path || !d->argv || launch(d) < 0) {
        destroy(d);
        return NULL;
    }
    return d;
}

const char *gbd_endpoint(const gbd_t *d, const char *name)
{
    for (int i = 0; d && i < d->neps; i++)
        if (strcmp(d->eps[i].name, name) == 0)
            return d->eps[i].value;
    return NULL;
}

const char *gbd_state_dir(const gbd_t *d)
{
    return d->state_dir;
}

pid_t gbd_pid(const gbd_t *d)
{
    return d->pid;
}

const char *gbd_log_path(const gbd_t *d)
{
    return d->log_path;
}

int gbd_signal(gbd_t *d, int sig)
{
    if (!d->pid)
        return -1;
    kill(d->pid, sig);
    int status = wait_exit(d);
    if (status != 0)
        gbd_print_log(d);
    return status;
}

int gbd_stop(gbd_t **d_p)
{
    if (!d_p || !*d_p)
        return -1;
    int status = gbd_signal(*d_p, SIGTERM);
    destroy(*d_p);
    *d_p = NULL;
    return status;
}

void gbd_kill9(gbd_t *d)
{
    kill_reap(d);
}

int gbd_restart(gbd_t *d)
{
    if (d->pid && gbd_signal(d, SIGTERM) != 0)
        fprintf(stderr, "harness: gridbusd did not stop cleanly before the restart\n");
    kill_reap(d);
    return launch(d);
}

void gbd_free(gbd_t **d_p)
{
    if (!d_p || !*d_p)
        return;
    destroy(*d_p);
    *d_p = NULL;
}

void gbd_print_log(const gbd_t *d)
{
    FILE *f = d->log_path ? fopen(d->log_path, "r") : NULL;
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > GBD_LOG_TAIL ? size - GBD_LOG_TAIL : 0, SEEK_SET);
    fprintf(stderr, "---- %s (last %d bytes at most) ----\n", d->log_path, GBD_LOG_TAIL);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, stderr);
    fprintf(stderr, "---- end of log ----\n");
    fclose(f);
}

const char *gbd_ready_message(const gbd_t *d)
{
    return d->ready_msg;
}

/* One datagram into buf if one is queued: its length, 0 when none is, -1 on error. */
static int notify_recv_one(gbd_t *d, char *buf, size_t len)
{
    ssize_t n = recv(d->notify_fd, buf, len - 1, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    buf[n] = '\0';
    return (int)n; /* an empty datagram counts as none */
}

int gbd_notify_next(gbd_t *d, char *buf, size_t len)
{
    int64_t deadline = now_ms() + GBD_WAIT_MS;
    if (!d || d->notify_fd < 0 || len < 2)
        return -1;
    for (;;) {
        int n = notify_recv_one(d, buf, len);
        if (n != 0)
            return n;
        int64_t left = deadline - now_ms();
        struct pollfd p[2] = {{d->notify_fd, POLLIN, 0}, {d->pidfd, POLLIN, 0}};
        if (left <= 0 || poll(p, d->pidfd >= 0 ? 2 : 1, (int)left) < 0)
            return -1;
        /* The daemon has exited (its last datagrams were read above). */
        if (d->pidfd >= 0 && (p[1].revents & POLLIN) && !(p[0].revents & POLLIN))
            return -1;
    }
}
