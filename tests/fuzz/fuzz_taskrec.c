/*
 * fuzz_taskrec: libFuzzer target for the decoders of stored task and task-feed records
 * (daemon/taskrec.c), what gridbusd reads back from its own LMDB files, where a damaged disk
 * or another version of gridbusd may have left anything.
 *
 * Each input is one stored record, read three ways: as a task record (taskrec_decode), as a
 * feed record (taskrec_decode_feed) and by the indexer's in-place read (taskrec_decode_foot).
 * Invariants: the in-place read accepts only records the decoder accepts, and reads the same
 * eight fields from them; a task record the decoder accepts packs again (taskrec_pack), and
 * that record reads back to a task that packs to the same bytes; the wire form of a decoded
 * feed record packs.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "taskrec.h"

static msgpack_zone zone;
static task_t *a, *b;
static msgpack_sbuffer buf_a, buf_b;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    a = malloc(sizeof *a);
    b = malloc(sizeof *b);
    if (!a || !b || !msgpack_zone_init(&zone, 4096))
        abort();
    msgpack_sbuffer_init(&buf_a);
    msgpack_sbuffer_init(&buf_b);
    return 0;
}

/* A task record: what the decoder reads packs, and packing is then a fixed point. */
static void check_task_record(const uint8_t *data, size_t size)
{
    size_t off, len;
    if (taskrec_decode(&zone, data, size, a) != 0)
        return;
    FUZZ_CHECK(taskrec_pack(&buf_a, a, &off, &len) == 0, "a decoded task must pack");
    FUZZ_CHECK(off + len <= buf_a.size, "summary %zu+%zu past %zu", off, len, buf_a.size);
    FUZZ_CHECK(taskrec_decode(&zone, buf_a.data, buf_a.size, b) == 0, "a packed task must read");
    FUZZ_CHECK(taskrec_pack(&buf_b, b, &off, &len) == 0, "a read task must pack");
    FUZZ_CHECK(buf_a.size == buf_b.size && memcmp(buf_a.data, buf_b.data, buf_a.size) == 0,
               "pack(read(pack(t))) differs from pack(t)");
}

/* A feed record: the in-place read is the decoder's, for the fields it reads. */
static void check_feed_record(const uint8_t *data, size_t size)
{
    taskrec_change_t c;
    int full = taskrec_decode_feed(&zone, data, size, &c, a);
    int foot = taskrec_decode_foot(&zone, data, size, b);
    FUZZ_CHECK(foot != 0 || full == 0, "the in-place read took a record the decoder refuses");
    if (full != 0 || foot != 0)
        return;
    FUZZ_CHECK(a->seq == b->seq, "seq");
    FUZZ_CHECK(strcmp(a->grid, b->grid) == 0, "grid '%s' against '%s'", a->grid, b->grid);
    FUZZ_CHECK(strcmp(a->assignee, b->assignee) == 0, "assignee");
    FUZZ_CHECK(a->status == b->status, "status");
    FUZZ_CHECK(a->accept_by == b->accept_by && a->complete_by == b->complete_by, "deadlines");
    FUZZ_CHECK(a->overdue_accept == b->overdue_accept &&
                   a->overdue_complete == b->overdue_complete,
               "overdue flags");
    char topic[160];
    taskrec_topic(a, topic, sizeof topic);
    FUZZ_CHECK(taskrec_feed_wire(&buf_a, 1, topic, c.at, c.change, c.by, a) == 0,
               "a decoded feed record's wire form must pack");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_task_record(data, size);
    check_feed_record(data, size);
    msgpack_zone_clear(&zone);
    return 0;
}
