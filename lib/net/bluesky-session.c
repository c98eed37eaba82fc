/* SPDX-License-Identifier: MIT */
/* net/bluesky-session: the Bluesky driver's app-password session (see
 * bluesky.c's head comment, "Session"): the requests that carry it, the
 * createSession/refreshSession answers, RateLimit-* headers, refused
 * requests, and the identity check heed login and doctor use. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net/bluesky-int.h"
#include "text.h"

/* ---------------------------------------------------------------- requests */

static struct wire_request *bluesky_xrpc(const struct net_account *acct, const char *method, const char *nsid,
                                        const char *query, int step)
{
    char *url = g_strdup_printf("%s/xrpc/%s%s%s", acct->server, nsid, query ? "?" : "", query ? query : "");
    struct wire_request *req = wire_request_new(method, url, step);
    wire_request_add_header(req, "Accept: application/json");
    return req;
}

struct wire_request *bluesky_login_request(const struct net_account *acct, int flags)
{
    struct wire_request *req =
        bluesky_xrpc(acct, "POST", "com.atproto.server.createSession", NULL, BLUESKY_STEP_LOGIN | flags);
    const char *id = acct->identifier ? acct->identifier : "";
    const char *pw = acct->secret ? acct->secret : "";
    /* Sized up front so the buffer holding the password is never reallocated
     * (a reallocation would leave an unwiped copy behind). */
    GString *body = g_string_sized_new(64 + 6 * (strlen(id) + strlen(pw)));
    g_string_append(body, "{\"identifier\":");
    bluesky_json_append(body, id);
    g_string_append(body, ",\"password\":");
    bluesky_json_append(body, pw);
    g_string_append_c(body, '}');
    req->body = g_string_free(body, FALSE);
    req->content_type = g_strdup("application/json");
    return req;
}

static struct wire_request *bluesky_refresh_request(const struct net_account *acct, json_t *state, int flags)
{
    struct wire_request *req =
        bluesky_xrpc(acct, "POST", "com.atproto.server.refreshSession", NULL, BLUESKY_STEP_REFRESH | flags);
    wire_request_add_header(req, "Authorization: Bearer %s", bluesky_str(state, "refreshJwt"));
    return req;
}

struct wire_request *bluesky_page_request(const struct net_account *acct, json_t *state, int flags)
{
    GString *q = g_string_new(NULL);
    g_string_append_printf(q, "limit=%d&reasons=mention&reasons=reply&reasons=quote", BLUESKY_PAGE_LIMIT);
    const char *cursor = bluesky_str(state, "poll_cursor");
    if (cursor) {
        g_autofree char *e = net_uri_escape(cursor);
        g_string_append_printf(q, "&cursor=%s", e);
    }
    g_autofree char *query = g_string_free(q, FALSE);
    struct wire_request *req = bluesky_xrpc(acct, "GET", "app.bsky.notification.listNotifications", query,
                                           BLUESKY_STEP_PAGE | (flags & ~BLUESKY_STEP_MASK & ~BLUESKY_F_HISTORY));
    wire_request_add_header(req, "Authorization: Bearer %s", bluesky_str(state, "accessJwt"));
    return req;
}

struct wire_request *bluesky_history_request(const struct net_account *acct, json_t *state, int flags)
{
    g_autofree char *actor = net_uri_escape(bluesky_str(state, "did"));
    GString *q = g_string_new(NULL);
    g_string_append_printf(q, "actor=%s&filter=posts_with_replies&limit=%d", actor, BLUESKY_HISTORY_LIMIT);
    const char *cursor = bluesky_str(state, "history_cursor");
    if (cursor) {
        g_autofree char *e = net_uri_escape(cursor);
        g_string_append_printf(q, "&cursor=%s", e);
    }
    g_autofree char *query = g_string_free(q, FALSE);
    struct wire_request *req = bluesky_xrpc(acct, "GET", "app.bsky.feed.getAuthorFeed", query,
                                           BLUESKY_STEP_HISTORY | (flags & ~BLUESKY_STEP_MASK));
    wire_request_add_header(req, "Authorization: Bearer %s", bluesky_str(state, "accessJwt"));
    return req;
}

