/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/learn.c: the learned half of the urgency score.
 *
 * The model is exercised with the labelled mentions of tests/data/triage/
 * and the simulated users of bench/triage_sim.c (both #included: unit
 * tests are single-file targets); persistence runs against a real SQLite
 * file in a temporary directory. No figure is written down here: each test
 * compares the learned order with the rules' order computed in the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <jansson.h>
#include <sqlite3.h>
#include <string.h>

#include "learn.h"
#include "score.h"
#include "store.h"

#include "../../bench/triage_data.c"
#include "../../bench/triage_sim.c"

#define TRIAGE_MAIN HEED_TEST_DATA "/triage/mentions.json"
#define TRIAGE_HOLDOUT HEED_TEST_DATA "/triage/holdout.json"
#define TRIAGE_BLIND HEED_TEST_DATA "/triage/holdout_blind.json"

static void load_set(const char *path, struct triage_set *set)
{
    GError *err = NULL;
    if (!triage_load(path, set, &err))
        fail_msg("%s", err->message);
}

static double rules_accuracy(const struct score_weights *w, const struct triage_set *set)
{
    int *scores = g_new(int, set->n);
    int64_t *keys = g_new(int64_t, set->n);
    triage_score_all(w, set, scores);
    triage_int_keys(scores, set->n, keys);
    double a = triage_pairwise_accuracy(set, keys);
    g_free(scores);
    g_free(keys);
    return a;
}

static double learned_accuracy(const struct learn *l, const struct score_weights *w, const struct triage_set *set)
{
    int *scores = g_new(int, set->n);
    int64_t *keys = g_new(int64_t, set->n);
    triage_score_learned(l, w, set, scores);
    triage_int_keys(scores, set->n, keys);
    double a = triage_pairwise_accuracy(set, keys);
    g_free(scores);
    g_free(keys);
    return a;
}

static struct learn *trained(const struct score_weights *w, const struct triage_set *set, enum triage_user user,
                             uint64_t seed, size_t events)
{
    struct learn *l = learn_new(NULL);
    struct triage_stream st;
    triage_stream_init(&st, set, user, seed);
    triage_stream_run(&st, l, w, events);
    triage_stream_clear(&st);
    return l;
}

static int reasons_sum(json_t *reasons)
{
    int sum = 0;
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r)
        sum += (int)json_integer_value(json_object_get(r, "points"));
    return sum;
}

/* ---- safe by construction ------------------------------------------------ */

/* A person with no history gets exactly today's rules: same score, same
 * reasons, for every labelled mention. */
static void check_empty_is_rules(const char *path)
{
    struct triage_set set;
    load_set(path, &set);
    struct score_weights w;
    score_weights_default(&w);
    struct learn *l = learn_new(NULL);
    for (size_t i = 0; i < set.n; i++) {
        const struct score_input *in = &set.items[i].in;
        json_t *extra = json_array();
        assert_int_equal(learn_adjust(l, &w, in, extra), 0);
        assert_int_equal(json_array_size(extra), 0);
        json_decref(extra);
        json_t *rules = NULL, *learned = NULL;
        int a = score_compute(&w, in, &rules), b = learn_score(l, &w, in, &learned);
        assert_int_equal(a, b);
        assert_true(json_equal(rules, learned));
        json_decref(rules);
        json_decref(learned);
    }
    assert_int_equal(learn_size(l), 0);
    learn_free(l);
    triage_free(&set);
}

static void test_empty_model_is_rules(void **state)
{
    (void)state;
    check_empty_is_rules(TRIAGE_MAIN);
    check_empty_is_rules(TRIAGE_HOLDOUT);
    check_empty_is_rules(TRIAGE_BLIND);
}

/* Users whose actions say nothing about urgency, or the opposite of it:
 * at no point do they cost more than 0.03 of pairwise accuracy. */
