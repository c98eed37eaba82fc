/* SPDX-License-Identifier: MIT */
/* test_secret: token files and token commands (lib/secret.c).
 *
 * Token files are created in a fresh temporary directory with exact modes
 * (umask is bypassed with chmod). Commands are real programs from the base
 * system; the hanging-command cases use a 300 ms limit so the suite stays
 * fast, and check wall time to prove the child was killed, not waited for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "heed_test.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret-job.h"
#include "secret.h"

#include <event2/event.h>

#define PYTHON "/usr/bin/python3"

struct fixture {
    char *dir;
};

static int setup(void **state)
{
    struct fixture *f = g_new0(struct fixture, 1);
    f->dir = g_dir_make_tmp("heed-test-secret-XXXXXX", NULL);
    if (f->dir == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    GDir *d = g_dir_open(f->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)) != NULL) {
        char *p = g_build_filename(f->dir, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
            g_rmdir(p);
        else
            g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(f->dir);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static char *make_file(const struct fixture *f, const char *name, const char *content, gssize len, mode_t mode)
{
    char *path = g_build_filename(f->dir, name, NULL);
    assert_true(g_file_set_contents(path, content, len, NULL));
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void expect_file_error(const char *path, int code, const char *needle)
{
    GError *err = NULL;
    char *s = secret_from_file(path, &err);
    assert_null(s);
    assert_non_null(err);
    if (!g_error_matches(err, SECRET_ERROR, code) || strstr(err->message, path) == NULL ||
        (needle && strstr(err->message, needle) == NULL))
        fail_msg("unexpected error %d: %s", err->code, err->message);
    /* Every fixture's content starts with this, and it must never leak. */
    assert_null(strstr(err->message, "s3cret"));
    g_error_free(err);
}

/* ---- token files ------------------------------------------------------- */

static void test_file_0600_ok(void **state)
{
    struct fixture *f = *state;
    char *path = make_file(f, "t", "s3cret-token\n\n \t\r\n", -1, 0600);
    GError *err = NULL;
    char *s = secret_from_file(path, &err);
    assert_null(err);
    assert_string_equal(s, "s3cret-token");
    secret_free(s);
    g_free(path);
}

static void test_file_0400_ok(void **state)
{
    struct fixture *f = *state;
    /* No trailing newline; any printable non-space byte is kept. */
    char *path = make_file(f, "t", "s3cret-with/punct:+=_.~\xC3\xA9", -1, 0400);
    GError *err = NULL;
    char *s = secret_from_file(path, &err);
    assert_null(err);
    assert_string_equal(s, "s3cret-with/punct:+=_.~\xC3\xA9");
    secret_free(s);
    g_free(path);
}

static void test_file_0644_refused(void **state)
{
    struct fixture *f = *state;
    char *path = make_file(f, "t", "s3cret\n", -1, 0644);
    GError *err = NULL;
    char *s = secret_from_file(path, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_PERMISSIONS));
    char *want = g_strdup_printf("token file %s is readable by group or others (mode 0644); fix it with: chmod 600 %s",
                                 path, path);
    assert_string_equal(err->message, want);
    g_free(want);
    g_error_free(err);
    g_free(path);
}

static void test_file_0640_refused(void **state)
{
    struct fixture *f = *state;
    char *path = make_file(f, "t", "s3cret\n", -1, 0640);
    expect_file_error(path, SECRET_ERROR_PERMISSIONS, "chmod 600");
    assert_int_equal(chmod(path, 0620), 0);
    expect_file_error(path, SECRET_ERROR_PERMISSIONS, "(mode 0620)");
    assert_int_equal(chmod(path, 0601), 0);
    expect_file_error(path, SECRET_ERROR_PERMISSIONS, "chmod 600");
    g_free(path);
}

static void test_file_missing(void **state)
{
    struct fixture *f = *state;
    char *path = g_build_filename(f->dir, "nope", NULL);
    expect_file_error(path, SECRET_ERROR_MISSING, "does not exist");
    g_free(path);
    path = g_build_filename(f->dir, "nodir", "nope", NULL);
    expect_file_error(path, SECRET_ERROR_MISSING, NULL);
    g_free(path);
}

