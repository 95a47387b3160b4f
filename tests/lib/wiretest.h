/*
 * wiretest: what the unit tests of proto/wire.c share (test_wire_*.c): a decoder and a
 * packer writing into one buffer, fresh for every test, the packing shorthand the tests
 * build frames with, and decoding or refusing what was packed.
 *
 * The tests pack requests and replies key by key, so what reaches the decoder is exactly
 * what the test wrote (widths, key order, duplicate or odd keys included). The helpers
 * assert with Criterion, so they are for Criterion tests only.
 */
#ifndef GB_TEST_WIRETEST_H
#define GB_TEST_WIRETEST_H

#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

#include "gb_code.h"
#include "gbtest.h" /* gbt_str_is, gbt_starts_with */
#include "wire.h"

/* The decoder and the buffer wt_pk packs into; set up by wt_setup. */
extern wire_decoder_t *wt_dec;
extern msgpack_sbuffer wt_sb;
extern msgpack_packer wt_pk;

/* .init and .fini of the suites. */
void wt_setup(void);
void wt_teardown(void);

/* Packs s as a msgpack str into wt_sb: a key, or (as wt_val) a string value. */
void wt_key(const char *s);
#define wt_val wt_key

/* True when o is a str equal to want. */
bool wt_obj_str_is(const msgpack_object *o, const char *want);

/* Decodes wt_sb as a request; returns the rc and leaves err. */
int wt_decode(wire_request_t *req, gb_error_t *err);

/* Expects buf to be refused as a request with code and a message starting with prefix. */
void wt_expect_refused(const void *buf, size_t len, gb_code_t code, const char *prefix);

/* An event map {"v":1,"type":"task.accepted"}, packed: not a valid event (wire does not
 * validate events), for embedding in publish requests and replayed records. */
extern const unsigned char wt_event_bytes[23];

#endif
