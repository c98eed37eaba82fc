/* SPDX-License-Identifier: MIT */
/* net/bluesky-int: the inside of the Bluesky driver, shared by its two
 * files only: bluesky.c (notifications, paging, history, the descriptor)
 * and bluesky-session.c (the app-password session: createSession,
 * refreshSession, rate limits, refused requests, the identity check). */
#ifndef HEED_NET_BLUESKY_INT_H
#define HEED_NET_BLUESKY_INT_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "net/net.h"

enum {
    BLUESKY_STEP_LOGIN = 1,   /* com.atproto.server.createSession */
    BLUESKY_STEP_REFRESH,     /* com.atproto.server.refreshSession */
    BLUESKY_STEP_PAGE,        /* app.bsky.notification.listNotifications */
    BLUESKY_STEP_HISTORY,     /* app.bsky.feed.getAuthorFeed (own posts) */
};
#define BLUESKY_STEP_MASK 0xff
#define BLUESKY_F_HISTORY 0x100   /* LOGIN/REFRESH: resume the history chain, not the poll */
#define BLUESKY_F_REFRESHED 0x200 /* this chain has refreshed the session already */
#define BLUESKY_F_LOGGED_IN 0x400 /* this chain has called createSession already */

#define BLUESKY_PAGE_LIMIT 50
#define BLUESKY_HISTORY_LIMIT 50
#define BLUESKY_HISTORY_MAX_PAGES 3
#define BLUESKY_LATE_SLACK_S 600          /* history chain only: own posts indexed late */
#define BLUESKY_LOOKBACK_S (24 * 3600)    /* how far behind seen_until a deep poll reads */
#define BLUESKY_DEEP_EVERY_S 600          /* a deep poll at most this often */
#define BLUESKY_KNOWN_HORIZON_S (2 * 24 * 3600)
#define BLUESKY_KNOWN_MAX 2000
#define BLUESKY_LOGIN_PAUSE_S 1800
#define BLUESKY_RATE_DEFAULT_WAIT_S 60
#define BLUESKY_RATE_MAX_WAIT_S 86400
#define BLUESKY_WEB "https://bsky.app"
#define BLUESKY_POST_COLLECTION "app.bsky.feed.post"

/* A DID as it may appear in a URL path: "did:<method>:<id>", id from the
 * DID syntax's character set. */
bool bluesky_did_ok(const char *s, size_t len);

/* Hostile text shortened for a log line. */
char *bluesky_quote(const char *s);

/* Tokens go into an Authorization header: printable ASCII without spaces
 * only, so a hostile server cannot smuggle in header lines. */
bool bluesky_token_ok(const char *t);

const char *bluesky_str(json_t *state, const char *key);

bool bluesky_has_session(json_t *state);

void bluesky_drop_session(json_t *state);

/* JSON string literal without a jansson copy of the value: the value here
 * is the app password, and only the request body should ever hold it (it is
 * wiped when the request is freed). */
void bluesky_json_append(GString *s, const char *v);

struct wire_request *bluesky_login_request(const struct net_account *acct, int flags);

struct wire_request *bluesky_page_request(const struct net_account *acct, json_t *state, int flags);

struct wire_request *bluesky_history_request(const struct net_account *acct, json_t *state, int flags);

/* Like net_parse_json, with two differences. A "\u0000" in some post must
 * not stall the account forever (the string is cut there instead). And for
 * session answers jansson's error text is left out: it quotes the input near
 * the error, which there is a token. */
json_t *bluesky_parse_json(const struct wire_response *resp, struct net_result *out, const char *what,
                           bool holds_tokens);

/* RateLimit-* (draft-polli names, no X- prefix). Reset is epoch seconds on
 * Bluesky; a small number is taken as delta seconds, as the IETF draft has it. */
void bluesky_rate(const struct net_account *acct, const struct wire_request *req,
                  const struct wire_response *resp, struct net_result *out);

void bluesky_handle_login(const struct net_account *acct, json_t *state, const struct wire_request *req,
                          const struct wire_response *resp, struct net_result *out);

void bluesky_handle_refresh(const struct net_account *acct, json_t *state, const struct wire_request *req,
                            const struct wire_response *resp, struct net_result *out);

/* A listNotifications/getAuthorFeed answer other than 200. */
void bluesky_handle_refused(const struct net_account *acct, json_t *state, const struct wire_request *req,
                            const struct wire_response *resp, struct net_result *out);

/* With a session saved for this identifier and server: getSession, which
 * spends nothing. Without: createSession, only when a sign-in is allowed. */
struct wire_request *bluesky_identity_begin(const struct net_account *acct, json_t *state, bool sign_in,
                                           char **error);

void bluesky_identity_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                             const struct wire_response *resp, struct net_identity *out);

/* deleteSession ends a session (it takes the refresh token). */
struct wire_request *bluesky_session_end(const struct net_account *acct, json_t *state);

#endif
