/* SPDX-License-Identifier: MIT */
/* clock: the one place heed reads the time.
 *
 * Everything that schedules (polls, snoozes, nudges, quiet hours) asks
 * clock_now(). Tests may shift the clock forward through clock_advance()
 * (reached through a test-only control command) to run a day of quiet hours
 * and nudges in seconds. Real elapsed time still passes underneath.
 */
#ifndef HEED_CLOCK_H
#define HEED_CLOCK_H

#include <stdint.h>

/* Wall-clock time in whole seconds since the epoch, plus any test offset. */
int64_t clock_now(void);
/* Same, in milliseconds. */
int64_t clock_now_ms(void);
/* Monotonic milliseconds, never shifted: for measuring durations. */
int64_t clock_mono_ms(void);
/* "just now", "12 min", "5 h", "3 d": how long a wait has been (g_free). */
char *clock_age_words(int64_t seconds);
/* "2026-12-06T02:34:19Z" (g_free; "" when out of range). */
char *clock_iso_utc(int64_t t);
/* Shift the wall clock (tests only). */
void clock_advance(int64_t seconds);

#endif
