/* SPDX-License-Identifier: MIT */
/* login: see login.h. This file is the order of a login and the steps
 * every network shares.
 *
 * The order is the promise: (1) everything that can be checked without the
 * network (the server is https, the name is free, the CA file is readable,
 * secret-tool is there if asked for) is checked before the first request;
 * (2) the plan - what will be written where - is shown before the secret is
 * asked for; (3) the secret is obtained the network's way (its login kind's
 * flow) and proven with the network's identity request; (4) only then is
 * anything written, the secret first and the config last, so an account
 * never points at a secret that is not there.
 */
#include "login.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "format.h"
#include "https.h"
#include "secret.h"
#include "url.h"

#define LOGIN_MAX_NAME 64

static const struct login_flow *const login_flows[] = {
    &login_flow_mastodon,
    &login_flow_bluesky,
    &login_flow_token,
    &login_flow_x,
};

char *login_network_list(const char *last_sep)
{
    GPtrArray *names = g_ptr_array_new();
    for (const struct net_driver *const *d = net_drivers(); *d; d++)
        if ((*d)->login != NET_LOGIN_NONE)
            g_ptr_array_add(names, (gpointer)(*d)->name);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < names->len; i++)
        g_string_append_printf(s, "%s%s", i == 0 ? "" : i + 1 == names->len ? last_sep : ", ",
                               (const char *)g_ptr_array_index(names, i));
    g_ptr_array_free(names, TRUE);
    return g_string_free(s, FALSE);
}

/* Tokens the identity check left in the state live in jansson's strings. */
static void login_wipe_json(json_t *v)
{
    const char *k;
    json_t *m;
    size_t i;
    if (json_is_string(v))
        explicit_bzero((char *)json_string_value(v), json_string_length(v));
    else if (json_is_object(v))
        json_object_foreach(v, k, m) login_wipe_json(m);
    else if (json_is_array(v))
        json_array_foreach(v, i, m) login_wipe_json(m);
}

static void login_free(struct login *l)
{
    g_free(l->server);
    g_free(l->allowed_host);
    g_free(l->name);
    g_free(l->group);
    g_free(l->ca_file);
    g_free(l->config_path);
    g_free(l->token_path);
    g_free(l->secret_tool);
    conffile_free(l->cf);
    secret_free(l->secret);
    g_free(l->identifier);
    g_free(l->client_id);
    g_free(l->who);
    login_wipe_json(l->state);
    json_decref(l->state);
}

/* "mastodon.social", "https://mastodon.social/" or "https://host:8443/api"
 * into an https base URL; http:// and anything else are refused with one
 * line. A path is allowed only where an API lives under one (GitHub
 * Enterprise's /api/v3), never for a Mastodon instance. */
static bool login_parse_server(struct login *l, const char *input, bool path_ok)
{
    g_autofree char *q = cli_clean(input);
    if (g_ascii_strncasecmp(input, "http://", 7) == 0) {
        login_error("refusing %s: heed talks to servers only over https (https://%s)", q, q + 7);
        return false;
    }
    g_autofree char *full = strstr(input, "://") ? g_strdup(input) : g_strconcat("https://", input, NULL);
    if (g_ascii_strncasecmp(full, "https://", 8) != 0) {
        login_error("refusing %s: expected an https:// address", q);
        return false;
    }
    for (const char *p = full; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '%' || *p == '\\') {
            login_error("%s is not a server address: it contains spaces, control characters, non-ASCII or %%-escapes",
                        q);
            return false;
        }
    GUri *uri = g_uri_parse(full, G_URI_FLAGS_NONE, NULL);
    const char *problem = NULL;
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    const char *path = uri ? g_uri_get_path(uri) : "";
    if (!uri)
        problem = "is not a valid address";
    else if (!host || !*host || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                                    strlen(host) || host[0] == '.' || host[0] == '-')
        problem = "has no valid host name";
    else if (g_uri_get_userinfo(uri))
        problem = "has a user name or password in it";
    else if (g_uri_get_query(uri) || g_uri_get_fragment(uri))
        problem = "has a query or fragment";
    else if (!path_ok && *path && strcmp(path, "/") != 0)
        problem = "has a path; expected just the host, e.g. example.social";
    if (problem) {
        login_error("%s %s", q, problem);
        if (uri)
            g_uri_unref(uri);
        return false;
    }
    g_autofree char *lower = g_ascii_strdown(host, -1);
    int port = g_uri_get_port(uri);
    GString *base = g_string_new("https://");
    g_string_append(base, lower);
    if (port > 0 && port != 443)
        g_string_append_printf(base, ":%d", port);
    g_string_append(base, path);
    while (base->len > 8 && base->str[base->len - 1] == '/')
        g_string_truncate(base, base->len - 1);
    l->server = g_string_free(base, FALSE);
    l->allowed_host = port > 0 && port != 443 ? g_strdup_printf("%s:%d", lower, port) : g_strdup(lower);
    g_uri_unref(uri);
    return true;
}

