/* SPDX-License-Identifier: MIT */
/* net: the driver table and the small helpers every driver shares. */
#include "net/net.h"

#include <libpsl.h>

#include <curl/curl.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

extern const struct net_driver net_mastodon_driver;
extern const struct net_driver net_bluesky_driver;
extern const struct net_driver net_github_driver;
extern const struct net_driver net_x_driver;
extern const struct net_driver net_demo_driver;

/* Adding a network: one file in lib/net/ and one line here. */
static const struct net_driver *const net_driver_table[] = {
    &net_mastodon_driver,
    &net_bluesky_driver,
    &net_github_driver,
    &net_x_driver,
    &net_demo_driver,
    NULL,
};

const struct net_driver *const *net_drivers(void)
{
    return net_driver_table;
}

const struct net_driver *net_driver_find(const char *name)
{
    for (const struct net_driver *const *d = net_driver_table; name && *d; d++)
        if (strcmp((*d)->name, name) == 0)
            return *d;
    return NULL;
}

void net_reply_free(struct net_reply *r)
{
    if (!r)
        return;
    g_free(r->remote_id);
    g_free(r->to_author_id);
    g_free(r->to_post_id);
    g_free(r);
}

void net_identity_clear(struct net_identity *id)
{
    g_free(id->handle);
    g_free(id->note);
    g_free(id->error);
    memset(id, 0, sizeof *id);
}

void net_identity_from_status(const struct wire_response *resp, struct net_identity *out)
{
    long s = resp->status;
    out->outcome = s == 200                           ? NET_OK
                   : s == 400 || s == 401 || s == 403 ? NET_AUTH
                   : s == 0 || s == 429 || s >= 500   ? NET_RETRY
                                                      : NET_FATAL;
}

void net_result_init(struct net_result *res)
{
    memset(res, 0, sizeof *res);
    res->mentions = g_ptr_array_new_with_free_func((GDestroyNotify)mention_free);
    res->replies = g_ptr_array_new_with_free_func((GDestroyNotify)net_reply_free);
    res->rate_remaining = -1;
}

void net_result_clear(struct net_result *res)
{
    if (res->mentions)
        g_ptr_array_unref(res->mentions);
    if (res->replies)
        g_ptr_array_unref(res->replies);
    wire_request_free(res->next);
    g_free(res->error);
    g_free(res->notice);
    g_free(res->skip_reason);
    g_free(res->read_upto);
    memset(res, 0, sizeof *res);
}

void net_result_fail(struct net_result *res, enum net_outcome outcome, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_free(res->error);
    res->error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    res->outcome = outcome;
    wire_request_free(res->next);
    res->next = NULL;
}

void net_result_skip(struct net_result *res, const char *fmt, ...)
{
    res->skipped++;
    /* Every reason, joined, up to a bound: a page of 100 broken items says
     * what was wrong without growing without end. */
    if (res->skip_reason && strlen(res->skip_reason) > 2048)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *why = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *joined = res->skip_reason ? g_strconcat(res->skip_reason, "; ", why, NULL) : g_strdup(why);
    g_free(res->skip_reason);
    res->skip_reason = joined;
}

