/* SPDX-License-Identifier: MIT */
/* net: the network driver contract. A driver is a pure translator.
 *
 * Given an account's saved state (a JSON object the driver owns: cursors,
 * sessions, ids) a driver builds the next request; given that request's
 * response (status, headers, body) it returns mention records, updates the
 * state and says what to do next. Drivers do no I/O, touch no store and
 * show nothing; lib/engine.c runs them. Adding a network is one file in
 * lib/net/ and one line in net_drivers[]: the descriptor at the end of the
 * file also tells heed.conf, heed login and heed doctor what they need to
 * know about the network, so none of them names one.
 *
 * One poll is a chain: begin() -> request -> handle() -> (next request ->
 * handle() ...) until the result has no next request. The engine commits
 * each step's mentions and, when result.state_changed, the state, in one
 * transaction, so a crash repeats at most one step and the store's unique
 * key absorbs the repeat.
 */
#ifndef HEED_NET_H
#define HEED_NET_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "mention.h"
#include "wire.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(json_t, json_decref)

struct net_account {
    const char *name;
    const char *network;
    const char *server;      /* https base URL, no trailing slash */
    const char *web_host;    /* where the network's web pages are (links are built on it), or NULL */
    const char *identifier;  /* bluesky login handle */
    const char *secret;      /* token / app password; never logged */
    const char *client_id;   /* the user's OAuth client (x): with one, secret is a refresh token, and
                                the driver keeps the session it gives in the state; NULL otherwise */
    const char *const *reasons; /* github reason filter or NULL */
    bool participating;
    int catchup_max_pages;
    int64_t now;             /* clock_now() at the start of this step */
};

enum net_outcome {
    NET_OK = 0,              /* response understood */
    NET_RETRY,               /* transient: retry the step later (5xx, 429, bad body) */
    NET_AUTH,                /* credentials refused: the account needs the user's attention */
    NET_FATAL,               /* misconfiguration the user must fix */
};

/* One of the user's own replies, read back from the network so heed learns
 * whom the user answers (interaction history) and which mentions are
 * already answered. */
struct net_reply {
    char *remote_id;         /* the user's post */
    char *to_author_id;      /* whom it answers */
    char *to_post_id;        /* the post it answers (matches mention.post_id), or NULL */
    int64_t at;
};
void net_reply_free(struct net_reply *r);

struct net_result {
    enum net_outcome outcome;
    GPtrArray *mentions;     /* struct mention*, owned (mention_free) */
    GPtrArray *replies;      /* struct net_reply*, owned: the user's own replies (history chains) */
    struct wire_request *next;/* follow-up request in the same poll, or NULL */
    bool state_changed;      /* persist the state with this step's mentions */
    bool initial_sync;       /* the mentions are history from before heed watched: store, don't pop up */
    int64_t retry_at;        /* epoch seconds before which no request should be made (rate limits), or 0 */
    int poll_interval;       /* server-requested minimum seconds between polls, or 0 */
    int rate_remaining;      /* -1 unknown */
    char *error;             /* what went wrong, for the log (no secrets), or NULL */
    char *read_upto;         /* the user has read everything up to this remote id elsewhere (a
                                server-side read marker), or NULL */
    int skipped;             /* items of this step that could not be read and were left out */
    char *skip_reason;       /* what was wrong with them, joined with "; " (bounded) */
    char *notice;            /* something the user should know (a possible gap), or NULL */
};

/* How heed login obtains an account's secret. */
enum net_login {
    NET_LOGIN_NONE = 0,      /* nothing to sign in to (demo) */
    NET_LOGIN_OAUTH_PKCE,    /* heed registers itself on the server and the user approves it in the
                                browser; the code shown is exchanged with PKCE (Mastodon) */
    NET_LOGIN_APP_PASSWORD,  /* a password made for heed alone, which heedd exchanges for a
                                session (Bluesky) */
    NET_LOGIN_TOKEN,         /* a token the user makes on the network's web site (GitHub) */
    NET_LOGIN_OAUTH_APP,     /* the user registers an app on the network's developer site and gives heed
                                its client id; the user approves heed in the browser and the code is
                                exchanged with PKCE for a refresh token, which is the secret (X) */
};

