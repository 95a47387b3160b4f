/*
 * test_subscriber: libgridbus's feed subscriber (gridbus_sub_t) against a real gridbusd.
 *
 * What it promises: every record whose topic starts with the filter, once, in seq order,
 * whether it came live on the task feed or had to be replayed (the subscriber was stopped,
 * never read, joined late, or the feed dropped it), and a cursor file that lets the next
 * subscriber go on where the last one stopped. Tasks are made by publishing repair
 * requests, each of which opens exactly one task and one feed record, so the feed seq of
 * the k-th repair is k. Nothing sleeps: every wait is a gridbus_sub_next with a hang guard,
 * and a run "has nothing more" is shown by publishing one more task and seeing that it is
 * the very next record. Feed drops are made on purpose by a proxy between the daemon and
 * the subscriber that forwards everything except chosen records.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "gbtest.h"
#include "gridbus.h"
#include "harness.h"
#include "jsonmp.h"

/* One timeout for every suite and test of this file (see test_cli.c). */
#define SUITE_TIMEOUT 180

static gbd_t *d;

static void setup(void)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
}

static void teardown(void)
{
    gbt_close_all();
    if (d)
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
}

TestSuite(sub, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT);
TestSuite(sub_restart, .fini = teardown, .timeout = SUITE_TIMEOUT);
TestSuite(sub_secure, .fini = teardown, .timeout = SUITE_TIMEOUT);

/* ---- publishing tasks -------------------------------------------------------------- */

typedef struct {
    size_t acked, failed;
    char first_failure[200];
} tally_t;

static void count_ack(const gridbus_result_t *r, void *arg)
{
    tally_t *t = arg;
    if (r->status == GRIDBUS_OK && !r->dup) {
        t->acked++;
    } else if (t->failed++ == 0) {
        snprintf(t->first_failure, sizeof t->first_failure, "%s: %s", r->code ? r->code : "dup",
                 r->message ? r->message : "");
    }
}

/* CURVE keys of the publishers, for a daemon with security on (sub_secure). */
static gridbus_keypair_t publisher_keys, server_keys;

static gridbus_t *client(void)
{
    gridbus_t *c = gridbus_new();
    cr_assert_not_null(c);
    if (publisher_keys.public_key[0])
        cr_assert_eq(gridbus_set_curve(c, publisher_keys.public_key, publisher_keys.secret_key,
                                       server_keys.public_key),
                     0, "%s", gridbus_error(c));
    cr_assert_eq(gridbus_connect(c, gbd_endpoint(d, "ingest")), 0, "%s", gridbus_error(c));
    return c;
}

/* Sends one repair request on grid (each opens one task), pipelined. */
static void send_repair(gridbus_t *c, const char *grid, tally_t *t)
{
    gridbus_event_t *ev = gridbus_event_new();
    const void *data;
    size_t len;
    cr_assert_not_null(ev);
    cr_assert_eq(gridbus_event_set_type(ev, "repair.requested"), 0);
    gridbus_event_set_by(ev, "chen.jing");
    gridbus_event_set_grid(ev, grid);
    gridbus_event_set(ev, "household", "c1-3-201");
    gridbus_event_set(ev, "category", "water");
    gridbus_event_set(ev, "description", "kitchen pipe leaks");
    cr_assert_eq(gridbus_event_pack(ev, &data, &len), 0, "%s", gridbus_event_error(ev));
    cr_assert_eq(gridbus_send(c, data, len, count_ack, t), 0, "%s", gridbus_error(c));
    gridbus_event_destroy(&ev);
}

/* Publishes n repairs, grids taken in turn from grids (NULL: all g1), and waits for every
 * ack: each must be a new event. */
