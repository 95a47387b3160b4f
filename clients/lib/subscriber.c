/*
 * subscriber: gridbus_sub_t, a feed subscriber that delivers every record once, in seq order,
 * and keeps its cursor in a file (the contract is in gridbus.h).
 *
 * Three positions, all feed seqs, say where it is:
 *   handled  the cursor: every record up to it was handed out and acknowledged;
 *   scan     every wanted record below it was handed out or is queued, and every other seq
 *            below it is known to be a record the filter leaves out;
 *   want     the highest seq known to exist: a live record's, a heartbeat's head, or the
 *            head reported by the first replay or by one made because the feed was silent.
 * gridbus_sub_next hands out what is queued; with the queue empty it replays one page from
 * scan while want >= scan (the records between are missing, or, for a filtered subscriber,
 * may be other topics: the replay settles which), and otherwise reads the feed. A live
 * record is queued only when its seq is exactly scan; below scan it is a duplicate, above
 * it the jump raises want and the replay brings it, in order. Pages and live records are
 * only ever added to an empty queue, so at most one page is held, and the record handed out
 * last stays valid until the next call (which is when it counts as handled).
 *
 * The heartbeat is also the proof that the feed connection works: ZeroMQ never says that a
 * SUB is not connected (a wrong endpoint, a daemon restarted elsewhere). When no heartbeat
 * has come for SILENCE_MS, the subscriber replays from scan to the head anyway, and goes on
 * doing so every SILENCE_MS: records still arrive, later, instead of never.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "client_int.h"
#include "gridbus.h"
#include "sub_cursor.h"
#include "wire.h"

/* Records asked for per replay page (the daemon may send fewer: its reply size cap). */
#define PAGE_LIMIT WIRE_REPLAY_LIMIT_MAX
/* Feed messages read per wake-up before records are handed out. */
#define DRAIN_MAX 1000
/* No heartbeat (sent every second) for this long: replay instead of trusting the feed. */
#define SILENCE_MS 3000
#define STREAM_MAX 16
#define FILTER_MAX 1024

typedef struct {
    uint64_t seq;
    uint64_t upto;   /* the cursor once it is handled: past its seq when a page skipped others */
    size_t off, len; /* the record, in arena */
    bool live;
} item_t;

