/*
 * test_store: the LMDB store (daemon/store.c) in a fresh temporary directory per test:
 * append and seq order, idempotent resends and conflicts, abort, persistence across a
 * reopen, reading the log back, bounded dead letters, and map growth up to its cap.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"

#define KiB 1024ULL
#define MiB (1024ULL * 1024ULL)

static char dir[256];
static store_t *st;
static store_opts_t opts;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void setup(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/gb-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(dir), "mkdtemp %s", dir);
    opts = (store_opts_t){.map_size = 8 * MiB, .map_size_max = 64 * MiB, .dead_letter_max = 100};
}

static void teardown(void)
{
    store_destroy(&st);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = setup, .fini = teardown);

static void open_store(void)
{
    char err[512] = "";
    st = store_new(dir, &opts, err, sizeof err);
    cr_assert_not_null(st, "store_new: %s", err);
}

static void reopen(void)
{
    store_destroy(&st);
    cr_assert_null(st);
    open_store();
}

/* Appends the string ev under id, expecting want; returns the seq. */
static uint64_t append(const char *id, const char *ev, int64_t at, store_rc_t want)
{
    uint64_t seq = 0;
    store_rc_t rc = store_append(st, id, strlen(id), at, ev, strlen(ev), &seq);
    cr_assert_eq(rc, want, "append %s: rc %d, want %d (%s)", id, rc, want, store_error(st));
    return seq;
}

static void begin(void)
{
    cr_assert_eq(store_begin(st), STORE_OK, "%s", store_error(st));
}

static void commit(void)
{
    cr_assert_eq(store_commit(st), STORE_OK, "%s", store_error(st));
}

typedef struct {
    uint64_t seq[64];
    int64_t at[64];
    char ev[64][64];
    int n;
    int stop_after; /* 0: never */
} seen_t;

