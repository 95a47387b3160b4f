/*
 * client: gridbus_t, one DEALER connection to gridbusd's ingest endpoint.
 *
 * Every request (publish, ping, replay, and query.c's look-ups) goes through one ring of
 * pending requests kept in send order, so blocking calls are just "send, then pump until
 * mine completes" and pipelining is the same pump with a window. Replies are matched to
 * publishes by the event id the ack or nack carries (at most one publish per id is in
 * flight, so the match is unique; a re-send keeps its rid, so a rid that differs marks a
 * stale reply), and to other requests by their rid. On a timeout the socket is thrown away
 * and a new one re-sends everything still pending, in the original order (the lazy pirate
 * pattern): a stale connection's queue cannot pile up, and a publish re-sent after it was
 * stored is acked again with dup:true, so re-sending is always safe. Each request fails
 * with E_TIMEOUT after `retries` re-sends. Decoding and packing are proto's (wire.h): this
 * file never reads msgpack by hand.
 */
#include "gridbus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "client_int.h"
#include "event.h"
#include "wire.h"

/* Replies read per pump step before deadlines are looked at again. */
#define DRAIN_MAX 4096

typedef enum { REQ_PUBLISH, REQ_PING, REQ_REPLAY, REQ_QUERY } req_kind_t;

typedef struct {
    bool live;
    req_kind_t kind;
    uint64_t rid;
    char id[GRIDBUS_ID_BUF]; /* publishes: the event id */
    char *frame;             /* the request, kept for re-sending */
    size_t frame_len;
    int64_t deadline; /* monotonic ms */
    int tries;        /* timeouts so far */
    gridbus_done_fn *done;
    void *arg;
} pending_t;

struct gridbus {
    void *ctx, *sock;
    char *endpoint;
    int timeout_ms, retries;
    pending_t *ring; /* window slots; [head, head + count) in send order, with holes */
    size_t window, head, count, live;
    uint64_t next_rid;
    bool in_callback;
    bool flush_failed;
    wire_decoder_t *dec;   /* replies */
    wire_decoder_t *evdec; /* events handed to gridbus_send, to read their id */
    msgpack_sbuffer sbuf;  /* scratch for packing */
    msgpack_sbuffer kept;  /* a part of a result handed out (client_keep) */
    char *reply;           /* last pong or records frame */
    size_t reply_len, reply_cap;
    char bad_reply[120]; /* why the last undecodable reply was dropped */
    /* CURVE: client public, client secret, server public key; "" when off */
    char curve[3][GRIDBUS_KEY_BUF];
    gridbus_status_t status;
    char code[24];
    char msg[320];
};

/* What a blocking call waits for. */
typedef struct {
    bool done;
    gridbus_status_t status;
    char id[GRIDBUS_ID_BUF];
    uint64_t seq;
    bool dup;
    char code[24];
    char msg[320];
} sync_t;

