/* SPDX-License-Identifier: MIT */
/* notify-dnd: do-not-disturb, desktop by desktop (notify-int.h). */
#include "notify-int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

/* ---- do-not-disturb (notification thread) ----
 *
 * Every desktop keeps it somewhere else. The server's name, from
 * GetServerInformation, picks the place where only the name tells:
 * mako (makoctl mode), xfce4-notifyd (xfconf), Cinnamon (GSettings). The
 * others are asked in turn: swaync (GetDnd), dunst ("paused"), KDE
 * ("Inhibited"), then GNOME (GSettings). Where the desktop announces a
 * change (a D-Bus signal, GSettings' "changed") the new state is posted at
 * once as NOTIFY_EV_DND; mako announces nothing, so while it is in
 * do-not-disturb it is asked again every NOTIFY_DND_POLL_S. */

#define NOTIFY_DND_CALL_MS 1000 /* one question to the desktop */
#define NOTIFY_DND_SPAWN_MS 1000 /* makoctl is killed after this */
#define NOTIFY_DND_POLL_S 3
#define NOTIFY_BUS_NAME "org.freedesktop.Notifications"
#define NOTIFY_BUS_PATH "/org/freedesktop/Notifications"
#define SWAYNC_BUS "org.erikreider.swaync.cc" /* bus name and interface */
#define SWAYNC_PATH "/org/erikreider/swaync/cc"
#define XFCONF_BUS "org.xfce.Xfconf" /* bus name and interface */
#define XFCONF_PATH "/org/xfce/Xfconf"
#define XFCE_NOTIFYD_NAME "Xfce Notify Daemon" /* xfce4-notifyd's GetServerInformation name */
#define XFCE_NOTIFYD_CHANNEL "xfce4-notifyd"
#define XFCE_NOTIFYD_DND "/do-not-disturb"
#define GNOME_SCHEMA "org.gnome.desktop.notifications"
#define GNOME_KEY "show-banners"
#define CINNAMON_SCHEMA "org.cinnamon.desktop.notifications"
#define CINNAMON_KEY "display-notifications"

enum { NOTIFY_DND_SUB_PROPERTIES, NOTIFY_DND_SUB_SWAYNC, NOTIFY_DND_SUB_XFCONF, NOTIFY_DND_N_SUBS };

struct notify_dnd {
    GDBusConnection *bus;        /* NULL without a session bus */
    guint subs[NOTIFY_DND_N_SUBS];
    GSettings *gnome, *cinnamon; /* NULL where the schema is not installed */
    char *server;                /* GetServerInformation's name, while the same server owns the bus name */
    bool server_known;
    bool last;                   /* the state last found; the loop side starts at "not in DND" */
    GSource *poll;               /* asks mako again while it is in do-not-disturb */
};

/* A synchronous call that never starts a service; NULL on any error. */
static GVariant *notify_dnd_call(struct notify_dnd *d, const char *dest, const char *path, const char *iface,
                                 const char *method, GVariant *args, const char *reply_type)
{
    if (!d->bus) {
        if (args)
            g_variant_unref(g_variant_ref_sink(args));
        return NULL;
    }
    return g_dbus_connection_call_sync(d->bus, dest, path, iface, method, args, G_VARIANT_TYPE(reply_type),
                                       G_DBUS_CALL_FLAGS_NO_AUTO_START, NOTIFY_DND_CALL_MS, NULL, NULL);
}

/* The boolean in a one-value reply, (b) or (v), or -1. Takes the reply. */
static int notify_dnd_bool_reply(GVariant *reply)
{
    if (!reply)
        return -1;
    GVariant *inner = g_variant_get_child_value(reply, 0);
    if (g_variant_is_of_type(inner, G_VARIANT_TYPE_VARIANT)) {
        GVariant *boxed = g_variant_get_variant(inner);
        g_variant_unref(inner);
        inner = boxed;
    }
    int out = g_variant_is_of_type(inner, G_VARIANT_TYPE_BOOLEAN) ? g_variant_get_boolean(inner) : -1;
    g_variant_unref(inner);
    g_variant_unref(reply);
    return out;
}

/* A boolean D-Bus property of the notification server, or -1. */
static int notify_server_bool_property(struct notify_dnd *d, const char *iface, const char *prop)
{
    return notify_dnd_bool_reply(notify_dnd_call(d, NOTIFY_BUS_NAME, NOTIFY_BUS_PATH, "org.freedesktop.DBus.Properties",
                                                 "Get", g_variant_new("(ss)", iface, prop), "(v)"));
}

