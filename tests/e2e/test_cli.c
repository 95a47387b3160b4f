/*
 * test_cli: the gridbus CLI and libgridbus against a real gridbusd, end to end.
 *
 * The CLI is run as a separate process ($GRIDBUS, default build/gridbus) exactly as a user
 * would run it: arguments, stdin, and then stdout, stderr and the exit status are what is
 * checked. Its stdin and outputs go through temp files rather than pipes, so a test cannot
 * deadlock on a full pipe; every CLI run has a hang guard (a pidfd polled with a timeout,
 * then kill -9; see tests/lib/runcli.h). The library tests link libgridbus directly. Each test
 * starts its own daemon on free loopback ports with a fresh state dir.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gbtest.h"
#include "gridbus.h"
#include "harness.h"
#include "runcli.h"

static gbd_t *d;

static void setup(void)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
}

static void teardown(void)
{
    if (d)
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
}

/* One timeout for every suite: Criterion 2.4.1's runner leaks (and LeakSanitizer fails
 * the binary) when suites in one binary have different .timeout values. */
#define SUITE_TIMEOUT 120
TestSuite(cli, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT);
TestSuite(lib, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT);
TestSuite(nodaemon, .timeout = SUITE_TIMEOUT);

/* ---- running the CLI --------------------------------------------------------------- */

/* Runs gridbus with stdin (may be NULL) and argv (NULL-terminated, without argv[0]). */
static run_t run_cli_v(const char *stdin_text, const char *const *args)
{
    run_t r;
    cr_assert_eq(
        runcli(&r, stdin_text, runcli_bin("GRIDBUS", "build/gridbus"), NULL, args, RUNCLI_WAIT_MS),
        0, "gridbus: %s", runcli_why());
    return r;
}

#define run_cli(stdin_text, ...) run_cli_v(stdin_text, (const char *const[]){__VA_ARGS__, NULL})

static const char *ingest(void)
{
    return gbd_endpoint(d, "ingest");
}

/* Parses one JSON line. */
static json_t *json_line(const char *s, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(s, len, 0, &e);
    cr_assert_not_null(j, "not JSON: %.*s (%s)", (int)len, s, e.text);
    return j;
}

/* The lines of text as a JSON array of parsed values. */
static json_t *json_lines(const char *text)
{
    json_t *arr = json_array();
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        json_array_append_new(arr, json_line(p, len));
        p += len + (nl != NULL);
    }
    return arr;
}

static json_int_t ack_seq(const json_t *ack)
{
    json_t *seq = json_object_get(ack, "seq");
    cr_assert(json_is_integer(seq), "no seq in %s", json_dumps(ack, JSON_COMPACT));
    return json_integer_value(seq);
}

static const char *error_code(const json_t *result)
{
    return json_string_value(json_object_get(json_object_get(result, "error"), "code"));
}

/* ---- the CLI ----------------------------------------------------------------------- */

/* One event of each field type, written as a user would, key=value by key=value. */
static const char *const *field_args[] = {
    (const char *const[]){"visit.logged", "--grid", "g1", "--place", "Building 3",
                          "household=3-2-401", "summary=weekly visit",
                          "concerns=stairwell light, leaking roof", "needs_followup=true", NULL},
    (const char *const[]){"repair.requested", "--grid", "g2", "household=1-1-101", "category=water",
                          "urgency=high", "description=kitchen pipe leaks", "fee_waived=yes", NULL},
    (const char *const[]){"patrol.issue_found", "--grid", "g3", "category=fire_hazard",
                          "severity=high", "description=bikes block the fire exit", NULL},
    (const char *const[]){"ledger.entry_submitted", "entry=L-2026-0042", "direction=expense",
                          "amount_fen=12000", "category=repairs",
                          "counterparty=Daidong hardware shop", "due=1795737600000", NULL},
};

/* `gridbus --endpoint E publish ARGS... --by li.qiang [--id ID --at GBT_AT]`: with an id,
 * the time is fixed too, so that running it again is the same event (a dup, not a
 * conflict). */
