/*
 * fuzz_request: libFuzzer target for the daemon's whole request path without sockets:
 * framing checks, decode, validation against the Daidong directory, the LMDB store, the
 * case loop (routing, task lifecycle, deadlines, the task feed), queries, dead letters and
 * the reply: daemon/op_dispatch.c and everything it calls, as ingest.c calls it.
 *
 * An input is a batch of up to ITEMS_MAX items run in one write transaction, as ingest.c
 * runs a loop turn. Each item is a mode byte and a frame:
 *
 *   item  = mode frame            mode bit 0x80 clear: the frame is the rest of the input
 *         | mode len:u16be frame  mode bit 0x80 set: len bytes, then the next item
 *   mode  0x01 fire-and-forget (else a request on ingest)
 *         0x02 one extra frame followed the body
 *         0x04 limits.max_message is SMALL_MESSAGE (else 64 KiB)
 *         0x08 fire-and-forget without the [type] frame
 *         0x10 (first item) the batch runs with storage down, as past the map cap
 *         0x20 (first item) testing.allow_clock: the clock op may set the time
 *         0x40 (first item) start from an empty store, the clock at NOW_MS
 *   a fire-and-forget frame is topic_len:u8 topic event
 *
 * Invariants checked beyond the sanitizers: every request gets exactly one well-formed
 * reply of a kind its op allows (ack/nack, pong, records, result), echoing its rid byte for
 * byte; a fire-and-forget message gets none; the store fails only by filling up; after a
 * commit the log grew by the events counted as published and every counted refusal left a
 * dead letter; replayed events are valid. The store lives in a temporary directory (on
 * tmpfs when there is one, so commits cost no disk sync), grows like the daemon's, and is
 * recreated every STORE_RUNS_MAX inputs to stay small.
 */
#include <event2/event.h>
#include <limits.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cases.h"
#include "clock.h"
#include "community.h"
#include "fuzz.h"
#include "op.h"
#include "stats.h"
#include "store.h"
#include "taskdb.h"
#include "alerts.h"
#include "wire.h"

#define ITEMS_MAX 8
#define SMALL_MESSAGE 256
#define MAX_MESSAGE 65536
#define STORE_RUNS_MAX 10000
#define NOW_MS INT64_C(1795751254668)

enum {
    MODE_FIRE_AND_FORGET = 0x01,
    MODE_EXTRA_FRAME = 0x02,
    MODE_SMALL = 0x04,
    MODE_NO_TOPIC = 0x08,
    MODE_STORAGE_DOWN = 0x10,
    MODE_ALLOW_CLOCK = 0x20,
    MODE_FRESH = 0x40,
    MODE_MORE = 0x80,
};

typedef struct {
    uint8_t mode;
    op_frame_t f;
} item_t;

static struct {
    char dir[PATH_MAX - 16];  /* the store's directory, made by mkdtemp */
    char index_dir[PATH_MAX]; /* dir/index: the task indexes' environment */
    community_t *community;
    struct event_base *base; /* for the daemon's constructors; never run */
    void *zctx, *pub;        /* the task feed's PUB socket, bound nowhere */
    /* the world, recreated from empty every STORE_RUNS_MAX inputs */
    store_t *store;
    taskdb_t *taskdb;
    cases_t *cases;
    alertdb_t *alertdb; /* the alert loop, its feed records stored but never published */
    alerts_t *alerts;
    alert_t alert_scratch;
    task_t *task_scratch;
    wire_decoder_t *dec, *reply_dec, *req_dec;
    msgpack_sbuffer replies, scratch, rid_a, rid_b;
    msgpack_packer reply_pk;
    stats_t stats;
    unsigned long runs;
    bool verbose; /* $GRIDBUS_FUZZ_VERBOSE: print every reply, to check seeds by eye */
} fz;

/* A small map with a low cap, so long runs go through map growth, the storage-down batch
 * at the cap and the store's recreation, not only the happy path. */
static const store_opts_t store_opts = {1u << 20, 4u << 20, 1000};

