/*
 * main: the gridbus command line. Parses the global options, then hands the rest of the
 * arguments to one command (cmd_*.c); the helpers every command shares are here too.
 *
 * Global options stop at the first non-option ("+" in getopt), so a command's own options
 * never get mixed up with the global ones.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonmp.h"

static const char usage_text[] =
    "usage: gridbus [--endpoint E] [--timeout MS] [--retries N] [--key FILE --server-key K]\n"
    "               COMMAND [ARGS]\n"
    "\n"
    "Talks to gridbusd's ingest endpoint.\n"
    "\n"
    "commands:\n"
    "  publish TYPE --by ID [key=value ...]   publish one event, print its ack\n"
    "  publish --json                          publish JSON lines from stdin, pipelined\n"
    "  ping                                    print the daemon's pong\n"
    "  replay STREAM [--from N] [--limit K]    print stored records as JSON lines\n"
    "  tail tasks|alerts [--filter P] [--cursor FILE]\n"
    "                                          follow the task or alert feed as JSON lines,\n"
    "                                          each record once, in order, resuming from FILE\n"
    "  task STEP ID --by ID [...]              accept, progress, complete, return or verify\n"
    "                                          a task; `task show ID` prints it\n"
    "  tasks [--grid G] [--assignee M] [--status S] [--overdue]\n"
    "                                          list tasks as JSON lines\n"
    "  stats --month YYYY-MM [--grid G]        a month's figures as one JSON object\n"
    "  alert ack|resolve ID --by ID [--note T] acknowledge or resolve an alert; `alert show ID`\n"
    "  alerts --day YYYY-MM-DD [--status S]    a day's alerts as JSON lines\n"
    "  audit --month YYYY-MM [--text]          the month's joint review pack (ledger, flags)\n"
    "  clock [--set MS]                        the daemon's clock (set: test daemons only)\n"
    "  keygen [--out FILE] [--member ID]       make a CURVE key pair for a secured daemon\n"
    "\n"
    "options:\n"
    "  --endpoint E   ingest endpoint (default: $GRIDBUS_ENDPOINT, else " GRIDBUS_ENDPOINT_DEFAULT
    ")\n"
    "  --timeout MS   wait this long for each reply before re-sending (default 2000)\n"
    "  --retries N    re-sends after a timeout before giving up (default 2)\n"
    "  --key FILE     this client's CURVE key pair, from `gridbus keygen` (default:\n"
    "                 $GRIDBUS_KEY); for a daemon with security on, with --server-key\n"
    "  --server-key K the daemon's public key: its Z85 text, or a file holding it such as\n"
    "                 the daemon's STATE_DIR/server.pub (default: $GRIDBUS_SERVER_KEY)\n"
    "  --help         this text; `gridbus COMMAND --help` for a command\n"
    "  --version      print the version\n"
    "\n"
    "exit status: 0 all acked, 1 refused (nack or local schema error), 2 usage error,\n"
    "3 transport error or timeout.\n";

gridbus_t *cli_connect(const cli_opts_t *opts)
{
    gridbus_t *client = gridbus_new();
    if (!client) {
        fprintf(stderr, "gridbus: out of memory\n");
        return NULL;
    }
    gridbus_set_timeout(client, opts->timeout_ms);
    gridbus_set_retries(client, opts->retries);
    if (((opts->key_file || opts->server_key) &&
         gridbus_set_key_file(client, opts->key_file, opts->server_key) < 0) ||
        gridbus_connect(client, opts->endpoint) < 0) {
        cli_fail_client(client);
        gridbus_destroy(&client);
    }
    return client;
}

int cli_exit_for(gridbus_status_t status)
{
    switch (status) {
    case GRIDBUS_OK:
        return CLI_EXIT_OK;
    case GRIDBUS_ENACK:
        return CLI_EXIT_REFUSED;
    case GRIDBUS_EINVAL:
    case GRIDBUS_EIO: /* a local file (tail's cursor) that cannot be used */
        return CLI_EXIT_USAGE;
    case GRIDBUS_ETIMEOUT:
    case GRIDBUS_ETRANSPORT:
    case GRIDBUS_EPROTO:
        break;
    }
    return CLI_EXIT_TRANSPORT;
}

