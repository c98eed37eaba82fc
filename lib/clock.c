/* SPDX-License-Identifier: MIT */
/* clock: see clock.h. */
#include "clock.h"

#include <glib.h>
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

char *clock_age_words(int64_t seconds)
{
    if (seconds < 60)
        return g_strdup("just now");
    if (seconds < 3600)
        return g_strdup_printf("%d min", (int)(seconds / 60));
    if (seconds < 86400 * 2)
        return g_strdup_printf("%d h", (int)(seconds / 3600));
    return g_strdup_printf("%d d", (int)(seconds / 86400));
}

char *clock_iso_utc(int64_t t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
}
