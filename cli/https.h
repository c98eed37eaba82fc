/* SPDX-License-Identifier: MIT */
/* https: heed's own HTTPS requests, one at a time and blocking, for heed
 * login and heed doctor.
 *
 * A request is a wire_request (wire.h), as the drivers build them; the rules are
 * heedd's (lib/http_policy.h: https only, no redirects, verified, time
 * limits) with a 30 s limit in all and a 1 MiB body cap. Nothing here
 * prints: the answer, or why there was none, is handed back. Secrets that
 * pass through (the request's Authorization header, an answer's tokens) are
 * wiped when the answer is cleared.
 */
#ifndef HEED_CLI_HTTPS_H
#define HEED_CLI_HTTPS_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "net/net.h"

#define HTTPS_MAX_BODY (1024 * 1024)
#define HTTPS_TIMEOUT_MS 30000L

struct https_answer {
    long status;         /* HTTP status, 0 when there was no answer */
    GByteArray *body;    /* at most HTTPS_MAX_BODY bytes */
    GHashTable *headers; /* lower-case name -> value, of the final response */
    char *error;         /* why there was no answer (no secrets in it), or NULL */
};

/* Send req (its method, URL, headers and body), trusting ca_file when
 * given. Returns false when no HTTP answer came (out->error says why); any
 * status counts as an answer. Clear out with https_answer_clear() either way. */
bool https_send(const struct wire_request *req, const char *ca_file, struct https_answer *out);
void https_answer_clear(struct https_answer *a);
/* The answer as a driver reads it (borrowed: valid while a is). */
void https_answer_view(const struct https_answer *a, struct wire_response *out);
/* The body as a JSON value (new reference), or NULL. */
json_t *https_answer_json(const struct https_answer *a);
/* "HTTP 401: The access token is invalid": the status and what the body
 * says in the error fields the networks use, made safe for a terminal and
 * short; secret, when given, is blanked out of it. g_free it. */
char *https_problem(const struct https_answer *a, const char *secret);
/* "299 of 300 requests left" from whichever rate-limit headers the network
 * sends, or NULL. g_free it. *remaining gets the number left (-1 unknown). */
char *https_rate(const struct https_answer *a, long *remaining);

/* Ask the network whose acct's secret is (drv->identity_begin, one request,
 * drv->identity_handle). sign_in: the check may start a session. Returns
 * false when nothing was asked: *error says why, or is NULL when the check
 * needs a sign-in that was not allowed. Otherwise ans holds the answer
 * (status 0: none came) and id what it says; clear both. */
bool https_identity(const struct net_driver *drv, const struct net_account *acct, json_t *state, bool sign_in,
                    const char *ca_file, struct https_answer *ans, struct net_identity *id, char **error);

#endif
