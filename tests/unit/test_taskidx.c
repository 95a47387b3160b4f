/*
 * test_taskidx: the task indexes as the indexer derives them from the feed (daemon/taskidx.c
 * through taskdb), on real LMDB environments in a temporary directory.
 *
 * The indexer holds a new task's entries back and puts each key's run at once (idxbatch);
 * these tests commit tasks that are opened and then moved, closed or parked in the same
 * batch, so the indexer meets both records in one chunk, and check every index where the
 * tasks ended: by assignee, by grid, parked, the deadline queue; and that a rebuild from
 * the task records gives the same.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskdb.h"

#define MiB (1024u * 1024u)

static char dir[256], idx_dir[300];
static store_opts_t opts;
static store_t *st;
static taskdb_t *db;
static task_t *t, *old;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static store_opts_t idx_opts; /* the index environment's */

static void open_all(void)
{
    char err[512] = "";
    st = store_new(dir, &opts, err, sizeof err);
    cr_assert_not_null(st, "store_new: %s", err);
    db = taskdb_new(st, idx_dir, &idx_opts, err, sizeof err);
    cr_assert_not_null(db, "taskdb_new: %s", err);
}

static void close_all(void)
{
    taskdb_destroy(&db);
    store_destroy(&st);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/gb-taskidx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(idx_dir, sizeof idx_dir, "%s/index", dir);
    opts = (store_opts_t){.map_size = 32 * MiB, .map_size_max = 256 * MiB, .dead_letter_max = 10};
    idx_opts = opts;
    t = malloc(sizeof *t);
    old = malloc(sizeof *old);
    cr_assert(t && old);
    open_all();
}

