/*
 * gridbus.h: libgridbus, the C client of the gridbus daemon (installed as <gridbus.h>).
 *
 * Four small classes, each a module of its own:
 *   gridbus_t        (client.c)       a DEALER connection to gridbusd's ingest endpoint:
 *                                     publish with ack, blocking or pipelined, ping, replay;
 *                    (query.c)        and its look-ups: a task, lists of tasks, a month's
 *                                     statistics, the daemon's clock;
 *   gridbus_sub_t    (subscriber.c)   a subscriber to a feed (tasks; later alerts) that
 *                                     keeps a cursor in a file and delivers every record
 *                                     once, in order, replaying what the feed dropped;
 *   gridbus_event_t  (event_build.c)  builds a v1 event from strings (a CLI's key=value
 *                                     arguments), coercing each value by the schema;
 *   gridbus_id_*     (ids.c)          time-ordered, unique event ids.
 *
 * The header needs nothing but the C library: events cross the API as packed MessagePack
 * bytes, so a program using libgridbus does not have to use msgpack-c's types. Every
 * function that can fail returns 0 or -1 and leaves the reason in its object (an error
 * code such as "E_MEMBER" and a message naming the field); strings returned as
 * `const char *` belong to the library and are never freed by the caller.
 */
#ifndef GRIDBUS_H
#define GRIDBUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(GB_BUILD_SHARED)
#define GB_EXPORT __attribute__((visibility("default")))
#else
#define GB_EXPORT
#endif

/* The ingest endpoint used when none is given and GRIDBUS_ENDPOINT is not set. */
#define GRIDBUS_ENDPOINT_DEFAULT "tcp://127.0.0.1:7401"
/* Per-attempt reply timeout and re-sends after it, unless set otherwise. */
#define GRIDBUS_TIMEOUT_DEFAULT 2000
#define GRIDBUS_RETRIES_DEFAULT 2
/* Publishes in flight before gridbus_send waits for acks. */
#define GRIDBUS_WINDOW_DEFAULT 256

/* Room for an event id (at most 64 bytes of [A-Za-z0-9._:-]) and its NUL. */
#define GRIDBUS_ID_BUF 65

/* How a request ended. */
typedef enum {
    GRIDBUS_OK = 0,
    GRIDBUS_ENACK,      /* the daemon refused it: code is the wire code ("E_MEMBER", ...) */
    GRIDBUS_ETIMEOUT,   /* no reply after every retry ("E_TIMEOUT") */
    GRIDBUS_ETRANSPORT, /* the socket failed ("E_TRANSPORT") */
    GRIDBUS_EPROTO,     /* a reply that does not follow the contract ("E_PROTO") */
    GRIDBUS_EINVAL,     /* a bad argument, found before anything was sent ("E_INVAL") */
    GRIDBUS_EIO,        /* a local file could not be read or written ("E_IO") */
} gridbus_status_t;

/* The library's version, "0.1.0". */
GB_EXPORT const char *gridbus_version(void);

/* ------------------------------------------------------------------------------------ */
/* gridbus_t: a client connection                                                        */

typedef struct gridbus gridbus_t;

/* The outcome of one publish, handed to a completion callback. The strings live until the
 * callback returns. */
typedef struct {
    gridbus_status_t status;
    const char *id;      /* the event id */
    uint64_t seq;        /* acked: the event's sequence number in the log */
    bool dup;            /* acked: the id was already stored (a re-send), seq is the original */
    const char *code;    /* NULL when acked; "E_MEMBER", "E_TIMEOUT", ... otherwise */
    const char *message; /* NULL when acked; why, naming the field */
} gridbus_result_t;

typedef void(gridbus_done_fn)(const gridbus_result_t *result, void *arg);

/* An ack kept by the blocking gridbus_publish. */
typedef struct {
    char id[GRIDBUS_ID_BUF];
    uint64_t seq;
    bool dup;
} gridbus_ack_t;

/* A pong: the daemon's version and its event log head. */
typedef struct {
    char version[32];
    uint64_t events_head;
} gridbus_pong_t;

/* One replayed record as packed MessagePack (a map); valid while the callback runs. */
typedef void(gridbus_record_fn)(const void *record, size_t len, void *arg);

