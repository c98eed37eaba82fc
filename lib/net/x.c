/* SPDX-License-Identifier: MIT */
/* net/x: the X API v2 mentions timeline (GET /2/users/:id/mentions), as a
 * pure translator.
 *
 * State (a JSON object persisted by the engine):
 *   "me"            the user's numeric id, from GET /2/users/me; asked once,
 *                   because every other endpoint is addressed by it;
 *   "me_username"   the user's @name, kept for diagnostics;
 *   "initialized"   true once the first page has been taken;
 *   "since_id"      newest mention id already stored (the API's since_id is
 *                   exclusive, so it is sent as is);
 *   "history_since" newest of the user's own posts already read back;
 *   "poll_newest" / "poll_pages" / "poll_fresh": progress of the poll in
 *                   flight; begin() drops them, so they never outlive a poll;
 *   "access_token", "refresh_token", "access_expires", "refresh_at",
 *   "session_from"  the session, with a client_id only (below);
 *   "me_check"      the session now comes from another secret: ask
 *                   /2/users/me again before trusting "me" and the cursors.
 *
 * Session. Without client_id the secret is an access token, sent as it is
 * (X's user tokens last 2 hours, so that needs a token_command printing
 * fresh ones). With client_id (heed login x) the secret is a refresh token
 * of that OAuth 2.0 public client, and the driver keeps a session in the
 * state like the Bluesky driver: with none, or with less than
 * X_REFRESH_AHEAD_S (a quarter of a short lifetime) left, a chain starts
 * with POST /2/oauth2/token grant_type=refresh_token; a 401 renews it once
 * per chain and repeats the chain's first request. X rotates the refresh
 * token on every use and refuses a used one, so the refresh step sets
 * state_changed and the new tokens are saved with it, at once. Which secret
 * and client id the session came from is kept as a hash ("session_from"):
 * after heed login x again the old session is dropped and the new secret
 * used. A refresh token X refuses (invalid_grant, invalid_request) is
 * NET_AUTH: only the user can sign in again. Tokens go into an
 * Authorization header only when they are printable ASCII without spaces,
 * and never into an error text.
 *
 * What is new: a mention whose id is above since_id. X gives a post its id
 * (a snowflake: the server's clock and a sequence) when it is posted, and
 * an author cannot date a post back, so ids are identity and order at once.
 *
 * Paging: the timeline comes newest first, 100 a page, with meta.next_token
 * naming the next (older) page. The first start reads back
 * NET_FIRST_WINDOW_S (7 days, by created_at) or catchup_max_pages pages,
 * whichever ends first, and marks it all initial_sync: it is history from
 * before heed watched, listed but not popped up. Later polls send since_id and follow next_token (passing since_id again so
 * the server stops at what was already seen) until no token is left or
 * catchup_max_pages pages were read. since_id moves only when a poll
 * completes; pages before that are stored as they arrive and the store's
 * unique key absorbs any repeat after a crash or a failed step.
 *
 * X keeps only the newest 800 mentions reachable. When a poll stops at the
 * page cap, or runs out of pages having read 800 new mentions without
 * getting back to since_id, older ones may be lost: result.notice says so,
 * once, on the step that completes the poll.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net/net.h"
#include "text.h"

enum { X_STEP_ME = 1, X_STEP_PAGE, X_STEP_HISTORY, X_STEP_REFRESH };
#define X_STEP_MASK 0xff
#define X_F_HISTORY 0x100   /* REFRESH: resume the history chain, not the poll */
#define X_F_REFRESHED 0x200 /* this chain has renewed the session already */

#define X_TOKEN_PATH "/2/oauth2/token"
/* Renew the access token this long before it expires (at most a quarter of
 * its lifetime). */
#define X_REFRESH_AHEAD_S 300
#define X_EXPIRES_DEFAULT_S 7200
#define X_EXPIRES_MAX_S (30 * 24 * 3600)
#define X_TOKEN_MAX_BYTES 16384 /* as much as a token file may hold */

#define X_PAGE_LIMIT 100
#define X_HISTORY_LIMIT 100
/* The API pages back through at most this many mentions. */
#define X_REACHABLE 800
/* X ids are snowflakes: numeric strings of up to 19 digits (fits int64). */
#define X_MAX_ID_DIGITS 19
/* A reset header further away than this is not believed: a bogus one must
 * not stop an account for good. X's longest windows are 24 hours. */
#define X_MAX_RETRY_S (24 * 3600)
#define X_ERROR_MAX_BYTES 300

/* Commas are sent unencoded (RFC 3986 allows them in a query); every list
 * below is written the same way. */
#define X_MENTION_FIELDS                                                                                   \
    "expansions=author_id"                                                                                 \
    "&tweet.fields=created_at,conversation_id,in_reply_to_user_id,referenced_tweets,entities"           \
    "&user.fields=username,name,profile_image_url"
#define X_HISTORY_FIELDS "tweet.fields=created_at,in_reply_to_user_id,referenced_tweets"

/* Ids go into URLs and are compared by length then lexically
 * (net_id_compare), which is only right for canonical digit strings. */
