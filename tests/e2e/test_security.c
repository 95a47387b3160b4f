/*
 * test_security: CURVE and ZAP against a real gridbusd with security on.
 *
 * Each test starts a daemon with security.enabled and a keys file written here from fresh
 * key pairs: chen.jing (a grid leader), li.qiang (the convener), gao.feng (discipline
 * commissioner) and su.yuanyuan (discipline secretary); a fifth pair is known to nobody.
 * A refused CURVE handshake never produces a reply, so refusals are observed where ZeroMQ
 * reports them, on the client socket's monitor (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH carrying
 * the ZAP status 400), and every refusal is paired with a positive control on the same
 * endpoint (a known key that succeeds), so a daemon that accepts nothing cannot pass. The
 * monitor's receive timeout is only a hang guard; nothing here sleeps or measures time.
 * The `insecure` suite covers start-up refusals: a non-loopback endpoint with security
 * off, and a keys file with an error.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "gbtest.h"
#include "gridbus.h"
#include "harness.h"

/* One timeout for every suite (Criterion 2.4.1 leaks when suites differ). */
#define SUITE_TIMEOUT 120

typedef struct {
    char pub[41], sec[41];
} pair_t;

enum { FIELD, CONVENER, COMMISSIONER, SECRETARY, STRANGER, NPAIRS };
static const char *const members[NPAIRS] = {"chen.jing", "li.qiang", "gao.feng", "su.yuanyuan",
                                            NULL};

static char dir[] = "/tmp/gridbus-security-XXXXXX";
static char keys_path[600], server_pub[41];
static pair_t pairs[NPAIRS];
static gbd_t *d;
static void *ctx;
static int monitors;

/* ---- set-up ------------------------------------------------------------------------ */

/* The keys file: every pair with a member, each line of extra after them. */
static void write_keys(const char *extra)
{
    FILE *f = fopen(keys_path, "w");
    cr_assert_not_null(f);
    fputs("# test keys: KEY member\n\n", f);
    for (int i = 0; i < NPAIRS; i++)
        if (members[i])
            fprintf(f, "%s %s   # %d\n", pairs[i].pub, members[i], i);
    if (extra)
        fputs(extra, f);
    cr_assert_eq(fclose(f), 0);
}

/* The daemon's public key, from STATE_DIR/server.pub. */
static void read_server_key(void)
{
    char path[700], line[256];
    snprintf(path, sizeof path, "%s/server.pub", gbd_state_dir(d));
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    server_pub[0] = '\0';
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "public = ", 9) == 0)
            snprintf(server_pub, sizeof server_pub, "%.40s", line + 9);
    fclose(f);
    cr_assert_eq(strlen(server_pub), 40, "no public key in %s", path);
}

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(keys_path, sizeof keys_path, "%s/clients.keys", dir);
    for (int i = 0; i < NPAIRS; i++)
        cr_assert_eq(zmq_curve_keypair(pairs[i].pub, pairs[i].sec), 0);
    write_keys(NULL);
    char keys_set[700];
    snprintf(keys_set, sizeof keys_set, "security.keys=%s", keys_path);
    const char *args[] = {"--set", "security.enabled=true", "--set", keys_set, NULL};
    d = gbd_start(NULL, args);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    read_server_key();
    ctx = zmq_ctx_new();
}

static void remove_dir(void)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

static void teardown(void)
{
    gbt_close_all();
    if (ctx)
        zmq_ctx_term(ctx);
    if (d)
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
    remove_dir();
}

TestSuite(security, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT);

/* ---- CURVE clients with a monitor -------------------------------------------------- */

typedef struct {
    void *sock, *mon;
} peer_t;

/* A socket of type with pair's keys (stranger's too: the daemon decides), watched by a
 * monitor that reports the handshake's outcome, then connected to the endpoint name. */
static peer_t curve_peer(int type, int pair, const char *name)
{
    peer_t p = {gbt_socket(ctx, type), NULL};
    char mon_ep[64];
    cr_assert_not_null(p.sock, "%s", gbt_why());
    cr_assert_eq(zmq_setsockopt(p.sock, ZMQ_CURVE_SERVERKEY, server_pub, 40), 0);
    cr_assert_eq(zmq_setsockopt(p.sock, ZMQ_CURVE_PUBLICKEY, pairs[pair].pub, 40), 0);
    cr_assert_eq(zmq_setsockopt(p.sock, ZMQ_CURVE_SECRETKEY, pairs[pair].sec, 40), 0);
    if (type == ZMQ_SUB)
        zmq_setsockopt(p.sock, ZMQ_SUBSCRIBE, "", 0);
    snprintf(mon_ep, sizeof mon_ep, "inproc://monitor-%d", ++monitors);
    int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;
    cr_assert_eq(zmq_socket_monitor(p.sock, mon_ep, events), 0);
    /* Connected before the socket is, so no event is sent before anyone listens. */
    p.mon = gbt_connect(ctx, ZMQ_PAIR, mon_ep);
    cr_assert_not_null(p.mon, "%s", gbt_why());
    cr_assert_eq(zmq_connect(p.sock, gbd_endpoint(d, name)), 0);
    return p;
}

