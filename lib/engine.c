/* engine: see engine.h.
 *
 * Flow of one poll: account timer -> driver begin() -> http -> driver
 * handle() -> store (one transaction: mentions + driver state) -> attend()
 * -> notify. attend() is the only place that decides to show something; it
 * records a notification in the store before handing it to the
 * notification thread, and un-records it if the server certainly did not
 * show it, so a mention is shown at most once and never silently lost.
 */
#include "engine.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attention.h"
#include "build_config.h"
#include "control.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "mention.h"
#include "net/net.h"
#include "notify.h"
#include "score.h"
#include "secret.h"
#include "sse.h"
#include "store.h"
#include "text.h"
#include "url.h"

#define ENGINE_ATTEND_BATCH 500
#define ENGINE_TICK_MAX_S 3600        /* sleep at most this long: clock jumps heal within it */
#define ENGINE_DND_RECHECK_S 30
#define ENGINE_MAX_BACKOFF_S 900
#define ENGINE_AUTH_RETRY_S 900
#define ENGINE_EXCERPT_BYTES 280
#define ENGINE_HISTORY_EVERY_S 600
#define ENGINE_DIGEST_MIN_UPDATE_MS 5000 /* a digest on screen changes at most this often */
#define ENGINE_STREAM_POLL_S 600       /* polling is only the safety net while a stream is up */
#define ENGINE_STREAM_RECHECK_S 3600   /* auto mode: look for streaming again after this */
#define ENGINE_STREAM_STABLE_S 60      /* a stream up this long resets the reconnect backoff */

enum engine_health { ACCOUNT_STARTING, ACCOUNT_OK, ACCOUNT_RETRYING, ACCOUNT_AUTH, ACCOUNT_ERROR };
static const char *const engine_health_names[] = { "starting", "ok", "retrying", "needs-attention", "error" };

struct engine_account {
    struct engine *e;
    struct config_account *cfg;   /* points into e->cfg */
    const struct net_driver *drv;
    char *secret;
    json_t *state;
    char *saved_state;            /* the state as last written to the store */
    struct event *timer;
    struct event *local_ev;       /* demo: deferred local "response" */
    struct http_transfer *xfer;
    struct net_request *req;      /* the request in flight */
    enum engine_health health;
    char *last_error;             /* logged once until it changes */
    char *last_notice;            /* the driver's last note, by shape: said once */
    char *last_skip;              /* what was last said about unreadable items, by shape */
    char *read_upto;              /* the server's read marker, last we heard */
    int failures;
    int server_interval;          /* seconds the server asks between polls */
    int rate_remaining;
    int64_t retry_at, last_ok, next_at;
    unsigned long polls;
    int chain_added;              /* new mentions so far in the poll in flight */
    bool in_history;              /* the chain in flight reads the user's own posts */
    int64_t history_due;

    /* The stream lane (networks that stream): its own requests, beside polling. */
    struct net_request *stream_req;
    struct http_transfer *stream_xfer;
    struct sse *sse;
    struct event *stream_silence, *stream_retry;
    bool stream_up, stream_unavailable;
    bool stream_catchup;          /* the stream came up during a poll: poll again at once after it */
    int stream_failures;
    int64_t stream_up_at;
    unsigned long streamed;       /* mentions that arrived by stream */
};

struct engine_digest {
    int count, need_you;
    int64_t top_id[2];
    int top_score[2];
    char *top_line[2];            /* "Alice: Are you coming…" */
    bool dirty, shown;
    int64_t flushed_ms;           /* monotonic time of the last update on screen */
};

struct engine {
    struct event_base *base;
    struct config *cfg;
    struct engine_options opts;
    struct store *store;
    struct http *http;
    struct notify *notify;
    struct score_weights weights;
    struct attention attention;
    GPtrArray *accounts;          /* struct engine_account* */
    struct event *attend_ev;      /* deferred attend() */
    struct event *tick;           /* the next snooze end, reminder, retry or DND re-check */
    struct engine_digest digest;
    GHashTable *inflight;         /* notification key -> "summary\nbody" until the server answers */
    GHashTable *uncertain;        /* keys whose show timed out: re-offered if the server goes away */
    bool server_ok, server_said_down, terminal, said_terminal, was_holding;
    bool dnd;                     /* the desktop asked not to be disturbed, last we heard */
    int notify_failures;
    int64_t notify_retry_at;
    unsigned long progress, progress_seen;
    int64_t last_poll_ok;
    bool stall;
    char *demo_file;
    void (*on_change)(void *);    /* the status line may have changed */
    void *on_change_data;
    bool stopping;                /* engine_shutdown(): no new polls */
    int64_t started_at;
    void (*on_stopped)(void *);
    void *on_stopped_data;
};

static void engine_schedule_attend(struct engine *e, int delay_ms);
static void engine_account_poll(evutil_socket_t fd, short what, void *arg);
static void engine_withdraw(struct engine *e, int64_t id);
static void engine_stream_start(struct engine_account *a);

/* ---------------------------------------------------------------- helpers */

static char *engine_iso_time(int64_t t)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
    return dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup("");
}

static char *engine_age(int64_t seconds)
{
    if (seconds < 60)
        return g_strdup("just now");
    if (seconds < 3600)
        return g_strdup_printf("%d min", (int)(seconds / 60));
    if (seconds < 86400 * 2)
        return g_strdup_printf("%d h", (int)(seconds / 3600));
    return g_strdup_printf("%d d", (int)(seconds / 86400));
}

static struct engine_account *engine_find_account(struct engine *e, const char *name)
{
    for (guint i = 0; i < e->accounts->len; i++) {
        struct engine_account *a = g_ptr_array_index(e->accounts, i);
        if (g_strcmp0(a->cfg->name, name) == 0)
            return a;
    }
    return NULL;
}

/* The host a link of this account may point at. */
static char *engine_allowed_host(struct engine *e, const char *account)
{
    struct engine_account *a = engine_find_account(e, account);
    if (!a || g_strcmp0(a->drv->name, "demo") == 0)
        return NULL;
    if (a->cfg->web_host)
        return g_strdup(a->cfg->web_host);
    if (a->drv->web_host)
        return g_strdup(a->drv->web_host);
    g_autoptr(GUri) uri = g_uri_parse(a->cfg->server, G_URI_FLAGS_NONE, NULL);
    if (!uri)
        return NULL;
    return g_uri_get_port(uri) > 0 ? g_strdup_printf("%s:%d", g_uri_get_host(uri), g_uri_get_port(uri))
                                   : g_strdup(g_uri_get_host(uri));
}

/* ---------------------------------------------------------------- scoring */

static void engine_score(struct engine *e, struct mention *m)
{
    struct score_input in = { .m = m, .now = clock_now() };
    GError *err = NULL;
    if (m->author_id && !store_interactions(e->store, m->account, m->author_id, &in.replies, &in.last_reply, &err)) {
        log_debug("reading reply history: %s", err->message);
        g_clear_error(&err);
    }
    in.prior_mentions = store_author_mentions(e->store, m->account, m->author_id, m->created_at);
    in.vip = score_list_has(e->cfg->vip, m->author_handle);
    in.muted = score_list_has(e->cfg->muted, m->author_handle);
    in.keyword = score_find_keyword(e->cfg->keywords, m->text);
    json_t *reasons = NULL;
    m->score = score_compute(&e->weights, &in, &reasons);
    g_free(m->reasons_json);
    m->reasons_json = json_dumps(reasons, JSON_COMPACT);
    json_decref(reasons);
}

/* ---------------------------------------------------------------- accounts */

/* A message with its numbers blanked: "after 15000 ms" and "after 15003 ms"
 * are the same problem, said once. */
static char *engine_problem_shape(const char *msg)
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

/* A server may echo the token back in its error: never let it through. */
static char *engine_redact(const struct engine_account *a, const char *msg)
{
    if (!msg || !a->secret || strlen(a->secret) < 4 || !strstr(msg, a->secret))
        return g_strdup(msg);
    g_auto(GStrv) parts = g_strsplit(msg, a->secret, -1);
    return g_strjoinv("[token]", parts);
}

static void engine_account_set_error(struct engine_account *a, enum engine_health health, const char *raw)
{
    g_autofree char *msg = engine_redact(a, raw);
    a->health = health;
    if (a->e->on_change)
        a->e->on_change(a->e->on_change_data);
    g_autofree char *shape = engine_problem_shape(msg);
    g_autofree char *last_shape = a->last_error ? engine_problem_shape(a->last_error) : NULL;
    if (g_strcmp0(last_shape, shape) != 0) {
        /* Said once; repeated failures of the same kind stay quiet. */
        if (health == ACCOUNT_AUTH)
            log_err("%s: %s; check the token (heed doctor)", a->cfg->name, msg);
        else
            log_warn("%s: %s; will retry", a->cfg->name, msg);
    }
    g_free(a->last_error);
    a->last_error = g_strdup(msg);
}

