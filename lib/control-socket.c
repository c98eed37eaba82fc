/* SPDX-License-Identifier: MIT */
/* control-socket: the control socket's file (control-int.h): its address,
 * a private directory for it, a stale socket left by a dead daemon
 * removed, bind and listen under a lock so that two daemons starting
 * together cannot both win. */
#include "control.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-int.h"

bool control_fill_addr(struct sockaddr_un *sa, const char *path, GError **error)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof sa->sun_path) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO,
                    "socket path is empty or longer than %zu bytes: %s", sizeof sa->sun_path - 1,
                    path);
        return false;
    }
    memcpy(sa->sun_path, path, len + 1);
    return true;
}

/* Make sure the socket's directory exists, is a real directory of ours and
 * is mode 0700. Returns an fd on it (used as a start-up lock) or -1. */
static int control_prepare_dir(const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot create %s: %s", dir,
                    e == ENOTDIR ? "it is not a directory" : g_strerror(e));
        return -1;
    }
    /* O_NOFOLLOW: a symlink could point the socket somewhere we don't control. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        if (e == ENOTDIR || e == ELOOP)
            g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "%s is not a directory", dir);
        else
            g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot open %s: %s", dir,
                        g_strerror(e));
        return -1;
    }
    struct stat st;
    if (fstat(dfd, &st) != 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot stat %s: %s", dir,
                    g_strerror(errno));
        close(dfd);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO,
                    "%s is owned by uid %u, not by us (uid %u)", dir, (unsigned)st.st_uid,
                    (unsigned)geteuid());
        close(dfd);
        return -1;
    }
    if ((st.st_mode & 07777) != 0700 && fchmod(dfd, 0700) != 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot chmod %s: %s", dir,
                    g_strerror(errno));
        close(dfd);
        return -1;
    }
    return dfd;
}

/* bind() said the path is taken: remove it if it is a dead socket. */
static bool control_remove_stale(const struct sockaddr_un *sa, const char *path, GError **error)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) /* gone meanwhile: just bind again */
            return true;
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot stat %s: %s", path,
                    g_strerror(errno));
        return false;
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "%s exists and is not a socket", path);
        return false;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (probe < 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot create a socket: %s",
                    g_strerror(errno));
        return false;
    }
    int rc;
    do
        rc = connect(probe, (const struct sockaddr *)sa, sizeof *sa);
    while (rc != 0 && errno == EINTR);
    int e = rc == 0 ? 0 : errno;
    close(probe);
    /* EAGAIN: a listener with a full backlog is still a live listener. */
    if (rc == 0 || e == EAGAIN) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "another heedd is already running (%s)",
                    path);
        return false;
    }
    if (e != ECONNREFUSED) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot check %s: %s", path,
                    g_strerror(e));
        return false;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot remove stale socket %s: %s",
                    path, g_strerror(errno));
        return false;
    }
    return true;
}

/* Bind and listen; returns the listening fd or -1. */
static int control_listen(const struct sockaddr_un *sa, const char *path, struct stat *st,
                          GError **error)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot create a socket: %s",
                    g_strerror(errno));
        return -1;
    }
    int rc = bind(fd, (const struct sockaddr *)sa, sizeof *sa);
    if (rc != 0 && errno == EADDRINUSE) {
        if (!control_remove_stale(sa, path, error)) {
            close(fd);
            return -1;
        }
        rc = bind(fd, (const struct sockaddr *)sa, sizeof *sa);
    }
    if (rc != 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot bind %s: %s", path,
                    g_strerror(errno));
        close(fd);
        return -1;
    }
    /* bind() applied the umask; tighten the mode before listen() so no
     * connection is ever accepted through a looser one. */
    if (lstat(path, st) != 0 || chmod(path, 0600) != 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot chmod %s: %s", path,
                    g_strerror(errno));
        unlink(path);
        close(fd);
        return -1;
    }
    if (listen(fd, SOMAXCONN) != 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot listen on %s: %s", path,
                    g_strerror(errno));
        unlink(path);
        close(fd);
        return -1;
    }
    return fd;
}

/* libevent writes with writev(), which cannot take MSG_NOSIGNAL, so a client
 * hanging up before its answer is written would kill the daemon. A handler
 * the program installed itself is left alone. */
static void control_ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) != 0)
        return;
    if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, NULL);
    }
}

int control_socket_listen(const char *path, struct stat *st, GError **error)
{
    struct sockaddr_un sa;
    if (!control_fill_addr(&sa, path, error))
        return -1;
    /* We chmod the parent directory; for a relative path that could be
     * whatever directory the daemon was started in. */
    if (!g_path_is_absolute(path)) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "socket path must be absolute: %s",
                    path);
        return -1;
    }

    char *dir = g_path_get_dirname(path);
    int dfd = control_prepare_dir(dir, error);
    g_free(dir);
    if (dfd < 0)
        return -1;
    /* Two daemons starting together could each find the other's fresh
     * socket "stale" between its bind() and listen(); holding the directory
     * lock over check, bind and listen rules that out. Best effort: without
     * the lock only that narrow race remains. */
    int rc;
    do
        rc = flock(dfd, LOCK_EX);
    while (rc != 0 && errno == EINTR);
    int fd = control_listen(&sa, path, st, error);
    close(dfd); /* releases the lock */
    if (fd >= 0)
        control_ignore_sigpipe();
    return fd;
}