static void publish_repairs(size_t n, const char *const *grids)
{
    static const char *const g1[] = {"g1", NULL};
    gridbus_t *c = client();
    tally_t t = {0};
    size_t ngrids = 0;
    if (!grids)
        grids = g1;
    while (grids[ngrids])
        ngrids++;
    for (size_t i = 0; i < n; i++)
        send_repair(c, grids[i % ngrids], &t);
    cr_assert_eq(gridbus_flush(c), 0, "flush: %s", gridbus_error(c));
    cr_assert_eq(t.acked, n, "%zu of %zu acked; first failure: %s", t.acked, n, t.first_failure);
    gridbus_destroy(&c);
}

/* ---- subscribing ------------------------------------------------------------------- */

static char cursor_path[512];

static const char *cursor_file(void)
{
    snprintf(cursor_path, sizeof cursor_path, "%s/tail.cursor", gbd_state_dir(d));
    return cursor_path;
}

static gridbus_sub_t *subscriber(const char *feed, const char *filter, const char *cursor)
{
    gridbus_sub_t *s = gridbus_sub_new(
        gbd_endpoint(d, "ingest"), feed ? feed : gbd_endpoint(d, "tasks"), "tasks", filter, cursor);
    cr_assert_not_null(s);
    return s;
}

/* Takes the next record within the hang guard; checks that the record's own seq is the
 * one the subscriber reports and that its topic has the prefix. Returns the seq. */
static uint64_t take_one(gridbus_sub_t *s, const char *prefix)
{
    const void *rec;
    size_t len;
    int rc = gridbus_sub_next(s, GBT_WAIT_MS, &rec, &len);
    cr_assert_eq(rc, 1, "no record within %d ms (rc %d, %s: %s)", GBT_WAIT_MS, rc,
                 gridbus_sub_errcode(s), gridbus_sub_error(s));
    json_t *j = jsonmp_from_bytes(rec, len);
    cr_assert_not_null(j, "the record is not msgpack");
    json_t *seq = json_object_get(j, "seq"), *task = json_object_get(j, "task");
    const char *topic = json_string_value(json_object_get(j, "topic"));
    cr_assert(json_is_integer(seq) && json_is_object(task) && topic, "not a feed record");
    cr_assert_eq((uint64_t)json_integer_value(seq), gridbus_sub_seq(s));
    cr_assert(gbt_starts_with(topic, prefix), "topic %s is not under %s", topic, prefix);
    json_decref(j);
    return gridbus_sub_seq(s);
}

/* Takes n records and checks they are exactly want[0..n) (in that order). */
static void take_exactly(gridbus_sub_t *s, size_t n, const uint64_t *want, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = take_one(s, prefix);
        cr_assert_eq(seq, want[i], "record %zu of %zu: seq %llu, want %llu", i + 1, n,
                     (unsigned long long)seq, (unsigned long long)want[i]);
    }
}

/* Takes the records first..last, in order. */
static void take_range(gridbus_sub_t *s, uint64_t first, uint64_t last)
{
    for (uint64_t want = first; want <= last; want++) {
        uint64_t seq = take_one(s, "task/");
        cr_assert_eq(seq, want, "seq %llu, want %llu (duplicate or gap)", (unsigned long long)seq,
                     (unsigned long long)want);
    }
}

