/*
 * test_systemd: gridbusd's side of the systemd notification protocol and its log format,
 * against the real daemon, with the test's own NOTIFY_SOCKET (the harness's).
 *
 * READY=1 comes once the sockets are bound and the store is open, with STATUS= and
 * MAINPID=; STATUS= follows the counters; a reload is RELOADING=1 then READY=1; SIGTERM
 * sends STOPPING=1. With WATCHDOG_USEC set, WATCHDOG=1 comes from the event loop: the
 * test-only stall hook (SIGUSR2 under testing.allow_clock) blocks the loop between two
 * STATUS= datagrams, and no ping may come between them. Logs carry <N> priorities when
 * stderr is the journal (JOURNAL_STREAM) and timestamps otherwise, and a reload applies
 * the configuration's log.level. Everything is synchronised on datagrams, on the READY=1
 * that ends a reload, or on log lines written before a datagram; never on time.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"

/* The watchdog timeout the test asks for: a ping every 50 ms, a 200 ms stall. */
#define WATCHDOG_USEC 100000

static gbd_t *d;
static char dir[] = "/tmp/gridbus-systemd-XXXXXX"; /* the test's own files */

static void setup(void)
{
    /* Whatever the runner inherited from its own service manager must not leak in. */
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    unsetenv("JOURNAL_STREAM");
    cr_assert_not_null(mkdtemp(dir));
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (d && gbd_pid(d))
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
    gbd_free(&d);
    if (!getenv("GBD_KEEP"))
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(systemd, .init = setup, .fini = teardown, .timeout = 120);

static void start(const char *const *args)
{
    d = gbd_start(NULL, args);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
}

/* The value of the line "key=..." of a datagram, copied into val; false when absent. */
static bool field(const char *msg, const char *key, char *val, size_t len)
{
    size_t klen = strlen(key);
    for (const char *p = msg; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            snprintf(val, len, "%.*s", (int)strcspn(p + klen + 1, "\n"), p + klen + 1);
            return true;
        }
    return false;
}

static bool has(const char *msg, const char *key, const char *want)
{
    char val[512];
    return field(msg, key, val, sizeof val) && strcmp(val, want) == 0;
}

/* Reads datagrams until one has a line key=... (that datagram in msg); returns how many of
 * the datagrams before it were watchdog pings. */
static int until(const char *key, char *msg, size_t len)
{
    char val[512];
    int pings = 0;
    for (;;) {
        cr_assert_gt(gbd_notify_next(d, msg, len), 0, "no %s= datagram from gridbusd", key);
        if (field(msg, key, val, sizeof val))
            return pings;
        pings += has(msg, "WATCHDOG", "1");
    }
}

/* The daemon's log from offset on (malloc'd), and its size in *size. */
static char *read_log(long offset, long *size)
{
    FILE *f = fopen(gbd_log_path(d), "r");
    cr_assert_not_null(f, "no log at %s", gbd_log_path(d));
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    char *text = calloc(1, (size_t)(end - offset) + 1);
    cr_assert_not_null(text);
    fseek(f, offset, SEEK_SET);
    size_t n = fread(text, 1, (size_t)(end - offset), f);
    fclose(f);
    text[n] = '\0';
    if (size)
        *size = end;
    return text;
}

/* Lines of text that do not match the extended regex re. */
static int lines_not_matching(const char *text, const char *re)
{
    regex_t rx;
    cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    int bad = 0;
    char line[2048];
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        snprintf(line, sizeof line, "%.*s", (int)n, p);
        if (regexec(&rx, line, 0, NULL, 0) != 0)
            bad++, cr_log_error("log line does not match %s: %s", re, line);
        p += n + (p[n] == '\n');
    }
    regfree(&rx);
    return bad;
}

