/* SPDX-License-Identifier: MIT */
/* login: heed login NETWORK ..., which adds an account to heed.conf.
 *
 * A login finds out everything it needs first (names, paths, whether the
 * account exists), then obtains the secret and proves it with one request
 * (the network's identity request, from its driver), and only then writes:
 * the token file (mode 0600) or the desktop keyring, then the [account NAME]
 * group. Nothing is written when any step fails, and a token file written
 * just before a failed config write is removed again. The secret is never
 * printed, never put in a URL, and wiped from the buffers this module owns
 * before they are freed. The state database is never touched: a session
 * the proof opened (Bluesky) is ended again, and heedd signs in itself.
 *
 * What a network needs is read from its driver's descriptor. The steps all
 * networks share are in login.c (preparing, the plan, the proof, the
 * result), login-ask.c (the terminal, standard input, the browser) and
 * login-write.c (the token file, the keyring, heed.conf); how a secret is
 * obtained is one flow per kind of login: login-mastodon.c (OAuth with
 * PKCE), login-bluesky.c (an app password), login-token.c (a token made on
 * the network's web site), login-x.c (OAuth with PKCE through the user's
 * own app, keeping a refresh token); login-oauth.c has what the OAuth
 * flows share.
 */
#ifndef HEED_CLI_LOGIN_H
#define HEED_CLI_LOGIN_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "args.h"
#include "conffile.h"
#include "net/net.h"

/* heed login; returns the exit status (CLI_EXIT_OK or CLI_EXIT_ERROR). */
int login_main(const struct cli_args *a);
/* "mastodon, bluesky, github or x": the networks heed login knows, with
 * last_sep before the last one (g_free it). */
char *login_network_list(const char *last_sep);

/* ---- shared by the flows --------------------------------------------------- */

#define LOGIN_MAX_SECRET (16 * 1024)

struct login {
    const struct cli_args *a;
    const struct net_driver *drv;
    bool interactive;       /* standard input is a terminal */
    char *server;           /* https base URL, no trailing '/' */
    bool server_explicit;   /* write server = ... (not the network's default) */
    char *allowed_host;     /* what url_open may open: "host" or "host:port" */
    char *name;             /* the account's name */
    char *group;            /* "account NAME" */
    char *ca_file;          /* absolute, or NULL */
    char *config_path;
    char *token_path;
    char *secret_tool;      /* its path when on PATH */
    struct conffile *cf;
    /* What the network told: */
    char *secret;           /* what is stored (wiped) */
    char *identifier;       /* the account's identifier (a Bluesky handle), as typed */
    char *client_id;        /* the user's OAuth client (X), written as client_id = */
    char *who;              /* "@alice@example.social", for the summary, cleaned */
    json_t *state;          /* what the identity check left (a session's did); tokens wiped */
    bool keyring;
    const char *proving;    /* what login_prove checks when it is not the secret kept ("access
                               token"), for its messages; NULL: the secret */
};

/* A kind of login: how the secret is obtained. It sets l->secret and
 * proves it (login_prove), or says why not and returns false. */
struct login_flow {
    enum net_login kind;
    bool (*obtain)(struct login *l);
};
extern const struct login_flow login_flow_mastodon, login_flow_bluesky, login_flow_token, login_flow_x;

/* "heed login: ..." on stderr. */
void login_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The code or secret, from the terminal (without echo when secret) or one
 * line of standard input; surrounding white space removed. NULL after
 * saying why. */
char *login_ask(const struct login *l, const char *prompt, bool secret);
/* A yes/no question on the terminal; anything but y or yes is no. */
bool login_ask_yes(const char *prompt);
/* Open url in $BROWSER or the desktop's browser (url_open's rules). */
void login_open_browser(const char *url, const char *allowed_host);
/* Print the driver's secret_help, its {web} filled in. */
void login_print_help(const struct login *l);
/* Ask the network whose l->secret is (signing in if that is how), end any
 * session that opened, and set l->who. False after saying why. */
bool login_prove(struct login *l);
/* Step 4: the secret first, then the config. False after saying why. */
bool login_write(struct login *l);
/* What the secret is called: "access token", "app password", "token". */
const char *login_secret_word(const struct login *l);
/* The network's web site: "https://x.com", or a server of one's own. g_free it. */
char *login_web_base(const struct login *l);

/* ---- OAuth 2.0 (login-oauth.c) ------------------------------------------- */

struct https_answer;
/* key=value to an application/x-www-form-urlencoded body or query; the
 * encoded copy of the value is wiped. */
void login_form_add(GString *s, const char *key, const char *value);
/* POST form (wiped and freed here) to server + path; the answer in *ans. */
void login_form_post(const struct login *l, const char *path, GString *form, struct https_answer *ans);
/* 32 random bytes from the kernel, base64url (43 characters), or NULL. */
char *login_random(void);
/* PKCE (RFC 7636) S256: a 43-character verifier and its challenge. */
bool login_pkce(char **verifier, char **challenge);
/* Wipe the strings of a token endpoint's answer before it is freed. */
void login_wipe_answer(json_t *answer);

#endif