/* Shows that nothing is left before seq: publishes one more g1 task and sees it come next. */
static void nothing_before(gridbus_sub_t *s, uint64_t seq)
{
    publish_repairs(1, NULL);
    uint64_t got = take_one(s, "task/");
    cr_assert_eq(got, seq, "after the run came seq %llu, not the new task's %llu",
                 (unsigned long long)got, (unsigned long long)seq);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    static char buf[256];
    cr_assert_not_null(f, "no %s", path);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lets s run (no record may come) until its cursor reaches seq, within the hang guard. The
 * short waits only let the loop look at the cursor between wake-ups. */
static void cursor_reaches(gridbus_sub_t *s, uint64_t seq)
{
    const void *rec;
    size_t len;
    int64_t give_up = mono_ms() + GBT_WAIT_MS;
    while (gridbus_sub_cursor(s) < seq && mono_ms() < give_up) {
        int rc = gridbus_sub_next(s, 100, &rec, &len);
        cr_assert_eq(rc, 0, "rc %d (%s) while only other topics' records came", rc,
                     gridbus_sub_error(s));
    }
    cr_assert_eq(gridbus_sub_cursor(s), seq, "the cursor stays at %llu",
                 (unsigned long long)gridbus_sub_cursor(s));
}

/* ---- restart: nothing missed, nothing twice ---------------------------------------- */

Test(sub, stopped_subscriber_gets_exactly_what_it_missed_on_restart)
{
    gridbus_sub_t *s = subscriber(NULL, NULL, cursor_file());
    publish_repairs(20, NULL);
    take_range(s, 1, 20);
    cr_assert_eq(gridbus_sub_save(s), 0, "%s", gridbus_sub_error(s));
    gridbus_sub_destroy(&s);
    cr_expect_str_eq(read_text(cursor_file()), "gridbus-cursor tasks 20 task/\n");

    publish_repairs(500, NULL); /* while no subscriber runs */

    s = subscriber(NULL, NULL, cursor_file());
    take_range(s, 21, 520);
    nothing_before(s, 521);
    const gridbus_sub_stats_t *st = gridbus_sub_stats(s);
    cr_expect_eq(st->delivered, 501);
    cr_expect_geq(st->replayed, 500, "the 500 came by replay (%llu)",
                  (unsigned long long)st->replayed);
    cr_expect_eq(gridbus_sub_save(s), 0);
    cr_expect_eq(gridbus_sub_cursor(s), 521);
    gridbus_sub_destroy(&s);
    cr_expect_str_eq(read_text(cursor_file()), "gridbus-cursor tasks 521 task/\n");
}

/* A record counts as handled when the next one is asked for: the last one handed out
 * before a stop without save comes again (at-least-once across a crash). */
Test(sub, last_record_not_acknowledged_is_delivered_again)
{
    publish_repairs(5, NULL);
    gridbus_sub_t *s = subscriber(NULL, NULL, cursor_file());
    take_range(s, 1, 3);
    cr_expect_eq(gridbus_sub_cursor(s), 2);
    gridbus_sub_destroy(&s);
    cr_expect_str_eq(read_text(cursor_file()), "gridbus-cursor tasks 2 task/\n");
    s = subscriber(NULL, NULL, cursor_file());
    take_range(s, 3, 5);
    nothing_before(s, 6);
    gridbus_sub_destroy(&s);
}

/* ---- a subscriber that never reads ------------------------------------------------- */

/* The daemon's PUB never blocks: a SUB that never reads costs ingest nothing (every publish
 * is acked, none times out), and a subscriber started afterwards from nothing gets every
 * record by replay. */
Test(sub, never_reading_subscriber_does_not_slow_ingest)
{
    void *ctx = zmq_ctx_new();
    void *lazy = gbt_socket(ctx, ZMQ_SUB);
    int tiny = 1;
    cr_assert_not_null(lazy, "%s", gbt_why());
    zmq_setsockopt(lazy, ZMQ_RCVHWM, &tiny, sizeof tiny);
    cr_assert_eq(zmq_setsockopt(lazy, ZMQ_SUBSCRIBE, "", 0), 0);
    cr_assert_eq(zmq_connect(lazy, gbd_endpoint(d, "tasks")), 0);

    publish_repairs(5000, (const char *const[]){"g1", "g2", "g3", NULL});

    gridbus_sub_t *s = subscriber(NULL, NULL, NULL);
    take_range(s, 1, 5000);
    nothing_before(s, 5001);
    gridbus_sub_destroy(&s);
    gbt_close(lazy);
    zmq_ctx_term(ctx);
}

/* ---- nobody listening --------------------------------------------------------------- */

/* A raw SUB on the task feed, subscribed to every record and the heartbeat; returned once a
 * heartbeat has come through, so the daemon has its subscriptions. */
static void *raw_subscriber(void *ctx)
{
    void *sub = gbt_connect(ctx, ZMQ_SUB, gbd_endpoint(d, "tasks"));
    gbt_msg_t m = {0};
    cr_assert_not_null(sub, "%s", gbt_why());
    cr_assert_eq(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "task/", 5), 0);
    cr_assert_eq(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "hb/tasks", 8), 0);
    for (int hb = 0; hb < 10 && gbt_recv_msg(sub, &m) == 0; hb++) {
        bool is_hb = m.n == 2 && m.len[0] == 8 && memcmp(m.data[0], "hb/tasks", 8) == 0;
        gbt_msg_free(&m);
        if (is_hb)
            return sub;
    }
    cr_assert_fail("no heartbeat on the task feed");
    return NULL;
}

