/*
 * test_upgrade: task records written by an earlier gridbusd, read by this one.
 *
 * Store schema 3 and before kept task and task-feed records in their wire form, maps that
 * name every field; schema 4 keeps positional arrays (daemon/taskrec.h) and still reads the
 * maps. The test runs a daemon, stops it, turns its records into the earlier form (each
 * task as a query returns it, each feed record as a replay returns it, packed back into
 * msgpack) and its schema mark into 3, and restarts it: the same tasks and the same feed
 * come back, a replay's topic filter works on them, the indexes are rebuilt from them, a
 * task of the earlier form takes its next step (stored in the new form, after the old
 * records in the same feed), and the store is marked as upgraded.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "gbcase.h"
#include "jsonmp.h"
#include "storepeek.h"

#define SUITE_TIMEOUT 120

static gbc_t *t;

static void teardown(void)
{
    if (t)
        cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

TestSuite(upgrade, .fini = teardown, .timeout = SUITE_TIMEOUT);

static MDB_env *open_store(const char *dir)
{
    MDB_env *env;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
    cr_assert_eq(mdb_env_set_mapsize(env, 64 << 20), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0, "open %s", dir);
    return env;
}

/* j packed as msgpack under key seq in the database named db. */
static void put_json(MDB_txn *txn, const char *db, uint64_t seq, const json_t *j)
{
    MDB_dbi dbi;
    unsigned char key[8];
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    jsonmp_pack_sbuffer(j, &sb);
    be64_put(key, seq);
    MDB_val k = {8, key}, v = {sb.size, sb.data};
    cr_assert_eq(mdb_dbi_open(txn, db, 0, &dbi), 0, "%s", db);
    cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0, "%s %" PRIu64, db, seq);
    msgpack_sbuffer_destroy(&sb);
}

