/* SPDX-License-Identifier: MIT */
/* learn: see learn.h.
 *
 * The model: P(the user answers, soon) = sigmoid(bias + slope * (rule -
 * threshold) / scale + sum of w_f x_f). The rule score is an offset, so with
 * every w_f at 0 the model is the rules; a weight moves only when an outcome
 * surprises them. The learned points are scale * sum w_f x_f: the units of
 * the rule score, split by habit for the reasons. The bias (how much the
 * user answers at all) and the slope (how well the rule score predicts
 * them, 1 at first) are learned too but never added to a score: without
 * them every feature would learn to undo the rules for a user whose
 * actions are noisy, and a holiday of ignored mentions would reorder them.
 */
#include "learn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learn_model.h"
#include "learn_text.h"

/* Stored key and what the reason calls it ("you answer ... more than the
 * rules expect"). */
static const struct { const char *key, *what; } learn_fixed[LEARN_F_COUNT] = {
    { "kind.mention", "mentions" }, { "kind.reply", "replies to your posts" }, { "kind.quote", "quotes" },
    { "kind.direct", "private messages" }, { "kind.review", "review requests" },
    { "kind.assign", "assignments" }, { "kind.team", "team mentions" },
    { "net.mastodon", "Mastodon mentions" }, { "net.bluesky", "Bluesky mentions" },
    { "net.github", "GitHub notifications" }, { "net.x", "mentions on X" },
    { "sig.question", "questions" }, { "sig.addressed", "questions to you" },
    { "sig.interrogative", "questions to you" }, { "sig.request", "requests" },
    { "sig.to_other", "asks meant for others" }, { "sig.rhetorical", "rhetorical questions" },
    { "sig.crowd", "questions to everyone" }, { "sig.joking", "jokes" }, { "sig.thanks", "thank-yous" },
    { "sig.resolved", "\"never mind\"s" }, { "sig.tiny", "one-word posts" },
    { "sig.alarm", "reports of something broken" }, { "sig.deadline", "deadlines" },
    { "sig.no_rush", "\"no rush\" asks" }, { "sig.problem", "problems reported as statements" },
    { "sig.secret", "credentials shown in the open" }, { "sig.life", "first-person personal news" },
    { "sig.pitch", "sales and recruiting pitches" }, { "sig.hostile", "sneering questions" },
    { "rel.mutual", "mutual follows" }, { "rel.i_follow", "people you follow" },
    { "rel.follows_me", "your followers" }, { "rel.stranger", "strangers" },
    { "hist.answered", "people you have answered" }, { "hist.first", "first contacts" },
    { "hist.unanswered", "people you have never answered" },
    { "bot", "automated accounts" }, { "mass", "mass mentions" }, { "keyword", "your keywords" },
    { "vip", "your VIPs" },
    { "topic.problem", "problem reports" }, { "topic.secret", "exposed credentials" },
    { "topic.life", "personal news" }, { "topic.pitch", "pitches and recruiters" },
    { "topic.hostile", "hostile mentions" },
};

static const char *const learn_networks[] = { "mastodon", "bluesky", "github", "x" };

#define LEARN_TRUST_KEEP (1.0 - 1.0 / 500)  /* per event: the last ~500 actions count */
#define LEARN_TRUST_FROM 0.1                /* correlation below which nothing learned is used */
#define LEARN_TRUST_FULL 0.3                /* ... and from which all of it is */

enum learn_space { LEARN_FIXED, LEARN_WORD, LEARN_AUTHOR };

struct learn_feature {
    enum learn_space space;
    int index;       /* fixed index, word bucket */
    int slot;        /* word: index in learn_vec.text.word */
    double x;
};

struct learn_vec {
    struct learn_feature f[LEARN_F_COUNT + LEARN_TEXT_MAX_WORDS];
    int n;
    struct learn_text text;
};

/* No weight grows past what the cap can use. */
#define LEARN_WEIGHT_MAX(l) (2.0 * LEARN_CAP / (l)->p.scale)

void learn_params_default(struct learn_params *p)
{
    /* Chosen on random halves of tests/data/triage/mentions.json (learn from
     * one, rank the other), never on the held-out files; most values within
     * a factor of two give the same figures (docs/BENCHMARKS.md). */
    *p = (struct learn_params){ .scale = 10.0, .rate = 0.2, .l2 = 0.03, .slope_rate = 0.5, .bias_rate = 1.0,
                                .authors = 2000 };
}

void learn_author_free(gpointer p)
{
    struct learn_author *a = p;
    g_free(a->key);
    g_free(a);
}

