/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/net/github.c: the driver is pure, so each test builds
 * an account, a state and a response (fixtures from tests/data/github) and
 * checks the request, the mentions and the state that come out. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "log.h"
#include "net/net.h"

#ifndef HEED_TEST_DATA
#error "HEED_TEST_DATA must name the tests/data directory"
#endif

#define TOKEN "ghp_0123456789abcdefTOKENabcdef0123456789"
#define NOW 1772445600 /* 2026-03-02T10:00:00Z */
#define API "https://api.github.com"
#define LM1 "Mon, 02 Mar 2026 10:15:00 GMT"
#define LM2 "Mon, 02 Mar 2026 10:20:00 GMT"

static const struct net_driver *gh(void)
{
    const struct net_driver *d = net_driver_find("github");
    assert_non_null(d);
    return d;
}

static struct net_account account(const char *server)
{
    return (struct net_account){
        .name = "gh-test",
        .network = "github",
        .server = server,
        .secret = TOKEN,
        .reasons = NULL,
        .participating = true,
        .catchup_max_pages = 10,
        .now = NOW,
    };
}

/* A response; headers are "name", "value" pairs ending with NULL. */
struct resp {
    struct wire_response r;
    char *body;
};

static void resp_init(struct resp *rs, long status, const char *body, size_t len, ...)
{
    memset(rs, 0, sizeof *rs);
    rs->body = body ? g_memdup2(body, len + 1) : NULL;
    rs->r.status = status;
    rs->r.body = rs->body;
    rs->r.body_len = body ? len : 0;
    rs->r.headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    va_list ap;
    va_start(ap, len);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        g_hash_table_replace(rs->r.headers, g_ascii_strdown(name, -1), g_strdup(value));
    }
    va_end(ap);
}

static void resp_clear(struct resp *rs)
{
    g_hash_table_unref(rs->r.headers);
    g_free(rs->body);
}

static char *fixture(const char *name, size_t *len)
{
    g_autofree char *path = g_strconcat(HEED_TEST_DATA "/github/", name, NULL);
    char *data = NULL;
    gsize n = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &data, &n, &err))
        fail_msg("cannot read %s: %s", path, err->message);
    *len = n;
    return data;
}

static const char *header(const struct wire_request *req, const char *name)
{
    size_t n = strlen(name);
    for (guint i = 0; i < req->headers->len; i++) {
        const char *h = g_ptr_array_index(req->headers, i);
        if (g_ascii_strncasecmp(h, name, n) == 0 && h[n] == ':')
            return h + n + 2;
    }
    return NULL;
}

/* Run one response through handle() for a request of the given step. */
static void run(const struct net_account *acct, json_t *state, int step, struct resp *rs, struct net_result *out)
{
    struct wire_request *req = wire_request_new("GET", g_strdup(API "/notifications"), step);
    net_result_init(out);
    gh()->handle(acct, state, req, &rs->r, out);
    wire_request_free(req);
}

static void run_fixture(const struct net_account *acct, json_t *state, int step, const char *name,
                        struct net_result *out)
{
    size_t len;
    g_autofree char *body = fixture(name, &len);
    struct resp rs;
    resp_init(&rs, 200, body, len, "Last-Modified", LM1, "X-Poll-Interval", "60", "X-RateLimit-Remaining",
              "4999", "X-RateLimit-Reset", "1772449200", NULL);
    run(acct, state, step, &rs, out);
    resp_clear(&rs);
}

static struct mention *find(struct net_result *out, const char *post_id)
{
    for (guint i = 0; i < out->mentions->len; i++) {
        struct mention *m = g_ptr_array_index(out->mentions, i);
        if (g_strcmp0(m->post_id, post_id) == 0)
            return m;
    }
    return NULL;
}

static json_t *initialized_state(void)
{
    return json_pack("{s:b, s:s, s:I}", "initialized", 1, "last_modified", LM1, "newest", (json_int_t)NOW);
}

/* ---- begin ------------------------------------------------------------------ */