static int collect(void *arg, const store_event_t *e)
{
    seen_t *s = arg;
    cr_assert_lt(s->n, 64);
    s->seq[s->n] = e->seq;
    s->at[s->n] = e->received_at;
    cr_assert_lt(e->event_len, 64);
    memcpy(s->ev[s->n], e->event, e->event_len);
    s->ev[s->n][e->event_len] = 0;
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static seen_t read_from(uint64_t from, uint32_t limit)
{
    seen_t s = {.n = 0};
    long n = store_read_events(st, from, limit, collect, &s);
    cr_assert_eq(n, s.n, "store_read_events returned %ld, visited %d", n, s.n);
    return s;
}

Test(store, new_store_is_empty)
{
    open_store();
    cr_expect_eq(store_head(st), 0);
    cr_expect_eq(store_dead_count(st), 0);
    cr_expect_eq(store_map_size(st), 8 * MiB);
    seen_t s = read_from(0, 100);
    cr_expect_eq(s.n, 0);
    uint64_t seq;
    cr_expect_eq(store_find_id(st, "x", 1, &seq), -1);
}

Test(store, store_dir_is_created)
{
    char sub[300];
    snprintf(sub, sizeof sub, "%s/state", dir);
    char err[512] = "";
    st = store_new(sub, &opts, err, sizeof err);
    cr_assert_not_null(st, "%s", err);
    cr_expect_eq(access(sub, F_OK), 0);
}

Test(store, unopenable_dir_is_an_error_with_a_reason)
{
    char bad[300], err[512] = "";
    snprintf(bad, sizeof bad, "%s/no/such/parent", dir);
    st = store_new(bad, &opts, err, sizeof err);
    cr_expect_null(st);
    cr_expect(strstr(err, bad) != NULL, "the error names the dir: %s", err);
}

Test(store, appends_get_increasing_seqs)
{
    open_store();
    begin();
    cr_expect_eq(append("a", "event-a", 1000, STORE_OK), 1);
    cr_expect_eq(append("b", "event-b", 1001, STORE_OK), 2);
    cr_expect_eq(store_head(st), 2, "inside a batch the head counts its own appends");
    commit();
    cr_expect_eq(store_head(st), 2);
    begin();
    cr_expect_eq(append("c", "event-c", 1002, STORE_OK), 3);
    commit();
    cr_expect_eq(store_head(st), 3);
    uint64_t seq = 0;
    cr_expect_eq(store_find_id(st, "b", 1, &seq), 0);
    cr_expect_eq(seq, 2);
}

Test(store, resend_is_a_dup_with_the_original_seq)
{
    open_store();
    begin();
    append("a", "event-a", 1000, STORE_OK);
    append("b", "event-b", 1000, STORE_OK);
    cr_expect_eq(append("a", "event-a", 2000, STORE_DUP), 1, "in the same batch");
    commit();
    begin();
    cr_expect_eq(append("b", "event-b", 3000, STORE_DUP), 2, "in a later batch");
    cr_expect_eq(append("c", "event-c", 3000, STORE_OK), 3, "a dup takes no seq");
    commit();
    cr_expect_eq(store_head(st), 3);
    seen_t s = read_from(1, 100);
    cr_assert_eq(s.n, 3, "a dup stores nothing");
    cr_expect_eq(s.at[0], 1000, "a dup does not touch the stored received_at");
    cr_expect_str_eq(s.ev[1], "event-b");
}

Test(store, same_id_other_content_is_a_conflict)
{
    open_store();
    begin();
    append("a", "event-a", 1000, STORE_OK);
    append("b", "event-b", 1000, STORE_OK);
    commit();
    begin();
    cr_expect_eq(append("b", "event-B", 1000, STORE_CONFLICT), 2, "the conflict names the seq");
    cr_expect_eq(append("b", "event-b-longer", 1000, STORE_CONFLICT), 2);
    cr_expect_eq(append("b", "event-", 1000, STORE_CONFLICT), 2, "a prefix is not the same");
    cr_expect_eq(append("b", "", 1000, STORE_CONFLICT), 2);
    cr_expect_eq(append("c", "event-b", 1000, STORE_OK), 3, "the same content under a new id");
    commit();
    seen_t s = read_from(2, 1);
    cr_expect_str_eq(s.ev[0], "event-b", "the stored event is unchanged");
}

Test(store, ids_are_exact_bytes)
{
    open_store();
    begin();
    append("ab", "x", 1, STORE_OK);
    append("a", "x", 1, STORE_OK);
    append("abc", "x", 1, STORE_OK);
    append("AB", "x", 1, STORE_OK);
    commit();
    cr_expect_eq(store_head(st), 4);
}

Test(store, abort_discards_the_batch)
{
    open_store();
    begin();
    append("a", "event-a", 1, STORE_OK);
    commit();
    begin();
    cr_expect_eq(append("b", "event-b", 2, STORE_OK), 2);
    store_dead_t dl = {5, "ingest test", "E_SCHEMA", "body.x: nope", "zz", 2};
    cr_expect_eq(store_dead_letter(st, &dl), STORE_OK);
    store_abort(st);
    cr_expect_eq(store_head(st), 1);
    cr_expect_eq(store_dead_count(st), 0);
    uint64_t seq;
    cr_expect_eq(store_find_id(st, "b", 1, &seq), -1);
    begin();
    cr_expect_eq(append("b", "event-b-2", 3, STORE_OK), 2, "the aborted seq is reused");
    commit();
    seen_t s = read_from(1, 10);
    cr_assert_eq(s.n, 2);
    cr_expect_str_eq(s.ev[1], "event-b-2");
    store_abort(st); /* with no batch open: harmless */
    cr_expect_eq(store_head(st), 2);
}

Test(store, persists_across_reopen)
{
    open_store();
    begin();
    for (int i = 0; i < 10; i++) {
        char id[16], ev[32];
        snprintf(id, sizeof id, "id-%d", i);
        snprintf(ev, sizeof ev, "event %d", i);
        append(id, ev, 1000 + i, STORE_OK);
    }
    commit();
    store_dead_t dl = {7, "publish 10.0.0.1:5", "E_DECODE", "empty frame", "", 0};
    begin();
    cr_expect_eq(store_dead_letter(st, &dl), STORE_OK);
    commit();
    reopen();
    cr_expect_eq(store_head(st), 10);
    cr_expect_eq(store_dead_count(st), 1);
    uint64_t seq;
    cr_expect_eq(store_find_id(st, "id-4", 4, &seq), 0);
    cr_expect_eq(seq, 5);
    begin();
    cr_expect_eq(append("id-3", "event 3", 1, STORE_DUP), 4, "dedup survives the restart");
    cr_expect_eq(append("id-3", "event three", 1, STORE_CONFLICT), 4);
    cr_expect_eq(append("id-10", "event 10", 1, STORE_OK), 11, "seqs continue after the last");
    commit();
    seen_t s = read_from(1, 100);
    cr_assert_eq(s.n, 11);
    for (int i = 0; i < 10; i++) {
        char ev[32];
        snprintf(ev, sizeof ev, "event %d", i);
        cr_expect_eq(s.seq[i], (uint64_t)i + 1);
        cr_expect_eq(s.at[i], 1000 + i);
        cr_expect_str_eq(s.ev[i], ev);
    }
}

Test(store, uncommitted_batch_is_lost_on_close)
{
    open_store();
    begin();
    append("a", "event-a", 1, STORE_OK);
    commit();
    begin();
    append("b", "event-b", 1, STORE_OK);
    reopen(); /* store_destroy with a batch open aborts it */
    cr_expect_eq(store_head(st), 1);
}

Test(store, read_from_a_seq_with_a_limit)
{
    open_store();
    begin();
    for (int i = 1; i <= 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "e%d", i);
        append(id, id, i * 10, STORE_OK);
    }
    commit();
    seen_t s = read_from(5, 3);
    cr_assert_eq(s.n, 3);
    cr_expect_eq(s.seq[0], 5);
    cr_expect_eq(s.seq[2], 7);
    cr_expect_str_eq(s.ev[0], "e5");
    cr_expect_eq(s.at[0], 50);
    s = read_from(0, 2);
    cr_assert_eq(s.n, 2);
    cr_expect_eq(s.seq[0], 1, "from 0 starts at the first event");
    s = read_from(18, 100);
    cr_expect_eq(s.n, 3, "a limit past the head returns what there is");
    cr_expect_eq(s.seq[2], 20);
    s = read_from(21, 100);
    cr_expect_eq(s.n, 0);
    s = read_from(UINT64_MAX, 100);
    cr_expect_eq(s.n, 0);
    s = read_from(1, 0);
    cr_expect_eq(s.n, 0, "limit 0 reads nothing");
    seen_t stop = {.n = 0, .stop_after = 4};
    cr_expect_eq(store_read_events(st, 1, 100, collect, &stop), 4, "the callback stops the read");
    cr_expect_eq(stop.n, 4);
}

