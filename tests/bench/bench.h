/*
 * bench.h: what every gridbus benchmark shares: the clock, settings from the environment,
 * percentiles, the daemon's memory and CPU time from /proc, temporary directories and JSON
 * lines.
 *
 * Header-only because the Makefile turns each .c file of tests/bench into its own binary and
 * links nothing else from this folder; everything is static inline so a binary that uses
 * only part of it still builds under -Werror. Each benchmark writes one JSON line per
 * measurement on stdout (tests/bench/run collects them in build/bench.json, and
 * bench_report turns them into the table) and a short progress line on stderr.
 */
#ifndef GB_BENCH_H
#define GB_BENCH_H

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Every round (repetition) of every measurement: BENCH_ROUNDS, default 3. */
#define BENCH_ROUNDS_DEFAULT 3
#define BENCH_ROUNDS_MAX 10

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int64_t bench_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "200000", "200k", "1M", "10m": a count; 0 when s is not one. */
static inline uint64_t bench_parse_count(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return 0;
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1e6, end++;
    return *end ? 0 : (uint64_t)v;
}

/* The count in environment variable name, or def when unset or malformed. */
static inline uint64_t bench_env_count(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    uint64_t v = s && *s ? bench_parse_count(s) : 0;
    if (s && *s && !v)
        fprintf(stderr, "bench: ignoring %s=%s (not a count), using %" PRIu64 "\n", name, s, def);
    return v ? v : def;
}

static inline int bench_rounds(void)
{
    uint64_t r = bench_env_count("BENCH_ROUNDS", BENCH_ROUNDS_DEFAULT);
    return r > BENCH_ROUNDS_MAX ? BENCH_ROUNDS_MAX : (int)r;
}

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of n sorted microsecond values, in milliseconds (nearest rank). */
static inline double bench_pct_ms(const uint64_t *sorted_us, uint64_t n, double q)
{
    if (n == 0)
        return 0;
    uint64_t i = (uint64_t)(q * (double)n);
    return (double)sorted_us[i < n ? i : n - 1] / 1000.0;
}

/* The first minute load average, to judge how noisy a figure is. */
static inline double bench_load1(void)
{
    double l = 0;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = 0;
        fclose(f);
    }
    return l;
}

/* VmRSS, RssAnon and RssFile of pid in KiB (0 when unknown). */
typedef struct {
    uint64_t vm_rss, anon, file;
} bench_rss_t;

static inline bench_rss_t bench_rss(pid_t pid)
{
    bench_rss_t r = {0, 0, 0};
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long kib;
        if (sscanf(line, "VmRSS: %llu", &kib) == 1)
            r.vm_rss = kib;
        else if (sscanf(line, "RssAnon: %llu", &kib) == 1)
            r.anon = kib;
        else if (sscanf(line, "RssFile: %llu", &kib) == 1)
            r.file = kib;
    }
    if (f)
        fclose(f);
    return r;
}

/* CPU time a process has used, in seconds: its main thread and all its threads. */
typedef struct {
    double main, all;
} bench_cpu_t;

/* utime + stime of /proc/PID[/task/TID]/stat, in seconds (0 when unreadable). The comm
 * field may hold spaces and parentheses, so parsing starts after the last ')'. */
static inline double bench_stat_cpu(const char *path)
{
    char buf[1024];
    unsigned long long ut = 0, st = 0;
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    /* After ") ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime stime (fields 3..15 of proc(5)). */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static inline bench_cpu_t bench_cpu(pid_t pid)
{
    char path[64];
    bench_cpu_t c;
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)pid);
    c.main = bench_stat_cpu(path);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    c.all = bench_stat_cpu(path);
    return c;
}

/* A fresh directory under $TMPDIR or /tmp into buf; 0, or -1 with the reason on stderr. */
static inline int bench_temp_dir(char *buf, size_t len, const char *what)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/gridbus-bench-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
    if (mkdtemp(buf))
        return 0;
    fprintf(stderr, "bench: mkdtemp %s: %s\n", buf, strerror(errno));
    return -1;
}

static inline int bench_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static inline void bench_rm_tree(const char *path)
{
    nftw(path, bench_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * JSON lines: bench_json_begin opens {"bench":..,"key":..,"round":..,"load1":..}; the
 * field helpers append; bench_json_end closes the line and flushes it, so a run cut short
 * by its time bound keeps what it measured. metric names the field bench_report ranks the
 * rounds of one key by, and higher_better which way.
 */
static inline void bench_json_begin(const char *bench, const char *key, int round,
                                    const char *metric, bool higher_better)
{
    printf("{\"bench\":\"%s\",\"key\":\"%s\",\"round\":%d,\"metric\":\"%s\",\"better\":\"%s\","
           "\"load1\":%.2f",
           bench, key, round, metric, higher_better ? "higher" : "lower", bench_load1());
}

static inline void bench_json_num(const char *name, double v)
{
    printf(",\"%s\":%.3f", name, v);
}

static inline void bench_json_u64(const char *name, uint64_t v)
{
    printf(",\"%s\":%" PRIu64, name, v);
}

/* name needs no escaping (the benchmarks' own); s is escaped. */
static inline void bench_json_str(const char *name, const char *s)
{
    printf(",\"%s\":\"", name);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static inline void bench_json_bool(const char *name, bool v)
{
    printf(",\"%s\":%s", name, v ? "true" : "false");
}

static inline void bench_json_end(void)
{
    printf("}\n");
    fflush(stdout);
}

/* A measurement that cannot be taken yet: one line with its reason. */
static inline void bench_json_na(const char *bench, const char *key, const char *label,
                                 const char *why)
{
    bench_json_begin(bench, key, 0, "none", true);
    bench_json_str("label", label);
    bench_json_str("na", why);
    bench_json_end();
}

#endif