/* The notification server's name, or NULL when it does not answer. */
static const char *notify_dnd_server(struct notify_dnd *d)
{
    if (!d->server_known) {
        GVariant *v = notify_dnd_call(d, NOTIFY_BUS_NAME, NOTIFY_BUS_PATH, NOTIFY_BUS_NAME, "GetServerInformation",
                                      NULL, "(ssss)");
        if (!v)
            return NULL;
        g_variant_get(v, "(ssss)", &d->server, NULL, NULL, NULL);
        g_variant_unref(v);
        d->server_known = true;
    }
    return d->server;
}

void notify_dnd_forget_server(struct notify *n)
{
    if (!n->dnd)
        return;
    g_clear_pointer(&n->dnd->server, g_free);
    n->dnd->server_known = false;
}

static void notify_dnd_child_setup(gpointer data)
{
    (void)data;
    setpgid(0, 0); /* killed with whatever it starts */
}

/* mako: whether "makoctl mode" (the active modes, one a line) lists
 * do-not-disturb (or "dnd", the other name in use), or -1 when makoctl
 * could not be run or did not finish within NOTIFY_DND_SPAWN_MS. */
static int notify_dnd_mako(void)
{
    char prog[] = "makoctl", arg[] = "mode";
    char *argv[] = { prog, arg, NULL };
    /* It could ping systemd's watchdog in heedd's name. */
    char **envp = g_get_environ();
    envp = g_environ_unsetenv(envp, "NOTIFY_SOCKET");
    envp = g_environ_unsetenv(envp, "WATCHDOG_USEC");
    envp = g_environ_unsetenv(envp, "WATCHDOG_PID");
    GPid pid;
    int out = -1;
    GError *err = NULL;
    gboolean started = g_spawn_async_with_pipes(
        NULL, argv, envp,
        G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL |
            G_SPAWN_CLOEXEC_PIPES,
        notify_dnd_child_setup, NULL, &pid, NULL, &out, NULL, &err);
    g_strfreev(envp);
    if (!started) {
        log_debug("makoctl mode: %s", err->message);
        g_error_free(err);
        return -1;
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)NOTIFY_DND_SPAWN_MS * 1000;
    char text[4096];
    size_t len = 0;
    for (;;) {
        gint64 left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0)
            break;
        struct pollfd pfd = { .fd = out, .events = POLLIN };
        int r = poll(&pfd, 1, (int)((left_us + 999) / 1000));
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        char chunk[512];
        ssize_t got = read(out, chunk, sizeof chunk);
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (got <= 0)
            break;
        size_t keep = MIN((size_t)got, sizeof text - 1 - len);
        memcpy(text + len, chunk, keep);
        len += keep;
    }
    close(out);
    text[len] = '\0';
    int status = 0;
    bool reaped = false, gone = false;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = true;
            break;
        }
        if (w < 0 && errno == ECHILD) {
            gone = true;
            break;
        }
        if (g_get_monotonic_time() >= deadline)
            break;
        g_usleep(2000);
    }
    if (!reaped && !gone) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    g_spawn_close_pid(pid);
    if (!reaped) {
        log_debug("makoctl mode did not finish within %d ms", NOTIFY_DND_SPAWN_MS);
        return -1;
    }
    if (!g_spawn_check_wait_status(status, &err)) {
        log_debug("makoctl mode: %s", err->message);
        g_error_free(err);
        return -1;
    }
    int dnd = 0;
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *mode = g_strstrip(*l);
        if (strcmp(mode, "do-not-disturb") == 0 || strcmp(mode, "dnd") == 0)
            dnd = 1;
    }
    g_strfreev(lines);
    return dnd;
}

/* "Notifications are not shown" in GSettings: the key is false. */
static int notify_dnd_setting_off(GSettings *gs, const char *key)
{
    return gs ? !g_settings_get_boolean(gs, key) : -1;
}

