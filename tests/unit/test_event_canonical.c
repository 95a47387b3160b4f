/*
 * test_event_canonical: the canonical form of an event (proto/event.c's
 * event_pack_canonical), on which idempotency rests: every key order and every integer and
 * string width of the same event packs to the same bytes, keys come out in byte order,
 * different content packs differently, and nesting is bounded.
 *
 * One of the test_event_*.c files (split by concern); see tests/lib/evtest.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtest.h"
#include "jsonmp.h"

TestSuite(canonical, .init = evt_setup, .fini = evt_teardown);

/* ---- canonical packing ---- */

static void canon(const msgpack_object *o, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    cr_assert_eq(event_pack_canonical(&pk, o), 0);
}

static void canon_json(json_t *e, msgpack_sbuffer *out)
{
    msgpack_sbuffer sb;
    jsonmp_pack_sbuffer(e, &sb);
    canon(evt_unpack(sb.data, sb.size), out);
    msgpack_sbuffer_destroy(&sb);
}

static const char *const env_keys[8] = {"v", "id", "type", "at", "by", "grid", "place", "body"};

static json_t *event_in_order(const json_t *src, const int *order, bool body_reversed)
{
    json_t *e = json_object();
    for (int i = 0; i < 8; i++) {
        const char *k = env_keys[order[i]];
        json_t *v = json_object_get(src, k);
        if (!strcmp(k, "body") && body_reversed) {
            const char *names[16];
            size_t n = 0;
            const char *bk;
            json_t *bv;
            json_object_foreach(v, bk, bv) names[n++] = bk;
            json_t *b = json_object();
            while (n--)
                json_object_set(b, names[n], json_object_get(v, names[n]));
            json_object_set_new(e, k, b);
        } else {
            json_object_set(e, k, v);
        }
    }
    return e;
}

typedef struct {
    const json_t *src;
    msgpack_sbuffer ref, got;
    long perms;
} perm_run_t;

/* Every order of order[k..7] after order[0..k-1], recursively. */
static void permute(perm_run_t *r, int *order, int k)
{
    if (k == 8) {
        json_t *e = event_in_order(r->src, order, r->perms % 2 == 1);
        canon_json(e, &r->got);
        json_decref(e);
        r->perms++;
        cr_assert_eq(r->got.size, r->ref.size, "order %ld packs to %zu bytes, not %zu", r->perms,
                     r->got.size, r->ref.size);
        cr_assert_eq(memcmp(r->got.data, r->ref.data, r->ref.size), 0, "order %ld differs",
                     r->perms);
        return;
    }
    for (int i = k; i < 8; i++) {
        int t = order[k];
        order[k] = order[i], order[i] = t;
        permute(r, order, k + 1);
        order[i] = order[k], order[k] = t;
    }
}

Test(canonical, every_key_order_packs_to_the_same_bytes)
{
    json_t *src = evt_event_full("ledger.entry_submitted");
    perm_run_t r = {src, {0}, {0}, 0};
    msgpack_sbuffer_init(&r.ref);
    msgpack_sbuffer_init(&r.got);
    canon_json(src, &r.ref);
    int order[8] = {7, 6, 5, 4, 3, 2, 1, 0};
    /* all 8! orders of the envelope keys; every other one with the body keys reversed */
    permute(&r, order, 0);
    cr_expect_eq(r.perms, 40320, "8! orders");
    json_decref(src);
    msgpack_sbuffer_destroy(&r.ref);
    msgpack_sbuffer_destroy(&r.got);
}

