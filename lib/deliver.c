/* SPDX-License-Identifier: MIT */
/* deliver: see deliver.h. */
#include "deliver.h"


#include "attention.h"
#include "clock.h"
#include "log.h"
#include "notify.h"
#include "text.h"

#define DELIVER_ATTEND_BATCH 250 /* a batch is one turn of the loop: short enough to keep the control socket answering */
#define DELIVER_EXCERPT_BYTES 280
#define DELIVER_MAX_NUDGES_A_PASS 3
#define DELIVER_NOTIFY_MAX_RETRY_S 300
#define DELIVER_IGNORED_EVERY_S 3600
#define DELIVER_IGNORED_BATCH 200

struct deliver {
    struct deliver_env env;
    struct notify *notify;
    struct attention attention;
    struct attention_digest digest;
    struct event *attend_ev;      /* deferred attend pass */
    struct event *tick;           /* the next snooze end, reminder, retry or DND re-check */
    GHashTable *uncertain;        /* keys whose show timed out: re-offered if the server goes away */
    bool server_ok, server_said_down, was_holding;
    bool dnd;                     /* the desktop asked not to be disturbed, last we heard */
    bool stall;
    int64_t ignored_due;          /* next look for mentions shown and left untouched for days */
    int notify_failures;
    int64_t notify_retry_at;
};

/* ---------------------------------------------------------------- words */

static char *deliver_summary(const struct mention *m)
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

static char *deliver_body(const struct mention *m)
{
    g_autofree char *t = text_truncate(m->text ? m->text : "", DELIVER_EXCERPT_BYTES);
    if (m->context) {
        g_autofree char *c = text_truncate(m->context, 120);
        return g_strdup_printf("%s\n%s", c, t);
    }
    return g_steal_pointer(&t);
}

/* ---------------------------------------------------------------- showing */

static void deliver_show(struct deliver *d, const struct notify_item *item)
{
    notify_show(d->notify, item);
}

/* A mention's own banner; a new one (not a reminder) may make a sound,
 * never in quiet hours (a VIP may pass them, silently). */
static void deliver_show_mention(struct deliver *d, const struct mention *m, int64_t now, const char *prefix)
{
    struct judgement j = judge_now(d->env.judge, m, now);
    bool quiet = attention_in_quiet_hours(&d->attention.quiet, attention_local_minute(now));
    g_autofree char *face = d->env.cfg->avatars ? avatar_path(d->env.avatars, m->network, m->author_id) : NULL;
    g_autofree char *key = g_strdup_printf("m%" G_GINT64_FORMAT, m->id);
    g_autofree char *summary0 = deliver_summary(m);
    g_autofree char *summary = prefix ? g_strdup_printf("%s%s", prefix, summary0) : g_strdup(summary0);
    g_autofree char *body = deliver_body(m);
    g_autofree char *hint = g_strdup_printf("heed open %" G_GINT64_FORMAT " · heed snooze %" G_GINT64_FORMAT
                                            " · heed done %" G_GINT64_FORMAT, m->id, m->id, m->id);
    struct notify_item item = {
        .key = key, .summary = summary, .body = body, .hint_text = hint, .urgency = (enum notify_urgency)j.urgency,
        .mention_actions = true, .resident = true, .bypass_dnd = j.vip && j.urgency == 2,
        .sound = !prefix && !quiet ? d->env.cfg->sound : NULL, .image_path = face,
    };
    deliver_show(d, &item);
}

/* The digest's banner: no actions but "Open", no sound. */
static void deliver_show_digest(struct deliver *d, const char *summary, const char *body, const char *hint,
                                int urgency)
{
    struct notify_item item = {
        .key = "digest", .summary = summary, .body = body, .hint_text = hint,
        .urgency = (enum notify_urgency)urgency,
    };
    deliver_show(d, &item);
}

static void deliver_digest_flush(struct deliver *d)
{
    struct attention_digest *g = &d->digest;
    int64_t now_ms = clock_mono_ms();
    int wait = attention_digest_wait_ms(g, now_ms);
    if (wait < 0)
        return;
    if (wait > 0) {
        deliver_soon(d, wait);
        return;
    }
    attention_digest_flushed(g, now_ms);
    if (g->count == 1) {
        /* A digest of one reads like the mention itself. */
        g_autoptr(GError) err = NULL;
        struct mention *m = store_get(d->env.store, g->top_id[0], &err);
        if (m) {
            g_autofree char *summary = deliver_summary(m);
            g_autofree char *body = deliver_body(m);
            deliver_show_digest(d, summary, body, "heed list", g->need_you ? 1 : 0);
            mention_free(m);
            return;
        }
    }
    g_autofree char *summary = NULL, *body = NULL;
    attention_digest_text(g, &summary, &body);
    deliver_show_digest(d, summary, body, "see them all with: heed list", g->need_you ? 1 : 0);
}

