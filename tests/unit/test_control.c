/* SPDX-License-Identifier: MIT */
/* Unit tests for control: protocol helpers, the libevent server (run on a
 * second thread) and the blocking client. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define TEST_TIMEOUT_MS 10000

/* ---- helpers ----------------------------------------------------------- */

static void rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        GDir *d = g_dir_open(path, 0, NULL);
        if (d) {
            const char *name;
            while ((name = g_dir_read_name(d))) {
                char *child = g_build_filename(path, name, NULL);
                rm_rf(child);
                g_free(child);
            }
            g_dir_close(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof sa->sun_path);
    strcpy(sa->sun_path, path);
}

static int raw_connect(const char *path)
{
    struct sockaddr_un sa;
    fill_addr(&sa, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* A socket bound at path and listening, or (listen == false) bound and closed
 * again without unlink, which is what a crashed daemon leaves behind. */
static int raw_bind(const char *path, bool listening)
{
    struct sockaddr_un sa;
    fill_addr(&sa, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    if (!listening) {
        close(fd);
        return -1;
    }
    assert_int_equal(listen(fd, 8), 0);
    return fd;
}

static bool raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void raw_send_str(int fd, const char *s)
{
    assert_true(raw_send(fd, s, strlen(s)));
}

struct reader {
    int fd;
    GString *buf;
};

static void reader_init(struct reader *r, int fd)
{
    r->fd = fd;
    r->buf = g_string_new(NULL);
}

static void reader_clear(struct reader *r)
{
    g_string_free(r->buf, TRUE);
    close(r->fd);
}

/* One line without its newline (g_free it); NULL on EOF, error or timeout. */
static char *reader_line(struct reader *r)
{
    for (;;) {
        char *nl = memchr(r->buf->str, '\n', r->buf->len);
        if (nl) {
            size_t len = (size_t)(nl - r->buf->str);
            char *line = g_strndup(r->buf->str, len);
            g_string_erase(r->buf, 0, (gssize)(len + 1));
            return line;
        }
        struct pollfd p = { .fd = r->fd, .events = POLLIN };
        if (poll(&p, 1, TEST_TIMEOUT_MS) <= 0)
            return NULL;
        char chunk[16384];
        ssize_t n = recv(r->fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NULL;
        g_string_append_len(r->buf, chunk, n);
    }
}

/* The peer hung up: EOF, or ECONNRESET when it closed with our data unread. */
static bool reader_at_eof(struct reader *r)
{
    if (r->buf->len > 0)
        return false;
    struct pollfd p = { .fd = r->fd, .events = POLLIN };
    if (poll(&p, 1, TEST_TIMEOUT_MS) <= 0)
        return false;
    char c;
    ssize_t n = recv(r->fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static void assert_json_text(json_t *value, const char *expected)
{
    assert_non_null(value);
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    assert_non_null(text);
    assert_string_equal(text, expected);
    free(text);
}

static void assert_error(GError *err, int code, const char *substring)
{
    assert_non_null(err);
    if (!g_error_matches(err, CONTROL_ERROR, code) || !strstr(err->message, substring))
        fail_msg("expected control error %d containing \"%s\", got %s %d \"%s\"", code, substring,
                 g_quark_to_string(err->domain), err->code, err->message);
}

/* ---- server fixture ---------------------------------------------------- */

struct fixture {
    char *tmpdir;
    char *dir;  /* tmpdir/heed */
    char *path; /* tmpdir/heed/control.sock */
    struct event_base *base;
    struct control_server *srv;
    struct event *stop_ev;
    int stop_pipe[2];
    pthread_t thread;
    bool running;
};

/* "stream": an array of n strings "item<i>", written a few at a time. */
struct test_stream {
    int next, n;
};

static atomic_int streams_done;

static bool test_stream_next(void *state, GString *out)
{
    struct test_stream *ts = state;
    if (ts->next == 0)
        g_string_append_c(out, '[');
    for (int k = 0; k < 100 && ts->next < ts->n; k++, ts->next++)
        g_string_append_printf(out, "%s\"item%d\"", ts->next ? "," : "", ts->next);
    if (ts->next < ts->n)
        return true;
    g_string_append_c(out, ']');
    return false;
}

static void test_stream_done(void *state)
{
    g_free(state);
    atomic_fetch_add(&streams_done, 1);
}

static json_t *test_handler(json_t *req, void *ctx)
{
    (void)ctx;
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    json_t *args = json_object_get(req, "args");
    if (strcmp(cmd, "echo") == 0)
        return control_ok(args ? json_incref(args) : NULL);
    if (strcmp(cmd, "fail") == 0) {
        const char *why = json_string_value(json_object_get(args, "why"));
        return control_fail("failed on purpose: %s", why ? why : "no reason");
    }
    if (strcmp(cmd, "none") == 0)
        return NULL;
    if (strcmp(cmd, "stream") == 0) {
        struct test_stream *ts = g_new0(struct test_stream, 1);
        ts->n = (int)json_integer_value(json_object_get(args, "n"));
        return control_ok_stream(test_stream_next, test_stream_done, ts);
    }
    if (strcmp(cmd, "big") == 0) {
        size_t n = (size_t)json_integer_value(json_object_get(args, "n"));
        char *s = g_malloc(n + 1);
        memset(s, 'b', n);
        s[n] = '\0';
        json_t *result = json_string(s);
        g_free(s);
        return control_ok(result);
    }
    return control_fail("unknown command: %s", cmd);
}

static void fixture_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void *fixture_loop(void *arg)
{
    struct fixture *fx = arg;
    event_base_dispatch(fx->base);
    return NULL;
}

/* Paths only; the tests that need odd directories set them up first. */
static int fixture_setup(void **state)
{
    struct fixture *fx = g_new0(struct fixture, 1);
    fx->tmpdir = g_dir_make_tmp("heed-control-XXXXXX", NULL);
    assert_non_null(fx->tmpdir);
    fx->dir = g_build_filename(fx->tmpdir, "heed", NULL);
    fx->path = g_build_filename(fx->dir, "control.sock", NULL);
    fx->stop_pipe[0] = fx->stop_pipe[1] = -1;
    fx->base = event_base_new();
    assert_non_null(fx->base);
    *state = fx;
    return 0;
}

static void fixture_start(struct fixture *fx)
{
    GError *err = NULL;
    fx->srv = control_server_new(fx->base, fx->path, test_handler, fx, &err);
    if (!fx->srv)
        fail_msg("control_server_new: %s", err->message);
    assert_int_equal(pipe2(fx->stop_pipe, O_CLOEXEC), 0);
    fx->stop_ev = event_new(fx->base, fx->stop_pipe[0], EV_READ, fixture_stop_cb, fx->base);
    assert_non_null(fx->stop_ev);
    assert_int_equal(event_add(fx->stop_ev, NULL), 0);
    assert_int_equal(pthread_create(&fx->thread, NULL, fixture_loop, fx), 0);
    fx->running = true;
}

/* Stop the loop thread; the server stays allocated. */
static void fixture_stop(struct fixture *fx)
{
    if (!fx->running)
        return;
    assert_int_equal(write(fx->stop_pipe[1], "x", 1), 1);
    pthread_join(fx->thread, NULL);
    fx->running = false;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    fixture_stop(fx);
    if (fx->srv) {
        control_server_free(fx->srv);
        /* control_server_free removes the socket. */
        assert_int_equal(access(fx->path, F_OK), -1);
    }
    if (fx->stop_ev)
        event_free(fx->stop_ev);
    for (int i = 0; i < 2; i++)
        if (fx->stop_pipe[i] >= 0)
            close(fx->stop_pipe[i]);
    event_base_free(fx->base);
    rm_rf(fx->tmpdir);
    g_free(fx->tmpdir);
    g_free(fx->dir);
    g_free(fx->path);
    g_free(fx);
    return 0;
}

static int fixture_setup_started(void **state)
{
    fixture_setup(state);
    fixture_start(*state);
    return 0;
}

static json_t *call_ok(const char *path, const char *cmd, json_t *args)
{
    GError *err = NULL;
    json_t *result = control_call(path, cmd, args, TEST_TIMEOUT_MS, &err);
    if (!result)
        fail_msg("control_call %s: %s", cmd, err->message);
    return result;
}

/* ---- protocol helpers -------------------------------------------------- */

static void test_ok_and_fail(void **state)
{
    (void)state;
    json_t *a = control_ok(NULL);
    assert_json_text(a, "{\"ok\":true,\"result\":null}");
    json_decref(a);
    a = control_ok(json_pack("{s:i}", "n", 3));
    assert_json_text(a, "{\"ok\":true,\"result\":{\"n\":3}}");
    json_decref(a);
    a = control_fail("no feed %d", 7);
    assert_json_text(a, "{\"error\":\"no feed 7\",\"ok\":false}");
    json_decref(a);
    /* Invalid UTF-8 in a message must not lose the whole error. */
    a = control_fail("bad name %s", "x\xff" "y");
    assert_non_null(a);
    assert_true(json_is_string(json_object_get(a, "error")));
    assert_non_null(strstr(json_string_value(json_object_get(a, "error")), "bad name x"));
    json_decref(a);
}

static void expect_reject(const char *line, const char *substring)
{
    GError *err = NULL;
    json_t *req = control_parse_request(line, strlen(line), &err);
    if (req)
        fail_msg("accepted: %s", line);
    assert_error(err, CONTROL_ERROR_PROTOCOL, substring);
    g_error_free(err);
}

static void test_parse_request(void **state)
{
    (void)state;
    const char *good[] = {
        "{\"cmd\":\"list\"}",
        "{\"cmd\":\"list\",\"args\":{}}",
        "  {\"args\":{\"n\":1},\"cmd\":\"\",\"extra\":true}\r",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
        GError *err = NULL;
        json_t *req = control_parse_request(good[i], strlen(good[i]), &err);
        if (!req)
            fail_msg("rejected %s: %s", good[i], err->message);
        assert_true(json_is_string(json_object_get(req, "cmd")));
        json_decref(req);
    }
    /* Only the given length counts, not the terminator. */
    GError *err = NULL;
    json_t *req = control_parse_request("{\"cmd\":\"a\"}garbage", 11, &err);
    assert_non_null(req);
    json_decref(req);

    expect_reject("not json", "invalid JSON");
    expect_reject("", "invalid JSON");
    expect_reject("{\"cmd\":\"a\"} trailing", "invalid JSON");
    expect_reject("[\"cmd\",\"list\"]", "must be a JSON object");
    expect_reject("42", "invalid JSON");
    expect_reject("{}", "no \"cmd\"");
    expect_reject("{\"args\":{}}", "no \"cmd\"");
    expect_reject("{\"cmd\":1}", "\"cmd\" must be a string");
    expect_reject("{\"cmd\":null}", "\"cmd\" must be a string");
    expect_reject("{\"cmd\":\"a\",\"args\":[]}", "\"args\" must be an object");
    expect_reject("{\"cmd\":\"a\",\"args\":null}", "\"args\" must be an object");
    expect_reject("{\"cmd\":\"a\",\"cmd\":\"b\"}", "duplicate");
    expect_reject("{\"cmd\":\"a\",\"args\":{\"x\":1,\"x\":2}}", "duplicate");
}

static void test_default_path(void **state)
{
    (void)state;
    char *saved = g_strdup(getenv("XDG_RUNTIME_DIR"));
    GError *err = NULL;

    setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
    char *path = control_default_path(&err);
    assert_string_equal(path, "/run/user/4242/heed/control.sock");
    g_free(path);

    unsetenv("XDG_RUNTIME_DIR");
    assert_null(control_default_path(&err));
    assert_error(err, CONTROL_ERROR_NOT_RUNNING, "XDG_RUNTIME_DIR is not set");
    g_clear_error(&err);

    setenv("XDG_RUNTIME_DIR", "", 1);
    assert_null(control_default_path(&err));
    assert_error(err, CONTROL_ERROR_NOT_RUNNING, "XDG_RUNTIME_DIR is not set");
    g_clear_error(&err);

    setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
    assert_null(control_default_path(&err));
    assert_error(err, CONTROL_ERROR_NOT_RUNNING, "absolute");
    g_clear_error(&err);

    if (saved)
        setenv("XDG_RUNTIME_DIR", saved, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    g_free(saved);
}

/* ---- server and client together ---------------------------------------- */

static void test_echo(void **state)
{
    struct fixture *fx = *state;
    json_t *args = json_pack("{s:i,s:s,s:[b,n]}", "a", 1, "s", "h\xc3\xa9llo\nworld", "l", 1);
    json_t *result = call_ok(fx->path, "echo", args);
    assert_true(json_equal(result, args));
    json_decref(result);
    json_decref(args);

    /* No args: the handler answers control_ok(NULL), which arrives as null. */
    result = call_ok(fx->path, "echo", NULL);
    assert_true(json_is_null(result));
    json_decref(result);
}

static void test_sequential_calls(void **state)
{
    struct fixture *fx = *state;
    for (int i = 0; i < 50; i++) {
        json_t *args = json_pack("{s:i}", "i", i);
        json_t *result = call_ok(fx->path, "echo", args);
        assert_int_equal(json_integer_value(json_object_get(result, "i")), i);
        json_decref(result);
        json_decref(args);
    }
}

struct worker {
    const char *path;
    int id;
    atomic_int *failures;
};

/* cmocka's asserts are not thread-safe: count failures, assert on main. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 20; i++) {
        json_t *args = json_pack("{s:i,s:i}", "worker", w->id, "i", i);
        GError *err = NULL;
        json_t *result = control_call(w->path, "echo", args, TEST_TIMEOUT_MS, &err);
        if (!result || !json_equal(result, args)) {
            fprintf(stderr, "worker %d call %d: %s\n", w->id, i, err ? err->message : "mismatch");
            atomic_fetch_add(w->failures, 1);
        }
        g_clear_error(&err);
        json_decref(result);
        json_decref(args);
    }
    return NULL;
}

static void test_concurrent_calls(void **state)
{
    struct fixture *fx = *state;
    enum { N = 10 };
    pthread_t threads[N];
    struct worker workers[N];
    atomic_int failures = 0;
    for (int i = 0; i < N; i++) {
        workers[i] = (struct worker){ .path = fx->path, .id = i, .failures = &failures };
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&failures), 0);
}

static void test_remote_error(void **state)
{
    struct fixture *fx = *state;
    GError *err = NULL;
    json_t *args = json_pack("{s:s}", "why", "because");
    assert_null(control_call(fx->path, "fail", args, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_REMOTE, "failed on purpose: because");
    assert_string_equal(err->message, "failed on purpose: because");
    g_clear_error(&err);
    json_decref(args);

    /* A handler that returns NULL still produces an answer. */
    assert_null(control_call(fx->path, "none", NULL, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_REMOTE, "internal error");
    g_clear_error(&err);

    /* Client-side argument checks never reach the daemon. */
    json_t *arr = json_array();
    assert_null(control_call(fx->path, "echo", arr, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_PROTOCOL, "\"args\" must be an object");
    g_clear_error(&err);
    json_decref(arr);
}

static void test_oversize_request(void **state)
{
    struct fixture *fx = *state;
    struct reader r;
    reader_init(&r, raw_connect(fx->path));
    size_t len = 70 * 1024;
    char *blob = g_malloc(len);
    memset(blob, 'a', len);
    /* The daemon may hang up before all of it is through; that is fine. */
    raw_send(r.fd, blob, len);
    g_free(blob);
    char *line = reader_line(&r);
    assert_non_null(line);
    assert_string_equal(line, "{\"ok\":false,\"error\":\"request too large (limit 65536 bytes)\"}");
    g_free(line);
    assert_true(reader_at_eof(&r));
    reader_clear(&r);

    /* The daemon is unharmed. */
    json_t *result = call_ok(fx->path, "echo", NULL);
    json_decref(result);
}

/* A line of exactly CONTROL_MAX_REQUEST bytes is served, one more byte is not. */
static void test_request_limit_boundary(void **state)
{
    struct fixture *fx = *state;
    const char *head = "{\"cmd\":\"echo\",\"args\":{\"s\":\"";
    const char *tail = "\"}}";
    for (int extra = 0; extra <= 1; extra++) {
        size_t total = CONTROL_MAX_REQUEST + (size_t)extra;
        GString *req = g_string_new(head);
        while (req->len < total - strlen(tail))
            g_string_append_c(req, 'x');
        g_string_append(req, tail);
        assert_int_equal(req->len, total);
        g_string_append_c(req, '\n');

        struct reader r;
        reader_init(&r, raw_connect(fx->path));
        raw_send(r.fd, req->str, req->len);
        char *line = reader_line(&r);
        assert_non_null(line);
        if (extra == 0)
            assert_true(g_str_has_prefix(line, "{\"ok\":true,\"result\":{\"s\":\"xxx"));
        else
            assert_non_null(strstr(line, "request too large"));
        g_free(line);
        reader_clear(&r);
        g_string_free(req, TRUE);
    }

    /* control_call refuses to send what the daemon would refuse. */
    char *big = g_malloc0(CONTROL_MAX_REQUEST + 1);
    memset(big, 'x', CONTROL_MAX_REQUEST);
    json_t *args = json_pack("{s:s}", "s", big);
    GError *err = NULL;
    assert_null(control_call(fx->path, "echo", args, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_PROTOCOL, "request too large");
    g_clear_error(&err);
    json_decref(args);
    g_free(big);
}

static void test_silent_client_does_not_block(void **state)
{
    struct fixture *fx = *state;
    int silent = raw_connect(fx->path);
    int partial = raw_connect(fx->path);
    raw_send_str(partial, "{\"cmd\":\"ec");
    for (int i = 0; i < 3; i++) {
        json_t *result = call_ok(fx->path, "echo", NULL);
        json_decref(result);
    }
    close(silent);
    close(partial);
}

static void test_malformed_then_valid(void **state)
{
    struct fixture *fx = *state;
    struct reader r;
    reader_init(&r, raw_connect(fx->path));

    raw_send_str(r.fd, "this is not json\n");
    char *line = reader_line(&r);
    assert_non_null(line);
    assert_true(g_str_has_prefix(line, "{\"ok\":false,\"error\":\"invalid JSON"));
    g_free(line);

    raw_send_str(r.fd, "{\"cmd\":\"echo\",\"args\":{\"x\":1}}\n");
    line = reader_line(&r);
    assert_string_equal(line, "{\"ok\":true,\"result\":{\"x\":1}}");
    g_free(line);

    /* Pipelined requests, including an empty line and a bad one, are
     * answered one for one, in order. */
    raw_send_str(r.fd, "{\"cmd\":\"echo\",\"args\":{\"n\":1}}\n\n[1]\n"
                       "{\"cmd\":\"echo\",\"args\":{\"n\":2}}\r\n");
    const char *expected[] = {
        "{\"ok\":true,\"result\":{\"n\":1}}",
        NULL, /* empty line: an error */
        "{\"ok\":false,\"error\":\"request must be a JSON object\"}",
        "{\"ok\":true,\"result\":{\"n\":2}}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(expected); i++) {
        line = reader_line(&r);
        assert_non_null(line);
        if (expected[i])
            assert_string_equal(line, expected[i]);
        else
            assert_true(g_str_has_prefix(line, "{\"ok\":false,"));
        g_free(line);
    }
    reader_clear(&r);
}

/* A client may shut down its sending side and still get its answers. */
static void test_half_close(void **state)
{
    struct fixture *fx = *state;
    struct reader r;
    reader_init(&r, raw_connect(fx->path));
    raw_send_str(r.fd, "{\"cmd\":\"echo\",\"args\":{\"a\":1}}\n{\"cmd\":\"echo\",\"args\":{\"a\":2}}\n");
    assert_int_equal(shutdown(r.fd, SHUT_WR), 0);
    char *line = reader_line(&r);
    assert_string_equal(line, "{\"ok\":true,\"result\":{\"a\":1}}");
    g_free(line);
    line = reader_line(&r);
    assert_string_equal(line, "{\"ok\":true,\"result\":{\"a\":2}}");
    g_free(line);
    assert_true(reader_at_eof(&r));
    reader_clear(&r);
}

/* An answer larger than the socket buffer is still pending when the
 * client's EOF arrives; it must be written out in full before hanging up. */
static void test_half_close_large_answer(void **state)
{
    struct fixture *fx = *state;
    struct reader r;
    reader_init(&r, raw_connect(fx->path));
    raw_send_str(r.fd, "{\"cmd\":\"big\",\"args\":{\"n\":240000}}\n");
    assert_int_equal(shutdown(r.fd, SHUT_WR), 0);
    usleep(100 * 1000);
    char *line = reader_line(&r);
    assert_non_null(line);
    assert_int_equal(strlen(line), strlen("{\"ok\":true,\"result\":\"\"}") + 240000);
    g_free(line);
    assert_true(reader_at_eof(&r));
    reader_clear(&r);
}

/* ---- streamed answers ------------------------------------------------- */

static void assert_items(json_t *arr, int n)
{
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), n);
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "item%d", i);
        assert_string_equal(json_string_value(json_array_get(arr, (size_t)i)), want);
    }
}

/* A streamed answer (many chunks) reads as one ordinary answer. */
static void test_stream_answer(void **state)
{
    struct fixture *fx = *state;
    int before = atomic_load(&streams_done);
    for (int n = 0; n < 3; n++) {
        int items = n == 0 ? 0 : n == 1 ? 1 : 50000;
        json_t *args = json_pack("{s:i}", "n", items);
        json_t *res = call_ok(fx->path, "stream", args);
        assert_items(res, items);
        json_decref(res);
        json_decref(args);
    }
    assert_int_equal(atomic_load(&streams_done) - before, 3);
}

/* Requests sent behind a streamed answer wait for it and come in order. */
static void test_stream_then_pipelined(void **state)
{
    struct fixture *fx = *state;
    struct reader r;
    reader_init(&r, raw_connect(fx->path));
    raw_send_str(r.fd, "{\"cmd\":\"stream\",\"args\":{\"n\":30000}}\n{\"cmd\":\"echo\",\"args\":{\"a\":1}}\n"
                       "{\"cmd\":\"stream\",\"args\":{\"n\":2}}\n");
    assert_int_equal(shutdown(r.fd, SHUT_WR), 0);
    char *line = reader_line(&r);
    assert_non_null(line);
    json_t *answer = json_loads(line, 0, NULL);
    assert_non_null(answer);
    assert_true(json_is_true(json_object_get(answer, "ok")));
    assert_items(json_object_get(answer, "result"), 30000);
    json_decref(answer);
    g_free(line);
    line = reader_line(&r);
    assert_string_equal(line, "{\"ok\":true,\"result\":{\"a\":1}}");
    g_free(line);
    line = reader_line(&r);
    assert_string_equal(line, "{\"ok\":true,\"result\":[\"item0\",\"item1\"]}");
    g_free(line);
    assert_true(reader_at_eof(&r));
    reader_clear(&r);
}

/* A client that goes away in the middle of a streamed answer: the stream
 * is finished off (its state freed) and the server goes on serving. */
static void test_stream_client_gone(void **state)
{
    struct fixture *fx = *state;
    int before = atomic_load(&streams_done);
    int fd = raw_connect(fx->path);
    raw_send_str(fd, "{\"cmd\":\"stream\",\"args\":{\"n\":2000000}}\n");
    char head[64];
    assert_true(recv(fd, head, sizeof head, 0) > 0); /* it has started */
    close(fd);
    for (int i = 0; i < 200 && atomic_load(&streams_done) == before; i++)
        usleep(10 * 1000);
    assert_int_equal(atomic_load(&streams_done) - before, 1);
    json_t *res = call_ok(fx->path, "echo", NULL);
    json_decref(res);
}

struct flood {
    int fd;
    int count;
    const char *line;
    bool ok;
};

static void *flood_main(void *arg)
{
    struct flood *f = arg;
    f->ok = true;
    for (int i = 0; i < f->count && f->ok; i++)
        f->ok = raw_send(f->fd, f->line, strlen(f->line));
    /* Hanging up early must not cost the answers still owed. */
    if (f->ok)
        f->ok = shutdown(f->fd, SHUT_WR) == 0;
    return NULL;
}

/* A client that sends far more requests than it reads answers, then
 * half-closes: the daemon must throttle it (stop reading), resume once it
 * reads, and answer everything before hanging up. */
static void test_pipelined_flood(void **state)
{
    struct fixture *fx = *state;
    char pad[1025];
    memset(pad, 'p', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    char *req = g_strdup_printf("{\"cmd\":\"echo\",\"args\":{\"pad\":\"%s\"}}\n", pad);
    char *expected = g_strdup_printf("{\"ok\":true,\"result\":{\"pad\":\"%s\"}}", pad);

    struct reader r;
    reader_init(&r, raw_connect(fx->path));
    struct flood f = { .fd = r.fd, .count = 2000, .line = req };
    pthread_t writer;
    assert_int_equal(pthread_create(&writer, NULL, flood_main, &f), 0);
    /* Let the daemon's output and both socket buffers fill up first. */
    usleep(200 * 1000);
    int answers = 0;
    for (; answers < f.count; answers++) {
        char *line = reader_line(&r);
        if (!line || strcmp(line, expected) != 0) {
            g_free(line);
            break;
        }
        g_free(line);
    }
    pthread_join(writer, NULL);
    assert_true(f.ok);
    assert_int_equal(answers, f.count);
    assert_true(reader_at_eof(&r));
    reader_clear(&r);
    g_free(req);
    g_free(expected);
}

static void test_too_many_clients(void **state)
{
    struct fixture *fx = *state;
    struct reader readers[CONTROL_MAX_CLIENTS];
    /* A round trip on each proves the daemon has accepted and counted it. */
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
        reader_init(&readers[i], raw_connect(fx->path));
        raw_send_str(readers[i].fd, "{\"cmd\":\"echo\"}\n");
        char *line = reader_line(&readers[i]);
        assert_string_equal(line, "{\"ok\":true,\"result\":null}");
        g_free(line);
    }
    GError *err = NULL;
    assert_null(control_call(fx->path, "echo", NULL, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_REMOTE, "too many clients");
    g_clear_error(&err);

    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
        reader_clear(&readers[i]);
    /* The daemon notices the hang-ups asynchronously; give it a moment. */
    json_t *result = NULL;
    for (int tries = 0; !result && tries < 100; tries++) {
        result = control_call(fx->path, "echo", NULL, TEST_TIMEOUT_MS, &err);
        if (!result) {
            assert_error(err, CONTROL_ERROR_REMOTE, "too many clients");
            g_clear_error(&err);
            usleep(20 * 1000);
        }
    }
    assert_non_null(result);
    json_decref(result);
}

static void test_modes(void **state)
{
    struct fixture *fx = *state;
    struct stat st;
    assert_int_equal(lstat(fx->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(lstat(fx->dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0700);
}

static void test_already_running(void **state)
{
    struct fixture *fx = *state;
    struct event_base *other = event_base_new();
    GError *err = NULL;
    assert_null(control_server_new(other, fx->path, test_handler, NULL, &err));
    assert_error(err, CONTROL_ERROR_IO, "another heedd is already running");
    assert_non_null(strstr(err->message, fx->path));
    g_clear_error(&err);
    event_base_free(other);
    /* The running one still serves. */
    json_t *result = call_ok(fx->path, "echo", NULL);
    json_decref(result);
}

static void test_stale_socket_replaced(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(mkdir(fx->dir, 0700), 0);
    raw_bind(fx->path, false);

    /* A client sees a stale socket as no daemon at all. */
    GError *err = NULL;
    assert_null(control_call(fx->path, "echo", NULL, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_NOT_RUNNING, "heedd is not running");
    g_clear_error(&err);

    fixture_start(fx);
    struct stat st;
    assert_int_equal(lstat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    json_t *result = call_ok(fx->path, "echo", NULL);
    json_decref(result);
}

/* A loosely created directory is tightened to 0700. */
static void test_dir_mode_fixed(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(mkdir(fx->dir, 0755), 0);
    assert_int_equal(chmod(fx->dir, 0755), 0);
    fixture_start(fx);
    struct stat st;
    assert_int_equal(lstat(fx->dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
}

static void expect_server_fails(struct fixture *fx, const char *path, const char *substring)
{
    GError *err = NULL;
    struct control_server *srv = control_server_new(fx->base, path, test_handler, NULL, &err);
    if (srv)
        fail_msg("control_server_new(%s) succeeded", path);
    assert_error(err, CONTROL_ERROR_IO, substring);
    g_error_free(err);
}

static void test_bad_locations(void **state)
{
    struct fixture *fx = *state;

    /* The directory is a file, then a symlink to a directory of ours. */
    assert_true(g_file_set_contents(fx->dir, "", 0, NULL));
    expect_server_fails(fx, fx->path, "not a directory");
    unlink(fx->dir);
    char *real = g_build_filename(fx->tmpdir, "real", NULL);
    assert_int_equal(mkdir(real, 0700), 0);
    assert_int_equal(symlink(real, fx->dir), 0);
    expect_server_fails(fx, fx->path, "not a directory");
    unlink(fx->dir);
    g_free(real);

    /* The socket path is taken by something that is not a socket. */
    assert_int_equal(mkdir(fx->dir, 0700), 0);
    assert_true(g_file_set_contents(fx->path, "keep me", -1, NULL));
    expect_server_fails(fx, fx->path, "not a socket");
    assert_int_equal(access(fx->path, F_OK), 0);
    unlink(fx->path);

    /* Too long for sun_path, and relative. */
    GString *longpath = g_string_new(fx->dir);
    while (longpath->len < 200)
        g_string_append(longpath, "/xxxxxxxxxx");
    expect_server_fails(fx, longpath->str, "longer than");
    GError *err = NULL;
    assert_null(control_call(longpath->str, "echo", NULL, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_IO, "longer than");
    g_clear_error(&err);
    g_string_free(longpath, TRUE);
    expect_server_fails(fx, "heed/control.sock", "must be absolute");

    /* Someone else's directory (needs root to arrange). */
    if (geteuid() == 0) {
        assert_int_equal(chown(fx->dir, 65534, 65534), 0);
        expect_server_fails(fx, fx->path, "owned by uid 65534");
    }
}

static void test_server_free_closes_clients(void **state)
{
    struct fixture *fx = *state;
    struct reader r;
    reader_init(&r, raw_connect(fx->path));
    raw_send_str(r.fd, "{\"cmd\":\"echo\"}\n");
    char *line = reader_line(&r);
    assert_non_null(line);
    g_free(line);
    fixture_stop(fx);
    control_server_free(fx->srv);
    fx->srv = NULL;
    assert_true(reader_at_eof(&r));
    assert_int_equal(access(fx->path, F_OK), -1);
    reader_clear(&r);
}

/* ---- client against fakes ---------------------------------------------- */

static void test_call_not_running(void **state)
{
    struct fixture *fx = *state;
    GError *err = NULL;
    assert_null(control_call(fx->path, "echo", NULL, TEST_TIMEOUT_MS, &err));
    assert_error(err, CONTROL_ERROR_NOT_RUNNING, "heedd is not running");
    g_clear_error(&err);
}

static void test_call_timeout(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(mkdir(fx->dir, 0700), 0);
    /* Listens, never accepts, never answers. */
    int lfd = raw_bind(fx->path, true);
    GError *err = NULL;
    gint64 start = g_get_monotonic_time();
    assert_null(control_call(fx->path, "echo", NULL, 200, &err));
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    assert_error(err, CONTROL_ERROR_TIMEOUT, "timed out");
    g_clear_error(&err);
    assert_in_range(elapsed_ms, 150, 5000);
    close(lfd);
}

struct fake {
    int lfd;
    const char *reply;
    size_t reply_len;
};

/* Accept one connection, read the request line, send the canned reply. */
static void *fake_main(void *arg)
{
    struct fake *f = arg;
    int fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct reader r;
    reader_init(&r, fd);
    g_free(reader_line(&r));
    raw_send(fd, f->reply, f->reply_len);
    reader_clear(&r);
    return NULL;
}

static void test_call_bad_answers(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(mkdir(fx->dir, 0700), 0);
    int lfd = raw_bind(fx->path, true);
    static const struct {
        const char *reply;
        int code; /* -1: success */
        const char *substring;
    } cases[] = {
        { "garbage\n", CONTROL_ERROR_PROTOCOL, "invalid answer" },
        { "[true]\n", CONTROL_ERROR_PROTOCOL, "no boolean \"ok\"" },
        { "{\"ok\":1}\n", CONTROL_ERROR_PROTOCOL, "no boolean \"ok\"" },
        { "{\"ok\":false}\n", CONTROL_ERROR_REMOTE, "unspecified" },
        { "{\"ok\":false,\"error\":\"nope\"}\n", CONTROL_ERROR_REMOTE, "nope" },
        { "", CONTROL_ERROR_IO, "without answering" },
        { "{\"ok\":true", CONTROL_ERROR_PROTOCOL, "middle of its answer" },
        { "{\"ok\":true}\nextra", -1, NULL },
        { "{\"ok\":true,\"result\":[1,2]}\n", -1, NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct fake f = { .lfd = lfd, .reply = cases[i].reply, .reply_len = strlen(cases[i].reply) };
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, fake_main, &f), 0);
        GError *err = NULL;
        json_t *result = control_call(fx->path, "echo", NULL, TEST_TIMEOUT_MS, &err);
        pthread_join(t, NULL);
        if (cases[i].code < 0) {
            if (!result)
                fail_msg("case %zu: %s", i, err->message);
            assert_true(json_is_null(result) || json_is_array(result));
            json_decref(result);
        } else {
            assert_null(result);
            assert_error(err, cases[i].code, cases[i].substring);
            g_clear_error(&err);
        }
    }
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_and_fail),
        cmocka_unit_test(test_parse_request),
        cmocka_unit_test(test_default_path),
#define WITH_SERVER(t) cmocka_unit_test_setup_teardown(t, fixture_setup_started, fixture_teardown)
#define WITH_DIR(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)
        WITH_SERVER(test_echo),
        WITH_SERVER(test_sequential_calls),
        WITH_SERVER(test_concurrent_calls),
        WITH_SERVER(test_remote_error),
        WITH_SERVER(test_oversize_request),
        WITH_SERVER(test_request_limit_boundary),
        WITH_SERVER(test_silent_client_does_not_block),
        WITH_SERVER(test_malformed_then_valid),
        WITH_SERVER(test_half_close),
        WITH_SERVER(test_half_close_large_answer),
        WITH_SERVER(test_pipelined_flood),
        WITH_SERVER(test_stream_answer),
        WITH_SERVER(test_stream_then_pipelined),
        WITH_SERVER(test_stream_client_gone),
        WITH_SERVER(test_too_many_clients),
        WITH_SERVER(test_modes),
        WITH_SERVER(test_already_running),
        WITH_SERVER(test_server_free_closes_clients),
        WITH_DIR(test_stale_socket_replaced),
        WITH_DIR(test_dir_mode_fixed),
        WITH_DIR(test_bad_locations),
        WITH_DIR(test_call_not_running),
        WITH_DIR(test_call_timeout),
        WITH_DIR(test_call_bad_answers),
#undef WITH_SERVER
#undef WITH_DIR
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    libevent_global_shutdown();
    return failed;
}