const char *client_status_code(gridbus_status_t s)
{
    static const char *const names[] = {"OK",      "E_NACK",  "E_TIMEOUT", "E_TRANSPORT",
                                        "E_PROTO", "E_INVAL", "E_IO"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "E_UNKNOWN";
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int client_fail(gridbus_t *self, gridbus_status_t status, const char *code, const char *fmt, ...)
{
    va_list ap;
    self->status = status;
    snprintf(self->code, sizeof self->code, "%s", code ? code : client_status_code(status));
    va_start(ap, fmt);
    vsnprintf(self->msg, sizeof self->msg, fmt, ap);
    va_end(ap);
    return -1;
}

const char *gridbus_version(void)
{
    return GB_VERSION;
}

gridbus_t *gridbus_new(void)
{
    gridbus_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->timeout_ms = GRIDBUS_TIMEOUT_DEFAULT;
    self->retries = GRIDBUS_RETRIES_DEFAULT;
    self->window = GRIDBUS_WINDOW_DEFAULT;
    self->next_rid = 1;
    self->ctx = zmq_ctx_new();
    self->ring = calloc(self->window, sizeof *self->ring);
    self->dec = wire_decoder_new();
    self->evdec = wire_decoder_new();
    msgpack_sbuffer_init(&self->sbuf);
    msgpack_sbuffer_init(&self->kept);
    if (!self->ctx || !self->ring || !self->dec || !self->evdec)
        gridbus_destroy(&self);
    return self;
}

static void ring_clear(gridbus_t *self)
{
    for (size_t i = 0; i < self->window; i++)
        free(self->ring[i].frame);
    memset(self->ring, 0, self->window * sizeof *self->ring);
    self->head = self->count = self->live = 0;
}

void gridbus_destroy(gridbus_t **self_p)
{
    gridbus_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->ring)
        ring_clear(self);
    free(self->ring);
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    wire_decoder_destroy(&self->dec);
    wire_decoder_destroy(&self->evdec);
    msgpack_sbuffer_destroy(&self->sbuf);
    msgpack_sbuffer_destroy(&self->kept);
    free(self->endpoint);
    free(self->reply);
    explicit_bzero(self->curve, sizeof self->curve);
    free(self);
    *self_p = NULL;
}

/* ---- the socket -------------------------------------------------------------------- */

/* Makes the socket a CURVE client with the keys of gridbus_set_curve; 0, or -1 (errno). */
static int curve_apply(gridbus_t *self)
{
    const int opts[3] = {ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVERKEY};
    for (int i = 0; i < 3; i++)
        if (zmq_setsockopt(self->sock, opts[i], self->curve[i], 40) < 0)
            return -1;
    return 0;
}

/* A fresh DEALER connected to self->endpoint, replacing the old one. */
static int socket_open(gridbus_t *self)
{
    if (self->sock)
        zmq_close(self->sock);
    self->sock = zmq_socket(self->ctx, ZMQ_DEALER);
    if (!self->sock)
        return client_fail(self, GRIDBUS_ETRANSPORT, NULL, "socket: %s", zmq_strerror(errno));
    /* Linger 0: destroy never hangs on a daemon that is gone. No high-water marks: the
     * window already bounds what is queued, and a full queue would only stall sends. */
    int zero = 0;
    zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(self->sock, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &zero, sizeof zero);
    if (self->curve[0][0] && curve_apply(self) < 0) {
        int e = errno;
        zmq_close(self->sock);
        self->sock = NULL;
        return client_fail(self, GRIDBUS_EINVAL, NULL, "CURVE keys: %s", zmq_strerror(e));
    }
    if (zmq_connect(self->sock, self->endpoint) < 0) {
        int e = errno;
        zmq_close(self->sock);
        self->sock = NULL;
        return client_fail(self, GRIDBUS_EINVAL, NULL, "endpoint '%s': %s", self->endpoint,
                           zmq_strerror(e));
    }
    return 0;
}

int gridbus_connect(gridbus_t *self, const char *endpoint)
{
    if (!endpoint)
        endpoint = getenv("GRIDBUS_ENDPOINT");
    if (!endpoint || !*endpoint)
        endpoint = GRIDBUS_ENDPOINT_DEFAULT;
    char *copy = strdup(endpoint);
    if (!copy)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "out of memory");
    free(self->endpoint);
    self->endpoint = copy;
    return socket_open(self);
}

int gridbus_set_curve(gridbus_t *self, const char *client_public, const char *client_secret,
                      const char *server_public)
{
    const char *keys[3] = {client_public, client_secret, server_public};
    const char *names[3] = {"client public key", "client secret key", "server public key"};
    char derived[GRIDBUS_KEY_BUF];
    uint8_t bin[32];
    for (int i = 0; i < 3; i++)
        if (!keys[i] || strlen(keys[i]) != 40 || !zmq_z85_decode(bin, keys[i]))
            return client_fail(self, GRIDBUS_EINVAL, NULL,
                               "%s: not a CURVE key (40 characters of Z85)", names[i]);
    if (zmq_curve_public(derived, client_secret) < 0 || strcmp(derived, client_public) != 0)
        return client_fail(self, GRIDBUS_EINVAL, NULL,
                           "the client secret key is not the client public key's");
    for (int i = 0; i < 3; i++)
        memcpy(self->curve[i], keys[i], GRIDBUS_KEY_BUF);
    return 0;
}

const char *gridbus_endpoint(const gridbus_t *self)
{
    return self->endpoint;
}

void gridbus_set_timeout(gridbus_t *self, int timeout_ms)
{
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
}

void gridbus_set_retries(gridbus_t *self, int retries)
{
    self->retries = retries >= 0 ? retries : 0;
}

int gridbus_set_window(gridbus_t *self, size_t window)
{
    if (window < 1 || window > 65536)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "window: must be 1..65536, not %zu", window);
    if (self->count > 0)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "window: requests are in flight");
    pending_t *ring = calloc(window, sizeof *ring);
    if (!ring)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "out of memory");
    free(self->ring);
    self->ring = ring;
    self->window = window;
    self->head = 0;
    return 0;
}

