/* SPDX-License-Identifier: MIT */
/* score: how urgently a mention deserves a personal reply, and why.
 *
 * A score is 0-100 built from named contributions ("asks you a direct
 * question" +15, "mentions 23 accounts" -30, ...), so every number can
 * explain itself. The part that does not change (who, what, history) is
 * computed when a mention is stored; the waiting-time part grows with the
 * clock and is added when the score is read (score_with_wait). Weights and
 * the thresholds that map a score to notification urgency come from the
 * [score] config group.
 */
#ifndef HEED_SCORE_H
#define HEED_SCORE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "mention.h"

struct score_weights {
    int base;
    int direct, reply, review, assign, team, quote;
    int question, weak_question, request;
    int history_max, history_recent;
    int mutual, i_follow, follows_me, first_contact;
    int wait_per_hour, wait_max;
    int mass_per_account, mass_max;
    int bot, vip, keyword;
    /* Added with the labelled triage set (tests/data/triage/):
     * no_reply: a message that needs no answer (thanks only, "never mind",
     *   a bare "lol"); negative.
     * alarm: reports something broken or unsafe (security, outage, crash).
     * deadline: names a deadline ("by Friday", "tonight"); "no rush" takes
     *   the same number of points away.
     * never_replied: they mentioned you several times and you never replied
     *   (reply guys, integrations); negative. */
    int no_reply, alarm, deadline, never_replied;
    /* Read from the shape of the text (lib/score-shape.h), for issue #18:
     * problem: a problem report phrased as a statement ("the docs link
     *   404s", "it no longer builds"); not added on top of alarm.
     * secret: a credential in the open, found by its shape (a key prefix,
     *   a high-entropy token, user:password@, a .npmrc, "your password"
     *   in a screenshot); replaces alarm, which it outranks.
     * personal: first-person personal news (illness, loss, a wedding, a
     *   lost job) from someone you have answered or follow mutually.
     * pitch: a recruiter, sales or sponsorship pitch from someone you have
     *   never answered and do not follow; negative, and its question earns
     *   no question credit.
     * hostile: contempt or bad faith ("did you even", insults, "?!");
     *   negative, and its question earns no question credit. */
    int problem, secret, personal, pitch, hostile;
    int threshold_normal, threshold_critical;
    /* [score] learn = true|false: add what lib/learn.c learned from the
     * user's own actions (default true). Not a weight: never ablated. */
    bool learn;
};

struct score_input {
    const struct mention *m;
    int replies;            /* the user's replies to this author */
    int64_t last_reply;     /* when the user last replied to them, 0 = never */
    int prior_mentions;     /* mentions from them before this one */
    bool vip, muted;
    const char *keyword;    /* a configured keyword the text contains, or NULL */
    int64_t now;
};

/* Is handle on a user list (vip, muted)? "@" prefixes are ignored, case
 * does not matter, and an entry without a domain ("alice") matches
 * "@alice@any.host". */
bool score_list_has(char **list, const char *handle);
/* The first configured keyword the text contains (case-insensitive), or NULL. */
const char *score_find_keyword(char **keywords, const char *text);

void score_weights_default(struct score_weights *w);
/* Override defaults from a [score] group; errors name path, group and key. */
bool score_weights_load(struct score_weights *w, GKeyFile *kf, const char *path, GError **error);

/* Static part of the score (0-100) and its reasons, a JSON array of
 * {"reason": "...", "points": N} (new reference in *reasons). A muted
 * author scores 0 with the single reason "muted". */
int score_compute(const struct score_weights *w, const struct score_input *in, json_t **reasons);
/* Static score plus the waiting-time contribution at `now`, clamped. */
int score_with_wait(const struct score_weights *w, int static_score, int64_t created_at, int64_t now);
/* The waiting contribution alone. */
int score_wait_points(const struct score_weights *w, int64_t created_at, int64_t now);
/* 0 low, 1 normal, 2 critical. */
int score_urgency(const struct score_weights *w, int score);
/* Does the text ask the user something (not merely contain a '?')? 0 no,
 * 1 weak (a bare question mark, a rhetorical question, a question to
 * "anyone", a request to someone else while the user is cc'd), 2 strong (a
 * question or request aimed at "you"). Text alone: score_compute also
 * counts a sincere question in a message that names only the user. */
int score_question_strength(const char *text);

/* What the text rules read in a mention, as bits, for the learning half
 * (lib/learn.c), which learns how much each matters to this user. The
 * GitHub title counts for SCORE_SIGNAL_ALARM as it does in score_compute. */
enum score_signal {
    SCORE_SIGNAL_QUESTION = 1u << 0,     /* some sentence is a question */
    SCORE_SIGNAL_ADDRESSED = 1u << 1,    /* a sincere question with "you" */
    SCORE_SIGNAL_INTERROGATIVE = 1u << 2,/* a sincere question without "you" */
    SCORE_SIGNAL_REQUEST = 1u << 3,
    SCORE_SIGNAL_TO_OTHER = 1u << 4,     /* the ask is for someone else */
    SCORE_SIGNAL_RHETORICAL = 1u << 5,
    SCORE_SIGNAL_CROWD = 1u << 6,
    SCORE_SIGNAL_JOKING = 1u << 7,
    SCORE_SIGNAL_THANKS_ONLY = 1u << 8,
    SCORE_SIGNAL_RESOLVED = 1u << 9,
    SCORE_SIGNAL_TINY = 1u << 10,
    SCORE_SIGNAL_ALARM = 1u << 11,
    SCORE_SIGNAL_DEADLINE = 1u << 12,
    SCORE_SIGNAL_NO_RUSH = 1u << 13,
    SCORE_SIGNAL_PROBLEM = 1u << 14,     /* by shape, text or title */
    SCORE_SIGNAL_SECRET = 1u << 15,
    SCORE_SIGNAL_LIFE = 1u << 16,        /* whoever wrote it */
    SCORE_SIGNAL_PITCH = 1u << 17,       /* whoever wrote it */
    SCORE_SIGNAL_HOSTILE = 1u << 18,
};
#define SCORE_SIGNAL_COUNT 19
unsigned score_signals(const struct mention *m);

#endif