/* The request a session step was made for, repeated with the new session. */
static struct wire_request *bluesky_resume(const struct net_account *acct, json_t *state, int flags)
{
    if (flags & BLUESKY_F_HISTORY)
        return bluesky_history_request(acct, state, flags);
    return bluesky_page_request(acct, state, flags);
}

/* ---------------------------------------------------------------- responses */

/* Like net_parse_json, with two differences. A "\u0000" in some post must
 * not stall the account forever (the string is cut there instead). And for
 * session answers jansson's error text is left out: it quotes the input near
 * the error, which there is a token. */
json_t *bluesky_parse_json(const struct wire_response *resp, struct net_result *out, const char *what,
                           bool holds_tokens)
{
    /* net_parse_json never quotes the body (a session answer holds tokens,
     * a page holds someone's post) and repairs invalid UTF-8. */
    (void)holds_tokens;
    return net_parse_json(resp, out, what);
}

/* The XRPC error name ({"error":"ExpiredToken",...}) if it looks like one. */
static char *bluesky_error_name(const struct wire_response *resp)
{
    g_autoptr(json_t) body = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *name = json_string_value(json_object_get(body, "error"));
    if (!name || !*name || strlen(name) > 64)
        return NULL;
    for (const char *p = name; *p; p++)
        if (!g_ascii_isalnum(*p))
            return NULL;
    return g_strdup(name);
}

static bool bluesky_contains(const char *hay, const char *needle)
{
    return needle && strlen(needle) >= 4 && strstr(hay, needle) != NULL;
}

/* "HTTP 400 ExpiredToken: Token has expired" for the log. The server's
 * message is dropped if it echoes the password or a token. */
static char *bluesky_describe(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                              const char *name)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "HTTP %ld", resp->status);
    if (name)
        g_string_append_printf(s, " %s", name);
    g_autoptr(json_t) body = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *msg = json_string_value(json_object_get(body, "message"));
    bool echoes_secret = msg && (bluesky_contains(msg, acct->secret) ||
                                 bluesky_contains(msg, bluesky_str(state, "accessJwt")) ||
                                 bluesky_contains(msg, bluesky_str(state, "refreshJwt")));
    if (msg && *msg && !echoes_secret) {
        g_autofree char *q = bluesky_quote(msg);
        if (*q)
            g_string_append_printf(s, ": %s", q);
    }
    return g_string_free(s, FALSE);
}

static bool bluesky_is(const char *name, const char *want)
{
    return name && strcmp(name, want) == 0;
}

/* RateLimit-* (draft-polli names, no X- prefix). Reset is epoch seconds on
 * Bluesky; a small number is taken as delta seconds, as the IETF draft has it. */
void bluesky_rate(const struct net_account *acct, const struct wire_request *req,
                  const struct wire_response *resp, struct net_result *out)
{
    int kind = req->step & BLUESKY_STEP_MASK;
    const char *rem = wire_response_header(resp, "ratelimit-remaining");
    const char *reset = wire_response_header(resp, "ratelimit-reset");
    int remaining = -1;
    if (rem) {
        char *end;
        long long r = strtoll(rem, &end, 10);
        if (end != rem && r >= 0)
            remaining = (int)(r > 1000000 ? 1000000 : r);
    }
    /* createSession has its own small per-account budget: it says nothing
     * about how often the account may poll. */
    if (kind != BLUESKY_STEP_LOGIN)
        out->rate_remaining = remaining;
    int64_t reset_at = 0;
    if (reset) {
        char *end;
        long long r = strtoll(reset, &end, 10);
        if (end != reset && r > 0)
            reset_at = r < 1000000000LL ? acct->now + r : net_server_time_to_local(acct, resp, r);
    }
    if (reset_at > acct->now + BLUESKY_RATE_MAX_WAIT_S)
        reset_at = acct->now + BLUESKY_RATE_MAX_WAIT_S;
    if (resp->status == 429 || (remaining == 0 && kind != BLUESKY_STEP_LOGIN)) {
        if (reset_at > acct->now)
            out->retry_at = reset_at;
        else if (resp->status == 429 && !reset)
            out->retry_at = acct->now + BLUESKY_RATE_DEFAULT_WAIT_S; /* no reset said: a guess */
        /* A reset already past: the window is over; the usual backoff applies. */
    }
}

