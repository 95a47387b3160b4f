/*
 * store: gridbusd's durable state in one LMDB environment.
 *
 * Named databases: "log" (event seq -> record), "ids" (event id -> seq), "dead" (dead
 * letters, bounded), "meta" (schema version). Writes happen in one write transaction per
 * batch (group commit): store_begin, any number of appends and dead letters, then
 * store_commit, which fsyncs before it returns. Nothing is acked before that.
 *
 * A full map (MDB_MAP_FULL) is reported as STORE_FULL so the caller can abort, call
 * store_grow and run the batch again; store_grow refuses past the configured cap.
 */
#ifndef GB_STORE_H
#define GB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>

/* 4: task and task-feed records stored as positional arrays (taskrec.h; 3 and earlier wrote
 * their wire maps, which are still read). 3: the task indexes in an environment of their
 * own (taskidx.c); 2 had them here as sorted duplicates, 1 as plain keys. A gridbusd of an
 * earlier schema could not read the records or would write tasks without updating the
 * indexes, so an older store is upgraded when taskdb opens it (store_mark_schema) and an
 * older gridbusd refuses the upgraded one. */
#define STORE_SCHEMA_VERSION 4
#define STORE_SCHEMA_OLDEST 1
/* Named databases the environment may hold (store's and taskdb's); every opener uses it. */
#define STORE_MAX_DBS 16

typedef struct store store_t;

typedef struct {
    uint64_t map_size;        /* initial map size in bytes */
    uint64_t map_size_max;    /* store_grow never goes past this */
    uint32_t dead_letter_max; /* the oldest dead letters go beyond this */
    unsigned env_flags;       /* more mdb_env_open flags: 0 for the durable main store */
} store_opts_t;

/* Result of a write call. */
typedef enum {
    STORE_OK = 0,
    STORE_DUP,      /* append: the id is stored with the same content */
    STORE_CONFLICT, /* append: the id is stored with different content */
    STORE_FULL,     /* the map is full: abort, grow, retry */
    STORE_ERROR,    /* anything else; store_error says what */
} store_rc_t;

/* A stored event as replay sees it. */
typedef struct {
    uint64_t seq;
    int64_t received_at;
    const void *event; /* canonical msgpack of the event; valid until the read ends */
    size_t event_len;
} store_event_t;

/* A dead letter: an input that was refused, why, and from where. */
typedef struct {
    int64_t at;
    const char *source; /* "ingest 127.0.0.1:53412" */
    const char *code;   /* "E_SCHEMA" */
    const char *error;
    const void *input; /* the first bytes of the refused frame */
    size_t input_len;
} store_dead_t;

/* Opens (creating) the environment in dir. NULL on failure with the reason in err. */
store_t *store_new(const char *dir, const store_opts_t *opts, char *err, size_t errlen);
void store_destroy(store_t **self_p);

/* The reason of the last failure; never freed by the caller. */
const char *store_error(const store_t *self);

/* The kind of the last failure (STORE_FULL or STORE_ERROR), for callers that only saw -1. */
store_rc_t store_last_failure(const store_t *self);

/* A module that caches what it writes (tload) registers here: flush runs inside every
 * write transaction right before its commit and may fail it; end runs when the
 * transaction is over, committed or not, so an aborted batch's changes leave the cache too.
 * flush may be NULL (a cache that only needs dropping). At most STORE_HOOKS_MAX; -1 when
 * full. store_off_txn removes arg's hook. */
#define STORE_HOOKS_MAX 4
typedef store_rc_t (*store_flush_fn)(void *arg);
typedef void (*store_end_fn)(void *arg, bool committed);
int store_on_txn(store_t *self, store_flush_fn flush, store_end_fn end, void *arg);
void store_off_txn(store_t *self, void *arg);

/* Marks the store as of STORE_SCHEMA_VERSION, inside the open batch (after the upgrade
 * that makes it so). */
store_rc_t store_mark_schema(store_t *self);

/* Opens the batch's write transaction. */
store_rc_t store_begin(store_t *self);

/* Appends an event under id. On STORE_OK *seq is the new sequence number; on STORE_DUP it
 * is the original one. record is the canonical event encoding. */
store_rc_t store_append(store_t *self, const char *id, size_t id_len, int64_t received_at,
                        const void *event, size_t event_len, uint64_t *seq);

/* Is id stored, and with this content? STORE_DUP (*seq set), STORE_CONFLICT (*seq set),
 * or STORE_OK when the id is not stored. Inside the batch when one is open. */