static void test_file_symlink_refused(void **state)
{
    struct fixture *f = *state;
    char *target = make_file(f, "real", "s3cret\n", -1, 0600);
    char *link = g_build_filename(f->dir, "link", NULL);
    assert_int_equal(symlink(target, link), 0);
    expect_file_error(link, SECRET_ERROR_PERMISSIONS, "symbolic link");
    g_free(link);
    g_free(target);
}

static void test_file_empty(void **state)
{
    struct fixture *f = *state;
    char *path = make_file(f, "empty", "", 0, 0600);
    expect_file_error(path, SECRET_ERROR_EMPTY, "empty");
    g_free(path);
    path = make_file(f, "blank", " \n\t\n", -1, 0600);
    expect_file_error(path, SECRET_ERROR_EMPTY, "empty");
    g_free(path);
}

static void test_file_not_regular(void **state)
{
    struct fixture *f = *state;
    char *dir = g_build_filename(f->dir, "d", NULL);
    assert_int_equal(g_mkdir(dir, 0700), 0);
    expect_file_error(dir, SECRET_ERROR_PERMISSIONS, "not a regular file");
    g_free(dir);

    /* A FIFO with no writer would block a plain open() forever. */
    char *fifo = g_build_filename(f->dir, "fifo", NULL);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_file_error(fifo, SECRET_ERROR_PERMISSIONS, "not a regular file");
    g_free(fifo);
}

static void test_file_size_limit(void **state)
{
    struct fixture *f = *state;
    char *big = g_malloc(16 * 1024 + 1);
    memset(big, 'k', 16 * 1024 + 1);
    memcpy(big, "s3cret", 6);

    char *path = make_file(f, "exact", big, 16 * 1024, 0600);
    GError *err = NULL;
    char *s = secret_from_file(path, &err);
    assert_null(err);
    assert_int_equal(strlen(s), 16 * 1024);
    secret_free(s);
    g_free(path);

    path = make_file(f, "over", big, 16 * 1024 + 1, 0600);
    expect_file_error(path, SECRET_ERROR_INVALID, "16 KiB");
    g_free(path);
    g_free(big);

    path = make_file(f, "nul", "s3cret\0more", 11, 0600);
    expect_file_error(path, SECRET_ERROR_INVALID, "NUL");
    g_free(path);
}

/* A token becomes "Authorization: Bearer TOKEN": a second line in the file
 * would be a header line of its own. */
static void test_file_header_injection_refused(void **state)
{
    struct fixture *f = *state;
    static const char *const contents[] = {
        "s3cret\nX-Injected: 1",  "s3cret\nX-Injected: 1\n", "s3cret\r\nX-Injected: 1\r\n",
        "s3cret\rX-Injected: 1", "s3cret\n\nsecond\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(contents); i++) {
        char *path = make_file(f, "t", contents[i], -1, 0600);
        expect_file_error(path, SECRET_ERROR_INVALID, "line break inside the token");
        g_free(path);
    }
    static const char *const spaced[] = {
        "s3cret token\n", "s3cret\ttoken", " s3cret", "s3cret\x1b[2J", "s3cret\x7f", "s3cret\x01x",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(spaced); i++) {
        char *path = make_file(f, "t", spaced[i], -1, 0600);
        expect_file_error(path, SECRET_ERROR_INVALID, "space or control character inside the token");
        g_free(path);
    }
}

static void test_file_other_owner(void **state)
{
    struct fixture *f = *state;
    /* Only root can give a file to another user (CI runs as root). */
    if (getuid() != 0)
        HEED_SKIP("not root: cannot chown a token file to another user");
    char *path = make_file(f, "t", "s3cret\n", -1, 0600);
    assert_int_equal(chown(path, 65534, 65534), 0);
    expect_file_error(path, SECRET_ERROR_PERMISSIONS, "owned by uid 65534");
    g_free(path);
}

/* ---- token commands ---------------------------------------------------- */

static char *run(const char *const *argv, int timeout_ms, GError **err)
{
    return secret_from_command_timeout((char *const *)argv, timeout_ms, err);
}

static void test_command_echo(void **state)
{
    (void)state;
    const char *argv[] = { "/bin/echo", "s3cret", NULL };
    GError *err = NULL;
    char *s = secret_from_command((char *const *)argv, &err);
    assert_null(err);
    assert_string_equal(s, "s3cret");
    secret_free(s);
}

