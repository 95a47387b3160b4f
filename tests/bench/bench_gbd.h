/*
 * bench_gbd.h: a gridbusd for a benchmark, through the test harness (tests/lib/harness.h),
 * and what its log says about the run.
 *
 * The daemon logs `msg="stopped" events=E requests=R batches=B` when it exits cleanly, so
 * stopping it after a run gives the average group-commit batch (R/B) the run produced
 * without instrumenting the daemon. One daemon per measurement keeps runs from inheriting
 * each other's store.
 */
#ifndef GB_BENCH_GBD_H
#define GB_BENCH_GBD_H

#include <signal.h>

#include "bench.h"
#include "harness.h"

typedef struct {
    uint64_t events, requests, batches;
    bool found; /* the stop line was in the log */
} bench_gbd_stats_t;

/* The value after "name=" in line, or 0. */
static inline uint64_t bench_log_field(const char *line, const char *name)
{
    char pat[32];
    snprintf(pat, sizeof pat, " %s=", name);
    const char *p = strstr(line, pat);
    return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

/* Reads the last stop line of the daemon's log. */
static inline bench_gbd_stats_t bench_gbd_log_stats(const char *path)
{
    bench_gbd_stats_t st = {0, 0, 0, false};
    char line[1024];
    FILE *f = path ? fopen(path, "r") : NULL;
    while (f && fgets(line, sizeof line, f)) {
        if (!strstr(line, "msg=\"stopped\""))
            continue;
        st.events = bench_log_field(line, "events");
        st.requests = bench_log_field(line, "requests");
        st.batches = bench_log_field(line, "batches");
        st.found = true;
    }
    if (f)
        fclose(f);
    return st;
}

/* SIGTERM, waits for the exit, reads the stop line, frees *d (and its temp dir). Returns
 * the exit status (0 expected; the harness prints the log otherwise). */
static inline int bench_gbd_stop(gbd_t **d, bench_gbd_stats_t *st)
{
    int status = gbd_signal(*d, SIGTERM);
    *st = bench_gbd_log_stats(gbd_log_path(*d));
    gbd_free(d);
    return status;
}

static inline double bench_batch_avg(const bench_gbd_stats_t *st)
{
    return st->batches ? (double)st->requests / (double)st->batches : 0;
}

#endif
