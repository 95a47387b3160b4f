/*
 * test_wire_request: request decoding (proto/wire.c) as proto/PROTOCOL.md states it: each
 * op and its keys, the request errors (E_OP, E_SCHEMA) with the rid still recovered for
 * the nack, rids of any type, and pack -> decode round trips of every request the client
 * library sends.
 *
 * One of the test_wire_*.c files (split by concern); the decoder, the packer and the
 * packing shorthand they share are in tests/lib/wiretest.h.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "wiretest.h"

TestSuite(request, .init = wt_setup, .fini = wt_teardown);

/* ---- requests ---- */

Test(request, publish)
{
    msgpack_pack_map(&wt_pk, 3);
    wt_key("op"), wt_val("publish");
    wt_key("rid"), msgpack_pack_uint64(&wt_pk, 7);
    wt_key("event");
    msgpack_sbuffer_write(&wt_sb, (const char *)wt_event_bytes, sizeof wt_event_bytes);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PUBLISH);
    cr_assert_not_null(req.rid);
    cr_expect_eq(req.rid->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_expect_eq(req.rid->via.u64, 7);
    cr_assert_not_null(req.event);
    cr_expect_eq(req.event->type, MSGPACK_OBJECT_MAP);
    cr_expect(wt_obj_str_is(event_map_get(req.event, "type"), "task.accepted"));
    cr_expect_eq(req.root->type, MSGPACK_OBJECT_MAP);
}

Test(request, publish_without_event_is_E_SCHEMA_with_rid)
{
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("publish");
    wt_key("rid"), wt_val("r-1");
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_str_eq(err.msg, "event: required for publish");
    cr_expect(wt_obj_str_is(req.rid, "r-1"), "the rid is kept for the nack");
}

Test(request, publish_event_of_any_shape_is_left_to_validation)
{
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("publish");
    wt_key("event"), msgpack_pack_int(&wt_pk, 5);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.event->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_expect_null(req.rid);
}

Test(request, ping_and_query)
{
    msgpack_pack_map(&wt_pk, 1);
    wt_key("op"), wt_val("ping");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PING);
    cr_expect_null(req.rid, "no rid in, no rid");

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 3);
    wt_key("op"), wt_val("query");
    wt_key("rid"), msgpack_pack_nil(&wt_pk);
    wt_key("what"), wt_val("tasks");
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_QUERY);
    cr_assert_not_null(req.rid, "a nil rid is a rid");
    cr_expect_eq(req.rid->type, MSGPACK_OBJECT_NIL);
}

Test(request, rid_is_any_value)
{
    /* a string, a negative integer, a float, an array and a map: all kept as is */
    for (int kind = 0; kind < 5; kind++) {
        msgpack_sbuffer_clear(&wt_sb);
        msgpack_pack_map(&wt_pk, 2);
        wt_key("rid");
        switch (kind) {
        case 0:
            wt_val("client-42");
            break;
        case 1:
            msgpack_pack_int64(&wt_pk, -9);
            break;
        case 2:
            msgpack_pack_double(&wt_pk, 1.5);
            break;
        case 3:
            msgpack_pack_array(&wt_pk, 2), msgpack_pack_int(&wt_pk, 1), wt_val("x");
            break;
        case 4:
            msgpack_pack_map(&wt_pk, 1), wt_key("n"), msgpack_pack_int(&wt_pk, 3);
            break;
        }
        wt_key("op"), wt_val("ping");
        wire_request_t req;
        gb_error_t err;
        cr_assert_eq(wt_decode(&req, &err), 0, "kind %d: %s", kind, err.msg);
        cr_assert_not_null(req.rid, "kind %d", kind);
        static const msgpack_object_type want[] = {
            MSGPACK_OBJECT_STR, MSGPACK_OBJECT_NEGATIVE_INTEGER, MSGPACK_OBJECT_FLOAT64,
            MSGPACK_OBJECT_ARRAY, MSGPACK_OBJECT_MAP};
        cr_expect_eq(req.rid->type, want[kind], "kind %d", kind);
    }
}

