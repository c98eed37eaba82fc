/* notify: see notify.h.
 *
 * Two threads: the daemon's loop thread (notify_* API, event delivery) and
 * the notification thread (everything libnotify/GDBus). They share only the
 * request queue (GMainContext invoke), the event queue (GAsyncQueue +
 * eventfd) and a few atomics.
 */
#include "notify.h"

#include <gio/gio.h>
#include <libnotify/notify.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "text.h"

#define NOTIFY_APP_ICON "heed" /* data/icons, installed into the hicolor theme */

struct notify {
    /* loop thread */
    struct event_base *base;
    struct event *wake_ev;
    notify_event_fn on_event;
    void *user_data;
    bool fallback, terminal, said_terminal;
    GHashTable *inflight;    /* key -> "summary\nbody" until the server answers (fallback only) */

    /* shared */
    int wake_fd;
    GAsyncQueue *events;
    gint has_server;
    gint pending;
    GMutex caps_lock;
    char *caps;

    /* notification thread */
    GThread *thread;
    GMainContext *ctx;
    GMainLoop *loop;
    char *app_name;
    GHashTable *live;        /* key -> NotifyNotification* (owned) */
    bool cap_actions, cap_markup, cap_persistence;
    bool caps_known;
    guint watch_id;
    struct notify_dnd *dnd;  /* do-not-disturb: where to ask, change signals (see notify_dnd_start) */

    /* shutdown */
    gint stopping;           /* set by notify_free: requests still queued are dropped */
    gint timed_out;          /* a call to the server went unanswered: do not wait on it again */
    GMutex done_lock;
    GCond done_cond;
    bool done;               /* the thread has finished */
};

/* A notification thread stuck in a call to a hung server when heedd stops is
 * left to end with the process; this keeps what it uses reachable. */
static struct notify *notify_abandoned;

struct notify_request {
    struct notify *n;
    bool close, check_dnd, bypass_dnd;
    char *key, *summary, *body, *hint_text, *sound, *image_path;
    enum notify_urgency urgency;
    bool mention_actions, resident;
};

/* ---- events: notification thread -> loop thread ---- */

static void notify_post(struct notify *n, enum notify_event_kind kind, const char *key, const char *action,
                        const char *error, int reason)
{
    struct notify_event *ev = g_new0(struct notify_event, 1);
    ev->kind = kind;
    ev->key = g_strdup(key);
    ev->action = g_strdup(action);
    ev->error = g_strdup(error);
    ev->reason = reason;
    g_async_queue_push(n->events, ev);
    uint64_t one = 1;
    ssize_t w = write(n->wake_fd, &one, sizeof one);
    (void)w; /* eventfd only fails when the counter saturates: a wakeup is pending anyway */
}

static void notify_event_free(struct notify_event *ev)
{
    g_free(ev->key);
    g_free(ev->action);
    g_free(ev->error);
    g_free(ev);
}

static void notify_print(const char *summary, const char *body)
{
    printf("%s\n%s\n\n", summary, body);
    fflush(stdout);
}

/* The terminal fallback, on the loop thread: a show that failed is printed
 * instead, and so is everything after it until a server appears. */
static void notify_fallback(struct notify *n, struct notify_event *ev)
{
    if (ev->kind == NOTIFY_EV_SERVER_UP) {
        n->terminal = false;
        return;
    }
    if (!n->fallback || ev->kind != NOTIFY_EV_FAILED)
        return;
    if (!n->said_terminal) {
        log_notice("no notification server is reachable (%s); printing notifications here instead",
                   ev->error ? ev->error : "unknown error");
        n->said_terminal = true;
    }
    n->terminal = true;
    const char *text = ev->key ? g_hash_table_lookup(n->inflight, ev->key) : NULL;
    if (text) {
        printf("%s\n\n", text);
        fflush(stdout);
    }
    ev->kind = NOTIFY_EV_SHOWN;
}

static void notify_on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct notify *n = arg;
    uint64_t count;
    ssize_t r = read(fd, &count, sizeof count);
    (void)r;
    struct notify_event *ev;
    while ((ev = g_async_queue_try_pop(n->events)) != NULL) {
        notify_fallback(n, ev);
        n->on_event(ev, n->user_data);
        if (ev->key && ev->kind != NOTIFY_EV_ACTION && ev->kind != NOTIFY_EV_CLOSED)
            g_hash_table_remove(n->inflight, ev->key);
        notify_event_free(ev);
    }
}

/* ---- the notification thread ---- */