struct gridbus_sub {
    gridbus_t *client; /* replays, over ingest */
    void *ctx, *sock;  /* the feed, SUB */
    wire_decoder_t *dec;
    char stream[STREAM_MAX], hb_topic[STREAM_MAX + 3];
    char *filter, *cursor_path, *feed_endpoint;
    char curve[3][GRIDBUS_KEY_BUF]; /* CURVE: client public, client secret, server public */
    bool have_cursor, synced, start_at_head, fsync;
    bool probe;          /* the feed has been silent: replay to the head */
    bool page_cut;       /* a record of the page in hand could not be queued (memory) */
    int64_t silent_from; /* when the feed counts as silent unless a heartbeat comes */
    uint64_t handled, saved, scan, want;
    item_t *items; /* the queue: [first, n) */
    size_t first, n, cap;
    msgpack_sbuffer arena; /* the queued records' bytes */
    bool has_cur;          /* a record is handed out and not yet acknowledged */
    uint64_t cur_upto, last_seq;
    gridbus_sub_stats_t stats;
    bool broken; /* new() failed: every call reports that failure */
    gridbus_status_t status;
    char code[24];
    char msg[320];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

__attribute__((format(printf, 4, 5))) static int
sub_fail(gridbus_sub_t *self, gridbus_status_t status, const char *code, const char *fmt, ...)
{
    va_list ap;
    self->status = status;
    snprintf(self->code, sizeof self->code, "%s", code ? code : client_status_code(status));
    va_start(ap, fmt);
    vsnprintf(self->msg, sizeof self->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* The replay client's error becomes the subscriber's. */
static int fail_client(gridbus_sub_t *self)
{
    return sub_fail(self, gridbus_status(self->client), gridbus_errcode(self->client), "%s",
                    gridbus_error(self->client));
}

/* ---- setting up -------------------------------------------------------------------- */

/* The stream's whole feed: "task/" for "tasks", "alert/" for "alerts". */
static void default_filter(const char *stream, char *out, size_t cap)
{
    size_t n = strlen(stream);
    if (n > 1 && stream[n - 1] == 's')
        n--;
    snprintf(out, cap, "%.*s/", (int)n, stream);
}

static const char *default_feed(const char *stream)
{
    if (strcmp(stream, "tasks") == 0)
        return GRIDBUS_TASKS_ENDPOINT_DEFAULT;
    if (strcmp(stream, "alerts") == 0)
        return GRIDBUS_ALERTS_ENDPOINT_DEFAULT;
    return NULL;
}

static bool stream_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= STREAM_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return false;
    return true;
}

/* Copies the names; -1 with the reason set (E_INVAL), or out of memory (status 0). */
static int set_names(gridbus_sub_t *self, const char *stream, const char *filter,
                     const char *cursor_path)
{
    char dflt[STREAM_MAX + 2];
    if (!stream_valid(stream))
        return sub_fail(self, GRIDBUS_EINVAL, NULL, "stream: must be 1..%d letters a-z",
                        STREAM_MAX - 1);
    snprintf(self->stream, sizeof self->stream, "%s", stream);
    snprintf(self->hb_topic, sizeof self->hb_topic, "hb/%s", stream);
    default_filter(stream, dflt, sizeof dflt);
    if (!filter)
        filter = dflt;
    if (strlen(filter) >= FILTER_MAX || strchr(filter, '\n'))
        return sub_fail(self, GRIDBUS_EINVAL, NULL, "filter: must be under %d bytes, one line",
                        FILTER_MAX);
    self->filter = strdup(filter);
    self->cursor_path = cursor_path ? strdup(cursor_path) : NULL;
    if (!self->filter || (cursor_path && !self->cursor_path))
        return sub_fail(self, GRIDBUS_OK, NULL, "out of memory");
    return 0;
}

static int load_cursor(gridbus_sub_t *self)
{
    char why[sizeof self->msg];
    if (!self->cursor_path)
        return 0;
    gridbus_status_t st = sub_cursor_load(self->cursor_path, self->stream, self->filter,
                                          &self->handled, &self->have_cursor, why, sizeof why);
    if (st != GRIDBUS_OK)
        return sub_fail(self, st, NULL, "%s", why);
    self->saved = self->handled;
    self->scan = self->handled + 1;
    return 0;
}

/* Makes the feed socket a CURVE client when keys were given; 0, or -1 (errno). */
static int feed_curve(gridbus_sub_t *self)
{
    const int opts[3] = {ZMQ_CURVE_PUBLICKEY, ZMQ_CURVE_SECRETKEY, ZMQ_CURVE_SERVERKEY};
    for (int i = 0; self->curve[0][0] && i < 3; i++)
        if (zmq_setsockopt(self->sock, opts[i], self->curve[i], GRIDBUS_KEY_BUF - 1) < 0)
            return -1;
    return 0;
}

/* A fresh SUB to the filter and the heartbeat, replacing the old one; ZeroMQ connects (and
 * reconnects) by itself. */
static int open_feed(gridbus_sub_t *self, const char *endpoint)
{
    int zero = 0;
    if (!endpoint && !(endpoint = default_feed(self->stream)))
        return sub_fail(self, GRIDBUS_EINVAL, NULL, "feed: no default endpoint for stream '%s'",
                        self->stream);
    if (!self->feed_endpoint && !(self->feed_endpoint = strdup(endpoint)))
        return sub_fail(self, GRIDBUS_EINVAL, NULL, "out of memory");
    if (self->sock)
        zmq_close(self->sock);
    self->sock = zmq_socket(self->ctx, ZMQ_SUB);
    if (!self->sock)
        return sub_fail(self, GRIDBUS_ETRANSPORT, NULL, "socket: %s", zmq_strerror(errno));
    zmq_setsockopt(self->sock, ZMQ_LINGER, &zero, sizeof zero);
    if (feed_curve(self) < 0)
        return sub_fail(self, GRIDBUS_EINVAL, NULL, "feed: CURVE keys: %s", zmq_strerror(errno));
    if (zmq_connect(self->sock, endpoint) < 0)
        return sub_fail(self, GRIDBUS_EINVAL, NULL, "feed endpoint '%s': %s", endpoint,
                        zmq_strerror(errno));
    zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, self->filter, strlen(self->filter));
    zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, self->hb_topic, strlen(self->hb_topic));
    return 0;
}

