/* SPDX-License-Identifier: MIT */
/* triage_sim: a simulated user who acts on the labelled mentions, to
 * measure and test what lib/learn.c learns from a stream of actions.
 *
 * The stream replays a labelled set in a shuffled order, over and over
 * (each pass reshuffled); for each mention the user takes one or two
 * actions (opened, then replied; snoozed, then replied; done; ignored)
 * drawn from their behaviour, with delays. Deterministic for a seed.
 * Shared by bench/triage.c and tests/unit/test_learn.c (which #includes
 * the .c, as test_score.c does with triage_data.c).
 */
#ifndef HEED_TRIAGE_SIM_H
#define HEED_TRIAGE_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "learn.h"
#include "triage_data.h"

enum triage_user {
    TRIAGE_USER_LABELS,     /* acts as the labels say, with noise: 3 answered at once, 0 ignored */
    TRIAGE_USER_RANDOM,     /* any action on any mention, whatever it says */
    TRIAGE_USER_NOTHING,    /* ignores everything (a holiday) */
    TRIAGE_USER_EVERYTHING, /* answers everything at once */
    TRIAGE_USER_INVERTED,   /* acts as if each label were 3 - label */
};

struct triage_stream {
    const struct triage_set *set;
    enum triage_user user;
    uint64_t rng;
    size_t *order, pos;     /* the current pass */
    int pending;            /* a second action owed on order[pos - 1], or -1 */
    int64_t pending_at;
    size_t events;          /* actions delivered so far */
};

void triage_stream_init(struct triage_stream *s, const struct triage_set *set, enum triage_user user, uint64_t seed);
void triage_stream_clear(struct triage_stream *s);
/* Deliver actions until s->events == upto. */
void triage_stream_run(struct triage_stream *s, struct learn *l, const struct score_weights *w, size_t upto);

/* The order the learned model gives: learn_score plus waiting points at
 * set->now, as triage_score_all does for the rules. */
void triage_score_learned(const struct learn *l, const struct score_weights *w, const struct triage_set *set,
                          int *scores);

#endif