static void test_noisy_users_cost_little(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    double rules = rules_accuracy(&w, &set);
    const enum triage_user users[] = { TRIAGE_USER_RANDOM, TRIAGE_USER_NOTHING, TRIAGE_USER_EVERYTHING,
                                       TRIAGE_USER_INVERTED };
    const size_t checkpoints[] = { 50, 200, 1000 };
    for (size_t u = 0; u < G_N_ELEMENTS(users); u++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            struct learn *l = learn_new(NULL);
            struct triage_stream st;
            triage_stream_init(&st, &set, users[u], seed * 7919);
            for (size_t c = 0; c < G_N_ELEMENTS(checkpoints); c++) {
                triage_stream_run(&st, l, &w, checkpoints[c]);
                double a = learned_accuracy(l, &w, &set);
                if (a < rules - 0.03)
                    fail_msg("user %d seed %d after %zu actions: %.3f, rules %.3f", (int)users[u], (int)seed,
                             checkpoints[c], a, rules);
            }
            triage_stream_clear(&st);
            learn_free(l);
        }
    }
    triage_free(&set);
}

/* A user who acts as the labels say teaches the model something that
 * holds on the mentions it learned from and on the held-out ones. */
static void test_learning_helps(void **state)
{
    (void)state;
    struct triage_set train, holdout;
    load_set(TRIAGE_MAIN, &train);
    load_set(TRIAGE_HOLDOUT, &holdout);
    struct score_weights w;
    score_weights_default(&w);
    double train_rules = rules_accuracy(&w, &train), holdout_rules = rules_accuracy(&w, &holdout);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct learn *l = trained(&w, &train, TRIAGE_USER_LABELS, seed, 1000);
        double a = learned_accuracy(l, &w, &train), h = learned_accuracy(l, &w, &holdout);
        print_message("seed %d: mentions.json %.3f (rules %.3f), holdout.json %.3f (rules %.3f)\n", (int)seed, a,
                      train_rules, h, holdout_rules);
        assert_true(a >= train_rules + 0.05);
        assert_true(h > holdout_rules);
        learn_free(l);
    }
    triage_free(&train);
    triage_free(&holdout);
}

/* Whatever was learned: at most LEARN_CAP points, reasons that sum to the
 * score, "learned:" in front of each, VIPs above the floor. */
static void check_bounds(const struct learn *l, const struct score_weights *w, const struct triage_set *set)
{
    int floor = (w->threshold_normal + w->threshold_critical + 1) / 2;
    for (size_t i = 0; i < set->n; i++) {
        const struct score_input *in = &set->items[i].in;
        json_t *extra = json_array();
        int adj = learn_adjust(l, w, in, extra);
        assert_true(adj >= -LEARN_CAP && adj <= LEARN_CAP);
        assert_int_equal(reasons_sum(extra), adj);
        size_t k;
        json_t *r;
        json_array_foreach(extra, k, r)
            assert_true(g_str_has_prefix(json_string_value(json_object_get(r, "reason")), "learned: "));
        json_decref(extra);
        json_t *reasons = NULL;
        int s = learn_score(l, w, in, &reasons);
        int sum = reasons_sum(reasons);
        assert_int_equal(s, sum < 0 ? 0 : sum > 100 ? 100 : sum);
        if (in->vip && !in->muted)
            assert_true(s >= floor);
        json_decref(reasons);
    }
}

static void test_cap_sum_and_vip_floor(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    const enum triage_user users[] = { TRIAGE_USER_LABELS, TRIAGE_USER_INVERTED, TRIAGE_USER_RANDOM };
    bool moved = false;
    for (size_t u = 0; u < G_N_ELEMENTS(users); u++) {
        struct learn *l = trained(&w, &set, users[u], 42, 1500);
        check_bounds(l, &w, &set);
        for (size_t i = 0; users[u] == TRIAGE_USER_LABELS && i < set.n; i++) {
            json_t *extra = json_array();
            moved = moved || learn_adjust(l, &w, &set.items[i].in, extra) != 0;
            json_decref(extra);
        }
        learn_free(l);
    }
    assert_true(moved); /* the bounds were checked on something */
    triage_free(&set);
}

