/* SPDX-License-Identifier: MIT */
/* lane: one account's poll lane (and, through stream.c, its stream lane).
 *
 * A lane runs its network driver on a timer: begin() -> http -> handle()
 * -> ingest, step after step, until the chain ends; then it waits for the
 * next poll (the interval, the server's X-Poll-Interval, a rate-limit reset
 * or a backoff with jitter). ingest is the one door into the store for
 * both lanes: mentions are judged (scored) first, then stored together with
 * the driver's state in one transaction, so a crash repeats at most one step
 * and the store's unique key absorbs the repeat.
 *
 * A lane never shows anything and never touches another lane: it reports
 * upward through the hooks in struct lane_env (new mentions stored, a
 * banner to withdraw, status changed, a chain ended).
 */
#ifndef HEED_LANE_H
#define HEED_LANE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "avatar.h"
#include "config.h"
#include "http.h"
#include "judge.h"
#include "net/net.h"
#include "store.h"

struct lane;

/* What every lane shares: the house's services and the hooks upward. */
struct lane_env {
    struct event_base *base;
    struct http *http;
    struct store *store;
    const struct config *cfg;        /* the daemon-wide settings (poll_interval) */
    const struct judge *judge;
    struct avatar *avatars;          /* senders' pictures, or NULL when avatars = false */
    int64_t started_at;              /* banners from before this run cannot be on screen */
    unsigned long progress;          /* bumped on every answer and stream byte */
    int64_t last_poll_ok;            /* the latest successful poll of any lane */
    bool stopping;                   /* shutting down: no new requests */
    void (*stored)(void *ctx);                /* new mentions are in the store */
    void (*withdraw)(void *ctx, int64_t id);  /* a banner has done its job (read or answered elsewhere) */
    void (*changed)(void *ctx);               /* a lane's health changed */
    void (*idle)(void *ctx);                  /* a lane's chain ended (shutdown waits for all) */
    void *ctx;
};

enum lane_health { LANE_STARTING, LANE_OK, LANE_RETRYING, LANE_AUTH, LANE_ERROR, LANE_WAITING_TOKEN };

struct lane_status {
    const char *name, *network, *server;
    const char *health;              /* "starting", "ok", "retrying", "needs-attention", "error",
                                        "waiting-for-token" (its token_command runs: a locked keyring) */
    bool ok;                         /* starting or ok */
    const char *error;               /* last problem, or NULL */
    int64_t last_ok, next_at;
    unsigned long polls;
    int rate_remaining;              /* -1 unknown */
    bool streams;                    /* this account streams (or tries to) */
    bool stream_up;
    unsigned long streamed;
};

/* Start watching: the first poll runs at once. cfg and drv must outlive the lane. */
struct lane *lane_new(struct lane_env *env, struct config_account *cfg, const struct net_driver *drv);
void lane_free(struct lane *l);
/* A request of the poll chain is in flight. */
bool lane_busy(const struct lane *l);
const struct config_account *lane_config(const struct lane *l);
const struct net_driver *lane_driver(const struct lane *l);
void lane_status(const struct lane *l, struct lane_status *out);

#endif
