/*
 * test_mpw: proto/mpw.c's writer against msgpack-c's packer, byte for byte: every size
 * boundary of integers (signed and unsigned), strings, maps and arrays; growth from an
 * empty sbuffer over many writes; sharing one sbuffer with a msgpack_packer; writes within
 * an exact reservation not growing; raw bytes appended verbatim; the sticky failure; and a
 * whole record decoded back with msgpack_unpack.
 *
 * Each writer gets its own sbuffer (ref for msgpack-c, got for mpw), fresh for every test.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpw.h"

static msgpack_sbuffer ref, got;
static msgpack_packer pk;
static mpw_t w;

static void setup(void)
{
    msgpack_sbuffer_init(&ref);
    msgpack_sbuffer_init(&got);
    msgpack_packer_init(&pk, &ref, msgpack_sbuffer_write);
    mpw_init(&w, &got);
}

static void teardown(void)
{
    msgpack_sbuffer_destroy(&ref);
    msgpack_sbuffer_destroy(&got);
}

TestSuite(mpw, .init = setup, .fini = teardown);

static void clear(void)
{
    msgpack_sbuffer_clear(&ref);
    msgpack_sbuffer_clear(&got);
}

/* got holds exactly ref's bytes and the writer has not failed. */
static void expect_same(const char *what)
{
    cr_assert(mpw_ok(&w), "%s: the writer failed", what);
    cr_assert_eq(got.size, ref.size, "%s: mpw wrote %zu bytes, msgpack-c %zu", what, got.size,
                 ref.size);
    size_t i = 0;
    while (i < ref.size && got.data[i] == ref.data[i])
        i++;
    cr_assert_eq(i, ref.size, "%s: byte %zu is 0x%02x, msgpack-c wrote 0x%02x", what, i,
                 i < got.size ? (unsigned char)got.data[i] : 0,
                 i < ref.size ? (unsigned char)ref.data[i] : 0);
}

/* Every boundary of the unsigned encodings, with its neighbours. */
static const uint64_t uint_edges[] = {
    0, 1, 127, 128, 255, 256, 65535, 65536, UINT32_MAX, UINT32_MAX + 1ULL, INT64_MAX, UINT64_MAX};

/* Every boundary of the signed encodings (msgpack_pack_int64), with the positive ones. */
static const int64_t int_edges[] = {
    0,         1,  127, 128, 255,  256,  65535,  65536,  UINT32_MAX, UINT32_MAX + 1LL,
    INT64_MAX, -1, -32, -33, -128, -129, -32768, -32769, INT32_MIN,  INT32_MIN - 1LL,
    INT64_MIN};

/* {"x": 1.5} packed by msgpack-c into sub (initialised here; the caller destroys it): an
 * already-encoded object to splice with mpw_raw. */
static void pack_sub_object(msgpack_sbuffer *sub)
{
    msgpack_packer sub_pk;
    msgpack_sbuffer_init(sub);
    msgpack_packer_init(&sub_pk, sub, msgpack_sbuffer_write);
    msgpack_pack_map(&sub_pk, 1);
    msgpack_pack_str_with_body(&sub_pk, "x", 1), msgpack_pack_double(&sub_pk, 1.5);
}

Test(mpw, uint_every_boundary)
{
    char what[64];
    for (size_t i = 0; i < sizeof uint_edges / sizeof uint_edges[0]; i++) {
        uint64_t e = uint_edges[i];
        uint64_t vs[3] = {e - 1, e, e + 1}; /* wrapping at 0 and UINT64_MAX is fine */
        for (int k = 0; k < 3; k++) {
            clear();
            msgpack_pack_uint64(&pk, vs[k]);
            mpw_uint(&w, vs[k]);
            snprintf(what, sizeof what, "uint %llu", (unsigned long long)vs[k]);
            expect_same(what);
        }
    }
}