/* Every labelled mention's learned reasons, as one JSON array. */
static json_t *all_adjustments(const struct learn *l, const struct score_weights *w, const struct triage_set *set)
{
    json_t *all = json_array();
    for (size_t i = 0; i < set->n; i++) {
        json_t *extra = json_array();
        learn_adjust(l, w, &set->items[i].in, extra);
        json_array_append_new(all, extra);
    }
    return all;
}

static void test_off_and_muted(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w, off;
    score_weights_default(&w);
    off = w;
    off.learn = false;
    struct learn *l = trained(&w, &set, TRIAGE_USER_LABELS, 5, 600);
    json_t *before = all_adjustments(l, &w, &set);
    for (size_t i = 0; i < set.n; i++) {
        const struct score_input *in = &set.items[i].in;
        json_t *a = NULL, *b = NULL;
        assert_int_equal(learn_score(l, &off, in, &a), score_compute(&off, in, &b));
        assert_true(json_equal(a, b));
        json_decref(a);
        json_decref(b);
        learn_observe(l, &off, in, LEARN_REPLIED, in->m->created_at + 60);
        struct score_input muted = *in;
        muted.muted = true;
        json_t *extra = json_array();
        assert_int_equal(learn_adjust(l, &w, &muted, extra), 0);
        json_decref(extra);
        learn_observe(l, &w, &muted, LEARN_REPLIED, in->m->created_at + 60);
    }
    json_t *after = all_adjustments(l, &w, &set);
    assert_true(json_equal(before, after)); /* learned nothing while off or muted */
    json_decref(before);
    json_decref(after);
    /* ... which would have shown: the same actions with learning on. */
    for (size_t i = 0; i < set.n; i++)
        learn_observe(l, &w, &set.items[i].in, LEARN_REPLIED, set.items[i].m->created_at + 60);
    after = all_adjustments(l, &w, &set);
    assert_false(json_equal(before, after));
    json_decref(after);
    learn_free(l);
    triage_free(&set);
}

/* ---- people ----------------------------------------------------------------- */

static struct mention *person_mention(const char *handle, const char *text, int64_t at)
{
    struct mention *m = mention_new();
    m->account = g_strdup("mastodon");
    m->network = g_strdup("mastodon");
    m->author_handle = g_strdup(handle);
    m->author_id = g_strdup(handle);
    m->text = g_strdup(text);
    m->kind = MENTION_KIND_MENTION;
    m->created_at = at;
    m->mention_count = 1;
    return m;
}

static bool has_reason(json_t *reasons, const char *text, int *points)
{
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r) {
        if (strstr(json_string_value(json_object_get(r, "reason")), text)) {
            *points = (int)json_integer_value(json_object_get(r, "points"));
            return true;
        }
    }
    return false;
}

/* Someone the user answers within minutes, every time, is learned by name. */
static void test_person_answered_quickly(void **state)
{
    (void)state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);
    struct learn *l = trained(&w, &set, TRIAGE_USER_LABELS, 9, 300);
    const char *texts[] = { "@kit new photos from the trip are up", "@kit the bakery on 5th reopened",
                            "@kit ok see you there", "@kit 4pm works", "@kit I found the charger",
                            "@kit the train is on time" };
    for (int i = 0; i < 6; i++) {
        struct mention *m = person_mention("@ana@example.social", texts[i], set.now + i * 86400);
        struct score_input in = { .m = m, .replies = i, .prior_mentions = i, .now = m->created_at };
        learn_observe(l, &w, &in, LEARN_REPLIED, m->created_at + 8 * 60);
        mention_free(m);
    }
    struct mention *m = person_mention("@ana@example.social", "@kit the dog ate my sandwich", set.now + 7 * 86400);
    struct score_input in = { .m = m, .replies = 6, .prior_mentions = 6, .now = m->created_at };
    json_t *extra = json_array();
    int adj = learn_adjust(l, &w, &in, extra), points = 0;
    g_autofree char *js = json_dumps(extra, JSON_COMPACT);
    print_message("%s\n", js);
    assert_true(adj > 0);
    assert_true(has_reason(extra, "learned: you usually answer @ana@example.social within an hour", &points));
    assert_true(points > 0);
    json_decref(extra);

    /* Forgetting the person removes that reason and nothing else. */
    learn_forget(l, "mastodon", "@ana@example.social");
    extra = json_array();
    learn_adjust(l, &w, &in, extra);
    assert_false(has_reason(extra, "@ana@example.social", &points));
    json_decref(extra);
    assert_true(learn_size(l) > 0);
    /* Forgetting everything is an empty model again. */
    learn_forget(l, NULL, NULL);
    assert_int_equal(learn_size(l), 0);
    for (size_t i = 0; i < set.n; i++) {
        extra = json_array();
        assert_int_equal(learn_adjust(l, &w, &set.items[i].in, extra), 0);
        json_decref(extra);
    }
    mention_free(m);
    learn_free(l);
    triage_free(&set);
}

