/*
 * test_http: gridbusd's HTTP endpoint against the real daemon (docs/HTTP.md).
 *
 * Health and readiness; the port the kernel chose, written to the endpoints file; the
 * bearer token (required on every request when configured, compared whole, any other
 * credential refused with 401); the refusal to serve a non-loopback address without one;
 * the JSON views, which must equal the query and replay ops' own replies (results and
 * refusals alike), with nack codes mapped to HTTP statuses; and /metrics, held to a strict
 * parser of the Prometheus text format (tests/lib/promtext.h, itself tested here against
 * broken texts) and to what the test did: events by type and result, nacks by code, batch
 * and commit histograms, open and overdue tasks as the query op lists them, feed
 * connections. When promtool is on the PATH, `promtool check metrics` must accept the
 * text too.
 *
 * Time moves only through the daemon's test clock; nothing here sleeps or measures time.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "gbcase.h"
#include "harness.h"
#include "httptest.h"
#include "promtext.h"

/* One timeout for every test of this file. */
#define SUITE_TIMEOUT 120
#define TOKEN "s3cret-Token_42"
/* Monday 2026-03-16 09:00 in Daidong, and a month later (every deadline missed). */
#define MONDAY_MORNING gbc_local(2026, 3, 16, 9, 0)
#define MONTH_LATER gbc_local(2026, 4, 16, 9, 0)

TestSuite(http, .timeout = SUITE_TIMEOUT);

/* ---- requests -------------------------------------------------------------------- */

/* GET path with an optional Authorization value; the response, asserted to have come. */
static ht_resp_t get(const char *ep, const char *path, const char *auth)
{
    ht_resp_t r;
    cr_assert_eq(ht_get(ep, path, auth, &r), 0, "no HTTP response to GET %s", path);
    return r;
}

static json_t *body_json(const ht_resp_t *r)
{
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    cr_assert_not_null(j, "body is not JSON (%s): %s", err.text, r->body);
    return j;
}

/* GET path, checking the status and, when code is given, the JSON error's code: the
 * body's JSON (a new reference). */
static json_t *get_json(const char *ep, const char *path, int status, const char *code)
{
    char type[128];
    ht_resp_t r = get(ep, path, NULL);
    cr_assert_eq(r.status, status, "GET %s: %d, not %d: %s", path, r.status, status, r.body);
    cr_assert_str_eq(ht_header(&r, "Content-Type", type, sizeof type),
                     "application/json; charset=utf-8");
    json_t *j = body_json(&r);
    if (code)
        cr_assert_str_eq(gbc_str(j, "code"), code, "GET %s: %s", path, r.body);
    ht_free(&r);
    return j;
}

/* GET /metrics (with auth, may be NULL), checked strictly: the parsed samples. */
static promtext_t *scrape(const char *ep, const char *auth)
{
    char type[128], why[400];
    ht_resp_t r = get(ep, "/metrics", auth);
    cr_assert_eq(r.status, 200, "/metrics: %d %s", r.status, r.body);
    cr_assert_str_eq(ht_header(&r, "Content-Type", type, sizeof type),
                     "text/plain; version=0.0.4; charset=utf-8");
    promtext_t *p = promtext_parse(r.body, why, sizeof why);
    cr_assert_not_null(p, "not valid Prometheus text: %s\n%s", why, r.body);
    if (system("command -v promtool >/dev/null 2>&1") == 0) {
        FILE *tool = popen("promtool check metrics", "w");
        cr_assert_not_null(tool);
        fwrite(r.body, 1, r.body_len, tool);
        cr_expect_eq(pclose(tool), 0, "promtool check metrics refused:\n%s", r.body);
    }
    ht_free(&r);
    return p;
}

static const char *http_of(const gbd_t *d)
{
    const char *ep = gbd_endpoint(d, "http");
    cr_assert_not_null(ep, "the endpoints file has no http= line");
    return ep;
}

/* ---- the parser's own test --------------------------------------------------------- */

