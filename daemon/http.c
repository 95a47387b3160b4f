/*
 * http: the HTTP endpoint (see http.h for what it serves and why the JSON views run the
 * wire's own ops; docs/HTTP.md is the reference).
 *
 * One generic evhttp callback authorises, checks the method and picks a route. Query
 * parameters become keys of a msgpack request typed by a small table (after and limit as
 * integers, overdue as a boolean, the rest strings); a value that does not read as its
 * type is sent as the string it is, so the op refuses it with its own message and there
 * is no second set of rules here. The op runs with storage_down set: outside a batch
 * there is no write transaction, so a refusal is answered but not kept as a dead letter,
 * and with counters of its own, so HTTP look-ups do not count as ingest nacks.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <zmq.h>

#include "clock.h"
#include "jsonmp.h"
#include "log.h"
#include "metrics.h"
#include "op.h"
#include "wire.h"

#define TOKEN_MAX 1024
#define HEADERS_MAX 16384
#define BODY_MAX 4096
#define IDLE_TIMEOUT_S 30
#define JSON_TYPE "application/json; charset=utf-8"
#define TEXT_TYPE "text/plain; charset=utf-8"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct http {
    http_opts_t o;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    char endpoint[80];
    char *token; /* NULL: no token required */
    size_t token_len;
    bool stopping;
    metrics_t *metrics;
    stats_t op_stats; /* the ops' counters for HTTP look-ups, kept apart from ingest's */
    wire_decoder_t *req_dec, *reply_dec;
    msgpack_sbuffer req, reply, scratch;
    msgpack_packer req_pk;
    task_t *task_scratch;
    struct evbuffer *body;
};

__attribute__((format(printf, 3, 4))) static int failf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- responses ------------------------------------------------------------------- */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Payload Too Large";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* Sends self->body with status and content type; every response goes through here. */
static void respond(http_t *self, struct evhttp_request *req, int status, const char *type)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", type);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
        evbuffer_drain(self->body, evbuffer_get_length(self->body));
    metrics_count_http(self->metrics, status);
    evhttp_send_reply(req, status, reason(status), self->body);
    evbuffer_drain(self->body, evbuffer_get_length(self->body));
}

static void reply_text(http_t *self, struct evhttp_request *req, int status, const char *text)
{
    evbuffer_add_printf(self->body, "%s\n", text);
    respond(self, req, status, TEXT_TYPE);
}

/* Sends j (consumed) as JSON. */
static void reply_json(http_t *self, struct evhttp_request *req, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        reply_text(self, req, 500, "out of memory");
        return;
    }
    evbuffer_add_printf(self->body, "%s\n", text);
    free(text);
    respond(self, req, status, JSON_TYPE);
}

