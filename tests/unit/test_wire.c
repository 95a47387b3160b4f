/*
 * test_wire: request decoding and reply packing (proto/wire.c) as proto/PROTOCOL.md states
 * them: each op, the envelope errors (E_DECODE, E_OP, E_SCHEMA) with the rid still
 * recovered for the nack, the structural pre-scan that refuses hostile frames before
 * msgpack-c allocates, and pack -> decode round trips of every reply and request.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "gb_code.h"
#include "wire.h"

static wire_decoder_t *d;
static msgpack_sbuffer sb;
static msgpack_packer pk;

static void setup(void)
{
    d = wire_decoder_new();
    cr_assert_not_null(d);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
}

static void teardown(void)
{
    wire_decoder_destroy(&d);
    msgpack_sbuffer_destroy(&sb);
}

TestSuite(request, .init = setup, .fini = teardown);
TestSuite(frame, .init = setup, .fini = teardown);
TestSuite(reply, .init = setup, .fini = teardown);

static void key(const char *s)
{
    msgpack_pack_str(&pk, strlen(s));
    msgpack_pack_str_body(&pk, s, strlen(s));
}

#define val key

static bool str_is(gb_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static bool obj_str_is(const msgpack_object *o, const char *want)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(want) &&
           memcmp(o->via.str.ptr, want, o->via.str.size) == 0;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Decodes sb as a request; returns the rc and leaves err. */
static int decode(wire_request_t *req, gb_error_t *err)
{
    *err = (gb_error_t){GB_OK, ""};
    return wire_decode_request(d, sb.data, sb.size, req, err);
}

static void expect_refused(const void *buf, size_t len, gb_code_t code, const char *prefix)
{
    wire_request_t req;
    gb_error_t err = {GB_OK, ""};
    int rc = wire_decode_request(d, buf, len, &req, &err);
    cr_expect_eq(rc, -1, "expected a refusal");
    cr_expect_eq(err.code, code, "expected %s, got %s \"%s\"", gb_code_name(code),
                 gb_code_name(err.code), err.msg);
    cr_expect(starts_with(err.msg, prefix), "message \"%s\" should start \"%s\"", err.msg, prefix);
}

/* ---- requests ---- */

static const unsigned char event_bytes[] = {
    /* {"v":1,"type":"task.accepted"}: not a valid event; wire does not validate events */
    0x82, 0xa1, 'v', 0x01, 0xa4, 't', 'y', 'p', 'e', 0xad, 't', 'a',
    's',  'k',  '.', 'a',  'c',  'c', 'e', 'p', 't', 'e',  'd'};

Test(request, publish)
{
    msgpack_pack_map(&pk, 3);
    key("op"), val("publish");
    key("rid"), msgpack_pack_uint64(&pk, 7);
    key("event");
    msgpack_sbuffer_write(&sb, (const char *)event_bytes, sizeof event_bytes);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PUBLISH);
    cr_assert_not_null(req.rid);
    cr_expect_eq(req.rid->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_expect_eq(req.rid->via.u64, 7);
    cr_assert_not_null(req.event);
    cr_expect_eq(req.event->type, MSGPACK_OBJECT_MAP);
    cr_expect(obj_str_is(event_map_get(req.event, "type"), "task.accepted"));
    cr_expect_eq(req.root->type, MSGPACK_OBJECT_MAP);
}

Test(request, publish_without_event_is_E_SCHEMA_with_rid)
{
    msgpack_pack_map(&pk, 2);
    key("op"), val("publish");
    key("rid"), val("r-1");
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_str_eq(err.msg, "event: required for publish");
    cr_expect(obj_str_is(req.rid, "r-1"), "the rid is kept for the nack");
}

Test(request, publish_event_of_any_shape_is_left_to_validation)
{
    msgpack_pack_map(&pk, 2);
    key("op"), val("publish");
    key("event"), msgpack_pack_int(&pk, 5);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.event->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_expect_null(req.rid);
}

Test(request, ping_and_query)
{
    msgpack_pack_map(&pk, 1);
    key("op"), val("ping");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PING);
    cr_expect_null(req.rid, "no rid in, no rid");

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 3);
    key("op"), val("query");
    key("rid"), msgpack_pack_nil(&pk);
    key("what"), val("tasks");
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_QUERY);
    cr_assert_not_null(req.rid, "a nil rid is a rid");
    cr_expect_eq(req.rid->type, MSGPACK_OBJECT_NIL);
}

