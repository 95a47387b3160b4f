/*
 * bench_ingest: durable acked ingest, end to end against a real gridbusd.
 *
 * Each measurement starts its own daemon on loopback with a temporary state dir (the test
 * harness), puts a load on its ingest socket (bench_pub.h: N pipelined DEALER
 * publishers sending the realistic mix of the four field kinds), times every ack, stops
 * the daemon and reads from its log how many requests each group commit carried. Flat
 * out with 1, 4 and 16 publishers, then at a fixed offered rate (latency under load).
 * Rounds are interleaved (every case once, then again) so a burst of noise from other
 * work on the machine hits one round of each case rather than every round of one.
 *
 * Routing's cost is measured in the same run, over at least PAIR_ROUNDS_MIN (10) rounds when
 * the whole bench runs (with -o, -r says how many):
 * "flat-out 4 pub, routing off" is the 4-publisher flat-out case against a daemon whose
 * directory is the shipped one with its routes replaced by one that opens no task (the same
 * events are stored, checked and alerted on; no task, index, deadline or feed record is
 * written). The two run back to back in every round, in turn first (odd rounds with tasks
 * first, even rounds without), so a machine getting busier or quieter during a run does
 * not favour one side; bench_report sets each round's pair side by side.
 *
 * "flat-out 4 pub + queries" is the 4-publisher flat-out case with a querier beside the
 * publishers (bench_query.h) asking for grid g1's first QUERY_PAGE open tasks every
 * QUERY_EVERY_MS: the round trip of a query while the indexer is busiest, and what the
 * queries cost the ingest (against "flat-out 4 pub").
 *
 * In the offered-rate run a subscriber on the daemon's task feed (bench_feed.h) also
 * times publish -> task delivered for the events a route turns into a task (about two in
 * three of the mix with the Daidong routes); a daemon without a task feed gets n/a there.
 * Alerts are not timed yet (the bench does not subscribe to the alerts feed).
 *
 * Settings (environment; options win): BENCH_EVENTS (-n, default 200k per flat-out run),
 * BENCH_RATE (default 20000 events/s offered), BENCH_OFFERED_SECONDS (default 5),
 * BENCH_ROUNDS (-r, default 3); -w sets the window of the 1- and 4-publisher runs (16
 * publishers get a quarter of it), -o runs only the case whose key is its text, or else the
 * cases whose key contains it.
 */
#include <getopt.h>

#include "bench.h"
#include "bench_gbd.h"
#include "bench_pub.h"
#include "bench_query.h"

/* The routing pair's ratio is of two noisy figures (rounds differ by ±0.1 on a shared 2-core
 * machine): its median wants more rounds than the others' best (medians of 5-6 rounds of the
 * same code ranged 0.79-0.90, of 10 rounds 0.83 twice), and an even number of them so that
 * each side runs first as often. */
#define PAIR_ROUNDS_MIN 10

/* The querier of "flat-out 4 pub + queries": a supervision screen's page, refreshed often. */
#define QUERY_GRID "g1"
#define QUERY_PAGE 100
#define QUERY_EVERY_MS 50

typedef struct {
    char key[48];
    bool offered;  /* paced, and timing task delivery too */
    bool no_tasks; /* the daemon reads the directory whose one route opens no task */
    bool pair;     /* one of the routing pair: at least PAIR_ROUNDS_MIN rounds */
    bool queries;  /* a querier asks for a grid's open tasks throughout (bench_query.h) */
    uint32_t npub, window;
    double rate;
    uint64_t events;
} ingest_case_t;

typedef struct {
    uint64_t events;
    uint32_t window;
    double rate, offered_seconds;
    int rounds;
    const char *only;
} settings_t;

/* The daemon's CPU during a run: microseconds per event, and how busy its main thread and
 * its other (ZeroMQ I/O) threads were, as a fraction of the run's wall time. */
typedef struct {
    double us_per_event, main_busy, other_busy;
} cpu_use_t;

static cpu_use_t cpu_use(bench_cpu_t a, bench_cpu_t b, const bench_result_t *r)
{
    cpu_use_t u = {0, 0, 0};
    if (r->events && r->seconds > 0) {
        u.us_per_event = (b.all - a.all) * 1e6 / (double)r->events;
        u.main_busy = (b.main - a.main) / r->seconds;
        u.other_busy = (b.all - a.all - (b.main - a.main)) / r->seconds;
    }
    return u;
}

