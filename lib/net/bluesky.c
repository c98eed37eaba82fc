/* SPDX-License-Identifier: MIT */
/* net/bluesky: app.bsky.notification.listNotifications over an app-password
 * session, as a pure translator.
 *
 * State (a JSON object persisted by the engine):
 *   "did", "handle"             the logged-in account ("me" for replies and history);
 *   "accessJwt", "refreshJwt"   the session. It is reused across restarts:
 *                               createSession is limited to 30 per 5 min and
 *                               about 100 a day per account;
 *   "login_identifier", "login_server": what the session was made for, so a
 *                               changed config logs in again;
 *   "seen_until"                newest indexedAt of a completed poll (absent
 *                               before the first one: then what is read is
 *                               history, taken as initial_sync);
 *   "known"                     {at-uri: indexedAt} of what was passed on
 *                               lately (see "What is new" below);
 *   "deep_at"                   when the last deep poll ended (epoch s);
 *   "history_seen"              newest indexedAt of the user's own posts read;
 *   "poll_*", "history_*"       progress of the chain in flight (cursor, pages,
 *                               newest, floor, deep); cleared by begin()/history_begin(),
 *                               never trusted across restarts.
 *
 * Session: begin() logs in (createSession) only when the state holds no
 * session. An expired access token (ExpiredToken, HTTP 400 or 401) is
 * renewed with refreshSession and the request repeated; only when the
 * refresh token is dead too is the session dropped and createSession called,
 * at most once per chain (the flags in request.step say what this chain has
 * already done), and a refused or failed login pauses the account for
 * BLUESKY_LOGIN_PAUSE_S so nothing ever loops on it. New tokens are saved at
 * once (state_changed on that step): refreshSession rotates the refresh token.
 *
 * Paging: the server applies the reasons filter after reading a page, so a
 * page can be short or empty while a cursor is still returned. Pages come
 * newest first, sorted by a time the AppView takes from the post's own
 * createdAt when that is earlier than when it saw the post: a post made
 * offline, bridged, or from a client with a wrong clock is listed far below
 * items already read. So time cannot say what is new here.
 *
 * What is new: a mention whose at-uri heed has not passed on before. The
 * state keeps the uris passed on ("known", with their sort times) for
 * BLUESKY_KNOWN_HORIZON_S behind seen_until, at most BLUESKY_KNOWN_MAX of
 * them; every unknown mention on a page read is passed on, whatever its
 * time, and the store's unique key absorbs a repeat after a crash or once
 * the set has been trimmed. Time only bounds how far down a poll reads
 * ("poll_floor"): a normal poll reads until a page reaches seen_until (an
 * item, or a timestamp cursor as the Bluesky AppView sends, at or before
 * it); every BLUESKY_DEEP_EVERY_S a deep poll reads on to BLUESKY_LOOKBACK_S
 * behind it, which finds back-dated posts sorted below the first page. Both
 * also end with the cursor or catchup_max_pages (a gap is reported only when
 * seen_until was not reached). seen_until moves only when a poll completes;
 * pages before that are stored as they arrive.
 *
 * First start: no seen_until yet. The poll reads back NET_FIRST_WINDOW_S
 * (7 days) or catchup_max_pages, whichever ends first, and marks everything
 * initial_sync: listed, not popped up. A first poll that finds nothing sets
 * seen_until from the server's Date header.
 *
 * Identity: remote_id and post_id are the post's at-uri (the user's reply
 * names it as its parent); the link is https://bsky.app/profile/<did>/post/<rkey>,
 * by DID because handles change. The history chain reads the user's own
 * posts (getAuthorFeed) for replies: whom they answer, which mentions are done.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net/bluesky-int.h"
#include "text.h"

/* ---------------------------------------------------------------- small helpers */

/* ISO 8601 to microseconds since the epoch; 0 when it does not parse.
 * Seconds are too coarse: several notifications share one. */
