/* SPDX-License-Identifier: MIT */
/* test_net_bluesky: the Bluesky driver (lib/net/bluesky.c) driven by hand.
 *
 * Each test plays the engine: it calls begin()/history_begin(), checks the
 * request, then feeds handle() a fabricated response (fixtures under
 * tests/data/bluesky/ or inline JSON) and checks the mentions, the state
 * and the next request. stderr is captured where the test needs to see
 * what was logged (warnings must name the account and never a secret).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net/net.h"

#ifndef HEED_TEST_DATA
#error "HEED_TEST_DATA must name the tests/data directory"
#endif

#define NOW 1714564800 /* 2024-05-01T12:00:00Z */
#define PASSWORD "abcd-efgh-ijkl-mnop"
#define ACCESS1 "eyJhbGciOiJIUzI1NiJ9.access-one.sig"
#define REFRESH1 "eyJhbGciOiJIUzI1NiJ9.refresh-one.sig"
#define ACCESS2 "eyJhbGciOiJIUzI1NiJ9.access-two.sig"
#define REFRESH2 "eyJhbGciOiJIUzI1NiJ9.refresh-two.sig"
#define ME "did:plc:me7alice"
#define SERVER "https://pds.test"
#define LIST_URL \
    SERVER "/xrpc/app.bsky.notification.listNotifications?limit=50&reasons=mention&reasons=reply&reasons=quote"

/* ---------------------------------------------------------------- helpers */

static const struct net_driver *drv(void)
{
    const struct net_driver *d = net_driver_find("bluesky");
    assert_non_null(d);
    return d;
}

static struct net_account account(void)
{
    return (struct net_account){
        .name = "sky",
        .network = "bluesky",
        .server = SERVER,
        .identifier = "alice.test",
        .secret = PASSWORD,
        .catchup_max_pages = 10,
        .now = NOW,
    };
}

static char *fixture(const char *name)
{
    g_autofree char *path = g_build_filename(HEED_TEST_DATA, "bluesky", name, NULL);
    char *body = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &body, NULL, &err))
        fail_msg("%s: %s", path, err->message);
    return body;
}

/* A state with a live session (and seen_until when given). A deep poll
 * has just been made, so the next poll is a normal one. */
static json_t *session_state(const char *seen_until)
{
    json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "did", ME, "handle", "alice.test", "accessJwt", ACCESS1,
                          "refreshJwt", REFRESH1, "login_identifier", "alice.test", "login_server", SERVER);
    if (seen_until) {
        json_object_set_new(s, "seen_until", json_string(seen_until));
        json_object_set_new(s, "deep_at", json_integer(NOW - 60));
    }
    return s;
}

/* handle() on a response; headers are "name", "value" pairs ending in NULL. */
static void respond_h(const struct net_account *acct, json_t *state, const struct wire_request *req, long status,
                      const char *body, struct net_result *out, ...)
{
    GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    va_list ap;
    va_start(ap, out);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        g_hash_table_insert(h, g_ascii_strdown(k, -1), g_strdup(v));
    }
    va_end(ap);
    struct wire_response resp = { .status = status, .body = body, .body_len = body ? strlen(body) : 0, .headers = h };
    net_result_init(out);
    drv()->handle(acct, state, req, &resp, out);
    g_hash_table_unref(h);
}

#define respond(acct, state, req, status, body, out) respond_h(acct, state, req, status, body, out, NULL)

static void respond_fixture(const struct net_account *acct, json_t *state, const struct wire_request *req, long status,
                            const char *name, struct net_result *out)
{
    g_autofree char *body = fixture(name);
    respond(acct, state, req, status, body, out);
}

static const char *header(const struct wire_request *req, const char *prefix)
{
    for (guint i = 0; i < req->headers->len; i++) {
        const char *h = g_ptr_array_index(req->headers, i);
        if (g_str_has_prefix(h, prefix))
            return h;
    }
    return NULL;
}

static void assert_bearer(const struct wire_request *req, const char *token)
{
    g_autofree char *want = g_strconcat("Authorization: Bearer ", token, NULL);
    const char *got = header(req, "Authorization:");
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void assert_is_login(const struct wire_request *req)
{
    assert_non_null(req);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, SERVER "/xrpc/com.atproto.server.createSession");
    assert_null(header(req, "Authorization:"));
    assert_non_null(req->body);
    assert_string_equal(req->content_type, "application/json");
    json_t *body = json_loads(req->body, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "identifier")), "alice.test");
    assert_string_equal(json_string_value(json_object_get(body, "password")), PASSWORD);
    json_decref(body);
}

static void assert_is_refresh(const struct wire_request *req, const char *refresh)
{
    assert_non_null(req);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, SERVER "/xrpc/com.atproto.server.refreshSession");
    assert_null(req->body);
    assert_bearer(req, refresh);
}

static void assert_is_page(const struct wire_request *req, const char *access, const char *cursor)
{
    assert_non_null(req);
    assert_string_equal(req->method, "GET");
    g_autofree char *want = cursor ? g_strconcat(LIST_URL, "&cursor=", cursor, NULL) : g_strdup(LIST_URL);
    assert_string_equal(req->url, want);
    assert_null(req->body);
    assert_bearer(req, access);
}

static struct mention *find_mention(struct net_result *res, const char *remote_id)
{
    for (guint i = 0; i < res->mentions->len; i++) {
        struct mention *m = g_ptr_array_index(res->mentions, i);
        if (g_strcmp0(m->remote_id, remote_id) == 0)
            return m;
    }
    return NULL;
}

static const char *sval(json_t *state, const char *key)
{
    return json_string_value(json_object_get(state, key));
}

/* stderr into a file while a test runs a scenario; the text comes back. */
struct capture {
    int saved;
    char *path;
};

static void capture_start(struct capture *c)
{
    GError *err = NULL;
    int fd = g_file_open_tmp("heed-bsky-log-XXXXXX", &c->path, &err);
    assert_true(fd >= 0);
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    log_setup("test", LOG_LVL_DEBUG);
}

static char *capture_end(struct capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    log_setup("test", LOG_LVL_NOTICE);
    char *text = NULL;
    assert_true(g_file_get_contents(c->path, &text, NULL, NULL));
    g_unlink(c->path);
    g_free(c->path);
    return text;
}