Test(systemd, ready_once_bound_with_status_and_mainpid)
{
    start(NULL);
    const char *ready = gbd_ready_message(d);
    char status[512], pid[32];
    snprintf(pid, sizeof pid, "%d", (int)gbd_pid(d));
    cr_expect(has(ready, "MAINPID", pid), "READY=1 without MAINPID=%s: %s", pid, ready);
    cr_assert(field(ready, "STATUS", status, sizeof status), "READY=1 without STATUS=: %s", ready);
    cr_expect(gbt_starts_with(status, "serving; events=0 "), "status: %s", status);
    cr_expect(!field(ready, "WATCHDOG", status, sizeof status), "a ping without a watchdog");
    /* Bound when READY=1 came: a ping is answered at once. */
    void *ctx = zmq_ctx_new();
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    cr_expect_not_null(gbt_ping(c), "%s", gbt_show(c));
    gbt_client_free(&c);
    gbt_close_all();
    zmq_ctx_term(ctx);
}

Test(systemd, status_follows_the_counters)
{
    start(NULL);
    void *ctx = zmq_ctx_new();
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    json_t *ev = gbt_event("visit.logged", "status-1");
    const wire_reply_t *r = gbt_publish(c, ev);
    cr_assert(r && gbt_is_ack(r, "status-1"), "%s", gbt_show(c));
    json_decref(ev);
    gbt_client_free(&c);
    gbt_close_all();
    zmq_ctx_term(ctx);
    char msg[1024], status[512];
    do {
        until("STATUS", msg, sizeof msg);
        field(msg, "STATUS", status, sizeof status);
    } while (!strstr(status, "events=1 "));
    cr_expect_eq(lines_not_matching(status, "^serving; events=1 tasks_opened=[01] requests=1 "
                                            "batches=1( |$)"),
                 0);
}

Test(systemd, reload_is_reloading_then_ready)
{
    start(NULL);
    char msg[1024], status[512];
    cr_assert_eq(kill(gbd_pid(d), SIGHUP), 0);
    until("RELOADING", msg, sizeof msg);
    cr_expect(has(msg, "RELOADING", "1"), "%s", msg);
    cr_expect(field(msg, "MONOTONIC_USEC", status, sizeof status), "no MONOTONIC_USEC: %s", msg);
    until("READY", msg, sizeof msg);
    cr_assert(field(msg, "STATUS", status, sizeof status), "READY=1 without STATUS=: %s", msg);
    cr_expect(gbt_starts_with(status, "serving; "), "status: %s", status);
}

Test(systemd, sigterm_sends_stopping)
{
    start(NULL);
    char msg[1024];
    cr_assert_eq(kill(gbd_pid(d), SIGTERM), 0);
    until("STOPPING", msg, sizeof msg);
    cr_expect(has(msg, "STOPPING", "1"), "%s", msg);
    cr_expect_eq(gbd_signal(d, 0), 0, "gridbusd did not exit cleanly"); /* waits for the exit */
}

Test(systemd, watchdog_pings_come_from_the_loop)
{
    char usec[32], msg[1024], status[512];
    snprintf(usec, sizeof usec, "%d", WATCHDOG_USEC);
    setenv("WATCHDOG_USEC", usec, 1);
    const char *args[] = {"--set", "testing.allow_clock=true", NULL};
    start(args);
    unsetenv("WATCHDOG_USEC");
    cr_expect(has(gbd_ready_message(d), "WATCHDOG", "1"), "%s", gbd_ready_message(d));
    until("WATCHDOG", msg, sizeof msg);
    until("WATCHDOG", msg, sizeof msg);

    cr_assert_eq(kill(gbd_pid(d), SIGUSR2), 0);
    until("STATUS", msg, sizeof msg);
    while (field(msg, "STATUS", status, sizeof status) &&
           !gbt_starts_with(status, "stalled (test hook)"))
        until("STATUS", msg, sizeof msg); /* a summary sent before the signal came */
    /* The loop is stuck from here to the next STATUS=: not one ping in between. */
    cr_expect_eq(until("STATUS", msg, sizeof msg), 0, "a watchdog ping from a stuck loop");
    field(msg, "STATUS", status, sizeof status);
    unsigned long long stalled = 0;
    cr_assert_eq(sscanf(status, "resumed after a stall of %llu ms", &stalled), 1, "%s", status);
    /* By construction (it sleeps twice the timeout), not a speed measurement: under systemd
     * this stall would have been killed. */
    cr_expect_geq(stalled * 1000, WATCHDOG_USEC, "stall %llu ms", stalled);
    until("WATCHDOG", msg, sizeof msg); /* and the pings resume */
}

