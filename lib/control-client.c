/* SPDX-License-Identifier: MIT */
/* control-client: heed's end of the control protocol (control.h): one
 * request and its answer with a deadline (control_call), and the watch
 * client that status bars keep open (control_watch_*). Blocking, with
 * poll(2) and deadlines on the monotonic clock: no event loop. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control-int.h"

/* Milliseconds left before the deadline for poll(): -1 without a deadline,
 * 0 once it has passed. */
static int control_ms_left(gint64 deadline)
{
    if (deadline < 0)
        return -1;
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
        return 0;
    return (int)MIN((left + 999) / 1000, INT_MAX);
}

/* Wait for fd to become ready; false with errno = ETIMEDOUT at the deadline. */
static bool control_wait(int fd, short events, gint64 deadline)
{
    for (;;) {
        int ms = control_ms_left(deadline);
        if (ms == 0) {
            errno = ETIMEDOUT;
            return false;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int rc = poll(&p, 1, ms);
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return false;
    }
}

static int control_connect(const char *path, gint64 deadline, GError **error)
{
    struct sockaddr_un sa;
    if (!control_fill_addr(&sa, path, error))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot create a socket: %s",
                    g_strerror(errno));
        return -1;
    }
    /* A listener whose backlog is full makes connect() wait (or, when
     * non-blocking, fail with EAGAIN, which poll() cannot wait for); the
     * send timeout bounds that wait. Zero would mean "forever", hence >= 1us. */
    if (deadline >= 0) {
        gint64 left = MAX(deadline - g_get_monotonic_time(), 1);
        struct timeval tv = { .tv_sec = left / G_USEC_PER_SEC, .tv_usec = left % G_USEC_PER_SEC };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    int rc;
    do
        rc = connect(fd, (const struct sockaddr *)&sa, sizeof sa);
    while (rc != 0 && errno == EINTR);
    if (rc != 0 && errno != EISCONN) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING,
                                "heedd is not running");
        else if (e == EAGAIN || e == EWOULDBLOCK)
            g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_TIMEOUT,
                        "timed out connecting to heedd (%s)", path);
        else
            g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot connect to %s: %s", path,
                        g_strerror(e));
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot configure the socket: %s",
                    g_strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Returns 0 when all was sent, else the errno. */
static int control_send_all(int fd, const char *data, size_t len, gint64 deadline)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n >= 0) {
            data += n;
            len -= (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!control_wait(fd, POLLOUT, deadline))
                return errno;
        } else if (errno != EINTR) {
            return errno;
        }
    }
    return 0;
}

struct control_answer_buf {
    char *data; /* g_malloc'd */
    size_t len;
    size_t cap;
};

/* Read one answer line (without the newline) into buf. */
static bool control_read_line(int fd, struct control_answer_buf *buf, gint64 deadline,
                              GError **error)
{
    for (;;) {
        /* Never hold more than the largest acceptable line plus its newline. */
        size_t room = MIN((size_t)64 * 1024, (size_t)CONTROL_MAX_RESPONSE + 1 - buf->len);
        if (buf->cap - buf->len < room) {
            buf->cap = MIN(MAX(buf->cap * 2, buf->len + room), (size_t)CONTROL_MAX_RESPONSE + 1);
            buf->data = g_realloc(buf->data, buf->cap);
        }
        ssize_t n = recv(fd, buf->data + buf->len, room, 0);
        if (n > 0) {
            const char *nl = memchr(buf->data + buf->len, '\n', (size_t)n);
            buf->len += (size_t)n;
            if (nl) {
                buf->len = (size_t)(nl - buf->data);
                return true;
            }
            if (buf->len > CONTROL_MAX_RESPONSE) {
                g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                            "answer from heedd too large (limit %d bytes)", CONTROL_MAX_RESPONSE);
                return false;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (control_wait(fd, POLLIN, deadline))
                continue;
            if (errno == ETIMEDOUT)
                g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_TIMEOUT,
                                    "timed out waiting for heedd to answer");
            else
                g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "poll: %s", g_strerror(errno));
            return false;
        }
        if (n < 0 && buf->len == 0)
            g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO,
                        "cannot read the answer from heedd: %s", g_strerror(errno));
        else if (buf->len == 0)
            g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_IO,
                                "heedd closed the connection without answering");
        else
            g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                                "heedd closed the connection in the middle of its answer");
        return false;
    }
}

/* The request line, newline included; g_free it. */
static char *control_encode_request(const char *cmd, json_t *args, size_t *len, GError **error)
{
    if (args && !json_is_object(args)) {
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                            "\"args\" must be an object");
        return NULL;
    }
    json_t *req = json_object();
    json_t *jcmd = json_string(cmd);
    if (!req || !jcmd) {
        json_decref(req);
        json_decref(jcmd);
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                            "command name is not valid UTF-8");
        return NULL;
    }
    json_object_set_new(req, "cmd", jcmd);
    if (args)
        json_object_set(req, "args", args);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text) {
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                            "cannot encode the request");
        return NULL;
    }
    *len = strlen(text);
    /* The daemon would refuse it and hang up; say why here instead. */
    if (*len > CONTROL_MAX_REQUEST) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                    "request too large (%zu bytes, limit %d bytes)", *len, CONTROL_MAX_REQUEST);
        free(text);
        return NULL;
    }
    char *line = g_strconcat(text, "\n", NULL);
    free(text);
    (*len)++;
    return line;
}

