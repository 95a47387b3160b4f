/*
 * bench_scale: gridbusd with many events stored: does ingest slow down as the log and the
 * id index grow, how much memory the daemon holds, and how long a restart takes.
 *
 * Each round starts a fresh daemon (test harness, temporary state dir) and fills it with
 * BENCH_SCALE events (default 1M; BENCH_SCALE=10M for the long run) from 4 pipelined
 * publishers, in ten slices so the first and last slice rates show any slow-down. Then:
 * the daemon's VmRSS (with its anonymous and file-backed parts: LMDB's map pages count as
 * file), a timed ingest run on top of the stored events, a restart (SIGTERM, then start
 * until READY=1, both timed), a ping to check the events are all there, and VmRSS again.
 *
 * Before the restart, a query for one grid's open tasks: the first page (500 tasks, the
 * protocol's largest) asked QUERY_REPEAT times (median and worst), then every page of that
 * grid's open tasks walked with the paging cursor. About two events in three open a task
 * with the Daidong routes, so 1M events stored is about 0.67M tasks (the table says how
 * many). A daemon without tasks or queries gets n/a there.
 */
#include "bench.h"
#include "bench_gbd.h"
#include "bench_pub.h"
#include "bench_query.h"

#define SLICES 10
#define QUERY_GRID "g1"
#define QUERY_PAGE 500 /* the protocol's largest page */
#define QUERY_REPEAT 21
#define QUERY_WALK_MAX_NS (60 * UINT64_C(1000000000))

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    uint64_t scale, events;
    int rounds;
    char label[24]; /* "1M" */
} settings_t;

/* 1000000 -> "1M", 250000 -> "250k". */
static void count_label(uint64_t n, char *buf, size_t len)
{
    if (n % 1000000 == 0)
        snprintf(buf, len, "%" PRIu64 "M", n / 1000000);
    else if (n % 1000 == 0)
        snprintf(buf, len, "%" PRIu64 "k", n / 1000);
    else
        snprintf(buf, len, "%" PRIu64, n);
}

static void emit_fill(const settings_t *s, int round, double secs, const double *slice_rate)
{
    char key[48];
    snprintf(key, sizeof key, "fill %s", s->label);
    bench_json_begin("scale", key, round, "per_s", true);
    bench_json_u64("stored", s->scale);
    bench_json_num("seconds", secs);
    bench_json_num("per_s", secs > 0 ? (double)s->scale / secs : 0);
    bench_json_num("first_slice_per_s", slice_rate[0]);
    bench_json_num("last_slice_per_s", slice_rate[SLICES - 1]);
    bench_json_end();
    fprintf(stderr, "  round %d  %-26s %10.0f ev/s (first tenth %.0f, last tenth %.0f)\n", round,
            key, secs > 0 ? (double)s->scale / secs : 0, slice_rate[0], slice_rate[SLICES - 1]);
}

/* Stores s->scale events in SLICES runs; 0 when all were acked. */
static int fill(gbd_t *d, const settings_t *s, int round)
{
    double secs = 0, slice_rate[SLICES] = {0};
    for (int i = 0; i < SLICES; i++) {
        uint64_t n = s->scale / SLICES + (i == SLICES - 1 ? s->scale % SLICES : 0);
        bench_load_t load = {gbd_endpoint(d, "ingest"), 4, 256, n, 0, (unsigned)i + 1};
        bench_result_t r;
        if (bench_publish(&load, &r) < 0)
            return fprintf(stderr, "bench_scale: fill failed: %s\n", r.why), -1;
        secs += r.seconds, slice_rate[i] = r.per_s;
    }
    emit_fill(s, round, secs, slice_rate);
    return 0;
}

static void emit_rss(const settings_t *s, const char *when, uint64_t stored, int round,
                     bench_rss_t m)
{
    char key[48];
    snprintf(key, sizeof key, "rss %s %s", when, s->label);
    bench_json_begin("scale", key, round, "vm_rss_kib", false);
    bench_json_u64("stored", stored);
    bench_json_u64("vm_rss_kib", m.vm_rss);
    bench_json_u64("rss_anon_kib", m.anon);
    bench_json_u64("rss_file_kib", m.file);
    bench_json_end();
    fprintf(stderr, "  round %d  %-26s VmRSS %.1f MiB (anon %.1f, file %.1f)\n", round, key,
            (double)m.vm_rss / 1024, (double)m.anon / 1024, (double)m.file / 1024);
}

