/*
 * bench_report: turns the JSON lines of one `make bench` run (build/bench.json) into the
 * table people read: for every measurement the best round and the spread over the rounds
 * (the machine is shared and small, so one figure alone says little), and gridbus's
 * end-to-end figure as a fraction of each ceiling measured beside it in the same run.
 *
 * Usage: bench_report BENCH.json  (tests/bench/run calls it last). It measures nothing
 * and starts nothing; a measurement missing from the file is left out of the table.
 */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    json_t *best;  /* the best round's line */
    double lo, hi; /* the metric over the rounds */
    double load_lo, load_hi;
    int rounds, failed; /* lines, and lines with failed:true */
} group_t;

static json_t *lines; /* every line of the file, in order */

static double num(const json_t *o, const char *field)
{
    json_t *v = json_object_get(o, field);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *field)
{
    const char *s = json_string_value(json_object_get(o, field));
    return s ? s : "";
}

static int load(const char *path)
{
    char buf[8192];
    FILE *f = fopen(path, "r");
    if (!f)
        return perror(path), -1;
    lines = json_array();
    while (fgets(buf, sizeof buf, f)) {
        json_t *o = json_loads(buf, 0, NULL);
        if (json_is_object(o))
            json_array_append_new(lines, o);
        else
            json_decref(o);
    }
    fclose(f);
    return 0;
}

static void group_add(group_t *g, json_t *o)
{
    double v = num(o, str(o, "metric")), l = num(o, "load1");
    bool higher = strcmp(str(o, "better"), "higher") == 0;
    if (isnan(v))
        return;
    if (g->rounds == 0 ||
        (higher ? v > num(g->best, str(o, "metric")) : v < num(g->best, str(o, "metric"))))
        g->best = o;
    g->lo = g->rounds ? fmin(g->lo, v) : v, g->hi = g->rounds ? fmax(g->hi, v) : v;
    g->load_lo = g->rounds ? fmin(g->load_lo, l) : l;
    g->load_hi = g->rounds ? fmax(g->load_hi, l) : l;
    g->rounds++;
    g->failed += json_is_true(json_object_get(o, "failed"));
}

/* The rounds of key: false when there are none. */
static bool group(const char *key, group_t *g)
{
    size_t i;
    json_t *o;
    memset(g, 0, sizeof *g);
    json_array_foreach(lines, i, o) if (strcmp(str(o, "key"), key) == 0) group_add(g, o);
    return g->rounds > 0;
}

/* Calls fn once per distinct key of bench whose key starts with prefix, in file order. */
static void each_key(const char *bench, const char *prefix, void (*fn)(const char *key))
{
    size_t i, j;
    json_t *o, *p;
    json_array_foreach(lines, i, o)
    {
        const char *key = str(o, "key");
        bool seen = false;
        if (strcmp(str(o, "bench"), bench) != 0 || strncmp(key, prefix, strlen(prefix)) != 0)
            continue;
        json_array_foreach(lines, j, p) if (j < i && strcmp(str(p, "key"), key) == 0) seen = true;
        if (!seen)
            fn(key);
    }
}

/* 1234567.8 -> "1,234,568". */
static const char *grouped(double v, char *buf, size_t len)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t n = strlen(raw), k = 0;
    for (size_t i = 0; i < n && k + 2 < len; i++) {
        buf[k++] = raw[i];
        if (raw[i] != '-' && (n - i - 1) % 3 == 0 && i + 1 < n)
            buf[k++] = ',';
    }
    buf[k] = 0;
    return buf;
}

static const char *spread(const group_t *g, char *buf, size_t len)
{
    char a[32], b[32];
    if (g->rounds < 2)
        snprintf(buf, len, "(1 round)");
    else
        snprintf(buf, len, "%s..%s", grouped(g->lo, a, sizeof a), grouped(g->hi, b, sizeof b));
    return buf;
}

static const char *failed_note(const group_t *g)
{
    static char buf[48];
    if (!g->failed)
        return "";
    snprintf(buf, sizeof buf, "  FAILED in %d round(s)", g->failed);
    return buf;
}

