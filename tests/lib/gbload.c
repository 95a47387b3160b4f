/*
 * gbload: see gbload.h. The events are built with gbtest's gbt_event and packed with
 * gbt_pack_publish, as every other end-to-end test does.
 */
#include "gbload.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <zmq.h>

#include "gb_code.h"
#include "gbtest.h"

void gbload_init(gbload_t *l, const char *id_prefix)
{
    l->sent = json_array();
    l->acked = gbt_acked_new();
    l->dec = wire_decoder_new();
    snprintf(l->prefix, sizeof l->prefix, "%s", id_prefix);
    cr_assert(l->sent && l->acked && l->dec, "out of memory");
}

void gbload_fini(gbload_t *l)
{
    wire_decoder_destroy(&l->dec);
    json_decref(l->sent);
    json_decref(l->acked);
    l->sent = l->acked = NULL;
}

void gbload_send(gbload_t *l, void *sock, size_t n)
{
    msgpack_sbuffer req;
    gbt_pack_publish(&req, n, json_array_get(l->sent, n));
    cr_assert_eq(zmq_send(sock, req.data, req.size, 0), (int)req.size, "send: %s",
                 zmq_strerror(zmq_errno()));
    msgpack_sbuffer_destroy(&req);
}

void gbload_send_next(gbload_t *l, void *sock)
{
    char id[48];
    size_t n = json_array_size(l->sent);
    snprintf(id, sizeof id, "%s-%06zu", l->prefix, n);
    json_t *ev = gbt_event(gbt_types[n % 4], id);
    const char *text = n % 4 == 0 ? "summary" : n % 4 == 3 ? "counterparty" : "description";
    json_object_set_new(json_object_get(ev, "body"), text, json_sprintf("load event %zu", n));
    json_array_append_new(l->sent, ev);
    gbload_send(l, sock, n);
}

size_t gbload_drain(gbload_t *l, void *sock)
{
    size_t n = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0) {
        wire_reply_t r;
        gb_error_t err;
        cr_assert_eq(wire_decode_reply(l->dec, zmq_msg_data(&m), zmq_msg_size(&m), &r, &err), 0,
                     "reply does not decode: %s", err.msg);
        cr_assert(r.rid && r.rid->type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
                      r.rid->via.u64 < json_array_size(l->sent),
                  "a reply with a rid we never sent");
        if (r.op == WIRE_REPLY_NACK && r.code == GB_E_BUSY) { /* back-pressure: retry */
            gbload_send(l, sock, (size_t)r.rid->via.u64);
            continue;
        }
        cr_assert(r.op == WIRE_REPLY_ACK && !r.dup, "want a fresh ack, got op %d code %s",
                  (int)r.op, gb_code_name(r.code));
        json_t *ev = json_array_get(l->sent, (size_t)r.rid->via.u64);
        const char *id = json_string_value(json_object_get(ev, "id"));
        cr_assert(gbt_str_is(r.id, id), "the ack for rid %" PRIu64 " names another id",
                  r.rid->via.u64);
        cr_assert_eq(gbt_acked_add(l->acked, id, r.seq, ev), 0, "%s", gbt_why());
        n++;
    }
    zmq_msg_close(&m);
    return n;
}
