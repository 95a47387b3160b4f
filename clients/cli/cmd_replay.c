/*
 * cmd_replay: `gridbus replay STREAM [--from N] [--limit K]`, stored records as JSON lines.
 *
 * The daemon answers in pages (at most WIRE_REPLAY_LIMIT_MAX records, fewer when a page
 * would be too large), so the command asks page after page from each reply's `next` until
 * it has K records or reaches the stream's head as it was when the page was read. Records
 * are printed as the daemon sends them, converted generically from msgpack.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "jsonmp.h"
#include "wire.h"

static const char usage_text[] =
    "usage: gridbus replay STREAM [--from N] [--limit K] [--filter PREFIX]\n"
    "\n"
    "Prints the records of STREAM (events, tasks) from seq N (default 1) as JSON lines, at\n"
    "most K of them (default: up to the stream's head), e.g.\n"
    "{\"seq\":1,\"received_at\":..,\"event\":{..}} for events. For tasks, --filter keeps the\n"
    "records whose topic starts with PREFIX (task/g1/); `gridbus tail` follows a feed.\n"
    "exit status: 0 done, 1 refused, 2 usage error, 3 transport error or timeout.\n";

typedef struct {
    const char *stream, *filter;
    long long from, limit;
} replay_opts_t;

static int parse_options(int argc, char **argv, replay_opts_t *o, int *status)
{
    static const struct option longopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"limit", required_argument, NULL, 'l'},
        {"filter", required_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'f' && cli_parse_i64(optarg, 0, INT64_MAX, &o->from) == 0)
            continue;
        if (c == 'l' && cli_parse_i64(optarg, 0, INT64_MAX, &o->limit) == 0)
            continue;
        if (c == 'F') {
            o->filter = optarg;
            continue;
        }
        if (c == 'h') {
            fputs(usage_text, stdout);
            *status = CLI_EXIT_OK;
            return -1;
        }
        if (c == 'f' || c == 'l')
            cli_usage_error("replay", "--%s: not a number: '%s'", c == 'f' ? "from" : "limit",
                            optarg);
        else
            cli_usage_error("replay", NULL);
        return -1;
    }
    if (optind != argc - 1) {
        cli_usage_error("replay", optind < argc ? "one STREAM only" : "missing the STREAM");
        return -1;
    }
    o->stream = argv[optind];
    return 0;
}

static void print_record(const void *record, size_t len, void *arg)
{
    long long *printed = arg;
    cli_print_json(jsonmp_from_bytes(record, len));
    (*printed)++;
}

/* Reads pages until the limit or the head; 0, or -1 after printing the client's error. */
static int replay_pages(gridbus_t *client, const replay_opts_t *o, int *status)
{
    uint64_t from = (uint64_t)o->from, next, head;
    long long total = 0;
    for (;;) {
        long long want = WIRE_REPLAY_LIMIT_MAX, got = 0;
        if (o->limit > 0 && o->limit - total < want)
            want = o->limit - total;
        if (gridbus_replay(client, o->stream, from, (uint32_t)want, o->filter, print_record, &got,
                           &next, &head) < 0) {
            *status = cli_fail_client(client);
            return -1;
        }
        total += got;
        if (got == 0 || next > head || next <= from || (o->limit > 0 && total >= o->limit))
            return 0;
        from = next;
    }
}

int cmd_replay(int argc, char **argv, const cli_opts_t *opts)
{
    replay_opts_t o = {0};
    int status;
    if (parse_options(argc, argv, &o, &status) < 0)
        return status;
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    status = CLI_EXIT_OK;
    replay_pages(client, &o, &status);
    gridbus_destroy(&client);
    return status;
}
