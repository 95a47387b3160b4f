/*
 * test_signals: a real gridbusd stopped by SIGTERM or SIGINT exits with status 0, and
 * after a restart on the same state dir every event it acked is in the log with its seq,
 * resends are still dups, and new events get higher seqs.
 *
 * The in-flight variant stops the daemon while a pipelined publisher has requests
 * outstanding: only what we saw acked is promised, so the check covers exactly that.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"

static gbd_t *d;
static void *ctx;

static void setup(void)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    ctx = zmq_ctx_new();
}

static void teardown(void)
{
    gbt_close_all();
    if (ctx)
        zmq_ctx_term(ctx);
    if (d && gbd_pid(d))
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
    gbd_free(&d);
}

TestSuite(signals, .init = setup, .fini = teardown, .timeout = 180);

static gbt_client_t *client(void)
{
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    return c;
}

/* Publishes n events of all field types, one at a time, recording the acks. */
static void publish_some(gbt_client_t *c, json_t *acked, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char id[48];
        snprintf(id, sizeof id, "%s-%03d", prefix, i);
        json_t *ev = gbt_event(gbt_types[i % 4], id);
        cr_assert_eq(gbt_publish_acked(c, acked, ev), 0, "%s", gbt_why());
        json_decref(ev);
    }
}

/* After a restart: the log holds every acked event, resends are dups with the old seq, and
 * a new event gets a seq above all of them. */
static void check_after_restart(json_t *acked, int64_t head_before, bool exact)
{
    gbt_client_t *c = client();
    json_t *log = gbt_replay_all(c, 0);
    cr_assert_not_null(log, "replay: %s", gbt_why());
    cr_assert_eq(gbt_check_log(acked, log), 0, "after restart: %s", gbt_why());
    if (exact)
        cr_assert_eq(json_array_size(log), json_object_size(acked),
                     "the log holds %zu events, %zu were acked", json_array_size(log),
                     json_object_size(acked));
    int64_t head = gbt_head(c);
    if (head_before >= 0)
        cr_assert_eq(head, head_before, "head %lld after restart, %lld before", (long long)head,
                     (long long)head_before);
    const char *id;
    json_t *a;
    int resent = 0;
    json_object_foreach(acked, id, a)
    {
        if (resent++ == 10)
            break;
        const wire_reply_t *r = gbt_publish(c, json_object_get(a, "event"));
        cr_assert(gbt_is_ack(r, id) && r->dup, "resend of %s: want ack dup:true, got %s", id,
                  gbt_show(c));
        cr_assert_eq((json_int_t)r->seq, json_integer_value(json_object_get(a, "seq")),
                     "resend of %s after restart got another seq", id);
    }
    json_t *ev = gbt_event("visit.logged", "after-restart");
    cr_assert_eq(gbt_publish_acked(c, acked, ev), 0, "%s", gbt_why());
    cr_assert_gt((int64_t)c->rep.seq, head, "a new event got seq %" PRIu64 " <= head %lld",
                 c->rep.seq, (long long)head);
    json_decref(ev);
    json_decref(log);
    gbt_client_free(&c);
}

static void stop_restart_check(int sig)
{
    json_t *acked = gbt_acked_new();
    gbt_client_t *c = client();
    publish_some(c, acked, strsignal(sig), 40);
    int64_t head = gbt_head(c);
    gbt_client_free(&c);
    cr_assert_eq(gbd_signal(d, sig), 0, "gridbusd did not exit with 0 on %s", strsignal(sig));
    cr_assert_eq(gbd_pid(d), 0);
    cr_assert_eq(gbd_restart(d), 0, "gridbusd did not restart on its state dir");
    check_after_restart(acked, head, true);
    json_decref(acked);
}

Test(signals, sigterm_keeps_every_acked_event)
{
    stop_restart_check(SIGTERM);
}

Test(signals, sigint_keeps_every_acked_event)
{
    stop_restart_check(SIGINT);
}

