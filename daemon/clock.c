/*
 * clock: see clock.h. A single process-wide value: the daemon is one thread.
 */
#include "clock.h"

#include <time.h>

static int64_t frozen_at;

int64_t clock_now(void)
{
    struct timespec ts;
    if (frozen_at)
        return frozen_at;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_set(int64_t ms)
{
    frozen_at = ms;
}

bool clock_is_frozen(void)
{
    return frozen_at != 0;
}