static int64_t bluesky_time_us(const char *iso)
{
    if (!iso || !*iso)
        return 0;
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
    if (!dt)
        return 0;
    return g_date_time_to_unix(dt) * G_USEC_PER_SEC + g_date_time_get_microsecond(dt);
}

static char *bluesky_iso(int64_t epoch_s)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(epoch_s);
    return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S.000Z") : NULL;
}

/* A DID as it may appear in a URL path: "did:<method>:<id>", id from the
 * DID syntax's character set. */
bool bluesky_did_ok(const char *s, size_t len)
{
    if (len < 7 || len > 2048 || strncmp(s, "did:", 4) != 0)
        return false;
    size_t i = 4;
    while (i < len && s[i] >= 'a' && s[i] <= 'z')
        i++;
    if (i == 4 || i >= len || s[i] != ':' || i + 1 >= len)
        return false;
    for (i++; i < len; i++)
        if (!g_ascii_isalnum(s[i]) && !strchr("._:%-", s[i]))
            return false;
    return s[len - 1] != ':' && s[len - 1] != '%';
}

/* at://<did>/app.bsky.feed.post/<rkey> split into its DID and record key.
 * Anything else (a handle as authority, another collection, a query, extra
 * segments) is refused: the parts end up in a web URL. */
static bool bluesky_post_uri(const char *uri, char **did, char **rkey)
{
    *did = *rkey = NULL;
    if (!uri || strncmp(uri, "at://", 5) != 0)
        return false;
    const char *a = uri + 5;
    const char *slash = strchr(a, '/');
    if (!slash || !bluesky_did_ok(a, (size_t)(slash - a)))
        return false;
    const char *coll = slash + 1;
    size_t clen = strlen(BLUESKY_POST_COLLECTION);
    if (strncmp(coll, BLUESKY_POST_COLLECTION, clen) != 0 || coll[clen] != '/')
        return false;
    const char *k = coll + clen + 1;
    size_t klen = strlen(k);
    if (klen == 0 || klen > 512 || strcmp(k, ".") == 0 || strcmp(k, "..") == 0)
        return false;
    for (size_t i = 0; i < klen; i++)
        if (!g_ascii_isalnum(k[i]) && !strchr("._~:-", k[i]))
            return false;
    *did = g_strndup(a, (size_t)(slash - a));
    *rkey = g_strdup(k);
    return true;
}

/* Hostile text shortened for a log line. */
char *bluesky_quote(const char *s)
{
    g_autofree char *clean = text_sanitize(s ? s : "", false);
    return text_truncate(clean, 120);
}

/* Tokens go into an Authorization header: printable ASCII without spaces
 * only, so a hostile server cannot smuggle in header lines. */
bool bluesky_token_ok(const char *t)
{
    if (!t || !*t || strlen(t) > 16384)
        return false;
    for (const char *p = t; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return false;
    return true;
}

const char *bluesky_str(json_t *state, const char *key)
{
    const char *v = json_string_value(json_object_get(state, key));
    return v && *v ? v : NULL;
}

bool bluesky_has_session(json_t *state)
{
    return bluesky_str(state, "did") && bluesky_token_ok(bluesky_str(state, "accessJwt")) &&
           bluesky_token_ok(bluesky_str(state, "refreshJwt"));
}

void bluesky_drop_session(json_t *state)
{
    json_object_del(state, "accessJwt");
    json_object_del(state, "refreshJwt");
}

static void bluesky_clear_inflight(json_t *state, const char *prefix)
{
    static const char *const keys[] = { "cursor", "pages", "newest", "floor", "deep" };
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *k = g_strconcat(prefix, keys[i], NULL);
        json_object_del(state, k);
    }
}

/* JSON string literal without a jansson copy of the value: the value here
 * is the app password, and only the request body should ever hold it (it is
 * wiped when the request is freed). */
