/*
 * test_inflight: the per-connection request counts behind limits.inflight_max
 * (daemon/inflight.c): counted per routing id byte for byte, forgotten at each batch, and
 * the E_BUSY nack that refuses a request past the cap, with its rid and no dead letter.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <string.h>

#include "inflight.h"
#include "wire.h"

static inflight_t *t;

static void teardown(void)
{
    inflight_destroy(&t);
}

TestSuite(inflight, .fini = teardown, .timeout = 30);

Test(inflight, each_connection_has_its_own_count_up_to_the_limit)
{
    t = inflight_new(64, 3);
    cr_assert_not_null(t);
    const char a[] = "\0\x80\0\0\x01", b[] = "\0\x80\0\0\x02", a_long[] = "\0\x80\0\0\x01x";
    for (int i = 0; i < 3; i++) {
        cr_assert(inflight_admit(t, a, 5), "request %d of a", i + 1);
        cr_assert(inflight_admit(t, b, 5), "request %d of b", i + 1);
    }
    cr_assert_not(inflight_admit(t, a, 5), "a fourth request of a");
    cr_assert_not(inflight_admit(t, a, 5), "a fifth request of a");
    cr_assert_not(inflight_admit(t, b, 5));
    cr_assert(inflight_admit(t, a_long, 6), "an id that only starts like a is another one");
}

Test(inflight, a_new_batch_starts_from_zero)
{
    t = inflight_new(8, 1);
    const char id[] = "peer";
    cr_assert(inflight_admit(t, id, 4));
    cr_assert_not(inflight_admit(t, id, 4));
    for (int batch = 0; batch < 1000; batch++) {
        inflight_reset(t);
        cr_assert(inflight_admit(t, id, 4), "batch %d", batch);
        cr_assert_not(inflight_admit(t, id, 4), "batch %d", batch);
    }
}

Test(inflight, a_full_batch_of_distinct_connections_all_fit)
{
    enum { N = 4096 };
    static unsigned char ids[N][5];
    t = inflight_new(N, 1);
    for (int i = 0; i < N; i++) {
        ids[i][0] = 0, memcpy(ids[i] + 1, &i, 4);
        cr_assert(inflight_admit(t, ids[i], 5), "connection %d", i);
    }
    for (int i = 0; i < N; i++)
        cr_assert_not(inflight_admit(t, ids[i], 5), "connection %d again", i);
}

Test(inflight, bad_sizes_are_refused)
{
    cr_assert_null(inflight_new(16, 0));
    cr_assert_null(inflight_new(UINT32_MAX, 4));
}

Test(inflight, the_refusal_is_e_busy_with_the_rid_and_keeps_no_dead_letter)
{
    t = inflight_new(16, 8);
    msgpack_sbuffer req, reply;
    msgpack_packer pk, rpk;
    msgpack_sbuffer_init(&req), msgpack_sbuffer_init(&reply);
    msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
    msgpack_packer_init(&rpk, &reply, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "op", 2), msgpack_pack_str_with_body(&pk, "ping", 4);
    msgpack_pack_str_with_body(&pk, "rid", 3), msgpack_pack_uint64(&pk, 77);
    stats_t stats = {0};
    /* No store: a dead letter would crash here, E_BUSY keeps none. */
    op_ctx_t ctx = {.reply = &rpk, .stats = &stats, .max_message = 65536};
    wire_decoder_t *dec = wire_decoder_new();
    op_frame_t f = {.data = req.data, .len = req.size};
    cr_assert_eq(inflight_refuse(t, &ctx, dec, &f), 0);
    cr_assert_eq(stats.nacks[GB_E_BUSY], 1);
    wire_reply_t r;
    gb_error_t err;
    cr_assert_eq(wire_decode_reply(dec, reply.data, reply.size, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(r.op, WIRE_REPLY_NACK);
    cr_assert_eq(r.code, GB_E_BUSY);
    cr_assert(r.rid && r.rid->type == MSGPACK_OBJECT_POSITIVE_INTEGER && r.rid->via.u64 == 77);
    const char want[] = "busy: more than 8 requests in flight on this connection; retry later";
    cr_assert_eq(r.error.len, strlen(want));
    cr_assert_eq(memcmp(r.error.ptr, want, strlen(want)), 0, "%.*s", (int)r.error.len, r.error.ptr);
    wire_decoder_destroy(&dec);
    msgpack_sbuffer_destroy(&req), msgpack_sbuffer_destroy(&reply);
}
