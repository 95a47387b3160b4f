/*
 * ingest: read, batch, commit, answer (see ingest.h).
 *
 * Messages are kept as zmq_msg_t in a fixed array sized at start, and replies are packed
 * into one reusable buffer, so a steady stream of requests allocates nothing here. A
 * batch that hits a full map is aborted, the map grown, and the same batch run again from
 * its first request: handlers are written to be re-run, and no reply leaves before the
 * commit that makes it true.
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "clock.h"
#include "inflight.h"
#include "log.h"
#include "metrics.h"
#include "op.h"
#include "wire.h"
#include "zwatch.h"

enum { SRC_INGEST, SRC_PUBLISH };

typedef struct {
    zmq_msg_t ident; /* ROUTER routing id; the topic frame on the publish socket */
    zmq_msg_t body;
    uint8_t src;
    bool delim;     /* a REQ-style empty delimiter preceded the body: echo it */
    bool busy;      /* past limits.inflight_max for its connection: answered E_BUSY */
    uint32_t extra; /* frames past the body, dropped */
    size_t reply_off, reply_len;
} item_t;

struct ingest {
    struct event_base *base;
    void *router, *sub;
    zwatch_t *router_w, *sub_w;
    struct event *flush_ev;
    item_t *items;
    uint32_t count;
    ingest_opts_t o;
    wire_decoder_t *decoder;
    task_t *task_scratch;
    alert_t *alert_scratch;
    msgpack_sbuffer replies, scratch;
    msgpack_packer reply_pk; /* packs into replies */
    inflight_t *inflight;    /* requests per connection in this batch */
    bool stopped;
};

/* One read pass per batch: the watchers rest until the flush has committed and answered
 * what they read. Otherwise sockets that stay busy would keep the loop's higher-priority
 * queue non-empty and the flush would wait for a full batch, adding latency at low load. */
static void schedule_flush(ingest_t *self)
{
    event_active(self->flush_ev, EV_TIMEOUT, 0);
    zwatch_pause(self->router_w, true);
    if (self->sub_w)
        zwatch_pause(self->sub_w, true);
}

/* Receives the rest of a multipart message: the body, then counts and drops any extra. */
static void recv_rest(void *sock, item_t *it, bool router)
{
    zmq_msg_init(&it->body);
    if (!zmq_msg_more(&it->ident))
        return; /* only one frame: the body stays empty */
    zmq_msg_recv(&it->body, sock, ZMQ_DONTWAIT);
    if (router && zmq_msg_size(&it->body) == 0 && zmq_msg_more(&it->body)) {
        it->delim = true;
        zmq_msg_recv(&it->body, sock, ZMQ_DONTWAIT);
    }
    bool more = zmq_msg_more(&it->body);
    while (more) {
        zmq_msg_t drop;
        zmq_msg_init(&drop);
        if (zmq_msg_recv(&drop, sock, ZMQ_DONTWAIT) < 0)
            break;
        more = zmq_msg_more(&drop);
        zmq_msg_close(&drop);
        it->extra++;
    }
}

static void read_socket(ingest_t *self, void *sock, uint8_t src)
{
    uint32_t n = 0;
    while (n < self->o.read_budget && self->count < self->o.batch_max) {
        item_t *it = &self->items[self->count];
        memset(it, 0, sizeof *it);
        zmq_msg_init(&it->ident);
        if (zmq_msg_recv(&it->ident, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&it->ident);
            break;
        }
        it->src = src;
        recv_rest(sock, it, src == SRC_INGEST);
        if (src == SRC_INGEST)
            it->busy =
                !inflight_admit(self->inflight, zmq_msg_data(&it->ident), zmq_msg_size(&it->ident));
        self->count++, n++;
    }
    if (n)
        schedule_flush(self);
}

static void on_router(void *sock, void *arg)
{
    read_socket(arg, sock, SRC_INGEST);
}

static void on_sub(void *sock, void *arg)
{
    read_socket(arg, sock, SRC_PUBLISH);
}