gridbus_sub_t *gridbus_sub_new(const char *ingest_endpoint, const char *feed_endpoint,
                               const char *stream, const char *filter, const char *cursor_path)
{
    gridbus_sub_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    msgpack_sbuffer_init(&self->arena);
    self->scan = 1;
    self->client = gridbus_new();
    self->dec = wire_decoder_new();
    self->ctx = zmq_ctx_new();
    if (!self->client || !self->dec || !self->ctx) {
        gridbus_sub_destroy(&self);
        return NULL;
    }
    if (set_names(self, stream, filter, cursor_path) < 0 || load_cursor(self) < 0)
        self->broken = true;
    else if (gridbus_connect(self->client, ingest_endpoint) < 0)
        self->broken = fail_client(self) < 0;
    else if (open_feed(self, feed_endpoint) < 0)
        self->broken = true;
    if (self->broken && self->status == GRIDBUS_OK) /* set_names ran out of memory */
        gridbus_sub_destroy(&self);
    return self;
}

void gridbus_sub_set_start(gridbus_sub_t *self, uint64_t seq)
{
    if (self->have_cursor || self->synced)
        return;
    self->start_at_head = seq == GRIDBUS_SUB_HEAD;
    self->handled = self->start_at_head ? 0 : seq;
    self->scan = self->handled + 1;
}

void gridbus_sub_set_fsync(gridbus_sub_t *self, bool on)
{
    self->fsync = on;
}

void gridbus_sub_set_timeout(gridbus_sub_t *self, int timeout_ms)
{
    gridbus_set_timeout(self->client, timeout_ms);
}

void gridbus_sub_set_retries(gridbus_sub_t *self, int retries)
{
    gridbus_set_retries(self->client, retries);
}

/* Both connections were opened by new(), so the subscription is in place early; with keys
 * they are opened again, as CURVE clients. A failure here leaves no usable socket. */
int gridbus_sub_set_curve(gridbus_sub_t *self, const char *client_public, const char *client_secret,
                          const char *server_public)
{
    if (self->broken)
        return -1;
    if (self->synced)
        return sub_fail(self, GRIDBUS_EINVAL, NULL,
                        "CURVE: keys go before the first gridbus_sub_next");
    if (gridbus_set_curve(self->client, client_public, client_secret, server_public) < 0)
        return fail_client(self);
    snprintf(self->curve[0], GRIDBUS_KEY_BUF, "%s", client_public);
    snprintf(self->curve[1], GRIDBUS_KEY_BUF, "%s", client_secret);
    snprintf(self->curve[2], GRIDBUS_KEY_BUF, "%s", server_public);
    if (gridbus_connect(self->client, gridbus_endpoint(self->client)) < 0)
        self->broken = fail_client(self) < 0;
    else if (open_feed(self, self->feed_endpoint) < 0)
        self->broken = true;
    return self->broken ? -1 : 0;
}

int gridbus_sub_set_key_file(gridbus_sub_t *self, const char *key_file, const char *server_key)
{
    gridbus_keypair_t mine, server;
    char err[300];
    if (self->broken)
        return -1;
    if (self->synced)
        return sub_fail(self, GRIDBUS_EINVAL, NULL,
                        "CURVE: keys go before the first gridbus_sub_next");
    /* The client's own loader checks the files and says what is wrong with them. */
    if (gridbus_set_key_file(self->client, key_file, server_key) < 0)
        return fail_client(self);
    if (gridbus_keypair_load(key_file, &mine, err, sizeof err) < 0 ||
        gridbus_keypair_load(server_key, &server, err, sizeof err) < 0)
        return sub_fail(self, GRIDBUS_EIO, NULL, "%s", err); /* changed in between */
    int rc = gridbus_sub_set_curve(self, mine.public_key, mine.secret_key, server.public_key);
    explicit_bzero(&mine, sizeof mine);
    return rc;
}

