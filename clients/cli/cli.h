/*
 * cli: what the gridbus commands share: the global options, the exit codes, connecting,
 * and how errors are reported.
 *
 * Every command is one function `cmd_NAME(argc, argv, opts)` in cmd_NAME.c that returns
 * the process exit code, so main.c only parses the global options and dispatches. The exit
 * codes are the CLI's contract with scripts: 0 all acked, 1 something was refused (by the
 * daemon, or locally by the same schema rules), 2 usage (or a local file that cannot be
 * used, such as tail's cursor), 3 transport or timeout.
 */
#ifndef GB_CLI_H
#define GB_CLI_H

#include <jansson.h>
#include <stdbool.h>

#include "gridbus.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_REFUSED = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_TRANSPORT = 3,
};

typedef struct {
    const char *endpoint; /* NULL: $GRIDBUS_ENDPOINT or the default */
    int timeout_ms;
    int retries;
    const char *key_file;   /* --key: the client's CURVE key pair (NULL: no CURVE) */
    const char *server_key; /* --server-key: the daemon's public key, Z85 or a file */
} cli_opts_t;

/* A connected client with opts applied, or NULL after printing why. */
gridbus_t *cli_connect(const cli_opts_t *opts);

/* The exit code for a failed client call. */
int cli_exit_for(gridbus_status_t status);

/* Prints "gridbus: CODE: message" to stderr and returns the exit code for the client's
 * last error. */
int cli_fail_client(const gridbus_t *client);

/* Prints "gridbus: message" (none when fmt is NULL: getopt has printed one) and a hint to
 * stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Parses a decimal integer option value within [min, max]: 0, or -1. */
int cli_parse_i64(const char *text, long long min, long long max, long long *out);

/* Prints j as one compact JSON line on stdout; steals the reference. */
void cli_print_json(json_t *j);

/* Prints "gridbus: CODE: message" for an event the builder refused; CLI_EXIT_REFUSED. */
int cli_fail_event(const gridbus_event_t *ev);

/* Packs and publishes a built follow-up event, then prints its ack as one JSON line
 * {KEY: target, id, seq, dup}. The exit code. */
int cli_publish_step(const cli_opts_t *opts, gridbus_event_t *ev, const char *key,
                     const char *target);

/* Looks one record up by id with query and prints it as JSON. The exit code. */
typedef int (*cli_lookup_fn)(gridbus_t *client, const char *id, const void **rec, size_t *len);
int cli_show(const cli_opts_t *opts, cli_lookup_fn query, const char *id);

/* The commands. argv[0] is the command name. */
int cmd_publish(int argc, char **argv, const cli_opts_t *opts);
int cmd_publish_json(gridbus_t *client, const char *const defaults[3]);
int cmd_ping(int argc, char **argv, const cli_opts_t *opts);
int cmd_replay(int argc, char **argv, const cli_opts_t *opts);
int cmd_tail(int argc, char **argv, const cli_opts_t *opts);
int cmd_task(int argc, char **argv, const cli_opts_t *opts);
int cmd_tasks(int argc, char **argv, const cli_opts_t *opts);
int cmd_stats(int argc, char **argv, const cli_opts_t *opts);
int cmd_alert(int argc, char **argv, const cli_opts_t *opts);
int cmd_alerts(int argc, char **argv, const cli_opts_t *opts);
int cmd_audit(int argc, char **argv, const cli_opts_t *opts);
int cmd_clock(int argc, char **argv, const cli_opts_t *opts);
int cmd_keygen(int argc, char **argv, const cli_opts_t *opts);

#endif
