/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/net/net.c: the driver table and the helpers drivers share. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <jansson.h>
#include <string.h>

#include "mention.h"
#include "net/net.h"

/* ---- driver table ------------------------------------------------------------ */

static void test_driver_table(void **unused)
{
    (void)unused;
    const struct net_driver *const *all = net_drivers();
    assert_non_null(all);
    int n = 0;
    for (const struct net_driver *const *d = all; *d; d++, n++) {
        assert_non_null((*d)->name);
        assert_non_null((*d)->begin);
        assert_non_null((*d)->handle);
        assert_ptr_equal(net_driver_find((*d)->name), *d);
        for (const struct net_driver *const *e = all; e != d; e++)
            assert_string_not_equal((*e)->name, (*d)->name);
    }
    assert_true(n >= 1);
    assert_non_null(net_driver_find("mastodon"));
    assert_null(net_driver_find("Mastodon"));
    assert_null(net_driver_find("myspace"));
    assert_null(net_driver_find(""));
    assert_null(net_driver_find(NULL));
}

/* ---- net_id_compare ---------------------------------------------------------- */

static void test_id_compare(void **unused)
{
    (void)unused;
    /* Length first: a longer numeric id is newer whatever its digits. */
    assert_int_equal(net_id_compare("113402875522116021", "99999999999999999"), 1);
    assert_int_equal(net_id_compare("99999999999999999", "113402875522116021"), -1);
    assert_int_equal(net_id_compare("10", "9"), 1);
    /* Same length: lexical. */
    assert_int_equal(net_id_compare("113402875522116021", "113402875522116020"), 1);
    assert_int_equal(net_id_compare("113402875522116020", "113402875522116021"), -1);
    assert_int_equal(net_id_compare("abc", "abd"), -1);
    /* Equal. */
    assert_int_equal(net_id_compare("113402875522116021", "113402875522116021"), 0);
    assert_int_equal(net_id_compare("7", "7"), 0);
    /* Result is normalised to -1/0/1. */
    assert_int_equal(net_id_compare("1", "9"), -1);
    assert_int_equal(net_id_compare("9", "1"), 1);
    /* Empty and NULL are the oldest possible and equal to each other. */
    assert_int_equal(net_id_compare("", ""), 0);
    assert_int_equal(net_id_compare(NULL, NULL), 0);
    assert_int_equal(net_id_compare(NULL, ""), 0);
    assert_int_equal(net_id_compare("", NULL), 0);
    assert_int_equal(net_id_compare(NULL, "1"), -1);
    assert_int_equal(net_id_compare("1", NULL), 1);
    assert_int_equal(net_id_compare("", "0"), -1);
}

/* ---- net_link_rel ----------------------------------------------------------- */

static void check_link(const char *header, const char *rel, const char *expected)
{
    char *got = net_link_rel(header, rel);
    const char *shown = header ? header : "(no header)"; /* some cases pass NULL on purpose */
    if (expected) {
        if (!got)
            fail_msg("rel=%s not found in %s", rel, shown);
        assert_string_equal(got, expected);
    } else if (got) {
        fail_msg("rel=%s unexpectedly found in %s: %s", rel, shown, got);
    }
    g_free(got);
}

static void test_link_rel_mastodon(void **unused)
{
    (void)unused;
    /* As mastodon.social sends it. */
    const char *h = "<https://mastodon.social/api/v1/notifications?max_id=541461666>; rel=\"next\", "
                    "<https://mastodon.social/api/v1/notifications?min_id=550622655>; rel=\"prev\"";
    check_link(h, "next", "https://mastodon.social/api/v1/notifications?max_id=541461666");
    check_link(h, "prev", "https://mastodon.social/api/v1/notifications?min_id=550622655");
    check_link(h, "last", NULL);
    /* Filter params echoed into the link. */
    check_link("<https://m.example/api/v1/notifications?max_id=21&types%5B%5D=mention>; rel=\"next\"", "next",
               "https://m.example/api/v1/notifications?max_id=21&types%5B%5D=mention");
    /* The documentation's example lacks rel on the second link. */
    h = "<https://m.example/api/v1/notifications?max_id=34975535>; rel=\"next\", "
        "<https://m.example/api/v1/notifications?min_id=34975861>";
    check_link(h, "next", "https://m.example/api/v1/notifications?max_id=34975535");
    check_link(h, "prev", NULL);
}

