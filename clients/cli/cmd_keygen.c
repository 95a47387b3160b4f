/*
 * cmd_keygen: `gridbus keygen [--out FILE] [--member ID]`, a CURVE key pair for a client of
 * a daemon with security on.
 *
 * The pair goes to a new file (mode 0600; an existing file is never replaced, so a key in
 * use cannot be lost by a second run), which `gridbus --key FILE` and gridbus_set_key_file
 * read. Only the public key leaves the machine: stdout gets the one line to add to the
 * daemon's keys file (security.keys), `PUBLICKEY member.id`, so a script can append it
 * directly; the advice goes to stderr. Nothing here talks to the daemon.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "event.h"
#include "schema.h"

static const char usage_text[] =
    "usage: gridbus keygen [--out FILE] [--member ID]\n"
    "\n"
    "Makes a CURVE key pair for a daemon with security on and writes it to FILE (default:\n"
    "ID.key with --member, else gridbus.key), mode 0600; an existing FILE is never replaced.\n"
    "Prints the line to add to the daemon's keys file (security.keys), `PUBLICKEY ID`, then\n"
    "reload the daemon (SIGHUP). Use the pair with `gridbus --key FILE --server-key K`.\n"
    "exit status: 0 written, 2 usage error or FILE cannot be written, 3 no CURVE in libzmq.\n";

typedef struct {
    const char *out, *member;
} keygen_opts_t;

static int parse_options(int argc, char **argv, keygen_opts_t *o, int *status)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},
        {"member", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    *status = CLI_EXIT_USAGE;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'o')
            o->out = optarg;
        else if (c == 'm')
            o->member = optarg;
        else if (c == 'h')
            return fputs(usage_text, stdout), *status = CLI_EXIT_OK, -1;
        else
            return cli_usage_error("keygen", NULL), -1;
    }
    if (optind < argc)
        return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]), -1;
    if (o->member && !event_id_valid(o->member, strlen(o->member), SCHEMA_ID_MAX))
        return cli_usage_error("keygen", "--member: '%s' is not a member id", o->member), -1;
    return 0;
}

int cmd_keygen(int argc, char **argv, const cli_opts_t *opts)
{
    keygen_opts_t o = {0};
    gridbus_keypair_t kp;
    char path[4096], comment[200], err[4400];
    int status;
    (void)opts;
    if (parse_options(argc, argv, &o, &status) < 0)
        return status;
    snprintf(path, sizeof path, "%s%s",
             o.out      ? o.out
             : o.member ? o.member
                        : "gridbus",
             o.out ? "" : ".key");
    snprintf(comment, sizeof comment, "gridbus CURVE key pair%s%s; keep it secret",
             o.member ? " of " : "", o.member ? o.member : "");
    if (gridbus_keypair_new(&kp) < 0) {
        fprintf(stderr, "gridbus: this libzmq cannot make CURVE keys (built without CURVE)\n");
        return CLI_EXIT_TRANSPORT;
    }
    if (gridbus_keypair_save(&kp, path, comment, err, sizeof err) < 0) {
        fprintf(stderr, "gridbus: %s\n", err);
        return CLI_EXIT_USAGE;
    }
    printf("%s %s\n", kp.public_key, o.member ? o.member : "MEMBER.ID");
    fprintf(stderr,
            "gridbus: wrote %s (keep it secret). Add the line above to gridbusd's keys file "
            "(security.keys)%s, then reload gridbusd (SIGHUP).\n",
            path, o.member ? "" : " with the member id of the key's holder");
    memset(&kp, 0, sizeof kp);
    return CLI_EXIT_OK;
}
