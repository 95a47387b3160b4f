/*
 * cmd_tail: `gridbus tail STREAM`, a feed followed as JSON lines, each record once, in order:
 * `tail tasks` for the grid helpers, `tail alerts` for the supervision office.
 *
 * All the work is libgridbus's subscriber (subscriber.c): subscribe, replay from the cursor,
 * drop duplicates, repair gaps. The command prints, flushes, and only then lets the record
 * count as handled (by asking for the next one, or saving at the end), so a record is never
 * saved in the cursor before it has reached stdout: a crash or kill prints it again at worst.
 * A daemon that stops answering after the start (a restart) is waited for, since following
 * a feed is a long-running job; one that never answered is an error, so a typo in an
 * endpoint does not hang a script.
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jsonmp.h"

/* How long one wait for the feed lasts before the stop flag is looked at again. Signals
 * interrupt the wait at once; this only bounds a signal that lands just before it. */
#define TICK_MS 500

static const char usage_text[] =
    "usage: gridbus tail STREAM [--filter PREFIX] [--cursor FILE] [--from N | --new]\n"
    "                           [--count N] [--feed ENDPOINT]\n"
    "\n"
    "Follows the feed of STREAM (tasks or alerts) and prints each record as a JSON line, once\n"
    "and in seq order: {\"seq\":..,\"topic\":\"task/g1/helper.g1.1\",\"at\":..,\"change\":..,\n"
    "\"by\":..,\"task\":{..}}, or for alerts {..,\"topic\":\"alert/daidong/patrol-high\",..,\n"
    "\"alert\":{..}} (the day's digest: \"change\":\"digest\" with \"alerts\":[..]).\n"
    "Records the feed dropped, or that came while tail was not running, are\n"
    "replayed over the ingest endpoint (--endpoint), so none is skipped or printed twice.\n"
    "\n"
    "  --filter PREFIX  only records whose topic starts with PREFIX: task/g1/ (a grid),\n"
    "                   task/g1/helper.g1.1 (a member), alert/daidong/ (a community),\n"
    "                   alert/daidong/patrol-high (a rule); default: the whole stream\n"
    "  --cursor FILE    keep the position in FILE, so the next run goes on after the last\n"
    "                   record printed (FILE is tied to STREAM and PREFIX)\n"
    "  --from N         with no saved cursor, start at seq N (default 1: everything)\n"
    "  --new            with no saved cursor, print only what is committed from now on\n"
    "  --count N        exit after N records\n"
    "  --feed ENDPOINT  the feed's endpoint (default: $GRIDBUS_TASKS_ENDPOINT for tasks,\n"
    "                   $GRIDBUS_ALERTS_ENDPOINT for alerts, else tcp://127.0.0.1:7403 / 7404)\n"
    "\n"
    "It runs until --count records are printed, or SIGINT or SIGTERM, saves the cursor and\n"
    "exits 0. A record is saved only after it is written to stdout, so after a crash the\n"
    "last records may be printed again, never lost. If the daemon stops answering once tail\n"
    "is running, it says so on stderr and waits.\n"
    "exit status: 0 done, 1 refused (e.g. an unknown stream), 2 usage error or a cursor\n"
    "file that cannot be used, 3 no answer from the daemon at the start.\n";

typedef struct {
    const char *stream, *filter, *cursor, *feed;
    long long from, count;
    bool from_set, new_only;
} tail_opts_t;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* SIGINT and SIGTERM end the loop (no SA_RESTART: the wait returns at once); SIGPIPE is
 * seen as a failed write instead of killing the process before the cursor is saved. */
static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int parse_number(const char *name, const char *text, long long min, long long *out)
{
    if (cli_parse_i64(text, min, INT64_MAX, out) == 0)
        return 0;
    cli_usage_error("tail", "--%s: not a number >= %lld: '%s'", name, min, text);
    return -1;
}

static int parse_options(int argc, char **argv, tail_opts_t *o, int *status)
{
    static const struct option longopts[] = {
        {"filter", required_argument, NULL, 'F'}, {"cursor", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'f'},   {"new", no_argument, NULL, 'n'},
        {"count", required_argument, NULL, 'N'},  {"feed", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'F')
            o->filter = optarg;
        else if (c == 'c')
            o->cursor = optarg;
        else if (c == 'e')
            o->feed = optarg;
        else if (c == 'n')
            o->new_only = true;
        else if (c == 'f' && parse_number("from", optarg, 1, &o->from) == 0)
            o->from_set = true;
        else if (c == 'N' && parse_number("count", optarg, 1, &o->count) == 0)
            continue;
        else if (c == 'h') {
            fputs(usage_text, stdout);
            *status = CLI_EXIT_OK;
            return -1;
        } else {
            if (c != 'f' && c != 'N')
                cli_usage_error("tail", NULL);
            return -1;
        }
    }
    if (optind != argc - 1) {
        cli_usage_error("tail",
                        optind < argc ? "one STREAM only" : "missing the STREAM (tasks or alerts)");
        return -1;
    }
    if (o->from_set && o->new_only) {
        cli_usage_error("tail", "--from and --new: choose one");
        return -1;
    }
    o->stream = argv[optind];
    return 0;
}

