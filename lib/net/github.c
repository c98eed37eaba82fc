/* SPDX-License-Identifier: MIT */
/* net/github: GET /notifications with a classic personal access token, as a
 * pure translator.
 *
 * GitHub has no "mentions" endpoint: it has notification threads, one per
 * issue, pull request, discussion, ..., each with the reason the user is
 * subscribed (sticky: once "mention", always "mention") and the time of the
 * thread's latest activity (updated_at). A thread whose reason is in the
 * account's list becomes a mention whose identity is "<thread id>@<updated_at>":
 * new activity in a watched thread is a new event, the same state of a
 * thread is never announced twice. The filtering by reason is ours; the API
 * only knows "participating".
 *
 * State (a JSON object persisted by the engine):
 *   "initialized"    true once a first poll has completed;
 *   "last_modified"  the Last-Modified of the first page of the last complete
 *                    poll, sent back verbatim as If-Modified-Since. GitHub
 *                    answers 304 when nothing changed, and a 304 does not
 *                    count against the rate limit, so polling stays cheap;
 *   "newest"         the newest updated_at (epoch seconds) a complete poll saw;
 *   "poll_last_modified" / "poll_newest" / "poll_pages": progress of the
 *                    poll in flight (not trusted across restarts).
 *
 * What is new: a thread state ("<id>@<updated_at>") not stored before. The
 * updated_at is GitHub's own clock at the activity, not a date an author
 * chose, so time may bound the reading; every thread on a page read is
 * passed on and the store's unique key absorbs repeats.
 *
 * Paging: the list is sorted by updated_at, newest first. The first start
 * reads back NET_FIRST_WINDOW_S (7 days) or catchup_max_pages pages,
 * whichever ends first, and marks it all initial_sync (listed, not popped
 * up). Later polls follow the Link header's rel="next" while the pages are still
 * newer than what a complete poll saw (with some slack, since GitHub may
 * deliver a thread a little after its updated_at), bounded by
 * catchup_max_pages. Only the first page carries If-Modified-Since; its
 * Last-Modified is kept aside and saved only when the whole poll completes,
 * so a poll cut short is repeated in full rather than answered with a 304.
 * Repeated threads are absorbed by the store's unique key.
 *
 * Links: a thread has no web URL, and asking for one costs a request per
 * thread. The subject's API URL (…/repos/O/R/pulls/N) and latest comment
 * URL (…/issues/comments/C) say enough to build it on the web host:
 * https://github.com for api.github.com, the API's own host otherwise
 * (GitHub Enterprise serves its API at https://HOST/api/v3).
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net/net.h"
#include "text.h"

enum { GITHUB_STEP_FIRST = 1, GITHUB_STEP_PAGE };
#define GITHUB_PER_PAGE 50
/* Keep paging this far below the newest thread already seen: notifications
 * are delivered asynchronously and may carry an updated_at slightly older
 * than threads we already have. */
#define GITHUB_PAGING_SLACK_S 3600
/* Secondary rate limits without a retry-after: the docs say wait at least a minute. */
#define GITHUB_SECONDARY_WAIT_S 60
#define GITHUB_MAX_WAIT_S 86400
/* Header values echoed back and URL parts reused are short; anything longer is not GitHub's. */
#define GITHUB_MAX_HEADER_VALUE 128
#define GITHUB_MAX_TITLE_BYTES 1024

static const char *const github_default_reasons[] = { "mention", "team_mention", "review_requested", "assign",
                                                      NULL };

static void github_auth(const struct net_account *acct, struct wire_request *req)
{
    wire_request_add_header(req, "Authorization: Bearer %s", acct->secret ? acct->secret : "");
    wire_request_add_header(req, "Accept: application/vnd.github+json");
    wire_request_add_header(req, "X-GitHub-Api-Version: 2022-11-28");
}

/* A value we may put back into a request header: printable ASCII only, so a
 * hostile server (or a damaged state) cannot smuggle a second header in. */
