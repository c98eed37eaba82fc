/* SPDX-License-Identifier: MIT */
/* config-account: the [account NAME] groups of heed.conf (config.h).
 * Each collects all of its problems before deciding, so one run shows the
 * user everything wrong with an account; what each network needs comes
 * from its driver's descriptor (net/net.h). */
#include "config-int.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"

/* ---- [account NAME] ---------------------------------------------------- */

/* "mastodon, bluesky, github, x or demo": every network heed knows, from
 * the drivers' table (g_free it). */
static char *config_network_list(void)
{
    const struct net_driver *const *d = net_drivers();
    GString *s = g_string_new(NULL);
    for (size_t i = 0; d[i]; i++)
        g_string_append_printf(s, "%s%s", i == 0 ? "" : d[i + 1] ? ", " : " or ", d[i]->name);
    return g_string_free(s, FALSE);
}

/* "github" for reasons: the networks whose accounts read key (g_free it). */
static char *config_key_networks(const char *key)
{
    GString *s = g_string_new(NULL);
    for (const struct net_driver *const *d = net_drivers(); *d; d++)
        if ((*d)->account_keys && g_strv_contains((const char *const *)(*d)->account_keys, key))
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", (*d)->name);
    return g_string_free(s, FALSE);
}

/* A key some networks read is a mistake in another's account: say so. */
static void config_check_network_key(const struct config_group *g, const struct net_driver *net, const char *key)
{
    if (!net || (net->account_keys && g_strv_contains((const char *const *)net->account_keys, key)))
        return;
    g_autofree char *where = config_key_networks(key);
    config_warn_at(g, key, "ignored for %s accounts; expected only in %s accounts", net->name, where);
}

static bool config_host_ok(const char *host)
{
    if (*host == '\0' || *host == '.' || *host == '-')
        return false;
    bool ipv6 = strchr(host, ':') != NULL;
    for (const char *p = host; *p; p++) {
        if (ipv6 ? !(g_ascii_isxdigit(*p) || *p == ':' || *p == '.')
                 : !(g_ascii_isalnum(*p) || *p == '.' || *p == '-'))
            return false;
    }
    return true;
}

/* An https base URL, returned without trailing '/'; NULL after reporting. */
static char *config_check_server(const struct config_group *g, const char *v)
{
    char *q = config_quote(v);
    char *out = NULL;
    GUri *uri = NULL;
    const char *problem = NULL;

    /* GUri happily accepts spaces and decodes %-escapes in the host, both
     * of which would make the URL we request differ from the one shown. */
    for (const char *p = v; *p && !problem; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '%')
            problem = "contains spaces, control characters, non-ASCII or %-escapes";
    if (!problem) {
        uri = g_uri_parse(v, G_URI_FLAGS_NONE, NULL);
        if (uri == NULL)
            problem = g_ascii_strncasecmp(v, "https://", 8) == 0 ? "is not a valid URL" : "is not an https URL";
        else if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") != 0)
            problem = "is not an https URL";
        else if (g_uri_get_host(uri) == NULL || !config_host_ok(g_uri_get_host(uri)))
            problem = "has no valid host name";
        else if (g_uri_get_userinfo(uri) != NULL)
            problem = "has a user name or password in it";
        else if (g_uri_get_query(uri) != NULL || g_uri_get_fragment(uri) != NULL)
            problem = "has a query or fragment";
    }
    if (problem) {
        config_error_at(g, "server", "%s %s; expected https://host", q, problem);
    } else {
        /* Rebuilt from its parts, so that every later comparison with the
         * server (same-origin checks, the network's default server) sees
         * one spelling: lower-case scheme and host, no :443. */
        g_autofree char *host = g_ascii_strdown(g_uri_get_host(uri), -1);
        int port = g_uri_get_port(uri);
        out = port > 0 && port != 443 ? g_strdup_printf("https://%s:%d%s", host, port, g_uri_get_path(uri))
                                      : g_strdup_printf("https://%s%s", host, g_uri_get_path(uri));
        size_t n = strlen(out);
        while (n > 0 && out[n - 1] == '/')
            out[--n] = '\0';
    }
    if (uri)
        g_uri_unref(uri);
    g_free(q);
    return out;
}

static char *config_server_host(const char *server)
{
    GUri *uri = g_uri_parse(server, G_URI_FLAGS_NONE, NULL);
    if (uri == NULL)
        return NULL;
    /* Links to a server on a non-standard port keep the port: url_check()
     * then demands exactly that port. */
    g_autofree char *lower = g_ascii_strdown(g_uri_get_host(uri), -1);
    int port = g_uri_get_port(uri);
    g_uri_unref(uri);
    if (port > 0 && port != 443)
        return g_strdup_printf("%s:%d", lower, port);
    return g_steal_pointer(&lower);
}