int cli_fail_client(const gridbus_t *client)
{
    fprintf(stderr, "gridbus: %s: %s\n", gridbus_errcode(client), gridbus_error(client));
    return cli_exit_for(gridbus_status(client));
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    if (fmt) {
        va_list ap;
        fputs("gridbus: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
    }
    fprintf(stderr, "Try 'gridbus %s%s--help'.\n", command ? command : "", command ? " " : "");
    return CLI_EXIT_USAGE;
}

int cli_parse_i64(const char *text, long long min, long long max, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

void cli_print_json(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    if (s) {
        puts(s);
        free(s);
    } else {
        fputs("gridbus: could not write JSON\n", stderr);
    }
    json_decref(j);
}

int cli_fail_event(const gridbus_event_t *ev)
{
    fprintf(stderr, "gridbus: %s: %s\n", gridbus_event_errcode(ev), gridbus_event_error(ev));
    return CLI_EXIT_REFUSED;
}

int cli_publish_step(const cli_opts_t *opts, gridbus_event_t *ev, const char *key,
                     const char *target)
{
    gridbus_t *client;
    gridbus_ack_t ack;
    const void *data;
    size_t len;
    int status = CLI_EXIT_OK;
    if (gridbus_event_pack(ev, &data, &len) < 0)
        return cli_fail_event(ev);
    if (!(client = cli_connect(opts)))
        return CLI_EXIT_USAGE;
    if (gridbus_publish(client, data, len, &ack) < 0)
        status = cli_fail_client(client);
    else
        cli_print_json(json_pack("{s:s, s:s, s:I, s:b}", key, target, "id", ack.id, "seq",
                                 (json_int_t)ack.seq, "dup", ack.dup));
    gridbus_destroy(&client);
    return status;
}

int cli_show(const cli_opts_t *opts, cli_lookup_fn query, const char *id)
{
    gridbus_t *client = cli_connect(opts);
    const void *rec;
    size_t len;
    int status = CLI_EXIT_OK;
    if (!client)
        return CLI_EXIT_USAGE;
    if (query(client, id, &rec, &len) < 0)
        status = cli_fail_client(client);
    else
        cli_print_json(jsonmp_from_bytes(rec, len));
    gridbus_destroy(&client);
    return status;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv, const cli_opts_t *opts);
} commands[] = {
    {"publish", cmd_publish}, {"ping", cmd_ping},   {"replay", cmd_replay}, {"tail", cmd_tail},
    {"task", cmd_task},       {"tasks", cmd_tasks}, {"stats", cmd_stats},   {"clock", cmd_clock},
    {"keygen", cmd_keygen},   {"alert", cmd_alert}, {"alerts", cmd_alerts}, {"audit", cmd_audit},
};

static int dispatch(int argc, char **argv, const cli_opts_t *opts)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[0], commands[i].name) == 0) {
            optind = 0; /* let the command's getopt start afresh on its own argv */
            return commands[i].run(argc, argv, opts);
        }
    return cli_usage_error(NULL, "unknown command '%s'", argv[0]);
}

/* 0 to go on with the command, or -1 to exit with *status (--help, --version, errors). */
static int parse_global(int argc, char **argv, cli_opts_t *opts, int *status)
{
    static const struct option longopts[] = {
        {"endpoint", required_argument, NULL, 'e'},   {"timeout", required_argument, NULL, 't'},
        {"retries", required_argument, NULL, 'r'},    {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},          {"key", required_argument, NULL, 'k'},
        {"server-key", required_argument, NULL, 'K'}, {NULL, 0, NULL, 0},
    };
    long long v;
    int c;
    while ((c = getopt_long(argc, argv, "+e:t:r:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            opts->endpoint = optarg;
            break;
        case 'k':
            opts->key_file = optarg;
            break;
        case 'K':
            opts->server_key = optarg;
            break;
        case 't':
            if (cli_parse_i64(optarg, 1, 3600000, &v) < 0) {
                *status = cli_usage_error(NULL, "--timeout: not a number of ms: '%s'", optarg);
                return -1;
            }
            opts->timeout_ms = (int)v;
            break;
        case 'r':
            if (cli_parse_i64(optarg, 0, 100, &v) < 0) {
                *status = cli_usage_error(NULL, "--retries: not a number 0..100: '%s'", optarg);
                return -1;
            }
            opts->retries = (int)v;
            break;
        case 'h':
            fputs(usage_text, stdout);
            *status = CLI_EXIT_OK;
            return -1;
        case 'V':
            printf("gridbus %s\n", GB_VERSION);
            *status = CLI_EXIT_OK;
            return -1;
        default: /* getopt has said what is wrong */
            *status = cli_usage_error(NULL, NULL);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_opts_t opts = {NULL, GRIDBUS_TIMEOUT_DEFAULT, GRIDBUS_RETRIES_DEFAULT,
                       getenv("GRIDBUS_KEY"), getenv("GRIDBUS_SERVER_KEY")};
    int status;
    if (parse_global(argc, argv, &opts, &status) < 0)
        return status;
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return CLI_EXIT_USAGE;
    }
    return dispatch(argc - optind, argv + optind, &opts);
}
