/*
 * runcli: running a program under test as a child process (see runcli.h).
 *
 * Kept free of Criterion so a failure is reported by the test that called, with the reason
 * from runcli_why(), and so benches and other tools can link it too.
 */
#include "runcli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ARGS 64

static char why[1024];

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return -1;
}

const char *runcli_why(void)
{
    return why;
}

void run_free(run_t *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

const char *runcli_bin(const char *var, const char *fallback)
{
    const char *v = getenv(var);
    return v && *v ? v : fallback;
}

char *runcli_slurp(FILE *f)
{
    if (fseek(f, 0, SEEK_END) != 0) {
        fail("fseek: %s", strerror(errno));
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *s = n >= 0 ? calloc(1, (size_t)n + 1) : NULL;
    if (!s) {
        fail("cannot read an output of %ld bytes", n);
        return NULL;
    }
    if (fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        fail("short read of an output of %ld bytes", n);
        return NULL;
    }
    return s;
}

pid_t runcli_spawn(FILE *in, FILE *out, FILE *err, const char *bin, const char *const *head,
                   const char *const *args)
{
    char *argv[MAX_ARGS] = {(char *)bin};
    size_t n = 1;
    const char *const *parts[] = {head, args};
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; parts[k] && parts[k][i]; i++) {
            if (n == MAX_ARGS - 1)
                return fail("%s: more than %d arguments", bin, MAX_ARGS - 2);
            argv[n++] = (char *)parts[k][i];
        }
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return fail("fork: %s", strerror(errno));
    if (pid == 0) {
        int fd0 = in ? fileno(in) : open("/dev/null", O_RDONLY);
        dup2(fd0, 0);
        dup2(fileno(out), 1);
        dup2(fileno(err), 2);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

int runcli_wait(pid_t pid, int wait_ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0), st, ready = 1;
    if (fd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        ready = poll(&p, 1, wait_ms);
        close(fd);
        if (ready == 0)
            kill(pid, SIGKILL);
    }
    if (waitpid(pid, &st, 0) != pid)
        return fail("waitpid %d: %s", (int)pid, strerror(errno));
    if (ready == 0)
        return fail("pid %d did not finish within %d ms (killed)", (int)pid, wait_ms);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int runcli(run_t *r, const char *stdin_text, const char *bin, const char *const *head,
           const char *const *args, int wait_ms)
{
    *r = (run_t){0};
    FILE *in = tmpfile(), *out = tmpfile(), *err = tmpfile();
    int rc = -1;
    if (!in || !out || !err) {
        fail("tmpfile: %s", strerror(errno));
        goto done;
    }
    if (stdin_text)
        fputs(stdin_text, in);
    if (fflush(in) != 0) {
        fail("writing stdin: %s", strerror(errno));
        goto done;
    }
    rewind(in);
    pid_t pid = runcli_spawn(in, out, err, bin, head, args);
    if (pid < 0)
        goto done;
    r->status = runcli_wait(pid, wait_ms);
    if (r->status < 0)
        goto done;
    r->out = runcli_slurp(out);
    r->err = r->out ? runcli_slurp(err) : NULL;
    if (!r->err) {
        run_free(r);
        goto done;
    }
    rc = 0;
done:
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    if (err)
        fclose(err);
    return rc;
}

static size_t count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t lines = 0;
    for (int c; f && (c = fgetc(f)) != EOF;)
        lines += c == '\n';
    if (f)
        fclose(f);
    return lines;
}

int runcli_wait_lines(const char *path, size_t n)
{
    char buf[4096];
    size_t lines = 0;
    int fd = inotify_init1(IN_CLOEXEC), rc = -1;
    if (fd < 0 || inotify_add_watch(fd, path, IN_MODIFY) < 0) {
        fail("inotify %s: %s", path, strerror(errno));
    } else {
        for (;;) {
            if ((lines = count_lines(path)) >= n) {
                rc = 0;
                break;
            }
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, RUNCLI_WAIT_MS) <= 0 || read(fd, buf, sizeof buf) <= 0) {
                fail("%s: %zu of %zu lines after %d ms", path, lines, n, RUNCLI_WAIT_MS);
                break;
            }
        }
    }
    if (fd >= 0)
        close(fd);
    return rc;
}