static void test_driver_table(void **st)
{
    (void)st;
    const struct net_driver *d = gh();
    assert_string_equal(d->default_server, "https://api.github.com");
    assert_string_equal(d->web_host, "github.com");
    assert_true(d->needs_secret);
    assert_null(d->history_begin);
}

static void test_begin_first_run(void **st)
{
    (void)st;
    struct net_account a = account(API);
    g_autoptr(json_t) state = json_object();
    char *err = NULL;
    struct wire_request *req = gh()->begin(&a, state, &err);
    assert_non_null(req);
    assert_null(err);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->url, API "/notifications?participating=true&per_page=50");
    assert_string_equal(header(req, "Authorization"), "Bearer " TOKEN);
    assert_string_equal(header(req, "Accept"), "application/vnd.github+json");
    assert_string_equal(header(req, "X-GitHub-Api-Version"), "2022-11-28");
    assert_null(header(req, "If-Modified-Since"));
    wire_request_free(req);

    a.participating = false;
    req = gh()->begin(&a, state, &err);
    assert_string_equal(req->url, API "/notifications?participating=false&per_page=50");
    wire_request_free(req);
}

static void test_if_modified_since_sent(void **st)
{
    (void)st;
    struct net_account a = account(API);
    g_autoptr(json_t) state = initialized_state();
    json_object_set_new(state, "poll_pages", json_integer(3));
    char *err = NULL;
    struct wire_request *req = gh()->begin(&a, state, &err);
    assert_non_null(req);
    assert_string_equal(header(req, "If-Modified-Since"), LM1);
    /* A poll in flight before a restart is not resumed. */
    assert_null(json_object_get(state, "poll_pages"));
    wire_request_free(req);

    /* A damaged saved value never becomes a second header. */
    json_object_set_new(state, "last_modified", json_string(LM1 "\r\nX-Evil: 1"));
    req = gh()->begin(&a, state, &err);
    assert_null(header(req, "If-Modified-Since"));
    for (guint i = 0; i < req->headers->len; i++)
        assert_null(strstr(g_ptr_array_index(req->headers, i), "X-Evil"));
    wire_request_free(req);
}

/* ---- parsing ---------------------------------------------------------------- */

