/* SPDX-License-Identifier: MIT */
/* engine: the daemon's business, minus the process.
 *
 * The engine assembles the rooms on one libevent loop: a lane per account
 * (lane.h: poll, stream, ingest), delivery (deliver.h: attend pass, digest,
 * reminders, the notification thread), actions (actions.h) and the control
 * commands (ctl.h); it owns the store, the HTTP client, the user's learned
 * model and the picture cache. docs/ARCHITECTURE.md draws the house.
 * heedd (daemon/) adds signals, sd_notify and argv.
 */
#ifndef HEED_ENGINE_H
#define HEED_ENGINE_H

#include <event2/event.h>
#include <glib.h>
#include <jansson.h>
#include <stdbool.h>

#include "config.h"

struct engine;

struct engine_options {
    const char *state_path;     /* SQLite file; NULL = store_default_path() */
    bool demo;                  /* replay the bundled sample */
    const char *demo_file;      /* sample for demo mode */
    bool test_hooks;            /* allow test-only control commands (clock, stall) */
};

/* Takes ownership of cfg (freed on failure too). Fails only if the store
 * cannot be opened. */
struct engine *engine_new(struct event_base *base, struct config *cfg, const struct engine_options *opts,
                          GError **error);
void engine_free(struct engine *e);

/* Swap in a new configuration (SIGHUP): accounts added, removed or changed
 * are started, stopped or restarted; unchanged ones keep polling. */
void engine_reload(struct engine *e, struct config *cfg);

/* Control socket handler (see control.h). */
json_t *engine_control(json_t *request, void *engine);

/* Stop starting polls; call done (once, on the loop) when no poll is in
 * flight any more, so what the servers already answered is stored before
 * heedd exits. The caller bounds the wait. */
void engine_shutdown(struct engine *e, void (*done)(void *), void *user_data);

/* What a status bar shows: {"waiting", "people", "top": {id, name, handle,
 * network, score, urgency, waiting_seconds} or null} (new reference). */
json_t *engine_glance(struct engine *e);
/* One line for systemd's STATUS=: "2 people waiting, oldest 3 h · 3 accounts ok · checked 14:02". */
char *engine_status_line(struct engine *e);
/* Whether to feed systemd's watchdog. It is asked from a timer on the loop,
 * so being asked at all is the proof that matters: a loop stuck in a call
 * never asks, and systemd restarts heedd. The answer is false only when a
 * test asked the engine to stall (test hooks), to prove that restart. */
bool engine_healthy(struct engine *e);
/* Called (on the loop) whenever the status line may have changed. */
void engine_set_change_hook(struct engine *e, void (*fn)(void *), void *user_data);
/* Set when a test asked the loop to stall (test hooks only). */
bool engine_stall_requested(struct engine *e);

#endif