/* The first handshake outcome the monitor reports (0 when the hang guard ran out); *value
 * gets the event's value (the ZAP status code for FAILED_AUTH). */
static int handshake(const peer_t *p, uint32_t *value)
{
    gbt_msg_t m = {0};
    uint16_t event = 0;
    *value = 0;
    if (gbt_recv_msg(p->mon, &m) < 0)
        return 0;
    if (m.n == 2 && m.len[0] == 6) {
        memcpy(&event, m.data[0], 2);
        memcpy(value, m.data[0] + 2, 4);
    }
    gbt_msg_free(&m);
    return event;
}

static void expect_admitted(int pair, const char *name, int type)
{
    uint32_t value;
    peer_t p = curve_peer(type, pair, name);
    int ev = handshake(&p, &value);
    cr_assert_eq(ev, ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
                 "%s on %s: event 0x%x (value %u), want the handshake to succeed",
                 members[pair] ? members[pair] : "stranger", name, ev, value);
    gbt_close(p.mon);
    gbt_close(p.sock);
}

static void expect_refused(int pair, const char *name, int type)
{
    uint32_t value;
    peer_t p = curve_peer(type, pair, name);
    int ev = handshake(&p, &value);
    cr_assert_eq(ev, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH,
                 "%s on %s: event 0x%x (value %u), want FAILED_AUTH",
                 members[pair] ? members[pair] : "stranger", name, ev, value);
    cr_assert_eq(value, 400, "the ZAP status should be 400, not %u", value);
    gbt_close(p.mon); /* and the socket, which would retry every reconnect interval */
    gbt_close(p.sock);
}

/* A request-reply client over CURVE with pair's keys, its handshake done. */
static gbt_client_t *curve_client(int pair)
{
    peer_t p = curve_peer(ZMQ_DEALER, pair, "ingest");
    uint32_t value;
    cr_assert_eq(handshake(&p, &value), ZMQ_EVENT_HANDSHAKE_SUCCEEDED, "%s not admitted",
                 members[pair]);
    gbt_close(p.mon);
    gbt_client_t *c = calloc(1, sizeof *c);
    cr_assert_not_null(c);
    c->sock = p.sock;
    c->dec = wire_decoder_new();
    cr_assert_not_null(c->dec);
    return c;
}

static json_t *event_by(const char *id, const char *by)
{
    json_t *ev = gbt_event("repair.requested", id);
    json_object_set_new(ev, "by", json_string(by));
    return ev;
}

/* True when a line of the file at path matches the extended regular expression re. */
static bool file_matches(const char *path, const char *re)
{
    regex_t rx;
    char line[4096];
    bool found = false;
    cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0, "bad regex %s", re);
    FILE *f = fopen(path, "r");
    while (f && !found && fgets(line, sizeof line, f))
        found = regexec(&rx, line, 0, NULL, 0) == 0;
    if (f)
        fclose(f);
    regfree(&rx);
    return found;
}

static bool log_has(const char *re)
{
    return file_matches(gbd_log_path(d), re);
}

/* ---- the tests --------------------------------------------------------------------- */

Test(security, unknown_key_is_refused)
{
    expect_refused(STRANGER, "ingest", ZMQ_DEALER);
    cr_expect(log_has("connection refused\" domain=ingest .*reason=\"unknown key\""),
              "the refusal should be logged with its reason");
    /* The control: a known key on the same endpoint is admitted and answered. */
    gbt_client_t *c = curve_client(FIELD);
    const wire_reply_t *r = gbt_ping(c);
    cr_assert(r && r->op == WIRE_REPLY_PONG, "%s", gbt_show(c));
    gbt_client_free(&c);
}

Test(security, known_key_spoofing_another_member_is_refused)
{
    gbt_client_t *c = curve_client(FIELD);
    json_t *spoof = event_by("spoofed-1", "li.qiang"), *own = event_by("own-1", "chen.jing");
    const wire_reply_t *r = gbt_publish(c, spoof);
    cr_assert(r && gbt_is_nack(r, GB_E_FORBIDDEN), "chen.jing's key publishing as li.qiang: %s",
              gbt_show(c));
    r = gbt_publish(c, own);
    cr_assert(r && gbt_is_ack(r, "own-1"), "chen.jing's own event: %s", gbt_show(c));
    json_t *log = gbt_replay_all(c, 1);
    cr_assert_not_null(log, "%s", gbt_why());
    cr_expect_eq(gbt_find_record(log, "spoofed-1"), -1, "a spoofed event must not be stored");
    json_decref(log);
    json_decref(spoof);
    json_decref(own);
    gbt_client_free(&c);
}

