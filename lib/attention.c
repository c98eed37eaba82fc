/* SPDX-License-Identifier: MIT */
/* attention: see attention.h. */
#include "attention.h"

#include <glib.h>

#include "text.h"

#define ATTENTION_SLEEP_MAX_S 3600   /* clock jumps heal within this */
#define ATTENTION_DND_RECHECK_S 30

void attention_init(struct attention *a, const struct config *cfg)
{
    *a = (struct attention){ 0 };
    a->threshold = cfg->digest_threshold > 0 ? cfg->digest_threshold : 5;
    if (a->threshold > ATTENTION_MAX_WINDOW)
        a->threshold = ATTENTION_MAX_WINDOW;
    a->window = cfg->digest_window > 0 ? cfg->digest_window : 120;
    a->quiet = cfg->quiet;
    a->quiet_allow_vip = cfg->quiet_allow_vip;
}

bool attention_in_quiet_hours(const struct config_quiet *q, int m)
{
    if (!q->enabled || q->start_min == q->end_min)
        return false;
    if (q->start_min < q->end_min)
        return m >= q->start_min && m < q->end_min;
    return m >= q->start_min || m < q->end_min; /* crosses midnight */
}

int attention_local_minute(int64_t when)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(when);
    return dt ? g_date_time_get_hour(dt) * 60 + g_date_time_get_minute(dt) : 0;
}

int attention_recent(const struct attention *a, int64_t now)
{
    int n = 0;
    for (int i = 0; i < a->n_recent; i++)
        if (now - a->recent[i] < a->window && now >= a->recent[i])
            n++;
    return n;
}

void attention_note_popup(struct attention *a, int64_t now)
{
    a->recent[a->head] = now;
    a->head = (a->head + 1) % ATTENTION_MAX_WINDOW;
    if (a->n_recent < ATTENTION_MAX_WINDOW)
        a->n_recent++;
}

void attention_forget_popup(struct attention *a)
{
    if (a->n_recent == 0)
        return;
    a->head = (a->head + ATTENTION_MAX_WINDOW - 1) % ATTENTION_MAX_WINDOW;
    a->n_recent--;
}

enum attention_verdict attention_decide(struct attention *a, const struct attention_input *in)
{
    if (in->muted || in->noise)
        return ATTENTION_SILENT;
    bool quiet = attention_in_quiet_hours(&a->quiet, in->local_minute);
    if (quiet && !(in->vip && a->quiet_allow_vip))
        return ATTENTION_HOLD;
    if (in->dnd && !(in->vip && in->urgency == 2))
        return ATTENTION_HOLD;
    if (in->urgency == 0 && !in->vip)
        return ATTENTION_DIGEST;
    if (attention_recent(a, in->now) >= a->threshold)
        return ATTENTION_DIGEST;
    attention_note_popup(a, in->now);
    return ATTENTION_POPUP;
}

bool attention_take_popup(struct attention *a, int64_t now)
{
    if (attention_recent(a, now) >= a->threshold)
        return false;
    attention_note_popup(a, now);
    return true;
}

bool attention_summarise(const struct attention *a, bool was_holding, int waiting)
{
    return was_holding || waiting > a->threshold;
}

bool attention_nudges_held(const struct attention *a, bool holding, int local_minute, bool dnd)
{
    return holding || dnd || attention_in_quiet_hours(&a->quiet, local_minute);
}

/* ---------------------------------------------------------------- the digest */

void attention_digest_reset(struct attention_digest *d)
{
    for (int i = 0; i < ATTENTION_DIGEST_TOP; i++)
        g_free(d->top_line[i]);
    *d = (struct attention_digest){ 0 };
}

void attention_digest_add(struct attention_digest *d, int64_t id, int score, int urgency, const char *who,
                          const char *text)
{
    d->count++;
    if (urgency >= 1)
        d->need_you++;
    d->dirty = true;
    for (int i = 0; i < ATTENTION_DIGEST_TOP; i++) {
        if (d->top_line[i] && score <= d->top_score[i])
            continue;
        /* Make room at i: the rest move down one, the last falls off. */
        g_free(d->top_line[ATTENTION_DIGEST_TOP - 1]);
        for (int k = ATTENTION_DIGEST_TOP - 1; k > i; k--) {
            d->top_line[k] = d->top_line[k - 1];
            d->top_score[k] = d->top_score[k - 1];
            d->top_id[k] = d->top_id[k - 1];
        }
        g_autofree char *excerpt = text_truncate(text ? text : "", 90);
        g_autofree char *name = text_truncate(who ? who : "Someone", 60);
        d->top_line[i] = g_strdup_printf("%s: %s", name, excerpt);
        d->top_score[i] = score;
        d->top_id[i] = id;
        break;
    }
}

int attention_digest_wait_ms(const struct attention_digest *d, int64_t now_ms)
{
    if (!d->dirty || d->count == 0)
        return -1;
    /* A burst (a post going viral) would otherwise rewrite the banner with
     * every page: update it at most every few seconds. */
    if (d->shown && now_ms - d->flushed_ms < ATTENTION_DIGEST_MIN_UPDATE_MS)
        return (int)(ATTENTION_DIGEST_MIN_UPDATE_MS - (now_ms - d->flushed_ms));
    return 0;
}

void attention_digest_flushed(struct attention_digest *d, int64_t now_ms)
{
    d->flushed_ms = now_ms;
    d->dirty = false;
    d->shown = true;
}

void attention_digest_text(const struct attention_digest *d, char **summary, char **body)
{
    *summary = d->need_you > 0 ? g_strdup_printf("%d new mentions · %d need%s you", d->count, d->need_you,
                                                 d->need_you == 1 ? "s" : "")
                               : g_strdup_printf("%d new mentions", d->count);
    GString *b = g_string_new(NULL);
    int named = 0;
    for (int i = 0; i < ATTENTION_DIGEST_TOP; i++) {
        if (!d->top_line[i])
            continue;
        g_string_append_printf(b, "%s%s", b->len ? "\n" : "", d->top_line[i]);
        named++;
    }
    /* The count in the summary adds up: the names, then the rest. */
    if (d->count > named)
        g_string_append_printf(b, "%sand %d more", b->len ? "\n" : "", d->count - named);
    *body = g_string_free(b, FALSE);
}

/* ---------------------------------------------------------------- sleeping */

int64_t attention_sleep_s(int64_t now, int64_t next_due, bool dnd, int64_t notify_retry_at)
{
    int64_t delay = next_due > now ? next_due - now : ATTENTION_SLEEP_MAX_S;
    if (dnd && delay > ATTENTION_DND_RECHECK_S)
        delay = ATTENTION_DND_RECHECK_S;
    if (notify_retry_at > now && notify_retry_at - now < delay)
        delay = notify_retry_at - now;
    if (delay > ATTENTION_SLEEP_MAX_S)
        delay = ATTENTION_SLEEP_MAX_S;
    return delay < 1 ? 1 : delay;
}
