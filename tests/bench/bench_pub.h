/*
 * bench_pub.h: pipelined publishers, the load every ingest benchmark puts on a ROUTER
 * (gridbusd's ingest socket, or the no-store ceiling's stand-in).
 *
 * bench_publish runs npub threads; each is a DEALER on one shared ZeroMQ context (one I/O
 * thread, as a client process would have) with up to window publish requests in flight,
 * sending the mix of bench_events.h. Each publisher first pings and waits for the pong,
 * so connection set-up is outside the clock, then all start together. Every ack's latency
 * is recorded, so percentiles are of all acks, not of samples. With a rate the
 * publishers are paced to that offered load, and latency counts from the moment each
 * event was due, not from when it left: a stall that delays sends shows up in the figure
 * (no coordinated omission). Waiting uses ZMQ_FD with ppoll, so pacing is to the
 * microsecond, not to zmq_poll's millisecond. Every wait has a hang guard. Given the
 * daemon's tasks endpoint, a subscriber (bench_feed.h) also times publish -> task
 * delivered for the events that open a task.
 */
#ifndef GB_BENCH_PUB_H
#define GB_BENCH_PUB_H

#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <zmq.h>

#include "bench.h"
#include "bench_events.h"
#include "bench_feed.h"
#include "wire.h"

/* No ack for this long fails the run instead of hanging it. */
#define BENCH_HANG_NS (30 * UINT64_C(1000000000))
#define BENCH_PING_RID UINT64_MAX

typedef struct {
    const char *endpoint;
    uint32_t npub;         /* publishers */
    uint32_t window;       /* requests in flight per publisher */
    uint64_t events;       /* in all, split evenly between the publishers */
    double rate;           /* offered events/s in all; 0 = flat out */
    unsigned tag;          /* run number inside the event ids */
    const char *task_feed; /* the daemon's tasks endpoint to time task delivery; NULL: not */
} bench_load_t;

typedef struct {
    uint64_t events, acked, nacked, dups;
    double seconds, per_s, p50_ms, p99_ms, p999_ms, max_ms;
    double cpu_seconds; /* this process's CPU during the run (the publishers, and whatever
                           else the process runs, such as a ceiling's server thread) */
    bool failed;
    char why[160]; /* the first failure or nack */
    /* With a task feed: tasks opened by this run's events as the feed showed them, their
     * publish -> delivered latency, and feed records lost (seq gaps). */
    bool feed_live;
    uint64_t tasks, feed_gaps;
    double task_p50_ms, task_p99_ms, task_p999_ms;
    char feed_why[128];
} bench_result_t;

typedef struct {
    const bench_load_t *load;
    uint32_t index;
    uint64_t events;
    uint64_t *due_ns, *lat_us; /* one per event */
    uint64_t acked, nacked, dups;
    pthread_barrier_t *start;
    void *sock;
    int fd;
    wire_decoder_t *dec;
    msgpack_sbuffer req, ev;
    bool failed;
    char why[160];
} bench_pub_t;

static inline void bench_pub_fail(bench_pub_t *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static inline void bench_pub_fail(bench_pub_t *p, const char *fmt, ...)
{
    va_list ap;
    if (p->failed)
        return;
    p->failed = true;
    va_start(ap, fmt);
    vsnprintf(p->why, sizeof p->why, fmt, ap);
    va_end(ap);
}

/* Waits until the socket has input or deadline_ns passes: 1, 0 on timeout, -1 on error.
 * ZMQ_FD is edge-like: ZMQ_EVENTS must be read before every sleep on it. */
static inline int bench_wait_input(void *sock, int fd, uint64_t deadline_ns)
{
    for (;;) {
        int ev = 0;
        size_t len = sizeof ev;
        if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &len) < 0)
            return -1;
        if (ev & ZMQ_POLLIN)
            return 1;
        uint64_t now = bench_now_ns();
        if (now >= deadline_ns)
            return 0;
        uint64_t left = deadline_ns - now;
        struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
        struct pollfd pfd = {fd, POLLIN, 0};
        if (ppoll(&pfd, 1, &ts, NULL) < 0 && errno != EINTR)
            return -1;
    }
}

