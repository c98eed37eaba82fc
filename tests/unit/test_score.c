/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/score.c.
 *
 * The ranking tests use the hand-labelled mentions in tests/data/triage/
 * and compute every figure; no score is written down here, so the weights
 * can be retuned without editing the tests. The loader is shared with
 * bench/triage.c and #included because unit tests are single-file targets
 * (see tests/CMakeLists.txt).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <jansson.h>
#include <string.h>

#include "score.h"

#include "../../bench/triage_data.c"

#define TRIAGE_MAIN HEED_TEST_DATA "/triage/mentions.json"
#define TRIAGE_HOLDOUT HEED_TEST_DATA "/triage/holdout.json"

static void load_set(const char *path, struct triage_set *set)
{
    GError *err = NULL;
    bool ok = triage_load(path, set, &err);
    if (!ok)
        fail_msg("%s", err->message);
    assert_true(set->n >= 30);
}

static int score_of(const struct score_weights *w, const struct score_input *in)
{
    json_t *reasons = NULL;
    int s = score_compute(w, in, &reasons);
    assert_true(json_is_array(reasons));
    json_decref(reasons);
    return s;
}

/* ---- ranking against the labels ------------------------------------------ */

static void check_beats_time_order(const char *path)
{
    struct triage_set set;
    load_set(path, &set);
    struct score_weights w;
    score_weights_default(&w);
    int *scores = g_new(int, set.n);
    int64_t *heed = g_new(int64_t, set.n), *time = g_new(int64_t, set.n);
    triage_score_all(&w, &set, scores);
    triage_int_keys(scores, set.n, heed);
    triage_time_keys(&set, time);
    double heed_acc = triage_pairwise_accuracy(&set, heed), time_acc = triage_pairwise_accuracy(&set, time);
    double heed_ndcg = triage_ndcg(&set, heed, 10), time_ndcg = triage_ndcg(&set, time, 10);
    print_message("%s: heed accuracy %.3f NDCG@10 %.3f; time order %.3f / %.3f\n", path, heed_acc, heed_ndcg,
                  time_acc, time_ndcg);
    assert_true(heed_acc >= time_acc + 0.15);
    assert_true(heed_ndcg > time_ndcg);
    g_free(scores);
    g_free(heed);
    g_free(time);
    triage_free(&set);
}

static void test_ranking_beats_time_order(void **state)
{
    (void)state;
    check_beats_time_order(TRIAGE_MAIN);
}

/* The held-out file was written after the rules were settled. */
static void test_ranking_beats_time_order_holdout(void **state)
{
    (void)state;
    check_beats_time_order(TRIAGE_HOLDOUT);
}

static void test_metrics_sanity(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    int64_t *keys = g_new(int64_t, set.n);
    /* Ordering by the labels themselves is perfect; ties count half, so a
     * constant key scores exactly 0.5. */
    for (size_t i = 0; i < set.n; i++)
        keys[i] = set.items[i].label;
    assert_true(triage_pairwise_accuracy(&set, keys) == 1.0);
    assert_true(triage_ndcg(&set, keys, 10) > 0.999);
    for (size_t i = 0; i < set.n; i++)
        keys[i] = 7;
    assert_true(triage_pairwise_accuracy(&set, keys) == 0.5);
    for (size_t i = 0; i < set.n; i++)
        keys[i] = -set.items[i].label;
    assert_true(triage_pairwise_accuracy(&set, keys) == 0.0);
    g_free(keys);
    triage_free(&set);
}

static void check_critical_rare(const char *path)
{
    struct triage_set set;
    load_set(path, &set);
    struct score_weights w;
    score_weights_default(&w);
    int *scores = g_new(int, set.n);
    triage_score_all(&w, &set, scores);
    size_t critical = 0;
    for (size_t i = 0; i < set.n; i++)
        critical += score_urgency(&w, scores[i]) == 2;
    print_message("%s: %zu of %zu critical\n", path, critical, set.n);
    assert_true(critical * 10 <= set.n);
    g_free(scores);
    triage_free(&set);
}

static void test_critical_is_rare(void **state)
{
    (void)state;
    check_critical_rare(TRIAGE_MAIN);
    check_critical_rare(TRIAGE_HOLDOUT);
}

/* ---- properties, over every labelled situation ----------------------------- */