static run_t publish_cli(const char *const *args, const char *id)
{
    const char *argv[40] = {"--endpoint", ingest(), "publish"};
    char at[24];
    snprintf(at, sizeof at, "%lld", (long long)GBT_AT);
    size_t n = 3;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n++] = "--by";
    argv[n++] = "li.qiang";
    if (id) {
        argv[n++] = "--id";
        argv[n++] = id;
        argv[n++] = "--at";
        argv[n++] = at;
    }
    argv[n] = NULL;
    return run_cli_v(NULL, argv);
}

Test(cli, publishes_each_field_type)
{
    json_int_t last = 0;
    for (int i = 0; i < 4; i++) {
        char id[32];
        snprintf(id, sizeof id, "cli-field-%d", i);
        run_t r = publish_cli(field_args[i], id);
        cr_assert_eq(r.status, 0, "%s: exit %d, stderr: %s", field_args[i][0], r.status, r.err);
        json_t *ack = json_line(r.out, strlen(r.out));
        cr_expect_str_eq(json_string_value(json_object_get(ack, "id")), id);
        cr_expect_eq(json_object_get(ack, "dup"), json_false());
        cr_expect_gt(ack_seq(ack), last);
        last = ack_seq(ack);
        cr_expect_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "one line: %s", r.out);
        json_decref(ack);
        run_free(&r);
    }
}

Test(cli, makes_an_id_when_none_is_given)
{
    run_t r = publish_cli(field_args[2], NULL);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    json_t *ack = json_line(r.out, strlen(r.out));
    int64_t ms;
    cr_expect_eq(gridbus_id_time(json_string_value(json_object_get(ack, "id")), &ms), 0,
                 "a generated id: %s", r.out);
    json_decref(ack);
    run_free(&r);
}

Test(cli, unknown_member_is_refused_with_exit_1)
{
    run_t r = run_cli(NULL, "--endpoint", ingest(), "publish", "patrol.issue_found", "--by",
                      "no.such.person", "--grid", "g1", "category=traffic", "severity=low",
                      "description=a car on the pavement");
    cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
    cr_expect(strstr(r.err, "gridbus: E_MEMBER: ") == r.err, "stderr: %s", r.err);
    cr_expect(strstr(r.err, "no.such.person") != NULL, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, "");
    run_free(&r);
}

Test(cli, bad_value_is_refused_before_sending)
{
    run_t r = run_cli(NULL, "--endpoint", ingest(), "publish", "ledger.entry_submitted", "--by",
                      "li.qiang", "entry=e1", "direction=income", "amount_fen=abc", "category=fees",
                      "counterparty=x");
    cr_expect_eq(r.status, 1);
    cr_expect_str_eq(r.err, "gridbus: E_SCHEMA: body.amount_fen: not an integer: 'abc'\n");
    run_free(&r);
}

Test(cli, resending_an_id_acks_dup_with_the_same_seq)
{
    run_t a = publish_cli(field_args[0], "cli-dup-1");
    run_t b = publish_cli(field_args[0], "cli-dup-1");
    cr_assert_eq(a.status, 0, "%s", a.err);
    cr_assert_eq(b.status, 0, "%s", b.err);
    json_t *first = json_line(a.out, strlen(a.out)), *again = json_line(b.out, strlen(b.out));
    cr_expect_eq(json_object_get(first, "dup"), json_false());
    cr_expect_eq(json_object_get(again, "dup"), json_true(), "second ack: %s", b.out);
    cr_expect_eq(ack_seq(first), ack_seq(again));
    json_decref(first);
    json_decref(again);
    run_free(&a);
    run_free(&b);
}

/* Appends ev (stolen) as one JSON line to text. */
static void add_line(char **text, size_t *len, json_t *ev)
{
    char *s = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
    cr_assert_not_null(s);
    size_t n = strlen(s);
    *text = realloc(*text, *len + n + 2);
    memcpy(*text + *len, s, n);
    (*text)[*len + n] = '\n';
    *len += n + 1;
    (*text)[*len] = '\0';
    free(s);
    json_decref(ev);
}