Test(mpw, int_every_boundary)
{
    char what[64];
    for (size_t i = 0; i < sizeof int_edges / sizeof int_edges[0]; i++) {
        int64_t e = int_edges[i];
        for (int d = -1; d <= 1; d++) {
            if ((d < 0 && e == INT64_MIN) || (d > 0 && e == INT64_MAX))
                continue;
            int64_t v = e + d;
            clear();
            msgpack_pack_int64(&pk, v);
            mpw_int(&w, v);
            snprintf(what, sizeof what, "int %lld", (long long)v);
            expect_same(what);
        }
    }
}

/* A few encodings spelled out, so the tests do not rest on msgpack-c alone. */
Test(mpw, known_bytes)
{
    static const unsigned char want[] = {
        0x7f,                                              /* 127 */
        0xcc, 0x80,                                        /* 128 */
        0xcd, 0x01, 0x00,                                  /* 256 */
        0xce, 0x00, 0x01, 0x00, 0x00,                      /* 65536 */
        0xcf, 0x00, 0x00, 0x00, 0x01, 0,    0,    0,    0, /* 2^32 */
        0xff,                                              /* -1 */
        0xe0,                                              /* -32 */
        0xd0, 0xdf,                                        /* -33 */
        0xd1, 0xff, 0x7f,                                  /* -129 */
        0xd2, 0xff, 0xff, 0x7f, 0xff,                      /* -32769 */
        0xd3, 0x80, 0,    0,    0,    0,    0,    0,    0, /* INT64_MIN */
        0xa2, 'i',  'd',                                   /* "id" */
        0x8f, 0xde, 0x00, 0x10, 0x9f, 0xdc, 0x00, 0x10,    /* maps and arrays of 15, 16 */
        0xc0, 0xc3, 0xc2};
    mpw_uint(&w, 127), mpw_uint(&w, 128), mpw_uint(&w, 256), mpw_uint(&w, 65536);
    mpw_uint(&w, 1ULL << 32);
    mpw_int(&w, -1), mpw_int(&w, -32), mpw_int(&w, -33), mpw_int(&w, -129);
    mpw_int(&w, -32769), mpw_int(&w, INT64_MIN);
    MPW_KEY(&w, "id");
    mpw_map(&w, 15), mpw_map(&w, 16), mpw_array(&w, 15), mpw_array(&w, 16);
    mpw_nil(&w), mpw_bool(&w, true), mpw_bool(&w, false);
    cr_assert(mpw_ok(&w));
    cr_assert_eq(got.size, sizeof want);
    cr_assert_arr_eq(got.data, want, sizeof want);
}

Test(mpw, str_every_boundary)
{
    static const size_t lens[] = {0, 1, 31, 32, 33, 255, 256, 257, 65535, 65536, 65537, 100000};
    char *body = malloc(100001);
    cr_assert_not_null(body);
    for (size_t i = 0; i < 100000; i++)
        body[i] = (char)('a' + i % 26);
    char what[64];
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        clear();
        msgpack_pack_str(&pk, n);
        msgpack_pack_str_body(&pk, body, n);
        mpw_str(&w, body, n);
        snprintf(what, sizeof what, "str of %zu bytes", n);
        expect_same(what);

        /* the same through mpw_cstr */
        char saved = body[n];
        body[n] = '\0';
        msgpack_sbuffer_clear(&got);
        mpw_cstr(&w, body);
        body[n] = saved;
        snprintf(what, sizeof what, "cstr of %zu bytes", n);
        expect_same(what);
    }
    free(body);

    clear();
    msgpack_pack_str(&pk, 0);
    msgpack_pack_str_body(&pk, NULL, 0);
    mpw_str(&w, NULL, 0);
    expect_same("str NULL, 0");
}