static void test_reasons_sum_to_score(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    size_t unclamped = 0;
    for (size_t i = 0; i < set.n; i++) {
        json_t *reasons = NULL;
        int s = score_compute(&w, &set.items[i].in, &reasons);
        assert_in_range(s, 0, 100);
        int sum = 0;
        size_t k;
        json_t *r;
        json_array_foreach(reasons, k, r) {
            assert_true(json_is_string(json_object_get(r, "reason")));
            assert_true(json_string_length(json_object_get(r, "reason")) > 0);
            sum += (int)json_integer_value(json_object_get(r, "points"));
        }
        if (sum >= 0 && sum <= 100) {
            assert_int_equal(s, sum);
            unclamped++;
        } else {
            assert_int_equal(s, sum < 0 ? 0 : 100);
        }
        json_decref(reasons);
    }
    /* The property must actually have been exercised. */
    assert_true(unclamped * 2 > set.n);
    triage_free(&set);
}

static void test_muted_scores_zero(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    for (size_t i = 0; i < set.n; i++) {
        struct score_input in = set.items[i].in;
        in.muted = true;
        in.vip = i % 2 == 0; /* muting wins even over the VIP list */
        json_t *reasons = NULL;
        assert_int_equal(score_compute(&w, &in, &reasons), 0);
        assert_int_equal(json_array_size(reasons), 1);
        assert_string_equal(json_string_value(json_object_get(json_array_get(reasons, 0), "reason")), "muted");
        assert_int_equal(json_integer_value(json_object_get(json_array_get(reasons, 0), "points")), 0);
        json_decref(reasons);
    }
    triage_free(&set);
}

static void test_vip_at_least_normal(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    struct score_weights tight = w;
    tight.threshold_normal = 80;
    tight.threshold_critical = 81;
    for (size_t i = 0; i < set.n; i++) {
        struct score_input in = set.items[i].in;
        in.muted = false;
        in.vip = true;
        assert_true(score_of(&w, &in) >= w.threshold_normal);
        assert_true(score_of(&tight, &in) >= tight.threshold_normal);
    }
    triage_free(&set);
}

/* A copy of a labelled mention with one fact changed. */
struct variant {
    struct mention m;
    struct score_input in;
};

static void variant_init(struct variant *v, const struct triage_item *it)
{
    v->m = *it->m;
    v->in = it->in;
    v->in.m = &v->m;
    v->in.muted = false;
    v->in.vip = false;
}

static void test_bot_and_mass_lower(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    size_t strictly = 0;
    for (size_t i = 0; i < set.n; i++) {
        struct variant plain, bot, mass;
        variant_init(&plain, &set.items[i]);
        plain.m.author_bot = MENTION_NO;
        plain.m.mention_count = 1;
        bot = plain;
        bot.in.m = &bot.m;
        bot.m.author_bot = MENTION_YES;
        mass = plain;
        mass.in.m = &mass.m;
        mass.m.mention_count = 15;
        int p = score_of(&w, &plain.in), b = score_of(&w, &bot.in), ms = score_of(&w, &mass.in);
        assert_true(b <= p);
        assert_true(ms <= p);
        if (p > 0) {
            assert_true(b < p);
            assert_true(ms < p);
            strictly++;
        }
    }
    assert_true(strictly > set.n / 2);
    triage_free(&set);
}

static void test_more_history_not_lower(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    static const int replies[] = { 0, 1, 2, 3, 5, 8, 13, 32, 100, 1000, 100000 };
    for (size_t i = 0; i < set.n; i++) {
        struct variant v;
        variant_init(&v, &set.items[i]);
        int last = -1;
        for (size_t r = 0; r < G_N_ELEMENTS(replies); r++) {
            v.in.replies = replies[r];
            int s = score_of(&w, &v.in);
            assert_true(s >= last);
            last = s;
        }
    }
    triage_free(&set);
}

static void test_wait_grows_then_caps(void **state)
{
    (void)state;
    struct score_weights w;
    score_weights_default(&w);
    const int64_t t0 = 1700000000;
    assert_int_equal(score_wait_points(&w, t0, t0), 0);
    assert_int_equal(score_wait_points(&w, t0, t0 - 3600), 0); /* clock skew: not negative */
    assert_int_equal(score_wait_points(&w, 0, t0), 0);
    int last = 0;
    bool grew = false;
    for (int64_t h = 0; h <= 24 * 30; h++) {
        int p = score_wait_points(&w, t0, t0 + h * 3600);
        assert_true(p >= last);
        assert_true(p <= w.wait_max);
        grew = grew || p > last;
        last = p;
    }
    assert_true(grew);
    assert_int_equal(last, w.wait_max);
    assert_int_equal(score_wait_points(&w, t0, t0 + 400LL * 86400), w.wait_max);
    /* Added to the static score and clamped. */
    assert_int_equal(score_with_wait(&w, 50, t0, t0 + 7 * 86400), 50 + w.wait_max);
    assert_int_equal(score_with_wait(&w, 95, t0, t0 + 7 * 86400), 100);
    assert_int_equal(score_with_wait(&w, 50, t0, t0), 50);
}

