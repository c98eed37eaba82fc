/* SPDX-License-Identifier: MIT */
/* login-token: a token the user makes on the network's web site
 * (NET_LOGIN_TOKEN: GitHub, X). The driver's secret_help says where and
 * with which scopes; the token is then proven with the driver's identity
 * request. */
#include "login.h"

#include "secret.h"

static bool login_token_plausible(const char *t)
{
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

static bool login_token(struct login *l)
{
    login_print_help(l);
    char *tok = login_ask(l, "Token: ", true);
    if (!tok)
        return false;
    if (!login_token_plausible(tok)) {
        login_error("that is not a token (it has spaces or unusual characters); nothing was sent");
        secret_free(tok);
        return false;
    }
    l->secret = tok;
    return login_prove(l);
}

const struct login_flow login_flow_token = {
    .kind = NET_LOGIN_TOKEN,
    .obtain = login_token,
};
