/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/url.c. url_open is exercised with a real child process
 * (python3) that records the argv and environment it received, directly and
 * through a stand-in for systemd-run (as under systemd, INVOCATION_ID set).
 * The desktop portal is tested end to end in test_systemd.py. */
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

/* ---- url_open through systemd-run ------------------------------------------ */

/* Stand-in for systemd-run: appends the options before "--", then the
 * program and the last argument after it, one per line, then "====";
 * HEED_TEST_SDRUN_MODE "fail" fails as systemd-run does, "old" refuses
 * ExitType= like systemd < 250; otherwise it runs the command with only the
 * variables named by --setenv, from its own environment, expanding "${NAME}"
 * and "$$" in its arguments, as the manager does. */
static const char url_test_systemd_run[] =
    "#!" PYTHON "\n"
    "import os, sys\n"
    "args = sys.argv[1:]\n"
    "i = args.index('--')\n"
    "with open(os.environ['HEED_TEST_SDRUN_OUT'], 'a') as f:\n"
    "    f.write('\\n'.join(args[:i + 2] + [args[-1], '====']) + '\\n')\n"
    "mode = os.environ.get('HEED_TEST_SDRUN_MODE', '')\n"
    "if mode == 'fail':\n"
    "    sys.stderr.write('Failed to start transient service unit: boom\\n')\n"
    "    sys.exit(1)\n"
    "if mode == 'old' and '--property=ExitType=cgroup' in args:\n"
    "    sys.stderr.write('Unknown assignment: ExitType=cgroup\\n')\n"
    "    sys.exit(1)\n"
    "env = {}\n"
    "for a in args[:i]:\n"
    "    n = a[len('--setenv='):] if a.startswith('--setenv=') else None\n"
    "    if n is not None and n in os.environ:\n"
    "        env[n] = os.environ[n]\n"
    "import re\n"
    "def expand(a):\n"
    "    return re.sub(r'\\$\\$|\\$\\{(\\w+)\\}',\n"
    "                  lambda m: '$' if m.group(0) == '$$' else env.get(m.group(1), ''), a)\n"
    "cmd = [expand(a) for a in args[i + 1:]]\n"
    "os.execve(cmd[0], cmd, env)\n";

struct url_sd_fixture {
    struct url_open_fixture open;
    char *bin;      /* holds systemd-run (the stand-in) */
    char *calls;    /* what it recorded */
    char *old_path;
};

static int url_sd_setup(void **state)
{
    if (url_open_setup(state) != 0)
        return -1;
    struct url_open_fixture *o = *state;
    struct url_sd_fixture *f = g_new0(struct url_sd_fixture, 1);
    f->open = *o;
    g_free(o);
    f->bin = g_build_filename(f->open.dir, "bin", NULL);
    f->calls = g_build_filename(f->open.dir, "calls", NULL);
    char *prog = g_build_filename(f->bin, "systemd-run", NULL);
    bool ok = g_mkdir(f->bin, 0700) == 0 && g_file_set_contents(prog, url_test_systemd_run, -1, NULL)
              && g_chmod(prog, 0700) == 0;
    g_free(prog);
    f->old_path = g_strdup(g_getenv("PATH"));
    char *path = g_strconcat(f->bin, ":", f->old_path ? f->old_path : "/usr/bin:/bin", NULL);
    g_setenv("PATH", path, TRUE);
    g_free(path);
    g_setenv("HEED_TEST_SDRUN_OUT", f->calls, TRUE);
    g_setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", TRUE);
    *state = f;
    return ok ? 0 : -1;
}

