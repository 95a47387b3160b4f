/*
 * security: the daemon's key pair, the clients' keys file, the loopback rule and the ZAP
 * handler (see security.h for what they guard and why).
 *
 * Files. A key pair file holds `public = Z85` and `secret = Z85` lines (the format
 * `gridbus keygen` writes for clients); STATE_DIR/server.pub holds the public line only.
 * The keys file holds one `Z85PUBLICKEY member.id` a line; errors are "FILE:LINE: message",
 * and a file with any error is refused whole, so a reload never half-applies. A line
 * starting with '#' is a comment: no key can start so (the first Z85 digit of a 32-bit
 * block is at most '%', since 2^32 / 85^4 < 83).
 *
 * ZAP. The handler is a REP socket on inproc://zeromq.zap.01 in the daemon's context,
 * bound before the first server socket: libzmq lets a CURVE handshake through unchecked
 * when no handler is bound. Requests are answered at once from the loop; the keys are
 * kept sorted by their 32 bytes and found by binary search.
 */
#include "security.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "fsutil.h"
#include "event.h"
#include "log.h"
#include "schema.h"
#include "zwatch.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_FRAMES 7       /* version, request id, domain, address, identity, mechanism, key */
#define ZAP_BUDGET 64      /* requests answered per wake-up */
#define Z85_KEY_LEN 40     /* a 32-byte CURVE key as Z85 text */
#define LINE_MAX_LEN 1024  /* of a keys or key pair file */
#define REFUSALS_LOGGED 20 /* per minute; more are counted, not logged one by one */

typedef struct {
    uint8_t key[32];
    char *member;
    unsigned line;
} client_key_t;

typedef struct {
    client_key_t *v;
    size_t n, cap;
} keyset_t;

struct security {
    void *zap;
    zwatch_t *watch;
    char *keys_path;
    keyset_t keys;
    const directory_t *dir;
    char secret[Z85_KEY_LEN + 1];
    int64_t window_start; /* of the refusal log's rate limit, monotonic ms */
    unsigned logged, unlogged;
};

/* The supervision roles: the only members admitted to the alerts feed. */
static const char *const supervision_roles[] = {"discipline_commissioner", "discipline_secretary"};

__attribute__((format(printf, 3, 4))) static int failf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* True when text (40 characters) is a Z85 key; the 32 bytes go to key (may be NULL). */
static bool z85_key(const char *text, size_t len, uint8_t key[32])
{
    char buf[Z85_KEY_LEN + 1];
    uint8_t tmp[32];
    if (len != Z85_KEY_LEN)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return zmq_z85_decode(key ? key : tmp, buf) != NULL;
}

/* ---- the loopback rule ------------------------------------------------------------- */

