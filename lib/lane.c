/* SPDX-License-Identifier: MIT */
/* lane: see lane.h. The poll half; the stream half is stream.c. */
#include "lane.h"

#include <string.h>

#include "clock.h"
#include "lane-int.h"
#include "log.h"
#include "secret-job.h"
#include "secret.h"
#include "text.h"

#define LANE_MAX_BACKOFF_S 900
#define LANE_AUTH_RETRY_S 900
#define LANE_HISTORY_EVERY_S 600
/* Accounts make their first polls this far apart at most (an eighth of the
 * interval when that is shorter), and later ones in their own slot of the
 * interval, so that their polls never all ask at once: over HTTP/1.1 that
 * is one connection per server instead of one per account. */
#define LANE_FIRST_POLL_STEP_MS 1000
/* Strangers choose these fields; what heed keeps of them is bounded. */
#define LANE_MAX_NAME 256
#define LANE_MAX_TEXT (256 * 1024)

static const char *const lane_health_names[] = { "starting", "ok",    "retrying",
                                                 "needs-attention", "error", "waiting-for-token" };

static void lane_send(struct lane *l, struct wire_request *req);

/* ---------------------------------------------------------------- saying things once */

/* A message with its numbers blanked: "after 15000 ms" and "after 15003 ms"
 * are the same problem, said once. */
static char *lane_problem_shape(const char *msg)
{
    GString *shape = g_string_new(NULL);
    for (const char *p = msg ? msg : ""; *p; p++) {
        if (!g_ascii_isdigit(*p))
            g_string_append_c(shape, *p);
        else if (p == msg || !g_ascii_isdigit(p[-1]))
            g_string_append_c(shape, '#'); /* a run of digits, whatever its length */
    }
    return g_string_free(shape, FALSE);
}

char *lane_redact(const struct lane *l, const char *msg)
{
    if (!msg || !l->secret || strlen(l->secret) < 4 || !strstr(msg, l->secret))
        return g_strdup(msg);
    g_auto(GStrv) parts = g_strsplit(msg, l->secret, -1);
    return g_strjoinv("[token]", parts);
}

static void lane_set_error(struct lane *l, enum lane_health health, const char *raw)
{
    g_autofree char *msg = lane_redact(l, raw);
    l->health = health;
    if (l->env->changed)
        l->env->changed(l->env->ctx);
    g_autofree char *shape = lane_problem_shape(msg);
    g_autofree char *last_shape = l->last_error ? lane_problem_shape(l->last_error) : NULL;
    if (g_strcmp0(last_shape, shape) != 0) {
        /* Said once; repeated failures of the same kind stay quiet. */
        if (health == LANE_AUTH)
            log_err("%s: %s; check the token (heed doctor)", l->cfg->name, msg);
        else
            log_warn("%s: %s; will retry", l->cfg->name, msg);
    }
    g_free(l->last_error);
    l->last_error = g_strdup(msg);
}

/* Say `msg` unless its shape is what *last holds; remember the shape. */
static bool lane_say_once(char **last, const char *msg)
{
    g_autofree char *shape = lane_problem_shape(msg);
    bool new_shape = g_strcmp0(shape, *last) != 0;
    g_free(*last);
    *last = g_steal_pointer(&shape);
    return new_shape;
}

/* ---------------------------------------------------------------- timing */

static void lane_schedule_ms(struct lane *l, int64_t delay_ms)
{
    int64_t now = clock_now();
    if (l->retry_at * 1000 > now * 1000 + delay_ms)
        delay_ms = (l->retry_at - now) * 1000;
    if (delay_ms < 0)
        delay_ms = 0;
    l->next_at = now + (delay_ms + 999) / 1000;
    struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000 };
    evtimer_add(l->timer, &tv);
}

void lane_schedule(struct lane *l, int64_t delay_s)
{
    lane_schedule_ms(l, delay_s * 1000);
}

static int lane_interval(struct lane *l);