/* --feed, else $GRIDBUS_<STREAM>_ENDPOINT, else NULL (the library's default). */
static const char *feed_endpoint(const tail_opts_t *o)
{
    char name[64];
    size_t n = 0;
    if (o->feed)
        return o->feed;
    n += (size_t)snprintf(name, sizeof name, "GRIDBUS_");
    for (const char *s = o->stream; *s && n < sizeof name - 10; s++)
        name[n++] = (char)toupper((unsigned char)*s);
    snprintf(name + n, sizeof name - n, "_ENDPOINT");
    const char *env = getenv(name);
    return env && *env ? env : NULL;
}

/* Writes the record as one JSON line and flushes; -1 when stdout is gone. */
static int print_record(const void *rec, size_t len)
{
    json_t *j = jsonmp_from_bytes(rec, len);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    int rc = s && fputs(s, stdout) >= 0 && fputc('\n', stdout) != EOF && fflush(stdout) == 0;
    free(s);
    return rc ? 0 : -1;
}

static int fail_sub(const gridbus_sub_t *sub)
{
    fprintf(stderr, "gridbus: %s: %s\n", gridbus_sub_errcode(sub), gridbus_sub_error(sub));
    return cli_exit_for(gridbus_sub_status(sub));
}

/* True when the failure is worth waiting out: the daemon did not answer a replay. */
static bool transient(const gridbus_sub_t *sub)
{
    gridbus_status_t st = gridbus_sub_status(sub);
    return st == GRIDBUS_ETIMEOUT || st == GRIDBUS_ETRANSPORT;
}

/* Says once that the feed is silent: most likely --feed is wrong. */
static void warn_silent_feed(const gridbus_sub_t *sub, bool *warned)
{
    const gridbus_sub_stats_t *st = gridbus_sub_stats(sub);
    if (*warned || st->probes == 0 || st->heartbeats > 0)
        return;
    fputs("gridbus: no heartbeat from the feed (is --feed right?): following by replay, "
          "every 3 s\n",
          stderr);
    *warned = true;
}

/* The follow loop; returns the exit status. */
static int follow(gridbus_sub_t *sub, long long count)
{
    bool started = false, waiting = false, warned = false;
    long long printed = 0;
    const void *rec;
    size_t len;
    while (!stop_requested && (count == 0 || printed < count)) {
        int rc = gridbus_sub_next(sub, TICK_MS, &rec, &len);
        warn_silent_feed(sub, &warned);
        if (rc >= 0) {
            started = true, waiting = false;
            if (rc == 1 && print_record(rec, len) < 0)
                return CLI_EXIT_OK; /* the reader went away; that record stays unsaved */
            printed += rc;
        } else if (started && transient(sub)) {
            if (!waiting)
                fprintf(stderr, "gridbus: %s: %s (waiting for the daemon)\n",
                        gridbus_sub_errcode(sub), gridbus_sub_error(sub));
            waiting = true;
            /* A back-off, in case the failure was quick (a socket error, not a timeout). */
            nanosleep(&(struct timespec){0, TICK_MS * 1000000L}, NULL);
        } else {
            return fail_sub(sub);
        }
    }
    /* Everything handed out was printed: save it too. */
    return gridbus_sub_save(sub) < 0 ? fail_sub(sub) : CLI_EXIT_OK;
}

int cmd_tail(int argc, char **argv, const cli_opts_t *opts)
{
    tail_opts_t o = {0};
    int status;
    if (parse_options(argc, argv, &o, &status) < 0)
        return status;
    gridbus_sub_t *sub =
        gridbus_sub_new(opts->endpoint, feed_endpoint(&o), o.stream, o.filter, o.cursor);
    if (!sub) {
        fputs("gridbus: out of memory\n", stderr);
        return CLI_EXIT_TRANSPORT;
    }
    gridbus_sub_set_timeout(sub, opts->timeout_ms);
    gridbus_sub_set_retries(sub, opts->retries);
    if ((opts->key_file || opts->server_key) &&
        gridbus_sub_set_key_file(sub, opts->key_file, opts->server_key) < 0) {
        status = fail_sub(sub);
        gridbus_sub_destroy(&sub);
        return status;
    }
    if (o.new_only)
        gridbus_sub_set_start(sub, GRIDBUS_SUB_HEAD);
    else if (o.from_set)
        gridbus_sub_set_start(sub, (uint64_t)o.from - 1);
    install_signals();
    status = follow(sub, o.count);
    gridbus_sub_destroy(&sub);
    return status;
}
