/*
 * gbload: what the durability tests (test_crash, test_backup) share to keep a pipelined
 * load going and to know what was acknowledged: events made up in turn (the four field
 * types, so repairs and patrol issues open tasks), each sent with its index as rid, and the
 * replies read back, every ack recorded (id -> seq and event, gbt_acked_add) for checking
 * the store against. A reply of back-pressure (E_BUSY) resends its event; any other refusal,
 * or an ack of another id, fails the test. The helpers assert with Criterion.
 */
#ifndef GB_TEST_GBLOAD_H
#define GB_TEST_GBLOAD_H

#include <jansson.h>
#include <stddef.h>

#include "wire.h"

typedef struct {
    json_t *sent;  /* every event sent; its index is the request's rid */
    json_t *acked; /* id -> {seq, event}: every ack seen */
    wire_decoder_t *dec;
    char prefix[16]; /* of the events' ids: "<prefix>-000042" */
} gbload_t;

void gbload_init(gbload_t *l, const char *id_prefix);
void gbload_fini(gbload_t *l);

/* Sends event n of l->sent again, with rid n. */
void gbload_send(gbload_t *l, void *sock, size_t n);

/* Makes up the next event, records it in l->sent and sends it. */
void gbload_send_next(gbload_t *l, void *sock);

/* Reads every reply waiting on sock, recording the acks (E_BUSY: resent); the number of
 * acks read. */
size_t gbload_drain(gbload_t *l, void *sock);

#endif
