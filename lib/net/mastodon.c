/* SPDX-License-Identifier: MIT */
/* net/mastodon: GET /api/v1/notifications?types[]=mention, as a pure translator.
 *
 * State (a JSON object persisted by the engine):
 *   "me"          the user's account id (from verify_credentials), for "reply to you";
 *   "initialized" true once the first page has been taken;
 *   "since_id"    newest notification id already stored;
 *   "poll_newest" / "poll_pages": progress of the poll in flight (not trusted across restarts).
 *
 * What is new: a notification whose id is above since_id. Mastodon gives a
 * notification its id when it creates it (ids grow with the server's clock,
 * not with the post's date), so ids are identity and order at once: a
 * back-dated or federated-late post still gets a new, higher id.
 *
 * The first start reads back NET_FIRST_WINDOW_S (7 days, by the
 * notifications' created_at) or catchup_max_pages pages, whichever ends
 * first, and marks it all initial_sync: listed, not popped up. Later polls
 * ask for since_id and, while a page comes back full, follow the Link
 * header's rel="next" (older) pages until they reach what was already seen,
 * bounded by catchup_max_pages. The cursor moves only when a poll
 * completes; pages before that are stored as they arrive and the store's
 * unique key absorbs any repeat after a crash.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net/net.h"
#include "text.h"

enum {
    MASTODON_STEP_ME = 1,
    MASTODON_STEP_PAGE,
    MASTODON_STEP_HISTORY,
    MASTODON_STEP_INSTANCE,
    MASTODON_STEP_HEALTH,
    MASTODON_STEP_STREAM,
    MASTODON_STEP_MARKERS,
};
#define MASTODON_HISTORY_LIMIT 40
/* Servers before Mastodon 4.1 cap pages at 30, Pleroma at 40: a page this
 * long may have more behind it. */
#define MASTODON_PAGE_MIN_FULL 30
#define MASTODON_MAX_WAIT_S 900
#define MASTODON_PAGE_LIMIT 80

static void mastodon_bearer(const struct net_account *acct, struct wire_request *req)
{
    wire_request_add_header(req, "Authorization: Bearer %s", acct->secret ? acct->secret : "");
}

static void mastodon_auth(const struct net_account *acct, struct wire_request *req)
{
    mastodon_bearer(acct, req);
    wire_request_add_header(req, "Accept: application/json");
}

static struct wire_request *mastodon_page_request(const struct net_account *acct, const char *since_id,
                                                 const char *max_id)
{
    GString *url = g_string_new(acct->server);
    g_string_append_printf(url, "/api/v1/notifications?types%%5B%%5D=mention&limit=%d", MASTODON_PAGE_LIMIT);
    if (since_id) {
        g_autofree char *e = net_uri_escape(since_id);
        g_string_append_printf(url, "&since_id=%s", e);
    }
    if (max_id) {
        g_autofree char *e = net_uri_escape(max_id);
        g_string_append_printf(url, "&max_id=%s", e);
    }
    struct wire_request *req = wire_request_new("GET", g_string_free(url, FALSE), MASTODON_STEP_PAGE);
    mastodon_auth(acct, req);
    return req;
}

static struct wire_request *mastodon_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)error;
    json_object_del(state, "poll_newest");
    json_object_del(state, "poll_pages");
    if (!json_is_string(json_object_get(state, "me"))) {
        struct wire_request *req = wire_request_new(
            "GET", g_strconcat(acct->server, "/api/v1/accounts/verify_credentials", NULL), MASTODON_STEP_ME);
        mastodon_auth(acct, req);
        return req;
    }
    return mastodon_page_request(acct, json_string_value(json_object_get(state, "since_id")), NULL);
}

/* A Link URL is followed only if it stays on the account's server: the
 * request carries the user's token. */
static bool mastodon_same_origin(const struct net_account *acct, const char *url)
{
    size_t n = strlen(acct->server);
    return strncmp(url, acct->server, n) == 0 && (url[n] == '/' || url[n] == '?');
}

static enum mention_tri mastodon_tri(json_t *v)
{
    return json_is_boolean(v) ? (json_is_true(v) ? MENTION_YES : MENTION_NO) : MENTION_UNKNOWN;
}