/* {"code": code, "error": message}. */
__attribute__((format(printf, 5, 6))) static void reply_error(http_t *self,
                                                              struct evhttp_request *req,
                                                              int status, const char *code,
                                                              const char *fmt, ...)
{
    char msg[GB_ERROR_MSG_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gb_text_sanitize(msg);
    reply_json(self, req, status, json_pack("{s:s, s:s}", "code", code, "error", msg));
}

/* The HTTP status of a nack code (docs/HTTP.md, "Errors"). */
static int nack_status(gb_code_t code)
{
    switch (code) {
    case GB_E_SCHEMA:
        return 400;
    case GB_E_TASK:
        return 404;
    case GB_E_FORBIDDEN:
        return 403;
    case GB_E_TOO_LARGE:
        return 413;
    case GB_E_STORAGE:
    case GB_E_BUSY:
        return 503;
    default:
        return 500;
    }
}

/* ---- running an op --------------------------------------------------------------- */

/* Runs the request packed in self->req as ingest would. The result map as JSON without
 * "op" (a new reference), or NULL when the reply (the nack's status) was already sent. */
static json_t *run_request(http_t *self, struct evhttp_request *req)
{
    msgpack_packer pk;
    wire_reply_t rep;
    gb_error_t err;
    msgpack_sbuffer_clear(&self->reply);
    msgpack_packer_init(&pk, &self->reply, msgpack_sbuffer_write);
    op_ctx_t ctx = {
        .store = self->o.store,
        .directory = community_directory(self->o.community),
        .community = self->o.community,
        .taskdb = self->o.taskdb,
        .alertdb = self->o.alertdb,
        .cases = self->o.cases,
        .reply = &pk,
        .scratch = &self->scratch,
        .now = clock_now(),
        .storage_down = true, /* no batch, so no writes: refusals are not dead letters */
        .source = "http",
        .max_message = self->o.max_message,
        .max_reply = self->o.max_message * 16,
        .stats = &self->op_stats,
        .task_scratch = self->task_scratch,
    };
    op_frame_t f = {.data = self->req.data, .len = self->req.size};
    json_t *j = NULL;
    if (op_dispatch_request(&ctx, self->req_dec, &f) < 0)
        reply_error(self, req, 503, "E_STORAGE", "%s", store_error(self->o.store));
    else if (wire_decode_reply(self->reply_dec, self->reply.data, self->reply.size, &rep, &err) < 0)
        reply_error(self, req, 500, "E_DECODE", "reply: %s", err.msg);
    else if (rep.op == WIRE_REPLY_NACK)
        reply_error(self, req, nack_status(rep.code), gb_code_name(rep.code), "%.*s",
                    (int)rep.error.len, rep.error.ptr);
    else if (!(j = jsonmp_from_object(rep.root)))
        reply_text(self, req, 500, "out of memory");
    else
        json_object_del(j, "op");
    return j;
}

/* ---- parameters ------------------------------------------------------------------ */

typedef enum { P_STR, P_UINT, P_BOOL } param_type_t;

typedef struct {
    const char *name;
    param_type_t type;
} param_t;

static const param_t tasks_params[] = {{"grid", P_STR},     {"assignee", P_STR}, {"status", P_STR},
                                       {"overdue", P_BOOL}, {"after", P_UINT},   {"limit", P_UINT},
                                       {NULL, P_STR}};
static const param_t stats_params[] = {
    {"month", P_STR}, {"grid", P_STR}, {"assignee", P_STR}, {NULL, P_STR}};
static const param_t audit_params[] = {{"month", P_STR}, {NULL, P_STR}};
static const param_t alerts_params[] = {{"day", P_STR}, {"status", P_STR}, {NULL, P_STR}};
static const param_t no_params[] = {{NULL, P_STR}};

static const param_t *param_find(const param_t *params, const char *name)
{
    for (; params->name; params++)
        if (strcmp(params->name, name) == 0)
            return params;
    return NULL;
}

/* "grid, assignee, ..." for messages. */
static void param_names(const param_t *params, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (; params->name && o < len; params++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? ", " : "", params->name);
    if (!buf[0])
        snprintf(buf, len, "none");
}

/* The parameters of the query string: each known, at most once. The count, or -1 when
 * an error reply was sent. */
static int params_check(http_t *self, struct evhttp_request *req, const struct evkeyvalq *q,
                        const param_t *params)
{
    char known[128];
    int n = 0;
    for (struct evkeyval *kv = q->tqh_first; kv; kv = kv->next.tqe_next, n++) {
        if (!param_find(params, kv->key)) {
            param_names(params, known, sizeof known);
            reply_error(self, req, 400, "E_SCHEMA", "%.64s: unknown parameter (known: %s)", kv->key,
                        known);
            return -1;
        }
        for (struct evkeyval *k2 = q->tqh_first; k2 != kv; k2 = k2->next.tqe_next)
            if (strcmp(k2->key, kv->key) == 0) {
                reply_error(self, req, 400, "E_SCHEMA", "%s: given more than once", kv->key);
                return -1;
            }
    }
    return n;
}

static bool all_digits(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 19) /* 19 digits always fit in 64 bits */
        return false;
    return strspn(s, "0123456789") == n;
}