size_t gridbus_pending(const gridbus_t *self)
{
    return self->live;
}

gridbus_status_t gridbus_status(const gridbus_t *self)
{
    return self->status;
}

const char *gridbus_errcode(const gridbus_t *self)
{
    return self->code;
}

const char *gridbus_error(const gridbus_t *self)
{
    return self->msg;
}

/* ---- the ring of pending requests -------------------------------------------------- */

static pending_t *ring_at(gridbus_t *self, size_t k)
{
    return &self->ring[(self->head + k) % self->window];
}

/* Sends p's frame on the current socket and restarts its clock. A failed send is left to
 * the timeout, which re-sends on a new socket. */
static void pending_send(gridbus_t *self, pending_t *p)
{
    zmq_send(self->sock, p->frame, p->frame_len, ZMQ_DONTWAIT);
    p->deadline = mono_ms() + self->timeout_ms;
}

/* Takes p out of the ring, then tells its owner how it ended. */
static void pending_complete(gridbus_t *self, pending_t *p, const gridbus_result_t *r)
{
    char id[GRIDBUS_ID_BUF];
    gridbus_done_fn *done = p->done;
    void *arg = p->arg;
    memcpy(id, p->id, sizeof id);
    free(p->frame);
    memset(p, 0, sizeof *p);
    self->live--;
    while (self->count > 0 && !ring_at(self, 0)->live) {
        self->head = (self->head + 1) % self->window;
        self->count--;
    }
    gridbus_result_t res = *r;
    res.id = id;
    if (res.status != GRIDBUS_OK) {
        self->flush_failed = true;
        client_fail(self, res.status, res.code, "%s", res.message ? res.message : "");
    }
    if (done) {
        self->in_callback = true;
        done(&res, arg);
        self->in_callback = false;
    }
}

static void pending_fail(gridbus_t *self, pending_t *p, gridbus_status_t status,
                         const char *message)
{
    gridbus_result_t r = {.status = status, .code = client_status_code(status), .message = message};
    pending_complete(self, p, &r);
}

/* Appends a request whose frame is in self->sbuf and sends it. */
static int ring_push(gridbus_t *self, req_kind_t kind, uint64_t rid, const char *id,
                     gridbus_done_fn *done, void *arg)
{
    pending_t *p = ring_at(self, self->count);
    p->frame = malloc(self->sbuf.size ? self->sbuf.size : 1);
    if (!p->frame)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "out of memory");
    memcpy(p->frame, self->sbuf.data, self->sbuf.size);
    p->frame_len = self->sbuf.size;
    p->live = true;
    p->kind = kind;
    p->rid = rid;
    snprintf(p->id, sizeof p->id, "%s", id ? id : "");
    p->tries = 0;
    p->done = done;
    p->arg = arg;
    self->count++;
    self->live++;
    pending_send(self, p);
    return 0;
}

static pending_t *find_by_id(gridbus_t *self, const char *id, size_t len)
{
    for (size_t k = 0; k < self->count; k++) {
        pending_t *p = ring_at(self, k);
        if (p->live && p->kind == REQ_PUBLISH && strlen(p->id) == len &&
            memcmp(p->id, id, len) == 0)
            return p;
    }
    return NULL;
}