static char *mastodon_author_handle(const struct net_account *acct, json_t *account)
{
    const char *a = json_string_value(json_object_get(account, "acct"));
    if (!a || !*a)
        return NULL;
    if (strchr(a, '@'))
        return g_strdup_printf("@%s", a);
    /* Local accounts come without a domain: add the server's so the handle is global. */
    g_autoptr(GUri) uri = g_uri_parse(acct->server, G_URI_FLAGS_NONE, NULL);
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    return host ? g_strdup_printf("@%s@%s", a, host) : g_strdup_printf("@%s", a);
}

/* Does this quote (Mastodon 4.5 "quote" object) quote one of the user's posts? */
static bool mastodon_quotes_me(json_t *quote, const char *me)
{
    json_t *quoted = json_object_get(quote, "quoted_status");
    const char *author = json_string_value(json_object_get(json_object_get(quoted, "account"), "id"));
    return me && author && strcmp(author, me) == 0;
}

/* One notification object to a mention, or NULL (with *why) when it is not
 * one we can use. */
static struct mention *mastodon_parse_one(const struct net_account *acct, json_t *state, json_t *n,
                                          const char **why)
{
    const char *id = json_string_value(json_object_get(n, "id"));
    const char *type = json_string_value(json_object_get(n, "type"));
    json_t *status = json_object_get(n, "status");
    json_t *account = json_object_get(n, "account");
    if (!id || !*id) {
        *why = "no id";
        return NULL;
    }
    if (!type || strcmp(type, "mention") != 0) {
        *why = "not a mention";
        return NULL;
    }
    if (!json_is_object(status)) {
        *why = "status is null";
        return NULL;
    }
    if (!json_is_object(account))
        account = json_object_get(status, "account");
    if (!json_is_object(account)) {
        *why = "no account";
        return NULL;
    }

    struct mention *m = mention_new();
    m->account = g_strdup(acct->name);
    m->network = g_strdup("mastodon");
    m->remote_id = g_strdup(id);
    m->author_id = net_json_strdup(account, "id");
    m->author_handle = mastodon_author_handle(acct, account);
    const char *dn = json_string_value(json_object_get(account, "display_name"));
    m->author_name = text_sanitize(dn && *dn ? dn : (m->author_handle ? m->author_handle : "someone"), false);
    m->author_bot = mastodon_tri(json_object_get(account, "bot"));
    const char *avatar = json_string_value(json_object_get(account, "avatar_static"));
    if (avatar && !g_str_has_suffix(avatar, "/missing.png")) /* the server's stand-in: no face to show */
        m->avatar_url = g_strdup(avatar);

    const char *content = json_string_value(json_object_get(status, "content"));
    g_autofree char *plain = text_html_to_plain(content ? content : "", content ? strlen(content) : 0);
    const char *spoiler = json_string_value(json_object_get(status, "spoiler_text"));
    if (spoiler && *spoiler) {
        g_autofree char *cw = text_sanitize(spoiler, false);
        m->text = g_strdup_printf("CW: %s\n%s", cw, plain);
    } else {
        m->text = g_steal_pointer(&plain);
    }

    /* A remote post's own URL is on the author's server, where the user is
     * not logged in and cannot reply (and which heed will not open): link
     * to the post as the user's own server shows it. */
    const char *url = json_string_value(json_object_get(status, "url"));
    const char *acct_name = json_string_value(json_object_get(account, "acct"));
    const char *status_id = json_string_value(json_object_get(status, "id"));
    if (url && mastodon_same_origin(acct, url)) {
        m->url = g_strdup(url);
    } else if (acct_name && *acct_name && status_id && *status_id) {
        g_autofree char *ea = g_uri_escape_string(acct_name, "@", FALSE);
        g_autofree char *es = net_uri_escape(status_id);
        m->url = g_strdup_printf("%s/@%s/%s", acct->server, ea, es);
    } else {
        m->url = g_strdup(url ? url : json_string_value(json_object_get(status, "uri")));
    }

    const char *created = json_string_value(json_object_get(status, "created_at"));
    if (!created)
        created = json_string_value(json_object_get(n, "created_at"));
    m->created_at = net_parse_time(created);
    if (m->created_at == 0)
        m->created_at = acct->now;

    const char *vis = json_string_value(json_object_get(status, "visibility"));
    const char *reply_to = json_string_value(json_object_get(status, "in_reply_to_account_id"));
    const char *me = json_string_value(json_object_get(state, "me"));
    if (vis && strcmp(vis, "direct") == 0)
        m->kind = MENTION_KIND_DIRECT;
    else if (reply_to && me && strcmp(reply_to, me) == 0)
        m->kind = MENTION_KIND_REPLY;
    else if (mastodon_quotes_me(json_object_get(status, "quote"), me))
        m->kind = MENTION_KIND_QUOTE;
    else
        m->kind = MENTION_KIND_MENTION;

    const char *in_reply_to = json_string_value(json_object_get(status, "in_reply_to_id"));
    m->post_id = net_json_strdup(status, "id");
    m->thread_id = g_strdup(in_reply_to ? in_reply_to : m->post_id);
    json_t *mentions = json_object_get(status, "mentions");
    m->mention_count = json_is_array(mentions) && json_array_size(mentions) > 0 ? (int)json_array_size(mentions) : 1;
    return m;
}