static bool host_is_loopback(const char *host, size_t len)
{
    char buf[256];
    struct in_addr a4;
    struct in6_addr a6;
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
        host++, len -= 2;
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, host, len);
    buf[len] = '\0';
    if (strcmp(buf, "localhost") == 0 || strcmp(buf, "lo") == 0)
        return true;
    if (inet_pton(AF_INET, buf, &a4) == 1)
        return ntohl(a4.s_addr) >> 24 == 127;
    if (inet_pton(AF_INET6, buf, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return false;
}

/* True when a ZeroMQ endpoint can be reached from this machine only. */
static bool zmq_endpoint_local(const char *ep)
{
    if (strncmp(ep, "ipc://", 6) == 0 || strncmp(ep, "inproc://", 9) == 0)
        return true;
    if (strncmp(ep, "tcp://", 6) != 0)
        return false;
    const char *host = ep + 6, *colon = strrchr(host, ':');
    return colon && host_is_loopback(host, (size_t)(colon - host));
}

/* With security off, every ZeroMQ endpoint on loopback unless allow_insecure_remote. (The
 * HTTP endpoint is not ZeroMQ's: its own rule, http.token_file, guards it.) */
static int check_loopback(const config_t *cfg, char *err, size_t errlen)
{
    const char *names[] = {"ingest", "publish", "tasks", "alerts"};
    const char *eps[] = {cfg->endpoints.ingest, cfg->endpoints.publish, cfg->endpoints.tasks,
                         cfg->endpoints.alerts};
    if (cfg->security.enabled || cfg->security.allow_insecure_remote)
        return 0;
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
        if (!zmq_endpoint_local(eps[i]))
            return failf(err, errlen,
                         "endpoints.%s: '%s' is not a loopback address and security is off: "
                         "turn security.enabled on (CURVE), or set "
                         "security.allow_insecure_remote: true to serve it unauthenticated",
                         names[i], eps[i]);
    return 0;
}

/* ---- the keys file ----------------------------------------------------------------- */

static void keyset_free(keyset_t *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        free(ks->v[i].member);
    free(ks->v);
    memset(ks, 0, sizeof *ks);
}

static int keyset_add(keyset_t *ks, const uint8_t key[32], const char *member, size_t len,
                      unsigned line)
{
    if (ks->n == ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 64;
        client_key_t *grown = realloc(ks->v, cap * sizeof *grown);
        if (!grown)
            return -1;
        ks->v = grown, ks->cap = cap;
    }
    client_key_t *k = &ks->v[ks->n];
    if (!(k->member = strndup(member, len)))
        return -1;
    memcpy(k->key, key, 32);
    k->line = line;
    ks->n++;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return memcmp(((const client_key_t *)a)->key, ((const client_key_t *)b)->key, 32);
}

/* The next whitespace-separated word of *p, or NULL; *p moves past it. */
static const char *next_word(const char **p, size_t *len)
{
    const char *s = *p + strspn(*p, " \t\r\n");
    size_t n = strcspn(s, " \t\r\n");
    *p = s + n;
    *len = n;
    return n ? s : NULL;
}

/* One line of the keys file: blank, a comment, or `KEY member.id [# comment]`. */
static int keys_line(keyset_t *ks, const char *text, const char *path, unsigned line,
                     const directory_t *dir, char *err, size_t errlen)
{
    const char *p = text;
    size_t klen, mlen, rlen;
    uint8_t key[32];
    const char *k = next_word(&p, &klen);
    if (!k || k[0] == '#')
        return 0;
    if (!z85_key(k, klen, key))
        return failf(err, errlen,
                     "%s:%u: '%.*s' is not a CURVE public key (40 characters of "
                     "Z85, as `gridbus keygen` prints)",
                     path, line, (int)klen, k);
    const char *m = next_word(&p, &mlen), *rest = next_word(&p, &rlen);
    if (!m)
        return failf(err, errlen, "%s:%u: the key has no member id after it", path, line);
    if (!event_id_valid(m, mlen, SCHEMA_ID_MAX))
        return failf(err, errlen, "%s:%u: '%.*s' is not a member id", path, line, (int)mlen, m);
    if (!directory_member(dir, m, mlen))
        return failf(err, errlen, "%s:%u: member '%.*s' is not in the directory (%s)", path, line,
                     (int)mlen, m, directory_path(dir));
    if (rest && rest[0] != '#')
        return failf(err, errlen, "%s:%u: unexpected '%.*s' after the member id", path, line,
                     (int)rlen, rest);
    if (keyset_add(ks, key, m, mlen, line) < 0)
        return failf(err, errlen, "%s:%u: out of memory", path, line);
    return 0;
}

/* Sorts the keys; a key listed twice is an error naming both lines. */
static int keyset_finish(keyset_t *ks, const char *path, char *err, size_t errlen)
{
    if (ks->n)
        qsort(ks->v, ks->n, sizeof *ks->v, key_cmp);
    for (size_t i = 1; i < ks->n; i++)
        if (memcmp(ks->v[i - 1].key, ks->v[i].key, 32) == 0) {
            unsigned a = ks->v[i - 1].line, b = ks->v[i].line;
            return failf(err, errlen, "%s:%u: the key is already listed on line %u", path,
                         a > b ? a : b, a > b ? b : a);
        }
    return 0;
}

/* Reads the whole file into a fresh set; *out is replaced only when all of it is good. */
static int keyset_load(keyset_t *out, const char *path, const directory_t *dir, char *err,
                       size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return failf(err, errlen, "%s: %s", path, strerror(errno));
    keyset_t ks = {0};
    char text[LINE_MAX_LEN];
    unsigned line = 0;
    int rc = 0;
    while (rc == 0 && fgets(text, sizeof text, f)) {
        line++;
        if (!strchr(text, '\n') && !feof(f))
            rc = failf(err, errlen, "%s:%u: line too long", path, line);
        else
            rc = keys_line(&ks, text, path, line, dir, err, errlen);
    }
    if (rc == 0 && ferror(f))
        rc = failf(err, errlen, "%s: read error", path);
    fclose(f);
    if (rc == 0)
        rc = keyset_finish(&ks, path, err, errlen);
    if (rc < 0) {
        keyset_free(&ks);
        return -1;
    }
    keyset_free(out);
    *out = ks;
    return 0;
}

static const client_key_t *keyset_find(const keyset_t *ks, const uint8_t key[32])
{
    client_key_t probe;
    memcpy(probe.key, key, 32);
    return ks->n ? bsearch(&probe, ks->v, ks->n, sizeof *ks->v, key_cmp) : NULL;
}

/* ---- the daemon's key pair --------------------------------------------------------- */

/* One `name = KEY` line of a key pair file into pub or sec. */
static int pair_line(const char *text, const char *path, unsigned line, char *pub, char *sec,
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
    char *dst = nlen == 6 && strncmp(p, "public", 6) == 0   ? pub
                : nlen == 6 && strncmp(p, "secret", 6) == 0 ? sec
                                                            : NULL;
    if (!dst)
        return failf(err, errlen, "%s:%u: unknown name '%.*s' (public or secret)", path, line,
                     (int)nlen, p);
    if (!z85_key(v, vlen, NULL))
        return failf(err, errlen, "%s:%u: not a CURVE key (40 characters of Z85)", path, line);
    memcpy(dst, v, Z85_KEY_LEN);
    dst[Z85_KEY_LEN] = '\0';
    return 0;
}

/* Reads the server key pair; a missing public half is derived from the secret. */
static int pair_read(const char *path, char pub[Z85_KEY_LEN + 1], char sec[Z85_KEY_LEN + 1],
                     char *err, size_t errlen)
{
    char text[LINE_MAX_LEN], derived[Z85_KEY_LEN + 1];
    unsigned line = 0;
    int rc = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return failf(err, errlen, "%s: %s", path, strerror(errno));
    pub[0] = sec[0] = '\0';
    while (rc == 0 && fgets(text, sizeof text, f))
        rc = pair_line(text, path, ++line, pub, sec, err, errlen);
    fclose(f);
    if (rc < 0)
        return -1;
    if (!sec[0])
        return failf(err, errlen, "%s: no `secret = KEY` line", path);
    if (zmq_curve_public(derived, sec) < 0)
        return failf(err, errlen, "%s: %s", path, zmq_strerror(zmq_errno()));
    if (pub[0] && strcmp(pub, derived) != 0)
        return failf(err, errlen, "%s: the public key is not the secret key's", path);
    memcpy(pub, derived, sizeof derived);
    return 0;
}

/* Writes a key file durably (fsutil_replace); the secret line only if sec. */
static int pair_write(const char *path, const char *pub, const char *sec, char *err, size_t errlen)
{
    char text[512];
    int n = snprintf(text, sizeof text, "# gridbusd's CURVE %s, made by gridbusd%s\npublic = %s\n",
                     sec ? "key pair" : "public key",
                     sec ? "; keep it secret" : ": give it to clients (gridbus --server-key)", pub);
    if (n > 0 && sec && (size_t)n < sizeof text)
        n += snprintf(text + n, sizeof text - (size_t)n, "secret = %s\n", sec);
    if (n < 0 || (size_t)n >= sizeof text)
        return failf(err, errlen, "%s: key text too long", path);
    return fsutil_replace(path, text, (size_t)n, sec ? 0600 : 0644, err, errlen);
}

/* security.server_key as a path: relative ones are inside state_dir. */
static void server_key_path(const config_t *cfg, char *buf, size_t len)
{
    const char *k = cfg->security.server_key;
    if (k[0] == '/')
        snprintf(buf, len, "%s", k);
    else
        snprintf(buf, len, "%s/%s", cfg->state_dir, k);
}

/* Loads the server key pair, creating it on first start, and writes server.pub. */
static int server_key_open(security_t *self, const config_t *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX], pub_path[PATH_MAX], pub[Z85_KEY_LEN + 1], sec[Z85_KEY_LEN + 1];
    struct stat st = {0};
    server_key_path(cfg, path, sizeof path);
    if (stat(path, &st) < 0 && errno == ENOENT) {
        if (zmq_curve_keypair(pub, sec) < 0)
            return failf(err, errlen,
                         "cannot make a CURVE key pair: %s (is libzmq built "
                         "with CURVE?)",
                         zmq_strerror(zmq_errno()));
        if (pair_write(path, pub, sec, err, errlen) < 0)
            return -1;
        log_info("msg=\"server key pair created\" path=%s", path);
    } else if (pair_read(path, pub, sec, err, errlen) < 0) {
        return -1;
    } else if (st.st_mode & 077) {
        log_warning("msg=\"the server key file is readable by others; chmod 600 it\" path=%s",
                    path);
    }
    memcpy(self->secret, sec, sizeof sec);
    explicit_bzero(sec, sizeof sec);
    snprintf(pub_path, sizeof pub_path, "%s/server.pub", cfg->state_dir);
    if (pair_write(pub_path, pub, NULL, err, errlen) < 0)
        return -1;
    log_info("msg=\"security on\" server_public=\"%s\" public_file=%s", pub, pub_path);
    return 0;
}

