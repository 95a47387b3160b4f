/*
 * test_taskrec: the stored forms of task and task-feed records (daemon/taskrec.c).
 *
 * A task read back from its stored record packs to the same wire bytes as the task it was
 * written from (task_pack, with history), and a feed record to the same wire record
 * (taskrec_feed_wire); records of the earlier form (the wire maps themselves, as stores of
 * schema 3 and before hold them) read the same; the stored forms are smaller than the
 * wire's; a record cut short, of another form or with an impossible status is refused; a
 * text cut to its field stays valid UTF-8. The indexer's in-place read of a feed record
 * (taskrec_decode_foot) agrees with the decoder on what it reads, and refuses what it refuses.
 */
#include <criterion/criterion.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "taskrec.h"

static msgpack_zone zone;
static msgpack_sbuffer a, b;
static task_t *orig, *got;

static void setup(void)
{
    msgpack_zone_init(&zone, 4096);
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    orig = calloc(1, sizeof *orig);
    got = calloc(1, sizeof *got);
    cr_assert(orig && got);
}

static void teardown(void)
{
    msgpack_zone_destroy(&zone);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    free(orig);
    free(got);
}

TestSuite(taskrec, .init = setup, .fini = teardown);

/* A task with every field set: returned twice, a history of four steps, texts in Chinese. */
static void fill(task_t *t)
{
    task_reset(t);
    t->seq = 1234567;
    snprintf(t->event_id, sizeof t->event_id, "01HZX3Q9V7ABCDEF0123456789");
    snprintf(t->type, sizeof t->type, "repair.requested");
    snprintf(t->route, sizeof t->route, "repairs-to-home-helpers");
    snprintf(t->role, sizeof t->role, "home_helper");
    snprintf(t->grid, sizeof t->grid, "g2");
    snprintf(t->category, sizeof t->category, "水电");
    snprintf(t->assignee, sizeof t->assignee, "helper-7");
    t->status = TASK_DONE;
    t->created_at = 1790000000123, t->accept_by = 1790003600000, t->complete_by = 1790090000000;
    t->accepted_at = 1790000500000, t->done_at = 1790080000000, t->closed_at = 0;
    t->overdue_accept = false, t->overdue_complete = true;
    t->fee_fen = 4500, t->fee_waived_fen = -1; /* a negative value keeps its sign */
    snprintf(t->returned_by[t->nreturned++], TASK_MEMBER_MAX, "helper-2");
    snprintf(t->returned_by[t->nreturned++], TASK_MEMBER_MAX, "helper-5");
    task_add_step(t, t->created_at, "cadre-1", "created", "repairs-to-home-helpers", 23);
    task_add_step(t, t->created_at, "gridbusd", "dispatched", "helper-2", 8);
    task_add_step(t, 1790000400000, "helper-2", "returned", "不在本网格", strlen("不在本网格"));
    task_add_step(t, 1790080000000, "helper-7", "completed", "换了水龙头", strlen("换了水龙头"));
}

/* The wire form of t, with history, into out. */
static void wire_of(msgpack_sbuffer *out, const task_t *t)
{
    msgpack_sbuffer_clear(out);
    cr_assert_eq(task_pack(out, t, true), 0);
}

static void expect_same_bytes(const msgpack_sbuffer *x, const msgpack_sbuffer *y, const char *what)
{
    cr_expect_eq(x->size, y->size, "%s: %zu bytes against %zu", what, x->size, y->size);
    cr_expect(x->size == y->size && memcmp(x->data, y->data, x->size) == 0, "%s: bytes differ",
              what);
}

Test(taskrec, a_task_reads_back_as_it_was_written)
{
    size_t off, len;
    fill(orig);
    cr_assert_eq(taskrec_pack(&a, orig, &off, &len), 0);
    cr_assert_eq(taskrec_decode(&zone, a.data, a.size, got), 0);
    cr_expect_eq(got->nhistory, 4);
    cr_expect_eq(got->nreturned, 2);
    cr_expect_str_eq(got->history[2].note, "不在本网格");
    msgpack_sbuffer ref;
    msgpack_sbuffer_init(&ref);
    wire_of(&ref, orig);
    wire_of(&b, got);
    expect_same_bytes(&b, &ref, "task_pack of the task read back");
    cr_expect_lt(a.size, ref.size, "stored %zu bytes, wire %zu", a.size, ref.size);
    msgpack_sbuffer_destroy(&ref);
}

Test(taskrec, a_record_of_the_earlier_form_reads_the_same)
{
    fill(orig);
    wire_of(&a, orig); /* what schema 3 stored */
    cr_assert_eq(taskrec_decode(&zone, a.data, a.size, got), 0);
    wire_of(&b, got);
    expect_same_bytes(&b, &a, "an earlier record, read and packed again");
}

/* The feed record of a change to orig, stored form into a; its summary from the task record. */
static void stored_feed(msgpack_sbuffer *task_rec)
{
    size_t off, len;
    cr_assert_eq(taskrec_pack(task_rec, orig, &off, &len), 0);
    cr_assert_eq(
        taskrec_pack_feed(&a, 1790080000000, "done", "helper-7", task_rec->data + off, len), 0);
}

