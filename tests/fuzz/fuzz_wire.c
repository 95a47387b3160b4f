/*
 * fuzz_wire: libFuzzer target for the codec and the validator in proto/ (wire.c, event.c,
 * schema.c), the code that reads every byte a client sends before anything else does.
 *
 * Each input is one frame, read four ways: as a bare msgpack value, as an event (the
 * fire-and-forget path), as a request and as a reply (the client side). Besides the
 * sanitizers, it checks invariants: every refusal carries a code and a message; what the
 * decoder accepts re-packs and decodes again to the same bytes; the directory callbacks
 * only ever add E_MEMBER/E_GRID refusals; a valid event packs canonically, and its canonical
 * form is valid and canonical; a reply packed for any decoded request decodes and echoes
 * the request's rid.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fuzz.h"
#include "wire.h"

static wire_decoder_t *dec, *redec;
static msgpack_sbuffer buf_a, buf_b;

/* A few ids of conf/daidong.yaml, so the directory callbacks both pass and refuse. */
static const char *const members[] = {"chen.jing", "gong.xiujuan", "li.qiang", "zhao.lei", NULL};
static const char *const grids[] = {"g1", "g2", "g3", NULL};

static bool in_list(const char *const *list, const char *id, size_t len)
{
    for (; *list; list++)
        if (strlen(*list) == len && memcmp(*list, id, len) == 0)
            return true;
    return false;
}

static bool has_member(void *arg, const char *id, size_t len)
{
    (void)arg;
    return in_list(members, id, len);
}

static bool has_grid(void *arg, const char *id, size_t len)
{
    (void)arg;
    return in_list(grids, id, len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    dec = wire_decoder_new();
    redec = wire_decoder_new();
    if (!dec || !redec)
        abort();
    msgpack_sbuffer_init(&buf_a);
    msgpack_sbuffer_init(&buf_b);
    return 0;
}

/* A refusal: rc -1, a real code, a NUL-terminated non-empty message. */
static void check_error(int rc, const gb_error_t *err)
{
    FUZZ_CHECK(rc == -1, "rc %d", rc);
    FUZZ_CHECK(err->code > GB_OK && err->code < GB_E_COUNT_, "code %d", (int)err->code);
    FUZZ_CHECK(memchr(err->msg, 0, sizeof err->msg) != NULL && err->msg[0] != 0,
               "message empty or not terminated");
}

/* Packs obj into sb (cleared first), canonically or as decoded. */
static int pack_into(msgpack_sbuffer *sb, const msgpack_object *obj, bool canonical)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (canonical)
        return event_pack_canonical(&pk, obj);
    return msgpack_pack_object(&pk, *obj);
}

static bool same_bytes(const msgpack_sbuffer *a, const msgpack_sbuffer *b)
{
    return a->size == b->size && (a->size == 0 || memcmp(a->data, b->data, a->size) == 0);
}

/* A valid event's canonical form decodes, is valid, and is its own canonical form. */
static void check_canonical(const msgpack_object *obj)
{
    const msgpack_object *re;
    gb_error_t err = {GB_OK, ""};
    gb_event_t ev;
    FUZZ_CHECK(pack_into(&buf_a, obj, true) == 0, "a valid event must pack canonically");
    FUZZ_CHECK(wire_decode_object(redec, buf_a.data, buf_a.size, &re, &err) == 0, "%s", err.msg);
    FUZZ_CHECK(event_validate(re, NULL, &ev, &err) == 0, "canonical form refused: %s", err.msg);
    FUZZ_CHECK(pack_into(&buf_b, re, true) == 0, "canonical form must pack");
    FUZZ_CHECK(same_bytes(&buf_a, &buf_b), "canonical form is not canonical");
}

static bool code_in(gb_code_t code, const gb_code_t *codes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (codes[i] == code)
            return true;
    return false;
}

/* What a successful validation promises about ev. */
static void check_valid_event(const gb_event_t *ev)
{
    FUZZ_CHECK(ev->type != NULL, "no type");
    FUZZ_CHECK(ev->id.len >= 1 && ev->id.len <= SCHEMA_ID_MAX, "id length %u", ev->id.len);
    FUZZ_CHECK(ev->by.len >= 1 && ev->by.len <= SCHEMA_MEMBER_MAX, "by length %u", ev->by.len);
    FUZZ_CHECK(ev->grid.len <= SCHEMA_GRID_MAX, "grid length %u", ev->grid.len);
    FUZZ_CHECK(!ev->type->grid_required || ev->grid.len > 0, "grid missing for %s", ev->type->name);
    FUZZ_CHECK(ev->at >= SCHEMA_TIME_MIN && ev->at <= SCHEMA_TIME_MAX, "at %lld",
               (long long)ev->at);
    FUZZ_CHECK(ev->body && ev->body->type == MSGPACK_OBJECT_MAP, "body not a map");
}