static void test_people_bounded(void **state)
{
    (void)state;
    struct score_weights w;
    score_weights_default(&w);
    struct learn_params p;
    learn_params_default(&p);
    p.authors = 10;
    struct learn *l = learn_new(&p);
    for (int i = 0; i < 50; i++) {
        g_autofree char *handle = g_strdup_printf("@p%d@example.social", i);
        struct mention *m = person_mention(handle, "@kit hello there, how are you?", 1000000 + i);
        struct score_input in = { .m = m, .now = m->created_at };
        learn_observe(l, &w, &in, i % 2 ? LEARN_REPLIED : LEARN_IGNORED, m->created_at + 60);
        mention_free(m);
    }
    assert_int_equal(learn_people(l), 10);
    learn_free(l);
}

/* ---- persistence, with a real SQLite file -------------------------------- */

struct fx {
    char *tmp, *path;
};

static int setup(void **state)
{
    struct fx *f = g_new0(struct fx, 1);
    f->tmp = g_dir_make_tmp("heed-test-learn-XXXXXX", NULL);
    if (!f->tmp) {
        g_free(f);
        return -1;
    }
    f->path = g_build_filename(f->tmp, "heed.db", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *p = g_strconcat(f->path, suffixes[i], NULL);
        g_unlink(p);
    }
    g_rmdir(f->tmp);
    g_free(f->tmp);
    g_free(f->path);
    g_free(f);
    return 0;
}

static struct store *open_store(const char *path)
{
    GError *err = NULL;
    struct store *st = store_open(path, &err);
    if (!st)
        fail_msg("%s", err->message);
    return st;
}

static struct learn *load(struct store *st)
{
    GError *err = NULL;
    struct learn *l = learn_load(st, NULL, &err);
    if (!l)
        fail_msg("%s", err->message);
    return l;
}

static void save(struct learn *l, struct store *st)
{
    GError *err = NULL;
    if (!learn_save(l, st, &err))
        fail_msg("%s", err->message);
}

/* Two models give the same learned reasons for every labelled mention. */
static void assert_same(const struct learn *a, const struct learn *b, const struct score_weights *w,
                        const struct triage_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        json_t *x = json_array(), *y = json_array();
        assert_int_equal(learn_adjust(a, w, &set->items[i].in, x), learn_adjust(b, w, &set->items[i].in, y));
        assert_true(json_equal(x, y));
        json_decref(x);
        json_decref(y);
    }
}

