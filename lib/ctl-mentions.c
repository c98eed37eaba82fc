/* ctl-mentions: list, show, explain and stats (ctl.h). */
#include <string.h>

#include "clock.h"
#include "control.h"
#include "ctl.h"

static int ctl_cmp_score(gconstpointer a, gconstpointer b)
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

/* Waiting first, then snoozed, then handled; by urgency (waiting time
 * included) within each. Takes the items' references. */
static json_t *ctl_in_list_order(GPtrArray *items)
{
    g_ptr_array_sort(items, ctl_cmp_score);
    json_t *arr = json_array();
    static const char *const order[] = { "waiting", "snoozed" };
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
    return arr;
}

json_t *ctl_list(struct engine *e, json_t *args, struct mention *unused)
{
    (void)unused;
    bool all = json_is_true(json_object_get(args, "all"));
    json_int_t limit;
    json_t *fail = NULL;
    if (!ctl_int_arg(args, "limit", 0, CONTROL_MAX_LIMIT, 0, &limit, &fail))
        return fail;
    int64_t now = clock_now();
    GError *err = NULL;
    GPtrArray *list = store_list(e->store, all ? STORE_ALL : STORE_WAITING, 0, now, &err);
    if (!list)
        return ctl_fail_error(err);
    GPtrArray *items = g_ptr_array_sized_new(list->len);
    for (guint i = 0; i < list->len; i++)
        g_ptr_array_add(items, ctl_mention_json(e, g_ptr_array_index(list, i), now));
    g_ptr_array_unref(list);
    json_t *arr = ctl_in_list_order(items);
    g_ptr_array_unref(items);
    if (limit > 0)
        while ((json_int_t)json_array_size(arr) > limit)
            json_array_remove(arr, json_array_size(arr) - 1);
    return control_ok(arr);
}

json_t *ctl_show(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    return control_ok(ctl_mention_json(e, m, clock_now()));
}

json_t *ctl_explain(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    json_t *o = ctl_mention_json(e, m, clock_now());
    json_t *out = json_pack("{s:I, s:i, s:i, s:s, s:O}", "id", (json_int_t)m->id, "score",
                            (int)json_integer_value(json_object_get(o, "score")), "static_score", m->score,
                            "urgency", json_string_value(json_object_get(o, "urgency")), "reasons",
                            json_object_get(o, "reasons"));
    json_decref(o);
    return control_ok(out);
}

json_t *ctl_stats(struct engine *e, json_t *args, struct mention *unused)
{
    (void)unused;
    json_int_t days;
    json_t *fail = NULL;
    if (!ctl_int_arg(args, "days", 1, CONTROL_MAX_DAYS, 7, &days, &fail))
        return fail;
    int64_t now = clock_now();
    struct store_stats s;
    GError *err = NULL;
    if (!store_stats(e->store, now - days * 86400, 5, &s, &err)) {
        store_stats_clear(&s);
        return ctl_fail_error(err);
    }
    json_t *longest = json_array();
    for (guint i = 0; i < s.longest->len; i++)
        json_array_append_new(longest, ctl_mention_json(e, g_ptr_array_index(s.longest, i), now));
    json_t *out = json_pack("{s:I, s:i, s:i, s:i, s:o, s:o}", "days", days, "mentions", s.mentions, "answered",
                            s.answered, "replied_on_network", s.replied, "median_wait_seconds",
                            s.median_wait >= 0 ? json_integer(s.median_wait) : json_null(), "longest_waiting",
                            longest);
    store_stats_clear(&s);
    return control_ok(out);
}

/* Forget what was learned: about the author of mention "id", or everything. */
json_t *ctl_forget(struct engine *e, json_t *args, struct mention *unused)
{
    (void)unused;
    GError *err = NULL;
    struct mention *m = NULL;
    json_t *id = json_object_get(args, "id");
    if (id && !json_is_integer(id))
        return control_fail("expected a numeric mention id");
    if (id && !(m = store_get(e->store, json_integer_value(id), &err)))
        return ctl_fail_error(err);
    const char *who = m ? (m->author_id ? m->author_id : m->author_handle) : NULL;
    bool ok = learn_forget_saved(e->learn, e->store, m ? m->account : NULL, who, &err);
    json_t *answer = ok ? control_ok(json_pack("{s:s?, s:I}", "author", m ? m->author_handle : NULL, "remembered",
                                               (json_int_t)learn_people(e->learn)))
                        : ctl_fail_error(err);
    mention_free(m);
    return answer;
}