static int url_sd_teardown(void **state)
{
    struct url_sd_fixture *f = *state;
    char *prog = g_build_filename(f->bin, "systemd-run", NULL);
    g_unlink(prog);
    g_free(prog);
    g_rmdir(f->bin);
    g_unlink(f->calls);
    g_unsetenv("INVOCATION_ID");
    g_unsetenv("HEED_TEST_SDRUN_OUT");
    g_unsetenv("HEED_TEST_SDRUN_MODE");
    if (f->old_path)
        g_setenv("PATH", f->old_path, TRUE);
    g_free(f->old_path);
    g_free(f->bin);
    g_free(f->calls);
    struct url_open_fixture *o = g_new0(struct url_open_fixture, 1);
    *o = f->open;
    g_free(f);
    *state = o;
    return url_open_teardown(state);
}

/* The calls systemd-run got, each a NULL-terminated list of lines. */
static GPtrArray *url_sd_calls(const char *path)
{
    GPtrArray *calls = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return calls;
    char **parts = g_strsplit(text, "====\n", -1);
    for (char **p = parts; *p; p++)
        if (**p) {
            char **lines = g_strsplit(*p, "\n", -1);
            guint n = g_strv_length(lines);
            if (n && !*lines[n - 1]) {
                g_free(lines[n - 1]);
                lines[n - 1] = NULL;
            }
            g_ptr_array_add(calls, lines);
        }
    g_strfreev(parts);
    g_free(text);
    return calls;
}

static bool url_has_line(char **lines, const char *line)
{
    return g_strv_contains((const char *const *)lines, line);
}

static void test_open_through_systemd_run(void **state)
{
    struct url_sd_fixture *f = *state;
    if (access(PYTHON, X_OK) != 0)
        HEED_SKIP(PYTHON " is missing (scripts/deps installs it)");

    /* "${HEED_TEST_KEEP}" and "$$" would be expanded by the manager */
    const char *url = "https://example.com/a$(id);b'c\"d&e|f?q=$HOME&v=${HEED_TEST_KEEP}$$#frag";
    g_setenv("NOTIFY_SOCKET", "/run/user/1000/systemd/notify", TRUE);
    g_setenv("WATCHDOG_USEC", "30000000", TRUE);
    g_setenv("JOURNAL_STREAM", "8:1234", TRUE);
    g_setenv("HEED_TEST_KEEP", "kept", TRUE);
    char *const argv[] = { PYTHON, "-c", (char *)url_test_recorder, f->open.out, "%u", NULL };
    GError *error = NULL;
    bool ok = url_open(url, NULL, argv, &error);
    g_unsetenv("NOTIFY_SOCKET");
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("JOURNAL_STREAM");
    g_unsetenv("HEED_TEST_KEEP");
    if (!ok)
        fail_msg("url_open: %s", error->message);
    url_assert_no_children();

    GPtrArray *calls = url_sd_calls(f->calls);
    assert_int_equal(calls->len, 1);
    char **c = g_ptr_array_index(calls, 0);
    /* a service of the user manager, never a scope of ours */
    assert_string_equal(c[0], "--user");
    assert_string_equal(c[1], "--collect");
    assert_string_equal(c[2], "--quiet");
    assert_true(g_str_has_prefix(c[3], "--unit=heed-open-"));
    assert_int_equal(strlen(c[3]), strlen("--unit=heed-open-") + 16);
    assert_true(url_has_line(c, "--property=Type=exec"));
    assert_true(url_has_line(c, "--property=ExitType=cgroup"));
    assert_false(url_has_line(c, "--scope"));
    /* the environment by name, without what systemd gave heedd alone */
    assert_true(url_has_line(c, "--setenv=HEED_TEST_KEEP"));
    assert_true(url_has_line(c, "--setenv=PATH"));
    for (const char *const *v = (const char *const[]){ "NOTIFY_SOCKET", "WATCHDOG_USEC", "INVOCATION_ID",
                                                      "JOURNAL_STREAM", NULL };
         *v; v++) {
        char *opt = g_strconcat("--setenv=", *v, NULL);
        if (url_has_line(c, opt))
            fail_msg("%s passed to the service", opt);
        g_free(opt);
    }
    /* names only: no value on a command line */
    for (char **l = c; *l; l++) {
        assert_null(strstr(*l, "kept"));
        assert_null(strstr(*l, "/run/user/1000/systemd/notify"));
    }
    /* then the opener, its program found in PATH, and the URL as one argument */
    guint n = g_strv_length(c);
    assert_string_equal(c[n - 3], "--");
    assert_string_equal(c[n - 2], PYTHON);
    assert_string_equal(c[n - 1], "https://example.com/a$$(id);b'c\"d&e|f?q=$$HOME&v=$${HEED_TEST_KEEP}$$$$#frag");
    g_ptr_array_unref(calls);

    char *got = url_wait_for_file(f->open.out);
    assert_non_null(got);
    char *expected = g_strdup_printf("-\n-\nkept\n%s", url);
    assert_string_equal(got, expected);
    g_free(expected);
    g_free(got);
}

