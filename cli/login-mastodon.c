/* SPDX-License-Identifier: MIT */
/* login-mastodon: the OAuth sign-in (NET_LOGIN_OAUTH_PKCE), Mastodon's way.
 *
 * heed registers itself on the instance (POST /api/v1/apps) with the
 * driver's read-only scopes and the out-of-band redirect, the user approves
 * it in the browser and pastes the code the instance shows, and the code is
 * exchanged for a token with PKCE (S256; instances older than 4.3 ignore
 * the challenge). The token is then proven like any secret (login_prove).
 * A token heed will not keep is given back (POST /oauth/revoke).
 */
#include "login.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "https.h"
#include "secret.h"

#define LOGIN_OOB "urn:ietf:wg:oauth:2.0:oob"

/* What registering heed gave: the client's id and secret. */
struct login_client {
    char *id;
    char *secret; /* wiped */
};

static void login_client_clear(struct login_client *c)
{
    g_free(c->id);
    secret_free(c->secret);
    memset(c, 0, sizeof *c);
}

static bool login_has_scope(char **granted, const char *scope)
{
    /* "read" includes every "read:..." (network-apis.md §1.8). */
    for (char **g = granted; g && *g; g++)
        if (strcmp(*g, scope) == 0 || (g_str_has_prefix(scope, "read:") && strcmp(*g, "read") == 0))
            return true;
    return false;
}

/* Best effort: so that the token does not linger on the user's
 * "authorised apps" page. */
static void login_mastodon_revoke(const struct login *l, const struct login_client *c, const char *token)
{
    GString *form = g_string_new(NULL);
    login_form_add(form, "client_id", c->id);
    login_form_add(form, "client_secret", c->secret);
    login_form_add(form, "token", token);
    struct https_answer ans;
    login_form_post(l, "/oauth/revoke", form, &ans);
    https_answer_clear(&ans);
}

/* 1. Register heed on the instance. */
static bool login_mastodon_register(const struct login *l, struct login_client *c)
{
    GString *form = g_string_new(NULL);
    login_form_add(form, "client_name", "heed");
    login_form_add(form, "redirect_uris", LOGIN_OOB);
    login_form_add(form, "scopes", l->drv->scopes);
    struct https_answer ans;
    login_form_post(l, "/api/v1/apps", form, &ans);
    json_t *app = ans.status == 200 ? https_answer_json(&ans) : NULL;
    const char *cid = json_string_value(json_object_get(app, "client_id"));
    const char *csecret = json_string_value(json_object_get(app, "client_secret"));
    bool ok = cid && csecret && *cid && *csecret;
    if (ok) {
        c->id = g_strdup(cid);
        c->secret = g_strdup(csecret);
    } else {
        g_autofree char *why = ans.status == 200 ? g_strdup("the answer has no client_id/client_secret")
                                                 : https_problem(&ans, NULL);
        if (ans.status == 0)
            login_error("cannot reach %s (%s); nothing was written", l->server, why);
        else
            login_error("%s did not register heed (%s); is it a %s server?", l->server, why, l->drv->title);
    }
    json_decref(app);
    https_answer_clear(&ans);
    return ok;
}

/* 2. The user approves heed in the browser; the code the page shows. */
static char *login_mastodon_authorize(const struct login *l, const struct login_client *c, const char *challenge)
{
    GString *q = g_string_new(NULL);
    login_form_add(q, "response_type", "code");
    login_form_add(q, "client_id", c->id);
    login_form_add(q, "redirect_uri", LOGIN_OOB);
    login_form_add(q, "scope", l->drv->scopes);
    login_form_add(q, "code_challenge", challenge);
    login_form_add(q, "code_challenge_method", "S256");
    g_autofree char *authorize = g_strdup_printf("%s/oauth/authorize?%s", l->server, q->str);
    g_string_free(q, TRUE);
    printf("Open this page, sign in if asked, and authorise heed (it asks only to read):\n\n  %s\n\n"
           "The page then shows an authorisation code; paste it here.\n",
           authorize);
    fflush(stdout);
    if (!l->a->no_browser)
        login_open_browser(authorize, l->allowed_host);
    return login_ask(l, "Authorisation code: ", false);
}