/* A timed run with everything stored, latencies included. */
static int ingest_at_scale(gbd_t *d, const settings_t *s, int round)
{
    char key[48];
    bench_load_t load = {gbd_endpoint(d, "ingest"), 4, 256, s->events, 0, 100};
    bench_result_t r;
    int rc = bench_publish(&load, &r);
    snprintf(key, sizeof key, "ingest at %s stored", s->label);
    bench_json_begin("scale", key, round, "per_s", true);
    bench_json_u64("publishers", 4);
    bench_json_u64("events", r.events);
    bench_json_num("per_s", r.per_s);
    bench_json_num("p50_ms", r.p50_ms);
    bench_json_num("p99_ms", r.p99_ms);
    bench_json_num("p999_ms", r.p999_ms);
    bench_json_bool("failed", rc != 0);
    bench_json_end();
    fprintf(stderr, "  round %d  %-26s %10.0f ev/s  p50 %.2f  p99 %.2f  p99.9 %.2f ms\n", round,
            key, r.per_s, r.p50_ms, r.p99_ms, r.p999_ms);
    return rc;
}

/* The events and tasks (task feed) heads of the daemon's pong; 0 when absent. */
static void client_heads(bench_client_t *c, uint64_t *events, uint64_t *tasks)
{
    wire_reply_t rep;
    msgpack_packer pk;
    *events = *tasks = 0;
    msgpack_sbuffer_clear(&c->req);
    msgpack_packer_init(&pk, &c->req, msgpack_sbuffer_write);
    wire_pack_ping(&pk, 1);
    if (bench_client_call(c, &rep) == 0 && rep.op == WIRE_REPLY_PONG) {
        wire_get_u64(rep.heads, "events", events);
        wire_get_u64(rep.heads, "tasks", tasks);
    }
}

/* The events head the daemon reports in its pong, or 0. */
static uint64_t events_head(const char *endpoint)
{
    bench_client_t c;
    uint64_t events = 0, tasks;
    if (bench_client_open(&c, endpoint) == 0)
        client_heads(&c, &events, &tasks);
    bench_client_close(&c);
    return events;
}

typedef struct {
    uint64_t stored_tasks, walk_tasks, walk_pages;
    uint32_t page_tasks;
    double page_p50_ms, page_max_ms, walk_ms;
} query_result_t;

/* The first page QUERY_REPEAT times, then every page of the grid's open tasks. */
static int time_queries(bench_client_t *c, query_result_t *q)
{
    double ms[QUERY_REPEAT];
    uint64_t next = 0, t0;
    uint32_t n = 0;
    for (int i = 0; i < QUERY_REPEAT; i++)
        if ((ms[i] = bench_query_page(c, QUERY_GRID, QUERY_PAGE, 0, &q->page_tasks, &next)) < 0)
            return -1;
    qsort(ms, QUERY_REPEAT, sizeof ms[0], cmp_double);
    q->page_p50_ms = ms[QUERY_REPEAT / 2], q->page_max_ms = ms[QUERY_REPEAT - 1];
    t0 = bench_now_ns(), next = 0;
    do {
        if (bench_query_page(c, QUERY_GRID, QUERY_PAGE, next, &n, &next) < 0)
            return -1;
        q->walk_tasks += n, q->walk_pages++;
    } while (next && bench_now_ns() - t0 < QUERY_WALK_MAX_NS);
    q->walk_ms = (double)(bench_now_ns() - t0) / 1e6;
    return 0;
}

