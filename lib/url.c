/* url: see url.h.
 *
 * The raw string is checked before GUri sees it, because parsers disagree
 * about the odd cases (backslashes, embedded whitespace, control bytes) and
 * the browser that finally opens the URL uses a different parser from ours.
 * Rejecting those outright leaves no room for such differences.
 */
#include "url.h"

#include <gio/gio.h>
#include <string.h>

#define URL_MAX_LEN 2048
#define URL_MAX_HOST_LEN 253
#define URL_MAX_LABEL_LEN 63
#define URL_HTTPS_PORT 443

G_DEFINE_QUARK(heed-url-error-quark, url_error)

/* systemd hands these to the daemon only; a browser inheriting them could
 * send sd_notify messages or claim our sockets on our behalf. */
static const char *const url_child_env_drop[] = {
    "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", NULL
};

static bool url_unsafe(GError **error, const char *why)
{
    g_set_error(error, URL_ERROR, URL_ERROR_UNSAFE, "unsafe URL: %s", why);
    return false;
}

/* Non-ASCII is allowed (GUri percent-encodes it), but nothing that is
 * invisible or reorders text: such a URL could not be shown honestly. */
static bool url_raw_ok(const char *url, GError **error)
{
    size_t len = strlen(url);
    if (len == 0)
        return url_unsafe(error, "empty");
    if (len > URL_MAX_LEN)
        return url_unsafe(error, "longer than 2048 bytes");
    if (!g_utf8_validate(url, (gssize)len, NULL))
        return url_unsafe(error, "not valid UTF-8");
    for (const char *p = url; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c <= 0x20 || c == 0x7f)
            return url_unsafe(error, "contains a space or control character");
        if (c == '\\')
            return url_unsafe(error, "contains a backslash");
        GUnicodeType t = g_unichar_type(c);
        if (t == G_UNICODE_CONTROL || t == G_UNICODE_FORMAT || t == G_UNICODE_SPACE_SEPARATOR
            || t == G_UNICODE_LINE_SEPARATOR || t == G_UNICODE_PARAGRAPH_SEPARATOR)
            return url_unsafe(error, "contains an invisible or control character");
    }
    return true;
}

static bool url_host_ok(const char *host)
{
    size_t len = strlen(host);
    if (len == 0 || len > URL_MAX_HOST_LEN)
        return false;
    if (strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") != len)
        return false;
    /* Every label non-empty, at most 63 bytes, no hyphen at either end. */
    const char *label = host;
    for (;;) {
        size_t n = strcspn(label, ".");
        if (n == 0 || n > URL_MAX_LABEL_LEN || label[0] == '-' || label[n - 1] == '-')
            return false;
        if (label[n] == '\0')
            return true;
        label += n + 1;
    }
}

static bool url_is_ipv4(const char *host)
{
    return host[strspn(host, "0123456789.")] == '\0';
}

/* allowed_host is "host" or "host:port"; a missing port means 443. Test
 * servers listen on 127.0.0.1 with a high port, hence the port form. */
static bool url_host_allowed(const char *host, int port, const char *allowed, GError **error)
{
    const char *colon = strrchr(allowed, ':');
    char *allowed_name;
    gint64 allowed_port = URL_HTTPS_PORT;

    if (colon) {
        char *end = NULL;
        allowed_port = g_ascii_strtoll(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || allowed_port < 1 || allowed_port > 65535)
            return url_unsafe(error, "the allowed host has a bad port");
        allowed_name = g_strndup(allowed, (gsize)(colon - allowed));
    } else {
        allowed_name = g_strdup(allowed);
    }

    bool ok = url_host_ok(allowed_name);
    if (ok && g_ascii_strcasecmp(host, allowed_name) != 0) {
        /* Subdomains are the instance's own business; an IP address has
         * none, and "1.127.0.0.1" is a DNS name, not a subnet. */
        size_t hl = strlen(host), al = strlen(allowed_name);
        ok = !url_is_ipv4(allowed_name) && hl > al + 1 && host[hl - al - 1] == '.'
            && g_ascii_strcasecmp(host + hl - al, allowed_name) == 0;
    }
    g_free(allowed_name);
    if (!ok)
        return url_unsafe(error, "host is not the allowed host");
    if ((port == -1 ? URL_HTTPS_PORT : port) != allowed_port)
        return url_unsafe(error, "port is not the allowed port");
    return true;
}

char *url_check(const char *url, const char *allowed_host, GError **error)
{
    if (!url) {
        url_unsafe(error, "missing");
        return NULL;
    }
    if (!url_raw_ok(url, error))
        return NULL;

    GError *parse_error = NULL;
    GUri *uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, &parse_error);
    if (!uri) {
        g_set_error(error, URL_ERROR, URL_ERROR_UNSAFE, "unsafe URL: %s", parse_error->message);
        g_error_free(parse_error);
        return NULL;
    }

    char *result = NULL;
    const char *host = g_uri_get_host(uri);
    int port = g_uri_get_port(uri);
    if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") != 0)
        url_unsafe(error, "not https");
    else if (g_uri_get_userinfo(uri) != NULL)
        url_unsafe(error, "contains user information");
    else if (!host || !url_host_ok(host))
        url_unsafe(error, "bad host name");
    else if (allowed_host && *allowed_host) {
        if (url_host_allowed(host, port, allowed_host, error))
            result = g_uri_to_string(uri);
    } else if (port != -1 && port != URL_HTTPS_PORT)
        url_unsafe(error, "port is not 443");
    else
        result = g_uri_to_string(uri);

    g_uri_unref(uri);
    return result;
}