/* The best flat-out end-to-end figure, and which run it came from. */
static double gridbus_best(char *which, size_t len)
{
    size_t i;
    json_t *o;
    double best = 0;
    json_array_foreach(lines, i, o) if (strcmp(str(o, "bench"), "ingest") == 0 &&
                                        strcmp(str(o, "case"), "flat-out") == 0 &&
                                        num(o, "per_s") > best)
    {
        best = num(o, "per_s");
        snprintf(which, len, "%.0f publishers", num(o, "publishers"));
    }
    return best;
}

static void ingest_row(const char *key)
{
    group_t g;
    char a[32], b[48];
    if (!group(key, &g))
        return;
    printf("  %2.0f x %-4.0f %11s  %-17s %6.2f %6.2f %6.2f %6.1f %6.1f %5.0f%%%s%s\n",
           num(g.best, "publishers"), num(g.best, "window"),
           grouped(num(g.best, "per_s"), a, sizeof a), spread(&g, b, sizeof b),
           num(g.best, "p50_ms"), num(g.best, "p99_ms"), num(g.best, "p999_ms"),
           num(g.best, "batch_avg"), num(g.best, "cpu_us_per_event"),
           100 * num(g.best, "main_thread_busy"), failed_note(&g),
           strcmp(str(g.best, "case"), "routing-off") == 0 ? "  routing off"
           : strcmp(str(g.best, "case"), "queries") == 0   ? "  + queries"
                                                           : "");
}

