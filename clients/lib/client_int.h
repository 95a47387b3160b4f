/*
 * client_int: what client.c lends the library's other modules (query.c, subscriber.c).
 *
 * Internal to libgridbus: not installed, not exported. Queries and the subscriber reuse the
 * connection's one ring of pending requests (timeouts, re-sends, rid matching) instead of
 * keeping a second request loop, and report their errors through the same fields, so
 * gridbus_errcode and gridbus_error read the same way whatever failed.
 */
#ifndef GB_CLIENT_INT_H
#define GB_CLIENT_INT_H

#include <msgpack.h>

#include "gridbus.h"
#include "wire.h"

/* Packs one request with the rid client_call chose. */
typedef void(client_pack_fn)(msgpack_packer *pk, uint64_t rid, const void *arg);

/* Sends the request pack() writes and waits for its reply, decoded into rep (whose objects
 * live until the next call on self). A nack is -1 with GRIDBUS_ENACK and its code, like
 * every other failure. */
int client_call(gridbus_t *self, client_pack_fn *pack, const void *arg, wire_reply_t *rep);

/* Packs each item of array and hands it to fn, which may not call the client back. */
void client_each(gridbus_t *self, const msgpack_object *array, gridbus_record_fn *fn, void *arg);

/* Packs obj into a buffer of self's; *data lives until the next client_keep on self. */
void client_keep(gridbus_t *self, const msgpack_object *obj, const void **data, size_t *len);

/* "E_TIMEOUT" for GRIDBUS_ETIMEOUT, and so on: the code a status is reported with. */
const char *client_status_code(gridbus_status_t s);

/* Sets the client's error (status, code, or the status's own code when NULL) and returns
 * -1. */
int client_fail(gridbus_t *self, gridbus_status_t status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