/* Publish -> task delivered, or why it could not be measured. */
static void emit_task_json(const bench_result_t *r)
{
    char na[192];
    bench_json_u64("tasks", r->tasks);
    bench_json_u64("feed_gaps", r->feed_gaps);
    if (r->feed_live && r->tasks) {
        bench_json_num("task_p50_ms", r->task_p50_ms);
        bench_json_num("task_p99_ms", r->task_p99_ms);
        bench_json_num("task_p999_ms", r->task_p999_ms);
        return;
    }
    snprintf(na, sizeof na, "n/a (%s)",
             !r->feed_live ? (r->feed_why[0] ? r->feed_why : "no task feed")
                           : "no event opened a task");
    bench_json_str("task_na", na);
}

static bench_querier_t querier;

static void emit_query_json(void)
{
    bench_json_str("query_grid", QUERY_GRID);
    bench_json_u64("query_page", QUERY_PAGE);
    bench_json_u64("query_every_ms", QUERY_EVERY_MS);
    bench_json_u64("queries", querier.n);
    bench_json_u64("query_tasks", querier.tasks);
    bench_json_num("query_p50_ms", bench_pct_ms(querier.us, querier.n, 0.50));
    bench_json_num("query_p99_ms", bench_pct_ms(querier.us, querier.n, 0.99));
    bench_json_num("query_max_ms", bench_pct_ms(querier.us, querier.n, 1.0));
    bench_json_bool("query_failed", querier.failed);
}

static void emit_json(const ingest_case_t *c, int round, const bench_result_t *r,
                      const bench_gbd_stats_t *st, const cpu_use_t *cpu)
{
    bench_json_begin("ingest", c->key, round, c->offered ? "p99_ms" : "per_s", !c->offered);
    bench_json_str("case", c->offered    ? "offered"
                           : c->no_tasks ? "routing-off"
                           : c->queries  ? "queries"
                                         : "flat-out");
    bench_json_u64("publishers", c->npub);
    bench_json_u64("window", c->window);
    bench_json_num("offered", c->rate);
    bench_json_u64("events", r->events);
    bench_json_u64("acked", r->acked);
    bench_json_u64("nacked", r->nacked);
    bench_json_num("seconds", r->seconds);
    bench_json_num("per_s", r->per_s);
    bench_json_num("p50_ms", r->p50_ms);
    bench_json_num("p99_ms", r->p99_ms);
    bench_json_num("p999_ms", r->p999_ms);
    bench_json_num("max_ms", r->max_ms);
    bench_json_u64("batches", st->batches);
    bench_json_num("batch_avg", bench_batch_avg(st));
    bench_json_num("cpu_us_per_event", cpu->us_per_event);
    bench_json_num("main_thread_busy", cpu->main_busy);
    bench_json_num("other_threads_busy", cpu->other_busy);
    bench_json_num("client_us_per_event", r->events ? r->cpu_seconds * 1e6 / (double)r->events : 0);
    bench_json_bool("failed", r->failed || r->nacked);
    if (r->why[0])
        bench_json_str("why", r->why);
    if (c->offered)
        emit_task_json(r);
    if (c->queries)
        emit_query_json();
    bench_json_end();
}

static void print_row(const ingest_case_t *c, int round, const bench_result_t *r,
                      const bench_gbd_stats_t *st, const cpu_use_t *cpu)
{
    fprintf(stderr,
            "  round %d  %-22s %8" PRIu64 " ev %9.0f acked/s  p50 %6.2f  p99 %6.2f  p99.9 %6.2f "
            "ms  batch %5.1f  %4.1f us/ev main %3.0f%%%s%s\n",
            round, c->key, r->events, r->per_s, r->p50_ms, r->p99_ms, r->p999_ms,
            bench_batch_avg(st), cpu->us_per_event, 100 * cpu->main_busy, r->why[0] ? "  " : "",
            r->why);
    if (c->offered)
        fprintf(stderr,
                "           publish -> task delivered: %" PRIu64 " tasks, p50 %.2f  p99 %.2f  "
                "p99.9 %.2f ms, %" PRIu64 " feed records lost%s%s\n",
                r->tasks, r->task_p50_ms, r->task_p99_ms, r->task_p999_ms, r->feed_gaps,
                r->feed_why[0] ? "; " : "", r->feed_why);
    if (c->queries)
        fprintf(stderr,
                "           %" PRIu64 " queries of %s's first %u open tasks: p50 %.2f  p99 %.2f  "
                "max %.2f ms%s\n",
                querier.n, QUERY_GRID, QUERY_PAGE, bench_pct_ms(querier.us, querier.n, 0.5),
                bench_pct_ms(querier.us, querier.n, 0.99), bench_pct_ms(querier.us, querier.n, 1),
                querier.failed ? " (a query failed)" : "");
}

