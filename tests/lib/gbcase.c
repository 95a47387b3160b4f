/*
 * gbcase: driving the case loop of a real gridbusd from a test (see gbcase.h).
 */
#include "gbcase.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* The sample calendar keeps Beijing time, which has no daylight saving. */
#define LOCAL_OFFSET_MS (8 * 3600 * INT64_C(1000))

/* ---- the test directory ---- */

static bool id_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '.' || ch == '_' || ch == ':' || ch == '-';
}

/* True when line defines the member id (block "- id: X" or flow "{id: X, ..."). */
static bool defines_member(const char *line, const char *id)
{
    char key[100];
    snprintf(key, sizeof key, "id: %s", id);
    const char *at = strstr(line, key);
    return at && strncmp(line, "  ", 2) == 0 && !id_char(at[strlen(key)]);
}

static bool drops(const char *line, const char *const *drop)
{
    for (size_t i = 0; drop && drop[i]; i++)
        if (defines_member(line, drop[i]))
            return true;
    return false;
}

static size_t indent_of(const char *line)
{
    return strspn(line, " ");
}

/* A block-style list item ("  - id: x" then "    name: ..."): the lines indented past its
 * dash belong to it, so dropping the item must drop them too or YAML reads them as keys of
 * the previous member. */
static bool continues_item(const char *line, size_t item_indent)
{
    return line[0] != '\n' && indent_of(line) > item_indent;
}

static void put_line(FILE *out, const char *line, const gbc_edit_t *edits)
{
    for (size_t i = 0; edits && edits[i].find; i++)
        if (strstr(line, edits[i].find)) {
            fprintf(out, "%s\n", edits[i].replace);
            return;
        }
    fputs(line, out);
}

int gbc_write_directory(const char *path, const char *const *drop, const gbc_edit_t *edits)
{
    char src[600], line[2048];
    const char *conf = getenv("GRIDBUS_CONF") ? getenv("GRIDBUS_CONF") : "conf";
    snprintf(src, sizeof src, "%s/daidong.yaml", conf);
    FILE *in = fopen(src, "r"), *out = fopen(path, "w");
    long dropping = -1; /* indent of the block item being dropped */
    while (in && out && fgets(line, sizeof line, in)) {
        if (dropping >= 0 && continues_item(line, (size_t)dropping))
            continue;
        dropping = -1;
        if (drops(line, drop)) {
            if (!strchr(line, '{'))
                dropping = (long)indent_of(line);
            continue;
        }
        put_line(out, line, edits);
    }
    int rc = in && out ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "gbcase: cannot copy %s to %s\n", src, path);
    return rc;
}

/* ---- the daemon ---- */

static int connect_client(gbc_t *t)
{
    if (!t->zctx)
        t->zctx = zmq_ctx_new();
    t->c = t->zctx ? gbt_client_new(t->zctx, gbd_endpoint(t->d, "ingest")) : NULL;
    return t->c ? 0 : -1;
}

static int make_directory(gbc_t *t, const char *const *drop, const gbc_edit_t *edits)
{
    snprintf(t->tmp, sizeof t->tmp, "/tmp/gridbus-case-XXXXXX");
    if (!mkdtemp(t->tmp)) {
        t->tmp[0] = 0;
        return -1;
    }
    snprintf(t->directory, sizeof t->directory, "%s/directory.yaml", t->tmp);
    return gbc_write_directory(t->directory, drop, edits);
}

gbc_t *gbc_start(const char *const *drop, const gbc_edit_t *edits)
{
    gbc_t *t = calloc(1, sizeof *t);
    char set[700];
    const char *args[] = {"--set", "testing.allow_clock=true", "--set", set, NULL};
    if (!t)
        return NULL;
    if (drop || edits) {
        if (make_directory(t, drop, edits) < 0) {
            gbc_stop(&t);
            return NULL;
        }
        snprintf(set, sizeof set, "directory=%s", t->directory);
    } else {
        args[2] = NULL; /* the harness's own --set directory= stands */
    }
    t->d = gbd_start(NULL, args);
    if (!t->d || connect_client(t) < 0)
        gbc_stop(&t);
    return t;
}

int gbc_stop(gbc_t **t_p)
{
    gbc_t *t = *t_p;
    int status = 0;
    if (!t)
        return -1;
    gbt_client_free(&t->c);
    gbt_close_all();
    if (t->zctx)
        zmq_ctx_term(t->zctx);
    if (t->d)
        status = gbd_stop(&t->d);
    if (t->tmp[0]) {
        unlink(t->directory);
        rmdir(t->tmp);
    }
    free(t);
    *t_p = NULL;
    return status;
}

int gbc_reconnect(gbc_t *t)
{
    gbt_client_free(&t->c);
    return connect_client(t);
}

/* ---- events ---- */

json_t *gbc_json(const char *text)
{
    if (!text)
        return NULL;
    char *s = strdup(text);
    for (char *p = s; p && *p; p++)
        if (*p == '\'')
            *p = '"';
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    return j;
}

static json_t *event_of(gbc_t *t, const char *type, const char *by)
{
    char id[32];
    snprintf(id, sizeof id, "ev-%u", ++t->ids);
    json_t *ev = gbt_event(type, id);
    json_object_set_new(ev, "by", json_string(by));
    return ev;
}

json_t *gbc_field(gbc_t *t, const char *type, const char *by, const char *grid, json_t *extra)
{
    json_t *ev = event_of(t, type, by);
    if (grid)
        json_object_set_new(ev, "grid", json_string(grid));
    else
        json_object_del(ev, "grid");
    if (extra)
        json_object_update(json_object_get(ev, "body"), extra);
    json_decref(extra);
    return ev;
}

