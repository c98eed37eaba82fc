/* SPDX-License-Identifier: MIT */
/* judge: see judge.h. */
#include "judge.h"

#include <jansson.h>
#include <string.h>

#include "log.h"

/* "owner/repo" of a GitHub mention, from its link (g_free), or NULL. */
static char *judge_repo(const struct mention *m)
{
    if (g_strcmp0(m->network, "github") != 0 || !m->url)
        return NULL;
    g_autoptr(GUri) uri = g_uri_parse(m->url, G_URI_FLAGS_NONE, NULL);
    if (!uri)
        return NULL;
    g_auto(GStrv) parts = g_strsplit(g_uri_get_path(uri), "/", 4);
    if (g_strv_length(parts) < 3 || !*parts[1] || !*parts[2])
        return NULL;
    return g_strdup_printf("%s/%s", parts[1], parts[2]);
}

/* Why a filter of heed.conf mutes m (g_free), or NULL: its repository
 * (mute_repos, "owner/repo" or "owner/" and a star) or its kind (mute_kinds). */
static char *judge_filtered(const struct judge *j, const struct mention *m)
{
    for (char **k = j->cfg->mute_kinds; k && *k; k++)
        if (g_ascii_strcasecmp(*k, mention_kind_name(m->kind)) == 0)
            return g_strdup_printf("muted: every %s (mute_kinds)", mention_kind_name(m->kind));
    g_autofree char *repo = judge_repo(m);
    for (char **r = j->cfg->mute_repos; repo && r && *r; r++) {
        size_t n = strlen(*r);
        bool owner_wide = n >= 2 && strcmp(*r + n - 2, "/*") == 0;
        if (owner_wide ? g_ascii_strncasecmp(repo, *r, n - 1) == 0 : g_ascii_strcasecmp(repo, *r) == 0)
            return g_strdup_printf("muted: repository %s (mute_repos)", repo);
    }
    return NULL;
}

/* keyword_points: each configured word in the text adds its points, as a reason. */
static int judge_keyword_points(const struct judge *j, const struct mention *m, json_t *reasons)
{
    int sum = 0;
    g_autofree char *text = m->text ? g_utf8_casefold(m->text, -1) : NULL;
    for (int i = 0; text && i < j->cfg->n_keyword_points; i++) {
        const struct config_keyword *k = &j->cfg->keyword_points[i];
        g_autofree char *word = g_utf8_casefold(k->word, -1);
        if (!*word || !strstr(text, word))
            continue;
        g_autofree char *why = g_strdup_printf("keyword \"%s\" (keyword_points)", k->word);
        json_array_append_new(reasons, json_pack("{s:s, s:i}", "reason", why, "points", k->points));
        sum += k->points;
    }
    return sum;
}

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
    g_autofree char *filtered = judge_filtered(j, m);
    in->muted = score_list_has(j->cfg->muted, m->author_handle) || filtered;
    in->keyword = score_find_keyword(j->cfg->keywords, m->text);
}

void judge_score(const struct judge *j, struct mention *m, int64_t now)
{
    struct score_input in;
    judge_input(j, m, now, &in);
    json_t *reasons = NULL;
    m->score = learn_score(j->learn, j->weights, &in, &reasons);
    g_autofree char *filtered = judge_filtered(j, m);
    if (filtered) {
        /* Say which filter: "muted" alone would point at the muted list. */
        json_decref(reasons);
        reasons = json_pack("[{s:s, s:i}]", "reason", filtered, "points", 0);
        m->score = 0;
    } else if (!in.muted) {
        int pts = judge_keyword_points(j, m, reasons);
        m->score = CLAMP(m->score + pts, 0, 100);
    }
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
    g_autofree char *filtered = judge_filtered(j, m);
    struct judgement v = {
        .vip = score_list_has(j->cfg->vip, m->author_handle),
        .muted = score_list_has(j->cfg->muted, m->author_handle) || filtered,
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
