/* SPDX-License-Identifier: MIT */
/* login-bluesky: the app-password sign-in (NET_LOGIN_APP_PASSWORD).
 *
 * heed never signs in with the account's main password: what is typed must
 * look like an app password before anything is sent, and the proof
 * (createSession) refuses a session the server marks as a main-password
 * one. The session the proof opened is ended again (deleteSession) by
 * login_prove, so heed login keeps nothing but the app password; heedd
 * signs in with it when it next polls.
 */
#include "login.h"

#include <stdio.h>
#include <string.h>

#include "format.h"
#include "secret.h"

static bool login_app_password_shaped(const char *s)
{
    /* xxxx-xxxx-xxxx-xxxx (network-apis.md §2.1). */
    if (strlen(s) != 19)
        return false;
    for (int i = 0; i < 19; i++)
        if (i % 5 == 4 ? s[i] != '-' : !g_ascii_isalnum(s[i]))
            return false;
    return true;
}

static bool login_bluesky(struct login *l)
{
    login_print_help(l);
    g_autofree char *prompt = g_strdup_printf("App password for %s: ", l->identifier);
    char *pw = login_ask(l, prompt, true);
    if (!pw)
        return false;
    if (!login_app_password_shaped(pw)) {
        login_error("that is not an app password (they look like xxxx-xxxx-xxxx-xxxx); heed does not sign in with "
                    "your main password. Nothing was sent.");
        secret_free(pw);
        return false;
    }
    l->secret = pw;
    if (!login_prove(l))
        return false;
    /* "@alice.bsky.social (did:plc:...)": the DID is who it is for good. */
    const char *did = json_string_value(json_object_get(l->state, "did"));
    if (did) {
        g_autofree char *d = cli_clean(did);
        char *who = g_strdup_printf("%s (%s)", l->who ? l->who : l->identifier, d);
        g_free(l->who);
        l->who = who;
    }
    return true;
}

const struct login_flow login_flow_bluesky = {
    .kind = NET_LOGIN_APP_PASSWORD,
    .obtain = login_bluesky,
};