Test(request, rid_is_any_value)
{
    /* a string, a negative integer, a float, an array and a map: all kept as is */
    for (int kind = 0; kind < 5; kind++) {
        msgpack_sbuffer_clear(&sb);
        msgpack_pack_map(&pk, 2);
        key("rid");
        switch (kind) {
        case 0:
            val("client-42");
            break;
        case 1:
            msgpack_pack_int64(&pk, -9);
            break;
        case 2:
            msgpack_pack_double(&pk, 1.5);
            break;
        case 3:
            msgpack_pack_array(&pk, 2), msgpack_pack_int(&pk, 1), val("x");
            break;
        case 4:
            msgpack_pack_map(&pk, 1), key("n"), msgpack_pack_int(&pk, 3);
            break;
        }
        key("op"), val("ping");
        wire_request_t req;
        gb_error_t err;
        cr_assert_eq(decode(&req, &err), 0, "kind %d: %s", kind, err.msg);
        cr_assert_not_null(req.rid, "kind %d", kind);
        static const msgpack_object_type want[] = {
            MSGPACK_OBJECT_STR, MSGPACK_OBJECT_NEGATIVE_INTEGER, MSGPACK_OBJECT_FLOAT64,
            MSGPACK_OBJECT_ARRAY, MSGPACK_OBJECT_MAP};
        cr_expect_eq(req.rid->type, want[kind], "kind %d", kind);
    }
}

Test(request, replay)
{
    msgpack_pack_map(&pk, 6);
    key("op"), val("replay");
    key("rid"), msgpack_pack_int(&pk, 1);
    key("stream"), val("events");
    key("from"), msgpack_pack_uint64(&pk, 42);
    key("limit"), msgpack_pack_int(&pk, 10);
    key("filter"), val("task/g1/");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_REPLAY);
    cr_expect(str_is(req.stream, "events"));
    cr_expect_eq(req.from, 42);
    cr_expect_eq(req.limit, 10);
    cr_expect(str_is(req.filter, "task/g1/"));
}

Test(request, replay_defaults)
{
    msgpack_pack_map(&pk, 2);
    key("op"), val("replay");
    key("stream"), val("events");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.from, 0, "absent from decodes as 0, which replay reads as 1");
    cr_expect_eq(req.limit, WIRE_REPLAY_LIMIT_DEFAULT);
    cr_expect_eq(WIRE_REPLAY_LIMIT_DEFAULT, 100);
    cr_expect_eq(req.filter.len, 0);
}

Test(request, replay_stream_name_is_not_checked_here)
{
    msgpack_pack_map(&pk, 2);
    key("op"), val("replay");
    key("stream"), val("tasks");
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect(str_is(req.stream, "tasks"));
}

/* Packs a replay with one field of the given value (a packer callback), decodes it. */
static int replay_with(const char *field, void (*value)(void), wire_request_t *req, gb_error_t *err)
{
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 4);
    key("op"), val("replay");
    key("rid"), val("q");
    key("stream"), val("events");
    key(field);
    value();
    return decode(req, err);
}

