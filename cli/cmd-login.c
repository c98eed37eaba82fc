/* SPDX-License-Identifier: MIT */
/* cmd-login: heed login NETWORK [TARGET] (login.c does the signing in).
 * Its help is made from the drivers, so a new network shows up in it. */
#include <glib.h>
#include <string.h>

#include "args.h"
#include "cmd.h"
#include "format.h"
#include "login.h"

static int cmd_login_exec(const struct cmd_ctx *c)
{
    return login_main(c->a);
}

/* "GitHub, X" for the networks of one kind of login. */
static char *cmd_login_titles(enum net_login kind)
{
    GString *s = g_string_new(NULL);
    for (const struct net_driver *const *d = net_drivers(); *d; d++)
        if ((*d)->login == kind)
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", (*d)->title);
    return g_string_free(s, FALSE);
}

/* What each kind of login does, for the networks that use it. */
static void cmd_login_kinds(GString *s)
{
    static const struct {
        enum net_login kind;
        const char *does;
    } kinds[] = {
        { NET_LOGIN_OAUTH_PKCE, "registers heed on the instance with read-only scopes, opens the authorisation "
                                "page ($BROWSER or the desktop's browser; the address is printed too) and asks "
                                "for the code it shows." },
        { NET_LOGIN_APP_PASSWORD, "asks for an app password (never your main password)." },
        { NET_LOGIN_TOKEN, "says which token to create and asks for it." },
        { NET_LOGIN_OAUTH_APP, "asks for the client id of your own developer app, opens the "
                               "authorisation page and asks for the code, or the whole address the browser was "
                               "sent to; heed keeps the refresh token, and heedd renews its access tokens." },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        g_autofree char *titles = cmd_login_titles(kinds[i].kind);
        if (*titles)
            g_string_append_printf(s, " %s: %s", titles, kinds[i].does);
    }
}

static char *cmd_login_usage(void)
{
    GString *s = g_string_new(NULL);
    for (const struct net_driver *const *d = net_drivers(); *d; d++) {
        if ((*d)->login == NET_LOGIN_NONE)
            continue;
        g_autofree char *target = (*d)->login_target ? g_ascii_strup((*d)->login_target, -1) : NULL;
        g_string_append_printf(s, "%s heed login %s%s%s [OPTIONS]\n", s->len ? "      " : "usage:", (*d)->name,
                               target ? " " : "", target ? target : "");
    }
    GString *prose = g_string_new("Add an account to heed.conf.");
    cmd_login_kinds(prose);
    g_string_append(prose, " Every secret is checked with one request before anything is written, read without "
                           "echo on a terminal, or as one line from standard input when that is not a terminal, "
                           "and never printed. It goes to $XDG_CONFIG_HOME/heed/NAME.token (mode 0600) or, with "
                           "secret-tool, to the desktop keyring. A login never writes heedd's state database.");
    g_autofree char *wrapped = cli_wrap(prose->str, 72);
    g_string_free(prose, TRUE);
    g_string_append_printf(s, "\n%s\n\n", wrapped);
    g_string_append(s, "  --name NAME      the account's name (default: the instance's host,\n"
                       "                   the handle, or the network's name)\n"
                       "  --server URL     another API server (a Bluesky PDS, GitHub Enterprise)\n"
                       "  --ca-file FILE   trust this PEM CA bundle (a server behind a private CA)\n"
                       "  --force          replace an account of the same name\n"
                       "  --keyring        keep the secret in the desktop keyring (secret-tool)\n"
                       "  --no-browser     print the authorisation page's address, do not open it\n"
                       "  --client-id ID   the OAuth 2.0 client id of your X app (else asked for)\n");
    return g_string_free(s, FALSE);
}

const struct cmd_entry cmd_login_entry = {
    .name = "login",
    .args = "NETWORK [TARGET]",
    .summary = "add an account: {networks}",
    .flags = CMD_F_LOGIN,
    .make_usage = cmd_login_usage,
    .exec = cmd_login_exec,
};