static void mastodon_rate(const struct net_account *acct, const struct wire_response *resp, struct net_result *out)
{
    const char *rem = wire_response_header(resp, "x-ratelimit-remaining");
    const char *reset = wire_response_header(resp, "x-ratelimit-reset");
    if (rem) {
        char *end;
        long r = strtol(rem, &end, 10);
        if (end != rem && r >= 0)
            out->rate_remaining = (int)(r > 1000000 ? 1000000 : r);
    }
    int64_t reset_at = net_server_time_to_local(acct, resp, net_parse_time(reset));
    if (reset_at > acct->now + MASTODON_MAX_WAIT_S)
        reset_at = acct->now + MASTODON_MAX_WAIT_S; /* windows are 5 minutes: never wait longer than 15 */
    if ((resp->status == 429 || out->rate_remaining == 0) && reset_at > acct->now)
        out->retry_at = reset_at;
}

static void mastodon_handle_status(const struct wire_response *resp, struct net_result *out)
{
    /* The server's words are text from the network too: cleaned and short. */
    g_autofree char *msg = NULL;
    json_t *body = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *raw = json_is_object(body) ? json_string_value(json_object_get(body, "error")) : NULL;
    if (raw) {
        g_autofree char *clean = text_sanitize(raw, false);
        msg = text_truncate(clean, 200);
    }
    if (resp->status == 401 || resp->status == 403)
        net_result_fail(out, NET_AUTH, "HTTP %ld: %s", resp->status, msg ? msg : "access token refused");
    else if (resp->status == 404)
        net_result_fail(out, NET_FATAL, "HTTP 404: is this a Mastodon server?");
    else
        net_result_fail(out, NET_RETRY, "HTTP %ld%s%s", resp->status, msg ? ": " : "", msg ? msg : "");
    json_decref(body);
}

static void mastodon_handle_me(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                               struct net_result *out)
{
    g_autoptr(json_t) root = net_parse_json(resp, out, "verify_credentials");
    if (!root)
        return;
    const char *id = json_string_value(json_object_get(root, "id"));
    if (!id) {
        net_result_fail(out, NET_RETRY, "verify_credentials: no account id in the answer");
        return;
    }
    json_object_set_new(state, "me", json_string(id));
    out->state_changed = true;
    out->next = mastodon_page_request(acct, json_string_value(json_object_get(state, "since_id")), NULL);
}