/* ---------------------------------------------------------------- the attend pass */

static void deliver_nudge(struct deliver *d, int64_t now)
{
    const struct config *cfg = d->env.cfg;
    if (cfg->n_nudges == 0)
        return;
    GError *err = NULL;
    GPtrArray *due = store_due_nudges(d->env.store, now, cfg->nudge_schedule, cfg->n_nudges,
                                      d->env.judge->weights->threshold_normal, &err);
    if (!due) {
        log_warn("nudges: %s", err->message);
        g_error_free(err);
        return;
    }
    for (guint i = 0; i < due->len && i < DELIVER_MAX_NUDGES_A_PASS; i++) {
        struct mention *m = g_ptr_array_index(due, i);
        if (judge_now(d->env.judge, m, now).noise)
            continue;
        /* Reminders share the popup allowance: they never flood either;
         * the rest stay due and come in a later pass. */
        if (!attention_take_popup(&d->attention, now))
            break;
        if (!store_mark_nudged(d->env.store, m->id, now, &err)) {
            log_warn("nudges: %s", err->message);
            g_clear_error(&err);
            break;
        }
        g_autofree char *age = clock_age_words(now - m->created_at);
        g_autofree char *prefix = g_strdup_printf("Still waiting %s · ", age);
        deliver_show_mention(d, m, now, prefix);
    }
    g_ptr_array_unref(due);
}

/* Decide for each mention not shown yet, and record the decisions in one
 * statement before anything is shown. Returns false when nothing could
 * be recorded; *popups gets the mentions to pop up, *holding whether any
 * was held, *marked how many were decided. */
static bool deliver_decide(struct deliver *d, GPtrArray *list, int64_t now, GPtrArray *popups, bool *holding,
                           guint *marked)
{
    GError *err = NULL;
    int local_minute = attention_local_minute(now);
    bool summarise = attention_summarise(&d->attention, d->was_holding, (int)list->len);
    if (list->len == 0)
        return true; /* nothing to record: no write after every idle poll */
    GArray *shown = g_array_sized_new(FALSE, FALSE, sizeof(int64_t), list->len);
    for (guint i = 0; i < list->len; i++) {
        struct mention *m = g_ptr_array_index(list, i);
        struct judgement j = judge_now(d->env.judge, m, now);
        struct attention_input in = {
            .urgency = j.urgency, .vip = j.vip, .muted = j.muted, .noise = j.noise, .dnd = d->dnd, .now = now,
            .local_minute = local_minute,
        };
        enum attention_verdict v = attention_decide(&d->attention, &in);
        if (v == ATTENTION_HOLD) {
            *holding = true;
            continue;
        }
        if (v == ATTENTION_POPUP && summarise && !in.vip)
            v = ATTENTION_DIGEST;
        g_array_append_val(shown, m->id);
        if (v == ATTENTION_POPUP)
            g_ptr_array_add(popups, m);
        else if (v == ATTENTION_DIGEST)
            attention_digest_add(&d->digest, m->id, j.score, j.urgency, m->author_name, m->text);
    }
    /* Recorded before it is shown: at most once, even across a crash. */
    bool ok = store_mark_notified_many(d->env.store, (const int64_t *)(void *)shown->data, shown->len, now, &err);
    *marked = ok ? shown->len : 0;
    g_array_unref(shown);
    if (!ok) {
        log_warn("recording notifications: %s", err->message);
        g_error_free(err);
        g_ptr_array_set_size(popups, 0);
        attention_digest_reset(&d->digest);
        return false;
    }
    return true;
}

/* Shown, then left alone for days: that says something too (learn.h). */
static void deliver_note_ignored(struct deliver *d, int64_t now)
{
    if (now < d->ignored_due || !d->env.judge->learn || !d->env.judge->weights->learn)
        return;
    d->ignored_due = now + DELIVER_IGNORED_EVERY_S;
    GError *err = NULL;
    GPtrArray *list = store_learn_ignored(d->env.store, now - LEARN_IGNORED_AFTER, DELIVER_IGNORED_BATCH, &err);
    if (!list) {
        log_debug("mentions left alone: %s", err->message);
        g_error_free(err);
        return;
    }
    for (guint i = 0; i < list->len; i++)
        judge_learn(d->env.judge, ((struct mention *)g_ptr_array_index(list, i))->id, LEARN_IGNORED, now);
    g_ptr_array_unref(list);
}