/* Opens an empty store and the case loop on it, with the clock back at NOW_MS. */
static void world_open(void)
{
    char err[512];
    clock_set(NOW_MS);
    snprintf(fz.index_dir, sizeof fz.index_dir, "%s/index", fz.dir);
    fz.store = store_new(fz.dir, &store_opts, err, sizeof err);
    if (fz.store)
        fz.taskdb = taskdb_new(fz.store, fz.index_dir, &store_opts, err, sizeof err);
    if (fz.taskdb) {
        taskdb_publish(fz.taskdb, fz.pub); /* its thread sends what commits */
        fz.cases = cases_new(fz.taskdb, fz.community);
    }
    if (fz.cases)
        fz.alertdb = alertdb_new(fz.store, err, sizeof err);
    if (fz.alertdb)
        fz.alerts = alerts_new(fz.alertdb, NULL, fz.community);
    if (fz.alerts)
        cases_on_overdue(fz.cases, alerts_task_overdue, fz.alerts);
    if (!fz.alerts) {
        fprintf(stderr, "fuzz_request: cannot open the store: %s\n", err);
        abort();
    }
}

/* Closes the world and deletes the store's files, keeping the directory. */
static void world_close(void)
{
    char data[PATH_MAX + 16], lock[PATH_MAX + 16];
    alerts_destroy(&fz.alerts);
    alertdb_destroy(&fz.alertdb);
    cases_destroy(&fz.cases);
    if (fz.taskdb)
        taskdb_publish(fz.taskdb, NULL);
    taskdb_destroy(&fz.taskdb);
    store_destroy(&fz.store);
    for (int i = 0; i < 2; i++) {
        const char *dir = i ? fz.index_dir : fz.dir;
        snprintf(data, sizeof data, "%s/data.mdb", dir);
        snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
        unlink(data);
        unlink(lock);
    }
    rmdir(fz.index_dir);
}

static void cleanup(void)
{
    world_close();
    rmdir(fz.dir);
    community_destroy(&fz.community);
    if (fz.pub)
        zmq_close(fz.pub);
    if (fz.zctx)
        zmq_ctx_term(fz.zctx);
    if (fz.base)
        event_base_free(fz.base);
    free(fz.task_scratch);
    wire_decoder_destroy(&fz.dec);
    wire_decoder_destroy(&fz.reply_dec);
    wire_decoder_destroy(&fz.req_dec);
    msgpack_sbuffer_destroy(&fz.replies);
    msgpack_sbuffer_destroy(&fz.scratch);
    msgpack_sbuffer_destroy(&fz.rid_a);
    msgpack_sbuffer_destroy(&fz.rid_b);
}

/* $TMPDIR, else /dev/shm when writable (tmpfs: fsync is free), else /tmp. */
static const char *temp_base(void)
{
    const char *t = getenv("TMPDIR");
    if (t && *t)
        return t;
    return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
}

static void load_community(void)
{
    char path[PATH_MAX], err[512];
    const char *conf = getenv("GRIDBUS_CONF");
    snprintf(path, sizeof path, "%s/daidong.yaml", conf && *conf ? conf : "conf");
    fz.community = community_load(path, err, sizeof err);
    if (!fz.community) {
        fprintf(stderr, "fuzz_request: %s (set GRIDBUS_CONF to the conf/ folder)\n", err);
        abort();
    }
}

/* The feed's socket: a PUB bound nowhere drops what it is given, as with no subscriber. */
static void open_feed_socket(void)
{
    int linger = 0;
    fz.base = event_base_new();
    fz.zctx = zmq_ctx_new();
    fz.pub = fz.zctx ? zmq_socket(fz.zctx, ZMQ_PUB) : NULL;
    if (!fz.base || !fz.pub || zmq_setsockopt(fz.pub, ZMQ_LINGER, &linger, sizeof linger) < 0)
        abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    snprintf(fz.dir, sizeof fz.dir, "%s/gridbus-fuzz.XXXXXX", temp_base());
    if (!mkdtemp(fz.dir)) {
        perror(fz.dir);
        abort();
    }
    load_community();
    open_feed_socket();
    fz.verbose = getenv("GRIDBUS_FUZZ_VERBOSE") != NULL;
    fz.dec = wire_decoder_new();
    fz.reply_dec = wire_decoder_new();
    fz.req_dec = wire_decoder_new();
    fz.task_scratch = malloc(sizeof *fz.task_scratch);
    if (!fz.dec || !fz.reply_dec || !fz.req_dec || !fz.task_scratch)
        abort();
    msgpack_sbuffer_init(&fz.replies);
    msgpack_sbuffer_init(&fz.scratch);
    msgpack_sbuffer_init(&fz.rid_a);
    msgpack_sbuffer_init(&fz.rid_b);
    msgpack_packer_init(&fz.reply_pk, &fz.replies, msgpack_sbuffer_write);
    world_open();
    atexit(cleanup);
    return 0;
}