Test(security, field_key_is_refused_on_the_alerts_feed)
{
    expect_refused(FIELD, "alerts", ZMQ_SUB);
    expect_refused(CONVENER, "alerts", ZMQ_SUB);
    /* The control: the same key is admitted to the tasks feed, and a supervisor to alerts. */
    expect_admitted(FIELD, "tasks", ZMQ_SUB);
    expect_admitted(COMMISSIONER, "alerts", ZMQ_SUB);
    cr_expect(log_has("domain=alerts .*reason=\"member chen.jing holds no supervision role\""));
}

Test(security, supervision_keys_are_accepted_on_the_alerts_feed)
{
    expect_admitted(COMMISSIONER, "alerts", ZMQ_SUB);
    expect_admitted(SECRETARY, "alerts", ZMQ_SUB);
    expect_admitted(COMMISSIONER, "ingest", ZMQ_DEALER);
}

Test(security, keys_are_reloaded_on_sighup)
{
    char line[128];
    expect_refused(STRANGER, "ingest", ZMQ_DEALER);
    snprintf(line, sizeof line, "%s zhao.lei\n", pairs[STRANGER].pub);
    write_keys(line);
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    expect_admitted(STRANGER, "ingest", ZMQ_DEALER);

    /* A broken file keeps the running keys, and the log names its line. */
    write_keys("not-a-key chen.jing\n");
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    expect_admitted(STRANGER, "ingest", ZMQ_DEALER);
    cr_expect(log_has("keys reload failed.*clients.keys:[0-9]+: 'not-a-key' is not"));

    /* A key taken out is refused from the next handshake on. */
    write_keys(NULL);
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    expect_refused(STRANGER, "ingest", ZMQ_DEALER);
}

Test(security, libgridbus_takes_a_key_file)
{
    char key_file[700], server_file[700], err[300];
    gridbus_keypair_t kp;
    snprintf(key_file, sizeof key_file, "%s/chen.jing.key", dir);
    snprintf(server_file, sizeof server_file, "%s/server.pub", gbd_state_dir(d));
    memcpy(kp.public_key, pairs[FIELD].pub, 41);
    memcpy(kp.secret_key, pairs[FIELD].sec, 41);
    cr_assert_eq(gridbus_keypair_save(&kp, key_file, NULL, err, sizeof err), 0, "%s", err);
    cr_assert_eq(gridbus_keypair_save(&kp, key_file, NULL, err, sizeof err), -1,
                 "an existing key file must not be replaced");

    gridbus_t *g = gridbus_new();
    cr_assert_not_null(g);
    gridbus_set_timeout(g, GBT_WAIT_MS); /* a hang guard: every request here is answered */
    gridbus_set_retries(g, 0);
    cr_assert_eq(gridbus_set_key_file(g, key_file, server_file), 0, "%s", gridbus_error(g));
    cr_assert_eq(gridbus_connect(g, gbd_endpoint(d, "ingest")), 0, "%s", gridbus_error(g));
    cr_assert_eq(gridbus_ping(g, NULL), 0, "%s: %s", gridbus_errcode(g), gridbus_error(g));

    msgpack_sbuffer sb;
    json_t *spoof = event_by("lib-spoofed", "li.qiang");
    jsonmp_pack_sbuffer(spoof, &sb);
    cr_assert_eq(gridbus_publish(g, sb.data, sb.size, NULL), -1);
    cr_assert_str_eq(gridbus_errcode(g), "E_FORBIDDEN", "%s", gridbus_error(g));
    msgpack_sbuffer_destroy(&sb);
    json_decref(spoof);

    /* A key pair whose halves do not belong together is refused before anything is sent. */
    cr_assert_eq(gridbus_set_curve(g, pairs[FIELD].pub, pairs[CONVENER].sec, server_pub), -1);
    cr_assert_str_eq(gridbus_errcode(g), "E_INVAL");
    gridbus_destroy(&g);
}

/* ---- the CLI ----------------------------------------------------------------------- */

/* Runs the gridbus CLI with args (NULL-terminated); its exit status, stdout in out. The
 * child's wait has a hang guard (a pidfd polled for GBT_WAIT_MS, then kill -9). */
static int run_cli(const char *const *args, char *out, size_t outlen)
{
    const char *bin = getenv("GRIDBUS") ? getenv("GRIDBUS") : "build/gridbus";
    char *argv[32] = {(char *)bin};
    for (size_t i = 0; args[i] && i < 30; i++)
        argv[i + 1] = (char *)args[i];
    FILE *o = tmpfile();
    cr_assert_not_null(o);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        dup2(fileno(o), 1);
        execv(bin, argv);
        _exit(127);
    }
    int fd = (int)syscall(SYS_pidfd_open, pid, 0), st;
    struct pollfd p = {fd, POLLIN, 0};
    if (fd >= 0 && poll(&p, 1, GBT_WAIT_MS) == 0)
        kill(pid, SIGKILL);
    if (fd >= 0)
        close(fd);
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    rewind(o);
    size_t n = fread(out, 1, outlen - 1, o);
    out[n] = '\0';
    fclose(o);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

