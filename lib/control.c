/* SPDX-License-Identifier: MIT */
/* control: see control.h.
 *
 * Over 700 lines, for now: both ends of one small protocol (the server on
 * heedd's loop, the blocking client and the watch client for heed) share
 * its framing, limits and error words, kept together so they cannot drift.
 * The client half is the candidate to move into a file of its own. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

/* Stop reading further requests from a client once this much of its output is
 * still unsent: a pipelining client that reads slowly is throttled instead of
 * making us queue answers without bound. */
#define CONTROL_OUTPUT_PAUSE (256 * 1024)
/* With the pause above, output never passes PAUSE + one answer; anything
 * beyond this means the bookkeeping is wrong, and dropping the client is the
 * safe reaction. */
#define CONTROL_OUTPUT_LIMIT ((size_t)CONTROL_MAX_RESPONSE + 2 * CONTROL_OUTPUT_PAUSE)
/* After accept() fails for a reason other than a transient one (EMFILE...),
 * the pending connection stays queued and the listener would fire again at
 * once; wait this long before accepting again rather than spin. */
#define CONTROL_ACCEPT_RETRY_S 1
/* A streamed answer is produced this much at a time, and topped up when
 * the output has drained to half of it. */
#define CONTROL_STREAM_CHUNK (64 * 1024)
/* After an answer this large, free memory goes back to the system. */
#define CONTROL_TRIM_AFTER (1024 * 1024)

struct control_stream {
    control_piece_fn next;
    GDestroyNotify done;
    void *state;
    size_t sent;
};

/* The stream the handler running now returned (handlers run on the loop,
 * one at a time): control_dispatch takes it for its client. */
static struct {
    json_t *marker;
    struct control_stream stream;
} control_pending;

G_DEFINE_QUARK(control-error-quark, control_error)

struct control_client {
    struct control_server *srv;
    struct bufferevent *bev; /* owns the connection fd */
    LIST_ENTRY(control_client) link;
    bool closing; /* free once the output has drained */
    bool paused;  /* reading stopped until the output drains */
    bool watching; /* asked to "watch": gets each control_server_broadcast() line */
    struct control_stream *stream; /* an answer being written in pieces */
};

struct control_server {
    struct event_base *base;
    struct evconnlistener *listener; /* owns the listening fd */
    struct event *retry_ev;
    char *path;
    dev_t sock_dev; /* identity of the socket file we bound, so free() */
    ino_t sock_ino; /* never unlinks a successor's socket */
    control_handler_fn handler;
    void *ctx;
    LIST_HEAD(, control_client) clients;
    unsigned n_clients;
};

/* ---- protocol helpers ------------------------------------------------- */

json_t *control_ok(json_t *result)
{
    json_t *answer = json_object();
    if (!answer) {
        json_decref(result);
        return NULL;
    }
    json_object_set_new(answer, "ok", json_true());
    json_object_set_new(answer, "result", result ? result : json_null());
    return answer;
}

static void control_stream_free(struct control_stream *s)
{
    if (s && s->done)
        s->done(s->state);
    g_free(s);
}

json_t *control_ok_stream(control_piece_fn next, GDestroyNotify done, void *state)
{
    if (control_pending.marker) {
        /* A stream nobody took (the handler was called outside the server). */
        struct control_stream *old = g_memdup2(&control_pending.stream, sizeof control_pending.stream);
        control_pending.marker = NULL;
        control_stream_free(old);
    }
    control_pending.marker = control_ok(NULL);
    control_pending.stream = (struct control_stream){ .next = next, .done = done, .state = state };
    return control_pending.marker;
}

/* The stream behind an answer a handler returned, or NULL if it is a plain one. */
static struct control_stream *control_take_stream(json_t *answer)
{
    if (!answer || answer != control_pending.marker)
        return NULL;
    control_pending.marker = NULL;
    return g_memdup2(&control_pending.stream, sizeof control_pending.stream);
}