/* A client that is not connected yet; NULL only when out of memory. A client (like the
 * ZeroMQ socket inside it) is used by one thread at a time; completion callbacks run on
 * that thread and must not call the client back. */
GB_EXPORT gridbus_t *gridbus_new(void);

/* Closes the socket (unsent requests are dropped) and frees the client. */
GB_EXPORT void gridbus_destroy(gridbus_t **self_p);

/* Connects to endpoint; NULL means $GRIDBUS_ENDPOINT, else GRIDBUS_ENDPOINT_DEFAULT.
 * ZeroMQ connects in the background and reconnects by itself, so this only fails on a
 * malformed endpoint. */
GB_EXPORT int gridbus_connect(gridbus_t *self, const char *endpoint);

/* The endpoint connected to, or NULL. */
GB_EXPORT const char *gridbus_endpoint(const gridbus_t *self);

/* Each request waits timeout_ms for its reply; then the socket is recreated and everything
 * still pending is re-sent, at most `retries` times, before the request fails with
 * E_TIMEOUT. Re-sending a publish is safe: the daemon acks a known id with dup:true. */
GB_EXPORT void gridbus_set_timeout(gridbus_t *self, int timeout_ms);
GB_EXPORT void gridbus_set_retries(gridbus_t *self, int retries);

/* At most window publishes in flight (1..65536); gridbus_send waits for room. */
GB_EXPORT int gridbus_set_window(gridbus_t *self, size_t window);

/* Publishes one packed event (a msgpack map with an id) and waits for its ack. Returns 0
 * and fills ack (may be NULL); or -1: gridbus_error/gridbus_errcode say why. */
GB_EXPORT int gridbus_publish(gridbus_t *self, const void *event, size_t len, gridbus_ack_t *ack);

/* Pipelined publish: sends the event and returns without waiting for its ack; done(result,
 * arg) is called once, from inside a later gridbus_send, gridbus_flush or gridbus_publish,
 * when it is acked, refused or timed out. Waits first while the window is full or while an
 * earlier publish of the same id is in flight (so a re-used id is acked in order). Returns
 * -1 without calling done when the event cannot be sent at all (no id, not a map). */
GB_EXPORT int gridbus_send(gridbus_t *self, const void *event, size_t len, gridbus_done_fn *done,
                           void *arg);

/* Waits until every publish in flight has completed. Returns 0 when all publishes completed
 * since the last flush were acked, -1 otherwise (the error is the last failure's). */
GB_EXPORT int gridbus_flush(gridbus_t *self);

/* Number of publishes sent and not yet completed. */
GB_EXPORT size_t gridbus_pending(const gridbus_t *self);

/* Asks the daemon for a pong. 0 and pong filled (may be NULL), or -1. */
GB_EXPORT int gridbus_ping(gridbus_t *self, gridbus_pong_t *pong);

/* Reads one page of a stream ("events", "tasks", "alerts") from seq `from`, at most limit
 * records (0: the daemon's default), whose topic starts with filter (NULL: all). Calls
 * record() for each, then sets *next (the seq to ask for next) and *head (the stream's last
 * seq); either may be NULL. */
GB_EXPORT int gridbus_replay(gridbus_t *self, const char *stream, uint64_t from, uint32_t limit,
                             const char *filter, gridbus_record_fn *record, void *arg,
                             uint64_t *next, uint64_t *head);

/* The last reply frame of gridbus_ping or gridbus_replay, packed, or NULL; valid until the
 * next call on self. Lets a tool show every field of a pong, including ones newer than
 * this library. */
GB_EXPORT const void *gridbus_last_reply(const gridbus_t *self, size_t *len);

/* Why the last call failed: status, wire-style code, message ("" when none). */
GB_EXPORT gridbus_status_t gridbus_status(const gridbus_t *self);
GB_EXPORT const char *gridbus_errcode(const gridbus_t *self);
GB_EXPORT const char *gridbus_error(const gridbus_t *self);

/* ------------------------------------------------------------------------------------ */
/* gridbus_t: queries (query.c)                                                          */

/* Looks up one task ("t-12") with its history. 0 and *task set to the packed task map
 * (valid until the next query on self), or -1: E_TASK when there is no such task. */
