/* SPDX-License-Identifier: MIT */
/* ctl-mentions: list, show, explain and stats (ctl.h). */

#include "clock.h"
#include "control.h"
#include "ctl.h"

/* ---------------------------------------------------------------- list
 *
 * heed list can name every stored mention, 100,000 of them: it is written
 * in pieces as the client reads (control_ok_stream), one mention's object
 * at a time (ctl_mention_json, the one show answers with), never as one
 * tree. bench/run.py --only list checks that list and show agree. */

/* json_dump_callback's writer: into the answer's piece. */
static int ctl_list_append(const char *buffer, size_t size, void *data)
{
    g_string_append_len(data, buffer, size);
    return 0;
}

/* One mention's place in the list. */
struct ctl_list_item {
    int64_t id, created_at;
    int rank;             /* 0 waiting, 1 snoozed, 2 handled */
    int score;            /* judge_now's: with waiting time, 0 when muted */
    int static_score;
    struct mention *m;    /* kept when open (few); NULL: read again when written */
};

struct ctl_list {
    struct engine *e;
    int64_t now;
    GArray *items;        /* struct ctl_list_item, in list order */
    guint next;           /* the next one to write */
    bool wrote;           /* one is written: the next needs a comma */
};

static void ctl_list_add(struct mention *m, void *data)
{
    struct ctl_list *l = data;
    struct judgement j = judge_now(&l->e->judge, m, l->now);
    struct ctl_list_item it = {
        .id = m->id, .created_at = m->created_at, .score = j.score, .static_score = m->score,
        .rank = m->state == MENTION_WAITING ? 0 : m->state == MENTION_SNOOZED ? 1 : 2,
    };
    if (it.rank < 2)
        it.m = m;
    else
        mention_free(m);
    g_array_append_val(l->items, it);
}

/* Waiting first, then snoozed, then handled; by urgency (waiting time
 * included) within each, the longest waiting first, then as stored. */
static int ctl_list_cmp(gconstpointer a, gconstpointer b)
{
    const struct ctl_list_item *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    if (x->static_score != y->static_score)
        return x->static_score > y->static_score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void ctl_list_free(void *data)
{
    struct ctl_list *l = data;
    for (guint i = l->next; i < l->items->len; i++)
        mention_free(g_array_index(l->items, struct ctl_list_item, i).m);
    g_array_unref(l->items);
    g_free(l);
}

/* The next few mentions of the answer (control_piece_fn). */
static bool ctl_list_piece(void *data, GString *out)
{
    struct ctl_list *l = data;
    if (l->next == 0)
        g_string_append_c(out, '[');
    for (int n = 0; n < 64 && l->next < l->items->len; n++) {
        struct ctl_list_item *it = &g_array_index(l->items, struct ctl_list_item, l->next);
        struct mention *m = it->m ? it->m : store_get(l->e->store, it->id, NULL);
        it->m = NULL;
        json_t *o = m ? ctl_mention_json(l->e, m, l->now) : NULL;
        if (o) {
            if (l->wrote)
                g_string_append_c(out, ',');
            json_dump_callback(o, ctl_list_append, out, JSON_COMPACT);
            json_decref(o);
            l->wrote = true;
        }
        mention_free(m);
        l->next++;
    }
    if (l->next < l->items->len)
        return true;
    g_string_append_c(out, ']');
    return false;
}

json_t *ctl_list(struct engine *e, json_t *args, struct mention *unused)
{
    (void)unused;
    bool all = json_is_true(json_object_get(args, "all"));
    json_int_t limit;
    json_t *fail = NULL;
    if (!ctl_int_arg(args, "limit", 0, CONTROL_MAX_LIMIT, 0, &limit, &fail))
        return fail;
    struct ctl_list *l = g_new0(struct ctl_list, 1);
    *l = (struct ctl_list){ .e = e, .now = clock_now(), .items = g_array_new(FALSE, FALSE, sizeof(struct ctl_list_item)) };
    GError *err = NULL;
    if (!store_each_mention(e->store, all ? STORE_ALL : STORE_WAITING, ctl_list_add, l, &err)) {
        ctl_list_free(l);
        return ctl_fail_error(err);
    }
    g_array_sort(l->items, ctl_list_cmp);
    for (guint i = (guint)limit; limit > 0 && i < l->items->len; i++)
        mention_free(g_array_index(l->items, struct ctl_list_item, i).m);
    if (limit > 0 && (json_int_t)l->items->len > limit)
        g_array_set_size(l->items, (guint)limit);
    return control_ok_stream(ctl_list_piece, ctl_list_free, l);
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
