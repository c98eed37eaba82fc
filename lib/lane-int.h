/* SPDX-License-Identifier: MIT */
/* lane-int: the inside of a lane, shared by its two halves only: lane.c
 * (polling) and stream.c (streaming). Nothing else includes this. */
#ifndef HEED_LANE_INT_H
#define HEED_LANE_INT_H

#include <glib.h>
#include <jansson.h>

#include "lane.h"
#include "sse.h"

struct lane {
    struct lane_env *env;
    struct config_account *cfg;   /* points into the engine's config */
    const struct net_driver *drv;
    char *secret;                 /* kept until a server refuses it */
    struct secret_job *secret_job;/* token_command running, or NULL */
    json_t *state;
    char *saved_state;            /* the state as last written to the store */
    struct event *timer;
    struct http_transfer *xfer;
    struct wire_request *req;      /* the request in flight */
    enum lane_health health;
    char *last_error;             /* logged once until it changes */
    char *last_notice;            /* the driver's last note, by shape: said once */
    char *last_skip;              /* what was last said about unreadable items, by shape */
    char *read_upto;              /* the server's read marker, last we heard */
    int failures;
    int server_interval;          /* seconds the server asks between polls */
    int rate_remaining;
    int64_t retry_at, last_ok, next_at;
    int64_t poll_started_ms;      /* monotonic: when the latest poll began, 0 before the first */
    unsigned long polls;
    int chain_added;              /* new mentions so far in the poll in flight */
    bool in_history;              /* the chain in flight reads the user's own posts */
    int64_t history_due;

    /* The stream lane (networks that stream): its own requests, beside polling. */
    struct wire_request *stream_req;
    struct http_transfer *stream_xfer;
    struct sse *sse;
    struct event *stream_silence, *stream_retry;
    struct event *stream_flush_ev;  /* stores the batch when the loop turns */
    struct net_result stream_batch; /* streamed mentions not yet stored */
    bool stream_paused;             /* the batch is full: curl holds the rest */
    bool stream_up, stream_unavailable;
    bool stream_catchup;          /* the stream came up during a poll: poll again at once after it */
    int stream_failures;
    int64_t stream_up_at;
    unsigned long streamed;       /* mentions that arrived by stream */
};

/* lane.c, for stream.c */
/* True when the token is at hand. A token_command runs off the loop: then
 * false, and the lane polls as soon as it answers. */
bool lane_load_secret(struct lane *l);
void lane_fill_net_account(struct lane *l, struct net_account *na);
void lane_schedule(struct lane *l, int64_t delay_s);
/* Judge and store one step's mentions and replies with the driver's state
 * (when res->state_changed) in one transaction; *added counts new
 * mentions, answered gets a struct lane_answer for each mention answered on
 * the network. */
struct lane_answer {
    int64_t id;     /* the mention */
    int64_t at;     /* when the user's reply was posted */
};
/* The banners of mentions answered on the network have done their job, and
 * the model learns whom the user answers, and how soon. */
void lane_answered(struct lane *l, const GArray *answered);
bool lane_ingest(struct lane *l, struct net_result *res, int *added, GArray *answered);
/* A message with the token (if a server echoed it) replaced. */
char *lane_redact(const struct lane *l, const char *msg);

/* stream.c */
void stream_setup(struct lane *l);
void stream_start(struct lane *l);
void stream_stop(struct lane *l);
void stream_teardown(struct lane *l);
int stream_poll_floor(const struct lane *l);   /* seconds: polling is only the safety net while streaming */

#endif
