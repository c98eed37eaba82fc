/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/score-shape.c and lib/score-token.c: the readings of
 * issue #18 (a problem report phrased as a statement, a credential in the
 * open, personal news, a pitch, hostility), through score_signals() and
 * score_compute() as the rest of heed sees them.
 *
 * None of the sentences here is in tests/data/triage/: the rules are
 * general, not tuned to the labelled mentions. Each reading has sentences
 * that must trigger it and sentences that must not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "mention.h"
#include "score.h"
#include "score-token.h"

static unsigned signals_of(const char *text)
{
    struct mention *m = mention_new();
    m->text = g_strdup(text);
    unsigned s = score_signals(m);
    mention_free(m);
    return s;
}

struct author {
    int replies;     /* the user's replies to them */
    bool mutual;     /* follow each other */
    int prior;       /* their earlier mentions */
};

/* Score of a mention of text from such an author; *reason is set when the
 * reasons contain `want` (may be NULL). */
static int score_from(const char *text, struct author a, const char *want, bool *reason)
{
    struct mention *m = mention_new();
    m->text = g_strdup(text);
    m->kind = MENTION_KIND_MENTION;
    m->mention_count = 1;
    m->created_at = 1718200000;
    m->follows_me = m->i_follow = a.mutual ? MENTION_YES : MENTION_NO;
    struct score_input in = { .m = m, .replies = a.replies, .last_reply = a.replies ? m->created_at - 86400 : 0,
                              .prior_mentions = a.prior, .now = m->created_at };
    struct score_weights w;
    score_weights_default(&w);
    json_t *reasons = NULL;
    int s = score_compute(&w, &in, &reasons);
    if (reason) {
        *reason = false;
        size_t i;
        json_t *r;
        json_array_foreach(reasons, i, r)
            *reason = *reason || strstr(json_string_value(json_object_get(r, "reason")), want) != NULL;
    }
    json_decref(reasons);
    mention_free(m);
    return s;
}

static void check_signal(const char *const *texts, unsigned bit, bool want)
{
    for (const char *const *t = texts; *t; t++) {
        bool got = (signals_of(*t) & bit) != 0;
        if (got != want)
            fail_msg("\"%s\": expected %s", *t, want ? "the signal" : "no signal");
    }
}

static void test_shape_problem(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "the nightly tarball fails to unpack on alpine",
        "Since upgrading to 2.3 the parser returns an empty list",
        "the daemon won't start after the reboot",
        "got a KeyError in the config loader",
        "the gateway is throwing 503s again",
        "panic: runtime error: index out of range",
        "it stopped at src/loop.c:412 with nothing in the log",
        "der Build funktioniert nicht mehr unter Windows",
        "l'installeur ne marche pas sur macOS",
        "the mirror no longer syncs since Friday",
        "la instalación no funciona en Debian",
        NULL,
    };
    static const char *const no[] = {
        "I failed my driving test lol",
        "we have a 500 person team and love the library",
        "I don't think that will work for us, but thanks",
        "tagged 2.1 from commit 9be31d0f this morning",
        "loved your talk on error handling",
        "it's the build, not the tests, that takes long",
        "happy to help if CI fails again",
        "the new scheduler no longer needs a lock",
        "the 404 page has a cute cat now",
        NULL,
    };
    check_signal(yes, SCORE_SIGNAL_PROBLEM, true);
    check_signal(no, SCORE_SIGNAL_PROBLEM, false);
    /* A statement earns what a question would not have needed. */
    bool reason;
    int s = score_from("the docs search returns nothing since the redesign", (struct author){ 0 }, "problem", &reason);
    assert_true(reason);
    assert_true(s > score_from("the docs search looks different since the redesign", (struct author){ 0 }, NULL, NULL));
}

static void test_shape_secret(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "your stream showed the .pypirc for a second",
        "the gist has AKIAIOSFODNN7EXAMPLE on line 3",
        "postgres://admin:hunter22@db.internal:5432/app is in the README",
        "your config dump has DB_PASSWORD=Tr0ub4dor in it",
        "the CI output prints the deploy token in plain text",
        "the link you posted ends with aZ3kQ9pL2mX8vR4tY7wB1nC6",
        "-----BEGIN OPENSSH PRIVATE KEY----- is right there in the slides",
        "deploy/prod.yml in the public mirror carries the registry password",
        NULL,
    };
    static const char *const no[] = {
        "fixed in commit 3f9a2c1b7d4e8f0a9b6c5d4e3f2a1b0c9d8e7f6a",
        "how do I rotate my API token?",
        "the login page shows a spinner forever",
        "added .env to .gitignore, thanks for the tip",
        "renamed handleIncomingRequestCallback in the last release",
        "here is my -----BEGIN PUBLIC KEY----- for the signed tags",
        "set TOKEN=${GITHUB_TOKEN} in the workflow",
        "is there a way to hide the token from the logs?",
        "the docs show how to set the password for the admin user",
        "the admin account has a password and 2FA",
        NULL,
    };
    check_signal(yes, SCORE_SIGNAL_SECRET, true);
    check_signal(no, SCORE_SIGNAL_SECRET, false);
    /* Alarm-class: a stranger's note about it outranks a friend's question. */
    int leak = score_from("your screenshot shows the whole .npmrc", (struct author){ 0 }, NULL, NULL);
    int ask = score_from("could you look at my PR?", (struct author){ .replies = 3, .mutual = true, .prior = 5 },
                         NULL, NULL);
    assert_true(leak >= ask);
}