Test(canonical, keys_come_out_in_byte_order_and_it_is_idempotent)
{
    json_t *e = evt_event_full("task.completed");
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    canon_json(e, &a);
    json_decref(e);
    const msgpack_object *o = evt_unpack(a.data, a.size);
    static const char *const want[] = {"at", "body", "by", "grid", "id", "place", "type", "v"};
    cr_assert_eq(o->via.map.size, 8);
    for (uint32_t i = 0; i < 8; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        cr_expect(k->via.str.size == strlen(want[i]) &&
                      !memcmp(k->via.str.ptr, want[i], k->via.str.size),
                  "key %u is %.*s, want %s", i, (int)k->via.str.size, k->via.str.ptr, want[i]);
    }
    const msgpack_object *bd = event_map_get(o, "body");
    static const char *const bwant[] = {"fee_fen", "fee_waived_fen", "note", "outcome", "task"};
    cr_assert_eq(bd->via.map.size, 5);
    for (uint32_t i = 0; i < 5; i++) {
        const msgpack_object *k = &bd->via.map.ptr[i].key;
        cr_expect(k->via.str.size == strlen(bwant[i]) &&
                      !memcmp(k->via.str.ptr, bwant[i], k->via.str.size),
                  "body key %u is %.*s, want %s", i, (int)k->via.str.size, k->via.str.ptr,
                  bwant[i]);
    }
    gb_event_t ev;
    gb_error_t err;
    cr_expect_eq(event_validate(o, NULL, &ev, &err), 0, "the canonical form validates: %s",
                 err.msg);
    canon(o, &b);
    cr_expect_eq(a.size, b.size);
    cr_expect_eq(memcmp(a.data, b.data, a.size), 0, "canonical of canonical is the same");
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

Test(canonical, integer_and_string_widths_are_normalised)
{
    /* {"at": 1795737600000 as uint64 (0xcf), "s": "ab" as str8 (0xd9)} vs minimal forms */
    static const unsigned char wide[] = {0x82, 0xa2, 'a',  't',  0xcf, 0x00, 0x00, 0x01, 0xa2, 0x0f,
                                         0x8b, 0x98, 0x00, 0xa1, 's',  0xd9, 0x02, 'a',  'b'};
    static const unsigned char signed_form[] = {0x82, 0xa1, 's',  0xa2, 'a',  'b',
                                                0xa2, 'a',  't',  0xd3, 0x00, 0x00,
                                                0x01, 0xa2, 0x0f, 0x8b, 0x98, 0x00};
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    canon(evt_unpack(wide, sizeof wide), &a);
    canon(evt_unpack(signed_form, sizeof signed_form), &b);
    cr_expect_eq(a.size, b.size, "%zu vs %zu bytes", a.size, b.size);
    cr_expect_eq(memcmp(a.data, b.data, a.size), 0);
    cr_expect_lt(a.size, sizeof wide, "the canonical form is the smallest encoding");
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

Test(canonical, different_content_packs_differently)
{
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    json_t *e = evt_event_min("visit.logged");
    canon_json(e, &a);
    json_object_set_new(evt_body(e), "summary", json_string("weekly visit!"));
    canon_json(e, &b);
    json_decref(e);
    cr_expect(a.size != b.size || memcmp(a.data, b.data, a.size) != 0);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

Test(canonical, large_maps_sort_too)
{
    /* more keys than the small on-stack sort buffer */
    json_t *m = json_object();
    char k[16];
    for (int i = 99; i >= 40; i--) {
        snprintf(k, sizeof k, "k%02d", i);
        json_object_set_new(m, k, json_integer(i));
    }
    msgpack_sbuffer a;
    msgpack_sbuffer_init(&a);
    canon_json(m, &a);
    json_decref(m);
    const msgpack_object *o = evt_unpack(a.data, a.size);
    cr_assert_eq(o->via.map.size, 60);
    for (uint32_t i = 0; i < 60; i++) {
        snprintf(k, sizeof k, "k%02u", i + 40);
        cr_expect_eq(memcmp(o->via.map.ptr[i].key.via.str.ptr, k, 3), 0);
        cr_expect_eq(o->via.map.ptr[i].val.via.u64, i + 40);
    }
    msgpack_sbuffer_destroy(&a);
}

static json_t *nest(int levels)
{
    json_t *j = json_array();
    for (int i = 1; i < levels; i++)
        j = json_pack("[o]", j);
    return j;
}

Test(canonical, nesting_limit)
{
    msgpack_sbuffer sb, out;
    msgpack_packer opk;
    for (int levels = 16; levels <= 19; levels++) {
        msgpack_sbuffer_init(&out);
        msgpack_packer_init(&opk, &out, msgpack_sbuffer_write);
        json_t *j = nest(levels);
        jsonmp_pack_sbuffer(j, &sb);
        json_decref(j);
        int rc = event_pack_canonical(&opk, evt_unpack(sb.data, sb.size));
        cr_expect_eq(rc, levels <= 17 ? 0 : -1, "%d levels of nesting: rc %d", levels, rc);
        msgpack_sbuffer_destroy(&sb);
        msgpack_sbuffer_destroy(&out);
    }
}
