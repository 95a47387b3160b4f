/*
 * test_ingest: the ingest endpoint of a real gridbusd, end to end — publish and ack,
 * idempotent resends, conflicts, rid echo, ping heads, replay, the fire-and-forget PUB
 * endpoint, and REQ delimiter echo — as wire contract v1 states them.
 *
 * Each test starts its own daemon on free loopback ports with a fresh state dir; every
 * wait is a reply (or the sd_notify READY=1) with a hang guard, never a sleep.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"

static gbd_t *d;
static void *ctx;
static gbt_client_t *c;

static void setup(void)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    ctx = zmq_ctx_new();
    c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
}

static void teardown(void)
{
    gbt_client_free(&c);
    gbt_close_all();
    if (ctx)
        zmq_ctx_term(ctx);
    if (d)
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
}

TestSuite(ingest, .init = setup, .fini = teardown, .timeout = 120);

/* Publishes ev and asserts an ack (dup false), recording it in acked. */
static void publish_ok(json_t *acked, const json_t *ev)
{
    cr_assert_eq(gbt_publish_acked(c, acked, ev), 0, "%s", gbt_why());
}

static json_t *replay_all(void)
{
    json_t *log = gbt_replay_all(c, 0);
    cr_assert_not_null(log, "replay: %s", gbt_why());
    return log;
}

static void assert_log_is(const json_t *acked)
{
    json_t *log = replay_all();
    cr_assert_eq(gbt_check_log(acked, log), 0, "%s", gbt_why());
    cr_assert_eq(json_array_size(log), json_object_size(acked),
                 "the log holds %zu events, %zu were acked", json_array_size(log),
                 json_object_size(acked));
    json_decref(log);
}

Test(ingest, field_types_ack_with_increasing_seqs)
{
    json_t *acked = gbt_acked_new();
    uint64_t last = 0;
    for (int i = 0; i < 4; i++) {
        char id[64];
        snprintf(id, sizeof id, "field-%d", i);
        json_t *ev = gbt_event(gbt_types[i], id);
        publish_ok(acked, ev);
        cr_assert_gt(c->rep.seq, last, "%s acked with seq %llu after %llu", gbt_types[i],
                     (unsigned long long)c->rep.seq, (unsigned long long)last);
        cr_assert_eq(json_object_get(c->json, "dup"), json_false(), "ack must carry dup:false");
        last = c->rep.seq;
        json_decref(ev);
    }
    assert_log_is(acked);
    json_decref(acked);
}

Test(ingest, field_types_with_every_optional_field)
{
    json_t *acked = gbt_acked_new();
    json_t *ev[4] = {
        gbt_event("visit.logged", "opt-visit"), gbt_event("repair.requested", "opt-rep"),
        gbt_event("patrol.issue_found", "opt-pat"), gbt_event("ledger.entry_submitted", "opt-led")};
    json_t *b[4];
    for (int i = 0; i < 4; i++)
        b[i] = json_object_get(ev[i], "body");
    json_object_set_new(b[0], "concerns", json_pack("[s, s]", "stairs light", "noise"));
    json_object_set_new(b[0], "needs_followup", json_true());
    json_object_set_new(b[1], "urgency", json_string("high"));
    json_object_set_new(b[1], "fee_waived", json_true());
    json_object_set_new(b[2], "photo", json_string("photos/2026/11/27/0001.jpg"));
    json_object_set_new(b[3], "approved_by", json_pack("[s]", "gong.xiujuan"));
    json_object_set_new(b[3], "due", json_integer(GBT_AT + 86400000));
    json_object_set_new(b[3], "note", json_string("stair light bulbs, 24 pcs"));
    for (int i = 0; i < 4; i++) {
        publish_ok(acked, ev[i]);
        json_decref(ev[i]);
    }
    assert_log_is(acked);
    json_decref(acked);
}