/* Rewrites the stopped daemon's store as schema 3 wrote it: tasks and feed as wire maps. */
static void make_wire_records(const char *dir, json_t *const *tasks, size_t ntasks,
                              const json_t *feed)
{
    MDB_env *env = open_store(dir);
    MDB_txn *txn;
    MDB_dbi meta;
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    for (size_t i = 0; i < ntasks; i++)
        put_json(txn, "tasks", (uint64_t)gbc_int(tasks[i], "seq"), tasks[i]);
    for (size_t i = 0; i < json_array_size(feed); i++) {
        const json_t *rec = json_array_get(feed, i);
        put_json(txn, "feed", (uint64_t)gbc_int(rec, "seq"), rec);
    }
    unsigned char schema3[8] = {0, 0, 0, 0, 0, 0, 0, 3};
    MDB_val sk = {6, "schema"}, sv = {8, schema3};
    cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    cr_assert_eq(mdb_put(txn, meta, &sk, &sv, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* 0x93 and 0x95 start the arrays of the stored form; a map is the earlier form. */
static bool is_map(int first)
{
    return first >= 0 && ((first & 0xf0) == 0x80 || first == 0xde || first == 0xdf);
}

static json_t *task_of(uint64_t seq)
{
    json_t *task = gbc_task(t, seq);
    cr_assert_not_null(task, "no task t-%" PRIu64 ": %s", seq, gbt_show(t->c));
    return task;
}

static size_t listed(const char *by, const char *key)
{
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "tasks", by, key));
    cr_assert_not_null(res, "tasks by %s %s: %s", by, key, gbt_show(t->c));
    return json_array_size(json_object_get(res, "tasks"));
}

static void expect_json_eq(const json_t *got, const json_t *want, const char *what)
{
    char *g = json_dumps(got, JSON_SORT_KEYS), *w = json_dumps(want, JSON_SORT_KEYS);
    cr_expect(json_equal(got, want), "%s:\n got  %s\n want %s", what, g, w);
    free(g);
    free(w);
}

Test(upgrade, task_records_of_the_earlier_form_are_read_and_moved_on)
{
    t = gbc_start(NULL, NULL);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    uint64_t a = gbc_open(t, "repair.requested", "zhou.yang", "g1", "{'category':'water'}");
    uint64_t b = gbc_open(t, "repair.requested", "zhou.yang", "g1", "{'category':'electric'}");
    cr_assert(a && b, "%s", gbt_show(t->c));
    json_t *before[2] = {task_of(a), task_of(b)};
    char who[80], filter[120];
    snprintf(who, sizeof who, "%s", gbc_str(before[1], "assignee"));
    const wire_reply_t *r = gbc_step(t, "task.accepted", b, who, NULL);
    cr_assert(r && r->op == WIRE_REPLY_ACK, "accept: %s", gbt_show(t->c));
    json_decref(before[1]);
    before[1] = task_of(b);
    json_t *feed = gbc_feed(t, 1, NULL);
    cr_assert_eq(json_array_size(feed), 3, "two dispatched, one accepted");

    gbd_kill9(t->d);
    make_wire_records(gbd_state_dir(t->d), before, 2, feed);
    cr_expect(is_map(storepeek_first_byte(gbd_state_dir(t->d), "feed", 3)),
              "a map, as schema 3 wrote");
    cr_assert_eq(gbd_restart(t->d), 0, "gridbusd did not restart on the earlier records");
    cr_assert_eq(gbc_reconnect(t), 0, "%s", gbt_why());

    for (int i = 0; i < 2; i++) {
        json_t *now = task_of(i ? b : a);
        expect_json_eq(now, before[i], "a task of the earlier form, queried");
        json_decref(now);
    }
    json_t *again = gbc_feed(t, 1, NULL);
    expect_json_eq(again, feed, "the feed of the earlier form, replayed");
    json_decref(again);
    snprintf(filter, sizeof filter, "task/g1/%s", who);
    json_t *mine = gbc_feed(t, 1, filter);
    cr_assert_not_null(mine);
    cr_expect_eq(json_array_size(mine), 2, "the filter finds b's two records");
    json_decref(mine);
    char cmd[900];
    snprintf(cmd, sizeof cmd, "grep -q 'task indexes rebuilt.* tasks=2 ' '%s'", gbd_log_path(t->d));
    cr_expect_eq(system(cmd), 0, "the indexes were rebuilt from the 2 tasks of the earlier form");
    cr_expect_eq(listed("grid", "g1"), 2);
    cr_expect_eq(listed("assignee", who), 1);

    r = gbc_step(t, "task.completed", b, who, NULL);
    cr_assert(r && r->op == WIRE_REPLY_ACK, "complete: %s", gbt_show(t->c));
    json_t *done = task_of(b);
    cr_expect_str_eq(gbc_str(done, "status"), "done");
    cr_expect_eq(gbc_steps(done, "accepted"), 1, "the step of the earlier record is kept");
    cr_expect_eq(gbc_steps(done, "completed"), 1);
    json_decref(done);
    json_t *after = gbc_feed(t, 1, NULL);
    cr_assert_eq(json_array_size(after), 4, "the feed goes on after the earlier records");
    const json_t *last = json_array_get(after, 3);
    cr_expect_eq(gbc_int(last, "seq"), 4);
    cr_expect_str_eq(gbc_str(last, "change"), "done");
    cr_expect_str_eq(gbc_str(json_object_get(last, "task"), "status"), "done");
    json_decref(after);

    gbd_kill9(t->d);
    const char *dir = gbd_state_dir(t->d);
    cr_expect_eq(storepeek_first_byte(dir, "feed", 4), 0x95, "the new record in the stored form");
    cr_expect_eq(storepeek_first_byte(dir, "tasks", b), 0x93, "b rewritten in the stored form");
    cr_expect(is_map(storepeek_first_byte(dir, "tasks", a)), "a untouched, still a map");
    cr_expect_eq(storepeek_schema(dir), 4, "marked as upgraded: an older gridbusd refuses it");
    cr_assert_eq(gbd_restart(t->d), 0);
    cr_assert_eq(gbc_reconnect(t), 0, "%s", gbt_why());
    json_decref(before[0]);
    json_decref(before[1]);
    json_decref(feed);
}
