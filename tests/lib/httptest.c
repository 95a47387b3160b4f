/*
 * httptest: a blocking HTTP/1.1 client for the tests (see httptest.h).
 */
#include "httptest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

void ht_free(ht_resp_t *r)
{
    free(r->raw);
    memset(r, 0, sizeof *r);
}

/* A connected socket to HOST:PORT with the hang guard as timeouts, or -1. */
static int connect_to(const char *hostport)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon - hostport >= (long)sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, strcmp(host, "0.0.0.0") ? host : "127.0.0.1", &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {GBD_WAIT_MS / 1000, 0};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *buf, size_t n)
{
    for (size_t sent = 0; sent < n;) {
        ssize_t k = send(fd, buf + sent, n - sent, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        sent += (size_t)k;
    }
    return 0;
}

/* Reads to the end of the stream into a new NUL-terminated buffer; NULL on a timeout. */
static char *recv_all(int fd, size_t *len)
{
    size_t cap = 65536;
    char *buf = malloc(cap);
    *len = 0;
    for (ssize_t k = 1; buf && k > 0;) {
        if (*len + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown)
                break;
            buf = grown;
        }
        k = recv(fd, buf + *len, cap - *len - 1, 0);
        if (k < 0) {
            free(buf);
            return NULL;
        }
        *len += (size_t)k;
    }
    if (buf)
        buf[*len] = '\0';
    return buf;
}

int ht_request(const char *hostport, const char *request, ht_resp_t *r)
{
    size_t len = 0;
    int fd = connect_to(hostport);
    memset(r, 0, sizeof *r);
    if (fd < 0)
        return -1;
    if (send_all(fd, request, strlen(request)) == 0)
        r->raw = recv_all(fd, &len);
    close(fd);
    char *end = r->raw ? strstr(r->raw, "\r\n\r\n") : NULL;
    if (!end || sscanf(r->raw, "HTTP/1.1 %d ", &r->status) != 1) {
        ht_free(r);
        return -1;
    }
    r->body = end + 4;
    r->body_len = len - (size_t)(r->body - r->raw);
    return 0;
}

int ht_get(const char *hostport, const char *path, const char *auth, ht_resp_t *r)
{
    char req[2048];
    snprintf(req, sizeof req,
             "GET %s HTTP/1.1\r\nHost: gridbusd\r\nConnection: close\r\n%s%s%s\r\n", path,
             auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    return ht_request(hostport, req, r);
}

const char *ht_header(const ht_resp_t *r, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    buf[0] = '\0';
    for (const char *p = strstr(r->raw, "\r\n"); p && p + 2 < r->body; p = strstr(p + 2, "\r\n"))
        if (strncasecmp(p + 2, name, n) == 0 && p[2 + n] == ':') {
            const char *v = p + 3 + n + strspn(p + 3 + n, " ");
            snprintf(buf, len, "%.*s", (int)strcspn(v, "\r"), v);
            break;
        }
    return buf;
}