static void assert_no_secrets(const char *text)
{
    static const char *const secrets[] = { PASSWORD, ACCESS1, REFRESH1, ACCESS2, REFRESH2, "access-one",
                                           "refresh-one", "access-two", "refresh-two" };
    if (!text)
        return;
    for (size_t i = 0; i < G_N_ELEMENTS(secrets); i++)
        if (strstr(text, secrets[i]))
            fail_msg("a secret (%s) leaked into: %s", secrets[i], text);
}

/* ---------------------------------------------------------------- tests */

static void test_driver_table(void **unused)
{
    (void)unused;
    const struct net_driver *d = drv();
    assert_string_equal(d->name, "bluesky");
    assert_string_equal(d->default_server, "https://bsky.social");
    assert_string_equal(d->web_host, "bsky.app");
    assert_true(d->needs_secret);
    assert_non_null(d->begin);
    assert_non_null(d->history_begin);
    assert_non_null(d->handle);
}

static void test_begin_logs_in_without_session(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    assert_null(error);
    assert_is_login(req);
    wire_request_free(req);

    /* Quotes and backslashes in the password stay JSON. */
    acct.secret = "we\"ird\\pass";
    req = drv()->begin(&acct, state, &error);
    g_autoptr(json_t) body = json_loads(req->body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(body, "password")), "we\"ird\\pass");
    wire_request_free(req);

    acct.secret = NULL;
    req = drv()->begin(&acct, state, &error);
    assert_null(req);
    assert_non_null(error);
    g_free(error);
    error = NULL;

    acct = account();
    acct.identifier = NULL;
    req = drv()->begin(&acct, state, &error);
    assert_null(req);
    assert_non_null(strstr(error, "identifier"));
    g_free(error);
}

static void test_session_reused(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    json_object_set_new(state, "poll_cursor", json_string("stale"));
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    assert_null(error);
    assert_is_page(req, ACCESS1, NULL);
    assert_null(json_object_get(state, "poll_cursor"));
    wire_request_free(req);

    /* A different identifier (or server) means a different session. */
    acct.identifier = "bob.test";
    req = drv()->begin(&acct, state, &error);
    assert_string_equal(req->url, SERVER "/xrpc/com.atproto.server.createSession");
    assert_null(json_object_get(state, "accessJwt"));
    wire_request_free(req);
}

static void test_login_then_first_page(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);

    struct net_result res;
    respond_fixture(&acct, state, req, 200, "session.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.state_changed);
    assert_int_equal(res.mentions->len, 0);
    assert_string_equal(sval(state, "did"), ME);
    assert_string_equal(sval(state, "handle"), "alice.test");
    assert_string_equal(sval(state, "accessJwt"), ACCESS1);
    assert_string_equal(sval(state, "refreshJwt"), REFRESH1);
    assert_string_equal(sval(state, "login_identifier"), "alice.test");
    assert_string_equal(sval(state, "login_server"), SERVER);
    assert_is_page(res.next, ACCESS1, NULL);
    req = res.next;
    res.next = NULL;
    net_result_clear(&res);

    /* First start: history, read back through the cursor (7 days or
     * catchup_max_pages), listed but never popped up. */
    respond_fixture(&acct, state, req, 200, "page-mixed.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.initial_sync);
    assert_false(res.state_changed);
    assert_int_equal(res.mentions->len, 3);
    assert_is_page(res.next, ACCESS1, "opaque-cursor-1");
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    respond_fixture(&acct, state, req, 200, "page-old.json", &res);
    wire_request_free(req);
    assert_true(res.initial_sync);
    assert_int_equal(res.mentions->len, 2);
    req = g_steal_pointer(&res.next);
    assert_non_null(req);
    net_result_clear(&res);

    respond(&acct, state, req, 200, "{\"notifications\":[]}", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.initial_sync);
    assert_true(res.state_changed);
    assert_null(res.next);
    assert_null(res.notice);
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:59:30.500Z");
    assert_null(json_object_get(state, "poll_pages"));
    assert_null(json_object_get(state, "poll_cursor"));
    assert_null(json_object_get(state, "poll_floor"));
    net_result_clear(&res);

    /* The next poll reuses the session. */
    req = drv()->begin(&acct, state, &error);
    assert_is_page(req, ACCESS1, NULL);
    wire_request_free(req);
}

static void test_first_page_empty(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state(NULL);
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond_h(&acct, state, req, 200, "{\"notifications\":[]}", &res, "Date",
              "Wed, 01 May 2024 11:58:20 GMT", NULL);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.initial_sync);
    assert_null(res.next);
    assert_true(res.state_changed);
    /* The server's clock, not ours. */
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:58:20.000Z");
    net_result_clear(&res);

    /* Without a Date header: our clock. */
    json_object_del(state, "seen_until");
    respond(&acct, state, req, 200, "{\"notifications\":[]}", &res);
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T12:00:00.000Z");
    net_result_clear(&res);
    wire_request_free(req);
}