/* "--set directory=..." of the directory without tasks (empty until written). */
static char no_task_arg[700], no_task_dir[512];

/* Writes $GRIDBUS_CONF/daidong.yaml into a temp dir with its top-level `routes:` block
 * replaced by one route that opens no task. 0, or -1 with the reason on stderr. */
static int write_no_task_directory(void)
{
    const char *conf = getenv("GRIDBUS_CONF") ? getenv("GRIDBUS_CONF") : "conf";
    char in_path[600], out_path[600], line[4096];
    bool skipping = false, replaced = false;
    if (bench_temp_dir(no_task_dir, sizeof no_task_dir, "no-tasks") < 0)
        return -1;
    snprintf(in_path, sizeof in_path, "%s/daidong.yaml", conf);
    snprintf(out_path, sizeof out_path, "%s/daidong.yaml", no_task_dir);
    FILE *in = fopen(in_path, "r"), *out = in ? fopen(out_path, "w") : NULL;
    while (out && fgets(line, sizeof line, in)) {
        bool top_level = line[0] != ' ' && line[0] != '#' && line[0] != '\n';
        if (skipping && !top_level)
            continue;
        skipping = false;
        if (strcmp(line, "routes:\n") == 0) {
            fputs("routes:\n  - name: no-tasks\n    match: {}\n    task: false\n", out);
            skipping = replaced = true;
            continue;
        }
        fputs(line, out);
    }
    int rc = out && fclose(out) == 0 && replaced ? 0 : -1;
    if (in)
        fclose(in);
    if (rc < 0)
        return fprintf(stderr, "bench_ingest: cannot write %s from %s\n", out_path, in_path), -1;
    snprintf(no_task_arg, sizeof no_task_arg, "directory=%s", out_path);
    return 0;
}

/* One measurement on a fresh daemon: 0 when every event was acked and it stopped cleanly. */
static int run_case(const ingest_case_t *c, int round, unsigned tag)
{
    const char *no_tasks[] = {"--set", no_task_arg, NULL};
    if (c->no_tasks && !no_task_arg[0] && write_no_task_directory() < 0)
        return -1;
    gbd_t *d = gbd_start(NULL, c->no_tasks ? no_tasks : NULL);
    if (!d)
        return fprintf(stderr, "bench_ingest: cannot start gridbusd\n"), -1;
    bench_load_t load = {gbd_endpoint(d, "ingest"),
                         c->npub,
                         c->window,
                         c->events,
                         c->rate,
                         tag,
                         c->offered ? gbd_endpoint(d, "tasks") : NULL};
    bench_result_t r;
    bench_gbd_stats_t st;
    bench_cpu_t cpu0 = bench_cpu(gbd_pid(d));
    querier.endpoint = gbd_endpoint(d, "ingest"), querier.grid = QUERY_GRID;
    querier.limit = QUERY_PAGE, querier.every_ns = QUERY_EVERY_MS * UINT64_C(1000000);
    bool asking = c->queries && bench_querier_start(&querier) == 0;
    int rc = bench_publish(&load, &r);
    if (asking)
        bench_querier_stop(&querier);
    rc |= c->queries && (!asking || querier.failed || querier.n == 0);
    cpu_use_t cpu = cpu_use(cpu0, bench_cpu(gbd_pid(d)), &r);
    int status = bench_gbd_stop(&d, &st);
    emit_json(c, round, &r, &st, &cpu);
    print_row(c, round, &r, &st, &cpu);
    if (status != 0)
        fprintf(stderr, "bench_ingest: gridbusd exited with status %d\n", status);
    return rc || status ? -1 : 0;
}

