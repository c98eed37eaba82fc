/* login: heed login NETWORK ..., which adds an account to heed.conf, and
 * the blocking HTTPS request it shares with heed doctor.
 *
 * A login finds out everything it needs first (names, paths, whether the
 * account exists), then obtains the secret and proves it with one request,
 * and only then writes: the token file (mode 0600) or the desktop keyring,
 * then the [account NAME] group. Nothing is written when any step fails,
 * and a token file written just before a failed config write is removed
 * again. The secret is never printed, never put in a URL, and wiped from
 * the buffers this module owns before they are freed.
 */
#ifndef HEED_CLI_LOGIN_H
#define HEED_CLI_LOGIN_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "args.h"

/* heed login; returns the exit status (CLI_EXIT_OK or CLI_EXIT_ERROR). */
int login_main(const struct cli_args *a);

/* ---- one HTTPS request, blocking ----------------------------------------- */

struct login_http {
    long status;         /* HTTP status, 0 when there was no answer */
    GByteArray *body;    /* at most LOGIN_HTTP_MAX_BODY bytes */
    GHashTable *headers; /* lower-case name -> value, of the final response */
    char *error;         /* why there was no answer (no secrets in it), or NULL */
};
#define LOGIN_HTTP_MAX_BODY (1024 * 1024)

/* The daemon's rules in a blocking call: https only (no redirects are
 * followed at all), certificates verified (against ca_file when given),
 * 15 s to connect, 30 s in all, the body capped. headers: NULL-terminated
 * "Name: value" strings, or NULL. body: sent as is with POST (or method);
 * NULL for none. Returns false when no HTTP answer came (out->error says
 * why); any status counts as an answer. Clear out with login_http_clear(). */
bool login_https(const char *method, const char *url, const char *ca_file, const char *const *headers,
                 const char *body, struct login_http *out);
void login_http_clear(struct login_http *r);
/* The body as a JSON value (new reference), or NULL. */
json_t *login_http_json(const struct login_http *r);
/* "HTTP 401: The access token is invalid": the status and what the body
 * says in the error fields the four networks use, made safe for a terminal
 * and short; secret, when given, is blanked out of it. g_free it. */
char *login_http_problem(const struct login_http *r, const char *secret);
/* "299 of 300 requests left" from whichever rate-limit headers the network
 * sends, or NULL. g_free it. *remaining gets the number left (-1 unknown). */
char *login_http_rate(const struct login_http *r, long *remaining);

#endif