store_rc_t store_match(store_t *self, const char *id, size_t id_len, const void *event,
                       size_t event_len, uint64_t *seq);

/* Keeps a refused input; drops the oldest beyond dead_letter_max. */
store_rc_t store_dead_letter(store_t *self, const store_dead_t *dead);

/* Commits (fsync) the batch. On failure the batch is gone, as after store_abort. */
store_rc_t store_commit(store_t *self);
void store_abort(store_t *self);

/* Doubles the map, up to map_size_max. Only between batches. 0, or -1 at the cap. */
int store_grow(store_t *self);

/* Highest committed event seq (0 when empty), and the dead-letter count. */
uint64_t store_head(const store_t *self);
uint64_t store_dead_count(store_t *self);
uint64_t store_map_size(const store_t *self);

/* Calls fn for up to limit events with seq >= from, in order, inside one read
 * transaction. Stops early when fn returns non-zero. Returns the number visited or -1. */
typedef int (*store_event_fn)(void *arg, const store_event_t *ev);
long store_read_events(store_t *self, uint64_t from, uint32_t limit, store_event_fn fn, void *arg);

/* Looks up an event by id in a read transaction: 0 and *seq, or -1 when absent. */
int store_find_id(store_t *self, const char *id, size_t id_len, uint64_t *seq);

/* Calls fn for every dead letter, oldest first (for tests and ops). */
typedef int (*store_dead_fn)(void *arg, const store_dead_t *dead);
long store_read_dead(store_t *self, store_dead_fn fn, void *arg);

/* Clears the reader slots of processes that died inside a read transaction: such a slot
 * pins the pages it read, so the file would only grow. The number cleared since the last
 * call (the first call also counts those cleared by store_new), or -1 (store_error). */
int store_reader_check(store_t *self);

/* Writes a compacted, consistent copy of the environment in state_dir to fd: one read
 * transaction's snapshot, free pages left out. Opens the environment read-only, so the
 * daemon that owns it keeps serving meanwhile. 0, or -1 with the reason in err. */
int store_backup(const char *state_dir, int fd, char *err, size_t errlen);

/* What a data file holds, for checking a backup before it is trusted. */
typedef struct {
    uint64_t schema; /* the "meta" schema version */
    uint64_t head;   /* highest event seq */
    size_t ndbs;
    struct {
        char name[32];
        uint64_t entries;
    } dbs[STORE_MAX_DBS]; /* every named database, by name */
} store_summary_t;

/* Reads the data file at path (no lock file: nobody else may have it open) into *out.
 * 0, or -1 with err when it is not a readable gridbusd store of this schema. */
int store_inspect_file(const char *path, store_summary_t *out, char *err, size_t errlen);

/* For modules that keep their own databases in the same environment and batch (taskdb):
 * the environment, the batch's write transaction (NULL between batches), a read
 * transaction that is the batch's own when one is open, and the error setter. */
MDB_env *store_env(store_t *self);
MDB_txn *store_txn(store_t *self);
int store_read_begin(store_t *self, MDB_txn **txn);
void store_read_end(store_t *self, MDB_txn *txn);
store_rc_t store_fail(store_t *self, int mdb_rc, const char *what);

/* mdb_put(MDB_APPEND | flags) in the batch's write transaction, k above every key of dbi,
 * through a cursor the store keeps on dbi until the batch ends: appends in a row find the
 * last page without a tree search. LMDB's code: MDB_KEYEXIST when k is not above the last
 * key. */
#define STORE_APPENDERS_MAX 32
int store_put_append(store_t *self, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags);

/* Opens (creating) a module's own named databases in one transaction: the arguments after
 * what are pairs of a name and an MDB_dbi *, ended by NULL. 0, or -1 with
 * "<what>: <reason>" in err. */
int store_open_dbs(store_t *self, char *err, size_t errlen, const char *what, ...);

/* Walks dbi from start (start_len 0: from the first key) while keys begin with the first
 * prefix_len bytes of start; fn non-zero stops. fn is handed the walk's transaction (the
 * batch's when one is open) to read other databases in: one thread may hold only one read
 * transaction. The number of keys visited, or -1. */
typedef int (*store_walk_fn)(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v);
long store_walk(store_t *self, MDB_dbi dbi, const void *start, size_t start_len, size_t prefix_len,
                store_walk_fn fn, void *arg);

#endif