static void test_parse_fields(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:56:30.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond_fixture(&acct, state, req, 200, "page-mixed.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_false(res.initial_sync);
    assert_int_equal(res.mentions->len, 3); /* the like is not a mention */
    assert_null(find_mention(&res, "at://did:plc:carol/app.bsky.feed.like/3klike1"));

    struct mention *m = find_mention(&res, "at://did:plc:bob/app.bsky.feed.post/3kreply1");
    assert_non_null(m);
    assert_string_equal(m->account, "sky");
    assert_string_equal(m->network, "bluesky");
    assert_int_equal(m->kind, MENTION_KIND_REPLY);
    assert_string_equal(m->post_id, "at://did:plc:bob/app.bsky.feed.post/3kreply1");
    assert_string_equal(m->url, "https://bsky.app/profile/did:plc:bob/post/3kreply1");
    assert_string_equal(m->author_id, "did:plc:bob");
    assert_string_equal(m->author_handle, "bob.test");
    assert_string_equal(m->author_name, "Bob Builder");
    assert_string_equal(m->text, "@alice.test @carol.test are you coming\ntomorrow? https://example.test");
    assert_int_equal(m->created_at, NOW - 31);
    assert_string_equal(m->thread_id, "at://did:plc:me7alice/app.bsky.feed.post/3kroot");
    assert_int_equal(m->mention_count, 2);
    assert_int_equal(m->follows_me, MENTION_YES);
    assert_int_equal(m->i_follow, MENTION_YES);
    assert_int_equal(m->author_bot, MENTION_YES);

    m = find_mention(&res, "at://did:plc:dave/app.bsky.feed.post/3kmention1");
    assert_non_null(m);
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_string_equal(m->author_name, "dave.test"); /* no displayName */
    assert_string_equal(m->text, "hello @alice.test");
    assert_int_equal(m->created_at, NOW - 120);      /* createdAt in 2030: indexedAt instead */
    assert_string_equal(m->thread_id, m->remote_id);
    assert_int_equal(m->mention_count, 1);
    assert_int_equal(m->follows_me, MENTION_NO);     /* viewer present, no follow records */
    assert_int_equal(m->i_follow, MENTION_NO);
    assert_int_equal(m->author_bot, MENTION_UNKNOWN);

    m = find_mention(&res, "at://did:plc:erin/app.bsky.feed.post/3kquote1");
    assert_non_null(m);
    assert_int_equal(m->kind, MENTION_KIND_QUOTE);
    assert_string_equal(m->author_name, "erin.test"); /* empty displayName */
    assert_string_equal(m->url, "https://bsky.app/profile/did:plc:erin/post/3kquote1");
    assert_int_equal(m->created_at, NOW - 181);
    assert_int_equal(m->follows_me, MENTION_UNKNOWN);
    assert_int_equal(m->i_follow, MENTION_UNKNOWN);
    net_result_clear(&res);
}

/* jansson refuses "\u0000" by default: one such post must not stall the account. */
static void test_nul_in_text(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond(&acct, state, req, 200,
            "{\"notifications\":[{\"uri\":\"at://did:plc:n/app.bsky.feed.post/3knul\",\"reason\":\"mention\","
            "\"author\":{\"did\":\"did:plc:n\",\"handle\":\"n.test\",\"displayName\":\"N\\u0000ul\"},"
            "\"record\":{\"text\":\"before\\u0000after\",\"createdAt\":\"2024-05-01T11:59:00Z\"},"
            "\"indexedAt\":\"2024-05-01T11:59:01Z\"}]}",
            &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 1);
    struct mention *m = g_ptr_array_index(res.mentions, 0);
    assert_string_equal(m->text, "before");
    assert_string_equal(m->author_name, "N");
    net_result_clear(&res);
}

/* seen_until is older than the whole first page: follow the cursor through
 * an empty (filtered) page to the page that reaches it. */
static void test_paging_follows_cursor(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:55:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond_fixture(&acct, state, req, 200, "page-mixed.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 3);
    assert_false(res.state_changed);
    assert_is_page(res.next, ACCESS1, "opaque-cursor-1");
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    respond_fixture(&acct, state, req, 200, "page-empty-cursor.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.mentions->len, 0);
    assert_false(res.state_changed);
    assert_is_page(res.next, ACCESS1, "opaque-cursor-2");
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    /* Reaches seen_until: stops although a cursor came back. Items older
     * than seen_until that were never passed on (posts dated back by their
     * author's client) are passed on too: what is new is decided by
     * identity, not by time. */
    respond_fixture(&acct, state, req, 200, "page-old.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_null(res.next);
    assert_true(res.state_changed);
    assert_int_equal(res.mentions->len, 2);
    assert_non_null(find_mention(&res, "at://did:plc:frank/app.bsky.feed.post/3kslightlylate"));
    assert_non_null(find_mention(&res, "at://did:plc:gina/app.bsky.feed.post/3klongago"));
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:59:30.500Z");
    assert_null(json_object_get(state, "poll_newest"));
    assert_null(json_object_get(state, "poll_pages"));
    assert_null(json_object_get(state, "poll_cursor"));
    net_result_clear(&res);
}

/* The AppView's cursor is a time: an empty page whose cursor is already
 * before seen_until ends the poll. */
static void test_time_cursor_ends_poll(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:55:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond(&acct, state, req, 200, "{\"notifications\":[],\"cursor\":\"2024-05-01T11:56:00.000Z\"}", &res);
    assert_non_null(res.next); /* still after seen_until: go on */
    assert_false(res.state_changed);
    wire_request_free(req);
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    respond(&acct, state, req, 200, "{\"notifications\":[],\"cursor\":\"2024-05-01T11:54:00.000Z\"}", &res);
    wire_request_free(req);
    assert_null(res.next);
    assert_true(res.state_changed);
    /* Everything up to the first page's cursor time was read. */
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:56:00.000Z");
    net_result_clear(&res);

    /* Nothing new since: the first page's cursor is seen_until itself. One request. */
    req = drv()->begin(&acct, state, &error);
    respond(&acct, state, req, 200, "{\"notifications\":[],\"cursor\":\"2024-05-01T11:56:00.000Z\"}", &res);
    wire_request_free(req);
    assert_null(res.next);
    assert_true(res.state_changed);
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:56:00.000Z");
    net_result_clear(&res);
}

static void test_catchup_max_pages(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    acct.catchup_max_pages = 2;
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond_fixture(&acct, state, req, 200, "page-mixed.json", &res);
    wire_request_free(req);
    req = g_steal_pointer(&res.next);
    assert_non_null(req);
    net_result_clear(&res);
    respond_fixture(&acct, state, req, 200, "page-empty-cursor.json", &res);
    wire_request_free(req);
    assert_null(res.next);
    assert_non_null(res.notice);
    assert_non_null(strstr(res.notice, "catchup_max_pages"));
    assert_true(res.state_changed);
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:59:30.500Z");
    net_result_clear(&res);
}

static void test_same_cursor_twice_stops(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond_fixture(&acct, state, req, 200, "page-empty-cursor.json", &res);
    wire_request_free(req);
    req = g_steal_pointer(&res.next);
    assert_is_page(req, ACCESS1, "opaque-cursor-2");
    net_result_clear(&res);
    struct capture c;
    capture_start(&c);
    respond_fixture(&acct, state, req, 200, "page-empty-cursor.json", &res);
    g_autofree char *log = capture_end(&c);
    wire_request_free(req);
    assert_null(res.next);
    assert_true(res.state_changed);
    /* Said through the result (the engine logs it once), not logged per poll. */
    assert_non_null(res.notice);
    assert_non_null(strstr(res.notice, "cursor it was given"));
    assert_null(strstr(log, "warning"));
    net_result_clear(&res);
}

static void test_bad_items_skipped(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    struct capture c;
    capture_start(&c);
    respond_fixture(&acct, state, req, 200, "page-bad.json", &res);
    g_autofree char *log = capture_end(&c);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_null(res.next); /* the cursor was a number */
    assert_true(res.state_changed);
    assert_int_equal(res.mentions->len, 2);
    struct mention *good = find_mention(&res, "at://did:plc:good/app.bsky.feed.post/3kgood");
    assert_non_null(good);
    assert_string_equal(good->author_name, "Good");
    /* Odd types in optional fields do not cost the mention. */
    struct mention *odd = find_mention(&res, "at://did:plc:m/app.bsky.feed.post/3kviewerweird");
    assert_non_null(odd);
    assert_string_equal(odd->author_name, "m.test");
    assert_int_equal(odd->follows_me, MENTION_UNKNOWN);
    assert_int_equal(odd->author_bot, MENTION_UNKNOWN);
    assert_int_equal(odd->mention_count, 1);
    assert_string_equal(odd->thread_id, odd->remote_id);
    assert_int_equal(odd->created_at, NOW - 48);
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:59:13.000Z");

    static const char *const expected[] = {
        "is not an object",     "no author",          "record is not an object", "record has no text",
        "no uri",               "no valid indexedAt", "at://g.test/",            "3k/extra",
        "app.bsky.feed.generator", "3k?x=1",          "no reason",               "no did or handle",
        "\"cursor\" is not a string",
    };
    /* Each item is reported through the result, which the engine logs once
     * (not on every poll that reads the same page). */
    g_autofree char *said = g_strconcat(res.skip_reason ? res.skip_reason : "", "\n", res.notice ? res.notice : "", NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(expected); i++)
        if (!strstr(said, expected[i]))
            fail_msg("nothing said about \"%s\" in:\n%s", expected[i], said);
    assert_true(res.skipped >= 12);
    assert_null(strstr(log, "warning"));
    net_result_clear(&res);
}

static void test_truncated_json_keeps_state(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    g_autoptr(json_t) before = json_deep_copy(state);
    static const char *const bodies[] = { NULL, "", "{\"notifications\":{}}", "[1,2]", "{\"cursor\":\"x\"}",
                                          "{\"notifications\":null}" };
    struct net_result res;
    respond_fixture(&acct, state, req, 200, "truncated.json", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_false(res.state_changed);
    assert_null(res.next);
    assert_int_equal(res.mentions->len, 0);
    assert_non_null(res.error);
    assert_true(json_equal(state, before));
    net_result_clear(&res);
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        respond(&acct, state, req, 200, bodies[i], &res);
        assert_int_equal(res.outcome, NET_RETRY);
        assert_false(res.state_changed);
        assert_null(res.next);
        assert_true(json_equal(state, before));
        net_result_clear(&res);
    }
    wire_request_free(req);
}

/* ExpiredToken on a page -> refreshSession -> the same page again. */
static void test_expired_token_refreshes(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    /* Mid-poll, so the page to repeat has a cursor. */
    respond_fixture(&acct, state, req, 200, "page-empty-cursor.json", &res);
    wire_request_free(req);
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    respond_fixture(&acct, state, req, 400, "error-expired.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_false(res.state_changed);
    assert_is_refresh(res.next, REFRESH1);
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    respond_fixture(&acct, state, req, 200, "refresh.json", &res);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.state_changed); /* the old refresh token is spent: save the new one now */
    assert_string_equal(sval(state, "accessJwt"), ACCESS2);
    assert_string_equal(sval(state, "refreshJwt"), REFRESH2);
    assert_is_page(res.next, ACCESS2, "opaque-cursor-2");
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    /* Refused again at once: no second refresh in this chain. */
    respond_fixture(&acct, state, req, 401, "error-expired.json", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_null(res.next);
    net_result_clear(&res);
    respond_fixture(&acct, state, req, 401, "error-auth.json", &res);
    assert_int_equal(res.outcome, NET_AUTH);
    assert_null(res.next);
    net_result_clear(&res);
    wire_request_free(req);

    /* A 401 (ExpiredToken or not) on a fresh chain refreshes too, as does InvalidToken. */
    static const struct {
        long status;
        const char *body;
    } cases[] = { { 401, "error-expired.json" }, { 401, "error-auth.json" }, { 400, "error-invalid.json" } };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        req = drv()->begin(&acct, state, &error);
        respond_fixture(&acct, state, req, cases[i].status, cases[i].body, &res);
        assert_int_equal(res.outcome, NET_OK);
        assert_is_refresh(res.next, REFRESH2);
        net_result_clear(&res);
        wire_request_free(req);
    }
}

/* The refresh token is dead too: drop the session, createSession once. */
static void test_dead_refresh_logs_in_once(void **unused)
{
    (void)unused;
    static const char *const dead[] = { "error-expired.json", "error-invalid.json" };
    for (size_t i = 0; i < G_N_ELEMENTS(dead); i++) {
        struct net_account acct = account();
        g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
        char *error = NULL;
        struct wire_request *req = drv()->begin(&acct, state, &error);
        struct net_result res;
        respond_fixture(&acct, state, req, 400, "error-expired.json", &res);
        wire_request_free(req);
        req = g_steal_pointer(&res.next);
        assert_is_refresh(req, REFRESH1);
        net_result_clear(&res);

        respond_fixture(&acct, state, req, 400, dead[i], &res);
        wire_request_free(req);
        assert_int_equal(res.outcome, NET_OK);
        assert_true(res.state_changed); /* the dead session is forgotten for good */
        assert_null(json_object_get(state, "accessJwt"));
        assert_null(json_object_get(state, "refreshJwt"));
        assert_is_login(res.next);
        req = g_steal_pointer(&res.next);
        net_result_clear(&res);

        respond_fixture(&acct, state, req, 200, "session.json", &res);
        wire_request_free(req);
        assert_int_equal(res.outcome, NET_OK);
        assert_true(res.state_changed);
        assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:00:00.000Z"); /* same account */
        assert_is_page(res.next, ACCESS1, NULL);
        req = g_steal_pointer(&res.next);
        net_result_clear(&res);

        /* The new session is refused as well: give up, no more logins. */
        respond_fixture(&acct, state, req, 400, "error-expired.json", &res);
        assert_int_equal(res.outcome, NET_RETRY);
        assert_null(res.next);
        net_result_clear(&res);
        respond_fixture(&acct, state, req, 401, "error-auth.json", &res);
        assert_int_equal(res.outcome, NET_AUTH);
        assert_null(res.next);
        net_result_clear(&res);
        wire_request_free(req);
    }
}

static void test_refresh_other_failures(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    g_autoptr(json_t) before = json_deep_copy(state);
    char *error = NULL;
    struct wire_request *page = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond_fixture(&acct, state, page, 400, "error-expired.json", &res);
    struct wire_request *req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    respond(&acct, state, req, 502, "<html>bad gateway</html>", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_false(res.state_changed);
    net_result_clear(&res);
    respond(&acct, state, req, 400, "{\"error\":\"AccountTakedown\",\"message\":\"Account has been taken down\"}",
            &res);
    assert_int_equal(res.outcome, NET_AUTH);
    assert_null(res.next);
    net_result_clear(&res);
    respond(&acct, state, req, 200, "{\"accessJwt\":\"a\\r\\nX-Evil: 1\",\"refreshJwt\":\"r\"}", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_false(res.state_changed);
    net_result_clear(&res);
    respond(&acct, state, req, 200, "{\"accessJwt\":", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    net_result_clear(&res);
    assert_true(json_equal(state, before));
    wire_request_free(req);
    wire_request_free(page);
}

static void test_login_failures(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;

    struct capture c;
    capture_start(&c);
    respond_fixture(&acct, state, req, 401, "error-auth.json", &res);
    assert_int_equal(res.outcome, NET_AUTH);
    assert_null(res.next);
    assert_false(res.state_changed);
    assert_true(res.retry_at >= NOW + 1800); /* never loop on createSession */
    assert_non_null(strstr(res.error, "alice.test"));
    assert_non_null(strstr(res.error, "Invalid identifier or password"));
    assert_no_secrets(res.error);
    net_result_clear(&res);

    /* A server that echoes the password does not get it into the log. */
    respond(&acct, state, req, 401, "{\"error\":\"AuthenticationRequired\",\"message\":\"bad password " PASSWORD "\"}",
            &res);
    assert_int_equal(res.outcome, NET_AUTH);
    assert_no_secrets(res.error);
    net_result_clear(&res);

    respond_h(&acct, state, req, 429, "{\"error\":\"RateLimitExceeded\"}", &res, "RateLimit-Remaining", "0",
              "RateLimit-Reset", "1714575600", NULL);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_int_equal(res.retry_at, 1714575600);
    net_result_clear(&res);

    respond(&acct, state, req, 503, "oops", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_true(res.retry_at >= NOW + 1800);
    net_result_clear(&res);

    respond(&acct, state, req, 200, "{\"did\":\"did:plc:x\",\"handle\":\"x\"}", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_true(res.retry_at >= NOW + 1800);
    assert_null(json_object_get(state, "accessJwt"));
    net_result_clear(&res);

    respond(&acct, state, req, 200, "{\"did\":\"not a did\",\"accessJwt\":\"a\",\"refreshJwt\":\"r\"}", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_null(json_object_get(state, "accessJwt"));
    net_result_clear(&res);

    respond(&acct, state, req, 404, "{\"error\":\"MethodNotImplemented\"}", &res);
    assert_int_equal(res.outcome, NET_FATAL);
    net_result_clear(&res);

    g_autofree char *log = capture_end(&c);
    assert_no_secrets(log);
    assert_int_equal(json_object_size(state), 0);
    wire_request_free(req);
}

static void test_login_other_account_resets_cursor(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    json_object_set_new(state, "did", json_string("did:plc:someoneelse"));
    json_object_set_new(state, "history_seen", json_string("2024-05-01T11:00:00.000Z"));
    json_object_set_new(state, "login_identifier", json_string("other.test"));
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    assert_is_login(req);
    struct net_result res;
    respond_fixture(&acct, state, req, 200, "session.json", &res);
    wire_request_free(req);
    assert_string_equal(sval(state, "did"), ME);
    assert_null(json_object_get(state, "seen_until"));
    assert_null(json_object_get(state, "history_seen"));
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);
    respond_fixture(&acct, state, req, 200, "page-mixed.json", &res);
    assert_true(res.initial_sync);
    net_result_clear(&res);
    wire_request_free(req);
}

static void test_status_codes(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    g_autoptr(json_t) before = json_deep_copy(state);
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    static const struct {
        long status;
        const char *body;
        enum net_outcome want;
    } cases[] = {
        { 403, "{\"error\":\"Forbidden\"}", NET_AUTH },
        { 404, "{\"error\":\"XRPCNotSupported\"}", NET_FATAL },
        { 500, "{\"error\":\"InternalServerError\"}", NET_RETRY },
        { 502, "<html>", NET_RETRY },
        { 503, "", NET_RETRY },
        { 400, "{\"error\":\"InvalidRequest\",\"message\":\"The seenAt parameter is unsupported\"}", NET_RETRY },
        { 429, "{\"error\":\"RateLimitExceeded\"}", NET_RETRY },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct net_result res;
        respond(&acct, state, req, cases[i].status, cases[i].body, &res);
        assert_int_equal(res.outcome, cases[i].want);
        assert_null(res.next);
        assert_false(res.state_changed);
        assert_non_null(res.error);
        net_result_clear(&res);
    }
    assert_true(json_equal(state, before));
    wire_request_free(req);
}

static void test_rate_limit_headers(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:59:50.000Z");
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    const char *empty = "{\"notifications\":[]}";

    respond_h(&acct, state, req, 200, empty, &res, "RateLimit-Limit", "3000", "RateLimit-Remaining", "2999",
              "RateLimit-Reset", "1714565100", "RateLimit-Policy", "3000;w=300", NULL);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.rate_remaining, 2999);
    assert_int_equal(res.retry_at, 0);
    net_result_clear(&res);

    respond_h(&acct, state, req, 200, empty, &res, "RateLimit-Remaining", "0", "RateLimit-Reset", "1714565100", NULL);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.rate_remaining, 0);
    assert_int_equal(res.retry_at, 1714565100);
    net_result_clear(&res);

    respond_h(&acct, state, req, 429, "{\"error\":\"RateLimitExceeded\"}", &res, "RateLimit-Remaining", "0",
              "RateLimit-Reset", "1714565100", NULL);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_int_equal(res.retry_at, 1714565100);
    net_result_clear(&res);

    /* No reset: wait a little anyway. A small value is a delta. Garbage is ignored. */
    respond(&acct, state, req, 429, "{\"error\":\"RateLimitExceeded\"}", &res);
    assert_int_equal(res.retry_at, NOW + 60);
    net_result_clear(&res);
    respond_h(&acct, state, req, 429, "{}", &res, "RateLimit-Reset", "120", NULL);
    assert_int_equal(res.retry_at, NOW + 120);
    net_result_clear(&res);
    respond_h(&acct, state, req, 200, empty, &res, "RateLimit-Remaining", "lots", "RateLimit-Reset", "soon", NULL);
    assert_int_equal(res.rate_remaining, -1);
    assert_int_equal(res.retry_at, 0);
    net_result_clear(&res);
    /* A reset years away is capped at a day. */
    respond_h(&acct, state, req, 429, "{}", &res, "RateLimit-Reset", "4102444800", NULL);
    assert_int_equal(res.retry_at, NOW + 86400);
    net_result_clear(&res);
    wire_request_free(req);

    /* createSession's own budget says nothing about polling. */
    json_object_clear(state);
    req = drv()->begin(&acct, state, &error);
    respond_h(&acct, state, req, 200, "{}", &res, "RateLimit-Remaining", "29", "RateLimit-Reset", "1714565100",
              NULL);
    assert_int_equal(res.rate_remaining, -1);
    net_result_clear(&res);
    const char *session = "{\"did\":\"" ME "\",\"handle\":\"a\",\"accessJwt\":\"a\",\"refreshJwt\":\"r\"}";
    respond_h(&acct, state, req, 200, session, &res, "RateLimit-Remaining", "0", "RateLimit-Reset", "1714565100",
              NULL);
    assert_int_equal(res.outcome, NET_OK);
    assert_int_equal(res.retry_at, 0);
    net_result_clear(&res);
    wire_request_free(req);
}

static void test_history(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) none = json_object();
    char *error = NULL;
    assert_null(drv()->history_begin(&acct, none, &error));
    assert_null(error);

    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    struct wire_request *req = drv()->history_begin(&acct, state, &error);
    assert_non_null(req);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->url, SERVER "/xrpc/app.bsky.feed.getAuthorFeed?actor=did%3Aplc%3Ame7alice"
                                         "&filter=posts_with_replies&limit=50");
    assert_bearer(req, ACCESS1);

    struct net_result res;
    struct capture c;
    capture_start(&c);
    respond_fixture(&acct, state, req, 200, "history.json", &res);
    g_autofree char *log = capture_end(&c);
    wire_request_free(req);
    assert_int_equal(res.outcome, NET_OK);
    assert_true(res.state_changed);
    assert_null(res.next); /* the first reading takes one page */
    assert_int_equal(res.mentions->len, 0);
    assert_int_equal(res.replies->len, 2);
    struct net_reply *r = g_ptr_array_index(res.replies, 0);
    assert_string_equal(r->remote_id, "at://did:plc:me7alice/app.bsky.feed.post/3kmyreply1");
    assert_string_equal(r->to_author_id, "did:plc:bob");
    assert_string_equal(r->to_post_id, "at://did:plc:bob/app.bsky.feed.post/3kreply1");
    assert_int_equal(r->at, NOW - 10);
    r = g_ptr_array_index(res.replies, 1);
    assert_string_equal(r->to_author_id, "did:plc:dave");
    assert_string_equal(r->to_post_id, "at://did:plc:dave/app.bsky.feed.post/3kdavepost");
    assert_string_equal(sval(state, "history_seen"), "2024-05-01T11:59:51.000Z");
    assert_int_equal(res.skipped, 1);
    assert_non_null(strstr(res.skip_reason, "https://evil.example/x"));
    (void)log;
    net_result_clear(&res);

    /* Later: what is older than history_seen (beyond the slack) is not read again. */
    json_object_set_new(state, "history_seen", json_string("2024-05-01T11:59:00.000Z"));
    req = drv()->history_begin(&acct, state, &error);
    respond_fixture(&acct, state, req, 200, "history.json", &res);
    wire_request_free(req);
    assert_int_equal(res.replies->len, 1);
    assert_null(res.next); /* the page reached history_seen */
    net_result_clear(&res);

    /* A page wholly newer than history_seen: follow its cursor. */
    json_object_set_new(state, "history_seen", json_string("2024-04-01T00:00:00.000Z"));
    req = drv()->history_begin(&acct, state, &error);
    respond_fixture(&acct, state, req, 200, "history.json", &res);
    wire_request_free(req);
    assert_non_null(res.next);
    assert_non_null(strstr(res.next->url, "&cursor=history-cursor-1"));
    assert_false(res.state_changed);
    net_result_clear(&res);

    /* Broken answers: retry, state untouched. */
    g_autoptr(json_t) before = json_deep_copy(state);
    req = drv()->history_begin(&acct, state, &error);
    json_object_del(before, "history_cursor"); /* in-flight keys are cleared by history_begin */
    json_object_del(before, "history_pages");
    json_object_del(before, "history_newest");
    respond(&acct, state, req, 200, "{\"feed\":", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_false(res.state_changed);
    net_result_clear(&res);
    respond(&acct, state, req, 200, "{\"feed\":7}", &res);
    assert_int_equal(res.outcome, NET_RETRY);
    net_result_clear(&res);
    assert_true(json_equal(state, before));

    /* An expired token in the history chain refreshes and resumes the history chain. */
    respond_fixture(&acct, state, req, 400, "error-expired.json", &res);
    wire_request_free(req);
    assert_is_refresh(res.next, REFRESH1);
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);
    respond_fixture(&acct, state, req, 200, "refresh.json", &res);
    wire_request_free(req);
    assert_non_null(res.next);
    assert_true(g_str_has_prefix(res.next->url, SERVER "/xrpc/app.bsky.feed.getAuthorFeed?"));
    assert_bearer(res.next, ACCESS2);
    net_result_clear(&res);
}

/* Scenario through every path that touches tokens, with the log captured. */
static void test_no_secrets_logged(void **unused)
{
    (void)unused;
    struct capture c;
    capture_start(&c);
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state(NULL);
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond(&acct, state, req, 400, "{\"error\":\"ExpiredToken\",\"message\":\"token " ACCESS1 " expired\"}", &res);
    assert_no_secrets(res.error);
    wire_request_free(req);
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);
    respond(&acct, state, req, 400, "{\"error\":\"ExpiredToken\",\"message\":\"token " REFRESH1 " expired\"}", &res);
    assert_no_secrets(res.error);
    wire_request_free(req);
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);
    respond(&acct, state, req, 401, "{\"error\":\"AuthenticationRequired\",\"message\":\"" PASSWORD "\"}", &res);
    assert_no_secrets(res.error);
    net_result_clear(&res);
    wire_request_free(req);

    /* A real JWT is longer than what a log line keeps of a message: the
     * check must happen before the cut, or its first part would leak. */
    GString *jwt = g_string_new("eyJhbGciOiJFUzI1NksifQ.");
    while (jwt->len < 400)
        g_string_append(jwt, "longpayload");
    g_autoptr(json_t) long_state = session_state("2024-05-01T11:00:00.000Z");
    json_object_set_new(long_state, "accessJwt", json_string(jwt->str));
    req = drv()->begin(&acct, long_state, &error);
    g_autofree char *body = g_strdup_printf("{\"error\":\"InvalidRequest\",\"message\":\"bad token %s\"}", jwt->str);
    respond(&acct, long_state, req, 400, body, &res);
    assert_int_equal(res.outcome, NET_RETRY);
    assert_null(strstr(res.error, "longpayload"));
    net_result_clear(&res);
    wire_request_free(req);
    g_string_free(jwt, TRUE);

    g_autofree char *log = capture_end(&c);
    assert_no_secrets(log);
    assert_null(strstr(log, "longpayload"));
    assert_non_null(strstr(log, "sky: session ended"));
}

/* A notification item for hand-made pages. */
static char *item(const char *rkey, const char *reason, const char *sort_at)
{
    return g_strdup_printf("{\"uri\":\"at://did:plc:pat/app.bsky.feed.post/%s\",\"reason\":\"%s\","
                           "\"author\":{\"did\":\"did:plc:pat\",\"handle\":\"pat.test\"},"
                           "\"record\":{\"text\":\"hi @alice.test\",\"createdAt\":\"%s\"},\"indexedAt\":\"%s\"}",
                           rkey, reason, sort_at, sort_at);
}

static char *page2(const char *a, const char *b, const char *cursor)
{
    return g_strdup_printf("{\"notifications\":[%s%s%s]%s%s%s}", a, b ? "," : "", b ? b : "",
                           cursor ? ",\"cursor\":\"" : "", cursor ? cursor : "", cursor ? "\"" : "");
}

/* A post whose createdAt lies before what was already read (written
 * offline, bridged, a wrong clock) is listed by the AppView at that time,
 * below items already read. It is passed on once, however old it claims to
 * be; the next poll, reading the same page, passes nothing. */
static void test_backdated_passed_once(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:50:00.000Z");
    char *error = NULL;
    g_autofree char *fresh = item("3kfresh", "mention", "2024-05-01T11:59:00.000Z");
    g_autofree char *late15 = item("3klate15", "mention", "2024-05-01T11:35:00.000Z");
    g_autofree char *late2h = item("3klate2h", "reply", "2024-05-01T09:50:00.000Z");
    g_autofree char *body = g_strdup_printf("{\"notifications\":[%s,%s,%s],\"cursor\":\"2024-05-01T09:50:00.000Z\"}",
                                            fresh, late15, late2h);
    for (int poll = 0; poll < 2; poll++) {
        acct.now = NOW + poll * 60;
        struct wire_request *req = drv()->begin(&acct, state, &error);
        struct net_result res;
        respond(&acct, state, req, 200, body, &res);
        wire_request_free(req);
        assert_int_equal(res.outcome, NET_OK);
        assert_null(res.next);
        assert_false(res.initial_sync);
        if (poll == 0) {
            assert_int_equal(res.mentions->len, 3);
            assert_non_null(find_mention(&res, "at://did:plc:pat/app.bsky.feed.post/3klate15"));
            assert_non_null(find_mention(&res, "at://did:plc:pat/app.bsky.feed.post/3klate2h"));
        } else {
            assert_int_equal(res.mentions->len, 0);
        }
        assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:59:00.000Z");
        net_result_clear(&res);
    }
    /* A back-dated post that shows up later, on a page already read. */
    g_autofree char *late_again = item("3klater", "quote", "2024-05-01T11:40:00.000Z");
    g_autofree char *body2 = g_strdup_printf("{\"notifications\":[%s,%s,%s,%s]}", fresh, late15, late_again, late2h);
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond(&acct, state, req, 200, body2, &res);
    wire_request_free(req);
    assert_int_equal(res.mentions->len, 1);
    assert_non_null(find_mention(&res, "at://did:plc:pat/app.bsky.feed.post/3klater"));
    net_result_clear(&res);
}

/* Every BLUESKY_DEEP_EVERY_S a poll reads on below seen_until (a day), so a
 * back-dated post sorted below the first page is found too. */
static void test_deep_poll_finds_backdated(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:59:00.000Z");
    json_object_set_new(state, "deep_at", json_integer(NOW - 601));
    char *error = NULL;
    g_autofree char *a = item("3ka", "mention", "2024-05-01T11:59:00.000Z");
    g_autofree char *old = item("3kbackdated", "mention", "2024-05-01T08:00:00.000Z");
    g_autofree char *p1 = page2(a, NULL, "2024-05-01T11:00:00.000Z");
    g_autofree char *p2 = page2(old, NULL, "2024-04-30T08:00:00.000Z");

    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond(&acct, state, req, 200, p1, &res);
    wire_request_free(req);
    assert_int_equal(res.mentions->len, 1); /* 3ka: never passed on before */
    assert_is_page(res.next, ACCESS1, "2024-05-01T11%3A00%3A00.000Z");
    req = g_steal_pointer(&res.next);
    net_result_clear(&res);

    respond(&acct, state, req, 200, p2, &res);
    wire_request_free(req);
    assert_null(res.next);   /* the cursor is a day below seen_until */
    assert_null(res.notice); /* no gap: seen_until was reached on page one */
    assert_int_equal(res.mentions->len, 1);
    assert_non_null(find_mention(&res, "at://did:plc:pat/app.bsky.feed.post/3kbackdated"));
    assert_true(res.state_changed);
    assert_int_equal(json_integer_value(json_object_get(state, "deep_at")), NOW);
    net_result_clear(&res);

    /* A minute later the poll is a normal one again: one page. */
    acct.now = NOW + 60;
    req = drv()->begin(&acct, state, &error);
    respond(&acct, state, req, 200, p1, &res);
    wire_request_free(req);
    assert_null(res.next);
    assert_int_equal(res.mentions->len, 0);
    net_result_clear(&res);
}

/* The first start reads back seven days, or catchup_max_pages pages,
 * whichever ends first; all of it is initial_sync, and running out of pages
 * there is not a gap worth a notice. */
static void test_first_start_window(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state(NULL);
    char *error = NULL;
    g_autofree char *a = item("3knew", "mention", "2024-05-01T11:00:00.000Z");
    g_autofree char *b = item("3kweek", "reply", "2024-04-25T12:00:00.000Z");
    g_autofree char *c = item("3kmonth", "reply", "2024-04-01T12:00:00.000Z");
    g_autofree char *p1 = page2(a, NULL, "2024-04-30T00:00:00.000Z");
    g_autofree char *p2 = page2(b, c, "2024-04-01T12:00:00.000Z");

    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond(&acct, state, req, 200, p1, &res);
    wire_request_free(req);
    assert_true(res.initial_sync);
    assert_int_equal(res.mentions->len, 1);
    req = g_steal_pointer(&res.next);
    assert_non_null(req);
    net_result_clear(&res);
    respond(&acct, state, req, 200, p2, &res);
    wire_request_free(req);
    assert_true(res.initial_sync);
    assert_null(res.next);
    assert_int_equal(res.mentions->len, 1); /* the month-old one is outside the window */
    assert_non_null(find_mention(&res, "at://did:plc:pat/app.bsky.feed.post/3kweek"));
    assert_string_equal(sval(state, "seen_until"), "2024-05-01T11:00:00.000Z");
    net_result_clear(&res);

    /* Bounded by catchup_max_pages, without a notice. */
    g_autoptr(json_t) state2 = session_state(NULL);
    acct.catchup_max_pages = 1;
    req = drv()->begin(&acct, state2, &error);
    respond(&acct, state2, req, 200, p1, &res);
    wire_request_free(req);
    assert_true(res.initial_sync);
    assert_null(res.next);
    assert_null(res.notice);
    assert_int_equal(res.mentions->len, 1);
    net_result_clear(&res);
}

/* "known" stays bounded: entries far behind seen_until go, and no more
 * than BLUESKY_KNOWN_MAX (2000) are kept. */
static void test_known_bounded(void **unused)
{
    (void)unused;
    struct net_account acct = account();
    g_autoptr(json_t) state = session_state("2024-05-01T11:00:00.000Z");
    json_t *known = json_object();
    for (int i = 0; i < 2500; i++) {
        g_autofree char *uri = g_strdup_printf("at://did:plc:k/app.bsky.feed.post/3k%d", i);
        g_autofree char *t = g_strdup_printf("2024-05-01T10:%02d:%02d.000Z", (i / 60) % 60, i % 60);
        json_object_set_new(known, uri, json_string(t));
    }
    json_object_set_new(known, "at://did:plc:k/app.bsky.feed.post/3kancient", json_string("2024-04-01T00:00:00.000Z"));
    json_object_set_new(state, "known", known);
    char *error = NULL;
    struct wire_request *req = drv()->begin(&acct, state, &error);
    struct net_result res;
    respond(&acct, state, req, 200, "{\"notifications\":[]}", &res);
    wire_request_free(req);
    assert_true(res.state_changed);
    known = json_object_get(state, "known");
    assert_true(json_object_size(known) <= 2000);
    assert_true(json_object_size(known) >= 1900);
    assert_null(json_object_get(known, "at://did:plc:k/app.bsky.feed.post/3kancient"));
    assert_non_null(json_object_get(known, "at://did:plc:k/app.bsky.feed.post/3k2499")); /* the newest stay */
    net_result_clear(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_table),
        cmocka_unit_test(test_begin_logs_in_without_session),
        cmocka_unit_test(test_session_reused),
        cmocka_unit_test(test_login_then_first_page),
        cmocka_unit_test(test_first_page_empty),
        cmocka_unit_test(test_backdated_passed_once),
        cmocka_unit_test(test_deep_poll_finds_backdated),
        cmocka_unit_test(test_first_start_window),
        cmocka_unit_test(test_known_bounded),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_nul_in_text),
        cmocka_unit_test(test_paging_follows_cursor),
        cmocka_unit_test(test_time_cursor_ends_poll),
        cmocka_unit_test(test_catchup_max_pages),
        cmocka_unit_test(test_same_cursor_twice_stops),
        cmocka_unit_test(test_bad_items_skipped),
        cmocka_unit_test(test_truncated_json_keeps_state),
        cmocka_unit_test(test_expired_token_refreshes),
        cmocka_unit_test(test_dead_refresh_logs_in_once),
        cmocka_unit_test(test_refresh_other_failures),
        cmocka_unit_test(test_login_failures),
        cmocka_unit_test(test_login_other_account_resets_cursor),
        cmocka_unit_test(test_status_codes),
        cmocka_unit_test(test_rate_limit_headers),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_no_secrets_logged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