/* Fills it from mode and its bytes; a fire-and-forget frame starts with its topic. */
static void make_item(item_t *it, uint8_t mode, const uint8_t *p, size_t len)
{
    memset(it, 0, sizeof *it);
    it->mode = mode;
    it->f.extra_frames = (mode & MODE_EXTRA_FRAME) ? 1 : 0;
    if ((mode & MODE_FIRE_AND_FORGET) && !(mode & MODE_NO_TOPIC) && len > 0) {
        size_t tlen = p[0] < len - 1 ? p[0] : len - 1;
        it->f.topic = (gb_str_t){(const char *)p + 1, (uint32_t)tlen};
        it->f.has_topic = true;
        p += 1 + tlen, len -= 1 + tlen;
    }
    it->f.data = p, it->f.len = len;
}

/* Splits an input into items (see the top of this file). */
static size_t parse_items(const uint8_t *data, size_t size, item_t *items)
{
    size_t n = 0, pos = 0;
    while (pos < size && n < ITEMS_MAX) {
        uint8_t mode = data[pos++];
        size_t len = size - pos;
        if ((mode & MODE_MORE) && len >= 2) {
            size_t want = (size_t)data[pos] << 8 | data[pos + 1];
            pos += 2;
            len = want < size - pos ? want : size - pos;
        }
        make_item(&items[n++], mode, data + pos, len);
        pos += len;
    }
    return n;
}

static void pack_rid(msgpack_sbuffer *sb, const msgpack_object *rid)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_object(&pk, *rid);
}

/* The reply echoes exactly the rid of the request, when there was one. */
static void check_rid(const msgpack_object *sent, const msgpack_object *got)
{
    FUZZ_CHECK((sent == NULL) == (got == NULL), "rid %s in the reply",
               sent ? "missing" : "invented");
    if (!sent)
        return;
    pack_rid(&fz.rid_a, sent);
    pack_rid(&fz.rid_b, got);
    FUZZ_CHECK(fz.rid_a.size == fz.rid_b.size &&
                   memcmp(fz.rid_a.data, fz.rid_b.data, fz.rid_a.size) == 0,
               "rid not echoed verbatim");
}

/* The reply ops a request may get, as a bit set of 1 << wire_reply_op_t. req is decoded
 * (with a decoder of its own) when framing lets the request through. */
static unsigned allowed_replies(const item_t *it, uint32_t max_message, wire_request_t *req)
{
    const unsigned nack = 1u << WIRE_REPLY_NACK;
    gb_error_t err;
    memset(req, 0, sizeof *req);
    if (it->f.extra_frames || it->f.len > max_message)
        return nack;
    if (wire_decode_request(fz.req_dec, it->f.data, it->f.len, req, &err) < 0)
        return nack;
    switch (req->op) {
    case WIRE_OP_PUBLISH:
        return nack | 1u << WIRE_REPLY_ACK;
    case WIRE_OP_PING:
        return 1u << WIRE_REPLY_PONG;
    case WIRE_OP_REPLAY:
        return nack | 1u << WIRE_REPLY_RECORDS;
    case WIRE_OP_QUERY:
    case WIRE_OP_CLOCK:
        return nack | 1u << WIRE_REPLY_RESULT;
    }
    return nack;
}

