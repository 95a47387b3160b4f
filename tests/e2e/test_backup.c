/*
 * test_backup: hot backup under load, restore, and the stale reader sweep, against the real
 * gridbusd (docs/OPERATIONS.md is the procedure these tests follow).
 *
 * Backup under load: pipelined DEALERs publish a set number of events and every ack is
 * recorded; then `gridbusd --backup DIR` runs as its own process while the DEALERs keep
 * publishing until it exits (bounded by a count). The backup is restored the documented
 * way (its data.mdb copied into a state dir) and a daemon started on it: every event acked
 * before the backup began is there exactly once with its seq and content, the restored log
 * is a prefix of the live one (one consistent snapshot), and its tasks are exactly the live
 * tasks opened by the events in that prefix. The same restore is then done in place over
 * the live daemon's newer state. Every point is decided by counts and process exits; the
 * only waits are on sockets, pidfds and inotify, each with a hang guard.
 *
 * Stale reader slots: a child process opens the store, begins a read transaction and
 * exits inside it; its slot must be gone after the daemon starts (while another process
 * keeps the environment open, so LMDB does not simply reset its lock file) and, with a
 * short store.reader_check_ms, while the daemon runs.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <lmdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "gbload.h"
#include "gbtest.h"
#include "harness.h"

#define PUBLISHERS 4
#define WINDOW 32        /* publishes in flight per DEALER */
#define BEFORE 2000      /* events acked before the backup starts */
#define DURING_MAX 20000 /* at most this many more while it runs */

static gbd_t *d, *d2;
static void *ctx;
static gbload_t load; /* the events sent, and those acked */
static char tmp[256]; /* this test's scratch folder */

static void setup(void)
{
    snprintf(tmp, sizeof tmp, "%s/gbbackup.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    cr_assert_not_null(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
    ctx = zmq_ctx_new();
    gbload_init(&load, "bk");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path), 0;
}

static void teardown(void)
{
    gbt_close_all();
    zmq_ctx_term(ctx);
    if (d2 && gbd_pid(d2))
        cr_expect_eq(gbd_stop(&d2), 0, "the restored gridbusd did not exit cleanly");
    if (d && gbd_pid(d))
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
    gbd_free(&d2);
    gbd_free(&d);
    gbload_fini(&load);
    if (!getenv("GBD_KEEP"))
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(backup, .init = setup, .fini = teardown, .timeout = 300);

/* ---- files and processes ---- */

static const char *path_in(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    cr_assert(n > 0 && (size_t)n < len, "path too long: %s/%s", dir, name);
    return buf;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    char *s = NULL;
    size_t cap = 0, len = 0, n;
    char buf[8192];
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n + 1 > cap)
            cr_assert_not_null(s = realloc(s, cap = 2 * (len + n + 1)));
        memcpy(s + len, buf, n), len += n;
    }
    fclose(f);
    if (!s)
        cr_assert_not_null(s = malloc(1));
    s[len] = '\0';
    return s;
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    cr_assert(in >= 0 && out >= 0, "copy %s to %s: %s", from, to, strerror(errno));
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        cr_assert_eq(write(out, buf, (size_t)n), n, "write %s: %s", to, strerror(errno));
    cr_assert_eq(n, 0, "read %s: %s", from, strerror(errno));
    cr_assert_eq(fsync(out), 0);
    close(in), close(out);
}

/* The documented restore: data.mdb of the backup replaces the state dir's; the lock file
 * goes (LMDB makes a new one). The daemon on state is stopped. */
static void restore(const char *backup_dir, const char *state)
{
    char from[512], to[512], lock[512];
    mkdir(state, 0750);
    unlink(path_in(lock, sizeof lock, state, "lock.mdb"));
    copy_file(path_in(from, sizeof from, backup_dir, "data.mdb"),
              path_in(to, sizeof to, state, "data.mdb"));
}

/* Starts `gridbusd --state-dir state --backup dir` with stdout and stderr to files in tmp;
 * the pid. */
