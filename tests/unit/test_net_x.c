/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/net/x.c, the X API v2 driver: requests it builds from
 * state, and what it makes of recorded-style responses (tests/data/x/) and
 * of generated pages. The driver is pure, so each test is a few begin() /
 * handle() calls on a JSON state object. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "net/net.h"

#define NOW ((int64_t)1772600000) /* 2026-03-04 */
#define TOKEN "xtok-SECRET-4f9a2c-never-log-me"
#define ME "1600000000000000001"
#define SERVER "https://api.x.test"
#define ACCOUNT "xtest"
#define MENTIONS_URL                                                                                               \
    SERVER "/2/users/" ME "/mentions?max_results=100&expansions=author_id"                                      \
           "&tweet.fields=created_at,conversation_id,in_reply_to_user_id,referenced_tweets,entities"             \
           "&user.fields=username,name,profile_image_url"
#define TWEETS_URL SERVER "/2/users/" ME "/tweets?max_results=100&tweet.fields=created_at,in_reply_to_user_id,referenced_tweets"

/* ---- helpers ---------------------------------------------------------------- */

static const struct net_driver *x_drv(void)
{
    const struct net_driver *d = net_driver_find("x");
    assert_non_null(d);
    return d;
}

static struct net_account acct_with(int max_pages)
{
    return (struct net_account){
        .name = ACCOUNT,
        .network = "x",
        .server = SERVER,
        .secret = TOKEN,
        .catchup_max_pages = max_pages,
        .now = NOW,
    };
}

static char *fixture(const char *name, size_t *len)
{
    g_autofree char *path = g_build_filename(HEED_TEST_DATA, "x", name, NULL);
    char *body = NULL;
    gsize n = 0;
    GError *err = NULL;
    if (!g_file_get_contents(path, &body, &n, &err))
        fail_msg("fixture %s: %s", path, err->message);
    *len = n;
    return body;
}

/* handle() one response given as a string; out is initialised here. */
static void handle_body(const struct net_account *acct, json_t *state, const struct wire_request *req, long status,
                        const char *body, size_t len, GHashTable *headers, struct net_result *out)
{
    struct wire_response resp = { .status = status, .body = body, .body_len = len, .headers = headers };
    net_result_init(out);
    x_drv()->handle(acct, state, req, &resp, out);
}

static void handle_file(const struct net_account *acct, json_t *state, const struct wire_request *req, long status,
                        const char *name, GHashTable *headers, struct net_result *out)
{
    size_t len;
    g_autofree char *body = fixture(name, &len);
    handle_body(acct, state, req, status, body, len, headers, out);
}

static void handle_str(const struct net_account *acct, json_t *state, const struct wire_request *req, long status,
                       const char *body, struct net_result *out)
{
    handle_body(acct, state, req, status, body, strlen(body), NULL, out);
}

static struct wire_request *begin(const struct net_account *acct, json_t *state)
{
    char *error = NULL;
    struct wire_request *req = x_drv()->begin(acct, state, &error);
    assert_null(error);
    assert_non_null(req);
    return req;
}

static json_t *state_watching(const char *since_id)
{
    json_t *s = json_pack("{s:s, s:s, s:b}", "me", ME, "me_username", "heed_user", "initialized", 1);
    if (since_id)
        json_object_set_new(s, "since_id", json_string(since_id));
    return s;
}

static char *state_dump(json_t *state)
{
    return json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
}

static const char *state_str(json_t *state, const char *key)
{
    return json_string_value(json_object_get(state, key));
}

static bool has_header(const struct wire_request *req, const char *line)
{
    for (guint i = 0; i < req->headers->len; i++)
        if (strcmp(g_ptr_array_index(req->headers, i), line) == 0)
            return true;
    return false;
}

static struct mention *mention_at(struct net_result *out, guint i)
{
    assert_true(i < out->mentions->len);
    return g_ptr_array_index(out->mentions, i);
}

static struct mention *mention_by_id(struct net_result *out, const char *id)
{
    for (guint i = 0; i < out->mentions->len; i++) {
        struct mention *m = g_ptr_array_index(out->mentions, i);
        if (g_strcmp0(m->remote_id, id) == 0)
            return m;
    }
    fail_msg("no mention %s in the result", id);
    return NULL;
}

/* stderr captured into a temporary file, to see what the driver logs. */
struct capture {
    int saved;
    char *path;
};

static void capture_start(struct capture *c)
{
    fflush(stderr);
    GError *err = NULL;
    int fd = g_file_open_tmp("test_net_x-XXXXXX", &c->path, &err);
    assert_true(fd >= 0);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
}

static char *capture_end(struct capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    char *text = NULL;
    assert_true(g_file_get_contents(c->path, &text, NULL, NULL));
    g_unlink(c->path);
    g_free(c->path);
    return text;
}

/* A generated mentions page: count posts with ids first, first-1, ...
 * (19 digits), newest first, and a next_token unless next is NULL. */
