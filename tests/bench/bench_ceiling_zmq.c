/*
 * bench_ceiling_zmq: how fast ZeroMQ on loopback plus the gridbus codec go with no store:
 * the transport ceiling beside the end-to-end figure.
 *
 * Two pipes, both on tcp://127.0.0.1 with the same request frames the ingest publishers
 * send (bench_events.h), the receiver decoding every frame with wire_decode_request
 * (proto/wire.h) as gridbusd does:
 *   - PUSH -> PULL, one pusher: one-way throughput, the design's reference figure;
 *   - DEALER -> ROUTER with the ingest load of bench_pub.h (4 publishers, 256 in flight
 *     each), the ROUTER thread answering every publish with an ack packed by
 *     wire_pack_ack: gridbusd's request/ack shape with the store left out.
 *
 * Settings (environment): BENCH_ZMQ_EVENTS (default 1M per run), BENCH_ROUNDS (default 3).
 */
#include <stdatomic.h>

#include "bench.h"
#include "bench_events.h"
#include "bench_pub.h"

#define RING 1024

typedef struct {
    void *data;
    size_t len;
} frame_t;

typedef struct {
    void *ctx;
    const frame_t *ring;
    char endpoint[128];
    uint64_t events;
    int failed;
} push_arg_t;

typedef struct {
    void *ctx, *sock;
    char endpoint[128];
    atomic_bool stop;
    uint64_t handled;
    int failed;
} router_arg_t;

/* RING publish requests of the mix, as the ingest publishers pack them. */
static int make_frames(frame_t *ring)
{
    msgpack_sbuffer ev, req;
    msgpack_packer pk;
    msgpack_sbuffer_init(&ev), msgpack_sbuffer_init(&req);
    for (uint64_t k = 0; k < RING; k++) {
        msgpack_sbuffer_clear(&ev), msgpack_sbuffer_clear(&req);
        msgpack_packer_init(&pk, &ev, msgpack_sbuffer_write);
        bench_pack_event(&pk, 0, 0, k, bench_wall_ms());
        msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
        wire_pack_publish(&pk, k, ev.data, ev.size);
        ring[k].len = req.size;
        ring[k].data = malloc(req.size);
        if (!ring[k].data)
            return -1;
        memcpy(ring[k].data, req.data, req.size);
    }
    msgpack_sbuffer_destroy(&ev), msgpack_sbuffer_destroy(&req);
    return 0;
}

static void *push_main(void *arg)
{
    push_arg_t *a = arg;
    void *sock = zmq_socket(a->ctx, ZMQ_PUSH);
    int linger = 10000; /* the tail still queued at close must reach the puller */
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(sock, a->endpoint) < 0)
        a->failed = 1;
    for (uint64_t k = 0; !a->failed && k < a->events; k++)
        if (zmq_send(sock, a->ring[k % RING].data, a->ring[k % RING].len, 0) < 0)
            a->failed = 1;
    zmq_close(sock);
    return NULL;
}

/* Receives n frames and decodes each; the clock runs from the first frame to the last. */
static int pull_decode(void *sock, uint64_t n, double *secs)
{
    wire_decoder_t *dec = wire_decoder_new();
    zmq_msg_t msg;
    wire_request_t req;
    gb_error_t err;
    int rc = 0, timeout = 30000;
    uint64_t t0 = 0;
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_msg_init(&msg);
    for (uint64_t k = 0; rc == 0 && k < n; k++) {
        if (zmq_msg_recv(&msg, sock, 0) < 0 ||
            wire_decode_request(dec, zmq_msg_data(&msg), zmq_msg_size(&msg), &req, &err) < 0 ||
            req.op != WIRE_OP_PUBLISH)
            rc = -1;
        if (k == 0)
            t0 = bench_now_ns();
    }
    *secs = (double)(bench_now_ns() - t0) / 1e9;
    zmq_msg_close(&msg);
    wire_decoder_destroy(&dec);
    return rc;
}

static void emit(const char *key, const char *label, int round, uint64_t events, double secs,
                 const bench_result_t *r, int failed)
{
    double per_s = secs > 0 ? (double)events / secs : 0;
    bench_json_begin("ceiling", key, round, "per_s", true);
    bench_json_str("label", label);
    bench_json_u64("events", events);
    bench_json_num("seconds", secs);
    bench_json_num("per_s", per_s);
    if (r) {
        bench_json_u64("publishers", 4);
        bench_json_num("p50_ms", r->p50_ms);
        bench_json_num("p99_ms", r->p99_ms);
    }
    bench_json_bool("failed", failed);
    bench_json_end();
    fprintf(stderr, "  round %d  %-30s %8" PRIu64 " ev %10.0f ev/s%s\n", round, key, events, per_s,
            failed ? "  FAILED" : "");
}

