/*
 * bench_query.h: a request/reply client of gridbusd's ingest socket (ping, queries), and a
 * querier that asks for one grid's first page of open tasks at a steady pace while a load
 * runs, timing every answer.
 *
 * The querier is what a supervision office's screen does while the field publishes: a
 * query of the task indexes waits until the indexer holds the last commit, and the indexer
 * runs at a lower priority than the loop, so its latency under a heavy ingest load is worth
 * a figure of its own (and so is what the queries cost that ingest).
 */
#ifndef GB_BENCH_QUERY_H
#define GB_BENCH_QUERY_H

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <zmq.h>

#include "bench.h"
#include "event.h"
#include "wire.h"

/* One request/reply connection to the daemon's ingest socket. */
typedef struct {
    void *ctx, *sock;
    wire_decoder_t *dec;
    msgpack_sbuffer req;
    zmq_msg_t reply; /* the last reply; what decoding it points into */
} bench_client_t;

static inline int bench_client_open(bench_client_t *c, const char *endpoint)
{
    int linger = 0, timeout = 5000; /* a query slower than this is a failure of the run */
    c->ctx = zmq_ctx_new();
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    c->dec = wire_decoder_new();
    msgpack_sbuffer_init(&c->req);
    zmq_msg_init(&c->reply);
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    return c->dec && zmq_connect(c->sock, endpoint) == 0 ? 0 : -1;
}

static inline void bench_client_close(bench_client_t *c)
{
    zmq_msg_close(&c->reply);
    wire_decoder_destroy(&c->dec);
    msgpack_sbuffer_destroy(&c->req);
    zmq_close(c->sock);
    zmq_ctx_term(c->ctx);
}

/* Sends what is packed in c->req and decodes the reply: 0, or -1. */
static inline int bench_client_call(bench_client_t *c, wire_reply_t *rep)
{
    gb_error_t err;
    if (zmq_send(c->sock, c->req.data, c->req.size, 0) < 0 ||
        zmq_msg_recv(&c->reply, c->sock, 0) < 0)
        return -1;
    return wire_decode_reply(c->dec, zmq_msg_data(&c->reply), zmq_msg_size(&c->reply), rep, &err);
}

/* One page (at most limit) of grid's open tasks after task seq after: its round trip in ms,
 * with the tasks it held and the next cursor; -1 when refused (a daemon without queries). */
static inline double bench_query_page(bench_client_t *c, const char *grid, uint32_t limit,
                                      uint64_t after, uint32_t *n, uint64_t *next)
{
    wire_reply_t rep;
    msgpack_packer pk;
    wire_query_args_t q = {.what = WIRE_Q_TASKS, .after = after, .limit = limit};
    q.grid = (gb_str_t){grid, (uint32_t)strlen(grid)};
    msgpack_sbuffer_clear(&c->req);
    msgpack_packer_init(&pk, &c->req, msgpack_sbuffer_write);
    wire_pack_query(&pk, 1, &q);
    uint64_t t0 = bench_now_ns();
    if (bench_client_call(c, &rep) < 0 || rep.op != WIRE_REPLY_RESULT)
        return -1;
    double ms = (double)(bench_now_ns() - t0) / 1e6;
    const msgpack_object *tasks = event_map_get(rep.root, "tasks");
    *n = tasks && tasks->type == MSGPACK_OBJECT_ARRAY ? tasks->via.array.size : 0;
    *next = 0;
    wire_get_u64(rep.root, "next", next);
    return ms;
}

/* ---- the querier: a thread asking every every_ns until stopped (or BENCH_QUERIES_MAX) ---- */

#define BENCH_QUERIES_MAX 4096

typedef struct {
    const char *endpoint, *grid;
    uint32_t limit;
    uint64_t every_ns;
    atomic_bool stop;
    uint64_t us[BENCH_QUERIES_MAX]; /* each answer's round trip */
    uint64_t n, tasks;              /* answers, and tasks in the last one */
    bool failed;
    pthread_t th;
} bench_querier_t;

static inline void *bench_querier_run(void *arg)
{
    bench_querier_t *q = arg;
    bench_client_t c;
    uint64_t due = bench_now_ns();
    if (bench_client_open(&c, q->endpoint) < 0)
        q->failed = true;
    while (!q->failed && !atomic_load(&q->stop) && q->n < BENCH_QUERIES_MAX) {
        uint32_t got = 0;
        uint64_t next;
        double ms = bench_query_page(&c, q->grid, q->limit, 0, &got, &next);
        if (ms < 0) {
            q->failed = true;
            break;
        }
        q->us[q->n++] = (uint64_t)(ms * 1000), q->tasks = got;
        due += q->every_ns; /* a steady pace: a slow answer does not push the next ones back */
        uint64_t now = bench_now_ns();
        if (due > now) {
            struct timespec ts = {(time_t)((due - now) / 1000000000u),
                                  (long)((due - now) % 1000000000u)};
            nanosleep(&ts, NULL);
        } else {
            due = now;
        }
    }
    bench_client_close(&c);
    return NULL;
}

static inline int bench_querier_start(bench_querier_t *q)
{
    atomic_store(&q->stop, false);
    q->n = 0, q->failed = false;
    return pthread_create(&q->th, NULL, bench_querier_run, q) == 0 ? 0 : -1;
}

/* Stops the querier and sorts its round trips (for bench_pct_ms). */
static inline void bench_querier_stop(bench_querier_t *q)
{
    atomic_store(&q->stop, true);
    pthread_join(q->th, NULL);
    qsort(q->us, q->n, sizeof q->us[0], bench_cmp_u64);
}

#endif
