/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/net/mastodon.c, driven only through the driver contract
 * (net_driver_find("mastodon"), begin(), history_begin(), handle()) with
 * fabricated responses built from tests/data/mastodon/. */
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
#include "url.h"

/* 2026-08-01T13:50:00Z: after every fixture's created_at, before the 429 reset. */
#define NOW ((int64_t)1785592200)
/* 2026-08-01T13:55:00.940463Z, the X-RateLimit-Reset used below. */
#define RESET_ISO "2026-08-01T13:55:00.940463Z"
#define RESET_EPOCH ((int64_t)1785592500)

#define SERVER "https://m.example"
#define PAGE_URL SERVER "/api/v1/notifications?types%5B%5D=mention&limit=80"
#define LINK_NEXT_URL SERVER "/api/v1/notifications?max_id=113500000000000001&types%5B%5D=mention"
#define LINK_PREV_URL SERVER "/api/v1/notifications?min_id=113500000000000080&types%5B%5D=mention"
#define LINK_FULL "<" LINK_NEXT_URL ">; rel=\"next\", <" LINK_PREV_URL ">; rel=\"prev\""
#define PAGE_NEWEST "113500000000000080"


/* A completed poll ends with the read-marker request, or nothing. */
static bool is_markers(const struct wire_request *req)
{
    return req && strstr(req->url, "/api/v1/markers?timeline%5B%5D=notifications") != NULL;
}

static void assert_poll_done(const struct net_result *res)
{
    if (res->next && !is_markers(res->next))
        fail_msg("the poll should be done, but asks for %s", res->next->url);
}

/* The read marker: other clients' "read up to here" comes back as read_upto;
 * a server without markers is no failure. */
static void test_read_marker(void **unused)
{
    (void)unused;
    const struct net_driver *drv = net_driver_find("mastodon");
    struct net_account acct = { .name = "home", .network = "mastodon", .server = "https://m.example",
                                .secret = "tok", .catchup_max_pages = 3, .now = 1700000000 };
    json_t *state = json_pack("{s:s, s:b, s:s}", "me", "1", "initialized", 1, "since_id", "100");
    struct wire_request *req = wire_request_new(
        "GET", g_strdup("https://m.example/api/v1/markers?timeline%5B%5D=notifications"), 0);
    /* The driver gives its own step to the request it builds: take it from a real poll. */
    char *err = NULL;
    struct wire_request *page = drv->begin(&acct, state, &err);
    struct wire_response resp = { .status = 200, .body = "[]", .body_len = 2, .headers = NULL };
    struct net_result res;
    net_result_init(&res);
    drv->handle(&acct, state, page, &resp, &res);
    assert_true(is_markers(res.next));
    req->step = res.next->step;
    net_result_clear(&res);

    const char *body = "{\"notifications\":{\"last_read_id\":\"105\",\"version\":3}}";
    struct wire_response ok = { .status = 200, .body = body, .body_len = strlen(body), .headers = NULL };
    net_result_init(&res);
    drv->handle(&acct, state, req, &ok, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_string_equal(res.read_upto, "105");
    assert_null(res.next);
    net_result_clear(&res);

    struct wire_response missing = { .status = 404, .body = "{}", .body_len = 2, .headers = NULL };
    net_result_init(&res);
    drv->handle(&acct, state, req, &missing, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_null(res.read_upto);
    net_result_clear(&res);
    wire_request_free(page);
    wire_request_free(req);
    json_decref(state);
}

static const struct net_account test_acct = {
    .name = "home",
    .network = "mastodon",
    .server = SERVER,
    .secret = "tok",
    .catchup_max_pages = 3,
    .now = NOW,
};

/* ---- helpers --------------------------------------------------------------- */

static const struct net_driver *driver(void)
{
    const struct net_driver *drv = net_driver_find("mastodon");
    assert_non_null(drv);
    return drv;
}

static char *fixture(const char *name)
{
    g_autofree char *path = g_build_filename(HEED_TEST_DATA, "mastodon", name, NULL);
    char *body = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &body, NULL, &err))
        fail_msg("cannot read fixture %s: %s", path, err->message);
    return body;
}

/* Headers as the engine hands them over: lower-case name -> value. Pairs, NULL-terminated. */
static GHashTable *headers_new(const char *name, ...)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    va_list ap;
    va_start(ap, name);
    for (const char *n = name; n; n = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        g_hash_table_insert(h, g_strdup(n), g_strdup(v));
    }
    va_end(ap);
    return h;
}

/* Run handle() on a response; res must be cleared by the caller. */
static void handle(json_t *state, const struct wire_request *req, long status, const char *body, GHashTable *headers,
                   struct net_result *res)
{
    struct wire_response resp = {
        .status = status,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .headers = headers,
    };
    net_result_init(res);
    driver()->handle(&test_acct, state, req, &resp, res);
}

static void handle_fixture(json_t *state, const struct wire_request *req, const char *name, GHashTable *headers,
                           struct net_result *res)
{
    g_autofree char *body = fixture(name);
    handle(state, req, 200, body, headers, res);
}

static bool has_header(const struct wire_request *req, const char *line)
{
    for (guint i = 0; i < req->headers->len; i++)
        if (strcmp(g_ptr_array_index(req->headers, i), line) == 0)
            return true;
    return false;
}

static void assert_authorized_get(const struct wire_request *req)
{
    assert_non_null(req);
    assert_string_equal(req->method, "GET");
    assert_true(g_str_has_prefix(req->url, SERVER "/"));
    assert_true(has_header(req, "Authorization: Bearer tok"));
    assert_null(req->body);
}

static const char *state_str(json_t *state, const char *key)
{
    return json_string_value(json_object_get(state, key));
}

/* State of an account that knows who it is, optionally initialized with a cursor. */
static json_t *state_new(bool initialized, const char *since_id)
{
    json_t *state = json_object();
    json_object_set_new(state, "me", json_string("1"));
    if (initialized)
        json_object_set_new(state, "initialized", json_true());
    if (since_id)
        json_object_set_new(state, "since_id", json_string(since_id));
    return state;
}

static struct wire_request *begin(json_t *state)
{
    char *error = NULL;
    struct wire_request *req = driver()->begin(&test_acct, state, &error);
    assert_null(error);
    assert_non_null(req);
    return req;
}