/* Large answers leave many small free chunks behind: give them back. */
static void control_trim(size_t answer_len)
{
#ifdef __GLIBC__
    if (answer_len >= CONTROL_TRIM_AFTER)
        malloc_trim(0);
#else
    (void)answer_len;
#endif
}

json_t *control_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* Messages often quote file names or remote text; JSON strings must be
     * UTF-8, and losing a few bytes beats losing the whole error. */
    if (!g_utf8_validate(msg, -1, NULL)) {
        char *valid = g_utf8_make_valid(msg, -1);
        g_free(msg);
        msg = valid;
    }
    json_t *answer = json_object();
    if (answer) {
        json_object_set_new(answer, "ok", json_false());
        json_object_set_new(answer, "error", json_string(msg));
    }
    g_free(msg);
    return answer;
}

json_t *control_parse_request(const char *line, size_t len, GError **error)
{
    json_error_t jerr;
    json_t *req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL, "invalid JSON at byte %d: %s",
                    jerr.position, jerr.text);
        return NULL;
    }
    const char *problem = NULL;
    if (!json_is_object(req))
        problem = "request must be a JSON object";
    else if (!json_object_get(req, "cmd"))
        problem = "request has no \"cmd\"";
    else if (!json_is_string(json_object_get(req, "cmd")))
        problem = "\"cmd\" must be a string";
    else if (json_object_get(req, "args") && !json_is_object(json_object_get(req, "args")))
        problem = "\"args\" must be an object";
    if (problem) {
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_PROTOCOL, problem);
        json_decref(req);
        return NULL;
    }
    return req;
}

char *control_default_path(GError **error)
{
    const char *dir = getenv("XDG_RUNTIME_DIR");
    if (!dir || !*dir) {
        g_set_error_literal(error, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING,
                            "XDG_RUNTIME_DIR is not set");
        return NULL;
    }
    /* The XDG spec says to ignore a relative value; using it would put the
     * socket wherever the process happens to run. */
    if (!g_path_is_absolute(dir)) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING,
                    "XDG_RUNTIME_DIR is not an absolute path (%s)", dir);
        return NULL;
    }
    return g_build_filename(dir, "heed", "control.sock", NULL);
}

static bool control_fill_addr(struct sockaddr_un *sa, const char *path, GError **error)
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

/* ---- server: clients -------------------------------------------------- */

static void control_client_free(struct control_client *c)
{
    LIST_REMOVE(c, link);
    c->srv->n_clients--;
    control_stream_free(c->stream);
    /* libevent defers the close() to the next loop iteration (or to
     * event_base_free); shut down now so the peer sees the end at once even
     * when the loop is not going to run again. */
    shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
    bufferevent_free(c->bev);
    g_free(c);
}

static void control_free_text(const void *data, size_t len, void *extra)
{
    (void)len;
    (void)extra;
    free((void *)data); /* json_dumps' malloc, or a GString's g_malloc (the same allocator) */
}

/* Serialise an answer (stolen) to one line of at most CONTROL_MAX_RESPONSE
 * bytes, without the newline; malloc'd, NULL only when out of memory. */
static char *control_answer_text(json_t *answer, size_t *len)
{
    char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
    json_decref(answer);
    if (text) {
        *len = strlen(text);
        if (*len <= CONTROL_MAX_RESPONSE)
            return text;
        free(text);
        answer = control_fail("response too large (limit %d bytes)", CONTROL_MAX_RESPONSE);
    } else {
        answer = control_fail("internal error: cannot encode the answer");
    }
    text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
    json_decref(answer);
    if (text)
        *len = strlen(text);
    return text;
}

/* Write the next pieces of c's streamed answer, up to a chunk. Returns false
 * if the client was dropped (its answer passed the limit). */
