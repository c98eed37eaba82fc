/* SPDX-License-Identifier: MIT */
/* secret: see secret.h.
 *
 * Every buffer that may have held secret bytes is wiped with explicit_bzero
 * before it is freed, including scratch space and the parts of the output
 * that are thrown away. Messages are built from the path, argv[0], errno and
 * the wait status only.
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

G_DEFINE_QUARK(secret-error-quark, secret_error)

/* Far above any real token; a bigger input means the wrong file or command. */
#define SECRET_MAX_BYTES (16 * 1024)
#define SECRET_COMMAND_TIMEOUT_MS 10000

void secret_free(char *secret)
{
    if (secret == NULL)
        return;
    explicit_bzero(secret, strlen(secret));
    g_free(secret);
}

static void secret_wipe_free(char *buf, size_t size)
{
    explicit_bzero(buf, size);
    g_free(buf);
}

/* Trailing whitespace is never part of a token but editors and echo add it. */
static size_t secret_trim_end(const char *s, size_t len)
{
    while (len > 0 && g_ascii_isspace(s[len - 1]))
        len--;
    return len;
}

/* What a token may not contain: it becomes an HTTP header value
 * ("Authorization: Bearer TOKEN"), where a line break would start a header
 * line of its own, and no real token has a space or a control character.
 * Returns NULL when buf[0..len) is fine, else what was found. */
static const char *secret_bad_chars(const char *buf, size_t len)
{
    bool space = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (b == '\n' || b == '\r')
            return "a line break";
        if (b == ' ' || b == '\t' || b < 0x20 || b == 0x7f)
            space = true;
    }
    return space ? "a space or control character" : NULL;
}

/* Open the token file: not through a symbolic link, never blocking (a
 * FIFO is refused by secret_check_file right after). -1 with *error set. */
static int secret_open_file(const char *path, GError **error)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd >= 0)
        return fd;
    int e = errno;
    if (e == ENOENT || e == ENOTDIR)
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_MISSING,
                    "token file %s does not exist; expected a file holding the token", path);
    else if (e == ELOOP)
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_PERMISSIONS,
                    "token file %s is a symbolic link, which is not followed for secrets; expected the path of the real file",
                    path);
    else if (e == EACCES || e == EPERM)
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_PERMISSIONS, "token file %s cannot be opened (%s)", path,
                    g_strerror(e));
    else
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_MISSING, "token file %s cannot be opened (%s)", path,
                    g_strerror(e));
    return -1;
}

/* A plain file of the user's own that nobody else can read. */
static bool secret_check_file(int fd, const char *path, GError **error)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_MISSING, "token file %s cannot be examined (%s)", path,
                    g_strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_PERMISSIONS,
                    "token file %s is not a regular file; expected a plain file holding the token", path);
        return false;
    }
    if (st.st_uid != getuid()) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_PERMISSIONS,
                    "token file %s is owned by uid %u, not by you (uid %u); expected a file of your own",
                    path, (unsigned)st.st_uid, (unsigned)getuid());
        return false;
    }
    if ((st.st_mode & 077) != 0) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_PERMISSIONS,
                    "token file %s is %s by group or others (mode %04o); fix it with: chmod 600 %s", path,
                    (st.st_mode & 044) ? "readable" : "accessible", (unsigned)(st.st_mode & 07777), path);
        return false;
    }
    return true;
}

/* The token in buf (len bytes read of a file), or NULL with *error saying
 * what is wrong with the file. */
static char *secret_file_token(const char *path, const char *buf, size_t len, GError **error)
{
    if (len > SECRET_MAX_BYTES) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_INVALID,
                    "token file %s is larger than 16 KiB; expected a file holding just the token", path);
        return NULL;
    }
    len = secret_trim_end(buf, len);
    if (memchr(buf, '\0', len) != NULL) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_INVALID,
                    "token file %s contains a NUL byte; expected a text file holding the token", path);
        return NULL;
    }
    if (len == 0) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_EMPTY, "token file %s is empty; expected the token in it", path);
        return NULL;
    }
    const char *bad = secret_bad_chars(buf, len);
    if (bad) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_INVALID,
                    "token file %s has %s inside the token; expected the token alone on one line "
                    "(a trailing newline is fine)",
                    path, bad);
        return NULL;
    }
    return g_strndup(buf, len);
}

char *secret_from_file(const char *path, GError **error)
{
    int fd = secret_open_file(path, error);
    if (fd < 0)
        return NULL;
    if (!secret_check_file(fd, path, error)) {
        close(fd);
        return NULL;
    }
    /* One byte more than allowed tells "exactly at the limit" from "over". */
    size_t size = SECRET_MAX_BYTES + 1;
    char *buf = g_malloc(size);
    size_t len = 0;
    int read_errno = 0;
    while (len < size) {
        ssize_t n = read(fd, buf + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            read_errno = errno;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    char *secret = NULL;
    if (read_errno)
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_MISSING, "token file %s cannot be read (%s)", path,
                    g_strerror(read_errno));
    else
        secret = secret_file_token(path, buf, len, error);
    secret_wipe_free(buf, size);
    return secret;
}

/* Runs in the child between fork and exec: async-signal-safe calls only.
 * Its own process group lets a timeout kill helpers the command started
 * (e.g. "sh -c" pipelines) along with it. */
static void secret_child_setup(gpointer data)
{
    (void)data;
    setpgid(0, 0);
}

static char *secret_describe_ms(int ms)
{
    if (ms % 1000 == 0)
        return g_strdup_printf("%d s", ms / 1000);
    return g_strdup_printf("%d ms", ms);
}

char *secret_from_command(char *const *argv, GError **error)
{
    return secret_from_command_timeout(argv, SECRET_COMMAND_TIMEOUT_MS, error);
}

/* Start argv with stdout on a pipe (*out_fd) in a process group of its
 * own, without the variables that would let it speak to systemd in heedd's
 * name. */
static bool secret_spawn(char *const *argv, GPid *pid, int *out_fd, GError **error)
{
    char **envp = g_get_environ();
    envp = g_environ_unsetenv(envp, "NOTIFY_SOCKET");
    envp = g_environ_unsetenv(envp, "WATCHDOG_USEC");
    envp = g_environ_unsetenv(envp, "WATCHDOG_PID");
    GError *err = NULL;
    gboolean started = g_spawn_async_with_pipes(
        NULL, (char **)argv, envp,
        G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL | G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_DO_NOT_REAP_CHILD |
            G_SPAWN_CLOEXEC_PIPES,
        secret_child_setup, NULL, pid, NULL, out_fd, NULL, &err);
    g_strfreev(envp);
    if (!started) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_COMMAND, "token command %s could not be started: %s", argv[0],
                    err->message);
        g_error_free(err);
    }
    return started;
}