static bool x_valid_id(const char *s)
{
    if (!s || !*s || (s[0] == '0' && s[1] != '\0'))
        return false;
    size_t n = 0;
    for (; s[n]; n++)
        if (s[n] < '0' || s[n] > '9' || n >= X_MAX_ID_DIGITS)
            return false;
    return true;
}

static const char *x_id_member(json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return x_valid_id(v) ? v : NULL;
}

/* Usernames end up in a web URL's path: only X's own alphabet is let through
 * (they are at most 15 characters; older ones may be a little longer). */
static bool x_username_ok(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= 50 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- session */

static bool x_client_mode(const struct net_account *acct)
{
    return acct->client_id && *acct->client_id;
}

/* Tokens go into an Authorization header: printable ASCII without spaces
 * only, so a hostile server cannot smuggle in header lines. */
static bool x_token_ok(const char *t)
{
    if (!t || !*t || strlen(t) > X_TOKEN_MAX_BYTES)
        return false;
    for (const char *p = t; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

static const char *x_str(json_t *state, const char *key)
{
    const char *v = json_string_value(json_object_get(state, key));
    return v && *v ? v : NULL;
}

/* What a session is made from, as a hash: the client id and the secret
 * (never the secret itself in the state). */
static char *x_session_from(const struct net_account *acct)
{
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    const char *id = acct->client_id ? acct->client_id : "";
    const char *secret = acct->secret ? acct->secret : "";
    g_checksum_update(sum, (const guchar *)id, (gssize)strlen(id));
    g_checksum_update(sum, (const guchar *)"\n", 1);
    g_checksum_update(sum, (const guchar *)secret, (gssize)strlen(secret));
    char *hex = g_strdup(g_checksum_get_string(sum));
    g_checksum_free(sum);
    return hex;
}

static void x_drop_session(json_t *state)
{
    static const char *const keys[] = { "access_token", "refresh_token", "access_expires", "refresh_at",
                                        "session_from" };
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        json_object_del(state, keys[i]);
}

/* The session in state, if it is there, whole, and made from this client
 * id and secret. */
static bool x_has_session(const struct net_account *acct, json_t *state)
{
    if (!x_token_ok(x_str(state, "access_token")) || !x_token_ok(x_str(state, "refresh_token")))
        return false;
    g_autofree char *from = x_session_from(acct);
    return g_strcmp0(x_str(state, "session_from"), from) == 0;
}

/* A session made from another secret or client id (heed login x again) is
 * dropped; the next refresh starts from the secret, and the user may be
 * another one now. */
static void x_check_source(const struct net_account *acct, json_t *state)
{
    if (x_has_session(acct, state))
        return;
    if (json_object_get(state, "session_from") || json_object_get(state, "refresh_token"))
        log_info("%s: the X sign-in changed; starting from the new refresh token", acct->name);
    x_drop_session(state);
    if (json_object_get(state, "me"))
        json_object_set_new(state, "me_check", json_true());
}

static bool x_needs_refresh(const struct net_account *acct, json_t *state)
{
    if (!x_has_session(acct, state))
        return true;
    json_t *at = json_object_get(state, "refresh_at");
    return !json_is_integer(at) || acct->now >= json_integer_value(at);
}

/* key=value& into s, the value percent-encoded in place: the buffer was
 * sized for it, so a token is never left behind in a reallocated one. */
static void x_form_add(GString *s, const char *key, const char *value)
{
    if (s->len)
        g_string_append_c(s, '&');
    g_string_append(s, key);
    g_string_append_c(s, '=');
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (g_ascii_isalnum(*p) || strchr("-._~", *p))
            g_string_append_c(s, (char)*p);
        else
            g_string_append_printf(s, "%%%02X", *p);
    }
}

/* POST /2/oauth2/token grant_type=refresh_token, with the session's refresh
 * token or, with none, the secret. A public client names itself in the body. */
static struct wire_request *x_refresh_request(const struct net_account *acct, json_t *state, int flags)
{
    const char *refresh = x_has_session(acct, state) ? x_str(state, "refresh_token") : acct->secret;
    if (!refresh)
        refresh = "";
    struct wire_request *req =
        wire_request_new("POST", g_strconcat(acct->server, X_TOKEN_PATH, NULL), X_STEP_REFRESH | flags);
    wire_request_add_header(req, "Accept: application/json");
    GString *body = g_string_sized_new(64 + 3 * (strlen(refresh) + strlen(acct->client_id)));
    x_form_add(body, "grant_type", "refresh_token");
    x_form_add(body, "refresh_token", refresh);
    x_form_add(body, "client_id", acct->client_id);
    req->body = g_string_free(body, FALSE);
    req->content_type = g_strdup("application/x-www-form-urlencoded");
    return req;
}

static void x_auth(const struct net_account *acct, json_t *state, struct wire_request *req)
{
    const char *token = x_client_mode(acct) ? x_str(state, "access_token") : acct->secret;
    if (!x_token_ok(token))
        token = ""; /* answered with a 401, which renews the session */
    wire_request_add_header(req, "Authorization: Bearer %s", token);
    wire_request_add_header(req, "Accept: application/json");
}

static struct wire_request *x_me_request(const struct net_account *acct, json_t *state, int flags)
{
    struct wire_request *req =
        wire_request_new("GET", g_strconcat(acct->server, "/2/users/me", NULL), X_STEP_ME | flags);
    x_auth(acct, state, req);
    return req;
}

static struct wire_request *x_mentions_request(const struct net_account *acct, json_t *state, const char *me,
                                              const char *since_id, const char *pagination_token, int flags)
{
    g_autofree char *eme = net_uri_escape(me);
    GString *url = g_string_new(acct->server);
    g_string_append_printf(url, "/2/users/%s/mentions?max_results=%d&" X_MENTION_FIELDS, eme, X_PAGE_LIMIT);
    if (since_id) {
        g_autofree char *e = net_uri_escape(since_id);
        g_string_append_printf(url, "&since_id=%s", e);
    }
    if (pagination_token) {
        g_autofree char *e = net_uri_escape(pagination_token);
        g_string_append_printf(url, "&pagination_token=%s", e);
    }
    struct wire_request *req = wire_request_new("GET", g_string_free(url, FALSE), X_STEP_PAGE | flags);
    x_auth(acct, state, req);
    return req;
}

static struct wire_request *x_history_request(const struct net_account *acct, json_t *state, const char *me,
                                             int flags)
{
    g_autofree char *eme = net_uri_escape(me);
    GString *url = g_string_new(acct->server);
    g_string_append_printf(url, "/2/users/%s/tweets?max_results=%d&" X_HISTORY_FIELDS, eme, X_HISTORY_LIMIT);
    const char *since = x_id_member(state, "history_since");
    if (since) {
        g_autofree char *e = net_uri_escape(since);
        g_string_append_printf(url, "&since_id=%s", e);
    }
    struct wire_request *req = wire_request_new("GET", g_string_free(url, FALSE), X_STEP_HISTORY | flags);
    x_auth(acct, state, req);
    return req;
}

/* The first request of a poll: who the user is, when that is not known (or
 * must be checked again), else the newest page. */
static struct wire_request *x_poll_first(const struct net_account *acct, json_t *state, int flags)
{
    json_object_del(state, "poll_newest");
    json_object_del(state, "poll_pages");
    json_object_del(state, "poll_fresh");
    const char *me = x_id_member(state, "me");
    if (!me || json_is_true(json_object_get(state, "me_check")))
        return x_me_request(acct, state, flags);
    return x_mentions_request(acct, state, me, x_id_member(state, "since_id"), NULL, flags);
}

static struct wire_request *x_begin(const struct net_account *acct, json_t *state, char **error)
{
    if (x_client_mode(acct)) {
        if (!acct->secret || !*acct->secret) {
            *error = g_strdup("no refresh token: run heed login x");
            return NULL;
        }
        x_check_source(acct, state);
        if (x_needs_refresh(acct, state)) {
            json_object_del(state, "poll_newest");
            json_object_del(state, "poll_pages");
            json_object_del(state, "poll_fresh");
            return x_refresh_request(acct, state, 0);
        }
    }
    return x_poll_first(acct, state, 0);
}

/* What the API said went wrong: the first entry of "errors" (partial-error
 * and 200-with-errors bodies) or the top-level problem object (4xx/5xx),
 * made safe for a log line. NULL when the body says nothing usable. */
static char *x_error_detail(json_t *root)
{
    if (!json_is_object(root))
        return NULL;
    json_t *errors = json_object_get(root, "errors");
    json_t *first = json_is_array(errors) ? json_array_get(errors, 0) : NULL;
    json_t *sources[] = { first, root };
    static const char *const keys[] = { "detail", "title", "message" };
    for (size_t s = 0; s < G_N_ELEMENTS(sources); s++) {
        if (!json_is_object(sources[s]))
            continue;
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
            const char *v = json_string_value(json_object_get(sources[s], keys[k]));
            if (!v || !*v)
                continue;
            g_autofree char *clean = text_sanitize(v, false);
            if (*clean)
                return text_truncate(clean, X_ERROR_MAX_BYTES);
        }
    }
    return NULL;
}

static void x_rate(const struct net_account *acct, const struct wire_response *resp, struct net_result *out)
{
    const char *rem = wire_response_header(resp, "x-rate-limit-remaining");
    const char *reset = wire_response_header(resp, "x-rate-limit-reset");
    if (rem) {
        char *end;
        long r = strtol(rem, &end, 10);
        if (end != rem && *end == '\0' && r >= 0)
            out->rate_remaining = (int)(r > 1000000 ? 1000000 : r);
    }
    if (resp->status != 429 && out->rate_remaining != 0)
        return;
    if (!reset)
        return; /* the engine's backoff takes over */
    char *end;
    long long at = strtoll(reset, &end, 10);
    if (end == reset || *end != '\0')
        return;
    at = net_server_time_to_local(acct, resp, at);
    if (at <= acct->now)
        return;
    out->retry_at = at > acct->now + X_MAX_RETRY_S ? acct->now + X_MAX_RETRY_S : (int64_t)at;
}

static void x_handle_status(const struct wire_response *resp, struct net_result *out)
{
    json_t *body = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    g_autofree char *msg = x_error_detail(body);
    json_decref(body);
    const char *sep = msg ? ": " : "";
    if (!msg)
        msg = g_strdup("");
    if (resp->status == 401 || resp->status == 403)
        net_result_fail(out, NET_AUTH, "HTTP %ld: %s", resp->status, *msg ? msg : "access token refused");
    else if (resp->status == 404)
        net_result_fail(out, NET_FATAL, "HTTP 404%s%s (is server the X API, https://api.x.com?)", sep, msg);
    else if (resp->status == 429)
        net_result_fail(out, NET_RETRY, "HTTP 429: rate limited%s%s", sep, msg);
    else
        net_result_fail(out, NET_RETRY, "HTTP %ld%s%s", resp->status, sep, msg);
}

/* Parse a 200 body into its top-level object. X answers some failures with
 * 200 and only "errors" (no "data" member): that is a failure to retry. When
 * both are present the data is good and the errors concern extras (an
 * author that could not be expanded, ...). "data" may be missing when there
 * is nothing to return. */
static json_t *x_parse_body(const struct net_account *acct, const struct wire_response *resp, struct net_result *out,
                            const char *what)
{
    json_t *root = net_parse_json(resp, out, what);
    if (!root)
        return NULL;
    if (!json_is_object(root)) {
        net_result_fail(out, NET_RETRY, "%s: expected a JSON object", what);
        json_decref(root);
        return NULL;
    }
    json_t *data = json_object_get(root, "data");
    json_t *errors = json_object_get(root, "errors");
    bool has_errors = json_is_array(errors) && json_array_size(errors) > 0;
    if ((!data || json_is_null(data)) && has_errors) {
        g_autofree char *msg = x_error_detail(root);
        net_result_fail(out, NET_RETRY, "%s: %s", what, msg ? msg : "the answer has errors and no data");
        json_decref(root);
        return NULL;
    }
    if (has_errors) {
        g_autofree char *msg = x_error_detail(root);
        log_debug("%s: %s: %zu partial error(s) beside the data, first: %s", acct->name, what,
                  json_array_size(errors), msg ? msg : "(no detail)");
    }
    return root;
}

/* root.data as an array in *data (NULL, which iterates as empty, when it is
 * absent or null: nothing to return); false with out failed when it is
 * something else. */
static bool x_data_array(json_t *root, struct net_result *out, const char *what, json_t **data)
{
    *data = json_object_get(root, "data");
    if (json_is_null(*data))
        *data = NULL;
    if (*data && !json_is_array(*data)) {
        net_result_fail(out, NET_RETRY, "%s: \"data\" is not an array", what);
        return false;
    }
    return true;
}

static void x_handle_me(const struct net_account *acct, json_t *state, const struct wire_request *req,
                        const struct wire_response *resp, struct net_result *out)
{
    g_autoptr(json_t) root = x_parse_body(acct, resp, out, "users/me");
    if (!root)
        return;
    json_t *data = json_object_get(root, "data");
    const char *id = x_id_member(data, "id");
    if (!id) {
        net_result_fail(out, NET_RETRY, "users/me: no numeric user id in the answer");
        return;
    }
    const char *old = x_id_member(state, "me");
    if (old && strcmp(old, id) != 0) {
        /* Signed in as someone else now: their past is history, not news. */
        log_info("%s: signed in as another X user now; reading their mentions afresh", acct->name);
        json_object_del(state, "since_id");
        json_object_del(state, "initialized");
        json_object_del(state, "history_since");
    }
    json_object_set_new(state, "me", json_string(id));
    json_object_del(state, "me_check");
    const char *username = json_string_value(json_object_get(data, "username"));
    if (x_username_ok(username))
        json_object_set_new(state, "me_username", json_string(username));
    else
        json_object_del(state, "me_username");
    out->state_changed = true;
    out->next = x_mentions_request(acct, state, id, x_id_member(state, "since_id"), NULL,
                                   req->step & ~X_STEP_MASK);
}

/* X escapes exactly these three in post text (the rest is literal UTF-8). One
 * left-to-right pass, so "&amp;lt;" stays the literal text "&lt;". */
static char *x_decode_entities(const char *s)
{
    static const struct { const char *entity; char c; } map[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' } };
    GString *out = g_string_sized_new(strlen(s));
    while (*s) {
        bool done = false;
        if (*s == '&') {
            for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
                size_t n = strlen(map[i].entity);
                if (strncmp(s, map[i].entity, n) == 0) {
                    g_string_append_c(out, map[i].c);
                    s += n;
                    done = true;
                    break;
                }
            }
        }
        if (!done)
            g_string_append_c(out, *s++);
    }
    return g_string_free(out, FALSE);
}

/* The id of the first referenced tweet of that type, or NULL. */
static const char *x_referenced(json_t *tweet, const char *type)
{
    json_t *refs = json_object_get(tweet, "referenced_tweets");
    size_t i;
    json_t *r;
    json_array_foreach(refs, i, r) {
        const char *t = json_string_value(json_object_get(r, "type"));
        if (t && strcmp(t, type) == 0) {
            const char *id = x_id_member(r, "id");
            if (id)
                return id;
        }
    }
    return NULL;
}

/* includes.users indexed by id (borrowed pointers into the page). */
static GHashTable *x_users_by_id(json_t *root)
{
    GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);
    json_t *users = json_object_get(json_object_get(root, "includes"), "users");
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) {
        const char *id = x_id_member(u, "id");
        if (id)
            g_hash_table_insert(h, (gpointer)id, u);
    }
    return h;
}

