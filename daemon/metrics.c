/*
 * metrics: the Prometheus exposition of gridbusd's counters, histograms and gauges (see
 * metrics.h for where each comes from and why feed peers are counted as connections).
 *
 * Every family is written with its HELP and TYPE lines before its samples, counters end
 * in _total, histograms carry cumulative _bucket{le} lines ending in +Inf with _sum and
 * _count, and label values are escaped; tests/e2e/test_http.c holds the output to a strict
 * parser of the text format.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "log.h"
#include "schema.h"
#include "wire.h"
#include "zwatch.h"

#define FEEDS_MAX 4
#define FD_MAX (1u << 20) /* a monitor event naming a larger fd is ignored */
#define HTTP_STATUS_MAX 600
#define LABELS_MAX 256

/* Upper bounds of the histogram buckets (the last slot of each is +Inf). */
#define BATCH_BOUNDS (STATS_BATCH_BUCKETS - 1) /* 1, 2, 4, ... 4096 requests */
static const uint64_t commit_bounds_ns[] = {500000,    1000000,   2500000,   5000000,
                                            10000000,  25000000,  50000000,  100000000,
                                            250000000, 500000000, 1000000000};
_Static_assert(sizeof commit_bounds_ns / sizeof commit_bounds_ns[0] == STATS_COMMIT_BUCKETS - 1,
               "one commit bound per bucket but +Inf");
_Static_assert(BATCH_BOUNDS == 13, "batch buckets are the powers of two up to 4096");

/* The connections of one feed's PUB socket, from its monitor's events. */
typedef struct {
    char name[16];
    void *pub;  /* the feed's socket (not ours) */
    void *pair; /* our end of its monitor */
    zwatch_t *watch;
    uint8_t *open; /* open[fd]: a connection accepted since the watch began, not yet gone */
    size_t nopen;
    uint64_t peers;
} feed_watch_t;

struct metrics {
    struct event_base *base;
    void *zctx;
    metrics_opts_t o;
    feed_watch_t feeds[FEEDS_MAX];
    size_t nfeeds;
    uint64_t http[HTTP_STATUS_MAX]; /* responses by status code */
};

/* ---- observations (the ingest path) ---------------------------------------------- */

uint64_t metrics_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void metrics_observe_batch(stats_t *s, uint32_t requests)
{
    size_t i = 0;
    while (i < BATCH_BOUNDS && requests > (UINT32_C(1) << i))
        i++;
    s->batch_size[i]++;
}

void metrics_observe_commit(stats_t *s, uint64_t ns)
{
    size_t i = 0;
    while (i < STATS_COMMIT_BUCKETS - 1 && ns > commit_bounds_ns[i])
        i++;
    s->commit_ns[i]++;
    s->commit_ns_sum += ns;
}

/* ---- feed peers ------------------------------------------------------------------ */

static void peer_event(feed_watch_t *f, uint16_t event, uint32_t fd)
{
    if (fd >= FD_MAX)
        return;
    if (event == ZMQ_EVENT_ACCEPTED) {
        if (fd >= f->nopen) {
            size_t n = (size_t)fd * 2 + 16;
            uint8_t *grown = realloc(f->open, n);
            if (!grown)
                return;
            memset(grown + f->nopen, 0, n - f->nopen);
            f->open = grown, f->nopen = n;
        }
        f->peers += !f->open[fd];
        f->open[fd] = 1;
    } else if (event == ZMQ_EVENT_DISCONNECTED && fd < f->nopen && f->open[fd]) {
        f->open[fd] = 0;
        f->peers--;
    }
}

/* Skips the rest of a multipart message. */
static void drop_rest(void *sock, bool more)
{
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, ZMQ_DONTWAIT) < 0)
            more = false;
        else
            more = zmq_msg_more(&part);
        zmq_msg_close(&part);
    }
}

/* Reads every queued monitor event: [u16 event, u32 value][address] (ZMQ's version 1). */
static void on_monitor(void *sock, void *arg)
{
    feed_watch_t *f = arg;
    for (;;) {
        zmq_msg_t head;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return;
        }
        if (zmq_msg_size(&head) == 6) {
            uint16_t event;
            uint32_t value;
            memcpy(&event, zmq_msg_data(&head), 2);
            memcpy(&value, (char *)zmq_msg_data(&head) + 2, 4);
            peer_event(f, event, value);
        }
        bool more = zmq_msg_more(&head);
        zmq_msg_close(&head);
        drop_rest(sock, more);
    }
}

