/*
 * test_malformed: a real gridbusd fed broken input on its ingest endpoint — random bytes,
 * truncated and trailing msgpack, non-maps, wrong, missing, unknown and out-of-range
 * fields (table-driven from proto/schema.c, the authoritative list), unknown types and
 * versions, unknown members and grids, oversize, empty and extra frames.
 *
 * Every bad input must get its nack with the right code, naming the field where there is
 * one; after each batch the daemon must still answer ping and ack a good event; and at
 * the end every acked event must be in the log exactly once, and no refused one.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"
#include "schema.h"

static gbd_t *d;
static void *ctx;
static gbt_client_t *c;
static json_t *acked;   /* id -> {seq, event}: what the daemon acked */
static json_t *refused; /* ids whose every publish was refused */
static int good_n;

static void setup(void)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    ctx = zmq_ctx_new();
    c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    acked = gbt_acked_new();
    refused = json_array();
}

/* Nothing acked is lost, nothing refused is stored, and the daemon exits cleanly. */
static void teardown(void)
{
    if (c && acked) {
        json_t *log = gbt_replay_all(c, 0);
        cr_expect_not_null(log, "replay: %s", gbt_why());
        if (log) {
            cr_expect_eq(gbt_check_log(acked, log), 0, "%s", gbt_why());
            cr_expect_eq(json_array_size(log), json_object_size(acked),
                         "the log holds %zu events, %zu were acked", json_array_size(log),
                         json_object_size(acked));
            size_t i;
            json_t *id;
            json_array_foreach(refused, i, id)
                cr_expect_eq(gbt_find_record(log, json_string_value(id)), -1,
                             "refused %s is in the log", json_string_value(id));
        }
        json_decref(log);
    }
    json_decref(acked);
    json_decref(refused);
    gbt_client_free(&c);
    gbt_close_all();
    if (ctx)
        zmq_ctx_term(ctx);
    if (d)
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
}

TestSuite(malformed, .init = setup, .fini = teardown, .timeout = 180);

/* The daemon answers a ping and acks a fresh good event. */
static void healthy(const char *after)
{
    cr_assert_geq(gbt_head(c), 0, "after %s: no pong: %s", after, gbt_why());
    char id[32];
    snprintf(id, sizeof id, "ok-%d", ++good_n);
    json_t *ev = gbt_event(gbt_types[good_n % 4], id);
    cr_assert_eq(gbt_publish_acked(c, acked, ev), 0, "after %s: %s", after, gbt_why());
    json_decref(ev);
}

/* True when msg names field as a path: "body.amount_fen: ..." or "body.approved_by[1]: ...". */
static bool names_field(gb_str_t msg, const char *field)
{
    char buf[GB_ERROR_MSG_MAX + 1];
    size_t n = strlen(field);
    snprintf(buf, sizeof buf, "%.*s", (int)msg.len, msg.ptr);
    for (const char *p = strstr(buf, field); p; p = strstr(p + 1, field))
        if ((p == buf || p[-1] == ' ' || p[-1] == '\'') && (p[n] == ':' || p[n] == '['))
            return true;
    return false;
}

/* r is a nack with code, and its error names field (when given). */
static void assert_nack(const wire_reply_t *r, gb_code_t code, const char *field, const char *what)
{
    cr_assert_not_null(r, "%s: %s", what, gbt_why());
    cr_assert(gbt_is_nack(r, code), "%s: want %s, got %s", what, gb_code_name(code), gbt_show(c));
    cr_assert_gt(r->error.len, 0, "%s: a nack must say why", what);
    if (field)
        cr_assert(names_field(r->error, field), "%s: the error \"%.*s\" does not name %s", what,
                  (int)r->error.len, r->error.ptr, field);
}

/* Publishes ev expecting a nack with code naming field; remembers its id as refused. */
static void publish_refused(const json_t *ev, gb_code_t code, const char *field, const char *what)
{
    const wire_reply_t *r = gbt_publish(c, ev);
    assert_nack(r, code, field, what);
    cr_assert(gbt_rid_is(r, c->rid), "%s: rid not echoed: %s", what, gbt_show(c));
    const char *id = json_string_value(json_object_get(ev, "id"));
    if (id)
        json_array_append_new(refused, json_string(id));
}