void bluesky_json_append(GString *s, const char *v)
{
    g_string_append_c(s, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20) {
            g_string_append_printf(s, "\\u%04x", *p);
            continue;
        }
        if (*p == '"' || *p == '\\')
            g_string_append_c(s, '\\');
        g_string_append_c(s, (char)*p);
    }
    g_string_append_c(s, '"');
}

/* ---------------------------------------------------------------- mentions */

static enum mention_tri bluesky_viewer(json_t *author, const char *key)
{
    json_t *viewer = json_object_get(author, "viewer");
    if (!json_is_object(viewer))
        return MENTION_UNKNOWN;
    /* Present (an at-uri of the follow record) means yes. */
    return json_is_string(json_object_get(viewer, key)) ? MENTION_YES : MENTION_NO;
}

static enum mention_tri bluesky_bot(json_t *author)
{
    size_t i;
    json_t *label;
    json_array_foreach(json_object_get(author, "labels"), i, label)
        if (g_strcmp0(json_string_value(json_object_get(label, "val")), "bot") == 0)
            return MENTION_YES;
    /* No label is not proof of a human. */
    return MENTION_UNKNOWN;
}

static int bluesky_mention_count(json_t *record)
{
    int count = 0;
    size_t i, j;
    json_t *facet, *feature;
    json_array_foreach(json_object_get(record, "facets"), i, facet) {
        json_array_foreach(json_object_get(facet, "features"), j, feature) {
            const char *type = json_string_value(json_object_get(feature, "$type"));
            if (g_strcmp0(type, "app.bsky.richtext.facet#mention") == 0)
                count++;
        }
    }
    return count > 0 ? count : 1;
}

/* One notification to a mention, or NULL with *why (and *bad when the item
 * is malformed rather than merely not wanted). */
static struct mention *bluesky_parse_one(const struct net_account *acct, json_t *n, char **why, bool *bad)
{
    *bad = true;
    const char *reason = json_string_value(json_object_get(n, "reason"));
    if (!reason) {
        *why = g_strdup("no reason");
        return NULL;
    }
    enum mention_kind kind;
    if (strcmp(reason, "mention") == 0) {
        kind = MENTION_KIND_MENTION;
    } else if (strcmp(reason, "reply") == 0) {
        kind = MENTION_KIND_REPLY;
    } else if (strcmp(reason, "quote") == 0) {
        kind = MENTION_KIND_QUOTE;
    } else {
        g_autofree char *q = bluesky_quote(reason);
        *why = g_strdup_printf("reason \"%s\" is not a mention", q);
        *bad = false;
        return NULL;
    }
    const char *uri = json_string_value(json_object_get(n, "uri"));
    g_autofree char *did = NULL;
    g_autofree char *rkey = NULL;
    if (!uri) {
        *why = g_strdup("no uri");
        return NULL;
    }
    if (!bluesky_post_uri(uri, &did, &rkey)) {
        g_autofree char *q = bluesky_quote(uri);
        *why = g_strdup_printf("uri \"%s\" is not at://<did>/app.bsky.feed.post/<rkey>", q);
        return NULL;
    }
    json_t *author = json_object_get(n, "author");
    if (!json_is_object(author)) {
        *why = g_strdup("no author");
        return NULL;
    }
    const char *author_did = json_string_value(json_object_get(author, "did"));
    const char *handle = json_string_value(json_object_get(author, "handle"));
    if (!author_did || !*author_did || !handle || !*handle) {
        *why = g_strdup("author has no did or handle");
        return NULL;
    }
    json_t *record = json_object_get(n, "record");
    if (!json_is_object(record)) {
        *why = g_strdup("record is not an object");
        return NULL;
    }
    const char *text = json_string_value(json_object_get(record, "text"));
    if (!text) {
        *why = g_strdup("record has no text");
        return NULL;
    }