/* Writes the configuration file at path with log.level = level. */
static void write_conf(const char *path, const char *level)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "log:\n  level: %s\n", level);
    cr_assert_eq(fclose(f), 0);
}

Test(systemd, reload_applies_the_log_level)
{
    char conf[600];
    long off;
    snprintf(conf, sizeof conf, "%s/gridbusd.yaml", dir);
    write_conf(conf, "info");
    const char *args[] = {"-c", conf, NULL};
    start(args);
    char *log = read_log(0, &off);
    cr_expect(!strstr(log, "level=debug"), "debug lines at level info:\n%s", log);
    free(log);

    write_conf(conf, "debug");
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    log = read_log(off, &off);
    cr_expect(strstr(log, "msg=\"log level changed\" from=info to=debug"), "%s", log);
    cr_expect(strstr(log, "level=debug msg=\"notifying systemd\" state=ready"), "%s", log);
    free(log);

    write_conf(conf, "info");
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    log = read_log(off, &off);
    cr_expect(strstr(log, "msg=\"log level changed\" from=debug to=info"), "%s", log);
    free(log);
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    log = read_log(off, NULL);
    cr_expect(!strstr(log, "level=debug"), "debug lines after going back to info:\n%s", log);
    free(log);
}

Test(systemd, reload_keeps_the_level_when_the_file_is_bad)
{
    char conf[600];
    long off;
    snprintf(conf, sizeof conf, "%s/gridbusd.yaml", dir);
    write_conf(conf, "debug");
    const char *args[] = {"-c", conf, NULL};
    start(args);
    write_conf(conf, "loud");
    free(read_log(0, &off));
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    char *log = read_log(off, NULL);
    cr_expect(strstr(log, "level=error msg=\"reload: configuration unreadable, keeping the log "
                          "level\" level=debug"),
              "%s", log);
    cr_expect(strstr(log, "level=debug msg=\"notifying systemd\" state=ready"), "%s", log);
    free(log);
}

Test(systemd, log_lines_have_timestamps_outside_the_journal)
{
    start(NULL);
    cr_assert_eq(gbd_reload(d), 0); /* a few more lines */
    char *log = read_log(0, NULL);
    cr_expect(strstr(log, "level=info msg=\"ready\" version="), "%s", log);
    cr_expect_eq(lines_not_matching(log,
                                    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                                    "\\.[0-9]{3}Z level=(error|warning|info|debug) "
                                    "msg=(\"[^\"]*\"|[^ ]+)( [a-z0-9_.]+=(\"[^\"]*\"|[^ \"]*))*$"),
                 0);
    free(log);
}

Test(systemd, log_lines_have_priorities_under_the_journal)
{
    /* The harness appends the daemon's stderr to STATE/gridbusd.log: make it first, and
     * name it in JOURNAL_STREAM as journald would name its stream. */
    char state[600], path[700], js[64];
    struct stat st;
    snprintf(state, sizeof state, "%s/state", dir);
    snprintf(path, sizeof path, "%s/gridbusd.log", state);
    cr_assert_eq(mkdir(state, 0700), 0);
    FILE *f = fopen(path, "w");
    cr_assert(f && fclose(f) == 0 && stat(path, &st) == 0);
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    d = gbd_start(state, NULL);
    unsetenv("JOURNAL_STREAM");
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    cr_assert_eq(gbd_reload(d), 0);
    char *log = read_log(0, NULL);
    cr_expect(strstr(log, "<6>msg=\"ready\" version="), "%s", log);
    cr_expect_eq(lines_not_matching(log, "^<[3467]>msg=(\"[^\"]*\"|[^ ]+)"
                                         "( [a-z0-9_.]+=(\"[^\"]*\"|[^ \"]*))*$"),
                 0);
    free(log);
}