GB_EXPORT int gridbus_query_task(gridbus_t *self, const char *id, const void **task, size_t *len);

/* Which tasks gridbus_query_tasks lists; NULL or 0 fields are not sent. */
typedef struct {
    const char *grid;     /* only this grid's */
    const char *assignee; /* only this member's */
    const char *status;   /* NULL: the open ones; a status (dispatched, accepted, in_progress,
                             done, closed, parked) or "all" */
    bool overdue;         /* only open tasks past a deadline */
    uint64_t after;       /* paging: 0 for the first page, then the *next of the last one */
    uint32_t limit;       /* a page's size, 1..500; 0: the daemon's default (50) */
} gridbus_tasks_query_t;

/* Lists one page of tasks in seq order: task() gets each as a packed map, then *next (may
 * be NULL) is the `after` of the next page, 0 when there is none. */
GB_EXPORT int gridbus_query_tasks(gridbus_t *self, const gridbus_tasks_query_t *query,
                                  gridbus_record_fn *task, void *arg, uint64_t *next);

/* A month's figures ("2026-11"), optionally for one grid or member. 0 and *stats set to the
 * packed stats map (valid until the next query on self), or -1. */
GB_EXPORT int gridbus_query_stats(gridbus_t *self, const char *month, const char *grid,
                                  const char *assignee, const void **stats, size_t *len);

/* Looks up one alert ("a-7") with its history. 0 and *alert set to the packed alert map
 * (valid until the next query on self), or -1: E_TASK when there is no such alert. */
GB_EXPORT int gridbus_query_alert(gridbus_t *self, const char *id, const void **alert, size_t *len);

/* The alerts raised on a community day ("2026-03-16"), in seq order: alert() gets each as a
 * packed alert map (without history). status: NULL or "all", else open, acknowledged or
 * resolved. limit 0: the most one reply carries (500). 0, or -1 (E_NACK E_SCHEMA for a bad
 * day or status). */
GB_EXPORT int gridbus_query_alerts(gridbus_t *self, const char *day, const char *status,
                                   uint32_t limit, gridbus_record_fn *alert, void *arg);

/* The monthly joint review pack ("2026-03"): the month's ledger entries up to the review
 * day, with their flags and totals. 0 and *audit set to the packed audit map (valid until
 * the next query on self), or -1. */
GB_EXPORT int gridbus_query_audit(gridbus_t *self, const char *month, const void **audit,
                                  size_t *len);

/* Reads the daemon's clock into *now (ms since the epoch; may be NULL). set_ms > 0 sets it
 * first, which only a daemon started with testing.allow_clock allows (else E_FORBIDDEN). */
GB_EXPORT int gridbus_clock(gridbus_t *self, int64_t set_ms, int64_t *now);

/* ------------------------------------------------------------------------------------ */
/* CURVE keys, for a daemon with security on (keys.c; proto/PROTOCOL.md, Security)       */

/* Room for a CURVE key as Z85 text (40 characters) and its NUL. */
#define GRIDBUS_KEY_BUF 41

/* A key pair as Z85 text; secret_key is "" when only the public key is known. */
typedef struct {
    char public_key[GRIDBUS_KEY_BUF];
    char secret_key[GRIDBUS_KEY_BUF];
} gridbus_keypair_t;

/* Makes the client a CURVE client with its key pair, talking to the daemon whose public
 * key is server_public (each 40 characters of Z85). Call before gridbus_connect. A daemon
 * that does not know the key refuses the handshake, which the client sees as no reply
 * (E_TIMEOUT). 0, or -1 with E_INVAL (not a key; a secret key that is not the public
 * key's). */
GB_EXPORT int gridbus_set_curve(gridbus_t *self, const char *client_public,
                                const char *client_secret, const char *server_public);

/* gridbus_set_curve from files: key_file holds the client's key pair (as `gridbus keygen`
 * writes it), server_key is the daemon's public key as Z85 text or a file holding it (the
 * daemon's STATE_DIR/server.pub). 0, or -1: E_IO (a file cannot be read), E_INVAL. */
GB_EXPORT int gridbus_set_key_file(gridbus_t *self, const char *key_file, const char *server_key);

