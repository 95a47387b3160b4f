/*
 * gbtest: ZeroMQ and msgpack plumbing for the end-to-end tests (see gbtest.h).
 *
 * Kept free of Criterion so a failure is reported by the test that called, with the
 * reason from gbt_why(), and so benches and other tools can link it too.
 */
#include "gbtest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

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

const char *gbt_why(void)
{
    return why;
}

/* ---- events ---- */

const char *const gbt_types[] = {"visit.logged",           "repair.requested", "patrol.issue_found",
                                 "ledger.entry_submitted", "task.accepted",    "task.progress",
                                 "task.completed",         "task.returned",    "task.verified",
                                 "alert.acknowledged",     "alert.resolved",   NULL};

json_t *gbt_body(const char *type)
{
    if (!strcmp(type, "visit.logged"))
        return json_pack("{s:s, s:s}", "household", "3-2-401", "summary", "weekly visit");
    if (!strcmp(type, "repair.requested"))
        return json_pack("{s:s, s:s, s:s}", "household", "3-2-401", "category", "water",
                         "description", "kitchen pipe leaks");
    if (!strcmp(type, "patrol.issue_found"))
        return json_pack("{s:s, s:s, s:s}", "category", "fire_hazard", "severity", "high",
                         "description", "bikes block the fire exit");
    if (!strcmp(type, "ledger.entry_submitted"))
        return json_pack("{s:s, s:s, s:I, s:s, s:s}", "entry", "L-2026-0001", "direction",
                         "expense", "amount_fen", (json_int_t)12000, "category", "repairs",
                         "counterparty", "Daidong hardware shop");
    if (!strcmp(type, "task.accepted"))
        return json_pack("{s:s}", "task", "t-unknown-1");
    if (!strcmp(type, "task.progress"))
        return json_pack("{s:s, s:s}", "task", "t-unknown-1", "note", "parts ordered");
    if (!strcmp(type, "task.completed"))
        return json_pack("{s:s, s:s}", "task", "t-unknown-1", "outcome", "pipe replaced");
    if (!strcmp(type, "task.returned"))
        return json_pack("{s:s, s:s}", "task", "t-unknown-1", "reason", "not ours");
    if (!strcmp(type, "task.verified"))
        return json_pack("{s:s, s:b}", "task", "t-unknown-1", "ok", 1);
    if (!strcmp(type, "alert.acknowledged") || !strcmp(type, "alert.resolved"))
        return json_pack("{s:s}", "alert", "a-unknown-1");
    return json_object();
}

json_t *gbt_event(const char *type, const char *id)
{
    json_t *body = gbt_body(type);
    if (!strcmp(type, "ledger.entry_submitted")) /* one ledger entry per event */
        json_object_set_new(body, "entry", json_string(id));
    return json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "v", 1, "id", id, "type", type,
                     "at", (json_int_t)GBT_AT, "by", "li.qiang", "grid", "g1", "place",
                     "Building 3, unit 2", "body", body);
}

/* ---- sockets ---- */

#define GBT_MAX_SOCKETS 64
static void *open_sockets[GBT_MAX_SOCKETS];

void *gbt_socket(void *ctx, int type)
{
    int slot = 0;
    while (slot < GBT_MAX_SOCKETS && open_sockets[slot])
        slot++;
    void *s = slot < GBT_MAX_SOCKETS ? zmq_socket(ctx, type) : NULL;
    int zero = 0, wait = GBT_WAIT_MS;
    if (!s) {
        fail("zmq_socket: %s", slot < GBT_MAX_SOCKETS ? zmq_strerror(errno) : "too many open");
        return NULL;
    }
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &wait, sizeof wait);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &wait, sizeof wait);
    open_sockets[slot] = s;
    return s;
}

void *gbt_connect(void *ctx, int type, const char *endpoint)
{
    void *s = gbt_socket(ctx, type);
    if (s && (!endpoint || zmq_connect(s, endpoint) < 0)) {
        fail("zmq_connect %s: %s", endpoint ? endpoint : "(null)", zmq_strerror(errno));
        gbt_close(s);
        return NULL;
    }
    return s;
}