static void pack_param(msgpack_packer *pk, const param_t *p, const char *value)
{
    wire_pack_cstr(pk, p->name);
    if (p->type == P_UINT && all_digits(value))
        msgpack_pack_uint64(pk, strtoull(value, NULL, 10));
    else if (p->type == P_BOOL && strcmp(value, "true") == 0)
        msgpack_pack_true(pk);
    else if (p->type == P_BOOL && strcmp(value, "false") == 0)
        msgpack_pack_false(pk);
    else
        wire_pack_cstr(pk, value); /* the op says what it must be */
}

/* Packs {op: "query", what, [id], parameters...} into self->req. 0, or -1 when an error
 * reply was sent. */
static int pack_query(http_t *self, struct evhttp_request *req, const char *what, const char *id,
                      const param_t *params)
{
    struct evkeyvalq q = {NULL, NULL};
    const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    q.tqh_last = &q.tqh_first;
    if (query && evhttp_parse_query_str(query, &q) < 0) {
        evhttp_clear_headers(&q);
        reply_error(self, req, 400, "E_SCHEMA", "query string: malformed");
        return -1;
    }
    int n = params_check(self, req, &q, params);
    if (n >= 0) {
        msgpack_sbuffer_clear(&self->req);
        msgpack_pack_map(&self->req_pk, (uint32_t)(2 + (id != NULL) + n));
        wire_pack_cstr(&self->req_pk, "op"), wire_pack_cstr(&self->req_pk, "query");
        wire_pack_cstr(&self->req_pk, "what"), wire_pack_cstr(&self->req_pk, what);
        if (id)
            wire_pack_cstr(&self->req_pk, "id"), wire_pack_cstr(&self->req_pk, id);
        for (struct evkeyval *kv = q.tqh_first; kv; kv = kv->next.tqe_next)
            pack_param(&self->req_pk, param_find(params, kv->key), kv->value);
    }
    evhttp_clear_headers(&q);
    return n < 0 ? -1 : 0;
}

/* ---- handlers -------------------------------------------------------------------- */

typedef void(handler_fn)(http_t *self, struct evhttp_request *req, const char *rest);

static void on_healthz(http_t *self, struct evhttp_request *req, const char *rest)
{
    (void)rest;
    reply_text(self, req, 200, "ok");
}

static void on_readyz(http_t *self, struct evhttp_request *req, const char *rest)
{
    MDB_txn *txn;
    (void)rest;
    if (self->stopping) {
        reply_text(self, req, 503, "stopping");
    } else if (store_read_begin(self->o.store, &txn) != 0) {
        reply_text(self, req, 503, "store not readable");
    } else {
        store_read_end(self->o.store, txn);
        reply_text(self, req, 200, "ready");
    }
}

static void on_metrics(http_t *self, struct evhttp_request *req, const char *rest)
{
    (void)rest;
    if (metrics_render(self->metrics, self->body) == 0) {
        respond(self, req, 200, METRICS_TYPE);
        return;
    }
    evbuffer_drain(self->body, evbuffer_get_length(self->body));
    reply_error(self, req, 503, "E_STORAGE", "metrics: %s", store_error(self->o.store));
}

static void query_and_reply(http_t *self, struct evhttp_request *req, const char *what,
                            const char *id, const param_t *params)
{
    if (pack_query(self, req, what, id, params) < 0)
        return;
    json_t *result = run_request(self, req);
    if (result)
        reply_json(self, req, 200, result);
}

static void on_tasks(http_t *self, struct evhttp_request *req, const char *rest)
{
    (void)rest;
    query_and_reply(self, req, "tasks", NULL, tasks_params);
}

static void on_task(http_t *self, struct evhttp_request *req, const char *id)
{
    query_and_reply(self, req, "task", id, no_params);
}

