/*
 * cmd_task: `gridbus task STEP ID --by MEMBER ...`, one follow-up on a task, and
 * `gridbus task show ID`.
 *
 * A step is an ordinary event (task.accepted, task.progress, task.completed, task.returned,
 * task.verified) built by libgridbus's builder and published with ack, like `publish`: the
 * options only name its body fields. Whether the step is legal (E_STATE) and whether the
 * member may take it (E_FORBIDDEN) only the daemon knows; its nack is printed and exits 1.
 * Each step's options are one row of a table, so a misplaced option (--outcome on accept)
 * is a usage error rather than a field the daemon refuses.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "jsonmp.h"

static const char usage_text[] =
    "usage: gridbus task accept   ID --by MEMBER [--note TEXT]\n"
    "       gridbus task progress ID --by MEMBER --note TEXT [--percent P]\n"
    "       gridbus task complete ID --by MEMBER --outcome TEXT [--fee-fen N]\n"
    "                                [--fee-waived-fen N] [--note TEXT]\n"
    "       gridbus task return   ID --by MEMBER --reason TEXT\n"
    "       gridbus task verify   ID --by MEMBER (--ok | --reopen) [--note TEXT]\n"
    "       gridbus task show     ID\n"
    "\n"
    "A step publishes the follow-up event (task.accepted, task.progress, task.completed,\n"
    "task.returned, task.verified) for task ID (\"t-12\") and prints its ack as a JSON line:\n"
    "{\"task\":\"t-12\",\"id\":..,\"seq\":..,\"dup\":..}. Only the assignee may accept, report\n"
    "progress, complete or return; a grid leader, cadre or the convener of the task's grid\n"
    "verifies: --ok closes the task, --reopen sends it back to in_progress. Fees are in fen.\n"
    "Every step also takes --grid G, and --id ID --at MS to resend the same event safely.\n"
    "`show` prints the task with its history as one JSON line.\n"
    "\n"
    "exit status: 0 acked, 1 refused (E_TASK unknown task, E_STATE not a step from its\n"
    "status, E_FORBIDDEN not this member's step, or a schema error), 2 usage error,\n"
    "3 transport error or timeout.\n";

/* Options that name body fields, as bits of a step's allowed and required sets. */
enum {
    O_NOTE = 1 << 0,
    O_PERCENT = 1 << 1,
    O_OUTCOME = 1 << 2,
    O_FEE = 1 << 3,
    O_WAIVED = 1 << 4,
    O_REASON = 1 << 5,
    O_OK = 1 << 6,
    O_COUNT = 7
};

static const struct {
    int bit;
    const char *option, *field;
} fields[O_COUNT] = {
    {O_NOTE, "note", "note"},
    {O_PERCENT, "percent", "percent"},
    {O_OUTCOME, "outcome", "outcome"},
    {O_FEE, "fee-fen", "fee_fen"},
    {O_WAIVED, "fee-waived-fen", "fee_waived_fen"},
    {O_REASON, "reason", "reason"},
    {O_OK, "ok", "ok"}, /* --ok and --reopen both set it */
};

typedef struct {
    const char *name, *type;
    int allowed, required;
} step_t;

static const step_t steps[] = {
    {"accept", "task.accepted", O_NOTE, 0},
    {"progress", "task.progress", O_NOTE | O_PERCENT, O_NOTE},
    {"complete", "task.completed", O_OUTCOME | O_FEE | O_WAIVED | O_NOTE, O_OUTCOME},
    {"return", "task.returned", O_REASON, O_REASON},
    {"verify", "task.verified", O_OK | O_NOTE, O_OK},
};

typedef struct {
    const step_t *step;
    const char *task, *by, *grid, *id;
    long long at;
    bool at_set;
    int given;                  /* bits of the field options given */
    const char *value[O_COUNT]; /* their values, by bit index */
} task_opts_t;

static int bit_index(int bit)
{
    int i = 0;
    while (i < O_COUNT && fields[i].bit != bit)
        i++;
    return i;
}

static void set_field(task_opts_t *o, int bit, const char *value)
{
    o->given |= bit;
    o->value[bit_index(bit)] = value;
}

/* One option; 0, or -1 with a usage error printed. */
static int take_option(task_opts_t *o, int c)
{
    static const int field_of[] = {['N'] = O_NOTE, ['P'] = O_PERCENT, ['O'] = O_OUTCOME,
                                   ['f'] = O_FEE,  ['w'] = O_WAIVED,  ['R'] = O_REASON};
    if (c == 'b')
        o->by = optarg;
    else if (c == 'g')
        o->grid = optarg;
    else if (c == 'i')
        o->id = optarg;
    else if (c == 'k' || c == 'K')
        set_field(o, O_OK, c == 'k' ? "true" : "false");
    else if (c == 'a') {
        if (cli_parse_i64(optarg, 0, INT64_MAX, &o->at) < 0)
            return cli_usage_error("task", "--at: not ms since the epoch: '%s'", optarg), -1;
        o->at_set = true;
    } else if (c > 0 && (size_t)c < sizeof field_of / sizeof field_of[0] && field_of[c])
        set_field(o, field_of[c], optarg);
    else
        return cli_usage_error("task", NULL), -1;
    return 0;
}