static void notify_refresh_caps(struct notify *n)
{
    GList *caps = notify_get_server_caps();
    n->cap_actions = n->cap_markup = n->cap_persistence = false;
    GString *all = g_string_new(NULL);
    for (GList *l = caps; l; l = l->next) {
        const char *c = l->data;
        n->cap_actions |= strcmp(c, "actions") == 0;
        n->cap_markup |= strcmp(c, "body-markup") == 0;
        n->cap_persistence |= strcmp(c, "persistence") == 0;
        g_string_append_printf(all, "%s%s", all->len ? " " : "", c);
    }
    n->caps_known = caps != NULL;
    g_list_free_full(caps, g_free);
    g_mutex_lock(&n->caps_lock);
    g_free(n->caps);
    n->caps = n->caps_known ? g_string_free(all, FALSE) : (g_string_free(all, TRUE), NULL);
    g_mutex_unlock(&n->caps_lock);
}

static void notify_on_action(NotifyNotification *nn, char *action, gpointer user_data)
{
    struct notify *n = g_object_get_data(G_OBJECT(nn), "heed-notify");
    notify_post(n, NOTIFY_EV_ACTION, user_data, action, NULL, 0);
}

static void notify_on_closed(NotifyNotification *nn, gpointer user_data)
{
    struct notify *n = user_data;
    const char *key = g_object_get_data(G_OBJECT(nn), "heed-key");
    int reason = notify_notification_get_closed_reason(nn);
    g_autofree char *k = g_strdup(key);
    /* Drop it only if the map still points at this object (not a newer one). */
    if (k && g_hash_table_lookup(n->live, k) == nn)
        g_hash_table_remove(n->live, k);
    notify_post(n, NOTIFY_EV_CLOSED, k, NULL, NULL, reason);
}

static NotifyNotification *notify_build(struct notify *n, struct notify_request *r)
{
    NotifyNotification *nn = g_hash_table_lookup(n->live, r->key);
    g_autofree char *body = NULL;
    GString *b = g_string_new(r->body ? r->body : "");
    if (r->hint_text && !n->cap_actions)
        g_string_append_printf(b, "%s%s", b->len ? "\n\n" : "", r->hint_text);
    body = n->cap_markup ? text_markup_escape(b->str) : g_strdup(b->str);
    g_string_free(b, TRUE);
    if (nn) {
        notify_notification_update(nn, r->summary, body, NOTIFY_APP_ICON);
        notify_notification_clear_actions(nn);
    } else {
        nn = notify_notification_new(r->summary, body, NOTIFY_APP_ICON);
        g_object_set_data_full(G_OBJECT(nn), "heed-key", g_strdup(r->key), g_free);
        g_object_set_data(G_OBJECT(nn), "heed-notify", n);
        g_signal_connect(nn, "closed", G_CALLBACK(notify_on_closed), n);
        g_hash_table_replace(n->live, g_strdup(r->key), nn);
    }
    notify_notification_set_app_name(nn, n->app_name);
    notify_notification_set_category(nn, "im.received");
    notify_notification_set_hint(nn, "desktop-entry", g_variant_new_string("heed"));
    notify_notification_set_urgency(nn, (NotifyUrgency)r->urgency);
    /* A banner updated in place must not keep the sound or picture of what it showed before. */
    notify_notification_set_hint(nn, "sound-name", r->sound ? g_variant_new_string(r->sound) : NULL);
    notify_notification_set_hint(nn, "image-path", r->image_path ? g_variant_new_string(r->image_path) : NULL);
    if (r->resident && n->cap_persistence)
        notify_notification_set_hint(nn, "resident", g_variant_new_boolean(TRUE));
    notify_notification_add_action(nn, "default", "Open", notify_on_action, g_strdup(r->key), g_free);
    if (r->mention_actions && n->cap_actions) {
        notify_notification_add_action(nn, "reply", "Reply", notify_on_action, g_strdup(r->key), g_free);
        notify_notification_add_action(nn, "snooze", "Snooze", notify_on_action, g_strdup(r->key), g_free);
        notify_notification_add_action(nn, "done", "Done", notify_on_action, g_strdup(r->key), g_free);
    }
    return nn;
}

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

static void notify_dnd_forget_server(struct notify *n)
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
static bool notify_dnd_active(struct notify *n, bool announce)
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
static void notify_dnd_start(struct notify *n)
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

static void notify_dnd_stop(struct notify *n)
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

