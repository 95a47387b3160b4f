/*
 * storepeek: see storepeek.h. Each call opens the environment read-only, reads, and closes
 * it again, so a test can look between restarts without holding the store open.
 */
#include "storepeek.h"

#include <lmdb.h>
#include <string.h>

#include "be64.h"

static MDB_env *open_ro(const char *dir)
{
    MDB_env *env;
    if (mdb_env_create(&env))
        return NULL;
    if (mdb_env_set_maxdbs(env, 16) || mdb_env_open(env, dir, MDB_RDONLY, 0600)) {
        mdb_env_close(env);
        return NULL;
    }
    return env;
}

/* The value under key in the named database: its size in *len and up to cap of its first
 * bytes in buf. 0, or -1 when there is none. */
static int get(const char *dir, const char *db, const void *key, size_t klen, unsigned char *buf,
               size_t cap, size_t *len)
{
    MDB_env *env = open_ro(dir);
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_val k = {klen, (void *)key}, v;
    int rc = -1;
    if (!env)
        return -1;
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        if (mdb_dbi_open(txn, db, 0, &dbi) == 0 && mdb_get(txn, dbi, &k, &v) == 0) {
            *len = v.mv_size;
            memcpy(buf, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
            rc = 0;
        }
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

uint64_t storepeek_schema(const char *dir)
{
    unsigned char mark[8];
    size_t len;
    if (get(dir, "meta", "schema", 6, mark, sizeof mark, &len) < 0 || len != 8)
        return 0;
    return be64_get(mark);
}

bool storepeek_has_db(const char *dir, const char *name)
{
    MDB_env *env = open_ro(dir);
    MDB_txn *txn;
    MDB_dbi dbi;
    bool found = false;
    if (!env)
        return false;
    if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0) {
        int rc = mdb_dbi_open(txn, name, 0, &dbi);
        found = rc == 0 || rc == MDB_INCOMPATIBLE; /* a sorted-duplicate one is there too */
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return found;
}

int storepeek_first_byte(const char *dir, const char *db, uint64_t seq)
{
    unsigned char key[8], first = 0;
    size_t len;
    be64_put(key, seq);
    return get(dir, db, key, 8, &first, 1, &len) < 0 || len == 0 ? -1 : first;
}