static pid_t spawn_backup(const char *state, const char *dir)
{
    const char *bin = getenv("GRIDBUSD") ? getenv("GRIDBUSD") : "build/gridbusd";
    char out[512], err[512];
    path_in(out, sizeof out, tmp, "backup.out");
    path_in(err, sizeof err, tmp, "backup.err");
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        execl(bin, bin, "--state-dir", state, "--backup", dir, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int exit_status(pid_t pid)
{
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs a backup to the end (hang guard GBD_WAIT_MS); its exit status. */
static int run_backup(const char *state, const char *dir)
{
    pid_t pid = spawn_backup(state, dir);
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    cr_assert_geq(fd, 0, "pidfd_open: %s", strerror(errno));
    struct pollfd p = {fd, POLLIN, 0};
    int ready = poll(&p, 1, GBD_WAIT_MS);
    close(fd);
    if (ready == 0)
        kill(pid, SIGKILL);
    cr_assert_gt(ready, 0, "gridbusd --backup did not finish within %d ms", GBD_WAIT_MS);
    return exit_status(pid);
}

/* ---- the load ---- */

typedef struct {
    zmq_pollitem_t items[PUBLISHERS + 1]; /* the DEALERs, then the backup's pidfd */
    size_t until;                         /* send no event past this count */
    size_t outstanding;                   /* sent, not yet answered */
    pid_t backup;                         /* 0 when none runs */
    int backup_status;
    size_t acks_during; /* acks read while the backup ran */
} load_t;

static bool may_send(const load_t *l, bool waiting_for_backup)
{
    return json_array_size(load.sent) < l->until && (!waiting_for_backup || l->backup);
}

static void pump_socket(load_t *l, int p, bool with_backup)
{
    size_t got = gbload_drain(&load, l->items[p].socket);
    l->outstanding -= got;
    if (l->backup)
        l->acks_during += got;
    for (size_t k = 0; k < got && may_send(l, with_backup); k++, l->outstanding++)
        gbload_send_next(&load, l->items[p].socket);
}

/* Publishes with WINDOW in flight per DEALER until l->until events are sent (and, with a
 * backup, only while it runs), then reads every outstanding reply and the backup's exit. */
static void pump(load_t *l)
{
    bool with_backup = l->backup != 0;
    int n = PUBLISHERS;
    if (with_backup) {
        int fd = (int)syscall(SYS_pidfd_open, l->backup, 0);
        cr_assert_geq(fd, 0, "pidfd_open: %s", strerror(errno));
        l->items[n++] = (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0};
    }
    for (int p = 0; p < PUBLISHERS; p++)
        for (int w = 0; w < WINDOW && may_send(l, with_backup); w++, l->outstanding++)
            gbload_send_next(&load, l->items[p].socket);
    while (l->outstanding > 0 || l->backup) {
        int rc = zmq_poll(l->items, n, GBT_WAIT_MS);
        cr_assert_gt(rc, 0, "nothing within %d ms (%zu outstanding)", GBT_WAIT_MS, l->outstanding);
        for (int p = 0; p < PUBLISHERS; p++)
            if (l->items[p].revents & ZMQ_POLLIN)
                pump_socket(l, p, with_backup);
        if (l->backup && (l->items[PUBLISHERS].revents & ZMQ_POLLIN)) {
            l->backup_status = exit_status(l->backup);
            l->backup = 0;
            close(l->items[PUBLISHERS].fd);
            n = PUBLISHERS;
        }
    }
}

static void connect_publishers(load_t *l)
{
    for (int p = 0; p < PUBLISHERS; p++) {
        void *s = gbt_connect(ctx, ZMQ_DEALER, gbd_endpoint(d, "ingest"));
        cr_assert_not_null(s, "%s", gbt_why());
        l->items[p] = (zmq_pollitem_t){s, 0, ZMQ_POLLIN, 0};
    }
}

/* ---- reading a daemon back ---- */

/* Every task (status "all") as id -> seq. */
static json_t *all_tasks(gbt_client_t *c)
{
    json_t *out = json_object();
    json_int_t after = 0;
    for (int pages = 0; pages < 10000; pages++) {
        json_t *req = json_pack("{s:s, s:s, s:s, s:I, s:i}", "op", "query", "what", "tasks",
                                "status", "all", "after", after, "limit", 500);
        const wire_reply_t *r = gbt_call_json(c, req);
        json_decref(req);
        cr_assert(r && r->op == WIRE_REPLY_RESULT, "query tasks: %s", gbt_show(c));
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(c->json, "tasks"), i, t)
        {
            json_object_set(out, json_string_value(json_object_get(t, "id")),
                            json_object_get(t, "seq"));
        }
        after = json_integer_value(json_object_get(c->json, "next"));
        if (after == 0)
            return out;
    }
    cr_assert_fail("query tasks: too many pages");
    return NULL;
}

typedef struct {
    json_t *log;   /* replayed events */
    json_t *tasks; /* id -> seq */
    int64_t head;
} snapshot_t;

static snapshot_t read_back(gbd_t *daemon)
{
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(daemon, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    snapshot_t s = {gbt_replay_all(c, 0), all_tasks(c), gbt_head(c)};
    cr_assert_not_null(s.log, "replay: %s", gbt_why());
    gbt_client_free(&c);
    return s;
}

static void snapshot_free(snapshot_t *s)
{
    json_decref(s->log);
    json_decref(s->tasks);
}

/* The restored log is the live log's first records, record for record, and its tasks
 * are the live tasks opened by events of that prefix (a task's seq is its event's). */
static void assert_consistent_prefix(const snapshot_t *restored, const snapshot_t *live)
{
    size_t n = json_array_size(restored->log);
    cr_assert_leq(n, json_array_size(live->log));
    for (size_t i = 0; i < n; i++)
        cr_assert(json_equal(json_array_get(restored->log, i), json_array_get(live->log, i)),
                  "restored record %zu differs from the live one", i);
    json_int_t last =
        n ? json_integer_value(json_object_get(json_array_get(restored->log, n - 1), "seq")) : 0;
    cr_assert_eq(restored->head, last, "restored head %" PRId64 ", last seq %lld", restored->head,
                 (long long)last);
    const char *id;
    json_t *seq;
    size_t want = 0;
    json_object_foreach(live->tasks, id, seq)
    {
        if (json_integer_value(seq) > last)
            continue;
        want++;
        cr_assert(json_equal(json_object_get(restored->tasks, id), seq),
                  "task %s (event %lld, in the backup) is missing after the restore", id,
                  (long long)json_integer_value(seq));
    }
    cr_assert_eq(json_object_size(restored->tasks), want, "the restore has tasks the log lacks");
}

/* ---- tests ---- */

Test(backup, hot_backup_under_load_restores_every_event_acked_before_it)
{
    char bdir[512], state2[512];
    path_in(bdir, sizeof bdir, tmp, "backup"); /* absent: the backup creates it */
    path_in(state2, sizeof state2, tmp, "restored");
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    load_t l = {.until = BEFORE};
    connect_publishers(&l);
    pump(&l);
    json_t *before = json_deep_copy(load.acked);
    cr_assert_eq(json_object_size(before), BEFORE);
    snapshot_t at_start = read_back(d);

    l.until = BEFORE + DURING_MAX;
    l.backup = spawn_backup(gbd_state_dir(d), bdir);
    pump(&l);
    char outp[512], errp[512];
    char *out = slurp(path_in(outp, sizeof outp, tmp, "backup.out"));
    char *err = slurp(path_in(errp, sizeof errp, tmp, "backup.err"));
    cr_assert_eq(l.backup_status, 0, "gridbusd --backup failed: %s", err);
    cr_assert(gbt_starts_with(out, "backup "), "backup summary: %s", out);
    cr_log_info("%zu acked before the backup, %zu while it ran; %s", json_object_size(before),
                l.acks_during, out);
    free(out), free(err);

    snapshot_t live = read_back(d);
    cr_assert_eq(gbt_check_log(load.acked, live.log), 0, "live: %s", gbt_why());
    cr_assert_gt(json_object_size(at_start.tasks), 0, "the load opened no task");

    /* A second daemon on a restored copy, the live one still serving. */
    restore(bdir, state2);
    d2 = gbd_start(state2, NULL);
    cr_assert_not_null(d2, "gridbusd did not start on the restored state");
    snapshot_t restored = read_back(d2);
    cr_assert_eq(gbt_check_log(before, restored.log), 0, "restored: %s", gbt_why());
    assert_consistent_prefix(&restored, &live);
    const char *id;
    json_t *seq;
    json_object_foreach(at_start.tasks, id, seq)
    {
        cr_assert(json_object_get(restored.tasks, id), "task %s is missing after the restore", id);
    }
    cr_assert_eq(gbd_stop(&d2), 0);

    /* In place, as docs/OPERATIONS.md says: stop, replace data.mdb, start. */
    cr_assert_eq(gbd_signal(d, SIGTERM), 0, "gridbusd did not stop cleanly");
    restore(bdir, gbd_state_dir(d));
    cr_assert_eq(gbd_restart(d), 0, "gridbusd did not start on the restored state dir");
    snapshot_t again = read_back(d);
    cr_assert(json_equal(again.log, restored.log), "the in-place restore differs");
    cr_assert(json_equal(again.tasks, restored.tasks), "the in-place restore's tasks differ");

    /* It goes on from the backup's head: a new event gets the next seq. */
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    json_t *next = gbt_event("visit.logged", "bk-after-restore");
    const wire_reply_t *r = gbt_publish(c, next);
    cr_assert(gbt_is_ack(r, "bk-after-restore") && !r->dup, "%s", gbt_show(c));
    cr_assert_eq((int64_t)r->seq, again.head + 1);
    json_decref(next);
    gbt_client_free(&c);
    snapshot_free(&again), snapshot_free(&restored), snapshot_free(&live);
    snapshot_free(&at_start);
    json_decref(before);
}

Test(backup, refuses_a_folder_that_is_not_empty_and_leaves_nothing_behind)
{
    char bdir[512], file[512], nested[512], errp[512];
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    path_in(bdir, sizeof bdir, tmp, "full");
    cr_assert_eq(mkdir(bdir, 0700), 0);
    FILE *f = fopen(path_in(file, sizeof file, bdir, "keep.txt"), "w");
    cr_assert_not_null(f);
    fputs("an older backup's notes\n", f);
    fclose(f);
    cr_assert_eq(run_backup(gbd_state_dir(d), bdir), 1);
    char *err = slurp(path_in(errp, sizeof errp, tmp, "backup.err"));
    cr_assert_not_null(strstr(err, "not empty"), "%s", err);
    free(err);
    char *kept = slurp(file);
    cr_assert_str_eq(kept, "an older backup's notes\n");
    free(kept);
    struct stat st;
    cr_assert_neq(stat(path_in(file, sizeof file, bdir, "data.mdb"), &st), 0);
    cr_assert_neq(stat(path_in(file, sizeof file, bdir, "data.mdb.partial"), &st), 0);

    /* A parent that does not exist: refused, nothing created. */
    path_in(nested, sizeof nested, tmp, "no/such/dir");
    cr_assert_eq(run_backup(gbd_state_dir(d), nested), 1);
    cr_assert_neq(stat(path_in(file, sizeof file, tmp, "no"), &st), 0);

    /* No store at all: refused, the new folder removed again. */
    path_in(bdir, sizeof bdir, tmp, "fresh");
    cr_assert_eq(run_backup(tmp, bdir), 1);
    cr_assert_neq(stat(bdir, &st), 0, "a failed backup left %s behind", bdir);

    /* An empty folder is fine, and so is a stopped daemon's state. */
    cr_assert_eq(gbd_signal(d, SIGTERM), 0);
    cr_assert_eq(mkdir(bdir, 0700), 0);
    cr_assert_eq(run_backup(gbd_state_dir(d), bdir), 0);
    cr_assert_eq(stat(path_in(file, sizeof file, bdir, "data.mdb"), &st), 0);
}

/* ---- stale reader slots ---- */

static MDB_env *open_env(const char *dir)
{
    MDB_env *env;
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
    int rc = mdb_env_open(env, dir, MDB_RDONLY, 0);
    cr_assert_eq(rc, 0, "open %s: %s", dir, mdb_strerror(rc));
    return env;
}

/* A child that begins a read transaction on dir and exits inside it: its pid, whose
 * reader slot is now stale. */
static pid_t make_stale_reader(const char *dir)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        MDB_env *env;
        MDB_txn *txn;
        if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
            mdb_env_open(env, dir, MDB_RDONLY, 0) || mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))
            _exit(1);
        _exit(0);
    }
    cr_assert_eq(exit_status(pid), 0, "the reader child failed");
    return pid;
}

