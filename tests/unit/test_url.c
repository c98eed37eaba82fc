/* Unit tests for lib/url.c. url_open is exercised with a real child process
 * (python3) that records the argv and environment it received. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "heed_test.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "url.h"

#define PYTHON "/usr/bin/python3"

/* Writes the child's NOTIFY_SOCKET, WATCHDOG_USEC and HEED_TEST_KEEP, then
 * every argument after the output path, one per line (a checked URL has no
 * newline), to a temporary file renamed into place so that a reader never
 * sees half of it. */
static const char url_test_recorder[] =
    "import os, sys\n"
    "out = sys.argv[1]\n"
    "lines = [os.environ.get(v, '-') for v in ('NOTIFY_SOCKET', 'WATCHDOG_USEC', 'HEED_TEST_KEEP')]\n"
    "with open(out + '.tmp', 'w') as f:\n"
    "    f.write('\\n'.join(lines + sys.argv[2:]))\n"
    "os.replace(out + '.tmp', out)\n";

static void check_ok(const char *url, const char *allowed, const char *expected)
{
    GError *error = NULL;
    char *got = url_check(url, allowed, &error);
    if (!got)
        fail_msg("rejected %s (allowed %s): %s", url, allowed ? allowed : "(none)", error->message);
    assert_null(error);
    assert_string_equal(got, expected);
    g_free(got);
}

static void check_rejected(const char *url, const char *allowed)
{
    GError *error = NULL;
    char *got = url_check(url, allowed, &error);
    if (got)
        fail_msg("accepted %s (allowed %s) as %s", url ? url : "(null)", allowed ? allowed : "(none)", got);
    assert_non_null(error);
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_UNSAFE));
    g_error_free(error);
}

/* ---- url_check ------------------------------------------------------------ */

static void test_check_accepts(void **state)
{
    (void)state;
    check_ok("https://mastodon.social/@alice/109876543210", NULL,
             "https://mastodon.social/@alice/109876543210");
    check_ok("HTTPS://Example.COM/a?b=c&d=e#frag", NULL, "https://Example.COM/a?b=c&d=e#frag");
    check_ok("https://example.com:443/x", NULL, "https://example.com:443/x");
    check_ok("https://example.com", NULL, "https://example.com");
    check_ok("https://sub-domain.example.co.uk/tags/%E6%97%A5", NULL,
             "https://sub-domain.example.co.uk/tags/%E6%97%A5");
    /* Non-ASCII is percent-encoded, host names become punycode. */
    check_ok("https://b\xC3\xBC" "cher.de/\xC3\xBC", NULL, "https://xn--bcher-kva.de/%C3%BC");
    /* The re-serialised form is the one to open: dot segments resolved,
     * a percent-encoded host decoded. */
    check_ok("https://example.com/a/../b", NULL, "https://example.com/b");
    check_ok("https://ex%61mple.com/", NULL, "https://example.com/");
}

static void test_check_rejects_scheme(void **state)
{
    (void)state;
    check_rejected("http://example.com/", NULL);
    check_rejected("javascript:alert(1)", NULL);
    check_rejected("JavaScript://example.com/%0Aalert(1)", NULL);
    check_rejected("file:///etc/passwd", NULL);
    check_rejected("data:text/html,<script>alert(1)</script>", NULL);
    check_rejected("//example.com/", NULL);
    check_rejected("example.com", NULL);
    check_rejected("https:example.com", NULL);
    check_rejected("https:///path", NULL);
    check_rejected("", NULL);
    check_rejected(NULL, NULL);
}

static void test_check_rejects_userinfo(void **state)
{
    (void)state;
    check_rejected("https://user@example.com/", NULL);
    check_rejected("https://user:pass@example.com/", NULL);
    check_rejected("https://@example.com/", NULL);
    check_rejected("https://example.com@evil.com/", "example.com");
    check_rejected("https://example.com:443@evil.com/", NULL);
    /* Browsers read '\' as '/', GUri does not: refuse the disagreement. */
    check_rejected("https://example.com\\@evil.com/", NULL);
    check_rejected("https://evil.com\\.example.com/", NULL);
}