Test(http, strict_parser_accepts_the_format_and_rejects_what_breaks_it)
{
    static const char good[] = "# a plain comment\n"
                               "# HELP a_total A counter, with \\\\ and \\n escaped.\n"
                               "# TYPE a_total counter\n"
                               "a_total{x=\"1\",y=\"q\\\"uo\\\\te\\n\"} 3 1700000000000\n"
                               "a_total{x=\"2\",} 0\n"
                               "\n"
                               "# HELP h A histogram.\n"
                               "# TYPE h histogram\n"
                               "h_bucket{m=\"a\",le=\"0.5\"} 1\n"
                               "h_bucket{m=\"a\",le=\"1\"} 2\n"
                               "h_bucket{le=\"+Inf\",m=\"a\"} 2\n"
                               "h_sum{m=\"a\"} 1.25\n"
                               "h_count{m=\"a\"} 2\n"
                               "# HELP g A gauge.\n"
                               "# TYPE g gauge\n"
                               "g -1.5e-3\n"
                               "g{k=\"v\"} NaN\n";
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"a_total 1\n", "without HELP and TYPE"},
        {"# HELP a_total x\n# TYPE a_total counter\na_total -1\n", "counter must be >= 0"},
        {"# HELP a x\n# TYPE a counter\na 1\n", "must end in _total"},
        {"# HELP g x\n# TYPE g gauge\ng 1", "lines ending"},
        {"# HELP g x\n# TYPE g gauge\ng 1\r\n", "lines ending"},
        {"# HELP g x\n# TYPE g gauge\n1g 1\n", "bad metric name"},
        {"# HELP g x\n# TYPE g gauge\ng 1.2.3\n", "bad value"},
        {"# HELP g x\n# TYPE g gauge\ng one\n", "bad value"},
        {"# HELP g x\n# TYPE g gauge\ng 1 12s\n", "bad timestamp"},
        {"# HELP g x\n# TYPE g gauge\ng{x=\"\\q\"} 1\n", "bad escape"},
        {"# HELP g x\n# TYPE g gauge\ng{x=\"1} 1\n", "unterminated"},
        {"# HELP g x\n# TYPE g gauge\ng{x=\"1\"\n", "expected , or }"},
        {"# HELP g x\n# TYPE g gauge\ng{__x=\"1\"} 1\n", "reserved"},
        {"# HELP g x\n# TYPE g gauge\ng{x=\"1\",x=\"2\"} 1\n", "duplicate label"},
        {"# HELP g x\n# TYPE g gauge\ng{x=1} 1\n", "bad label"},
        {"# HELP g x\n# TYPE g gauge\ng 1\ng 2\n", "duplicate series"},
        {"# HELP g x\n# TYPE g gauge\n# TYPE g gauge\n", "second TYPE"},
        {"# HELP g x\n# TYPE g meter\n", "unknown TYPE"},
        {"# HELP g x\n# HELP g x\n", "second HELP"},
        {"# HELP g a \\t tab\n", "bad escape in HELP"},
        {"# HELP g x\ng 1\n# TYPE g gauge\n", "without HELP and TYPE"},
        {"# TYPE g gauge\ng 1\n", "without HELP and TYPE"},
        {"# HELP g x\n# TYPE g gauge\ng 1\n# HELP f x\n# TYPE f gauge\nf 1\ng{a=\"b\"} 2\n",
         "not in one group"},
        {"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\n"
         "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
         "not cumulative"},
        {"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf"},
        {"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
         "_count != +Inf"},
        {"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "no _sum"},
        {"# HELP h x\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
         "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
         "increasing le"},
        {"# HELP h x\n# TYPE h histogram\nh 1\n", "only _bucket"},
    };
    char why[400];
    promtext_t *p = promtext_parse(good, why, sizeof why);
    cr_assert_not_null(p, "%s", why);
    cr_expect_eq(promtext_get(p, "a_total", "y=\"q\\\"uo\\\\te\\n\",x=\"1\""), 3);
    cr_expect_eq(promtext_get(p, "h_bucket", "m=\"a\",le=\"+Inf\""), 2);
    cr_expect(isnan(promtext_get(p, "g", "k=\"v\"")));
    cr_expect(isnan(promtext_get(p, "g", "k=\"w\"")), "an absent series reads as NaN");
    promtext_free(&p);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = promtext_parse(bad[i].text, why, sizeof why);
        cr_expect_null(p, "accepted: %s", bad[i].text);
        cr_expect(strstr(why, bad[i].why), "'%s' refused for '%s', not '%s'", bad[i].text, why,
                  bad[i].why);
        promtext_free(&p);
    }
}