Test(taskrec, a_feed_record_reads_back_and_packs_to_its_wire_form)
{
    msgpack_sbuffer rec, ref;
    taskrec_change_t c;
    char topic[160];
    msgpack_sbuffer_init(&rec);
    msgpack_sbuffer_init(&ref);
    fill(orig);
    stored_feed(&rec);
    taskrec_topic(orig, topic, sizeof topic);
    cr_expect_str_eq(topic, "task/g2/helper-7");
    cr_assert_eq(taskrec_feed_wire(&ref, 77, topic, 1790080000000, "done", "helper-7", orig), 0);

    cr_expect_not(taskrec_feed_is_wire(a.data, a.size));
    cr_assert_eq(taskrec_decode_feed(&zone, a.data, a.size, &c, got), 0);
    cr_expect_eq(c.at, 1790080000000);
    cr_expect_str_eq(c.change, "done");
    cr_expect_str_eq(c.by, "helper-7");
    cr_expect_eq(got->nhistory, 0, "a feed record carries no history");
    cr_assert_eq(taskrec_feed_wire(&b, 77, topic, c.at, c.change, c.by, got), 0);
    expect_same_bytes(&b, &ref, "the wire form of the stored feed record");
    cr_expect_lt(a.size, ref.size, "stored %zu bytes, wire %zu", a.size, ref.size);

    /* the earlier form: the wire record itself */
    cr_expect(taskrec_feed_is_wire(ref.data, ref.size));
    cr_assert_eq(taskrec_decode_feed(&zone, ref.data, ref.size, &c, got), 0);
    cr_expect_str_eq(c.change, "done");
    cr_expect_str_eq(c.by, "helper-7");
    cr_assert_eq(taskrec_feed_wire(&b, 77, topic, c.at, c.change, c.by, got), 0);
    expect_same_bytes(&b, &ref, "an earlier feed record, read and packed again");
    msgpack_sbuffer_destroy(&rec);
    msgpack_sbuffer_destroy(&ref);
}

Test(taskrec, a_record_cut_short_is_refused_at_every_length)
{
    msgpack_sbuffer rec;
    taskrec_change_t c;
    msgpack_sbuffer_init(&rec);
    fill(orig);
    stored_feed(&rec);
    for (size_t n = 0; n < rec.size; n++)
        cr_expect_eq(taskrec_decode(&zone, rec.data, n, got), -1, "task record cut at %zu", n);
    for (size_t n = 0; n < a.size; n++) {
        cr_expect_eq(taskrec_decode_feed(&zone, a.data, n, &c, got), -1, "feed record cut at %zu",
                     n);
        cr_expect_eq(taskrec_decode_foot(&zone, a.data, n, got), -1,
                     "feed record cut at %zu, the indexer's read", n);
    }
    msgpack_sbuffer_destroy(&rec);
}

/* A task record written field by field into a, with the given form number, status and
 * assignee (every other text "x"). */
static void pack_with(unsigned form, uint64_t status, const char *assignee)
{
    mpw_t w;
    msgpack_sbuffer_clear(&a);
    mpw_init(&w, &a);
    mpw_array(&w, 3);
    mpw_uint(&w, form);
    mpw_array(&w, 20);
    mpw_uint(&w, 9);
    for (int i = 0; i < 6; i++)
        mpw_cstr(&w, "x");
    mpw_cstr(&w, assignee);
    mpw_uint(&w, status);
    for (int i = 0; i < 6; i++)
        mpw_int(&w, 0);
    mpw_bool(&w, false), mpw_bool(&w, false);
    mpw_int(&w, 0), mpw_int(&w, 0);
    mpw_array(&w, 0);
    mpw_array(&w, 0);
    cr_assert(mpw_ok(&w));
}

Test(taskrec, another_form_or_an_impossible_status_is_refused)
{
    pack_with(TASKREC_FORM, TASK_CLOSED, "x");
    cr_expect_eq(taskrec_decode(&zone, a.data, a.size, got), 0, "the well-formed control");
    cr_expect_eq(got->status, TASK_CLOSED);
    pack_with(TASKREC_FORM + 1, TASK_CLOSED, "x");
    cr_expect_eq(taskrec_decode(&zone, a.data, a.size, got), -1,
                 "a form this daemon does not know");
    pack_with(TASKREC_FORM, TASK_STATUS_COUNT_, "x");
    cr_expect_eq(taskrec_decode(&zone, a.data, a.size, got), -1, "status out of range");
    static const unsigned char not_a_record[] = {0x93, 0x01, 0xc0, 0xc0};
    cr_expect_eq(taskrec_decode(&zone, not_a_record, sizeof not_a_record, got), -1);
}

