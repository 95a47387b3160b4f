/*
 * test_client_ids: the pure logic of libgridbus, no daemon: event ids (format, order,
 * uniqueness across processes) and the event builder's key=value coercion by the schema.
 *
 * Packed events are read back with proto's decoder, so each test checks the msgpack type
 * the daemon will see (an integer, not the text "12345"), not just that packing worked.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "gridbus.h"
#include "wire.h"

/* ---- ids --------------------------------------------------------------------------- */

Test(client_ids, format_matches_the_ulid_spec)
{
    uint8_t zero[10] = {0}, ones[10];
    char id[GRIDBUS_ID_BUF];
    memset(ones, 0xff, sizeof ones);
    gridbus_id_format(0, zero, id);
    cr_expect_str_eq(id, "00000000000000000000000000");
    /* The ULID spec's example time: 1469918176385 ms is 01ARYZ6S41. */
    gridbus_id_format(INT64_C(1469918176385), ones, id);
    cr_expect_str_eq(id, "01ARYZ6S41ZZZZZZZZZZZZZZZZ");
}

Test(client_ids, time_round_trips)
{
    uint8_t rnd[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    char id[GRIDBUS_ID_BUF];
    int64_t ms = 0;
    gridbus_id_format(INT64_C(1795737600000), rnd, id);
    cr_assert_eq(gridbus_id_time(id, &ms), 0);
    cr_expect_eq(ms, INT64_C(1795737600000));
}

Test(client_ids, time_rejects_what_is_not_an_id)
{
    int64_t ms;
    cr_expect_eq(gridbus_id_time("", &ms), -1);
    cr_expect_eq(gridbus_id_time("01ARYZ6S41", &ms), -1);
    cr_expect_eq(gridbus_id_time("01ARYZ6S41ZZZZZZZZZZZZZZZU", &ms), -1); /* U not in base32 */
    cr_expect_eq(gridbus_id_time("81ARYZ6S41ZZZZZZZZZZZZZZZZ", &ms), -1); /* over 48 bits */
}

Test(client_ids, new_ids_are_valid_and_near_now)
{
    char id[GRIDBUS_ID_BUF];
    int64_t before = gridbus_now_ms(), ms;
    cr_assert_eq(gridbus_id_new(id), 0);
    cr_expect_eq(strlen(id), GRIDBUS_ID_LEN);
    cr_expect(event_id_valid(id, strlen(id), 64), "not in the id charset: %s", id);
    cr_assert_eq(gridbus_id_time(id, &ms), 0);
    cr_expect(ms >= before && ms <= gridbus_now_ms(), "time %lld", (long long)ms);
}

/* Many ids in a row, most in the same millisecond, sort in the order they were made. */
Test(client_ids, ids_sort_in_creation_order)
{
    char prev[GRIDBUS_ID_BUF], id[GRIDBUS_ID_BUF];
    cr_assert_eq(gridbus_id_new(prev), 0);
    for (int i = 0; i < 20000; i++) {
        cr_assert_eq(gridbus_id_new(id), 0);
        cr_assert(strcmp(prev, id) < 0, "%s then %s", prev, id);
        memcpy(prev, id, sizeof id);
    }
}

/* Ids made later sort later even when the random part would say otherwise. */
Test(client_ids, later_time_sorts_later)
{
    uint8_t lo[10] = {0}, hi[10];
    char a[GRIDBUS_ID_BUF], b[GRIDBUS_ID_BUF];
    memset(hi, 0xff, sizeof hi);
    gridbus_id_format(INT64_C(1795737600000), hi, a);
    gridbus_id_format(INT64_C(1795737600001), lo, b);
    cr_expect(strcmp(a, b) < 0, "%s !< %s", a, b);
}

#define FORK_IDS 2000

static void make_ids(char (*ids)[GRIDBUS_ID_BUF], int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(gridbus_id_new(ids[i]), 0);
}

/* A child forked right after its parent made an id must not continue the parent's
 * sequence: both would otherwise make last+1 in the same millisecond. */
Test(client_ids, unique_across_a_fork)
{
    static char mine[FORK_IDS][GRIDBUS_ID_BUF], theirs[FORK_IDS][GRIDBUS_ID_BUF];
    int fds[2];
    char seed[GRIDBUS_ID_BUF];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(gridbus_id_new(seed), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        make_ids(mine, FORK_IDS);
        ssize_t w = write(fds[1], mine, sizeof mine);
        _exit(w == (ssize_t)sizeof mine ? 0 : 1);
    }
    close(fds[1]);
    make_ids(mine, FORK_IDS);
    size_t got = 0;
    ssize_t n;
    while (got < sizeof theirs && (n = read(fds[0], (char *)theirs + got, sizeof theirs - got)) > 0)
        got += (size_t)n;
    close(fds[0]);
    int status;
    waitpid(pid, &status, 0);
    cr_assert_eq(got, sizeof theirs);
    for (int i = 0; i < FORK_IDS; i++)
        for (int j = 0; j < FORK_IDS; j++)
            cr_assert_str_neq(mine[i], theirs[j]);
}

/* ---- the event builder ------------------------------------------------------------- */

typedef struct {
    wire_decoder_t *dec;
    const msgpack_object *obj; /* the packed event, decoded */
} decoded_t;

static void decode(gridbus_event_t *ev, decoded_t *d)
{
    const void *data;
    size_t len;
    gb_error_t err;
    cr_assert_eq(gridbus_event_pack(ev, &data, &len), 0, "%s", gridbus_event_error(ev));
    d->dec = wire_decoder_new();
    cr_assert_eq(wire_decode_object(d->dec, data, len, &d->obj, &err), 0, "%s", err.msg);
}

static const msgpack_object *body_get(const decoded_t *d, const char *key)
{
    return event_map_get(event_map_get(d->obj, "body"), key);
}

static gridbus_event_t *event_of(const char *type)
{
    gridbus_event_t *ev = gridbus_event_new();
    cr_assert_not_null(ev);
    cr_assert_eq(gridbus_event_set_type(ev, type), 0, "%s", gridbus_event_error(ev));
    gridbus_event_set_by(ev, "li.qiang");
    return ev;
}

Test(client_build, integers_and_times_become_integers)
{
    gridbus_event_t *ev = event_of("ledger.entry_submitted");
    cr_assert_eq(gridbus_event_set_kv(ev, "amount_fen=12345"), 0);
    cr_assert_eq(gridbus_event_set_kv(ev, "due=1795737600000"), 0);
    decoded_t d;
    decode(ev, &d);
    const msgpack_object *amount = body_get(&d, "amount_fen"), *due = body_get(&d, "due");
    cr_assert_not_null(amount);
    cr_expect_eq(amount->type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    cr_expect_eq(amount->via.u64, 12345);
    cr_assert_not_null(due);
    cr_expect_eq(due->via.u64, UINT64_C(1795737600000));
    wire_decoder_destroy(&d.dec);
    gridbus_event_destroy(&ev);
}

Test(client_build, booleans_become_booleans)
{
    gridbus_event_t *ev = event_of("repair.requested");
    cr_assert_eq(gridbus_event_set_kv(ev, "fee_waived=true"), 0);
    decoded_t d;
    decode(ev, &d);
    const msgpack_object *b = body_get(&d, "fee_waived");
    cr_assert_not_null(b);
    cr_expect_eq(b->type, MSGPACK_OBJECT_BOOLEAN);
    cr_expect(b->via.boolean);
    wire_decoder_destroy(&d.dec);
    cr_assert_eq(gridbus_event_set(ev, "fee_waived", "no"), 0);
    decode(ev, &d);
    cr_expect_not(body_get(&d, "fee_waived")->via.boolean);
    wire_decoder_destroy(&d.dec);
    gridbus_event_destroy(&ev);
}

Test(client_build, lists_split_on_commas_and_trim)
{
    gridbus_event_t *ev = event_of("ledger.entry_submitted");
    cr_assert_eq(gridbus_event_set_kv(ev, "approved_by=li.qiang, zhang.teng"), 0);
    cr_assert_eq(gridbus_event_set_kv(ev, "body.note="), 0);
    decoded_t d;
    decode(ev, &d);
    const msgpack_object *a = body_get(&d, "approved_by");
    cr_assert_not_null(a);
    cr_assert_eq(a->type, MSGPACK_OBJECT_ARRAY);
    cr_assert_eq(a->via.array.size, 2);
    cr_expect_eq(a->via.array.ptr[1].via.str.size, strlen("zhang.teng"));
    cr_expect_eq(memcmp(a->via.array.ptr[1].via.str.ptr, "zhang.teng", 10), 0);
    cr_expect_eq(body_get(&d, "note")->type, MSGPACK_OBJECT_STR);
    wire_decoder_destroy(&d.dec);
    gridbus_event_destroy(&ev);
}

Test(client_build, strings_are_kept_as_written)
{
    gridbus_event_t *ev = event_of("visit.logged");
    cr_assert_eq(gridbus_event_set_kv(ev, "summary=a=b, 1, true"), 0);
    cr_assert_eq(gridbus_event_set_kv(ev, "household=12"), 0);
    decoded_t d;
    decode(ev, &d);
    const msgpack_object *s = body_get(&d, "summary"), *h = body_get(&d, "household");
    cr_assert_eq(s->type, MSGPACK_OBJECT_STR);
    cr_expect_eq(s->via.str.size, strlen("a=b, 1, true"));
    cr_expect_eq(h->type, MSGPACK_OBJECT_STR, "a string field stays a string, even '12'");
    wire_decoder_destroy(&d.dec);
    gridbus_event_destroy(&ev);
}

Test(client_build, bad_values_name_the_key)
{
    gridbus_event_t *ev = event_of("ledger.entry_submitted");
    cr_expect_eq(gridbus_event_set_kv(ev, "amount_fen=abc"), -1);
    cr_expect_str_eq(gridbus_event_errcode(ev), "E_SCHEMA");
    cr_expect_str_eq(gridbus_event_error(ev), "body.amount_fen: not an integer: 'abc'");
    cr_expect_eq(gridbus_event_set_kv(ev, "amount_fen=12x"), -1);
    cr_expect_eq(gridbus_event_set_kv(ev, "amount_fen="), -1);
    cr_expect_eq(gridbus_event_set_kv(ev, "approved_by=a,,b"), -1);
    cr_expect(strstr(gridbus_event_error(ev), "body.approved_by") != NULL);
    gridbus_event_destroy(&ev);
    ev = event_of("repair.requested");
    cr_expect_eq(gridbus_event_set_kv(ev, "fee_waived=maybe"), -1);
    cr_expect(strstr(gridbus_event_error(ev), "body.fee_waived: not a boolean") != NULL);
    gridbus_event_destroy(&ev);
}

Test(client_build, unknown_keys_and_types_are_refused)
{
    gridbus_event_t *ev = event_of("repair.requested");
    cr_expect_eq(gridbus_event_set_kv(ev, "colour=red"), -1);
    cr_expect(
        strncmp(gridbus_event_error(ev), "body.colour: no such field in repair.requested", 46) == 0,
        "%s", gridbus_event_error(ev));
    cr_expect_eq(gridbus_event_set_kv(ev, "novalue"), -1);
    cr_expect_eq(gridbus_event_set_type(ev, "repair.wished"), -1);
    cr_expect_str_eq(gridbus_event_errcode(ev), "E_TYPE");
    cr_expect_eq(gridbus_event_set_id(ev, "has space"), -1);
    gridbus_event_destroy(&ev);
    ev = gridbus_event_new();
    cr_expect_eq(gridbus_event_set_kv(ev, "household=1"), -1, "no type yet");
    gridbus_event_destroy(&ev);
}

Test(client_build, setting_twice_replaces)
{
    gridbus_event_t *ev = event_of("task.progress");
    cr_assert_eq(gridbus_event_set_kv(ev, "percent=10"), 0);
    cr_assert_eq(gridbus_event_set_kv(ev, "percent=90"), 0);
    decoded_t d;
    decode(ev, &d);
    cr_expect_eq(event_map_get(d.obj, "body")->via.map.size, 1);
    cr_expect_eq(body_get(&d, "percent")->via.u64, 90);
    wire_decoder_destroy(&d.dec);
    gridbus_event_destroy(&ev);
}

Test(client_build, pack_fills_id_and_time_once)
{
    gridbus_event_t *ev = event_of("task.accepted");
    gridbus_event_set_kv(ev, "task=t-1");
    decoded_t d;
    decode(ev, &d);
    gb_str_t id1, id2;
    cr_assert_eq(wire_get_str(d.obj, "id", &id1), 0);
    cr_expect_eq(id1.len, GRIDBUS_ID_LEN);
    cr_assert_not_null(gridbus_event_id(ev));
    cr_expect_eq(memcmp(gridbus_event_id(ev), id1.ptr, id1.len), 0);
    uint64_t v, at;
    cr_expect_eq(wire_get_u64(d.obj, "v", &v), 0);
    cr_expect_eq(v, 1);
    cr_expect_eq(wire_get_u64(d.obj, "at", &at), 0);
    char first[GRIDBUS_ID_BUF];
    snprintf(first, sizeof first, "%.*s", (int)id1.len, id1.ptr);
    wire_decoder_destroy(&d.dec);
    decode(ev, &d); /* packing again, as a retry would, keeps the id */
    cr_assert_eq(wire_get_str(d.obj, "id", &id2), 0);
    cr_expect_eq(id2.len, strlen(first));
    cr_expect_eq(memcmp(id2.ptr, first, id2.len), 0);
    wire_decoder_destroy(&d.dec);
    gridbus_event_destroy(&ev);
}

Test(client_build, validate_uses_the_daemon_rules)
{
    gridbus_event_t *ev = event_of("repair.requested");
    gridbus_event_set_grid(ev, "g1");
    gridbus_event_set_kv(ev, "household=3-2-101");
    gridbus_event_set_kv(ev, "category=water");
    cr_expect_eq(gridbus_event_validate(ev), -1, "description is required");
    cr_expect_str_eq(gridbus_event_errcode(ev), "E_SCHEMA");
    cr_expect(strstr(gridbus_event_error(ev), "body.description") != NULL, "%s",
              gridbus_event_error(ev));
    gridbus_event_set_kv(ev, "description=the tap drips");
    cr_expect_eq(gridbus_event_validate(ev), 0, "%s", gridbus_event_error(ev));
    gridbus_event_set_kv(ev, "category=plumbing");
    cr_expect_eq(gridbus_event_validate(ev), -1, "category is an enum");
    gridbus_event_destroy(&ev);
}

/* ---- the client, without a daemon --------------------------------------------------- */

Test(client_offline, send_refuses_events_it_cannot_correlate)
{
    gridbus_t *c = gridbus_new();
    cr_assert_not_null(c);
    cr_assert_eq(gridbus_connect(c, "tcp://127.0.0.1:1"), 0);
    const char not_map[] = "\x93\x01\x02\x03"; /* [1,2,3] */
    cr_expect_eq(gridbus_send(c, not_map, 4, NULL, NULL), -1);
    cr_expect_str_eq(gridbus_errcode(c), "E_DECODE");
    const char no_id[] = "\x81\xa1v\x01"; /* {v:1} */
    cr_expect_eq(gridbus_send(c, no_id, 4, NULL, NULL), -1);
    cr_expect_str_eq(gridbus_errcode(c), "E_SCHEMA");
    cr_expect_eq(gridbus_status(c), GRIDBUS_EINVAL);
    cr_expect_eq(gridbus_pending(c), 0);
    gridbus_destroy(&c);
    cr_expect_null(c);
}

Test(client_offline, bad_endpoint_fails_at_connect)
{
    gridbus_t *c = gridbus_new();
    cr_expect_eq(gridbus_connect(c, "nonsense://x"), -1);
    cr_expect_eq(gridbus_status(c), GRIDBUS_EINVAL);
    cr_expect(strstr(gridbus_error(c), "nonsense://x") != NULL);
    gridbus_destroy(&c);
}
