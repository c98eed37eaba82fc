/* SPDX-License-Identifier: MIT */
/* score: see score.h.
 *
 * The defaults were checked against the hand-labelled mentions in
 * tests/data/triage/ (bench-triage prints the figures, docs/BENCHMARKS.md
 * records them). The text rules (score-text.c) are deliberately plain word lists:
 * a reader can see why a mention scored as it did, and a wrong guess costs
 * a few points, never a hidden mention. score-shape.c adds readings that
 * combine word classes by position and token shapes (a problem stated, a
 * credential in the open, personal news, a pitch, hostility); score.c
 * decides who they count for (score_topics).
 */
#include "score.h"
#include "score-text.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

bool score_list_has(char **list, const char *handle)
{
    if (!list || !handle)
        return false;
    const char *h = handle[0] == '@' ? handle + 1 : handle;
    for (char **p = list; *p; p++) {
        const char *x = (*p)[0] == '@' ? *p + 1 : *p;
        if (g_ascii_strcasecmp(x, h) == 0)
            return true;
        const char *at = strchr(h, '@');
        if (!strchr(x, '@') && !strchr(x, '.') && at && (size_t)(at - h) == strlen(x) &&
            g_ascii_strncasecmp(x, h, strlen(x)) == 0)
            return true;
    }
    return false;
}

const char *score_find_keyword(char **keywords, const char *text)
{
    if (!keywords || !text)
        return NULL;
    g_autofree char *lower = g_utf8_strdown(text, -1);
    for (char **k = keywords; *k; k++) {
        g_autofree char *kl = g_utf8_strdown(*k, -1);
        if (*kl && strstr(lower, kl))
            return *k;
    }
    return NULL;
}

void score_weights_default(struct score_weights *w)
{
    *w = (struct score_weights){
        .base = 20,
        .direct = 20, .reply = 8, .review = 20, .assign = 14, .team = 2, .quote = 2,
        .question = 18, .weak_question = 2, .request = 16,
        .history_max = 16, .history_recent = 4,
        .mutual = 8, .i_follow = 5, .follows_me = 2, .first_contact = 5,
        .wait_per_hour = 2, .wait_max = 12,
        .mass_per_account = 3, .mass_max = 35,
        .bot = -35, .vip = 25, .keyword = 8,
        .no_reply = -25, .alarm = 15, .deadline = 8, .never_replied = -8,
        .problem = 18, .secret = 40, .personal = 15, .pitch = -25, .hostile = -8,
        .threshold_normal = 45, .threshold_critical = 85, .learn = true,
    };
}

#define SCORE_FIELD(name) { #name, offsetof(struct score_weights, name) }
static const struct { const char *key; size_t off; } score_fields[] = {
    SCORE_FIELD(base), SCORE_FIELD(direct), SCORE_FIELD(reply), SCORE_FIELD(review), SCORE_FIELD(assign),
    SCORE_FIELD(team), SCORE_FIELD(quote), SCORE_FIELD(question), SCORE_FIELD(weak_question),
    SCORE_FIELD(request), SCORE_FIELD(history_max), SCORE_FIELD(history_recent), SCORE_FIELD(mutual),
    SCORE_FIELD(i_follow), SCORE_FIELD(follows_me), SCORE_FIELD(first_contact), SCORE_FIELD(wait_per_hour),
    SCORE_FIELD(wait_max), SCORE_FIELD(mass_per_account), SCORE_FIELD(mass_max), SCORE_FIELD(bot),
    SCORE_FIELD(vip), SCORE_FIELD(keyword), SCORE_FIELD(no_reply), SCORE_FIELD(alarm), SCORE_FIELD(deadline),
    SCORE_FIELD(never_replied), SCORE_FIELD(problem), SCORE_FIELD(secret), SCORE_FIELD(personal),
    SCORE_FIELD(pitch), SCORE_FIELD(hostile), SCORE_FIELD(threshold_normal), SCORE_FIELD(threshold_critical),
};

