/*
 * test_crash: kill -9 a real gridbusd in the middle of a pipelined publishing load,
 * restart it on the same state dir, and check that nothing it acked was lost — the
 * durability promise of the wire contract ("acked means committed to disk").
 *
 * Several DEALERs keep a window of publishes outstanding each; every ack is recorded
 * (id -> seq) as it arrives. The kill comes when a set number of acks has been seen, so
 * the point is decided by count, never by time. After each restart the whole log is
 * replayed: every acked id is there exactly once with its acked seq and content, no id
 * appears twice, every record is an event we sent, and resends of acked ids are dups
 * with the old seq. The cycle repeats; the test is bounded in count and stops by itself.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "gbload.h"
#include "gbtest.h"
#include "harness.h"

#define PUBLISHERS 4
#define WINDOW 32       /* publishes outstanding per DEALER */
#define KILL_AFTER 2000 /* acks seen in a cycle before kill -9 */
#define CYCLES 4
#define RESENDS 25 /* acked ids resent after each restart */

static gbd_t *d;
static void *ctx;
static gbload_t load; /* the events sent, and those acked */

static void setup(void)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    ctx = zmq_ctx_new();
    gbload_init(&load, "crash");
}

static void teardown(void)
{
    gbt_close_all();
    if (ctx)
        zmq_ctx_term(ctx);
    if (d && gbd_pid(d))
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
    gbd_free(&d);
    gbload_fini(&load);
}

TestSuite(crash, .init = setup, .fini = teardown, .timeout = 600);

/* Publishes from PUBLISHERS DEALERs, WINDOW outstanding each, until KILL_AFTER acks have
 * been seen in this cycle; then kills the daemon with requests still in flight. */
static void publish_then_kill(int cycle)
{
    zmq_pollitem_t items[PUBLISHERS];
    for (int p = 0; p < PUBLISHERS; p++) {
        items[p] = (zmq_pollitem_t){gbt_connect(ctx, ZMQ_DEALER, gbd_endpoint(d, "ingest")), 0,
                                    ZMQ_POLLIN, 0};
        cr_assert_not_null(items[p].socket, "%s", gbt_why());
        for (int w = 0; w < WINDOW; w++)
            gbload_send_next(&load, items[p].socket);
    }
    int seen = 0;
    while (seen < KILL_AFTER) {
        int rc = zmq_poll(items, PUBLISHERS, GBT_WAIT_MS);
        cr_assert_gt(rc, 0, "cycle %d: no ack within %d ms after %d acks", cycle, GBT_WAIT_MS,
                     seen);
        for (int p = 0; p < PUBLISHERS; p++) {
            if (!(items[p].revents & ZMQ_POLLIN))
                continue;
            int got = (int)gbload_drain(&load, items[p].socket);
            seen += got;
            for (int k = 0; k < got && seen < KILL_AFTER; k++)
                gbload_send_next(&load, items[p].socket);
        }
    }
    gbd_kill9(d);
    cr_assert_eq(gbd_pid(d), 0);
    for (int p = 0; p < PUBLISHERS; p++) {
        gbload_drain(&load, items[p].socket); /* acks that reached us before the kill count too */
        gbt_close(items[p].socket);
    }
}

/* Every record is an event we sent, stored with the content we sent. */
static void assert_all_ours(const json_t *log)
{
    size_t i;
    json_t *rec;
    json_array_foreach(log, i, rec)
    {
        json_t *ev = json_object_get(rec, "event");
        const char *id = json_string_value(json_object_get(ev, "id"));
        cr_assert(id && strncmp(id, "crash-", 6) == 0, "record %zu is not ours", i);
        size_t n = strtoul(id + 6, NULL, 10);
        cr_assert_lt(n, json_array_size(load.sent), "record %zu: %s was never sent", i, id);
        cr_assert(json_equal(ev, json_array_get(load.sent, n)), "record %zu: %s with other content",
                  i, id);
    }
}

/* Resends RESENDS acked ids spread over all cycles: each a dup with its acked seq. */
static void assert_resends_are_dups(gbt_client_t *c)
{
    size_t total = json_object_size(load.acked), step = total / RESENDS + 1, i = 0;
    const char *id;
    json_t *a;
    json_object_foreach(load.acked, id, a)
    {
        if (i++ % step)
            continue;
        const wire_reply_t *r = gbt_publish(c, json_object_get(a, "event"));
        cr_assert(gbt_is_ack(r, id) && r->dup, "resend of %s: want ack dup:true, got %s", id,
                  gbt_show(c));
        cr_assert_eq((json_int_t)r->seq, json_integer_value(json_object_get(a, "seq")),
                     "resend of %s got seq %" PRIu64 " after a crash", id, r->seq);
    }
}

static void restart_and_verify(int cycle)
{
    cr_assert_eq(gbd_restart(d), 0, "cycle %d: gridbusd did not restart after kill -9", cycle);
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    json_t *log = gbt_replay_all(c, 0);
    cr_assert_not_null(log, "cycle %d: replay: %s", cycle, gbt_why());
    cr_assert_eq(gbt_check_log(load.acked, log), 0, "cycle %d: %s", cycle, gbt_why());
    assert_all_ours(log);
    cr_assert_geq(json_array_size(log), json_object_size(load.acked));
    cr_assert_leq(json_array_size(log), json_array_size(load.sent));
    json_t *last = json_object_get(json_array_get(log, json_array_size(log) - 1), "seq");
    cr_assert_eq(gbt_head(c), json_integer_value(last),
                 "cycle %d: head is not the last seq in the log", cycle);
    assert_resends_are_dups(c);
    cr_log_info("cycle %d: %zu sent, %zu acked, %zu in the log", cycle, json_array_size(load.sent),
                json_object_size(load.acked), json_array_size(log));
    json_decref(log);
    gbt_client_free(&c);
}

Test(crash, kill9_while_publishing_loses_no_acked_event)
{
    for (int cycle = 1; cycle <= CYCLES; cycle++) {
        size_t before = json_object_size(load.acked);
        publish_then_kill(cycle);
        cr_assert_geq(json_object_size(load.acked) - before, KILL_AFTER);
        restart_and_verify(cycle);
    }
    cr_assert_geq(json_object_size(load.acked), (size_t)CYCLES * KILL_AFTER);
}