struct learn *learn_new(const struct learn_params *params)
{
    struct learn *l = g_new0(struct learn, 1);
    if (params)
        l->p = *params;
    else
        learn_params_default(&l->p);
    if (l->p.authors < 1)
        l->p.authors = 1;
    l->words = g_new0(struct learn_weight, LEARN_WORD_BUCKETS);
    l->slope.w = 1;
    l->authors = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, learn_author_free);
    g_queue_init(&l->lru);
    l->gone = g_ptr_array_new_with_free_func(g_free);
    return l;
}

void learn_free(struct learn *l)
{
    if (!l)
        return;
    g_hash_table_unref(l->authors);
    g_ptr_array_unref(l->gone);
    g_free(l->words);
    g_free(l);
}

size_t learn_size(const struct learn *l)
{
    size_t n = g_hash_table_size(l->authors);
    for (int i = 0; i < LEARN_F_COUNT; i++)
        n += l->fixed[i].w != 0;
    for (int i = 0; i < LEARN_WORD_BUCKETS; i++)
        n += l->words[i].w != 0;
    return n;
}

const char *learn_fixed_key(int i)
{
    return i >= 0 && i < LEARN_F_COUNT ? learn_fixed[i].key : NULL;
}

size_t learn_people(const struct learn *l)
{
    return g_hash_table_size(l->authors);
}

const char *learn_event_name(enum learn_event ev)
{
    static const char *const names[LEARN_EVENT_COUNT] = { "replied", "done", "snoozed", "opened", "ignored" };
    return ev < LEARN_EVENT_COUNT ? names[ev] : "unknown";
}

/* ---- features ------------------------------------------------------------ */

static void learn_add(struct learn_vec *v, enum learn_space space, int index, int slot, double x)
{
    v->f[v->n++] = (struct learn_feature){ space, index, slot, x };
}

static void learn_rule_features(const struct score_input *in, struct learn_vec *v)
{
    const struct mention *m = in->m;
    if (m->kind >= 0 && m->kind < MENTION_KIND__COUNT)
        learn_add(v, LEARN_FIXED, LEARN_F_KIND + (int)m->kind, 0, 1);
    for (int i = 0; i < (int)G_N_ELEMENTS(learn_networks); i++)
        if (g_strcmp0(m->network, learn_networks[i]) == 0)
            learn_add(v, LEARN_FIXED, LEARN_F_NET + i, 0, 1);
    unsigned sig = score_signals(m);
    for (int i = 0; i < SCORE_SIGNAL_COUNT; i++)
        if (sig & (1u << i))
            learn_add(v, LEARN_FIXED, LEARN_F_SIGNAL + i, 0, 1);
    bool mine = m->i_follow == MENTION_YES, theirs = m->follows_me == MENTION_YES;
    learn_add(v, LEARN_FIXED, LEARN_F_REL + (mine && theirs ? 0 : mine ? 1 : theirs ? 2 : 3), 0, 1);
    if (in->replies > 0)
        learn_add(v, LEARN_FIXED, LEARN_F_HIST, 0, 1);
    else
        learn_add(v, LEARN_FIXED, LEARN_F_HIST + (in->prior_mentions == 0 ? 1 : 2), 0, 1);
    if (m->author_bot == MENTION_YES)
        learn_add(v, LEARN_FIXED, LEARN_F_BOT, 0, 1);
    if (m->mention_count >= 4)
        learn_add(v, LEARN_FIXED, LEARN_F_MASS, 0, 1);
    if (in->keyword)
        learn_add(v, LEARN_FIXED, LEARN_F_KEYWORD, 0, 1);
    if (in->vip)
        learn_add(v, LEARN_FIXED, LEARN_F_VIP, 0, 1);
}

static void learn_features(const struct learn *l, const struct score_input *in, struct learn_vec *v)
{
    v->n = 0;
    if (!(l->p.skip & LEARN_GROUP_RULES))
        learn_rule_features(in, v);
    learn_text_read(in->m->text, in->m->context, LEARN_WORD_BUCKETS, &v->text);
    for (int t = 0; t < LEARN_TOPIC_COUNT && !(l->p.skip & LEARN_GROUP_TOPICS); t++)
        if (v->text.topics & (1u << t))
            learn_add(v, LEARN_FIXED, LEARN_F_TOPIC + t, 0, 1);
    /* Many words share one unit of weight: a long text is not louder. */
    double x = v->text.n ? 1.0 / sqrt((double)v->text.n) : 0;
    for (int i = 0; i < v->text.n && !(l->p.skip & LEARN_GROUP_WORDS); i++)
        learn_add(v, LEARN_WORD, (int)v->text.bucket[i], i, x);
}