static bool github_header_value_ok(const char *v)
{
    if (!v || !*v || strlen(v) > GITHUB_MAX_HEADER_VALUE)
        return false;
    for (const char *p = v; *p; p++)
        if (*p < 0x20 || *p > 0x7e)
            return false;
    return true;
}

static struct wire_request *github_first_request(const struct net_account *acct, json_t *state)
{
    char *url = g_strdup_printf("%s/notifications?participating=%s&per_page=%d", acct->server,
                                acct->participating ? "true" : "false", GITHUB_PER_PAGE);
    struct wire_request *req = wire_request_new("GET", url, GITHUB_STEP_FIRST);
    github_auth(acct, req);
    const char *lm = json_string_value(json_object_get(state, "last_modified"));
    if (json_is_true(json_object_get(state, "initialized")) && github_header_value_ok(lm))
        wire_request_add_header(req, "If-Modified-Since: %s", lm);
    return req;
}

static struct wire_request *github_begin(const struct net_account *acct, json_t *state, char **error)
{
    if (!acct->server || !*acct->server) {
        *error = g_strdup("no server address");
        return NULL;
    }
    json_object_del(state, "poll_last_modified");
    json_object_del(state, "poll_newest");
    json_object_del(state, "poll_pages");
    return github_first_request(acct, state);
}

/* A Link URL is followed only if it stays on the account's server: the
 * request carries the user's token. */
static bool github_same_origin(const struct net_account *acct, const char *url)
{
    size_t n = strlen(acct->server);
    return strncmp(url, acct->server, n) == 0 && (url[n] == '/' || url[n] == '?');
}