Test(store, reads_inside_a_batch_see_its_appends)
{
    open_store();
    begin();
    append("a", "event-a", 1, STORE_OK);
    append("b", "event-b", 1, STORE_OK);
    seen_t s = read_from(1, 10);
    cr_expect_eq(s.n, 2);
    uint64_t seq;
    cr_expect_eq(store_find_id(st, "b", 1, &seq), 0);
    cr_expect_eq(seq, 2);
    commit();
}

Test(store, received_at_round_trips_any_int64)
{
    open_store();
    begin();
    append("neg", "x", -1, STORE_OK);
    append("max", "y", INT64_MAX, STORE_OK);
    append("min", "z", INT64_MIN, STORE_OK);
    commit();
    seen_t s = read_from(1, 10);
    cr_assert_eq(s.n, 3);
    cr_expect_eq(s.at[0], -1);
    cr_expect_eq(s.at[1], INT64_MAX);
    cr_expect_eq(s.at[2], INT64_MIN);
}

/* ---- dead letters ---- */

typedef struct {
    int n;
    int64_t at[200];
    char source[200][64], code[200][32], error[200][64];
    unsigned char input[200][8];
    size_t input_len[200];
} dead_seen_t;

static int collect_dead(void *arg, const store_dead_t *dl)
{
    dead_seen_t *s = arg;
    cr_assert_lt(s->n, 200);
    s->at[s->n] = dl->at;
    snprintf(s->source[s->n], 64, "%s", dl->source);
    snprintf(s->code[s->n], 32, "%s", dl->code);
    snprintf(s->error[s->n], 64, "%s", dl->error);
    s->input_len[s->n] = dl->input_len;
    memcpy(s->input[s->n], dl->input, dl->input_len < 8 ? dl->input_len : 8);
    s->n++;
    return 0;
}

static void dead_letters(int from, int to)
{
    begin();
    for (int i = from; i <= to; i++) {
        char err[32];
        unsigned char input[4] = {0x81, (unsigned char)i, 0x00, 0xff};
        snprintf(err, sizeof err, "refusal %d", i);
        store_dead_t dl = {i, "ingest 127.0.0.1:5120", "E_SCHEMA", err, input, sizeof input};
        cr_assert_eq(store_dead_letter(st, &dl), STORE_OK, "%s", store_error(st));
    }
    commit();
}