/* What the answer to an identity request says (heed login, heed doctor). */
struct net_identity {
    enum net_outcome outcome; /* NET_OK: the secret works; NET_AUTH: refused; NET_RETRY: try again
                                 later (rate limit, server trouble); NET_FATAL: not this network */
    char *handle;             /* NET_OK: whose it is, for people ("@alice"), or NULL when the answer
                                 does not say */
    char *note;               /* NET_OK: something worth saying with it, or NULL */
    char *error;              /* not NET_OK: what is wrong when the HTTP status does not say it
                                 (a 200 that names nobody, a token without the scope), or NULL */
    const char *hint;         /* not NET_OK: what such a refusal usually means, or NULL (static) */
};
void net_identity_clear(struct net_identity *id);
/* The outcome an identity answer's status alone gives: 200 NET_OK, 400/401/403
 * NET_AUTH, no answer (0), 429 and 5xx NET_RETRY, anything else NET_FATAL. */
void net_identity_from_status(const struct wire_response *resp, struct net_identity *out);

struct net_driver {
    const char *name;                 /* config "network =" value */
    const char *default_server;       /* used when the account sets no server, or NULL */
    const char *web_host;             /* host links must point at; NULL = the server's host */
    bool needs_secret;
    /* Build the first request of a poll from state. Returns NULL with *error
     * set when the account cannot poll (e.g. missing identifier). */
    struct wire_request *(*begin)(const struct net_account *acct, json_t *state, char **error);
    /* Optional: first request of a history chain that reads the user's own
     * recent posts (results come back as replies). NULL when the network
     * has nothing to offer, or when nothing is due. */
    struct wire_request *(*history_begin)(const struct net_account *acct, json_t *state, char **error);
    /* Optional streaming. stream_begin() starts a chain (discovery, health
     * check) whose responses go to handle() like any other; its last request
     * has .stream set, and the engine then feeds each event of that stream
     * to stream_event(). Mentions from a stream never move the polling
     * cursor: the poll after a reconnect closes any hole. */
    struct wire_request *(*stream_begin)(const struct net_account *acct, json_t *state, char **error);
    void (*stream_event)(const struct net_account *acct, json_t *state, const char *event, const char *data,
                         size_t len, struct net_result *out);
    /* Interpret a response to a request built by this driver (any chain). */
    void (*handle)(const struct net_account *acct, json_t *state, const struct wire_request *req,
                   const struct wire_response *resp, struct net_result *out);

