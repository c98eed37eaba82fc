/* SPDX-License-Identifier: MIT */
/* score-text: what the words of a mention say, for score.c only.
 *
 * score_read() reads a text once: sentences, questions and whom they ask,
 * requests, thanks, alarms, deadlines, in a few languages, from plain word
 * lists (a reader can see why a mention scored as it did), and the
 * shape-based readings of score-shape.h. score.c turns
 * what it finds into points; learn.c reads the same signals through
 * score_signals() (score.h).
 */
#ifndef HEED_SCORE_TEXT_H
#define HEED_SCORE_TEXT_H

#include <stdbool.h>

struct score_text {
    bool any_question;   /* some sentence is a question */
    bool addressed;      /* a sincere question with "you" in it */
    bool interrogative;  /* a sincere question without "you": to whoever is named */
    bool request;        /* asks for something ("can you", "please", "lmk", "PTAL") */
    bool vocative;       /* an ask opens with a name ("Maria, could you ...") */
    bool rhetorical, crowd, joking, to_other;
    bool thanks_only, resolved, tiny;
    bool alarm, deadline, no_rush;
    /* Read from the shape of the text (score-shape.h): a problem report,
     * an exposed credential, first-person personal news, a pitch, hostility. */
    bool problem, secret, life, pitch, hostile;
};

/* Read text (may be NULL) into *t. */
void score_read(const char *text, struct score_text *t);
/* Does a short text (a GitHub title) report something broken or unsafe? */
bool score_mentions_alarm(const char *text);
/* Lower case, fast for ASCII (g_free). */
char *score_lower(const char *s);

#endif
