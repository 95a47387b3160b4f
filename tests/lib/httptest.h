/*
 * httptest: a tiny blocking HTTP/1.1 client for end-to-end tests of gridbusd's HTTP
 * endpoint: one request per connection (Connection: close), the response read to the end.
 *
 * A receive and send timeout of GBD_WAIT_MS is the hang guard; nothing sleeps. Bodies are
 * read whole (gridbusd answers with Content-Length, never chunked). Free of Criterion,
 * like gbtest: -1 on failure.
 */
#ifndef GB_TEST_HTTPTEST_H
#define GB_TEST_HTTPTEST_H

#include <stddef.h>

typedef struct {
    int status;
    char *raw;  /* the whole response, NUL-terminated */
    char *body; /* into raw, after the headers */
    size_t body_len;
} ht_resp_t;

/* Sends request (the whole text) to HOST:PORT (0.0.0.0 means this machine, 127.0.0.1)
 * and reads the response. 0, or -1 (nothing to free). */
int ht_request(const char *hostport, const char *request, ht_resp_t *r);

/* GET path, with "Authorization: auth" when auth is not NULL. */
int ht_get(const char *hostport, const char *path, const char *auth, ht_resp_t *r);

/* The value of header name ("" when absent), copied into buf. */
const char *ht_header(const ht_resp_t *r, const char *name, char *buf, size_t len);

void ht_free(ht_resp_t *r);

#endif