/* One post of the mentions timeline to a mention. NULL with *why when it is
 * unusable; *bad tells broken input (worth a warning) from posts that are
 * fine but not for us. */
static struct mention *x_parse_one(const struct net_account *acct, const char *me, GHashTable *users,
                                   json_t *tweet, const char *id, const char **why, bool *bad)
{
    const char *text = json_string_value(json_object_get(tweet, "text"));
    if (!text) {
        *why = "no text";
        *bad = true;
        return NULL;
    }
    /* A repost of a post that names the user is not someone talking to them. */
    if (x_referenced(tweet, "retweeted")) {
        *why = "a repost";
        *bad = false;
        return NULL;
    }

    struct mention *m = mention_new();
    m->account = g_strdup(acct->name);
    m->network = g_strdup("x");
    m->remote_id = g_strdup(id);
    m->post_id = g_strdup(id);

    const char *author_id = x_id_member(tweet, "author_id");
    json_t *user = author_id ? g_hash_table_lookup(users, author_id) : NULL;
    const char *username = json_string_value(json_object_get(user, "username"));
    if (!x_username_ok(username))
        username = NULL;
    m->author_id = g_strdup(author_id);
    m->author_handle = username ? g_strdup_printf("@%s", username) : NULL;
    const char *picture = json_string_value(json_object_get(user, "profile_image_url"));
    if (picture && g_str_has_prefix(picture, "https://"))
        m->avatar_url = g_strdup(picture);
    const char *name = json_string_value(json_object_get(user, "name"));
    g_autofree char *clean_name = name ? text_sanitize(name, false) : NULL;
    if (clean_name && *clean_name)
        m->author_name = g_steal_pointer(&clean_name);
    else
        m->author_name = g_strdup(m->author_handle); /* NULL lets the engine say "Someone" */

    g_autofree char *decoded = x_decode_entities(text);
    m->text = text_sanitize(decoded, true);
    /* Without a username the web client still resolves a post by id alone. */
    /* Links go to the account's web host (x.com unless the user chose twitter.com). */
    const char *web = acct->web_host ? acct->web_host : "x.com";
    m->url = username ? g_strdup_printf("https://%s/%s/status/%s", web, username, id)
                      : g_strdup_printf("https://%s/i/web/status/%s", web, id);

    m->created_at = net_parse_time(json_string_value(json_object_get(tweet, "created_at")));
    if (m->created_at == 0)
        m->created_at = acct->now;

    const char *reply_to = json_string_value(json_object_get(tweet, "in_reply_to_user_id"));
    if (reply_to && me && strcmp(reply_to, me) == 0)
        m->kind = MENTION_KIND_REPLY;
    else if (x_referenced(tweet, "quoted"))
        m->kind = MENTION_KIND_QUOTE;
    else
        m->kind = MENTION_KIND_MENTION;

    const char *conv = x_id_member(tweet, "conversation_id");
    m->thread_id = g_strdup(conv ? conv : id);
    json_t *named = json_object_get(json_object_get(tweet, "entities"), "mentions");
    m->mention_count = json_is_array(named) && json_array_size(named) > 0 ? (int)json_array_size(named) : 1;
    return m;
}

