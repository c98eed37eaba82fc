/* SPDX-License-Identifier: MIT */
/* login-x: the OAuth 2.0 sign-in through the user's own app
 * (NET_LOGIN_OAUTH_APP), X's way.
 *
 * X lets no program register itself: the user makes an app in the
 * developer portal (a public "Native App" client with the driver's
 * oauth_redirect as its callback) and gives heed its client id. The user
 * approves heed in the browser; X then sends the browser to the callback
 * address with the code in its query. Nothing listens there, so the user
 * pastes that address (or the code alone) back, and the code is exchanged
 * with PKCE (S256) for an access token and, thanks to offline.access, a
 * refresh token. The access token is proven like any secret (login_prove:
 * GET /2/users/me); the refresh token is what is kept, with client_id in
 * the account's group: heedd renews its access tokens with them. A refresh
 * token heed will not keep is given back (POST /2/oauth2/revoke).
 */
#include "login.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "https.h"
#include "secret.h"

#define LOGIN_X_MAX_CLIENT_ID 256

/* What the token endpoint gave. */
struct login_x_tokens {
    char *access;  /* wiped */
    char *refresh; /* wiped */
    char *scope;
};

static void login_x_tokens_clear(struct login_x_tokens *t)
{
    secret_free(t->access);
    secret_free(t->refresh);
    g_free(t->scope);
    memset(t, 0, sizeof *t);
}

