/* SPDX-License-Identifier: MIT */
/* score-shape: what a mention is, read from the shape of its sentences and
 * tokens rather than from single words, for score-text.c only.
 *
 * Five readings, each a small function in score-shape.c:
 *  - problem: something does not work, said as a statement: a subject and a
 *    failure predicate ("the installer fails", "it no longer builds"), a
 *    negated working verb ("doesn't start", "can't compile"), an
 *    error-shaped token (a 4xx/5xx status in context, FooError, "panic:",
 *    file.c:123, "exit code 2"), a version with "since"/"after upgrading"
 *    next to something gone wrong.
 *  - secret: a credential in the open, by shape: a well-known key prefix,
 *    a long mixed-class high-entropy token, user:password@ in a URL, a
 *    secret-looking key=value, a file that holds secrets, or a credential
 *    noun in a sentence that says it is visible.
 *  - life: personal news in the first person (my/we + an event: illness,
 *    loss, birth, wedding, a lost job). Whether it counts depends on who
 *    wrote it: score.c scores it only for people the user knows.
 *  - pitch: commercial intent (recruiting, sales, sponsorship, growth
 *    offers); score.c applies it only to authors with no history.
 *  - hostile: contempt or bad faith ("did you even", insults, "?!",
 *    shouting), which takes away the credit for a question.
 * Pure and bounded: no allocation per call (the word table is built once),
 * at most SCORE_SHAPE_MAX_WORDS words are read. False positives cost a few
 * points, never a hidden mention; each reading has unit tests with
 * sentences that must not trigger it (tests/unit/test_score_shape.c).
 */
#ifndef HEED_SCORE_SHAPE_H
#define HEED_SCORE_SHAPE_H

#include <stdbool.h>

#define SCORE_SHAPE_MAX_WORDS 160

struct score_shape {
    bool problem, secret, life, pitch, hostile;
};

/* Read the original text (any case; NULL reads as empty) and its cleaned
 * lower-case form from score-text.c (handles as "@", links as "url"). */
void score_shape_read(const char *text, const char *clean, struct score_shape *out);

#endif
