/* SPDX-License-Identifier: MIT */
/* learn_model: the insides of struct learn, shared by learn.c (the model)
 * and learn_store.c (its persistence). Not for other modules: they use
 * learn.h. */
#ifndef HEED_LEARN_MODEL_H
#define HEED_LEARN_MODEL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "learn.h"
#include "learn_text.h"

/* Named features: what the rules read, then the topics of learn_text. */
enum {
    LEARN_F_KIND = 0,                                   /* + enum mention_kind */
    LEARN_F_NET = LEARN_F_KIND + MENTION_KIND__COUNT,   /* + index in learn_networks */
    LEARN_F_SIGNAL = LEARN_F_NET + 4,                   /* + bit of score_signals() */
    LEARN_F_REL = LEARN_F_SIGNAL + SCORE_SIGNAL_COUNT,  /* mutual, i follow, follows me, stranger */
    LEARN_F_HIST = LEARN_F_REL + 4,                     /* answered before, first contact, never answered */
    LEARN_F_BOT = LEARN_F_HIST + 3,
    LEARN_F_MASS,
    LEARN_F_KEYWORD,
    LEARN_F_VIP,
    LEARN_F_TOPIC,                                      /* + enum learn_topic */
    LEARN_F_COUNT = LEARN_F_TOPIC + LEARN_TOPIC_COUNT,
};

struct learn_weight {
    double w;
    int events;
    bool dirty;      /* changed since the last save */
};

struct learn_author {
    char *key;       /* account \x1f author id */
    double weight;
    int events, replies, replies_hour, replies_day;
    int64_t seen_at;
    bool dirty;
    GList node;      /* in learn.lru, most recently seen first; node.data == this */
};

/* Decayed sums for the correlation between the rule score and the
 * outcome: how far the user's actions track urgency as the rules read it. */
enum { LEARN_T_N, LEARN_T_R, LEARN_T_Y, LEARN_T_RR, LEARN_T_YY, LEARN_T_RY, LEARN_T_COUNT };
struct learn {
    struct learn_params p;
    double trust[LEARN_T_COUNT];
    bool trust_dirty;
    struct learn_weight bias, slope;
    struct learn_weight fixed[LEARN_F_COUNT];
    struct learn_weight *words;  /* LEARN_WORD_BUCKETS */
    GHashTable *authors;         /* key -> struct learn_author (owned) */
    GQueue lru;
    GPtrArray *gone;             /* stored keys to delete at the next save */
    bool cleared;                /* forget everything stored at the next save */
};

/* The stored name of named feature i ("kind.direct", "topic.pitch"). */
const char *learn_fixed_key(int i);
void learn_author_free(gpointer p);
/* Forget a person: out of the table now, out of the store at the next save. */
void learn_author_drop(struct learn *l, struct learn_author *a);

#endif