static void test_shape_life(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "my grandmother passed away on Tuesday",
        "we're expecting, she's pregnant with twins",
        "I'm in the hospital with a broken leg, back next week",
        "Mi padre murió anoche.",
        "just got diagnosed, taking some time off",
        NULL,
    };
    static const char *const no[] = {
        "my dog ate my homework lol",
        "the surgery robot demo used tideline",
        "my build died again",
        "the father of epoll would hate this",
        NULL,
    };
    check_signal(yes, SCORE_SIGNAL_LIFE, true);
    check_signal(no, SCORE_SIGNAL_LIFE, false);
    /* Scored only from people the user knows. */
    const char *news = "my mum is in hospital since Sunday, slow replies this week";
    bool reason;
    int known = score_from(news, (struct author){ .replies = 4, .mutual = true, .prior = 9 }, "personal", &reason);
    assert_true(reason);
    int stranger = score_from(news, (struct author){ 0 }, "personal", &reason);
    assert_false(reason);
    assert_true(known > stranger);
    score_from("my dog ate my homework lol", (struct author){ 0 }, "personal", &reason);
    assert_false(reason);
}

static void test_shape_pitch(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "We're hiring a Rust engineer, fully remote, want to chat?",
        "Book a slot at calendly.com/acme-sales and we will walk you through it",
        "Would you promote our course to your audience? We pay per post.",
        "Saw your profile, we have an open position for a C developer",
        "DM me for sponsorship rates",
        NULL,
    };
    static const char *const no[] = {
        "the position of the scrollbar is wrong after resize, is that known?",
        "what role does epoll play in the Linux backend?",
        "can you sponsor the meetup room again this year?",
        "quick question about the sponsorship of the devroom",
        NULL,
    };
    check_signal(yes, SCORE_SIGNAL_PITCH, true);
    check_signal(no, SCORE_SIGNAL_PITCH, false);
    /* From a stranger the question earns no question credit... */
    const char *pitch = "We're hiring a Rust engineer, fully remote, can we talk this week?";
    bool reason;
    int cold = score_from(pitch, (struct author){ 0 }, "pitch", &reason);
    assert_true(reason);
    int sincere = score_from("is the Rust binding fully supported, can we rely on it this week?", (struct author){ 0 },
                             NULL, NULL);
    assert_true(cold + 20 < sincere);
    /* ... from someone the user answers it is just a question. */
    score_from(pitch, (struct author){ .replies = 6, .mutual = true, .prior = 12 }, "pitch", &reason);
    assert_false(reason);
    /* A stranger's sincere bug report is not a pitch. */
    score_from("the position of the scrollbar is wrong after resize, is that known?", (struct author){ 0 }, "pitch",
               &reason);
    assert_false(reason);
}

static void test_shape_hostile(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "do you even test this stuff?",
        "seriously? a breaking change in a patch release?",
        "what kind of clown ships this?",
        "WHY IS THIS STILL BROKEN AFTER MONTHS?",
        "how is this acceptable?!",
        "lol ok. enjoy your bugs",
        NULL,
    };
    static const char *const no[] = {
        "seriously impressive work on the scheduler",
        "did you get a chance to read the RFC?",
        "I LOVE this release",
        "is the API stable enough to build on?",
        "does the garbage collector pause the loop?",
        "lol ok that makes sense, thanks",
        "how hard would it be to add kqueue support? I could try",
        NULL,
    };
    check_signal(yes, SCORE_SIGNAL_HOSTILE, true);
    check_signal(no, SCORE_SIGNAL_HOSTILE, false);
    /* A sneer phrased as a question scores below the sincere question. */
    bool reason;
    int sneer = score_from("do you even test the release builds?", (struct author){ 0 }, "hostile", &reason);
    assert_true(reason);
    int sincere = score_from("do you test the release builds?", (struct author){ 0 }, "hostile", &reason);
    assert_false(reason);
    assert_true(sneer + 15 < sincere);
}

static void test_token_entropy(void **state)
{
    (void)state;
    assert_true(fabs(score_token_entropy("aaaa", 4)) < 1e-9);
    assert_true(fabs(score_token_entropy("abcd", 4) - 2.0) < 1e-9);
    struct score_tokens t;
    /* A commit hash is long and random but hex: not a secret. */
    score_tokens_read("see 3f9a2c1b7d4e8f0a9b6c5d4e3f2a1b0c9d8e7f6a", &t);
    assert_false(t.secret);
    score_tokens_read("ghp_R4nd0mL00k1ngT0k3nV4lu3xyz", &t);
    assert_true(t.secret);
    score_tokens_read("we use sk-learn-contrib-imbalanced here", &t);
    assert_false(t.secret);
    score_tokens_read("https://bob:s3cretpw@example.org/x", &t);
    assert_true(t.secret);
    score_tokens_read("https://bob@example.org/x", &t);
    assert_false(t.secret);
    score_tokens_read("https://github.com/o/r/pulls?author=kitandersen&sort=updated", &t);
    assert_false(t.secret);
    score_tokens_read("https://api.example.com/v1?key=Zq8Lm2Xp9Rt4", &t);
    assert_true(t.secret);
    score_tokens_read("raised ValueError at src/loop.c:88", &t);
    assert_true(t.error);
    score_tokens_read("no terror here", &t);
    assert_false(t.error);
    score_tokens_read("why?! WHY", &t);
    assert_true(t.angry_punct);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_entropy),
        cmocka_unit_test(test_shape_problem),
        cmocka_unit_test(test_shape_secret),
        cmocka_unit_test(test_shape_life),
        cmocka_unit_test(test_shape_pitch),
        cmocka_unit_test(test_shape_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
