/* SPDX-License-Identifier: MIT */
/* ctl-status: status (ctl.h). */
#include <unistd.h>

#include "build_config.h"
#include "clock.h"
#include "control.h"
#include "ctl.h"
#include "log.h"

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
    json_t *st = json_pack("{s:s, s:I, s:o, s:i, s:i, s:s?, s:i, s:s, s:{s:b, s:s?, s:i, s:b}, s:{s:I, s:I}}",
                           "version", HEED_VERSION, "pid", (json_int_t)getpid(), "accounts", accounts, "waiting",
                           s.waiting, "people", s.people, "oldest_waiting", oldest, "total", s.total, "summary",
                           line, "notifications", "server", ds.server_ok, "capabilities", ds.capabilities,
                           "pending", (int)ds.pending, "dnd", ds.dnd, "http", "transfers", (json_int_t)hs.transfers,
                           "connections", (json_int_t)hs.connects);
    g_free(ds.capabilities);
    /* Ages come from heedd's clock, so a client never has to guess it. */
    json_object_set_new(st, "now", json_integer(now));
    json_object_set_new(st, "oldest_waiting_seconds",
                        s.oldest_created ? json_integer(now - s.oldest_created) : json_null());
    return control_ok(st);
}

/* Waiting points move by at most wait_per_hour an hour: a top found this
 * long ago can only have been overtaken by a little. */
#define GLANCE_TOP_FRESH_S 300

/* The most urgent waiting mention now. Its score now is its stored score
 * plus at most wait_max for waiting, so the walk (highest stored score
 * first) ends once no stored score could catch up with the best so far:
 * a status bar's glance reads a few mentions, not the whole backlog. */
struct glance_top {
    const struct judge *judge;
    int64_t now;
    struct mention *top;  /* owned */
    int score;            /* its score now, -1 before the first */
};

static bool glance_top_visit(struct mention *m, void *data)
{
    struct glance_top *g = data;
    if (g->top && m->score + g->judge->weights->wait_max < g->score) {
        mention_free(m);
        return false;
    }
    struct judgement j = judge_now(g->judge, m, g->now);
    /* Equal scores: whoever has waited longer. */
    if (j.score > g->score || (j.score == g->score && m->created_at < g->top->created_at)) {
        mention_free(g->top);
        g->top = m;
        g->score = j.score;
    } else {
        mention_free(m);
    }
    return true;
}

/* The top mention, walked for again when the store changed or it is
 * GLANCE_TOP_FRESH_S old; else the one found last, as it stands now. */
static struct mention *glance_find_top(struct engine *e, int64_t now, int *score)
{
    struct glance_top g = { .judge = &e->judge, .now = now, .score = -1 };
    uint64_t gen = store_generation(e->store);
    if (e->glance_gen == gen && now - e->glance_at < GLANCE_TOP_FRESH_S) {
        if (!e->glance_top_id)
            return NULL;
        struct mention *m = store_get(e->store, e->glance_top_id, NULL);
        if (m && m->state == MENTION_WAITING) {
            *score = judge_now(&e->judge, m, now).score;
            return m;
        }
        mention_free(m); /* cannot be while gen holds; walk again to be sure */
    }
    if (!store_each_waiting_by_score(e->store, glance_top_visit, &g, NULL)) {
        log_warn("could not read the waiting mentions for the status bar");
        mention_free(g.top);
        e->glance_gen = 0;
        return NULL;
    }
    e->glance_top_id = g.top ? g.top->id : 0;
    e->glance_gen = gen;
    e->glance_at = now;
    *score = g.score;
    return g.top;
}

/* What a status bar shows: how many wait, and who most urgently. */
json_t *engine_glance(struct engine *e)
{
    struct store_summary s = { 0 };
    int64_t now = clock_now();
    if (!store_summary(e->store, &s, NULL))
        log_warn("could not count the waiting mentions for the status bar");
    int score = 0;
    struct mention *top = glance_find_top(e, now, &score);
    json_t *out = json_pack("{s:i, s:i}", "waiting", s.waiting, "people", s.people);
    if (top) {
        static const char *const urgency[] = { "low", "normal", "critical" };
        json_object_set_new(out, "top",
                            json_pack("{s:I, s:s?, s:s?, s:s?, s:i, s:s, s:I}", "id", (json_int_t)top->id, "name",
                                      top->author_name, "handle", top->author_handle, "network", top->network,
                                      "score", score, "urgency", urgency[judge_urgency(&e->judge, score)],
                                      "waiting_seconds", (json_int_t)(now - top->created_at)));
    } else {
        json_object_set_new(out, "top", json_null());
    }
    mention_free(top);
    return out;
}

json_t *ctl_glance(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    (void)m;
    return control_ok(engine_glance(e));
}