/* "ingest 127.0.0.1:5120": where a refused input came from. */
static void describe_source(const void *item, char *buf, size_t len)
{
    const item_t *it = item;
    const char *peer = zmq_msg_gets((zmq_msg_t *)&it->body, "Peer-Address");
    snprintf(buf, len, "%s %s", it->src == SRC_INGEST ? "ingest" : "publish", peer ? peer : "?");
}

/* Runs every item of the batch against the store; the caller commits. */
static int run_items(ingest_t *self, op_ctx_t *ctx)
{
    msgpack_sbuffer_clear(&self->replies);
    ctx->reply = &self->reply_pk;
    for (uint32_t i = 0; i < self->count; i++) {
        item_t *it = &self->items[i];
        ctx->source = NULL;
        ctx->describe = describe_source;
        ctx->item = it;
        /* Set by the ZAP handler when CURVE is on: the member the key belongs to. */
        const char *member = zmq_msg_gets(&it->body, "User-Id");
        ctx->peer_member = member && member[0] ? member : NULL;
        op_frame_t f = {
            .data = zmq_msg_data(&it->body),
            .len = zmq_msg_size(&it->body),
            .extra_frames = it->extra,
            .topic = {zmq_msg_data(&it->ident), (uint32_t)zmq_msg_size(&it->ident)},
            .has_topic = it->src == SRC_PUBLISH && zmq_msg_more(&it->ident),
        };
        it->reply_off = self->replies.size;
        int rc = it->busy                ? inflight_refuse(self->inflight, ctx, self->decoder, &f)
                 : it->src == SRC_INGEST ? op_dispatch_request(ctx, self->decoder, &f)
                                         : op_dispatch_fire_and_forget(ctx, self->decoder, &f);
        if (rc < 0)
            return -1;
        it->reply_len = self->replies.size - it->reply_off;
    }
    return 0;
}

/* One attempt at the batch: STORE_OK when committed (or answered without writes). */
static store_rc_t run_batch(ingest_t *self, bool storage_down)
{
    op_ctx_t ctx = {
        .store = self->o.store,
        .directory = community_directory(self->o.community),
        .community = self->o.community,
        .taskdb = self->o.taskdb,
        .cases = self->o.cases,
        .alertdb = self->o.alertdb,
        .alerts = self->o.alerts,
        .allow_clock = self->o.allow_clock,
        .task_scratch = self->task_scratch,
        .alert_scratch = self->alert_scratch,
        .scratch = &self->scratch,
        .now = clock_now(),
        .storage_down = storage_down,
        .max_message = self->o.max_message,
        .max_reply = self->o.max_message * 16,
        .stats = self->o.stats,
    };
    if (storage_down)
        return run_items(self, &ctx) < 0 ? STORE_ERROR : STORE_OK;
    /* An attempt that does not commit is run again: its counts must not stay. */
    stats_t before = *self->o.stats;
    store_rc_t rc = store_begin(self->o.store);
    if (rc != STORE_OK)
        return rc;
    if (run_items(self, &ctx) < 0) {
        store_abort(self->o.store);
        rc = ctx.store_rc;
    } else {
        uint64_t t0 = metrics_clock_ns();
        rc = store_commit(self->o.store);
        if (rc == STORE_OK)
            metrics_observe_commit(self->o.stats, metrics_clock_ns() - t0);
    }
    if (rc != STORE_OK) {
        if (self->o.alerts_feed)
            feed_discard(self->o.alerts_feed);
        *self->o.stats = before;
    }
    return rc;
}

/* Commits the batch, growing the map as needed; past the cap, refuses its writes. */
static void commit_batch(ingest_t *self)
{
    store_rc_t rc;
    while ((rc = run_batch(self, false)) == STORE_FULL && store_grow(self->o.store) == 0) {
        self->o.stats->map_grows++;
        log_info("msg=\"map grown\" map_size=%llu",
                 (unsigned long long)store_map_size(self->o.store));
    }
    if (rc != STORE_OK) {
        log_error("msg=\"batch refused\" requests=%u reason=\"%s\"", self->count,
                  store_error(self->o.store));
        run_batch(self, true);
        return;
    }
    self->o.stats->batches++;
    self->o.stats->batch_items += self->count;
    metrics_observe_batch(self->o.stats, self->count);
}