/* ---- the cursor -------------------------------------------------------------------- */

/* The record handed out last is handled: the application asked for more, or saved. */
static void acknowledge(gridbus_sub_t *self)
{
    if (self->has_cur && self->cur_upto > self->handled)
        self->handled = self->cur_upto;
    self->has_cur = false;
}

static int save(gridbus_sub_t *self, bool always)
{
    if (!self->cursor_path || (!always && self->handled == self->saved))
        return 0;
    char why[sizeof self->msg];
    gridbus_status_t st = sub_cursor_save(self->cursor_path, self->stream, self->filter,
                                          self->handled, self->fsync, why, sizeof why);
    if (st != GRIDBUS_OK)
        return sub_fail(self, st, NULL, "%s", why);
    self->saved = self->handled;
    self->stats.saves++;
    return 0;
}

int gridbus_sub_save(gridbus_sub_t *self)
{
    if (self->broken)
        return -1;
    acknowledge(self);
    return save(self, true);
}

void gridbus_sub_destroy(gridbus_sub_t **self_p)
{
    gridbus_sub_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (!self->broken && self->client)
        save(self, false); /* best effort: gridbus_sub_save first to learn the outcome */
    if (self->sock)
        zmq_close(self->sock);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    gridbus_destroy(&self->client);
    wire_decoder_destroy(&self->dec);
    msgpack_sbuffer_destroy(&self->arena);
    free(self->items);
    free(self->filter);
    free(self->cursor_path);
    free(self->feed_endpoint);
    explicit_bzero(self->curve, sizeof self->curve);
    free(self);
    *self_p = NULL;
}

/* ---- the queue --------------------------------------------------------------------- */

static void queue_reset(gridbus_sub_t *self)
{
    self->first = self->n = 0;
    msgpack_sbuffer_clear(&self->arena);
}

static bool queue_empty(const gridbus_sub_t *self)
{
    return self->first == self->n;
}

/* Queues a record with seq == scan and moves scan past it; false when out of memory. */
static bool queue_push(gridbus_sub_t *self, uint64_t seq, const void *rec, size_t len, bool live)
{
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        item_t *grown = realloc(self->items, cap * sizeof *grown);
        if (!grown)
            return false;
        self->items = grown, self->cap = cap;
    }
    size_t off = self->arena.size;
    if (msgpack_sbuffer_write(&self->arena, rec, len) < 0)
        return false;
    self->items[self->n++] = (item_t){seq, seq, off, len, live};
    self->scan = seq + 1;
    return true;
}

static int hand_out(gridbus_sub_t *self, const void **record, size_t *len)
{
    const item_t *it = &self->items[self->first++];
    self->has_cur = true;
    self->last_seq = it->seq;
    self->cur_upto = it->upto;
    self->stats.delivered++;
    if (it->live)
        self->stats.live++;
    else
        self->stats.replayed++;
    *record = self->arena.data + it->off;
    *len = it->len;
    return 1;
}

/* An unsigned field of a feed message (a record's seq, a heartbeat's head), decoded by
 * proto; -1 when it has none. */
static int record_u64(gridbus_sub_t *self, const void *rec, size_t len, const char *key,
                      uint64_t *seq)
{
    const msgpack_object *obj;
    gb_error_t err;
    if (wire_decode_object(self->dec, rec, len, &obj, &err) < 0 ||
        obj->type != MSGPACK_OBJECT_MAP || wire_get_u64(obj, key, seq) < 0)
        return -1;
    return 0;
}

/* ---- replay ------------------------------------------------------------------------ */

static void on_replayed(const void *rec, size_t len, void *arg)
{
    gridbus_sub_t *self = arg;
    uint64_t seq;
    /* Below scan: already had. Out of memory: that record and the rest of the page are
     * left for the next page, which starts at scan. */
    if (self->page_cut || record_u64(self, rec, len, "seq", &seq) < 0 || seq < self->scan)
        return;
    self->page_cut = !queue_push(self, seq, rec, len, false);
}