static void mastodon_handle_page(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                                 struct net_result *out)
{
    g_autoptr(json_t) root = net_parse_json(resp, out, "notifications");
    if (!root)
        return;
    if (!json_is_array(root)) {
        net_result_fail(out, NET_RETRY, "notifications: expected a JSON array");
        return;
    }
    bool initialized = json_is_true(json_object_get(state, "initialized"));
    const char *since = json_string_value(json_object_get(state, "since_id"));
    g_autofree char *newest = net_json_strdup(state, "poll_newest");
    const char *oldest = NULL;
    int64_t oldest_at = INT64_MAX; /* the first start reads back by time */
    bool reached_seen = false;
    size_t i;
    json_t *n;
    json_array_foreach(root, i, n) {
        const char *id = json_string_value(json_object_get(n, "id"));
        int64_t at = net_parse_time(json_string_value(json_object_get(n, "created_at")));
        if (at > 0 && at < oldest_at)
            oldest_at = at;
        if (!id || !*id) {
            net_result_skip(out, "notification %zu of a page has no id", i);
            continue;
        }
        if (since && net_id_compare(id, since) <= 0) {
            reached_seen = true; /* a server that ignores since_id, or a repeated page */
            continue;
        }
        if (!newest || net_id_compare(id, newest) > 0) {
            g_free(newest);
            newest = g_strdup(id);
        }
        if (!oldest || net_id_compare(id, oldest) < 0)
            oldest = id;
        const char *why = NULL;
        struct mention *m = mastodon_parse_one(acct, state, n, &why);
        if (m)
            g_ptr_array_add(out->mentions, m);
        else
            log_debug("%s: notification %s skipped: %s", acct->name, id, why);
    }
    out->initial_sync = !initialized;

    json_int_t pages = json_integer_value(json_object_get(state, "poll_pages")) + 1;
    const char *link = wire_response_header(resp, "link");
    g_autofree char *next = net_link_rel(link, "next");
    bool full = json_array_size(root) >= MASTODON_PAGE_MIN_FULL;
    bool more = full && !reached_seen && oldest && next;
    if (more && !initialized && (oldest_at == INT64_MAX || oldest_at < acct->now - NET_FIRST_WINDOW_S))
        more = false; /* the first start's window is read */
    if (more && !mastodon_same_origin(acct, next)) {
        net_result_notice(out, "Link header points away from %s; not following it", acct->server);
        more = false;
    }
    if (more && pages >= acct->catchup_max_pages) {
        if (initialized)
            net_result_notice(out,
                "more than %lld pages of mentions since the last poll; older ones were not fetched "
                "(raise catchup_max_pages)",
                (long long)pages);
        more = false;
    }
    if (more) {
        json_object_set_new(state, "poll_pages", json_integer(pages));
        if (newest)
            json_object_set_new(state, "poll_newest", json_string(newest));
        /* Keep since_id on the followed link so the server stops at what we have. */
        if (since && !strstr(next, "since_id=")) {
            g_autofree char *e = net_uri_escape(since);
            char *with = g_strdup_printf("%s%ssince_id=%s", next, strchr(next, '?') ? "&" : "?", e);
            g_free(next);
            next = with;
        }
        out->next = wire_request_new("GET", g_steal_pointer(&next), MASTODON_STEP_PAGE);
        mastodon_auth(acct, out->next);
        return;
    }
    json_object_del(state, "poll_pages");
    json_object_del(state, "poll_newest");
    if (newest && (!since || net_id_compare(newest, since) > 0))
        json_object_set_new(state, "since_id", json_string(newest));
    json_object_set_new(state, "initialized", json_true());
    out->state_changed = true;
    /* Last, the read marker other clients share: what the user read there
     * need not stay on this desktop. */
    out->next = wire_request_new(
        "GET", g_strconcat(acct->server, "/api/v1/markers?timeline%5B%5D=notifications", NULL), MASTODON_STEP_MARKERS);
    mastodon_auth(acct, out->next);
}

/* A marker is a bonus: an old server or a token without read:statuses
 * simply has none, and the poll is still a success. */
static void mastodon_handle_markers(const struct wire_response *resp, struct net_result *out)
{
    if (resp->status != 200)
        return;
    g_autoptr(json_t) root = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *id = json_string_value(json_object_get(json_object_get(root, "notifications"), "last_read_id"));
    if (id && *id && strlen(id) < 64)
        out->read_upto = g_strdup(id);
}

/* The user's own recent statuses: who they answered. */
static struct wire_request *mastodon_history_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)error;
    const char *me = json_string_value(json_object_get(state, "me"));
    if (!me)
        return NULL;
    g_autofree char *eme = net_uri_escape(me);
    GString *url = g_string_new(acct->server);
    g_string_append_printf(url, "/api/v1/accounts/%s/statuses?exclude_reblogs=true&limit=%d", eme,
                           MASTODON_HISTORY_LIMIT);
    const char *since = json_string_value(json_object_get(state, "history_since"));
    if (since) {
        g_autofree char *e = net_uri_escape(since);
        g_string_append_printf(url, "&since_id=%s", e);
    }
    struct wire_request *req = wire_request_new("GET", g_string_free(url, FALSE), MASTODON_STEP_HISTORY);
    mastodon_auth(acct, req);
    return req;
}

