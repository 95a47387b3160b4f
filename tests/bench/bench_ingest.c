/*
 * bench_ingest: durable acked ingest, measured end to end against a real gridbusd.
 *
 * It starts its own daemon on loopback with a temporary state dir (the test harness), then
 * runs N publisher threads, each a DEALER with W requests in flight, sending a realistic
 * mix of the four field event kinds. Every ack's latency (send to ack) is recorded, so the
 * percentiles are of real acks, not of samples. With --rate the publishers are paced to an
 * offered load instead of running flat out. Output: one JSON line per run, and a table row
 * on stderr.
 */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "harness.h"
#include "wire.h"

typedef struct {
    const char *endpoint;
    int index;
    uint64_t events;  /* to send */
    uint32_t window;  /* in flight */
    double rate;      /* per publisher, events/s; 0 = unpaced */
    uint64_t *lat_us; /* one per event */
    uint64_t acked, nacked;
    int failed;
} publisher_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *const members[] = {"gong.xiujuan", "zhang.teng", "li.zhen"};
static const char *const grids[] = {"g1", "g2", "g3"};

/* Packs event number i of publisher p: the four field kinds in turn. */
static void pack_event(msgpack_packer *pk, int p, uint64_t i, int64_t at)
{
    char id[64];
    int kind = (int)(i % 4), g = (int)(i % 3);
    snprintf(id, sizeof id, "bench-%d-%" PRIu64 "-%" PRId64, p, i, at);
    const char *types[] = {"visit.logged", "repair.requested", "patrol.issue_found",
                           "ledger.entry_submitted"};
    msgpack_pack_map(pk, 8);
    wire_pack_cstr(pk, "v"), msgpack_pack_int(pk, 1);
    wire_pack_cstr(pk, "id"), wire_pack_cstr(pk, id);
    wire_pack_cstr(pk, "type"), wire_pack_cstr(pk, types[kind]);
    wire_pack_cstr(pk, "at"), msgpack_pack_int64(pk, at);
    wire_pack_cstr(pk, "by"), wire_pack_cstr(pk, members[g]);
    wire_pack_cstr(pk, "grid"), wire_pack_cstr(pk, grids[g]);
    wire_pack_cstr(pk, "place"), wire_pack_cstr(pk, "岱东社区 2号楼 3单元");
    wire_pack_cstr(pk, "body");
    switch (kind) {
    case 0:
        msgpack_pack_map(pk, 3);
        wire_pack_cstr(pk, "household"), wire_pack_cstr(pk, "c1-2-301");
        wire_pack_cstr(pk, "summary"), wire_pack_cstr(pk, "常叩门: 独居老人, 身体尚可, 需要换灯泡");
        wire_pack_cstr(pk, "needs_followup"), msgpack_pack_true(pk);
        break;
    case 1:
        msgpack_pack_map(pk, 4);
        wire_pack_cstr(pk, "household"), wire_pack_cstr(pk, "c2-5-102");
        wire_pack_cstr(pk, "category"), wire_pack_cstr(pk, "water");
        wire_pack_cstr(pk, "description"), wire_pack_cstr(pk, "厨房水管漏水, 需要上门维修");
        wire_pack_cstr(pk, "fee_waived"), msgpack_pack_true(pk);
        break;
    case 2:
        msgpack_pack_map(pk, 3);
        wire_pack_cstr(pk, "category"), wire_pack_cstr(pk, "fire_hazard");
        wire_pack_cstr(pk, "severity"), wire_pack_cstr(pk, "medium");
        wire_pack_cstr(pk, "description"), wire_pack_cstr(pk, "楼道堆放杂物, 堵塞消防通道");
        break;
    default:
        msgpack_pack_map(pk, 6);
        wire_pack_cstr(pk, "entry"), wire_pack_cstr(pk, id);
        wire_pack_cstr(pk, "direction"), wire_pack_cstr(pk, "expense");
        wire_pack_cstr(pk, "amount_fen"), msgpack_pack_int64(pk, 150000);
        wire_pack_cstr(pk, "category"), wire_pack_cstr(pk, "property_subsidy");
        wire_pack_cstr(pk, "counterparty"), wire_pack_cstr(pk, "鸿瑞物业");
        wire_pack_cstr(pk, "approved_by"), msgpack_pack_array(pk, 1), wire_pack_cstr(pk, "li.qiang");
        break;
    }
}

static int send_one(void *sock, msgpack_sbuffer *req, msgpack_sbuffer *ev, publisher_t *p,
                    uint64_t i, int64_t at)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(ev);
    msgpack_packer_init(&pk, ev, msgpack_sbuffer_write);
    pack_event(&pk, p->index, i, at);
    msgpack_sbuffer_clear(req);
    msgpack_packer_init(&pk, req, msgpack_sbuffer_write);
    wire_pack_publish(&pk, i, ev->data, ev->size);
    return zmq_send(sock, req->data, req->size, 0) < 0 ? -1 : 0;
}

static int recv_one(void *sock, wire_decoder_t *dec, publisher_t *p, const uint64_t *sent_ns)
{
    char buf[512];
    wire_reply_t rep;
    gb_error_t err;
    int n = zmq_recv(sock, buf, sizeof buf, 0);
    if (n < 0 || wire_decode_reply(dec, buf, (size_t)n, &rep, &err) < 0 || !rep.rid ||
        rep.rid->type != MSGPACK_OBJECT_POSITIVE_INTEGER || rep.rid->via.u64 >= p->events)
        return -1;
    if (rep.op == WIRE_REPLY_ACK)
        p->acked++;
    else
        p->nacked++;
    p->lat_us[rep.rid->via.u64] = (now_ns() - sent_ns[rep.rid->via.u64]) / 1000;
    return 0;
}

