/*
 * log: see log.h. Lines are written with one write(2) each so that concurrent writers
 * (and a crash mid-way) never interleave half-lines.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static log_level_t threshold = LOG_LVL_INFO;
static bool to_journal;

/* JOURNAL_STREAM is "device:inode" of the journal's stream; it only counts when it is
 * still our stderr (a child of a service may inherit the variable with another stderr). */
void log_init(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    to_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
                 (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static const struct {
    const char *name;
    log_level_t level;
} levels[] = {
    {"error", LOG_LVL_ERROR},
    {"warning", LOG_LVL_WARNING},
    {"info", LOG_LVL_INFO},
    {"debug", LOG_LVL_DEBUG},
};

int log_set_level(const char *name)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (strcmp(levels[i].name, name) == 0) {
            threshold = levels[i].level;
            return 0;
        }
    return -1;
}

static const char *level_name(log_level_t level)
{
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (levels[i].level == level)
            return levels[i].name;
    return "info";
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    char line[1024];
    int n;
    if (level > threshold)
        return;
    if (to_journal) {
        n = snprintf(line, sizeof line, "<%d>", (int)level);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, level_name(level));
    }
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (write(2, line, (size_t)n) < 0)
        return;
}