Test(mpw, key_literals)
{
    static const char *keys[] = {"",
                                 "id",
                                 "task_id",
                                 "a key of exactly thirty-one b.",
                                 "a key of exactly thirty-two by.",
                                 "a key that is longer still"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        msgpack_pack_str_with_body(&pk, keys[i], strlen(keys[i]));
    MPW_KEY(&w, "");
    MPW_KEY(&w, "id");
    MPW_KEY(&w, "task_id");
    MPW_KEY(&w, "a key of exactly thirty-one b.");
    MPW_KEY(&w, "a key of exactly thirty-two by.");
    MPW_KEY(&w, "a key that is longer still");
    expect_same("keys");
}

Test(mpw, map_and_array_every_boundary)
{
    static const uint32_t sizes[] = {0, 1, 14, 15, 16, 17, 65534, 65535, 65536, 65537, UINT32_MAX};
    char what[64];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        clear();
        msgpack_pack_map(&pk, sizes[i]);
        mpw_map(&w, sizes[i]);
        snprintf(what, sizeof what, "map of %u", (unsigned)sizes[i]);
        expect_same(what);

        clear();
        msgpack_pack_array(&pk, sizes[i]);
        mpw_array(&w, sizes[i]);
        snprintf(what, sizeof what, "array of %u", (unsigned)sizes[i]);
        expect_same(what);
    }
}

Test(mpw, nil_and_bool)
{
    msgpack_pack_nil(&pk), msgpack_pack_true(&pk), msgpack_pack_false(&pk);
    mpw_nil(&w), mpw_bool(&w, true), mpw_bool(&w, false);
    expect_same("nil, true, false");
}

/* A small deterministic generator, so a failure reproduces. */
static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 11;
}

/* One random value, the same through both writers. body holds at least 70000 bytes. */
static void pack_both_random(const char *body)
{
    uint64_t r = rng();
    size_t n;
    switch (r % 9) {
    case 0: {
        uint64_t v = rng() >> (rng() % 64);
        msgpack_pack_uint64(&pk, v), mpw_uint(&w, v);
        break;
    }
    case 1: {
        int64_t v = (int64_t)(rng() << 11) >> (rng() % 64);
        msgpack_pack_int64(&pk, v), mpw_int(&w, v);
        break;
    }
    case 2:
        n = rng() % 100 == 0 ? 60000 + rng() % 10000 : rng() % 300;
        msgpack_pack_str(&pk, n), msgpack_pack_str_body(&pk, body, n);
        mpw_str(&w, body, n);
        break;
    case 3:
        n = rng() % 70000;
        msgpack_pack_map(&pk, n), mpw_map(&w, (uint32_t)n);
        break;
    case 4:
        n = rng() % 70000;
        msgpack_pack_array(&pk, n), mpw_array(&w, (uint32_t)n);
        break;
    case 5:
        msgpack_pack_nil(&pk), mpw_nil(&w);
        break;
    case 6:
        if (rng() & 1)
            msgpack_pack_true(&pk), mpw_bool(&w, true);
        else
            msgpack_pack_false(&pk), mpw_bool(&w, false);
        break;
    case 7:
        n = rng() % 40;
        msgpack_sbuffer_write(&ref, body, n), mpw_raw(&w, body, n);
        break;
    default:
        msgpack_pack_str_with_body(&pk, "status", 6), MPW_KEY(&w, "status");
        break;
    }
}

static char *random_body(void)
{
    char *body = malloc(70000);
    cr_assert_not_null(body);
    for (size_t i = 0; i < 70000; i++)
        body[i] = (char)(i * 131 + 7);
    return body;
}

Test(mpw, growth_from_empty_over_many_writes)
{
    char *body = random_body();
    rng_state = 42;
    cr_assert_eq(got.alloc, 0);
    cr_assert_null(got.data);
    size_t grew = 0, alloc = got.alloc;
    for (int i = 0; i < 200000; i++) {
        pack_both_random(body);
        if (got.alloc != alloc)
            grew++, alloc = got.alloc;
        cr_assert_leq(got.size, got.alloc);
    }
    free(body);
    cr_assert_gt(grew, 5, "only grew %zu times", grew);
    expect_same("200000 random writes");
}

