/*
 * gridbusd: the gridbus daemon. This file only wires the pieces together: options and
 * configuration, the store, the ZeroMQ endpoints, the event loop, signals, and the
 * systemd notification protocol. Each concern lives in its own module.
 *
 * Start-up order matters to clients and to systemd: the store is opened and every socket
 * bound before the endpoints file is written and READY=1 is sent, so whoever waits for
 * readiness can connect at once.
 */
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "alertdb.h"
#include "alerts.h"
#include "alerttimer.h"
#include "backup.h"
#include "cases.h"
#include "community.h"
#include "config.h"
#include "deadlines.h"
#include "feed.h"
#include "http.h"
#include "ingest.h"
#include "log.h"
#include "notify.h"
#include "security.h"
#include "stats.h"
#include "store.h"
#include "taskdb.h"

#define SOCKET_LINGER_MS 2000
#define SOCKET_HWM 100000

static const char *backup_dir; /* --backup DIR: copy the store there and exit */

typedef struct {
    config_t *cfg;
    community_t *community;
    store_t *store;
    taskdb_t *taskdb;
    cases_t *cases;
    deadlines_t *deadlines;
    alertdb_t *alertdb;
    feed_t *alerts_feed;
    alerts_t *alerts;
    alerttimer_t *alerttimer;
    reader_sweep_t *sweep; /* clears stale LMDB reader slots */
    void *zctx;
    void *ingest_s, *publish_s, *tasks_s, *alerts_s;
    struct event_base *base;
    ingest_t *ingest;
    http_t *http; /* health, metrics and JSON queries */
    struct event *sig_term, *sig_int, *sig_hup;
    stats_t stats;
    security_t *security; /* NULL when security is off */
    notify_t *notify;
    int argc; /* kept for the reload, which reads the configuration again */
    char **argv;
} daemon_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gridbusd [options]\n"
            "\n"
            "The gridbus daemon: durable, acknowledged ingest of community grid events over\n"
            "ZeroMQ into LMDB. With no -c it runs on the embedded default: state under ./var,\n"
            "loopback endpoints, the directory in conf/daidong.yaml.\n"
            "\n"
            "options:\n"
            "  -c, --config FILE     read the configuration from FILE (YAML)\n"
            "      --state-dir DIR   keep state in DIR (same as --set state_dir=DIR)\n"
            "      --set KEY=VALUE   override one configuration key; repeatable,\n"
            "                        e.g. --set endpoints.ingest=tcp://127.0.0.1:17401\n"
            "      --check-config    load the configuration and directory, report, exit\n"
            "      --backup DIR      write a compacted copy of the store into DIR (new or\n"
            "                        empty) and exit; a running daemon keeps serving\n"
            "  -h, --help            this text\n"
            "  -V, --version         print the version\n"
            "\n"
            "signals: TERM/INT stop after committing and answering the batch in hand;\n"
            "HUP reloads the directory and log.level. Reference: docs/CONFIG.md,\n"
            "proto/PROTOCOL.md.\n");
}

/* Parses options into cfg. Returns -1 to exit with status *status. */
static int parse_args(int argc, char **argv, config_t *cfg, bool *check_only, int *status)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"state-dir", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},    {"check-config", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {"backup", required_argument, NULL, 'b'}, {NULL, 0, NULL, 0}};
    char err[512], assign[4096];
    const char *file = NULL;
    int c;
    /* The file is loaded first, then every override in command-line order. */
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        if (c == 'c')
            file = optarg;
        else if (c == 'h')
            return usage(stdout), *status = 0, -1;
        else if (c == 'V')
            return printf("gridbusd %s\n", GB_VERSION), *status = 0, -1;
        else if (c == 'k')
            *check_only = true;
        else if (c == 'b')
            backup_dir = optarg;
        else if (c != 's' && c != 'S')
            return usage(stderr), *status = 2, -1;
    }
    if (optind < argc) {
        fprintf(stderr, "gridbusd: unexpected argument '%s'\n", argv[optind]);
        return *status = 2, -1;
    }
    if (file && config_load_file(cfg, file, err, sizeof err) < 0) {
        fprintf(stderr, "gridbusd: %s\n", err);
        return *status = 1, -1;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        if (c != 's' && c != 'S')
            continue;
        snprintf(assign, sizeof assign, "%s%s", c == 's' ? "state_dir=" : "", optarg);
        if (config_set(cfg, assign, err, sizeof err) < 0) {
            fprintf(stderr, "gridbusd: %s\n", err);
            return *status = 2, -1;
        }
    }
    if (config_validate(cfg, err, sizeof err) < 0) {
        fprintf(stderr, "gridbusd: %s: %s\n", cfg->source, err);
        return *status = 1, -1;
    }
    return 0;
}

