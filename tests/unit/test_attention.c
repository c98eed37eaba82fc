/* SPDX-License-Identifier: MIT */
/* attention: the delivery decisions, with the time given by the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "attention.h"

#define T0 ((int64_t)1800000000)

static struct config *config_with(int threshold, int window)
{
    struct config *cfg = g_new0(struct config, 1);
    cfg->digest_threshold = threshold;
    cfg->digest_window = window;
    return cfg;
}

static struct attention_input input(int urgency, int64_t now)
{
    return (struct attention_input){ .urgency = urgency, .now = now, .local_minute = 12 * 60 };
}

/* Popups up to the threshold within the window, then the digest; once the
 * window has passed, popups again. */
static void test_popup_allowance(void **unused)
{
    (void)unused;
    g_autofree struct config *cfg = config_with(3, 120);
    struct attention a;
    attention_init(&a, cfg);
    for (int i = 0; i < 3; i++) {
        struct attention_input in = input(1, T0 + i);
        assert_int_equal(attention_decide(&a, &in), ATTENTION_POPUP);
    }
    struct attention_input in = input(2, T0 + 10);
    assert_int_equal(attention_decide(&a, &in), ATTENTION_DIGEST);
    assert_int_equal(attention_recent(&a, T0 + 10), 3);
    in = input(1, T0 + 120);
    assert_int_equal(attention_recent(&a, T0 + 120), 2);
    assert_int_equal(attention_decide(&a, &in), ATTENTION_POPUP);
    /* A popup that was not shown gives its place back. */
    assert_int_equal(attention_recent(&a, T0 + 120), 3);
    attention_forget_popup(&a);
    assert_int_equal(attention_recent(&a, T0 + 120), 2);
    /* Reminders take from the same allowance. */
    assert_true(attention_take_popup(&a, T0 + 120));
    assert_false(attention_take_popup(&a, T0 + 120));
}

static void test_low_muted_vip_dnd(void **unused)
{
    (void)unused;
    g_autofree struct config *cfg = config_with(5, 120);
    struct attention a;
    attention_init(&a, cfg);
    struct attention_input in = input(0, T0);
    assert_int_equal(attention_decide(&a, &in), ATTENTION_DIGEST);
    in.vip = true;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_POPUP);
    in = input(2, T0);
    in.muted = true;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_SILENT);
    in = input(2, T0);
    in.noise = true; /* scored 0 or a bot: never a banner */
    assert_int_equal(attention_decide(&a, &in), ATTENTION_SILENT);
    in = input(2, T0);
    in.dnd = true;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_HOLD);
    in.vip = true; /* a critical VIP passes do-not-disturb */
    assert_int_equal(attention_decide(&a, &in), ATTENTION_POPUP);
    in = input(1, T0);
    in.dnd = true;
    in.vip = true;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_HOLD);
}

static void test_quiet_hours(void **unused)
{
    (void)unused;
    g_autofree struct config *cfg = config_with(5, 120);
    assert_true(config_parse_quiet_hours("22:00-07:00", &cfg->quiet));
    cfg->quiet_allow_vip = true;
    struct attention a;
    attention_init(&a, cfg);
    struct attention_input in = input(2, T0);
    in.local_minute = 23 * 60;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_HOLD);
    in.local_minute = 6 * 60 + 59;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_HOLD);
    in.local_minute = 7 * 60;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_POPUP);
    in.local_minute = 23 * 60;
    in.vip = true;
    assert_int_equal(attention_decide(&a, &in), ATTENTION_POPUP);
    cfg->quiet_allow_vip = false;
    attention_init(&a, cfg);
    assert_int_equal(attention_decide(&a, &in), ATTENTION_HOLD);
    /* Reminders wait in quiet hours, in DND and while anything is held. */
    assert_true(attention_nudges_held(&a, false, 23 * 60, false));
    assert_true(attention_nudges_held(&a, false, 12 * 60, true));
    assert_true(attention_nudges_held(&a, true, 12 * 60, false));
    assert_false(attention_nudges_held(&a, false, 12 * 60, false));
}

static void test_summarise(void **unused)
{
    (void)unused;
    g_autofree struct config *cfg = config_with(4, 120);
    struct attention a;
    attention_init(&a, cfg);
    assert_false(attention_summarise(&a, false, 4));
    assert_true(attention_summarise(&a, false, 5));
    assert_true(attention_summarise(&a, true, 1));
}

/* The digest keeps the two most urgent, counts the rest, and changes on
 * screen at most every ATTENTION_DIGEST_MIN_UPDATE_MS. */
static void test_digest(void **unused)
{
    (void)unused;
    struct attention_digest d = { 0 };
    assert_int_equal(attention_digest_wait_ms(&d, 1000), -1);
    attention_digest_add(&d, 1, 30, 0, "Ann", "first");
    attention_digest_add(&d, 2, 80, 2, "Bea", "urgent");
    attention_digest_add(&d, 3, 50, 1, "Cy", "middle");
    attention_digest_add(&d, 4, 10, 0, "Dee", "last");
    assert_int_equal(d.count, 4);
    assert_int_equal(d.need_you, 2);
    assert_int_equal(d.top_id[0], 2);
    assert_int_equal(d.top_id[1], 3);
    g_autofree char *summary = NULL, *body = NULL;
    attention_digest_text(&d, &summary, &body);
    assert_string_equal(summary, "4 new mentions · 2 need you");
    assert_non_null(strstr(body, "Bea: urgent"));
    assert_non_null(strstr(body, "Cy: middle"));
    assert_null(strstr(body, "Ann"));
    assert_true(g_str_has_suffix(body, "\nand 2 more")); /* 4 = two named + 2 */

    int64_t ms = 50000;
    assert_int_equal(attention_digest_wait_ms(&d, ms), 0);
    attention_digest_flushed(&d, ms);
    assert_int_equal(attention_digest_wait_ms(&d, ms + 10), -1); /* nothing new */
    attention_digest_add(&d, 5, 20, 0, "Eve", "more");
    assert_int_equal(attention_digest_wait_ms(&d, ms + 1000), ATTENTION_DIGEST_MIN_UPDATE_MS - 1000);
    assert_int_equal(attention_digest_wait_ms(&d, ms + ATTENTION_DIGEST_MIN_UPDATE_MS), 0);
    attention_digest_reset(&d);
    assert_int_equal(d.count, 0);
    assert_null(d.top_line[0]);
}

/* Sleep until the next thing is due, at most an hour, re-checking DND
 * every 30 s and a failed notification server when it may be tried. */
static void test_sleep(void **unused)
{
    (void)unused;
    assert_int_equal(attention_sleep_s(T0, 0, false, 0), 3600);
    assert_int_equal(attention_sleep_s(T0, T0 + 90, false, 0), 90);
    assert_int_equal(attention_sleep_s(T0, T0 + 90000, false, 0), 3600);
    assert_int_equal(attention_sleep_s(T0, T0 + 90, true, 0), 30);
    assert_int_equal(attention_sleep_s(T0, T0 + 90, false, T0 + 5), 5);
    assert_int_equal(attention_sleep_s(T0, T0, false, 0), 3600); /* due now was handled by this pass */
    assert_int_equal(attention_sleep_s(T0, T0 - 5, false, T0 - 1), 3600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_popup_allowance), cmocka_unit_test(test_low_muted_vip_dnd),
        cmocka_unit_test(test_quiet_hours),     cmocka_unit_test(test_summarise),
        cmocka_unit_test(test_digest),          cmocka_unit_test(test_sleep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