/* The sbuffer is the only state: mpw and a msgpack_packer can take turns on one buffer, and
 * mpw appends to what is there already. */
Test(mpw, shares_a_buffer_with_a_packer)
{
    char *body = random_body();
    msgpack_packer pk_got;
    msgpack_packer_init(&pk_got, &got, msgpack_sbuffer_write);
    msgpack_sbuffer_write(&ref, "head", 4), msgpack_sbuffer_write(&got, "head", 4);
    rng_state = 7;
    for (int i = 0; i < 50000; i++) {
        if (i % 3 == 0) {
            uint64_t v = rng() >> (rng() % 64);
            msgpack_pack_uint64(&pk, v), msgpack_pack_uint64(&pk_got, v);
            size_t n = rng() % 2000;
            msgpack_pack_str(&pk, n), msgpack_pack_str_body(&pk, body, n);
            msgpack_pack_str(&pk_got, n), msgpack_pack_str_body(&pk_got, body, n);
        } else {
            pack_both_random(body);
        }
    }
    free(body);
    expect_same("mpw and a packer in turn");
}

/* After mpw_reserve(n), writes totalling n bytes do not grow the buffer, even when n is
 * exactly what they take: each write asks for its own size, not the largest it could be. */
Test(mpw, exact_reservation_needs_no_growth)
{
    msgpack_pack_map(&pk, 5);
    msgpack_pack_str_with_body(&pk, "seq", 3), msgpack_pack_uint64(&pk, 1);
    msgpack_pack_str_with_body(&pk, "at", 2), msgpack_pack_int64(&pk, -1);
    msgpack_pack_str_with_body(&pk, "big", 3), msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_str_with_body(&pk, "tags", 4), msgpack_pack_array(&pk, 1);
    msgpack_pack_nil(&pk);
    msgpack_pack_str_with_body(&pk, "ok", 2), msgpack_pack_true(&pk);
    size_t n = ref.size;

    got.data = malloc(n); /* an sbuffer with exactly n bytes of room */
    cr_assert_not_null(got.data);
    got.alloc = n;
    cr_assert_eq(mpw_reserve(&w, n), 0);
    char *data = got.data;

    mpw_map(&w, 5);
    MPW_KEY(&w, "seq"), mpw_uint(&w, 1);
    MPW_KEY(&w, "at"), mpw_int(&w, -1);
    MPW_KEY(&w, "big"), mpw_uint(&w, UINT64_MAX);
    MPW_KEY(&w, "tags"), mpw_array(&w, 1);
    mpw_nil(&w);
    MPW_KEY(&w, "ok"), mpw_bool(&w, true);
    expect_same("record within its reservation");
    cr_assert_eq(got.data, data, "the buffer moved");
    cr_assert_eq(got.alloc, n, "the buffer grew to %zu", got.alloc);

    mpw_nil(&w); /* one more byte does grow it */
    cr_assert(mpw_ok(&w));
    cr_assert_gt(got.alloc, n);
    cr_assert_eq(got.size, n + 1);
}

Test(mpw, reserve_grows_by_doubling)
{
    cr_assert_eq(mpw_reserve(&w, 1), 0);
    cr_assert_eq(got.alloc, MSGPACK_SBUFFER_INIT_SIZE);
    cr_assert_eq(mpw_reserve(&w, MSGPACK_SBUFFER_INIT_SIZE), 0);
    cr_assert_eq(got.alloc, MSGPACK_SBUFFER_INIT_SIZE, "enough room already");
    mpw_nil(&w);
    cr_assert_eq(mpw_reserve(&w, MSGPACK_SBUFFER_INIT_SIZE), 0);
    cr_assert_eq(got.alloc, 2 * MSGPACK_SBUFFER_INIT_SIZE);
    cr_assert_eq(mpw_reserve(&w, 5 * MSGPACK_SBUFFER_INIT_SIZE), 0);
    cr_assert_eq(got.alloc, 8 * MSGPACK_SBUFFER_INIT_SIZE);
    cr_assert_eq(got.size, 1);
    cr_assert(mpw_ok(&w));
}