/* A whole non-negative decimal header value; false when absent or anything else. */
static bool github_header_int(const struct wire_response *resp, const char *name, int64_t *out)
{
    const char *v = wire_response_header(resp, name);
    if (!v)
        return false;
    while (*v == ' ' || *v == '\t')
        v++;
    if (!g_ascii_isdigit(*v))
        return false;
    char *end;
    long long n = strtoll(v, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0' || n < 0)
        return false;
    *out = n;
    return true;
}

static void github_rate(const struct net_account *acct, const struct wire_response *resp, struct net_result *out)
{
    int64_t v;
    if (github_header_int(resp, "x-ratelimit-remaining", &v))
        out->rate_remaining = (int)(v > 1000000 ? 1000000 : v);
    /* The whole budget is spent: nothing before the window resets, whatever the status. */
    if (out->rate_remaining == 0 && github_header_int(resp, "x-ratelimit-reset", &v) &&
        (v = net_server_time_to_local(acct, resp, v)) > acct->now && v - acct->now <= GITHUB_MAX_WAIT_S)
        out->retry_at = v;
    /* GitHub asks clients to poll no faster than this; it may grow under load. */
    if (github_header_int(resp, "x-poll-interval", &v) && v > 0)
        out->poll_interval = (int)(v > GITHUB_MAX_WAIT_S ? GITHUB_MAX_WAIT_S : v);
}

/* The "message" of an error body, made safe for the log, or NULL. */
static char *github_error_message(const struct wire_response *resp)
{
    g_autoptr(json_t) body = json_loadb(resp->body ? resp->body : "", resp->body_len, 0, NULL);
    const char *msg = json_string_value(json_object_get(body, "message"));
    if (!msg || !*msg)
        return NULL;
    g_autofree char *clean = text_sanitize(msg, false);
    return text_truncate(clean, 200);
}

static void github_handle_status(const struct net_account *acct, const struct wire_response *resp,
                                 struct net_result *out)
{
    g_autofree char *msg = github_error_message(resp);
    long st = resp->status;
    if (st == 401) {
        net_result_fail(out, NET_AUTH, "HTTP 401: %s", msg ? msg : "the token was refused");
        return;
    }
    if (st == 403 || st == 429) {
        int64_t after, reset;
        if (out->rate_remaining == 0) {
            /* Primary limit: the reset time is exact. */
            if (!(github_header_int(resp, "x-ratelimit-reset", &reset) &&
                  (reset = net_server_time_to_local(acct, resp, reset)) > acct->now &&
                  reset - acct->now <= GITHUB_MAX_WAIT_S))
                reset = acct->now + GITHUB_SECONDARY_WAIT_S;
            out->retry_at = reset;
            net_result_fail(out, NET_RETRY, "HTTP %ld: rate limit exhausted; waiting %lld s for its reset", st,
                            (long long)(out->retry_at - acct->now));
            return;
        }
        /* "You have exceeded a secondary rate limit", formerly "abuse detection mechanism". */
        g_autofree char *lower = msg ? g_ascii_strdown(msg, -1) : NULL;
        bool secondary = lower && (strstr(lower, "rate limit") || strstr(lower, "abuse"));
        if (github_header_int(resp, "retry-after", &after)) {
            if (after < 1)
                after = 1;
            out->retry_at = acct->now + (after > GITHUB_MAX_WAIT_S ? GITHUB_MAX_WAIT_S : after);
        } else if (secondary || st == 429) {
            out->retry_at = acct->now + GITHUB_SECONDARY_WAIT_S;
        } else {
            /* A 403 that is no rate limit: the token cannot read notifications
             * (fine-grained tokens never can). */
            net_result_fail(out, NET_AUTH,
                            "HTTP 403: %s; the notifications API needs a classic token with the notifications "
                            "or repo scope",
                            msg ? msg : "forbidden");
            return;
        }
        net_result_fail(out, NET_RETRY, "HTTP %ld: %s; waiting %lld s", st, msg ? msg : "secondary rate limit",
                        (long long)(out->retry_at - acct->now));
        return;
    }
    if (st == 404)
        net_result_fail(out, NET_FATAL, "HTTP 404: is %s a GitHub API address?", acct->server);
    else
        net_result_fail(out, NET_RETRY, "HTTP %ld%s%s", st, msg ? ": " : "", msg ? msg : "");
}

/* ------------------------------------------------------------ web URLs */

/* https://github.com for api.github.com; otherwise the API's own host and
 * port (GitHub Enterprise, test servers). */
static char *github_web_base(const char *server)
{
    g_autoptr(GUri) uri = g_uri_parse(server, G_URI_FLAGS_NONE, NULL);
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    if (!host || !*host)
        return NULL;
    g_autofree char *lower = g_ascii_strdown(host, -1);
    if (strcmp(lower, "api.github.com") == 0)
        return g_strdup("https://github.com");
    bool v6 = strchr(lower, ':') != NULL;
    int port = g_uri_get_port(uri);
    GString *s = g_string_new("https://");
    g_string_append_printf(s, v6 ? "[%s]" : "%s", lower);
    if (port > 0 && port != 443)
        g_string_append_printf(s, ":%d", port);
    return g_string_free(s, FALSE);
}

/* GitHub owner and repository names: letters, digits, '.', '-', '_'. */
static bool github_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 100 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (const char *p = s; *p; p++)
        if (!(g_ascii_isalnum(*p) || *p == '.' || *p == '-' || *p == '_'))
            return false;
    return true;
}

static bool github_full_name_ok(const char *s)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || strchr(slash + 1, '/'))
        return false;
    g_autofree char *owner = g_strndup(s, (size_t)(slash - s));
    return github_name_ok(owner) && github_name_ok(slash + 1);
}

static bool github_chars_ok(const char *s, size_t max, bool hex)
{
    if (!s || !*s || strlen(s) > max)
        return false;
    for (const char *p = s; *p; p++)
        if (!(hex ? g_ascii_isxdigit(*p) : g_ascii_isdigit(*p)))
            return false;
    return true;
}

/* An API URL of the account's server split after "/repos/": owner, repo and
 * the rest ("pulls", "7", ...). NULL when it is anything else. */
static char **github_api_parts(const struct net_account *acct, const char *url)
{
    if (!url)
        return NULL;
    g_autofree char *prefix = g_strconcat(acct->server, "/repos/", NULL);
    if (!g_str_has_prefix(url, prefix) || strpbrk(url, "?#"))
        return NULL;
    char **parts = g_strsplit(url + strlen(prefix), "/", 8);
    if (g_strv_length(parts) < 3 || !github_name_ok(parts[0]) || !github_name_ok(parts[1])) {
        g_strfreev(parts);
        return NULL;
    }
    return parts;
}