static void deliver_pass(struct deliver *d, int64_t now)
{
    GError *err = NULL;
    if (d->stall)
        return;
    if (store_wake_snoozed(d->env.store, now, &err) < 0) {
        log_warn("snoozes: %s", err->message);
        g_clear_error(&err);
    }
    bool terminal = notify_in_terminal(d->notify);
    if (!terminal && !d->server_ok && now < d->notify_retry_at)
        return;
    if (d->dnd)
        notify_check_dnd(d->notify); /* the answer re-runs the pass when it is over */
    GPtrArray *list = store_unnotified(d->env.store, now, DELIVER_ATTEND_BATCH, &err);
    if (!list) {
        log_warn("reading mentions to show: %s", err->message);
        g_error_free(err);
        return;
    }
    GPtrArray *popups = g_ptr_array_new();
    bool holding = false;
    guint marked = 0;
    if (deliver_decide(d, list, now, popups, &holding, &marked)) {
        for (guint i = 0; i < popups->len; i++)
            deliver_show_mention(d, g_ptr_array_index(popups, i), now, NULL);
        /* A full batch means more may wait; but a batch that was all held
         * would only be read again unchanged (spinning), so it does not count. */
        bool more = list->len == DELIVER_ATTEND_BATCH && marked > 0;
        if (!more)
            deliver_digest_flush(d); /* once per burst, not once per batch */
        d->was_holding = holding;
        if (!attention_nudges_held(&d->attention, holding, attention_local_minute(now), d->dnd))
            deliver_nudge(d, now);
        deliver_note_ignored(d, now);
        if (more)
            deliver_soon(d, 0);
    }
    g_ptr_array_unref(popups);
    g_ptr_array_unref(list);
}

/* Sleep until something is due: nothing wakes an idle heedd but its polls,
 * the watchdog and real events. */
static void deliver_schedule_tick(struct deliver *d, int64_t now)
{
    const struct config *cfg = d->env.cfg;
    int64_t next = store_next_due(d->env.store, now, cfg->nudge_schedule, cfg->n_nudges,
                                  d->env.judge->weights->threshold_normal);
    int64_t retry = !d->server_ok && !notify_in_terminal(d->notify) ? d->notify_retry_at : 0;
    struct timeval tv = { (time_t)attention_sleep_s(now, next, d->dnd, retry), 0 };
    evtimer_add(d->tick, &tv);
}

static void deliver_attend(struct deliver *d)
{
    int64_t now = clock_now();
    deliver_pass(d, now);
    deliver_schedule_tick(d, now);
    if (d->env.on_change)
        d->env.on_change(d->env.ctx);
}

static void deliver_on_attend(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    deliver_attend(arg);
}

static void deliver_on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct deliver *d = arg;
    (*d->env.progress)++;
    deliver_attend(d);
}

void deliver_soon(struct deliver *d, int delay_ms)
{
    struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
    if (!evtimer_pending(d->attend_ev, NULL) || delay_ms == 0)
        evtimer_add(d->attend_ev, &tv);
}

/* ---------------------------------------------------------------- the notification server */

/* The server certainly did not show `key`: offer it again later, and give
 * its popup allowance back. */
static void deliver_reoffer(struct deliver *d, const char *key)
{
    if (key && key[0] == 'm') {
        GError *err = NULL;
        if (!store_mark_notified(d->env.store, g_ascii_strtoll(key + 1, NULL, 10), 0, &err)) {
            log_warn("%s", err->message);
            g_error_free(err);
        }
        attention_forget_popup(&d->attention);
    } else if (g_strcmp0(key, "digest") == 0) {
        d->digest.dirty = true;
        d->digest.flushed_ms = 0;
    }
}

static void deliver_failed(struct deliver *d, const struct notify_event *ev)
{
    int64_t now = clock_now();
    if (!d->server_said_down) {
        log_warn("notification server unavailable (%s); mentions are kept and shown when it is back",
                 ev->error ? ev->error : "unknown error");
        d->server_said_down = true;
    }
    d->server_ok = false;
    d->notify_failures++;
    int64_t delay = 5;
    for (int i = 1; i < d->notify_failures && delay < DELIVER_NOTIFY_MAX_RETRY_S; i++)
        delay *= 2;
    d->notify_retry_at = now + (delay > DELIVER_NOTIFY_MAX_RETRY_S ? DELIVER_NOTIFY_MAX_RETRY_S : delay);
    deliver_reoffer(d, ev->key);
    deliver_soon(d, (int)((d->notify_retry_at - now) * 1000));
}

