/* SPDX-License-Identifier: MIT */
/* stream: the stream lane of an account (lane-int.h), beside its polling.
 *
 * The driver's stream_begin() chain (discovery, health check) runs like any
 * other; its last request is a long-lived event stream whose events go,
 * parsed by sse.c, to the driver's stream_event() and then through the same
 * lane_ingest as a poll. A stream never moves the polling cursor: while it
 * is up, polling slows to a safety net (STREAM_POLL_S); when it drops, a
 * poll closes the hole at once and the stream reconnects with backoff.
 *
 * Streamed mentions are gathered while curl hands over what it read and
 * stored together, in one transaction, when the loop turns (stream_flush):
 * a viral post's hundreds of mentions per second cost one commit per turn,
 * not one each. Past STREAM_BATCH_MAX waiting, the stream pauses until they
 * are stored, so a burst never holds the loop (and the control socket) for
 * long.
 */
#include <string.h>

#include "clock.h"
#include "lane-int.h"
#include "log.h"

#define STREAM_POLL_S 600       /* polling is only the safety net while a stream is up */
#define STREAM_RECHECK_S 3600   /* auto mode: look for streaming again after this */
#define STREAM_STABLE_S 60      /* a stream up this long resets the reconnect backoff */
#define STREAM_MAX_RETRY_S 300
#define STREAM_DEFAULT_TIMEOUT_S 45
#define STREAM_BATCH_MAX 200     /* gathered, the stream pauses for a commit (the read that
                                    reached it may bring a few more) */

static void stream_send(struct lane *l, struct wire_request *req);

int stream_poll_floor(const struct lane *l)
{
    return l->stream_up ? STREAM_POLL_S : 0;
}

static void stream_flush(struct lane *l);

void stream_stop(struct lane *l)
{
    l->stream_paused = false;   /* a stream about to go is not woken */
    stream_flush(l);            /* what it brought before it stopped is kept */
    if (l->stream_xfer)
        http_cancel(l->env->http, l->stream_xfer);
    l->stream_xfer = NULL;
    wire_request_free(l->stream_req);
    l->stream_req = NULL;
    sse_free(l->sse);
    l->sse = NULL;
    evtimer_del(l->stream_silence);
    l->stream_up = false;
}

/* Start the stream chain, if this account streams and it is not running or
 * waiting to reconnect. */
void stream_start(struct lane *l)
{
    if (!l->drv->stream_begin || l->cfg->streaming == CONFIG_STREAM_OFF || l->stream_xfer || l->stream_req ||
        evtimer_pending(l->stream_retry, NULL))
        return;
    if (!json_is_true(json_object_get(l->state, "initialized")) && !l->last_ok)
        return; /* the first poll sets the starting point; streaming comes after */
    if (!lane_load_secret(l))
        return;
    struct net_account na;
    lane_fill_net_account(l, &na);
    char *error = NULL;
    struct wire_request *req = l->drv->stream_begin(&na, l->state, &error);
    g_free(error);
    if (req)
        stream_send(l, req);
}

static void stream_on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_start(arg);
}

static void stream_failed(struct lane *l, bool unavailable, const char *why)
{
    bool was_up = l->stream_up;
    if (was_up && clock_now() - l->stream_up_at >= STREAM_STABLE_S)
        l->stream_failures = 0;
    stream_stop(l);
    int64_t delay;
    if (unavailable && l->cfg->streaming == CONFIG_STREAM_AUTO) {
        if (!l->stream_unavailable)
            log_notice("%s: streaming is not available (%s); polling only", l->cfg->name, why);
        l->stream_unavailable = true;
        delay = STREAM_RECHECK_S;
    } else {
        l->stream_failures++;
        delay = 2;
        for (int i = 1; i < l->stream_failures && delay < STREAM_MAX_RETRY_S; i++)
            delay *= 2;
        if (delay > STREAM_MAX_RETRY_S)
            delay = STREAM_MAX_RETRY_S;
        delay += g_random_int_range(0, (gint32)(delay / 2 + 1));
        if (was_up || l->stream_failures == 1)
            log_warn("%s: stream lost (%s); reconnecting in %lld s, polling meanwhile", l->cfg->name, why,
                     (long long)delay);
    }
    struct timeval tv = { (time_t)delay, 0 };
    evtimer_add(l->stream_retry, &tv);
    if (was_up)
        lane_schedule(l, 0); /* polling is the safety net again: catch up now */
}

static void stream_on_silence(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct lane *l = arg;
    g_autofree char *why = g_strdup_printf("no data for %d s", l->cfg->stream_timeout);
    stream_failed(l, false, why);
}

/* Store what the stream gathered, in one transaction; wake a paused stream. */
static void stream_flush(struct lane *l)
{
    struct net_result *batch = &l->stream_batch;
    if (batch->mentions->len || batch->replies->len) {
        int added = 0;
        GArray *answered = g_array_new(FALSE, FALSE, sizeof(struct lane_answer));
        if (lane_ingest(l, batch, &added, answered)) {
            lane_answered(l, answered);
            if (added) {
                l->streamed += (unsigned long)added;
                log_info("%s: %d new mention%s (stream)", l->cfg->name, added, added == 1 ? "" : "s");
                l->env->stored(l->env->ctx);
            }
        } /* else said by lane_ingest; the safety-net poll reads them again */
        g_array_unref(answered);
        g_ptr_array_set_size(batch->mentions, 0);
        g_ptr_array_set_size(batch->replies, 0);
    }
    if (l->stream_paused && l->stream_xfer) {
        l->stream_paused = false;
        http_resume(l->env->http, l->stream_xfer);
    }
}

