/* SPDX-License-Identifier: MIT */
/* ctl-status: status (ctl.h). */
#include <unistd.h>

#include "build_config.h"
#include "clock.h"
#include "control.h"
#include "ctl.h"

static json_t *ctl_lane_json(const struct lane *l)
{
    struct lane_status s;
    lane_status(l, &s);
    g_autofree char *last = s.last_ok ? clock_iso_utc(s.last_ok) : NULL;
    g_autofree char *next = s.next_at ? clock_iso_utc(s.next_at) : NULL;
    json_t *o = json_pack("{s:s, s:s, s:s?, s:s, s:s?, s:s?, s:s?, s:I}", "name", s.name, "network", s.network,
                          "server", s.server, "health", s.health, "last_ok", last, "next_poll", next, "error",
                          s.error, "polls", (json_int_t)s.polls);
    if (s.rate_remaining >= 0)
        json_object_set_new(o, "rate_remaining", json_integer(s.rate_remaining));
    if (s.streams) {
        json_object_set_new(o, "streaming", json_boolean(s.stream_up));
        json_object_set_new(o, "streamed", json_integer((json_int_t)s.streamed));
    }
    return o;
}

json_t *ctl_status(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    (void)m;
    struct store_summary s = { 0 };
    GError *err = NULL;
    if (!store_summary(e->store, &s, &err))
        return ctl_fail_error(err);
    json_t *accounts = json_array();
    for (guint i = 0; i < e->lanes->len; i++)
        json_array_append_new(accounts, ctl_lane_json(g_ptr_array_index(e->lanes, i)));
    g_autofree char *oldest = s.oldest_created ? clock_iso_utc(s.oldest_created) : NULL;
    g_autofree char *line = engine_status_line(e);
    int64_t now = clock_now();
    struct deliver_status ds;
    deliver_status(e->deliver, &ds);
    struct http_stats hs;
    http_get_stats(e->http, &hs);
    json_t *st = json_pack("{s:s, s:I, s:o, s:i, s:i, s:s?, s:i, s:s, s:{s:b, s:s?, s:i}, s:{s:I, s:I}}",
                           "version", HEED_VERSION, "pid", (json_int_t)getpid(), "accounts", accounts, "waiting",
                           s.waiting, "people", s.people, "oldest_waiting", oldest, "total", s.total, "summary",
                           line, "notifications", "server", ds.server_ok, "capabilities", ds.capabilities,
                           "pending", (int)ds.pending, "http", "transfers", (json_int_t)hs.transfers,
                           "connections", (json_int_t)hs.connects);
    g_free(ds.capabilities);
    /* Ages come from heedd's clock, so a client never has to guess it. */
    json_object_set_new(st, "now", json_integer(now));
    json_object_set_new(st, "oldest_waiting_seconds",
                        s.oldest_created ? json_integer(now - s.oldest_created) : json_null());
    return control_ok(st);
}

/* What a status bar shows: how many wait, and who most urgently. */
json_t *engine_glance(struct engine *e)
{
    int64_t now = clock_now();
    GPtrArray *list = store_list(e->store, STORE_WAITING, 0, now, NULL);
    const struct mention *top = NULL;
    int top_score = -1, waiting = 0;
    GHashTable *people = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; list && i < list->len; i++) {
        const struct mention *m = g_ptr_array_index(list, i);
        if (m->state != MENTION_WAITING)
            continue;
        waiting++;
        g_hash_table_add(people, m->author_handle ? m->author_handle : m->author_id ? m->author_id : "");
        struct judgement j = judge_now(&e->judge, m, now);
        if (j.score > top_score) {
            top = m;
            top_score = j.score;
        }
    }
    json_t *out = json_pack("{s:i, s:i}", "waiting", waiting, "people", (int)g_hash_table_size(people));
    if (top) {
        static const char *const urgency[] = { "low", "normal", "critical" };
        json_object_set_new(out, "top",
                            json_pack("{s:I, s:s?, s:s?, s:s?, s:i, s:s, s:I}", "id", (json_int_t)top->id, "name",
                                      top->author_name, "handle", top->author_handle, "network", top->network,
                                      "score", top_score, "urgency", urgency[judge_urgency(&e->judge, top_score)],
                                      "waiting_seconds", (json_int_t)(now - top->created_at)));
    } else {
        json_object_set_new(out, "top", json_null());
    }
    g_hash_table_unref(people);
    if (list)
        g_ptr_array_unref(list);
    return out;
}

json_t *ctl_glance(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    (void)m;
    return control_ok(engine_glance(e));
}