static void engine_account_schedule(struct engine_account *a, int64_t delay_s)
{
    int64_t now = clock_now();
    if (a->retry_at > now + delay_s)
        delay_s = a->retry_at - now;
    if (delay_s < 0)
        delay_s = 0;
    a->next_at = now + delay_s;
    struct timeval tv = { (time_t)delay_s, 0 };
    evtimer_add(a->timer, &tv);
}

static int engine_account_interval(struct engine_account *a)
{
    int base = a->cfg->poll_interval > 0 ? a->cfg->poll_interval : a->e->cfg->poll_interval;
    if (base < 1)
        base = 60;
    if (a->server_interval > base)
        base = a->server_interval;
    if (a->stream_up && base < ENGINE_STREAM_POLL_S)
        base = ENGINE_STREAM_POLL_S;
    return base;
}

static void engine_account_backoff(struct engine_account *a)
{
    a->failures++;
    int64_t interval = engine_account_interval(a);
    int64_t delay = interval;
    for (int i = 1; i < a->failures && delay < ENGINE_MAX_BACKOFF_S; i++)
        delay *= 2;
    if (delay > ENGINE_MAX_BACKOFF_S)
        delay = ENGINE_MAX_BACKOFF_S;
    if (a->health == ACCOUNT_AUTH && delay < ENGINE_AUTH_RETRY_S)
        delay = ENGINE_AUTH_RETRY_S;
    /* Jitter so accounts on one server do not retry in lockstep. */
    delay += g_random_int_range(0, (gint32)(delay / 5 + 1));
    engine_account_schedule(a, delay);
}

static bool engine_account_load_secret(struct engine_account *a)
{
    if (!a->drv->needs_secret || a->secret)
        return true;
    GError *err = NULL;
    if (a->cfg->token_file)
        a->secret = secret_from_file(a->cfg->token_file, &err);
    else if (a->cfg->token_command)
        a->secret = secret_from_command(a->cfg->token_command, &err);
    else
        g_set_error(&err, SECRET_ERROR, SECRET_ERROR_MISSING, "no token_file or token_command");
    if (!a->secret) {
        engine_account_set_error(a, ACCOUNT_AUTH, err->message);
        g_error_free(err);
        return false;
    }
    return true;
}

static void engine_fill_net_account(struct engine_account *a, struct net_account *na)
{
    *na = (struct net_account){
        .name = a->cfg->name,
        .network = a->cfg->network,
        .server = a->cfg->server,
        .web_host = a->cfg->web_host,
        .identifier = a->cfg->identifier,
        .secret = a->secret,
        .reasons = (const char *const *)a->cfg->reasons,
        .participating = a->cfg->participating,
        .catchup_max_pages = a->cfg->catchup_max_pages > 0 ? a->cfg->catchup_max_pages : 10,
        .now = clock_now(),
    };
}

/* Strangers choose these fields; what heed keeps of them is bounded. */
#define ENGINE_MAX_NAME 256
#define ENGINE_MAX_TEXT (256 * 1024)
static void engine_cap(char **field, size_t max)
{
    if (*field && strlen(*field) > max) {
        char *cut = text_truncate(*field, max);
        g_free(*field);
        *field = cut;
    }
}

static void engine_bound_fields(struct mention *m)
{
    engine_cap(&m->author_name, ENGINE_MAX_NAME);
    engine_cap(&m->author_handle, ENGINE_MAX_NAME);
    engine_cap(&m->context, ENGINE_MAX_NAME);
    engine_cap(&m->text, ENGINE_MAX_TEXT);
}

/* Store one step's mentions and the driver state together. */
static bool engine_ingest(struct engine_account *a, struct net_result *res, int *added, GArray *answered)
{
    struct engine *e = a->e;
    GError *err = NULL;
    g_autofree char *js = NULL; /* the state to save, if it changed */
    *added = 0;
    if (res->state_changed)
        js = json_dumps(a->state, JSON_COMPACT);
    /* An idle poll writes nothing: no empty transaction, no WAL growth. */
    if (res->mentions->len == 0 && res->replies->len == 0 && (!js || g_strcmp0(js, a->saved_state) == 0))
        return true;
    if (!store_begin(e->store, &err))
        goto fail;
    int64_t now = clock_now();
    for (guint i = 0; i < res->replies->len; i++) {
        struct net_reply *r = g_ptr_array_index(res->replies, i);
        if (!r->remote_id || !r->to_author_id)
            continue;
        if (!store_add_reply(e->store, a->cfg->name, r->to_author_id, r->remote_id, r->at, &err))
            goto fail;
        if (r->to_post_id) {
            int64_t id = store_mark_replied(e->store, a->cfg->name, r->to_post_id, now, &err);
            if (id < 0)
                goto fail;
            if (id > 0)
                g_array_append_val(answered, id);
        }
    }
    for (guint i = 0; i < res->mentions->len; i++) {
        struct mention *m = g_ptr_array_index(res->mentions, i);
        if (!m->remote_id || !m->url) {
            log_warn("%s: a mention without %s was skipped", a->cfg->name, m->remote_id ? "a link" : "an id");
            continue;
        }
        m->fetched_at = now;
        engine_bound_fields(m);
        engine_score(e, m);
        bool inserted = false;
        if (!store_add_mention(e->store, m, res->initial_sync, &inserted, &err))
            goto fail;
        *added += inserted;
    }
    /* An unchanged state is not written again: every poll would otherwise
     * grow the write-ahead log, which is what fills a nearly full disk. */
    if (js && g_strcmp0(js, a->saved_state) != 0 &&
        !store_set_account_state(e->store, a->cfg->name, a->cfg->network, js, &err))
        goto fail;
    if (!store_commit(e->store, &err))
        goto fail;
    if (js) {
        g_free(a->saved_state);
        a->saved_state = g_steal_pointer(&js);
    }
    return true;
fail:
    store_rollback(e->store);
    engine_account_set_error(a, ACCOUNT_ERROR, err->message);
    g_error_free(err);
    return false;
}

static void engine_account_reload_state(struct engine_account *a)
{
    json_decref(a->state);
    a->state = NULL;
    g_autofree char *js = store_account_state(a->e->store, a->cfg->name, NULL);
    if (js)
        a->state = json_loads(js, 0, NULL);
    g_free(a->saved_state);
    a->saved_state = g_strdup(js);
    if (!json_is_object(a->state)) {
        json_decref(a->state);
        a->state = json_object();
    }
}

static void engine_account_send(struct engine_account *a, struct net_request *req);

static void engine_check_stopped(struct engine *e);
static void engine_account_handle_step(struct engine_account *a, const struct net_response *resp,
                                       const char *transport_error, bool transient);

static void engine_account_handle(struct engine_account *a, const struct net_response *resp, const char *transport_error,
                                  bool transient)
{
    engine_account_handle_step(a, resp, transport_error, transient);
    engine_check_stopped(a->e);
}

