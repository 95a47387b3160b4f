/*
 * cmd_audit: `gridbus audit --month YYYY-MM [--text]`, the monthly joint review pack
 * (三联会审): the month's ledger entries up to the review day, who submitted and who
 * approved each, the alerts raised on each, and the totals by direction and category.
 *
 * JSON by default (one object, as the daemon sends it, so a field added later shows up
 * without a CLI change); --text prints the table the review meeting reads, amounts in
 * yuan with two decimals.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "jsonmp.h"

#define DAY_MS INT64_C(86400000)

static const char usage_text[] =
    "usage: gridbus audit --month YYYY-MM [--text]\n"
    "\n"
    "Prints the month's joint review pack as one JSON object: {\"month\",\"from\",\"to\",\n"
    "\"entries\":[{\"seq\",\"id\",\"entry\",\"at\",\"direction\",\"amount_fen\",\"category\",\n"
    "\"counterparty\",\"by\",\"approved_by\",\"due\",\"settles\",\"flags\"}],\n"
    "\"totals\":{\"income_fen\",\"expense_fen\",\"by_category\"},\"count\"}: the ledger entries\n"
    "whose time falls in the month (the community's time zone) up to its review day\n"
    "(alerts.review_day), each with the names of the alert rules raised on it.\n"
    "\n"
    "  --text  a readable table instead: entry, date, direction, amount (yuan), category,\n"
    "          counterparty, submitted by, approved by, flags; then the totals\n"
    "\n"
    "exit status: 0 done, 1 refused, 2 usage error, 3 transport error or timeout.\n";

/* "12.34" from fen; negative amounts do not occur (the schema), but are printed right. */
static void yuan(char *buf, size_t len, json_int_t fen)
{
    json_int_t a = fen < 0 ? -fen : fen;
    snprintf(buf, len, "%s%" JSON_INTEGER_FORMAT ".%02" JSON_INTEGER_FORMAT, fen < 0 ? "-" : "",
             a / 100, a % 100);
}

static const char *str_or_dash(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : "-";
}

/* The items of a string array joined by commas into buf, "-" when empty. */
static const char *joined(const json_t *arr, char *buf, size_t len)
{
    size_t o = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(arr, i, v)
    {
        int n = snprintf(buf + o, len - o, "%s%s", o ? "," : "", json_string_value(v));
        if (n < 0 || (size_t)n >= len - o)
            break;
        o += (size_t)n;
    }
    return o ? buf : "-";
}

/* The pack carries no time zone, but `from` is local midnight: its distance to the UTC
 * midnight is the zone's offset, which turns `at` into the community's date. */
static void local_date(json_int_t at, json_int_t from, char *buf, size_t len)
{
    int64_t offset = (DAY_MS - from % DAY_MS) % DAY_MS;
    time_t secs = (time_t)((at + offset) / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, len, "%Y-%m-%d", &tm);
}

static void print_entry(const json_t *e, json_int_t from)
{
    char date[16], amount[32], approved[512], flags[512];
    local_date(json_integer_value(json_object_get(e, "at")), from, date, sizeof date);
    yuan(amount, sizeof amount, json_integer_value(json_object_get(e, "amount_fen")));
    printf("%-16s %-10s %-9s %14s  %-16s %-24s %-18s %-28s %s\n", str_or_dash(e, "entry"), date,
           str_or_dash(e, "direction"), amount, str_or_dash(e, "category"),
           str_or_dash(e, "counterparty"), str_or_dash(e, "by"),
           joined(json_object_get(e, "approved_by"), approved, sizeof approved),
           joined(json_object_get(e, "flags"), flags, sizeof flags));
}

static void print_totals(const json_t *totals)
{
    char in[32], out[32];
    const char *cat;
    json_t *v;
    yuan(in, sizeof in, json_integer_value(json_object_get(totals, "income_fen")));
    yuan(out, sizeof out, json_integer_value(json_object_get(totals, "expense_fen")));
    printf("\ntotals: income %s yuan, expense %s yuan\n", in, out);
    printf("%-24s %14s %14s\n", "category", "income", "expense");
    json_object_foreach(json_object_get(totals, "by_category"), cat, v)
    {
        yuan(in, sizeof in, json_integer_value(json_object_get(v, "income_fen")));
        yuan(out, sizeof out, json_integer_value(json_object_get(v, "expense_fen")));
        printf("%-24s %14s %14s\n", cat, in, out);
    }
}

static void print_text(const json_t *audit)
{
    json_int_t from = json_integer_value(json_object_get(audit, "from"));
    char to[16];
    size_t i;
    json_t *e;
    /* `to` is exclusive: the last day covered is the one before it. */
    local_date(json_integer_value(json_object_get(audit, "to")) - 1, from, to, sizeof to);
    printf("joint review %s: %" JSON_INTEGER_FORMAT " ledger entries up to %s\n\n",
           str_or_dash(audit, "month"), json_integer_value(json_object_get(audit, "count")), to);
    printf("%-16s %-10s %-9s %14s  %-16s %-24s %-18s %-28s %s\n", "entry", "date", "direction",
           "amount (yuan)", "category", "counterparty", "submitted by", "approved by", "flags");
    json_array_foreach(json_object_get(audit, "entries"), i, e) print_entry(e, from);
    print_totals(json_object_get(audit, "totals"));
}

static int parse_options(int argc, char **argv, const char **month, bool *text, int *status)
{
    static const struct option longopts[] = {
        {"month", required_argument, NULL, 'm'},
        {"text", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'm')
            *month = optarg;
        else if (c == 't')
            *text = true;
        else if (c == 'h') {
            fputs(usage_text, stdout);
            *status = CLI_EXIT_OK;
            return -1;
        } else
            return cli_usage_error("audit", NULL), -1;
    }
    if (optind < argc)
        return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]), -1;
    if (!*month)
        return cli_usage_error("audit", "missing --month YYYY-MM"), -1;
    return 0;
}

int cmd_audit(int argc, char **argv, const cli_opts_t *opts)
{
    const char *month = NULL;
    bool text = false;
    const void *audit;
    size_t len;
    int status;
    if (parse_options(argc, argv, &month, &text, &status) < 0)
        return status;
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    status = CLI_EXIT_OK;
    if (gridbus_query_audit(client, month, &audit, &len) < 0) {
        status = cli_fail_client(client);
    } else if (!text) {
        cli_print_json(jsonmp_from_bytes(audit, len));
    } else {
        json_t *j = jsonmp_from_bytes(audit, len);
        print_text(j);
        json_decref(j);
    }
    gridbus_destroy(&client);
    return status;
}