Test(signals, two_stops_in_a_row)
{
    json_t *acked = gbt_acked_new();
    for (int round = 0; round < 3; round++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "round%d", round);
        gbt_client_t *c = client();
        publish_some(c, acked, prefix, 15);
        gbt_client_free(&c);
        cr_assert_eq(gbd_signal(d, round % 2 ? SIGINT : SIGTERM), 0, "round %d: bad exit", round);
        cr_assert_eq(gbd_restart(d), 0, "round %d: no restart", round);
    }
    check_after_restart(acked, -1, true);
    json_decref(acked);
}

/* One DEALER keeps `window` publishes outstanding; reads one reply and records it. */
static void read_ack(void *sock, wire_decoder_t *dec, json_t *acked, json_t *sent, int flags,
                     bool *got)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    *got = zmq_msg_recv(&m, sock, flags) >= 0;
    if (*got) {
        wire_reply_t r;
        gb_error_t err;
        cr_assert_eq(wire_decode_reply(dec, zmq_msg_data(&m), zmq_msg_size(&m), &r, &err), 0, "%s",
                     err.msg);
        /* E_BUSY (back-pressure, or a daemon on its way out) promises nothing: not acked */
        if (r.op == WIRE_REPLY_NACK && r.code == GB_E_BUSY) {
            zmq_msg_close(&m);
            return;
        }
        cr_assert(r.op == WIRE_REPLY_ACK && r.rid, "want an ack, got op %d code %s", (int)r.op,
                  gb_code_name(r.code));
        json_t *ev = json_array_get(sent, (size_t)r.rid->via.u64);
        const char *id = json_string_value(json_object_get(ev, "id"));
        cr_assert(gbt_str_is(r.id, id), "ack for rid %" PRIu64 " names another id", r.rid->via.u64);
        cr_assert_eq(gbt_acked_add(acked, id, r.seq, ev), 0, "%s", gbt_why());
    }
    zmq_msg_close(&m);
}

static void send_publish(void *sock, json_t *sent, const char *prefix)
{
    char id[48];
    size_t n = json_array_size(sent);
    snprintf(id, sizeof id, "%s-%05zu", prefix, n);
    json_t *ev = gbt_event(gbt_types[n % 4], id);
    msgpack_sbuffer req;
    gbt_pack_publish(&req, n, ev); /* rid = index in sent */
    cr_assert_eq(zmq_send(sock, req.data, req.size, 0), (int)req.size);
    json_array_append_new(sent, ev);
    msgpack_sbuffer_destroy(&req);
}

static void stop_while_publishing(int sig)
{
    json_t *acked = gbt_acked_new(), *sent = json_array();
    void *sock = gbt_connect(ctx, ZMQ_DEALER, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(sock, "%s", gbt_why());
    wire_decoder_t *dec = wire_decoder_new();
    bool got;
    for (int i = 0; i < 64; i++)
        send_publish(sock, sent, "inflight");
    while (json_object_size(acked) < 300) {
        read_ack(sock, dec, acked, sent, 0, &got);
        cr_assert(got, "no ack within the hang guard after %zu", json_object_size(acked));
        send_publish(sock, sent, "inflight");
    }
    cr_assert_eq(gbd_signal(d, sig), 0, "gridbusd did not exit with 0 on %s while publishing",
                 strsignal(sig));
    /* acks that already reached us count too; unread ones are simply not promised */
    do
        read_ack(sock, dec, acked, sent, ZMQ_DONTWAIT, &got);
    while (got);
    gbt_close(sock);
    cr_assert_eq(gbd_restart(d), 0, "gridbusd did not restart on its state dir");
    check_after_restart(acked, -1, false);
    wire_decoder_destroy(&dec);
    json_decref(sent);
    json_decref(acked);
}

Test(signals, sigterm_while_publishing)
{
    stop_while_publishing(SIGTERM);
}

Test(signals, sigint_while_publishing)
{
    stop_while_publishing(SIGINT);
}