static void send_replies(ingest_t *self)
{
    for (uint32_t i = 0; i < self->count; i++) {
        item_t *it = &self->items[i];
        if (it->src != SRC_INGEST || it->reply_len == 0)
            continue;
        if (zmq_msg_send(&it->ident, self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
            (it->delim && zmq_send(self->router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) ||
            zmq_send(self->router, self->replies.data + it->reply_off, it->reply_len,
                     ZMQ_DONTWAIT) < 0)
            self->o.stats->reply_drops++;
    }
}

static void release_items(ingest_t *self)
{
    for (uint32_t i = 0; i < self->count; i++) {
        zmq_msg_close(&self->items[i].ident);
        zmq_msg_close(&self->items[i].body);
    }
    self->count = 0;
}

static void flush(ingest_t *self)
{
    if (self->count == 0)
        return;
    self->o.stats->requests += self->count;
    commit_batch(self);
    send_replies(self);
    if (self->o.alerts_feed)
        feed_flush(self->o.alerts_feed);
    release_items(self);
    inflight_reset(self->inflight);
    if (self->o.committed)
        self->o.committed(self->o.committed_arg);
    if (self->stopped)
        return;
    zwatch_pause(self->router_w, false);
    zwatch_kick(self->router_w);
    if (self->sub_w) {
        zwatch_pause(self->sub_w, false);
        zwatch_kick(self->sub_w);
    }
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    flush(arg);
}

ingest_t *ingest_new(struct event_base *base, void *router, void *sub, const ingest_opts_t *opts)
{
    ingest_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base, self->router = router, self->sub = sub, self->o = *opts;
    msgpack_sbuffer_init(&self->replies);
    msgpack_sbuffer_init(&self->scratch);
    msgpack_packer_init(&self->reply_pk, &self->replies, msgpack_sbuffer_write);
    self->items = calloc(opts->batch_max, sizeof *self->items);
    self->decoder = wire_decoder_new();
    self->task_scratch = malloc(sizeof *self->task_scratch);
    self->alert_scratch = malloc(sizeof *self->alert_scratch);
    self->flush_ev = event_new(base, -1, 0, on_flush, self);
    self->inflight = inflight_new(opts->batch_max, opts->inflight_max);
    if (!self->items || !self->decoder || !self->task_scratch || !self->alert_scratch ||
        !self->flush_ev || !self->inflight ||
        event_priority_set(self->flush_ev, INGEST_PRIORITIES - 1) < 0)
        goto fail;
    self->router_w = zwatch_new(base, router, on_router, self);
    self->sub_w = sub ? zwatch_new(base, sub, on_sub, self) : NULL;
    if (!self->router_w || (sub && !self->sub_w))
        goto fail;
    return self;
fail:
    ingest_destroy(&self);
    return NULL;
}

void ingest_destroy(ingest_t **self_p)
{
    ingest_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    release_items(self);
    zwatch_destroy(&self->router_w);
    zwatch_destroy(&self->sub_w);
    if (self->flush_ev)
        event_free(self->flush_ev);
    wire_decoder_destroy(&self->decoder);
    inflight_destroy(&self->inflight);
    msgpack_sbuffer_destroy(&self->replies);
    msgpack_sbuffer_destroy(&self->scratch);
    free(self->items);
    free(self->task_scratch);
    free(self->alert_scratch);
    free(self);
    *self_p = NULL;
}

void ingest_set_community(ingest_t *self, const community_t *community)
{
    self->o.community = community;
}

void ingest_shutdown(ingest_t *self)
{
    self->stopped = true;
    zwatch_pause(self->router_w, true);
    if (self->sub_w)
        zwatch_pause(self->sub_w, true);
    flush(self);
}