Test(mpw, raw_appends_verbatim)
{
    unsigned char bytes[256]; /* every byte value, including 0xc1 which msgpack never uses */
    for (int i = 0; i < 256; i++)
        bytes[i] = (unsigned char)(255 - i);
    mpw_uint(&w, 300);
    mpw_raw(&w, bytes, sizeof bytes);
    mpw_raw(&w, NULL, 0);
    mpw_raw(&w, bytes, 0);
    cr_assert(mpw_ok(&w));
    cr_assert_eq(got.size, 3 + sizeof bytes);
    cr_assert_arr_eq(got.data + 3, bytes, sizeof bytes);

    /* already-encoded msgpack spliced into a record reads as if packed in place */
    msgpack_sbuffer sub;
    pack_sub_object(&sub);

    clear();
    msgpack_pack_array(&pk, 2);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_str_with_body(&pk, "x", 1), msgpack_pack_double(&pk, 1.5);
    msgpack_pack_nil(&pk);
    mpw_array(&w, 2);
    mpw_raw(&w, sub.data, sub.size);
    mpw_nil(&w);
    msgpack_sbuffer_destroy(&sub);
    expect_same("raw sub-object");
}

/* A failed growth sets failed, drops the write and every later one, and keeps the bytes
 * written before it. */
Test(mpw, failure_is_sticky)
{
    mpw_uint(&w, 1);
    cr_assert_eq(mpw_reserve(&w, SIZE_MAX), -1, "SIZE_MAX more bytes cannot fit");
    cr_assert_not(mpw_ok(&w));
    char *data = got.data;
    mpw_uint(&w, 2), mpw_int(&w, -2), mpw_nil(&w), mpw_bool(&w, true);
    mpw_map(&w, 1), mpw_array(&w, 1), mpw_str(&w, "x", 1), mpw_cstr(&w, "y");
    MPW_KEY(&w, "z"), mpw_raw(&w, "r", 1);
    cr_assert_eq(mpw_reserve(&w, 1), -1, "a failed writer stays failed");
    cr_assert_not(mpw_ok(&w));
    cr_assert_eq(got.size, 1);
    cr_assert_eq(got.data, data);
    cr_assert_eq(got.data[0], 0x01);

    mpw_init(&w, &got); /* a fresh writer on the same buffer carries on */
    mpw_uint(&w, 2);
    cr_assert(mpw_ok(&w));
    cr_assert_eq(got.size, 2);
}

/* msgpack cannot hold a string of 2^32 bytes; msgpack-c would write a truncated length. The
 * length is refused before the body is read, so a one-byte body stands in for it here. */
Test(mpw, oversized_string_fails)
{
    static const char one[1] = {'x'};
    mpw_nil(&w);
    mpw_str(&w, one, (size_t)UINT32_MAX + 1);
    cr_assert_not(mpw_ok(&w));
    cr_assert_eq(got.size, 1);
}

static const msgpack_object *find(const msgpack_object *map, const char *key)
{
    cr_assert_eq(map->type, MSGPACK_OBJECT_MAP);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
            memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size) == 0)
            return &kv->val;
    }
    cr_assert_fail("no key '%s'", key);
    return NULL;
}

static void expect_str(const msgpack_object *o, const char *want)
{
    cr_assert_eq(o->type, MSGPACK_OBJECT_STR);
    cr_assert_eq(o->via.str.size, strlen(want));
    cr_assert_arr_eq(o->via.str.ptr, want, strlen(want));
}