uint64_t gbc_publish(gbc_t *t, json_t *ev)
{
    const char *id = json_string_value(json_object_get(ev, "id"));
    const wire_reply_t *r = gbt_publish(t->c, ev);
    uint64_t seq = r && gbt_is_ack(r, id) && !r->dup ? r->seq : 0;
    json_decref(ev);
    return seq;
}

int gbc_send(gbc_t *t, json_t *ev)
{
    msgpack_sbuffer req;
    gbt_pack_publish(&req, ++t->c->rid, ev);
    const void *bufs[] = {req.data};
    const size_t lens[] = {req.size};
    int rc = gbt_send_frames(t->c->sock, 1, bufs, lens);
    msgpack_sbuffer_destroy(&req);
    json_decref(ev);
    return rc;
}

uint64_t gbc_open(gbc_t *t, const char *type, const char *by, const char *grid,
                  const char *extra_json)
{
    return gbc_publish(t, gbc_field(t, type, by, grid, gbc_json(extra_json)));
}

json_t *gbc_follow_up(gbc_t *t, const char *type, const char *task, const char *by,
                      const char *extra_json)
{
    json_t *ev = event_of(t, type, by);
    json_t *body = json_object_get(ev, "body"), *extra = gbc_json(extra_json);
    /* A follow-up names its task; the place and grid are the task's already. */
    json_object_del(ev, "grid");
    json_object_del(ev, "place");
    json_object_set_new(body, "task", json_string(task));
    if (extra)
        json_object_update(body, extra);
    json_decref(extra);
    return ev;
}

const wire_reply_t *gbc_step_on(gbc_t *t, const char *type, const char *task, const char *by,
                                const char *extra_json)
{
    json_t *ev = gbc_follow_up(t, type, task, by, extra_json);
    const wire_reply_t *r = gbt_publish(t->c, ev);
    json_decref(ev);
    return r;
}

const wire_reply_t *gbc_step(gbc_t *t, const char *type, uint64_t seq, const char *by,
                             const char *extra_json)
{
    char id[32];
    snprintf(id, sizeof id, "t-%" PRIu64, seq);
    return gbc_step_on(t, type, id, by, extra_json);
}

/* ---- reading back ---- */

const json_t *gbc_query(gbc_t *t, json_t *req)
{
    json_object_set_new(req, "op", json_string("query"));
    const wire_reply_t *r = gbt_call_json(t->c, req);
    json_decref(req);
    return r && r->op == WIRE_REPLY_RESULT ? t->c->json : NULL;
}

json_t *gbc_task(gbc_t *t, uint64_t seq)
{
    char id[32];
    snprintf(id, sizeof id, "t-%" PRIu64, seq);
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "task", "id", id));
    json_t *task = res ? json_object_get(res, "task") : NULL;
    return json_is_object(task) ? json_incref(task) : NULL;
}

int gbc_clock(gbc_t *t, int64_t ms)
{
    json_t *req = json_pack("{s:s, s:I}", "op", "clock", "set", (json_int_t)ms);
    const wire_reply_t *r = gbt_call_json(t->c, req);
    json_decref(req);
    return r && r->op == WIRE_REPLY_RESULT && gbc_int(t->c->json, "now") == ms ? 0 : -1;
}

/* One page of the task feed appended to out; the number of records, or -1. */
static long feed_page(gbc_t *t, uint64_t *from, const char *filter, json_t *out)
{
    json_t *req = json_pack("{s:s, s:s, s:I, s:i}", "op", "replay", "stream", "tasks", "from",
                            (json_int_t)*from, "limit", 100);
    if (filter)
        json_object_set_new(req, "filter", json_string(filter));
    const wire_reply_t *r = gbt_call_json(t->c, req);
    json_decref(req);
    if (!r || r->op != WIRE_REPLY_RECORDS || !r->records ||
        r->records->type != MSGPACK_OBJECT_ARRAY)
        return -1;
    size_t n = r->records->via.array.size;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, jsonmp_from_object(&r->records->via.array.ptr[i]));
    if (n && r->next <= *from)
        return -1; /* a page that does not move on would loop for ever */
    *from = r->next;
    return (long)n;
}

json_t *gbc_feed(gbc_t *t, uint64_t from, const char *filter)
{
    json_t *out = json_array();
    long n;
    /* Bounded: the tests write a few hundred feed records at most. */
    for (int pages = 0; pages < 1000; pages++)
        if ((n = feed_page(t, &from, filter, out)) <= 0) {
            if (n == 0)
                return out;
            break;
        }
    json_decref(out);
    return NULL;
}

const char *gbc_str(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

json_int_t gbc_int(const json_t *obj, const char *key)
{
    return json_integer_value(json_object_get(obj, key));
}

bool gbc_bool(const json_t *obj, const char *key)
{
    return json_is_true(json_object_get(obj, key));
}

int gbc_step_index(const json_t *task, const char *step)
{
    const json_t *h = json_object_get(task, "history");
    for (size_t i = 0; i < json_array_size(h); i++)
        if (!strcmp(gbc_str(json_array_get(h, i), "step"), step))
            return (int)i;
    return -1;
}

int gbc_steps(const json_t *task, const char *step)
{
    const json_t *h = json_object_get(task, "history");
    int n = 0;
    for (size_t i = 0; i < json_array_size(h); i++)
        n += !strcmp(gbc_str(json_array_get(h, i), "step"), step);
    return n;
}

int64_t gbc_local(int year, int month, int day, int hour, int minute)
{
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute};
    return (int64_t)timegm(&tm) * 1000 - LOCAL_OFFSET_MS;
}