/* ZeroMQ heartbeats (ZMTP PING): a peer that answers nothing for the timeout after a PING
 * is dropped, and the TTL in our PINGs tells peers to drop us if we go silent as long. */
static void set_heartbeat(const config_t *cfg, void *s)
{
    int ivl = (int)cfg->limits.heartbeat_ivl_ms, timeout = (int)cfg->limits.heartbeat_timeout_ms;
    if (ivl == 0)
        return;
    zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_HEARTBEAT_TTL, &timeout, sizeof timeout);
}

static void *bind_socket(daemon_t *d, int type, const char *name, const char *endpoint)
{
    void *s = zmq_socket(d->zctx, type);
    int linger = SOCKET_LINGER_MS, hwm = SOCKET_HWM;
    int64_t max = (int64_t)d->cfg->limits.max_frame;
    if (!s)
        return NULL;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (type == ZMQ_ROUTER || type == ZMQ_SUB || type == ZMQ_XPUB) /* XPUB reads subscriptions */
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (type == ZMQ_SUB)
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    set_heartbeat(d->cfg, s);
    if (security_server_socket(d->security, s, name) < 0) {
        zmq_close(s);
        return NULL;
    }
    if (zmq_bind(s, endpoint) < 0) {
        log_error("msg=\"cannot bind\" endpoint=%s name=%s error=\"%s\"", endpoint, name,
                  zmq_strerror(zmq_errno()));
        zmq_close(s);
        return NULL;
    }
    return s;
}

static void last_endpoint(void *s, char *buf, size_t len)
{
    buf[0] = 0;
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, buf, &len);
}

/* Writes STATE_DIR/gridbusd.endpoints with the ports actually bound (a configured port of
 * `*` is chosen by the kernel), atomically, so a reader never sees half a file. */
static int write_endpoints(daemon_t *d)
{
    char path[4096], tmp[4200], ep[256];
    struct {
        const char *name;
        void *sock;
    } socks[] = {{"ingest", d->ingest_s},
                 {"publish", d->publish_s},
                 {"tasks", d->tasks_s},
                 {"alerts", d->alerts_s}};
    snprintf(path, sizeof path, "%s/gridbusd.endpoints", d->cfg->state_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
        last_endpoint(socks[i].sock, ep, sizeof ep);
        fprintf(f, "%s=%s\n", socks[i].name, ep);
        log_info("msg=\"listening\" name=%s endpoint=%s", socks[i].name, ep);
    }
    fprintf(f, "http=%s\n", http_endpoint(d->http));
    log_info("msg=\"listening\" name=http endpoint=%s", http_endpoint(d->http));
    if (fclose(f) != 0 || rename(tmp, path) < 0)
        return -1;
    return 0;
}

static int open_sockets(daemon_t *d)
{
    d->zctx = zmq_ctx_new();
    if (!d->zctx ||
        security_open(&d->security, d->zctx, d->cfg, community_directory(d->community)) < 0)
        return -1;
    d->ingest_s = bind_socket(d, ZMQ_ROUTER, "ingest", d->cfg->endpoints.ingest);
    d->publish_s =
        d->ingest_s ? bind_socket(d, ZMQ_SUB, "publish", d->cfg->endpoints.publish) : NULL;
    /* XPUB: the task feed's thread learns whether anybody subscribes (taskpub.c) */
    d->tasks_s = d->publish_s ? bind_socket(d, ZMQ_XPUB, "tasks", d->cfg->endpoints.tasks) : NULL;
    d->alerts_s = d->tasks_s ? bind_socket(d, ZMQ_PUB, "alerts", d->cfg->endpoints.alerts) : NULL;
    return d->alerts_s ? 0 : -1;
}

