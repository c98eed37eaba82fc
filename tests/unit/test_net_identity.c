/* SPDX-License-Identifier: MIT */
/* Unit tests for what the drivers say about their networks (the descriptor
 * fields heed.conf, heed login and heed doctor read) and for their identity
 * requests: the "who am I" request each builds, how it reads the answer, and
 * Bluesky's session handling (getSession with a saved session, createSession
 * only when a sign-in is allowed, a main-password session refused,
 * deleteSession with the refresh token). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <jansson.h>
#include <string.h>

#include "net/net.h"

#define T0 ((int64_t)1785592200)

static struct net_account account(const char *network, const char *server)
{
    struct net_account a = { .name = "acct", .network = network, .server = server, .secret = "s3cret", .now = T0 };
    return a;
}

static bool has_header(const struct wire_request *req, const char *want)
{
    for (guint i = 0; i < req->headers->len; i++)
        if (strcmp(g_ptr_array_index(req->headers, i), want) == 0)
            return true;
    return false;
}

/* identity_handle of drv on (status, body, one header or NULL). */
static void answer(const struct net_driver *drv, const struct net_account *a, json_t *state,
                   const struct wire_request *req, long status, const char *body, const char *hname,
                   const char *hvalue, struct net_identity *out)
{
    GHashTable *headers = g_hash_table_new(g_str_hash, g_str_equal);
    if (hname)
        g_hash_table_insert(headers, (gpointer)hname, (gpointer)hvalue);
    struct wire_response resp = { status, body, body ? strlen(body) : 0, headers };
    memset(out, 0, sizeof *out);
    drv->identity_handle(a, state, req, &resp, out);
    g_hash_table_unref(headers);
}

/* ---- descriptors ------------------------------------------------------------ */

static void test_descriptors(void **unused)
{
    (void)unused;
    for (const struct net_driver *const *d = net_drivers(); *d; d++) {
        const struct net_driver *n = *d;
        assert_non_null(n->title);
        if (n->login == NET_LOGIN_NONE)
            continue;
        /* Everything heed login and doctor ask of a network it can sign in to. */
        assert_true(n->needs_secret);
        assert_non_null(n->secret_word);
        assert_non_null(n->identity_begin);
        assert_non_null(n->identity_handle);
        assert_true(n->server_required || n->default_server);
        assert_true(n->login != NET_LOGIN_TOKEN || n->secret_help);
        /* A login target is either the server or the identifier. */
        assert_int_equal(n->login_target != NULL, n->server_required || n->identifier_hint != NULL);
        assert_int_equal(n->login_target != NULL, n->login_example != NULL);
        if (n->identifier_hint)
            assert_true(g_strv_contains((const char *const *)n->account_keys, "identifier"));
    }
    assert_int_equal(net_driver_find("mastodon")->login, NET_LOGIN_OAUTH_PKCE);
    assert_string_equal(net_driver_find("mastodon")->scopes,
                        "read:notifications read:statuses read:accounts read:follows");
    assert_int_equal(net_driver_find("bluesky")->login, NET_LOGIN_APP_PASSWORD);
    assert_non_null(net_driver_find("bluesky")->session_end);
    assert_int_equal(net_driver_find("github")->login, NET_LOGIN_TOKEN);
    assert_non_null(strstr(net_driver_find("github")->secret_help, "{web}/settings/tokens/new"));
    assert_int_equal(net_driver_find("demo")->login, NET_LOGIN_NONE);
}

static void test_outcome_from_status(void **unused)
{
    (void)unused;
    static const struct {
        long status;
        enum net_outcome want;
    } cases[] = { { 200, NET_OK },    { 400, NET_AUTH },  { 401, NET_AUTH },  { 403, NET_AUTH },
                  { 404, NET_FATAL }, { 410, NET_FATAL }, { 429, NET_RETRY }, { 502, NET_RETRY }, { 0, NET_RETRY } };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct wire_response resp = { cases[i].status, NULL, 0, NULL };
        struct net_identity id = { 0 };
        net_identity_from_status(&resp, &id);
        assert_int_equal(id.outcome, cases[i].want);
    }
}

/* ---- token networks ----------------------------------------------------------- */