static json_t *bad_event(const char *type)
{
    static int n;
    char id[32];
    snprintf(id, sizeof id, "bad-%d", ++n);
    return gbt_event(type, id);
}

/* ---- bytes that are not one msgpack map ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u; /* fixed seed: the same bytes every run */

static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

Test(malformed, random_bytes)
{
    unsigned char buf[512];
    for (int i = 0; i < 300; i++) {
        size_t len = 1 + next_rand() % sizeof buf;
        for (size_t k = 0; k < len; k++)
            buf[k] = (unsigned char)next_rand();
        const wire_reply_t *r = gbt_call_raw(c, buf, len);
        cr_assert_not_null(r, "random frame %d: %s", i, gbt_why());
        cr_assert(r->op == WIRE_REPLY_NACK && r->code < GB_E_COUNT_,
                  "random frame %d: want a nack with a known code, got %s", i, gbt_show(c));
        if (i % 50 == 49)
            healthy("random bytes");
    }
    healthy("random bytes");
}

/* A mutated publish may still be a valid event: then it must be acked like any other, and
 * we record it from our own decode of the bytes we sent. */
static void record_if_acked(const wire_reply_t *r, const void *buf, size_t len, int i)
{
    if (r->op != WIRE_REPLY_ACK)
        return;
    wire_decoder_t *dec = wire_decoder_new();
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wire_decode_request(dec, buf, len, &req, &err), 0,
                 "mutation %d: acked, but it does not decode: %s", i, err.msg);
    json_t *ev = jsonmp_from_object(req.event);
    const char *id = json_string_value(json_object_get(ev, "id"));
    cr_assert(id && gbt_str_is(r->id, id), "mutation %d: ack for another id", i);
    if (!r->dup)
        cr_assert_eq(gbt_acked_add(acked, id, r->seq, ev), 0, "%s", gbt_why());
    json_decref(ev);
    wire_decoder_destroy(&dec);
}

Test(malformed, mutated_publishes)
{
    json_t *ev = bad_event("repair.requested");
    msgpack_sbuffer sb;
    gbt_pack_publish(&sb, 1, ev);
    unsigned char *buf = malloc(sb.size);
    for (int i = 0; i < 300; i++) {
        memcpy(buf, sb.data, sb.size);
        for (int k = 0; k < 1 + (int)(next_rand() % 3); k++)
            buf[next_rand() % sb.size] = (unsigned char)next_rand();
        const wire_reply_t *r = gbt_call_raw(c, buf, sb.size);
        cr_assert_not_null(r, "mutation %d: %s", i, gbt_why());
        cr_assert(r->op == WIRE_REPLY_ACK || (r->op == WIRE_REPLY_NACK && r->code < GB_E_COUNT_),
                  "mutation %d: want an ack or a nack, got %s", i, gbt_show(c));
        record_if_acked(r, buf, sb.size, i);
        if (i % 50 == 49)
            healthy("mutated publishes");
    }
    free(buf);
    msgpack_sbuffer_destroy(&sb);
    json_decref(ev);
    healthy("mutated publishes");
}

Test(malformed, truncated_msgpack)
{
    json_t *ev = bad_event("ledger.entry_submitted");
    msgpack_sbuffer sb;
    gbt_pack_publish(&sb, 77, ev);
    for (size_t len = 1; len < sb.size; len++) {
        char what[80];
        snprintf(what, sizeof what, "first %zu of %zu bytes", len, sb.size);
        assert_nack(gbt_call_raw(c, sb.data, len), GB_E_DECODE, NULL, what);
    }
    json_array_append(refused, json_object_get(ev, "id"));
    msgpack_sbuffer_destroy(&sb);
    json_decref(ev);
    healthy("truncated msgpack");
}

Test(malformed, not_a_map)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *what;
    } cases[] = {
        {"\x92\xa2op\xa4ping", 9, "array"},
        {"\x2a", 1, "positive int"},
        {"\xd0\x80", 2, "negative int"},
        {"\xa4ping", 5, "string"},
        {"\xc0", 1, "nil"},
        {"\xc3", 1, "true"},
        {"\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18", 9, "double"},
        {"\xc4\x03\x01\x02\x03", 5, "bin"},
        {"\xd4\x01\x00", 3, "fixext"},
        {"\xc1", 1, "never-used byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_nack(gbt_call_raw(c, cases[i].bytes, cases[i].len), GB_E_DECODE, NULL,
                    cases[i].what);
    healthy("non-maps");
}