static void stream_on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_flush(arg);
}

static void stream_on_event(const char *event, const char *data, size_t len, void *arg)
{
    struct lane *l = arg;
    struct net_result res;
    net_result_init(&res);
    struct net_account na;
    lane_fill_net_account(l, &na);
    l->drv->stream_event(&na, l->state, event, data, len, &res);
    /* A stream never moves the polling cursor: only mentions and replies are kept. */
    if (res.mentions->len || res.replies->len) {
        g_ptr_array_extend_and_steal(l->stream_batch.mentions, g_steal_pointer(&res.mentions));
        g_ptr_array_extend_and_steal(l->stream_batch.replies, g_steal_pointer(&res.replies));
        event_active(l->stream_flush_ev, EV_TIMEOUT, 0);
    }
    net_result_clear(&res);
}

static struct timeval stream_silence_limit(const struct lane *l)
{
    struct timeval tv = { l->cfg->stream_timeout > 0 ? l->cfg->stream_timeout : STREAM_DEFAULT_TIMEOUT_S, 0 };
    return tv;
}

/* Runs inside curl's write callback: no curl calls here, only the parser
 * and timers. */
static enum http_data stream_on_data(const char *data, size_t len, void *arg)
{
    struct lane *l = arg;
    if (l->stream_batch.mentions->len >= STREAM_BATCH_MAX) {
        l->stream_paused = true; /* this piece comes again after the flush */
        return HTTP_DATA_PAUSE;
    }
    struct timeval tv = stream_silence_limit(l);
    evtimer_add(l->stream_silence, &tv);
    if (!l->stream_up) {
        l->stream_up = true;
        /* The backoff is reset only once the stream proved stable
         * (stream_failed): a server that says ":)" and hangs up must not
         * be hammered. */
        l->stream_up_at = clock_now();
        l->stream_unavailable = false;
        log_notice("%s: streaming", l->cfg->name);
        /* Whatever happened while the stream was down: one poll closes the
         * hole. A poll in flight may have been answered before the stream
         * existed, so it is followed by another at once. */
        if (!lane_busy(l))
            lane_schedule(l, 0);
        else
            l->stream_catchup = true;
    }
    l->env->progress++;
    return sse_feed(l->sse, data, len) ? HTTP_DATA_TAKEN : HTTP_DATA_ABORT;
}

/* A step of the stream_begin() chain was answered. Its state changes (a
 * discovered streaming host) are stored like a poll's: through lane_ingest,
 * in a transaction, with errors said. */
static void stream_chain_step(struct lane *l, struct wire_request *req, struct http_result *hr)
{
    struct wire_response resp;
    http_result_view(hr, &resp);
    struct net_result res;
    net_result_init(&res);
    struct net_account na;
    lane_fill_net_account(l, &na);
    if (hr->status == 0)
        net_result_fail(&res, NET_RETRY, "%s", hr->error ? hr->error : "transfer failed");
    else
        l->drv->handle(&na, l->state, req, &resp, &res);
    wire_request_free(req);
    int added = 0;
    GArray *answered = g_array_new(FALSE, FALSE, sizeof(struct lane_answer));
    if (res.outcome != NET_OK) {
        stream_failed(l, res.outcome == NET_FATAL || res.outcome == NET_AUTH, res.error ? res.error : "failed");
    } else if (!lane_ingest(l, &res, &added, answered)) {
        stream_failed(l, false, "could not store the stream's state");
    } else if (res.next) {
        stream_send(l, g_steal_pointer(&res.next));
    }
    g_array_unref(answered);
    net_result_clear(&res);
}

static void stream_done(struct http_result *hr, void *arg)
{
    struct lane *l = arg;
    l->stream_xfer = NULL;
    struct wire_request *req = l->stream_req;
    l->stream_req = NULL;
    if (!req->stream) {
        stream_chain_step(l, req, hr);
        return;
    }
    wire_request_free(req);
    g_autofree char *why = hr->status == 0 ? g_strdup(hr->error ? hr->error : "connection lost")
                           : hr->status == 200 ? g_strdup("the server closed the stream")
                                               : g_strdup_printf("HTTP %ld", hr->status);
    stream_failed(l, hr->status == 401 || hr->status == 403 || hr->status == 404, why);
}

static void stream_send(struct lane *l, struct wire_request *req)
{
    if (!g_str_has_prefix(req->url, "https://")) {
        wire_request_free(req);
        stream_failed(l, true, "not an https URL");
        return;
    }
    l->stream_req = req;
    struct http_options ho = { .ca_file = l->cfg->ca_file };
    if (req->stream) {
        l->sse = sse_new(stream_on_event, l);
        ho.on_data = stream_on_data;
        ho.data_user_data = l;
        struct timeval tv = stream_silence_limit(l);
        evtimer_add(l->stream_silence, &tv);
    }
    l->stream_xfer = http_start(l->env->http, req, &ho, stream_done, l);
}

void stream_setup(struct lane *l)
{
    l->stream_silence = evtimer_new(l->env->base, stream_on_silence, l);
    l->stream_retry = evtimer_new(l->env->base, stream_on_retry, l);
    l->stream_flush_ev = evtimer_new(l->env->base, stream_on_flush, l);
    net_result_init(&l->stream_batch);
}

void stream_teardown(struct lane *l)
{
    stream_stop(l);
    event_free(l->stream_silence);
    event_free(l->stream_retry);
    event_free(l->stream_flush_ev);
    net_result_clear(&l->stream_batch);
}