static pending_t *find_by_rid(gridbus_t *self, const msgpack_object *rid)
{
    if (!rid || rid->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return NULL;
    for (size_t k = 0; k < self->count; k++) {
        pending_t *p = ring_at(self, k);
        if (p->live && p->rid == rid->via.u64)
            return p;
    }
    return NULL;
}

/* ---- replies ----------------------------------------------------------------------- */

/* True when the reply carries a rid and it is not p's: a late answer to an earlier
 * publish of the same id (re-sent after a timeout, then answered twice). */
static bool stale_reply(const pending_t *p, const wire_reply_t *rep)
{
    return rep->rid && rep->rid->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
           rep->rid->via.u64 != p->rid;
}

static void on_ack(gridbus_t *self, const wire_reply_t *rep)
{
    pending_t *p = find_by_id(self, rep->id.ptr, rep->id.len);
    if (!p || stale_reply(p, rep))
        return;
    gridbus_result_t r = {.status = GRIDBUS_OK, .seq = rep->seq, .dup = rep->dup};
    pending_complete(self, p, &r);
}

static void on_nack(gridbus_t *self, const wire_reply_t *rep)
{
    pending_t *p = rep->id.len ? find_by_id(self, rep->id.ptr, rep->id.len) : NULL;
    if (!p)
        p = find_by_rid(self, rep->rid);
    if (!p || stale_reply(p, rep))
        return;
    char msg[256];
    snprintf(msg, sizeof msg, "%.*s", (int)rep->error.len, rep->error.ptr ? rep->error.ptr : "");
    gridbus_result_t r = {.status = GRIDBUS_ENACK, .code = gb_code_name(rep->code), .message = msg};
    pending_complete(self, p, &r);
}

/* A pong or records reply: kept whole for the blocking call that waits for it. */
static void on_answer(gridbus_t *self, const wire_reply_t *rep, const void *buf, size_t len)
{
    pending_t *p = find_by_rid(self, rep->rid);
    if (!p || p->kind == REQ_PUBLISH)
        return;
    if (len > self->reply_cap) {
        char *grown = realloc(self->reply, len);
        if (!grown) {
            pending_fail(self, p, GRIDBUS_EPROTO, "out of memory for the reply");
            return;
        }
        self->reply = grown;
        self->reply_cap = len;
    }
    memcpy(self->reply, buf, len);
    self->reply_len = len;
    gridbus_result_t r = {.status = GRIDBUS_OK};
    pending_complete(self, p, &r);
}

static void on_frame(gridbus_t *self, const void *buf, size_t len)
{
    wire_reply_t rep;
    gb_error_t err;
    if (wire_decode_reply(self->dec, buf, len, &rep, &err) < 0) {
        /* Nothing to match it to: its request will time out, and the timeout says why. */
        snprintf(self->bad_reply, sizeof self->bad_reply, "%s: %.100s", gb_code_name(err.code),
                 err.msg);
        return;
    }
    switch (rep.op) {
    case WIRE_REPLY_ACK:
        on_ack(self, &rep);
        break;
    case WIRE_REPLY_NACK:
        on_nack(self, &rep);
        break;
    case WIRE_REPLY_PONG:
    case WIRE_REPLY_RECORDS:
    case WIRE_REPLY_RESULT:
        on_answer(self, &rep, buf, len);
        break;
    }
}

/* Reads every reply waiting on the socket. A multi-part message (a REQ-style delimiter
 * echoed) is read whole and its last part taken as the reply. Returns -1 on a socket
 * error. */
static int drain(gridbus_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    for (int n = 0; n < DRAIN_MAX; n++) {
        if (zmq_msg_recv(&msg, self->sock, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close(&msg);
            errno = e;
            return e == EAGAIN || e == EINTR ? 0 : -1;
        }
        if (!zmq_msg_more(&msg))
            on_frame(self, zmq_msg_data(&msg), zmq_msg_size(&msg));
    }
    zmq_msg_close(&msg);
    return 0;
}

/* ---- the pump ---------------------------------------------------------------------- */

/* Counts a try for every request past its deadline, fails those out of retries, and
 * re-sends the rest on a new socket. */
static void on_timeout(gridbus_t *self, int64_t now)
{
    char why[sizeof self->msg];
    snprintf(why, sizeof why,
             "no reply from %s after %d attempt%s of %d ms (is gridbusd running?%s)%s%s",
             self->endpoint, self->retries + 1, self->retries ? "s" : "", self->timeout_ms,
             self->curve[0][0] ? " does it know this CURVE key?" : "", *self->bad_reply ? "; " : "",
             self->bad_reply);
    size_t start = self->head, n = self->count;
    for (size_t k = 0; k < n; k++) {
        pending_t *p = &self->ring[(start + k) % self->window];
        if (p->live && p->deadline <= now && ++p->tries > self->retries)
            pending_fail(self, p, GRIDBUS_ETIMEOUT, why);
    }
    if (self->live == 0)
        return;
    if (socket_open(self) < 0) {
        snprintf(why, sizeof why, "%s", self->msg); /* self->msg is rewritten per failure */
        while (self->live > 0)
            pending_fail(self, ring_at(self, 0), GRIDBUS_ETRANSPORT, why);
        return;
    }
    for (size_t k = 0; k < self->count; k++)
        if (ring_at(self, k)->live)
            pending_send(self, ring_at(self, k));
}

/* Waits for replies until the oldest request's deadline, handles what came, and deals
 * with timeouts. Requests are sent and re-sent in order, so the oldest live request has
 * the earliest deadline. Returns -1 only when the socket itself failed. */
static int client_step(gridbus_t *self)
{
    if (self->live == 0)
        return 0;
    int64_t wait = ring_at(self, 0)->deadline - mono_ms();
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, wait > 0 ? (long)wait : 0);
    if ((rc < 0 && errno != EINTR) || (rc > 0 && drain(self) < 0)) {
        char why[200];
        snprintf(why, sizeof why, "%s: %s", self->endpoint, zmq_strerror(errno));
        while (self->live > 0)
            pending_fail(self, ring_at(self, 0), GRIDBUS_ETRANSPORT, why);
        return -1;
    }
    int64_t now = mono_ms();
    if (self->live > 0 && ring_at(self, 0)->deadline <= now)
        on_timeout(self, now);
    return 0;
}

static int check_usable(gridbus_t *self)
{
    if (self->in_callback)
        return client_fail(self, GRIDBUS_EINVAL, NULL,
                           "a completion callback may not call the client");
    if (!self->sock)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "not connected");
    return 0;
}

