/* SPDX-License-Identifier: MIT */
/* clock: the poll grid (clock_next_slot) and the words for a wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

#include "clock.h"

/* On the grid: the next point; a point up to the slack behind counts and
 * gives `earliest` itself; further behind, the following point. */
static void test_next_slot(void **unused)
{
    (void)unused;
    /* grid 500, 3500, 6500, ... (base 500, period 3000) */
    assert_int_equal(clock_next_slot(3500, 500, 3000, 750), 3500);
    assert_int_equal(clock_next_slot(3000, 500, 3000, 750), 3500);
    assert_int_equal(clock_next_slot(3600, 500, 3000, 750), 3600);  /* 100 late: keeps its place */
    assert_int_equal(clock_next_slot(4250, 500, 3000, 750), 4250);  /* exactly the slack */
    assert_int_equal(clock_next_slot(4251, 500, 3000, 750), 6500);  /* past it: the next slot */
    /* Never earlier than `earliest`, whatever the base. */
    for (int64_t e = -7000; e < 7000; e += 37) {
        int64_t at = clock_next_slot(e, 500, 3000, 750);
        assert_true(at >= e);
        assert_true(at < e + 3000);
        assert_true(at == e || (at - 500) % 3000 == 0);
    }
    /* A base far in the future or the past is the same grid. */
    assert_int_equal(clock_next_slot(3000, 500 + 3000 * 40, 3000, 0), 3500);
    assert_int_equal(clock_next_slot(3000, 500 - 3000 * 40, 3000, 0), 3500);
    /* No grid. */
    assert_int_equal(clock_next_slot(1234, 500, 0, 10), 1234);
}

/* Polls scheduled with the grid keep the interval between their starts,
 * even when answers take most of it, and stay on their slot. */
static void test_slots_keep_interval(void **unused)
{
    (void)unused;
    const int64_t period = 3000, base = 1000;
    int64_t start = 0; /* the first poll began off the grid */
    for (int i = 0; i < 20; i++) {
        int64_t answered = start + (i * 389) % 2900; /* slow and fast answers */
        int64_t earliest = start + period > answered ? start + period : answered;
        int64_t next = clock_next_slot(earliest, base, period, period / 4);
        assert_true(next - start >= period);
        assert_true((next - base) % period <= period / 4); /* on its slot, or a little late */
        start = next + 3; /* the timer fires a few ms late */
    }
}

static void test_age_words(void **unused)
{
    (void)unused;
    g_autofree char *now = clock_age_words(5);
    assert_string_equal(now, "just now");
    g_autofree char *min = clock_age_words(12 * 60);
    assert_string_equal(min, "12 min");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next_slot),
        cmocka_unit_test(test_slots_keep_interval),
        cmocka_unit_test(test_age_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
