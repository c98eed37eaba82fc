/* SPDX-License-Identifier: MIT */
/* url: see url.h.
 *
 * The raw string is checked before GUri sees it, because parsers disagree
 * about the odd cases (backslashes, embedded whitespace, control bytes) and
 * the browser that finally opens the URL uses a different parser from ours.
 * Rejecting those outright leaves no room for such differences.
 */
#include "url.h"

#include "log.h"

#include <errno.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define URL_MAX_LEN 2048
#define URL_MAX_HOST_LEN 253
#define URL_MAX_LABEL_LEN 63
#define URL_HTTPS_PORT 443

#define URL_PORTAL_NAME "org.freedesktop.portal.Desktop"
#define URL_PORTAL_PATH "/org/freedesktop/portal/desktop"
#define URL_PORTAL_IFACE "org.freedesktop.portal.OpenURI"
#define URL_BUS_TIMEOUT_MS 1000
#define URL_PORTAL_TIMEOUT_MS 5000
#define URL_SYSTEMD_RUN_TIMEOUT_MS 10000
#define URL_SYSTEMD_RUN_MAX_ERR 4096

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

/* ---- opening ---------------------------------------------------------------
 *
 * Each way of opening that does not apply or fails adds a reason to `tried`,
 * so that a failure says everything that was attempted. */