/* Waits until there is a free slot and, for a publish, no other publish of id in flight. */
static int wait_for_room(gridbus_t *self, const char *id)
{
    while (self->count == self->window || (id && find_by_id(self, id, strlen(id))))
        if (client_step(self) < 0)
            return -1;
    return 0;
}

/* ---- publish ----------------------------------------------------------------------- */

/* Reads the event's id (proto decodes): a publish is matched to its ack by it. */
static int event_id_of(gridbus_t *self, const void *event, size_t len, char id[GRIDBUS_ID_BUF])
{
    const msgpack_object *obj;
    gb_error_t err;
    if (wire_decode_object(self->evdec, event, len, &obj, &err) < 0)
        return client_fail(self, GRIDBUS_EINVAL, "E_DECODE", "event: %s", err.msg);
    if (obj->type != MSGPACK_OBJECT_MAP)
        return client_fail(self, GRIDBUS_EINVAL, "E_DECODE", "event: not a map");
    gb_str_t s;
    if (wire_get_str(obj, "id", &s) < 0 || !event_id_valid(s.ptr, s.len, SCHEMA_ID_MAX))
        return client_fail(self, GRIDBUS_EINVAL, "E_SCHEMA",
                           "id: missing or not 1..%d characters of [A-Za-z0-9._:-]", SCHEMA_ID_MAX);
    memcpy(id, s.ptr, s.len);
    id[s.len] = '\0';
    return 0;
}

int gridbus_send(gridbus_t *self, const void *event, size_t len, gridbus_done_fn *done, void *arg)
{
    char id[GRIDBUS_ID_BUF];
    if (check_usable(self) < 0 || event_id_of(self, event, len, id) < 0)
        return -1;
    if (wait_for_room(self, id) < 0)
        return -1;
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &self->sbuf, msgpack_sbuffer_write);
    uint64_t rid = self->next_rid++;
    wire_pack_publish(&pk, rid, event, len);
    return ring_push(self, REQ_PUBLISH, rid, id, done, arg);
}

int gridbus_flush(gridbus_t *self)
{
    if (self->in_callback)
        return check_usable(self);
    while (self->live > 0)
        if (client_step(self) < 0)
            break;
    bool failed = self->flush_failed;
    self->flush_failed = false;
    return failed ? -1 : 0;
}

static void sync_done(const gridbus_result_t *r, void *arg)
{
    sync_t *s = arg;
    s->done = true;
    s->status = r->status;
    snprintf(s->id, sizeof s->id, "%s", r->id ? r->id : "");
    s->seq = r->seq;
    s->dup = r->dup;
    snprintf(s->code, sizeof s->code, "%s", r->code ? r->code : "");
    snprintf(s->msg, sizeof s->msg, "%s", r->message ? r->message : "");
}

/* Pumps until s is done; the error, if any, becomes the client's. */
static int sync_wait(gridbus_t *self, sync_t *s)
{
    while (!s->done)
        if (client_step(self) < 0 && !s->done)
            return -1;
    if (s->status == GRIDBUS_OK)
        return 0;
    return client_fail(self, s->status, s->code, "%s", s->msg);
}

int gridbus_publish(gridbus_t *self, const void *event, size_t len, gridbus_ack_t *ack)
{
    sync_t s = {0};
    if (gridbus_send(self, event, len, sync_done, &s) < 0 || sync_wait(self, &s) < 0)
        return -1;
    if (ack) {
        memcpy(ack->id, s.id, sizeof ack->id);
        ack->seq = s.seq;
        ack->dup = s.dup;
    }
    return 0;
}