int metrics_watch_feed(metrics_t *self, void *pub, const char *name)
{
    char addr[128];
    int zero = 0;
    if (self->nfeeds == FEEDS_MAX)
        return -1;
    feed_watch_t *f = &self->feeds[self->nfeeds];
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(addr, sizeof addr, "inproc://gridbusd-metrics-%s-%p", name, (void *)f);
    if (zmq_socket_monitor(pub, addr, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) < 0)
        return -1;
    f->pub = pub;
    self->nfeeds++; /* from here metrics_destroy stops the monitor */
    f->pair = zmq_socket(self->zctx, ZMQ_PAIR);
    /* No receive limit: the monitor must never block ZeroMQ's I/O thread on a full pipe,
     * and the loop drains it. */
    if (!f->pair || zmq_setsockopt(f->pair, ZMQ_LINGER, &zero, sizeof zero) < 0 ||
        zmq_setsockopt(f->pair, ZMQ_RCVHWM, &zero, sizeof zero) < 0 ||
        zmq_connect(f->pair, addr) < 0)
        return -1;
    f->watch = zwatch_new(self->base, f->pair, on_monitor, f);
    return f->watch ? 0 : -1;
}

/* ---- life cycle ------------------------------------------------------------------ */

metrics_t *metrics_new(struct event_base *base, void *zctx, const metrics_opts_t *opts)
{
    metrics_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->base = base, self->zctx = zctx, self->o = *opts;
    return self;
}

void metrics_destroy(metrics_t **self_p)
{
    metrics_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->nfeeds; i++) {
        feed_watch_t *f = &self->feeds[i];
        zwatch_destroy(&f->watch);
        zmq_socket_monitor(f->pub, NULL, 0);
        if (f->pair)
            zmq_close(f->pair);
        free(f->open);
    }
    free(self);
    *self_p = NULL;
}

void metrics_set_community(metrics_t *self, const community_t *community)
{
    self->o.community = community;
}

void metrics_count_http(metrics_t *self, int status)
{
    if (status >= 100 && status < HTTP_STATUS_MAX)
        self->http[status]++;
}

/* ---- the text format ------------------------------------------------------------- */

/* A label value with \, " and newline escaped, as the format requires. */
static const char *escape(const char *in, char *out, size_t len)
{
    size_t o = 0;
    for (; *in && o + 3 < len; in++) {
        if (*in == '\\' || *in == '"' || *in == '\n') {
            out[o++] = '\\';
            out[o++] = *in == '\n' ? 'n' : *in;
        } else {
            out[o++] = *in;
        }
    }
    out[o] = '\0';
    return out;
}

static void family(struct evbuffer *out, const char *name, const char *type, const char *help)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* labels: the text between the braces, or NULL for none. */
static void sample(struct evbuffer *out, const char *name, const char *labels, uint64_t v)
{
    if (labels)
        evbuffer_add_printf(out, "%s{%s} %" PRIu64 "\n", name, labels, v);
    else
        evbuffer_add_printf(out, "%s %" PRIu64 "\n", name, v);
}

static void single(struct evbuffer *out, const char *name, const char *type, const char *help,
                   uint64_t v)
{
    family(out, name, type, help);
    sample(out, name, NULL, v);
}

/* One histogram: counts[n] per bucket (the last +Inf), le[i] the bound of bucket i. */
typedef struct {
    const char *name, *help;
    const uint64_t *counts;
    size_t n;
    const char *const *le;
    const char *sum; /* already formatted */
} histogram_t;

static void histogram(struct evbuffer *out, const histogram_t *h)
{
    uint64_t cumulative = 0;
    family(out, h->name, "histogram", h->help);
    for (size_t i = 0; i < h->n; i++) {
        cumulative += h->counts[i];
        evbuffer_add_printf(out, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", h->name,
                            i + 1 < h->n ? h->le[i] : "+Inf", cumulative);
    }
    evbuffer_add_printf(out, "%s_sum %s\n%s_count %" PRIu64 "\n", h->name, h->sum, h->name,
                        cumulative);
}

/* ---- the families ---------------------------------------------------------------- */

static void render_events(struct evbuffer *out, const stats_t *s)
{
    char labels[LABELS_MAX], esc[128];
    family(out, "gridbus_events_total", "counter",
           "Events acknowledged, by type and result: stored (written by this request) or "
           "duplicate (a resend of a stored event). Refusals are in gridbus_nacks_total.");
    for (int i = 0; i < schema_type_count() && i < STATS_TYPES_MAX; i++) {
        escape(schema_types[i].name, esc, sizeof esc);
        snprintf(labels, sizeof labels, "type=\"%s\",result=\"stored\"", esc);
        sample(out, "gridbus_events_total", labels, s->by_type[i]);
        snprintf(labels, sizeof labels, "type=\"%s\",result=\"duplicate\"", esc);
        sample(out, "gridbus_events_total", labels, s->dup_by_type[i]);
    }
    family(out, "gridbus_nacks_total", "counter",
           "Requests and fire-and-forget events refused, by error code.");
    for (int c = GB_E_DECODE; c < GB_E_COUNT_; c++) {
        snprintf(labels, sizeof labels, "code=\"%s\"", gb_code_name((gb_code_t)c));
        sample(out, "gridbus_nacks_total", labels, s->nacks[c]);
    }
}

