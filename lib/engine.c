/* SPDX-License-Identifier: MIT */
/* engine: see engine.h. The assembly of the rooms and their life cycle.
 *
 * Rooms (docs/ARCHITECTURE.md): lane.c + stream.c (one account's polling
 * and streaming, ingest into the store), deliver.c (the attend pass,
 * digest, reminders, the notification thread), actions.c (done, snooze,
 * wake, open), ctl*.c (control commands). They report upward through the
 * hooks below; only this file and ctl*.c see struct engine.
 *
 * The walk of one mention: lane timer -> driver begin() -> http -> driver
 * handle() -> lane_ingest (judge, then store: one transaction with the
 * driver state) -> hook stored -> deliver pass (attention decides, store
 * records, notify shows) -> a click -> actions -> store.
 */
#include "engine.h"

#include <string.h>

#include "clock.h"
#include "ctl.h"
#include "engine-int.h"
#include "log.h"
#include "net/net.h"

/* ---------------------------------------------------------------- hooks */

static void engine_hook_stored(void *ctx)
{
    struct engine *e = ctx;
    deliver_soon(e->deliver, 0);
}

static void engine_hook_withdraw(void *ctx, int64_t id)
{
    struct engine *e = ctx;
    deliver_withdraw(e->deliver, id);
}

static void engine_hook_changed(void *ctx)
{
    struct engine *e = ctx;
    if (e->on_change)
        e->on_change(e->on_change_data);
}

static void engine_check_stopped(struct engine *e)
{
    if (!e->lane_env.stopping || !e->on_stopped)
        return;
    for (guint i = 0; i < e->lanes->len; i++)
        if (lane_busy(g_ptr_array_index(e->lanes, i)))
            return;
    void (*done)(void *) = e->on_stopped;
    e->on_stopped = NULL;
    done(e->on_stopped_data);
}

static void engine_hook_idle(void *ctx)
{
    engine_check_stopped(ctx);
}

static void engine_hook_action(void *ctx, const char *key, const char *action)
{
    struct engine *e = ctx;
    actions_on_click(&e->actions, key, action);
}

/* The host a link of this account may point at. */
static char *engine_hook_allowed_host(void *ctx, const char *account)
{
    struct engine *e = ctx;
    const struct lane *l = NULL;
    for (guint i = 0; i < e->lanes->len && !l; i++)
        if (g_strcmp0(lane_config(g_ptr_array_index(e->lanes, i))->name, account) == 0)
            l = g_ptr_array_index(e->lanes, i);
    if (!l || g_strcmp0(lane_driver(l)->name, "demo") == 0)
        return NULL;
    const struct config_account *ca = lane_config(l);
    if (ca->web_host)
        return g_strdup(ca->web_host);
    if (lane_driver(l)->web_host)
        return g_strdup(lane_driver(l)->web_host);
    g_autoptr(GUri) uri = g_uri_parse(ca->server, G_URI_FLAGS_NONE, NULL);
    if (!uri)
        return NULL;
    return g_uri_get_port(uri) > 0 ? g_strdup_printf("%s:%d", g_uri_get_host(uri), g_uri_get_port(uri))
                                   : g_strdup(g_uri_get_host(uri));
}

/* ---------------------------------------------------------------- configuration */

static void engine_apply_config(struct engine *e)
{
    e->glance_gen = 0; /* VIPs, mutes and weights decide the top anew */
    score_weights_default(&e->weights);
    GError *err = NULL;
    if (!score_weights_load(&e->weights, e->cfg->score_group, e->cfg->path, &err)) {
        log_err("%s; using default weights", err->message);
        g_error_free(err);
        score_weights_default(&e->weights);
    }
    e->judge = (struct judge){ .weights = &e->weights, .cfg = e->cfg, .store = e->store, .learn = e->learn };
    e->lane_env.cfg = e->cfg;
    e->lane_env.avatars = e->cfg->avatars ? e->avatars : NULL;
    e->actions.cfg = e->cfg;
    for (guint i = 0; e->cfg->problems && i < e->cfg->problems->len; i++)
        log_warn("%s", (const char *)g_ptr_array_index(e->cfg->problems, i));
}

static void engine_add_demo_account(struct engine *e)
{
    /* The demo is one pseudo-account that replays the bundled sample. */
    struct config_account *acc = g_new0(struct config_account, e->cfg->n_accounts + 1);
    if (e->cfg->n_accounts)
        memcpy(acc, e->cfg->accounts, sizeof *acc * (size_t)e->cfg->n_accounts);
    g_free(e->cfg->accounts);
    e->cfg->accounts = acc;
    struct config_account *d = &acc[e->cfg->n_accounts++];
    d->name = g_strdup("demo");
    d->network = g_strdup("demo");
    d->server = g_strconcat("file://", e->demo_file, NULL);
    d->poll_interval = 3;
}

static void engine_start_lanes(struct engine *e)
{
    for (int i = 0; i < e->cfg->n_accounts; i++) {
        struct config_account *ca = &e->cfg->accounts[i];
        const struct net_driver *drv = net_driver_find(ca->network);
        if (!drv) {
            log_err("%s: [account %s] network: no driver for \"%s\"", e->cfg->path, ca->name, ca->network);
            continue;
        }
        g_ptr_array_add(e->lanes, lane_new(&e->lane_env, ca, drv));
    }
}

