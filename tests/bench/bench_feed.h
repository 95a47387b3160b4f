/*
 * bench_feed.h: a subscriber to gridbusd's task feed that times publish -> task delivered.
 *
 * A field event that a route claims opens a task in the event's own transaction, and the
 * task's first feed record ("dispatched", or "parked" when nobody holds the role) is
 * published on the tasks PUB endpoint after the commit (PROTOCOL.md, "The task feed"). The
 * subscriber takes every "task/" record and the "hb/tasks" heartbeat, notes when the task
 * of each bench event arrived (the record's task.event is the event id, "b<tag>-<p>-<i>"),
 * and bench_pub.h turns that into latencies from when the event was due, after all threads
 * have joined. It starts only once a heartbeat has arrived, so its subscription is live
 * before the first event is sent (PUB drops what a subscriber is not yet subscribed to),
 * and stops once the publishers are done and a heartbeat's head shows nothing committed is
 * still on its way (or after BENCH_FEED_TAIL_NS). Feed seq gaps (PUB drops) are counted.
 */
#ifndef GB_BENCH_FEED_H
#define GB_BENCH_FEED_H

#include <stdatomic.h>
#include <zmq.h>

#include "bench.h"
#include "event.h"
#include "wire.h"

/* How long to wait for the first heartbeat (one a second), and for the tail at the end. */
#define BENCH_FEED_WAIT_NS (5 * UINT64_C(1000000000))
#define BENCH_FEED_TAIL_NS (3 * UINT64_C(1000000000))

typedef struct {
    const char *endpoint; /* the daemon's tasks PUB */
    unsigned tag;         /* only this run's events count */
    uint32_t npub;
    const uint64_t *events; /* per publisher */
    uint64_t **seen_ns;     /* [pub][i]: when event i's task arrived; 0 = not (yet) */
    atomic_bool publishers_done;
    uint64_t records, opened, gaps, last_seq, head;
    bool failed;
    char why[128];
} bench_feed_t;

/* "b<tag>-<p>-<i>" of this run: 0 and *p, *i; -1 for anything else. */
static inline int bench_feed_parse_id(const bench_feed_t *f, gb_str_t id, uint32_t *p, uint64_t *i)
{
    char buf[72];
    unsigned tag, pub;
    unsigned long long n;
    char end;
    if (id.len >= sizeof buf)
        return -1;
    memcpy(buf, id.ptr, id.len), buf[id.len] = 0;
    if (sscanf(buf, "b%u-%u-%llu%c", &tag, &pub, &n, &end) != 3 || tag != f->tag ||
        pub >= f->npub || n >= f->events[pub])
        return -1;
    *p = pub, *i = n;
    return 0;
}

static inline bool bench_str_is(gb_str_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0;
}

/* One task record: counts it, and stamps its event when this is the task's opening. */
static inline void bench_feed_record(bench_feed_t *f, const msgpack_object *rec, uint64_t now)
{
    uint64_t seq = 0, i;
    uint32_t p;
    gb_str_t change = {NULL, 0}, event = {NULL, 0};
    const msgpack_object *task = event_map_get(rec, "task");
    wire_get_u64(rec, "seq", &seq);
    wire_get_str(rec, "change", &change);
    f->records++;
    if (f->last_seq && seq > f->last_seq + 1)
        f->gaps += seq - f->last_seq - 1;
    f->last_seq = seq > f->last_seq ? seq : f->last_seq;
    if (!task || wire_get_str(task, "event", &event) < 0 ||
        !(bench_str_is(change, "dispatched") || bench_str_is(change, "parked")) ||
        bench_feed_parse_id(f, event, &p, &i) < 0 || f->seen_ns[p][i])
        return;
    f->seen_ns[p][i] = now, f->opened++;
}

/* Receives one [topic][record] message within timeout_ms: 1 heartbeat, 0 task record or
 * nothing, -1 on a malformed message. */
static inline int bench_feed_recv(bench_feed_t *f, void *sock, wire_decoder_t *dec)
{
    zmq_msg_t topic, body;
    const msgpack_object *obj;
    gb_error_t err;
    int rc = 0;
    zmq_msg_init(&topic), zmq_msg_init(&body);
    if (zmq_msg_recv(&topic, sock, 0) >= 0) {
        uint64_t now = bench_now_ns();
        bool hb = zmq_msg_size(&topic) >= 3 && memcmp(zmq_msg_data(&topic), "hb/", 3) == 0;
        if (!zmq_msg_more(&topic) || zmq_msg_recv(&body, sock, 0) < 0 ||
            wire_decode_object(dec, zmq_msg_data(&body), zmq_msg_size(&body), &obj, &err) < 0)
            rc = -1;
        else if (hb)
            rc = 1, wire_get_u64(obj, "head", &f->head);
        else
            bench_feed_record(f, obj, now);
    }
    zmq_msg_close(&topic), zmq_msg_close(&body);
    return rc;
}

static inline void *bench_feed_open(void *ctx, const char *endpoint)
{
    void *sock = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0, timeout = 100, hwm = 1000000;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "task/", 5);
    zmq_setsockopt(sock, ZMQ_SUBSCRIBE, "hb/tasks", 8);
    if (zmq_connect(sock, endpoint) < 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

/* Waits for the first heartbeat: the subscription is then live. */
static inline int bench_feed_wait_live(bench_feed_t *f, void *sock, wire_decoder_t *dec)
{
    uint64_t deadline = bench_now_ns() + BENCH_FEED_WAIT_NS;
    while (bench_now_ns() < deadline)
        if (bench_feed_recv(f, sock, dec) == 1)
            return 0;
    snprintf(f->why, sizeof f->why, "no heartbeat on the task feed within %llu s",
             (unsigned long long)(BENCH_FEED_WAIT_NS / 1000000000u));
    return -1;
}

/* Reads until the publishers are done and a heartbeat after that shows every committed
 * record has come (head <= last seq seen), or the tail time runs out. */
static inline void bench_feed_loop(bench_feed_t *f, void *sock, wire_decoder_t *dec)
{
    uint64_t done_at = 0;
    for (;;) {
        int rc = bench_feed_recv(f, sock, dec);
        if (rc < 0)
            f->failed = true, snprintf(f->why, sizeof f->why, "malformed task feed message");
        if (!done_at && atomic_load(&f->publishers_done))
            done_at = bench_now_ns();
        if (f->failed || (done_at && rc == 1 && f->head <= f->last_seq) ||
            (done_at && bench_now_ns() - done_at > BENCH_FEED_TAIL_NS))
            return;
    }
}

#endif