Test(taskrec, a_text_cut_to_its_field_stays_valid_utf8)
{
    /* 64 bytes fit in assignee: 21 three-byte characters and one byte of the 22nd */
    char long_id[80] = "";
    for (int i = 0; i < 22; i++)
        strcat(long_id, "网");
    pack_with(TASKREC_FORM, TASK_DISPATCHED, long_id);
    cr_assert_eq(taskrec_decode(&zone, a.data, a.size, got), 0);
    cr_expect_eq(strlen(got->assignee), 64);
    cr_expect_eq(memcmp(got->assignee, long_id, 63), 0, "the whole characters are kept");
    cr_expect_eq(got->assignee[63], '?', "the split character is replaced");
}

/* The indexer's fields of a task read by taskrec_decode_foot equal the full decoder's. */
static void expect_foot_agrees(const void *rec, size_t len, const char *what)
{
    taskrec_change_t c;
    task_t *foot = calloc(1, sizeof *foot);
    cr_assert_not_null(foot);
    cr_assert_eq(taskrec_decode_feed(&zone, rec, len, &c, got), 0, "%s: decode", what);
    cr_assert_eq(taskrec_decode_foot(&zone, rec, len, foot), 0, "%s: the indexer's read", what);
    cr_expect_eq(foot->seq, got->seq, "%s: seq", what);
    cr_expect_str_eq(foot->grid, got->grid, "%s: grid", what);
    cr_expect_str_eq(foot->assignee, got->assignee, "%s: assignee", what);
    cr_expect_eq(foot->status, got->status, "%s: status", what);
    cr_expect_eq(foot->accept_by, got->accept_by, "%s: accept_by %lld against %lld", what,
                 (long long)foot->accept_by, (long long)got->accept_by);
    cr_expect_eq(foot->complete_by, got->complete_by, "%s: complete_by", what);
    cr_expect_eq(foot->overdue_accept, got->overdue_accept, "%s: overdue_accept", what);
    cr_expect_eq(foot->overdue_complete, got->overdue_complete, "%s: overdue_complete", what);
    free(foot);
}

Test(taskrec, the_indexers_read_agrees_with_the_decoder_on_every_form_and_width)
{
    /* integers of every msgpack width, both signs */
    static const int64_t ints[] = {0,          1,           127,           200,       -1,
                                   -32,        -33,         -200,          70000,     -70000,
                                   5000000000, -5000000000, 1790003600000, INT64_MAX, INT64_MIN};
    msgpack_sbuffer rec, wire;
    msgpack_sbuffer_init(&rec);
    msgpack_sbuffer_init(&wire);
    char what[96], topic[160];
    size_t n = sizeof ints / sizeof ints[0];
    for (size_t i = 0; i < n; i++) {
        fill(orig);
        orig->accept_by = ints[i], orig->complete_by = ints[n - 1 - i];
        orig->status = (task_status_t)(i % TASK_STATUS_COUNT_);
        orig->overdue_accept = i % 2, orig->overdue_complete = i % 3 == 0;
        if (i == 3)
            orig->assignee[0] = 0, orig->grid[0] = 0; /* parked, grid-less */
        stored_feed(&rec);
        snprintf(what, sizeof what, "stored, accept_by %lld", (long long)ints[i]);
        expect_foot_agrees(a.data, a.size, what);
        taskrec_topic(orig, topic, sizeof topic);
        cr_assert_eq(taskrec_feed_wire(&wire, 9, topic, 1, "done", "x", orig), 0);
        snprintf(what, sizeof what, "earlier form, accept_by %lld", (long long)ints[i]);
        expect_foot_agrees(wire.data, wire.size, what);
    }
    msgpack_sbuffer_destroy(&rec);
    msgpack_sbuffer_destroy(&wire);
}

/* Besides a cut (above), what the decoder refuses the indexer's read refuses too. */
Test(taskrec, the_indexers_read_refuses_what_the_decoder_refuses)
{
    msgpack_sbuffer rec;
    taskrec_change_t c;
    msgpack_sbuffer_init(&rec);
    fill(orig);
    stored_feed(&rec);
    msgpack_sbuffer_write(&a, "\xc0", 1); /* one byte past the record */
    cr_expect_eq(taskrec_decode_feed(&zone, a.data, a.size, &c, got), -1);
    cr_expect_eq(taskrec_decode_foot(&zone, a.data, a.size, got), -1, "a byte past the record");
    orig->status = TASK_STATUS_COUNT_; /* impossible */
    stored_feed(&rec);
    cr_expect_eq(taskrec_decode_foot(&zone, a.data, a.size, got), -1, "status out of range");
    static const unsigned char deep[] = {0x95, 0x01, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
                                         0x91, 0x91, 0x91, 0x91, 0xc0, 0xc0, 0xc0, 0xc0};
    cr_expect_eq(taskrec_decode_foot(&zone, deep, sizeof deep, got), -1, "nested too deep");
    static const unsigned char bad_tag[] = {0x95, 0x01, 0xc1, 0xc0, 0xc0, 0xc0};
    cr_expect_eq(taskrec_decode_foot(&zone, bad_tag, sizeof bad_tag, got), -1, "tag 0xc1");
    msgpack_sbuffer_destroy(&rec);
}