static bool notify_dnd_query(struct notify_dnd *d, bool *poll_again)
{
    *poll_again = false;
    const char *server = notify_dnd_server(d);
    if (g_strcmp0(server, "mako") == 0) {
        int v = notify_dnd_mako();
        *poll_again = v == 1;
        return v == 1;
    }
    if (g_strcmp0(server, XFCE_NOTIFYD_NAME) == 0)
        return notify_dnd_bool_reply(notify_dnd_call(d, XFCONF_BUS, XFCONF_PATH, XFCONF_BUS, "GetProperty",
                                                     g_variant_new("(ss)", XFCE_NOTIFYD_CHANNEL, XFCE_NOTIFYD_DND),
                                                     "(v)")) == 1;
    if (server && d->cinnamon && g_ascii_strcasecmp(server, "cinnamon") == 0)
        return notify_dnd_setting_off(d->cinnamon, CINNAMON_KEY) == 1;
    int v = notify_dnd_bool_reply(notify_dnd_call(d, SWAYNC_BUS, SWAYNC_PATH, SWAYNC_BUS, "GetDnd", NULL, "(b)"));
    if (v < 0)
        v = notify_server_bool_property(d, "org.dunstproject.cmd0", "paused");
    if (v < 0)
        v = notify_server_bool_property(d, NOTIFY_BUS_NAME, "Inhibited");
    if (v < 0)
        v = notify_dnd_setting_off(d->gnome, GNOME_KEY);
    return v == 1;
}

static void notify_dnd_set_poll(struct notify *n, bool on);

/* Whether the desktop is in do-not-disturb mode. With announce, a state
 * other than the one last found is posted as NOTIFY_EV_DND. */
bool notify_dnd_active(struct notify *n, bool announce)
{
    struct notify_dnd *d = n->dnd;
    if (!d)
        return false;
    bool poll_again;
    bool on = notify_dnd_query(d, &poll_again);
    notify_dnd_set_poll(n, poll_again);
    if (announce && on != d->last)
        notify_post(n, NOTIFY_EV_DND, NULL, NULL, NULL, on ? 1 : 0);
    d->last = on;
    return on;
}

/* The desktop said something changed: ask, and say so if it did. */
static void notify_dnd_recheck(struct notify *n)
{
    if (!g_atomic_int_get(&n->stopping))
        notify_dnd_active(n, true);
}

static gboolean notify_dnd_on_poll(gpointer data)
{
    notify_dnd_recheck(data);
    return G_SOURCE_CONTINUE; /* until notify_dnd_set_poll() ends it */
}

static void notify_dnd_set_poll(struct notify *n, bool on)
{
    struct notify_dnd *d = n->dnd;
    if (on && !d->poll) {
        d->poll = g_timeout_source_new_seconds(NOTIFY_DND_POLL_S);
        g_source_set_callback(d->poll, notify_dnd_on_poll, n, NULL);
        g_source_attach(d->poll, n->ctx);
    } else if (!on && d->poll) {
        g_source_destroy(d->poll);
        g_clear_pointer(&d->poll, g_source_unref);
    }
}

/* dunst's "paused" and KDE's "Inhibited" */
static void notify_dnd_on_properties(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                                     const char *signal, GVariant *params, gpointer user_data)
{
    (void)c;
    (void)sender;
    (void)path;
    (void)iface;
    (void)signal;
    if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)")))
        return;
    const char *which;
    GVariant *changed, *invalidated;
    g_variant_get(params, "(&s@a{sv}@as)", &which, &changed, &invalidated);
    const char *prop = strcmp(which, "org.dunstproject.cmd0") == 0 ? "paused"
                       : strcmp(which, NOTIFY_BUS_NAME) == 0      ? "Inhibited"
                                                                  : NULL;
    bool relevant = false;
    if (prop) {
        GVariant *value = g_variant_lookup_value(changed, prop, NULL);
        relevant = value != NULL;
        if (value)
            g_variant_unref(value);
        const char **names = g_variant_get_strv(invalidated, NULL);
        relevant |= g_strv_contains(names, prop);
        g_free(names);
    }
    g_variant_unref(changed);
    g_variant_unref(invalidated);
    if (relevant)
        notify_dnd_recheck(user_data);
}

/* swaync: SubscribeV2 (and the older Subscribe) on every change of its
 * state, do-not-disturb among them. */
static void notify_dnd_on_swaync(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                                 const char *signal, GVariant *params, gpointer user_data)
{
    (void)c;
    (void)sender;
    (void)path;
    (void)iface;
    (void)params;
    if (strcmp(signal, "SubscribeV2") == 0 || strcmp(signal, "Subscribe") == 0)
        notify_dnd_recheck(user_data);
}