    /* ---- The network described for heed.conf, heed login and heed doctor.
     * None of it is used by a poll. */
    const char *title;                /* the network's name in a sentence: "GitHub" */
    bool server_required;             /* no default server: every account names its own (the instance) */
    bool web_follows_server;          /* a server of one's own serves its own web pages (GitHub
                                         Enterprise); otherwise links go to web_host whatever the
                                         server (a Bluesky PDS) */
    const char *identifier_hint;      /* the account needs identifier = ...: what that is, "your
                                         handle or DID, e.g. alice.bsky.social"; NULL: it takes none */
    const char *const *account_keys;  /* heed.conf keys only this network reads, NULL-terminated, or NULL */
    enum net_login login;
    const char *login_target;         /* heed login NETWORK TARGET: "instance" (the server) when
                                         server_required, "handle" (the identifier) when
                                         identifier_hint; NULL: login takes no target */
    const char *login_example;        /* a TARGET for examples: "mastodon.social" */
    const char *secret_word;          /* what the secret is called: "access token", "app password" */
    const char *scopes;               /* the permissions heed asks for (OAuth scopes, space-separated)
                                         or tells the user to grant; NULL when there are none */
    const char *secret_help;          /* printed before login asks for the secret: where to make it
                                         and how; "{web}" stands for the network's web site
                                         ("https://github.com", or a server of one's own), "{redirect}"
                                         for oauth_redirect */
    /* NET_LOGIN_OAUTH_APP only (NULL otherwise): the OAuth 2.0 endpoints of a
     * sign-in with the user's own client id. */
    const char *oauth_authorize;      /* the authorisation page's path on the web site */
    const char *oauth_token;          /* the token endpoint's path on the server (code and refresh) */
    const char *oauth_revoke;         /* the revocation endpoint's path on the server, or NULL */
    const char *oauth_redirect;       /* the callback address heed's sign-in uses; the user registers
                                         it with the app */
    /* The request that proves the secret and says whose it is, made by heed
     * login and heed doctor (never by heedd). state: the account's saved
     * state, or an empty object. Where the proof would start a session (a
     * Bluesky createSession, about 100 a day) the driver uses the session
     * saved in state; without one it starts one only when sign_in, and
     * otherwise returns NULL with *error NULL: not signed in yet. */
    struct wire_request *(*identity_begin)(const struct net_account *acct, json_t *state, bool sign_in,
                                          char **error);
    /* Read its answer. A session it started is put in state (for session_end). */
    void (*identity_handle)(const struct net_account *acct, json_t *state, const struct wire_request *req,
                            const struct wire_response *resp, struct net_identity *out);
    /* Optional: the request that ends the session in state that identity
     * started (heed login keeps no session: heedd makes its own), or NULL
     * when state holds none. */
    struct wire_request *(*session_end)(const struct net_account *acct, json_t *state);
};

const struct net_driver *net_driver_find(const char *name);
/* NULL-terminated list of all drivers. */
const struct net_driver *const *net_drivers(void);

/* Helpers for drivers. */
void net_result_init(struct net_result *res);
void net_result_clear(struct net_result *res);
void net_result_fail(struct net_result *res, enum net_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Count an item left out (the engine says so once, not once per poll). */
void net_result_skip(struct net_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A note for the log that the engine repeats only when it changes. */
void net_result_notice(struct net_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* How far back the first start of an account reads (or catchup_max_pages,
 * whichever ends first): what it finds is listed, never popped up. */
#define NET_FIRST_WINDOW_S (7 * 24 * 3600)
/* May a token for host `home` be sent to `other`? Only when they are the
 * same host or share a registrable domain (public suffix list, libpsl):
 * streaming.example.social for example.social, never example.social.evil. */
bool net_same_site(const char *home, const char *other);
/* GCompareFunc for int64_t elements (g_array_sort). */
int net_compare_int64(gconstpointer a, gconstpointer b);
/* Compare two numeric id strings: by length, then lexically (Mastodon, X). */
int net_id_compare(const char *a, const char *b);
/* URL of the rel="next" (or other rel) link in an RFC 8288 Link header, or NULL. */
char *net_link_rel(const char *link_header, const char *rel);
/* A reset time on the server's clock (a rate-limit header) on ours: the
 * server's Date header says what "now" is over there, so a local clock that
 * jumped does not turn a 2 s wait into days. 0 stays 0. */
int64_t net_server_time_to_local(const struct net_account *acct, const struct wire_response *resp, int64_t server_time);
/* Parse an ISO 8601 / RFC 3339 time to epoch seconds; 0 on failure. */
int64_t net_parse_time(const char *iso);
/* Parse a JSON body; on failure fills res with NET_RETRY and a message. */
json_t *net_parse_json(const struct wire_response *resp, struct net_result *res, const char *what);
/* A copy of a string member, or NULL when absent or not a string. */
char *net_json_strdup(json_t *obj, const char *key);
/* Percent-encode a query parameter value. */
char *net_uri_escape(const char *s);

#endif