/* Moves scan to the page's `next`: the seqs between the last record and next are records
 * the filter left out, so the cursor may pass them once that record is handled. */
static void take_next(gridbus_sub_t *self, uint64_t next, uint64_t old_scan)
{
    if (next > self->scan) {
        if (!queue_empty(self))
            self->items[self->n - 1].upto = next - 1;
        else
            self->handled = next - 1; /* nothing is handed out: it was acknowledged */
        self->scan = next;
    }
    /* Nothing there after all (a heartbeat raced a commit, or the daemon lost track):
     * stop asking until the feed shows something new. */
    if (queue_empty(self) && self->scan == old_scan)
        self->want = self->scan - 1;
}

static int fetch_page(gridbus_sub_t *self)
{
    uint64_t from = self->scan, old_scan = self->scan, next = 0, head = 0;
    uint32_t limit = PAGE_LIMIT;
    if (!self->synced && self->start_at_head)
        from = INT64_MAX, limit = 1; /* past any record: only the head comes back */
    queue_reset(self);
    self->page_cut = false;
    self->stats.replays++;
    if (gridbus_replay(self->client, self->stream, from, limit, self->filter, on_replayed, self,
                       &next, &head) < 0) {
        queue_reset(self);
        return fail_client(self);
    }
    /* The head never goes back: a saved cursor past it belongs to another daemon or to state
     * that was lost, and following it would drop every record up to it as "already had". */
    if (self->have_cursor && self->handled > head) {
        queue_reset(self);
        return sub_fail(self, GRIDBUS_EINVAL, NULL,
                        "cursor: at seq %llu, past the %s stream's head %llu (a cursor of "
                        "another daemon? remove it to start over)",
                        (unsigned long long)self->handled, self->stream, (unsigned long long)head);
    }
    if (!self->synced && self->start_at_head) {
        self->synced = true;
        self->handled = head, self->scan = head + 1;
        return 0;
    }
    if ((!self->synced || self->probe) && head > self->want)
        self->want = head;
    self->synced = true, self->probe = false;
    if (self->page_cut && self->want < self->scan)
        self->want = self->scan; /* come back for the rest */
    else if (!self->page_cut)
        take_next(self, next, old_scan);
    return 0;
}

/* ---- the live feed ----------------------------------------------------------------- */

static bool topic_is(const zmq_msg_t *topic, const char *s, bool prefix)
{
    size_t n = strlen(s), len = zmq_msg_size((zmq_msg_t *)topic);
    return (prefix ? len >= n : len == n) && memcmp(zmq_msg_data((zmq_msg_t *)topic), s, n) == 0;
}

/* A sign that records up to seq exist: replay up to there before going on. */
static void expect(gridbus_sub_t *self, uint64_t seq)
{
    if (seq < self->scan)
        return;
    self->stats.gaps++;
    if (seq > self->want)
        self->want = seq;
}

static void on_message(gridbus_sub_t *self, const zmq_msg_t *topic, zmq_msg_t *rec)
{
    const void *data = zmq_msg_data(rec);
    size_t len = zmq_msg_size(rec);
    uint64_t seq;
    if (topic_is(topic, self->hb_topic, false)) {
        self->stats.heartbeats++;
        self->silent_from = mono_ms() + SILENCE_MS;
        if (record_u64(self, data, len, "head", &seq) == 0)
            expect(self, seq);
        return;
    }
    if (!topic_is(topic, self->filter, true) || record_u64(self, data, len, "seq", &seq) < 0)
        return;
    if (seq < self->scan)
        self->stats.duplicates++;
    else if (seq > self->scan || !queue_push(self, seq, data, len, true))
        expect(self, seq);
}

/* Reads one message without waiting: 1 read, 0 none waiting, -1 socket error. Messages that
 * are not [topic][record] are dropped whole. */
