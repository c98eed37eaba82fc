/* SPDX-License-Identifier: MIT */
/* notify: see notify.h.
 *
 * Two threads: the daemon's loop thread (notify_* API, event delivery) and
 * the notification thread (everything libnotify/GDBus). They share only the
 * request queue (GMainContext invoke), the event queue (GAsyncQueue +
 * eventfd) and a few atomics.
 */
#include "notify.h"
#include "notify-int.h"

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

void notify_post(struct notify *n, enum notify_event_kind kind, const char *key, const char *action,
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