typedef struct {
    pid_t pid;
    bool found;
} slot_query_t;

static int on_reader(const char *line, void *arg)
{
    slot_query_t *q = arg;
    int pid;
    if (sscanf(line, "%d", &pid) == 1 && pid == q->pid)
        q->found = true;
    return 0;
}

static bool has_reader_slot(MDB_env *env, pid_t pid)
{
    slot_query_t q = {pid, false};
    cr_assert_geq(mdb_reader_list(env, on_reader, &q), 0);
    return q.found;
}

#define CLEARED_ONE "msg=\"stale reader slots cleared\" count=1"

static bool log_has(const char *needle)
{
    char *log = slurp(gbd_log_path(d));
    bool found = strstr(log, needle) != NULL;
    free(log);
    return found;
}

/* Waits (inotify on the daemon's log, hang guard GBD_WAIT_MS) until the log holds needle. */
static void wait_for_log(const char *needle)
{
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    cr_assert_geq(fd, 0);
    cr_assert_geq(inotify_add_watch(fd, gbd_log_path(d), IN_MODIFY), 0);
    while (!log_has(needle)) {
        struct pollfd p = {fd, POLLIN, 0};
        cr_assert_gt(poll(&p, 1, GBD_WAIT_MS), 0, "no '%s' in the log within %d ms", needle,
                     GBD_WAIT_MS);
        char buf[4096];
        while (read(fd, buf, sizeof buf) > 0)
            ;
    }
    close(fd);
}