static void on_stats(http_t *self, struct evhttp_request *req, const char *rest)
{
    (void)rest;
    query_and_reply(self, req, "stats", NULL, stats_params);
}

static void on_alerts(http_t *self, struct evhttp_request *req, const char *rest)
{
    (void)rest;
    query_and_reply(self, req, "alerts", NULL, alerts_params);
}

static void on_alert(http_t *self, struct evhttp_request *req, const char *id)
{
    query_and_reply(self, req, "alert", id, no_params);
}

static void on_audit(http_t *self, struct evhttp_request *req, const char *rest)
{
    (void)rest;
    query_and_reply(self, req, "audit", NULL, audit_params);
}

static bool is_event_id(const char *id)
{
    size_t n = strlen(id);
    return n >= 1 && n <= SCHEMA_ID_MAX &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n;
}

/* The event stored under id, as the replay op's record {seq, received_at, event}. */
static void on_event(http_t *self, struct evhttp_request *req, const char *id)
{
    uint64_t seq;
    json_t *result = NULL;
    if (evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))) {
        reply_error(self, req, 400, "E_SCHEMA", "no parameters are known here");
    } else if (!is_event_id(id) || store_find_id(self->o.store, id, strlen(id), &seq) < 0) {
        reply_error(self, req, 404, "E_NOT_FOUND", "id: no event '%.64s'",
                    is_event_id(id) ? id : "(not an event id)");
    } else {
        msgpack_sbuffer_clear(&self->req);
        wire_pack_replay(&self->req_pk, 0, "events", seq, 1, NULL);
        result = run_request(self, req);
    }
    if (!result)
        return;
    json_t *rec = json_array_get(json_object_get(result, "records"), 0);
    if (!rec || json_integer_value(json_object_get(rec, "seq")) != (json_int_t)seq)
        reply_error(self, req, 503, "E_STORAGE", "event seq %llu: not readable",
                    (unsigned long long)seq);
    else
        reply_json(self, req, 200, json_incref(rec));
    json_decref(result);
}

static void on_unavailable(http_t *self, struct evhttp_request *req, const char *rest)
{
    (void)rest;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    reply_error(self, req, 404, "E_NOT_AVAILABLE", "%s: not available in this version", path);
}

static const struct {
    const char *path;
    bool prefix; /* the rest of the path (non-empty) is the handler's argument */
    handler_fn *fn;
} routes[] = {
    {"/healthz", false, on_healthz},      {"/readyz", false, on_readyz},
    {"/metrics", false, on_metrics},      {"/v1/tasks", false, on_tasks},
    {"/v1/tasks/", true, on_task},        {"/v1/stats", false, on_stats},
    {"/v1/events/", true, on_event},      {"/v1/alerts", false, on_alerts},
    {"/v1/alerts/", true, on_alert},      {"/v1/audit", false, on_audit},
    {"/v1/audit/", true, on_unavailable},
};

/* ---- the request ----------------------------------------------------------------- */

/* Compares in time that depends on the token's length only, never on where they differ. */
static bool token_matches(const http_t *self, const char *got, size_t len)
{
    volatile unsigned char diff = len != self->token_len;
    for (size_t i = 0; i < self->token_len; i++)
        diff |= (unsigned char)(self->token[i] ^ (i < len ? got[i] : 0));
    return diff == 0;
}

static bool authorized(const http_t *self, struct evhttp_request *req)
{
    if (!self->token)
        return true;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!h)
        return false;
    h += strspn(h, " \t");
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return false;
    h += 6 + strspn(h + 6, " \t");
    size_t len = strlen(h);
    while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
        len--;
    return token_matches(self, h, len);
}