static char *learn_author_key(const struct mention *m)
{
    const char *who = m->author_id ? m->author_id : m->author_handle;
    return who ? g_strdup_printf("%s\x1f%s", m->account ? m->account : "", who) : NULL;
}

static struct learn_author *learn_author_find(const struct learn *l, const struct mention *m)
{
    g_autofree char *key = learn_author_key(m);
    return key ? g_hash_table_lookup(l->authors, key) : NULL;
}

void learn_author_drop(struct learn *l, struct learn_author *a)
{
    g_queue_unlink(&l->lru, &a->node);
    g_ptr_array_add(l->gone, g_strconcat("a:", a->key, NULL));
    g_hash_table_remove(l->authors, a->key);
}

/* The author's entry, made if new and moved to the front; the least
 * recently seen person is forgotten when the table is full. */
static struct learn_author *learn_author_touch(struct learn *l, const struct mention *m, int64_t at)
{
    char *key = learn_author_key(m);
    if (!key)
        return NULL;
    struct learn_author *a = g_hash_table_lookup(l->authors, key);
    if (a) {
        g_free(key);
        g_queue_unlink(&l->lru, &a->node);
    } else {
        a = g_new0(struct learn_author, 1);
        a->key = key;
        a->node.data = a;
        g_hash_table_insert(l->authors, a->key, a);
    }
    g_queue_push_head_link(&l->lru, &a->node);
    if (at > a->seen_at)
        a->seen_at = at;
    while (g_hash_table_size(l->authors) > (guint)l->p.authors)
        learn_author_drop(l, g_queue_peek_tail(&l->lru));
    return a;
}

static double learn_weight_of(const struct learn *l, const struct learn_feature *f)
{
    return f->space == LEARN_FIXED ? l->fixed[f->index].w : l->words[f->index].w;
}

/* ---- learning ------------------------------------------------------------ */

/* What an action says: y, how much the user wanted to answer (1 = at once),
 * and c, how sure that reading is. */
static void learn_target(enum learn_event ev, int64_t delay, double *y, double *c)
{
    *c = 1.0;
    switch (ev) {
    case LEARN_REPLIED:
        *y = delay <= 3600 ? 1.0 : delay <= 6 * 3600 ? 0.85 : delay <= 86400 ? 0.7 : 0.5;
        break;
    case LEARN_SNOOZED: *y = 0.6; *c = 0.5; break;
    case LEARN_OPENED: *y = 0.55; *c = 0.3; break;
    case LEARN_DONE: *y = 0.1; break;
    default: *y = 0.0; break;
    }
}

static int learn_rule_score(const struct score_weights *w, const struct score_input *in)
{
    json_t *reasons = NULL;
    int s = score_compute(w, in, &reasons);
    json_decref(reasons);
    return s;
}

static void learn_step(const struct learn *l, double *w, double gx)
{
    *w += l->p.rate * (gx - l->p.l2 * *w);
    double max = LEARN_WEIGHT_MAX(l);
    *w = *w > max ? max : *w < -max ? -max : *w;
}

static void learn_trust_add(struct learn *l, double r, double y, double c)
{
    const double add[LEARN_T_COUNT] = { c, c * r, c * y, c * r * r, c * y * y, c * r * y };
    for (int i = 0; i < LEARN_T_COUNT; i++)
        l->trust[i] = l->trust[i] * LEARN_TRUST_KEEP + add[i];
    l->trust_dirty = true;
}

/* Weighted correlation of rule score and outcome over the recent actions. */
static double learn_correlation(const struct learn *l)
{
    const double *t = l->trust;
    if (t[LEARN_T_N] < 2)
        return 0;
    double n = t[LEARN_T_N];
    double vr = t[LEARN_T_RR] / n - (t[LEARN_T_R] / n) * (t[LEARN_T_R] / n);
    double vy = t[LEARN_T_YY] / n - (t[LEARN_T_Y] / n) * (t[LEARN_T_Y] / n);
    double cov = t[LEARN_T_RY] / n - (t[LEARN_T_R] / n) * (t[LEARN_T_Y] / n);
    return vr > 1e-9 && vy > 1e-9 ? cov / sqrt(vr * vy) : 0;
}

/* How much of what was learned to use: none while the user's actions do
 * not track urgency as the rules read it (random, backwards, all the
 * same), all of it once they clearly do. Read as: learn what the rules
 * miss about a user they mostly understand. */