static void notify_do_show(struct notify *n, struct notify_request *r)
{
    if (!r->bypass_dnd && notify_dnd_active(n, true)) {
        notify_post(n, NOTIFY_EV_HELD, r->key, NULL, NULL, 0);
        return;
    }
    if (!n->caps_known)
        notify_refresh_caps(n);
    NotifyNotification *nn = notify_build(n, r);
    GError *err = NULL;
    if (notify_notification_show(nn, &err)) {
        g_atomic_int_set(&n->has_server, 1);
        notify_post(n, NOTIFY_EV_SHOWN, r->key, NULL, NULL, 0);
        return;
    }
    bool timeout = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
                   g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
                   g_error_matches(err, G_DBUS_ERROR, G_DBUS_ERROR_TIMEOUT);
    g_hash_table_remove(n->live, r->key);
    if (timeout)
        g_atomic_int_set(&n->timed_out, 1);
    if (!timeout) {
        g_atomic_int_set(&n->has_server, 0);
        n->caps_known = false;
    }
    notify_post(n, timeout ? NOTIFY_EV_UNCERTAIN : NOTIFY_EV_FAILED, r->key, NULL, err->message, 0);
    g_error_free(err);
}

static gboolean notify_run_request(gpointer data)
{
    struct notify_request *r = data;
    struct notify *n = r->n;
    if (g_atomic_int_get(&n->stopping)) {
        g_atomic_int_dec_and_test(&n->pending);
        return G_SOURCE_REMOVE;
    }
    if (r->check_dnd) {
        notify_post(n, NOTIFY_EV_DND, NULL, NULL, NULL, notify_dnd_active(n, false) ? 1 : 0);
    } else if (r->close) {
        NotifyNotification *nn = g_hash_table_lookup(n->live, r->key);
        if (nn)
            notify_notification_close(nn, NULL);
        g_hash_table_remove(n->live, r->key);
    } else {
        notify_do_show(n, r);
    }
    g_atomic_int_dec_and_test(&n->pending);
    return G_SOURCE_REMOVE;
}

static void notify_request_free(gpointer data)
{
    struct notify_request *r = data;
    g_free(r->key);
    g_free(r->summary);
    g_free(r->body);
    g_free(r->hint_text);
    g_free(r->sound);
    g_free(r->image_path);
    g_free(r);
}

static void notify_name_appeared(GDBusConnection *c, const char *name, const char *owner, gpointer user_data)
{
    (void)c;
    (void)name;
    (void)owner;
    struct notify *n = user_data;
    n->caps_known = false;
    notify_dnd_forget_server(n);
    g_atomic_int_set(&n->has_server, 1);
    notify_post(n, NOTIFY_EV_SERVER_UP, NULL, NULL, NULL, 0);
}

static void notify_name_vanished(GDBusConnection *c, const char *name, gpointer user_data)
{
    (void)name;
    struct notify *n = user_data;
    if (!c)
        return; /* no session bus at all: show() will report it */
    /* The server took its notifications with it. */
    g_hash_table_remove_all(n->live);
    n->caps_known = false;
    notify_dnd_forget_server(n);
    g_atomic_int_set(&n->has_server, 0);
    notify_post(n, NOTIFY_EV_SERVER_DOWN, NULL, NULL, NULL, 0);
}

static gboolean notify_start_watch(gpointer data)
{
    struct notify *n = data;
    n->watch_id = g_bus_watch_name(G_BUS_TYPE_SESSION, "org.freedesktop.Notifications", G_BUS_NAME_WATCHER_FLAGS_NONE,
                                   notify_name_appeared, notify_name_vanished, n, NULL);
    return G_SOURCE_REMOVE;
}

static gboolean notify_stop(gpointer data)
{
    struct notify *n = data;
    /* Withdraw what carries actions: nobody will answer its buttons now.
     * Not if the server already left a call unanswered: each close would
     * wait for it again. */
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, n->live);
    while (!g_atomic_int_get(&n->timed_out) && g_hash_table_iter_next(&it, &key, &value))
        notify_notification_close(value, NULL);
    g_hash_table_remove_all(n->live);
    if (n->watch_id)
        g_bus_unwatch_name(n->watch_id);
    n->watch_id = 0;
    g_main_loop_quit(n->loop);
    return G_SOURCE_REMOVE;
}

/* libnotify reports a missing server with g_warning on every call; the
 * engine already says that once, in its own words. */
static void notify_glib_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)level;
    (void)data;
    log_debug("%s: %s", domain ? domain : "glib", message);
}

