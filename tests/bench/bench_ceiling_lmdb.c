/*
 * bench_ceiling_lmdb: how fast LMDB alone stores gridbus events on this disk, with no
 * network and no daemon: the storage ceiling beside the end-to-end figure.
 *
 * Per event it does what gridbusd's store does (daemon/store.c): an id -> seq put with
 * MDB_NOOVERWRITE into "ids" and an MDB_APPEND of the record ([received_at 8 bytes BE]
 * [canonical event msgpack], the mix of bench_events.h, about 250 bytes) into "log", in
 * a fresh environment in a temporary directory with default flags, so every commit is
 * fsync'd (durable). Once with 1,000 events per commit (group commit), once with one
 * event per commit (what acking each event on its own would cost).
 *
 * Settings (environment): BENCH_LMDB_EVENTS (default 1M, for the batched case; stops
 * after 10 s), BENCH_LMDB_COMMITS (default 5000 single-event commits; stops after 5 s),
 * BENCH_ROUNDS (default 3).
 */
#include <lmdb.h>

#include "bench.h"
#include "bench_events.h"
#include "event.h"

#define RING 4096
#define MAP_SIZE (UINT64_C(8) << 30)

typedef struct {
    unsigned char *data;
    size_t len;
} rec_t;

typedef struct {
    const char *key, *label;
    uint64_t events;
    uint32_t per_commit;
    double max_seconds;
} lmdb_case_t;

typedef struct {
    MDB_env *env;
    MDB_dbi log, ids;
    char dir[256];
} lmdb_t;

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* One record as the daemon stores it: receive time, then the canonical event. */
static int make_record(rec_t *r, wire_decoder_t *dec, msgpack_sbuffer *raw, msgpack_sbuffer *canon,
                       uint64_t k)
{
    msgpack_packer pk;
    const msgpack_object *obj;
    gb_error_t err;
    msgpack_sbuffer_clear(raw), msgpack_sbuffer_clear(canon);
    msgpack_packer_init(&pk, raw, msgpack_sbuffer_write);
    bench_pack_event(&pk, 0, (uint32_t)(k % 4), k / 4, bench_wall_ms());
    msgpack_packer_init(&pk, canon, msgpack_sbuffer_write);
    if (wire_decode_object(dec, raw->data, raw->size, &obj, &err) < 0 ||
        event_pack_canonical(&pk, obj) < 0)
        return -1;
    r->len = 8 + canon->size;
    r->data = malloc(r->len);
    if (!r->data)
        return -1;
    put_be64(r->data, (uint64_t)bench_wall_ms());
    memcpy(r->data + 8, canon->data, canon->size);
    return 0;
}

/* RING distinct records of the mix; *avg is their mean size. */
static int make_records(rec_t *ring, double *avg)
{
    wire_decoder_t *dec = wire_decoder_new();
    msgpack_sbuffer raw, canon;
    msgpack_sbuffer_init(&raw), msgpack_sbuffer_init(&canon);
    size_t total = 0;
    int rc = dec ? 0 : -1;
    for (uint64_t k = 0; rc == 0 && k < RING; k++)
        if ((rc = make_record(&ring[k], dec, &raw, &canon, k)) == 0)
            total += ring[k].len;
    *avg = (double)total / RING;
    msgpack_sbuffer_destroy(&raw), msgpack_sbuffer_destroy(&canon);
    wire_decoder_destroy(&dec);
    return rc;
}

static int lmdb_open(lmdb_t *db)
{
    MDB_txn *txn;
    int rc;
    if (bench_temp_dir(db->dir, sizeof db->dir, "lmdb") < 0)
        return -1;
    if ((rc = mdb_env_create(&db->env)) || (rc = mdb_env_set_maxdbs(db->env, 8)) ||
        (rc = mdb_env_set_mapsize(db->env, MAP_SIZE)) ||
        (rc = mdb_env_open(db->env, db->dir, 0, 0640)) ||
        (rc = mdb_txn_begin(db->env, NULL, 0, &txn)))
        return fprintf(stderr, "lmdb: %s\n", mdb_strerror(rc)), -1;
    if ((rc = mdb_dbi_open(txn, "log", MDB_CREATE, &db->log)) ||
        (rc = mdb_dbi_open(txn, "ids", MDB_CREATE, &db->ids)) || (rc = mdb_txn_commit(txn)))
        return fprintf(stderr, "lmdb: %s\n", mdb_strerror(rc)), -1;
    return 0;
}