/* ---- daemons and files ----------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
}

/* A fresh folder under $TMPDIR; rm_tree removes and frees it. */
static char *temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL;
    cr_assert_geq(asprintf(&dir, "%s/gridbusd-http.XXXXXX", tmp && *tmp ? tmp : "/tmp"), 0);
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
    return dir;
}

/* "http.token_file=DIR/http.token", that file holding TOKEN and a newline. */
static void token_setting(const char *dir, char *set, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/http.token", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(TOKEN "\n", f);
    fclose(f);
    chmod(path, 0600);
    snprintf(set, len, "http.token_file=%s", path);
}

/* Starts gridbusd on dir with args, expecting a refusal whose log holds want. */
static void expect_refusal(const char *const *args, const char *want)
{
    char *dir = temp_dir(), path[600], log[16384];
    gbd_t *d = gbd_start(dir, args);
    cr_assert_null(d, "gridbusd started, though it should refuse (%s)", want);
    snprintf(path, sizeof path, "%s/gridbusd.log", dir);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(log, 1, sizeof log - 1, f) : 0;
    log[n] = '\0';
    if (f)
        fclose(f);
    cr_expect(strstr(log, want), "the log does not say '%s':\n%s", want, log);
    rm_tree(dir);
}

/* ---- health, the endpoint, methods ----------------------------------------------- */

Test(http, health_readiness_and_the_bound_port)
{
    char buf[128];
    gbd_t *d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start");
    const char *ep = http_of(d);
    unsigned port = 0;
    char tail;
    cr_assert_eq(sscanf(ep, "127.0.0.1:%u%c", &port, &tail), 1, "http=%s", ep);
    cr_assert(port > 0 && port < 65536, "http=%s: the kernel's port, not 0", ep);

    ht_resp_t r = get(ep, "/healthz", NULL);
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(r.body, "ok\n");
    cr_expect_str_eq(ht_header(&r, "Content-Type", buf, sizeof buf), "text/plain; charset=utf-8");
    ht_free(&r);
    r = get(ep, "/readyz", NULL);
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(r.body, "ready\n");
    ht_free(&r);

    cr_assert_eq(
        ht_request(ep, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &r), 0);
    cr_expect_eq(r.status, 200);
    cr_expect_eq(r.body_len, 0, "HEAD sent a body: %s", r.body);
    ht_free(&r);
    cr_assert_eq(ht_request(ep,
                            "POST /v1/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                            "Content-Length: 2\r\n\r\n{}",
                            &r),
                 0);
    cr_expect_eq(r.status, 405);
    cr_expect_str_eq(ht_header(&r, "Allow", buf, sizeof buf), "GET, HEAD");
    json_t *j = body_json(&r);
    cr_expect_str_eq(gbc_str(j, "code"), "E_METHOD");
    json_decref(j);
    ht_free(&r);
    json_decref(get_json(ep, "/nope", 404, "E_NOT_FOUND"));
    json_decref(get_json(ep, "/healthz/x", 404, "E_NOT_FOUND"));
    json_decref(get_json(ep, "/v1/tasks%00", 404, "E_NOT_FOUND"));
    cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly");
}

/* ---- the bearer token ------------------------------------------------------------ */

