/*
 * test_limits: the per-connection cap on requests in flight and the ZeroMQ heartbeats,
 * against the real gridbusd. (limits.max_frame, ZMQ_MAXMSGSIZE, is in test_malformed.)
 *
 * In flight: with limits.inflight_max lowered to 8, one DEALER pipelines bursts of
 * publishes; the requests of its connection past 8 in one batch are answered E_BUSY with
 * their rid, every acked event is stored exactly once, no refused one is, and each
 * refused one is stored when sent again. A second DEALER that never has more than 8 in
 * flight is never refused, whatever batches it shares with the first. Bursts are
 * bounded in number; the test stops at the first burst that drew an E_BUSY.
 *
 * Heartbeats: a raw TCP peer speaks just enough ZMTP 3.1 to complete the handshake (the
 * greeting and READY of a DEALER), then answers nothing. The daemon must PING it (with the
 * configured TTL) and then drop the connection; a real DEALER, which answers PINGs, stays.
 * The waits are reads with a hang guard, never a measured time.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"

#define CAP 8
#define BURST 256
#define BURSTS_MAX 20
#define HB_IVL_MS 100
#define HB_TIMEOUT_MS 300

static gbd_t *d;
static void *ctx;
static json_t *sent;  /* every event sent by the pipelining DEALER; index = rid */
static json_t *acked; /* id -> {seq, event} */
static wire_decoder_t *dec;
static gbt_msg_t last; /* the frame of the last reply read */

static void setup(void)
{
    ctx = zmq_ctx_new();
    sent = json_array();
    acked = gbt_acked_new();
    dec = wire_decoder_new();
}

static void teardown(void)
{
    gbt_close_all();
    zmq_ctx_term(ctx);
    if (d && gbd_pid(d))
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
    gbd_free(&d);
    wire_decoder_destroy(&dec);
    gbt_msg_free(&last);
    json_decref(sent);
    json_decref(acked);
}

TestSuite(limits, .init = setup, .fini = teardown, .timeout = 120);

/* ---- in flight ---- */

static void send_publish(void *sock, uint64_t rid, const json_t *ev)
{
    msgpack_sbuffer req;
    gbt_pack_publish(&req, rid, ev);
    cr_assert_eq(zmq_send(sock, req.data, req.size, 0), (int)req.size, "send: %s",
                 zmq_strerror(zmq_errno()));
    msgpack_sbuffer_destroy(&req);
}

static json_t *load_event(const char *prefix, size_t n)
{
    char id[48];
    snprintf(id, sizeof id, "%s-%06zu", prefix, n);
    json_t *ev = gbt_event("visit.logged", id);
    json_object_set_new(json_object_get(ev, "body"), "summary", json_sprintf("burst %zu", n));
    return ev;
}

/* Receives one reply on sock (hang guard: the socket's receive timeout) and decodes it;
 * r points into the frame, which is kept until the next call. */
static void recv_reply(void *sock, wire_reply_t *r)
{
    gb_error_t err;
    gbt_msg_free(&last);
    cr_assert_eq(gbt_recv_msg(sock, &last), 0, "no reply: %s", gbt_why());
    cr_assert_eq(last.n, 1, "a reply of %zu frames", last.n);
    cr_assert_eq(wire_decode_reply(dec, last.data[0], last.len[0], r, &err), 0, "%s", err.msg);
}

/* Reads the BURST replies of the pipelining DEALER: acks are recorded, E_BUSY nacks
 * collected in busy (their events); anything else fails. The number of E_BUSY. */
static size_t read_burst(void *sock, size_t first, json_t *busy)
{
    size_t refused = 0;
    char want[96];
    snprintf(want, sizeof want, "busy: more than %d requests in flight on this connection", CAP);
    for (size_t k = 0; k < BURST; k++) {
        wire_reply_t r;
        recv_reply(sock, &r);
        cr_assert(r.rid && r.rid->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                      r.rid->via.u64 >= first && r.rid->via.u64 < first + BURST,
                  "a reply without the rid of this burst");
        json_t *ev = json_array_get(sent, (size_t)r.rid->via.u64);
        const char *id = json_string_value(json_object_get(ev, "id"));
        if (r.op == WIRE_REPLY_NACK && r.code == GB_E_BUSY) {
            cr_assert(r.error.len >= strlen(want) && !memcmp(r.error.ptr, want, strlen(want)),
                      "E_BUSY says: %.*s", (int)r.error.len, r.error.ptr);
            json_array_append(busy, ev);
            refused++;
            continue;
        }
        cr_assert(r.op == WIRE_REPLY_ACK && !r.dup && gbt_str_is(r.id, id),
                  "rid %" PRIu64 ": want a fresh ack for %s, got op %d code %s", r.rid->via.u64, id,
                  (int)r.op, gb_code_name(r.code));
        cr_assert_eq(gbt_acked_add(acked, id, r.seq, ev), 0, "%s", gbt_why());
    }
    return refused;
}