static int64_t int_arg;
static void v_int(void)
{
    msgpack_pack_int64(&pk, int_arg);
}
static void v_str(void)
{
    val("5");
}
static void v_float(void)
{
    msgpack_pack_double(&pk, 5.0);
}
static void v_nil(void)
{
    msgpack_pack_nil(&pk);
}
static void v_u64max(void)
{
    msgpack_pack_uint64(&pk, UINT64_MAX);
}
static void v_signed_five(void)
{
    /* 5 as int8 (0xd0 0x05): msgpack libraries in other languages may pick signed forms */
    static const char b[] = {(char)0xd0, 0x05};
    msgpack_sbuffer_write(&sb, b, 2);
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
            cr_expect(obj_str_is(req.rid, "q"));
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
    msgpack_pack_map(&pk, 1);
    key("op"), val("replay");
    cr_expect_eq(decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_str_eq(err.msg, "stream: required, a string");

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    key("op"), val("replay");
    key("stream"), msgpack_pack_int(&pk, 1);
    cr_expect_eq(decode(&req, &err), -1);
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
    msgpack_pack_map(&pk, 1);
    key("rid"), msgpack_pack_int(&pk, 11);
    cr_expect_eq(decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_str_eq(err.msg, "op: required");
    cr_assert_not_null(req.rid);
    cr_expect_eq(req.rid->via.u64, 11);

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    key("op"), val("subscribe");
    key("rid"), msgpack_pack_int(&pk, 12);
    cr_expect_eq(decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_str_eq(err.msg, "op: unknown operation 'subscribe'");
    cr_expect_eq(req.rid->via.u64, 12);

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    key("op"), val("PING");
    key("rid"), msgpack_pack_int(&pk, 13);
    cr_expect_eq(decode(&req, &err), -1, "op names are case-sensitive");
    cr_expect_eq(err.code, GB_E_OP);

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    key("op"), msgpack_pack_int(&pk, 1);
    key("rid"), msgpack_pack_int(&pk, 14);
    cr_expect_eq(decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_str_eq(err.msg, "op: must be a string");
    cr_expect_eq(req.rid->via.u64, 14);

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 1);
    key("op"), msgpack_pack_bin(&pk, 4), msgpack_pack_bin_body(&pk, "ping", 4);
    cr_expect_eq(decode(&req, &err), -1, "a bin op is not the string op");
    cr_expect_str_eq(err.msg, "op: must be a string");

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 0);
    cr_expect_eq(decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_null(req.rid);
}

Test(request, long_unknown_op_is_cut_in_the_message)
{
    char op[300];
    memset(op, 'o', sizeof op - 1);
    op[sizeof op - 1] = 0;
    msgpack_pack_map(&pk, 1);
    key("op"), val(op);
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(decode(&req, &err), -1);
    cr_expect_eq(err.code, GB_E_OP);
    cr_expect_lt(strlen(err.msg), 80);
}

Test(request, unknown_request_keys_are_ignored)
{
    msgpack_pack_map(&pk, 3);
    key("op"), val("ping");
    key("trace"), val("abc");
    key("x"), msgpack_pack_array(&pk, 0);
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(decode(&req, &err), 0, "%s", err.msg);
}

/* ---- hostile and malformed frames ---- */

Test(frame, empty)
{
    expect_refused("", 0, GB_E_DECODE, "empty frame");
}

Test(frame, not_a_map)
{
    static const unsigned char arr[] = {0x91, 0x01}, str[] = {0xa2, 'o', 'p'}, num[] = {0x05},
                               nil[] = {0xc0};
    expect_refused(arr, sizeof arr, GB_E_DECODE, "request: must be a map");
    expect_refused(str, sizeof str, GB_E_DECODE, "request: must be a map");
    expect_refused(num, sizeof num, GB_E_DECODE, "request: must be a map");
    expect_refused(nil, sizeof nil, GB_E_DECODE, "request: must be a map");
    expect_refused("{\"op\":\"ping\"}", 13, GB_E_DECODE, ""); /* JSON is not msgpack */
}

Test(frame, truncated_at_every_length)
{
    msgpack_pack_map(&pk, 3);
    key("op"), val("replay");
    key("stream"), val("events");
    key("from"), msgpack_pack_uint64(&pk, 1ULL << 40);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0);
    for (size_t n = 1; n < sb.size; n++) {
        err = (gb_error_t){GB_OK, ""};
        cr_expect_eq(wire_decode_request(d, sb.data, n, &req, &err), -1, "%zu of %zu bytes", n,
                     sb.size);
        cr_expect_eq(err.code, GB_E_DECODE, "%zu bytes: %s", n, err.msg);
        cr_expect_str_eq(err.msg, "not valid msgpack", "%zu bytes", n);
    }
}

Test(frame, trailing_bytes)
{
    msgpack_pack_map(&pk, 1);
    key("op"), val("ping");
    msgpack_pack_map(&pk, 1); /* a second request in the same frame */
    key("op"), val("ping");
    expect_refused(sb.data, sb.size, GB_E_DECODE, "9 trailing bytes after the msgpack value");
    static const unsigned char one[] = {0x81, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g', 0x00};
    expect_refused(one, sizeof one, GB_E_DECODE, "1 trailing bytes");
}

Test(frame, never_used_byte)
{
    static const unsigned char c1[] = {0x81, 0xa2, 'o', 'p', 0xc1};
    expect_refused(c1, sizeof c1, GB_E_DECODE, "not valid msgpack");
}

/* Headers that claim far more than the frame holds are refused by the pre-scan, before
 * msgpack-c would size an allocation from them: the message is the pre-scan's (msgpack-c's
 * own failures say "(code N)"). */
Test(frame, huge_claims_in_tiny_frames_fail_fast)
{
    static const unsigned char claims[][6] = {
        {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00}, /* array32 of 2^32-1 items */
        {0xdf, 0xff, 0xff, 0xff, 0xff, 0x00}, /* map32 of 2^32-1 pairs */
        {0xdb, 0xff, 0xff, 0xff, 0xff, 0x00}, /* str32 of 4 GiB */
        {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00}, /* bin32 of 4 GiB */
        {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}, /* ext32 of 4 GiB */
        {0xdc, 0xff, 0xff, 0x00, 0x00, 0x00}, /* array16 of 65535 items, 3 present */
    };
    for (int round = 0; round < 1000; round++)
        for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
            const msgpack_object *o;
            gb_error_t err = {GB_OK, ""};
            cr_assert_eq(wire_decode_object(d, claims[i], 6, &o, &err), -1, "claim %zu", i);
            cr_assert_eq(err.code, GB_E_DECODE);
            cr_assert_str_eq(err.msg, "not valid msgpack", "claim %zu refused by the pre-scan", i);
        }
    /* inside a map, as the value of a request key */
    static const unsigned char nested[] = {0x81, 0xa2, 'o', 'p', 0xdf, 0xff, 0xff, 0xff, 0xff};
    expect_refused(nested, sizeof nested, GB_E_DECODE, "not valid msgpack");
    /* and the decoder is still good afterwards */
    msgpack_pack_map(&pk, 1);
    key("op"), val("ping");
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(decode(&req, &err), 0);
}

static void nest(unsigned char *buf, int containers, bool scalar)
{
    for (int i = 0; i < containers - 1; i++)
        buf[i] = 0x91; /* array of one */
    buf[containers - 1] = scalar ? 0x91 : 0x90;
    if (scalar)
        buf[containers] = 0x01;
}

Test(frame, nesting_deeper_than_32_is_refused)
{
    unsigned char buf[200];
    const msgpack_object *o;
    gb_error_t err;
    for (int n = 1; n <= 32; n++) {
        nest(buf, n, false);
        cr_expect_eq(wire_decode_object(d, buf, (size_t)n, &o, &err), 0, "%d levels: %s", n,
                     err.msg);
        nest(buf, n, true);
        cr_expect_eq(wire_decode_object(d, buf, (size_t)n + 1, &o, &err), 0, "%d levels + 1: %s", n,
                     err.msg);
    }
    for (int n = 33; n <= 150; n++) {
        err = (gb_error_t){GB_OK, ""};
        nest(buf, n, false);
        cr_expect_eq(wire_decode_object(d, buf, (size_t)n, &o, &err), -1, "%d levels", n);
        cr_expect_eq(err.code, GB_E_DECODE);
        nest(buf, n, true);
        cr_expect_eq(wire_decode_object(d, buf, (size_t)n + 1, &o, &err), -1, "%d levels + 1", n);
        cr_expect_eq(err.code, GB_E_DECODE);
    }
    /* a map nested 40 deep as a request */
    unsigned char req[400];
    size_t len = 0;
    for (int i = 0; i < 40; i++)
        req[len++] = 0x81, req[len++] = 0xa1, req[len++] = 'k';
    req[len++] = 0xc0;
    expect_refused(req, len, GB_E_DECODE, "not valid msgpack");
}

Test(frame, every_byte_flip_of_a_request_is_decoded_or_refused_safely)
{
    msgpack_pack_map(&pk, 3);
    key("op"), val("replay");
    key("stream"), val("events");
    key("limit"), msgpack_pack_int(&pk, 10);
    unsigned char *copy = malloc(sb.size);
    for (size_t i = 0; i < sb.size; i++)
        for (int b = 0; b < 256; b++) {
            memcpy(copy, sb.data, sb.size);
            copy[i] = (unsigned char)b;
            wire_request_t req;
            gb_error_t err = {GB_OK, ""};
            int rc = wire_decode_request(d, copy, sb.size, &req, &err);
            cr_assert(rc == 0 || err.code != GB_OK, "byte %zu = 0x%02x: -1 without a code", i, b);
        }
    free(copy);
}

/* ---- replies: pack -> decode ---- */

static int decode_reply(wire_reply_t *rep, gb_error_t *err)
{
    *err = (gb_error_t){GB_OK, ""};
    return wire_decode_reply(d, sb.data, sb.size, rep, err);
}

Test(reply, ack_round_trip)
{
    msgpack_object rid = {.type = MSGPACK_OBJECT_STR, .via.str = {3, "r-9"}};
    wire_pack_ack(&pk, &rid, (gb_str_t){"ev-1", 4}, 123456789012ULL, false);
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.op, WIRE_REPLY_ACK);
    cr_expect(obj_str_is(rep.rid, "r-9"));
    cr_expect(str_is(rep.id, "ev-1"));
    cr_expect_eq(rep.seq, 123456789012ULL);
    cr_expect_eq(rep.dup, false);
    cr_expect_eq(rep.root->via.map.size, 5, "op, rid, id, seq, dup");
    const msgpack_object *dup = event_map_get(rep.root, "dup");
    cr_assert_not_null(dup);
    cr_expect_eq(dup->type, MSGPACK_OBJECT_BOOLEAN, "dup is a boolean, present when false");

    msgpack_sbuffer_clear(&sb);
    wire_pack_ack(&pk, NULL, (gb_str_t){"ev-1", 4}, UINT64_MAX, true);
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
    cr_assert_eq(wire_decode_request(d, request, sizeof request, &req, &err), 0, "%s", err.msg);
    wire_head_t heads[] = {{"events", 3}};
    wire_pack_pong(&pk, req.rid, "0.1.0", heads, 1);
    /* the rid's bytes, key order and float width included, appear in the reply */
    const unsigned char *rid_bytes = request + 13;
    size_t rid_len = sizeof request - 13;
    bool found = false;
    for (size_t i = 0; i + rid_len <= sb.size && !found; i++)
        found = memcmp(sb.data + i, rid_bytes, rid_len) == 0;
    cr_expect(found, "the reply carries the rid's exact bytes");
}

Test(reply, nack_round_trip_for_every_code)
{
    for (int c = 1; c < GB_E_COUNT_; c++) {
        msgpack_sbuffer_clear(&sb);
        msgpack_object rid = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = (uint64_t)c};
        wire_pack_nack(&pk, &rid, (gb_str_t){"ev-2", 4}, (gb_code_t)c, "body.x: some rule");
        wire_reply_t rep;
        gb_error_t err;
        cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
        cr_expect_eq(rep.op, WIRE_REPLY_NACK);
        cr_expect_eq(rep.code, (gb_code_t)c, "code %s", gb_code_name((gb_code_t)c));
        cr_expect(obj_str_is(event_map_get(rep.root, "code"), gb_code_name((gb_code_t)c)));
        cr_expect(str_is(rep.error, "body.x: some rule"));
        cr_expect(str_is(rep.id, "ev-2"));
        cr_expect_eq(rep.rid->via.u64, (uint64_t)c);
    }
}