Test(store, dead_letters_round_trip)
{
    open_store();
    dead_letters(1, 2);
    store_dead_t empty = {99, "publish ?", "E_DECODE", "empty frame", NULL, 0};
    begin();
    cr_expect_eq(store_dead_letter(st, &empty), STORE_OK);
    commit();
    dead_seen_t *s = calloc(1, sizeof *s);
    cr_expect_eq(store_read_dead(st, collect_dead, s), 3);
    cr_assert_eq(s->n, 3);
    cr_expect_eq(s->at[0], 1);
    cr_expect_str_eq(s->source[0], "ingest 127.0.0.1:5120");
    cr_expect_str_eq(s->code[0], "E_SCHEMA");
    cr_expect_str_eq(s->error[0], "refusal 1");
    cr_expect_eq(s->input_len[0], 4);
    cr_expect_eq(memcmp(s->input[0], (unsigned char[]){0x81, 1, 0x00, 0xff}, 4), 0,
                 "input bytes kept exactly, NUL included");
    cr_expect_str_eq(s->error[1], "refusal 2");
    cr_expect_eq(s->at[2], 99);
    cr_expect_str_eq(s->code[2], "E_DECODE");
    cr_expect_eq(s->input_len[2], 0);
    free(s);
}

Test(store, dead_letters_are_bounded_oldest_dropped)
{
    opts.dead_letter_max = 5;
    open_store();
    dead_letters(1, 3);
    cr_expect_eq(store_dead_count(st), 3);
    dead_letters(4, 12); /* 12 in all, in two batches */
    cr_expect_eq(store_dead_count(st), 5);
    dead_seen_t *s = calloc(1, sizeof *s);
    cr_expect_eq(store_read_dead(st, collect_dead, s), 5);
    cr_assert_eq(s->n, 5);
    for (int i = 0; i < 5; i++) {
        char want[32];
        snprintf(want, sizeof want, "refusal %d", 8 + i);
        cr_expect_str_eq(s->error[i], want, "the newest five, oldest first");
        cr_expect_eq(s->at[i], 8 + i);
    }
    /* the bound and the order hold across a restart */
    reopen();
    dead_letters(13, 14);
    memset(s, 0, sizeof *s);
    cr_expect_eq(store_read_dead(st, collect_dead, s), 5);
    cr_expect_str_eq(s->error[0], "refusal 10");
    cr_expect_str_eq(s->error[4], "refusal 14");
    free(s);
}

Test(store, dead_letter_max_zero_keeps_everything)
{
    opts.dead_letter_max = 0;
    open_store();
    dead_letters(1, 150);
    cr_expect_eq(store_dead_count(st), 150);
}

Test(store, dead_letter_fields_are_clamped_not_overflowed)
{
    open_store();
    size_t n = 70000;
    char *huge = malloc(n + 1);
    memset(huge, 'e', n);
    huge[n] = 0;
    store_dead_t dl = {1, "ingest ?", "E_SCHEMA", huge, "x", 1};
    begin();
    cr_expect_eq(store_dead_letter(st, &dl), STORE_OK);
    commit();
    free(huge);
    cr_expect_eq(store_dead_count(st), 1);
}

/* ---- map growth ---- */

/* Appends batches of 8 events of 2 KiB until a write or the commit says STORE_FULL. The
 * batch in hand is then aborted (or already gone, after a failed commit). Returns the
 * number of events committed. */
static int fill_until_full(int *next_id, int *batch_start)
{
    char ev[2048];
    int committed = 0;
    for (;;) {
        *batch_start = *next_id;
        begin();
        for (int i = 0; i < 8; i++) {
            char id[32];
            uint64_t seq;
            snprintf(id, sizeof id, "fill-%06d", *next_id);
            memset(ev, 'a' + *next_id % 26, sizeof ev);
            store_rc_t rc = store_append(st, id, strlen(id), 1, ev, sizeof ev, &seq);
            if (rc == STORE_FULL) {
                store_abort(st);
                *next_id = *batch_start;
                return committed;
            }
            cr_assert_eq(rc, STORE_OK, "%s", store_error(st));
            (*next_id)++;
        }
        store_rc_t rc = store_commit(st);
        if (rc == STORE_FULL) {
            *next_id = *batch_start;
            return committed;
        }
        cr_assert_eq(rc, STORE_OK, "%s", store_error(st));
        committed += 8;
        cr_assert_lt(committed, 100000, "the map never filled");
    }
}