/* The second DEALER: CAP publishes at once, each acked. */
static void small_window(void *sock, size_t burst)
{
    for (size_t k = 0; k < CAP; k++) {
        json_t *ev = load_event("lim-small", burst * CAP + k);
        send_publish(sock, k, ev);
        json_decref(ev);
    }
    for (size_t k = 0; k < CAP; k++) {
        wire_reply_t r;
        recv_reply(sock, &r);
        cr_assert(r.op == WIRE_REPLY_ACK, "a connection within the cap got op %d code %s",
                  (int)r.op, gb_code_name(r.code));
    }
}

Test(limits, requests_past_the_cap_of_one_connection_get_e_busy_and_are_not_stored)
{
    char cap[64];
    snprintf(cap, sizeof cap, "limits.inflight_max=%d", CAP);
    d = gbd_start(NULL, (const char *const[]){"--set", cap, NULL});
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    void *big = gbt_connect(ctx, ZMQ_DEALER, gbd_endpoint(d, "ingest"));
    void *small = gbt_connect(ctx, ZMQ_DEALER, gbd_endpoint(d, "ingest"));
    cr_assert(big && small, "%s", gbt_why());
    json_t *busy = json_array();
    size_t bursts = 0;
    while (json_array_size(busy) == 0 && bursts < BURSTS_MAX) {
        size_t first = json_array_size(sent);
        for (size_t k = 0; k < BURST; k++) {
            json_array_append_new(sent, load_event("lim-big", first + k));
            send_publish(big, first + k, json_array_get(sent, first + k));
        }
        small_window(small, bursts);
        read_burst(big, first, busy);
        bursts++;
    }
    cr_log_info("%zu bursts of %d: %zu acked, %zu E_BUSY", bursts, BURST, json_object_size(acked),
                json_array_size(busy));
    cr_assert_gt(json_array_size(busy), 0, "%zu bursts of %d drew no E_BUSY with a cap of %d",
                 bursts, BURST, CAP);

    /* Stored: every acked event once, no refused one. */
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    json_t *log = gbt_replay_all(c, 0);
    cr_assert_not_null(log, "%s", gbt_why());
    cr_assert_eq(gbt_check_log(acked, log), 0, "%s", gbt_why());
    size_t i, small_events = bursts * CAP;
    json_t *ev;
    cr_assert_eq(json_array_size(log), json_object_size(acked) + small_events);
    json_array_foreach(busy, i, ev)
    {
        const char *id = json_string_value(json_object_get(ev, "id"));
        cr_assert_eq(gbt_find_record(log, id), -1, "%s was refused with E_BUSY yet stored", id);
    }
    /* Refused means "retry later": sent again, each is stored. */
    json_array_foreach(busy, i, ev)
    {
        cr_assert_eq(gbt_publish_acked(c, acked, ev), 0, "%s", gbt_why());
    }
    json_decref(log);
    json_decref(busy);
    gbt_client_free(&c);
}

/* ---- heartbeats ---- */

/* A TCP connection to "tcp://HOST:PORT". */
static int tcp_connect(const char *endpoint)
{
    char host[64];
    unsigned port;
    cr_assert_eq(sscanf(endpoint, "tcp://%63[^:]:%u", host, &port), 2, "%s", endpoint);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    cr_assert_eq(inet_pton(AF_INET, host, &sa.sin_addr), 1, "%s", host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_geq(fd, 0);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "connect %s: %s", endpoint,
                 strerror(errno));
    return fd;
}

/* ZMTP 3.1 greeting with the NULL mechanism, then READY as a DEALER. */
static void zmtp_hello(int fd)
{
    unsigned char g[64] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, 'N', 'U', 'L', 'L'};
    static const char ready[] = "\x04\x1c"                  /* command, 28 bytes */
                                "\x05READY"                 /* the command's name */
                                "\x0bSocket-Type\0\0\0\x06" /* a property */
                                "DEALER";
    cr_assert_eq(write(fd, g, sizeof g), (ssize_t)sizeof g);
    cr_assert_eq(write(fd, ready, sizeof ready - 1), (ssize_t)(sizeof ready - 1));
}

/* Everything the daemon sends until it closes the connection (hang guard GBT_WAIT_MS for
 * each read); its length. */
static size_t read_until_closed(int fd, unsigned char *buf, size_t cap)
{
    size_t len = 0;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        cr_assert_gt(poll(&p, 1, GBT_WAIT_MS), 0,
                     "the daemon kept a silent peer for %d ms after %zu bytes", GBT_WAIT_MS, len);
        ssize_t n = read(fd, buf + len, cap - len);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return len;
        cr_assert_gt(n, 0, "read: %s", strerror(errno));
        len += (size_t)n;
        cr_assert_lt(len, cap, "the daemon sent more than %zu bytes", cap);
    }
}