static void render_ingest(struct evbuffer *out, const stats_t *s)
{
    single(out, "gridbus_requests_total", "counter",
           "Messages read from the ingest and publish sockets.", s->requests);
    single(out, "gridbus_fire_and_forget_total", "counter",
           "Messages read from the publish (fire-and-forget) socket.", s->fire_and_forget);
    single(out, "gridbus_reply_drops_total", "counter",
           "Replies ZeroMQ would not take (the peer was gone).", s->reply_drops);
    single(out, "gridbus_store_map_grows_total", "counter",
           "Times the LMDB map was grown because it was full.", s->map_grows);
    render_events(out, s);
}

static void render_histograms(struct evbuffer *out, const stats_t *s)
{
    char le_batch[BATCH_BOUNDS][8], le_commit[STATS_COMMIT_BUCKETS - 1][16], sum[32];
    const char *batch[BATCH_BOUNDS], *commit[STATS_COMMIT_BUCKETS - 1];
    for (size_t i = 0; i < BATCH_BOUNDS; i++)
        snprintf(le_batch[i], sizeof le_batch[i], "%u", 1u << i), batch[i] = le_batch[i];
    for (size_t i = 0; i < STATS_COMMIT_BUCKETS - 1; i++)
        snprintf(le_commit[i], sizeof le_commit[i], "%g", (double)commit_bounds_ns[i] / 1e9),
            commit[i] = le_commit[i];
    snprintf(sum, sizeof sum, "%" PRIu64, s->batch_items);
    histogram(out, &(histogram_t){"gridbus_batch_size",
                                  "Requests per committed write transaction (group commit).",
                                  s->batch_size, STATS_BATCH_BUCKETS, batch, sum});
    snprintf(sum, sizeof sum, "%.9f", (double)s->commit_ns_sum / 1e9);
    histogram(out, &(histogram_t){"gridbus_commit_duration_seconds",
                                  "Time of each batch's LMDB commit, fsync included.", s->commit_ns,
                                  STATS_COMMIT_BUCKETS, commit, sum});
}

static void render_cases(struct evbuffer *out, const cases_stats_t *c)
{
    single(out, "gridbus_tasks_opened_total", "counter", "Tasks opened by field events.",
           c->opened);
    single(out, "gridbus_tasks_parked_total", "counter",
           "Tasks opened or re-routed with nobody to take them.", c->parked);
    single(out, "gridbus_task_steps_total", "counter", "Task follow-ups applied.", c->steps);
    single(out, "gridbus_task_deadlines_missed_total", "counter",
           "Task deadlines missed (accept or complete).", c->overdue);
}

/* Open and overdue tasks of one grid ("" for grid-less tasks, labelled "-"): counted by the
 * task indexes, so a scrape reads no task however many are open. */
static int render_grid(metrics_t *self, struct evbuffer *open, struct evbuffer *overdue,
                       const char *grid)
{
    char labels[LABELS_MAX], esc[128];
    long n_open = taskdb_count(self->o.taskdb, 'g', grid);
    long n_overdue = taskdb_count(self->o.taskdb, 'o', grid);
    if (n_open < 0 || n_overdue < 0)
        return -1;
    snprintf(labels, sizeof labels, "grid=\"%s\"", escape(grid[0] ? grid : "-", esc, sizeof esc));
    sample(open, "gridbus_tasks_open", labels, (uint64_t)n_open);
    sample(overdue, "gridbus_tasks_overdue", labels, (uint64_t)n_overdue);
    return 0;
}

static int render_tasks(metrics_t *self, struct evbuffer *out)
{
    const directory_t *dir = community_directory(self->o.community);
    struct evbuffer *overdue = evbuffer_new();
    if (!overdue)
        return -1;
    family(out, "gridbus_tasks_open", "gauge",
           "Open tasks (every status but closed), by grid of the directory (- for grid-less).");
    family(overdue, "gridbus_tasks_overdue", "gauge",
           "Open tasks past a deadline, by grid of the directory (- for grid-less).");
    int rc = render_grid(self, out, overdue, "");
    for (size_t i = 0; rc == 0 && i < directory_grid_count(dir); i++)
        rc = render_grid(self, out, overdue, directory_grid_at(dir, i)->id);
    if (rc == 0)
        evbuffer_add_buffer(out, overdue);
    evbuffer_free(overdue);
    return rc;
}

typedef struct {
    const alertcfg_t *cfg;
    uint64_t *open; /* by rule index */
    uint64_t other; /* of a rule no longer configured */
} alert_count_t;