/* A follow-up on a task or alert the daemon does not know passes validation and is then
 * refused for what it points at (E_TASK, E_STATE), or accepted: never E_SCHEMA. */
Test(ingest, followup_types_validate)
{
    for (int i = 4; gbt_types[i]; i++) {
        char id[64];
        snprintf(id, sizeof id, "follow-%d", i);
        json_t *ev = gbt_event(gbt_types[i], id);
        const wire_reply_t *r = gbt_publish(c, ev);
        cr_assert_not_null(r, "%s: %s", gbt_types[i], gbt_why());
        cr_assert(gbt_rid_is(r, c->rid), "%s: rid not echoed: %s", gbt_types[i], gbt_show(c));
        cr_assert(gbt_is_ack(r, id) || gbt_is_nack(r, GB_E_TASK) || gbt_is_nack(r, GB_E_STATE),
                  "%s is well formed; want an ack, E_TASK or E_STATE, got %s", gbt_types[i],
                  gbt_show(c));
        json_object_del(json_object_get(ev, "body"), i < 9 ? "task" : "alert");
        r = gbt_publish(c, ev);
        cr_assert(gbt_is_nack(r, GB_E_SCHEMA), "%s without its reference: want E_SCHEMA, got %s",
                  gbt_types[i], gbt_show(c));
        cr_assert(gbt_str_is(r->id, id), "nack must name the event id: %s", gbt_show(c));
        json_decref(ev);
    }
}

Test(ingest, resend_acks_with_the_same_seq_and_dup)
{
    json_t *acked = gbt_acked_new();
    json_t *ev = gbt_event("repair.requested", "resend-1");
    publish_ok(acked, ev);
    uint64_t seq = c->rep.seq;
    int64_t head = gbt_head(c);
    for (int i = 0; i < 3; i++) {
        const wire_reply_t *r = gbt_publish(c, ev);
        cr_assert(gbt_is_ack(r, "resend-1"), "resend: want an ack, got %s", gbt_show(c));
        cr_assert_eq(r->seq, seq, "resend acked with seq %llu, first ack had %llu",
                     (unsigned long long)r->seq, (unsigned long long)seq);
        cr_assert_eq(json_object_get(c->json, "dup"), json_true(), "resend must be dup:true: %s",
                     gbt_show(c));
        cr_assert(gbt_rid_is(r, c->rid), "rid not echoed: %s", gbt_show(c));
    }
    cr_assert_eq(gbt_head(c), head, "a resend must not move the head");
    assert_log_is(acked);
    json_decref(ev);
    json_decref(acked);
}

