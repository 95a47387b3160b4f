/*
 * test_wire_frame: hostile and malformed frames against proto/wire.c's decoder: empty,
 * not a map, truncated at every length, trailing bytes, never-used bytes, huge length
 * claims in tiny frames (refused by the structural pre-scan before msgpack-c allocates),
 * nesting past 32, and every byte flip of a request, as proto/PROTOCOL.md's E_DECODE rules
 * state them.
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

TestSuite(frame, .init = wt_setup, .fini = wt_teardown);

/* ---- hostile and malformed frames ---- */

Test(frame, empty)
{
    wt_expect_refused("", 0, GB_E_DECODE, "empty frame");
}

Test(frame, not_a_map)
{
    static const unsigned char arr[] = {0x91, 0x01}, str[] = {0xa2, 'o', 'p'}, num[] = {0x05},
                               nil[] = {0xc0};
    wt_expect_refused(arr, sizeof arr, GB_E_DECODE, "request: must be a map");
    wt_expect_refused(str, sizeof str, GB_E_DECODE, "request: must be a map");
    wt_expect_refused(num, sizeof num, GB_E_DECODE, "request: must be a map");
    wt_expect_refused(nil, sizeof nil, GB_E_DECODE, "request: must be a map");
    wt_expect_refused("{\"op\":\"ping\"}", 13, GB_E_DECODE, ""); /* JSON is not msgpack */
}

Test(frame, truncated_at_every_length)
{
    msgpack_pack_map(&wt_pk, 3);
    wt_key("op"), wt_val("replay");
    wt_key("stream"), wt_val("events");
    wt_key("from"), msgpack_pack_uint64(&wt_pk, 1ULL << 40);
    wire_request_t req;
    gb_error_t err;
    cr_assert_eq(wt_decode(&req, &err), 0);
    for (size_t n = 1; n < wt_sb.size; n++) {
        err = (gb_error_t){GB_OK, ""};
        cr_expect_eq(wire_decode_request(wt_dec, wt_sb.data, n, &req, &err), -1, "%zu of %zu bytes",
                     n, wt_sb.size);
        cr_expect_eq(err.code, GB_E_DECODE, "%zu bytes: %s", n, err.msg);
        cr_expect_str_eq(err.msg, "not valid msgpack", "%zu bytes", n);
    }
}

Test(frame, trailing_bytes)
{
    msgpack_pack_map(&wt_pk, 1);
    wt_key("op"), wt_val("ping");
    msgpack_pack_map(&wt_pk, 1); /* a second request in the same frame */
    wt_key("op"), wt_val("ping");
    wt_expect_refused(wt_sb.data, wt_sb.size, GB_E_DECODE,
                      "9 trailing bytes after the msgpack value");
    static const unsigned char one[] = {0x81, 0xa2, 'o', 'p', 0xa4, 'p', 'i', 'n', 'g', 0x00};
    wt_expect_refused(one, sizeof one, GB_E_DECODE, "1 trailing bytes");
}

Test(frame, never_used_byte)
{
    static const unsigned char c1[] = {0x81, 0xa2, 'o', 'p', 0xc1};
    wt_expect_refused(c1, sizeof c1, GB_E_DECODE, "not valid msgpack");
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
            cr_assert_eq(wire_decode_object(wt_dec, claims[i], 6, &o, &err), -1, "claim %zu", i);
            cr_assert_eq(err.code, GB_E_DECODE);
            cr_assert_str_eq(err.msg, "not valid msgpack", "claim %zu refused by the pre-scan", i);
        }
    /* inside a map, as the value of a request key */
    static const unsigned char nested[] = {0x81, 0xa2, 'o', 'p', 0xdf, 0xff, 0xff, 0xff, 0xff};
    wt_expect_refused(nested, sizeof nested, GB_E_DECODE, "not valid msgpack");
    /* and the decoder is still good afterwards */
    msgpack_pack_map(&wt_pk, 1);
    wt_key("op"), wt_val("ping");
    wire_request_t req;
    gb_error_t err;
    cr_expect_eq(wt_decode(&req, &err), 0);
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
        cr_expect_eq(wire_decode_object(wt_dec, buf, (size_t)n, &o, &err), 0, "%d levels: %s", n,
                     err.msg);
        nest(buf, n, true);
        cr_expect_eq(wire_decode_object(wt_dec, buf, (size_t)n + 1, &o, &err), 0,
                     "%d levels + 1: %s", n, err.msg);
    }
    for (int n = 33; n <= 150; n++) {
        err = (gb_error_t){GB_OK, ""};
        nest(buf, n, false);
        cr_expect_eq(wire_decode_object(wt_dec, buf, (size_t)n, &o, &err), -1, "%d levels", n);
        cr_expect_eq(err.code, GB_E_DECODE);
        nest(buf, n, true);
        cr_expect_eq(wire_decode_object(wt_dec, buf, (size_t)n + 1, &o, &err), -1, "%d levels + 1",
                     n);
        cr_expect_eq(err.code, GB_E_DECODE);
    }
    /* a map nested 40 deep as a request */
    unsigned char req[400];
    size_t len = 0;
    for (int i = 0; i < 40; i++)
        req[len++] = 0x81, req[len++] = 0xa1, req[len++] = 'k';
    req[len++] = 0xc0;
    wt_expect_refused(req, len, GB_E_DECODE, "not valid msgpack");
}

Test(frame, every_byte_flip_of_a_request_is_decoded_or_refused_safely)
{
    msgpack_pack_map(&wt_pk, 3);
    wt_key("op"), wt_val("replay");
    wt_key("stream"), wt_val("events");
    wt_key("limit"), msgpack_pack_int(&wt_pk, 10);
    unsigned char *copy = malloc(wt_sb.size);
    for (size_t i = 0; i < wt_sb.size; i++)
        for (int b = 0; b < 256; b++) {
            memcpy(copy, wt_sb.data, wt_sb.size);
            copy[i] = (unsigned char)b;
            wire_request_t req;
            gb_error_t err = {GB_OK, ""};
            int rc = wire_decode_request(wt_dec, copy, wt_sb.size, &req, &err);
            cr_assert(rc == 0 || err.code != GB_OK, "byte %zu = 0x%02x: -1 without a code", i, b);
        }
    free(copy);
}