static bool control_client_stream(struct control_client *c)
{
    struct control_stream *s = c->stream;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    GString *piece = g_string_sized_new(CONTROL_STREAM_CHUNK + CONTROL_STREAM_CHUNK / 4);
    if (s->sent == 0)
        g_string_append(piece, "{\"ok\":true,\"result\":");
    bool more = true;
    while (more && piece->len < CONTROL_STREAM_CHUNK)
        more = s->next(s->state, piece);
    if (!more)
        g_string_append(piece, "}\n");
    s->sent += piece->len;
    size_t len = piece->len;
    char *text = g_string_free(piece, FALSE);
    if (evbuffer_add_reference(out, text, len, control_free_text, NULL) != 0) {
        evbuffer_add(out, text, len);
        g_free(text);
    }
    if (s->sent > (size_t)CONTROL_MAX_RESPONSE + 1) {
        control_client_free(c); /* cannot become an error answer any more: cut off */
        return false;
    }
    if (!more) {
        control_trim(s->sent);
        control_stream_free(s);
        c->stream = NULL;
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    }
    return true;
}

/* Start writing a streamed answer; reading waits until it is out. */
static bool control_client_start_stream(struct control_client *c, struct control_stream *s)
{
    c->stream = s;
    c->paused = true;
    bufferevent_disable(c->bev, EV_READ);
    bufferevent_setwatermark(c->bev, EV_WRITE, CONTROL_STREAM_CHUNK / 2, 0);
    return control_client_stream(c);
}

/* Queue one answer line (answer stolen). Returns false if the client was
 * dropped (and freed) instead. */
static bool control_client_send(struct control_client *c, json_t *answer)
{
    static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}";
    struct evbuffer *out = bufferevent_get_output(c->bev);
    size_t len = 0;
    char *text = control_answer_text(answer, &len);
    /* Answers can be large: hand the buffer over rather than copy it. */
    if (!text)
        evbuffer_add(out, oom, sizeof oom - 1);
    else if (evbuffer_add_reference(out, text, len, control_free_text, NULL) != 0)
        free(text);
    evbuffer_add(out, "\n", 1);
    control_trim(len);
    if (evbuffer_get_length(out) > CONTROL_OUTPUT_LIMIT) {
        control_client_free(c);
        return false;
    }
    return true;
}

/* Answer with an error, then hang up once the answer is out. */
static bool control_client_close_with(struct control_client *c, json_t *answer)
{
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
    return control_client_send(c, answer);
}

static json_t *control_dispatch(struct control_server *srv, const char *line, size_t len)
{
    GError *err = NULL;
    json_t *req = control_parse_request(line, len, &err);
    if (!req) {
        json_t *answer = control_fail("%s", err->message);
        g_error_free(err);
        return answer;
    }
    json_t *answer = srv->handler(req, srv->ctx);
    if (answer && answer == control_pending.marker)
        return answer; /* a stream: the caller takes it */
    if (!answer)
        answer = control_fail("internal error: no answer to \"%s\"",
                              json_string_value(json_object_get(req, "cmd")));
    json_decref(req);
    return answer;
}

/* A client whose "watch" request was answered ok stays connected, without
 * the idle limit, and gets every broadcast line from then on. */
static void control_client_maybe_watch(struct control_client *c, const char *line, size_t len, json_t *answer)
{
    if (!json_is_true(json_object_get(answer, "ok")))
        return;
    json_t *req = control_parse_request(line, len, NULL);
    if (req && g_strcmp0(json_string_value(json_object_get(req, "cmd")), CONTROL_WATCH_CMD) == 0) {
        c->watching = true;
        bufferevent_set_timeouts(c->bev, NULL, NULL);
    }
    json_decref(req);
}

/* Answer every complete request line buffered so far. Returns false if the
 * client was freed. */