static json_t *control_decode_answer(const char *data, size_t len, GError **error)
{
    json_error_t jerr;
    json_t *answer = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!answer) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                    "invalid answer from heedd: %s", jerr.text);
        return NULL;
    }
    json_t *ok = json_object_get(answer, "ok");
    if (!json_is_boolean(ok)) {
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL,
                            "invalid answer from heedd: no boolean \"ok\"");
        json_decref(answer);
        return NULL;
    }
    json_t *result = NULL;
    if (json_is_true(ok)) {
        result = json_object_get(answer, "result");
        result = result ? json_incref(result) : json_null();
    } else {
        const char *msg = json_string_value(json_object_get(answer, "error"));
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_REMOTE,
                            msg ? msg : "heedd reported an unspecified error");
    }
    json_decref(answer);
    return result;
}

json_t *control_call(const char *path, const char *cmd, json_t *args, int timeout_ms,
                     GError **error)
{
    g_return_val_if_fail(path && cmd, NULL);
    gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    size_t len = 0;
    char *line = control_encode_request(cmd, args, &len, error);
    if (!line)
        return NULL;
    int fd = control_connect(path, deadline, error);
    if (fd < 0) {
        g_free(line);
        return NULL;
    }
    int send_err = control_send_all(fd, line, len, deadline);
    g_free(line);
    if (send_err == ETIMEDOUT) {
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_TIMEOUT,
                            "timed out sending the request to heedd");
        close(fd);
        return NULL;
    }
    /* A daemon that refuses us (wrong uid, too many clients) answers and
     * hangs up, possibly before our request is through; its answer says
     * more than EPIPE would, so read it anyway. */
    struct control_answer_buf buf = { 0 };
    GError *read_err = NULL;
    bool have_line = (send_err == 0 || send_err == EPIPE || send_err == ECONNRESET) &&
                     control_read_line(fd, &buf, deadline, &read_err);
    close(fd);
    json_t *result = NULL;
    if (have_line) {
        result = control_decode_answer(buf.data, buf.len, error);
    } else if (send_err != 0) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot send the request to heedd: %s",
                    g_strerror(send_err));
    } else {
        g_propagate_error(error, read_err);
        read_err = NULL;
    }
    g_clear_error(&read_err);
    g_free(buf.data);
    return result;
}

/* ---- watching ------------------------------------------------------------ */

struct control_watch {
    int fd;
    GByteArray *buf;       /* what arrived after the last complete line */
};

struct control_watch *control_watch_open(const char *path, int timeout_ms, GError **error)
{
    gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    size_t len = 0;
    g_autofree char *line = control_encode_request(CONTROL_WATCH_CMD, NULL, &len, error);
    if (!line)
        return NULL;
    int fd = control_connect(path, deadline, error);
    if (fd < 0)
        return NULL;
    int err = control_send_all(fd, line, len, deadline);
    if (err != 0) {
        g_set_error(error, CONTROL_ERROR, err == ETIMEDOUT ? CONTROL_ERROR_TIMEOUT : CONTROL_ERROR_IO,
                    "cannot send the request to heedd: %s", g_strerror(err));
        close(fd);
        return NULL;
    }
    struct control_watch *w = g_new0(struct control_watch, 1);
    w->fd = fd;
    w->buf = g_byte_array_new();
    return w;
}

json_t *control_watch_next(struct control_watch *w, int timeout_ms, GError **error)
{
    gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        guint8 *nl = w->buf->len ? memchr(w->buf->data, '\n', w->buf->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - w->buf->data);
            json_t *result = control_decode_answer((const char *)w->buf->data, n, error);
            g_byte_array_remove_range(w->buf, 0, (guint)n + 1);
            return result;
        }
        if (w->buf->len > CONTROL_MAX_RESPONSE) {
            g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL, "line from heedd too large (limit %d bytes)",
                        CONTROL_MAX_RESPONSE);
            return NULL;
        }
        guint8 chunk[4096];
        ssize_t r = recv(w->fd, chunk, sizeof chunk, 0);
        if (r > 0) {
            g_byte_array_append(w->buf, chunk, (guint)r);
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!control_wait(w->fd, POLLIN, deadline)) {
                g_set_error_literal(error, CONTROL_ERROR,
                                    errno == ETIMEDOUT ? CONTROL_ERROR_TIMEOUT : CONTROL_ERROR_IO,
                                    errno == ETIMEDOUT ? "nothing from heedd in time" : "poll failed");
                return NULL;
            }
        } else {
            g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING, "heedd closed the connection");
            return NULL;
        }
    }
}

void control_watch_close(struct control_watch *w)
{
    if (!w)
        return;
    close(w->fd);
    g_byte_array_unref(w->buf);
    g_free(w);
}
