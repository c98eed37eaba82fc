/* SPDX-License-Identifier: MIT */
/* notify: desktop notifications through libnotify, kept off the main loop.
 *
 * libnotify 0.8.1 makes synchronous D-Bus calls that can block for ~25 s
 * when the notification server hangs. So all of libnotify lives on one
 * thread with its own GMainContext; the daemon's libevent loop hands it
 * requests and receives events (shown, failed, action, closed, server
 * appeared/vanished) through a queue and an eventfd. A hung or missing
 * server therefore never stalls polling, the control socket or the
 * watchdog.
 *
 * Notifications are addressed by a caller-chosen key ("m42", "digest").
 * Showing a key that is still on screen updates it in place; after the
 * server closed one, the next show uses a fresh NotifyNotification (0.8.1
 * emits "closed" only once per object). Bodies are given as plain text and
 * escaped here only if the server advertises body-markup. Every banner
 * carries heed's icon (app_icon "heed", from the hicolor theme).
 */
#ifndef HEED_NOTIFY_H
#define HEED_NOTIFY_H

#include <event2/event.h>
#include <glib.h>
#include <stdbool.h>

enum notify_urgency { NOTIFY_LOW = 0, NOTIFY_NORMAL = 1, NOTIFY_CRITICAL = 2 };

struct notify_item {
    const char *key;
    const char *summary;     /* plain text */
    const char *body;        /* plain text */
    const char *hint_text;   /* appended to the body when the server has no actions, or NULL */
    enum notify_urgency urgency;
    bool mention_actions;    /* offer Reply / Snooze / Done; else only a default "Open" */
    bool resident;           /* ask servers with "persistence" to keep it after an action */
    bool bypass_dnd;         /* show even in do-not-disturb (critical VIPs) */
    const char *sound;       /* "sound-name" hint (freedesktop sound theme), or NULL for silence */
    const char *image_path;  /* "image-path" hint: the sender's picture (a local file), or NULL */
};

enum notify_event_kind {
    NOTIFY_EV_SHOWN,         /* the server accepted it */
    NOTIFY_EV_FAILED,        /* certainly not shown (no server, error) */
    NOTIFY_EV_UNCERTAIN,     /* timed out: may or may not be on screen */
    NOTIFY_EV_ACTION,        /* the user chose action (default, reply, snooze, done) */
    NOTIFY_EV_CLOSED,        /* gone from the screen */
    NOTIFY_EV_SERVER_UP,     /* org.freedesktop.Notifications got an owner */
    NOTIFY_EV_SERVER_DOWN,
    NOTIFY_EV_HELD,          /* not shown: the desktop is in do-not-disturb mode */
    NOTIFY_EV_DND,           /* do-not-disturb: reason 1 = active, 0 = not (see notify_check_dnd) */
};

struct notify_event {
    enum notify_event_kind kind;
    char *key;
    char *action;
    char *error;
    int reason;
};

typedef void (*notify_event_fn)(const struct notify_event *ev, void *user_data);

struct notify;

/* Starts the notification thread. Never fails for lack of a server. */
struct notify *notify_new(struct event_base *base, const char *app_name, notify_event_fn on_event, void *user_data);
/* Withdraws notifications that carry actions (they die with us), stops the thread. */
void notify_free(struct notify *n);

void notify_show(struct notify *n, const struct notify_item *item);
void notify_close(struct notify *n, const char *key);
/* Ask whether the desktop is in do-not-disturb mode; answered by an
 * NOTIFY_EV_DND event. Every show checks it too (NOTIFY_EV_HELD), and a
 * change is posted unasked as NOTIFY_EV_DND as soon as it is known: at once
 * where the desktop announces it (dunst's and KDE's PropertiesChanged,
 * swaync's SubscribeV2, xfconf's PropertyChanged, GSettings' "changed"),
 * within NOTIFY_DND_POLL_S (3 s) for mako, which announces nothing.
 * Detection, by the server's GetServerInformation name where only that
 * tells: "mako": makoctl mode lists do-not-disturb (or dnd), run without a
 * shell, killed after 1 s; "Xfce Notify Daemon": xfconf's xfce4-notifyd
 * /do-not-disturb; "cinnamon": org.cinnamon.desktop.notifications
 * display-notifications is false. Otherwise, the first that answers:
 * swaync's GetDnd, dunst's "paused", KDE's "Inhibited", GNOME's
 * show-banners false. When none answers the desktop is taken not to be in
 * do-not-disturb mode. Nothing is ever started on the bus to ask. */
void notify_check_dnd(struct notify *n);

/* The demo's fallback: when no notification server shows something, print
 * it to standard output instead (said once in the log) and go on printing
 * until a server appears. Such a failure reaches on_event as SHOWN. */
void notify_set_terminal_fallback(struct notify *n, bool on);
/* Printing to the terminal instead of showing (the fallback is in use). */
bool notify_in_terminal(const struct notify *n);
/* What the last contact with the server told (updated from the thread). */
bool notify_has_server(struct notify *n);
/* Requests handed to the thread that it has not finished (a hung server shows here). */
unsigned notify_pending(struct notify *n);
/* Space-separated capability list of the server, or NULL (g_free it). */
char *notify_capabilities(struct notify *n);

#endif