struct github_subject {
    char *repo_path;   /* "O/R" as the subject URL spells it */
    char *web_path;    /* "pull/7", "issues/7", "commit/<sha>", ... */
    char *number;      /* "7" for issues, pull requests and discussions */
    bool is_pull;
};

static void github_subject_clear(struct github_subject *s)
{
    g_free(s->repo_path);
    g_free(s->web_path);
    g_free(s->number);
}

static bool github_parse_subject_url(const struct net_account *acct, const char *url, struct github_subject *out)
{
    g_auto(GStrv) p = github_api_parts(acct, url);
    if (!p || g_strv_length(p) != 4)
        return false;
    const char *kind = p[2], *id = p[3];
    if (strcmp(kind, "pulls") == 0 && github_chars_ok(id, 20, false)) {
        out->web_path = g_strdup_printf("pull/%s", id);
        out->number = g_strdup(id);
        out->is_pull = true;
    } else if ((strcmp(kind, "issues") == 0 || strcmp(kind, "discussions") == 0) && github_chars_ok(id, 20, false)) {
        out->web_path = g_strdup_printf("%s/%s", kind, id);
        out->number = g_strdup(id);
    } else if (strcmp(kind, "commits") == 0 && github_chars_ok(id, 64, true)) {
        out->web_path = g_strdup_printf("commit/%s", id);
    } else if (strcmp(kind, "releases") == 0 && github_chars_ok(id, 20, false)) {
        /* The release's page is named by its tag, which the thread does not carry. */
        out->web_path = g_strdup("releases");
    } else {
        return false;
    }
    out->repo_path = g_strdup_printf("%s/%s", p[0], p[1]);
    return true;
}

/* "#issuecomment-C" or "#discussion_rC" for the latest comment of the same
 * repository, or NULL. */
static char *github_comment_anchor(const struct net_account *acct, const char *url, const struct github_subject *s)
{
    g_auto(GStrv) p = github_api_parts(acct, url);
    if (!p || g_strv_length(p) != 5 || strcmp(p[3], "comments") != 0 || !github_chars_ok(p[4], 20, false))
        return NULL;
    g_autofree char *repo = g_strdup_printf("%s/%s", p[0], p[1]);
    if (g_ascii_strcasecmp(repo, s->repo_path) != 0)
        return NULL;
    /* Issue comments also live on pull requests (the conversation tab). */
    if (strcmp(p[2], "issues") == 0 && s->number)
        return g_strdup_printf("#issuecomment-%s", p[4]);
    if (strcmp(p[2], "pulls") == 0 && s->is_pull)
        return g_strdup_printf("#discussion_r%s", p[4]);
    return NULL;
}

static char *github_web_url(const struct net_account *acct, const char *base, const char *full_name,
                            const char *html_url, const struct github_subject *s, const char *comment_url)
{
    if (s->web_path) {
        g_autofree char *anchor = github_comment_anchor(acct, comment_url, s);
        return g_strdup_printf("%s/%s/%s%s", base, s->repo_path, s->web_path, anchor ? anchor : "");
    }
    /* Discussions, check suites, ...: the repository is the best we can do
     * without another request. html_url is used only when it is the plain
     * repository page on our web host. */
    g_autofree char *built = g_strdup_printf("%s/%s", base, full_name);
    if (html_url && g_ascii_strcasecmp(html_url, built) == 0)
        return g_strdup(html_url);
    return g_steal_pointer(&built);
}

/* ------------------------------------------------------------ threads */

static bool github_reason_kept(const struct net_account *acct, const char *reason)
{
    const char *const *list = acct->reasons && acct->reasons[0] ? acct->reasons : github_default_reasons;
    for (const char *const *r = list; *r; r++)
        if (strcmp(*r, reason) == 0)
            return true;
    return false;
}

