/*
 * mpw: the out-of-line part of the msgpack writer: setup and growth (see mpw.h for why the
 * writes themselves are inline).
 *
 * Growth follows msgpack_sbuffer_write's policy (first MSGPACK_SBUFFER_INIT_SIZE bytes, then
 * doubling, with realloc), so a buffer grown here is an ordinary sbuffer that
 * msgpack_sbuffer_write, msgpack_sbuffer_release and msgpack_sbuffer_destroy keep handling.
 */
#include "mpw.h"

#include <stdlib.h>

void mpw_init(mpw_t *w, msgpack_sbuffer *buf)
{
    w->buf = buf;
    w->failed = false;
}

int mpw_grow(mpw_t *w, size_t n)
{
    msgpack_sbuffer *b = w->buf;
    if (w->failed)
        return -1;
    if (b->alloc - b->size >= n)
        return 0;
    if (n > SIZE_MAX - b->size) {
        w->failed = true;
        return -1;
    }
    size_t need = b->size + n;
    size_t cap = b->alloc ? b->alloc : MSGPACK_SBUFFER_INIT_SIZE;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc(b->data, cap);
    if (!data) {
        w->failed = true;
        return -1;
    }
    b->data = data;
    b->alloc = cap;
    return 0;
}
