/* SPDX-License-Identifier: MIT */
/* https: see https.h. */
#include "https.h"

#include <string.h>

#include "format.h"
#include "http_policy.h"
#include "url.h"

struct https_sink {
    struct https_answer *a;
    bool too_big;
};

static size_t https_write(char *ptr, size_t size, size_t n, void *ud)
{
    struct https_sink *s = ud;
    if (!http_policy_body_append(s->a->body, ptr, size * n, HTTPS_MAX_BODY)) {
        s->too_big = true;
        return 0;
    }
    return size * n;
}

static size_t https_header(char *buf, size_t size, size_t n, void *ud)
{
    struct https_sink *s = ud;
    size_t len = size * n;
    /* A new status line starts a new response (100 Continue, say): only the
     * final one's headers count. */
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        g_hash_table_remove_all(s->a->headers);
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon)
        return len;
    char *name = g_ascii_strdown(buf, colon - buf);
    char *value = g_strndup(colon + 1, len - (size_t)(colon + 1 - buf));
    g_strstrip(value);
    g_hash_table_replace(s->a->headers, name, value);
    return len;
}

static void https_set_body(CURL *c, const struct wire_request *req, struct curl_slist **list)
{
    if (req->body) {
        if (req->content_type) {
            g_autofree char *ct = g_strdup_printf("Content-Type: %s", req->content_type);
            *list = curl_slist_append(*list, ct);
        }
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
    } else if (g_strcmp0(req->method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (req->method && strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
}

bool https_send(const struct wire_request *req, const char *ca_file, struct https_answer *out)
{
    memset(out, 0, sizeof *out);
    out->body = g_byte_array_new();
    out->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    CURL *c = curl_easy_init();
    if (!c) {
        out->error = g_strdup("cannot start an HTTP request (curl_easy_init failed)");
        return false;
    }
    struct https_sink sink = { out, false };
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *list = NULL;
    for (guint i = 0; req->headers && i < req->headers->len; i++)
        list = curl_slist_append(list, g_ptr_array_index(req->headers, i));
    struct http_policy policy = { .ca_file = ca_file, .timeout_ms = HTTPS_TIMEOUT_MS, .max_body = HTTPS_MAX_BODY };
    http_policy_apply(c, &policy);
    curl_easy_setopt(c, CURLOPT_URL, req->url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, https_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, https_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    https_set_body(c, req, &list);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);

    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    } else if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        out->error = g_strdup_printf("the answer was larger than %d bytes", HTTPS_MAX_BODY);
    } else {
        /* curl's text names the host and the TLS problem; heed never puts
         * a secret in a URL, so it is safe to show. */
        g_autofree char *host = url_host(req->url);
        out->error = g_strdup_printf("no answer from %s: %s", host ? host : req->url,
                                     *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    curl_easy_cleanup(c);
    /* The list may carry "Authorization: Bearer ...". */
    for (struct curl_slist *l = list; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(list);
    return out->status != 0;
}

void https_answer_clear(struct https_answer *a)
{
    if (a->body) {
        /* Bodies carry tokens (an OAuth answer, a session). */
        explicit_bzero(a->body->data, a->body->len);
        g_byte_array_free(a->body, TRUE);
    }
    if (a->headers)
        g_hash_table_destroy(a->headers);
    g_free(a->error);
    memset(a, 0, sizeof *a);
}

void https_answer_view(const struct https_answer *a, struct wire_response *out)
{
    out->status = a->status;
    out->body = a->body ? (const char *)a->body->data : NULL;
    out->body_len = a->body ? a->body->len : 0;
    out->headers = a->headers;
}

json_t *https_answer_json(const struct https_answer *a)
{
    if (!a->body || a->body->len == 0)
        return NULL;
    return json_loadb((const char *)a->body->data, a->body->len, 0, NULL);
}

static const char *https_json_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* Mastodon/OAuth: error + error_description; Bluesky: error + message;
 * GitHub: message; X: title + detail. */
static void https_describe_body(GString *s, json_t *j)
{
    const char *first = https_json_str(j, "error");
    const char *second = https_json_str(j, "error_description");
    if (!second)
        second = https_json_str(j, "message");
    if (!first && !second) {
        first = https_json_str(j, "title");
        second = https_json_str(j, "detail");
        if (first && second && strcmp(first, second) == 0)
            second = NULL;
    }
    if (first)
        g_string_append_printf(s, ": %s", first);
    if (second)
        g_string_append_printf(s, "%s%s", first ? " - " : ": ", second);
}

char *https_problem(const struct https_answer *a, const char *secret)
{
    if (a->status == 0)
        return g_strdup(a->error ? a->error : "no answer");
    json_t *j = https_answer_json(a);
    GString *s = g_string_new(NULL);
    g_string_printf(s, "HTTP %ld", a->status);
    if (json_is_object(j))
        https_describe_body(s, j);
    json_decref(j);
    char *text = g_string_free(s, FALSE);
    /* A server that quotes the secret back must not get it printed. */
    if (secret && *secret && strstr(text, secret)) {
        g_auto(GStrv) parts = g_strsplit(text, secret, -1);
        explicit_bzero(text, strlen(text));
        g_free(text);
        text = g_strjoinv("(the secret)", parts);
    }
    char *out = cli_fit(text, 200);
    g_free(text);
    return out;
}

char *https_rate(const struct https_answer *a, long *remaining)
{
    /* Mastodon, GitHub: x-ratelimit-*; X: x-rate-limit-*; Bluesky: ratelimit-*. */
    static const char *const prefixes[] = { "x-ratelimit-", "x-rate-limit-", "ratelimit-" };
    *remaining = -1;
    for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        g_autofree char *rk = g_strconcat(prefixes[i], "remaining", NULL);
        g_autofree char *lk = g_strconcat(prefixes[i], "limit", NULL);
        const char *rem = a->headers ? g_hash_table_lookup(a->headers, rk) : NULL;
        const char *lim = a->headers ? g_hash_table_lookup(a->headers, lk) : NULL;
        gint64 nrem, nlim;
        if (!rem || !g_ascii_string_to_signed(rem, 10, 0, G_MAXINT32, &nrem, NULL))
            continue;
        *remaining = (long)nrem;
        if (lim && g_ascii_string_to_signed(lim, 10, 0, G_MAXINT32, &nlim, NULL))
            return g_strdup_printf("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " requests left", nrem, nlim);
        return g_strdup_printf("%" G_GINT64_FORMAT " requests left", nrem);
    }
    return NULL;
}

bool https_identity(const struct net_driver *drv, const struct net_account *acct, json_t *state, bool sign_in,
                    const char *ca_file, struct https_answer *ans, struct net_identity *id, char **error)
{
    memset(ans, 0, sizeof *ans);
    memset(id, 0, sizeof *id);
    *error = NULL;
    if (!drv->identity_begin) {
        *error = g_strdup_printf("heed cannot check %s accounts", drv->name);
        return false;
    }
    struct wire_request *req = drv->identity_begin(acct, state, sign_in, error);
    if (!req)
        return false;
    if (https_send(req, ca_file, ans)) {
        struct wire_response resp;
        https_answer_view(ans, &resp);
        drv->identity_handle(acct, state, req, &resp, id);
    } else {
        id->outcome = NET_RETRY;
    }
    wire_request_free(req);
    return true;
}
