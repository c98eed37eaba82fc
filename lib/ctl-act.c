/* SPDX-License-Identifier: MIT */
/* ctl-act: open, done, wake and snooze (ctl.h), through actions.c. */
#include "clock.h"
#include "control.h"
#include "ctl.h"

json_t *ctl_open(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    GError *err = NULL;
    if (!actions_open(&e->actions, m, &err))
        return ctl_fail_error(err);
    return control_ok(json_pack("{s:s}", "url", m->url));
}

static json_t *ctl_set_state(struct engine *e, struct mention *m, enum mention_state state)
{
    GError *err = NULL;
    if (!actions_set_state(&e->actions, m->id, state, 0, &err))
        return ctl_fail_error(err);
    return control_ok(NULL);
}

json_t *ctl_done(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    return ctl_set_state(e, m, MENTION_DONE);
}

json_t *ctl_wake(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    return ctl_set_state(e, m, MENTION_WAITING);
}

json_t *ctl_snooze(struct engine *e, json_t *args, struct mention *m)
{
    json_int_t s;
    json_t *fail = NULL;
    if (!ctl_int_arg(args, "seconds", 1, CONTROL_MAX_SNOOZE_S, e->cfg->snooze_seconds, &s, &fail))
        return fail;
    GError *err = NULL;
    if (!actions_set_state(&e->actions, m->id, MENTION_SNOOZED, s, &err))
        return ctl_fail_error(err);
    g_autofree char *until = clock_iso_utc(clock_now() + s);
    return control_ok(json_pack("{s:s}", "snoozed_until", until));
}