static void test_check_rejects_bad_host(void **state)
{
    (void)state;
    check_rejected("https://exa mple.com/", NULL);
    check_rejected("https://exa%20mple.com/", NULL);
    check_rejected("https://exa%00mple.com/", NULL);
    check_rejected("https://exa_mple.com/", NULL);
    check_rejected("https://example..com/", NULL);
    check_rejected("https://.example.com/", NULL);
    check_rejected("https://example.com./", NULL);
    check_rejected("https://-example.com/", NULL);
    check_rejected("https://example.com-/", NULL);
    check_rejected("https://[::1]/", NULL);
    check_rejected("https://exa%2fmple.com/", NULL);
}

static void test_check_rejects_controls(void **state)
{
    (void)state;
    check_rejected("https://example.com/a b", NULL);
    check_rejected("https://example.com/a\tb", NULL);
    check_rejected("https://example.com/\r\nSet-Cookie: x", NULL);
    check_rejected("https://example.com/\n", NULL);
    check_rejected("https://example.com/\x01", NULL);
    check_rejected("https://example.com/\x7f", NULL);
    check_rejected(" https://example.com/", NULL);
    check_rejected("https://example.com/\xC2\x85", NULL);          /* U+0085 NEL */
    check_rejected("https://example.com/\xE2\x80\xAEgnp.exe", NULL); /* U+202E */
    check_rejected("https://example.com/a\xE2\x80\x8B", NULL);      /* U+200B */
    check_rejected("https://example.com/a\xC2\xA0" "b", NULL);      /* NBSP */
    check_rejected("https://example.com/\xff", NULL);               /* invalid UTF-8 */
    check_rejected("https://example.com/%zz", NULL);                /* bad escape */
}

static void test_check_length(void **state)
{
    (void)state;
    GString *url = g_string_new("https://example.com/");
    while (url->len < 2048)
        g_string_append_c(url, 'a');
    check_ok(url->str, NULL, url->str);
    g_string_append_c(url, 'a');
    check_rejected(url->str, NULL);
    g_string_free(url, TRUE);
}

static void test_check_allowed_host(void **state)
{
    (void)state;
    check_ok("https://mastodon.social/@a/1", "mastodon.social", "https://mastodon.social/@a/1");
    check_ok("https://MASTODON.social/@a/1", "mastodon.SOCIAL", "https://MASTODON.social/@a/1");
    check_ok("https://files.mastodon.social/x", "mastodon.social", "https://files.mastodon.social/x");
    check_ok("https://a.b.mastodon.social/x", "mastodon.social", "https://a.b.mastodon.social/x");
    check_rejected("https://evil.com/", "mastodon.social");
    check_rejected("https://evilmastodon.social/", "mastodon.social");
    check_rejected("https://mastodon.social.evil.com/", "mastodon.social");
    check_rejected("https://social/", "mastodon.social");
    /* An empty allowed host means none was given. */
    check_ok("https://anything.example/", "", "https://anything.example/");
}

static void test_check_ports(void **state)
{
    (void)state;
    /* Without an allowed host, or with one that has no port: 443 only. */
    check_rejected("https://example.com:8443/", NULL);
    check_rejected("https://example.com:80/", NULL);
    check_rejected("https://example.com:8443/", "example.com");
    check_ok("https://example.com:443/", "example.com", "https://example.com:443/");
    check_rejected("https://example.com:99999/", NULL);

    /* "host:port" allows exactly that port, as the test servers need. */
    check_ok("https://127.0.0.1:8443/@alice/1", "127.0.0.1:8443", "https://127.0.0.1:8443/@alice/1");
    check_rejected("https://127.0.0.1:8444/@alice/1", "127.0.0.1:8443");
    check_rejected("https://127.0.0.1/@alice/1", "127.0.0.1:8443");
    check_rejected("https://127.0.0.2:8443/", "127.0.0.1:8443");
    check_ok("https://example.com/", "example.com:443", "https://example.com/");
    /* An address has no subdomains. */
    check_rejected("https://1.127.0.0.1:8443/", "127.0.0.1:8443");
    /* A malformed allowed host allows nothing. */
    check_rejected("https://example.com/", "example.com:");
    check_rejected("https://example.com/", "example.com:http");
    check_rejected("https://example.com:0/", "example.com:0");
    check_rejected("https://example.com/", "exa mple.com");
}