void net_result_notice(struct net_result *res, const char *fmt, ...)
{
    if (res->notice)
        return; /* the first one says it */
    va_list ap;
    va_start(ap, fmt);
    res->notice = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

bool net_same_site(const char *home, const char *other)
{
    if (!home || !other || !*home || !*other)
        return false;
    if (g_ascii_strcasecmp(home, other) == 0)
        return true;
    g_autofree char *a = g_ascii_strdown(home, -1);
    g_autofree char *b = g_ascii_strdown(other, -1);
    const psl_ctx_t *psl = psl_builtin();
    const char *ra = psl ? psl_registrable_domain(psl, a) : NULL;
    const char *rb = psl ? psl_registrable_domain(psl, b) : NULL;
    return ra && rb && strcmp(ra, rb) == 0;
}

int net_compare_int64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int net_id_compare(const char *a, const char *b)
{
    size_t la = a ? strlen(a) : 0, lb = b ? strlen(b) : 0;
    if (la != lb)
        return la < lb ? -1 : 1;
    if (la == 0)
        return 0;
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

char *net_link_rel(const char *link_header, const char *rel)
{
    if (!link_header)
        return NULL;
    /* RFC 8288: comma-separated "<uri>; param=value; ..." items. URIs cannot
     * contain '>' unescaped, so splitting on '<' and '>' is exact. */
    const char *p = link_header;
    while ((p = strchr(p, '<')) != NULL) {
        const char *end = strchr(p + 1, '>');
        if (!end)
            return NULL;
        const char *params = end + 1;
        const char *next = strchr(params, '<');
        size_t plen = next ? (size_t)(next - params) : strlen(params);
        g_autofree char *pstr = g_strndup(params, plen);
        g_auto(GStrv) parts = g_strsplit_set(pstr, ";,", -1);
        for (char **part = parts; *part; part++) {
            char *kv = g_strstrip(*part);
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            g_autofree char *name = g_strstrip(g_strndup(kv, (gsize)(eq - kv)));
            if (g_ascii_strcasecmp(name, "rel") != 0)
                continue;
            char *val = g_strstrip(eq + 1);
            size_t vl = strlen(val);
            if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
                val[vl - 1] = '\0';
                val++;
            }
            g_auto(GStrv) rels = g_strsplit(val, " ", -1);
            for (char **r = rels; *r; r++)
                if (g_ascii_strcasecmp(*r, rel) == 0)
                    return g_strndup(p + 1, (size_t)(end - p - 1));
        }
        p = end + 1;
    }
    return NULL;
}

int64_t net_server_time_to_local(const struct net_account *acct, const struct wire_response *resp, int64_t server_time)
{
    if (server_time <= 0)
        return 0;
    const char *date = wire_response_header(resp, "date");
    /* curl_getdate parses the RFC 7231 forms servers send; -1 on failure. */
    time_t server_now = date ? curl_getdate(date, NULL) : -1;
    if (server_now <= 0)
        return server_time;
    /* Both are positive, so the difference cannot overflow; the sum can (a
     * reset near INT64_MAX with an old Date), and saturates instead. */
    int64_t ahead = server_time - (int64_t)server_now;
    if (ahead > 0 && acct->now > INT64_MAX - ahead)
        return INT64_MAX;
    if (ahead < 0 && acct->now < INT64_MIN - ahead)
        return INT64_MIN;
    return acct->now + ahead;
}

int64_t net_parse_time(const char *iso)
{
    if (!iso || !*iso)
        return 0;
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
    if (!dt) {
        /* GitHub-style "2024-01-01T00:00:00Z" parses above; a bare date does not. */
        g_autofree char *with_time = g_strconcat(iso, "T00:00:00Z", NULL);
        dt = g_date_time_new_from_iso8601(with_time, NULL);
    }
    return dt ? g_date_time_to_unix(dt) : 0;
}

/* Make a body jansson will read: invalid UTF-8 bytes become U+FFFD, and
 * so do \uD800-\uDFFF escapes that are not a proper surrogate pair. One
 * stranger's broken post must not make a whole page unreadable forever. */
static char *net_json_repair(const char *body, size_t len)
{
    g_autofree char *valid = g_utf8_make_valid(body, (gssize)len);
    GString *out = g_string_sized_new(strlen(valid));
    for (const char *p = valid; *p; p++) {
        if (p[0] != '\\' || !p[1]) {
            g_string_append_c(out, *p);
            continue;
        }
        if (p[1] != 'u' || !g_ascii_isxdigit(p[2]) || !g_ascii_isxdigit(p[3]) || !g_ascii_isxdigit(p[4]) ||
            !g_ascii_isxdigit(p[5])) {
            g_string_append_len(out, p, 2); /* another escape: keep it whole */
            p++;
            continue;
        }
        unsigned v = (unsigned)g_ascii_strtoull((char[]){ p[2], p[3], p[4], p[5], 0 }, NULL, 16);
        if (v >= 0xd800 && v <= 0xdbff && p[6] == '\\' && p[7] == 'u' && g_ascii_isxdigit(p[8]) &&
            g_ascii_isxdigit(p[9]) && g_ascii_isxdigit(p[10]) && g_ascii_isxdigit(p[11])) {
            unsigned lo = (unsigned)g_ascii_strtoull((char[]){ p[8], p[9], p[10], p[11], 0 }, NULL, 16);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
                g_string_append_len(out, p, 12); /* a proper pair */
                p += 11;
                continue;
            }
        }
        if (v >= 0xd800 && v <= 0xdfff)
            g_string_append(out, "\\ufffd");
        else
            g_string_append_len(out, p, 6);
        p += 5;
    }
    return g_string_free(out, FALSE);
}

json_t *net_parse_json(const struct wire_response *resp, struct net_result *res, const char *what)
{
    json_error_t jerr;
    /* A post may legally contain \u0000; without ALLOW_NUL one such post
     * would make its whole page unreadable forever. */
    json_t *root = json_loadb(resp->body ? resp->body : "", resp->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                              &jerr);
    if (!root && resp->body_len > 0) {
        g_autofree char *fixed = net_json_repair(resp->body, resp->body_len);
        root = json_loads(fixed, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
    }
    /* jansson's message quotes the input near the error, which can be a
     * token in a session answer: report the position only. */
    if (!root)
        net_result_fail(res, NET_RETRY, "%s: malformed JSON at line %d, column %d", what, jerr.line, jerr.column);
    return root;
}

char *net_json_strdup(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? g_strdup(json_string_value(v)) : NULL;
}

char *net_uri_escape(const char *s)
{
    return g_uri_escape_string(s ? s : "", NULL, FALSE);
}