/* Validates obj with and without directory look-ups; the look-ups may only add refusals. */
static void check_event(const msgpack_object *obj)
{
    static const gb_code_t schema_codes[] = {GB_E_SCHEMA, GB_E_VERSION, GB_E_TYPE};
    static const gb_code_t ref_codes[] = {GB_E_MEMBER, GB_E_GRID};
    event_refs_t refs = {has_member, has_grid, NULL};
    gb_event_t bare, full;
    gb_error_t e1 = {GB_OK, ""}, e2 = {GB_OK, ""};
    int rc1 = event_validate(obj, NULL, &bare, &e1);
    int rc2 = event_validate(obj, &refs, &full, &e2);
    if (rc1 != 0) {
        check_error(rc1, &e1);
        FUZZ_CHECK(code_in(e1.code, schema_codes, 3), "code %s", gb_code_name(e1.code));
        FUZZ_CHECK(rc2 == -1 && e2.code == e1.code && strcmp(e1.msg, e2.msg) == 0,
                   "refs changed the refusal: '%s' vs '%s'", e1.msg, e2.msg);
        return;
    }
    check_valid_event(&bare);
    if (rc2 != 0) {
        check_error(rc2, &e2);
        FUZZ_CHECK(code_in(e2.code, ref_codes, 2), "code %s", gb_code_name(e2.code));
    }
    check_canonical(obj);
}

/* Any decoded value re-packs, decodes again, and re-packs to the same bytes. */
static void check_object(const uint8_t *data, size_t size)
{
    const msgpack_object *obj = NULL, *re;
    gb_error_t err = {GB_OK, ""};
    int rc = wire_decode_object(dec, data, size, &obj, &err);
    FUZZ_CHECK(obj != NULL, "object pointer left NULL");
    if (rc != 0) {
        check_error(rc, &err);
        FUZZ_CHECK(err.code == GB_E_DECODE, "code %s", gb_code_name(err.code));
        return;
    }
    FUZZ_CHECK(pack_into(&buf_a, obj, false) == 0, "re-pack failed");
    FUZZ_CHECK(wire_decode_object(redec, buf_a.data, buf_a.size, &re, &err) == 0,
               "re-packed value refused: %s", err.msg);
    FUZZ_CHECK(pack_into(&buf_b, re, false) == 0, "second re-pack failed");
    FUZZ_CHECK(same_bytes(&buf_a, &buf_b), "re-packing is not stable");
    check_event(obj);
}

/* rid packed from the request equals rid packed from the reply. */
static void check_rid_echo(const msgpack_object *sent, const msgpack_object *got)
{
    FUZZ_CHECK((sent == NULL) == (got == NULL), "rid %s in the reply",
               sent ? "missing" : "invented");
    if (!sent)
        return;
    FUZZ_CHECK(pack_into(&buf_a, sent, false) == 0, "pack rid");
    FUZZ_CHECK(pack_into(&buf_b, got, false) == 0, "pack echoed rid");
    FUZZ_CHECK(same_bytes(&buf_a, &buf_b), "rid not echoed verbatim");
}

/* Packs one reply of each kind for the request's rid; each decodes and echoes it. */
static void check_replies_for(const msgpack_object *rid)
{
    static const wire_head_t heads[] = {{"events", 7}};
    msgpack_sbuffer sb;
    msgpack_packer pk;
    wire_reply_t rep;
    gb_error_t err = {GB_OK, ""};
    for (int kind = 0; kind <= WIRE_REPLY_RESULT; kind++) {
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        if (kind == 0)
            wire_pack_ack(&pk, rid, (gb_str_t){"e-1", 3}, 1, false);
        else if (kind == 1)
            wire_pack_nack(&pk, rid, (gb_str_t){NULL, 0}, GB_E_SCHEMA, "x: must be y");
        else if (kind == 2)
            wire_pack_pong(&pk, rid, "fuzz", heads, 1);
        else if (kind == 3)
            wire_pack_records_begin(&pk, rid, 1, 0, 0);
        else
            wire_pack_result_begin(&pk, rid, 0);
        FUZZ_CHECK(wire_decode_reply(redec, sb.data, sb.size, &rep, &err) == 0, "%s", err.msg);
        FUZZ_CHECK((int)rep.op == kind, "reply op %d, packed %d", (int)rep.op, kind);
        check_rid_echo(rid, rep.rid);
        msgpack_sbuffer_destroy(&sb);
    }
}