/* No createSession again for a while: the daily budget is small and shared
 * with the user's other clients. */
static void bluesky_login_pause(const struct net_account *acct, struct net_result *out)
{
    if (out->retry_at < acct->now + BLUESKY_LOGIN_PAUSE_S)
        out->retry_at = acct->now + BLUESKY_LOGIN_PAUSE_S;
}

/* Copy a createSession/refreshSession answer into the state. */
static bool bluesky_take_session(json_t *state, json_t *root, const char **why)
{
    const char *access = json_string_value(json_object_get(root, "accessJwt"));
    const char *refresh = json_string_value(json_object_get(root, "refreshJwt"));
    const char *did = json_string_value(json_object_get(root, "did"));
    const char *handle = json_string_value(json_object_get(root, "handle"));
    if (!json_is_object(root) || !bluesky_token_ok(access) || !bluesky_token_ok(refresh)) {
        *why = "no usable accessJwt/refreshJwt in the answer";
        return false;
    }
    if (did && !bluesky_did_ok(did, strlen(did))) {
        *why = "the answer's did is not a DID";
        return false;
    }
    if (!did && !bluesky_str(state, "did")) {
        *why = "no did in the answer";
        return false;
    }
    if (did)
        json_object_set_new(state, "did", json_string(did));
    if (handle && *handle)
        json_object_set_new(state, "handle", json_string(handle));
    json_object_set_new(state, "accessJwt", json_string(access));
    json_object_set_new(state, "refreshJwt", json_string(refresh));
    return true;
}

void bluesky_handle_login(const struct net_account *acct, json_t *state, const struct wire_request *req,
                          const struct wire_response *resp, struct net_result *out)
{
    int flags = req->step & ~BLUESKY_STEP_MASK;
    if (resp->status != 200) {
        g_autofree char *name = bluesky_error_name(resp);
        g_autofree char *what = bluesky_describe(acct, state, resp, name);
        if (resp->status == 429)
            net_result_fail(out, NET_RETRY, "createSession: %s: too many logins; waiting", what);
        else if (resp->status == 400 || resp->status == 401 || resp->status == 403)
            net_result_fail(out, NET_AUTH, "createSession: %s: Bluesky refused identifier %s with this app password",
                            what, acct->identifier);
        else if (resp->status == 404)
            net_result_fail(out, NET_FATAL, "createSession: %s: is %s a Bluesky (AT Protocol) server?", what,
                            acct->server);
        else
            net_result_fail(out, NET_RETRY, "createSession: %s", what);
        bluesky_login_pause(acct, out);
        return;
    }
    g_autoptr(json_t) root = bluesky_parse_json(resp, out, "createSession", true);
    g_autofree char *old_did = g_strdup(bluesky_str(state, "did"));
    const char *why = NULL;
    if (root && !bluesky_take_session(state, root, &why))
        net_result_fail(out, NET_RETRY, "createSession: %s", why);
    if (out->outcome != NET_OK) {
        bluesky_login_pause(acct, out);
        return;
    }
    if (old_did && g_strcmp0(old_did, bluesky_str(state, "did")) != 0) {
        /* Another account now: its past is history, not news. */
        json_object_del(state, "seen_until");
        json_object_del(state, "history_seen");
    }
    json_object_set_new(state, "login_identifier", json_string(acct->identifier));
    json_object_set_new(state, "login_server", json_string(acct->server));
    log_info("%s: logged in to %s as %s", acct->name, acct->server, bluesky_str(state, "did"));
    out->state_changed = true;
    out->next = bluesky_resume(acct, state, flags | BLUESKY_F_LOGGED_IN);
}

