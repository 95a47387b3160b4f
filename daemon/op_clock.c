/*
 * op_clock: reads the daemon's clock, and on a daemon started with testing.allow_clock
 * sets it, so end-to-end tests move time instead of waiting for it. Setting the clock
 * runs the deadlines and the alert loop's escalations, due dates and cut-offs that fall due
 * (the batch's pass sees the new time).
 */
#include "op.h"

#include "clock.h"

int op_clock(op_ctx_t *ctx, const wire_request_t *req)
{
    gb_error_t err;
    if (req->clock_set) {
        if (!ctx->allow_clock) {
            gb_error_set(&err, GB_E_FORBIDDEN,
                         "set: this daemon's clock is the system clock (testing.allow_clock is off)");
            return op_refuse(ctx, req->rid, (gb_str_t){NULL, 0}, &err, true);
        }
        clock_set(req->clock_set);
        ctx->now = req->clock_set;
        if (!ctx->storage_down && (cases_take_deadlines(ctx->cases, ctx->now) < 0 ||
                                   alerts_take_due(ctx->alerts, ctx->now) < 0)) {
            ctx->store_rc = store_last_failure(ctx->store);
            return -1;
        }
    }
    wire_pack_result_begin(ctx->reply, req->rid, 1);
    wire_pack_cstr(ctx->reply, "now");
    msgpack_pack_int64(ctx->reply, clock_now());
    return 0;
}
