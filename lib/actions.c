/* SPDX-License-Identifier: MIT */
/* actions: see actions.h. */
#include "actions.h"

#include "clock.h"
#include "log.h"
#include "url.h"

bool actions_open(const struct actions_env *env, const struct mention *m, GError **error)
{
    g_autofree char *host = env->allowed_host(env->ctx, m->account);
    if (!url_open(m->url, host, env->cfg->open_command, error))
        return false;
    judge_learn(env->judge, m->id, LEARN_OPENED, clock_now());
    return true;
}

/* Change the state; learn `ev` from it (LEARN_EVENT_COUNT: nothing). */
static bool actions_change(const struct actions_env *env, int64_t id, enum mention_state state, int64_t snooze_s,
                           enum learn_event ev, GError **error)
{
    int64_t now = clock_now();
    if (!store_set_state(env->store, id, state, now + snooze_s, now, error))
        return false;
    deliver_withdraw(env->deliver, id);
    if (ev != LEARN_EVENT_COUNT)
        judge_learn(env->judge, id, ev, now);
    return true;
}

bool actions_set_state(const struct actions_env *env, int64_t id, enum mention_state state, int64_t snooze_s,
                       GError **error)
{
    enum learn_event ev = state == MENTION_DONE      ? LEARN_DONE
                          : state == MENTION_SNOOZED ? LEARN_SNOOZED
                                                     : LEARN_EVENT_COUNT;
    return actions_change(env, id, state, snooze_s, ev, error);
}

static void actions_on_digest(const struct actions_env *env)
{
    int64_t top = deliver_take_digest(env->deliver);
    if (!top)
        return;
    struct mention *m = store_get(env->store, top, NULL);
    GError *err = NULL;
    if (m && !actions_open(env, m, &err)) {
        log_warn("opening %s: %s", m->url, err->message);
        g_error_free(err);
    }
    mention_free(m);
}

void actions_on_click(const struct actions_env *env, const char *key, const char *action)
{
    if (g_strcmp0(key, "digest") == 0) {
        actions_on_digest(env);
        return;
    }
    if (!key || key[0] != 'm')
        return;
    int64_t id = g_ascii_strtoll(key + 1, NULL, 10);
    GError *err = NULL;
    struct mention *m = store_get(env->store, id, &err);
    if (!m) {
        log_warn("action %s on %s: %s", action, key, err->message);
        g_error_free(err);
        return;
    }
    log_info("action %s on mention %" G_GINT64_FORMAT, action, id);
    bool ok = true;
    if (g_strcmp0(action, "default") == 0 || g_strcmp0(action, "reply") == 0) {
        if (!actions_open(env, m, &err)) {
            log_warn("not opening the link of mention %" G_GINT64_FORMAT ": %s", id, err->message);
            g_clear_error(&err);
        }
        /* "Reply" opens the post to answer it there: done, and learned as a reply. */
        if (g_strcmp0(action, "reply") == 0)
            ok = actions_change(env, id, MENTION_DONE, 0, LEARN_REPLIED, &err);
    } else if (g_strcmp0(action, "snooze") == 0) {
        ok = actions_set_state(env, id, MENTION_SNOOZED, env->cfg->snooze_seconds, &err);
    } else if (g_strcmp0(action, "done") == 0) {
        ok = actions_set_state(env, id, MENTION_DONE, 0, &err);
    }
    if (!ok) {
        log_warn("%s", err->message);
        g_error_free(err);
    }
    mention_free(m);
}
