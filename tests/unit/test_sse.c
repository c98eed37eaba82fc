/* SPDX-License-Identifier: MIT */
/* Unit tests for the server-sent-events parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glib.h>
#include <string.h>

#include "sse.h"

struct got {
    GPtrArray *events; /* "name|data" */
};

static void on_event(const char *event, const char *data, size_t len, void *ud)
{
    struct got *g = ud;
    assert_int_equal(strlen(data), len);
    g_ptr_array_add(g->events, g_strdup_printf("%s|%s", event, data));
}

static struct got *got_new(void)
{
    struct got *g = g_new0(struct got, 1);
    g->events = g_ptr_array_new_with_free_func(g_free);
    return g;
}

static void got_free(struct got *g)
{
    g_ptr_array_unref(g->events);
    g_free(g);
}

static const char mastodon_stream[] =
    ":)\n"
    "event: notification\n"
    "data: {\"id\":\"1\",\"type\":\"mention\"}\n"
    "\n"
    ":thump\n"
    "event: update\r\n"
    "data: line one\r\n"
    "data: line two\r\n"
    "\r\n"
    "event: delete\r"
    "data: 42\r"
    "\r";

static void test_whole_stream(void **state)
{
    (void)state;
    struct got *g = got_new();
    struct sse *p = sse_new(on_event, g);
    assert_true(sse_feed(p, mastodon_stream, strlen(mastodon_stream)));
    assert_int_equal(g->events->len, 3);
    assert_string_equal(g_ptr_array_index(g->events, 0), "notification|{\"id\":\"1\",\"type\":\"mention\"}");
    assert_string_equal(g_ptr_array_index(g->events, 1), "update|line one\nline two");
    assert_string_equal(g_ptr_array_index(g->events, 2), "delete|42");
    assert_int_equal(sse_comments(p), 2);
    sse_free(p);
    got_free(g);
}

/* Every split point, including inside "\r\n", must give the same events. */
static void test_every_split(void **state)
{
    (void)state;
    size_t n = strlen(mastodon_stream);
    for (size_t cut = 0; cut <= n; cut++) {
        for (size_t cut2 = cut; cut2 <= n; cut2 += 7) {
            struct got *g = got_new();
            struct sse *p = sse_new(on_event, g);
            assert_true(sse_feed(p, mastodon_stream, cut));
            assert_true(sse_feed(p, mastodon_stream + cut, cut2 - cut));
            assert_true(sse_feed(p, mastodon_stream + cut2, n - cut2));
            assert_int_equal(g->events->len, 3);
            assert_string_equal(g_ptr_array_index(g->events, 1), "update|line one\nline two");
            assert_int_equal(sse_comments(p), 2);
            sse_free(p);
            got_free(g);
        }
    }
}

static void test_half_event_not_dispatched(void **state)
{
    (void)state;
    struct got *g = got_new();
    struct sse *p = sse_new(on_event, g);
    const char *s = "event: notification\ndata: {\"id\":\"7\",";
    assert_true(sse_feed(p, s, strlen(s)));
    assert_int_equal(g->events->len, 0);
    sse_free(p); /* the connection dropped: nothing half-parsed came out */
    got_free(g);
}

static void test_fields(void **state)
{
    (void)state;
    struct got *g = got_new();
    struct sse *p = sse_new(on_event, g);
    /* No space after the colon, a field without a colon, unknown fields,
     * data without an event name, an event without data (not dispatched). */
    const char *s = "data:x\nid: 5\nretry: 100\nfoo\n\nevent: empty\n\ndata\n\n";
    assert_true(sse_feed(p, s, strlen(s)));
    assert_int_equal(g->events->len, 2);
    assert_string_equal(g_ptr_array_index(g->events, 0), "message|x");
    assert_string_equal(g_ptr_array_index(g->events, 1), "message|");
    sse_free(p);
    got_free(g);
}

static void test_overlong_line_poisons(void **state)
{
    (void)state;
    struct got *g = got_new();
    struct sse *p = sse_new(on_event, g);
    char *big = g_malloc(SSE_MAX_LINE + 10);
    memset(big, 'a', SSE_MAX_LINE + 10);
    assert_false(sse_feed(p, big, SSE_MAX_LINE + 10));
    assert_false(sse_feed(p, "\n\n", 2));
    assert_int_equal(g->events->len, 0);
    g_free(big);
    sse_free(p);
    got_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_stream),
        cmocka_unit_test(test_every_split),
        cmocka_unit_test(test_half_event_not_dispatched),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_overlong_line_poisons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