void bluesky_handle_refresh(const struct net_account *acct, json_t *state, const struct wire_request *req,
                            const struct wire_response *resp, struct net_result *out)
{
    int flags = req->step & ~BLUESKY_STEP_MASK;
    if (resp->status != 200) {
        g_autofree char *name = bluesky_error_name(resp);
        g_autofree char *what = bluesky_describe(acct, state, resp, name);
        bool dead = bluesky_is(name, "ExpiredToken") || bluesky_is(name, "InvalidToken") || resp->status == 401;
        if (resp->status == 429 || resp->status >= 500) {
            net_result_fail(out, NET_RETRY, "refreshSession: %s", what);
        } else if (dead && !(flags & BLUESKY_F_LOGGED_IN)) {
            /* The refresh token is spent or revoked: log in once more. Saved
             * now, so a failed login does not bring the dead session back. */
            log_info("%s: session ended (%s); logging in again", acct->name, what);
            bluesky_drop_session(state);
            out->state_changed = true;
            out->next = bluesky_login_request(acct, flags);
        } else if (resp->status == 400 || resp->status == 401 || resp->status == 403) {
            net_result_fail(out, NET_AUTH, "refreshSession: %s", what);
        } else {
            net_result_fail(out, NET_RETRY, "refreshSession: %s", what);
        }
        return;
    }
    g_autoptr(json_t) root = bluesky_parse_json(resp, out, "refreshSession", true);
    if (!root)
        return;
    const char *why = NULL;
    if (!bluesky_take_session(state, root, &why)) {
        net_result_fail(out, NET_RETRY, "refreshSession: %s", why);
        return;
    }
    out->state_changed = true;
    out->next = bluesky_resume(acct, state, flags | BLUESKY_F_REFRESHED);
}

/* A listNotifications/getAuthorFeed answer other than 200. */
void bluesky_handle_refused(const struct net_account *acct, json_t *state, const struct wire_request *req,
                            const struct wire_response *resp, struct net_result *out)
{
    int flags = req->step & ~BLUESKY_STEP_MASK;
    if ((req->step & BLUESKY_STEP_MASK) == BLUESKY_STEP_HISTORY)
        flags |= BLUESKY_F_HISTORY;
    g_autofree char *name = bluesky_error_name(resp);
    g_autofree char *what = bluesky_describe(acct, state, resp, name);
    bool expired = bluesky_is(name, "ExpiredToken");
    bool renew = expired || bluesky_is(name, "InvalidToken");
    if ((resp->status == 400 && renew) || resp->status == 401) {
        if (!(flags & (BLUESKY_F_REFRESHED | BLUESKY_F_LOGGED_IN))) {
            out->next = bluesky_refresh_request(acct, state, flags);
            return;
        }
        /* A session made moments ago is refused: no second renewal in this
         * chain; the next poll starts over. */
        net_result_fail(out, expired ? NET_RETRY : NET_AUTH, "%s, even with a new session", what);
    } else if (resp->status == 403) {
        net_result_fail(out, NET_AUTH, "%s", what);
    } else if (resp->status == 404) {
        net_result_fail(out, NET_FATAL, "%s: is %s a Bluesky (AT Protocol) server?", what, acct->server);
    } else {
        net_result_fail(out, NET_RETRY, "%s", what);
    }
}

/* ---------------------------------------------------------------- identity */

/* The "scope" claim of a JWT's payload, or NULL. The signature is not
 * checked: this only asks what the server said it issued. */
static char *bluesky_jwt_scope(const char *jwt)
{
    g_auto(GStrv) parts = g_strsplit(jwt ? jwt : "", ".", 3);
    if (g_strv_length(parts) < 2)
        return NULL;
    GString *b = g_string_new(parts[1]);
    for (gsize i = 0; i < b->len; i++)
        b->str[i] = b->str[i] == '-' ? '+' : b->str[i] == '_' ? '/' : b->str[i];
    while (b->len % 4)
        g_string_append_c(b, '=');
    gsize len = 0;
    g_autofree guchar *raw = g_base64_decode(b->str, &len);
    g_string_free(b, TRUE);
    g_autoptr(json_t) payload = raw ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
    return g_strdup(json_string_value(json_object_get(payload, "scope")));
}