static void lmdb_close(lmdb_t *db)
{
    if (db->env)
        mdb_env_close(db->env);
    bench_rm_tree(db->dir);
}

/* The two puts of event number seq (1-based), as daemon/store.c does them. */
static int put_event(lmdb_t *db, MDB_txn *txn, const rec_t *r, uint64_t seq, unsigned tag)
{
    char id[64];
    unsigned char key[8];
    put_be64(key, seq);
    bench_event_id(id, sizeof id, tag, (uint32_t)((seq - 1) % 4), (seq - 1) / 4);
    MDB_val idk = {strlen(id), id}, seqv = {8, key}, k = {8, key}, v = {r->len, NULL};
    int rc = mdb_put(txn, db->ids, &idk, &seqv, MDB_NOOVERWRITE);
    if (rc == 0 && (rc = mdb_put(txn, db->log, &k, &v, MDB_APPEND | MDB_RESERVE)) == 0)
        memcpy(v.mv_data, r->data, r->len);
    return rc;
}

/* One commit of up to n events from seq on: the events stored, or -1. */
static long commit_batch(lmdb_t *db, const rec_t *ring, uint64_t seq, uint64_t n, unsigned tag)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(db->env, NULL, 0, &txn);
    for (uint64_t j = 0; rc == 0 && j < n; j++)
        rc = put_event(db, txn, &ring[(seq + j) % RING], seq + j, tag);
    if (rc)
        return mdb_txn_abort(txn), fprintf(stderr, "lmdb: %s\n", mdb_strerror(rc)), -1;
    if ((rc = mdb_txn_commit(txn)))
        return fprintf(stderr, "lmdb commit: %s\n", mdb_strerror(rc)), -1;
    return (long)n;
}

static int run_case(const lmdb_case_t *c, const rec_t *ring, double rec_avg, int round)
{
    lmdb_t db = {0};
    uint64_t done = 0, commits = 0;
    int rc = lmdb_open(&db);
    uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(c->max_seconds * 1e9);
    while (rc == 0 && done < c->events && bench_now_ns() < deadline) {
        uint64_t n = c->events - done < c->per_commit ? c->events - done : c->per_commit;
        long got = commit_batch(&db, ring, done + 1, n, (unsigned)round);
        rc = got < 0 ? -1 : 0;
        done += got > 0 ? (uint64_t)got : 0, commits++;
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    lmdb_close(&db);
    bench_json_begin("ceiling", c->key, round, "per_s", true);
    bench_json_str("label", c->label);
    bench_json_u64("events", done);
    bench_json_u64("commits", commits);
    bench_json_u64("per_commit", c->per_commit);
    bench_json_num("record_bytes", rec_avg);
    bench_json_num("seconds", secs);
    bench_json_num("per_s", secs > 0 ? (double)done / secs : 0);
    bench_json_num("commits_per_s", secs > 0 ? (double)commits / secs : 0);
    bench_json_bool("failed", rc != 0);
    bench_json_end();
    fprintf(stderr, "  round %d  %-28s %8" PRIu64 " ev in %6" PRIu64 " commits %10.0f ev/s\n",
            round, c->key, done, commits, secs > 0 ? (double)done / secs : 0);
    return rc;
}

int main(void)
{
    static rec_t ring[RING];
    double avg;
    const lmdb_case_t cases[] = {
        {"lmdb 1000 per commit", "LMDB, 1,000 events per fsync'd commit (id put + log append)",
         bench_env_count("BENCH_LMDB_EVENTS", 1000000), 1000, 10},
        {"lmdb 1 per commit", "LMDB, 1 event per fsync'd commit (id put + log append)",
         bench_env_count("BENCH_LMDB_COMMITS", 5000), 1, 5},
    };
    int rounds = bench_rounds(), rc = 0;
    if (make_records(ring, &avg) < 0)
        return fprintf(stderr, "bench_ceiling_lmdb: cannot build records\n"), 1;
    fprintf(stderr, "bench_ceiling_lmdb: records of %.0f bytes on average, %d round(s)\n", avg,
            rounds);
    for (int round = 1; round <= rounds; round++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            rc |= run_case(&cases[i], ring, avg, round);
    for (size_t k = 0; k < RING; k++)
        free(ring[k].data);
    return rc ? 1 : 0;
}
