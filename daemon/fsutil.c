/*
 * fsutil: see fsutil.h.
 */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsutil_sync_dir(const char *dir, char *err, size_t errlen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n, len -= (size_t)n;
    }
    return 0;
}

int fsutil_replace(const char *path, const void *text, size_t len, mode_t mode, char *err,
                   size_t errlen)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp ||
        snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return snprintf(err, errlen, "%s: path too long", path), -1;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return snprintf(err, errlen, "%s: %s", tmp, strerror(errno)), -1;
    int bad = write_all(fd, text, len) < 0 || fchmod(fd, mode) < 0 || fsync(fd) < 0;
    bad |= close(fd) < 0;
    if (bad || rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return snprintf(err, errlen, "%s: %s", path, strerror(e)), -1;
    }
    return fsutil_sync_dir(slash ? dir : ".", err, errlen);
}
