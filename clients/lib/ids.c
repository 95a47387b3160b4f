/*
 * ids: event ids made by the client when the caller gives none.
 *
 * An id is the idempotency key of a publish, so it must be unique across every process of
 * every client, and it is nicer when ids sort by time (logs, dead letters). A ULID gives
 * both in 26 characters that all fall in the id charset: 48 bits of milliseconds and 80
 * bits from getrandom(), in Crockford base32, whose alphabet is in ASCII order so string
 * order is time order. Within one process, an id made in the same millisecond as the last
 * one (or after the clock stepped back) takes the last one's random part plus one, so a
 * process's ids sort in the order they were made.
 */
#include "gridbus.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#define ID_TIME_CHARS 10
#define ID_RAND_BYTES 10

/* The state of the monotonic sequence within this process. */
static pthread_mutex_t id_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t id_last_ms = -1;
static uint8_t id_last_rand[ID_RAND_BYTES];
/* A forked child must not continue its parent's sequence, or both would make last+1. */
static pid_t id_pid;

int64_t gridbus_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gridbus_id_format(int64_t ms, const uint8_t random[10], char out[GRIDBUS_ID_BUF])
{
    uint64_t t = (uint64_t)ms & ((UINT64_C(1) << 48) - 1);
    for (int i = ID_TIME_CHARS - 1; i >= 0; i--) {
        out[i] = crockford[t & 31];
        t >>= 5;
    }
    /* 80 bits = 16 groups of 5, read big-endian from the bytes. */
    for (int i = 0; i < 16; i++) {
        int bit = i * 5, v = 0;
        for (int b = 0; b < 5; b++, bit++)
            v = (v << 1) | ((random[bit / 8] >> (7 - bit % 8)) & 1);
        out[ID_TIME_CHARS + i] = crockford[v];
    }
    out[GRIDBUS_ID_LEN] = '\0';
}

static int crockford_value(char c)
{
    const char *p = c ? strchr(crockford, c) : NULL;
    return p ? (int)(p - crockford) : -1;
}

int gridbus_id_time(const char *id, int64_t *ms)
{
    if (!id || strlen(id) != GRIDBUS_ID_LEN)
        return -1;
    for (int i = 0; i < GRIDBUS_ID_LEN; i++)
        if (crockford_value(id[i]) < 0)
            return -1;
    /* The first character carries only 3 of the 48 bits: 0..7. */
    if (crockford_value(id[0]) > 7)
        return -1;
    uint64_t t = 0;
    for (int i = 0; i < ID_TIME_CHARS; i++)
        t = (t << 5) | (uint64_t)crockford_value(id[i]);
    *ms = (int64_t)t;
    return 0;
}

/* Adds one to the 80-bit big-endian number; returns false when it wrapped to zero. */
static bool rand_increment(uint8_t r[ID_RAND_BYTES])
{
    for (int i = ID_RAND_BYTES - 1; i >= 0; i--)
        if (++r[i] != 0)
            return true;
    return false;
}

static int fill_random(uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* Picks the (ms, random) pair of the next id under id_lock. */
static int id_next(int64_t now, uint8_t rnd[ID_RAND_BYTES], int64_t *ms)
{
    if (id_pid != getpid()) {
        id_pid = getpid();
        id_last_ms = -1;
    }
    if (now > id_last_ms) {
        if (fill_random(rnd, ID_RAND_BYTES) < 0)
            return -1;
        id_last_ms = now;
    } else {
        /* Same millisecond, or the clock went back: keep the order of this process. */
        memcpy(rnd, id_last_rand, ID_RAND_BYTES);
        if (!rand_increment(rnd))
            id_last_ms++; /* 2^80 ids in one ms: borrow the next ms */
    }
    memcpy(id_last_rand, rnd, ID_RAND_BYTES);
    *ms = id_last_ms;
    return 0;
}

int gridbus_id_new(char out[GRIDBUS_ID_BUF])
{
    uint8_t rnd[ID_RAND_BYTES];
    int64_t ms;
    pthread_mutex_lock(&id_lock);
    int rc = id_next(gridbus_now_ms(), rnd, &ms);
    pthread_mutex_unlock(&id_lock);
    if (rc < 0)
        return -1;
    gridbus_id_format(ms, rnd, out);
    return 0;
}
