/*
 * op_publish: an event becomes durable. It is validated against the schema and the
 * directory, packed canonically (so a resend with its keys in another order is still the
 * same event), and appended under its id; the ack is only sent after the batch commits.
 */
#include "op.h"

#include <string.h>

static bool has_member(void *arg, const char *id, size_t len)
{
    return directory_member(arg, id, len) != NULL;
}

static bool has_grid(void *arg, const char *id, size_t len)
{
    return directory_grid(arg, id, len) != NULL;
}

static int pack_canonical(op_ctx_t *ctx, const msgpack_object *event)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(ctx->scratch);
    msgpack_packer_init(&pk, ctx->scratch, msgpack_sbuffer_write);
    return event_pack_canonical(&pk, event);
}

/* An event refused for a directory reference may still be a resend of one stored before
 * the directory changed (a member removed by a reload): that is acked as a duplicate,
 * because its first ack already promised it is kept. */
static bool stored_before(op_ctx_t *ctx, const msgpack_object *event, const gb_event_t *ev,
                          const gb_error_t *err, uint64_t *seq)
{
    if (err->code != GB_E_MEMBER && err->code != GB_E_GRID)
        return false;
    if (pack_canonical(ctx, event) < 0)
        return false;
    return store_match(ctx->store, ev->id.ptr, ev->id.len, ctx->scratch->data, ctx->scratch->size,
                       seq) == STORE_DUP;
}

static int acked(op_ctx_t *ctx, const msgpack_object *rid, const gb_event_t *ev, bool reply,
                 uint64_t seq, bool dup)
{
    if (dup) {
        ctx->stats->duplicates++;
        ctx->stats->dup_by_type[schema_type_index(ev->type)]++;
    }
    if (reply)
        wire_pack_ack(ctx->reply, rid, ev->id, seq, dup);
    return 0;
}

/* 1 when refused (the nack is packed), -1 when the store failed. */
static int conflict(op_ctx_t *ctx, const msgpack_object *rid, const gb_event_t *ev, uint64_t seq,
                    bool reply)
{
    gb_error_t err;
    gb_error_set(&err, GB_E_CONFLICT, "id: '%.*s' is already stored (seq %llu) with different content",
                 (int)ev->id.len, ev->id.ptr, (unsigned long long)seq);
    return op_refuse(ctx, rid, ev->id, &err, reply) < 0 ? -1 : 1;
}

/* Appends the canonical event in scratch: 0 (stored or dup), 1 refused, -1 store failure. */
static int append(op_ctx_t *ctx, const msgpack_object *rid, const gb_event_t *ev, bool reply,
                  uint64_t *seq, bool *dup)
{
    store_rc_t rc = store_append(ctx->store, ev->id.ptr, ev->id.len, ctx->now, ctx->scratch->data,
                                 ctx->scratch->size, seq);
    if (rc == STORE_CONFLICT)
        return conflict(ctx, rid, ev, *seq, reply);
    if (rc != STORE_OK && rc != STORE_DUP)
        return ctx->store_rc = rc, -1;
    *dup = rc == STORE_DUP;
    if (!*dup) {
        ctx->stats->published++;
        ctx->stats->by_type[schema_type_index(ev->type)]++;
    }
    return 0;
}

/* A follow-up is checked against its task before it is stored: a step the case loop
 * refuses must not enter the log. A resend is recognised first, so it is a duplicate
 * even when the step it carried has since been taken. */
static int publish_followup(op_ctx_t *ctx, const msgpack_object *rid, const gb_event_t *ev,
                           bool reply, uint64_t *seq, bool *dup)
{
    gb_error_t err;
    store_rc_t rc = store_match(ctx->store, ev->id.ptr, ev->id.len, ctx->scratch->data,
                                ctx->scratch->size, seq);
    if (rc == STORE_DUP)
        return *dup = true, 0;
    if (rc == STORE_CONFLICT)
        return conflict(ctx, rid, ev, *seq, reply);
    if (rc != STORE_OK)
        return ctx->store_rc = rc, -1;
    if (cases_check(ctx->cases, ev, &err) < 0 || alerts_check(ctx->alerts, ev, &err) < 0)
        return op_refuse(ctx, rid, ev->id, &err, reply) < 0 ? -1 : 1;
    if (cases_apply(ctx->cases, ev, ctx->now) < 0 || alerts_apply(ctx->alerts, ev, ctx->now) < 0)
        return ctx->store_rc = store_last_failure(ctx->store), -1;
    return append(ctx, rid, ev, reply, seq, dup);
}

int op_publish(op_ctx_t *ctx, const msgpack_object *rid, const msgpack_object *event, bool reply)
{
    event_refs_t refs = {has_member, has_grid, (void *)ctx->directory};
    gb_event_t ev;
    gb_error_t err = {GB_OK, ""};
    uint64_t seq = 0;
    bool dup = false;
    if (event_validate(event, &refs, &ev, &err) < 0) {
        if (!stored_before(ctx, event, &ev, &err, &seq))
            return op_refuse(ctx, rid, ev.id, &err, reply);
        return acked(ctx, rid, &ev, reply, seq, true);
    }
    if (ctx->peer_member && (strlen(ctx->peer_member) != ev.by.len ||
                             memcmp(ctx->peer_member, ev.by.ptr, ev.by.len) != 0)) {
        gb_error_set(&err, GB_E_FORBIDDEN, "by: '%.*s' is not the member of this key (%s)",
                     (int)ev.by.len, ev.by.ptr, ctx->peer_member);
        return op_refuse(ctx, rid, ev.id, &err, reply);
    }
    if (ctx->storage_down) {
        gb_error_set(&err, GB_E_STORAGE, "storage full at its configured cap; retry later");
        return op_refuse(ctx, rid, ev.id, &err, reply);
    }
    if (pack_canonical(ctx, event) < 0) {
        gb_error_set(&err, GB_E_SCHEMA, "event: nested too deeply");
        return op_refuse(ctx, rid, ev.id, &err, reply);
    }
    int rc = ev.type->is_followup ? publish_followup(ctx, rid, &ev, reply, &seq, &dup)
                                  : append(ctx, rid, &ev, reply, &seq, &dup);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    /* Same transaction as the event: its task and its alerts commit with it. */
    if (!dup && !ev.type->is_followup &&
        (cases_open(ctx->cases, &ev, seq, ctx->now) < 0 ||
         alerts_on_event(ctx->alerts, &ev, seq, ctx->now) < 0))
        return ctx->store_rc = store_last_failure(ctx->store), -1;
    return acked(ctx, rid, &ev, reply, seq, dup);
}