static void url_tried(GString *tried, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void url_tried(GString *tried, const char *fmt, ...)
{
    va_list ap;
    if (tried->len)
        g_string_append(tried, ", ");
    va_start(ap, fmt);
    g_string_append_vprintf(tried, fmt, ap);
    va_end(ap);
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

/* ---- 1. the desktop portal ------------------------------------------------ */

/* Only a bus that is already there: without DBUS_SESSION_BUS_ADDRESS and
 * $XDG_RUNTIME_DIR/bus, GIO would try to autolaunch one. */
static bool url_session_bus_known(void)
{
    if (g_getenv("DBUS_SESSION_BUS_ADDRESS"))
        return true;
    const char *runtime = g_getenv("XDG_RUNTIME_DIR");
    if (!runtime || !*runtime)
        return false;
    g_autofree char *bus = g_build_filename(runtime, "bus", NULL);
    return g_file_test(bus, G_FILE_TEST_EXISTS);
}

static char *url_dbus_message(GError *e)
{
    if (g_dbus_error_is_remote_error(e))
        g_dbus_error_strip_remote_error(e);
    return g_strdup(e->message);
}

/* The portal is used only if it is running now: it is not activated
 * (NO_AUTO_START) and every call has a short timeout, so a desktop without
 * one costs one round trip to the bus. The portal answers with a request
 * handle once it has taken the URI; its later Response signal (the user may
 * be asked to pick a browser) is not waited for. */
static bool url_open_portal(const char *url, GString *tried)
{
    if (!url_session_bus_known()) {
        url_tried(tried, "no session bus for the desktop portal");
        return false;
    }
    GError *e = NULL;
    GDBusConnection *bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &e);
    if (!bus) {
        g_autofree char *why = url_dbus_message(e);
        url_tried(tried, "no session bus for the desktop portal (%s)", why);
        g_error_free(e);
        return false;
    }

    bool ok = false;
    GVariant *owned = g_dbus_connection_call_sync(
        bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
        g_variant_new("(s)", URL_PORTAL_NAME), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
        URL_BUS_TIMEOUT_MS, NULL, &e);
    gboolean has_owner = FALSE;
    if (owned) {
        g_variant_get(owned, "(b)", &has_owner);
        g_variant_unref(owned);
    }
    if (!owned) {
        g_autofree char *why = url_dbus_message(e);
        url_tried(tried, "cannot ask the session bus for the desktop portal (%s)", why);
        g_clear_error(&e);
    } else if (!has_owner) {
        url_tried(tried, "no desktop portal on the session bus");
    } else {
        GVariantBuilder options;
        g_variant_builder_init(&options, G_VARIANT_TYPE_VARDICT);
        GVariant *reply = g_dbus_connection_call_sync(
            bus, URL_PORTAL_NAME, URL_PORTAL_PATH, URL_PORTAL_IFACE, "OpenURI",
            g_variant_new("(ssa{sv})", "", url, &options), G_VARIANT_TYPE("(o)"),
            G_DBUS_CALL_FLAGS_NO_AUTO_START, URL_PORTAL_TIMEOUT_MS, NULL, &e);
        if (reply) {
            g_variant_unref(reply);
            log_debug("opened %s through the desktop portal", url);
            ok = true;
        } else {
            g_autofree char *why = url_dbus_message(e);
            url_tried(tried, "the desktop portal failed (%s)", why);
            g_clear_error(&e);
        }
    }
    g_object_unref(bus);
    return ok;
}

/* ---- 2. a transient service of the user manager --------------------------- */

/* Set by the manager for one unit only: the opener's service gets its own. */
static const char *const url_unit_env[] = {
    "INVOCATION_ID", "JOURNAL_STREAM", "SYSTEMD_EXEC_PID", "MANAGERPID", "MAINPID",
    "MEMORY_PRESSURE_WATCH", "MEMORY_PRESSURE_WRITE", "LISTEN_FDNAMES", "FDSTORE", "PIDFILE",
    "RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CACHE_DIRECTORY", "LOGS_DIRECTORY",
    "CONFIGURATION_DIRECTORY", "CREDENTIALS_DIRECTORY", "REMOTE_ADDR", "REMOTE_PORT",
    "SERVICE_RESULT", "EXIT_CODE", "EXIT_STATUS", "TRIGGER_UNIT", "TRIGGER_PATH",
    "TRIGGER_TIMER_REALTIME_USEC", "TRIGGER_TIMER_MONOTONIC_USEC", NULL
};

/* What systemd accepts as an environment assignment (env_name_is_valid,
 * env_value_is_valid); anything else would make systemd-run refuse. */
static bool url_env_passable(const char *entry)
{
    const char *eq = strchr(entry, '=');
    if (!eq || eq == entry || g_ascii_isdigit(entry[0]))
        return false;
    for (const char *p = entry; p < eq; p++)
        if (!g_ascii_isalnum(*p) && *p != '_')
            return false;
    if (g_str_has_prefix(entry, "MONITOR_"))
        return false;
    for (const char *const *v = url_unit_env; *v; v++) {
        size_t n = strlen(*v);
        if ((size_t)(eq - entry) == n && strncmp(entry, *v, n) == 0)
            return false;
    }
    const char *value = eq + 1;
    if (!g_utf8_validate(value, -1, NULL))
        return false;
    for (const char *p = value; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t' && *p != '\n') || *p == 0x7f)
            return false;
    return true;
}

/* The manager expands "${NAME}" and "$$" in a service's command line, and
 * systemd-run has no way to turn that off before systemd 254 (where it is
 * still on by default): "$$" keeps each "$" literal, so that a URL reaches the
 * browser exactly as checked and no variable's value gets into it. */
static void url_escape_dollars(char **argv)
{
    for (char **a = argv; *a; a++) {
        if (!strchr(*a, '$'))
            continue;
        char **parts = g_strsplit(*a, "$", -1);
        g_free(*a);
        *a = g_strjoinv("$$", parts);
        g_strfreev(parts);
    }
}

/* The user manager remembers whether it understood ExitType= (systemd 250). */
static bool url_no_exit_type;

static char **url_service_argv(const char *systemd_run, char *const *opener, char *const *envp, bool exit_type)
{
    GStrvBuilder *b = g_strv_builder_new();
    g_autofree char *unit = g_strdup_printf("--unit=heed-open-%08x%08x", g_random_int(), g_random_int());
    const char *prefix[] = { systemd_run, "--user", "--collect", "--quiet", unit,
                             "--description=heed: opening a link",
                             /* start fails, and says why, if the opener cannot be executed */
                             "--property=Type=exec", NULL };
    g_strv_builder_addv(b, prefix);
    /* the service lasts until the browser it started is gone, even when
     * the opener itself exits at once */
    if (exit_type)
        g_strv_builder_add(b, "--property=ExitType=cgroup");
    /* by name only: systemd-run takes the values from its own environment,
     * so no value appears on a command line */
    for (char *const *e = envp; *e; e++) {
        if (!url_env_passable(*e))
            continue;
        g_autofree char *name = g_strndup(*e, (gsize)(strchr(*e, '=') - *e));
        g_autofree char *opt = g_strconcat("--setenv=", name, NULL);
        g_strv_builder_add(b, opt);
    }
    g_strv_builder_add(b, "--");
    g_strv_builder_addv(b, (const char **)opener);
    char **argv = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    return argv;
}

/* The last line systemd-run wrote, cleaned for a log line. */
static char *url_last_line(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    const char *last = NULL;
    for (char **l = lines; *l; l++)
        if (**l)
            last = *l;
    if (!last)
        return NULL;
    char *clean = g_utf8_make_valid(last, -1);
    for (char *p = clean; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return g_strstrip(clean);
}

/* Runs systemd-run and waits for it (bounded): returns its exit status as
 * from waitpid, or -1 with *why set. Its standard error is kept in *err_text. */
static int url_run_systemd_run(char **argv, char **envp, char **err_text, char **why)
{
    GPid pid;
    int err_fd = -1;
    GError *e = NULL;
    *err_text = NULL;
    if (!g_spawn_async_with_pipes(NULL, argv, envp,
                                  G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL |
                                      G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_CLOEXEC_PIPES,
                                  NULL, NULL, &pid, NULL, NULL, &err_fd, &e)) {
        *why = g_strdup(e->message);
        g_error_free(e);
        return -1;
    }

    gint64 deadline = g_get_monotonic_time() + (gint64)URL_SYSTEMD_RUN_TIMEOUT_MS * 1000;
    GString *text = g_string_new(NULL);
    bool timed_out = false;
    for (;;) {
        gint64 left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd pfd = { .fd = err_fd, .events = POLLIN };
        int r = poll(&pfd, 1, (int)((left_us + 999) / 1000));
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        char buf[1024];
        ssize_t n = read(err_fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        if (text->len < URL_SYSTEMD_RUN_MAX_ERR)
            g_string_append_len(text, buf, n);
    }
    close(err_fd);

    /* It closed its standard error: it is exiting, but wait no longer than
     * the deadline either. */
    int status = 0;
    bool reaped = false;
    while (!timed_out) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = true;
            break;
        }
        if (w < 0 && errno != EINTR) {
            *why = g_strdup_printf("waiting for it failed (%s)", g_strerror(errno));
            g_string_free(text, TRUE);
            g_spawn_close_pid(pid);
            return -1;
        }
        if (g_get_monotonic_time() >= deadline)
            timed_out = true;
        else
            g_usleep(2000);
    }
    if (!reaped) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    g_spawn_close_pid(pid);
    *err_text = g_string_free(text, FALSE);
    if (timed_out) {
        *why = g_strdup_printf("it did not finish within %d s", URL_SYSTEMD_RUN_TIMEOUT_MS / 1000);
        return -1;
    }
    return status;
}

/* A service forked by the user manager, not by heedd: it inherits none of
 * heed.service's sandbox (no_new_privs, seccomp filters, umask) and outlives
 * a restart of heed. systemd-run waits until the opener was executed, so a
 * failure is known here and the next way can be tried. */
static bool url_open_service(char *const *opener, GString *tried)
{
    g_autofree char *systemd_run = g_find_program_in_path("systemd-run");
    if (!systemd_run) {
        url_tried(tried, "systemd-run not found");
        return false;
    }
    char **envp = url_child_environ();
    bool ok = false;
    for (;;) {
        bool exit_type = !url_no_exit_type;
        char **argv = url_service_argv(systemd_run, opener, envp, exit_type);
        char *err_text = NULL, *why = NULL;
        int status = url_run_systemd_run(argv, envp, &err_text, &why);
        g_strfreev(argv);
        GError *e = NULL;
        bool retry = false;
        if (status >= 0 && g_spawn_check_wait_status(status, &e)) {
            log_debug("opened a link with %s in a service of the user manager", opener[0]);
            ok = true;
        } else if (status >= 0 && exit_type && strstr(err_text, "ExitType")) {
            /* systemd before 250: once more without it, and from now on */
            url_no_exit_type = true;
            retry = true;
        } else {
            g_autofree char *line = url_last_line(err_text ? err_text : "");
            url_tried(tried, "systemd-run failed (%s)", status < 0 ? why : line ? line : e->message);
        }
        g_clear_error(&e);
        g_free(why);
        g_free(err_text);
        if (!retry)
            break;
    }
    g_strfreev(envp);
    return ok;
}

/* ---- 3. directly, as a child of this process ------------------------------ */

static bool url_launch_default(const char *url, GString *tried)
{
    GAppLaunchContext *ctx = g_app_launch_context_new();
    for (const char *const *v = url_child_env_drop; *v; v++)
        g_app_launch_context_unsetenv(ctx, *v);

    GError *launch_error = NULL;
    bool ok = g_app_info_launch_default_for_uri(url, ctx, &launch_error);
    g_object_unref(ctx);
    if (!ok) {
        url_tried(tried, "the desktop's default handler failed (%s)", launch_error->message);
        g_error_free(launch_error);
    }
    return ok;
}

static bool url_launch_argv(char *const *argv, GString *tried)
{
    char **envp = url_child_environ();
    GError *spawn_error = NULL;

    /* Without G_SPAWN_DO_NOT_REAP_CHILD GLib forks an intermediate process
     * that it waits for before returning, so the browser is reparented and
     * no zombie is left for a daemon that never calls waitpid(). Descriptors
     * other than 0-2 are closed in the child (no LEAVE_DESCRIPTORS_OPEN). */
    bool ok = g_spawn_async(NULL, (char **)argv, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDIN_FROM_DEV_NULL, NULL,
                            NULL, NULL, &spawn_error);
    if (!ok) {
        url_tried(tried, "%s", spawn_error->message);
        g_error_free(spawn_error);
    }
    g_strfreev(envp);
    return ok;
}

bool url_open(const char *url, const char *allowed_host, char *const *open_argv, GError **error)
{
    char *checked = url_check(url, allowed_host, error);
    if (!checked)
        return false;
    if (open_argv && (!open_argv[0] || !*open_argv[0])) {
        g_set_error(error, URL_ERROR, URL_ERROR_LAUNCH,
                    "cannot open URL: empty open command; check open_command in heed.conf");
        g_free(checked);
        return false;
    }

    GString *tried = g_string_new(NULL);
    bool ok = false;
    bool failed_before = false;

    /* 1. The portal opens the user's default browser; a configured command
     * is the user's choice, which the portal cannot run. */
    if (!open_argv)
        ok = url_open_portal(checked, tried);

    /* The opener as argv: the configured command, else xdg-open or gio. */
    static char *const xdg_open[] = { "xdg-open", "%u", NULL };
    static char *const gio_open[] = { "gio", "open", "%u", NULL };
    char *const *template = open_argv;
    g_autofree char *program = NULL;
    if (!ok) {
        if (!template)
            template = (program = g_find_program_in_path("xdg-open")) ? xdg_open
                       : (program = g_find_program_in_path("gio"))    ? gio_open
                                                                       : NULL;
        else
            program = g_find_program_in_path(template[0]);
    }

    /* 2. Under systemd (INVOCATION_ID is set for every unit), a service of
     * the user manager. */
    if (!ok && g_getenv("INVOCATION_ID")) {
        if (program) {
            char **argv = url_build_argv(template, checked);
            g_free(argv[0]);
            argv[0] = g_strdup(program);
            url_escape_dollars(argv);
            size_t before = tried->len;
            ok = url_open_service(argv, tried);
            failed_before = tried->len > before;
            g_strfreev(argv);
        } else if (!open_argv) {
            url_tried(tried, "neither xdg-open nor gio found for a service of the user manager");
        }
    }

    /* 3. Directly. Under systemd this child inherits heed.service's sandbox,
     * which is why it comes last. */
    if (!ok) {
        if (open_argv && !program) {
            url_tried(tried, "%s not found", open_argv[0]);
        } else if (open_argv) {
            char **argv = url_build_argv(open_argv, checked);
            ok = url_launch_argv(argv, tried);
            g_strfreev(argv);
        } else {
            ok = url_launch_default(checked, tried);
        }
        if (ok && failed_before)
            log_warn("opened a link directly after %s; it runs with heed's own restrictions", tried->str);
    }

    if (!ok)
        g_set_error(error, URL_ERROR, URL_ERROR_LAUNCH, "cannot open URL: %s; %s", tried->str,
                    open_argv ? "check open_command in heed.conf"
                              : "set open_command in heed.conf, or install xdg-utils and choose a default browser");
    g_string_free(tried, TRUE);
    g_free(checked);
    return ok;
}