static void test_open_systemd_run_before_exit_type(void **state)
{
    struct url_sd_fixture *f = *state;
    if (access(PYTHON, X_OK) != 0)
        HEED_SKIP(PYTHON " is missing (scripts/deps installs it)");

    /* systemd < 250: the same call once more without ExitType=, and no
     * more ExitType= after that */
    g_setenv("HEED_TEST_SDRUN_MODE", "old", TRUE);
    char *const argv[] = { PYTHON, "-c", (char *)url_test_recorder, f->open.out, "%u", NULL };
    GError *error = NULL;
    for (int i = 0; i < 2; i++)
        if (!url_open("https://example.com/x", NULL, argv, &error))
            fail_msg("url_open: %s", error->message);
    url_assert_no_children();
    GPtrArray *calls = url_sd_calls(f->calls);
    assert_int_equal(calls->len, 3);
    assert_true(url_has_line(g_ptr_array_index(calls, 0), "--property=ExitType=cgroup"));
    assert_false(url_has_line(g_ptr_array_index(calls, 1), "--property=ExitType=cgroup"));
    assert_false(url_has_line(g_ptr_array_index(calls, 2), "--property=ExitType=cgroup"));
    g_ptr_array_unref(calls);
    char *got = url_wait_for_file(f->open.out);
    assert_non_null(got);
    g_free(got);
}