static void teardown(void)
{
    close_all();
    free(t);
    free(old);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(taskidx, .init = setup, .fini = teardown);

/* A task as opened: dispatched to assignee, or parked when assignee is "". */
static void make(task_t *out, uint64_t seq, const char *grid, const char *assignee,
                 int64_t accept_by)
{
    task_reset(out);
    out->seq = seq;
    snprintf(out->event_id, sizeof out->event_id, "ev-%llu", (unsigned long long)seq);
    snprintf(out->type, sizeof out->type, "repair.requested");
    snprintf(out->route, sizeof out->route, "repairs");
    snprintf(out->role, sizeof out->role, "home_helper");
    snprintf(out->grid, sizeof out->grid, "%s", grid);
    snprintf(out->assignee, sizeof out->assignee, "%s", assignee);
    out->status = *assignee ? TASK_DISPATCHED : TASK_PARKED;
    out->created_at = 1;
    out->accept_by = *assignee ? accept_by : 0;
}

static void put(const task_t *before, const task_t *after, const char *change)
{
    cr_assert_eq(taskdb_put(db, before, after, change, "test", 1), STORE_OK, "put: %s",
                 store_error(st));
}

static void count_is(char index, const char *key, long want)
{
    long n = taskdb_count(db, index, key);
    cr_assert_eq(n, want, "index %c under \"%s\" holds %ld, not %ld", index, key, n, want);
}

typedef struct {
    uint64_t seq[16];
    int64_t due[16];
    int n;
} dues_t;

static int on_due(void *arg, uint64_t seq, deadline_kind_t kind, int64_t due)
{
    dues_t *d = arg;
    (void)kind;
    if (d->n < 16)
        d->seq[d->n] = seq, d->due[d->n] = due;
    d->n++;
    return 0;
}

/* Where six tasks ended, after one batch that opened them and moved three. */
static void check_ended(void)
{
    count_is('a', "m1", 1); /* C */
    count_is('a', "m2", 0); /* B, closed */
    count_is('a', "m3", 1); /* A, returned by m1 to m3 */
    count_is('a', "", 1);   /* D, parked */
    count_is('g', "g1", 1); /* A */
    count_is('g', "g2", 2); /* C, D */
    dues_t d = {0};
    cr_assert_geq(taskdb_take_due(db, 1000000, on_due, &d), 0);
    cr_assert_eq(d.n, 2, "%d deadlines due", d.n);
    cr_assert_eq(d.seq[0], 1, "A first, as moved to 1500");
    cr_assert_eq(d.due[0], 1500);
    cr_assert_eq(d.seq[1], 3);
    cr_assert_eq(d.due[1], 3000);
}

static void open_and_move_in_one_batch(void)
{
    cr_assert_eq(store_begin(st), STORE_OK);
    make(t, 1, "g1", "m1", 1000), put(NULL, t, "dispatched"); /* A */
    make(t, 2, "g1", "m2", 2000), put(NULL, t, "dispatched"); /* B */
    make(t, 3, "g2", "m1", 3000), put(NULL, t, "dispatched"); /* C */
    make(old, 1, "g1", "m1", 1000), make(t, 1, "g1", "m3", 1500);
    t->nreturned = 1, snprintf(t->returned_by[0], sizeof t->returned_by[0], "m1");
    put(old, t, "returned");
    make(old, 2, "g1", "m2", 2000), *t = *old, t->status = TASK_CLOSED, t->closed_at = 2;
    put(old, t, "verified");
    make(t, 4, "g2", "", 0), put(NULL, t, "parked"); /* D */
    cr_assert_eq(store_commit(st), STORE_OK, "commit: %s", store_error(st));
}

Test(taskidx, tasks_moved_in_the_batch_that_opened_them_are_indexed_where_they_ended)
{
    open_and_move_in_one_batch();
    check_ended();
}

Test(taskidx, a_rebuild_from_the_task_records_gives_the_same_indexes)
{
    open_and_move_in_one_batch();
    check_ended();
    close_all();
    nftw(idx_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    open_all();
    check_ended();
}

typedef struct {
    long n, closed;
    uint64_t last;
} scanned_t;

static int on_task(void *arg, const task_t *task, const void *rec, size_t len)
{
    scanned_t *sc = arg;
    (void)rec, (void)len;
    cr_assert_gt(task->seq, sc->last, "task %llu after %llu", (unsigned long long)task->seq,
                 (unsigned long long)sc->last);
    cr_assert_eq(task->status == TASK_CLOSED, task->seq % 3 == 2, "task %llu",
                 (unsigned long long)task->seq);
    sc->last = task->seq, sc->n++, sc->closed += task->status == TASK_CLOSED;
    return 0;
}

/* Thousands of tasks in one batch, every third closed right after the next one opens: runs
 * longer than the indexer holds back, closes of tasks still held back and of tasks already
 * put. */
static void thousands_opened_and_closed(void)
{
    enum { N = 6000, MEMBERS = 120 };
    long per_member[MEMBERS] = {0}, per_grid[3] = {0};
    char name[16];
    cr_assert_eq(store_begin(st), STORE_OK);
    for (uint64_t s = 1; s <= N; s++) {
        snprintf(name, sizeof name, "m%llu", (unsigned long long)(s % MEMBERS));
        char grid[4] = {'g', (char)('0' + s % 3), 0};
        make(t, s, grid, name, (int64_t)(1000 + s)), put(NULL, t, "dispatched");
        per_member[s % MEMBERS]++, per_grid[s % 3]++;
        if (s % 3 == 0) { /* close the task before this one */
            uint64_t c = s - 1;
            snprintf(name, sizeof name, "m%llu", (unsigned long long)(c % MEMBERS));
            char cg[4] = {'g', (char)('0' + c % 3), 0};
            make(old, c, cg, name, (int64_t)(1000 + c));
            *t = *old, t->status = TASK_CLOSED, t->closed_at = 2;
            put(old, t, "verified");
            per_member[c % MEMBERS]--, per_grid[c % 3]--;
        }
    }
    cr_assert_eq(store_commit(st), STORE_OK, "commit: %s", store_error(st));
    for (int m = 0; m < MEMBERS; m++)
        snprintf(name, sizeof name, "m%d", m), count_is('a', name, per_member[m]);
    count_is('g', "g0", per_grid[0]);
    count_is('g', "g1", per_grid[1]);
    count_is('g', "g2", per_grid[2]);
    /* the records themselves, appended and rewritten in the same batch */
    scanned_t sc = {0, 0, 0};
    cr_assert_eq(taskdb_scan(db, 0, "", 0, N + 1, on_task, &sc), N);
    cr_assert_eq(sc.n, N);
    cr_assert_eq(sc.closed, N / 3, "%ld closed", sc.closed);
}

Test(taskidx, thousands_opened_and_closed_in_one_batch_leave_the_open_ones)
{
    thousands_opened_and_closed();
}

/* The index map fills up (twice) while the indexer holds entries back: the chunk is aborted,
 * the map grown, the chunk applied again, and nothing held from the aborted try remains. */
Test(taskidx, an_index_map_that_fills_up_mid_chunk_loses_nothing)
{
    close_all();
    idx_opts.map_size = 256 * 1024;
    open_all();
    thousands_opened_and_closed();
}
