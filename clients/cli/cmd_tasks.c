/*
 * cmd_tasks: the read-only look-ups. `gridbus tasks` (tasks as JSON lines, every page),
 * `gridbus stats --month YYYY-MM` (one JSON object) and `gridbus clock` (the daemon's time,
 * settable on a test daemon).
 *
 * Results are printed as the daemon sends them, converted generically from msgpack, so a
 * field added to a task or to the figures shows up without a CLI change.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonmp.h"
#include "wire.h"

static const char tasks_usage[] =
    "usage: gridbus tasks [--grid G] [--assignee MEMBER] [--status S] [--overdue] [--limit N]\n"
    "\n"
    "Prints tasks as JSON lines in task order (t-1, t-2, ...), e.g.\n"
    "{\"id\":\"t-1\",\"grid\":\"g1\",\"assignee\":\"helper.g1.1\",\"status\":\"dispatched\",..}.\n"
    "By default the open ones (dispatched, accepted, in_progress, done, parked); --status\n"
    "takes one of those, closed, or all. --overdue keeps open tasks past a deadline.\n"
    "--limit stops after N tasks (default: all).\n"
    "exit status: 0 done, 1 refused, 2 usage error, 3 transport error or timeout.\n";

static const char stats_usage[] =
    "usage: gridbus stats --month YYYY-MM [--grid G] [--assignee MEMBER]\n"
    "\n"
    "Prints a month's figures as one JSON object: {\"month\":..,\"from\":..,\"to\":..,\n"
    "\"total\":{\"tasks\",\"open\",\"completed\",\"closed\",\"completed_on_time\",\"on_time_rate\","
    "\n"
    "\"overdue\",\"repairs_completed\",\"fees_fen\",\"fees_waived_fen\"},\"by_type\":..,\n"
    "\"by_status\":..,\"grids\":..,\"members\":..}. A task counts in the month it was opened\n"
    "(the community's time zone).\n"
    "exit status: 0 done, 1 refused, 2 usage error, 3 transport error or timeout.\n";

static const char clock_usage[] =
    "usage: gridbus clock [--set MS]\n"
    "\n"
    "Prints the daemon's clock as {\"now\":MS}. --set moves it first (ms since the epoch);\n"
    "only a daemon started with --set testing.allow_clock=true allows that (else E_FORBIDDEN),\n"
    "and the deadlines that fall due on the way are marked overdue.\n"
    "exit status: 0 done, 1 refused, 2 usage error, 3 transport error or timeout.\n";

typedef struct {
    const char *grid, *assignee, *status, *month;
    bool overdue;
    long long limit, set;
} look_opts_t;

enum {
    K_GRID = 1 << 0,
    K_ASSIGNEE = 1 << 1,
    K_STATUS = 1 << 2,
    K_OVERDUE = 1 << 3,
    K_LIMIT = 1 << 4,
    K_MONTH = 1 << 5,
    K_SET = 1 << 6
};

static const struct option longopts[] = {
    {"grid", required_argument, NULL, K_GRID},
    {"assignee", required_argument, NULL, K_ASSIGNEE},
    {"status", required_argument, NULL, K_STATUS},
    {"overdue", no_argument, NULL, K_OVERDUE},
    {"limit", required_argument, NULL, K_LIMIT},
    {"month", required_argument, NULL, K_MONTH},
    {"set", required_argument, NULL, K_SET},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char *option_name(int c)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == c)
            return o->name;
    return "?";
}

/* One option of the command called name; 0, or -1 after a usage error. */
static int take_option(const char *name, int c, look_opts_t *o)
{
    if (c == K_GRID)
        o->grid = optarg;
    else if (c == K_ASSIGNEE)
        o->assignee = optarg;
    else if (c == K_STATUS)
        o->status = optarg;
    else if (c == K_OVERDUE)
        o->overdue = true;
    else if (c == K_MONTH)
        o->month = optarg;
    else if (c == K_LIMIT && cli_parse_i64(optarg, 1, INT64_MAX, &o->limit) < 0)
        return cli_usage_error(name, "--limit: not a number >= 1: '%s'", optarg), -1;
    else if (c == K_SET && cli_parse_i64(optarg, 1, INT64_MAX, &o->set) < 0)
        return cli_usage_error(name, "--set: not ms since the epoch: '%s'", optarg), -1;
    return 0;
}

/* Parses the options the command accepts (bits of `accepted`); 0, or -1 with *status set. */
static int parse_options(int argc, char **argv, int accepted, const char *usage, look_opts_t *o,
                         int *status)
{
    int c;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage, stdout);
            *status = CLI_EXIT_OK;
            return -1;
        }
        if (c == '?')
            return cli_usage_error(argv[0], NULL), -1;
        if (!(c & accepted))
            return cli_usage_error(argv[0], "--%s does not go with '%s'", option_name(c), argv[0]),
                   -1;
        if (take_option(argv[0], c, o) < 0)
            return -1;
    }
    if (optind < argc)
        return cli_usage_error(argv[0], "unexpected argument '%s'", argv[optind]), -1;
    return 0;
}

static void print_task(const void *task, size_t len, void *arg)
{
    long long *printed = arg;
    cli_print_json(jsonmp_from_bytes(task, len));
    (*printed)++;
}

/* Pages through the tasks until the daemon says there are no more, or the limit. */
static int list_tasks(gridbus_t *client, const look_opts_t *o)
{
    gridbus_tasks_query_t q = {o->grid, o->assignee, o->status, o->overdue, 0, 0};
    long long printed = 0;
    do {
        long long left = o->limit ? o->limit - printed : WIRE_QUERY_LIMIT_MAX;
        q.limit = (uint32_t)(left < WIRE_QUERY_LIMIT_MAX ? left : WIRE_QUERY_LIMIT_MAX);
        if (gridbus_query_tasks(client, &q, print_task, &printed, &q.after) < 0)
            return cli_fail_client(client);
    } while (q.after != 0 && (!o->limit || printed < o->limit));
    return CLI_EXIT_OK;
}

int cmd_tasks(int argc, char **argv, const cli_opts_t *opts)
{
    look_opts_t o = {0};
    int status;
    if (parse_options(argc, argv, K_GRID | K_ASSIGNEE | K_STATUS | K_OVERDUE | K_LIMIT, tasks_usage,
                      &o, &status) < 0)
        return status;
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    status = list_tasks(client, &o);
    gridbus_destroy(&client);
    return status;
}

int cmd_stats(int argc, char **argv, const cli_opts_t *opts)
{
    look_opts_t o = {0};
    int status;
    const void *stats;
    size_t len;
    if (parse_options(argc, argv, K_GRID | K_ASSIGNEE | K_MONTH, stats_usage, &o, &status) < 0)
        return status;
    if (!o.month)
        return cli_usage_error("stats", "missing --month YYYY-MM");
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    status = CLI_EXIT_OK;
    if (gridbus_query_stats(client, o.month, o.grid, o.assignee, &stats, &len) < 0)
        status = cli_fail_client(client);
    else
        cli_print_json(jsonmp_from_bytes(stats, len));
    gridbus_destroy(&client);
    return status;
}

int cmd_clock(int argc, char **argv, const cli_opts_t *opts)
{
    look_opts_t o = {0};
    int status;
    int64_t now;
    if (parse_options(argc, argv, K_SET, clock_usage, &o, &status) < 0)
        return status;
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    status = CLI_EXIT_OK;
    if (gridbus_clock(client, o.set, &now) < 0)
        status = cli_fail_client(client);
    else
        cli_print_json(json_pack("{s:I}", "now", (json_int_t)now));
    gridbus_destroy(&client);
    return status;
}