Test(malformed, lying_headers_and_deep_nesting)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *what;
    } cases[] = {
        {"\xdf\xff\xff\xff\xff", 5, "map32 of 4G entries"},
        {"\xdd\xff\xff\xff\xff\xc0", 6, "array32 of 4G items"},
        {"\xdb\xff\xff\xff\xff\x61", 6, "str32 of 4 GB"},
        {"\xc6\xff\xff\xff\xff\x00", 6, "bin32 of 4 GB"},
        {"\x81\xa2op\xdb\x7f\xff\xff\xff", 9, "op: str32 of 2 GB"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_nack(gbt_call_raw(c, cases[i].bytes, cases[i].len), GB_E_DECODE, NULL,
                    cases[i].what);
    /* 60000 nested one-item arrays: inside max_message, far past any sane depth */
    size_t depth = 60000;
    unsigned char *deep = malloc(depth + 1);
    memset(deep, 0x91, depth);
    deep[depth] = 0xc0;
    assert_nack(gbt_call_raw(c, deep, depth + 1), GB_E_DECODE, NULL, "60000 nested arrays");
    memset(deep, 0x81, depth); /* nested one-entry maps, each key the next map */
    assert_nack(gbt_call_raw(c, deep, depth + 1), GB_E_DECODE, NULL, "60000 nested maps");
    free(deep);
    healthy("lying headers");
}

Test(malformed, trailing_bytes_after_the_map)
{
    const char ping[] = "\x82\xa2op\xa4ping\xa3rid\x01";
    unsigned char buf[64];
    memcpy(buf, ping, sizeof ping - 1);
    buf[sizeof ping - 1] = 0xc0;
    assert_nack(gbt_call_raw(c, buf, sizeof ping), GB_E_DECODE, NULL, "ping + nil");
    memcpy(buf + sizeof ping - 1, ping, sizeof ping - 1);
    assert_nack(gbt_call_raw(c, buf, 2 * (sizeof ping - 1)), GB_E_DECODE, NULL, "two pings");

    json_t *ev = bad_event("visit.logged");
    msgpack_sbuffer sb;
    gbt_pack_publish(&sb, 3, ev);
    msgpack_sbuffer_write(&sb, "\x00", 1);
    assert_nack(gbt_call_raw(c, sb.data, sb.size), GB_E_DECODE, NULL, "publish + one byte");
    json_array_append(refused, json_object_get(ev, "id"));
    msgpack_sbuffer_destroy(&sb);
    json_decref(ev);
    healthy("trailing bytes");
}

Test(malformed, empty_frame)
{
    assert_nack(gbt_call_raw(c, "", 0), GB_E_DECODE, NULL, "empty frame");
    healthy("an empty frame");
    /* a delimiter followed by an empty body: the nack comes back after the delimiter */
    const void *bufs[] = {"", ""};
    size_t lens[] = {0, 0};
    cr_assert_eq(gbt_send_frames(c->sock, 2, bufs, lens), 0, "%s", gbt_why());
    gbt_msg_t m = {0};
    cr_assert_eq(gbt_recv_msg(c->sock, &m), 0, "%s", gbt_why());
    cr_assert(m.n == 2 && m.len[0] == 0, "want [empty][nack], got %zu frames", m.n);
    wire_decoder_t *dec = wire_decoder_new();
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(wire_decode_reply(dec, m.data[1], m.len[1], &rep, &err), 0, "%s", err.msg);
    cr_assert(rep.op == WIRE_REPLY_NACK && rep.code == GB_E_DECODE, "want E_DECODE");
    wire_decoder_destroy(&dec);
    gbt_msg_free(&m);
    healthy("delimiter + empty frame");
}

/* Sends frames and expects exactly one reply: one frame, a nack E_DECODE. The next
 * healthy() ping checks its rid, so a second reply would be caught there. */
static void assert_frames_refused(size_t n, const void *const *bufs, const size_t *lens,
                                  const char *what)
{
    cr_assert_eq(gbt_send_frames(c->sock, n, bufs, lens), 0, "%s", gbt_why());
    assert_nack(gbt_recv_reply(c), GB_E_DECODE, NULL, what);
    healthy(what);
}

Test(malformed, extra_frames)
{
    const char ping[] = "\x82\xa2op\xa4ping\xa3rid\x01";
    size_t pl = sizeof ping - 1;
    json_t *ev = bad_event("patrol.issue_found");
    msgpack_sbuffer sb;
    gbt_pack_publish(&sb, 5, ev);
    const void *two[] = {ping, ping};
    size_t two_l[] = {pl, pl};
    assert_frames_refused(2, two, two_l, "two ping frames");
    const void *pe[] = {sb.data, ""};
    size_t pe_l[] = {sb.size, 0};
    assert_frames_refused(2, pe, pe_l, "publish + empty frame");
    const void *pp[] = {sb.data, ping, ping};
    size_t pp_l[] = {sb.size, pl, pl};
    assert_frames_refused(3, pp, pp_l, "publish + two pings");
    json_array_append(refused, json_object_get(ev, "id"));
    msgpack_sbuffer_destroy(&sb);
    json_decref(ev);
}

Test(malformed, oversize_frame_is_E_TOO_LARGE)
{
    json_t *ev = bad_event("visit.logged");
    char *big = malloc(70001);
    memset(big, 'x', 70000);
    big[70000] = '\0';
    json_object_set_new(json_object_get(ev, "body"), "summary", json_string(big));
    /* the daemon need not decode an oversize frame, so no rid is required back */
    assert_nack(gbt_publish(c, ev), GB_E_TOO_LARGE, NULL, "a 70 kB publish");
    json_array_append(refused, json_object_get(ev, "id"));
    healthy("an oversize frame");
    free(big);
    json_decref(ev);
}

/* Waits for a monitor event in mask; the event number, or -1 at the hang guard. */
static int monitor_wait(void *mon, int mask)
{
    for (;;) {
        gbt_msg_t m = {0};
        if (gbt_recv_msg(mon, &m) < 0)
            return -1;
        uint16_t ev = 0;
        if (m.n >= 1 && m.len[0] >= 2)
            memcpy(&ev, m.data[0], 2);
        gbt_msg_free(&m);
        if (ev & mask)
            return ev;
    }
}

/* Over limits.max_frame (1 MiB) ZeroMQ itself drops the frame and the peer; the monitor
 * of our socket sees the disconnect, and other clients carry on. */
Test(malformed, frame_over_max_frame_disconnects_the_peer)
{
    void *other = gbt_socket(ctx, ZMQ_DEALER);
    cr_assert_not_null(other, "%s", gbt_why());
    cr_assert_eq(zmq_socket_monitor(other, "inproc://over-max-frame",
                                    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED),
                 0);
    void *mon = gbt_connect(ctx, ZMQ_PAIR, "inproc://over-max-frame");
    cr_assert_not_null(mon, "%s", gbt_why());
    cr_assert_eq(zmq_connect(other, gbd_endpoint(d, "ingest")), 0);
    cr_assert_eq(monitor_wait(mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED), ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
                 "no handshake with the daemon: %s", gbt_why());
    size_t huge = (1u << 20) + 4096;
    char *hb = malloc(huge);
    memset(hb, 0xc0, huge);
    cr_assert_eq(zmq_send(other, hb, huge, 0), (int)huge, "%s", zmq_strerror(zmq_errno()));
    cr_assert_eq(monitor_wait(mon, ZMQ_EVENT_DISCONNECTED), ZMQ_EVENT_DISCONNECTED,
                 "the daemon kept a peer that sent %zu bytes in one frame: %s", huge, gbt_why());
    char byte;
    cr_assert_eq(zmq_recv(other, &byte, 1, ZMQ_DONTWAIT), -1, "a reply came to the huge frame");
    healthy("a frame over max_frame");
    zmq_socket_monitor(other, NULL, 0);
    gbt_close(mon);
    gbt_close(other);
    free(hb);
}

Test(malformed, request_level_errors)
{
    json_t *reqs[] = {
        json_pack("{s:s, s:i}", "op", "publish", "rid", 1),
        json_pack("{s:s, s:i, s:s}", "op", "publish", "rid", 2, "event", "x"),
        json_pack("{s:s, s:i, s:[i]}", "op", "publish", "rid", 3, "event", 1),
        json_pack("{s:s, s:i, s:s, s:s}", "op", "replay", "rid", 4, "stream", "events", "from",
                  "x"),
        json_pack("{s:s, s:i, s:s, s:i}", "op", "replay", "rid", 5, "stream", "events", "limit", 0),
        json_pack("{s:s, s:i, s:s, s:i}", "op", "replay", "rid", 6, "stream", "events", "limit",
                  WIRE_REPLAY_LIMIT_MAX + 1),
        json_pack("{s:s, s:i}", "op", "replay", "rid", 7),
    };
    const char *fields[] = {"event", "event", "event", "from", "limit", "limit", "stream"};
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        char what[32];
        snprintf(what, sizeof what, "request %zu", i + 1);
        const wire_reply_t *r = gbt_call_json(c, reqs[i]);
        assert_nack(r, GB_E_SCHEMA, fields[i], what);
        cr_assert(gbt_rid_is(r, i + 1), "%s: rid not echoed: %s", what, gbt_show(c));
        json_decref(reqs[i]);
    }
    healthy("request-level errors");
}