static void test_open_systemd_run_fails(void **state)
{
    struct url_sd_fixture *f = *state;
    if (access(PYTHON, X_OK) != 0)
        HEED_SKIP(PYTHON " is missing (scripts/deps installs it)");
    g_setenv("HEED_TEST_SDRUN_MODE", "fail", TRUE);

    /* systemd-run failed: the opener is started directly instead */
    char *const argv[] = { PYTHON, "-c", (char *)url_test_recorder, f->open.out, "%u", NULL };
    GError *error = NULL;
    if (!url_open("https://example.com/direct", NULL, argv, &error))
        fail_msg("url_open: %s", error->message);
    url_assert_no_children();
    char *got = url_wait_for_file(f->open.out);
    assert_non_null(got);
    assert_string_equal(got, "-\n-\n-\nhttps://example.com/direct");
    g_free(got);

    /* Every way fails (no session bus, systemd-run, no desktop handler): the
     * error says what was tried and what to change. xdg-open must exist to
     * be handed to systemd-run; the one here is never run. */
    char *xdg_open = g_build_filename(f->bin, "xdg-open", NULL);
    assert_true(g_file_set_contents(xdg_open, "#!/bin/false\n", -1, NULL));
    assert_int_equal(g_chmod(xdg_open, 0700), 0);
    const char *vars[] = { "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_DIRS", "XDG_DATA_HOME", "PATH" };
    char *saved[G_N_ELEMENTS(vars)];
    for (size_t i = 0; i < G_N_ELEMENTS(vars); i++)
        saved[i] = g_strdup(g_getenv(vars[i]));
    g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
    for (size_t i = 1; i < G_N_ELEMENTS(vars); i++)
        g_setenv(vars[i], i == G_N_ELEMENTS(vars) - 1 ? f->bin : f->open.dir, TRUE);
    bool ok = url_open("https://example.com/", NULL, NULL, &error);
    for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
        if (saved[i])
            g_setenv(vars[i], saved[i], TRUE);
        else
            g_unsetenv(vars[i]);
        g_free(saved[i]);
    }
    g_unlink(xdg_open);
    assert_false(ok);
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_LAUNCH));
    assert_true(g_str_has_prefix(error->message, "cannot open URL: no session bus for the desktop portal, "
                                                 "systemd-run failed (Failed to start transient service unit: "
                                                 "boom), the desktop's default handler failed ("));
    assert_true(g_str_has_suffix(error->message,
                                 "; set open_command in heed.conf, or install xdg-utils and choose a default browser"));
    g_clear_error(&error);
    GPtrArray *calls = url_sd_calls(f->calls);
    assert_int_equal(calls->len, 2);
    char **c = g_ptr_array_index(calls, 1);
    guint n = g_strv_length(c);
    assert_string_equal(c[n - 2], xdg_open);
    assert_string_equal(c[n - 1], "https://example.com/");
    g_ptr_array_unref(calls);
    g_free(xdg_open);

    /* a command that is not there is not handed to systemd-run at all */
    g_unlink(f->calls);
    char *const missing[] = { "heed-no-such-browser-in-path", "%u", NULL };
    assert_false(url_open("https://example.com/", NULL, missing, &error));
    assert_string_equal(error->message,
                        "cannot open URL: heed-no-such-browser-in-path not found; check open_command in heed.conf");
    g_clear_error(&error);
    assert_false(g_file_test(f->calls, G_FILE_TEST_EXISTS));
    url_assert_no_children();
}

/* No portal (no session bus), not under systemd, no desktop handler. */
static void test_open_default_says_what_to_do(void **state)
{
    struct url_open_fixture *f = *state;
    char *saved[5];
    const char *vars[] = { "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_DIRS", "XDG_DATA_HOME", "PATH" };
    for (size_t i = 0; i < G_N_ELEMENTS(vars); i++)
        saved[i] = g_strdup(g_getenv(vars[i]));
    g_unsetenv("DBUS_SESSION_BUS_ADDRESS");
    g_unsetenv("INVOCATION_ID");
    for (size_t i = 1; i < G_N_ELEMENTS(vars); i++)
        g_setenv(vars[i], f->dir, TRUE);

    GError *error = NULL;
    bool ok = url_open("https://example.com/", NULL, NULL, &error);
    for (size_t i = 0; i < G_N_ELEMENTS(vars); i++) {
        if (saved[i])
            g_setenv(vars[i], saved[i], TRUE);
        else
            g_unsetenv(vars[i]);
        g_free(saved[i]);
    }
    assert_false(ok);
    assert_true(g_error_matches(error, URL_ERROR, URL_ERROR_LAUNCH));
    assert_true(g_str_has_prefix(error->message, "cannot open URL: no session bus for the desktop portal, "
                                                 "the desktop's default handler failed ("));
    assert_true(g_str_has_suffix(error->message,
                                 "; set open_command in heed.conf, or install xdg-utils and choose a default browser"));
    g_error_free(error);
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
        cmocka_unit_test_setup_teardown(test_open_default_says_what_to_do, url_open_setup, url_open_teardown),
        /* in this order: the second teaches url.c that ExitType= is unknown */
        cmocka_unit_test_setup_teardown(test_open_through_systemd_run, url_sd_setup, url_sd_teardown),
        cmocka_unit_test_setup_teardown(test_open_systemd_run_fails, url_sd_setup, url_sd_teardown),
        cmocka_unit_test_setup_teardown(test_open_systemd_run_before_exit_type, url_sd_setup, url_sd_teardown),
    };
    return heed_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