static bool control_client_process(struct control_client *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (!c->closing && !c->stream) {
        if (evbuffer_get_length(out) >= CONTROL_OUTPUT_PAUSE) {
            c->paused = true;
            bufferevent_disable(c->bev, EV_READ);
            return true;
        }
        size_t eol_len = 0;
        struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
        size_t have = eol.pos < 0 ? evbuffer_get_length(in) : (size_t)eol.pos;
        if (have > CONTROL_MAX_REQUEST)
            return control_client_close_with(
                c, control_fail("request too large (limit %d bytes)", CONTROL_MAX_REQUEST));
        if (eol.pos < 0)
            return true;
        /* Parse in place: a request line is at most 64 KiB, so making it
         * contiguous is cheap and saves a copy. */
        const char *line = have ? (const char *)evbuffer_pullup(in, (ev_ssize_t)have) : "";
        if (!line)
            return control_client_close_with(c, control_fail("out of memory"));
        json_t *answer = control_dispatch(c->srv, line, have);
        control_client_maybe_watch(c, line, have, answer);
        evbuffer_drain(in, have + eol_len);
        struct control_stream *stream = control_take_stream(answer);
        if (stream) {
            json_decref(answer);
            if (!control_client_start_stream(c, stream))
                return false;
            continue;
        }
        if (!control_client_send(c, answer))
            return false;
    }
    return true;
}

static void control_client_read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    control_client_process(arg);
}

/* Called whenever the output has drained to the low-water mark: fully,
 * except while a streamed answer is written (then half a chunk). */
static void control_client_write_cb(struct bufferevent *bev, void *arg)
{
    struct control_client *c = arg;
    if (c->stream) {
        /* Drained to the low-water mark: the next pieces (and, once the
         * last is out, the requests that waited, at the next drain). */
        control_client_stream(c);
        return;
    }
    if (c->closing) {
        control_client_free(c);
        return;
    }
    if (c->paused) {
        c->paused = false;
        if (control_client_process(c) && !c->paused && !c->closing)
            bufferevent_enable(bev, EV_READ);
    }
}

static void control_client_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct control_client *c = arg;
    /* A client may half-close after its last request and still wait for the
     * answers: keep the connection until they are written. */
    if ((what & BEV_EVENT_EOF) && !(what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) &&
        (evbuffer_get_length(bufferevent_get_output(bev)) > 0 || c->stream)) {
        c->closing = true;
        bufferevent_disable(bev, EV_READ);
        return;
    }
    control_client_free(c);
}

/* Best effort: the socket is fresh, so a short line fits its buffer. */
static void control_refuse(evutil_socket_t fd, const char *msg)
{
    size_t len = 0;
    char *text = control_answer_text(control_fail("%s", msg), &len);
    if (text) {
        char *line = g_strconcat(text, "\n", NULL);
        ssize_t n;
        do
            n = send(fd, line, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        g_free(line);
        free(text);
    }
    close(fd);
}

static void control_accept_cb(struct evconnlistener *listener, evutil_socket_t fd,
                              struct sockaddr *addr, int addrlen, void *arg)
{
    (void)listener;
    (void)addr;
    (void)addrlen;
    struct control_server *srv = arg;

    /* The 0700 directory already keeps others out; this also covers a
     * directory whose mode was loosened behind our back. */
    struct ucred cred;
    socklen_t credlen = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) != 0 ||
        credlen != sizeof cred || cred.uid != geteuid()) {
        control_refuse(fd, "permission denied");
        return;
    }
    if (srv->n_clients >= CONTROL_MAX_CLIENTS) {
        char msg[64];
        snprintf(msg, sizeof msg, "too many clients (limit %d)", CONTROL_MAX_CLIENTS);
        control_refuse(fd, msg);
        return;
    }

    struct bufferevent *bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        control_refuse(fd, "out of memory");
        return;
    }
    struct control_client *c = g_new0(struct control_client, 1);
    c->srv = srv;
    c->bev = bev;
    LIST_INSERT_HEAD(&srv->clients, c, link);
    srv->n_clients++;

    bufferevent_setcb(bev, control_client_read_cb, control_client_write_cb,
                      control_client_event_cb, c);
    /* The read timeout drops idle clients; the write timeout drops clients
     * that stopped reading (output makes no progress). */
    struct timeval idle = { CONTROL_IDLE_TIMEOUT_S, 0 };
    bufferevent_set_timeouts(bev, &idle, &idle);
    if (bufferevent_enable(bev, EV_READ) != 0)
        control_client_free(c);
}

