/*
 * backup: `gridbusd --backup DIR` and the stale reader sweep (see backup.h).
 *
 * The order of a backup is what makes it safe to trust: refuse a DIR that holds anything
 * (never overwrite, never mix two backups), copy into a .partial file, fsync it, open the
 * copy and check its schema, rename it to data.mdb, fsync the folder. Any failure removes
 * what was written, so DIR holds a data.mdb only when the backup is whole.
 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"

#define PATH_LEN 4200

/* snprintf into err, then -1. */
__attribute__((format(printf, 3, 4))) static int failf(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_source(const char *state_dir, char *err, size_t errlen)
{
    char path[PATH_LEN];
    snprintf(path, sizeof path, "%s/data.mdb", state_dir);
    if (access(path, R_OK) < 0)
        return failf(err, errlen, "no store to back up: %s: %s", path, strerror(errno));
    return 0;
}

/* 0 when dir is an empty directory, or was absent and has been created (*created). */
static int prepare_dir(const char *dir, bool *created, char *err, size_t errlen)
{
    struct stat st;
    *created = false;
    if (stat(dir, &st) < 0) {
        if (errno != ENOENT || mkdir(dir, 0750) < 0)
            return failf(err, errlen, "%s: %s", dir, strerror(errno));
        *created = true;
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return failf(err, errlen, "%s: not a directory", dir);
    DIR *d = opendir(dir);
    if (!d)
        return failf(err, errlen, "%s: %s", dir, strerror(errno));
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    if (!empty)
        return failf(err, errlen, "%s: not empty; a backup goes to a new or empty directory", dir);
    return 0;
}

/* LMDB creates STATE/lock.mdb when no process has the store open. Run as root against a
 * stopped daemon, the backup would leave it owned by root and the daemon's own user could
 * not open its store any more: give it the owner of data.mdb. */
static void keep_lock_owner(const char *state_dir)
{
    char data[PATH_LEN], lock[PATH_LEN];
    struct stat sd, sl;
    snprintf(data, sizeof data, "%s/data.mdb", state_dir);
    snprintf(lock, sizeof lock, "%s/lock.mdb", state_dir);
    if (geteuid() != 0 || stat(data, &sd) < 0 || stat(lock, &sl) < 0 ||
        (sl.st_uid == sd.st_uid && sl.st_gid == sd.st_gid))
        return;
    if (chown(lock, sd.st_uid, sd.st_gid) < 0)
        log_warning("msg=\"cannot give lock.mdb the owner of data.mdb\" path=%s error=\"%s\"", lock,
                    strerror(errno));
}

static int write_copy(const char *state_dir, const char *part, char *err, size_t errlen)
{
    int fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return failf(err, errlen, "%s: %s", part, strerror(errno));
    int rc = store_backup(state_dir, fd, err, errlen);
    keep_lock_owner(state_dir);
    if (rc == 0 && fsync(fd) < 0)
        rc = failf(err, errlen, "fsync %s: %s", part, strerror(errno));
    if (close(fd) < 0 && rc == 0)
        rc = failf(err, errlen, "close %s: %s", part, strerror(errno));
    return rc;
}

/* Copy, check, publish under its final name. */
static int make_backup(const char *state_dir, const char *dir, store_summary_t *sum, char *err,
                       size_t errlen)
{
    char part[PATH_LEN], final[PATH_LEN];
    snprintf(part, sizeof part, "%s/data.mdb.partial", dir);
    snprintf(final, sizeof final, "%s/data.mdb", dir);
    if (write_copy(state_dir, part, err, errlen) < 0 ||
        store_inspect_file(part, sum, err, errlen) < 0) {
        unlink(part);
        return -1;
    }
    if (rename(part, final) < 0) {
        failf(err, errlen, "rename %s: %s", part, strerror(errno));
        unlink(part);
        return -1;
    }
    if (fsutil_sync_dir(dir, err, errlen) < 0) {
        unlink(final);
        return -1;
    }
    return 0;
}

static void print_summary(const char *dir, const store_summary_t *sum, long long ms)
{
    char path[PATH_LEN];
    struct stat st = {0};
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    stat(path, &st);
    printf("backup %s: %lld bytes, last event seq %llu, %lld ms; entries:", path,
           (long long)st.st_size, (unsigned long long)sum->head, ms);
    for (size_t i = 0; i < sum->ndbs; i++)
        printf(" %s=%llu", sum->dbs[i].name, (unsigned long long)sum->dbs[i].entries);
    printf("\n");
    fflush(stdout);
    log_info("msg=\"backup written\" file=%s bytes=%lld events=%llu ms=%lld", path,
             (long long)st.st_size, (unsigned long long)sum->head, ms);
}

int backup_run(const config_t *cfg, const char *dir)
{
    char err[1024];
    bool created = false;
    store_summary_t sum;
    long long t0 = now_ms();
    if (check_source(cfg->state_dir, err, sizeof err) < 0 ||
        prepare_dir(dir, &created, err, sizeof err) < 0 ||
        make_backup(cfg->state_dir, dir, &sum, err, sizeof err) < 0) {
        if (created)
            rmdir(dir);
        log_error("msg=\"backup failed\" state_dir=%s dir=%s error=\"%s\"", cfg->state_dir, dir,
                  err);
        return 1;
    }
    print_summary(dir, &sum, now_ms() - t0);
    return 0;
}

/* ---- the stale reader sweep ---- */

struct reader_sweep {
    store_t *store;
    struct event *timer;
};

static void sweep(reader_sweep_t *self)
{
    int n = store_reader_check(self->store);
    if (n < 0)
        log_error("msg=\"reader check failed\" error=\"%s\"", store_error(self->store));
    else if (n > 0)
        log_warning("msg=\"stale reader slots cleared\" count=%d", n);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    sweep(arg);
}

reader_sweep_t *reader_sweep_new(struct event_base *base, store_t *store, uint32_t interval_ms)
{
    reader_sweep_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    sweep(self);
    if (interval_ms == 0)
        return self;
    struct timeval tv = {(time_t)(interval_ms / 1000), (suseconds_t)(interval_ms % 1000) * 1000};
    self->timer = event_new(base, -1, EV_PERSIST, on_timer, self);
    if (!self->timer || event_add(self->timer, &tv) < 0)
        reader_sweep_destroy(&self);
    return self;
}

void reader_sweep_destroy(reader_sweep_t **self_p)
{
    reader_sweep_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->timer)
        event_free(self->timer);
    free(self);
    *self_p = NULL;
}