/* Keys in another order are the same content: still a dup, not a conflict. */
Test(ingest, resend_with_keys_reordered_is_a_dup)
{
    json_t *acked = gbt_acked_new();
    json_t *ev = gbt_event("patrol.issue_found", "reorder-1");
    publish_ok(acked, ev);
    uint64_t seq = c->rep.seq;
    json_t *rev = json_object();
    const char *keys[] = {"body", "place", "grid", "by", "at", "type", "id", "v"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        json_object_set(rev, keys[i], json_object_get(ev, keys[i]));
    const wire_reply_t *r = gbt_publish(c, rev);
    cr_assert(gbt_is_ack(r, "reorder-1") && r->dup && r->seq == seq,
              "same event, keys reordered: want ack seq %llu dup:true, got %s",
              (unsigned long long)seq, gbt_show(c));
    assert_log_is(acked);
    json_decref(rev);
    json_decref(ev);
    json_decref(acked);
}

Test(ingest, same_id_different_content_conflicts)
{
    json_t *acked = gbt_acked_new();
    json_t *ev = gbt_event("visit.logged", "conflict-1");
    publish_ok(acked, ev);
    int64_t head = gbt_head(c);
    json_t *other = json_deep_copy(ev);
    json_object_set_new(json_object_get(other, "body"), "summary", json_string("changed"));
    const wire_reply_t *r = gbt_publish(c, other);
    cr_assert(gbt_is_nack(r, GB_E_CONFLICT), "want E_CONFLICT, got %s", gbt_show(c));
    cr_assert(gbt_rid_is(r, c->rid), "rid not echoed: %s", gbt_show(c));
    json_object_set_new(other, "at", json_integer(GBT_AT + 1));
    json_object_set_new(json_object_get(other, "body"), "summary", json_string("weekly visit"));
    r = gbt_publish(c, other);
    cr_assert(gbt_is_nack(r, GB_E_CONFLICT), "another at: want E_CONFLICT, got %s", gbt_show(c));
    cr_assert_eq(gbt_head(c), head, "a conflict must not move the head");
    assert_log_is(acked); /* the log still holds the first content */
    json_decref(other);
    json_decref(ev);
    json_decref(acked);
}

/* Sends {op:"ping", rid} for a JSON rid and checks it comes back equal. */
static void assert_rid_echoed(json_t *rid)
{
    json_t *req = json_pack("{s:s, s:O}", "op", "ping", "rid", rid);
    const wire_reply_t *r = gbt_call_json(c, req);
    cr_assert_not_null(r, "%s", gbt_why());
    cr_assert_eq(r->op, WIRE_REPLY_PONG, "want a pong, got %s", gbt_show(c));
    cr_assert(json_equal(json_object_get(c->json, "rid"), rid), "rid not echoed: %s", gbt_show(c));
    json_decref(req);
    json_decref(rid);
}

Test(ingest, rid_is_echoed_whatever_it_is)
{
    assert_rid_echoed(json_integer(0));
    assert_rid_echoed(json_integer(42));
    assert_rid_echoed(json_integer(-7));
    assert_rid_echoed(json_integer(INT64_MAX));
    assert_rid_echoed(json_string("rid-abc"));
    assert_rid_echoed(json_string("网格-1"));
    assert_rid_echoed(json_string(""));
    assert_rid_echoed(json_pack("[i, s]", 1, "two"));
    assert_rid_echoed(json_pack("{s:i}", "n", 3));
    /* ...on acks and nacks too */
    json_t *ev = gbt_event("visit.logged", "rid-ack-1");
    json_t *req = json_pack("{s:s, s:s, s:O}", "op", "publish", "rid", "r-1", "event", ev);
    const wire_reply_t *r = gbt_call_json(c, req);
    cr_assert(gbt_is_ack(r, "rid-ack-1"), "want an ack, got %s", gbt_show(c));
    cr_assert_str_eq(json_string_value(json_object_get(c->json, "rid")), "r-1", "%s", gbt_show(c));
    json_object_set_new(json_object_get(ev, "body"), "summary", json_integer(5));
    json_object_set_new(ev, "id", json_string("rid-nack-1"));
    json_object_set_new(req, "rid", json_string("r-2"));
    r = gbt_call_json(c, req);
    cr_assert(gbt_is_nack(r, GB_E_SCHEMA), "want E_SCHEMA, got %s", gbt_show(c));
    cr_assert_str_eq(json_string_value(json_object_get(c->json, "rid")), "r-2", "%s", gbt_show(c));
    json_decref(req);
    json_decref(ev);
}

Test(ingest, no_rid_no_rid_back)
{
    json_t *req = json_pack("{s:s}", "op", "ping");
    const wire_reply_t *r = gbt_call_json(c, req);
    cr_assert(r && r->op == WIRE_REPLY_PONG, "want a pong, got %s", gbt_show(c));
    cr_assert_null(r->rid, "no rid was sent, yet one came back: %s", gbt_show(c));
    json_decref(req);
}

Test(ingest, ping_heads_grow_with_acks_only)
{
    json_t *acked = gbt_acked_new();
    int64_t h0 = gbt_head(c);
    cr_assert_geq(h0, 0, "%s", gbt_why());
    cr_assert_str_eq(json_string_value(json_object_get(c->json, "version")), GB_VERSION,
                     "pong version: %s", gbt_show(c));
    for (int i = 0; i < 5; i++) {
        char id[32];
        snprintf(id, sizeof id, "head-%d", i);
        json_t *ev = gbt_event(gbt_types[i % 4], id);
        publish_ok(acked, ev);
        int64_t h = gbt_head(c);
        cr_assert_eq(h, h0 + i + 1, "after %d acks the head is %lld, it was %lld", i + 1,
                     (long long)h, (long long)h0);
        cr_assert_geq(
            h, (int64_t)json_integer_value(json_object_get(json_object_get(acked, id), "seq")),
            "head below an acked seq");
        json_decref(ev);
    }
    json_t *bad = gbt_event("visit.logged", "head-bad");
    json_object_set_new(bad, "grid", json_string("no-such-grid"));
    cr_assert(gbt_is_nack(gbt_publish(c, bad), GB_E_GRID), "want E_GRID, got %s", gbt_show(c));
    cr_assert_eq(gbt_head(c), h0 + 5, "a refused event must not move the head");
    json_decref(bad);
    json_decref(acked);
}

Test(ingest, replay_returns_exactly_what_was_acked)
{
    json_t *acked = gbt_acked_new();
    uint64_t seqs[30];
    for (int i = 0; i < 30; i++) {
        char id[32];
        snprintf(id, sizeof id, "replay-%02d", i);
        json_t *ev = gbt_event(gbt_types[i % 4], id);
        publish_ok(acked, ev);
        seqs[i] = c->rep.seq;
        json_decref(ev);
    }
    assert_log_is(acked);
    /* from a middle seq: that record first, then the rest */
    json_t *tail = gbt_replay_all(c, seqs[10]);
    cr_assert_not_null(tail, "%s", gbt_why());
    cr_assert_eq(json_array_size(tail), 20, "replay from seq %llu: %zu records, want 20",
                 (unsigned long long)seqs[10], json_array_size(tail));
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(tail, 0), "seq")),
                 (json_int_t)seqs[10], "replay from a seq must start at it");
    json_decref(tail);
    json_decref(acked);
}