static void test_link_rel_forms(void **unused)
{
    (void)unused;
    check_link("<https://a.example/n>; rel=next", "next", "https://a.example/n");
    check_link("<https://a.example/n>;rel=\"next\"", "next", "https://a.example/n");
    check_link("<https://a.example/n> ; rel = \"next\"", "next", "https://a.example/n");
    check_link("<https://a.example/n>; REL=\"Next\"", "next", "https://a.example/n");
    /* Several relation types in one rel. */
    check_link("<https://a.example/both>; rel=\"next prev\"", "next", "https://a.example/both");
    check_link("<https://a.example/both>; rel=\"next prev\"", "prev", "https://a.example/both");
    check_link("<https://a.example/both>; rel=\"start next\"", "next", "https://a.example/both");
    /* Other parameters around rel, including a comma in a quoted title. */
    check_link("<https://a.example/t>; title=\"Next page, please\"; rel=\"next\"; type=\"application/json\"", "next",
               "https://a.example/t");
    check_link("<https://a.example/p>; rel=\"prev\", <https://a.example/n>; title=\"x\"; rel=\"next\"", "next",
               "https://a.example/n");
    /* A relation type is a whole word. */
    check_link("<https://a.example/n>; rel=\"nextpage\"", "next", NULL);
    check_link("<https://a.example/n>; rel=\"pre-next\"", "next", NULL);
    /* The first match wins. */
    check_link("<https://a.example/1>; rel=\"next\", <https://a.example/2>; rel=\"next\"", "next",
               "https://a.example/1");
}

static void test_link_rel_commas_in_urls(void **unused)
{
    (void)unused;
    check_link("<https://a.example/api?types=mention,follow&max_id=3>; rel=\"next\"", "next",
               "https://a.example/api?types=mention,follow&max_id=3");
    /* A URL that itself contains "rel=next" and commas is not a parameter. */
    const char *h = "<https://a.example/api?q=rel=next,x;y&max_id=9>; rel=\"prev\", "
                    "<https://a.example/api?a=1,2,3&max_id=5>; rel=\"next\"";
    check_link(h, "next", "https://a.example/api?a=1,2,3&max_id=5");
    check_link(h, "prev", "https://a.example/api?q=rel=next,x;y&max_id=9");
}

static void test_link_rel_missing_or_malformed(void **unused)
{
    (void)unused;
    check_link(NULL, "next", NULL);
    check_link("", "next", NULL);
    check_link("<https://a.example/n>", "next", NULL);                         /* no rel */
    check_link("<https://a.example/n>; title=\"next\"", "next", NULL);         /* not rel */
    check_link("<https://a.example/n>; rel=", "next", NULL);                   /* empty */
    check_link("<https://a.example/n>; rel", "next", NULL);                    /* no value */
    check_link("https://a.example/n; rel=\"next\"", "next", NULL);             /* no <...> */
    check_link("<https://a.example/n; rel=\"next\"", "next", NULL);            /* no '>' */
    check_link("rel=\"next\"", "next", NULL);
    check_link("<https://a.example/p>; rel=\"prev\", <https://a.example/n; rel=\"next\"", "next", NULL);
    check_link("garbage \x01\x02 <<>>", "next", NULL);
}

/* Only the parameter named exactly "rel" carries relation types (RFC 8288
 * §3): a parameter whose name merely starts with "rel" is not one. */
static void test_link_rel_param_name_exact(void **unused)
{
    (void)unused;
    check_link("<https://a.example/x>; relation=\"next\"", "next", NULL);
    check_link("<https://a.example/x>; relx=next, <https://a.example/n>; rel=next", "next", "https://a.example/n");
}

/* ---- net_parse_time ----------------------------------------------------------- */