static void x_handle_page(const struct net_account *acct, json_t *state, const struct wire_request *req,
                          const struct wire_response *resp, struct net_result *out)
{
    g_autoptr(json_t) root = x_parse_body(acct, resp, out, "mentions");
    if (!root)
        return;
    json_t *data;
    if (!x_data_array(root, out, "mentions", &data))
        return;

    const char *me = x_id_member(state, "me");
    bool initialized = json_is_true(json_object_get(state, "initialized"));
    const char *since = x_id_member(state, "since_id");
    const char *poll_newest = x_id_member(state, "poll_newest");
    g_autofree char *newest = g_strdup(poll_newest);
    json_int_t fresh = json_integer_value(json_object_get(state, "poll_fresh"));
    bool reached_seen = false;
    g_autoptr(GHashTable) users = x_users_by_id(root);

    size_t i;
    json_t *t;
    int64_t oldest_at = INT64_MAX; /* the first start reads back by time */
    json_array_foreach(data, i, t) {
        const char *id = x_id_member(t, "id");
        if (!id) {
            net_result_skip(out, "mention %zu of a page has no usable id", i);
            continue;
        }
        int64_t at = json_is_object(t) ? net_parse_time(json_string_value(json_object_get(t, "created_at"))) : 0;
        if (at > 0 && at < oldest_at)
            oldest_at = at;
        if (since && net_id_compare(id, since) <= 0) {
            reached_seen = true; /* a server that ignores since_id, or a repeated page */
            continue;
        }
        fresh++;
        if (!newest || net_id_compare(id, newest) > 0) {
            g_free(newest);
            newest = g_strdup(id);
        }
        const char *why = NULL;
        bool bad = false;
        struct mention *m = x_parse_one(acct, me, users, t, id, &why, &bad);
        if (m)
            g_ptr_array_add(out->mentions, m);
        else if (bad)
            net_result_skip(out, "mention %s: %s", id, why);
        else
            log_debug("%s: mention %s skipped: %s", acct->name, id, why);
    }

    json_t *meta = json_object_get(root, "meta");
    const char *meta_newest = x_id_member(meta, "newest_id");
    if (meta_newest && (!since || net_id_compare(meta_newest, since) > 0) &&
        (!newest || net_id_compare(meta_newest, newest) > 0)) {
        g_free(newest);
        newest = g_strdup(meta_newest);
    }
    const char *next_token = json_string_value(json_object_get(meta, "next_token"));
    if (next_token && !*next_token)
        next_token = NULL;

    out->initial_sync = !initialized;
    json_int_t pages = json_integer_value(json_object_get(state, "poll_pages")) + 1;
    int max_pages = acct->catchup_max_pages > 0 ? acct->catchup_max_pages : 1;
    bool more = me && next_token && !reached_seen;
    if (more && !initialized && (oldest_at == INT64_MAX || oldest_at < acct->now - NET_FIRST_WINDOW_S))
        more = false; /* the first start's window is read */
    if (more && !initialized && pages >= max_pages) {
        more = false; /* the first start reads what catchup_max_pages allows; no gap to report */
    } else if (more && pages >= max_pages) {
        net_result_notice(out, "more than %lld pages of mentions since the last poll; older ones were not "
                                      "fetched, so there may be a gap (raise catchup_max_pages)",
                                      (long long)pages);
        more = false;
    } else if (initialized && !next_token && !reached_seen && fresh >= X_REACHABLE) {
        net_result_notice(out, "%lld new mentions since the last poll and X only reaches back %d; "
                                      "older ones may be missing, so there may be a gap",
                                      (long long)fresh, X_REACHABLE);
    }
    if (more) {
        json_object_set_new(state, "poll_pages", json_integer(pages));
        json_object_set_new(state, "poll_fresh", json_integer(fresh));
        if (newest)
            json_object_set_new(state, "poll_newest", json_string(newest));
        out->next = x_mentions_request(acct, state, me, since, next_token, req->step & ~X_STEP_MASK);
        return;
    }
    json_object_del(state, "poll_pages");
    json_object_del(state, "poll_newest");
    json_object_del(state, "poll_fresh");
    if (newest && (!since || net_id_compare(newest, since) > 0))
        json_object_set_new(state, "since_id", json_string(newest));
    json_object_set_new(state, "initialized", json_true());
    out->state_changed = true;
}