static void test_question_strength(void **state)
{
    (void)state;
    /* Addressed questions and requests. */
    assert_int_equal(score_question_strength("Can you review this before Friday?"), 2);
    assert_int_equal(score_question_strength("could you take a look when you have a moment"), 2);
    assert_int_equal(score_question_strength("@kit did you get my email about the budget?"), 2);
    assert_int_equal(score_question_strength("PTAL"), 2);
    assert_int_equal(score_question_strength("lmk when the docs are up"), 2);
    assert_int_equal(score_question_strength("Kannst du mir sagen, ob es unter Wayland läuft?"), 2);
    assert_int_equal(score_question_strength("What do you think about io_uring here?"), 2);
    /* A question mark alone is weak. */
    assert_int_equal(score_question_strength("?"), 1);
    assert_int_equal(score_question_strength("Is FreeBSD supported at all?"), 1);
    /* Rhetorical. */
    assert_int_equal(score_question_strength("Isn't it wild how slow computers got?"), 1);
    assert_int_equal(score_question_strength("Who even uses XML anymore?"), 1);
    assert_int_equal(score_question_strength("who needs sleep when there's a release to ship, right?"), 1);
    assert_int_equal(score_question_strength("lol did you really push to main on a Friday? 😂"), 1);
    /* To the room, or to someone else while the user is copied. */
    assert_int_equal(score_question_strength("@kit @ana does anyone have a good CRDT paper?"), 1);
    assert_int_equal(score_question_strength("@bob can you check whether the mirror is up? cc @kit"), 1);
    assert_int_equal(score_question_strength("Maria, could you share the slides? /cc @kit"), 1);
    /* No question at all. */
    assert_int_equal(score_question_strength("Great talk yesterday."), 0);
    assert_int_equal(score_question_strength("thanks!"), 0);
    assert_int_equal(score_question_strength("See example.com/a?b for the 1.0 notes"), 1);
    assert_int_equal(score_question_strength(""), 0);
    assert_int_equal(score_question_strength(NULL), 0);
    /* Full-width question mark (Japanese, Chinese). */
    assert_int_equal(score_question_strength("ドキュメントを書いてもいいですか？"), 1);
}

/* Context the text alone lacks: a question in a post that names only the
 * user is for the user; "Name, could you" in a thread is for Name. */
static void test_question_in_context(void **state)
{
    (void)state;
    struct score_weights w;
    score_weights_default(&w);
    struct mention *m = mention_new();
    m->kind = MENTION_KIND_MENTION;
    m->created_at = 1700000000;
    struct score_input in = { .m = m, .now = m->created_at, .prior_mentions = 1 };

    m->text = g_strdup("@kit Is FreeBSD supported at all?");
    int alone = score_of(&w, &in);
    m->mention_count = 3;
    int crowd = score_of(&w, &in);
    assert_true(alone > crowd);

    g_free(m->text);
    m->text = g_strdup("@maria @kit Maria, could you share the slides?");
    m->mention_count = 2;
    int to_maria = score_of(&w, &in);
    g_free(m->text);
    m->text = g_strdup("@kit Kit, could you share the slides?");
    m->mention_count = 1;
    int to_kit = score_of(&w, &in);
    assert_true(to_kit > to_maria);

    /* Saying thanks, or that it is sorted, needs no answer. */
    g_free(m->text);
    m->text = g_strdup("@kit that fixed it, thank you so much!");
    int thanks = score_of(&w, &in);
    g_free(m->text);
    m->text = g_strdup("@kit that fixed it, but now the timer fires twice");
    int report = score_of(&w, &in);
    assert_true(thanks < report);
    g_free(m->text);
    m->text = g_strdup("@kit never mind, found it in the FAQ");
    assert_true(score_of(&w, &in) < report);
    mention_free(m);
}

/* ---- score_weights_load ------------------------------------------------------ */

static GKeyFile *keyfile(const char *text)
{
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    if (!g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &err))
        fail_msg("%s", err->message);
    return kf;
}

static void check_load_error(const char *text, const char *key)
{
    struct score_weights w;
    score_weights_default(&w);
    GKeyFile *kf = keyfile(text);
    GError *err = NULL;
    assert_false(score_weights_load(&w, kf, "/home/u/.config/heed/heed.conf", &err));
    assert_non_null(err);
    assert_non_null(strstr(err->message, "/home/u/.config/heed/heed.conf"));
    assert_non_null(strstr(err->message, "[score]"));
    assert_non_null(strstr(err->message, key));
    g_error_free(err);
    g_key_file_free(kf);
}