static gpointer notify_thread(gpointer data)
{
    struct notify *n = data;
    g_log_set_handler("libnotify", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG,
                      notify_glib_log, NULL);
    g_main_context_push_thread_default(n->ctx);
    notify_init(n->app_name);
    notify_dnd_start(n);
    g_main_loop_run(n->loop);
    notify_dnd_stop(n);
    g_hash_table_remove_all(n->live);
    notify_uninit();
    /* Let GDBus finish what the unwatch and closes queued. */
    while (g_main_context_iteration(n->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(n->ctx);
    g_mutex_lock(&n->done_lock);
    n->done = true;
    g_cond_signal(&n->done_cond);
    g_mutex_unlock(&n->done_lock);
    return NULL;
}

/* ---- loop-thread API ---- */

struct notify *notify_new(struct event_base *base, const char *app_name, notify_event_fn on_event, void *user_data)
{
    struct notify *n = g_new0(struct notify, 1);
    n->base = base;
    n->on_event = on_event;
    n->user_data = user_data;
    n->app_name = g_strdup(app_name);
    n->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    n->events = g_async_queue_new();
    g_mutex_init(&n->caps_lock);
    g_mutex_init(&n->done_lock);
    g_cond_init(&n->done_cond);
    n->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    n->wake_ev = event_new(base, n->wake_fd, EV_READ | EV_PERSIST, notify_on_wake, n);
    event_add(n->wake_ev, NULL);
    n->ctx = g_main_context_new();
    n->loop = g_main_loop_new(n->ctx, FALSE);
    n->live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    n->thread = g_thread_new("heed-notify", notify_thread, n);
    g_main_context_invoke(n->ctx, notify_start_watch, n);
    return n;
}

void notify_free(struct notify *n)
{
    if (!n)
        return;
    g_atomic_int_set(&n->stopping, 1);
    g_main_context_invoke(n->ctx, notify_stop, n);
    /* A hung server holds the thread in a call for up to ~25 s; stopping
     * heedd must not wait for that. */
    gint64 deadline = g_get_monotonic_time() + 3 * G_TIME_SPAN_SECOND;
    g_mutex_lock(&n->done_lock);
    while (!n->done && g_cond_wait_until(&n->done_cond, &n->done_lock, deadline))
        ;
    bool done = n->done;
    g_mutex_unlock(&n->done_lock);
    if (!done) {
        event_free(n->wake_ev);
        n->wake_ev = NULL;
        g_thread_unref(n->thread);
        notify_abandoned = n;
        return;
    }
    g_thread_join(n->thread);
    g_main_loop_unref(n->loop);
    g_main_context_unref(n->ctx);
    g_hash_table_unref(n->live);
    struct notify_event *ev;
    while ((ev = g_async_queue_try_pop(n->events)) != NULL)
        notify_event_free(ev);
    g_async_queue_unref(n->events);
    event_free(n->wake_ev);
    close(n->wake_fd);
    g_mutex_clear(&n->caps_lock);
    g_mutex_clear(&n->done_lock);
    g_cond_clear(&n->done_cond);
    g_free(n->caps);
    g_free(n->app_name);
    g_hash_table_unref(n->inflight);
    g_free(n);
}

static void notify_submit(struct notify *n, struct notify_request *r)
{
    r->n = n;
    g_atomic_int_inc(&n->pending);
    g_main_context_invoke_full(n->ctx, G_PRIORITY_DEFAULT, notify_run_request, r, notify_request_free);
}

void notify_show(struct notify *n, const struct notify_item *item)
{
    if (n->terminal) {
        notify_print(item->summary, item->body);
        return;
    }
    if (n->fallback)
        g_hash_table_replace(n->inflight, g_strdup(item->key), g_strdup_printf("%s\n%s", item->summary, item->body));
    struct notify_request *r = g_new0(struct notify_request, 1);
    r->key = g_strdup(item->key);
    r->summary = g_strdup(item->summary);
    r->body = g_strdup(item->body);
    r->hint_text = g_strdup(item->hint_text);
    r->sound = g_strdup(item->sound);
    r->image_path = g_strdup(item->image_path);
    r->urgency = item->urgency;
    r->mention_actions = item->mention_actions;
    r->resident = item->resident;
    r->bypass_dnd = item->bypass_dnd;
    notify_submit(n, r);
}

void notify_close(struct notify *n, const char *key)
{
    if (n->terminal)
        return;
    struct notify_request *r = g_new0(struct notify_request, 1);
    r->close = true;
    r->key = g_strdup(key);
    notify_submit(n, r);
}

void notify_check_dnd(struct notify *n)
{
    if (n->terminal)
        return;
    struct notify_request *r = g_new0(struct notify_request, 1);
    r->check_dnd = true;
    notify_submit(n, r);
}

bool notify_has_server(struct notify *n)
{
    return g_atomic_int_get(&n->has_server) != 0;
}

unsigned notify_pending(struct notify *n)
{
    return (unsigned)g_atomic_int_get(&n->pending);
}

void notify_set_terminal_fallback(struct notify *n, bool on)
{
    n->fallback = on;
}

bool notify_in_terminal(const struct notify *n)
{
    return n->terminal;
}

char *notify_capabilities(struct notify *n)
{
    if (n->terminal)
        return NULL;
    g_mutex_lock(&n->caps_lock);
    char *c = g_strdup(n->caps);
    g_mutex_unlock(&n->caps_lock);
    return c;
}