Test(request, replay)
{
    msgpack_pack_map(&wt_pk, 6);
    wt_key("op"), wt_val("replay");
    wt_key("rid"), msgpack_pack_int(&wt_pk, 1);
    wt_key("stream"), wt_val("events");
    wt_key("from"), msgpack_pack_uint64(&wt_pk, 42);
    wt_key("limit"), msgpack_pack_int(&wt_pk, 10);
    wt_key("filter"), wt_val("task/g1/");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_REPLAY);
    cr_expect(gbt_str_is(req.stream, "events"));
    cr_expect_eq(req.from, 42);
    cr_expect_eq(req.limit, 10);
    cr_expect(gbt_str_is(req.filter, "task/g1/"));
}

Test(request, replay_defaults)
{
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("replay");
    wt_key("stream"), wt_val("events");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.from, 0, "absent from decodes as 0, which replay reads as 1");
    cr_expect_eq(req.limit, WIRE_REPLAY_LIMIT_DEFAULT);
    cr_expect_eq(WIRE_REPLAY_LIMIT_DEFAULT, 100);
    cr_expect_eq(req.filter.len, 0);
}

Test(request, replay_stream_name_is_not_checked_here)
{
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("replay");
    wt_key("stream"), wt_val("tasks");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect(gbt_str_is(req.stream, "tasks"));
}

/* Packs a replay with one field of the given value (a packer callback), decodes it. */
static int replay_with(const char *field, void (*value)(void), wire_request_t *req, gb_error_t *err)
{
    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 4);
    wt_key("op"), wt_val("replay");
    wt_key("rid"), wt_val("q");
    wt_key("stream"), wt_val("events");
    wt_key(field);
    value();
    return wt_decode(req, err);
}

static int64_t int_arg;
static void v_int(void)
{
    msgpack_pack_int64(&wt_pk, int_arg);
}
static void v_str(void)
{
    wt_val("5");
}
static void v_float(void)
{
    msgpack_pack_double(&wt_pk, 5.0);
}
static void v_nil(void)
{
    msgpack_pack_nil(&wt_pk);
}
static void v_u64max(void)
{
    msgpack_pack_uint64(&wt_pk, UINT64_MAX);
}
static void v_signed_five(void)
{
    /* 5 as int8 (0xd0 0x05): msgpack libraries in other languages may pick signed forms */
    static const char b[] = {(char)0xd0, 0x05};
    msgpack_sbuffer_write(&wt_sb, b, 2);
}