/* With a session saved for this identifier and server: getSession, which
 * spends nothing. Without: createSession, only when a sign-in is allowed. */
struct wire_request *bluesky_identity_begin(const struct net_account *acct, json_t *state, bool sign_in,
                                           char **error)
{
    if (!acct->identifier || !*acct->identifier) {
        *error = g_strdup("no identifier: set identifier = your handle (e.g. alice.bsky.social) or DID");
        return NULL;
    }
    bool ours = g_strcmp0(bluesky_str(state, "login_identifier"), acct->identifier) == 0 &&
                g_strcmp0(bluesky_str(state, "login_server"), acct->server) == 0;
    if (ours && bluesky_has_session(state)) {
        struct wire_request *req =
            bluesky_xrpc(acct, "GET", "com.atproto.server.getSession", NULL, BLUESKY_STEP_PAGE);
        wire_request_add_header(req, "Authorization: Bearer %s", bluesky_str(state, "accessJwt"));
        return req;
    }
    return sign_in ? bluesky_login_request(acct, 0) : NULL;
}

static void bluesky_identity_login(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                                   struct net_identity *out)
{
    g_autoptr(json_t) root = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *why = NULL;
    if (!bluesky_take_session(state, root, &why)) {
        out->outcome = NET_FATAL;
        out->error = g_strdup(why);
        return;
    }
    json_object_set_new(state, "login_identifier", json_string(acct->identifier));
    json_object_set_new(state, "login_server", json_string(acct->server));
    out->handle = g_strdup_printf("@%s", bluesky_str(state, "handle") ? bluesky_str(state, "handle")
                                                                        : acct->identifier);
    /* The reference PDS marks a main-password session com.atproto.access
     * and an app-password one com.atproto.appPass: a last guard against
     * keeping the main password. */
    g_autofree char *scope = bluesky_jwt_scope(bluesky_str(state, "accessJwt"));
    if (g_strcmp0(scope, "com.atproto.access") == 0) {
        out->outcome = NET_AUTH;
        out->error = g_strdup("this is the account's main password, not an app password");
        out->hint = "make an app password and run heed login again";
    }
}

void bluesky_identity_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                             const struct wire_response *resp, struct net_identity *out)
{
    net_identity_from_status(resp, out);
    bool login = (req->step & BLUESKY_STEP_MASK) == BLUESKY_STEP_LOGIN;
    if (out->outcome == NET_OK && login) {
        bluesky_identity_login(acct, state, resp, out);
        return;
    }
    g_autofree char *name = out->outcome == NET_AUTH ? bluesky_error_name(resp) : NULL;
    if (g_strcmp0(name, "ExpiredToken") == 0) {
        out->outcome = NET_OK;
        out->note = g_strdup("the session's access token has expired and heedd renews it");
    }
    if (out->outcome != NET_OK)
        return;
    g_autoptr(json_t) root = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *handle = json_string_value(json_object_get(root, "handle"));
    if (!handle)
        handle = bluesky_str(state, "handle") ? bluesky_str(state, "handle") : acct->identifier;
    out->handle = g_strdup_printf("@%s", handle);
}

/* deleteSession ends a session (it takes the refresh token). */
struct wire_request *bluesky_session_end(const struct net_account *acct, json_t *state)
{
    if (!bluesky_token_ok(bluesky_str(state, "refreshJwt")))
        return NULL;
    struct wire_request *req =
        bluesky_xrpc(acct, "POST", "com.atproto.server.deleteSession", NULL, BLUESKY_STEP_REFRESH);
    wire_request_add_header(req, "Authorization: Bearer %s", bluesky_str(state, "refreshJwt"));
    return req;
}