void gbt_close(void *sock)
{
    for (int i = 0; sock && i < GBT_MAX_SOCKETS; i++)
        if (open_sockets[i] == sock)
            open_sockets[i] = NULL;
    if (sock)
        zmq_close(sock);
}

void gbt_close_all(void)
{
    for (int i = 0; i < GBT_MAX_SOCKETS; i++)
        if (open_sockets[i]) {
            zmq_close(open_sockets[i]);
            open_sockets[i] = NULL;
        }
}

int gbt_send_frames(void *sock, size_t n, const void *const *bufs, const size_t *lens)
{
    for (size_t i = 0; i < n; i++)
        if (zmq_send(sock, bufs[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
            return fail("zmq_send frame %zu of %zu: %s", i + 1, n, zmq_strerror(errno));
    return 0;
}

void gbt_msg_free(gbt_msg_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->data[i]);
    m->n = 0;
}

/* Receives one frame into m (dropping frames past GBT_MAX_FRAMES); returns ZMQ_RCVMORE. */
static int recv_frame(void *sock, gbt_msg_t *m, bool *more)
{
    zmq_msg_t f;
    zmq_msg_init(&f);
    if (zmq_msg_recv(&f, sock, 0) < 0) {
        zmq_msg_close(&f);
        return fail("no reply within %d ms (%s)", GBT_WAIT_MS, zmq_strerror(errno));
    }
    if (m->n < GBT_MAX_FRAMES) {
        size_t len = zmq_msg_size(&f);
        m->data[m->n] = malloc(len ? len : 1);
        memcpy(m->data[m->n], zmq_msg_data(&f), len);
        m->len[m->n++] = len;
    }
    *more = zmq_msg_more(&f);
    zmq_msg_close(&f);
    return 0;
}

int gbt_recv_msg(void *sock, gbt_msg_t *m)
{
    bool more = true;
    gbt_msg_free(m);
    while (more)
        if (recv_frame(sock, m, &more) < 0)
            return -1;
    return 0;
}

/* ---- the client ---- */

gbt_client_t *gbt_client_new(void *ctx, const char *endpoint)
{
    gbt_client_t *c = calloc(1, sizeof *c);
    c->sock = gbt_connect(ctx, ZMQ_DEALER, endpoint);
    c->dec = wire_decoder_new();
    if (!c->sock || !c->dec) {
        gbt_client_free(&c);
        return NULL;
    }
    return c;
}

void gbt_client_free(gbt_client_t **c_p)
{
    gbt_client_t *c = *c_p;
    if (!c)
        return;
    gbt_close(c->sock);
    if (c->dec)
        wire_decoder_destroy(&c->dec);
    json_decref(c->json);
    gbt_msg_free(&c->msg);
    free(c);
    *c_p = NULL;
}

const wire_reply_t *gbt_recv_reply(gbt_client_t *c)
{
    gb_error_t err;
    json_decref(c->json);
    c->json = NULL;
    if (gbt_recv_msg(c->sock, &c->msg) < 0)
        return NULL;
    if (c->msg.n != 1)
        return fail("reply has %zu frames, want 1", c->msg.n), NULL;
    if (wire_decode_reply(c->dec, c->msg.data[0], c->msg.len[0], &c->rep, &err) < 0)
        return fail("reply does not decode: %s %s", gb_code_name(err.code), err.msg), NULL;
    c->json = jsonmp_from_object(c->rep.root);
    return &c->rep;
}

const wire_reply_t *gbt_call_raw(gbt_client_t *c, const void *buf, size_t len)
{
    if (zmq_send(c->sock, buf, len, 0) < 0)
        return fail("zmq_send: %s", zmq_strerror(errno)), NULL;
    return gbt_recv_reply(c);
}

const wire_reply_t *gbt_call_json(gbt_client_t *c, const json_t *j)
{
    msgpack_sbuffer sb;
    jsonmp_pack_sbuffer(j, &sb);
    const wire_reply_t *r = gbt_call_raw(c, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return r;
}

void gbt_pack_publish(msgpack_sbuffer *sb, uint64_t rid, const json_t *event)
{
    msgpack_sbuffer ev;
    msgpack_packer pk;
    jsonmp_pack_sbuffer(event, &ev);
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    wire_pack_publish(&pk, rid, ev.data, ev.size);
    msgpack_sbuffer_destroy(&ev);
}

const wire_reply_t *gbt_publish(gbt_client_t *c, const json_t *event)
{
    msgpack_sbuffer req;
    gbt_pack_publish(&req, ++c->rid, event);
    const wire_reply_t *r = gbt_call_raw(c, req.data, req.size);
    msgpack_sbuffer_destroy(&req);
    return r;
}

const wire_reply_t *gbt_ping(gbt_client_t *c)
{
    msgpack_sbuffer req;
    msgpack_packer pk;
    msgpack_sbuffer_init(&req);
    msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
    wire_pack_ping(&pk, ++c->rid);
    const wire_reply_t *r = gbt_call_raw(c, req.data, req.size);
    msgpack_sbuffer_destroy(&req);
    return r;
}

int64_t gbt_head(gbt_client_t *c)
{
    const wire_reply_t *r = gbt_ping(c);
    if (!r)
        return -1;
    if (r->op != WIRE_REPLY_PONG || !gbt_rid_is(r, c->rid))
        return fail("ping: want a pong with rid %" PRIu64 ", got %s", c->rid, gbt_show(c));
    json_t *h = json_object_get(json_object_get(c->json, "heads"), "events");
    if (!json_is_integer(h))
        return fail("pong without an integer heads.events: %s", gbt_show(c));
    return json_integer_value(h);
}

/* One page of replay; appends its records to out and sets *next. 0, or -1. */
static int replay_page(gbt_client_t *c, uint64_t from, json_t *out, uint64_t *next, size_t *n)
{
    msgpack_sbuffer req;
    msgpack_packer pk;
    msgpack_sbuffer_init(&req);
    msgpack_packer_init(&pk, &req, msgpack_sbuffer_write);
    wire_pack_replay(&pk, ++c->rid, "events", from, WIRE_REPLAY_LIMIT_MAX, NULL);
    const wire_reply_t *r = gbt_call_raw(c, req.data, req.size);
    msgpack_sbuffer_destroy(&req);
    if (!r)
        return -1;
    if (r->op != WIRE_REPLY_RECORDS || !r->records || r->records->type != MSGPACK_OBJECT_ARRAY ||
        !gbt_rid_is(r, c->rid))
        return fail("replay from %" PRIu64 ": want records, got %s", from, gbt_show(c));
    *n = r->records->via.array.size;
    for (size_t i = 0; i < *n; i++)
        json_array_append_new(out, jsonmp_from_object(&r->records->via.array.ptr[i]));
    *next = r->next;
    return 0;
}

json_t *gbt_replay_all(gbt_client_t *c, uint64_t from)
{
    json_t *out = json_array();
    for (int pages = 0; pages < 100000; pages++) {
        uint64_t next = 0;
        size_t n = 0;
        if (replay_page(c, from, out, &next, &n) < 0)
            break;
        if (n == 0)
            return out;
        if (next <= from) {
            fail("replay from %" PRIu64 " returned %zu records but next %" PRIu64, from, n, next);
            break;
        }
        from = next;
    }
    json_decref(out);
    return NULL;
}

/* ---- checks ---- */

bool gbt_str_is(gb_str_t s, const char *want)
{
    return s.ptr && strlen(want) == s.len && memcmp(s.ptr, want, s.len) == 0;
}

bool gbt_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool gbt_rid_is(const wire_reply_t *r, uint64_t rid)
{
    return r->rid && r->rid->type == MSGPACK_OBJECT_POSITIVE_INTEGER && r->rid->via.u64 == rid;
}

bool gbt_is_ack(const wire_reply_t *r, const char *id)
{
    return r && r->op == WIRE_REPLY_ACK && gbt_str_is(r->id, id);
}

bool gbt_is_nack(const wire_reply_t *r, gb_code_t code)
{
    return r && r->op == WIRE_REPLY_NACK && r->code == code;
}

const char *gbt_show(const gbt_client_t *c)
{
    static char buf[1024];
    char *s = c->json ? json_dumps(c->json, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    snprintf(buf, sizeof buf, "%s", s ? s : why[0] ? why : "(no reply)");
    free(s);
    return buf;
}

json_t *gbt_acked_new(void)
{
    return json_object();
}

int gbt_acked_add(json_t *acked, const char *id, uint64_t seq, const json_t *event)
{
    json_t *old = json_object_get(acked, id);
    if (old) {
        json_int_t was = json_integer_value(json_object_get(old, "seq"));
        if ((uint64_t)was != seq)
            return fail("id %s acked with seq %lld, then with %" PRIu64, id, (long long)was, seq);
        return 0;
    }
    json_t *e = json_pack("{s:I}", "seq", (json_int_t)seq);
    if (event)
        json_object_set(e, "event", (json_t *)event);
    json_object_set_new(acked, id, e);
    return 0;
}

int gbt_publish_acked(gbt_client_t *c, json_t *acked, const json_t *event)
{
    const char *id = json_string_value(json_object_get(event, "id"));
    const wire_reply_t *r = gbt_publish(c, event);
    if (!r)
        return -1;
    if (!gbt_is_ack(r, id) || r->dup || !gbt_rid_is(r, c->rid))
        return fail("publish %s: want an ack with dup false and rid %" PRIu64 ", got %s",
                    id ? id : "?", c->rid, gbt_show(c));
    return gbt_acked_add(acked, id, r->seq, event);
}

int gbt_find_record(const json_t *records, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(records, i, r)
    {
        const char *rid = json_string_value(json_object_get(json_object_get(r, "event"), "id"));
        if (rid && !strcmp(rid, id))
            return (int)i;
    }
    return -1;
}

/* Maps id -> index in records, checking seqs increase and no id repeats. */
static json_t *index_log(const json_t *records)
{
    json_t *index = json_object(), *r;
    json_int_t last = -1;
    size_t i;
    json_array_foreach(records, i, r)
    {
        json_t *seq = json_object_get(r, "seq");
        const char *id = json_string_value(json_object_get(json_object_get(r, "event"), "id"));
        if (!json_is_integer(seq) || !id) {
            fail("record %zu has no integer seq or no event.id", i);
        } else if (json_integer_value(seq) <= last) {
            fail("record %zu: seq %lld after %lld", i, (long long)json_integer_value(seq),
                 (long long)last);
        } else if (json_object_get(index, id)) {
            fail("id %s is in the log twice", id);
        } else {
            last = json_integer_value(seq);
            json_object_set_new(index, id, json_integer((json_int_t)i));
            continue;
        }
        json_decref(index);
        return NULL;
    }
    return index;
}

static int check_acked(const char *id, const json_t *want, const json_t *got)
{
    if (!got)
        return fail("acked id %s (seq %lld) is not in the log", id,
                    (long long)json_integer_value(json_object_get(want, "seq")));
    json_int_t ws = json_integer_value(json_object_get(want, "seq"));
    json_int_t gs = json_integer_value(json_object_get(got, "seq"));
    if (ws != gs)
        return fail("acked id %s: acked seq %lld, log seq %lld", id, (long long)ws, (long long)gs);
    const json_t *we = json_object_get(want, "event");
    if (we && !json_equal((json_t *)we, json_object_get(got, "event"))) {
        char *a = json_dumps(we, JSON_COMPACT | JSON_SORT_KEYS);
        char *b = json_dumps(json_object_get(got, "event"), JSON_COMPACT | JSON_SORT_KEYS);
        fail("acked id %s: sent %s, log has %s", id, a, b);
        free(a), free(b);
        return -1;
    }
    return 0;
}

int gbt_check_log(const json_t *acked, const json_t *records)
{
    json_t *index = index_log(records);
    if (!index)
        return -1;
    const char *id;
    json_t *want;
    int rc = 0;
    json_object_foreach((json_t *)acked, id, want)
    {
        json_t *at = json_object_get(index, id);
        const json_t *got = at ? json_array_get(records, (size_t)json_integer_value(at)) : NULL;
        if ((rc = check_acked(id, want, got)) < 0)
            break;
    }
    json_decref(index);
    return rc;
}
