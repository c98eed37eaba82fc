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
/* The first time at or after `earliest` on the grid base + m*period (all in
 * the same milliseconds, m any integer). A grid point at most `slack` before
 * `earliest` still counts, and then `earliest` itself is the answer: a timer
 * that fired a little late keeps its place instead of losing a whole period.
 * A period <= 0 has no grid: `earliest`. */
int64_t clock_next_slot(int64_t earliest, int64_t base, int64_t period, int64_t slack);
/* "just now", "12 min", "5 h", "3 d": how long a wait has been (g_free). */
char *clock_age_words(int64_t seconds);
/* "2026-12-06T02:34:19Z" (g_free; "" when out of range). */
char *clock_iso_utc(int64_t t);
/* Shift the wall clock (tests only). */
void clock_advance(int64_t seconds);

#endif