static void engine_account_handle_step(struct engine_account *a, const struct net_response *resp,
                                       const char *transport_error, bool transient)
{
    struct engine *e = a->e;
    struct net_request *req = a->req;
    a->req = NULL;
    struct net_result res;
    net_result_init(&res);
    if (transport_error) {
        net_result_fail(&res, transient ? NET_RETRY : NET_FATAL, "%s", transport_error);
    } else {
        struct net_account na;
        engine_fill_net_account(a, &na);
        a->drv->handle(&na, a->state, req, resp, &res);
    }
    net_request_free(req);
    e->progress++;

    if (res.poll_interval > 0)
        a->server_interval = res.poll_interval;
    if (res.rate_remaining >= 0)
        a->rate_remaining = res.rate_remaining;
    a->retry_at = res.retry_at;
    if (res.notice) {
        g_autofree char *notice = engine_redact(a, res.notice);
        g_autofree char *shape = engine_problem_shape(notice);
        if (g_strcmp0(shape, a->last_notice) != 0)
            log_notice("%s: %s", a->cfg->name, notice);
        g_free(a->last_notice);
        a->last_notice = g_steal_pointer(&shape);
    }
    if (res.read_upto && g_strcmp0(res.read_upto, a->read_upto) != 0) {
        /* Read in another client: its banner has done its job here. Only
         * banners from this run can be on screen. */
        GArray *ids = store_shown_upto(e->store, a->cfg->name, res.read_upto, e->started_at, NULL);
        for (guint i = 0; ids && i < ids->len; i++)
            engine_withdraw(e, g_array_index(ids, int64_t, i));
        if (ids)
            g_array_unref(ids);
        g_free(a->read_upto);
        a->read_upto = g_strdup(res.read_upto);
    }
    if (res.skipped) {
        /* A broken item stays on its page for many polls: say it once. */
        g_autofree char *why = engine_redact(a, res.skip_reason);
        g_autofree char *shape = engine_problem_shape(why);
        if (g_strcmp0(shape, a->last_skip) != 0)
            log_warn("%s: %d item%s could not be read and %s skipped: %s", a->cfg->name, res.skipped,
                     res.skipped == 1 ? "" : "s", res.skipped == 1 ? "was" : "were", why ? why : "");
        g_free(a->last_skip);
        a->last_skip = g_steal_pointer(&shape);
    }

    int added = 0;
    GArray *answered = g_array_new(FALSE, FALSE, sizeof(int64_t));
    bool stored = engine_ingest(a, &res, &added, answered);
    /* Answered on the network itself: the banner has done its job. */
    for (guint i = 0; stored && i < answered->len; i++)
        engine_withdraw(e, g_array_index(answered, int64_t, i));
    g_array_unref(answered);
    bool was_history = a->in_history;
    if (!res.next || res.outcome != NET_OK || !stored)
        a->in_history = false;
    if (was_history && (res.outcome != NET_OK || !stored)) {
        /* Reading the user's own posts is a bonus: it never makes the account unhealthy. */
        log_info("%s: could not read your recent posts (%s); trying again in %d min", a->cfg->name,
                 res.error ? res.error : "store error", ENGINE_HISTORY_EVERY_S / 60);
        engine_account_reload_state(a);
        a->history_due = clock_now() + ENGINE_HISTORY_EVERY_S;
        engine_account_schedule(a, engine_account_interval(a));
        net_result_clear(&res);
        return;
    }
    if (res.outcome != NET_OK || !stored) {
        if (res.outcome == NET_AUTH) {
            engine_account_set_error(a, ACCOUNT_AUTH, res.error ? res.error : "credentials refused");
            /* The user may fix the token file; read it again next time. */
            secret_free(a->secret);
            a->secret = NULL;
        } else if (res.outcome != NET_OK) {
            engine_account_set_error(a, res.outcome == NET_FATAL ? ACCOUNT_ERROR : ACCOUNT_RETRYING,
                                     res.error ? res.error : "request failed");
        }
        /* The driver may have moved its state before failing: trust only what was saved. */
        engine_account_reload_state(a);
        a->chain_added = 0;
        engine_account_backoff(a);
        if (added)
            engine_schedule_attend(e, 0);
        net_result_clear(&res);
        return;
    }
    a->chain_added += added;
    if (res.next) {
        struct net_request *next = res.next;
        res.next = NULL;
        net_result_clear(&res);
        /* Attention waits for the end of the poll: one pass, not one per page. */
        engine_account_send(a, next);
        return;
    }
    net_result_clear(&res);
    if (a->chain_added)
        log_info("%s: %d new mention%s", a->cfg->name, a->chain_added, a->chain_added == 1 ? "" : "s");
    a->chain_added = 0;
    if (was_history) {
        a->history_due = clock_now() + ENGINE_HISTORY_EVERY_S;
        engine_account_schedule(a, a->stream_catchup ? 0 : engine_account_interval(a));
        return;
    }
    if (a->drv->history_begin && clock_now() >= a->history_due) {
        struct net_account na;
        engine_fill_net_account(a, &na);
        char *herr = NULL;
        struct net_request *hreq = a->drv->history_begin(&na, a->state, &herr);
        g_free(herr);
        if (hreq) {
            a->in_history = true;
            engine_account_send(a, hreq);
            /* The poll itself succeeded: account health is updated below. */
        } else {
            a->history_due = clock_now() + ENGINE_HISTORY_EVERY_S;
        }
    }
    if (a->health != ACCOUNT_OK && a->health != ACCOUNT_STARTING && a->last_error)
        log_notice("%s: working again", a->cfg->name);
    a->health = ACCOUNT_OK;
    g_clear_pointer(&a->last_error, g_free);
    a->failures = 0;
    a->last_ok = clock_now();
    a->polls++;
    e->last_poll_ok = a->last_ok;
    if (!a->stream_xfer && !a->stream_req && !evtimer_pending(a->stream_retry, NULL))
        engine_stream_start(a);
    if (!a->in_history)
        engine_account_schedule(a, a->stream_catchup ? 0 : engine_account_interval(a));
    engine_schedule_attend(e, 0);
}

static void engine_http_done(struct http_result *hr, void *arg)
{
    struct engine_account *a = arg;
    a->xfer = NULL;
    struct net_response resp;
    http_result_view(hr, &resp);
    engine_account_handle(a, &resp, hr->status == 0 ? (hr->error ? hr->error : "transfer failed") : NULL,
                          hr->transient);
}

/* The demo network reads its sample from a file: same driver path, no HTTP. */
static void engine_local_fetch(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct engine_account *a = arg;
    g_autofree char *body = NULL;
    gsize len = 0;
    GError *err = NULL;
    const char *path = a->req->url + strlen("file://");
    if (!g_file_get_contents(path, &body, &len, &err)) {
        g_autofree char *msg = g_strdup(err->message);
        g_error_free(err);
        engine_account_handle(a, NULL, msg, false);
        return;
    }
    struct net_response resp = { .status = 200, .body = body, .body_len = len, .headers = NULL };
    engine_account_handle(a, &resp, NULL, false);
}

static void engine_account_send(struct engine_account *a, struct net_request *req)
{
    if (a->e->stopping) {
        /* Stopping: what was answered is stored; the rest waits for the next start. */
        net_request_free(req);
        return;
    }
    a->req = req;
    if (g_str_has_prefix(req->url, "file://")) {
        if (g_strcmp0(a->drv->name, "demo") != 0) {
            engine_account_handle(a, NULL, "local files are only for the demo network", false);
            return;
        }
        struct timeval tv = { 0, 0 };
        event_add(a->local_ev, &tv);
        return;
    }
    if (!g_str_has_prefix(req->url, "https://")) {
        engine_account_handle(a, NULL, "refusing a request that is not https", false);
        return;
    }
    struct http_options ho = { .ca_file = a->cfg->ca_file };
    a->xfer = http_start(a->e->http, req, &ho, engine_http_done, a);
}

static void engine_account_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct engine_account *a = arg;
    if (a->xfer || a->req || a->e->stopping)
        return;
    a->stream_catchup = false;
    if (!engine_account_load_secret(a)) {
        engine_account_backoff(a);
        return;
    }
    struct net_account na;
    engine_fill_net_account(a, &na);
    char *error = NULL;
    struct net_request *req = a->drv->begin(&na, a->state, &error);
    if (!req) {
        engine_account_set_error(a, ACCOUNT_ERROR, error ? error : "cannot build a request");
        g_free(error);
        engine_account_backoff(a);
        return;
    }
    engine_account_send(a, req);
}

/* ---------------------------------------------------------------- streams */

static void engine_stream_send(struct engine_account *a, struct net_request *req);

static void engine_stream_stop(struct engine_account *a)
{
    if (a->stream_xfer)
        http_cancel(a->e->http, a->stream_xfer);
    a->stream_xfer = NULL;
    net_request_free(a->stream_req);
    a->stream_req = NULL;
    sse_free(a->sse);
    a->sse = NULL;
    evtimer_del(a->stream_silence);
    a->stream_up = false;
}

/* Start (or restart) the stream chain, if this account streams. */
static void engine_stream_start(struct engine_account *a)
{
    if (!a->drv->stream_begin || a->cfg->streaming == CONFIG_STREAM_OFF || a->stream_xfer || a->stream_req)
        return;
    if (!json_is_true(json_object_get(a->state, "initialized")) && !a->last_ok)
        return; /* the first poll sets the starting point; streaming comes after */
    if (!engine_account_load_secret(a))
        return;
    struct net_account na;
    engine_fill_net_account(a, &na);
    char *error = NULL;
    struct net_request *req = a->drv->stream_begin(&na, a->state, &error);
    g_free(error);
    if (req)
        engine_stream_send(a, req);
}

static void engine_stream_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    engine_stream_start(arg);
}