static char *mixed_input(void)
{
    char *text = NULL;
    size_t len = 0;
    json_t *bad_member = gbt_event("visit.logged", "json-2");
    json_object_set_new(bad_member, "by", json_string("no.such.person"));
    json_t *no_body_field = gbt_event("repair.requested", "json-4");
    json_object_del(json_object_get(no_body_field, "body"), "description");
    json_t *no_id = gbt_event("patrol.issue_found", "x");
    json_object_del(no_id, "id");
    json_object_del(no_id, "at");
    json_object_del(no_id, "v");
    add_line(&text, &len, gbt_event("visit.logged", "json-1"));
    add_line(&text, &len, bad_member);
    add_line(&text, &len, json_string("not an object"));
    add_line(&text, &len, no_body_field);
    add_line(&text, &len, no_id);
    text = realloc(text, len + 32);
    strcat(text, "\n{broken json\n");
    return text;
}

Test(cli, json_lines_give_one_result_per_input_in_order)
{
    char *input = mixed_input();
    run_t r = run_cli(input, "--endpoint", ingest(), "publish", "--json");
    cr_expect_eq(r.status, 1, "some lines were refused: exit %d, stderr %s", r.status, r.err);
    json_t *res = json_lines(r.out);
    cr_assert_eq(json_array_size(res), 6, "stdout:\n%s", r.out);
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(res, 0), "id")), "json-1");
    cr_expect_gt(ack_seq(json_array_get(res, 0)), 0);
    cr_expect_str_eq(error_code(json_array_get(res, 1)), "E_MEMBER");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(res, 1), "id")), "json-2");
    cr_expect_str_eq(error_code(json_array_get(res, 2)), "E_DECODE");
    cr_expect_str_eq(error_code(json_array_get(res, 3)), "E_SCHEMA");
    const char *msg = json_string_value(
        json_object_get(json_object_get(json_array_get(res, 3), "error"), "message"));
    cr_expect(msg && strstr(msg, "body.description"), "message: %s", msg);
    cr_expect_gt(ack_seq(json_array_get(res, 4)), ack_seq(json_array_get(res, 0)),
                 "an event without id, v and at is completed and acked");
    cr_expect_str_eq(error_code(json_array_get(res, 5)), "E_DECODE");
    cr_expect(strstr(r.err, "line 2: E_MEMBER") != NULL, "stderr: %s", r.err);
    json_decref(res);
    run_free(&r);
    free(input);
}

Test(cli, json_lines_all_good_exit_0)
{
    char *text = NULL;
    size_t len = 0;
    for (int i = 0; i < 300; i++) {
        char id[32];
        snprintf(id, sizeof id, "many-%03d", i);
        add_line(&text, &len, gbt_event(gbt_types[i % 4], id));
    }
    run_t r = run_cli(text, "--endpoint", ingest(), "publish", "--json", "--window", "64");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    json_t *res = json_lines(r.out);
    cr_assert_eq(json_array_size(res), 300);
    for (int i = 0; i < 300; i++) {
        char id[32];
        snprintf(id, sizeof id, "many-%03d", i);
        cr_assert_str_eq(json_string_value(json_object_get(json_array_get(res, i), "id")), id);
    }
    json_decref(res);
    run_free(&r);
    free(text);
}

Test(cli, ping_prints_the_pong)
{
    run_t p = publish_cli(field_args[1], "ping-1");
    cr_assert_eq(p.status, 0, "%s", p.err);
    run_t r = run_cli(NULL, "--endpoint", ingest(), "ping");
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    json_t *pong = json_line(r.out, strlen(r.out));
    cr_expect_str_eq(json_string_value(json_object_get(pong, "op")), "pong");
    cr_expect(json_is_string(json_object_get(pong, "version")), "%s", r.out);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(pong, "heads"), "events")), 1,
                 "%s", r.out);
    cr_expect_null(json_object_get(pong, "rid"));
    json_decref(pong);
    run_free(&p);
    run_free(&r);
}

Test(cli, endpoint_comes_from_the_environment)
{
    setenv("GRIDBUS_ENDPOINT", ingest(), 1);
    run_t r = run_cli(NULL, "ping");
    unsetenv("GRIDBUS_ENDPOINT");
    cr_expect_eq(r.status, 0, "stderr: %s", r.err);
    run_free(&r);
}