static void test_save_and_load(void **state)
{
    struct fx *f = *state;
    struct triage_set set;
    load_set(TRIAGE_MAIN, &set);
    struct score_weights w;
    score_weights_default(&w);

    struct store *st = open_store(f->path);
    struct learn *l = load(st);
    assert_int_equal(learn_size(l), 0); /* a new database is an empty model */
    struct triage_stream s;
    triage_stream_init(&s, &set, TRIAGE_USER_LABELS, 77);
    triage_stream_run(&s, l, &w, 400);
    save(l, st);
    store_close(st);

    st = open_store(f->path);
    struct learn *back = load(st);
    assert_int_equal(learn_size(back), learn_size(l));
    assert_int_equal(learn_people(back), learn_people(l));
    assert_same(l, back, &w, &set);

    /* Saves are incremental: more actions, one more save, same model. */
    triage_stream_run(&s, l, &w, 700);
    save(l, st);
    learn_free(back);
    store_close(st);
    st = open_store(f->path);
    back = load(st);
    assert_same(l, back, &w, &set);

    /* Forgetting is saved too. */
    GError *err = NULL;
    assert_true(learn_forget_saved(back, st, NULL, NULL, &err));
    learn_free(back);
    store_close(st);
    st = open_store(f->path);
    back = load(st);
    assert_int_equal(learn_size(back), 0);

    triage_stream_clear(&s);
    learn_free(back);
    learn_free(l);
    store_close(st);
    triage_free(&set);
}

static int64_t add_mention(struct store *st, const char *remote_id, int64_t created, int64_t notified)
{
    struct mention *m = person_mention("@ana@example.social", "@kit are you coming tonight?", created);
    m->remote_id = g_strdup(remote_id);
    m->url = g_strdup("https://example.social/@ana/1");
    bool inserted = false;
    GError *err = NULL;
    assert_true(store_add_mention(st, m, false, &inserted, &err));
    assert_true(inserted);
    if (notified)
        assert_true(store_mark_notified(st, m->id, notified, &err));
    int64_t id = m->id;
    mention_free(m);
    return id;
}

static void count_actions(const struct store_learn_row *row, void *data)
{
    if (strcmp(row->key, "bias") == 0)
        *(int *)data = row->events; /* the bias learns from every action */
}

static int saved_actions(struct store *st)
{
    int n = 0;
    GError *err = NULL;
    if (!store_learn_read(st, count_actions, &n, &err))
        fail_msg("%s", err->message);
    return n;
}

/* Each action on a mention is learned from once; a mention shown and then
 * left alone for days is offered as ignored, once. */
static void test_record_once_and_ignored(void **state)
{
    struct fx *f = *state;
    struct score_weights w;
    score_weights_default(&w);
    struct store *st = open_store(f->path);
    struct learn *l = load(st);
    const int64_t t0 = 1718000000;
    int64_t id = add_mention(st, "1", t0, t0 + 60);
    int64_t other = add_mention(st, "2", t0, t0 + 60);
    add_mention(st, "3", t0, 0); /* never shown: never "ignored" */
    GError *err = NULL;
    struct mention *m = store_get(st, id, &err);
    struct score_input in = { .m = m, .now = t0 };

    assert_true(learn_record(l, st, &w, &in, LEARN_OPENED, t0 + 120, &err));
    size_t size = learn_size(l);
    assert_true(size > 0);
    g_autoptr(GPtrArray) before = store_learn_ignored(st, t0 + LEARN_IGNORED_AFTER + 120, 10, &err);
    assert_int_equal(before->len, 1); /* only the untouched shown one */
    assert_int_equal(((struct mention *)g_ptr_array_index(before, 0))->id, other);

    /* The same action again is not learned from (the saved count of
     * actions stays); a different one is. */
    assert_int_equal(saved_actions(st), 1);
    assert_true(learn_record(l, st, &w, &in, LEARN_OPENED, t0 + 180, &err));
    assert_int_equal(saved_actions(st), 1);
    assert_true(learn_record(l, st, &w, &in, LEARN_SNOOZED, t0 + 240, &err));
    assert_int_equal(saved_actions(st), 2);

    struct mention *o = store_get(st, other, &err);
    struct score_input oin = { .m = o, .now = t0 };
    assert_true(learn_record(l, st, &w, &oin, LEARN_IGNORED, t0 + LEARN_IGNORED_AFTER + 120, &err));
    assert_int_equal(saved_actions(st), 3);
    g_autoptr(GPtrArray) after = store_learn_ignored(st, t0 + 10 * 86400, 10, &err);
    assert_int_equal(after->len, 0);

    /* Off: nothing is recorded. */
    struct score_weights off = w;
    off.learn = false;
    assert_true(learn_record(l, st, &off, &in, LEARN_REPLIED, t0 + 600, &err));
    bool first = false;
    assert_true(store_learn_mark(st, id, 1u << LEARN_REPLIED, &first, &err));
    assert_true(first); /* the disabled record did not mark it */

    mention_free(m);
    mention_free(o);
    learn_free(l);
    store_close(st);
}