Test(http, bearer_token_is_required_on_every_request)
{
    static const char *const paths[] = {"/healthz",      "/readyz",    "/metrics", "/v1/tasks",
                                        "/v1/tasks/t-1", "/v1/alerts", "/nope"};
    static const char *const refused[] = {
        "Bearer wrong", "Bearer " TOKEN "x", "Bearer s3cret-Token_4",
        "Bearer",       "Bearer ",           "Basic " TOKEN,
        TOKEN,          "Token " TOKEN,      "Bearer " TOKEN " extra"};
    static const char *const accepted[] = {"Bearer " TOKEN, "bearer " TOKEN, "BEARER   " TOKEN};
    char *dir = temp_dir(), set[600], buf[128];
    token_setting(dir, set, sizeof set);
    const char *args[] = {"--set", set, NULL};
    gbd_t *d = gbd_start(NULL, args);
    cr_assert_not_null(d, "gridbusd did not start with %s", set);
    const char *ep = http_of(d);

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        ht_resp_t r = get(ep, paths[i], NULL);
        cr_expect_eq(r.status, 401, "%s without a token: %d", paths[i], r.status);
        cr_expect_str_eq(ht_header(&r, "WWW-Authenticate", buf, sizeof buf),
                         "Bearer realm=\"gridbusd\"");
        json_t *j = body_json(&r);
        cr_expect_str_eq(gbc_str(j, "code"), "E_UNAUTHORIZED");
        json_decref(j);
        ht_free(&r);
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ht_resp_t r = get(ep, "/healthz", refused[i]);
        cr_expect_eq(r.status, 401, "Authorization: %s was accepted", refused[i]);
        ht_free(&r);
    }
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        ht_resp_t r = get(ep, "/v1/tasks", accepted[i]);
        cr_expect_eq(r.status, 200, "Authorization: %s: %d %s", accepted[i], r.status, r.body);
        ht_free(&r);
    }
    promtext_t *p = scrape(ep, "Bearer " TOKEN);
    cr_expect_eq(promtext_get(p, "gridbus_http_responses_total", "code=\"401\""),
                 (double)(sizeof paths / sizeof paths[0] + sizeof refused / sizeof refused[0]));
    promtext_free(&p);
    cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly");
    rm_tree(dir);
}

Test(http, non_loopback_address_needs_a_token)
{
    /* Refused by whichever rule looks first (the security module's loopback rule or the
     * HTTP module's token rule): either names endpoints.http. */
    const char *plain[] = {"--set", "endpoints.http=0.0.0.0:0", NULL};
    expect_refusal(plain, "endpoints.http: ");
    /* Past the security module's rule, the HTTP rule still wants a token. */
    const char *insecure[] = {"--set", "endpoints.http=0.0.0.0:0", "--set",
                              "security.allow_insecure_remote=true", NULL};
    expect_refusal(insecure, "not a loopback address; set http.token_file");
    const char *relative[] = {"--set", "http.token_file=http.token", NULL};
    expect_refusal(relative, "http.token_file: 'http.token' must be an absolute path");
    const char *missing[] = {"--set", "http.token_file=/nonexistent/http.token", NULL};
    expect_refusal(missing, "http.token_file: cannot read /nonexistent/http.token");
}

Test(http, non_loopback_address_with_a_token_is_served)
{
    char *dir = temp_dir(), set[600];
    token_setting(dir, set, sizeof set);
    const char *args[] = {"--set", "endpoints.http=0.0.0.0:0",
                          "--set", set,
                          "--set", "security.allow_insecure_remote=true",
                          NULL};
    gbd_t *d = gbd_start(NULL, args);
    cr_assert_not_null(d, "gridbusd did not serve 0.0.0.0 with a token");
    const char *ep = http_of(d);
    cr_expect(!strncmp(ep, "0.0.0.0:", 8) && strcmp(ep, "0.0.0.0:0"), "http=%s", ep);
    ht_resp_t r = get(ep, "/readyz", NULL);
    cr_expect_eq(r.status, 401);
    ht_free(&r);
    r = get(ep, "/readyz", "Bearer " TOKEN);
    cr_expect_eq(r.status, 200, "%s", r.body);
    ht_free(&r);
    cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly");
    rm_tree(dir);
}

/* ---- metrics --------------------------------------------------------------------- */

static gbc_t *t;

static void start_case_daemon(void)
{
    t = gbc_start(NULL, NULL);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    cr_assert_eq(gbc_clock(t, MONDAY_MORNING), 0, "clock: %s", gbt_show(t->c));
}