/* Finds the route of the decoded path and calls it. */
static void route(http_t *self, struct evhttp_request *req, const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        size_t n = strlen(routes[i].path);
        bool hit = routes[i].prefix ? strncmp(path, routes[i].path, n) == 0 && path[n]
                                    : strcmp(path, routes[i].path) == 0;
        if (hit) {
            routes[i].fn(self, req, path + n);
            return;
        }
    }
    reply_error(self, req, 404, "E_NOT_FOUND", "%.200s: no such resource", path);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    http_t *self = arg;
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    if (!authorized(self, req)) {
        evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"gridbusd\"");
        reply_error(self, req, 401, "E_UNAUTHORIZED",
                    "a valid Authorization: Bearer token is required");
        return;
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        evhttp_add_header(out, "Allow", "GET, HEAD");
        reply_error(self, req, 405, "E_METHOD", "only GET and HEAD are served");
        return;
    }
    const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    size_t len = 0;
    char *path = evhttp_uridecode(raw && *raw ? raw : "/", 0, &len);
    if (!path || strlen(path) != len) /* a %00 in the path names nothing here */
        reply_error(self, req, 404, "E_NOT_FOUND", "no such resource");
    else
        route(self, req, path);
    free(path);
}

/* ---- start ----------------------------------------------------------------------- */

/* Reads the token: one line of visible ASCII; trailing whitespace (the newline) is cut. */
static int load_token(http_t *self, const char *path, char *err, size_t errlen)
{
    char buf[TOKEN_MAX + 2];
    struct stat st;
    if (strcmp(path, "none") == 0)
        return 0;
    if (path[0] != '/')
        return failf(err, errlen, "http.token_file: '%s' must be an absolute path (or none)", path);
    FILE *f = fopen(path, "r");
    if (!f)
        return failf(err, errlen, "http.token_file: cannot read %s: %s", path, strerror(errno));
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH))
        log_warning("msg=\"http.token_file is readable by everyone\" path=%s", path);
    fclose(f);
    while (n && strchr(" \t\r\n", buf[n - 1]))
        n--;
    if (n == 0 || n > TOKEN_MAX)
        return failf(err, errlen, "http.token_file: %s: the token must be 1 to %d bytes", path,
                     TOKEN_MAX);
    for (size_t i = 0; i < n; i++)
        if (buf[i] < 0x21 || buf[i] > 0x7e)
            return failf(err, errlen,
                         "http.token_file: %s: the token must be one line of visible ASCII "
                         "characters, without spaces",
                         path);
    if (!(self->token = strndup(buf, n)))
        return failf(err, errlen, "out of memory");
    self->token_len = n;
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into host and port (config_validate checked the form). */
static int split_endpoint(const char *ep, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon = strrchr(ep, ':');
    if (!colon)
        return -1;
    const char *h = ep;
    size_t n = (size_t)(colon - ep);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
        h++, n -= 2;
    if (n == 0 || n >= hostlen)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = (uint16_t)strtoul(colon + 1, NULL, 10);
    return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24 == 127;
    if (ss->ss_family != AF_INET6)
        return false;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

/* Writes the bound address as HOST:PORT into self->endpoint; is it loopback? */
static int describe_bound(http_t *self, bool *loopback)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN];
    if (getsockname(evhttp_bound_socket_get_fd(self->bound), (struct sockaddr *)&ss, &len) < 0)
        return -1;
    bool v6 = ss.ss_family == AF_INET6;
    const void *addr = v6 ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
                          : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
    unsigned port =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    if (!inet_ntop(ss.ss_family, addr, host, sizeof host))
        return -1;
    snprintf(self->endpoint, sizeof self->endpoint, v6 ? "[%s]:%u" : "%s:%u", host, port);
    *loopback = is_loopback(&ss);
    return 0;
}