static void engine_stream_failed(struct engine_account *a, bool unavailable, const char *why)
{
    bool was_up = a->stream_up;
    if (was_up && clock_now() - a->stream_up_at >= ENGINE_STREAM_STABLE_S)
        a->stream_failures = 0;
    engine_stream_stop(a);
    int64_t delay;
    if (unavailable && a->cfg->streaming == CONFIG_STREAM_AUTO) {
        if (!a->stream_unavailable)
            log_notice("%s: streaming is not available (%s); polling only", a->cfg->name, why);
        a->stream_unavailable = true;
        delay = ENGINE_STREAM_RECHECK_S;
    } else {
        a->stream_failures++;
        delay = 2;
        for (int i = 1; i < a->stream_failures && delay < 300; i++)
            delay *= 2;
        if (delay > 300)
            delay = 300;
        delay += g_random_int_range(0, (gint32)(delay / 2 + 1));
        if (was_up || a->stream_failures == 1)
            log_warn("%s: stream lost (%s); reconnecting in %lld s, polling meanwhile", a->cfg->name, why,
                     (long long)delay);
    }
    struct timeval tv = { (time_t)delay, 0 };
    evtimer_add(a->stream_retry, &tv);
    if (was_up)
        engine_account_schedule(a, 0); /* polling is the safety net again: catch up now */
}

static void engine_stream_silent(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct engine_account *a = arg;
    g_autofree char *why = g_strdup_printf("no data for %d s", a->cfg->stream_timeout);
    engine_stream_failed(a, false, why);
}

static void engine_stream_on_event(const char *event, const char *data, size_t len, void *arg)
{
    struct engine_account *a = arg;
    struct net_result res;
    net_result_init(&res);
    struct net_account na;
    engine_fill_net_account(a, &na);
    a->drv->stream_event(&na, a->state, event, data, len, &res);
    res.state_changed = false; /* a stream never moves the polling cursor */
    int added = 0;
    GArray *answered = g_array_new(FALSE, FALSE, sizeof(int64_t));
    if (res.mentions->len && engine_ingest(a, &res, &added, answered) && added) {
        a->streamed += (unsigned long)added;
        log_info("%s: %d new mention%s (stream)", a->cfg->name, added, added == 1 ? "" : "s");
        engine_schedule_attend(a->e, 0);
    }
    g_array_unref(answered);
    net_result_clear(&res);
}

/* Runs inside curl's write callback: no curl calls here, only the parser,
 * the store and timers. */
static bool engine_stream_data(const char *data, size_t len, void *arg)
{
    struct engine_account *a = arg;
    struct timeval tv = { a->cfg->stream_timeout > 0 ? a->cfg->stream_timeout : 45, 0 };
    evtimer_add(a->stream_silence, &tv);
    if (!a->stream_up) {
        a->stream_up = true;
        /* The backoff is reset only once the stream proved stable
         * (engine_stream_failed): a server that says ":)" and hangs up must
         * not be hammered. */
        a->stream_up_at = clock_now();
        a->stream_unavailable = false;
        log_notice("%s: streaming", a->cfg->name);
        /* Whatever happened while the stream was down: one poll closes the
         * hole. A poll in flight may have been answered before the stream
         * existed, so it is followed by another at once. */
        if (!a->req && !a->xfer)
            engine_account_schedule(a, 0);
        else
            a->stream_catchup = true;
    }
    a->e->progress++;
    return sse_feed(a->sse, data, len);
}

static void engine_stream_done(struct http_result *hr, void *arg)
{
    struct engine_account *a = arg;
    a->stream_xfer = NULL;
    struct net_request *req = a->stream_req;
    a->stream_req = NULL;
    if (req->stream) {
        net_request_free(req);
        g_autofree char *why = hr->status == 0 ? g_strdup(hr->error ? hr->error : "connection lost")
                               : hr->status == 200 ? g_strdup("the server closed the stream")
                                                   : g_strdup_printf("HTTP %ld", hr->status);
        engine_stream_failed(a, hr->status == 401 || hr->status == 403 || hr->status == 404, why);
        return;
    }
    struct net_response resp;
    http_result_view(hr, &resp);
    struct net_result res;
    net_result_init(&res);
    struct net_account na;
    engine_fill_net_account(a, &na);
    if (hr->status == 0)
        net_result_fail(&res, NET_RETRY, "%s", hr->error ? hr->error : "transfer failed");
    else
        a->drv->handle(&na, a->state, req, &resp, &res);
    net_request_free(req);
    if (res.outcome != NET_OK) {
        engine_stream_failed(a, res.outcome == NET_FATAL || res.outcome == NET_AUTH, res.error ? res.error : "failed");
    } else {
        if (res.state_changed) {
            g_autofree char *js = json_dumps(a->state, JSON_COMPACT);
            store_set_account_state(a->e->store, a->cfg->name, a->cfg->network, js, NULL);
        }
        if (res.next) {
            struct net_request *next = res.next;
            res.next = NULL;
            engine_stream_send(a, next);
        }
    }
    net_result_clear(&res);
}

static void engine_stream_send(struct engine_account *a, struct net_request *req)
{
    if (!g_str_has_prefix(req->url, "https://")) {
        net_request_free(req);
        engine_stream_failed(a, true, "not an https URL");
        return;
    }
    a->stream_req = req;
    struct http_options ho = { .ca_file = a->cfg->ca_file };
    if (req->stream) {
        a->sse = sse_new(engine_stream_on_event, a);
        ho.on_data = engine_stream_data;
        ho.data_user_data = a;
        struct timeval tv = { a->cfg->stream_timeout > 0 ? a->cfg->stream_timeout : 45, 0 };
        evtimer_add(a->stream_silence, &tv);
    }
    a->stream_xfer = http_start(a->e->http, req, &ho, engine_stream_done, a);
}

static void engine_account_free(struct engine_account *a)
{
    engine_stream_stop(a);
    event_free(a->stream_silence);
    event_free(a->stream_retry);
    if (a->xfer)
        http_cancel(a->e->http, a->xfer);
    event_free(a->timer);
    event_free(a->local_ev);
    net_request_free(a->req);
    json_decref(a->state);
    g_free(a->saved_state);
    secret_free(a->secret);
    g_free(a->last_error);
    g_free(a->last_notice);
    g_free(a->last_skip);
    g_free(a->read_upto);
    g_free(a);
}

static void engine_start_accounts(struct engine *e)
{
    for (int i = 0; i < e->cfg->n_accounts; i++) {
        struct config_account *ca = &e->cfg->accounts[i];
        const struct net_driver *drv = net_driver_find(ca->network);
        if (!drv) {
            log_err("%s: [account %s] network: no driver for \"%s\"", e->cfg->path, ca->name, ca->network);
            continue;
        }
        struct engine_account *a = g_new0(struct engine_account, 1);
        a->e = e;
        a->cfg = ca;
        a->drv = drv;
        a->rate_remaining = -1;
        a->timer = evtimer_new(e->base, engine_account_poll, a);
        a->local_ev = evtimer_new(e->base, engine_local_fetch, a);
        a->stream_silence = evtimer_new(e->base, engine_stream_silent, a);
        a->stream_retry = evtimer_new(e->base, engine_stream_retry, a);
        engine_account_reload_state(a);
        g_ptr_array_add(e->accounts, a);
        engine_account_schedule(a, 0);
        log_info("%s: watching %s%s%s", ca->name, ca->network, ca->server ? " at " : "", ca->server ? ca->server : "");
    }
}

/* ---------------------------------------------------------------- showing */

static char *engine_summary(const struct mention *m)
{
    /* Names are chosen by strangers: a 100 KB display name stays a name. */
    g_autofree char *name = text_truncate(m->author_name ? m->author_name : "Someone", 80);
    g_autofree char *handle = m->author_handle ? text_truncate(m->author_handle, 80) : NULL;
    const char *what = NULL;
    switch (m->kind) {
    case MENTION_KIND_DIRECT: what = "private message"; break;
    case MENTION_KIND_REPLY: what = "replied to you"; break;
    case MENTION_KIND_QUOTE: what = "quoted you"; break;
    case MENTION_KIND_REVIEW: what = "asks for your review"; break;
    case MENTION_KIND_ASSIGN: what = "assigned you"; break;
    default: break;
    }
    bool same = !handle || g_strcmp0(name, handle) == 0;
    g_autofree char *s = g_strdup_printf("%s%s%s%s%s%s", name, same ? "" : " (", same ? "" : handle,
                                         same ? "" : ")", what ? " · " : "", what ? what : "");
    return text_sanitize(s, false);
}

static char *engine_body(const struct mention *m)
{
    g_autofree char *t = text_truncate(m->text ? m->text : "", ENGINE_EXCERPT_BYTES);
    if (m->context) {
        g_autofree char *c = text_truncate(m->context, 120);
        return g_strdup_printf("%s\n%s", c, t);
    }
    return g_steal_pointer(&t);
}

static void engine_show(struct engine *e, const char *key, const char *summary, const char *body, const char *hint,
                        int urgency, bool mention_actions, bool bypass_dnd)
{
    if (e->terminal) {
        printf("%s\n%s\n\n", summary, body);
        fflush(stdout);
        return;
    }
    struct notify_item item = {
        .key = key, .summary = summary, .body = body, .hint_text = hint,
        .urgency = (enum notify_urgency)urgency, .mention_actions = mention_actions, .resident = mention_actions,
        .bypass_dnd = bypass_dnd,
    };
    g_hash_table_replace(e->inflight, g_strdup(key), g_strdup_printf("%s\n%s", summary, body));
    notify_show(e->notify, &item);
}