static void test_mastodon(void **unused)
{
    (void)unused;
    const struct net_driver *d = net_driver_find("mastodon");
    struct net_account a = account("mastodon", "https://m.example");
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    struct wire_request *req = d->identity_begin(&a, state, false, &error);
    assert_non_null(req);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->url, "https://m.example/api/v1/accounts/verify_credentials");
    assert_true(has_header(req, "Authorization: Bearer s3cret"));
    struct net_identity id;
    answer(d, &a, state, req, 200, "{\"id\":\"1\",\"acct\":\"me\"}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_OK);
    assert_string_equal(id.handle, "@me");
    net_identity_clear(&id);
    answer(d, &a, state, req, 401, "{\"error\":\"The access token is invalid\"}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_AUTH);
    assert_null(id.handle);
    net_identity_clear(&id);
    answer(d, &a, state, req, 200, "[]", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_FATAL);
    net_identity_clear(&id);
    wire_request_free(req);
    assert_int_equal(json_object_size(state), 0);
}

static void test_github(void **unused)
{
    (void)unused;
    const struct net_driver *d = net_driver_find("github");
    struct net_account a = account("github", "https://api.github.com");
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    struct wire_request *req = d->identity_begin(&a, state, false, &error);
    assert_string_equal(req->url, "https://api.github.com/notifications?per_page=1");
    assert_true(has_header(req, "Accept: application/vnd.github+json"));
    struct net_identity id;
    answer(d, &a, state, req, 200, "[]", "x-oauth-scopes", "notifications, read:user", &id);
    assert_int_equal(id.outcome, NET_OK);
    net_identity_clear(&id);
    /* A classic token that lacks the scope: refused, and says why. */
    answer(d, &a, state, req, 200, "[]", "x-oauth-scopes", "gist, read:user", &id);
    assert_int_equal(id.outcome, NET_AUTH);
    assert_non_null(strstr(id.error, "\"gist, read:user\" but not notifications"));
    net_identity_clear(&id);
    answer(d, &a, state, req, 403, "{\"message\":\"Resource not accessible\"}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_AUTH);
    assert_non_null(strstr(id.hint, "fine-grained"));
    net_identity_clear(&id);
    wire_request_free(req);
}

static void test_x(void **unused)
{
    (void)unused;
    const struct net_driver *d = net_driver_find("x");
    struct net_account a = account("x", "https://api.x.com");
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    struct wire_request *req = d->identity_begin(&a, state, false, &error);
    assert_string_equal(req->url, "https://api.x.com/2/users/me");
    struct net_identity id;
    answer(d, &a, state, req, 200, "{\"data\":{\"id\":\"7\",\"username\":\"bird\"}}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_OK);
    assert_string_equal(id.handle, "@bird");
    net_identity_clear(&id);
    answer(d, &a, state, req, 200, "{\"errors\":[{\"title\":\"x\"}]}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_FATAL);
    assert_string_equal(id.error, "the answer names no user");
    net_identity_clear(&id);
    answer(d, &a, state, req, 403, "{}", NULL, NULL, &id);
    assert_non_null(strstr(id.hint, "user-context"));
    net_identity_clear(&id);
    wire_request_free(req);
}

/* ---- Bluesky ------------------------------------------------------------------ */

/* A JWT whose payload claims scope (the signature is not looked at). */
static char *jwt(const char *scope)
{
    g_autofree char *claims = g_strdup_printf("{\"scope\":\"%s\",\"sub\":\"did:plc:alice\"}", scope);
    g_autofree char *payload = g_base64_encode((const guchar *)claims, strlen(claims));
    for (char *p = payload; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p == '=' ? '\0' : *p;
    return g_strdup_printf("eyJhbGciOiJFUzI1NksifQ.%s.sig", payload);
}

static char *session_body(const char *scope)
{
    g_autofree char *access = jwt(scope);
    return g_strdup_printf("{\"did\":\"did:plc:alice\",\"handle\":\"alice.test\",\"accessJwt\":\"%s\","
                           "\"refreshJwt\":\"refresh-token-1\"}",
                           access);
}

static void test_bluesky_sign_in(void **unused)
{
    (void)unused;
    const struct net_driver *d = net_driver_find("bluesky");
    struct net_account a = account("bluesky", "https://pds.example");
    a.identifier = "alice.test";
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    /* No session and no sign-in allowed (doctor): nothing to ask. */
    assert_null(d->identity_begin(&a, state, false, &error));
    assert_null(error);
    assert_null(d->session_end(&a, state));

    struct wire_request *req = d->identity_begin(&a, state, true, &error);
    assert_string_equal(req->method, "POST");
    assert_string_equal(req->url, "https://pds.example/xrpc/com.atproto.server.createSession");
    assert_non_null(strstr(req->body, "\"password\":\"s3cret\""));
    g_autofree char *app = session_body("com.atproto.appPass");
    struct net_identity id;
    answer(d, &a, state, req, 200, app, NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_OK);
    assert_string_equal(id.handle, "@alice.test");
    assert_string_equal(json_string_value(json_object_get(state, "did")), "did:plc:alice");
    assert_string_equal(json_string_value(json_object_get(state, "login_identifier")), "alice.test");
    net_identity_clear(&id);

    /* The session it opened is ended with its refresh token. */
    struct wire_request *end = d->session_end(&a, state);
    assert_non_null(end);
    assert_string_equal(end->method, "POST");
    assert_string_equal(end->url, "https://pds.example/xrpc/com.atproto.server.deleteSession");
    assert_true(has_header(end, "Authorization: Bearer refresh-token-1"));
    assert_null(end->body);
    wire_request_free(end);

    /* A wrong password. */
    g_autoptr(json_t) fresh = json_object();
    answer(d, &a, fresh, req, 401, "{\"error\":\"AuthenticationRequired\"}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_AUTH);
    net_identity_clear(&id);
    wire_request_free(req);
}

static void test_bluesky_main_password(void **unused)
{
    (void)unused;
    const struct net_driver *d = net_driver_find("bluesky");
    struct net_account a = account("bluesky", "https://pds.example");
    a.identifier = "alice.test";
    g_autoptr(json_t) state = json_object();
    char *error = NULL;
    struct wire_request *req = d->identity_begin(&a, state, true, &error);
    g_autofree char *main_pw = session_body("com.atproto.access");
    struct net_identity id;
    answer(d, &a, state, req, 200, main_pw, NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_AUTH);
    assert_non_null(strstr(id.error, "main password"));
    assert_non_null(id.hint);
    net_identity_clear(&id);
    /* Refused, but its session is in the state to be ended. */
    struct wire_request *end = d->session_end(&a, state);
    assert_non_null(end);
    wire_request_free(end);
    wire_request_free(req);
}

static void test_bluesky_saved_session(void **unused)
{
    (void)unused;
    const struct net_driver *d = net_driver_find("bluesky");
    struct net_account a = account("bluesky", "https://pds.example");
    a.identifier = "alice.test";
    g_autoptr(json_t) state = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "did", "did:plc:alice", "handle",
                                        "alice.test", "accessJwt", "access-token-1", "refreshJwt", "refresh-token-1",
                                        "login_identifier", "alice.test", "login_server", "https://pds.example");
    char *error = NULL;
    /* heedd's session: checked with getSession, never a new sign-in. */
    struct wire_request *req = d->identity_begin(&a, state, false, &error);
    assert_non_null(req);
    assert_string_equal(req->method, "GET");
    assert_string_equal(req->url, "https://pds.example/xrpc/com.atproto.server.getSession");
    assert_true(has_header(req, "Authorization: Bearer access-token-1"));
    struct net_identity id;
    answer(d, &a, state, req, 200, "{\"handle\":\"alice.test\",\"did\":\"did:plc:alice\"}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_OK);
    assert_string_equal(id.handle, "@alice.test");
    net_identity_clear(&id);
    answer(d, &a, state, req, 400, "{\"error\":\"ExpiredToken\",\"message\":\"Token has expired\"}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_OK);
    assert_non_null(strstr(id.note, "heedd renews it"));
    net_identity_clear(&id);
    answer(d, &a, state, req, 400, "{\"error\":\"InvalidToken\"}", NULL, NULL, &id);
    assert_int_equal(id.outcome, NET_AUTH);
    net_identity_clear(&id);
    wire_request_free(req);

    /* A session made for another identifier is not this account's. */
    a.identifier = "bob.test";
    assert_null(d->identity_begin(&a, state, false, &error));
    assert_null(error);
    a.identifier = NULL;
    assert_null(d->identity_begin(&a, state, true, &error));
    assert_non_null(error);
    g_free(error);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_outcome_from_status),
        cmocka_unit_test(test_mastodon),
        cmocka_unit_test(test_github),
        cmocka_unit_test(test_x),
        cmocka_unit_test(test_bluesky_sign_in),
        cmocka_unit_test(test_bluesky_main_password),
        cmocka_unit_test(test_bluesky_saved_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