/* A page of `count` mentions with ids newest, newest-1, ... built from mention.json. */
static char *page_json(long long newest, int count)
{
    g_autofree char *body = fixture("mention.json");
    json_t *tmpl_arr = json_loads(body, 0, NULL);
    assert_non_null(tmpl_arr);
    json_t *tmpl = json_array_get(tmpl_arr, 0);
    json_t *page = json_array();
    for (int i = 0; i < count; i++) {
        json_t *n = json_deep_copy(tmpl);
        g_autofree char *id = g_strdup_printf("%lld", newest - i);
        g_autofree char *sid = g_strdup_printf("%lld", newest - i - 7);
        json_object_set_new(n, "id", json_string(id));
        json_object_set_new(json_object_get(n, "status"), "id", json_string(sid));
        json_array_append_new(page, n);
    }
    char *out = json_dumps(page, JSON_COMPACT);
    json_decref(page);
    json_decref(tmpl_arr);
    return out;
}

static struct mention *only_mention(struct net_result *res)
{
    assert_int_equal(res->outcome, NET_OK);
    assert_int_equal(res->mentions->len, 1);
    return g_ptr_array_index(res->mentions, 0);
}

/* Parse one fixture page on an initialized account (no cursor) and return the result. */
static json_t *parse_page(const char *name, struct net_result *res)
{
    json_t *state = state_new(true, NULL);
    struct wire_request *req = begin(state);
    handle_fixture(state, req, name, NULL, res);
    wire_request_free(req);
    assert_int_equal(res->outcome, NET_OK);
    assert_null(res->error);
    return state;
}

/* ---- driver and first run ---------------------------------------------------- */

static void test_driver_registered(void **unused)
{
    (void)unused;
    const struct net_driver *drv = driver();
    assert_string_equal(drv->name, "mastodon");
    assert_true(drv->needs_secret);
    assert_null(drv->default_server);
    assert_non_null(drv->begin);
    assert_non_null(drv->history_begin);
    assert_non_null(drv->handle);
}

static void test_begin_asks_verify_credentials(void **unused)
{
    (void)unused;
    json_t *state = json_object();
    struct wire_request *req = begin(state);
    assert_authorized_get(req);
    assert_string_equal(req->url, SERVER "/api/v1/accounts/verify_credentials");
    assert_true(g_str_has_prefix(req->url, "https://"));
    assert_true(has_header(req, "Accept: application/json"));
    wire_request_free(req);
    json_decref(state);
}