/* Printable ASCII without spaces: it goes into a form body and heed.conf. */
static bool login_x_word_ok(const char *s, size_t max)
{
    if (!*s || strlen(s) > max)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

/* 1. The client id: --client-id, or asked for after saying how to get one. */
static bool login_x_client_id(struct login *l)
{
    login_print_help(l);
    fflush(stdout);
    char *id = l->a->client_id ? g_strdup(l->a->client_id) : login_ask(l, "Client ID: ", false);
    if (!id)
        return false;
    if (!login_x_word_ok(id, LOGIN_X_MAX_CLIENT_ID)) {
        g_autofree char *q = cli_clean(id);
        login_error("\"%s\" is not a client id (it has spaces or unusual characters); copy the OAuth 2.0 Client "
                    "ID from your app's Keys and tokens. Nothing was sent.",
                    q);
        g_free(id);
        return false;
    }
    l->client_id = id;
    return true;
}

/* 2. The user approves heed in the browser; what they paste back. */
static char *login_x_authorize(const struct login *l, const char *challenge, const char *state)
{
    const struct net_driver *d = l->drv;
    GString *q = g_string_new(NULL);
    login_form_add(q, "response_type", "code");
    login_form_add(q, "client_id", l->client_id);
    login_form_add(q, "redirect_uri", d->oauth_redirect);
    login_form_add(q, "scope", d->scopes);
    login_form_add(q, "state", state);
    login_form_add(q, "code_challenge", challenge);
    login_form_add(q, "code_challenge_method", "S256");
    g_autofree char *web = login_web_base(l);
    g_autofree char *authorize = g_strdup_printf("%s%s?%s", web, d->oauth_authorize, q->str);
    g_string_free(q, TRUE);
    printf("Open this page, sign in to %s if asked, and authorise heed (it asks only to read):\n\n  %s\n\n"
           "%s then sends your browser to %s?state=...&code=...\n"
           "Nothing answers there, so the browser shows an error page: copy the whole address\n"
           "from its address bar and paste it here (or only the code in it).\n",
           d->title, authorize, d->title, d->oauth_redirect);
    fflush(stdout);
    if (!l->a->no_browser) {
        g_autofree char *host = g_strdup(web + strlen("https://"));
        login_open_browser(authorize, host);
    }
    return login_ask(l, "Address or code: ", false);
}

/* The code in what was pasted: the callback address (its state must be
 * this sign-in's) or the code alone. NULL after saying why. */
static char *login_x_code(const struct login *l, const char *pasted, const char *state)
{
    const char *query = strchr(pasted, '?');
    bool address = query || strstr(pasted, "code=") || strstr(pasted, "error=");
    if (!address) {
        if (!login_x_word_ok(pasted, LOGIN_MAX_SECRET)) {
            login_error("that is neither the address the browser was sent to nor a code; nothing was written");
            return NULL;
        }
        return g_strdup(pasted);
    }
    g_autofree char *params = g_strdup(query ? query + 1 : pasted);
    char *hash = strchr(params, '#');
    if (hash)
        *hash = '\0';
    GHashTable *p = g_uri_parse_params(params, -1, "&", G_URI_PARAMS_NONE, NULL);
    explicit_bzero(params, strlen(params));
    if (!p) {
        login_error("cannot read the address that was pasted; paste it whole, or only the code. Nothing was "
                    "written.");
        return NULL;
    }
    const char *error = g_hash_table_lookup(p, "error");
    const char *code = g_hash_table_lookup(p, "code");
    const char *got_state = g_hash_table_lookup(p, "state");
    char *out = NULL;
    if (error) {
        g_autofree char *e = cli_clean(error);
        const char *desc = g_hash_table_lookup(p, "error_description");
        g_autofree char *dq = desc ? cli_clean(desc) : NULL;
        login_error("%s did not authorise heed (%s%s%s); nothing was written", l->drv->title, e, dq ? ": " : "",
                    dq ? dq : "");
    } else if (!code || !login_x_word_ok(code, LOGIN_MAX_SECRET)) {
        login_error("the address that was pasted has no code in it; nothing was written");
    } else if (g_strcmp0(got_state, state) != 0) {
        login_error("that address is not from this sign-in (its state does not match); run heed login again. "
                    "Nothing was written.");
    } else {
        out = g_strdup(code);
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, p);
    while (g_hash_table_iter_next(&it, &k, &v))
        explicit_bzero(v, strlen(v));
    g_hash_table_unref(p);
    return out;
}

/* 3. The code for tokens. */
static bool login_x_exchange(const struct login *l, const char *code, const char *verifier,
                             struct login_x_tokens *t)
{
    GString *form = g_string_new(NULL);
    login_form_add(form, "grant_type", "authorization_code");
    login_form_add(form, "code", code);
    login_form_add(form, "redirect_uri", l->drv->oauth_redirect);
    login_form_add(form, "code_verifier", verifier);
    login_form_add(form, "client_id", l->client_id);
    struct https_answer ans;
    login_form_post(l, l->drv->oauth_token, form, &ans);
    json_t *tok = ans.status == 200 ? https_answer_json(&ans) : NULL;
    const char *access = json_string_value(json_object_get(tok, "access_token"));
    const char *refresh = json_string_value(json_object_get(tok, "refresh_token"));
    bool ok = false;
    if (ans.status == 0) {
        g_autofree char *why = https_problem(&ans, code);
        login_error("could not hand in the code (%s); run heed login again. Nothing was written.", why);
    } else if (ans.status != 200) {
        g_autofree char *why = https_problem(&ans, code);
        login_error("%s refused the code (%s). A code works once and only for a few minutes, and client_id and the "
                    "callback address must be the app's: run heed login again. Nothing was written.",
                    l->server, why);
    } else if (!access || !login_x_word_ok(access, LOGIN_MAX_SECRET)) {
        login_error("%s gave no usable access token; nothing was written", l->server);
    } else if (!refresh || !login_x_word_ok(refresh, LOGIN_MAX_SECRET)) {
        login_error("%s gave no refresh token, so heedd could not renew the 2-hour access token; the app must "
                    "allow offline.access. Nothing was written.",
                    l->server);
    } else {
        t->access = g_strdup(access);
        t->refresh = g_strdup(refresh);
        t->scope = g_strdup(json_string_value(json_object_get(tok, "scope")));
        ok = true;
    }
    login_wipe_answer(tok);
    json_decref(tok);
    https_answer_clear(&ans);
    return ok;
}

/* What was granted: no scope in the answer means the scope asked for. */
static bool login_x_scopes(const struct login *l, const char *scope)
{
    g_auto(GStrv) granted = g_strsplit(scope ? scope : l->drv->scopes, " ", -1);
    g_auto(GStrv) wanted = g_strsplit(l->drv->scopes, " ", -1);
    for (char **w = wanted; *w; w++) {
        if (g_strv_contains((const char *const *)granted, *w))
            continue;
        g_autofree char *shown = cli_clean(scope);
        login_error("%s granted only \"%s\", without %s, which heed needs; the token was given back and nothing "
                    "was written",
                    l->drv->title, shown, *w);
        return false;
    }
    return true;
}

/* Best effort: a refresh token heed will not keep is given back. */
static void login_x_revoke(const struct login *l, const char *token)
{
    if (!token || !l->drv->oauth_revoke)
        return;
    GString *form = g_string_new(NULL);
    login_form_add(form, "token", token);
    login_form_add(form, "token_type_hint", "refresh_token");
    login_form_add(form, "client_id", l->client_id);
    struct https_answer ans;
    login_form_post(l, l->drv->oauth_revoke, form, &ans);
    https_answer_clear(&ans);
}

static bool login_x(struct login *l)
{
    g_autofree char *verifier = NULL, *challenge = NULL, *state = NULL;
    char *pasted = NULL, *code = NULL;
    struct login_x_tokens t = { 0 };
    bool ok = false;
    if (!login_x_client_id(l))
        goto out;
    state = login_random();
    if (!state || !login_pkce(&verifier, &challenge)) {
        login_error("cannot get random bytes for the sign-in (%s)", g_strerror(errno));
        goto out;
    }
    pasted = login_x_authorize(l, challenge, state);
    if (!pasted || !(code = login_x_code(l, pasted, state)))
        goto out;
    if (!login_x_exchange(l, code, verifier, &t)) {
        login_x_revoke(l, t.refresh);
        goto out;
    }
    if (!login_x_scopes(l, t.scope)) {
        login_x_revoke(l, t.refresh);
        goto out;
    }
    /* 4. Prove the access token; keep the refresh token. */
    l->secret = g_steal_pointer(&t.access);
    l->proving = "access token";
    ok = login_prove(l);
    l->proving = NULL;
    secret_free(l->secret);
    l->secret = NULL;
    if (!ok) {
        login_x_revoke(l, t.refresh);
        goto out;
    }
    l->secret = g_steal_pointer(&t.refresh);
out:
    secret_free(pasted);
    secret_free(code);
    if (verifier)
        explicit_bzero(verifier, strlen(verifier));
    login_x_tokens_clear(&t);
    return ok;
}

const struct login_flow login_flow_x = {
    .kind = NET_LOGIN_OAUTH_APP,
    .obtain = login_x,
};