static void stop_case_daemon(void)
{
    cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

/* How many tasks the query op lists for req (a gbc_json text, one page is enough). */
static size_t listed(const char *req)
{
    const json_t *res = gbc_query(t, gbc_json(req));
    cr_assert_not_null(res, "%s: %s", req, gbt_show(t->c));
    return json_array_size(json_object_get(res, "tasks"));
}

Test(http, metrics_are_valid_prometheus_text_and_count_what_happened)
{
    start_case_daemon();
    const char *ep = http_of(t->d);
    promtext_t *p = scrape(ep, NULL);
    cr_expect_eq(promtext_get(p, "gridbus_build_info", "version=\"0.1.0\",protocol=\"1\""), 1);
    cr_expect_eq(promtext_get(p, "gridbus_events_head", ""), 0);
    cr_expect_eq(promtext_get(p, "gridbus_tasks_open", "grid=\"g1\""), 0);
    promtext_free(&p);

    cr_assert(gbc_open(t, "repair.requested", "chen.jing", "g1", "{'category':'water'}"),
              "repair not acked: %s", gbt_show(t->c));
    json_t *visit = gbc_field(t, "visit.logged", "gong.xiujuan", "g1", NULL);
    cr_assert(gbt_is_ack(gbt_publish(t->c, visit), gbc_str(visit, "id")), "%s", gbt_show(t->c));
    const wire_reply_t *again = gbt_publish(t->c, visit);
    cr_assert(again && again->op == WIRE_REPLY_ACK && again->dup, "%s", gbt_show(t->c));
    json_decref(visit);
    cr_assert_not(gbc_publish(t, gbc_field(t, "visit.logged", "nobody", "g1", NULL)));
    cr_assert(gbt_is_nack(&t->c->rep, GB_E_MEMBER), "%s", gbt_show(t->c));
    cr_assert_eq(gbc_clock(t, MONTH_LATER), 0, "clock: %s", gbt_show(t->c));
    size_t open = listed("{'what':'tasks','grid':'g1'}");
    size_t overdue = listed("{'what':'tasks','grid':'g1','overdue':true}");
    cr_assert(open >= 1 && overdue >= 1, "the repair's task is open and overdue");

    p = scrape(ep, NULL);
    cr_expect_eq(
        promtext_get(p, "gridbus_events_total", "type=\"repair.requested\",result=\"stored\""), 1);
    cr_expect_eq(promtext_get(p, "gridbus_events_total", "type=\"visit.logged\",result=\"stored\""),
                 1);
    cr_expect_eq(promtext_get(p, "gridbus_nacks_total", "code=\"E_MEMBER\""), 1);
    cr_expect_eq(promtext_get(p, "gridbus_nacks_total", "code=\"E_SCHEMA\""), 0);
    cr_expect_eq(promtext_get(p, "gridbus_dead_letters", ""), 1);
    cr_expect_eq(promtext_get(p, "gridbus_events_head", ""), (double)gbt_head(t->c));
    cr_expect_eq(promtext_get(p, "gridbus_tasks_open", "grid=\"g1\""), (double)open);
    cr_expect_eq(promtext_get(p, "gridbus_tasks_overdue", "grid=\"g1\""), (double)overdue);
    cr_expect_eq(promtext_get(p, "gridbus_tasks_open", "grid=\"-\""), 0);
    /* The repair's task missed its deadlines: its task-overdue alert waits on a lead; no
     * ledger entry came, so no self-approval alert. */
    cr_expect_geq(promtext_get(p, "gridbus_alerts_open", "rule=\"task-overdue\""), 1);
    cr_expect_eq(promtext_get(p, "gridbus_alerts_open", "rule=\"self-approval\""), 0);
    cr_expect_eq(promtext_get(p, "gridbus_alerts_open", "rule=\"-\""), 0);
    cr_expect_geq(promtext_get(p, "gridbus_tasks_opened_total", ""), 1);
    cr_expect_geq(promtext_get(p, "gridbus_task_deadlines_missed_total", ""), 1);
    /* The client waits for every reply, so each request was a batch of its own. */
    double requests = promtext_get(p, "gridbus_requests_total", "");
    cr_expect_geq(requests, 6);
    cr_expect_eq(promtext_get(p, "gridbus_batch_size_count", ""), requests);
    cr_expect_eq(promtext_get(p, "gridbus_batch_size_sum", ""), requests);
    cr_expect_eq(promtext_get(p, "gridbus_batch_size_bucket", "le=\"1\""), requests);
    cr_expect_eq(promtext_get(p, "gridbus_commit_duration_seconds_count", ""), requests);
    cr_expect_gt(promtext_get(p, "gridbus_commit_duration_seconds_sum", ""), 0);
    double used = promtext_get(p, "gridbus_store_map_used_bytes", "");
    cr_expect(used > 0 && used <= promtext_get(p, "gridbus_store_map_size_bytes", ""));
    cr_expect_eq(promtext_get(p, "gridbus_feed_connections", "feed=\"tasks\""), 0);
    promtext_free(&p);
    stop_case_daemon();
}

Test(http, feed_connections_count_the_connected_subscribers)
{
    start_case_daemon();
    void *sub = gbt_connect(t->zctx, ZMQ_SUB, gbd_endpoint(t->d, "tasks"));
    cr_assert_not_null(sub);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "hb/", 3);
    gbt_msg_t hb = {0};
    /* A heartbeat received proves the connection was accepted. */
    cr_assert_eq(gbt_recv_msg(sub, &hb), 0, "no heartbeat on the task feed: %s", gbt_why());
    gbt_msg_free(&hb);
    promtext_t *p = scrape(http_of(t->d), NULL);
    cr_expect_eq(promtext_get(p, "gridbus_feed_connections", "feed=\"tasks\""), 1);
    cr_expect_eq(promtext_get(p, "gridbus_feed_connections", "feed=\"alerts\""), 0);
    promtext_free(&p);
    gbt_close(sub);
    stop_case_daemon();
}

