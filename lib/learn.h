/* SPDX-License-Identifier: MIT */
/* learn: what this user's own actions say about urgency, on top of the rules.
 *
 * The rules (score.c) are the prior. learn keeps a small per-user model on
 * the user's machine, in the state database, and turns it into extra named
 * reasons added to the rule score ("learned: you usually answer @ana within
 * an hour" +12), so `heed explain` still shows every point.
 *
 * The model is a logistic regression of "the user answers, and soon" whose
 * offset is the rule score: it learns only where the rules and this user
 * disagree. Its inputs are what the rules already read (kind, network, the
 * text signals of score_signals(), relationship, history, bot, mass mention,
 * keyword, VIP), a few topics that the rules do not score (problem reports,
 * exposed credentials, personal news, pitches and recruiters, hostility),
 * the words of the text hashed into LEARN_WORD_BUCKETS buckets, and the
 * author (at most learn_params.authors people, least recently seen
 * forgotten first). Everything is bounded in size.
 *
 * Promises:
 *  - An empty model (a new user, or after learn_forget) adds nothing:
 *    learn_score() is exactly score_compute(), reasons included. With
 *    [score] learn = false (w->learn) nothing is learned or added, whatever
 *    the model holds.
 *  - The learned part of a score is at most LEARN_CAP points either way,
 *    its reasons sum to it, and a VIP never falls below the rules' VIP floor.
 *  - Nothing learned is used until the user's recent actions (about 500)
 *    correlate with the rule score (all of it from 0.3, none below 0.1): a
 *    user whose actions look random, all alike, or backwards keeps the rules.
 *  - A user's base rate (answering everything, nothing) and how steeply the
 *    rule score predicts them are learned but never added, so neither
 *    reorders mentions.
 *  - Each action on a mention is learned from once (learn_record marks it
 *    in the store).
 *
 * What the engine calls, and when. `in` is the score_input it builds to
 * score the mention (replies, last_reply, prior_mentions, vip, muted,
 * keyword), with in->m read from the store (learn_record needs in->m->id);
 * `at` is when the action happened:
 *  - learn_load() at start, learn_free() at exit; learn_score() instead of
 *    score_compute() when a mention is scored.
 *  - learn_record(..., LEARN_REPLIED, reply time) when the user's reply to
 *    the mention is seen on the network (the id store_mark_replied returns),
 *    or the user picks "reply" on the notification;
 *    LEARN_DONE for Done without a reply; LEARN_SNOOZED for a snooze;
 *    LEARN_OPENED when the user opens the post (heed open, the "open"
 *    action); LEARN_IGNORED, at = now, for each mention that
 *    store_learn_ignored(st, now - LEARN_IGNORED_AFTER, limit) returns (shown,
 *    then untouched for days), e.g. on the hourly tick.
 *  - learn_forget_saved() for `heed forget` (one person, or everything).
 * learn_observe/learn_adjust/learn_forget are the pure parts; the ones
 * taking a store persist through store_learn_* (learn_store.c).
 */
#ifndef HEED_LEARN_H
#define HEED_LEARN_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "score.h"
#include "store.h"

#define LEARN_CAP 25                        /* points, either way */
#define LEARN_IGNORED_AFTER (3 * 86400)     /* shown and untouched this long: ignored */
#define LEARN_WORD_BUCKETS 4096

enum learn_event { LEARN_REPLIED = 0, LEARN_DONE, LEARN_SNOOZED, LEARN_OPENED, LEARN_IGNORED, LEARN_EVENT_COUNT };

/* How fast and how far the model moves; learn_params_default() is what
 * heed uses (chosen on tests/data/triage/mentions.json, see
 * docs/BENCHMARKS.md). Exposed for the benchmark and the tests. */
struct learn_params {
    double scale;     /* points per unit of log-odds: the rule score's slope */
    double rate;      /* learning rate of one event */
    double l2;        /* pull of each weight toward 0 at each update */
    double slope_rate;/* learning rate of how much the rule score itself predicts this user */
    double bias_rate; /* learning rate of how much the user answers at all */
    int authors;      /* people remembered */
    unsigned skip;    /* feature groups left out (enum learn_group bits), for ablation */
};

/* Groups of learned features, for learn_params.skip. */
enum learn_group {
    LEARN_GROUP_RULES = 1u << 0,   /* kind, network, text signals, relationship, history, bot, ... */
    LEARN_GROUP_TOPICS = 1u << 1,
    LEARN_GROUP_WORDS = 1u << 2,
    LEARN_GROUP_PEOPLE = 1u << 3,
};

struct learn;

void learn_params_default(struct learn_params *p);
/* An empty model; params NULL means the defaults. */
struct learn *learn_new(const struct learn_params *params);
void learn_free(struct learn *l);
/* Entries that hold something: weights not 0, people remembered. */
size_t learn_size(const struct learn *l);
/* People remembered (at most learn_params.authors). */
size_t learn_people(const struct learn *l);
const char *learn_event_name(enum learn_event ev);

/* Learn from one action of the user on in->m at time `at` (its delay after
 * in->m->created_at tells a quick reply from a late one). No-op when
 * w->learn is false or the author is muted. */
void learn_observe(struct learn *l, const struct score_weights *w, const struct score_input *in,
                   enum learn_event ev, int64_t at);
/* The learned points for a mention (|points| <= LEARN_CAP), appending one
 * {"reason": "learned: ...", "points": N} per habit to reasons; they sum to
 * the return value. 0 and nothing appended for an empty model, when
 * w->learn is false, or for a muted author. */
int learn_adjust(const struct learn *l, const struct score_weights *w, const struct score_input *in,
                 json_t *reasons);
/* score_compute() plus learn_adjust(), clamped to 0-100 (a VIP keeps the
 * rules' floor): what the engine stores as the static score. l may be NULL. */
int learn_score(const struct learn *l, const struct score_weights *w, const struct score_input *in,
                json_t **reasons);
/* Forget one person (author_id, or the handle when the network gives no
 * id), or everything when author_id is NULL. */
void learn_forget(struct learn *l, const char *account, const char *author_id);

/* ---- persistence (store_learn_*) ---- */

/* The saved model, or an empty one for a new database. */
struct learn *learn_load(struct store *st, const struct learn_params *params, GError **error);
/* Write what changed since the last save (one savepoint). */
bool learn_save(struct learn *l, struct store *st, GError **error);
/* learn_observe() once per (mention, event), then save. */
bool learn_record(struct learn *l, struct store *st, const struct score_weights *w, const struct score_input *in,
                  enum learn_event ev, int64_t at, GError **error);
/* learn_forget() and save. */
bool learn_forget_saved(struct learn *l, struct store *st, const char *account, const char *author_id,
                        GError **error);

#endif
