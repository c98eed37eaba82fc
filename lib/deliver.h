/* SPDX-License-Identifier: MIT */
/* deliver: what reaches the user's screen, and when.
 *
 * Delivery owns the notification thread (notify.c) and the attend pass:
 * it reads from the store what has not been shown, asks attention.c for
 * each mention's verdict (popup, digest, hold, silent), records a
 * notification in the store before handing it to the notification thread,
 * and un-records it when the server certainly did not show it, so a
 * mention is shown at most once and never silently lost. It also sends the
 * reminders that fall due, keeps the digest, follows the notification
 * server (gone, back, hung, do-not-disturb) and sleeps until the next
 * thing is due.
 *
 * Clicks on a banner go upward through env.on_action; delivery never
 * changes a mention's state itself.
 */
#ifndef HEED_DELIVER_H
#define HEED_DELIVER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "avatar.h"
#include "config.h"
#include "judge.h"
#include "store.h"

struct deliver;

struct deliver_env {
    struct event_base *base;
    struct store *store;
    const struct judge *judge;
    struct avatar *avatars;          /* senders' pictures (used when cfg->avatars) */
    const struct config *cfg;        /* nudges and the digest's limits; see deliver_reconfigure */
    bool demo;                       /* print to the terminal when no notification server answers */
    unsigned long *progress;         /* bumped on every event from the notification thread */
    void (*on_action)(void *ctx, const char *key, const char *action); /* a click on a banner */
    void (*on_change)(void *ctx);    /* after every pass: the status line may have changed */
    void *ctx;
};

struct deliver *deliver_new(const struct deliver_env *env);
void deliver_free(struct deliver *d);
/* New settings (reload): the popup allowance starts afresh. */
void deliver_reconfigure(struct deliver *d, const struct config *cfg);
/* Run the attend pass after delay_ms (0: as soon as the loop turns). */
void deliver_soon(struct deliver *d, int delay_ms);
/* A mention was handled (done, snoozed, answered, read elsewhere): take its
 * banner down, and the digest's if it shows only that mention. */
void deliver_withdraw(struct deliver *d, int64_t id);
/* The digest was clicked: forget it, take it down, and return the id of
 * its most urgent mention (0 if none) for the caller to open. */
int64_t deliver_take_digest(struct deliver *d);
/* Test hook: stop attending (the watchdog test). */
void deliver_stall(struct deliver *d);

struct deliver_status {
    bool server_ok;
    char *capabilities;              /* g_free; NULL in the terminal or when unknown */
    unsigned pending;                /* requests the notification thread has not finished */
    bool dnd;                        /* the desktop asked not to be disturbed, last we heard */
};
void deliver_status(struct deliver *d, struct deliver_status *out);

#endif