/* "~/x" is the home directory, anything else relative is next to the config
 * file: that is where a user editing the file would look for it. */
static char *config_resolve_path(const struct config_group *g, const char *key, const char *v)
{
    if (v[0] == '~' && v[1] == '/')
        return g_canonicalize_filename(v + 2, g_get_home_dir());
    if (v[0] == '~') {
        char *q = config_quote(v);
        config_error_at(g, key, "%s uses ~user, which is not expanded; expected an absolute path, ~/path or a path relative to the config file", q);
        g_free(q);
        return NULL;
    }
    char *dir = g_path_get_dirname(g->path);
    char *absdir = g_canonicalize_filename(dir, NULL);
    char *out = g_canonicalize_filename(v, absdir);
    g_free(absdir);
    g_free(dir);
    return out;
}

void config_free_account(struct config_account *a)
{
    g_free(a->name);
    g_free(a->network);
    g_free(a->server);
    g_free(a->web_host);
    g_free(a->identifier);
    g_free(a->client_id);
    g_free(a->token_file);
    g_strfreev(a->token_command);
    g_free(a->ca_file);
    g_strfreev(a->reasons);
    memset(a, 0, sizeof *a);
}

static void config_parse_account_secret(const struct config_group *g, const struct net_driver *net,
                                        struct config_account *a)
{
    char *file = config_get(g, "token_file", NULL);
    char *cmd = config_get(g, "token_command", NULL);
    bool has_file = file && *file;
    bool has_cmd = cmd && *cmd;

    if (net && !net->needs_secret) {
        if (has_file || has_cmd)
            config_warn_at(g, has_file ? "token_file" : "token_command", "ignored, %s accounts need no secret; expected no token settings",
                           net->name);
    } else if (has_file && has_cmd) {
        config_error_at(g, "token_command", "set together with token_file; expected exactly one of token_file and token_command");
    } else if (!has_file && !has_cmd) {
        if (net)
            config_error_at(g, "token_file", "missing; expected exactly one of token_file and token_command");
    } else if (has_file) {
        a->token_file = config_resolve_path(g, "token_file", file);
    } else {
        GError *err = NULL;
        if (!g_shell_parse_argv(cmd, NULL, &a->token_command, &err)) {
            /* GLib's message would repeat the command line, which may hold
             * a secret. */
            config_error_at(g, "token_command", "cannot be split into words (unbalanced quotes or a trailing backslash); expected a command like: secret-tool lookup service heed");
            g_error_free(err);
            a->token_command = NULL;
        }
    }
    g_free(file);
    g_free(cmd);
}

/* network = : a driver's name. NULL when it names none. */
static const struct net_driver *config_parse_account_network(const struct config_group *g, struct config_account *a)
{
    bool bad;
    const struct net_driver *net = NULL;
    g_autofree char *v = config_get(g, "network", &bad);
    g_autofree char *networks = config_network_list();
    if (v == NULL || *v == '\0') {
        if (!bad)
            config_error_at(g, "network", "missing; expected one of %s", networks);
    } else if ((net = net_driver_find(v)) == NULL) {
        char *q = config_quote(v);
        config_error_at(g, "network", "%s is not a known network; expected one of %s", q, networks);
        g_free(q);
    } else {
        a->network = g_strdup(net->name);
    }
    return net;
}

/* server = , else the network's default; web_host = , else the network's
 * web site, else the server's host. */
static void config_parse_account_server(const struct config_group *g, const struct net_driver *net,
                                        struct config_account *a)
{
    bool bad;
    g_autofree char *v = config_get(g, "server", &bad);
    if (v && *v) {
        a->server = config_check_server(g, v);
    } else if (net && net->server_required && !bad) {
        config_error_at(g, "server", "missing; expected the https:// address of your %s server", net->name);
    } else if (net && net->default_server) {
        a->server = g_strdup(net->default_server);
    }

    g_autofree char *w = config_get(g, "web_host", NULL);
    if (w && *w) {
        /* "host" or "host:port" (a server on a non-standard port). */
        g_autofree char *host = g_strdup(w);
        char *colon = strchr(host, ':');
        bool port_ok = true;
        if (colon) {
            *colon = '\0';
            char *end = NULL;
            long port = strtol(colon + 1, &end, 10);
            port_ok = colon[1] && !*end && port > 0 && port <= 65535;
        }
        if (config_host_ok(host) && port_ok) {
            a->web_host = g_ascii_strdown(w, -1);
        } else {
            char *q = config_quote(w);
            config_error_at(g, "web_host", "%s is not a host name; expected a host like example.social or host:port", q);
            g_free(q);
        }
    } else if (net && net->web_host &&
               (!net->web_follows_server || !a->server || g_strcmp0(a->server, net->default_server) == 0)) {
        /* The network's web site, unless the account talks to its own
         * server (GitHub Enterprise, a PDS of one's own): then that host. */
        a->web_host = g_strdup(net->web_host);
    } else if (a->server) {
        a->web_host = config_server_host(a->server);
    }
}