Test(request, replay_limit_bounds)
{
    wire_request_t req;
    gb_error_t err;
    static const struct {
        int64_t v;
        bool ok;
    } cases[] = {{1, true},     {2, true},   {999, true},    {1000, true},      {0, false},
                 {1001, false}, {-1, false}, {65536, false}, {INT64_MAX, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int_arg = cases[i].v;
        int rc = replay_with("limit", v_int, &req, &err);
        if (cases[i].ok) {
            cr_expect_eq(rc, 0, "limit %lld: %s", (long long)cases[i].v, err.msg);
            cr_expect_eq(req.limit, (uint32_t)cases[i].v);
        } else {
            cr_expect_eq(rc, -1, "limit %lld must be refused", (long long)cases[i].v);
            cr_expect_eq(err.code, GB_E_SCHEMA);
            cr_expect_str_eq(err.msg, "limit: must be an integer from 1 to 1000");
            cr_expect(wt_obj_str_is(req.rid, "q"));
        }
    }
    cr_expect_eq(replay_with("limit", v_str, &req, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_eq(replay_with("limit", v_float, &req, &err), -1);
    cr_expect_eq(replay_with("limit", v_nil, &req, &err), -1);
    cr_expect_eq(replay_with("limit", v_signed_five, &req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.limit, 5);
}

Test(request, replay_from)
{
    wire_request_t req;
    gb_error_t err;
    int_arg = 0;
    cr_expect_eq(replay_with("from", v_int, &req, &err), 0);
    cr_expect_eq(req.from, 0);
    cr_expect_eq(replay_with("from", v_u64max, &req, &err), 0);
    cr_expect_eq(req.from, UINT64_MAX);
    cr_expect_eq(replay_with("from", v_signed_five, &req, &err), 0);
    cr_expect_eq(req.from, 5);
    int_arg = -1;
    cr_expect_eq(replay_with("from", v_int, &req, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_str_eq(err.msg, "from: must be an integer >= 0");
    cr_expect_eq(replay_with("from", v_str, &req, &err), -1);
    cr_expect_str_eq(err.msg, "from: must be an integer >= 0");
    cr_expect_eq(replay_with("from", v_float, &req, &err), -1);
}

Test(request, replay_stream_and_filter_types)
{
    wire_request_t req;
    gb_error_t err;
    msgpack_pack_map(&wt_pk, 1);
    wt_key("op"), wt_val("replay");
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_str_eq(err.msg, "stream: required, a string");

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("replay");
    wt_key("stream"), msgpack_pack_int(&wt_pk, 1);
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_str_eq(err.msg, "stream: required, a string");

    int_arg = 3;
    cr_expect_eq(replay_with("filter", v_int, &req, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_str_eq(err.msg, "filter: must be a string");
}

Test(request, missing_unknown_or_non_string_op_is_E_OP_with_rid)
{
    wire_request_t req;
    gb_error_t err;
    msgpack_pack_map(&wt_pk, 1);
    wt_key("rid"), msgpack_pack_int(&wt_pk, 11);
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_str_eq(err.msg, "op: required");
    cr_assert_not_null(req.rid);
    cr_expect_eq(req.rid->via.u64, 11);

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("subscribe");
    wt_key("rid"), msgpack_pack_int(&wt_pk, 12);
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_str_eq(err.msg, "op: unknown operation 'subscribe'");
    cr_expect_eq(req.rid->via.u64, 12);

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("PING");
    wt_key("rid"), msgpack_pack_int(&wt_pk, 13);
    cr_expect_eq(wt_decode(&req, &err), -1, "op names are case-sensitive");
    cr_expect_eq(err.code, GB_E_OP);

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), msgpack_pack_int(&wt_pk, 1);
    wt_key("rid"), msgpack_pack_int(&wt_pk, 14);
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_str_eq(err.msg, "op: must be a string");
    cr_expect_eq(req.rid->via.u64, 14);

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 1);
    wt_key("op"), msgpack_pack_bin(&wt_pk, 4), msgpack_pack_bin_body(&wt_pk, "ping", 4);
    cr_expect_eq(wt_decode(&req, &err), -1, "a bin op is not the string op");
    cr_expect_str_eq(err.msg, "op: must be a string");

    msgpack_sbuffer_clear(&wt_sb);
    msgpack_pack_map(&wt_pk, 0);
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_null(req.rid);
}

Test(request, long_unknown_op_is_cut_in_the_message)
{
    char op[300];
    memset(op, 'o', sizeof op - 1);
    op[sizeof op - 1] = 0;
    msgpack_pack_map(&wt_pk, 1);
    wt_key("op"), wt_val(op);
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(wt_decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_lt(strlen(err.msg), 80);
}

Test(request, unknown_request_keys_are_ignored)
{
    msgpack_pack_map(&wt_pk, 3);
    wt_key("op"), wt_val("ping");
    wt_key("trace"), wt_val("abc");
    wt_key("x"), msgpack_pack_array(&wt_pk, 0);
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(wt_decode(&req, &err), 0, "%s", err.msg);
}

/* ---- requests: pack -> decode ---- */

Test(request, pack_publish_embeds_the_event_bytes)
{
    /* a real event, packed on its own, then embedded as raw bytes */
    msgpack_sbuffer ev;
    msgpack_packer epk;
    msgpack_sbuffer_init(&ev);
    msgpack_packer_init(&epk, &ev, msgpack_sbuffer_write);
#define EK(s) (msgpack_pack_str(&epk, strlen(s)), msgpack_pack_str_body(&epk, s, strlen(s)))
    msgpack_pack_map(&epk, 7);
    EK("v"), msgpack_pack_int(&epk, 1);
    EK("id"), EK("ev-7");
    EK("type"), EK("task.returned");
    EK("at"), msgpack_pack_int64(&epk, INT64_C(1795737600000));
    EK("by"), EK("zhang.teng");
    EK("place"), EK("");
    EK("body"), msgpack_pack_map(&epk, 2), EK("task"), EK("t-1"), EK("reason"), EK("not ours");
#undef EK
    wire_pack_publish(&wt_pk, 99, ev.data, ev.size);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PUBLISH);
    cr_expect_eq(req.rid->via.u64, 99);
    gb_event_t e;
    cr_assert_eq(event_validate(req.event, NULL, &e, &err), 0, "%s", err.msg);
    cr_expect(e.id.len == 4 && !memcmp(e.id.ptr, "ev-7", 4));
    /* the event's bytes are the request's last bytes, unchanged */
    cr_assert_geq(wt_sb.size, ev.size);
    cr_expect_eq(memcmp(wt_sb.data + wt_sb.size - ev.size, ev.data, ev.size), 0);
    msgpack_sbuffer_destroy(&ev);
}

Test(request, pack_ping_and_replay_decode_back)
{
    wire_pack_ping(&wt_pk, 3);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PING);
    cr_expect_eq(req.rid->via.u64, 3);

    msgpack_sbuffer_clear(&wt_sb);
    wire_pack_replay(&wt_pk, 4, "events", 17, 250, NULL);
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_REPLAY);
    cr_expect(gbt_str_is(req.stream, "events"));
    cr_expect_eq(req.from, 17);
    cr_expect_eq(req.limit, 250);
    cr_expect_eq(req.filter.len, 0);
    cr_expect_null(event_map_get(req.root, "filter"));

    msgpack_sbuffer_clear(&wt_sb);
    wire_pack_replay(&wt_pk, 5, "tasks", 0, 1000, "task/g1/");
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    cr_expect(gbt_str_is(req.filter, "task/g1/"));
    cr_expect_eq(req.limit, 1000);
}

Test(request, helpers)
{
    msgpack_pack_map(&wt_pk, 4);
    wt_key("n"), msgpack_pack_int64(&wt_pk, -3);
    wt_key("u"), msgpack_pack_uint64(&wt_pk, 8);
    wt_key("s"), wt_val("str");
    wt_key("b"), msgpack_pack_bin(&wt_pk, 1), msgpack_pack_bin_body(&wt_pk, "s", 1);
    const msgpack_object *o;
    gb_error_t err;
    cr_assert_eq(wire_decode_object(wt_dec, wt_sb.data, wt_sb.size, &o, &err), 0);
    uint64_t u = 0;
    gb_str_t s = {NULL, 0};
    cr_expect_eq(wire_get_u64(o, "n", &u), -1, "negative is not unsigned");
    cr_expect_eq(wire_get_u64(o, "u", &u), 0);
    cr_expect_eq(u, 8);
    cr_expect_eq(wire_get_u64(o, "s", &u), -1);
    cr_expect_eq(wire_get_u64(o, "missing", &u), -1);
    cr_expect_eq(wire_get_str(o, "s", &s), 0);
    cr_expect(gbt_str_is(s, "str"));
    cr_expect_eq(wire_get_str(o, "b", &s), -1, "bin is not a string");
    cr_expect_eq(wire_get_str(o, "u", &s), -1);
}

Test(request, one_decoder_serves_many_frames)
{
    /* the zone is reused: a big frame then many small ones decode correctly */
    char big[60000];
    memset(big, 'x', sizeof big);
    msgpack_pack_map(&wt_pk, 2);
    wt_key("op"), wt_val("ping");
    wt_key("pad"), msgpack_pack_str(&wt_pk, sizeof big),
        msgpack_pack_str_body(&wt_pk, big, sizeof big);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
    for (uint64_t i = 0; i < 10000; i++) {
        msgpack_sbuffer_clear(&wt_sb);
        wire_pack_replay(&wt_pk, i, "events", i, 1 + (uint32_t)(i % 1000), NULL);
        cr_assert_eq(wt_decode(&req, &err), 0, "%s", err.msg);
        cr_assert_eq(req.rid->via.u64, i);
        cr_assert_eq(req.from, i);
    }
    wire_decoder_destroy(&wt_dec);
    cr_expect_null(wt_dec);
    wire_decoder_destroy(&wt_dec); /* twice is harmless */
    wire_decoder_destroy(NULL);
}