/* The user's own recent posts: whom they answered, and which mentions are
 * answered already. */
static struct wire_request *x_history_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)error;
    const char *me = x_id_member(state, "me");
    if (!me)
        return NULL;
    if (x_client_mode(acct)) {
        if (!acct->secret || !*acct->secret)
            return NULL;
        x_check_source(acct, state);
        if (json_is_true(json_object_get(state, "me_check")))
            return NULL; /* the next poll finds out who the user is first */
        if (x_needs_refresh(acct, state))
            return x_refresh_request(acct, state, X_F_HISTORY);
    }
    return x_history_request(acct, state, me, 0);
}

static void x_handle_history(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                             struct net_result *out)
{
    g_autoptr(json_t) root = x_parse_body(acct, resp, out, "tweets");
    if (!root)
        return;
    json_t *data;
    if (!x_data_array(root, out, "tweets", &data))
        return;
    const char *me = x_id_member(state, "me");
    const char *since = x_id_member(state, "history_since");
    g_autofree char *newest = g_strdup(since);
    size_t i;
    json_t *t;
    json_array_foreach(data, i, t) {
        const char *id = x_id_member(t, "id");
        if (!id) {
            net_result_skip(out, "post %zu of your timeline has no usable id", i);
            continue;
        }
        if (since && net_id_compare(id, since) <= 0)
            continue;
        if (!newest || net_id_compare(id, newest) > 0) {
            g_free(newest);
            newest = g_strdup(id);
        }
        const char *to_post = x_referenced(t, "replied_to");
        const char *to = x_id_member(t, "in_reply_to_user_id");
        /* Threads continue the user's own posts: not an answer to anyone. */
        if (!to_post || !to || (me && strcmp(to, me) == 0))
            continue;
        struct net_reply *r = g_new0(struct net_reply, 1);
        r->remote_id = g_strdup(id);
        r->to_author_id = g_strdup(to);
        r->to_post_id = g_strdup(to_post);
        r->at = net_parse_time(json_string_value(json_object_get(t, "created_at")));
        if (r->at == 0)
            r->at = acct->now;
        g_ptr_array_add(out->replies, r);
    }
    if (newest && g_strcmp0(newest, since) != 0) {
        json_object_set_new(state, "history_since", json_string(newest));
        out->state_changed = true;
    }
}