/* 0, or -1 with *status set (usage error, or --help done). */
static int parse_options(int argc, char **argv, task_opts_t *o, int *status)
{
    static const struct option longopts[] = {
        {"by", required_argument, NULL, 'b'},
        {"grid", required_argument, NULL, 'g'},
        {"id", required_argument, NULL, 'i'},
        {"at", required_argument, NULL, 'a'},
        {"note", required_argument, NULL, 'N'},
        {"percent", required_argument, NULL, 'P'},
        {"outcome", required_argument, NULL, 'O'},
        {"fee-fen", required_argument, NULL, 'f'},
        {"fee-waived-fen", required_argument, NULL, 'w'},
        {"reason", required_argument, NULL, 'R'},
        {"ok", no_argument, NULL, 'k'},
        {"reopen", no_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool ok_seen = false;
    int c;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(usage_text, stdout);
            *status = CLI_EXIT_OK;
            return -1;
        }
        if ((c == 'k' || c == 'K') && ok_seen)
            return cli_usage_error("task", "--ok and --reopen: choose one"), -1;
        ok_seen |= c == 'k' || c == 'K';
        if (take_option(o, c) < 0)
            return -1;
    }
    return 0;
}

/* Checks the options against the step's row; 0, or -1 after a usage error. */
static int check_step_options(const task_opts_t *o)
{
    const step_t *s = o->step;
    for (int i = 0; i < O_COUNT; i++) {
        const char *opt = fields[i].bit == O_OK ? "ok or --reopen" : fields[i].option;
        if ((o->given & fields[i].bit) && !(s->allowed & fields[i].bit))
            return cli_usage_error("task", "--%s does not go with '%s'", fields[i].option, s->name),
                   -1;
        if ((s->required & fields[i].bit) && !(o->given & fields[i].bit))
            return cli_usage_error("task", "'%s' needs --%s", s->name, opt), -1;
    }
    if (!o->by)
        return cli_usage_error("task", "missing --by MEMBER (who takes the step)"), -1;
    return 0;
}

/* The follow-up event; 0, or -1 with *status set after printing why. */
static int build(gridbus_event_t *ev, const task_opts_t *o, int *status)
{
    if (gridbus_event_set_type(ev, o->step->type) < 0 ||
        (o->id && gridbus_event_set_id(ev, o->id) < 0) || gridbus_event_set_by(ev, o->by) < 0 ||
        gridbus_event_set_grid(ev, o->grid) < 0 || gridbus_event_set(ev, "task", o->task) < 0)
        goto refused;
    if (o->at_set && gridbus_event_set_at(ev, o->at) < 0)
        goto refused;
    for (int i = 0; i < O_COUNT; i++)
        if ((o->given & fields[i].bit) && gridbus_event_set(ev, fields[i].field, o->value[i]) < 0)
            goto refused;
    if (gridbus_event_validate(ev) < 0)
        goto refused;
    return 0;
refused:
    *status = cli_fail_event(ev);
    return -1;
}

static int publish_step(const task_opts_t *o, const cli_opts_t *opts)
{
    int status = CLI_EXIT_OK;
    gridbus_event_t *ev = gridbus_event_new();
    if (!ev) {
        fputs("gridbus: out of memory\n", stderr);
        return CLI_EXIT_TRANSPORT;
    }
    if (build(ev, o, &status) == 0)
        status = cli_publish_step(opts, ev, "task", o->task);
    gridbus_event_destroy(&ev);
    return status;
}

static const step_t *find_step(const char *name)
{
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (strcmp(steps[i].name, name) == 0)
            return &steps[i];
    return NULL;
}

int cmd_task(int argc, char **argv, const cli_opts_t *opts)
{
    task_opts_t o = {0};
    int status;
    if (parse_options(argc, argv, &o, &status) < 0)
        return status;
    if (argc - optind != 2)
        return cli_usage_error("task", "expected a STEP and a task ID");
    const char *action = argv[optind];
    o.task = argv[optind + 1];
    if (strcmp(action, "show") == 0) {
        if (o.given || o.by || o.grid || o.id || o.at_set)
            return cli_usage_error("task", "'show' takes no options");
        return cli_show(opts, gridbus_query_task, o.task);
    }
    if (!(o.step = find_step(action)))
        return cli_usage_error("task",
                               "unknown step '%s' (accept, progress, complete, return, "
                               "verify, show)",
                               action);
    if (check_step_options(&o) < 0)
        return CLI_EXIT_USAGE;
    return publish_step(&o, opts);
}
