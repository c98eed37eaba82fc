/* SPDX-License-Identifier: MIT */
/* judge: what one mention is worth to the user, in one place.
 *
 * The engine's rooms all ask the same questions of a mention: its score
 * (static part when stored, plus waiting time while it is open), its
 * urgency, whether its author is a VIP or muted. They ask here, so the
 * answers never drift apart between the notification, `heed list` and a
 * reminder. A judge reads the store only in judge_score (reply history,
 * earlier mentions), which must run outside a write transaction.
 */
#ifndef HEED_JUDGE_H
#define HEED_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "learn.h"
#include "mention.h"
#include "score.h"
#include "store.h"

struct judge {
    const struct score_weights *weights;
    const struct config *cfg;     /* vip, muted, keywords */
    struct store *store;
    struct learn *learn;          /* what this user's actions taught (learn.h), or NULL */
};

struct judgement {
    int score;      /* 0-100 now: a muted author's 0, an open mention's score plus waiting time */
    int urgency;    /* 0 low, 1 normal, 2 critical */
    bool vip, muted;
    bool noise;     /* muted, scored 0 when stored, or written by a bot (not a VIP): listed, never shown */
};

/* Compute m->score and m->reasons_json for a mention about to be stored:
 * the rules, plus what was learned. */
void judge_score(const struct judge *j, struct mention *m, int64_t now);
/* The user acted on stored mention id at `at` (replied, done, snoozed,
 * opened, or ignored it for days): learn from it, once per kind of action.
 * Failures are logged: learning is a bonus, never a reason to fail. */
void judge_learn(const struct judge *j, int64_t id, enum learn_event ev, int64_t at);
/* The mention as it stands at `now`. */
struct judgement judge_now(const struct judge *j, const struct mention *m, int64_t now);
/* Urgency of a given score (for digests and reminders that carry their own). */
int judge_urgency(const struct judge *j, int score);

#endif