/* The token endpoint's error ("invalid_grant") and what it says about it,
 * made safe for a log line; a description that quotes a token is left out. */
static char *x_oauth_problem(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                             char **name)
{
    g_autoptr(json_t) body = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *error = json_string_value(json_object_get(body, "error"));
    const char *desc = json_string_value(json_object_get(body, "error_description"));
    *name = NULL;
    if (error && *error && strlen(error) <= 64 && strspn(error, "abcdefghijklmnopqrstuvwxyz_") == strlen(error))
        *name = g_strdup(error);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "HTTP %ld", resp->status);
    if (*name)
        g_string_append_printf(s, " %s", *name);
    const char *secrets[] = { acct->secret, x_str(state, "refresh_token"), x_str(state, "access_token") };
    bool echoes = false;
    for (size_t i = 0; desc && i < G_N_ELEMENTS(secrets); i++)
        if (secrets[i] && strlen(secrets[i]) >= 4 && strstr(desc, secrets[i]))
            echoes = true;
    if (desc && *desc && !echoes) {
        g_autofree char *clean = text_sanitize(desc, false);
        g_autofree char *cut = text_truncate(clean, X_ERROR_MAX_BYTES);
        if (*cut)
            g_string_append_printf(s, ": %s", cut);
    }
    return g_string_free(s, FALSE);
}

