/*
 * test_mpr: the in-place msgpack reader (proto/mpr.c) against what msgpack-c packs.
 *
 * Integers of every width and sign read back as packed; strings of every header size; a
 * value of another type reads as nothing and is skipped; counts that claim more than the
 * bytes hold, nesting past the limit, a cut value and the unused tag 0xc1 make the reader
 * bad; mpr_scan says how long the first value is.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <string.h>

#include "mpr.h"

static msgpack_sbuffer sb;
static msgpack_packer pk;

static void setup(void)
{
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
}

static void teardown(void)
{
    msgpack_sbuffer_destroy(&sb);
}

TestSuite(mpr, .init = setup, .fini = teardown);

Test(mpr, integers_of_every_width_and_sign_read_as_packed)
{
    static const int64_t v[] = {
        0,         1,  127, 128, 255,  256,  65535,  65536,  4294967295, 4294967296,
        INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,  (int64_t)INT32_MIN - 1,
        INT64_MIN};
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++)
        msgpack_pack_int64(&pk, v[i]);
    msgpack_pack_uint64(&pk, UINT64_MAX); /* a u64 past INT64_MAX reads as the decoder's cast */
    mpr_t r = mpr_init(sb.data, sb.size);
    for (size_t i = 0; i < n; i++)
        cr_expect_eq(mpr_int(&r), v[i], "value %zu", i);
    cr_expect_eq(mpr_int(&r), (int64_t)UINT64_MAX);
    cr_expect(!r.bad && r.p == r.end);
}

Test(mpr, strings_of_every_header_size)
{
    static char big[70000];
    memset(big, 'x', sizeof big);
    size_t lens[] = {0, 31, 32, 255, 256, 65535, 65536};
    for (size_t i = 0; i < 7; i++)
        msgpack_pack_str(&pk, lens[i]), msgpack_pack_str_body(&pk, big, lens[i]);
    mpr_t r = mpr_init(sb.data, sb.size);
    for (size_t i = 0; i < 7; i++) {
        const char *s;
        size_t len;
        mpr_str(&r, &s, &len);
        cr_expect_eq(len, lens[i], "string %zu: %zu bytes", i, len);
        cr_expect(len == 0 || memcmp(s, big, len) == 0);
    }
    cr_expect(!r.bad && r.p == r.end);
}

Test(mpr, a_value_of_another_type_reads_as_nothing_and_is_skipped)
{
    msgpack_pack_array(&pk, 2), msgpack_pack_nil(&pk), msgpack_pack_true(&pk); /* not an int */
    msgpack_pack_int(&pk, 7);                                                  /* not a str */
    msgpack_pack_str(&pk, 2), msgpack_pack_str_body(&pk, "ab", 2);             /* not a bool */
    msgpack_pack_int(&pk, 9);
    mpr_t r = mpr_init(sb.data, sb.size);
    const char *s;
    size_t len;
    cr_expect_eq(mpr_int(&r), 0);
    mpr_str(&r, &s, &len);
    cr_expect_eq(len, 0);
    cr_expect_eq(mpr_bool(&r), false);
    cr_expect_eq(mpr_int(&r), 9, "the reader is past the three skipped values");
    cr_expect(!r.bad);
}

Test(mpr, claims_past_the_bytes_depth_a_cut_and_0xc1_make_the_reader_bad)
{
    static const unsigned char huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const unsigned char cut[] = {0xa5, 'a', 'b'};
    static const unsigned char c1[] = {0xc1};
    static const unsigned char deep[] = {0x91, 0x91, 0x91, 0x01};
    size_t used;
    cr_expect_eq(mpr_scan(huge, sizeof huge, 4, &used), -1, "four billion items in one byte");
    cr_expect_eq(mpr_scan(cut, sizeof cut, 4, &used), -1, "a string cut short");
    cr_expect_eq(mpr_scan(c1, sizeof c1, 4, &used), -1, "0xc1");
    cr_expect_eq(mpr_scan(deep, sizeof deep, 2, &used), -1, "three levels, two allowed");
    cr_expect_eq(mpr_scan(deep, sizeof deep, 3, &used), 0, "three levels, three allowed");
    cr_expect_eq(used, sizeof deep);
    mpr_t r = mpr_init(cut, sizeof cut);
    const char *s;
    size_t len;
    mpr_str(&r, &s, &len);
    cr_expect(r.bad && len == 0);
    cr_expect_eq(mpr_int(&r), 0, "a bad reader reads nothing more");
    r = mpr_init(huge, sizeof huge);
    cr_expect_eq(mpr_array(&r), (int64_t)UINT32_MAX, "the header itself is read as it claims");
    cr_expect_eq(mpr_int(&r), 1);
}

Test(mpr, scan_says_how_long_the_first_value_is)
{
    msgpack_pack_map(&pk, 1), msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "k", 1);
    msgpack_pack_array(&pk, 2), msgpack_pack_int(&pk, 300), msgpack_pack_double(&pk, 1.5);
    size_t first = sb.size, used = 0;
    msgpack_pack_nil(&pk);
    cr_expect_eq(mpr_scan(sb.data, sb.size, 8, &used), 0);
    cr_expect_eq(used, first);
}