/* The one-line summary of STATUS= (systemctl status). */
static void status_line(void *arg, char *buf, size_t len)
{
    daemon_t *d = arg;
    snprintf(buf, len, "serving; events=%llu tasks_opened=%llu requests=%llu batches=%llu",
             (unsigned long long)store_head(d->store),
             (unsigned long long)cases_stats(d->cases)->opened,
             (unsigned long long)d->stats.requests, (unsigned long long)d->stats.batches);
}

/* Reads the configuration again as at start-up (the file, then every --set) and applies
 * its log.level, the one setting besides the directory that a reload changes. */
static void reload_log_level(daemon_t *d)
{
    config_t *fresh = config_new();
    bool check_only = false;
    int status = 0;
    optind = 0; /* getopt starts over */
    if (!fresh || parse_args(d->argc, d->argv, fresh, &check_only, &status) < 0) {
        log_error("msg=\"reload: configuration unreadable, keeping the log level\" level=%s",
                  d->cfg->log.level);
    } else if (strcmp(fresh->log.level, d->cfg->log.level) != 0) {
        log_info("msg=\"log level changed\" from=%s to=%s", d->cfg->log.level, fresh->log.level);
        log_set_level(fresh->log.level);
        char *old = d->cfg->log.level;
        d->cfg->log.level = fresh->log.level;
        fresh->log.level = old;
    }
    config_destroy(&fresh);
}

static void on_stop(evutil_socket_t sig, short what, void *arg)
{
    daemon_t *d = arg;
    (void)what;
    log_info("msg=\"stopping\" signal=%d", (int)sig);
    notify_stopping(d->notify);
    http_stopping(d->http);
    ingest_shutdown(d->ingest);
    event_base_loopexit(d->base, NULL);
}

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    daemon_t *d = arg;
    char err[512];
    (void)sig, (void)what;
    notify_reloading(d->notify);
    reload_log_level(d);
    community_t *fresh = community_load(d->cfg->directory, err, sizeof err);
    if (!fresh) {
        log_error("msg=\"reload failed, keeping the running directory\" error=\"%s\"", err);
    } else {
        /* Open tasks keep their assignee: only new events see the new community. */
        ingest_set_community(d->ingest, fresh);
        cases_set_community(d->cases, fresh);
        alerts_set_community(d->alerts, fresh);
        http_set_community(d->http, fresh);
        community_destroy(&d->community);
        d->community = fresh;
        const directory_t *dir = community_directory(fresh);
        log_info("msg=\"directory reloaded\" members=%zu grids=%zu routes=%zu",
                 directory_member_count(dir), directory_grid_count(dir),
                 routes_count(community_routes(fresh)));
    }
    security_reload(d->security, community_directory(d->community));
    notify_ready(d->notify);
}

static uint64_t alerts_head(void *arg)
{
    return alertdb_feed_head(arg);
}

static void after_commit(void *arg)
{
    deadlines_arm(((daemon_t *)arg)->deadlines);
    alerttimer_arm(((daemon_t *)arg)->alerttimer);
}

/* The alerts feed, the alert loop and its timer; a missed deadline raises its alert in the
 * deadline pass's transaction, so that pass flushes the alerts feed too. */
static int start_alerts(daemon_t *d)
{
    char err[256];
    d->alertdb = alertdb_new(d->store, err, sizeof err);
    if (!d->alertdb)
        return log_error("msg=\"cannot open alert store\" error=\"%s\"", err), -1;
    d->alerts_feed = feed_new(d->base, d->alerts_s, "alerts", alerts_head, d->alertdb);
    d->alerts = d->alerts_feed ? alerts_new(d->alertdb, d->alerts_feed, d->community) : NULL;
    d->alerttimer = d->alerts ? alerttimer_new(d->base, d->store, d->alerts, d->alerts_feed) : NULL;
    if (!d->alerttimer)
        return -1;
    cases_on_overdue(d->cases, alerts_task_overdue, d->alerts);
    deadlines_also_feed(d->deadlines, d->alerts_feed);
    return 0;
}

/* The task store, the case loop and its deadline timer (the task feed is published by the
 * indexer thread once start hands it the socket). */
