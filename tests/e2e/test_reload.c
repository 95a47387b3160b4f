/*
 * test_reload: SIGHUP re-reads the directory. A member removed by a reload can no longer
 * publish, but a resend of what that member published before is still acknowledged as a
 * duplicate (its first ack promised it is kept). A broken file keeps the running
 * directory. Synchronised on the READY=1 that ends every reload, never on time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "gbtest.h"
#include "harness.h"

static char dir[] = "/tmp/gridbus-reload-XXXXXX";
static char conf_path[600];
static gbd_t *d;
static void *ctx;
static gbt_client_t *c;

/* Writes the shipped directory to conf_path, leaving out lines that contain drop. */
static void write_directory(const char *drop)
{
    char src[600], line[1024];
    const char *conf = getenv("GRIDBUS_CONF") ? getenv("GRIDBUS_CONF") : "conf";
    snprintf(src, sizeof src, "%s/daidong.yaml", conf);
    FILE *in = fopen(src, "r"), *out = fopen(conf_path, "w");
    cr_assert(in && out, "cannot copy %s", src);
    while (fgets(line, sizeof line, in))
        if (!drop || !strstr(line, drop))
            fputs(line, out);
    fclose(in);
    cr_assert_eq(fclose(out), 0);
}

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(conf_path, sizeof conf_path, "%s/directory.yaml", dir);
    write_directory(NULL);
    char set[700];
    snprintf(set, sizeof set, "directory=%s", conf_path);
    const char *args[] = {"--set", set, NULL};
    d = gbd_start(NULL, args);
    cr_assert_not_null(d, "gridbusd did not start");
    ctx = zmq_ctx_new();
    c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
}

static void teardown(void)
{
    gbt_client_free(&c);
    gbt_close_all();
    zmq_ctx_term(ctx);
    cr_expect_eq(gbd_stop(&d), 0);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(reload, .init = setup, .fini = teardown, .timeout = 120);

static json_t *event_by(const char *id, const char *by)
{
    json_t *ev = gbt_event("repair.requested", id);
    json_object_set_new(ev, "by", json_string(by));
    return ev;
}

Test(reload, removed_member_is_refused_but_old_resend_is_dup)
{
    json_t *old = event_by("before-reload", "helper.g1.1");
    const wire_reply_t *r = gbt_publish(c, old);
    cr_assert(r && gbt_is_ack(r, "before-reload"), "%s", gbt_show(c));
    uint64_t seq = r->seq;

    write_directory("helper.g1.1");
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");

    json_t *fresh = event_by("after-reload", "helper.g1.1");
    r = gbt_publish(c, fresh);
    cr_assert(r && gbt_is_nack(r, GB_E_MEMBER), "a removed member must be refused: %s",
              gbt_show(c));
    r = gbt_publish(c, old);
    cr_assert(r && gbt_is_ack(r, "before-reload") && r->dup && r->seq == seq,
              "a resend of a stored event must stay a dup: %s", gbt_show(c));
    json_decref(old);
    json_decref(fresh);
}

Test(reload, broken_file_keeps_the_running_directory)
{
    FILE *f = fopen(conf_path, "w");
    cr_assert_not_null(f);
    fputs("community: [this is not\n", f);
    fclose(f);
    cr_assert_eq(gbd_reload(d), 0, "no READY=1 after SIGHUP");
    json_t *ev = event_by("still-served", "helper.g1.1");
    const wire_reply_t *r = gbt_publish(c, ev);
    cr_assert(r && gbt_is_ack(r, "still-served"), "old directory should still serve: %s",
              gbt_show(c));
    json_decref(ev);
    /* The error names the file, line and column. */
    char cmd[900];
    snprintf(cmd, sizeof cmd, "grep -q 'reload failed.*directory.yaml:[0-9]*:[0-9]*' '%s'",
             gbd_log_path(d));
    cr_expect_eq(system(cmd), 0, "the log should name file:line:col of the bad directory");
}