typedef struct {
    int ready, pings, ttl; /* ttl: of the last PING, in deciseconds */
} seen_t;

/* Walks the frames after the greeting and counts the commands. */
static seen_t parse_frames(const unsigned char *p, size_t len)
{
    seen_t seen = {0, 0, -1};
    cr_assert_geq(len, 64, "no greeting");
    cr_assert(p[0] == 0xff && p[9] == 0x7f && p[10] == 3, "not a ZMTP 3 greeting");
    for (size_t at = 64; at < len;) {
        unsigned char flags = p[at];
        size_t head = flags & 0x02 ? 9 : 2, size = 0; /* flags, then a 1- or 8-byte size */
        cr_assert_leq(at + head, len, "a cut frame header");
        for (size_t b = 1; b < head; b++)
            size = size << 8 | p[at + b];
        cr_assert_leq(at + head + size, len, "a cut frame");
        const unsigned char *body = p + at + head;
        if ((flags & 0x04) && size >= 6 && memcmp(body, "\x05READY", 6) == 0)
            seen.ready++;
        if ((flags & 0x04) && size >= 7 && memcmp(body, "\x04PING", 5) == 0) {
            seen.pings++;
            seen.ttl = body[5] << 8 | body[6];
        }
        at += head + size;
    }
    return seen;
}

/* Waits for a monitor event in mask; the event number, or -1 at the hang guard. */
static int monitor_wait(void *mon, int mask, int flags)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        int rc = zmq_msg_recv(&m, mon, flags);
        uint16_t ev = 0;
        if (rc >= 2)
            memcpy(&ev, zmq_msg_data(&m), 2);
        bool more = rc >= 0 && zmq_msg_more(&m);
        zmq_msg_close(&m);
        while (more) { /* the event's second frame: the endpoint */
            zmq_msg_init(&m);
            more = zmq_msg_recv(&m, mon, 0) >= 0 && zmq_msg_more(&m);
            zmq_msg_close(&m);
        }
        if (rc < 0)
            return -1;
        if (ev & mask)
            return ev;
    }
}

Test(limits, a_peer_that_stops_answering_heartbeats_is_dropped)
{
    char ivl[64], timeout[64];
    snprintf(ivl, sizeof ivl, "limits.heartbeat_ivl_ms=%d", HB_IVL_MS);
    snprintf(timeout, sizeof timeout, "limits.heartbeat_timeout_ms=%d", HB_TIMEOUT_MS);
    d = gbd_start(NULL, (const char *const[]){"--set", ivl, "--set", timeout, NULL});
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");

    /* A real DEALER, connected first, which answers every PING. */
    void *live = gbt_socket(ctx, ZMQ_DEALER);
    cr_assert_not_null(live, "%s", gbt_why());
    cr_assert_eq(zmq_socket_monitor(live, "inproc://limits-live",
                                    ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED),
                 0);
    void *mon = gbt_connect(ctx, ZMQ_PAIR, "inproc://limits-live");
    cr_assert_not_null(mon, "%s", gbt_why());
    cr_assert_eq(zmq_connect(live, gbd_endpoint(d, "ingest")), 0);
    cr_assert_eq(monitor_wait(mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 0), ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
                 "no handshake with the daemon");

    /* The silent peer: handshake done, then nothing. */
    int fd = tcp_connect(gbd_endpoint(d, "ingest"));
    zmtp_hello(fd);
    static unsigned char buf[1 << 16];
    size_t len = read_until_closed(fd, buf, sizeof buf);
    close(fd);
    seen_t seen = parse_frames(buf, len);
    cr_assert_eq(seen.ready, 1, "the handshake did not complete (%zu bytes)", len);
    cr_assert_geq(seen.pings, 1, "dropped without a PING: not by the heartbeat");
    cr_assert_eq(seen.ttl, HB_TIMEOUT_MS / 100, "PING TTL %d deciseconds", seen.ttl);
    cr_log_info("silent peer: %d PINGs before the daemon dropped it", seen.pings);

    /* The live DEALER was never dropped, and is served. */
    cr_assert_eq(monitor_wait(mon, ZMQ_EVENT_DISCONNECTED, ZMQ_DONTWAIT), -1,
                 "the daemon dropped a peer that answers its PINGs");
    json_t *req = json_pack("{s:s, s:i}", "op", "ping", "rid", 7);
    msgpack_sbuffer sb;
    jsonmp_pack_sbuffer(req, &sb);
    json_decref(req);
    cr_assert_eq(zmq_send(live, sb.data, sb.size, 0), (int)sb.size);
    msgpack_sbuffer_destroy(&sb);
    wire_reply_t r;
    recv_reply(live, &r);
    cr_assert_eq(r.op, WIRE_REPLY_PONG);
    zmq_socket_monitor(live, NULL, 0);
}