static bool same_str(gb_str_t a, gb_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool same_query(const wire_query_args_t *a, const wire_query_args_t *b)
{
    return a->what == b->what && same_str(a->id, b->id) && same_str(a->grid, b->grid) &&
           same_str(a->assignee, b->assignee) && same_str(a->status, b->status) &&
           same_str(a->month, b->month) && a->overdue == b->overdue && a->after == b->after &&
           a->limit == b->limit;
}

/* Packs req's op again as a client would; false when the client API cannot say it (a
 * stream or filter with a NUL byte, publish: its event is packed as given). */
static bool repack_request(msgpack_packer *pk, const wire_request_t *req, char *stream,
                           char *filter, size_t cap)
{
    switch (req->op) {
    case WIRE_OP_QUERY:
        wire_pack_query(pk, 1, &req->query);
        return true;
    case WIRE_OP_CLOCK:
        wire_pack_clock(pk, 1, req->clock_set);
        return true;
    case WIRE_OP_PING:
        wire_pack_ping(pk, 1);
        return true;
    case WIRE_OP_REPLAY:
        if (req->stream.len >= cap || req->filter.len >= cap ||
            memchr(req->stream.ptr, 0, req->stream.len) ||
            (req->filter.len && memchr(req->filter.ptr, 0, req->filter.len)))
            return false;
        memcpy(stream, req->stream.ptr, req->stream.len), stream[req->stream.len] = 0;
        if (req->filter.ptr)
            memcpy(filter, req->filter.ptr, req->filter.len), filter[req->filter.len] = 0;
        wire_pack_replay(pk, 1, stream, req->from, req->limit, req->filter.ptr ? filter : NULL);
        return true;
    case WIRE_OP_PUBLISH:
        break;
    }
    return false;
}

/* What the daemon decoded, packed by the client API and decoded again, is the same. */
static void check_request_roundtrip(const wire_request_t *req)
{
    static char stream[4096], filter[4096];
    wire_request_t re;
    gb_error_t err = {GB_OK, ""};
    msgpack_packer pk;
    msgpack_sbuffer_clear(&buf_a);
    msgpack_packer_init(&pk, &buf_a, msgpack_sbuffer_write);
    if (!repack_request(&pk, req, stream, filter, sizeof stream))
        return;
    FUZZ_CHECK(wire_decode_request(redec, buf_a.data, buf_a.size, &re, &err) == 0,
               "re-packed request refused: %s", err.msg);
    FUZZ_CHECK(re.op == req->op, "op %d became %d", (int)req->op, (int)re.op);
    if (req->op == WIRE_OP_QUERY)
        FUZZ_CHECK(same_query(&req->query, &re.query), "query changed in a round trip");
    if (req->op == WIRE_OP_CLOCK)
        FUZZ_CHECK(re.clock_set == req->clock_set, "clock set changed in a round trip");
    if (req->op == WIRE_OP_REPLAY)
        FUZZ_CHECK(same_str(re.stream, req->stream) && same_str(re.filter, req->filter) &&
                       re.from == req->from && re.limit == req->limit,
                   "replay changed in a round trip");
}

static void check_request(const uint8_t *data, size_t size)
{
    wire_request_t req;
    gb_error_t err = {GB_OK, ""};
    int rc = wire_decode_request(dec, data, size, &req, &err);
    if (rc != 0) {
        check_error(rc, &err);
        FUZZ_CHECK(err.code == GB_E_DECODE || err.code == GB_E_OP || err.code == GB_E_SCHEMA,
                   "code %s", gb_code_name(err.code));
        FUZZ_CHECK(!req.rid || (req.root && req.root->type == MSGPACK_OBJECT_MAP), "stray rid");
        return;
    }
    FUZZ_CHECK(req.root && req.root->type == MSGPACK_OBJECT_MAP, "request not a map");
    if (req.op == WIRE_OP_REPLAY)
        FUZZ_CHECK(req.limit >= 1 && req.limit <= WIRE_REPLAY_LIMIT_MAX, "limit %u", req.limit);
    if (req.op == WIRE_OP_PUBLISH) {
        FUZZ_CHECK(req.event != NULL, "publish without event");
        check_event(req.event);
    }
    check_request_roundtrip(&req);
    check_replies_for(req.rid);
}

static void check_reply(const uint8_t *data, size_t size)
{
    wire_reply_t rep;
    gb_error_t err = {GB_OK, ""};
    int rc = wire_decode_reply(dec, data, size, &rep, &err);
    if (rc != 0) {
        check_error(rc, &err);
        FUZZ_CHECK(err.code == GB_E_DECODE, "code %s", gb_code_name(err.code));
        return;
    }
    FUZZ_CHECK(rep.op <= WIRE_REPLY_RESULT, "reply op %d", (int)rep.op);
    if (rep.op == WIRE_REPLY_RECORDS)
        FUZZ_CHECK(rep.records && rep.records->type == MSGPACK_OBJECT_ARRAY, "records");
    if (rep.op == WIRE_REPLY_NACK)
        FUZZ_CHECK(rep.code <= GB_E_COUNT_, "nack code %d", (int)rep.code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_object(data, size);
    check_request(data, size);
    check_reply(data, size);
    return 0;
}