    struct mention *m = mention_new();
    m->account = g_strdup(acct->name);
    m->network = g_strdup("bluesky");
    m->kind = kind;
    m->remote_id = g_strdup(uri);
    /* The user's reply to this post names it as its parent uri. */
    m->post_id = g_strdup(uri);
    /* Links go to the account's web host (bsky.app unless the user chose another app view). */
    m->url = acct->web_host ? g_strdup_printf("https://%s/profile/%s/post/%s", acct->web_host, did, rkey)
                            : g_strdup_printf(BLUESKY_WEB "/profile/%s/post/%s", did, rkey);
    m->author_id = g_strdup(author_did);
    m->author_handle = text_sanitize(handle, false);
    const char *avatar = json_string_value(json_object_get(author, "avatar"));
    if (avatar && g_str_has_prefix(avatar, "https://"))
        m->avatar_url = g_strdup(avatar);
    const char *dn = json_string_value(json_object_get(author, "displayName"));
    g_autofree char *name = text_sanitize(dn ? dn : "", false);
    m->author_name = *name ? g_steal_pointer(&name) : g_strdup(m->author_handle);
    m->text = text_sanitize(text, true);

    /* createdAt is whatever the author's client wrote; a post dated in the
     * future is dated when the network saw it instead. */
    int64_t indexed = net_parse_time(json_string_value(json_object_get(n, "indexedAt")));
    int64_t created = net_parse_time(json_string_value(json_object_get(record, "createdAt")));
    if (created == 0 || (indexed > 0 && created > indexed + 300))
        created = indexed;
    m->created_at = created > 0 ? created : acct->now;

    const char *root = json_string_value(json_object_get(json_object_get(json_object_get(record, "reply"), "root"),
                                                         "uri"));
    m->thread_id = g_strdup(root && *root ? root : uri);
    m->mention_count = bluesky_mention_count(record);
    m->follows_me = bluesky_viewer(author, "followedBy");
    m->i_follow = bluesky_viewer(author, "following");
    m->author_bot = bluesky_bot(author);
    *bad = false;
    return m;
}

/* Keep the newer of *newest and a time string. */
static void bluesky_take_newest(char **newest, int64_t *newest_us, const char *iso, int64_t t)
{
    if (t > *newest_us) {
        g_free(*newest);
        *newest = g_strdup(iso);
        *newest_us = t;
    }
}

/* An IMF-fixdate ("Wed, 01 May 2024 11:58:20 GMT") without strptime(),
 * whose month names follow the locale. 0 when it does not parse. */
static int64_t bluesky_http_date(const char *s)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char mon[4] = "";
    int d, y, hh, mm, ss, end = 0;
    if (!s || sscanf(s, "%*3s, %2d %3s %4d %2d:%2d:%2d GMT%n", &d, mon, &y, &hh, &mm, &ss, &end) != 6 || end == 0 ||
        s[end] != '\0' || strlen(mon) != 3)
        return 0;
    const char *m = strstr(months, mon);
    if (!m || (m - months) % 3 != 0)
        return 0;
    g_autoptr(GDateTime) dt = g_date_time_new_utc(y, (int)(m - months) / 3 + 1, d, hh, mm, ss);
    return dt ? g_date_time_to_unix(dt) : 0;
}

/* The server's clock from the Date header, else ours: where the first poll
 * found nothing, "seen until now" must be in the server's time, which item
 * timestamps are in. */
static int64_t bluesky_server_now(const struct net_account *acct, const struct wire_response *resp)
{
    int64_t t = bluesky_http_date(wire_response_header(resp, "date"));
    return t > 0 ? t : acct->now;
}

/* The lowest sort time this poll reads down to (microseconds), fixed by
 * its first page and kept in "poll_floor" while it goes on: see "What is
 * new" in the head comment. *deep says whether this is a deep poll. */