static void engine_show_mention(struct engine *e, const struct mention *m, int score, const char *prefix)
{
    int urgency = score_urgency(&e->weights, score);
    bool vip = score_list_has(e->cfg->vip, m->author_handle);
    g_autofree char *key = g_strdup_printf("m%" G_GINT64_FORMAT, m->id);
    g_autofree char *summary0 = engine_summary(m);
    g_autofree char *summary = prefix ? g_strdup_printf("%s%s", prefix, summary0) : g_strdup(summary0);
    g_autofree char *body = engine_body(m);
    g_autofree char *hint = g_strdup_printf("heed open %" G_GINT64_FORMAT " · heed snooze %" G_GINT64_FORMAT
                                            " · heed done %" G_GINT64_FORMAT, m->id, m->id, m->id);
    engine_show(e, key, summary, body, hint, urgency, true, vip && urgency == 2);
}

static void engine_digest_reset(struct engine_digest *d)
{
    g_free(d->top_line[0]);
    g_free(d->top_line[1]);
    *d = (struct engine_digest){ 0 };
}

static void engine_digest_add(struct engine *e, const struct mention *m, int score)
{
    struct engine_digest *d = &e->digest;
    d->count++;
    if (score_urgency(&e->weights, score) >= 1)
        d->need_you++;
    d->dirty = true;
    for (int i = 0; i < 2; i++) {
        if (d->top_line[i] && score <= d->top_score[i])
            continue;
        if (i == 0) {
            g_free(d->top_line[1]);
            d->top_line[1] = d->top_line[0];
            d->top_score[1] = d->top_score[0];
            d->top_id[1] = d->top_id[0];
        } else {
            g_free(d->top_line[1]);
        }
        g_autofree char *excerpt = text_truncate(m->text ? m->text : "", 90);
        g_autofree char *who = text_truncate(m->author_name ? m->author_name : "Someone", 60);
        d->top_line[i] = g_strdup_printf("%s: %s", who, excerpt);
        d->top_score[i] = score;
        d->top_id[i] = m->id;
        break;
    }
}

static void engine_digest_flush(struct engine *e)
{
    struct engine_digest *d = &e->digest;
    if (!d->dirty || d->count == 0)
        return;
    /* A burst (a post going viral) would otherwise rewrite the banner with
     * every page: update it at most every few seconds. */
    int64_t now_ms = clock_mono_ms();
    if (d->shown && now_ms - d->flushed_ms < ENGINE_DIGEST_MIN_UPDATE_MS) {
        engine_schedule_attend(e, (int)(ENGINE_DIGEST_MIN_UPDATE_MS - (now_ms - d->flushed_ms)));
        return;
    }
    d->flushed_ms = now_ms;
    d->dirty = false;
    if (d->count == 1) {
        /* A digest of one reads like the mention itself. */
        g_autoptr(GError) err = NULL;
        struct mention *m = store_get(e->store, d->top_id[0], &err);
        if (m) {
            g_autofree char *summary = engine_summary(m);
            g_autofree char *body = engine_body(m);
            engine_show(e, "digest", summary, body, "heed list", d->need_you ? 1 : 0, false, false);
            mention_free(m);
            d->shown = true;
            return;
        }
    }
    g_autofree char *summary = d->need_you > 0
                                   ? g_strdup_printf("%d new mentions · %d need%s you", d->count, d->need_you,
                                                     d->need_you == 1 ? "s" : "")
                                   : g_strdup_printf("%d new mentions", d->count);
    GString *body = g_string_new(NULL);
    for (int i = 0; i < 2; i++)
        if (d->top_line[i])
            g_string_append_printf(body, "%s%s", body->len ? "\n" : "", d->top_line[i]);
    engine_show(e, "digest", summary, body->str, "see them all with: heed list", d->need_you ? 1 : 0, false, false);
    g_string_free(body, TRUE);
    d->shown = true;
}

static bool engine_may_notify(struct engine *e, int64_t now)
{
    if (e->terminal || e->server_ok)
        return true;
    return now >= e->notify_retry_at;
}

static void engine_nudge(struct engine *e, int64_t now, bool holding)
{
    if (e->cfg->n_nudges == 0 || holding)
        return;
    GError *err = NULL;
    GPtrArray *due = store_due_nudges(e->store, now, e->cfg->nudge_schedule, e->cfg->n_nudges,
                                      e->weights.threshold_normal, &err);
    if (!due) {
        log_warn("nudges: %s", err->message);
        g_error_free(err);
        return;
    }
    for (guint i = 0; i < due->len && i < 3; i++) {
        struct mention *m = g_ptr_array_index(due, i);
        if (score_list_has(e->cfg->muted, m->author_handle))
            continue;
        /* Reminders share the popup allowance: they never flood either;
         * the rest stay due and come in a later pass. */
        if (attention_recent(&e->attention, now) >= e->attention.threshold)
            break;
        attention_note_popup(&e->attention, now);
        if (!store_mark_nudged(e->store, m->id, now, &err)) {
            log_warn("nudges: %s", err->message);
            g_clear_error(&err);
            break;
        }
        g_autofree char *age = engine_age(now - m->created_at);
        g_autofree char *prefix = g_strdup_printf("Still waiting %s · ", age);
        engine_show_mention(e, m, score_with_wait(&e->weights, m->score, m->created_at, now), prefix);
    }
    g_ptr_array_unref(due);
}

static void engine_attend_pass(struct engine *e, int64_t now);

static void engine_schedule_tick(struct engine *e, int64_t now);

static void engine_attend(struct engine *e)
{
    int64_t now = clock_now();
    engine_attend_pass(e, now);
    engine_schedule_tick(e, now);
    if (e->on_change)
        e->on_change(e->on_change_data);
}

static void engine_attend_pass(struct engine *e, int64_t now)
{
    GError *err = NULL;
    if (e->stall)
        return;
    if (store_wake_snoozed(e->store, now, &err) < 0) {
        log_warn("snoozes: %s", err->message);
        g_clear_error(&err);
    }
    if (!engine_may_notify(e, now))
        return;
    if (e->dnd && !e->terminal)
        notify_check_dnd(e->notify); /* the answer re-runs attend() when it is over */
    GPtrArray *list = store_unnotified(e->store, now, ENGINE_ATTEND_BATCH, &err);
    if (!list) {
        log_warn("reading mentions to show: %s", err->message);
        g_error_free(err);
        return;
    }
    int local_minute = attention_local_minute(now);
    bool holding = false;
    /* After quiet hours or a burst, everything waiting goes into one summary. */
    bool summarise = e->was_holding || (int)list->len > e->attention.threshold;
    if (!store_begin(e->store, &err)) {
        log_warn("%s", err->message);
        g_clear_error(&err);
        g_ptr_array_unref(list);
        return;
    }
    GPtrArray *popups = g_ptr_array_new();
    guint marked = 0;
    for (guint i = 0; i < list->len; i++) {
        struct mention *m = g_ptr_array_index(list, i);
        int score = score_with_wait(&e->weights, m->score, m->created_at, now);
        struct attention_input in = {
            .urgency = score_urgency(&e->weights, score),
            .vip = score_list_has(e->cfg->vip, m->author_handle),
            .muted = score_list_has(e->cfg->muted, m->author_handle),
            .dnd = e->dnd,
            .now = now,
            .local_minute = local_minute,
        };
        enum attention_verdict v = attention_decide(&e->attention, &in);
        if (v == ATTENTION_HOLD) {
            holding = true;
            continue;
        }
        if (v == ATTENTION_POPUP && summarise && !in.vip)
            v = ATTENTION_DIGEST;
        /* Recorded before it is shown: at most once, even across a crash. */
        if (!store_mark_notified(e->store, m->id, now, &err))
            break;
        marked++;
        if (v == ATTENTION_POPUP)
            g_ptr_array_add(popups, m);
        else if (v == ATTENTION_DIGEST)
            engine_digest_add(e, m, score);
    }
    if (err || !store_commit(e->store, &err)) {
        log_warn("recording notifications: %s", err ? err->message : "?");
        g_clear_error(&err);
        store_rollback(e->store);
        g_ptr_array_unref(popups);
        g_ptr_array_unref(list);
        engine_digest_reset(&e->digest);
        return;
    }
    for (guint i = 0; i < popups->len; i++) {
        struct mention *m = g_ptr_array_index(popups, i);
        engine_show_mention(e, m, score_with_wait(&e->weights, m->score, m->created_at, now), NULL);
    }
    /* A full batch means more may wait; but a batch that was all held
     * would only be read again unchanged (spinning), so it does not count. */
    bool more = list->len == ENGINE_ATTEND_BATCH && marked > 0;
    if (!more)
        engine_digest_flush(e); /* once per burst, not once per batch */
    e->was_holding = holding;
    g_ptr_array_unref(popups);
    g_ptr_array_unref(list);
    bool quiet = attention_in_quiet_hours(&e->attention.quiet, local_minute);
    engine_nudge(e, now, holding || quiet || e->dnd);
    if (more)
        engine_schedule_attend(e, 0);
}

