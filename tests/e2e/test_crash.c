/*
 * test_crash: kill -9 a real gridbusd in the middle of a pipelined publishing load,
 * restart it on the same state dir, and check that nothing it acked was lost — the
 * durability promise of the wire contract ("acked means committed to disk").
 *
 * Several DEALERs keep a window of publishes outstanding each; every ack is recorded
 * (id -> seq) as it arrives. The kill comes when a set number of acks has been seen, so
 * the point is decided by count, never by time. After each restart the whole log is
 * replayed: every acked id is there exactly once with its acked seq and content, no id
 * appears twice, every record is an event we sent, and resends of acked ids are dups
 * with the old seq. The cycle repeats; the test is bounded in count and stops by itself.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"

#define PUBLISHERS 4
#define WINDOW 32       /* publishes outstanding per DEALER */
#define KILL_AFTER 2000 /* acks seen in a cycle before kill -9 */
#define CYCLES 4
#define RESENDS 25 /* acked ids resent after each restart */

static gbd_t *d;
static void *ctx;
static json_t *acked; /* id -> {seq, event}: every ack seen */
static json_t *sent;  /* every event sent; its index is the request's rid */
static wire_decoder_t *dec;

static void setup(void)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    ctx = zmq_ctx_new();
    acked = gbt_acked_new();
    sent = json_array();
    dec = wire_decoder_new();
}

static void teardown(void)
{
    gbt_close_all();
    if (ctx)
        zmq_ctx_term(ctx);
    if (d && gbd_pid(d))
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
    gbd_free(&d);
    wire_decoder_destroy(&dec);
    json_decref(acked);
    json_decref(sent);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

/* Sends event n of sent, with rid n. */
static void send_event(void *sock, size_t n)
{
    msgpack_sbuffer req;
    gbt_pack_publish(&req, n, json_array_get(sent, n));
    cr_assert_eq(zmq_send(sock, req.data, req.size, 0), (int)req.size, "send: %s",
                 zmq_strerror(zmq_errno()));
    msgpack_sbuffer_destroy(&req);
}

/* Makes up the next event and sends it. */
static void send_next(void *sock)
{
    char id[48];
    size_t n = json_array_size(sent);
    snprintf(id, sizeof id, "crash-%06zu", n);
    json_t *ev = gbt_event(gbt_types[n % 4], id);
    const char *text = n % 4 == 0 ? "summary" : n % 4 == 3 ? "counterparty" : "description";
    json_object_set_new(json_object_get(ev, "body"), text, json_sprintf("load event %zu", n));
    json_array_append_new(sent, ev);
    send_event(sock, n);
}

/* Reads every reply waiting on sock, records the acks; returns how many were read. */
static int drain_acks(void *sock)
{
    int n = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0) {
        wire_reply_t r;
        gb_error_t err;
        cr_assert_eq(wire_decode_reply(dec, zmq_msg_data(&m), zmq_msg_size(&m), &r, &err), 0,
                     "reply does not decode: %s", err.msg);
        cr_assert(r.rid && r.rid->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                      r.rid->via.u64 < json_array_size(sent),
                  "a reply with a rid we never sent");
        if (r.op == WIRE_REPLY_NACK && r.code == GB_E_BUSY) { /* back-pressure: retry */
            send_event(sock, (size_t)r.rid->via.u64);
            continue;
        }
        cr_assert(r.op == WIRE_REPLY_ACK && !r.dup, "want a fresh ack, got op %d code %s",
                  (int)r.op, gb_code_name(r.code));
        json_t *ev = json_array_get(sent, (size_t)r.rid->via.u64);
        const char *id = json_string_value(json_object_get(ev, "id"));
        cr_assert(gbt_str_is(r.id, id), "the ack for rid %" PRIu64 " names another id",
                  r.rid->via.u64);
        cr_assert_eq(gbt_acked_add(acked, id, r.seq, ev), 0, "%s", gbt_why());
        n++;
    }
    zmq_msg_close(&m);
    return n;
}

/* Publishes from PUBLISHERS DEALERs, WINDOW outstanding each, until KILL_AFTER acks have
 * been seen in this cycle; then kills the daemon with requests still in flight. */
