/* SPDX-License-Identifier: MIT */
/* http_policy: the rules every HTTPS request heed makes follows, whether
 * heedd's (lib/http.c, on the loop) or heed's own (cli/https.c, blocking).
 *
 * One function sets them on a curl easy handle: https only (redirects are
 * never followed: a token must never travel to a host the user did not
 * name, and should curl ever follow one, https only too), the certificate
 * and the host name always verified (against ca_file when given), no
 * signals, a connect and a total time limit, a stall limit, heed's user
 * agent, and a body cap. CURLOPT_MAXFILESIZE stops a body whose length is
 * announced; a chunked one (which curl 7.88 lets through) is stopped by the
 * write callback with http_policy_body_append(). The caller keeps its own
 * callbacks, headers and method: this is only the policy.
 */
#ifndef HEED_HTTP_POLICY_H
#define HEED_HTTP_POLICY_H

#include <curl/curl.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_POLICY_CONNECT_MS 15000L
#define HTTP_POLICY_TOTAL_MS 60000L
#define HTTP_POLICY_MAX_BODY (8u * 1024 * 1024)

struct http_policy {
    const char *ca_file;      /* PEM bundle to trust instead of the system's; NULL: the system's */
    long connect_timeout_ms;  /* 0: HTTP_POLICY_CONNECT_MS */
    long timeout_ms;          /* the whole transfer; 0: HTTP_POLICY_TOTAL_MS; -1: none at all (a
                                 stream, whose caller watches for silence itself) */
    size_t max_body;          /* bytes; 0: HTTP_POLICY_MAX_BODY */
};

/* Set the policy on c (p may be NULL: every default). */
void http_policy_apply(CURL *c, const struct http_policy *p);
/* The body cap p applies (its default filled in). */
size_t http_policy_max_body(const struct http_policy *p);
/* For a write callback: append data to body unless that would take it past
 * max; false (nothing appended) means the transfer must be stopped. */
bool http_policy_body_append(GByteArray *body, const char *data, size_t len, size_t max);

#endif