static int64_t bluesky_floor(const struct net_account *acct, json_t *state, int64_t seen_us, bool *deep)
{
    json_t *v = json_object_get(state, "poll_floor");
    *deep = json_is_true(json_object_get(state, "poll_deep"));
    if (json_is_integer(v))
        return json_integer_value(v);
    if (seen_us == 0)
        return (acct->now - NET_FIRST_WINDOW_S) * G_USEC_PER_SEC;
    json_int_t deep_at = json_integer_value(json_object_get(state, "deep_at"));
    *deep = acct->now - deep_at >= BLUESKY_DEEP_EVERY_S || acct->now < deep_at;
    return *deep ? seen_us - (int64_t)BLUESKY_LOOKBACK_S * G_USEC_PER_SEC : seen_us;
}

/* Forget what is too old to be listed again, and the oldest beyond
 * BLUESKY_KNOWN_MAX. */
static void bluesky_trim_known(json_t *state, int64_t seen_us)
{
    json_t *known = json_object_get(state, "known");
    if (!json_is_object(known))
        return;
    int64_t horizon = seen_us - (int64_t)BLUESKY_KNOWN_HORIZON_S * G_USEC_PER_SEC;
    g_autoptr(GArray) times = g_array_new(FALSE, FALSE, sizeof(int64_t));
    const char *uri;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(known, tmp, uri, v) {
        int64_t t = bluesky_time_us(json_string_value(v));
        if (t < horizon)
            json_object_del(known, uri);
        else
            g_array_append_val(times, t);
    }
    if (times->len <= BLUESKY_KNOWN_MAX)
        return;
    g_array_sort(times, net_compare_int64);
    int64_t cut = g_array_index(times, int64_t, times->len - BLUESKY_KNOWN_MAX);
    json_object_foreach_safe(known, tmp, uri, v) {
        if (bluesky_time_us(json_string_value(v)) < cut)
            json_object_del(known, uri);
    }
}

struct bluesky_page {
    int64_t seen_us, floor_us;
    bool first;
    bool reached_seen, reached_floor;
    char *newest;
    int64_t newest_us;
};

/* One notification of a page: passed on when it is a mention not passed on
 * before. */
static void bluesky_page_item(const struct net_account *acct, json_t *state, struct bluesky_page *pg, size_t i,
                              json_t *n, struct net_result *out)
{
    if (!json_is_object(n)) {
        net_result_skip(out, "notification %zu of a page is not an object", i);
        return;
    }
    const char *indexed = json_string_value(json_object_get(n, "indexedAt"));
    int64_t t = bluesky_time_us(indexed);
    if (t == 0) {
        net_result_skip(out, "notification %zu of a page has no valid indexedAt", i);
        return;
    }
    bluesky_take_newest(&pg->newest, &pg->newest_us, indexed, t);
    if (t <= pg->floor_us)
        pg->reached_floor = true;
    if (!pg->first && t <= pg->seen_us)
        pg->reached_seen = true;
    if (pg->first && t < pg->floor_us)
        return; /* older than the first start's window */
    if (!pg->first && t < pg->seen_us - (int64_t)BLUESKY_KNOWN_HORIZON_S * G_USEC_PER_SEC)
        return; /* beyond what "known" remembers: read by an earlier poll */
    json_t *known = json_object_get(state, "known");
    const char *uri = json_string_value(json_object_get(n, "uri"));
    if (uri && json_object_get(known, uri))
        return;
    g_autofree char *why = NULL;
    bool bad = false;
    struct mention *m = bluesky_parse_one(acct, n, &why, &bad);
    if (m)
        g_ptr_array_add(out->mentions, m);
    else if (bad)
        net_result_skip(out, "notification %zu of a page: %s", i, why);
    else
        log_debug("%s: notification %zu skipped: %s", acct->name, i, why);
    /* Remembered whatever became of it, so it is not read (or reported) again. */
    if (uri && strlen(uri) <= 1024) {
        if (!json_is_object(known)) {
            known = json_object();
            json_object_set_new(state, "known", known);
        }
        json_object_set_new(known, uri, json_string(indexed));
    }
}

