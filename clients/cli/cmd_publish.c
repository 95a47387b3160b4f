/*
 * cmd_publish: `gridbus publish TYPE --by ID [key=value ...]`, one event with ack.
 *
 * The event is put together by libgridbus's builder, which coerces each key=value by the
 * schema, and checked locally with the daemon's own rules before anything is sent, so a
 * typo costs no round trip and reads the same as the daemon's nack would (exit 1 either
 * way). What only the daemon can know (members, grids, tasks) comes back as a nack.
 * `--json` switches to the pipelined JSON-lines mode in cmd_publish_json.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "schema.h"

static const char usage_text[] =
    "usage: gridbus publish TYPE --by ID [--grid G] [--place P] [--id ID] [--at MS] "
    "[key=value ...]\n"
    "       gridbus publish --json [--by ID] [--grid G] [--place P] [--window N] < events\n"
    "\n"
    "Publishes one event and prints its ack as a JSON line: {\"id\":..,\"seq\":..,\"dup\":..}.\n"
    "Each key=value sets a body field (\"body.\" in front is allowed), converted by the\n"
    "field's kind: integers and times (ms since the epoch) as decimal, booleans as\n"
    "true/false, lists as comma-separated items. Without --id a fresh time-ordered id is\n"
    "made; without --at, the current time. Publishing the same event again (same --id\n"
    "and --at, same fields) is safe: the ack says dup:true with the original seq; the same\n"
    "id with other content is refused (E_CONFLICT). So to retry, give --id and --at.\n"
    "\n"
    "--json reads one event object per line from stdin (v, at and id are filled in when\n"
    "missing; --by, --grid and --place fill by, grid and place), publishes them with up to\n"
    "--window (default 256) in flight, and prints one result line per input line, in\n"
    "order: the ack, or {\"id\":..,\"error\":{\"code\":..,\"message\":..}}.\n"
    "\n"
    "exit status: 0 all acked, 1 refused, 2 usage error, 3 transport error or timeout.\n"
    "\n"
    "types and their body fields (* required):\n";

static void print_field(const schema_field_t *f)
{
    printf("    %s%s  %s", f->name, f->required ? "*" : "", schema_kind_name(f->kind));
    if (f->kind == SCHEMA_ENUM) {
        for (int i = 0; f->values[i]; i++)
            printf("%s%s", i ? "|" : ": ", f->values[i]);
    }
    if (f->kind == SCHEMA_STR_ARRAY || f->kind == SCHEMA_ID_ARRAY)
        printf(", comma-separated");
    if (f->flags & SCHEMA_MEMBER_REF)
        printf(", member ids");
    putchar('\n');
}

static void print_usage(void)
{
    fputs(usage_text, stdout);
    for (const schema_type_t *t = schema_types; t->name; t++) {
        printf("  %s%s\n", t->name, t->grid_required ? " (--grid required)" : "");
        for (const schema_field_t *f = t->fields; f->name; f++)
            print_field(f);
    }
}

typedef struct {
    const char *by, *grid, *place, *id;
    long long at;
    bool at_set, json;
    long long window;
} publish_opts_t;

/* Returns 0, or -1 with *status set (usage error, or --help done). */
static int parse_options(int argc, char **argv, publish_opts_t *o, int *status)
{
    static const struct option longopts[] = {
        {"by", required_argument, NULL, 'b'},
        {"grid", required_argument, NULL, 'g'},
        {"place", required_argument, NULL, 'p'},
        {"id", required_argument, NULL, 'i'},
        {"at", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"window", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->by = optarg;
            break;
        case 'g':
            o->grid = optarg;
            break;
        case 'p':
            o->place = optarg;
            break;
        case 'i':
            o->id = optarg;
            break;
        case 'a':
            if (cli_parse_i64(optarg, 0, INT64_MAX, &o->at) < 0) {
                *status = cli_usage_error("publish", "--at: not ms since the epoch: '%s'", optarg);
                return -1;
            }
            o->at_set = true;
            break;
        case 'j':
            o->json = true;
            break;
        case 'w':
            if (cli_parse_i64(optarg, 1, 65536, &o->window) < 0) {
                *status =
                    cli_usage_error("publish", "--window: not a number 1..65536: '%s'", optarg);
                return -1;
            }
            break;
        case 'h':
            print_usage();
            *status = CLI_EXIT_OK;
            return -1;
        default:
            *status = cli_usage_error("publish", NULL);
            return -1;
        }
    }
    return 0;
}

