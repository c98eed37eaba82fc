/* SPDX-License-Identifier: MIT */
/* notify-int: the inside of notify, shared by notify.c (the thread,
 * showing, the loop side) and notify-dnd.c (do-not-disturb on each
 * desktop, on the notification thread). Nothing else includes this. */
#ifndef HEED_NOTIFY_INT_H
#define HEED_NOTIFY_INT_H

#include <event2/event.h>
#include <gio/gio.h>
#include <stdbool.h>

#include "notify.h"

struct notify_dnd;

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

/* Queue an event for the loop thread (any thread). */
void notify_post(struct notify *n, enum notify_event_kind kind, const char *key, const char *action,
                 const char *error, int reason);

/* notify-dnd.c, on the notification thread. */
void notify_dnd_start(struct notify *n);
void notify_dnd_stop(struct notify *n);
/* Is the desktop in do-not-disturb? announce: post a change as NOTIFY_EV_DND. */
bool notify_dnd_active(struct notify *n, bool announce);
/* The server changed: learn its name again. */
void notify_dnd_forget_server(struct notify *n);

#endif
