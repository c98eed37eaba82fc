/* attention: see attention.h. */
#include "attention.h"

#include <glib.h>

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
    if (in->muted)
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