static void test_command_search_path(void **state)
{
    (void)state;
    const char *argv[] = { "echo", "tok  ", NULL };
    GError *err = NULL;
    char *s = run(argv, 5000, &err);
    assert_null(err);
    /* Trailing whitespace goes. */
    assert_string_equal(s, "tok");
    secret_free(s);
}

static void test_command_first_line(void **state)
{
    (void)state;
    const char *argv[] = { "/usr/bin/printf", "first\r\nsecond\nthird\n", NULL };
    GError *err = NULL;
    char *s = run(argv, 5000, &err);
    assert_null(err);
    assert_string_equal(s, "first");
    secret_free(s);
}

/* Only the first line is taken, but a carriage return, a space or a
 * control character inside it is no token either. */
static void test_command_bad_token_refused(void **state)
{
    (void)state;
    static const char *const outputs[] = {
        "s3cret\rX-Injected: 1\n", "s3cret token\n", "  s3cret\n", "s3cret\x1b[2J\n", "s3cret\tx\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(outputs); i++) {
        const char *argv[] = { "/usr/bin/printf", "%s", outputs[i], NULL };
        GError *err = NULL;
        char *s = run(argv, 5000, &err);
        if (s != NULL || !g_error_matches(err, SECRET_ERROR, SECRET_ERROR_INVALID) ||
            !strstr(err->message, "/usr/bin/printf") || !strstr(err->message, "inside the token"))
            fail_msg("output %zu: %s", i, s ? "accepted" : err->message);
        assert_null(strstr(err->message, "s3cret"));
        g_error_free(err);
    }
}