static void deliver_server_gone(struct deliver *d)
{
    d->server_ok = false;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, d->uncertain);
    while (g_hash_table_iter_next(&it, &key, NULL))
        deliver_reoffer(d, key);
    g_hash_table_remove_all(d->uncertain);
}

static void deliver_on_notify(const struct notify_event *ev, void *arg)
{
    struct deliver *d = arg;
    (*d->env.progress)++;
    switch (ev->kind) {
    case NOTIFY_EV_SHOWN:
        if (ev->key)
            g_hash_table_remove(d->uncertain, ev->key);
        if (d->server_said_down)
            log_notice("notification server is back");
        d->server_ok = true;
        d->server_said_down = false;
        d->notify_failures = 0;
        break;
    case NOTIFY_EV_FAILED:
        deliver_failed(d, ev);
        break;
    case NOTIFY_EV_UNCERTAIN:
        /* It may be on screen: not offered again, unless the server turns
         * out to be gone (then it certainly is not). */
        log_warn("notification server did not answer in time (%s)", ev->error ? ev->error : "");
        if (!d->server_ok)
            deliver_reoffer(d, ev->key);
        else if (ev->key)
            g_hash_table_add(d->uncertain, g_strdup(ev->key));
        break;
    case NOTIFY_EV_ACTION:
        d->env.on_action(d->env.ctx, ev->key, ev->action);
        break;
    case NOTIFY_EV_CLOSED:
        if (g_strcmp0(ev->key, "digest") == 0 && d->digest.shown && !d->digest.dirty)
            attention_digest_reset(&d->digest);
        break;
    case NOTIFY_EV_SERVER_UP:
        d->server_ok = true;
        d->notify_retry_at = 0;
        deliver_soon(d, 0);
        break;
    case NOTIFY_EV_SERVER_DOWN:
        deliver_server_gone(d);
        break;
    case NOTIFY_EV_HELD:
        /* Do-not-disturb: not shown, offered again when it ends, in one summary. */
        if (!d->dnd)
            log_info("the desktop is in do-not-disturb mode; holding notifications");
        d->dnd = true;
        d->was_holding = true;
        deliver_reoffer(d, ev->key);
        break;
    case NOTIFY_EV_DND:
        if (d->dnd && !ev->reason) {
            log_info("do-not-disturb is over");
            d->dnd = false;
            deliver_soon(d, 0);
        }
        d->dnd = ev->reason != 0;
        break;
    }
}

/* ---------------------------------------------------------------- the rest of the API */

void deliver_withdraw(struct deliver *d, int64_t id)
{
    g_autofree char *key = g_strdup_printf("m%" G_GINT64_FORMAT, id);
    notify_close(d->notify, key);
    /* A digest of one is that mention's banner too. */
    if (d->digest.count == 1 && d->digest.top_id[0] == id) {
        attention_digest_reset(&d->digest);
        notify_close(d->notify, "digest");
    }
}

int64_t deliver_take_digest(struct deliver *d)
{
    int64_t top = d->digest.top_id[0];
    attention_digest_reset(&d->digest);
    notify_close(d->notify, "digest");
    return top;
}

void deliver_stall(struct deliver *d)
{
    d->stall = true;
}

void deliver_status(struct deliver *d, struct deliver_status *out)
{
    out->server_ok = d->server_ok;
    out->capabilities = notify_capabilities(d->notify);
    out->pending = notify_pending(d->notify);
    out->dnd = d->dnd;
}

void deliver_reconfigure(struct deliver *d, const struct config *cfg)
{
    d->env.cfg = cfg;
    attention_init(&d->attention, cfg);
}

struct deliver *deliver_new(const struct deliver_env *env)
{
    struct deliver *d = g_new0(struct deliver, 1);
    d->env = *env;
    d->uncertain = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    d->attend_ev = evtimer_new(env->base, deliver_on_attend, d);
    d->tick = evtimer_new(env->base, deliver_on_tick, d);
    attention_init(&d->attention, env->cfg);
    d->notify = notify_new(env->base, "heed", deliver_on_notify, d);
    notify_set_terminal_fallback(d->notify, env->demo);
    return d;
}

void deliver_free(struct deliver *d)
{
    if (!d)
        return;
    notify_free(d->notify);
    event_free(d->attend_ev);
    event_free(d->tick);
    g_hash_table_unref(d->uncertain);
    attention_digest_reset(&d->digest);
    g_free(d);
}