static enum mention_kind github_kind(const char *reason)
{
    if (strcmp(reason, "review_requested") == 0)
        return MENTION_KIND_REVIEW;
    if (strcmp(reason, "assign") == 0)
        return MENTION_KIND_ASSIGN;
    if (strcmp(reason, "team_mention") == 0)
        return MENTION_KIND_TEAM;
    return MENTION_KIND_MENTION;
}

/* What the reason means to the user, for the notification body. */
static char *github_reason_words(const char *reason)
{
    static const struct {
        const char *reason, *words;
    } table[] = {
        { "review_requested", "review requested" },   { "mention", "you were mentioned" },
        { "assign", "assigned to you" },              { "team_mention", "your team was mentioned" },
        { "approval_requested", "approval requested" }, { "author", "on a thread you opened" },
        { "comment", "on a thread you commented on" }, { "state_change", "state changed" },
        { "manual", "on a thread you subscribed to" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++)
        if (strcmp(table[i].reason, reason) == 0)
            return g_strdup(table[i].words);
    g_autofree char *clean = text_sanitize(reason, false);
    return g_strdelimit(g_steal_pointer(&clean), "_", ' ');
}

/* A JSON string member that must be there; NULL otherwise. */
static const char *github_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : NULL;
}

/* A member that may be null; a wrong type counts as null (and is said so at debug level). */
static const char *github_str_or_null(const struct net_account *acct, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (v && !json_is_string(v) && !json_is_null(v))
        log_debug("%s: subject.%s is not a string; ignored", acct->name, key);
    return json_string_value(v);
}

/* One thread to a mention. NULL with *why when it cannot be used; *filtered
 * when it is simply not one of the reasons the account watches. */
static struct mention *github_parse_one(const struct net_account *acct, const char *web_base, json_t *t,
                                        int64_t updated, const char **why, bool *filtered)
{
    *filtered = false;
    const char *id = github_str(t, "id");
    const char *reason = github_str(t, "reason");
    json_t *repo = json_object_get(t, "repository");
    json_t *subject = json_object_get(t, "subject");
    if (!id || !github_header_value_ok(id) || strchr(id, '@')) {
        *why = "no usable id";
        return NULL;
    }
    if (!reason) {
        *why = "no reason";
        return NULL;
    }
    if (!github_reason_kept(acct, reason)) {
        *filtered = true;
        *why = "reason not watched";
        return NULL;
    }
    if (updated <= 0) {
        *why = "no valid updated_at";
        return NULL;
    }
    const char *full_name = json_is_object(repo) ? github_str(repo, "full_name") : NULL;
    if (!github_full_name_ok(full_name)) {
        *why = "no valid repository.full_name";
        return NULL;
    }
    if (!json_is_object(subject)) {
        *why = "subject is not an object";
        return NULL;
    }

    const char *title = github_str_or_null(acct, subject, "title");
    const char *type = github_str_or_null(acct, subject, "type");
    const char *subject_url = github_str_or_null(acct, subject, "url");
    const char *comment_url = github_str_or_null(acct, subject, "latest_comment_url");
    struct github_subject s = { 0 };
    if (subject_url && !github_parse_subject_url(acct, subject_url, &s))
        log_debug("%s: thread %s: cannot derive a web page from its subject URL; linking the repository",
                  acct->name, id);

    struct mention *m = mention_new();
    m->account = g_strdup(acct->name);
    m->network = g_strdup("github");
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(updated);
    /* Normalised, so that one moment always spells the same identity. */
    g_autofree char *stamp =
        dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup_printf("%lld", (long long)updated);
    m->remote_id = g_strdup_printf("%s@%s", id, stamp);
    m->post_id = g_strdup(id);
    m->thread_id = g_strdup(id);
    m->kind = github_kind(reason);
    /* The thread does not say who commented or asked; finding out costs one
     * more request per thread. The repository stands in as the "author",
     * which also lets vip/muted lists name repositories. */
    m->author_id = g_strdup(full_name);
    m->author_handle = g_strdup(full_name);
    m->author_name = g_strdup(full_name);

    g_autofree char *title_cut = text_truncate(title ? title : "", GITHUB_MAX_TITLE_BYTES);
    g_autofree char *clean_title = text_sanitize(title_cut, false);
    const char *shown_title = *clean_title ? clean_title : "(no title)";
    g_autofree char *words = github_reason_words(reason);
    m->text = g_strdup_printf("%s (%s)", shown_title, words);

    g_autofree char *clean_type = type ? text_sanitize(type, false) : NULL;
    g_autofree char *number = s.number ? g_strdup_printf("#%s ", s.number) : NULL;
    m->context = g_strdup_printf("%s · %s%s%s%s", full_name, clean_type && *clean_type ? clean_type : "",
                                 clean_type && *clean_type ? " " : "", number ? number : "", shown_title);

    m->url = web_base ? github_web_url(acct, web_base, full_name, github_str(repo, "html_url"), &s, comment_url)
                      : NULL;
    m->created_at = updated;
    github_subject_clear(&s);
    return m;
}