Test(ingest, replay_pages_by_limit)
{
    json_t *acked = gbt_acked_new();
    uint64_t seqs[12];
    for (int i = 0; i < 12; i++) {
        char id[32];
        snprintf(id, sizeof id, "page-%02d", i);
        json_t *ev = gbt_event("visit.logged", id);
        publish_ok(acked, ev);
        seqs[i] = c->rep.seq;
        json_decref(ev);
    }
    json_t *req = json_pack("{s:s, s:i, s:s, s:I, s:i}", "op", "replay", "rid", 9, "stream",
                            "events", "from", (json_int_t)seqs[0], "limit", 5);
    const wire_reply_t *r = gbt_call_json(c, req);
    cr_assert(r && r->op == WIRE_REPLY_RECORDS, "want records, got %s", gbt_show(c));
    cr_assert_eq(r->records->via.array.size, 5, "limit 5 gave %u records",
                 r->records->via.array.size);
    cr_assert_gt(r->next, seqs[4], "next %llu must be past the last record (seq %llu)",
                 (unsigned long long)r->next, (unsigned long long)seqs[4]);
    cr_assert_leq(r->next, seqs[5], "next %llu skips seq %llu", (unsigned long long)r->next,
                  (unsigned long long)seqs[5]);
    cr_assert_geq(r->head, seqs[11], "head %llu is below the last acked seq %llu",
                  (unsigned long long)r->head, (unsigned long long)seqs[11]);
    json_t *rec = json_array_get(json_object_get(c->json, "records"), 4);
    cr_assert_eq(json_integer_value(json_object_get(rec, "seq")), (json_int_t)seqs[4]);
    cr_assert(json_is_integer(json_object_get(rec, "received_at")), "record without received_at");
    json_decref(req);
    json_decref(acked);
}