/* This lane's place k among the n accounts of the configuration. */
static void lane_slot(const struct lane *l, int64_t *k, int64_t *n)
{
    const struct config *cfg = l->env->cfg;
    *n = cfg->n_accounts > 0 ? cfg->n_accounts : 1;
    *k = cfg->accounts ? l->cfg - cfg->accounts : 0;
    if (*k < 0 || *k >= *n)
        *k = 0;
}

/* A new lane's first poll: a step after the account before it's. */
static void lane_schedule_first(struct lane *l)
{
    int64_t k, n;
    lane_slot(l, &k, &n);
    lane_schedule_ms(l, k * MIN(LANE_FIRST_POLL_STEP_MS, (int64_t)lane_interval(l) * 1000 / 8));
}

/* The next poll: a whole interval after this one began (the server's
 * X-Poll-Interval and rate limits count from there), on this account's slot,
 * the k-th n-th of the interval counted from the engine's start, so that the
 * accounts' polls stay spread evenly over it whatever their answers took.
 * Never earlier than the interval: a lane off its slot waits for the next. */
static void lane_schedule_next(struct lane *l)
{
    int64_t k, n;
    lane_slot(l, &k, &n);
    int64_t interval = (int64_t)lane_interval(l) * 1000;
    int64_t now = clock_mono_ms();
    int64_t earliest = (l->poll_started_ms ? l->poll_started_ms : now) + interval;
    if (earliest < now)
        earliest = now;
    int64_t at = clock_next_slot(earliest, l->env->origin_ms + interval * k / n, interval, interval / 4);
    lane_schedule_ms(l, at - now);
}

static int lane_interval(struct lane *l)
{
    int base = l->cfg->poll_interval > 0 ? l->cfg->poll_interval : l->env->cfg->poll_interval;
    if (base < 1)
        base = 60;
    if (l->server_interval > base)
        base = l->server_interval;
    int floor = stream_poll_floor(l);
    return base < floor ? floor : base;
}

static void lane_backoff(struct lane *l)
{
    l->failures++;
    int64_t interval = lane_interval(l);
    int64_t delay = interval;
    for (int i = 1; i < l->failures && delay < LANE_MAX_BACKOFF_S; i++)
        delay *= 2;
    if (delay > LANE_MAX_BACKOFF_S)
        delay = LANE_MAX_BACKOFF_S;
    if (l->health == LANE_AUTH && delay < LANE_AUTH_RETRY_S)
        delay = LANE_AUTH_RETRY_S;
    /* Jitter so accounts on one server do not retry in lockstep. */
    delay += g_random_int_range(0, (gint32)(delay / 5 + 1));
    lane_schedule(l, delay);
}

/* ---------------------------------------------------------------- the driver's view */


static void lane_secret_done(char *secret, GError *error, void *arg)
{
    struct lane *l = arg;
    l->secret_job = NULL;
    if (!secret) {
        lane_set_error(l, LANE_AUTH, error->message);
        g_error_free(error);
        lane_backoff(l);
        return;
    }
    l->secret = secret;
    l->health = l->last_ok ? LANE_OK : LANE_STARTING;
    if (l->env->changed)
        l->env->changed(l->env->ctx);
    lane_schedule(l, 0);
}

