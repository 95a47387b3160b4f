/*
 * test_wire_reply: reply packing and decoding (proto/wire.c) as proto/PROTOCOL.md states
 * them: pack -> decode round trips of ack, nack (every code, with and without an id),
 * pong and records, the rid echoed verbatim whatever its type, and malformed replies.
 *
 * One of the test_wire_*.c files (split by concern); see tests/lib/wiretest.h.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "wiretest.h"

TestSuite(reply, .init = wt_setup, .fini = wt_teardown);

/* ---- replies: pack -> decode ---- */

static int decode_reply(wire_reply_t *rep, gb_error_t *err)
{
    *err = (gb_error_t){GB_OK, ""};
    return wire_decode_reply(wt_dec, wt_sb.data, wt_sb.size, rep, err);
}

Test(reply, ack_round_trip)
{
    msgpack_object rid = {.type = MSGPACK_OBJECT_STR, .via.str = {3, "r-9"}};
    wire_pack_ack(&wt_pk, &rid, (gb_str_t){"ev-1", 4}, 123456789012ULL, false);
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.op, WIRE_REPLY_ACK);
    cr_expect(wt_obj_str_is(rep.rid, "r-9"));
    cr_expect(gbt_str_is(rep.id, "ev-1"));
    cr_expect_eq(rep.seq, 123456789012ULL);
    cr_expect_eq(rep.dup, false);
    cr_expect_eq(rep.root->via.map.size, 5, "op, rid, id, seq, dup");
    const msgpack_object *dup = event_map_get(rep.root, "dup");
    cr_assert_not_null(dup);
    cr_expect_eq(dup->type, MSGPACK_OBJECT_BOOLEAN, "dup is a boolean, present when false");

    msgpack_sbuffer_clear(&wt_sb);
    wire_pack_ack(&wt_pk, NULL, (gb_str_t){"ev-1", 4}, UINT64_MAX, true);
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_null(rep.rid, "no rid in the request, none in the reply");
    cr_expect_eq(rep.root->via.map.size, 4);
    cr_expect_eq(rep.seq, UINT64_MAX);
    cr_expect_eq(rep.dup, true);
}

Test(reply, rid_of_any_type_is_echoed_verbatim)
{
    /* decode a request whose rid is a map, echo it in an ack, compare the bytes */
    static const unsigned char request[] = {
        0x82, 0xa2, 'o',  'p', 0xa4, 'p',  'i',  'n',  'g', 0xa3, 'r', 'i', 'd', 0x82, 0xa1,
        'b',  0xc3, 0xa1, 'a', 0x92, 0xcb, 0x3f, 0xf8, 0,   0,    0,   0,   0,   0,    0xa0};
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wire_decode_request(wt_dec, request, sizeof request, &req, &err), 0, "%s",
                 err.msg);
    wire_head_t heads[] = {{"events", 3}};
    wire_pack_pong(&wt_pk, req.rid, "0.1.0", heads, 1);
    /* the rid's bytes, key order and float width included, appear in the reply */
    const unsigned char *rid_bytes = request + 13;
    size_t rid_len = sizeof request - 13;
    bool found = false;
    for (size_t i = 0; i + rid_len <= wt_sb.size && !found; i++)
        found = memcmp(wt_sb.data + i, rid_bytes, rid_len) == 0;
    cr_expect(found, "the reply carries the rid's exact bytes");
}

Test(reply, nack_round_trip_for_every_code)
{
    for (int c = 1; c < GB_E_COUNT_; c++) {
        msgpack_sbuffer_clear(&wt_sb);
        msgpack_object rid = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = (uint64_t)c};
        wire_pack_nack(&wt_pk, &rid, (gb_str_t){"ev-2", 4}, (gb_code_t)c, "body.x: some rule");
        wire_reply_t rep;
        gb_error_t err;
        cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
        cr_expect_eq(rep.op, WIRE_REPLY_NACK);
        cr_expect_eq(rep.code, (gb_code_t)c, "code %s", gb_code_name((gb_code_t)c));
        cr_expect(wt_obj_str_is(event_map_get(rep.root, "code"), gb_code_name((gb_code_t)c)));
        cr_expect(gbt_str_is(rep.error, "body.x: some rule"));
        cr_expect(gbt_str_is(rep.id, "ev-2"));
        cr_expect_eq(rep.rid->via.u64, (uint64_t)c);
    }
}