static int start_cases(daemon_t *d)
{
    char err[256];
    char index_dir[600];
    store_opts_t so = {d->cfg->store.map_size, d->cfg->store.map_size_max,
                       d->cfg->store.dead_letter_max};
    snprintf(index_dir, sizeof index_dir, "%s/index", d->cfg->state_dir);
    d->taskdb = taskdb_new(d->store, index_dir, &so, err, sizeof err);
    if (!d->taskdb)
        return log_error("msg=\"cannot open task store\" error=\"%s\"", err), -1;
    d->cases = cases_new(d->taskdb, d->community);
    d->deadlines = d->cases ? deadlines_new(d->base, d->store, d->taskdb, d->cases) : NULL;
    return d->deadlines ? start_alerts(d) : -1;
}

static int start_loop(daemon_t *d)
{
    d->base = event_base_new();
    if (!d->base || event_base_priority_init(d->base, INGEST_PRIORITIES) < 0 || start_cases(d) < 0)
        return -1;
    ingest_opts_t io = {
        .store = d->store,
        .community = d->community,
        .taskdb = d->taskdb,
        .cases = d->cases,
        .alertdb = d->alertdb,
        .alerts = d->alerts,
        .alerts_feed = d->alerts_feed,
        .committed = after_commit,
        .committed_arg = d,
        .allow_clock = d->cfg->testing.allow_clock,
        .stats = &d->stats,
        .batch_max = d->cfg->limits.batch_max,
        .read_budget = d->cfg->limits.read_budget,
        .max_message = d->cfg->limits.max_message,
        .inflight_max = d->cfg->limits.inflight_max,
    };
    if (security_start(d->security, d->base) < 0)
        return -1;
    d->ingest = ingest_new(d->base, d->ingest_s, d->publish_s, &io);
    d->sig_term = evsignal_new(d->base, SIGTERM, on_stop, d);
    d->sig_int = evsignal_new(d->base, SIGINT, on_stop, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, on_reload, d);
    if (!d->ingest || !d->sig_term || !d->sig_int || !d->sig_hup ||
        evsignal_add(d->sig_term, NULL) || evsignal_add(d->sig_int, NULL) ||
        evsignal_add(d->sig_hup, NULL))
        return -1;
    return 0;
}

/* The HTTP endpoint (health, metrics, JSON queries), in the same loop. */
static int start_http(daemon_t *d)
{
    char err[512];
    http_opts_t ho = {
        .endpoint = d->cfg->endpoints.http,
        .token_file = d->cfg->http.token_file,
        .store = d->store,
        .taskdb = d->taskdb,
        .alertdb = d->alertdb,
        .cases = d->cases,
        .community = d->community,
        .stats = &d->stats,
        .zctx = d->zctx,
        .tasks_pub = d->tasks_s,
        .alerts_pub = d->alerts_s,
        .max_message = d->cfg->limits.max_message,
        .map_size_max = d->cfg->store.map_size_max,
    };
    d->http = http_new(d->base, &ho, err, sizeof err);
    if (!d->http)
        return log_error("msg=\"cannot start http\" error=\"%s\"", err), -1;
    return 0;
}

static int start(daemon_t *d)
{
    char err[512];
    store_opts_t so = {d->cfg->store.map_size, d->cfg->store.map_size_max,
                       d->cfg->store.dead_letter_max};
    d->community = community_load(d->cfg->directory, err, sizeof err);
    if (!d->community)
        return log_error("msg=\"cannot load directory\" error=\"%s\"", err), -1;
    if (mkdir(d->cfg->state_dir, 0750) < 0 && errno != EEXIST)
        return log_error("msg=\"cannot create state dir\" path=%s error=\"%s\"", d->cfg->state_dir,
                         strerror(errno)),
               -1;
    d->store = store_new(d->cfg->state_dir, &so, err, sizeof err);
    if (!d->store)
        return log_error("msg=\"cannot open store\" error=\"%s\"", err), -1;
    if (open_sockets(d) < 0 || start_loop(d) < 0 || start_http(d) < 0)
        return -1;
    d->sweep = reader_sweep_new(d->base, d->store, d->cfg->store.reader_check_ms);
    if (!d->sweep)
        return -1;
    if (write_endpoints(d) < 0)
        return log_error("msg=\"cannot write endpoints file\" dir=%s", d->cfg->state_dir), -1;
    /* The last use of the tasks socket on this thread until stop: http has set up its
     * monitor, write_endpoints has read its address. */
    taskdb_publish(d->taskdb, d->tasks_s);
    log_info("msg=\"ready\" version=%s state_dir=%s events=%llu members=%zu", GB_VERSION,
             d->cfg->state_dir, (unsigned long long)store_head(d->store),
             directory_member_count(community_directory(d->community)));
    notify_opts_t no = {status_line, d, d->cfg->testing.allow_clock};
    d->notify = notify_new(d->base, &no);
    if (!d->notify)
        return -1;
    notify_ready(d->notify);
    return 0;
}