bool score_weights_load(struct score_weights *w, GKeyFile *kf, const char *path, GError **error)
{
    if (!kf || !g_key_file_has_group(kf, "score"))
        return true;
    g_auto(GStrv) keys = g_key_file_get_keys(kf, "score", NULL, NULL);
    for (char **k = keys; k && *k; k++) {
        if (strcmp(*k, "learn") == 0) {
            GError *e = NULL;
            w->learn = g_key_file_get_boolean(kf, "score", *k, &e);
            if (e) {
                g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                            "%s: [score] learn: expected true or false", path);
                g_error_free(e);
                return false;
            }
            continue;
        }
        size_t i;
        for (i = 0; i < G_N_ELEMENTS(score_fields); i++)
            if (strcmp(*k, score_fields[i].key) == 0)
                break;
        if (i == G_N_ELEMENTS(score_fields)) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                        "%s: [score] %s: unknown weight; expected one of base, direct, reply, question, ...", path,
                        *k);
            return false;
        }
        GError *e = NULL;
        int v = g_key_file_get_integer(kf, "score", *k, &e);
        if (e || v < -100 || v > 100) {
            g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                        "%s: [score] %s: expected a whole number from -100 to 100", path, *k);
            g_clear_error(&e);
            return false;
        }
        *(int *)((char *)w + score_fields[i].off) = v;
    }
    if (w->threshold_normal >= w->threshold_critical) {
        g_set_error(error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                    "%s: [score] threshold_critical: must be above threshold_normal", path);
        return false;
    }
    return true;
}

/* Lower case; most text is ASCII, and g_utf8_strdown's Unicode tables
 * were a quarter of the cost of scoring it. */
char *score_lower(const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p >= 0x80)
            return g_utf8_strdown(s, -1);
    return g_ascii_strdown(s, -1);
}