Test(reply, nack_without_id_has_no_id_key)
{
    wire_pack_nack(&pk, NULL, (gb_str_t){NULL, 0}, GB_E_DECODE, "empty frame");
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
    msgpack_pack_map(&pk, 3);
    key("op"), val("nack");
    key("code"), val("E_FUTURE");
    key("error"), val("a code from a newer daemon");
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.code, GB_E_COUNT_);
    cr_expect(str_is(rep.error, "a code from a newer daemon"));
}

Test(reply, pong_round_trip)
{
    msgpack_object rid = {.type = MSGPACK_OBJECT_POSITIVE_INTEGER, .via.u64 = 5};
    wire_head_t heads[] = {{"events", 77}};
    wire_pack_pong(&pk, &rid, "0.1.0", heads, 1);
    wire_reply_t rep;
    gb_error_t err;
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.op, WIRE_REPLY_PONG);
    cr_expect(str_is(rep.version, "0.1.0"));
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
    wire_pack_records_begin(&pk, NULL, 12, 40, 2);
    for (uint64_t s = 10; s <= 11; s++) {
        msgpack_pack_map(&pk, 3);
        key("seq"), msgpack_pack_uint64(&pk, s);
        key("received_at"), msgpack_pack_int64(&pk, INT64_C(1795737600000) + (int64_t)s);
        key("event");
        msgpack_sbuffer_write(&sb, (const char *)event_bytes, sizeof event_bytes);
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
        cr_expect(obj_str_is(event_map_get(event_map_get(r, "event"), "type"), "task.accepted"));
    }

    msgpack_sbuffer_clear(&sb);
    wire_pack_records_begin(&pk, NULL, 1, 0, 0);
    cr_assert_eq(decode_reply(&rep, &err), 0, "%s", err.msg);
    cr_expect_eq(rep.records->via.array.size, 0);
    cr_expect_eq(rep.next, 1);
    cr_expect_eq(rep.head, 0);
}

