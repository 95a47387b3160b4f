/*
 * keys: CURVE key files for libgridbus clients (gridbus_keypair_*, gridbus_set_key_file).
 *
 * A daemon with security on admits a client by its CURVE public key, which its keys file
 * maps to a member; the client holds the pair in a small text file that `gridbus keygen`
 * writes (mode 0600, never over an existing file) and reads the daemon's public key from
 * the daemon's STATE_DIR/server.pub, which has the same format without the secret line:
 *
 *     # a comment
 *     public = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7
 *     secret = JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6
 *
 * gridbusd reads the same format for its own key pair (daemon/security.c), so one file
 * layout serves both sides. Errors name the file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "client_int.h"
#include "gridbus.h"

#define Z85_KEY_LEN 40
#define LINE_LEN 1024

__attribute__((format(printf, 3, 4))) static int failf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_key(const char *s, size_t len)
{
    char buf[GRIDBUS_KEY_BUF];
    uint8_t bin[32];
    if (len != Z85_KEY_LEN)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return zmq_z85_decode(bin, buf) != NULL;
}

/* One `name = KEY` line into kp; blank lines and comments are skipped. */
static int parse_line(const char *text, const char *path, unsigned line, gridbus_keypair_t *kp,
                      char *err, size_t errlen)
{
    const char *p = text + strspn(text, " \t");
    if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
        return 0;
    size_t nlen = strcspn(p, " \t=");
    const char *eq = strchr(p, '=');
    if (!eq)
        return failf(err, errlen, "%s:%u: expected `public = KEY` or `secret = KEY`", path, line);
    const char *v = eq + 1 + strspn(eq + 1, " \t");
    size_t vlen = strcspn(v, " \t\r\n");
    char *dst = nlen == 6 && strncmp(p, "public", 6) == 0   ? kp->public_key
                : nlen == 6 && strncmp(p, "secret", 6) == 0 ? kp->secret_key
                                                            : NULL;
    if (!dst)
        return failf(err, errlen, "%s:%u: unknown name '%.*s' (public or secret)", path, line,
                     (int)nlen, p);
    if (!is_key(v, vlen))
        return failf(err, errlen, "%s:%u: not a CURVE key (40 characters of Z85)", path, line);
    memcpy(dst, v, Z85_KEY_LEN);
    dst[Z85_KEY_LEN] = '\0';
    return 0;
}

/* Both halves present must belong together; a missing public half is derived. */
static int check_pair(gridbus_keypair_t *kp, const char *path, char *err, size_t errlen)
{
    char derived[GRIDBUS_KEY_BUF];
    if (!kp->secret_key[0]) {
        if (!kp->public_key[0])
            return failf(err, errlen, "%s: no `public = KEY` line", path);
        return 0;
    }
    if (zmq_curve_public(derived, kp->secret_key) < 0)
        return failf(err, errlen, "%s: %s", path, zmq_strerror(errno));
    if (kp->public_key[0] && strcmp(derived, kp->public_key) != 0)
        return failf(err, errlen, "%s: the public key is not the secret key's", path);
    memcpy(kp->public_key, derived, sizeof derived);
    return 0;
}

/* gridbus_keypair_load; -2 when the file cannot be read (E_IO for a client). */
static int load(const char *source, gridbus_keypair_t *kp, char *err, size_t errlen)
{
    char text[LINE_LEN];
    unsigned line = 0;
    int rc = 0;
    memset(kp, 0, sizeof *kp);
    if (!source || !*source)
        return failf(err, errlen, "no key file given");
    if (is_key(source, strlen(source))) {
        memcpy(kp->public_key, source, GRIDBUS_KEY_BUF);
        return 0;
    }
    FILE *f = fopen(source, "r");
    if (!f)
        return failf(err, errlen, "%s: %s", source, strerror(errno)), -2;
    while (rc == 0 && fgets(text, sizeof text, f))
        rc = parse_line(text, source, ++line, kp, err, errlen);
    explicit_bzero(text, sizeof text);
    fclose(f);
    if (rc == 0)
        rc = check_pair(kp, source, err, errlen);
    if (rc < 0)
        explicit_bzero(kp, sizeof *kp);
    return rc;
}

int gridbus_keypair_load(const char *source, gridbus_keypair_t *kp, char *err, size_t errlen)
{
    return load(source, kp, err, errlen) < 0 ? -1 : 0;
}

int gridbus_keypair_new(gridbus_keypair_t *kp)
{
    memset(kp, 0, sizeof *kp);
    return zmq_curve_keypair(kp->public_key, kp->secret_key) < 0 ? -1 : 0;
}

int gridbus_keypair_save(const gridbus_keypair_t *kp, const char *path, const char *comment,
                         char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return failf(err, errlen, "%s: %s", path, strerror(errno));
    int n = dprintf(fd, "# %s\npublic = %s\nsecret = %s\n",
                    comment ? comment : "gridbus CURVE key pair; keep it secret", kp->public_key,
                    kp->secret_key);
    bool ok = n >= 0 && fsync(fd) == 0;
    int e = errno;
    if (close(fd) < 0 && ok)
        ok = false, e = errno;
    if (!ok) {
        unlink(path);
        return failf(err, errlen, "%s: %s", path, strerror(e));
    }
    return 0;
}

int gridbus_set_key_file(gridbus_t *self, const char *key_file, const char *server_key)
{
    gridbus_keypair_t mine, server;
    char err[300];
    if (!key_file || !server_key)
        return client_fail(self, GRIDBUS_EINVAL, NULL,
                           "CURVE needs both the client's key file and the server's public key");
    int rc = load(key_file, &mine, err, sizeof err);
    if (rc == 0)
        rc = load(server_key, &server, err, sizeof err);
    if (rc < 0)
        return client_fail(self, rc == -2 ? GRIDBUS_EIO : GRIDBUS_EINVAL, NULL, "%s", err);
    if (!mine.secret_key[0])
        return client_fail(self, GRIDBUS_EINVAL, NULL, "%s: no `secret = KEY` line", key_file);
    rc = gridbus_set_curve(self, mine.public_key, mine.secret_key, server.public_key);
    explicit_bzero(&mine, sizeof mine);
    return rc;
}