/* An XPUB (a PUB that shows subscriptions) tells us when the daemon's SUB is connected and
 * subscribed, so nothing we send is dropped by the slow-joiner gap. */
static void *connected_pub(void)
{
    void *pub = gbt_connect(ctx, ZMQ_XPUB, gbd_endpoint(d, "publish"));
    cr_assert_not_null(pub, "%s", gbt_why());
    gbt_msg_t m = {0};
    cr_assert_eq(gbt_recv_msg(pub, &m), 0, "the daemon's SUB never subscribed: %s", gbt_why());
    cr_assert(m.n == 1 && m.len[0] >= 1 && m.data[0][0] == 1, "not a subscription message");
    gbt_msg_free(&m);
    return pub;
}

static void pub_send(void *pub, const json_t *ev)
{
    msgpack_sbuffer sb;
    jsonmp_pack_sbuffer(ev, &sb);
    const char *type = json_string_value(json_object_get(ev, "type"));
    const void *bufs[] = {type, sb.data};
    size_t lens[] = {strlen(type), sb.size};
    cr_assert_eq(gbt_send_frames(pub, 2, bufs, lens), 0, "%s", gbt_why());
    msgpack_sbuffer_destroy(&sb);
}

/* Replays until id is in the log; the PUB path has no ack, so the log is the only
 * witness. Each round is a real round trip; the clock is only the hang guard. */
static json_t *replay_until(const char *id)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (t = t0; t.tv_sec - t0.tv_sec < GBT_WAIT_MS / 1000; clock_gettime(CLOCK_MONOTONIC, &t)) {
        json_t *log = replay_all();
        if (gbt_find_record(log, id) >= 0)
            return log;
        json_decref(log);
        cr_assert_geq(gbt_head(c), 0, "%s", gbt_why()); /* one more round trip */
    }
    cr_assert_fail("%s did not reach the log within %d ms", id, GBT_WAIT_MS);
    return NULL;
}

Test(ingest, fire_and_forget_pub_lands_in_the_log)
{
    void *pub = connected_pub();
    json_t *bad = gbt_event("repair.requested", "pub-bad");
    json_object_set_new(json_object_get(bad, "body"), "category", json_string("plumbing"));
    json_t *good[3] = {gbt_event("visit.logged", "pub-1"), gbt_event("repair.requested", "pub-2"),
                       gbt_event("ledger.entry_submitted", "pub-3")};
    pub_send(pub, bad);
    for (int i = 0; i < 3; i++)
        pub_send(pub, good[i]);
    json_t *log = replay_until("pub-3");
    /* one connection keeps order: pub-bad was handled before pub-3, and refused */
    cr_assert_eq(gbt_find_record(log, "pub-bad"), -1, "a refused PUB event is in the log");
    for (int i = 0; i < 3; i++) {
        int at = gbt_find_record(log, json_string_value(json_object_get(good[i], "id")));
        cr_assert_geq(at, 0, "pub-%d is missing", i + 1);
        cr_assert(json_equal(json_object_get(json_array_get(log, (size_t)at), "event"), good[i]),
                  "pub-%d stored with other content", i + 1);
    }
    /* an id published over PUB is a dup over ingest */
    const wire_reply_t *r = gbt_publish(c, good[0]);
    cr_assert(gbt_is_ack(r, "pub-1") && r->dup, "want ack dup:true, got %s", gbt_show(c));
    json_decref(log);
    json_decref(bad);
    for (int i = 0; i < 3; i++)
        json_decref(good[i]);
    gbt_close(pub);
}

