/* SPDX-License-Identifier: MIT */
/* engine-int: the engine's inside, for engine.c and the control commands
 * (ctl*.c) only. Lanes, delivery and actions never include this: they get
 * what they need through their own env structs. */
#ifndef HEED_ENGINE_INT_H
#define HEED_ENGINE_INT_H

#include <glib.h>

#include "actions.h"
#include "config.h"
#include "deliver.h"
#include "engine.h"
#include "http.h"
#include "judge.h"
#include "lane.h"
#include "score.h"
#include "store.h"

struct engine {
    struct event_base *base;
    struct config *cfg;
    struct engine_options opts;
    struct store *store;
    struct http *http;
    struct score_weights weights;
    struct judge judge;
    struct learn *learn;          /* the user's model (learn.h), saved in the store */
    struct lane_env lane_env;     /* shared by all lanes; holds the progress counter */
    GPtrArray *lanes;             /* struct lane*, one per account */
    struct deliver *deliver;
    struct avatar *avatars;       /* senders' pictures, cached on disk */
    struct actions_env actions;
    unsigned long progress_seen;
    bool stall;
    char *demo_file;
    int64_t started_at;
    /* The status bars' top mention (ctl-status.c), found again only when
     * the store has changed or GLANCE_TOP_FRESH_S has passed (waiting
     * points move with time); in between, read by id. */
    int64_t glance_top_id;        /* 0: none found */
    uint64_t glance_gen;          /* store_generation() when found; 0: never */
    int64_t glance_at;            /* clock_now() when found */
    void (*on_change)(void *);    /* the status line may have changed */
    void *on_change_data;
    void (*on_stopped)(void *);
    void *on_stopped_data;
};

#endif