/* The next task record on sub (heartbeats skipped): its seq. */
static uint64_t next_record(void *sub)
{
    gbt_msg_t m = {0};
    for (int tries = 0; tries < 10; tries++) {
        cr_assert_eq(gbt_recv_msg(sub, &m), 0, "no record on the task feed");
        bool is_task = m.n == 2 && m.len[0] > 5 && memcmp(m.data[0], "task/", 5) == 0;
        json_t *rec = is_task ? jsonmp_from_bytes(m.data[1], m.len[1]) : NULL;
        gbt_msg_free(&m);
        if (rec) {
            uint64_t seq = (uint64_t)json_integer_value(json_object_get(rec, "seq"));
            json_decref(rec);
            return seq;
        }
    }
    cr_assert_fail("only heartbeats on the task feed");
    return 0;
}

/* The feed's socket tells the daemon who subscribes: with nobody left it packs nothing, and
 * a subscriber that comes back gets live records again (what it missed comes by replay). */
Test(sub, live_records_resume_when_a_subscriber_comes_back)
{
    void *ctx = zmq_ctx_new();
    void *first = raw_subscriber(ctx);
    publish_repairs(1, NULL);
    cr_expect_eq(next_record(first), 1, "live while subscribed");
    gbt_close(first);

    publish_repairs(1, NULL); /* nobody subscribes to feed record 2 */

    void *again = raw_subscriber(ctx);
    publish_repairs(1, NULL);
    cr_expect_eq(next_record(again), 3, "live again, after the record nobody subscribed to");
    gbt_close(again);
    gridbus_sub_t *s = subscriber(NULL, NULL, NULL);
    take_range(s, 1, 3); /* and 2 is there for a replay */
    gridbus_sub_destroy(&s);
    zmq_ctx_term(ctx);
}

static uint64_t until_live(gridbus_sub_t *s);

/* ---- filters ----------------------------------------------------------------------- */

/* Feed seqs are global: a g1 subscriber sees jumps that are other grids' records. It gets
 * the g1 records only, in order, and its cursor moves past the others: once it has caught
 * up, only a heartbeat's head can tell it that they exist, and a replay with its filter
 * that they are not its. */
Test(sub, filtered_subscriber_gets_its_grid_and_moves_past_the_rest)
{
    gridbus_sub_t *s = subscriber(NULL, "task/g1/", cursor_file());
    uint64_t w = until_live(s);
    publish_repairs(60, (const char *const[]){"g1", "g2", "g3", NULL});
    uint64_t want[20];
    for (size_t i = 0; i < 20; i++)
        want[i] = w + 1 + 3 * i;
    take_exactly(s, 20, want, "task/g1/");
    cursor_reaches(s, w + 60);
    uint64_t heartbeats = gridbus_sub_stats(s)->heartbeats;

    publish_repairs(6, (const char *const[]){"g2", "g3", NULL});
    cursor_reaches(s, w + 66);
    cr_expect_gt(gridbus_sub_stats(s)->heartbeats, heartbeats);
    cr_expect_gt(gridbus_sub_stats(s)->gaps, 0);
    gridbus_sub_destroy(&s);
    char line[80];
    snprintf(line, sizeof line, "gridbus-cursor tasks %llu task/g1/\n", (unsigned long long)w + 66);
    cr_expect_str_eq(read_text(cursor_file()), line);

    s = subscriber(NULL, "task/g1/", cursor_file());
    nothing_before(s, w + 67);
    gridbus_sub_destroy(&s);
}

