/*
 * op_refuse: every refusal goes through here, so each one is both answered (a typed nack
 * naming the field and the rule) and kept (a dead letter with its source), never one
 * without the other.
 */
#include "op.h"

#include <string.h>

/* Bytes of a refused frame kept in its dead letter: enough to diagnose, bounded so a flood
 * of large bad frames cannot fill the map. */
#define DEAD_INPUT_MAX 4096

int op_refuse(op_ctx_t *ctx, const msgpack_object *rid, gb_str_t id, const gb_error_t *err,
              bool reply)
{
    ctx->stats->nacks[err->code]++;
    if (reply)
        wire_pack_nack(ctx->reply, rid, id, err->code, err->msg);
    if (ctx->storage_down || err->code == GB_E_STORAGE || err->code == GB_E_BUSY)
        return 0;
    /* Only a dead letter needs the sender's address: it is looked up here, not for every
     * request. */
    char source[80];
    if (!ctx->source && ctx->describe)
        ctx->describe(ctx->item, source, sizeof source);
    store_dead_t dead = {
        .at = ctx->now,
        .source = ctx->source ? ctx->source : ctx->describe ? source : "?",
        .code = gb_code_name(err->code),
        .error = err->msg,
        .input = ctx->input,
        .input_len = ctx->input_len > DEAD_INPUT_MAX ? DEAD_INPUT_MAX : ctx->input_len,
    };
    ctx->store_rc = store_dead_letter(ctx->store, &dead);
    return ctx->store_rc == STORE_OK ? 0 : -1;
}
