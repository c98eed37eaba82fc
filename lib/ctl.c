/* SPDX-License-Identifier: MIT */
/* ctl: see ctl.h. The table, the dispatcher and what several commands share. */
#include "ctl.h"

#include <string.h>

#include "build_config.h"
#include "clock.h"
#include "control.h"

static const struct ctl_cmd ctl_table[] = {
    { "list", 0, ctl_list },
    { "show", CTL_MENTION, ctl_show },
    { "explain", CTL_MENTION, ctl_explain },
    { "stats", 0, ctl_stats },
    { "forget", 0, ctl_forget },
    { "status", 0, ctl_status },
    { "glance", 0, ctl_glance },
    { CONTROL_WATCH_CMD, 0, ctl_glance }, /* the same, then a line on each change (control.h) */
    { "open", CTL_MENTION, ctl_open },
    { "done", CTL_MENTION | CTL_CHANGES, ctl_done },
    { "wake", CTL_MENTION | CTL_CHANGES, ctl_wake },
    { "snooze", CTL_MENTION | CTL_CHANGES, ctl_snooze },
    { "reload", CTL_CHANGES, ctl_reload },
#if HEED_TEST_HOOKS /* test builds only (build_config.h) */
    { "test-clock", CTL_TEST, ctl_test_clock },
    { "test-stall", CTL_TEST, ctl_test_stall },
#endif
};

json_t *ctl_fail_error(GError *err)
{
    json_t *r = control_fail("%s", err ? err->message : "failed");
    g_clear_error(&err);
    return r;
}

bool ctl_int_arg(json_t *args, const char *key, json_int_t lo, json_int_t hi, json_int_t dflt, json_int_t *out,
                 json_t **fail)
{
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v)) {
        *out = dflt;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        *fail = control_fail("\"%s\" must be a whole number from %lld to %lld", key, (long long)lo, (long long)hi);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

static const struct ctl_cmd *ctl_find(const struct engine *e, const char *name)
{
    for (size_t i = 0; name && i < G_N_ELEMENTS(ctl_table); i++) {
        const struct ctl_cmd *c = &ctl_table[i];
        if (strcmp(c->name, name) == 0)
            return (c->flags & CTL_TEST) && !e->opts.test_hooks ? NULL : c;
    }
    return NULL;
}

json_t *ctl_dispatch(struct engine *e, json_t *request)
{
    const char *name = json_string_value(json_object_get(request, "cmd"));
    json_t *args = json_object_get(request, "args");
    e->lane_env.progress++;
    const struct ctl_cmd *c = ctl_find(e, name);
    if (!c)
        return control_fail("unknown command \"%s\"", name ? name : "");
    if (!(c->flags & CTL_MENTION)) {
        json_t *answer = c->exec(e, args, NULL);
        if ((c->flags & CTL_CHANGES) && e->on_change)
            e->on_change(e->on_change_data);
        return answer;
    }
    json_t *id = json_object_get(args, "id");
    if (!json_is_integer(id))
        return control_fail("expected a numeric mention id");
    GError *err = NULL;
    struct mention *m = store_get(e->store, json_integer_value(id), &err);
    if (!m)
        return ctl_fail_error(err);
    json_t *answer = c->exec(e, args, m);
    mention_free(m);
    if ((c->flags & CTL_CHANGES) && e->on_change)
        e->on_change(e->on_change_data);
    return answer;
}

json_t *ctl_mention_json(struct engine *e, const struct mention *m, int64_t now)
{
    g_autofree char *created = clock_iso_utc(m->created_at);
    struct judgement j = judge_now(&e->judge, m, now);
    bool open = m->state == MENTION_WAITING || m->state == MENTION_SNOOZED;
    json_t *reasons = m->reasons_json ? json_loads(m->reasons_json, 0, NULL) : NULL;
    if (!json_is_array(reasons)) {
        json_decref(reasons);
        reasons = json_array();
    }
    int wait = score_wait_points(&e->weights, m->created_at, now);
    if (wait > 0 && open && !j.muted) {
        g_autofree char *age = clock_age_words(now - m->created_at);
        g_autofree char *r = g_strdup_printf("waiting %s", age);
        json_array_append_new(reasons, json_pack("{s:s, s:i}", "reason", r, "points", wait));
    }
    static const char *const urgency[] = { "low", "normal", "critical" };
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:{s:s?, s:s?, s:s?}, s:s, s:s?, s:s, s:s, s:i, s:s, s:o, s:I}",
                          "id", (json_int_t)m->id, "network", m->network, "account", m->account, "kind",
                          mention_kind_name(m->kind), "author", "id", m->author_id, "handle", m->author_handle,
                          "name", m->author_name, "text", m->text ? m->text : "", "url", m->url, "created_at",
                          created, "state", mention_state_name(m->state), "score", j.score, "urgency",
                          urgency[j.urgency], "reasons", reasons, "waiting_seconds",
                          (json_int_t)(now - m->created_at));
    if (m->context)
        json_object_set_new(o, "context", json_string(m->context));
    if (m->state == MENTION_SNOOZED) {
        g_autofree char *until = clock_iso_utc(m->snooze_until);
        json_object_set_new(o, "snoozed_until", json_string(until));
    }
    json_object_set_new(o, "notified", json_boolean(m->notified_at > 0));
    return o;
}