static int run_push_pull(const frame_t *ring, uint64_t events, int round)
{
    push_arg_t a = {zmq_ctx_new(), ring, "", events, 0};
    void *pull = zmq_socket(a.ctx, ZMQ_PULL);
    size_t len = sizeof a.endpoint;
    double secs = 0;
    pthread_t th;
    int rc = -1, linger = 0;
    zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(pull, "tcp://127.0.0.1:*") == 0 &&
        zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, a.endpoint, &len) == 0 &&
        pthread_create(&th, NULL, push_main, &a) == 0) {
        rc = pull_decode(pull, events, &secs);
        pthread_join(th, NULL);
    }
    zmq_close(pull);
    zmq_ctx_term(a.ctx);
    rc |= a.failed;
    emit("zmq push-pull decode", "ZeroMQ PUSH -> PULL + wire_decode_request, 1 pusher", round,
         events, secs, NULL, rc != 0);
    return rc;
}

/* Answers one request the way gridbusd would if it had no store: ack (or pong). */
static int answer(router_arg_t *a, wire_decoder_t *dec, zmq_msg_t *ident, zmq_msg_t *body,
                  msgpack_sbuffer *out)
{
    wire_request_t req;
    gb_error_t err;
    msgpack_packer pk;
    msgpack_sbuffer_clear(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    if (wire_decode_request(dec, zmq_msg_data(body), zmq_msg_size(body), &req, &err) < 0)
        return -1;
    gb_str_t id = {NULL, 0};
    if (req.op == WIRE_OP_PUBLISH) {
        wire_get_str(req.event, "id", &id);
        wire_pack_ack(&pk, req.rid, id, ++a->handled, false);
    } else {
        wire_pack_pong(&pk, req.rid, "ceiling", NULL, 0);
    }
    if (zmq_msg_send(ident, a->sock, ZMQ_SNDMORE) < 0 ||
        zmq_send(a->sock, out->data, out->size, 0) < 0)
        return -1;
    return 0;
}

static void *router_main(void *arg)
{
    router_arg_t *a = arg;
    wire_decoder_t *dec = wire_decoder_new();
    msgpack_sbuffer out;
    zmq_msg_t ident, body;
    msgpack_sbuffer_init(&out);
    zmq_msg_init(&ident), zmq_msg_init(&body);
    while (!atomic_load(&a->stop) && !a->failed) {
        if (zmq_msg_recv(&ident, a->sock, 0) < 0)
            continue; /* the receive timeout: look at stop again */
        if (zmq_msg_recv(&body, a->sock, 0) < 0 || answer(a, dec, &ident, &body, &out) < 0)
            a->failed = 1;
    }
    zmq_msg_close(&ident), zmq_msg_close(&body);
    msgpack_sbuffer_destroy(&out);
    wire_decoder_destroy(&dec);
    return NULL;
}

static int router_open(router_arg_t *a)
{
    int linger = 0, timeout = 100;
    size_t len = sizeof a->endpoint;
    a->sock = zmq_socket(a->ctx, ZMQ_ROUTER);
    zmq_setsockopt(a->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(a->sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (zmq_bind(a->sock, "tcp://127.0.0.1:*") < 0 ||
        zmq_getsockopt(a->sock, ZMQ_LAST_ENDPOINT, a->endpoint, &len) < 0)
        return -1;
    return 0;
}

static int run_dealer_router(uint64_t events, int round)
{
    router_arg_t a = {.ctx = zmq_ctx_new()};
    bench_result_t r = {0};
    pthread_t th;
    int rc = -1;
    atomic_init(&a.stop, false);
    if (router_open(&a) == 0 && pthread_create(&th, NULL, router_main, &a) == 0) {
        bench_load_t load = {a.endpoint, 4, 256, events, 0, (unsigned)round};
        rc = bench_publish(&load, &r);
        atomic_store(&a.stop, true);
        pthread_join(th, NULL);
    }
    zmq_close(a.sock);
    zmq_ctx_term(a.ctx);
    rc |= a.failed;
    emit("zmq dealer-router decode ack", "ZeroMQ DEALER -> ROUTER + decode + ack, 4 pub x 256",
         round, r.acked, r.seconds, &r, rc != 0);
    return rc;
}

int main(void)
{
    static frame_t ring[RING];
    uint64_t events = bench_env_count("BENCH_ZMQ_EVENTS", 1000000);
    int rounds = bench_rounds(), rc = 0;
    if (make_frames(ring) < 0)
        return fprintf(stderr, "bench_ceiling_zmq: out of memory\n"), 1;
    fprintf(stderr, "bench_ceiling_zmq: %d round(s)\n", rounds);
    for (int round = 1; round <= rounds; round++) {
        rc |= run_push_pull(ring, events, round);
        rc |= run_dealer_router(events, round);
    }
    for (int k = 0; k < RING; k++)
        free(ring[k].data);
    return rc ? 1 : 0;
}