static inline int bench_pub_send(bench_pub_t *p, uint64_t i)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(&p->ev);
    msgpack_packer_init(&pk, &p->ev, msgpack_sbuffer_write);
    bench_pack_event(&pk, p->load->tag, p->index, i, bench_wall_ms());
    msgpack_sbuffer_clear(&p->req);
    msgpack_packer_init(&pk, &p->req, msgpack_sbuffer_write);
    wire_pack_publish(&pk, i, p->ev.data, p->ev.size);
    if (zmq_send(p->sock, p->req.data, p->req.size, 0) < 0) {
        bench_pub_fail(p, "send: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

/* Accounts for one reply; its latency counts from when its event was due. */
static inline void bench_pub_reply(bench_pub_t *p, const char *buf, int n)
{
    wire_reply_t rep;
    gb_error_t err;
    if (n < 0 || wire_decode_reply(p->dec, buf, (size_t)n, &rep, &err) < 0 || !rep.rid ||
        rep.rid->type != MSGPACK_OBJECT_POSITIVE_INTEGER || rep.rid->via.u64 >= p->events)
        return bench_pub_fail(p, "publisher %u: bad reply", p->index);
    uint64_t i = rep.rid->via.u64;
    if (rep.op == WIRE_REPLY_ACK)
        p->acked++, p->dups += rep.dup;
    else if (rep.op == WIRE_REPLY_NACK && p->nacked++ == 0)
        snprintf(p->why, sizeof p->why, "nack %s: %.*s", gb_code_name(rep.code), (int)rep.error.len,
                 rep.error.ptr);
    p->lat_us[i] = (bench_now_ns() - p->due_ns[i]) / 1000;
}

/* Reads every reply already queued; returns how many. */
static inline uint64_t bench_pub_drain(bench_pub_t *p)
{
    char buf[1024];
    uint64_t got = 0;
    int n;
    while (!p->failed && (n = zmq_recv(p->sock, buf, sizeof buf, ZMQ_DONTWAIT)) >= 0) {
        bench_pub_reply(p, buf, n > (int)sizeof buf ? -1 : n);
        got++;
    }
    return got;
}

/* When event number sent is due: now (0) when flat out; when paced, on the rate's schedule,
 * the publishers' schedules staggered so that together they send evenly, not in bursts. */
static inline uint64_t bench_pub_due(const bench_pub_t *p, uint64_t start, uint64_t sent)
{
    double per_pub = p->load->rate / p->load->npub;
    double slot = (double)sent + (double)p->index / p->load->npub;
    return per_pub > 0 ? start + (uint64_t)(slot * 1e9 / per_pub) : 0;
}

static inline void bench_pub_loop(bench_pub_t *p)
{
    uint64_t sent = 0, got = 0, start = bench_now_ns();
    while (!p->failed && got < p->events) {
        uint64_t now = bench_now_ns(), due = bench_pub_due(p, start, sent);
        bool can_send = sent < p->events && sent - got < p->load->window;
        if (can_send && due <= now) {
            p->due_ns[sent] = due ? due : now;
            if (bench_pub_send(p, sent) == 0)
                sent++;
            continue;
        }
        uint64_t until = can_send ? due : now + BENCH_HANG_NS;
        int rc = bench_wait_input(p->sock, p->fd, until);
        if (rc > 0)
            got += bench_pub_drain(p);
        else if (rc < 0 || !can_send)
            bench_pub_fail(p, "publisher %u: no ack within %llu s", p->index,
                           (unsigned long long)(BENCH_HANG_NS / 1000000000u));
    }
}

/* Connects and waits for a pong, so connection set-up is outside the clock. */
static inline int bench_pub_connect(bench_pub_t *p, void *ctx)
{
    int linger = 0;
    size_t len = sizeof p->fd;
    p->sock = zmq_socket(ctx, ZMQ_DEALER);
    if (!p->sock || zmq_setsockopt(p->sock, ZMQ_LINGER, &linger, sizeof linger) < 0 ||
        zmq_connect(p->sock, p->load->endpoint) < 0 ||
        zmq_getsockopt(p->sock, ZMQ_FD, &p->fd, &len) < 0)
        return bench_pub_fail(p, "connect: %s", zmq_strerror(zmq_errno())), -1;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &p->req, msgpack_sbuffer_write);
    wire_pack_ping(&pk, BENCH_PING_RID);
    char buf[1024];
    if (zmq_send(p->sock, p->req.data, p->req.size, 0) < 0 ||
        bench_wait_input(p->sock, p->fd, bench_now_ns() + BENCH_HANG_NS) <= 0 ||
        zmq_recv(p->sock, buf, sizeof buf, ZMQ_DONTWAIT) < 0)
        return bench_pub_fail(p, "publisher %u: no pong", p->index), -1;
    return 0;
}

typedef struct {
    bench_pub_t *pub;
    void *ctx;
} bench_pub_arg_t;

static inline void *bench_pub_main(void *arg)
{
    bench_pub_arg_t *a = arg;
    bench_pub_t *p = a->pub;
    msgpack_sbuffer_init(&p->req), msgpack_sbuffer_init(&p->ev);
    p->dec = wire_decoder_new();
    bench_pub_connect(p, a->ctx);
    pthread_barrier_wait(p->start);
    if (!p->failed)
        bench_pub_loop(p);
    if (p->sock)
        zmq_close(p->sock);
    wire_decoder_destroy(&p->dec);
    msgpack_sbuffer_destroy(&p->req), msgpack_sbuffer_destroy(&p->ev);
    return NULL;
}

typedef struct {
    bench_feed_t feed;
    void *ctx;
    pthread_barrier_t *start;
} bench_feed_arg_t;

static inline void *bench_feed_main(void *arg)
{
    bench_feed_arg_t *a = arg;
    wire_decoder_t *dec = wire_decoder_new();
    void *sock = bench_feed_open(a->ctx, a->feed.endpoint);
    bool live = sock && dec && bench_feed_wait_live(&a->feed, sock, dec) == 0;
    pthread_barrier_wait(a->start);
    if (live)
        bench_feed_loop(&a->feed, sock, dec);
    else
        a->feed.failed = true;
    if (sock)
        zmq_close(sock);
    wire_decoder_destroy(&dec);
    return NULL;
}

/* Sets up the feed's per-event stamps: 0, or -1 out of memory. */
static inline int bench_feed_alloc(bench_feed_arg_t *a, const bench_load_t *load,
                                   const bench_pub_t *pubs, uint64_t *events)
{
    a->feed.endpoint = load->task_feed, a->feed.tag = load->tag, a->feed.npub = load->npub;
    a->feed.events = events;
    atomic_init(&a->feed.publishers_done, false);
    a->feed.seen_ns = calloc(load->npub, sizeof *a->feed.seen_ns);
    for (uint32_t i = 0; a->feed.seen_ns && i < load->npub; i++) {
        events[i] = pubs[i].events;
        if (!(a->feed.seen_ns[i] = calloc(events[i] ? events[i] : 1, sizeof(uint64_t))))
            return -1;
    }
    return a->feed.seen_ns ? 0 : -1;
}

static inline void bench_feed_free(bench_feed_arg_t *a, uint32_t npub)
{
    for (uint32_t i = 0; a->feed.seen_ns && i < npub; i++)
        free(a->feed.seen_ns[i]);
    free(a->feed.seen_ns);
}

/* Publish -> task delivered, from when each event was due to when its task arrived. */
static inline void bench_feed_collect(const bench_feed_arg_t *a, const bench_pub_t *pubs,
                                      uint32_t npub, bench_result_t *r)
{
    const bench_feed_t *f = &a->feed;
    uint64_t *lat = malloc((f->opened ? f->opened : 1) * sizeof *lat), n = 0;
    r->feed_live = !f->failed, r->tasks = f->opened, r->feed_gaps = f->gaps;
    snprintf(r->feed_why, sizeof r->feed_why, "%s", f->why);
    for (uint32_t p = 0; lat && p < npub; p++)
        for (uint64_t i = 0; i < pubs[p].events; i++)
            if (f->seen_ns[p][i] && n < f->opened)
                lat[n++] = (f->seen_ns[p][i] - pubs[p].due_ns[i]) / 1000;
    if (lat && n) {
        qsort(lat, n, sizeof *lat, bench_cmp_u64);
        r->task_p50_ms = bench_pct_ms(lat, n, 0.5), r->task_p99_ms = bench_pct_ms(lat, n, 0.99);
        r->task_p999_ms = bench_pct_ms(lat, n, 0.999);
    }
    free(lat);
}

/* Fills r's totals and percentiles from the publishers' records. */
static inline void bench_pub_collect(bench_pub_t *pubs, uint32_t npub, bench_result_t *r)
{
    uint64_t *all = malloc((r->events ? r->events : 1) * sizeof *all), n = 0;
    for (uint32_t i = 0; i < npub; i++) {
        bench_pub_t *p = &pubs[i];
        if (all)
            memcpy(all + n, p->lat_us, p->events * sizeof *all);
        n += p->events, r->acked += p->acked, r->nacked += p->nacked, r->dups += p->dups;
        if ((p->failed || p->nacked) && !r->why[0])
            snprintf(r->why, sizeof r->why, "%s", p->why);
        r->failed |= p->failed;
    }
    r->per_s = r->seconds > 0 ? (double)r->acked / r->seconds : 0;
    if (!all || r->failed)
        return free(all);
    qsort(all, n, sizeof *all, bench_cmp_u64);
    r->p50_ms = bench_pct_ms(all, n, 0.5), r->p99_ms = bench_pct_ms(all, n, 0.99);
    r->p999_ms = bench_pct_ms(all, n, 0.999), r->max_ms = n ? (double)all[n - 1] / 1000 : 0;
    free(all);
}

static inline int bench_pub_alloc(bench_pub_t *pubs, const bench_load_t *load)
{
    for (uint32_t i = 0; i < load->npub; i++) {
        bench_pub_t *p = &pubs[i];
        p->load = load, p->index = i;
        p->events = load->events / load->npub + (i < load->events % load->npub);
        p->due_ns = calloc(p->events ? p->events : 1, sizeof *p->due_ns);
        p->lat_us = calloc(p->events ? p->events : 1, sizeof *p->lat_us);
        if (!p->due_ns || !p->lat_us)
            return -1;
    }
    return 0;
}

static inline void bench_pub_free(bench_pub_t *pubs, uint32_t npub)
{
    for (uint32_t i = 0; i < npub; i++)
        free(pubs[i].due_ns), free(pubs[i].lat_us);
    free(pubs);
}

static inline double bench_self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Starts the publishers (and the feed subscriber, when feed is set), lets them go together,
 * waits for them: the run's seconds and CPU into r. */
static inline void bench_run_threads(const bench_load_t *load, bench_pub_t *pubs,
                                     bench_pub_arg_t *args, pthread_t *th, void *ctx,
                                     bench_feed_arg_t *feed, bench_result_t *r)
{
    pthread_barrier_t start;
    pthread_t feed_th;
    pthread_barrier_init(&start, NULL, load->npub + 1 + (feed != NULL));
    for (uint32_t i = 0; i < load->npub; i++) {
        pubs[i].start = &start;
        args[i] = (bench_pub_arg_t){&pubs[i], ctx};
        pthread_create(&th[i], NULL, bench_pub_main, &args[i]);
    }
    if (feed) {
        feed->ctx = ctx, feed->start = &start;
        pthread_create(&feed_th, NULL, bench_feed_main, feed);
    }
    pthread_barrier_wait(&start);
    uint64_t t0 = bench_now_ns();
    double cpu0 = bench_self_cpu();
    for (uint32_t i = 0; i < load->npub; i++)
        pthread_join(th[i], NULL);
    r->seconds = (double)(bench_now_ns() - t0) / 1e9;
    r->cpu_seconds = bench_self_cpu() - cpu0;
    if (feed) {
        atomic_store(&feed->feed.publishers_done, true);
        pthread_join(feed_th, NULL);
    }
    pthread_barrier_destroy(&start);
}

/* Runs the load to the end (or the first failure); 0 when every event was acked. */
static inline int bench_publish(const bench_load_t *load, bench_result_t *r)
{
    *r = (bench_result_t){.events = load->events};
    bench_pub_t *pubs = calloc(load->npub, sizeof *pubs);
    bench_pub_arg_t *args = calloc(load->npub, sizeof *args);
    pthread_t *th = calloc(load->npub, sizeof *th);
    uint64_t *feed_events = calloc(load->npub, sizeof *feed_events);
    bench_feed_arg_t feed = {0};
    void *ctx = zmq_ctx_new();
    if (!pubs || !args || !th || !feed_events || !ctx || bench_pub_alloc(pubs, load) < 0 ||
        (load->task_feed && bench_feed_alloc(&feed, load, pubs, feed_events) < 0)) {
        snprintf(r->why, sizeof r->why, "out of memory");
        r->failed = true;
        goto out;
    }
    bench_run_threads(load, pubs, args, th, ctx, load->task_feed ? &feed : NULL, r);
    bench_pub_collect(pubs, load->npub, r);
    if (load->task_feed)
        bench_feed_collect(&feed, pubs, load->npub, r);
out:
    if (ctx)
        zmq_ctx_term(ctx);
    bench_feed_free(&feed, load->npub);
    if (pubs)
        bench_pub_free(pubs, load->npub);
    free(args), free(th), free(feed_events);
    return r->failed || r->nacked || r->acked != r->events ? -1 : 0;
}

#endif