static void test_parse_time(void **unused)
{
    (void)unused;
    /* 2026-08-01T13:55:00Z: Mastodon's X-RateLimit-Reset, with microseconds. */
    assert_int_equal(net_parse_time("2026-08-01T13:55:00.940463Z"), 1785592500);
    assert_int_equal(net_parse_time("2026-08-01T13:55:00.123Z"), 1785592500);
    assert_int_equal(net_parse_time("2024-01-01T00:00:00Z"), 1704067200);
    /* Offsets. */
    assert_int_equal(net_parse_time("2024-01-01T02:00:00+02:00"), 1704067200);
    assert_int_equal(net_parse_time("2023-12-31T19:00:00-05:00"), 1704067200);
    assert_int_equal(net_parse_time("2024-01-01T05:30:00.5+05:30"), 1704067200);
    /* A bare date (Mastodon's last_status_at) is midnight UTC. */
    assert_int_equal(net_parse_time("2024-01-01"), 1704067200);
    /* Before the epoch is not failure. */
    assert_int_equal(net_parse_time("1969-12-31T23:59:59Z"), -1);
}

static void test_parse_time_bad(void **unused)
{
    (void)unused;
    assert_int_equal(net_parse_time(NULL), 0);
    assert_int_equal(net_parse_time(""), 0);
    assert_int_equal(net_parse_time("yesterday"), 0);
    assert_int_equal(net_parse_time("1785592500"), 0);
    assert_int_equal(net_parse_time("2024-13-45T00:00:00Z"), 0);
    assert_int_equal(net_parse_time("2024-01-01T25:00:00Z"), 0);
    assert_int_equal(net_parse_time("2024-01-01T10:00:00Zjunk"), 0);
    /* No zone: ambiguous, not guessed. */
    assert_int_equal(net_parse_time("2024-01-01T10:00:00"), 0);
    assert_int_equal(net_parse_time("Mon, 01 Jan 2024 00:00:00 GMT"), 0);
}

/* ---- net_parse_json ------------------------------------------------------------ */

static void test_parse_json(void **unused)
{
    (void)unused;
    struct net_result res;
    net_result_init(&res);
    const char *body = "[{\"id\": \"1\"}]";
    struct wire_response resp = { .status = 200, .body = body, .body_len = strlen(body) };
    json_t *root = net_parse_json(&resp, &res, "notifications");
    assert_non_null(root);
    assert_true(json_is_array(root));
    assert_string_equal(json_string_value(json_object_get(json_array_get(root, 0), "id")), "1");
    assert_int_equal(res.outcome, NET_OK);
    assert_null(res.error);
    json_decref(root);

    /* Only body_len bytes count. */
    const char *longer = "{\"a\": 1}trailing garbage";
    resp.body = longer;
    resp.body_len = 8;
    root = net_parse_json(&resp, &res, "x");
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "a")), 1);
    json_decref(root);
    net_result_clear(&res);
}

static void test_parse_json_bad(void **unused)
{
    (void)unused;
    static const char *const bad[] = {
        "[{\"id\": \"1\"",           /* truncated */
        "{\"a\": 1}trailing garbage", /* trailing data */
        "{\"a\": 1, \"a\": 2}",       /* duplicate key */
        "<html>502 Bad Gateway</html>",
        "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct net_result res;
        net_result_init(&res);
        res.next = wire_request_new("GET", g_strdup("https://m.example/next"), 2);
        struct wire_response resp = { .status = 200, .body = bad[i], .body_len = strlen(bad[i]) };
        assert_null(net_parse_json(&resp, &res, "notifications"));
        assert_int_equal(res.outcome, NET_RETRY);
        assert_non_null(res.error);
        assert_true(g_str_has_prefix(res.error, "notifications: "));
        assert_null(res.next);
        net_result_clear(&res);
    }
    struct net_result res;
    net_result_init(&res);
    struct wire_response resp = { .status = 200, .body = NULL, .body_len = 0 };
    assert_null(net_parse_json(&resp, &res, "statuses"));
    assert_int_equal(res.outcome, NET_RETRY);
    net_result_clear(&res);
}

static void test_json_strdup(void **unused)
{
    (void)unused;
    json_t *o = json_pack("{s:s, s:i, s:n, s:s}", "id", "113402875522116021", "num", 5, "null", "empty", "");
    char *s = net_json_strdup(o, "id");
    assert_string_equal(s, "113402875522116021");
    g_free(s);
    s = net_json_strdup(o, "empty");
    assert_string_equal(s, "");
    g_free(s);
    assert_null(net_json_strdup(o, "num"));
    assert_null(net_json_strdup(o, "null"));
    assert_null(net_json_strdup(o, "missing"));
    assert_null(net_json_strdup(NULL, "id"));
    json_decref(o);
}