static void bluesky_handle_page(const struct net_account *acct, json_t *state, const struct wire_request *req,
                                const struct wire_response *resp, struct net_result *out)
{
    g_autoptr(json_t) root = bluesky_parse_json(resp, out, "listNotifications", false);
    if (!root)
        return;
    json_t *list = json_object_get(root, "notifications");
    if (!json_is_array(list)) {
        net_result_fail(out, NET_RETRY, "listNotifications: no \"notifications\" array in the answer");
        return;
    }
    json_t *cursor_v = json_object_get(root, "cursor");
    const char *cursor = json_string_value(cursor_v);
    if (cursor_v && !json_is_null(cursor_v) && !cursor)
        net_result_notice(out, "listNotifications: \"cursor\" is not a string; not following it");
    if (cursor && !*cursor)
        cursor = NULL;

    struct bluesky_page pg = { .seen_us = bluesky_time_us(bluesky_str(state, "seen_until")) };
    pg.first = pg.seen_us == 0;
    bool deep = false;
    pg.floor_us = bluesky_floor(acct, state, pg.seen_us, &deep);
    pg.newest = g_strdup(bluesky_str(state, "poll_newest"));
    pg.newest_us = bluesky_time_us(pg.newest);
    size_t i;
    json_t *n;
    json_array_foreach(list, i, n)
        bluesky_page_item(acct, state, &pg, i, n, out);
    /* The Bluesky AppView's cursor is the time of the last item it read,
     * filtered out or not, and the next page starts strictly before it: once
     * that is at or below the floor the rest is old, even when the page
     * itself came back empty. Opaque cursors skip this. */
    int64_t cursor_us = bluesky_time_us(cursor);
    if (cursor_us > 0) {
        bluesky_take_newest(&pg.newest, &pg.newest_us, cursor, cursor_us);
        pg.reached_floor |= cursor_us <= pg.floor_us;
        pg.reached_seen |= !pg.first && cursor_us <= pg.seen_us;
    }
    out->initial_sync = pg.first;

    json_int_t pages = json_integer_value(json_object_get(state, "poll_pages")) + 1;
    bool more = !pg.reached_floor && cursor;
    if (more && g_strcmp0(cursor, bluesky_str(state, "poll_cursor")) == 0) {
        net_result_notice(out, "listNotifications returned the cursor it was given; not following it");
        more = false;
    }
    if (more && pages >= acct->catchup_max_pages) {
        if (!pg.first && !pg.reached_seen)
            net_result_notice(out,
                "more than %lld pages of notifications since the last poll; older ones were not fetched "
                "(raise catchup_max_pages)",
                (long long)pages);
        more = false;
    }
    if (more) {
        json_object_set_new(state, "poll_pages", json_integer(pages));
        json_object_set_new(state, "poll_cursor", json_string(cursor));
        json_object_set_new(state, "poll_floor", json_integer(pg.floor_us));
        json_object_set_new(state, "poll_deep", json_boolean(deep));
        if (pg.newest)
            json_object_set_new(state, "poll_newest", json_string(pg.newest));
        out->next = bluesky_page_request(acct, state, req->step);
        g_free(pg.newest);
        return;
    }
    bluesky_clear_inflight(state, "poll_");
    if (pg.newest_us > pg.seen_us) {
        json_object_set_new(state, "seen_until", json_string(pg.newest));
    } else if (pg.first) {
        /* Nothing at all yet: what comes after this moment is news. */
        g_autofree char *iso = bluesky_iso(bluesky_server_now(acct, resp));
        json_object_set_new(state, "seen_until", json_string(iso));
    }
    if (deep || pg.first) /* the first start read deeper still */
        json_object_set_new(state, "deep_at", json_integer(acct->now));
    bluesky_trim_known(state, bluesky_time_us(bluesky_str(state, "seen_until")));
    out->state_changed = true;
    g_free(pg.newest);
}