static bool str_is(gb_str_t s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

/* A records reply: maps with increasing seqs, events valid in their stored canonical form,
 * next just past the last one, head not behind it. Only the first RECORDS_CHECKED are
 * looked at, to keep long replays cheap. */
#define RECORDS_CHECKED 16
static void check_records(const wire_reply_t *rep, const wire_request_t *req)
{
    uint64_t last = 0, seq;
    const msgpack_object_array *a = &rep->records->via.array;
    for (uint32_t i = 0; i < a->size && i < RECORDS_CHECKED; i++) {
        gb_event_t ev;
        gb_error_t err = {GB_OK, ""};
        const msgpack_object *r = &a->ptr[i];
        FUZZ_CHECK(wire_get_u64(r, "seq", &seq) == 0 && seq > last, "record %u: seq", i);
        if (str_is(req->stream, "events"))
            FUZZ_CHECK(event_validate(event_map_get(r, "event"), NULL, &ev, &err) == 0,
                       "record %u: stored event refused: %s", i, err.msg);
        last = seq;
    }
    if (a->size > 0 && a->size <= RECORDS_CHECKED)
        FUZZ_CHECK(rep->next == last + 1, "next %llu after seq %llu", (unsigned long long)rep->next,
                   (unsigned long long)last);
    FUZZ_CHECK(rep->head >= last, "head %llu behind seq %llu", (unsigned long long)rep->head,
               (unsigned long long)last);
}

/* What each kind of reply promises. */
static void check_reply_fields(const wire_reply_t *rep, const wire_request_t *req,
                               const op_ctx_t *ctx)
{
    const msgpack_object *now = event_map_get(rep->root, "now");
    if (rep->op == WIRE_REPLY_ACK) {
        FUZZ_CHECK(rep->seq >= 1 && rep->seq <= store_head(ctx->store), "ack seq %llu",
                   (unsigned long long)rep->seq);
        FUZZ_CHECK(rep->id.len >= 1, "ack without id");
    }
    if (rep->op == WIRE_REPLY_NACK) {
        FUZZ_CHECK(rep->code > GB_OK && rep->code < GB_E_COUNT_, "nack code %d", (int)rep->code);
        FUZZ_CHECK(rep->error.len > 0, "nack without error message");
        FUZZ_CHECK(rep->code != GB_E_STORAGE || ctx->storage_down, "E_STORAGE with storage up");
    }
    if (rep->op == WIRE_REPLY_RECORDS)
        check_records(rep, req);
    if (rep->op == WIRE_REPLY_RESULT && req->op == WIRE_OP_CLOCK)
        FUZZ_CHECK(now && now->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                       (int64_t)now->via.u64 == clock_now(),
                   "clock: now is not the clock");
}

static void print_reply(const wire_reply_t *rep)
{
    if (!fz.verbose)
        return;
    msgpack_object_print(stderr, *rep->root);
    fputc('\n', stderr);
}

/* The bytes an item added to the replies: none for fire-and-forget, else exactly one
 * well-formed reply of a kind the request allows, echoing its rid. */
static void check_item_reply(const item_t *it, const op_ctx_t *ctx, size_t off)
{
    const char *p = fz.replies.data + off;
    size_t len = fz.replies.size - off;
    wire_request_t req;
    wire_reply_t rep;
    gb_error_t err = {GB_OK, ""};
    if (it->mode & MODE_FIRE_AND_FORGET) {
        FUZZ_CHECK(len == 0, "fire-and-forget got a %zu-byte reply", len);
        return;
    }
    FUZZ_CHECK(len > 0, "request got no reply");
    FUZZ_CHECK(wire_decode_reply(fz.reply_dec, p, len, &rep, &err) == 0,
               "reply is not exactly one well-formed reply: %s", err.msg);
    print_reply(&rep);
    unsigned allowed = allowed_replies(it, ctx->max_message, &req);
    FUZZ_CHECK(allowed & (1u << rep.op), "reply op %d not allowed for this request", (int)rep.op);
    check_rid(req.rid, rep.rid);
    check_reply_fields(&rep, &req, ctx);
}

/* Runs one item into the open batch; -1 when the store failed. */
static int run_item(op_ctx_t *ctx, const item_t *it)
{
    ctx->max_message = (it->mode & MODE_SMALL) ? SMALL_MESSAGE : MAX_MESSAGE;
    ctx->max_reply = ctx->max_message * 16;
    size_t off = fz.replies.size;
    int rc = (it->mode & MODE_FIRE_AND_FORGET) ? op_dispatch_fire_and_forget(ctx, fz.dec, &it->f)
                                               : op_dispatch_request(ctx, fz.dec, &it->f);
    if (rc < 0) {
        FUZZ_CHECK(!ctx->storage_down, "a handler failed with storage down");
        FUZZ_CHECK(ctx->store_rc == STORE_FULL, "store failed: %s", store_error(fz.store));
        return -1;
    }
    FUZZ_CHECK(rc == 0, "handler returned %d", rc);
    check_item_reply(it, ctx, off);
    return 0;
}

/* What an attempt that went through left in the store: one log entry per event it counted
 * as published, one dead letter per refusal it counted (bounded), none when storage was
 * down. before, head0 and dead0 are from before the attempt. */
static void check_store_effects(const stats_t *before, uint64_t head0, uint64_t dead0,
                                bool storage_down)
{
    uint64_t kept = 0, dead = store_dead_count(fz.store);
    for (int c = 0; c < GB_E_COUNT_; c++)
        if (c != GB_E_STORAGE && c != GB_E_BUSY)
            kept += fz.stats.nacks[c] - before->nacks[c];
    uint64_t want = storage_down ? dead0 : dead0 + kept;
    if (want > store_opts.dead_letter_max)
        want = store_opts.dead_letter_max;
    FUZZ_CHECK(store_head(fz.store) - head0 == fz.stats.published - before->published,
               "head moved by %llu, published %llu",
               (unsigned long long)(store_head(fz.store) - head0),
               (unsigned long long)(fz.stats.published - before->published));
    FUZZ_CHECK(dead == want, "%llu dead letters, want %llu", (unsigned long long)dead,
               (unsigned long long)want);
}

/* One attempt at the batch, as ingest.c's run_batch: STORE_OK when committed. */
static store_rc_t run_batch(const item_t *items, size_t n, bool storage_down)
{
    const stats_t before = fz.stats;
    const uint64_t head0 = store_head(fz.store), dead0 = store_dead_count(fz.store);
    op_ctx_t ctx = {
        .store = fz.store,
        .directory = community_directory(fz.community),
        .community = fz.community,
        .taskdb = fz.taskdb,
        .cases = fz.cases,
        .alertdb = fz.alertdb,
        .alerts = fz.alerts,
        .alert_scratch = &fz.alert_scratch,
        .allow_clock = (items[0].mode & MODE_ALLOW_CLOCK) != 0,
        .task_scratch = fz.task_scratch,
        .reply = &fz.reply_pk,
        .scratch = &fz.scratch,
        .now = clock_now(),
        .storage_down = storage_down,
        .source = "fuzz",
        .stats = &fz.stats,
    };
    msgpack_sbuffer_clear(&fz.replies);
    if (!storage_down) {
        store_rc_t rc = store_begin(fz.store);
        FUZZ_CHECK(rc == STORE_OK, "store_begin: %s", store_error(fz.store));
    }
    for (size_t i = 0; i < n; i++)
        if (run_item(&ctx, &items[i]) < 0) {
            store_abort(fz.store);
            return ctx.store_rc;
        }
    store_rc_t rc = storage_down ? STORE_OK : store_commit(fz.store);
    if (rc == STORE_OK)
        check_store_effects(&before, head0, dead0, storage_down);
    return rc;
}

/* Commits the batch, growing the map as the daemon does; past the cap, answers it with
 * storage down and starts over with an empty store. */
static void commit_batch(const item_t *items, size_t n)
{
    store_rc_t rc;
    while ((rc = run_batch(items, n, false)) == STORE_FULL && store_grow(fz.store) == 0)
        fz.stats.map_grows++;
    FUZZ_CHECK(rc == STORE_OK || rc == STORE_FULL, "commit: %s", store_error(fz.store));
    if (rc == STORE_FULL) {
        FUZZ_CHECK(run_batch(items, n, true) == STORE_OK, "storage-down batch failed");
        world_close();
        world_open();
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    item_t items[ITEMS_MAX];
    size_t n = parse_items(data, size, items);
    if (n == 0)
        return 0;
    if (++fz.runs % STORE_RUNS_MAX == 0 || (items[0].mode & MODE_FRESH)) {
        world_close();
        world_open();
    }
    if (items[0].mode & MODE_STORAGE_DOWN)
        FUZZ_CHECK(run_batch(items, n, true) == STORE_OK, "storage-down batch failed");
    else
        commit_batch(items, n);
    return 0;
}