static void github_handle_page(const struct net_account *acct, json_t *state, const struct wire_request *req,
                               const struct wire_response *resp, struct net_result *out)
{
    g_autoptr(json_t) root = net_parse_json(resp, out, "notifications");
    if (!root)
        return;
    if (!json_is_array(root)) {
        net_result_fail(out, NET_RETRY, "notifications: expected a JSON array");
        return;
    }
    bool initialized = json_is_true(json_object_get(state, "initialized"));
    bool first = req->step == GITHUB_STEP_FIRST;
    int64_t seen = json_integer_value(json_object_get(state, "newest"));
    int64_t newest = first ? 0 : json_integer_value(json_object_get(state, "poll_newest"));
    g_autofree char *web_base = github_web_base(acct->server);
    bool reached_seen = false;
    int64_t oldest = INT64_MAX;
    size_t i;
    json_t *t;
    json_array_foreach(root, i, t) {
        if (!json_is_object(t)) {
            net_result_skip(out, "notification %zu of a page is not an object", i);
            continue;
        }
        int64_t updated = net_parse_time(github_str(t, "updated_at"));
        if (updated > newest)
            newest = updated;
        if (updated > 0 && updated < oldest)
            oldest = updated;
        if (updated > 0 && seen > 0 && updated < seen - GITHUB_PAGING_SLACK_S)
            reached_seen = true;
        const char *why = NULL;
        bool filtered = false;
        struct mention *m = github_parse_one(acct, web_base, t, updated, &why, &filtered);
        if (m) {
            g_ptr_array_add(out->mentions, m);
        } else if (filtered) {
            log_debug("%s: thread %s skipped: %s", acct->name, github_str(t, "id") ? github_str(t, "id") : "?", why);
        } else {
            /* Ids are short printable strings or we do not print them. */
            const char *id = github_str(t, "id");
            net_result_skip(out, "notification thread %s: %s",
                     github_header_value_ok(id) ? id : "(no id)", why);
        }
    }
    out->initial_sync = !initialized;

    const char *lm = first ? wire_response_header(resp, "last-modified")
                           : json_string_value(json_object_get(state, "poll_last_modified"));
    if (!github_header_value_ok(lm))
        lm = NULL;
    json_int_t pages = json_integer_value(json_object_get(state, "poll_pages")) + 1;
    g_autofree char *next = net_link_rel(wire_response_header(resp, "link"), "next");
    bool more = next && !reached_seen && json_array_size(root) > 0;
    if (more && !initialized && (oldest == INT64_MAX || oldest < acct->now - NET_FIRST_WINDOW_S))
        more = false; /* the first start's window is read */
    if (more && !github_same_origin(acct, next)) {
        net_result_notice(out, "Link header points away from %s; not following it", acct->server);
        more = false;
    }
    if (more && pages >= acct->catchup_max_pages) {
        if (initialized)
            net_result_notice(out, "more than %lld pages of notifications since the last poll; older ones "
                                   "were not fetched (raise catchup_max_pages)",
                              (long long)pages);
        more = false;
    }
    if (more) {
        json_object_set_new(state, "poll_pages", json_integer(pages));
        json_object_set_new(state, "poll_newest", json_integer(newest));
        if (lm)
            json_object_set_new(state, "poll_last_modified", json_string(lm));
        else
            json_object_del(state, "poll_last_modified");
        /* No If-Modified-Since here: it belongs to the first page only. */
        out->next = wire_request_new("GET", g_steal_pointer(&next), GITHUB_STEP_PAGE);
        github_auth(acct, out->next);
        return;
    }
    /* Take a private copy before the poll_* members (which lm may point into) go. */
    g_autofree char *lm_copy = g_strdup(lm);
    json_object_del(state, "poll_pages");
    json_object_del(state, "poll_newest");
    json_object_del(state, "poll_last_modified");
    if (lm_copy)
        json_object_set_new(state, "last_modified", json_string(lm_copy));
    else
        json_object_del(state, "last_modified"); /* a stale one would ask about the wrong moment */
    if (newest > seen)
        json_object_set_new(state, "newest", json_integer(newest));
    json_object_set_new(state, "initialized", json_true());
    out->state_changed = true;
}