/* ---- ZAP (RFC 27) ------------------------------------------------------------------ */

typedef struct {
    const char *code, *text; /* "200", "400", "500" and why */
    const char *user;        /* the member id on 200 */
    char why[160];
} verdict_t;

static bool frame_is(zmq_msg_t *m, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

static int refuse(verdict_t *v, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets a refusal and returns -1: `return refuse(v, "400", ...)`. */
static int refuse(verdict_t *v, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
    v->code = code, v->text = v->why, v->user = "";
    return -1;
}

static bool domain_known(zmq_msg_t *d)
{
    return frame_is(d, "ingest") || frame_is(d, "publish") || frame_is(d, "tasks") ||
           frame_is(d, "alerts");
}

static bool supervises(const directory_member_t *m)
{
    for (size_t i = 0; i < sizeof supervision_roles / sizeof supervision_roles[0]; i++)
        if (directory_member_has_role(m, supervision_roles[i]))
            return true;
    return false;
}

/* Who the client of frames f is, and whether its key may use the domain's socket: 0 (200,
 * the member as User-Id) or -1 (400, or 500 for a request that is not RFC 27's). */
static int decide(security_t *self, zmq_msg_t *f, size_t n, verdict_t *v)
{
    if (n != ZAP_FRAMES || !frame_is(&f[0], "1.0"))
        return refuse(v, "500", "malformed ZAP request (%zu frames)", n);
    if (!frame_is(&f[5], "CURVE") || zmq_msg_size(&f[6]) != 32)
        return refuse(v, "400", "only CURVE clients are admitted");
    if (!domain_known(&f[2]))
        return refuse(v, "400", "unknown ZAP domain");
    const client_key_t *k = keyset_find(&self->keys, zmq_msg_data(&f[6]));
    if (!k)
        return refuse(v, "400", "unknown key");
    const directory_member_t *m = directory_member(self->dir, k->member, strlen(k->member));
    if (!m)
        return refuse(v, "400", "member %s is not in the directory", k->member);
    if (frame_is(&f[2], "alerts") && !supervises(m))
        return refuse(v, "400", "member %s holds no supervision role", k->member);
    v->code = "200", v->text = "OK", v->user = k->member;
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A refusal in the log, at most REFUSALS_LOGGED a minute: a client with a wrong key
 * retries every reconnect interval and would flood it. */
static void log_refusal(security_t *self, zmq_msg_t *f, size_t n, const verdict_t *v)
{
    int64_t now = mono_ms();
    char key[Z85_KEY_LEN + 1] = "?";
    if (now - self->window_start >= 60000) {
        if (self->unlogged)
            log_warning("msg=\"connections refused, not logged one by one\" count=%u",
                        self->unlogged);
        self->window_start = now, self->logged = self->unlogged = 0;
    }
    if (self->logged >= REFUSALS_LOGGED) {
        self->unlogged++;
        return;
    }
    self->logged++;
    if (n == ZAP_FRAMES && zmq_msg_size(&f[6]) == 32)
        zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
    log_warning("msg=\"connection refused\" domain=%.*s address=%.*s key=\"%s\" reason=\"%s\"",
                n > 2 ? (int)zmq_msg_size(&f[2]) : 1, n > 2 ? (char *)zmq_msg_data(&f[2]) : "?",
                n > 3 ? (int)zmq_msg_size(&f[3]) : 1, n > 3 ? (char *)zmq_msg_data(&f[3]) : "?",
                key, v->why);
}

/* The reply: version, request id, status code, status text, user id, metadata. */
static void zap_reply(void *sock, zmq_msg_t *f, size_t n, const verdict_t *v)
{
    const char *parts[] = {"1.0", v->code, v->text, v->user};
    int rc = zmq_send(sock, parts[0], 3, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (rc >= 0)
        rc = n > 1 ? zmq_send(sock, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE)
                   : zmq_send(sock, "", 0, ZMQ_SNDMORE);
    for (size_t i = 1; rc >= 0 && i < 4; i++)
        rc = zmq_send(sock, parts[i], strlen(parts[i]), ZMQ_SNDMORE);
    if (rc >= 0)
        rc = zmq_send(sock, "", 0, 0);
    if (rc < 0)
        log_error("msg=\"cannot answer a ZAP request\" error=\"%s\"", zmq_strerror(zmq_errno()));
}

/* Receives one request, keeping its first ZAP_FRAMES frames; *n counts them all. */
static int zap_recv(void *sock, zmq_msg_t *f, size_t *n)
{
    zmq_msg_t extra;
    *n = 0;
    for (bool more = true; more; (*n)++) {
        zmq_msg_t *m = *n < ZAP_FRAMES ? &f[*n] : &extra;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sock, *n ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(m);
            for (size_t i = 0; i < *n && i < ZAP_FRAMES; i++)
                zmq_msg_close(&f[i]);
            return -1;
        }
        more = zmq_msg_more(m);
        if (m == &extra)
            zmq_msg_close(m);
    }
    return 0;
}

static void on_zap(void *sock, void *arg)
{
    security_t *self = arg;
    zmq_msg_t f[ZAP_FRAMES];
    size_t n;
    for (int i = 0; i < ZAP_BUDGET && zap_recv(sock, f, &n) == 0; i++) {
        verdict_t v;
        if (decide(self, f, n, &v) < 0)
            log_refusal(self, f, n, &v);
        else
            log_debug("msg=\"connection admitted\" domain=%.*s member=%s", (int)zmq_msg_size(&f[2]),
                      (char *)zmq_msg_data(&f[2]), v.user);
        zap_reply(sock, f, n, &v);
        for (size_t j = 0; j < n && j < ZAP_FRAMES; j++)
            zmq_msg_close(&f[j]);
    }
    zwatch_kick(self->watch);
}

/* ---- life cycle -------------------------------------------------------------------- */

static int zap_bind(security_t *self, void *zctx, char *err, size_t errlen)
{
    int zero = 0;
    self->zap = zmq_socket(zctx, ZMQ_REP);
    if (!self->zap)
        return failf(err, errlen, "ZAP socket: %s", zmq_strerror(zmq_errno()));
    zmq_setsockopt(self->zap, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(self->zap, ZAP_ENDPOINT) < 0)
        return failf(err, errlen, "ZAP handler %s: %s", ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
    return 0;
}

int security_check(const config_t *cfg, const directory_t *dir, char *err, size_t errlen)
{
    keyset_t ks = {0};
    if (check_loopback(cfg, err, errlen) < 0)
        return -1;
    if (cfg->security.enabled && keyset_load(&ks, cfg->security.keys, dir, err, errlen) < 0)
        return -1;
    keyset_free(&ks);
    return 0;
}

int security_open(security_t **out, void *zctx, const config_t *cfg, const directory_t *dir)
{
    char err[512];
    *out = NULL;
    if (check_loopback(cfg, err, sizeof err) < 0)
        return log_error("msg=\"refusing to start\" error=\"%s\"", err), -1;
    if (!cfg->security.enabled)
        return 0;
    security_t *self = calloc(1, sizeof *self);
    if (!self || !(self->keys_path = strdup(cfg->security.keys))) {
        free(self);
        return log_error("msg=\"out of memory\""), -1;
    }
    self->dir = dir;
    self->window_start = mono_ms();
    if (server_key_open(self, cfg, err, sizeof err) < 0 ||
        keyset_load(&self->keys, self->keys_path, dir, err, sizeof err) < 0 ||
        zap_bind(self, zctx, err, sizeof err) < 0) {
        log_error("msg=\"cannot turn security on\" error=\"%s\"", err);
        security_destroy(&self);
        return -1;
    }
    if (self->keys.n == 0)
        log_warning("msg=\"no client keys: every client will be refused\" keys=%s",
                    self->keys_path);
    log_info("msg=\"client keys loaded\" keys=%zu file=%s", self->keys.n, self->keys_path);
    *out = self;
    return 0;
}

int security_server_socket(security_t *self, void *s, const char *domain)
{
    int on = 1;
    if (!self)
        return 0;
    if (zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) < 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SERVER, &on, sizeof on) < 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, self->secret, Z85_KEY_LEN) < 0) {
        log_error("msg=\"cannot make a CURVE server socket\" name=%s error=\"%s\"", domain,
                  zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

int security_start(security_t *self, struct event_base *base)
{
    if (!self)
        return 0;
    self->watch = zwatch_new(base, self->zap, on_zap, self);
    return self->watch ? 0 : -1;
}

void security_reload(security_t *self, const directory_t *dir)
{
    char err[512];
    if (!self)
        return;
    self->dir = dir;
    if (keyset_load(&self->keys, self->keys_path, dir, err, sizeof err) < 0)
        log_error("msg=\"keys reload failed, keeping the running keys\" error=\"%s\"", err);
    else
        log_info("msg=\"client keys reloaded\" keys=%zu file=%s", self->keys.n, self->keys_path);
}

void security_destroy(security_t **self_p)
{
    security_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    zwatch_destroy(&self->watch);
    if (self->zap)
        zmq_close(self->zap);
    keyset_free(&self->keys);
    free(self->keys_path);
    explicit_bzero(self->secret, sizeof self->secret);
    free(self);
    *self_p = NULL;
}
