/* SPDX-License-Identifier: MIT */
/* http: what never reaches curl. file:// only when the caller allows it
 * (the demo), anything else that is not https refused, both answered on the
 * loop like any transfer; a cancelled one never answers. (Real transfers
 * over TLS are tested end to end in tests/integration.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "http.h"

struct answer {
    struct event_base *base;
    int calls;
    long status;
    char *body;
    char *error;
    bool transient;
};

static void done(struct http_result *res, void *arg)
{
    struct answer *a = arg;
    a->calls++;
    a->status = res->status;
    a->body = res->body ? g_strndup((const char *)res->body->data, res->body->len) : NULL;
    a->error = g_strdup(res->error);
    a->transient = res->transient;
}

static void run(struct event_base *base)
{
    struct timeval limit = { 2, 0 };
    event_base_loopexit(base, &limit);
    event_base_dispatch(base);
}

static void fetch(struct http *h, struct event_base *base, const char *url, bool local, struct answer *a)
{
    struct wire_request *req = wire_request_new("GET", g_strdup(url), 0);
    struct http_options ho = { .local_files = local };
    *a = (struct answer){ .base = base };
    assert_non_null(http_start(h, req, &ho, done, a));
    assert_int_equal(a->calls, 0); /* never from inside http_start */
    run(base);
    wire_request_free(req);
}

static void test_local_and_refused(void **unused)
{
    (void)unused;
    g_autofree char *dir = g_dir_make_tmp("heed-http-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "sample.json", NULL);
    assert_true(g_file_set_contents(path, "[1,2,3]", -1, NULL));
    g_autofree char *url = g_strconcat("file://", path, NULL);
    struct event_base *base = event_base_new();
    struct http *h = http_new(base, NULL);
    assert_non_null(h);
    struct answer a;

    fetch(h, base, url, true, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, 200);
    assert_string_equal(a.body, "[1,2,3]");
    g_free(a.body);
    g_free(a.error);

    fetch(h, base, url, false, &a);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, 0);
    assert_false(a.transient);
    assert_string_equal(a.error, "local files are only for the demo network");
    g_free(a.body);
    g_free(a.error);

    static const char *const refused[] = { "http://example.invalid/", "ftp://example.invalid/x", "example.invalid" };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        fetch(h, base, refused[i], true, &a);
        assert_int_equal(a.calls, 1);
        assert_int_equal(a.status, 0);
        assert_string_equal(a.error, "refusing a request that is not https");
        g_free(a.body);
        g_free(a.error);
    }

    /* Cancelled before the loop turns: no answer. */
    struct wire_request *req = wire_request_new("GET", g_strdup(url), 0);
    struct http_options ho = { .local_files = true };
    a = (struct answer){ .base = base };
    http_cancel(h, http_start(h, req, &ho, done, &a));
    run(base);
    assert_int_equal(a.calls, 0);
    wire_request_free(req);

    /* A file missing: said, not transient. */
    g_autofree char *gone = g_strconcat("file://", dir, "/missing.json", NULL);
    fetch(h, base, gone, true, &a);
    assert_int_equal(a.status, 0);
    assert_non_null(a.error);
    g_free(a.body);
    g_free(a.error);

    http_free(h);
    event_base_free(base);
    g_unlink(path);
    g_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_local_and_refused) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