/* ---- envelope ---- */

Test(malformed, envelope_wrong_types)
{
    static const char *const fields[] = {"v", "id", "type", "at", "by", "grid", "place", "body"};
    json_t *values[] = {json_string("1"), json_integer(5), json_integer(5), json_string("x"),
                        json_integer(5),  json_integer(5), json_integer(5), json_string("x")};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *ev = bad_event("repair.requested");
        json_object_set_new(ev, fields[i], values[i]);
        publish_refused(ev, GB_E_SCHEMA, fields[i], fields[i]);
        json_decref(ev);
    }
    healthy("envelope fields of the wrong type");
}

Test(malformed, envelope_missing_fields)
{
    static const char *const fields[] = {"v", "id", "type", "at", "by", "grid", "body"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *ev = bad_event("visit.logged");
        json_object_del(ev, fields[i]);
        publish_refused(ev, GB_E_SCHEMA, fields[i], fields[i]);
        json_decref(ev);
    }
    json_t *ev = bad_event("ledger.entry_submitted"); /* grid is optional for a ledger entry */
    json_object_del(ev, "grid");
    json_object_del(ev, "place");
    cr_assert_eq(gbt_publish_acked(c, acked, ev), 0, "%s", gbt_why());
    json_decref(ev);
    healthy("envelopes with missing fields");
}