static void test_command_fails(void **state)
{
    (void)state;
    const char *argv[] = { "/bin/false", NULL };
    GError *err = NULL;
    char *s = run(argv, 5000, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    assert_non_null(strstr(err->message, "/bin/false"));
    assert_non_null(strstr(err->message, "1"));
    g_error_free(err);
}

static void test_command_fails_after_output(void **state)
{
    (void)state;
    const char *argv[] = { "/bin/sh", "-c", "echo s3cret; exit 3", NULL };
    GError *err = NULL;
    char *s = run(argv, 5000, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    assert_non_null(strstr(err->message, "/bin/sh"));
    assert_non_null(strstr(err->message, "3"));
    assert_null(strstr(err->message, "s3cret"));
    g_error_free(err);
}

static void test_command_killed_by_signal(void **state)
{
    (void)state;
    const char *argv[] = { "/bin/sh", "-c", "kill -9 $$", NULL };
    GError *err = NULL;
    char *s = run(argv, 5000, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    g_error_free(err);
}

static void test_command_not_found(void **state)
{
    (void)state;
    const char *argv[] = { "/nonexistent/heed-token-helper", "x", NULL };
    GError *err = NULL;
    char *s = run(argv, 5000, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    assert_non_null(strstr(err->message, "/nonexistent/heed-token-helper"));
    g_error_free(err);
}

static void test_command_empty_argv(void **state)
{
    (void)state;
    GError *err = NULL;
    assert_null(secret_from_command(NULL, &err));
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    g_clear_error(&err);
    const char *argv[] = { NULL };
    assert_null(run(argv, 5000, &err));
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    g_clear_error(&err);
}

static void test_command_no_output(void **state)
{
    (void)state;
    const char *argv[] = { "/bin/true", NULL };
    GError *err = NULL;
    char *s = run(argv, 5000, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_EMPTY));
    assert_non_null(strstr(err->message, "/bin/true"));
    g_clear_error(&err);

    /* An empty first line is empty even when later lines are not. */
    const char *argv2[] = { "/usr/bin/printf", "\ns3cret\n", NULL };
    s = run(argv2, 5000, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_EMPTY));
    g_error_free(err);
}

static void test_command_stderr_not_captured(void **state)
{
    (void)state;
    const char *argv[] = { PYTHON, "-c", "import sys; sys.stderr.write('noise'); print('tok')", NULL };
    GError *err = NULL;
    char *s = run(argv, 10000, &err);
    assert_null(err);
    assert_string_equal(s, "tok");
    secret_free(s);
}

static void test_command_environment_and_stdin(void **state)
{
    (void)state;
    g_setenv("NOTIFY_SOCKET", "/run/systemd/notify", TRUE);
    g_setenv("WATCHDOG_USEC", "1000000", TRUE);
    g_setenv("WATCHDOG_PID", "1", TRUE);
    g_setenv("HEED_TEST_KEPT", "yes", TRUE);
    const char *argv[] = { PYTHON, "-c",
                           "import os, sys\n"
                           "e = os.environ\n"
                           "print(e.get('NOTIFY_SOCKET', '-'), e.get('WATCHDOG_USEC', '-'), e.get('WATCHDOG_PID', '-'),"
                           " e.get('HEED_TEST_KEPT', '-'), len(sys.stdin.read()), sep=',')",
                           NULL };
    GError *err = NULL;
    char *s = run(argv, 10000, &err);
    g_unsetenv("NOTIFY_SOCKET");
    g_unsetenv("WATCHDOG_USEC");
    g_unsetenv("WATCHDOG_PID");
    g_unsetenv("HEED_TEST_KEPT");
    assert_null(err);
    assert_string_equal(s, "-,-,-,yes,0");
    secret_free(s);
}

static void test_command_hang_killed(void **state)
{
    (void)state;
    const char *argv[] = { "/bin/sleep", "30", NULL };
    GError *err = NULL;
    gint64 t0 = g_get_monotonic_time();
    char *s = run(argv, 300, &err);
    gint64 elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    assert_non_null(strstr(err->message, "/bin/sleep"));
    assert_non_null(strstr(err->message, "300 ms"));
    assert_true(elapsed_ms >= 250);
    assert_true(elapsed_ms < 5000);
    g_error_free(err);
}

/* True once pid is gone or a zombie (killed but not yet reaped by init). */
static bool process_dead(long pid)
{
    char *path = g_strdup_printf("/proc/%ld/stat", pid);
    char *text = NULL;
    bool dead = true;
    if (g_file_get_contents(path, &text, NULL, NULL)) {
        const char *close_paren = strrchr(text, ')');
        dead = close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X');
    }
    g_free(text);
    g_free(path);
    return dead;
}

static void test_command_helper_killed_with_it(void **state)
{
    struct fixture *f = *state;
    /* The shell prints and exits at once, but the background sleep keeps
     * stdout open: the timeout must kill the whole process group. */
    char *pidfile = g_build_filename(f->dir, "pid", NULL);
    char *script = g_strdup_printf("/bin/sleep 30 & echo $! > '%s'; echo s3cret", pidfile);
    const char *argv[] = { "/bin/sh", "-c", script, NULL };
    GError *err = NULL;
    gint64 t0 = g_get_monotonic_time();
    char *s = run(argv, 300, &err);
    gint64 elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_COMMAND));
    assert_null(strstr(err->message, "s3cret"));
    assert_true(elapsed_ms < 5000);
    g_error_free(err);

    char *text = NULL;
    assert_true(g_file_get_contents(pidfile, &text, NULL, NULL));
    long pid = strtol(text, NULL, 10);
    assert_true(pid > 1);
    bool dead = false;
    for (int i = 0; i < 200 && !dead; i++) {
        dead = process_dead(pid);
        if (!dead)
            g_usleep(10000);
    }
    assert_true(dead);
    g_free(text);
    g_free(script);
    g_free(pidfile);
}

static void test_command_long_output(void **state)
{
    (void)state;
    /* More than the cap after the first line: read and dropped, not a failure. */
    const char *ok_argv[] = { PYTHON, "-c", "import sys; sys.stdout.write('tok\\n' + 'y' * 200000)", NULL };
    GError *err = NULL;
    char *s = run(ok_argv, 10000, &err);
    assert_null(err);
    assert_string_equal(s, "tok");
    secret_free(s);

    const char *long_argv[] = { PYTHON, "-c", "print('x' * 20000)", NULL };
    s = run(long_argv, 10000, &err);
    assert_null(s);
    assert_true(g_error_matches(err, SECRET_ERROR, SECRET_ERROR_INVALID));
    assert_non_null(strstr(err->message, "16 KiB"));
    g_error_free(err);
}

