/*
 * inflight: per-connection request counts of one batch (see inflight.h).
 *
 * Slots hold a pointer to the routing id (the batch keeps the message alive), its hash
 * and count, and the generation that wrote them; a slot of an older generation is empty.
 * The table has at least twice as many slots as a batch has requests, so probing is short
 * and always finds a free slot.
 */
#include "inflight.h"

#include <stdlib.h>
#include <string.h>

#define TABLE_MIN 16u
#define MAX_REQUESTS_MAX (1u << 30)

typedef struct {
    const void *id;
    uint32_t len, hash, count, gen;
} slot_t;

struct inflight {
    slot_t *slots;
    uint32_t mask; /* slots - 1, a power of two minus one */
    uint32_t gen;  /* slots of another generation are empty */
    uint32_t limit;
};

inflight_t *inflight_new(uint32_t max_requests, uint32_t limit)
{
    if (max_requests > MAX_REQUESTS_MAX || limit < 1)
        return NULL;
    uint32_t n = TABLE_MIN;
    while (n < 2 * max_requests)
        n *= 2;
    inflight_t *self = calloc(1, sizeof *self);
    if (!self || !(self->slots = calloc(n, sizeof *self->slots))) {
        free(self);
        return NULL;
    }
    self->mask = n - 1, self->gen = 1, self->limit = limit;
    return self;
}

void inflight_destroy(inflight_t **self_p)
{
    inflight_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    free(self->slots);
    free(self);
    *self_p = NULL;
}

void inflight_reset(inflight_t *self)
{
    if (++self->gen == 0) { /* wrapped: stamps of 2^32 batches ago would look current */
        memset(self->slots, 0, ((size_t)self->mask + 1) * sizeof *self->slots);
        self->gen = 1;
    }
}

/* FNV-1a: routing ids are short (5 bytes from ZeroMQ) and not chosen to collide. */
static uint32_t hash_id(const unsigned char *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

bool inflight_admit(inflight_t *self, const void *id, size_t len)
{
    uint32_t h = hash_id(id, len);
    for (uint32_t i = h, probes = 0; probes <= self->mask; i++, probes++) {
        slot_t *s = &self->slots[i & self->mask];
        if (s->gen != self->gen) {
            *s = (slot_t){id, (uint32_t)len, h, 1, self->gen};
            return 1 <= self->limit;
        }
        if (s->hash == h && s->len == len && memcmp(s->id, id, len) == 0)
            return ++s->count <= self->limit;
    }
    return true; /* a full table: cannot happen with twice the batch; never refuse then */
}

int inflight_refuse(const inflight_t *self, op_ctx_t *ctx, wire_decoder_t *dec, const op_frame_t *f)
{
    wire_request_t req;
    gb_error_t err;
    const gb_str_t no_id = {NULL, 0};
    const msgpack_object *rid = NULL;
    ctx->input = f->data, ctx->input_len = f->len;
    if (!f->extra_frames && f->len <= ctx->max_message) {
        /* Only the rid is wanted; it is set whenever the frame is a map, valid or not. */
        (void)wire_decode_request(dec, f->data, f->len, &req, &err);
        rid = req.rid;
    }
    gb_error_set(&err, GB_E_BUSY,
                 "busy: more than %u requests in flight on this connection; retry later",
                 self->limit);
    return op_refuse(ctx, rid, no_id, &err, true);
}