static char *make_page(int64_t first, int count, const char *next)
{
    json_t *data = json_array();
    for (int i = 0; i < count; i++) {
        char id[32];
        snprintf(id, sizeof id, "%" PRId64, first - i);
        json_array_append_new(data, json_pack("{s:s, s:s, s:s, s:s}", "id", id, "text", "@heed_user hi",
                                              "author_id", "2001", "created_at", "2026-03-02T10:00:00.000Z"));
    }
    json_t *meta = json_pack("{s:i}", "result_count", count);
    if (count > 0) {
        char id[32];
        snprintf(id, sizeof id, "%" PRId64, first);
        json_object_set_new(meta, "newest_id", json_string(id));
        snprintf(id, sizeof id, "%" PRId64, first - count + 1);
        json_object_set_new(meta, "oldest_id", json_string(id));
    }
    if (next)
        json_object_set_new(meta, "next_token", json_string(next));
    json_t *root = json_pack("{s:o, s:{s:[{s:s, s:s, s:s}]}, s:o}", "data", data, "includes", "users", "id", "2001",
                             "name", "Alice Example", "username", "alice", "meta", meta);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

/* ---- driver table and first requests ------------------------------------------ */

static void test_driver_table(void **unused)
{
    (void)unused;
    const struct net_driver *d = x_drv();
    assert_string_equal(d->name, "x");
    assert_string_equal(d->default_server, "https://api.x.com");
    assert_string_equal(d->web_host, "x.com");
    assert_true(d->needs_secret);
    assert_non_null(d->begin);
    assert_non_null(d->history_begin);
    assert_non_null(d->handle);
}

static void test_users_me_once(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = json_object();

    struct wire_request *req = begin(&acct, state);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->url, SERVER "/2/users/me");
    assert_true(has_header(req, "Authorization: Bearer " TOKEN));

    struct net_result out;
    handle_file(&acct, state, req, 200, "me.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_true(out.state_changed);
    assert_int_equal(out.mentions->len, 0);
    assert_string_equal(state_str(state, "me"), ME);
    assert_string_equal(state_str(state, "me_username"), "heed_user");
    /* The same poll goes on to the first page, without since_id. */
    assert_non_null(out.next);
    assert_string_equal(out.next->url, MENTIONS_URL);
    assert_true(has_header(out.next, "Authorization: Bearer " TOKEN));
    net_result_clear(&out);
    wire_request_free(req);

    /* After a restart (state read back from the store) the id is known. */
    g_autofree char *saved = state_dump(state);
    g_autoptr(json_t) reloaded = json_loads(saved, 0, NULL);
    req = begin(&acct, reloaded);
    assert_string_equal(req->url, MENTIONS_URL);
    wire_request_free(req);
}

static void test_users_me_bad_answers(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    const char *bodies[] = {
        "{\"data\":{\"id\":1600000000000000001,\"username\":\"heed_user\"}}",
        "{\"data\":{\"id\":\"me\",\"username\":\"heed_user\"}}",
        "{\"data\":\"1600000000000000001\"}",
        "{\"data\":null}",
        "{}",
        "[]",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
        g_autoptr(json_t) state = json_object();
        struct wire_request *req = begin(&acct, state);
        struct net_result out;
        handle_str(&acct, state, req, 200, bodies[i], &out);
        assert_int_equal(out.outcome, NET_RETRY);
        assert_non_null(out.error);
        assert_null(out.next);
        assert_false(out.state_changed);
        assert_null(json_object_get(state, "me"));
        net_result_clear(&out);
        wire_request_free(req);
    }

    /* An odd username is not stored (it would end up in URLs); the id is. */
    g_autoptr(json_t) state = json_object();
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_str(&acct, state, req, 200, "{\"data\":{\"id\":\"" ME "\",\"username\":\"a/b?c\"}}", &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_string_equal(state_str(state, "me"), ME);
    assert_null(json_object_get(state, "me_username"));
    net_result_clear(&out);
    wire_request_free(req);
}

/* ---- polling ------------------------------------------------------------------- */

/* The first start stops at a page reaching more than 7 days back, and at
 * catchup_max_pages, without calling either a gap. */
static void test_first_start_window(void **unused)
{
    (void)unused;
    for (int i = 0; i < 2; i++) {
        struct net_account acct = acct_with(i == 0 ? 10 : 1);
        if (i == 0)
            acct.now = NOW + 8 * 86400;
        g_autoptr(json_t) state = json_pack("{s:s}", "me", ME);
        struct wire_request *req = begin(&acct, state);
        struct net_result out;
        handle_file(&acct, state, req, 200, "mentions-first.json", NULL, &out);
        assert_true(out.initial_sync);
        assert_int_equal(out.mentions->len, 3);
        assert_null(out.next);
        assert_null(out.notice);
        assert_true(out.state_changed);
        assert_string_equal(state_str(state, "since_id"), "1700000000000000003");
        net_result_clear(&out);
        wire_request_free(req);
    }
}

static void test_first_run_initial_sync(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = json_pack("{s:s}", "me", ME);
    struct wire_request *req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL);

    struct net_result out;
    handle_file(&acct, state, req, 200, "mentions-first.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_true(out.initial_sync);
    assert_int_equal(out.mentions->len, 3);
    /* The first start reads back 7 days: the next_token is followed. */
    assert_non_null(out.next);
    assert_false(out.state_changed);
    wire_request_free(req);
    req = g_steal_pointer(&out.next);
    net_result_clear(&out);
    handle_file(&acct, state, req, 200, "mentions-empty.json", NULL, &out);
    assert_true(out.initial_sync);
    assert_null(out.next);
    assert_null(out.notice);
    assert_true(out.state_changed);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000003");
    assert_true(json_is_true(json_object_get(state, "initialized")));
    assert_null(json_object_get(state, "poll_pages"));
    net_result_clear(&out);
    wire_request_free(req);

    /* The next poll asks only for what is newer. */
    req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL "&since_id=1700000000000000003");
    handle_file(&acct, state, req, 200, "mentions-empty.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_false(out.initial_sync);
    assert_int_equal(out.mentions->len, 0);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000003");
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_first_run_empty(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = json_pack("{s:s}", "me", ME);
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_file(&acct, state, req, 200, "mentions-empty.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_true(out.initial_sync);
    assert_true(out.state_changed);
    assert_true(json_is_true(json_object_get(state, "initialized")));
    assert_null(json_object_get(state, "since_id"));
    net_result_clear(&out);
    wire_request_free(req);

    /* Everything from now on is news, not history. */
    req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL);
    handle_file(&acct, state, req, 200, "mentions-page2.json", NULL, &out);
    assert_false(out.initial_sync);
    assert_int_equal(out.mentions->len, 2);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000102");
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_since_and_pagination(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = state_watching("1700000000000000100");
    struct wire_request *req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL "&since_id=1700000000000000100");

    struct net_result out;
    handle_file(&acct, state, req, 200, "mentions-page1.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_false(out.initial_sync);
    assert_int_equal(out.mentions->len, 2);
    assert_null(out.notice);
    /* The cursor does not move before the poll completes. */
    assert_false(out.state_changed);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000100");
    assert_non_null(out.next);
    assert_string_equal(out.next->url, MENTIONS_URL "&since_id=1700000000000000100"
                                                    "&pagination_token=b26v89c19zqg8o3fpds3a0ebu2q0xkdlpshl6lwwfhi3x");
    assert_true(has_header(out.next, "Authorization: Bearer " TOKEN));
    wire_request_free(req);
    req = g_steal_pointer(&out.next);
    net_result_clear(&out);

    handle_file(&acct, state, req, 200, "mentions-page2.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_false(out.initial_sync);
    assert_int_equal(out.mentions->len, 2);
    assert_null(out.next);
    assert_null(out.notice);
    assert_true(out.state_changed);
    /* The newest id of the whole poll, seen on its first page. */
    assert_string_equal(state_str(state, "since_id"), "1700000000000000104");
    assert_null(json_object_get(state, "poll_pages"));
    assert_null(json_object_get(state, "poll_newest"));
    assert_null(json_object_get(state, "poll_fresh"));
    net_result_clear(&out);
    wire_request_free(req);

    req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL "&since_id=1700000000000000104");
    wire_request_free(req);
}

static void test_failed_page_keeps_cursor(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = state_watching("1700000000000000100");
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_file(&acct, state, req, 200, "mentions-page1.json", NULL, &out);
    wire_request_free(req);
    req = g_steal_pointer(&out.next);
    net_result_clear(&out);

    handle_str(&acct, state, req, 503, "<html>over capacity</html>", &out);
    assert_int_equal(out.outcome, NET_RETRY);
    assert_false(out.state_changed);
    assert_null(out.next);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000100");
    net_result_clear(&out);
    wire_request_free(req);

    /* The next poll starts over from the saved cursor, without the token. */
    req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL "&since_id=1700000000000000100");
    assert_null(json_object_get(state, "poll_pages"));
    wire_request_free(req);
}

static void test_gap_notice_at_page_cap(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(2);
    g_autoptr(json_t) state = state_watching("1700000000000000100");
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_file(&acct, state, req, 200, "mentions-page1.json", NULL, &out);
    assert_null(out.notice);
    assert_non_null(out.next);
    wire_request_free(req);
    req = g_steal_pointer(&out.next);
    net_result_clear(&out);

    /* Page 2 of at most 2 still has a next_token: stop and say so, once. */
    g_autofree char *body = make_page(INT64_C(1700000000000000102), 2, "tokenpage3");
    handle_str(&acct, state, req, 200, body, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_null(out.next);
    assert_non_null(out.notice);
    assert_non_null(strstr(out.notice, "gap"));
    assert_int_equal(out.mentions->len, 2);
    assert_true(out.state_changed);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000104");
    net_result_clear(&out);
    wire_request_free(req);

    /* With a cap of one page the first page already says it. */
    acct = acct_with(1);
    g_autoptr(json_t) s1 = state_watching("1700000000000000100");
    req = begin(&acct, s1);
    handle_file(&acct, s1, req, 200, "mentions-page1.json", NULL, &out);
    assert_null(out.next);
    assert_non_null(out.notice);
    assert_string_equal(state_str(s1, "since_id"), "1700000000000000104");
    net_result_clear(&out);
    wire_request_free(req);
}

/* Runs a poll over generated pages of 100; returns how many steps had a notice. */
static int poll_pages(json_t *state, int pages, int max_pages, char **last_notice)
{
    struct net_account acct = acct_with(max_pages);
    struct wire_request *req = begin(&acct, state);
    int notices = 0;
    int64_t first = INT64_C(1700000000000009999);
    for (int p = 0; p < pages; p++) {
        g_autofree char *token = p + 1 < pages ? g_strdup_printf("tok%d", p + 1) : NULL;
        g_autofree char *body = make_page(first - p * 100, 100, token);
        struct net_result out;
        handle_str(&acct, state, req, 200, body, &out);
        assert_int_equal(out.outcome, NET_OK);
        assert_int_equal(out.mentions->len, 100);
        if (out.notice) {
            notices++;
            g_free(*last_notice);
            *last_notice = g_strdup(out.notice);
        }
        wire_request_free(req);
        req = g_steal_pointer(&out.next);
        if (p + 1 < pages) {
            assert_non_null(req);
            g_autofree char *want = g_strdup_printf("&pagination_token=tok%d", p + 1);
            assert_non_null(strstr(req->url, want));
            assert_non_null(strstr(req->url, "&since_id=1000000000000000000"));
            assert_false(out.state_changed);
        } else {
            assert_null(req);
            assert_true(out.state_changed);
        }
        net_result_clear(&out);
    }
    return notices;
}

static void test_gap_notice_800_reachable(void **unused)
{
    (void)unused;
    /* 700 new mentions and the pages run out: nothing is missing. */
    g_autoptr(json_t) s7 = state_watching("1000000000000000000");
    g_autofree char *notice = NULL;
    assert_int_equal(poll_pages(s7, 7, 10, &notice), 0);
    assert_string_equal(state_str(s7, "since_id"), "1700000000000009999");

    /* 800 new ones and still not back at since_id: older ones are out of reach. */
    g_autoptr(json_t) s8 = state_watching("1000000000000000000");
    assert_int_equal(poll_pages(s8, 8, 10, &notice), 1);
    assert_non_null(strstr(notice, "800"));
    assert_non_null(strstr(notice, "gap"));
    assert_string_equal(state_str(s8, "since_id"), "1700000000000009999");
}

static void test_kinds_and_fields(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = state_watching("1700000000000000200");
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_file(&acct, state, req, 200, "mentions-kinds.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    /* The repost (206) is not someone talking to the user. */
    assert_int_equal(out.mentions->len, 4);
    for (guint i = 0; i < out.mentions->len; i++)
        assert_string_not_equal(mention_at(&out, i)->remote_id, "1700000000000000206");
    /* ...but it was seen, so the cursor passes it. */
    assert_string_equal(state_str(state, "since_id"), "1700000000000000206");

    struct mention *m = mention_by_id(&out, "1700000000000000205");
    assert_int_equal(m->kind, MENTION_KIND_REPLY);
    assert_string_equal(m->account, ACCOUNT);
    assert_string_equal(m->network, "x");
    assert_string_equal(m->post_id, "1700000000000000205");
    assert_string_equal(m->author_id, "2001");
    assert_string_equal(m->author_handle, "@alice");
    assert_string_equal(m->author_name, "Alice Example");
    assert_string_equal(m->text, "@heed_user @bob thanks & see you <3 &lt;ok>\nline two");
    assert_string_equal(m->url, "https://x.com/alice/status/1700000000000000205");
    assert_int_equal(m->created_at, net_parse_time("2026-03-03T09:05:00Z"));
    assert_string_equal(m->thread_id, "1699999999999990000");
    assert_int_equal(m->mention_count, 2);
    assert_int_equal(m->author_bot, MENTION_UNKNOWN);

    m = mention_by_id(&out, "1700000000000000204");
    assert_int_equal(m->kind, MENTION_KIND_QUOTE);
    assert_string_equal(m->author_handle, "@bob");
    assert_null(strchr(m->author_name, '\x1b'));
    assert_non_null(strstr(m->author_name, "Bob"));
    assert_string_equal(m->url, "https://x.com/bob/status/1700000000000000204");
    assert_int_equal(m->mention_count, 1);

    /* A reply to someone else that names the user is a plain mention. */
    m = mention_by_id(&out, "1700000000000000203");
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_string_equal(m->thread_id, "1699999999999970000");
    assert_int_equal(m->mention_count, 2);

    /* No includes.users entry for the author: still a mention, by id. */
    m = mention_by_id(&out, "1700000000000000202");
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_string_equal(m->author_id, "2999");
    assert_null(m->author_handle);
    assert_null(m->author_name);
    assert_string_equal(m->url, "https://x.com/i/web/status/1700000000000000202");
    assert_string_equal(m->text, "hello @heed_user evil");
    assert_string_equal(m->thread_id, "1700000000000000202");
    assert_int_equal(m->mention_count, 1);

    net_result_clear(&out);
    wire_request_free(req);
}

static void test_reply_needs_own_id(void **unused)
{
    (void)unused;
    /* Without "me" nothing can be called a reply to the user. begin() asks
     * users/me first, but handle() must cope with a state that lost it. */
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) with_me = state_watching("1700000000000000200");
    struct wire_request *req = begin(&acct, with_me);
    g_autoptr(json_t) state = json_pack("{s:b, s:s}", "initialized", 1, "since_id", "1700000000000000200");
    struct net_result out;
    handle_file(&acct, state, req, 200, "mentions-kinds.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.mentions->len, 4);
    assert_int_equal(mention_by_id(&out, "1700000000000000205")->kind, MENTION_KIND_MENTION);
    assert_int_equal(mention_by_id(&out, "1700000000000000204")->kind, MENTION_KIND_QUOTE);
    net_result_clear(&out);
    wire_request_free(req);
}

/* ---- errors --------------------------------------------------------------------- */

static void test_errors_only_body(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = state_watching("1700000000000000100");
    g_autofree char *before = state_dump(state);
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_file(&acct, state, req, 200, "errors-only.json", NULL, &out);
    assert_int_equal(out.outcome, NET_RETRY);
    assert_non_null(out.error);
    assert_non_null(strstr(out.error, "Could not find user with id: [1600000000000000001]."));
    assert_int_equal(out.mentions->len, 0);
    assert_false(out.state_changed);
    assert_null(out.next);
    g_autofree char *after = state_dump(state);
    assert_string_equal(before, after);
    net_result_clear(&out);

    /* Without detail the title is used; a null "data" is no data. */
    handle_str(&acct, state, req, 200, "{\"data\":null,\"errors\":[{\"title\":\"Not Found Error\"}]}", &out);
    assert_int_equal(out.outcome, NET_RETRY);
    assert_non_null(strstr(out.error, "Not Found Error"));
    assert_false(out.state_changed);
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_partial_errors_keep_data(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = state_watching("1700000000000000300");
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_file(&acct, state, req, 200, "partial-errors.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_null(out.error);
    assert_int_equal(out.mentions->len, 2);
    assert_string_equal(mention_by_id(&out, "1700000000000000302")->author_handle, "@alice");
    /* Its author could not be expanded: kept, linked by id alone. */
    struct mention *m = mention_by_id(&out, "1700000000000000301");
    assert_string_equal(m->author_id, "2666");
    assert_null(m->author_handle);
    assert_string_equal(m->url, "https://x.com/i/web/status/1700000000000000301");
    assert_true(out.state_changed);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000302");
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_rate_limit_headers(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    g_autofree char *reset900 = g_strdup_printf("%" PRId64, NOW + 900);
    g_autofree char *reset120 = g_strdup_printf("%" PRId64, NOW + 120);
    g_autofree char *past = g_strdup_printf("%" PRId64, NOW - 5);
    g_autofree char *far = g_strdup_printf("%" PRId64, NOW + 10 * 86400);
    struct {
        long status;
        const char *file;
        const char *remaining, *reset;
        enum net_outcome outcome;
        int rate_remaining;
        int64_t retry_at;
    } cases[] = {
        { 200, "mentions-page2.json", "448", reset900, NET_OK, 448, 0 },
        { 200, "mentions-page2.json", "0", reset900, NET_OK, 0, NOW + 900 },
        { 429, "error-429.json", "0", reset120, NET_RETRY, 0, NOW + 120 },
        { 429, "error-429.json", NULL, reset120, NET_RETRY, -1, NOW + 120 },
        { 429, "error-429.json", "0", past, NET_RETRY, 0, 0 },
        { 429, "error-429.json", "0", "soon", NET_RETRY, 0, 0 },
        { 429, "error-429.json", "-3", "12x", NET_RETRY, -1, 0 },
        { 429, "error-429.json", "0", NULL, NET_RETRY, 0, 0 },
        { 429, "error-429.json", "0", far, NET_RETRY, 0, NOW + 86400 },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(json_t) state = state_watching("1700000000000000100");
        g_autofree char *before = state_dump(state);
        struct wire_request *req = begin(&acct, state);
        GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_insert(h, g_strdup("x-rate-limit-limit"), g_strdup("450"));
        if (cases[i].remaining)
            g_hash_table_insert(h, g_strdup("x-rate-limit-remaining"), g_strdup(cases[i].remaining));
        if (cases[i].reset)
            g_hash_table_insert(h, g_strdup("x-rate-limit-reset"), g_strdup(cases[i].reset));
        struct net_result out;
        handle_file(&acct, state, req, cases[i].status, cases[i].file, h, &out);
        if (out.outcome != cases[i].outcome || out.rate_remaining != cases[i].rate_remaining ||
            out.retry_at != cases[i].retry_at)
            fail_msg("case %zu: outcome %d remaining %d retry_at %" PRId64, i, out.outcome, out.rate_remaining,
                     out.retry_at);
        if (cases[i].status == 429) {
            assert_non_null(strstr(out.error, "429"));
            g_autofree char *after = state_dump(state);
            assert_string_equal(before, after);
        }
        net_result_clear(&out);
        wire_request_free(req);
        g_hash_table_unref(h);
    }
}

static void test_http_errors(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    struct {
        long status;
        const char *file; /* or NULL: body below */
        const char *body;
        enum net_outcome outcome;
        const char *in_error;
    } cases[] = {
        { 401, "error-401.json", NULL, NET_AUTH, "Unauthorized" },
        { 403, "error-403.json", NULL, NET_AUTH, "attached to a Project" },
        { 401, NULL, "", NET_AUTH, "401" },
        { 500, NULL, "<html><body>Internal Server Error</body></html>", NET_RETRY, "500" },
        { 502, NULL, "", NET_RETRY, "502" },
        { 503, NULL, "{\"title\":\"Service Unavailable\",\"detail\":\"Service Unavailable\",\"status\":503}", NET_RETRY,
          "Service Unavailable" },
        { 404, NULL, "{\"errors\":[{\"message\":\"Sorry, that page does not exist\",\"code\":34}]}", NET_FATAL,
          "that page does not exist" },
        { 400, NULL, "{\"errors\":[{\"parameters\":{\"since_id\":[\"x\"]},\"message\":\"The `since_id` query parameter value [x] is not valid\"}],\"title\":\"Invalid Request\"}",
          NET_RETRY, "since_id" },
        { 0, NULL, "", NET_RETRY, NULL },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        for (int with_me = 0; with_me < 2; with_me++) {
            g_autoptr(json_t) state = with_me ? state_watching("1700000000000000100") : json_object();
            g_autofree char *before = state_dump(state);
            struct wire_request *req = begin(&acct, state);
            struct net_result out;
            if (cases[i].file)
                handle_file(&acct, state, req, cases[i].status, cases[i].file, NULL, &out);
            else
                handle_str(&acct, state, req, cases[i].status, cases[i].body, &out);
            if (out.outcome != cases[i].outcome)
                fail_msg("case %zu (%s): outcome %d, want %d", i, with_me ? "page" : "users/me", out.outcome,
                         cases[i].outcome);
            assert_non_null(out.error);
            if (cases[i].in_error && !strstr(out.error, cases[i].in_error))
                fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, out.error, cases[i].in_error);
            assert_int_equal(out.mentions->len, 0);
            assert_null(out.next);
            assert_false(out.state_changed);
            g_autofree char *after = state_dump(state);
            assert_string_equal(before, after);
            net_result_clear(&out);
            wire_request_free(req);
        }
    }
}

static void test_truncated_json(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    json_t *states[] = { json_object(), state_watching("1700000000000000100") };
    for (size_t i = 0; i < G_N_ELEMENTS(states); i++) {
        g_autofree char *before = state_dump(states[i]);
        struct wire_request *req = begin(&acct, states[i]);
        struct net_result out;
        handle_file(&acct, states[i], req, 200, "truncated.json", NULL, &out);
        assert_int_equal(out.outcome, NET_RETRY);
        assert_non_null(out.error);
        assert_int_equal(out.mentions->len, 0);
        assert_false(out.state_changed);
        assert_null(out.next);
        g_autofree char *after = state_dump(states[i]);
        assert_string_equal(before, after);
        net_result_clear(&out);

        /* Nothing at all, and a body cut inside a string. */
        handle_str(&acct, states[i], req, 200, "", &out);
        assert_int_equal(out.outcome, NET_RETRY);
        net_result_clear(&out);
        handle_str(&acct, states[i], req, 200, "{\"data\":[{\"id\":\"17", &out);
        assert_int_equal(out.outcome, NET_RETRY);
        net_result_clear(&out);
        g_autofree char *again = state_dump(states[i]);
        assert_string_equal(before, again);
        wire_request_free(req);
        json_decref(states[i]);
    }
}

static void test_wrong_types(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    const char *bad_pages[] = { "[]", "null", "\"data\"", "{\"data\":{\"id\":\"1\"}}", "{\"data\":\"1\"}",
                                "{\"data\":42}" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad_pages); i++) {
        g_autoptr(json_t) state = state_watching("1700000000000000100");
        g_autofree char *before = state_dump(state);
        struct wire_request *req = begin(&acct, state);
        struct net_result out;
        handle_str(&acct, state, req, 200, bad_pages[i], &out);
        if (out.outcome != NET_RETRY)
            fail_msg("body %s: outcome %d, want NET_RETRY", bad_pages[i], out.outcome);
        assert_false(out.state_changed);
        g_autofree char *after = state_dump(state);
        assert_string_equal(before, after);
        net_result_clear(&out);
        wire_request_free(req);
    }
    g_autoptr(json_t) s2 = state_watching("1700000000000000100");
    struct wire_request *r2 = begin(&acct, s2);
    struct net_result o2;
    handle_file(&acct, s2, r2, 200, "wrong-data.json", NULL, &o2);
    assert_int_equal(o2.outcome, NET_RETRY);
    net_result_clear(&o2);
    wire_request_free(r2);

    /* Broken items are skipped, with a warning naming the account. */
    g_autoptr(json_t) state = state_watching("1700000000000000600");
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    struct capture cap;
    capture_start(&cap);
    handle_file(&acct, state, req, 200, "wrong-items.json", NULL, &out);
    g_autofree char *log = capture_end(&cap);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.mentions->len, 2);
    struct mention *m = mention_by_id(&out, "1700000000000000604");
    assert_null(m->author_id);
    assert_null(m->author_handle);
    assert_int_equal(m->created_at, NOW);
    assert_string_equal(m->thread_id, "1700000000000000604");
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_int_equal(m->mention_count, 1);
    assert_string_equal(m->url, "https://x.com/i/web/status/1700000000000000604");
    m = mention_by_id(&out, "1700000000000000603");
    assert_string_equal(m->author_id, "2001");
    assert_null(m->author_handle); /* "alice/../evil" is no username */
    assert_null(m->author_name);
    assert_int_equal(m->kind, MENTION_KIND_MENTION);
    assert_string_equal(m->url, "https://x.com/i/web/status/1700000000000000603");
    /* The numeric next_token is no token; the poll completes. */
    assert_null(out.next);
    assert_true(out.state_changed);
    assert_string_equal(state_str(state, "since_id"), "1700000000000000606");
    /* Reported through the result; the engine logs it once, naming the account. */
    assert_non_null(strstr(out.skip_reason, "mention 0 of a page has no usable id"));
    assert_non_null(strstr(out.skip_reason, "mention 1700000000000000606: no text"));
    assert_non_null(strstr(out.skip_reason, "mention 1700000000000000605: no text"));
    assert_null(strstr(log, "warning"));
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_huge_ids(void **unused)
{
    (void)unused;
    /* 19 digits beat 18 although "1..." sorts before "9..." as text. */
    assert_true(net_id_compare("1000000000000000001", "999999999999999999") > 0);
    assert_true(net_id_compare("999999999999999999", "1000000000000000001") < 0);
    assert_true(net_id_compare("9223372036854775807", "9223372036854775806") > 0);
    assert_int_equal(net_id_compare("1700000000000000001", "1700000000000000001"), 0);

    struct net_account acct = acct_with(10);
    g_autoptr(json_t) state = state_watching("999999999999999999");
    struct wire_request *req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL "&since_id=999999999999999999");
    struct net_result out;
    handle_file(&acct, state, req, 200, "huge-ids.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    /* The server repeated older posts (as if it ignored since_id): dropped. */
    assert_int_equal(out.mentions->len, 1);
    struct mention *m = mention_at(&out, 0);
    assert_string_equal(m->remote_id, "1000000000000000001");
    assert_string_equal(m->author_id, "9223372036854775807");
    assert_string_equal(m->author_handle, "@maxint");
    assert_string_equal(state_str(state, "since_id"), "1000000000000000001");
    net_result_clear(&out);
    wire_request_free(req);

    req = begin(&acct, state);
    assert_string_equal(req->url, MENTIONS_URL "&since_id=1000000000000000001");
    /* A page of only old posts leaves the cursor alone. */
    handle_file(&acct, state, req, 200, "huge-ids.json", NULL, &out);
    assert_int_equal(out.mentions->len, 0);
    assert_string_equal(state_str(state, "since_id"), "1000000000000000001");
    net_result_clear(&out);
    wire_request_free(req);
}

/* ---- history -------------------------------------------------------------------- */

static void test_history(void **unused)
{
    (void)unused;
    struct net_account acct = acct_with(10);
    char *error = NULL;
    g_autoptr(json_t) unknown = json_object();
    assert_null(x_drv()->history_begin(&acct, unknown, &error));
    assert_null(error);

    g_autoptr(json_t) state = state_watching("1700000000000000100");
    struct wire_request *req = x_drv()->history_begin(&acct, state, &error);
    assert_non_null(req);
    assert_string_equal(req->url, TWEETS_URL);
    assert_true(has_header(req, "Authorization: Bearer " TOKEN));

    struct net_result out;
    struct capture cap;
    capture_start(&cap);
    handle_file(&acct, state, req, 200, "tweets.json", NULL, &out);
    g_autofree char *log = capture_end(&cap);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.mentions->len, 0);
    /* Answers to others only: not the own thread, not a plain quote. */
    assert_int_equal(out.replies->len, 2);
    struct net_reply *r = g_ptr_array_index(out.replies, 0);
    assert_string_equal(r->remote_id, "1700000000000000905");
    assert_string_equal(r->to_author_id, "2001");
    assert_string_equal(r->to_post_id, "1700000000000000205");
    assert_int_equal(r->at, net_parse_time("2026-03-06T06:05:00Z"));
    r = g_ptr_array_index(out.replies, 1);
    assert_string_equal(r->remote_id, "1700000000000000901");
    assert_string_equal(r->to_author_id, "2002");
    assert_string_equal(r->to_post_id, "1700000000000000204");
    assert_int_equal(r->at, NOW);
    assert_true(out.state_changed);
    assert_string_equal(state_str(state, "history_since"), "1700000000000000905");
    /* The mention cursor is another matter. */
    assert_string_equal(state_str(state, "since_id"), "1700000000000000100");
    assert_non_null(strstr(out.skip_reason, "post 5 of your timeline has no usable id"));
    (void)log;
    net_result_clear(&out);
    wire_request_free(req);

    req = x_drv()->history_begin(&acct, state, &error);
    assert_string_equal(req->url, TWEETS_URL "&since_id=1700000000000000905");
    /* Answered again in full (a server ignoring since_id): nothing new. */
    capture_start(&cap);
    handle_file(&acct, state, req, 200, "tweets.json", NULL, &out);
    g_free(capture_end(&cap));
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.replies->len, 0);
    assert_false(out.state_changed);
    net_result_clear(&out);

    handle_str(&acct, state, req, 200, "{\"meta\":{\"result_count\":0}}", &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(out.replies->len, 0);
    net_result_clear(&out);

    g_autofree char *before = state_dump(state);
    handle_file(&acct, state, req, 200, "errors-only.json", NULL, &out);
    assert_int_equal(out.outcome, NET_RETRY);
    net_result_clear(&out);
    handle_file(&acct, state, req, 200, "truncated.json", NULL, &out);
    assert_int_equal(out.outcome, NET_RETRY);
    net_result_clear(&out);
    handle_file(&acct, state, req, 401, "error-401.json", NULL, &out);
    assert_int_equal(out.outcome, NET_AUTH);
    net_result_clear(&out);
    handle_str(&acct, state, req, 200, "{\"data\":{}}", &out);
    assert_int_equal(out.outcome, NET_RETRY);
    net_result_clear(&out);
    g_autofree char *after = state_dump(state);
    assert_string_equal(before, after);
    wire_request_free(req);
}

/* ---- secrets --------------------------------------------------------------------- */

static void test_token_never_logged(void **unused)
{
    (void)unused;
    log_setup("test_net_x", LOG_LVL_DEBUG);
    struct net_account acct = acct_with(2);
    const char *files[] = { "me.json", "mentions-kinds.json", "wrong-items.json", "partial-errors.json",
                            "errors-only.json", "truncated.json", "error-401.json", "error-403.json",
                            "error-429.json", "tweets.json" };
    const long statuses[] = { 200, 401, 403, 429, 500 };
    struct capture cap;
    capture_start(&cap);
    GString *errors = g_string_new(NULL);
    for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
        for (size_t s = 0; s < G_N_ELEMENTS(statuses); s++) {
            json_t *states[] = { json_object(), state_watching("1700000000000000100") };
            for (size_t k = 0; k < G_N_ELEMENTS(states); k++) {
                char *error = NULL;
                struct wire_request *reqs[] = { x_drv()->begin(&acct, states[k], &error),
                                               x_drv()->history_begin(&acct, states[k], &error) };
                for (size_t r = 0; r < G_N_ELEMENTS(reqs); r++) {
                    if (!reqs[r])
                        continue;
                    struct net_result out;
                    handle_file(&acct, states[k], reqs[r], statuses[s], files[f], NULL, &out);
                    if (out.error)
                        g_string_append_printf(errors, "%s\n", out.error);
                    if (out.notice)
                        g_string_append_printf(errors, "%s\n", out.notice);
                    net_result_clear(&out);
                    wire_request_free(reqs[r]);
                }
                json_decref(states[k]);
            }
        }
    }
    g_autofree char *log = capture_end(&cap);
    log_setup("test_net_x", LOG_LVL_WARN);
    assert_true(strlen(log) > 0);
    assert_null(strstr(log, TOKEN));
    assert_null(strstr(log, "SECRET"));
    assert_null(strstr(errors->str, TOKEN));
    assert_true(errors->len > 0);
    g_string_free(errors, TRUE);
}

/* ---- the OAuth 2.0 session (client_id) ---------------------------------------- */

#define CLIENT_ID "cl-ient-ID_42"
#define REFRESH0 "xrt-SAVED-SECRET-0-from-heed-login"
#define ACCESS1 "xat-NEW-SECRET-1-dGhpcyBpcyBhbiBhY2Nlc3MgdG9rZW4"
#define REFRESH1 "xrt-NEW-SECRET-1-dGhpcyBpcyBhIHJlZnJlc2ggdG9rZW4"
#define TOKEN_URL SERVER "/2/oauth2/token"

static struct net_account acct_oauth(const char *secret, int64_t now)
{
    struct net_account a = acct_with(10);
    a.secret = secret;
    a.client_id = CLIENT_ID;
    a.now = now;
    return a;
}

static char *token_answer(const char *access, const char *refresh, int expires_in)
{
    json_t *j = json_pack("{s:s, s:i, s:s, s:s}", "token_type", "bearer", "expires_in", expires_in, "access_token",
                          access, "scope", "tweet.read users.read offline.access");
    if (refresh)
        json_object_set_new(j, "refresh_token", json_string(refresh));
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return s;
}

static void assert_refresh_request(const struct wire_request *req, const char *refresh)
{
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, TOKEN_URL);
    assert_string_equal(req->content_type, "application/x-www-form-urlencoded");
    g_autofree char *want = g_strdup_printf("grant_type=refresh_token&refresh_token=%s&client_id=%s", refresh,
                                            CLIENT_ID);
    assert_string_equal(req->body, want);
    /* A public client: nothing in an Authorization header. */
    for (guint i = 0; i < req->headers->len; i++)
        assert_false(g_str_has_prefix(g_ptr_array_index(req->headers, i), "Authorization"));
}

/* The state after a first refresh from REFRESH0 (ACCESS1/REFRESH1, 2 h). */
static json_t *state_with_session(const struct net_account *acct, json_t *state)
{
    struct wire_request *req = begin(acct, state);
    assert_refresh_request(req, acct->secret);
    struct net_result out;
    handle_file(acct, state, req, 200, "oauth-token.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_true(out.state_changed);
    wire_request_free(req);
    /* A session from the secret asks who the user is first (it may be a new sign-in). */
    req = g_steal_pointer(&out.next);
    assert_string_equal(req->url, SERVER "/2/users/me");
    net_result_clear(&out);
    handle_file(acct, state, req, 200, "me.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_null(json_object_get(state, "me_check"));
    net_result_clear(&out);
    wire_request_free(req);
    return state;
}

static void test_oauth_first_poll_refreshes_from_secret(void **unused)
{
    (void)unused;
    struct net_account acct = acct_oauth(REFRESH0, NOW);
    g_autoptr(json_t) state = json_object();
    struct wire_request *req = begin(&acct, state);
    assert_refresh_request(req, REFRESH0);
    assert_int_equal(req->step & 0xff, 4);

    struct net_result out;
    handle_file(&acct, state, req, 200, "oauth-token.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    /* Saved with this step: the refresh token used is spent now. */
    assert_true(out.state_changed);
    assert_int_equal(out.mentions->len, 0);
    assert_string_equal(state_str(state, "access_token"), ACCESS1);
    assert_string_equal(state_str(state, "refresh_token"), REFRESH1);
    assert_int_equal(json_integer_value(json_object_get(state, "access_expires")), NOW + 7200);
    assert_int_equal(json_integer_value(json_object_get(state, "refresh_at")), NOW + 7200 - 300);
    g_autofree char *dump = state_dump(state);
    assert_null(strstr(dump, REFRESH0)); /* the secret itself is never kept in the state */
    /* The poll goes on with the new access token: who the user is first. */
    assert_non_null(out.next);
    assert_string_equal(out.next->url, SERVER "/2/users/me");
    assert_true(has_header(out.next, "Authorization: Bearer " ACCESS1));
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_oauth_session_reused_then_renewed_before_expiry(void **unused)
{
    (void)unused;
    struct net_account acct = acct_oauth(REFRESH0, NOW);
    g_autoptr(json_t) state = state_watching("1700000000000000100");
    state_with_session(&acct, state);

    /* After a restart, an hour later: the saved session, no refresh. */
    g_autofree char *saved = state_dump(state);
    g_autoptr(json_t) reloaded = json_loads(saved, 0, NULL);
    acct.now = NOW + 3600;
    struct wire_request *req = begin(&acct, reloaded);
    assert_string_equal(req->method, "GET");
    assert_true(g_str_has_prefix(req->url, MENTIONS_URL));
    assert_true(has_header(req, "Authorization: Bearer " ACCESS1));
    wire_request_free(req);
    req = x_drv()->history_begin(&acct, reloaded, NULL);
    assert_true(g_str_has_prefix(req->url, TWEETS_URL));
    assert_true(has_header(req, "Authorization: Bearer " ACCESS1));
    wire_request_free(req);

    /* Less than 5 minutes left: renewed first, with the rotated refresh token. */
    acct.now = NOW + 7200 - 299;
    req = begin(&acct, reloaded);
    assert_refresh_request(req, REFRESH1);
    g_autofree char *body = token_answer("xat-2", "xrt-2", 7200);
    struct net_result out;
    handle_str(&acct, reloaded, req, 200, body, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_true(out.state_changed);
    assert_string_equal(state_str(reloaded, "refresh_token"), "xrt-2");
    assert_true(g_str_has_prefix(out.next->url, MENTIONS_URL));
    assert_true(has_header(out.next, "Authorization: Bearer xat-2"));
    net_result_clear(&out);
    wire_request_free(req);

    /* The history chain renews too, and goes on with the user's posts. */
    acct.now = NOW + 2 * 7200;
    req = x_drv()->history_begin(&acct, reloaded, NULL);
    assert_refresh_request(req, "xrt-2");
    g_autofree char *body3 = token_answer("xat-3", "xrt-3", 7200);
    handle_str(&acct, reloaded, req, 200, body3, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_true(out.state_changed);
    assert_true(g_str_has_prefix(out.next->url, TWEETS_URL));
    assert_true(has_header(out.next, "Authorization: Bearer xat-3"));
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_oauth_short_lifetime_and_answers(void **unused)
{
    (void)unused;
    struct net_account acct = acct_oauth(REFRESH0, NOW);
    g_autoptr(json_t) state = state_watching(NULL);
    struct wire_request *req = begin(&acct, state);
    /* A short lifetime is renewed a quarter before its end; without a new
     * refresh token the one used stays. */
    g_autofree char *body = token_answer("xat-short", NULL, 8);
    struct net_result out;
    handle_str(&acct, state, req, 200, body, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_int_equal(json_integer_value(json_object_get(state, "refresh_at")), NOW + 6);
    assert_string_equal(state_str(state, "refresh_token"), REFRESH0);
    net_result_clear(&out);
    wire_request_free(req);

    /* Answers that cannot be used: nothing of them is kept. */
    const char *bad[] = {
        "{\"token_type\":\"bearer\",\"access_token\":\"a\\r\\nX-Evil: 1\",\"refresh_token\":\"r\"}",
        "{\"token_type\":\"bearer\",\"access_token\":\"a b\",\"refresh_token\":\"r\"}",
        "{\"token_type\":\"bearer\",\"access_token\":\"ok\",\"refresh_token\":\"r\\n\"}",
        "{\"token_type\":\"mac\",\"access_token\":\"ok\",\"refresh_token\":\"r\"}",
        "{\"token_type\":\"bearer\",\"refresh_token\":\"r\"}",
        "[]",
        "{\"access_token\":",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(json_t) st = json_object();
        req = begin(&acct, st);
        handle_str(&acct, st, req, 200, bad[i], &out);
        assert_int_equal(out.outcome, NET_RETRY);
        assert_null(out.next);
        assert_null(json_object_get(st, "access_token"));
        net_result_clear(&out);
        wire_request_free(req);
    }
}

static void test_oauth_401_renews_once(void **unused)
{
    (void)unused;
    struct net_account acct = acct_oauth(REFRESH0, NOW);
    g_autoptr(json_t) state = state_watching("1700000000000000100");
    state_with_session(&acct, state);
    acct.now = NOW + 60;

    /* Page two of a poll is refused: renew, then start the poll over. */
    json_object_set_new(state, "poll_pages", json_integer(1));
    struct wire_request *page = begin(&acct, state);
    struct net_result out;
    handle_file(&acct, state, page, 401, "error-401.json", NULL, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_non_null(out.next);
    assert_refresh_request(out.next, REFRESH1);
    struct wire_request *refresh = g_steal_pointer(&out.next);
    net_result_clear(&out);

    g_autofree char *body = token_answer("xat-2", "xrt-2", 7200);
    handle_str(&acct, state, refresh, 200, body, &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_true(out.state_changed);
    assert_string_equal(state_str(state, "refresh_token"), "xrt-2");
    assert_null(json_object_get(state, "poll_pages"));
    struct wire_request *again = g_steal_pointer(&out.next);
    assert_true(g_str_has_prefix(again->url, MENTIONS_URL "&since_id=1700000000000000100"));
    assert_true(has_header(again, "Authorization: Bearer xat-2"));
    net_result_clear(&out);

    /* Refused again with the new token: the user must look, no loop. */
    handle_file(&acct, state, again, 401, "error-401.json", NULL, &out);
    assert_int_equal(out.outcome, NET_AUTH);
    assert_null(out.next);
    assert_non_null(strstr(out.error, "even with a freshly renewed access token"));
    net_result_clear(&out);
    wire_request_free(again);
    wire_request_free(refresh);
    wire_request_free(page);

    /* The history chain renews and repeats its own request. */
    struct wire_request *hist = x_drv()->history_begin(&acct, state, NULL);
    handle_file(&acct, state, hist, 401, "error-401.json", NULL, &out);
    assert_refresh_request(out.next, "xrt-2");
    refresh = g_steal_pointer(&out.next);
    net_result_clear(&out);
    g_autofree char *body3 = token_answer("xat-3", "xrt-3", 7200);
    handle_str(&acct, state, refresh, 200, body3, &out);
    assert_true(g_str_has_prefix(out.next->url, TWEETS_URL));
    net_result_clear(&out);
    wire_request_free(refresh);
    wire_request_free(hist);

    /* Without client_id a 401 is the user's business at once, as before. */
    struct net_account plain = acct_with(10);
    g_autoptr(json_t) st2 = state_watching(NULL);
    page = begin(&plain, st2);
    handle_file(&plain, st2, page, 401, "error-401.json", NULL, &out);
    assert_int_equal(out.outcome, NET_AUTH);
    assert_null(out.next);
    net_result_clear(&out);
    wire_request_free(page);
}

static void test_oauth_refused_refresh_needs_the_user(void **unused)
{
    (void)unused;
    static const struct {
        long status;
        const char *file;
        enum net_outcome want;
        const char *says;
    } cases[] = {
        { 400, "oauth-invalid-grant.json", NET_AUTH, "run heed login x again" },
        { 400, "oauth-invalid-request.json", NET_AUTH, "HTTP 400 invalid_request: Value passed for the token" },
        { 401, "oauth-invalid-client.json", NET_AUTH, "X refused client_id " CLIENT_ID },
        { 429, "error-429.json", NET_RETRY, "renewing the X access token: HTTP 429" },
        { 503, "error-401.json", NET_RETRY, "renewing the X access token: HTTP 503" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct net_account acct = acct_oauth(REFRESH0, NOW);
        g_autoptr(json_t) state = state_watching(NULL);
        struct wire_request *req = begin(&acct, state);
        struct net_result out;
        handle_file(&acct, state, req, cases[i].status, cases[i].file, NULL, &out);
        assert_int_equal(out.outcome, cases[i].want);
        assert_null(out.next);
        assert_non_null(strstr(out.error, cases[i].says));
        assert_null(strstr(out.error, REFRESH0));
        net_result_clear(&out);
        wire_request_free(req);
    }
    /* A description that quotes the token is left out. */
    struct net_account acct = acct_oauth(REFRESH0, NOW);
    g_autoptr(json_t) state = json_object();
    struct wire_request *req = begin(&acct, state);
    struct net_result out;
    handle_str(&acct, state, req, 400, "{\"error\":\"invalid_grant\",\"error_description\":\"bad " REFRESH0 "\"}",
               &out);
    assert_int_equal(out.outcome, NET_AUTH);
    assert_null(strstr(out.error, REFRESH0));
    assert_non_null(strstr(out.error, "invalid_grant"));
    net_result_clear(&out);
    wire_request_free(req);
}

static void test_oauth_new_login_drops_old_session(void **unused)
{
    (void)unused;
    struct net_account acct = acct_oauth(REFRESH0, NOW);
    g_autoptr(json_t) state = state_watching("1700000000000000100");
    json_object_set_new(state, "history_since", json_string("1700000000000000050"));
    state_with_session(&acct, state);

    /* heed login x again: another refresh token in the secret. */
    struct net_account again = acct_oauth("xrt-FROM-NEW-LOGIN", NOW + 60);
    struct wire_request *req = begin(&again, state);
    assert_refresh_request(req, "xrt-FROM-NEW-LOGIN");
    assert_null(json_object_get(state, "access_token"));
    assert_null(x_drv()->history_begin(&again, state, NULL)); /* who is it now? the poll says first */
    g_autofree char *body = token_answer("xat-new", "xrt-new", 7200);
    struct net_result out;
    handle_str(&again, state, req, 200, body, &out);
    assert_true(out.state_changed);
    /* The user may be someone else now: asked again before the cursor is used. */
    assert_string_equal(out.next->url, SERVER "/2/users/me");
    struct wire_request *me = g_steal_pointer(&out.next);
    net_result_clear(&out);
    handle_str(&again, state, me, 200, "{\"data\":{\"id\":\"77\",\"username\":\"other\"}}", &out);
    assert_int_equal(out.outcome, NET_OK);
    assert_string_equal(state_str(state, "me"), "77");
    assert_null(json_object_get(state, "since_id"));
    assert_null(json_object_get(state, "history_since"));
    assert_null(json_object_get(state, "initialized"));
    assert_null(json_object_get(state, "me_check"));
    net_result_clear(&out);
    wire_request_free(me);
    wire_request_free(req);

    /* Another client_id drops the session as well; the same user keeps the cursor. */
    g_autoptr(json_t) st = state_watching("1700000000000000100");
    state_with_session(&acct, st);
    struct net_account other = acct_oauth(REFRESH0, NOW + 60);
    other.client_id = "another-client";
    req = begin(&other, st);
    assert_string_equal(req->url, TOKEN_URL);
    assert_non_null(strstr(req->body, "refresh_token=" REFRESH0));
    handle_str(&other, st, req, 200, body, &out);
    me = g_steal_pointer(&out.next);
    net_result_clear(&out);
    handle_file(&other, st, me, 200, "me.json", NULL, &out);
    assert_string_equal(state_str(st, "since_id"), "1700000000000000100");
    assert_true(g_str_has_prefix(out.next->url, MENTIONS_URL "&since_id=1700000000000000100"));
    net_result_clear(&out);
    wire_request_free(me);
    wire_request_free(req);

    /* No secret at all: said, nothing sent. */
    struct net_account none = acct_oauth(NULL, NOW);
    char *error = NULL;
    assert_null(x_drv()->begin(&none, st, &error));
    assert_non_null(strstr(error, "heed login x"));
    g_free(error);
}

static void test_oauth_identity(void **unused)
{
    (void)unused;
    const struct net_driver *d = x_drv();
    struct net_account acct = acct_oauth(REFRESH0, NOW);
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    /* No session yet: doctor must not spend the refresh token heedd holds. */
    assert_null(d->identity_begin(&acct, state, true, &error));
    assert_null(error);
    state_with_session(&acct, state);
    struct wire_request *req = d->identity_begin(&acct, state, false, &error);
    assert_string_equal(req->url, SERVER "/2/users/me");
    assert_true(has_header(req, "Authorization: Bearer " ACCESS1));
    struct wire_response resp = { .status = 401, .body = "{}", .body_len = 2 };
    struct net_identity id = { 0 };
    d->identity_handle(&acct, state, req, &resp, &id);
    assert_int_equal(id.outcome, NET_AUTH);
    net_identity_clear(&id);
    acct.now = NOW + 7200;
    json_object_set_new(state, "me_username", json_string("heed_user"));
    d->identity_handle(&acct, state, req, &resp, &id);
    assert_int_equal(id.outcome, NET_OK);
    assert_string_equal(id.handle, "@heed_user");
    assert_non_null(strstr(id.note, "heedd renews it"));
    net_identity_clear(&id);
    wire_request_free(req);
    assert_string_equal(d->oauth_token, "/2/oauth2/token");
    assert_int_equal(d->login, NET_LOGIN_OAUTH_APP);
    assert_non_null(strstr(d->scopes, "offline.access"));
}

static void test_oauth_tokens_never_logged(void **unused)
{
    (void)unused;
    log_setup("test_net_x", LOG_LVL_DEBUG);
    struct capture cap;
    capture_start(&cap);
    GString *errors = g_string_new(NULL);
    const char *files[] = { "oauth-token.json", "oauth-invalid-grant.json", "oauth-invalid-request.json",
                            "oauth-invalid-client.json", "me.json", "mentions-kinds.json", "error-401.json",
                            "tweets.json" };
    const long statuses[] = { 200, 400, 401, 403, 429, 500 };
    for (size_t f = 0; f < G_N_ELEMENTS(files); f++) {
        for (size_t s = 0; s < G_N_ELEMENTS(statuses); s++) {
            struct net_account acct = acct_oauth(REFRESH0, NOW);
            g_autoptr(json_t) state = state_watching("1700000000000000100");
            struct wire_request *req = begin(&acct, state);
            for (int step = 0; req && step < 4; step++) {
                struct net_result out;
                handle_file(&acct, state, req, statuses[s], files[f], NULL, &out);
                if (out.error)
                    g_string_append_printf(errors, "%s\n", out.error);
                wire_request_free(req);
                req = g_steal_pointer(&out.next);
                net_result_clear(&out);
            }
            wire_request_free(req);
        }
    }
    g_autofree char *log = capture_end(&cap);
    log_setup("test_net_x", LOG_LVL_WARN);
    assert_non_null(strstr(log, "renewed the X access token"));
    assert_null(strstr(log, "SECRET"));
    assert_null(strstr(errors->str, "SECRET"));
    assert_non_null(strstr(errors->str, "run heed login x again"));
    g_string_free(errors, TRUE);
}

int main(void)
{
    log_setup("test_net_x", LOG_LVL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_table),
        cmocka_unit_test(test_users_me_once),
        cmocka_unit_test(test_users_me_bad_answers),
        cmocka_unit_test(test_first_run_initial_sync),
        cmocka_unit_test(test_first_start_window),
        cmocka_unit_test(test_first_run_empty),
        cmocka_unit_test(test_since_and_pagination),
        cmocka_unit_test(test_failed_page_keeps_cursor),
        cmocka_unit_test(test_gap_notice_at_page_cap),
        cmocka_unit_test(test_gap_notice_800_reachable),
        cmocka_unit_test(test_kinds_and_fields),
        cmocka_unit_test(test_reply_needs_own_id),
        cmocka_unit_test(test_errors_only_body),
        cmocka_unit_test(test_partial_errors_keep_data),
        cmocka_unit_test(test_rate_limit_headers),
        cmocka_unit_test(test_http_errors),
        cmocka_unit_test(test_truncated_json),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_huge_ids),
        cmocka_unit_test(test_history),
        cmocka_unit_test(test_token_never_logged),
        cmocka_unit_test(test_oauth_first_poll_refreshes_from_secret),
        cmocka_unit_test(test_oauth_session_reused_then_renewed_before_expiry),
        cmocka_unit_test(test_oauth_short_lifetime_and_answers),
        cmocka_unit_test(test_oauth_401_renews_once),
        cmocka_unit_test(test_oauth_refused_refresh_needs_the_user),
        cmocka_unit_test(test_oauth_new_login_drops_old_session),
        cmocka_unit_test(test_oauth_identity),
        cmocka_unit_test(test_oauth_tokens_never_logged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