Test(malformed, envelope_out_of_range)
{
    char long_id[66], long_place[202];
    memset(long_id, 'a', 65), long_id[65] = '\0';
    memset(long_place, 'p', 201), long_place[201] = '\0';
    static const char *const fields[] = {"id", "id", "id", "at", "at", "by", "grid", "place"};
    json_t *values[] = {json_string(long_id), json_string("has space"),
                        json_string(""),      json_integer(GBT_AT / 1000),
                        json_integer(-1),     json_string("li/qiang"),
                        json_string("g 1"),   json_string(long_place)};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *ev = bad_event("patrol.issue_found");
        json_object_set_new(ev, fields[i], values[i]);
        publish_refused(ev, GB_E_SCHEMA, fields[i], fields[i]);
        json_decref(ev);
    }
    healthy("envelope values out of range");
}

Test(malformed, unknown_fields)
{
    json_t *ev = bad_event("visit.logged");
    json_object_set_new(ev, "colour", json_string("red"));
    publish_refused(ev, GB_E_SCHEMA, "colour", "unknown envelope field");
    json_decref(ev);
    ev = bad_event("visit.logged");
    json_object_set_new(json_object_get(ev, "body"), "colour", json_string("red"));
    publish_refused(ev, GB_E_SCHEMA, "body.colour", "unknown body field");
    json_decref(ev);
    ev = bad_event("visit.logged"); /* a field of another type is unknown here */
    json_object_set_new(json_object_get(ev, "body"), "amount_fen", json_integer(5));
    publish_refused(ev, GB_E_SCHEMA, "body.amount_fen", "another type's field");
    json_decref(ev);
    healthy("unknown fields");
}