/* Account names become a group name, a file name and a word of a
 * token_command, so they keep to characters that are safe in all three. */
static bool login_name_char(char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
}

static bool login_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > LOGIN_MAX_NAME || name[0] == '.' || name[0] == '-')
        return false;
    for (const char *p = name; *p; p++)
        if (!login_name_char(*p))
            return false;
    return true;
}

/* The instance's host, the handle, or the network's name. */
static char *login_default_name(struct login *l)
{
    const char *base = l->drv->server_required ? l->allowed_host : l->identifier ? l->identifier : l->drv->name;
    GString *s = g_string_new(NULL);
    for (const char *p = base; *p && s->len < LOGIN_MAX_NAME; p++) {
        if (*p == ':' && l->drv->server_required)
            break; /* the port is not part of the name */
        g_string_append_c(s, login_name_char(*p) ? g_ascii_tolower(*p) : '-');
    }
    while (s->len > 0 && (s->str[0] == '.' || s->str[0] == '-'))
        g_string_erase(s, 0, 1);
    return g_string_free(s, FALSE);
}


/* Where the account is: the instance named (server_required), else --server
 * or the network's default. */
static bool login_prepare_server(struct login *l)
{
    const struct cli_args *a = l->a;
    if (l->drv->server_required) {
        if (!login_parse_server(l, a->target, false))
            return false;
        l->server_explicit = true;
        return true;
    }
    const char *def = l->drv->default_server;
    if (!login_parse_server(l, a->server ? a->server : def, true))
        return false;
    l->server_explicit = g_strcmp0(l->server, def) != 0;
    return true;
}

/* Who the account is, for networks that sign in with an identifier. */
static bool login_prepare_identifier(struct login *l)
{
    const char *t = l->a->target;
    if (!l->drv->identifier_hint)
        return true;
    const char *h = t[0] == '@' ? t + 1 : t;
    bool ok = *h != '\0';
    for (const char *p = h; *p; p++)
        if (!(g_ascii_isalnum(*p) || *p == '.' || *p == '-' || *p == ':' || *p == '_'))
            ok = false;
    if (!ok) {
        g_autofree char *q = cli_clean(t);
        login_error("\"%s\" is not a %s %s; expected %s", q, l->drv->title, l->drv->login_target,
                    l->drv->identifier_hint);
        return false;
    }
    l->identifier = g_ascii_strdown(h, -1);
    return true;
}

static bool login_prepare_name(struct login *l)
{
    if (l->a->name) {
        if (!login_name_ok(l->a->name)) {
            g_autofree char *q = cli_clean(l->a->name);
            login_error("--name \"%s\" cannot be an account name; expected up to %d letters, digits, '.', '_', "
                        "'-', '@' or '+', not starting with '.' or '-'",
                        q, LOGIN_MAX_NAME);
            return false;
        }
        l->name = g_strdup(l->a->name);
    } else {
        l->name = login_default_name(l);
        if (!login_name_ok(l->name)) {
            login_error("cannot make an account name from that; choose one with --name NAME");
            return false;
        }
    }
    l->group = g_strdup_printf("account %s", l->name);
    return true;
}

static bool login_prepare_ca_file(struct login *l)
{
    if (!l->a->ca_file)
        return true;
    l->ca_file = g_canonicalize_filename(l->a->ca_file, NULL);
    struct stat st;
    if (stat(l->ca_file, &st) != 0 || !S_ISREG(st.st_mode) || access(l->ca_file, R_OK) != 0) {
        g_autofree char *q = cli_clean(l->ca_file);
        login_error("--ca-file %s cannot be read; expected a readable PEM file", q);
        return false;
    }
    return true;
}

