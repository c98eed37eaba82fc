/* score: see score.h. */
#include "score.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

void score_weights_default(struct score_weights *w)
{
    *w = (struct score_weights){
        .base = 20,
        .direct = 30, .reply = 18, .review = 28, .assign = 15, .team = 4, .quote = 4,
        .question = 16, .weak_question = 4, .request = 10,
        .history_max = 24, .history_recent = 6,
        .mutual = 12, .i_follow = 8, .follows_me = 3, .first_contact = 3,
        .wait_per_hour = 2, .wait_max = 12,
        .mass_per_account = 3, .mass_max = 35,
        .bot = -35, .vip = 40, .keyword = 10,
        .threshold_normal = 35, .threshold_critical = 85,
    };
}

#define SCORE_FIELD(name) { #name, offsetof(struct score_weights, name) }
static const struct { const char *key; size_t off; } score_fields[] = {
    SCORE_FIELD(base), SCORE_FIELD(direct), SCORE_FIELD(reply), SCORE_FIELD(review), SCORE_FIELD(assign),
    SCORE_FIELD(team), SCORE_FIELD(quote), SCORE_FIELD(question), SCORE_FIELD(weak_question),
    SCORE_FIELD(request), SCORE_FIELD(history_max), SCORE_FIELD(history_recent), SCORE_FIELD(mutual),
    SCORE_FIELD(i_follow), SCORE_FIELD(follows_me), SCORE_FIELD(first_contact), SCORE_FIELD(wait_per_hour),
    SCORE_FIELD(wait_max), SCORE_FIELD(mass_per_account), SCORE_FIELD(mass_max), SCORE_FIELD(bot),
    SCORE_FIELD(vip), SCORE_FIELD(keyword), SCORE_FIELD(threshold_normal), SCORE_FIELD(threshold_critical),
};

bool score_weights_load(struct score_weights *w, GKeyFile *kf, const char *path, GError **error)
{
    if (!kf || !g_key_file_has_group(kf, "score"))
        return true;
    g_auto(GStrv) keys = g_key_file_get_keys(kf, "score", NULL, NULL);
    for (char **k = keys; k && *k; k++) {
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

/* Words that make a question or request be about the reader. Lower case,
 * matched on word boundaries. */
static const char *const score_you_words[] = { "you", "your", "you're", "you've", "you'd", "u", "ya", NULL };
static const char *const score_request_phrases[] = {
    "can you", "could you", "would you", "will you", "do you", "did you", "are you", "have you",
    "please", "pls", "ptal", "any chance", "mind taking", "let me know", "thoughts?", "what do you think",
    "when you get a chance", "could we", "can we", NULL,
};

static bool score_has_word(const char *lower, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(lower, word); p; p = strstr(p + 1, word)) {
        bool start = p == lower || !g_ascii_isalnum(p[-1]);
        bool end = !g_ascii_isalnum(p[n]) && p[n] != '\'';
        if (start && end)
            return true;
    }
    return false;
}

int score_question_strength(const char *text)
{
    if (!text)
        return 0;
    g_autofree char *lower = g_utf8_strdown(text, -1);
    bool request = false;
    for (int i = 0; score_request_phrases[i]; i++)
        if (score_has_word(lower, score_request_phrases[i]) ||
            (strchr(score_request_phrases[i], '?') && strstr(lower, score_request_phrases[i])))
            request = true;
    /* A question mark counts strongly only in a sentence that addresses the reader. */
    bool addressed_question = false, any_question = false;
    g_auto(GStrv) sentences = g_strsplit_set(lower, ".!\n", -1);
    for (char **s = sentences; *s; s++) {
        if (!strchr(*s, '?'))
            continue;
        any_question = true;
        for (int i = 0; score_you_words[i]; i++)
            if (score_has_word(*s, score_you_words[i]))
                addressed_question = true;
    }
    if (request || addressed_question)
        return 2;
    return any_question ? 1 : 0;
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
    int q = score_question_strength(m->text);
    if (q == 2)
        score_add(reasons, &total, w->question, "asks you a direct question");
    else if (q == 1)
        score_add(reasons, &total, w->weak_question, "contains a question");

    if (in->replies > 0) {
        /* Diminishing returns: the 1st reply says a lot, the 50th little more. */
        int p = (int)lround(w->history_max * log2(1.0 + in->replies) / log2(33.0));
        if (p > w->history_max)
            p = w->history_max;
        score_add(reasons, &total, p, "you have replied to them %d time%s", in->replies, in->replies == 1 ? "" : "s");
        if (in->last_reply > 0 && in->now - in->last_reply < 30 * 86400)
            score_add(reasons, &total, w->history_recent, "you talked recently");
    } else if (in->prior_mentions == 0) {
        score_add(reasons, &total, w->first_contact, "first time they reach you");
    }

    if (m->follows_me == MENTION_YES && m->i_follow == MENTION_YES)
        score_add(reasons, &total, w->mutual, "you follow each other");
    else if (m->i_follow == MENTION_YES)
        score_add(reasons, &total, w->i_follow, "you follow them");
    else if (m->follows_me == MENTION_YES)
        score_add(reasons, &total, w->follows_me, "they follow you");

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
        if (total < w->threshold_critical - 5)
            score_add(reasons, &total, w->threshold_critical - 5 - total, "VIPs stay near the top");
    }
    *reasons_out = reasons;
    return score_clamp(total);
}