Test(mpw, record_decodes)
{
    msgpack_sbuffer sub;
    pack_sub_object(&sub);

    char note[300];
    memset(note, 'n', sizeof note - 1);
    note[sizeof note - 1] = '\0';

    mpw_map(&w, 8);
    MPW_KEY(&w, "seq"), mpw_uint(&w, 1ULL << 40);
    MPW_KEY(&w, "at"), mpw_int(&w, -5);
    MPW_KEY(&w, "task"), mpw_map(&w, 5);
    MPW_KEY(&w, "id"), mpw_cstr(&w, "T-0042");
    MPW_KEY(&w, "grid"), mpw_str(&w, "daidong-east", 7);
    MPW_KEY(&w, "priority"), mpw_int(&w, 3);
    MPW_KEY(&w, "done"), mpw_bool(&w, false);
    MPW_KEY(&w, "due"), mpw_nil(&w);
    MPW_KEY(&w, "tags"), mpw_array(&w, 3);
    mpw_cstr(&w, "a"), mpw_int(&w, INT64_MIN), mpw_uint(&w, UINT64_MAX);
    MPW_KEY(&w, "body"), mpw_raw(&w, sub.data, sub.size);
    MPW_KEY(&w, "ok"), mpw_bool(&w, true);
    MPW_KEY(&w, "note"), mpw_cstr(&w, note);
    MPW_KEY(&w, "neg"), mpw_int(&w, -40000);
    msgpack_sbuffer_destroy(&sub);
    cr_assert(mpw_ok(&w));

    msgpack_zone zone;
    cr_assert(msgpack_zone_init(&zone, 2048));
    msgpack_object o;
    size_t off = 0;
    cr_assert_eq(msgpack_unpack(got.data, got.size, &off, &zone, &o), MSGPACK_UNPACK_SUCCESS);
    cr_assert_eq(off, got.size, "one object, %zu of %zu bytes", off, got.size);
    cr_assert_eq(o.type, MSGPACK_OBJECT_MAP);
    cr_assert_eq(o.via.map.size, 8);

    const msgpack_object *v = find(&o, "seq");
    cr_assert_eq(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_assert_eq(v->via.u64, 1ULL << 40);
    v = find(&o, "at");
    cr_assert_eq(v->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    cr_assert_eq(v->via.i64, -5);

    const msgpack_object *task = find(&o, "task");
    cr_assert_eq(task->via.map.size, 5);
    expect_str(find(task, "id"), "T-0042");
    expect_str(find(task, "grid"), "daidong");
    v = find(task, "priority");
    cr_assert_eq(v->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_assert_eq(v->via.u64, 3);
    v = find(task, "done");
    cr_assert_eq(v->type, MSGPACK_OBJECT_BOOLEAN);
    cr_assert_not(v->via.boolean);
    cr_assert_eq(find(task, "due")->type, MSGPACK_OBJECT_NIL);

    v = find(&o, "tags");
    cr_assert_eq(v->type, MSGPACK_OBJECT_ARRAY);
    cr_assert_eq(v->via.array.size, 3);
    expect_str(&v->via.array.ptr[0], "a");
    cr_assert_eq(v->via.array.ptr[1].type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    cr_assert_eq(v->via.array.ptr[1].via.i64, INT64_MIN);
    cr_assert_eq(v->via.array.ptr[2].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_assert_eq(v->via.array.ptr[2].via.u64, UINT64_MAX);

    v = find(find(&o, "body"), "x");
    cr_assert_eq(v->type, MSGPACK_OBJECT_FLOAT64);
    cr_assert_float_eq(v->via.f64, 1.5, 0);
    v = find(&o, "ok");
    cr_assert_eq(v->type, MSGPACK_OBJECT_BOOLEAN);
    cr_assert(v->via.boolean);
    expect_str(find(&o, "note"), note);
    v = find(&o, "neg");
    cr_assert_eq(v->type, MSGPACK_OBJECT_NEGATIVE_INTEGER);
    cr_assert_eq(v->via.i64, -40000);

    msgpack_zone_destroy(&zone);
}