static void test_first_run_fixture(void **st)
{
    (void)st;
    struct net_account a = account(API);
    g_autoptr(json_t) state = json_object();
    struct net_result out;
    run_fixture(&a, state, 1, "notifications.json", &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_null(out.error);
    assert_true(out.initial_sync);
    assert_true(out.state_changed);
    assert_null(out.next);
    assert_int_equal(out.poll_interval, 60);
    assert_int_equal(out.rate_remaining, 4999);
    assert_int_equal(out.retry_at, 0);
    /* subscribed (…05) and comment (…07) are not watched by default. */
    assert_int_equal(out.mentions->len, 7);
    assert_null(find(&out, "9000000005"));
    assert_null(find(&out, "9000000007"));

    struct mention *m = find(&out, "9000000001");
    assert_non_null(m);
    assert_string_equal(m->account, "gh-test");
    assert_string_equal(m->network, "github");
    assert_int_equal(m->kind, MENTION_KIND_REVIEW);
    assert_string_equal(m->remote_id, "9000000001@2026-03-02T10:15:00Z");
    assert_string_equal(m->thread_id, "9000000001");
    assert_string_equal(m->author_id, "octo-org/widgets");
    assert_string_equal(m->author_handle, "octo-org/widgets");
    assert_string_equal(m->author_name, "octo-org/widgets");
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/pull/42");
    assert_string_equal(m->context, "octo-org/widgets · PullRequest #42 Parse Link headers without regex");
    assert_string_equal(m->text, "Parse Link headers without regex (review requested)");
    assert_int_equal(m->created_at, 1772446500);
    assert_int_equal(m->mention_count, 1);
    assert_int_equal(m->author_bot, MENTION_UNKNOWN);

    m = find(&out, "9000000002");
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/issues/7#issuecomment-1234567");
    /* The bidi override is gone; the '<' stays plain text (escaping is the notifier's job). */
    assert_string_equal(m->text, "Crash when the <title> has bidi tricks (you were mentioned)");
    assert_null(strstr(m->context, "\u202e"));

    m = find(&out, "9000000003");
    assert_int_equal(m->kind, MENTION_KIND_ASSIGN);
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/issues/8");
    assert_string_equal(m->text, "Document the config file (assigned to you)");
    assert_string_equal(m->context, "octo-org/widgets · Issue #8 Document the config file");

    m = find(&out, "9000000004");
    assert_int_equal(m->kind, MENTION_KIND_TEAM);
    assert_string_equal(m->url, "https://github.com/octo-org/gadgets/pull/43#issuecomment-999");
    assert_string_equal(m->text, "Drop support for libfoo 1.x? (your team was mentioned)");
    assert_string_equal(m->author_handle, "octo-org/gadgets");

    /* Discussion without a subject URL: the repository page. */
    m = find(&out, "9000000006");
    assert_string_equal(m->url, "https://github.com/octo-org/widgets");
    assert_string_equal(m->context, "octo-org/widgets · Discussion Ideas for 3.0");

    /* A pull request review comment. */
    m = find(&out, "9000000008");
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/pull/44#discussion_r55501");

    /* Read elsewhere (unread=false) is still kept: glanced at is not answered. */
    m = find(&out, "9000000009");
    assert_non_null(m);
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/commit/0123456789abcdef0123456789abcdef01234567");

    assert_true(json_is_true(json_object_get(state, "initialized")));
    assert_string_equal(json_string_value(json_object_get(state, "last_modified")), LM1);
    assert_int_equal(json_integer_value(json_object_get(state, "newest")), 1772446500);
    net_result_clear(&out);
}

static void test_custom_reasons(void **st)
{
    (void)st;
    static const char *const reasons[] = { "comment", "subscribed", NULL };
    struct net_account a = account(API);
    a.reasons = reasons;
    g_autoptr(json_t) state = initialized_state();
    struct net_result out;
    run_fixture(&a, state, 1, "notifications.json", &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_false(out.initial_sync);
    assert_int_equal(out.mentions->len, 2);
    struct mention *m = find(&out, "9000000007");
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_string_equal(m->text, "Flaky test on arm64 (on a thread you commented on)");
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/issues/9#issuecomment-777");
    m = find(&out, "9000000005");
    assert_string_equal(m->text, "Release 2.0 (subscribed)");
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/releases");
    net_result_clear(&out);
}

static void test_enterprise_urls(void **st)
{
    (void)st;
    struct net_account a = account("https://ghe.example.com/api/v3");
    g_autoptr(json_t) state = json_object();
    struct net_result out;
    run_fixture(&a, state, 1, "enterprise.json", &out);
    assert_int_equal(out.mentions->len, 2);
    assert_string_equal(find(&out, "101")->url, "https://ghe.example.com/infra/images/pull/5#issuecomment-77");
    /* A subject on another host is not trusted, nor is an html_url elsewhere. */
    assert_string_equal(find(&out, "102")->url, "https://ghe.example.com/infra/images");
    net_result_clear(&out);

    char *err = NULL;
    struct wire_request *req = gh()->begin(&a, state, &err);
    assert_string_equal(req->url, "https://ghe.example.com/api/v3/notifications?participating=true&per_page=50");
    wire_request_free(req);
}

static void test_test_server_urls(void **st)
{
    (void)st;
    /* A fake server on a port: the web links keep host and port. */
    struct net_account a = account("https://127.0.0.1:8443");
    const char *body =
        "[{\"id\":\"5\",\"reason\":\"review_requested\",\"updated_at\":\"2026-03-02T10:00:00Z\","
        "\"subject\":{\"title\":\"T\",\"url\":\"https://127.0.0.1:8443/repos/o/r/pulls/3\","
        "\"latest_comment_url\":\"https://127.0.0.1:8443/repos/o/r/issues/comments/9\",\"type\":\"PullRequest\"},"
        "\"repository\":{\"full_name\":\"o/r\",\"html_url\":\"https://127.0.0.1:8443/o/r\"}}]";
    g_autoptr(json_t) state = json_object();
    struct resp rs;
    resp_init(&rs, 200, body, strlen(body), NULL);
    struct net_result out;
    run(&a, state, 1, &rs, &out);
    assert_int_equal(out.mentions->len, 1);
    struct mention *m = g_ptr_array_index(out.mentions, 0);
    assert_string_equal(m->url, "https://127.0.0.1:8443/o/r/pull/3#issuecomment-9");
    /* No Last-Modified: nothing to ask conditionally next time. */
    assert_null(json_object_get(state, "last_modified"));
    net_result_clear(&out);
    resp_clear(&rs);
}

static void test_identity_follows_updated_at(void **st)
{
    (void)st;
    struct net_account a = account(API);
#define IDENTITY_BODY                                                                                       \
    "[{\"id\":\"77\",\"reason\":\"mention\",\"updated_at\":\"%s\","                                             \
    "\"subject\":{\"title\":\"T\",\"url\":\"https://api.github.com/repos/o/r/issues/1\","                         \
    "\"latest_comment_url\":null,\"type\":\"Issue\"},\"repository\":{\"full_name\":\"o/r\"}}]"
    const char *times[] = { "2026-03-02T10:00:00Z", "2026-03-02T10:00:00+00:00", "2026-03-02T11:30:00Z" };
    char *ids[3];
    for (int i = 0; i < 3; i++) {
        g_autofree char *body = g_strdup_printf(IDENTITY_BODY, times[i]);
        g_autoptr(json_t) state = initialized_state();
        struct resp rs;
        resp_init(&rs, 200, body, strlen(body), NULL);
        struct net_result out;
        run(&a, state, 1, &rs, &out);
        assert_int_equal(out.mentions->len, 1);
        struct mention *m = g_ptr_array_index(out.mentions, 0);
        assert_string_equal(m->post_id, "77");
        assert_string_equal(m->thread_id, "77");
        ids[i] = g_strdup(m->remote_id);
        net_result_clear(&out);
        resp_clear(&rs);
    }
    /* The same moment is the same event however it is spelled; new activity is a new one. */
    assert_string_equal(ids[0], "77@2026-03-02T10:00:00Z");
    assert_string_equal(ids[0], ids[1]);
    assert_string_equal(ids[2], "77@2026-03-02T11:30:00Z");
    for (int i = 0; i < 3; i++)
        g_free(ids[i]);
}

/* ---- conditional requests, poll interval -------------------------------------- */

static void test_not_modified(void **st)
{
    (void)st;
    struct net_account a = account(API);
    g_autoptr(json_t) state = initialized_state();
    g_autoptr(json_t) before = json_deep_copy(state);
    struct resp rs;
    resp_init(&rs, 304, "", 0, "Last-Modified", LM1, "X-Poll-Interval", "120", "X-RateLimit-Remaining", "4321",
              "X-RateLimit-Reset", "1772449200", NULL);
    struct net_result out;
    run(&a, state, 1, &rs, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_null(out.error);
    assert_int_equal(out.mentions->len, 0);
    assert_null(out.next);
    assert_false(out.state_changed);
    assert_false(out.initial_sync);
    assert_int_equal(out.poll_interval, 120);
    assert_int_equal(out.rate_remaining, 4321);
    assert_int_equal(out.retry_at, 0);
    assert_true(json_equal(state, before));
    net_result_clear(&out);
    resp_clear(&rs);
}

static void test_poll_interval_header(void **st)
{
    (void)st;
    struct net_account a = account(API);
    const char *values[] = { "3", " 45 ", "0", "-5", "soon", "999999999" };
    const int want[] = { 3, 45, 0, 0, 0, 86400 };
    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        g_autoptr(json_t) state = initialized_state();
        struct resp rs;
        resp_init(&rs, 200, "[]", 2, "X-Poll-Interval", values[i], NULL);
        struct net_result out;
        run(&a, state, 1, &rs, &out);
        assert_int_equal(out.outcome, NET_OK);
        if (out.poll_interval != want[i])
            fail_msg("X-Poll-Interval %s gave %d, want %d", values[i], out.poll_interval, want[i]);
        net_result_clear(&out);
        resp_clear(&rs);
    }
}

/* ---- paging ------------------------------------------------------------------- */

static char *page_body(int first_id, int n, int64_t newest_updated)
{
    GString *s = g_string_new("[");
    for (int i = 0; i < n; i++) {
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(newest_updated - i * 60);
        g_autofree char *iso = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
        g_string_append_printf(s,
                               "%s{\"id\":\"%d\",\"reason\":\"mention\",\"updated_at\":\"%s\","
                               "\"subject\":{\"title\":\"Thread %d\",\"url\":\"https://api.github.com/repos/o/r/"
                               "issues/%d\",\"latest_comment_url\":null,\"type\":\"Issue\"},"
                               "\"repository\":{\"full_name\":\"o/r\"}}",
                               i ? "," : "", first_id + i, iso, first_id + i, first_id + i);
    }
    g_string_append(s, "]");
    return g_string_free(s, FALSE);
}

static void test_paging_follows_link(void **st)
{
    (void)st;
    struct net_account a = account(API);
    g_autoptr(json_t) state = initialized_state();
    json_object_set_new(state, "newest", json_integer(NOW - 86400)); /* a day of downtime */

    /* Page 1: full, newer than anything seen, with a next link. */
    g_autofree char *b1 = page_body(1000, 50, NOW);
    struct resp rs;
    resp_init(&rs, 200, b1, strlen(b1), "Last-Modified", LM2, "X-Poll-Interval", "60", "Link",
              "<https://api.github.com/notifications?participating=true&per_page=50&page=2>; rel=\"next\", "
              "<https://api.github.com/notifications?participating=true&per_page=50&page=4>; rel=\"last\"",
              NULL);
    struct net_result out;
    run(&a, state, 1, &rs, &out);
    resp_clear(&rs);
    assert_int_equal(out.outcome, NET_OK);
    assert_false(out.initial_sync);
    assert_int_equal(out.mentions->len, 50);
    assert_non_null(out.next);
    assert_string_equal(out.next->url, API "/notifications?participating=true&per_page=50&page=2");
    assert_string_equal(header(out.next, "Authorization"), "Bearer " TOKEN);
    assert_null(header(out.next, "If-Modified-Since"));
    /* The cursor moves only when the poll completes. */
    assert_false(out.state_changed);
    assert_string_equal(json_string_value(json_object_get(state, "last_modified")), LM1);
    int step = out.next->step;
    net_result_clear(&out);

    /* Page 2: the last one. Its own Last-Modified is not the one to keep. */
    g_autofree char *b2 = page_body(2000, 10, NOW - 3000);
    resp_init(&rs, 200, b2, strlen(b2), "Last-Modified", "Tue, 03 Mar 2026 00:00:00 GMT", NULL);
    run(&a, state, step, &rs, &out);
    resp_clear(&rs);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.mentions->len, 10);
    assert_null(out.next);
    assert_true(out.state_changed);
    assert_string_equal(json_string_value(json_object_get(state, "last_modified")), LM2);
    assert_int_equal(json_integer_value(json_object_get(state, "newest")), NOW);
    assert_null(json_object_get(state, "poll_pages"));
    assert_null(json_object_get(state, "poll_last_modified"));
    assert_null(json_object_get(state, "poll_newest"));
    net_result_clear(&out);
}

static void test_paging_limits(void **st)
{
    (void)st;
    struct net_account a = account(API);
    const char *link = "<https://api.github.com/notifications?page=2>; rel=\"next\"";
    g_autofree char *body = page_body(1000, 50, NOW);
    struct net_result out;
    struct resp rs;

    /* First start: reads on while the threads are from the last 7 days... */
    {
        g_autoptr(json_t) state = json_object();
        resp_init(&rs, 200, body, strlen(body), "Link", link, "Last-Modified", LM1, NULL);
        run(&a, state, 1, &rs, &out);
        resp_clear(&rs);
        assert_true(out.initial_sync);
        assert_non_null(out.next);
        assert_false(out.state_changed);
        net_result_clear(&out);
    }
    /* ...and stops at a page that reaches further back, without a gap notice. */
    {
        g_autoptr(json_t) state = json_object();
        g_autofree char *old = page_body(2000, 50, NOW - 8 * 86400);
        resp_init(&rs, 200, old, strlen(old), "Link", link, "Last-Modified", LM1, NULL);
        run(&a, state, 1, &rs, &out);
        resp_clear(&rs);
        assert_true(out.initial_sync);
        assert_null(out.next);
        assert_null(out.notice);
        assert_true(out.state_changed);
        assert_int_equal(out.mentions->len, 50);
        net_result_clear(&out);
    }
    /* ...or at catchup_max_pages, also without a notice. */
    {
        g_autoptr(json_t) state = json_object();
        struct net_account one = a;
        one.catchup_max_pages = 1;
        resp_init(&rs, 200, body, strlen(body), "Link", link, "Last-Modified", LM1, NULL);
        run(&one, state, 1, &rs, &out);
        resp_clear(&rs);
        assert_true(out.initial_sync);
        assert_null(out.next);
        assert_null(out.notice);
        assert_true(out.state_changed);
        net_result_clear(&out);
    }
    /* A link to another host is not followed with the token. */
    {
        g_autoptr(json_t) state = initialized_state();
        json_object_set_new(state, "newest", json_integer(NOW - 86400));
        resp_init(&rs, 200, body, strlen(body), "Link",
                  "<https://api.github.com.evil.example/notifications?page=2>; rel=\"next\"", NULL);
        run(&a, state, 1, &rs, &out);
        resp_clear(&rs);
        assert_int_equal(out.outcome, NET_OK);
        assert_null(out.next);
        assert_true(out.state_changed);
        net_result_clear(&out);
    }
    /* A page that reaches what a complete poll saw ends the poll. */
    {
        g_autoptr(json_t) state = initialized_state();
        json_object_set_new(state, "newest", json_integer(NOW - 600));
        g_autofree char *older = page_body(1000, 50, NOW - 2000); /* down to NOW - 4940 */
        resp_init(&rs, 200, older, strlen(older), "Link", link, NULL);
        run(&a, state, 1, &rs, &out);
        resp_clear(&rs);
        assert_null(out.next);
        assert_null(out.notice);
        net_result_clear(&out);
    }
    /* catchup_max_pages bounds a long catch-up, and the user is told. */
    {
        a.catchup_max_pages = 2;
        g_autoptr(json_t) state = initialized_state();
        json_object_set_new(state, "newest", json_integer(NOW - 30 * 86400));
        resp_init(&rs, 200, body, strlen(body), "Link", link, "Last-Modified", LM2, NULL);
        run(&a, state, 1, &rs, &out);
        resp_clear(&rs);
        assert_non_null(out.next);
        int step = out.next->step;
        net_result_clear(&out);
        g_autofree char *b2 = page_body(2000, 50, NOW - 4000);
        resp_init(&rs, 200, b2, strlen(b2), "Link",
                  "<https://api.github.com/notifications?page=3>; rel=\"next\"", NULL);
        run(&a, state, step, &rs, &out);
        resp_clear(&rs);
        assert_null(out.next);
        assert_non_null(out.notice);
        assert_non_null(strstr(out.notice, "catchup_max_pages"));
        assert_true(out.state_changed);
        assert_string_equal(json_string_value(json_object_get(state, "last_modified")), LM2);
        net_result_clear(&out);
    }
}

/* ---- errors and rate limits ------------------------------------------------------ */

static void test_rate_limit_exhausted(void **st)
{
    (void)st;
    struct net_account a = account(API);
    const char *body = "{\"message\":\"API rate limit exceeded for user ID 1.\","
                       "\"documentation_url\":\"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api\"}";
    g_autofree char *reset = g_strdup_printf("%d", NOW + 900);
    long statuses[] = { 403, 429 };
    for (size_t i = 0; i < G_N_ELEMENTS(statuses); i++) {
        g_autoptr(json_t) state = initialized_state();
        g_autoptr(json_t) before = json_deep_copy(state);
        struct resp rs;
        resp_init(&rs, statuses[i], body, strlen(body), "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset,
                  "X-RateLimit-Limit", "5000", NULL);
        struct net_result out;
        run(&a, state, 1, &rs, &out);
        assert_int_equal(out.outcome, NET_RETRY);
        assert_int_equal(out.retry_at, NOW + 900);
        assert_int_equal(out.rate_remaining, 0);
        assert_non_null(out.error);
        assert_null(strstr(out.error, TOKEN));
        assert_int_equal(out.mentions->len, 0);
        assert_true(json_equal(state, before));
        net_result_clear(&out);
        resp_clear(&rs);
    }
    /* A successful answer that spent the last request also holds the next poll back. */
    g_autoptr(json_t) state = initialized_state();
    struct resp rs;
    resp_init(&rs, 200, "[]", 2, "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", reset, NULL);
    struct net_result out;
    run(&a, state, 1, &rs, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.retry_at, NOW + 900);
    net_result_clear(&out);
    resp_clear(&rs);
}

static void test_secondary_rate_limit(void **st)
{
    (void)st;
    struct net_account a = account(API);
    const char *body = "{\"message\":\"You have exceeded a secondary rate limit. Please wait a few minutes before you "
                       "try again.\",\"documentation_url\":\"https://docs.github.com/\"}";
    struct {
        long status;
        const char *retry_after;
        const char *body;
        int64_t want;
    } cases[] = {
        { 403, "120", body, NOW + 120 },
        { 429, "30", "{}", NOW + 30 },
        { 403, NULL, body, NOW + 60 },
        { 429, NULL, "", NOW + 60 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(json_t) state = initialized_state();
        struct resp rs;
        if (cases[i].retry_after)
            resp_init(&rs, cases[i].status, cases[i].body, strlen(cases[i].body), "Retry-After",
                      cases[i].retry_after, "X-RateLimit-Remaining", "4000", NULL);
        else
            resp_init(&rs, cases[i].status, cases[i].body, strlen(cases[i].body), "X-RateLimit-Remaining", "4000",
                      NULL);
        struct net_result out;
        run(&a, state, 1, &rs, &out);
        if (out.outcome != NET_RETRY || out.retry_at != cases[i].want)
            fail_msg("case %zu: outcome %d retry_at %lld, want RETRY at %lld", i, out.outcome,
                     (long long)out.retry_at, (long long)cases[i].want);
        assert_int_equal(out.rate_remaining, 4000);
        net_result_clear(&out);
        resp_clear(&rs);
    }
}

static void test_auth_and_other_errors(void **st)
{
    (void)st;
    struct net_account a = account(API);
    struct {
        long status;
        const char *body;
        enum net_outcome want;
    } cases[] = {
        { 401, "{\"message\":\"Bad credentials\",\"documentation_url\":\"https://docs.github.com/rest\"}", NET_AUTH },
        { 401, "not json", NET_AUTH },
        { 403, "{\"message\":\"Resource not accessible by personal access token\"}", NET_AUTH },
        { 404, "{\"message\":\"Not Found\"}", NET_FATAL },
        { 500, "", NET_RETRY },
        { 502, "<html>bad gateway</html>", NET_RETRY },
        { 0, NULL, NET_RETRY },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(json_t) state = initialized_state();
        g_autoptr(json_t) before = json_deep_copy(state);
        struct resp rs;
        resp_init(&rs, cases[i].status, cases[i].body, cases[i].body ? strlen(cases[i].body) : 0, NULL);
        struct net_result out;
        run(&a, state, 1, &rs, &out);
        if (out.outcome != cases[i].want)
            fail_msg("HTTP %ld: outcome %d, want %d (%s)", cases[i].status, out.outcome, cases[i].want,
                     out.error ? out.error : "");
        assert_non_null(out.error);
        assert_null(strstr(out.error, TOKEN));
        assert_int_equal(out.retry_at, 0);
        assert_int_equal(out.mentions->len, 0);
        assert_false(out.state_changed);
        assert_true(json_equal(state, before));
        net_result_clear(&out);
        resp_clear(&rs);
    }
}

static void test_truncated_json(void **st)
{
    (void)st;
    struct net_account a = account(API);
    g_autoptr(json_t) state = initialized_state();
    g_autoptr(json_t) before = json_deep_copy(state);
    struct net_result out;
    run_fixture(&a, state, 1, "truncated.json", &out);
    assert_int_equal(out.outcome, NET_RETRY);
    assert_non_null(out.error);
    assert_int_equal(out.mentions->len, 0);
    assert_false(out.state_changed);
    assert_null(out.next);
    assert_true(json_equal(state, before));
    net_result_clear(&out);

    /* The right JSON, the wrong shape. */
    const char *shapes[] = { "{\"message\":\"hi\"}", "null", "\"[]\"", "" };
    for (size_t i = 0; i < G_N_ELEMENTS(shapes); i++) {
        struct resp rs;
        resp_init(&rs, 200, shapes[i], strlen(shapes[i]), "Last-Modified", LM2, NULL);
        run(&a, state, 1, &rs, &out);
        assert_int_equal(out.outcome, NET_RETRY);
        assert_false(out.state_changed);
        assert_true(json_equal(state, before));
        net_result_clear(&out);
        resp_clear(&rs);
    }
}

static void test_wrong_types(void **st)
{
    (void)st;
    struct net_account a = account(API);
    g_autoptr(json_t) state = initialized_state();
    struct net_result out;
    run_fixture(&a, state, 1, "wrong-types.json", &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.mentions->len, 3);

    /* Odd subject members degrade to the repository link and no title. */
    struct mention *m = find(&out, "8000000007");
    assert_non_null(m);
    assert_string_equal(m->url, "https://github.com/octo-org/widgets");
    assert_string_equal(m->text, "(no title) (you were mentioned)");
    assert_string_equal(m->context, "octo-org/widgets · (no title)");

    m = find(&out, "8000000008");
    assert_string_equal(m->url, "https://github.com/octo-org/widgets");

    m = find(&out, "8000000009");
    assert_string_equal(m->url, "https://github.com/octo-org/widgets/issues/12#issuecomment-1200");
    assert_true(out.state_changed);
    net_result_clear(&out);
}

static int setup_log(void **st)
{
    (void)st;
    /* Skipped threads are warned about; keep the test output readable. */
    log_setup("test_net_github", g_getenv("HEED_TEST_VERBOSE") ? LOG_LVL_DEBUG : LOG_LVL_ERR);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_table),
        cmocka_unit_test(test_begin_first_run),
        cmocka_unit_test(test_if_modified_since_sent),
        cmocka_unit_test(test_first_run_fixture),
        cmocka_unit_test(test_custom_reasons),
        cmocka_unit_test(test_enterprise_urls),
        cmocka_unit_test(test_test_server_urls),
        cmocka_unit_test(test_identity_follows_updated_at),
        cmocka_unit_test(test_not_modified),
        cmocka_unit_test(test_poll_interval_header),
        cmocka_unit_test(test_paging_follows_link),
        cmocka_unit_test(test_paging_limits),
        cmocka_unit_test(test_rate_limit_exhausted),
        cmocka_unit_test(test_secondary_rate_limit),
        cmocka_unit_test(test_auth_and_other_errors),
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_wrong_types),
    };
    return cmocka_run_group_tests(tests, setup_log, NULL);
}