static void engine_on_attend(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    engine_attend(arg);
}

static void engine_schedule_attend(struct engine *e, int delay_ms)
{
    struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
    if (!evtimer_pending(e->attend_ev, NULL) || delay_ms == 0)
        evtimer_add(e->attend_ev, &tv);
}

static void engine_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct engine *e = arg;
    e->progress++;
    engine_attend(e);
}

/* Sleep until something is due: nothing wakes an idle heedd but its polls,
 * the watchdog and real events. */
static void engine_schedule_tick(struct engine *e, int64_t now)
{
    int64_t next = store_next_due(e->store, now, e->cfg->nudge_schedule, e->cfg->n_nudges,
                                  e->weights.threshold_normal);
    int64_t delay = next > now ? next - now : ENGINE_TICK_MAX_S;
    if (e->dnd && delay > ENGINE_DND_RECHECK_S)
        delay = ENGINE_DND_RECHECK_S;
    if (!e->server_ok && !e->terminal && e->notify_retry_at > now && e->notify_retry_at - now < delay)
        delay = e->notify_retry_at - now;
    if (delay > ENGINE_TICK_MAX_S)
        delay = ENGINE_TICK_MAX_S;
    if (delay < 1)
        delay = 1;
    struct timeval tv = { (time_t)delay, 0 };
    evtimer_add(e->tick, &tv);
}

/* ---------------------------------------------------------------- user actions */

static bool engine_open(struct engine *e, const struct mention *m, GError **error)
{
    g_autofree char *host = engine_allowed_host(e, m->account);
    return url_open(m->url, host, e->cfg->open_command, error);
}

static void engine_withdraw(struct engine *e, int64_t id)
{
    g_autofree char *key = g_strdup_printf("m%" G_GINT64_FORMAT, id);
    if (!e->terminal)
        notify_close(e->notify, key);
    /* A digest of one is that mention's banner too. */
    if (e->digest.count == 1 && e->digest.top_id[0] == id) {
        engine_digest_reset(&e->digest);
        if (!e->terminal)
            notify_close(e->notify, "digest");
    }
}

static bool engine_set_state(struct engine *e, int64_t id, enum mention_state state, int64_t snooze_s, GError **error)
{
    int64_t now = clock_now();
    if (!store_set_state(e->store, id, state, now + snooze_s, now, error))
        return false;
    engine_withdraw(e, id);
    return true;
}

static void engine_on_action(struct engine *e, const char *key, const char *action)
{
    if (g_strcmp0(key, "digest") == 0) {
        int64_t top = e->digest.top_id[0];
        engine_digest_reset(&e->digest);
        if (!e->terminal)
            notify_close(e->notify, "digest");
        if (top) {
            struct mention *m = store_get(e->store, top, NULL);
            GError *err = NULL;
            if (m && !engine_open(e, m, &err)) {
                log_warn("opening %s: %s", m->url, err->message);
                g_error_free(err);
            }
            mention_free(m);
        }
        return;
    }
    if (!key || key[0] != 'm')
        return;
    int64_t id = g_ascii_strtoll(key + 1, NULL, 10);
    GError *err = NULL;
    struct mention *m = store_get(e->store, id, &err);
    if (!m) {
        log_warn("action %s on %s: %s", action, key, err->message);
        g_error_free(err);
        return;
    }
    log_info("action %s on mention %" G_GINT64_FORMAT, action, id);
    if (g_strcmp0(action, "default") == 0 || g_strcmp0(action, "reply") == 0) {
        if (!engine_open(e, m, &err)) {
            log_warn("not opening the link of mention %" G_GINT64_FORMAT ": %s", id, err->message);
            g_clear_error(&err);
        }
        if (g_strcmp0(action, "reply") == 0 && !engine_set_state(e, id, MENTION_DONE, 0, &err)) {
            log_warn("%s", err->message);
            g_clear_error(&err);
        }
    } else if (g_strcmp0(action, "snooze") == 0) {
        if (!engine_set_state(e, id, MENTION_SNOOZED, e->cfg->snooze_seconds, &err)) {
            log_warn("%s", err->message);
            g_clear_error(&err);
        }
    } else if (g_strcmp0(action, "done") == 0) {
        if (!engine_set_state(e, id, MENTION_DONE, 0, &err)) {
            log_warn("%s", err->message);
            g_clear_error(&err);
        }
    }
    mention_free(m);
}

/* The server certainly did not show `key`: offer it again later, and give
 * its popup allowance back. */
static void engine_reoffer(struct engine *e, const char *key)
{
    if (key && key[0] == 'm') {
        GError *err = NULL;
        if (!store_mark_notified(e->store, g_ascii_strtoll(key + 1, NULL, 10), 0, &err)) {
            log_warn("%s", err->message);
            g_error_free(err);
        }
        attention_forget_popup(&e->attention);
    } else if (g_strcmp0(key, "digest") == 0) {
        e->digest.dirty = true;
        e->digest.flushed_ms = 0;
    }
}

static void engine_notify_failed(struct engine *e, const struct notify_event *ev)
{
    int64_t now = clock_now();
    char *text = ev->key ? g_hash_table_lookup(e->inflight, ev->key) : NULL;
    if (e->opts.demo) {
        /* The demo must show something: fall back to the terminal. */
        if (!e->said_terminal) {
            log_notice("no notification server is reachable (%s); printing notifications here instead",
                       ev->error ? ev->error : "unknown error");
            e->said_terminal = true;
        }
        e->terminal = true;
        if (text)
            printf("%s\n\n", text);
        fflush(stdout);
        return;
    }
    if (!e->server_said_down) {
        log_warn("notification server unavailable (%s); mentions are kept and shown when it is back",
                 ev->error ? ev->error : "unknown error");
        e->server_said_down = true;
    }
    e->server_ok = false;
    e->notify_failures++;
    int64_t delay = 5;
    for (int i = 1; i < e->notify_failures && delay < 300; i++)
        delay *= 2;
    e->notify_retry_at = now + (delay > 300 ? 300 : delay);
    engine_reoffer(e, ev->key);
    engine_schedule_attend(e, (int)((e->notify_retry_at - now) * 1000));
}

static void engine_on_notify(const struct notify_event *ev, void *arg)
{
    struct engine *e = arg;
    e->progress++;
    switch (ev->kind) {
    case NOTIFY_EV_SHOWN:
        if (ev->key)
            g_hash_table_remove(e->uncertain, ev->key);
        if (e->server_said_down)
            log_notice("notification server is back");
        e->server_ok = true;
        e->server_said_down = false;
        e->notify_failures = 0;
        break;
    case NOTIFY_EV_FAILED:
        engine_notify_failed(e, ev);
        break;
    case NOTIFY_EV_UNCERTAIN:
        /* It may be on screen: not offered again, unless the server turns
         * out to be gone (then it certainly is not). */
        log_warn("notification server did not answer in time (%s)", ev->error ? ev->error : "");
        if (!e->server_ok) {
            engine_reoffer(e, ev->key);
        } else if (ev->key) {
            g_hash_table_add(e->uncertain, g_strdup(ev->key));
        }
        break;
    case NOTIFY_EV_ACTION:
        engine_on_action(e, ev->key, ev->action);
        break;
    case NOTIFY_EV_CLOSED:
        if (g_strcmp0(ev->key, "digest") == 0 && e->digest.shown && !e->digest.dirty)
            engine_digest_reset(&e->digest);
        break;
    case NOTIFY_EV_SERVER_UP:
        e->server_ok = true;
        e->notify_retry_at = 0;
        if (e->terminal && e->opts.demo)
            e->terminal = false;
        engine_schedule_attend(e, 0);
        break;
    case NOTIFY_EV_SERVER_DOWN: {
        e->server_ok = false;
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, e->uncertain);
        while (g_hash_table_iter_next(&it, &key, NULL))
            engine_reoffer(e, key);
        g_hash_table_remove_all(e->uncertain);
        break;
    }
    case NOTIFY_EV_HELD:
        /* Do-not-disturb: not shown, offered again when it ends, in one summary. */
        if (!e->dnd)
            log_info("the desktop is in do-not-disturb mode; holding notifications");
        e->dnd = true;
        e->was_holding = true;
        engine_reoffer(e, ev->key);
        break;
    case NOTIFY_EV_DND:
        if (e->dnd && !ev->reason) {
            log_info("do-not-disturb is over");
            e->dnd = false;
            engine_schedule_attend(e, 0);
        }
        e->dnd = ev->reason != 0;
        break;
    }
    if (ev->key && ev->kind != NOTIFY_EV_ACTION && ev->kind != NOTIFY_EV_CLOSED)
        g_hash_table_remove(e->inflight, ev->key);
}