/* 3. The code for a token: l->secret, and the scopes granted. */
static bool login_mastodon_exchange(struct login *l, const struct login_client *c, const char *code,
                                    const char *verifier, char **scope)
{
    GString *form = g_string_new(NULL);
    login_form_add(form, "grant_type", "authorization_code");
    login_form_add(form, "code", code);
    login_form_add(form, "client_id", c->id);
    login_form_add(form, "client_secret", c->secret);
    login_form_add(form, "redirect_uri", LOGIN_OOB);
    login_form_add(form, "code_verifier", verifier);
    login_form_add(form, "scope", l->drv->scopes);
    struct https_answer ans;
    login_form_post(l, "/oauth/token", form, &ans);
    json_t *tok = ans.status == 200 ? https_answer_json(&ans) : NULL;
    const char *access = json_string_value(json_object_get(tok, "access_token"));
    if (access && *access) {
        l->secret = g_strdup(access);
        *scope = g_strdup(json_string_value(json_object_get(tok, "scope")));
    } else {
        g_autofree char *why = ans.status == 200 ? g_strdup("the answer has no access_token")
                                                 : https_problem(&ans, code);
        if (ans.status == 0)
            login_error("could not hand in the code (%s); run heed login again. Nothing was written.", why);
        else
            login_error("%s refused the code (%s). A code works once and only for a few minutes: run heed login "
                        "again. Nothing was written.",
                        l->server, why);
    }
    login_wipe_answer(tok); /* the answer's token lives in jansson's string too */
    json_decref(tok);
    https_answer_clear(&ans);
    return l->secret != NULL;
}

/* What was granted: without read:notifications heed is blind; the rest is
 * worth a warning. No scope in the answer means the scope asked for (RFC
 * 6749 §5.1). */
static bool login_mastodon_scopes(const struct login *l, const char *scope)
{
    g_auto(GStrv) granted = g_strsplit_set(scope ? scope : l->drv->scopes, " +", -1);
    if (!login_has_scope(granted, "read:notifications")) {
        g_autofree char *shown = cli_clean(scope);
        login_error("%s granted only \"%s\", without read:notifications, which heed needs to see your mentions; "
                    "the token was given back and nothing was written",
                    l->server, shown);
        return false;
    }
    g_auto(GStrv) wanted = g_strsplit(l->drv->scopes, " ", -1);
    for (char **w = wanted; *w; w++)
        if (!login_has_scope(granted, *w))
            login_error("warning: %s was not granted; %s", *w,
                        strcmp(*w, "read:follows") == 0 ? "heed cannot tell who you follow"
                                                         : "some of heed's features will not work");
    for (char **g = granted; *g; g++)
        if (g_str_has_prefix(*g, "write") || strcmp(*g, "follow") == 0 || strcmp(*g, "push") == 0) {
            g_autofree char *shown = cli_clean(*g);
            login_error("warning: the token also carries \"%s\", which heed never uses", shown);
        }
    return true;
}

static bool login_mastodon(struct login *l)
{
    struct login_client c = { 0 };
    g_autofree char *verifier = NULL, *challenge = NULL, *scope = NULL;
    char *code = NULL;
    bool ok = false;
    if (!login_mastodon_register(l, &c))
        goto out;
    if (!login_pkce(&verifier, &challenge)) {
        login_error("cannot get random bytes for the sign-in (%s)", g_strerror(errno));
        goto out;
    }
    code = login_mastodon_authorize(l, &c, challenge);
    if (!code || !login_mastodon_exchange(l, &c, code, verifier, &scope))
        goto out;
    /* 4. Prove the token, and give it back when heed will not keep it. */
    ok = login_mastodon_scopes(l, scope) && login_prove(l);
    if (!ok) {
        login_mastodon_revoke(l, &c, l->secret);
        goto out;
    }
    char *who = l->who;
    l->who = g_strdup_printf("%s on %s", who ? who : "?", l->allowed_host);
    g_free(who);
out:
    secret_free(code);
    login_client_clear(&c);
    return ok;
}

const struct login_flow login_flow_mastodon = {
    .kind = NET_LOGIN_OAUTH_PKCE,
    .obtain = login_mastodon,
};