static int make_cases(const settings_t *s, ingest_case_t *cases)
{
    static const uint32_t npubs[] = {1, 4, 16};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        ingest_case_t *c = &cases[n++];
        *c = (ingest_case_t){.npub = npubs[i],
                             .window = npubs[i] == 16 ? s->window / 4 : s->window,
                             .events = s->events};
        c->window = c->window ? c->window : 1;
        snprintf(c->key, sizeof c->key, "flat-out %u pub", npubs[i]);
        if (npubs[i] == 4) { /* its twin without tasks, right after it */
            c->pair = true;
            cases[n] = *c, cases[n].no_tasks = true;
            snprintf(cases[n++].key, sizeof c->key, "flat-out 4 pub, routing off");
            cases[n] = *c, cases[n].pair = false, cases[n].queries = true;
            snprintf(cases[n++].key, sizeof c->key, "flat-out 4 pub + queries");
        }
    }
    ingest_case_t *c = &cases[n++];
    *c = (ingest_case_t){.offered = true,
                         .npub = 4,
                         .window = 64,
                         .rate = s->rate,
                         .events = (uint64_t)(s->rate * s->offered_seconds)};
    snprintf(c->key, sizeof c->key, "offered %.0f/s 4 pub", s->rate);
    return n;
}

static int run_all(const settings_t *s)
{
    ingest_case_t cases[6];
    int n = make_cases(s, cases), rc = 0;
    unsigned tag = 0;
    bool exact = false; /* -o names one case exactly: that one only */
    for (int i = 0; s->only && i < n; i++)
        exact |= strcmp(cases[i].key, s->only) == 0;
    /* the whole bench only: -o picks cases, and -r then says how many rounds they get */
    int rounds = !s->only && s->rounds < PAIR_ROUNDS_MIN ? PAIR_ROUNDS_MIN : s->rounds;
    for (int round = 1; round <= rounds; round++)
        for (int i = 0; i < n; i++) {
            /* the pair's twins are side by side, the one with tasks first: swapped in even
             * rounds */
            const ingest_case_t *c = &cases[i];
            if (round % 2 == 0 && c->pair)
                c = &cases[c->no_tasks ? i - 1 : i + 1];
            if ((round <= s->rounds || c->pair) &&
                (!s->only || (exact ? !strcmp(c->key, s->only) : !!strstr(c->key, s->only))))
                rc |= run_case(c, round, ++tag);
        }
    return rc;
}

static void emit_not_yet(void)
{
    bench_json_na("note", "alert delivery", "publish -> alert delivered",
                  "this bench does not subscribe to the alerts feed yet");
}

static int parse_args(int argc, char **argv, settings_t *s)
{
    int opt;
    while ((opt = getopt(argc, argv, "n:w:r:o:")) != -1) {
        if (opt == 'n')
            s->events = bench_parse_count(optarg);
        else if (opt == 'w')
            s->window = (uint32_t)bench_parse_count(optarg);
        else if (opt == 'r')
            s->rounds = (int)bench_parse_count(optarg);
        else if (opt == 'o')
            s->only = optarg;
        else
            return -1;
    }
    return s->events && s->window && s->rounds > 0 && s->rounds <= BENCH_ROUNDS_MAX ? 0 : -1;
}

int main(int argc, char **argv)
{
    settings_t s = {bench_env_count("BENCH_EVENTS", 200000),
                    256,
                    (double)bench_env_count("BENCH_RATE", 20000),
                    (double)bench_env_count("BENCH_OFFERED_SECONDS", 5),
                    bench_rounds(),
                    NULL};
    if (parse_args(argc, argv, &s) < 0)
        return fprintf(stderr, "usage: bench_ingest [-n EVENTS] [-w WINDOW] [-r ROUNDS] "
                               "[-o KEY-TEXT]\n"),
               2;
    fprintf(stderr, "bench_ingest: durable acked ingest, %d round(s)\n", s.rounds);
    int rc = run_all(&s);
    if (no_task_dir[0])
        bench_rm_tree(no_task_dir);
    if (!s.only)
        emit_not_yet();
    return rc ? 1 : 0;
}