static double learn_trust(const struct learn *l)
{
    double t = (learn_correlation(l) - LEARN_TRUST_FROM) / (LEARN_TRUST_FULL - LEARN_TRUST_FROM);
    return t < 0 ? 0 : t > 1 ? 1 : t;
}

static void learn_author_count(struct learn_author *a, enum learn_event ev, int64_t delay)
{
    a->events++;
    if (ev == LEARN_REPLIED) {
        a->replies++;
        a->replies_hour += delay <= 3600;
        a->replies_day += delay <= 86400;
    }
    a->dirty = true;
}

void learn_observe(struct learn *l, const struct score_weights *w, const struct score_input *in,
                   enum learn_event ev, int64_t at)
{
    if (!l || !w || !w->learn || !in || !in->m || in->muted || ev >= LEARN_EVENT_COUNT)
        return;
    struct learn_vec v;
    learn_features(l, in, &v);
    struct learn_author *a = l->p.skip & LEARN_GROUP_PEOPLE ? NULL : learn_author_touch(l, in->m, at);
    int64_t delay = at > in->m->created_at ? at - in->m->created_at : 0;
    double y, c;
    learn_target(ev, delay, &y, &c);
    int rule = learn_rule_score(w, in);
    double r = (rule - w->threshold_normal) / l->p.scale;
    learn_trust_add(l, rule, y, c);
    double z = l->bias.w + l->slope.w * r;
    for (int i = 0; i < v.n; i++)
        z += learn_weight_of(l, &v.f[i]) * v.f[i].x;
    if (a)
        z += a->weight;
    double g = c * (y - 1.0 / (1.0 + exp(-z)));
    l->bias.w += l->p.bias_rate * g;
    l->slope.w += l->p.slope_rate * g * r;
    l->slope.w = l->slope.w > 4 ? 4 : l->slope.w < -4 ? -4 : l->slope.w;
    l->bias.events++;
    l->slope.events++;
    l->bias.dirty = l->slope.dirty = true;
    for (int i = 0; i < v.n; i++) {
        struct learn_weight *wt = v.f[i].space == LEARN_FIXED ? &l->fixed[v.f[i].index] : &l->words[v.f[i].index];
        learn_step(l, &wt->w, g * v.f[i].x);
        wt->events++;
        wt->dirty = true;
    }
    if (a) {
        learn_step(l, &a->weight, g);
        learn_author_count(a, ev, delay);
    }
}

/* ---- explaining ----------------------------------------------------------- */

struct learn_part {
    double points;
    enum learn_space space;
    int index, slot;
};

static int learn_part_cmp(const void *x, const void *y)
{
    double a = fabs(((const struct learn_part *)x)->points), b = fabs(((const struct learn_part *)y)->points);
    return (a < b) - (a > b);
}

/* Every reason is true as written: a weight says "more (or less) than the
 * rules expect", not "often" or "rarely"; the reply record backs the rest. */
static char *learn_say_author(const struct learn_author *a, const char *handle, double points)
{
    g_autofree char *who = handle ? g_strdup_printf("%s%s", handle[0] == '@' ? "" : "@", handle) : g_strdup("them");
    if (points < 0)
        return a->replies == 0 && a->events >= 2
                   ? g_strdup_printf("learned: you have not answered %s's last %d mentions", who, a->events)
                   : g_strdup_printf("learned: you answer %s less than the rules expect", who);
    if (a->replies >= 2 && 2 * a->replies_hour >= a->replies)
        return g_strdup_printf("learned: you usually answer %s within an hour", who);
    if (a->replies >= 2 && 2 * a->replies_day >= a->replies)
        return g_strdup_printf("learned: you usually answer %s within a day", who);
    return g_strdup_printf("learned: you answer %s more than the rules expect", who);
}

static char *learn_say(const struct learn_part *pt, const struct learn_vec *v, const struct learn_author *a,
                       const struct mention *m)
{
    const char *how = pt->points > 0 ? "more" : "less";
    switch (pt->space) {
    case LEARN_AUTHOR: return learn_say_author(a, m->author_handle, pt->points);
    case LEARN_WORD:
        return g_strdup_printf("learned: you answer posts that say \"%s\" %s than the rules expect",
                               v->text.word[pt->slot], how);
    default: return g_strdup_printf("learned: you answer %s %s than the rules expect", learn_fixed[pt->index].what, how);
    }
}

/* Each habit's points, words folded into one part (named after the word
 * that weighs most in the direction of their sum). Returns the count. */