bool lane_load_secret(struct lane *l)
{
    if (!l->drv->needs_secret || l->secret)
        return true;
    if (l->secret_job)
        return false;
    GError *err = NULL;
    if (l->cfg->token_file) {
        l->secret = secret_from_file(l->cfg->token_file, &err);
    } else if (l->cfg->token_command) {
        /* A locked keyring may wait for the user for a long time: never on the loop. */
        l->secret_job = secret_job_start(l->env->base, l->cfg->token_command, 0, lane_secret_done, l, &err);
        if (l->secret_job) {
            l->health = LANE_WAITING_TOKEN;
            if (l->env->changed)
                l->env->changed(l->env->ctx);
            return false;
        }
    } else {
        g_set_error(&err, SECRET_ERROR, SECRET_ERROR_MISSING, "no token_file or token_command");
    }
    if (!l->secret) {
        lane_set_error(l, LANE_AUTH, err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

void lane_fill_net_account(struct lane *l, struct net_account *na)
{
    *na = (struct net_account){
        .name = l->cfg->name,
        .network = l->cfg->network,
        .server = l->cfg->server,
        .web_host = l->cfg->web_host,
        .identifier = l->cfg->identifier,
        .secret = l->secret,
        .client_id = l->cfg->client_id,
        .reasons = (const char *const *)l->cfg->reasons,
        .participating = l->cfg->participating,
        .catchup_max_pages = l->cfg->catchup_max_pages > 0 ? l->cfg->catchup_max_pages : 10,
        .now = clock_now(),
    };
}

/* ---------------------------------------------------------------- ingest */

static void lane_cap(char **field, size_t max)
{
    if (*field && strlen(*field) > max) {
        char *cut = text_truncate(*field, max);
        g_free(*field);
        *field = cut;
    }
}

/* Bound what strangers chose, and judge: before the write transaction, so
 * the store is only read here and the transaction stays short. */
static void lane_prepare(struct lane *l, struct net_result *res, int64_t now)
{
    for (guint i = 0; i < res->mentions->len; i++) {
        struct mention *m = g_ptr_array_index(res->mentions, i);
        if (!m->remote_id || !m->url)
            continue;
        m->fetched_at = now;
        lane_cap(&m->author_name, LANE_MAX_NAME);
        lane_cap(&m->author_handle, LANE_MAX_NAME);
        lane_cap(&m->context, LANE_MAX_NAME);
        lane_cap(&m->text, LANE_MAX_TEXT);
        judge_score(l->env->judge, m, now);
    }
}

static bool lane_store_replies(struct lane *l, struct net_result *res, int64_t now, GArray *answered, GError **err)
{
    struct store *st = l->env->store;
    for (guint i = 0; i < res->replies->len; i++) {
        struct net_reply *r = g_ptr_array_index(res->replies, i);
        if (!r->remote_id || !r->to_author_id)
            continue;
        if (!store_add_reply(st, l->cfg->name, r->to_author_id, r->remote_id, r->at, err))
            return false;
        if (r->to_post_id) {
            int64_t id = store_mark_replied(st, l->cfg->name, r->to_post_id, now, err);
            if (id < 0)
                return false;
            if (id > 0) {
                struct lane_answer a = { .id = id, .at = r->at > 0 ? r->at : now };
                g_array_append_val(answered, a);
            }
        }
    }
    return true;
}

bool lane_ingest(struct lane *l, struct net_result *res, int *added, GArray *answered)
{
    struct store *st = l->env->store;
    GError *err = NULL;
    g_autofree char *js = NULL; /* the state to save, if it changed */
    *added = 0;
    if (res->state_changed)
        js = json_dumps(l->state, JSON_COMPACT);
    /* An idle poll writes nothing: no empty transaction, no WAL growth. */
    if (res->mentions->len == 0 && res->replies->len == 0 && (!js || g_strcmp0(js, l->saved_state) == 0))
        return true;
    int64_t now = clock_now();
    lane_prepare(l, res, now);
    if (!store_begin(st, &err))
        goto fail;
    if (!lane_store_replies(l, res, now, answered, &err))
        goto fail;
    for (guint i = 0; i < res->mentions->len; i++) {
        struct mention *m = g_ptr_array_index(res->mentions, i);
        if (!m->remote_id || !m->url) {
            log_warn("%s: a mention without %s was skipped", l->cfg->name, m->remote_id ? "a link" : "an id");
            continue;
        }
        bool inserted = false;
        if (!store_add_mention(st, m, res->initial_sync, &inserted, &err))
            goto fail;
        *added += inserted;
        /* Fetched while the banner is on its way; it goes without a face if late. */
        if (inserted && !res->initial_sync && m->avatar_url)
            avatar_want(l->env->avatars, m->network, m->author_id, m->avatar_url, l->cfg->ca_file,
                        g_strcmp0(l->drv->name, "demo") == 0);
    }
    /* An unchanged state is not written again: every poll would otherwise
     * grow the write-ahead log, which is what fills a nearly full disk. */
    if (js && g_strcmp0(js, l->saved_state) != 0 &&
        !store_set_account_state(st, l->cfg->name, l->cfg->network, js, &err))
        goto fail;
    if (!store_commit(st, &err))
        goto fail;
    if (js) {
        g_free(l->saved_state);
        l->saved_state = g_steal_pointer(&js);
    }
    return true;
fail:
    store_rollback(st);
    lane_set_error(l, LANE_ERROR, err->message);
    g_error_free(err);
    return false;
}

static void lane_reload_state(struct lane *l)
{
    json_decref(l->state);
    l->state = NULL;
    g_autofree char *js = store_account_state(l->env->store, l->cfg->name, NULL);
    if (js)
        l->state = json_loads(js, 0, NULL);
    g_free(l->saved_state);
    l->saved_state = g_strdup(js);
    if (!json_is_object(l->state)) {
        json_decref(l->state);
        l->state = json_object();
    }
}

/* ---------------------------------------------------------------- one step of a chain */

/* What a result says beside its mentions: server hints, notes, read markers. */
static void lane_take_hints(struct lane *l, const struct net_result *res)
{
    if (res->poll_interval > 0)
        l->server_interval = res->poll_interval;
    if (res->rate_remaining >= 0)
        l->rate_remaining = res->rate_remaining;
    l->retry_at = res->retry_at;
    if (res->notice) {
        g_autofree char *notice = lane_redact(l, res->notice);
        if (lane_say_once(&l->last_notice, notice))
            log_notice("%s: %s", l->cfg->name, notice);
    }
    if (res->read_upto && g_strcmp0(res->read_upto, l->read_upto) != 0) {
        /* Read in another client: its banner has done its job here. Only
         * banners from this run can be on screen. */
        GArray *ids = store_shown_upto(l->env->store, l->cfg->name, res->read_upto, l->env->started_at, NULL);
        for (guint i = 0; ids && i < ids->len; i++)
            l->env->withdraw(l->env->ctx, g_array_index(ids, int64_t, i));
        if (ids)
            g_array_unref(ids);
        g_free(l->read_upto);
        l->read_upto = g_strdup(res->read_upto);
    }
    if (res->skipped) {
        /* A broken item stays on its page for many polls: say it once. */
        g_autofree char *why = lane_redact(l, res->skip_reason);
        if (lane_say_once(&l->last_skip, why))
            log_warn("%s: %d item%s could not be read and %s skipped: %s", l->cfg->name, res->skipped,
                     res->skipped == 1 ? "" : "s", res->skipped == 1 ? "was" : "were", why ? why : "");
    }
}

/* The step failed (or could not be stored): trust only what was saved, back off. */
static void lane_step_failed(struct lane *l, const struct net_result *res, bool was_history, int added)
{
    if (was_history) {
        /* Reading the user's own posts is a bonus: it never makes the account unhealthy. */
        log_info("%s: could not read your recent posts (%s); trying again in %d min", l->cfg->name,
                 res->error ? res->error : "store error", LANE_HISTORY_EVERY_S / 60);
        lane_reload_state(l);
        l->history_due = clock_now() + LANE_HISTORY_EVERY_S;
        lane_schedule(l, lane_interval(l));
        return;
    }
    if (res->outcome == NET_AUTH) {
        lane_set_error(l, LANE_AUTH, res->error ? res->error : "credentials refused");
        /* The user may fix the token file; read it again next time. */
        secret_free(l->secret);
        l->secret = NULL;
    } else if (res->outcome != NET_OK) {
        lane_set_error(l, res->outcome == NET_FATAL ? LANE_ERROR : LANE_RETRYING,
                       res->error ? res->error : "request failed");
    }
    /* The driver may have moved its state before failing: trust only what was saved. */
    lane_reload_state(l);
    l->chain_added = 0;
    lane_backoff(l);
    if (added)
        l->env->stored(l->env->ctx);
}

/* A poll chain ended well: maybe read the user's own posts, then wait. */
static void lane_poll_done(struct lane *l)
{
    if (l->chain_added)
        log_info("%s: %d new mention%s", l->cfg->name, l->chain_added, l->chain_added == 1 ? "" : "s");
    l->chain_added = 0;
    if (l->drv->history_begin && clock_now() >= l->history_due) {
        struct net_account na;
        lane_fill_net_account(l, &na);
        char *herr = NULL;
        struct wire_request *hreq = l->drv->history_begin(&na, l->state, &herr);
        g_free(herr);
        if (hreq) {
            l->in_history = true;
            lane_send(l, hreq);
            /* The poll itself succeeded: account health is updated below. */
        } else {
            l->history_due = clock_now() + LANE_HISTORY_EVERY_S;
        }
    }
    if (l->health != LANE_OK && l->health != LANE_STARTING && l->last_error)
        log_notice("%s: working again", l->cfg->name);
    l->health = LANE_OK;
    g_clear_pointer(&l->last_error, g_free);
    l->failures = 0;
    l->last_ok = clock_now();
    l->polls++;
    l->env->last_poll_ok = l->last_ok;
    stream_start(l);
    if (l->in_history)
        ; /* scheduled when the history chain ends */
    else if (l->stream_catchup)
        lane_schedule(l, 0);
    else
        lane_schedule_next(l);
    l->env->stored(l->env->ctx);
}

void lane_answered(struct lane *l, const GArray *answered)
{
    for (guint i = 0; i < answered->len; i++) {
        const struct lane_answer *a = &g_array_index(answered, struct lane_answer, i);
        l->env->withdraw(l->env->ctx, a->id);
        judge_learn(l->env->judge, a->id, LEARN_REPLIED, a->at);
    }
}

static void lane_step(struct lane *l, const struct wire_response *resp, const char *transport_error, bool transient)
{
    struct wire_request *req = l->req;
    l->req = NULL;
    struct net_result res;
    net_result_init(&res);
    if (transport_error) {
        net_result_fail(&res, transient ? NET_RETRY : NET_FATAL, "%s", transport_error);
    } else {
        struct net_account na;
        lane_fill_net_account(l, &na);
        l->drv->handle(&na, l->state, req, resp, &res);
    }
    wire_request_free(req);
    l->env->progress++;
    lane_take_hints(l, &res);

    int added = 0;
    GArray *answered = g_array_new(FALSE, FALSE, sizeof(struct lane_answer));
    bool stored = lane_ingest(l, &res, &added, answered);
    if (stored)
        lane_answered(l, answered);
    g_array_unref(answered);
    bool was_history = l->in_history;
    if (!res.next || res.outcome != NET_OK || !stored)
        l->in_history = false;
    if (res.outcome != NET_OK || !stored) {
        lane_step_failed(l, &res, was_history, added);
    } else if (res.next) {
        l->chain_added += added;
        /* Attention waits for the end of the poll: one pass, not one per page. */
        lane_send(l, g_steal_pointer(&res.next));
    } else if (was_history) {
        l->history_due = clock_now() + LANE_HISTORY_EVERY_S;
        if (l->stream_catchup)
            lane_schedule(l, 0);
        else
            lane_schedule_next(l);
    } else {
        l->chain_added += added;
        lane_poll_done(l);
    }
    net_result_clear(&res);
}

static void lane_answer(struct lane *l, const struct wire_response *resp, const char *transport_error, bool transient)
{
    lane_step(l, resp, transport_error, transient);
    if (!l->req && !l->xfer && l->env->idle)
        l->env->idle(l->env->ctx);
}

/* ---------------------------------------------------------------- requests */

static void lane_http_done(struct http_result *hr, void *arg)
{
    struct lane *l = arg;
    l->xfer = NULL;
    struct wire_response resp;
    http_result_view(hr, &resp);
    lane_answer(l, &resp, hr->status == 0 ? (hr->error ? hr->error : "transfer failed") : NULL, hr->transient);
}

static void lane_send(struct lane *l, struct wire_request *req)
{
    if (l->env->stopping) {
        /* Stopping: what was answered is stored; the rest waits for the next start. */
        wire_request_free(req);
        return;
    }
    l->req = req;
    /* The demo reads its sample from a file through the same path (http.h). */
    struct http_options ho = { .ca_file = l->cfg->ca_file, .local_files = g_strcmp0(l->drv->name, "demo") == 0 };
    l->xfer = http_start(l->env->http, req, &ho, lane_http_done, l);
}

static void lane_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct lane *l = arg;
    if (l->xfer || l->req || l->env->stopping)
        return;
    l->stream_catchup = false;
    if (!lane_load_secret(l)) {
        if (!l->secret_job)
            lane_backoff(l); /* else its answer starts the poll */
        return;
    }
    struct net_account na;
    lane_fill_net_account(l, &na);
    char *error = NULL;
    struct wire_request *req = l->drv->begin(&na, l->state, &error);
    l->poll_started_ms = clock_mono_ms();
    if (!req) {
        lane_set_error(l, LANE_ERROR, error ? error : "cannot build a request");
        g_free(error);
        lane_backoff(l);
        return;
    }
    lane_send(l, req);
}

/* ---------------------------------------------------------------- life */

struct lane *lane_new(struct lane_env *env, struct config_account *cfg, const struct net_driver *drv)
{
    struct lane *l = g_new0(struct lane, 1);
    l->env = env;
    l->cfg = cfg;
    l->drv = drv;
    l->rate_remaining = -1;
    l->timer = evtimer_new(env->base, lane_poll, l);
    if (!env->origin_ms)
        env->origin_ms = clock_mono_ms();
    stream_setup(l);
    lane_reload_state(l);
    lane_schedule_first(l);
    log_info("%s: watching %s%s%s", cfg->name, cfg->network, cfg->server ? " at " : "", cfg->server ? cfg->server : "");
    return l;
}

void lane_free(struct lane *l)
{
    if (!l)
        return;
    stream_teardown(l);
    secret_job_cancel(l->secret_job);
    if (l->xfer)
        http_cancel(l->env->http, l->xfer);
    event_free(l->timer);
    wire_request_free(l->req);
    json_decref(l->state);
    g_free(l->saved_state);
    secret_free(l->secret);
    g_free(l->last_error);
    g_free(l->last_notice);
    g_free(l->last_skip);
    g_free(l->read_upto);
    g_free(l);
}

bool lane_busy(const struct lane *l)
{
    return l->xfer || l->req;
}

const struct config_account *lane_config(const struct lane *l)
{
    return l->cfg;
}

const struct net_driver *lane_driver(const struct lane *l)
{
    return l->drv;
}

void lane_status(const struct lane *l, struct lane_status *out)
{
    *out = (struct lane_status){
        .name = l->cfg->name, .network = l->cfg->network, .server = l->cfg->server,
        .health = lane_health_names[l->health], .ok = l->health == LANE_OK || l->health == LANE_STARTING,
        .error = l->health == LANE_WAITING_TOKEN ? "waiting for its token_command (a locked keyring waits for you)"
                                                 : l->last_error,
        .last_ok = l->last_ok, .next_at = l->next_at, .polls = l->polls,
        .rate_remaining = l->rate_remaining,
        .streams = l->drv->stream_begin && l->cfg->streaming != CONFIG_STREAM_OFF,
        .stream_up = l->stream_up, .streamed = l->streamed,
    };
}