/* Packs ev, then overwrites the bytes of `from` with `to` (same length) in the packing. */
static void publish_patched(const json_t *ev, const char *from, const char *to, size_t n,
                            gb_code_t code, const char *field, const char *what)
{
    msgpack_sbuffer sb;
    gbt_pack_publish(&sb, 4242, ev);
    char *at = memmem(sb.data, sb.size, from, n);
    cr_assert_not_null(at, "%s: marker not found", what);
    memcpy(at, to, n);
    const wire_reply_t *r = gbt_call_raw(c, sb.data, sb.size);
    assert_nack(r, code, field, what);
    cr_assert(gbt_rid_is(r, 4242), "%s: rid not echoed: %s", what, gbt_show(c));
    msgpack_sbuffer_destroy(&sb);
    json_array_append(refused, json_object_get(ev, "id"));
}

Test(malformed, bad_utf8_and_duplicate_keys)
{
    json_t *ev = bad_event("visit.logged");
    json_object_set_new(json_object_get(ev, "body"), "summary", json_string("MARK"));
    publish_patched(ev, "MARK", "\xc0\xafok", 4, GB_E_SCHEMA, "body.summary", "overlong UTF-8");
    publish_patched(ev, "MARK", "ab\xed\xa0", 4, GB_E_SCHEMA, "body.summary", "cut surrogate");
    json_decref(ev);
    ev = bad_event("visit.logged");
    json_object_set_new(ev, "pl", json_string("dup"));
    json_object_del(ev, "place");
    publish_patched(ev, "\xa2pl", "\xa2id", 3, GB_E_SCHEMA, "id", "id twice");
    json_decref(ev);
    ev = bad_event("visit.logged");
    json_object_set_new(json_object_get(ev, "body"), "zzzzzzz", json_string("again"));
    publish_patched(ev, "\xa7zzzzzzz", "\xa7summary", 8, GB_E_SCHEMA, "body.summary",
                    "summary twice");
    json_decref(ev);
    healthy("bad UTF-8 and duplicate keys");
}

Test(malformed, unknown_type_is_E_TYPE)
{
    static const char *const types[] = {"visit.unlogged", "", "VISIT.LOGGED", "repair"};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        json_t *ev = bad_event("visit.logged");
        json_object_set_new(ev, "type", json_string(types[i]));
        publish_refused(ev, GB_E_TYPE, "type", types[i]);
        json_decref(ev);
    }
    healthy("unknown types");
}

Test(malformed, other_versions_are_E_VERSION)
{
    static const int versions[] = {2, 0, -1, 1000};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        json_t *ev = bad_event("repair.requested");
        json_object_set_new(ev, "v", json_integer(versions[i]));
        publish_refused(ev, GB_E_VERSION, "v", "another version");
        json_decref(ev);
    }
    healthy("other versions");
}

Test(malformed, unknown_members_are_E_MEMBER)
{
    json_t *ev = bad_event("repair.requested");
    json_object_set_new(ev, "by", json_string("no.such.person"));
    publish_refused(ev, GB_E_MEMBER, "by", "unknown reporter");
    json_decref(ev);
    ev = bad_event("ledger.entry_submitted");
    json_object_set_new(json_object_get(ev, "body"), "approved_by",
                        json_pack("[s, s]", "gong.xiujuan", "ghost.approver"));
    publish_refused(ev, GB_E_MEMBER, "body.approved_by", "unknown approver");
    json_decref(ev);
    healthy("unknown members");
}

Test(malformed, unknown_grids_are_E_GRID)
{
    static const char *const types[] = {"visit.logged", "repair.requested", "patrol.issue_found",
                                        "ledger.entry_submitted"};
    for (size_t i = 0; i < 4; i++) {
        json_t *ev = bad_event(types[i]);
        json_object_set_new(ev, "grid", json_string("g99"));
        publish_refused(ev, GB_E_GRID, "grid", types[i]);
        json_decref(ev);
    }
    healthy("unknown grids");
}

/* ---- bodies, from the schema table ---- */