static int learn_parts(const struct learn *l, const struct learn_vec *v, const struct learn_author *a,
                       struct learn_part *parts)
{
    int n = 0;
    struct learn_part words = { 0, LEARN_WORD, 0, -1 };
    double best = 0;
    for (int i = 0; i < v->n; i++) {
        double p = l->p.scale * learn_weight_of(l, &v->f[i]) * v->f[i].x;
        if (p == 0)
            continue;
        if (v->f[i].space == LEARN_FIXED) {
            parts[n++] = (struct learn_part){ p, LEARN_FIXED, v->f[i].index, 0 };
            continue;
        }
        words.points += p;
        if (fabs(p) > best) {
            best = fabs(p);
            words.slot = v->f[i].slot;
        }
    }
    if (words.points != 0)
        parts[n++] = words;
    if (a && a->weight != 0)
        parts[n++] = (struct learn_part){ l->p.scale * a->weight, LEARN_AUTHOR, 0, 0 };
    return n;
}

static void learn_reason(json_t *reasons, const char *text, int points)
{
    json_array_append_new(reasons, json_pack("{s:s, s:i}", "reason", text, "points", points));
}

/* learn_adjust with a floor below -LEARN_CAP's (a VIP's). */
static int learn_adjust_within(const struct learn *l, const struct score_weights *w, const struct score_input *in,
                               int lo, json_t *reasons)
{
    if (!l || !w || !w->learn || !in || !in->m || in->muted)
        return 0;
    struct learn_vec v;
    learn_features(l, in, &v);
    const struct learn_author *a = l->p.skip & LEARN_GROUP_PEOPLE ? NULL : learn_author_find(l, in->m);
    struct learn_part parts[G_N_ELEMENTS(v.f) + 2];
    int n = learn_parts(l, &v, a, parts);
    double total = 0, trust = learn_trust(l);
    for (int i = 0; i < n; i++) {
        parts[i].points *= trust;
        total += parts[i].points;
    }
    long target = lround(total);
    target = target > LEARN_CAP ? LEARN_CAP : target < -LEARN_CAP ? -LEARN_CAP : target;
    if (target < lo)
        target = lo;
    if (target == 0)
        return 0;
    qsort(parts, (size_t)n, sizeof *parts, learn_part_cmp);
    long shown = 0;
    for (int i = 0, named = 0; i < n && named < 3; i++) {
        long p = lround(parts[i].points * (double)target / total);
        if (p == 0)
            continue;
        g_autofree char *text = learn_say(&parts[i], &v, a, in->m);
        learn_reason(reasons, text, (int)p);
        shown += p;
        named++;
    }
    if (target != shown)
        learn_reason(reasons, "learned: other habits", (int)(target - shown));
    return (int)target;
}

int learn_adjust(const struct learn *l, const struct score_weights *w, const struct score_input *in,
                 json_t *reasons)
{
    return learn_adjust_within(l, w, in, -LEARN_CAP, reasons);
}

int learn_score(const struct learn *l, const struct score_weights *w, const struct score_input *in,
                json_t **reasons)
{
    int s = score_compute(w, in, reasons);
    if (!l || !w->learn || in->muted)
        return s;
    int total = 0;
    size_t i;
    json_t *r;
    json_array_foreach(*reasons, i, r)
        total += (int)json_integer_value(json_object_get(r, "points"));
    int lo = -LEARN_CAP;
    if (in->vip) {
        int floor = (w->threshold_normal + w->threshold_critical + 1) / 2;
        lo = floor - total > lo ? MIN(0, floor - total) : lo;
    }
    total += learn_adjust_within(l, w, in, lo, *reasons);
    return total < 0 ? 0 : total > 100 ? 100 : total;
}

void learn_forget(struct learn *l, const char *account, const char *author_id)
{
    if (!l)
        return;
    if (author_id) {
        g_autofree char *key = g_strdup_printf("%s\x1f%s", account ? account : "", author_id);
        struct learn_author *a = g_hash_table_lookup(l->authors, key);
        if (a)
            learn_author_drop(l, a);
        return;
    }
    l->bias = (struct learn_weight){ 0 };
    l->slope = (struct learn_weight){ 1, 0, false };
    memset(l->trust, 0, sizeof l->trust);
    memset(l->fixed, 0, sizeof l->fixed);
    memset(l->words, 0, sizeof *l->words * LEARN_WORD_BUCKETS);
    g_queue_init(&l->lru);
    g_hash_table_remove_all(l->authors);
    g_ptr_array_set_size(l->gone, 0);
    l->cleared = true;
}