/* A subscriber started late, from an empty cursor, replays the grid's history first and
 * then follows live records, with the filter applied to both. */
Test(sub, late_filtered_subscriber_replays_history_then_follows)
{
    publish_repairs(30, (const char *const[]){"g2", "g3", "g2", NULL});
    gridbus_sub_t *s = subscriber(NULL, "task/g2/", NULL);
    uint64_t want[20];
    for (size_t i = 0, k = 0; k < 30; k++)
        if (k % 3 != 1)
            want[i++] = k + 1;
    take_exactly(s, 20, want, "task/g2/");
    publish_repairs(3, (const char *const[]){"g2", "g1", "g2", NULL}); /* 31 32 33 */
    take_exactly(s, 2, (const uint64_t[]){31, 33}, "task/g2/");
    gridbus_sub_destroy(&s);
}

/* ---- gaps in the live feed --------------------------------------------------------- */

/* A proxy between the daemon's feed and a subscriber that forwards every message but the
 * task records it is told to drop, so gaps happen where the test wants them. */
typedef struct {
    void *ctx, *xsub, *xpub;
    char endpoint[64];
    uint64_t drop_mod;      /* drop seq % drop_mod == 0 */
    atomic_ulong drop_from; /* and every seq >= drop_from (0: none) */
    atomic_bool stop;
    atomic_ulong dropped;
    pthread_t thread;
    wire_decoder_t *dec;
} proxy_t;

static bool proxy_drops(proxy_t *p, const zmq_msg_t *topic, zmq_msg_t *rec)
{
    const msgpack_object *obj;
    uint64_t seq;
    if (zmq_msg_size(topic) < 5 || memcmp(zmq_msg_data((zmq_msg_t *)topic), "task/", 5) != 0 ||
        wire_decode_object(p->dec, zmq_msg_data(rec), zmq_msg_size(rec), &obj, NULL) < 0 ||
        wire_get_u64(obj, "seq", &seq) < 0)
        return false;
    uint64_t from = atomic_load(&p->drop_from);
    return (p->drop_mod && seq % p->drop_mod == 0) || (from && seq >= from);
}

/* Forwards one message from one socket to the other (feed messages are two frames). */
static void proxy_forward(proxy_t *p, void *from, void *to, bool feed)
{
    zmq_msg_t parts[2];
    int n = 0;
    for (bool more = true; more && n < 2; n++) {
        zmq_msg_init(&parts[n]);
        if (zmq_msg_recv(&parts[n], from, 0) < 0) {
            zmq_msg_close(&parts[n]);
            break;
        }
        more = zmq_msg_more(&parts[n]);
    }
    bool drop = feed && n == 2 && proxy_drops(p, &parts[0], &parts[1]);
    if (drop)
        atomic_fetch_add(&p->dropped, 1);
    for (int i = 0; i < n; i++) {
        if (!drop)
            zmq_msg_send(&parts[i], to, i + 1 < n ? ZMQ_SNDMORE : 0);
        zmq_msg_close(&parts[i]);
    }
}

static void *proxy_run(void *arg)
{
    proxy_t *p = arg;
    zmq_pollitem_t items[] = {{p->xsub, 0, ZMQ_POLLIN, 0}, {p->xpub, 0, ZMQ_POLLIN, 0}};
    while (!atomic_load(&p->stop)) {
        /* The timeout only lets the loop see the stop flag. */
        if (zmq_poll(items, 2, 50) <= 0)
            continue;
        if (items[0].revents & ZMQ_POLLIN)
            proxy_forward(p, p->xsub, p->xpub, true);
        if (items[1].revents & ZMQ_POLLIN)
            proxy_forward(p, p->xpub, p->xsub, false); /* subscriptions, upstream */
    }
    return NULL;
}