Test(cli, replay_prints_the_records)
{
    for (int i = 0; i < 3; i++) {
        char id[32];
        snprintf(id, sizeof id, "replay-%d", i);
        run_t p = publish_cli(field_args[i], id);
        cr_assert_eq(p.status, 0, "%s", p.err);
        run_free(&p);
    }
    run_t r = run_cli(NULL, "--endpoint", ingest(), "replay", "events", "--from", "2");
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    json_t *recs = json_lines(r.out);
    cr_assert_eq(json_array_size(recs), 2, "%s", r.out);
    json_t *ev = json_object_get(json_array_get(recs, 1), "event");
    cr_expect_str_eq(json_string_value(json_object_get(ev, "id")), "replay-2");
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(recs, 0), "seq")), 2);
    json_decref(recs);
    run_free(&r);
    r = run_cli(NULL, "--endpoint", ingest(), "replay", "events", "--limit", "1");
    cr_expect_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "one record: %s", r.out);
    run_free(&r);
}

/* ---- the CLI without a daemon ------------------------------------------------------ */

/* A loopback TCP port nothing listens on: bound, then closed. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static const char *dead_endpoint(void)
{
    static char ep[64];
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", free_port());
    return ep;
}

Test(nodaemon, help_version_and_usage_errors)
{
    run_t r = run_cli(NULL, "--version");
    cr_expect_eq(r.status, 0);
    cr_expect(strncmp(r.out, "gridbus ", 8) == 0, "%s", r.out);
    run_free(&r);
    r = run_cli(NULL, "--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "usage: gridbus") != NULL);
    run_free(&r);
    r = run_cli(NULL, "publish", "--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "ledger.entry_submitted") != NULL, "types are listed");
    run_free(&r);
    r = run_cli(NULL, "frobnicate");
    cr_expect_eq(r.status, 2);
    run_free(&r);
    r = run_cli(NULL, "publish", "visit.logged", "household=1");
    cr_expect_eq(r.status, 2, "--by is required");
    run_free(&r);
    r = run_cli(NULL, "--timeout", "soon", "ping");
    cr_expect_eq(r.status, 2);
    run_free(&r);
}

Test(nodaemon, cli_times_out_with_exit_3)
{
    run_t r =
        run_cli(NULL, "--endpoint", dead_endpoint(), "--timeout", "100", "--retries", "1", "ping");
    cr_expect_eq(r.status, 3, "stderr: %s", r.err);
    cr_expect(strstr(r.err, "gridbus: E_TIMEOUT: ") == r.err, "stderr: %s", r.err);
    run_free(&r);
}

/* ---- the library ------------------------------------------------------------------- */

static gridbus_t *lib_client(const char *endpoint)
{
    gridbus_t *c = gridbus_new();
    cr_assert_not_null(c);
    cr_assert_eq(gridbus_connect(c, endpoint), 0, "%s", gridbus_error(c));
    return c;
}

/* Packs JSON event ev (stolen) into sb. */
static void pack_event(json_t *ev, msgpack_sbuffer *sb)
{
    jsonmp_pack_sbuffer(ev, sb);
    json_decref(ev);
}

typedef struct {
    int acked, failed, dups;
    uint64_t max_seq;
    char first_failure[256];
} tally_t;

static void count(const gridbus_result_t *r, void *arg)
{
    tally_t *t = arg;
    if (r->status != GRIDBUS_OK) {
        if (!t->failed++)
            snprintf(t->first_failure, sizeof t->first_failure, "%s: %s: %s", r->id, r->code,
                     r->message);
        return;
    }
    t->acked++;
    t->dups += r->dup;
    if (r->seq > t->max_seq)
        t->max_seq = r->seq;
}

Test(lib, pipelined_publish_completes_every_event)
{
    gridbus_t *c = lib_client(ingest());
    tally_t t = {0};
    for (int i = 0; i < 1000; i++) {
        char id[32];
        msgpack_sbuffer sb;
        snprintf(id, sizeof id, "pipe-%04d", i);
        pack_event(gbt_event(gbt_types[i % 4], id), &sb);
        cr_assert_eq(gridbus_send(c, sb.data, sb.size, count, &t), 0, "%s", gridbus_error(c));
        msgpack_sbuffer_destroy(&sb);
    }
    cr_expect_eq(gridbus_flush(c), 0, "%s", gridbus_error(c));
    cr_expect_eq(gridbus_pending(c), 0);
    cr_expect_eq(t.acked, 1000, "acked %d, failed %d (first: %s)", t.acked, t.failed,
                 t.first_failure);
    cr_expect_eq(t.dups, 0);
    cr_expect_eq(t.max_seq, 1000);
    gridbus_pong_t pong;
    cr_assert_eq(gridbus_ping(c, &pong), 0, "%s", gridbus_error(c));
    cr_expect_eq(pong.events_head, 1000);
    gridbus_destroy(&c);
}