Test(reply, nack_without_id_has_no_id_key)
{
    wire_pack_nack(&wt_pk, NULL, (gb_str_t){NULL, 0}, GB_E_DECODE, "empty frame");
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.op, WIRE_REPLY_NACK);
    cr_expect_eq(rep.code, GB_E_DECODE);
    cr_expect_null(event_map_get(rep.root, "id"));
    cr_expect_null(rep.rid);
    cr_expect_eq(rep.root->via.map.size, 3, "op, code, error");
}

Test(reply, nack_with_an_unknown_code_decodes_as_unknown)
{
    msgpack_pack_map(&wt_pk, 3);
    wt_key("op"), wt_val("nack");
    wt_key("code"), wt_val("E_FUTURE");
    wt_key("error"), wt_val("a code from a newer daemon");
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.code, GB_E_COUNT_);
    cr_expect(gbt_str_is(rep.error, "a code from a newer daemon"));
}

Test(reply, pong_round_trip)
{
    msgpack_object rid = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 5};
    wire_head_t heads[] = {{"events", 77}};
    wire_pack_pong(&wt_pk, &rid, "0.1.0", heads, 1);
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.op, WIRE_REPLY_PONG);
    cr_expect(gbt_str_is(rep.version, "0.1.0"));
    uint64_t proto = 0, head = 0;
    cr_expect_eq(wire_get_u64(rep.root, "protocol", &proto), 0);
    cr_expect_eq(proto, WIRE_PROTOCOL_VERSION);
    cr_expect_eq(proto, 1);
    cr_assert_not_null(rep.heads);
    cr_expect_eq(rep.heads->type, MSGPACK_OBJECT_MAP);
    cr_expect_eq(rep.heads->via.map.size, 1);
    cr_expect_eq(wire_get_u64(rep.heads, "events", &head), 0);
    cr_expect_eq(head, 77);
    cr_expect_eq(rep.rid->via.u64, 5);
}

Test(reply, records_round_trip)
{
    wire_pack_records_begin(&wt_pk, NULL, 12, 40, 2);
    for (uint64_t s = 10; s <= 11; s++) {
        msgpack_pack_map(&wt_pk, 3);
        wt_key("seq"), msgpack_pack_uint64(&wt_pk, s);
        wt_key("received_at"), msgpack_pack_int64(&wt_pk, INT64_C(1795737600000) + (int64_t)s);
        wt_key("event");
        msgpack_sbuffer_write(&wt_sb, (const char *)wt_event_bytes, sizeof wt_event_bytes);
    }
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.op, WIRE_REPLY_RECORDS);
    cr_expect_eq(rep.next, 12);
    cr_expect_eq(rep.head, 40);
    cr_assert_not_null(rep.records);
    cr_assert_eq(rep.records->via.array.size, 2);
    for (uint32_t i = 0; i < 2; i++) {
        const msgpack_object *r = &rep.records->via.array.ptr[i];
        uint64_t seq, at;
        cr_expect_eq(wire_get_u64(r, "seq", &seq), 0);
        cr_expect_eq(seq, 10 + i);
        cr_expect_eq(wire_get_u64(r, "received_at", &at), 0);
        cr_expect_eq(at, 1795737600010ULL + i);
        cr_expect(wt_obj_str_is(event_map_get(event_map_get(r, "event"), "type"), "task.accepted"));
    }

    msgpack_sbuffer_clear(&wt_sb);
    wire_pack_records_begin(&wt_pk, NULL, 1, 0, 0);
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.records->via.array.size, 0);
    cr_expect_eq(rep.next, 1);
    cr_expect_eq(rep.head, 0);
}

Test(reply, malformed_replies)
{
    wire_reply_t rep;
    gb_error_t err;
    msgpack_pack_map(&wt_pk, 1);
    wt_key("op"), wt_val("hello");
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_eq(err.code, GB_E_DECODE);

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 1);
    wt_key("id"), wt_val("x");
    cr_expect_eq(decode_reply(&rep, &err), -1, "no op");

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("ack");
    wt_key("id"), wt_val("x");
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "ack: seq missing");

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("nack");
    wt_key("error"), wt_val("x");
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "nack: code missing");

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("records");
    wt_key("records"), msgpack_pack_map(&wt_pk, 0);
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "records: array missing");

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_array(&wt_pk, 0);
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "reply: must be a map");

    cr_expect_eq(wire_decode_reply(wt_dec, "", 0, &rep, &err), -1);
    cr_expect_eq(err.code, GB_E_DECODE);
}
