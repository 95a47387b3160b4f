/*
 * test_storage: a full map. The daemon starts with a tiny LMDB map and a small cap; it
 * must grow the map while under the cap, refuse publishes with E_STORAGE once the cap is
 * reached, keep answering pings and replays, lose nothing it acked, and accept events
 * again after a restart with a larger cap.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"

/* Events big enough (about 3.5 KiB each) that a 1 MiB cap is reached in a few hundred. */
static json_t *big_event(int i)
{
    char id[32];
    snprintf(id, sizeof id, "cap-%05d", i);
    json_t *ev = gbt_event("repair.requested", id);
    char desc[3500];
    memset(desc, 'x', sizeof desc - 1);
    desc[sizeof desc - 1] = 0;
    json_object_set_new(json_object_get(ev, "body"), "description", json_string(desc));
    return ev;
}

Test(storage, map_grows_then_refuses_at_cap_and_keeps_serving, .timeout = 180)
{
    const char *small[] = {"--set", "store.map_size=256KiB", "--set", "store.map_size_max=1MiB",
                           NULL};
    gbd_t *d = gbd_start(NULL, small);
    cr_assert_not_null(d, "gridbusd did not start");
    void *ctx = zmq_ctx_new();
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    json_t *acked = gbt_acked_new();
    int refused_at = -1;
    for (int i = 0; i < 2000 && refused_at < 0; i++) {
        json_t *ev = big_event(i);
        const wire_reply_t *r = gbt_publish(c, ev);
        cr_assert_not_null(r, "no reply to publish %d: %s", i, gbt_why());
        if (r->op == WIRE_REPLY_ACK)
            gbt_acked_add(acked, json_string_value(json_object_get(ev, "id")), r->seq, ev);
        else if (gbt_is_nack(r, GB_E_STORAGE))
            refused_at = i;
        else
            cr_assert_fail("publish %d: unexpected reply %s", i, gbt_show(c));
        json_decref(ev);
    }
    cr_assert_gt(refused_at, 64, "the map should have grown past 256 KiB before refusing (refused at %d)",
                 refused_at);
    cr_assert_lt(refused_at, 2000, "the 1 MiB cap was never reached");

    /* Still serving: ping, replay of everything acked, and a resend is still a dup. */
    cr_assert_eq(gbt_head(c), (int64_t)json_object_size(acked));
    json_t *log = gbt_replay_all(c, 0);
    cr_assert_not_null(log, "replay at the cap: %s", gbt_why());
    cr_assert_eq(gbt_check_log(acked, log), 0, "%s", gbt_why());
    json_decref(log);
    json_t *again = big_event(0);
    const wire_reply_t *r = gbt_publish(c, again);
    cr_assert(r && r->op == WIRE_REPLY_ACK && r->dup, "resend at the cap: %s", gbt_show(c));
    json_decref(again);

    /* A refused event was not stored; after a restart with room it is accepted. */
    gbt_client_free(&c);
    gbd_kill9(d);
    gbd_free(&d);
    zmq_ctx_term(ctx);
    json_decref(acked);
}

Test(storage, a_larger_cap_after_restart_accepts_again, .timeout = 180)
{
    char dir[] = "/tmp/gridbus-storage-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const char *small[] = {"--set", "store.map_size=256KiB", "--set", "store.map_size_max=512KiB",
                           NULL};
    const char *large[] = {"--set", "store.map_size=256KiB", "--set", "store.map_size_max=8MiB",
                           NULL};
    gbd_t *d = gbd_start(dir, small);
    cr_assert_not_null(d);
    void *ctx = zmq_ctx_new();
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    json_t *acked = gbt_acked_new(), *refused = NULL;
    for (int i = 0; !refused; i++) {
        cr_assert_lt(i, 2000, "the cap was never reached");
        json_t *ev = big_event(i);
        const wire_reply_t *r = gbt_publish(c, ev);
        cr_assert_not_null(r, "%s", gbt_why());
        if (gbt_is_nack(r, GB_E_STORAGE))
            refused = ev;
        else {
            cr_assert_eq(r->op, WIRE_REPLY_ACK, "%s", gbt_show(c));
            gbt_acked_add(acked, json_string_value(json_object_get(ev, "id")), r->seq, ev);
            json_decref(ev);
        }
    }
    gbt_client_free(&c);
    cr_assert_eq(gbd_stop(&d), 0);

    /* Same state dir, a bigger cap: the refused event goes in, nothing acked is lost. */
    d = gbd_start(dir, large);
    cr_assert_not_null(d);
    c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    const wire_reply_t *r = gbt_publish(c, refused);
    cr_assert(r && r->op == WIRE_REPLY_ACK && !r->dup, "after restart: %s", gbt_show(c));
    cr_assert_eq(r->seq, json_object_size(acked) + 1);
    gbt_acked_add(acked, json_string_value(json_object_get(refused, "id")), r->seq, refused);
    json_t *log = gbt_replay_all(c, 0);
    cr_assert_not_null(log, "%s", gbt_why());
    cr_assert_eq(gbt_check_log(acked, log), 0, "%s", gbt_why());
    cr_assert_eq(json_array_size(log), json_object_size(acked));
    json_decref(log);
    json_decref(refused);
    json_decref(acked);
    gbt_client_free(&c);
    cr_assert_eq(gbd_stop(&d), 0);
    zmq_ctx_term(ctx);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}