static int count_fds(void)
{
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    int n = 0;
    while (d && g_dir_read_name(d) != NULL)
        n++;
    if (d)
        g_dir_close(d);
    return n;
}

static void test_command_no_fd_leak(void **state)
{
    (void)state;
    const char *ok[] = { "/bin/echo", "tok", NULL };
    const char *bad[] = { "/bin/false", NULL };
    const char *hang[] = { "/bin/sleep", "30", NULL };
    const char *missing[] = { "/nonexistent/prog", NULL };
    const char *const *cmds[] = { ok, bad, hang, missing };
    int before = count_fds();
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        GError *err = NULL;
        secret_free(run(cmds[i], 200, &err));
        g_clear_error(&err);
    }
    assert_int_equal(count_fds(), before);
}

static void test_free_null(void **state)
{
    (void)state;
    secret_free(NULL);
    secret_free(g_strdup("s3cret"));
}

/* A token command off the loop: the answer comes on the loop, and a
 * cancelled job never calls back (the worker frees what it used). */
struct job_answer {
    struct event_base *base;
    char *secret;
    char *error;
    int calls;
};

static void job_done(char *secret, GError *error, void *arg)
{
    struct job_answer *a = arg;
    a->calls++;
    a->secret = secret;
    a->error = error ? g_strdup(error->message) : NULL;
    g_clear_error(&error);
    event_base_loopbreak(a->base);
}

static void test_job_answers_on_the_loop(void **state)
{
    (void)state;
    struct event_base *base = event_base_new();
    struct job_answer a = { .base = base };
    char *const argv[] = { "/bin/sh", "-c", "sleep 0.2; echo tok3n", NULL };
    GError *err = NULL;
    struct secret_job *job = secret_job_start(base, argv, 5000, job_done, &a, &err);
    assert_non_null(job);
    assert_int_equal(a.calls, 0); /* not before the loop runs */
    struct timeval limit = { 5, 0 };
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    assert_int_equal(a.calls, 1);
    assert_string_equal(a.secret, "tok3n");
    secret_free(a.secret);

    /* A failing command: the error, no secret. */
    struct job_answer b = { .base = base };
    char *const bad[] = { "/bin/false", NULL };
    job = secret_job_start(base, bad, 5000, job_done, &b, &err);
    assert_non_null(job);
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
    assert_int_equal(b.calls, 1);
    assert_null(b.secret);
    assert_non_null(strstr(b.error, "/bin/false"));
    g_free(b.error);

    /* Cancelled while it runs: no call, ever. */
    struct job_answer c = { .base = base };
    char *const slow[] = { "/bin/sh", "-c", "sleep 0.3; echo late", NULL };
    job = secret_job_start(base, slow, 5000, job_done, &c, &err);
    secret_job_cancel(job);
    struct timeval wait = { 0, 600000 };
    event_base_loopexit(base, &wait);
    event_base_dispatch(base);
    assert_int_equal(c.calls, 0);
    event_base_free(base);
    g_usleep(100000); /* let the worker finish before the leak check */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_0600_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_0400_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_0644_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_0640_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_symlink_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_not_regular, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_header_injection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_other_owner, setup, teardown),
        cmocka_unit_test(test_command_echo),
        cmocka_unit_test(test_command_search_path),
        cmocka_unit_test(test_command_first_line),
        cmocka_unit_test(test_command_bad_token_refused),
        cmocka_unit_test(test_command_fails),
        cmocka_unit_test(test_command_fails_after_output),
        cmocka_unit_test(test_command_killed_by_signal),
        cmocka_unit_test(test_command_not_found),
        cmocka_unit_test(test_command_empty_argv),
        cmocka_unit_test(test_command_no_output),
        cmocka_unit_test(test_command_stderr_not_captured),
        cmocka_unit_test(test_command_environment_and_stdin),
        cmocka_unit_test(test_command_hang_killed),
        cmocka_unit_test_setup_teardown(test_command_helper_killed_with_it, setup, teardown),
        cmocka_unit_test(test_command_long_output),
        cmocka_unit_test(test_command_no_fd_leak),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_job_answers_on_the_loop),
    };
    return heed_test_status(cmocka_run_group_tests(tests, NULL, NULL));
}