/* Prints the builder's error; a local refusal exits like a nack. */
/* Sets the envelope from the options and the body from key=value arguments. */
static int fill(gridbus_event_t *ev, const publish_opts_t *o, int n, char **args, int *status)
{
    gridbus_event_set_by(ev, o->by);
    gridbus_event_set_grid(ev, o->grid);
    gridbus_event_set_place(ev, o->place);
    if (o->at_set)
        gridbus_event_set_at(ev, o->at);
    for (int i = 1; i < n; i++) {
        if (!strchr(args[i], '=') || args[i][0] == '=') {
            *status = cli_usage_error("publish", "'%s': expected key=value", args[i]);
            return -1;
        }
        if (gridbus_event_set_kv(ev, args[i]) < 0) {
            *status = cli_fail_event(ev);
            return -1;
        }
    }
    return 0;
}

/* Builds and checks the event from TYPE and key=value arguments; 0, or -1 with *status. */
static int build(gridbus_event_t *ev, const publish_opts_t *o, int n, char **args, int *status)
{
    if (gridbus_event_set_type(ev, args[0]) < 0 || (o->id && gridbus_event_set_id(ev, o->id) < 0)) {
        *status = cli_fail_event(ev);
        return -1;
    }
    if (fill(ev, o, n, args, status) < 0)
        return -1;
    if (gridbus_event_validate(ev) < 0) {
        *status = cli_fail_event(ev);
        return -1;
    }
    return 0;
}

static void print_ack(const gridbus_ack_t *ack)
{
    cli_print_json(
        json_pack("{s:s, s:I, s:b}", "id", ack->id, "seq", (json_int_t)ack->seq, "dup", ack->dup));
}

static int publish_one(const publish_opts_t *o, int n, char **args, const cli_opts_t *opts)
{
    int status = CLI_EXIT_OK;
    gridbus_event_t *ev = gridbus_event_new();
    gridbus_t *client = NULL;
    const void *data;
    size_t len;
    gridbus_ack_t ack;
    if (!ev) {
        fputs("gridbus: out of memory\n", stderr);
        return CLI_EXIT_TRANSPORT;
    }
    if (build(ev, o, n, args, &status) == 0 && gridbus_event_pack(ev, &data, &len) == 0) {
        if (!(client = cli_connect(opts)))
            status = CLI_EXIT_USAGE;
        else if (gridbus_publish(client, data, len, &ack) < 0)
            status = cli_fail_client(client);
        else
            print_ack(&ack);
    }
    gridbus_destroy(&client);
    gridbus_event_destroy(&ev);
    return status;
}

static int publish_json(const publish_opts_t *o, const cli_opts_t *opts)
{
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    if (o->window && gridbus_set_window(client, (size_t)o->window) < 0) {
        int status = cli_fail_client(client);
        gridbus_destroy(&client);
        return status;
    }
    const char *const defaults[3] = {o->by, o->grid, o->place};
    int status = cmd_publish_json(client, defaults);
    gridbus_destroy(&client);
    return status;
}

int cmd_publish(int argc, char **argv, const cli_opts_t *opts)
{
    publish_opts_t o = {0};
    int status;
    if (parse_options(argc, argv, &o, &status) < 0)
        return status;
    int n = argc - optind;
    char **args = argv + optind;
    if (o.json) {
        if (n > 0)
            return cli_usage_error("publish", "--json reads events from stdin: unexpected '%s'",
                                   args[0]);
        return publish_json(&o, opts);
    }
    if (n < 1)
        return cli_usage_error("publish", "missing the event TYPE");
    if (!o.by)
        return cli_usage_error("publish", "missing --by MEMBER (who reports the event)");
    return publish_one(&o, n, args, opts);
}