static unsigned signals_of(const char *text, const char *context)
{
    struct mention *m = mention_new();
    m->text = g_strdup(text);
    m->context = context ? g_strdup(context) : NULL;
    unsigned s = score_signals(m);
    mention_free(m);
    return s;
}

/* The bits learn.c reads agree with what score_compute counts. */
static void test_signals(void **state)
{
    (void)state;
    assert_int_equal(signals_of("@kit thanks!", NULL), SCORE_SIGNAL_THANKS_ONLY);
    unsigned s = signals_of("@kit could you look at this by Friday?", NULL);
    assert_true(s & SCORE_SIGNAL_REQUEST);
    assert_true(s & SCORE_SIGNAL_QUESTION);
    assert_true(s & SCORE_SIGNAL_DEADLINE);
    assert_false(s & SCORE_SIGNAL_NO_RUSH);
    s = signals_of("@kit could you look at this? no rush", NULL);
    assert_true(s & SCORE_SIGNAL_NO_RUSH);
    assert_false(s & SCORE_SIGNAL_DEADLINE);
    assert_true(signals_of("Same here on Fedora.", "tideline · Crash on startup") & SCORE_SIGNAL_ALARM);
    assert_false(signals_of("Same here on Fedora.", "tideline · Docs typo") & SCORE_SIGNAL_ALARM);
    assert_true(signals_of("@bob can you check the mirror? cc @kit", NULL) & SCORE_SIGNAL_TO_OTHER);
    assert_int_equal(signals_of("", NULL) & ~(unsigned)SCORE_SIGNAL_TINY, 0);
}

static void test_weights_load(void **state)
{
    (void)state;
    /* Compared byte for byte below: padding included, so zeroed first. */
    struct score_weights def, w;
    memset(&def, 0, sizeof def);
    memset(&w, 0, sizeof w);
    score_weights_default(&def);
    assert_true(def.threshold_normal < def.threshold_critical);

    /* No [score] group, or no key file at all: defaults. */
    GKeyFile *kf = keyfile("[heed]\npoll_interval = 2m\n");
    memcpy(&w, &def, sizeof w);
    assert_true(score_weights_load(&w, kf, "heed.conf", NULL));
    assert_memory_equal(&w, &def, sizeof w);
    g_key_file_free(kf);
    assert_true(score_weights_load(&w, NULL, "heed.conf", NULL));

    /* Overrides change only what they name, new weights included. */
    kf = keyfile("[score]\nquestion = 30\nbot = -60\nalarm = 0\nsecret = 40\npitch = -20\nthreshold_critical = 95\n");
    w = def;
    assert_true(score_weights_load(&w, kf, "heed.conf", NULL));
    assert_int_equal(w.question, 30);
    assert_int_equal(w.bot, -60);
    assert_int_equal(w.alarm, 0);
    assert_int_equal(w.secret, 40);
    assert_int_equal(w.pitch, -20);
    assert_int_equal(w.problem, def.problem);
    assert_int_equal(w.threshold_critical, 95);
    assert_int_equal(w.request, def.request);
    assert_int_equal(w.threshold_normal, def.threshold_normal);
    g_key_file_free(kf);

    /* learn is a switch, not a weight. */
    assert_true(def.learn);
    kf = keyfile("[score]\nlearn = false\n");
    w = def;
    assert_true(score_weights_load(&w, kf, "heed.conf", NULL));
    assert_false(w.learn);
    assert_int_equal(w.question, def.question);
    g_key_file_free(kf);
    check_load_error("[score]\nlearn = sometimes\n", "learn");

    check_load_error("[score]\nquestoin = 3\n", "questoin");
    check_load_error("[score]\nquestion = 101\n", "question");
    check_load_error("[score]\nbot = -101\n", "bot");
    check_load_error("[score]\nvip = lots\n", "vip");
    check_load_error("[score]\nthreshold_normal = 90\nthreshold_critical = 80\n", "threshold_critical");
    check_load_error("[score]\nthreshold_normal = 60\nthreshold_critical = 60\n", "threshold_critical");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranking_beats_time_order),
        cmocka_unit_test(test_ranking_beats_time_order_holdout),
        cmocka_unit_test(test_metrics_sanity),
        cmocka_unit_test(test_critical_is_rare),
        cmocka_unit_test(test_reasons_sum_to_score),
        cmocka_unit_test(test_muted_scores_zero),
        cmocka_unit_test(test_vip_at_least_normal),
        cmocka_unit_test(test_bot_and_mass_lower),
        cmocka_unit_test(test_more_history_not_lower),
        cmocka_unit_test(test_wait_grows_then_caps),
        cmocka_unit_test(test_question_strength),
        cmocka_unit_test(test_question_in_context),
        cmocka_unit_test(test_signals),
        cmocka_unit_test(test_weights_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
