/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/log.c: what reaches stderr. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* stderr goes to a scratch file while a test logs; its name and the saved
 * descriptor of the real stderr. */
struct capture {
    char *path;
    int saved;
};

static void capture_start(struct capture *c)
{
    int fd = g_file_open_tmp("heed-test-log.XXXXXX", &c->path, NULL);
    assert_true(fd >= 0);
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
    close(fd);
}

/* Restores stderr; returns what was written (g_free). */
static char *capture_end(struct capture *c)
{
    fflush(stderr);
    assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
    close(c->saved);
    char *text = NULL;
    assert_true(g_file_get_contents(c->path, &text, NULL, NULL));
    g_unlink(c->path);
    g_free(c->path);
    return text;
}

/* The "device:inode" of whatever stderr is now, as systemd sets JOURNAL_STREAM. */
static char *stderr_dev_ino(void)
{
    struct stat st;
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    return g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
}

static char *log_line_with_journal_stream(const char *journal_stream, bool use_stderr_id)
{
    struct capture c;
    capture_start(&c);
    g_autofree char *id = use_stderr_id ? stderr_dev_ino() : NULL;
    const char *value = use_stderr_id ? id : journal_stream;
    if (value)
        g_setenv("JOURNAL_STREAM", value, TRUE);
    else
        g_unsetenv("JOURNAL_STREAM");
    log_setup("testlog", LOG_LVL_INFO);
    log_info("hello %d", 42);
    g_unsetenv("JOURNAL_STREAM");
    return capture_end(&c);
}

static void test_journal_stream_matching_stderr(void **state)
{
    (void)state;
    g_autofree char *out = log_line_with_journal_stream(NULL, true);
    assert_string_equal(out, "<6>hello 42\n");
}

/* A terminal started from a journald-logged session inherits JOURNAL_STREAM,
 * but its stderr is not that stream: no "<6>" prefixes there. */
static void test_journal_stream_inherited(void **state)
{
    (void)state;
    static const char *const values[] = { "1:1", "0:0", "", "garbage", "12", "12:", ":34", "8:9x", "-1:-1" };
    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        g_autofree char *out = log_line_with_journal_stream(values[i], false);
        if (strcmp(out, "testlog: hello 42\n") != 0)
            fail_msg("JOURNAL_STREAM=\"%s\": \"%s\"", values[i], out);
    }
    /* The right device and a wrong inode is still another file. */
    struct stat st;
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    g_autofree char *near = g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev,
                                            (unsigned long long)st.st_ino + 1);
    g_autofree char *out = log_line_with_journal_stream(near, false);
    assert_string_equal(out, "testlog: hello 42\n");
    g_autofree char *none = log_line_with_journal_stream(NULL, false);
    assert_string_equal(none, "testlog: hello 42\n");
}

static char *log_plain(const char *msg)
{
    struct capture c;
    capture_start(&c);
    g_unsetenv("JOURNAL_STREAM");
    log_setup("testlog", LOG_LVL_INFO);
    log_warn("%s", msg);
    return capture_end(&c);
}

/* C0, DEL and C1 controls (U+0080..U+009F, e.g. U+009B, the one-character
 * CSI) never reach the terminal; bidi overrides and isolates go. */
static void test_controls_stripped(void **state)
{
    (void)state;
    g_autofree char *c0 = log_plain("a\x1b[2Jb\x07" "c\x7f" "d\ne\rf\tg");
    assert_string_equal(c0, "testlog: warning: a?[2Jb?c?d e f g\n");
    g_autofree char *c1 = log_plain("url https://x.example/\xC2\x9B" "31m\xC2\x85" "next\xC2\x80\xC2\x9F" "end");
    assert_string_equal(c1, "testlog: warning: url https://x.example/?31m?next??end\n");
    g_autofree char *bidi = log_plain("a\xE2\x80\xAE" "b\xE2\x81\xA6" "c");
    assert_string_equal(bidi, "testlog: warning: abc\n");
    /* Ordinary non-ASCII text stays, U+00A0..U+00FF included. */
    g_autofree char *ok = log_plain("caf\xC3\xA9 \xC2\xA0\xC3\xBF \xF0\x9F\x98\x80");
    assert_string_equal(ok, "testlog: warning: caf\xC3\xA9 \xC2\xA0\xC3\xBF \xF0\x9F\x98\x80\n");
}

/* Bytes that are not UTF-8 (a raw 0x9B is CSI to a Latin-1 terminal) and a
 * character cut by the line's 2 KB limit come out as '?'. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    g_autofree char *raw = log_plain("a\x9b" "31mb\xff\xC2");
    assert_string_equal(raw, "testlog: warning: a?31mb??\n");
    GString *big = g_string_new(NULL);
    while (big->len < 4096)
        g_string_append(big, "\xE2\x82\xAC"); /* the euro sign, 3 bytes */
    g_autofree char *cut = log_plain(big->str);
    g_string_free(big, TRUE);
    assert_true(g_utf8_validate(cut, -1, NULL));
    assert_true(strlen(cut) <= 2048 + strlen("testlog: warning: \n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_stream_matching_stderr),
        cmocka_unit_test(test_journal_stream_inherited),
        cmocka_unit_test(test_controls_stripped),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