Test(reply, malformed_replies)
{
    wire_reply_t rep;
    gb_error_t err;
    msgpack_pack_map(&pk, 1);
    key("op"), val("hello");
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_eq(err.code, GB_E_DECODE);

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 1);
    key("id"), val("x");
    cr_expect_eq(decode_reply(&rep, &err), -1, "no op");

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    key("op"), val("ack");
    key("id"), val("x");
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "ack: seq missing");

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    key("op"), val("nack");
    key("error"), val("x");
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "nack: code missing");

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_map(&pk, 2);
    key("op"), val("records");
    key("records"), msgpack_pack_map(&pk, 0);
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "records: array missing");

    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 0);
    cr_expect_eq(decode_reply(&rep, &err), -1);
    cr_expect_str_eq(err.msg, "reply: must be a map");

    cr_expect_eq(wire_decode_reply(d, "", 0, &rep, &err), -1);
    cr_expect_eq(err.code, GB_E_DECODE);
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
    wire_pack_publish(&pk, 99, ev.data, ev.size);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PUBLISH);
    cr_expect_eq(req.rid->via.u64, 99);
    gb_event_t e;
    cr_assert_eq(event_validate(req.event, NULL, &e, &err), 0, "%s", err.msg);
    cr_expect(e.id.len == 4 && !memcmp(e.id.ptr, "ev-7", 4));
    /* the event's bytes are the request's last bytes, unchanged */
    cr_assert_geq(sb.size, ev.size);
    cr_expect_eq(memcmp(sb.data + sb.size - ev.size, ev.data, ev.size), 0);
    msgpack_sbuffer_destroy(&ev);
}

