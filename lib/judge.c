/* judge: see judge.h. */
#include "judge.h"

#include <jansson.h>

#include "log.h"

/* What the rules read about m besides its own fields. */
static void judge_input(const struct judge *j, const struct mention *m, int64_t now, struct score_input *in)
{
    *in = (struct score_input){ .m = m, .now = now };
    GError *err = NULL;
    if (m->author_id && !store_interactions(j->store, m->account, m->author_id, &in->replies, &in->last_reply, &err)) {
        log_debug("reading reply history: %s", err->message);
        g_clear_error(&err);
    }
    in->prior_mentions = store_author_mentions(j->store, m->account, m->author_id, m->created_at);
    in->vip = score_list_has(j->cfg->vip, m->author_handle);
    in->muted = score_list_has(j->cfg->muted, m->author_handle);
    in->keyword = score_find_keyword(j->cfg->keywords, m->text);
}

void judge_score(const struct judge *j, struct mention *m, int64_t now)
{
    struct score_input in;
    judge_input(j, m, now, &in);
    json_t *reasons = NULL;
    m->score = learn_score(j->learn, j->weights, &in, &reasons);
    g_free(m->reasons_json);
    m->reasons_json = json_dumps(reasons, JSON_COMPACT);
    json_decref(reasons);
}

void judge_learn(const struct judge *j, int64_t id, enum learn_event ev, int64_t at)
{
    if (!j->learn || !j->weights->learn)
        return;
    GError *err = NULL;
    struct mention *m = store_get(j->store, id, &err);
    if (!m) {
        log_debug("learning from mention %" G_GINT64_FORMAT ": %s", id, err->message);
        g_error_free(err);
        return;
    }
    struct score_input in;
    judge_input(j, m, at, &in);
    if (!learn_record(j->learn, j->store, j->weights, &in, ev, at, &err)) {
        log_warn("learning from what you did: %s", err->message);
        g_error_free(err);
    }
    mention_free(m);
}

struct judgement judge_now(const struct judge *j, const struct mention *m, int64_t now)
{
    struct judgement v = {
        .vip = score_list_has(j->cfg->vip, m->author_handle),
        .muted = score_list_has(j->cfg->muted, m->author_handle),
    };
    bool open = m->state == MENTION_WAITING || m->state == MENTION_SNOOZED;
    /* A muted person's mention stays at 0: waiting does not make it urgent. */
    v.score = v.muted ? 0 : open ? score_with_wait(j->weights, m->score, m->created_at, now) : m->score;
    v.urgency = score_urgency(j->weights, v.score);
    v.noise = v.muted || m->score <= 0 || (m->author_bot == MENTION_YES && !v.vip);
    return v;
}

int judge_urgency(const struct judge *j, int score)
{
    return score_urgency(j->weights, score);
}