/* The median of n values (sorted in place). */
static double median(double *v, int n)
{
    for (int k = 1; k < n; k++) /* insertion sort: a handful of rounds */
        for (int m = k; m > 0 && v[m - 1] > v[m]; m--) {
            double t = v[m];
            v[m] = v[m - 1], v[m - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The querier's round trips in the flat-out run beside it: medians over the rounds (the
 * best ingest round is likely the one the queries disturbed least), the worst, and the
 * rounds whose querier failed. */
static void query_row(const char *key)
{
    double p50[64], p99[64], worst = 0, queries = 0;
    int n = 0, failed = 0;
    size_t i;
    json_t *o, *first = NULL;
    json_array_foreach(lines, i, o) if (strcmp(str(o, "key"), key) == 0 && n < 64 &&
                                        !isnan(num(o, "query_p50_ms")))
    {
        first = first ? first : o;
        p50[n] = num(o, "query_p50_ms"), p99[n] = num(o, "query_p99_ms");
        worst = fmax(worst, num(o, "query_max_ms")), queries += num(o, "queries");
        failed += json_is_true(json_object_get(o, "query_failed"));
        n++;
    }
    if (!n)
        return;
    if (*str(first, "query_grid"))
        printf("  4 publishers flat out, a query of %s's first %.0f open tasks every %.0f ms:\n",
               str(first, "query_grid"), num(first, "query_page"), num(first, "query_every_ms"));
    else /* written by an earlier bench_ingest */
        printf("  4 publishers flat out, queries of one grid's open tasks beside them:\n");
    printf("  query round trip p50 / p99 / max    %.2f / %.2f / %.2f ms  (medians over %d "
           "round(s), %.0f queries)%s\n",
           median(p50, n), median(p99, n), worst, n, queries, failed ? "  FAILED in a round" : "");
}

/* Routing's cost (the routing issue's rule: routing and task creation may cost at most a fifth
 * of ingest throughput): each round's 4-publisher flat-out run beside its twin without tasks,
 * which ran right before or after it, and the median of the rounds' ratios. */
static void routing_cost(void)
{
    double ratios[64];
    int n = 0;
    size_t i, j;
    json_t *on, *off;
    json_array_foreach(lines, i, on)
    {
        if (strcmp(str(on, "key"), "flat-out 4 pub") != 0)
            continue;
        json_array_foreach(lines, j,
                           off) if (n < 64 &&
                                    strcmp(str(off, "key"), "flat-out 4 pub, routing off") == 0 &&
                                    num(off, "round") == num(on, "round") && num(off, "per_s") > 0)
        {
            char a[32], b[32];
            ratios[n] = num(on, "per_s") / num(off, "per_s");
            printf("  round %-2.0f %11s %11s   %5.2f   %6.1f %6.1f\n", num(on, "round"),
                   grouped(num(on, "per_s"), a, sizeof a), grouped(num(off, "per_s"), b, sizeof b),
                   ratios[n], num(on, "cpu_us_per_event"), num(off, "cpu_us_per_event"));
            n++;
        }
    }
    if (n == 0)
        printf("  (not measured: run bench_ingest with both 4-publisher flat-out cases)\n");
    else
        printf("  median with/without %.2f over %d round(s); the rule asks for at least 0.80\n",
               median(ratios, n), n);
}

/* Publish -> task delivered in the offered run: the best round's, and the p99 spread. */
static void task_row(const char *key, const json_t *best)
{
    size_t i;
    json_t *o;
    double lo = INFINITY, hi = 0;
    if (*str(best, "task_na")) {
        printf("  publish -> task delivered p99       %s\n", str(best, "task_na"));
        return;
    }
    json_array_foreach(lines, i,
                       o) if (strcmp(str(o, "key"), key) == 0 && !isnan(num(o, "task_p99_ms")))
    {
        lo = fmin(lo, num(o, "task_p99_ms")), hi = fmax(hi, num(o, "task_p99_ms"));
    }
    printf("  publish -> task delivered p50 / p99 / p99.9  %.2f / %.2f / %.2f ms  (p99 over rounds "
           "%.2f..%.2f)\n",
           num(best, "task_p50_ms"), num(best, "task_p99_ms"), num(best, "task_p999_ms"), lo, hi);
    printf("  (%.0f of %.0f events opened a task; %.0f feed records lost)\n", num(best, "tasks"),
           num(best, "events"), num(best, "feed_gaps"));
}

static void offered_row(const char *key)
{
    group_t g;
    char a[32], b[32];
    if (!group(key, &g))
        return;
    printf("  offered %s ev/s, %.0f publishers x %.0f in flight at most; achieved %s ev/s, batch "
           "%.1f\n",
           grouped(num(g.best, "offered"), a, sizeof a), num(g.best, "publishers"),
           num(g.best, "window"), grouped(num(g.best, "per_s"), b, sizeof b),
           num(g.best, "batch_avg"));
    printf("  ack latency p50 / p99 / p99.9       %.2f / %.2f / %.2f ms  (p99 over rounds "
           "%.2f..%.2f)%s\n",
           num(g.best, "p50_ms"), num(g.best, "p99_ms"), num(g.best, "p999_ms"), g.lo, g.hi,
           failed_note(&g));
    task_row(key, g.best);
}

static void na_row(const char *key)
{
    size_t i;
    json_t *o;
    json_array_foreach(lines, i, o) if (strcmp(str(o, "key"), key) == 0)
    {
        printf("  %-40s %s\n", str(o, "label"), str(o, "na"));
        return;
    }
}

static void ceiling_row(const char *key)
{
    group_t g;
    char a[32], b[48], which[48], frac[32];
    double gb = gridbus_best(which, sizeof which);
    if (!group(key, &g))
        return;
    double c = num(g.best, "per_s"), f = c > 0 ? gb / c : 0;
    if (f >= 1)
        snprintf(frac, sizeof frac, "%.1fx", f);
    else
        snprintf(frac, sizeof frac, "%.1f%%", 100 * f);
    printf("  %-60s %10s  %-21s %7s%s\n", str(g.best, "label"), grouped(c, a, sizeof a),
           spread(&g, b, sizeof b), frac, failed_note(&g));
}

static void scale_row(const char *key)
{
    group_t g;
    char a[32], b[48], c[32], d[32];
    if (!group(key, &g))
        return na_row(key);
    const json_t *o = g.best;
    if (strncmp(key, "open tasks", 10) == 0)
        printf("  %-30s %10.2f ms    first page of %.0f (median of 21; worst %.2f ms), %.0f tasks "
               "stored\n  %-30s %10.0f ms    all %.0f open tasks of g1, %.0f pages%s\n",
               key, num(o, "page_p50_ms"), num(o, "page_tasks"), num(o, "page_max_ms"),
               num(o, "stored_tasks"), "  walking every page", num(o, "walk_ms"),
               num(o, "walk_tasks"), num(o, "walk_pages"), failed_note(&g));
    else if (strncmp(key, "fill", 4) == 0)
        printf("  %-30s %10s ev/s  %-21s first tenth %s, last tenth %s ev/s%s\n", key,
               grouped(num(o, "per_s"), a, sizeof a), spread(&g, b, sizeof b),
               grouped(num(o, "first_slice_per_s"), c, sizeof c),
               grouped(num(o, "last_slice_per_s"), d, sizeof d), failed_note(&g));
    else if (strncmp(key, "ingest", 6) == 0)
        printf("  %-30s %10s ev/s  %-21s p50 %.2f, p99 %.2f, p99.9 %.2f ms%s\n", key,
               grouped(num(o, "per_s"), a, sizeof a), spread(&g, b, sizeof b), num(o, "p50_ms"),
               num(o, "p99_ms"), num(o, "p999_ms"), failed_note(&g));
    else if (strncmp(key, "rss", 3) == 0)
        printf("  %-30s %10.1f MiB   VmRSS; anon %.1f MiB, file-backed (LMDB map) %.1f MiB; over "
               "rounds %.1f..%.1f MiB%s\n",
               key, num(o, "vm_rss_kib") / 1024, num(o, "rss_anon_kib") / 1024,
               num(o, "rss_file_kib") / 1024, g.lo / 1024, g.hi / 1024, failed_note(&g));
    else if (strncmp(key, "restart", 7) == 0)
        printf("  %-30s %10.1f ms    stop %.1f + start to READY %.1f ms; over rounds %.1f..%.1f "
               "ms%s\n",
               key, num(o, "total_ms"), num(o, "stop_ms"), num(o, "start_ms"), g.lo, g.hi,
               failed_note(&g));
}

static void header(void)
{
    char day[32];
    time_t t = time(NULL);
    size_t i;
    json_t *o;
    double lo = INFINITY, hi = 0, rounds = 0;
    json_array_foreach(lines, i, o)
    {
        double l = num(o, "load1");
        lo = isnan(l) ? lo : fmin(lo, l), hi = isnan(l) ? hi : fmax(hi, l);
        if (strncmp(str(o, "key"), "flat-out 4 pub", 14) != 0) /* the pair runs 10 at least */
            rounds = fmax(rounds, num(o, "round"));
    }
    strftime(day, sizeof day, "%Y-%m-%d %H:%M", localtime(&t));
    printf("gridbus bench, %s, %ld CPUs, loopback; best of %.0f round(s) (the routing pair: 10 "
           "at least), spread = worst..best round;\n1-minute load average during the run "
           "%.2f..%.2f (other work on the machine "
           "makes figures noisy)\n",
           day, sysconf(_SC_NPROCESSORS_ONLN), rounds, lo == INFINITY ? 0 : lo, hi);
    printf("Every ack means the event, and whatever it caused (a task, an alert), are committed "
           "with fsync.\n");
}

/* The benchmarks' notes: what the daemon does not do yet. */
static void note_row(const char *key)
{
    size_t i;
    json_t *o;
    json_array_foreach(lines, i, o) if (strcmp(str(o, "key"), key) == 0)
    {
        printf("Not measured: %s (%s).\n", str(o, "label"), str(o, "na"));
        return;
    }
}

int main(int argc, char **argv)
{
    char which[48] = "none";
    if (argc != 2)
        return fprintf(stderr, "usage: bench_report BENCH.json\n"), 2;
    if (load(argv[1]) < 0)
        return 1;
    header();
    each_key("note", "", note_row);
    printf("\nDurable acked ingest (mix of the four field kinds, ~250-byte records)\n");
    printf("                              ack latency, ms       avg   daemon   main\n");
    printf(
        "  pub x window acked ev/s  spread               p50    p99  p99.9  batch  us/ev  busy\n");
    each_key("ingest", "flat-out", ingest_row);
    printf("\nRouting cost (4 publishers, flat out; each round with and without tasks, in turn "
           "first)\n");
    printf("           with tasks  no tasks   ratio    us/ev with, without\n");
    routing_cost();
    printf("\nLatency under load\n");
    each_key("ingest", "offered", offered_row);
    each_key("ingest", "flat-out 4 pub + queries", query_row);

    printf("\nCeilings, measured beside it in the same run %27s  %-21s %7s\n", "ev/s", "spread",
           "gridbus");
    each_key("ceiling", "", ceiling_row);
    double gb = gridbus_best(which, sizeof which);
    printf("  (gridbus = its best flat-out figure, %s = %.0f ev/s, as a fraction of each)\n", which,
           gb);
    printf("\nScale\n");
    each_key("scale", "", scale_row);
    json_decref(lines);
    return 0;
}