/* ---- ping and replay --------------------------------------------------------------- */

/* Sends the request packed in self->sbuf and waits for its answer in self->reply, decoded
 * into rep. */
static int request(gridbus_t *self, req_kind_t kind, uint64_t rid, wire_reply_t *rep)
{
    sync_t s = {0};
    if (wait_for_room(self, NULL) < 0 || ring_push(self, kind, rid, NULL, sync_done, &s) < 0)
        return -1;
    if (sync_wait(self, &s) < 0)
        return -1;
    gb_error_t err;
    if (wire_decode_reply(self->dec, self->reply, self->reply_len, rep, &err) < 0)
        return client_fail(self, GRIDBUS_EPROTO, NULL, "reply: %s", err.msg);
    return 0;
}

static void packer_reset(gridbus_t *self, msgpack_packer *pk)
{
    msgpack_sbuffer_clear(&self->sbuf);
    msgpack_packer_init(pk, &self->sbuf, msgpack_sbuffer_write);
}

int gridbus_ping(gridbus_t *self, gridbus_pong_t *pong)
{
    msgpack_packer pk;
    wire_reply_t rep;
    if (check_usable(self) < 0)
        return -1;
    uint64_t rid = self->next_rid++;
    packer_reset(self, &pk);
    wire_pack_ping(&pk, rid);
    if (request(self, REQ_PING, rid, &rep) < 0)
        return -1;
    if (rep.op != WIRE_REPLY_PONG)
        return client_fail(self, GRIDBUS_EPROTO, NULL, "ping: the reply is not a pong");
    if (pong) {
        memset(pong, 0, sizeof *pong);
        snprintf(pong->version, sizeof pong->version, "%.*s", (int)rep.version.len,
                 rep.version.ptr ? rep.version.ptr : "");
        if (rep.heads)
            wire_get_u64(rep.heads, "events", &pong->events_head);
    }
    return 0;
}

void client_each(gridbus_t *self, const msgpack_object *array, gridbus_record_fn *fn, void *arg)
{
    if (!array || array->type != MSGPACK_OBJECT_ARRAY || !fn)
        return;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    const msgpack_object_array *a = &array->via.array;
    for (uint32_t i = 0; i < a->size; i++) {
        msgpack_sbuffer_clear(&buf);
        msgpack_pack_object(&pk, a->ptr[i]);
        self->in_callback = true;
        fn(buf.data, buf.size, arg);
        self->in_callback = false;
    }
    msgpack_sbuffer_destroy(&buf);
}

int gridbus_replay(gridbus_t *self, const char *stream, uint64_t from, uint32_t limit,
                   const char *filter, gridbus_record_fn *record, void *arg, uint64_t *next,
                   uint64_t *head)
{
    msgpack_packer pk;
    wire_reply_t rep;
    if (check_usable(self) < 0)
        return -1;
    if (!stream || !*stream)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "replay: no stream");
    if (limit == 0)
        limit = WIRE_REPLAY_LIMIT_DEFAULT; /* the request always carries one */
    uint64_t rid = self->next_rid++;
    packer_reset(self, &pk);
    wire_pack_replay(&pk, rid, stream, from, limit, filter);
    if (request(self, REQ_REPLAY, rid, &rep) < 0)
        return -1;
    if (rep.op != WIRE_REPLY_RECORDS)
        return client_fail(self, GRIDBUS_EPROTO, NULL, "replay: the reply is not records");
    client_each(self, rep.records, record, arg);
    if (next)
        *next = rep.next;
    if (head)
        *head = rep.head;
    return 0;
}

const void *gridbus_last_reply(const gridbus_t *self, size_t *len)
{
    if (len)
        *len = self->reply_len;
    return self->reply_len ? self->reply : NULL;
}

/* ---- for the other modules of the library (client_int.h) --------------------------- */

int client_call(gridbus_t *self, client_pack_fn *pack, const void *arg, wire_reply_t *rep)
{
    msgpack_packer pk;
    if (check_usable(self) < 0)
        return -1;
    uint64_t rid = self->next_rid++;
    packer_reset(self, &pk);
    pack(&pk, rid, arg);
    return request(self, REQ_QUERY, rid, rep);
}

void client_keep(gridbus_t *self, const msgpack_object *obj, const void **data, size_t *len)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(&self->kept);
    msgpack_packer_init(&pk, &self->kept, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *obj);
    *data = self->kept.data;
    *len = self->kept.size;
}