/* ---------------------------------------------------------------- history */

/* The user's own recent posts: whom they answered. */
static struct wire_request *bluesky_history_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)error;
    bluesky_clear_inflight(state, "history_");
    if (!bluesky_has_session(state))
        return NULL;
    return bluesky_history_request(acct, state, 0);
}

static void bluesky_handle_history(const struct net_account *acct, json_t *state, const struct wire_request *req,
                                   const struct wire_response *resp, struct net_result *out)
{
    g_autoptr(json_t) root = bluesky_parse_json(resp, out, "getAuthorFeed", false);
    if (!root)
        return;
    json_t *feed = json_object_get(root, "feed");
    if (!json_is_array(feed)) {
        net_result_fail(out, NET_RETRY, "getAuthorFeed: no \"feed\" array in the answer");
        return;
    }
    const char *me = bluesky_str(state, "did");
    int64_t seen_us = bluesky_time_us(bluesky_str(state, "history_seen"));
    int64_t slack_us = (int64_t)BLUESKY_LATE_SLACK_S * G_USEC_PER_SEC;
    g_autofree char *newest = g_strdup(bluesky_str(state, "history_newest"));
    int64_t newest_us = bluesky_time_us(newest);
    bool reached_seen = false;
    size_t i;
    json_t *item;
    json_array_foreach(feed, i, item) {
        json_t *post = json_object_get(item, "post");
        /* Reposts and pins carry a reason: not the user's own writing, or out of order. */
        if (!json_is_object(post) || json_object_get(item, "reason"))
            continue;
        json_t *record = json_object_get(post, "record");
        const char *uri = json_string_value(json_object_get(post, "uri"));
        const char *author = json_string_value(json_object_get(json_object_get(post, "author"), "did"));
        if (!uri || !author || !me || strcmp(author, me) != 0 || !json_is_object(record))
            continue;
        const char *indexed = json_string_value(json_object_get(post, "indexedAt"));
        int64_t t = bluesky_time_us(indexed);
        if (t > 0) {
            bluesky_take_newest(&newest, &newest_us, indexed, t);
            if (seen_us && t <= seen_us)
                reached_seen = true;
            if (seen_us && t < seen_us - slack_us)
                continue;
        }
        json_t *parent = json_object_get(json_object_get(record, "reply"), "parent");
        if (!json_is_object(parent))
            continue; /* not a reply */
        const char *parent_uri = json_string_value(json_object_get(parent, "uri"));
        g_autofree char *to = NULL;
        g_autofree char *rkey = NULL;
        if (!bluesky_post_uri(parent_uri, &to, &rkey)) {
            g_autofree char *q = bluesky_quote(parent_uri);
            net_result_skip(out, "your post %zu of a page answers \"%s\", which is not a post at-uri",
                     i, q);
            continue;
        }
        if (strcmp(to, me) == 0)
            continue; /* a thread of the user's own */
        struct net_reply *r = g_new0(struct net_reply, 1);
        r->remote_id = g_strdup(uri);
        r->to_author_id = g_steal_pointer(&to);
        r->to_post_id = g_strdup(parent_uri);
        r->at = net_parse_time(json_string_value(json_object_get(record, "createdAt")));
        if (r->at == 0)
            r->at = t > 0 ? t / G_USEC_PER_SEC : acct->now;
        g_ptr_array_add(out->replies, r);
    }

    const char *cursor = json_string_value(json_object_get(root, "cursor"));
    json_int_t pages = json_integer_value(json_object_get(state, "history_pages")) + 1;
    int max_pages = acct->catchup_max_pages < BLUESKY_HISTORY_MAX_PAGES ? acct->catchup_max_pages
                                                                         : BLUESKY_HISTORY_MAX_PAGES;
    /* The first reading takes one page: older answers matter little. */
    bool more = seen_us && !reached_seen && cursor && *cursor && pages < max_pages &&
                g_strcmp0(cursor, bluesky_str(state, "history_cursor")) != 0;
    if (more) {
        json_object_set_new(state, "history_pages", json_integer(pages));
        json_object_set_new(state, "history_cursor", json_string(cursor));
        if (newest)
            json_object_set_new(state, "history_newest", json_string(newest));
        out->next = bluesky_history_request(acct, state, req->step);
        return;
    }
    bluesky_clear_inflight(state, "history_");
    if (newest_us > seen_us)
        json_object_set_new(state, "history_seen", json_string(newest));
    out->state_changed = true;
}

