/*
 * security: CURVE on every ZeroMQ endpoint, and the ZAP handler that decides who connects.
 *
 * With security.enabled every server socket is a CURVE server holding the daemon's key
 * pair (security.server_key, made on first start; its public half is written to
 * STATE_DIR/server.pub for the clients), and every handshake is put to the ZAP handler
 * (RFC 27) in this module. The handler knows a client only by its public key: the keys
 * file (security.keys) maps each key to a member of the directory. It answers with the
 * member id as the User-Id, which ingest reads for every message, so a publish whose `by`
 * is another member is refused (E_FORBIDDEN in op_publish.c). Each socket names itself in
 * its ZAP domain ("ingest", "publish", "tasks", "alerts"); the alerts feed admits only
 * members holding a supervision role, the others any known member. A key that is not in
 * the file, or whose member left the directory, is refused: the client sees the handshake
 * fail and no message of it ever reaches the daemon.
 *
 * With security off, an endpoint that is not on loopback is refused at start unless
 * security.allow_insecure_remote is true: without CURVE anyone who reaches the port can
 * publish in any member's name.
 *
 * The functions take NULL for "security off" and then do nothing, so main.c calls them
 * unconditionally. Everything runs on the daemon's one thread (the libevent loop).
 */
#ifndef GB_SECURITY_H
#define GB_SECURITY_H

#include <event2/event.h>
#include <stddef.h>

#include "config.h"
#include "directory.h"

typedef struct security security_t;

/* Call after zmq_ctx_new and before any socket is bound. Security off: checks the
 * loopback rule and sets *out to NULL. On: loads (or creates, mode 0600) the server key
 * pair, writes STATE_DIR/server.pub, loads the keys file against dir, and binds the ZAP
 * handler in zctx. 0, or -1 after logging why (the daemon must not start). */
int security_open(security_t **out, void *zctx, const config_t *cfg, const directory_t *dir);

/* For --check-config: the loopback rule and, with security on, the keys file against dir.
 * 0, or -1 with err ("FILE:LINE: message" for the keys file). */
int security_check(const config_t *cfg, const directory_t *dir, char *err, size_t errlen);

/* Makes server socket s a CURVE server with the daemon's secret key, its ZAP domain
 * `domain` ("ingest", "publish", "tasks", "alerts"). Call before zmq_bind. 0, or -1
 * (logged). */
int security_server_socket(security_t *self, void *s, const char *domain);

/* Starts answering ZAP requests from the loop (they wait in the socket until then). */
int security_start(security_t *self, struct event_base *base);

/* SIGHUP: dir becomes the directory that members and roles are checked against, and the
 * keys file is read again; a bad file keeps the running keys (logged with FILE:LINE). */
void security_reload(security_t *self, const directory_t *dir);

/* Closes the ZAP handler. Call after the server sockets are closed (a CURVE handshake
 * with no handler present would pass unchecked) and before zmq_ctx_term. */
void security_destroy(security_t **self_p);

#endif