/* ---- url_host ------------------------------------------------------------- */

static void test_host(void **state)
{
    (void)state;
    char *h = url_host("https://Mastodon.Social/@alice");
    assert_string_equal(h, "mastodon.social");
    g_free(h);
    h = url_host("https://127.0.0.1:8443/x");
    assert_string_equal(h, "127.0.0.1");
    g_free(h);
    assert_null(url_host("http://example.com/"));
    assert_null(url_host("not a url"));
    assert_null(url_host("https:///path"));
    assert_null(url_host(""));
    assert_null(url_host(NULL));
}

/* ---- url_open ------------------------------------------------------------- */

struct url_open_fixture {
    char *dir;
    char *out;
};

static int url_open_setup(void **state)
{
    struct url_open_fixture *f = g_new0(struct url_open_fixture, 1);
    GError *error = NULL;
    f->dir = g_dir_make_tmp("heed-test-url-XXXXXX", &error);
    if (!f->dir) {
        g_error_free(error);
        g_free(f);
        return -1;
    }
    f->out = g_build_filename(f->dir, "argv", NULL);
    *state = f;
    return 0;
}

static int url_open_teardown(void **state)
{
    struct url_open_fixture *f = *state;
    char *tmp = g_strconcat(f->out, ".tmp", NULL);
    g_unlink(f->out);
    g_unlink(tmp);
    g_rmdir(f->dir);
    g_free(tmp);
    g_free(f->out);
    g_free(f->dir);
    g_free(f);
    return 0;
}

/* The child runs detached, so poll for its output (generously: valgrind). */
static char *url_wait_for_file(const char *path)
{
    for (int i = 0; i < 500; i++) {
        char *contents = NULL;
        if (g_file_get_contents(path, &contents, NULL, NULL))
            return contents;
        g_usleep(10 * 1000);
    }
    return NULL;
}

