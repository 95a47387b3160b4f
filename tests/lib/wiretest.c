/*
 * wiretest: the shared half of the test_wire_*.c unit tests (see wiretest.h).
 */
#include "wiretest.h"

#include <string.h>

wire_decoder_t *wt_dec;
msgpack_sbuffer wt_sb;
msgpack_packer wt_pk;

void wt_setup(void)
{
    wt_dec = wire_decoder_new();
    cr_assert_not_null(wt_dec);
    msgpack_sbuffer_init(&wt_sb);
    msgpack_packer_init(&wt_pk, &wt_sb, msgpack_sbuffer_write);
}

void wt_teardown(void)
{
    wire_decoder_destroy(&wt_dec);
    msgpack_sbuffer_destroy(&wt_sb);
}

void wt_key(const char *s)
{
    msgpack_pack_str(&wt_pk, strlen(s));
    msgpack_pack_str_body(&wt_pk, s, strlen(s));
}

bool wt_obj_str_is(const msgpack_object *o, const char *want)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(want) &&
           memcmp(o->via.str.ptr, want, o->via.str.size) == 0;
}

/* Decodes wt_sb as a request; returns the rc and leaves err. */
int wt_decode(wire_request_t *req, gb_error_t *err)
{
    *err = (gb_error_t){GB_OK, ""};
    return wire_decode_request(wt_dec, wt_sb.data, wt_sb.size, req, err);
}

void wt_expect_refused(const void *buf, size_t len, gb_code_t code, const char *prefix)
{
    wire_request_t req;
    gb_error_t err = {GB_OK, ""};
    int rc = wire_decode_request(wt_dec, buf, len, &req, &err);
    cr_expect_eq(rc, -1, "expected a refusal");
    cr_expect_eq(err.code, code, "expected %s, got %s \"%s\"", gb_code_name(code),
                 gb_code_name(err.code), err.msg);
    cr_expect(gbt_starts_with(err.msg, prefix), "message \"%s\" should start \"%s\"", err.msg,
              prefix);
}

const unsigned char wt_event_bytes[23] = {0x82, 0xa1, 'v', 0x01, 0xa4, 't', 'y', 'p',
                                          'e',  0xad, 't', 'a',  's',  'k', '.', 'a',
                                          'c',  'c',  'e', 'p',  't',  'e', 'd'};
