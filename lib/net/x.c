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
 *                   flight; begin() drops them, so they never outlive a poll.
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

enum { X_STEP_ME = 1, X_STEP_PAGE, X_STEP_HISTORY };

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
    "&user.fields=username,name"
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

static void x_auth(const struct net_account *acct, struct net_request *req)
{
    net_request_add_header(req, "Authorization: Bearer %s", acct->secret ? acct->secret : "");
    net_request_add_header(req, "Accept: application/json");
}

static struct net_request *x_me_request(const struct net_account *acct)
{
    struct net_request *req = net_request_new("GET", g_strconcat(acct->server, "/2/users/me", NULL), X_STEP_ME);
    x_auth(acct, req);
    return req;
}

static struct net_request *x_mentions_request(const struct net_account *acct, const char *me, const char *since_id,
                                              const char *pagination_token)
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
    struct net_request *req = net_request_new("GET", g_string_free(url, FALSE), X_STEP_PAGE);
    x_auth(acct, req);
    return req;
}

static struct net_request *x_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)error;
    json_object_del(state, "poll_newest");
    json_object_del(state, "poll_pages");
    json_object_del(state, "poll_fresh");
    const char *me = x_id_member(state, "me");
    if (!me)
        return x_me_request(acct);
    return x_mentions_request(acct, me, x_id_member(state, "since_id"), NULL);
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

static void x_rate(const struct net_account *acct, const struct net_response *resp, struct net_result *out)
{
    const char *rem = net_response_header(resp, "x-rate-limit-remaining");
    const char *reset = net_response_header(resp, "x-rate-limit-reset");
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

static void x_handle_status(const struct net_response *resp, struct net_result *out)
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
static json_t *x_parse_body(const struct net_account *acct, const struct net_response *resp, struct net_result *out,
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

static void x_handle_me(const struct net_account *acct, json_t *state, const struct net_response *resp,
                        struct net_result *out)
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
    json_object_set_new(state, "me", json_string(id));
    const char *username = json_string_value(json_object_get(data, "username"));
    if (x_username_ok(username))
        json_object_set_new(state, "me_username", json_string(username));
    out->state_changed = true;
    out->next = x_mentions_request(acct, id, x_id_member(state, "since_id"), NULL);
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

static void x_handle_page(const struct net_account *acct, json_t *state, const struct net_response *resp,
                          struct net_result *out)
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
        out->next = x_mentions_request(acct, me, since, next_token);
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
static struct net_request *x_history_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)error;
    const char *me = x_id_member(state, "me");
    if (!me)
        return NULL;
    g_autofree char *eme = net_uri_escape(me);
    GString *url = g_string_new(acct->server);
    g_string_append_printf(url, "/2/users/%s/tweets?max_results=%d&" X_HISTORY_FIELDS, eme, X_HISTORY_LIMIT);
    const char *since = x_id_member(state, "history_since");
    if (since) {
        g_autofree char *e = net_uri_escape(since);
        g_string_append_printf(url, "&since_id=%s", e);
    }
    struct net_request *req = net_request_new("GET", g_string_free(url, FALSE), X_STEP_HISTORY);
    x_auth(acct, req);
    return req;
}

static void x_handle_history(const struct net_account *acct, json_t *state, const struct net_response *resp,
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

static void x_handle(const struct net_account *acct, json_t *state, const struct net_request *req,
                     const struct net_response *resp, struct net_result *out)
{
    x_rate(acct, resp, out);
    if (resp->status != 200) {
        x_handle_status(resp, out);
        return;
    }
    switch (req->step) {
    case X_STEP_ME: x_handle_me(acct, state, resp, out); break;
    case X_STEP_PAGE: x_handle_page(acct, state, resp, out); break;
    case X_STEP_HISTORY: x_handle_history(acct, state, resp, out); break;
    default: net_result_fail(out, NET_FATAL, "x: a response to a request this driver did not make"); break;
    }
}

/* ---------------------------------------------------------------- identity */

static struct net_request *x_identity_begin(const struct net_account *acct, json_t *state, bool sign_in,
                                            char **error)
{
    (void)state;
    (void)sign_in;
    (void)error;
    return x_me_request(acct);
}

static void x_identity_handle(const struct net_account *acct, json_t *state, const struct net_request *req,
                              const struct net_response *resp, struct net_identity *out)
{
    (void)acct;
    (void)state;
    (void)req;
    net_identity_from_status(resp, out);
    if (resp->status == 403)
        out->hint = "heed needs a user-context token, not an app-only one";
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

const struct net_driver net_x_driver = {
    .name = "x",
    .default_server = "https://api.x.com",
    .web_host = "x.com",
    .needs_secret = true,
    .begin = x_begin,
    .history_begin = x_history_begin,
    .handle = x_handle,
    .title = "X",
    .login = NET_LOGIN_TOKEN,
    .secret_word = "token",
    .scopes = "tweet.read users.read",
    .secret_help = "heed reads your X mentions with an OAuth 2.0 user access token with the scopes\n"
                   "tweet.read and users.read (an app-only Bearer Token cannot tell heed who you are).\n"
                   "Make one for your app in the X developer portal\n"
                   "(https://developer.x.com/en/portal/dashboard: User authentication settings,\n"
                   "OAuth 2.0), and paste it here. Such tokens last 2 hours unless refreshed; a\n"
                   "token_command in heed.conf can name a helper that prints a fresh one.\n\n",
    .identity_begin = x_identity_begin,
    .identity_handle = x_identity_handle,
};