static void score_add(json_t *reasons, int *total, int points, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void score_add(json_t *reasons, int *total, int points, const char *fmt, ...)
{
    if (points == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    *total += points;
    json_array_append_new(reasons, json_pack("{s:s, s:i}", "reason", text, "points", points));
}

int score_wait_points(const struct score_weights *w, int64_t created_at, int64_t now)
{
    if (created_at <= 0 || now <= created_at)
        return 0;
    int64_t hours = (now - created_at) / 3600;
    int64_t p = hours * w->wait_per_hour;
    return (int)(p > w->wait_max ? w->wait_max : p);
}

static int score_clamp(int v)
{
    return v < 0 ? 0 : v > 100 ? 100 : v;
}

int score_with_wait(const struct score_weights *w, int static_score, int64_t created_at, int64_t now)
{
    return score_clamp(static_score + score_wait_points(w, created_at, now));
}

int score_urgency(const struct score_weights *w, int score)
{
    return score >= w->threshold_critical ? 2 : score >= w->threshold_normal ? 1 : 0;
}

/* The question/request part, in the context only score_compute has: how
 * many accounts the post names. */
static void score_asks(const struct score_weights *w, const struct mention *m, const struct score_text *t,
                       bool pitch, json_t *reasons, int *total)
{
    /* A sneer or a sales pitch phrased as a question is not owed an answer. */
    bool asks = t->request || t->addressed || t->interrogative;
    if (asks && (t->hostile || pitch)) {
        score_add(reasons, total, w->weak_question, t->hostile ? "hostile question" : "a pitch phrased as a question");
        return;
    }
    /* "Maria, could you ..." in a thread of several people is most likely
     * for Maria; with only the user named it is for the user. */
    bool named_other = t->vocative && m->mention_count >= 2;
    bool only_you = m->mention_count <= 1 || m->kind == MENTION_KIND_DIRECT;
    if (t->request && !named_other)
        score_add(reasons, total, w->request, "asks you to do something");
    else if (t->addressed && !named_other)
        score_add(reasons, total, w->question, "asks you a direct question");
    else if (t->interrogative && !named_other && only_you)
        score_add(reasons, total, w->question, "asks you a question");
    else if (named_other || t->to_other)
        score_add(reasons, total, w->weak_question, "asks someone else");
    else if (t->rhetorical)
        score_add(reasons, total, w->weak_question, "rhetorical question");
    else if (t->crowd)
        score_add(reasons, total, w->weak_question, "asks everyone in the thread");
    else if (t->any_question || t->interrogative)
        score_add(reasons, total, w->weak_question, "contains a question");
}

/* What the shape of the text says (score-shape.h), given who wrote it. */
static void score_topics(const struct score_weights *w, const struct score_text *t, bool known, bool pitch,
                         json_t *reasons, int *total)
{
    if (t->secret)
        score_add(reasons, total, w->secret, "shows a password, key or token in the open");
    else if (t->alarm)
        score_add(reasons, total, w->alarm, "reports something broken or unsafe");
    else if (t->problem)
        score_add(reasons, total, w->problem, "reports a problem");
    if (t->life && known)
        score_add(reasons, total, w->personal, "personal news from someone you know");
    if (pitch)
        score_add(reasons, total, w->pitch, "reads like a pitch or a recruiter");
    if (t->hostile)
        score_add(reasons, total, w->hostile, "sounds hostile");
}

/* Who wrote it: history with the user and who follows whom. */
static void score_who(const struct score_weights *w, const struct score_input *in, bool mutual, json_t *reasons,
                      int *total)
{
    const struct mention *m = in->m;
    if (in->replies > 0) {
        /* Diminishing returns: the 1st reply says a lot, the 50th little more. */
        int p = (int)lround(w->history_max * log2(1.0 + in->replies) / log2(33.0));
        if (p > w->history_max)
            p = w->history_max;
        /* Having answered them once says more than not knowing them at
         * all, so more history never scores lower than a first contact. */
        if (p < w->first_contact)
            p = w->first_contact;
        score_add(reasons, total, p, "you have replied to them %d time%s", in->replies, in->replies == 1 ? "" : "s");
        if (in->last_reply > 0 && in->now - in->last_reply < 30 * 86400)
            score_add(reasons, total, w->history_recent, "you talked recently");
    } else if (in->prior_mentions == 0) {
        score_add(reasons, total, w->first_contact, "first time they reach you");
    } else if (in->prior_mentions >= 5) {
        /* A low reply rate is the other half of the history signal. */
        score_add(reasons, total, w->never_replied, "you never replied to their %d earlier mentions",
                  in->prior_mentions);
    }

    if (mutual)
        score_add(reasons, total, w->mutual, "you follow each other");
    else if (m->i_follow == MENTION_YES)
        score_add(reasons, total, w->i_follow, "you follow them");
    else if (m->follows_me == MENTION_YES)
        score_add(reasons, total, w->follows_me, "they follow you");
}

int score_compute(const struct score_weights *w, const struct score_input *in, json_t **reasons_out)
{
    const struct mention *m = in->m;
    json_t *reasons = json_array();
    int total = 0;
    if (in->muted) {
        json_array_append_new(reasons, json_pack("{s:s, s:i}", "reason", "muted", "points", 0));
        *reasons_out = reasons;
        return 0;
    }
    score_add(reasons, &total, w->base, "someone mentioned you");
    switch (m->kind) {
    case MENTION_KIND_DIRECT: score_add(reasons, &total, w->direct, "private message"); break;
    case MENTION_KIND_REPLY: score_add(reasons, &total, w->reply, "reply to your post"); break;
    case MENTION_KIND_REVIEW: score_add(reasons, &total, w->review, "asks for your review"); break;
    case MENTION_KIND_ASSIGN: score_add(reasons, &total, w->assign, "assigned to you"); break;
    case MENTION_KIND_TEAM: score_add(reasons, &total, w->team, "mentions your team"); break;
    case MENTION_KIND_QUOTE: score_add(reasons, &total, w->quote, "quotes your post"); break;
    default: break;
    }
    struct score_text t;
    score_read(m->text, &t);
    bool mutual = m->follows_me == MENTION_YES && m->i_follow == MENTION_YES;
    /* Known: answered before or following each other. A pitch counts only
     * from someone neither answered nor followed. */
    bool known = in->replies > 0 || mutual;
    bool pitch = t.pitch && in->replies == 0 && m->i_follow != MENTION_YES;
    score_asks(w, m, &t, pitch, reasons, &total);
    if (t.thanks_only)
        score_add(reasons, &total, w->no_reply, "only says thanks");
    else if (t.resolved)
        score_add(reasons, &total, w->no_reply, "says it is sorted");
    else if (t.tiny)
        score_add(reasons, &total, w->no_reply, "nothing to answer");
    /* A GitHub issue's title says what it is about ("Crash on startup"). */
    if (!t.alarm && m->context)
        t.alarm = score_mentions_alarm(m->context);
    score_topics(w, &t, known, pitch, reasons, &total);
    if (t.no_rush)
        score_add(reasons, &total, -w->deadline, "says there is no rush");
    else if (t.deadline)
        score_add(reasons, &total, w->deadline, "mentions a deadline");

    score_who(w, in, mutual, reasons, &total);

    if (m->mention_count >= 4) {
        int p = (m->mention_count - 2) * w->mass_per_account;
        if (p > w->mass_max)
            p = w->mass_max;
        score_add(reasons, &total, -p, "mentions %d accounts", m->mention_count);
    }
    if (m->author_bot == MENTION_YES)
        score_add(reasons, &total, w->bot, "automated account");
    if (in->keyword)
        score_add(reasons, &total, w->keyword, "mentions \"%s\"", in->keyword);
    if (in->vip) {
        score_add(reasons, &total, w->vip, "on your VIP list");
        /* Always high: halfway between the popup and the critical
         * thresholds. Not just under critical: a VIP's "lol" should show,
         * but not above a stranger's security report. */
        int floor = (w->threshold_normal + w->threshold_critical + 1) / 2;
        if (total < floor)
            score_add(reasons, &total, floor - total, "VIPs stay high");
    }
    *reasons_out = reasons;
    return score_clamp(total);
}