/* ---------------------------------------------------------------- life cycle */

static void engine_apply_config(struct engine *e)
{
    score_weights_default(&e->weights);
    GError *err = NULL;
    if (!score_weights_load(&e->weights, e->cfg->score_group, e->cfg->path, &err)) {
        log_err("%s; using default weights", err->message);
        g_error_free(err);
        score_weights_default(&e->weights);
    }
    attention_init(&e->attention, e->cfg);
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

struct engine *engine_new(struct event_base *base, struct config *cfg, const struct engine_options *opts,
                          GError **error)
{
    g_autofree char *path = opts->state_path ? g_strdup(opts->state_path) : store_default_path();
    struct store *st = store_open(path, error);
    if (!st) {
        config_free(cfg); /* ours either way, as engine.h promises */
        return NULL;
    }
    struct engine *e = g_new0(struct engine, 1);
    e->base = base;
    e->cfg = cfg;
    e->opts = *opts;
    e->opts.state_path = NULL;
    e->demo_file = g_strdup(opts->demo_file);
    e->store = st;
    e->started_at = clock_now();
    e->http = http_new(base, error);
    if (!e->http) {
        store_close(st);
        config_free(cfg);
        g_free(e->demo_file);
        g_free(e);
        return NULL;
    }
    e->accounts = g_ptr_array_new();
    e->inflight = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    e->uncertain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    e->attend_ev = evtimer_new(base, engine_on_attend, e);
    e->tick = evtimer_new(base, engine_on_tick, e);
    e->notify = notify_new(base, "heed", engine_on_notify, e);
    if (opts->demo)
        engine_add_demo_account(e);
    engine_apply_config(e);
    engine_start_accounts(e);
    return e;
}

static void engine_stop_accounts(struct engine *e)
{
    for (guint i = 0; i < e->accounts->len; i++)
        engine_account_free(g_ptr_array_index(e->accounts, i));
    g_ptr_array_set_size(e->accounts, 0);
}

void engine_reload(struct engine *e, struct config *cfg)
{
    engine_stop_accounts(e);
    config_free(e->cfg);
    e->cfg = cfg;
    if (e->opts.demo)
        engine_add_demo_account(e);
    engine_apply_config(e);
    engine_start_accounts(e);
    engine_schedule_attend(e, 0);
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    engine_stop_accounts(e);
    notify_free(e->notify);
    http_free(e->http);
    event_free(e->attend_ev);
    event_free(e->tick);
    g_ptr_array_unref(e->accounts);
    g_hash_table_unref(e->inflight);
    g_hash_table_unref(e->uncertain);
    engine_digest_reset(&e->digest);
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
    e->progress_seen = e->progress;
    return !e->stall;
}

static void engine_check_stopped(struct engine *e)
{
    if (!e->stopping || !e->on_stopped)
        return;
    for (guint i = 0; i < e->accounts->len; i++) {
        struct engine_account *a = g_ptr_array_index(e->accounts, i);
        if (a->xfer || a->req)
            return;
    }
    void (*done)(void *) = e->on_stopped;
    e->on_stopped = NULL;
    done(e->on_stopped_data);
}

void engine_shutdown(struct engine *e, void (*done)(void *), void *user_data)
{
    e->stopping = true;
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
    for (guint i = 0; i < e->accounts->len; i++) {
        struct engine_account *a = g_ptr_array_index(e->accounts, i);
        if (a->health == ACCOUNT_OK || a->health == ACCOUNT_STARTING)
            ok++;
        else
            bad++;
    }
    GString *line = g_string_new(NULL);
    if (s.waiting == 0) {
        g_string_append(line, "nobody waiting");
    } else {
        g_autofree char *age = engine_age(clock_now() - s.oldest_created);
        g_string_append_printf(line, "%d %s waiting, oldest %s", s.people, s.people == 1 ? "person" : "people", age);
    }
    g_string_append_printf(line, " · %d account%s ok", ok, ok == 1 ? "" : "s");
    if (bad)
        g_string_append_printf(line, ", %d need%s attention", bad, bad == 1 ? "s" : "");
    if (e->last_poll_ok) {
        g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(e->last_poll_ok);
        g_autofree char *hm = g_date_time_format(dt, "%H:%M");
        g_string_append_printf(line, " · checked %s", hm);
    }
    return g_string_free(line, FALSE);
}

/* ---------------------------------------------------------------- control */

static json_t *engine_mention_json(struct engine *e, const struct mention *m, int64_t now)
{
    g_autofree char *created = engine_iso_time(m->created_at);
    /* A muted person's mention stays at 0: waiting does not make it urgent. */
    bool muted = score_list_has(e->cfg->muted, m->author_handle);
    bool open = m->state == MENTION_WAITING || m->state == MENTION_SNOOZED;
    int score = muted ? 0 : open ? score_with_wait(&e->weights, m->score, m->created_at, now) : m->score;
    json_t *reasons = m->reasons_json ? json_loads(m->reasons_json, 0, NULL) : NULL;
    if (!json_is_array(reasons)) {
        json_decref(reasons);
        reasons = json_array();
    }
    int wait = score_wait_points(&e->weights, m->created_at, now);
    if (wait > 0 && open && !muted) {
        g_autofree char *age = engine_age(now - m->created_at);
        g_autofree char *r = g_strdup_printf("waiting %s", age);
        json_array_append_new(reasons, json_pack("{s:s, s:i}", "reason", r, "points", wait));
    }
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:{s:s?, s:s?, s:s?}, s:s, s:s?, s:s, s:s, s:i, s:s, s:o, s:I}",
                          "id", (json_int_t)m->id, "network", m->network, "account", m->account, "kind",
                          mention_kind_name(m->kind), "author", "id", m->author_id, "handle", m->author_handle,
                          "name", m->author_name, "text", m->text ? m->text : "", "url", m->url, "created_at",
                          created, "state", mention_state_name(m->state), "score", score, "urgency",
                          (const char *[]){ "low", "normal", "critical" }[score_urgency(&e->weights, score)],
                          "reasons", reasons, "waiting_seconds", (json_int_t)(now - m->created_at));
    if (m->context)
        json_object_set_new(o, "context", json_string(m->context));
    if (m->state == MENTION_SNOOZED) {
        g_autofree char *until = engine_iso_time(m->snooze_until);
        json_object_set_new(o, "snoozed_until", json_string(until));
    }
    json_object_set_new(o, "notified", json_boolean(m->notified_at > 0));
    return o;
}

static int engine_cmp_score(gconstpointer a, gconstpointer b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    json_int_t sx = json_integer_value(json_object_get(x, "score"));
    json_int_t sy = json_integer_value(json_object_get(y, "score"));
    if (sx != sy)
        return sx > sy ? -1 : 1;
    json_int_t wx = json_integer_value(json_object_get(x, "waiting_seconds"));
    json_int_t wy = json_integer_value(json_object_get(y, "waiting_seconds"));
    return (wx < wy) - (wx > wy);
}

static json_t *engine_cmd_list(struct engine *e, json_t *args)
{
    bool all = json_is_true(json_object_get(args, "all"));
    json_int_t limit = json_integer_value(json_object_get(args, "limit"));
    int64_t now = clock_now();
    GError *err = NULL;
    GPtrArray *list = store_list(e->store, all ? STORE_ALL : STORE_WAITING, 0, now, &err);
    if (!list) {
        json_t *r = control_fail("%s", err->message);
        g_error_free(err);
        return r;
    }
    GPtrArray *items = g_ptr_array_sized_new(list->len);
    for (guint i = 0; i < list->len; i++)
        g_ptr_array_add(items, engine_mention_json(e, g_ptr_array_index(list, i), now));
    g_ptr_array_unref(list);
    /* Waiting first (by urgency incl. waiting time), handled after. */
    g_ptr_array_sort(items, engine_cmp_score);
    /* Waiting first, then snoozed, then handled; by urgency within each. */
    json_t *arr = json_array();
    static const char *const order[] = { "waiting", "snoozed", NULL };
    for (int pass = 0; pass < 3; pass++) {
        for (guint i = 0; i < items->len; i++) {
            json_t *o = g_ptr_array_index(items, i);
            const char *st = json_string_value(json_object_get(o, "state"));
            bool in_pass = pass < 2 ? g_strcmp0(st, order[pass]) == 0
                                    : g_strcmp0(st, order[0]) != 0 && g_strcmp0(st, order[1]) != 0;
            if (in_pass)
                json_array_append(arr, o);
        }
    }
    for (guint i = 0; i < items->len; i++)
        json_decref(g_ptr_array_index(items, i));
    g_ptr_array_unref(items);
    if (limit > 0)
        while ((json_int_t)json_array_size(arr) > limit)
            json_array_remove(arr, json_array_size(arr) - 1);
    return control_ok(arr);
}