/* The answer to a refresh: the new session, saved at once (the refresh
 * token it replaces is spent), and the chain's first request again. */
static void x_handle_refresh(const struct net_account *acct, json_t *state, const struct wire_request *req,
                             const struct wire_response *resp, struct net_result *out)
{
    int flags = req->step & ~X_STEP_MASK;
    if (resp->status != 200) {
        g_autofree char *name = NULL;
        g_autofree char *what = x_oauth_problem(acct, state, resp, &name);
        if (resp->status == 429 || resp->status >= 500 || resp->status == 0)
            net_result_fail(out, NET_RETRY, "renewing the X access token: %s", what);
        else if (g_strcmp0(name, "invalid_client") == 0 || g_strcmp0(name, "unauthorized_client") == 0)
            net_result_fail(out, NET_AUTH, "X refused client_id %s (%s); check client_id in heed.conf, or run "
                            "heed login x again", acct->client_id, what);
        else if (resp->status >= 400 && resp->status < 500)
            net_result_fail(out, NET_AUTH, "X no longer accepts heed's refresh token (%s); run heed login x again",
                            what);
        else
            net_result_fail(out, NET_RETRY, "renewing the X access token: %s", what);
        return;
    }
    g_autoptr(json_t) root = net_parse_json(resp, out, "oauth2/token");
    if (!root)
        return;
    const char *access = json_string_value(json_object_get(root, "access_token"));
    const char *refresh = json_string_value(json_object_get(root, "refresh_token"));
    const char *type = json_string_value(json_object_get(root, "token_type"));
    if (!x_token_ok(access) || (refresh && !x_token_ok(refresh)) ||
        (type && g_ascii_strcasecmp(type, "bearer") != 0)) {
        net_result_fail(out, NET_RETRY, "oauth2/token: no usable bearer access_token and refresh_token in the "
                                        "answer");
        return;
    }
    /* Without a new refresh token the one just used stays good. */
    g_autofree char *next_refresh =
        g_strdup(refresh ? refresh : x_has_session(acct, state) ? x_str(state, "refresh_token") : acct->secret);
    json_t *exp = json_object_get(root, "expires_in");
    json_int_t lifetime = json_is_integer(exp) ? json_integer_value(exp) : X_EXPIRES_DEFAULT_S;
    if (lifetime <= 0)
        lifetime = X_EXPIRES_DEFAULT_S;
    if (lifetime > X_EXPIRES_MAX_S)
        lifetime = X_EXPIRES_MAX_S;
    json_int_t ahead = lifetime / 4 < X_REFRESH_AHEAD_S ? lifetime / 4 : X_REFRESH_AHEAD_S;
    g_autofree char *from = x_session_from(acct);
    json_object_set_new(state, "access_token", json_string(access));
    json_object_set_new(state, "refresh_token", json_string(next_refresh));
    explicit_bzero(next_refresh, strlen(next_refresh));
    json_object_set_new(state, "access_expires", json_integer(acct->now + lifetime));
    json_object_set_new(state, "refresh_at", json_integer(acct->now + lifetime - ahead));
    json_object_set_new(state, "session_from", json_string(from));
    log_info("%s: renewed the X access token (good for %lld min)", acct->name, (long long)(lifetime / 60));
    out->state_changed = true;
    flags |= X_F_REFRESHED;
    const char *me = x_id_member(state, "me");
    if ((flags & X_F_HISTORY) && me && !json_is_true(json_object_get(state, "me_check")))
        out->next = x_history_request(acct, state, me, flags & ~X_F_HISTORY);
    else if (!(flags & X_F_HISTORY))
        out->next = x_poll_first(acct, state, flags);
}