/* How a command's run ended, as far as reading and reaping it tell. */
struct secret_run {
    bool timed_out;
    int io_errno;
    int status;     /* the wait status, once reaped */
};

/* Read fd to EOF or the deadline into buf (size bytes; what is past it is
 * read and thrown away: closing early would kill a command that prints
 * more than the first line with SIGPIPE, nondeterministically, depending
 * on how its writes are chunked). Returns the bytes kept. */
static size_t secret_read_all(int fd, char *buf, size_t size, gint64 deadline, struct secret_run *run)
{
    char discard[4096];
    size_t len = 0;
    for (;;) {
        gint64 left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0) {
            run->timed_out = true;
            break;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, (int)((left_us + 999) / 1000));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            run->io_errno = errno;
            break;
        }
        if (r == 0)
            continue;
        ssize_t n = len < size ? read(fd, buf + len, size - len) : read(fd, discard, sizeof discard);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            run->io_errno = errno;
            break;
        }
        if (n == 0)
            break;
        if (len < size)
            len += (size_t)n;
    }
    explicit_bzero(discard, sizeof discard);
    return len;
}

/* Reap the command, by the same deadline (it may close stdout and linger);
 * after a timeout or a read error, kill it and what it started first. */
static void secret_reap(GPid pid, gint64 deadline, struct secret_run *run)
{
    for (;;) {
        if (run->timed_out || run->io_errno) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &run->status, 0) < 0 && errno == EINTR)
                ;
            break;
        }
        pid_t w = waitpid(pid, &run->status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            run->io_errno = errno;
            break;
        }
        if (g_get_monotonic_time() >= deadline)
            run->timed_out = true;
        else
            g_usleep(2000);
    }
    g_spawn_close_pid(pid);
}

/* Why the run gives no token, set in *error; false when it ran well. */
static bool secret_run_failed(const char *prog, int timeout_ms, const struct secret_run *run, GError **error)
{
    if (run->timed_out) {
        g_autofree char *t = secret_describe_ms(timeout_ms);
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_COMMAND,
                    "token command %s did not finish within %s and was killed; expected it to print the token and exit",
                    prog, t);
        return true;
    }
    if (run->io_errno) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_COMMAND, "token command %s could not be run to the end (%s)", prog,
                    g_strerror(run->io_errno));
        return true;
    }
    GError *err = NULL;
    if (!g_spawn_check_wait_status(run->status, &err)) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_COMMAND, "token command %s failed: %s; expected exit status 0",
                    prog, err->message);
        g_error_free(err);
        return true;
    }
    return false;
}

/* The token on the first line of what the command printed, or NULL with
 * *error saying what was wrong with it. */
static char *secret_first_line(const char *prog, const char *buf, size_t len, GError **error)
{
    const char *nl = memchr(buf, '\n', len);
    size_t line_len = nl ? (size_t)(nl - buf) : len;
    if (line_len > SECRET_MAX_BYTES) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_INVALID,
                    "token command %s printed a first line longer than 16 KiB; expected just the token", prog);
        return NULL;
    }
    line_len = secret_trim_end(buf, line_len);
    if (memchr(buf, '\0', line_len) != NULL) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_INVALID,
                    "token command %s printed a NUL byte; expected the token as text", prog);
        return NULL;
    }
    if (line_len == 0) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_EMPTY,
                    "token command %s printed nothing on its first line; expected the token", prog);
        return NULL;
    }
    const char *bad = secret_bad_chars(buf, line_len);
    if (bad) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_INVALID,
                    "token command %s printed %s inside the token; expected the token alone on its first line",
                    prog, bad);
        return NULL;
    }
    return g_strndup(buf, line_len);
}

char *secret_from_command_timeout(char *const *argv, int timeout_ms, GError **error)
{
    if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_COMMAND, "token command is empty; expected a program and its arguments");
        return NULL;
    }
    if (timeout_ms < 1)
        timeout_ms = 1;
    GPid pid;
    int out_fd = -1;
    if (!secret_spawn(argv, &pid, &out_fd, error))
        return NULL;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    size_t size = SECRET_MAX_BYTES + 1;
    char *buf = g_malloc(size);
    struct secret_run run = { 0 };
    size_t len = secret_read_all(out_fd, buf, size, deadline, &run);
    close(out_fd);
    secret_reap(pid, deadline, &run);
    char *secret = secret_run_failed(argv[0], timeout_ms, &run, error) ? NULL
                                                                         : secret_first_line(argv[0], buf, len, error);
    secret_wipe_free(buf, size);
    return secret;
}