static void emit_query(const settings_t *s, int round, const query_result_t *q)
{
    char key[48];
    snprintf(key, sizeof key, "open tasks query %s", s->label);
    bench_json_begin("scale", key, round, "page_p50_ms", false);
    bench_json_u64("stored_tasks", q->stored_tasks);
    bench_json_u64("page_tasks", q->page_tasks);
    bench_json_num("page_p50_ms", q->page_p50_ms);
    bench_json_num("page_max_ms", q->page_max_ms);
    bench_json_u64("walk_tasks", q->walk_tasks);
    bench_json_u64("walk_pages", q->walk_pages);
    bench_json_num("walk_ms", q->walk_ms);
    bench_json_end();
    fprintf(stderr,
            "  round %d  %-26s %" PRIu64 " tasks stored; first page of %u: p50 %.2f ms, max %.2f "
            "ms; all %" PRIu64 " open on %s in %" PRIu64 " pages: %.0f ms\n",
            round, key, q->stored_tasks, q->page_tasks, q->page_p50_ms, q->page_max_ms,
            q->walk_tasks, QUERY_GRID, q->walk_pages, q->walk_ms);
}

/* Times a query for one grid's open tasks; n/a from a daemon that keeps no tasks. */
static void open_tasks_query(gbd_t *d, const settings_t *s, int round)
{
    bench_client_t c;
    query_result_t q = {0};
    uint64_t events;
    int rc = bench_client_open(&c, gbd_endpoint(d, "ingest"));
    if (rc == 0)
        client_heads(&c, &events, &q.stored_tasks);
    if (rc == 0 && q.stored_tasks && time_queries(&c, &q) == 0)
        emit_query(s, round, &q);
    else
        bench_json_na("scale", "open tasks query", "one grid's open tasks",
                      "n/a (this daemon keeps no tasks or answers no task query)");
    bench_client_close(&c);
}

/* SIGTERM, then start until READY=1, both timed; checks every event is still there. */
static int restart(gbd_t *d, const settings_t *s, int round)
{
    char key[48];
    uint64_t t0 = bench_now_ns();
    int status = gbd_signal(d, SIGTERM);
    uint64_t t1 = bench_now_ns();
    int rc = gbd_restart(d);
    uint64_t t2 = bench_now_ns(), want = s->scale + s->events;
    uint64_t head = rc == 0 ? events_head(gbd_endpoint(d, "ingest")) : 0;
    double stop_ms = (double)(t1 - t0) / 1e6, start_ms = (double)(t2 - t1) / 1e6;
    snprintf(key, sizeof key, "restart %s", s->label);
    bench_json_begin("scale", key, round, "total_ms", false);
    bench_json_u64("stored", head);
    bench_json_num("stop_ms", stop_ms);
    bench_json_num("start_ms", start_ms);
    bench_json_num("total_ms", stop_ms + start_ms);
    bench_json_bool("failed", status != 0 || rc != 0 || head != want);
    bench_json_end();
    fprintf(stderr,
            "  round %d  %-26s stop %.1f ms, start to READY %.1f ms, %" PRIu64
            " events after it (want %" PRIu64 ")\n",
            round, key, stop_ms, start_ms, head, want);
    return status != 0 || rc != 0 || head != want ? -1 : 0;
}

static int run_round(const settings_t *s, int round)
{
    bench_gbd_stats_t st;
    gbd_t *d = gbd_start(NULL, NULL);
    if (!d)
        return fprintf(stderr, "bench_scale: cannot start gridbusd\n"), -1;
    int rc = fill(d, s, round);
    if (rc == 0) {
        emit_rss(s, "after fill", s->scale, round, bench_rss(gbd_pid(d)));
        rc = ingest_at_scale(d, s, round);
        open_tasks_query(d, s, round);
    }
    if (rc == 0 && (rc = restart(d, s, round)) == 0)
        emit_rss(s, "after restart", s->scale + s->events, round, bench_rss(gbd_pid(d)));
    if (gbd_pid(d))
        rc |= bench_gbd_stop(&d, &st);
    else
        gbd_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    settings_t s = {bench_env_count("BENCH_SCALE", 1000000),
                    bench_env_count("BENCH_EVENTS", 200000), bench_rounds(), ""};
    if (argc > 1 && !(s.scale = bench_parse_count(argv[1])))
        return fprintf(stderr, "usage: bench_scale [EVENTS-STORED, e.g. 1M or 10M]\n"), 2;
    count_label(s.scale, s.label, sizeof s.label);
    fprintf(stderr, "bench_scale: %s events stored, %d round(s)\n", s.label, s.rounds);
    int rc = 0;
    for (int round = 1; round <= s.rounds; round++)
        rc |= run_round(&s, round);
    return rc ? 1 : 0;
}