Test(backup, a_stale_reader_slot_is_cleared_at_start)
{
    d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    cr_assert_eq(gbd_signal(d, SIGTERM), 0);
    /* This process keeps the environment open, as a backup would: the restarted daemon is
     * then not its only user and must find the dead reader itself. */
    MDB_env *env = open_env(gbd_state_dir(d));
    pid_t dead = make_stale_reader(gbd_state_dir(d));
    cr_assert(has_reader_slot(env, dead), "the child left no reader slot");
    cr_assert_not(log_has(CLEARED_ONE));
    cr_assert_eq(gbd_restart(d), 0);
    cr_assert(log_has(CLEARED_ONE), "the start did not report the stale slot");
    cr_assert_not(has_reader_slot(env, dead), "the stale slot of %d is still there", (int)dead);
    mdb_env_close(env);
}

Test(backup, stale_reader_slots_are_cleared_periodically)
{
    d = gbd_start(NULL, (const char *const[]){"--set", "store.reader_check_ms=50", NULL});
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
    MDB_env *env = open_env(gbd_state_dir(d));
    cr_assert_not(log_has(CLEARED_ONE));
    pid_t dead = make_stale_reader(gbd_state_dir(d));
    wait_for_log(CLEARED_ONE);
    cr_assert_not(has_reader_slot(env, dead), "the stale slot of %d is still there", (int)dead);
    mdb_env_close(env);
}