static void stop(daemon_t *d)
{
    notify_destroy(&d->notify);
    ingest_destroy(&d->ingest);
    if (d->taskdb) /* the tasks socket back from the indexer thread, before http unmonitors it */
        taskdb_publish(d->taskdb, NULL);
    http_destroy(&d->http); /* before the feed sockets: it monitors them */
    deadlines_destroy(&d->deadlines);
    alerttimer_destroy(&d->alerttimer);
    alerts_destroy(&d->alerts);
    feed_destroy(&d->alerts_feed);
    alertdb_destroy(&d->alertdb);
    reader_sweep_destroy(&d->sweep);
    cases_destroy(&d->cases);
    taskdb_destroy(&d->taskdb);
    if (d->sig_term)
        event_free(d->sig_term);
    if (d->sig_int)
        event_free(d->sig_int);
    if (d->sig_hup)
        event_free(d->sig_hup);
    void *socks[] = {d->ingest_s, d->publish_s, d->tasks_s, d->alerts_s};
    for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++)
        if (socks[i])
            zmq_close(socks[i]);
    security_destroy(&d->security); /* after the server sockets: see security.h */
    if (d->zctx)
        zmq_ctx_term(d->zctx); /* waits up to the linger for queued replies */
    if (d->base)
        event_base_free(d->base);
    store_destroy(&d->store);
    community_destroy(&d->community);
    config_destroy(&d->cfg);
}

static int check_config(daemon_t *d)
{
    char err[512];
    d->community = community_load(d->cfg->directory, err, sizeof err);
    if (!d->community) {
        fprintf(stderr, "gridbusd: %s\n", err);
        return 1;
    }
    const directory_t *dir = community_directory(d->community);
    if (security_check(d->cfg, dir, err, sizeof err) < 0) {
        fprintf(stderr, "gridbusd: %s\n", err);
        return 1;
    }
    config_print(d->cfg, stdout);
    printf(
        "# configuration ok: %s; directory %s: community %s, %zu grids, %zu members, %zu routes\n",
        d->cfg->source, d->cfg->directory, directory_community_id(dir), directory_grid_count(dir),
        directory_member_count(dir), routes_count(community_routes(d->community)));
    return 0;
}

int main(int argc, char **argv)
{
    daemon_t d = {.argc = argc, .argv = argv};
    bool check_only = false;
    int status = 0;
    log_init();
    d.cfg = config_new();
    if (!d.cfg)
        return 1;
    if (parse_args(argc, argv, d.cfg, &check_only, &status) < 0) {
        config_destroy(&d.cfg);
        return status;
    }
    if (log_set_level(d.cfg->log.level) < 0)
        log_warning("msg=\"unknown log level, using info\" level=%s", d.cfg->log.level);
    if (backup_dir) {
        status = backup_run(d.cfg, backup_dir);
        config_destroy(&d.cfg);
        return status;
    }
    if (check_only) {
        status = check_config(&d);
        stop(&d);
        return status;
    }
    signal(SIGPIPE, SIG_IGN);
    /* SIGUSR2 is a test hook (a stalled loop) on test daemons only; elsewhere it is ignored
     * rather than killing the daemon with its default action. */
    signal(SIGUSR2, SIG_IGN);
    if (start(&d) < 0) {
        stop(&d);
        return 1;
    }
    event_base_dispatch(d.base);
    log_info("msg=\"stopped\" events=%llu requests=%llu batches=%llu",
             (unsigned long long)store_head(d.store), (unsigned long long)d.stats.requests,
             (unsigned long long)d.stats.batches);
    stop(&d);
    return 0;
}