static void github_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                          const struct wire_response *resp, struct net_result *out)
{
    github_rate(acct, resp, out);
    if (resp->status == 304) {
        /* Nothing changed since the saved Last-Modified: a complete, empty
         * poll. Only the first page asks conditionally; a 304 to a later one
         * ends the poll without moving the cursor, so the next poll starts over. */
        json_object_del(state, "poll_pages");
        json_object_del(state, "poll_newest");
        json_object_del(state, "poll_last_modified");
        return;
    }
    if (resp->status != 200) {
        github_handle_status(acct, resp, out);
        return;
    }
    github_handle_page(acct, state, req, resp, out);
}

/* ------------------------------------------------------------ identity */

/* GitHub's identity check is a notification read: it is what heed needs,
 * and the one thing a fine-grained token (which /user accepts) cannot do. */
static struct wire_request *github_identity_begin(const struct net_account *acct, json_t *state, bool sign_in,
                                                 char **error)
{
    (void)state;
    (void)sign_in;
    (void)error;
    struct wire_request *req =
        wire_request_new("GET", g_strconcat(acct->server, "/notifications?per_page=1", NULL), GITHUB_STEP_FIRST);
    github_auth(acct, req);
    return req;
}

static void github_identity_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                                   const struct wire_response *resp, struct net_identity *out)
{
    (void)acct;
    (void)state;
    (void)req;
    net_identity_from_status(resp, out);
    if (resp->status == 403)
        out->hint = "a fine-grained token cannot read notifications: create a classic one";
    if (out->outcome != NET_OK)
        return;
    /* Classic tokens list their scopes; notifications or repo is needed. */
    const char *scopes = wire_response_header(resp, "x-oauth-scopes");
    if (!scopes)
        return;
    g_auto(GStrv) list = g_strsplit_set(scopes, ", ", -1);
    if (!g_strv_contains((const char *const *)list, "notifications") &&
        !g_strv_contains((const char *const *)list, "repo")) {
        out->outcome = NET_AUTH;
        out->error = g_strdup_printf("the token has the scopes \"%s\" but not notifications", scopes);
        out->hint = "create one with the notifications scope";
    }
}

static const char *const github_account_keys[] = { "reasons", "participating", NULL };

const struct net_driver net_github_driver = {
    .name = "github",
    .default_server = "https://api.github.com",
    .web_host = "github.com",
    .needs_secret = true,
    .begin = github_begin,
    .history_begin = NULL,
    .handle = github_handle,
    .title = "GitHub",
    .web_follows_server = true,
    .account_keys = github_account_keys,
    .login = NET_LOGIN_TOKEN,
    .secret_word = "token",
    .scopes = "notifications",
    .secret_help = "heed reads GitHub notifications with a classic personal access token (fine-grained\n"
                   "tokens cannot read notifications). Create one at\n\n"
                   "  {web}/settings/tokens/new?scopes=notifications&description=heed\n\n"
                   "with only the \"notifications\" scope (add \"repo\" only if you want links into\n"
                   "private repositories), then paste it here.\n\n",
    .identity_begin = github_identity_begin,
    .identity_handle = github_identity_handle,
};
