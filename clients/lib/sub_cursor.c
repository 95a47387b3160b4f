/*
 * sub_cursor: reads and atomically replaces the subscriber's cursor file (sub_cursor.h).
 */
#include "sub_cursor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CURSOR_MAGIC "gridbus-cursor"
/* Room for the magic, a stream name, 20 digits and a filter of any sane length. */
#define CURSOR_MAX 4096

static gridbus_status_t fail(gridbus_status_t status, char *why, size_t whylen, const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));

static gridbus_status_t fail(gridbus_status_t status, char *why, size_t whylen, const char *fmt,
                             ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    return status;
}

/* Reads the whole file into buf (NUL-terminated): its length, 0 when absent, -1 on error. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    size_t n = 0;
    ssize_t r;
    while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* Splits "gridbus-cursor STREAM SEQ FILTER\n" in place; 0, or -1 when it is not that. */
static int parse(char *line, char **stream, uint64_t *seq, char **filter)
{
    size_t n = strlen(line);
    if (n == 0 || line[n - 1] != '\n')
        return -1;
    line[n - 1] = '\0';
    char *magic = line, *s = strchr(magic, ' '), *q, *f, *end;
    if (!s || (*s = '\0', strcmp(magic, CURSOR_MAGIC) != 0))
        return -1;
    if (!(q = strchr(++s, ' ')) || (*q = '\0', !*s))
        return -1;
    if (!(f = strchr(++q, ' ')))
        return -1;
    *f = '\0';
    errno = 0;
    unsigned long long v = strtoull(q, &end, 10);
    if (!*q || *end || errno == ERANGE || *q == '-')
        return -1;
    *stream = s, *seq = v, *filter = f + 1;
    return 0;
}

gridbus_status_t sub_cursor_load(const char *path, const char *stream, const char *filter,
                                 uint64_t *seq, bool *found, char *why, size_t whylen)
{
    char buf[CURSOR_MAX], *st, *fl;
    ssize_t n = read_small(path, buf, sizeof buf);
    *seq = 0, *found = false;
    if (n < 0)
        return fail(GRIDBUS_EIO, why, whylen, "cursor %s: %s", path, strerror(errno));
    if (n == 0)
        return GRIDBUS_OK; /* no file yet (an empty one too: a crash before the first save) */
    if (parse(buf, &st, seq, &fl) < 0)
        return fail(GRIDBUS_EINVAL, why, whylen, "cursor %s: not a gridbus cursor file", path);
    if (strcmp(st, stream) != 0 || strcmp(fl, filter) != 0)
        return fail(GRIDBUS_EINVAL, why, whylen,
                    "cursor %s: kept for stream '%s' with filter '%s', not '%s' with '%s'", path,
                    st, fl, stream, filter);
    *found = true;
    return GRIDBUS_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* fsyncs the folder holding path, so the rename itself is on disk. */
static int sync_dir(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

gridbus_status_t sub_cursor_save(const char *path, const char *stream, const char *filter,
                                 uint64_t seq, bool sync, char *why, size_t whylen)
{
    char tmp[CURSOR_MAX], line[CURSOR_MAX];
    int len = snprintf(line, sizeof line, CURSOR_MAGIC " %s %" PRIu64 " %s\n", stream, seq, filter);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp || len >= (int)sizeof line)
        return fail(GRIDBUS_EIO, why, whylen, "cursor %s: path or filter too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(GRIDBUS_EIO, why, whylen, "cursor %s: %s", tmp, strerror(errno));
    if (write_all(fd, line, (size_t)len) < 0 || (sync && fsync(fd) < 0)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return fail(GRIDBUS_EIO, why, whylen, "cursor %s: %s", tmp, strerror(e));
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return fail(GRIDBUS_EIO, why, whylen, "cursor %s: %s", path, strerror(e));
    }
    if (sync && sync_dir(path) < 0)
        return fail(GRIDBUS_EIO, why, whylen, "cursor %s: folder: %s", path, strerror(errno));
    return GRIDBUS_OK;
}