static struct mention *engine_arg_mention(struct engine *e, json_t *args, json_t **fail)
{
    json_t *id = json_object_get(args, "id");
    if (!json_is_integer(id)) {
        *fail = control_fail("expected a numeric mention id");
        return NULL;
    }
    GError *err = NULL;
    struct mention *m = store_get(e->store, json_integer_value(id), &err);
    if (!m) {
        *fail = control_fail("%s", err->message);
        g_error_free(err);
    }
    return m;
}

static json_t *engine_cmd_status(struct engine *e)
{
    struct store_summary s = { 0 };
    GError *err = NULL;
    if (!store_summary(e->store, &s, &err)) {
        json_t *r = control_fail("%s", err->message);
        g_error_free(err);
        return r;
    }
    json_t *accounts = json_array();
    for (guint i = 0; i < e->accounts->len; i++) {
        struct engine_account *a = g_ptr_array_index(e->accounts, i);
        g_autofree char *last = a->last_ok ? engine_iso_time(a->last_ok) : NULL;
        g_autofree char *next = a->next_at ? engine_iso_time(a->next_at) : NULL;
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:I}", "name", a->cfg->name, "network",
                              a->cfg->network, "server", a->cfg->server, "health", engine_health_names[a->health],
                              "last_ok", last, "next_poll", next, "error", a->last_error, "polls",
                              (json_int_t)a->polls);
        if (a->rate_remaining >= 0)
            json_object_set_new(o, "rate_remaining", json_integer(a->rate_remaining));
        if (a->drv->stream_begin && a->cfg->streaming != CONFIG_STREAM_OFF) {
            json_object_set_new(o, "streaming", json_boolean(a->stream_up));
            json_object_set_new(o, "streamed", json_integer((json_int_t)a->streamed));
        }
        json_array_append_new(accounts, o);
    }
    g_autofree char *oldest = s.oldest_created ? engine_iso_time(s.oldest_created) : NULL;
    g_autofree char *line = engine_status_line(e);
    int64_t now = clock_now();
    g_autofree char *caps = e->terminal ? NULL : notify_capabilities(e->notify);
    struct http_stats hs;
    http_get_stats(e->http, &hs);
    json_t *st = json_pack("{s:s, s:I, s:o, s:i, s:i, s:s?, s:i, s:s, s:{s:b, s:s?, s:i}, s:{s:I, s:I}}",
                                "version", HEED_VERSION, "pid", (json_int_t)getpid(), "accounts", accounts,
                                "waiting", s.waiting, "people", s.people, "oldest_waiting", oldest, "total",
                                s.total, "summary", line, "notifications", "server", e->server_ok, "capabilities",
                                caps, "pending", (int)notify_pending(e->notify), "http", "transfers",
                                (json_int_t)hs.transfers, "connections", (json_int_t)hs.connects);
    /* Ages come from heedd's clock, so a client never has to guess it. */
    json_object_set_new(st, "now", json_integer(now));
    json_object_set_new(st, "oldest_waiting_seconds",
                        s.oldest_created ? json_integer(now - s.oldest_created) : json_null());
    return control_ok(st);
}

static json_t *engine_cmd_explain(struct engine *e, struct mention *m)
{
    int64_t now = clock_now();
    json_t *o = engine_mention_json(e, m, now);
    json_t *out = json_pack("{s:I, s:i, s:i, s:s, s:O}", "id", (json_int_t)m->id, "score",
                            (int)json_integer_value(json_object_get(o, "score")), "static_score", m->score,
                            "urgency", json_string_value(json_object_get(o, "urgency")), "reasons",
                            json_object_get(o, "reasons"));
    json_decref(o);
    return control_ok(out);
}

static json_t *engine_cmd_stats(struct engine *e, json_t *args)
{
    json_int_t days = json_integer_value(json_object_get(args, "days"));
    if (days <= 0)
        days = 7;
    int64_t now = clock_now();
    struct store_stats s;
    GError *err = NULL;
    if (!store_stats(e->store, now - days * 86400, 5, &s, &err)) {
        json_t *r = control_fail("%s", err->message);
        g_error_free(err);
        store_stats_clear(&s);
        return r;
    }
    json_t *longest = json_array();
    for (guint i = 0; i < s.longest->len; i++)
        json_array_append_new(longest, engine_mention_json(e, g_ptr_array_index(s.longest, i), now));
    json_t *out = json_pack("{s:I, s:i, s:i, s:i, s:o, s:o}", "days", days, "mentions", s.mentions, "answered",
                            s.answered, "replied_on_network", s.replied, "median_wait_seconds",
                            s.median_wait >= 0 ? json_integer(s.median_wait) : json_null(), "longest_waiting",
                            longest);
    store_stats_clear(&s);
    return control_ok(out);
}

json_t *engine_control(json_t *request, void *arg)
{
    struct engine *e = arg;
    const char *cmd = json_string_value(json_object_get(request, "cmd"));
    json_t *args = json_object_get(request, "args");
    json_t *fail = NULL;
    e->progress++;
    if (strcmp(cmd, "list") == 0)
        return engine_cmd_list(e, args);
    if (strcmp(cmd, "status") == 0)
        return engine_cmd_status(e);
    if (strcmp(cmd, "stats") == 0)
        return engine_cmd_stats(e, args);
    if (strcmp(cmd, "reload") == 0) {
        GError *err = NULL;
        struct config *cfg = config_load(e->cfg->path, false, &err);
        if (!cfg) {
            json_t *r = control_fail("%s", err->message);
            g_error_free(err);
            return r;
        }
        engine_reload(e, cfg);
        return control_ok(json_pack("{s:i}", "accounts", (int)e->accounts->len));
    }
    if (e->opts.test_hooks && strcmp(cmd, "test-clock") == 0) {
        clock_advance(json_integer_value(json_object_get(args, "advance")));
        engine_schedule_attend(e, 0);
        return control_ok(json_pack("{s:I}", "now", (json_int_t)clock_now()));
    }
    if (e->opts.test_hooks && strcmp(cmd, "test-stall") == 0) {
        e->stall = true;
        return control_ok(NULL);
    }
    bool needs_id = strcmp(cmd, "show") == 0 || strcmp(cmd, "explain") == 0 || strcmp(cmd, "done") == 0 ||
                    strcmp(cmd, "snooze") == 0 || strcmp(cmd, "open") == 0 || strcmp(cmd, "wake") == 0;
    if (!needs_id)
        return control_fail("unknown command \"%s\"", cmd);
    struct mention *m = engine_arg_mention(e, args, &fail);
    if (!m)
        return fail;
    json_t *answer = NULL;
    GError *err = NULL;
    if (strcmp(cmd, "show") == 0) {
        answer = control_ok(engine_mention_json(e, m, clock_now()));
    } else if (strcmp(cmd, "explain") == 0) {
        answer = engine_cmd_explain(e, m);
    } else if (strcmp(cmd, "open") == 0) {
        answer = engine_open(e, m, &err) ? control_ok(json_pack("{s:s}", "url", m->url)) : NULL;
    } else if (strcmp(cmd, "done") == 0) {
        answer = engine_set_state(e, m->id, MENTION_DONE, 0, &err) ? control_ok(NULL) : NULL;
    } else if (strcmp(cmd, "wake") == 0) {
        answer = engine_set_state(e, m->id, MENTION_WAITING, 0, &err) ? control_ok(NULL) : NULL;
    } else {
        json_t *secs = json_object_get(args, "seconds");
        int64_t s = json_is_integer(secs) ? json_integer_value(secs) : e->cfg->snooze_seconds;
        if (s <= 0)
            answer = control_fail("snooze duration must be positive");
        else if (engine_set_state(e, m->id, MENTION_SNOOZED, s, &err)) {
            g_autofree char *until = engine_iso_time(clock_now() + s);
            answer = control_ok(json_pack("{s:s}", "snoozed_until", until));
        }
    }
    if (!answer) {
        answer = control_fail("%s", err ? err->message : "failed");
        g_clear_error(&err);
    }
    mention_free(m);
    return answer;
}