/* heed.conf, the token file's place and the keyring. */
static bool login_prepare_files(struct login *l)
{
    const struct cli_args *a = l->a;
    l->config_path = config_default_path();
    GError *err = NULL;
    l->cf = conffile_load(l->config_path, &err);
    if (!l->cf) {
        login_error("%s", err->message);
        g_error_free(err);
        return false;
    }
    if (conffile_has_group(l->cf, l->group) && !a->force) {
        login_error("%s already has [%s]; choose another name with --name NAME, or replace it with --force",
                    l->config_path, l->group);
        return false;
    }
    g_autofree char *dir = g_path_get_dirname(l->config_path);
    g_autofree char *file = g_strconcat(l->name, ".token", NULL);
    l->token_path = g_build_filename(dir, file, NULL);

    l->secret_tool = g_find_program_in_path("secret-tool");
    if (a->keyring && !l->secret_tool) {
        login_error("--keyring needs secret-tool (Debian: apt install libsecret-tools); or leave --keyring out to "
                    "use a token file");
        return false;
    }
    struct stat st;
    if (!a->keyring && lstat(l->token_path, &st) == 0 && !a->force) {
        login_error("%s already exists; use --force to replace it, or --name NAME for another account",
                    l->token_path);
        return false;
    }
    return true;
}

/* Step 1: everything that needs no network. */
static bool login_prepare(struct login *l)
{
    return login_prepare_server(l) && login_prepare_identifier(l) && login_prepare_name(l) &&
           login_prepare_ca_file(l) && login_prepare_files(l);
}

const char *login_secret_word(const struct login *l)
{
    return l->drv->secret_word ? l->drv->secret_word : "secret";
}

/* Step 2: what will be written where, before anything is asked. */
static void login_show_plan(const struct login *l)
{
    printf("heed login: %s account \"%s\" on %s\n", l->drv->name, l->name, l->server);
    bool oauth = l->drv->login == NET_LOGIN_OAUTH_PKCE || l->drv->login == NET_LOGIN_OAUTH_APP;
    printf("Once the %s works, heed writes:\n", oauth ? "sign-in" : "secret");
    if (l->a->keyring)
        printf("  - the %s to the desktop keyring (secret-tool: service heed account %s)\n", login_secret_word(l),
               l->name);
    else
        printf("  - the %s to %s (mode 0600)%s\n", login_secret_word(l), l->token_path,
               l->secret_tool && l->interactive ? ", or to the desktop keyring if you choose" : "");
    printf("  - [%s] to %s (%s)\n", l->group, l->config_path,
           conffile_has_group(l->cf, l->group) ? "replacing its sign-in keys; other keys and comments stay"
                                               : "comments and other groups stay as they are");
    printf("\n");
}

/* The network's web site: its own (github.com, bsky.app), or the server's
 * when a server of one's own serves the pages too (GitHub Enterprise). */
char *login_web_base(const struct login *l)
{
    if (l->drv->web_host && !(l->server_explicit && l->drv->web_follows_server))
        return g_strdup_printf("https://%s", l->drv->web_host);
    return g_strdup_printf("https://%s", l->allowed_host);
}

void login_print_help(const struct login *l)
{
    if (!l->drv->secret_help)
        return;
    g_autofree char *web = login_web_base(l);
    g_auto(GStrv) parts = g_strsplit(l->drv->secret_help, "{web}", -1);
    g_autofree char *with_web = g_strjoinv(web, parts);
    g_auto(GStrv) parts2 = g_strsplit(with_web, "{redirect}", -1);
    g_autofree char *text = g_strjoinv(l->drv->oauth_redirect ? l->drv->oauth_redirect : "", parts2);
    fputs(text, stdout);
}

/* A session the identity check opened is ended at once: heedd signs in
 * itself, and a login leaves nothing open behind it. */
static void login_end_session(struct login *l, const struct net_account *acct)
{
    struct wire_request *req = l->drv->session_end ? l->drv->session_end(acct, l->state) : NULL;
    if (!req)
        return;
    struct https_answer ans;
    https_send(req, l->ca_file, &ans);
    if (ans.status < 200 || ans.status > 299) {
        g_autofree char *why = https_problem(&ans, l->secret);
        login_error("warning: could not end the session the check opened (%s); it expires by itself", why);
    }
    https_answer_clear(&ans);
    wire_request_free(req);
}

/* What login_prove checks: the secret, or what the flow says it proves. */
static const char *login_proof_word(const struct login *l)
{
    return l->proving ? l->proving : login_secret_word(l);
}