/* ---- net_uri_escape ------------------------------------------------------------- */

static void check_escape(const char *in, const char *expected)
{
    char *got = net_uri_escape(in);
    assert_string_equal(got, expected);
    g_free(got);
}

static void test_uri_escape(void **unused)
{
    (void)unused;
    check_escape("113402875522116021", "113402875522116021");
    check_escape("AZaz09-._~", "AZaz09-._~");
    check_escape("a b&c=d/e?f#g", "a%20b%26c%3Dd%2Fe%3Ff%23g");
    check_escape("caf\xC3\xA9", "caf%C3%A9");
    check_escape("100%", "100%25");
    check_escape("+", "%2B");
    check_escape("", "");
    check_escape(NULL, "");
}

/* ---- requests and responses ----------------------------------------------------- */

static void test_request_headers(void **unused)
{
    (void)unused;
    struct wire_request *req = wire_request_new("GET", g_strdup("https://m.example/api/v1/notifications"), 7);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->url, "https://m.example/api/v1/notifications");
    assert_int_equal(req->step, 7);
    assert_non_null(req->headers);
    assert_int_equal(req->headers->len, 0);
    assert_null(req->body);
    assert_null(req->content_type);

    wire_request_add_header(req, "Authorization: Bearer %s", "tok");
    wire_request_add_header(req, "X-Count: %d", 42);
    wire_request_add_header(req, "Accept: application/json");
    assert_int_equal(req->headers->len, 3);
    assert_string_equal(g_ptr_array_index(req->headers, 0), "Authorization: Bearer tok");
    assert_string_equal(g_ptr_array_index(req->headers, 1), "X-Count: 42");
    assert_string_equal(g_ptr_array_index(req->headers, 2), "Accept: application/json");

    req->body = g_strdup("{\"password\": \"secret\"}");
    req->content_type = g_strdup("application/json");
    wire_request_free(req);
    wire_request_free(NULL);
}

static void test_response_header(void **unused)
{
    (void)unused;
    struct wire_response resp = { .status = 200 };
    assert_null(wire_response_header(&resp, "link"));
    resp.headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(resp.headers, g_strdup("x-ratelimit-remaining"), g_strdup("299"));
    assert_string_equal(wire_response_header(&resp, "x-ratelimit-remaining"), "299");
    assert_null(wire_response_header(&resp, "link"));
    g_hash_table_unref(resp.headers);
}

/* ---- net_server_time_to_local ------------------------------------------------ */

static void test_server_time_to_local(void **unused)
{
    (void)unused;
    struct net_account acct = { .name = "t", .now = 1700000000 };
    struct wire_response resp = { .status = 429 };
    resp.headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    /* No Date: the server's time is taken as it is; 0 stays 0. */
    assert_int_equal(net_server_time_to_local(&acct, &resp, 1700000060), 1700000060);
    assert_int_equal(net_server_time_to_local(&acct, &resp, 0), 0);
    /* The server's clock is 1000 s behind ours: a reset 60 s after its
     * "now" is 60 s after ours. */
    g_hash_table_insert(resp.headers, g_strdup("date"), g_strdup("Tue, 14 Nov 2023 22:13:20 GMT")); /* 1700000000 */
    acct.now = 1700001000;
    assert_int_equal(net_server_time_to_local(&acct, &resp, 1700000060), 1700001060);
    assert_int_equal(net_server_time_to_local(&acct, &resp, 0), 0);
    assert_int_equal(net_server_time_to_local(&acct, &resp, -5), 0);
    g_hash_table_unref(resp.headers);
}

/* A hostile server: a reset near INT64_MAX with a Date from 1970 (or the far
 * future with a reset from 1970) must saturate, never overflow. */