Test(store, map_grows_up_to_its_cap)
{
    opts.map_size = 256 * KiB;
    opts.map_size_max = 1 * MiB;
    open_store();
    cr_expect_eq(store_map_size(st), 256 * KiB);
    int next_id = 0, batch_start = 0, total = 0;
    uint64_t sizes[] = {512 * KiB, 1 * MiB};
    for (int g = 0; g < 2; g++) {
        int n = fill_until_full(&next_id, &batch_start);
        total += n;
        cr_expect_eq(store_head(st), (uint64_t)total, "the full batch left nothing behind");
        cr_expect(strstr(store_error(st), "map full") != NULL, "error: %s", store_error(st));
        cr_assert_eq(store_grow(st), 0, "grow %d: %s", g, store_error(st));
        cr_expect_eq(store_map_size(st), sizes[g]);
        /* the same batch again now fits */
        begin();
        char ev[2048];
        for (int i = 0; i < 8; i++) {
            char id[32];
            uint64_t seq;
            snprintf(id, sizeof id, "fill-%06d", next_id);
            memset(ev, 'a' + next_id % 26, sizeof ev);
            cr_assert_eq(store_append(st, id, strlen(id), 1, ev, sizeof ev, &seq), STORE_OK,
                         "retry after growing: %s", store_error(st));
            cr_expect_eq(seq, (uint64_t)total + (uint64_t)i + 1);
            next_id++;
        }
        commit();
        total += 8;
    }
    /* at the cap: fill again, and growing is refused */
    total += fill_until_full(&next_id, &batch_start);
    cr_expect_eq(store_grow(st), -1, "no growth past map_size_max");
    cr_expect(strstr(store_error(st), "cap") != NULL, "error: %s", store_error(st));
    cr_expect_eq(store_map_size(st), 1 * MiB);
    cr_expect_eq(store_head(st), (uint64_t)total);

    /* everything committed is there, after a restart too */
    reopen();
    cr_expect_eq(store_head(st), (uint64_t)total);
    /* LMDB opens at the configured size or the size of the data held, whichever is larger */
    cr_expect_gt(store_map_size(st), 256 * KiB, "reopened map: %llu bytes",
                 (unsigned long long)store_map_size(st));
    cr_expect_leq(store_map_size(st), 1 * MiB);
    uint64_t seq;
    char last[32];
    snprintf(last, sizeof last, "fill-%06d", total - 1);
    cr_expect_eq(store_find_id(st, last, strlen(last), &seq), 0);
    cr_expect_eq(seq, (uint64_t)total);
}

Test(store, grow_stops_at_the_cap_not_past_it)
{
    opts.map_size = 512 * KiB;
    opts.map_size_max = 768 * KiB;
    open_store();
    cr_expect_eq(store_grow(st), 0);
    cr_expect_eq(store_map_size(st), 768 * KiB, "doubling is clamped to the cap");
    cr_expect_eq(store_grow(st), -1);
    cr_expect_eq(store_map_size(st), 768 * KiB);
}

Test(store, dead_letters_fill_the_map_too)
{
    opts.map_size = 256 * KiB;
    opts.map_size_max = 256 * KiB;
    opts.dead_letter_max = 0;
    open_store();
    char input[4000];
    memset(input, 'i', sizeof input);
    store_rc_t rc = STORE_OK;
    int n = 0;
    while (rc == STORE_OK && n < 10000) {
        begin();
        store_dead_t dl = {n, "ingest ?", "E_TOO_LARGE", "frame: too big", input, sizeof input};
        rc = store_dead_letter(st, &dl);
        if (rc == STORE_OK)
            rc = store_commit(st);
        else
            store_abort(st);
        n++;
    }
    cr_expect_eq(rc, STORE_FULL, "a full map is STORE_FULL, not an error: %s", store_error(st));
    cr_expect_eq(store_grow(st), -1);
}

/* ---- schema version ---- */

/* A store of a later gridbusd is refused; schema 1 (before the sorted-duplicate task
 * indexes) is opened, for taskdb to upgrade. */
Test(store, refuses_state_of_another_schema)
{
    open_store();
    store_destroy(&st);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    cr_assert_eq(mdb_env_create(&env), 0);
    mdb_env_set_maxdbs(env, 8);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0640), 0);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    unsigned char later[8] = {0, 0, 0, 0, 0, 0, 0, STORE_SCHEMA_VERSION + 1};
    MDB_val k = {6, "schema"}, v = {8, later};
    cr_assert_eq(mdb_put(txn, meta, &k, &v, 0), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    char err[512] = "";
    st = store_new(dir, &opts, err, sizeof err);
    cr_expect_null(st);
    cr_expect(strstr(err, "incompatible") != NULL, "err: %s", err);
}