/* A value of the wrong JSON type for a field of kind k. */
static json_t *wrong_type(schema_kind_t k)
{
    switch (k) {
    case SCHEMA_STR:
    case SCHEMA_ID:
    case SCHEMA_ENUM:
        return json_integer(5);
    case SCHEMA_INT:
    case SCHEMA_TIME:
        return json_string("12");
    case SCHEMA_BOOL:
        return json_string("yes");
    case SCHEMA_STR_ARRAY:
    case SCHEMA_ID_ARRAY:
        return json_string("x");
    }
    return json_null();
}

static json_t *string_of(int64_t n, char ch)
{
    char *s = malloc((size_t)n + 1);
    memset(s, ch, (size_t)n);
    s[n] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *array_of(int64_t n, json_t *item)
{
    json_t *a = json_array();
    for (int64_t i = 0; i < n; i++)
        json_array_append(a, item);
    json_decref(item);
    return a;
}

/* Values just outside a field's range, NULL-terminated into out (at most 4). */
static void out_of_range(const schema_field_t *f, json_t **out)
{
    int n = 0;
    switch (f->kind) {
    case SCHEMA_STR:
        if (f->min > 0)
            out[n++] = json_string("");
        out[n++] = string_of(f->max + 1, 'x');
        break;
    case SCHEMA_ID:
        out[n++] = json_string("");
        out[n++] = string_of(f->max + 1, 'x');
        out[n++] = json_string("not an id");
        break;
    case SCHEMA_INT:
    case SCHEMA_TIME:
        out[n++] = json_integer(f->min - 1);
        out[n++] = json_integer(f->max + 1);
        break;
    case SCHEMA_BOOL:
        out[n++] = json_integer(1);
        break;
    case SCHEMA_ENUM:
        out[n++] = json_string("no-such-value");
        out[n++] = json_string("");
        break;
    case SCHEMA_STR_ARRAY:
    case SCHEMA_ID_ARRAY:
        out[n++] = array_of(f->max + 1, json_string("x"));
        out[n++] = json_pack("[o]", string_of(f->item_max + 1, 'x'));
        out[n++] = json_pack("[i]", 1);
        break;
    }
    out[n] = NULL;
}

/* Publishes type's valid body with field set to v; expects E_SCHEMA naming the field. */
static void body_refused(const schema_type_t *t, const schema_field_t *f, json_t *v,
                         const char *why)
{
    char path[80], what[160];
    snprintf(path, sizeof path, "body.%s", f->name);
    snprintf(what, sizeof what, "%s %s: %s", t->name, path, why);
    json_t *ev = bad_event(t->name);
    if (v)
        json_object_set_new(json_object_get(ev, "body"), f->name, v);
    else
        json_object_del(json_object_get(ev, "body"), f->name);
    publish_refused(ev, GB_E_SCHEMA, path, what);
    json_decref(ev);
}

Test(malformed, body_missing_required_fields)
{
    int n = 0;
    for (const schema_type_t *t = schema_types; t->name; t++)
        for (const schema_field_t *f = t->fields; f->name; f++)
            if (f->required)
                body_refused(t, f, NULL, "missing"), n++;
    cr_assert_gt(n, 20, "the schema table has only %d required fields", n);
    healthy("bodies with missing fields");
}

Test(malformed, body_wrong_types)
{
    for (const schema_type_t *t = schema_types; t->name; t++)
        for (const schema_field_t *f = t->fields; f->name; f++)
            body_refused(t, f, wrong_type(f->kind), "wrong type");
    healthy("body fields of the wrong type");
}

Test(malformed, body_out_of_range)
{
    for (const schema_type_t *t = schema_types; t->name; t++) {
        for (const schema_field_t *f = t->fields; f->name; f++) {
            json_t *vals[5];
            out_of_range(f, vals);
            for (int i = 0; vals[i]; i++)
                body_refused(t, f, vals[i], "out of range");
        }
        healthy(t->name);
    }
}

Test(malformed, body_not_a_map)
{
    json_t *bodies[] = {json_array(), json_string("x"), json_null(), json_integer(1)};
    for (size_t i = 0; i < 4; i++) {
        json_t *ev = bad_event("task.progress");
        json_object_set_new(ev, "body", bodies[i]);
        publish_refused(ev, GB_E_SCHEMA, "body", "body not a map");
        json_decref(ev);
    }
    healthy("bodies that are not maps");
}