static void *publish_loop(void *arg)
{
    publisher_t *p = arg;
    void *ctx = zmq_ctx_new(), *sock = zmq_socket(ctx, ZMQ_DEALER);
    int timeout = 30000, linger = 0;
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    uint64_t *sent_ns = calloc(p->events, sizeof *sent_ns);
    wire_decoder_t *dec = wire_decoder_new();
    msgpack_sbuffer req, ev;
    msgpack_sbuffer_init(&req), msgpack_sbuffer_init(&ev);
    int64_t at = (int64_t)time(NULL) * 1000;
    uint64_t sent = 0, got = 0, start = now_ns();
    if (zmq_connect(sock, p->endpoint) < 0)
        p->failed = 1;
    while (!p->failed && got < p->events) {
        uint64_t due_ns = p->rate > 0 ? start + (uint64_t)((double)sent * 1e9 / p->rate) : 0;
        bool paced_out = due_ns > now_ns();
        if (sent < p->events && sent - got < p->window && !paced_out) {
            sent_ns[sent] = now_ns();
            p->failed = send_one(sock, &req, &ev, p, sent, at) < 0;
            sent++;
            continue;
        }
        /* Wait for an ack, or (paced) until the next send is due, whichever comes first. */
        long wait_ms = paced_out && sent < p->events ? (long)((due_ns - now_ns()) / 1000000) + 1 : -1;
        zmq_pollitem_t item = {sock, 0, ZMQ_POLLIN, 0};
        if (sent - got == 0) {
            struct timespec ts = {0, (long)(due_ns - now_ns())};
            nanosleep(&ts, NULL);
            continue;
        }
        if (zmq_poll(&item, 1, wait_ms) > 0) {
            p->failed = recv_one(sock, dec, p, sent_ns) < 0;
            got++;
        }
    }
    msgpack_sbuffer_destroy(&req), msgpack_sbuffer_destroy(&ev);
    wire_decoder_destroy(&dec);
    free(sent_ns);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *sorted, uint64_t n, double q)
{
    uint64_t i = (uint64_t)(q * (double)(n - 1));
    return (double)sorted[i] / 1000.0;
}

static int run(const char *endpoint, int npub, uint64_t total, uint32_t window, double rate,
               const char *label)
{
    publisher_t *pubs = calloc((size_t)npub, sizeof *pubs);
    pthread_t *th = calloc((size_t)npub, sizeof *th);
    uint64_t *all = calloc(total, sizeof *all), n = 0, acked = 0, nacked = 0;
    int failed = 0;
    uint64_t t0 = now_ns();
    for (int i = 0; i < npub; i++) {
        pubs[i] = (publisher_t){endpoint, i, total / (uint64_t)npub, window, rate / npub,
                                calloc(total / (uint64_t)npub, sizeof(uint64_t)), 0, 0, 0};
        pthread_create(&th[i], NULL, publish_loop, &pubs[i]);
    }
    for (int i = 0; i < npub; i++) {
        pthread_join(th[i], NULL);
        memcpy(all + n, pubs[i].lat_us, pubs[i].events * sizeof(uint64_t));
        n += pubs[i].events, acked += pubs[i].acked, nacked += pubs[i].nacked;
        failed |= pubs[i].failed;
        free(pubs[i].lat_us);
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    qsort(all, n, sizeof *all, cmp_u64);
    printf("{\"run\":\"%s\",\"publishers\":%d,\"window\":%u,\"offered\":%.0f,\"events\":%" PRIu64
           ",\"acked\":%" PRIu64 ",\"nacked\":%" PRIu64 ",\"seconds\":%.3f,\"acked_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"failed\":%s}\n",
           label, npub, window, rate, n, acked, nacked, secs, (double)acked / secs, pct(all, n, 0.5),
           pct(all, n, 0.99), pct(all, n, 0.999), failed ? "true" : "false");
    fprintf(stderr, "%-22s %3d pub  %8" PRIu64 " ev  %9.0f acked/s  p50 %6.2f ms  p99 %6.2f ms  p99.9 %6.2f ms%s\n",
            label, npub, n, (double)acked / secs, pct(all, n, 0.5), pct(all, n, 0.99),
            pct(all, n, 0.999), failed ? "  FAILED" : "");
    free(pubs), free(th), free(all);
    return failed || nacked ? -1 : 0;
}

int main(int argc, char **argv)
{
    uint64_t events = 200000;
    uint32_t window = 256;
    int opt;
    while ((opt = getopt(argc, argv, "n:w:")) != -1) {
        if (opt == 'n')
            events = strtoull(optarg, NULL, 10);
        else if (opt == 'w')
            window = (uint32_t)strtoul(optarg, NULL, 10);
        else
            return fprintf(stderr, "usage: bench_ingest [-n EVENTS] [-w WINDOW]\n"), 2;
    }
    gbd_t *d = gbd_start(NULL, NULL);
    if (!d)
        return fprintf(stderr, "bench_ingest: cannot start gridbusd\n"), 1;
    const char *ep = gbd_endpoint(d, "ingest");
    int rc = 0;
    rc |= run(ep, 1, events, window, 0, "flat-out");
    rc |= run(ep, 4, events, window, 0, "flat-out");
    rc |= run(ep, 16, events, window / 4 ? window / 4 : 1, 0, "flat-out");
    rc |= run(ep, 4, events / 4, 64, 20000, "offered-20k/s");
    int status = gbd_stop(&d);
    return rc || status ? 1 : 0;
}
