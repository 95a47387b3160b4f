/*
 * cmd_publish_json: `gridbus publish --json`, JSON lines from stdin published pipelined.
 *
 * Lines are read and sent as fast as the client's window allows, and acks come back in
 * whatever order the pipeline completes them, but a script reading the output needs
 * result N on line N: each input gets a slot, the completion callback fills it, and the
 * longest finished prefix is printed as soon as it is complete. A line that cannot be
 * sent (not JSON, not an object, no usable id) gets its error in its slot at once and the
 * rest carry on. JSON becomes msgpack generically (libgridbus's jsonmp): the daemon, not
 * the CLI, judges the fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonmp.h"

typedef struct {
    char **out;     /* the result line of each input, NULL until it is known */
    size_t n, cap;  /* inputs so far */
    size_t printed; /* results printed so far (a prefix) */
    int status;     /* the exit status so far */
} run_t;

/* What a completion callback needs to find its slot. */
typedef struct {
    run_t *run;
    size_t index;
    size_t line; /* for messages: the input line number */
} ticket_t;

static void print_ready(run_t *run)
{
    while (run->printed < run->n && run->out[run->printed]) {
        puts(run->out[run->printed]);
        free(run->out[run->printed]);
        run->out[run->printed++] = NULL;
    }
}

/* The worst outcome wins: transport over refusal over success. */
static void note_status(run_t *run, int status)
{
    if (status == CLI_EXIT_TRANSPORT || run->status == CLI_EXIT_OK)
        run->status = status;
}

/* Fills slot index with result j (stolen) and prints what is ready. */
static void put_result(run_t *run, size_t index, json_t *j, int status)
{
    run->out[index] = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!run->out[index])
        run->out[index] = strdup("{\"error\":{\"code\":\"E_INTERNAL\",\"message\":\"no memory\"}}");
    json_decref(j);
    note_status(run, status);
    print_ready(run);
}

static void put_error(run_t *run, size_t index, size_t line, const char *id, const char *code,
                      const char *message, int status)
{
    fprintf(stderr, "gridbus: line %zu: %s: %s\n", line, code, message);
    json_t *j = json_pack("{s:o, s:{s:s, s:s}}", "id", id ? json_string(id) : json_null(), "error",
                          "code", code, "message", message);
    put_result(run, index, j, status);
}

static void on_done(const gridbus_result_t *r, void *arg)
{
    ticket_t *t = arg;
    if (r->status == GRIDBUS_OK)
        put_result(
            t->run, t->index,
            json_pack("{s:s, s:I, s:b}", "id", r->id, "seq", (json_int_t)r->seq, "dup", r->dup),
            CLI_EXIT_OK);
    else
        put_error(t->run, t->index, t->line, r->id, r->code, r->message, cli_exit_for(r->status));
    free(t);
}

/* Takes a slot for the next input; returns its index, or -1 when out of memory. */
static long take_slot(run_t *run)
{
    if (run->n == run->cap) {
        size_t cap = run->cap ? run->cap * 2 : 256;
        char **out = realloc(run->out, cap * sizeof *out);
        if (!out)
            return -1;
        memset(out + run->cap, 0, (cap - run->cap) * sizeof *out);
        run->out = out;
        run->cap = cap;
    }
    return (long)run->n++;
}

/* Sets key to value when j has no key; value is stolen. */
static void fill_missing(json_t *j, const char *key, json_t *value)
{
    if (value && !json_object_get(j, key))
        json_object_set_new(j, key, value);
    else
        json_decref(value);
}

/* v, at and id when missing, and the --by/--grid/--place defaults. */
static int complete_event(json_t *j, const char *const defaults[3])
{
    static const char *const keys[3] = {"by", "grid", "place"};
    char id[GRIDBUS_ID_BUF];
    fill_missing(j, "v", json_integer(1));
    fill_missing(j, "at", json_integer(gridbus_now_ms()));
    for (int i = 0; i < 3; i++)
        if (defaults[i])
            fill_missing(j, keys[i], json_string(defaults[i]));
    if (json_object_get(j, "id"))
        return 0;
    if (gridbus_id_new(id) < 0)
        return -1;
    fill_missing(j, "id", json_string(id));
    return 0;
}

/* Parses one line into a complete event object, or puts the reason in its slot. */
static json_t *parse_line(run_t *run, size_t index, size_t line, const char *text, size_t len,
                          const char *const defaults[3])
{
    json_error_t jerr;
    char msg[240];
    json_t *j = json_loadb(text, len, 0, &jerr);
    if (!j) {
        snprintf(msg, sizeof msg, "not JSON: %s (column %d)", jerr.text, jerr.column);
        put_error(run, index, line, NULL, "E_DECODE", msg, CLI_EXIT_REFUSED);
        return NULL;
    }
    if (!json_is_object(j)) {
        put_error(run, index, line, NULL, "E_DECODE", "not a JSON object", CLI_EXIT_REFUSED);
        json_decref(j);
        return NULL;
    }
    if (complete_event(j, defaults) < 0) {
        put_error(run, index, line, NULL, "E_INTERNAL", "no random bytes for an id",
                  CLI_EXIT_TRANSPORT);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Sends event j (not stolen) for slot index. */
static void send_event(run_t *run, gridbus_t *client, size_t index, size_t line, json_t *j)
{
    msgpack_sbuffer sb;
    jsonmp_pack_sbuffer(j, &sb);
    ticket_t *t = malloc(sizeof *t);
    if (t)
        *t = (ticket_t){run, index, line};
    if (!t || gridbus_send(client, sb.data, sb.size, on_done, t) < 0) {
        const char *id = json_string_value(json_object_get(j, "id"));
        gridbus_status_t st = t ? gridbus_status(client) : GRIDBUS_EINVAL;
        /* An event refused before sending is a refusal, like a nack, not a usage error. */
        int status = st == GRIDBUS_EINVAL ? CLI_EXIT_REFUSED : cli_exit_for(st);
        put_error(run, index, line, id, t ? gridbus_errcode(client) : "E_INTERNAL",
                  t ? gridbus_error(client) : "no memory", status);
        free(t);
    }
    msgpack_sbuffer_destroy(&sb);
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!strchr(" \t\r\n", s[i]))
            return false;
    return true;
}

int cmd_publish_json(gridbus_t *client, const char *const defaults[3])
{
    run_t run = {0};
    char *text = NULL;
    size_t size = 0, line = 0;
    ssize_t len;
    while ((len = getline(&text, &size, stdin)) >= 0) {
        line++;
        if (blank(text, (size_t)len))
            continue;
        long index = take_slot(&run);
        if (index < 0) {
            fputs("gridbus: out of memory\n", stderr);
            note_status(&run, CLI_EXIT_TRANSPORT);
            break;
        }
        json_t *j = parse_line(&run, (size_t)index, line, text, (size_t)len, defaults);
        if (j)
            send_event(&run, client, (size_t)index, line, j);
        json_decref(j);
    }
    free(text);
    gridbus_flush(client);
    print_ready(&run);
    free(run.out);
    return run.status;
}