/* xfconf: PropertyChanged / PropertyRemoved (channel, property, ...) */
static void notify_dnd_on_xfconf(GDBusConnection *c, const char *sender, const char *path, const char *iface,
                                 const char *signal, GVariant *params, gpointer user_data)
{
    (void)c;
    (void)sender;
    (void)path;
    (void)iface;
    (void)signal;
    if (g_variant_n_children(params) < 2)
        return;
    GVariant *prop = g_variant_get_child_value(params, 1);
    bool relevant = g_variant_is_of_type(prop, G_VARIANT_TYPE_STRING) &&
                    strcmp(g_variant_get_string(prop, NULL), XFCE_NOTIFYD_DND) == 0;
    g_variant_unref(prop);
    if (relevant)
        notify_dnd_recheck(user_data);
}

static void notify_dnd_on_setting(GSettings *gs, const char *key, gpointer user_data)
{
    (void)gs;
    (void)key;
    notify_dnd_recheck(user_data);
}

/* A GSettings object for a boolean key, watched; NULL when the schema or
 * the key is not installed (g_settings_new() would abort). */
static GSettings *notify_dnd_settings(struct notify *n, const char *schema_id, const char *key)
{
    GSettingsSchemaSource *src = g_settings_schema_source_get_default();
    GSettingsSchema *schema = src ? g_settings_schema_source_lookup(src, schema_id, TRUE) : NULL;
    if (!schema)
        return NULL;
    GSettings *gs = NULL;
    if (g_settings_schema_has_key(schema, key)) {
        GSettingsSchemaKey *k = g_settings_schema_get_key(schema, key);
        if (g_variant_type_equal(g_settings_schema_key_get_value_type(k), G_VARIANT_TYPE_BOOLEAN)) {
            gs = g_settings_new_full(schema, NULL, NULL);
            g_autofree char *detailed = g_strconcat("changed::", key, NULL);
            g_signal_connect(gs, detailed, G_CALLBACK(notify_dnd_on_setting), n);
            /* "changed" is emitted only for keys read at least once. */
            (void)g_settings_get_boolean(gs, key);
        }
        g_settings_schema_key_unref(k);
    }
    g_settings_schema_unref(schema);
    return gs;
}

/* On the notification thread with its context as thread-default, so that
 * the signals are delivered there. */
void notify_dnd_start(struct notify *n)
{
    struct notify_dnd *d = g_new0(struct notify_dnd, 1);
    n->dnd = d;
    d->bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, NULL);
    if (d->bus) {
        d->subs[NOTIFY_DND_SUB_PROPERTIES] = g_dbus_connection_signal_subscribe(
            d->bus, NOTIFY_BUS_NAME, "org.freedesktop.DBus.Properties", "PropertiesChanged", NOTIFY_BUS_PATH, NULL,
            G_DBUS_SIGNAL_FLAGS_NONE, notify_dnd_on_properties, n, NULL);
        d->subs[NOTIFY_DND_SUB_SWAYNC] = g_dbus_connection_signal_subscribe(
            d->bus, SWAYNC_BUS, SWAYNC_BUS, NULL, SWAYNC_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, notify_dnd_on_swaync, n,
            NULL);
        d->subs[NOTIFY_DND_SUB_XFCONF] = g_dbus_connection_signal_subscribe(
            d->bus, XFCONF_BUS, XFCONF_BUS, NULL, XFCONF_PATH, XFCE_NOTIFYD_CHANNEL, G_DBUS_SIGNAL_FLAGS_NONE,
            notify_dnd_on_xfconf, n, NULL);
    }
    d->gnome = notify_dnd_settings(n, GNOME_SCHEMA, GNOME_KEY);
    d->cinnamon = notify_dnd_settings(n, CINNAMON_SCHEMA, CINNAMON_KEY);
}

void notify_dnd_stop(struct notify *n)
{
    struct notify_dnd *d = n->dnd;
    if (!d)
        return;
    for (int i = 0; i < NOTIFY_DND_N_SUBS; i++)
        if (d->subs[i])
            g_dbus_connection_signal_unsubscribe(d->bus, d->subs[i]);
    notify_dnd_set_poll(n, false);
    GSettings *all[] = { d->gnome, d->cinnamon };
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++) {
        if (!all[i])
            continue;
        g_signal_handlers_disconnect_by_data(all[i], n);
        g_object_unref(all[i]);
    }
    g_clear_object(&d->bus);
    g_free(d->server);
    g_free(d);
    n->dnd = NULL;
}

