/* SPDX-License-Identifier: MIT */
/* triage_sim: see triage_sim.h. */
#include "triage_sim.h"

#include <glib.h>
#include <jansson.h>

static uint64_t triage_next(uint64_t *s)
{
    /* xorshift64*: small, fast, and the same on every machine. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Uniform in [0, 1). */
static double triage_uniform(uint64_t *s)
{
    return (double)(triage_next(s) >> 11) / 9007199254740992.0;
}

static int64_t triage_between(uint64_t *s, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(triage_uniform(s) * (double)(hi - lo));
}

static void triage_shuffle(struct triage_stream *s)
{
    for (size_t i = 0; i < s->set->n; i++)
        s->order[i] = i;
    for (size_t i = s->set->n; i > 1; i--) {
        size_t j = (size_t)(triage_next(&s->rng) % i);
        size_t t = s->order[i - 1];
        s->order[i - 1] = s->order[j];
        s->order[j] = t;
    }
    s->pos = 0;
}

void triage_stream_init(struct triage_stream *s, const struct triage_set *set, enum triage_user user, uint64_t seed)
{
    *s = (struct triage_stream){ .set = set, .user = user, .rng = seed ? seed : 1, .pending = -1 };
    s->order = g_new(size_t, set->n);
    triage_shuffle(s);
}

void triage_stream_clear(struct triage_stream *s)
{
    g_free(s->order);
    s->order = NULL;
}

/* One reaction to a mention of this label: the first action now, maybe a
 * second one owed (*second, -1 if none), with their delays in seconds. */
static enum learn_event triage_react(uint64_t *r, int label, int64_t *delay, int *second, int64_t *delay2)
{
    double u = triage_uniform(r);
    *second = -1;
    const int64_t min = 60, hour = 3600, day = 86400;
    switch (label) {
    case 3:
        if (u < 0.85) {
            *delay = triage_between(r, 2 * min, 40 * min);
            return LEARN_REPLIED;
        }
        *delay = triage_between(r, 5 * min, 30 * min);
        *second = LEARN_REPLIED;
        *delay2 = triage_between(r, hour, 3 * hour);
        return u < 0.95 ? LEARN_OPENED : LEARN_SNOOZED;
    case 2:
        if (u < 0.75) {
            *delay = u < 0.15 ? triage_between(r, 10 * min, 30 * min) : triage_between(r, hour, 10 * hour);
            return LEARN_REPLIED;
        }
        *delay = triage_between(r, 10 * min, 2 * hour);
        if (u < 0.9) {
            *second = LEARN_REPLIED;
            *delay2 = triage_between(r, 20 * hour, 30 * hour);
            return LEARN_SNOOZED;
        }
        return LEARN_DONE;
    case 1:
        *delay = triage_between(r, day, 3 * day);
        if (u < 0.3)
            return LEARN_REPLIED;
        *delay = triage_between(r, hour, 2 * day);
        return u < 0.7 ? LEARN_DONE : LEARN_IGNORED;
    default:
        *delay = triage_between(r, 10 * min, 2 * day);
        if (u < 0.05) {
            *second = LEARN_DONE;
            *delay2 = *delay + triage_between(r, min, hour);
            return LEARN_OPENED;
        }
        return u < 0.45 ? LEARN_DONE : LEARN_IGNORED;
    }
}

static enum learn_event triage_user_act(struct triage_stream *s, int label, int64_t *delay, int *second,
                                        int64_t *delay2)
{
    switch (s->user) {
    case TRIAGE_USER_RANDOM: {
        /* What the user does has nothing to do with the mention. */
        int any = (int)(triage_next(&s->rng) % 4);
        return triage_react(&s->rng, any, delay, second, delay2);
    }
    case TRIAGE_USER_NOTHING:
        *second = -1;
        *delay = LEARN_IGNORED_AFTER;
        return LEARN_IGNORED;
    case TRIAGE_USER_EVERYTHING:
        *second = -1;
        *delay = triage_between(&s->rng, 60, 1800);
        return LEARN_REPLIED;
    case TRIAGE_USER_INVERTED: return triage_react(&s->rng, 3 - label, delay, second, delay2);
    default: return triage_react(&s->rng, label, delay, second, delay2);
    }
}

void triage_stream_run(struct triage_stream *s, struct learn *l, const struct score_weights *w, size_t upto)
{
    while (s->events < upto) {
        if (s->pending >= 0) {
            const struct triage_item *it = &s->set->items[s->order[s->pos - 1]];
            learn_observe(l, w, &it->in, (enum learn_event)s->pending, s->pending_at);
            s->pending = -1;
            s->events++;
            continue;
        }
        if (s->pos == s->set->n)
            triage_shuffle(s);
        const struct triage_item *it = &s->set->items[s->order[s->pos++]];
        int64_t delay = 0, delay2 = 0;
        int second = -1;
        enum learn_event ev = triage_user_act(s, it->label, &delay, &second, &delay2);
        learn_observe(l, w, &it->in, ev, it->m->created_at + delay);
        s->events++;
        if (second >= 0) {
            s->pending = second;
            s->pending_at = it->m->created_at + delay2;
        }
    }
}

void triage_score_learned(const struct learn *l, const struct score_weights *w, const struct triage_set *set,
                          int *scores)
{
    for (size_t i = 0; i < set->n; i++) {
        json_t *reasons = NULL;
        int s = learn_score(l, w, &set->items[i].in, &reasons);
        json_decref(reasons);
        scores[i] = score_with_wait(w, s, set->items[i].m->created_at, set->now);
    }
}
