/* SPDX-License-Identifier: MIT */
/* What a cmocka test program reports to ctest.
 *
 * cmocka's skip() marks a test skipped, but cmocka_run_group_tests() counts
 * only failures, so a program whose tests all passed or skipped exits 0 and
 * ctest counts it as a pass. A test that cannot run here calls
 * HEED_SKIP("why") instead, and main() returns heed_test_status(), which is
 * 77 when something was skipped and nothing failed: tests/CMakeLists.txt
 * sets SKIP_RETURN_CODE 77, so ctest reports the program as skipped, and
 * scripts/test counts it so (or as a failure where HEED_REQUIRE_ALL=1 or
 * CI is set). Include after <cmocka.h>.
 */
#ifndef HEED_TESTS_UNIT_HEED_TEST_H
#define HEED_TESTS_UNIT_HEED_TEST_H

#define HEED_TEST_SKIPPED 77

static int heed_test_skips;

#define HEED_SKIP(why)                              \
    do {                                            \
        heed_test_skips++;                          \
        print_message("skipped: %s\n", (why));      \
        skip();                                     \
    } while (0)

/* main()'s exit status from cmocka_run_group_tests()'s failure count. */
static inline int heed_test_status(int failed)
{
    if (failed != 0)
        return 1;
    return heed_test_skips > 0 ? HEED_TEST_SKIPPED : 0;
}

#endif
