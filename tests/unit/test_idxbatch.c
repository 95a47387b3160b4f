/*
 * test_idxbatch: held-back sorted-duplicate values (daemon/idxbatch.c), against a real LMDB
 * environment in a temporary directory.
 *
 * Values queued under interleaved keys land under their own keys in order; a key whose
 * stored values are above the queued ones still gets every value (the one-by-one path); a
 * full batch, a key too long and a value of another size are refused; holds() tells a queued task
 * from an earlier one; a cleared batch puts nothing.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "idxbatch.h"

static char dir[256];
static MDB_env *env;
static MDB_dbi dbi;
static idxbatch_t *b;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/gb-idxbatch-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 2);
    mdb_env_set_mapsize(env, 64u << 20);
    cr_assert_eq(mdb_env_open(env, dir, MDB_NOSYNC, 0600), 0);
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "x", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &dbi), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    b = idxbatch_new(8);
    cr_assert_not_null(b);
}

static void teardown(void)
{
    idxbatch_destroy(&b);
    cr_assert_null(b);
    mdb_env_close(env);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(idxbatch, .init = setup, .fini = teardown);

static int add(const char *key, uint64_t v)
{
    unsigned char val[8];
    be64_put(val, v);
    return idxbatch_add(b, key, strlen(key), val, sizeof val, v);
}

static void flush(void)
{
    MDB_txn *txn;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(idxbatch_flush(b, txn, dbi), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

/* The values under key, in stored order, into out (at most cap); their count. */
static size_t values(const char *key, uint64_t *out, size_t cap)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    size_t n = 0;
    cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    cr_assert_eq(mdb_cursor_open(txn, dbi, &cur), 0);
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    while (rc == 0 && n < cap) {
        cr_assert_eq(v.mv_size, 8);
        out[n++] = be64_get(v.mv_data);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return n;
}

Test(idxbatch, interleaved_keys_land_under_their_own_keys_in_order)
{
    for (uint64_t v = 1; v <= 300; v++)
        cr_assert_eq(add(v % 3 == 0 ? "a" : v % 3 == 1 ? "bb" : "ccc", v), 0);
    flush();
    uint64_t got[200];
    const char *keys[] = {"ccc", "a", "bb"}; /* v % 3 == 2, 0, 1 */
    for (int k = 0; k < 3; k++) {
        size_t n = values(keys[k], got, 200);
        cr_assert_eq(n, 100, "%s holds %zu values", keys[k], n);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(got[i] % 3, (uint64_t)(k + 2) % 3, "%s[%zu] = %llu", keys[k], i,
                         (unsigned long long)got[i]);
        for (size_t i = 1; i < n; i++)
            cr_assert_gt(got[i], got[i - 1], "%s out of order at %zu", keys[k], i);
    }
}

Test(idxbatch, a_key_with_higher_values_stored_still_gets_every_value)
{
    cr_assert_eq(add("k", 100), 0);
    flush();
    cr_assert_eq(add("k", 50), 0);
    cr_assert_eq(add("k", 150), 0);
    cr_assert_eq(add("k", 100), 0); /* already there: stays once */
    flush();
    uint64_t got[8];
    cr_assert_eq(values("k", got, 8), 3);
    cr_assert_eq(got[0], 50);
    cr_assert_eq(got[1], 100);
    cr_assert_eq(got[2], 150);
}

Test(idxbatch, a_full_batch_a_key_too_long_and_a_value_of_another_size_are_refused)
{
    unsigned char nine[9] = {0};
    cr_assert_eq(idxbatch_add(b, "k", 1, nine, sizeof nine, 1), -1,
                 "a 9-byte value in a batch of 8");
    cr_assert(!idxbatch_holds(b, 1));
    char key[IDXBATCH_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    cr_assert_eq(add(key, 1), -1, "a key of %zu bytes", strlen(key));
    key[IDXBATCH_KEY_MAX] = 0;
    cr_assert_eq(add(key, 1), 0, "a key of %zu bytes", strlen(key));
    idxbatch_clear(b);
    uint64_t v = 1;
    int rc = 0;
    for (; rc == 0 && v <= 100000; v++)
        rc = add("k", v);
    cr_assert_eq(rc, -1, "still taking values at %llu", (unsigned long long)v);
    cr_assert_gt(v, 1000, "refused early, at %llu", (unsigned long long)v);
    idxbatch_clear(b);
    char name[16];
    for (v = 1, rc = 0; rc == 0 && v <= 100000; v++)
        snprintf(name, sizeof name, "k%llu", (unsigned long long)v), rc = add(name, v);
    cr_assert_eq(rc, -1, "still taking keys at %llu", (unsigned long long)v);
    flush(); /* what was taken goes in */
    uint64_t got[2];
    cr_assert_eq(values("k1", got, 2), 1);
    cr_assert_eq(got[0], 1);
}

Test(idxbatch, holds_only_what_may_be_queued_and_clear_drops_it)
{
    cr_assert(!idxbatch_holds(b, 5), "an empty batch holds nothing");
    cr_assert_eq(add("k", 10), 0);
    cr_assert_eq(add("k", 12), 0);
    cr_assert(idxbatch_holds(b, 10));
    cr_assert(idxbatch_holds(b, 11));
    cr_assert(!idxbatch_holds(b, 9));
    idxbatch_clear(b);
    cr_assert(!idxbatch_holds(b, 10));
    flush();
    uint64_t got[2];
    cr_assert_eq(values("k", got, 2), 0, "a cleared batch put something");
}