static int count_alert(void *arg, const alert_t *a)
{
    alert_count_t *c = arg;
    size_t n = alertcfg_nrules(c->cfg), i = 0;
    while (i < n && strcmp(alertcfg_rule(c->cfg, i)->name, a->rule) != 0)
        i++;
    *(i < n ? &c->open[i] : &c->other) += 1;
    return 0;
}

/* Unresolved alerts by rule, every configured rule listed (0 when none): the supervision
 * office's dashboard reads what is still waiting on a lead. Unresolved alerts are few (a
 * day's, and those escalated or acknowledged but not closed), and their index holds only
 * them. */
static int render_alerts(metrics_t *self, struct evbuffer *out)
{
    char labels[LABELS_MAX], esc[128];
    const alertcfg_t *cfg = community_alerts(self->o.community);
    size_t n = alertcfg_nrules(cfg);
    alert_count_t c = {cfg, calloc(n ? n : 1, sizeof *c.open), 0};
    if (!c.open || alertdb_scan(self->o.alertdb, NULL, count_alert, &c) < 0) {
        free(c.open);
        return -1;
    }
    family(out, "gridbus_alerts_open", "gauge",
           "Alerts not yet resolved (open or acknowledged), by rule (- for a rule no longer "
           "configured).");
    for (size_t i = 0; i < n; i++) {
        snprintf(labels, sizeof labels, "rule=\"%s\"",
                 escape(alertcfg_rule(cfg, i)->name, esc, sizeof esc));
        sample(out, "gridbus_alerts_open", labels, c.open[i]);
    }
    sample(out, "gridbus_alerts_open", "rule=\"-\"", c.other);
    free(c.open);
    return 0;
}

static void render_store(metrics_t *self, struct evbuffer *out)
{
    MDB_envinfo info;
    MDB_stat st;
    MDB_env *env = store_env(self->o.store);
    uint64_t used = 0;
    if (mdb_env_info(env, &info) == 0 && mdb_env_stat(env, &st) == 0)
        used = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
    single(out, "gridbus_store_map_size_bytes", "gauge", "Current size of the LMDB map.",
           store_map_size(self->o.store));
    single(out, "gridbus_store_map_used_bytes", "gauge",
           "Bytes of the LMDB map in use (pages up to the last one written).", used);
    single(out, "gridbus_store_map_size_max_bytes", "gauge",
           "The map grows up to this (store.map_size_max).", self->o.map_size_max);
    single(out, "gridbus_events_head", "gauge", "Highest committed event seq.",
           store_head(self->o.store));
    single(out, "gridbus_task_feed_head", "gauge", "Highest committed task feed seq.",
           taskdb_feed_head(self->o.taskdb));
    single(out, "gridbus_dead_letters", "gauge", "Refused inputs kept as dead letters.",
           store_dead_count(self->o.store));
}

static void render_feeds(metrics_t *self, struct evbuffer *out)
{
    char labels[LABELS_MAX];
    family(out, "gridbus_feed_connections", "gauge",
           "Connections to the feed's PUB socket (zmq_socket_monitor: accepted minus "
           "disconnected). ZeroMQ does not expose subscriptions: a connection may subscribe "
           "to nothing.");
    for (size_t i = 0; i < self->nfeeds; i++) {
        on_monitor(self->feeds[i].pair, &self->feeds[i]); /* what is queued counts now */
        snprintf(labels, sizeof labels, "feed=\"%s\"", self->feeds[i].name);
        sample(out, "gridbus_feed_connections", labels, self->feeds[i].peers);
    }
}

static void render_http(metrics_t *self, struct evbuffer *out)
{
    char labels[LABELS_MAX];
    family(out, "gridbus_http_responses_total", "counter",
           "HTTP responses sent, by status code (this scrape's own is not yet counted).");
    for (int code = 100; code < HTTP_STATUS_MAX; code++)
        if (self->http[code]) {
            snprintf(labels, sizeof labels, "code=\"%d\"", code);
            sample(out, "gridbus_http_responses_total", labels, self->http[code]);
        }
}

int metrics_render(metrics_t *self, struct evbuffer *out)
{
    char labels[LABELS_MAX];
    family(out, "gridbus_build_info", "gauge", "Always 1: the daemon's version and protocol.");
    snprintf(labels, sizeof labels, "version=\"%s\",protocol=\"%d\"", GB_VERSION,
             WIRE_PROTOCOL_VERSION);
    sample(out, "gridbus_build_info", labels, 1);
    render_ingest(out, self->o.stats);
    render_histograms(out, self->o.stats);
    render_cases(out, cases_stats(self->o.cases));
    if (render_tasks(self, out) < 0 || (self->o.alertdb && render_alerts(self, out) < 0)) {
        log_error("msg=\"metrics: cannot read tasks or alerts\" error=\"%s\"",
                  store_error(self->o.store));
        return -1;
    }
    render_store(self, out);
    render_feeds(self, out);
    render_http(self, out);
    return 0;
}