/* ---------------------------------------------------------------- the driver */

static struct wire_request *bluesky_begin(const struct net_account *acct, json_t *state, char **error)
{
    bluesky_clear_inflight(state, "poll_");
    if (!acct->identifier || !*acct->identifier) {
        *error = g_strdup("no identifier: set identifier = your handle (e.g. alice.bsky.social) or DID");
        return NULL;
    }
    /* A session made for another identifier or server is someone else's. */
    if (g_strcmp0(bluesky_str(state, "login_identifier"), acct->identifier) != 0 ||
        g_strcmp0(bluesky_str(state, "login_server"), acct->server) != 0)
        bluesky_drop_session(state);
    if (bluesky_has_session(state))
        return bluesky_page_request(acct, state, 0);
    if (!acct->secret || !*acct->secret) {
        *error = g_strdup("no app password: set token_file or token_command");
        return NULL;
    }
    return bluesky_login_request(acct, 0);
}

static void bluesky_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                           const struct wire_response *resp, struct net_result *out)
{
    bluesky_rate(acct, req, resp, out);
    switch (req->step & BLUESKY_STEP_MASK) {
    case BLUESKY_STEP_LOGIN:
        bluesky_handle_login(acct, state, req, resp, out);
        break;
    case BLUESKY_STEP_REFRESH:
        bluesky_handle_refresh(acct, state, req, resp, out);
        break;
    case BLUESKY_STEP_PAGE:
    case BLUESKY_STEP_HISTORY:
        if (resp->status != 200)
            bluesky_handle_refused(acct, state, req, resp, out);
        else if ((req->step & BLUESKY_STEP_MASK) == BLUESKY_STEP_PAGE)
            bluesky_handle_page(acct, state, req, resp, out);
        else
            bluesky_handle_history(acct, state, req, resp, out);
        break;
    default:
        net_result_fail(out, NET_FATAL, "bluesky: a response to an unknown step %d", req->step);
        break;
    }
}

static const char *const bluesky_account_keys[] = { "identifier", NULL };

const struct net_driver net_bluesky_driver = {
    .name = "bluesky",
    .default_server = "https://bsky.social",
    .web_host = "bsky.app",
    .needs_secret = true,
    .begin = bluesky_begin,
    .history_begin = bluesky_history_begin,
    .handle = bluesky_handle,
    .title = "Bluesky",
    .identifier_hint = "your handle or DID, e.g. alice.bsky.social",
    .account_keys = bluesky_account_keys,
    .login = NET_LOGIN_APP_PASSWORD,
    .login_target = "handle",
    .login_example = "alice.bsky.social",
    .secret_word = "app password",
    .secret_help = "heed signs in to Bluesky with an app password, never with your main password.\n"
                   "Make one in the Bluesky app: Settings > Privacy and security > App passwords\n"
                   "({web}/settings/app-passwords). Name it \"heed\", leave access to\n"
                   "direct messages off, and paste the password it shows (xxxx-xxxx-xxxx-xxxx).\n\n",
    .identity_begin = bluesky_identity_begin,
    .identity_handle = bluesky_identity_handle,
    .session_end = bluesky_session_end,
};