static void x_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                     const struct wire_response *resp, struct net_result *out)
{
    x_rate(acct, resp, out);
    int kind = req->step & X_STEP_MASK;
    if (kind == X_STEP_REFRESH) {
        x_handle_refresh(acct, state, req, resp, out);
        return;
    }
    if (resp->status == 401 && x_client_mode(acct) && !(req->step & X_F_REFRESHED) && acct->secret &&
        *acct->secret) {
        /* Expired or revoked early: renew the session once, then start over. */
        int flags = (req->step & ~X_STEP_MASK) | (kind == X_STEP_HISTORY ? X_F_HISTORY : 0);
        out->next = x_refresh_request(acct, state, flags);
        return;
    }
    if (resp->status != 200) {
        x_handle_status(resp, out);
        if (resp->status == 401 && x_client_mode(acct)) {
            g_autofree char *said = g_strdup(out->error);
            net_result_fail(out, NET_AUTH, "%s, even with a freshly renewed access token", said);
        }
        return;
    }
    switch (kind) {
    case X_STEP_ME: x_handle_me(acct, state, req, resp, out); break;
    case X_STEP_PAGE: x_handle_page(acct, state, req, resp, out); break;
    case X_STEP_HISTORY: x_handle_history(acct, state, resp, out); break;
    default: net_result_fail(out, NET_FATAL, "x: a response to a request this driver did not make"); break;
    }
}

/* ---------------------------------------------------------------- identity */

/* Without client_id the secret is the access token. With one, only the
 * session heedd keeps can be tried: a refresh here would spend the refresh
 * token heedd holds (X rotates it), so without a session the answer is
 * "not signed in yet". */
static struct wire_request *x_identity_begin(const struct net_account *acct, json_t *state, bool sign_in,
                                            char **error)
{
    (void)sign_in;
    (void)error;
    if (x_client_mode(acct) && !x_has_session(acct, state))
        return NULL;
    return x_me_request(acct, state, 0);
}

static void x_identity_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                              const struct wire_response *resp, struct net_identity *out)
{
    (void)req;
    net_identity_from_status(resp, out);
    if (resp->status == 403)
        out->hint = "heed needs a user-context token, not an app-only one";
    const char *saved = x_str(state, "me_username");
    json_t *expires = json_object_get(state, "access_expires");
    if (resp->status == 401 && x_client_mode(acct) && json_is_integer(expires) &&
        json_integer_value(expires) <= acct->now) {
        out->outcome = NET_OK;
        out->handle = saved && x_username_ok(saved) ? g_strdup_printf("@%s", saved) : NULL;
        out->note = g_strdup("the session's access token has expired and heedd renews it");
        return;
    }
    if (resp->status == 401 && x_client_mode(acct))
        out->hint = "run heed login x again";
    if (out->outcome != NET_OK)
        return;
    g_autoptr(json_t) me = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *username = json_string_value(json_object_get(json_object_get(me, "data"), "username"));
    if (!username) {
        out->outcome = NET_FATAL;
        out->error = g_strdup("the answer names no user");
        return;
    }
    out->handle = g_strdup_printf("@%s", username);
}

static const char *const x_account_keys[] = { "client_id", NULL };

const struct net_driver net_x_driver = {
    .name = "x",
    .default_server = "https://api.x.com",
    .web_host = "x.com",
    .needs_secret = true,
    .begin = x_begin,
    .history_begin = x_history_begin,
    .handle = x_handle,
    .title = "X",
    .account_keys = x_account_keys,
    .login = NET_LOGIN_OAUTH_APP,
    .secret_word = "refresh token",
    .scopes = "tweet.read users.read offline.access",
    .secret_help =
        "X's API is paid: heed needs a developer account with credits or a plan that\n"
        "includes reading your mentions. heed signs in through an app of your own:\n"
        "  1. In the X developer portal (https://developer.x.com/en/portal/dashboard)\n"
        "     make a project and an app in it.\n"
        "  2. In the app's User authentication settings choose OAuth 2.0, type of app\n"
        "     \"Native App\" (a public client), app permissions \"Read\", and as\n"
        "     callback URI / redirect URL: {redirect}\n"
        "  3. Copy the app's OAuth 2.0 Client ID (not the API key) from Keys and tokens.\n"
        "heed asks for the scopes tweet.read users.read offline.access (offline.access\n"
        "lets heedd renew its 2-hour access tokens) and keeps only the refresh token.\n\n",
    .oauth_authorize = "/i/oauth2/authorize",
    .oauth_token = X_TOKEN_PATH,
    .oauth_revoke = "/2/oauth2/revoke",
    .oauth_redirect = "http://127.0.0.1/heed-login",
    .identity_begin = x_identity_begin,
    .identity_handle = x_identity_handle,
};