static void proxy_start(proxy_t *p, uint64_t drop_mod, uint64_t drop_from)
{
    size_t len = sizeof p->endpoint;
    int zero = 0;
    memset(p, 0, sizeof *p);
    p->drop_mod = drop_mod;
    atomic_store(&p->drop_from, drop_from);
    p->dec = wire_decoder_new();
    p->ctx = zmq_ctx_new();
    p->xsub = zmq_socket(p->ctx, ZMQ_XSUB);
    p->xpub = zmq_socket(p->ctx, ZMQ_XPUB);
    cr_assert(p->dec && p->xsub && p->xpub);
    zmq_setsockopt(p->xsub, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(p->xpub, ZMQ_LINGER, &zero, sizeof zero);
    cr_assert_eq(zmq_connect(p->xsub, gbd_endpoint(d, "tasks")), 0);
    cr_assert_eq(zmq_bind(p->xpub, "tcp://127.0.0.1:*"), 0);
    cr_assert_eq(zmq_getsockopt(p->xpub, ZMQ_LAST_ENDPOINT, p->endpoint, &len), 0);
    cr_assert_eq(pthread_create(&p->thread, NULL, proxy_run, p), 0);
}

static void proxy_stop(proxy_t *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    zmq_close(p->xsub);
    zmq_close(p->xpub);
    zmq_ctx_term(p->ctx);
    wire_decoder_destroy(&p->dec);
}

/* Publishes one task at a time until one reaches s live: then the subscription is in place
 * all the way to the daemon. Returns the last seq taken. */
static uint64_t until_live(gridbus_sub_t *s)
{
    uint64_t seq = gridbus_sub_seq(s);
    while (gridbus_sub_stats(s)->live == 0) {
        publish_repairs(1, NULL);
        cr_assert_eq(take_one(s, "task/"), ++seq);
    }
    return seq;
}

/* Every fifth record is dropped on the way, and so are the last ones, after which nothing
 * comes live: the jumps show the first kind, only the heartbeat's head the second. */
Test(sub, dropped_feed_records_are_replayed_in_order)
{
    proxy_t p;
    proxy_start(&p, 5, 0);
    gridbus_sub_t *s = subscriber(p.endpoint, NULL, cursor_file());
    uint64_t warm = until_live(s);
    atomic_store(&p.drop_from, warm + 198); /* the last 3 of the 200 below */
    publish_repairs(200, NULL);
    take_range(s, warm + 1, warm + 200);
    const gridbus_sub_stats_t *st = gridbus_sub_stats(s);
    cr_expect_gt(atomic_load(&p.dropped), 0);
    cr_expect_gt(st->gaps, 0);
    cr_expect_gt(st->replayed, 0, "the dropped records came by replay");
    cr_expect_gt(st->live, 1, "the others came live");
    nothing_before(s, warm + 201);
    gridbus_sub_destroy(&s);
    proxy_stop(&p);
}

/* With every record dropped, only heartbeats tell the subscriber anything. */
Test(sub, heartbeat_alone_reveals_a_silent_feed)
{
    proxy_t p;
    proxy_start(&p, 1, 0);
    publish_repairs(1, NULL);
    gridbus_sub_t *s = subscriber(p.endpoint, NULL, NULL);
    take_range(s, 1, 1); /* the first replay */
    publish_repairs(10, NULL);
    take_range(s, 2, 11);
    cr_expect_eq(gridbus_sub_stats(s)->live, 0);
    cr_expect_gt(gridbus_sub_stats(s)->heartbeats, 0);
    gridbus_sub_destroy(&s);
    proxy_stop(&p);
}

static int free_port(void);

/* A feed that never says anything (here: nothing listens there) is not trusted: with no
 * heartbeat for a while the subscriber replays, so records still come. */
Test(sub, silent_feed_is_worked_around_by_replay)
{
    char dead[64];
    const void *rec;
    size_t len;
    snprintf(dead, sizeof dead, "tcp://127.0.0.1:%d", free_port());
    gridbus_sub_t *s = subscriber(dead, NULL, NULL);
    cr_assert_eq(gridbus_sub_next(s, 0, &rec, &len), 0, "%s", gridbus_sub_error(s));
    publish_repairs(3, NULL);
    take_range(s, 1, 3);
    cr_expect_gt(gridbus_sub_stats(s)->probes, 0);
    cr_expect_eq(gridbus_sub_stats(s)->heartbeats, 0);
    gridbus_sub_destroy(&s);
}

/* ---- where to start ---------------------------------------------------------------- */

Test(sub, start_at_head_or_at_a_seq_when_there_is_no_cursor)
{
    const void *rec;
    size_t len;
    publish_repairs(5, NULL);
    gridbus_sub_t *s = subscriber(NULL, NULL, cursor_file());
    gridbus_sub_set_start(s, GRIDBUS_SUB_HEAD);
    cr_assert_eq(gridbus_sub_next(s, 0, &rec, &len), 0, "%s", gridbus_sub_error(s));
    cr_expect_eq(gridbus_sub_cursor(s), 5);
    nothing_before(s, 6);
    cr_assert_eq(gridbus_sub_save(s), 0);
    gridbus_sub_destroy(&s);

    s = subscriber(NULL, NULL, cursor_file());
    gridbus_sub_set_start(s, 1); /* ignored: the cursor file says 6 */
    nothing_before(s, 7);
    gridbus_sub_destroy(&s);

    s = subscriber(NULL, NULL, NULL);
    gridbus_sub_set_start(s, 4);
    take_range(s, 5, 7);
    gridbus_sub_destroy(&s);
}

/* ---- refusals ---------------------------------------------------------------------- */

static void expect_failure(gridbus_sub_t *s, const char *code, const char *text)
{
    const void *rec;
    size_t len;
    cr_expect_eq(gridbus_sub_next(s, 0, &rec, &len), -1);
    cr_expect_str_eq(gridbus_sub_errcode(s), code, "%s: %s", gridbus_sub_errcode(s),
                     gridbus_sub_error(s));
    cr_expect(strstr(gridbus_sub_error(s), text), "'%s' lacks '%s'", gridbus_sub_error(s), text);
}

Test(sub, cursor_of_another_filter_or_garbage_is_refused)
{
    gridbus_sub_t *s = subscriber(NULL, NULL, cursor_file());
    cr_assert_eq(gridbus_sub_save(s), 0);
    gridbus_sub_destroy(&s);
    s = subscriber(NULL, "task/g1/", cursor_file());
    expect_failure(s, "E_INVAL", "filter 'task/'");
    gridbus_sub_destroy(&s);

    FILE *f = fopen(cursor_file(), "w");
    fputs("42\n", f);
    fclose(f);
    s = subscriber(NULL, NULL, cursor_file());
    expect_failure(s, "E_INVAL", "not a gridbus cursor");
    gridbus_sub_destroy(&s);

    /* A cursor past the head (another daemon's): refused, not followed. */
    f = fopen(cursor_file(), "w");
    fputs("gridbus-cursor tasks 42 task/\n", f);
    fclose(f);
    s = subscriber(NULL, NULL, cursor_file());
    expect_failure(s, "E_INVAL", "past the tasks stream's head 0");
    gridbus_sub_destroy(&s);

    /* A cursor that cannot be saved: the record is handed out, and asking for the next one
     * (which saves) fails, until the file can be written. */
    publish_repairs(1, NULL);
    s = subscriber(NULL, NULL, "/nonexistent-dir/x/cursor");
    take_range(s, 1, 1);
    expect_failure(s, "E_IO", "/nonexistent-dir/x/cursor");
    expect_failure(s, "E_IO", "/nonexistent-dir/x/cursor");
    gridbus_sub_destroy(&s);
}

Test(sub, bad_stream_and_unknown_stream)
{
    gridbus_sub_t *s =
        gridbus_sub_new(gbd_endpoint(d, "ingest"), gbd_endpoint(d, "tasks"), "Tasks!", NULL, NULL);
    expect_failure(s, "E_INVAL", "stream");
    gridbus_sub_destroy(&s);
    /* A stream the daemon does not replay: its nack, every time. */
    s = gridbus_sub_new(gbd_endpoint(d, "ingest"), gbd_endpoint(d, "alerts"), "nosuch", NULL, NULL);
    expect_failure(s, "E_SCHEMA", "stream");
    expect_failure(s, "E_SCHEMA", "stream");
    gridbus_sub_destroy(&s);
}

/* ---- the daemon goes away ---------------------------------------------------------- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A daemon killed and restarted on the same ports: the subscriber reconnects by itself and
 * misses nothing of what is committed after. */
Test(sub_restart, subscriber_survives_a_daemon_restart)
{
    char ingest[80], tasks[80];
    snprintf(ingest, sizeof ingest, "endpoints.ingest=tcp://127.0.0.1:%d", free_port());
    snprintf(tasks, sizeof tasks, "endpoints.tasks=tcp://127.0.0.1:%d", free_port());
    const char *extra[] = {"--set", ingest, "--set", tasks, NULL};
    d = gbd_start(NULL, extra);
    cr_assert_not_null(d);
    gridbus_sub_t *s = subscriber(NULL, NULL, cursor_file());
    gridbus_sub_set_timeout(s, 500);
    publish_repairs(10, NULL);
    take_range(s, 1, 10);
    gbd_kill9(d);
    cr_assert_eq(gbd_restart(d), 0, "gridbusd did not restart");
    publish_repairs(10, NULL);
    take_range(s, 11, 20);
    nothing_before(s, 21);
    gridbus_sub_destroy(&s);
}

/* ---- a daemon with security on ------------------------------------------------------ */

/* Every endpoint of such a daemon is a CURVE server, the feed too: the subscriber's two
 * connections take the member's keys; without them it gets nothing at all. */
Test(sub_secure, subscriber_speaks_curve_to_a_secured_daemon)
{
    char dir[] = "/tmp/gridbus-sub-XXXXXX", keys[600], key_file[600], set[700], err[300];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(keys, sizeof keys, "%s/clients.keys", dir);
    snprintf(key_file, sizeof key_file, "%s/chen.jing.key", dir);
    cr_assert_eq(gridbus_keypair_new(&publisher_keys), 0);
    FILE *f = fopen(keys, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s chen.jing\n", publisher_keys.public_key);
    fclose(f);
    cr_assert_eq(gridbus_keypair_save(&publisher_keys, key_file, "chen.jing", err, sizeof err), 0,
                 "%s", err);
    snprintf(set, sizeof set, "security.keys=%s", keys);
    d = gbd_start(NULL,
                  (const char *const[]){"--set", "security.enabled=true", "--set", set, NULL});
    cr_assert_not_null(d);
    char server_pub[700];
    snprintf(server_pub, sizeof server_pub, "%s/server.pub", gbd_state_dir(d));
    cr_assert_eq(gridbus_keypair_load(server_pub, &server_keys, err, sizeof err), 0, "%s", err);

    gridbus_sub_t *s = subscriber(NULL, NULL, NULL);
    cr_assert_eq(gridbus_sub_set_key_file(s, key_file, server_pub), 0, "%s", gridbus_sub_error(s));
    publish_repairs(3, NULL);
    take_range(s, 1, 3);
    uint64_t live = until_live(s); /* the feed's handshake worked too */
    nothing_before(s, live + 1);
    gridbus_sub_destroy(&s);

    s = subscriber(NULL, NULL, NULL); /* no keys */
    gridbus_sub_set_timeout(s, 200);
    gridbus_sub_set_retries(s, 0);
    const void *rec;
    size_t len;
    cr_expect_eq(gridbus_sub_next(s, 0, &rec, &len), -1);
    cr_expect_str_eq(gridbus_sub_errcode(s), "E_TIMEOUT");
    gridbus_sub_destroy(&s);
    memset(&publisher_keys, 0, sizeof publisher_keys);
    unlink(keys), unlink(key_file), rmdir(dir);
}