/* ---- the JSON views -------------------------------------------------------------- */

/* The op's reply to req (a gbc_json text) without op and rid: a result or a nack. */
static json_t *op_reply(const char *req)
{
    json_t *j = gbc_json(req);
    cr_assert_not_null(j, "bad JSON: %s", req);
    json_object_set_new(j, "op", json_string("query"));
    cr_assert_not_null(gbt_call_json(t->c, j), "no reply to %s", req);
    json_decref(j);
    json_t *reply = json_deep_copy(t->c->json);
    json_object_del(reply, "op");
    json_object_del(reply, "rid");
    return reply;
}

/* GET path must answer status with exactly the op's reply to req. */
static void expect_mirror(const char *path, int status, const char *req)
{
    json_t *http = get_json(http_of(t->d), path, status, NULL), *op = op_reply(req);
    char *a = json_dumps(http, JSON_SORT_KEYS), *b = json_dumps(op, JSON_SORT_KEYS);
    cr_expect(json_equal(http, op), "GET %s:\n%s\nthe op's reply to %s:\n%s", path, a, req, b);
    free(a), free(b);
    json_decref(http), json_decref(op);
}

Test(http, json_views_equal_the_query_and_replay_ops)
{
    char path[128], req[128];
    start_case_daemon();
    uint64_t seq = gbc_open(t, "repair.requested", "chen.jing", "g1", "{'category':'water'}");
    cr_assert(seq, "%s", gbt_show(t->c));
    cr_assert(gbc_open(t, "repair.requested", "chen.jing", "g2", "{'category':'gas'}"));
    cr_assert(gbc_open(t, "patrol.issue_found", "li.qiang", "g1", NULL));
    expect_mirror("/v1/tasks", 200, "{'what':'tasks'}");
    expect_mirror("/v1/tasks?grid=g1&status=all&limit=1", 200,
                  "{'what':'tasks','grid':'g1','status':'all','limit':1}");
    expect_mirror("/v1/tasks?grid=%67%31&after=1", 200, "{'what':'tasks','grid':'g1','after':1}");
    expect_mirror("/v1/tasks?assignee=helper.g1.1&overdue=false", 200,
                  "{'what':'tasks','assignee':'helper.g1.1','overdue':false}");
    cr_assert_eq(gbc_clock(t, MONTH_LATER), 0);
    expect_mirror("/v1/tasks?overdue=true", 200, "{'what':'tasks','overdue':true}");
    snprintf(path, sizeof path, "/v1/tasks/t-%" PRIu64, seq);
    snprintf(req, sizeof req, "{'what':'task','id':'t-%" PRIu64 "'}", seq);
    expect_mirror(path, 200, req);
    expect_mirror("/v1/stats?month=2026-03", 200, "{'what':'stats','month':'2026-03'}");
    expect_mirror("/v1/stats?month=2026-03&grid=g1&assignee=helper.g1.1", 200,
                  "{'what':'stats','month':'2026-03','grid':'g1','assignee':'helper.g1.1'}");

    json_t *records = gbt_replay_all(t->c, 1);
    cr_assert(json_array_size(records) >= 3, "%s", gbt_why());
    for (size_t i = 0; i < json_array_size(records); i++) {
        json_t *rec = json_array_get(records, i);
        snprintf(path, sizeof path, "/v1/events/%s", gbc_str(json_object_get(rec, "event"), "id"));
        json_t *http = get_json(http_of(t->d), path, 200, NULL);
        cr_expect(json_equal(http, rec), "GET %s is not the replayed record", path);
        json_decref(http);
    }
    json_decref(records);
    stop_case_daemon();
}

