/*
 * op_publish: an event becomes durable. It is validated against the schema and the
 * directory, packed canonically (so a resend with its keys in another order is still the
 * same event), and appended under its id; the ack is only sent after the batch commits.
 */
#include "op.h"

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

int op_publish(op_ctx_t *ctx, const msgpack_object *rid, const msgpack_object *event, bool reply)
{
    event_refs_t refs = {has_member, has_grid, (void *)ctx->directory};
    gb_event_t ev;
    gb_error_t err = {GB_OK, ""};
    uint64_t seq = 0;
    if (event_validate(event, &refs, &ev, &err) < 0) {
        if (!stored_before(ctx, event, &ev, &err, &seq))
            return op_refuse(ctx, rid, ev.id, &err, reply);
        ctx->stats->duplicates++;
        if (reply)
            wire_pack_ack(ctx->reply, rid, ev.id, seq, true);
        return 0;
    }
    if (ctx->storage_down) {
        gb_error_set(&err, GB_E_STORAGE, "storage full at its configured cap; retry later");
        return op_refuse(ctx, rid, ev.id, &err, reply);
    }
    if (pack_canonical(ctx, event) < 0) {
        gb_error_set(&err, GB_E_SCHEMA, "event: nested too deeply");
        return op_refuse(ctx, rid, ev.id, &err, reply);
    }
    ctx->store_rc = store_append(ctx->store, ev.id.ptr, ev.id.len, ctx->now, ctx->scratch->data,
                                 ctx->scratch->size, &seq);
    switch (ctx->store_rc) {
    case STORE_OK:
        ctx->stats->published++;
        ctx->stats->by_type[schema_type_index(ev.type)]++;
        break;
    case STORE_DUP:
        ctx->stats->duplicates++;
        break;
    case STORE_CONFLICT:
        gb_error_set(&err, GB_E_CONFLICT, "id: '%.*s' is already stored (seq %llu) with different content",
                     (int)ev.id.len, ev.id.ptr, (unsigned long long)seq);
        ctx->store_rc = STORE_OK;
        return op_refuse(ctx, rid, ev.id, &err, reply);
    default:
        return -1;
    }
    if (reply)
        wire_pack_ack(ctx->reply, rid, ev.id, seq, ctx->store_rc == STORE_DUP);
    ctx->store_rc = STORE_OK;
    return 0;
}