static void engine_stop_lanes(struct engine *e)
{
    for (guint i = 0; i < e->lanes->len; i++)
        lane_free(g_ptr_array_index(e->lanes, i));
    g_ptr_array_set_size(e->lanes, 0);
}

/* ---------------------------------------------------------------- life cycle */

static void engine_wire(struct engine *e)
{
    e->lane_env = (struct lane_env){
        .base = e->base, .http = e->http, .store = e->store, .cfg = e->cfg, .judge = &e->judge,
        .avatars = e->cfg->avatars ? e->avatars : NULL,
        .started_at = e->started_at, .stored = engine_hook_stored, .withdraw = engine_hook_withdraw,
        .changed = engine_hook_changed, .idle = engine_hook_idle, .ctx = e,
    };
    struct deliver_env de = {
        .base = e->base, .store = e->store, .judge = &e->judge, .avatars = e->avatars, .cfg = e->cfg,
        .demo = e->opts.demo,
        .progress = &e->lane_env.progress, .on_action = engine_hook_action, .on_change = engine_hook_changed,
        .ctx = e,
    };
    e->deliver = deliver_new(&de);
    e->actions = (struct actions_env){
        .store = e->store, .deliver = e->deliver, .judge = &e->judge, .cfg = e->cfg,
        .allowed_host = engine_hook_allowed_host, .ctx = e,
    };
}

struct engine *engine_new(struct event_base *base, struct config *cfg, const struct engine_options *opts,
                          GError **error)
{
    g_autofree char *path = opts->state_path ? g_strdup(opts->state_path) : store_default_path();
    struct store *st = store_open(path, error);
    if (!st) {
        config_free(cfg); /* ours either way, as engine.h promises */
        return NULL;
    }
    struct http *http = http_new(base, error);
    if (!http) {
        store_close(st);
        config_free(cfg);
        return NULL;
    }
    struct engine *e = g_new0(struct engine, 1);
    e->base = base;
    e->cfg = cfg;
    e->opts = *opts;
    e->opts.state_path = NULL;
    e->demo_file = g_strdup(opts->demo_file);
    e->store = st;
    e->http = http;
    e->avatars = avatar_new(http, NULL);
    e->started_at = clock_now();
    e->lanes = g_ptr_array_new();
    GError *lerr = NULL;
    e->learn = learn_load(st, NULL, &lerr);
    if (!e->learn) {
        log_warn("what heed learned from you could not be read (%s); starting afresh", lerr->message);
        g_error_free(lerr);
        e->learn = learn_new(NULL);
    }
    if (opts->demo)
        engine_add_demo_account(e);
    engine_apply_config(e);
    engine_wire(e);
    engine_start_lanes(e);
    return e;
}

void engine_reload(struct engine *e, struct config *cfg)
{
    engine_stop_lanes(e);
    config_free(e->cfg);
    e->cfg = cfg;
    if (e->opts.demo)
        engine_add_demo_account(e);
    engine_apply_config(e);
    deliver_reconfigure(e->deliver, e->cfg);
    engine_start_lanes(e);
    deliver_soon(e->deliver, 0);
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    engine_stop_lanes(e);
    deliver_free(e->deliver);
    avatar_free(e->avatars);
    http_free(e->http);
    learn_free(e->learn);
    g_ptr_array_unref(e->lanes);
    store_close(e->store);
    config_free(e->cfg);
    g_free(e->demo_file);
    g_free(e);
}

bool engine_healthy(struct engine *e)
{
    /* Asked from a timer on the same loop, so being asked at all proves the
     * loop turns; the engine adds its own verdict (a test can make it refuse,
     * to prove that systemd's watchdog restarts a stuck daemon). */
    e->progress_seen = e->lane_env.progress;
    return !e->stall;
}

void engine_shutdown(struct engine *e, void (*done)(void *), void *user_data)
{
    e->lane_env.stopping = true;
    e->on_stopped = done;
    e->on_stopped_data = user_data;
    engine_check_stopped(e);
}

void engine_set_change_hook(struct engine *e, void (*fn)(void *), void *user_data)
{
    e->on_change = fn;
    e->on_change_data = user_data;
}

bool engine_stall_requested(struct engine *e)
{
    return e->stall;
}

char *engine_status_line(struct engine *e)
{
    struct store_summary s = { 0 };
    store_summary(e->store, &s, NULL);
    int ok = 0, bad = 0;
    for (guint i = 0; i < e->lanes->len; i++) {
        struct lane_status ls;
        lane_status(g_ptr_array_index(e->lanes, i), &ls);
        ls.ok ? ok++ : bad++;
    }
    GString *line = g_string_new(NULL);
    if (s.waiting == 0) {
        g_string_append(line, "nobody waiting");
    } else {
        g_autofree char *age = clock_age_words(clock_now() - s.oldest_created);
        g_string_append_printf(line, "%d %s waiting, oldest %s", s.people, s.people == 1 ? "person" : "people", age);
    }
    g_string_append_printf(line, " · %d account%s ok", ok, ok == 1 ? "" : "s");
    if (bad)
        g_string_append_printf(line, ", %d need%s attention", bad, bad == 1 ? "s" : "");
    if (e->lane_env.last_poll_ok) {
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(e->lane_env.last_poll_ok);
        g_autofree char *hm = g_date_time_format(dt, "%H:%M");
        g_string_append_printf(line, " · checked %s", hm);
    }
    return g_string_free(line, FALSE);
}

json_t *engine_control(json_t *request, void *arg)
{
    return ctl_dispatch(arg, request);
}