Test(http, json_errors_map_nack_codes_to_statuses)
{
    static const struct {
        const char *path;
        int status;
        const char *req; /* the same look-up on the wire: the same refusal */
    } mirrored[] = {
        {"/v1/tasks/t-999", 404, "{'what':'task','id':'t-999'}"},
        {"/v1/tasks/x", 404, "{'what':'task','id':'x'}"},
        {"/v1/tasks?limit=0", 400, "{'what':'tasks','limit':0}"},
        {"/v1/tasks?limit=501", 400, "{'what':'tasks','limit':501}"},
        {"/v1/tasks?after=x", 400, "{'what':'tasks','after':'x'}"},
        {"/v1/tasks?overdue=1", 400, "{'what':'tasks','overdue':'1'}"},
        {"/v1/tasks?status=bogus", 400, "{'what':'tasks','status':'bogus'}"},
        {"/v1/stats", 400, "{'what':'stats'}"},
        {"/v1/stats?month=2026-13", 400, "{'what':'stats','month':'2026-13'}"},
        {"/v1/alerts", 400, "{'what':'alerts'}"},
        {"/v1/alerts/a-999", 404, "{'what':'alert','id':'a-999'}"},
        {"/v1/alerts?day=2026-11-27", 200, "{'what':'alerts','day':'2026-11-27'}"},
    };
    static const struct {
        const char *path, *code, *error;
    } own[] = {
        {"/v1/tasks?asignee=x", "E_SCHEMA", "asignee: unknown parameter"},
        {"/v1/tasks?grid=g1&grid=g2", "E_SCHEMA", "grid: given more than once"},
        {"/v1/tasks/t-1?grid=g1", "E_SCHEMA", "grid: unknown parameter (known: none)"},
        {"/v1/events/nope", "E_NOT_FOUND", "id: no event 'nope'"},
        {"/v1/events/bad%20id", "E_NOT_FOUND", "id: no event '(not an event id)'"},
        {"/v1/audit/x", "E_NOT_AVAILABLE", "/v1/audit/x: not available in this version"},
        {"/v1/audit", "E_SCHEMA", "month: required for what=audit"},
    };
    start_case_daemon();
    const char *ep = http_of(t->d);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
        json_t *j = get_json(ep, own[i].path, own[i].code[2] == 'S' ? 400 : 404, own[i].code);
        cr_expect(!strncmp(gbc_str(j, "error"), own[i].error, strlen(own[i].error)), "GET %s: %s",
                  own[i].path, gbc_str(j, "error"));
        json_decref(j);
    }
    for (size_t i = 0; i < sizeof mirrored / sizeof mirrored[0]; i++)
        json_decref(get_json(ep, mirrored[i].path, mirrored[i].status, NULL));
    /* Look-ups over HTTP are neither ingest nacks nor dead letters. */
    promtext_t *p = scrape(ep, NULL);
    cr_expect_eq(promtext_get(p, "gridbus_nacks_total", "code=\"E_SCHEMA\""), 0);
    cr_expect_eq(promtext_get(p, "gridbus_nacks_total", "code=\"E_TASK\""), 0);
    cr_expect_eq(promtext_get(p, "gridbus_dead_letters", ""), 0);
    promtext_free(&p);
    for (size_t i = 0; i < sizeof mirrored / sizeof mirrored[0]; i++)
        expect_mirror(mirrored[i].path, mirrored[i].status, mirrored[i].req);
    stop_case_daemon();
}