static int bind_http(http_t *self, struct event_base *base, char *err, size_t errlen)
{
    char host[256];
    uint16_t port;
    bool loopback = false;
    if (split_endpoint(self->o.endpoint, host, sizeof host, &port) < 0)
        return failf(err, errlen, "endpoints.http: '%s' is not HOST:PORT", self->o.endpoint);
    if (!(self->http = evhttp_new(base)))
        return failf(err, errlen, "out of memory");
    evhttp_set_timeout(self->http, IDLE_TIMEOUT_S);
    evhttp_set_max_headers_size(self->http, HEADERS_MAX);
    evhttp_set_max_body_size(self->http, BODY_MAX);
    evhttp_set_allowed_methods(self->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                               EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_gencb(self->http, on_request, self);
    self->bound = evhttp_bind_socket_with_handle(self->http, host, port);
    if (!self->bound)
        return failf(err, errlen, "endpoints.http: cannot bind %s: %s", self->o.endpoint,
                     evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    if (describe_bound(self, &loopback) < 0)
        return failf(err, errlen, "endpoints.http: cannot read the bound address: %s",
                     strerror(errno));
    if (!loopback && !self->token)
        return failf(err, errlen,
                     "endpoints.http: %s is not a loopback address; set http.token_file (a "
                     "file holding the bearer token every request must present) to serve "
                     "HTTP there, or bind it to 127.0.0.1",
                     self->o.endpoint);
    return 0;
}

static int watch_feeds(http_t *self)
{
    return (self->o.tasks_pub &&
            metrics_watch_feed(self->metrics, self->o.tasks_pub, "tasks") < 0) ||
                   (self->o.alerts_pub &&
                    metrics_watch_feed(self->metrics, self->o.alerts_pub, "alerts") < 0)
               ? -1
               : 0;
}

http_t *http_new(struct event_base *base, const http_opts_t *opts, char *err, size_t errlen)
{
    http_t *self = calloc(1, sizeof *self);
    if (!self)
        return failf(err, errlen, "out of memory"), NULL;
    self->o = *opts;
    msgpack_sbuffer_init(&self->req);
    msgpack_sbuffer_init(&self->reply);
    msgpack_sbuffer_init(&self->scratch);
    msgpack_packer_init(&self->req_pk, &self->req, msgpack_sbuffer_write);
    metrics_opts_t mo = {.store = opts->store,
                         .taskdb = opts->taskdb,
                         .alertdb = opts->alertdb,
                         .cases = opts->cases,
                         .community = opts->community,
                         .stats = opts->stats,
                         .map_size_max = opts->map_size_max};
    self->metrics = metrics_new(base, opts->zctx, &mo);
    self->req_dec = wire_decoder_new();
    self->reply_dec = wire_decoder_new();
    self->task_scratch = malloc(sizeof *self->task_scratch);
    self->body = evbuffer_new();
    if (!self->metrics || !self->req_dec || !self->reply_dec || !self->task_scratch ||
        !self->body) {
        failf(err, errlen, "out of memory");
        goto fail;
    }
    if (load_token(self, opts->token_file, err, errlen) < 0 ||
        bind_http(self, base, err, errlen) < 0)
        goto fail;
    if (watch_feeds(self) < 0) {
        failf(err, errlen, "cannot monitor the feed sockets: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    return self;
fail:
    http_destroy(&self);
    return NULL;
}

void http_destroy(http_t **self_p)
{
    http_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->http)
        evhttp_free(self->http);
    metrics_destroy(&self->metrics);
    wire_decoder_destroy(&self->req_dec);
    wire_decoder_destroy(&self->reply_dec);
    msgpack_sbuffer_destroy(&self->req);
    msgpack_sbuffer_destroy(&self->reply);
    msgpack_sbuffer_destroy(&self->scratch);
    if (self->body)
        evbuffer_free(self->body);
    free(self->task_scratch);
    free(self->token);
    free(self);
    *self_p = NULL;
}

const char *http_endpoint(const http_t *self)
{
    return self->endpoint;
}

void http_set_community(http_t *self, const community_t *community)
{
    self->o.community = community;
    metrics_set_community(self->metrics, community);
}

void http_stopping(http_t *self)
{
    self->stopping = true;
}