static void mastodon_handle_history(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                                    struct net_result *out)
{
    g_autoptr(json_t) root = net_parse_json(resp, out, "statuses");
    if (!root)
        return;
    if (!json_is_array(root)) {
        net_result_fail(out, NET_RETRY, "statuses: expected a JSON array");
        return;
    }
    const char *me = json_string_value(json_object_get(state, "me"));
    const char *since = json_string_value(json_object_get(state, "history_since"));
    g_autofree char *newest = since ? g_strdup(since) : NULL;
    size_t i;
    json_t *s;
    json_array_foreach(root, i, s) {
        const char *id = json_string_value(json_object_get(s, "id"));
        if (!id)
            continue;
        if (!newest || net_id_compare(id, newest) > 0) {
            g_free(newest);
            newest = g_strdup(id);
        }
        const char *to = json_string_value(json_object_get(s, "in_reply_to_account_id"));
        if (!to || (me && strcmp(to, me) == 0))
            continue;
        struct net_reply *r = g_new0(struct net_reply, 1);
        r->remote_id = g_strdup(id);
        r->to_author_id = g_strdup(to);
        r->to_post_id = net_json_strdup(s, "in_reply_to_id");
        r->at = net_parse_time(json_string_value(json_object_get(s, "created_at")));
        if (r->at == 0)
            r->at = acct->now;
        g_ptr_array_add(out->replies, r);
    }
    if (newest)
        json_object_set_new(state, "history_since", json_string(newest));
    out->state_changed = true;
}

/* Streaming: GET /api/v2/instance names the streaming host (wss://...,
 * which serves the same paths over https); its health endpoint must answer
 * "OK"; then /api/v1/streaming/user/notification streams notifications.
 * The stream carries the token, so the streaming host must be the
 * account's own or under the same registrable domain (net_same_site);
 * anything else ends the stream chain as unavailable: the account polls,
 * and the engine says so once. */
static char *mastodon_stream_base(const struct net_account *acct, json_t *state)
{
    const char *base = json_string_value(json_object_get(state, "streaming_base"));
    return g_strdup(base ? base : acct->server);
}

static struct wire_request *mastodon_health_request(const struct net_account *acct, json_t *state)
{
    g_autofree char *base = mastodon_stream_base(acct, state);
    return wire_request_new("GET", g_strconcat(base, "/api/v1/streaming/health", NULL), MASTODON_STEP_HEALTH);
}

static struct wire_request *mastodon_stream_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)error;
    if (json_is_string(json_object_get(state, "streaming_base")))
        return mastodon_health_request(acct, state);
    return wire_request_new("GET", g_strconcat(acct->server, "/api/v2/instance", NULL), MASTODON_STEP_INSTANCE);
}

static void mastodon_handle_instance(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                                     struct net_result *out)
{
    /* A passing failure must not be remembered as "no streaming host". */
    if (resp->status != 200 && resp->status != 404) {
        mastodon_rate(acct, resp, out);
        mastodon_handle_status(resp, out);
        return;
    }
    /* Old servers have no v2 instance; their stream lives on the main host. */
    g_autofree char *base = g_strdup(acct->server);
    json_t *root = resp->status == 200 ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    const char *url = json_string_value(
        json_object_get(json_object_get(json_object_get(root, "configuration"), "urls"), "streaming"));
    if (url) {
        g_autofree char *https = g_str_has_prefix(url, "wss://") ? g_strconcat("https://", url + 6, NULL)
                                                                  : g_strdup(url);
        g_autoptr(GUri) uri = g_uri_parse(https, G_URI_FLAGS_NONE, NULL);
        g_autoptr(GUri) home = g_uri_parse(acct->server, G_URI_FLAGS_NONE, NULL);
        bool ok = uri && g_strcmp0(g_uri_get_scheme(uri), "https") == 0 && g_uri_get_host(uri) &&
                  !g_uri_get_userinfo(uri);
        if (ok && !net_same_site(home ? g_uri_get_host(home) : NULL, g_uri_get_host(uri))) {
            /* The stream carries the token: never to someone else's domain. */
            g_autofree char *host = text_sanitize(g_uri_get_host(uri), false);
            net_result_fail(out, NET_FATAL,
                            "the server names %s as its streaming host, outside its own domain; not sending the "
                            "token there",
                            host);
            json_decref(root);
            return;
        }
        if (ok) {
            g_free(base);
            base = https;
            https = NULL;
            while (g_str_has_suffix(base, "/"))
                base[strlen(base) - 1] = '\0';
        } else {
            net_result_notice(out, "ignoring streaming URL that is not https");
        }
    }
    json_decref(root);
    json_object_set_new(state, "streaming_base", json_string(base));
    out->state_changed = true;
    out->next = mastodon_health_request(acct, state);
}