Test(lib, pipelined_nacks_are_completed_per_id)
{
    gridbus_t *c = lib_client(ingest());
    cr_assert_eq(gridbus_set_window(c, 8), 0);
    tally_t t = {0};
    for (int i = 0; i < 40; i++) {
        char id[32];
        msgpack_sbuffer sb;
        snprintf(id, sizeof id, "mixed-%02d", i);
        json_t *ev = gbt_event("visit.logged", id);
        if (i % 5 == 0)
            json_object_set_new(ev, "grid", json_string("no-such-grid"));
        pack_event(ev, &sb);
        cr_assert_eq(gridbus_send(c, sb.data, sb.size, count, &t), 0, "%s", gridbus_error(c));
        msgpack_sbuffer_destroy(&sb);
    }
    cr_expect_eq(gridbus_flush(c), -1, "some were refused");
    cr_expect_eq(t.acked, 32);
    cr_expect_eq(t.failed, 8, "first failure: %s", t.first_failure);
    cr_expect(strstr(t.first_failure, "mixed-00: E_GRID") == t.first_failure, "%s",
              t.first_failure);
    gridbus_destroy(&c);
}

Test(lib, same_id_in_one_pipeline_acks_in_order)
{
    gridbus_t *c = lib_client(ingest());
    tally_t t = {0};
    msgpack_sbuffer sb;
    pack_event(gbt_event("visit.logged", "same-id"), &sb);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(gridbus_send(c, sb.data, sb.size, count, &t), 0, "%s", gridbus_error(c));
    msgpack_sbuffer_destroy(&sb);
    cr_expect_eq(gridbus_flush(c), 0, "%s", gridbus_error(c));
    cr_expect_eq(t.acked, 3);
    cr_expect_eq(t.dups, 2, "the 2nd and 3rd are dups of the 1st");
    gridbus_destroy(&c);
}

Test(lib, blocking_publish_with_the_builder)
{
    gridbus_t *c = lib_client(ingest());
    gridbus_event_t *ev = gridbus_event_new();
    const void *data;
    size_t len;
    gridbus_ack_t ack;
    cr_assert_eq(gridbus_event_set_type(ev, "patrol.issue_found"), 0);
    gridbus_event_set_by(ev, "li.qiang");
    gridbus_event_set_grid(ev, "g1");
    cr_assert_eq(gridbus_event_set_kv(ev, "category=sanitation"), 0);
    cr_assert_eq(gridbus_event_set_kv(ev, "severity=medium"), 0);
    cr_assert_eq(gridbus_event_set_kv(ev, "description=rubbish by the gate"), 0);
    cr_assert_eq(gridbus_event_pack(ev, &data, &len), 0, "%s", gridbus_event_error(ev));
    cr_assert_eq(gridbus_publish(c, data, len, &ack), 0, "%s", gridbus_error(c));
    cr_expect_str_eq(ack.id, gridbus_event_id(ev));
    cr_expect_eq(ack.seq, 1);
    cr_expect_not(ack.dup);
    gridbus_event_set_by(ev, "nobody.here");
    gridbus_event_set_id(ev, "builder-2");
    cr_assert_eq(gridbus_event_pack(ev, &data, &len), 0);
    cr_expect_eq(gridbus_publish(c, data, len, &ack), -1);
    cr_expect_eq(gridbus_status(c), GRIDBUS_ENACK);
    cr_expect_str_eq(gridbus_errcode(c), "E_MEMBER");
    cr_expect(strstr(gridbus_error(c), "nobody.here") != NULL, "%s", gridbus_error(c));
    gridbus_event_destroy(&ev);
    gridbus_destroy(&c);
}

