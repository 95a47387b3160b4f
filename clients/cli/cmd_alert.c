/*
 * cmd_alert: the supervision office's hands on the alert loop. `gridbus alert ack|resolve
 * ID --by MEMBER [--note TEXT]` publishes alert.acknowledged or alert.resolved, and
 * `gridbus alerts --day YYYY-MM-DD [--status S]` lists a day's alerts as JSON lines.
 *
 * Acknowledging and resolving are ordinary events, so that every step on an alert is in
 * the event log; whether the step is legal (E_STATE) and whether the member may take it
 * (E_FORBIDDEN) only the daemon knows, and its nack is printed and exits 1, as for
 * `gridbus task`. Alerts are printed as the daemon sends them, converted generically.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonmp.h"

static const char alert_usage[] =
    "usage: gridbus alert ack     ID --by MEMBER [--note TEXT]\n"
    "       gridbus alert resolve ID --by MEMBER [--note TEXT]\n"
    "       gridbus alert show    ID\n"
    "\n"
    "ack publishes alert.acknowledged for alert ID (\"a-7\"), which stops its escalation;\n"
    "resolve publishes alert.resolved, which closes it. The ack is printed as a JSON line:\n"
    "{\"alert\":\"a-7\",\"id\":..,\"seq\":..,\"dup\":..}. Only a member holding one of the alert\n"
    "levels' roles (discipline_commissioner, discipline_secretary) may take either step.\n"
    "Both also take --id ID --at MS to resend the same event safely.\n"
    "`show` prints the alert with its history as one JSON line.\n"
    "\n"
    "exit status: 0 acked, 1 refused (E_TASK unknown alert, E_STATE already acknowledged or\n"
    "resolved, E_FORBIDDEN not a supervision role), 2 usage error, 3 transport error or\n"
    "timeout.\n";

static const char alerts_usage[] =
    "usage: gridbus alerts --day YYYY-MM-DD [--status open|acknowledged|resolved|all]\n"
    "\n"
    "Prints the alerts raised on that community day as JSON lines in seq order, e.g.\n"
    "{\"id\":\"a-1\",\"rule\":\"patrol-high\",\"severity\":\"high\",\"subject\":\"g1\",\n"
    "\"status\":\"open\",..}; by default all of them.\n"
    "exit status: 0 done, 1 refused, 2 usage error, 3 transport error or timeout.\n";

typedef struct {
    const char *step, *type, *alert, *by, *note, *id, *day, *status;
    long long at;
    bool at_set;
} alert_opts_t;

static const struct option longopts[] = {
    {"by", required_argument, NULL, 'b'},  {"note", required_argument, NULL, 'N'},
    {"id", required_argument, NULL, 'i'},  {"at", required_argument, NULL, 'a'},
    {"day", required_argument, NULL, 'd'}, {"status", required_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},      {NULL, 0, NULL, 0},
};

static const char *option_name(int c)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == c)
            return o->name;
    return "?";
}

/* One option's value; 0, or -1 after a usage error. */
static int take_option(const char *name, int c, alert_opts_t *o)
{
    if (c == 'b')
        o->by = optarg;
    else if (c == 'N')
        o->note = optarg;
    else if (c == 'i')
        o->id = optarg;
    else if (c == 'd')
        o->day = optarg;
    else if (c == 's')
        o->status = optarg;
    else if (cli_parse_i64(optarg, 0, INT64_MAX, &o->at) < 0) /* 'a' */
        return cli_usage_error(name, "--at: not ms since the epoch: '%s'", optarg), -1;
    else
        o->at_set = true;
    return 0;
}

/* Options of `name` (accepted: the short letters it takes); 0, or -1 with *status set. */
static int parse_options(int argc, char **argv, const char *name, const char *accepted,
                         const char *usage, alert_opts_t *o, int *status)
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
            return cli_usage_error(name, NULL), -1;
        if (!strchr(accepted, c))
            return cli_usage_error(name, "--%s does not go with '%s'", option_name(c), name), -1;
        if (take_option(name, c, o) < 0)
            return -1;
    }
    return 0;
}

/* The follow-up event; 0, or -1 after printing why. */
static int build(gridbus_event_t *ev, const alert_opts_t *o)
{
    if (gridbus_event_set_type(ev, o->type) < 0 || (o->id && gridbus_event_set_id(ev, o->id) < 0) ||
        gridbus_event_set_by(ev, o->by) < 0 || gridbus_event_set(ev, "alert", o->alert) < 0 ||
        (o->note && gridbus_event_set(ev, "note", o->note) < 0) ||
        (o->at_set && gridbus_event_set_at(ev, o->at) < 0) || gridbus_event_validate(ev) < 0)
        return -1;
    return 0;
}

static int publish_step(const alert_opts_t *o, const cli_opts_t *opts)
{
    gridbus_event_t *ev = gridbus_event_new();
    if (!ev) {
        fputs("gridbus: out of memory\n", stderr);
        return CLI_EXIT_TRANSPORT;
    }
    int status =
        build(ev, o) < 0 ? cli_fail_event(ev) : cli_publish_step(opts, ev, "alert", o->alert);
    gridbus_event_destroy(&ev);
    return status;
}

int cmd_alert(int argc, char **argv, const cli_opts_t *opts)
{
    alert_opts_t o = {0};
    int status;
    if (parse_options(argc, argv, "alert", "bNia", alert_usage, &o, &status) < 0)
        return status;
    if (argc - optind != 2)
        return cli_usage_error("alert", "expected a STEP (ack, resolve, show) and an alert ID");
    o.step = argv[optind], o.alert = argv[optind + 1];
    if (strcmp(o.step, "show") == 0) {
        if (o.by || o.note || o.id || o.at_set)
            return cli_usage_error("alert", "'show' takes no options");
        return cli_show(opts, gridbus_query_alert, o.alert);
    }
    if (strcmp(o.step, "ack") == 0)
        o.type = "alert.acknowledged";
    else if (strcmp(o.step, "resolve") == 0)
        o.type = "alert.resolved";
    else
        return cli_usage_error("alert", "unknown step '%s' (ack, resolve, show)", o.step);
    if (!o.by)
        return cli_usage_error("alert", "missing --by MEMBER (who takes the step)");
    return publish_step(&o, opts);
}

static void print_alert(const void *rec, size_t len, void *arg)
{
    (void)arg;
    cli_print_json(jsonmp_from_bytes(rec, len));
}

int cmd_alerts(int argc, char **argv, const cli_opts_t *opts)
{
    alert_opts_t o = {0};
    int status;
    if (parse_options(argc, argv, "alerts", "ds", alerts_usage, &o, &status) < 0)
        return status;
    if (optind < argc)
        return cli_usage_error("alerts", "unexpected argument '%s'", argv[optind]);
    if (!o.day)
        return cli_usage_error("alerts", "missing --day YYYY-MM-DD");
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    status = CLI_EXIT_OK;
    if (gridbus_query_alerts(client, o.day, o.status, 0, print_alert, NULL) < 0)
        status = cli_fail_client(client);
    gridbus_destroy(&client);
    return status;
}