static void publish_then_kill(int cycle)
{
    zmq_pollitem_t items[PUBLISHERS];
    for (int p = 0; p < PUBLISHERS; p++) {
        items[p] = (zmq_pollitem_t){gbt_connect(ctx, ZMQ_DEALER, gbd_endpoint(d, "ingest")), 0,
                                    ZMQ_POLLIN, 0};
        cr_assert_not_null(items[p].socket, "%s", gbt_why());
        for (int w = 0; w < WINDOW; w++)
            send_next(items[p].socket);
    }
    int seen = 0;
    while (seen < KILL_AFTER) {
        int rc = zmq_poll(items, PUBLISHERS, GBT_WAIT_MS);
        cr_assert_gt(rc, 0, "cycle %d: no ack within %d ms after %d acks", cycle, GBT_WAIT_MS,
                     seen);
        for (int p = 0; p < PUBLISHERS; p++) {
            if (!(items[p].revents & ZMQ_POLLIN))
                continue;
            int got = drain_acks(items[p].socket);
            seen += got;
            for (int k = 0; k < got && seen < KILL_AFTER; k++)
                send_next(items[p].socket);
        }
    }
    gbd_kill9(d);
    cr_assert_eq(gbd_pid(d), 0);
    for (int p = 0; p < PUBLISHERS; p++) {
        drain_acks(items[p].socket); /* acks that reached us before the kill count too */
        gbt_close(items[p].socket);
    }
}

/* Every record is an event we sent, stored with the content we sent. */
static void assert_all_ours(const json_t *log)
{
    size_t i;
    json_t *rec;
    json_array_foreach(log, i, rec)
    {
        json_t *ev = json_object_get(rec, "event");
        const char *id = json_string_value(json_object_get(ev, "id"));
        cr_assert(id && strncmp(id, "crash-", 6) == 0, "record %zu is not ours", i);
        size_t n = strtoul(id + 6, NULL, 10);
        cr_assert_lt(n, json_array_size(sent), "record %zu: %s was never sent", i, id);
        cr_assert(json_equal(ev, json_array_get(sent, n)), "record %zu: %s with other content", i,
                  id);
    }
}

/* Resends RESENDS acked ids spread over all cycles: each a dup with its acked seq. */
static void assert_resends_are_dups(gbt_client_t *c)
{
    size_t total = json_object_size(acked), step = total / RESENDS + 1, i = 0;
    const char *id;
    json_t *a;
    json_object_foreach(acked, id, a)
    {
        if (i++ % step)
            continue;
        const wire_reply_t *r = gbt_publish(c, json_object_get(a, "event"));
        cr_assert(gbt_is_ack(r, id) && r->dup, "resend of %s: want ack dup:true, got %s", id,
                  gbt_show(c));
        cr_assert_eq((json_int_t)r->seq, json_integer_value(json_object_get(a, "seq")),
                     "resend of %s got seq %" PRIu64 " after a crash", id, r->seq);
    }
}

static void restart_and_verify(int cycle)
{
    cr_assert_eq(gbd_restart(d), 0, "cycle %d: gridbusd did not restart after kill -9", cycle);
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    json_t *log = gbt_replay_all(c, 0);
    cr_assert_not_null(log, "cycle %d: replay: %s", cycle, gbt_why());
    cr_assert_eq(gbt_check_log(acked, log), 0, "cycle %d: %s", cycle, gbt_why());
    assert_all_ours(log);
    cr_assert_geq(json_array_size(log), json_object_size(acked));
    cr_assert_leq(json_array_size(log), json_array_size(sent));
    json_t *last = json_object_get(json_array_get(log, json_array_size(log) - 1), "seq");
    cr_assert_eq(gbt_head(c), json_integer_value(last),
                 "cycle %d: head is not the last seq in the log", cycle);
    assert_resends_are_dups(c);
    cr_log_info("cycle %d: %zu sent, %zu acked, %zu in the log", cycle, json_array_size(sent),
                json_object_size(acked), json_array_size(log));
    json_decref(log);
    gbt_client_free(&c);
}

Test(crash, kill9_while_publishing_loses_no_acked_event)
{
    for (int cycle = 1; cycle <= CYCLES; cycle++) {
        size_t before = json_object_size(acked);
        publish_then_kill(cycle);
        cr_assert_geq(json_object_size(acked) - before, KILL_AFTER);
        restart_and_verify(cycle);
    }
    cr_assert_geq(json_object_size(acked), (size_t)CYCLES * KILL_AFTER);
}