static void config_parse_account_ca_file(const struct config_group *g, struct config_account *a)
{
    g_autofree char *v = config_get(g, "ca_file", NULL);
    if (!v || !*v)
        return;
    char *path = config_resolve_path(g, "ca_file", v);
    if (!path)
        return;
    struct stat st;
    const char *why = NULL;
    if (stat(path, &st) != 0)
        why = g_strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (access(path, R_OK) != 0)
        why = g_strerror(errno);
    if (why) {
        char *q = config_quote(path);
        config_error_at(g, "ca_file", "%s cannot be read (%s); expected a readable PEM file", q, why);
        g_free(q);
        g_free(path);
    } else {
        a->ca_file = path;
    }
}

/* identifier = : the networks that sign in with one need it. */
static void config_parse_account_identifier(const struct config_group *g, const struct net_driver *net,
                                            struct config_account *a)
{
    bool bad;
    g_autofree char *v = config_get(g, "identifier", &bad);
    if (v && *v) {
        a->identifier = g_strdup(v);
        config_check_network_key(g, net, "identifier");
    } else if (net && net->identifier_hint && !bad) {
        config_error_at(g, "identifier", "missing; expected %s", net->identifier_hint);
    }
}

/* client_id = : an OAuth client of the user's own (x). It is sent in a
 * form body, so it keeps to printable ASCII without spaces. */
static void config_parse_account_client_id(const struct config_group *g, const struct net_driver *net,
                                           struct config_account *a)
{
    g_autofree char *v = config_get(g, "client_id", NULL);
    if (!v || !*v)
        return;
    bool ok = strlen(v) <= 256;
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            ok = false;
    if (!ok) {
        char *q = config_quote(v);
        config_error_at(g, "client_id", "%s is not a client id; expected the OAuth 2.0 Client ID of your app "
                        "(letters, digits and punctuation, no spaces)", q);
        g_free(q);
        return;
    }
    a->client_id = g_steal_pointer(&v);
    config_check_network_key(g, net, "client_id");
}

static void config_parse_account_reasons(const struct config_group *g, const struct net_driver *net,
                                         struct config_account *a)
{
    a->reasons = config_get_list(g, "reasons");
    for (char **r = a->reasons; r && *r; r++) {
        bool ok = true;
        for (const char *p = *r; *p; p++)
            if (!(g_ascii_islower(*p) || *p == '_'))
                ok = false;
        if (!ok) {
            char *q = config_quote(*r);
            config_error_at(g, "reasons", "%s is not a GitHub notification reason; expected names like mention; review_requested", q);
            g_free(q);
            break;
        }
    }
    if (a->reasons)
        config_check_network_key(g, net, "reasons");
}

static void config_parse_account_streaming(const struct config_group *g, struct config_account *a)
{
    g_autofree char *v = config_get(g, "streaming", NULL);
    if (v && *v) {
        if (strcmp(v, "auto") == 0)
            a->streaming = CONFIG_STREAM_AUTO;
        else if (strcmp(v, "on") == 0)
            a->streaming = CONFIG_STREAM_ON;
        else if (strcmp(v, "off") == 0)
            a->streaming = CONFIG_STREAM_OFF;
        else {
            char *q = config_quote(v);
            config_error_at(g, "streaming", "%s is not a streaming mode; expected auto, on or off", q);
            g_free(q);
        }
    }
    config_get_duration(g, "stream_timeout", 5, 3600, &a->stream_timeout);
}

void config_parse_account(const struct config_group *g, const char *name, struct config_account *a)
{
    a->name = g_strdup(name);
    a->catchup_max_pages = 10;
    a->participating = true;
    a->streaming = CONFIG_STREAM_AUTO;
    a->stream_timeout = 45;

    const struct net_driver *net = config_parse_account_network(g, a);
    config_parse_account_server(g, net, a);
    config_parse_account_identifier(g, net, a);
    config_parse_account_client_id(g, net, a);
    config_parse_account_secret(g, net, a);
    config_parse_account_ca_file(g, a);
    config_get_duration(g, "poll_interval", 1, CONFIG_MAX_POLL, &a->poll_interval);
    config_get_int(g, "catchup_max_pages", 1, CONFIG_MAX_CATCHUP_PAGES, &a->catchup_max_pages);
    config_parse_account_reasons(g, net, a);
    config_parse_account_streaming(g, a);
    if (g_key_file_has_key(g->kf, g->group, "participating", NULL)) {
        config_get_bool(g, "participating", &a->participating);
        config_check_network_key(g, net, "participating");
    }
    config_check_unknown_keys(g, config_account_keys);
}