/* A fresh key pair. 0, or -1 when libzmq has no CURVE. */
GB_EXPORT int gridbus_keypair_new(gridbus_keypair_t *kp);

/* Reads a key file: `public = KEY` and `secret = KEY` lines, blank lines, `#` comments. A
 * file without a secret line leaves secret_key ""; a 40-character Z85 text given instead
 * of a path is taken as a public key. 0, or -1 with err ("FILE:LINE: message"). */
GB_EXPORT int gridbus_keypair_load(const char *source, gridbus_keypair_t *kp, char *err,
                                   size_t errlen);

/* Writes kp (both keys) to a new file, mode 0600, after a `# comment` line (comment may be
 * NULL); an existing file is never replaced. 0, or -1 with err. */
GB_EXPORT int gridbus_keypair_save(const gridbus_keypair_t *kp, const char *path,
                                   const char *comment, char *err, size_t errlen);

/* ------------------------------------------------------------------------------------ */
/* gridbus_sub_t: a subscriber to a feed (subscriber.c)                                  */

/*
 * The daemon publishes each record of a feed (stream "tasks": topics "task/<grid>/<member>")
 * on a PUB socket after it is committed, and every second a heartbeat carrying the stream's
 * head. PUB/SUB loses messages (a subscriber that is not connected yet or too slow), so a
 * subscriber also replays the stream over ingest: it subscribes first, replays from its
 * cursor to the head, then takes live records, dropping those it already has (seq at or
 * below what it holds). A live record past the next expected seq, or a heartbeat head past
 * it, sends it back to replay from its cursor (with its filter) before anything later is
 * delivered. Feed seqs are global to the stream, so a filtered subscriber sees jumps that
 * are only other grids' records; the replay's `next` tells it so and its cursor moves past
 * them. The application gets every record whose topic starts with the filter, once, in
 * seq order. A feed that stays silent (no heartbeat for 3 s: a wrong endpoint, a daemon
 * restarted elsewhere) is not trusted: the subscriber then replays to the head every 3 s,
 * so records still come, later (stats: probes).
 *
 * The cursor (the feed seq up to which records are handled) is kept in a file, replaced
 * atomically (written to FILE.tmp, then renamed), so a restarted subscriber goes on where
 * the last one stopped. A record counts as handled once the application asks for the next
 * one (or calls gridbus_sub_save); the file is written before the subscriber waits or
 * replays, and on save and destroy. The application acts on a record before it is saved,
 * so after a crash the records handed out since the last save are delivered again:
 * at-least-once across crashes, exactly once otherwise. An application that needs exactly
 * once across crashes keeps the record's seq (gridbus_sub_seq) in its own store, in the
 * same transaction as its effect, and skips seqs at or below it. Without
 * gridbus_sub_set_fsync the rename is atomic but may not survive a power cut; the cursor
 * can then go back, which is still at-least-once. One subscriber per cursor file; like a
 * client, a subscriber is used by one thread at a time.
 */
typedef struct gridbus_sub gridbus_sub_t;

/* Where the tasks and alerts feeds are when no endpoint is given. */
#define GRIDBUS_TASKS_ENDPOINT_DEFAULT "tcp://127.0.0.1:7403"
#define GRIDBUS_ALERTS_ENDPOINT_DEFAULT "tcp://127.0.0.1:7404"

/* For gridbus_sub_set_start: begin at the stream's head when started. */
#define GRIDBUS_SUB_HEAD UINT64_MAX

/* A subscriber to stream ("tasks", "alerts") with the feed at feed_endpoint (NULL: the
 * stream's default above) and replays over ingest_endpoint (NULL: as gridbus_connect).
 * filter: the topic prefix wanted, e.g. "task/g1/" (NULL: the whole stream, "task/" for
 * "tasks", "alert/" for "alerts"). cursor_path: the cursor file (NULL: the cursor is kept
 * in memory only); a file that does not exist yet means "nothing handled". It connects and
 * subscribes at once (so the subscription is in place before the first replay) and talks
 * to the daemon from the first gridbus_sub_next. NULL only when out of memory; a bad
 * argument, endpoint or cursor file (unreadable, or written for another stream or filter)
 * makes every gridbus_sub_next fail with that error (E_INVAL, E_IO), and so does a cursor
 * past the stream's head (a cursor of another daemon). */