Test(ingest, req_socket_gets_its_delimiter_echoed)
{
    void *req = gbt_connect(ctx, ZMQ_REQ, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(req, "%s", gbt_why());
    const char ping[] = "\x82\xa2op\xa4ping\xa3rid\x2a"; /* {op:"ping", rid:42} */
    cr_assert_eq(zmq_send(req, ping, sizeof ping - 1, 0), (int)sizeof ping - 1);
    gbt_msg_t m = {0};
    cr_assert_eq(gbt_recv_msg(req, &m), 0, "REQ got no reply (delimiter not echoed?): %s",
                 gbt_why());
    cr_assert_eq(m.n, 1, "REQ reply has %zu frames", m.n);
    wire_decoder_t *dec = wire_decoder_new();
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(wire_decode_reply(dec, m.data[0], m.len[0], &rep, &err), 0, "%s", err.msg);
    cr_assert(rep.op == WIRE_REPLY_PONG && gbt_rid_is(&rep, 42), "want a pong with rid 42");
    wire_decoder_destroy(&dec);
    gbt_msg_free(&m);
    gbt_close(req);
}

Test(ingest, dealer_delimiter_is_echoed_as_a_frame)
{
    const char ping[] = "\x82\xa2op\xa4ping\xa3rid\x07";
    const void *bufs[] = {"", ping};
    size_t lens[] = {0, sizeof ping - 1};
    cr_assert_eq(gbt_send_frames(c->sock, 2, bufs, lens), 0, "%s", gbt_why());
    gbt_msg_t m = {0};
    cr_assert_eq(gbt_recv_msg(c->sock, &m), 0, "%s", gbt_why());
    cr_assert_eq(m.n, 2, "want [empty][pong], got %zu frames", m.n);
    cr_assert_eq(m.len[0], 0, "the delimiter came back with %zu bytes", m.len[0]);
    wire_decoder_t *dec = wire_decoder_new();
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(wire_decode_reply(dec, m.data[1], m.len[1], &rep, &err), 0, "%s", err.msg);
    cr_assert(rep.op == WIRE_REPLY_PONG && gbt_rid_is(&rep, 7), "want a pong with rid 7");
    wire_decoder_destroy(&dec);
    gbt_msg_free(&m);
}

Test(ingest, unknown_or_missing_op_is_E_OP)
{
    json_t *reqs[] = {json_pack("{s:s, s:i}", "op", "frobnicate", "rid", 7),
                      json_pack("{s:i}", "rid", 8), json_pack("{s:i, s:i}", "op", 3, "rid", 9),
                      json_pack("{s:s, s:i}", "op", "PING", "rid", 10)};
    for (int i = 0; i < 4; i++) {
        const wire_reply_t *r = gbt_call_json(c, reqs[i]);
        cr_assert(gbt_is_nack(r, GB_E_OP), "request %d: want E_OP, got %s", i, gbt_show(c));
        cr_assert(gbt_rid_is(r, (uint64_t)(7 + i)), "request %d: rid not echoed: %s", i,
                  gbt_show(c));
        cr_assert_gt(r->error.len, 0, "a nack must say why");
        json_decref(reqs[i]);
    }
    cr_assert_eq(gbt_head(c), 0, "nothing was acked, yet the head is not 0");
}

/* Several clients at once: each gets its own replies, seqs never repeat. */
Test(ingest, interleaved_clients_get_their_own_replies)
{
    json_t *acked = gbt_acked_new();
    gbt_client_t *k[3];
    for (int i = 0; i < 3; i++) {
        k[i] = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
        cr_assert_not_null(k[i], "%s", gbt_why());
    }
    for (int round = 0; round < 10; round++)
        for (int i = 0; i < 3; i++) {
            char id[32];
            snprintf(id, sizeof id, "multi-%d-%d", i, round);
            json_t *ev = gbt_event(gbt_types[(i + round) % 4], id);
            cr_assert_eq(gbt_publish_acked(k[i], acked, ev), 0, "%s", gbt_why());
            json_decref(ev);
        }
    for (int i = 0; i < 3; i++)
        gbt_client_free(&k[i]);
    assert_log_is(acked);
    json_decref(acked);
}
