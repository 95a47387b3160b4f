/*
 * op_ping: liveness and the stream heads, so a client can tell how far the daemon is
 * without replaying anything.
 */
#include "op.h"

int op_ping(op_ctx_t *ctx, const wire_request_t *req)
{
    wire_head_t heads[] = {{"events", store_head(ctx->store)},
                           {"tasks", taskdb_feed_head(ctx->taskdb)},
                           {"alerts", ctx->alertdb ? alertdb_feed_head(ctx->alertdb) : 0}};
    wire_pack_pong(ctx->reply, req->rid, GB_VERSION, heads, sizeof heads / sizeof heads[0]);
    return 0;
}