static void test_server_time_to_local_saturates(void **unused)
{
    (void)unused;
    struct net_account acct = { .name = "t", .now = 1700000000 };
    struct wire_response resp = { .status = 429 };
    resp.headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(resp.headers, g_strdup("date"), g_strdup("Thu, 01 Jan 1970 00:00:01 GMT"));
    assert_true(net_server_time_to_local(&acct, &resp, INT64_MAX) == INT64_MAX);
    /* now + (reset - 1): the first reset past INT64_MAX saturates, the ones
     * below it are exact. */
    assert_true(net_server_time_to_local(&acct, &resp, INT64_MAX - 1700000000 + 2) == INT64_MAX);
    assert_true(net_server_time_to_local(&acct, &resp, INT64_MAX - 1700000000 + 1) == INT64_MAX);
    assert_true(net_server_time_to_local(&acct, &resp, INT64_MAX - 1700000000) == INT64_MAX - 1);
    assert_true(net_server_time_to_local(&acct, &resp, 2) == 1700000001);

    /* Downwards: a local clock far below zero and a Date far ahead. */
    g_hash_table_insert(resp.headers, g_strdup("date"), g_strdup("Fri, 31 Dec 9999 23:59:59 GMT"));
    acct.now = INT64_MIN + 10;
    assert_true(net_server_time_to_local(&acct, &resp, 1) == INT64_MIN);
    acct.now = 1700000000;
    int64_t t = net_server_time_to_local(&acct, &resp, 1);
    assert_true(t < acct.now);
    g_hash_table_unref(resp.headers);
}

static void test_result_lifecycle(void **unused)
{
    (void)unused;
    struct net_result res;
    memset(&res, 0xA5, sizeof res);
    net_result_init(&res);
    assert_int_equal(res.outcome, NET_OK);
    assert_non_null(res.mentions);
    assert_int_equal(res.mentions->len, 0);
    assert_non_null(res.replies);
    assert_int_equal(res.replies->len, 0);
    assert_null(res.next);
    assert_false(res.state_changed);
    assert_false(res.initial_sync);
    assert_int_equal(res.retry_at, 0);
    assert_int_equal(res.poll_interval, 0);
    assert_int_equal(res.rate_remaining, -1);
    assert_null(res.error);
    assert_null(res.notice);

    /* Everything it owns is freed by clear (valgrind/ASan check the rest). */
    struct mention *m = mention_new();
    m->remote_id = g_strdup("1");
    m->text = g_strdup("hello");
    g_ptr_array_add(res.mentions, m);
    struct net_reply *r = g_new0(struct net_reply, 1);
    r->remote_id = g_strdup("2");
    r->to_author_id = g_strdup("3");
    r->to_post_id = g_strdup("4");
    g_ptr_array_add(res.replies, r);
    res.next = wire_request_new("GET", g_strdup("https://m.example/"), 1);
    wire_request_add_header(res.next, "Authorization: Bearer %s", "tok");
    res.notice = g_strdup("a notice");

    net_result_fail(&res, NET_RETRY, "HTTP %d: %s", 503, "busy");
    assert_int_equal(res.outcome, NET_RETRY);
    assert_string_equal(res.error, "HTTP 503: busy");
    assert_null(res.next);
    /* Mentions already parsed stay; the engine decides. */
    assert_int_equal(res.mentions->len, 1);

    /* A second failure replaces the first message. */
    net_result_fail(&res, NET_AUTH, "HTTP %d", 401);
    assert_int_equal(res.outcome, NET_AUTH);
    assert_string_equal(res.error, "HTTP 401");

    net_result_clear(&res);
    assert_null(res.mentions);
    assert_null(res.replies);
    assert_null(res.next);
    assert_null(res.error);
    assert_null(res.notice);
    /* Clearing twice is harmless. */
    net_result_clear(&res);

    /* Re-initialised after clear, it is fresh again. */
    net_result_init(&res);
    assert_int_equal(res.rate_remaining, -1);
    assert_int_equal(res.mentions->len, 0);
    net_result_clear(&res);

    net_reply_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_table),
        cmocka_unit_test(test_id_compare),
        cmocka_unit_test(test_link_rel_mastodon),
        cmocka_unit_test(test_link_rel_forms),
        cmocka_unit_test(test_link_rel_commas_in_urls),
        cmocka_unit_test(test_link_rel_missing_or_malformed),
        cmocka_unit_test(test_link_rel_param_name_exact),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_time_bad),
        cmocka_unit_test(test_parse_json),
        cmocka_unit_test(test_parse_json_bad),
        cmocka_unit_test(test_json_strdup),
        cmocka_unit_test(test_uri_escape),
        cmocka_unit_test(test_request_headers),
        cmocka_unit_test(test_response_header),
        cmocka_unit_test(test_result_lifecycle),
        cmocka_unit_test(test_server_time_to_local),
        cmocka_unit_test(test_server_time_to_local_saturates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
