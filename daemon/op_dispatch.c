/*
 * op_dispatch: from a frame to an op handler. Framing rules (one frame, the size limit,
 * the fire-and-forget topic) are checked here, before decoding, so every handler sees a
 * decoded request of its own kind and nothing else. Kept apart from the socket code so
 * the whole request path can be driven without sockets (the fuzzer does).
 */
#include "op.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const gb_str_t no_id = {NULL, 0};

static int refuse_frame(op_ctx_t *ctx, gb_code_t code, bool reply, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse_frame(op_ctx_t *ctx, gb_code_t code, bool reply, const char *fmt, ...)
{
    gb_error_t err;
    va_list ap;
    va_start(ap, fmt);
    gb_error_vset(&err, code, fmt, ap);
    va_end(ap);
    return op_refuse(ctx, NULL, no_id, &err, reply);
}

int op_dispatch_request(op_ctx_t *ctx, wire_decoder_t *dec, const op_frame_t *f)
{
    wire_request_t req;
    gb_error_t err;
    ctx->input = f->data, ctx->input_len = f->len;
    if (f->extra_frames)
        return refuse_frame(ctx, GB_E_DECODE, true, "request: must be one frame (got %u)",
                            f->extra_frames + 1);
    if (f->len > ctx->max_message)
        return refuse_frame(ctx, GB_E_TOO_LARGE, true,
                            "frame: %zu bytes is over limits.max_message (%u)", f->len,
                            ctx->max_message);
    if (wire_decode_request(dec, f->data, f->len, &req, &err) < 0)
        return op_refuse(ctx, req.rid, no_id, &err, true);
    switch (req.op) {
    case WIRE_OP_PUBLISH:
        return op_publish(ctx, req.rid, req.event, true);
    case WIRE_OP_PING:
        return op_ping(ctx, &req);
    case WIRE_OP_REPLAY:
        return op_replay(ctx, &req);
    case WIRE_OP_QUERY:
        return op_query(ctx, &req);
    case WIRE_OP_CLOCK:
        return op_clock(ctx, &req);
    }
    return 0;
}

int op_dispatch_fire_and_forget(op_ctx_t *ctx, wire_decoder_t *dec, const op_frame_t *f)
{
    const msgpack_object *event;
    gb_error_t err;
    ctx->input = f->data, ctx->input_len = f->len;
    ctx->stats->fire_and_forget++;
    if (!f->has_topic || f->extra_frames)
        return refuse_frame(ctx, GB_E_DECODE, false, "publish: must be two frames [type][event]");
    if (f->len > ctx->max_message)
        return refuse_frame(ctx, GB_E_TOO_LARGE, false,
                            "frame: %zu bytes is over limits.max_message (%u)", f->len,
                            ctx->max_message);
    if (wire_decode_object(dec, f->data, f->len, &event, &err) < 0)
        return op_refuse(ctx, NULL, no_id, &err, false);
    const msgpack_object *type = event_map_get(event, "type");
    if (!type || type->type != MSGPACK_OBJECT_STR || type->via.str.size != f->topic.len ||
        memcmp(type->via.str.ptr, f->topic.ptr, f->topic.len) != 0)
        return refuse_frame(ctx, GB_E_SCHEMA, false, "type: must equal the topic frame");
    return op_publish(ctx, NULL, event, false);
}