GB_EXPORT gridbus_sub_t *gridbus_sub_new(const char *ingest_endpoint, const char *feed_endpoint,
                                         const char *stream, const char *filter,
                                         const char *cursor_path);

/* Saves the cursor (records handed out before the last one; see gridbus_sub_save) and
 * frees the subscriber. */
GB_EXPORT void gridbus_sub_destroy(gridbus_sub_t **self_p);

/* Where a subscriber without a saved cursor starts: it delivers the records after seq
 * (default 0: the whole stream; GRIDBUS_SUB_HEAD: only what is committed after it starts).
 * Call before the first gridbus_sub_next; ignored when the cursor file exists. */
GB_EXPORT void gridbus_sub_set_start(gridbus_sub_t *self, uint64_t seq);

/* fsync the cursor file and its folder on every save (default off; see above). */
GB_EXPORT void gridbus_sub_set_fsync(gridbus_sub_t *self, bool on);

/* The replay connection's per-attempt timeout and re-sends (gridbus_set_timeout). */
GB_EXPORT void gridbus_sub_set_timeout(gridbus_sub_t *self, int timeout_ms);
GB_EXPORT void gridbus_sub_set_retries(gridbus_sub_t *self, int retries);

/* For a daemon with security on: makes both connections (feed and replay) CURVE clients,
 * as gridbus_set_curve and gridbus_set_key_file do for a client. Call before the first
 * gridbus_sub_next. 0, or -1 with E_INVAL (not keys) or E_IO (a file cannot be read). */
GB_EXPORT int gridbus_sub_set_curve(gridbus_sub_t *self, const char *client_public,
                                    const char *client_secret, const char *server_public);
GB_EXPORT int gridbus_sub_set_key_file(gridbus_sub_t *self, const char *key_file,
                                       const char *server_key);

/* Marks the record handed out last as handled and waits up to timeout_ms (< 0: for ever,
 * 0: not at all) for the next one. Returns 1 with *record and *len set to it (a packed
 * feed record map {seq, topic, at, change, by, task}, valid until the next call on self);
 * 0 when none came in time or a signal interrupted the wait; -1 on an error, which
 * gridbus_sub_errcode names. After E_TIMEOUT or E_TRANSPORT (the daemon did not answer a
 * replay) or E_IO (the cursor could not be saved) the subscriber is intact: call again to
 * retry. */
GB_EXPORT int gridbus_sub_next(gridbus_sub_t *self, int timeout_ms, const void **record,
                               size_t *len);

/* The seq of the record handed out last (0 before the first). */
GB_EXPORT uint64_t gridbus_sub_seq(const gridbus_sub_t *self);

/* The cursor: every record up to this feed seq is handled (for a filtered subscriber it
 * can pass records of other topics). */
GB_EXPORT uint64_t gridbus_sub_cursor(const gridbus_sub_t *self);

/* Marks the record handed out last as handled and writes the cursor file now. 0, or -1
 * (E_IO). */
GB_EXPORT int gridbus_sub_save(gridbus_sub_t *self);

/* What the subscriber has done, for monitoring and tests. The library owns it, so fields
 * may be added at the end. */
typedef struct {
    uint64_t delivered;  /* records handed to the application */
    uint64_t live;       /* of them, taken from the feed as they came */
    uint64_t replayed;   /* of them, taken from replay pages */
    uint64_t duplicates; /* live records dropped because they were already had */
    uint64_t gaps;       /* live seqs or heartbeat heads past the next expected seq */
    uint64_t replays;    /* replay requests made */
    uint64_t heartbeats; /* heartbeats received */
    uint64_t probes;     /* replays made because no heartbeat came for 3 s (feed down?) */
    uint64_t saves;      /* cursor files written */
} gridbus_sub_stats_t;

/* The subscriber's counters; valid as long as self. */
GB_EXPORT const gridbus_sub_stats_t *gridbus_sub_stats(const gridbus_sub_t *self);

/* Why the last call failed: status, wire-style code ("E_TIMEOUT", "E_SCHEMA", "E_IO", ...),
 * message ("" when none). */
