/* SPDX-License-Identifier: MIT */
/* control: the control socket between heedd and heed, JSON lines over UNIX.
 *
 * Wire format: the client sends one JSON object per line,
 *   {"cmd": "list", "args": {...}}
 * and the daemon answers each with one line,
 *   {"ok": true, "result": ...}   or   {"ok": false, "error": "message"}.
 * Every line gets exactly one answer, in order, several per connection if
 * the client likes; a malformed line gets {"ok": false} and the connection
 * stays open. Requests are capped at CONTROL_MAX_REQUEST bytes (a longer
 * line gets an error answer and the connection is closed); answers at
 * CONTROL_MAX_RESPONSE (a bigger one is replaced by a "response too large"
 * error), except a streamed answer (control_ok_stream), which is written in
 * pieces as the client reads and is cut off, the connection closed, if it
 * passes the limit. The socket lives in $XDG_RUNTIME_DIR/heed/ (mode 0700, must be
 * ours and not a symlink), is mode 0600, and only peers with the daemon's
 * uid (SO_PEERCRED) are served. Clients are served concurrently on the
 * daemon's libevent loop without blocking it; at most CONTROL_MAX_CLIENTS
 * at once (others get an error answer and are closed). A client that sends
 * nothing for CONTROL_IDLE_TIMEOUT_S seconds, or that stops reading its
 * answers for as long, is dropped; one that pipelines faster than it reads
 * is throttled.
 */
#ifndef HEED_CONTROL_H
#define HEED_CONTROL_H

#include <event2/event.h>
#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#define CONTROL_MAX_REQUEST (64 * 1024)
#define CONTROL_MAX_RESPONSE (256 * 1024 * 1024)
#define CONTROL_MAX_CLIENTS 64
#define CONTROL_IDLE_TIMEOUT_S 30
/* Bounds of the numbers a request may carry; the daemon refuses anything
 * outside them (the CLI checks them too, to say so in its own words). */
#define CONTROL_MAX_SNOOZE_S (30 * 24 * 60 * 60)
#define CONTROL_MAX_DAYS 3660
#define CONTROL_MAX_LIMIT 1000000

#define CONTROL_ERROR (control_error_quark())
GQuark control_error_quark(void);
enum control_error {
    CONTROL_ERROR_NOT_RUNNING, /* no socket, or nobody listening */
    CONTROL_ERROR_IO,
    CONTROL_ERROR_PROTOCOL,    /* malformed or oversize message */
    CONTROL_ERROR_TIMEOUT,
    CONTROL_ERROR_REMOTE,      /* the daemon answered {"ok": false} */
};

/* Daemon side. The handler gets the parsed request (an object with a string
 * "cmd" and, if present, an object "args") and returns a new reference to
 * the full answer object, normally made with control_ok() or control_fail();
 * NULL is answered as an internal error. It runs on the loop and must not
 * free the server. */
typedef json_t *(*control_handler_fn)(json_t *request, void *ctx);
struct control_server;

/* $XDG_RUNTIME_DIR/heed/control.sock (g_free it); NULL with
 * CONTROL_ERROR_NOT_RUNNING when XDG_RUNTIME_DIR is unset, empty or relative. */
char *control_default_path(GError **error);
/* Create the directory (0700) if needed, replace a stale socket, listen.
 * path must be absolute; its directory is dedicated to it (it gets chmod
 * 0700). Errors are CONTROL_ERROR_IO, e.g. "another heedd is already running
 * (PATH)" when something answers on path; a path that exists but is not a
 * socket is refused, never removed.
 * Sets SIGPIPE to SIG_IGN if it is at its default (libevent's writes cannot
 * suppress it). */
struct control_server *control_server_new(struct event_base *base, const char *path,
                                          control_handler_fn handler, void *ctx, GError **error);
/* The command that makes a client a watcher: heedd answers it like any
 * other, keeps the connection (no idle limit) and sends it every line of
 * control_server_broadcast() after that, until it hangs up. */
#define CONTROL_WATCH_CMD "watch"
unsigned control_server_watchers(const struct control_server *srv);
/* Send {"ok": true, "result": result} (borrowed) to every watcher; one that
 * does not read its lines is dropped. */
void control_server_broadcast(struct control_server *srv, json_t *result);
/* Closes all clients and the listener and removes the socket file (if it is
 * still the one we made). Call before event_base_free(). NULL is fine. */
void control_server_free(struct control_server *srv);

/* Protocol helpers, shared by both sides. */
json_t *control_ok(json_t *result /* stolen; NULL means null */);

/* A large answer, written to the socket in pieces as the client reads it:
 * never held whole in memory, and the loop turns between pieces. A handler
 * returns control_ok_stream(next, done, state) as its answer; the server
 * then calls next() to append the next piece of the "result" value's JSON
 * text to out (false once it appended the last piece), and done(state)
 * when the answer is finished or the client went away. On the wire it is
 * the same one line {"ok":true,"result":...}. Requests the client sent
 * after it wait for it. The returned object is only a marker for the
 * server that called the handler; a caller that is not the server must
 * not use it. */
typedef bool (*control_piece_fn)(void *state, GString *out);
json_t *control_ok_stream(control_piece_fn next, GDestroyNotify done, void *state);
json_t *control_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parse one request line; checks it is an object with a string "cmd". */
json_t *control_parse_request(const char *line, size_t len, GError **error);

/* Client side (blocking): connect, send one request, read one answer.
 * Returns the "result" member (new reference; json_null() if absent) when
 * ok; on {"ok": false} returns NULL with CONTROL_ERROR_REMOTE and the
 * daemon's message. Other errors: NOT_RUNNING (no socket or nobody
 * listening), TIMEOUT (timeout_ms covers the whole call; negative waits
 * forever), PROTOCOL (request over the limit, args not an object, answer
 * malformed or over the limit), IO. */
json_t *control_call(const char *path, const char *cmd, json_t *args /* borrowed, may be NULL */,
                     int timeout_ms, GError **error);

/* Client side of CONTROL_WATCH_CMD (blocking): open, then read each result
 * as heedd sends it; the first is its answer to the request. next() waits up
 * to timeout_ms (negative: forever) and returns NULL with an error when the
 * connection ends or a line is malformed. Errors as for control_call. */
struct control_watch;
struct control_watch *control_watch_open(const char *path, int timeout_ms, GError **error);
json_t *control_watch_next(struct control_watch *w, int timeout_ms, GError **error);
void control_watch_close(struct control_watch *w);

#endif