static void mastodon_handle_health(const struct net_account *acct, json_t *state, const struct wire_response *resp,
                                   struct net_result *out)
{
    if (resp->status != 200 || resp->body_len < 2 || strncmp(resp->body, "OK", 2) != 0) {
        net_result_fail(out, NET_FATAL, "streaming health check answered HTTP %ld", resp->status);
        return;
    }
    g_autofree char *base = mastodon_stream_base(acct, state);
    out->next = wire_request_new("GET", g_strconcat(base, "/api/v1/streaming/user/notification", NULL),
                                MASTODON_STEP_STREAM);
    out->next->stream = true;
    mastodon_bearer(acct, out->next);
    wire_request_add_header(out->next, "Accept: text/event-stream");
}

static void mastodon_stream_event(const struct net_account *acct, json_t *state, const char *event, const char *data,
                                  size_t len, struct net_result *out)
{
    if (strcmp(event, "notification") != 0)
        return;
    json_error_t jerr;
    g_autoptr(json_t) n = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(n)) {
        log_warn("%s: a streamed notification is not a JSON object (%s); the next poll will fetch it", acct->name,
                 jerr.text);
        return;
    }
    const char *why = NULL;
    struct mention *m = mastodon_parse_one(acct, state, n, &why);
    if (m)
        g_ptr_array_add(out->mentions, m);
    else
        log_debug("%s: streamed notification skipped: %s", acct->name, why);
}

static void mastodon_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                            const struct wire_response *resp, struct net_result *out)
{
    if (req->step == MASTODON_STEP_INSTANCE) {
        mastodon_handle_instance(acct, state, resp, out);
        return;
    }
    if (req->step == MASTODON_STEP_HEALTH) {
        mastodon_handle_health(acct, state, resp, out);
        return;
    }
    if (req->step == MASTODON_STEP_MARKERS) {
        mastodon_handle_markers(resp, out);
        return;
    }
    mastodon_rate(acct, resp, out);
    if (resp->status != 200) {
        mastodon_handle_status(resp, out);
        return;
    }
    if (req->step == MASTODON_STEP_ME)
        mastodon_handle_me(acct, state, resp, out);
    else if (req->step == MASTODON_STEP_HISTORY)
        mastodon_handle_history(acct, state, resp, out);
    else
        mastodon_handle_page(acct, state, resp, out);
}

/* ---------------------------------------------------------------- identity */

static struct wire_request *mastodon_identity_begin(const struct net_account *acct, json_t *state, bool sign_in,
                                                   char **error)
{
    (void)state;
    (void)sign_in;
    (void)error;
    struct wire_request *req = wire_request_new(
        "GET", g_strconcat(acct->server, "/api/v1/accounts/verify_credentials", NULL), MASTODON_STEP_ME);
    mastodon_auth(acct, req);
    return req;
}

static void mastodon_identity_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                                     const struct wire_response *resp, struct net_identity *out)
{
    (void)acct;
    (void)state;
    (void)req;
    net_identity_from_status(resp, out);
    if (out->outcome != NET_OK)
        return;
    g_autoptr(json_t) me = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    if (!json_is_object(me)) {
        out->outcome = NET_FATAL;
        out->error = g_strdup("the answer is not a Mastodon account");
        return;
    }
    const char *acct_name = json_string_value(json_object_get(me, "acct"));
    out->handle = acct_name ? g_strdup_printf("@%s", acct_name) : NULL;
}

const struct net_driver net_mastodon_driver = {
    .name = "mastodon",
    .default_server = NULL,
    .web_host = NULL,
    .needs_secret = true,
    .begin = mastodon_begin,
    .history_begin = mastodon_history_begin,
    .stream_begin = mastodon_stream_begin,
    .stream_event = mastodon_stream_event,
    .handle = mastodon_handle,
    .title = "Mastodon",
    .server_required = true,
    .web_follows_server = true,
    .login = NET_LOGIN_OAUTH_PKCE,
    .login_target = "instance",
    .login_example = "mastodon.social",
    .secret_word = "access token",
    /* heed never writes: these four are all it reads (network-apis.md §1.8). */
    .scopes = "read:notifications read:statuses read:accounts read:follows",
    .identity_begin = mastodon_identity_begin,
    .identity_handle = mastodon_identity_handle,
};