static void control_accept_error_cb(struct evconnlistener *listener, void *arg)
{
    struct control_server *srv = arg;
    struct timeval later = { CONTROL_ACCEPT_RETRY_S, 0 };
    evconnlistener_disable(listener);
    event_add(srv->retry_ev, &later);
}

static void control_accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct control_server *srv = arg;
    evconnlistener_enable(srv->listener);
}

/* ---- server: socket setup --------------------------------------------- */

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

struct control_server *control_server_new(struct event_base *base, const char *path,
                                          control_handler_fn handler, void *ctx, GError **error)
{
    g_return_val_if_fail(base && path && handler, NULL);
    struct sockaddr_un sa;
    if (!control_fill_addr(&sa, path, error))
        return NULL;
    /* We chmod the parent directory; for a relative path that could be
     * whatever directory the daemon was started in. */
    if (!g_path_is_absolute(path)) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "socket path must be absolute: %s",
                    path);
        return NULL;
    }

    char *dir = g_path_get_dirname(path);
    int dfd = control_prepare_dir(dir, error);
    g_free(dir);
    if (dfd < 0)
        return NULL;
    /* Two daemons starting together could each find the other's fresh
     * socket "stale" between its bind() and listen(); holding the directory
     * lock over check, bind and listen rules that out. Best effort: without
     * the lock only that narrow race remains. */
    int rc;
    do
        rc = flock(dfd, LOCK_EX);
    while (rc != 0 && errno == EINTR);
    struct stat st;
    int fd = control_listen(&sa, path, &st, error);
    close(dfd); /* releases the lock */
    if (fd < 0)
        return NULL;

    struct control_server *srv = g_new0(struct control_server, 1);
    srv->base = base;
    srv->path = g_strdup(path);
    srv->sock_dev = st.st_dev;
    srv->sock_ino = st.st_ino;
    srv->handler = handler;
    srv->ctx = ctx;
    LIST_INIT(&srv->clients);
    srv->retry_ev = evtimer_new(base, control_accept_retry_cb, srv);
    /* Backlog 0: the socket is already listening. */
    srv->listener = evconnlistener_new(base, control_accept_cb, srv,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
    if (!srv->retry_ev || !srv->listener) {
        g_set_error(error, CONTROL_ERROR, CONTROL_ERROR_IO, "cannot set up the listener on %s",
                    path);
        if (!srv->listener)
            close(fd);
        control_server_free(srv);
        return NULL;
    }
    evconnlistener_set_error_cb(srv->listener, control_accept_error_cb);
    control_ignore_sigpipe();
    return srv;
}

unsigned control_server_watchers(const struct control_server *srv)
{
    unsigned n = 0;
    const struct control_client *c;
    LIST_FOREACH(c, &srv->clients, link)
        n += c->watching;
    return n;
}

void control_server_broadcast(struct control_server *srv, json_t *result)
{
    struct control_client *c, *next;
    for (c = LIST_FIRST(&srv->clients); c; c = next) {
        next = LIST_NEXT(c, link);
        if (c->watching && !c->closing)
            control_client_send(c, control_ok(json_incref(result))); /* a client too slow to read is dropped */
    }
}

void control_server_free(struct control_server *srv)
{
    if (!srv)
        return;
    while (!LIST_EMPTY(&srv->clients))
        control_client_free(LIST_FIRST(&srv->clients));
    if (srv->listener)
        evconnlistener_free(srv->listener);
    if (srv->retry_ev)
        event_free(srv->retry_ev);
    struct stat st;
    if (lstat(srv->path, &st) == 0 && st.st_dev == srv->sock_dev && st.st_ino == srv->sock_ino)
        unlink(srv->path);
    g_free(srv->path);
    g_free(srv);
}

/* ---- client ------------------------------------------------------------ */

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

/* ---- client: watching -------------------------------------------------- */

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
