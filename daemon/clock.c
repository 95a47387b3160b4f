/*
 * clock: see clock.h. A single process-wide value, set by the loop thread and read by the
 * task feed's publisher too (its heartbeat's "at"), hence atomic.
 */
#include "clock.h"

#include <stdatomic.h>
#include <time.h>

static _Atomic int64_t frozen_at;

int64_t clock_now(void)
{
    struct timespec ts;
    int64_t frozen = atomic_load_explicit(&frozen_at, memory_order_relaxed);
    if (frozen)
        return frozen;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_set(int64_t ms)
{
    atomic_store_explicit(&frozen_at, ms, memory_order_relaxed);
}

bool clock_is_frozen(void)
{
    return atomic_load_explicit(&frozen_at, memory_order_relaxed) != 0;
}