GB_EXPORT gridbus_status_t gridbus_sub_status(const gridbus_sub_t *self);
GB_EXPORT const char *gridbus_sub_errcode(const gridbus_sub_t *self);
GB_EXPORT const char *gridbus_sub_error(const gridbus_sub_t *self);

/* ------------------------------------------------------------------------------------ */
/* gridbus_event_t: builds a v1 event                                                    */

typedef struct gridbus_event gridbus_event_t;

/* An empty event of no type yet; NULL only when out of memory. */
GB_EXPORT gridbus_event_t *gridbus_event_new(void);
GB_EXPORT void gridbus_event_destroy(gridbus_event_t **self_p);

/* The envelope. set_type fails with E_TYPE on a type that is not in schema v1; set_id
 * with E_SCHEMA on an id that is not 1..64 bytes of [A-Za-z0-9._:-]. Without set_id the
 * event gets a fresh gridbus_id_new() id when packed; without set_at, the time of packing.
 */
GB_EXPORT int gridbus_event_set_type(gridbus_event_t *self, const char *type);
GB_EXPORT int gridbus_event_set_id(gridbus_event_t *self, const char *id);
GB_EXPORT int gridbus_event_set_by(gridbus_event_t *self, const char *by);
GB_EXPORT int gridbus_event_set_grid(gridbus_event_t *self, const char *grid);
GB_EXPORT int gridbus_event_set_place(gridbus_event_t *self, const char *place);
GB_EXPORT int gridbus_event_set_at(gridbus_event_t *self, int64_t at_ms);

/* Sets body field key (optionally written "body.key") from text, coerced by the field's
 * kind in the type's schema: integers and times parse as decimal integers, booleans as
 * true/false (yes/no, 1/0), arrays as a comma-separated list, strings and enums as is.
 * Setting a key again replaces it. Fails with E_SCHEMA naming the key
 * ("body.amount_fen: not an integer: 'abc'"); needs the type set first. */
GB_EXPORT int gridbus_event_set(gridbus_event_t *self, const char *key, const char *value);

/* The same from one "key=value" argument. */
GB_EXPORT int gridbus_event_set_kv(gridbus_event_t *self, const char *key_value);

/* Checks the event as the daemon will (envelope and body; not the directory). */
GB_EXPORT int gridbus_event_validate(gridbus_event_t *self);

/* Packs the event as a msgpack map; *data lives until the next change to self. Fills the
 * id and time first when they were not set. */
GB_EXPORT int gridbus_event_pack(gridbus_event_t *self, const void **data, size_t *len);

/* The id (set, or made by the last pack), or NULL. */
GB_EXPORT const char *gridbus_event_id(const gridbus_event_t *self);

/* Why the last call failed: "E_SCHEMA", "E_TYPE", ... and the message. */
GB_EXPORT const char *gridbus_event_errcode(const gridbus_event_t *self);
GB_EXPORT const char *gridbus_event_error(const gridbus_event_t *self);

/* ------------------------------------------------------------------------------------ */
/* gridbus_id: event ids                                                                 */

/* Length of the ids gridbus_id_new makes. */
#define GRIDBUS_ID_LEN 26

/* Writes a fresh id into out: 26 characters of Crockford base32 (a ULID), the first 10 the
 * time in ms, the last 16 are 80 random bits (getrandom). Ids made later sort later as
 * strings; ids made in the same millisecond by one process still sort in creation order.
 * Thread-safe. Returns 0, or -1 when no random bytes can be had (errno set). */
GB_EXPORT int gridbus_id_new(char out[GRIDBUS_ID_BUF]);

/* The id for time ms and 10 random bytes (the pure part of gridbus_id_new, for tests). */
GB_EXPORT void gridbus_id_format(int64_t ms, const uint8_t random[10], char out[GRIDBUS_ID_BUF]);

/* The time encoded in an id made by gridbus_id_new: 0 and *ms set, or -1 when id is not
 * such an id. */
GB_EXPORT int gridbus_id_time(const char *id, int64_t *ms);

/* Milliseconds since the Unix epoch, from the system clock. */
GB_EXPORT int64_t gridbus_now_ms(void);

#ifdef __cplusplus
}
#endif

#endif