static void login_refused(const struct login *l, const struct https_answer *ans, const struct net_identity *id)
{
    g_autofree char *why = https_problem(ans, l->secret);
    const char *sep = id->hint ? "; " : "";
    const char *hint = id->hint ? id->hint : "";
    if (ans->status == 0)
        login_error("could not check the %s (%s); nothing was written", login_proof_word(l), why);
    else if (id->error)
        login_error("%s: %s%s%s; nothing was written", l->server, id->error, sep, hint);
    else
        login_error("%s refused the %s (%s)%s%s; nothing was written", l->server, login_proof_word(l), why, sep,
                    hint);
}

bool login_prove(struct login *l)
{
    struct net_account acct = {
        .name = l->name,
        .network = l->drv->name,
        .server = l->server,
        .identifier = l->identifier,
        .secret = l->secret,
        .now = g_get_real_time() / G_USEC_PER_SEC,
    };
    if (!l->state)
        l->state = json_object();
    struct https_answer ans;
    struct net_identity id;
    g_autofree char *error = NULL;
    if (!https_identity(l->drv, &acct, l->state, true, l->ca_file, &ans, &id, &error)) {
        login_error("cannot check the %s: %s; nothing was written", login_proof_word(l),
                    error ? error : "it needs a sign-in");
        return false;
    }
    login_end_session(l, &acct);
    bool ok = id.outcome == NET_OK;
    if (ok)
        l->who = id.handle ? cli_clean(id.handle) : NULL;
    else
        login_refused(l, &ans, &id);
    https_answer_clear(&ans);
    net_identity_clear(&id);
    return ok;
}

static bool login_heedd_running(void)
{
    g_autofree char *path = control_default_path(NULL);
    if (!path)
        return false;
    json_t *res = control_call(path, "status", NULL, 3000, NULL);
    json_decref(res);
    return res != NULL;
}

static void login_show_result(const struct login *l)
{
    printf("\nSigned in: %s.\nWrote:\n", l->who ? l->who : l->name);
    if (l->keyring)
        printf("  - the %s to the desktop keyring (service heed account %s)\n", login_secret_word(l), l->name);
    else
        printf("  - the %s to %s (mode 0600)\n", login_secret_word(l), l->token_path);
    printf("  - [%s] to %s\n", l->group, l->config_path);

    /* What heed will make of it: the same check heedd does at start. */
    GError *err = NULL;
    struct config *cfg = config_load(l->config_path, true, &err);
    if (!cfg) {
        login_error("warning: heed.conf does not load now: %s", err->message);
        g_error_free(err);
    } else {
        for (guint i = 0; i < cfg->problems->len; i++) {
            g_autofree char *p = cli_clean(g_ptr_array_index(cfg->problems, i));
            login_error("warning: %s", p);
        }
        config_free(cfg);
    }
    if (login_heedd_running())
        printf("\nheedd is running; make it read the new account with:\n  systemctl --user reload heed\n"
               "(or heed reload when heedd was not started by systemd)\n");
    else
        printf("\nNext, start heed and have it start with your session:\n  systemctl --user enable --now heed\n"
               "(see README: Run it as a service; heed doctor checks the whole set-up)\n");
}


int login_main(const struct cli_args *a)
{
    struct login l = { 0 };
    l.a = a;
    l.drv = net_driver_find(a->network);
    l.interactive = isatty(STDIN_FILENO) == 1;
    const struct login_flow *flow = NULL;
    for (size_t i = 0; l.drv && i < G_N_ELEMENTS(login_flows); i++)
        if (login_flows[i]->kind == l.drv->login)
            flow = login_flows[i];
    int rc = CLI_EXIT_ERROR;
    if (!flow) {
        login_error("heed cannot sign in to %s", a->network);
        goto out;
    }
    if (!login_prepare(&l))
        goto out;
    login_show_plan(&l);
    fflush(stdout);
    if (!flow->obtain(&l))
        goto out;

    l.keyring = a->keyring;
    if (!l.keyring && l.secret_tool && l.interactive)
        l.keyring = login_ask_yes("Keep it in your desktop keyring instead of a file? [y/N] ");
    if (!login_write(&l))
        goto out;
    login_show_result(&l);
    rc = CLI_EXIT_OK;
out:
    login_free(&l);
    return rc;
}
