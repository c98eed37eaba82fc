/* SPDX-License-Identifier: MIT */
/* http_policy: see http_policy.h. */
#include "http_policy.h"

#include "build_config.h"

/* A transfer slower than this for that long is as good as stalled. */
#define HTTP_POLICY_LOW_SPEED_BYTES 16L
#define HTTP_POLICY_LOW_SPEED_S 20L

size_t http_policy_max_body(const struct http_policy *p)
{
    return p && p->max_body ? p->max_body : HTTP_POLICY_MAX_BODY;
}

void http_policy_apply(CURL *c, const struct http_policy *p)
{
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (p && p->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, p->ca_file);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "heed/" HEED_VERSION " (+https://heed.invalid)");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     p && p->connect_timeout_ms > 0 ? p->connect_timeout_ms : HTTP_POLICY_CONNECT_MS);
    if (p && p->timeout_ms < 0) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 0L);
    } else {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, p && p->timeout_ms > 0 ? p->timeout_ms : HTTP_POLICY_TOTAL_MS);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, HTTP_POLICY_LOW_SPEED_BYTES);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, HTTP_POLICY_LOW_SPEED_S);
    }
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)http_policy_max_body(p));
}

bool http_policy_body_append(GByteArray *body, const char *data, size_t len, size_t max)
{
    if (len > max || body->len > max - len)
        return false;
    g_byte_array_append(body, (const guint8 *)data, (guint)len);
    return true;
}