static void test_verify_credentials_sets_me(void **unused)
{
    (void)unused;
    json_t *state = json_object();
    struct wire_request *req = begin(state);
    struct net_result res;
    handle_fixture(state, req, "verify_credentials.json", NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_null(res.error);
    assert_string_equal(state_str(state, "me"), "1");
    assert_true(res.state_changed);
    assert_int_equal(res.mentions->len, 0);
    /* The same poll goes on to the first notifications page. */
    assert_authorized_get(res.next);
    assert_string_equal(res.next->url, PAGE_URL);
    net_result_clear(&res);
    wire_request_free(req);

    /* Known now: the next poll starts with the page directly. */
    req = begin(state);
    assert_string_equal(req->url, PAGE_URL);
    wire_request_free(req);
    json_decref(state);
}

static void test_verify_credentials_bad_answers(void **unused)
{
    (void)unused;
    static const char *const bodies[] = {
        "{\"id\": \"1\", \"username\": \"me\", \"acct\"", /* truncated */
        "{\"username\": \"me\"}",                         /* no id */
        "{\"id\": 1}",                                    /* id not a string */
        "[]",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        json_t *state = json_object();
        struct wire_request *req = begin(state);
        struct net_result res;
        handle(state, req, 200, bodies[i], NULL, &res);
        assert_int_equal(res.outcome, NET_RETRY);
        assert_non_null(res.error);
        assert_poll_done(&res);
        assert_false(res.state_changed);
        assert_null(json_object_get(state, "me"));
        net_result_clear(&res);
        wire_request_free(req);
        json_decref(state);
    }
}

/* The first start stops at seven days back, and at catchup_max_pages
 * without calling that a gap. */
static void test_first_start_window(void **unused)
{
    (void)unused;
    g_autoptr(GHashTable) h = headers_new("link", LINK_FULL, NULL);
    struct net_result res;
    /* Dated eight days before NOW: the window ends on this page. */
    g_autofree char *body = fixture("page_full.json");
    json_t *page = json_loads(body, 0, NULL);
    size_t i;
    json_t *n;
    json_array_foreach(page, i, n)
        json_object_set_new(n, "created_at", json_string("2026-07-24T11:00:00.000Z"));
    g_autofree char *old = json_dumps(page, JSON_COMPACT);
    json_decref(page);
    json_t *state = state_new(false, NULL);
    struct wire_request *req = begin(state);
    handle(state, req, 200, old, h, &res);
    assert_true(res.initial_sync);
    assert_poll_done(&res);
    assert_int_equal(res.mentions->len, 80);
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);

    /* Recent, but only one page allowed. */
    state = state_new(false, NULL);
    req = begin(state);
    struct net_account a = test_acct;
    a.catchup_max_pages = 1;
    g_autofree char *recent = fixture("page_full.json");
    struct wire_response resp = { .status = 200, .body = recent, .body_len = strlen(recent), .headers = h };
    net_result_init(&res);
    driver()->handle(&a, state, req, &resp, &res);
    assert_true(res.initial_sync);
    assert_poll_done(&res);
    assert_null(res.notice);
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

static void test_first_page_is_initial_sync(void **unused)
{
    (void)unused;
    json_t *state = state_new(false, NULL);
    struct wire_request *req = begin(state);
    assert_authorized_get(req);
    assert_string_equal(req->url, PAGE_URL);
    /* A full first page with a next link, all of it from the last hours:
     * the first start reads on (7 days or catchup_max_pages). */
    g_autoptr(GHashTable) h = headers_new("link", LINK_FULL, NULL);
    struct net_result res;
    handle_fixture(state, req, "page_full.json", h, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.initial_sync);
    assert_false(res.state_changed);
    assert_non_null(res.next);
    assert_null(res.notice);
    assert_int_equal(res.mentions->len, 80);
    wire_request_free(req);
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);
    /* The next page is short: the first start is done, and all of it was history. */
    g_autofree char *older = page_json(113400000000000000LL, 5);
    handle(state, req, 200, older, NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.initial_sync);
    assert_true(res.state_changed);
    assert_poll_done(&res);
    assert_int_equal(res.mentions->len, 5);
    assert_string_equal(state_str(state, "since_id"), PAGE_NEWEST);
    assert_true(json_is_true(json_object_get(state, "initialized")));
    net_result_clear(&res);
    wire_request_free(req);

    /* The second poll asks only for what is newer, and is news. */
    req = begin(state);
    assert_authorized_get(req);
    assert_string_equal(req->url, PAGE_URL "&since_id=" PAGE_NEWEST);
    g_autofree char *page = page_json(113500000000000082LL, 2);
    handle(state, req, 200, page, NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_false(res.initial_sync);
    assert_int_equal(res.mentions->len, 2);
    assert_string_equal(state_str(state, "since_id"), "113500000000000082");
    net_result_clear(&res);
    wire_request_free(req);

    /* Nothing new: the cursor stays. */
    req = begin(state);
    handle(state, req, 200, "[]", NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_false(res.initial_sync);
    assert_int_equal(res.mentions->len, 0);
    assert_poll_done(&res);
    assert_string_equal(state_str(state, "since_id"), "113500000000000082");
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

/* ---- paging ------------------------------------------------------------------ */

static void test_full_page_follows_next(void **unused)
{
    (void)unused;
    const char *since = "113499999999999000";
    json_t *state = state_new(true, since);
    struct wire_request *req = begin(state);
    assert_string_equal(req->url, PAGE_URL "&since_id=113499999999999000");
    g_autoptr(GHashTable) h = headers_new("link", LINK_FULL, NULL);
    struct net_result res;
    handle_fixture(state, req, "page_full.json", h, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_false(res.initial_sync);
    assert_int_equal(res.mentions->len, 80);
    /* The older page, on the same server, still bounded below by since_id. */
    assert_authorized_get(res.next);
    assert_string_equal(res.next->url, LINK_NEXT_URL "&since_id=113499999999999000");
    /* The cursor does not move until the poll completes. */
    assert_false(res.state_changed);
    assert_string_equal(state_str(state, "since_id"), since);
    struct wire_request *next = g_steal_pointer(&res.next);
    net_result_clear(&res);
    wire_request_free(req);

    /* The last page is short: done, and the cursor jumps to the newest id of the poll. */
    g_autofree char *older = page_json(113500000000000000LL, 10);
    handle(state, next, 200, older, NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 10);
    assert_poll_done(&res);
    assert_null(res.notice);
    assert_true(res.state_changed);
    assert_string_equal(state_str(state, "since_id"), PAGE_NEWEST);
    net_result_clear(&res);
    wire_request_free(next);
    json_decref(state);
}

static void test_next_link_with_since_id_kept_as_is(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, "113499999999999000");
    struct wire_request *req = begin(state);
    g_autoptr(GHashTable) h =
        headers_new("link", "<" LINK_NEXT_URL "&since_id=113499999999999000>; rel=\"next\"", NULL);
    struct net_result res;
    handle_fixture(state, req, "page_full.json", h, &res);
    assert_non_null(res.next);
    assert_string_equal(res.next->url, LINK_NEXT_URL "&since_id=113499999999999000");
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

static void test_link_to_other_origin_not_followed(void **unused)
{
    (void)unused;
    static const char *const links[] = {
        "<https://evil.example/api/v1/notifications?max_id=113500000000000001>; rel=\"next\"",
        "<https://m.example.evil.example/api/v1/notifications?max_id=113500000000000001>; rel=\"next\"",
        "<https://m.example@evil.example/api/v1/notifications?max_id=113500000000000001>; rel=\"next\"",
        "<http://m.example/api/v1/notifications?max_id=113500000000000001>; rel=\"next\"",
        "<//evil.example/api/v1/notifications?max_id=113500000000000001>; rel=\"next\"",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(links); i++) {
        json_t *state = state_new(true, "113499999999999000");
        struct wire_request *req = begin(state);
        g_autoptr(GHashTable) h = headers_new("link", links[i], NULL);
        struct net_result res;
        handle_fixture(state, req, "page_full.json", h, &res);
        assert_int_equal(res.outcome, NET_OK);
        assert_poll_done(&res);
        assert_int_equal(res.mentions->len, 80);
        /* The poll ends here and its mentions count. */
        assert_true(res.state_changed);
        assert_string_equal(state_str(state, "since_id"), PAGE_NEWEST);
        net_result_clear(&res);
        wire_request_free(req);
        json_decref(state);
    }
}

static void test_catchup_bound(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, "113400000000000000");
    struct wire_request *req = begin(state);
    int requests = 1;
    long long newest = 113500000000000080LL;
    struct net_result res;
    for (;;) {
        g_autofree char *page = page_json(newest, 80);
        g_autofree char *link = g_strdup_printf("<" SERVER "/api/v1/notifications?max_id=%lld&types%%5B%%5D=mention>; "
                                                "rel=\"next\"",
                                                newest - 79);
        g_autoptr(GHashTable) h = headers_new("link", link, NULL);
        handle(state, req, 200, page, h, &res);
        wire_request_free(req);
        assert_int_equal(res.outcome, NET_OK);
        assert_int_equal(res.mentions->len, 80);
        if (!res.next || is_markers(res.next))
            break;
        assert_null(res.notice);
        assert_false(res.state_changed);
        assert_string_equal(state_str(state, "since_id"), "113400000000000000");
        req = g_steal_pointer(&res.next);
        net_result_clear(&res);
        requests++;
        newest -= 80;
        assert_true(requests <= 10);
    }
    assert_int_equal(requests, test_acct.catchup_max_pages);
    /* The user is told about the possible gap, and the cursor still advances. */
    assert_non_null(res.notice);
    assert_non_null(strstr(res.notice, "catchup_max_pages"));
    assert_true(res.state_changed);
    assert_string_equal(state_str(state, "since_id"), PAGE_NEWEST);
    net_result_clear(&res);

    /* The next poll starts fresh from the new cursor. */
    req = begin(state);
    assert_string_equal(req->url, PAGE_URL "&since_id=" PAGE_NEWEST);
    wire_request_free(req);
    json_decref(state);
}

static void test_page_reaching_seen_ids_stops(void **unused)
{
    (void)unused;
    /* A server that ignores since_id, or a repeated page. */
    json_t *state = state_new(true, "113500000000000040");
    struct wire_request *req = begin(state);
    g_autoptr(GHashTable) h = headers_new("link", LINK_FULL, NULL);
    struct net_result res;
    handle_fixture(state, req, "page_full.json", h, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_poll_done(&res);
    assert_null(res.notice);
    assert_int_equal(res.mentions->len, 40);
    for (guint i = 0; i < res.mentions->len; i++) {
        struct mention *m = g_ptr_array_index(res.mentions, i);
        assert_true(net_id_compare(m->remote_id, "113500000000000040") > 0);
    }
    assert_true(res.state_changed);
    assert_string_equal(state_str(state, "since_id"), PAGE_NEWEST);
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

static void test_ids_going_backwards_keep_cursor(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, "113402875522116021");
    struct wire_request *req = begin(state);
    struct net_result res;
    /* Everything at or below the cursor: nothing new, and the cursor stays. */
    handle_fixture(state, req, "huge_ids.json", NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 0);
    assert_string_equal(state_str(state, "since_id"), "113402875522116021");
    net_result_clear(&res);
    wire_request_free(req);

    /* 17 digits is older than 18 even though "9" > "1". */
    json_object_set_new(state, "since_id", json_string("99999999999999999"));
    req = begin(state);
    handle_fixture(state, req, "huge_ids.json", NULL, &res);
    struct mention *m = only_mention(&res);
    assert_string_equal(m->remote_id, "113402875522116021");
    assert_string_equal(state_str(state, "since_id"), "113402875522116021");
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

static void test_huge_ids_first_run(void **unused)
{
    (void)unused;
    json_t *state = state_new(false, NULL);
    struct wire_request *req = begin(state);
    struct net_result res;
    handle_fixture(state, req, "huge_ids.json", NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 2);
    assert_string_equal(state_str(state, "since_id"), "113402875522116021");
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

/* Servers whose maximum page is smaller than 80 (Mastodon before 4.1 caps
 * limit at 30; other implementations at 40) return "full" pages of fewer
 * than 80: the driver must still follow rel="next" or it silently drops
 * everything older than the first page. */
static void test_short_server_page_with_more_is_followed(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, "113400000000000000");
    struct wire_request *req = begin(state);
    g_autofree char *page = page_json(113500000000000080LL, 30);
    g_autoptr(GHashTable) h = headers_new(
        "link", "<" SERVER "/api/v1/notifications?max_id=113500000000000051&types%5B%5D=mention>; rel=\"next\"", NULL);
    struct net_result res;
    handle(state, req, 200, page, h, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 30);
    assert_non_null(res.next);
    assert_string_equal(res.next->url, SERVER "/api/v1/notifications?max_id=113500000000000051&types%5B%5D=mention"
                                              "&since_id=113400000000000000");
    assert_string_equal(state_str(state, "since_id"), "113400000000000000");
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

/* ---- mention fields -------------------------------------------------------------- */

static void test_mention_remote_fields(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("mention.json", &res);
    struct mention *m = only_mention(&res);
    assert_string_equal(m->account, "home");
    assert_string_equal(m->network, "mastodon");
    assert_string_equal(m->remote_id, "113402875522116021");
    assert_string_equal(m->post_id, "113402875498765432");
    assert_string_equal(m->thread_id, "113402875498765432");
    assert_string_equal(m->author_id, "109876543210987654");
    assert_string_equal(m->author_handle, "@alice@other.social");
    assert_string_equal(m->author_name, "Alice Liddell");
    assert_string_equal(m->text, "@me are you coming to the meetup on Friday?");
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_int_equal(m->mention_count, 1);
    assert_int_equal(m->author_bot, MENTION_NO);
    /* The status's created_at (2026-08-01T12:34:50.123Z), not the notification's. */
    assert_int_equal(m->created_at, 1785587690);
    assert_non_null(m->url);
    assert_true(g_str_has_prefix(m->url, "https://"));
    assert_null(m->context);
    net_result_clear(&res);
    json_decref(state);
}

/* The engine opens a mention's link only on the account's own server (the
 * driver's web_host is NULL, meaning the server's host; see
 * engine_allowed_host). A remote status's "url" is on the author's server,
 * so the driver must hand over a link on m.example (the local view of the
 * status, /@acct/<local status id>) or the user can never open it. */
static void test_remote_mention_url_opens_on_own_server(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("mention.json", &res);
    struct mention *m = only_mention(&res);
    GError *err = NULL;
    g_autofree char *ok = url_check(m->url, "m.example", &err);
    if (!ok)
        fail_msg("remote mention link %s cannot be opened: %s", m->url, err->message);
    assert_true(g_str_has_suffix(m->url, "/113402875498765432"));
    net_result_clear(&res);
    json_decref(state);
}

static void test_mention_local_direct(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("direct.json", &res);
    struct mention *m = only_mention(&res);
    assert_string_equal(m->remote_id, "113402900000000100");
    assert_string_equal(m->author_handle, "@bob@m.example");
    assert_string_equal(m->author_name, "Bob \xF0\x9F\x90\xA2 Builder");
    assert_string_equal(m->author_id, "110000000000000002");
    assert_int_equal(m->kind, MENTION_KIND_DIRECT);
    assert_string_equal(m->url, "https://m.example/@bob/113402900000000001");
    assert_string_equal(m->text, "@me psst, can you send me the slides from Tuesday?");
    net_result_clear(&res);
    json_decref(state);
}

static void test_mention_reply_kind(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("reply.json", &res);
    assert_int_equal(res.mentions->len, 2);
    struct mention *reply = g_ptr_array_index(res.mentions, 0);
    assert_string_equal(reply->remote_id, "113402950000000200");
    assert_int_equal(reply->kind, MENTION_KIND_REPLY);
    assert_string_equal(reply->thread_id, "113400000000000555");
    assert_string_equal(reply->author_handle, "@carol@photos.example");
    /* Replying in someone else's thread and naming the user is a mention. */
    struct mention *other = g_ptr_array_index(res.mentions, 1);
    assert_string_equal(other->remote_id, "113402950000000190");
    assert_int_equal(other->kind, MENTION_KIND_MENTION);
    assert_int_equal(other->mention_count, 2);
    assert_string_equal(other->text, "@alice @me I think Mia knows.");
    net_result_clear(&res);
    json_decref(state);

    /* Without "me" in the state nothing can be a reply to the user. */
    state = state_new(true, NULL);
    struct wire_request *req = begin(state);
    json_object_del(state, "me");
    handle_fixture(state, req, "reply.json", NULL, &res);
    assert_int_equal(res.mentions->len, 2);
    assert_int_equal(((struct mention *)g_ptr_array_index(res.mentions, 0))->kind, MENTION_KIND_MENTION);
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

static void test_mention_content_to_plain_text(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("content.json", &res);
    struct mention *m = only_mention(&res);
    assert_string_equal(m->text, "CW: Long post about C & memory\n"
                                 "@me Tom & Jerry say \"hi\" <3 caf\xC3\xA9\n"
                                 "\n"
                                 "line one\n"
                                 "line two\n"
                                 "see docs.example.org/guides/very/l\xE2\x80\xA6");
    net_result_clear(&res);
    json_decref(state);
}

static void test_mention_count_many(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("many_mentions.json", &res);
    struct mention *m = only_mention(&res);
    assert_int_equal(m->mention_count, 12);
    assert_true(g_str_has_prefix(m->text, "@me @friend1 @friend2 "));
    assert_true(g_str_has_suffix(m->text, "@friend11 who is in for the hackathon?"));
    net_result_clear(&res);
    json_decref(state);
}

static void test_mention_bot_author(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("bot.json", &res);
    struct mention *m = only_mention(&res);
    assert_int_equal(m->author_bot, MENTION_YES);
    assert_string_equal(m->author_handle, "@weatherbot@bots.example");
    /* No display name: the handle stands in. */
    assert_string_equal(m->author_name, "@weatherbot@bots.example");
    net_result_clear(&res);
    json_decref(state);
}

static void test_mention_missing_optional_fields(void **unused)
{
    (void)unused;
    g_autofree char *body = fixture("direct.json");
    json_t *page = json_loads(body, 0, NULL);
    json_t *n = json_array_get(page, 0);
    json_t *status = json_object_get(n, "status");
    json_object_del(json_object_get(n, "account"), "bot");
    json_object_set_new(status, "created_at", json_string("not a time"));
    json_object_set_new(status, "url", json_null());
    json_object_del(status, "mentions");
    g_autofree char *mod = json_dumps(page, 0);
    json_decref(page);

    json_t *state = state_new(true, NULL);
    struct wire_request *req = begin(state);
    struct net_result res;
    handle(state, req, 200, mod, NULL, &res);
    struct mention *m = only_mention(&res);
    assert_int_equal(m->author_bot, MENTION_UNKNOWN);
    assert_int_equal(m->created_at, NOW);
    assert_int_equal(m->mention_count, 1);
    /* No web URL: still a link to the status on the user's server. */
    assert_non_null(m->url);
    assert_true(g_str_has_prefix(m->url, SERVER "/"));
    assert_true(g_str_has_suffix(m->url, "/113402900000000001"));
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

/* mention.h: MENTION_KIND_QUOTE is "the user's post quoted". A mention whose
 * post quotes somebody else's post is a plain mention (otherwise the score
 * says "quotes your post" when it does not). */
static void test_quote_kind_only_for_users_post(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("quote.json", &res);
    assert_int_equal(res.mentions->len, 2);
    struct mention *third_party = g_ptr_array_index(res.mentions, 0);
    struct mention *mine = g_ptr_array_index(res.mentions, 1);
    assert_string_equal(mine->remote_id, "113403400000000004");
    assert_int_equal(mine->kind, MENTION_KIND_QUOTE);
    assert_string_equal(third_party->remote_id, "113403400000000002");
    assert_int_equal(third_party->kind, MENTION_KIND_MENTION);
    net_result_clear(&res);
    json_decref(state);
}

static void test_null_status_skipped(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("status_null.json", &res);
    struct mention *m = only_mention(&res);
    assert_string_equal(m->remote_id, "113402990000000001");
    assert_string_equal(m->author_handle, "@erin@chat.example");
    /* The skipped notification is consumed all the same. */
    assert_string_equal(state_str(state, "since_id"), "113402990000000002");
    net_result_clear(&res);
    json_decref(state);
}

static void test_unknown_types_skipped(void **unused)
{
    (void)unused;
    struct net_result res;
    json_t *state = parse_page("unknown_types.json", &res);
    struct mention *m = only_mention(&res);
    assert_string_equal(m->remote_id, "113403000000000010");
    assert_string_equal(m->text, "@me still on for lunch?");
    assert_string_equal(state_str(state, "since_id"), "113403000000000030");
    net_result_clear(&res);
    json_decref(state);
}

/* ---- bad answers ------------------------------------------------------------------ */

static void assert_state_unchanged_after(long status, const char *body, GHashTable *h, enum net_outcome expect,
                                         struct net_result *res)
{
    json_t *state = state_new(true, "113402875522116000");
    json_object_set_new(state, "history_since", json_string("113402000000000001"));
    struct wire_request *req = begin(state);
    g_autofree char *before = json_dumps(state, JSON_SORT_KEYS);
    handle(state, req, status, body, h, res);
    g_autofree char *after = json_dumps(state, JSON_SORT_KEYS);
    assert_int_equal(res->outcome, expect);
    assert_non_null(res->error);
    assert_null(res->next);
    assert_false(res->state_changed);
    assert_int_equal(res->mentions->len, 0);
    assert_string_equal(after, before);
    wire_request_free(req);
    json_decref(state);
}

static void test_non_array_body(void **unused)
{
    (void)unused;
    struct net_result res;
    assert_state_unchanged_after(200, "{\"error\": \"oops\"}", NULL, NET_RETRY, &res);
    net_result_clear(&res);
    assert_state_unchanged_after(200, "\"mention\"", NULL, NET_RETRY, &res);
    net_result_clear(&res);
    assert_state_unchanged_after(200, "", NULL, NET_RETRY, &res);
    net_result_clear(&res);
}

static void test_truncated_json(void **unused)
{
    (void)unused;
    g_autofree char *body = fixture("mention.json");
    body[strlen(body) / 2] = '\0';
    struct net_result res;
    assert_state_unchanged_after(200, body, NULL, NET_RETRY, &res);
    net_result_clear(&res);
}

static void test_http_auth_refused(void **unused)
{
    (void)unused;
    struct net_result res;
    assert_state_unchanged_after(401, "{\"error\":\"The access token is invalid\"}", NULL, NET_AUTH, &res);
    assert_non_null(strstr(res.error, "The access token is invalid"));
    net_result_clear(&res);
    assert_state_unchanged_after(403, "{\"error\":\"Your login is currently disabled\"}", NULL, NET_AUTH, &res);
    net_result_clear(&res);
}

static void test_http_429_rate_limited(void **unused)
{
    (void)unused;
    g_autoptr(GHashTable) h = headers_new("x-ratelimit-limit", "300", "x-ratelimit-remaining", "0",
                                          "x-ratelimit-reset", RESET_ISO, NULL);
    struct net_result res;
    assert_state_unchanged_after(429, "{\"error\":\"Too many requests\"}", h, NET_RETRY, &res);
    assert_int_equal(res.retry_at, RESET_EPOCH);
    assert_int_equal(res.rate_remaining, 0);
    assert_non_null(strstr(res.error, "429"));
    net_result_clear(&res);

    /* A 429 without headers: retry, with no particular time. */
    assert_state_unchanged_after(429, "{\"error\":\"Too many requests\"}", NULL, NET_RETRY, &res);
    assert_int_equal(res.retry_at, 0);
    assert_int_equal(res.rate_remaining, -1);
    net_result_clear(&res);
}

static void test_rate_headers_on_success(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, NULL);
    struct wire_request *req = begin(state);
    g_autofree char *body = fixture("mention.json");
    struct net_result res;

    g_autoptr(GHashTable) h1 = headers_new("x-ratelimit-remaining", "299", "x-ratelimit-reset", RESET_ISO, NULL);
    handle(state, req, 200, body, h1, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.rate_remaining, 299);
    assert_int_equal(res.retry_at, 0);
    net_result_clear(&res);

    /* The last request allowed: wait for the reset before the next one. */
    g_autoptr(GHashTable) h2 = headers_new("x-ratelimit-remaining", "0", "x-ratelimit-reset", RESET_ISO, NULL);
    handle(state, req, 200, body, h2, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.rate_remaining, 0);
    assert_int_equal(res.retry_at, RESET_EPOCH);
    net_result_clear(&res);

    /* Garbage is ignored, a reset in the past imposes nothing. */
    g_autoptr(GHashTable) h3 =
        headers_new("x-ratelimit-remaining", "lots", "x-ratelimit-reset", "2020-01-01T00:00:00.000Z", NULL);
    handle(state, req, 200, body, h3, &res);
    assert_int_equal(res.rate_remaining, -1);
    assert_int_equal(res.retry_at, 0);
    net_result_clear(&res);

    wire_request_free(req);
    json_decref(state);
}

static void test_http_server_errors(void **unused)
{
    (void)unused;
    struct net_result res;
    assert_state_unchanged_after(503, "<html><body>Service Unavailable</body></html>", NULL, NET_RETRY, &res);
    assert_non_null(strstr(res.error, "503"));
    net_result_clear(&res);
    assert_state_unchanged_after(502, NULL, NULL, NET_RETRY, &res);
    net_result_clear(&res);
    assert_state_unchanged_after(404, "{\"error\":\"Record not found\"}", NULL, NET_FATAL, &res);
    net_result_clear(&res);
}

static void test_error_mid_poll_keeps_cursor(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, "113499999999999000");
    struct wire_request *req = begin(state);
    g_autoptr(GHashTable) h = headers_new("link", LINK_FULL, NULL);
    struct net_result res;
    handle_fixture(state, req, "page_full.json", h, &res);
    struct wire_request *next = g_steal_pointer(&res.next);
    assert_non_null(next);
    net_result_clear(&res);
    wire_request_free(req);

    handle(state, next, 503, "", NULL, &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_false(res.state_changed);
    assert_string_equal(state_str(state, "since_id"), "113499999999999000");
    net_result_clear(&res);
    wire_request_free(next);

    /* The next poll starts over from the top with the old cursor. */
    req = begin(state);
    assert_string_equal(req->url, PAGE_URL "&since_id=113499999999999000");
    g_autofree char *page = page_json(113500000000000081LL, 1);
    handle(state, req, 200, page, NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_string_equal(state_str(state, "since_id"), "113500000000000081");
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

/* ---- history chain ------------------------------------------------------------------ */

static void test_history_begin(void **unused)
{
    (void)unused;
    const struct net_driver *drv = driver();
    json_t *state = json_object();
    char *error = NULL;
    assert_null(drv->history_begin(&test_acct, state, &error));
    assert_null(error);

    json_object_set_new(state, "me", json_string("1"));
    struct wire_request *req = drv->history_begin(&test_acct, state, &error);
    assert_null(error);
    assert_authorized_get(req);
    assert_string_equal(req->url, SERVER "/api/v1/accounts/1/statuses?exclude_reblogs=true&limit=40");
    wire_request_free(req);

    json_object_set_new(state, "history_since", json_string("113402000000000005"));
    req = drv->history_begin(&test_acct, state, &error);
    assert_string_equal(req->url,
                        SERVER "/api/v1/accounts/1/statuses?exclude_reblogs=true&limit=40&since_id=113402000000000005");
    wire_request_free(req);
    json_decref(state);
}

static void test_history_replies(void **unused)
{
    (void)unused;
    const struct net_driver *drv = driver();
    json_t *state = state_new(true, "113400000000000000");
    struct wire_request *req = drv->history_begin(&test_acct, state, NULL);
    struct net_result res;
    handle_fixture(state, req, "statuses.json", NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 0);
    assert_poll_done(&res);
    assert_true(res.state_changed);
    /* Replies to others only: the self-reply and the plain post are not. */
    assert_int_equal(res.replies->len, 3);
    struct net_reply *r = g_ptr_array_index(res.replies, 0);
    assert_string_equal(r->remote_id, "113402000000000005");
    assert_string_equal(r->to_author_id, "109876543210987654");
    assert_string_equal(r->to_post_id, "113402875498765432");
    assert_int_equal(r->at, 1785588000); /* 2026-08-01T12:40:00Z */
    r = g_ptr_array_index(res.replies, 1);
    assert_string_equal(r->remote_id, "113402000000000002");
    assert_string_equal(r->to_author_id, "110000000000000002");
    r = g_ptr_array_index(res.replies, 2);
    assert_string_equal(r->remote_id, "99999999999999998");
    assert_string_equal(r->to_author_id, "109300000000000777");
    for (guint i = 0; i < res.replies->len; i++)
        assert_string_not_equal(((struct net_reply *)g_ptr_array_index(res.replies, i))->to_author_id, "1");
    /* Newest by length then digits, whatever the order of the page. */
    assert_string_equal(state_str(state, "history_since"), "113402000000000005");
    /* The notification cursor is not the history cursor. */
    assert_string_equal(state_str(state, "since_id"), "113400000000000000");
    net_result_clear(&res);
    wire_request_free(req);

    /* Next time: only newer, and an empty answer keeps the cursor. */
    req = drv->history_begin(&test_acct, state, NULL);
    assert_non_null(strstr(req->url, "&since_id=113402000000000005"));
    handle(state, req, 200, "[]", NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.replies->len, 0);
    assert_string_equal(state_str(state, "history_since"), "113402000000000005");
    net_result_clear(&res);

    /* A server ignoring since_id (older statuses) does not move the cursor back. */
    handle(state, req, 200,
           "[{\"id\": \"99999999999999997\", \"created_at\": \"2018-01-31T09:00:00.000Z\", "
           "\"in_reply_to_id\": null, \"in_reply_to_account_id\": null, \"visibility\": \"public\"}]",
           NULL, &res);
    assert_int_equal(res.outcome, NET_OK);
    assert_string_equal(state_str(state, "history_since"), "113402000000000005");
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

static void test_history_bad_answers(void **unused)
{
    (void)unused;
    const struct net_driver *drv = driver();
    static const char *const bodies[] = { "{\"error\":\"nope\"}", "[{\"id\": \"1\"", "" };
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        json_t *state = state_new(true, NULL);
        json_object_set_new(state, "history_since", json_string("113402000000000001"));
        struct wire_request *req = drv->history_begin(&test_acct, state, NULL);
        g_autofree char *before = json_dumps(state, JSON_SORT_KEYS);
        struct net_result res;
        handle(state, req, 200, bodies[i], NULL, &res);
        g_autofree char *after = json_dumps(state, JSON_SORT_KEYS);
        assert_int_equal(res.outcome, NET_RETRY);
        assert_false(res.state_changed);
        assert_int_equal(res.replies->len, 0);
        assert_string_equal(after, before);
        net_result_clear(&res);
        wire_request_free(req);
        json_decref(state);
    }
    json_t *state = state_new(true, NULL);
    struct wire_request *req = drv->history_begin(&test_acct, state, NULL);
    struct net_result res;
    handle(state, req, 401, "{\"error\":\"The access token is invalid\"}", NULL, &res);
    assert_int_equal(res.outcome, NET_AUTH);
    assert_null(json_object_get(state, "history_since"));
    net_result_clear(&res);
    wire_request_free(req);
    json_decref(state);
}

/* ---- streaming discovery ------------------------------------------------------------ */

static struct wire_request *stream_begin(json_t *state)
{
    const struct net_driver *drv = driver();
    assert_non_null(drv->stream_begin);
    char *error = NULL;
    struct wire_request *req = drv->stream_begin(&test_acct, state, &error);
    assert_null(error);
    assert_non_null(req);
    return req;
}

static void test_stream_discovery(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, "113402875522116021");
    struct wire_request *req = stream_begin(state);
    assert_string_equal(req->url, SERVER "/api/v2/instance");
    assert_false(req->stream);
    struct net_result res;
    handle_fixture(state, req, "instance.json", NULL, &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    /* The streaming host named by the instance, over https. */
    assert_non_null(res.next);
    assert_string_equal(res.next->url, "https://streaming.m.example/api/v1/streaming/health");
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    handle(state, req, 200, "OK", NULL, &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_non_null(res.next);
    assert_true(res.next->stream);
    assert_string_equal(res.next->url, "https://streaming.m.example/api/v1/streaming/user/notification");
    assert_true(has_header(res.next, "Authorization: Bearer tok"));
    assert_true(has_header(res.next, "Accept: text/event-stream"));
    net_result_clear(&res);

    /* Known now: the next attempt goes straight to the health check. */
    req = stream_begin(state);
    assert_string_equal(req->url, "https://streaming.m.example/api/v1/streaming/health");
    wire_request_free(req);
    /* Streaming never moves the polling cursor. */
    assert_string_equal(state_str(state, "since_id"), "113402875522116021");
    json_decref(state);
}

/* The stream carries the token: a streaming host outside the account's
 * registrable domain is refused (the account polls); one under it is fine. */
static void test_stream_host_must_share_the_domain(void **unused)
{
    (void)unused;
    static const struct {
        const char *url;
        bool ok;
    } cases[] = {
        { "wss://streaming.m.example", true },   { "wss://M.EXAMPLE", true },
        { "wss://a.b.m.example:4443", true },    { "wss://m.example.evil", false },
        { "wss://evil.example", false },         { "wss://streaming.co.uk", false },
        { "wss://127.0.0.1", false },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        json_t *state = state_new(true, NULL);
        struct wire_request *req = stream_begin(state);
        g_autofree char *body =
            g_strdup_printf("{\"configuration\":{\"urls\":{\"streaming\":\"%s\"}}}", cases[i].url);
        struct net_result res;
        handle(state, req, 200, body, NULL, &res);
        wire_request_free(req);
        if (cases[i].ok) {
            assert_int_equal(res.outcome, NET_OK);
            assert_non_null(res.next);
        } else {
            assert_int_equal(res.outcome, NET_FATAL);
            assert_null(res.next);
            assert_non_null(strstr(res.error, "not sending the token"));
            assert_null(json_object_get(state, "streaming_base"));
        }
        net_result_clear(&res);
        json_decref(state);
    }
    assert_true(net_same_site("example.social", "streaming.example.social"));
    assert_false(net_same_site("example.social", "example.social.evil"));
    assert_false(net_same_site("a.github.io", "b.github.io")); /* a public suffix: different owners */
    assert_true(net_same_site("127.0.0.1", "127.0.0.1"));
    assert_false(net_same_site(NULL, "x"));
}

static void test_stream_event_mention(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, "113400000000000000");
    g_autofree char *body = fixture("direct.json");
    json_t *arr = json_loads(body, 0, NULL);
    g_autofree char *one = json_dumps(json_array_get(arr, 0), JSON_COMPACT);
    json_decref(arr);
    struct net_result res;
    net_result_init(&res);
    driver()->stream_event(&test_acct, state, "notification", one, strlen(one), &res);
    struct mention *m = only_mention(&res);
    assert_string_equal(m->remote_id, "113402900000000100");
    assert_int_equal(m->kind, MENTION_KIND_DIRECT);
    assert_string_equal(state_str(state, "since_id"), "113400000000000000");
    net_result_clear(&res);

    /* Other events and broken payloads bring nothing. */
    net_result_init(&res);
    driver()->stream_event(&test_acct, state, "update", one, strlen(one), &res);
    driver()->stream_event(&test_acct, state, "notification", one, strlen(one) / 2, &res);
    driver()->stream_event(&test_acct, state, "notification", "[]", 2, &res);
    assert_int_equal(res.mentions->len, 0);
    net_result_clear(&res);
    json_decref(state);
}

/* An old server without /api/v2/instance (404) streams on the main host:
 * remembering that is right. A transient failure of the discovery request
 * (5xx, 429) says nothing about where the stream lives and must not be
 * remembered, or a server with a separate streaming host never streams
 * again (the health check on the main host fails, and stream_begin() no
 * longer asks the instance). */
static void test_stream_discovery_transient_failure_not_remembered(void **unused)
{
    (void)unused;
    json_t *state = state_new(true, NULL);
    struct wire_request *req = stream_begin(state);
    struct net_result res;
    handle(state, req, 404, "{\"error\":\"Record not found\"}", NULL, &res);
    wire_request_free(req);
    assert_non_null(res.next);
    assert_string_equal(res.next->url, SERVER "/api/v1/streaming/health");
    net_result_clear(&res);
    json_decref(state);

    static const long transient[] = { 503, 502, 429 };
    for (size_t i = 0; i < G_N_ELEMENTS(transient); i++) {
        state = state_new(true, NULL);
        req = stream_begin(state);
        handle(state, req, transient[i], "<html>busy</html>", NULL, &res);
        wire_request_free(req);
        net_result_clear(&res);
        req = stream_begin(state);
        assert_string_equal(req->url, SERVER "/api/v2/instance");
        wire_request_free(req);
        json_decref(state);
    }
}

/* Markup to words without the driver's code: tags dropped, the five
 * entities unescaped, whitespace runs joined (a paragraph or line break
 * is a space). Enough to say the text is
 * the post's. */
static char *real_words(const char *s)
{
    g_autoptr(GRegex) breaks = g_regex_new("<(br|p|/p)\\b[^>]*>", G_REGEX_CASELESS, 0, NULL);
    g_autoptr(GRegex) tags = g_regex_new("<[^>]*>", 0, 0, NULL);
    g_autoptr(GRegex) space = g_regex_new("\\s+", 0, 0, NULL);
    g_autofree char *b = g_regex_replace_literal(breaks, s, -1, 0, " ", 0, NULL);
    g_autofree char *a = g_regex_replace_literal(tags, b, -1, 0, "", 0, NULL);
    static const char *const ent[][2] = { { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&#39;", "'" },
                                          { "&amp;", "&" } };
    char *cur = g_strdup(a);
    for (size_t i = 0; i < G_N_ELEMENTS(ent); i++) {
        g_auto(GStrv) parts = g_strsplit(cur, ent[i][0], -1);
        g_free(cur);
        cur = g_strjoinv(ent[i][1], parts);
    }
    g_autofree char *joined = g_regex_replace_literal(space, cur, -1, 0, " ", 0, NULL);
    g_free(cur);
    return g_strstrip(g_strdup(joined));
}

/* 49 notifications exactly as mastodon.social and a Mastodon 4.5 server
 * sent them (tests/data/mastodon-real/): every mention with a post becomes
 * a mention with its author and text; mentions whose post is gone
 * ("status": null), admin and "status" notifications do not; nothing is
 * reported unreadable. */
static void test_real_server_notifications(void **unused)
{
    (void)unused;
    g_autofree char *path = g_build_filename(HEED_TEST_DATA, "mastodon-real", "notifications.json", NULL);
    json_error_t jerr;
    g_autoptr(json_t) all = json_load_file(path, 0, &jerr);
    if (!all)
        fail_msg("%s: %s", path, jerr.text);
    assert_int_equal(json_array_size(all), 49);
    static const char *const servers[] = { "mastodon.social", "localhost:3000" };
    size_t total_expected = 0;
    for (size_t si = 0; si < G_N_ELEMENTS(servers); si++) {
        g_autofree char *base = g_strconcat("https://", servers[si], NULL);
        struct net_account a = test_acct;
        a.server = base;
        g_autoptr(json_t) page = json_array();
        g_autoptr(GHashTable) want = g_hash_table_new(g_str_hash, g_str_equal); /* id -> notification */
        size_t i;
        json_t *e;
        json_array_foreach(all, i, e) {
            if (strcmp(json_string_value(json_object_get(e, "server")), servers[si]) != 0)
                continue;
            json_t *n = json_object_get(e, "notification");
            json_array_append(page, n);
            if (strcmp(json_string_value(json_object_get(n, "type")), "mention") == 0 &&
                json_is_object(json_object_get(n, "status")))
                g_hash_table_insert(want, (char *)json_string_value(json_object_get(n, "id")), n);
        }
        total_expected += g_hash_table_size(want);
        g_autofree char *body = json_dumps(page, JSON_COMPACT);
        g_autoptr(json_t) state = state_new(true, "1");
        struct wire_request *req = begin(state);
        struct wire_response resp = { .status = 200, .body = body, .body_len = strlen(body) };
        struct net_result res;
        net_result_init(&res);
        driver()->handle(&a, state, req, &resp, &res);
        assert_int_equal(res.outcome, NET_OK);
        assert_int_equal(res.skipped, 0);
        assert_int_equal(res.mentions->len, g_hash_table_size(want));
        for (guint k = 0; k < res.mentions->len; k++) {
            struct mention *m = g_ptr_array_index(res.mentions, k);
            json_t *n = g_hash_table_lookup(want, m->remote_id);
            assert_non_null(n);
            json_t *acc = json_object_get(n, "account");
            json_t *st = json_object_get(n, "status");
            const char *acct_name = json_string_value(json_object_get(acc, "acct"));
            assert_non_null(strstr(m->author_handle, acct_name));
            assert_string_equal(m->author_name, json_string_value(json_object_get(acc, "display_name"))[0]
                                                    ? json_string_value(json_object_get(acc, "display_name"))
                                                    : m->author_handle);
            g_autofree char *words = real_words(json_string_value(json_object_get(st, "content")));
            g_autofree char *got = real_words(m->text);
            assert_string_equal(got, words);
            assert_true(g_str_has_prefix(m->url, base));
            bool direct = g_strcmp0(json_string_value(json_object_get(st, "visibility")), "direct") == 0;
            assert_int_equal(m->kind == MENTION_KIND_DIRECT, direct);
            assert_true(m->created_at > 1700000000);
        }
        net_result_clear(&res);
        wire_request_free(req);
    }
    assert_int_equal(total_expected, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_registered),
        cmocka_unit_test(test_begin_asks_verify_credentials),
        cmocka_unit_test(test_verify_credentials_sets_me),
        cmocka_unit_test(test_verify_credentials_bad_answers),
        cmocka_unit_test(test_first_page_is_initial_sync),
        cmocka_unit_test(test_first_start_window),
        cmocka_unit_test(test_real_server_notifications),
        cmocka_unit_test(test_read_marker),
        cmocka_unit_test(test_full_page_follows_next),
        cmocka_unit_test(test_next_link_with_since_id_kept_as_is),
        cmocka_unit_test(test_link_to_other_origin_not_followed),
        cmocka_unit_test(test_catchup_bound),
        cmocka_unit_test(test_page_reaching_seen_ids_stops),
        cmocka_unit_test(test_ids_going_backwards_keep_cursor),
        cmocka_unit_test(test_huge_ids_first_run),
        cmocka_unit_test(test_short_server_page_with_more_is_followed),
        cmocka_unit_test(test_mention_remote_fields),
        cmocka_unit_test(test_remote_mention_url_opens_on_own_server),
        cmocka_unit_test(test_mention_local_direct),
        cmocka_unit_test(test_mention_reply_kind),
        cmocka_unit_test(test_mention_content_to_plain_text),
        cmocka_unit_test(test_mention_count_many),
        cmocka_unit_test(test_mention_bot_author),
        cmocka_unit_test(test_mention_missing_optional_fields),
        cmocka_unit_test(test_quote_kind_only_for_users_post),
        cmocka_unit_test(test_null_status_skipped),
        cmocka_unit_test(test_unknown_types_skipped),
        cmocka_unit_test(test_non_array_body),
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_http_auth_refused),
        cmocka_unit_test(test_http_429_rate_limited),
        cmocka_unit_test(test_rate_headers_on_success),
        cmocka_unit_test(test_http_server_errors),
        cmocka_unit_test(test_error_mid_poll_keeps_cursor),
        cmocka_unit_test(test_history_begin),
        cmocka_unit_test(test_history_replies),
        cmocka_unit_test(test_history_bad_answers),
        cmocka_unit_test(test_stream_discovery),
        cmocka_unit_test(test_stream_host_must_share_the_domain),
        cmocka_unit_test(test_stream_event_mention),
        cmocka_unit_test(test_stream_discovery_transient_failure_not_remembered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