/* A version 1 database (before the learned model) migrates and keeps its
 * mentions; the v1 schema below is frozen history, copied from store.c. */
static void test_migration_from_v1(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    const char *v1 =
        "CREATE TABLE account(name TEXT PRIMARY KEY, network TEXT NOT NULL, state TEXT, updated_at INTEGER);"
        "CREATE TABLE mention(id INTEGER PRIMARY KEY, account TEXT NOT NULL, network TEXT NOT NULL,"
        "  remote_id TEXT NOT NULL, post_id TEXT, kind TEXT NOT NULL, author_id TEXT, author_handle TEXT,"
        "  author_name TEXT, text TEXT, url TEXT, thread_id TEXT, context TEXT, created_at INTEGER NOT NULL,"
        "  fetched_at INTEGER NOT NULL, mention_count INTEGER NOT NULL DEFAULT 1,"
        "  author_bot INTEGER NOT NULL DEFAULT -1, follows_me INTEGER NOT NULL DEFAULT -1,"
        "  i_follow INTEGER NOT NULL DEFAULT -1, state TEXT NOT NULL DEFAULT 'waiting',"
        "  snooze_until INTEGER NOT NULL DEFAULT 0, handled_at INTEGER NOT NULL DEFAULT 0,"
        "  initial INTEGER NOT NULL DEFAULT 0, notified_at INTEGER NOT NULL DEFAULT 0,"
        "  nudges INTEGER NOT NULL DEFAULT 0, last_nudge_at INTEGER NOT NULL DEFAULT 0,"
        "  score INTEGER NOT NULL DEFAULT 0, reasons TEXT, UNIQUE(account, remote_id));"
        "CREATE TABLE reply(account TEXT NOT NULL, author_id TEXT NOT NULL, remote_id TEXT NOT NULL,"
        "  at INTEGER NOT NULL, PRIMARY KEY(account, remote_id));"
        "INSERT INTO mention(account, network, remote_id, kind, author_id, text, created_at, fetched_at, score,"
        "  notified_at) VALUES('home', 'mastodon', '99', 'mention', 'ana', 'hi', 1718000000, 1718000000, 40,"
        "  1718000100);"
        "PRAGMA user_version = 1;";
    assert_int_equal(sqlite3_exec(db, v1, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    struct store *st = open_store(f->path);
    GError *err = NULL;
    g_autoptr(GPtrArray) all = store_list(st, STORE_ALL, 0, 0, &err);
    assert_non_null(all);
    assert_int_equal(all->len, 1);
    g_autoptr(GPtrArray) ignored = store_learn_ignored(st, 1718000100 + LEARN_IGNORED_AFTER + 1, 10, &err);
    assert_int_equal(ignored->len, 1); /* the new column starts at "nothing learned" */
    struct learn *l = load(st);
    assert_int_equal(learn_size(l), 0);
    learn_free(l);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_model_is_rules),
        cmocka_unit_test(test_noisy_users_cost_little),
        cmocka_unit_test(test_learning_helps),
        cmocka_unit_test(test_cap_sum_and_vip_floor),
        cmocka_unit_test(test_off_and_muted),
        cmocka_unit_test(test_person_answered_quickly),
        cmocka_unit_test(test_people_bounded),
        cmocka_unit_test_setup_teardown(test_save_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_once_and_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