Test(request, pack_ping_and_replay_decode_back)
{
    wire_pack_ping(&pk, 3);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_PING);
    cr_expect_eq(req.rid->via.u64, 3);

    msgpack_sbuffer_clear(&sb);
    wire_pack_replay(&pk, 4, "events", 17, 250, NULL);
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect_eq(req.op, WIRE_OP_REPLAY);
    cr_expect(str_is(req.stream, "events"));
    cr_expect_eq(req.from, 17);
    cr_expect_eq(req.limit, 250);
    cr_expect_eq(req.filter.len, 0);
    cr_expect_null(event_map_get(req.root, "filter"));

    msgpack_sbuffer_clear(&sb);
    wire_pack_replay(&pk, 5, "tasks", 0, 1000, "task/g1/");
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    cr_expect(str_is(req.filter, "task/g1/"));
    cr_expect_eq(req.limit, 1000);
}

Test(request, helpers)
{
    msgpack_pack_map(&pk, 4);
    key("n"), msgpack_pack_int64(&pk, -3);
    key("u"), msgpack_pack_uint64(&pk, 8);
    key("s"), val("str");
    key("b"), msgpack_pack_bin(&pk, 1), msgpack_pack_bin_body(&pk, "s", 1);
    const msgpack_object *o;
    gb_error_t err;
    cr_assert_eq(wire_decode_object(d, sb.data, sb.size, &o, &err), 0);
    uint64_t u = 0;
    gb_str_t s = {NULL, 0};
    cr_expect_eq(wire_get_u64(o, "n", &u), -1, "negative is not unsigned");
    cr_expect_eq(wire_get_u64(o, "u", &u), 0);
    cr_expect_eq(u, 8);
    cr_expect_eq(wire_get_u64(o, "s", &u), -1);
    cr_expect_eq(wire_get_u64(o, "missing", &u), -1);
    cr_expect_eq(wire_get_str(o, "s", &s), 0);
    cr_expect(str_is(s, "str"));
    cr_expect_eq(wire_get_str(o, "b", &s), -1, "bin is not a string");
    cr_expect_eq(wire_get_str(o, "u", &s), -1);
}

Test(request, one_decoder_serves_many_frames)
{
    /* the zone is reused: a big frame then many small ones decode correctly */
    char big[60000];
    memset(big, 'x', sizeof big);
    msgpack_pack_map(&pk, 2);
    key("op"), val("ping");
    key("pad"), msgpack_pack_str(&pk, sizeof big), msgpack_pack_str_body(&pk, big, sizeof big);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
    for (uint64_t i = 0; i < 10000; i++) {
        msgpack_sbuffer_clear(&sb);
        wire_pack_replay(&pk, i, "events", i, 1 + (uint32_t)(i % 1000), NULL);
        cr_assert_eq(decode(&req, &err), 0, "%s", err.msg);
        cr_assert_eq(req.rid->via.u64, i);
        cr_assert_eq(req.from, i);
    }
    wire_decoder_destroy(&d);
    cr_expect_null(d);
    wire_decoder_destroy(&d); /* twice is harmless */
    wire_decoder_destroy(NULL);
}
