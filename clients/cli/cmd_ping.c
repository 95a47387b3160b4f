/*
 * cmd_ping: `gridbus ping`, the daemon's pong as one JSON line.
 *
 * The whole reply map is printed (less the rid, which is this client's business), not just
 * the fields libgridbus knows, so a newer daemon's extra heads show up without a CLI change.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "jsonmp.h"

static const char usage_text[] =
    "usage: gridbus ping\n"
    "\n"
    "Asks the daemon for a pong and prints it as a JSON line, e.g.\n"
    "{\"op\":\"pong\",\"version\":\"0.1.0\",\"protocol\":1,\"heads\":{\"events\":42}}.\n"
    "exit status: 0 answered, 3 no answer (transport error or timeout).\n";

static int parse_options(int argc, char **argv, int *status)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c = getopt_long(argc, argv, "h", longopts, NULL);
    if (c == 'h') {
        fputs(usage_text, stdout);
        *status = CLI_EXIT_OK;
        return -1;
    }
    if (c != -1) {
        *status = cli_usage_error("ping", NULL);
        return -1;
    }
    if (optind < argc) {
        *status = cli_usage_error("ping", "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

int cmd_ping(int argc, char **argv, const cli_opts_t *opts)
{
    int status;
    if (parse_options(argc, argv, &status) < 0)
        return status;
    gridbus_t *client = cli_connect(opts);
    if (!client)
        return CLI_EXIT_USAGE;
    if (gridbus_ping(client, NULL) < 0) {
        status = cli_fail_client(client);
    } else {
        size_t len;
        const void *reply = gridbus_last_reply(client, &len);
        json_t *j = jsonmp_from_bytes(reply, len);
        json_object_del(j, "rid");
        cli_print_json(j);
        status = CLI_EXIT_OK;
    }
    gridbus_destroy(&client);
    return status;
}