/* Every child must have been reaped by the time url_open returns. */
static void url_assert_no_children(void)
{
    errno = 0;
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

static void test_open_argv_and_environment(void **state)
{
    struct url_open_fixture *f = *state;
    if (access(PYTHON, X_OK) != 0)
        HEED_SKIP(PYTHON " is missing (scripts/deps installs it)");

    /* Everything here means something to a shell; none of it may be
     * interpreted, split or lost. */
    const char *url = "https://example.com/a$(touch${IFS}x)`id`;b'c\"d&e|f<g>h*?q=$HOME&r=1#frag!";
    GError *error = NULL;
    char *checked = url_check(url, NULL, &error);
    assert_non_null(checked);
    assert_string_equal(checked, url);

    g_setenv("NOTIFY_SOCKET", "/run/user/1000/systemd/notify", TRUE);
    g_setenv("WATCHDOG_USEC", "30000000", TRUE);
    g_setenv("HEED_TEST_KEEP", "kept", TRUE);
    char *const argv[] = { PYTHON, "-c", (char *)url_test_recorder, f->out, "%u", "--url=%u;%u", NULL };
    bool ok = url_open(url, NULL, argv, &error);
    g_unsetenv("NOTIFY_SOCKET");
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("HEED_TEST_KEEP");
    if (!ok)
        fail_msg("url_open: %s", error->message);
    url_assert_no_children();

    char *got = url_wait_for_file(f->out);
    assert_non_null(got);
    char *expected = g_strdup_printf("-\n-\nkept\n%s\n--url=%s;%s", checked, checked, checked);
    assert_string_equal(got, expected);
    g_free(expected);
    g_free(got);
    g_free(checked);
}

static void test_open_appends_url(void **state)
{
    struct url_open_fixture *f = *state;
    if (access(PYTHON, X_OK) != 0)
        HEED_SKIP(PYTHON " is missing (scripts/deps installs it)");

    /* No "%u" anywhere: the URL becomes the last argument. */
    char *const argv[] = { PYTHON, "-c", (char *)url_test_recorder, f->out, "--new-tab", NULL };
    GError *error = NULL;
    if (!url_open("https://Example.com/x?y=1", NULL, argv, &error))
        fail_msg("url_open: %s", error->message);
    url_assert_no_children();

    char *got = url_wait_for_file(f->out);
    assert_non_null(got);
    assert_string_equal(got, "-\n-\n-\n--new-tab\nhttps://Example.com/x?y=1");
    g_free(got);
}

static void test_open_opens_reserialised_url(void **state)
{
    struct url_open_fixture *f = *state;
    if (access(PYTHON, X_OK) != 0)
        HEED_SKIP(PYTHON " is missing (scripts/deps installs it)");

    char *const argv[] = { PYTHON, "-c", (char *)url_test_recorder, f->out, "%u", NULL };
    GError *error = NULL;
    if (!url_open("https://127.0.0.1:8443/a/../@alice/\xC3\xBC", "127.0.0.1:8443", argv, &error))
        fail_msg("url_open: %s", error->message);

    char *got = url_wait_for_file(f->out);
    assert_non_null(got);
    assert_string_equal(got, "-\n-\n-\nhttps://127.0.0.1:8443/@alice/%C3%BC");
    g_free(got);
}

static void test_open_refuses_unsafe(void **state)
{
    struct url_open_fixture *f = *state;
    char *const argv[] = { PYTHON, "-c", (char *)url_test_recorder, f->out, "%u", NULL };
    GError *error = NULL;

    assert_false(url_open("https://evil.com/", "mastodon.social", argv, &error));
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_UNSAFE));
    g_clear_error(&error);
    assert_false(url_open("https://example.com/\n", NULL, argv, &error));
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_UNSAFE));
    g_clear_error(&error);
    /* Unsafe URLs are refused before anything is started, including by the
     * desktop default handler. */
    assert_false(url_open("javascript:alert(1)", NULL, NULL, &error));
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_UNSAFE));
    g_clear_error(&error);

    url_assert_no_children();
    g_usleep(200 * 1000);
    assert_false(g_file_test(f->out, G_FILE_TEST_EXISTS));
}

static void test_open_launch_failure(void **state)
{
    (void)state;
    GError *error = NULL;
    char *const missing[] = { "/nonexistent/heed-no-such-browser", "%u", NULL };
    assert_false(url_open("https://example.com/", NULL, missing, &error));
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_LAUNCH));
    g_clear_error(&error);

    char *const not_in_path[] = { "heed-no-such-browser-in-path", NULL };
    assert_false(url_open("https://example.com/", NULL, not_in_path, &error));
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_LAUNCH));
    g_clear_error(&error);

    char *const empty[] = { NULL };
    assert_false(url_open("https://example.com/", NULL, empty, &error));
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_LAUNCH));
    g_clear_error(&error);

    url_assert_no_children();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_accepts),
        cmocka_unit_test(test_check_rejects_scheme),
        cmocka_unit_test(test_check_rejects_userinfo),
        cmocka_unit_test(test_check_rejects_bad_host),
        cmocka_unit_test(test_check_rejects_controls),
        cmocka_unit_test(test_check_length),
        cmocka_unit_test(test_check_allowed_host),
        cmocka_unit_test(test_check_ports),
        cmocka_unit_test(test_host),
        cmocka_unit_test_setup_teardown(test_open_argv_and_environment, url_open_setup, url_open_teardown),
        cmocka_unit_test_setup_teardown(test_open_appends_url, url_open_setup, url_open_teardown),
        cmocka_unit_test_setup_teardown(test_open_opens_reserialised_url, url_open_setup, url_open_teardown),
        cmocka_unit_test_setup_teardown(test_open_refuses_unsafe, url_open_setup, url_open_teardown),
        cmocka_unit_test(test_open_launch_failure),
    };
    return heed_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
