/* clock: see clock.h. */
#include "clock.h"

#include <time.h>

/* The only mutable global besides the log threshold: a test offset that is
 * zero in production. */
static int64_t clock_offset_s;

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock_offset_s * 1000;
}

int64_t clock_now(void)
{
    return clock_now_ms() / 1000;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_advance(int64_t seconds)
{
    clock_offset_s += seconds;
}
