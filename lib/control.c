/* SPDX-License-Identifier: MIT */
/* control: see control.h.
 *
 * This file: the protocol's shared helpers and the server on heedd's loop.
 * The blocking client and the watch client for heed are in
 * control-client.c; both use the limits and error words of control.h, so
 * they cannot drift apart. */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "control-int.h"

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
    if (answer && answer == control_pending.marker) {
        json_decref(req); /* the stream holds what it needs of the request */
        return answer;    /* a stream: the caller takes it */
    }
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

struct control_server *control_server_new(struct event_base *base, const char *path,
                                          control_handler_fn handler, void *ctx, GError **error)
{
    g_return_val_if_fail(base && path && handler, NULL);
    struct stat st;
    int fd = control_socket_listen(path, &st, error);
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