Test(security, cli_keygen_and_key_file)
{
    char key[700], server[700], out[4096];
    snprintf(key, sizeof key, "%s/cli.key", dir);
    snprintf(server, sizeof server, "%s/server.pub", gbd_state_dir(d));
    const char *keygen[] = {"keygen", "--out", key, "--member", "chen.jing", NULL};
    cr_assert_eq(run_cli(keygen, out, sizeof out), 0);
    cr_assert(strlen(out) == 51 && strstr(out, " chen.jing\n"), "keygen printed '%s'", out);
    write_keys(out);
    cr_assert_neq(run_cli(keygen, out, sizeof out), 0, "keygen must not replace a key file");
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");

    const char *ep = gbd_endpoint(d, "ingest");
    const char *spoof[] = {"--endpoint",
                           ep,
                           "--key",
                           key,
                           "--server-key",
                           server,
                           "publish",
                           "repair.requested",
                           "--by",
                           "li.qiang",
                           "--grid",
                           "g1",
                           "household=c1-3-201",
                           "category=water",
                           "description=x",
                           NULL};
    cr_assert_eq(run_cli(spoof, out, sizeof out), 1, "a spoofed --by must be refused");
    const char *own[] = {"--endpoint",
                         ep,
                         "--key",
                         key,
                         "--server-key",
                         server,
                         "publish",
                         "repair.requested",
                         "--by",
                         "chen.jing",
                         "--grid",
                         "g1",
                         "household=c1-3-201",
                         "category=water",
                         "description=x",
                         NULL};
    cr_assert_eq(run_cli(own, out, sizeof out), 0, "chen.jing's own event should be acked");
    cr_assert_not_null(strstr(out, "\"dup\":false"), "%s", out);
}

/* ---- start-up refusals ------------------------------------------------------------- */

static void insecure_setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

TestSuite(insecure, .init = insecure_setup, .fini = remove_dir, .timeout = SUITE_TIMEOUT);

/* True when gridbusd started on state dir dir/sub with args; its log is left there. */
static bool starts(const char *sub, const char *const *args, char *log, size_t loglen)
{
    char state[700];
    snprintf(state, sizeof state, "%s/%s", dir, sub);
    snprintf(log, loglen, "%s/gridbusd.log", state);
    gbd_t *g = gbd_start(state, args);
    if (!g)
        return false;
    cr_expect_eq(gbd_stop(&g), 0);
    return true;
}

Test(insecure, non_loopback_endpoint_without_security_is_refused)
{
    char log[800];
    const char *args[] = {"--set", "endpoints.ingest=tcp://0.0.0.0:*", NULL};
    cr_assert(!starts("refused", args, log, sizeof log), "must not start on 0.0.0.0 unsecured");
    cr_expect(
        file_matches(log, "endpoints.ingest: 'tcp://0\\.0\\.0\\.0:\\*' is not a loopback address"),
        "the error should name the endpoint");
    /* The control: said explicitly, the same endpoint is served. */
    const char *allowed[] = {"--set", "endpoints.ingest=tcp://0.0.0.0:*", "--set",
                             "security.allow_insecure_remote=true", NULL};
    cr_assert(starts("allowed", allowed, log, sizeof log), "allow_insecure_remote should start");
}

Test(insecure, a_keys_file_with_an_error_stops_the_start)
{
    char keys[700], set[800], log[800], pub[41], sec[41];
    snprintf(keys, sizeof keys, "%s/bad.keys", dir);
    snprintf(set, sizeof set, "security.keys=%s", keys);
    cr_assert_eq(zmq_curve_keypair(pub, sec), 0);
    FILE *f = fopen(keys, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "# one good line, then a member the directory does not know\n%s chen.jing\n"
            "%s no.such.member\n",
            pub, sec);
    cr_assert_eq(fclose(f), 0);
    const char *args[] = {"--set", "security.enabled=true", "--set", set, NULL};
    cr_assert(!starts("badkeys", args, log, sizeof log), "must not start with a bad keys file");
    cr_expect(file_matches(log, "bad.keys:3: member 'no.such.member' is not in the directory"));
    /* The control: the good line alone starts. */
    f = fopen(keys, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s chen.jing\n", pub);
    cr_assert_eq(fclose(f), 0);
    cr_assert(starts("goodkeys", args, log, sizeof log), "a good keys file should start");
}