/* A replayed record: counts it and keeps the highest seq. */
static void count_record(const void *rec, size_t len, void *arg)
{
    tally_t *t = arg;
    wire_decoder_t *dec = wire_decoder_new();
    const msgpack_object *obj;
    gb_error_t err;
    uint64_t seq = 0;
    cr_assert_eq(wire_decode_object(dec, rec, len, &obj, &err), 0, "%s", err.msg);
    cr_expect_eq(wire_get_u64(obj, "seq", &seq), 0);
    t->acked++;
    if (seq > t->max_seq)
        t->max_seq = seq;
    wire_decoder_destroy(&dec);
}

Test(lib, replay_pages_through_the_log)
{
    gridbus_t *c = lib_client(ingest());
    for (int i = 0; i < 5; i++) {
        char id[32];
        msgpack_sbuffer sb;
        snprintf(id, sizeof id, "rp-%d", i);
        pack_event(gbt_event("visit.logged", id), &sb);
        cr_assert_eq(gridbus_publish(c, sb.data, sb.size, NULL), 0, "%s", gridbus_error(c));
        msgpack_sbuffer_destroy(&sb);
    }
    tally_t t = {0};
    uint64_t next = 0, head = 0;
    int pages = 0;
    for (uint64_t from = 1; from <= 5; from = next, pages++)
        cr_assert_eq(gridbus_replay(c, "events", from, 2, NULL, count_record, &t, &next, &head), 0,
                     "%s", gridbus_error(c));
    cr_expect_eq(pages, 3);
    cr_expect_eq(t.acked, 5);
    cr_expect_eq(t.max_seq, 5);
    cr_expect_eq(head, 5);
    gridbus_destroy(&c);
}

/* A publish sent while the daemon is down is delivered once it is back: ZeroMQ reconnects
 * and the client re-sends on timeout. The daemon must come back on the same port. */
Test(lib, survives_a_daemon_restart)
{
    char set[80];
    snprintf(set, sizeof set, "endpoints.ingest=tcp://127.0.0.1:%d", free_port());
    const char *extra[] = {"--set", set, NULL};
    cr_assert_eq(gbd_stop(&d), 0);
    d = gbd_start(NULL, extra);
    cr_assert_not_null(d);
    gridbus_t *c = lib_client(ingest());
    gridbus_set_timeout(c, 500);
    gridbus_set_retries(c, 20);
    msgpack_sbuffer sb;
    pack_event(gbt_event("visit.logged", "before-crash"), &sb);
    cr_assert_eq(gridbus_publish(c, sb.data, sb.size, NULL), 0, "%s", gridbus_error(c));
    msgpack_sbuffer_destroy(&sb);
    gbd_kill9(d);
    tally_t t = {0};
    pack_event(gbt_event("visit.logged", "after-crash"), &sb);
    cr_assert_eq(gridbus_send(c, sb.data, sb.size, count, &t), 0, "%s", gridbus_error(c));
    msgpack_sbuffer_destroy(&sb);
    cr_assert_eq(gbd_restart(d), 0);
    cr_expect_eq(gridbus_flush(c), 0, "%s", gridbus_error(c));
    cr_expect_eq(t.acked, 1, "%s", t.first_failure);
    cr_expect_eq(t.max_seq, 2);
    gridbus_destroy(&c);
}

Test(nodaemon, library_times_out_when_nothing_listens)
{
    gridbus_t *c = lib_client(dead_endpoint());
    gridbus_set_timeout(c, 100);
    gridbus_set_retries(c, 2);
    cr_expect_eq(gridbus_ping(c, NULL), -1);
    cr_expect_eq(gridbus_status(c), GRIDBUS_ETIMEOUT);
    cr_expect_str_eq(gridbus_errcode(c), "E_TIMEOUT");
    msgpack_sbuffer sb;
    pack_event(gbt_event("visit.logged", "nobody-home"), &sb);
    cr_expect_eq(gridbus_publish(c, sb.data, sb.size, NULL), -1);
    cr_expect_eq(gridbus_status(c), GRIDBUS_ETIMEOUT);
    cr_expect(strstr(gridbus_error(c), "3 attempts") != NULL, "%s", gridbus_error(c));
    msgpack_sbuffer_destroy(&sb);
    cr_expect_eq(gridbus_pending(c), 0);
    gridbus_destroy(&c);
}