char *url_host(const char *url)
{
    if (!url)
        return NULL;
    GUri *uri = g_uri_parse(url, G_URI_FLAGS_ENCODED, NULL);
    if (!uri)
        return NULL;
    char *host = NULL;
    const char *h = g_uri_get_host(uri);
    if (g_ascii_strcasecmp(g_uri_get_scheme(uri), "https") == 0 && h && *h)
        host = g_ascii_strdown(h, -1);
    g_uri_unref(uri);
    return host;
}

static char **url_child_environ(void)
{
    char **envp = g_get_environ();
    for (const char *const *v = url_child_env_drop; *v; v++)
        envp = g_environ_unsetenv(envp, *v);
    return envp;
}

/* Substitutes the URL into the template. Each element stays one argv
 * element, so nothing in the URL can split or add arguments. */
static char **url_build_argv(char *const *open_argv, const char *url)
{
    GPtrArray *argv = g_ptr_array_new();
    bool substituted = false;

    for (char *const *a = open_argv; *a; a++) {
        if (strcmp(*a, "%u") == 0) {
            g_ptr_array_add(argv, g_strdup(url));
            substituted = true;
        } else if (strstr(*a, "%u")) {
            char **parts = g_strsplit(*a, "%u", -1);
            g_ptr_array_add(argv, g_strjoinv(url, parts));
            g_strfreev(parts);
            substituted = true;
        } else {
            g_ptr_array_add(argv, g_strdup(*a));
        }
    }
    if (!substituted)
        g_ptr_array_add(argv, g_strdup(url));
    g_ptr_array_add(argv, NULL);
    return (char **)g_ptr_array_free(argv, FALSE);
}

static bool url_launch_default(const char *url, GError **error)
{
    GAppLaunchContext *ctx = g_app_launch_context_new();
    for (const char *const *v = url_child_env_drop; *v; v++)
        g_app_launch_context_unsetenv(ctx, *v);

    GError *launch_error = NULL;
    bool ok = g_app_info_launch_default_for_uri(url, ctx, &launch_error);
    g_object_unref(ctx);
    if (!ok) {
        g_set_error(error, URL_ERROR, URL_ERROR_LAUNCH, "cannot open URL: %s", launch_error->message);
        g_error_free(launch_error);
    }
    return ok;
}

static bool url_launch_argv(const char *url, char *const *open_argv, GError **error)
{
    if (!open_argv[0] || !*open_argv[0]) {
        g_set_error(error, URL_ERROR, URL_ERROR_LAUNCH, "cannot open URL: empty open command");
        return false;
    }
    char **argv = url_build_argv(open_argv, url);
    char **envp = url_child_environ();
    /* Under systemd (INVOCATION_ID is set for every unit) a browser started
     * from here would live in heed's cgroup and die with a restart of the
     * unit: give it a transient scope of its own. */
    g_autofree char *systemd_run = g_getenv("INVOCATION_ID") ? g_find_program_in_path("systemd-run") : NULL;
    if (systemd_run) {
        GStrvBuilder *b = g_strv_builder_new();
        const char *prefix[] = { systemd_run, "--user", "--scope", "--collect", "--quiet", "--", NULL };
        g_strv_builder_addv(b, prefix);
        g_strv_builder_addv(b, (const char **)argv);
        g_strfreev(argv);
        argv = g_strv_builder_end(b);
        g_strv_builder_unref(b);
    }
    GError *spawn_error = NULL;

    /* Without G_SPAWN_DO_NOT_REAP_CHILD GLib forks an intermediate process
     * that it waits for before returning, so the browser is reparented and
     * no zombie is left for a daemon that never calls waitpid(). Descriptors
     * other than 0-2 are closed in the child (no LEAVE_DESCRIPTORS_OPEN). */
    bool ok = g_spawn_async(NULL, argv, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL,
                            NULL, NULL, NULL, &spawn_error);
    if (!ok) {
        g_set_error(error, URL_ERROR, URL_ERROR_LAUNCH, "cannot open URL: %s", spawn_error->message);
        g_error_free(spawn_error);
    }
    g_strfreev(envp);
    g_strfreev(argv);
    return ok;
}

bool url_open(const char *url, const char *allowed_host, char *const *open_argv, GError **error)
{
    char *checked = url_check(url, allowed_host, error);
    if (!checked)
        return false;
    /* Under systemd the default handler goes through "gio open" so that it,
     * too, can be started in a scope of its own (see url_launch_argv). */
    static char *const gio_open[] = { "gio", "open", "%u", NULL };
    g_autofree char *gio = !open_argv && g_getenv("INVOCATION_ID") ? g_find_program_in_path("gio") : NULL;
    bool scoped = gio != NULL;
    bool ok = open_argv ? url_launch_argv(checked, open_argv, error)
              : scoped  ? url_launch_argv(checked, gio_open, error)
                        : url_launch_default(checked, error);
    g_free(checked);
    return ok;
}