static int read_one(gridbus_sub_t *self)
{
    zmq_msg_t topic, rec;
    zmq_msg_init(&topic);
    zmq_msg_init(&rec);
    int rc = 1;
    if (zmq_msg_recv(&topic, self->sock, ZMQ_DONTWAIT) < 0) {
        rc = errno == EAGAIN || errno == EINTR ? 0 : -1;
    } else if (zmq_msg_more(&topic) && zmq_msg_recv(&rec, self->sock, 0) >= 0) {
        bool extra = zmq_msg_more(&rec);
        if (!extra)
            on_message(self, &topic, &rec);
        while (extra && zmq_msg_recv(&rec, self->sock, 0) >= 0)
            extra = zmq_msg_more(&rec);
    }
    zmq_msg_close(&topic);
    zmq_msg_close(&rec);
    if (rc < 0)
        sub_fail(self, GRIDBUS_ETRANSPORT, NULL, "feed: %s", zmq_strerror(errno));
    return rc;
}

enum { FEED_ERROR = -1, FEED_NONE, FEED_READ, FEED_INTERRUPTED };

/* Waits up to wait_ms for the feed, then reads what is there until a gap is seen, nothing
 * is left or DRAIN_MAX. */
static int read_feed(gridbus_sub_t *self, long wait_ms)
{
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    int rc = zmq_poll(&item, 1, wait_ms);
    if (rc < 0 && errno == EINTR)
        return FEED_INTERRUPTED;
    if (rc < 0)
        return sub_fail(self, GRIDBUS_ETRANSPORT, NULL, "feed: %s", zmq_strerror(errno));
    if (rc == 0)
        return FEED_NONE;
    queue_reset(self);
    for (int i = 0; i < DRAIN_MAX && self->want < self->scan; i++)
        if ((rc = read_one(self)) <= 0)
            return rc < 0 ? FEED_ERROR : FEED_READ;
    return FEED_READ;
}

/* ---- next -------------------------------------------------------------------------- */

static bool must_fetch(const gridbus_sub_t *self)
{
    return !self->synced || self->probe || self->want >= self->scan;
}

/* How long to wait for the feed: until the caller's deadline (< 0: none), at most until the
 * feed counts as silent. Sets probe when it already does. */
static long wait_for(gridbus_sub_t *self, int64_t deadline)
{
    int64_t now = mono_ms();
    if (self->silent_from == 0)
        self->silent_from = now + SILENCE_MS;
    if (now >= self->silent_from) {
        self->probe = true;
        self->stats.probes++;
        self->silent_from = now + SILENCE_MS;
    }
    int64_t until = deadline < 0 || deadline > self->silent_from ? self->silent_from : deadline;
    return until > now ? (long)(until - now) : 0;
}

int gridbus_sub_next(gridbus_sub_t *self, int timeout_ms, const void **record, size_t *len)
{
    if (self->broken)
        return -1;
    acknowledge(self);
    int64_t deadline = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
    for (;;) {
        if (!queue_empty(self))
            return hand_out(self, record, len);
        /* Saved before every wait and every replay: a crash re-delivers at most what was
         * handed out since, one page or one burst of the feed. */
        if (save(self, false) < 0)
            return -1;
        if (must_fetch(self)) {
            if (fetch_page(self) < 0)
                return -1;
            continue;
        }
        long wait = wait_for(self, deadline);
        if (self->probe)
            continue;
        int rc = read_feed(self, wait);
        if (rc == FEED_ERROR)
            return -1;
        if (rc == FEED_INTERRUPTED || (rc == FEED_NONE && deadline >= 0 && mono_ms() >= deadline))
            return 0;
    }
}

/* ---- accessors --------------------------------------------------------------------- */

uint64_t gridbus_sub_seq(const gridbus_sub_t *self)
{
    return self->last_seq;
}

uint64_t gridbus_sub_cursor(const gridbus_sub_t *self)
{
    return self->handled;
}

const gridbus_sub_stats_t *gridbus_sub_stats(const gridbus_sub_t *self)
{
    return &self->stats;
}

gridbus_status_t gridbus_sub_status(const gridbus_sub_t *self)
{
    return self->status;
}

const char *gridbus_sub_errcode(const gridbus_sub_t *self)
{
    return self->code;
}

const char *gridbus_sub_error(const gridbus_sub_t *self)
{
    return self->msg;
}
